//! Why a signed governance action is refused. A refused action changes nothing.

use junction_spec::{ChainId, MemberStatus, OrgId, ParamsError, RouteId};
use thiserror::Error;

/// Why a genesis, proposal, vote or emergency action is refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum GovError {
    /// The signer's key belongs to no member.
    #[error("the signer is not a council member's account key")]
    NotAMember,
    /// The member is suspended or exited.
    #[error("the member is {status}, not active")]
    MemberNotActive {
        /// Its status.
        status: MemberStatus,
    },
    /// Observers cannot submit proposals.
    #[error("observers cannot submit proposals")]
    ObserverCannotPropose,
    /// Observers cannot vote.
    #[error("observers cannot vote")]
    ObserverCannotVote,
    /// Observers cannot sign emergency actions.
    #[error("observers cannot sign an emergency pause or freeze")]
    ObserverCannotSignEmergency,
    /// The deposit is below `min_deposit`.
    #[error("deposit {got} is below the minimum {need}")]
    DepositTooLow {
        /// Deposit offered.
        got: u128,
        /// `min_deposit`.
        need: u128,
    },
    /// `max_active_proposals` proposals are already voting.
    #[error("{max} proposals are already voting; wait for one to close")]
    TooManyActiveProposals {
        /// `max_active_proposals`.
        max: u32,
    },
    /// The proposal store is at its cap.
    #[error("the proposal store is full")]
    ProposalStoreFull,
    /// The proposal breaks a parameter rule.
    #[error("invalid proposal: {0}")]
    InvalidProposal(ParamsError),
    /// No proposal has that id.
    #[error("no proposal with id {0}")]
    UnknownProposal(u64),
    /// The proposal is not open for votes (its period ended or it was tallied).
    #[error("voting on proposal {id} is closed")]
    VotingClosed {
        /// The proposal.
        id: u64,
    },
    /// The member was not an eligible voter when the proposal was made.
    #[error("the member is not in the proposal's voter snapshot")]
    NotEligible,
    /// The member already voted on this proposal.
    #[error("the member already voted on this proposal")]
    DuplicateVote,
    /// No route has that id.
    #[error("unknown route")]
    UnknownRoute,
    /// No registered chain has that id.
    #[error("unknown chain")]
    UnknownChain,
    /// A remote chain's `via` is not a registered Junction hub.
    #[error(
        "a remote chain is reached through a registered junction_hub chain, and this one is not"
    )]
    NotAHub,
    /// Only a chain the hub delivers to through a gateway (EVM) has a gateway to retire.
    #[error("the chain has no gateway to retire (only EVM chains have one)")]
    NoGateway,
    /// The chain's gateway is already retired (for good): it cannot retire again or take
    /// another's place.
    #[error("the chain's gateway is retired")]
    GatewayRetired,
    /// The id is already a chain on this hub, registered or remote.
    #[error("the chain id is already in use on this hub (registered or remote)")]
    ChainExists,
    /// The proposal names this hub's own chain id as a chain it follows or reaches.
    #[error("the proposal names this hub's own chain id as another chain")]
    OwnChainId,
    /// The signer is no validator's consensus key.
    #[error("the signer is not a validator's consensus key")]
    NotAValidator,
    /// A validator change that would move a third of the power or more.
    #[error("the change moves {power} of {total} power: each change must move less than 1/3")]
    ValidatorChangeTooLarge {
        /// Power moved.
        power: u64,
        /// Total power before.
        total: u64,
    },
    /// A new account key that is not a valid ed25519 public key: nothing could sign for it.
    #[error("the new account key is not a valid ed25519 public key")]
    InvalidAccountKey,
    /// The new account key is already some member's, relayer's or admitted account's.
    #[error("the new key is already an account the council knows")]
    KeyInUse,
    /// A validator's consensus key is not a valid ed25519 public key: consensus could
    /// never count its votes, and the hub would halt on a set it cannot build.
    #[error("the validator key is not a valid ed25519 public key")]
    InvalidValidatorKey,
    /// A route to or from a remote chain must be unordered.
    #[error("a route to or from a chain under another hub must be unordered")]
    RemoteRouteOrdered,
    /// The route is closed; it cannot be paused.
    #[error("the route is closed")]
    RouteClosed,
    /// The route is already paused.
    #[error("the route is already paused")]
    AlreadyPaused,
    /// The client is already frozen.
    #[error("the client is already frozen")]
    AlreadyFrozen,
    /// The member already signed this pending emergency action.
    #[error("the member already signed this emergency action")]
    DuplicateEmergencySignature,
    /// A genesis entry breaks a parameter rule.
    #[error("invalid genesis: {0}")]
    InvalidGenesis(ParamsError),
    /// A genesis list names the same entry twice.
    #[error("genesis lists the same {what} twice")]
    DuplicateGenesisEntry {
        /// Which list.
        what: &'static str,
    },
    /// A genesis list is longer than its cap.
    #[error("genesis has more than {max} {what}")]
    TooManyGenesisEntries {
        /// Which list.
        what: &'static str,
        /// The cap.
        max: usize,
    },
    /// A genesis route names a chain that genesis does not register.
    #[error("a genesis route names a chain that genesis does not register")]
    GenesisRouteChainUnknown,
    /// A route would give a sequence space a second ordering (`route` is the route with
    /// the other ordering over one of its source apps).
    #[error("route {route} already orders this sequence space the other way")]
    OrderingConflict {
        /// The conflicting route.
        route: junction_spec::RouteId,
    },
    /// The hub cannot start a light client from the registration.
    #[error("the light client cannot be started: {0}")]
    ClientRefused(String),
    /// The resulting state breaks an invariant.
    #[error("invariant violated: {0}")]
    Invariant(InvariantViolation),
}

