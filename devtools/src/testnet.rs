//! Local testnets: port allocation and the supervisor behind `junction testnet start`.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use eyre::{eyre, WrapErr};

use tokio::process::{Child, Command};

use junction_hub::config::{
    AttestationKeyFile, Config, Genesis, GenesisGovernance, GenesisValidator, Home, KeyFile,
};
use junction_rpc::methods::{NoParams, Status};
use junction_rpc::RpcClient;
use junction_spec::ChainId;

/// Ports each validator uses: p2p, gossip, rpc.
pub const PORTS_PER_NODE: u16 = 3;

/// Development accounts a local testnet admits in its genesis (besides its members and
/// relayers), for examples, tests and `junction bench chain`: account `i` (1 to
/// [`DEV_ACCOUNTS`]) has the ed25519 secret key of 32 bytes `i`. The keys are public: a
/// production genesis admits none of them.
pub const DEV_ACCOUNTS: u8 = 255;

/// Development account `i` (1 to [`DEV_ACCOUNTS`]; see there).
pub fn dev_account(i: u8) -> junction_hub::context::PrivateKey {
    junction_hub::context::PrivateKey::from([i; 32])
}

/// The public keys (hex) of every development account.
pub fn dev_account_keys() -> Vec<String> {
    (1..=DEV_ACCOUNTS)
        .map(|i| hex::encode(dev_account(i).public_key().as_bytes()))
        .collect()
}

fn free(port: u16) -> bool {
    std::net::TcpListener::bind(("127.0.0.1", port)).is_ok()
}

/// Finds `n` blocks of [`PORTS_PER_NODE`] consecutive free loopback ports from `base`.
pub fn free_port_blocks(base: u16, n: usize) -> eyre::Result<Vec<u16>> {
    let mut out = Vec::with_capacity(n);
    let mut p = base as u32;
    while out.len() < n {
        if p + PORTS_PER_NODE as u32 > u16::MAX as u32 {
            return Err(eyre!(
                "no free loopback ports above {base}: choose a lower --base-port"
            ));
        }
        let port = p as u16;
        if (0..PORTS_PER_NODE).all(|o| free(port + o)) {
            out.push(port);
            p += 10;
        } else {
            p += 1;
        }
    }
    Ok(out)
}

/// Sets `consensus.idle_block_interval_ms` of the testnet's `validators` nodes in `dir`.
pub fn set_idle_interval(dir: &Path, validators: usize, ms: u64) -> eyre::Result<()> {
    for i in 0..validators {
        let home = junction_hub::config::Home::new(dir.join(format!("node{i}")));
        let mut cfg = home.load_config()?;
        cfg.consensus.idle_block_interval_ms = ms;
        home.write_config(&cfg)?;
    }
    Ok(())
}

/// Starts `junction start --home <home>` with its output in `<home>/node.log`.
pub fn spawn_node(exe: &Path, home: &Path) -> eyre::Result<Child> {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(home.join("node.log"))
        .wrap_err_with(|| format!("opening {}/node.log", home.display()))?;
    let err = log.try_clone()?;
    Command::new(exe)
        .arg("start")
        .arg("--home")
        .arg(home)
        .stdin(Stdio::null())
        .stdout(Stdio::from(log))
        .stderr(Stdio::from(err))
        .kill_on_drop(true)
        .spawn()
        .wrap_err("starting a validator process")
}

/// Sends SIGTERM and waits up to 10 s, then kills.
pub async fn stop_child(child: &mut Child) {
    if let Some(pid) = child.id() {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid as i32),
            nix::sys::signal::Signal::SIGTERM,
        );
    }
    if tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .is_err()
    {
        let _ = child.kill().await;
    }
}

const MAX_RESTARTS: u32 = 5;

