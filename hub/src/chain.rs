//! The hub's application state machine: blocks, the chain tip, account state, and the rules
//! for validating and executing a block. Nothing here does I/O; the caller persists the
//! [`Executed`] result in one store transaction.

use std::collections::BTreeMap;

use junction_spec::merkle::{empty_root, leaf_hash, root_from_leaf_hashes};
use junction_spec::{
    address_from_ed25519, tagged_hash, Address, BlockHeader, ChainId, Checkpoint, Decode,
    DecodeError, Encode, Hash32, HashTag, Reader, SignedTx, TxKind,
};

use junction_governance::{Council, GovError, GovEvent};
use junction_packets::PacketState;

use crate::relay::{RelayError, RelayExec, LOG_FRONTIER_KEY};

use junction_spec::encoding::Put;

/// Most transactions in one block.
pub const MAX_BLOCK_TXS: usize = 20_000;
/// How far ahead of the account's next nonce a pending transaction may be.
pub const MAX_NONCE_AHEAD: u64 = 1_000;

/// A block: header and the signed transactions it orders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// The header consensus agrees on (through its hash).
    pub header: BlockHeader,
    /// Transactions in execution order.
    pub txs: Vec<SignedTx>,
}

impl Block {
    /// Canonical bytes: header, then a u32 count and each transaction length-prefixed.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        junction_spec::encoding::encode_bytes(&self.header.to_bytes(), &mut out);
        out.extend_from_slice(&(self.txs.len() as u32).to_be_bytes());
        for tx in &self.txs {
            junction_spec::encoding::encode_bytes(&tx.to_bytes(), &mut out);
        }
        out
    }

    /// Decodes [`Block::encode`] output; rejects trailing bytes and any over-cap field.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let header = BlockHeader::from_bytes(r.read_bytes(4096)?)?;
        let n = r.read_len(MAX_BLOCK_TXS)?;
        let mut txs = Vec::with_capacity(n.min(r.remaining() / 4));
        for _ in 0..n {
            txs.push(SignedTx::from_bytes(
                r.read_bytes(junction_spec::encoding::MAX_TX_BYTES)?,
            )?);
        }
        r.finish()?;
        Ok(Self { header, txs })
    }

    /// The block's identity: its header hash.
    pub fn hash(&self) -> Hash32 {
        self.header.hash()
    }
}

/// Merkle root (RFC 6962) over the transaction hashes.
pub fn tx_root(txs: &[SignedTx]) -> Hash32 {
    let leaves: Vec<Hash32> = txs.iter().map(|t| leaf_hash(&t.hash())).collect();
    root_from_leaf_hashes(&leaves)
}

/// The checkpoint validators attest for a block (DESIGN §4), naming the attestation set
/// that signs it. The set does not change yet, so the next-set hash is the same set.
pub fn checkpoint_of(header: &BlockHeader, attestation_set_hash: Hash32) -> Checkpoint {
    Checkpoint {
        hub_chain_id: header.chain_id.clone(),
        height: header.height,
        time_ms: header.time_ms,
        log_size: header.log_size,
        log_root: header.log_root,
        attestation_set_hash,
        next_attestation_set_hash: attestation_set_hash,
    }
}

/// The last committed block as the node remembers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tip {
    /// Height of the last committed block (0 = genesis).
    pub height: u64,
    /// Its hash (the genesis hash at height 0).
    pub block_hash: Hash32,
    /// Its time.
    pub time_ms: u64,
    /// State root after executing it.
    pub app_hash: Hash32,
    /// Message-log size after it.
    pub log_size: u64,
    /// Message-log root after it.
    pub log_root: Hash32,
    /// Transactions committed so far.
    pub total_txs: u64,
}

impl Tip {
    /// Row format of the `tip` metadata entry.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Vec::new();
        w.put_u64(self.height);
        w.put_raw(&self.block_hash);
        w.put_u64(self.time_ms);
        w.put_raw(&self.app_hash);
        w.put_u64(self.log_size);
        w.put_raw(&self.log_root);
        w.put_u64(self.total_txs);
        w
    }

    /// Reads the `tip` row.
    pub fn decode(b: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(b);
        let t = Tip {
            height: r.read_u64()?,
            block_hash: r.read_array()?,
            time_ms: r.read_u64()?,
            app_hash: r.read_array()?,
            log_size: r.read_u64()?,
            log_root: r.read_array()?,
            total_txs: r.read_u64()?,
        };
        r.finish()?;
        Ok(t)
    }
}

