//! `junction bench e2e`: the whole message path on real processes.
//!
//! Starts N hub validators (one process each) on free loopback ports, two anvil chains with
//! gateways and escrows registered by council vote (`evmnet::setup`), and `junction relay`
//! as a child process, then sends escrow packets from chain A to chain B:
//!
//! 1. **Latency** (idle path): one packet at a time, the next once the previous is acked.
//!    A watcher polls both chains' gateway events every `--watch-ms` and timestamps, per
//!    packet key, the first sight of `PacketSent` on A (the send mined), `PacketReceived`
//!    on B (the app ran: one way) and `OutcomeDelivered` on A (the ack back: round trip).
//!    Every time is read by the same watcher, so the figures carry its polling resolution.
//! 2. **Throughput**: `--packets` sends submitted back to back (explicit nonces, no waiting
//!    for receipts); packets per second = N / (first send seen → last ack seen).
//! 3. **Gas per delivered packet**, two ways, app gas (`PacketReceived.appGasUsed`)
//!    excluded, calldata and the 21,000 base included:
//!    - *controlled*: `deliver` of exactly 1, 10 and 100 escrow packets on a fresh gateway
//!      (a third anvil) under a checkpoint signed by 4 attesters over a 1,024-entry log, as
//!      `adapters/examples/gateway_gas.rs` does;
//!    - *observed*: the relayer's own `deliver` transactions on B during phase 2, grouped by
//!      the batch sizes the relayer happened to make.
//!
//! **Block time.** `--block-time 1` (the default, as `junction testnet start`) bounds
//! one-way latency from below: the send waits for A's block, the delivery for B's (about
//! 1.1 s one way measured). `--block-time 0` (automine) mines each transaction at once, but
//! many blocks then share a one-second timestamp and the attested light client takes only
//! headers whose timestamp increases: the relayer leaves such updates out and waits for a
//! later block, which under automine comes only with the next transaction — one run stalled
//! on its first packet for 60 s, another gave 0.56 s one way. A fractional block time
//! (`--block-time 0.25`) keeps blocks coming while cutting the wait for inclusion; it gave
//! the lowest latency (0.33–0.58 s one way p50, idle, over several runs) and is reported
//! beside the 1 s default.
//!
//! **`--hubs 2`**: the hub-to-hub path. Two hubs of `--validators` each, `evm-a` under
//! `hub-a` and `evm-b` under `hub-b`, a relayer per hub and the bridge (`junction relay
//! hubs`) between them (`hubnet::setup`); the same phases from `evm-a` to `evm-b`, each
//! packet crossing both hubs and its ack coming back across both. The controlled-gas and
//! attestation phases do not depend on the number of hubs and run only with one.
//!
//! Not run by any test (it takes minutes); see README.md, "Benchmark".

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use alloy::primitives::{Address, B256, U256};
use alloy::providers::Provider;
use eyre::{eyre, WrapErr};
use tokio::sync::Mutex;

use junction_adapters::evm::adapter::EvmAdapter;
use junction_adapters::evm::anvil::DEV_KEY_0;
use junction_adapters::evm::gateway::{JunctionGateway, TokenEscrow};
use junction_adapters::Adapter as _;

use crate::evmnet::{self, EvmChain, EvmNet, EvmNetOptions, ESCROW_APP_GAS};

