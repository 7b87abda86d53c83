//! The council state and its transitions: genesis, proposals, votes, emergency actions,
//! the tick that closes votes and executes passed proposals, and the packet policy check.

use std::collections::BTreeMap;

use junction_spec::encoding::{decode_string, encode_len, encode_str};
use junction_spec::{
    ChainId, ChainRegistration, Decode, DecodeError, Encode, GovFloors, GovParams, HubValidator,
    MemberStatus, OrgId, Packet, ProposalKind, Reader, Role, RouteId, RoutePolicy, VoteOption,
    MAX_UPGRADE_NAME_LEN,
};
use serde::{Deserialize, Serialize};

use crate::error::GovError;
use crate::event::GovEvent;
use crate::member::Member;
use crate::proposal::{Proposal, ProposalStatus};
use crate::registry::{ClientState, EmergencySignature, ScheduledUpgrade};
use crate::route::{
    check_packet, check_route_against, route_choice, PacketContext, PolicyRejection, Route,
    RouteChoice, RouteState, TokenBucket,
};
use crate::tally::{required_threshold, Outcome, Tally};
use crate::{
    MAX_ACCOUNTS, MAX_CHAINS, MAX_MEMBERS, MAX_PROPOSALS, MAX_RELAYERS, MAX_ROUTES, MAX_VALIDATORS,
};
use junction_spec::encoding::decode_sorted;

/// Format version of the council state encoding.
pub const COUNCIL_STATE_VERSION: u8 = 5;

/// The starting state of the council.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GovGenesis {
    /// Founding members (at least one active member whose role votes).
    pub members: Vec<Member>,
    /// Governance parameters.
    pub params: GovParams,
    /// Bounds no vote can move the parameters past.
    pub floors: GovFloors,
    /// Chains registered from the start.
    pub chains: Vec<ChainRegistration>,
    /// Routes open from the start (their chains must be in `chains`).
    pub routes: Vec<(RouteId, RoutePolicy)>,
    /// Hub validators: consensus key, power and attestation address (at least one).
    pub validators: Vec<HubValidator>,
    /// Registered relayer accounts.
    #[serde(with = "junction_spec::serde_lists::keys")]
    pub relayers: Vec<[u8; 32]>,
    /// Accounts admitted to submit transactions besides members and relayers.
    #[serde(default, with = "junction_spec::serde_lists::keys")]
    pub accounts: Vec<[u8; 32]>,
}

/// Everything that can happen to the council, for [`Council::apply`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GovInput {
    /// See [`Council::propose`].
    Propose {
        /// Signing account key.
        signer: [u8; 32],
        /// What the proposal does (boxed: it is by far the largest input).
        kind: Box<ProposalKind>,
        /// Expedited vote.
        expedited: bool,
        /// Deposit carried.
        deposit: u128,
    },
    /// See [`Council::vote`].
    Vote {
        /// Signing account key.
        signer: [u8; 32],
        /// Proposal id.
        id: u64,
        /// The vote.
        option: VoteOption,
    },
    /// See [`Council::emergency_pause`].
    EmergencyPause {
        /// Signing account key.
        signer: [u8; 32],
        /// The route.
        route: RouteId,
    },
    /// See [`Council::emergency_freeze`].
    EmergencyFreeze {
        /// Signing account key.
        signer: [u8; 32],
        /// The chain.
        chain: ChainId,
    },
    /// See [`Council::tick`].
    Tick,
}

/// Judges the light client a chain registration (`current` is `None`) or a trust-root
/// replacement (`current` is the registration it replaces) would start. The council is
/// pure and knows no ledger; the hub, which does, constructs the client, at proposal and
/// again at execution.
pub trait ClientCheck {
    /// `Ok` when a client can be started from `next`; otherwise why not.
    fn check(
        &self,
        next: &ChainRegistration,
        current: Option<&ChainRegistration>,
    ) -> Result<(), String>;
}

/// Accepts every registration (for tests and tools without light clients).
#[derive(Clone, Copy, Debug, Default)]
pub struct NoClientCheck;

impl ClientCheck for NoClientCheck {
    fn check(&self, _: &ChainRegistration, _: Option<&ChainRegistration>) -> Result<(), String> {
        Ok(())
    }
}

/// The council: members, parameters, proposals, registries and routes.
///
/// Every method is deterministic and takes hub time as a parameter. A method that returns
/// an error changes nothing. The canonical encoding (see `spec/governance.md`) is what the
/// hub stores and commits to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Council {
    pub(crate) params: GovParams,
    /// Fixed at genesis.
    pub(crate) floors: GovFloors,
    /// Sorted by org.
    pub(crate) members: Vec<Member>,
    pub(crate) next_proposal_id: u64,
    pub(crate) proposals: BTreeMap<u64, Proposal>,
    /// Ids of executed proposals, sorted.
    pub(crate) executed: Vec<u64>,
    pub(crate) chains: BTreeMap<ChainId, ClientState>,
    pub(crate) routes: BTreeMap<RouteId, Route>,
    /// Sorted by key.
    pub(crate) validators: Vec<HubValidator>,
    /// Sorted.
    pub(crate) relayers: Vec<[u8; 32]>,
    /// Admitted accounts (neither members nor relayers), sorted.
    pub(crate) accounts: Vec<[u8; 32]>,
    /// Total penalties per relayer, sorted by key.
    pub(crate) penalties: Vec<([u8; 32], u128)>,
    /// Pending emergency-pause signatures per route; lists are non-empty, sorted by org.
    pub(crate) pause_signatures: BTreeMap<RouteId, Vec<EmergencySignature>>,
    /// Pending emergency-freeze signatures per chain; lists are non-empty, sorted by org.
    pub(crate) freeze_signatures: BTreeMap<ChainId, Vec<EmergencySignature>>,
    pub(crate) upgrade: Option<ScheduledUpgrade>,
    /// Chains under other Junction hubs, each with the registered `junction_hub` chain it
    /// is reached through (`spec/hub-to-hub.md`).
    pub(crate) remote_chains: BTreeMap<ChainId, ChainId>,
    /// Chains whose gateway the council retired (`spec/upgrades.md`).
    pub(crate) retired: BTreeMap<ChainId, Retirement>,
}

