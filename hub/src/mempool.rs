//! Pending transactions, capped in count and bytes, and the per-node cache of signature
//! verdicts so that each transaction's signature is checked once per node: at admission,
//! or when a block brings a transaction this node never saw.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::Mutex;

use ed25519_consensus::{batch, Signature, VerificationKey, VerificationKeyBytes};
use junction_spec::{Address, Decode, Hash32, SignedTx};

use crate::sync::lock;
use junction_hub_app::{TxError, MAX_NONCE_AHEAD};

/// Size limits of the mempool.
#[derive(Debug, Clone, Copy)]
pub struct MempoolLimits {
    /// Most pending transactions.
    pub max_txs: usize,
    /// Most pending bytes.
    pub max_bytes: usize,
    /// Largest single transaction.
    pub max_tx_bytes: usize,
    /// Most pending transactions of one account.
    pub max_account_txs: usize,
    /// Most pending bytes of one account.
    pub max_account_bytes: usize,
}

#[derive(Debug, Clone)]
struct Pending {
    tx: SignedTx,
    size: usize,
    sender: Address,
}

/// Remembers which hashes passed a check (a transaction's signature, a light-client
/// proof), bounded (oldest forgotten first).
#[derive(Debug, Default)]
pub struct VerdictCache {
    known: HashSet<Hash32>,
    order: VecDeque<Hash32>,
    cap: usize,
}

impl VerdictCache {
    /// A cache of at most `cap` verdicts.
    pub fn new(cap: usize) -> Self {
        Self {
            known: HashSet::new(),
            order: VecDeque::new(),
            cap,
        }
    }

    /// Whether the check under `hash` already passed here.
    pub fn contains(&self, hash: &Hash32) -> bool {
        self.known.contains(hash)
    }

    /// Records a passed check.
    pub fn insert(&mut self, hash: Hash32) {
        if self.known.insert(hash) {
            self.order.push_back(hash);
            while self.order.len() > self.cap {
                if let Some(old) = self.order.pop_front() {
                    self.known.remove(&old);
                }
            }
        }
    }

    /// Whether the check under `hash` passed here, forgetting it: for a verdict whose one
    /// later use this is.
    pub fn take(&mut self, hash: &Hash32) -> bool {
        let known = self.known.remove(hash);
        // The order still names taken verdicts; once they are most of it, it keeps only
        // the verdicts still known, so that it too holds what is pending, not history.
        if known && self.order.len() > 2 * self.known.len() + 1024 {
            let known = &self.known;
            self.order.retain(|h| known.contains(h));
        }
        known
    }
}

/// The node's memo of passed light-client proof checks (admission fills it, the block
/// carrying the transaction finds them).
#[derive(Debug)]
pub struct ProofVerdicts(pub Mutex<VerdictCache>);

impl junction_hub_app::relay::ProofMemo for ProofVerdicts {
    fn passed(&self, key: &Hash32) -> bool {
        lock(&self.0).contains(key)
    }
    fn remember(&self, key: Hash32) {
        lock(&self.0).insert(key);
    }
}

impl ProofVerdicts {
    /// The memo as a block's execution uses it: a block runs the packet proofs its
    /// transactions carried at admission once more, and that is the verdict's last use, so
    /// a verdict found is forgotten, and a proof checked afresh is not remembered. The memo
    /// then holds the proofs of transactions still waiting for a block, not one verdict
    /// per packet the node ever saw. A block executed again (another round, a commit that
    /// could not reuse its validation) checks its proofs again.
    pub fn for_blocks(&self) -> BlockProofVerdicts<'_> {
        BlockProofVerdicts(self)
    }
}

/// [`ProofVerdicts::for_blocks`].
#[derive(Debug)]
pub struct BlockProofVerdicts<'a>(&'a ProofVerdicts);

