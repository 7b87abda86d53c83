//! Why a packet input is refused. A refused input changes nothing and logs nothing.

use junction_spec::{Hash32, MAX_RESULT_BYTES};
use thiserror::Error;

use crate::policy::PolicyRejection;

/// Why a `RecvPacket`, `AckPacket` or `TimeoutPacket` is refused. Each variant has a stable
/// snake_case [`PacketError::name`] (RPC code and metrics label).
///
/// These are rejections *without* an outcome: the input is malformed, a duplicate, early,
/// or (`Retry`) refused by a policy rule that may pass later. A proven packet that breaks a
/// rule fixed for good is not refused: it gets a final error-ack (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PacketError {
    /// The packet breaks the packet format rules (`Packet::validate`).
    #[error("malformed packet: {0}")]
    Malformed(junction_spec::PacketError),
    /// A route-policy rule that may pass later refuses the packet now (its name is the
    /// rule's: `not_enough_confirmations`, `rate_limit_exceeded`, ...). The packet stays
    /// pending, and times out by the rules if it never passes.
    #[error("refused for now: {0}")]
    Retry(PolicyRejection),
    /// The hub already received a packet with this key (it was logged, or given its
    /// final outcome on arrival).
    #[error("a packet with this key was already received")]
    AlreadyReceived,
    /// The hub already timed this key out before any `RecvPacket` reached it; the packet
    /// can never be received now.
    #[error("this packet key was already timed out; it can no longer be received")]
    AlreadyTimedOut,
    /// In an ordered sequence space (and in one no route covers yet) the hub accepts
    /// sequences strictly in order.
    #[error("out of order in an ordered sequence space: expected sequence {expected}, got {got}")]
    OutOfOrder {
        /// The next sequence the hub accepts on this (source chain, source app,
        /// destination chain).
        expected: u64,
        /// The packet's sequence.
        got: u64,
    },
    /// The hub holds no received packet with this key awaiting an outcome (never
    /// received, or it got its outcome on arrival).
    #[error("no packet with this key is awaiting an acknowledgement")]
    NoPendingPacket,
    /// The packet's key is known but its content differs from what the hub logged.
    #[error("the packet differs from the one the hub holds under its key")]
    PacketMismatch {
        /// Hash of the packet the hub holds.
        expected: Hash32,
        /// Hash of the packet supplied.
        got: Hash32,
    },
    /// The packet already has its one outcome in the log.
    #[error("this packet already has its outcome in the log")]
    OutcomeAlreadyLogged,
    /// The destination header supplied is not yet at or past the packet's deadline.
    #[error("the packet has not timed out at destination height {height}, time {time_ms} ms")]
    NotYetTimedOut {
        /// The destination height supplied.
        height: u64,
        /// The destination time supplied.
        time_ms: u64,
    },
    /// The acknowledgement is longer than a log entry may carry.
    #[error("acknowledgement of {len} bytes is over the cap of {max}", max = MAX_RESULT_BYTES)]
    ResultTooLarge {
        /// Its length.
        len: usize,
    },
    /// The message log cannot take the entries this input needs.
    #[error("the message log is full")]
    LogFull,
}

impl PacketError {
    /// Stable snake_case name of the broken rule.
    pub fn name(&self) -> &'static str {
        match self {
            PacketError::Malformed(_) => "malformed_packet",
            PacketError::Retry(r) => r.name(),
            PacketError::AlreadyReceived => "already_received",
            PacketError::AlreadyTimedOut => "already_timed_out",
            PacketError::OutOfOrder { .. } => "out_of_order",
            PacketError::NoPendingPacket => "no_pending_packet",
            PacketError::PacketMismatch { .. } => "packet_mismatch",
            PacketError::OutcomeAlreadyLogged => "outcome_already_logged",
            PacketError::NotYetTimedOut { .. } => "not_yet_timed_out",
            PacketError::ResultTooLarge { .. } => "result_too_large",
            PacketError::LogFull => "log_full",
        }
    }
}

/// A broken invariant of the packet state (found by
/// [`crate::PacketState::check_invariants`]); never expected, always a bug.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PacketInvariantViolation {
    /// The frontier, the leaf hashes and the entries disagree on the log.
    #[error("the message log's frontier, leaves and entries disagree")]
    LogInconsistent,
    /// A log entry breaks the entry rules (target chain, result).
    #[error("log entry {index} is malformed")]
    MalformedEntry {
        /// Its index.
        index: u64,
    },
    /// On an ordered route, a `Packet` entry has a sequence not above the previous one
    /// logged for its channel.
    #[error("log entry {index} delivers an ordered channel's packets out of sequence")]
    OrderedOutOfSequence {
        /// Its index.
        index: u64,
    },
    /// A packet key has two entries of one kind (two deliveries, two outcomes, two skips).
    #[error("log entry {index} is a second {what} entry for one packet key")]
    DuplicateEntry {
        /// The second entry's index.
        index: u64,
        /// `"packet"`, `"outcome"` or `"sequence_skip"`.
        what: &'static str,
    },
    /// A log entry concerns a packet key the hub holds no record of, or a different
    /// packet than the record's.
    #[error("log entry {index} does not match its packet record")]
    EntryWithoutRecord {
        /// Its index.
        index: u64,
    },
    /// A record points at log entries that are not the ones it says.
    #[error("a packet record does not match the log")]
    RecordMismatch {
        /// The key hash.
        key_hash: Hash32,
    },
    /// A record has neither a delivery nor an outcome.
    #[error("a packet record has neither a delivery nor an outcome")]
    EmptyRecord {
        /// The key hash.
        key_hash: Hash32,
    },
    /// A sequence skip was logged for an unordered route, or without a non-delivery
    /// outcome, or the other way round.
    #[error("a packet record's sequence skip does not match its route and outcome")]
    SkipMismatch {
        /// The key hash.
        key_hash: Hash32,
    },
    /// A channel's counters are inconsistent with the records.
    #[error("channel counters disagree with the packet records")]
    ChannelMismatch,
    /// The per-route counters do not add up to the log.
    #[error("per-route counters disagree with the log")]
    CountersMismatch,
}
