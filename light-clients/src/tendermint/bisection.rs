//! Bisection (skipping verification) driver: from a trusted light block to a target
//! height, asking a [`LightBlockSource`] for blocks and verifying each against the latest
//! trusted one. When the trusted validators do not hold enough of the target's signing
//! power (`NotEnoughTrust`) it tries the midpoint, as the tendermint-rs scheduler does.
//! Pure: the source is the only way in, `now` is given, and the number of steps is bounded.

use std::collections::BTreeMap;

use tendermint_light_client_verifier::{options::Options, types::LightBlock};
use thiserror::Error;

use super::client::{to_tm_time, verify_update, Engine, TendermintError};
use crate::{NamedError, Timestamp};

/// Where the driver gets light blocks (a relayer's RPC client, a test fixture...).
pub trait LightBlockSource {
    /// Why a block could not be fetched.
    type Error: core::fmt::Display;
    /// The light block at `height`.
    fn fetch(&mut self, height: u64) -> Result<LightBlock, Self::Error>;
}

/// Default bound on verification attempts.
pub const DEFAULT_MAX_STEPS: usize = 64;

/// Why bisection stopped.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum BisectionError {
    /// The target is not above the trusted height.
    #[error("target height {target} is not above trusted height {trusted}")]
    TargetNotAbove {
        /// Target.
        target: u64,
        /// Trusted height.
        trusted: u64,
    },
    /// The source failed.
    #[error("source failed at height {height}: {reason}")]
    Source {
        /// Height asked.
        height: u64,
        /// What the source said.
        reason: String,
    },
    /// The source returned a block for another height.
    #[error("asked height {asked}, source returned {got}")]
    WrongHeight {
        /// Height asked.
        asked: u64,
        /// Height returned.
        got: u64,
    },
    /// A block failed verification (other than for lack of trust, which bisects).
    #[error("verification failed at height {height}: {error}")]
    Verification {
        /// Height of the refused block.
        height: u64,
        /// Why.
        error: TendermintError,
    },
    /// More than `max` verification attempts.
    #[error("more than {max} verification steps")]
    TooManySteps {
        /// The bound.
        max: usize,
    },
}

impl NamedError for BisectionError {
    fn name(&self) -> &'static str {
        match self {
            BisectionError::TargetNotAbove { .. } => "target_not_above_trusted",
            BisectionError::Source { .. } => "source_failed",
            BisectionError::WrongHeight { .. } => "wrong_height",
            BisectionError::Verification { error, .. } => error.name(),
            BisectionError::TooManySteps { .. } => "too_many_steps",
        }
    }
}

/// The verified path: every block that became trusted, in order, ending at the target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trace {
    /// Verified blocks (the initial trusted block excluded).
    pub verified: Vec<LightBlock>,
    /// Verification attempts made (successful or not).
    pub steps: usize,
}

/// Verify `target` from `trusted` by bisection. `options` carries trust level, trusting
/// period and clock drift; at most `max_steps` verifications are attempted.
pub fn verify_to_target<S: LightBlockSource>(
    trusted: &LightBlock,
    target: u64,
    source: &mut S,
    options: &Options,
    now: Timestamp,
    max_steps: usize,
    engine: Engine,
) -> Result<Trace, BisectionError> {
    let trusted_height = trusted.height().value();
    if target <= trusted_height {
        return Err(BisectionError::TargetNotAbove {
            target,
            trusted: trusted_height,
        });
    }
    let now_tm = to_tm_time(now).map_err(|error| BisectionError::Verification {
        height: target,
        error,
    })?;
    // Blocks fetched once are reused when bisection comes back to them.
    let mut cache: BTreeMap<u64, LightBlock> = BTreeMap::new();
    let mut current = trusted.clone();
    let mut pending = target;
    let mut verified = Vec::new();
    let mut steps = 0usize;
    loop {
        if steps >= max_steps {
            return Err(BisectionError::TooManySteps { max: max_steps });
        }
        steps = steps.saturating_add(1);
        let block = match cache.get(&pending) {
            Some(b) => b.clone(),
            None => {
                let b = source.fetch(pending).map_err(|e| BisectionError::Source {
                    height: pending,
                    reason: e.to_string(),
                })?;
                if b.height().value() != pending {
                    return Err(BisectionError::WrongHeight {
                        asked: pending,
                        got: b.height().value(),
                    });
                }
                cache.insert(pending, b.clone());
                b
            }
        };
        let result = verify_update(
            block.as_untrusted_state(),
            current.as_trusted_state(),
            options,
            now_tm,
            engine,
            false,
        );
        match result {
            Ok(()) => {
                verified.push(block.clone());
                current = block;
                if pending == target {
                    return Ok(Trace { verified, steps });
                }
                pending = target;
            }
            Err(TendermintError::NotEnoughTrust { .. }) => {
                let low = current.height().value();
                let mid = low.saturating_add(pending.saturating_sub(low) / 2);
                if mid <= low || mid >= pending {
                    return Err(BisectionError::Verification {
                        height: pending,
                        error: TendermintError::CannotBisect { low, high: pending },
                    });
                }
                pending = mid;
            }
            Err(error) => {
                return Err(BisectionError::Verification {
                    height: pending,
                    error,
                })
            }
        }
    }
}
