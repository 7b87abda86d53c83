//! The message log: typed entries the hub appends (RFC 6962 leaves) and gateways consume.
//!
//! Every entry names the one chain whose gateway may act on it (`target_chain`), so an
//! entry proven to one chain can never be replayed on another. Exactly-once state is keyed
//! by the [`PacketKey`] (source chain, source app, destination chain, sequence), never by a
//! route or a log index: closing and reopening a route cannot replay an old packet.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::encoding::{encode_bytes, Decode, DecodeError, Encode, Reader};
use crate::hash::{tagged_hash, Hash32, HashTag};
use crate::id::ChainId;
use crate::merkle::leaf_hash;
use crate::types::Packet;

/// Longest acknowledgement or error reason an entry carries.
pub const MAX_RESULT_BYTES: usize = 1_024;

/// What a log entry tells its target gateway.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// Deliver the packet to the destination app (target: destination chain).
    Packet = 1,
    /// The destination app ran; `result` is its acknowledgement (target: source chain).
    Ack = 2,
    /// The packet will never run: its app reverted, or it broke its route's policy;
    /// `result` names the reason (target: source chain).
    ErrorAck = 3,
    /// The packet passed its deadline undelivered (target: source chain).
    Timeout = 4,
    /// On an ordered route, the sequence was used up without delivery (timeout or
    /// policy error), so the destination's next expected sequence moves past it
    /// (target: destination chain).
    SequenceSkip = 5,
    /// The council retired the target chain's gateway: from the checkpoint that carries
    /// this entry it refuses new sends (it still runs the entries logged for it). The
    /// entry carries a [`RetirementNotice`] in the packet's place (target: the retired
    /// chain, the notice's destination).
    GatewayRetired = 6,
}

impl EntryKind {
    /// The kind's tag byte.
    pub fn tag(self) -> u8 {
        self as u8
    }

    /// The kind for a tag byte.
    pub fn from_tag(tag: u8) -> Option<Self> {
        Some(match tag {
            1 => Self::Packet,
            2 => Self::Ack,
            3 => Self::ErrorAck,
            4 => Self::Timeout,
            5 => Self::SequenceSkip,
            6 => Self::GatewayRetired,
            _ => return None,
        })
    }

    /// Whether the entry is addressed to the packet's destination (else to its source).
    pub fn goes_to_destination(self) -> bool {
        matches!(
            self,
            Self::Packet | Self::SequenceSkip | Self::GatewayRetired
        )
    }

    /// Whether this kind is the packet's one final outcome for the source app.
    pub fn is_outcome(self) -> bool {
        matches!(self, Self::Ack | Self::ErrorAck | Self::Timeout)
    }
}

/// The exactly-once key of a packet.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct PacketKey {
    /// Source chain.
    pub source_chain: ChainId,
    /// Sending app on the source chain.
    #[serde(with = "crate::serde_hex::bytes")]
    pub source_app: Vec<u8>,
    /// Destination chain.
    pub dest_chain: ChainId,
    /// Sequence per (source chain, source app, destination chain).
    pub sequence: u64,
}

impl PacketKey {
    /// `tagged_hash(PacketKey, encoding)`: the key gateways store commitments under.
    pub fn hash(&self) -> Hash32 {
        tagged_hash(HashTag::PacketKey, &self.to_bytes())
    }
}

impl Encode for PacketKey {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.source_chain.encode_to(out);
        encode_bytes(&self.source_app, out);
        self.dest_chain.encode_to(out);
        self.sequence.encode_to(out);
    }
}

impl Decode for PacketKey {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            source_chain: Decode::decode_from(r)?,
            source_app: r.read_bytes(crate::MAX_APP_ID_LEN)?.to_vec(),
            dest_chain: Decode::decode_from(r)?,
            sequence: Decode::decode_from(r)?,
        })
    }
}

impl Packet {
    /// The packet's exactly-once key.
    pub fn key(&self) -> PacketKey {
        PacketKey {
            source_chain: self.source_chain.clone(),
            source_app: self.source_app.clone(),
            dest_chain: self.dest_chain.clone(),
            sequence: self.sequence,
        }
    }
}

/// What a destination gateway stores under the packet key once the packet is handled
/// there: `tagged_hash(AckCommitment, kind || u32 len || result)`, with kind `Ack` when the
/// app ran and `ErrorAck` when it reverted. The hub proves it to log the source's outcome.
pub fn ack_commitment(kind: EntryKind, result: &[u8]) -> Hash32 {
    let mut bytes = Vec::with_capacity(5 + result.len());
    bytes.push(kind.tag());
    encode_bytes(result, &mut bytes);
    tagged_hash(HashTag::AckCommitment, &bytes)
}

