//! The double-sign rule. Every message the signer signs is parsed from its canonical sign
//! bytes (spec/hub-chain.md, *Consensus messages*) into what it commits the validator to;
//! the guard keeps, per kind of commitment, the last one signed.
//!
//! - Consensus steps (proposal, prevote, precommit) are ordered by (height, round, step):
//!   a request below the last one signed is a `regression`; at the same (height, round,
//!   step) only the very same bytes are signed again (a resend after a restart), anything
//!   else is a `double_sign`.
//! - Proposal parts (the proposer's signature over the block it streams) follow the same
//!   rule by (height, round) on their own record.
//! - Vote extensions and the validator proof commit the validator to nothing a fork could
//!   use on their own, and are signed when their bytes have their own domain prefix.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Domain prefix of a vote's sign bytes.
pub const VOTE_PREFIX: &[u8] = b"junction/vote/v1";
/// Domain prefix of a proposal's sign bytes.
pub const PROPOSAL_PREFIX: &[u8] = b"junction/proposal/v1";
/// Domain prefix of proposal parts' sign bytes.
pub const PARTS_PREFIX: &[u8] = b"junction/proposal-parts/v1";
/// Domain prefix of a vote extension's sign bytes.
pub const EXTENSION_PREFIX: &[u8] = b"junction/vote-extension/v1";
/// Domain prefix of Malachite's validator proof (binds the network identity to the key).
pub const PROOF_PREFIX: &[u8] = b"PoV";

/// Most bytes one sign request may carry (a vote extension holds a 65-byte attestation).
pub const MAX_SIGN_BYTES: usize = 4096;

/// What a message commits the validator to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signable {
    /// A consensus step: proposal (step 1), prevote (2), precommit (3).
    Step {
        /// Height.
        height: u64,
        /// Round.
        round: i64,
        /// 1, 2 or 3.
        step: u8,
    },
    /// Proposal parts of (height, round).
    Parts {
        /// Height.
        height: u64,
        /// Round.
        round: i64,
    },
    /// A vote extension or the validator proof.
    Free,
}

/// Why the guard refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GuardError {
    /// Bytes that are no message of the protocol.
    #[error("not a consensus message: {0}")]
    Unknown(&'static str),
    /// Another message at a height, round and step already signed.
    #[error(
        "double sign: a different message was signed at height {height} round {round} step {step}"
    )]
    DoubleSign {
        /// Height.
        height: u64,
        /// Round.
        round: i64,
        /// Step (0 for proposal parts).
        step: u8,
    },
    /// A message older than the last one signed.
    #[error("regression: height {height} round {round} step {step} is before the last signed {last_height}/{last_round}/{last_step}")]
    Regression {
        /// Height asked.
        height: u64,
        /// Round asked.
        round: i64,
        /// Step asked.
        step: u8,
        /// Last signed height.
        last_height: u64,
        /// Last signed round.
        last_round: i64,
        /// Last signed step.
        last_step: u8,
    },
}

impl GuardError {
    /// The error's name on the socket.
    pub fn name(&self) -> &'static str {
        match self {
            GuardError::Unknown(_) => "unknown_message",
            GuardError::DoubleSign { .. } => "double_sign",
            GuardError::Regression { .. } => "regression",
        }
    }
}

