//! `junction bench chain`: a local network under signed `Remark` load.
//!
//! Starts N validator processes on loopback, pre-signs transactions for a set of accounts,
//! submits them in JSON-RPC batches as fast as the nodes accept them (each account through
//! one node, so its nonces arrive in order), follows committed blocks on node 0, and prints
//! block-time percentiles, committed transactions per second and commit latency.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use eyre::eyre;

use tokio::sync::Mutex;

use junction_spec::{Encode, Hash32};

use junction_hub::config::{Genesis, Home};
use junction_rpc::methods::{AtHeight, BroadcastMode, BroadcastParams, BroadcastTx, GetBlock};
use junction_rpc::{ClientError, Hex, HexBytes, RpcClient};

pub(crate) fn percentile(sorted: &[u64], p: usize) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let idx = (sorted.len() * p).div_ceil(100).saturating_sub(1);
    sorted[idx.min(sorted.len() - 1)]
}

struct Pending {
    sent: HashMap<Hash32, Instant>,
}

/// Runs the chain benchmark and prints its figures.
/// `rate` caps the offered load in transactions per second (0: as fast as accepted).
pub async fn chain(
    validators: usize,
    seconds: u64,
    accounts: usize,
    rate: u64,
    idle_seconds: u64,
    idle_interval_ms: Option<u64>,
) -> eyre::Result<()> {
    let dir = std::env::temp_dir().join(format!("junction-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let base = 36000 + (std::process::id() % 2000) as u16 * 3;
    let urls = crate::testnet::init(&dir, validators, "junction-bench", base)?;
    if let Some(ms) = idle_interval_ms {
        crate::testnet::set_idle_interval(&dir, validators, ms)?;
    }
    let mut children = crate::testnet::spawn_nodes(&dir, validators)?;
    let result = async {
        let idle = measure_idle(&dir, &urls, idle_seconds).await?;
        let before = dir_bytes(&dir.join("node0").join("data"));
        let t = Instant::now();
        let h0 = RpcClient::new(urls[0].clone())
            .call::<junction_rpc::methods::Status>(&junction_rpc::methods::NoParams {})
            .await?
            .height;
        run_load(&dir, &urls, seconds, accounts, rate).await?;
        let status = RpcClient::new(urls[0].clone())
            .call::<junction_rpc::methods::Status>(&junction_rpc::methods::NoParams {})
            .await?;
        let grown = dir_bytes(&dir.join("node0").join("data")).saturating_sub(before);
        let secs = t.elapsed().as_secs_f64().max(0.001);
        if let Some(idle) = idle {
            println!("{idle}");
        }
        println!(
            "  disk under load (node0): {} KiB over {:.0} s and {} blocks, {:.1} GiB/day at this rate",
            grown / 1024,
            secs,
            status.height.saturating_sub(h0),
            grown as f64 / secs * 86_400.0 / (1u64 << 30) as f64
        );
        Ok(())
    }
    .await;
    crate::testnet::stop_nodes(&mut children, &dir, result.is_ok()).await;
    result
}

/// Disk space the files under `dir` take (allocated blocks).
fn dir_bytes(dir: &std::path::Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let Ok(rd) = std::fs::read_dir(dir) else {
        return 0;
    };
    rd.filter_map(Result::ok)
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_bytes(&e.path()),
            Ok(m) => m.blocks() * 512,
            Err(_) => 0,
        })
        .sum()
}

/// Lets the started network sit idle for `seconds` and says how many blocks it made and
/// how much node 0's data grew (the idle-interval rule's effect).
async fn measure_idle(
    dir: &std::path::Path,
    urls: &[String],
    seconds: u64,
) -> eyre::Result<Option<String>> {
    if seconds == 0 {
        return Ok(None);
    }
    let rpc = RpcClient::new(urls[0].clone());
    crate::evmnet::wait_height(&rpc, 2, Duration::from_secs(60)).await?;
    let status = || async {
        rpc.call::<junction_rpc::methods::Status>(&junction_rpc::methods::NoParams {})
            .await
    };
    let data = dir.join("node0").join("data");
    let (h0, b0) = (status().await?.height, dir_bytes(&data));
    println!("idle for {seconds} s from height {h0}...");
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let (h1, b1) = (status().await?.height, dir_bytes(&data));
    let blocks = h1.saturating_sub(h0);
    let grown = b1.saturating_sub(b0);
    Ok(Some(format!(
        "  idle (node0):            {blocks} blocks in {seconds} s ({:.2}/s), disk +{} KiB, {:.0} MiB/day",
        blocks as f64 / seconds as f64,
        grown / 1024,
        grown as f64 / seconds as f64 * 86_400.0 / (1u64 << 20) as f64
    )))
}

