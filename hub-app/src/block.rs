//! Blocks, the chain tip and the block rules: a block is validated against the tip and the
//! state (header rules, then every transaction in order) and executed into an
//! [`Executed`] result, which the node persists in one store transaction.

use junction_governance::Council;
use junction_packets::PacketState;
use junction_spec::encoding::Put;
use junction_spec::merkle::{leaf_hash, root_from_leaf_hashes};
use junction_spec::{
    validator_set_hash, BlockHeader, ChainId, Checkpoint, Decode, DecodeError, Encode, Hash32,
    Reader, SignedTx,
};

use crate::context::{BlockContext, ValidationContext as _};
use crate::event::gov_event;
use crate::event::Event;
use crate::handle::execute_tx;
use crate::relay::LOG_FRONTIER_KEY;
use crate::state::{AppState, StateReader, StateWriter as _, COUNCIL_KEY};
use crate::tx::{validate_tx, TxError};

/// Largest encoded header a block may carry.
const HEADER_CAP: usize = 4096;

/// Most transactions in one block.
pub const MAX_BLOCK_TXS: usize = 20_000;

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
        junction_spec::Encode::to_bytes(self)
    }

    /// Decodes [`Block::encode`] output; rejects trailing bytes and any over-cap field.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let (header, slices) = Self::split(bytes)?;
        let txs = slices
            .into_iter()
            .map(SignedTx::from_bytes)
            .collect::<Result<_, _>>()?;
        Ok(Self { header, txs })
    }

    /// [`Block::decode`] with its transactions' hashes, each taken from the bytes decoded
    /// ([`SignedTx::decode_hashed`]) instead of encoding megabytes again to hash them.
    pub fn decode_hashed(bytes: &[u8]) -> Result<(Self, TxHashes), DecodeError> {
        let (header, slices) = Self::split(bytes)?;
        let (txs, hashes) = slices
            .into_iter()
            .map(SignedTx::decode_hashed)
            .collect::<Result<(Vec<_>, Vec<_>), _>>()?;
        Ok((Self { header, txs }, TxHashes(hashes)))
    }

    /// The header of [`Block::encode`] output, without decoding its transactions (a block
    /// is megabytes; a checkpoint or a block summary needs only the header).
    pub fn decode_header(bytes: &[u8]) -> Result<BlockHeader, DecodeError> {
        BlockHeader::from_bytes(Reader::new(bytes).read_bytes(HEADER_CAP)?)
    }

    /// The header and each transaction's bytes of [`Block::encode`] output, under the
    /// same caps as [`Block::decode`] but without decoding the transactions.
    pub fn split(bytes: &[u8]) -> Result<(BlockHeader, Vec<&[u8]>), DecodeError> {
        let mut r = Reader::new(bytes);
        let header = BlockHeader::from_bytes(r.read_bytes(HEADER_CAP)?)?;
        let n = r.read_len(MAX_BLOCK_TXS)?;
        let mut txs = Vec::with_capacity(n.min(r.remaining() / 4));
        for _ in 0..n {
            txs.push(r.read_bytes(junction_spec::encoding::MAX_TX_BYTES)?);
        }
        r.finish()?;
        Ok((header, txs))
    }

    /// The header and transaction hashes of a block as [`Block::encode`] wrote it (a
    /// stored block), hashing each transaction's bytes as they stand: `encode` writes each
    /// one's canonical encoding, which is what [`SignedTx::hash`] hashes. Bytes from
    /// anywhere else go through [`Block::decode`].
    pub fn encoded_summary(bytes: &[u8]) -> Result<(BlockHeader, Vec<Hash32>), DecodeError> {
        let (header, txs) = Self::split(bytes)?;
        let hashes = txs.into_iter().map(SignedTx::id_of_encoding).collect();
        Ok((header, hashes))
    }

    /// The block's identity: its header hash.
    pub fn hash(&self) -> Hash32 {
        self.header.hash()
    }
}