/// What a [`EntryKind::GatewayRetired`] entry says, carried in the packet envelope so that
/// gateways parse every entry with one parser and every leaf has one layout: source chain
/// the hub, source app [`RetirementNotice::SOURCE_APP`], sequence the proposal id,
/// destination the retired chain, destination app [`RetirementNotice::DEST_APP`], payload
/// the successor's chain id (empty: none), no timeout, gas or fee. Only a council vote
/// logs one; the hub never logs a chain's packet under this kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetirementNotice {
    /// The hub that retired the gateway.
    pub hub_chain: ChainId,
    /// The proposal that retired it.
    pub proposal_id: u64,
    /// The retired chain.
    pub chain: ChainId,
    /// The chain that takes its place, if the council named one.
    pub successor: Option<ChainId>,
}

impl RetirementNotice {
    /// The notice's source app.
    pub const SOURCE_APP: &'static [u8] = b"junction/council";
    /// The notice's destination app.
    pub const DEST_APP: &'static [u8] = b"junction/gateway";

    /// The packet envelope that carries the notice.
    pub fn envelope(&self) -> Packet {
        Packet {
            version: Packet::VERSION,
            source_chain: self.hub_chain.clone(),
            source_app: Self::SOURCE_APP.to_vec(),
            sequence: self.proposal_id,
            dest_chain: self.chain.clone(),
            dest_app: Self::DEST_APP.to_vec(),
            payload: self
                .successor
                .as_ref()
                .map(|c| c.as_str().as_bytes().to_vec())
                .unwrap_or_default(),
            timeout: crate::types::Timeout {
                height: 0,
                time_ms: 0,
            },
            gas_limit: 0,
            fee: 0,
        }
    }

    /// The log entry of the notice, bound to the retired gateway.
    pub fn entry(&self, target_binding: Hash32) -> LogEntry {
        LogEntry::new(
            EntryKind::GatewayRetired,
            target_binding,
            0,
            self.envelope(),
            Vec::new(),
        )
    }

    /// Reads the notice back from its envelope; `None` when the packet is not one.
    pub fn from_envelope(packet: &Packet) -> Option<Self> {
        if packet.source_app != Self::SOURCE_APP || packet.dest_app != Self::DEST_APP {
            return None;
        }
        let successor = if packet.payload.is_empty() {
            None
        } else {
            let name = std::str::from_utf8(&packet.payload).ok()?;
            Some(ChainId::new(name).ok()?)
        };
        Some(Self {
            hub_chain: packet.source_chain.clone(),
            proposal_id: packet.sequence,
            chain: packet.dest_chain.clone(),
            successor,
        })
    }
}

/// Why an entry breaks the log's rules.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum LogEntryError {
    /// The target chain is not the one the kind requires.
    #[error("a {kind:?} entry must target chain {expected}, not {got}")]
    WrongTarget {
        /// The entry kind.
        kind: EntryKind,
        /// The chain it must target.
        expected: ChainId,
        /// The chain it names.
        got: ChainId,
    },
    /// `result` is set on a kind that carries none.
    #[error("a {0:?} entry carries no result")]
    UnexpectedResult(EntryKind),
}

/// The binding of an EVM gateway: `tagged_hash(TargetBinding, "evm" || eip155 chain id
/// (u64) || gateway address (20 bytes))`. A gateway computes it from `block.chainid` and
/// its own address, so it acts only on entries logged for it.
pub fn evm_target_binding(evm_chain_id: u64, gateway: &[u8; 20]) -> Hash32 {
    crate::hash::tagged_hash_parts(
        HashTag::TargetBinding,
        &[b"evm", &evm_chain_id.to_be_bytes(), gateway],
    )
}

/// The binding of another Junction hub: `tagged_hash(TargetBinding, "hub" || its chain
/// id's bytes)`. Entries a hub logs for a chain under that hub are bound to it, and that
/// hub rebuilds them with its own chain id when they are proven to it
/// (`spec/hub-to-hub.md`).
pub fn hub_target_binding(hub_chain_id: &ChainId) -> Hash32 {
    crate::hash::tagged_hash_parts(
        HashTag::TargetBinding,
        &[b"hub", hub_chain_id.as_str().as_bytes()],
    )
}