/// A gateway the council retired: for good, so that a packet refused for it
/// (`gateway_retired`) is refused for good.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Retirement {
    /// The proposal that retired it (the notice's sequence).
    pub proposal_id: u64,
    /// The chain named to take its place.
    pub successor: Option<ChainId>,
    /// Where the hub logged the retirement notice; `None` until the block that executed
    /// the proposal has logged it.
    pub log_index: Option<u64>,
}

impl Council {
    /// Builds the council from genesis, checking every entry and then every invariant.
    pub fn genesis(g: GovGenesis) -> Result<Self, GovError> {
        g.params.check().map_err(GovError::InvalidGenesis)?;
        g.floors.check().map_err(GovError::InvalidGenesis)?;
        g.params
            .check_within(&g.floors)
            .map_err(GovError::InvalidGenesis)?;
        let mut members = g.members;
        if members.len() > MAX_MEMBERS {
            return Err(GovError::TooManyGenesisEntries {
                what: "members",
                max: MAX_MEMBERS,
            });
        }
        for m in &members {
            m.check().map_err(GovError::InvalidGenesis)?;
        }
        members.sort_by(|a, b| a.org.cmp(&b.org));
        if members.windows(2).any(|w| w[0].org == w[1].org) {
            return Err(GovError::DuplicateGenesisEntry { what: "member" });
        }

        let mut chains = BTreeMap::new();
        if g.chains.len() > MAX_CHAINS {
            return Err(GovError::TooManyGenesisEntries {
                what: "chains",
                max: MAX_CHAINS,
            });
        }
        for registration in g.chains {
            registration.check().map_err(GovError::InvalidGenesis)?;
            let id = registration.chain_id.clone();
            let state = ClientState {
                registration,
                frozen: false,
            };
            if chains.insert(id, state).is_some() {
                return Err(GovError::DuplicateGenesisEntry { what: "chain" });
            }
        }

        let mut routes = BTreeMap::new();
        if g.routes.len() > MAX_ROUTES {
            return Err(GovError::TooManyGenesisEntries {
                what: "routes",
                max: MAX_ROUTES,
            });
        }
        for (id, policy) in g.routes {
            policy.check().map_err(GovError::InvalidGenesis)?;
            crate::route::check_route_against(&g.params, &routes, &id, &policy)?;
            if !chains.contains_key(&policy.source_chain)
                || !chains.contains_key(&policy.dest_chain)
            {
                return Err(GovError::GenesisRouteChainUnknown);
            }
            let route = Route {
                id: id.clone(),
                bucket: TokenBucket::full(&policy.rate, 0),
                app_buckets: Vec::new(),
                policy,
                state: RouteState::Open,
            };
            if routes.insert(id, route).is_some() {
                return Err(GovError::DuplicateGenesisEntry { what: "route" });
            }
        }

        let mut validators = g.validators;
        if validators.len() > MAX_VALIDATORS {
            return Err(GovError::TooManyGenesisEntries {
                what: "validators",
                max: MAX_VALIDATORS,
            });
        }
        for v in &validators {
            junction_spec::check_validator_power(v.power).map_err(GovError::InvalidGenesis)?;
        }
        validators.sort_by_key(|v| v.pub_key);
        if validators.windows(2).any(|w| w[0].pub_key == w[1].pub_key) {
            return Err(GovError::DuplicateGenesisEntry { what: "validator" });
        }
        let mut addresses: Vec<[u8; 20]> =
            validators.iter().map(|v| v.attestation_address).collect();
        addresses.sort_unstable();
        if addresses.windows(2).any(|w| w[0] == w[1]) {
            return Err(GovError::DuplicateGenesisEntry {
                what: "validator attestation address",
            });
        }

        let relayers = genesis_keys(g.relayers, MAX_RELAYERS, "relayer")?;
        let accounts = genesis_keys(g.accounts, MAX_ACCOUNTS, "account")?;

        let council = Council {
            params: g.params,
            floors: g.floors,
            members,
            next_proposal_id: 1,
            proposals: BTreeMap::new(),
            executed: Vec::new(),
            chains,
            routes,
            validators,
            relayers,
            accounts,
            penalties: Vec::new(),
            pause_signatures: BTreeMap::new(),
            freeze_signatures: BTreeMap::new(),
            upgrade: None,
            remote_chains: BTreeMap::new(),
            retired: BTreeMap::new(),
        };
        council.check_invariants().map_err(GovError::Invariant)?;
        Ok(council)
    }

    // ------------------------------------------------------------------ queries

    /// The member holding the account key `key`, whatever its status.
    pub fn member_of_key(&self, key: &[u8; 32]) -> Option<&Member> {
        self.members.iter().find(|m| m.holds_key(key))
    }

    /// The member with org id `org`.
    pub fn member(&self, org: &OrgId) -> Option<&Member> {
        self.member_index(org).and_then(|i| self.members.get(i))
    }

    pub(crate) fn member_index(&self, org: &OrgId) -> Option<usize> {
        self.members.binary_search_by(|m| m.org.cmp(org)).ok()
    }

    /// Every member, sorted by org (including suspended and exited ones).
    pub fn members(&self) -> &[Member] {
        &self.members
    }

    /// Sum of the weights of active members whose role votes: the denominator of the
    /// emergency brake.
    pub fn total_active_weight(&self) -> u64 {
        self.members
            .iter()
            .filter(|m| m.is_active_voter())
            .fold(0u64, |acc, m| acc.saturating_add(m.weight))
    }

    /// The governance parameters.
    pub fn params(&self) -> &GovParams {
        &self.params
    }

    /// The bounds fixed at genesis.
    pub fn floors(&self) -> &GovFloors {
        &self.floors
    }

    /// Accounts admitted besides members and relayers, sorted.
    pub fn admitted_accounts(&self) -> &[[u8; 32]] {
        &self.accounts
    }

    /// Whether `key` may submit transactions: an account key of a member that has not
    /// exited, a registered relayer, or an admitted account. Anything else is refused
    /// before any of its content is looked at.
    pub fn is_known_account(&self, key: &[u8; 32]) -> bool {
        self.is_relayer(key)
            || self.accounts.binary_search(key).is_ok()
            || self
                .validators
                .binary_search_by(|v| v.pub_key.cmp(key))
                .is_ok()
            || self
                .member_of_key(key)
                .is_some_and(|m| m.status != MemberStatus::Exited)
    }

