//! Ethereum block headers: strict RLP decoding and encoding, and the block hash.
//!
//! The header is the RLP list of the 15 pre-London fields followed by the optional fields
//! added by later forks, in this order: `baseFeePerGas` (London), `withdrawalsRoot`
//! (Shanghai), `blobGasUsed` and `excessBlobGas` (Cancun), `parentBeaconBlockRoot` (Cancun),
//! `requestsHash` (Prague). A later optional field can only be present when every earlier
//! one is, which the decoder enforces simply by reading them in order until the list ends.
//!
//! Only the canonical encoding is accepted: the decoded header is encoded again and must
//! give back the input byte for byte. Two encodings of one header would otherwise have two
//! hashes, and a light client keyed by hash must see exactly one.

use alloy_primitives::U256;
use alloy_rlp::{BufMut, Decodable, Encodable};
use sha3::{Digest, Keccak256};
use thiserror::Error;

/// Largest RLP header accepted, in bytes. A mainnet header is about 600 bytes; a QBFT header
/// with [`crate::evm::qbft::MAX_VALIDATORS`] validators and as many seals stays below this.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// Largest `extraData` accepted, in bytes (Ethereum mainnet allows 32; BFT chains put the
/// validator list and the seals there).
pub const MAX_EXTRA_DATA_BYTES: usize = 15 * 1024;

/// Why a header encoding was refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum HeaderError {
    /// The encoding is longer than [`MAX_HEADER_BYTES`].
    #[error("header is {len} bytes, more than the {max} allowed")]
    TooLarge {
        /// Length of the input.
        len: usize,
        /// The bound.
        max: usize,
    },
    /// `extraData` is longer than [`MAX_EXTRA_DATA_BYTES`].
    #[error("extraData is {len} bytes, more than the {max} allowed")]
    ExtraDataTooLarge {
        /// Length of `extraData`.
        len: usize,
        /// The bound.
        max: usize,
    },
    /// The bytes are not valid RLP of the expected shape.
    #[error("malformed RLP header: {what}")]
    Malformed {
        /// What was wrong.
        what: &'static str,
    },
    /// Valid RLP, but not the single canonical encoding of the header.
    #[error("header RLP is not canonical")]
    NonCanonical,
    /// Bytes follow the header's RLP list.
    #[error("bytes after the header's RLP list")]
    TrailingBytes,
    /// A mandatory field is missing.
    #[error("header field {field} is missing")]
    MissingField {
        /// The field's name.
        field: &'static str,
    },
    /// The list holds more fields than any known fork defines.
    #[error("header has more fields than any known fork defines")]
    TooManyFields,
}

impl crate::NamedError for HeaderError {
    fn name(&self) -> &'static str {
        match self {
            HeaderError::TooLarge { .. } => "header_too_large",
            HeaderError::ExtraDataTooLarge { .. } => "extra_data_too_large",
            HeaderError::Malformed { .. } => "malformed_rlp",
            HeaderError::NonCanonical => "non_canonical_rlp",
            HeaderError::TrailingBytes => "trailing_bytes",
            HeaderError::MissingField { .. } => "missing_field",
            HeaderError::TooManyFields => "too_many_fields",
        }
    }
}

/// Map an RLP error, keeping non-canonical encodings apart from plain garbage.
pub(crate) fn rlp_error(err: alloy_rlp::Error) -> HeaderError {
    match err {
        alloy_rlp::Error::LeadingZero
        | alloy_rlp::Error::NonCanonicalSingleByte
        | alloy_rlp::Error::NonCanonicalSize => HeaderError::NonCanonical,
        alloy_rlp::Error::Overflow => HeaderError::Malformed {
            what: "integer overflow",
        },
        alloy_rlp::Error::InputTooShort => HeaderError::Malformed {
            what: "input too short",
        },
        alloy_rlp::Error::UnexpectedList => HeaderError::Malformed {
            what: "list where a string was expected",
        },
        alloy_rlp::Error::UnexpectedString => HeaderError::Malformed {
            what: "string where a list was expected",
        },
        alloy_rlp::Error::UnexpectedLength => HeaderError::Malformed {
            what: "string of the wrong length",
        },
        _ => HeaderError::Malformed {
            what: "invalid RLP",
        },
    }
}

/// Read one RLP string item, advancing `buf`.
pub(crate) fn take_bytes<'a>(buf: &mut &'a [u8]) -> Result<&'a [u8], HeaderError> {
    alloy_rlp::Header::decode_bytes(buf, false).map_err(rlp_error)
}

