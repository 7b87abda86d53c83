//! The state tree's rows in redb: nodes by node key, each leaf with its key and value
//! after it, the keys each version wrote, and the stale-node index that pruning reads. The
//! store writes a block's [`TreeUpdate`] in the block's own write transaction; reads go
//! through [`TreeView`], a read transaction's snapshot that `junction-state-tree` walks.
//!
//! A value lives in its leaf's row, and leaf rows, like every node row, sort by the
//! version that wrote them: a block's writes append at the end of the table. Values kept
//! by key hash instead land on a random page each, and at a hundred thousand keys every
//! write of a block dirtied a page of its own. A read walks the tree from the version's
//! root to the key's leaf, one node per level.

use redb::{
    ReadOnlyTable, ReadTransaction, ReadableTable, Table, TableDefinition, WriteTransaction,
};

use junction_state_tree::{
    decode_node, decode_node_key, decode_node_row, encode_node_key, encoded_leaf_key_hash,
    path_step, root_node_key, KeyHash, KeyPreimages, OwnedValue, PathStep, StateTreeError,
    StateTreeReader, TreeLeafNode, TreeNode, TreeNodeKey, TreeUpdate, Version,
};

/// Tree nodes: encoded node key → encoded node; a leaf's row goes on with its key and
/// value ([`leaf_payload`]).
pub(crate) const TREE_NODES: TableDefinition<&[u8], &[u8]> =
    TableDefinition::new("state_tree_nodes");
/// Values as stores written before values moved into leaf rows hold them: key hash ‖
/// version (big-endian) → tag (0 deleted, 1 present) ‖ value; and the key itself under its
/// bare 32-byte hash. Read for a leaf whose row has no value after it, never written.
pub(crate) const TREE_VALUES: TableDefinition<&[u8], &[u8]> =
    TableDefinition::new("state_tree_values");
/// Keys by key hash, as stores older still hold them: read when a key has no row at all
/// in [`TREE_VALUES`], never written.
pub(crate) const TREE_PREIMAGES: TableDefinition<&[u8; 32], &[u8]> =
    TableDefinition::new("state_tree_preimages");
/// Key hashes each version wrote, one row per version: version → the hashes in order, 32
/// bytes each. The node's key filter is rebuilt from them on open; a block's row appends.
pub(crate) const TREE_VERSION_KEYS: TableDefinition<u64, &[u8]> =
    TableDefinition::new("state_tree_version_keys");
/// The same, one row per key as stores written before [`TREE_VERSION_KEYS`] hold them:
/// (version, key hash) → nothing. Read on open, never written (a row per key was a B-tree
/// insert per packet).
pub(crate) const TREE_KEYS: TableDefinition<(u64, &[u8; 32]), ()> =
    TableDefinition::new("state_tree_keys");
/// Stale nodes: stale-since version (big-endian) ‖ encoded node key → nothing.
pub(crate) const TREE_STALE: TableDefinition<&[u8], &[u8]> =
    TableDefinition::new("state_tree_stale");

/// What a leaf's row holds after the node: the key's length (u32 big-endian), the key and
/// the value.
fn leaf_payload(row: &mut Vec<u8>, key: &[u8], value: &[u8]) -> Result<(), StateTreeError> {
    let len = u32::try_from(key.len())
        .map_err(|_| StateTreeError::Corrupt("a state key over 4 GiB".into()))?;
    row.extend_from_slice(&len.to_be_bytes());
    row.extend_from_slice(key);
    row.extend_from_slice(value);
    Ok(())
}

/// A leaf's key and value, as its row holds them.
type Payload<'a> = (&'a [u8], &'a [u8]);

/// Keys and values of leaves by key hash.
type LeafValues = std::collections::HashMap<[u8; 32], (Vec<u8>, Vec<u8>)>;

