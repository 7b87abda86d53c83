//! The running node: shared state that RPC and gossip read, transaction admission, and the
//! block commit path.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, RwLock};

use tokio::sync::broadcast;

use junction_spec::{ChainId, Encode, Hash32, SignedTx};

use crate::config::{Config, Genesis};
use crate::mempool::{
    decode_hashed_tx, verify_signature, verify_signatures_cached, Mempool, VerdictCache,
};
use crate::metrics::{Metrics, Stopwatch};
use crate::snapshot::{status_row, Snapshot};
use crate::store::{BlockCommit, Store, StoreError};
use crate::sync::{lock, read, write};
use junction_hub_app::StateReader as _;
use junction_hub_app::{
    execute_block, execute_block_with_memo, AppState, Block, BlockError, ChainRules, Event,
    Executed, Tip, TxError, TxHashes,
};
use junction_state_tree::TreeUpdate;
use prometheus_client::metrics::histogram::Histogram;

/// What a new committed block tells subscribers.
#[derive(Debug, Clone, serde::Serialize)]
pub struct NewBlock {
    /// Height.
    pub height: u64,
    /// Block hash, hex.
    pub hash: String,
    /// Block time, ms.
    pub time_ms: u64,
    /// Number of transactions.
    pub num_txs: usize,
    /// App hash after the block, hex.
    pub app_hash: String,
    /// Transaction hashes, hex.
    #[serde(skip)]
    pub tx_hashes: Vec<Hash32>,
}

/// The committed chain as RPC sees it.
#[derive(Debug)]
pub struct ChainView {
    /// Last committed block.
    pub tip: Tip,
    /// How many transactions it carried (0 after a restart, until the next block).
    pub tip_txs: usize,
    /// State after it, read from the store one key at a time.
    pub state: Arc<Snapshot>,
    /// The packet state over that snapshot: the log's frontier, records read per key.
    pub packets: junction_packets::PacketState,
    /// The accounts the council knows, who alone may submit transactions (kept beside the
    /// state so admission refuses a stranger before decoding anything).
    pub accounts: std::collections::BTreeSet<[u8; 32]>,
    /// Current consensus round.
    pub round: i64,
}

/// Why a commit failed.
#[derive(Debug, thiserror::Error)]
pub enum CommitError {
    /// Our execution disagrees with a decided block: the node must stop.
    #[error("decided block does not execute here: {0}")]
    Execution(#[from] BlockError),
    /// Disk failure.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A gap: the block is not the next one.
    #[error("block {got} is not the next height {expected}")]
    Gap {
        /// Expected height.
        expected: u64,
        /// Given height.
        got: u64,
    },
    /// The block's events could not be encoded for the store.
    #[error("events of block {height} do not encode: {reason}")]
    EventsEncoding {
        /// The block.
        height: u64,
        /// Why.
        reason: String,
    },
}

impl CommitError {
    /// Stable name: the reason a node stops when a decided block cannot be committed.
    pub fn name(&self) -> &'static str {
        match self {
            CommitError::Execution(_) => "decided_block_does_not_execute",
            CommitError::Store(e) => e.name(),
            CommitError::Gap { .. } => "commit_gap",
            CommitError::EventsEncoding { .. } => "events_encoding_failed",
        }
    }
}

/// State shared by the consensus loop, RPC and gossip.
#[derive(Debug)]
pub struct Shared {
    /// Where Malachite keeps its write-ahead log.
    pub wal_path: std::path::PathBuf,
    /// Node configuration.
    pub config: Config,
    /// Genesis document.
    pub genesis: Genesis,
    /// Chain rules for block validation.
    pub rules: ChainRules,
    /// The newest protocol version this node runs (its build's, or lower when the
    /// operator says so to rehearse an upgrade).
    pub max_protocol_version: std::sync::atomic::AtomicU32,
    /// The signers of recent heights ([`Shared::signers_at`]).
    pub signers: Mutex<BTreeMap<u64, Arc<crate::attest::Signers>>>,
    /// Durable store.
    pub store: Arc<dyn Store>,
    /// Metrics.
    pub metrics: Metrics,
    /// Committed chain view.
    pub chain: RwLock<ChainView>,
    /// Pending transactions.
    pub mempool: Mutex<Mempool>,
    /// Signature verdicts.
    pub sig_cache: Mutex<VerdictCache>,
    /// Light-client proof checks that passed at admission, found again by block execution.
    pub proof_verdicts: crate::mempool::ProofVerdicts,
    /// New-block notifications.
    pub blocks: broadcast::Sender<Arc<NewBlock>>,
    /// Transactions to forward to gossip peers.
    pub outbound_txs: broadcast::Sender<Arc<Vec<u8>>>,
    /// The last block validation executed, so that its commit does not execute it again.
    pub validated: Mutex<Option<ValidatedBlock>>,
    /// The newest committed blocks' headers and transaction hashes.
    pub recent_blocks: RecentBlocks,
}

