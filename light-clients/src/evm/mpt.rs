//! Merkle-Patricia proofs: EIP-1186 account and storage proofs, receipt (and transaction)
//! inclusion proofs.
//!
//! Contract used by the EVM clients (QBFT and attested headers):
//! - [`verify_account`]`(state_root, address, account_proof) -> Result<Option<Account>, MptError>`
//!   (`None` = the account is proven absent),
//! - [`verify_storage`]`(storage_root, slot, storage_proof) -> Result<[u8; 32], MptError>`
//!   (the zero word when the slot is absent),
//! - [`verify_receipt`]`(receipts_root, index, proof) -> Result<Option<Vec<u8>>, MptError>`
//!   (the typed receipt bytes exactly as the trie stores them),
//! - [`verify_state`]`(state_root, receipts_root, path: &EvmPath, value, proof: &EvmProof)`
//!   for the clients' `verify_membership`, and [`verify_state_absent`] for
//!   `verify_non_membership`.
//!
//! All of them run on [`verify_proof`], our own proof walker: it checks every node against the
//! hash its parent committed to, decodes branch / extension / leaf nodes (hex-prefix paths,
//! hashed or inline children), refuses non-canonical encodings, missing and trailing nodes,
//! and bounds nodes, bytes and key length. It never allocates. [`verify_proof_with_alloy`]
//! and [`check_storage_with_alloy`] run `alloy_trie::proof::verify_proof` on the same input:
//! the reference the tests and the benchmark compare against.
//!
//! Verdicts agree with alloy-trie 0.9 on every trie Ethereum produces. Ours is stricter on
//! tries no client produces (a root committing to such nodes): an extension-divergence
//! absence proof followed by unused nodes ([`MptError::ExtraNode`]; alloy accepts), an even
//! hex-prefix with a non-zero pad nibble, an empty extension path, an extension whose child
//! is not a branch, an empty leaf value, bytes after a node, malformed child references. It
//! accepts two shapes alloy refuses: a root node shorter than 32 bytes (the root is always
//! hashed, as the Yellow Paper says) and a value stored in a branch (keys that are prefixes
//! of other keys, as in the generic trie tests; state, storage and receipt keys never are).

use alloy_primitives::{keccak256, Bytes, B256, U256};
use thiserror::Error;

/// keccak256(RLP("")): the root of the empty trie.
pub const EMPTY_ROOT: [u8; 32] = alloy_trie::EMPTY_ROOT_HASH.0;
/// keccak256(""): the code hash of an account without code.
pub const EMPTY_CODE_HASH: [u8; 32] = alloy_trie::KECCAK_EMPTY.0;
/// Most nodes in one proof. A key of 32 bytes is 64 nibbles; each branch or extension
/// consumes at least one, and the leaf ends the walk.
pub const MAX_PROOF_NODES: usize = 65;
/// Most bytes in one proof (all nodes together). Generous enough for a receipt carrying
/// every log a 60M-gas block can emit.
pub const MAX_PROOF_BYTES: usize = 8 * 1024 * 1024;
/// Longest key the walker accepts (bytes). Secure-trie keys are 32, receipt keys at most 9.
pub const MAX_KEY_BYTES: usize = 32;

/// Why a Merkle-Patricia proof was refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum MptError {
    /// The root is the zero word, or the empty-trie root while a value is claimed.
    #[error("the root is zero or the empty trie, no value can be proven")]
    EmptyRoot,
    /// The first proof node does not hash to the trusted root.
    #[error("the first proof node does not hash to the root")]
    RootMismatch,
    /// A later node does not hash to the reference its parent holds.
    #[error("proof node {index} does not hash to its parent's reference")]
    NodeHashMismatch {
        /// Position of the node in the proof.
        index: usize,
    },
    /// The walk needs a node the proof does not carry.
    #[error("the proof stops before the key is resolved (node {index} missing)")]
    MissingNode {
        /// Position the missing node would have.
        index: usize,
    },
    /// The key was resolved but the proof carries more nodes.
    #[error("proof node {index} is never used")]
    ExtraNode {
        /// Position of the first unused node.
        index: usize,
    },
    /// Bytes that are not RLP.
    #[error("malformed RLP: {0}")]
    Decode(&'static str),
    /// Valid RLP that a canonical encoder would never produce.
    #[error("non-canonical encoding: {0}")]
    NonCanonical(&'static str),
    /// An RLP structure that is not a trie node (or not a well-formed one).
    #[error("invalid trie node: {0}")]
    InvalidNode(&'static str),
    /// The proven value differs from the claimed one (or the key is absent).
    #[error("the proven value differs from the claimed value")]
    ValueMismatch,
    /// More proof nodes than [`MAX_PROOF_NODES`].
    #[error("proof has {got} nodes, at most {max} allowed")]
    TooManyNodes {
        /// Nodes given.
        got: usize,
        /// The bound.
        max: usize,
    },
    /// More proof bytes than [`MAX_PROOF_BYTES`].
    #[error("proof has {got} bytes, at most {max} allowed")]
    TooLarge {
        /// Bytes given.
        got: usize,
        /// The bound.
        max: usize,
    },
    /// A key longer than [`MAX_KEY_BYTES`].
    #[error("key has {got} bytes, at most {max} allowed")]
    KeyTooLong {
        /// Bytes given.
        got: usize,
        /// The bound.
        max: usize,
    },
    /// A storage slot was claimed in an account the state proves absent.
    #[error("the account is absent from the state")]
    AccountAbsent,
    /// Membership of the zero storage word was claimed; zero means absent.
    #[error("the zero word is absence; prove it with non-membership")]
    ZeroValue,
    /// The claimed value has the wrong shape for the path (a storage word is 32 bytes).
    #[error("the claimed value is malformed: {0}")]
    InvalidValue(&'static str),
    /// A proof section this path does not use is not empty.
    #[error("the {0} section of the proof must be empty for this path")]
    UnusedProof(&'static str),
}

impl crate::NamedError for MptError {
    fn name(&self) -> &'static str {
        match self {
            MptError::EmptyRoot => "empty_root",
            MptError::RootMismatch => "root_mismatch",
            MptError::NodeHashMismatch { .. } => "node_hash_mismatch",
            MptError::MissingNode { .. } => "missing_node",
            MptError::ExtraNode { .. } => "extra_node",
            MptError::Decode(_) => "decode",
            MptError::NonCanonical(_) => "non_canonical",
            MptError::InvalidNode(_) => "invalid_node",
            MptError::ValueMismatch => "value_mismatch",
            MptError::TooManyNodes { .. } => "too_many_nodes",
            MptError::TooLarge { .. } => "too_large",
            MptError::KeyTooLong { .. } => "key_too_long",
            MptError::AccountAbsent => "account_absent",
            MptError::ZeroValue => "zero_value",
            MptError::InvalidValue(_) => "invalid_value",
            MptError::UnusedProof(_) => "unused_proof",
        }
    }
}

// ---------------------------------------------------------------------------------------
// RLP, canonical only, borrowing.

/// One RLP item: whether it is a list, its payload, and how many bytes it took.
#[derive(Clone, Copy)]
struct Item<'a> {
    list: bool,
    payload: &'a [u8],
    len: usize,
}

/// Reads the item at the start of `buf`, refusing every non-canonical length form.
#[inline]
fn read_item(buf: &[u8]) -> Result<Item<'_>, MptError> {
    let Some(&b) = buf.first() else {
        return Err(MptError::Decode("unexpected end of input"));
    };
    let (list, head, payload_len) = match b {
        0x00..=0x7f => {
            return Ok(Item {
                list: false,
                payload: buf.get(..1).unwrap_or_default(),
                len: 1,
            })
        }
        0x80..=0xb7 => (false, 1usize, usize::from(b - 0x80)),
        0xb8..=0xbf => {
            let n = usize::from(b - 0xb7);
            (false, 1 + n, read_long_len(buf, n)?)
        }
        0xc0..=0xf7 => (true, 1usize, usize::from(b - 0xc0)),
        0xf8..=0xff => {
            let n = usize::from(b - 0xf7);
            (true, 1 + n, read_long_len(buf, n)?)
        }
    };
    let end = head
        .checked_add(payload_len)
        .ok_or(MptError::Decode("length overflow"))?;
    let payload = buf
        .get(head..end)
        .ok_or(MptError::Decode("item runs past the input"))?;
    if !list && payload_len == 1 && payload.first().is_some_and(|&p| p < 0x80) {
        return Err(MptError::NonCanonical(
            "single byte below 0x80 wrapped in a string",
        ));
    }
    Ok(Item {
        list,
        payload,
        len: end,
    })
}

#[inline]
fn read_long_len(buf: &[u8], n: usize) -> Result<usize, MptError> {
    if n > 4 {
        return Err(MptError::Decode("length of length above 4 bytes"));
    }
    let bytes = buf
        .get(1..1 + n)
        .ok_or(MptError::Decode("length runs past the input"))?;
    if bytes.first() == Some(&0) {
        return Err(MptError::NonCanonical("length with a leading zero"));
    }
    let len = bytes
        .iter()
        .fold(0usize, |acc, &x| (acc << 8) | usize::from(x));
    if len < 56 {
        return Err(MptError::NonCanonical("long length form below 56"));
    }
    Ok(len)
}

/// The item that must span all of `buf`.
#[inline]
fn read_exact(buf: &[u8]) -> Result<Item<'_>, MptError> {
    let item = read_item(buf)?;
    if item.len != buf.len() {
        return Err(MptError::Decode("bytes after the item"));
    }
    Ok(item)
}