/// A leaf's key and value from the bytes after its node; `None` for a leaf of an older
/// store, whose value is in [`TREE_VALUES`].
fn split_payload(rest: &[u8]) -> Result<Option<Payload<'_>>, StateTreeError> {
    if rest.is_empty() {
        return Ok(None);
    }
    let corrupt = || StateTreeError::Corrupt("a leaf's key and value".into());
    let (len, rest) = rest.split_first_chunk::<4>().ok_or_else(corrupt)?;
    let len = usize::try_from(u32::from_be_bytes(*len)).map_err(|_| corrupt())?;
    if rest.len() < len {
        return Err(corrupt());
    }
    Ok(Some(rest.split_at(len)))
}

/// What a key's leaf at a version holds.
pub(crate) enum LeafAt {
    /// No leaf: the key is absent at the version.
    Absent,
    /// The key and value kept in the leaf's row.
    Kept { key: Vec<u8>, value: Vec<u8> },
    /// A leaf of an older store: its value is in [`TREE_VALUES`].
    Legacy,
}

/// Internal nodes of the committed tree's top levels, by encoded node key, kept across
/// blocks for every walk from the root: a snapshot walks for each key it reads, and each
/// block's update walks to every key it writes. With 2,500 new keys a block and 100,000 in
/// the tree, most nodes of the top four levels lie on some path and were read from the
/// B-tree again every block. A node key names one node for good (its version is part of it), so a kept node is
/// never out of date. Only committed nodes enter: those a commit wrote (an update computed
/// for a proposal may never be committed, and another proposal of the same height makes
/// other nodes under the same keys) and those read from committed data. The nodes a commit
/// makes stale leave, so what is kept is the newest version's top levels.
#[derive(Default)]
pub(crate) struct CommittedUpper(std::sync::Mutex<std::collections::HashMap<Vec<u8>, TreeNode>>);

/// Levels [`CommittedUpper`] keeps (at most 1 + 16 + 256 + 4,096 nodes).
const COMMITTED_UPPER_LEVELS: usize = 4;

/// Beyond this many nodes [`CommittedUpper`] starts again: a node read just as a commit
/// made it stale stays behind, and must not pile up.
const COMMITTED_UPPER_CAP: usize = 2 * (1 + 16 + 256 + 4096);

impl std::fmt::Debug for CommittedUpper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kept = self.0.lock().map(|k| k.len()).unwrap_or(0);
        write!(f, "CommittedUpper({kept} nodes)")
    }
}

impl CommittedUpper {
    /// A kept node; only internal nodes are kept.
    fn get(&self, key: &[u8]) -> Option<TreeNode> {
        self.0.lock().ok()?.get(key).cloned()
    }

    /// Whether a node at `at` is one of the kept levels'.
    fn is_upper(at: &TreeNodeKey) -> bool {
        at.nibble_path().num_nibbles() < COMMITTED_UPPER_LEVELS
    }

    /// Keeps an internal node under the cap.
    fn put(kept: &mut std::collections::HashMap<Vec<u8>, TreeNode>, key: Vec<u8>, node: TreeNode) {
        if !matches!(node, TreeNode::Internal(_)) {
            return;
        }
        if kept.len() >= COMMITTED_UPPER_CAP {
            kept.clear();
        }
        kept.insert(key, node);
    }

    fn keep(&self, key: Vec<u8>, at: &TreeNodeKey, node: &TreeNode) {
        if !Self::is_upper(at) || !matches!(node, TreeNode::Internal(_)) {
            return;
        }
        if let Ok(mut kept) = self.0.lock() {
            Self::put(&mut kept, key, node.clone());
        }
    }

    /// Takes in what a committed update wrote and drops what it made stale.
    pub(crate) fn committed(&self, u: &TreeUpdate) {
        let Ok(mut kept) = self.0.lock() else {
            return;
        };
        for (_, key) in &u.stale {
            kept.remove(key);
        }
        for (key, node) in &u.nodes {
            if !decode_node_key(key).is_ok_and(|at| Self::is_upper(&at)) {
                continue;
            }
            if let Ok(node) = decode_node(node) {
                Self::put(&mut kept, key.clone(), node);
            }
        }
    }
}

