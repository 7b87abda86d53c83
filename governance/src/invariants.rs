//! The invariants of the council state, checked at genesis, after every execution, and by
//! the property tests after every step.

use std::cmp::Ordering;

use junction_spec::{ChainId, Fraction, OrgId, ParamsError, ProposalKind, RouteId, MAX_POWER};
use thiserror::Error;

use crate::proposal::ProposalStatus;
use crate::state::Council;
use crate::tally::required_threshold;
use crate::{MAX_MEMBERS, MAX_VALIDATORS};

/// A broken invariant of the council state.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum InvariantViolation {
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
        }
    }
}

fn strictly_sorted<T, K: Ord + ?Sized>(items: &[T], key: impl Fn(&T) -> &K) -> bool {
    items.windows(2).all(|w| match w {
        [a, b] => key(a) < key(b),
        _ => true,
    })
}

impl Council {
    /// Checks every invariant:
    ///
    /// - the parameters pass [`junction_spec::GovParams::check`] (so `threshold > 1/2`), and
    ///   council and validator-set changes need at least 2/3 (strictly exceeded), normal or
    ///   expedited;
    /// - members are sorted and unique, each valid with a non-zero weight, no account key
    ///   is shared, and at least one member is active with a voting role;
    /// - the validator set is non-empty, sorted, unique, with non-zero capped powers;
    /// - relayers are sorted and unique;
    /// - proposal ids lie in `1..next_proposal_id`; snapshots are sorted with non-zero
    ///   weights of known members; votes are sorted and come from the snapshot;
    /// - no id is recorded as executed twice, and the executed record matches exactly the
    ///   proposals whose status is `Executed`;
    /// - the genesis bounds hold and the parameters are within them;
    /// - admitted accounts are sorted and unique;
    /// - registered chains and route policies pass their checks, and no two routes give
    ///   one sequence space different orderings;
    /// - pending emergency signatures are non-empty lists of known members.
    pub fn check_invariants(&self) -> Result<(), InvariantViolation> {
        self.check_params()?;
        self.check_members()?;
        self.check_validators()?;
        self.check_proposals()?;
        self.check_registries()
    }

    fn check_params(&self) -> Result<(), InvariantViolation> {
        self.params.check().map_err(InvariantViolation::Params)?;
        self.floors.check().map_err(InvariantViolation::Bounds)?;
        self.params
            .check_within(&self.floors)
            .map_err(InvariantViolation::Bounds)?;
        let probe = ProposalKind::RemoveValidator { pub_key: [0; 32] };
        for expedited in [false, true] {
            let t = required_threshold(&self.params, &probe, expedited);
            if t.cmp_value(&Fraction::TWO_THIRDS) == Ordering::Less {
                return Err(InvariantViolation::CouncilThresholdTooLow {
                    num: t.num,
                    den: t.den,
                });
            }
        }
        Ok(())
    }

