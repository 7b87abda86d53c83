//! EVM chains beside a local hub testnet (`junction testnet start --evm N`, the end-to-end
//! tests and `junction bench e2e`): N anvil processes, a gateway and the sample escrow app
//! on each, the chains, a relayer and routes between every pair registered by council
//! vote, and the relayer's `relayer.toml`.
//!
//! Keys in a local testnet: the hub validators' attestation keys sign checkpoints (in
//! their homes); each council member's attester signs EVM headers with its own secp256k1
//! key (`node<i>/keys/attester-evm.json`) and submits them from an account of its own
//! (`node<i>/keys/attester-account.json`, admitted by vote), configured in
//! `node<i>/config/attester.toml`, which the member's node picks up; the relayer holds no
//! attester key. anvil's first dev account deploys and sends, its second pays the relayer's
//! deliveries; the relayer's hub account key signs relay transactions.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use alloy::network::EthereumWallet;
use alloy::primitives::{Address, U256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::signers::local::PrivateKeySigner;
use eyre::{eyre, WrapErr};

use junction_adapters::evm::adapter::{EvmAdapter, EvmAdapterConfig};
use junction_adapters::evm::anvil::{Anvil, DEV_KEY_0, DEV_KEY_1};
use junction_adapters::evm::gateway::{deploy_escrow, deploy_gateway};
use junction_spec::attestation::AttestationSet;
use junction_spec::gov::{
    Fraction, LedgerKind, LightClientParams, ProposalKind, RateLimit, RouteId, RoutePolicy,
    VoteOption,
};
use junction_spec::{ChainId, ChainRegistration, Checkpoint, Decode, Encode, TxKind};

use crate::qbft_shim::QbftShim;
use junction_attester::{AttestedChain, AttesterConfig};
use junction_hub::config::{Genesis, Home, KeyFile};
use junction_relayer::{ChainConfig, RelayerConfig};
use junction_rpc::methods::{
    Account, AccountParams, AtHeight, BroadcastMode, BroadcastParams, BroadcastTx, GetCheckpoint,
    GovList, NoParams, PacketKeyParams, PacketShow, Status,
};
use junction_rpc::{Hex, HexBytes, RpcClient};

/// anvil's third dev account (public, well known): pays the second relayer's deliveries.
pub const DEV_KEY_2: &str = "5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a";

/// Tokens minted to the deployer of each escrow.
pub const ESCROW_SUPPLY: u64 = 1_000_000_000;
/// First EIP-155 chain id of the local chains.
pub const FIRST_EVM_CHAIN_ID: u64 = 31_337;

/// How to set up the chains.
#[derive(Debug, Clone)]
pub struct EvmNetOptions {
    /// Number of chains (1 or more; a hub linked to another may serve one).
    pub chains: usize,
    /// Index of the first chain: its name ([`chain_name`]) and EIP-155 chain id, so that
    /// the chains of two linked hubs differ.
    pub first_chain: usize,
    /// Whether the routes are ordered.
    pub ordered: bool,
    /// Seconds between anvil blocks (0 = a block per transaction).
    pub block_time_secs: u64,
    /// Route rate limit.
    pub rate: RateLimit,
    /// Route payload cap.
    pub max_payload: u32,
    /// Route gas cap.
    pub max_gas_limit: u64,
    /// Confirmations the routes require of a packet's proof.
    pub min_confirmations: u64,
    /// How long the hub's client of each chain trusts its latest header without an update.
    pub trusting_period_ms: u64,
    /// Chains (by index) registered as `evm_qbft`: served through a [`QbftShim`] sealed by
    /// [`QBFT_VALIDATORS`] test validators, and followed by the hub through their seals.
    pub qbft_chains: Vec<usize>,
    /// Attesters registered for the attested chains (0: one per council member). The
    /// first members run them.
    pub attesters: usize,
    /// Where the attesters' configurations go: each member node's `config/attester.toml`
    /// (the node runs the attester), or `<dir>/attester<i>/attester.toml`, which nobody
    /// starts (a test runs `junction attester start` itself).
    pub attesters_in_nodes: bool,
    /// The chain (by name) the relayers serve through an adapter plugin, and the program
    /// (and its first arguments) of that plugin; the chain's settings follow as the EVM
    /// reference plugin takes them (`--chain`, `--rpc`, `--evm-chain-id`, `--gateway`,
    /// `--deploy-block`, `--sender-key-file`).
    pub plugin_chain: Option<(String, Vec<String>)>,
}

/// Validators sealing a QBFT chain's blocks at the start.
pub const QBFT_VALIDATORS: usize = 4;

impl Default for EvmNetOptions {
    fn default() -> Self {
        Self {
            chains: 2,
            first_chain: 0,
            ordered: false,
            block_time_secs: 1,
            rate: RateLimit {
                messages: 100_000,
                bytes: 100_000_000,
                window_ms: 1_000,
            },
            max_payload: 4_096,
            max_gas_limit: ROUTE_GAS_LIMIT,
            min_confirmations: 0,
            trusting_period_ms: 7 * 24 * 3_600_000,
            qbft_chains: Vec::new(),
            attesters: 0,
            attesters_in_nodes: true,
            plugin_chain: None,
        }
    }
}

/// One local EVM chain.
#[derive(Debug)]
pub struct EvmChain {
    /// Its id on the hub (`evm-a`, `evm-b`, ...).
    pub id: ChainId,
    /// The anvil process (stopped on drop).
    pub anvil: Anvil,
    /// EIP-155 chain id.
    pub evm_chain_id: u64,
    /// The gateway.
    pub gateway: Address,
    /// The sample escrow app.
    pub escrow: Address,
    /// A block at or before the gateway's deployment.
    pub deploy_block: u64,
    /// For a chain registered as `evm_qbft`, the QBFT-sealed view the relayer reads it
    /// through.
    pub qbft: Option<QbftShim>,
}

impl EvmChain {
    /// The endpoint the relayer reads the chain through: the QBFT shim of a QBFT chain,
    /// anvil otherwise.
    pub fn relayer_endpoint(&self) -> String {
        self.qbft
            .as_ref()
            .map_or_else(|| self.anvil.endpoint(), QbftShim::endpoint)
    }
}

/// The chains, their registration on the hub and the relayer's configuration.
#[derive(Debug)]
pub struct EvmNet {
    /// The chains.
    pub chains: Vec<EvmChain>,
    /// The relayer's configuration, also written to `relayer_toml`.
    pub relayer: RelayerConfig,
    /// Where the relayer's configuration is.
    pub relayer_toml: PathBuf,
    /// A second registered relayer (own hub key, own EVM sender), for races; not started
    /// by `testnet start`.
    pub second_relayer_toml: PathBuf,
    /// The hub RPC endpoint used.
    pub hub_rpc: String,
    /// The hub chain id.
    pub hub_chain_id: ChainId,
    /// The attesters' keys (one machine plays every member: tests sign with them too).
    pub attester_keys: Vec<k256::ecdsa::SigningKey>,
    /// Each attester's configuration file, in attester order.
    pub attester_configs: Vec<PathBuf>,
}

/// The id of the route from `a` to `b` (`evm-a-to-evm-b`).
pub fn route_id(a: &EvmChain, b: &EvmChain) -> eyre::Result<RouteId> {
    RouteId::new(format!("{}-to-{}", a.id.as_str(), b.id.as_str())).map_err(|e| eyre!("{e}"))
}

/// The policy the council opens the route from `a` to `b` with: the escrow apps only.
pub fn route_policy(a: &EvmChain, b: &EvmChain, opts: &EvmNetOptions) -> RoutePolicy {
    RoutePolicy {
        source_chain: a.id.clone(),
        source_apps: vec![a.escrow.to_vec()],
        dest_chain: b.id.clone(),
        dest_apps: vec![b.escrow.to_vec()],
        ordered: opts.ordered,
        max_payload: opts.max_payload,
        max_gas_limit: opts.max_gas_limit,
        rate: opts.rate,
        app_rate: None,
        min_timeout_ms: 0,
        max_timeout_ms: 7 * 24 * 3_600_000,
        min_confirmations: opts.min_confirmations,
        fee: 0,
    }
}

/// The packet a mined `send` (e.g. `lockAndSend`) put on its chain, from the gateway's
/// `PacketSent` event in `receipt`.
pub fn sent_in(receipt: &alloy::rpc::types::TransactionReceipt) -> eyre::Result<Sent> {
    use junction_adapters::evm::gateway::JunctionGateway;
    if !receipt.status() {
        return Err(eyre!("the send reverted"));
    }
    let sent = receipt
        .inner
        .logs()
        .iter()
        .find_map(|l| l.log_decode::<JunctionGateway::PacketSent>().ok())
        .ok_or_else(|| eyre!("no PacketSent event"))?;
    let packet = junction_spec::Packet::from_bytes(&sent.inner.data.packet)
        .map_err(|e| eyre!("PacketSent packet: {e}"))?;
    Ok(Sent {
        packet,
        tx_hash: receipt.transaction_hash.0,
        height: receipt.block_number.unwrap_or_default(),
    })
}

/// The hub id of the `i`-th local chain.
pub fn chain_name(i: usize) -> String {
    format!("evm-{}", (b'a' + (i % 26) as u8) as char)
}

/// The light-client parameters every chain of a local testnet is registered with: 2/3
/// trust level and threshold, 15 s of clock drift, the options' trusting period.
pub fn client_params(opts: &EvmNetOptions) -> LightClientParams {
    LightClientParams {
        trust_level: Fraction { num: 2, den: 3 },
        trusting_period_ms: opts.trusting_period_ms,
        max_clock_drift_ms: 15_000,
        min_confirmations: 0,
        threshold: Fraction { num: 2, den: 3 },
    }
}

/// A provider for `endpoint` signing with anvil dev key `key`.
pub fn provider(endpoint: &str, key: &str) -> eyre::Result<DynProvider> {
    let signer: PrivateKeySigner = key.parse().map_err(|e| eyre!("dev key: {e}"))?;
    let url = endpoint
        .parse()
        .map_err(|e| eyre!("endpoint {endpoint}: {e}"))?;
    Ok(ProviderBuilder::new()
        .wallet(EthereumWallet::from(signer))
        .connect_http(url)
        .erased())
}

/// Writes `key` as a private (0600) key file at `path`; returns the path as text.
fn save_secp(key: &k256::ecdsa::SigningKey, path: &Path) -> eyre::Result<String> {
    junction_hub::config::AttestationKeyFile::from_key(key).save(path)?;
    Ok(path.display().to_string())
}

fn secp_from_hex(hex_key: &str) -> eyre::Result<k256::ecdsa::SigningKey> {
    k256::ecdsa::SigningKey::from_slice(&hex::decode(hex_key).map_err(|e| eyre!("{e}"))?)
        .map_err(|e| eyre!("{e}"))
}

/// A free loopback port for a relayer's metrics and status.
fn free_loopback() -> eyre::Result<std::net::SocketAddr> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").wrap_err("finding a free port")?;
    Ok(l.local_addr()?)
}