/// What `junction bench e2e` runs.
#[derive(Debug, Clone)]
pub struct E2eOptions {
    /// 1: both chains under one hub. 2: the hub-to-hub path (`evm-a` under `hub-a` to
    /// `evm-b` under `hub-b`, through the bridge).
    pub hubs: usize,
    /// Hub validators.
    pub validators: usize,
    /// Packets sent back to back in the throughput phase.
    pub packets: usize,
    /// Packets sent one at a time in the latency phase.
    pub latency_samples: usize,
    /// Anvil block time in seconds, fractions allowed (0: automine, a block per
    /// transaction).
    pub block_time_secs: f64,
    /// The relayer's pause between cycles.
    pub relayer_poll_ms: u64,
    /// The relayer's most entries per `deliver`.
    pub max_batch: usize,
    /// The watcher's polling period.
    pub watch_ms: u64,
    /// Give up on a phase after this long.
    pub timeout_secs: u64,
    /// Keep the temporary directory (logs) even on success.
    pub keep: bool,
    /// One chain (`evm-b`, the destination) served through an adapter plugin with this
    /// program (e.g. the reference plugin in Python): the protocol's cost per packet.
    pub plugin: Option<Vec<String>>,
    /// The hub nodes' `idle_block_interval_ms`, when not their default.
    pub idle_interval_ms: Option<u64>,
}

type Key = [u8; 32];

/// First sightings, per packet key.
#[derive(Debug, Default)]
struct Seen {
    sent: HashMap<Key, Instant>,
    /// Order in which sends were seen.
    sent_order: Vec<Key>,
    recv: HashMap<Key, Instant>,
    acked: HashMap<Key, Instant>,
    /// Delivering transactions on B.
    deliver_txs: Vec<[u8; 32]>,
    /// App reverts seen on B (should stay 0).
    app_failed: u64,
    /// Watcher errors (RPC hiccups), retried.
    errors: u64,
}

async fn watch(a: Arc<EvmAdapter>, b: Arc<EvmAdapter>, seen: Arc<Mutex<Seen>>, period: Duration) {
    let mut next_a: Option<u64> = None;
    let mut next_b: Option<u64> = None;
    loop {
        let step = async {
            let ha = a.latest_height().await?;
            let hb = b.latest_height().await?;
            let fa = *next_a.get_or_insert(ha);
            let fb = *next_b.get_or_insert(hb);
            let (sent, outcomes) = if fa <= ha {
                (a.sent_packets(fa, ha).await?, a.outcomes(fa, ha).await?)
            } else {
                (Vec::new(), Vec::new())
            };
            let receipts = if fb <= hb {
                b.receipts(fb, hb).await?
            } else {
                Vec::new()
            };
            let now = Instant::now();
            let mut s = seen.lock().await;
            for p in sent {
                let k = p.packet.key().hash();
                if s.sent.insert(k, now).is_none() {
                    s.sent_order.push(k);
                }
            }
            for r in receipts {
                if !r.app_succeeded {
                    s.app_failed += 1;
                }
                s.recv.entry(r.key).or_insert(now);
                if s.deliver_txs.last() != Some(&r.tx_hash) && !s.deliver_txs.contains(&r.tx_hash) {
                    s.deliver_txs.push(r.tx_hash);
                }
            }
            for o in outcomes {
                s.acked.entry(o.key).or_insert(now);
            }
            drop(s);
            next_a = Some(ha + 1);
            next_b = Some(hb + 1);
            Ok::<(), junction_adapters::AdapterError>(())
        };
        if step.await.is_err() {
            seen.lock().await.errors += 1;
        }
        tokio::time::sleep(period).await;
    }
}

/// Sends escrow packets from A to B with explicit nonces and fees, without waiting.
struct Sender {
    provider: alloy::providers::DynProvider,
    escrow: Address,
    dest: String,
    dest_escrow: Address,
    nonce: u64,
    gas: u64,
    max_fee: u128,
    timeout_ms: u64,
}