/// [`Block::encode`]: each transaction is written once, in place (a block is megabytes;
/// encoding each transaction into a buffer of its own first doubled the copying).
impl junction_spec::Encode for Block {
    fn encode_to(&self, out: &mut Vec<u8>) {
        junction_spec::encoding::encode_nested(&self.header, out);
        out.extend_from_slice(&(self.txs.len() as u32).to_be_bytes());
        for tx in &self.txs {
            junction_spec::encoding::encode_nested(tx, out);
        }
    }
}

/// Merkle root (RFC 6962) over the transaction hashes.
pub fn tx_root(txs: &[SignedTx]) -> Hash32 {
    tx_root_of(&TxHashes::of(txs))
}

/// [`tx_root`] from hashes already computed.
pub fn tx_root_of(hashes: &TxHashes) -> Hash32 {
    let leaves: Vec<Hash32> = hashes.0.iter().map(|h| leaf_hash(h)).collect();
    root_from_leaf_hashes(&leaves)
}

/// The hashes of a block's transactions, in order. Each one encodes and hashes a whole
/// transaction, so a node computes them once per block and hands them to signature
/// checks, the transaction root and execution. Only [`TxHashes::of`] and
/// [`Block::decode_hashed`] make them, so they are always the hashes of the transactions
/// they were made from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxHashes(Vec<Hash32>);

impl TxHashes {
    /// Hashes `txs`.
    pub fn of(txs: &[SignedTx]) -> Self {
        Self(txs.iter().map(SignedTx::hash).collect())
    }

    /// The hashes, in transaction order.
    pub fn as_slice(&self) -> &[Hash32] {
        &self.0
    }
}