/// Splits a list payload into its items; `N` is the most items accepted.
#[inline]
fn split_list<'a, const N: usize>(
    mut payload: &'a [u8],
    items: &mut [Item<'a>; N],
) -> Result<usize, MptError> {
    let mut count = 0;
    while !payload.is_empty() {
        let item = read_item(payload)?;
        let slot = items
            .get_mut(count)
            .ok_or(MptError::InvalidNode("a node has 2 or 17 items"))?;
        *slot = Item {
            list: item.list,
            payload: item.payload,
            len: item.len,
        };
        count += 1;
        payload = payload.get(item.len..).unwrap_or_default();
    }
    Ok(count)
}

/// A canonical RLP integer of at most `N` bytes, as big-endian bytes right-aligned.
#[inline]
fn canonical_uint<const N: usize>(item: &Item<'_>) -> Result<[u8; N], MptError> {
    if item.list {
        return Err(MptError::InvalidValue("integer encoded as a list"));
    }
    let p = item.payload;
    if p.len() > N {
        return Err(MptError::InvalidValue("integer too wide"));
    }
    if p.first() == Some(&0) {
        return Err(MptError::NonCanonical("integer with a leading zero"));
    }
    let mut out = [0u8; N];
    if let Some(dst) = out.get_mut(N - p.len()..) {
        dst.copy_from_slice(p);
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// The walker.

/// Nibble `i` of `bytes` (high nibble first); `None` past the end.
#[inline(always)]
fn nibble(bytes: &[u8], i: usize) -> Option<u8> {
    bytes.get(i / 2).map(|b| {
        if i.is_multiple_of(2) {
            b >> 4
        } else {
            b & 0x0f
        }
    })
}

/// A reference from a node to a child.
enum ChildRef<'a> {
    Empty,
    Hash(&'a [u8]),
    Inline(&'a [u8]),
}

/// How a branch or extension points at a child: an empty string, a 32-byte hash, or an
/// embedded node whose encoding is shorter than 32 bytes.
#[inline]
fn child_ref<'a>(item: &Item<'a>, encoded: &'a [u8]) -> Result<ChildRef<'a>, MptError> {
    if item.list {
        if item.len < 32 {
            Ok(ChildRef::Inline(encoded))
        } else {
            Err(MptError::InvalidNode(
                "embedded child of 32 bytes or more must be hashed",
            ))
        }
    } else if item.payload.is_empty() {
        Ok(ChildRef::Empty)
    } else if item.payload.len() == 32 {
        Ok(ChildRef::Hash(item.payload))
    } else {
        Err(MptError::InvalidNode(
            "child reference is neither a hash nor a node",
        ))
    }
}

/// What one proof entry resolved to.
enum Step<'a> {
    /// Continue with the node of this hash; `branch_only` when an extension points at it.
    Next { hash: &'a [u8], branch_only: bool },
    /// The key is resolved: its value, or `None` when absent.
    Done(Option<&'a [u8]>),
}

/// Walks one proof entry (and the nodes embedded in it) along `key` from nibble `*pos`.
#[inline]
fn walk_entry<'a>(
    mut node: &'a [u8],
    key: &[u8],
    pos: &mut usize,
    mut branch_only: bool,
) -> Result<Step<'a>, MptError> {
    let key_nibbles = key.len() * 2;
    // Every pass consumes at least one nibble or returns, and embedded nodes shrink, so the
    // loop is bounded by the key length.
    loop {
        let outer = read_exact(node)?;
        if !outer.list {
            return Err(MptError::InvalidNode("a node is a list"));
        }
        let mut items = [Item {
            list: false,
            payload: &[],
            len: 0,
        }; 17];
        let count = split_list(outer.payload, &mut items)?;
        // Starting offset of each item inside the payload, to hand out encoded children.
        match count {
            17 => {
                let mut offset = 0usize;
                let mut chosen: Option<ChildRef<'a>> = None;
                let want = if *pos < key_nibbles {
                    nibble(key, *pos)
                } else {
                    None
                };
                for (i, item) in items.iter().take(16).enumerate() {
                    let encoded = outer
                        .payload
                        .get(offset..offset + item.len)
                        .unwrap_or_default();
                    let r = child_ref(item, encoded)?;
                    if want == Some(i as u8) {
                        chosen = Some(r);
                    }
                    offset += item.len;
                }
                let value = items.get(16).map(|v| (v.list, v.payload));
                let Some((value_is_list, value)) = value else {
                    return Err(MptError::InvalidNode("branch without value slot"));
                };
                if value_is_list {
                    return Err(MptError::InvalidNode("branch value is a list"));
                }
                match chosen {
                    // The key ends here: the branch's own value slot answers.
                    None => {
                        return Ok(Step::Done(if value.is_empty() {
                            None
                        } else {
                            Some(value)
                        }))
                    }
                    Some(ChildRef::Empty) => return Ok(Step::Done(None)),
                    Some(ChildRef::Hash(h)) => {
                        *pos += 1;
                        return Ok(Step::Next {
                            hash: h,
                            branch_only: false,
                        });
                    }
                    Some(ChildRef::Inline(n)) => {
                        *pos += 1;
                        node = n;
                        branch_only = false;
                    }
                }
            }
            2 => {
                if branch_only {
                    return Err(MptError::NonCanonical(
                        "an extension must point at a branch",
                    ));
                }
                let [path, second, ..] = items;
                if path.list {
                    return Err(MptError::InvalidNode("node path is a list"));
                }
                let hp = path.payload;
                let Some(&flag_byte) = hp.first() else {
                    return Err(MptError::InvalidNode("empty hex-prefix path"));
                };
                let flag = flag_byte >> 4;
                if flag > 3 {
                    return Err(MptError::InvalidNode("hex-prefix flag above 3"));
                }
                let odd = flag & 1 == 1;
                let leaf = flag & 2 == 2;
                if !odd && flag_byte & 0x0f != 0 {
                    return Err(MptError::NonCanonical(
                        "even hex-prefix with a non-zero pad",
                    ));
                }
                let skip = if odd { 1 } else { 2 };
                let path_len = hp.len() * 2 - skip;
                if !leaf && path_len == 0 {
                    return Err(MptError::NonCanonical("extension with an empty path"));
                }
                // Divergence: the key is not in this subtree.
                let matches = *pos + path_len <= key_nibbles
                    && (0..path_len).all(|j| nibble(hp, j + skip) == nibble(key, *pos + j));
                if leaf {
                    if second.list {
                        return Err(MptError::InvalidNode("leaf value is a list"));
                    }
                    if second.payload.is_empty() {
                        return Err(MptError::NonCanonical("leaf with an empty value"));
                    }
                    let hit = matches && *pos + path_len == key_nibbles;
                    *pos += path_len;
                    return Ok(Step::Done(hit.then_some(second.payload)));
                }
                let start = outer.payload.len() - second.len;
                let encoded = outer.payload.get(start..).unwrap_or_default();
                let child = child_ref(&second, encoded)?;
                if !matches {
                    // Still validate the reference so a malformed node is never accepted.
                    if let ChildRef::Empty = child {
                        return Err(MptError::InvalidNode("extension without a child"));
                    }
                    return Ok(Step::Done(None));
                }
                *pos += path_len;
                match child {
                    ChildRef::Empty => {
                        return Err(MptError::InvalidNode("extension without a child"))
                    }
                    ChildRef::Hash(h) => {
                        return Ok(Step::Next {
                            hash: h,
                            branch_only: true,
                        })
                    }
                    ChildRef::Inline(n) => {
                        node = n;
                        branch_only = true;
                    }
                }
            }
            _ => return Err(MptError::InvalidNode("a node has 2 or 17 items")),
        }
    }
}

/// Checks that the proof's total size is within bounds.
#[inline]
fn check_bounds<P: AsRef<[u8]>>(key: &[u8], proof: &[P]) -> Result<(), MptError> {
    if key.len() > MAX_KEY_BYTES {
        return Err(MptError::KeyTooLong {
            got: key.len(),
            max: MAX_KEY_BYTES,
        });
    }
    if proof.len() > MAX_PROOF_NODES {
        return Err(MptError::TooManyNodes {
            got: proof.len(),
            max: MAX_PROOF_NODES,
        });
    }
    let total = proof
        .iter()
        .fold(0usize, |acc, n| acc.saturating_add(n.as_ref().len()));
    if total > MAX_PROOF_BYTES {
        return Err(MptError::TooLarge {
            got: total,
            max: MAX_PROOF_BYTES,
        });
    }
    Ok(())
}

/// Top nodes of tries whose hash this thread has checked, by the hash's first byte: a
/// root and the nodes just below it, which every proof against that root repeats (a
/// relayer's transaction proves many slots under one storage root). A node is found only
/// when its bytes equal the bytes that were hashed, so an answer from here is the answer
/// keccak would give.
struct CheckedNodes {
    slots: Vec<Option<([u8; 32], Vec<u8>)>>,
}

/// Proof positions whose nodes [`CheckedNodes`] keeps: the root (0) and its children (1).
const CHECKED_DEPTH: usize = 2;
/// Largest node [`CheckedNodes`] keeps (a full branch is 532 bytes; a lone leaf can be a
/// whole receipt).
const CHECKED_NODE_BYTES: usize = 1024;

std::thread_local! {
    static CHECKED: std::cell::RefCell<CheckedNodes> =
        std::cell::RefCell::new(CheckedNodes { slots: vec![None; 256] });
}

/// Whether `node` hashes to `expected`.
fn hashes_to(node: &[u8], expected: &[u8], index: usize) -> bool {
    let Ok(want) = <&[u8; 32]>::try_from(expected) else {
        return false;
    };
    if index >= CHECKED_DEPTH || node.len() > CHECKED_NODE_BYTES {
        return keccak256(node).as_slice() == want;
    }
    let slot = usize::from(want[0]);
    let known = CHECKED.with(|c| {
        c.borrow()
            .slots
            .get(slot)
            .and_then(Option::as_ref)
            .is_some_and(|(h, bytes)| h == want && bytes.as_slice() == node)
    });
    if known {
        return true;
    }
    if keccak256(node).as_slice() != want {
        return false;
    }
    CHECKED.with(|c| {
        if let Some(s) = c.borrow_mut().slots.get_mut(slot) {
            *s = Some((*want, node.to_vec()));
        }
    });
    true
}

/// Our proof walker: the value stored under `key` in the trie of `root`, `None` when the
/// proof shows the key absent. `proof` lists the hashed nodes from the root down (as
/// `eth_getProof` returns them); embedded nodes are read inside their parent.
///
/// Refuses the zero root; accepts the empty-trie root only with an empty proof (or the single
/// node `0x80`) and reports the key absent.
pub fn verify_proof<'p, P: AsRef<[u8]>>(
    root: &[u8; 32],
    key: &[u8],
    proof: &'p [P],
) -> Result<Option<&'p [u8]>, MptError> {
    if *root == [0u8; 32] {
        return Err(MptError::EmptyRoot);
    }
    check_bounds(key, proof)?;
    if *root == EMPTY_ROOT {
        return match proof {
            [] => Ok(None),
            [only] if only.as_ref() == [0x80] => Ok(None),
            [first, ..] if first.as_ref() == [0x80] => Err(MptError::ExtraNode { index: 1 }),
            _ => Err(MptError::RootMismatch),
        };
    }
    let mut expected: &[u8] = root;
    let mut pos = 0usize;
    let mut branch_only = false;
    for (index, node) in proof.iter().enumerate() {
        let node = node.as_ref();
        if !hashes_to(node, expected, index) {
            return Err(if index == 0 {
                MptError::RootMismatch
            } else {
                MptError::NodeHashMismatch { index }
            });
        }
        match walk_entry(node, key, &mut pos, branch_only)? {
            Step::Next {
                hash,
                branch_only: b,
            } => {
                expected = hash;
                branch_only = b;
            }
            Step::Done(value) => {
                if index + 1 < proof.len() {
                    return Err(MptError::ExtraNode { index: index + 1 });
                }
                return Ok(value);
            }
        }
    }
    Err(MptError::MissingNode { index: proof.len() })
}

