//! The Bitcoin light client: a window of proof-of-work headers with most-work fork choice.
//!
//! Headers arrive in batches that extend any stored header (the tip or a fork). Each header
//! must link to its parent, meet its own target, carry exactly the `nBits` the difficulty
//! rules compute from its ancestors, have a timestamp above the median of the previous 11
//! and not more than two hours ahead of `now`. The branch with the most cumulative work is
//! the best chain; ties keep the branch seen first, as Bitcoin Core does.
//!
//! A transaction counts once its block, on the best chain, has `confirmations` blocks on
//! top of it counting itself. If a later batch moves the best chain to a branch that forks
//! off at or below the depth at which transactions counted, some accepted proof may be
//! void: the batch's [`VerifiedBatch::reorg`] says so before it is applied, the client keeps
//! it in [`BitcoinClient::last_deep_reorg`], and with [`ClientConfig::freeze_on_deep_reorg`]
//! (the default) the client freezes so that a council decides what happens next.

use std::collections::BTreeMap;

use alloy_primitives::U256;

use super::header::{decode_header_chain, BlockHeader};
use super::merkle::{MerkleBlock, MerkleBranch};
use super::pow::{check_proof_of_work, next_work_required, DifficultyContext, Params};
use super::tx::txid_checked;
use super::{display_hex, BitcoinError, Hash32};
use crate::{ClientStatus, LightClient, Timestamp};

/// Timestamps the median-time-past rule looks at.
pub const MEDIAN_TIME_SPAN: usize = 11;
/// How far ahead of `now` a header's timestamp may be (Core's `MAX_FUTURE_BLOCK_TIME`).
pub const MAX_FUTURE_BLOCK_TIME: u64 = 2 * 60 * 60;
/// Hard bound on a header batch.
pub const MAX_BATCH_HEADERS: usize = 2016;

/// How the client is tuned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientConfig {
    /// The network's proof-of-work parameters.
    pub params: Params,
    /// Blocks (counting the block itself) that must be on the best chain before its
    /// transactions count.
    pub confirmations: u64,
    /// Headers kept below the best tip; older ones (and forks off them) are dropped.
    pub window: u64,
    /// Most headers in one batch (at most [`MAX_BATCH_HEADERS`]).
    pub max_batch: usize,
    /// Freeze when the best chain moves to a branch that disconnects a block that had
    /// reached `confirmations`.
    pub freeze_on_deep_reorg: bool,
}

impl ClientConfig {
    /// Mainnet with six confirmations and a window of two retarget periods.
    pub const fn mainnet() -> Self {
        Self {
            params: Params::MAINNET,
            confirmations: 6,
            window: 4032,
            max_batch: MAX_BATCH_HEADERS,
            freeze_on_deep_reorg: true,
        }
    }
}

/// A header the client stores, with what its children need to be judged without lookups.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoredHeader {
    /// The header.
    pub header: BlockHeader,
    /// Its hash.
    pub hash: Hash32,
    /// Its height.
    pub height: u64,
    /// Cumulative work up to and including it.
    pub chainwork: U256,
    /// Timestamp of the first block of its retarget period.
    pub period_first_time: u32,
    /// `nBits` of the nearest ancestor-or-self that is a period start or not a
    /// minimum-difficulty block (only testnet-style rules read it).
    pub last_normal_bits: u32,
    /// Its own and up to ten preceding timestamps, oldest first.
    recent_times: [u32; MEDIAN_TIME_SPAN],
    recent_len: u8,
}

impl StoredHeader {
    /// Rebuilds a stored header from its encoded fields (the hash is recomputed);
    /// `recent_times` must hold 1 to 11 timestamps ending with the header's own.
    pub fn from_parts(
        header: BlockHeader,
        height: u64,
        chainwork: U256,
        period_first_time: u32,
        last_normal_bits: u32,
        recent: &[u32],
    ) -> Result<Self, BitcoinError> {
        let n = recent.len();
        if n == 0 || n > MEDIAN_TIME_SPAN || recent.last() != Some(&header.time) {
            return Err(BitcoinError::InvalidCheckpoint {
                reason: "recent times must hold 1 to 11 timestamps ending with the header's",
            });
        }
        let mut recent_times = [0u32; MEDIAN_TIME_SPAN];
        if let Some(dst) = recent_times.get_mut(..n) {
            dst.copy_from_slice(recent);
        }
        Ok(Self {
            header,
            hash: header.block_hash(),
            height,
            chainwork,
            period_first_time,
            last_normal_bits,
            recent_times,
            recent_len: n as u8,
        })
    }

