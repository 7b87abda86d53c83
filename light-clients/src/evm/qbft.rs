//! QBFT (Hyperledger Besu / GoQuorum) sealed headers and the light client that follows them.
//!
//! A QBFT header carries in `extraData` the RLP list
//! `[vanity (32 bytes), [validators], vote, round, [commit seals]]`, where `vote` is `[]` or
//! `[recipient, 0xff (add) | 0x00 (drop)]` and each commit seal is a 65-byte `r || s || v`
//! secp256k1 signature (v = 0 or 1).
//!
//! Two hashes matter (as checked against the Consensys `qbft-tests` vectors, see
//! `docs/evm.md`):
//! - the **block hash** (what the next header's `parentHash` names) is keccak256 of the
//!   header with `extraData = RLP([vanity, validators, vote])`: round and seals removed;
//! - the **commit-seal digest** every validator signs is keccak256 of the header with
//!   `extraData = RLP([vanity, validators, vote, round])`: only the seals removed, the round
//!   kept exactly as encoded.
//!
//! Header N must carry distinct commit seals from at least ⌈2n/3⌉ of the n validators
//! listed in header N itself (Besu checks that list against the validators after block
//! N−1). The light client accepts that list only when it equals the trusted one (header
//! N−1's) or differs from it by exactly the single add/drop that header N−1 voted for.
//! Whether that vote really reached Besu's majority tally is not re-counted, and contract-
//! based validator selection is not covered at all.

use crate::evm::history::{ConsensusHistory, HeaderTime, HistoryError};
use std::collections::BTreeMap;

use alloy_rlp::{BufMut, Encodable};
#[cfg(any(test, feature = "testkit"))]
use k256::ecdsa::SigningKey;
use thiserror::Error;

use super::header::{keccak256, take_bytes, take_fixed, take_list, EvmHeader, HeaderError};
use super::secp::{recover_address, SigError};
use crate::{ClientStatus, LightClient, NamedError, Timestamp};

/// Most validators a QBFT header may list.
pub const MAX_VALIDATORS: usize = 128;
/// Most commit seals a header may carry.
pub const MAX_SEALS: usize = MAX_VALIDATORS;
/// Most consensus states a client keeps; the oldest are dropped first.
pub use crate::evm::history::MAX_HISTORY;
/// Length of the vanity prefix of `extraData`.
pub const VANITY_LEN: usize = 32;

/// Why a QBFT header, update, proof or misbehaviour was refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum QbftError {
    /// The header itself does not decode.
    #[error("header: {0}")]
    Header(#[from] HeaderError),
    /// `extraData` is not the QBFT RLP list.
    #[error("malformed QBFT extraData: {what}")]
    MalformedExtraData {
        /// What was wrong.
        what: &'static str,
    },
    /// The round is not a 4-byte integer nor a minimal RLP scalar.
    #[error("round is not canonically encoded")]
    NonCanonicalRound,
    /// The vote type byte is neither 0xff (add) nor 0x00 (drop).
    #[error("vote type {byte:#04x} is neither add (0xff) nor drop (0x00)")]
    BadVoteType {
        /// The byte found.
        byte: u8,
    },
    /// More validators than [`MAX_VALIDATORS`].
    #[error("{got} validators, more than the {max} allowed")]
    TooManyValidators {
        /// Validators listed.
        got: usize,
        /// The bound.
        max: usize,
    },
    /// More seals than [`MAX_SEALS`].
    #[error("{got} seals, more than the {max} allowed")]
    TooManySeals {
        /// Seals carried.
        got: usize,
        /// The bound.
        max: usize,
    },
    /// A validator list is empty.
    #[error("the validator set is empty")]
    EmptyValidatorSet,
    /// A validator is listed twice.
    #[error("validator 0x{} is listed twice", hex::encode(validator))]
    DuplicateValidator {
        /// The repeated address.
        validator: [u8; 20],
    },
    /// A seal's recovery byte is not 0 or 1.
    #[error("seal {index}: recovery byte {v} is not 0 or 1")]
    BadRecoveryId {
        /// Position of the seal.
        index: usize,
        /// The byte found.
        v: u8,
    },
    /// A seal is not a valid secp256k1 signature.
    #[error("seal {index} is not a valid signature")]
    InvalidSignature {
        /// Position of the seal.
        index: usize,
    },
    /// A seal has a high S value.
    #[error("seal {index} has a high S value")]
    HighS {
        /// Position of the seal.
        index: usize,
    },
    /// A seal recovers to an address outside the validator set.
    #[error(
        "seal {index} was signed by 0x{}, not a validator",
        hex::encode(signer)
    )]
    SignerNotValidator {
        /// Position of the seal.
        index: usize,
        /// The recovered address.
        signer: [u8; 20],
    },
    /// Two seals recover to one validator.
    #[error("validator 0x{} sealed twice", hex::encode(signer))]
    DuplicateSigner {
        /// The repeated signer.
        signer: [u8; 20],
    },
    /// Fewer distinct validator seals than the quorum.
    #[error("{got} validator seals, need {need}")]
    InsufficientSeals {
        /// Distinct validator seals.
        got: usize,
        /// ⌈2n/3⌉.
        need: usize,
    },
    /// The header does not follow the latest trusted height.
    #[error("header {got} does not follow trusted height {trusted}")]
    NonSequential {
        /// Latest trusted height.
        trusted: u64,
        /// The header's number.
        got: u64,
    },
    /// `parentHash` is not the trusted block hash.
    #[error("parent hash does not name the trusted block")]
    ParentHashMismatch,
    /// The timestamp is not after the parent's.
    #[error("timestamp {got} is not after the parent's {parent}")]
    TimestampNotIncreasing {
        /// Parent timestamp (s).
        parent: u64,
        /// Header timestamp (s).
        got: u64,
    },
    /// The timestamp is too far beyond `now`.
    #[error("timestamp {got} is beyond now + drift = {max}")]
    TimestampInFuture {
        /// Header timestamp (s).
        got: u64,
        /// Latest acceptable timestamp (s).
        max: u64,
    },
    /// The header lists validators that are neither the trusted set nor the trusted set
    /// changed by the vote of the trusted header.
    #[error("the validator set changed without a matching vote")]
    UnvotedValidatorSetChange,
    /// The client is frozen.
    #[error("client frozen at height {height}")]
    Frozen {
        /// Height of the proven misbehaviour.
        height: u64,
    },
    /// The trusted state is older than the trusting period.
    #[error("client expired")]
    Expired,
    /// No consensus state is kept at this height.
    #[error("no consensus state at height {height}")]
    UnknownHeight {
        /// The height asked for.
        height: u64,
    },
    /// Misbehaviour evidence names two different heights.
    #[error("misbehaviour headers are at heights {a} and {b}")]
    MisbehaviourHeightMismatch {
        /// First header's number.
        a: u64,
        /// Second header's number.
        b: u64,
    },
    /// Misbehaviour evidence names one block twice.
    #[error("misbehaviour headers have the same hash")]
    MisbehaviourSameHeader,
    /// The Merkle-Patricia proof was refused.
    #[error("state proof: {0}")]
    Proof(#[from] crate::evm::mpt::MptError),
    /// The configuration is out of bounds.
    #[error("invalid configuration: {what}")]
    InvalidConfig {
        /// What was wrong.
        what: &'static str,
    },
}

