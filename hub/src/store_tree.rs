//! The state tree's rows in redb: nodes by node key, values by (key hash, version), key
//! preimages, and the stale-node index that pruning reads. The store writes a block's
//! [`TreeUpdate`] in the block's own write transaction; reads go through [`TreeView`], a
//! read transaction's snapshot that `junction-state-tree` walks.

use redb::{
    ReadOnlyTable, ReadTransaction, ReadableTable, Table, TableDefinition, WriteTransaction,
};

use junction_state_tree::{
    decode_node, encode_node_key, KeyHash, KeyPreimages, OwnedValue, StateTreeError,
    StateTreeReader, TreeLeafNode, TreeNode, TreeNodeKey, TreeUpdate, Version,
};

/// Tree nodes: encoded node key → encoded node.
pub(crate) const TREE_NODES: TableDefinition<&[u8], &[u8]> =
    TableDefinition::new("state_tree_nodes");
/// Values: key hash ‖ version (big-endian) → tag (0 deleted, 1 present) ‖ value; and the
/// key itself under its bare 32-byte hash (absence proofs name the neighbouring keys).
/// The key's row sorts just before its value rows, so writing a new key dirties one page
/// of this table, not a page here and another in a table of its own: keys hash to random
/// places, and each such write costs a page copy at commit.
pub(crate) const TREE_VALUES: TableDefinition<&[u8], &[u8]> =
    TableDefinition::new("state_tree_values");
/// Keys by key hash, as stores written before keys moved into [`TREE_VALUES`] hold them:
/// read when a key's row is not there, never written.
pub(crate) const TREE_PREIMAGES: TableDefinition<&[u8; 32], &[u8]> =
    TableDefinition::new("state_tree_preimages");
/// Stale nodes: stale-since version (big-endian) ‖ encoded node key → nothing.
pub(crate) const TREE_STALE: TableDefinition<&[u8], &[u8]> =
    TableDefinition::new("state_tree_stale");

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
    tx.open_table(TREE_STALE).map_err(read_err)?;
    Ok(())
}

/// Writes one version's update inside the caller's write transaction. Rows go in key
/// order: consecutive inserts then land on the same or the next page, which is still in
/// the cache and already copied for this transaction, instead of jumping across the table.
/// The stale-node index is written only for a store that prunes (`index_stale`): a store
/// that keeps every height never reads it, and it is more than one row per packet.
pub(crate) fn write_update(
    tx: &WriteTransaction,
    u: &TreeUpdate,
    index_stale: bool,
) -> Result<(), StateTreeError> {
    let mut nodes = tx.open_table(TREE_NODES).map_err(read_err)?;
    let mut sorted: Vec<&(Vec<u8>, Vec<u8>)> = u.nodes.iter().collect();
    sorted.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    for (k, n) in sorted {
        nodes.insert(k.as_slice(), n.as_slice()).map_err(read_err)?;
    }
    /// A row of the values table: a key's own row (its bare hash), or its value at a
    /// version (absent when deleted).
    enum ValueRow<'a> {
        Key(&'a [u8]),
        Value(u64, Option<&'a [u8]>),
    }
    // The bare hash sorts before every `hash ‖ version`, and versions are big-endian in
    // the stored key: ordering by (hash, no version first) is the table's own order.
    let order = |(kh, r): &(&[u8; 32], ValueRow<'_>)| {
        let version = match r {
            ValueRow::Key(_) => None,
            ValueRow::Value(version, _) => Some(*version),
        };
        (**kh, version)
    };
    let mut rows: Vec<(&[u8; 32], ValueRow<'_>)> = u
        .preimages
        .iter()
        .map(|(kh, key)| (kh, ValueRow::Key(key)))
        .chain(
            u.values
                .iter()
                .map(|(kh, version, v)| (kh, ValueRow::Value(*version, v.as_deref()))),
        )
        .collect();
    rows.sort_unstable_by_key(order);
    let mut values = tx.open_table(TREE_VALUES).map_err(read_err)?;
    let mut row = Vec::new();
    for (kh, r) in rows {
        match r {
            ValueRow::Key(key) => values.insert(kh.as_slice(), key),
            ValueRow::Value(version, v) => {
                row.clear();
                match v {
                    Some(v) => {
                        row.push(1);
                        row.extend_from_slice(v);
                    }
                    None => row.push(0),
                }
                values.insert(value_key(kh, version).as_slice(), row.as_slice())
            }
        }
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

/// The value of `key_hash` as of `max_version`: its newest row at or below it (`None`
/// when never written or deleted). With `u64::MAX`, the current value: the node reads its
/// state from these rows, which the tree needs anyway, so no second copy is written. The
/// key's own row (its bare hash) sorts before the range and is never read as a value.
///
/// With `rows_name_every_key` (no key of the store lives only in the older preimage table),
/// a key without its own row was never written: one point read answers, instead of a range
/// over its versions. Most reads of a busy hub are of such keys (the record of a packet
/// not yet received).
pub(crate) fn latest_value(
    values: &ReadOnlyTable<&'static [u8], &'static [u8]>,
    key_hash: &[u8; 32],
    max_version: u64,
    rows_name_every_key: bool,
) -> Result<Option<Vec<u8>>, StateTreeError> {
    if rows_name_every_key && values.get(key_hash.as_slice()).map_err(read_err)?.is_none() {
        return Ok(None);
    }
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

/// Whether every key of the store has its own row in [`TREE_VALUES`]: true unless the
/// store was written while keys lived in [`TREE_PREIMAGES`], which is never written since.
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
    rows_name_every_key: bool,
}

impl std::fmt::Debug for TreeView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TreeView")
    }
}

impl TreeView {
    pub(crate) fn open(tx: &ReadTransaction) -> Result<Self, StateTreeError> {
        let preimages = tx.open_table(TREE_PREIMAGES).map_err(read_err)?;
        Ok(Self {
            nodes: tx.open_table(TREE_NODES).map_err(read_err)?,
            values: tx.open_table(TREE_VALUES).map_err(read_err)?,
            rows_name_every_key: rows_name_every_key(&preimages)?,
            preimages,
        })
    }
}

impl StateTreeReader for TreeView {
    fn get_node_option(&self, node_key: &TreeNodeKey) -> anyhow::Result<Option<TreeNode>> {
        let key = encode_node_key(node_key)?;
        match self.nodes.get(key.as_slice())? {
            Some(v) => Ok(Some(decode_node(v.value())?)),
            None => Ok(None),
        }
    }

    fn get_value_option(
        &self,
        max_version: Version,
        key_hash: KeyHash,
    ) -> anyhow::Result<Option<OwnedValue>> {
        Ok(latest_value(
            &self.values,
            &key_hash.0,
            max_version,
            self.rows_name_every_key,
        )?)
    }

    fn get_rightmost_leaf(&self) -> anyhow::Result<Option<(TreeNodeKey, TreeLeafNode)>> {
        // Only jmt's state-sync restore asks for this, and the hub does not restore trees.
        anyhow::bail!("the rightmost leaf is not kept")
    }
}

impl KeyPreimages for TreeView {
    fn preimage(&self, key_hash: KeyHash) -> anyhow::Result<Option<Vec<u8>>> {
        if let Some(key) = self.values.get(key_hash.0.as_slice())? {
            return Ok(Some(key.value().to_vec()));
        }
        Ok(self.preimages.get(&key_hash.0)?.map(|v| v.value().to_vec()))
    }
}
