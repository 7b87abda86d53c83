//! Bitcoin SPV: a source-only light client of a proof-of-work header chain and the
//! transaction inclusion proofs that hang off it.
//!
//! | module | what it judges |
//! |---|---|
//! | [`header`] | the 80-byte header, its hash and the link to its parent |
//! | [`pow`] | compact targets (`nBits`), chain work, the 2,016-block retarget |
//! | [`merkle`] | transaction Merkle roots, branches and BIP37 partial trees (`txoutproof`) |
//! | [`tx`] | bounded transaction and block parsing (txids, the 64-byte rule) |
//! | [`spv`] | the self-contained SPV proof format of summa-tx/bitcoin-spv |
//! | [`client`] | [`BitcoinClient`]: most-work fork choice, confirmations, reorg detection |
//! | [`hub`] | the hub's encodings and the packet commitment a transaction carries |
//! | [`testkit`] | deterministic inputs for benchmarks |
//!
//! Nothing here trusts a relayer: a header counts only if it links to a stored header and
//! carries the proof of work the consensus rules demand of it, and a transaction counts only
//! if it sits under a header buried by enough work on the chain with the most work.

pub mod client;
pub mod header;
pub mod hub;
pub mod merkle;
pub mod pow;
pub mod spv;
#[cfg(any(test, feature = "testkit"))]
pub mod testkit;
pub mod tx;

pub use client::{
    BitcoinClient, Checkpoint, ClientConfig, HeaderBatch, Reorg, StoredHeader, TxInclusionProof,
    VerifiedBatch,
};
pub use header::BlockHeader;
pub use merkle::{MerkleBlock, MerkleBranch};
pub use pow::Params;

use sha2::{Digest, Sha256};

use crate::NamedError;

/// A 32-byte hash in Bitcoin's internal byte order (the reverse of what explorers display).
pub type Hash32 = [u8; 32];

/// Double SHA-256, the hash of headers, transactions and Merkle nodes.
pub fn sha256d(data: &[u8]) -> Hash32 {
    let first = Sha256::digest(data);
    Sha256::digest(first).into()
}

/// Double SHA-256 of `left || right`: one inner Merkle node.
pub fn merkle_parent(left: &Hash32, right: &Hash32) -> Hash32 {
    let mut h = Sha256::new();
    h.update(left);
    h.update(right);
    let first = h.finalize();
    Sha256::digest(first).into()
}

/// A hash in the byte order explorers and RPCs display (reversed internal order).
pub fn display_hex(hash: &Hash32) -> String {
    let mut rev = *hash;
    rev.reverse();
    hex::encode(rev)
}