/// Read one RLP list item and return its payload, advancing `buf`.
pub(crate) fn take_list<'a>(buf: &mut &'a [u8]) -> Result<&'a [u8], HeaderError> {
    alloy_rlp::Header::decode_bytes(buf, true).map_err(rlp_error)
}

/// Read a string of exactly `N` bytes.
pub(crate) fn take_fixed<const N: usize>(buf: &mut &[u8]) -> Result<[u8; N], HeaderError> {
    let bytes = take_bytes(buf)?;
    <[u8; N]>::try_from(bytes).map_err(|_| HeaderError::Malformed {
        what: "string of the wrong length",
    })
}

fn take_u64(buf: &mut &[u8]) -> Result<u64, HeaderError> {
    u64::decode(buf).map_err(rlp_error)
}

fn take_u256(buf: &mut &[u8]) -> Result<U256, HeaderError> {
    U256::decode(buf).map_err(rlp_error)
}

/// keccak256 of `data`.
pub fn keccak256(data: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(&Keccak256::digest(data));
    out
}

/// An Ethereum block header, every fork up to Prague.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EvmHeader {
    /// Hash of the parent block.
    pub parent_hash: [u8; 32],
    /// Hash of the ommers list.
    pub ommers_hash: [u8; 32],
    /// Fee recipient (`coinbase`).
    pub beneficiary: [u8; 20],
    /// Root of the state trie after the block.
    pub state_root: [u8; 32],
    /// Root of the transactions trie.
    pub transactions_root: [u8; 32],
    /// Root of the receipts trie.
    pub receipts_root: [u8; 32],
    /// Logs bloom filter.
    pub logs_bloom: Box<[u8; 256]>,
    /// Difficulty (1 on BFT chains, 0 after the Merge).
    pub difficulty: U256,
    /// Block number.
    pub number: u64,
    /// Gas limit.
    pub gas_limit: u64,
    /// Gas used.
    pub gas_used: u64,
    /// Timestamp, seconds since the Unix epoch.
    pub timestamp: u64,
    /// Extra data (the BFT extraData on QBFT / IBFT chains).
    pub extra_data: Vec<u8>,
    /// Mix hash (`prevRandao` after the Merge; a fixed marker on BFT chains).
    pub mix_hash: [u8; 32],
    /// Nonce.
    pub nonce: [u8; 8],
    /// London base fee.
    pub base_fee_per_gas: Option<U256>,
    /// Shanghai withdrawals root.
    pub withdrawals_root: Option<[u8; 32]>,
    /// Cancun blob gas used.
    pub blob_gas_used: Option<u64>,
    /// Cancun excess blob gas.
    pub excess_blob_gas: Option<u64>,
    /// Cancun parent beacon block root.
    pub parent_beacon_block_root: Option<[u8; 32]>,
    /// Prague requests hash.
    pub requests_hash: Option<[u8; 32]>,
}

