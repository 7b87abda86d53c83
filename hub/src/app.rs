//! The consensus side of the node: starts Malachite and answers its requests (build a block,
//! check received blocks, attest checkpoints in vote extensions, commit decided blocks,
//! serve and take synced blocks).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use eyre::eyre;
use tracing::{debug, error, info, warn};

use malachitebft_app_channel::app::config::{
    ConsensusConfig, NodeConfig, P2pConfig, PubSubProtocol, ValueSyncConfig,
};
use malachitebft_app_channel::app::consensus::VoteExtensionError;
use malachitebft_app_channel::app::engine::host::{HeightParams, Next, SyncedValueOutcome};
use malachitebft_app_channel::app::engine::util::streaming::{
    StreamContent, StreamId, StreamMessage,
};
use malachitebft_app_channel::app::net::Multiaddr;
use malachitebft_app_channel::app::types::codec::Codec;
use malachitebft_app_channel::app::types::core::{
    ExtendedCommitCertificate, LinearTimeouts, Round, Validity, VoteExtensionPolicy,
};
use malachitebft_app_channel::app::types::sync::RawDecidedValue;
use malachitebft_app_channel::app::types::{Keypair, LocallyProposedValue, PeerId, ProposedValue};
use malachitebft_app_channel::{
    AppMsg, Channels, ConsensusContext, EngineBuilder, NetworkContext, NetworkIdentity, NetworkMsg,
    Reply, RequestContext, Signer, SyncContext, WalContext,
};

use junction_spec::{BlockHeader, Hash32};

use junction_hub_app::StateReader as _;
use junction_hub_app::{tx_root_of, Block, TxHashes};

use crate::codec::{decode_extended_cert, encode_extended_cert, JunctionCodec, MAX_BLOCK_BYTES};
use crate::context::{
    part_sign_bytes, Address, BlockHash, Height, JunctionContext as Ctx, PrivateKey, ProposalPart,
    Signature, PART_CHUNK_BYTES,
};
use crate::metrics::Metrics;
use crate::node::now_ms;
use crate::node::Shared;
use crate::signing::{Ed25519Signer, Ed25519Verifier};
use crate::streams::{PartStream, PartStreams, StreamCaps};
use crate::sync::{lock, read, write};
use junction_spec::encoding::{DecodeError, Put, Reader};

/// Malachite's view of our configuration.
#[derive(Debug, Clone)]
struct EngineConfig {
    moniker: String,
    consensus: ConsensusConfig,
    value_sync: ValueSyncConfig,
}

impl NodeConfig for EngineConfig {
    fn moniker(&self) -> &str {
        &self.moniker
    }
    fn consensus(&self) -> &ConsensusConfig {
        &self.consensus
    }
    fn consensus_mut(&mut self) -> &mut ConsensusConfig {
        &mut self.consensus
    }
    fn value_sync(&self) -> &ValueSyncConfig {
        &self.value_sync
    }
    fn value_sync_mut(&mut self) -> &mut ValueSyncConfig {
        &mut self.value_sync
    }
}

fn multiaddr(addr: &std::net::SocketAddr) -> Result<Multiaddr, eyre::Report> {
    format!("/ip4/{}/tcp/{}", addr.ip(), addr.port())
        .parse()
        .map_err(|e| eyre!("bad address {addr}: {e}"))
}

/// A block this node has seen proposed (or synced) but not yet committed.
#[derive(Debug, Clone)]
struct Undecided {
    height: Height,
    round: Round,
    pol_round: Round,
    proposer: Address,
    /// The proposer's signature over the parts; `None` for synced blocks.
    fin: Option<Signature>,
    validity: Validity,
    block: Arc<Block>,
    /// Its transactions' hashes when this node has computed them (on receipt, to check the
    /// body against the header): the commit then need not hash megabytes again.
    hashes: Option<Arc<TxHashes>>,
    /// Whether this node's store holds the block (a proposal kept with
    /// [`Store::put_undecided`](crate::store::Store::put_undecided)): its commit then names
    /// it by hash instead of writing megabytes again.
    stored: Kept,
}

/// Whether the store holds a proposal's block. The write runs on a thread of its own: in
/// line, writing and syncing megabytes held back this node's vote on a received block,
/// and a proposer's parts, by as long. Only the commit waits for it.
#[derive(Debug, Clone)]
struct Kept(Arc<(std::sync::Mutex<Option<bool>>, std::sync::Condvar)>);

impl Kept {
    fn known(stored: bool) -> Self {
        Self(Arc::new((
            std::sync::Mutex::new(Some(stored)),
            Default::default(),
        )))
    }

    /// Starts writing the block (`body`, its encoding) and its record.
    fn write(shared: &Arc<Shared>, hash: BlockHash, record: Vec<u8>, body: Bytes) -> Self {
        /// Ends the write even if it panics, so that no commit waits for it forever.
        struct Ending(Kept, bool);
        impl Drop for Ending {
            fn drop(&mut self) {
                *lock(&self.0 .0 .0) = Some(self.1);
                self.0 .0 .1.notify_all();
            }
        }
        let kept = Self(Arc::new((std::sync::Mutex::new(None), Default::default())));
        let ending = Ending(kept.clone(), false);
        let store = shared.store.clone();
        let started = std::thread::Builder::new()
            .name("kept-proposal".into())
            .spawn(move || {
                let mut ending = ending;
                match store.put_undecided(&hash.0, &record, &body) {
                    Ok(()) => ending.1 = true,
                    Err(e) => {
                        warn!(%e, "could not persist an undecided block; it is kept in memory")
                    }
                }
            });
        match started {
            Ok(_) => kept,
            Err(e) => {
                warn!(%e, "could not start persisting an undecided block; it is kept in memory");
                Self::known(false)
            }
        }
    }

    /// Whether the store holds the block, once its write has ended.
    fn stored(&self) -> bool {
        let (state, ended) = &*self.0;
        let guard = ended
            .wait_while(lock(state), |s| s.is_none())
            .unwrap_or_else(|e| e.into_inner());
        guard.unwrap_or(false)
    }
}

