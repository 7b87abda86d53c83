//! `junction relay --config relayer.toml`: moves packets between EVM gateways through the
//! hub (DESIGN §4, §7).
//!
//! Each cycle derives its work from chain state alone, so a restart loses and repeats
//! nothing that matters:
//! - packets whose commitment is still set on a source gateway (rebuilt with
//!   `pending_packets` at start, then followed through `PacketSent` events) are proven to
//!   the hub (`RecvPacket`), answered (`AckPacket` from the destination's receipt) or timed
//!   out (`TimeoutPacket` with the destination's proven absence of a receipt), with the
//!   light-client updates they need in the same transaction;
//! - hub log entries addressed to a chain are delivered to its gateway under the latest
//!   signed checkpoint; entries another relayer (or an earlier run) delivered are skipped
//!   by the gateway itself, so the delivery cursor can restart from zero.
//!
//! Throughput comes from doing each kind of work in bulk: storage proofs are fetched with
//! one `eth_getProof` per chain and 128 slots (checked against the header fetched once); log entries are proven with one
//! `log_proofs` request per 1,024; a chain's delivery batches are sent back to back and
//! mined together (one at a time only when an ordered route makes a batch depend on the
//! previous one); and proving to the hub runs beside delivering to the gateways. With
//! `RUST_LOG=junction_hub=debug` each cycle logs where its time went.
//!
//! The backlog (source packets without an outcome delivered back, plus log entries not
//! yet delivered) is exported as the `junction_relayer_backlog` gauge.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use eyre::{eyre, WrapErr};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use serde::Deserialize;
use serde_json::{json, Value};
use tracing::{debug, info, warn};

use junction_adapters::evm::adapter::{EvmAdapter, EvmAdapterConfig, SlotClaim};
use junction_adapters::{Adapter, AdapterError, CheckpointProof, EntryProof, Receipt, SentPacket};
use junction_light_clients::evm::attested::AttestedHeader;
use junction_spec::attestation::AttestationSet;
use junction_spec::{
    ChainId, Checkpoint, Decode, Encode, Hash32, LogEntry, Packet, RelayMsg, SourceProof, TxKind,
    MAX_TX_BYTES,
};

use crate::client::{into_result, ClientError, RpcClient};
use crate::metrics::ReasonLabel;

/// One chain the relayer serves.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct ChainConfig {
    /// The chain's id on the hub.
    pub id: String,
    /// JSON-RPC endpoint (127.0.0.1).
    pub rpc: String,
    /// EIP-155 chain id.
    pub evm_chain_id: u64,
    /// Gateway address (hex).
    pub gateway: String,
    /// Block the gateway was deployed in.
    pub deploy_block: u64,
    /// secp256k1 key (hex) paying for `deliver`.
    pub sender_key: String,
    /// Attester keys (hex) this relayer signs headers with (a local testnet holds one per
    /// council member; in production attesters sign elsewhere).
    pub attester_keys: Vec<String>,
}

/// `relayer.toml`.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct RelayerConfig {
    /// Hub JSON-RPC endpoint.
    pub hub_rpc: String,
    /// Hub chain id.
    pub hub_chain_id: String,
    /// Path of the relayer's hub key file (a council-registered relayer account).
    pub relayer_key_file: String,
    /// Pause between cycles.
    #[serde(default = "default_poll_ms")]
    pub poll_ms: u64,
    /// Most log entries per gateway `deliver`.
    #[serde(default = "default_batch")]
    pub max_batch: usize,
    /// Where `/metrics` is served (127.0.0.1 only), if anywhere.
    #[serde(default)]
    pub metrics_listen: Option<std::net::SocketAddr>,
    /// The chains.
    pub chains: Vec<ChainConfig>,
}

fn default_poll_ms() -> u64 {
    300
}

fn default_batch() -> usize {
    100
}

impl RelayerConfig {
    /// The configuration as `relayer.toml` text.
    pub fn to_toml(&self) -> eyre::Result<String> {
        toml::to_string(self).map_err(|e| eyre!("relayer.toml: {e}"))
    }

    /// Reads and checks `relayer.toml`.
    pub fn load(path: &Path) -> eyre::Result<Self> {
        let text = std::fs::read_to_string(path)
            .wrap_err_with(|| format!("reading {}", path.display()))?;
        let c: RelayerConfig =
            toml::from_str(&text).wrap_err_with(|| format!("parsing {}", path.display()))?;
        if c.chains.len() < 2 {
            return Err(eyre!("{}: at least two chains are needed", path.display()));
        }
        if c.max_batch == 0 || c.max_batch > 500 {
            return Err(eyre!("{}: max_batch must be 1..=500", path.display()));
        }
        if let Some(a) = c.metrics_listen {
            if !a.ip().is_loopback() {
                return Err(eyre!("metrics_listen must be a loopback address"));
            }
        }
        Ok(c)
    }
}

