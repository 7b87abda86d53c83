//! The packet state: one record per packet key, the per-channel sequence counters, the
//! message log and the per-route counters.
//!
//! The committed state lives in the node's store and is read one key at a time through
//! [`PacketReader`]; a [`PacketState`] is that reader with the writes of the block (or
//! dry run) in progress on top. Nothing here holds or copies the history: the log keeps
//! its frontier and the entries appended over the stored ones, the records only those
//! written since the base. Every map is ordered, so iteration order, and anything derived
//! from it, is the same on every node.

use std::collections::BTreeMap;
use std::sync::Arc;

use junction_spec::merkle::{
    consistency_proof, inclusion_proof, inclusion_proofs, root_from_leaf_hashes,
};
use junction_spec::{
    ChainId, EntryKind, Hash32, LogEntry, MerkleError, MerkleFrontier, Packet, PacketKey, RouteId,
};

/// Reads of the committed packet state, one key at a time (the node reads its store; an
/// in-memory state starts from [`NoPackets`]).
pub trait PacketReader: Send + Sync + std::fmt::Debug {
    /// The record under `key_hash`.
    fn record(&self, key_hash: &Hash32) -> Option<PacketRecord>;
    /// The counters of `channel`, if it has seen a packet.
    fn channel(&self, channel: &ChannelKey) -> Option<Channel>;
    /// The counters of `route`, if it has seen a packet.
    fn counters(&self, route: &RouteId) -> Option<RouteCounters>;
}

/// The empty committed state: no packets.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoPackets;

impl PacketReader for NoPackets {
    fn record(&self, _: &Hash32) -> Option<PacketRecord> {
        None
    }
    fn channel(&self, _: &ChannelKey) -> Option<Channel> {
        None
    }
    fn counters(&self, _: &RouteId) -> Option<RouteCounters> {
        None
    }
}

/// The hub's message log as execution sees it: the RFC 6962 frontier (enough for the root
/// and for appending), and the entries appended over the stored ones. The node serves
/// older entries and every proof from its stored subtree roots
/// (`junction_spec::merkle_store`); a log that starts empty holds all its entries here
/// and proves them itself.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MessageLog {
    pub(crate) frontier: MerkleFrontier,
    /// Size of the stored part: entries below it are not held here.
    pub(crate) base_size: u64,
    pub(crate) leaves: Vec<Hash32>,
    pub(crate) entries: Vec<LogEntry>,
}

impl MessageLog {
    /// The empty log.
    pub fn new() -> Self {
        Self::default()
    }

    /// A log whose first `frontier.size()` entries are stored elsewhere.
    pub fn over(frontier: MerkleFrontier) -> Self {
        Self {
            base_size: frontier.size(),
            frontier,
            leaves: Vec::new(),
            entries: Vec::new(),
        }
    }

    /// Number of entries.
    pub fn size(&self) -> u64 {
        self.frontier.size()
    }

    /// The current root (what the block header and the checkpoint commit to).
    pub fn root(&self) -> Hash32 {
        self.frontier.root()
    }

    /// The frontier (size and subtree roots).
    pub fn frontier(&self) -> &MerkleFrontier {
        &self.frontier
    }

    /// Size of the stored part this log was opened over.
    pub fn base_size(&self) -> u64 {
        self.base_size
    }

    /// Entry `index`, if this log holds it (appended over the stored part).
    pub fn entry(&self, index: u64) -> Option<&LogEntry> {
        let i = usize::try_from(index.checked_sub(self.base_size)?).ok()?;
        self.entries.get(i)
    }

    /// The entries this log holds (appended over the stored part), in log order; the
    /// first has index [`Self::base_size`].
    pub fn entries(&self) -> impl Iterator<Item = &LogEntry> {
        self.entries.iter()
    }

    /// The leaf hashes of every entry up to `tree_size`; only a log that started empty
    /// has them all.
    fn prefix(&self, tree_size: u64) -> Result<&[Hash32], MerkleError> {
        let invalid = MerkleError::InvalidSizes {
            old_size: tree_size,
            new_size: self.size(),
        };
        if self.base_size != 0 {
            return Err(invalid);
        }
        usize::try_from(tree_size)
            .ok()
            .and_then(|n| self.leaves.get(..n))
            .ok_or(invalid)
    }

    /// The root of the log when it held `tree_size` entries.
    pub fn root_at(&self, tree_size: u64) -> Result<Hash32, MerkleError> {
        Ok(root_from_leaf_hashes(self.prefix(tree_size)?))
    }