/// Why a transaction is refused. Each variant has a stable RPC code ([`TxError::code`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TxError {
    /// The bytes are not a canonical signed transaction.
    #[error("malformed transaction: {0}")]
    Malformed(String),
    /// Over the size cap.
    #[error("transaction is {len} bytes, the cap is {max}")]
    TooLarge {
        /// Size received.
        len: usize,
        /// Cap.
        max: usize,
    },
    /// The signature does not verify under the signer key.
    #[error("signature does not verify for the signer key")]
    BadSignature,
    /// Signed for another chain.
    #[error("transaction is for chain {got}, this is {expected}")]
    WrongChainId {
        /// This hub's chain id.
        expected: String,
        /// The transaction's.
        got: String,
    },
    /// The nonce was already used.
    #[error("nonce {got} already used: next nonce for this account is {expected}")]
    StaleNonce {
        /// Next usable nonce.
        expected: u64,
        /// Nonce given.
        got: u64,
    },
    /// Too far ahead of the account's next nonce.
    #[error("nonce {got} is too far ahead: next nonce for this account is {expected}")]
    NonceTooFarAhead {
        /// Next usable nonce.
        expected: u64,
        /// Nonce given.
        got: u64,
    },
    /// Another pending transaction already uses this nonce.
    #[error("another pending transaction already uses nonce {0}")]
    NonceAlreadyPending(u64),
    /// The same transaction is already pending.
    #[error("transaction already in the mempool")]
    AlreadyKnown,
    /// The transaction was already committed.
    #[error("transaction already committed at height {0}")]
    AlreadyCommitted(u64),
    /// The council refuses the governance action (non-member, duplicate vote, closed vote...).
    #[error("governance: {message}")]
    Governance {
        /// Stable name of the broken rule.
        name: &'static str,
        /// What happened.
        message: String,
    },
    /// A relayer message is refused (the whole transaction is refused at admission, so the
    /// relayer can drop that message and resubmit the rest).
    #[error("relay message {index} ({msg}) refused: {message}")]
    Relay {
        /// Position of the message in the transaction.
        index: usize,
        /// The message kind.
        msg: &'static str,
        /// Stable name of the error.
        name: &'static str,
        /// What happened.
        message: String,
    },
    /// The transaction's content breaks its own bounds (e.g. an invalid proposal).
    #[error("invalid transaction content: {0}")]
    InvalidContent(String),
    /// The signer is no account the council knows (a member, a registered relayer or an
    /// admitted account): refused before anything else in the transaction is looked at.
    #[error("the signer is not an account the council knows: members, registered relayers and accounts admitted by an admit_account vote may submit")]
    UnknownAccount,
    /// The signer already has as many pending transactions (or bytes) as one account may.
    #[error("the account already has {txs} pending transactions ({bytes} bytes), its mempool quota: wait for them to commit")]
    AccountQuota {
        /// Its pending transactions.
        txs: usize,
        /// Its pending bytes.
        bytes: usize,
    },
    /// The node's store could not answer a check admission needs (e.g. whether the
    /// transaction is already committed): nothing is admitted on a guess.
    #[error("the node's store cannot answer: {0}; retry, or ask another node")]
    StoreUnavailable(String),
    /// The mempool is at its cap.
    #[error("mempool is full ({txs} transactions, {bytes} bytes): retry later")]
    MempoolFull {
        /// Pending count.
        txs: usize,
        /// Pending bytes.
        bytes: usize,
    },
}

impl TxError {
    /// Stable JSON-RPC error code.
    pub fn code(&self) -> i64 {
        match self {
            TxError::Malformed(_) => 1001,
            TxError::TooLarge { .. } => 1002,
            TxError::BadSignature => 1003,
            TxError::WrongChainId { .. } => 1004,
            TxError::StaleNonce { .. } => 1005,
            TxError::NonceTooFarAhead { .. } => 1006,
            TxError::NonceAlreadyPending(_) => 1007,
            TxError::AlreadyKnown => 1008,
            TxError::AlreadyCommitted(_) => 1009,
            TxError::MempoolFull { .. } => 1010,
            TxError::StoreUnavailable(_) => 1012,
            TxError::UnknownAccount => 1013,
            TxError::AccountQuota { .. } => 1014,
            TxError::Governance { .. } => 2001,
            TxError::Relay { .. } => 3001,
            TxError::InvalidContent(_) => 1011,
        }
    }