/// Walks from the root at `version` to the leaf of `key_hash`, through `upper` when given.
pub(crate) fn leaf_at(
    nodes: &impl ReadableTable<&'static [u8], &'static [u8]>,
    version: u64,
    key_hash: &[u8; 32],
    upper: Option<&CommittedUpper>,
) -> Result<LeafAt, StateTreeError> {
    let mut at = root_node_key(version);
    let mut first = true;
    loop {
        let key = encode_node_key(&at)?;
        let step = match upper.and_then(|u| u.get(&key)) {
            Some(node) => path_step(&at, &node, key_hash),
            None => {
                let Some(row) = nodes.get(key.as_slice()).map_err(read_err)? else {
                    return Err(if first {
                        StateTreeError::MissingRoot(version)
                    } else {
                        StateTreeError::Read(format!(
                            "node {} of version {version} is missing",
                            hex::encode(&key)
                        ))
                    });
                };
                let (node, rest) = decode_node_row(row.value())?;
                let step = path_step(&at, &node, key_hash);
                if step == PathStep::Leaf {
                    return Ok(match split_payload(rest)? {
                        Some((k, v)) => LeafAt::Kept {
                            key: k.to_vec(),
                            value: v.to_vec(),
                        },
                        None => LeafAt::Legacy,
                    });
                }
                if let Some(u) = upper {
                    u.keep(key, &at, &node);
                }
                step
            }
        };
        first = false;
        match step {
            PathStep::Child(next) => at = next,
            PathStep::Absent => return Ok(LeafAt::Absent),
            // Only internal nodes are kept: a leaf's payload is in its row.
            PathStep::Leaf => {
                return Err(StateTreeError::Corrupt(format!(
                    "a kept node of version {version} is a leaf"
                )))
            }
        }
    }
}

/// The newest version the tree holds (the last committed height), if any.
pub(crate) fn latest_version(
    nodes: &impl ReadableTable<&'static [u8], &'static [u8]>,
) -> Result<Option<u64>, StateTreeError> {
    let Some((k, _)) = nodes.last().map_err(read_err)? else {
        return Ok(None);
    };
    let v = k
        .value()
        .first_chunk::<8>()
        .ok_or_else(|| StateTreeError::Corrupt("node key shorter than its version".into()))?;
    Ok(Some(u64::from_be_bytes(*v)))
}

/// The value of `key_hash` at `version`: from its leaf, or for a leaf of an older store
/// from [`TREE_VALUES`].
pub(crate) fn value_at(
    nodes: &impl ReadableTable<&'static [u8], &'static [u8]>,
    legacy: &impl ReadableTable<&'static [u8], &'static [u8]>,
    version: u64,
    key_hash: &[u8; 32],
    upper: Option<&CommittedUpper>,
) -> Result<Option<Vec<u8>>, StateTreeError> {
    match leaf_at(nodes, version, key_hash, upper)? {
        LeafAt::Absent => Ok(None),
        LeafAt::Kept { value, .. } => Ok(Some(value)),
        LeafAt::Legacy => latest_value(legacy, key_hash, version),
    }
}

pub(crate) fn value_key(key_hash: &[u8; 32], version: u64) -> [u8; 40] {
    let mut k = [0u8; 40];
    k[..32].copy_from_slice(key_hash);
    k[32..].copy_from_slice(&version.to_be_bytes());
    k
}

fn read_err(e: impl std::fmt::Display) -> StateTreeError {
    StateTreeError::Read(e.to_string())
}