    /// The audit path of entry `index` in the log as it was at `tree_size` entries.
    pub fn inclusion_proof(&self, index: u64, tree_size: u64) -> Result<Vec<Hash32>, MerkleError> {
        inclusion_proof(self.prefix(tree_size)?, index)
    }

    /// The inclusion proofs of the entries at `indices` in the log at `tree_size` entries.
    pub fn inclusion_proofs(
        &self,
        indices: &[u64],
        tree_size: u64,
    ) -> Result<Vec<Vec<Hash32>>, MerkleError> {
        inclusion_proofs(self.prefix(tree_size)?, indices)
    }

    /// The consistency proof from the log at `old_size` entries to the log at `new_size`.
    pub fn consistency_proof(
        &self,
        old_size: u64,
        new_size: u64,
    ) -> Result<Vec<Hash32>, MerkleError> {
        consistency_proof(self.prefix(new_size)?, old_size)
    }

    /// Whether `n` more entries fit.
    pub(crate) fn has_room(&self, n: u64) -> bool {
        self.size().checked_add(n).is_some()
    }

    /// Appends `entry` and returns its index. The caller has checked [`Self::has_room`].
    pub(crate) fn append(&mut self, entry: LogEntry) -> u64 {
        let index = self.size();
        let leaf = entry.leaf_hash();
        self.frontier.append(leaf);
        self.leaves.push(leaf);
        self.entries.push(entry);
        index
    }
}

/// A packet's one outcome for its source app, and where the log holds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// `Ack`, `ErrorAck` or `Timeout`.
    pub kind: EntryKind,
    /// Log index of the outcome entry.
    pub log_index: u64,
}

/// Where a packet stands on the hub.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PacketStatus {
    /// Logged for the destination, no outcome yet.
    Received {
        /// Log index of the `Packet` entry.
        log_index: u64,
    },
    /// Its one outcome is in the log.
    Outcome {
        /// `Ack`, `ErrorAck` or `Timeout`.
        kind: EntryKind,
        /// Log index of the outcome entry.
        log_index: u64,
    },
}

/// What the hub holds under one packet key hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PacketRecord {
    /// `Packet::hash` of the packet the key stands for.
    pub packet_hash: Hash32,
    /// The route it was handled on (`None`: no route covered its sequence space).
    pub route: Option<RouteId>,
    /// Whether its entries are ordered (its space's ordering, fixed when the record is
    /// made).
    pub ordered: bool,
    /// Whether a `RecvPacket` made this record (false: timed out before any arrived).
    pub received_on_hub: bool,
    /// Log index of the `Packet` entry, if the packet was logged for the destination.
    pub packet_index: Option<u64>,
    /// The outcome, once logged.
    pub outcome: Option<Outcome>,
    /// Log index of the `SequenceSkip` entry (ordered routes, packets that never ran).
    pub skip_index: Option<u64>,
}

impl PacketRecord {
    /// The status the record stands for.
    pub fn status(&self) -> PacketStatus {
        match (self.outcome, self.packet_index) {
            (Some(o), _) => PacketStatus::Outcome {
                kind: o.kind,
                log_index: o.log_index,
            },
            (None, Some(log_index)) => PacketStatus::Received { log_index },
            // A record always has a delivery or an outcome (an invariant); report the
            // degenerate case as received at index 0 rather than panicking.
            (None, None) => PacketStatus::Received { log_index: 0 },
        }
    }

    /// The log indices of every entry the record names (delivery, outcome, sequence
    /// skip): all the entries logged for its packet.
    pub fn log_indices(&self) -> impl Iterator<Item = u64> {
        [
            self.packet_index,
            self.outcome.map(|o| o.log_index),
            self.skip_index,
        ]
        .into_iter()
        .flatten()
    }
}

/// The sequence space of packets: (source chain, source app, destination chain).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ChannelKey {
    /// Source chain.
    pub source_chain: ChainId,
    /// Sending app.
    pub source_app: Vec<u8>,
    /// Destination chain.
    pub dest_chain: ChainId,
}

impl ChannelKey {
    /// The channel of `packet`.
    pub fn of(packet: &Packet) -> Self {
        Self {
            source_chain: packet.source_chain.clone(),
            source_app: packet.source_app.clone(),
            dest_chain: packet.dest_chain.clone(),
        }
    }

