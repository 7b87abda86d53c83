//! `junction start`: opens the store, checks it against the genesis, and runs consensus,
//! gossip and RPC until one of them fails or the process is told to stop.

use std::sync::{Arc, Mutex, RwLock};

use eyre::{eyre, WrapErr};
use tokio::net::TcpListener;
use tracing::info;

use crate::config::{Genesis, Home, KeyFile};
use crate::mempool::{Mempool, MempoolLimits, VerdictCache};
use crate::metrics::Metrics;
use crate::node::{genesis_tip, ChainView, Shared};
use crate::store::{RedbStore, Store};
use crate::sync::read;
use junction_hub_app::{ChainRules, Tip};

/// Passed proof checks remembered between admission and execution: a few full mempools'
/// worth of packets (32-byte keys, about 6 MiB at the cap).
const PROOF_VERDICTS_KEPT: usize = 100_000;

async fn bind(addr: std::net::SocketAddr, what: &str) -> eyre::Result<TcpListener> {
    TcpListener::bind(addr).await.map_err(|e| {
        if e.kind() == std::io::ErrorKind::AddrInUse {
            eyre!("{what} port {addr} is already in use: stop the process using it or change `{what}` in config.toml")
        } else {
            eyre!("cannot listen on {addr} for {what}: {e}")
        }
    })
}

/// Checks that a port is free now (consensus P2P binds it later, inside Malachite).
fn check_free(addr: std::net::SocketAddr, what: &str) -> eyre::Result<()> {
    std::net::TcpListener::bind(addr).map(drop).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AddrInUse {
            eyre!("{what} port {addr} is already in use: stop the process using it or change `{what}` in config.toml")
        } else {
            eyre!("cannot listen on {addr} for {what}: {e}")
        }
    })
}

/// Runs a validator from its home directory.
pub async fn run(home: Home) -> eyre::Result<()> {
    run_with(home, None).await
}

/// [`run`], supporting protocol versions only up to `max_protocol_version` when given
/// (lower than the build's: an operator rehearsing an upgrade, or a test of the old binary).
pub async fn run_with(home: Home, max_protocol_version: Option<u32>) -> eyre::Result<()> {
    let config = home.load_config()?;
    let genesis = Genesis::load(&home.genesis_file())?;
    let attest_key = crate::config::AttestationKeyFile::load(&home.attestation_key_file())?;
    let attest_file = attest_key.clone();
    let attest_key = attest_key
        .signing_key()
        .map_err(|e| eyre!("{}: {e}", home.attestation_key_file().display()))?;
    let data = home.data_dir();
    std::fs::create_dir_all(&data).wrap_err_with(|| format!("creating {}", data.display()))?;
    check_free(config.p2p.listen, "p2p.listen")?;
    let rpc_listener = bind(config.rpc.listen, "rpc.listen").await?;
    let gossip_listener = bind(config.gossip.listen, "gossip.listen").await?;

    let store: Arc<dyn Store> = Arc::new(
        RedbStore::open_with_retention(&data.join("store.redb"), config.state.retention_blocks)
            .wrap_err("opening the store (is another `junction start` using this home?)")?
            .with_packet_retention(config.state.packet_retention_blocks),
    );
    let (signer, public_key) = consensus_signer(&home, &config).await?;
    let shared = shared_over(&home, config, genesis, store)?;
    if let Some(max) = max_protocol_version {
        shared.max_protocol_version.store(
            max.min(junction_hub_app::upgrade::MAX_SUPPORTED_VERSION),
            std::sync::atomic::Ordering::Relaxed,
        );
    }
    check_attestation_key(&shared, &public_key, &attest_file, &home)?;

    tokio::spawn(crate::gossip::serve(shared.clone(), gossip_listener));
    for peer in shared.config.gossip.peers.clone() {
        tokio::spawn(crate::gossip::forward_to(shared.clone(), peer));
    }
    let router = crate::rpc::router(shared.clone());
    let rpc = tokio::spawn(async move { axum::serve(rpc_listener, router).await });
    info!(rpc = %shared.config.rpc.listen, "RPC listening");

    let consensus = crate::app::run_consensus(shared.clone(), signer, public_key, attest_key);
    tokio::select! {
        r = consensus => r,
        r = rpc => Err(eyre!("RPC server stopped: {r:?}")),
        _ = shutdown_signal() => {
            info!("shutting down");
            Ok(())
        }
    }
}