    /// Stable short name, used in metrics labels and RPC error data.
    pub fn name(&self) -> &'static str {
        match self {
            TxError::Malformed(_) => "malformed_tx",
            TxError::TooLarge { .. } => "tx_too_large",
            TxError::BadSignature => "invalid_signature",
            TxError::WrongChainId { .. } => "wrong_chain_id",
            TxError::StaleNonce { .. } => "stale_nonce",
            TxError::NonceTooFarAhead { .. } => "nonce_too_far_ahead",
            TxError::NonceAlreadyPending(_) => "nonce_already_pending",
            TxError::AlreadyKnown => "tx_already_known",
            TxError::AlreadyCommitted(_) => "tx_already_committed",
            TxError::MempoolFull { .. } => "mempool_full",
            TxError::StoreUnavailable(_) => "store_unavailable",
            TxError::UnknownAccount => "unknown_account",
            TxError::AccountQuota { .. } => "account_mempool_quota",
            TxError::Governance { name, .. } | TxError::Relay { name, .. } => name,
            TxError::InvalidContent(_) => "invalid_tx_content",
        }
    }
}

/// Why a proposed or synced block is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlockError {
    /// Bytes are not a canonical block.
    #[error("malformed block: {0}")]
    Malformed(String),
    /// Not the next height.
    #[error("block height {got}, expected {expected}")]
    WrongHeight {
        /// Next height.
        expected: u64,
        /// Given.
        got: u64,
    },
    /// Another chain's block.
    #[error("block for chain {0}")]
    WrongChainId(String),
    /// Does not extend our tip.
    #[error("previous block hash does not match the tip")]
    WrongPrevHash,
    /// The state root in the header is not ours.
    #[error("app hash does not match the state after the previous block")]
    WrongAppHash,
    /// Log fields wrong.
    #[error("message-log size or root does not match")]
    WrongLog,
    /// Validator-set hashes wrong.
    #[error("validator-set hash does not match")]
    WrongValidatorsHash,
    /// Header's transaction root does not match its transactions.
    #[error("transaction root does not match the transactions")]
    WrongTxRoot,
    /// Time does not move forward.
    #[error("block time {got} ms is not after the parent's {parent} ms")]
    TimeNotAfterParent {
        /// Parent time.
        parent: u64,
        /// Block time.
        got: u64,
    },
    /// Time too far in this node's future.
    #[error("block time {got} ms is more than {drift} ms ahead of local time {now} ms")]
    TimeTooFarAhead {
        /// Block time.
        got: u64,
        /// Local time.
        now: u64,
        /// Allowed drift.
        drift: u64,
    },
    /// The header names a proposer other than the one who signed the parts.
    #[error("block proposer does not match the signer of its parts")]
    WrongProposer,
    /// A transaction in the block is invalid.
    #[error("transaction {index}: {error}")]
    BadTx {
        /// Position in the block.
        index: usize,
        /// What is wrong.
        error: TxError,
    },
}

/// An event emitted by a transaction.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Event {
    /// Event kind, e.g. `remark`.
    pub kind: String,
    /// Transaction hash (hex).
    pub tx: String,
    /// Key/value attributes in a fixed order.
    pub attributes: Vec<(String, String)>,
}

/// The application state: a sorted key/value map whose Merkle root is the app hash.
#[derive(Debug, Clone, Default)]
pub struct AppState {
    entries: BTreeMap<Vec<u8>, Vec<u8>>,
    leaf_hashes: BTreeMap<Vec<u8>, Hash32>,
}

