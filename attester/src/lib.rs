//! A member organization's attester (DESIGN §7, trust model): it reads the attested EVM
//! chains it follows from nodes its organization runs, signs each header once it is
//! `finality_depth` blocks deep, and submits the signatures to the hub in `Attest`
//! transactions from an account of its own. The hub moves a chain's client once k of the
//! n registered attesters signed the same header; no relayer holds an attester key.
//!
//! Configuration (`attester.toml`, in the member node's `config/` directory, where
//! `junction start` runs the attester beside the node, or anywhere for
//! `junction attester start --config F`):
//!
//! ```toml
//! hub_rpc = "http://127.0.0.1:26657"
//! hub_chain_id = "junction-local"
//! account_key_file = "../keys/attester-account.json"  # ed25519 hub account (0600)
//! attester_key_file = "../keys/attester.json"         # secp256k1 attester key (0600)
//! poll_ms = 500
//!
//! [[chains]]
//! id = "evm-a"
//! rpc = "http://127.0.0.1:8545"
//! evm_chain_id = 31337
//! finality_depth = 0
//! ```
//!
//! Relative key paths are taken from the configuration file's directory. The file is read
//! again whenever it changes (an operator adds a chain without restarting the node); while
//! it is absent the attester waits.
//!
//! Each cycle, per chain: the hub's client height and the chain's finalized height are
//! read; the heights above both what the client holds and what this attester already
//! signed are signed, newest [`MAX_PER_TX`] first when far behind (every honest attester
//! then signs the same newest heights, so k of them meet even after an outage), and sent
//! in one transaction, awaited until committed. The account needs no council role beyond
//! being known to the hub (an `admit_account` vote): the attester's signature is what the
//! hub checks, against the attesters the council registered for the chain.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use alloy::eips::BlockNumberOrTag;
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use eyre::{eyre, WrapErr};
use serde::{Deserialize, Serialize};
use tracing::{debug, info, warn};

use junction_adapters::evm::adapter::{checked_header_rlp, loopback_url};
use junction_keys::{AttestationKeyFile, KeyFile, PrivateKey};
use junction_light_clients::evm::attested::{
    attest_from_rlp, sign_attested_header, AttesterRotation,
};
use junction_rpc::methods::{
    Account, AccountParams, BroadcastMode, BroadcastParams, BroadcastTx, ClientStateParams,
    GetClientState, TxResult,
};
use junction_rpc::{Hex, HexBytes, RpcClient};
use junction_spec::relay::{HeaderAttestation, MAX_ATTESTATIONS_PER_TX};
use junction_spec::{ChainId, Encode, TxKind};

/// Most attestations one transaction carries.
pub const MAX_PER_TX: usize = 16;
const _: () = assert!(MAX_PER_TX <= MAX_ATTESTATIONS_PER_TX);

fn default_poll_ms() -> u64 {
    500
}

/// `attester.toml`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttesterConfig {
    /// The hub node's JSON-RPC (127.0.0.1).
    pub hub_rpc: String,
    /// The hub's chain id (transactions are signed for it).
    pub hub_chain_id: String,
    /// The ed25519 hub account the attestations are sent from.
    pub account_key_file: String,
    /// The secp256k1 key the council registered as this member's attester.
    pub attester_key_file: String,
    /// Milliseconds between cycles.
    #[serde(default = "default_poll_ms")]
    pub poll_ms: u64,
    /// The chains attested.
    #[serde(default)]
    pub chains: Vec<AttestedChain>,
}

/// One attested chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttestedChain {
    /// Its id on the hub.
    pub id: String,
    /// JSON-RPC of a node the organization runs (127.0.0.1).
    pub rpc: String,
    /// EIP-155 chain id the council registered.
    pub evm_chain_id: u64,
    /// Blocks on top of a header before it is signed (0: the head itself, for a chain
    /// with instant finality).
    #[serde(default)]
    pub finality_depth: u64,
}