impl Undecided {
    /// Record format (the block is kept beside it, see [`Store::put_undecided`]); starts
    /// with the height so the store can prune without decoding.
    fn encode(&self) -> Vec<u8> {
        let mut w = Vec::new();
        w.put_u64(self.height.0);
        w.put_i64(self.round.as_i64());
        w.put_i64(self.pol_round.as_i64());
        w.put_raw(&self.proposer.0);
        match &self.fin {
            Some(s) => {
                w.put_u8(1);
                w.put_raw(&s.to_bytes());
            }
            None => w.put_u8(0),
        }
        w.put_u8(u8::from(self.validity.is_valid()));
        w
    }

    /// A record and its block; without the block, a record of an older store, which
    /// holds the block as a nested byte string after the other fields.
    fn decode(b: &[u8], block: Option<&[u8]>) -> Result<Self, DecodeError> {
        let mut r = Reader::new(b);
        let height = Height(r.read_u64()?);
        let round = crate::context::decode_round(&mut r)?;
        let pol_round = crate::context::decode_round(&mut r)?;
        let proposer = Address(r.read_array()?);
        let fin = match r.read_u8()? {
            0 => None,
            1 => Some(Signature::from_bytes(r.read_array()?)),
            _ => return Err(DecodeError::InvalidValue("fin tag")),
        };
        let validity = Validity::from_bool(r.read_u8()? == 1);
        let stored = Kept::known(block.is_some());
        let block = match block {
            Some(b) => b,
            None => r.read_bytes(MAX_BLOCK_BYTES)?,
        };
        let block =
            Block::decode(block).map_err(|_| DecodeError::InvalidValue("undecided block"))?;
        r.finish()?;
        Ok(Self {
            height,
            round,
            pol_round,
            proposer,
            fin,
            validity,
            block: Arc::new(block),
            hashes: None,
            stored,
        })
    }

    fn proposed_value(&self, hash: BlockHash) -> ProposedValue<Ctx> {
        ProposedValue {
            height: self.height,
            round: self.round,
            valid_round: self.pol_round,
            proposer: self.proposer,
            value: hash,
            validity: self.validity,
        }
    }
}

/// How often a held proposal looks for transactions.
const IDLE_POLL: Duration = Duration::from_millis(20);

/// A round-0 proposal held back while there is nothing to include, until a transaction
/// arrives or the idle interval has passed (`consensus.idle_block_interval_ms`).
struct HeldProposal {
    height: Height,
    round: Round,
    reply: Reply<LocallyProposedValue<Ctx>>,
    until: tokio::time::Instant,
}

struct App {
    shared: Arc<Shared>,
    held: Option<HeldProposal>,
    signer: Ed25519Signer,
    attest_key: k256::ecdsa::SigningKey,
    address: Address,
    timeouts: LinearTimeouts,
    target_time: Option<Duration>,
    undecided: HashMap<BlockHash, Undecided>,
    built: BTreeMap<(u64, i64), BlockHash>,
    streams: PartStreams,
    current_height: Height,
}

impl App {
    /// Consensus's parameters of `height`, with the validators the committed state
    /// schedules for it. A height whose protocol version this node does not support stops
    /// it here, by name, before it votes on any block of that version.
    fn params(&self, height: Height) -> eyre::Result<HeightParams<Ctx>> {
        self.shared.check_version(height.0)?;
        let signers = self
            .shared
            .signers_at(height.0)
            .map_err(|e| eyre!("validator_set_unknown: height {height}: {e}"))?;
        Ok(
            HeightParams::new(signers.validators.clone(), self.timeouts, self.target_time)
                .with_vote_extension_policy(VoteExtensionPolicy::Required),
        )
    }

    /// Keeps a proposal, and starts writing it to the store; `body` is the block's
    /// encoding (the bytes received, or the ones this node streams).
    fn remember(&mut self, hash: BlockHash, mut u: Undecided, body: Bytes) {
        u.stored = Kept::write(&self.shared, hash, u.encode(), body);
        self.undecided.insert(hash, u);
    }

    /// The next block from the mempool, with its transactions' hashes (its validation and
    /// commit need them too).
    fn build_block(&mut self, height: Height) -> (Block, TxHashes) {
        let shared = &self.shared;
        let cfg = &shared.config.consensus;
        let chain = read(&shared.chain);
        let tip = &chain.tip;
        let txs = lock(&shared.mempool).reap(cfg.max_block_txs, cfg.max_block_bytes, |a| {
            chain.state.next_nonce(a)
        });
        let hashes = TxHashes::of(&txs);
        let (validators_hash, next_validators_hash) = junction_hub_app::schedule_at(
            chain.state.as_ref(),
            &shared.rules.genesis_validators,
            height.0,
        )
        .map(|s| {
            (
                junction_spec::validator_set_hash(&s.current),
                junction_spec::validator_set_hash(&s.next),
            )
        })
        .unwrap_or_default();
        let council = junction_hub_app::load_council(|k| chain.state.get(k)).ok();
        let version =
            junction_hub_app::upgrade::version_at(chain.state.as_ref(), council.as_ref(), height.0)
                .map(|(v, _)| v)
                .unwrap_or(junction_spec::GENESIS_PROTOCOL_VERSION);
        let header = BlockHeader {
            version,
            chain_id: shared.rules.chain_id.clone(),
            height: height.0,
            time_ms: now_ms().max(tip.time_ms + 1),
            prev_block_hash: tip.block_hash,
            app_hash: tip.app_hash,
            log_size: tip.log_size,
            log_root: tip.log_root,
            validators_hash,
            next_validators_hash,
            proposer: self.address.0,
            tx_root: tx_root_of(&hashes),
        };
        (Block { header, txs }, hashes)
    }