/// Runs every validator of `dir` (of both hubs, for a testnet made with `--hubs 2`),
/// restarts one that dies (up to a limit), prints progress, and stops them all cleanly on
/// Ctrl-C or SIGTERM. With `evm` > 0 it also starts that many anvil chains on the hub
/// with their relayer; on two hubs, one chain each, the relayers and the bridge.
/// `plugin` names a chain served through an adapter plugin, and the plugin's program.
pub async fn supervise(
    dir: &Path,
    evm: usize,
    hubs: usize,
    plugin: Option<(String, Vec<String>)>,
) -> eyre::Result<()> {
    let two = match hubs {
        1 => false,
        2 if crate::hubnet::is_two_hub(dir) => true,
        2 => {
            return Err(eyre!(
                "{} holds no two-hub testnet: run `junction testnet init --hubs 2 --out {}` first",
                dir.display(),
                dir.display()
            ))
        }
        _ => return Err(eyre!("--hubs must be 1 or 2")),
    };
    if !two && evm == 1 {
        return Err(eyre!("--evm needs at least 2 chains on one hub"));
    }
    if let Some((chain, _)) = &plugin {
        let known = (0..evm).any(|i| crate::evmnet::chain_name(i) == *chain);
        if two || !known {
            return Err(eyre!(
                "--plugin-chain names one of the --evm chains of a one-hub testnet (evm-a, evm-b, ...), not {chain}"
            ));
        }
    }
    let homes = if two {
        let mut h = crate::homes::node_homes(&crate::hubnet::hub_dir(dir, 0))?;
        h.extend(crate::homes::node_homes(&crate::hubnet::hub_dir(dir, 1))?);
        h
    } else {
        crate::homes::node_homes(dir)?
    };
    let exe = std::env::current_exe().wrap_err("locating the junction binary")?;
    let mut rpcs = Vec::new();
    for h in &homes {
        let cfg = Home::new(h).load_config()?;
        rpcs.push(RpcClient::new(format!("http://{}", cfg.rpc.listen)));
    }
    let mut children = Vec::new();
    for h in &homes {
        children.push(spawn_node(&exe, h)?);
    }
    println!(
        "started {} validators (logs in <home>/node.log):",
        homes.len()
    );
    for (h, r) in homes.iter().zip(&rpcs) {
        println!("  {}  rpc {}", h.display(), r.url());
    }
    // Kept alive (anvils, relayers, bridge) for as long as the validators run.
    let mut _evm = None;
    let mut _hubs = None;
    if two && evm > 0 {
        _hubs = Some(start_linked_hubs(dir, &exe).await?);
    } else if evm > 0 {
        let opts = crate::evmnet::EvmNetOptions {
            chains: evm,
            plugin_chain: plugin,
            ..Default::default()
        };
        println!(
            "starting {evm} EVM chains, deploying gateways, registering them by council vote..."
        );
        let net = crate::evmnet::setup(dir, &opts).await?;
        print_chains(&net);
        let relayer = crate::evmnet::spawn_relayer(&exe, &net)?;
        println!(
            "relayer started: {} (log beside it)",
            net.relayer_toml.display()
        );
        crate::evmnet::demo_round_trip(&net, Duration::from_secs(120)).await?;
        _evm = Some((net, relayer));
    }
    println!("press Ctrl-C to stop");
    let mut restarts = vec![0u32; homes.len()];
    let mut tick = tokio::time::interval(Duration::from_secs(2));
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let result = loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break Ok(()),
            _ = term.recv() => break Ok(()),
            _ = tick.tick() => {
                for i in 0..children.len() {
                    if let Ok(Some(status)) = children[i].try_wait() {
                        if restarts[i] >= MAX_RESTARTS {
                            break;
                        }
                        restarts[i] += 1;
                        eprintln!("node{i} exited ({status}); restarting ({}/{MAX_RESTARTS}), see {}/node.log", restarts[i], homes[i].display());
                        children[i] = spawn_node(&exe, &homes[i])?;
                    }
                }
                if restarts.iter().all(|r| *r >= MAX_RESTARTS) {
                    break Err(eyre!("every validator keeps failing; see the node.log files"));
                }
                let mut line = Vec::new();
                for (i, r) in rpcs.iter().enumerate() {
                    match r.call::<Status>(&NoParams {}).await {
                        Ok(s) => line.push(format!("node{i} h={} txs={}", s.height, s.total_txs)),
                        Err(_) => line.push(format!("node{i} starting")),
                    }
                }
                println!("{}", line.join("  "));
            }
        }
    };
    println!("stopping validators...");
    for c in children.iter_mut() {
        stop_child(c).await;
    }
    println!("stopped");
    result
}

fn print_chains(net: &crate::evmnet::EvmNet) {
    for c in &net.chains {
        println!(
            "  {} (under {})  rpc {}  gateway {:#x}  escrow {:#x}",
            c.id.as_str(),
            net.hub_chain_id.as_str(),
            c.anvil.endpoint(),
            c.gateway,
            c.escrow
        );
    }
}