/// Why a Bitcoin header, proof or transaction was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BitcoinError {
    /// The input ended before a field was complete.
    #[error("{what}: truncated (need {need} more bytes, {got} left)")]
    Truncated {
        /// What was being read.
        what: &'static str,
        /// Bytes the field needs.
        need: usize,
        /// Bytes that were left.
        got: usize,
    },
    /// A fixed-size field or encoding has the wrong length.
    #[error("{what}: expected {expected} bytes, got {got}")]
    WrongLength {
        /// What was being read.
        what: &'static str,
        /// The required length.
        expected: usize,
        /// The length given.
        got: usize,
    },
    /// Bytes remain after a complete encoding.
    #[error("{what}: {extra} trailing bytes")]
    TrailingBytes {
        /// What was being read.
        what: &'static str,
        /// How many bytes were left over.
        extra: usize,
    },
    /// A CompactSize integer is not in its shortest form.
    #[error("non-canonical CompactSize integer")]
    NonCanonicalVarInt,
    /// A count or size is above the bound this module accepts.
    #[error("{what}: {got} exceeds the limit {max}")]
    LimitExceeded {
        /// What was counted.
        what: &'static str,
        /// The bound.
        max: u64,
        /// The value given.
        got: u64,
    },
    /// `nBits` has the sign bit set with a non-zero mantissa (Bitcoin Core: `fNegative`).
    #[error("nBits {bits:#010x} encodes a negative target")]
    NegativeTarget {
        /// The compact target.
        bits: u32,
    },
    /// `nBits` encodes a value above 2^256 (Bitcoin Core: `fOverflow`).
    #[error("nBits {bits:#010x} overflows 256 bits")]
    OverflowingTarget {
        /// The compact target.
        bits: u32,
    },
    /// `nBits` encodes zero, which no hash can meet.
    #[error("nBits {bits:#010x} encodes a zero target")]
    ZeroTarget {
        /// The compact target.
        bits: u32,
    },
    /// The target is easier than the network's proof-of-work limit.
    #[error("nBits {bits:#010x} is above the network's proof-of-work limit")]
    TargetAboveLimit {
        /// The compact target.
        bits: u32,
    },
    /// The header's hash is above the target its `nBits` claims.
    #[error("header {hash} does not meet its target {bits:#010x}")]
    InsufficientProofOfWork {
        /// The header hash (display order).
        hash: String,
        /// The claimed compact target.
        bits: u32,
    },
    /// `nBits` is not what the difficulty rules demand at this height (a forged retarget).
    #[error("height {height}: nBits {got:#010x}, the difficulty rules demand {expected:#010x}")]
    UnexpectedDifficultyBits {
        /// Height of the header.
        height: u64,
        /// What the rules compute.
        expected: u32,
        /// What the header carries.
        got: u32,
    },
    /// A header's `prev_blockhash` is not the hash of the header before it.
    #[error("header at batch position {position} does not link to its predecessor")]
    BrokenLink {
        /// Index in the batch (or chain) of the header that fails to link.
        position: usize,
    },
    /// The first header of a batch links to no header the client stores.
    #[error("parent {parent} is not a stored header")]
    UnknownParent {
        /// The missing parent (display order).
        parent: String,
    },
    /// The header is already stored.
    #[error("header {hash} is already stored")]
    DuplicateHeader {
        /// The header hash (display order).
        hash: String,
    },
    /// The timestamp is not above the median of the previous 11 blocks.
    #[error("height {height}: time {time} is not after the median time past {median}")]
    TimeNotAfterMedianTimePast {
        /// Height of the header.
        height: u64,
        /// The header's timestamp.
        time: u32,
        /// Median of the previous 11 timestamps.
        median: u32,
    },
    /// The timestamp is more than two hours ahead of `now`.
    #[error("time {time} is more than two hours after now ({now})")]
    TimeTooFarInFuture {
        /// The header's timestamp.
        time: u32,
        /// The caller's clock, in seconds.
        now: u64,
    },
    /// A header batch holds no header.
    #[error("empty header batch")]
    EmptyBatch,
    /// Computed Merkle root differs from the header's.
    #[error("Merkle root mismatch: computed {computed}, header has {expected}")]
    MerkleRootMismatch {
        /// The root the header commits to (display order).
        expected: String,
        /// The root the proof yields (display order).
        computed: String,
    },
    /// A proof places two identical subtrees side by side where the right one is not the
    /// duplicate padding of an odd level (CVE-2012-2459), or points at the padding itself.
    #[error("duplicate subtree at level {level} (CVE-2012-2459)")]
    DuplicateSubtree {
        /// Tree level (0 = leaves).
        level: u32,
    },
    /// A branch's sibling at the unpaired last node of an odd level is not the node itself.
    #[error("Merkle branch padding at level {level} is not the node itself")]
    BadPadding {
        /// Tree level (0 = leaves).
        level: u32,
    },
    /// The transaction is exactly 64 bytes and could be an inner Merkle node in disguise.
    #[error("64-byte transaction refused: indistinguishable from an inner Merkle node")]
    SixtyFourByteTransaction,
    /// A transaction index is not below the transaction count.
    #[error("transaction index {index} is not below the count {count}")]
    IndexOutOfRange {
        /// The index claimed.
        index: u64,
        /// The transaction count claimed.
        count: u64,
    },
    /// A branch has a different number of siblings than the tree height demands.
    #[error("Merkle branch has {got} siblings, the tree height is {expected}")]
    BranchLengthMismatch {
        /// Siblings the tree shape demands.
        expected: usize,
        /// Siblings given.
        got: usize,
    },
    /// A partial Merkle tree declares zero transactions.
    #[error("partial Merkle tree with zero transactions")]
    NoTransactions,
    /// A partial Merkle tree ran out of hashes or flag bits while being walked.
    #[error("partial Merkle tree: ran out of {what}")]
    PartialTreeExhausted {
        /// `hashes` or `flag bits`.
        what: &'static str,
    },
    /// A partial Merkle tree left hashes or flag bits unused.
    #[error("partial Merkle tree: {what} left unused")]
    PartialTreeUnused {
        /// `hashes` or `flag bits`.
        what: &'static str,
    },
    /// The transaction's id is not the one the proof or path names.
    #[error("txid mismatch: expected {expected}, computed {computed}")]
    TxidMismatch {
        /// The txid named (display order).
        expected: String,
        /// The txid computed from the bytes (display order).
        computed: String,
    },
    /// The proof does not mark the transaction as matched.
    #[error("transaction {txid} is not among the proof's matched transactions")]
    TxNotMatched {
        /// The txid (display order).
        txid: String,
    },
    /// A transaction's inputs are malformed (none, truncated, or trailing bytes).
    #[error("invalid transaction inputs: {reason}")]
    InvalidVin {
        /// What is wrong.
        reason: &'static str,
    },
    /// A transaction's outputs are malformed (none, truncated, or trailing bytes).
    #[error("invalid transaction outputs: {reason}")]
    InvalidVout {
        /// What is wrong.
        reason: &'static str,
    },
    /// A claimed header hash is not the hash of the raw header.
    #[error("claimed header hash is not the hash of the raw header")]
    HeaderHashMismatch,
    /// A claimed Merkle root is not the raw header's.
    #[error("claimed Merkle root is not the raw header's")]
    HeaderMerkleRootMismatch,
    /// A claimed parent hash is not the raw header's.
    #[error("claimed parent hash is not the raw header's")]
    HeaderPrevHashMismatch,
    /// No header at this height on the best chain is stored.
    #[error("no stored best-chain header at height {height}")]
    UnknownHeight {
        /// The height asked for.
        height: u64,
    },
    /// The proof's header is not the best-chain header at the height asked for.
    #[error("proof header is not the best-chain header at height {height}")]
    NotOnBestChain {
        /// The height asked for.
        height: u64,
    },
    /// The block does not have enough confirmations yet.
    #[error("{got} confirmations, {need} required")]
    InsufficientConfirmations {
        /// Confirmations the block has (1 = it is the tip).
        got: u64,
        /// Confirmations required.
        need: u64,
    },
    /// Bitcoin blocks commit to no state, so absence cannot be proven.
    #[error("non-membership proofs are not supported by Bitcoin SPV")]
    NonMembershipUnsupported,
    /// Proof-of-work has no signers to equivocate; reorgs are judged on headers instead.
    #[error("misbehaviour evidence does not apply to proof-of-work chains")]
    MisbehaviourNotApplicable,
    /// The transaction has no output committing to the packet (`OP_RETURN "JNC1" ‖ key
    /// hash ‖ packet hash`).
    #[error("the transaction has no output committing to packet key {key}")]
    NoPacketCommitment {
        /// The packet key hash, hex.
        key: String,
    },
    /// The transaction commits to the packet key with another packet hash.
    #[error("the transaction commits packet key {key} to another packet")]
    PacketCommitmentMismatch {
        /// The packet key hash, hex.
        key: String,
    },
    /// The previous transaction given is not the one the first input spends.
    #[error("the previous transaction {got} is not the one the first input spends ({spent})")]
    PreviousTxMismatch {
        /// The txid the input spends (display order).
        spent: String,
        /// The txid of the one given.
        got: String,
    },
    /// The spent output's script is not the packet's source app.
    #[error("the first input spends a script other than the packet's source app")]
    SourceAppMismatch,
    /// A Bitcoin chain is a source only: nothing is delivered to it.
    #[error("a Bitcoin chain is a packet source only")]
    SourceOnly,
    /// The client is frozen.
    #[error("client is frozen at height {height}")]
    Frozen {
        /// The freeze height.
        height: u64,
    },
    /// The trusted checkpoint is inconsistent.
    #[error("invalid checkpoint: {reason}")]
    InvalidCheckpoint {
        /// What is wrong.
        reason: &'static str,
    },
}