    /// Every key [`Council::is_known_account`] accepts (members' keys, relayers, admitted
    /// accounts, validators' consensus keys), sorted and without duplicates.
    pub fn known_accounts(&self) -> Vec<[u8; 32]> {
        let mut keys: Vec<[u8; 32]> = self
            .members
            .iter()
            .filter(|m| m.status != MemberStatus::Exited)
            .flat_map(|m| m.keys.iter().copied())
            .chain(self.relayers.iter().copied())
            .chain(self.accounts.iter().copied())
            // A validator's consensus key signs its own key rotation.
            .chain(self.validators.iter().map(|v| v.pub_key))
            .collect();
        keys.sort();
        keys.dedup();
        keys
    }

    /// The proposal with id `id`.
    pub fn proposal(&self, id: u64) -> Option<&Proposal> {
        self.proposals.get(&id)
    }

    /// Every proposal, by increasing id.
    pub fn proposals(&self) -> impl Iterator<Item = &Proposal> {
        self.proposals.values()
    }

    /// The id the next proposal will get.
    pub fn next_proposal_id(&self) -> u64 {
        self.next_proposal_id
    }

    /// Ids of the proposals that executed, increasing.
    pub fn executed_ids(&self) -> &[u64] {
        &self.executed
    }

    /// Every registered chain's client, by chain id.
    pub fn chains(&self) -> impl Iterator<Item = &ClientState> {
        self.chains.values()
    }

    /// The client of chain `id`.
    pub fn chain(&self, id: &ChainId) -> Option<&ClientState> {
        self.chains.get(id)
    }

    /// The hub a remote chain is reached through, if `id` is registered as remote.
    pub fn remote_chain(&self, id: &ChainId) -> Option<&ChainId> {
        self.remote_chains.get(id)
    }

    /// Every remote chain and the hub it is reached through, by chain id.
    pub fn remote_chains(&self) -> impl Iterator<Item = (&ChainId, &ChainId)> {
        self.remote_chains.iter()
    }

    /// The retirement of chain `id`'s gateway, if the council retired it.
    pub fn retirement(&self, id: &ChainId) -> Option<&Retirement> {
        self.retired.get(id)
    }

    /// Every retired gateway's chain and its retirement, by chain id.
    pub fn retirements(&self) -> impl Iterator<Item = (&ChainId, &Retirement)> {
        self.retired.iter()
    }

    /// Records where the hub logged the retirement notice of `chain` (once).
    pub fn set_retirement_logged(&mut self, chain: &ChainId, log_index: u64) {
        if let Some(r) = self.retired.get_mut(chain) {
            r.log_index.get_or_insert(log_index);
        }
    }

    /// Every route, by id.
    pub fn routes(&self) -> impl Iterator<Item = &Route> {
        self.routes.values()
    }

    /// The route `id`.
    pub fn route(&self, id: &RouteId) -> Option<&Route> {
        self.routes.get(id)
    }

    /// The current hub validator set, sorted by key.
    pub fn validators(&self) -> &[HubValidator] {
        &self.validators
    }

    /// Registered relayer accounts, sorted.
    pub fn relayers(&self) -> &[[u8; 32]] {
        &self.relayers
    }

    /// True when `key` is a registered relayer.
    pub fn is_relayer(&self, key: &[u8; 32]) -> bool {
        self.relayers.binary_search(key).is_ok()
    }

    /// Total penalties the council imposed on relayer `key`.
    pub fn penalty_of(&self, key: &[u8; 32]) -> u128 {
        self.penalties
            .binary_search_by(|(k, _)| k.cmp(key))
            .ok()
            .and_then(|i| self.penalties.get(i))
            .map_or(0, |(_, amount)| *amount)
    }

    /// The last upgrade the council scheduled.
    pub fn scheduled_upgrade(&self) -> Option<&ScheduledUpgrade> {
        self.upgrade.as_ref()
    }

    /// Pending (not yet effective) emergency-pause signatures on `route`.
    pub fn pending_pause_signatures(&self, route: &RouteId) -> &[EmergencySignature] {
        self.pause_signatures.get(route).map_or(&[], Vec::as_slice)
    }

    /// Pending (not yet effective) emergency-freeze signatures on `chain`.
    pub fn pending_freeze_signatures(&self, chain: &ChainId) -> &[EmergencySignature] {
        self.freeze_signatures.get(chain).map_or(&[], Vec::as_slice)
    }

    /// The tally of proposal `id` as it stands now (votes of members no longer active are
    /// left out).
    pub fn tally(&self, id: u64) -> Option<Tally> {
        self.proposals
            .get(&id)
            .map(|p| Tally::count(p, &self.members))
    }

    // ------------------------------------------------------------------ signed actions

    /// Resolves `signer` to an active member whose role votes.
    fn acting_member(&self, signer: &[u8; 32], observer: GovError) -> Result<&Member, GovError> {
        let member = self.member_of_key(signer).ok_or(GovError::NotAMember)?;
        if member.status != MemberStatus::Active {
            return Err(GovError::MemberNotActive {
                status: member.status,
            });
        }
        if !member.role.votes() {
            return Err(observer);
        }
        Ok(member)
    }

    /// Submits a proposal signed by the account key `signer`. The member must be active
    /// and not an observer, the deposit at least `min_deposit`, the kind must pass
    /// [`ProposalKind::check`], and fewer than `max_active_proposals` may be voting. The
    /// snapshot holds every active member whose role votes, with its weight. Returns the
    /// new id.
    pub fn propose(
        &mut self,
        signer: &[u8; 32],
        kind: ProposalKind,
        expedited: bool,
        deposit: u128,
        now_ms: u64,
    ) -> Result<(u64, Vec<GovEvent>), GovError> {
        self.propose_with(signer, kind, expedited, deposit, now_ms, &NoClientCheck)
    }

