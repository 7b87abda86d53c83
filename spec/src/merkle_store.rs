//! RFC 6962 proofs read from stored subtree roots instead of from every leaf.
//!
//! A log that keeps the root of every perfect, aligned subtree it has completed (level
//! `l` holds the `2^l`-leaf subtrees, the `i`-th one covering leaves `[i·2^l, (i+1)·2^l)`)
//! answers any root, inclusion proof or consistency proof at any size it has reached
//! with O(log² n) reads of those roots and no leaf scan. Appending a leaf completes one
//! subtree per trailing one bit of the old size, which [`appended_subtrees`] names from
//! the frontier alone. The proofs are byte-for-byte those of [`crate::merkle`].

use thiserror::Error;

use crate::hash::Hash32;
use crate::merkle::{empty_root, node_hash, MerkleError, MerkleFrontier};

/// Why a proof could not be read from stored subtrees.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum StoredTreeError {
    /// The sizes or index asked for are not a valid request.
    #[error(transparent)]
    Merkle(#[from] MerkleError),
    /// A subtree root the request needs is not stored (damage, or a size the log has
    /// not reached).
    #[error("the log holds no subtree root at level {level}, index {index}")]
    Missing {
        /// The subtree's level (`2^level` leaves).
        level: u8,
        /// Its index among the subtrees of that level.
        index: u64,
    },
    /// The store could not be read.
    #[error("log tree read failed: {0}")]
    Read(String),
}

/// Where the stored subtree roots come from (the node's store; a map in tests).
pub trait SubtreeRoots {
    /// The root of subtree `index` at `level`, if stored.
    fn subtree_root(&self, level: u8, index: u64) -> Result<Option<Hash32>, StoredTreeError>;
}

impl SubtreeRoots for std::collections::BTreeMap<(u8, u64), Hash32> {
    fn subtree_root(&self, level: u8, index: u64) -> Result<Option<Hash32>, StoredTreeError> {
        Ok(self.get(&(level, index)).copied())
    }
}

/// The subtrees that appending `leaf_hash` to a log at `frontier` completes, as
/// `(level, index, root)`: the leaf itself at level 0, then one per trailing one bit of
/// the old size. Store these with the leaf and the log can prove at every later size.
pub fn appended_subtrees(frontier: &MerkleFrontier, leaf_hash: Hash32) -> Vec<(u8, u64, Hash32)> {
    let n = frontier.size();
    let mut out = vec![(0u8, n, leaf_hash)];
    let mut carry = leaf_hash;
    let peaks = frontier.peaks();
    for t in 0..n.trailing_ones() {
        let Some(left) = peaks
            .len()
            .checked_sub(1 + t as usize)
            .and_then(|i| peaks.get(i))
        else {
            break;
        };
        carry = node_hash(left, &carry);
        let level = (t + 1) as u8;
        out.push((level, n >> (t + 1), carry));
    }
    out
}

fn read(src: &dyn SubtreeRoots, level: u8, index: u64) -> Result<Hash32, StoredTreeError> {
    src.subtree_root(level, index)?
        .ok_or(StoredTreeError::Missing { level, index })
}

/// Largest power of two strictly below `n` (`n >= 2`), the RFC 6962 split.
fn split(n: u64) -> u64 {
    1u64 << (63 - (n - 1).leading_zeros())
}

/// `MTH(D[lo:hi])` for `lo < hi`.
fn range_root(src: &dyn SubtreeRoots, lo: u64, hi: u64) -> Result<Hash32, StoredTreeError> {
    let len = hi - lo;
    if len.is_power_of_two() && lo.is_multiple_of(len) {
        return read(src, len.trailing_zeros() as u8, lo / len);
    }
    let k = split(len);
    Ok(node_hash(
        &range_root(src, lo, lo + k)?,
        &range_root(src, lo + k, hi)?,
    ))
}

/// The root of the log when it held `size` leaves.
pub fn stored_root(src: &dyn SubtreeRoots, size: u64) -> Result<Hash32, StoredTreeError> {
    if size == 0 {
        return Ok(empty_root());
    }
    range_root(src, 0, size)
}

/// The audit path of leaf `index` in the log at `size` leaves
/// (equal to [`crate::merkle::inclusion_proof`]).
pub fn stored_inclusion_proof(
    src: &dyn SubtreeRoots,
    index: u64,
    size: u64,
) -> Result<Vec<Hash32>, StoredTreeError> {
    if index >= size {
        return Err(MerkleError::IndexOutOfRange { index, size }.into());
    }
    let mut path = Vec::new();
    let (mut lo, mut hi) = (0u64, size);
    // Walk down to the leaf, collecting siblings top-down; RFC 6962 lists them bottom-up.
    while hi - lo > 1 {
        let k = split(hi - lo);
        if index < lo + k {
            path.push(range_root(src, lo + k, hi)?);
            hi = lo + k;
        } else {
            path.push(range_root(src, lo, lo + k)?);
            lo += k;
        }
    }
    path.reverse();
    Ok(path)
}

