//! The RFC 6962 (Certificate Transparency) Merkle log.
//!
//! - leaf hash: `SHA256(0x00 || leaf)`
//! - node hash: `SHA256(0x01 || left || right)`
//! - root of the empty tree: `SHA256("")`
//! - a tree of `n > 1` leaves splits at `k`, the largest power of two smaller than `n`:
//!   `MTH(D[0..n]) = node(MTH(D[0..k]), MTH(D[k..n]))`.
//!
//! Proofs are ordered from the leaf level up. Verification follows RFC 6962 / RFC 9162
//! and the transparency-dev/merkle reference: a proof of the wrong length is rejected
//! before any hashing, and a consistency proof from the empty tree is rejected as
//! meaningless (every tree extends the empty tree; callers that want to accept it
//! must say so explicitly).

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::encoding::{encode_len, Decode, DecodeError, Encode, Reader};
use crate::hash::Hash32;

/// Why a Merkle proof or request was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MerkleError {
    /// The leaf index is not inside the tree.
    #[error("leaf index {index} is out of range for a tree of size {size}")]
    IndexOutOfRange {
        /// The requested index.
        index: u64,
        /// The tree size.
        size: u64,
    },
    /// The proof does not have the length that the sizes determine.
    #[error("wrong proof length: expected {expected} hashes, got {got}")]
    WrongProofLength {
        /// Length the sizes determine.
        expected: usize,
        /// Length supplied.
        got: usize,
    },
    /// The root computed from the proof differs from the claimed (new) root.
    #[error(
        "root mismatch: expected {}, computed {}",
        hex::encode(expected),
        hex::encode(computed)
    )]
    RootMismatch {
        /// The claimed root.
        expected: Hash32,
        /// The root the proof leads to.
        computed: Hash32,
    },
    /// A consistency proof does not lead to the claimed old root.
    #[error(
        "old root mismatch: expected {}, computed {}",
        hex::encode(expected),
        hex::encode(computed)
    )]
    OldRootMismatch {
        /// The claimed old root.
        expected: Hash32,
        /// The old root the proof leads to.
        computed: Hash32,
    },
    /// The old tree is larger than the new one.
    #[error("invalid tree sizes: old size {old_size} is larger than new size {new_size}")]
    InvalidSizes {
        /// The old tree size.
        old_size: u64,
        /// The new tree size.
        new_size: u64,
    },
    /// A consistency proof from the empty tree was requested or supplied.
    #[error("a consistency proof from the empty tree is meaningless")]
    EmptyOldTree,
    /// A frontier's subtree roots do not match its size.
    #[error("frontier of size {size} needs {expected} subtree roots, got {got}")]
    FrontierMismatch {
        /// The frontier size.
        size: u64,
        /// `popcount(size)`.
        expected: usize,
        /// Roots supplied.
        got: usize,
    },
    /// The log holds `u64::MAX` leaves and cannot grow.
    #[error("the log is full")]
    LogFull,
}

/// `SHA256(0x00 || data)`.
pub fn leaf_hash(data: &[u8]) -> Hash32 {
    let mut h = Sha256::new();
    h.update([0x00]);
    h.update(data);
    h.finalize().into()
}

