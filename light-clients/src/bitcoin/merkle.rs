//! Transaction Merkle trees: full roots, single branches and BIP37 partial trees.
//!
//! Bitcoin pads an odd level by pairing its last node with itself, so the lists `[a, b, c]`
//! and `[a, b, c, c]` share a root (CVE-2012-2459). Every verifier here refuses a proof that
//! leans on that: identical siblings are accepted only where the right one *is* the padding
//! of the last node of an odd level, and never when the proven position is the padding.
//!
//! The other ambiguity, a 64-byte "transaction" that is really two concatenated child
//! hashes, cannot be seen from txids alone; it is refused where the transaction's bytes are
//! at hand ([`super::tx::txid_checked`], [`super::client::BitcoinClient`]).

use super::header::{BlockHeader, HEADER_LEN};
use super::{display_hex, merkle_parent, BitcoinError, Hash32, Reader};

/// Most transactions a block can hold (4,000,000 weight / 240 minimum weight), Core's bound
/// on a partial Merkle tree.
pub const MAX_BLOCK_TXS: u32 = 16_666;
/// Tree levels above the leaves for [`MAX_BLOCK_TXS`] leaves.
pub const MAX_TREE_HEIGHT: usize = 15;
/// Most siblings accepted by the count-free branch check (an index is a `u32`).
pub const MAX_BRANCH_LEN: usize = 32;
/// Most flag bytes in a partial tree: one bit per node of the largest tree, rounded up.
pub const MAX_FLAG_BYTES: usize = 4_200;

/// Levels above the leaves of a tree with `count` leaves (0 for a single leaf).
pub fn tree_height(count: u32) -> usize {
    let mut height = 0;
    while level_width(count, height) > 1 {
        height += 1;
    }
    height
}

/// Number of nodes at `height` (0 = leaves) of a tree with `count` leaves.
fn level_width(count: u32, height: usize) -> u64 {
    if height >= 64 {
        return u64::from(count.min(1));
    }
    (u64::from(count) + (1u64 << height) - 1) >> height
}

/// The Merkle root of `txids` and whether the list is "mutated" (two identical adjacent
/// nodes were hashed together where one is not padding — Core's `ComputeMerkleRoot`).
/// `None` for an empty list.
pub fn merkle_root(txids: &[Hash32]) -> Option<(Hash32, bool)> {
    if txids.is_empty() {
        return None;
    }
    let mut level: Vec<Hash32> = txids.to_vec();
    let mut mutated = false;
    while level.len() > 1 {
        let mut next = Vec::with_capacity(level.len().div_ceil(2));
        for pair in level.chunks(2) {
            match pair {
                [left, right] => {
                    if left == right {
                        mutated = true;
                    }
                    next.push(merkle_parent(left, right));
                }
                [last] => next.push(merkle_parent(last, last)),
                _ => {}
            }
        }
        level = next;
    }
    level.first().map(|root| (*root, mutated))
}

/// The branch of the leaf at `index` in the tree over `txids` (one sibling per level, the
/// node itself where it is the unpaired last node). `None` when `index` is out of range.
pub fn build_branch(txids: &[Hash32], index: usize) -> Option<MerkleBranch> {
    if index >= txids.len() || txids.len() > MAX_BLOCK_TXS as usize {
        return None;
    }
    let mut level: Vec<Hash32> = txids.to_vec();
    let mut pos = index;
    let mut siblings = Vec::new();
    while level.len() > 1 {
        let sib = level.get(pos ^ 1).or_else(|| level.get(pos))?;
        siblings.push(*sib);
        let mut next = Vec::with_capacity(level.len().div_ceil(2));
        for pair in level.chunks(2) {
            match pair {
                [l, r] => next.push(merkle_parent(l, r)),
                [l] => next.push(merkle_parent(l, l)),
                _ => {}
            }
        }
        level = next;
        pos /= 2;
    }
    Some(MerkleBranch {
        tx_index: u32::try_from(index).ok()?,
        tx_count: u32::try_from(txids.len()).ok()?,
        siblings,
    })
}

/// A Merkle branch for one transaction in a block of known size.
///
/// The header does not commit to the transaction count, so `tx_count` is the prover's
/// claim; what makes it useful is that it fixes the tree's shape, so each sibling's role
/// (real neighbour or padding) is determined and checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MerkleBranch {
    /// Position of the transaction in the block.
    pub tx_index: u32,
    /// Number of transactions in the block.
    pub tx_count: u32,
    /// One sibling per level, leaves first.
    pub siblings: Vec<Hash32>,
}

impl MerkleBranch {
    /// Decodes `tx_index (u32 LE) || tx_count (u32 LE) || CompactSize n || n × 32 bytes`.
    pub fn decode(bytes: &[u8]) -> Result<Self, BitcoinError> {
        let mut r = Reader::new(bytes, "merkle branch");
        let tx_index = r.u32_le()?;
        let tx_count = r.u32_le()?;
        let n = r.count("merkle branch siblings", MAX_TREE_HEIGHT as u64)?;
        let mut siblings = Vec::with_capacity(n);
        for _ in 0..n {
            siblings.push(r.array()?);
        }
        r.finish()?;
        Ok(Self {
            tx_index,
            tx_count,
            siblings,
        })
    }