impl GovError {
    /// Stable snake_case name of the broken rule (for RPC codes and metrics).
    pub fn name(&self) -> &'static str {
        match self {
            GovError::NotAMember => "not_a_member",
            GovError::MemberNotActive { .. } => "member_not_active",
            GovError::ObserverCannotPropose => "observer_cannot_propose",
            GovError::ObserverCannotVote => "observer_cannot_vote",
            GovError::ObserverCannotSignEmergency => "observer_cannot_sign_emergency",
            GovError::DepositTooLow { .. } => "deposit_too_low",
            GovError::TooManyActiveProposals { .. } => "too_many_active_proposals",
            GovError::ProposalStoreFull => "proposal_store_full",
            GovError::InvalidProposal(_) => "invalid_proposal",
            GovError::UnknownProposal(_) => "unknown_proposal",
            GovError::VotingClosed { .. } => "voting_closed",
            GovError::NotEligible => "not_eligible",
            GovError::DuplicateVote => "duplicate_vote",
            GovError::UnknownRoute => "unknown_route",
            GovError::UnknownChain => "unknown_chain",
            GovError::NotAHub => "not_a_hub",
            GovError::NoGateway => "no_gateway",
            GovError::GatewayRetired => "gateway_retired",
            GovError::ChainExists => "chain_exists",
            GovError::OwnChainId => "own_chain_id",
            GovError::InvalidValidatorKey => "invalid_validator_key",
            GovError::KeyInUse => "key_in_use",
            GovError::NotAValidator => "not_a_validator",
            GovError::ValidatorChangeTooLarge { .. } => "validator_change_too_large",
            GovError::InvalidAccountKey => "invalid_account_key",
            GovError::RemoteRouteOrdered => "remote_route_ordered",
            GovError::RouteClosed => "route_closed",
            GovError::AlreadyPaused => "already_paused",
            GovError::AlreadyFrozen => "already_frozen",
            GovError::DuplicateEmergencySignature => "duplicate_emergency_signature",
            GovError::InvalidGenesis(_) => "invalid_genesis",
            GovError::DuplicateGenesisEntry { .. } => "duplicate_genesis_entry",
            GovError::TooManyGenesisEntries { .. } => "too_many_genesis_entries",
            GovError::GenesisRouteChainUnknown => "genesis_route_chain_unknown",
            GovError::OrderingConflict { .. } => "ordering_conflict",
            GovError::ClientRefused(_) => "client_refused",
            GovError::Invariant(_) => "invariant_violation",
        }
    }
}