impl AttesterConfig {
    /// Reads and checks a configuration file; relative key paths become paths from its
    /// directory.
    pub fn load(path: &Path) -> eyre::Result<Self> {
        let text = std::fs::read_to_string(path)
            .wrap_err_with(|| format!("reading {}", path.display()))?;
        let mut config: AttesterConfig =
            toml::from_str(&text).map_err(|e| eyre!("{}: {e}", path.display()))?;
        let dir = path.parent().unwrap_or(Path::new("."));
        for file in [&mut config.account_key_file, &mut config.attester_key_file] {
            if Path::new(file.as_str()).is_relative() {
                *file = dir.join(file.as_str()).display().to_string();
            }
        }
        config
            .check()
            .map_err(|e| eyre!("{}: {e}", path.display()))?;
        Ok(config)
    }

    fn check(&self) -> eyre::Result<()> {
        ChainId::new(&self.hub_chain_id).map_err(|e| eyre!("hub_chain_id: {e}"))?;
        if !self.hub_rpc.starts_with("http://127.0.0.1:") {
            return Err(eyre!("hub_rpc must be a 127.0.0.1 endpoint"));
        }
        if self.poll_ms == 0 {
            return Err(eyre!("poll_ms must be at least 1"));
        }
        let mut ids = std::collections::BTreeSet::new();
        for c in &self.chains {
            ChainId::new(&c.id).map_err(|e| eyre!("chain {:?}: {e}", c.id))?;
            loopback_url(&c.rpc).map_err(|e| eyre!("chain {}: {e}", c.id))?;
            if !ids.insert(c.id.as_str()) {
                return Err(eyre!("chain {} is listed twice", c.id));
            }
        }
        Ok(())
    }

    /// The configuration as TOML.
    pub fn to_toml(&self) -> eyre::Result<String> {
        toml::to_string(self).map_err(|e| eyre!("{e}"))
    }
}

/// A chain as the attester reads it.
struct ChainReader {
    id: ChainId,
    evm_chain_id: u64,
    finality_depth: u64,
    provider: DynProvider,
    checked_chain_id: bool,
}

impl std::fmt::Debug for ChainReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChainReader")
            .field("id", &self.id)
            .field("evm_chain_id", &self.evm_chain_id)
            .finish_non_exhaustive()
    }
}

impl ChainReader {
    fn new(c: &AttestedChain) -> eyre::Result<Self> {
        let url = loopback_url(&c.rpc).map_err(|e| eyre!("chain {}: {e}", c.id))?;
        Ok(Self {
            id: ChainId::new(&c.id).map_err(|e| eyre!("{e}"))?,
            evm_chain_id: c.evm_chain_id,
            finality_depth: c.finality_depth,
            provider: ProviderBuilder::new().connect_http(url).erased(),
            checked_chain_id: false,
        })
    }

    /// The highest block `finality_depth` deep.
    async fn finalized(&mut self) -> eyre::Result<u64> {
        if !self.checked_chain_id {
            let id = self.provider.get_chain_id().await?;
            if id != self.evm_chain_id {
                return Err(eyre!(
                    "the node at this rpc serves EVM chain {id}, not {}: check the configuration",
                    self.evm_chain_id
                ));
            }
            self.checked_chain_id = true;
        }
        let head = self.provider.get_block_number().await?;
        Ok(head.saturating_sub(self.finality_depth))
    }

    /// Block `height`'s header, checked against the hash the node reported, signed.
    async fn attest(
        &self,
        key: &k256::ecdsa::SigningKey,
        height: u64,
    ) -> eyre::Result<HeaderAttestation> {
        let block = self
            .provider
            .get_block_by_number(BlockNumberOrTag::Number(height))
            .await?
            .ok_or_else(|| eyre!("the node has no block {height}"))?;
        let rlp = checked_header_rlp(height, &block.header).map_err(|e| eyre!("{e}"))?;
        let header = attest_from_rlp(self.evm_chain_id, &rlp).map_err(|e| eyre!("{e}"))?;
        if header.number != height {
            return Err(eyre!(
                "asked for block {height}, the node returned {}",
                header.number
            ));
        }
        let signature = sign_attested_header(key, &header).map_err(|e| eyre!("{e}"))?;
        Ok(HeaderAttestation {
            header: header.to_bytes(),
            signature,
        })
    }
}