fn parse_secp(hex_key: &str, what: &str) -> eyre::Result<k256::ecdsa::SigningKey> {
    let b =
        hex::decode(hex_key.trim_start_matches("0x")).map_err(|e| eyre!("{what}: not hex: {e}"))?;
    k256::ecdsa::SigningKey::from_slice(&b).map_err(|e| eyre!("{what}: not a secp256k1 key: {e}"))
}

/// Relayer metrics.
#[derive(Debug, Default)]
pub struct RelayerMetrics {
    registry: Registry,
    /// Packets and log entries waiting.
    pub backlog: Gauge,
    /// Relay messages accepted by the hub.
    pub hub_msgs: Counter,
    /// Log entries delivered to gateways.
    pub delivered: Counter,
    /// Errors by name.
    pub errors: Family<ReasonLabel, Counter>,
}

impl RelayerMetrics {
    fn new() -> Self {
        let mut registry = Registry::with_prefix("junction_relayer");
        let m = RelayerMetrics::default();
        registry.register(
            "backlog",
            "Packets and log entries waiting",
            m.backlog.clone(),
        );
        registry.register(
            "hub_msgs",
            "Relay messages the hub admitted",
            m.hub_msgs.clone(),
        );
        registry.register(
            "delivered",
            "Log entries delivered to gateways",
            m.delivered.clone(),
        );
        registry.register("errors", "Errors by name", m.errors.clone());
        RelayerMetrics { registry, ..m }
    }

    fn error(&self, name: &str) {
        crate::metrics::Metrics::count(&self.errors, name);
    }

    /// Prometheus text.
    pub fn render(&self) -> String {
        crate::metrics::render_registry(&self.registry)
    }
}

/// A source packet the relayer follows until its commitment is cleared.
#[derive(Debug, Clone)]
struct Tracked {
    packet: Packet,
    /// The source block that holds its `send`.
    height: u64,
}

/// The relayer.
pub struct Relayer {
    hub: RpcClient,
    hub_chain: ChainId,
    key: crate::context::PrivateKey,
    chains: BTreeMap<ChainId, Arc<EvmAdapter>>,
    max_batch: usize,
    /// Next block to scan for `PacketSent`, per chain.
    scanned: BTreeMap<ChainId, u64>,
    /// Source packets without a delivered outcome, by packet key hash.
    tracked: BTreeMap<Hash32, Tracked>,
    /// Next log index to consider, per destination chain.
    cursor: BTreeMap<ChainId, u64>,
    /// Receipts of tracked packets seen on each destination gateway, by packet key hash
    /// (a cache of `PacketReceived` events, rebuilt by scanning from the deployment block).
    receipts: BTreeMap<Hash32, Receipt>,
    /// Next block to scan for `PacketReceived`, per chain.
    receipts_scanned: BTreeMap<ChainId, u64>,
    /// Metrics.
    pub metrics: Arc<RelayerMetrics>,
}

impl std::fmt::Debug for Relayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Relayer")
            .field("hub", &self.hub.url())
            .field("chains", &self.chains.keys().collect::<Vec<_>>())
            .field("tracked", &self.tracked.len())
            .finish()
    }
}

fn named(e: &AdapterError) -> String {
    format!("{}: {e}", e.name())
}

fn hex32(v: &Value, what: &str) -> eyre::Result<Hash32> {
    let s = v.as_str().ok_or_else(|| eyre!("{what} is not a string"))?;
    let b = hex::decode(s).map_err(|e| eyre!("{what}: {e}"))?;
    Hash32::try_from(b).map_err(|_| eyre!("{what} is not 32 bytes"))
}