/// How many of the newest committed blocks [`RecentBlocks`] answers for.
const RECENT_BLOCKS: usize = 8;

/// The newest committed blocks' headers and transaction hashes, kept from their commit.
/// Relayers follow the tip and late votes name the block just committed: reading such a
/// block back from the store copies megabytes and hashes every transaction again.
#[derive(Debug, Default)]
pub struct RecentBlocks(
    Mutex<std::collections::VecDeque<(junction_spec::BlockHeader, Arc<NewBlock>)>>,
);

impl RecentBlocks {
    fn push(&self, header: junction_spec::BlockHeader, block: Arc<NewBlock>) {
        let mut recent = lock(&self.0);
        if recent.len() == RECENT_BLOCKS {
            recent.pop_front();
        }
        recent.push_back((header, block));
    }

    fn find<T>(
        &self,
        height: u64,
        read: impl FnOnce(&junction_spec::BlockHeader, &NewBlock) -> T,
    ) -> Option<T> {
        lock(&self.0)
            .iter()
            .find(|(h, _)| h.height == height)
            .map(|(h, b)| read(h, b))
    }
}

/// A block's execution result, valid only on top of the tip it was executed on.
#[derive(Debug)]
pub struct ValidatedBlock {
    /// Hash of the block.
    pub block_hash: Hash32,
    /// Hash of the tip it was executed on.
    pub parent_hash: Hash32,
    /// What executing it produced.
    pub executed: Executed,
    /// The state tree's update for its writes, computed on a thread of its own while
    /// consensus votes on the block: the tree is not needed to judge the block, only to
    /// commit it, and computing it after the decision kept every commit waiting on it.
    pub state_tree: Option<std::thread::JoinHandle<Result<TreeUpdate, StoreError>>>,
}

/// Heights whose signers stay cached.
const SIGNERS_CACHED: usize = 16;

impl Shared {
    /// This hub's chain id.
    pub fn chain_id(&self) -> &ChainId {
        &self.rules.chain_id
    }

    /// Stops the node before a height whose protocol version it does not support (the
    /// council's scheduled upgrade), naming the version it needs.
    pub fn check_version(&self, height: u64) -> eyre::Result<()> {
        let (version, upgrade) = {
            let chain = read(&self.chain);
            let council = junction_hub_app::load_council(|k| chain.state.get(k)).ok();
            junction_hub_app::upgrade::version_at(chain.state.as_ref(), council.as_ref(), height)
                .map_err(|e| eyre::eyre!("store is corrupt: {e}"))?
        };
        let max = self
            .max_protocol_version
            .load(std::sync::atomic::Ordering::Relaxed);
        if version > max {
            return Err(eyre::eyre!(
                "upgrade_required: height {height} runs protocol version {version} (upgrade `{}`); this binary supports up to version {}: install a release that supports version {version} and start the node again, it resumes at height {height}",
                upgrade.unwrap_or_default(),
                max
            ));
        }
        Ok(())
    }