impl NamedError for QbftError {
    fn name(&self) -> &'static str {
        match self {
            QbftError::Header(e) => e.name(),
            QbftError::MalformedExtraData { .. } => "malformed_extra_data",
            QbftError::NonCanonicalRound => "non_canonical_round",
            QbftError::BadVoteType { .. } => "bad_vote_type",
            QbftError::TooManyValidators { .. } => "too_many_validators",
            QbftError::TooManySeals { .. } => "too_many_seals",
            QbftError::EmptyValidatorSet => "empty_validator_set",
            QbftError::DuplicateValidator { .. } => "duplicate_validator",
            QbftError::BadRecoveryId { .. } => "bad_recovery_id",
            QbftError::InvalidSignature { .. } => "invalid_signature",
            QbftError::HighS { .. } => "high_s",
            QbftError::SignerNotValidator { .. } => "signer_not_validator",
            QbftError::DuplicateSigner { .. } => "duplicate_signer",
            QbftError::InsufficientSeals { .. } => "insufficient_seals",
            QbftError::NonSequential { .. } => "non_sequential_height",
            QbftError::ParentHashMismatch => "parent_hash_mismatch",
            QbftError::TimestampNotIncreasing { .. } => "timestamp_not_increasing",
            QbftError::TimestampInFuture { .. } => "timestamp_in_future",
            QbftError::UnvotedValidatorSetChange => "unvoted_validator_set_change",
            QbftError::Frozen { .. } => "client_frozen",
            QbftError::Expired => "client_expired",
            QbftError::UnknownHeight { .. } => "unknown_height",
            QbftError::MisbehaviourHeightMismatch { .. } => "misbehaviour_height_mismatch",
            QbftError::MisbehaviourSameHeader => "misbehaviour_same_header",
            QbftError::Proof(e) => e.name(),
            QbftError::InvalidConfig { .. } => "invalid_config",
        }
    }
}

/// Direction of a validator vote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VoteType {
    /// Add the recipient (encoded 0xff).
    Add,
    /// Drop the recipient (encoded 0x00).
    Drop,
}

/// A proposer's vote to add or drop one validator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Vote {
    /// The validator voted on.
    pub recipient: [u8; 20],
    /// Add or drop.
    pub vote_type: VoteType,
}

/// How the round was encoded; kept so that a header re-encodes to the bytes that were
/// signed. Besu's QBFT codec of 2021 wrote a 4-byte integer (`0x8400fedcba`), later
/// versions and the block inside the vectors' QBFT messages a minimal scalar (`0x80`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RoundEncoding {
    /// Exactly four big-endian bytes.
    FixedWidth,
    /// Minimal big-endian bytes (empty for 0), fewer than four.
    Scalar,
}