/// A broken invariant of the council state.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum InvariantViolation {
    /// A remote chain shares an id with a registered chain, or is not reached through a
    /// registered `junction_hub` chain.
    #[error("remote chain {chain} clashes with a registered chain or names no registered hub")]
    RemoteChainInvalid {
        /// The remote chain.
        chain: ChainId,
    },
    /// A retirement names a chain that is not a registered EVM chain, or a successor that
    /// is not registered or is the chain itself.
    #[error("the retirement of chain {chain} names no registered gateway or successor")]
    RetirementInvalid {
        /// The retired chain.
        chain: ChainId,
    },
    /// The governance parameters break their rules (among them `threshold > 1/2`).
    #[error("governance parameters: {0}")]
    Params(ParamsError),
    /// Council and validator-set changes would pass with at most 2/3.
    #[error("council changes would pass with {num}/{den}, which is not at least 2/3")]
    CouncilThresholdTooLow {
        /// Numerator of the effective threshold.
        num: u64,
        /// Denominator of the effective threshold.
        den: u64,
    },
    /// More members than the cap.
    #[error("more than {max} members")]
    TooManyMembers {
        /// The cap.
        max: usize,
    },
    /// The member list is not strictly sorted by org.
    #[error("members are not strictly sorted by org")]
    MembersNotSorted,
    /// A member has zero weight.
    #[error("member {org} has zero weight")]
    ZeroWeight {
        /// The member.
        org: OrgId,
    },
    /// A member breaks a field rule (name, weight cap, keys).
    #[error("member {org}: {error}")]
    MemberInvalid {
        /// The member.
        org: OrgId,
        /// The rule.
        error: ParamsError,
    },
    /// Two members hold the same account key.
    #[error("member {org} shares an account key with another member")]
    DuplicateMemberKey {
        /// One of the members.
        org: OrgId,
    },
    /// No active member can vote.
    #[error("the council has no active voting member")]
    EmptyCouncil,
    /// The validator set is empty.
    #[error("the validator set is empty")]
    EmptyValidatorSet,
    /// More validators than the cap.
    #[error("more than {max} validators")]
    TooManyValidators {
        /// The cap.
        max: usize,
    },
    /// The validator set is not strictly sorted by key.
    #[error("validators are not strictly sorted by key")]
    ValidatorsNotSorted,
    /// A validator has zero power.
    #[error("a validator has zero power")]
    ZeroPower,
    /// A validator's power is above the cap.
    #[error("a validator's power is above {max}")]
    PowerTooLarge {
        /// The cap.
        max: u64,
    },
    /// The relayer or penalty list is not strictly sorted.
    #[error("relayers are not strictly sorted")]
    RelayersNotSorted,
    /// A proposal id is 0 or not below the next id.
    #[error("proposal id {id} is outside 1..next_proposal_id")]
    ProposalIdOutOfRange {
        /// The id.
        id: u64,
    },
    /// A proposal's snapshot is unsorted, has a zero weight or an unknown org.
    #[error("proposal {id} has an invalid voter snapshot")]
    SnapshotInvalid {
        /// The proposal.
        id: u64,
    },
    /// A proposal's votes are unsorted or come from outside its snapshot.
    #[error("proposal {id} has a vote from outside its snapshot or unsorted votes")]
    VotesInvalid {
        /// The proposal.
        id: u64,
    },
    /// An id appears twice in the executed record.
    #[error("proposal {id} executed twice")]
    ExecutedTwice {
        /// The proposal.
        id: u64,
    },
    /// The executed record and the proposal statuses disagree.
    #[error("proposal {id}: executed record and status disagree")]
    ExecutionRecordMismatch {
        /// The proposal.
        id: u64,
    },
    /// A registered chain breaks its rules.
    #[error("chain {chain}: {error}")]
    ChainInvalid {
        /// The chain.
        chain: ChainId,
        /// The rule.
        error: ParamsError,
    },
    /// A route's policy breaks its rules.
    #[error("route {route}: {error}")]
    RouteInvalid {
        /// The route.
        route: RouteId,
        /// The rule.
        error: ParamsError,
    },
    /// A pending emergency signature list is empty or names an unknown member.
    #[error("a pending emergency signature list is empty or names an unknown member")]
    SignatureInvalid,
    /// The genesis bounds are weaker than the protocol allows, or the parameters cross them.
    #[error("genesis bounds: {0}")]
    Bounds(ParamsError),
    /// The admitted-account list is not strictly sorted.
    #[error("admitted accounts are not strictly sorted")]
    AccountsNotSorted,
    /// Two routes give one sequence space different orderings.
    #[error("routes {a} and {b} order one sequence space differently")]
    OrderingConflict {
        /// One route.
        a: RouteId,
        /// The other.
        b: RouteId,
    },
}

impl InvariantViolation {
    /// Stable snake_case name of the invariant.
    pub fn name(&self) -> &'static str {
        match self {
            InvariantViolation::Params(_) => "params_invalid",
            InvariantViolation::CouncilThresholdTooLow { .. } => "council_threshold_too_low",
            InvariantViolation::TooManyMembers { .. } => "too_many_members",
            InvariantViolation::MembersNotSorted => "members_not_sorted",
            InvariantViolation::ZeroWeight { .. } => "zero_weight",
            InvariantViolation::MemberInvalid { .. } => "member_invalid",
            InvariantViolation::DuplicateMemberKey { .. } => "duplicate_member_key",
            InvariantViolation::EmptyCouncil => "empty_council",
            InvariantViolation::EmptyValidatorSet => "empty_validator_set",
            InvariantViolation::TooManyValidators { .. } => "too_many_validators",
            InvariantViolation::ValidatorsNotSorted => "validators_not_sorted",
            InvariantViolation::ZeroPower => "zero_power",
            InvariantViolation::PowerTooLarge { .. } => "power_too_large",
            InvariantViolation::RelayersNotSorted => "relayers_not_sorted",
            InvariantViolation::ProposalIdOutOfRange { .. } => "proposal_id_out_of_range",
            InvariantViolation::SnapshotInvalid { .. } => "snapshot_invalid",
            InvariantViolation::VotesInvalid { .. } => "votes_invalid",
            InvariantViolation::ExecutedTwice { .. } => "executed_twice",
            InvariantViolation::ExecutionRecordMismatch { .. } => "execution_record_mismatch",
            InvariantViolation::ChainInvalid { .. } => "chain_invalid",
            InvariantViolation::RouteInvalid { .. } => "route_invalid",
            InvariantViolation::SignatureInvalid => "emergency_signature_invalid",
            InvariantViolation::Bounds(_) => "genesis_bounds_violated",
            InvariantViolation::AccountsNotSorted => "accounts_not_sorted",
            InvariantViolation::OrderingConflict { .. } => "ordering_conflict",
            InvariantViolation::RemoteChainInvalid { .. } => "remote_chain_invalid",
            InvariantViolation::RetirementInvalid { .. } => "retirement_invalid",
        }
    }
}