/// On two running hubs: an anvil chain under each, the hubs linked by their councils'
/// votes, a relayer per hub and the bridge, then a round trip each way.
async fn start_linked_hubs(
    dir: &Path,
    exe: &Path,
) -> eyre::Result<(crate::hubnet::HubNet, Vec<Child>)> {
    println!("starting an EVM chain under each hub, linking the hubs by their councils' votes...");
    let hubs = [
        crate::hubnet::hub_dir(dir, 0),
        crate::hubnet::hub_dir(dir, 1),
    ];
    let net = crate::hubnet::setup(
        [&hubs[0], &hubs[1]],
        &dir.join("bridge"),
        &Default::default(),
    )
    .await?;
    let mut children = Vec::new();
    for hub in [&net.a, &net.b] {
        print_chains(hub);
        children.push(crate::evmnet::spawn_relayer(exe, hub)?);
        println!(
            "relayer of {} started: {} (log beside it)",
            hub.hub_chain_id.as_str(),
            hub.relayer_toml.display()
        );
    }
    children.push(crate::hubnet::spawn_bridge(exe, &net)?);
    println!(
        "bridge between the hubs started: {} (log beside it)",
        net.bridge_toml.display()
    );
    for (src, dst) in [(&net.a, &net.b), (&net.b, &net.a)] {
        let (a, b) = (&src.chains[0], &dst.chains[0]);
        crate::evmnet::demo_round_trip_between(src, a, dst, b, Duration::from_secs(180)).await?;
    }
    Ok((net, children))
}

/// Starts `validators` nodes of the testnet in `dir` from this very binary.
pub fn spawn_nodes(dir: &Path, validators: usize) -> eyre::Result<Vec<Child>> {
    let exe = std::env::current_exe().wrap_err("locating the junction binary")?;
    (0..validators)
        .map(|i| spawn_node(&exe, &dir.join(format!("node{i}"))))
        .collect()
}

/// Stops the nodes; removes `dir` after a run that went well, keeps it (and says where)
/// for the logs otherwise.
pub async fn stop_nodes(children: &mut [Child], dir: &Path, succeeded: bool) {
    for c in children.iter_mut() {
        stop_child(c).await;
    }
    if succeeded {
        let _ = std::fs::remove_dir_all(dir);
    } else {
        eprintln!("node logs kept in {}", dir.display());
    }
}

/// Writes the homes of a new testnet; returns the RPC URLs.
pub fn init(
    out: &std::path::Path,
    validators: usize,
    chain_id: &str,
    base_port: u16,
) -> eyre::Result<Vec<String>> {
    init_with(out, validators, chain_id, base_port, |_| {})
}

/// Writes the homes of two hubs (`junction testnet init --hubs 2`): `validators` each, in
/// [`crate::hubnet::hub_dir`]s, with ports from `base_port` for the first and above them for
/// the second; returns each hub's RPC URLs.
pub fn init_two_hubs(
    dir: &Path,
    validators: usize,
    base_port: u16,
) -> eyre::Result<[Vec<String>; 2]> {
    use crate::hubnet::{hub_dir, HUB_IDS};
    let a = init(&hub_dir(dir, 0), validators, HUB_IDS[0], base_port)?;
    let second = base_port
        .checked_add(10 * validators as u16 + 10)
        .ok_or_else(|| eyre!("--base-port too high for two hubs"))?;
    let b = init(&hub_dir(dir, 1), validators, HUB_IDS[1], second)?;
    Ok([a, b])
}

/// [`init`], with `customize` adding to the genesis council (chains, routes, relayers)
/// before the homes are written.
pub fn init_with(
    out: &std::path::Path,
    validators: usize,
    chain_id: &str,
    base_port: u16,
    customize: impl FnOnce(&mut GenesisGovernance),
) -> eyre::Result<Vec<String>> {
    if validators == 0 {
        return Err(eyre!("--validators must be at least 1"));
    }
    ChainId::new(chain_id).map_err(|e| eyre!("--chain-id: {e}"))?;
    if out.join("node0").exists() {
        return Err(eyre!(
            "{} already holds a testnet: remove it or choose another --out",
            out.display()
        ));
    }
    let ports = free_port_blocks(base_port, validators)?;
    let keys: Vec<KeyFile> = (0..validators)
        .map(|i| KeyFile::generate(&format!("validator{i}")))
        .collect();
    let attest_keys: Vec<AttestationKeyFile> = (0..validators)
        .map(|_| AttestationKeyFile::generate())
        .collect();
    // One council member per validator operator, each with an account key in its home.
    let members: Vec<KeyFile> = (0..validators)
        .map(|_| KeyFile::generate("member"))
        .collect();
    let mut genesis = Genesis {
        chain_id: chain_id.to_string(),
        genesis_time_ms: junction_hub::node::now_ms(),
        validators: keys
            .iter()
            .zip(&attest_keys)
            .map(|(k, a)| GenesisValidator {
                name: k.name.clone(),
                pub_key: k.public_key.clone(),
                power: 10,
                attestation_address: a.address.clone(),
            })
            .collect(),
        governance: GenesisGovernance {
            // A local testnet admits the public development accounts (examples, tests,
            // benchmarks); `junction init` and real genesis ceremonies admit none.
            accounts: dev_account_keys(),
            ..GenesisGovernance::local(&members)
        },
    };
    customize(&mut genesis.governance);
    let configs: Vec<Config> = ports
        .iter()
        .enumerate()
        .map(|(i, p)| Config::local(&format!("node{i}"), *p))
        .collect();
    let mut urls = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        let mut cfg = configs[i].clone();
        let others = || {
            configs
                .iter()
                .enumerate()
                .filter(move |(j, _)| *j != i)
                .map(|(_, c)| c)
        };
        cfg.p2p.persistent_peers = others().map(|c| c.p2p.listen).collect();
        cfg.gossip.peers = others().map(|c| c.gossip.listen).collect();
        urls.push(format!("http://{}", cfg.rpc.listen));
        let home = Home::new(out.join(format!("node{i}")));
        home.write(&cfg, &genesis, key, &attest_keys[i])?;
        members[i].save(&home.keys_dir().join("member.json"))?;
    }
    Ok(urls)
}