    /// Who signs `height`: up to the next height as the committed state schedules it
    /// (old heights included: the state keeps every change). The height after the next is
    /// signed by the next height's next set, which is all that is known of it yet; its own
    /// next set is not (a block between may change it), so it is left equal.
    pub fn signers_at(&self, height: u64) -> Result<Arc<crate::attest::Signers>, String> {
        let (tip, state) = {
            let chain = read(&self.chain);
            (chain.tip.height, chain.state.clone())
        };
        if height <= tip + 1 {
            if let Some(s) = lock(&self.signers).get(&height) {
                return Ok(s.clone());
            }
        }
        let at = height.min(tip + 1);
        let mut schedule =
            junction_hub_app::schedule_at(state.as_ref(), &self.rules.genesis_validators, at)?;
        if height > at {
            schedule.current = schedule.next.clone();
        }
        let signers = Arc::new(crate::attest::Signers::of(&schedule)?);
        if height <= tip + 1 {
            let mut cache = lock(&self.signers);
            cache.insert(height, signers.clone());
            while cache.len() > SIGNERS_CACHED {
                cache.pop_first();
            }
        }
        Ok(signers)
    }

    /// Admits a transaction into the mempool (decode, size, chain id, replay, signature,
    /// nonce), counting every refusal by reason. `forward` sends it on to gossip peers.
    pub fn admit_tx(&self, bytes: &[u8], forward: bool) -> Result<Hash32, TxError> {
        let started = std::time::Instant::now();
        let res = self
            .decode_hashed(bytes)
            .and_then(|(tx, hash)| self.admit_decoded(tx, hash, bytes.len()));
        self.admitted(res, bytes, forward, started)
    }

    /// Admits the transactions of one gossip frame, each decoded and hashed once: their
    /// signatures are checked as one batch first (those this node has no verdict for), so
    /// that admitting them one by one finds the verdicts cached.
    pub fn admit_frame(&self, raw: &[&[u8]]) {
        let started = std::time::Instant::now();
        let decoded: Vec<Result<(SignedTx, Hash32), TxError>> =
            raw.iter().map(|b| self.decode_hashed(b)).collect();
        let (txs, hashes): (Vec<&SignedTx>, Vec<Hash32>) = decoded
            .iter()
            .filter_map(|d| d.as_ref().ok().map(|(tx, hash)| (tx, *hash)))
            .unzip();
        if txs.len() > 1 {
            // A bad signature is refused by name when its transaction is admitted below.
            let _ = verify_signatures_cached(&self.sig_cache, &txs, &hashes);
        }
        drop(txs);
        // Each admission's time includes its share of the decoding and the batch.
        let shared_part = started.elapsed() / raw.len().max(1) as u32;
        for (d, bytes) in decoded.into_iter().zip(raw) {
            let own = std::time::Instant::now();
            let res = d.and_then(|(tx, hash)| self.admit_decoded(tx, hash, bytes.len()));
            // A peer may well send transactions this node already has.
            let _ = self.admitted(
                res,
                bytes,
                false,
                own.checked_sub(shared_part).unwrap_or(own),
            );
        }
    }

    /// Counts an admission's outcome and forwards an admitted transaction if asked.
    fn admitted(
        &self,
        res: Result<Hash32, TxError>,
        bytes: &[u8],
        forward: bool,
        started: std::time::Instant,
    ) -> Result<Hash32, TxError> {
        self.metrics
            .admission_seconds
            .observe(started.elapsed().as_secs_f64());
        match &res {
            Ok(_) => {
                if forward {
                    // No receiver just means no peer is connected yet.
                    let _ = self.outbound_txs.send(Arc::new(bytes.to_vec()));
                }
            }
            Err(e) => Metrics::count(&self.metrics.rejected_txs, e.name()),
        }
        res
    }

