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
//! `RUST_LOG=junction_relayer=debug` each cycle logs where its time went.
//!
//! The backlog (source packets without an outcome delivered back, plus log entries not
//! yet delivered) is exported as the `junction_relayer_backlog` gauge.

pub mod hub_bridge;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
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

use junction_adapters::evm::adapter::{EvmAdapter, EvmAdapterConfig};
use junction_adapters::ledger_rpc::LedgerRpcAdapter;
use junction_adapters::plugin::{FailureHook, PluginProcess};
use junction_adapters::plugin_adapter::PluginAdapter;
use junction_adapters::{
    Adapter, AdapterError, CheckpointProof, EntryProof, HeaderInfo, ProofClaim, Receipt, SentPacket,
};
use junction_spec::attestation::AttestationSet;
use junction_spec::{
    ChainId, Checkpoint, Decode, Encode, Hash32, LogEntry, Packet, RelayMsg, SourceProof, TxKind,
    MAX_TX_BYTES,
};

use junction_rpc::methods::*;
use junction_rpc::{ClientError, Hex, HexBytes, RpcClient};
use junction_telemetry::ReasonLabel;

/// Most headers of a chain whose hub client takes every block in turn (QBFT) that one
/// cycle sends: together they stay well inside one relay transaction's message and byte
/// bounds.
pub const MAX_SEQUENTIAL_UPDATES: u64 = 16;

/// Which adapter serves a chain.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AdapterChoice {
    /// The built-in EVM adapter (attested or QBFT): a JSON-RPC node and a gateway.
    #[default]
    Evm,
    /// A source-only ledger behind the `ledger_rpc` protocol
    /// (`junction_adapters::ledger_rpc`): only `id` and `rpc` are set.
    LedgerRpc,
    /// An adapter plugin (`spec/adapter-protocol.md`): only `id` and `command` are set;
    /// the plugin reaches its ledger itself.
    Plugin,
}

/// One chain the relayer serves.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct ChainConfig {
    /// The chain's id on the hub.
    pub id: String,
    /// The adapter that serves it.
    #[serde(default, skip_serializing_if = "is_evm")]
    pub adapter: AdapterChoice,
    /// JSON-RPC endpoint (127.0.0.1); empty for a plugin.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub rpc: String,
    /// A plugin's program and arguments (`adapter = "plugin"`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<String>,
    /// EIP-155 chain id.
    #[serde(default)]
    pub evm_chain_id: u64,
    /// Gateway address (hex).
    #[serde(default)]
    pub gateway: String,
    /// Block the gateway was deployed in.
    #[serde(default)]
    pub deploy_block: u64,
    /// Key file (secp256k1, `{"private_key", "address"}`, mode 0600) of the account
    /// paying for `deliver`.
    #[serde(default)]
    pub sender_key_file: String,
    /// The chain is registered as `evm_qbft`: the hub follows it by its validators' seals,
    /// every block in turn, and the relayer forwards the sealed headers.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub qbft: bool,
}

fn is_evm(a: &AdapterChoice) -> bool {
    *a == AdapterChoice::Evm
}

impl ChainConfig {
    /// Refuses settings the chain's adapter would ignore, and a chain without what its
    /// adapter needs.
    fn check(&self) -> eyre::Result<()> {
        let evm_settings = self.evm_chain_id != 0
            || !self.gateway.is_empty()
            || self.deploy_block != 0
            || !self.sender_key_file.is_empty()
            || self.qbft;
        match self.adapter {
            AdapterChoice::LedgerRpc if evm_settings || !self.command.is_empty() => Err(eyre!(
                "chain {}: a ledger_rpc chain takes only id and rpc (no EVM settings, no command)",
                self.id
            )),
            AdapterChoice::Plugin if evm_settings || !self.rpc.is_empty() => Err(eyre!(
                "chain {}: a plugin chain takes only id and command (the plugin reaches its ledger itself)",
                self.id
            )),
            AdapterChoice::Plugin if self.command.first().is_none_or(|p| p.is_empty()) => Err(
                eyre!("chain {}: a plugin chain needs its command", self.id),
            ),
            AdapterChoice::Evm | AdapterChoice::LedgerRpc if self.rpc.is_empty() => {
                Err(eyre!("chain {}: rpc is missing", self.id))
            }
            AdapterChoice::Evm if !self.command.is_empty() => Err(eyre!(
                "chain {}: command is for plugin chains (adapter = \"plugin\")",
                self.id
            )),
            _ => Ok(()),
        }
    }
}

/// The adapter of a configured chain, built-in or plugin (run in `dir`, its failures told
/// to `hook`).
pub async fn adapter_for(
    c: &ChainConfig,
    dir: Option<PathBuf>,
    hook: Option<FailureHook>,
) -> eyre::Result<Arc<dyn Adapter>> {
    let id = ChainId::new(&c.id).map_err(|e| eyre!("chain id {}: {e}", c.id))?;
    match c.adapter {
        AdapterChoice::Plugin => {
            let mut process = PluginProcess::new(&c.id, c.command.clone())
                .map_err(|e| eyre!("chain {}: {}: {e}", c.id, e.name()))?
                .in_dir(dir);
            if let Some(hook) = hook {
                process = process.on_failure(hook);
            }
            let adapter = PluginAdapter::start(id, process)
                .await
                .map_err(|e| eyre!("chain {}: {}", c.id, named(&e)))?;
            Ok(Arc::new(adapter))
        }
        AdapterChoice::LedgerRpc => {
            let adapter = LedgerRpcAdapter::connect(&c.rpc, id)
                .await
                .map_err(|e| eyre!("chain {}: {}", c.id, named(&e)))?;
            Ok(Arc::new(adapter))
        }
        AdapterChoice::Evm => Ok(Arc::new(evm_adapter(c).await?)),
    }
}

/// The built-in adapter of an EVM chain (`adapter = "evm"`) as configured.
pub async fn evm_adapter(c: &ChainConfig) -> eyre::Result<EvmAdapter> {
    let id = ChainId::new(&c.id).map_err(|e| eyre!("chain id {}: {e}", c.id))?;
    let gateway: [u8; 20] = hex::decode(c.gateway.trim_start_matches("0x"))
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| eyre!("chain {}: gateway is not a 20-byte hex address", c.id))?;
    EvmAdapter::connect(EvmAdapterConfig {
        rpc_url: c.rpc.clone(),
        chain: id,
        evm_chain_id: c.evm_chain_id,
        gateway: gateway.into(),
        deploy_block: c.deploy_block,
        // Attested headers are signed by the members' attesters, on their own
        // machines, and gathered by the hub: a relayer holds no attester key.
        attester_keys: Vec::new(),
        sender_key: load_secp_key(&c.sender_key_file, "sender key file")?,
        qbft: c.qbft,
    })
    .await
    .map_err(|e| eyre!("chain {}: {}", c.id, named(&e)))
}

/// Loads a secp256k1 key file, refusing one that others may read.
pub fn load_secp_key(path: &str, what: &str) -> eyre::Result<k256::ecdsa::SigningKey> {
    let path = Path::new(path);
    junction_keys::check_private(path).map_err(|e| eyre!("{what}: {e}"))?;
    junction_keys::AttestationKeyFile::load(path)
        .map_err(|e| eyre!("{what}: {e}"))?
        .signing_key()
        .map_err(|e| eyre!("{what} {}: {e}", path.display()))
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
    /// Most packets of the backlog (those pending when the relayer started) proven per
    /// cycle, oldest first in each sequence space; packets sent since go at once.
    #[serde(default = "default_clear_limit")]
    pub clear_limit: usize,
    /// Share (percent, 1 to 90) of a destination block's gas limit one delivery batch may
    /// plan for: the entries' gas limits plus overheads must fit in it.
    #[serde(default = "default_batch_gas_percent")]
    pub batch_gas_percent: u64,
    /// Where `/metrics` is served (127.0.0.1 only), if anywhere.
    #[serde(default)]
    pub metrics_listen: Option<std::net::SocketAddr>,
    /// The chains.
    pub chains: Vec<ChainConfig>,
    /// The directory of the file it was read from: plugins run there.
    #[serde(skip)]
    pub dir: Option<PathBuf>,
}

fn default_poll_ms() -> u64 {
    300
}

fn default_clear_limit() -> usize {
    100
}

fn default_batch() -> usize {
    100
}

fn default_batch_gas_percent() -> u64 {
    50
}

impl RelayerConfig {
    /// The configuration as `relayer.toml` text.
    pub fn to_toml(&self) -> eyre::Result<String> {
        toml::to_string(self).map_err(|e| eyre!("relayer.toml: {e}"))
    }

    /// The relayer's hub key, from its key file (refused when others may read it).
    pub fn relayer_key(&self) -> eyre::Result<junction_keys::PrivateKey> {
        let key_path = Path::new(&self.relayer_key_file);
        junction_keys::check_private(key_path).map_err(|e| eyre!("relayer_key_file: {e}"))?;
        junction_keys::KeyFile::load(key_path)
            .map_err(|e| eyre!("{e}"))?
            .private_key()
            .map_err(|e| eyre!(e))
    }

    /// Reads and checks `relayer.toml`.
    pub fn load(path: &Path) -> eyre::Result<Self> {
        let text = std::fs::read_to_string(path)
            .wrap_err_with(|| format!("reading {}", path.display()))?;
        let mut c: RelayerConfig =
            toml::from_str(&text).wrap_err_with(|| format!("parsing {}", path.display()))?;
        c.dir = path.parent().map(Path::to_path_buf);
        // One chain is enough: a relayer per chain carries the packets the hub logged for
        // it and proves their receipts, whoever relayed them from their source.
        if c.chains.is_empty() {
            return Err(eyre!("{}: name at least one chain", path.display()));
        }
        for chain in &c.chains {
            chain.check()?;
        }
        if c.clear_limit == 0 || c.clear_limit > 10_000 {
            return Err(eyre!("{}: clear_limit must be 1..=10000", path.display()));
        }
        if c.max_batch == 0 || c.max_batch > 500 {
            return Err(eyre!("{}: max_batch must be 1..=500", path.display()));
        }
        if c.batch_gas_percent == 0 || c.batch_gas_percent > 90 {
            return Err(eyre!(
                "{}: batch_gas_percent must be 1..=90",
                path.display()
            ));
        }
        if let Some(a) = c.metrics_listen {
            if !a.ip().is_loopback() {
                return Err(eyre!("metrics_listen must be a loopback address"));
            }
        }
        Ok(c)
    }
}

/// Relayer metrics.
#[derive(Debug, Default)]
pub struct RelayerMetrics {
    registry: Registry,
    /// Packets and log entries waiting.
    pub backlog: Gauge,
    /// Packets pending at the start not yet cleared (`clear_limit` a cycle).
    pub backlog_remaining: Gauge,
    /// Relay messages accepted by the hub.
    pub hub_msgs: Counter,
    /// Log entries delivered to gateways.
    pub delivered: Counter,
    /// Errors by name.
    pub errors: Family<ReasonLabel, Counter>,
    /// Log entries whose delivery failed and that wait to be retried alone.
    pub stuck: Gauge,
    /// Packets the hub refused for now (retried later), by the hub's reason.
    pub refused: Family<ReasonLabel, Counter>,
    /// Followed packets by why they wait (`in_progress`: proven or delivered this cycle).
    pub waiting: Family<ReasonLabel, Gauge>,
    /// Followed packets by route (`source->destination`).
    pub route_pending: Family<RouteLabel, Gauge>,
    /// Age of each route's oldest followed packet, seconds since its send.
    pub route_oldest_secs: Family<RouteLabel, Gauge>,
    /// Failures of adapter plugins, by chain and reason (`spec/adapter-protocol.md` §5).
    pub plugin_failures: Family<ChainReasonLabel, Counter>,
    /// Reasons and routes the waiting gauges were set for.
    seen_labels: std::sync::Mutex<(BTreeSet<String>, BTreeSet<String>)>,
}

/// A route, `source->destination`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, prometheus_client::encoding::EncodeLabelSet)]
pub struct RouteLabel {
    /// The route.
    pub route: String,
}