/// Waits until the hub at `rpc` has committed `height`.
pub async fn wait_height(rpc: &RpcClient, height: u64, timeout: Duration) -> eyre::Result<u64> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Ok(s) = rpc.call::<Status>(&NoParams {}).await {
            let h = s.height;
            if h >= height {
                return Ok(h);
            }
        }
        if Instant::now() > deadline {
            return Err(eyre!(
                "the hub did not reach height {height} in {timeout:?}"
            ));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Signs `kinds` as consecutive transactions of `key` and submits them back to back: each
/// admitted at once, the last one waited for until committed (which commits the earlier
/// ones, whose nonces come first).
async fn send_all(
    rpc: &RpcClient,
    key: &KeyFile,
    chain: &ChainId,
    kinds: Vec<TxKind>,
) -> eyre::Result<()> {
    let pk = key.private_key().map_err(|e| eyre!(e))?;
    let addr = junction_spec::address_from_ed25519(pk.public_key().as_bytes());
    let first = rpc
        .call::<Account>(&AccountParams { address: Hex(addr) })
        .await?
        .next_nonce;
    let last = kinds.len().saturating_sub(1);
    for (i, kind) in kinds.into_iter().enumerate() {
        let tx = junction_keys::sign_tx(&pk, chain, first + i as u64, kind);
        let mode = if i == last {
            BroadcastMode::Commit
        } else {
            BroadcastMode::Sync
        };
        rpc.call::<BroadcastTx>(&BroadcastParams {
            tx: HexBytes(tx.to_bytes()),
            mode,
        })
        .await?;
    }
    Ok(())
}

/// Proposes `kinds` (expedited) from the first member, has every member vote yes, and
/// waits until each has executed.
pub async fn pass_proposals(
    rpc: &RpcClient,
    members: &[KeyFile],
    hub_chain: &ChainId,
    kinds: Vec<ProposalKind>,
) -> eyre::Result<()> {
    let proposer = members
        .first()
        .ok_or_else(|| eyre!("the council has no member key"))?;
    let before: Vec<u64> = proposal_ids(rpc).await?;
    let proposals = kinds
        .into_iter()
        .map(|kind| TxKind::Propose {
            proposal: Box::new(kind),
            expedited: true,
            deposit: 0,
        })
        .collect();
    send_all(rpc, proposer, hub_chain, proposals)
        .await
        .wrap_err("proposing")?;
    let ids: Vec<u64> = proposal_ids(rpc)
        .await?
        .into_iter()
        .filter(|id| !before.contains(id))
        .collect();
    // Every member votes on every proposal at once (a vote a block would take well inside
    // the expedited voting period even on a loaded machine).
    let votes = futures::future::join_all(members.iter().map(|m| {
        let ballots = ids
            .iter()
            .map(|id| TxKind::Vote {
                proposal_id: *id,
                option: VoteOption::Yes,
            })
            .collect();
        send_all(rpc, m, hub_chain, ballots)
    }))
    .await;
    for v in votes {
        v.wrap_err_with(|| format!("voting on proposals {ids:?}"))?;
    }
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let list = rpc.call::<GovList>(&NoParams {}).await?;
        let statuses: Vec<&'static str> = list
            .iter()
            .filter(|p| ids.contains(&p.id))
            .map(|p| p.status.name())
            .collect();
        if statuses.iter().all(|s| *s == "executed") && statuses.len() == ids.len() {
            return Ok(());
        }
        if let Some(bad) = statuses
            .iter()
            .find(|s| **s == "failed" || **s == "rejected" || **s == "vetoed")
        {
            return Err(eyre!("a setup proposal ended {bad}"));
        }
        if Instant::now() > deadline {
            return Err(eyre!(
                "setup proposals did not execute in time: {statuses:?}"
            ));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

async fn proposal_ids(rpc: &RpcClient) -> eyre::Result<Vec<u64>> {
    let list = rpc.call::<GovList>(&NoParams {}).await?;
    Ok(list.iter().map(|p| p.id).collect())
}

/// The member key files of a testnet made by `junction testnet init`.
pub fn member_keys(dir: &Path) -> eyre::Result<Vec<KeyFile>> {
    crate::homes::node_homes(dir)?
        .iter()
        .map(|h| {
            KeyFile::load(&Home::new(h).keys_dir().join("member.json")).map_err(|e| eyre!("{e}"))
        })
        .collect()
}

/// Starts the chains and registers everything on the running hub testnet in `dir`.
pub async fn setup(dir: &Path, opts: &EvmNetOptions) -> eyre::Result<EvmNet> {
    setup_with_anvil_args(dir, opts, &[]).await
}

/// [`setup`], with `extra` appended to every anvil command line (e.g. a fractional
/// `--block-time` for `junction bench e2e`).
pub async fn setup_with_anvil_args(
    dir: &Path,
    opts: &EvmNetOptions,
    extra: &[&str],
) -> eyre::Result<EvmNet> {
    if opts.chains == 0 {
        return Err(eyre!("no EVM chain to set up"));
    }
    let homes = crate::homes::node_homes(dir)?;
    let home0 = Home::new(&homes[0]);
    let cfg = home0.load_config()?;
    let genesis = Genesis::load(&home0.genesis_file())?;
    let hub_chain = ChainId::new(&genesis.chain_id).map_err(|e| eyre!("genesis: {e}"))?;
    let hub_rpc = format!("http://{}", cfg.rpc.listen);
    let rpc = RpcClient::new(hub_rpc.clone());
    let members = member_keys(dir)?;
    wait_height(&rpc, 2, Duration::from_secs(60)).await?;

    // The gateways start from a checkpoint the validators signed.
    let cp = rpc.call::<GetCheckpoint>(&AtHeight::default()).await?;
    let checkpoint =
        Checkpoint::from_bytes(&cp.checkpoint_hex.0).map_err(|e| eyre!("checkpoint: {e}"))?;
    let set = AttestationSet::from_bytes(&cp.attestation_set_hex.0)
        .map_err(|e| eyre!("attestation set: {e}"))?;

    let n_attesters = if opts.attesters == 0 {
        members.len()
    } else {
        opts.attesters.min(members.len())
    };
    let attesters: Vec<k256::ecdsa::SigningKey> = (0..n_attesters)
        .map(|_| k256::ecdsa::SigningKey::random(&mut rand::rngs::OsRng))
        .collect();
    let relayer_dir = dir.join("relayer");
    let second_dir = dir.join("relayer2");
    for d in [&relayer_dir, &second_dir] {
        std::fs::create_dir_all(d).wrap_err_with(|| format!("creating {}", d.display()))?;
    }
    let relayer_key = KeyFile::generate("relayer");
    let relayer_key_path = relayer_dir.join("key.json");
    relayer_key.save(&relayer_key_path)?;
    let second_key = KeyFile::generate("relayer2");
    let second_key_path = second_dir.join("key.json");
    second_key.save(&second_key_path)?;

    let mut chains = Vec::new();
    let mut registrations = Vec::new();
    for i in opts.first_chain..opts.first_chain + opts.chains {
        let evm_chain_id = FIRST_EVM_CHAIN_ID + i as u64;
        let id = ChainId::new(chain_name(i)).map_err(|e| eyre!("{e}"))?;
        let mut args = vec!["--chain-id".to_string(), evm_chain_id.to_string()];
        if opts.block_time_secs > 0 {
            args.push("--block-time".into());
            args.push(opts.block_time_secs.to_string());
        }
        args.extend(extra.iter().map(|a| a.to_string()));
        let arg_refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let anvil = Anvil::spawn(&arg_refs).map_err(|e| eyre!("anvil: {e}"))?;
        let p = provider(&anvil.endpoint(), DEV_KEY_0)?;
        let deploy_block = p.get_block_number().await?;
        let gateway = deploy_gateway(&p, &id, &hub_chain, &checkpoint, &set)
            .await
            .map_err(|e| eyre!("deploying the gateway on {}: {e}", id.as_str()))?;
        let escrow = deploy_escrow(&p, gateway, U256::from(ESCROW_SUPPLY))
            .await
            .map_err(|e| eyre!("deploying the escrow on {}: {e}", id.as_str()))?;
        let qbft = if opts.qbft_chains.contains(&(i - opts.first_chain)) {
            Some(QbftShim::start(&anvil.endpoint(), QBFT_VALIDATORS).await?)
        } else {
            None
        };
        let adapter = EvmAdapter::connect(EvmAdapterConfig {
            rpc_url: qbft
                .as_ref()
                .map_or_else(|| anvil.endpoint(), QbftShim::endpoint),
            qbft: qbft.is_some(),
            chain: id.clone(),
            evm_chain_id,
            gateway,
            deploy_block,
            attester_keys: attesters.clone(),
            sender_key: k256::ecdsa::SigningKey::from_slice(
                &hex::decode(DEV_KEY_1).map_err(|e| eyre!("{e}"))?,
            )
            .map_err(|e| eyre!("{e}"))?,
        })
        .await
        .map_err(|e| eyre!("{}: {e}", e.name()))?;
        let latest = p.get_block_number().await?;
        let named = |e: junction_adapters::AdapterError| eyre!("{}: {e}", e.name());
        let (kind, root) = if qbft.is_some() {
            let root = adapter.qbft_trust_root(latest).await.map_err(named)?;
            (LedgerKind::EvmQbft, root.to_bytes())
        } else {
            let root = adapter.trust_root(latest).await.map_err(named)?;
            (LedgerKind::EvmAttested, root.to_bytes())
        };
        registrations.push(ChainRegistration {
            chain_id: id.clone(),
            kind,
            params: client_params(opts),
            trust_root: root,
        });
        chains.push(EvmChain {
            id,
            anvil,
            evm_chain_id,
            gateway,
            escrow,
            deploy_block,
            qbft,
        });
    }

    let mut kinds: Vec<ProposalKind> = registrations
        .into_iter()
        .map(ProposalKind::RegisterChain)
        .collect();
    let relayer_pk = relayer_key.private_key().map_err(|e| eyre!(e))?;
    kinds.push(ProposalKind::RegisterRelayer {
        account: *relayer_pk.public_key().as_bytes(),
    });
    let second_pk = second_key.private_key().map_err(|e| eyre!(e))?;
    kinds.push(ProposalKind::RegisterRelayer {
        account: *second_pk.public_key().as_bytes(),
    });
    // Each attester sends from an account of its own, admitted by vote: not the member's
    // voting key, which a process running unattended should not hold.
    let mut attester_accounts = Vec::new();
    for (i, home) in homes.iter().take(attesters.len()).enumerate() {
        let home = Home::new(home);
        let path = home.keys_dir().join("attester-account.json");
        let key = KeyFile::generate(&format!("attester{i}"));
        key.save(&path)?;
        let pk = key.private_key().map_err(|e| eyre!(e))?;
        kinds.push(ProposalKind::AdmitAccount {
            account: *pk.public_key().as_bytes(),
        });
        attester_accounts.push(path);
    }
    pass_proposals(&rpc, &members, &hub_chain, kinds).await?;
    let mut routes = Vec::new();
    for a in &chains {
        for b in &chains {
            if a.id == b.id {
                continue;
            }
            routes.push(ProposalKind::OpenRoute {
                route: route_id(a, b)?,
                policy: route_policy(a, b, opts),
            });
        }
    }
    pass_proposals(&rpc, &members, &hub_chain, routes).await?;

    // Keys live in private key files the configuration names; the configuration holds
    // no secret.
    let attested: Vec<AttestedChain> = chains
        .iter()
        .filter(|c| c.qbft.is_none())
        .map(|c| AttestedChain {
            id: c.id.as_str().to_string(),
            rpc: c.anvil.endpoint(),
            evm_chain_id: c.evm_chain_id,
            finality_depth: 0,
        })
        .collect();
    let mut attester_configs = Vec::new();
    for (i, (key, account)) in attesters.iter().zip(&attester_accounts).enumerate() {
        let home = Home::new(&homes[i]);
        let key_file = save_secp(key, &home.keys_dir().join("attester-evm.json"))?;
        let config = AttesterConfig {
            hub_rpc: format!("http://{}", home.load_config()?.rpc.listen),
            hub_chain_id: hub_chain.as_str().to_string(),
            account_key_file: account.display().to_string(),
            attester_key_file: key_file,
            poll_ms: 250,
            chains: attested.clone(),
        };
        let path = if opts.attesters_in_nodes {
            home.config_file().with_file_name("attester.toml")
        } else {
            let d = dir.join(format!("attester{i}"));
            std::fs::create_dir_all(&d).wrap_err_with(|| format!("creating {}", d.display()))?;
            d.join("attester.toml")
        };
        std::fs::write(&path, config.to_toml()?)
            .wrap_err_with(|| format!("writing {}", path.display()))?;
        attester_configs.push(path);
    }
    let sender_file = save_secp(&secp_from_hex(DEV_KEY_1)?, &relayer_dir.join("sender.json"))?;
    let second_sender_file =
        save_secp(&secp_from_hex(DEV_KEY_2)?, &second_dir.join("sender.json"))?;
    let relayer = RelayerConfig {
        hub_rpc: hub_rpc.clone(),
        hub_chain_id: hub_chain.as_str().to_string(),
        relayer_key_file: relayer_key_path.display().to_string(),
        poll_ms: 300,
        max_batch: 100,
        clear_limit: 100,
        batch_gas_percent: 50,
        metrics_listen: Some(free_loopback()?),
        chains: chains
            .iter()
            .map(|c| chain_config(c, &sender_file, opts.plugin_chain.as_ref()))
            .collect(),
        dir: None,
    };
    let relayer_toml = relayer_dir.join("relayer.toml");
    std::fs::write(&relayer_toml, relayer.to_toml()?)
        .wrap_err_with(|| format!("writing {}", relayer_toml.display()))?;
    let mut second = relayer.clone();
    second.relayer_key_file = second_key_path.display().to_string();
    second.metrics_listen = Some(free_loopback()?);
    second.chains = chains
        .iter()
        .map(|c| chain_config(c, &second_sender_file, opts.plugin_chain.as_ref()))
        .collect();
    let second_relayer_toml = second_dir.join("relayer.toml");
    std::fs::write(&second_relayer_toml, second.to_toml()?)
        .wrap_err_with(|| format!("writing {}", second_relayer_toml.display()))?;
    Ok(EvmNet {
        chains,
        relayer,
        relayer_toml,
        second_relayer_toml,
        hub_rpc,
        hub_chain_id: hub_chain,
        attester_keys: attesters,
        attester_configs,
    })
}

/// The reference EVM adapter plugin under the repository root `root`: its Python (the
/// virtual environment `scripts/setup-plugin.sh` makes) and its program, as absolute
/// paths, so the relayer can start it from its own directory.
pub fn reference_plugin(root: &Path) -> eyre::Result<Vec<String>> {
    let dir = root.join("adapters/plugins/evm-python");
    let python = dir.join(".venv/bin/python");
    let program = dir.join("junction_evm_plugin.py");
    if !program.is_file() {
        return Err(eyre!(
            "{} is not there: run from the repository's root",
            program.display()
        ));
    }
    if !python.is_file() {
        return Err(eyre!(
            "{} is not there: run `bash scripts/setup-plugin.sh` first",
            python.display()
        ));
    }
    Ok(vec![
        python.display().to_string(),
        program.display().to_string(),
    ])
}

/// How a relayer serves `c`, paying with `sender_file`: the built-in adapter, or the
/// plugin when `c` is the plugin chain.
fn chain_config(
    c: &EvmChain,
    sender_file: &str,
    plugin: Option<&(String, Vec<String>)>,
) -> ChainConfig {
    let mut config = ChainConfig {
        id: c.id.as_str().to_string(),
        adapter: Default::default(),
        rpc: c.relayer_endpoint(),
        command: Vec::new(),
        evm_chain_id: c.evm_chain_id,
        gateway: format!("{:#x}", c.gateway),
        deploy_block: c.deploy_block,
        sender_key_file: sender_file.to_owned(),
        qbft: c.qbft.is_some(),
    };
    if let Some((_, program)) = plugin.filter(|(chain, _)| chain == c.id.as_str()) {
        let mut command = program.clone();
        command.extend([
            "--chain".into(),
            config.id.clone(),
            "--rpc".into(),
            std::mem::take(&mut config.rpc),
            "--evm-chain-id".into(),
            config.evm_chain_id.to_string(),
            "--gateway".into(),
            std::mem::take(&mut config.gateway),
            "--deploy-block".into(),
            config.deploy_block.to_string(),
            "--sender-key-file".into(),
            std::mem::take(&mut config.sender_key_file),
        ]);
        config.adapter = junction_relayer::AdapterChoice::Plugin;
        config.command = command;
        config.evm_chain_id = 0;
        config.deploy_block = 0;
    }
    config
}

/// A packet an escrow sent, with its sending transaction.
#[derive(Debug, Clone)]
pub struct Sent {
    /// The packet as the gateway emitted it.
    pub packet: junction_spec::Packet,
    /// The sending transaction.
    pub tx_hash: [u8; 32],
    /// Its block.
    pub height: u64,
}

/// Gas the destination gateway gives the escrow app.
pub const ESCROW_APP_GAS: u64 = 200_000;
/// The gas cap of the routes the local chains open.
pub const ROUTE_GAS_LIMIT: u64 = 1_000_000;

impl EvmNet {
    /// The chain called `id`.
    pub fn chain(&self, id: &str) -> eyre::Result<&EvmChain> {
        self.chains
            .iter()
            .find(|c| c.id.as_str() == id)
            .ok_or_else(|| eyre!("no local chain {id}"))
    }

    /// An adapter of chain `id` that signs headers with every attester's key (the test
    /// plays every member) and sends as the relayer does.
    pub async fn adapter(&self, id: &str) -> eyre::Result<EvmAdapter> {
        // From the chain itself, not the relayer's configuration: a chain the relayer
        // serves through a plugin has no built-in settings there.
        let chain = self.chain(id)?;
        let qbft = chain.qbft.is_some();
        let keys = if qbft {
            Vec::new()
        } else {
            self.attester_keys.clone()
        };
        EvmAdapter::connect(EvmAdapterConfig {
            rpc_url: chain.relayer_endpoint(),
            chain: chain.id.clone(),
            evm_chain_id: chain.evm_chain_id,
            gateway: chain.gateway,
            deploy_block: chain.deploy_block,
            attester_keys: keys,
            qbft,
            sender_key: k256::ecdsa::SigningKey::from_slice(
                &hex::decode(DEV_KEY_1).map_err(|e| eyre!("{e}"))?,
            )
            .map_err(|e| eyre!("{e}"))?,
        })
        .await
        .map_err(|e| eyre!("{}: {e}", e.name()))
    }

    /// Locks `amount` escrow tokens on `from` for `recipient` on `to` and sends the
    /// packet with `timeout`.
    pub async fn escrow_send(
        &self,
        from: &str,
        to: &str,
        recipient: Address,
        amount: u64,
        timeout: junction_spec::Timeout,
    ) -> eyre::Result<Sent> {
        let app = self.chain(from)?.escrow;
        self.escrow_send_from(from, app, to, recipient, amount, timeout)
            .await
    }

    /// [`EvmNet::escrow_send`] through the escrow contract `app` on `from` (e.g. one the
    /// route's policy does not name), to the escrow the setup deployed on `to`.
    pub async fn escrow_send_from(
        &self,
        from: &str,
        app: Address,
        to: &str,
        recipient: Address,
        amount: u64,
        timeout: junction_spec::Timeout,
    ) -> eyre::Result<Sent> {
        escrow_send_between(
            self.chain(from)?,
            app,
            self.chain(to)?,
            recipient,
            amount,
            timeout,
        )
        .await
    }

    /// Deploys another escrow app on chain `id` (its whole supply to the first dev
    /// account), which no route's policy names.
    pub async fn deploy_other_escrow(&self, id: &str) -> eyre::Result<Address> {
        let c = self.chain(id)?;
        let p = provider(&c.anvil.endpoint(), DEV_KEY_0)?;
        deploy_escrow(&p, c.gateway, U256::from(ESCROW_SUPPLY))
            .await
            .map_err(|e| eyre!("deploying an escrow on {id}: {e}"))
    }

    /// The latest block time of chain `id`, in ms.
    pub async fn time_ms(&self, id: &str) -> eyre::Result<u64> {
        let c = self.chain(id)?;
        let p = provider(&c.anvil.endpoint(), DEV_KEY_0)?;
        let n = p.get_block_number().await?;
        let b = p
            .get_block_by_number(n.into())
            .await?
            .ok_or_else(|| eyre!("no block {n}"))?;
        Ok(b.header.timestamp.saturating_mul(1000))
    }
}

/// Locks `amount` tokens of the escrow contract `app` on `src` for `recipient` of the
/// escrow the setup deployed on `dst` (a chain of this hub or of a linked one) and sends
/// the packet with `timeout`.
pub async fn escrow_send_between(
    src: &EvmChain,
    app: Address,
    dst: &EvmChain,
    recipient: Address,
    amount: u64,
    timeout: junction_spec::Timeout,
) -> eyre::Result<Sent> {
    use junction_adapters::evm::gateway::TokenEscrow;
    let p = provider(&src.anvil.endpoint(), DEV_KEY_0)?;
    let receipt = TokenEscrow::new(app, &p)
        .lockAndSend(
            dst.id.as_str().to_owned(),
            dst.escrow,
            recipient,
            U256::from(amount),
            timeout.height,
            timeout.time_ms,
            ESCROW_APP_GAS,
        )
        .send()
        .await
        .map_err(|e| eyre!("lockAndSend: {e}"))?
        .get_receipt()
        .await
        .map_err(|e| eyre!("lockAndSend receipt: {e}"))?;
    sent_in(&receipt)
}

/// A packet's lifecycle as the chains and the hub show it.
#[derive(Debug, Clone, Default)]
pub struct Lifecycle {
    /// Hub height at which the packet (or its outcome) was first logged.
    pub hub_height: Option<u64>,
    /// The hub's state name (`pending`, `ack`, `error_ack`, `timeout`).
    pub hub_state: Option<String>,
    /// Delivering transaction on the destination, and whether the app ran.
    pub delivered: Option<([u8; 32], bool)>,
    /// The outcome delivered back to the source app: kind name and transaction.
    pub outcome: Option<(String, [u8; 32])>,
}

/// Reads the lifecycle of `sent` from the hub and both chains.
pub async fn lifecycle(
    rpc: &RpcClient,
    src: &EvmAdapter,
    dst: &EvmAdapter,
    sent: &Sent,
) -> eyre::Result<Lifecycle> {
    use junction_adapters::Adapter as _;
    let key = sent.packet.key().hash();
    let mut l = Lifecycle::default();
    if let Ok(v) = rpc
        .call::<PacketShow>(&PacketKeyParams { key: Hex(key) })
        .await
    {
        l.hub_state = Some(v.packet.state);
        l.hub_height = v.hub_steps.first().map(|s| s.height);
    }
    if let Some(r) = dst
        .receipt(&sent.packet)
        .await
        .map_err(|e| eyre!("{}: {e}", e.name()))?
    {
        l.delivered = Some((r.tx_hash, r.app_succeeded));
    }
    let latest = src
        .latest_height()
        .await
        .map_err(|e| eyre!("{}: {e}", e.name()))?;
    let outcomes = src
        .outcomes(sent.height, latest)
        .await
        .map_err(|e| eyre!("{}: {e}", e.name()))?;
    if let Some(o) = outcomes.into_iter().find(|o| o.key == key) {
        l.outcome = Some((
            junction_hub_app::relay::entry_kind_name(o.kind).to_string(),
            o.tx_hash,
        ));
    }
    Ok(l)
}

/// Spawns `junction relay --config <net.relayer_toml>`, logging to `relayer.log` beside it.
pub fn spawn_relayer(exe: &Path, net: &EvmNet) -> eyre::Result<tokio::process::Child> {
    spawn_logged(
        exe,
        &["relay", "--config"],
        &net.relayer_toml,
        "relayer.log",
    )
}

/// Spawns `exe <args> <config>`, its output appended to `log_name` beside `config`.
pub fn spawn_logged(
    exe: &Path,
    args: &[&str],
    config: &Path,
    log_name: &str,
) -> eyre::Result<tokio::process::Child> {
    let log_path = config
        .parent()
        .map(|d| d.join(log_name))
        .ok_or_else(|| eyre!("{} has no directory", config.display()))?;
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .wrap_err_with(|| format!("opening {}", log_path.display()))?;
    let err = log.try_clone()?;
    tokio::process::Command::new(exe)
        .args(args)
        .arg(config)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::from(log))
        .stderr(std::process::Stdio::from(err))
        .kill_on_drop(true)
        .spawn()
        .wrap_err_with(|| format!("starting `junction {}`", args.join(" ")))
}

/// Sends one escrow transfer from the first chain to the second and prints its way
/// through the hub and back, until the ack reaches the source (or `timeout`).
pub async fn demo_round_trip(net: &EvmNet, timeout: Duration) -> eyre::Result<Lifecycle> {
    let a = net.chains.first().ok_or_else(|| eyre!("no chain"))?;
    let b = net.chains.get(1).ok_or_else(|| eyre!("no second chain"))?;
    demo_round_trip_between(net, a, net, b, timeout).await
}

/// [`demo_round_trip`] from chain `a` of `src_net` to chain `b` of `dst_net` (the same
/// hub, or a hub linked to it).
pub async fn demo_round_trip_between(
    src_net: &EvmNet,
    a: &EvmChain,
    dst_net: &EvmNet,
    b: &EvmChain,
    timeout: Duration,
) -> eyre::Result<Lifecycle> {
    let (a_id, b_id) = (a.id.as_str(), b.id.as_str());
    let deadline_ms = dst_net.time_ms(b_id).await? + 600_000;
    let recipient = Address::repeat_byte(0x42);
    let sent = escrow_send_between(
        a,
        a.escrow,
        b,
        recipient,
        100,
        junction_spec::Timeout {
            height: 0,
            time_ms: deadline_ms,
        },
    )
    .await?;
    let key = sent.packet.key().hash();
    println!(
        "sent      {a_id} → {b_id}: sequence {} key {} (tx 0x{} in block {})",
        sent.packet.sequence,
        hex::encode(key),
        hex::encode(sent.tx_hash),
        sent.height
    );
    let rpc = RpcClient::new(src_net.hub_rpc.clone());
    let src = src_net.adapter(a_id).await?;
    let dst = dst_net.adapter(b_id).await?;
    let start = Instant::now();
    let mut shown = (false, false);
    loop {
        let l = lifecycle(&rpc, &src, &dst, &sent).await?;
        if let (Some(h), false) = (l.hub_height, shown.0) {
            println!(
                "received  on {} at height {h}",
                src_net.hub_chain_id.as_str()
            );
            shown.0 = true;
        }
        if let (Some((tx, ran)), false) = (l.delivered, shown.1) {
            println!(
                "delivered on {b_id}: app {} (tx 0x{})",
                if ran { "ran" } else { "reverted" },
                hex::encode(tx)
            );
            shown.1 = true;
        }
        if let Some((kind, tx)) = &l.outcome {
            println!(
                "{kind:<9} back on {a_id} (tx 0x{}) after {:?}",
                hex::encode(tx),
                start.elapsed()
            );
            println!(
                "see it again with: junction packet show {} --rpc {}",
                hex::encode(key),
                src_net.hub_rpc
            );
            return Ok(l);
        }
        if start.elapsed() > timeout {
            return Err(eyre!("the round trip did not finish in {timeout:?}: {l:?}"));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
