//! Wire types of the hub: chain ids, block headers, transactions, checkpoints and
//! packets, each with its canonical encoding and its hash.
//!
//! Structs encode their fields in declaration order. Decoding enforces the structural
//! rules (caps, tags, chain-id alphabet); the `validate` methods add the semantic rules
//! that a value must meet before it is accepted on chain.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::encoding::{
    decode_bytes, encode_bytes, Decode, DecodeError, Encode, Reader, MAX_APP_ID_LEN,
    MAX_CHAIN_ID_LEN, MAX_PAYLOAD_BYTES, MAX_REMARK_BYTES, MAX_TX_BYTES,
};
use crate::gov::{ProposalKind, RouteId, VoteOption};
use crate::hash::{tagged_hash, Hash32, HashTag};

/// An account address: the first 20 bytes of a tagged hash of the account's public key.
pub type Address = [u8; 20];

/// The address of an ed25519 public key: the first 20 bytes of
/// `tagged_hash(Address, pubkey)`.
pub fn address_from_ed25519(pubkey: &[u8; 32]) -> Address {
    let digest = tagged_hash(HashTag::Address, pubkey);
    let mut out = [0u8; 20];
    for (dst, src) in out.iter_mut().zip(digest.iter()) {
        *dst = *src;
    }
    out
}

/// Why a string is not a valid chain id.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ChainIdError {
    /// The chain id is empty.
    #[error("chain id is empty")]
    Empty,
    /// The chain id is longer than [`MAX_CHAIN_ID_LEN`] bytes.
    #[error("chain id is {len} bytes long, the maximum is {max}")]
    TooLong {
        /// Its length in bytes.
        len: usize,
        /// The maximum.
        max: usize,
    },
    /// The chain id holds a byte outside `[a-z0-9._-]`.
    #[error("chain id byte {byte:#04x} at position {position} is not one of [a-z0-9._-]")]
    InvalidByte {
        /// Offset of the first offending byte.
        position: usize,
        /// The byte.
        byte: u8,
    },
}

/// A chain identifier: 1 to [`MAX_CHAIN_ID_LEN`] bytes of `[a-z0-9._-]`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ChainId(String);

impl ChainId {
    /// Validates `s` as a chain id.
    pub fn new(s: impl Into<String>) -> Result<Self, ChainIdError> {
        let s = s.into();
        Self::check(s.as_bytes())?;
        Ok(Self(s))
    }

    /// Checks the chain-id rules on raw bytes.
    pub fn check(bytes: &[u8]) -> Result<(), ChainIdError> {
        if bytes.is_empty() {
            return Err(ChainIdError::Empty);
        }
        if bytes.len() > MAX_CHAIN_ID_LEN {
            return Err(ChainIdError::TooLong {
                len: bytes.len(),
                max: MAX_CHAIN_ID_LEN,
            });
        }
        match bytes
            .iter()
            .position(|b| !matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'.' | b'_' | b'-'))
        {
            Some(position) => Err(ChainIdError::InvalidByte {
                position,
                byte: bytes.get(position).copied().unwrap_or(0),
            }),
            None => Ok(()),
        }
    }

    /// The chain id as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The chain id as an owned string.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl TryFrom<String> for ChainId {
    type Error = ChainIdError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::new(s)
    }
}

impl TryFrom<&str> for ChainId {
    type Error = ChainIdError;
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Self::new(s)
    }
}

impl core::str::FromStr for ChainId {
    type Err = ChainIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl From<ChainId> for String {
    fn from(id: ChainId) -> Self {
        id.0
    }
}

impl AsRef<str> for ChainId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl core::fmt::Display for ChainId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.0)
    }
}

/// `len (u32, 1..=64) || ASCII bytes of [a-z0-9._-]`.
impl Encode for ChainId {
    fn encode_to(&self, out: &mut Vec<u8>) {
        encode_bytes(self.0.as_bytes(), out);
    }
}

impl Decode for ChainId {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let bytes = r.read_bytes(MAX_CHAIN_ID_LEN)?;
        Self::check(bytes)?;
        // The alphabet is ASCII, so the bytes are UTF-8.
        let s = core::str::from_utf8(bytes).map_err(|_| DecodeError::InvalidUtf8)?;
        Ok(Self(s.to_owned()))
    }
}

/// A hub block header.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockHeader {
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

/// Why a transaction breaks a size rule.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TxError {
    /// Remark data longer than [`MAX_REMARK_BYTES`].
    #[error("remark data is {len} bytes, the maximum is {max}")]
    RemarkTooLarge {
        /// Its length.
        len: usize,
        /// The maximum.
        max: usize,
    },
    /// A proposal's content breaks its own bounds.
    #[error("invalid proposal: {0}")]
    InvalidProposal(crate::gov::ParamsError),
    /// A relay transaction without messages.
    #[error("relay transaction carries no message")]
    EmptyRelay,
    /// The encoded transaction is longer than [`MAX_TX_BYTES`].
    #[error("encoded transaction is {len} bytes, the maximum is {max}")]
    TooLarge {
        /// Its encoded length.
        len: usize,
        /// The maximum.
        max: usize,
    },
}