/// `SHA256(0x01 || left || right)`.
pub fn node_hash(left: &Hash32, right: &Hash32) -> Hash32 {
    let mut h = Sha256::new();
    h.update([0x01]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// `SHA256("")`, the root of the empty tree.
pub fn empty_root() -> Hash32 {
    Sha256::digest([]).into()
}

/// The largest power of two strictly smaller than `n` (for `n >= 2`; 1 otherwise).
fn split_point(n: usize) -> usize {
    match n.saturating_sub(1).checked_ilog2() {
        Some(exp) => 1usize << exp,
        None => 1,
    }
}

fn len_u64(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// The root of the tree whose leaf hashes are `leaves`, in order.
pub fn root_from_leaf_hashes(leaves: &[Hash32]) -> Hash32 {
    match leaves {
        [] => empty_root(),
        [only] => *only,
        _ => {
            let (left, right) = leaves.split_at(split_point(leaves.len()));
            node_hash(&root_from_leaf_hashes(left), &root_from_leaf_hashes(right))
        }
    }
}

/// The audit path (RFC 6962 `PATH`) of leaf `index` in the tree of `leaves`.
pub fn inclusion_proof(leaves: &[Hash32], index: u64) -> Result<Vec<Hash32>, MerkleError> {
    let size = len_u64(leaves.len());
    let position = usize::try_from(index)
        .ok()
        .filter(|i| *i < leaves.len())
        .ok_or(MerkleError::IndexOutOfRange { index, size })?;
    let mut proof = Vec::new();
    audit_path(position, leaves, &mut proof);
    Ok(proof)
}

/// The audit paths of several leaves of one tree, in the order of `indices`. Subtree roots
/// the paths share are hashed once, so `k` paths cost about `n + k log n` hashes instead
/// of `k n` (a relayer fetches hundreds of paths under one checkpoint).
pub fn inclusion_proofs(
    leaves: &[Hash32],
    indices: &[u64],
) -> Result<Vec<Vec<Hash32>>, MerkleError> {
    let size = len_u64(leaves.len());
    let mut roots = BTreeMap::new();
    indices
        .iter()
        .map(|&index| {
            let position = usize::try_from(index)
                .ok()
                .filter(|i| *i < leaves.len())
                .ok_or(MerkleError::IndexOutOfRange { index, size })?;
            let mut proof = Vec::new();
            shared_audit_path(position, 0, leaves, &mut roots, &mut proof);
            Ok(proof)
        })
        .collect()
}

/// [`audit_path`] with subtree roots kept in `roots` by (offset, length). One path alone
/// keeps the plain recursion: the table would only cost it (up to 2n entries for a log of
/// n) without ever being read twice.
fn shared_audit_path(
    position: usize,
    offset: usize,
    leaves: &[Hash32],
    roots: &mut BTreeMap<(usize, usize), Hash32>,
    out: &mut Vec<Hash32>,
) {
    if leaves.len() < 2 {
        return;
    }
    let k = split_point(leaves.len());
    let (left, right) = leaves.split_at(k);
    if position < k {
        shared_audit_path(position, offset, left, roots, out);
        out.push(shared_root(offset + k, right, roots));
    } else {
        shared_audit_path(position - k, offset + k, right, roots, out);
        out.push(shared_root(offset, left, roots));
    }
}

fn shared_root(
    offset: usize,
    leaves: &[Hash32],
    roots: &mut BTreeMap<(usize, usize), Hash32>,
) -> Hash32 {
    if let Some(h) = roots.get(&(offset, leaves.len())) {
        return *h;
    }
    let h = match leaves {
        [] => empty_root(),
        [only] => *only,
        _ => {
            let k = split_point(leaves.len());
            let (left, right) = leaves.split_at(k);
            node_hash(
                &shared_root(offset, left, roots),
                &shared_root(offset + k, right, roots),
            )
        }
    };
    roots.insert((offset, leaves.len()), h);
    h
}

fn audit_path(position: usize, leaves: &[Hash32], out: &mut Vec<Hash32>) {
    if leaves.len() < 2 {
        return;
    }
    let (left, right) = leaves.split_at(split_point(leaves.len()));
    if position < left.len() {
        audit_path(position, left, out);
        out.push(root_from_leaf_hashes(right));
    } else {
        audit_path(position - left.len(), right, out);
        out.push(root_from_leaf_hashes(left));
    }
}

/// Number of bits needed to write `x` (0 for 0).
fn bit_len(x: u64) -> u32 {
    u64::BITS - x.leading_zeros()
}

/// Bit `i` of `x` (false beyond bit 63).
fn bit(x: u64, i: usize) -> bool {
    u32::try_from(i)
        .ok()
        .and_then(|i| x.checked_shr(i))
        .is_some_and(|v| v & 1 == 1)
}

fn to_usize(x: u32) -> usize {
    usize::try_from(x).unwrap_or(usize::MAX)
}

/// Checks that `leaf_hash` is leaf `index` of the tree of `tree_size` leaves with root
/// `root`, given its audit path.
pub fn verify_inclusion(
    leaf_hash: &Hash32,
    index: u64,
    tree_size: u64,
    proof: &[Hash32],
    root: &Hash32,
) -> Result<(), MerkleError> {
    if index >= tree_size {
        return Err(MerkleError::IndexOutOfRange {
            index,
            size: tree_size,
        });
    }
    let last = tree_size - 1;
    // Below level `inner` the path to `index` has a sibling at every level; above it the
    // path runs along the right border, where only right children have a (left) sibling.
    let inner = bit_len(index ^ last);
    let border = index.checked_shr(inner).unwrap_or(0).count_ones();
    let expected = to_usize(inner).saturating_add(to_usize(border));
    if proof.len() != expected {
        return Err(MerkleError::WrongProofLength {
            expected,
            got: proof.len(),
        });
    }
    let (inner_part, border_part) = proof.split_at(to_usize(inner));
    let mut h = *leaf_hash;
    for (level, sibling) in inner_part.iter().enumerate() {
        h = if bit(index, level) {
            node_hash(sibling, &h)
        } else {
            node_hash(&h, sibling)
        };
    }
    for sibling in border_part {
        h = node_hash(sibling, &h);
    }
    if h != *root {
        return Err(MerkleError::RootMismatch {
            expected: *root,
            computed: h,
        });
    }
    Ok(())
}

/// The consistency proof (RFC 6962 `PROOF`) that the first `old_size` leaves of
/// `leaves` form a prefix of the whole tree. Empty when `old_size == leaves.len()`.
pub fn consistency_proof(leaves: &[Hash32], old_size: u64) -> Result<Vec<Hash32>, MerkleError> {
    let new_size = len_u64(leaves.len());
    if old_size > new_size {
        return Err(MerkleError::InvalidSizes { old_size, new_size });
    }
    if old_size == 0 {
        return Err(MerkleError::EmptyOldTree);
    }
    let old =
        usize::try_from(old_size).map_err(|_| MerkleError::InvalidSizes { old_size, new_size })?;
    let mut proof = Vec::new();
    subproof(old, leaves, true, &mut proof);
    Ok(proof)
}

/// RFC 6962 `SUBPROOF(m, D, complete)`; requires `1 <= m <= D.len()`.
fn subproof(m: usize, leaves: &[Hash32], complete: bool, out: &mut Vec<Hash32>) {
    if m >= leaves.len() {
        if !complete {
            out.push(root_from_leaf_hashes(leaves));
        }
        return;
    }
    let (left, right) = leaves.split_at(split_point(leaves.len()));
    if m <= left.len() {
        subproof(m, left, complete, out);
        out.push(root_from_leaf_hashes(right));
    } else {
        subproof(m - left.len(), right, false, out);
        out.push(root_from_leaf_hashes(left));
    }
}

/// Checks that the tree of `old_size` leaves with root `old_root` is a prefix of the
/// tree of `new_size` leaves with root `new_root`.
///
/// Equal sizes need an empty proof and equal roots. An `old_size` of 0 is rejected
/// ([`MerkleError::EmptyOldTree`]), as in the reference implementation.
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash32,
    new_root: &Hash32,
    proof: &[Hash32],
) -> Result<(), MerkleError> {
    if old_size > new_size {
        return Err(MerkleError::InvalidSizes { old_size, new_size });
    }
    if old_size == 0 {
        return Err(MerkleError::EmptyOldTree);
    }
    if old_size == new_size {
        if !proof.is_empty() {
            return Err(MerkleError::WrongProofLength {
                expected: 0,
                got: proof.len(),
            });
        }
        if old_root != new_root {
            return Err(MerkleError::RootMismatch {
                expected: *new_root,
                computed: *old_root,
            });
        }
        return Ok(());
    }

    // Follow the path of the old tree's last leaf in the new tree. Its lowest `shift`
    // levels lie inside a perfect subtree of the old tree, whose root is the seed: the
    // old root itself when the old size is a power of two, else the first proof hash.
    let last_old = old_size - 1;
    let last_new = new_size - 1;
    let shift = old_size.trailing_zeros();
    let inner = bit_len(last_old ^ last_new).saturating_sub(shift);
    let border = last_old
        .checked_shr(bit_len(last_old ^ last_new))
        .unwrap_or(0)
        .count_ones();
    let seeded_by_old_root = old_size.is_power_of_two();
    let expected = usize::from(!seeded_by_old_root)
        .saturating_add(to_usize(inner))
        .saturating_add(to_usize(border));
    if proof.len() != expected {
        return Err(MerkleError::WrongProofLength {
            expected,
            got: proof.len(),
        });
    }
    let (seed, rest) = if seeded_by_old_root {
        (*old_root, proof)
    } else {
        match proof.split_first() {
            Some((first, rest)) => (*first, rest),
            None => return Err(MerkleError::WrongProofLength { expected, got: 0 }),
        }
    };
    let (inner_part, border_part) = rest.split_at(to_usize(inner).min(rest.len()));
    let position = last_old.checked_shr(shift).unwrap_or(0);
    let mut old_hash = seed;
    let mut new_hash = seed;
    for (level, sibling) in inner_part.iter().enumerate() {
        if bit(position, level) {
            old_hash = node_hash(sibling, &old_hash);
            new_hash = node_hash(sibling, &new_hash);
        } else {
            // A right sibling exists only in the new tree.
            new_hash = node_hash(&new_hash, sibling);
        }
    }
    for sibling in border_part {
        old_hash = node_hash(sibling, &old_hash);
        new_hash = node_hash(sibling, &new_hash);
    }
    if old_hash != *old_root {
        return Err(MerkleError::OldRootMismatch {
            expected: *old_root,
            computed: old_hash,
        });
    }
    if new_hash != *new_root {
        return Err(MerkleError::RootMismatch {
            expected: *new_root,
            computed: new_hash,
        });
    }
    Ok(())
}

/// An append-only log kept in O(log n) space: its size and the roots of the perfect
/// subtrees that make it up (one per set bit of the size, largest and leftmost first).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MerkleFrontier {
    size: u64,
    peaks: Vec<Hash32>,
}

impl MerkleFrontier {
    /// The empty log.
    pub fn new() -> Self {
        Self::default()
    }

    /// Rebuilds a frontier from its size and subtree roots (largest first).
    pub fn from_parts(size: u64, peaks: Vec<Hash32>) -> Result<Self, MerkleError> {
        let expected = to_usize(size.count_ones());
        if peaks.len() != expected {
            return Err(MerkleError::FrontierMismatch {
                size,
                expected,
                got: peaks.len(),
            });
        }
        Ok(Self { size, peaks })
    }

    /// The frontier of the tree whose leaf hashes are `leaves`.
    pub fn from_leaf_hashes(leaves: &[Hash32]) -> Self {
        let mut frontier = Self::new();
        for leaf in leaves {
            frontier.append(*leaf);
        }
        frontier
    }

    /// Number of leaves in the log.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The roots of the perfect subtrees, largest (leftmost) first.
    pub fn peaks(&self) -> &[Hash32] {
        &self.peaks
    }

    /// Appends a leaf hash; fails only when the log already holds `u64::MAX` leaves.
    pub fn try_append(&mut self, leaf_hash: Hash32) -> Result<(), MerkleError> {
        let new_size = self.size.checked_add(1).ok_or(MerkleError::LogFull)?;
        let mut carry = leaf_hash;
        // Each trailing one bit of the old size is a subtree of the same height as
        // `carry`: merge them, like a binary increment.
        for _ in 0..self.size.trailing_ones() {
            match self.peaks.pop() {
                Some(left) => carry = node_hash(&left, &carry),
                None => break,
            }
        }
        self.peaks.push(carry);
        self.size = new_size;
        Ok(())
    }

    /// Appends a leaf hash. A log of `u64::MAX` leaves is full and stays unchanged
    /// (use [`MerkleFrontier::try_append`] to observe that).
    pub fn append(&mut self, leaf_hash: Hash32) {
        // Unreachable in practice: 2^64 appends.
        let _ = self.try_append(leaf_hash);
    }

    /// The root of the log (equal to [`root_from_leaf_hashes`] of every leaf so far).
    pub fn root(&self) -> Hash32 {
        let mut peaks = self.peaks.iter().rev();
        let Some(smallest) = peaks.next() else {
            return empty_root();
        };
        peaks.fold(*smallest, |acc, left| node_hash(left, &acc))
    }
}

/// `size (u64) || count (u32) || count × 32-byte subtree roots`, with
/// `count == popcount(size)`.
impl Encode for MerkleFrontier {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.size.encode_to(out);
        encode_len(self.peaks.len(), out);
        for peak in &self.peaks {
            out.extend_from_slice(peak);
        }
    }
}