/// The reference: `alloy_trie::proof::verify_proof` for `key` holding `expected`
/// (`None` = absent), with its error mapped onto ours. Benchmarks compare it with
/// [`verify_proof`]. `key` is at most 32 bytes here too (alloy's nibble type holds 64).
///
/// alloy-trie 0.9.9 panics when a crafted proof walks more than 64 nibbles (an extension
/// or leaf path past the key's end); that panic is caught here and reported as
/// [`MptError::InvalidNode`], so the wrapper is safe on any input (with unwinding panics).
pub fn verify_proof_with_alloy(
    root: &[u8; 32],
    key: &[u8],
    expected: Option<&[u8]>,
    proof: &[Bytes],
) -> Result<(), MptError> {
    if key.len() > MAX_KEY_BYTES {
        return Err(MptError::KeyTooLong {
            got: key.len(),
            max: MAX_KEY_BYTES,
        });
    }
    let nibbles = alloy_trie::Nibbles::unpack(key);
    alloy_check(
        B256::from(*root),
        nibbles,
        expected.map(<[u8]>::to_vec),
        proof,
    )
}

fn alloy_check(
    root: B256,
    key: alloy_trie::Nibbles,
    expected: Option<Vec<u8>>,
    proof: &[Bytes],
) -> Result<(), MptError> {
    use alloy_trie::proof::ProofVerificationError as E;
    let run = || alloy_trie::proof::verify_proof(root, key, expected, proof.iter());
    match std::panic::catch_unwind(run) {
        Ok(Ok(())) => Ok(()),
        Ok(Err(E::RootMismatch { .. })) => Err(MptError::RootMismatch),
        Ok(Err(E::ValueMismatch { .. })) => Err(MptError::ValueMismatch),
        Ok(Err(E::UnexpectedEmptyRoot)) => Err(MptError::InvalidNode("unexpected empty node")),
        Ok(Err(E::Rlp(_))) => Err(MptError::Decode("alloy-rlp refused a node")),
        Err(_) => Err(MptError::InvalidNode("alloy-trie panicked on this proof")),
    }
}

