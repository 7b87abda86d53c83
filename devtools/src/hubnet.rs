//! Two linked hubs (`junction testnet start --hubs 2` on homes `testnet::init_two_hubs` wrote, the
//! hub-to-hub tests and `junction bench e2e --hubs 2`): each hub runs its own validators
//! and council and follows its own EVM chain (`evm-a` under `hub-a`, `evm-b` under
//! `hub-b`). Each council registers the other hub as a `junction_hub` chain from a
//! checkpoint its validators signed, the other hub's chain as reachable through it
//! (`register_remote_chain`), the bridge's account as a relayer, and its segment of the
//! routes between the two chains (`spec/hub-to-hub.md`).
//!
//! Layout: `<dir>/hub-a/node<i>`, `<dir>/hub-b/node<i>`, each hub's relayer beside its
//! nodes (`<dir>/hub-x/relayer/relayer.toml`), and the bridge in `<dir>/bridge/hubs.toml`.

use std::path::{Path, PathBuf};

use eyre::{eyre, WrapErr};

use junction_hub::config::KeyFile;
use junction_light_clients::hub::HubTrustRoot;
use junction_relayer::hub_bridge::{BridgeConfig, HubEndpoint};
use junction_rpc::methods::{AtHeight, GetCheckpoint};
use junction_rpc::RpcClient;
use junction_spec::attestation::AttestationSet;
use junction_spec::gov::{LedgerKind, ProposalKind};
use junction_spec::{ChainRegistration, Checkpoint, Decode, Encode};

use crate::evmnet::{self, EvmNet, EvmNetOptions};

/// The chain ids of the two hubs.
pub const HUB_IDS: [&str; 2] = ["hub-a", "hub-b"];

/// The directory of hub `i` in a two-hub testnet.
pub fn hub_dir(dir: &Path, i: usize) -> PathBuf {
    dir.join(HUB_IDS[i])
}

/// Whether `dir` holds a two-hub testnet.
pub fn is_two_hub(dir: &Path) -> bool {
    hub_dir(dir, 0).join("node0").exists() && hub_dir(dir, 1).join("node0").exists()
}

/// Both hubs' chains, relayers and the bridge between them.
#[derive(Debug)]
pub struct HubNet {
    /// Hub A with its chain (`evm-a`) and relayer configuration.
    pub a: EvmNet,
    /// Hub B with its chain (`evm-b`) and relayer configuration.
    pub b: EvmNet,
    /// The bridge's `hubs.toml`.
    pub bridge_toml: PathBuf,
}

impl HubNet {
    /// Hub `i` (0: A, 1: B).
    pub fn hub(&self, i: usize) -> &EvmNet {
        if i == 0 {
            &self.a
        } else {
            &self.b
        }
    }
}

/// The latest checkpoint of the hub at `rpc`, as the trust root another hub registers it
/// with.
async fn trust_root(rpc: &RpcClient) -> eyre::Result<HubTrustRoot> {
    let cp = rpc.call::<GetCheckpoint>(&AtHeight::default()).await?;
    Ok(HubTrustRoot {
        checkpoint: Checkpoint::from_bytes(&cp.checkpoint_hex.0)
            .map_err(|e| eyre!("checkpoint: {e}"))?,
        set: AttestationSet::from_bytes(&cp.attestation_set_hex.0)
            .map_err(|e| eyre!("attestation set: {e}"))?,
        next_set: None,
    })
}

/// Starts each hub's chain (the hubs in `hubs`, testnet directories of hub A and hub B,
/// must be running) and links the two hubs: on each, by its own council's vote, the other
/// hub, the other hub's chain through it, the bridge's account, and the routes between the
/// two chains. `opts.chains` and `opts.first_chain` are set here (one chain per hub). The
/// bridge's keys and `hubs.toml` go to `bridge_dir`.
pub async fn setup(
    hubs: [&Path; 2],
    bridge_dir: &Path,
    opts: &EvmNetOptions,
) -> eyre::Result<HubNet> {
    setup_with_anvil_args(hubs, bridge_dir, opts, &[]).await
}

