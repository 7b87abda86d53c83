//! Junction protocol specification: wire types, their canonical binary encoding,
//! domain-separated hashing and the RFC 6962 message log.
//!
//! This crate is pure: no I/O, no clock, no floating point, no randomness. The same
//! input produces the same bytes on every machine. The prose specification lives next
//! to it in `spec/encoding.md` and `spec/hashing.md`.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod attestation;
pub mod encoding;
pub mod gov;
pub mod hash;
pub mod id;
pub mod log;
pub mod merkle;
pub mod merkle_store;
pub mod relay;
pub mod serde_hex;
#[cfg(feature = "testkit")]
pub mod testkit;
pub mod tx;
pub mod types;
pub mod validators;

pub use encoding::{
    Decode, DecodeError, Encode, Reader, MAX_APP_ID_LEN, MAX_CHAIN_ID_LEN, MAX_PAYLOAD_BYTES,
    MAX_REMARK_BYTES, MAX_STRING_BYTES, MAX_TX_BYTES,
};
pub use gov::*;
pub use hash::{tagged_hash, tagged_hash_parts, Hash32, HashTag};
pub use id::*;
pub use log::{
    ack_commitment, evm_target_binding, hub_target_binding, EntryKind, LogEntry, LogEntryError,
    PacketKey, RetirementNotice, MAX_RESULT_BYTES,
};
pub use merkle::{MerkleError, MerkleFrontier};
pub use relay::{RelayMsg, SourceProof};
pub use tx::*;
pub use types::*;
pub use validators::{attestation_set_of, validator_set_hash, HubValidator, ValidatorSchedule};