/// What one cycle did for one chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attested {
    /// The chain.
    pub chain: ChainId,
    /// Heights signed and committed on the hub.
    pub heights: Vec<u64>,
}

/// The attester of one member organization.
#[derive(Debug)]
pub struct Attester {
    hub: RpcClient,
    hub_chain: ChainId,
    account: PrivateKey,
    key: k256::ecdsa::SigningKey,
    chains: Vec<ChainReader>,
    /// Per chain, the highest height whose attestation the hub committed (after a failed
    /// submission the same heights are signed and sent again).
    signed: BTreeMap<ChainId, u64>,
    /// The last failure logged per chain: a failure that repeats every cycle (a frozen
    /// client, a node down) is logged when it starts and when it ends, not every cycle.
    failing: BTreeMap<ChainId, String>,
    poll: Duration,
}

impl Attester {
    /// An attester for `config` (its keys are read and checked private here).
    pub fn new(config: &AttesterConfig) -> eyre::Result<Self> {
        let account = KeyFile::load(Path::new(&config.account_key_file))
            .map_err(|e| eyre!("{e}"))?
            .private_key()
            .map_err(|e| eyre!("{}: {e}", config.account_key_file))?;
        let key = AttestationKeyFile::load(Path::new(&config.attester_key_file))
            .map_err(|e| eyre!("{e}"))?
            .signing_key()
            .map_err(|e| eyre!("{}: {e}", config.attester_key_file))?;
        Ok(Self {
            hub: RpcClient::new(config.hub_rpc.clone()),
            hub_chain: ChainId::new(&config.hub_chain_id).map_err(|e| eyre!("{e}"))?,
            account,
            key,
            chains: config
                .chains
                .iter()
                .map(ChainReader::new)
                .collect::<eyre::Result<_>>()?,
            signed: BTreeMap::new(),
            failing: BTreeMap::new(),
            poll: Duration::from_millis(config.poll_ms),
        })
    }

    /// The attester's address, as the council registers it.
    pub fn address(&self) -> [u8; 20] {
        junction_light_clients::hub::eth_address(self.key.verifying_key())
    }

    /// One pass over every chain. A chain that cannot be read or whose attestations the
    /// hub refuses is logged and skipped; the others go on.
    pub async fn cycle(&mut self) -> Vec<Attested> {
        let mut done = Vec::new();
        for i in 0..self.chains.len() {
            let id = self.chains[i].id.clone();
            match self.attest_chain(i).await {
                Ok(heights) => {
                    if self.failing.remove(&id).is_some() {
                        info!(chain = id.as_str(), "attesting again");
                    }
                    if let Some(first) = heights.first() {
                        debug!(
                            chain = id.as_str(),
                            from = first,
                            count = heights.len(),
                            "attested"
                        );
                        done.push(Attested { chain: id, heights });
                    }
                }
                Err(e) => {
                    let text = format!("{e:#}");
                    if self.failing.get(&id) != Some(&text) {
                        warn!(
                            chain = id.as_str(),
                            "not attested (until this changes): {text}"
                        );
                        self.failing.insert(id, text);
                    }
                }
            }
        }
        done
    }