    /// When a round-0 proposer with nothing to include may propose an empty block: once
    /// `idle_block_interval_ms` has passed since its parent's time, and never later than
    /// consensus's `timeout` less the margin the others need to receive it. Later rounds
    /// (a proposer before failed) and a hub with transactions propose at once, and so does
    /// the height after a block with transactions: what those did (a packet logged, a
    /// client moved) reaches relayers and gateways a height later, and holding that height
    /// cost a packet about a second per hub it crossed (`bench e2e --idle-interval-ms`).
    fn idle_until(&self, round: Round, timeout: Duration) -> tokio::time::Instant {
        let now = tokio::time::Instant::now();
        let idle = self.shared.config.consensus.idle_block_interval_ms;
        let (parent_ms, parent_txs) = {
            let chain = read(&self.shared.chain);
            (chain.tip.time_ms, chain.tip_txs)
        };
        if idle == 0 || round.as_i64() != 0 || parent_txs > 0 {
            return now;
        }
        let wait = parent_ms
            .saturating_add(idle)
            .saturating_sub(now_ms())
            .min(idle);
        let cap = timeout.saturating_sub(Duration::from_millis(crate::config::IDLE_MARGIN_MS));
        now + Duration::from_millis(wait).min(cap)
    }

    /// Proposes the held block when there is something to include or its wait is over;
    /// otherwise keeps holding it.
    async fn release_held(
        &mut self,
        network: &tokio::sync::mpsc::Sender<NetworkMsg<Ctx>>,
    ) -> eyre::Result<()> {
        let Some(held) = self.held.take() else {
            return Ok(());
        };
        if held.height.0 <= read(&self.shared.chain).tip.height {
            return Ok(());
        }
        let waiting = tokio::time::Instant::now() < held.until
            && !self
                .built
                .contains_key(&(held.height.0, held.round.as_i64()))
            && lock(&self.shared.mempool).is_empty();
        if waiting {
            self.held = Some(held);
            return Ok(());
        }
        let HeldProposal {
            height,
            round,
            reply,
            ..
        } = held;
        let (hash, body) = match self.proposal(height, round).await {
            Ok(p) => p,
            Err(e) => {
                // No proposal this round: the others' propose timeout moves them on.
                error!(%height, %round, "could not sign the proposal: {e}");
                return Ok(());
            }
        };
        if reply
            .send(LocallyProposedValue::new(height, round, hash))
            .is_err()
        {
            error!("consensus dropped the GetValue reply");
        }
        self.publish_parts(&hash, body, network).await
    }

    /// This node's proposal for a height and round: the block it built for them before, or
    /// a new one (with its encoding, to stream).
    async fn proposal(
        &mut self,
        height: Height,
        round: Round,
    ) -> Result<(BlockHash, Option<Bytes>), malachitebft_signing::Error> {
        let key = (height.0, round.as_i64());
        if let Some(h) = self.built.get(&key) {
            return Ok((*h, None));
        }
        let (block, hashes) = self.build_block(height);
        let (block, hashes) = (Arc::new(block), Arc::new(hashes));
        let hash = BlockHash(block.hash());
        let sig = self
            .signer
            .sign(&part_sign_bytes(height, round, &hash))
            .await?;
        let u = Undecided {
            height,
            round,
            pol_round: Round::Nil,
            proposer: self.address,
            fin: Some(sig),
            validity: Validity::Valid,
            block: block.clone(),
            hashes: Some(hashes.clone()),
            stored: Kept::known(false),
        };
        // Encoded once: the store and the parts share the bytes.
        let body = Bytes::from(block.encode());
        self.remember(hash, u, body.clone());
        self.built.insert(key, hash);
        // The proposer executes its own block while the others validate it, so that its
        // commit, too, finds the execution and the state tree ready. A refusal here only
        // means the commit executes it again, as without this.
        let shared = self.shared.clone();
        let _ = std::thread::Builder::new()
            .name("own-proposal".into())
            .spawn(move || shared.validate_hashed_block(&block, &hashes, None));
        Ok((hash, Some(body)))
    }

    /// The parts that stream a proposal whose block encodes to `bytes`.
    fn stream_parts(
        &self,
        u: &Undecided,
        sig: &Signature,
        bytes: &Bytes,
    ) -> Vec<StreamMessage<ProposalPart>> {
        let mut id = Vec::with_capacity(16);
        id.extend_from_slice(&u.height.0.to_be_bytes());
        id.extend_from_slice(&u.round.as_i64().to_be_bytes());
        let stream_id = StreamId::new(Bytes::from(id));
        let mut parts = vec![ProposalPart::Init {
            height: u.height,
            round: u.round,
            pol_round: u.pol_round,
            proposer: u.proposer,
        }];
        for start in (0..bytes.len()).step_by(PART_CHUNK_BYTES) {
            let end = bytes.len().min(start + PART_CHUNK_BYTES);
            parts.push(ProposalPart::Data(bytes.slice(start..end)));
        }
        parts.push(ProposalPart::Fin { signature: *sig });
        let mut out: Vec<StreamMessage<ProposalPart>> = parts
            .into_iter()
            .enumerate()
            .map(|(i, p)| StreamMessage::new(stream_id.clone(), i as u64, StreamContent::Data(p)))
            .collect();
        let n = out.len() as u64;
        out.push(StreamMessage::new(stream_id, n, StreamContent::Fin));
        out
    }

    /// Streams the parts of a block this node holds with its proposer's signature (a block
    /// it built, or one it received and is asked to restream); `body`: its encoding, if
    /// the caller has it.
    async fn publish_parts(
        &self,
        hash: &BlockHash,
        body: Option<Bytes>,
        network: &tokio::sync::mpsc::Sender<NetworkMsg<Ctx>>,
    ) -> eyre::Result<()> {
        let Some(u) = self.undecided.get(hash) else {
            return Ok(());
        };
        let Some(sig) = &u.fin else {
            return Ok(());
        };
        let body = body.unwrap_or_else(|| Bytes::from(u.block.encode()));
        for m in self.stream_parts(u, sig, &body) {
            network.send(NetworkMsg::PublishProposalPart(m)).await?;
        }
        Ok(())
    }

