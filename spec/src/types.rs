//! Wire types of the hub: block headers, checkpoints, timeouts and packets, each with its canonical encoding and its hash.
//!
//! Structs encode their fields in declaration order. Decoding enforces the structural
//! rules (caps, tags, chain-id alphabet); the `validate` methods add the semantic rules
//! that a value must meet before it is accepted on chain.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::encoding::{
    decode_bytes, encode_bytes, Decode, DecodeError, Encode, Reader, MAX_APP_ID_LEN,
    MAX_PAYLOAD_BYTES,
};
use crate::hash::{tagged_hash, Hash32, HashTag};
use crate::id::{Address, ChainId};

/// The protocol version a hub starts with (its genesis).
pub const GENESIS_PROTOCOL_VERSION: u32 = 1;

/// A hub block header.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockHeader {
    /// The protocol version whose rules made this block (`spec/upgrades.md`): the
    /// genesis version until a scheduled upgrade's height moves it up by one.
    pub version: u32,
    /// The hub's chain id.
    pub chain_id: ChainId,
    /// Block height (the first block is height 1).
    pub height: u64,
    /// Proposer's time, in milliseconds since the Unix epoch.
    pub time_ms: u64,
    /// Hash of the previous block header (zero for the first block).
    #[serde(with = "crate::serde_hex::array")]
    pub prev_block_hash: Hash32,
    /// State root after the previous block.
    #[serde(with = "crate::serde_hex::array")]
    pub app_hash: Hash32,
    /// Message-log size after this block.
    pub log_size: u64,
    /// Message-log root after this block.
    #[serde(with = "crate::serde_hex::array")]
    pub log_root: Hash32,
    /// Hash of the validator set that decides this block.
    #[serde(with = "crate::serde_hex::array")]
    pub validators_hash: Hash32,
    /// Hash of the validator set of the next block.
    #[serde(with = "crate::serde_hex::array")]
    pub next_validators_hash: Hash32,
    /// Address of the proposer.
    #[serde(with = "crate::serde_hex::array")]
    pub proposer: Address,
    /// Commitment to the block's transactions.
    #[serde(with = "crate::serde_hex::array")]
    pub tx_root: Hash32,
}

impl BlockHeader {
    /// The block id: `tagged_hash(BlockHeader, encoding)`.
    pub fn hash(&self) -> Hash32 {
        tagged_hash(HashTag::BlockHeader, &self.to_bytes())
    }
}

impl Encode for BlockHeader {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.version.encode_to(out);
        self.chain_id.encode_to(out);
        self.height.encode_to(out);
        self.time_ms.encode_to(out);
        self.prev_block_hash.encode_to(out);
        self.app_hash.encode_to(out);
        self.log_size.encode_to(out);
        self.log_root.encode_to(out);
        self.validators_hash.encode_to(out);
        self.next_validators_hash.encode_to(out);
        self.proposer.encode_to(out);
        self.tx_root.encode_to(out);
    }
}

impl Decode for BlockHeader {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            version: Decode::decode_from(r)?,
            chain_id: Decode::decode_from(r)?,
            height: Decode::decode_from(r)?,
            time_ms: Decode::decode_from(r)?,
            prev_block_hash: Decode::decode_from(r)?,
            app_hash: Decode::decode_from(r)?,
            log_size: Decode::decode_from(r)?,
            log_root: Decode::decode_from(r)?,
            validators_hash: Decode::decode_from(r)?,
            next_validators_hash: Decode::decode_from(r)?,
            proposer: Decode::decode_from(r)?,
            tx_root: Decode::decode_from(r)?,
        })
    }
}

/// What validators attest to after each block: the hub's light-client header for
/// other chains.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The hub's chain id.
    pub hub_chain_id: ChainId,
    /// Hub height of the block this checkpoint follows.
    pub height: u64,
    /// That block's time, in milliseconds since the Unix epoch.
    pub time_ms: u64,
    /// Message-log size after that block.
    pub log_size: u64,
    /// Message-log root after that block.
    #[serde(with = "crate::serde_hex::array")]
    pub log_root: Hash32,
    /// Hash of the attestation set that signs this checkpoint.
    #[serde(with = "crate::serde_hex::array")]
    pub attestation_set_hash: Hash32,
    /// Hash of the attestation set that signs the next checkpoint.
    #[serde(with = "crate::serde_hex::array")]
    pub next_attestation_set_hash: Hash32,
}