// ---------------------------------------------------------------------------------------
// Accounts and storage (EIP-1186).

/// An account as the state trie stores it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    /// Transactions sent (or contracts created).
    pub nonce: u64,
    /// Balance in wei.
    pub balance: U256,
    /// Root of the account's storage trie.
    pub storage_root: [u8; 32],
    /// keccak256 of the account's code.
    pub code_hash: [u8; 32],
}

impl Account {
    /// Decodes the RLP list `[nonce, balance, storageRoot, codeHash]`, canonical only.
    pub fn decode(bytes: &[u8]) -> Result<Self, MptError> {
        let outer = read_exact(bytes)?;
        if !outer.list {
            return Err(MptError::InvalidValue("account is not a list"));
        }
        let mut items = [Item {
            list: false,
            payload: &[],
            len: 0,
        }; 4];
        if split_list(outer.payload, &mut items)
            .map_err(|_| MptError::InvalidValue("account has 4 fields"))?
            != 4
        {
            return Err(MptError::InvalidValue("account has 4 fields"));
        }
        let [nonce, balance, storage_root, code_hash] = items;
        let nonce = u64::from_be_bytes(canonical_uint::<8>(&nonce)?);
        let balance = U256::from_be_bytes(canonical_uint::<32>(&balance)?);
        let word = |item: Item<'_>| -> Result<[u8; 32], MptError> {
            if item.list {
                return Err(MptError::InvalidValue("hash encoded as a list"));
            }
            item.payload
                .try_into()
                .map_err(|_| MptError::InvalidValue("hash is not 32 bytes"))
        };
        Ok(Self {
            nonce,
            balance,
            storage_root: word(storage_root)?,
            code_hash: word(code_hash)?,
        })
    }

    /// The canonical RLP encoding (what the state trie stores).
    pub fn encode(&self) -> Vec<u8> {
        let trie = alloy_trie::TrieAccount {
            nonce: self.nonce,
            balance: self.balance,
            storage_root: B256::from(self.storage_root),
            code_hash: B256::from(self.code_hash),
        };
        alloy_rlp::encode(trie)
    }
}