    /// Batch-verifies the signatures of transactions about to be admitted one by one (an
    /// RPC batch), so admission finds their verdicts cached. Bytes that do not decode are
    /// left for admission to refuse by name.
    pub fn prime_signatures<'a>(&self, raw: impl Iterator<Item = &'a [u8]>) {
        let (txs, hashes): (Vec<SignedTx>, Vec<Hash32>) =
            raw.filter_map(|b| self.decode_hashed(b).ok()).unzip();
        if txs.len() < 2 {
            return;
        }
        let _ = verify_signatures_cached(&self.sig_cache, &txs, &hashes);
    }

    /// A transaction decoded under the size cap, with its hash.
    fn decode_hashed(&self, bytes: &[u8]) -> Result<(SignedTx, Hash32), TxError> {
        decode_hashed_tx(bytes, self.config.mempool.max_tx_bytes)
    }

    fn admit_decoded(&self, tx: SignedTx, hash: Hash32, size: usize) -> Result<Hash32, TxError> {
        if &tx.body.chain_id != self.chain_id() {
            return Err(TxError::WrongChainId {
                expected: self.chain_id().as_str().to_string(),
                got: tx.body.chain_id.as_str().to_string(),
            });
        }
        if !read(&self.chain).accounts.contains(&tx.body.signer) {
            return Err(TxError::UnknownAccount);
        }
        if lock(&self.mempool).contains(&hash) {
            return Err(TxError::AlreadyKnown);
        }
        // A store that cannot answer is no proof that the transaction is new.
        match self.store.tx_location(&hash) {
            Ok(Some((h, _))) => return Err(TxError::AlreadyCommitted(h)),
            Ok(None) => {}
            Err(e) => return Err(TxError::StoreUnavailable(e.to_string())),
        }
        if !lock(&self.sig_cache).contains(&hash) {
            verify_signature(&tx)?;
            lock(&self.sig_cache).insert(hash);
        }
        tx.body
            .kind
            .validate()
            .map_err(|e| TxError::InvalidContent(e.to_string()))?;
        let chain = read(&self.chain);
        if !matches!(tx.body.kind, junction_spec::TxKind::Remark { .. }) {
            // Governance actions are checked against the council now, so that a refused one
            // is answered with its rule's name instead of failing later in a block.
            let council = junction_hub_app::load_council(|k| chain.state.get(k)).map_err(|e| {
                TxError::Governance {
                    name: "no_council",
                    message: e,
                }
            })?;
            let now = now_ms().max(chain.tip.time_ms + 1);
            let ctx = junction_hub_app::AdmissionContext::new(
                chain.state.as_ref(),
                Some(council),
                &chain.packets,
                now,
            )
            .with_proof_memo(&self.proof_verdicts)
            .with_tx_hash(hash)
            .with_hub_chain(self.chain_id().clone());
            junction_hub_app::validate_kind(&ctx, &tx)?;
        }
        let next = chain.state.next_nonce(&tx.body.signer_address());
        let mut pool = lock(&self.mempool);
        pool.insert(tx, hash, size, next)?;
        self.metrics.mempool_txs.set(pool.len() as i64);
        self.metrics.mempool_bytes.set(pool.bytes() as i64);
        Ok(hash)
    }

    /// Fully validates a block against the current tip: every signature (once per node),
    /// header rules and execution.
    pub fn validate_block(&self, block: &Block, now_ms: Option<u64>) -> Result<(), BlockError> {
        self.validate_hashed_block(block, &TxHashes::of(&block.txs), now_ms)
    }

    /// [`Shared::validate_block`] with the block's transaction hashes already computed.
    pub fn validate_hashed_block(
        &self,
        block: &Block,
        hashes: &TxHashes,
        now_ms: Option<u64>,
    ) -> Result<(), BlockError> {
        if let Err(index) = verify_signatures_cached(&self.sig_cache, &block.txs, hashes.as_slice())
        {
            return Err(BlockError::BadTx {
                index,
                error: TxError::BadSignature,
            });
        }
        let chain = read(&self.chain);
        let executed = self.execute_measured(&chain, block, hashes, now_ms)?;
        if let Some(damage) = chain.state.damage() {
            return Err(BlockError::Malformed(format!(
                "the store under this node is damaged: {damage}"
            )));
        }
        self.count_execution("validate");
        // Read from the committed tree at this tip; the commit uses the result only on the
        // same tip, so no commit ran in between.
        let store = self.store.clone();
        let wall = self.metrics.state_tree_update_seconds.clone();
        let cpu = self.metrics.state_tree_update_cpu_seconds.clone();
        let height = block.header.height;
        let writes = executed.writes.clone();
        let state_tree = std::thread::Builder::new()
            .name("state-tree-update".into())
            .spawn(move || timed_tree_update(store.as_ref(), (&wall, &cpu), height, &writes))
            .ok();
        *lock(&self.validated) = Some(ValidatedBlock {
            block_hash: block.hash(),
            parent_hash: chain.tip.block_hash,
            executed,
            state_tree,
        });
        Ok(())
    }

    fn count_execution(&self, phase: &str) {
        self.metrics
            .block_executions
            .get_or_create(&crate::metrics::ReasonLabel {
                reason: phase.to_owned(),
            })
            .inc();
    }

    /// The execution of `block` on top of `tip`: the one validation produced when it was of
    /// this very block on this very tip, else a fresh one. The header hash alone does not
    /// name the transactions (a synced copy could carry others under the same header), so
    /// the cached execution is reused only for the very same transaction hashes.
    fn execution_for_commit(
        &self,
        chain: &ChainView,
        block: &Block,
        hashes: &TxHashes,
    ) -> Result<(Executed, Option<TreeUpdate>), BlockError> {
        let block_hash = block.hash();
        let cached = lock(&self.validated).take();
        if let Some(v) = cached {
            if v.block_hash == block_hash
                && v.parent_hash == chain.tip.block_hash
                && v.executed.tx_hashes == hashes.as_slice()
            {
                self.count_execution("commit_reused");
                // A computation that failed or did not finish is made again, in line,
                // where its error (if any) stops the commit by name.
                let tree = v
                    .state_tree
                    .and_then(|t| t.join().ok())
                    .and_then(Result::ok);
                return Ok((v.executed, tree));
            }
        }
        self.count_execution("commit");
        self.execute_measured(chain, block, hashes, None)
            .map(|e| (e, None))
    }

    /// Executes `block` on `chain`'s tip with the node's proof memo, observing the wall and
    /// CPU time it took.
    fn execute_measured(
        &self,
        chain: &ChainView,
        block: &Block,
        hashes: &TxHashes,
        now_ms: Option<u64>,
    ) -> Result<Executed, BlockError> {
        let started = Stopwatch::start();
        let executed = execute_block_with_memo(
            &self.rules,
            &chain.tip,
            chain.state.as_ref(),
            &chain.packets,
            (block, hashes),
            now_ms,
            Some(&self.proof_verdicts.for_blocks()),
        );
        started.observe(
            &self.metrics.block_execution_seconds,
            &self.metrics.block_execution_cpu_seconds,
        );
        executed
    }

    /// Executes and durably commits the next block with its certificate, then updates the
    /// in-memory view, the mempool, metrics and subscribers. Committing a height that is
    /// already committed is a no-op.
    ///
    /// `hashes`: the block's transaction hashes, if the caller has them (made from this
    /// block's transactions or the bytes it was decoded from); `kept`: the store holds this
    /// block already (a proposal this node kept), so the commit names it by hash.
    pub fn commit(
        &self,
        block: &Block,
        hashes: Option<&TxHashes>,
        kept: bool,
        certificate: Vec<u8>,
    ) -> Result<(), CommitError> {
        let computed;
        let hashes = match hashes {
            Some(h) => h,
            None => {
                computed = TxHashes::of(&block.txs);
                &computed
            }
        };
        if let Err(index) = verify_signatures_cached(&self.sig_cache, &block.txs, hashes.as_slice())
        {
            return Err(CommitError::Execution(BlockError::BadTx {
                index,
                error: TxError::BadSignature,
            }));
        }
        let new_block;
        {
            let mut chain = write(&self.chain);
            let height = block.header.height;
            if height <= chain.tip.height {
                return Ok(());
            }
            if height != chain.tip.height + 1 {
                return Err(CommitError::Gap {
                    expected: chain.tip.height + 1,
                    got: height,
                });
            }
            let (executed, state_tree) = self.execution_for_commit(&chain, block, hashes)?;
            if let Some(damage) = chain.state.damage() {
                return Err(CommitError::Store(StoreError::Corrupt(damage)));
            }
            let commit_started = std::time::Instant::now();
            let (log_size, log_root) = match &executed.packets {
                Some(p) => (p.log().size(), p.log().root()),
                None => (chain.tip.log_size, chain.tip.log_root),
            };
            let (log_entries, log_tree) = match &executed.packets {
                Some(p) => log_rows(chain.packets.log().frontier(), p.log()),
                None => (Vec::new(), Vec::new()),
            };
            let mut packet_status = Vec::new();
            let mut settled = Vec::new();
            for (k, r) in executed.packets.iter().flat_map(|p| p.records()) {
                let old = chain.packets.record(k);
                if r.outcome.is_some() && old.as_ref().is_none_or(|o| o.outcome.is_none()) {
                    settled.push((*k, r.log_indices().collect()));
                }
                packet_status.push((old.map(|o| status_row(&o, k)), status_row(r, k)));
            }
            let packet_steps = packet_steps(height, &executed.events)?;
            let council_changed = executed
                .writes
                .iter()
                .any(|(k, _)| k.as_slice() == junction_hub_app::COUNCIL_KEY);
            let events =
                serde_json::to_vec(&executed.events).map_err(|e| CommitError::EventsEncoding {
                    height,
                    reason: e.to_string(),
                })?;
            // The app hash is the tree's root after the block's writes: O(writes × log n),
            // whatever the size of the state.
            let state_tree = match state_tree {
                Some(t) if t.version == height => {
                    Metrics::count(&self.metrics.state_tree_updates, "prepared");
                    t
                }
                _ => {
                    Metrics::count(&self.metrics.state_tree_updates, "in_commit");
                    timed_tree_update(
                        self.store.as_ref(),
                        (
                            &self.metrics.state_tree_update_seconds,
                            &self.metrics.state_tree_update_cpu_seconds,
                        ),
                        height,
                        &executed.writes,
                    )?
                }
            };
            let block_hash = block.hash();
            let tip = Tip {
                height,
                block_hash,
                time_ms: block.header.time_ms,
                app_hash: state_tree.root,
                log_size,
                log_root,
                total_txs: chain.tip.total_txs + block.txs.len() as u64,
            };
            let commit = BlockCommit {
                height,
                block_hash,
                block: (!kept).then(|| block.encode()),
                certificate,
                events,
                tx_hashes: executed.tx_hashes,
                tip: tip.encode(),
                log_entries,
                log_tree,
                packet_status,
                settled,
                packet_steps,
                state_tree,
            };
            self.store.commit_block(&commit)?;
            new_block = Arc::new(NewBlock {
                height,
                hash: hex::encode(block_hash),
                time_ms: tip.time_ms,
                num_txs: block.txs.len(),
                app_hash: hex::encode(tip.app_hash),
                tx_hashes: commit.tx_hashes,
            });
            self.metrics.height.set(height as i64);
            self.metrics.last_block_time_ms.set(tip.time_ms as i64);
            self.metrics.committed_txs.set(tip.total_txs as i64);
            self.metrics.log_size.set(tip.log_size as i64);
            for e in &executed.events {
                self.metrics.count_event(e);
            }
            chain.tip = tip;
            chain.tip_txs = block.txs.len();
            drop(executed.packets);
            // The block is durable; the view moves to it, reading the store afresh.
            chain.state = self.store.snapshot()?;
            chain.packets = packets_over(&chain.state).map_err(StoreError::Corrupt)?;
            if council_changed {
                chain.accounts = known_accounts(chain.state.as_ref());
            }
            // Under the chain's write lock: a reader that sees the new tip finds the block.
            self.recent_blocks
                .push(block.header.clone(), new_block.clone());
            self.metrics
                .block_commit_seconds
                .observe(commit_started.elapsed().as_secs_f64());
        }
        {
            let chain = read(&self.chain);
            let mut pool = lock(&self.mempool);
            pool.remove_committed(
                &new_block.tx_hashes,
                |a| chain.state.next_nonce(a),
                |k| chain.accounts.contains(k),
            );
            self.metrics.mempool_txs.set(pool.len() as i64);
            self.metrics.mempool_bytes.set(pool.bytes() as i64);
        }
        let _ = self.blocks.send(new_block);
        Ok(())
    }

    /// Events of a committed block.
    pub fn events(&self, height: u64) -> Result<Option<Vec<Event>>, StoreError> {
        match self.store.events(height)? {
            None => Ok(None),
            Some(b) => serde_json::from_slice(&b)
                .map(Some)
                .map_err(|e| StoreError::Corrupt(format!("events at {height}: {e}"))),
        }
    }

    /// A committed block's header and transaction hashes, without decoding its
    /// transactions.
    pub fn block_summary(
        &self,
        height: u64,
    ) -> Result<Option<(junction_spec::BlockHeader, Vec<Hash32>)>, StoreError> {
        if let Some(summary) = self
            .recent_blocks
            .find(height, |h, b| (h.clone(), b.tx_hashes.clone()))
        {
            return Ok(Some(summary));
        }
        self.read_block(height, Block::encoded_summary)
    }

    /// A committed block's header.
    pub fn block_header(
        &self,
        height: u64,
    ) -> Result<Option<junction_spec::BlockHeader>, StoreError> {
        if let Some(header) = self.recent_blocks.find(height, |h, _| h.clone()) {
            return Ok(Some(header));
        }
        self.read_block(height, Block::decode_header)
    }

    /// One transaction of a committed block, decoding only that one.
    pub fn block_tx(
        &self,
        height: u64,
        index: usize,
    ) -> Result<Option<junction_spec::SignedTx>, StoreError> {
        use junction_spec::Decode as _;
        let tx = self.read_block(height, |b| {
            let (_, txs) = Block::split(b)?;
            txs.get(index)
                .map(|tx| junction_spec::SignedTx::from_bytes(tx))
                .transpose()
        })?;
        Ok(tx.flatten())
    }

    /// A committed block.
    pub fn block(&self, height: u64) -> Result<Option<Block>, StoreError> {
        self.read_block(height, Block::decode)
    }

    /// What `read` makes of the stored block at `height`; bytes it refuses are damage.
    fn read_block<T>(
        &self,
        height: u64,
        read: impl FnOnce(&[u8]) -> Result<T, junction_spec::DecodeError>,
    ) -> Result<Option<T>, StoreError> {
        self.store
            .block(height)?
            .map(|b| read(&b).map_err(|e| StoreError::Corrupt(format!("block {height}: {e}"))))
            .transpose()
    }
}

