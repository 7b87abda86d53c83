//! Proposals: a typed change, its deposit, its voting window, the snapshot of eligible
//! voters and the votes cast.

use junction_spec::encoding::{decode_string, encode_len, encode_str};
use junction_spec::{Decode, DecodeError, Encode, OrgId, ProposalKind, Reader, VoteOption};
use serde::{Deserialize, Serialize};

use crate::MAX_MEMBERS;
use junction_spec::encoding::decode_sorted;

/// Maximum length in bytes of the reason recorded for a failed execution.
pub const MAX_FAILURE_REASON_LEN: usize = 256;

/// Where a proposal is in its lifecycle.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ProposalStatus {
    /// Tag `0x01`: open for votes until `voting_ends_ms`.
    Voting,
    /// Tag `0x02`: passed; executes at the first tick with `now_ms >= executes_at_ms`.
    Passed {
        /// When the timelock ends.
        executes_at_ms: u64,
    },
    /// Tag `0x03`: quorum met, threshold not reached.
    Rejected,
    /// Tag `0x04`: quorum met and the veto share exceeded.
    Vetoed,
    /// Tag `0x05`: quorum not met.
    Expired,
    /// Tag `0x06`: executed.
    Executed {
        /// Hub time of the tick that executed it.
        at_ms: u64,
    },
    /// Tag `0x07`: passed, but the change could not be applied; nothing changed.
    Failed {
        /// Why (at most [`MAX_FAILURE_REASON_LEN`] bytes).
        reason: String,
    },
}

impl ProposalStatus {
    /// Stable snake_case name of the status.
    pub fn name(&self) -> &'static str {
        match self {
            ProposalStatus::Voting => "voting",
            ProposalStatus::Passed { .. } => "passed",
            ProposalStatus::Rejected => "rejected",
            ProposalStatus::Vetoed => "vetoed",
            ProposalStatus::Expired => "expired",
            ProposalStatus::Executed { .. } => "executed",
            ProposalStatus::Failed { .. } => "failed",
        }
    }

    /// True once nothing more will happen to the proposal.
    pub fn is_final(&self) -> bool {
        !matches!(self, ProposalStatus::Voting | ProposalStatus::Passed { .. })
    }
}

impl Encode for ProposalStatus {
    fn encode_to(&self, out: &mut Vec<u8>) {
        match self {
            ProposalStatus::Voting => out.push(1),
            ProposalStatus::Passed { executes_at_ms } => {
                out.push(2);
                executes_at_ms.encode_to(out);
            }
            ProposalStatus::Rejected => out.push(3),
            ProposalStatus::Vetoed => out.push(4),
            ProposalStatus::Expired => out.push(5),
            ProposalStatus::Executed { at_ms } => {
                out.push(6);
                at_ms.encode_to(out);
            }
            ProposalStatus::Failed { reason } => {
                out.push(7);
                encode_str(reason, out);
            }
        }
    }
}

impl Decode for ProposalStatus {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(match r.read_u8()? {
            1 => ProposalStatus::Voting,
            2 => ProposalStatus::Passed {
                executes_at_ms: Decode::decode_from(r)?,
            },
            3 => ProposalStatus::Rejected,
            4 => ProposalStatus::Vetoed,
            5 => ProposalStatus::Expired,
            6 => ProposalStatus::Executed {
                at_ms: Decode::decode_from(r)?,
            },
            7 => ProposalStatus::Failed {
                reason: decode_string(r, MAX_FAILURE_REASON_LEN)?,
            },
            tag => {
                return Err(DecodeError::InvalidTag {
                    what: "proposal status",
                    tag,
                })
            }
        })
    }
}

/// A proposal and its votes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proposal {
    /// Sequential id, from 1.
    pub id: u64,
    /// The member that submitted it.
    pub proposer: OrgId,
    /// What it does.
    pub kind: ProposalKind,
    /// Shorter voting period and the expedited threshold.
    pub expedited: bool,
    /// The deposit it carries (the hub holds the funds).
    #[serde(with = "junction_spec::serde_hex::u128_str")]
    pub deposit: u128,
    /// Hub time of submission.
    pub submitted_ms: u64,
    /// Votes are accepted while `now_ms < voting_ends_ms`; the tally happens at the first
    /// tick with `now_ms >= voting_ends_ms`.
    pub voting_ends_ms: u64,
    /// Lifecycle status.
    pub status: ProposalStatus,
    /// Eligible voters and their weights at submission (active members whose role
    /// votes), sorted by org. The quorum denominator is the sum of these weights.
    pub snapshot: Vec<(OrgId, u64)>,
    /// Votes cast, sorted by org, at most one per voter.
    pub votes: Vec<(OrgId, VoteOption)>,
}

impl Proposal {
    /// The snapshot weight of `org`, if it is an eligible voter.
    pub fn snapshot_weight(&self, org: &OrgId) -> Option<u64> {
        self.snapshot
            .binary_search_by(|(o, _)| o.cmp(org))
            .ok()
            .and_then(|i| self.snapshot.get(i))
            .map(|(_, w)| *w)
    }

    /// The vote of `org`, if it voted.
    pub fn vote_of(&self, org: &OrgId) -> Option<VoteOption> {
        self.votes
            .binary_search_by(|(o, _)| o.cmp(org))
            .ok()
            .and_then(|i| self.votes.get(i))
            .map(|(_, v)| *v)
    }

    /// The sum of the snapshot weights.
    pub fn total_snapshot(&self) -> u64 {
        self.snapshot
            .iter()
            .fold(0u64, |acc, (_, w)| acc.saturating_add(*w))
    }

    /// True when the deposit is forfeited: the proposal was vetoed. Otherwise the hub
    /// returns it once the proposal is final.
    pub fn deposit_burned(&self) -> bool {
        matches!(self.status, ProposalStatus::Vetoed)
    }
}

impl Encode for Proposal {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.id.encode_to(out);
        self.proposer.encode_to(out);
        self.kind.encode_to(out);
        self.expedited.encode_to(out);
        self.deposit.encode_to(out);
        self.submitted_ms.encode_to(out);
        self.voting_ends_ms.encode_to(out);
        self.status.encode_to(out);
        encode_len(self.snapshot.len(), out);
        for (org, weight) in &self.snapshot {
            org.encode_to(out);
            weight.encode_to(out);
        }
        encode_len(self.votes.len(), out);
        for (org, option) in &self.votes {
            org.encode_to(out);
            option.encode_to(out);
        }
    }
}

/// Rejects a snapshot or vote list that is not strictly sorted by org.
impl Decode for Proposal {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            id: Decode::decode_from(r)?,
            proposer: Decode::decode_from(r)?,
            kind: Decode::decode_from(r)?,
            expedited: Decode::decode_from(r)?,
            deposit: Decode::decode_from(r)?,
            submitted_ms: Decode::decode_from(r)?,
            voting_ends_ms: Decode::decode_from(r)?,
            status: Decode::decode_from(r)?,
            snapshot: decode_sorted(
                r,
                MAX_MEMBERS,
                "proposal snapshot not strictly sorted by org",
                |r| Ok((OrgId::decode_from(r)?, u64::decode_from(r)?)),
                |(org, _)| org,
            )?,
            votes: decode_sorted(
                r,
                MAX_MEMBERS,
                "proposal votes not strictly sorted by org",
                |r| Ok((OrgId::decode_from(r)?, VoteOption::decode_from(r)?)),
                |(org, _)| org,
            )?,
        })
    }
}