/// The account at `address` in the state of `state_root`; `None` when proven absent.
pub fn verify_account<P: AsRef<[u8]>>(
    state_root: &[u8; 32],
    address: &[u8; 20],
    account_proof: &[P],
) -> Result<Option<Account>, MptError> {
    let key = keccak256(address);
    match verify_proof(state_root, key.as_slice(), account_proof)? {
        None => Ok(None),
        Some(bytes) => Account::decode(bytes).map(Some),
    }
}

/// Decodes a storage leaf: RLP of the big-endian integer without leading zeros, never zero.
#[inline]
fn decode_storage_value(bytes: &[u8]) -> Result<[u8; 32], MptError> {
    let item = read_exact(bytes)?;
    if item.payload.is_empty() {
        return Err(MptError::NonCanonical("zero stored in a storage slot"));
    }
    canonical_uint::<32>(&item)
}

/// The word in slot `slot` of the storage trie of `storage_root`; the zero word when the
/// proof shows the slot absent (also for the empty storage root with an empty proof).
pub fn verify_storage<P: AsRef<[u8]>>(
    storage_root: &[u8; 32],
    slot: &[u8; 32],
    storage_proof: &[P],
) -> Result<[u8; 32], MptError> {
    let key = keccak256(slot);
    match verify_proof(storage_root, key.as_slice(), storage_proof)? {
        None => Ok([0u8; 32]),
        Some(bytes) => decode_storage_value(bytes),
    }
}

/// Our walker as a yes/no check: `slot` holds `value` (the zero word = absent). The
/// benchmark's "our MPT path", compared with [`check_storage_with_alloy`].
pub fn check_storage<P: AsRef<[u8]>>(
    storage_root: &[u8; 32],
    slot: &[u8; 32],
    value: &[u8; 32],
    storage_proof: &[P],
) -> Result<(), MptError> {
    if verify_storage(storage_root, slot, storage_proof)? == *value {
        Ok(())
    } else {
        Err(MptError::ValueMismatch)
    }
}

/// The same check with `alloy_trie::proof::verify_proof` (the reference).
pub fn check_storage_with_alloy(
    storage_root: &[u8; 32],
    slot: &[u8; 32],
    value: &[u8; 32],
    storage_proof: &[Bytes],
) -> Result<(), MptError> {
    if *storage_root == [0u8; 32] {
        return Err(MptError::EmptyRoot);
    }
    let key = alloy_trie::Nibbles::unpack(keccak256(slot));
    let word = U256::from_be_bytes(*value);
    let expected = (!word.is_zero()).then(|| alloy_rlp::encode(word));
    alloy_check(B256::from(*storage_root), key, expected, storage_proof)
}

// ---------------------------------------------------------------------------------------
// Receipts and transactions.

/// The trie key of list position `index`: RLP(index).
pub fn index_key(index: u64) -> ([u8; 9], usize) {
    let mut out = [0u8; 9];
    let len = if index == 0 {
        out[0] = 0x80;
        1
    } else if index < 0x80 {
        out[0] = index as u8;
        1
    } else {
        let be = index.to_be_bytes();
        let skip = (index.leading_zeros() / 8) as usize;
        let n = 8 - skip;
        out[0] = 0x80 + n as u8;
        for (dst, src) in out.iter_mut().skip(1).zip(be.iter().skip(skip)) {
            *dst = *src;
        }
        1 + n
    };
    (out, len)
}

/// The receipt at position `index` in the receipts trie of `receipts_root`, as stored
/// (legacy RLP, or type byte followed by RLP); `None` when proven absent.
pub fn verify_receipt<P: AsRef<[u8]>>(
    receipts_root: &[u8; 32],
    index: u64,
    proof: &[P],
) -> Result<Option<Vec<u8>>, MptError> {
    let (key, len) = index_key(index);
    let key = key.get(..len).unwrap_or_default();
    Ok(verify_proof(receipts_root, key, proof)?.map(<[u8]>::to_vec))
}

/// The transaction at position `index` in the transactions trie (same shape as receipts).
pub fn verify_transaction<P: AsRef<[u8]>>(
    transactions_root: &[u8; 32],
    index: u64,
    proof: &[P],
) -> Result<Option<Vec<u8>>, MptError> {
    verify_receipt(transactions_root, index, proof)
}

// ---------------------------------------------------------------------------------------
// The clients' membership API.

/// What a membership proof of an EVM chain speaks about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EvmPath {
    /// A storage slot of a contract. Value: the 32-byte big-endian word.
    Storage {
        /// The contract.
        address: [u8; 20],
        /// The slot (already hashed by the caller when it is a mapping entry).
        slot: [u8; 32],
    },
    /// A whole account. Value: its RLP `[nonce, balance, storageRoot, codeHash]`.
    Account {
        /// The account.
        address: [u8; 20],
    },
    /// A receipt of the block. Value: the receipt bytes as the trie stores them.
    Receipt {
        /// Position of the transaction in the block.
        index: u64,
    },
}

/// Storage slot of the Junction gateway's `commitments` mapping (packet key hash → packet
/// commitment), as laid out in `adapters/evm/GATEWAY.md`.
pub const GATEWAY_COMMITMENTS_SLOT: u64 = 0;
/// Storage slot of the Junction gateway's `acks` mapping (packet key hash → receipt).
pub const GATEWAY_ACKS_SLOT: u64 = 1;

/// Where the gateway stores the commitment of the packet with key hash `key`.
pub fn commitment_slot(key: &[u8; 32]) -> [u8; 32] {
    mapping_slot(key, GATEWAY_COMMITMENTS_SLOT)
}

/// Where the gateway stores the receipt (ack commitment) of the packet with key hash `key`.
pub fn receipt_slot(key: &[u8; 32]) -> [u8; 32] {
    mapping_slot(key, GATEWAY_ACKS_SLOT)
}

/// The storage slot of `key` in a Solidity mapping declared at slot `slot`:
/// `keccak256(key ‖ uint256(slot))`.
pub fn mapping_slot(key: &[u8; 32], slot: u64) -> [u8; 32] {
    let mut preimage = [0u8; 64];
    preimage[..32].copy_from_slice(key);
    preimage[56..].copy_from_slice(&slot.to_be_bytes());
    super::header::keccak256(&preimage)
}