impl Sender {
    /// A sender from `a` to `b`, whose latest block time is `b_time_ms`.
    async fn new(a: &EvmChain, b: &EvmChain, b_time_ms: u64) -> eyre::Result<Self> {
        let provider = evmnet::provider(&a.anvil.endpoint(), DEV_KEY_0)?;
        let from: alloy::signers::local::PrivateKeySigner =
            DEV_KEY_0.parse().map_err(|e| eyre!("dev key: {e}"))?;
        let nonce = provider.get_transaction_count(from.address()).await?;
        let timeout_ms = b_time_ms + 3_600_000;
        let gas = TokenEscrow::new(a.escrow, &provider)
            .lockAndSend(
                b.id.as_str().to_owned(),
                b.escrow,
                Address::repeat_byte(0x42),
                U256::from(1u64),
                0,
                timeout_ms,
                ESCROW_APP_GAS,
            )
            .estimate_gas()
            .await
            .map_err(|e| eyre!("estimating lockAndSend: {e}"))?;
        let price = provider.get_gas_price().await?;
        Ok(Self {
            provider,
            escrow: a.escrow,
            dest: b.id.as_str().to_owned(),
            dest_escrow: b.escrow,
            nonce,
            gas: gas.saturating_mul(3) / 2,
            max_fee: price.saturating_mul(20).max(10_000_000_000),
            timeout_ms,
        })
    }

    /// Submits one `lockAndSend`; returns its transaction hash.
    async fn send(&mut self) -> eyre::Result<B256> {
        let pending = TokenEscrow::new(self.escrow, &self.provider)
            .lockAndSend(
                self.dest.clone(),
                self.dest_escrow,
                Address::repeat_byte(0x42),
                U256::from(1u64),
                0,
                self.timeout_ms,
                ESCROW_APP_GAS,
            )
            .nonce(self.nonce)
            .gas(self.gas)
            .max_fee_per_gas(self.max_fee)
            .max_priority_fee_per_gas(1_000_000_000)
            .send()
            .await
            .map_err(|e| eyre!("lockAndSend (nonce {}): {e}", self.nonce))?;
        self.nonce += 1;
        Ok(*pending.tx_hash())
    }
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let idx = ((sorted.len() as f64 * p / 100.0).ceil() as usize).saturating_sub(1);
    sorted[idx.min(sorted.len() - 1)]
}

#[derive(Debug, Default, Clone)]
struct Latencies {
    one_way: Vec<f64>,
    round_trip: Vec<f64>,
}

impl Latencies {
    fn of(seen: &Seen, keys: &[Key]) -> Self {
        let mut l = Latencies::default();
        for k in keys {
            let Some(s) = seen.sent.get(k) else { continue };
            if let Some(r) = seen.recv.get(k) {
                l.one_way
                    .push(r.saturating_duration_since(*s).as_secs_f64() * 1e3);
            }
            if let Some(a) = seen.acked.get(k) {
                l.round_trip
                    .push(a.saturating_duration_since(*s).as_secs_f64() * 1e3);
            }
        }
        l.one_way.sort_by(f64::total_cmp);
        l.round_trip.sort_by(f64::total_cmp);
        l
    }
}