/// The consensus key's signer: the external signer of `[signer]` (waited for up to 30 s,
/// as it may start beside the node), else the key file.
async fn consensus_signer(
    home: &Home,
    config: &crate::config::Config,
) -> eyre::Result<(crate::signing::Ed25519Signer, crate::context::PublicKey)> {
    let Some(signer) = &config.signer else {
        let key = KeyFile::load(&home.validator_key_file())?
            .private_key()
            .map_err(|e| eyre!("{}: {e}", home.validator_key_file().display()))?;
        let public = key.public_key();
        return Ok((crate::signing::Ed25519Signer::new(key), public));
    };
    let socket = home.root.join(&signer.socket);
    let remote = Arc::new(junction_signer::RemoteSigner::new(&socket));
    let started = std::time::Instant::now();
    let key = loop {
        match remote.public_key().await {
            Ok(k) => break k,
            Err(e) if started.elapsed() < std::time::Duration::from_secs(30) => {
                tracing::debug!(%e, "waiting for the signer");
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            }
            Err(e) => return Err(eyre!("signer: {e}")),
        }
    };
    let public = crate::context::PublicKey::from_bytes(key)
        .map_err(|e| eyre!("the signer's public key: {e}"))?;
    info!(socket = %socket.display(), "consensus messages are signed by the external signer");
    Ok((crate::signing::Ed25519Signer::Remote(remote), public))
}

/// Refuses to start a validator whose attestation key is not the one the validator set
/// names for it (at the next height, or in the change already scheduled): its vote
/// extensions would all be refused. A node outside the set starts, follows the chain and
/// signs from the height the council's change makes it a validator.
fn check_attestation_key(
    shared: &Shared,
    public_key: &crate::context::PublicKey,
    file: &crate::config::AttestationKeyFile,
    home: &Home,
) -> eyre::Result<()> {
    let own = crate::context::Address::from_public_key(public_key);
    let next = read(&shared.chain).tip.height + 1;
    let mut named = None;
    for h in [next, next + 1] {
        let signers = shared
            .signers_at(h)
            .map_err(|e| eyre!("store is corrupt: {e}"))?;
        if let Some(a) = signers.address_of(&own) {
            named = Some(a);
        }
    }
    match named {
        Some(a) if hex::encode(a) != file.address.trim_start_matches("0x").to_lowercase() => {
            Err(eyre!(
                "{} holds attestation address {}, but the validator set names {} for this validator: restore the key it names",
                home.attestation_key_file().display(),
                file.address,
                hex::encode(a)
            ))
        }
        Some(_) => Ok(()),
        None => {
            info!(address = %own, "not in the validator set: following the chain until the council adds this validator");
            Ok(())
        }
    }
}