/// How an absent vote was encoded; kept so the header re-encodes to the signed bytes. The
/// 2021 qbft-tests vectors write RLP null (`0x80`), the block inside their QBFT messages
/// (and later Besu) an empty list (`0xc0`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EmptyVote {
    /// `0xc0`; also the value recorded whenever a vote is present.
    List,
    /// `0x80`.
    String,
}

/// The decoded QBFT `extraData`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QbftExtraData {
    /// 32 free bytes.
    pub vanity: [u8; 32],
    /// The validators that must seal this block, as listed.
    pub validators: Vec<[u8; 20]>,
    /// The proposer's vote, if any.
    pub vote: Option<Vote>,
    /// How an absent vote is encoded ([`EmptyVote::List`] when `vote` is present).
    pub empty_vote: EmptyVote,
    /// The consensus round the block was agreed in.
    pub round: u32,
    /// How `round` was encoded.
    pub round_encoding: RoundEncoding,
    /// Commit seals (`r || s || v`).
    pub seals: Vec<[u8; 65]>,
}

/// Which parts of `extraData` an encoding keeps.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ExtraForm {
    /// Everything: what the header carries.
    Full,
    /// Seals removed: what commit seals sign.
    WithoutSeals,
    /// Seals and round removed: what the block hash covers.
    WithoutSealsAndRound,
}

fn malformed(what: &'static str) -> QbftError {
    QbftError::MalformedExtraData { what }
}

impl QbftExtraData {
    /// Decode `extraData`, refusing anything but the canonical encoding.
    pub fn decode(extra: &[u8]) -> Result<Self, QbftError> {
        let mut outer = extra;
        let mut list = take_list(&mut outer).map_err(|_| malformed("not an RLP list"))?;
        if !outer.is_empty() {
            return Err(malformed("bytes after the list"));
        }
        let b = &mut list;
        let vanity =
            take_fixed::<VANITY_LEN>(b).map_err(|_| malformed("vanity is not 32 bytes"))?;

        let mut vals = take_list(b).map_err(|_| malformed("validators is not a list"))?;
        let mut validators = Vec::new();
        while !vals.is_empty() {
            if validators.len() >= MAX_VALIDATORS {
                return Err(QbftError::TooManyValidators {
                    got: validators.len().saturating_add(1),
                    max: MAX_VALIDATORS,
                });
            }
            validators.push(
                take_fixed::<20>(&mut vals).map_err(|_| malformed("validator is not 20 bytes"))?,
            );
        }

        let mut empty_vote = EmptyVote::List;
        let mut probe = *b;
        let vote_is_string = matches!(alloy_rlp::Header::decode(&mut probe), Ok(h) if !h.list);
        let mut vote_items: &[u8] = if vote_is_string {
            if !take_bytes(b).map_err(|_| malformed("vote"))?.is_empty() {
                return Err(malformed("vote is a non-empty string"));
            }
            empty_vote = EmptyVote::String;
            &[]
        } else {
            take_list(b).map_err(|_| malformed("vote is not a list"))?
        };
        let vote = if vote_items.is_empty() {
            None
        } else {
            let recipient = take_fixed::<20>(&mut vote_items)
                .map_err(|_| malformed("vote recipient is not 20 bytes"))?;
            let kind = take_bytes(&mut vote_items).map_err(|_| malformed("vote type"))?;
            let vote_type = match kind {
                [0xff] => VoteType::Add,
                [0x00] => VoteType::Drop,
                [byte] => return Err(QbftError::BadVoteType { byte: *byte }),
                _ => return Err(malformed("vote type is not one byte")),
            };
            if !vote_items.is_empty() {
                return Err(malformed("vote has more than two items"));
            }
            Some(Vote {
                recipient,
                vote_type,
            })
        };

        let round_bytes = take_bytes(b).map_err(|e| match e {
            HeaderError::NonCanonical => QbftError::NonCanonicalRound,
            _ => malformed("round is not a byte string"),
        })?;
        let (round, round_encoding) = decode_round(round_bytes)?;

        let mut seal_items = take_list(b).map_err(|_| malformed("seals is not a list"))?;
        let mut seals = Vec::new();
        while !seal_items.is_empty() {
            if seals.len() >= MAX_SEALS {
                return Err(QbftError::TooManySeals {
                    got: seals.len().saturating_add(1),
                    max: MAX_SEALS,
                });
            }
            seals.push(
                take_fixed::<65>(&mut seal_items).map_err(|_| malformed("seal is not 65 bytes"))?,
            );
        }
        if !b.is_empty() {
            return Err(malformed("more than five items"));
        }
        let decoded = QbftExtraData {
            vanity,
            validators,
            vote,
            empty_vote,
            round,
            round_encoding,
            seals,
        };
        if decoded.encode() != extra {
            return Err(malformed("not the canonical encoding"));
        }
        Ok(decoded)
    }

    /// The full encoding, as carried in the header.
    pub fn encode(&self) -> Vec<u8> {
        self.encode_form(ExtraForm::Full)
    }