    /// [`Council::propose`], with `clients` judging the light client a chain registration
    /// or trust-root replacement would start (the hub constructs it), so that no vote can
    /// be taken on a client that cannot work.
    pub fn propose_with(
        &mut self,
        signer: &[u8; 32],
        kind: ProposalKind,
        expedited: bool,
        deposit: u128,
        now_ms: u64,
        clients: &dyn ClientCheck,
    ) -> Result<(u64, Vec<GovEvent>), GovError> {
        let proposer = self
            .acting_member(signer, GovError::ObserverCannotPropose)?
            .org
            .clone();
        if deposit < self.params.min_deposit {
            return Err(GovError::DepositTooLow {
                got: deposit,
                need: self.params.min_deposit,
            });
        }
        kind.check().map_err(GovError::InvalidProposal)?;
        self.check_against_state(&kind, clients)?;
        let voting = self
            .proposals
            .values()
            .filter(|p| p.status == ProposalStatus::Voting)
            .count();
        let max = self.params.max_active_proposals;
        if u32::try_from(voting).map_or(true, |v| v >= max) {
            return Err(GovError::TooManyActiveProposals { max });
        }
        if self.proposals.len() >= MAX_PROPOSALS {
            return Err(GovError::ProposalStoreFull);
        }
        let id = self.next_proposal_id;
        let next = id.checked_add(1).ok_or(GovError::ProposalStoreFull)?;
        let period = if expedited {
            self.params.expedited_voting_period_ms
        } else {
            self.params.voting_period_ms
        };
        let voting_ends_ms = now_ms.saturating_add(period);
        let snapshot: Vec<(OrgId, u64)> = self
            .members
            .iter()
            .filter(|m| m.is_active_voter())
            .map(|m| (m.org.clone(), m.weight))
            .collect();
        let detail = format!(
            "kind={} expedited={} deposit={} voting_ends_ms={}",
            kind.name(),
            expedited,
            deposit,
            voting_ends_ms
        );
        self.proposals.insert(
            id,
            Proposal {
                id,
                proposer: proposer.clone(),
                kind,
                expedited,
                deposit,
                submitted_ms: now_ms,
                voting_ends_ms,
                status: ProposalStatus::Voting,
                snapshot,
                votes: Vec::new(),
            },
        );
        self.next_proposal_id = next;
        let event = GovEvent::new("proposal_submitted", Some(id), Some(proposer), detail);
        Ok((id, vec![event]))
    }

    /// Casts the vote of the member holding `signer` on proposal `id`. The member must be
    /// active, not an observer, and in the proposal's snapshot; the vote must come before
    /// `voting_ends_ms`; a member votes once.
    pub fn vote(
        &mut self,
        signer: &[u8; 32],
        id: u64,
        option: VoteOption,
        now_ms: u64,
    ) -> Result<Vec<GovEvent>, GovError> {
        let org = self
            .acting_member(signer, GovError::ObserverCannotVote)?
            .org
            .clone();
        let proposal = self
            .proposals
            .get_mut(&id)
            .ok_or(GovError::UnknownProposal(id))?;
        if proposal.status != ProposalStatus::Voting || now_ms >= proposal.voting_ends_ms {
            return Err(GovError::VotingClosed { id });
        }
        if proposal.snapshot_weight(&org).is_none() {
            return Err(GovError::NotEligible);
        }
        match proposal.votes.binary_search_by(|(o, _)| o.cmp(&org)) {
            Ok(_) => Err(GovError::DuplicateVote),
            Err(at) => {
                proposal.votes.insert(at, (org.clone(), option));
                Ok(vec![GovEvent::new(
                    "vote_cast",
                    Some(id),
                    Some(org),
                    format!("option={option}"),
                )])
            }
        }
    }

    /// Replaces the account key `signer` of its member by `new_key`: a rotation the old key
    /// signs. Any member but an exited one may rotate its keys; the new key may be no
    /// member's, relayer's or admitted account's already. A lost key is replaced by a
    /// council vote instead (`ResetMemberKey`).
    pub fn rotate_key(
        &mut self,
        signer: &[u8; 32],
        new_key: &[u8; 32],
    ) -> Result<Vec<GovEvent>, GovError> {
        let at = self
            .members
            .iter()
            .position(|m| m.holds_key(signer))
            .ok_or(GovError::NotAMember)?;
        if self.member_of_key(new_key).is_some()
            || self.is_relayer(new_key)
            || self.accounts.binary_search(new_key).is_ok()
        {
            return Err(GovError::KeyInUse);
        }
        let member = self.members.get_mut(at).ok_or(GovError::NotAMember)?;
        if member.status == MemberStatus::Exited {
            return Err(GovError::MemberNotActive {
                status: member.status,
            });
        }
        for k in member.keys.iter_mut().filter(|k| *k == signer) {
            *k = *new_key;
        }
        Ok(vec![GovEvent::new(
            "member_key_rotated",
            None,
            Some(member.org.clone()),
            format!("new_key={}", crate::event::hex(new_key)),
        )])
    }

    /// Moves the validator whose consensus key is `signer` to `new_key` and
    /// `new_attestation_address`, keeping its power: a rotation the old consensus key
    /// signs. Like a council's validator change it signs two heights after the block that
    /// executes it, and it must move less than a third of the power (its power leaves with
    /// the old key and comes back with the new one).
    pub fn rotate_validator_keys(
        &mut self,
        signer: &[u8; 32],
        new_key: &[u8; 32],
        new_attestation_address: &[u8; 20],
    ) -> Result<Vec<GovEvent>, GovError> {
        let at = self
            .validators
            .binary_search_by(|v| v.pub_key.cmp(signer))
            .map_err(|_| GovError::NotAValidator)?;
        let power = self.validators.get(at).map_or(0, |v| v.power);
        let taken = self.validators.iter().enumerate().any(|(i, v)| {
            i != at && (&v.pub_key == new_key || &v.attestation_address == new_attestation_address)
        });
        if taken {
            return Err(GovError::KeyInUse);
        }
        let total = crate::registry::total_power(&self.validators);
        if !crate::registry::validator_change_allowed(total, power) {
            return Err(GovError::ValidatorChangeTooLarge { power, total });
        }
        self.validators.remove(at);
        let new = junction_spec::HubValidator {
            pub_key: *new_key,
            power,
            attestation_address: *new_attestation_address,
        };
        let to = self
            .validators
            .binary_search_by(|v| v.pub_key.cmp(new_key))
            .unwrap_or_else(|e| e);
        self.validators.insert(to, new);
        let hex = crate::event::hex;
        Ok(vec![GovEvent::new(
            "validator_keys_rotated",
            None,
            None,
            format!(
                "old_key={} new_key={} attestation_address={} power={power}",
                hex(signer),
                hex(new_key),
                hex(new_attestation_address)
            ),
        )])
    }

    /// Writes `trust_root` into chain `chain`'s registration without a vote. Only for a
    /// change the registration's own trust already authorizes and the caller has checked
    /// keeps everything else (an attester rotation both keys signed, which the hub
    /// verifies): a recovery vote drafted from the registration then names the attesters
    /// that hold the seats, not keys that left them.
    pub fn renew_trust_root(
        &mut self,
        chain: &ChainId,
        trust_root: Vec<u8>,
    ) -> Result<(), GovError> {
        let state = self.chains.get_mut(chain).ok_or(GovError::UnknownChain)?;
        state.registration.trust_root = trust_root;
        Ok(())
    }

