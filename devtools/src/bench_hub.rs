//! `junction bench hub`: the hub alone under verified relayer load, no anvil in the loop.
//!
//! Starts N validators whose genesis registers two attested EVM chains (the attester keys
//! are the light-client test kit's), a route between them and R relayer accounts. The
//! benchmark is the source chain: it builds the gateway's storage trie with every packet
//! commitment so far (alloy's `HashBuilder`), signs an attested header over the state root,
//! and submits `UpdateClient` and then `RecvPacket` transactions with real MPT proofs as the
//! registered relayers. Each measured window reports verified packets committed per second,
//! block time, admission and block execution time per packet (the validators' own
//! histograms) and a validator's RSS, after 0, 10,000 and 100,000 packets already logged.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use eyre::{eyre, WrapErr};

use junction_hub::config::GenesisRoute;
use junction_light_clients::evm::attested::{testkit, AttestedHeader, SignedAttestedHeader};
use junction_light_clients::evm::codec::AttestedTrustRoot;
use junction_light_clients::evm::mpt::{
    commitment_slot, testkit as mpt_testkit, Account, EvmPath, EvmProof,
};
use junction_rpc::methods::{
    AtHeight, BroadcastMode, BroadcastParams, BroadcastTx, GetBlock, LogInfo, NoParams, Status,
};
use junction_rpc::{ClientError, Hex, HexBytes, RpcClient};
use junction_spec::gov::{ChainRegistration, Fraction, LightClientParams, RateLimit, RoutePolicy};
use junction_spec::relay::{RelayMsg, SourceProof};
use junction_spec::{ChainId, Encode, Hash32, LedgerKind, Packet, RouteId, Timeout, TxKind};

use crate::bench::percentile;
use crate::bench_measure::format_rate;

const EVM_CHAIN_ID: u64 = 31_337;
const SOURCE_GATEWAY: [u8; 20] = [0xa1; 20];
const DEST_GATEWAY: [u8; 20] = [0xb1; 20];
const SOURCE_APP: [u8; 20] = [0xaa; 20];
const DEST_APP: [u8; 20] = [0xbb; 20];
/// Transactions stay under the hub's 64 KiB cap with room for the envelope.
const TX_BUDGET_BYTES: usize = 60_000;
/// Most packets proven against one header (bounds the proofs held in memory).
const MAX_PHASE_PACKETS: u64 = 20_000;

fn now_secs() -> u64 {
    junction_hub::node::now_ms() / 1000
}

fn chain(id: &str) -> eyre::Result<ChainId> {
    ChainId::new(id).map_err(|e| eyre!("{e}"))
}

fn trusted_header(timestamp: u64) -> AttestedHeader {
    AttestedHeader {
        chain_id: EVM_CHAIN_ID,
        number: 1,
        hash: [1; 32],
        parent_hash: [0; 32],
        state_root: [2; 32],
        receipts_root: [3; 32],
        timestamp,
    }
}

fn registration(id: &str, gateway: [u8; 20], start_secs: u64) -> eyre::Result<ChainRegistration> {
    let root = AttestedTrustRoot {
        evm_chain_id: EVM_CHAIN_ID,
        gateway,
        attesters: testkit::attester_keys(4)
            .iter()
            .map(testkit::address)
            .collect(),
        trusted: trusted_header(start_secs),
    };
    Ok(ChainRegistration {
        chain_id: chain(id)?,
        kind: LedgerKind::EvmAttested,
        params: LightClientParams {
            trust_level: Fraction { num: 2, den: 3 },
            trusting_period_ms: 24 * 3_600_000,
            max_clock_drift_ms: 10_000,
            min_confirmations: 0,
            threshold: Fraction { num: 2, den: 3 },
        },
        trust_root: root.to_bytes(),
    })
}

fn route(start_secs: u64) -> eyre::Result<GenesisRoute> {
    let _ = start_secs;
    Ok(GenesisRoute {
        id: RouteId::new("bench-a-to-b").map_err(|e| eyre!("{e}"))?,
        policy: RoutePolicy {
            source_chain: chain("evm-a")?,
            source_apps: vec![SOURCE_APP.to_vec()],
            dest_chain: chain("evm-b")?,
            dest_apps: vec![DEST_APP.to_vec()],
            ordered: false,
            max_payload: 256,
            max_gas_limit: 200_000,
            rate: RateLimit {
                messages: 1_000_000_000,
                bytes: 1_000_000_000_000,
                window_ms: 1_000,
            },
            app_rate: None,
            min_timeout_ms: 1,
            max_timeout_ms: 30 * 24 * 3_600_000,
            min_confirmations: 0,
            fee: 0,
        },
    })
}