    /// The encoding without seals: the `extraData` of the header commit seals sign.
    pub fn encode_without_seals(&self) -> Vec<u8> {
        self.encode_form(ExtraForm::WithoutSeals)
    }

    /// The encoding without seals and round: the `extraData` of the header whose hash is
    /// the block hash.
    pub fn encode_without_seals_and_round(&self) -> Vec<u8> {
        self.encode_form(ExtraForm::WithoutSealsAndRound)
    }

    fn encode_form(&self, form: ExtraForm) -> Vec<u8> {
        let mut payload = Vec::new();
        {
            let out: &mut dyn BufMut = &mut payload;
            self.vanity.encode(out);
            encode_list(out, &self.validators);
            match &self.vote {
                None if self.empty_vote == EmptyVote::String => out.put_u8(0x80),
                None => encode_list::<20>(out, &[]),
                Some(vote) => {
                    let mut inner = Vec::new();
                    vote.recipient.encode(&mut inner);
                    match vote.vote_type {
                        VoteType::Add => [0xffu8].as_slice().encode(&mut inner),
                        VoteType::Drop => [0x00u8].as_slice().encode(&mut inner),
                    }
                    list_header(out, inner.len());
                    out.put_slice(&inner);
                }
            }
            if form != ExtraForm::WithoutSealsAndRound {
                encode_round(out, self.round, self.round_encoding);
                if form == ExtraForm::Full {
                    encode_list(out, &self.seals);
                }
            }
        }
        let mut out = Vec::with_capacity(payload.len().saturating_add(9));
        list_header(&mut out, payload.len());
        out.extend_from_slice(&payload);
        out
    }
}

fn list_header(out: &mut dyn BufMut, payload_length: usize) {
    alloy_rlp::Header {
        list: true,
        payload_length,
    }
    .encode(out);
}

fn encode_list<const N: usize>(out: &mut dyn BufMut, items: &[[u8; N]]) {
    let len: usize = items.iter().map(Encodable::length).sum();
    list_header(out, len);
    for item in items {
        item.encode(out);
    }
}

fn decode_round(bytes: &[u8]) -> Result<(u32, RoundEncoding), QbftError> {
    match bytes {
        [a, b, c, d] => Ok((
            u32::from_be_bytes([*a, *b, *c, *d]),
            RoundEncoding::FixedWidth,
        )),
        [0, ..] => Err(QbftError::NonCanonicalRound),
        _ if bytes.len() < 4 => {
            let value = bytes
                .iter()
                .fold(0u32, |acc, byte| (acc << 8) | u32::from(*byte));
            Ok((value, RoundEncoding::Scalar))
        }
        _ => Err(malformed("round is longer than four bytes")),
    }
}

fn encode_round(out: &mut dyn BufMut, round: u32, encoding: RoundEncoding) {
    let be = round.to_be_bytes();
    match encoding {
        RoundEncoding::FixedWidth => be.as_slice().encode(out),
        RoundEncoding::Scalar => {
            let first = be.iter().position(|b| *b != 0).unwrap_or(be.len());
            be.get(first..).unwrap_or_default().encode(out);
        }
    }
}

/// A decoded QBFT header with its two hashes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QbftHeader {
    /// The Ethereum header.
    pub header: EvmHeader,
    /// Its decoded `extraData`.
    pub extra: QbftExtraData,
    /// The block hash (round and seals removed from `extraData`).
    pub block_hash: [u8; 32],
    /// The digest every commit seal signs (seals removed from `extraData`).
    pub seal_digest: [u8; 32],
}

impl QbftHeader {
    /// Decode a QBFT header from its RLP.
    pub fn decode(rlp: &[u8]) -> Result<Self, QbftError> {
        let header = EvmHeader::decode(rlp)?;
        let extra = QbftExtraData::decode(&header.extra_data)?;
        let block_hash =
            keccak256(&header.encode_with_extra(&extra.encode_without_seals_and_round()));
        let seal_digest = keccak256(&header.encode_with_extra(&extra.encode_without_seals()));
        Ok(QbftHeader {
            header,
            extra,
            block_hash,
            seal_digest,
        })
    }

    /// The block hash: what the child's `parentHash` names.
    pub fn block_hash(&self) -> [u8; 32] {
        self.block_hash
    }
}

/// Decode a QBFT header (fuzz entry point).
pub fn decode_qbft_header(rlp: &[u8]) -> Result<QbftHeader, QbftError> {
    QbftHeader::decode(rlp)
}

/// Decode QBFT `extraData` (fuzz entry point).
pub fn decode_extra_data(extra: &[u8]) -> Result<QbftExtraData, QbftError> {
    QbftExtraData::decode(extra)
}

/// Besu's quorum: ⌈2n/3⌉ (`BftHelpers.calculateRequiredValidatorQuorum`).
pub const fn quorum(n: usize) -> usize {
    n.saturating_mul(2).saturating_add(2) / 3
}

