//! A committed height as execution and RPC read it: one redb read transaction over the
//! state rows, the message log, its stored subtree roots and the packet index. Every read
//! is one key (or one bounded range), so nothing the node keeps in memory grows with
//! history but the store's filter of its keys (`crate::key_filter`, about 1.5 bytes per
//! key); the node opens a new snapshot after each commit and drops the old one.

use std::collections::HashMap;
use std::sync::Mutex;

use redb::{ReadOnlyTable, ReadTransaction};

use junction_hub_app::StateReader;
use junction_packets::{PacketRecord, PacketStatus};
use junction_spec::merkle_store::{StoredTreeError, SubtreeRoots};
use junction_spec::{EntryKind, Hash32, RouteId};

use crate::key_filter::KeyFilter;
use crate::store_tables::{StoreError, LOG, LOG_TREE, PACKET_COUNTS, PACKET_STATUS};
use crate::store_tree::{latest_version, value_at, CommittedUpper, TREE_NODES, TREE_VALUES};

/// Most rows one packet-list page scans (a page holds at most this many packets).
pub const MAX_PAGE: usize = 1000;

/// Most state values one snapshot keeps once read.
const READ_CACHE_ENTRIES: usize = 1 << 16;
/// Most bytes of keys and values one snapshot keeps once read.
const READ_CACHE_BYTES: usize = 32 << 20;

/// State values read from one snapshot (absent ones too), bounded by
/// [`READ_CACHE_ENTRIES`] and [`READ_CACHE_BYTES`].
#[derive(Default)]
struct ReadCache {
    values: HashMap<Vec<u8>, Option<Vec<u8>>>,
    bytes: usize,
}

/// One committed height's rows.
pub struct Snapshot {
    /// The state tree's nodes: the state is read from its leaves.
    nodes: ReadOnlyTable<&'static [u8], &'static [u8]>,
    /// An older store's value rows, for leaves that do not hold their value.
    values: ReadOnlyTable<&'static [u8], &'static [u8]>,
    /// The tree's version this snapshot reads (`None` before genesis).
    version: Option<u64>,
    /// The store's kept top levels of the committed tree, when reads go through them.
    upper: Option<std::sync::Arc<CommittedUpper>>,
    log: ReadOnlyTable<u64, &'static [u8]>,
    log_tree: ReadOnlyTable<(u8, u64), &'static [u8; 32]>,
    status: ReadOnlyTable<&'static [u8], ()>,
    counts: ReadOnlyTable<&'static [u8], u64>,
    damage: Mutex<Option<String>>,
    /// A packet's admission, its block's validation and that block's commit each read its
    /// record more than once, and a snapshot never changes: the first read of a key is the
    /// only one that goes to the store.
    reads: Mutex<ReadCache>,
    /// The store's filter of the keys it may hold (keys a later commit adds only make it
    /// say "maybe" more often).
    keys: Option<std::sync::Arc<KeyFilter>>,
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Snapshot")
    }
}

impl Snapshot {
    pub(crate) fn open(tx: &ReadTransaction) -> Result<Self, StoreError> {
        let nodes = tx.open_table(TREE_NODES)?;
        Ok(Self {
            version: latest_version(&nodes)?,
            upper: None,
            nodes,
            values: tx.open_table(TREE_VALUES)?,
            log: tx.open_table(LOG)?,
            log_tree: tx.open_table(LOG_TREE)?,
            status: tx.open_table(PACKET_STATUS)?,
            counts: tx.open_table(PACKET_COUNTS)?,
            damage: Mutex::new(None),
            reads: Mutex::new(ReadCache::default()),
            keys: None,
        })
    }

    /// The same, answering keys `keys` says the store never held without reading them.
    pub(crate) fn with_key_filter(mut self, keys: std::sync::Arc<KeyFilter>) -> Self {
        self.keys = Some(keys);
        self
    }

    /// The same, walking the tree through the store's kept top levels.
    pub(crate) fn through(mut self, upper: std::sync::Arc<CommittedUpper>) -> Self {
        self.upper = Some(upper);
        self
    }

    /// The first damage a read met, if any: nothing executed over this snapshot may be
    /// committed.
    pub fn damage(&self) -> Option<String> {
        self.damage.lock().ok().and_then(|d| d.clone())
    }