/// The checkpoint validators attest for a block (DESIGN §4), naming the attestation set
/// that signs it (its validators') and the one that signs the next block.
pub fn checkpoint_of(
    header: &BlockHeader,
    attestation_set_hash: Hash32,
    next_attestation_set_hash: Hash32,
) -> Checkpoint {
    Checkpoint {
        hub_chain_id: header.chain_id.clone(),
        height: header.height,
        time_ms: header.time_ms,
        log_size: header.log_size,
        log_root: header.log_root,
        attestation_set_hash,
        next_attestation_set_hash,
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
    /// The header's protocol version is not the one this height runs.
    #[error("block version {got}, expected {expected}")]
    WrongVersion {
        /// The version of this height.
        expected: u32,
        /// The header's.
        got: u32,
    },
    /// This height runs a protocol version this build does not know.
    #[error("height {height} runs protocol version {version}; this build supports up to {max}")]
    UnsupportedVersion {
        /// The height.
        height: u64,
        /// Its version.
        version: u32,
        /// The newest this build knows.
        max: u32,
    },
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

/// The state before block 1: the genesis council and nothing else.
pub fn genesis_state(council: &Council) -> AppState {
    AppState::from_entries(vec![(COUNCIL_KEY.to_vec(), council.to_bytes())])
}

/// Chain parameters the block rules need.
#[derive(Debug, Clone)]
pub struct ChainRules {
    /// This hub's chain id.
    pub chain_id: ChainId,
    /// The genesis validators, sorted by key: they sign every height until the first
    /// validator-set change ([`crate::validators`]).
    pub genesis_validators: std::sync::Arc<Vec<junction_spec::HubValidator>>,
    /// How far ahead of local time a block may be.
    pub max_clock_drift_ms: u64,
}

/// Validates a block against the tip and state (header rules, then every transaction in
/// order), and returns its execution result. `now_ms` is the validating node's clock;
/// pass `None` to skip the drift rule (for blocks already decided by the network).
pub fn execute_block(
    rules: &ChainRules,
    tip: &Tip,
    state: &dyn StateReader,
    packets: &PacketState,
    block: &Block,
    now_ms: Option<u64>,
) -> Result<Executed, BlockError> {
    let hashes = TxHashes::of(&block.txs);
    execute_block_with_memo(rules, tip, state, packets, (block, &hashes), now_ms, None)
}

/// Logs the notice of every retirement the council holds unlogged (`spec/upgrades.md`),
/// bound to the retired gateway, and records where. A log with no room leaves the notice
/// for a later block (the gateway meanwhile still takes sends, which the hub routes).
fn log_retirements(
    council: &mut Council,
    new_packets: &mut Option<PacketState>,
    base: &PacketState,
    hub_chain: &ChainId,
) -> Vec<Event> {
    let due: Vec<(ChainId, junction_governance::Retirement)> = council
        .retirements()
        .filter(|(_, r)| r.log_index.is_none())
        .map(|(c, r)| (c.clone(), r.clone()))
        .collect();
    let mut events = Vec::new();
    for (chain, retirement) in due {
        let binding =
            crate::clients::target_binding(council.chain(&chain).map(|c| &c.registration));
        let notice = junction_spec::RetirementNotice {
            hub_chain: hub_chain.clone(),
            proposal_id: retirement.proposal_id,
            chain: chain.clone(),
            successor: retirement.successor.clone(),
        };
        let packets = new_packets.get_or_insert_with(|| base.clone());
        let Ok(index) = packets.log_retirement(&notice, binding) else {
            continue;
        };
        council.set_retirement_logged(&chain, index);
        events.push(Event {
            kind: "packet/gateway_retirement_logged".into(),
            tx: String::new(),
            attributes: vec![
                ("chain".into(), chain.as_str().to_string()),
                ("log_index".into(), index.to_string()),
                ("proposal_id".into(), retirement.proposal_id.to_string()),
                (
                    "successor".into(),
                    retirement
                        .successor
                        .as_ref()
                        .map_or(String::new(), |s| s.as_str().to_string()),
                ),
            ],
        });
    }
    events
}

/// [`execute_block`] with the transactions' hashes already computed (`TxHashes::of` of
/// this block's transactions), skipping the proof checks `memo` holds as passed (the node
/// checked them when it admitted the transactions) and remembering those it makes. The
/// result is the same with or without a memo.
pub fn execute_block_with_memo(
    rules: &ChainRules,
    tip: &Tip,
    state: &dyn StateReader,
    packets: &PacketState,
    (block, hashes): (&Block, &TxHashes),
    now_ms: Option<u64>,
    memo: Option<&dyn crate::relay::ProofMemo>,
) -> Result<Executed, BlockError> {
    if hashes.0.len() != block.txs.len() {
        return Err(BlockError::Malformed(format!(
            "{} transaction hashes for {} transactions",
            hashes.0.len(),
            block.txs.len()
        )));
    }
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
    let schedule = crate::validators::schedule_at(state, &rules.genesis_validators, h.height)
        .map_err(BlockError::Malformed)?;
    if h.validators_hash != validator_set_hash(&schedule.current)
        || h.next_validators_hash != validator_set_hash(&schedule.next)
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
    if h.tx_root != tx_root_of(hashes) {
        return Err(BlockError::WrongTxRoot);
    }
    // The header commits to the log as the previous block left it (like the app hash).
    if h.log_size != tip.log_size || h.log_root != tip.log_root {
        return Err(BlockError::WrongLog);
    }
    let mut events = Vec::with_capacity(block.txs.len());
    // Hub time drives voting periods and timelocks: the council ticks at the block's time
    // before the block's transactions.
    let stored_council = state.get(COUNCIL_KEY);
    let mut council =
        match &stored_council {
            Some(b) => Some(Council::from_bytes(b).map_err(|e| {
                BlockError::Malformed(format!("stored council does not decode: {e}"))
            })?),
            None => None,
        };
    // The version is the council's as the previous block left it: an upgrade scheduled in
    // this very block applies from its height on, never to the block that scheduled it.
    let (version, upgrade) = crate::upgrade::version_at(state, council.as_ref(), h.height)
        .map_err(BlockError::Malformed)?;
    if h.version != version {
        return Err(BlockError::WrongVersion {
            expected: version,
            got: h.version,
        });
    }
    if version > crate::upgrade::MAX_SUPPORTED_VERSION {
        return Err(BlockError::UnsupportedVersion {
            height: h.height,
            version,
            max: crate::upgrade::MAX_SUPPORTED_VERSION,
        });
    }
    let migration = match &upgrade {
        Some(name) => {
            crate::upgrade::migrate(version, h.height, name).map_err(BlockError::Malformed)?
        }
        None => Vec::new(),
    };
    if let Some(c) = council.as_mut() {
        events.extend(
            c.tick_with(h.time_ms, &crate::relay::HubClientCheck)
                .into_iter()
                .map(|e| gov_event(e, None)),
        );
    }
    // The block's transactions run over the migrated state; the migration's writes are
    // the block's too.
    let migrated;
    let state: &dyn StateReader = if migration.is_empty() {
        state
    } else {
        let mut overlay = crate::state::Overlay::new(state);
        for (k, v) in &migration {
            overlay.put(k.clone(), v.clone());
        }
        migrated = overlay;
        &migrated
    };
    let mut ctx = BlockContext::new(state, council, packets, h.time_ms)
        .with_proof_memo(memo)
        .with_hub_chain(rules.chain_id.clone());
    for (index, (tx, hash)) in block.txs.iter().zip(&hashes.0).enumerate() {
        validate_tx(&rules.chain_id, ctx.state(), tx)
            .map_err(|error| BlockError::BadTx { index, error })?;
        events.extend(execute_tx(&mut ctx, tx, hash));
    }
    let BlockContext {
        mut view,
        mut council,
        packets: mut new_packets,
        ..
    } = ctx;
    // A gateway retired in this block (by a vote or at its timelock's end) gets its notice
    // at the end of the block, after every packet the block logged.
    if let Some(c) = council.as_mut() {
        events.extend(log_retirements(
            c,
            &mut new_packets,
            packets,
            &rules.chain_id,
        ));
    }
    for (k, v) in migration {
        view.put(k, v);
    }
    let council_validators = council
        .as_ref()
        .map_or_else(|| schedule.next.clone(), |c| c.validators().to_vec());
    for (key, value) in
        crate::validators::schedule_writes(&view, h.height, &schedule, &council_validators)
            .map_err(BlockError::Malformed)?
    {
        view.put(key, value);
    }
    if let Some(c) = council {
        let bytes = c.to_bytes();
        if stored_council.as_deref() != Some(bytes.as_slice()) {
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
        tx_hashes: hashes.0.clone(),
        packets: new_packets,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use junction_spec::merkle::empty_root;
    use junction_spec::{TxBody, TxKind};

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

    fn genesis_validators() -> Vec<junction_spec::HubValidator> {
        vec![junction_spec::HubValidator {
            pub_key: [5; 32],
            power: 10,
            attestation_address: [5; 20],
        }]
    }

    fn rules() -> ChainRules {
        ChainRules {
            chain_id: ChainId::new("hub-test").unwrap(),
            genesis_validators: std::sync::Arc::new(genesis_validators()),
            max_clock_drift_ms: 2000,
        }
    }

    fn block_with(txs: Vec<SignedTx>, time_ms: u64) -> Block {
        let tip = genesis_tip();
        Block {
            header: BlockHeader {
                version: 1,
                chain_id: rules().chain_id,
                height: 1,
                time_ms,
                prev_block_hash: tip.block_hash,
                app_hash: tip.app_hash,
                log_size: 0,
                log_root: empty_root(),
                validators_hash: validator_set_hash(&genesis_validators()),
                next_validators_hash: validator_set_hash(&genesis_validators()),
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

    /// Summaries of stored blocks (RPC `block`, `checkpoint`, `tx`) decoded every
    /// transaction of a block of megabytes; they now read the header and hash the
    /// transactions' bytes, and must give exactly what the decoded block gives.
    #[test]
    fn an_encoded_summary_is_the_decoded_blocks_header_and_hashes() {
        let key = ed25519_consensus::SigningKey::from([3u8; 32]);
        let txs: Vec<SignedTx> = (0..5).map(|n| signed(&key, "hub-test", n)).collect();
        let b = block_with(txs, 2000);
        let bytes = b.encode();
        let (header, hashes) = Block::encoded_summary(&bytes).unwrap();
        assert_eq!(header, b.header);
        assert_eq!(hashes, TxHashes::of(&b.txs).as_slice());
        let (decoded, decoded_hashes) = Block::decode_hashed(&bytes).unwrap();
        assert_eq!(decoded, b);
        assert_eq!(decoded_hashes, TxHashes::of(&b.txs));
        assert_eq!(Block::decode_header(&bytes).unwrap(), b.header);
        let (_, slices) = Block::split(&bytes).unwrap();
        assert_eq!(SignedTx::from_bytes(slices[3]).unwrap(), b.txs[3]);
        let mut long = bytes.clone();
        long.push(0);
        assert!(matches!(
            Block::encoded_summary(&long),
            Err(DecodeError::TrailingBytes { .. })
        ));
        assert!(Block::encoded_summary(&bytes[..bytes.len() - 1]).is_err());
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
        let council = crate::testutil::council_with_member(member.verification_key().to_bytes());
        let state = genesis_state(&council);
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

#[cfg(test)]
mod retirement_tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use junction_spec::gov::{Fraction, ProposalKind, VoteOption};
    use junction_spec::{EntryKind, LedgerKind, RetirementNotice};

    /// A retirement the council executed is logged once, at the end of a block, as a
    /// notice bound to the retired gateway; the council records where, so the next block
    /// logs nothing more.
    #[test]
    fn an_executed_retirement_is_logged_once_bound_to_its_gateway() {
        let member = [9; 32];
        let reg =
            crate::relay::tests::registration(LedgerKind::EvmAttested, 3, Fraction::new(2, 3));
        let chain = reg.chain_id.clone();
        let mut council = crate::testutil::council_with_chains(member, vec![reg.clone()]);
        let (id, _) = council
            .propose(
                &member,
                ProposalKind::RetireGateway {
                    chain: chain.clone(),
                    successor: None,
                },
                false,
                0,
                0,
            )
            .unwrap();
        council.vote(&member, id, VoteOption::Yes, 1).unwrap();
        council.tick(60_001);
        council.tick(80_000);
        assert!(council.retirement(&chain).is_some());

        let hub = ChainId::new("hub-test").unwrap();
        let base = PacketState::default();
        let mut packets = None;
        let events = log_retirements(&mut council, &mut packets, &base, &hub);
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(events[0].kind, "packet/gateway_retirement_logged");
        let log = packets.as_ref().unwrap().log();
        assert_eq!(log.size(), 1);
        let entry = log.entry(0).unwrap();
        assert_eq!(entry.kind, EntryKind::GatewayRetired);
        assert_eq!(entry.target_chain, chain);
        assert_eq!(
            entry.target_binding,
            crate::clients::target_binding(Some(&reg))
        );
        assert_ne!(entry.target_binding, [0; 32]);
        let notice = RetirementNotice::from_envelope(&entry.packet).unwrap();
        assert_eq!((notice.proposal_id, notice.hub_chain), (id, hub.clone()));
        assert_eq!(council.retirement(&chain).unwrap().log_index, Some(0));
        packets.as_ref().unwrap().check_invariants().unwrap();

        let again = log_retirements(&mut council, &mut packets, &base, &hub);
        assert!(again.is_empty(), "{again:?}");
        assert_eq!(packets.as_ref().unwrap().log().size(), 1);
    }
}