/// Check a validator list: non-empty, bounded, no repeats.
pub fn check_validator_set(validators: &[[u8; 20]]) -> Result<(), QbftError> {
    if validators.is_empty() {
        return Err(QbftError::EmptyValidatorSet);
    }
    if validators.len() > MAX_VALIDATORS {
        return Err(QbftError::TooManyValidators {
            got: validators.len(),
            max: MAX_VALIDATORS,
        });
    }
    let mut sorted = validators.to_vec();
    sorted.sort_unstable();
    for pair in sorted.windows(2) {
        if let [a, b] = pair {
            if a == b {
                return Err(QbftError::DuplicateValidator { validator: *a });
            }
        }
    }
    Ok(())
}

/// Verify the commit seals of `header` against `validators`: each seal must recover (low S,
/// v ∈ {0, 1}) to a distinct member, and there must be at least ⌈2n/3⌉ of them. Returns the
/// signers in seal order.
pub fn verify_seals(
    header: &QbftHeader,
    validators: &[[u8; 20]],
) -> Result<Vec<[u8; 20]>, QbftError> {
    check_validator_set(validators)?;
    let seals = &header.extra.seals;
    if seals.len() > MAX_SEALS {
        return Err(QbftError::TooManySeals {
            got: seals.len(),
            max: MAX_SEALS,
        });
    }
    let mut signers: Vec<[u8; 20]> = Vec::with_capacity(seals.len());
    for (index, seal) in seals.iter().enumerate() {
        let signer = recover_address(&header.seal_digest, seal, false).map_err(|e| match e {
            SigError::BadRecoveryId { v } => QbftError::BadRecoveryId { index, v },
            SigError::Invalid => QbftError::InvalidSignature { index },
            SigError::HighS => QbftError::HighS { index },
        })?;
        if !validators.contains(&signer) {
            return Err(QbftError::SignerNotValidator { index, signer });
        }
        if signers.contains(&signer) {
            return Err(QbftError::DuplicateSigner { signer });
        }
        signers.push(signer);
    }
    let need = quorum(validators.len());
    if signers.len() < need {
        return Err(QbftError::InsufficientSeals {
            got: signers.len(),
            need,
        });
    }
    Ok(signers)
}

/// Verify the commit seals of a raw header against `validators` (fuzz / bench entry point).
pub fn verify_sealed_header(rlp: &[u8], validators: &[[u8; 20]]) -> Result<QbftHeader, QbftError> {
    let header = QbftHeader::decode(rlp)?;
    verify_seals(&header, validators)?;
    Ok(header)
}

fn sorted(set: &[[u8; 20]]) -> Vec<[u8; 20]> {
    let mut v = set.to_vec();
    v.sort_unstable();
    v
}

/// Whether `next` is a validator list the block after a header listing `trusted` with
/// vote `vote` may carry: the same set, or that set changed by exactly the voted add/drop.
pub fn allowed_next_validators(
    trusted: &[[u8; 20]],
    vote: Option<&Vote>,
    next: &[[u8; 20]],
) -> Result<(), QbftError> {
    check_validator_set(next)?;
    let next = sorted(next);
    if next == sorted(trusted) {
        return Ok(());
    }
    if let Some(vote) = vote {
        let mut changed = sorted(trusted);
        match vote.vote_type {
            VoteType::Add if !changed.contains(&vote.recipient) => changed.push(vote.recipient),
            VoteType::Drop => changed.retain(|v| *v != vote.recipient),
            VoteType::Add => {}
        }
        changed.sort_unstable();
        if next == changed {
            return Ok(());
        }
    }
    Err(QbftError::UnvotedValidatorSetChange)
}

/// Council-set parameters of a QBFT client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QbftConfig {
    /// How far (seconds) a header's timestamp may lie beyond `now`.
    pub max_clock_drift_secs: u64,
    /// How long (seconds) after the latest header's timestamp the client stays usable.
    pub trusting_period_secs: u64,
    /// Consensus states kept (1..=[`MAX_HISTORY`]).
    pub max_history: usize,
}

/// What the client keeps per verified height.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QbftConsensusState {
    /// Block hash (QBFT form).
    pub hash: [u8; 32],
    /// State root.
    pub state_root: [u8; 32],
    /// Receipts root.
    pub receipts_root: [u8; 32],
    /// Timestamp, seconds.
    pub timestamp: u64,
    /// The validators that sealed this block (as it lists them).
    pub validators: Vec<[u8; 20]>,
    /// The vote the block carried: it may change the next block's validators.
    pub vote: Option<Vote>,
}

/// A header accepted by [`QbftClient::verify_header`], ready for `apply_header`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedQbftHeader {
    /// Block number.
    pub number: u64,
    /// The state to record.
    pub state: QbftConsensusState,
    /// Who sealed it.
    pub signers: Vec<[u8; 20]>,
}

/// Evidence of two validly sealed headers at one height.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QbftMisbehaviour {
    /// One header's RLP.
    pub header_a: Vec<u8>,
    /// The other header's RLP.
    pub header_b: Vec<u8>,
}

