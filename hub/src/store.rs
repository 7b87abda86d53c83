//! The node's durable store: blocks, commit certificates, application state, the transaction
//! index and events, all in redb under `<home>/data/`.
//!
//! Everything a block changes is written in **one** write transaction with
//! `Durability::Immediate`, so a crash leaves either the whole block or none of it.
//! The [`Store`] trait is the only way the node touches disk, so a test can put a faulty
//! store behind it.

use std::path::Path;

use redb::{Database, Durability, ReadableTable, ReadableTableMetadata, TableDefinition};

use junction_spec::Hash32;
use junction_state_tree::{ProvenValue, StateTreeError, TreeUpdate};

use crate::key_filter::KeyFilter;
use crate::snapshot::{status_row, Snapshot};
use crate::store_tree::{self, TreeView};

pub use crate::store_tables::StoreError;
use crate::store_tables::*;

/// One stored subtree root of the message log: (level, index, root).
pub type LogTreeRow = (u8, u64, Hash32);

/// Everything one block writes.
#[derive(Debug, Clone)]
pub struct BlockCommit {
    /// Height committed.
    pub height: u64,
    /// Hash of the block.
    pub block_hash: Hash32,
    /// Encoded block; `None` when the store already holds it (a proposal kept with
    /// [`Store::put_undecided`] and not yet outdated).
    pub block: Option<Vec<u8>>,
    /// Encoded commit certificate with vote extensions.
    pub certificate: Vec<u8>,
    /// Encoded events of the block.
    pub events: Vec<u8>,
    /// Transaction hashes in block order.
    pub tx_hashes: Vec<Hash32>,
    /// The encoded chain tip after this block.
    pub tip: Vec<u8>,
    /// Message-log entries appended by this block: (index, canonical encoding).
    pub log_entries: Vec<(u64, Vec<u8>)>,
    /// The log subtrees these entries complete: (level, index, root).
    pub log_tree: Vec<LogTreeRow>,
    /// Packet-index moves: (row removed, row added) per record the block wrote.
    pub packet_status: Vec<(Option<Vec<u8>>, Vec<u8>)>,
    /// Packets whose outcome this block logged, with the log indices of their entries.
    pub settled: Vec<(Hash32, Vec<u64>)>,
    /// Packet lifecycle steps of this block: (log index of the entry the step wrote,
    /// JSON step), in log order.
    pub packet_steps: Vec<(u64, Vec<u8>)>,
    /// The state tree's new nodes for this height; its root is the tip's app hash.
    pub state_tree: TreeUpdate,
}

/// The node's persistence. One implementation writes redb; tests may wrap it.
pub trait Store: Send + Sync + std::fmt::Debug {
    /// Commits one block atomically and durably.
    fn commit_block(&self, commit: &BlockCommit) -> Result<(), StoreError>;
    /// The stored tip, if any block was committed.
    fn tip(&self) -> Result<Option<Vec<u8>>, StoreError>;
    /// An encoded block by height.
    fn block(&self, height: u64) -> Result<Option<Vec<u8>>, StoreError>;
    /// An encoded commit certificate by height.
    fn certificate(&self, height: u64) -> Result<Option<Vec<u8>>, StoreError>;
    /// Encoded events by height.
    fn events(&self, height: u64) -> Result<Option<Vec<u8>>, StoreError>;
    /// Where a committed transaction is: (height, index in block).
    fn tx_location(&self, hash: &Hash32) -> Result<Option<(u64, u32)>, StoreError>;
    /// A metadata value.
    fn meta(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// Writes a metadata value durably.
    fn put_meta(&self, key: &str, value: &[u8]) -> Result<(), StoreError>;
    /// Writes the genesis state (before block 1) and its tree at version 0; returns the
    /// tree's root.
    fn write_genesis_state(
        &self,
        rows: &[(Vec<u8>, Option<Vec<u8>>)],
    ) -> Result<Hash32, StoreError>;
    /// What a block's state writes do to the tree at the last committed height: the new
    /// nodes and root, computed from a snapshot (the caller holds the chain's write lock,
    /// so no commit runs in between).
    fn state_tree_update(
        &self,
        height: u64,
        writes: &[(Vec<u8>, Option<Vec<u8>>)],
    ) -> Result<TreeUpdate, StoreError>;
    /// The tree's root at a height, if the tree holds it.
    fn state_root(&self, height: u64) -> Result<Option<Hash32>, StoreError>;
    /// A key's value at a committed height with its ICS-23 proof against that height's
    /// app hash; refused by name below the oldest height this node keeps.
    fn state_proof(&self, height: u64, key: &[u8]) -> Result<ProvenValue, StoreError>;
    /// The oldest height whose state this node still proves (0 without pruning).
    fn oldest_provable_height(&self) -> Result<u64, StoreError>;
    /// Keeps a proposed but undecided block (its record, and the encoded block), so a
    /// restart can give it back to consensus. The record starts with the height.
    fn put_undecided(&self, hash: &Hash32, record: &[u8], block: &[u8]) -> Result<(), StoreError>;
    /// Every undecided record, with its encoded block (`None`: the record of an older
    /// store, which holds the block itself).
    #[allow(clippy::type_complexity)]
    fn undecided(&self) -> Result<Vec<(Hash32, Vec<u8>, Option<Vec<u8>>)>, StoreError>;
    /// Drops undecided records.
    fn remove_undecided(&self, hashes: &[Hash32]) -> Result<(), StoreError>;
    /// Every message-log entry, in index order.
    fn snapshot(&self) -> Result<std::sync::Arc<Snapshot>, StoreError>;
    /// A packet's lifecycle steps on the hub in log order (JSON objects): those of its
    /// entries at `log_indices` (what its record names), and any a store written before
    /// the steps were kept by log index holds under its key hash.
    fn packet_steps(
        &self,
        key_hash: &Hash32,
        log_indices: &[u64],
    ) -> Result<Vec<serde_json::Value>, StoreError>;
}

/// The redb-backed store.
#[derive(Debug)]
pub struct RedbStore {
    db: Database,
    /// Heights of state-tree history kept for proofs; 0 keeps every height.
    retention_blocks: u64,
    packet_retention_blocks: u64,
    /// Which state keys the store may hold, so snapshots answer most absent keys at once.
    keys: std::sync::Arc<KeyFilter>,
    /// The committed state tree's top levels, for snapshots and the next block's update.
    upper: std::sync::Arc<store_tree::CommittedUpper>,
}

/// redb page-cache size. 16 MiB fills within a validator's first 10,000 packets, so its
/// memory does not grow later while the cache fills (32 MiB filled between 10,000 and
/// 100,000 logged packets in `bench hub`, and with the cache's small pages scattered
/// among the block-sized churn the resident size grew by several times 16 MiB); the CPU
/// per packet at 100,000 was the same (the pages it no longer holds are in the OS page
/// cache, a `pread` away).
const STORE_CACHE_BYTES: usize = 16 * 1024 * 1024;

/// Meta key of the oldest height whose state tree is still whole.
const OLDEST_PROVABLE: &str = "state_oldest_provable";

impl RedbStore {
    /// Opens (or creates) the database file and its tables, keeping every height's state.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Self::open_with_retention(path, 0)
    }

    /// Opens the store and, when `retention_blocks` > 0, prunes state-tree history so that
    /// only the last `retention_blocks` heights can be proven. Current state, blocks, the
    /// message log and receipts are never pruned.
    pub fn open_with_retention(path: &Path, retention_blocks: u64) -> Result<Self, StoreError> {
        // redb's page cache would otherwise grow with the data toward a gigabyte; reads
        // the node makes per block are few, so a bounded cache keeps memory flat.
        let db = Database::builder()
            .set_cache_size(STORE_CACHE_BYTES)
            .create(path)?;
        let mut tx = db.begin_write()?;
        tx.set_durability(Durability::Immediate);
        {
            tx.open_table(BLOCKS)?;
            tx.open_table(BLOCK_HASHES)?;
            tx.open_table(BLOCK_BODIES)?;
            tx.open_table(BLOCK_BODY_CHUNKS)?;
            tx.open_table(CERTS)?;
            tx.open_table(EVENTS)?;
            tx.open_table(TXS)?;
            tx.open_table(META)?;
            tx.open_table(UNDECIDED)?;
            index_undecided(&tx)?;
            tx.open_table(LOG)?;
            tx.open_table(LOG_TREE)?;
            tx.open_table(PACKET_STATUS)?;
            tx.open_table(PACKET_COUNTS)?;
            tx.open_table(PACKETS)?;
            tx.open_table(PACKET_STEPS)?;
            tx.open_table(SETTLED)?;
            store_tree::create_tables(&tx)?;
        }
        tx.commit()?;
        migrate_status_rows(&db)?;
        let keys = std::sync::Arc::new(key_filter_of(&db)?);
        Ok(Self {
            db,
            retention_blocks,
            packet_retention_blocks: 0,
            keys,
            upper: Default::default(),
        })
    }