    fn check_members(&self) -> Result<(), InvariantViolation> {
        if self.members.len() > MAX_MEMBERS {
            return Err(InvariantViolation::TooManyMembers { max: MAX_MEMBERS });
        }
        if !strictly_sorted(&self.members, |m| &m.org) {
            return Err(InvariantViolation::MembersNotSorted);
        }
        let mut keys: Vec<(&[u8; 32], &OrgId)> = Vec::new();
        for m in &self.members {
            if m.weight == 0 {
                return Err(InvariantViolation::ZeroWeight { org: m.org.clone() });
            }
            m.check()
                .map_err(|error| InvariantViolation::MemberInvalid {
                    org: m.org.clone(),
                    error,
                })?;
            keys.extend(m.keys.iter().map(|k| (k, &m.org)));
        }
        keys.sort();
        if let Some(w) = keys.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(InvariantViolation::DuplicateMemberKey {
                org: w[0].1.clone(),
            });
        }
        if !self.members.iter().any(|m| m.is_active_voter()) {
            return Err(InvariantViolation::EmptyCouncil);
        }
        Ok(())
    }

    fn check_validators(&self) -> Result<(), InvariantViolation> {
        if self.validators.is_empty() {
            return Err(InvariantViolation::EmptyValidatorSet);
        }
        if self.validators.len() > MAX_VALIDATORS {
            return Err(InvariantViolation::TooManyValidators {
                max: MAX_VALIDATORS,
            });
        }
        if !strictly_sorted(&self.validators, |(k, _)| k) {
            return Err(InvariantViolation::ValidatorsNotSorted);
        }
        for (_, power) in &self.validators {
            if *power == 0 {
                return Err(InvariantViolation::ZeroPower);
            }
            if *power > MAX_POWER {
                return Err(InvariantViolation::PowerTooLarge { max: MAX_POWER });
            }
        }
        Ok(())
    }

    fn check_proposals(&self) -> Result<(), InvariantViolation> {
        for (key, p) in &self.proposals {
            if *key != p.id || p.id == 0 || p.id >= self.next_proposal_id {
                return Err(InvariantViolation::ProposalIdOutOfRange { id: p.id });
            }
            let snapshot_ok = strictly_sorted(&p.snapshot, |(o, _)| o)
                && p.snapshot
                    .iter()
                    .all(|(o, w)| *w > 0 && self.member_index(o).is_some());
            if !snapshot_ok {
                return Err(InvariantViolation::SnapshotInvalid { id: p.id });
            }
            let votes_ok = strictly_sorted(&p.votes, |(o, _)| o)
                && p.votes.iter().all(|(o, _)| p.snapshot_weight(o).is_some());
            if !votes_ok {
                return Err(InvariantViolation::VotesInvalid { id: p.id });
            }
            let executed = matches!(p.status, ProposalStatus::Executed { .. });
            if executed != self.executed.binary_search(&p.id).is_ok() {
                return Err(InvariantViolation::ExecutionRecordMismatch { id: p.id });
            }
        }
        for w in self.executed.windows(2) {
            if let [a, b] = w {
                if a == b {
                    return Err(InvariantViolation::ExecutedTwice { id: *a });
                }
                if a > b {
                    return Err(InvariantViolation::ExecutionRecordMismatch { id: *b });
                }
            }
        }
        for id in &self.executed {
            let ok = self
                .proposals
                .get(id)
                .is_some_and(|p| matches!(p.status, ProposalStatus::Executed { .. }));
            if !ok {
                return Err(InvariantViolation::ExecutionRecordMismatch { id: *id });
            }
        }
        Ok(())
    }

    fn check_registries(&self) -> Result<(), InvariantViolation> {
        if !strictly_sorted(&self.relayers, |k| k) || !strictly_sorted(&self.penalties, |(k, _)| k)
        {
            return Err(InvariantViolation::RelayersNotSorted);
        }
        if !strictly_sorted(&self.accounts, |k| k) {
            return Err(InvariantViolation::AccountsNotSorted);
        }
        for (id, client) in &self.chains {
            client
                .registration
                .check()
                .map_err(|error| InvariantViolation::ChainInvalid {
                    chain: id.clone(),
                    error,
                })?;
        }
        for (id, route) in &self.routes {
            route
                .policy
                .check()
                .map_err(|error| InvariantViolation::RouteInvalid {
                    route: id.clone(),
                    error,
                })?;
            let p = &route.policy;
            let other = self.routes.values().find(|r| {
                r.id > *id
                    && r.policy.source_chain == p.source_chain
                    && r.policy.dest_chain == p.dest_chain
                    && r.policy.ordered != p.ordered
                    && r.policy.source_apps.iter().any(|a| p.allows_source_app(a))
            });
            if let Some(r) = other {
                return Err(InvariantViolation::OrderingConflict {
                    a: id.clone(),
                    b: r.id.clone(),
                });
            }
        }
        let lists = self
            .pause_signatures
            .values()
            .chain(self.freeze_signatures.values());
        for list in lists {
            let ok = !list.is_empty()
                && strictly_sorted(list, |s| &s.org)
                && list.iter().all(|s| self.member_index(&s.org).is_some());
            if !ok {
                return Err(InvariantViolation::SignatureInvalid);
            }
        }
        Ok(())
    }
}