    /// The packet key of `sequence` on this channel.
    pub fn packet_key(&self, sequence: u64) -> PacketKey {
        PacketKey {
            source_chain: self.source_chain.clone(),
            source_app: self.source_app.clone(),
            dest_chain: self.dest_chain.clone(),
            sequence,
        }
    }
}

/// Sequence counters of one channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Channel {
    /// The lowest sequence the hub holds no record of: on an ordered route, the only
    /// sequence a `RecvPacket` may carry.
    pub next_recv: u64,
    /// The lowest sequence without a logged outcome: every sequence below it is settled
    /// (on an ordered route, the destination gateway has moved past it or will on the
    /// entries already logged).
    pub next_dest: u64,
    /// 0 until the channel's first ordered entry; then `next_recv` as it was at that
    /// entry: the first sequence the destination runs in order (sequences below it were
    /// used up before the space had an ordering). Every ordered entry carries it.
    pub ordered_from: u64,
}

impl Default for Channel {
    fn default() -> Self {
        Self {
            next_recv: 1,
            next_dest: 1,
            ordered_from: 0,
        }
    }
}

/// Error-ack reason counted for a destination app's revert (policy rejections are
/// counted under their `PolicyRejection::name`).
pub const APP_REVERTED: &str = "app_reverted";

/// Per-route packet counters (the metrics of DESIGN §8).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RouteCounters {
    /// Packets logged for the destination.
    pub received: u64,
    /// Acks logged (the destination app ran).
    pub acked: u64,
    /// Error-acks logged, by reason: a policy rejection's name or [`APP_REVERTED`].
    pub error_acked: BTreeMap<String, u64>,
    /// Timeouts logged.
    pub timed_out: u64,
    /// Sequence skips logged for the destination (ordered routes).
    pub sequence_skips: u64,
}

impl RouteCounters {
    /// Error-acks of every reason.
    pub fn error_acked_total(&self) -> u64 {
        self.error_acked
            .values()
            .fold(0u64, |acc, n| acc.saturating_add(*n))
    }
}

/// The hub's packet state machine (DESIGN §4): exactly-once receipt by packet key,
/// ordered-route sequencing, exactly one outcome per packet, the message log. It reads
/// the committed state through its [`PacketReader`] and keeps only what it wrote since:
/// a copy costs the size of the writes in progress, never of the history (the records
/// are a persistent map, so copying a block's writes for a dry run shares them).
#[derive(Clone, Debug)]
pub struct PacketState {
    pub(crate) base: Arc<dyn PacketReader>,
    pub(crate) records: im::OrdMap<Hash32, PacketRecord>,
    pub(crate) channels: BTreeMap<ChannelKey, Channel>,
    pub(crate) log: MessageLog,
    pub(crate) counters: BTreeMap<RouteId, RouteCounters>,
}

impl Default for PacketState {
    fn default() -> Self {
        Self::over(Arc::new(NoPackets), MerkleFrontier::new())
    }
}

/// Two states are equal when they wrote the same things over their bases.
impl PartialEq for PacketState {
    fn eq(&self, other: &Self) -> bool {
        self.records == other.records
            && self.channels == other.channels
            && self.log == other.log
            && self.counters == other.counters
    }
}

impl Eq for PacketState {}

impl PacketState {
    /// No packets, an empty log.
    pub fn new() -> Self {
        Self::default()
    }

    /// The committed state `base` reads, with the log at `frontier`, and no writes yet.
    pub fn over(base: Arc<dyn PacketReader>, frontier: MerkleFrontier) -> Self {
        Self {
            base,
            records: im::OrdMap::new(),
            channels: BTreeMap::new(),
            log: MessageLog::over(frontier),
            counters: BTreeMap::new(),
        }
    }

    /// The record under `key_hash` (`PacketKey::hash`).
    pub fn record(&self, key_hash: &Hash32) -> Option<PacketRecord> {
        match self.records.get(key_hash) {
            Some(r) => Some(r.clone()),
            None => self.base.record(key_hash),
        }
    }

    /// Whether a record exists under `key_hash`.
    pub fn has_record(&self, key_hash: &Hash32) -> bool {
        self.records.contains_key(key_hash) || self.base.record(key_hash).is_some()
    }

    /// The record of `key`.
    pub fn record_of(&self, key: &PacketKey) -> Option<PacketRecord> {
        self.record(&key.hash())
    }