    /// Canonical bytes of log entry `index`.
    pub fn log_entry(&self, index: u64) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.log.get(index)?.map(|v| v.value().to_vec()))
    }

    /// One page of the packet index: keys whose status row starts with one of
    /// `prefixes` (ascending, disjoint), after `cursor`, at most `limit`; and how many rows
    /// the prefixes hold in all (from the per-status counts, not a scan).
    pub fn packet_page(
        &self,
        prefixes: &[Vec<u8>],
        cursor: Option<&[u8]>,
        limit: usize,
    ) -> Result<PacketPage, StoreError> {
        let mut total = 0u64;
        for p in prefixes {
            for row in self.counts.range(p.as_slice()..)? {
                let (k, v) = row?;
                if !k.value().starts_with(p) {
                    break;
                }
                total = total.saturating_add(v.value());
            }
        }
        let limit = limit.min(MAX_PAGE);
        let mut keys = Vec::new();
        let mut next = None;
        'prefixes: for p in prefixes {
            let end = prefix_end(p);
            let lo: &[u8] = match cursor {
                Some(c) if c >= p.as_slice() => c,
                _ => p.as_slice(),
            };
            if end.as_deref().is_some_and(|e| lo >= e) {
                continue;
            }
            let rows = match &end {
                Some(e) => self.status.range(lo..e.as_slice()),
                None => self.status.range(lo..),
            }?;
            for row in rows {
                let (k, _) = row?;
                let k = k.value();
                if Some(k) == cursor {
                    continue;
                }
                if keys.len() == limit {
                    next = keys.last().map(|(c, _): &(Vec<u8>, Hash32)| c.clone());
                    break 'prefixes;
                }
                let hash = status_row_key(k)?;
                keys.push((k.to_vec(), hash));
            }
        }
        Ok(PacketPage { total, keys, next })
    }
}

/// The smallest byte string above every string that starts with `p` (`None`: no bound).
fn prefix_end(p: &[u8]) -> Option<Vec<u8>> {
    let mut end = p.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

/// One page of packet keys.
#[derive(Debug)]
pub struct PacketPage {
    /// Rows under the prefixes in all.
    pub total: u64,
    /// (index row, packet key hash), in index order.
    pub keys: Vec<(Vec<u8>, Hash32)>,
    /// The cursor of the next page, when there is one.
    pub next: Option<Vec<u8>>,
}

impl StateReader for Snapshot {
    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        // The keys read most often (a route's counters, a channel, a client) are present
        // and cached: they are answered before the key is hashed.
        if let Ok(reads) = self.reads.lock() {
            if let Some(v) = reads.values.get(key) {
                return v.clone();
            }
        }
        let key_hash = junction_state_tree::key_hash(key).0;
        if self
            .keys
            .as_ref()
            .is_some_and(|f| !f.may_contain(&key_hash))
        {
            return None;
        }
        let read = match self.version {
            Some(version) => value_at(
                &self.nodes,
                &self.values,
                version,
                &key_hash,
                self.upper.as_deref(),
            ),
            None => Ok(None),
        };
        match read {
            Ok(v) => {
                if let Ok(mut reads) = self.reads.lock() {
                    let size = key.len() + v.as_ref().map_or(0, Vec::len);
                    if reads.values.len() < READ_CACHE_ENTRIES
                        && reads.bytes + size <= READ_CACHE_BYTES
                    {
                        reads.bytes += size;
                        reads.values.insert(key.to_vec(), v.clone());
                    }
                }
                v
            }
            // Damage is not remembered: every read of a damaged row notes it again.
            Err(e) => {
                self.note_damage(format!("state read: {e}"));
                None
            }
        }
    }

    fn note_damage(&self, what: String) {
        if let Ok(mut d) = self.damage.lock() {
            d.get_or_insert(what);
        }
    }
}

impl SubtreeRoots for Snapshot {
    fn subtree_root(&self, level: u8, index: u64) -> Result<Option<Hash32>, StoredTreeError> {
        self.log_tree
            .get((level, index))
            .map(|v| v.map(|v| *v.value()))
            .map_err(|e| StoredTreeError::Read(e.to_string()))
    }
}