    /// Drops the log entries and lifecycle steps of packets whose outcome was logged more
    /// than `blocks` blocks ago (0 keeps everything). Records, log subtree roots and every
    /// other entry stay.
    pub fn with_packet_retention(mut self, blocks: u64) -> Self {
        self.packet_retention_blocks = blocks;
        self
    }

    /// Whether the store holds the encoded block with this hash. It reads the whole block:
    /// the node itself knows which proposals it stored.
    #[cfg(test)]
    fn has_block(&self, hash: &Hash32) -> Result<bool, StoreError> {
        Ok(read_body(&self.db.begin_read()?, hash)?.is_some())
    }

    fn get_u64(
        &self,
        t: TableDefinition<u64, &[u8]>,
        k: u64,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let tx = self.db.begin_read()?;
        let table = tx.open_table(t)?;
        Ok(table.get(k)?.map(|v| v.value().to_vec()))
    }
}

/// The filter of the keys `db` holds, from the keys each version wrote and an older
/// store's value rows (every key had its own row there), or a disabled one when some keys
/// live only in the older preimage table.
fn key_filter_of(db: &Database) -> Result<KeyFilter, StoreError> {
    let tx = db.begin_read()?;
    let preimages = tx.open_table(store_tree::TREE_PREIMAGES)?;
    if !store_tree::rows_name_every_key(&preimages)? {
        return Ok(KeyFilter::Disabled);
    }
    let filter = KeyFilter::new();
    let mut batch: Vec<Hash32> = Vec::with_capacity(4096);
    let mut add = |kh: Hash32| {
        batch.push(kh);
        if batch.len() == batch.capacity() {
            filter.insert(&batch);
            batch.clear();
        }
    };
    for row in tx.open_table(store_tree::TREE_VALUES)?.iter()? {
        let (k, _) = row?;
        // A key's own row is its bare hash; the others are `hash ‖ version`.
        if let Ok(kh) = <Hash32>::try_from(k.value()) {
            add(kh);
        }
    }
    for row in tx.open_table(store_tree::TREE_KEYS)?.iter()? {
        let (k, _) = row?;
        add(*k.value().1);
    }
    for row in tx.open_table(store_tree::TREE_VERSION_KEYS)?.iter()? {
        let (version, hashes) = row?;
        let hashes = hashes.value();
        if hashes.len() % 32 != 0 {
            return Err(StoreError::Corrupt(format!(
                "the keys version {} wrote: {} bytes, not 32 per key",
                version.value(),
                hashes.len()
            )));
        }
        for kh in hashes.chunks_exact(32) {
            let mut h = [0u8; 32];
            h.copy_from_slice(kh);
            add(h);
        }
    }
    filter.insert(&batch);
    Ok(filter)
}

impl Store for RedbStore {
    fn commit_block(&self, c: &BlockCommit) -> Result<(), StoreError> {
        let mut tx = self.db.begin_write()?;
        tx.set_durability(Durability::Immediate);
        {
            let mut bodies = tx.open_table(BLOCK_BODY_CHUNKS)?;
            let mut legacy_bodies = tx.open_table(BLOCK_BODIES)?;
            match &c.block {
                Some(block) => put_body(&mut bodies, &c.block_hash, block)?,
                // A kept proposal's small record stands for its body, written in the same
                // transaction: reading the body itself would read megabytes.
                None if tx.open_table(UNDECIDED)?.get(&c.block_hash)?.is_some() => {}
                None => {
                    return Err(StoreError::Encode(format!(
                        "block {} of height {} is neither given nor kept",
                        hex::encode(c.block_hash),
                        c.height
                    )))
                }
            }
            tx.open_table(BLOCK_HASHES)?
                .insert(c.height, &c.block_hash)?;
            tx.open_table(CERTS)?
                .insert(c.height, c.certificate.as_slice())?;
            tx.open_table(EVENTS)?
                .insert(c.height, c.events.as_slice())?;
            // Random keys go in key order (see `store_tree::write_update`).
            let mut txs = tx.open_table(TXS)?;
            let mut by_hash: Vec<(u32, &Hash32)> = (0u32..).zip(c.tx_hashes.iter()).collect();
            by_hash.sort_unstable_by_key(|(_, h)| *h);
            for (i, h) in by_hash {
                txs.insert(h, (c.height, i))?;
            }
            let mut log = tx.open_table(LOG)?;
            for (i, e) in &c.log_entries {
                log.insert(*i, e.as_slice())?;
            }
            let mut log_tree = tx.open_table(LOG_TREE)?;
            for (level, index, root) in &c.log_tree {
                log_tree.insert((*level, *index), root)?;
            }
            write_packet_status(&tx, &c.packet_status)?;
            let mut settled = tx.open_table(SETTLED)?;
            for (key, indices) in &c.settled {
                let bytes: Vec<u8> = indices.iter().flat_map(|i| i.to_be_bytes()).collect();
                settled.insert((c.height, key), bytes.as_slice())?;
            }
            // Log indices only grow: a block's steps append at the table's end.
            let mut steps = tx.open_table(PACKET_STEPS)?;
            for (index, step) in &c.packet_steps {
                steps.insert(*index, step.as_slice())?;
            }
            if c.state_tree.version != c.height {
                return Err(StoreError::Encode(format!(
                    "state tree update for version {} in the commit of height {}",
                    c.state_tree.version, c.height
                )));
            }
            store_tree::write_update(&tx, &c.state_tree, self.retention_blocks > 0)?;
            // Before the commit: a snapshot opened after it must find the new keys.
            self.keys
                .insert(c.state_tree.preimages.iter().map(|(kh, _)| kh));
            let mut meta = tx.open_table(META)?;
            if self.retention_blocks > 0 && c.height > self.retention_blocks {
                let oldest = c.height - self.retention_blocks;
                store_tree::prune_through(&tx, oldest)?;
                meta.insert(OLDEST_PROVABLE, oldest.to_be_bytes().as_slice())?;
            }
            meta.insert("tip", c.tip.as_slice())?;
            // Undecided proposals at or below this height can never be decided now.
            let mut und = tx.open_table(UNDECIDED)?;
            let mut heights = tx.open_table(UNDECIDED_HEIGHTS)?;
            let mut outdated = Vec::new();
            for row in heights.range((0u64, &[0u8; 32])..=(c.height, &[0xffu8; 32]))? {
                let (k, _) = row?;
                let (h, hash) = k.value();
                outdated.push((h, *hash));
            }
            for (h, hash) in &outdated {
                und.remove(hash)?;
                heights.remove((*h, hash))?;
                if *hash != c.block_hash {
                    remove_body(&mut bodies, &mut legacy_bodies, hash)?;
                }
            }
        }
        // After the block's own tables are closed: pruning reopens the log and lifecycle.
        if self.packet_retention_blocks > 0 && c.height > self.packet_retention_blocks {
            prune_settled_packets(&tx, c.height - self.packet_retention_blocks)?;
        }
        tx.commit()?;
        self.upper.committed(&c.state_tree);
        Ok(())
    }

    fn tip(&self) -> Result<Option<Vec<u8>>, StoreError> {
        self.meta("tip")
    }

    fn block(&self, height: u64) -> Result<Option<Vec<u8>>, StoreError> {
        let tx = self.db.begin_read()?;
        if let Some(hash) = tx.open_table(BLOCK_HASHES)?.get(height)? {
            let hash = *hash.value();
            return match read_body(&tx, &hash)? {
                Some(b) => Ok(Some(b)),
                None => Err(StoreError::Corrupt(format!(
                    "block {} of height {height} is missing",
                    hex::encode(hash)
                ))),
            };
        }
        Ok(tx
            .open_table(BLOCKS)?
            .get(height)?
            .map(|v| v.value().to_vec()))
    }

    fn certificate(&self, height: u64) -> Result<Option<Vec<u8>>, StoreError> {
        self.get_u64(CERTS, height)
    }

    fn events(&self, height: u64) -> Result<Option<Vec<u8>>, StoreError> {
        self.get_u64(EVENTS, height)
    }

    fn tx_location(&self, hash: &Hash32) -> Result<Option<(u64, u32)>, StoreError> {
        let tx = self.db.begin_read()?;
        let table = tx.open_table(TXS)?;
        Ok(table.get(hash)?.map(|v| v.value()))
    }

    fn meta(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let tx = self.db.begin_read()?;
        let table = tx.open_table(META)?;
        Ok(table.get(key)?.map(|v| v.value().to_vec()))
    }

