//! The hub's authenticated state: a Jellyfish Merkle tree (SHA-256, the `jmt` crate) over
//! the application's key/value entries. Its root is the app hash. A block's writes update
//! the root in O(writes × log n) node reads; the nodes they create are a [`TreeUpdate`]
//! the node stores in the same write transaction as the block. A committed height's tree
//! answers [`prove`] with an ICS-23 commitment proof that anyone checks with
//! [`verify_state_proof`] against that height's app hash (`spec/hub-chain.md`, "State
//! proofs").
//!
//! Pure: no I/O. The node implements [`TreeReader`] over its store; [`MemoryTree`] is the
//! in-memory one for genesis, audits and tests.

use std::collections::BTreeMap;

use jmt::storage::{HasPreimage, LeafNode, NibblePath, Node, NodeKey, TreeReader, TreeUpdateBatch};
use jmt::Sha256Jmt;
use prost::Message;

pub use jmt::storage::{HasPreimage as KeyPreimages, TreeReader as StateTreeReader};
pub use jmt::storage::{LeafNode as TreeLeafNode, Node as TreeNode, NodeKey as TreeNodeKey};
pub use jmt::{KeyHash, OwnedValue, Version};

/// A 32-byte hash.
pub type Hash32 = [u8; 32];

/// One state write: a key and its new value, `None` to delete it.
pub type StateWrite = (Vec<u8>, Option<Vec<u8>>);

/// Largest encoded state proof accepted for verification.
pub const MAX_STATE_PROOF_BYTES: usize = 32 * 1024;
/// Largest key a state proof is asked for.
pub const MAX_STATE_KEY_BYTES: usize = 1024;

/// Why the tree could not be read or updated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StateTreeError {
    /// The tree holds no root at this version: never written, or pruned.
    #[error("the state tree has no root at version {0}")]
    MissingRoot(u64),
    /// ICS-23 has no absence proof in an empty tree (a hub's state always holds its
    /// council, so its tree is never empty).
    #[error("the state is empty at this version: there is nothing to prove against")]
    EmptyTree,
    /// A read of the underlying store failed, or a node the tree needs is not there.
    #[error("state tree: {0}")]
    Read(String),
    /// A stored node or key does not decode.
    #[error("state tree row does not decode: {0}")]
    Corrupt(String),
}

impl StateTreeError {
    fn from_jmt(e: anyhow::Error) -> Self {
        match e.downcast_ref::<jmt::MissingRootError>() {
            Some(m) => StateTreeError::MissingRoot(m.version),
            None => StateTreeError::Read(format!("{e:#}")),
        }
    }
}

/// The tree's key for an application key: SHA-256 of the key.
pub fn key_hash(key: &[u8]) -> KeyHash {
    KeyHash::with::<sha2::Sha256>(key)
}

/// What one version's writes add to the tree, encoded for a key/value store.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TreeUpdate {
    /// The version (block height) these writes make.
    pub version: u64,
    /// The tree's root after them: the app hash.
    pub root: Hash32,
    /// New nodes: (encoded node key, encoded node).
    pub nodes: Vec<(Vec<u8>, Vec<u8>)>,
    /// Values by (key hash, version); `None` records a deletion.
    pub values: Vec<(Hash32, u64, Option<Vec<u8>>)>,
    /// Nodes that this version made stale: (stale since version, encoded node key).
    /// Pruning deletes them once no kept version needs them.
    pub stale: Vec<(u64, Vec<u8>)>,
    /// Keys written, by key hash: absence proofs name the neighbouring keys.
    pub preimages: Vec<(Hash32, Vec<u8>)>,
    /// Keys whose leaf this version moved without writing them (a new key split the leaf's
    /// place, or a deletion lifted it): a store that keeps each value beside its leaf
    /// carries it to the new leaf ([`TreeUpdate::carried`]).
    pub moved: Vec<Hash32>,
    /// The moved keys with their key and value, as the store read them from the leaves
    /// they left; [`update`] leaves it empty.
    pub carried: Vec<(Hash32, Vec<u8>, Vec<u8>)>,
}