/// [`setup`], with `extra` appended to every anvil command line.
pub async fn setup_with_anvil_args(
    hubs: [&Path; 2],
    bridge_dir: &Path,
    opts: &EvmNetOptions,
    extra: &[&str],
) -> eyre::Result<HubNet> {
    let opts_for = |i: usize| EvmNetOptions {
        chains: 1,
        first_chain: i,
        ..opts.clone()
    };
    let (a, b) = futures::future::try_join(
        evmnet::setup_with_anvil_args(hubs[0], &opts_for(0), extra),
        evmnet::setup_with_anvil_args(hubs[1], &opts_for(1), extra),
    )
    .await?;
    std::fs::create_dir_all(bridge_dir)
        .wrap_err_with(|| format!("creating {}", bridge_dir.display()))?;
    let mut endpoints = Vec::new();
    let mut keys = Vec::new();
    for net in [&a, &b] {
        let key = KeyFile::generate(&format!("bridge-{}", net.hub_chain_id.as_str()));
        let path = bridge_dir.join(format!("key-{}.json", net.hub_chain_id.as_str()));
        key.save(&path)?;
        endpoints.push(HubEndpoint {
            rpc: net.hub_rpc.clone(),
            chain_id: net.hub_chain_id.as_str().to_string(),
            relayer_key_file: path.display().to_string(),
        });
        keys.push(key);
    }
    futures::future::try_join(
        link(hubs[0], &a, &b, &keys[0], opts),
        link(hubs[1], &b, &a, &keys[1], opts),
    )
    .await?;
    let bridge = BridgeConfig {
        poll_ms: 250,
        hubs: endpoints,
    };
    let bridge_toml = bridge_dir.join("hubs.toml");
    std::fs::write(&bridge_toml, bridge.to_toml()?)
        .wrap_err_with(|| format!("writing {}", bridge_toml.display()))?;
    Ok(HubNet { a, b, bridge_toml })
}

/// The hub of `net` (testnet directory `dir`) registers the hub of `other` and its
/// chains by its own council's vote, admits the bridge's account `bridge`, and opens its
/// segment of the routes between its chains and the other's, both ways.
async fn link(
    dir: &Path,
    net: &EvmNet,
    other: &EvmNet,
    bridge: &KeyFile,
    opts: &EvmNetOptions,
) -> eyre::Result<()> {
    let rpc = RpcClient::new(net.hub_rpc.clone());
    let members = evmnet::member_keys(dir)?;
    let root = trust_root(&RpcClient::new(other.hub_rpc.clone())).await?;
    let bridge_pk = bridge.private_key().map_err(|e| eyre!(e))?;
    let hub = other.hub_chain_id.clone();
    evmnet::pass_proposals(
        &rpc,
        &members,
        &net.hub_chain_id,
        vec![
            ProposalKind::RegisterChain(ChainRegistration {
                chain_id: hub.clone(),
                kind: LedgerKind::JunctionHub,
                params: evmnet::client_params(opts),
                trust_root: root.to_bytes(),
            }),
            ProposalKind::RegisterRelayer {
                account: *bridge_pk.public_key().as_bytes(),
            },
        ],
    )
    .await
    .wrap_err_with(|| {
        format!(
            "{}: registering {}",
            net.hub_chain_id.as_str(),
            hub.as_str()
        )
    })?;
    let remote = other
        .chains
        .iter()
        .map(|c| ProposalKind::RegisterRemoteChain {
            chain: c.id.clone(),
            via: hub.clone(),
        })
        .collect();
    evmnet::pass_proposals(&rpc, &members, &net.hub_chain_id, remote)
        .await
        .wrap_err_with(|| format!("{}: registering remote chains", net.hub_chain_id.as_str()))?;
    let mut routes = Vec::new();
    for a in &net.chains {
        for b in &other.chains {
            for (from, to) in [(a, b), (b, a)] {
                routes.push(ProposalKind::OpenRoute {
                    route: evmnet::route_id(from, to)?,
                    policy: evmnet::route_policy(from, to, opts),
                });
            }
        }
    }
    evmnet::pass_proposals(&rpc, &members, &net.hub_chain_id, routes)
        .await
        .wrap_err_with(|| format!("{}: opening routes", net.hub_chain_id.as_str()))
}

/// Spawns `junction relay hubs --config <hubs.toml>`, logging to `bridge.log` beside it.
pub fn spawn_bridge(exe: &Path, net: &HubNet) -> eyre::Result<tokio::process::Child> {
    crate::evmnet::spawn_logged(
        exe,
        &["relay", "hubs", "--config"],
        &net.bridge_toml,
        "bridge.log",
    )
}
