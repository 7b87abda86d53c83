//! The application state: a sorted key/value map whose Jellyfish Merkle root
//! (`junction-state-tree`) is the app hash, an overlay of pending writes for validation and execution, and the keys of accounts and
//! the council.

use std::collections::BTreeMap;

use junction_governance::Council;
use junction_spec::encoding::Reader;
use junction_spec::{Address, Decode, DecodeError, Encode, Hash32};

/// The application state in memory: a sorted key/value map whose Jellyfish Merkle root is
/// the app hash. Genesis, audits and tests use it; a node reads its store instead.
#[derive(Debug, Clone, Default)]
pub struct AppState {
    entries: BTreeMap<Vec<u8>, Vec<u8>>,
}

/// Key of an account's next nonce.
pub fn nonce_key(addr: &Address) -> Vec<u8> {
    let mut k = b"acct/nonce/".to_vec();
    k.extend_from_slice(addr);
    k
}

/// Key of an account's last remark.
pub fn remark_key(addr: &Address) -> Vec<u8> {
    let mut k = b"acct/remark/".to_vec();
    k.extend_from_slice(addr);
    k
}

/// Key of a parked packet's record.
pub fn parked_key(key: &Hash32) -> Vec<u8> {
    let mut k = b"packet/parked/".to_vec();
    k.extend_from_slice(key);
    k
}

/// Who parked a packet, when (hub time) and why (`ParkPacket`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parked {
    /// The relayer account that parked it.
    pub by: Address,
    /// Hub time of the block, milliseconds.
    pub at_ms: u64,
    /// The operator's reason.
    pub reason: String,
}

impl Encode for Parked {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.by.encode_to(out);
        self.at_ms.encode_to(out);
        self.reason.encode_to(out);
    }
}

impl Decode for Parked {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            by: Decode::decode_from(r)?,
            at_ms: Decode::decode_from(r)?,
            reason: junction_spec::encoding::decode_string(
                r,
                junction_spec::tx::MAX_PARK_REASON_BYTES,
            )?,
        })
    }
}

/// The park record of a packet, if it is parked (a row that does not decode is damage,
/// noted, and read as not parked).
pub fn parked(state: &dyn StateReader, key: &Hash32) -> Option<Parked> {
    let bytes = state.get(&parked_key(key))?;
    match Parked::from_bytes(&bytes) {
        Ok(p) => Some(p),
        Err(e) => {
            state.note_damage(format!("park record of {}: {e}", hex::encode(key)));
            None
        }
    }
}

/// Reads of the key/value state, one key at a time: the committed state (the node's
/// store, or an [`AppState`] in memory), or an overlay of pending writes over a reader.
pub trait StateReader: std::fmt::Debug + Send + Sync {
    /// A value.
    fn get(&self, key: &[u8]) -> Option<Vec<u8>>;

    /// Told when a value read here does not decode. Such a row is damage, never a state
    /// a block wrote; a stored state remembers it so that nothing executed over it is
    /// committed. Memory and overlays pass it down.
    fn note_damage(&self, _what: String) {}

    /// The next nonce of an account.
    fn next_nonce(&self, addr: &Address) -> u64 {
        self.get(&nonce_key(addr))
            .and_then(|b| <[u8; 8]>::try_from(b.as_slice()).ok())
            .map(u64::from_be_bytes)
            .unwrap_or(0)
    }
}

/// Writes to the key/value state (only an overlay takes them; the node persists them).
pub trait StateWriter: StateReader {
    /// Sets a value.
    fn put(&mut self, key: Vec<u8>, value: Vec<u8>);
    /// Removes a value.
    fn delete(&mut self, key: Vec<u8>);
}

impl StateReader for AppState {
    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.entries.get(key).cloned()
    }
}

impl AppState {
    /// Builds the state from stored entries.
    pub fn from_entries(entries: Vec<(Vec<u8>, Vec<u8>)>) -> Self {
        let mut s = Self::default();
        for (k, v) in entries {
            s.set(k, Some(v));
        }
        s
    }

    fn set(&mut self, key: Vec<u8>, value: Option<Vec<u8>>) {
        match value {
            Some(v) => {
                self.entries.insert(key, v);
            }
            None => {
                self.entries.remove(&key);
            }
        }
    }

    /// Applies writes produced by [`execute_block`].
    pub fn apply(&mut self, writes: &[(Vec<u8>, Option<Vec<u8>>)]) {
        for (k, v) in writes {
            self.set(k.clone(), v.clone());
        }
    }

    /// The app hash of these entries: the Jellyfish Merkle root built from nothing, in
    /// O(entries). For genesis, audits and tests; a node takes each block's app hash from
    /// its stored tree, updated by the block's writes alone.
    pub fn root(&self) -> Hash32 {
        junction_state_tree::root_of(self.entries.iter())
    }

    /// Every entry as a write, in key order: what builds the state tree from nothing (at
    /// genesis, and when an audit replays the chain).
    pub fn as_writes(&self) -> Vec<junction_state_tree::StateWrite> {
        self.entries
            .iter()
            .map(|(k, v)| (k.clone(), Some(v.clone())))
            .collect()
    }

    /// Every entry, in key order (for audits and tests).
    pub fn entries(&self) -> impl Iterator<Item = (&Vec<u8>, &Vec<u8>)> {
        self.entries.iter()
    }
}

/// A view of the state with pending writes on top: validation runs against it and
/// discards it; execution returns its writes for the store. Overlays stack (a dry run
/// over a block's pending writes).
#[derive(Debug)]
pub struct Overlay<'a> {
    base: &'a dyn StateReader,
    writes: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
}

impl StateReader for Overlay<'_> {
    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        match self.writes.get(key) {
            Some(v) => v.clone(),
            None => self.base.get(key),
        }
    }

    fn note_damage(&self, what: String) {
        self.base.note_damage(what);
    }
}

impl StateWriter for Overlay<'_> {
    fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.writes.insert(key, Some(value));
    }

    fn delete(&mut self, key: Vec<u8>) {
        self.writes.insert(key, None);
    }
}

impl<'a> Overlay<'a> {
    /// An empty overlay over `base`.
    pub fn new(base: &'a dyn StateReader) -> Self {
        Self {
            base,
            writes: BTreeMap::new(),
        }
    }

    /// The writes, in key order.
    pub fn into_writes(self) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
        self.writes.into_iter().collect()
    }
}

/// State key of the council (canonical encoding of [`Council`]).
pub const COUNCIL_KEY: &[u8] = b"gov/council";

/// The council as stored in a state view.
pub fn load_council(get: impl Fn(&[u8]) -> Option<Vec<u8>>) -> Result<Council, String> {
    let bytes = get(COUNCIL_KEY).ok_or("the state holds no council")?;
    Council::from_bytes(&bytes).map_err(|e| format!("stored council does not decode: {e}"))
}