    /// The records written over the base, by key hash (every record, for a state built
    /// from nothing).
    pub fn records(&self) -> impl Iterator<Item = (&Hash32, &PacketRecord)> {
        self.records.iter()
    }

    /// The counters of `channel` (the initial ones if it has seen no packet).
    pub fn channel(&self, channel: &ChannelKey) -> Channel {
        match self.channels.get(channel) {
            Some(c) => *c,
            None => self.base.channel(channel).unwrap_or_default(),
        }
    }

    /// The channels written over the base.
    pub fn channels(&self) -> impl Iterator<Item = (&ChannelKey, &Channel)> {
        self.channels.iter()
    }

    /// The message log.
    pub fn log(&self) -> &MessageLog {
        &self.log
    }

    /// Appends the council's retirement notice (`RetirementNotice::entry`) and returns
    /// its log index; a notice concerns no packet, so no record or counter changes.
    pub fn log_retirement(
        &mut self,
        notice: &junction_spec::RetirementNotice,
        target_binding: Hash32,
    ) -> Result<u64, crate::PacketError> {
        if !self.log.has_room(1) {
            return Err(crate::PacketError::LogFull);
        }
        Ok(self.log.append(notice.entry(target_binding)))
    }

    /// The counters of `route` (zero if it has seen no packet).
    pub fn counters(&self, route: &RouteId) -> RouteCounters {
        match self.counters.get(route) {
            Some(c) => c.clone(),
            None => self.base.counters(route).unwrap_or_default(),
        }
    }

    /// The route counters written over the base.
    pub fn all_counters(&self) -> impl Iterator<Item = (&RouteId, &RouteCounters)> {
        self.counters.iter()
    }

    /// The counters of `route`; `None` (no route covered the packet) counts nowhere.
    pub(crate) fn count(&mut self, route: Option<&RouteId>, f: impl FnOnce(&mut RouteCounters)) {
        if let Some(route) = route {
            let mut c = self.counters(route);
            f(&mut c);
            self.counters.insert(route.clone(), c);
        }
    }

    /// The `ordered_from` of `key` for an ordered entry logged now: fixed to `next_recv`
    /// by the channel's first ordered entry.
    pub(crate) fn ordered_from(&mut self, key: &ChannelKey) -> u64 {
        let mut ch = self.channel(key);
        if ch.ordered_from == 0 {
            ch.ordered_from = ch.next_recv;
            self.channels.insert(key.clone(), ch);
        }
        ch.ordered_from
    }

    /// Moves the channel's counters past every sequence that now has a record (and an
    /// outcome, for `next_dest`).
    pub(crate) fn advance_channel(&mut self, key: &ChannelKey) {
        let mut ch = self.channel(key);
        while self.has_record(&key.packet_key(ch.next_recv).hash()) {
            match ch.next_recv.checked_add(1) {
                Some(n) => ch.next_recv = n,
                None => break,
            }
        }
        while ch.next_dest < ch.next_recv
            && self
                .record(&key.packet_key(ch.next_dest).hash())
                .is_some_and(|r| r.outcome.is_some())
        {
            ch.next_dest = ch.next_dest.saturating_add(1);
        }
        self.channels.insert(key.clone(), ch);
    }
}

// ---------------------------------------------------------------------------------------
// Canonical encodings: the hub stores each record, channel and route's counters as one
// state entry, so that the app hash commits to exactly-once receipts and sequences.

use junction_spec::encoding::{decode_string, encode_len, encode_str};
use junction_spec::{Decode, DecodeError, Encode, Reader};

/// Most error-ack reasons counted per route (there are a handful of stable names).
const MAX_REASONS: usize = 64;
/// Longest reason name.
const MAX_REASON_LEN: usize = 64;

impl Encode for Outcome {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.push(self.kind.tag());
        self.log_index.encode_to(out);
    }
}

impl Decode for Outcome {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let tag = r.read_u8()?;
        let kind =
            EntryKind::from_tag(tag)
                .filter(|k| k.is_outcome())
                .ok_or(DecodeError::InvalidTag {
                    what: "outcome kind",
                    tag,
                })?;
        Ok(Self {
            kind,
            log_index: Decode::decode_from(r)?,
        })
    }
}