impl Checkpoint {
    /// The checkpoint id: `tagged_hash(Checkpoint, encoding)`.
    pub fn hash(&self) -> Hash32 {
        tagged_hash(HashTag::Checkpoint, &self.to_bytes())
    }
}

impl Encode for Checkpoint {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.hub_chain_id.encode_to(out);
        self.height.encode_to(out);
        self.time_ms.encode_to(out);
        self.log_size.encode_to(out);
        self.log_root.encode_to(out);
        self.attestation_set_hash.encode_to(out);
        self.next_attestation_set_hash.encode_to(out);
    }
}

impl Decode for Checkpoint {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            hub_chain_id: Decode::decode_from(r)?,
            height: Decode::decode_from(r)?,
            time_ms: Decode::decode_from(r)?,
            log_size: Decode::decode_from(r)?,
            log_root: Decode::decode_from(r)?,
            attestation_set_hash: Decode::decode_from(r)?,
            next_attestation_set_hash: Decode::decode_from(r)?,
        })
    }
}

/// A packet deadline on the destination chain, in that chain's own height and time.
/// A zero field puts no bound on that axis.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Timeout {
    /// Destination height at which the packet times out (0 = none).
    pub height: u64,
    /// Destination time, in milliseconds since the Unix epoch, at which the packet
    /// times out (0 = none).
    pub time_ms: u64,
}

impl Timeout {
    /// True when neither axis is bounded.
    pub fn is_unbounded(&self) -> bool {
        self.height == 0 && self.time_ms == 0
    }

    /// True when a destination block at `height` / `time_ms` is at or past the deadline
    /// on either bounded axis (the packet can no longer be received there).
    pub fn is_reached(&self, height: u64, time_ms: u64) -> bool {
        (self.height != 0 && height >= self.height)
            || (self.time_ms != 0 && time_ms >= self.time_ms)
    }
}

impl Encode for Timeout {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.height.encode_to(out);
        self.time_ms.encode_to(out);
    }
}

impl Decode for Timeout {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            height: Decode::decode_from(r)?,
            time_ms: Decode::decode_from(r)?,
        })
    }
}

/// Why a packet is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PacketError {
    /// The version is not [`Packet::VERSION`].
    #[error("unsupported packet version {0}")]
    UnsupportedVersion(u8),
    /// The source or destination app id is empty.
    #[error("{which} app id is empty")]
    EmptyAppId {
        /// `"source"` or `"destination"`.
        which: &'static str,
    },
    /// The source or destination app id is longer than [`MAX_APP_ID_LEN`].
    #[error("{which} app id is {len} bytes, the maximum is {max}")]
    AppIdTooLong {
        /// `"source"` or `"destination"`.
        which: &'static str,
        /// Its length.
        len: usize,
        /// The maximum.
        max: usize,
    },
    /// The payload is longer than [`MAX_PAYLOAD_BYTES`].
    #[error("payload is {len} bytes, the maximum is {max}")]
    PayloadTooLarge {
        /// Its length.
        len: usize,
        /// The maximum.
        max: usize,
    },
    /// Neither timeout axis is bounded.
    #[error("packet has no timeout: set a height, a time, or both")]
    NoTimeout,
    /// Sequences start at 1.
    #[error("packet sequence 0 is not allowed: sequences start at 1")]
    ZeroSequence,
}

