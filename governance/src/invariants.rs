//! The invariants of the council state, checked at genesis, after every execution, and by
//! the property tests after every step.

use std::cmp::Ordering;

use junction_spec::{Fraction, OrgId, ProposalKind, MAX_POWER};

use crate::error::InvariantViolation;
use crate::proposal::ProposalStatus;
use crate::state::Council;
use crate::tally::required_threshold;
use crate::{MAX_MEMBERS, MAX_VALIDATORS};

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
        if !strictly_sorted(&self.validators, |v| &v.pub_key) {
            return Err(InvariantViolation::ValidatorsNotSorted);
        }
        for junction_spec::HubValidator { power, .. } in &self.validators {
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
        for (id, via) in &self.remote_chains {
            let hub = self.chains.get(via);
            if self.chains.contains_key(id)
                || hub.is_none_or(|c| c.registration.kind != junction_spec::LedgerKind::JunctionHub)
            {
                return Err(InvariantViolation::RemoteChainInvalid { chain: id.clone() });
            }
        }
        for (id, retirement) in &self.retired {
            let gateway = self
                .chains
                .get(id)
                .is_some_and(|c| c.registration.kind.has_gateway());
            let successor = retirement.successor.as_ref().is_none_or(|s| {
                s != id && (self.chains.contains_key(s) || self.remote_chains.contains_key(s))
            });
            if !gateway || !successor {
                return Err(InvariantViolation::RetirementInvalid { chain: id.clone() });
            }
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