/// `packet_hash || route? || ordered || received_on_hub || packet_index? || outcome? ||
/// skip_index?`.
impl Encode for PacketRecord {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.packet_hash.encode_to(out);
        self.route.encode_to(out);
        self.ordered.encode_to(out);
        self.received_on_hub.encode_to(out);
        self.packet_index.encode_to(out);
        self.outcome.encode_to(out);
        self.skip_index.encode_to(out);
    }
}

impl Decode for PacketRecord {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            packet_hash: Decode::decode_from(r)?,
            route: Decode::decode_from(r)?,
            ordered: Decode::decode_from(r)?,
            received_on_hub: Decode::decode_from(r)?,
            packet_index: Decode::decode_from(r)?,
            outcome: Decode::decode_from(r)?,
            skip_index: Decode::decode_from(r)?,
        })
    }
}

/// `source_chain || source_app || dest_chain` (also the channel's state-key suffix).
impl Encode for ChannelKey {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.source_chain.encode_to(out);
        junction_spec::encoding::encode_bytes(&self.source_app, out);
        self.dest_chain.encode_to(out);
    }
}

impl Decode for ChannelKey {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            source_chain: Decode::decode_from(r)?,
            source_app: junction_spec::encoding::decode_bytes(r, junction_spec::MAX_APP_ID_LEN)?,
            dest_chain: Decode::decode_from(r)?,
        })
    }
}

/// `next_recv || next_dest || ordered_from`.
impl Encode for Channel {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.next_recv.encode_to(out);
        self.next_dest.encode_to(out);
        self.ordered_from.encode_to(out);
    }
}

impl Decode for Channel {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            next_recv: Decode::decode_from(r)?,
            next_dest: Decode::decode_from(r)?,
            ordered_from: Decode::decode_from(r)?,
        })
    }
}

/// `received || acked || (reason, count)* sorted by reason || timed_out || sequence_skips`.
impl Encode for RouteCounters {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.received.encode_to(out);
        self.acked.encode_to(out);
        encode_len(self.error_acked.len(), out);
        for (reason, n) in &self.error_acked {
            encode_str(reason, out);
            n.encode_to(out);
        }
        self.timed_out.encode_to(out);
        self.sequence_skips.encode_to(out);
    }
}

impl Decode for RouteCounters {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let received = Decode::decode_from(r)?;
        let acked = Decode::decode_from(r)?;
        let pairs = junction_spec::encoding::decode_sorted(
            r,
            MAX_REASONS,
            "error-ack reasons not sorted",
            |r| Ok((decode_string(r, MAX_REASON_LEN)?, u64::decode_from(r)?)),
            |(reason, _)| reason.as_str(),
        )?;
        Ok(Self {
            received,
            acked,
            error_acked: pairs.into_iter().collect(),
            timed_out: Decode::decode_from(r)?,
            sequence_skips: Decode::decode_from(r)?,
        })
    }
}

#[cfg(test)]
#[allow(clippy::panic)]
mod codec_tests {
    use super::*;

    #[test]
    fn records_channels_and_counters_round_trip() {
        let route = RouteId::new("a-to-b").unwrap_or_else(|e| panic!("{e}"));
        let rec = PacketRecord {
            packet_hash: [7; 32],
            route: Some(route.clone()),
            ordered: true,
            received_on_hub: true,
            packet_index: Some(3),
            outcome: Some(Outcome {
                kind: EntryKind::ErrorAck,
                log_index: 9,
            }),
            skip_index: Some(10),
        };
        assert_eq!(PacketRecord::from_bytes(&rec.to_bytes()), Ok(rec));
        let mut counters = RouteCounters {
            received: 4,
            acked: 2,
            timed_out: 1,
            sequence_skips: 1,
            ..RouteCounters::default()
        };
        counters.error_acked.insert("route_paused".into(), 1);
        counters.error_acked.insert("app_reverted".into(), 2);
        assert_eq!(
            RouteCounters::from_bytes(&counters.to_bytes()),
            Ok(counters)
        );
        let ch = Channel {
            next_recv: 5,
            next_dest: 4,
            ordered_from: 3,
        };
        assert_eq!(Channel::from_bytes(&ch.to_bytes()), Ok(ch));
        // An outcome must be an outcome kind.
        let mut bad = Outcome {
            kind: EntryKind::Ack,
            log_index: 1,
        }
        .to_bytes();
        bad[0] = EntryKind::Packet.tag();
        assert!(matches!(
            Outcome::from_bytes(&bad),
            Err(DecodeError::InvalidTag { .. })
        ));
    }
}