    /// Signs an emergency pause of `route`. It takes effect at once when the signer is a
    /// regulator, or when the active signers' current weights reach a third of the total
    /// active weight (`3 * signed >= total`). Signatures lapse after `voting_period_ms`.
    /// Only a passed `ResumeRoute` proposal resumes the route.
    pub fn emergency_pause(
        &mut self,
        signer: &[u8; 32],
        route: &RouteId,
        now_ms: u64,
    ) -> Result<Vec<GovEvent>, GovError> {
        let member = self.acting_member(signer, GovError::ObserverCannotSignEmergency)?;
        let (org, regulator) = (member.org.clone(), member.role == Role::Regulator);
        let state = self.routes.get(route).ok_or(GovError::UnknownRoute)?.state;
        match state {
            RouteState::Open => {}
            RouteState::Paused => return Err(GovError::AlreadyPaused),
            RouteState::Closed => return Err(GovError::RouteClosed),
        }
        let pending = self.pause_signatures.get(route).map(Vec::as_slice);
        let (signatures, effective, detail) =
            self.sign_brake(pending, org.clone(), regulator, now_ms)?;
        let mut events = vec![GovEvent::new(
            "emergency_pause_signed",
            None,
            Some(org.clone()),
            format!("route={route} {detail}"),
        )];
        if effective {
            self.pause_signatures.remove(route);
            if let Some(r) = self.routes.get_mut(route) {
                r.state = RouteState::Paused;
            }
            events.push(GovEvent::new(
                "emergency_pause",
                None,
                Some(org),
                format!("route={route} {detail}"),
            ));
        } else {
            self.pause_signatures.insert(route.clone(), signatures);
        }
        Ok(events)
    }

    /// Signs an emergency freeze of the light client of `chain`, with the same rule as
    /// [`Council::emergency_pause`]. Only a passed `RecoverClient` proposal unfreezes it.
    pub fn emergency_freeze(
        &mut self,
        signer: &[u8; 32],
        chain: &ChainId,
        now_ms: u64,
    ) -> Result<Vec<GovEvent>, GovError> {
        let member = self.acting_member(signer, GovError::ObserverCannotSignEmergency)?;
        let (org, regulator) = (member.org.clone(), member.role == Role::Regulator);
        let client = self.chains.get(chain).ok_or(GovError::UnknownChain)?;
        if client.frozen {
            return Err(GovError::AlreadyFrozen);
        }
        let pending = self.freeze_signatures.get(chain).map(Vec::as_slice);
        let (signatures, effective, detail) =
            self.sign_brake(pending, org.clone(), regulator, now_ms)?;
        let mut events = vec![GovEvent::new(
            "emergency_freeze_signed",
            None,
            Some(org.clone()),
            format!("chain={chain} {detail}"),
        )];
        if effective {
            self.freeze_signatures.remove(chain);
            if let Some(c) = self.chains.get_mut(chain) {
                c.frozen = true;
            }
            events.push(GovEvent::new(
                "emergency_freeze",
                None,
                Some(org),
                format!("chain={chain} {detail}"),
            ));
        } else {
            self.freeze_signatures.insert(chain.clone(), signatures);
        }
        Ok(events)
    }

    /// Adds `org`'s signature to the live (not lapsed) `pending` ones and says whether the
    /// brake takes effect. Changes nothing.
    fn sign_brake(
        &self,
        pending: Option<&[EmergencySignature]>,
        org: OrgId,
        regulator: bool,
        now_ms: u64,
    ) -> Result<(Vec<EmergencySignature>, bool, String), GovError> {
        let mut signatures: Vec<EmergencySignature> = pending
            .unwrap_or(&[])
            .iter()
            .filter(|s| self.signature_live(s, now_ms))
            .cloned()
            .collect();
        match signatures.binary_search_by(|s| s.org.cmp(&org)) {
            Ok(_) => return Err(GovError::DuplicateEmergencySignature),
            Err(at) => signatures.insert(
                at,
                EmergencySignature {
                    org,
                    signed_ms: now_ms,
                },
            ),
        }
        let signed = self.signed_weight(&signatures);
        let total = self.total_active_weight();
        let effective = regulator || u128::from(signed) * 3 >= u128::from(total);
        let detail = format!("signed_weight={signed} total_weight={total} regulator={regulator}");
        Ok((signatures, effective, detail))
    }

    fn signature_live(&self, s: &EmergencySignature, now_ms: u64) -> bool {
        s.signed_ms.saturating_add(self.params.voting_period_ms) > now_ms
    }

    /// Current weight of the signers that are still active voters.
    fn signed_weight(&self, signatures: &[EmergencySignature]) -> u64 {
        signatures
            .iter()
            .filter_map(|s| self.member(&s.org))
            .filter(|m| m.is_active_voter())
            .fold(0u64, |acc, m| acc.saturating_add(m.weight))
    }