impl EvmHeader {
    /// Decode a header, refusing anything but the canonical encoding of at most
    /// [`MAX_HEADER_BYTES`] bytes with nothing after it.
    pub fn decode(rlp: &[u8]) -> Result<Self, HeaderError> {
        if rlp.len() > MAX_HEADER_BYTES {
            return Err(HeaderError::TooLarge {
                len: rlp.len(),
                max: MAX_HEADER_BYTES,
            });
        }
        let mut outer = rlp;
        let mut buf = take_list(&mut outer)?;
        if !outer.is_empty() {
            return Err(HeaderError::TrailingBytes);
        }
        let b = &mut buf;
        macro_rules! need {
            ($field:literal, $read:expr) => {{
                if b.is_empty() {
                    return Err(HeaderError::MissingField { field: $field });
                }
                $read
            }};
        }
        let parent_hash = need!("parentHash", take_fixed::<32>(b)?);
        let ommers_hash = need!("ommersHash", take_fixed::<32>(b)?);
        let beneficiary = need!("beneficiary", take_fixed::<20>(b)?);
        let state_root = need!("stateRoot", take_fixed::<32>(b)?);
        let transactions_root = need!("transactionsRoot", take_fixed::<32>(b)?);
        let receipts_root = need!("receiptsRoot", take_fixed::<32>(b)?);
        let logs_bloom = Box::new(need!("logsBloom", take_fixed::<256>(b)?));
        let difficulty = need!("difficulty", take_u256(b)?);
        let number = need!("number", take_u64(b)?);
        let gas_limit = need!("gasLimit", take_u64(b)?);
        let gas_used = need!("gasUsed", take_u64(b)?);
        let timestamp = need!("timestamp", take_u64(b)?);
        let extra = need!("extraData", take_bytes(b)?);
        if extra.len() > MAX_EXTRA_DATA_BYTES {
            return Err(HeaderError::ExtraDataTooLarge {
                len: extra.len(),
                max: MAX_EXTRA_DATA_BYTES,
            });
        }
        let mix_hash = need!("mixHash", take_fixed::<32>(b)?);
        let nonce = need!("nonce", take_fixed::<8>(b)?);
        let mut header = EvmHeader {
            parent_hash,
            ommers_hash,
            beneficiary,
            state_root,
            transactions_root,
            receipts_root,
            logs_bloom,
            difficulty,
            number,
            gas_limit,
            gas_used,
            timestamp,
            extra_data: extra.to_vec(),
            mix_hash,
            nonce,
            base_fee_per_gas: None,
            withdrawals_root: None,
            blob_gas_used: None,
            excess_blob_gas: None,
            parent_beacon_block_root: None,
            requests_hash: None,
        };
        if !b.is_empty() {
            header.base_fee_per_gas = Some(take_u256(b)?);
        }
        if !b.is_empty() {
            header.withdrawals_root = Some(take_fixed::<32>(b)?);
        }
        if !b.is_empty() {
            header.blob_gas_used = Some(take_u64(b)?);
        }
        if !b.is_empty() {
            header.excess_blob_gas = Some(take_u64(b)?);
        }
        if !b.is_empty() {
            header.parent_beacon_block_root = Some(take_fixed::<32>(b)?);
        }
        if !b.is_empty() {
            header.requests_hash = Some(take_fixed::<32>(b)?);
        }
        if !b.is_empty() {
            return Err(HeaderError::TooManyFields);
        }
        // The item decoders already refuse non-minimal lengths and integers; comparing the
        // re-encoding closes whatever gap remains, so one header has exactly one encoding.
        if header.encode() != rlp {
            return Err(HeaderError::NonCanonical);
        }
        Ok(header)
    }

    /// The canonical RLP encoding.
    pub fn encode(&self) -> Vec<u8> {
        self.encode_with_extra(&self.extra_data)
    }

    /// The encoding with `extraData` replaced by `extra` (how BFT chains hash a header
    /// without its seals).
    pub fn encode_with_extra(&self, extra: &[u8]) -> Vec<u8> {
        let mut payload = Vec::with_capacity(600 + extra.len());
        {
            let out: &mut dyn BufMut = &mut payload;
            self.parent_hash.encode(out);
            self.ommers_hash.encode(out);
            self.beneficiary.encode(out);
            self.state_root.encode(out);
            self.transactions_root.encode(out);
            self.receipts_root.encode(out);
            self.logs_bloom.as_slice().encode(out);
            self.difficulty.encode(out);
            self.number.encode(out);
            self.gas_limit.encode(out);
            self.gas_used.encode(out);
            self.timestamp.encode(out);
            extra.encode(out);
            self.mix_hash.encode(out);
            self.nonce.encode(out);
            // Stop at the first absent optional field: a later field without the earlier
            // ones has no encoding (decode could never produce such a header either).
            if let Some(v) = &self.base_fee_per_gas {
                v.encode(out);
                if let Some(v) = &self.withdrawals_root {
                    v.encode(out);
                    if let Some(v) = &self.blob_gas_used {
                        v.encode(out);
                        if let Some(v) = &self.excess_blob_gas {
                            v.encode(out);
                            if let Some(v) = &self.parent_beacon_block_root {
                                v.encode(out);
                                if let Some(v) = &self.requests_hash {
                                    v.encode(out);
                                }
                            }
                        }
                    }
                }
            }
        }
        let mut out = Vec::with_capacity(payload.len() + 9);
        alloy_rlp::Header {
            list: true,
            payload_length: payload.len(),
        }
        .encode(&mut out);
        out.extend_from_slice(&payload);
        out
    }

    /// The block hash: keccak256 of the canonical encoding. (QBFT chains hash differently;
    /// see [`crate::evm::qbft::QbftHeader::block_hash`].)
    pub fn hash(&self) -> [u8; 32] {
        keccak256(&self.encode())
    }
}

/// Decode a header from raw bytes (fuzz entry point).
pub fn decode_header(rlp: &[u8]) -> Result<EvmHeader, HeaderError> {
    EvmHeader::decode(rlp)
}

/// The block hash of a raw header, after checking that it decodes canonically.
pub fn header_hash(rlp: &[u8]) -> Result<[u8; 32], HeaderError> {
    EvmHeader::decode(rlp)?;
    Ok(keccak256(rlp))
}
