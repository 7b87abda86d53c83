//! The consensus-state store both EVM clients keep: verified states by height, the latest
//! height, a bounded history and the freeze. One implementation, so that pruning, expiry
//! and the freeze rule cannot drift apart between the QBFT and the attested client.

use std::collections::BTreeMap;

use crate::{ClientStatus, Timestamp};

/// Most consensus states an EVM client may be configured to keep.
pub const MAX_HISTORY: usize = 1024;

/// A consensus state that carries its header's time.
pub trait HeaderTime {
    /// The header's timestamp, seconds.
    fn timestamp(&self) -> u64;
}

/// Why the store refused a lookup or a configuration; each client maps it into its own
/// error enum.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HistoryError {
    /// The history bound is outside `1..=MAX_HISTORY`, or the kept states exceed it.
    InvalidConfig {
        /// What is wrong.
        what: &'static str,
    },
    /// The client is frozen (misbehaviour at `height`).
    Frozen {
        /// The height of the misbehaviour.
        height: u64,
    },
    /// No consensus state is kept at `height`.
    UnknownHeight {
        /// The height asked for.
        height: u64,
    },
}

/// Verified consensus states by height, at most `max_history` of them, the newest at
/// `latest`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsensusHistory<S> {
    states: BTreeMap<u64, S>,
    latest: u64,
    frozen: Option<u64>,
    max_history: usize,
}

impl<S: HeaderTime> ConsensusHistory<S> {
    /// A history holding only the council-trusted state at `height`.
    pub fn start(max_history: usize, height: u64, state: S) -> Result<Self, HistoryError> {
        if max_history == 0 || max_history > MAX_HISTORY {
            return Err(HistoryError::InvalidConfig {
                what: "max_history must be in 1..=MAX_HISTORY",
            });
        }
        Ok(ConsensusHistory {
            states: BTreeMap::from([(height, state)]),
            latest: height,
            frozen: None,
            max_history,
        })
    }

    /// Rebuilds a history from its fields (a decoded client state), checking that they
    /// fit together: history within `max_history`, and the newest kept state at `latest`.
    pub fn from_parts(
        max_history: usize,
        states: BTreeMap<u64, S>,
        latest: u64,
        frozen: Option<u64>,
    ) -> Result<Self, HistoryError> {
        if max_history == 0 || max_history > MAX_HISTORY || states.len() > max_history {
            return Err(HistoryError::InvalidConfig {
                what: "max_history must be in 1..=MAX_HISTORY and hold every kept state",
            });
        }
        if states.keys().next_back() != Some(&latest) {
            return Err(HistoryError::UnknownHeight { height: latest });
        }
        Ok(ConsensusHistory {
            states,
            latest,
            frozen,
            max_history,
        })
    }

    /// Every kept state, by height.
    pub fn states(&self) -> &BTreeMap<u64, S> {
        &self.states
    }

    /// The latest verified height.
    pub fn latest(&self) -> u64 {
        self.latest
    }

    /// The height of the misbehaviour that froze the client, if any.
    pub fn frozen(&self) -> Option<u64> {
        self.frozen
    }

    /// The state at `height`, if kept.
    pub fn get(&self, height: u64) -> Option<&S> {
        self.states.get(&height)
    }

    /// The state at the latest height.
    pub fn latest_state(&self) -> Result<&S, HistoryError> {
        self.states
            .get(&self.latest)
            .ok_or(HistoryError::UnknownHeight {
                height: self.latest,
            })
    }

    /// Frozen, expired (`now` past the latest header's time plus the trusting period), or
    /// active.
    pub fn status(&self, now: Timestamp, trusting_period_secs: u64) -> ClientStatus {
        if let Some(height) = self.frozen {
            return ClientStatus::Frozen { height };
        }
        let latest_ts = self.states.get(&self.latest).map_or(0, S::timestamp);
        if now.secs() > latest_ts.saturating_add(trusting_period_secs) {
            return ClientStatus::Expired;
        }
        ClientStatus::Active
    }

    /// The state a proof at `height` is checked against: refused while frozen, and when no
    /// state is kept there.
    pub fn proof_state(&self, height: u64) -> Result<&S, HistoryError> {
        self.not_frozen()?;
        self.states
            .get(&height)
            .ok_or(HistoryError::UnknownHeight { height })
    }

    /// Refuses while the client is frozen.
    pub fn not_frozen(&self) -> Result<(), HistoryError> {
        match self.frozen {
            Some(height) => Err(HistoryError::Frozen { height }),
            None => Ok(()),
        }
    }

    /// Records a verified state and drops the oldest beyond the bound.
    pub fn record(&mut self, height: u64, state: S) {
        self.states.insert(height, state);
        self.latest = self.latest.max(height);
        while self.states.len() > self.max_history {
            if self.states.pop_first().is_none() {
                break;
            }
        }
    }

    /// Freezes at `height` (the lowest misbehaviour height wins).
    pub fn freeze(&mut self, height: u64) {
        self.frozen = Some(self.frozen.map_or(height, |h| h.min(height)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Eq)]
    struct At(u64);
    impl HeaderTime for At {
        fn timestamp(&self) -> u64 {
            self.0
        }
    }

    #[test]
    fn the_oldest_states_go_first_and_the_bound_holds() {
        let Ok(mut h) = ConsensusHistory::start(3, 10, At(100)) else {
            unreachable!("valid bound")
        };
        for n in 11..=15 {
            h.record(n, At(100 + n));
        }
        assert_eq!(h.states().keys().copied().collect::<Vec<_>>(), [13, 14, 15]);
        assert_eq!(h.latest(), 15);
        assert_eq!(
            h.proof_state(12),
            Err(HistoryError::UnknownHeight { height: 12 })
        );
    }

    #[test]
    fn a_freeze_keeps_the_lowest_height_and_refuses_proofs() {
        let Ok(mut h) = ConsensusHistory::start(4, 1, At(5)) else {
            unreachable!("valid bound")
        };
        h.freeze(9);
        h.freeze(3);
        h.freeze(7);
        assert_eq!(h.frozen(), Some(3));
        assert_eq!(h.proof_state(1), Err(HistoryError::Frozen { height: 3 }));
        assert_eq!(
            h.status(Timestamp::from_secs(0), 10),
            ClientStatus::Frozen { height: 3 }
        );
    }

    #[test]
    fn parts_that_do_not_fit_are_refused() {
        let states = BTreeMap::from([(1, At(1)), (2, At(2))]);
        assert!(matches!(
            ConsensusHistory::from_parts(1, states.clone(), 2, None),
            Err(HistoryError::InvalidConfig { .. })
        ));
        assert_eq!(
            ConsensusHistory::from_parts(2, states.clone(), 1, None),
            Err(HistoryError::UnknownHeight { height: 1 })
        );
        assert!(ConsensusHistory::from_parts(2, states, 2, None).is_ok());
        assert!(matches!(
            ConsensusHistory::start(0, 1, At(1)),
            Err(HistoryError::InvalidConfig { .. })
        ));
    }
}