/// The node's shared state over an opened store: checks the store against the genesis
/// (writing the genesis state into an empty one) and reads the committed tip, state and
/// log back.
pub(crate) fn shared_over(
    home: &Home,
    config: crate::config::Config,
    genesis: Genesis,
    store: Arc<dyn Store>,
) -> eyre::Result<Arc<Shared>> {
    let chain_id = genesis.chain_id().map_err(|e| eyre!("genesis: {e}"))?;
    let genesis_validators = genesis
        .hub_validators()
        .map_err(|e| eyre!("genesis: {e}"))?;
    let genesis_hash = genesis.hash().map_err(|e| eyre!("genesis: {e}"))?;
    let data = home.data_dir();
    match store.meta("genesis_hash")? {
        None => store.put_meta("genesis_hash", &genesis_hash)?,
        Some(h) if h == genesis_hash => {}
        Some(_) => {
            return Err(eyre!(
                "{} does not match the genesis this node's data was created with: restore the original genesis, or remove {} to start a new chain",
                home.genesis_file().display(),
                data.display()
            ))
        }
    }
    let tip = match store.tip()? {
        None => {
            let (tip, state) = genesis_tip(&genesis).map_err(|e| eyre!("genesis: {e}"))?;
            let root = store.write_genesis_state(&state.as_writes())?;
            if root != tip.app_hash {
                return Err(eyre!(
                    "genesis: the stored state tree's root is not the genesis app hash"
                ));
            }
            tip
        }
        Some(b) => Tip::decode(&b).map_err(|e| eyre!("store is corrupt (tip row): {e}"))?,
    };
    // The stored tree's root at the tip is read, not recomputed: O(1) at any state size.
    match store.state_root(tip.height)? {
        Some(root) if root == tip.app_hash => {}
        Some(_) => {
            return Err(eyre!(
                "store is corrupt: the state tree's root at height {} is not the tip's app hash",
                tip.height
            ))
        }
        None => {
            return Err(eyre!(
                "store has no state tree at height {}: the data directory was made by an earlier version of the node; remove {} and resync",
                tip.height,
                data.display()
            ))
        }
    }
    let state = store.snapshot()?;
    let packets = crate::node::packets_over(&state).map_err(|e| eyre!("store is corrupt: {e}"))?;
    if packets.log().size() != tip.log_size || packets.log().root() != tip.log_root {
        return Err(eyre!(
            "store is corrupt: the stored log frontier ({} entries) is not the tip's log ({} entries)",
            packets.log().size(),
            tip.log_size
        ));
    }
    let metrics = Metrics::new();
    metrics.log_size.set(tip.log_size as i64);
    metrics.height.set(tip.height as i64);
    metrics.last_block_time_ms.set(tip.time_ms as i64);
    metrics.committed_txs.set(tip.total_txs as i64);
    info!(
        height = tip.height,
        chain = chain_id.as_str(),
        "store opened"
    );

    let (blocks, _) = tokio::sync::broadcast::channel(1024);
    let (outbound_txs, _) = tokio::sync::broadcast::channel(200_000);
    let shared = Arc::new(Shared {
        wal_path: data.join("wal").join("consensus.wal"),
        rules: ChainRules {
            chain_id,
            genesis_validators: Arc::new(genesis_validators),
            max_clock_drift_ms: config.consensus.max_clock_drift_ms,
        },
        signers: Default::default(),
        max_protocol_version: junction_hub_app::upgrade::MAX_SUPPORTED_VERSION.into(),
        store,
        metrics,
        chain: RwLock::new(ChainView {
            tip,
            tip_txs: 0,
            accounts: crate::node::known_accounts(state.as_ref()),
            state,
            packets,
            round: 0,
        }),
        mempool: Mutex::new(Mempool::new(MempoolLimits {
            max_txs: config.mempool.max_txs,
            max_bytes: config.mempool.max_bytes,
            max_tx_bytes: config.mempool.max_tx_bytes,
            max_account_txs: config.mempool.max_account_txs,
            max_account_bytes: config.mempool.max_account_bytes,
        })),
        // Twice the mempool cap: verdicts outlive admission until the block that includes them.
        sig_cache: Mutex::new(VerdictCache::new(config.mempool.max_txs.saturating_mul(2))),
        proof_verdicts: crate::mempool::ProofVerdicts(Mutex::new(VerdictCache::new(
            PROOF_VERDICTS_KEPT,
        ))),
        blocks,
        validated: Mutex::new(None),
        recent_blocks: Default::default(),
        outbound_txs,
        genesis,
        config,
    });

    Ok(shared)
}

async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