/// The proof that goes with an [`EvmPath`]. Sections the path does not use must be empty.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EvmProof {
    /// `accountProof` of `eth_getProof` (Account and Storage paths).
    pub account_proof: Vec<Vec<u8>>,
    /// `storageProof[i].proof` of `eth_getProof` (Storage paths).
    pub storage_proof: Vec<Vec<u8>>,
    /// Receipt-trie nodes from the root down (Receipt paths).
    pub receipt_proof: Vec<Vec<u8>>,
}

fn require_empty(section: &[Vec<u8>], name: &'static str) -> Result<(), MptError> {
    if section.is_empty() {
        Ok(())
    } else {
        Err(MptError::UnusedProof(name))
    }
}

/// Membership: `path` holds `value` under the block's `state_root` / `receipts_root`.
///
/// A claimed value under the zero or empty-trie root is [`MptError::EmptyRoot`]; a storage
/// claim in an absent account is [`MptError::AccountAbsent`]; the zero storage word is
/// [`MptError::ZeroValue`] (use [`verify_state_absent`]).
pub fn verify_state(
    state_root: &[u8; 32],
    receipts_root: &[u8; 32],
    path: &EvmPath,
    value: &[u8],
    proof: &EvmProof,
) -> Result<(), MptError> {
    let claimed_root = match path {
        EvmPath::Receipt { .. } => receipts_root,
        _ => state_root,
    };
    if *claimed_root == [0u8; 32] || *claimed_root == EMPTY_ROOT {
        return Err(MptError::EmptyRoot);
    }
    match path {
        EvmPath::Account { address } => {
            require_empty(&proof.storage_proof, "storage")?;
            require_empty(&proof.receipt_proof, "receipt")?;
            let key = keccak256(address);
            match verify_proof(state_root, key.as_slice(), &proof.account_proof)? {
                Some(stored) if stored == value => {
                    Account::decode(stored)?;
                    Ok(())
                }
                _ => Err(MptError::ValueMismatch),
            }
        }
        EvmPath::Storage { address, slot } => {
            require_empty(&proof.receipt_proof, "receipt")?;
            let word: &[u8; 32] = value
                .try_into()
                .map_err(|_| MptError::InvalidValue("a storage word is 32 bytes"))?;
            if *word == [0u8; 32] {
                return Err(MptError::ZeroValue);
            }
            let account = verify_account(state_root, address, &proof.account_proof)?
                .ok_or(MptError::AccountAbsent)?;
            if account.storage_root == EMPTY_ROOT || account.storage_root == [0u8; 32] {
                return Err(MptError::EmptyRoot);
            }
            check_storage(&account.storage_root, slot, word, &proof.storage_proof)
        }
        EvmPath::Receipt { index } => {
            require_empty(&proof.account_proof, "account")?;
            require_empty(&proof.storage_proof, "storage")?;
            let (key, len) = index_key(*index);
            let key = key.get(..len).unwrap_or_default();
            match verify_proof(receipts_root, key, &proof.receipt_proof)? {
                Some(stored) if stored == value => Ok(()),
                _ => Err(MptError::ValueMismatch),
            }
        }
    }
}

/// Non-membership: `path` holds nothing. A storage slot is absent when the account is
/// absent (then the storage section must be empty) or when the account's storage proves
/// the slot absent.
pub fn verify_state_absent(
    state_root: &[u8; 32],
    receipts_root: &[u8; 32],
    path: &EvmPath,
    proof: &EvmProof,
) -> Result<(), MptError> {
    match path {
        EvmPath::Account { address } => {
            require_empty(&proof.storage_proof, "storage")?;
            require_empty(&proof.receipt_proof, "receipt")?;
            match verify_account(state_root, address, &proof.account_proof)? {
                None => Ok(()),
                Some(_) => Err(MptError::ValueMismatch),
            }
        }
        EvmPath::Storage { address, slot } => {
            require_empty(&proof.receipt_proof, "receipt")?;
            match verify_account(state_root, address, &proof.account_proof)? {
                None => require_empty(&proof.storage_proof, "storage"),
                Some(account) => {
                    if verify_storage(&account.storage_root, slot, &proof.storage_proof)?
                        == [0u8; 32]
                    {
                        Ok(())
                    } else {
                        Err(MptError::ValueMismatch)
                    }
                }
            }
        }
        EvmPath::Receipt { index } => {
            require_empty(&proof.account_proof, "account")?;
            require_empty(&proof.storage_proof, "storage")?;
            match verify_receipt(receipts_root, *index, &proof.receipt_proof)? {
                None => Ok(()),
                Some(_) => Err(MptError::ValueMismatch),
            }
        }
    }
}

// ---------------------------------------------------------------------------------------

#[cfg(any(test, feature = "testkit"))]
pub mod testkit {
    //! Deterministic tries and proofs for tests and benchmarks (pure, no randomness).
    //!
    //! - [`storage_fixture`]: a storage trie of `n` slots and the proof of one of them (the
    //!   benchmark input for [`super::check_storage`] vs [`super::check_storage_with_alloy`]);
    //! - [`build_with_proofs`]: any prefix-free key set through alloy's `HashBuilder`;
    //! - [`ordered_with_proofs`]: a receipts / transactions trie (key = RLP(index));
    //! - [`reference_root`] / [`reference_proof`]: our own recursive trie builder, which also
    //!   handles keys that are prefixes of others (values in branches), for the generic
    //!   ethereum-tests vectors.

    use super::{index_key, keccak256, Bytes};
    use alloy_primitives::U256;
    use alloy_trie::{proof::ProofRetainer, HashBuilder, Nibbles};

    /// A storage trie's root with one slot, its value and its proof.
    #[derive(Clone, Debug)]
    pub struct StorageFixture {
        /// The storage root.
        pub storage_root: [u8; 32],
        /// The proven slot.
        pub slot: [u8; 32],
        /// Its value (never zero).
        pub value: [u8; 32],
        /// The proof, root first.
        pub proof: Vec<Bytes>,
        /// A slot that is not in the trie.
        pub absent_slot: [u8; 32],
        /// Its absence proof.
        pub absent_proof: Vec<Bytes>,
    }

    /// Slot `i` of the generated trie of `seed`.
    pub fn slot(seed: u64, i: u64) -> [u8; 32] {
        let mut pre = [0u8; 16];
        pre[..8].copy_from_slice(&seed.to_be_bytes());
        pre[8..].copy_from_slice(&i.to_be_bytes());
        keccak256(pre).0
    }