    fn put_meta(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        let mut tx = self.db.begin_write()?;
        tx.set_durability(Durability::Immediate);
        tx.open_table(META)?.insert(key, value)?;
        tx.commit()?;
        Ok(())
    }

    fn write_genesis_state(
        &self,
        rows: &[(Vec<u8>, Option<Vec<u8>>)],
    ) -> Result<Hash32, StoreError> {
        let tree =
            junction_state_tree::update(&junction_state_tree::MemoryTree::default(), 0, rows)?;
        let mut tx = self.db.begin_write()?;
        tx.set_durability(Durability::Immediate);
        {
            store_tree::write_update(&tx, &tree, self.retention_blocks > 0)?;
        }
        self.keys.insert(tree.preimages.iter().map(|(kh, _)| kh));
        tx.commit()?;
        Ok(tree.root)
    }

    fn state_tree_update(
        &self,
        height: u64,
        writes: &[(Vec<u8>, Option<Vec<u8>>)],
    ) -> Result<TreeUpdate, StoreError> {
        let tx = self.db.begin_read()?;
        let view = TreeView::open(&tx)?
            .for_update()
            .through(self.upper.clone());
        let mut update = junction_state_tree::update(&view, height, writes)?;
        if let Some(parent) = height.checked_sub(1) {
            update.carried = update
                .moved
                .iter()
                .map(|kh| view.carried(parent, kh).map(|(k, v)| (*kh, k, v)))
                .collect::<Result<_, _>>()?;
        }
        Ok(update)
    }