/// One entry of the hub's message log. Its RFC 6962 leaf is `SHA256(0x00 || encoding)`;
/// the encoding starts with the target's 32-byte binding, which a gateway does not
/// receive but supplies itself (see [`LogEntry::delivered_bytes`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntry {
    /// The registered identity of the target (e.g. [`evm_target_binding`] of the target
    /// chain's gateway); all zero when the target has none.
    #[serde(with = "crate::serde_hex::array")]
    pub target_binding: Hash32,
    /// What the entry says.
    pub kind: EntryKind,
    /// The only chain whose gateway may act on it.
    pub target_chain: ChainId,
    /// 0 when the packet's sequence space (source chain, source app, destination chain) is
    /// unordered. Otherwise the space is ordered and this is the first sequence its
    /// destination runs in order: the gateway then runs the space's packets strictly by
    /// sequence from it, `SequenceSkip` entries moving past sequences that will never run.
    /// It is the same in every entry of the space (sequences below it were used up before
    /// the space had an ordering, and never reach the destination).
    pub ordered_from: u64,
    /// The packet it concerns, in full (gateways compare its hash with their commitment).
    pub packet: Packet,
    /// Acknowledgement bytes (`Ack`) or the reason (`ErrorAck`); empty otherwise.
    #[serde(with = "crate::serde_hex::bytes")]
    pub result: Vec<u8>,
}

impl LogEntry {
    /// Builds an entry, targeting the chain its kind requires, bound to that chain's
    /// `target_binding`.
    pub fn new(
        kind: EntryKind,
        target_binding: Hash32,
        ordered_from: u64,
        packet: Packet,
        result: Vec<u8>,
    ) -> Self {
        let target_chain = if kind.goes_to_destination() {
            packet.dest_chain.clone()
        } else {
            packet.source_chain.clone()
        };
        Self {
            target_binding,
            kind,
            target_chain,
            ordered_from,
            packet,
            result,
        }
    }

    /// Whether the packet's sequence space is ordered.
    pub fn is_ordered(&self) -> bool {
        self.ordered_from != 0
    }

    /// The bytes a gateway receives: the encoding without its leading binding, which the
    /// gateway puts back from its own identity before hashing the leaf.
    pub fn delivered_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_body(&mut out);
        out
    }

    fn encode_body(&self, out: &mut Vec<u8>) {
        self.kind.tag().encode_to(out);
        self.target_chain.encode_to(out);
        self.ordered_from.encode_to(out);
        self.packet.encode_to(out);
        encode_bytes(&self.result, out);
    }

    /// The entry a gateway bound by `target_binding` rebuilds from its delivered bytes.
    pub fn from_delivered(target_binding: Hash32, bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let e = Self::decode_body(target_binding, &mut r)?;
        r.finish()?;
        Ok(e)
    }

    fn decode_body(target_binding: Hash32, r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let tag = r.read_u8()?;
        let kind = EntryKind::from_tag(tag).ok_or(DecodeError::InvalidTag {
            what: "log entry kind",
            tag,
        })?;
        Ok(Self {
            target_binding,
            kind,
            target_chain: Decode::decode_from(r)?,
            ordered_from: Decode::decode_from(r)?,
            packet: Decode::decode_from(r)?,
            result: r.read_bytes(MAX_RESULT_BYTES)?.to_vec(),
        })
    }

    /// Checks that the target matches the kind and that only acks and error-acks carry
    /// a result.
    pub fn validate(&self) -> Result<(), LogEntryError> {
        let expected = if self.kind.goes_to_destination() {
            &self.packet.dest_chain
        } else {
            &self.packet.source_chain
        };
        if &self.target_chain != expected {
            return Err(LogEntryError::WrongTarget {
                kind: self.kind,
                expected: expected.clone(),
                got: self.target_chain.clone(),
            });
        }
        if !matches!(self.kind, EntryKind::Ack | EntryKind::ErrorAck) && !self.result.is_empty() {
            return Err(LogEntryError::UnexpectedResult(self.kind));
        }
        Ok(())
    }

    /// The entry id: `tagged_hash(LogEntry, encoding)` (for indexes and RPC, not the leaf).
    pub fn id(&self) -> Hash32 {
        tagged_hash(HashTag::LogEntry, &self.to_bytes())
    }

    /// The RFC 6962 leaf hash of this entry.
    pub fn leaf_hash(&self) -> Hash32 {
        leaf_hash(&self.to_bytes())
    }
}

/// `target_binding (32 bytes) || kind (u8) || target_chain || ordered_from (u64) || packet
/// || result (bytes)`.
impl Encode for LogEntry {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.target_binding);
        self.encode_body(out);
    }
}

impl Decode for LogEntry {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let target_binding = Decode::decode_from(r)?;
        Self::decode_body(target_binding, r)
    }
}