/// Creates the tree's tables (an empty database gets them on open).
pub(crate) fn create_tables(tx: &WriteTransaction) -> Result<(), StateTreeError> {
    tx.open_table(TREE_NODES).map_err(read_err)?;
    tx.open_table(TREE_VALUES).map_err(read_err)?;
    tx.open_table(TREE_PREIMAGES).map_err(read_err)?;
    tx.open_table(TREE_KEYS).map_err(read_err)?;
    tx.open_table(TREE_VERSION_KEYS).map_err(read_err)?;
    tx.open_table(TREE_STALE).map_err(read_err)?;
    Ok(())
}

/// Writes one version's update inside the caller's write transaction. Rows go in key
/// order: consecutive inserts then land on the same or the next page, which is still in
/// the cache and already copied for this transaction, instead of jumping across the table.
/// Each new leaf's row carries its key and value: those the version wrote, or for a leaf
/// it only moved those the store read from the leaf's old row ([`TreeUpdate::carried`]).
/// The stale-node index is written only for a store that prunes (`index_stale`): a store
/// that keeps every height never reads it, and it is more than one row per packet.
pub(crate) fn write_update(
    tx: &WriteTransaction,
    u: &TreeUpdate,
    index_stale: bool,
) -> Result<(), StateTreeError> {
    let mut payloads: std::collections::HashMap<&[u8; 32], Payload<'_>> =
        std::collections::HashMap::with_capacity(u.preimages.len() + u.carried.len());
    let keys: std::collections::HashMap<&[u8; 32], &[u8]> = u
        .preimages
        .iter()
        .map(|(kh, k)| (kh, k.as_slice()))
        .collect();
    for (kh, version, v) in &u.values {
        if let (Some(v), Some(k), true) = (v, keys.get(kh), *version == u.version) {
            payloads.insert(kh, (k, v.as_slice()));
        }
    }
    for (kh, k, v) in &u.carried {
        payloads.insert(kh, (k.as_slice(), v.as_slice()));
    }
    let mut nodes = tx.open_table(TREE_NODES).map_err(read_err)?;
    let mut sorted: Vec<&(Vec<u8>, Vec<u8>)> = u.nodes.iter().collect();
    sorted.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let mut row = Vec::new();
    for (k, n) in sorted {
        match encoded_leaf_key_hash(n) {
            Some(kh) => {
                let (key, value) = payloads.get(kh).ok_or_else(|| {
                    StateTreeError::Corrupt(format!(
                        "version {} has a leaf for key hash {} without its value",
                        u.version,
                        hex::encode(kh)
                    ))
                })?;
                row.clear();
                row.extend_from_slice(n);
                leaf_payload(&mut row, key, value)?;
                nodes.insert(k.as_slice(), row.as_slice())
            }
            None => nodes.insert(k.as_slice(), n.as_slice()),
        }
        .map_err(read_err)?;
    }
    let mut written: Vec<&[u8; 32]> = keys.keys().copied().collect();
    if !written.is_empty() {
        written.sort_unstable();
        let row: Vec<u8> = written.into_iter().flatten().copied().collect();
        tx.open_table(TREE_VERSION_KEYS)
            .map_err(read_err)?
            .insert(u.version, row.as_slice())
            .map_err(read_err)?;
    }
    if !index_stale {
        return Ok(());
    }
    // Since-version big-endian, then the node key: the same order as the tuples.
    let mut stale_rows: Vec<&(u64, Vec<u8>)> = u.stale.iter().collect();
    stale_rows.sort_unstable();
    let mut stale = tx.open_table(TREE_STALE).map_err(read_err)?;
    let mut k = Vec::new();
    for (since, node_key) in stale_rows {
        k.clear();
        k.extend_from_slice(&since.to_be_bytes());
        k.extend_from_slice(node_key);
        stale.insert(k.as_slice(), &[][..]).map_err(read_err)?;
    }
    Ok(())
}