/// Starts `chains` EVM chains for the running hub of `dir` (anvil on this host's loopback,
/// sealed as QBFT chains, whose hub clients follow the seals: no attester is needed beside
/// them), registers them by council vote, starts a relayer, then sends a packet from the
/// first chain to the second every `every` and prints a JSON line for each packet sent and
/// each outcome that reaches its source. Stopped (SIGTERM or Ctrl-C), it sends no more,
/// waits up to `drain` for the outcomes still missing, prints `{"event":"done","missing":N}`
/// and stops the relayer and the chains. The ceremony test runs it on a host of its own,
/// whose hub is elsewhere.
pub async fn traffic(
    dir: &Path,
    chains: usize,
    every: Duration,
    drain: Duration,
) -> eyre::Result<()> {
    use crate::evmnet;
    use serde_json::json;
    let chains = chains.max(2);
    let opts = evmnet::EvmNetOptions {
        chains,
        qbft_chains: (0..chains).collect(),
        ..Default::default()
    };
    let net = evmnet::setup(dir, &opts).await?;
    let exe = std::env::current_exe().wrap_err("locating the junction binary")?;
    let mut relayer = evmnet::spawn_relayer(&exe, &net)?;
    let (a, b) = (&net.chains[0], &net.chains[1]);
    println!(
        "{}",
        json!({"event": "ready", "from": a.id.as_str(), "to": b.id.as_str(),
               "relayer_toml": net.relayer_toml.display().to_string()})
    );
    let rpc = RpcClient::new(net.hub_rpc.clone());
    let src = net.adapter(a.id.as_str()).await?;
    let dst = net.adapter(b.id.as_str()).await?;
    let recipient = alloy::primitives::Address::repeat_byte(0x5e);
    let mut pending: Vec<evmnet::Sent> = Vec::new();
    let mut tick = tokio::time::interval(every);
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let mut stop_at: Option<tokio::time::Instant> = None;
    loop {
        tokio::select! {
            _ = term.recv(), if stop_at.is_none() => stop_at = Some(tokio::time::Instant::now() + drain),
            _ = tokio::signal::ctrl_c(), if stop_at.is_none() => stop_at = Some(tokio::time::Instant::now() + drain),
            _ = tick.tick() => {
                if stop_at.is_none() {
                    let timeout = junction_spec::Timeout {
                        height: 0,
                        time_ms: net.time_ms(b.id.as_str()).await? + 3_600_000,
                    };
                    match evmnet::escrow_send_between(a, a.escrow, b, recipient, 1, timeout).await {
                        Ok(sent) => {
                            println!("{}", json!({"event": "sent", "sequence": sent.packet.sequence,
                                "key": hex::encode(sent.packet.key().hash())}));
                            pending.push(sent);
                        }
                        Err(e) => println!("{}", json!({"event": "send_failed", "error": e.to_string()})),
                    }
                }
                let mut still = Vec::new();
                for sent in pending.drain(..) {
                    match evmnet::lifecycle(&rpc, &src, &dst, &sent).await {
                        Ok(l) if l.outcome.is_some() => {
                            let kind = l.outcome.map(|o| o.0).unwrap_or_default();
                            println!("{}", json!({"event": "outcome", "sequence": sent.packet.sequence,
                                "key": hex::encode(sent.packet.key().hash()), "kind": kind}));
                        }
                        _ => still.push(sent),
                    }
                }
                pending = still;
                if stop_at.is_some_and(|t| pending.is_empty() || tokio::time::Instant::now() >= t) {
                    break;
                }
            }
        }
    }
    println!("{}", json!({"event": "done", "missing": pending.len()}));
    stop_child(&mut relayer).await;
    Ok(())
}
