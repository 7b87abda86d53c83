//! Junction's packet core (DESIGN §4) as a pure state machine: `RecvPacket`,
//! `AckPacket` and `TimeoutPacket` in, typed message-log entries out. No I/O, no clock
//! (hub time is a parameter), no floats, no hash-map iteration.
//!
//! The hub verifies light-client headers and proofs first and hands this core the
//! *facts* (see [`input`]). The core then decides, deterministically:
//!
//! - **Exactly once**: one [`PacketRecord`] per packet key hash (source chain, source app,
//!   destination chain, sequence), never per route or log index. A second `RecvPacket`
//!   is refused (`already_received`, or `already_timed_out` for a key the hub timed out
//!   before it ever arrived).
//! - **Ordered routes**: per channel (source chain, source app, destination chain) the
//!   hub accepts only `next_recv`; every sequence used up, delivered or not, moves it.
//! - **Timeouts**: rule (a) — a `RecvPacket` whose destination's latest verified header
//!   is already past the deadline is timed out on arrival; rule (b) — `TimeoutPacket`
//!   (destination header past the deadline, no receipt there) times out a logged packet,
//!   or a packet the hub never received.
//! - **Policy**: a proven packet that breaks its route's policy
//!   ([`RouteTable::check_packet`], which the council implements) gets a final error-ack whose result is the rule's
//!   name; its sequence is used up. Otherwise the route's tokens are taken
//!   ([`RouteTable::execute_packet`]) and the packet is logged for its destination.
//! - **Exactly one outcome**: each key gets at most one `Ack` / `ErrorAck` / `Timeout`
//!   entry; on an ordered route every outcome without delivery is followed by a
//!   `SequenceSkip` entry for the destination, so the route never blocks.
//!
//! Each handler is split into `validate` (reads) and `execute` (writes), like ibc-rs;
//! [`PacketState::apply`] does both. [`PacketState::check_invariants`] re-derives the
//! records, channels and counters from the log. The rules are written out in
//! `spec/packets.md`.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod error;
pub mod handle;
pub mod input;
mod invariants;
pub mod policy;
pub mod state;

pub use error::{PacketError, PacketInvariantViolation};
pub use handle::{Plan, PlanStep};
pub use input::{
    AckKind, AckPacket, Bindings, DestHead, PacketEvent, PacketInput, RecvPacket, TimeoutPacket,
};
pub use policy::{PacketContext, PolicyRejection, RouteCover, RouteTable};
pub use state::{
    Channel, ChannelKey, MessageLog, NoPackets, Outcome, PacketReader, PacketRecord, PacketState,
    PacketStatus, RouteCounters, APP_REVERTED,
};