impl Relayer {
    /// Connects to the hub and every chain, and rebuilds the pending packets from the
    /// chains' gateway commitments.
    pub async fn connect(config: &RelayerConfig) -> eyre::Result<Self> {
        let key_file = crate::config::KeyFile::load(Path::new(&config.relayer_key_file))
            .map_err(|e| eyre!("{e}"))?;
        let key = key_file.private_key().map_err(|e| eyre!(e))?;
        let hub_chain =
            ChainId::new(&config.hub_chain_id).map_err(|e| eyre!("hub_chain_id: {e}"))?;
        let mut chains = BTreeMap::new();
        for c in &config.chains {
            let id = ChainId::new(&c.id).map_err(|e| eyre!("chain id {}: {e}", c.id))?;
            let gateway: [u8; 20] = hex::decode(c.gateway.trim_start_matches("0x"))
                .ok()
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| eyre!("chain {}: gateway is not a 20-byte hex address", c.id))?;
            let attester_keys = c
                .attester_keys
                .iter()
                .map(|k| parse_secp(k, "attester key"))
                .collect::<eyre::Result<Vec<_>>>()?;
            let adapter = EvmAdapter::connect(EvmAdapterConfig {
                rpc_url: c.rpc.clone(),
                chain: id.clone(),
                evm_chain_id: c.evm_chain_id,
                gateway: gateway.into(),
                deploy_block: c.deploy_block,
                attester_keys,
                sender_key: parse_secp(&c.sender_key, "sender key")?,
            })
            .await
            .map_err(|e| eyre!("chain {}: {}", c.id, named(&e)))?;
            chains.insert(id, Arc::new(adapter));
        }
        let mut r = Relayer {
            hub: RpcClient::new(config.hub_rpc.clone()),
            hub_chain,
            key,
            chains,
            max_batch: config.max_batch,
            scanned: BTreeMap::new(),
            tracked: BTreeMap::new(),
            cursor: BTreeMap::new(),
            receipts: BTreeMap::new(),
            receipts_scanned: BTreeMap::new(),
            metrics: Arc::new(RelayerMetrics::new()),
        };
        r.rebuild().await?;
        Ok(r)
    }

    /// Pending work from on-chain state: every packet whose commitment is still set.
    async fn rebuild(&mut self) -> eyre::Result<()> {
        for (id, a) in &self.chains {
            let pending = a
                .pending_packets()
                .await
                .map_err(|e| eyre!("chain {}: {}", id.as_str(), named(&e)))?;
            let latest = a
                .latest_height()
                .await
                .map_err(|e| eyre!("chain {}: {}", id.as_str(), named(&e)))?;
            for SentPacket { packet, height, .. } in pending {
                self.tracked
                    .insert(packet.key().hash(), Tracked { packet, height });
            }
            self.scanned.insert(id.clone(), latest + 1);
        }
        info!(
            pending = self.tracked.len(),
            "relayer rebuilt pending packets from gateway commitments"
        );
        Ok(())
    }

    fn adapter(&self, chain: &ChainId) -> eyre::Result<&Arc<EvmAdapter>> {
        self.chains
            .get(chain)
            .ok_or_else(|| eyre!("no adapter for chain {}", chain.as_str()))
    }

    /// Runs cycles until the process is stopped.
    pub async fn run(mut self, poll: Duration) -> eyre::Result<()> {
        loop {
            if let Err(e) = self.cycle().await {
                warn!("relayer cycle: {e:#}");
                self.metrics.error("cycle_failed");
            }
            tokio::time::sleep(poll).await;
        }
    }

    /// One pass: follow new sends, outcomes and receipts, relay to the hub, deliver hub
    /// entries to gateways.
    pub async fn cycle(&mut self) -> eyre::Result<()> {
        let started = std::time::Instant::now();
        let mut heights = BTreeMap::new();
        for (id, a) in &self.chains {
            let h = a.latest_height().await.map_err(|e| eyre!(named(&e)))?;
            heights.insert(id.clone(), h);
            let from = self.scanned.get(id).copied().unwrap_or(0);
            if from <= h {
                let sent = a
                    .sent_packets(from, h)
                    .await
                    .map_err(|e| eyre!(named(&e)))?;
                for s in sent {
                    self.tracked.insert(
                        s.packet.key().hash(),
                        Tracked {
                            packet: s.packet,
                            height: s.height,
                        },
                    );
                }
                // An outcome delivered to the source clears the packet's commitment: the
                // packet is done.
                let outcomes = a.outcomes(from, h).await.map_err(|e| eyre!(named(&e)))?;
                for o in outcomes {
                    self.tracked.remove(&o.key);
                    self.receipts.remove(&o.key);
                }
                self.scanned.insert(id.clone(), h + 1);
            }
        }
        for (id, a) in &self.chains {
            let h = heights.get(id).copied().unwrap_or(0);
            let from = self.receipts_scanned.get(id).copied().unwrap_or(0);
            if from <= h {
                let found = a.receipts(from, h).await.map_err(|e| eyre!(named(&e)))?;
                for r in found {
                    if self
                        .tracked
                        .get(&r.key)
                        .is_some_and(|t| &t.packet.dest_chain == id)
                    {
                        self.receipts.insert(r.key, r);
                    }
                }
                self.receipts_scanned.insert(id.clone(), h + 1);
            }
        }
        let scanned = started.elapsed();
        // Proving new work to the hub and delivering what the hub already logged do not
        // wait for each other: one waits on hub blocks, the other on chain blocks.
        let (relayed, delivered) =
            tokio::join!(self.relay_to_hub(&heights), self.deliver_to_gateways());
        let undelivered = match delivered {
            Ok((undelivered, cursors)) => {
                self.cursor.extend(cursors);
                undelivered
            }
            Err(e) => {
                warn!("relayer delivery: {e:#}");
                self.metrics.error("delivery_failed");
                0
            }
        };
        for key in relayed? {
            self.tracked.remove(&key);
            self.receipts.remove(&key);
        }
        debug!(
            tracked = self.tracked.len(),
            undelivered,
            scan_ms = scanned.as_millis() as u64,
            cycle_ms = started.elapsed().as_millis() as u64,
            "relayer cycle"
        );
        self.metrics
            .backlog
            .set((self.tracked.len() as u64 + undelivered) as i64);
        Ok(())
    }

    /// The hub client's latest height and header timestamp (seconds) for `chain`.
    async fn client_height(&self, chain: &ChainId) -> eyre::Result<(u64, u64)> {
        let v = self
            .hub
            .call("client_state", json!({"chain": chain.as_str()}))
            .await?;
        let h = v
            .get("latest_height")
            .and_then(Value::as_u64)
            .ok_or_else(|| eyre!("client_state of {} has no latest_height", chain.as_str()))?;
        let ts = v
            .get("latest_timestamp")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        Ok((h, ts))
    }

    /// Calls `method` once per `params` in JSON-RPC batches of [`HUB_BATCH`]; answers in
    /// the order of `params`.
    async fn hub_batch(
        &self,
        method: &str,
        params: Vec<Value>,
    ) -> eyre::Result<Vec<Result<Value, ClientError>>> {
        let mut out = Vec::with_capacity(params.len());
        for chunk in params.chunks(HUB_BATCH) {
            let reqs: Vec<Value> = chunk
                .iter()
                .enumerate()
                .map(|(i, p)| json!({"jsonrpc": "2.0", "id": i, "method": method, "params": p}))
                .collect();
            let v = self.hub.raw(&Value::Array(reqs)).await?;
            let answers = match v {
                Value::Array(a) => a,
                other => {
                    // A refused batch comes back as one error object.
                    return Err(into_result(other)
                        .err()
                        .map(eyre::Report::from)
                        .unwrap_or_else(|| {
                            eyre!("{method} batch: the hub did not answer a list")
                        }));
                }
            };
            let mut by_id: BTreeMap<u64, Value> = answers
                .into_iter()
                .filter_map(|a| Some((a.get("id").and_then(Value::as_u64)?, a)))
                .collect();
            for i in 0..chunk.len() {
                let a = by_id
                    .remove(&(i as u64))
                    .ok_or_else(|| eyre!("{method} batch: no answer to request {i}"))?;
                out.push(into_result(a));
            }
        }
        Ok(out)
    }

    /// The hub's state name of each packet (`None`: the hub has not seen it).
    async fn hub_states(&self, keys: &[Hash32]) -> eyre::Result<Vec<Option<String>>> {
        let params = keys
            .iter()
            .map(|k| json!({"key": hex::encode(k)}))
            .collect();
        self.hub_batch("packet_show", params)
            .await?
            .into_iter()
            .map(|r| match r {
                Ok(v) => Ok(v.get("state").and_then(Value::as_str).map(str::to_owned)),
                Err(ClientError::Rpc { name, .. }) if name == "not_found" => Ok(None),
                Err(e) => Err(e.into()),
            })
            .collect()
    }

    /// Proves tracked packets' next steps to the hub; returns the keys found done (their
    /// commitment is gone from the source).
    async fn relay_to_hub(&self, heights: &BTreeMap<ChainId, u64>) -> eyre::Result<Vec<Hash32>> {
        let mut done = Vec::new();
        if self.tracked.is_empty() {
            return Ok(done);
        }
        // Per chain, the header of the height proofs are taken at: the latest block when
        // the hub's client can take it (`updatable`: a client update goes first in the same
        // transaction); otherwise the client's own latest height (e.g. several blocks
        // stamped in one second), whose root the hub already holds. A chain whose client is
        // ahead of what this node has seen gets no proofs this cycle. Each header is
        // fetched once and serves deadlines and proof checks alike.
        let mut headers: BTreeMap<ChainId, AttestedHeader> = BTreeMap::new();
        let mut updatable: BTreeSet<ChainId> = BTreeSet::new();
        for (id, a) in &self.chains {
            let (hub_h, hub_ts) = self.client_height(id).await?;
            let h = heights.get(id).copied().unwrap_or(0);
            let latest = a.attested_header(h).await.map_err(|e| eyre!(named(&e)))?;
            if h > hub_h && latest.timestamp > hub_ts {
                updatable.insert(id.clone());
                headers.insert(id.clone(), latest);
            } else if hub_h <= h {
                let header = if hub_h == h {
                    latest
                } else {
                    a.attested_header(hub_h)
                        .await
                        .map_err(|e| eyre!(named(&e)))?
                };
                headers.insert(id.clone(), header);
            }
        }
        let keys: Vec<Hash32> = self.tracked.keys().copied().collect();
        let states = self.hub_states(&keys).await?;
        let mut work = Vec::new();
        for (key, state) in keys.iter().zip(states) {
            let Some(t) = self.tracked.get(key) else {
                continue;
            };
            let p = &t.packet;
            let (Some(src), Some(dst)) = (
                self.chains.get(&p.source_chain),
                self.chains.get(&p.dest_chain),
            ) else {
                continue;
            };
            let (Some(src_header), Some(dst_header)) =
                (headers.get(&p.source_chain), headers.get(&p.dest_chain))
            else {
                continue;
            };
            let (h_src, h_dst) = (src_header.number, dst_header.number);
            let past = p
                .timeout
                .is_reached(h_dst, dst_header.timestamp.saturating_mul(1000));
            let kind = match state.as_deref() {
                // Sent after the proof height: its commitment is not in that state yet.
                None if t.height > h_src => continue,
                None => Work::Recv { past },
                Some("pending") => match self.receipts.get(key) {
                    Some(r) if r.height <= h_dst => Work::Ack(r.clone()),
                    Some(_) => continue,
                    None if past => Work::Timeout,
                    None => continue,
                },
                // An outcome is on the hub: it reaches the source through the log; the
                // packet is done once the source gateway reports the outcome delivered.
                Some(_) => continue,
            };
            work.push(Job {
                key: *key,
                packet: p.clone(),
                src: src.clone(),
                dst: dst.clone(),
                work: kind,
            });
        }
        // Source order: ordered routes expect sequence order.
        work.sort_by(|a, b| {
            (
                &a.packet.source_chain,
                &a.packet.dest_chain,
                a.packet.sequence,
            )
                .cmp(&(
                    &b.packet.source_chain,
                    &b.packet.dest_chain,
                    b.packet.sequence,
                ))
        });
        let proving = std::time::Instant::now();
        let jobs = work.len();
        let built = build_all(work, &headers).await;
        let mut msgs = Vec::new();
        let mut needs_update: BTreeSet<ChainId> = BTreeSet::new();
        // A packet whose proof failed (e.g. a node's proof that does not verify against
        // its own state root, seen from anvil under load) waits for the next cycle; the
        // others go ahead.
        let mut failed = 0usize;
        for b in built {
            let b = match b {
                Ok(b) => b,
                Err(e) => {
                    failed += 1;
                    if failed == 1 {
                        warn!("relayer: a packet's proof failed, retried next cycle: {e:#}");
                    }
                    self.metrics.error("proof_failed");
                    continue;
                }
            };
            match b {
                Built::Msg { msg, update } => {
                    needs_update.extend(update);
                    msgs.push(*msg);
                }
                Built::Done(key) => done.push(key),
            }
        }
        if msgs.is_empty() {
            return Ok(done);
        }
        let mut updates = Vec::new();
        for chain in needs_update.intersection(&updatable) {
            let (Some(header), a) = (headers.get(chain), self.adapter(chain)?) else {
                continue;
            };
            updates.push(RelayMsg::UpdateClient {
                chain: chain.clone(),
                header: a
                    .header_update(header.number)
                    .await
                    .map_err(|e| eyre!(named(&e)))?,
            });
        }
        let proved = proving.elapsed();
        let n = msgs.len();
        self.submit(updates, msgs).await?;
        debug!(
            jobs,
            msgs = n,
            proofs_ms = proved.as_millis() as u64,
            submit_ms = (proving.elapsed() - proved).as_millis() as u64,
            "relayed to the hub"
        );
        Ok(done)
    }

    async fn next_nonce(&self) -> eyre::Result<u64> {
        let addr = junction_spec::address_from_ed25519(self.key.public_key().as_bytes());
        let v = self
            .hub
            .call("account", json!({"address": hex::encode(addr)}))
            .await?;
        v.get("next_nonce")
            .and_then(Value::as_u64)
            .ok_or_else(|| eyre!("account has no next_nonce"))
    }

    /// Submits `updates` then `msgs` in transactions of at most `MAX_RELAY_MSGS`
    /// messages and `MAX_TX_BYTES`; a message the hub refuses at admission is dropped by
    /// its index (and counted), the rest resubmitted.
    ///
    /// The first transaction (with the client updates) is awaited until committed, since
    /// the hub admits a proof only against a committed client height; the others are then
    /// admitted back to back with consecutive nonces, and the last is awaited.
    async fn submit(&self, updates: Vec<RelayMsg>, msgs: Vec<RelayMsg>) -> eyre::Result<()> {
        let mut chunks: Vec<Vec<RelayMsg>> = Vec::new();
        let mut cur: Vec<RelayMsg> = updates;
        let mut bytes: usize = cur.iter().map(|m| m.to_bytes().len()).sum();
        for m in msgs {
            let len = m.to_bytes().len();
            if cur.len() + 1 > junction_spec::relay::MAX_RELAY_MSGS
                || bytes + len > MAX_TX_BYTES - 1_024
            {
                chunks.push(std::mem::take(&mut cur));
                bytes = 0;
            }
            bytes += len;
            cur.push(m);
        }
        if !cur.is_empty() {
            chunks.push(cur);
        }
        let last = chunks.len().saturating_sub(1);
        let mut nonce = self.next_nonce().await?;
        for (i, mut chunk) in chunks.into_iter().enumerate() {
            let mode = if i == 0 || i == last {
                "commit"
            } else {
                "sync"
            };
            for _attempt in 0..8 {
                if chunk.is_empty() {
                    break;
                }
                let tx = crate::cli::sign_tx(
                    &self.key,
                    &self.hub_chain,
                    nonce,
                    TxKind::Relay {
                        msgs: chunk.clone(),
                    },
                );
                let res = self
                    .hub
                    .call(
                        "broadcast_tx",
                        json!({"tx": hex::encode(tx.to_bytes()), "mode": mode}),
                    )
                    .await;
                match res {
                    Ok(_) => {
                        self.metrics.hub_msgs.inc_by(chunk.len() as u64);
                        nonce += 1;
                        break;
                    }
                    Err(ClientError::Rpc {
                        code: 3001,
                        name,
                        message,
                    }) => {
                        self.metrics.error(&name);
                        let index = message
                            .strip_prefix("relay message ")
                            .and_then(|s| s.split(' ').next())
                            .and_then(|s| s.parse::<usize>().ok());
                        match index {
                            Some(i) if i < chunk.len() => {
                                warn!(error = %name, "hub refused relay message {i}: {message}");
                                chunk.remove(i);
                            }
                            _ => {
                                return Err(eyre!(
                                    "hub refused the relay transaction: {name}: {message}"
                                ))
                            }
                        }
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        }
        Ok(())
    }

    /// Delivers the hub's committed log entries to their gateways; returns how many
    /// entries are still undelivered.
    async fn deliver_to_gateways(&self) -> eyre::Result<(u64, Vec<(ChainId, u64)>)> {
        let fetching = std::time::Instant::now();
        let cp = self.hub.call("checkpoint", json!({})).await?;
        let checkpoint_hex = cp
            .get("checkpoint_hex")
            .and_then(Value::as_str)
            .ok_or_else(|| eyre!("checkpoint without checkpoint_hex"))?;
        let checkpoint = Checkpoint::from_bytes(
            &hex::decode(checkpoint_hex).map_err(|e| eyre!("checkpoint_hex: {e}"))?,
        )
        .map_err(|e| eyre!("checkpoint: {e}"))?;
        let signatures: Vec<[u8; 65]> = cp
            .get("signatures")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str())
                    .filter_map(|s| hex::decode(s).ok())
                    .filter_map(|b| <[u8; 65]>::try_from(b).ok())
                    .collect()
            })
            .unwrap_or_default();
        let set_hex = cp
            .get("attestation_set_hex")
            .and_then(Value::as_str)
            .ok_or_else(|| eyre!("checkpoint without attestation_set_hex"))?;
        let set = AttestationSet::from_bytes(
            &hex::decode(set_hex).map_err(|e| eyre!("attestation_set_hex: {e}"))?,
        )
        .map_err(|e| eyre!("attestation set: {e}"))?;
        let proof_cp = CheckpointProof {
            checkpoint: checkpoint.clone(),
            signatures,
            attestation_set: Some(set),
            next_set: None,
        };
        let size = checkpoint.log_size;
        let ids: Vec<ChainId> = self.chains.keys().cloned().collect();
        let mut jobs = Vec::new();
        for id in ids {
            let from = self.cursor.get(&id).copied().unwrap_or(0);
            if from >= size {
                continue;
            }
            let v = self
                .hub
                .call(
                    "log_entries",
                    json!({"from": from, "to": size, "target_chain": id.as_str()}),
                )
                .await?;
            let to = v.get("to").and_then(Value::as_u64).unwrap_or(from);
            let entries = v
                .get("entries")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let indices = entries
                .iter()
                .map(|e| {
                    e.get("index")
                        .and_then(Value::as_u64)
                        .ok_or_else(|| eyre!("log entry without index"))
                })
                .collect::<eyre::Result<Vec<u64>>>()?;
            let mut proven = Vec::with_capacity(indices.len());
            for chunk in indices.chunks(crate::rpc_packets::MAX_LOG_PROOFS) {
                let v = self
                    .hub
                    .call("log_proofs", json!({"indices": chunk, "tree_size": size}))
                    .await?;
                let answers = v
                    .get("proofs")
                    .and_then(Value::as_array)
                    .ok_or_else(|| eyre!("log_proofs answer without proofs"))?;
                if answers.len() != chunk.len() {
                    return Err(eyre!(
                        "log_proofs answered {} proofs for {} indices",
                        answers.len(),
                        chunk.len()
                    ));
                }
                for (index, p) in chunk.iter().zip(answers) {
                    let entry = LogEntry::from_bytes(
                        &hex::decode(p.get("entry_hex").and_then(Value::as_str).unwrap_or(""))
                            .map_err(|e| eyre!("entry_hex: {e}"))?,
                    )
                    .map_err(|e| eyre!("log entry {index}: {e}"))?;
                    let proof = p
                        .get("proof")
                        .and_then(Value::as_array)
                        .map(|a| a.iter().map(|h| hex32(h, "proof node")).collect())
                        .unwrap_or_else(|| Ok(Vec::new()))?;
                    proven.push(EntryProof {
                        entry,
                        index: *index,
                        proof,
                    });
                }
            }
            jobs.push((id, to, proven));
        }
        let fetched = fetching.elapsed();
        let entries: usize = jobs.iter().map(|(_, _, p)| p.len()).sum();
        // Chains are delivered to concurrently; a chain's batches are mined together unless
        // an ordered route makes them wait for each other.
        let max_batch = self.max_batch;
        let metrics = self.metrics.clone();
        let results = futures::future::join_all(jobs.into_iter().map(|(id, to, proven)| {
            let a = self.chains.get(&id).cloned();
            let proof_cp = &proof_cp;
            let metrics = metrics.clone();
            async move {
                let Some(a) = a else {
                    return (id, to, true, 0u64);
                };
                let mut all_ok = true;
                let mut undelivered = 0u64;
                let batches: Vec<&[EntryProof]> = proven.chunks(max_batch).collect();
                let results = a.deliver_batches(proof_cp, &batches).await;
                for (batch, result) in batches.iter().zip(results) {
                    match result {
                        Ok(out) => {
                            metrics
                                .delivered
                                .inc_by((batch.len() - out.skipped.len()) as u64);
                        }
                        Err(e) => match e.revert_name() {
                            // Everything in the batch was already there.
                            Some("AlreadyDelivered") | Some("PacketNotPending") => {}
                            Some(name) => {
                                metrics.error(name);
                                warn!(
                                    chain = id.as_str(),
                                    "gateway refused a batch: {}",
                                    named(&e)
                                );
                                all_ok = false;
                                undelivered += batch.len() as u64;
                            }
                            None => {
                                metrics.error(e.name());
                                warn!(chain = id.as_str(), "delivery failed: {}", named(&e));
                                all_ok = false;
                                undelivered += batch.len() as u64;
                            }
                        },
                    }
                }
                (id, to, all_ok, undelivered)
            }
        }))
        .await;
        if entries > 0 {
            debug!(
                entries,
                fetch_ms = fetched.as_millis() as u64,
                deliver_ms = (fetching.elapsed() - fetched).as_millis() as u64,
                "delivered to the gateways"
            );
        }
        let mut undelivered = 0u64;
        let mut cursors = Vec::new();
        for (id, to, all_ok, n) in results {
            undelivered += n;
            if all_ok {
                cursors.push((id, to));
            }
        }
        Ok((undelivered, cursors))
    }
}