/// Runs `junction bench e2e`.
pub async fn e2e(opts: E2eOptions) -> eyre::Result<()> {
    if opts.validators == 0 || opts.packets == 0 {
        return Err(eyre!("--validators and --packets must be at least 1"));
    }
    if !(opts.block_time_secs >= 0.0 && opts.block_time_secs.is_finite()) {
        return Err(eyre!(
            "--block-time must be 0 (automine) or a positive number of seconds"
        ));
    }
    if junction_adapters::evm::anvil::anvil_binary().is_none() {
        return Err(eyre!(
            "no anvil binary: run scripts/setup-evm.sh (or put anvil on PATH, or set JUNCTION_ANVIL)"
        ));
    }
    let dir = std::env::temp_dir().join(format!("junction-bench-e2e-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let base = 40000 + (std::process::id() % 1000) as u16 * 3;
    let hub_dirs = match opts.hubs {
        1 => {
            crate::testnet::init(&dir, opts.validators, "junction-bench", base)?;
            vec![dir.clone()]
        }
        2 => {
            crate::testnet::init_two_hubs(&dir, opts.validators, base)?;
            vec![
                crate::hubnet::hub_dir(&dir, 0),
                crate::hubnet::hub_dir(&dir, 1),
            ]
        }
        _ => return Err(eyre!("--hubs must be 1 or 2")),
    };
    if let Some(ms) = opts.idle_interval_ms {
        for d in &hub_dirs {
            crate::testnet::set_idle_interval(d, opts.validators, ms)?;
        }
    }
    if opts.hubs == 2 && opts.plugin.is_some() {
        return Err(eyre!("--plugin-chain is measured on one hub"));
    }
    let exe = std::env::current_exe().wrap_err("locating the junction binary")?;
    let mut children = Vec::new();
    for d in &hub_dirs {
        for i in 0..opts.validators {
            children.push(crate::testnet::spawn_node(
                &exe,
                &d.join(format!("node{i}")),
            )?);
        }
    }
    let result = if opts.hubs == 2 {
        run_hubs(&dir, &exe, &opts).await
    } else {
        run(&dir, &exe, &opts).await
    };
    for c in children.iter_mut() {
        crate::testnet::stop_child(c).await;
    }
    if result.is_ok() && !opts.keep {
        let _ = std::fs::remove_dir_all(&dir);
    } else {
        eprintln!(
            "logs kept in {} (nodeI/node.log, relayer/relayer.log)",
            dir.display()
        );
    }
    result
}

async fn wait_acked(
    seen: &Arc<Mutex<Seen>>,
    count: usize,
    timeout: Duration,
    what: &str,
) -> eyre::Result<()> {
    let start = Instant::now();
    loop {
        let (sent, recv, acked) = {
            let s = seen.lock().await;
            (s.sent.len(), s.recv.len(), s.acked.len())
        };
        if acked >= count {
            return Ok(());
        }
        if start.elapsed() > timeout {
            return Err(eyre!(
                "{what}: after {timeout:?}, {sent} sends seen, {recv} received on B, {acked} acked of {count}"
            ));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn run(dir: &Path, exe: &Path, opts: &E2eOptions) -> eyre::Result<()> {
    let t_setup = Instant::now();
    println!(
        "starting {} validators, 2 anvil chains ({}), deploying and registering by council vote...",
        opts.validators,
        block_time_name(opts.block_time_secs)
    );
    let (net_opts, extra) = anvil_block_time(opts);
    let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
    let mut net = evmnet::setup_with_anvil_args(dir, &net_opts, &extra).await?;
    let mut relayer = start_relayer(&mut net, exe, opts)?;
    println!("set up in {:.1?}; relayer started", t_setup.elapsed());

    let a_id = evmnet::chain_name(0);
    let b_id = evmnet::chain_name(1);
    let a = Arc::new(net.adapter(&a_id).await?);
    let b = Arc::new(net.adapter(&b_id).await?);
    let seen = Arc::new(Mutex::new(Seen::default()));
    let watcher = tokio::spawn(watch(
        a.clone(),
        b.clone(),
        seen.clone(),
        Duration::from_millis(opts.watch_ms),
    ));
    let b_time = net.time_ms(&b_id).await?;
    let outcome = phases(&net.chains[0], &net.chains[1], b_time, opts, &seen).await;
    watcher.abort();
    crate::testnet::stop_child(&mut relayer).await;
    let (lat, load, thr, observed) = outcome?;
    println!("measuring attestation: 15 s of chain A's blocks reaching the hub's client...");
    let attest = attestation_cost(&net, &a, Duration::from_secs(15)).await?;
    println!("measuring deliver gas at batch 1, 10, 100 on a fresh gateway...");
    let mut controlled = Vec::new();
    for batch in [1usize, 10, 100] {
        controlled.push((batch, controlled_gas(batch).await?));
    }
    report(opts, &lat, &load, &thr, &observed, &controlled);
    attest.print(net.attester_keys.len());
    Ok(())
}

/// Whole seconds go through the usual option; a fraction is passed to anvil as is.
fn anvil_block_time(opts: &E2eOptions) -> (EvmNetOptions, Vec<String>) {
    let whole = opts.block_time_secs.fract() == 0.0;
    let net_opts = EvmNetOptions {
        block_time_secs: if whole {
            opts.block_time_secs as u64
        } else {
            0
        },
        plugin_chain: opts
            .plugin
            .clone()
            .map(|program| (evmnet::chain_name(1), program)),
        ..Default::default()
    };
    let extra = if whole {
        Vec::new()
    } else {
        vec!["--block-time".to_string(), opts.block_time_secs.to_string()]
    };
    (net_opts, extra)
}

/// Writes the benchmark's poll period and batch size into `net`'s `relayer.toml` and
/// starts the relayer.
fn start_relayer(
    net: &mut EvmNet,
    exe: &Path,
    opts: &E2eOptions,
) -> eyre::Result<tokio::process::Child> {
    net.relayer.poll_ms = opts.relayer_poll_ms;
    net.relayer.max_batch = opts.max_batch;
    std::fs::write(&net.relayer_toml, net.relayer.to_toml()?)
        .wrap_err_with(|| format!("writing {}", net.relayer_toml.display()))?;
    evmnet::spawn_relayer(exe, net)
}

/// The hub-to-hub path: `evm-a` under `hub-a` to `evm-b` under `hub-b`, a relayer per hub
/// and the bridge.
async fn run_hubs(dir: &Path, exe: &Path, opts: &E2eOptions) -> eyre::Result<()> {
    let t_setup = Instant::now();
    println!(
        "starting two hubs of {} validators, an anvil chain under each ({}), linking them by their councils' votes...",
        opts.validators,
        block_time_name(opts.block_time_secs)
    );
    let (net_opts, extra) = anvil_block_time(opts);
    let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
    let hubs = [
        crate::hubnet::hub_dir(dir, 0),
        crate::hubnet::hub_dir(dir, 1),
    ];
    let mut net = crate::hubnet::setup_with_anvil_args(
        [&hubs[0], &hubs[1]],
        &dir.join("bridge"),
        &net_opts,
        &extra,
    )
    .await?;
    let mut children = [
        start_relayer(&mut net.a, exe, opts)?,
        start_relayer(&mut net.b, exe, opts)?,
        crate::hubnet::spawn_bridge(exe, &net)?,
    ];
    println!(
        "set up in {:.1?}; relayers and bridge started",
        t_setup.elapsed()
    );
    let (a, b) = (&net.a.chains[0], &net.b.chains[0]);
    let adapter_a = Arc::new(net.a.adapter(a.id.as_str()).await?);
    let adapter_b = Arc::new(net.b.adapter(b.id.as_str()).await?);
    let seen = Arc::new(Mutex::new(Seen::default()));
    let watcher = tokio::spawn(watch(
        adapter_a,
        adapter_b,
        seen.clone(),
        Duration::from_millis(opts.watch_ms),
    ));
    let b_time = net.b.time_ms(b.id.as_str()).await?;
    let outcome = phases(a, b, b_time, opts, &seen).await;
    watcher.abort();
    for c in children.iter_mut() {
        crate::testnet::stop_child(c).await;
    }
    let (lat, load, thr, observed) = outcome?;
    report(opts, &lat, &load, &thr, &observed, &[]);
    Ok(())
}

/// What the members' attesters cost per header of an attested chain.
#[derive(Debug, Clone)]
struct AttestationCost {
    /// Block first seen on the chain's node → the hub's client holds it, ms, sorted.
    lag_ms: Vec<f64>,
    /// `Attest` transactions committed for the chain in the window.
    txs: u64,
    /// Heights the client moved in the window.
    headers: u64,
}

impl AttestationCost {
    fn print(&self, attesters: usize) {
        println!(
            "attestation of chain A ({attesters} attesters): {} Attest txs for {} headers = {:.2} hub txs/header; block seen → client holds it p50 {} / p99 {} ({} blocks)",
            self.txs,
            self.headers,
            self.txs as f64 / self.headers.max(1) as f64,
            ms(pct(&self.lag_ms, 50.0)),
            ms(pct(&self.lag_ms, 99.0)),
            self.lag_ms.len()
        );
    }
}

/// Watches chain A's head and the hub's client of it for `window`: when each new block is
/// first seen on the node and when the client first holds it, and the `Attest`
/// transactions the hub committed for the chain meanwhile.
async fn attestation_cost(
    net: &EvmNet,
    a: &EvmAdapter,
    window: Duration,
) -> eyre::Result<AttestationCost> {
    use junction_rpc::methods::{BlockEvents, ClientStateParams, GetClientState, Height, Status};
    let hub = junction_rpc::RpcClient::new(net.hub_rpc.clone());
    let chain = evmnet::chain_name(0);
    let client_height = || async {
        hub.call::<GetClientState>(&ClientStateParams {
            chain: chain.clone(),
        })
        .await
        .map(|c| c.latest_height)
    };
    let hub_height = || async {
        hub.call::<Status>(&junction_rpc::methods::NoParams {})
            .await
            .map(|s| s.height)
    };
    let first_hub = hub_height().await?;
    let first_client = client_height().await?;
    let mut seen: BTreeMap<u64, Instant> = BTreeMap::new();
    let mut lag_ms = Vec::new();
    let start = Instant::now();
    let mut head = a.latest_height().await.map_err(|e| eyre!("{e}"))?;
    while start.elapsed() < window {
        let h = a.latest_height().await.map_err(|e| eyre!("{e}"))?;
        let now = Instant::now();
        for n in head + 1..=h {
            seen.insert(n, now);
        }
        head = head.max(h);
        let held = client_height().await?;
        let done: Vec<u64> = seen.range(..=held).map(|(n, _)| *n).collect();
        for n in done {
            if let Some(t) = seen.remove(&n) {
                lag_ms.push(now.duration_since(t).as_secs_f64() * 1000.0);
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let last_client = client_height().await?;
    let last_hub = hub_height().await?;
    let mut txs = 0u64;
    for height in first_hub + 1..=last_hub {
        let events = hub.call::<BlockEvents>(&Height { height }).await?;
        txs += events
            .events
            .iter()
            .filter(|e| {
                e.kind == "client/attested"
                    && e.attributes
                        .iter()
                        .any(|(k, v)| k == "chain" && *v == chain)
            })
            .count() as u64;
    }
    lag_ms.sort_by(f64::total_cmp);
    Ok(AttestationCost {
        lag_ms,
        txs,
        headers: last_client.saturating_sub(first_client),
    })
}

#[derive(Debug, Clone)]
struct Throughput {
    packets: usize,
    acked: usize,
    /// First send seen → last ack seen.
    span: Duration,
    /// First send seen → last receipt seen on B.
    recv_span: Duration,
    /// Time spent submitting the sends.
    submit: Duration,
    app_failed: u64,
    watch_errors: u64,
}

/// (batch size, transactions, packets, gas, app gas) of the relayer's deliveries on B.
type Observed = Vec<(usize, u64, u64, u64, u64)>;

/// The phases from chain `a` to chain `b` (whose latest block time is `b_time_ms`).
async fn phases(
    a: &EvmChain,
    b: &EvmChain,
    b_time_ms: u64,
    opts: &E2eOptions,
    seen: &Arc<Mutex<Seen>>,
) -> eyre::Result<(Latencies, Latencies, Throughput, Observed)> {
    let timeout = Duration::from_secs(opts.timeout_secs);
    let mut sender = Sender::new(a, b, b_time_ms).await?;

    println!(
        "latency: {} packets one at a time (each after the previous ack)...",
        opts.latency_samples
    );
    for i in 0..opts.latency_samples {
        sender.send().await?;
        wait_acked(seen, i + 1, timeout, "latency phase").await?;
    }
    let lat_keys: Vec<Key> = seen.lock().await.sent_order.clone();
    let lat = Latencies::of(&*seen.lock().await, &lat_keys);
    let before = lat_keys.len();
    let deliver_before = seen.lock().await.deliver_txs.len();

    println!("throughput: {} packets back to back...", opts.packets);
    let t0 = Instant::now();
    for _ in 0..opts.packets {
        sender.send().await?;
    }
    let submit = t0.elapsed();
    let waited = wait_acked(seen, before + opts.packets, timeout, "throughput phase").await;
    let s = seen.lock().await;
    let load_keys: Vec<Key> = s.sent_order.iter().skip(before).copied().collect();
    let load = Latencies::of(&s, &load_keys);
    let first = load_keys
        .iter()
        .filter_map(|k| s.sent.get(k))
        .min()
        .copied();
    let last_ack = load_keys
        .iter()
        .filter_map(|k| s.acked.get(k))
        .max()
        .copied();
    let last_recv = load_keys
        .iter()
        .filter_map(|k| s.recv.get(k))
        .max()
        .copied();
    let span_of = |end: Option<Instant>| match (first, end) {
        (Some(f), Some(e)) => e.saturating_duration_since(f),
        _ => Duration::ZERO,
    };
    let thr = Throughput {
        packets: opts.packets,
        acked: load_keys
            .iter()
            .filter(|k| s.acked.contains_key(*k))
            .count(),
        span: span_of(last_ack),
        recv_span: span_of(last_recv),
        submit,
        app_failed: s.app_failed,
        watch_errors: s.errors,
    };
    let txs: Vec<[u8; 32]> = s.deliver_txs.iter().skip(deliver_before).copied().collect();
    drop(s);
    if let Err(e) = waited {
        eprintln!("warning: {e:#}");
    }
    let observed = observed_gas(b, &txs).await?;
    Ok((lat, load, thr, observed))
}

/// Gas of the relayer's `deliver` transactions on B, grouped by how many packets each held.
async fn observed_gas(b: &EvmChain, txs: &[[u8; 32]]) -> eyre::Result<Observed> {
    let p = evmnet::provider(&b.anvil.endpoint(), DEV_KEY_0)?;
    let mut by: BTreeMap<usize, (u64, u64, u64, u64)> = BTreeMap::new();
    for tx in txs {
        let Some(r) = p.get_transaction_receipt(B256::from(*tx)).await? else {
            continue;
        };
        let mut n = 0u64;
        let mut app = 0u64;
        for l in r.inner.logs() {
            if let Ok(e) = l.log_decode::<JunctionGateway::PacketReceived>() {
                n += 1;
                app += u64::try_from(e.inner.data.appGasUsed).unwrap_or(0);
            }
        }
        if n == 0 {
            continue;
        }
        let e = by.entry(n as usize).or_default();
        e.0 += 1;
        e.1 += n;
        e.2 += r.gas_used;
        e.3 += app;
    }
    Ok(by
        .into_iter()
        .map(|(k, (t, n, g, a))| (k, t, n, g, a))
        .collect())
}

/// (total gas, app gas) of one `deliver` of `batch` escrow packets on a fresh gateway
/// (the `gateway_gas` measurement).
async fn controlled_gas(batch: usize) -> eyre::Result<(u64, u64)> {
    let gas = junction_adapters::evm::gas::measure_delivery(batch)
        .await
        .map_err(|e| eyre!(e))?;
    Ok((gas.total, gas.app))
}

fn block_time_name(secs: f64) -> String {
    if secs <= 0.0 {
        "automine".to_string()
    } else {
        format!("{secs} s blocks")
    }
}

fn ms(v: f64) -> String {
    if v.is_nan() {
        "n/a".into()
    } else if v >= 10_000.0 {
        format!("{:.1} s", v / 1e3)
    } else {
        format!("{v:.0} ms")
    }
}

fn report(
    opts: &E2eOptions,
    lat: &Latencies,
    load: &Latencies,
    thr: &Throughput,
    observed: &Observed,
    controlled: &[(usize, (u64, u64))],
) {
    let rate = if thr.span.is_zero() {
        0.0
    } else {
        thr.acked as f64 / thr.span.as_secs_f64()
    };
    let recv_rate = if thr.recv_span.is_zero() {
        0.0
    } else {
        thr.acked as f64 / thr.recv_span.as_secs_f64()
    };
    let verdict = |ok: bool| if ok { "met" } else { "not met" };
    println!();
    println!(
        "junction bench e2e: {}{}{} validators, anvil {}, relayer poll {} ms, max batch {}, watcher every {} ms",
        if opts.hubs == 2 {
            "hub to hub (evm-a under hub-a → evm-b under hub-b, bridge between), "
        } else {
            ""
        },
        if opts.hubs == 2 { "2 × " } else { "" },
        opts.validators,
        block_time_name(opts.block_time_secs),
        opts.relayer_poll_ms,
        opts.max_batch,
        opts.watch_ms
    );
    println!("{:<44} {:>16}  {:<22}", "figure", "measured", "goal");
    let row = |name: &str, v: String, goal: &str, ok: Option<bool>| {
        println!(
            "{name:<44} {v:>16}  {goal:<22} {}",
            ok.map(verdict).unwrap_or("")
        );
    };
    let p50 = pct(&lat.one_way, 50.0);
    row(
        &format!("one-way p50, idle ({} packets)", lat.one_way.len()),
        ms(p50),
        "< 1 s",
        Some(p50 < 1000.0),
    );
    row("one-way p99, idle", ms(pct(&lat.one_way, 99.0)), "", None);
    row(
        "round trip p50, idle",
        ms(pct(&lat.round_trip, 50.0)),
        "",
        None,
    );
    row(
        "round trip p99, idle",
        ms(pct(&lat.round_trip, 99.0)),
        "",
        None,
    );
    let p50_p99 = |sorted: &[f64]| format!("{} / {}", ms(pct(sorted, 50.0)), ms(pct(sorted, 99.0)));
    row(
        &format!("one-way p50 / p99, {} back to back", thr.packets),
        p50_p99(&load.one_way),
        "",
        None,
    );
    row(
        &format!("round trip p50 / p99, {} back to back", thr.packets),
        p50_p99(&load.round_trip),
        "",
        None,
    );
    row(
        &format!(
            "packets/s, send → ack ({}/{} acked in {:.1?})",
            thr.acked, thr.packets, thr.span
        ),
        format!("{rate:.1}"),
        "≥ 1,000 packets/s",
        Some(rate >= 1000.0),
    );
    row(
        "packets/s, send → app ran on B",
        format!("{recv_rate:.1}"),
        "",
        None,
    );
    for (batch, (total, app)) in controlled {
        let n = *batch as u64;
        let per = total.saturating_sub(*app) / n.max(1);
        let goal = if *batch == 100 {
            "≤ 50,000 gas/packet"
        } else {
            ""
        };
        row(
            &format!("gas/packet w/o app, batch {batch} (controlled)"),
            format!("{per}"),
            goal,
            (*batch == 100).then_some(per <= 50_000),
        );
    }
    println!();
    println!(
        "sends submitted in {:.1?}; app reverts on B: {}; watcher retries: {}",
        thr.submit, thr.app_failed, thr.watch_errors
    );
    if observed.is_empty() {
        println!("observed deliveries on B: none");
    } else {
        println!("relayer's own deliveries on B during the throughput phase (gas w/o app):");
        println!("  batch  txs  packets  gas/packet");
        for (size, txs, n, gas, app) in observed {
            println!(
                "  {size:>5}  {txs:>3}  {n:>7}  {:>10}",
                gas.saturating_sub(*app) / (*n).max(1)
            );
        }
    }
}