    /// Its own and up to ten preceding timestamps, oldest first.
    pub fn recent_times(&self) -> &[u32] {
        let len = usize::from(self.recent_len).min(MEDIAN_TIME_SPAN);
        self.recent_times.get(..len).unwrap_or_default()
    }

    /// Median of its own and up to ten preceding timestamps: a child must be later.
    pub fn median_time_past(&self) -> u32 {
        let len = usize::from(self.recent_len).min(MEDIAN_TIME_SPAN);
        let mut times = self.recent_times;
        let window = &mut times[..len];
        window.sort_unstable();
        window.get(len / 2).copied().unwrap_or(0)
    }

    fn difficulty_context(&self) -> DifficultyContext {
        DifficultyContext {
            parent_height: self.height,
            parent_bits: self.header.bits,
            parent_time: self.header.time,
            period_first_time: self.period_first_time,
            last_normal_bits: self.last_normal_bits,
        }
    }

    fn child(&self, header: BlockHeader, hash: Hash32, work: U256, params: &Params) -> Self {
        let height = self.height.saturating_add(1);
        let at_period_start =
            params.retarget_interval != 0 && height.is_multiple_of(params.retarget_interval);
        let mut recent_times = [0u32; MEDIAN_TIME_SPAN];
        let len = usize::from(self.recent_len).min(MEDIAN_TIME_SPAN);
        let keep = len.min(MEDIAN_TIME_SPAN - 1);
        if let (Some(dst), Some(src)) = (
            recent_times.get_mut(..keep),
            self.recent_times.get(len - keep..len),
        ) {
            dst.copy_from_slice(src);
        }
        if let Some(slot) = recent_times.get_mut(keep) {
            *slot = header.time;
        }
        Self {
            header,
            hash,
            height,
            chainwork: self.chainwork.saturating_add(work),
            period_first_time: if at_period_start {
                header.time
            } else {
                self.period_first_time
            },
            last_normal_bits: if at_period_start || header.bits != params.pow_limit_bits {
                header.bits
            } else {
                self.last_normal_bits
            },
            recent_times,
            recent_len: (keep + 1) as u8,
        }
    }
}

/// The trusted starting point.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// Height of the checkpoint header.
    pub height: u64,
    /// The checkpoint header.
    pub header: BlockHeader,
    /// Cumulative work up to it (only differences matter; `getblockheader`'s `chainwork`).
    pub chainwork: U256,
    /// Timestamp of the first block of its retarget period (its own if it starts one).
    pub period_first_time: u32,
    /// Up to 11 timestamps ending with the checkpoint's own, oldest first.
    pub recent_times: Vec<u32>,
    /// For testnet-style rules: `nBits` of the last non-minimum-difficulty block; `None`
    /// takes the header's own.
    pub last_normal_bits: Option<u32>,
}

/// A batch of consecutive headers extending a stored header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeaderBatch {
    /// The headers, parent first.
    pub headers: Vec<BlockHeader>,
}

impl HeaderBatch {
    /// Decodes concatenated 80-byte headers that link to each other.
    pub fn decode(bytes: &[u8]) -> Result<Self, BitcoinError> {
        Ok(Self {
            headers: decode_header_chain(bytes, MAX_BATCH_HEADERS)?,
        })
    }
}