    /// Judges a complete, correctly signed block for the next height.
    fn judge(&self, block: &Block, hashes: &TxHashes, proposer: &Address) -> Validity {
        if block.header.proposer != proposer.0 {
            Metrics::count(&self.shared.metrics.invalid_blocks, "wrong_proposer");
            return Validity::Invalid;
        }
        match self
            .shared
            .validate_hashed_block(block, hashes, Some(now_ms()))
        {
            Ok(()) => Validity::Valid,
            Err(e) => {
                warn!(height = block.header.height, %e, "proposed block is invalid");
                Metrics::count(&self.shared.metrics.invalid_blocks, block_error_name(&e));
                Validity::Invalid
            }
        }
    }

    /// Judges a block that sync brought (decided elsewhere) and keeps it as undecided
    /// until its commit.
    fn synced_value(
        &mut self,
        height: Height,
        round: Round,
        proposer: Address,
        value_bytes: &[u8],
    ) -> SyncedValueOutcome<Ctx> {
        match Block::decode_hashed(value_bytes) {
            Err(e) => {
                warn!(%height, %e, "peer sent an undecodable synced block");
                Metrics::count(
                    &self.shared.metrics.p2p_dropped_frames,
                    "synced_block_undecodable",
                );
                SyncedValueOutcome::PeerFault
            }
            Ok((block, _)) if block.header.height != height.0 => SyncedValueOutcome::PeerFault,
            Ok(_)
                if height.0
                    > read(&self.shared.chain)
                        .tip
                        .height
                        .saturating_add(self.shared.config.consensus.future_height_window) =>
            {
                Metrics::count(
                    &self.shared.metrics.p2p_dropped_frames,
                    "synced_block_height_out_of_window",
                );
                SyncedValueOutcome::PeerFault
            }
            Ok((block, hashes)) => {
                let Some(hashes) = body_of_header(&block, hashes) else {
                    Metrics::count(
                        &self.shared.metrics.p2p_dropped_frames,
                        "synced_block_body_mismatch",
                    );
                    return SyncedValueOutcome::PeerFault;
                };
                let hash = BlockHash(block.hash());
                let tip = read(&self.shared.chain).tip.height;
                // A decided block is judged without the drift rule: it was
                // already accepted by the network, possibly long ago.
                let validity = if height.0 == tip + 1 {
                    match self.shared.validate_hashed_block(&block, &hashes, None) {
                        Ok(()) => Validity::Valid,
                        Err(e) => {
                            warn!(%height, %e, "synced block is invalid");
                            Validity::Invalid
                        }
                    }
                } else {
                    Validity::Invalid
                };
                let u = Undecided {
                    height,
                    round,
                    pol_round: Round::Nil,
                    proposer,
                    fin: None,
                    validity,
                    block: Arc::new(block),
                    hashes: Some(Arc::new(hashes)),
                    stored: Kept::known(false),
                };
                let pv = u.proposed_value(hash);
                self.undecided.insert(hash, u);
                SyncedValueOutcome::Verdict(pv)
            }
        }
    }

    /// Adds a received part; returns the whole proposal once every part is in. Parts
    /// beyond the stream caps, or of a proposal for a height outside the window above the
    /// tip, are dropped and counted.
    fn received_part(
        &mut self,
        peer: PeerId,
        msg: StreamMessage<ProposalPart>,
    ) -> Option<ProposedValue<Ctx>> {
        let tip = read(&self.shared.chain).tip.height;
        let added = self.streams.add(peer, msg, tip);
        let dropped = &self.shared.metrics.p2p_dropped_frames;
        for _ in 0..added.evicted {
            Metrics::count(dropped, "proposal_stream_evicted");
        }
        if let Some(reason) = added.dropped {
            Metrics::count(dropped, reason.name());
        }
        self.assemble(added.complete?)
    }

    fn assemble(&mut self, stream: PartStream) -> Option<ProposedValue<Ctx>> {
        let mut init = None;
        let mut sig = None;
        // One allocation of the block's size (the stream's caps bound it): growing by
        // doubling copied megabytes several times.
        let size = stream
            .parts
            .values()
            .map(|c| match c {
                StreamContent::Data(ProposalPart::Data(b)) => b.len(),
                _ => 0,
            })
            .sum();
        let mut data = Vec::with_capacity(size);
        for (_, c) in stream.parts {
            match c {
                StreamContent::Data(ProposalPart::Init {
                    height,
                    round,
                    pol_round,
                    proposer,
                }) if init.is_none() => init = Some((height, round, pol_round, proposer)),
                StreamContent::Data(ProposalPart::Data(b)) if init.is_some() && sig.is_none() => {
                    data.extend_from_slice(&b)
                }
                StreamContent::Data(ProposalPart::Fin { signature }) if sig.is_none() => {
                    sig = Some(signature)
                }
                StreamContent::Fin => {}
                _ => {
                    Metrics::count(
                        &self.shared.metrics.p2p_dropped_frames,
                        "proposal_parts_out_of_order",
                    );
                    return None;
                }
            }
        }
        let ((height, round, pol_round, proposer), sig) = (init?, sig?);
        // The encoding is canonical: the bytes decoded are the block's encoding, which the
        // store keeps and from which the transactions' hashes are taken.
        let (block, hashes) = match Block::decode_hashed(&data) {
            Ok(b) => b,
            Err(e) => {
                debug!(%e, "undecodable proposal");
                Metrics::count(
                    &self.shared.metrics.p2p_dropped_frames,
                    "proposal_undecodable",
                );
                return None;
            }
        };
        let hash = BlockHash(block.hash());
        // Only a validator's signature over exactly this block makes the parts count.
        let signed_ok = self
            .shared
            .signers_at(height.0)
            .ok()
            .and_then(|s| {
                s.validators
                    .validators()
                    .iter()
                    .find(|v| v.address == proposer)
                    .cloned()
            })
            .is_some_and(|v| {
                v.public_key
                    .verify(&part_sign_bytes(height, round, &hash), &sig)
                    .is_ok()
            });
        if !signed_ok || block.header.height != height.0 {
            Metrics::count(
                &self.shared.metrics.p2p_dropped_frames,
                "proposal_bad_signature",
            );
            return None;
        }
        let tip_height = read(&self.shared.chain).tip.height;
        let window = self.shared.config.consensus.future_height_window;
        if height.0 <= tip_height || height.0 > tip_height.saturating_add(window) {
            Metrics::count(
                &self.shared.metrics.p2p_dropped_frames,
                "proposal_height_out_of_window",
            );
            return None;
        }
        let Some(hashes) = body_of_header(&block, hashes) else {
            Metrics::count(
                &self.shared.metrics.p2p_dropped_frames,
                "proposal_body_mismatch",
            );
            return None;
        };
        let validity = if height.0 == tip_height + 1 {
            self.judge(&block, &hashes, &proposer)
        } else {
            // A future height: judged when that height starts.
            Validity::Invalid
        };
        let u = Undecided {
            height,
            round,
            pol_round,
            proposer,
            fin: Some(sig),
            validity,
            block: Arc::new(block),
            hashes: Some(Arc::new(hashes)),
            stored: Kept::known(false),
        };
        let pv = u.proposed_value(hash);
        let future = height.0 > tip_height + 1;
        self.remember(hash, u, Bytes::from(data));
        if future {
            None
        } else {
            Some(pv)
        }
    }