/// Most requests in one JSON-RPC batch to the hub (its default `rpc.max_batch`).
const HUB_BATCH: usize = 64;

/// What a tracked packet needs this cycle.
#[derive(Debug)]
enum Work {
    /// Prove its commitment (or, past its deadline, the destination's missing receipt).
    Recv { past: bool },
    /// Prove the destination's receipt.
    Ack(Receipt),
    /// Prove the destination's missing receipt after the deadline.
    Timeout,
}

struct Job {
    key: Hash32,
    packet: Packet,
    src: Arc<EvmAdapter>,
    dst: Arc<EvmAdapter>,
    work: Work,
}

enum Built {
    /// A message, and the chains whose clients must be updated to the proof heights.
    Msg {
        msg: Box<RelayMsg>,
        update: Vec<ChainId>,
    },
    /// Its commitment is gone: an outcome reached the source.
    Done(Hash32),
}

/// One slot proof a job needs (grouped by the chain it is taken on).
struct ProofNeed {
    job: usize,
    claim: SlotClaim,
}

/// Builds every job's message. Proofs are grouped by chain and fetched with one
/// `eth_getProof` per group chunk (the gateway's storage trie is walked once for many
/// slots), the groups concurrently, each checked against the chain's header in `headers`
/// (the proof height this cycle chose, whose time also decided the deadlines).
async fn build_all(
    work: Vec<Job>,
    headers: &BTreeMap<ChainId, AttestedHeader>,
) -> Vec<eyre::Result<Built>> {
    let mut groups: BTreeMap<ChainId, (Arc<EvmAdapter>, Vec<ProofNeed>)> = BTreeMap::new();
    for (i, job) in work.iter().enumerate() {
        let mut need = |adapter: &Arc<EvmAdapter>, claim: SlotClaim| {
            groups
                .entry(adapter.chain().clone())
                .or_insert_with(|| (adapter.clone(), Vec::new()))
                .1
                .push(ProofNeed { job: i, claim });
        };
        match job.work {
            Work::Recv { past } => {
                need(&job.src, SlotClaim::Commitment);
                if past {
                    need(&job.dst, SlotClaim::NoReceipt);
                }
            }
            Work::Ack(_) => need(&job.dst, SlotClaim::Receipt),
            Work::Timeout => need(&job.dst, SlotClaim::NoReceipt),
        }
    }
    let proven = futures::future::join_all(groups.into_iter().map(|(chain, (a, needs))| {
        let work = &work;
        async move {
            let claims: Vec<(SlotClaim, &Packet)> = needs
                .iter()
                .map(|n| (n.claim, &work[n.job].packet))
                .collect();
            let proofs = match headers.get(&chain) {
                Some(header) => a.prove_slots_under(header, &claims).await,
                None => claims
                    .iter()
                    .map(|_| Err(AdapterError::Rpc("no header at the proof height".into())))
                    .collect(),
            };
            needs.into_iter().zip(proofs).collect::<Vec<_>>()
        }
    }))
    .await;
    // (job, claim) -> its proof; a job has at most one proof per claim.
    let mut by_job: BTreeMap<(usize, SlotClaim), Result<SourceProof, AdapterError>> =
        BTreeMap::new();
    for (need, proof) in proven.into_iter().flatten() {
        by_job.insert((need.job, need.claim), proof);
    }
    work.into_iter()
        .enumerate()
        .map(|(i, job)| {
            let mut take = |claim: SlotClaim| {
                by_job
                    .remove(&(i, claim))
                    .unwrap_or_else(|| Err(AdapterError::Rpc("proof not fetched".into())))
            };
            job.assemble(&mut take)
        })
        .collect()
}