/// A change of best chain that disconnects blocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reorg {
    /// Height of the last block both branches share.
    pub fork_height: u64,
    /// The best tip before.
    pub old_tip: Hash32,
    /// Its height.
    pub old_height: u64,
    /// The best tip after.
    pub new_tip: Hash32,
    /// Its height.
    pub new_height: u64,
    /// Blocks taken off the best chain.
    pub disconnected: u64,
    /// Whether a disconnected block had reached the required confirmations (so a proof the
    /// client accepted may be void).
    pub deep: bool,
}

/// A verified batch, ready to apply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedBatch {
    /// The new headers, parent first.
    pub entries: Vec<StoredHeader>,
    /// Whether the batch's last header becomes the best tip.
    pub becomes_best: bool,
    /// The reorg that applying the batch performs, if any.
    pub reorg: Option<Reorg>,
}

/// A transaction inclusion proof.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TxInclusionProof {
    /// A single branch in a block of stated size.
    Branch(MerkleBranch),
    /// A BIP37 `merkleblock` / `gettxoutproof` output.
    MerkleBlock(MerkleBlock),
}

/// A client's fields, as [`BitcoinClient::parts`] lends them.
#[derive(Debug)]
pub struct ClientParts<'a> {
    /// The configuration.
    pub config: &'a ClientConfig,
    /// Every stored header, by increasing hash.
    pub headers: Vec<&'a StoredHeader>,
    /// The best chain, height to hash.
    pub best_chain: &'a BTreeMap<u64, Hash32>,
    /// The best tip's hash.
    pub best_tip: &'a Hash32,
    /// The height it froze at, if frozen.
    pub frozen: Option<u64>,
    /// The last reorg that disconnected a confirmed block.
    pub last_deep_reorg: Option<&'a Reorg>,
}

/// A Bitcoin SPV client.
#[derive(Clone, Debug)]
pub struct BitcoinClient {
    config: ClientConfig,
    headers: BTreeMap<Hash32, StoredHeader>,
    best_chain: BTreeMap<u64, Hash32>,
    best_tip: StoredHeader,
    frozen: Option<u64>,
    last_deep_reorg: Option<Reorg>,
}