/// A chain and a reason.
#[derive(Clone, Debug, Hash, PartialEq, Eq, prometheus_client::encoding::EncodeLabelSet)]
pub struct ChainReasonLabel {
    /// The chain.
    pub chain: String,
    /// The reason.
    pub reason: String,
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
            "backlog_remaining",
            "Packets pending when the relayer started that are not cleared yet",
            m.backlog_remaining.clone(),
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
        registry.register(
            "stuck_entries",
            "Log entries whose delivery failed, waiting to be retried alone",
            m.stuck.clone(),
        );
        registry.register(
            "hub_refusals",
            "Packets the hub refused for now, by reason",
            m.refused.clone(),
        );
        registry.register(
            "waiting_packets",
            "Followed packets by why they wait",
            m.waiting.clone(),
        );
        registry.register(
            "route_pending_packets",
            "Followed packets by route",
            m.route_pending.clone(),
        );
        registry.register(
            "route_oldest_pending_seconds",
            "Age of each route's oldest followed packet, seconds since its send",
            m.route_oldest_secs.clone(),
        );
        registry.register(
            "plugin_failures",
            "Adapter plugin failures (the plugin was stopped and is restarted), by chain and reason",
            m.plugin_failures.clone(),
        );
        RelayerMetrics { registry, ..m }
    }

    /// Sets the waiting gauges to this cycle's counts; a reason or route no longer seen
    /// goes to zero.
    fn set_waiting(
        &self,
        by_reason: &BTreeMap<String, u64>,
        routes: &BTreeMap<String, (u64, u64)>,
    ) {
        let mut seen = lock(&self.seen_labels);
        for (reason, n) in by_reason {
            seen.0.insert(reason.clone());
            self.waiting
                .get_or_create(&ReasonLabel {
                    reason: reason.clone(),
                })
                .set(*n as i64);
        }
        for reason in seen.0.iter().filter(|r| !by_reason.contains_key(*r)) {
            self.waiting
                .get_or_create(&ReasonLabel {
                    reason: reason.clone(),
                })
                .set(0);
        }
        for (route, (n, age)) in routes {
            seen.1.insert(route.clone());
            let label = RouteLabel {
                route: route.clone(),
            };
            self.route_pending.get_or_create(&label).set(*n as i64);
            self.route_oldest_secs
                .get_or_create(&label)
                .set(*age as i64);
        }
        for route in seen.1.iter().filter(|r| !routes.contains_key(*r)) {
            let label = RouteLabel {
                route: route.clone(),
            };
            self.route_pending.get_or_create(&label).set(0);
            self.route_oldest_secs.get_or_create(&label).set(0);
        }
    }

    fn error(&self, name: &str) {
        junction_telemetry::count_reason(&self.errors, name);
    }

    /// Prometheus text.
    pub fn render(&self) -> Result<String, junction_telemetry::MetricsError> {
        junction_telemetry::render_registry(&self.registry)
    }
}

/// A packet the relayer follows: one a source it serves sent, until its commitment is
/// cleared; or one the hub logged for a destination it serves from a source it does not
/// serve (another relayer's chain, or a chain under another hub), until the hub holds its
/// outcome.
#[derive(Debug, Clone)]
struct Tracked {
    packet: Packet,
    /// The source block that holds its `send` (0 for a packet from another source).
    height: u64,
    /// Found pending when the relayer started: cleared at most `clear_limit` a cycle.
    backlog: bool,
    /// When this relayer first saw it.
    first_seen: std::time::SystemTime,
    /// The time of its source block (seconds), once read.
    sent_secs: Option<u64>,
}

impl Tracked {
    fn new(packet: Packet, height: u64, backlog: bool) -> Self {
        Self {
            packet,
            height,
            backlog,
            first_seen: std::time::SystemTime::now(),
            sent_secs: None,
        }
    }

    /// Seconds since it was sent (since this relayer saw it, before its block's time is
    /// read).
    fn age_secs(&self, now: std::time::SystemTime) -> u64 {
        let seen = now
            .duration_since(self.first_seen)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let now_secs = now
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        self.sent_secs
            .map_or(seen, |t| now_secs.saturating_sub(t).max(seen))
    }
}

/// Why a followed packet did not move on in the last cycle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Waiting {
    /// A stable name (`waiting_for_proof_height`, `rate_limited`, `delivery_refused`, ...).
    pub reason: String,
    /// What the relayer saw.
    pub detail: String,
}

fn waiting(reason: &str, detail: impl Into<String>) -> Waiting {
    Waiting {
        reason: reason.to_owned(),
        detail: detail.into(),
    }
}

/// The relayer.
pub struct Relayer {
    hub: RpcClient,
    hub_chain: ChainId,
    key: junction_keys::PrivateKey,
    chains: BTreeMap<ChainId, Arc<dyn Adapter>>,
    max_batch: usize,
    clear_limit: usize,
    /// Packets pending when the relayer started (the backlog it clears).
    backlog_at_start: usize,
    /// Next block to scan for `PacketSent`, per chain.
    scanned: BTreeMap<ChainId, u64>,
    /// Source packets without a delivered outcome, by packet key hash.
    tracked: BTreeMap<Hash32, Tracked>,
    /// Log entries waiting for delivery, per destination chain.
    deliveries: BTreeMap<ChainId, Delivery>,
    /// Share (percent) of a destination block's gas limit one delivery batch may plan for.
    batch_gas_percent: u64,
    /// Packets the hub refused for now, by packet key: retried after a pause.
    hub_backoff: std::sync::Mutex<BTreeMap<Hash32, Backoff>>,
    /// Why each followed packet waits, as the last cycle saw it.
    waiting: std::sync::Mutex<BTreeMap<Hash32, Waiting>>,
    /// Packets an operator parked on the hub, with the reason: never delivered here.
    parked: std::sync::Mutex<BTreeMap<Hash32, String>>,
    /// Parked packets whose entries were left this cycle, to be followed to their timeout.
    parked_left: std::sync::Mutex<Vec<(Hash32, Packet)>>,
    /// What `junction relay status` shows, refreshed every cycle.
    pub status: Arc<std::sync::Mutex<Value>>,
    /// Each followed packet, and why it waits (`/packet/<key>`), refreshed every cycle.
    pub packets: Arc<std::sync::Mutex<BTreeMap<Hash32, Value>>>,
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

impl Relayer {
    /// Connects to the hub and every chain, and rebuilds the pending packets from the
    /// chains' gateway commitments.
    pub async fn connect(config: &RelayerConfig) -> eyre::Result<Self> {
        let key = config.relayer_key()?;
        let hub_chain =
            ChainId::new(&config.hub_chain_id).map_err(|e| eyre!("hub_chain_id: {e}"))?;
        let metrics = Arc::new(RelayerMetrics::new());
        // Built-in adapters by configuration; the relayer itself sees only `dyn Adapter`.
        let mut chains: BTreeMap<ChainId, Arc<dyn Adapter>> = BTreeMap::new();
        for c in &config.chains {
            let id = ChainId::new(&c.id).map_err(|e| eyre!("chain id {}: {e}", c.id))?;
            let (counted, chain) = (metrics.clone(), c.id.clone());
            let hook: FailureHook = Box::new(move |reason| {
                counted
                    .plugin_failures
                    .get_or_create(&ChainReasonLabel {
                        chain: chain.clone(),
                        reason: reason.to_owned(),
                    })
                    .inc();
            });
            chains.insert(id, adapter_for(c, config.dir.clone(), Some(hook)).await?);
        }
        let mut r = Relayer {
            hub: RpcClient::new(config.hub_rpc.clone()),
            hub_chain,
            key,
            chains,
            max_batch: config.max_batch,
            clear_limit: config.clear_limit,
            backlog_at_start: 0,
            scanned: BTreeMap::new(),
            tracked: BTreeMap::new(),
            deliveries: BTreeMap::new(),
            batch_gas_percent: config.batch_gas_percent,
            hub_backoff: std::sync::Mutex::new(BTreeMap::new()),
            waiting: std::sync::Mutex::new(BTreeMap::new()),
            parked: std::sync::Mutex::new(BTreeMap::new()),
            parked_left: std::sync::Mutex::new(Vec::new()),
            status: Arc::new(std::sync::Mutex::new(json!({}))),
            packets: Arc::new(std::sync::Mutex::new(BTreeMap::new())),
            receipts: BTreeMap::new(),
            receipts_scanned: BTreeMap::new(),
            metrics,
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
                    .insert(packet.key().hash(), Tracked::new(packet, height, true));
            }
            self.scanned.insert(id.clone(), latest + 1);
        }
        self.backlog_at_start = self.tracked.len();
        info!(
            pending = self.tracked.len(),
            "relayer rebuilt pending packets from gateway commitments"
        );
        Ok(())
    }

    fn adapter(&self, chain: &ChainId) -> eyre::Result<&Arc<dyn Adapter>> {
        self.chains
            .get(chain)
            .ok_or_else(|| eyre!("no adapter for chain {}", chain.as_str()))
    }

    /// A packet logged for a chain served here waits on that chain's delivery: when the
    /// delivery of its entry failed, the gateway's reason replaces the general one.
    fn refine_waiting(&self) {
        let now = std::time::Instant::now();
        let mut waits = lock(&self.waiting);
        for d in self.deliveries.values() {
            for p in d.pending.values() {
                let Some(b) = &p.backoff else { continue };
                let key = p.entry.packet.key().hash();
                if let Some(w) = waits.get_mut(&key) {
                    if w.reason == "awaiting_delivery" || w.reason == "outcome_to_source" {
                        *w = waiting(
                            "delivery_refused",
                            format!(
                                "{} to {}: {} ({} attempts; tried again in {} ms)",
                                junction_hub_app::relay::entry_kind_name(p.entry.kind),
                                p.entry.target_chain,
                                b.reason,
                                b.attempts,
                                b.next_try.saturating_duration_since(now).as_millis()
                            ),
                        );
                    }
                }
            }
        }
    }

    /// Reads the times of the source blocks of packets that have none yet (a few heights a
    /// cycle), so that their ages are counted from their sends.
    async fn read_send_times(&mut self) {
        let mut wanted: BTreeSet<(ChainId, u64)> = BTreeSet::new();
        for t in self.tracked.values() {
            if t.sent_secs.is_none() && t.height > 0 && wanted.len() < SEND_TIMES_PER_CYCLE {
                wanted.insert((t.packet.source_chain.clone(), t.height));
            }
        }
        let mut times = BTreeMap::new();
        for (chain, height) in wanted {
            let Some(a) = self.chains.get(&chain) else {
                continue;
            };
            if let Ok(info) = a.header_info(height).await {
                times.insert((chain, height), info.time_secs);
            }
        }
        for t in self.tracked.values_mut() {
            if t.sent_secs.is_none() {
                t.sent_secs = times
                    .get(&(t.packet.source_chain.clone(), t.height))
                    .copied();
            }
        }
    }