impl NamedError for BitcoinError {
    fn name(&self) -> &'static str {
        match self {
            Self::Truncated { .. } => "truncated",
            Self::WrongLength { .. } => "wrong_length",
            Self::TrailingBytes { .. } => "trailing_bytes",
            Self::NonCanonicalVarInt => "non_canonical_varint",
            Self::LimitExceeded { .. } => "limit_exceeded",
            Self::NegativeTarget { .. } => "negative_target",
            Self::OverflowingTarget { .. } => "overflowing_target",
            Self::ZeroTarget { .. } => "zero_target",
            Self::TargetAboveLimit { .. } => "target_above_pow_limit",
            Self::InsufficientProofOfWork { .. } => "insufficient_proof_of_work",
            Self::UnexpectedDifficultyBits { .. } => "unexpected_difficulty_bits",
            Self::BrokenLink { .. } => "broken_link",
            Self::UnknownParent { .. } => "unknown_parent",
            Self::DuplicateHeader { .. } => "duplicate_header",
            Self::TimeNotAfterMedianTimePast { .. } => "time_not_after_median_time_past",
            Self::TimeTooFarInFuture { .. } => "time_too_far_in_future",
            Self::EmptyBatch => "empty_batch",
            Self::MerkleRootMismatch { .. } => "merkle_root_mismatch",
            Self::DuplicateSubtree { .. } => "duplicate_subtree",
            Self::BadPadding { .. } => "bad_padding",
            Self::SixtyFourByteTransaction => "sixty_four_byte_transaction",
            Self::IndexOutOfRange { .. } => "index_out_of_range",
            Self::BranchLengthMismatch { .. } => "branch_length_mismatch",
            Self::NoTransactions => "no_transactions",
            Self::PartialTreeExhausted { .. } => "partial_tree_exhausted",
            Self::PartialTreeUnused { .. } => "partial_tree_unused",
            Self::TxidMismatch { .. } => "txid_mismatch",
            Self::TxNotMatched { .. } => "tx_not_matched",
            Self::InvalidVin { .. } => "invalid_vin",
            Self::InvalidVout { .. } => "invalid_vout",
            Self::HeaderHashMismatch => "header_hash_mismatch",
            Self::HeaderMerkleRootMismatch => "header_merkle_root_mismatch",
            Self::HeaderPrevHashMismatch => "header_prev_hash_mismatch",
            Self::UnknownHeight { .. } => "unknown_height",
            Self::NotOnBestChain { .. } => "not_on_best_chain",
            Self::InsufficientConfirmations { .. } => "insufficient_confirmations",
            Self::NonMembershipUnsupported => "non_membership_unsupported",
            Self::MisbehaviourNotApplicable => "misbehaviour_not_applicable",
            Self::NoPacketCommitment { .. } => "no_packet_commitment",
            Self::PacketCommitmentMismatch { .. } => "packet_commitment_mismatch",
            Self::PreviousTxMismatch { .. } => "previous_tx_mismatch",
            Self::SourceAppMismatch => "source_app_mismatch",
            Self::SourceOnly => "source_only",
            Self::Frozen { .. } => "frozen",
            Self::InvalidCheckpoint { .. } => "invalid_checkpoint",
        }
    }
}