/// A block's state-tree update, timed in `state_tree_update_seconds` (wall) and
/// `state_tree_update_cpu_seconds` (the thread's CPU): the update runs beside the votes,
/// where the wall time also counts the other threads it waits behind.
fn timed_tree_update(
    store: &dyn Store,
    (wall, cpu): (&Histogram, &Histogram),
    height: u64,
    writes: &[(Vec<u8>, Option<Vec<u8>>)],
) -> Result<TreeUpdate, StoreError> {
    let started = Stopwatch::start();
    let update = store.state_tree_update(height, writes);
    started.observe(wall, cpu);
    update
}

/// The log rows a block's appended entries make: (index, encoding) per entry and the
/// subtree roots they complete, from the log's frontier before the block.
fn log_rows(
    before: &junction_spec::MerkleFrontier,
    log: &junction_packets::MessageLog,
) -> (Vec<(u64, Vec<u8>)>, Vec<crate::store::LogTreeRow>) {
    let mut frontier = before.clone();
    let mut tree = Vec::new();
    let entries = log
        .entries()
        .zip(log.base_size()..)
        .map(|(e, i)| {
            let leaf = e.leaf_hash();
            tree.extend(junction_spec::merkle_store::appended_subtrees(
                &frontier, leaf,
            ));
            frontier.append(leaf);
            (i, e.to_bytes())
        })
        .collect();
    (entries, tree)
}