impl Job {
    /// The job's message from its proofs (`take` hands over the proof of each claim).
    fn assemble(
        self,
        take: &mut impl FnMut(SlotClaim) -> Result<SourceProof, AdapterError>,
    ) -> eyre::Result<Built> {
        let p = self.packet;
        let src_chain = p.source_chain.clone();
        let dst_chain = p.dest_chain.clone();
        match self.work {
            Work::Recv { past } => {
                let commitment = match take(SlotClaim::Commitment) {
                    Ok(c) => c,
                    // Cleared meanwhile (an outcome reached the source): done.
                    Err(e) if e.name() == "not_committed" => return Ok(Built::Done(self.key)),
                    Err(e) => return Err(eyre!(named(&e))),
                };
                let msg = if past {
                    let absence = take(SlotClaim::NoReceipt).map_err(|e| eyre!(named(&e)))?;
                    RelayMsg::TimeoutPacket {
                        packet: p,
                        absence,
                        commitment: Some(commitment),
                    }
                } else {
                    RelayMsg::RecvPacket {
                        packet: p,
                        proof: commitment,
                    }
                };
                Ok(Built::Msg {
                    msg: Box::new(msg),
                    update: vec![src_chain, dst_chain],
                })
            }
            Work::Ack(r) => {
                let proof = take(SlotClaim::Receipt).map_err(|e| eyre!(named(&e)))?;
                Ok(Built::Msg {
                    msg: Box::new(RelayMsg::AckPacket {
                        packet: p,
                        app_succeeded: r.app_succeeded,
                        result: r.result,
                        proof,
                    }),
                    update: vec![dst_chain],
                })
            }
            Work::Timeout => {
                let absence = take(SlotClaim::NoReceipt).map_err(|e| eyre!(named(&e)))?;
                Ok(Built::Msg {
                    msg: Box::new(RelayMsg::TimeoutPacket {
                        packet: p,
                        absence,
                        commitment: None,
                    }),
                    update: vec![dst_chain],
                })
            }
        }
    }
}

/// `junction relay --config relayer.toml`.
pub async fn run(config_path: &Path) -> eyre::Result<()> {
    let config = RelayerConfig::load(config_path)?;
    let relayer = Relayer::connect(&config).await?;
    if let Some(addr) = config.metrics_listen {
        let metrics = relayer.metrics.clone();
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .wrap_err_with(|| format!("binding metrics_listen {addr}"))?;
        let app = axum::Router::new().route(
            "/metrics",
            axum::routing::get(move || {
                let m = metrics.clone();
                async move { m.render() }
            }),
        );
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
    }
    info!(chains = config.chains.len(), "relayer started");
    relayer.run(Duration::from_millis(config.poll_ms)).await
}