async fn run_load(
    dir: &std::path::Path,
    urls: &[String],
    seconds: u64,
    accounts: usize,
    rate: u64,
) -> eyre::Result<()> {
    let rpcs: Vec<RpcClient> = urls.iter().map(RpcClient::new).collect();
    let follower = rpcs[0].clone();
    for r in &rpcs {
        crate::evmnet::wait_height(r, 2, Duration::from_secs(60)).await?;
    }
    let genesis = Genesis::load(&Home::new(dir.join("node0")).genesis_file())?;
    let chain_id = genesis.chain_id().map_err(|e| eyre!("{e}"))?;

    // Pre-sign so that signing does not compete with the nodes during the run.
    if accounts == 0 || accounts > usize::from(crate::testnet::DEV_ACCOUNTS) {
        return Err(eyre!(
            "--accounts must be 1..={}: the testnet admits that many development accounts",
            crate::testnet::DEV_ACCOUNTS
        ));
    }
    let per_account = (seconds as usize * 12_000).div_ceil(accounts.max(1)).max(1);
    println!(
        "signing {} transactions for {accounts} accounts...",
        per_account * accounts
    );
    let mut queues: Vec<Vec<(Hash32, HexBytes)>> = Vec::with_capacity(accounts);
    for a in 0..accounts {
        let key = crate::testnet::dev_account(u8::try_from(a + 1).unwrap_or(u8::MAX));
        let q = (0..per_account as u64)
            .map(|n| {
                let tx = junction_keys::sign_remark(&key, &chain_id, n, vec![0xab; 32]);
                (tx.hash(), HexBytes(tx.to_bytes()))
            })
            .collect();
        queues.push(q);
    }

    let pending = Arc::new(Mutex::new(Pending {
        sent: HashMap::new(),
    }));
    let start_height = crate::evmnet::wait_height(&follower, 2, Duration::from_secs(5)).await?;
    println!("load for {seconds} s from height {start_height}...");
    let t0 = Instant::now();
    let deadline = t0 + Duration::from_secs(seconds);

    // One submitter per node, each owning the accounts assigned to that node.
    let mut submitters = Vec::new();
    let n = rpcs.len();
    let mut per_node: Vec<Vec<Vec<(Hash32, HexBytes)>>> = (0..n).map(|_| Vec::new()).collect();
    for (i, q) in queues.into_iter().enumerate() {
        per_node[i % n].push(q);
    }
    for (rpc, qs) in rpcs.iter().cloned().zip(per_node) {
        let pending = pending.clone();
        submitters.push(tokio::spawn(submit(
            rpc,
            qs,
            pending,
            deadline,
            rate / n as u64,
        )));
    }

    // Follow committed blocks on node 0.
    let mut block_times = Vec::new();
    let mut latencies = Vec::new();
    let mut committed = 0u64;
    let mut next = start_height + 1;
    let mut first_time = None;
    let mut last_time = 0u64;
    let stop_following = deadline + Duration::from_secs(5);
    let mut prev_time: Option<u64> = None;
    while Instant::now() < stop_following {
        match follower
            .call::<GetBlock>(&AtHeight { height: Some(next) })
            .await
        {
            Ok(b) => {
                let seen = Instant::now();
                let time = b.header.time_ms;
                if let Some(p) = prev_time {
                    if seen <= deadline {
                        block_times.push(time.saturating_sub(p));
                    }
                }
                prev_time = Some(time);
                let txs = b.txs;
                if seen <= deadline {
                    committed += txs.len() as u64;
                    first_time.get_or_insert(time);
                    last_time = time;
                }
                let mut p = pending.lock().await;
                for Hex(h) in txs {
                    if let Some(sent) = p.sent.remove(&h) {
                        latencies.push(seen.duration_since(sent).as_millis() as u64);
                    }
                }
                next += 1;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
    let mut accepted = 0u64;
    for s in submitters {
        accepted += s.await.unwrap_or(Ok(0)).unwrap_or(0);
    }
    block_times.sort_unstable();
    latencies.sort_unstable();
    let span_ms = last_time
        .saturating_sub(first_time.unwrap_or(last_time))
        .max(1);
    let offered = if rate > 0 {
        format!("{rate} tx/s offered")
    } else {
        "offered as fast as accepted".to_string()
    };
    println!(
        "bench chain: {} validators, {seconds} s of load, {offered}",
        rpcs.len()
    );
    println!("  blocks observed:        {}", block_times.len() + 1);
    println!(
        "  block time:             median {} ms, p99 {} ms",
        percentile(&block_times, 50),
        percentile(&block_times, 99)
    );
    println!("  transactions accepted:  {accepted}");
    println!(
        "  committed:              {committed} tx, {:.0} tx/s",
        committed as f64 * 1000.0 / span_ms as f64
    );
    println!(
        "  commit latency:         p50 {} ms, p99 {} ms ({} samples)",
        percentile(&latencies, 50),
        percentile(&latencies, 99),
        latencies.len()
    );
    Ok(())
}

async fn submit(
    rpc: RpcClient,
    mut queues: Vec<Vec<(Hash32, HexBytes)>>,
    pending: Arc<Mutex<Pending>>,
    deadline: Instant,
    rate: u64,
) -> Result<u64, ClientError> {
    let started = Instant::now();
    const BATCH: usize = 64;
    let mut cursors = vec![0usize; queues.len()];
    let mut accepted = 0u64;
    while Instant::now() < deadline {
        // Take a batch round-robin over this node's accounts, in nonce order.
        let mut batch = Vec::with_capacity(BATCH);
        let mut picked = Vec::with_capacity(BATCH);
        'fill: for _ in 0..BATCH {
            for (a, q) in queues.iter_mut().enumerate() {
                if batch.len() >= BATCH {
                    break 'fill;
                }
                if let Some((h, tx)) = q.get(cursors[a]) {
                    batch.push(BroadcastParams {
                        tx: tx.clone(),
                        mode: BroadcastMode::Sync,
                    });
                    picked.push((a, *h));
                    cursors[a] += 1;
                }
            }
            if picked.is_empty() {
                break;
            }
        }
        if batch.is_empty() {
            break;
        }
        if rate > 0 {
            // Hold the offered load at `rate`: wait until the batch is due.
            let due = started + Duration::from_secs_f64(accepted as f64 / rate as f64);
            tokio::time::sleep_until(due.into()).await;
        }
        let now = Instant::now();
        let answers = rpc.call_batch::<BroadcastTx>(&batch).await?;
        let mut backoff = false;
        let mut p = pending.lock().await;
        for ((a, h), ans) in picked.iter().zip(answers) {
            match ans {
                Ok(_) => {
                    accepted += 1;
                    p.sent.insert(*h, now);
                }
                Err(ClientError::Rpc { name, .. })
                    if name == "mempool_full" || name == "nonce_too_far_ahead" =>
                {
                    // Not accepted: resend this one (and the account's later ones) later.
                    cursors[*a] = cursors[*a].min(
                        queues[*a]
                            .iter()
                            .position(|(x, _)| x == h)
                            .unwrap_or(cursors[*a]),
                    );
                    backoff = true;
                }
                Err(_) => {}
            }
        }
        drop(p);
        if backoff {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    queues.clear();
    Ok(accepted)
}

/// `junction bench governance`: route-policy checks per second on one core, and tally time
/// for councils of 10, 100 and 1,000 members (every member voted).
pub fn governance() -> eyre::Result<()> {
    use junction_governance::bench::{proposal_with_votes, sample_council, sample_packet};
    let council = sample_council(10);
    let (route, packet, ctx) = sample_packet();
    council
        .check_packet(&route, &packet, &ctx)
        .map_err(|e| eyre!("the sample packet must pass its policy: {e}"))?;
    // Warm up, then time a fixed number of checks on this thread.
    let n: u64 = 5_000_000;
    let mut ok = 0u64;
    for _ in 0..n / 10 {
        ok += u64::from(council.check_packet(&route, &packet, &ctx).is_ok());
    }
    let t = Instant::now();
    for _ in 0..n {
        ok += u64::from(
            std::hint::black_box(&council)
                .check_packet(&route, &packet, &ctx)
                .is_ok(),
        );
    }
    let secs = t.elapsed().as_secs_f64();
    println!("bench governance");
    println!(
        "  policy checks:  {:.0} per second on one core ({n} checks in {:.3} s, {ok} passed)",
        n as f64 / secs,
        secs
    );
    for members in [10usize, 100, 1_000] {
        let (c, id) = proposal_with_votes(members);
        let reps = (200_000 / members).max(20) as u32;
        let t = Instant::now();
        let mut votes = 0u64;
        for _ in 0..reps {
            if let Some(tally) = std::hint::black_box(&c).tally(id) {
                votes += tally.yes + tally.no;
            }
        }
        let per = t.elapsed() / reps;
        println!(
            "  tally, {members:>5} members: {:>8.2} us per tally ({:.1} ns per vote; checksum {votes})",
            per.as_secs_f64() * 1e6,
            per.as_secs_f64() * 1e9 / members as f64
        );
    }
    Ok(())
}