/// A cross-chain message. Its identity is [`Packet::hash`]; its key for exactly-once
/// delivery is (source chain, source app, destination chain, sequence).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Packet {
    /// Format version; only [`Packet::VERSION`] is defined. It selects the layout of
    /// the rest of the encoding, so the decoder rejects other values.
    pub version: u8,
    /// The chain the packet comes from.
    pub source_chain: ChainId,
    /// The sending app on the source chain (at most [`MAX_APP_ID_LEN`] bytes).
    #[serde(with = "crate::serde_hex::bytes")]
    pub source_app: Vec<u8>,
    /// Sequence number per (source chain, source app, destination chain), from 1.
    pub sequence: u64,
    /// The chain the packet goes to.
    pub dest_chain: ChainId,
    /// The receiving app on the destination chain (at most [`MAX_APP_ID_LEN`] bytes).
    #[serde(with = "crate::serde_hex::bytes")]
    pub dest_app: Vec<u8>,
    /// Application data (at most [`MAX_PAYLOAD_BYTES`]; routes may cap it lower).
    #[serde(with = "crate::serde_hex::bytes")]
    pub payload: Vec<u8>,
    /// Deadline on the destination chain.
    pub timeout: Timeout,
    /// Gas the destination gateway must give the destination app (EVM gas; other
    /// ledgers interpret it in their own unit, 0 where they have none).
    pub gas_limit: u64,
    /// Fee offered to relayers, in the source chain's smallest unit.
    #[serde(with = "crate::serde_hex::u128_str")]
    pub fee: u128,
}

impl Packet {
    /// The only defined packet format version.
    pub const VERSION: u8 = 1;

    /// The packet identity: `tagged_hash(Packet, encoding)`.
    pub fn hash(&self) -> Hash32 {
        tagged_hash(HashTag::Packet, &self.to_bytes())
    }

    /// Checks the rules a packet must meet to be accepted: known version, non-empty app
    /// ids within [`MAX_APP_ID_LEN`], payload within [`MAX_PAYLOAD_BYTES`], a sequence
    /// of at least 1, and a timeout bounded on at least one axis.
    pub fn validate(&self) -> Result<(), PacketError> {
        if self.version != Self::VERSION {
            return Err(PacketError::UnsupportedVersion(self.version));
        }
        for (which, app) in [
            ("source", &self.source_app),
            ("destination", &self.dest_app),
        ] {
            if app.is_empty() {
                return Err(PacketError::EmptyAppId { which });
            }
            if app.len() > MAX_APP_ID_LEN {
                return Err(PacketError::AppIdTooLong {
                    which,
                    len: app.len(),
                    max: MAX_APP_ID_LEN,
                });
            }
        }
        if self.payload.len() > MAX_PAYLOAD_BYTES {
            return Err(PacketError::PayloadTooLarge {
                len: self.payload.len(),
                max: MAX_PAYLOAD_BYTES,
            });
        }
        if self.sequence == 0 {
            return Err(PacketError::ZeroSequence);
        }
        if self.timeout.is_unbounded() {
            return Err(PacketError::NoTimeout);
        }
        Ok(())
    }
}

impl Encode for Packet {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.version.encode_to(out);
        self.source_chain.encode_to(out);
        encode_bytes(&self.source_app, out);
        self.sequence.encode_to(out);
        self.dest_chain.encode_to(out);
        encode_bytes(&self.dest_app, out);
        encode_bytes(&self.payload, out);
        self.timeout.encode_to(out);
        self.gas_limit.encode_to(out);
        self.fee.encode_to(out);
    }
}

impl Decode for Packet {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let version = r.read_u8()?;
        if version != Self::VERSION {
            return Err(DecodeError::InvalidTag {
                what: "packet version",
                tag: version,
            });
        }
        Ok(Self {
            version,
            source_chain: Decode::decode_from(r)?,
            source_app: decode_bytes(r, MAX_APP_ID_LEN)?,
            sequence: Decode::decode_from(r)?,
            dest_chain: Decode::decode_from(r)?,
            dest_app: decode_bytes(r, MAX_APP_ID_LEN)?,
            payload: decode_bytes(r, MAX_PAYLOAD_BYTES)?,
            timeout: Decode::decode_from(r)?,
            gas_limit: Decode::decode_from(r)?,
            fee: Decode::decode_from(r)?,
        })
    }
}