fn packet(sequence: u64, dest_time_ms: u64) -> eyre::Result<Packet> {
    Ok(Packet {
        version: Packet::VERSION,
        source_chain: chain("evm-a")?,
        source_app: SOURCE_APP.to_vec(),
        sequence,
        dest_chain: chain("evm-b")?,
        dest_app: DEST_APP.to_vec(),
        payload: sequence.to_be_bytes().repeat(8),
        timeout: Timeout {
            height: 0,
            time_ms: dest_time_ms + 7 * 24 * 3_600_000,
        },
        gas_limit: 100_000,
        fee: 0,
    })
}

/// RLP of a storage word: the big-endian integer without leading zeros, as a string.
fn rlp_word(word: &[u8; 32]) -> Vec<u8> {
    let skip = word.iter().take_while(|b| **b == 0).count();
    let bytes = &word[skip..];
    match bytes {
        [b] if *b < 0x80 => vec![*b],
        _ => {
            let mut out = vec![0x80 + bytes.len() as u8];
            out.extend_from_slice(bytes);
            out
        }
    }
}

fn keccak(b: &[u8]) -> [u8; 32] {
    alloy_primitives::keccak256(b).0
}

/// The source chain as of `packets`: its state root and the proofs of `targets`.
struct SourceState {
    state_root: [u8; 32],
    proofs: Vec<EvmProof>,
}

fn source_state(packets: &[Packet], targets: std::ops::Range<usize>) -> SourceState {
    let entries: Vec<(Vec<u8>, Vec<u8>)> = packets
        .iter()
        .map(|p| {
            let slot = commitment_slot(&p.key().hash());
            (keccak(&slot).to_vec(), rlp_word(&p.hash()))
        })
        .collect();
    let wanted: Vec<Vec<u8>> = targets.clone().map(|i| entries[i].0.clone()).collect();
    let (storage_root, storage_proofs) = mpt_testkit::build_with_proofs(&entries, &wanted);
    let account = Account {
        nonce: 1,
        balance: Default::default(),
        storage_root,
        code_hash: keccak(b"gateway"),
    };
    let account_key = keccak(&SOURCE_GATEWAY).to_vec();
    let (state_root, account_proofs) =
        mpt_testkit::build_with_proofs(&[(account_key.clone(), account.encode())], &[account_key]);
    let account_proof: Vec<Vec<u8>> = account_proofs
        .into_iter()
        .next()
        .unwrap_or_default()
        .into_iter()
        .map(|b| b.to_vec())
        .collect();
    let proofs = storage_proofs
        .into_iter()
        .map(|sp| EvmProof {
            account_proof: account_proof.clone(),
            storage_proof: sp.into_iter().map(|b| b.to_vec()).collect(),
            receipt_proof: vec![],
        })
        .collect();
    SourceState { state_root, proofs }
}

fn signed_header(number: u64, state_root: [u8; 32], timestamp: u64) -> SignedAttestedHeader {
    let header = AttestedHeader {
        chain_id: EVM_CHAIN_ID,
        number,
        hash: keccak(&number.to_be_bytes()),
        parent_hash: [0; 32],
        state_root,
        receipts_root: keccak(b"receipts"),
        timestamp,
    };
    let signatures = testkit::attester_keys(4)
        .iter()
        .map(|k| testkit::sign(k, &header))
        .collect();
    SignedAttestedHeader {
        header,
        signatures,
        full_header: None,
    }
}

/// A signed relay transaction: hash, encoding, packets in it.
struct RelayTx {
    hash: Hash32,
    tx: HexBytes,
    packets: u64,
}

struct Relayer {
    key: junction_hub::context::PrivateKey,
    nonce: u64,
}

impl Relayer {
    fn sign(&mut self, chain_id: &ChainId, msgs: Vec<RelayMsg>) -> RelayTx {
        let packets = msgs
            .iter()
            .filter(|m| matches!(m, RelayMsg::RecvPacket { .. }))
            .count() as u64;
        let tx = junction_keys::sign_tx(&self.key, chain_id, self.nonce, TxKind::Relay { msgs });
        self.nonce += 1;
        RelayTx {
            hash: tx.hash(),
            tx: HexBytes(tx.to_bytes()),
            packets,
        }
    }
}