impl junction_hub_app::relay::ProofMemo for BlockProofVerdicts<'_> {
    fn passed(&self, key: &Hash32) -> bool {
        lock(&self.0 .0).take(key)
    }
    fn remember(&self, _key: Hash32) {}
}

/// Verifies one transaction's ed25519 signature (ZIP-215 rules, as validators must agree).
pub fn verify_signature(tx: &SignedTx) -> Result<(), TxError> {
    let key = VerificationKey::try_from(tx.body.signer).map_err(|_| TxError::BadSignature)?;
    key.verify(&Signature::from(tx.signature), &tx.body.sign_bytes())
        .map_err(|_| TxError::BadSignature)
}

/// Verdicts for many signatures: one batch verification (about twice as fast per signature
/// as one-by-one), and only if the batch fails, each signature on its own.
pub fn batch_verdicts(txs: &[&SignedTx]) -> Vec<bool> {
    let msgs: Vec<Hash32> = txs.iter().map(|t| t.body.sign_bytes()).collect();
    let mut batch = batch::Verifier::new();
    for (tx, msg) in txs.iter().zip(&msgs) {
        batch.queue((
            VerificationKeyBytes::from(tx.body.signer),
            Signature::from(tx.signature),
            msg,
        ));
    }
    if batch.verify(rand::thread_rng()).is_ok() {
        return vec![true; txs.len()];
    }
    txs.iter().map(|t| verify_signature(t).is_ok()).collect()
}

/// Verifies, as one batch, the signatures of `txs` that `cache` has no verdict for, and
/// caches the good ones. The cache lock is not held while verifying, so admission goes on.
/// Returns the index of the first transaction with a bad signature.
pub fn verify_signatures_cached<T: std::borrow::Borrow<SignedTx>>(
    cache: &Mutex<VerdictCache>,
    txs: &[T],
    hashes: &[Hash32],
) -> Result<(), usize> {
    let fresh: Vec<usize> = {
        let c = lock(cache);
        (0..txs.len().min(hashes.len()))
            .filter(|&i| !c.contains(&hashes[i]))
            .collect()
    };
    if fresh.is_empty() {
        return Ok(());
    }
    let refs: Vec<&SignedTx> = fresh.iter().map(|&i| txs[i].borrow()).collect();
    let verdicts = batch_verdicts(&refs);
    let mut c = lock(cache);
    let mut first_bad = None;
    for (&i, ok) in fresh.iter().zip(verdicts) {
        if ok {
            c.insert(hashes[i]);
        } else if first_bad.is_none() {
            first_bad = Some(i);
        }
    }
    first_bad.map_or(Ok(()), Err)
}

/// Decodes transaction bytes, checking the size cap first.
pub fn decode_tx(bytes: &[u8], max_tx_bytes: usize) -> Result<SignedTx, TxError> {
    within_cap(bytes, max_tx_bytes)?;
    SignedTx::from_bytes(bytes).map_err(|e| TxError::Malformed(e.to_string()))
}

/// [`decode_tx`] with the transaction's id, hashed from `bytes` (see
/// [`SignedTx::decode_hashed`]).
pub fn decode_hashed_tx(bytes: &[u8], max_tx_bytes: usize) -> Result<(SignedTx, Hash32), TxError> {
    within_cap(bytes, max_tx_bytes)?;
    SignedTx::decode_hashed(bytes).map_err(|e| TxError::Malformed(e.to_string()))
}

fn within_cap(bytes: &[u8], max_tx_bytes: usize) -> Result<(), TxError> {
    if bytes.len() > max_tx_bytes {
        return Err(TxError::TooLarge {
            len: bytes.len(),
            max: max_tx_bytes,
        });
    }
    Ok(())
}

/// The pending transactions, by hash and by (sender, nonce).
#[derive(Debug)]
pub struct Mempool {
    limits: MempoolLimits,
    by_hash: HashMap<Hash32, Pending>,
    by_sender: BTreeMap<Address, BTreeMap<u64, Hash32>>,
    /// Pending bytes per sender (for its quota).
    sender_bytes: HashMap<Address, usize>,
    bytes: usize,
}

