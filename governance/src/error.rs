//! Why a signed governance action is refused. A refused action changes nothing.

use junction_spec::{MemberStatus, ParamsError};
use thiserror::Error;

use crate::invariants::InvariantViolation;

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