    /// The encoding [`Self::decode`] reads.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(9 + 32 * self.siblings.len());
        out.extend_from_slice(&self.tx_index.to_le_bytes());
        out.extend_from_slice(&self.tx_count.to_le_bytes());
        super::write_varint(&mut out, self.siblings.len() as u64);
        for s in &self.siblings {
            out.extend_from_slice(s);
        }
        out
    }

    /// The root this branch yields for `txid`, refusing shapes the tree cannot have.
    pub fn compute_root(&self, txid: &Hash32) -> Result<Hash32, BitcoinError> {
        if self.tx_count == 0 {
            return Err(BitcoinError::NoTransactions);
        }
        if self.tx_count > MAX_BLOCK_TXS {
            return Err(BitcoinError::LimitExceeded {
                what: "transactions in block",
                max: u64::from(MAX_BLOCK_TXS),
                got: u64::from(self.tx_count),
            });
        }
        if self.tx_index >= self.tx_count {
            return Err(BitcoinError::IndexOutOfRange {
                index: u64::from(self.tx_index),
                count: u64::from(self.tx_count),
            });
        }
        let height = tree_height(self.tx_count);
        if self.siblings.len() != height {
            return Err(BitcoinError::BranchLengthMismatch {
                expected: height,
                got: self.siblings.len(),
            });
        }
        let mut node = *txid;
        let mut pos = u64::from(self.tx_index);
        for (level, sibling) in self.siblings.iter().enumerate() {
            let width = level_width(self.tx_count, level);
            let is_right = pos & 1 == 1;
            let is_unpaired_last = !is_right && pos + 1 == width;
            if is_unpaired_last {
                // The level is odd and we are its last node: the only valid "sibling" is
                // the node itself.
                if *sibling != node {
                    return Err(BitcoinError::BadPadding {
                        level: level as u32,
                    });
                }
            } else if *sibling == node {
                return Err(BitcoinError::DuplicateSubtree {
                    level: level as u32,
                });
            }
            node = if is_right {
                merkle_parent(sibling, &node)
            } else {
                merkle_parent(&node, sibling)
            };
            pos >>= 1;
        }
        Ok(node)
    }

    /// Checks that `txid` sits at `tx_index` under `root`.
    pub fn verify(&self, txid: &Hash32, root: &Hash32) -> Result<(), BitcoinError> {
        let computed = self.compute_root(txid)?;
        if computed != *root {
            return Err(BitcoinError::MerkleRootMismatch {
                expected: display_hex(root),
                computed: display_hex(&computed),
            });
        }
        Ok(())
    }
}

/// The root a branch yields when the block size is not known (the summa-tx format).
///
/// Without the count the tree's shape is unknown, so the padding case cannot be told from a
/// forged one when the proven node is on the left; what is refused is the proven position
/// being the padding itself (a right child equal to its left sibling) and index bits above
/// the branch's height. Prefer [`MerkleBranch`] where the count is available.
pub fn compute_root_without_count(
    txid: &Hash32,
    siblings: &[Hash32],
    index: u64,
) -> Result<Hash32, BitcoinError> {
    if siblings.len() > MAX_BRANCH_LEN {
        return Err(BitcoinError::LimitExceeded {
            what: "merkle branch siblings",
            max: MAX_BRANCH_LEN as u64,
            got: siblings.len() as u64,
        });
    }
    if siblings.len() < 64 && index >> siblings.len() != 0 {
        return Err(BitcoinError::IndexOutOfRange {
            index,
            count: 1u64 << siblings.len(),
        });
    }
    let mut node = *txid;
    let mut pos = index;
    for (level, sibling) in siblings.iter().enumerate() {
        if pos & 1 == 1 {
            if *sibling == node {
                return Err(BitcoinError::DuplicateSubtree {
                    level: level as u32,
                });
            }
            node = merkle_parent(sibling, &node);
        } else {
            node = merkle_parent(&node, sibling);
        }
        pos >>= 1;
    }
    Ok(node)
}

/// A BIP37 `merkleblock` (the output of `gettxoutproof`): a header and a partial Merkle tree
/// that reveals some of its transactions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MerkleBlock {
    /// The block header.
    pub header: BlockHeader,
    /// Transactions in the block (the prover's claim; it shapes the tree).
    pub tx_count: u32,
    /// Hashes in depth-first order.
    pub hashes: Vec<Hash32>,
    /// Flag bits, least significant bit of the first byte first.
    pub flags: Vec<u8>,
}

/// What a verified `merkleblock` proves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedMerkleBlock {
    /// The header whose Merkle root the tree reproduced.
    pub header: BlockHeader,
    /// The transactions marked as matched, with their positions in the block.
    pub matches: Vec<(u32, Hash32)>,
}