/// Encodes a node key for storage: the version big-endian, then the borsh encoding. The
/// prefix sorts a version's new nodes after every older one, so a B-tree store appends
/// each block's nodes at its end instead of touching pages all over a table that grows
/// with history (borsh writes the version little-endian, which scatters them).
pub fn encode_node_key(k: &NodeKey) -> Result<Vec<u8>, StateTreeError> {
    // The version twice, the path's length and up to 32 bytes of path.
    let mut out = Vec::with_capacity(8 + 8 + 4 + 8 + 32);
    out.extend_from_slice(&k.version().to_be_bytes());
    borsh::to_writer(&mut out, k).map_err(|e| StateTreeError::Corrupt(format!("node key: {e}")))?;
    Ok(out)
}

/// Decodes an encoded node (exactly its bytes; see [`decode_node_row`] for a stored row
/// that goes on after the node).
pub fn decode_node(bytes: &[u8]) -> Result<Node, StateTreeError> {
    borsh::from_slice(bytes).map_err(|e| StateTreeError::Corrupt(format!("node: {e}")))
}

/// The first byte of an encoded leaf node (borsh's index of `Node::Leaf`), and the length
/// of the whole encoding: the tag, the key hash and the value hash.
const LEAF_TAG: u8 = 2;
const LEAF_LEN: usize = 1 + 32 + 32;

/// The key hash of an encoded node that is a leaf; `None` for any other node. It reads the
/// encoding's first bytes instead of decoding: a block's update makes thousands of nodes,
/// and the store needs to know only which are leaves.
pub fn encoded_leaf_key_hash(node: &[u8]) -> Option<&Hash32> {
    match node.split_first() {
        Some((&LEAF_TAG, rest)) if node.len() == LEAF_LEN => rest.first_chunk::<32>(),
        _ => None,
    }
}

/// Decodes a stored row that starts with a node: the node, and the bytes the store keeps
/// after it.
pub fn decode_node_row(bytes: &[u8]) -> Result<(Node, &[u8]), StateTreeError> {
    let mut rest = bytes;
    let node = <Node as borsh::BorshDeserialize>::deserialize(&mut rest)
        .map_err(|e| StateTreeError::Corrupt(format!("node: {e}")))?;
    Ok((node, rest))
}

/// The key of the root node at `version`.
pub fn root_node_key(version: u64) -> NodeKey {
    NodeKey::new(version, NibblePath::from_iter(std::iter::empty()))
}

/// Where the search for `key_hash` goes from `node`, stored under `at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathStep {
    /// The key is not in the tree.
    Absent,
    /// The key's leaf: `at` is its node key.
    Leaf,
    /// Read this node next.
    Child(NodeKey),
}

/// One step down the tree toward `key_hash`: a walk from [`root_node_key`] finds the leaf
/// of a key at a version in one node read per level.
pub fn path_step(at: &NodeKey, node: &Node, key_hash: &Hash32) -> PathStep {
    let nibble = |i: usize| {
        let b = key_hash.get(i / 2).copied().unwrap_or(0);
        if i.is_multiple_of(2) {
            b >> 4
        } else {
            b & 0x0f
        }
    };
    match node {
        Node::Null => PathStep::Absent,
        Node::Leaf(l) if l.key_hash().0 == *key_hash => PathStep::Leaf,
        Node::Leaf(_) => PathStep::Absent,
        Node::Internal(n) => {
            let depth = at.nibble_path().num_nibbles();
            if depth >= 64 {
                return PathStep::Absent;
            }
            match n.child(nibble(depth).into()) {
                None => PathStep::Absent,
                Some(c) => PathStep::Child(NodeKey::new(
                    c.version,
                    (0..=depth).map(|i| nibble(i).into()).collect(),
                )),
            }
        }
    }
}

/// Decodes a stored node key (see [`encode_node_key`]).
pub fn decode_node_key(bytes: &[u8]) -> Result<NodeKey, StateTreeError> {
    let corrupt = |what: String| StateTreeError::Corrupt(format!("node key: {what}"));
    let (version, rest) = bytes
        .split_first_chunk::<8>()
        .ok_or_else(|| corrupt("shorter than its version".into()))?;
    let key: NodeKey = borsh::from_slice(rest).map_err(|e| corrupt(e.to_string()))?;
    if key.version() != u64::from_be_bytes(*version) {
        return Err(corrupt("its version prefix is not its version".into()));
    }
    Ok(key)
}