    /// The checkpoint hash of a block this node holds (undecided, or already committed).
    fn checkpoint_hash(&self, height: Height, value: &BlockHash) -> Option<Hash32> {
        let attestation = self.shared.signers_at(height.0).ok()?;
        if let Some(u) = self.undecided.get(value) {
            return Some(attestation.checkpoint(&u.block.header).hash());
        }
        // Already committed (late precommits) or synced: read it back.
        self.shared
            .block_header(height.0)
            .ok()
            .flatten()
            .filter(|h| h.hash() == value.0)
            .map(|h| attestation.checkpoint(&h).hash())
    }

    /// Commits a decided block, or fails with the named reason the node stops for
    /// (`commit_failed: <name>: ...`). A block this node does not hold is not a failure:
    /// consensus's WAL can hold a proposal whose block the store had not yet kept when the
    /// node stopped, and replaying it decides a value the node cannot commit. It is left
    /// uncommitted (`Ok(false)`), and the finalization restarts the height, from which
    /// sync fetches the decided block and its certificate from the peers.
    fn commit_decided(
        &mut self,
        cert: ExtendedCommitCertificate<Ctx>,
    ) -> Result<bool, eyre::Report> {
        let height = cert.height;
        if read(&self.shared.chain).tip.height >= height.0 {
            return Ok(true);
        }
        let Some(u) = self.undecided.get(&cert.value_id).cloned() else {
            warn!(
                %height,
                block = %cert.value_id,
                "decided block is unknown here; the height restarts and sync fetches it"
            );
            return Ok(false);
        };
        let mut w = Vec::new();
        encode_extended_cert(&mut w, &cert);
        self.shared
            .commit(&u.block, u.hashes.as_deref(), u.stored.stored(), w)
            .map_err(|e| eyre!("commit_failed: {}: height {height}: {e}", e.name()))?;
        self.current_height = Height(height.0 + 1);
        let done: Vec<BlockHash> = self
            .undecided
            .iter()
            .filter(|(_, u)| u.height <= height)
            .map(|(h, _)| *h)
            .collect();
        for h in done {
            self.undecided.remove(&h);
        }
        self.built = self.built.split_off(&(height.0 + 1, i64::MIN));
        for _ in 0..self.streams.prune(height.0) {
            Metrics::count(
                &self.shared.metrics.p2p_dropped_frames,
                "proposal_stream_stale",
            );
        }
        info!(%height, txs = u.block.txs.len(), "committed");
        Ok(true)
    }

    /// What consensus does after a finalized height: the next height, or the same one
    /// again when its block could not be committed here (sync then fetches it).
    fn finalize(&mut self, cert: ExtendedCommitCertificate<Ctx>) -> eyre::Result<Next<Ctx>> {
        let height = cert.height;
        self.commit_decided(cert)?;
        let tip = read(&self.shared.chain).tip.height;
        Ok(if tip >= height.0 {
            Next::Start(Height(tip + 1), self.params(Height(tip + 1))?)
        } else {
            self.shared.metrics.decided_blocks_unknown.inc();
            Next::Restart(height, self.params(height)?)
        })
    }