impl MerkleBlock {
    /// Decodes a `merkleblock`, bounding every count before allocating.
    pub fn decode(bytes: &[u8]) -> Result<Self, BitcoinError> {
        let mut r = Reader::new(bytes, "merkleblock");
        let header_bytes = r.take(HEADER_LEN)?;
        let header = BlockHeader::decode(header_bytes)?;
        let tx_count = r.u32_le()?;
        let n = r.count("merkleblock hashes", u64::from(MAX_BLOCK_TXS))?;
        if n.saturating_mul(32) > r.remaining() {
            return Err(BitcoinError::Truncated {
                what: "merkleblock hashes",
                need: n.saturating_mul(32),
                got: r.remaining(),
            });
        }
        let mut hashes = Vec::with_capacity(n);
        for _ in 0..n {
            hashes.push(r.array()?);
        }
        let nf = r.count("merkleblock flag bytes", MAX_FLAG_BYTES as u64)?;
        let flags = r.take(nf)?.to_vec();
        r.finish()?;
        Ok(Self {
            header,
            tx_count,
            hashes,
            flags,
        })
    }

    /// Walks the partial tree (Core's `CPartialMerkleTree::ExtractMatches`) and returns the
    /// root and the matched transactions.
    pub fn extract_matches(&self) -> Result<(Hash32, Vec<(u32, Hash32)>), BitcoinError> {
        if self.tx_count == 0 {
            return Err(BitcoinError::NoTransactions);
        }
        if self.tx_count > MAX_BLOCK_TXS {
            return Err(BitcoinError::LimitExceeded {
                what: "transactions in block",
                max: u64::from(MAX_BLOCK_TXS),
                got: u64::from(self.tx_count),
            });
        }
        if self.hashes.len() > self.tx_count as usize {
            return Err(BitcoinError::PartialTreeUnused { what: "hashes" });
        }
        let total_bits = self.flags.len().saturating_mul(8);
        if total_bits < self.hashes.len() {
            return Err(BitcoinError::PartialTreeExhausted { what: "flag bits" });
        }
        let height = tree_height(self.tx_count);
        let mut walk = Walk {
            tree: self,
            bits_used: 0,
            hashes_used: 0,
            matches: Vec::new(),
        };
        let root = walk.traverse(height, 0)?;
        if walk.bits_used.div_ceil(8) != self.flags.len() {
            return Err(BitcoinError::PartialTreeUnused { what: "flag bits" });
        }
        if walk.hashes_used != self.hashes.len() {
            return Err(BitcoinError::PartialTreeUnused { what: "hashes" });
        }
        Ok((root, walk.matches))
    }

    /// Checks the partial tree against the header's Merkle root.
    pub fn verify(&self) -> Result<VerifiedMerkleBlock, BitcoinError> {
        let (root, matches) = self.extract_matches()?;
        if root != self.header.merkle_root {
            return Err(BitcoinError::MerkleRootMismatch {
                expected: display_hex(&self.header.merkle_root),
                computed: display_hex(&root),
            });
        }
        Ok(VerifiedMerkleBlock {
            header: self.header,
            matches,
        })
    }
}

/// Decodes and verifies a `merkleblock` / `txoutproof` in one step (a fuzzing entry).
pub fn verify_merkleblock(bytes: &[u8]) -> Result<VerifiedMerkleBlock, BitcoinError> {
    MerkleBlock::decode(bytes)?.verify()
}

struct Walk<'a> {
    tree: &'a MerkleBlock,
    bits_used: usize,
    hashes_used: usize,
    matches: Vec<(u32, Hash32)>,
}

impl Walk<'_> {
    fn next_bit(&mut self) -> Result<bool, BitcoinError> {
        let byte = self
            .tree
            .flags
            .get(self.bits_used / 8)
            .ok_or(BitcoinError::PartialTreeExhausted { what: "flag bits" })?;
        let bit = (byte >> (self.bits_used % 8)) & 1 == 1;
        self.bits_used += 1;
        Ok(bit)
    }

    fn next_hash(&mut self) -> Result<Hash32, BitcoinError> {
        let hash = self
            .tree
            .hashes
            .get(self.hashes_used)
            .ok_or(BitcoinError::PartialTreeExhausted { what: "hashes" })?;
        self.hashes_used += 1;
        Ok(*hash)
    }

    // Depth is bounded by MAX_TREE_HEIGHT (the count is checked first), so recursion is too.
    fn traverse(&mut self, height: usize, pos: u64) -> Result<Hash32, BitcoinError> {
        let parent_of_match = self.next_bit()?;
        if height == 0 || !parent_of_match {
            let hash = self.next_hash()?;
            if height == 0 && parent_of_match {
                // pos < tx_count ≤ MAX_BLOCK_TXS here.
                self.matches.push((pos as u32, hash));
            }
            return Ok(hash);
        }
        let left = self.traverse(height - 1, pos * 2)?;
        let right = if pos * 2 + 1 < level_width(self.tree.tx_count, height - 1) {
            let right = self.traverse(height - 1, pos * 2 + 1)?;
            if right == left {
                return Err(BitcoinError::DuplicateSubtree {
                    level: (height - 1) as u32,
                });
            }
            right
        } else {
            left
        };
        Ok(merkle_parent(&left, &right))
    }
}