fn value_set(writes: &[StateWrite]) -> Vec<(KeyHash, Option<OwnedValue>)> {
    writes
        .iter()
        .map(|(k, v)| (key_hash(k), v.clone()))
        .collect()
}

fn put<R: TreeReader>(
    reader: &R,
    version: u64,
    writes: &[StateWrite],
) -> Result<(Hash32, TreeUpdateBatch), StateTreeError> {
    // jmt would start a version whose parent is missing from an empty tree; a missing
    // parent is damage (or a skipped height), never a fresh start.
    if let Some(parent) = version.checked_sub(1) {
        root_at(reader, parent)?;
    }
    let tree = Sha256Jmt::new(reader);
    // Without deletions, one pass over the sorted keys builds each touched node once;
    // key by key, every insert rebuilds and rehashes its whole path, and the top of the
    // tree is rebuilt once per key. The tree's shape depends only on its keys, so both
    // give the same root (`a_batch_gives_the_same_root_and_stale_nodes_as_key_by_key`).
    let batchable = writes
        .iter()
        .try_fold(Vec::with_capacity(writes.len()), |mut set, (k, v)| {
            set.push((key_hash(k), v.clone()?));
            Some(set)
        });
    let (root, batch) = match batchable {
        Some(set) if !set.is_empty() => tree
            .batch_put_value_sets(vec![set], None, version)
            .map(|(roots, batch)| (roots.first().copied(), batch))
            .map_err(StateTreeError::from_jmt)
            .and_then(|(root, batch)| {
                root.map(|r| (r, batch))
                    .ok_or_else(|| StateTreeError::Corrupt("a batch without a root".into()))
            })?,
        _ => tree
            .put_value_set(value_set(writes), version)
            .map_err(StateTreeError::from_jmt)?,
    };
    Ok((root.0, batch))
}

/// Key by key, as [`update`] applies a version with deletions (for the tests that hold
/// both paths to one answer).
#[cfg(test)]
fn put_key_by_key<R: TreeReader>(
    reader: &R,
    version: u64,
    writes: &[StateWrite],
) -> Result<(Hash32, TreeUpdateBatch), StateTreeError> {
    let (root, batch) = Sha256Jmt::new(reader)
        .put_value_set(value_set(writes), version)
        .map_err(StateTreeError::from_jmt)?;
    Ok((root.0, batch))
}

/// Applies one version's writes (each key at most once) on top of the tree at
/// `version - 1` (or on the empty tree at version 0) and returns what to store.
pub fn update<R: TreeReader>(
    reader: &R,
    version: u64,
    writes: &[StateWrite],
) -> Result<TreeUpdate, StateTreeError> {
    let (root, batch) = put(reader, version, writes)?;
    let mut nodes = Vec::with_capacity(batch.node_batch.nodes().len());
    let mut scratch = Vec::with_capacity(1024);
    for (k, n) in batch.node_batch.nodes() {
        // One scratch buffer and an exact copy per node: borsh's own `to_vec` starts every
        // node at a kilobyte, and a block makes thousands of nodes.
        scratch.clear();
        borsh::to_writer(&mut scratch, n)
            .map_err(|e| StateTreeError::Corrupt(format!("node: {e}")))?;
        let node = scratch.clone();
        nodes.push((encode_node_key(k)?, node));
    }
    let values = batch
        .node_batch
        .values()
        .iter()
        .map(|((v, kh), val)| (kh.0, *v, val.clone()))
        .collect();
    let mut stale = Vec::with_capacity(batch.stale_node_index_batch.len());
    for s in &batch.stale_node_index_batch {
        stale.push((s.stale_since_version, encode_node_key(&s.node_key)?));
    }
    let preimages: Vec<(Hash32, Vec<u8>)> = writes
        .iter()
        .filter(|(_, v)| v.is_some())
        .map(|(k, _)| (key_hash(k).0, k.clone()))
        .collect();
    let written: std::collections::BTreeSet<&Hash32> = preimages.iter().map(|(kh, _)| kh).collect();
    let moved = batch
        .node_batch
        .nodes()
        .values()
        .filter_map(|n| match n {
            Node::Leaf(l) if !written.contains(&l.key_hash().0) => Some(l.key_hash().0),
            _ => None,
        })
        .collect();
    Ok(TreeUpdate {
        version,
        root,
        nodes,
        values,
        stale,
        preimages,
        moved,
        carried: Vec::new(),
    })
}