/// A light client of one QBFT chain, following it header by header.
#[derive(Clone, Debug)]
pub struct QbftClient {
    config: QbftConfig,
    history: ConsensusHistory<QbftConsensusState>,
}

impl HeaderTime for QbftConsensusState {
    fn timestamp(&self) -> u64 {
        self.timestamp
    }
}

impl From<HistoryError> for QbftError {
    fn from(e: HistoryError) -> Self {
        match e {
            HistoryError::InvalidConfig { what } => QbftError::InvalidConfig { what },
            HistoryError::Frozen { height } => QbftError::Frozen { height },
            HistoryError::UnknownHeight { height } => QbftError::UnknownHeight { height },
        }
    }
}

impl QbftClient {
    /// Start from a council-trusted header (its hash, roots and validator list are taken
    /// as given; its seals are not checked).
    pub fn from_trusted_header(rlp: &[u8], config: QbftConfig) -> Result<Self, QbftError> {
        let header = QbftHeader::decode(rlp)?;
        check_validator_set(&header.extra.validators)?;
        let history = ConsensusHistory::start(
            config.max_history,
            header.header.number,
            consensus_state(&header),
        )?;
        Ok(QbftClient { config, history })
    }

    /// The consensus state at `height`, if kept.
    pub fn consensus_state(&self, height: u64) -> Option<&QbftConsensusState> {
        self.history.get(height)
    }

    /// The client's fields, for its canonical encoding.
    pub fn parts(
        &self,
    ) -> (
        &QbftConfig,
        &BTreeMap<u64, QbftConsensusState>,
        u64,
        Option<u64>,
    ) {
        (
            &self.config,
            self.history.states(),
            self.history.latest(),
            self.history.frozen(),
        )
    }

    /// Rebuild a client from its fields (a decoded client state), checking that they fit
    /// together: a kept state at `latest`, history within `max_history`, and every kept
    /// validator list one the client could have accepted.
    pub fn from_parts(
        config: QbftConfig,
        states: BTreeMap<u64, QbftConsensusState>,
        latest: u64,
        frozen: Option<u64>,
    ) -> Result<Self, QbftError> {
        for state in states.values() {
            check_validator_set(&state.validators)?;
        }
        let history = ConsensusHistory::from_parts(config.max_history, states, latest, frozen)?;
        Ok(QbftClient { config, history })
    }

    /// The council-set configuration.
    pub fn config(&self) -> &QbftConfig {
        &self.config
    }

    /// The validators trusted to seal the next header's list against.
    pub fn trusted_validators(&self) -> &[[u8; 20]] {
        self.history
            .latest_state()
            .map(|s| s.validators.as_slice())
            .unwrap_or_default()
    }

    fn latest_state(&self) -> Result<&QbftConsensusState, QbftError> {
        Ok(self.history.latest_state()?)
    }

    /// Seal check of a header at `number`: against the recorded set when `number` is
    /// kept, or against its own list (allowed relative to the latest state) when it is the
    /// next height.
    fn check_sealed_at(&self, header: &QbftHeader) -> Result<Vec<[u8; 20]>, QbftError> {
        let number = header.header.number;
        if let Some(state) = self.history.get(number) {
            return verify_seals(header, &state.validators);
        }
        if Some(number) == self.history.latest().checked_add(1) {
            let trusted = self.latest_state()?;
            allowed_next_validators(
                &trusted.validators,
                trusted.vote.as_ref(),
                &header.extra.validators,
            )?;
            return verify_seals(header, &header.extra.validators);
        }
        Err(QbftError::UnknownHeight { height: number })
    }

    fn check_usable(&self, now: Timestamp) -> Result<(), QbftError> {
        match self.status(now) {
            ClientStatus::Active => Ok(()),
            ClientStatus::Expired => Err(QbftError::Expired),
            ClientStatus::Frozen { height } => Err(QbftError::Frozen { height }),
        }
    }

    fn proof_state(&self, height: u64) -> Result<&QbftConsensusState, QbftError> {
        Ok(self.history.proof_state(height)?)
    }
}

fn consensus_state(header: &QbftHeader) -> QbftConsensusState {
    QbftConsensusState {
        hash: header.block_hash,
        state_root: header.header.state_root,
        receipts_root: header.header.receipts_root,
        timestamp: header.header.timestamp,
        validators: header.extra.validators.clone(),
        vote: header.extra.vote,
    }
}

impl LightClient for QbftClient {
    type Header = Vec<u8>;
    type Verified = VerifiedQbftHeader;
    type Path = crate::evm::mpt::EvmPath;
    type Proof = crate::evm::mpt::EvmProof;
    type Misbehaviour = QbftMisbehaviour;
    type Error = QbftError;

    fn latest_height(&self) -> u64 {
        self.history.latest()
    }

    fn status(&self, now: Timestamp) -> ClientStatus {
        self.history.status(now, self.config.trusting_period_secs)
    }

