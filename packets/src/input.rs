//! What can happen to the packet state (inputs) and what it reports (events).
//!
//! Inputs carry *facts* the hub has already established with its light clients: the
//! source commitment of a packet, a destination gateway's ack commitment, a destination
//! header and the absence of a receipt at it. The packet core checks the packet rules,
//! exactly-once, ordering, timeouts and route policy on top of them.

use junction_spec::{EntryKind, Hash32, Packet, RouteId};

/// The registered identities of a packet's two chains (`LogEntry::target_binding`): every
/// entry for the source carries `source`, every entry for the destination `dest`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Bindings {
    /// The source chain's binding.
    pub source: Hash32,
    /// The destination chain's binding (all zero when the hub knows no destination).
    pub dest: Hash32,
}

impl Bindings {
    /// The binding of the chain an entry of `kind` goes to.
    pub fn of(&self, kind: EntryKind) -> Hash32 {
        if kind.goes_to_destination() {
            self.dest
        } else {
            self.source
        }
    }
}

/// The destination's latest verified header, as the hub's light client holds it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DestHead {
    /// Latest verified height of the destination chain's light client.
    pub height: u64,
    /// Time of that header, in ms.
    pub time_ms: u64,
    /// The destination lives under another Junction hub (`spec/hub-to-hub.md`): height and
    /// time are that hub's latest checkpoint's, and that hub judges the packet's timeout,
    /// so this hub applies neither timeout rule to it.
    pub remote: bool,
}

/// A relayer submits a packet whose commitment the hub proved on the source chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecvPacket {
    /// The packet.
    pub packet: Packet,
    /// Source-chain height at which its commitment was proven.
    pub proof_height: u64,
    /// Latest verified height of the source chain's light client.
    pub source_latest_height: u64,
    /// The destination's latest header; `None` when the destination chain is not
    /// registered or of a kind that cannot receive (the packet then has no route).
    pub dest: Option<DestHead>,
    /// The bindings of the packet's chains.
    pub bindings: Bindings,
}

/// What the destination gateway stored for a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum AckKind {
    /// The destination app ran.
    Ack,
    /// The destination app reverted.
    ErrorAck,
}

impl AckKind {
    /// The log-entry kind carrying it to the source.
    pub fn entry_kind(self) -> EntryKind {
        match self {
            AckKind::Ack => EntryKind::Ack,
            AckKind::ErrorAck => EntryKind::ErrorAck,
        }
    }
}

/// A relayer proves the destination gateway's ack commitment
/// (`ack_commitment(kind, result)` under the packet key).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AckPacket {
    /// The packet.
    pub packet: Packet,
    /// Whether the app ran or reverted.
    pub kind: AckKind,
    /// The acknowledgement bytes (at most `MAX_RESULT_BYTES`).
    pub result: Vec<u8>,
    /// The bindings of the packet's chains.
    pub bindings: Bindings,
}

/// A relayer proves a destination header at or past the packet's deadline and that the
/// destination gateway holds no receipt for the packet key at it. For a packet the hub
/// never received, the hub has also proven its source commitment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimeoutPacket {
    /// The packet.
    pub packet: Packet,
    /// Height of the destination header.
    pub dest_height: u64,
    /// Time of the destination header, in ms.
    pub dest_time_ms: u64,
    /// The timeout was decided by the hub the destination lives under (its `Timeout`
    /// entry, proven from its log): this hub does not judge the deadline again.
    pub decided_remotely: bool,
    /// The bindings of the packet's chains.
    pub bindings: Bindings,
}

/// Any packet input, for [`crate::PacketState::apply`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PacketInput {
    /// See [`RecvPacket`].
    Recv(RecvPacket),
    /// See [`AckPacket`].
    Ack(AckPacket),
    /// See [`TimeoutPacket`].
    Timeout(TimeoutPacket),
}

/// One entry appended to the message log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PacketEvent {
    /// Stable name: `packet_logged`, `ack_logged`, `error_ack_logged`, `timeout_logged`
    /// or `sequence_skip_logged`.
    pub action: &'static str,
    /// The entry kind.
    pub kind: EntryKind,
    /// Its log index.
    pub log_index: u64,
    /// The route the packet is handled on (`None`: no route covers its sequence space).
    pub route: Option<RouteId>,
    /// `PacketKey::hash` of the packet.
    pub key_hash: Hash32,
    /// `Packet::hash`.
    pub packet_hash: Hash32,
    /// Why, for error-acks and timeouts (`timeout_on_arrival`, `timeout_proven`); empty
    /// otherwise.
    pub reason: String,
}

impl PacketEvent {
    /// The stable action name of an entry kind.
    pub fn action_of(kind: EntryKind) -> &'static str {
        match kind {
            EntryKind::Packet => "packet_logged",
            EntryKind::Ack => "ack_logged",
            EntryKind::ErrorAck => "error_ack_logged",
            EntryKind::Timeout => "timeout_logged",
            EntryKind::SequenceSkip => "sequence_skip_logged",
            EntryKind::GatewayRetired => "gateway_retirement_logged",
        }
    }
}