/// Node-side figures read from `/metrics`: (sum seconds, count) of a histogram.
async fn histogram(url: &str, name: &str) -> eyre::Result<(f64, f64)> {
    let text = reqwest_text(&format!("{url}/metrics")).await?;
    let read = |suffix: &str| -> f64 {
        text.lines()
            .find(|l| l.starts_with(&format!("{name}_{suffix} ")))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0)
    };
    Ok((read("sum"), read("count")))
}

async fn reqwest_text(url: &str) -> eyre::Result<String> {
    let addr = url.trim_start_matches("http://");
    let (host, path) = addr.split_once('/').unwrap_or((addr, ""));
    let mut stream = tokio::net::TcpStream::connect(host).await?;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    stream
        .write_all(format!("GET /{path} HTTP/1.0\r\nHost: {host}\r\n\r\n").as_bytes())
        .await?;
    let mut out = String::new();
    stream.read_to_string(&mut out).await?;
    Ok(out
        .split_once("\r\n\r\n")
        .map(|x| x.1.to_string())
        .unwrap_or_default())
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// Samples a validator's RSS while a measured window runs: one reading at its end would
/// catch the allocator between returning freed memory and not.
struct RssSampler {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Vec<u64>>,
}

impl RssSampler {
    const EVERY: Duration = Duration::from_millis(100);

    fn start(pid: Option<u32>) -> Self {
        let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let mut samples = Vec::new();
            loop {
                if let Some(pid) = pid {
                    samples.push(rss_kib(pid));
                }
                tokio::select! {
                    _ = &mut stopped => return samples,
                    _ = tokio::time::sleep(Self::EVERY) => {}
                }
            }
        });
        Self { stop, task }
    }

    async fn stop(self) -> Vec<u64> {
        let _ = self.stop.send(());
        self.task.await.unwrap_or_default()
    }
}

/// CPU time (user and system, all threads) `pid` has used, in clock ticks of 10 ms: the
/// /proc interface counts in USER_HZ, which is 100 on Linux.
fn cpu_ticks(pid: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            // Fields after the command name (which may hold spaces): state is field 3,
            // utime 14 and stime 15.
            let rest = s.rsplit_once(')')?.1;
            let f: Vec<&str> = rest.split_whitespace().collect();
            let user: u64 = f.get(11)?.parse().ok()?;
            let system: u64 = f.get(12)?.parse().ok()?;
            Some(user + system)
        })
        .unwrap_or(0)
}

/// CPU ticks of the validators and of this benchmark process.
fn cpu_now(validators: &[u32]) -> (u64, u64) {
    let v = validators.iter().map(|p| cpu_ticks(&p.to_string())).sum();
    (v, cpu_ticks("self"))
}