impl Decode for MerkleFrontier {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let size = r.read_u64()?;
        let count = r.read_len(64)?;
        let expected = size.count_ones();
        if len_u64(count) != u64::from(expected) {
            return Err(DecodeError::CountMismatch {
                what: "frontier subtree roots (popcount of size)",
                expected: u64::from(expected),
                got: len_u64(count),
            });
        }
        let mut peaks = Vec::with_capacity(count);
        for _ in 0..count {
            peaks.push(r.read_array()?);
        }
        Ok(Self { size, peaks })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn leaves(n: usize) -> Vec<Hash32> {
        (0..n)
            .map(|i| leaf_hash(&(i as u64).to_be_bytes()))
            .collect()
    }

    #[test]
    fn split_point_is_largest_power_of_two_below() {
        assert_eq!(split_point(2), 1);
        assert_eq!(split_point(3), 2);
        assert_eq!(split_point(4), 2);
        assert_eq!(split_point(5), 4);
        assert_eq!(split_point(9), 8);
    }

    #[test]
    fn three_leaves_are_not_padded() {
        let l = leaves(3);
        let expected = node_hash(&node_hash(&l[0], &l[1]), &l[2]);
        assert_eq!(root_from_leaf_hashes(&l), expected);
        let mut padded = l.clone();
        padded.push(l[2]);
        assert_ne!(root_from_leaf_hashes(&padded), expected);
    }