    async fn attest_chain(&mut self, i: usize) -> eyre::Result<Vec<u64>> {
        let id = self.chains[i].id.clone();
        // The chain first: without a new finalized block there is nothing to ask the hub.
        let finalized = self.chains[i].finalized().await?;
        let signed = self.signed.get(&id).copied().unwrap_or(0);
        if signed > 0 && finalized <= signed {
            return Ok(Vec::new());
        }
        let client = self
            .hub
            .call::<GetClientState>(&ClientStateParams {
                chain: id.as_str().to_string(),
            })
            .await
            .map_err(|e| eyre!("the hub's client of {}: {e}", id.as_str()))?;
        if client.status != "active" {
            return Err(eyre!(
                "the hub's client is {}: attestations wait for a council vote",
                client.status
            ));
        }
        let from = client.latest_height.max(signed).saturating_add(1);
        if from > finalized {
            return Ok(Vec::new());
        }
        // Far behind: the newest heights, the same ones every honest attester signs.
        let from = from.max(finalized.saturating_sub(MAX_PER_TX as u64 - 1));
        let mut attestations = Vec::new();
        for h in from..=finalized {
            attestations.push(self.chains[i].attest(&self.key, h).await?);
        }
        let addr = junction_spec::address_from_ed25519(self.account.public_key().as_bytes());
        let nonce = self
            .hub
            .call::<Account>(&AccountParams { address: Hex(addr) })
            .await?
            .next_nonce;
        let tx = junction_keys::sign_tx(
            &self.account,
            &self.hub_chain,
            nonce,
            TxKind::Attest {
                chain: id.clone(),
                attestations,
            },
        );
        let answer = self
            .hub
            .call::<BroadcastTx>(&BroadcastParams {
                tx: HexBytes(tx.to_bytes()),
                mode: BroadcastMode::Commit,
            })
            .await
            .map_err(|e| eyre!("the hub refused the attestations: {e}"))?;
        if let Some(TxResult::Failed { failed, message }) = answer.result {
            return Err(eyre!(
                "the attestations failed on the hub: {failed}: {message}"
            ));
        }
        self.signed.insert(id, finalized);
        Ok((from..=finalized).collect())
    }