    fn verify_header(
        &self,
        header: &Vec<u8>,
        now: Timestamp,
    ) -> Result<VerifiedQbftHeader, QbftError> {
        self.check_usable(now)?;
        let header = QbftHeader::decode(header)?;
        let trusted = self.latest_state()?;
        let number = header.header.number;
        if Some(number) != self.history.latest().checked_add(1) {
            return Err(QbftError::NonSequential {
                trusted: self.history.latest(),
                got: number,
            });
        }
        if header.header.parent_hash != trusted.hash {
            return Err(QbftError::ParentHashMismatch);
        }
        if header.header.timestamp <= trusted.timestamp {
            return Err(QbftError::TimestampNotIncreasing {
                parent: trusted.timestamp,
                got: header.header.timestamp,
            });
        }
        let max = now.secs().saturating_add(self.config.max_clock_drift_secs);
        if header.header.timestamp > max {
            return Err(QbftError::TimestampInFuture {
                got: header.header.timestamp,
                max,
            });
        }
        let signers = self.check_sealed_at(&header)?;
        Ok(VerifiedQbftHeader {
            number,
            state: consensus_state(&header),
            signers,
        })
    }

    fn apply_header(&mut self, verified: VerifiedQbftHeader) {
        self.history.record(verified.number, verified.state);
    }

    fn verify_membership(
        &self,
        height: u64,
        path: &crate::evm::mpt::EvmPath,
        value: &[u8],
        proof: &crate::evm::mpt::EvmProof,
    ) -> Result<(), QbftError> {
        let state = self.proof_state(height)?;
        crate::evm::mpt::verify_state(&state.state_root, &state.receipts_root, path, value, proof)?;
        Ok(())
    }

    fn verify_non_membership(
        &self,
        height: u64,
        path: &crate::evm::mpt::EvmPath,
        proof: &crate::evm::mpt::EvmProof,
    ) -> Result<(), QbftError> {
        let state = self.proof_state(height)?;
        crate::evm::mpt::verify_state_absent(&state.state_root, &state.receipts_root, path, proof)?;
        Ok(())
    }

    fn verify_misbehaviour(
        &self,
        evidence: &QbftMisbehaviour,
        _now: Timestamp,
    ) -> Result<u64, QbftError> {
        self.history.not_frozen()?;
        let a = QbftHeader::decode(&evidence.header_a)?;
        let b = QbftHeader::decode(&evidence.header_b)?;
        if a.header.number != b.header.number {
            return Err(QbftError::MisbehaviourHeightMismatch {
                a: a.header.number,
                b: b.header.number,
            });
        }
        if a.block_hash == b.block_hash {
            return Err(QbftError::MisbehaviourSameHeader);
        }
        self.check_sealed_at(&a)?;
        self.check_sealed_at(&b)?;
        Ok(a.header.number)
    }

    fn freeze(&mut self, height: u64) {
        self.history.freeze(height);
    }
}

/// Deterministic QBFT validators and sealed headers for tests and benchmarks.
///
/// The keys are derived from public seeds, so nothing here is secret; it exists so that a
/// benchmark or another crate's test can build "a header sealed by n validators".
#[cfg(any(test, feature = "testkit"))]
pub mod testkit {
    use super::*;
    use crate::evm::secp::{address_of_key, key_from_seed, sign_digest};

    /// The secret key of test validator `seed`.
    pub fn validator_key(seed: u64) -> SigningKey {
        key_from_seed(b"junction/testkit/qbft-validator/v1", seed)
    }

    /// The address of a key.
    pub fn address(key: &SigningKey) -> [u8; 20] {
        address_of_key(key.verifying_key())
    }

    /// Keys of validators `0..n`, ordered by address (Besu keeps the list sorted).
    pub fn validator_keys(n: usize) -> Vec<SigningKey> {
        let mut keys: Vec<SigningKey> = (0..n as u64).map(validator_key).collect();
        keys.sort_by_key(address);
        keys
    }

    /// Addresses of `keys`, in order.
    pub fn addresses(keys: &[SigningKey]) -> Vec<[u8; 20]> {
        keys.iter().map(address).collect()
    }

    /// The fields a test header is built from.
    #[derive(Clone, Debug)]
    pub struct HeaderSpec {
        /// Block number.
        pub number: u64,
        /// Parent block hash.
        pub parent_hash: [u8; 32],
        /// Timestamp, seconds.
        pub timestamp: u64,
        /// State root.
        pub state_root: [u8; 32],
        /// Receipts root.
        pub receipts_root: [u8; 32],
        /// Listed validators.
        pub validators: Vec<[u8; 20]>,
        /// Vote.
        pub vote: Option<Vote>,
        /// Round.
        pub round: u32,
        /// Round encoding.
        pub round_encoding: RoundEncoding,
    }

