//! The tally: integer-only quorum, veto and threshold rules.
//!
//! With `voted = yes + no + abstain + veto`:
//!
//! - quorum is met iff `voted * quorum.den >= quorum.num * total_snapshot`;
//! - the proposal is vetoed iff `veto * veto_frac.den > veto_frac.num * voted` (strictly
//!   more than the veto share);
//! - it passes iff `yes * thr.den > thr.num * (yes + no + veto)` (strictly more than the
//!   threshold of the non-abstaining votes).
//!
//! Products are computed in `u128`, so no input can overflow.

use junction_spec::{Fraction, GovParams, MemberStatus, ProposalKind, VoteOption};
use serde::{Deserialize, Serialize};

use crate::member::Member;
use crate::proposal::Proposal;

/// Vote weights of one proposal.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    /// Weight voting yes.
    pub yes: u64,
    /// Weight voting no.
    pub no: u64,
    /// Weight abstaining.
    pub abstain: u64,
    /// Weight voting veto.
    pub veto: u64,
    /// Sum of the snapshot weights (the quorum denominator).
    pub total_snapshot: u64,
}

/// How a closed vote ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Quorum met, not vetoed, threshold reached.
    Passed,
    /// Quorum met, not vetoed, threshold not reached.
    Rejected,
    /// Quorum met and the veto share exceeded.
    Vetoed,
    /// Quorum not met.
    Expired,
}

impl Tally {
    /// Counts the votes of `proposal`: each vote weighs its voter's snapshot weight, and
    /// counts only while that voter's member record is `Active` in `members`. A member
    /// suspended or exited before the tally counts as not voting; the snapshot total is
    /// unchanged. `members` is sorted by org, as the council keeps it.
    pub fn count(proposal: &Proposal, members: &[Member]) -> Tally {
        let mut tally = Tally {
            total_snapshot: proposal.total_snapshot(),
            ..Tally::default()
        };
        // Votes, snapshot and members are all sorted by org: one merge pass.
        let mut snapshot = proposal.snapshot.iter().peekable();
        let mut roster = members.iter().peekable();
        for (org, option) in &proposal.votes {
            while snapshot.next_if(|(o, _)| o < org).is_some() {}
            while roster.next_if(|m| &m.org < org).is_some() {}
            let Some(weight) = snapshot.next_if(|(o, _)| o == org).map(|(_, w)| *w) else {
                continue;
            };
            let active = roster
                .peek()
                .is_some_and(|m| &m.org == org && m.status == MemberStatus::Active);
            if !active {
                continue;
            }
            let slot = match option {
                VoteOption::Yes => &mut tally.yes,
                VoteOption::No => &mut tally.no,
                VoteOption::Abstain => &mut tally.abstain,
                VoteOption::Veto => &mut tally.veto,
            };
            *slot = slot.saturating_add(weight);
        }
        tally
    }

    /// All weight that voted: `yes + no + abstain + veto`.
    pub fn voted(&self) -> u64 {
        self.yes
            .saturating_add(self.no)
            .saturating_add(self.abstain)
            .saturating_add(self.veto)
    }

    /// Weight that took a side: `yes + no + veto`.
    pub fn non_abstain(&self) -> u64 {
        self.yes.saturating_add(self.no).saturating_add(self.veto)
    }

    /// `voted * quorum.den >= quorum.num * total_snapshot`.
    pub fn quorum_met(&self, quorum: &Fraction) -> bool {
        quorum.reached_by(self.voted(), self.total_snapshot)
    }

    /// `veto * veto_frac.den > veto_frac.num * voted`.
    pub fn vetoed(&self, veto_frac: &Fraction) -> bool {
        veto_frac.exceeded_by(self.veto, self.voted())
    }

    /// `yes * thr.den > thr.num * (yes + no + veto)`. False when nobody took a side.
    pub fn passes(&self, threshold: &Fraction) -> bool {
        threshold.exceeded_by(self.yes, self.non_abstain())
    }

    /// The outcome under `params` with the pass threshold `threshold`: expired unless
    /// quorum is met, then vetoed, then passed or rejected.
    pub fn outcome(&self, params: &GovParams, threshold: &Fraction) -> Outcome {
        if !self.quorum_met(&params.quorum) {
            Outcome::Expired
        } else if self.vetoed(&params.veto) {
            Outcome::Vetoed
        } else if self.passes(threshold) {
            Outcome::Passed
        } else {
            Outcome::Rejected
        }
    }
}

/// The least share of yes over `yes + no + veto` (strictly exceeded) a proposal needs:
/// `params.expedited_threshold` for expedited proposals, `params.threshold` otherwise, and
/// at least 2/3 for the kinds of [`ProposalKind::needs_supermajority`] — council,
/// validator-set, parameter, chain-registration and trust-root changes — so they need
/// strictly more than 2/3 whatever the parameters say.
pub fn required_threshold(params: &GovParams, kind: &ProposalKind, expedited: bool) -> Fraction {
    let base = if expedited {
        params.expedited_threshold
    } else {
        params.threshold
    };
    if kind.needs_supermajority() {
        base.max_value(Fraction::TWO_THIRDS)
    } else {
        base
    }
}