/// Status byte of a record in the packet index: 0 pending, else its outcome kind's tag.
pub fn status_tag(r: &PacketRecord) -> u8 {
    match r.status() {
        PacketStatus::Received { .. } => 0,
        PacketStatus::Outcome { kind, .. } => kind.tag(),
    }
}

/// The status byte of a `packet_list` state name (`pending`, `ack`, `error_ack`,
/// `timeout`).
pub fn status_of_name(name: &str) -> Option<u8> {
    if name == "pending" {
        return Some(0);
    }
    [EntryKind::Ack, EntryKind::ErrorAck, EntryKind::Timeout]
        .into_iter()
        .find(|k| junction_hub_app::relay::entry_kind_name(*k) == name)
        .map(EntryKind::tag)
}

/// Every status byte, ascending.
pub fn all_statuses() -> Vec<u8> {
    let mut v = vec![0];
    v.extend([EntryKind::Ack, EntryKind::ErrorAck, EntryKind::Timeout].map(EntryKind::tag));
    v.sort_unstable();
    v
}

/// The packet state over a committed snapshot.
pub fn packets_over(
    state: &std::sync::Arc<Snapshot>,
) -> Result<junction_packets::PacketState, String> {
    let reader: std::sync::Arc<dyn junction_hub_app::StateReader> = state.clone();
    junction_hub_app::relay::packet_state_over(reader)
}

/// `status ‖ route length ‖ route` (route empty when none covered the packet): the
/// prefix of the index rows, and the key of their count.
pub fn status_prefix(status: u8, route: Option<&RouteId>) -> Vec<u8> {
    let route = route.map_or(&[][..], |r| r.as_str().as_bytes());
    let mut k = Vec::with_capacity(2 + route.len() + crate::store_tables::STATUS_ROW_SUFFIX);
    k.push(status);
    k.push(u8::try_from(route.len()).unwrap_or(u8::MAX));
    k.extend_from_slice(route);
    k
}

/// A record's index row: its status prefix, the first log index it names (big-endian),
/// then the packet key hash. Later entries of a packet have larger indices, so the first
/// is the one its record was made with.
pub fn status_row(r: &PacketRecord, key_hash: &Hash32) -> Vec<u8> {
    let first = r.log_indices().min().unwrap_or(0);
    status_row_at(
        status_prefix(status_tag(r), r.route.as_ref()),
        first,
        key_hash,
    )
}

/// The packet key hash a status row ends with (in either row layout).
pub fn status_row_key(row: &[u8]) -> Result<Hash32, StoreError> {
    row.len()
        .checked_sub(32)
        .and_then(|at| <Hash32>::try_from(&row[at..]).ok())
        .ok_or_else(|| StoreError::Corrupt("packet status row".into()))
}

/// The index row under `prefix` of the packet `key_hash` whose first entry is at
/// `first_index`.
pub fn status_row_at(mut prefix: Vec<u8>, first_index: u64, key_hash: &Hash32) -> Vec<u8> {
    prefix.extend_from_slice(&first_index.to_be_bytes());
    prefix.extend_from_slice(key_hash);
    prefix
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use crate::store::{RedbStore, Store as _};

    /// A stored record that does not decode used to be impossible (records lived in
    /// memory); read per key from disk it could read as "no record" and let a packet be
    /// received twice. The snapshot remembers it, so the node refuses to commit.
    #[test]
    fn a_damaged_record_row_is_remembered_not_read_as_absent() {
        let dir = tempfile::tempdir().unwrap();
        let store = RedbStore::open(&dir.path().join("store.redb")).unwrap();
        let mut key = junction_hub_app::relay::RECORD_PREFIX.to_vec();
        key.extend_from_slice(&[7; 32]);
        store
            .write_genesis_state(&[(key, Some(vec![1, 2, 3]))])
            .unwrap();
        let snap = store.snapshot().unwrap();
        assert!(snap.damage().is_none());
        let packets = crate::node::packets_over(&snap).unwrap();
        assert_eq!(packets.record(&[7; 32]), None);
        let damage = snap.damage().unwrap();
        assert!(damage.contains("does not decode"), "{damage}");
    }
}