    impl HeaderSpec {
        /// A spec with roots derived from `number` and round 0 (4-byte encoding).
        pub fn new(
            number: u64,
            parent_hash: [u8; 32],
            timestamp: u64,
            validators: Vec<[u8; 20]>,
        ) -> Self {
            let mut state_root = keccak256(b"state");
            state_root[..8].copy_from_slice(&number.to_be_bytes());
            let mut receipts_root = keccak256(b"receipts");
            receipts_root[..8].copy_from_slice(&number.to_be_bytes());
            HeaderSpec {
                number,
                parent_hash,
                timestamp,
                state_root,
                receipts_root,
                validators,
                vote: None,
                round: 0,
                round_encoding: RoundEncoding::FixedWidth,
            }
        }
    }

    /// The unsealed header and extraData of a spec.
    pub fn unsealed(spec: &HeaderSpec) -> (EvmHeader, QbftExtraData) {
        let extra = QbftExtraData {
            vanity: [0u8; 32],
            validators: spec.validators.clone(),
            vote: spec.vote,
            empty_vote: EmptyVote::List,
            round: spec.round,
            round_encoding: spec.round_encoding,
            seals: Vec::new(),
        };
        let header = EvmHeader {
            parent_hash: spec.parent_hash,
            ommers_hash: keccak256(&[0xc0]),
            beneficiary: [0u8; 20],
            state_root: spec.state_root,
            transactions_root: keccak256(&[0x80]),
            receipts_root: spec.receipts_root,
            logs_bloom: Box::new([0u8; 256]),
            difficulty: alloy_primitives::U256::from(1u8),
            number: spec.number,
            gas_limit: 30_000_000,
            gas_used: 0,
            timestamp: spec.timestamp,
            extra_data: extra.encode(),
            mix_hash: *b"\x63\x74\x69\x63\x61\x6c\x20\x62\x79\x7a\x61\x6e\x74\x69\x6e\x65\x20\x66\x61\x75\x6c\x74\x20\x74\x6f\x6c\x65\x72\x61\x6e\x63\x65",
            nonce: [0u8; 8],
            base_fee_per_gas: Some(alloy_primitives::U256::from(0u8)),
            withdrawals_root: None,
            blob_gas_used: None,
            excess_blob_gas: None,
            parent_beacon_block_root: None,
            requests_hash: None,
        };
        (header, extra)
    }

    /// The digest commit seals sign for this header and extraData.
    pub fn seal_digest(header: &EvmHeader, extra: &QbftExtraData) -> [u8; 32] {
        keccak256(&header.encode_with_extra(&extra.encode_without_seals()))
    }

    /// The block hash for this header and extraData.
    pub fn block_hash(header: &EvmHeader, extra: &QbftExtraData) -> [u8; 32] {
        keccak256(&header.encode_with_extra(&extra.encode_without_seals_and_round()))
    }

    /// One commit seal by `key` over `digest` (all zero, hence refused, if signing failed).
    pub fn seal(key: &SigningKey, digest: &[u8; 32]) -> [u8; 65] {
        sign_digest(key, digest).unwrap_or([0u8; 65])
    }

    /// Put `seals` into the header and return its RLP.
    pub fn with_seals(header: &EvmHeader, extra: &QbftExtraData, seals: Vec<[u8; 65]>) -> Vec<u8> {
        let mut extra = extra.clone();
        extra.seals = seals;
        let mut header = header.clone();
        header.extra_data = extra.encode();
        header.encode()
    }

    /// The RLP of `spec` sealed by `signers`.
    pub fn seal_spec(spec: &HeaderSpec, signers: &[SigningKey]) -> Vec<u8> {
        let (header, extra) = unsealed(spec);
        let digest = seal_digest(&header, &extra);
        let seals = signers.iter().map(|k| seal(k, &digest)).collect();
        with_seals(&header, &extra, seals)
    }

    /// A header at `number` over `parent_hash`, listing validators `0..n_validators` and
    /// sealed by all of them.
    pub fn sealed_header(
        n_validators: usize,
        number: u64,
        parent_hash: [u8; 32],
        timestamp: u64,
    ) -> Vec<u8> {
        let keys = validator_keys(n_validators);
        let spec = HeaderSpec::new(number, parent_hash, timestamp, addresses(&keys));
        seal_spec(&spec, &keys)
    }

    /// A chain of `len` headers from number 0 (timestamps `start_ts`, `start_ts + 1`, …),
    /// each sealed by all `n_validators`.
    pub fn chain(n_validators: usize, len: usize, start_ts: u64) -> Vec<Vec<u8>> {
        let keys = validator_keys(n_validators);
        let validators = addresses(&keys);
        let mut out = Vec::with_capacity(len);
        let mut parent = [0u8; 32];
        for i in 0..len as u64 {
            let spec = HeaderSpec::new(i, parent, start_ts.saturating_add(i), validators.clone());
            let rlp = seal_spec(&spec, &keys);
            let (header, extra) = unsealed(&spec);
            parent = block_hash(&header, &extra);
            out.push(rlp);
        }
        out
    }

    /// A client configuration suited to tests: 15 s drift, one-day trusting period.
    pub fn config() -> QbftConfig {
        QbftConfig {
            max_clock_drift_secs: 15,
            trusting_period_secs: 86_400,
            max_history: 64,
        }
    }
}