    /// Value of slot `i`: non-zero, of varying width (1..=32 bytes), deterministic.
    pub fn value(seed: u64, i: u64) -> [u8; 32] {
        let mut w = keccak256(slot(seed, i)).0;
        let width = 1 + (i % 32) as usize;
        for b in w.iter_mut().take(32 - width) {
            *b = 0;
        }
        if w[31] == 0 {
            w[31] = 1;
        }
        w
    }

    /// The `(slot, value)` pairs of the storage trie of `seed` with `n` slots.
    pub fn storage_entries(seed: u64, n: u64) -> Vec<([u8; 32], [u8; 32])> {
        (0..n).map(|i| (slot(seed, i), value(seed, i))).collect()
    }

    /// Builds the trie of `entries` (keys prefix-free, at most 32 bytes, any order; the last
    /// of duplicate keys wins) with alloy's `HashBuilder` and returns the root and, for
    /// each of `targets`, the proof nodes from the root down.
    pub fn build_with_proofs(
        entries: &[(Vec<u8>, Vec<u8>)],
        targets: &[Vec<u8>],
    ) -> ([u8; 32], Vec<Vec<Bytes>>) {
        let mut sorted: Vec<(Nibbles, &[u8])> = Vec::with_capacity(entries.len());
        for (k, v) in entries.iter().rev() {
            if k.len() <= 32 {
                sorted.push((Nibbles::unpack(k), v.as_slice()));
            }
        }
        // Stable sort after reversing keeps the last write of a key first; dedup keeps it.
        sorted.sort_by_key(|a| a.0);
        sorted.dedup_by(|a, b| a.0 == b.0);
        let wanted: Vec<Nibbles> = targets
            .iter()
            .filter(|t| t.len() <= 32)
            .map(Nibbles::unpack)
            .collect();
        let mut hb = HashBuilder::default().with_proof_retainer(ProofRetainer::new(wanted));
        for (k, v) in &sorted {
            hb.add_leaf(*k, v);
        }
        let root = hb.root().0;
        let nodes = hb.take_proof_nodes();
        let proofs = targets
            .iter()
            .map(|t| {
                if t.len() > 32 {
                    return Vec::new();
                }
                nodes
                    .matching_nodes_sorted(&Nibbles::unpack(t))
                    .into_iter()
                    // The builder retains embedded nodes too; a proof lists hashed ones only
                    // (the root is always hashed, whatever its size).
                    .filter(|(path, n)| path.is_empty() || n.len() >= 32)
                    .map(|(_, n)| n)
                    .collect()
            })
            .collect();
        (root, proofs)
    }

    /// A storage trie of `n` generated slots and the proofs of slot `target % n` and of a
    /// slot outside the trie.
    pub fn storage_fixture(seed: u64, n: u64, target: u64) -> StorageFixture {
        let n = n.max(1);
        let target = target % n;
        let entries: Vec<(Vec<u8>, Vec<u8>)> = storage_entries(seed, n)
            .into_iter()
            .map(|(s, v)| {
                (
                    keccak256(s).to_vec(),
                    alloy_rlp::encode(U256::from_be_bytes(v)),
                )
            })
            .collect();
        let the_slot = slot(seed, target);
        let absent_slot = slot(seed, n);
        let (storage_root, mut proofs) = build_with_proofs(
            &entries,
            &[
                keccak256(the_slot).to_vec(),
                keccak256(absent_slot).to_vec(),
            ],
        );
        let absent_proof = proofs.pop().unwrap_or_default();
        let proof = proofs.pop().unwrap_or_default();
        StorageFixture {
            storage_root,
            slot: the_slot,
            value: value(seed, target),
            proof,
            absent_slot,
            absent_proof,
        }
    }

    /// A state in which only `gateway` has storage, holding `value` at the commitment
    /// slot of `key_hash`: the state root and the EIP-1186 proof of that slot.
    pub fn commitment_proof(
        gateway: &[u8; 20],
        key_hash: &[u8; 32],
        value: &[u8; 32],
    ) -> ([u8; 32], super::EvmProof) {
        let key = keccak256(super::commitment_slot(key_hash)).to_vec();
        let entries = [(key.clone(), alloy_rlp::encode(U256::from_be_bytes(*value)))];
        gateway_state(gateway, &entries, key)
    }

    /// A state in which only `gateway` has storage, one slot other than the receipt slot
    /// of `key_hash`: the state root and the EIP-1186 proof that the receipt slot is empty
    /// (what a timeout proves).
    pub fn no_receipt_proof(
        gateway: &[u8; 20],
        key_hash: &[u8; 32],
    ) -> ([u8; 32], super::EvmProof) {
        let key = keccak256(super::receipt_slot(key_hash)).to_vec();
        let other = keccak256(b"another slot").to_vec();
        gateway_state(gateway, &[(other, alloy_rlp::encode(U256::from(1u8)))], key)
    }

    /// The state root of a state whose only account is `gateway` with `storage`, and the
    /// proof of the storage key `target` under it.
    fn gateway_state(
        gateway: &[u8; 20],
        storage: &[(Vec<u8>, Vec<u8>)],
        target: Vec<u8>,
    ) -> ([u8; 32], super::EvmProof) {
        let (storage_root, mut storage) = build_with_proofs(storage, &[target]);
        let account = super::Account {
            nonce: 1,
            balance: U256::ZERO,
            storage_root,
            code_hash: keccak256(b"gateway").0,
        };
        let account_key = keccak256(gateway).to_vec();
        let (state_root, mut accounts) =
            build_with_proofs(&[(account_key.clone(), account.encode())], &[account_key]);
        let nodes = |p: Option<Vec<Bytes>>| -> Vec<Vec<u8>> {
            p.unwrap_or_default()
                .into_iter()
                .map(|b| b.to_vec())
                .collect()
        };
        let proof = super::EvmProof {
            account_proof: nodes(accounts.pop()),
            storage_proof: nodes(storage.pop()),
            receipt_proof: vec![],
        };
        (state_root, proof)
    }

    /// The trie of a block's list (receipts or transactions, encoded as stored): its root
    /// and the proof of every position.
    pub fn ordered_with_proofs(items: &[Vec<u8>]) -> ([u8; 32], Vec<Vec<Bytes>>) {
        let keyed: Vec<(Vec<u8>, Vec<u8>)> = items
            .iter()
            .enumerate()
            .map(|(i, v)| (key_of(i as u64), v.clone()))
            .collect();
        let targets: Vec<Vec<u8>> = keyed.iter().map(|(k, _)| k.clone()).collect();
        build_with_proofs(&keyed, &targets)
    }