    /// Refreshes what `junction relay status` shows: per chain the delivery cursor, the
    /// entries waiting and those stuck (with why and when they are retried), and the
    /// packets the hub refused for now.
    fn publish_status(&self) {
        let now = std::time::Instant::now();
        let retry_ms = |b: &Backoff| b.next_try.saturating_duration_since(now).as_millis() as u64;
        let mut chains = serde_json::Map::new();
        for (id, d) in &self.deliveries {
            let stuck: Vec<Value> = d
                .pending
                .iter()
                .filter_map(|(i, p)| p.backoff.as_ref().map(|b| (i, p, b)))
                .take(STATUS_LIST)
                .map(|(i, p, b)| {
                    json!({
                        "index": i,
                        "kind": junction_hub_app::relay::entry_kind_name(p.entry.kind),
                        "key": hex::encode(p.entry.packet.key().hash()),
                        "source_chain": p.entry.packet.source_chain.as_str(),
                        "sequence": p.entry.packet.sequence,
                        "gas_limit": p.entry.packet.gas_limit,
                        "reason": b.reason,
                        "attempts": b.attempts,
                        "retry_in_ms": retry_ms(b),
                    })
                })
                .collect();
            chains.insert(
                id.as_str().to_owned(),
                json!({
                    "cursor": d.cursor,
                    "waiting": d.pending.len(),
                    "stuck": stuck,
                }),
            );
        }
        let refusals: Vec<Value> = lock(&self.hub_backoff)
            .iter()
            .take(STATUS_LIST)
            .map(|(k, b)| {
                json!({
                    "key": hex::encode(k),
                    "reason": b.reason,
                    "attempts": b.attempts,
                    "retry_in_ms": retry_ms(b),
                })
            })
            .collect();
        let clock = std::time::SystemTime::now();
        let waits = lock(&self.waiting).clone();
        let mut by_reason: BTreeMap<String, u64> = BTreeMap::new();
        let mut routes: BTreeMap<String, (u64, u64)> = BTreeMap::new();
        let mut packets = BTreeMap::new();
        for (key, t) in &self.tracked {
            let p = &t.packet;
            let route = format!("{}->{}", p.source_chain, p.dest_chain);
            let age = t.age_secs(clock);
            let r = routes.entry(route).or_default();
            r.0 += 1;
            r.1 = r.1.max(age);
            let w = waits
                .get(key)
                .cloned()
                .unwrap_or_else(|| waiting("in_progress", "proven or delivered this cycle"));
            *by_reason.entry(w.reason.clone()).or_default() += 1;
            packets.insert(
                *key,
                json!({
                    "key": hex::encode(key),
                    "source_chain": p.source_chain.as_str(),
                    "dest_chain": p.dest_chain.as_str(),
                    "sequence": p.sequence,
                    "age_secs": age,
                    "reason": w.reason,
                    "detail": w.detail,
                }),
            );
        }
        self.metrics.set_waiting(&by_reason, &routes);
        let oldest: Vec<Value> = {
            let mut v: Vec<&Value> = packets.values().collect();
            v.sort_by_key(|p| std::cmp::Reverse(p["age_secs"].as_u64().unwrap_or(0)));
            v.into_iter().take(STATUS_LIST).cloned().collect()
        };
        *lock(&self.packets) = packets;
        let remaining = self.tracked.values().filter(|t| t.backlog).count();
        self.metrics.backlog_remaining.set(remaining as i64);
        *lock(&self.status) = json!({
            "tracked": self.tracked.len(),
            "backlog_clearing": {
                "found_at_start": self.backlog_at_start,
                "cleared": self.backlog_at_start.saturating_sub(remaining),
                "remaining": remaining,
                "per_cycle": self.clear_limit,
            },
            "chains": chains,
            "hub_refusals": refusals,
            "waiting": {
                "by_reason": by_reason,
                "by_route": routes.iter().map(|(r, (n, age))| (r.clone(), json!({"pending": n, "oldest_secs": age}))).collect::<serde_json::Map<_, _>>(),
                "oldest": oldest,
            },
        });
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
        // A chain that cannot be read this cycle gets no height: its packets wait and
        // every other chain goes on.
        let unreadable = |id: &ChainId, e: &AdapterError| {
            warn!(
                chain = id.as_str(),
                "chain not read this cycle: {}",
                named(e)
            );
            self.metrics.error(e.name());
        };
        for (id, a) in &self.chains {
            let h = match a.latest_height().await {
                Ok(h) => h,
                Err(e) => {
                    unreadable(id, &e);
                    continue;
                }
            };
            let from = self.scanned.get(id).copied().unwrap_or(0);
            if from <= h {
                let sent = match a.sent_packets(from, h).await {
                    Ok(sent) => sent,
                    Err(e) => {
                        unreadable(id, &e);
                        continue;
                    }
                };
                for s in sent {
                    self.tracked.insert(
                        s.packet.key().hash(),
                        Tracked::new(s.packet, s.height, false),
                    );
                }
                // An outcome delivered to the source clears the packet's commitment: the
                // packet is done.
                let outcomes = match a.outcomes(from, h).await {
                    Ok(outcomes) => outcomes,
                    Err(e) => {
                        unreadable(id, &e);
                        continue;
                    }
                };
                for o in outcomes {
                    self.tracked.remove(&o.key);
                    self.receipts.remove(&o.key);
                    lock(&self.parked).remove(&o.key);
                }
                self.scanned.insert(id.clone(), h + 1);
            }
            heights.insert(id.clone(), h);
        }
        let mut receipts: Vec<(ChainId, Receipt)> = Vec::new();
        for (id, a) in &self.chains {
            let Some(h) = heights.get(id).copied() else {
                continue;
            };
            let from = self.receipts_scanned.get(id).copied().unwrap_or(0);
            if from <= h {
                let found = match a.receipts(from, h).await {
                    Ok(found) => found,
                    Err(e) => {
                        unreadable(id, &e);
                        continue;
                    }
                };
                receipts.extend(found.into_iter().map(|r| (id.clone(), r)));
                self.receipts_scanned.insert(id.clone(), h + 1);
            }
        }
        for (id, r) in receipts {
            if !self.tracked.contains_key(&r.key) {
                self.track_foreign(&r.key).await;
            }
            if self
                .tracked
                .get(&r.key)
                .is_some_and(|t| t.packet.dest_chain == id)
            {
                self.receipts.insert(r.key, r);
            }
        }
        let scanned = started.elapsed();
        // Proving new work to the hub and delivering what the hub already logged do not
        // wait for each other: one waits on hub blocks, the other on chain blocks.
        let mut deliveries = std::mem::take(&mut self.deliveries);
        let (relayed, delivered) = tokio::join!(
            self.relay_to_hub(&heights),
            self.deliver_to_gateways(&mut deliveries)
        );
        self.deliveries = deliveries;
        // Packets the hub logged for a chain served here from a source not served here:
        // followed too, so that a timeout is proven for one never delivered (a receipt
        // found later brings the others).
        let foreign: Vec<(Hash32, Packet)> = self
            .deliveries
            .values()
            .flat_map(|d| d.pending.values())
            .filter(|e| {
                e.entry.kind == junction_spec::EntryKind::Packet
                    && !self.chains.contains_key(&e.entry.packet.source_chain)
            })
            .map(|e| (e.entry.packet.key().hash(), e.entry.packet.clone()))
            .chain(std::mem::take(&mut *lock(&self.parked_left)))
            .collect();
        for (key, packet) in foreign {
            self.tracked
                .entry(key)
                .or_insert_with(|| Tracked::new(packet, 0, false));
        }
        self.refine_waiting();
        self.read_send_times().await;
        self.publish_status();
        let undelivered = match delivered {
            Ok(undelivered) => undelivered,
            Err(e) => {
                warn!("relayer delivery: {e:#}");
                self.metrics.error("delivery_failed");
                0
            }
        };
        for key in relayed? {
            self.tracked.remove(&key);
            self.receipts.remove(&key);
            lock(&self.hub_backoff).remove(&key);
            lock(&self.parked).remove(&key);
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

    /// Follows the packet with key `key` if the hub holds it and its source is not served
    /// here (a receipt on a gateway served here names it).
    async fn track_foreign(&mut self, key: &Hash32) {
        let Ok(show) = self
            .hub
            .call::<PacketShow>(&PacketKeyParams { key: Hex(*key) })
            .await
        else {
            return;
        };
        if let Some(packet) = show.packet.packet {
            if &packet.key().hash() == key && !self.chains.contains_key(&packet.source_chain) {
                self.tracked.insert(*key, Tracked::new(packet, 0, false));
            }
        }
    }

    /// What the hub's light client of `chain` holds.
    async fn hub_client(&self, chain: &ChainId) -> eyre::Result<HubClient> {
        let v = self
            .hub
            .call::<GetClientState>(&ClientStateParams {
                chain: chain.as_str().to_string(),
            })
            .await?;
        Ok(HubClient {
            latest: v.latest_height,
            timestamp: v.latest_timestamp.unwrap_or(0),
            heights: v.heights,
            min_confirmations: v.min_confirmations.unwrap_or(0),
        })
    }

    /// Per source chain, the most confirmations any route from it asks of a proof.
    async fn confirmations_needed(&self) -> eyre::Result<BTreeMap<ChainId, u64>> {
        let routes = self.hub.call::<RouteList>(&NoParams {}).await?;
        let mut out: BTreeMap<ChainId, u64> = BTreeMap::new();
        for r in routes {
            let e = out.entry(r.policy.source_chain.clone()).or_default();
            *e = (*e).max(r.policy.min_confirmations);
        }
        Ok(out)
    }

    /// The hub's state name of each packet (`None`: the hub has not seen it).
    async fn hub_states(&self, keys: &[Hash32]) -> eyre::Result<Vec<Option<String>>> {
        let params: Vec<PacketKeyParams> = keys
            .iter()
            .map(|k| PacketKeyParams { key: Hex(*k) })
            .collect();
        let answers = self.hub.call_batch::<PacketShow>(&params).await?;
        let mut parked = lock(&self.parked);
        keys.iter()
            .zip(answers)
            .map(|(key, r)| match r {
                Ok(v) => {
                    if let Some(p) = v.packet.parked {
                        parked.insert(*key, p.reason);
                    }
                    Ok(Some(v.packet.state))
                }
                Err(ClientError::Rpc { name, .. }) if name == "not_found" => Ok(None),
                Err(e) => Err(e.into()),
            })
            .collect()
    }

    /// Asks the hub whether the packets of newly fetched `Packet` entries are parked, and
    /// drops the parked ones: their delivery is left alone (their timeout is proven as
    /// any other's, from the hub's record).
    async fn leave_parked(&self, d: &mut Delivery) -> eyre::Result<()> {
        let unchecked: Vec<(u64, Hash32)> = d
            .pending
            .iter()
            .filter(|(_, p)| !p.park_checked && p.entry.kind == junction_spec::EntryKind::Packet)
            .map(|(i, p)| (*i, p.entry.packet.key().hash()))
            .collect();
        if !unchecked.is_empty() {
            let keys: Vec<Hash32> = unchecked.iter().map(|(_, k)| *k).collect();
            self.hub_states(&keys).await?;
            for (i, _) in &unchecked {
                if let Some(p) = d.pending.get_mut(i) {
                    p.park_checked = true;
                }
            }
        }
        let parked = lock(&self.parked);
        let mut left = lock(&self.parked_left);
        d.pending.retain(|index, p| {
            let key = p.entry.packet.key().hash();
            let leave =
                p.entry.kind == junction_spec::EntryKind::Packet && parked.contains_key(&key);
            if leave {
                // Still followed: its timeout is proven here like any other's.
                left.push((key, p.entry.packet.clone()));
                info!(
                    index,
                    key = hex::encode(key),
                    reason = parked.get(&key).map(String::as_str).unwrap_or(""),
                    "a parked packet is not delivered"
                );
            }
            !leave
        });
        Ok(())
    }

    /// Proves tracked packets' next steps to the hub; returns the keys found done (their
    /// commitment is gone from the source).
    async fn relay_to_hub(&self, heights: &BTreeMap<ChainId, u64>) -> eyre::Result<Vec<Hash32>> {
        let mut done = Vec::new();
        if self.tracked.is_empty() {
            lock(&self.waiting).clear();
            return Ok(done);
        }
        // Per chain, the header of the height proofs are taken at: the latest block when
        // the hub's client can take it (`updatable`: a client update goes first in the same
        // transaction); otherwise the client's own latest height (e.g. several blocks
        // stamped in one second), whose root the hub already holds. A chain whose client is
        // ahead of what this node has seen gets no proofs this cycle. Each header is
        // fetched once and serves deadlines and proof checks alike.
        //
        // Commitments are proven at a height with the confirmations the chain's routes and
        // client ask for, once the client (with this cycle's update) is ahead of it: the
        // highest height the client holds that is that deep (or the new latest when no depth
        // is asked). A packet sent after it waits; its chain's client is kept moving so that
        // such heights exist.
        let confirmations = self.confirmations_needed().await?;
        let mut headers: BTreeMap<ChainId, HeaderInfo> = BTreeMap::new();
        let mut commit_headers: BTreeMap<ChainId, HeaderInfo> = BTreeMap::new();
        let mut updatable: BTreeSet<ChainId> = BTreeSet::new();
        // Chains whose client takes every block in turn, by the client's latest height.
        let mut sequential_from: BTreeMap<ChainId, u64> = BTreeMap::new();
        for (id, a) in &self.chains {
            // A chain the hub cannot answer for (e.g. not registered yet) holds back only
            // its own packets.
            let hc = match self.hub_client(id).await {
                Ok(hc) => hc,
                Err(e) => {
                    debug!(chain = id.as_str(), "no hub client: {e:#}");
                    continue;
                }
            };
            let Some(mut h) = heights.get(id).copied() else {
                continue;
            };
            if a.sequential_headers() && h > hc.latest {
                // Each header after the client's latest goes in the update: at most
                // MAX_SEQUENTIAL_UPDATES of them per cycle, so that a client far behind
                // catches up over a few transactions.
                h = h.min(hc.latest.saturating_add(MAX_SEQUENTIAL_UPDATES));
                sequential_from.insert(id.clone(), hc.latest);
            }
            // A chain whose headers cannot be read now holds back only its own packets.
            let header_at = |height: u64| async move {
                a.header_info(height).await.map_err(|e| {
                    warn!(chain = id.as_str(), height, "no header: {}", named(&e));
                    self.metrics.error(e.name());
                })
            };
            let Ok(latest) = header_at(h).await else {
                continue;
            };
            // A client the members' attesters move takes no header from a relayer: proofs
            // go at the heights it already holds.
            let after = if h > hc.latest && latest.time_secs > hc.timestamp && a.relays_headers() {
                updatable.insert(id.clone());
                headers.insert(id.clone(), latest);
                h
            } else if hc.latest <= h {
                let header = if hc.latest == h {
                    latest
                } else {
                    let Ok(header) = header_at(hc.latest).await else {
                        continue;
                    };
                    header
                };
                headers.insert(id.clone(), header);
                hc.latest
            } else {
                continue;
            };
            let need = confirmations
                .get(id)
                .copied()
                .unwrap_or(0)
                .max(hc.min_confirmations)
                .max(1);
            let deep = hc
                .heights
                .iter()
                .copied()
                .chain(updatable.contains(id).then_some(h))
                .filter(|c| *c <= h && after.saturating_sub(*c).saturating_add(1) >= need)
                .max();
            if let Some(c) = deep {
                let header = match headers.get(id) {
                    Some(x) if x.height == c => Some(*x),
                    _ => header_at(c).await.ok(),
                };
                if let Some(header) = header {
                    commit_headers.insert(id.clone(), header);
                }
            }
        }
        let now = std::time::Instant::now();
        let waiting_keys: BTreeSet<Hash32> = lock(&self.hub_backoff)
            .iter()
            .filter(|(_, b)| b.next_try > now)
            .map(|(k, _)| *k)
            .collect();
        let mut want_update: BTreeSet<ChainId> = BTreeSet::new();
        let keys: Vec<Hash32> = self.tracked.keys().copied().collect();
        let states = self.hub_states(&keys).await?;
        let mut work = Vec::new();
        // Why each packet that gets no work this cycle waits (served by the status).
        let mut waits: BTreeMap<Hash32, Waiting> = BTreeMap::new();
        for (key, state) in keys.iter().zip(states) {
            let Some(t) = self.tracked.get(key) else {
                continue;
            };
            let p = &t.packet;
            let mut wait = |w: Waiting| {
                waits.insert(*key, w);
            };
            // `None`: a packet from a source not served here, which the hub already holds.
            let src = self.chains.get(&p.source_chain);
            // A destination this relayer does not serve (e.g. one the hub does not know
            // either): the packet is still proven, and the hub answers it (`no_route`).
            let dst = self.chains.get(&p.dest_chain);
            let dst_header = headers.get(&p.dest_chain);
            if dst.is_some() && dst_header.is_none() {
                wait(waiting(
                    "destination_unreadable",
                    format!(
                        "no header of {} this cycle (its node, or the hub's client of it)",
                        p.dest_chain
                    ),
                ));
                continue;
            }
            // The hub refused this packet lately for a reason that may pass: wait.
            if waiting_keys.contains(key) {
                if let Some(b) = lock(&self.hub_backoff).get(key) {
                    wait(waiting(
                        &b.reason,
                        format!(
                            "the hub refused it for now ({} times); tried again in {} ms",
                            b.attempts,
                            b.next_try.saturating_duration_since(now).as_millis()
                        ),
                    ));
                }
                continue;
            }
            let h_src = commit_headers.get(&p.source_chain).map(|h| h.height);
            let parked_reason = lock(&self.parked).get(key).cloned();
            let h_dst = dst_header.map_or(0, |h| h.height);
            let past = dst_header.is_some_and(|h| {
                p.timeout
                    .is_reached(h.height, h.time_secs.saturating_mul(1000))
            });
            let kind = match state.as_deref() {
                // Another relayer proves a foreign packet's commitment; until the hub holds
                // it there is nothing to do here.
                None if src.is_none() => {
                    wait(waiting(
                        "source_served_elsewhere",
                        format!(
                            "{} is not served here; its relayer proves it",
                            p.source_chain
                        ),
                    ));
                    continue;
                }
                // Sent after the proof height (or no height is deep enough yet): its
                // commitment is not in that state; keep the source client moving.
                None if h_src.is_none_or(|h| t.height > h) => {
                    want_update.insert(p.source_chain.clone());
                    wait(waiting(
                        "waiting_for_proof_height",
                        match h_src {
                            Some(h) => format!(
                                "sent at {} of {}; the hub's client holds a deep enough height up to {h}",
                                t.height, p.source_chain
                            ),
                            None => format!(
                                "the hub's client of {} holds no height deep enough yet",
                                p.source_chain
                            ),
                        },
                    ));
                    continue;
                }
                None => Work::Recv { past },
                Some("pending") if dst.is_none() => {
                    wait(waiting(
                        "destination_served_elsewhere",
                        format!("{} is not served here", p.dest_chain),
                    ));
                    continue;
                }
                Some("pending") => match self.receipts.get(key) {
                    Some(r) if r.height <= h_dst => Work::Ack(r.clone()),
                    Some(r) => {
                        wait(waiting(
                            "waiting_for_proof_height",
                            format!(
                                "its receipt is at {} of {}; the hub's client holds up to {h_dst}",
                                r.height, p.dest_chain
                            ),
                        ));
                        continue;
                    }
                    None if past => Work::Timeout,
                    None if parked_reason.is_some() => {
                        let reason = parked_reason.unwrap_or_default();
                        wait(waiting(
                            "parked",
                            format!(
                                "parked on the hub ({reason}): not delivered; its timeout ends it"
                            ),
                        ));
                        continue;
                    }
                    None => {
                        wait(waiting(
                            "awaiting_delivery",
                            format!("logged on the hub for {}; not delivered yet", p.dest_chain),
                        ));
                        continue;
                    }
                },
                // An outcome is on the hub. A source-only ledger takes none: the hub's
                // record is the packet's end, and the packet is done; the same here for a
                // foreign packet, whose outcome the source's own relayer carries.
                Some(_) if src.is_none_or(|s| !s.is_destination()) => {
                    done.push(*key);
                    continue;
                }
                // Otherwise it reaches the source through the log; the packet is done once
                // the source gateway reports the outcome delivered.
                Some(outcome) => {
                    wait(waiting(
                        "outcome_to_source",
                        format!(
                            "{outcome} on the hub; not delivered to {} yet",
                            p.source_chain
                        ),
                    ));
                    continue;
                }
            };
            work.push(Job {
                key: *key,
                packet: p.clone(),
                src: src.cloned(),
                dst: dst.cloned(),
                work: kind,
                backlog: t.backlog,
            });
        }
        let (work, deferred) = within_clear_limit(work, self.clear_limit);
        for key in deferred {
            waits.insert(
                key,
                waiting(
                    "backlog_clearing",
                    format!(
                        "{} backlog packets are proven a cycle, oldest first",
                        self.clear_limit
                    ),
                ),
            );
        }
        *lock(&self.waiting) = waits;
        let proving = std::time::Instant::now();
        let jobs = work.len();
        let built = build_all(work, &headers, &commit_headers).await;
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
        needs_update.extend(want_update);
        let mut updates = Vec::new();
        for chain in needs_update.intersection(&updatable) {
            let (Some(header), a) = (headers.get(chain), self.adapter(chain)?) else {
                continue;
            };
            let first = sequential_from
                .get(chain)
                .map_or(header.height, |latest| latest.saturating_add(1));
            for height in first..=header.height {
                updates.push(RelayMsg::UpdateClient {
                    chain: chain.clone(),
                    header: a
                        .header_update(height)
                        .await
                        .map_err(|e| eyre!(named(&e)))?,
                });
            }
        }
        if msgs.is_empty() && updates.is_empty() {
            return Ok(done);
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
            .call::<Account>(&AccountParams { address: Hex(addr) })
            .await?;
        Ok(v.next_nonce)
    }

    /// Submits `updates` then `msgs` in transactions of at most `MAX_RELAY_MSGS`
    /// messages and `MAX_TX_BYTES`; a message the hub refuses at admission is dropped by
    /// its index (and counted), the rest resubmitted.
    ///
    /// The first transaction and every one holding a client update are awaited until
    /// committed, since the hub admits a proof only against a committed client height; the
    /// others are then admitted back to back with consecutive nonces, and the last is
    /// awaited.
    async fn submit(&self, updates: Vec<RelayMsg>, msgs: Vec<RelayMsg>) -> eyre::Result<()> {
        // Client updates go first and may fill several transactions (16 Fabric blocks do
        // not fit in one): each transaction holding an update is awaited until committed,
        // so that the proofs after it are admitted against the heights it adds.
        let n_updates = updates.len();
        let mut chunks: Vec<Vec<RelayMsg>> = Vec::new();
        let mut with_update: BTreeSet<usize> = BTreeSet::new();
        let mut cur: Vec<RelayMsg> = Vec::new();
        let mut bytes = 0usize;
        for (i, m) in updates.into_iter().chain(msgs).enumerate() {
            let len = m.to_bytes().len();
            if !cur.is_empty()
                && (cur.len() + 1 > junction_spec::relay::MAX_RELAY_MSGS
                    || bytes + len > MAX_TX_BYTES - 1_024)
            {
                chunks.push(std::mem::take(&mut cur));
                bytes = 0;
            }
            bytes += len;
            cur.push(m);
            if i < n_updates {
                with_update.insert(chunks.len());
            }
        }
        if !cur.is_empty() {
            chunks.push(cur);
        }
        let last = chunks.len().saturating_sub(1);
        let mut nonce = self.next_nonce().await?;
        for (i, mut chunk) in chunks.into_iter().enumerate() {
            let mode = if i == 0 || i == last || with_update.contains(&i) {
                BroadcastMode::Commit
            } else {
                BroadcastMode::Sync
            };
            for _attempt in 0..8 {
                if chunk.is_empty() {
                    break;
                }
                let tx = junction_keys::sign_tx(
                    &self.key,
                    &self.hub_chain,
                    nonce,
                    TxKind::Relay {
                        msgs: chunk.clone(),
                    },
                );
                let res = self
                    .hub
                    .call::<BroadcastTx>(&BroadcastParams {
                        tx: HexBytes(tx.to_bytes()),
                        mode,
                    })
                    .await;
                match res {
                    Ok(_) => {
                        self.metrics.hub_msgs.inc_by(chunk.len() as u64);
                        let mut backoff = lock(&self.hub_backoff);
                        for m in &chunk {
                            if let Some(k) = msg_key(m) {
                                backoff.remove(&k);
                            }
                        }
                        nonce += 1;
                        break;
                    }
                    Err(ClientError::Rpc {
                        code: 3001,
                        name,
                        message,
                    }) => {
                        self.metrics.error(&name);
                        match refused_message_index(&message) {
                            Some(i) if i < chunk.len() => {
                                let refused = chunk.remove(i);
                                // A refusal without an outcome: the packet may pass later
                                // (confirmations, a rate limit, a client to recover). It
                                // waits, with a growing pause, instead of being proven
                                // again every cycle.
                                if let Some(k) = msg_key(&refused) {
                                    junction_telemetry::count_reason(&self.metrics.refused, &name);
                                    let mut backoff = lock(&self.hub_backoff);
                                    let attempts =
                                        backoff.get(&k).map_or(0, |b| b.attempts).saturating_add(1);
                                    if attempts == 1 || attempts.is_multiple_of(10) {
                                        warn!(
                                            error = %name,
                                            attempts,
                                            "hub refused relay message {i}: {message}"
                                        );
                                    }
                                    // Short pauses: what refuses a packet now (a client to
                                    // recover, a bucket, confirmations) lets it through
                                    // within seconds once it passes.
                                    backoff.insert(
                                        k,
                                        Backoff::after_at_most(
                                            attempts,
                                            name.clone(),
                                            std::time::Instant::now(),
                                            HUB_RETRY_CAP,
                                        ),
                                    );
                                } else {
                                    warn!(error = %name, "hub refused relay message {i}: {message}");
                                }
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

    /// The latest checkpoint with what proves it to a gateway.
    async fn signed_checkpoint(&self) -> eyre::Result<CheckpointProof> {
        signed_checkpoint(&self.hub).await
    }

    /// New log entries for `chain` from its cursor up to `size` (a bounded number per
    /// call, and none while the chain already has [`MAX_PENDING_ENTRIES`] waiting).
    async fn fetch_entries(
        &self,
        chain: &ChainId,
        d: &mut Delivery,
        size: u64,
    ) -> eyre::Result<()> {
        while d.cursor < size && d.pending.len() < MAX_PENDING_ENTRIES {
            let v = self
                .hub
                .call::<LogEntries>(&LogEntriesParams {
                    from: Some(d.cursor),
                    to: Some(size),
                    target_chain: Some(chain.as_str().to_string()),
                })
                .await?;
            let to = v.to;
            for e in v.entries {
                let index = e.index;
                let entry = LogEntry::from_bytes(&e.entry_hex.0)
                    .map_err(|err| eyre!("log entry {index}: {err}"))?;
                d.pending.insert(
                    index,
                    PendingEntry {
                        entry,
                        park_checked: false,
                        backoff: None,
                    },
                );
            }
            if to <= d.cursor {
                break;
            }
            d.cursor = to;
        }
        Ok(())
    }

    /// Proves the entries at `indices` under the checkpoint of `size` entries.
    async fn prove_entries(&self, indices: &[u64], size: u64) -> eyre::Result<Vec<EntryProof>> {
        prove_log_entries(&self.hub, indices, size).await
    }

    /// Delivers the hub's committed log entries to their gateways; returns how many are
    /// still waiting. Entries are packed into batches by gas (see [`pack_batches`]); a batch
    /// the gateway refuses is split in halves until the failing entry stands alone, and that
    /// entry is retried alone with a growing pause while everything else goes on (in an
    /// ordered sequence space the later entries wait for it). An entry the gateway skipped
    /// as out of order is kept and retried; only entries the gateway has acted on (or that
    /// another relayer delivered first) leave the queue.
    async fn deliver_to_gateways(
        &self,
        deliveries: &mut BTreeMap<ChainId, Delivery>,
    ) -> eyre::Result<u64> {
        let fetching = std::time::Instant::now();
        let proof_cp = self.signed_checkpoint().await?;
        let size = proof_cp.checkpoint.log_size;
        let now = std::time::Instant::now();
        let mut jobs = Vec::new();
        for (id, a) in &self.chains {
            // A source-only ledger takes nothing: its packets' outcomes stay on the hub.
            if !a.is_destination() {
                continue;
            }
            let d = deliveries.entry(id.clone()).or_default();
            self.fetch_entries(id, d, size).await?;
            self.leave_parked(d).await?;
            let selected = d.select(now);
            if selected.is_empty() {
                continue;
            }
            if let Err(e) = hand_over_sets(&self.hub, id, a.as_ref(), &proof_cp).await {
                warn!(
                    chain = id.as_str(),
                    "could not read the gateway's attestation set: {e}"
                );
            }
            let proven = self.prove_entries(&selected, size).await?;
            let budget = match a.delivery_budget().await {
                Ok(Some(limit)) => limit.saturating_mul(self.batch_gas_percent) / 100,
                Ok(None) => u64::MAX,
                Err(e) => {
                    warn!(chain = id.as_str(), "no delivery budget: {}", named(&e));
                    continue;
                }
            };
            jobs.push((
                id.clone(),
                a.clone(),
                pack_batches(proven, self.max_batch, budget),
            ));
        }
        let fetched = fetching.elapsed();
        let entries: usize = jobs
            .iter()
            .map(|(_, _, b)| b.iter().map(Vec::len).sum::<usize>())
            .sum();
        // Chains are delivered to concurrently; a chain's batches are mined together unless
        // an ordered space makes them wait for each other.
        let proof_cp = &proof_cp;
        let results =
            futures::future::join_all(jobs.into_iter().map(|(id, a, batches)| async move {
                let verdicts = deliver_isolating(a.as_ref(), proof_cp, batches).await;
                (id, verdicts)
            }))
            .await;
        let now = std::time::Instant::now();
        for (id, verdicts) in results {
            let Some(d) = deliveries.get_mut(&id) else {
                continue;
            };
            for (index, verdict) in verdicts {
                match verdict {
                    Verdict::Done => {
                        d.pending.remove(&index);
                        self.metrics.delivered.inc();
                    }
                    Verdict::Gone => {
                        d.pending.remove(&index);
                    }
                    Verdict::Retry(reason) => {
                        self.metrics.error(&reason);
                        if let Some(p) = d.pending.get_mut(&index) {
                            let attempts = p.backoff.as_ref().map_or(0, |b| b.attempts) + 1;
                            if attempts == 1 || attempts.is_multiple_of(10) {
                                warn!(
                                    chain = id.as_str(),
                                    index,
                                    attempts,
                                    "entry not delivered, retried alone later: {reason}"
                                );
                            }
                            p.backoff = Some(Backoff::after(attempts, reason, now));
                        }
                    }
                }
            }
        }
        if entries > 0 {
            debug!(
                entries,
                fetch_ms = fetched.as_millis() as u64,
                deliver_ms = (fetching.elapsed() - fetched).as_millis() as u64,
                "delivered to the gateways"
            );
        }
        let waiting: usize = deliveries.values().map(|d| d.pending.len()).sum();
        let stuck: usize = deliveries
            .values()
            .map(|d| d.pending.values().filter(|p| p.backoff.is_some()).count())
            .sum();
        self.metrics.stuck.set(stuck as i64);
        Ok(waiting as u64)
    }
}

/// The longest pause before a packet the hub refused for now is proven again.
pub const HUB_RETRY_CAP: Duration = Duration::from_secs(8);

/// Most entries a chain may have waiting for delivery before the relayer stops fetching
/// more for it (a destination that is down must not grow the relayer without bound).
pub const MAX_PENDING_ENTRIES: usize = 20_000;
/// Gas a delivery batch needs besides its entries: the call, the checkpoint's signatures.
pub const BATCH_OVERHEAD_GAS: u64 = 300_000;
/// Gas one entry needs besides what its app or callback gets: calldata, the inclusion
/// proof, the receipt, the events, the app's frame.
pub const ENTRY_OVERHEAD_GAS: u64 = 120_000;
/// The gas a source app's outcome callback runs with (`CALLBACK_GAS_LIMIT` of the gateway).
pub const CALLBACK_GAS: u64 = 300_000;

/// What delivering an entry needs at most: its app's or callback's gas (with the 64/63
/// the gateway keeps back) plus the per-entry overhead.
pub fn entry_gas(e: &LogEntry) -> u64 {
    let app = match e.kind {
        junction_spec::EntryKind::Packet => e.packet.gas_limit,
        junction_spec::EntryKind::SequenceSkip | junction_spec::EntryKind::GatewayRetired => 0,
        _ => CALLBACK_GAS,
    };
    app.saturating_mul(64) / 63 + ENTRY_OVERHEAD_GAS
}

/// Packs entries (in log order) into batches of at most `max_batch` entries whose gas
/// (`BATCH_OVERHEAD_GAS` plus each [`entry_gas`]) stays within `budget` (a share of the
/// destination's block gas limit). An entry over the budget on its own gets a batch of its
/// own (the gateway then judges it).
pub fn pack_batches(
    entries: Vec<EntryProof>,
    max_batch: usize,
    budget: u64,
) -> Vec<Vec<EntryProof>> {
    let mut batches: Vec<Vec<EntryProof>> = Vec::new();
    let mut cur: Vec<EntryProof> = Vec::new();
    let mut gas = BATCH_OVERHEAD_GAS;
    for e in entries {
        let g = entry_gas(&e.entry);
        if !cur.is_empty() && (cur.len() >= max_batch || gas.saturating_add(g) > budget) {
            batches.push(std::mem::take(&mut cur));
            gas = BATCH_OVERHEAD_GAS;
        }
        gas = gas.saturating_add(g);
        cur.push(e);
    }
    if !cur.is_empty() {
        batches.push(cur);
    }
    batches
}

/// What became of one entry in a delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The gateway acted on it.
    Done,
    /// It needs nothing more: already delivered, or its outcome already reached the source.
    Gone,
    /// Not delivered now (the gateway's reason or the transport's); retried later.
    Retry(String),
}

/// The gateway's skip reasons that settle an entry.
fn settled(reason: &str) -> bool {
    matches!(reason, "AlreadyDelivered" | "PacketNotPending")
}

/// Delivers `batches` on `a` under `cp` and says what became of each entry (by log
/// index). A batch refused as a whole is split in halves and each half tried again, so the
/// entry that fails stands alone and the others are delivered.
pub async fn deliver_isolating(
    a: &dyn Adapter,
    cp: &CheckpointProof,
    batches: Vec<Vec<EntryProof>>,
) -> Vec<(u64, Verdict)> {
    let refs: Vec<&[EntryProof]> = batches.iter().map(Vec::as_slice).collect();
    let results = a.deliver_batches(cp, &refs).await;
    let mut out = Vec::new();
    let mut redo: Vec<&[EntryProof]> = Vec::new();
    for (batch, result) in refs.iter().zip(results) {
        judge_batch(batch, result, &mut out, &mut redo);
    }
    // Splitting, one batch at a time (each is simulated before it is sent).
    while let Some(batch) = redo.pop() {
        let result = a.deliver(cp, batch).await;
        judge_batch(batch, result, &mut out, &mut redo);
    }
    out
}

fn judge_batch<'b>(
    batch: &'b [EntryProof],
    result: Result<junction_adapters::DeliverOutcome, AdapterError>,
    out: &mut Vec<(u64, Verdict)>,
    redo: &mut Vec<&'b [EntryProof]>,
) {
    match result {
        Ok(o) => {
            for (i, e) in batch.iter().enumerate() {
                let skip = o.skipped.iter().find(|s| s.index == i as u64);
                let v = match skip {
                    None => Verdict::Done,
                    Some(s) if settled(s.reason) => Verdict::Gone,
                    Some(s) => Verdict::Retry(s.reason.to_owned()),
                };
                out.push((e.index, v));
            }
        }
        Err(e) => {
            let reason = e.revert_name().unwrap_or(e.name()).to_owned();
            if batch.len() > 1 {
                // Which entries failed (or were skipped) is learnt by halving.
                let (x, y) = batch.split_at(batch.len() / 2);
                redo.push(y);
                redo.push(x);
            } else if let Some(entry) = batch.first() {
                let v = if settled(&reason) {
                    Verdict::Gone
                } else {
                    Verdict::Retry(reason)
                };
                out.push((entry.index, v));
            }
        }
    }
}

/// A pause before trying something again, growing with each failure.
#[derive(Debug, Clone)]
pub struct Backoff {
    /// Failures so far.
    pub attempts: u32,
    /// The last failure's reason.
    pub reason: String,
    /// Not before then.
    pub next_try: std::time::Instant,
}

impl Backoff {
    /// The pause after `attempts` failures: 1 s, doubling, at most a minute.
    pub fn delay(attempts: u32) -> Duration {
        Duration::from_secs(1u64 << attempts.saturating_sub(1).min(6)).min(Duration::from_secs(60))
    }

    fn after(attempts: u32, reason: String, now: std::time::Instant) -> Self {
        Self::after_at_most(attempts, reason, now, Duration::from_secs(60))
    }

    /// [`Backoff::after`], with the pause capped at `cap`.
    fn after_at_most(
        attempts: u32,
        reason: String,
        now: std::time::Instant,
        cap: Duration,
    ) -> Self {
        Self {
            attempts,
            reason,
            next_try: now + Self::delay(attempts).min(cap),
        }
    }
}

/// One log entry waiting for delivery.
#[derive(Debug, Clone)]
pub struct PendingEntry {
    /// The entry.
    pub entry: LogEntry,
    /// Whether the hub was asked if its packet is parked (a `Packet` entry, once fetched).
    pub park_checked: bool,
    /// Set once a delivery of it failed: when to try again, and why it failed.
    pub backoff: Option<Backoff>,
}

/// Delivery state of one destination chain.
#[derive(Debug, Default)]
pub struct Delivery {
    /// The next log index to fetch for the chain.
    pub cursor: u64,
    /// Entries fetched and not yet delivered, by log index.
    pub pending: BTreeMap<u64, PendingEntry>,
}

impl Delivery {
    /// The entries to try now, in log order: all but those waiting out a pause, and, in an
    /// ordered sequence space, none after one that waits (ordered means in order).
    pub fn select(&self, now: std::time::Instant) -> Vec<u64> {
        let mut held: BTreeSet<(ChainId, Vec<u8>)> = BTreeSet::new();
        let mut out = Vec::new();
        for (index, p) in &self.pending {
            let space = (
                p.entry.packet.source_chain.clone(),
                p.entry.packet.source_app.clone(),
            );
            let ordered = p.entry.is_ordered();
            if ordered && held.contains(&space) {
                continue;
            }
            if p.backoff.as_ref().is_some_and(|b| b.next_try > now) {
                if ordered {
                    held.insert(space);
                }
                continue;
            }
            out.push(*index);
        }
        out
    }
}

/// The entries at `indices` of the log of the hub at `hub`, each with its audit path under
/// the checkpoint of `size` entries; the answer is checked to hold exactly the entries
/// asked for, in order.
pub(crate) async fn prove_log_entries(
    hub: &RpcClient,
    indices: &[u64],
    size: u64,
) -> eyre::Result<Vec<EntryProof>> {
    let mut proven = Vec::with_capacity(indices.len());
    for chunk in indices.chunks(LogProofs::MAX) {
        let v = hub
            .call::<LogProofs>(&LogProofsParams {
                indices: chunk.to_vec(),
                tree_size: size,
            })
            .await?;
        if v.proofs.len() != chunk.len() {
            return Err(eyre!(
                "log_proofs answered {} proofs for {} indices",
                v.proofs.len(),
                chunk.len()
            ));
        }
        for (index, p) in chunk.iter().zip(v.proofs) {
            if p.index != *index {
                return Err(eyre!("log_proofs answered entry {} for {index}", p.index));
            }
            let entry = LogEntry::from_bytes(&p.entry_hex.0)
                .map_err(|e| eyre!("log entry {index}: {e}"))?;
            let proof = p.proof.into_iter().map(|h| h.0).collect();
            proven.push(EntryProof {
                entry,
                index: *index,
                proof,
            });
        }
    }
    Ok(proven)
}

/// The index of the message a hub refused a relay transaction for, from the refusal's
/// text (`relay message <index> (...) refused: ...`, `hub-app`'s `TxError::Relay`).
pub(crate) fn refused_message_index(message: &str) -> Option<usize> {
    message
        .strip_prefix("relay message ")
        .and_then(|s| s.split(' ').next())
        .and_then(|s| s.parse::<usize>().ok())
}

/// The packet key a relay message is about.
fn msg_key(m: &RelayMsg) -> Option<Hash32> {
    match m {
        RelayMsg::UpdateClient { .. } | RelayMsg::Misbehaviour { .. } => None,
        RelayMsg::RecvPacket { packet, .. }
        | RelayMsg::AckPacket { packet, .. }
        | RelayMsg::TimeoutPacket { packet, .. } => Some(packet.key().hash()),
    }
}

/// Locks a mutex, also after a panicking holder (the state is rebuilt from chains).
fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Source blocks whose times are read per cycle (for the packets' ages).
const SEND_TIMES_PER_CYCLE: usize = 32;

/// Most entries each list of the status shows.
const STATUS_LIST: usize = 100;

/// What a hub client holds.
#[derive(Debug, Clone)]
struct HubClient {
    latest: u64,
    /// Seconds.
    timestamp: u64,
    /// Every height it keeps a header of.
    heights: Vec<u64>,
    /// The registration's least confirmations.
    min_confirmations: u64,
}

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
    /// Pending since before the relayer started.
    backlog: bool,
    /// `None` for a packet from a source not served here (never `Recv`).
    src: Option<Arc<dyn Adapter>>,
    /// `None` for a destination this relayer does not serve (only `Recv`, not past).
    dst: Option<Arc<dyn Adapter>>,
    work: Work,
}

/// The jobs of this cycle, in source order (ordered routes expect sequence order): every
/// new packet, and at most `limit` of the backlog, the lowest sequences of each space
/// first. A new packet behind a deferred one of its own sequence space waits with it, so
/// that a space's order holds; the other spaces' new packets do not wait for the backlog.
fn within_clear_limit(mut work: Vec<Job>, limit: usize) -> (Vec<Job>, Vec<Hash32>) {
    let space = |p: &Packet| {
        (
            p.source_chain.clone(),
            p.source_app.clone(),
            p.dest_chain.clone(),
        )
    };
    work.sort_by(|a, b| {
        (space(&a.packet), a.packet.sequence).cmp(&(space(&b.packet), b.packet.sequence))
    });
    let mut backlog_taken = 0usize;
    let mut deferred_spaces = BTreeSet::new();
    let mut deferred = Vec::new();
    let taken = work
        .into_iter()
        .filter(|j| {
            let s = space(&j.packet);
            let defer = deferred_spaces.contains(&s) || (j.backlog && backlog_taken >= limit);
            if defer {
                deferred_spaces.insert(s);
                deferred.push(j.key);
                return false;
            }
            backlog_taken += usize::from(j.backlog);
            true
        })
        .collect();
    (taken, deferred)
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
    claim: ProofClaim,
}

/// Builds every job's message. Proofs are grouped by chain and fetched with one
/// `eth_getProof` per group chunk (the gateway's storage trie is walked once for many
/// slots), the groups concurrently, each checked against the chain's header in `headers`
/// (the proof height this cycle chose, whose time also decided the deadlines).
async fn build_all(
    work: Vec<Job>,
    headers: &BTreeMap<ChainId, HeaderInfo>,
    commit_headers: &BTreeMap<ChainId, HeaderInfo>,
) -> Vec<eyre::Result<Built>> {
    // Grouped by (chain, whether it is a commitment): commitments are proven at their
    // chain's deep-enough height, receipts and their absence at the latest.
    type Group = (Arc<dyn Adapter>, Vec<ProofNeed>);
    let mut groups: BTreeMap<(ChainId, bool), Group> = BTreeMap::new();
    for (i, job) in work.iter().enumerate() {
        let mut need = |adapter: &Arc<dyn Adapter>, claim: ProofClaim| {
            groups
                .entry((adapter.chain().clone(), claim == ProofClaim::Commitment))
                .or_insert_with(|| (adapter.clone(), Vec::new()))
                .1
                .push(ProofNeed { job: i, claim });
        };
        match (&job.work, &job.dst) {
            (Work::Recv { past }, dst) => {
                if let Some(src) = &job.src {
                    need(src, ProofClaim::Commitment);
                }
                if let (true, Some(dst)) = (*past, dst) {
                    need(dst, ProofClaim::NoReceipt);
                }
            }
            (Work::Ack(_), Some(dst)) => need(dst, ProofClaim::Receipt),
            (Work::Timeout, Some(dst)) => need(dst, ProofClaim::NoReceipt),
            // Not built without a destination (see relay_to_hub).
            (_, None) => {}
        }
    }
    let proven =
        futures::future::join_all(groups.into_iter().map(|((chain, commit), (a, needs))| {
            let work = &work;
            async move {
                let claims: Vec<(ProofClaim, &Packet)> = needs
                    .iter()
                    .map(|n| (n.claim, &work[n.job].packet))
                    .collect();
                let at = if commit { commit_headers } else { headers };
                let proofs = match at.get(&chain) {
                    Some(header) => a.prove_claims(&claims, header.height).await,
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
    let mut by_job: BTreeMap<(usize, ProofClaim), Result<SourceProof, AdapterError>> =
        BTreeMap::new();
    for (need, proof) in proven.into_iter().flatten() {
        by_job.insert((need.job, need.claim), proof);
    }
    work.into_iter()
        .enumerate()
        .map(|(i, job)| {
            let mut take = |claim: ProofClaim| {
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
        take: &mut impl FnMut(ProofClaim) -> Result<SourceProof, AdapterError>,
    ) -> eyre::Result<Built> {
        let p = self.packet;
        let src_chain = p.source_chain.clone();
        let dst_chain = p.dest_chain.clone();
        match self.work {
            Work::Recv { past } => {
                let commitment = match take(ProofClaim::Commitment) {
                    Ok(c) => c,
                    // Cleared meanwhile (an outcome reached the source): done.
                    Err(e) if e.name() == "not_committed" => return Ok(Built::Done(self.key)),
                    Err(e) => return Err(eyre!(named(&e))),
                };
                let msg = if past {
                    let absence = take(ProofClaim::NoReceipt).map_err(|e| eyre!(named(&e)))?;
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
                let proof = take(ProofClaim::Receipt).map_err(|e| eyre!(named(&e)))?;
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
                let absence = take(ProofClaim::NoReceipt).map_err(|e| eyre!(named(&e)))?;
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
        let status = relayer.status.clone();
        let packets = relayer.packets.clone();
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .wrap_err_with(|| format!("binding metrics_listen {addr}"))?;
        let app = axum::Router::new()
            .route(
                "/metrics",
                axum::routing::get(move || {
                    let m = metrics.clone();
                    async move { junction_telemetry::metrics_response(m.render()) }
                }),
            )
            .route(
                "/status",
                axum::routing::get(move || {
                    let s = status.clone();
                    async move { axum::Json(lock(&s).clone()) }
                }),
            )
            .route(
                "/packet/{key}",
                axum::routing::get(move |axum::extract::Path(key): axum::extract::Path<String>| {
                    let p = packets.clone();
                    async move {
                        let found = hex::decode(key.trim_start_matches("0x"))
                            .ok()
                            .and_then(|k| <Hash32>::try_from(k.as_slice()).ok())
                            .and_then(|k| lock(&p).get(&k).cloned());
                        axum::Json(found.unwrap_or_else(|| {
                            json!({"key": key, "reason": "not_followed", "detail": "this relayer follows no such packet (not sent from or to a chain it serves, or done)"})
                        }))
                    }
                }),
            );
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
    }
    info!(chains = config.chains.len(), "relayer started");
    relayer.run(Duration::from_millis(config.poll_ms)).await
}

/// The hub's latest checkpoint with its validators' signatures and the set that signed it.
async fn signed_checkpoint(hub: &RpcClient) -> eyre::Result<CheckpointProof> {
    checkpoint_at(hub, None).await
}

/// The hub's checkpoint at `height` (the latest when `None`) with its validators'
/// signatures, the set that signed it and, when it hands over to another set, that set.
pub(crate) async fn checkpoint_at(
    hub: &RpcClient,
    height: Option<u64>,
) -> eyre::Result<CheckpointProof> {
    let cp = hub.call::<GetCheckpoint>(&AtHeight { height }).await?;
    let checkpoint =
        Checkpoint::from_bytes(&cp.checkpoint_hex.0).map_err(|e| eyre!("checkpoint: {e}"))?;
    let signatures: Vec<[u8; 65]> = cp
        .signatures
        .into_iter()
        .filter_map(|b| <[u8; 65]>::try_from(b.0).ok())
        .collect();
    let set = AttestationSet::from_bytes(&cp.attestation_set_hex.0)
        .map_err(|e| eyre!("attestation set: {e}"))?;
    let next_set = cp
        .next_attestation_set_hex
        .map(|b| AttestationSet::from_bytes(&b.0))
        .transpose()
        .map_err(|e| eyre!("next attestation set: {e}"))?;
    Ok(CheckpointProof {
        checkpoint,
        signatures,
        attestation_set: Some(set),
        next_set,
    })
}

/// Most hand-over checkpoints one cycle carries to a peer hub's client.
pub const MAX_HAND_OVERS_PER_CYCLE: usize = 16;

/// The heights of the hand-over checkpoints among `changes` (those whose next attestation
/// set is another) strictly between `after` and `before`, in height order.
pub fn hand_over_heights(
    changes: &[junction_rpc::methods::ValidatorChange],
    after: u64,
    before: u64,
) -> Vec<u64> {
    let mut heights: Vec<u64> = changes
        .iter()
        .filter(|c| c.height > after && c.height < before)
        .filter(|c| c.next_attestation_set_hash.0 != c.attestation_set_hash.0)
        .map(|c| c.height)
        .collect();
    heights.sort_unstable();
    heights.dedup();
    heights
}

/// The hub's hand-over checkpoints strictly between `after` and `before`, signed, in
/// height order (at most [`MAX_HAND_OVERS_PER_CYCLE`]): what a client of the hub that
/// holds `after` needs, one after the other, before it can take a checkpoint at `before`
/// signed by a set it has not seen.
pub(crate) async fn hand_over_checkpoints(
    hub: &RpcClient,
    after: u64,
    before: u64,
) -> eyre::Result<Vec<CheckpointProof>> {
    let mut out = Vec::new();
    let mut from_height = after.saturating_add(1);
    while out.len() < MAX_HAND_OVERS_PER_CYCLE {
        let changes = hub
            .call::<ValidatorChanges>(&ValidatorChangesParams { from_height })
            .await?
            .changes;
        let Some(last) = changes.last().map(|c| c.height) else {
            break;
        };
        for h in hand_over_heights(&changes, after, before) {
            if out.len() == MAX_HAND_OVERS_PER_CYCLE {
                break;
            }
            out.push(checkpoint_at(hub, Some(h)).await?);
        }
        if last >= before || last < from_height {
            break;
        }
        from_height = last + 1;
    }
    Ok(out)
}

/// Brings a gateway that holds an older hub attestation set up to the one that signed
/// `latest`: delivers, with no entries, each checkpoint that hands its set over to the
/// next, in height order (a gateway accepts a checkpoint only from the set it holds).
/// Returns whether the gateway now holds `latest`'s set; `false` when its set is not known
/// to the adapter or no hand-over leads from it (then the delivery is tried as it is, and
/// the gateway names the reason).
pub async fn hand_over_sets(
    hub: &RpcClient,
    chain: &ChainId,
    a: &dyn Adapter,
    latest: &CheckpointProof,
) -> eyre::Result<bool> {
    let Some(mut held) = a
        .gateway_attestation_set()
        .await
        .map_err(|e| eyre!(named(&e)))?
    else {
        return Ok(false);
    };
    let target = latest.checkpoint.attestation_set_hash;
    if held == target {
        return Ok(true);
    }
    let mut from_height = 0;
    loop {
        let changes = hub
            .call::<ValidatorChanges>(&ValidatorChangesParams { from_height })
            .await?
            .changes;
        let Some(last) = changes.last().map(|c| c.height) else {
            break;
        };
        for c in changes {
            let (own, next) = (c.attestation_set_hash.0, c.next_attestation_set_hash.0);
            if own != held || next == own || c.height > latest.checkpoint.height {
                continue;
            }
            let cp = checkpoint_at(hub, Some(c.height)).await?;
            match a.deliver(&cp, &[]).await {
                Ok(_) => {
                    info!(
                        chain = chain.as_str(),
                        height = c.height,
                        from = %hex::encode(own),
                        to = %hex::encode(next),
                        "gateway handed over to the hub's next attestation set"
                    );
                    held = next;
                }
                Err(e) => {
                    warn!(
                        chain = chain.as_str(),
                        height = c.height,
                        "hand-over refused: {}",
                        named(&e)
                    );
                    return Ok(false);
                }
            }
            if held == target {
                return Ok(true);
            }
        }
        if last < from_height.max(1) {
            break;
        }
        from_height = last + 1;
    }
    Ok(held == target)
}

/// How long a manual delivery waits for a checkpoint that covers its entry.
const CHECKPOINT_WAIT: Duration = Duration::from_secs(10);

/// `junction packet deliver <key> --config relayer.toml [--gas N]`: delivers the packet's
/// newest hub log entry (its outcome to the source, else the packet to its destination)
/// to the chain it targets, as `config` serves that chain, under the hub's latest signed
/// checkpoint. With `gas` the delivery is sent as it is (an operator's override for an
/// entry whose estimate fails or runs short); without, it is run first like the relayer's.
/// Returns what the gateway did.
pub async fn deliver_packet(
    config_path: &Path,
    key: Hash32,
    gas: Option<u64>,
) -> eyre::Result<Value> {
    let config = RelayerConfig::load(config_path)?;
    let hub = RpcClient::new(config.hub_rpc.clone());
    let show = hub
        .call::<PacketShow>(&PacketKeyParams { key: Hex(key) })
        .await?;
    let index = show
        .packet
        .outcome
        .as_ref()
        .map(|o| o.log_index)
        .or(show.packet.packet_index)
        .ok_or_else(|| {
            eyre!(
                "the hub has logged no entry for packet 0x{}",
                hex::encode(key)
            )
        })?;
    let listed = hub
        .call::<LogEntries>(&LogEntriesParams {
            from: Some(index),
            to: Some(index + 1),
            target_chain: None,
        })
        .await?;
    let found = listed
        .entries
        .into_iter()
        .find(|e| e.index == index)
        .ok_or_else(|| eyre!("log entry {index} is not served by the hub"))?;
    let entry =
        LogEntry::from_bytes(&found.entry_hex.0).map_err(|e| eyre!("log entry {index}: {e}"))?;
    if entry.packet.key().hash() != key {
        return Err(eyre!("log entry {index} is of another packet"));
    }
    let chain = config
        .chains
        .iter()
        .find(|c| c.id == entry.target_chain.as_str())
        .ok_or_else(|| {
            eyre!(
                "{} does not serve {}, which entry {index} targets",
                config_path.display(),
                entry.target_chain
            )
        })?;
    // The block that logged the entry is committed; the checkpoint of the block after it
    // covers it (an idle hub makes that block within `idle_block_interval_ms`).
    let mut checkpoint = signed_checkpoint(&hub).await?;
    let waited = std::time::Instant::now();
    while index >= checkpoint.checkpoint.log_size && waited.elapsed() < CHECKPOINT_WAIT {
        tokio::time::sleep(Duration::from_millis(200)).await;
        checkpoint = signed_checkpoint(&hub).await?;
    }
    let size = checkpoint.checkpoint.log_size;
    if index >= size {
        return Err(eyre!(
            "entry {index} is not under a signed checkpoint yet (log size {size}): try again after the next hub block"
        ));
    }
    let proven = prove_log_entries(&hub, &[index], size).await?;
    let adapter = adapter_for(chain, config.dir.clone(), None).await?;
    let kind = junction_hub_app::relay::entry_kind_name(entry.kind);
    let delivered = match gas {
        Some(gas) => adapter.deliver_with_gas(&checkpoint, &proven, gas).await,
        None => adapter.deliver(&checkpoint, &proven).await,
    }
    .map_err(|e| {
        eyre!(
            "{kind} entry {index} to {}: {}",
            entry.target_chain,
            named(&e)
        )
    })?;
    Ok(json!({
        "entry_index": index,
        "kind": kind,
        "target_chain": entry.target_chain.as_str(),
        "tx_hash": hex::encode(delivered.tx_hash),
        "height": delivered.height,
        "gas_used": delivered.gas_used,
        "received": delivered.received.len(),
        "outcomes": delivered.outcomes.len(),
        "skipped": delivered.skipped.iter().map(|s| json!({"index": s.index, "reason": s.reason})).collect::<Vec<_>>(),
    }))
}

/// `junction packet park <key> --reason R --config relayer.toml`: parks the packet on the
/// hub, signed by the relayer's account (a `ParkPacket` transaction); waits for its block.
/// Relayers then leave its delivery alone, and its timeout ends it.
pub async fn park_packet(config_path: &Path, key: Hash32, reason: &str) -> eyre::Result<Value> {
    let config = RelayerConfig::load(config_path)?;
    let signer = config.relayer_key()?;
    let hub_chain = ChainId::new(&config.hub_chain_id).map_err(|e| eyre!("hub_chain_id: {e}"))?;
    let hub = RpcClient::new(config.hub_rpc.clone());
    let addr = junction_spec::address_from_ed25519(signer.public_key().as_bytes());
    let nonce = hub
        .call::<Account>(&AccountParams { address: Hex(addr) })
        .await?
        .next_nonce;
    let tx = junction_keys::sign_tx(
        &signer,
        &hub_chain,
        nonce,
        TxKind::ParkPacket {
            key,
            reason: reason.to_owned(),
        },
    );
    let answer = hub
        .call::<BroadcastTx>(&BroadcastParams {
            tx: HexBytes(tx.to_bytes()),
            mode: BroadcastMode::Commit,
        })
        .await?;
    serde_json::to_value(answer).map_err(|e| eyre!("the hub's answer: {e}"))
}

/// The hub's latest signed checkpoint and up to `max` of the first entries it logged for
/// `chain`, proven under it (`None` when it logged none): what the conformance kit delivers
/// again to see one result per entry.
pub async fn logged_entries(
    hub_rpc: &str,
    chain: &ChainId,
    max: usize,
) -> eyre::Result<Option<(CheckpointProof, Vec<EntryProof>)>> {
    let hub = RpcClient::new(hub_rpc.to_owned());
    let checkpoint = signed_checkpoint(&hub).await?;
    let size = checkpoint.checkpoint.log_size;
    let listed = hub
        .call::<LogEntries>(&LogEntriesParams {
            from: Some(0),
            to: Some(size),
            target_chain: Some(chain.as_str().to_owned()),
        })
        .await?;
    let indices: Vec<u64> = listed
        .entries
        .iter()
        .map(|e| e.index)
        .filter(|i| *i < size)
        .take(max)
        .collect();
    if indices.is_empty() {
        return Ok(None);
    }
    let proven = prove_log_entries(&hub, &indices, size).await?;
    Ok(Some((checkpoint, proven)))
}

/// What a running relayer says of one packet (`/packet/<key>` on its `metrics_listen`
/// address `relayer`, e.g. `127.0.0.1:26690`).
pub async fn packet_reason(relayer: &str, key: &Hash32) -> eyre::Result<Value> {
    let addr: std::net::SocketAddr = relayer
        .trim_start_matches("http://")
        .parse()
        .map_err(|e| eyre!("relayer address {relayer}: {e}"))?;
    if !addr.ip().is_loopback() {
        return Err(eyre!("the relayer's address must be on 127.0.0.1"));
    }
    let url = format!("http://{addr}/packet/{}", hex::encode(key));
    reqwest::Client::new()
        .get(&url)
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .map_err(|e| eyre!("{url}: {e}"))?
        .json()
        .await
        .map_err(|e| eyre!("{url} answered no packet: {e}"))
}

/// `junction relay status --config relayer.toml`: what the running relayer reports on its
/// `metrics_listen` address (`/status`): stuck entries with their reasons, packets the hub
/// refused for now, the backlog per chain.
pub async fn status(config_path: &Path) -> eyre::Result<Value> {
    let config = RelayerConfig::load(config_path)?;
    let addr = config.metrics_listen.ok_or_else(|| {
        eyre!(
            "{} sets no metrics_listen: set it (e.g. \"127.0.0.1:26690\") and restart the relayer to query its status",
            config_path.display()
        )
    })?;
    let url = format!("http://{addr}/status");
    let resp = reqwest::Client::new()
        .get(&url)
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .map_err(|e| {
            eyre!("cannot reach the relayer at {url}: {e}. Is `junction relay` running?")
        })?;
    resp.json::<Value>()
        .await
        .map_err(|e| eyre!("{url} answered no status: {e}"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use junction_spec::{EntryKind, Timeout};

    fn entry(
        index: u64,
        kind: EntryKind,
        gas_limit: u64,
        app: u8,
        ordered_from: u64,
    ) -> EntryProof {
        let packet = Packet {
            version: 1,
            source_chain: ChainId::new("evm-a").unwrap(),
            source_app: vec![app; 20],
            sequence: index + 1,
            dest_chain: ChainId::new("evm-b").unwrap(),
            dest_app: vec![9; 20],
            payload: vec![],
            timeout: Timeout {
                height: 10,
                time_ms: 0,
            },
            gas_limit,
            fee: 0,
        };
        EntryProof {
            entry: LogEntry::new(kind, [0; 32], ordered_from, packet, vec![]),
            index,
            proof: vec![],
        }
    }

    /// 100 honest entries and one whose gas limit alone fills most of the budget: batches
    /// stay within the budget, in log order, and the big one travels alone.
    /// A peer hub's client that holds height `after` needs the hand-over checkpoints after
    /// it and before the checkpoint it is brought to, in order; checkpoints that keep their
    /// set (a change of power only within one set hash) and those outside are not sent.
    #[test]
    fn a_client_that_missed_changes_takes_each_hand_over_in_order() {
        use junction_rpc::methods::ValidatorChange;
        use junction_rpc::Hex;
        let change = |height: u64, own: u8, next: u8| ValidatorChange {
            height,
            validators_hash: Hex([own; 32]),
            next_validators_hash: Hex([next; 32]),
            attestation_set_hash: Hex([own; 32]),
            next_attestation_set_hash: Hex([next; 32]),
        };
        let changes = [
            change(30, 3, 4),
            change(10, 1, 2),
            change(20, 2, 2),
            change(40, 4, 5),
            change(5, 0, 1),
        ];
        assert_eq!(hand_over_heights(&changes, 5, 40), vec![10, 30]);
        assert_eq!(hand_over_heights(&changes, 0, 100), vec![5, 10, 30, 40]);
        assert_eq!(hand_over_heights(&changes, 30, 35), Vec::<u64>::new());
        assert_eq!(hand_over_heights(&changes, 29, 31), vec![30]);
    }

    #[test]
    fn batches_are_packed_by_gas_within_the_budget() {
        let mut all: Vec<EntryProof> = (0..100)
            .map(|i| entry(i, EntryKind::Packet, 200_000, 1, 0))
            .collect();
        all.insert(50, entry(1_000, EntryKind::Packet, 9_000_000, 1, 0));
        let budget = 15_000_000;
        let batches = pack_batches(all.clone(), 100, budget);
        let flat: Vec<u64> = batches.iter().flatten().map(|e| e.index).collect();
        assert_eq!(flat, all.iter().map(|e| e.index).collect::<Vec<_>>());
        for b in &batches {
            let gas: u64 = BATCH_OVERHEAD_GAS + b.iter().map(|e| entry_gas(&e.entry)).sum::<u64>();
            assert!(
                gas <= budget || b.len() == 1,
                "{gas} in a batch of {}",
                b.len()
            );
        }
        assert!(batches.len() >= 3, "{}", batches.len());
        // Count caps too.
        assert!(pack_batches(all, 10, u64::MAX)
            .iter()
            .all(|b| b.len() <= 10));
        // Outcomes budget their callback's gas, skips none.
        assert!(entry_gas(&entry(0, EntryKind::Ack, 9_000_000, 1, 0).entry) < 1_000_000);
        assert_eq!(
            entry_gas(&entry(0, EntryKind::SequenceSkip, 9_000_000, 1, 1).entry),
            ENTRY_OVERHEAD_GAS
        );
    }

    fn pending(entries: &[EntryProof]) -> Delivery {
        Delivery {
            cursor: 0,
            pending: entries
                .iter()
                .map(|e| {
                    (
                        e.index,
                        PendingEntry {
                            entry: e.entry.clone(),
                            park_checked: true,
                            backoff: None,
                        },
                    )
                })
                .collect(),
        }
    }

    /// A failing entry waits out its pause alone; in an ordered space the later entries
    /// wait with it, in other spaces nothing waits.
    #[test]
    fn a_stuck_entry_holds_back_only_its_own_ordered_space() {
        let now = std::time::Instant::now();
        let entries = vec![
            entry(0, EntryKind::Packet, 1, 1, 1),
            entry(1, EntryKind::Packet, 1, 1, 1),
            entry(2, EntryKind::Packet, 1, 2, 0),
            entry(3, EntryKind::Packet, 1, 2, 0),
            entry(4, EntryKind::Packet, 1, 3, 1),
        ];
        let mut d = pending(&entries);
        assert_eq!(d.select(now), vec![0, 1, 2, 3, 4]);
        for i in [0, 2] {
            d.pending.get_mut(&i).unwrap().backoff =
                Some(Backoff::after(1, "InsufficientGasForApp".into(), now));
        }
        // 0 waits and holds 1 (same ordered space); 2 waits alone (unordered); 3 and 4 go.
        assert_eq!(d.select(now), vec![3, 4]);
        // Once the pause is over, everything is tried again.
        assert_eq!(
            d.select(now + Backoff::delay(1) + Duration::from_millis(1)),
            vec![0, 1, 2, 3, 4]
        );
    }

    /// Delivery keys lived as hex in `relayer.toml`, written with the default umask. They
    /// now live in key files the configuration names, and a key file others may read is
    /// refused.
    #[test]
    fn a_key_file_others_may_read_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sender.json");
        let key = k256::ecdsa::SigningKey::from_slice(&[7; 32]).unwrap();
        junction_keys::AttestationKeyFile::from_key(&key)
            .save(&path)
            .unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let p = path.to_str().unwrap();
        assert_eq!(load_secp_key(p, "sender key file").unwrap(), key);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = load_secp_key(p, "sender key file").unwrap_err().to_string();
        assert!(e.contains("chmod 600"), "{e}");
    }

    /// Each adapter takes its own settings: a plugin chain names a command and no rpc or
    /// EVM settings; the others name an rpc and no command.
    #[test]
    fn a_chain_takes_the_settings_of_its_adapter_only() {
        let chain = |text: &str| -> eyre::Result<()> {
            let c: ChainConfig = toml::from_str(text).map_err(|e| eyre!("{e}"))?;
            c.check()
        };
        let ok = [
            "id = \"evm-a\"\nrpc = \"http://127.0.0.1:8545\"",
            "id = \"btc\"\nadapter = \"ledger_rpc\"\nrpc = \"http://127.0.0.1:1\"",
            "id = \"evm-b\"\nadapter = \"plugin\"\ncommand = [\"python3\", \"plugin.py\"]",
        ];
        for text in ok {
            chain(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        }
        let refused = [
            ("id = \"evm-b\"\nadapter = \"plugin\"", "needs its command"),
            ("id = \"evm-b\"\nadapter = \"plugin\"\ncommand = [\"\"]", "needs its command"),
            (
                "id = \"evm-b\"\nadapter = \"plugin\"\ncommand = [\"p\"]\nrpc = \"http://127.0.0.1:1\"",
                "takes only id and command",
            ),
            (
                "id = \"evm-b\"\nadapter = \"plugin\"\ncommand = [\"p\"]\nevm_chain_id = 5",
                "takes only id and command",
            ),
            ("id = \"evm-a\"", "rpc is missing"),
            (
                "id = \"evm-a\"\nrpc = \"http://127.0.0.1:1\"\ncommand = [\"p\"]",
                "command is for plugin chains",
            ),
            (
                "id = \"btc\"\nadapter = \"ledger_rpc\"\nrpc = \"http://127.0.0.1:1\"\ncommand = [\"p\"]",
                "takes only id and rpc",
            ),
        ];
        for (text, why) in refused {
            let e = chain(text).unwrap_err().to_string();
            assert!(e.contains(why), "{text}: {e}");
        }
    }

    #[test]
    fn pauses_grow_and_are_capped() {
        assert_eq!(Backoff::delay(1), Duration::from_secs(1));
        assert_eq!(Backoff::delay(2), Duration::from_secs(2));
        assert_eq!(Backoff::delay(5), Duration::from_secs(16));
        assert_eq!(Backoff::delay(40), Duration::from_secs(60));
    }

    /// The gateway's verdicts per entry: a batch it refused as a whole is split until each
    /// entry has its own verdict; skips that settle an entry end it, others retry it.
    #[test]
    fn a_refused_batch_is_split_and_skips_are_judged_by_reason() {
        let batch: Vec<EntryProof> = (0..4)
            .map(|i| entry(i, EntryKind::Packet, 1, 1, 0))
            .collect();
        let mut out = Vec::new();
        let mut redo = Vec::new();
        judge_batch(
            &batch,
            Err(AdapterError::Rpc("estimate failed".into())),
            &mut out,
            &mut redo,
        );
        assert!(out.is_empty());
        assert_eq!(redo.iter().map(|b| b.len()).collect::<Vec<_>>(), vec![2, 2]);
        let ok = junction_adapters::DeliverOutcome {
            tx_hash: [0; 32],
            height: 1,
            gas_used: 1,
            received: vec![],
            outcomes: vec![],
            skipped: vec![
                junction_adapters::SkippedEntry {
                    index: 1,
                    key: [0; 32],
                    reason: "OutOfOrder",
                },
                junction_adapters::SkippedEntry {
                    index: 2,
                    key: [0; 32],
                    reason: "AlreadyDelivered",
                },
            ],
        };
        let mut out = Vec::new();
        judge_batch(&batch, Ok(ok), &mut out, &mut redo);
        assert_eq!(
            out,
            vec![
                (0, Verdict::Done),
                (1, Verdict::Retry("OutOfOrder".into())),
                (2, Verdict::Gone),
                (3, Verdict::Done),
            ]
        );
        let mut out = Vec::new();
        let mut redo = Vec::new();
        judge_batch(
            &batch[..1],
            Err(AdapterError::Rpc("x".into())),
            &mut out,
            &mut redo,
        );
        assert!(redo.is_empty());
        assert!(matches!(out[0].1, Verdict::Retry(_)));
    }

    /// A backlog is cleared `clear_limit` packets a cycle, lowest sequences first; new
    /// packets of other spaces go at once, a new one behind its own space's backlog waits.
    #[test]
    fn the_backlog_is_cleared_within_the_limit_without_holding_back_other_spaces() {
        let job = |app: u8, sequence: u64, backlog: bool| {
            let packet = entry(sequence - 1, EntryKind::Packet, 1, app, 0)
                .entry
                .packet;
            Job {
                key: packet.key().hash(),
                packet,
                backlog,
                src: None,
                dst: None,
                work: Work::Recv { past: false },
            }
        };
        let work = vec![
            job(1, 6, false),
            job(1, 5, true),
            job(2, 2, false),
            job(1, 1, true),
            job(1, 4, true),
            job(1, 2, true),
            job(2, 1, false),
            job(1, 3, true),
        ];
        let (jobs, deferred) = within_clear_limit(work, 3);
        assert_eq!(deferred.len(), 3, "1/4, 1/5 and 1/6 wait");
        let taken: Vec<(u8, u64)> = jobs
            .iter()
            .map(|j| (j.packet.source_app[0], j.packet.sequence))
            .collect();
        assert_eq!(taken, vec![(1, 1), (1, 2), (1, 3), (2, 1), (2, 2)]);
    }
}