    /// The rules a proposal must meet against the current state, at proposal and again
    /// at execution: parameters within the genesis bounds, a route's gas cap within the
    /// council's ceiling and one ordering per sequence space, a registration or
    /// trust-root replacement whose client can be constructed.
    pub(crate) fn check_against_state(
        &self,
        kind: &ProposalKind,
        clients: &dyn ClientCheck,
    ) -> Result<(), GovError> {
        match kind {
            ProposalKind::SetParams(params) => params
                .check_within(&self.floors)
                .map_err(GovError::InvalidProposal),
            ProposalKind::OpenRoute { route, policy }
            | ProposalKind::UpdateRoute { route, policy } => {
                let remote = |c: &ChainId| self.remote_chains.contains_key(c);
                if policy.ordered && (remote(&policy.source_chain) || remote(&policy.dest_chain)) {
                    return Err(GovError::RemoteRouteOrdered);
                }
                check_route_against(&self.params, &self.routes, route, policy)
            }
            ProposalKind::RegisterChain(registration) => {
                if self.remote_chains.contains_key(&registration.chain_id) {
                    return Err(GovError::ChainExists);
                }
                clients
                    .check(registration, None)
                    .map_err(GovError::ClientRefused)
            }
            ProposalKind::RegisterRemoteChain { chain, via } => {
                if self.chains.contains_key(chain) || self.remote_chains.contains_key(chain) {
                    return Err(GovError::ChainExists);
                }
                if self.routes.values().any(|r| {
                    r.policy.ordered
                        && (&r.policy.source_chain == chain || &r.policy.dest_chain == chain)
                }) {
                    return Err(GovError::RemoteRouteOrdered);
                }
                match self.chains.get(via) {
                    Some(c) if c.registration.kind == junction_spec::LedgerKind::JunctionHub => {
                        Ok(())
                    }
                    _ => Err(GovError::NotAHub),
                }
            }
            ProposalKind::RetireGateway { chain, successor } => {
                let c = self.chains.get(chain).ok_or(GovError::UnknownChain)?;
                if !c.registration.kind.has_gateway() {
                    return Err(GovError::NoGateway);
                }
                if self.retired.contains_key(chain) {
                    return Err(GovError::GatewayRetired);
                }
                match successor {
                    None => Ok(()),
                    Some(s) if self.retired.contains_key(s) => Err(GovError::GatewayRetired),
                    Some(s)
                        if self.chains.contains_key(s) || self.remote_chains.contains_key(s) =>
                    {
                        Ok(())
                    }
                    Some(_) => Err(GovError::UnknownChain),
                }
            }
            ProposalKind::ReplaceClient {
                chain,
                params,
                trust_root,
            } => {
                let current = self.chains.get(chain).ok_or(GovError::UnknownChain)?;
                let next = ChainRegistration {
                    chain_id: chain.clone(),
                    kind: current.registration.kind,
                    params: params.clone(),
                    trust_root: trust_root.clone(),
                };
                clients
                    .check(&next, Some(&current.registration))
                    .map_err(GovError::ClientRefused)
            }
            _ => Ok(()),
        }
    }

    // ------------------------------------------------------------------ time

    /// Advances governance to hub time `now_ms`. Proposals are visited by increasing id;
    /// for each, a vote whose period has ended (`now_ms >= voting_ends_ms`) is tallied
    /// (expired, vetoed, passed or rejected), then a passed proposal whose timelock has
    /// ended (`now_ms >= executes_at_ms`) is executed, exactly once: it either applies
    /// completely and becomes `Executed`, or changes nothing and becomes `Failed` with the
    /// reason. Lapsed emergency signatures are dropped.
    pub fn tick(&mut self, now_ms: u64) -> Vec<GovEvent> {
        self.tick_with(now_ms, &NoClientCheck)
    }

    /// [`Council::tick`], with `clients` judging again, at execution, the light client a
    /// passed chain registration or trust-root replacement would start.
    pub fn tick_with(&mut self, now_ms: u64, clients: &dyn ClientCheck) -> Vec<GovEvent> {
        self.drop_lapsed_signatures(now_ms);
        let mut events = Vec::new();
        let open: Vec<u64> = self
            .proposals
            .values()
            .filter(|p| !p.status.is_final())
            .map(|p| p.id)
            .collect();
        for id in open {
            self.close_if_due(id, now_ms, &mut events);
            self.execute_if_due(id, now_ms, &mut events, clients);
        }
        events
    }

    fn drop_lapsed_signatures(&mut self, now_ms: u64) {
        let period = self.params.voting_period_ms;
        let live = |s: &EmergencySignature| s.signed_ms.saturating_add(period) > now_ms;
        for list in self.pause_signatures.values_mut() {
            list.retain(live);
        }
        self.pause_signatures.retain(|_, list| !list.is_empty());
        for list in self.freeze_signatures.values_mut() {
            list.retain(live);
        }
        self.freeze_signatures.retain(|_, list| !list.is_empty());
    }

    fn close_if_due(&mut self, id: u64, now_ms: u64, events: &mut Vec<GovEvent>) {
        let Some(proposal) = self.proposals.get(&id) else {
            return;
        };
        if proposal.status != ProposalStatus::Voting || now_ms < proposal.voting_ends_ms {
            return;
        }
        let tally = Tally::count(proposal, &self.members);
        let threshold = required_threshold(&self.params, &proposal.kind, proposal.expedited);
        let (status, action) = match tally.outcome(&self.params, &threshold) {
            Outcome::Expired => (ProposalStatus::Expired, "proposal_expired"),
            Outcome::Vetoed => (ProposalStatus::Vetoed, "proposal_vetoed"),
            Outcome::Rejected => (ProposalStatus::Rejected, "proposal_rejected"),
            Outcome::Passed => (
                ProposalStatus::Passed {
                    executes_at_ms: now_ms.saturating_add(self.params.timelock_ms),
                },
                "proposal_passed",
            ),
        };
        let detail = format!(
            "yes={} no={} abstain={} veto={} total_snapshot={} threshold={}/{}",
            tally.yes,
            tally.no,
            tally.abstain,
            tally.veto,
            tally.total_snapshot,
            threshold.num,
            threshold.den
        );
        if let Some(p) = self.proposals.get_mut(&id) {
            p.status = status;
        }
        events.push(GovEvent::new(action, Some(id), None, detail));
    }

    fn execute_if_due(
        &mut self,
        id: u64,
        now_ms: u64,
        events: &mut Vec<GovEvent>,
        clients: &dyn ClientCheck,
    ) {
        let Some(proposal) = self.proposals.get(&id) else {
            return;
        };
        let ProposalStatus::Passed { executes_at_ms } = proposal.status else {
            return;
        };
        if now_ms < executes_at_ms || self.executed.binary_search(&id).is_ok() {
            return;
        }
        let kind = proposal.kind.clone();
        let before = self.clone();
        let result = self
            .check_against_state(&kind, clients)
            .map_err(|e| e.to_string())
            .and_then(|()| self.apply_kind(id, &kind, now_ms))
            .and_then(|effects| match self.check_invariants() {
                Ok(()) => Ok(effects),
                Err(v) => Err(v.to_string()),
            });
        match result {
            Ok(effects) => {
                if let Err(at) = self.executed.binary_search(&id) {
                    self.executed.insert(at, id);
                }
                if let Some(p) = self.proposals.get_mut(&id) {
                    p.status = ProposalStatus::Executed { at_ms: now_ms };
                }
                events.push(GovEvent::new(
                    "proposal_executed",
                    Some(id),
                    None,
                    format!("kind={}", kind.name()),
                ));
                events.extend(effects);
            }
            Err(reason) => {
                *self = before;
                let reason = truncate(reason);
                if let Some(p) = self.proposals.get_mut(&id) {
                    p.status = ProposalStatus::Failed {
                        reason: reason.clone(),
                    };
                }
                events.push(GovEvent::new(
                    "proposal_failed",
                    Some(id),
                    None,
                    format!("kind={} reason={}", kind.name(), reason),
                ));
            }
        }
    }