/// The consistency proof from the log at `old_size` leaves to the log at `new_size`
/// (equal to [`crate::merkle::consistency_proof`]).
pub fn stored_consistency_proof(
    src: &dyn SubtreeRoots,
    old_size: u64,
    new_size: u64,
) -> Result<Vec<Hash32>, StoredTreeError> {
    if old_size > new_size {
        return Err(MerkleError::InvalidSizes { old_size, new_size }.into());
    }
    if old_size == 0 {
        return Err(MerkleError::EmptyOldTree.into());
    }
    let mut proof = Vec::new();
    let (mut lo, mut hi, mut m, mut complete) = (0u64, new_size, old_size, true);
    // SUBPROOF(m, D[lo:hi], complete), unrolled: each level appends one sibling after the
    // deeper part, so collect top-down and reverse.
    let mut tail = Vec::new();
    loop {
        if m == hi - lo {
            if !complete {
                proof.push(range_root(src, lo, hi)?);
            }
            break;
        }
        let k = split(hi - lo);
        if m <= k {
            tail.push(range_root(src, lo + k, hi)?);
            hi = lo + k;
        } else {
            tail.push(range_root(src, lo, lo + k)?);
            m -= k;
            lo += k;
            complete = false;
        }
    }
    proof.extend(tail.into_iter().rev());
    Ok(proof)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::merkle::{consistency_proof, inclusion_proof, leaf_hash, root_from_leaf_hashes};

    /// Leaves, stored subtree roots, and the frontier at every size.
    type Grown = (
        Vec<Hash32>,
        BTreeMap<(u8, u64), Hash32>,
        Vec<MerkleFrontier>,
    );

    fn grow(n: u64) -> Grown {
        let mut leaves = Vec::new();
        let mut nodes = BTreeMap::new();
        let mut frontier = MerkleFrontier::new();
        let mut frontiers = vec![frontier.clone()];
        for i in 0..n {
            let leaf = leaf_hash(&i.to_be_bytes());
            for (level, index, root) in appended_subtrees(&frontier, leaf) {
                assert!(nodes.insert((level, index), root).is_none());
            }
            frontier.append(leaf);
            frontiers.push(frontier.clone());
            leaves.push(leaf);
        }
        (leaves, nodes, frontiers)
    }

    #[test]
    fn stored_proofs_equal_the_proofs_from_every_leaf() {
        let (leaves, nodes, frontiers) = grow(70);
        // Every perfect aligned subtree is stored once: 2n - popcount(n) roots.
        assert_eq!(nodes.len() as u64, 2 * 70 - 70u64.count_ones() as u64);
        for size in 1..=70u64 {
            let prefix = &leaves[..size as usize];
            let root = stored_root(&nodes, size).unwrap();
            assert_eq!(root, root_from_leaf_hashes(prefix));
            assert_eq!(root, frontiers[size as usize].root());
            for index in 0..size {
                assert_eq!(
                    stored_inclusion_proof(&nodes, index, size).unwrap(),
                    inclusion_proof(prefix, index).unwrap(),
                    "index {index} size {size}"
                );
            }
            for old in 1..=size {
                assert_eq!(
                    stored_consistency_proof(&nodes, old, size).unwrap(),
                    consistency_proof(prefix, old).unwrap(),
                    "old {old} size {size}"
                );
            }
        }
        assert_eq!(stored_root(&nodes, 0).unwrap(), empty_root());
    }

    #[test]
    fn bad_requests_and_missing_subtrees_are_named() {
        let (_, mut nodes, _) = grow(8);
        assert_eq!(
            stored_inclusion_proof(&nodes, 8, 8),
            Err(StoredTreeError::Merkle(MerkleError::IndexOutOfRange {
                index: 8,
                size: 8
            }))
        );
        assert_eq!(
            stored_consistency_proof(&nodes, 0, 8),
            Err(StoredTreeError::Merkle(MerkleError::EmptyOldTree))
        );
        assert!(matches!(
            stored_consistency_proof(&nodes, 9, 8),
            Err(StoredTreeError::Merkle(MerkleError::InvalidSizes { .. }))
        ));
        // A size the log never reached needs roots it does not have.
        assert_eq!(
            stored_root(&nodes, 9),
            Err(StoredTreeError::Missing { level: 0, index: 8 })
        );
        nodes.remove(&(2, 1));
        assert_eq!(
            stored_inclusion_proof(&nodes, 0, 8),
            Err(StoredTreeError::Missing { level: 2, index: 1 })
        );
    }
}