    fn state_root(&self, height: u64) -> Result<Option<Hash32>, StoreError> {
        let tx = self.db.begin_read()?;
        let view = TreeView::open(&tx)?;
        match junction_state_tree::root_at(&view, height) {
            Ok(r) => Ok(Some(r)),
            Err(StateTreeError::MissingRoot(_)) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    fn state_proof(&self, height: u64, key: &[u8]) -> Result<ProvenValue, StoreError> {
        let tx = self.db.begin_read()?;
        let oldest = oldest_provable(&tx)?;
        if height < oldest {
            return Err(StoreError::StatePruned { height, oldest });
        }
        let view = TreeView::open(&tx)?.proving_at(height);
        Ok(junction_state_tree::prove(&view, height, key)?)
    }

    fn oldest_provable_height(&self) -> Result<u64, StoreError> {
        oldest_provable(&self.db.begin_read()?)
    }

    fn put_undecided(&self, hash: &Hash32, record: &[u8], block: &[u8]) -> Result<(), StoreError> {
        let mut tx = self.db.begin_write()?;
        tx.set_durability(Durability::Immediate);
        tx.open_table(UNDECIDED)?.insert(hash, record)?;
        put_body(&mut tx.open_table(BLOCK_BODY_CHUNKS)?, hash, block)?;
        tx.open_table(UNDECIDED_HEIGHTS)?
            .insert((undecided_index_height(record), hash), ())?;
        tx.commit()?;
        Ok(())
    }

    fn undecided(&self) -> Result<Vec<(Hash32, Vec<u8>, Option<Vec<u8>>)>, StoreError> {
        let tx = self.db.begin_read()?;
        let table = tx.open_table(UNDECIDED)?;
        let mut out = Vec::new();
        for row in table.iter()? {
            let (k, v) = row?;
            let block = read_body(&tx, k.value())?;
            out.push((*k.value(), v.value().to_vec(), block));
        }
        Ok(out)
    }

    fn snapshot(&self) -> Result<std::sync::Arc<Snapshot>, StoreError> {
        Ok(std::sync::Arc::new(
            Snapshot::open(&self.db.begin_read()?)?
                .with_key_filter(self.keys.clone())
                .through(self.upper.clone()),
        ))
    }

    fn packet_steps(
        &self,
        key_hash: &Hash32,
        log_indices: &[u64],
    ) -> Result<Vec<serde_json::Value>, StoreError> {
        let tx = self.db.begin_read()?;
        let corrupt = |what: String, e: serde_json::Error| {
            StoreError::Corrupt(format!("packet lifecycle {what}: {e}"))
        };
        let mut steps: Vec<serde_json::Value> = match tx.open_table(PACKETS) {
            Ok(t) => match t.get(key_hash)? {
                Some(v) => serde_json::from_slice(v.value())
                    .map_err(|e| corrupt(format!("row {}", hex::encode(key_hash)), e))?,
                None => Vec::new(),
            },
            Err(redb::TableError::TableDoesNotExist(_)) => Vec::new(),
            Err(e) => return Err(e.into()),
        };
        let logged_before: Vec<u64> = steps
            .iter()
            .filter_map(|s| s.get("log_index").and_then(serde_json::Value::as_u64))
            .collect();
        let by_index = tx.open_table(PACKET_STEPS)?;
        let mut indices = log_indices.to_vec();
        indices.sort_unstable();
        indices.dedup();
        for i in indices {
            if logged_before.contains(&i) {
                continue;
            }
            if let Some(v) = by_index.get(i)? {
                steps.push(
                    serde_json::from_slice(v.value())
                        .map_err(|e| corrupt(format!("step at log index {i}"), e))?,
                );
            }
        }
        Ok(steps)
    }

    fn remove_undecided(&self, hashes: &[Hash32]) -> Result<(), StoreError> {
        let mut tx = self.db.begin_write()?;
        tx.set_durability(Durability::Immediate);
        {
            let mut t = tx.open_table(UNDECIDED)?;
            let mut heights = tx.open_table(UNDECIDED_HEIGHTS)?;
            let mut bodies = tx.open_table(BLOCK_BODY_CHUNKS)?;
            let mut legacy_bodies = tx.open_table(BLOCK_BODIES)?;
            for h in hashes {
                // A committed block has no record left: its body stays.
                if let Some(record) = t.remove(h)? {
                    heights.remove((undecided_index_height(record.value()), h))?;
                    remove_body(&mut bodies, &mut legacy_bodies, h)?;
                }
            }
        }
        tx.commit()?;
        Ok(())
    }
}

type BodyChunks<'t> = redb::Table<'t, (&'static Hash32, u32), &'static [u8]>;

/// Writes an encoded block as its chunks (an empty block as one empty chunk, so that it
/// reads back as present).
fn put_body(chunks: &mut BodyChunks<'_>, hash: &Hash32, body: &[u8]) -> Result<(), StoreError> {
    if body.is_empty() {
        chunks.insert((hash, 0), [].as_slice())?;
    }
    for (i, chunk) in (0u32..).zip(body.chunks(BODY_CHUNK_BYTES)) {
        chunks.insert((hash, i), chunk)?;
    }
    Ok(())
}

/// Reads an encoded block: its chunks, or the single value an older store wrote.
fn read_body(tx: &redb::ReadTransaction, hash: &Hash32) -> Result<Option<Vec<u8>>, StoreError> {
    let chunks = tx.open_table(BLOCK_BODY_CHUNKS)?;
    let mut body: Option<Vec<u8>> = None;
    for (expected, row) in (0u32..).zip(chunks.range((hash, 0u32)..=(hash, u32::MAX))?) {
        let (k, v) = row?;
        if k.value().1 != expected {
            return Err(StoreError::Corrupt(format!(
                "block {} lacks its chunk {expected}",
                hex::encode(hash)
            )));
        }
        body.get_or_insert_with(Vec::new)
            .extend_from_slice(v.value());
    }
    if body.is_some() {
        return Ok(body);
    }
    Ok(tx
        .open_table(BLOCK_BODIES)?
        .get(hash)?
        .map(|v| v.value().to_vec()))
}

/// Drops an encoded block, in chunks or as an older store wrote it.
fn remove_body(
    chunks: &mut BodyChunks<'_>,
    legacy: &mut redb::Table<'_, &'static Hash32, &'static [u8]>,
    hash: &Hash32,
) -> Result<(), StoreError> {
    chunks.retain_in((hash, 0u32)..=(hash, u32::MAX), |_, _| false)?;
    legacy.remove(hash)?;
    Ok(())
}

/// Drops the log entries and lifecycle rows of packets settled at or before `through`.
fn prune_settled_packets(tx: &redb::WriteTransaction, through: u64) -> Result<(), StoreError> {
    let mut settled = tx.open_table(SETTLED)?;
    let mut log = tx.open_table(LOG)?;
    let mut steps = tx.open_table(PACKET_STEPS)?;
    let mut legacy_steps = tx.open_table(PACKETS)?;
    let end = through.saturating_add(1);
    let mut doomed = Vec::new();
    for row in settled.range((0u64, &[0u8; 32])..(end, &[0u8; 32]))? {
        let (k, v) = row?;
        let (height, key) = k.value();
        doomed.push((height, *key, v.value().to_vec()));
    }
    for (height, key, indices) in doomed {
        if indices.len() % 8 != 0 {
            return Err(StoreError::Corrupt(format!(
                "settled packet row {}",
                hex::encode(key)
            )));
        }
        for chunk in indices.chunks_exact(8) {
            let mut b = [0u8; 8];
            b.copy_from_slice(chunk);
            let index = u64::from_be_bytes(b);
            log.remove(index)?;
            steps.remove(index)?;
        }
        legacy_steps.remove(&key)?;
        settled.remove((height, &key))?;
    }
    Ok(())
}

/// Status rows moved per write transaction when an older store opens.
const STATUS_MIGRATION_CHUNK: usize = 10_000;

/// Moves the status rows of a store written before they carried the packet's first log
/// index into [`PACKET_STATUS`], reading each packet's record from the committed state,
/// then drops the old table. Each chunk moves in one durable transaction (removed there,
/// written here), so an interrupted open resumes where it stopped; the per-status counts
/// keep their keys and do not change.
fn migrate_status_rows(db: &Database) -> Result<(), StoreError> {
    loop {
        let chunk: Vec<Vec<u8>> = {
            let tx = db.begin_read()?;
            let legacy = match tx.open_table(LEGACY_PACKET_STATUS) {
                Ok(t) => t,
                Err(redb::TableError::TableDoesNotExist(_)) => return Ok(()),
                Err(e) => return Err(e.into()),
            };
            legacy
                .iter()?
                .take(STATUS_MIGRATION_CHUNK)
                .map(|r| r.map(|(k, _)| k.value().to_vec()))
                .collect::<Result<_, _>>()?
        };
        let mut tx = db.begin_write()?;
        tx.set_durability(Durability::Immediate);
        if chunk.is_empty() {
            tx.delete_table(LEGACY_PACKET_STATUS)?;
            tx.commit()?;
            return Ok(());
        }
        let snapshot = std::sync::Arc::new(Snapshot::open(&db.begin_read()?)?);
        let packets = crate::snapshot::packets_over(&snapshot).map_err(StoreError::Corrupt)?;
        {
            let mut legacy = tx.open_table(LEGACY_PACKET_STATUS)?;
            let mut rows = tx.open_table(PACKET_STATUS)?;
            for old in &chunk {
                let key = crate::snapshot::status_row_key(old)?;
                let record = packets.record(&key).ok_or_else(|| {
                    StoreError::Corrupt(format!(
                        "the status index names packet {} but the state has no record of it",
                        hex::encode(key)
                    ))
                })?;
                rows.insert(status_row(&record, &key).as_slice(), ())?;
                legacy.remove(old.as_slice())?;
            }
        }
        tx.commit()?;
    }
}

/// Moves packet-index rows and their per-status counts.
fn write_packet_status(
    tx: &redb::WriteTransaction,
    moves: &[(Option<Vec<u8>>, Vec<u8>)],
) -> Result<(), StoreError> {
    let mut rows = tx.open_table(PACKET_STATUS)?;
    let mut counts = tx.open_table(PACKET_COUNTS)?;
    let mut bump = |row: &[u8], up: bool| -> Result<(), StoreError> {
        let prefix = row
            .get(..row.len().saturating_sub(STATUS_ROW_SUFFIX))
            .filter(|p| !p.is_empty())
            .ok_or_else(|| StoreError::Encode("packet status row".into()))?;
        let n = counts.get(prefix)?.map_or(0, |v| v.value());
        let n = if up {
            n.saturating_add(1)
        } else {
            n.checked_sub(1).ok_or_else(|| {
                StoreError::Corrupt(format!(
                    "packet status count {} is already zero",
                    hex::encode(prefix)
                ))
            })?
        };
        counts.insert(prefix, n)?;
        Ok(())
    };
    let mut moves: Vec<&(Option<Vec<u8>>, Vec<u8>)> = moves.iter().collect();
    moves.sort_unstable_by(|a, b| a.1.cmp(&b.1));
    for (old, new) in moves {
        if old.as_ref() == Some(new) {
            continue;
        }
        if let Some(old) = old {
            if rows.remove(old.as_slice())?.is_none() {
                return Err(StoreError::Corrupt(format!(
                    "packet status row {} is missing",
                    hex::encode(old)
                )));
            }
            bump(old, false)?;
        }
        if rows.insert(new.as_slice(), ())?.is_none() {
            bump(new, true)?;
        }
    }
    Ok(())
}

fn oldest_provable(tx: &redb::ReadTransaction) -> Result<u64, StoreError> {
    let meta = tx.open_table(META)?;
    let Some(v) = meta.get(OLDEST_PROVABLE)? else {
        return Ok(0);
    };
    <[u8; 8]>::try_from(v.value())
        .map(u64::from_be_bytes)
        .map_err(|_| StoreError::Corrupt("oldest provable height row".into()))
}

/// Undecided records start with their height (big-endian u64), so pruning needs no decoder.
fn decode_undecided_height(record: &[u8]) -> Option<u64> {
    record
        .get(..8)
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map(u64::from_be_bytes)
}

/// The height an undecided record is indexed under: a record too short to say is dropped
/// by the next commit, as it can never be decided.
fn undecided_index_height(record: &[u8]) -> u64 {
    decode_undecided_height(record).unwrap_or(0)
}

/// Indexes undecided records a store written before the height index holds (once: the
/// index is empty only then, or when there is nothing to index).
fn index_undecided(tx: &redb::WriteTransaction) -> Result<(), StoreError> {
    let und = tx.open_table(UNDECIDED)?;
    let mut heights = tx.open_table(UNDECIDED_HEIGHTS)?;
    if !heights.is_empty()? {
        return Ok(());
    }
    for row in und.iter()? {
        let (k, v) = row?;
        heights.insert((undecided_index_height(v.value()), k.value()), ())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use redb::ReadableTableMetadata;

    #[test]
    fn a_committed_block_is_readable_after_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.redb");
        {
            let s = RedbStore::open(&path).unwrap();
            let mut rec = 1u64.to_be_bytes().to_vec();
            rec.push(9);
            s.put_undecided(&[1; 32], &rec, &[9, 9]).unwrap();
            s.commit_block(&BlockCommit {
                height: 1,
                block_hash: [8; 32],
                block: Some(vec![1, 2, 3]),
                certificate: vec![4],
                events: vec![],
                tx_hashes: vec![[7; 32]],
                tip: vec![42],
                log_entries: vec![(0, vec![5, 5])],
                log_tree: vec![(0, 0, [5; 32])],
                packet_status: vec![],
                settled: vec![],
                packet_steps: vec![(0, br#"{"action":"packet_logged"}"#.to_vec())],
                state_tree: TreeUpdate {
                    version: 1,
                    ..TreeUpdate::default()
                },
            })
            .unwrap();
        }
        let s = RedbStore::open(&path).unwrap();
        let snap = s.snapshot().unwrap();
        assert_eq!(snap.log_entry(0).unwrap(), Some(vec![5, 5]));
        assert_eq!(snap.log_entry(1).unwrap(), None);
        assert_eq!(
            junction_spec::merkle_store::SubtreeRoots::subtree_root(snap.as_ref(), 0, 0),
            Ok(Some([5; 32]))
        );
        let steps = s.packet_steps(&[3; 32], &[0]).unwrap();
        assert_eq!(steps[0]["action"], "packet_logged");
        assert_eq!(s.block(1).unwrap(), Some(vec![1, 2, 3]));
        assert_eq!(s.tip().unwrap(), Some(vec![42]));
        assert_eq!(s.tx_location(&[7; 32]).unwrap(), Some((1, 0)));
        assert!(
            s.undecided().unwrap().is_empty(),
            "undecided at height 1 pruned"
        );
    }

    /// Commits dropped outdated proposals by reading every undecided record (each a whole
    /// block); they now range over a height index, which a store written before the index
    /// gets when it opens.
    #[test]
    fn a_commit_drops_exactly_the_outdated_undecided_records() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.redb");
        let rec = |h: u64| {
            let mut r = h.to_be_bytes().to_vec();
            r.extend_from_slice(&[h as u8; 100]);
            r
        };
        {
            let s = RedbStore::open(&path).unwrap();
            for (h, hash) in [(2u64, [2u8; 32]), (3, [3; 32]), (3, [4; 32]), (5, [5; 32])] {
                s.put_undecided(&hash, &rec(h), &[h as u8]).unwrap();
            }
            s.remove_undecided(&[[4; 32]]).unwrap();
            // A record written before the index existed: only in the record table.
            let mut tx = s.db.begin_write().unwrap();
            tx.set_durability(Durability::Immediate);
            tx.open_table(UNDECIDED)
                .unwrap()
                .insert(&[6; 32], rec(3).as_slice())
                .unwrap();
            tx.open_table(UNDECIDED_HEIGHTS)
                .unwrap()
                .retain(|_, _| false)
                .unwrap();
            tx.commit().unwrap();
        }
        let s = RedbStore::open(&path).unwrap();
        let keys = |s: &RedbStore| -> Vec<Hash32> {
            s.undecided()
                .unwrap()
                .into_iter()
                .map(|(k, _, _)| k)
                .collect()
        };
        assert_eq!(keys(&s), vec![[2; 32], [3; 32], [5; 32], [6; 32]]);
        s.commit_block(&commit(3, vec![])).unwrap();
        assert_eq!(
            keys(&s),
            vec![[5; 32]],
            "heights 2 and 3 can never be decided"
        );
        s.commit_block(&commit(4, vec![])).unwrap();
        assert_eq!(keys(&s), vec![[5; 32]]);
        s.commit_block(&commit(5, vec![])).unwrap();
        assert!(keys(&s).is_empty());
    }

    /// A commit copied its block into a table of committed blocks although the block was
    /// already stored as a kept proposal. It now names the kept block, which stays while
    /// the other proposals of its height go; blocks of older stores still read.
    #[test]
    fn a_commit_names_the_proposal_it_kept_and_drops_the_others() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.redb");
        let rec = 1u64.to_be_bytes();
        {
            let s = RedbStore::open(&path).unwrap();
            s.put_undecided(&[1; 32], &rec, b"chosen").unwrap();
            s.put_undecided(&[2; 32], &rec, b"other").unwrap();
            assert!(s.has_block(&[2; 32]).unwrap());
            let mut c = commit(1, vec![]);
            c.block_hash = [1; 32];
            c.block = None;
            s.commit_block(&c).unwrap();
            // Neither given nor kept: refused by name, nothing of the block written.
            let mut c = commit(2, vec![]);
            c.block = None;
            assert_eq!(
                s.commit_block(&c).unwrap_err().name(),
                "store_encode_failed"
            );
            assert_eq!(s.tip().unwrap(), Some(vec![1]));
            let tx = s.db.begin_write().unwrap();
            tx.open_table(BLOCKS)
                .unwrap()
                .insert(7, &b"older"[..])
                .unwrap();
            tx.commit().unwrap();
        }
        let s = RedbStore::open(&path).unwrap();
        assert_eq!(s.block(1).unwrap(), Some(b"chosen".to_vec()));
        assert!(s.undecided().unwrap().is_empty());
        assert!(!s.has_block(&[2; 32]).unwrap(), "the other proposal went");
        assert!(s.has_block(&[1; 32]).unwrap());
        assert_eq!(s.block(7).unwrap(), Some(b"older".to_vec()));
        assert_eq!(s.block(2).unwrap(), None);
    }

    /// A block was one redb value, so each kept proposal read and rewrote a neighbouring
    /// block of megabytes; it is now written in chunks. Blocks of every size read back
    /// whole, one block's removal leaves its neighbours' chunks, bodies an older store wrote
    /// as one value still read and go, and a missing chunk is refused by name.
    #[test]
    fn blocks_are_kept_in_chunks_and_read_back_whole() {
        let dir = tempfile::tempdir().unwrap();
        let s = RedbStore::open(&dir.path().join("store.redb")).unwrap();
        let rec = 1u64.to_be_bytes();
        let body = |n: usize, seed: u8| -> Vec<u8> {
            (0..n).map(|i| (i as u8).wrapping_mul(31) ^ seed).collect()
        };
        let sizes = [
            0,
            1,
            BODY_CHUNK_BYTES - 1,
            BODY_CHUNK_BYTES,
            BODY_CHUNK_BYTES + 1,
            5 * BODY_CHUNK_BYTES + 77,
        ];
        for (i, n) in sizes.iter().enumerate() {
            s.put_undecided(&[i as u8 + 1; 32], &rec, &body(*n, i as u8))
                .unwrap();
        }
        let chunks = |s: &RedbStore| -> u64 {
            let tx = s.db.begin_read().unwrap();
            tx.open_table(BLOCK_BODY_CHUNKS).unwrap().len().unwrap()
        };
        assert_eq!(chunks(&s), 1 + 1 + 1 + 1 + 2 + 6);
        let read = |s: &RedbStore, h: u8| read_body(&s.db.begin_read().unwrap(), &[h; 32]).unwrap();
        for (i, n) in sizes.iter().enumerate() {
            assert_eq!(read(&s, i as u8 + 1), Some(body(*n, i as u8)), "{n} bytes");
        }
        // A body as an older store wrote it, beside the chunked ones.
        let tx = s.db.begin_write().unwrap();
        tx.open_table(BLOCK_BODIES)
            .unwrap()
            .insert(&[9; 32], &b"older"[..])
            .unwrap();
        tx.open_table(UNDECIDED)
            .unwrap()
            .insert(&[9; 32], rec.as_slice())
            .unwrap();
        tx.commit().unwrap();
        assert_eq!(read(&s, 9), Some(b"older".to_vec()));
        s.remove_undecided(&[[6; 32], [9; 32]]).unwrap();
        assert_eq!(read(&s, 6), None);
        assert_eq!(read(&s, 9), None);
        assert_eq!(read(&s, 5), Some(body(sizes[4], 4)));
        assert_eq!(chunks(&s), 1 + 1 + 1 + 1 + 2);
        // A gap in a block's chunks.
        let tx = s.db.begin_write().unwrap();
        tx.open_table(BLOCK_BODY_CHUNKS)
            .unwrap()
            .remove((&[5u8; 32], 0))
            .unwrap();
        tx.commit().unwrap();
        assert_eq!(
            read_body(&s.db.begin_read().unwrap(), &[5; 32])
                .unwrap_err()
                .name(),
            "store_corrupt"
        );
    }

    fn commit(height: u64, steps: Vec<(u64, Vec<u8>)>) -> BlockCommit {
        let mut block_hash = [0xee; 32];
        block_hash[..8].copy_from_slice(&height.to_be_bytes());
        BlockCommit {
            height,
            block_hash,
            block: Some(vec![1]),
            certificate: vec![],
            events: vec![],
            tx_hashes: vec![],
            tip: vec![height as u8],
            log_entries: vec![],
            log_tree: vec![],
            packet_status: vec![],
            settled: vec![],
            packet_steps: steps,
            state_tree: TreeUpdate {
                version: height,
                ..TreeUpdate::default()
            },
        }
    }

    /// A lifecycle row as stores before steps by log index wrote it.
    fn put_legacy_steps(s: &RedbStore, key: Hash32, row: &[u8]) {
        let tx = s.db.begin_write().unwrap();
        tx.open_table(PACKETS).unwrap().insert(&key, row).unwrap();
        tx.commit().unwrap();
    }

    fn step(log_index: u64, action: &str) -> (u64, Vec<u8>) {
        let json = serde_json::json!({"height": 1, "action": action, "log_index": log_index});
        (log_index, serde_json::to_vec(&json).unwrap())
    }

    /// Lifecycle rows were a JSON list per packet that each step read, extended and wrote
    /// back (a random row per packet per block). Steps are now kept by log index; a store
    /// written before still answers with the steps under the packet's key, followed by
    /// those written since, each once and in log order.
    #[test]
    fn steps_by_log_index_follow_the_steps_an_older_store_kept_by_key() {
        let dir = tempfile::tempdir().unwrap();
        let s = RedbStore::open(&dir.path().join("store.redb")).unwrap();
        let (_, first) = step(4, "packet_logged");
        let legacy = format!("[{}]", String::from_utf8(first).unwrap());
        put_legacy_steps(&s, [3; 32], legacy.as_bytes());
        s.commit_block(&commit(1, vec![step(9, "ack_logged"), step(10, "other")]))
            .unwrap();
        let steps = s.packet_steps(&[3; 32], &[9, 4]).unwrap();
        let actions: Vec<_> = steps.iter().map(|s| s["action"].clone()).collect();
        assert_eq!(actions, ["packet_logged", "ack_logged"]);
        assert!(s.packet_steps(&[5; 32], &[]).unwrap().is_empty());
    }

    /// A lifecycle row that does not decode is damage, answered by name, never read as
    /// a packet without history.
    #[test]
    fn a_damaged_lifecycle_row_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let s = RedbStore::open(&dir.path().join("store.redb")).unwrap();
        s.commit_block(&commit(1, vec![(2, b"{not json".to_vec())]))
            .unwrap();
        let e = s.packet_steps(&[3; 32], &[2]).unwrap_err();
        assert_eq!(e.name(), "store_corrupt", "{e}");
        put_legacy_steps(&s, [3; 32], &b"{not json"[..]);
        let e = s.packet_steps(&[3; 32], &[]).unwrap_err();
        assert_eq!(e.name(), "store_corrupt", "{e}");
    }

    /// The status index pages by state and route from counts and bounded ranges; a
    /// record that moves (pending → ack) leaves its old row and count.
    #[test]
    fn the_packet_status_index_pages_and_counts_without_a_scan() {
        use crate::snapshot::{status_prefix, MAX_PAGE};
        let dir = tempfile::tempdir().unwrap();
        let s = RedbStore::open(&dir.path().join("store.redb")).unwrap();
        let route = junction_spec::RouteId::new("a-to-b").unwrap();
        let row = |status: u8, key: u8| {
            crate::snapshot::status_row_at(status_prefix(status, Some(&route)), 0, &[key; 32])
        };
        let mut c = commit(1, vec![]);
        c.packet_status = (1..=5).map(|k| (None, row(0, k))).collect();
        s.commit_block(&c).unwrap();
        let mut c = commit(2, vec![]);
        c.packet_status = vec![(Some(row(0, 2)), row(1, 2)), (Some(row(0, 4)), row(1, 4))];
        s.commit_block(&c).unwrap();
        let snap = s.snapshot().unwrap();
        let pending = vec![status_prefix(0, Some(&route))];
        let page = snap.packet_page(&pending, None, 2).unwrap();
        assert_eq!(page.total, 3);
        let keys: Vec<u8> = page.keys.iter().map(|(_, k)| k[0]).collect();
        assert_eq!(keys, vec![1, 3]);
        let next = page.next.unwrap();
        let page = snap.packet_page(&pending, Some(&next), 2).unwrap();
        assert_eq!(
            page.keys.iter().map(|(_, k)| k[0]).collect::<Vec<_>>(),
            vec![5]
        );
        assert!(page.next.is_none());
        // Everything: one empty prefix; the total is every count.
        let all = snap.packet_page(&[Vec::new()], None, MAX_PAGE).unwrap();
        assert_eq!(all.total, 5);
        assert_eq!(all.keys.len(), 5);
        // A row that is not there cannot be moved: damage, named.
        let mut c = commit(3, vec![]);
        c.packet_status = vec![(Some(row(0, 9)), row(1, 9))];
        assert_eq!(s.commit_block(&c).unwrap_err().name(), "store_corrupt");
    }

    /// Status rows were keyed by packet key hash, so every new packet dirtied a random
    /// page. Rows now carry the packet's first log index; a store with the older rows
    /// moves them on open, from each packet's record, and pages them in log order.
    #[test]
    fn older_status_rows_move_to_log_order_on_open() {
        use crate::snapshot::{status_prefix, MAX_PAGE};
        use junction_packets::{Outcome, PacketRecord};
        use junction_spec::{Encode as _, EntryKind};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.redb");
        let route = junction_spec::RouteId::new("a-to-b").unwrap();
        // Key hashes in the opposite order of their first log indices.
        let records: Vec<(Hash32, PacketRecord)> = (0..3u8)
            .map(|i| {
                let record = PacketRecord {
                    packet_hash: [i; 32],
                    route: Some(route.clone()),
                    ordered: false,
                    received_on_hub: true,
                    packet_index: Some(u64::from(i) * 2),
                    outcome: (i == 1).then_some(Outcome {
                        kind: EntryKind::Ack,
                        log_index: 7,
                    }),
                    skip_index: None,
                };
                ([9 - i; 32], record)
            })
            .collect();
        {
            let s = RedbStore::open(&path).unwrap();
            let rows: Vec<_> = records
                .iter()
                .map(|(k, r)| {
                    let mut key = junction_hub_app::relay::RECORD_PREFIX.to_vec();
                    key.extend_from_slice(k);
                    (key, Some(r.to_bytes()))
                })
                .collect();
            s.write_genesis_state(&rows).unwrap();
            let tx = s.db.begin_write().unwrap();
            {
                let mut legacy = tx.open_table(LEGACY_PACKET_STATUS).unwrap();
                let mut counts = tx.open_table(PACKET_COUNTS).unwrap();
                for (k, r) in &records {
                    let mut row = status_prefix(crate::snapshot::status_tag(r), Some(&route));
                    let n = counts.get(row.as_slice()).unwrap().map_or(0, |v| v.value());
                    counts.insert(row.as_slice(), n + 1).unwrap();
                    row.extend_from_slice(k);
                    legacy.insert(row.as_slice(), ()).unwrap();
                }
            }
            tx.commit().unwrap();
        }
        let s = RedbStore::open(&path).unwrap();
        let tx = s.db.begin_read().unwrap();
        assert!(matches!(
            tx.open_table(LEGACY_PACKET_STATUS),
            Err(redb::TableError::TableDoesNotExist(_))
        ));
        let snap = s.snapshot().unwrap();
        let pending = snap
            .packet_page(&[status_prefix(0, Some(&route))], None, MAX_PAGE)
            .unwrap();
        assert_eq!(pending.total, 2);
        let keys: Vec<Hash32> = pending.keys.iter().map(|(_, k)| *k).collect();
        assert_eq!(keys, vec![[9; 32], [7; 32]], "pending packets in log order");
        let acked = snap
            .packet_page(
                &[status_prefix(EntryKind::Ack.tag(), Some(&route))],
                None,
                9,
            )
            .unwrap();
        assert_eq!(acked.total, 1);
        assert_eq!(acked.keys[0].0, status_row(&records[1].1, &[8; 32]));
        // The moved rows are the ones commits move on.
        let mut c = commit(1, vec![]);
        let mut done = records[0].1.clone();
        done.outcome = Some(Outcome {
            kind: EntryKind::Ack,
            log_index: 8,
        });
        c.packet_status = vec![(
            Some(status_row(&records[0].1, &[9; 32])),
            status_row(&done, &[9; 32]),
        )];
        s.commit_block(&c).unwrap();
    }

    /// With packet retention on, a settled packet's entries and lifecycle go once the
    /// retention has passed; its record, the log's subtree roots and every other entry
    /// stay, so the log still proves what it keeps against the same roots.
    #[test]
    fn packet_pruning_drops_only_settled_payloads_and_keeps_every_proof() {
        use junction_spec::merkle::{leaf_hash, verify_inclusion, MerkleFrontier};
        use junction_spec::merkle_store::{appended_subtrees, stored_inclusion_proof, stored_root};
        let dir = tempfile::tempdir().unwrap();
        let s = RedbStore::open(&dir.path().join("store.redb"))
            .unwrap()
            .with_packet_retention(2);
        let mut frontier = MerkleFrontier::new();
        let mut c = commit(1, vec![step(0, "packet_logged"), step(1, "ack_logged")]);
        put_legacy_steps(&s, [1; 32], &b"[]"[..]);
        for i in 0..4u64 {
            let leaf = leaf_hash(&[i as u8]);
            c.log_tree.extend(appended_subtrees(&frontier, leaf));
            frontier.append(leaf);
            c.log_entries.push((i, vec![i as u8]));
        }
        // Packet [1; 32] settled in block 1 (entries 0 and 1); entries 2 and 3 are pending.
        c.settled = vec![([1; 32], vec![0, 1])];
        s.commit_block(&c).unwrap();
        s.commit_block(&commit(2, vec![])).unwrap();
        let snap = s.snapshot().unwrap();
        assert_eq!(
            snap.log_entry(0).unwrap(),
            Some(vec![0]),
            "kept within retention"
        );
        assert_eq!(s.packet_steps(&[1; 32], &[0, 1]).unwrap().len(), 2);
        s.commit_block(&commit(3, vec![])).unwrap();
        let snap = s.snapshot().unwrap();
        assert_eq!(snap.log_entry(0).unwrap(), None);
        assert_eq!(snap.log_entry(1).unwrap(), None);
        assert_eq!(snap.log_entry(2).unwrap(), Some(vec![2]));
        assert!(s.packet_steps(&[1; 32], &[0, 1]).unwrap().is_empty());
        let legacy = s.db.begin_read().unwrap().open_table(PACKETS).unwrap();
        assert!(legacy.get(&[1u8; 32]).unwrap().is_none());
        assert_eq!(stored_root(snap.as_ref(), 4).unwrap(), frontier.root());
        let proof = stored_inclusion_proof(snap.as_ref(), 3, 4).unwrap();
        verify_inclusion(&leaf_hash(&[3]), 3, 4, &proof, &frontier.root()).unwrap();
    }

    fn tree_commit(s: &RedbStore, height: u64, writes: &[(Vec<u8>, Option<Vec<u8>>)]) -> Hash32 {
        let mut c = commit(height, vec![]);
        c.state_tree = s.state_tree_update(height, writes).unwrap();
        let root = c.state_tree.root;
        s.commit_block(&c).unwrap();
        root
    }

    fn kv(k: &str, v: Option<&str>) -> (Vec<u8>, Option<Vec<u8>>) {
        (k.as_bytes().to_vec(), v.map(|v| v.as_bytes().to_vec()))
    }

    /// The stored tree proves each committed height's values and absences against that
    /// height's root, after a reopen too, and its roots are the roots of the entries.
    #[test]
    fn the_stored_tree_proves_every_committed_height() {
        use junction_state_tree::verify_state_proof;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.redb");
        let roots = {
            let s = RedbStore::open(&path).unwrap();
            let g = s
                .write_genesis_state(&[kv("gov/council", Some("c0"))])
                .unwrap();
            let r1 = tree_commit(&s, 1, &[kv("acct/a", Some("1")), kv("acct/b", Some("2"))]);
            let r2 = tree_commit(&s, 2, &[kv("acct/a", Some("3")), kv("acct/b", None)]);
            let r3 = tree_commit(&s, 3, &[]);
            vec![g, r1, r2, r3]
        };
        let s = RedbStore::open(&path).unwrap();
        assert_eq!(roots[2], roots[3], "an empty block keeps the root");
        let mut state = junction_hub_app::AppState::default();
        state.apply(&[kv("gov/council", Some("c0")), kv("acct/a", Some("3"))]);
        assert_eq!(
            roots[3],
            state.root(),
            "incremental root = root of the entries"
        );
        for (h, root) in roots.iter().enumerate() {
            assert_eq!(s.state_root(h as u64).unwrap(), Some(*root));
        }
        let p = s.state_proof(1, b"acct/b").unwrap();
        assert_eq!(p.root, roots[1]);
        assert_eq!(p.value.as_deref(), Some(&b"2"[..]));
        verify_state_proof(&roots[1], b"acct/b", Some(b"2"), &p.proof).unwrap();
        let p = s.state_proof(3, b"acct/b").unwrap();
        assert_eq!(p.value, None);
        verify_state_proof(&roots[3], b"acct/b", None, &p.proof).unwrap();
        assert!(verify_state_proof(&roots[1], b"acct/b", None, &p.proof).is_err());
        assert_eq!(s.state_root(9).unwrap(), None);
        assert_eq!(s.oldest_provable_height().unwrap(), 0);
        // Nodes went stale at height 2, but a store that keeps every height never prunes:
        // it keeps no index of them.
        let tx = s.db.begin_read().unwrap();
        let stale = tx.open_table(crate::store_tree::TREE_STALE).unwrap();
        assert_eq!(stale.len().unwrap(), 0);
    }

    /// Keys and values sit in their leaves' rows. A store written when values had rows of
    /// their own by key hash (and, older still, keys a table of their own) still reads,
    /// proves values and absences (which name neighbouring keys), and a later block that
    /// moves one of its leaves carries the value over.
    #[test]
    fn values_are_found_in_their_leaves_and_in_each_older_layout() {
        use crate::store_tree::{
            TREE_KEYS, TREE_NODES, TREE_PREIMAGES, TREE_VALUES, TREE_VERSION_KEYS,
        };
        use junction_state_tree::{decode_node_row, key_hash, verify_state_proof, TreeNode};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.redb");
        let s = RedbStore::open(&path).unwrap();
        s.write_genesis_state(&[kv("gov/council", Some("c0"))])
            .unwrap();
        let root = tree_commit(&s, 1, &[kv("acct/a", Some("1")), kv("acct/c", Some("2"))]);
        {
            let tx = s.db.begin_read().unwrap();
            assert_eq!(tx.open_table(TREE_VALUES).unwrap().len().unwrap(), 0);
            assert_eq!(tx.open_table(TREE_PREIMAGES).unwrap().len().unwrap(), 0);
            // One row per version: genesis wrote one key, block 1 two.
            let keys = tx.open_table(TREE_VERSION_KEYS).unwrap();
            assert_eq!(keys.get(0).unwrap().unwrap().value().len(), 32);
            assert_eq!(keys.get(1).unwrap().unwrap().value().len(), 64);
            assert_eq!(tx.open_table(TREE_KEYS).unwrap().len().unwrap(), 0);
        }
        let reads = |s: &RedbStore| {
            let p = s.state_proof(1, b"acct/b").unwrap();
            assert_eq!(p.value, None);
            verify_state_proof(&root, b"acct/b", None, &p.proof).unwrap();
            let p = s.state_proof(1, b"acct/a").unwrap();
            assert_eq!(p.value.as_deref(), Some(&b"1"[..]));
            verify_state_proof(&root, b"acct/a", Some(b"1"), &p.proof).unwrap();
            use junction_hub_app::StateReader as _;
            let snap = s.snapshot().unwrap();
            assert_eq!(snap.get(b"acct/a"), Some(b"1".to_vec()));
            assert_eq!(snap.get(b"gov/council"), Some(b"c0".to_vec()));
            assert_eq!(snap.get(b"acct/b"), None);
        };
        reads(&s);
        // As a node that wrote a row per key left it: the filter a reopened store builds
        // from those rows still finds every key.
        {
            let tx = s.db.begin_write().unwrap();
            {
                let mut per_version = tx.open_table(TREE_VERSION_KEYS).unwrap();
                let mut per_key = tx.open_table(TREE_KEYS).unwrap();
                for version in [0u64, 1] {
                    let row = per_version
                        .remove(version)
                        .unwrap()
                        .unwrap()
                        .value()
                        .to_vec();
                    for kh in row.chunks_exact(32) {
                        per_key
                            .insert((version, &<[u8; 32]>::try_from(kh).unwrap()), ())
                            .unwrap();
                    }
                }
            }
            tx.commit().unwrap();
        }
        drop(s);
        let s = RedbStore::open(&path).unwrap();
        reads(&s);
        // As an older node left it: leaves without their values, each value and each key
        // in rows of their own, by key hash.
        {
            let tx = s.db.begin_write().unwrap();
            {
                let mut nodes = tx.open_table(TREE_NODES).unwrap();
                let mut values = tx.open_table(TREE_VALUES).unwrap();
                let rows: Vec<(Vec<u8>, Vec<u8>)> = nodes
                    .iter()
                    .unwrap()
                    .map(|r| {
                        let (k, v) = r.unwrap();
                        (k.value().to_vec(), v.value().to_vec())
                    })
                    .collect();
                for (k, row) in rows {
                    let (node, rest) = decode_node_row(&row).unwrap();
                    let TreeNode::Leaf(leaf) = node else { continue };
                    let kh = leaf.key_hash().0;
                    let len = u32::from_be_bytes(rest[..4].try_into().unwrap()) as usize;
                    let (key, value) = rest[4..].split_at(len);
                    let version = u64::from_be_bytes(k[..8].try_into().unwrap());
                    let mut tagged = vec![1u8];
                    tagged.extend_from_slice(value);
                    values
                        .insert(
                            store_tree::value_key(&kh, version).as_slice(),
                            tagged.as_slice(),
                        )
                        .unwrap();
                    values.insert(kh.as_slice(), key).unwrap();
                    let node_len = row.len() - rest.len();
                    nodes.insert(k.as_slice(), &row[..node_len]).unwrap();
                }
                tx.open_table(TREE_KEYS)
                    .unwrap()
                    .retain(|_, _| false)
                    .unwrap();
            }
            tx.commit().unwrap();
        }
        reads(&s);
        drop(s);
        let s = RedbStore::open(&path).unwrap();
        assert!(!matches!(*s.keys, KeyFilter::Disabled));
        reads(&s);
        // A later block moves an older leaf: its value comes along from the older rows.
        let hashes: Vec<[u8; 32]> = ["gov/council", "acct/a", "acct/c"]
            .iter()
            .map(|k| key_hash(k.as_bytes()).0)
            .collect();
        let more: Vec<(Vec<u8>, Option<Vec<u8>>)> = (0..64)
            .map(|i| kv(&format!("acct/n{i}"), Some("n")))
            .collect();
        tree_commit(&s, 2, &more);
        {
            use junction_hub_app::StateReader as _;
            let snap = s.snapshot().unwrap();
            assert_eq!(snap.get(b"acct/a"), Some(b"1".to_vec()));
            assert_eq!(snap.get(b"acct/c"), Some(b"2".to_vec()));
            assert_eq!(snap.get(b"acct/n7"), Some(b"n".to_vec()));
        }
        // Older still: keys only in their own table.
        {
            let tx = s.db.begin_write().unwrap();
            {
                let mut values = tx.open_table(TREE_VALUES).unwrap();
                let mut old = tx.open_table(TREE_PREIMAGES).unwrap();
                for h in &hashes {
                    let key = values
                        .remove(h.as_slice())
                        .unwrap()
                        .unwrap()
                        .value()
                        .to_vec();
                    old.insert(h, key.as_slice()).unwrap();
                }
            }
            tx.commit().unwrap();
        }
        reads(&s);
        // Reopened, such a store cannot list its keys from the value rows: every read goes
        // to the tree.
        drop(s);
        let s = RedbStore::open(&path).unwrap();
        assert!(matches!(*s.keys, KeyFilter::Disabled));
        reads(&s);
    }

    /// Against a model, over versions of random inserts, updates and deletions (which split
    /// leaves and lift them, so leaves move with their values): every key reads as the
    /// model has it at the tip, before and after a reopen, and every height proves each
    /// key's value then. Before each commit, an update for a rival proposal of the same
    /// height is computed and never committed; every committed root is the root an
    /// in-memory tree makes of the same writes, so neither the store's kept top levels of
    /// the tree nor a rival's nodes (made under the same node keys) change a root.
    #[test]
    fn leaves_keep_their_values_as_the_tree_moves_them() {
        use junction_hub_app::StateReader as _;
        use junction_state_tree::verify_state_proof;
        use std::collections::BTreeMap;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.redb");
        let s = RedbStore::open(&path).unwrap();
        s.write_genesis_state(&[kv("gov/council", Some("c0"))])
            .unwrap();
        let mut model: BTreeMap<String, String> = BTreeMap::new();
        model.insert("gov/council".into(), "c0".into());
        let mut history = vec![(s.state_root(0).unwrap().unwrap(), model.clone())];
        let mut reference = junction_state_tree::MemoryTree::default();
        let genesis = reference
            .apply(0, &[kv("gov/council", Some("c0"))])
            .unwrap();
        assert_eq!(genesis, history[0].0);
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = |m: u64| {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (seed >> 33) % m
        };
        for height in 1..=30u64 {
            let mut writes = BTreeMap::new();
            for _ in 0..next(40) + 1 {
                let key = format!("k/{}", next(300));
                let value = if next(4) == 0 {
                    None
                } else {
                    Some(format!("v{height}.{}", next(1000)))
                };
                writes.insert(key, value);
            }
            let writes: Vec<(Vec<u8>, Option<Vec<u8>>)> = writes
                .into_iter()
                .map(|(k, v)| {
                    match &v {
                        Some(v) => model.insert(k.clone(), v.clone()),
                        None => model.remove(&k),
                    };
                    (k.into_bytes(), v.map(String::into_bytes))
                })
                .collect();
            let rival: Vec<(Vec<u8>, Option<Vec<u8>>)> = (0..next(40) + 1)
                .map(|i| {
                    let key = format!("k/{}", next(300)).into_bytes();
                    (key, Some(format!("rival{height}.{i}").into_bytes()))
                })
                .collect();
            s.state_tree_update(height, &rival).unwrap();
            let root = tree_commit(&s, height, &writes);
            assert_eq!(
                root,
                reference.apply(height, &writes).unwrap(),
                "root at {height}"
            );
            history.push((root, model.clone()));
        }
        let check = |s: &RedbStore| {
            let snap = s.snapshot().unwrap();
            let tip = &history.last().unwrap().1;
            for i in 0..300 {
                let key = format!("k/{i}");
                assert_eq!(
                    snap.get(key.as_bytes()),
                    tip.get(&key).map(|v| v.clone().into_bytes()),
                    "{key} at the tip"
                );
            }
            assert_eq!(snap.damage(), None);
            for (height, (root, state)) in history.iter().enumerate() {
                for i in (0..300).step_by(7) {
                    let key = format!("k/{i}");
                    let p = s.state_proof(height as u64, key.as_bytes()).unwrap();
                    let want = state.get(&key).map(String::as_bytes);
                    assert_eq!(p.value.as_deref(), want, "{key} at {height}");
                    verify_state_proof(root, key.as_bytes(), want, &p.proof).unwrap();
                }
            }
        };
        check(&s);
        drop(s);
        check(&RedbStore::open(&path).unwrap());
    }

    /// Reads of keys never written are answered by the store's key filter. A key a commit
    /// writes is found by every snapshot opened after that commit (the filter learns it
    /// before the commit), and a reopened store rebuilds the filter from its key rows: no
    /// key ever written reads as absent, or a packet could be received twice.
    #[test]
    fn no_key_ever_written_reads_as_absent() {
        use junction_hub_app::StateReader as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.redb");
        let record = |i: u32| format!("packets/record/{i}");
        {
            let s = RedbStore::open(&path).unwrap();
            s.write_genesis_state(&[kv("gov/council", Some("c0"))])
                .unwrap();
            let before = s.snapshot().unwrap();
            tree_commit(&s, 1, &[kv(&record(0), Some("r0"))]);
            assert_eq!(
                before.get(record(0).as_bytes()),
                None,
                "not yet at height 0"
            );
            let writes: Vec<_> = (1..3000).map(|i| kv(&record(i), Some("r"))).collect();
            tree_commit(&s, 2, &writes);
            tree_commit(&s, 3, &[kv(&record(7), None)]);
            let after = s.snapshot().unwrap();
            assert_eq!(after.get(record(0).as_bytes()), Some(b"r0".to_vec()));
            assert!((1..3000)
                .filter(|i| *i != 7)
                .all(|i| after.get(record(i).as_bytes()) == Some(b"r".to_vec())));
            assert_eq!(after.get(record(7).as_bytes()), None, "deleted");
            assert_eq!(after.get(record(3000).as_bytes()), None);
        }
        let s = RedbStore::open(&path).unwrap();
        assert!(matches!(*s.keys, KeyFilter::Enabled(_)));
        let snap = s.snapshot().unwrap();
        assert_eq!(snap.get(b"gov/council"), Some(b"c0".to_vec()));
        assert!((0..3000)
            .filter(|i| *i != 7)
            .all(|i| snap.get(record(i).as_bytes()).is_some()));
        assert_eq!(snap.get(record(7).as_bytes()), None);
        let unseen = (3000..13000)
            .filter(|i| {
                s.keys
                    .may_contain(&junction_state_tree::key_hash(record(*i).as_bytes()).0)
            })
            .count();
        assert!(
            unseen < 100,
            "{unseen} of 10,000 unwritten keys pass the filter"
        );
    }

    /// With retention on, heights older than the window are refused by name; the ones in
    /// it still prove, and so does the current state.
    #[test]
    fn pruned_heights_are_refused_by_name_and_the_window_still_proves() {
        use junction_state_tree::verify_state_proof;
        let dir = tempfile::tempdir().unwrap();
        let s = RedbStore::open_with_retention(&dir.path().join("store.redb"), 2).unwrap();
        s.write_genesis_state(&[kv("gov/council", Some("c0"))])
            .unwrap();
        let mut roots = vec![];
        for h in 1..=6u64 {
            let v = h.to_string();
            roots.push(tree_commit(
                &s,
                h,
                &[kv("acct/a", Some(&v)), kv(&format!("k{h}"), Some("x"))],
            ));
        }
        assert_eq!(s.oldest_provable_height().unwrap(), 4);
        let e = s.state_proof(3, b"acct/a").unwrap_err();
        assert_eq!(e.name(), "state_pruned", "{e}");
        assert!(matches!(
            e,
            StoreError::StatePruned {
                height: 3,
                oldest: 4
            }
        ));
        for h in 4..=6u64 {
            let p = s.state_proof(h, b"acct/a").unwrap();
            assert_eq!(p.value, Some(h.to_string().into_bytes()));
            verify_state_proof(
                &roots[h as usize - 1],
                b"acct/a",
                p.value.as_deref(),
                &p.proof,
            )
            .unwrap();
            let p = s.state_proof(h, b"k1").unwrap();
            verify_state_proof(&roots[h as usize - 1], b"k1", Some(b"x"), &p.proof).unwrap();
        }
        // Pruning removed nodes: the tree holds fewer rows than without it.
        let tx = s.db.begin_read().unwrap();
        let pruned_nodes = tx
            .open_table(store_tree::TREE_NODES)
            .unwrap()
            .len()
            .unwrap();
        let dir2 = tempfile::tempdir().unwrap();
        let full = RedbStore::open(&dir2.path().join("store.redb")).unwrap();
        full.write_genesis_state(&[kv("gov/council", Some("c0"))])
            .unwrap();
        for h in 1..=6u64 {
            let v = h.to_string();
            tree_commit(
                &full,
                h,
                &[kv("acct/a", Some(&v)), kv(&format!("k{h}"), Some("x"))],
            );
        }
        let tx = full.db.begin_read().unwrap();
        let all_nodes = tx
            .open_table(store_tree::TREE_NODES)
            .unwrap()
            .len()
            .unwrap();
        assert!(pruned_nodes < all_nodes, "{pruned_nodes} vs {all_nodes}");
        assert_eq!(
            full.state_proof(1, b"acct/a").unwrap().value,
            Some(b"1".to_vec())
        );
    }
}