fn be_u64(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_be_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

fn be_i64(b: &[u8], at: usize) -> Option<i64> {
    Some(i64::from_be_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

/// Reads what `bytes` commit the validator to.
pub fn classify(bytes: &[u8]) -> Result<Signable, GuardError> {
    if bytes.len() > MAX_SIGN_BYTES {
        return Err(GuardError::Unknown("too long"));
    }
    if let Some(rest) = bytes.strip_prefix(VOTE_PREFIX) {
        let step = match rest.first() {
            Some(1) => 2,
            Some(2) => 3,
            _ => return Err(GuardError::Unknown("vote type")),
        };
        let height = be_u64(rest, 1).ok_or(GuardError::Unknown("vote height"))?;
        let round = be_i64(rest, 9).ok_or(GuardError::Unknown("vote round"))?;
        return Ok(Signable::Step {
            height,
            round,
            step,
        });
    }
    // The parts prefix starts with the proposal prefix's first bytes: test it first.
    if let Some(rest) = bytes.strip_prefix(PARTS_PREFIX) {
        let height = be_u64(rest, 0).ok_or(GuardError::Unknown("parts height"))?;
        let round = be_i64(rest, 8).ok_or(GuardError::Unknown("parts round"))?;
        return Ok(Signable::Parts { height, round });
    }
    if let Some(rest) = bytes.strip_prefix(PROPOSAL_PREFIX) {
        let height = be_u64(rest, 0).ok_or(GuardError::Unknown("proposal height"))?;
        let round = be_i64(rest, 8).ok_or(GuardError::Unknown("proposal round"))?;
        return Ok(Signable::Step {
            height,
            round,
            step: 1,
        });
    }
    if bytes.starts_with(EXTENSION_PREFIX) || bytes.starts_with(PROOF_PREFIX) {
        return Ok(Signable::Free);
    }
    Err(GuardError::Unknown("prefix"))
}

/// The last message of one record: its position and the digest of its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastSigned {
    /// Height.
    pub height: u64,
    /// Round.
    pub round: i64,
    /// Step (0 for parts).
    pub step: u8,
    /// SHA-256 of the sign bytes, hex.
    #[serde(with = "hex32")]
    pub digest: [u8; 32],
}

mod hex32 {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(v))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        let text = String::deserialize(d)?;
        hex::decode(&text)
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .ok_or_else(|| serde::de::Error::custom("digest is not 32 bytes of hex"))
    }
}

/// What the signer signed last, per record: the state file's content.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignGuard {
    /// Last consensus step signed.
    pub step: Option<LastSigned>,
    /// Last proposal parts signed.
    pub parts: Option<LastSigned>,
}

/// Whether to sign, and whether the state changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Sign and record this (persist first).
    Record,
    /// Sign: the very bytes signed last, or a message bound to nothing.
    Sign,
}

impl SignGuard {
    /// Judges `bytes` against what was signed; the guard is not changed (call
    /// [`SignGuard::record`] once the new state is on disk).
    pub fn check(&self, bytes: &[u8]) -> Result<Decision, GuardError> {
        let (slot, height, round, step) = match classify(bytes)? {
            Signable::Free => return Ok(Decision::Sign),
            Signable::Step {
                height,
                round,
                step,
            } => (&self.step, height, round, step),
            Signable::Parts { height, round } => (&self.parts, height, round, 0),
        };
        let Some(last) = slot else {
            return Ok(Decision::Record);
        };
        let asked = (height, round, step);
        let had = (last.height, last.round, last.step);
        if asked < had {
            return Err(GuardError::Regression {
                height,
                round,
                step,
                last_height: last.height,
                last_round: last.round,
                last_step: last.step,
            });
        }
        if asked == had {
            return if digest(bytes) == last.digest {
                Ok(Decision::Sign)
            } else {
                Err(GuardError::DoubleSign {
                    height,
                    round,
                    step,
                })
            };
        }
        Ok(Decision::Record)
    }

    /// The guard after signing `bytes` (which [`SignGuard::check`] answered `Record`).
    pub fn record(&self, bytes: &[u8]) -> Result<Self, GuardError> {
        let mut next = self.clone();
        let last = |height, round, step| LastSigned {
            height,
            round,
            step,
            digest: digest(bytes),
        };
        match classify(bytes)? {
            Signable::Free => {}
            Signable::Step {
                height,
                round,
                step,
            } => next.step = Some(last(height, round, step)),
            Signable::Parts { height, round } => next.parts = Some(last(height, round, 0)),
        }
        Ok(next)
    }
}

fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