/// What a transaction does. Encoded as a tag byte followed by the variant's fields.
/// Tag `0x00` is never used; new kinds take new tags.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TxKind {
    /// Tag `0x01`: record opaque data on chain (at most [`MAX_REMARK_BYTES`]).
    Remark {
        /// The data.
        #[serde(with = "crate::serde_hex::bytes")]
        data: Vec<u8>,
    },
    /// Tag `0x02`: a council member submits a proposal (see `governance.md`).
    Propose {
        /// What the proposal does once passed (boxed: it is far larger than other kinds).
        proposal: Box<ProposalKind>,
        /// Shorter voting period, higher threshold.
        expedited: bool,
        /// Deposit offered (at least the council's minimum).
        #[serde(with = "crate::serde_hex::u128_str")]
        deposit: u128,
    },
    /// Tag `0x03`: a council member votes on a proposal.
    Vote {
        /// Proposal id.
        proposal_id: u64,
        /// The vote.
        option: VoteOption,
    },
    /// Tag `0x04`: a member's signature for pausing a route at once (the emergency brake).
    EmergencyPause {
        /// The route.
        route: RouteId,
    },
    /// Tag `0x05`: a member's signature for freezing a light client at once.
    EmergencyFreeze {
        /// The chain whose client is frozen.
        chain: ChainId,
    },
    /// Tag `0x06`: a registered relayer's messages (1 to [`crate::relay::MAX_RELAY_MSGS`]),
    /// executed in order; each succeeds or is refused on its own.
    Relay {
        /// The messages.
        msgs: Vec<crate::relay::RelayMsg>,
    },
}

impl TxKind {
    /// Tag byte of [`TxKind::Remark`].
    pub const TAG_REMARK: u8 = 0x01;
    /// Tag byte of [`TxKind::Propose`].
    pub const TAG_PROPOSE: u8 = 0x02;
    /// Tag byte of [`TxKind::Vote`].
    pub const TAG_VOTE: u8 = 0x03;
    /// Tag byte of [`TxKind::EmergencyPause`].
    pub const TAG_EMERGENCY_PAUSE: u8 = 0x04;
    /// Tag byte of [`TxKind::EmergencyFreeze`].
    pub const TAG_EMERGENCY_FREEZE: u8 = 0x05;
    /// Tag byte of [`TxKind::Relay`].
    pub const TAG_RELAY: u8 = 0x06;

    /// The tag byte of this kind.
    pub fn tag(&self) -> u8 {
        match self {
            TxKind::Remark { .. } => Self::TAG_REMARK,
            TxKind::Propose { .. } => Self::TAG_PROPOSE,
            TxKind::Vote { .. } => Self::TAG_VOTE,
            TxKind::EmergencyPause { .. } => Self::TAG_EMERGENCY_PAUSE,
            TxKind::EmergencyFreeze { .. } => Self::TAG_EMERGENCY_FREEZE,
            TxKind::Relay { .. } => Self::TAG_RELAY,
        }
    }

    /// Stable short name of the kind (events, metrics).
    pub fn name(&self) -> &'static str {
        match self {
            TxKind::Remark { .. } => "remark",
            TxKind::Propose { .. } => "propose",
            TxKind::Vote { .. } => "vote",
            TxKind::EmergencyPause { .. } => "emergency_pause",
            TxKind::EmergencyFreeze { .. } => "emergency_freeze",
            TxKind::Relay { .. } => "relay",
        }
    }

    /// Checks the size caps of this kind.
    pub fn validate(&self) -> Result<(), TxError> {
        match self {
            TxKind::Remark { data } if data.len() > MAX_REMARK_BYTES => {
                Err(TxError::RemarkTooLarge {
                    len: data.len(),
                    max: MAX_REMARK_BYTES,
                })
            }
            TxKind::Remark { .. } => Ok(()),
            TxKind::Propose { proposal, .. } => proposal.check().map_err(TxError::InvalidProposal),
            TxKind::Relay { msgs } if msgs.is_empty() => Err(TxError::EmptyRelay),
            TxKind::Relay { .. } => Ok(()),
            TxKind::Vote { .. }
            | TxKind::EmergencyPause { .. }
            | TxKind::EmergencyFreeze { .. } => Ok(()),
        }
    }
}

