//! The store's redb tables and its error: what the store writes and the snapshot reads.

use redb::TableDefinition;

use junction_state_tree::StateTreeError;

/// Encoded blocks by height, as stores before bodies were kept by hash wrote them: read,
/// never written.
pub(crate) const BLOCKS: TableDefinition<u64, &[u8]> = TableDefinition::new("blocks");
/// Block hash by height for blocks committed since bodies are kept by hash.
pub(crate) const BLOCK_HASHES: TableDefinition<u64, &[u8; 32]> =
    TableDefinition::new("block_hash_by_height");
/// Encoded blocks by block hash, as stores before [`BLOCK_BODY_CHUNKS`] wrote them: read
/// and removed, never written.
pub(crate) const BLOCK_BODIES: TableDefinition<&[u8; 32], &[u8]> =
    TableDefinition::new("block_bodies");
/// Encoded blocks by (block hash, chunk index), in chunks of [`BODY_CHUNK_BYTES`]: every
/// proposal a node keeps while undecided, and the committed ones. A block is written once,
/// when its proposal arrives, and its commit only names it by hash: a block is megabytes,
/// and copying it into a table of committed blocks was the largest write of every commit.
///
/// Chunks, not one value: redb gives a value its own pages, rounded up to a power of two,
/// and inserting a key beside a leaf rebuilds that leaf. One value per block made every
/// proposal read and rewrite a neighbouring block of megabytes (its random hash lands
/// between two others) and write up to twice its own size; with chunks the neighbour is
/// one chunk.
pub(crate) const BLOCK_BODY_CHUNKS: TableDefinition<(&[u8; 32], u32), &[u8]> =
    TableDefinition::new("block_body_chunks");
/// A body chunk's size: with its key and the leaf's header it fills a 64 KiB page.
pub(crate) const BODY_CHUNK_BYTES: usize = 64 * 1024 - 256;
pub(crate) const CERTS: TableDefinition<u64, &[u8]> = TableDefinition::new("certificates");
pub(crate) const EVENTS: TableDefinition<u64, &[u8]> = TableDefinition::new("events");
pub(crate) const TXS: TableDefinition<&[u8; 32], (u64, u32)> = TableDefinition::new("tx_index");
pub(crate) const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
/// Undecided proposals by block hash: the node's record of each (its block in
/// [`BLOCK_BODY_CHUNKS`]; records of older stores hold the block themselves).
pub(crate) const UNDECIDED: TableDefinition<&[u8; 32], &[u8]> = TableDefinition::new("undecided");
/// The undecided records by (height, block hash), so a commit drops those it outdates with
/// one range instead of reading every record (each a whole proposed block).
pub(crate) const UNDECIDED_HEIGHTS: TableDefinition<(u64, &[u8; 32]), ()> =
    TableDefinition::new("undecided_by_height");
/// Message-log entries by index (committed through the header's log root).
pub(crate) const LOG: TableDefinition<u64, &[u8]> = TableDefinition::new("message_log");
/// The log's perfect subtree roots by (level, index): RFC 6962 proofs at any size in
/// O(log² n) reads (`junction_spec::merkle_store`).
pub(crate) const LOG_TREE: TableDefinition<(u8, u64), &[u8; 32]> =
    TableDefinition::new("message_log_tree");
/// Packet keys by status: `status ‖ route length ‖ route ‖ first log index ‖ key hash`
/// → nothing (`crate::snapshot::status_row`), what `packet_list` pages over. The first
/// log index puts a new packet's row at the end of its status and route, so a block's
/// rows append instead of landing on a random page each.
pub(crate) const PACKET_STATUS: TableDefinition<&[u8], ()> =
    TableDefinition::new("packet_status_by_log_index");
/// The status rows of stores written before [`PACKET_STATUS`]: `status ‖ route length ‖
/// route ‖ key hash`. Opening such a store moves them over (`crate::store`), a chunk per
/// write transaction, and then drops the table.
pub(crate) const LEGACY_PACKET_STATUS: TableDefinition<&[u8], ()> =
    TableDefinition::new("packet_status_index");
/// Rows of [`PACKET_STATUS`] per `status ‖ route length ‖ route` (the row without its
/// last [`STATUS_ROW_SUFFIX`] bytes).
pub(crate) const PACKET_COUNTS: TableDefinition<&[u8], u64> =
    TableDefinition::new("packet_status_counts");
/// Bytes after a status row's prefix: first log index (u64 big-endian) and key hash.
pub(crate) const STATUS_ROW_SUFFIX: usize = 8 + 32;
/// Packets whose outcome a block logged: (height, packet key hash) → the log indices of
/// their entries (u64 big-endian each), what payload pruning drops once the height is
/// older than `packet_retention_blocks`.
pub(crate) const SETTLED: TableDefinition<(u64, &[u8; 32]), &[u8]> =
    TableDefinition::new("packet_settled");
/// Packet lifecycle steps on the hub by the log index of the entry each step wrote
/// (JSON `PacketStep`). Every step logs exactly one entry, and a packet's record names
/// its entries, so a packet's steps are a few point reads; a block's steps are one
/// sequential append instead of a read-modify-write of a random row per packet.
pub(crate) const PACKET_STEPS: TableDefinition<u64, &[u8]> =
    TableDefinition::new("packet_steps_by_log_index");
/// Packet lifecycle by packet key hash (JSON list of steps), as stores written before
/// [`PACKET_STEPS`] hold it: read beside it and dropped by pruning, never written.
pub(crate) const PACKETS: TableDefinition<&[u8; 32], &[u8]> = TableDefinition::new("packet_index");

/// A store failure: the node stops rather than guess.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be opened, read or written.
    #[error("store: {0}")]
    Db(String),
    /// A stored row did not decode: the data directory is damaged.
    #[error("store is corrupt: {0}")]
    Corrupt(String),
    /// A value could not be encoded for storage.
    #[error("store: cannot encode {0}")]
    Encode(String),
    /// The state tree at this height was pruned (this node keeps `retention_blocks`).
    #[error("the state at height {height} was pruned: this node proves heights from {oldest}")]
    StatePruned {
        /// Height asked for.
        height: u64,
        /// Oldest height this node still proves.
        oldest: u64,
    },
}

impl From<StateTreeError> for StoreError {
    fn from(e: StateTreeError) -> Self {
        match e {
            StateTreeError::Read(m) => StoreError::Db(m),
            other => StoreError::Corrupt(other.to_string()),
        }
    }
}

impl StoreError {
    /// Stable name (logs, RPC errors, the node's exit reason).
    pub fn name(&self) -> &'static str {
        match self {
            StoreError::Db(_) => "store_unavailable",
            StoreError::Corrupt(_) => "store_corrupt",
            StoreError::Encode(_) => "store_encode_failed",
            StoreError::StatePruned { .. } => "state_pruned",
        }
    }
}

macro_rules! db_err {
    ($($t:ty),*) => {$(
        impl From<$t> for StoreError {
            fn from(e: $t) -> Self {
                StoreError::Db(e.to_string())
            }
        }
    )*};
}
db_err!(
    redb::Error,
    redb::DatabaseError,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError
);