impl Mempool {
    /// An empty mempool.
    pub fn new(limits: MempoolLimits) -> Self {
        Self {
            limits,
            by_hash: HashMap::new(),
            by_sender: BTreeMap::new(),
            sender_bytes: HashMap::new(),
            bytes: 0,
        }
    }

    /// Pending count.
    pub fn len(&self) -> usize {
        self.by_hash.len()
    }

    /// Whether nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.by_hash.is_empty()
    }

    /// Pending bytes.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Whether `hash` is pending.
    pub fn contains(&self, hash: &Hash32) -> bool {
        self.by_hash.contains_key(hash)
    }

    /// Admits a transaction whose signature and chain id were checked. `next_nonce` is the
    /// sender's next nonce in committed state.
    pub fn insert(
        &mut self,
        tx: SignedTx,
        hash: Hash32,
        size: usize,
        next_nonce: u64,
    ) -> Result<(), TxError> {
        if self.by_hash.contains_key(&hash) {
            return Err(TxError::AlreadyKnown);
        }
        let nonce = tx.body.nonce;
        if nonce < next_nonce {
            return Err(TxError::StaleNonce {
                expected: next_nonce,
                got: nonce,
            });
        }
        if nonce > next_nonce.saturating_add(MAX_NONCE_AHEAD) {
            return Err(TxError::NonceTooFarAhead {
                expected: next_nonce,
                got: nonce,
            });
        }
        let sender = tx.body.signer_address();
        if self
            .by_sender
            .get(&sender)
            .is_some_and(|m| m.contains_key(&nonce))
        {
            return Err(TxError::NonceAlreadyPending(nonce));
        }
        // One account cannot fill the pool and crowd the others out.
        let own_txs = self.by_sender.get(&sender).map_or(0, BTreeMap::len);
        let own_bytes = self.sender_bytes.get(&sender).copied().unwrap_or(0);
        if own_txs >= self.limits.max_account_txs
            || own_bytes.saturating_add(size) > self.limits.max_account_bytes
        {
            return Err(TxError::AccountQuota {
                txs: own_txs,
                bytes: own_bytes,
            });
        }
        if self.by_hash.len() >= self.limits.max_txs
            || self.bytes.saturating_add(size) > self.limits.max_bytes
        {
            return Err(TxError::MempoolFull {
                txs: self.by_hash.len(),
                bytes: self.bytes,
            });
        }
        self.by_sender
            .entry(sender)
            .or_default()
            .insert(nonce, hash);
        *self.sender_bytes.entry(sender).or_default() += size;
        self.bytes += size;
        self.by_hash.insert(hash, Pending { tx, size, sender });
        Ok(())
    }

    /// Picks transactions for a block: for each sender, consecutive nonces from its next
    /// committed nonce, senders taken in turn, within the count and byte limits.
    pub fn reap(
        &self,
        max_txs: usize,
        max_bytes: usize,
        next_nonce: impl Fn(&Address) -> u64,
    ) -> Vec<SignedTx> {
        let mut cursors: Vec<(u64, &BTreeMap<u64, Hash32>)> = self
            .by_sender
            .iter()
            .map(|(a, m)| (next_nonce(a), m))
            .collect();
        let mut out = Vec::new();
        let mut bytes = 0usize;
        loop {
            let mut progressed = false;
            for (expected, nonces) in cursors.iter_mut() {
                if out.len() >= max_txs {
                    return out;
                }
                let Some(p) = nonces.get(expected).and_then(|h| self.by_hash.get(h)) else {
                    continue;
                };
                if bytes + p.size > max_bytes {
                    return out;
                }
                bytes += p.size;
                out.push(p.tx.clone());
                *expected += 1;
                progressed = true;
            }
            if !progressed {
                return out;
            }
        }
    }

    fn forget(&mut self, hash: &Hash32) {
        if let Some(p) = self.by_hash.remove(hash) {
            self.bytes -= p.size;
            if let Some(m) = self.by_sender.get_mut(&p.sender) {
                m.remove(&p.tx.body.nonce);
                if m.is_empty() {
                    self.by_sender.remove(&p.sender);
                }
            }
            if let Some(b) = self.sender_bytes.get_mut(&p.sender) {
                *b = b.saturating_sub(p.size);
                if *b == 0 {
                    self.sender_bytes.remove(&p.sender);
                }
            }
        }
    }

    /// Drops committed transactions, every pending one whose nonce is now used, and those
    /// of signers the council no longer knows (`known` is false for them).
    pub fn remove_committed(
        &mut self,
        committed: &[Hash32],
        next_nonce: impl Fn(&Address) -> u64,
        known: impl Fn(&[u8; 32]) -> bool,
    ) {
        for h in committed {
            self.forget(h);
        }
        // Transactions from the same senders committed by other nodes' blocks may have
        // made pending nonces stale.
        let mut drop: Vec<Hash32> = Vec::new();
        for (sender, m) in &self.by_sender {
            let next = next_nonce(sender);
            drop.extend(m.range(..next).map(|(_, h)| *h));
            let unknown = m
                .values()
                .filter_map(|h| self.by_hash.get(h))
                .any(|p| !known(&p.tx.body.signer));
            if unknown {
                drop.extend(m.values().copied());
            }
        }
        for h in drop {
            self.forget(&h);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use junction_hub_app::relay::ProofMemo as _;
    use junction_spec::{ChainId, Encode, TxBody, TxKind};

    #[test]
    fn a_block_uses_a_proof_verdict_once_and_the_memo_holds_only_pending_ones() {
        let verdicts = ProofVerdicts(Mutex::new(VerdictCache::new(100_000)));
        let key = |i: u32| {
            let mut k = [0u8; 32];
            k[..4].copy_from_slice(&i.to_be_bytes());
            k
        };
        // Admission remembers; a second admission-time check finds the verdict.
        verdicts.remember(key(1));
        assert!(verdicts.passed(&key(1)));
        assert!(verdicts.passed(&key(1)));
        // The block finds it once, then it is gone; a block's fresh check is not kept.
        let blocks = verdicts.for_blocks();
        assert!(blocks.passed(&key(1)));
        assert!(!blocks.passed(&key(1)));
        assert!(!verdicts.passed(&key(1)));
        blocks.remember(key(2));
        assert!(!verdicts.passed(&key(2)));
        // Many packets through admission and blocks: only the ones still waiting stay, and
        // the order behind the cap shrinks with them.
        for i in 10..50_010 {
            verdicts.remember(key(i));
            if i >= 20 {
                assert!(blocks.passed(&key(i - 10)));
            }
        }
        let cache = lock(&verdicts.0);
        assert_eq!(cache.known.len(), 10);
        assert!(
            cache.order.len() <= 2 * 10 + 1024 + 1,
            "{}",
            cache.order.len()
        );
        assert!((50_000..50_010).all(|i| cache.contains(&key(i))));
    }

    fn tx(seed: u8, nonce: u64) -> SignedTx {
        let key = ed25519_consensus::SigningKey::from([seed; 32]);
        let body = TxBody {
            chain_id: ChainId::new("hub").unwrap(),
            signer: key.verification_key().to_bytes(),
            nonce,
            kind: TxKind::Remark { data: vec![seed] },
        };
        let signature = key.sign(&body.sign_bytes()).to_bytes();
        SignedTx { body, signature }
    }

    fn limits() -> MempoolLimits {
        MempoolLimits {
            max_txs: 3,
            max_bytes: 10_000,
            max_tx_bytes: 1000,
            max_account_txs: 1_000,
            max_account_bytes: 1 << 20,
        }
    }

    #[test]
    fn caps_duplicates_and_nonces() {
        let mut m = Mempool::new(limits());
        let t0 = tx(1, 0);
        let size = t0.to_bytes().len();
        m.insert(t0.clone(), t0.hash(), size, 0).unwrap();
        assert_eq!(
            m.insert(t0.clone(), t0.hash(), size, 0),
            Err(TxError::AlreadyKnown)
        );
        let mut other = tx(1, 0);
        other.body.kind = TxKind::Remark { data: vec![9] };
        assert_eq!(
            m.insert(other.clone(), other.hash(), size, 0),
            Err(TxError::NonceAlreadyPending(0))
        );
        let stale = tx(2, 0);
        assert!(matches!(
            m.insert(stale.clone(), stale.hash(), size, 1),
            Err(TxError::StaleNonce { .. })
        ));
        let t1 = tx(1, 1);
        let t2 = tx(3, 0);
        m.insert(t1.clone(), t1.hash(), size, 0).unwrap();
        m.insert(t2.clone(), t2.hash(), size, 0).unwrap();
        let t4 = tx(4, 0);
        assert!(matches!(
            m.insert(t4.clone(), t4.hash(), size, 0),
            Err(TxError::MempoolFull { .. })
        ));
        let reaped = m.reap(10, 100_000, |_| 0);
        assert_eq!(reaped.len(), 3);
        m.remove_committed(&[t0.hash()], |_| 1, |_| true);
        assert_eq!(
            m.len(),
            1,
            "sender 1 nonce 1 stays only if still >= next; seed 3 stale"
        );
    }

    /// One account filling the pool crowds out everyone else (error 1010 for all): each
    /// account has a quota of its own, in transactions and bytes.
    #[test]
    fn one_account_cannot_fill_the_pool() {
        let mut m = Mempool::new(MempoolLimits {
            max_txs: 100,
            max_bytes: 100_000,
            max_tx_bytes: 1_000,
            max_account_txs: 3,
            max_account_bytes: 10_000,
        });
        for n in 0..3 {
            let t = tx(1, n);
            let size = t.to_bytes().len();
            m.insert(t.clone(), t.hash(), size, 0).unwrap();
        }
        let t = tx(1, 3);
        let size = t.to_bytes().len();
        let e = m.insert(t.clone(), t.hash(), size, 0).unwrap_err();
        assert_eq!(e.name(), "account_mempool_quota");
        // Another account is not affected.
        let other = tx(2, 0);
        m.insert(other.clone(), other.hash(), size, 0).unwrap();
        // Bytes count too.
        let big = tx(3, 0);
        assert_eq!(
            m.insert(big.clone(), big.hash(), 10_001, 0)
                .unwrap_err()
                .name(),
            "account_mempool_quota"
        );
        // Committing frees the quota; a signer the council no longer knows is dropped.
        m.remove_committed(&[tx(1, 0).hash()], |_| 1, |k| *k != tx(2, 0).body.signer);
        assert_eq!(m.len(), 2);
        m.insert(t.clone(), t.hash(), size, 1).unwrap();
        assert_eq!(m.len(), 3);
    }

    #[test]
    fn batch_verification_finds_the_bad_signature() {
        let cache = Mutex::new(VerdictCache::new(10));
        let good = tx(1, 0);
        let mut bad = tx(2, 0);
        bad.signature[0] ^= 1;
        let txs = vec![good.clone(), bad.clone()];
        let hashes: Vec<_> = txs.iter().map(|t| t.hash()).collect();
        assert_eq!(verify_signatures_cached(&cache, &txs, &hashes), Err(1));
        assert!(
            lock(&cache).contains(&good.hash()),
            "good verdicts are kept"
        );
        assert!(!lock(&cache).contains(&bad.hash()));
        assert_eq!(
            verify_signatures_cached(&cache, &txs[..1], &hashes[..1]),
            Ok(())
        );
    }
}