impl Encode for TxKind {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.push(self.tag());
        match self {
            TxKind::Remark { data } => encode_bytes(data, out),
            TxKind::Propose {
                proposal,
                expedited,
                deposit,
            } => {
                proposal.encode_to(out);
                expedited.encode_to(out);
                deposit.encode_to(out);
            }
            TxKind::Vote {
                proposal_id,
                option,
            } => {
                proposal_id.encode_to(out);
                option.encode_to(out);
            }
            TxKind::EmergencyPause { route } => route.encode_to(out),
            TxKind::EmergencyFreeze { chain } => chain.encode_to(out),
            TxKind::Relay { msgs } => crate::encoding::encode_vec(msgs, out),
        }
    }
}

impl Decode for TxKind {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match r.read_u8()? {
            Self::TAG_REMARK => Ok(TxKind::Remark {
                data: decode_bytes(r, MAX_REMARK_BYTES)?,
            }),
            Self::TAG_PROPOSE => Ok(TxKind::Propose {
                proposal: Box::new(ProposalKind::decode_from(r)?),
                expedited: Decode::decode_from(r)?,
                deposit: Decode::decode_from(r)?,
            }),
            Self::TAG_VOTE => Ok(TxKind::Vote {
                proposal_id: Decode::decode_from(r)?,
                option: Decode::decode_from(r)?,
            }),
            Self::TAG_EMERGENCY_PAUSE => Ok(TxKind::EmergencyPause {
                route: Decode::decode_from(r)?,
            }),
            Self::TAG_EMERGENCY_FREEZE => Ok(TxKind::EmergencyFreeze {
                chain: Decode::decode_from(r)?,
            }),
            Self::TAG_RELAY => Ok(TxKind::Relay {
                msgs: crate::encoding::decode_vec(r, crate::relay::MAX_RELAY_MSGS)?,
            }),
            tag => Err(DecodeError::InvalidTag {
                what: "tx kind",
                tag,
            }),
        }
    }
}

/// The signed part of a transaction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxBody {
    /// The hub chain id (prevents replay on another hub).
    pub chain_id: ChainId,
    /// The signer's ed25519 public key.
    #[serde(with = "crate::serde_hex::array")]
    pub signer: [u8; 32],
    /// The signer's account nonce.
    pub nonce: u64,
    /// What the transaction does.
    pub kind: TxKind,
}

impl TxBody {
    /// The 32-byte message the signer signs: `tagged_hash(TxSignBytes, encoding)`.
    pub fn sign_bytes(&self) -> Hash32 {
        tagged_hash(HashTag::TxSignBytes, &self.to_bytes())
    }

    /// The body id, independent of the signature: `tagged_hash(TxBody, encoding)`.
    pub fn hash(&self) -> Hash32 {
        tagged_hash(HashTag::TxBody, &self.to_bytes())
    }

    /// The signer's account address.
    pub fn signer_address(&self) -> Address {
        address_from_ed25519(&self.signer)
    }

    /// Checks the size caps of the body.
    pub fn validate(&self) -> Result<(), TxError> {
        self.kind.validate()
    }
}

impl Encode for TxBody {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.chain_id.encode_to(out);
        self.signer.encode_to(out);
        self.nonce.encode_to(out);
        self.kind.encode_to(out);
    }
}

impl Decode for TxBody {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            chain_id: Decode::decode_from(r)?,
            signer: Decode::decode_from(r)?,
            nonce: Decode::decode_from(r)?,
            kind: Decode::decode_from(r)?,
        })
    }
}

/// A transaction with its ed25519 signature over [`TxBody::sign_bytes`]. The signature
/// is checked by the hub, not here.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedTx {
    /// The signed body.
    pub body: TxBody,
    /// The ed25519 signature.
    #[serde(with = "crate::serde_hex::array")]
    pub signature: [u8; 64],
}

impl SignedTx {
    /// The transaction id: `tagged_hash(TxEnvelope, encoding)`.
    pub fn hash(&self) -> Hash32 {
        tagged_hash(HashTag::TxEnvelope, &self.to_bytes())
    }

    /// Checks the size caps, including [`MAX_TX_BYTES`] on the whole encoding.
    pub fn validate(&self) -> Result<(), TxError> {
        self.body.validate()?;
        let len = self.to_bytes().len();
        if len > MAX_TX_BYTES {
            return Err(TxError::TooLarge {
                len,
                max: MAX_TX_BYTES,
            });
        }
        Ok(())
    }
}

impl Encode for SignedTx {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.body.encode_to(out);
        self.signature.encode_to(out);
    }
}

/// Also rejects an encoding longer than [`MAX_TX_BYTES`].
impl Decode for SignedTx {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let before = r.remaining();
        let tx = Self {
            body: Decode::decode_from(r)?,
            signature: Decode::decode_from(r)?,
        };
        let len = before.saturating_sub(r.remaining());
        if len > MAX_TX_BYTES {
            return Err(DecodeError::LengthTooLarge {
                len,
                max: MAX_TX_BYTES,
            });
        }
        Ok(tx)
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