#[cfg(test)]
pub(crate) mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// Vote sign bytes as the node makes them.
    pub fn vote(kind: u8, height: u64, round: i64, block: Option<u8>) -> Vec<u8> {
        let mut b = VOTE_PREFIX.to_vec();
        b.push(kind);
        b.extend_from_slice(&height.to_be_bytes());
        b.extend_from_slice(&round.to_be_bytes());
        match block {
            Some(x) => {
                b.push(1);
                b.extend_from_slice(&[x; 32]);
            }
            None => b.push(0),
        }
        b.extend_from_slice(&[7; 20]);
        b
    }

    fn proposal(height: u64, round: i64, block: u8) -> Vec<u8> {
        let mut b = PROPOSAL_PREFIX.to_vec();
        b.extend_from_slice(&height.to_be_bytes());
        b.extend_from_slice(&round.to_be_bytes());
        b.extend_from_slice(&[block; 32]);
        b.extend_from_slice(&(-1i64).to_be_bytes());
        b.extend_from_slice(&[7; 20]);
        b
    }

    fn sign(g: &mut SignGuard, bytes: &[u8]) -> Result<(), GuardError> {
        if g.check(bytes)? == Decision::Record {
            *g = g.record(bytes)?;
        }
        Ok(())
    }

    #[test]
    fn a_second_vote_at_one_height_round_and_step_is_refused_and_the_same_one_is_not() {
        let mut g = SignGuard::default();
        sign(&mut g, &proposal(5, 0, 1)).unwrap();
        sign(&mut g, &vote(1, 5, 0, Some(1))).unwrap();
        // The same prevote again (a resend after a restart) is signed again.
        sign(&mut g, &vote(1, 5, 0, Some(1))).unwrap();
        // A prevote for another block, or nil, at the same step: a double sign.
        for other in [vote(1, 5, 0, Some(2)), vote(1, 5, 0, None)] {
            assert_eq!(
                sign(&mut g, &other),
                Err(GuardError::DoubleSign {
                    height: 5,
                    round: 0,
                    step: 2
                })
            );
        }
        sign(&mut g, &vote(2, 5, 0, Some(1))).unwrap();
        // Going back to the prevote step of that round, or to an older height: refused.
        assert!(matches!(
            sign(&mut g, &vote(1, 5, 0, Some(1))),
            Err(GuardError::Regression { .. })
        ));
        assert!(matches!(
            sign(&mut g, &proposal(4, 3, 9)),
            Err(GuardError::Regression { .. })
        ));
        // A later round and height go on.
        sign(&mut g, &vote(1, 5, 1, None)).unwrap();
        sign(&mut g, &proposal(6, 0, 3)).unwrap();
        assert_eq!(g.step.unwrap().height, 6);
    }

    #[test]
    fn parts_are_guarded_apart_and_unknown_bytes_are_never_signed() {
        let mut g = SignGuard::default();
        let parts = |h: u64, r: i64, x: u8| {
            let mut b = PARTS_PREFIX.to_vec();
            b.extend_from_slice(&h.to_be_bytes());
            b.extend_from_slice(&r.to_be_bytes());
            b.extend_from_slice(&[x; 32]);
            b
        };
        sign(&mut g, &parts(3, 0, 1)).unwrap();
        sign(&mut g, &proposal(3, 0, 1)).unwrap();
        assert!(matches!(
            sign(&mut g, &parts(3, 0, 2)),
            Err(GuardError::DoubleSign { step: 0, .. })
        ));
        sign(&mut g, &parts(3, 1, 2)).unwrap();
        assert_eq!(
            sign(&mut g, b"transfer all funds"),
            Err(GuardError::Unknown("prefix"))
        );
        assert!(matches!(
            classify(&vote(9, 1, 0, None)),
            Err(GuardError::Unknown(_))
        ));
        assert_eq!(
            classify(&[EXTENSION_PREFIX, b"x"].concat()),
            Ok(Signable::Free)
        );
    }
}