    // ------------------------------------------------------------------ packets

    /// How the routes stand to `packet`: the route it travels on, or why no route covers
    /// its sequence space (see [`route_choice`]).
    pub fn route_for(&self, packet: &Packet) -> RouteChoice<'_> {
        route_choice(self.routes.values(), packet)
    }

    /// Checks `packet` against the policy of `route` (see `spec/governance.md` for the
    /// order of the checks). Read-only and allocation-free.
    pub fn check_packet(
        &self,
        route: &RouteId,
        packet: &Packet,
        ctx: &PacketContext,
    ) -> Result<(), PolicyRejection> {
        let r = self
            .routes
            .get(route)
            .ok_or(PolicyRejection::UnknownRoute)?;
        if self.retired.contains_key(&packet.dest_chain) {
            return Err(PolicyRejection::GatewayRetired);
        }
        check_packet(
            r,
            &self.chains,
            &self.remote_chains,
            &self.params,
            packet,
            ctx,
        )
    }

    /// Checks `packet` like [`Council::check_packet`], then takes one message and the
    /// payload length in bytes from the route's bucket and from its source app's. On
    /// rejection nothing changes.
    pub fn execute_packet(
        &mut self,
        route: &RouteId,
        packet: &Packet,
        ctx: &PacketContext,
    ) -> Result<(), PolicyRejection> {
        self.check_packet(route, packet, ctx)?;
        let r = self
            .routes
            .get_mut(route)
            .ok_or(PolicyRejection::UnknownRoute)?;
        let len = u64::try_from(packet.payload.len()).unwrap_or(u64::MAX);
        r.take(&packet.source_app, ctx.now_ms, len)
    }

    // ------------------------------------------------------------------ one entry point

    /// Applies one input at hub time `now_ms`: the single entry point that drives the
    /// state machine. A `Propose` reports the new id in the `proposal_submitted` event.
    pub fn apply(&mut self, input: GovInput, now_ms: u64) -> Result<Vec<GovEvent>, GovError> {
        match input {
            GovInput::Propose {
                signer,
                kind,
                expedited,
                deposit,
            } => self
                .propose(&signer, *kind, expedited, deposit, now_ms)
                .map(|(_, events)| events),
            GovInput::Vote { signer, id, option } => self.vote(&signer, id, option, now_ms),
            GovInput::EmergencyPause { signer, route } => {
                self.emergency_pause(&signer, &route, now_ms)
            }
            GovInput::EmergencyFreeze { signer, chain } => {
                self.emergency_freeze(&signer, &chain, now_ms)
            }
            GovInput::Tick => Ok(self.tick(now_ms)),
        }
    }
}

/// A genesis key list (`what`: "relayer", "account"), sorted, within `max` and without
/// duplicates.
fn genesis_keys(
    mut keys: Vec<[u8; 32]>,
    max: usize,
    what: &'static str,
) -> Result<Vec<[u8; 32]>, GovError> {
    if keys.len() > max {
        return Err(GovError::TooManyGenesisEntries {
            what: if what == "relayer" {
                "relayers"
            } else {
                "accounts"
            },
            max,
        });
    }
    keys.sort();
    if keys.windows(2).any(|w| w[0] == w[1]) {
        return Err(GovError::DuplicateGenesisEntry { what });
    }
    Ok(keys)
}

/// Shortens a failure reason to [`crate::proposal::MAX_FAILURE_REASON_LEN`] bytes, at a
/// character boundary.
fn truncate(mut reason: String) -> String {
    let max = crate::proposal::MAX_FAILURE_REASON_LEN;
    if reason.len() > max {
        let mut cut = max;
        while cut > 0 && !reason.is_char_boundary(cut) {
            cut -= 1;
        }
        reason.truncate(cut);
    }
    reason
}

// ---------------------------------------------------------------------- encoding

fn encode_signatures(list: &[EmergencySignature], out: &mut Vec<u8>) {
    encode_len(list.len(), out);
    for s in list {
        s.org.encode_to(out);
        s.signed_ms.encode_to(out);
    }
}

fn decode_signatures(r: &mut Reader<'_>) -> Result<Vec<EmergencySignature>, DecodeError> {
    let list = decode_sorted(
        r,
        MAX_MEMBERS,
        "emergency signatures not strictly sorted by org",
        |r| {
            Ok(EmergencySignature {
                org: OrgId::decode_from(r)?,
                signed_ms: u64::decode_from(r)?,
            })
        },
        |s| &s.org,
    )?;
    if list.is_empty() {
        return Err(DecodeError::NonCanonical("empty emergency signature list"));
    }
    Ok(list)
}

/// See `spec/governance.md` ("State encoding") for the layout.
/// The packet core's view of route policy: the council's routes, their policy checks
/// and their token buckets.
impl junction_packets::RouteTable for Council {
    fn cover(&self, packet: &Packet) -> junction_packets::RouteCover {
        match self.route_for(packet) {
            RouteChoice::Covered(r) => junction_packets::RouteCover::Covered {
                route: r.id.clone(),
                ordered: r.policy.ordered,
            },
            RouteChoice::Unassigned(rejection) => {
                junction_packets::RouteCover::Unassigned(rejection)
            }
        }
    }

    fn check_packet(
        &self,
        route: &RouteId,
        packet: &Packet,
        ctx: &PacketContext,
    ) -> Result<(), PolicyRejection> {
        Council::check_packet(self, route, packet, ctx)
    }

    fn execute_packet(
        &mut self,
        route: &RouteId,
        packet: &Packet,
        ctx: &PacketContext,
    ) -> Result<(), PolicyRejection> {
        Council::execute_packet(self, route, packet, ctx)
    }
}