    /// Cycles every `poll_ms` until the process stops.
    pub async fn run(mut self) -> eyre::Result<()> {
        loop {
            self.cycle().await;
            tokio::time::sleep(self.poll).await;
        }
    }
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// Sends of one rotation before a nonce race with the running attester is an error.
const NONCE_ATTEMPTS: u32 = 20;

/// What [`rotate_key`] did.
#[derive(Debug, Clone, Serialize)]
pub struct KeyRotation {
    /// The address that left the seats (0x hex).
    pub old: String,
    /// The address that holds them now.
    pub new: String,
    /// Chains rotated now, with the hub height that committed each.
    pub rotated: Vec<(String, Option<u64>)>,
    /// Chains an earlier, interrupted run had rotated already.
    pub already: Vec<String>,
    /// Where the old key file is kept.
    pub old_key_kept_as: PathBuf,
}

/// Moves this member's attester to a fresh key on every chain of `config` (or only on
/// `only`): for each chain one `RotateAttesterKey` transaction from the attester's account,
/// signed by both keys, awaited until committed. The new key is written first, beside the
/// old one as `<key>.next.json`, and used again if a run stops half way (the hub's client
/// says which chains already hold it); once every chain holds it, it replaces the key file,
/// the old one kept as `<key>.rotated-<ms>.json`. A running attester sees the file change
/// and signs with the new key from its next cycle.
pub async fn rotate_key(config: &AttesterConfig, only: &[String]) -> eyre::Result<KeyRotation> {
    let key_path = PathBuf::from(&config.attester_key_file);
    let old = AttestationKeyFile::load(&key_path)
        .map_err(|e| eyre!("{e}"))?
        .signing_key()
        .map_err(|e| eyre!("{}: {e}", key_path.display()))?;
    let next_path = key_path.with_extension("next.json");
    let next_file = if next_path.exists() {
        AttestationKeyFile::load(&next_path).map_err(|e| eyre!("{e}"))?
    } else {
        let f = AttestationKeyFile::generate();
        f.save(&next_path).map_err(|e| eyre!("{e}"))?;
        f
    };
    let new = next_file
        .signing_key()
        .map_err(|e| eyre!("{}: {e}", next_path.display()))?;
    let address =
        |k: &k256::ecdsa::SigningKey| junction_light_clients::hub::eth_address(k.verifying_key());
    let (old_address, new_address) = (address(&old), address(&new));
    let account = KeyFile::load(Path::new(&config.account_key_file))
        .map_err(|e| eyre!("{e}"))?
        .private_key()
        .map_err(|e| eyre!("{}: {e}", config.account_key_file))?;
    let hub = RpcClient::new(config.hub_rpc.clone());
    let hub_chain = ChainId::new(&config.hub_chain_id).map_err(|e| eyre!("{e}"))?;
    let chains: Vec<String> = if only.is_empty() {
        config.chains.iter().map(|c| c.id.clone()).collect()
    } else {
        only.to_vec()
    };
    if chains.is_empty() {
        return Err(eyre!("no chains to rotate the attester key on"));
    }
    let mut report = KeyRotation {
        old: format!("0x{}", hex::encode(old_address)),
        new: format!("0x{}", hex::encode(new_address)),
        rotated: Vec::new(),
        already: Vec::new(),
        old_key_kept_as: PathBuf::new(),
    };
    for id in chains {
        let chain = ChainId::new(&id).map_err(|e| eyre!("chain {id:?}: {e}"))?;
        let state = hub
            .call::<GetClientState>(&ClientStateParams { chain: id.clone() })
            .await?;
        let seats: Vec<Vec<u8>> = state
            .attesters
            .ok_or_else(|| eyre!("chain {id} is not followed through attesters"))?
            .into_iter()
            .map(|a| a.0)
            .collect();
        if seats.iter().any(|a| a.as_slice() == new_address.as_slice()) {
            report.already.push(id);
            continue;
        }
        if !seats.iter().any(|a| a.as_slice() == old_address.as_slice()) {
            return Err(eyre!("{} holds no attester seat of chain {id}", report.old));
        }
        let signer = *account.public_key().as_bytes();
        // The running attester sends from the same account: a nonce it took between our
        // read and our send is read again, and the rotation signed for the next one.
        let mut attempts = 0;
        let answer = loop {
            attempts += 1;
            let nonce = hub
                .call::<Account>(&AccountParams {
                    address: Hex(junction_spec::address_from_ed25519(&signer)),
                })
                .await?
                .next_nonce;
            let rotation = AttesterRotation {
                hub_chain: hub_chain.as_str().to_string(),
                chain: id.clone(),
                old: old_address,
                new: new_address,
                account: signer,
                nonce,
            };
            let sign = |k: &k256::ecdsa::SigningKey| {
                rotation
                    .sign(k)
                    .map_err(|e| eyre!("signing the rotation: {e}"))
            };
            let tx = junction_keys::sign_tx(
                &account,
                &hub_chain,
                nonce,
                TxKind::RotateAttesterKey {
                    chain: chain.clone(),
                    old_address,
                    new_address,
                    old_signature: sign(&old)?,
                    new_signature: sign(&new)?,
                },
            );
            let sent = hub
                .call::<BroadcastTx>(&BroadcastParams {
                    tx: HexBytes(tx.to_bytes()),
                    mode: BroadcastMode::Commit,
                })
                .await;
            match sent {
                Err(junction_rpc::ClientError::Rpc { name, .. })
                    if attempts < NONCE_ATTEMPTS
                        && (name == "stale_nonce" || name == "nonce_already_pending") =>
                {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                other => {
                    break other.map_err(|e| eyre!("the hub refused the rotation on {id}: {e}"))?
                }
            }
        };
        if let Some(TxResult::Failed { failed, message }) = answer.result {
            return Err(eyre!(
                "the rotation failed on the hub for {id}: {failed}: {message} (the new key stays in {}; run again to go on)",
                next_path.display()
            ));
        }
        report.rotated.push((id, answer.height));
    }
    let now_ms = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let stem = key_path.file_stem().map_or_else(
        || "attester".to_string(),
        |s| s.to_string_lossy().into_owned(),
    );
    let kept = key_path.with_file_name(format!("{stem}.rotated-{now_ms}.json"));
    std::fs::rename(&key_path, &kept)
        .wrap_err_with(|| format!("keeping the old key as {}", kept.display()))?;
    std::fs::rename(&next_path, &key_path)
        .wrap_err_with(|| format!("moving {} to {}", next_path.display(), key_path.display()))?;
    report.old_key_kept_as = kept;
    Ok(report)
}

/// Runs the attester of `config_path`: waits while the file is absent, reads it again
/// whenever it or the attester key file it names changes (a key rotation replaces that
/// file: `junction keys rotate-attester`), and keeps the last good configuration when a
/// change does not load (logged).
pub async fn run(config_path: PathBuf) -> eyre::Result<()> {
    let mut seen: Option<(Option<SystemTime>, Option<SystemTime>)> = None;
    let mut key_file: Option<PathBuf> = None;
    let mut attester: Option<Attester> = None;
    let mut poll = Duration::from_millis(default_poll_ms());
    loop {
        let config_time = modified(&config_path);
        let now = (config_time, key_file.as_deref().and_then(modified));
        if seen != Some(now) {
            seen = Some(now);
            if config_time.is_some() {
                match AttesterConfig::load(&config_path).and_then(|c| Ok((Attester::new(&c)?, c))) {
                    Ok((a, c)) => {
                        info!(
                            attester = format!("0x{}", hex::encode(a.address())),
                            chains = c.chains.len(),
                            "attester configuration loaded"
                        );
                        poll = a.poll;
                        let key = PathBuf::from(&c.attester_key_file);
                        seen = Some((config_time, modified(&key)));
                        key_file = Some(key);
                        // What this key signed stays signed: the heights carry over. A new
                        // key has signed nothing yet (the hub dropped what the old one had
                        // pending), so it starts from the client's height.
                        let signed = attester
                            .take()
                            .filter(|old| old.address() == a.address())
                            .map(|old| old.signed)
                            .unwrap_or_default();
                        attester = Some(Attester { signed, ..a });
                    }
                    Err(e) => warn!("attester configuration not loaded: {e:#}"),
                }
            } else if attester.take().is_some() {
                info!("attester configuration removed: attesting nothing");
            }
        }
        if let Some(a) = attester.as_mut() {
            a.cycle().await;
        }
        tokio::time::sleep(poll).await;
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn config() -> AttesterConfig {
        AttesterConfig {
            hub_rpc: "http://127.0.0.1:26657".into(),
            hub_chain_id: "junction-local".into(),
            account_key_file: "account.json".into(),
            attester_key_file: "attester.json".into(),
            poll_ms: 500,
            chains: vec![AttestedChain {
                id: "evm-a".into(),
                rpc: "http://127.0.0.1:8545".into(),
                evm_chain_id: 31_337,
                finality_depth: 2,
            }],
        }
    }

    #[test]
    fn a_configuration_round_trips_and_bad_ones_are_refused_by_what_is_wrong() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("attester.toml");
        std::fs::write(&path, config().to_toml().unwrap()).unwrap();
        let loaded = AttesterConfig::load(&path).unwrap();
        assert_eq!(
            loaded.account_key_file,
            dir.path().join("account.json").display().to_string(),
            "relative key paths are taken from the file's directory"
        );
        assert_eq!(loaded.chains, config().chains);

        let cases: Vec<(AttesterConfig, &str)> = vec![
            (
                AttesterConfig {
                    hub_rpc: "http://10.0.0.1:26657".into(),
                    ..config()
                },
                "127.0.0.1",
            ),
            (
                AttesterConfig {
                    chains: vec![config().chains[0].clone(), config().chains[0].clone()],
                    ..config()
                },
                "listed twice",
            ),
            (
                AttesterConfig {
                    chains: vec![AttestedChain {
                        rpc: "http://192.168.1.1:8545".into(),
                        ..config().chains[0].clone()
                    }],
                    ..config()
                },
                "127.0.0.1",
            ),
            (
                AttesterConfig {
                    poll_ms: 0,
                    ..config()
                },
                "poll_ms",
            ),
        ];
        for (bad, why) in cases {
            std::fs::write(&path, bad.to_toml().unwrap()).unwrap();
            let e = AttesterConfig::load(&path).unwrap_err().to_string();
            assert!(e.contains(why), "{e}");
        }
        std::fs::write(&path, "hub_rpc = 1").unwrap();
        assert!(AttesterConfig::load(&path).is_err());
        // An attester key belongs to the attester, never to a relayer: the relayer's
        // configuration has no field for it (see the relayer's tests).
        std::fs::write(
            &path,
            format!(
                "{}\nrelayer_key_file = \"x\"\n",
                config().to_toml().unwrap()
            ),
        )
        .unwrap();
        let e = AttesterConfig::load(&path).unwrap_err().to_string();
        assert!(e.contains("unknown field"), "{e}");
    }
}