pub use crate::snapshot::packets_over;

/// The accounts the council in `state` knows (none without a council).
pub fn known_accounts(
    state: &dyn junction_hub_app::StateReader,
) -> std::collections::BTreeSet<[u8; 32]> {
    junction_hub_app::load_council(|k| state.get(k))
        .map(|c| c.known_accounts().into_iter().collect())
        .unwrap_or_default()
}

/// The state before block 1: the genesis council.
pub fn genesis_state(genesis: &Genesis) -> Result<AppState, String> {
    Ok(junction_hub_app::genesis_state(&genesis.council()?))
}

/// The tip before block 1 and the state it commits to.
pub fn genesis_tip(genesis: &Genesis) -> Result<(Tip, AppState), String> {
    let state = genesis_state(genesis)?;
    let tip = Tip {
        height: 0,
        block_hash: genesis.hash()?,
        time_ms: genesis.genesis_time_ms,
        app_hash: state.root(),
        log_size: 0,
        log_root: junction_spec::merkle::empty_root(),
        total_txs: 0,
    };
    Ok((tip, state))
}

/// Checks a stored chain from genesis: every block links to its parent, carries the app
/// hash of the state before it, and the final state recomputes to the stored tip's app hash.
/// Returns the height checked.
pub fn audit_chain(
    store: &dyn Store,
    genesis: &Genesis,
    rules: &ChainRules,
) -> Result<u64, String> {
    let (mut tip, state) = genesis_tip(genesis)?;
    let mut tree = junction_state_tree::MemoryTree::default();
    tree.apply(0, &state.as_writes())
        .map_err(|e| e.to_string())?;
    let mut state = Arc::new(state);
    let stored_tip = match store.tip().map_err(|e| e.to_string())? {
        None => return Ok(0),
        Some(b) => Tip::decode(&b).map_err(|e| format!("tip row: {e}"))?,
    };
    for h in 1..=stored_tip.height {
        let bytes = store
            .block(h)
            .map_err(|e| e.to_string())?
            .ok_or(format!("block {h} missing"))?;
        let block = Block::decode(&bytes).map_err(|e| format!("block {h}: {e}"))?;
        if store.certificate(h).map_err(|e| e.to_string())?.is_none() {
            return Err(format!("certificate {h} missing"));
        }
        let reader: Arc<dyn junction_hub_app::StateReader> = state.clone();
        let packets = junction_hub_app::relay::packet_state_over(reader)?;
        let ex = execute_block(rules, &tip, state.as_ref(), &packets, &block, None)
            .map_err(|e| format!("block {h}: {e}"))?;
        let log = ex.packets.as_ref().unwrap_or(&packets).log();
        let (log_size, log_root) = (log.size(), log.root());
        drop(packets);
        for (i, th) in ex.tx_hashes.iter().enumerate() {
            if store.tx_location(th).map_err(|e| e.to_string())? != Some((h, i as u32)) {
                return Err(format!("tx index wrong for block {h} tx {i}"));
            }
        }
        drop(ex.packets);
        // The packet states held the only other reference: the state changes in place.
        Arc::make_mut(&mut state).apply(&ex.writes);
        let app_hash = tree.apply(h, &ex.writes).map_err(|e| e.to_string())?;
        tip = Tip {
            height: h,
            block_hash: block.hash(),
            time_ms: block.header.time_ms,
            app_hash,
            log_size,
            log_root,
            total_txs: tip.total_txs + block.txs.len() as u64,
        };
    }
    if tip != stored_tip {
        return Err(format!(
            "recomputed tip differs from stored tip at height {}",
            stored_tip.height
        ));
    }
    // The store reads each key's value from the tree's rows: every one the replay holds
    // must read back the same (and the tree's root, below, covers the rest).
    let stored = store.snapshot().map_err(|e| e.to_string())?;
    for (k, v) in state.entries() {
        if stored.get(k).as_ref() != Some(v) {
            return Err(format!(
                "stored state differs from the replay at key {}",
                hex::encode(k)
            ));
        }
    }
    if store.state_root(tip.height).map_err(|e| e.to_string())? != Some(tip.app_hash) {
        return Err("the stored state tree's root is not the tip's app hash".into());
    }
    Ok(tip.height)
}

/// Encodes a transaction for RPC (hex of the canonical bytes).
pub fn tx_hex(tx: &junction_spec::SignedTx) -> String {
    hex::encode(tx.to_bytes())
}

/// The hub-side lifecycle steps of a block's packet events: (log index of the entry the
/// step wrote, JSON step).
fn packet_steps(height: u64, events: &[Event]) -> Result<Vec<(u64, Vec<u8>)>, CommitError> {
    let mut out = Vec::new();
    for e in events {
        let Some(action) = e.kind.strip_prefix("packet/") else {
            continue;
        };
        let attr = |name: &str| {
            e.attributes
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        // Every packet event names the entry it logged; one without is not a step.
        let Ok(log_index) = attr("log_index").parse::<u64>() else {
            continue;
        };
        let step = junction_rpc::PacketStep {
            height,
            action: action.to_string(),
            log_index,
            reason: attr("reason"),
            tx: e.tx.clone(),
        };
        let json = serde_json::to_vec(&step).map_err(|e| CommitError::EventsEncoding {
            height,
            reason: e.to_string(),
        })?;
        out.push((log_index, json));
    }
    Ok(out)
}

/// Milliseconds since the Unix epoch from the system clock (the node's only clock read).
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