/// Deletes every node that went stale at or before `through`: the tree then proves
/// versions from `through` on. Returns how many nodes went.
pub(crate) fn prune_through(tx: &WriteTransaction, through: u64) -> Result<u64, StateTreeError> {
    let mut stale: Table<&[u8], &[u8]> = tx.open_table(TREE_STALE).map_err(read_err)?;
    let end = through.saturating_add(1).to_be_bytes();
    let mut doomed = Vec::new();
    for row in stale.range(..end.as_slice()).map_err(read_err)? {
        let (k, _) = row.map_err(read_err)?;
        doomed.push(k.value().to_vec());
    }
    let mut nodes = tx.open_table(TREE_NODES).map_err(read_err)?;
    for k in &doomed {
        nodes.remove(&k[8..]).map_err(read_err)?;
        stale.remove(k.as_slice()).map_err(read_err)?;
    }
    Ok(doomed.len() as u64)
}

/// The value of `key_hash` as of `max_version` in an older store's value rows: its newest
/// row at or below it (`None` when never written or deleted). The key's own row (its bare
/// hash) sorts before the range and is never read as a value.
pub(crate) fn latest_value(
    values: &impl ReadableTable<&'static [u8], &'static [u8]>,
    key_hash: &[u8; 32],
    max_version: u64,
) -> Result<Option<Vec<u8>>, StateTreeError> {
    let lo = value_key(key_hash, 0);
    let hi = value_key(key_hash, max_version);
    let Some(row) = values
        .range(lo.as_slice()..=hi.as_slice())
        .map_err(read_err)?
        .next_back()
    else {
        return Ok(None);
    };
    let (_, v) = row.map_err(read_err)?;
    match v.value().split_first() {
        Some((1, value)) => Ok(Some(value.to_vec())),
        Some((0, [])) => Ok(None),
        _ => Err(StateTreeError::Corrupt("state tree value row".into())),
    }
}

/// Whether every key of an older store's value rows has its own row in [`TREE_VALUES`]:
/// true unless the store was written while keys lived in [`TREE_PREIMAGES`].
pub(crate) fn rows_name_every_key(
    preimages: &ReadOnlyTable<&'static [u8; 32], &'static [u8]>,
) -> Result<bool, StateTreeError> {
    use redb::ReadableTableMetadata as _;
    preimages.is_empty().map_err(read_err)
}

/// A read transaction's view of the tree.
pub(crate) struct TreeView {
    nodes: ReadOnlyTable<&'static [u8], &'static [u8]>,
    values: ReadOnlyTable<&'static [u8], &'static [u8]>,
    preimages: ReadOnlyTable<&'static [u8; 32], &'static [u8]>,
    /// The version whose leaves name keys for absence proofs (jmt asks for a neighbour's
    /// key by its hash alone); the newest when `None`.
    proving: Option<u64>,
    /// Keys and values of the leaves an update read, when it keeps them: a leaf the
    /// update moves is one it read, so carrying its value needs no second walk.
    read_leaves: Option<std::sync::Mutex<LeafValues>>,
    /// The committed tree's top levels, when the view reads through them.
    upper: Option<std::sync::Arc<CommittedUpper>>,
}

impl std::fmt::Debug for TreeView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TreeView")
    }
}

impl TreeView {
    pub(crate) fn open(tx: &ReadTransaction) -> Result<Self, StateTreeError> {
        Ok(Self {
            nodes: tx.open_table(TREE_NODES).map_err(read_err)?,
            values: tx.open_table(TREE_VALUES).map_err(read_err)?,
            preimages: tx.open_table(TREE_PREIMAGES).map_err(read_err)?,
            proving: None,
            read_leaves: None,
            upper: None,
        })
    }

    /// The same, reading the committed tree's top levels through `upper`.
    pub(crate) fn through(mut self, upper: std::sync::Arc<CommittedUpper>) -> Self {
        self.upper = Some(upper);
        self
    }

    /// The same, keeping the key and value of each leaf it reads (see
    /// [`TreeView::carried`]).
    pub(crate) fn for_update(mut self) -> Self {
        self.read_leaves = Some(Default::default());
        self
    }