fn entry_leaf(key: &[u8], value: &[u8]) -> Hash32 {
    let mut buf = Vec::with_capacity(key.len() + value.len() + 8);
    junction_spec::encoding::encode_bytes(key, &mut buf);
    junction_spec::encoding::encode_bytes(value, &mut buf);
    tagged_hash(HashTag::StateEntry, &buf)
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

impl AppState {
    /// Builds the state from stored entries.
    pub fn from_entries(entries: Vec<(Vec<u8>, Vec<u8>)>) -> Self {
        let mut s = Self::default();
        for (k, v) in entries {
            s.set(k, Some(v));
        }
        s
    }

    /// A value.
    pub fn get(&self, key: &[u8]) -> Option<&[u8]> {
        self.entries.get(key).map(Vec::as_slice)
    }

    fn set(&mut self, key: Vec<u8>, value: Option<Vec<u8>>) {
        match value {
            Some(v) => {
                self.leaf_hashes.insert(key.clone(), entry_leaf(&key, &v));
                self.entries.insert(key, v);
            }
            None => {
                self.leaf_hashes.remove(&key);
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

    /// The app hash: RFC 6962 root over the entries in key order, domain-tagged.
    pub fn root(&self) -> Hash32 {
        if self.entries.is_empty() {
            return tagged_hash(HashTag::StateRoot, &empty_root());
        }
        let leaves: Vec<Hash32> = self.leaf_hashes.values().map(|h| leaf_hash(h)).collect();
        tagged_hash(HashTag::StateRoot, &root_from_leaf_hashes(&leaves))
    }

    /// Every entry, in key order (for audits and tests).
    pub fn entries(&self) -> impl Iterator<Item = (&Vec<u8>, &Vec<u8>)> {
        self.entries.iter()
    }

    /// The next nonce of an account.
    pub fn next_nonce(&self, addr: &Address) -> u64 {
        self.get(&nonce_key(addr))
            .and_then(|b| <[u8; 8]>::try_from(b).ok())
            .map(u64::from_be_bytes)
            .unwrap_or(0)
    }
}

/// A view of the state with pending writes on top: validation runs against it and
/// discards it; execution returns its writes for the store.
#[derive(Debug)]
pub struct Overlay<'a> {
    base: &'a AppState,
    writes: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
}

impl<'a> Overlay<'a> {
    /// An empty overlay over `base`.
    pub fn new(base: &'a AppState) -> Self {
        Self {
            base,
            writes: BTreeMap::new(),
        }
    }

    pub(crate) fn get(&self, key: &[u8]) -> Option<&[u8]> {
        match self.writes.get(key) {
            Some(v) => v.as_deref(),
            None => self.base.get(key),
        }
    }

    pub(crate) fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.writes.insert(key, Some(value));
    }

    /// The next nonce of an account, with pending writes.
    pub fn next_nonce(&self, addr: &Address) -> u64 {
        self.get(&nonce_key(addr))
            .and_then(|b| <[u8; 8]>::try_from(b).ok())
            .map(u64::from_be_bytes)
            .unwrap_or(0)
    }

    /// The writes, in key order.
    pub fn into_writes(self) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
        self.writes.into_iter().collect()
    }
}

/// Checks a transaction against the chain and the state view (not its signature: that is
/// verified once per node and cached).
pub fn validate_tx(chain_id: &ChainId, view: &Overlay<'_>, tx: &SignedTx) -> Result<(), TxError> {
    if &tx.body.chain_id != chain_id {
        return Err(TxError::WrongChainId {
            expected: chain_id.as_str().to_string(),
            got: tx.body.chain_id.as_str().to_string(),
        });
    }
    let expected = view.next_nonce(&tx.body.signer_address());
    if tx.body.nonce != expected {
        return Err(if tx.body.nonce < expected {
            TxError::StaleNonce {
                expected,
                got: tx.body.nonce,
            }
        } else {
            TxError::NonceTooFarAhead {
                expected,
                got: tx.body.nonce,
            }
        });
    }
    Ok(())
}

/// State key of the council (canonical encoding of [`Council`]).
pub const COUNCIL_KEY: &[u8] = b"gov/council";

/// The council as stored in a state view.
pub fn load_council(get: impl Fn(&[u8]) -> Option<Vec<u8>>) -> Result<Council, String> {
    let bytes = get(COUNCIL_KEY).ok_or("the state holds no council")?;
    Council::from_bytes(&bytes).map_err(|e| format!("stored council does not decode: {e}"))
}

/// Applies a governance transaction to the council. `now_ms` is hub time (the block time).
pub fn apply_gov_tx(
    council: &mut Council,
    tx: &SignedTx,
    now_ms: u64,
) -> Result<Vec<GovEvent>, GovError> {
    let signer = &tx.body.signer;
    match &tx.body.kind {
        TxKind::Remark { .. } => Ok(vec![]),
        TxKind::Propose {
            proposal,
            expedited,
            deposit,
        } => council
            .propose_with(
                signer,
                (**proposal).clone(),
                *expedited,
                *deposit,
                now_ms,
                &crate::relay::HubClientCheck,
            )
            .map(|(_, events)| events),
        TxKind::Vote {
            proposal_id,
            option,
        } => council.vote(signer, *proposal_id, *option, now_ms),
        TxKind::EmergencyPause { route } => council.emergency_pause(signer, route, now_ms),
        TxKind::EmergencyFreeze { chain } => council.emergency_freeze(signer, chain, now_ms),
        // Relayer messages are not council actions (see `execute_relay`).
        TxKind::Relay { .. } => Ok(vec![]),
    }
}

/// A governance event as a block event.
pub fn gov_event(e: GovEvent, tx_hash: Option<&Hash32>) -> Event {
    let mut attributes = Vec::with_capacity(3);
    if let Some(id) = e.proposal_id {
        attributes.push(("proposal_id".into(), id.to_string()));
    }
    if let Some(s) = &e.signer {
        attributes.push(("signer".into(), s.as_str().to_string()));
    }
    attributes.push(("detail".into(), e.detail));
    Event {
        kind: format!("gov/{}", e.action),
        tx: tx_hash.map(hex::encode).unwrap_or_default(),
        attributes,
    }
}

/// Executes one transaction whose nonce and chain id were checked. The nonce is used up
/// whatever happens next; a governance action the council refuses becomes a `tx_failed`
/// event with the rule's name, and changes nothing else.
fn execute_tx(
    view: &mut Overlay<'_>,
    council: &mut Option<Council>,
    packets: &mut Option<PacketState>,
    base_packets: &PacketState,
    tx: &SignedTx,
    tx_hash: &Hash32,
    now_ms: u64,
) -> Vec<Event> {
    let addr = tx.body.signer_address();
    // Only accounts the council knows may act; a block carrying another signer's
    // transaction (no honest node admits one) records it as failed and nothing else, not
    // even the nonce.
    if council
        .as_ref()
        .is_some_and(|c| !c.is_known_account(&tx.body.signer))
    {
        return vec![Event {
            kind: "tx_failed".into(),
            tx: hex::encode(tx_hash),
            attributes: vec![
                ("kind".into(), tx.body.kind.name().into()),
                ("error".into(), TxError::UnknownAccount.name().into()),
                ("message".into(), TxError::UnknownAccount.to_string()),
            ],
        }];
    }
    view.put(nonce_key(&addr), (tx.body.nonce + 1).to_be_bytes().to_vec());
    if let TxKind::Remark { data } = &tx.body.kind {
        view.put(remark_key(&addr), data.clone());
        return vec![Event {
            kind: "remark".into(),
            tx: hex::encode(tx_hash),
            attributes: vec![
                ("sender".into(), hex::encode(addr)),
                ("nonce".into(), tx.body.nonce.to_string()),
                ("bytes".into(), data.len().to_string()),
            ],
        }];
    }
    let failed = |name: &str, message: String| Event {
        kind: "tx_failed".into(),
        tx: hex::encode(tx_hash),
        attributes: vec![
            ("kind".into(), tx.body.kind.name().into()),
            ("error".into(), name.to_string()),
            ("message".into(), message),
        ],
    };
    let Some(c) = council.as_mut() else {
        return vec![failed("no_council", "the state holds no council".into())];
    };
    if let TxKind::Relay { msgs } = &tx.body.kind {
        let packets = packets.get_or_insert_with(|| base_packets.clone());
        return execute_relay(view, c, packets, &tx.body.signer, msgs, now_ms)
            .into_iter()
            .map(|mut e| {
                e.tx = hex::encode(tx_hash);
                e
            })
            .collect();
    }
    // Apply to a copy so that a refused action leaves the council untouched.
    let mut next = c.clone();
    match apply_gov_tx(&mut next, tx, now_ms) {
        Ok(events) => {
            *c = next;
            events
                .into_iter()
                .map(|e| gov_event(e, Some(tx_hash)))
                .collect()
        }
        Err(e) => vec![failed(e.name(), e.to_string())],
    }
}

/// Runs a relayer's messages in order: the signer must be a registered relayer with
/// room in its rate-limit bucket; each message then succeeds or is refused on its own
/// (`relay/rejected` with the error's name), changing nothing when refused.
pub fn execute_relay(
    view: &mut Overlay<'_>,
    council: &mut Council,
    packets: &mut PacketState,
    signer: &[u8; 32],
    msgs: &[junction_spec::RelayMsg],
    now_ms: u64,
) -> Vec<Event> {
    let refused = |name: &str, message: String, index: Option<(usize, &str)>| {
        let mut attributes = Vec::with_capacity(4);
        if let Some((i, msg)) = index {
            attributes.push(("index".into(), i.to_string()));
            attributes.push(("msg".into(), msg.to_string()));
        }
        attributes.push(("error".into(), name.to_string()));
        attributes.push(("message".into(), message));
        Event {
            kind: "relay/rejected".into(),
            tx: String::new(),
            attributes,
        }
    };
    if !council.is_relayer(signer) {
        let e = RelayError::UnregisteredRelayer;
        return vec![refused(e.name(), e.to_string(), None)];
    }
    let mut exec = RelayExec {
        view,
        council,
        packets,
        now_ms,
    };
    let account = address_from_ed25519(signer);
    if let Err(e) = exec.take_tokens(&account, msgs.len() as u64) {
        return vec![refused(e.name(), e.to_string(), None)];
    }
    let mut events = Vec::new();
    for (i, m) in msgs.iter().enumerate() {
        match exec.run(m) {
            Ok(evs) => events.extend(evs),
            Err(e) => events.push(refused(e.name(), e.to_string(), Some((i, m.name())))),
        }
    }
    events
}

/// Admission check of a relay transaction: runs it against a copy of the state and
/// refuses it by the first message that fails (or the signer check / rate limit).
pub fn check_relay(
    state: &AppState,
    council: &Council,
    packets: &PacketState,
    signer: &[u8; 32],
    msgs: &[junction_spec::RelayMsg],
    now_ms: u64,
) -> Result<(), TxError> {
    let whole = |e: RelayError| TxError::Relay {
        index: 0,
        msg: "relay",
        name: e.name(),
        message: e.to_string(),
    };
    if !council.is_relayer(signer) {
        return Err(whole(RelayError::UnregisteredRelayer));
    }
    let mut view = Overlay::new(state);
    let mut council = council.clone();
    let mut packets = packets.clone();
    let mut exec = RelayExec {
        view: &mut view,
        council: &mut council,
        packets: &mut packets,
        now_ms,
    };
    exec.take_tokens(&address_from_ed25519(signer), msgs.len() as u64)
        .map_err(whole)?;
    for (index, m) in msgs.iter().enumerate() {
        exec.run(m).map_err(|e| TxError::Relay {
            index,
            msg: m.name(),
            name: e.name(),
            message: e.to_string(),
        })?;
    }
    Ok(())
}

/// What executing a block produced.
#[derive(Debug, Clone)]
pub struct Executed {
    /// State writes in key order.
    pub writes: Vec<(Vec<u8>, Option<Vec<u8>>)>,
    /// Events in transaction order.
    pub events: Vec<Event>,
    /// Transaction hashes in block order.
    pub tx_hashes: Vec<Hash32>,
    /// The packet state after the block, when the block changed it.
    pub packets: Option<PacketState>,
}

/// Chain parameters the block rules need.
#[derive(Debug, Clone)]
pub struct ChainRules {
    /// This hub's chain id.
    pub chain_id: ChainId,
    /// Hash of the (fixed, for now) validator set.
    pub validators_hash: Hash32,
    /// How far ahead of local time a block may be.
    pub max_clock_drift_ms: u64,
}

/// Validates a block against the tip and state (header rules, then every transaction in
/// order), and returns its execution result. `now_ms` is the validating node's clock;
/// pass `None` to skip the drift rule (for blocks already decided by the network).
pub fn execute_block(
    rules: &ChainRules,
    tip: &Tip,
    state: &AppState,
    packets: &PacketState,
    block: &Block,
    now_ms: Option<u64>,
) -> Result<Executed, BlockError> {
    let h = &block.header;
    if h.chain_id != rules.chain_id {
        return Err(BlockError::WrongChainId(h.chain_id.as_str().to_string()));
    }
    if h.height != tip.height + 1 {
        return Err(BlockError::WrongHeight {
            expected: tip.height + 1,
            got: h.height,
        });
    }
    if h.prev_block_hash != tip.block_hash {
        return Err(BlockError::WrongPrevHash);
    }
    if h.app_hash != tip.app_hash {
        return Err(BlockError::WrongAppHash);
    }
    if h.validators_hash != rules.validators_hash || h.next_validators_hash != rules.validators_hash
    {
        return Err(BlockError::WrongValidatorsHash);
    }
    if h.time_ms <= tip.time_ms {
        return Err(BlockError::TimeNotAfterParent {
            parent: tip.time_ms,
            got: h.time_ms,
        });
    }
    if let Some(now) = now_ms {
        if h.time_ms > now.saturating_add(rules.max_clock_drift_ms) {
            return Err(BlockError::TimeTooFarAhead {
                got: h.time_ms,
                now,
                drift: rules.max_clock_drift_ms,
            });
        }
    }
    if h.tx_root != tx_root(&block.txs) {
        return Err(BlockError::WrongTxRoot);
    }
    // The header commits to the log as the previous block left it (like the app hash).
    if h.log_size != tip.log_size || h.log_root != tip.log_root {
        return Err(BlockError::WrongLog);
    }
    let mut view = Overlay::new(state);
    let mut events = Vec::with_capacity(block.txs.len());
    let mut tx_hashes = Vec::with_capacity(block.txs.len());
    // Hub time drives voting periods and timelocks: the council ticks at the block's time
    // before the block's transactions.
    let stored_council = state.get(COUNCIL_KEY);
    let mut council =
        match stored_council {
            Some(b) => Some(Council::from_bytes(b).map_err(|e| {
                BlockError::Malformed(format!("stored council does not decode: {e}"))
            })?),
            None => None,
        };
    if let Some(c) = council.as_mut() {
        events.extend(
            c.tick_with(h.time_ms, &crate::relay::HubClientCheck)
                .into_iter()
                .map(|e| gov_event(e, None)),
        );
    }
    let mut new_packets: Option<PacketState> = None;
    for (index, tx) in block.txs.iter().enumerate() {
        validate_tx(&rules.chain_id, &view, tx)
            .map_err(|error| BlockError::BadTx { index, error })?;
        let hash = tx.hash();
        events.extend(execute_tx(
            &mut view,
            &mut council,
            &mut new_packets,
            packets,
            tx,
            &hash,
            h.time_ms,
        ));
        tx_hashes.push(hash);
    }
    if let Some(c) = council {
        let bytes = c.to_bytes();
        if stored_council != Some(bytes.as_slice()) {
            view.put(COUNCIL_KEY.to_vec(), bytes);
        }
    }
    if let Some(p) = &new_packets {
        if p.log().size() != packets.log().size() {
            view.put(LOG_FRONTIER_KEY.to_vec(), p.log().frontier().to_bytes());
        }
    }
    Ok(Executed {
        writes: view.into_writes(),
        events,
        tx_hashes,
        packets: new_packets,
    })
}

/// Milliseconds since the Unix epoch from the system clock (the node's only clock read).
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use junction_spec::TxBody;

    fn signed(key: &ed25519_consensus::SigningKey, chain: &str, nonce: u64) -> SignedTx {
        let body = TxBody {
            chain_id: ChainId::new(chain).unwrap(),
            signer: key.verification_key().to_bytes(),
            nonce,
            kind: TxKind::Remark {
                data: b"hi".to_vec(),
            },
        };
        let signature = key.sign(&body.sign_bytes()).to_bytes();
        SignedTx { body, signature }
    }

    fn genesis_tip() -> Tip {
        Tip {
            height: 0,
            block_hash: [1; 32],
            time_ms: 1000,
            app_hash: AppState::default().root(),
            log_size: 0,
            log_root: empty_root(),
            total_txs: 0,
        }
    }

    fn rules() -> ChainRules {
        ChainRules {
            chain_id: ChainId::new("hub-test").unwrap(),
            validators_hash: [5; 32],
            max_clock_drift_ms: 2000,
        }
    }

    fn block_with(txs: Vec<SignedTx>, time_ms: u64) -> Block {
        let tip = genesis_tip();
        Block {
            header: BlockHeader {
                chain_id: rules().chain_id,
                height: 1,
                time_ms,
                prev_block_hash: tip.block_hash,
                app_hash: tip.app_hash,
                log_size: 0,
                log_root: empty_root(),
                validators_hash: [5; 32],
                next_validators_hash: [5; 32],
                proposer: [0; 20],
                tx_root: tx_root(&txs),
            },
            txs,
        }
    }

    #[test]
    fn block_round_trips_and_rejects_trailing_bytes() {
        let key = ed25519_consensus::SigningKey::from([3u8; 32]);
        let b = block_with(vec![signed(&key, "hub-test", 0)], 2000);
        let bytes = b.encode();
        assert_eq!(Block::decode(&bytes).unwrap(), b);
        let mut long = bytes.clone();
        long.push(0);
        assert!(Block::decode(&long).is_err());
    }

    #[test]
    fn execution_enforces_nonce_order_and_changes_the_app_hash() {
        let key = ed25519_consensus::SigningKey::from([3u8; 32]);
        let txs = vec![signed(&key, "hub-test", 0), signed(&key, "hub-test", 1)];
        let state = AppState::default();
        let out = execute_block(
            &rules(),
            &genesis_tip(),
            &state,
            &PacketState::default(),
            &block_with(txs, 2000),
            Some(2000),
        )
        .unwrap();
        let mut after = state.clone();
        after.apply(&out.writes);
        assert_ne!(after.root(), state.root());
        let addr = junction_spec::address_from_ed25519(&key.verification_key().to_bytes());
        assert_eq!(after.next_nonce(&addr), 2);

        let replay = vec![signed(&key, "hub-test", 0), signed(&key, "hub-test", 0)];
        let err = execute_block(
            &rules(),
            &genesis_tip(),
            &state,
            &PacketState::default(),
            &block_with(replay, 2000),
            None,
        )
        .unwrap_err();
        assert!(matches!(
            err,
            BlockError::BadTx {
                index: 1,
                error: TxError::StaleNonce {
                    expected: 1,
                    got: 0
                }
            }
        ));
    }

    #[test]
    fn block_time_rules() {
        let state = AppState::default();
        let err = execute_block(
            &rules(),
            &genesis_tip(),
            &state,
            &PacketState::default(),
            &block_with(vec![], 1000),
            None,
        )
        .unwrap_err();
        assert_eq!(
            err,
            BlockError::TimeNotAfterParent {
                parent: 1000,
                got: 1000
            }
        );
        let err = execute_block(
            &rules(),
            &genesis_tip(),
            &state,
            &PacketState::default(),
            &block_with(vec![], 9000),
            Some(5000),
        )
        .unwrap_err();
        assert!(matches!(err, BlockError::TimeTooFarAhead { .. }));
    }

    #[test]
    fn wrong_chain_tx_is_refused_in_a_block() {
        let key = ed25519_consensus::SigningKey::from([3u8; 32]);
        let b = block_with(vec![signed(&key, "other", 0)], 2000);
        let err = execute_block(
            &rules(),
            &genesis_tip(),
            &AppState::default(),
            &PacketState::default(),
            &b,
            None,
        )
        .unwrap_err();
        assert!(matches!(
            err,
            BlockError::BadTx {
                error: TxError::WrongChainId { .. },
                ..
            }
        ));
    }

    /// A governance action the council refuses uses up its nonce and leaves a named
    /// `tx_failed` event; the block stays valid and the council unchanged.
    #[test]
    fn refused_governance_action_fails_by_name_without_invalidating_the_block() {
        let member = ed25519_consensus::SigningKey::from([3u8; 32]);
        let member_file = crate::config::KeyFile::from_key(
            "member",
            &crate::context::PrivateKey::from([3u8; 32]),
        );
        let validator =
            crate::config::KeyFile::from_key("v", &crate::context::PrivateKey::from([4u8; 32]));
        let genesis = crate::config::Genesis {
            chain_id: "hub-test".into(),
            genesis_time_ms: 1000,
            validators: vec![crate::config::GenesisValidator {
                name: "v".into(),
                pub_key: validator.public_key.clone(),
                power: 10,
                attestation_address: "11".repeat(20),
            }],
            governance: crate::config::GenesisGovernance::local(&[member_file]),
        };
        let (_, state) = crate::node::genesis_tip(&genesis).unwrap();
        let council_before = state.get(COUNCIL_KEY).unwrap().to_vec();
        let body = junction_spec::TxBody {
            chain_id: rules().chain_id,
            signer: member.verification_key().to_bytes(),
            nonce: 0,
            kind: TxKind::Vote {
                proposal_id: 99,
                option: junction_spec::gov::VoteOption::Yes,
            },
        };
        let signature = member.sign(&body.sign_bytes()).to_bytes();
        let tx = SignedTx { body, signature };
        let mut tip = genesis_tip();
        tip.app_hash = state.root();
        let mut block = block_with(vec![tx.clone()], 2000);
        block.header.app_hash = tip.app_hash;
        let out = execute_block(
            &rules(),
            &tip,
            &state,
            &PacketState::default(),
            &block,
            None,
        )
        .unwrap();
        let failed = out
            .events
            .iter()
            .find(|e| e.kind == "tx_failed")
            .expect("a tx_failed event");
        assert!(failed
            .attributes
            .iter()
            .any(|(k, v)| k == "error" && v == "unknown_proposal"));
        let mut after = state.clone();
        after.apply(&out.writes);
        assert_eq!(after.next_nonce(&tx.body.signer_address()), 1);
        assert_eq!(after.get(COUNCIL_KEY).unwrap(), council_before.as_slice());
    }
}