    #[test]
    fn empty_and_single_leaf_trees() {
        assert_eq!(root_from_leaf_hashes(&[]), empty_root());
        assert_eq!(
            inclusion_proof(&[], 0),
            Err(MerkleError::IndexOutOfRange { index: 0, size: 0 })
        );
        let l = leaves(1);
        assert_eq!(inclusion_proof(&l, 0).unwrap(), Vec::<Hash32>::new());
        verify_inclusion(&l[0], 0, 1, &[], &l[0]).unwrap();
        assert_eq!(consistency_proof(&l, 0), Err(MerkleError::EmptyOldTree));
        assert_eq!(consistency_proof(&l, 1).unwrap(), Vec::<Hash32>::new());
    }

    #[test]
    fn huge_sizes_do_not_panic() {
        let h = [7u8; 32];
        let proof = vec![h; 64];
        let _ = verify_inclusion(&h, u64::MAX - 1, u64::MAX, &proof, &h);
        let _ = verify_inclusion(&h, 0, u64::MAX, &proof, &h);
        let _ = verify_consistency(1, u64::MAX, &h, &h, &proof);
        let _ = verify_consistency(u64::MAX - 1, u64::MAX, &h, &h, &proof);
        let _ = verify_consistency(1 << 63, u64::MAX, &h, &h, &proof);
        let _ = verify_consistency(3, 1 << 63, &h, &h, &proof);
    }

    #[test]
    fn frontier_decode_rejects_wrong_count() {
        let mut f = MerkleFrontier::new();
        for l in leaves(5) {
            f.append(l);
        }
        let bytes = f.to_bytes();
        assert_eq!(MerkleFrontier::from_bytes(&bytes).unwrap(), f);
        let mut bad = 5u64.to_be_bytes().to_vec();
        bad.extend_from_slice(&1u32.to_be_bytes());
        bad.extend_from_slice(&[0u8; 32]);
        assert!(matches!(
            MerkleFrontier::from_bytes(&bad),
            Err(DecodeError::CountMismatch { .. })
        ));
    }
}