    async fn run(&mut self, channels: &mut Channels<Ctx>) -> eyre::Result<()> {
        loop {
            let msg = match self.held.as_ref().map(|h| h.until) {
                None => channels.consensus.recv().await,
                // A held proposal looks at the mempool every few milliseconds.
                Some(until) => {
                    let next = until.min(tokio::time::Instant::now() + IDLE_POLL);
                    tokio::select! {
                        m = channels.consensus.recv() => m,
                        _ = tokio::time::sleep_until(next) => {
                            self.release_held(&channels.network).await?;
                            continue;
                        }
                    }
                }
            };
            let Some(msg) = msg else { break };
            // Consensus moved on (another round or height started, or a block was
            // decided): a proposal held for the old one is not wanted any more.
            if let (Some(held), AppMsg::StartedRound { height, round, .. }) = (&self.held, &msg) {
                if (held.height, held.round) != (*height, *round) {
                    self.held = None;
                }
            }
            match msg {
                AppMsg::ConsensusReady { reply } => {
                    let start = Height(read(&self.shared.chain).tip.height + 1);
                    self.current_height = start;
                    info!(%start, "consensus ready");
                    if reply.send((start, self.params(start)?)).is_err() {
                        error!("consensus dropped the ConsensusReady reply");
                    }
                }
                AppMsg::StartedRound {
                    height,
                    round,
                    proposer,
                    role,
                    reply_value,
                } => {
                    debug!(%height, %round, %proposer, ?role, "started round");
                    self.current_height = height;
                    write(&self.shared.chain).round = round.as_i64();
                    self.shared.metrics.round.set(round.as_i64());
                    // Blocks for this height that arrived early are judged now.
                    let early: Vec<BlockHash> = self
                        .undecided
                        .iter()
                        .filter(|(_, u)| u.height == height && u.validity.is_invalid())
                        .map(|(h, _)| *h)
                        .collect();
                    for h in early {
                        if let Some(u) = self.undecided.get(&h).cloned() {
                            let hashes = u
                                .hashes
                                .unwrap_or_else(|| Arc::new(TxHashes::of(&u.block.txs)));
                            let v = self.judge(&u.block, &hashes, &u.proposer);
                            if let Some(x) = self.undecided.get_mut(&h) {
                                x.validity = v;
                            }
                        }
                    }
                    let values: Vec<ProposedValue<Ctx>> = self
                        .undecided
                        .iter()
                        .filter(|(_, u)| u.height == height && u.round == round)
                        .map(|(h, u)| u.proposed_value(*h))
                        .collect();
                    if reply_value.send(values).is_err() {
                        error!("consensus dropped the StartedRound reply");
                    }
                }
                AppMsg::GetValue {
                    height,
                    round,
                    timeout,
                    reply,
                } => {
                    let held = HeldProposal {
                        height,
                        round,
                        reply,
                        until: self.idle_until(round, timeout),
                    };
                    self.held = Some(held);
                    self.release_held(&channels.network).await?;
                }
                AppMsg::ReceivedProposalPart {
                    from,
                    published_by,
                    part,
                    reply,
                } => {
                    let peer = published_by.unwrap_or(from);
                    let value = self.received_part(peer, part);
                    if reply.send(value).is_err() {
                        error!("consensus dropped the ReceivedProposalPart reply");
                    }
                }
                AppMsg::ExtendVote {
                    height,
                    value_id,
                    reply,
                    ..
                } => {
                    // The extension is this validator's signature over the checkpoint of
                    // the block it precommits.
                    // An empty extension (block unknown here, which consensus should never
                    // ask about) is refused by every peer rather than signed blindly.
                    let ext = match self.checkpoint_hash(height, &value_id) {
                        Some(h) => match crate::attest::sign(&self.attest_key, &h) {
                            Ok(sig) => Bytes::copy_from_slice(&sig),
                            Err(e) => {
                                error!(%e, "could not sign the checkpoint");
                                Bytes::new()
                            }
                        },
                        None => Bytes::new(),
                    };
                    if reply.send(Some(ext)).is_err() {
                        error!("consensus dropped the ExtendVote reply");
                    }
                }
                AppMsg::VerifyVoteExtensions {
                    height,
                    value_id,
                    extensions,
                    reply,
                    ..
                } => {
                    let expected = self.checkpoint_hash(height, &value_id);
                    let attestation = self.shared.signers_at(height.0);
                    let verdicts = extensions
                        .into_iter()
                        .map(|(addr, ext)| {
                            let ok = match (&expected, &attestation) {
                                (Some(h), Ok(a)) => a.check(&addr, h, &ext),
                                // Block not known yet (sync delivers the certificate before
                                // the block): only the shape can be checked now.
                                _ => ext.len() == crate::attest::ATTESTATION_LEN,
                            };
                            (
                                addr,
                                if ok {
                                    Ok(())
                                } else {
                                    Err(VoteExtensionError::InvalidVoteExtension)
                                },
                            )
                        })
                        .collect();
                    if reply.send(verdicts).is_err() {
                        error!("consensus dropped the VerifyVoteExtensions reply");
                    }
                }
                AppMsg::RestreamProposal { value_id, .. } => {
                    self.publish_parts(&value_id, None, &channels.network)
                        .await?;
                }
                AppMsg::GetHistoryMinHeight { reply } => {
                    if reply.send(Height(1)).is_err() {
                        error!("consensus dropped the GetHistoryMinHeight reply");
                    }
                }
                AppMsg::Decided {
                    certificate,
                    extensions,
                    reply,
                } => {
                    let cert = ExtendedCommitCertificate::from_commit_certificate_and_extensions(
                        certificate,
                        extensions,
                    );
                    // A decided block that cannot be committed is not retried in a loop:
                    // the node stops, by name, and a restart replays the WAL.
                    // Unknown here: acknowledged uncommitted; `Finalized` restarts the
                    // height.
                    self.commit_decided(cert)?;
                    if reply.send(()).is_err() {
                        error!("consensus dropped the Decided reply");
                    }
                }
                AppMsg::Finalized {
                    certificate,
                    extensions,
                    reply,
                    ..
                } => {
                    let cert = ExtendedCommitCertificate::from_commit_certificate_and_extensions(
                        certificate,
                        extensions,
                    );
                    let next = self.finalize(cert)?;
                    if reply.send(next).is_err() {
                        error!("consensus dropped the Finalized reply");
                    }
                }
                AppMsg::GetDecidedValues { range, reply } => {
                    let mut values = Vec::new();
                    let (start, end) = (range.start().0, range.end().0);
                    let mut bytes = 0usize;
                    for h in start
                        ..=end.min(start.saturating_add(crate::codec::MAX_SYNC_VALUES as u64 - 1))
                    {
                        let (Ok(Some(block)), Ok(Some(cert))) =
                            (self.shared.store.block(h), self.shared.store.certificate(h))
                        else {
                            break;
                        };
                        let Ok(cert) = decode_extended_cert(&mut Reader::new(&cert)) else {
                            error!(height = h, "stored certificate does not decode");
                            break;
                        };
                        bytes += block.len();
                        if bytes > MAX_BLOCK_BYTES && !values.is_empty() {
                            break;
                        }
                        values.push(RawDecidedValue::new(Bytes::from(block), cert));
                    }
                    if reply.send(values).is_err() {
                        error!("consensus dropped the GetDecidedValues reply");
                    }
                }
                AppMsg::ProcessSyncedValue {
                    height,
                    round,
                    proposer,
                    value_bytes,
                    reply,
                } => {
                    let outcome = self.synced_value(height, round, proposer, &value_bytes);
                    if reply.send(outcome).is_err() {
                        error!("consensus dropped the ProcessSyncedValue reply");
                    }
                }
            }
        }
        Err(eyre!("consensus channel closed"))
    }
}