impl Encode for Council {
    fn encode_to(&self, out: &mut Vec<u8>) {
        COUNCIL_STATE_VERSION.encode_to(out);
        self.params.encode_to(out);
        self.floors.encode_to(out);
        encode_len(self.members.len(), out);
        for m in &self.members {
            m.encode_to(out);
        }
        self.next_proposal_id.encode_to(out);
        encode_len(self.proposals.len(), out);
        for p in self.proposals.values() {
            p.encode_to(out);
        }
        encode_len(self.executed.len(), out);
        for id in &self.executed {
            id.encode_to(out);
        }
        encode_len(self.chains.len(), out);
        for c in self.chains.values() {
            c.encode_to(out);
        }
        encode_len(self.routes.len(), out);
        for r in self.routes.values() {
            r.encode_to(out);
        }
        encode_len(self.validators.len(), out);
        for v in &self.validators {
            v.encode_to(out);
        }
        encode_len(self.relayers.len(), out);
        for key in &self.relayers {
            key.encode_to(out);
        }
        encode_len(self.accounts.len(), out);
        for key in &self.accounts {
            key.encode_to(out);
        }
        encode_len(self.penalties.len(), out);
        for (key, amount) in &self.penalties {
            key.encode_to(out);
            amount.encode_to(out);
        }
        encode_len(self.pause_signatures.len(), out);
        for (route, list) in &self.pause_signatures {
            route.encode_to(out);
            encode_signatures(list, out);
        }
        encode_len(self.freeze_signatures.len(), out);
        for (chain, list) in &self.freeze_signatures {
            chain.encode_to(out);
            encode_signatures(list, out);
        }
        match &self.upgrade {
            None => out.push(0),
            Some(u) => {
                out.push(1);
                encode_str(&u.name, out);
                u.height.encode_to(out);
                u.proposal_id.encode_to(out);
            }
        }
        encode_len(self.remote_chains.len(), out);
        for (chain, via) in &self.remote_chains {
            chain.encode_to(out);
            via.encode_to(out);
        }
        encode_len(self.retired.len(), out);
        for (chain, r) in &self.retired {
            chain.encode_to(out);
            r.proposal_id.encode_to(out);
            r.successor.encode_to(out);
            r.log_index.encode_to(out);
        }
    }
}

/// Decodes the canonical encoding only: every keyed list must be strictly sorted by its
/// key, and no signature list may be empty. Invariants are not checked here; call
/// [`Council::check_invariants`] for that.
impl Decode for Council {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let version = r.read_u8()?;
        if version != COUNCIL_STATE_VERSION {
            return Err(DecodeError::InvalidTag {
                what: "council state version",
                tag: version,
            });
        }
        let params = GovParams::decode_from(r)?;
        let floors = GovFloors::decode_from(r)?;
        let members = decode_sorted(
            r,
            MAX_MEMBERS,
            "members not strictly sorted by org",
            Member::decode_from,
            |m| &m.org,
        )?;
        let next_proposal_id = u64::decode_from(r)?;
        let proposals = decode_sorted(
            r,
            MAX_PROPOSALS,
            "proposals not strictly sorted by id",
            Proposal::decode_from,
            |p| &p.id,
        )?;
        let executed = decode_sorted(
            r,
            MAX_PROPOSALS,
            "executed ids not strictly increasing",
            u64::decode_from,
            |id| id,
        )?;
        let chains = decode_sorted(
            r,
            MAX_CHAINS,
            "chains not strictly sorted by id",
            ClientState::decode_from,
            |c| &c.registration.chain_id,
        )?;
        let routes = decode_sorted(
            r,
            MAX_ROUTES,
            "routes not strictly sorted by id",
            Route::decode_from,
            |route| &route.id,
        )?;
        let validators = decode_sorted(
            r,
            MAX_VALIDATORS,
            "validators not strictly sorted by key",
            HubValidator::decode_from,
            |v| &v.pub_key,
        )?;
        let relayers = decode_sorted(
            r,
            MAX_RELAYERS,
            "relayers not strictly sorted",
            <[u8; 32]>::decode_from,
            |key| key,
        )?;
        let accounts = decode_sorted(
            r,
            MAX_ACCOUNTS,
            "admitted accounts not strictly sorted",
            <[u8; 32]>::decode_from,
            |key| key,
        )?;
        let penalties = decode_sorted(
            r,
            MAX_RELAYERS,
            "penalties not strictly sorted by key",
            |r| Ok((<[u8; 32]>::decode_from(r)?, u128::decode_from(r)?)),
            |(key, _)| key,
        )?;
        let pause_signatures = decode_sorted(
            r,
            MAX_ROUTES,
            "pause signatures not strictly sorted by route",
            |r| Ok((RouteId::decode_from(r)?, decode_signatures(r)?)),
            |(route, _)| route,
        )?;
        let freeze_signatures = decode_sorted(
            r,
            MAX_CHAINS,
            "freeze signatures not strictly sorted by chain",
            |r| Ok((ChainId::decode_from(r)?, decode_signatures(r)?)),
            |(chain, _)| chain,
        )?;
        let upgrade = match r.read_u8()? {
            0 => None,
            1 => Some(ScheduledUpgrade {
                name: decode_string(r, MAX_UPGRADE_NAME_LEN)?,
                height: u64::decode_from(r)?,
                proposal_id: u64::decode_from(r)?,
            }),
            tag => {
                return Err(DecodeError::InvalidTag {
                    what: "option",
                    tag,
                })
            }
        };
        let remote_chains = decode_sorted(
            r,
            MAX_CHAINS,
            "remote chains not strictly sorted by id",
            |r| Ok((ChainId::decode_from(r)?, ChainId::decode_from(r)?)),
            |(chain, _)| chain,
        )?;
        let retired = decode_sorted(
            r,
            MAX_CHAINS,
            "retired gateways not strictly sorted by chain",
            |r| {
                Ok((
                    ChainId::decode_from(r)?,
                    Retirement {
                        proposal_id: u64::decode_from(r)?,
                        successor: Decode::decode_from(r)?,
                        log_index: Decode::decode_from(r)?,
                    },
                ))
            },
            |(chain, _)| chain,
        )?;
        Ok(Council {
            retired: retired.into_iter().collect(),
            remote_chains: remote_chains.into_iter().collect(),
            params,
            floors,
            members,
            next_proposal_id,
            proposals: proposals.into_iter().map(|p| (p.id, p)).collect(),
            executed,
            chains: chains
                .into_iter()
                .map(|c| (c.registration.chain_id.clone(), c))
                .collect(),
            routes: routes.into_iter().map(|r| (r.id.clone(), r)).collect(),
            validators,
            relayers,
            accounts,
            penalties,
            pause_signatures: pause_signatures.into_iter().collect(),
            freeze_signatures: freeze_signatures.into_iter().collect(),
            upgrade,
        })
    }
}