    /// RLP(index) as an owned key.
    pub fn key_of(index: u64) -> Vec<u8> {
        let (k, len) = index_key(index);
        k.get(..len).unwrap_or_default().to_vec()
    }

    // -- our own recursive builder ------------------------------------------------------

    fn rlp_string(payload: &[u8], out: &mut Vec<u8>) {
        if payload.len() == 1 && payload[0] < 0x80 {
            out.push(payload[0]);
        } else {
            rlp_header(0x80, payload.len(), out);
            out.extend_from_slice(payload);
        }
    }

    fn rlp_header(base: u8, len: usize, out: &mut Vec<u8>) {
        if len < 56 {
            out.push(base + len as u8);
        } else {
            let be = (len as u64).to_be_bytes();
            let skip = be.iter().take_while(|b| **b == 0).count();
            out.push(base + 55 + (8 - skip) as u8);
            out.extend_from_slice(&be[skip..]);
        }
    }

    fn rlp_list(payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(payload.len() + 9);
        rlp_header(0xc0, payload.len(), &mut out);
        out.extend_from_slice(payload);
        out
    }

    fn hex_prefix(nibbles: &[u8], leaf: bool) -> Vec<u8> {
        let odd = nibbles.len() % 2 == 1;
        let flag = (if leaf { 2 } else { 0 }) + u8::from(odd);
        let mut out = Vec::with_capacity(nibbles.len() / 2 + 1);
        let rest = if odd {
            out.push((flag << 4) | nibbles[0]);
            &nibbles[1..]
        } else {
            out.push(flag << 4);
            nibbles
        };
        for pair in rest.chunks(2) {
            out.push((pair[0] << 4) | pair.get(1).copied().unwrap_or(0));
        }
        out
    }

    fn unpack(key: &[u8]) -> Vec<u8> {
        key.iter().flat_map(|b| [b >> 4, b & 0x0f]).collect()
    }

    /// How a parent refers to a node: embedded when shorter than 32 bytes, else its hash.
    fn reference(node: &[u8], out: &mut Vec<u8>) {
        if node.len() < 32 {
            out.extend_from_slice(node);
        } else {
            rlp_string(keccak256(node).as_slice(), out);
        }
    }

    /// Encodes the node holding `entries` (sorted, distinct, all sharing `depth` nibbles),
    /// pushing onto `proof` every hashed node on the path of `target`.
    fn node(
        entries: &[(Vec<u8>, &[u8])],
        depth: usize,
        target: Option<&[u8]>,
        proof: &mut Vec<Vec<u8>>,
    ) -> Vec<u8> {
        let on_path = |n: &[u8]| -> bool { target.is_some_and(|t| t.starts_with(n)) };
        if let [(k, v)] = entries {
            let mut p = Vec::new();
            rlp_string(&hex_prefix(&k[depth..], true), &mut p);
            rlp_string(v, &mut p);
            return rlp_list(&p);
        }
        let first = &entries[0].0;
        let mut common = first.len() - depth;
        for (k, _) in entries {
            let same = k[depth..]
                .iter()
                .zip(&first[depth..])
                .take_while(|(a, b)| a == b)
                .count();
            common = common.min(same);
        }
        if common > 0 {
            let child = node(entries, depth + common, target, proof);
            let prefix = &first[..depth + common];
            if child.len() >= 32 && on_path(prefix) {
                proof.push(child.clone());
            }
            let mut p = Vec::new();
            rlp_string(&hex_prefix(&first[depth..depth + common], false), &mut p);
            reference(&child, &mut p);
            return rlp_list(&p);
        }
        let mut p = Vec::new();
        let mut branch_value: &[u8] = &[];
        let mut rest = entries;
        if let Some((k, v)) = rest.first() {
            if k.len() == depth {
                branch_value = v;
                rest = &rest[1..];
            }
        }
        for nib in 0u8..16 {
            let group_len = rest.iter().take_while(|(k, _)| k[depth] == nib).count();
            let (group, tail) = rest.split_at(group_len);
            rest = tail;
            if group.is_empty() {
                p.push(0x80);
                continue;
            }
            let child = node(group, depth + 1, target, proof);
            let prefix = &group[0].0[..depth + 1];
            if child.len() >= 32 && on_path(prefix) {
                proof.push(child.clone());
            }
            reference(&child, &mut p);
        }
        rlp_string(branch_value, &mut p);
        rlp_list(&p)
    }

    fn prepared(entries: &[(Vec<u8>, Vec<u8>)]) -> Vec<(Vec<u8>, &[u8])> {
        let mut map = std::collections::BTreeMap::new();
        for (k, v) in entries {
            if v.is_empty() {
                map.remove(&unpack(k));
            } else {
                map.insert(unpack(k), v.as_slice());
            }
        }
        map.into_iter().collect()
    }

    /// Root of the trie of `entries` applied in order (an empty value deletes), built by our
    /// own recursive encoder; keys may be prefixes of each other.
    pub fn reference_root(entries: &[(Vec<u8>, Vec<u8>)]) -> [u8; 32] {
        let e = prepared(entries);
        if e.is_empty() {
            return super::EMPTY_ROOT;
        }
        let mut sink = Vec::new();
        keccak256(node(&e, 0, None, &mut sink)).0
    }

    /// The proof of `key` (present or absent) in the trie of [`reference_root`].
    pub fn reference_proof(entries: &[(Vec<u8>, Vec<u8>)], key: &[u8]) -> Vec<Vec<u8>> {
        let e = prepared(entries);
        if e.is_empty() {
            return Vec::new();
        }
        let target = unpack(key);
        let mut proof = Vec::new();
        let root = node(&e, 0, Some(&target), &mut proof);
        proof.push(root);
        proof.reverse();
        proof
    }
}

#[cfg(test)]
mod slot_tests {
    use super::*;

    #[test]
    fn the_slot_is_solidity_mapping_layout() {
        // keccak256(key ‖ uint256(1)) for key = 32 zero bytes, computed independently.
        let mut pre = [0u8; 64];
        pre[63] = 1;
        assert_eq!(receipt_slot(&[0; 32]), crate::evm::header::keccak256(&pre));
        assert_ne!(receipt_slot(&[9; 32]), commitment_slot(&[9; 32]));
    }
}