    /// The same, for proofs at `version`.
    pub(crate) fn proving_at(mut self, version: u64) -> Self {
        self.proving = Some(version);
        self
    }

    /// A key's key and value at `version`, read from the leaf it has there (or, for a leaf
    /// of an older store, from the older tables): what a version that moves the leaf
    /// carries to its new row.
    pub(crate) fn carried(
        &self,
        version: u64,
        key_hash: &[u8; 32],
    ) -> Result<(Vec<u8>, Vec<u8>), StateTreeError> {
        let missing = || {
            StateTreeError::Read(format!(
                "key hash {} has no value at version {version}",
                hex::encode(key_hash)
            ))
        };
        if let Some(kept) = self
            .read_leaves
            .as_ref()
            .and_then(|m| m.lock().ok()?.remove(key_hash))
        {
            return Ok(kept);
        }
        match leaf_at(&self.nodes, version, key_hash, None)? {
            LeafAt::Kept { key, value } => Ok((key, value)),
            LeafAt::Absent => Err(missing()),
            LeafAt::Legacy => {
                let value = latest_value(&self.values, key_hash, version)?.ok_or_else(missing)?;
                let key = self.legacy_preimage(key_hash)?.ok_or_else(missing)?;
                Ok((key, value))
            }
        }
    }

    fn legacy_preimage(&self, key_hash: &[u8; 32]) -> Result<Option<Vec<u8>>, StateTreeError> {
        if let Some(key) = self.values.get(key_hash.as_slice()).map_err(read_err)? {
            return Ok(Some(key.value().to_vec()));
        }
        Ok(self
            .preimages
            .get(key_hash)
            .map_err(read_err)?
            .map(|v| v.value().to_vec()))
    }
}

impl StateTreeReader for TreeView {
    fn get_node_option(&self, node_key: &TreeNodeKey) -> anyhow::Result<Option<TreeNode>> {
        let key = encode_node_key(node_key)?;
        if let Some(node) = self.upper.as_ref().and_then(|u| u.get(&key)) {
            return Ok(Some(node));
        }
        let Some(row) = self.nodes.get(key.as_slice())? else {
            return Ok(None);
        };
        let (node, rest) = decode_node_row(row.value())?;
        if let Some(upper) = &self.upper {
            upper.keep(key, node_key, &node);
        }
        if let (Some(leaves), TreeNode::Leaf(leaf)) = (&self.read_leaves, &node) {
            if let Some((k, v)) = split_payload(rest)? {
                if let Ok(mut leaves) = leaves.lock() {
                    leaves.insert(leaf.key_hash().0, (k.to_vec(), v.to_vec()));
                }
            }
        }
        Ok(Some(node))
    }

    fn get_value_option(
        &self,
        max_version: Version,
        key_hash: KeyHash,
    ) -> anyhow::Result<Option<OwnedValue>> {
        Ok(value_at(
            &self.nodes,
            &self.values,
            max_version,
            &key_hash.0,
            None,
        )?)
    }

    fn get_rightmost_leaf(&self) -> anyhow::Result<Option<(TreeNodeKey, TreeLeafNode)>> {
        // Only jmt's state-sync restore asks for this, and the hub does not restore trees.
        anyhow::bail!("the rightmost leaf is not kept")
    }
}

impl KeyPreimages for TreeView {
    fn preimage(&self, key_hash: KeyHash) -> anyhow::Result<Option<Vec<u8>>> {
        let version = match self.proving {
            Some(v) => Some(v),
            None => latest_version(&self.nodes)?,
        };
        if let Some(version) = version {
            if let LeafAt::Kept { key, .. } = leaf_at(&self.nodes, version, &key_hash.0, None)? {
                return Ok(Some(key));
            }
        }
        Ok(self.legacy_preimage(&key_hash.0)?)
    }
}