/// Runs the hub benchmark.
pub async fn hub(
    validators: usize,
    relayers: usize,
    window: u64,
    checkpoints: &[u64],
) -> eyre::Result<()> {
    if relayers == 0 || relayers > 64 {
        return Err(eyre!("--relayers must be 1..=64"));
    }
    let dir = std::env::temp_dir().join(format!("junction-bench-hub-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let base = 38000 + (std::process::id() % 1000) as u16 * 3;
    let start_secs = now_secs().saturating_sub(60);
    let relayer_keys: Vec<_> = (1..=relayers as u8)
        .map(crate::testnet::dev_account)
        .collect();
    let a = registration("evm-a", SOURCE_GATEWAY, start_secs)?;
    let b = registration("evm-b", DEST_GATEWAY, start_secs)?;
    let r = route(start_secs)?;
    let relayer_pubs: Vec<String> = relayer_keys
        .iter()
        .map(|k| hex::encode(k.public_key().as_bytes()))
        .collect();
    let urls = crate::testnet::init_with(&dir, validators, "junction-bench-hub", base, |g| {
        g.chains = vec![a, b];
        g.routes = vec![r];
        g.relayers = relayer_pubs;
    })?;
    let mut children = crate::testnet::spawn_nodes(&dir, validators)?;
    let pids: Vec<u32> = children.iter().filter_map(|c| c.id()).collect();
    let result = run(&urls, &pids, relayer_keys, window, checkpoints, start_secs).await;
    crate::testnet::stop_nodes(&mut children, &dir, result.is_ok()).await;
    result
}

/// One stretch of packets proven against one header.
struct Phase {
    range: std::ops::Range<u64>,
    measured: Option<u64>,
}

/// The phases: packets filled up to each checkpoint, then its measured window. No phase is
/// longer than the window: each phase's transactions all wait in the mempool at once, and
/// the memory a validator keeps after a longer fill would count against the window.
fn phases(window: u64, checkpoints: &[u64]) -> Vec<Phase> {
    let mut out = Vec::new();
    let mut at = 0u64;
    let step = MAX_PHASE_PACKETS.min(window).max(1);
    let push = |from: u64, to: u64, measured: Option<u64>, out: &mut Vec<Phase>| {
        let mut a = from;
        while a < to {
            let b = (a + step).min(to);
            out.push(Phase {
                range: a..b,
                measured,
            });
            a = b;
        }
    };
    for &c in checkpoints {
        if c > at {
            push(at, c, None, &mut out);
            at = c;
        }
        push(at, at + window, Some(at), &mut out);
        at += window;
    }
    out
}

#[derive(Default)]
struct Window {
    packets: u64,
    /// Loaded time: from each phase's first submission to the block that committed its
    /// last packet, summed. The time between phases, when the benchmark is the source
    /// chain (growing its trie, proving, signing the next header) and the hub is idle, is
    /// the source's, not the hub's.
    busy_ms: u64,
    block_times: Vec<u64>,
    admission: (f64, f64),
    execution: (f64, f64),
    execution_cpu: (f64, f64),
    commit: (f64, f64),
    tree: (f64, f64),
    /// CPU seconds of the updating threads (node 0).
    tree_cpu: f64,
    /// CPU ticks over the loaded time: all validators together, and this process.
    cpu: (u64, u64),
    /// Each validator's RSS after [`SETTLE`] without load, after the window (KiB).
    settled: Vec<u64>,
}

/// Idle time after a window before the settled RSS is read: past the time after which
/// the allocator returns freed memory (about 10 s, see the `junction` binary), so that
/// what stays is what the node holds.
const SETTLE: Duration = Duration::from_secs(12);

async fn run(
    urls: &[String],
    pids: &[u32],
    keys: Vec<junction_hub::context::PrivateKey>,
    window: u64,
    checkpoints: &[u64],
    start_secs: u64,
) -> eyre::Result<()> {
    let rpcs: Vec<RpcClient> = urls.iter().map(RpcClient::new).collect();
    for r in &rpcs {
        crate::evmnet::wait_height(r, 2, Duration::from_secs(60)).await?;
    }
    let status = rpcs[0].call::<Status>(&NoParams {}).await?;
    let chain_id = chain(&status.chain_id)?;
    let mut relayers: Vec<Relayer> = keys
        .into_iter()
        .map(|key| Relayer { key, nonce: 0 })
        .collect();
    let plan = phases(window, checkpoints);
    let total = plan.last().map(|p| p.range.end).unwrap_or(0);
    let dest_time_ms = start_secs * 1000;
    println!("building {total} packets...");
    let packets: Vec<Packet> = (1..=total)
        .map(|s| packet(s, dest_time_ms))
        .collect::<eyre::Result<_>>()?;
    let mut windows: Vec<(u64, Window)> = Vec::new();
    let mut rss = Vec::new();
    let mut last_header_secs = start_secs;
    let mut floor_sample: Option<(EvmProof, [u8; 32], Packet)> = None;
    for (i, phase) in plan.iter().enumerate() {
        let (a, b) = (phase.range.start as usize, phase.range.end as usize);
        let src = source_state(&packets[..b], a..b);
        // Headers skip ahead (attesters vouch for each on its own), so none needs a parent.
        let height = 10 + 2 * i as u64;
        let ts = now_secs().max(last_header_secs + 1);
        last_header_secs = ts;
        let header = signed_header(height, src.state_root, ts);
        let update = relayers[0].sign(
            &chain_id,
            vec![RelayMsg::UpdateClient {
                chain: chain("evm-a")?,
                header: header.to_bytes(),
            }],
        );
        let updated = rpcs[0]
            .call::<BroadcastTx>(&BroadcastParams {
                tx: update.tx,
                mode: BroadcastMode::Commit,
            })
            .await
            .wrap_err("the client update")?;
        // Each relayer submits to its own node: every node must hold the new header
        // before proofs against it arrive, or a node behind refuses them.
        if let Some(h) = updated.height {
            for r in &rpcs {
                crate::evmnet::wait_height(r, h, Duration::from_secs(60)).await?;
            }
        }
        if floor_sample.is_none() {
            floor_sample = Some((src.proofs[0].clone(), src.state_root, packets[a].clone()));
        }
        // Pre-sign: packets dealt to relayers in transactions under the size budget.
        let mut queues: Vec<Vec<RelayTx>> = (0..relayers.len()).map(|_| Vec::new()).collect();
        let mut msgs = Vec::new();
        let mut bytes = 0usize;
        let mut who = 0usize;
        for (p, proof) in packets[a..b].iter().zip(src.proofs) {
            let msg = RelayMsg::RecvPacket {
                packet: p.clone(),
                proof: SourceProof {
                    height,
                    proof: proof.to_bytes(),
                },
            };
            let len = msg.to_bytes().len();
            if !msgs.is_empty()
                && (bytes + len > TX_BUDGET_BYTES
                    || msgs.len() == junction_spec::relay::MAX_RELAY_MSGS)
            {
                let tx = relayers[who].sign(&chain_id, std::mem::take(&mut msgs));
                queues[who].push(tx);
                who = (who + 1) % relayers.len();
                bytes = 0;
            }
            bytes += len;
            msgs.push(msg);
        }
        if !msgs.is_empty() {
            let tx = relayers[who].sign(&chain_id, msgs);
            queues[who].push(tx);
        }
        let sizes: HashMap<Hash32, u64> = queues
            .iter()
            .flatten()
            .map(|t| (t.hash, t.packets))
            .collect();
        let before_adm = histogram(&urls[0], "junction_admission_seconds").await?;
        let before_exec = histogram(&urls[0], "junction_block_execution_seconds").await?;
        let before_exec_cpu = histogram(&urls[0], "junction_block_execution_cpu_seconds").await?;
        let before_commit = histogram(&urls[0], "junction_block_commit_seconds").await?;
        let before_tree = histogram(&urls[0], "junction_state_tree_update_seconds").await?;
        let before_tree_cpu = histogram(&urls[0], "junction_state_tree_update_cpu_seconds").await?;
        let start_height = rpcs[0].call::<Status>(&NoParams {}).await?.height;
        let cpu_before = cpu_now(pids);
        let sampler = phase
            .measured
            .map(|_| RssSampler::start(pids.first().copied()));
        let first_submit_ms = junction_hub::node::now_ms();
        let mut tasks = Vec::new();
        for (r, q) in queues.into_iter().enumerate() {
            let rpc = rpcs[r % rpcs.len()].clone();
            tasks.push(tokio::spawn(submit(rpc, q)));
        }
        // A submitter that gives up leaves transactions that no block will hold: its error
        // ends the phase instead of an endless follow.
        let follower = tokio::spawn({
            let rpc = rpcs[0].clone();
            async move { follow(&rpc, start_height + 1, sizes).await }
        });
        let mut retried: BTreeMap<String, u64> = BTreeMap::new();
        for t in tasks {
            let submitted = t.await.map_err(|e| eyre!("submitter: {e}")).and_then(|r| r);
            match submitted {
                Ok(r) => {
                    for (name, n) in r {
                        *retried.entry(name).or_default() += n;
                    }
                }
                Err(e) => {
                    follower.abort();
                    return Err(e);
                }
            }
        }
        let followed = follower.await.map_err(|e| eyre!("follower: {e}"))??;
        let (packets_done, last_block_ms, block_times) =
            (followed.packets, followed.last_ms, followed.block_times);
        let cpu_after = cpu_now(pids);
        let rss_samples = match sampler {
            Some(s) => s.stop().await,
            None => Vec::new(),
        };
        // Every packet must be in the log: a message refused inside a committed block
        // would otherwise count as throughput.
        let logged = rpcs[0].call::<LogInfo>(&NoParams {}).await?.size;
        if logged != phase.range.end {
            return Err(eyre!(
                "after packets {a}..{b} the hub logged {logged} entries, not {}: see junction_relay_rejected_total",
                phase.range.end
            ));
        }
        let after_adm = histogram(&urls[0], "junction_admission_seconds").await?;
        let after_exec = histogram(&urls[0], "junction_block_execution_seconds").await?;
        let after_exec_cpu = histogram(&urls[0], "junction_block_execution_cpu_seconds").await?;
        let after_commit = histogram(&urls[0], "junction_block_commit_seconds").await?;
        let after_tree = histogram(&urls[0], "junction_state_tree_update_seconds").await?;
        let after_tree_cpu = histogram(&urls[0], "junction_state_tree_update_cpu_seconds").await?;
        // Where a slow phase lost its time: before its first block, or in refusals the
        // submitters waited out.
        let retries = if retried.is_empty() {
            "none".to_string()
        } else {
            retried
                .iter()
                .map(|(name, n)| format!("{name} x{n}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        println!(
            "  phase {i}: packets {a}..{b} proven at source height {height}: {packets_done} committed in {} ms (first in a block after {} ms; retried: {retries})",
            last_block_ms.saturating_sub(first_submit_ms),
            followed.first_ms.saturating_sub(first_submit_ms)
        );
        if let Some(at) = phase.measured {
            let w = match windows.iter_mut().find(|(x, _)| *x == at) {
                Some((_, w)) => w,
                None => {
                    windows.push((at, Window::default()));
                    &mut windows.last_mut().ok_or_else(|| eyre!("window"))?.1
                }
            };
            w.packets += packets_done;
            w.busy_ms += last_block_ms.saturating_sub(first_submit_ms);
            w.block_times.extend(block_times);
            w.admission.0 += after_adm.0 - before_adm.0;
            w.admission.1 += after_adm.1 - before_adm.1;
            w.execution.0 += after_exec.0 - before_exec.0;
            w.execution.1 += after_exec.1 - before_exec.1;
            w.execution_cpu.0 += after_exec_cpu.0 - before_exec_cpu.0;
            w.execution_cpu.1 += after_exec_cpu.1 - before_exec_cpu.1;
            w.commit.0 += after_commit.0 - before_commit.0;
            w.commit.1 += after_commit.1 - before_commit.1;
            w.tree.0 += after_tree.0 - before_tree.0;
            w.tree.1 += after_tree.1 - before_tree.1;
            w.tree_cpu += after_tree_cpu.0 - before_tree_cpu.0;
            w.cpu.0 += cpu_after.0.saturating_sub(cpu_before.0);
            w.cpu.1 += cpu_after.1.saturating_sub(cpu_before.1);
            rss.push((at, rss_samples));
            // With the load gone, the allocator returns what it kept for the next blocks.
            tokio::time::sleep(SETTLE).await;
            w.settled = pids.iter().map(|p| rss_kib(*p)).collect();
        }
    }
    let floor = per_packet_floor(floor_sample, validators_of(urls))?;
    println!(
        "bench hub: {} validators, {} relayers, windows of {window} packets",
        urls.len(),
        relayers.len()
    );
    for (at, w) in &mut windows {
        w.block_times.sort_unstable();
        let span = w.busy_ms.max(1);
        let rate = w.packets as f64 * 1000.0 / span as f64;
        let mut rss_at: Vec<u64> = rss
            .iter()
            .filter(|(x, _)| x == at)
            .flat_map(|(_, s)| s.iter().copied())
            .collect();
        rss_at.sort_unstable();
        println!("  after {} packets logged:", format_rate(*at as f64));
        println!(
            "    verified packets committed:   {} /s ({} packets)",
            format_rate(rate),
            w.packets
        );
        println!(
            "    block time:                   p50 {} ms, p99 {} ms",
            percentile(&w.block_times, 50),
            percentile(&w.block_times, 99)
        );
        println!(
            "    admission per packet:         {:.1} us (node 0, {} transactions)",
            w.admission.0 * 1e6 / w.packets.max(1) as f64,
            w.admission.1
        );
        println!(
            "    block execution per packet:   {:.1} us wall, {:.1} us CPU of its thread (node 0, {} blocks)",
            w.execution.0 * 1e6 / w.packets.max(1) as f64,
            w.execution_cpu.0 * 1e6 / w.packets.max(1) as f64,
            w.execution.1
        );
        println!(
            "    commit per packet:            {:.1} us (node 0, {} blocks: store, memory)",
            w.commit.0 * 1e6 / w.packets.max(1) as f64,
            w.commit.1
        );
        println!(
            "    state-tree update per packet: {:.1} us wall, {:.1} us CPU of its thread (node 0, {} blocks, beside the votes)",
            w.tree.0 * 1e6 / w.packets.max(1) as f64,
            w.tree_cpu * 1e6 / w.packets.max(1) as f64,
            w.tree.1
        );
        // Each tick is 10 ms = 10,000 us of one core.
        let per_packet = |ticks: u64| ticks as f64 * 10_000.0 / w.packets.max(1) as f64;
        let validators_cpu = per_packet(w.cpu.0);
        println!(
            "    CPU per packet:               {:.0} us in all {} validators, {:.0} us in this benchmark ({} cores at that cost: {} packets/s)",
            validators_cpu,
            pids.len(),
            per_packet(w.cpu.1),
            cores(),
            format_rate(cores() as f64 * 1e6 / (validators_cpu + per_packet(w.cpu.1)).max(1.0))
        );
        println!(
            "    validator RSS:                median {} MiB, peak {} MiB (node 0, {} samples over the window)",
            percentile(&rss_at, 50) / 1024,
            rss_at.last().copied().unwrap_or(0) / 1024,
            rss_at.len()
        );
        let mut settled = w.settled.clone();
        settled.sort_unstable();
        println!(
            "    validator RSS settled:        node 0 {} MiB, median of all {} MiB ({} s idle after the window)",
            w.settled.first().copied().unwrap_or(0) / 1024,
            percentile(&settled, 50) / 1024,
            SETTLE.as_secs()
        );
    }
    println!(
        "  floor from per-packet costs:    {} packets/s ({})",
        format_rate(floor.0),
        floor.1
    );
    Ok(())
}

/// The cores this machine runs the validators and the benchmark on.
fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

fn validators_of(urls: &[String]) -> usize {
    urls.len()
}

/// The rate the measured per-packet costs allow when every validator does every packet's
/// work on a machine's cores: proof verification (once: the block finds admission's check
/// in the node's memo), the relayer signature shared by the transaction's packets, and the
/// state tree's writes (the packet's record; its channel and route counters once a block).
fn per_packet_floor(
    sample: Option<(EvmProof, [u8; 32], Packet)>,
    validators: usize,
) -> eyre::Result<(f64, String)> {
    let (proof, root, packet) = sample.ok_or_else(|| eyre!("no packet was proven"))?;
    let path = EvmPath::Storage {
        address: SOURCE_GATEWAY,
        slot: commitment_slot(&packet.key().hash()),
    };
    let time = |n: u32, f: &mut dyn FnMut() -> eyre::Result<()>| -> eyre::Result<f64> {
        let t = Instant::now();
        for _ in 0..n {
            f()?;
        }
        Ok(t.elapsed().as_secs_f64() / f64::from(n))
    };
    let verify = time(2_000, &mut || {
        junction_light_clients::evm::mpt::verify_state(
            &root,
            &[0; 32],
            &path,
            &packet.hash(),
            &proof,
        )
        .map_err(|e| eyre!("{e}"))
    })?;
    let key = ed25519_consensus::SigningKey::from([7u8; 32]);
    let vk = key.verification_key();
    let sig = key.sign(b"bench");
    let signature = time(2_000, &mut || {
        vk.verify(&sig, b"bench").map_err(|e| eyre!("{e}"))
    })?;
    let mut tree = junction_state_tree::MemoryTree::default();
    let mut version = 0u64;
    let rows: Vec<(Vec<u8>, Option<Vec<u8>>)> = (0..20_000u64)
        .map(|i| (keccak(&i.to_be_bytes()).to_vec(), Some(vec![1u8; 80])))
        .collect();
    tree.apply(version, &rows).map_err(|e| eyre!("{e}"))?;
    let mut next = 20_000u64;
    // A received packet writes one new state row, its record; its channel and its route's
    // counters are rows every packet of the block shares, written once per block. Blocks
    // of 1,000 packets.
    let writes = time(20, &mut || {
        version += 1;
        let batch: Vec<(Vec<u8>, Option<Vec<u8>>)> = (0..1_000u64)
            .map(|i| {
                (
                    keccak(&(next + i).to_be_bytes()).to_vec(),
                    Some(vec![2u8; 80]),
                )
            })
            .chain([0u64, 1].map(|i| (keccak(&i.to_be_bytes()).to_vec(), Some(vec![3u8; 80]))))
            .collect();
        next += 1_000;
        tree.apply(version, &batch)
            .map(|_| ())
            .map_err(|e| eyre!("{e}"))
    })? / 1_000.0;
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1) as f64;
    // The proof is checked once per validator: the block finds admission's check in the
    // node's memo.
    let per_packet = verify + signature / 20.0 + writes;
    let floor = cores / (validators as f64 * per_packet);
    Ok((
        floor,
        format!(
            "{cores} cores / ({validators} validators x [{:.1} us proof + {:.2} us signature share + {:.1} us state-tree writes])",
            verify * 1e6,
            signature / 20.0 * 1e6,
            writes * 1e6
        ),
    ))
}

/// Submits `queue` through `rpc`, a few calls in flight, waiting out refusals that time
/// clears; returns how often each such refusal came.
async fn submit(rpc: RpcClient, queue: Vec<RelayTx>) -> eyre::Result<BTreeMap<String, u64>> {
    const IN_FLIGHT: usize = 4;
    let mut retried = BTreeMap::new();
    let mut i = 0;
    while i < queue.len() {
        let end = (i + IN_FLIGHT).min(queue.len());
        let calls = queue[i..end].iter().map(|t| {
            let rpc = rpc.clone();
            let tx = t.tx.clone();
            async move {
                rpc.call::<BroadcastTx>(&BroadcastParams {
                    tx,
                    mode: BroadcastMode::Sync,
                })
                .await
            }
        });
        let answers = futures::future::join_all(calls).await;
        let mut retry_from = None;
        for (j, a) in answers.into_iter().enumerate() {
            match a {
                Ok(_) => {}
                Err(ClientError::Rpc { name, .. }) if is_retryable(&name) => {
                    retry_from.get_or_insert(i + j);
                    *retried.entry(name).or_insert(0u64) += 1;
                }
                Err(ClientError::Rpc { name, .. })
                    if name == "tx_already_known" || name == "tx_already_committed" => {}
                Err(e) => return Err(eyre!("a relay transaction was refused: {e}")),
            }
        }
        match retry_from {
            Some(k) => {
                i = k;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            None => i = end,
        }
    }
    Ok(retried)
}

fn is_retryable(name: &str) -> bool {
    matches!(
        name,
        "mempool_full"
            | "account_mempool_quota"
            | "nonce_too_far_ahead"
            | "relayer_rate_limited"
            // The node has not yet committed the client update the proof is against.
            | "unknown_height"
    )
}

/// What [`follow`] saw of a phase's blocks.
struct Followed {
    /// Packets committed.
    packets: u64,
    /// When the block holding the first of them was seen committed (ms since the epoch).
    first_ms: u64,
    /// When the block holding the last of them was seen committed.
    last_ms: u64,
    /// Intervals between the headers' times.
    block_times: Vec<u64>,
}

/// Follows committed blocks from `from` until every transaction in `sizes` is in one.
async fn follow(
    rpc: &RpcClient,
    mut next: u64,
    mut sizes: HashMap<Hash32, u64>,
) -> eyre::Result<Followed> {
    let mut packets = 0;
    let mut first_time = None;
    let mut last_time = 0u64;
    let mut prev: Option<u64> = None;
    let mut block_times = Vec::new();
    let mut idle = Instant::now();
    while !sizes.is_empty() {
        match rpc.call::<GetBlock>(&AtHeight { height: Some(next) }).await {
            Ok(b) => {
                let time = b.header.time_ms;
                if let Some(p) = prev {
                    block_times.push(time.saturating_sub(p));
                }
                prev = Some(time);
                // The window ends when the block holding its last packet is committed,
                // as seen here: the header's time is when it was proposed, a block
                // interval earlier, and counting from it overstated the rate.
                let seen_ms = junction_hub::node::now_ms();
                for Hex(h) in b.txs {
                    if let Some(n) = sizes.remove(&h) {
                        packets += n;
                        last_time = seen_ms;
                        first_time.get_or_insert(seen_ms);
                    }
                }
                next += 1;
                idle = Instant::now();
            }
            Err(_) => {
                if idle.elapsed() > Duration::from_secs(120) {
                    return Err(eyre!(
                        "no block for 120 s with {} transactions outstanding",
                        sizes.len()
                    ));
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
    Ok(Followed {
        packets,
        first_ms: first_time.unwrap_or(last_time),
        last_ms: last_time,
        block_times,
    })
}