/// The hashes of a received block's transactions (from [`Block::decode_hashed`]) when
/// they are the ones its header's transaction root names. The block hash and the
/// proposer's signature cover the header only: without this, a peer could pass on a
/// proposal under its real hash and signature with other transactions, and a node keeping
/// that copy would hold, under the hash the others decide, a block it cannot commit.
fn body_of_header(block: &Block, hashes: TxHashes) -> Option<TxHashes> {
    (tx_root_of(&hashes) == block.header.tx_root).then_some(hashes)
}

fn block_error_name(e: &junction_hub_app::BlockError) -> &'static str {
    use junction_hub_app::BlockError as E;
    match e {
        E::Malformed(_) => "malformed",
        E::WrongHeight { .. } => "wrong_height",
        E::WrongChainId(_) => "wrong_chain_id",
        E::WrongPrevHash => "wrong_prev_hash",
        E::WrongAppHash => "wrong_app_hash",
        E::WrongLog => "wrong_log",
        E::WrongValidatorsHash => "wrong_validators_hash",
        E::WrongVersion { .. } => "wrong_version",
        E::UnsupportedVersion { .. } => "unsupported_version",
        E::WrongTxRoot => "wrong_tx_root",
        E::TimeNotAfterParent { .. } => "time_not_after_parent",
        E::TimeTooFarAhead { .. } => "time_too_far_ahead",
        E::WrongProposer => "wrong_proposer",
        E::BadTx { .. } => "bad_tx",
    }
}

impl App {
    /// The application over `shared`, with the undecided proposals its store kept.
    fn new(
        shared: Arc<Shared>,
        signer: Ed25519Signer,
        public_key: crate::context::PublicKey,
        attest_key: k256::ecdsa::SigningKey,
    ) -> eyre::Result<Self> {
        let c = &shared.config.consensus;
        let timeouts = LinearTimeouts {
            propose: Duration::from_millis(c.timeout_propose_ms),
            propose_delta: Duration::from_millis(c.timeout_propose_ms / 2),
            prevote: Duration::from_millis(c.timeout_vote_ms),
            prevote_delta: Duration::from_millis(c.timeout_vote_ms / 2),
            precommit: Duration::from_millis(c.timeout_vote_ms),
            precommit_delta: Duration::from_millis(c.timeout_vote_ms / 2),
            rebroadcast: Duration::from_millis(c.timeout_propose_ms + 2 * c.timeout_vote_ms),
            max_timeout: Duration::from_secs(30),
        };
        let mut undecided = HashMap::new();
        for (hash, rec, block) in shared.store.undecided()? {
            match Undecided::decode(&rec, block.as_deref()) {
                Ok(u) => {
                    undecided.insert(BlockHash(hash), u);
                }
                Err(e) => warn!(%e, "dropping an unreadable undecided record"),
            }
        }
        let current_height = Height(read(&shared.chain).tip.height + 1);
        Ok(App {
            held: None,
            signer,
            attest_key,
            address: Address::from_public_key(&public_key),
            timeouts,
            target_time: Some(Duration::from_millis(c.target_block_time_ms)),
            undecided,
            built: BTreeMap::new(),
            streams: PartStreams::new(StreamCaps {
                per_peer: c.max_part_streams_per_peer,
                total: c.max_part_streams,
                stream_bytes: c.max_stream_bytes.min(MAX_BLOCK_BYTES),
                total_bytes: c.max_stream_bytes_total,
                window: c.future_height_window,
            }),
            current_height,
            shared,
        })
    }
}