/// A bounded cursor over untrusted bytes: every read checks what is left first.
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a> {
    data: &'a [u8],
    what: &'static str,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(data: &'a [u8], what: &'static str) -> Self {
        Self { data, what }
    }

    pub(crate) fn remaining(&self) -> usize {
        self.data.len()
    }

    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], BitcoinError> {
        if n > self.data.len() {
            return Err(BitcoinError::Truncated {
                what: self.what,
                need: n,
                got: self.data.len(),
            });
        }
        let (head, tail) = self.data.split_at(n);
        self.data = tail;
        Ok(head)
    }

    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N], BitcoinError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    pub(crate) fn u8(&mut self) -> Result<u8, BitcoinError> {
        Ok(self.array::<1>()?[0])
    }

    pub(crate) fn u32_le(&mut self) -> Result<u32, BitcoinError> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    /// A CompactSize integer, refusing non-shortest encodings as Bitcoin Core does.
    pub(crate) fn varint(&mut self) -> Result<u64, BitcoinError> {
        let first = self.u8()?;
        let (value, min) = match first {
            0xfd => (u64::from(u16::from_le_bytes(self.array()?)), 0xfd),
            0xfe => (u64::from(u32::from_le_bytes(self.array()?)), 0x1_0000),
            0xff => (u64::from_le_bytes(self.array()?), 0x1_0000_0000),
            small => return Ok(u64::from(small)),
        };
        if value < min {
            return Err(BitcoinError::NonCanonicalVarInt);
        }
        Ok(value)
    }

    /// A count, refused above `max` before anything is allocated for it.
    pub(crate) fn count(&mut self, what: &'static str, max: u64) -> Result<usize, BitcoinError> {
        let n = self.varint()?;
        if n > max {
            return Err(BitcoinError::LimitExceeded { what, max, got: n });
        }
        usize::try_from(n).map_err(|_| BitcoinError::LimitExceeded { what, max, got: n })
    }

    pub(crate) fn finish(self) -> Result<(), BitcoinError> {
        if self.data.is_empty() {
            Ok(())
        } else {
            Err(BitcoinError::TrailingBytes {
                what: self.what,
                extra: self.data.len(),
            })
        }
    }
}

/// Appends a CompactSize integer in its shortest form.
pub(crate) fn write_varint(out: &mut Vec<u8>, n: u64) {
    if n < 0xfd {
        out.push(n as u8);
    } else if n <= 0xffff {
        out.push(0xfd);
        out.extend_from_slice(&(n as u16).to_le_bytes());
    } else if n <= 0xffff_ffff {
        out.push(0xfe);
        out.extend_from_slice(&(n as u32).to_le_bytes());
    } else {
        out.push(0xff);
        out.extend_from_slice(&n.to_le_bytes());
    }
}