/// The root of the tree at a version.
pub fn root_at<R: TreeReader>(reader: &R, version: u64) -> Result<Hash32, StateTreeError> {
    Sha256Jmt::new(reader)
        .get_root_hash_option(version)
        .map_err(StateTreeError::from_jmt)?
        .map(|r| r.0)
        .ok_or(StateTreeError::MissingRoot(version))
}

/// A key's value at a version, with the proof and the root it is proven against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvenValue {
    /// The tree's root at the version: the app hash.
    pub root: Hash32,
    /// The value, or `None` when the key is absent.
    pub value: Option<Vec<u8>>,
    /// ICS-23 membership proof for a value, non-membership proof for an absence,
    /// encoded as protobuf `cosmos.ics23.v1.CommitmentProof`.
    pub proof: Vec<u8>,
}

/// A key's value (or absence) at a version with its ICS-23 proof.
pub fn prove<R: TreeReader + HasPreimage>(
    reader: &R,
    version: u64,
    key: &[u8],
) -> Result<ProvenValue, StateTreeError> {
    // A missing root is named as such rather than as whatever node read failed first.
    let root = root_at(reader, version)?;
    if root == empty_root() {
        return Err(StateTreeError::EmptyTree);
    }
    let (value, proof) = Sha256Jmt::new(reader)
        .get_with_ics23_proof(key.to_vec(), version)
        .map_err(StateTreeError::from_jmt)?;
    Ok(ProvenValue {
        root,
        value,
        proof: proof.encode_to_vec(),
    })
}

/// The root of a set of entries, built from nothing (genesis, audits, tests; the node
/// updates its stored tree incrementally instead).
pub fn root_of<'a>(entries: impl IntoIterator<Item = (&'a Vec<u8>, &'a Vec<u8>)>) -> Hash32 {
    let writes: Vec<StateWrite> = entries
        .into_iter()
        .map(|(k, v)| (k.clone(), Some(v.clone())))
        .collect();
    let mut tree = MemoryTree::default();
    // Version 0 of an empty in-memory tree reads no node that could be missing.
    tree.apply(0, &writes).unwrap_or_else(|_| empty_root())
}

/// The root of the empty state: jmt's placeholder hash.
pub fn empty_root() -> Hash32 {
    *b"SPARSE_MERKLE_PLACEHOLDER_HASH__"
}

/// The tree in memory, updated version by version.
#[derive(Debug, Clone, Default)]
pub struct MemoryTree {
    nodes: BTreeMap<NodeKey, Node>,
    values: BTreeMap<(KeyHash, Version), Option<OwnedValue>>,
    preimages: BTreeMap<Hash32, Vec<u8>>,
}

impl MemoryTree {
    /// Applies one version's writes and returns the new root.
    pub fn apply(&mut self, version: u64, writes: &[StateWrite]) -> Result<Hash32, StateTreeError> {
        let (root, batch) = put(self, version, writes)?;
        for (k, n) in batch.node_batch.nodes() {
            self.nodes.insert(k.clone(), n.clone());
        }
        for ((v, kh), val) in batch.node_batch.values() {
            self.values.insert((*kh, *v), val.clone());
        }
        for (k, v) in writes {
            if v.is_some() {
                self.preimages.insert(key_hash(k).0, k.clone());
            }
        }
        Ok(root)
    }
}

impl TreeReader for MemoryTree {
    fn get_node_option(&self, node_key: &NodeKey) -> anyhow::Result<Option<Node>> {
        Ok(self.nodes.get(node_key).cloned())
    }

    fn get_value_option(
        &self,
        max_version: Version,
        key_hash: KeyHash,
    ) -> anyhow::Result<Option<OwnedValue>> {
        Ok(self
            .values
            .range((key_hash, 0)..=(key_hash, max_version))
            .next_back()
            .and_then(|(_, v)| v.clone()))
    }

    fn get_rightmost_leaf(&self) -> anyhow::Result<Option<(NodeKey, LeafNode)>> {
        // Only jmt's state-sync restore asks for this, and the hub does not restore trees.
        anyhow::bail!("the rightmost leaf is not kept")
    }
}

