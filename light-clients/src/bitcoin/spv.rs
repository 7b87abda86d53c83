//! The self-contained SPV proof of summa-tx/bitcoin-spv: a transaction in parts, its Merkle
//! branch, and the header that confirms it together with the header's claimed fields.
//!
//! This checks the proof's internal consistency only; whether the header is buried on the
//! best chain is the client's question ([`super::client::BitcoinClient`]).

use super::header::BlockHeader;
use super::merkle::{compute_root_without_count, MAX_BRANCH_LEN};
use super::tx::{validate_vin, validate_vout, AMBIGUOUS_TX_LEN};
use super::{display_hex, sha256d, BitcoinError, Hash32};

/// A confirming header with the fields a prover claims for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimedHeader {
    /// The 80 raw bytes.
    pub raw: Vec<u8>,
    /// Claimed block hash (internal order).
    pub hash: Hash32,
    /// Claimed Merkle root (internal order).
    pub merkle_root: Hash32,
    /// Claimed parent hash (internal order).
    pub prev_hash: Hash32,
    /// Claimed height (not checkable from the header alone).
    pub height: u64,
}

/// A summa-tx SPV proof.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpvProof {
    /// 4-byte version.
    pub version: Vec<u8>,
    /// Input vector (count + inputs).
    pub vin: Vec<u8>,
    /// Output vector (count + outputs).
    pub vout: Vec<u8>,
    /// 4-byte locktime.
    pub locktime: Vec<u8>,
    /// Claimed txid (internal order).
    pub tx_id: Hash32,
    /// Position of the transaction in the block.
    pub index: u64,
    /// Concatenated 32-byte siblings, leaves first.
    pub intermediate_nodes: Vec<u8>,
    /// The confirming header.
    pub confirming_header: ClaimedHeader,
}

/// Converts a slice to a 32-byte hash, with a named error for other lengths.
pub fn hash_from_slice(what: &'static str, bytes: &[u8]) -> Result<Hash32, BitcoinError> {
    fixed_bytes::<32>(what, bytes)
}

/// Converts a slice to `N` bytes, with a named error for other lengths.
pub fn fixed_bytes<const N: usize>(
    what: &'static str,
    bytes: &[u8],
) -> Result<[u8; N], BitcoinError> {
    <[u8; N]>::try_from(bytes).map_err(|_| BitcoinError::WrongLength {
        what,
        expected: N,
        got: bytes.len(),
    })
}

/// Checks that the claimed hash, Merkle root and parent of a header are the raw header's.
/// Returns the decoded header.
pub fn verify_claimed_header(claimed: &ClaimedHeader) -> Result<BlockHeader, BitcoinError> {
    let header = BlockHeader::decode(&claimed.raw)?;
    if header.block_hash() != claimed.hash {
        return Err(BitcoinError::HeaderHashMismatch);
    }
    if header.merkle_root != claimed.merkle_root {
        return Err(BitcoinError::HeaderMerkleRootMismatch);
    }
    if header.prev_blockhash != claimed.prev_hash {
        return Err(BitcoinError::HeaderPrevHashMismatch);
    }
    Ok(header)
}

/// Splits concatenated siblings into hashes.
pub fn split_nodes(nodes: &[u8]) -> Result<Vec<Hash32>, BitcoinError> {
    if !nodes.len().is_multiple_of(32) {
        return Err(BitcoinError::WrongLength {
            what: "intermediate nodes (multiple of 32)",
            expected: nodes.len() - nodes.len() % 32,
            got: nodes.len(),
        });
    }
    if nodes.len() / 32 > MAX_BRANCH_LEN {
        return Err(BitcoinError::LimitExceeded {
            what: "merkle branch siblings",
            max: MAX_BRANCH_LEN as u64,
            got: (nodes.len() / 32) as u64,
        });
    }
    Ok(nodes
        .chunks_exact(32)
        .map(|c| {
            let mut h = [0u8; 32];
            h.copy_from_slice(c);
            h
        })
        .collect())
}

/// Checks an SPV proof in summa's order: inputs, outputs, txid, header fields, Merkle
/// branch. Returns the confirming header.
pub fn verify_spv_proof(proof: &SpvProof) -> Result<BlockHeader, BitcoinError> {
    if proof.version.len() != 4 {
        return Err(BitcoinError::WrongLength {
            what: "tx version",
            expected: 4,
            got: proof.version.len(),
        });
    }
    if proof.locktime.len() != 4 {
        return Err(BitcoinError::WrongLength {
            what: "tx locktime",
            expected: 4,
            got: proof.locktime.len(),
        });
    }
    validate_vin(&proof.vin)?;
    validate_vout(&proof.vout)?;
    let mut tx = Vec::with_capacity(8 + proof.vin.len() + proof.vout.len());
    tx.extend_from_slice(&proof.version);
    tx.extend_from_slice(&proof.vin);
    tx.extend_from_slice(&proof.vout);
    tx.extend_from_slice(&proof.locktime);
    if tx.len() == AMBIGUOUS_TX_LEN {
        return Err(BitcoinError::SixtyFourByteTransaction);
    }
    let txid = sha256d(&tx);
    if txid != proof.tx_id {
        return Err(BitcoinError::TxidMismatch {
            expected: display_hex(&proof.tx_id),
            computed: display_hex(&txid),
        });
    }
    let header = verify_claimed_header(&proof.confirming_header)?;
    let siblings = split_nodes(&proof.intermediate_nodes)?;
    let root = compute_root_without_count(&txid, &siblings, proof.index)?;
    if root != header.merkle_root {
        return Err(BitcoinError::MerkleRootMismatch {
            expected: display_hex(&header.merkle_root),
            computed: display_hex(&root),
        });
    }
    Ok(header)
}