/// Starts Malachite for this validator and runs the application loop until it fails.
pub async fn run_consensus(
    shared: Arc<Shared>,
    signer: Ed25519Signer,
    public_key: crate::context::PublicKey,
    attest_key: k256::ecdsa::SigningKey,
) -> eyre::Result<()> {
    let cfg = &shared.config;
    let address = Address::from_public_key(&public_key);

    let mut p2p = P2pConfig {
        listen_addr: multiaddr(&cfg.p2p.listen)?,
        persistent_peers: cfg
            .p2p
            .persistent_peers
            .iter()
            .map(multiaddr)
            .collect::<Result<_, _>>()?,
        persistent_peers_only: false,
        protocol: match cfg.p2p.pubsub {
            crate::config::PubSub::Broadcast => PubSubProtocol::Broadcast,
            crate::config::PubSub::Gossipsub => PubSubProtocol::default(),
        },
        ..Default::default()
    };
    p2p.discovery.enabled = false;
    let engine_cfg = EngineConfig {
        moniker: cfg.moniker.clone(),
        consensus: ConsensusConfig {
            p2p,
            ..Default::default()
        },
        value_sync: ValueSyncConfig::default(),
    };

    // The network identity is separate from the consensus key; the validator proof binds them.
    let net_key = PrivateKey::generate(rand::thread_rng());
    let keypair = Keypair::ed25519_from_bytes(net_key.inner().to_bytes())
        .map_err(|e| eyre!("network key: {e}"))?;
    let peer_id = keypair.public().to_peer_id().to_bytes();
    let proof = signer
        .sign_validator_proof(public_key.as_bytes().to_vec(), peer_id)
        .await
        .map_err(|e| eyre!("validator proof: {e:?}"))?;
    let proof_bytes = JunctionCodec
        .encode(&proof)
        .map_err(|e| eyre!("validator proof: {e}"))?;
    let identity = NetworkIdentity::new_validator(
        cfg.moniker.clone(),
        keypair,
        address.to_string(),
        proof_bytes,
    );

    let wal_path = shared.wal_path.clone();
    let (mut channels, _engine) = EngineBuilder::new(Ctx, engine_cfg)
        .with_default_wal(WalContext::new(wal_path, JunctionCodec))
        .with_default_network(NetworkContext::new(identity, JunctionCodec))
        .with_default_consensus(ConsensusContext::new_validator(
            address,
            Box::new(Ed25519Verifier),
            Box::new(signer.clone()),
        ))
        .with_default_sync(SyncContext::new(JunctionCodec))
        .with_default_request(RequestContext::new(100))
        .build()
        .await?;

    let mut app = App::new(shared, signer, public_key, attest_key)?;
    app.run(&mut channels).await
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::config::Home;
    use crate::store::{RedbStore, Store};
    use junction_spec::{ChainId, SignedTx, TxBody, TxKind};

    /// The application of a one-validator hub over a fresh store in `dir`.
    fn app_in(dir: &std::path::Path) -> App {
        let home = Home::new(dir.join("n0"));
        let (config, genesis, key, attest) = crate::config::one_validator_home(&home);
        std::fs::create_dir_all(home.data_dir()).unwrap();
        let store: Arc<dyn Store> =
            Arc::new(RedbStore::open(&home.data_dir().join("store.redb")).unwrap());
        let shared = crate::start::shared_over(&home, config, genesis, store).unwrap();
        let key = key.private_key().unwrap();
        App::new(
            shared,
            Ed25519Signer::new(key.clone()),
            key.public_key(),
            attest.signing_key().unwrap(),
        )
        .unwrap()
    }

    /// A transaction the proposer never put in its block.
    fn stray_tx() -> SignedTx {
        let key = ed25519_consensus::SigningKey::from([7; 32]);
        let body = TxBody {
            chain_id: ChainId::new("junction-local").unwrap(),
            signer: key.verification_key().to_bytes(),
            nonce: 0,
            kind: TxKind::Remark { data: vec![1] },
        };
        let signature = key.sign(&body.sign_bytes()).to_bytes();
        SignedTx { body, signature }
    }

    fn peer() -> PeerId {
        let key = Keypair::generate_ed25519();
        PeerId::from_bytes(&key.public().to_peer_id().to_bytes()).unwrap()
    }

    fn dropped(app: &App, reason: &str) -> u64 {
        app.shared
            .metrics
            .p2p_dropped_frames
            .get_or_create(&crate::metrics::ReasonLabel {
                reason: reason.to_owned(),
            })
            .get()
    }

    /// The block hash and the proposer's signature cover the header only, so any peer can
    /// pass on the proposer's signed parts with other transactions under the same header.
    /// Such a copy arriving after the real one replaced it: the node then held a block it
    /// had judged invalid under the hash the others decide, and its commit of that hash
    /// failed, stopping it. A copy whose transactions are not the ones its header names is
    /// not that block, and is refused before it can stand in for it.
    #[test]
    fn a_copy_of_a_proposal_with_other_transactions_cannot_replace_it() {
        let dir = tempfile::tempdir().unwrap();
        let mut app = app_in(dir.path());
        let (height, round) = (Height(1), Round::new(0));
        let (honest, _) = app.build_block(height);
        let hash = BlockHash(honest.hash());
        let sig = tokio::runtime::Runtime::new()
            .unwrap()
            .block_on(app.signer.sign(&part_sign_bytes(height, round, &hash)))
            .unwrap();
        let proposal = |block: Block| Undecided {
            height,
            round,
            pol_round: Round::Nil,
            proposer: app.address,
            fin: Some(sig),
            validity: Validity::Valid,
            block: Arc::new(block),
            hashes: None,
            stored: Kept::known(false),
        };
        let parts = |block: &Block| {
            app.stream_parts(&proposal(block.clone()), &sig, &Bytes::from(block.encode()))
        };
        let parts_of_honest = parts(&honest);
        let mut tampered = honest.clone();
        tampered.txs.push(stray_tx());
        assert_eq!(
            BlockHash(tampered.hash()),
            hash,
            "the header alone is hashed"
        );
        let parts_of_tampered = parts(&tampered);

        let (proposer_peer, relayer) = (peer(), peer());
        let mut judged = None;
        for m in parts_of_honest {
            judged = judged.or(app.received_part(proposer_peer, m));
        }
        assert_eq!(judged.map(|pv| pv.validity), Some(Validity::Valid));

        for m in parts_of_tampered {
            assert!(app.received_part(relayer, m).is_none());
        }
        assert_eq!(dropped(&app, "proposal_body_mismatch"), 1);
        let kept = &app.undecided[&hash];
        assert!(kept.validity.is_valid());
        assert_eq!(kept.block.txs, honest.txs);

        // Sync hands over decided blocks by the same hash: the same copy is a peer fault.
        let outcome = app.synced_value(height, round, app.address, &tampered.encode());
        assert!(matches!(outcome, SyncedValueOutcome::PeerFault));
        assert_eq!(dropped(&app, "synced_block_body_mismatch"), 1);
        let kept = &app.undecided[&hash];
        assert!(kept.validity.is_valid());
        assert_eq!(kept.block.txs, honest.txs);

        // The real block is still what this node commits for the hash (once its write,
        // which runs beside consensus, has ended, as a commit waits for it).
        assert!(app.undecided[&hash].stored.stored());
        let restarted_view = app.shared.store.undecided().unwrap();
        let (_, _, stored) = restarted_view
            .iter()
            .find(|(h, _, _)| *h == hash.0)
            .unwrap();
        assert_eq!(stored.as_deref(), Some(honest.encode().as_slice()));
    }

    /// A node stopped after consensus's WAL kept a proposal but before the store kept its
    /// block: replaying the WAL decides a value this node does not hold. That stopped the
    /// node for good (`commit_failed: decided_block_unknown`, seen on a validator SIGKILLed
    /// mid-flow); the height is now restarted, from which sync fetches the block.
    #[test]
    fn a_decided_block_not_held_here_restarts_the_height_instead_of_stopping_the_node() {
        let dir = tempfile::tempdir().unwrap();
        let mut app = app_in(dir.path());
        let height = Height(1);
        let (block, _) = app.build_block(height);
        let cert = ExtendedCommitCertificate {
            height,
            round: Round::new(0),
            value_id: BlockHash(block.hash()),
            commit_signatures: Vec::new(),
        };
        assert!(!app.commit_decided(cert.clone()).unwrap());
        let next = app.finalize(cert).unwrap();
        assert!(
            matches!(next, Next::Restart(h, _) if h == height),
            "the next height started without the decided block"
        );
        assert_eq!(read(&app.shared.chain).tip.height, 0);
        assert_eq!(app.shared.metrics.decided_blocks_unknown.get(), 1);
    }
}