impl BitcoinClient {
    /// Starts from a trusted checkpoint.
    pub fn new(config: ClientConfig, checkpoint: Checkpoint) -> Result<Self, BitcoinError> {
        let invalid = |reason| BitcoinError::InvalidCheckpoint { reason };
        if config.confirmations == 0 {
            return Err(invalid("confirmations must be at least 1"));
        }
        if config.window < config.confirmations {
            return Err(invalid("window must cover the confirmation depth"));
        }
        if config.max_batch == 0 || config.max_batch > MAX_BATCH_HEADERS {
            return Err(invalid("max_batch out of range"));
        }
        check_proof_of_work(&checkpoint.header, &config.params)?;
        let n = checkpoint.recent_times.len();
        if n == 0 || n > MEDIAN_TIME_SPAN {
            return Err(invalid("recent_times must hold 1 to 11 timestamps"));
        }
        if checkpoint.recent_times.last() != Some(&checkpoint.header.time) {
            return Err(invalid("recent_times must end with the checkpoint's time"));
        }
        let interval = config.params.retarget_interval;
        if interval != 0
            && checkpoint.height.is_multiple_of(interval)
            && checkpoint.period_first_time != checkpoint.header.time
        {
            return Err(invalid("a period's first block starts its own period"));
        }
        let mut recent_times = [0u32; MEDIAN_TIME_SPAN];
        if let Some(dst) = recent_times.get_mut(..n) {
            dst.copy_from_slice(&checkpoint.recent_times);
        }
        let hash = checkpoint.header.block_hash();
        let tip = StoredHeader {
            header: checkpoint.header,
            hash,
            height: checkpoint.height,
            chainwork: checkpoint.chainwork,
            period_first_time: checkpoint.period_first_time,
            last_normal_bits: checkpoint
                .last_normal_bits
                .unwrap_or(checkpoint.header.bits),
            recent_times,
            recent_len: n as u8,
        };
        let mut headers = BTreeMap::new();
        headers.insert(hash, tip);
        let mut best_chain = BTreeMap::new();
        best_chain.insert(checkpoint.height, hash);
        Ok(Self {
            config,
            headers,
            best_chain,
            best_tip: tip,
            frozen: None,
            last_deep_reorg: None,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// The client's fields, for its canonical encoding.
    pub fn parts(&self) -> ClientParts<'_> {
        ClientParts {
            config: &self.config,
            headers: self.headers.values().collect(),
            best_chain: &self.best_chain,
            best_tip: &self.best_tip.hash,
            frozen: self.frozen,
            last_deep_reorg: self.last_deep_reorg.as_ref(),
        }
    }

    /// Rebuilds a client from its fields (a decoded client state), checking that they fit
    /// together: stored headers in increasing hash order, a best chain of stored headers at
    /// their heights in increasing height order ending at the best tip, and a valid
    /// configuration.
    pub fn from_parts(
        config: ClientConfig,
        stored: Vec<StoredHeader>,
        best: Vec<(u64, Hash32)>,
        best_tip: Hash32,
        frozen: Option<u64>,
        last_deep_reorg: Option<Reorg>,
    ) -> Result<Self, BitcoinError> {
        let invalid = |reason| BitcoinError::InvalidCheckpoint { reason };
        if config.confirmations == 0 || config.window < config.confirmations {
            return Err(invalid("confirmations and window out of range"));
        }
        let mut headers = BTreeMap::new();
        for h in stored {
            if headers.keys().next_back().is_some_and(|k| *k >= h.hash) {
                return Err(invalid("stored headers not in increasing hash order"));
            }
            headers.insert(h.hash, h);
        }
        let mut best_chain = BTreeMap::new();
        for (height, hash) in best {
            if best_chain.keys().next_back().is_some_and(|k| *k >= height) {
                return Err(invalid("best chain not in increasing height order"));
            }
            if headers.get(&hash).map(|h| h.height) != Some(height) {
                return Err(invalid(
                    "best chain names a header not stored at its height",
                ));
            }
            best_chain.insert(height, hash);
        }
        if best_chain.values().next_back() != Some(&best_tip) {
            return Err(invalid("the best tip does not end the best chain"));
        }
        let tip = *headers
            .get(&best_tip)
            .ok_or(invalid("the best tip is not stored"))?;
        Ok(Self {
            config,
            headers,
            best_chain,
            best_tip: tip,
            frozen,
            last_deep_reorg,
        })
    }

    /// The best tip.
    pub fn best_tip(&self) -> &StoredHeader {
        &self.best_tip
    }

    /// A stored header by hash (best chain or fork).
    pub fn get(&self, hash: &Hash32) -> Option<&StoredHeader> {
        self.headers.get(hash)
    }

    /// The stored best-chain header at `height`.
    pub fn best_at(&self, height: u64) -> Option<&StoredHeader> {
        self.best_chain
            .get(&height)
            .and_then(|hash| self.headers.get(hash))
    }

    /// Confirmations of a best-chain block (1 = the tip), `None` if not on the best chain.
    pub fn confirmations(&self, hash: &Hash32) -> Option<u64> {
        let entry = self.headers.get(hash)?;
        if self.best_chain.get(&entry.height) != Some(hash) {
            return None;
        }
        Some(
            self.best_tip
                .height
                .saturating_sub(entry.height)
                .saturating_add(1),
        )
    }

    /// Number of stored headers (best chain and forks).
    pub fn stored_len(&self) -> usize {
        self.headers.len()
    }

    /// The most recent reorg that disconnected a confirmed block, if any.
    pub fn last_deep_reorg(&self) -> Option<&Reorg> {
        self.last_deep_reorg.as_ref()
    }

    fn check_active(&self) -> Result<(), BitcoinError> {
        match self.frozen {
            Some(height) => Err(BitcoinError::Frozen { height }),
            None => Ok(()),
        }
    }

    /// Height of the last best-chain ancestor of `entry` (the fork point), walking back
    /// through stored headers; below the window it answers the lowest height reached minus
    /// one, which can only overstate a reorg's depth.
    fn fork_height(&self, entry: &StoredHeader) -> u64 {
        let mut cur = *entry;
        loop {
            if self.best_chain.get(&cur.height) == Some(&cur.hash) {
                return cur.height;
            }
            match self.headers.get(&cur.header.prev_blockhash) {
                Some(parent) => cur = *parent,
                None => return cur.height.saturating_sub(1),
            }
        }
    }

    fn prune(&mut self) {
        let floor = self.best_tip.height.saturating_sub(self.config.window);
        self.headers.retain(|_, e| e.height >= floor);
        self.best_chain.retain(|h, _| *h >= floor);
    }

    /// Judges a batch (the pure part of [`LightClient::verify_header`]).
    pub fn verify_batch(
        &self,
        batch: &HeaderBatch,
        now: Timestamp,
    ) -> Result<VerifiedBatch, BitcoinError> {
        self.check_active()?;
        let first = batch.headers.first().ok_or(BitcoinError::EmptyBatch)?;
        if batch.headers.len() > self.config.max_batch {
            return Err(BitcoinError::LimitExceeded {
                what: "headers in batch",
                max: self.config.max_batch as u64,
                got: batch.headers.len() as u64,
            });
        }
        let params = &self.config.params;
        let mut parent = *self.headers.get(&first.prev_blockhash).ok_or_else(|| {
            BitcoinError::UnknownParent {
                parent: display_hex(&first.prev_blockhash),
            }
        })?;
        let max_time = now.secs().saturating_add(MAX_FUTURE_BLOCK_TIME);
        let mut entries = Vec::with_capacity(batch.headers.len());
        for (position, header) in batch.headers.iter().enumerate() {
            if header.prev_blockhash != parent.hash {
                return Err(BitcoinError::BrokenLink { position });
            }
            let hash = header.block_hash();
            if self.headers.contains_key(&hash) {
                return Err(BitcoinError::DuplicateHeader {
                    hash: display_hex(&hash),
                });
            }
            let work = check_proof_of_work(header, params)?;
            let height = parent.height.saturating_add(1);
            let expected = next_work_required(&parent.difficulty_context(), header.time, params)?;
            if header.bits != expected {
                return Err(BitcoinError::UnexpectedDifficultyBits {
                    height,
                    expected,
                    got: header.bits,
                });
            }
            let median = parent.median_time_past();
            if header.time <= median {
                return Err(BitcoinError::TimeNotAfterMedianTimePast {
                    height,
                    time: header.time,
                    median,
                });
            }
            if u64::from(header.time) > max_time {
                return Err(BitcoinError::TimeTooFarInFuture {
                    time: header.time,
                    now: now.secs(),
                });
            }
            let entry = parent.child(*header, hash, work, params);
            entries.push(entry);
            parent = entry;
        }
        let tip = parent;
        let becomes_best = tip.chainwork > self.best_tip.chainwork;
        let reorg = if becomes_best {
            // The batch's own parent is where the new branch meets stored history.
            let start = entries
                .first()
                .and_then(|e| self.headers.get(&e.header.prev_blockhash))
                .copied()
                .unwrap_or(self.best_tip);
            let fork_height = self.fork_height(&start);
            let disconnected = self.best_tip.height.saturating_sub(fork_height);
            (disconnected > 0).then_some(Reorg {
                fork_height,
                old_tip: self.best_tip.hash,
                old_height: self.best_tip.height,
                new_tip: tip.hash,
                new_height: tip.height,
                disconnected,
                deep: disconnected >= self.config.confirmations,
            })
        } else {
            None
        };
        Ok(VerifiedBatch {
            entries,
            becomes_best,
            reorg,
        })
    }

    /// Records a verified batch (the write part of [`LightClient::apply_header`]).
    pub fn apply_batch(&mut self, verified: VerifiedBatch) {
        if self.frozen.is_some() {
            return;
        }
        let Some(tip) = verified.entries.last().copied() else {
            return;
        };
        for entry in &verified.entries {
            self.headers.insert(entry.hash, *entry);
        }
        if tip.chainwork > self.best_tip.chainwork {
            self.best_chain.retain(|h, _| *h <= tip.height);
            let mut cur = tip;
            loop {
                if self.best_chain.get(&cur.height) == Some(&cur.hash) {
                    break;
                }
                self.best_chain.insert(cur.height, cur.hash);
                match self.headers.get(&cur.header.prev_blockhash) {
                    Some(parent) => cur = *parent,
                    None => break,
                }
            }
            self.best_tip = tip;
        }
        if let Some(reorg) = verified.reorg.filter(|r| r.deep) {
            self.last_deep_reorg = Some(reorg);
            if self.config.freeze_on_deep_reorg {
                self.frozen = Some(reorg.fork_height.saturating_add(1));
            }
        }
        self.prune();
    }

    /// Checks that `raw_tx`, whose txid is `txid`, is in the best-chain block at `height`
    /// with enough confirmations.
    pub fn verify_tx(
        &self,
        height: u64,
        txid: &Hash32,
        raw_tx: &[u8],
        proof: &TxInclusionProof,
    ) -> Result<(), BitcoinError> {
        self.check_active()?;
        let block = self
            .best_at(height)
            .ok_or(BitcoinError::UnknownHeight { height })?;
        let got = self
            .best_tip
            .height
            .saturating_sub(height)
            .saturating_add(1);
        if got < self.config.confirmations {
            return Err(BitcoinError::InsufficientConfirmations {
                got,
                need: self.config.confirmations,
            });
        }
        let computed = txid_checked(raw_tx)?;
        if computed != *txid {
            return Err(BitcoinError::TxidMismatch {
                expected: display_hex(txid),
                computed: display_hex(&computed),
            });
        }
        match proof {
            TxInclusionProof::Branch(branch) => branch.verify(txid, &block.header.merkle_root),
            TxInclusionProof::MerkleBlock(mb) => {
                if mb.header.block_hash() != block.hash {
                    return Err(BitcoinError::NotOnBestChain { height });
                }
                let verified = mb.verify()?;
                if verified.matches.iter().any(|(_, h)| h == txid) {
                    Ok(())
                } else {
                    Err(BitcoinError::TxNotMatched {
                        txid: display_hex(txid),
                    })
                }
            }
        }
    }
}

impl LightClient for BitcoinClient {
    type Header = HeaderBatch;
    type Verified = VerifiedBatch;
    /// The txid, internal byte order.
    type Path = Hash32;
    type Proof = TxInclusionProof;
    /// Proof of work has no signers to catch equivocating; see [`Reorg`].
    type Misbehaviour = ();
    type Error = BitcoinError;

    fn latest_height(&self) -> u64 {
        self.best_tip.height
    }

    fn status(&self, _now: Timestamp) -> ClientStatus {
        match self.frozen {
            Some(height) => ClientStatus::Frozen { height },
            None => ClientStatus::Active,
        }
    }

    fn verify_header(
        &self,
        header: &HeaderBatch,
        now: Timestamp,
    ) -> Result<VerifiedBatch, BitcoinError> {
        self.verify_batch(header, now)
    }

    fn apply_header(&mut self, verified: VerifiedBatch) {
        self.apply_batch(verified);
    }

    /// `value` is the raw transaction: its txid must be `path`, and a 64-byte one is refused.
    fn verify_membership(
        &self,
        height: u64,
        path: &Hash32,
        value: &[u8],
        proof: &TxInclusionProof,
    ) -> Result<(), BitcoinError> {
        self.verify_tx(height, path, value, proof)
    }

    fn verify_non_membership(
        &self,
        _height: u64,
        _path: &Hash32,
        _proof: &TxInclusionProof,
    ) -> Result<(), BitcoinError> {
        Err(BitcoinError::NonMembershipUnsupported)
    }

    fn verify_misbehaviour(&self, _evidence: &(), _now: Timestamp) -> Result<u64, BitcoinError> {
        Err(BitcoinError::MisbehaviourNotApplicable)
    }

    fn freeze(&mut self, height: u64) {
        self.frozen = Some(height);
    }
}