impl HasPreimage for MemoryTree {
    fn preimage(&self, key_hash: KeyHash) -> anyhow::Result<Option<Vec<u8>>> {
        Ok(self.preimages.get(&key_hash.0).cloned())
    }
}

/// Why a state proof does not prove what it is claimed to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StateProofError {
    /// Larger than [`MAX_STATE_PROOF_BYTES`].
    #[error("state proof of {0} bytes is over the {MAX_STATE_PROOF_BYTES}-byte cap")]
    TooLarge(usize),
    /// Not a protobuf ICS-23 commitment proof.
    #[error("state proof does not decode: {0}")]
    Malformed(String),
    /// A membership proof offered for an absent value, or the other way round.
    #[error("state proof proves {proves} but {claimed} was claimed")]
    WrongKind {
        /// What the proof is.
        proves: &'static str,
        /// What the caller claims.
        claimed: &'static str,
    },
    /// The proof is about another key.
    #[error("state proof is for another key")]
    KeyMismatch,
    /// The proof is for another value.
    #[error("state proof is for another value")]
    ValueMismatch,
    /// The proof's path leads to another root.
    #[error("state proof leads to root {proven}, not {expected}")]
    RootMismatch {
        /// The root the proof computes.
        proven: String,
        /// The app hash it was checked against.
        expected: String,
    },
    /// The proof does not follow the hub's proof spec (or its neighbours do not bracket
    /// the key of an absence proof).
    #[error("state proof does not follow the hub's proof spec")]
    Invalid,
}

fn hex32(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Checks a state proof: `value` at `key` (or, with `None`, no value at `key`) under the
/// app hash `root`.
pub fn verify_state_proof(
    root: &Hash32,
    key: &[u8],
    value: Option<&[u8]>,
    proof: &[u8],
) -> Result<(), StateProofError> {
    use ics23::commitment_proof::Proof;
    if proof.len() > MAX_STATE_PROOF_BYTES {
        return Err(StateProofError::TooLarge(proof.len()));
    }
    let decoded = ics23::CommitmentProof::decode(proof)
        .map_err(|e| StateProofError::Malformed(e.to_string()))?;
    let spec = jmt::ics23_spec();
    match (&decoded.proof, value) {
        (Some(Proof::Exist(exist)), Some(value)) => {
            if exist.key != key {
                return Err(StateProofError::KeyMismatch);
            }
            if exist.value != value {
                return Err(StateProofError::ValueMismatch);
            }
            let proven = ics23::calculate_existence_root::<ics23::HostFunctionsManager>(exist)
                .map_err(|_| StateProofError::Invalid)?;
            if proven.as_slice() != root.as_slice() {
                return Err(StateProofError::RootMismatch {
                    proven: hex32(&proven),
                    expected: hex32(root),
                });
            }
            if !ics23::verify_membership::<ics23::HostFunctionsManager>(
                &decoded,
                &spec,
                &root.to_vec(),
                key,
                value,
            ) {
                return Err(StateProofError::Invalid);
            }
            Ok(())
        }
        (Some(Proof::Nonexist(non)), None) => {
            if non.key != key {
                return Err(StateProofError::KeyMismatch);
            }
            for neighbour in [&non.left, &non.right].into_iter().flatten() {
                let proven =
                    ics23::calculate_existence_root::<ics23::HostFunctionsManager>(neighbour)
                        .map_err(|_| StateProofError::Invalid)?;
                if proven.as_slice() != root.as_slice() {
                    return Err(StateProofError::RootMismatch {
                        proven: hex32(&proven),
                        expected: hex32(root),
                    });
                }
            }
            if !ics23::verify_non_membership::<ics23::HostFunctionsManager>(
                &decoded,
                &spec,
                &root.to_vec(),
                key,
            ) {
                return Err(StateProofError::Invalid);
            }
            Ok(())
        }
        (Some(Proof::Exist(_)), None) => Err(StateProofError::WrongKind {
            proves: "membership",
            claimed: "absence",
        }),
        (Some(Proof::Nonexist(_)), Some(_)) => Err(StateProofError::WrongKind {
            proves: "absence",
            claimed: "membership",
        }),
        (_, _) => Err(StateProofError::Malformed(
            "only existence and non-existence proofs are state proofs".into(),
        )),
    }
}

#[cfg(test)]
mod tests;
