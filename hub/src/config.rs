//! The node's home directory: `config/config.toml`, `config/genesis.json`,
//! `config/validator_key.json`, `keys/<name>.json` and `data/`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use junction_governance::{Council, GovGenesis, Member};
use junction_spec::attestation::{AttestationSet, Attester};
use junction_spec::gov::{
    ChainRegistration, GovFloors, GovParams, MemberStatus, OrgId, Role, RouteId, RoutePolicy,
};
use junction_spec::{tagged_hash, ChainId, Encode, Hash32, HashTag};

use crate::context::{PublicKey, Validator, ValidatorSet};

/// An operator-facing error: what is wrong and what to do.
#[derive(Debug, thiserror::Error)]
pub enum HomeError {
    /// The home directory has no config.
    #[error("{0} is not an initialized Junction home: run `junction init --home {0}` (or `junction testnet init`) first")]
    Missing(String),
    /// A file could not be read, written or used.
    #[error(transparent)]
    File(#[from] FileError),
}

pub use junction_keys::{check_private, AttestationKeyFile, FileError, KeyFile};

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> HomeError + '_ {
    move |source| FileError::io(path, source).into()
}

fn invalid(path: &Path, reason: impl ToString) -> HomeError {
    FileError::invalid(path, reason).into()
}

/// `config.toml`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Config {
    /// Human-readable node name.
    pub moniker: String,
    /// Consensus P2P (Malachite, libp2p over TCP).
    pub p2p: P2pConfig,
    /// Transaction gossip between validators.
    pub gossip: GossipConfig,
    /// JSON-RPC, WebSocket and `/metrics`.
    pub rpc: RpcConfig,
    /// Mempool caps.
    pub mempool: MempoolConfig,
    /// Block production.
    pub consensus: ConsensusParams,
    /// State history kept for proofs.
    #[serde(default)]
    pub state: StateConfig,
    /// An external signer of the consensus key (`junction signer start`); without it the
    /// key is read from `config/validator_key.json`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signer: Option<SignerConfig>,
}

/// Where the external signer listens.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SignerConfig {
    /// Its Unix socket (relative paths are relative to the home directory).
    pub socket: std::path::PathBuf,
}

/// How much state history a node keeps.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct StateConfig {
    /// Heights back from the tip whose state `state_proof` can still prove; older
    /// heights' tree nodes are pruned. 0 (the default) keeps every height, as an
    /// auditor's or regulator's node should. The current state, blocks, the message log
    /// and packet receipts are never pruned.
    #[serde(default)]
    pub retention_blocks: u64,
    /// Blocks after a packet's outcome is logged that the node keeps the packet's log
    /// entries (payloads) and its lifecycle steps; then they are dropped. Its record (the
    /// receipt), every log subtree root and every other entry stay, so roots and proofs
    /// of what is kept still verify. 0 (the default) keeps everything, as an auditor's or
    /// regulator's node should. Set it well above the longest relayer outage: the hub
    /// cannot see an outcome reach the source, so a pruned one is no longer served here.
    #[serde(default)]
    pub packet_retention_blocks: u64,
}

/// Consensus P2P settings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct P2pConfig {
    /// Listen address (loopback for local networks).
    pub listen: SocketAddr,
    /// Peers to keep connected to.
    pub persistent_peers: Vec<SocketAddr>,
    /// How consensus messages reach the other validators (see [`PubSub`]).
    #[serde(default)]
    pub pubsub: PubSub,
}

/// How consensus messages (votes, proposals, proposal parts) travel between validators.
/// Each is signed by the validator that made it and checked on arrival either way; the
/// choice is about cost and about who forwards.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum PubSub {
    /// Straight to every connected validator, never forwarded: one copy per peer and no
    /// second signature per message. Every validator must list every other in
    /// `persistent_peers` (a consortium's full mesh), since nobody relays.
    #[default]
    Broadcast,
    /// libp2p gossipsub: peers forward, so a validator reaches the others through any
    /// connected one; each message also carries a gossipsub signature that every receiver
    /// checks over the whole message (a large share of a loaded validator's CPU).
    Gossipsub,
}

/// Transaction gossip settings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct GossipConfig {
    /// Listen address.
    pub listen: SocketAddr,
    /// Peers' gossip addresses.
    pub peers: Vec<SocketAddr>,
    /// Largest frame accepted from a peer.
    pub max_frame_bytes: usize,
}

/// RPC settings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RpcConfig {
    /// Listen address.
    pub listen: SocketAddr,
    /// Largest request body.
    pub max_body_bytes: usize,
    /// Most requests in one JSON-RPC batch.
    pub max_batch: usize,
    /// Most open WebSocket subscriptions.
    pub max_subscriptions: usize,
}

/// Mempool caps.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MempoolConfig {
    /// Most pending transactions.
    pub max_txs: usize,
    /// Most pending bytes.
    pub max_bytes: usize,
    /// Largest single transaction.
    pub max_tx_bytes: usize,
    /// Most pending transactions of one account.
    #[serde(default = "default_account_txs")]
    pub max_account_txs: usize,
    /// Most pending bytes of one account (a relayer sends bursts of 64 KiB transactions).
    #[serde(default = "default_account_bytes")]
    pub max_account_bytes: usize,
}

fn default_account_txs() -> usize {
    1_000
}

fn default_account_bytes() -> usize {
    8 * 1024 * 1024
}

/// Block production parameters.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ConsensusParams {
    /// Minimum time between heights (Malachite's target time).
    pub target_block_time_ms: u64,
    /// Most transactions in a block.
    pub max_block_txs: usize,
    /// Most transaction bytes in a block.
    pub max_block_bytes: usize,
    /// How far ahead of local time a block's time may be.
    pub max_clock_drift_ms: u64,
    /// Propose timeout of round 0.
    pub timeout_propose_ms: u64,
    /// Prevote and precommit timeouts of round 0.
    pub timeout_vote_ms: u64,
    /// Most proposal-part streams one consensus peer may hold open (its oldest is dropped
    /// for a new one).
    #[serde(default = "default_streams_per_peer")]
    pub max_part_streams_per_peer: usize,
    /// Most proposal-part streams open from all peers together.
    #[serde(default = "default_streams")]
    pub max_part_streams: usize,
    /// Most bytes one proposal stream may carry (it is dropped past them).
    #[serde(default = "default_stream_bytes")]
    pub max_stream_bytes: usize,
    /// Most bytes all open proposal streams may hold together.
    #[serde(default = "default_stream_bytes_total")]
    pub max_stream_bytes_total: usize,
    /// Most heights above the tip a proposal (or a synced block) may be for; anything
    /// further is refused and counted, never kept until that height.
    #[serde(default = "default_future_window")]
    pub future_height_window: u64,
    /// Least time between an empty block and its parent (0: no wait). A proposer with
    /// nothing to include waits, for up to this long after its parent's time, for a
    /// transaction before it proposes an empty block; one with transactions proposes at
    /// once. It must leave the others time to receive the proposal within their propose
    /// timeout: at most `timeout_propose_ms - IDLE_MARGIN_MS`.
    #[serde(default = "default_idle_block_interval")]
    pub idle_block_interval_ms: u64,
}

/// What a proposer that waited for transactions leaves of the others' propose timeout to
/// build, stream and have its proposal checked.
pub const IDLE_MARGIN_MS: u64 = 400;

fn default_idle_block_interval() -> u64 {
    1_000
}

impl ConsensusParams {
    /// Checks the parameters that depend on each other.
    pub fn check(&self) -> Result<(), String> {
        if self.idle_block_interval_ms > 0
            && self.idle_block_interval_ms.saturating_add(IDLE_MARGIN_MS) > self.timeout_propose_ms
        {
            return Err(format!(
                "consensus.idle_block_interval_ms ({}) must be at most timeout_propose_ms ({}) - {IDLE_MARGIN_MS}: \
                 a proposer waiting that long would let the others' propose timeout expire",
                self.idle_block_interval_ms, self.timeout_propose_ms
            ));
        }
        Ok(())
    }
}

fn default_streams_per_peer() -> usize {
    4
}

fn default_streams() -> usize {
    32
}

fn default_stream_bytes() -> usize {
    16 * 1024 * 1024
}

fn default_stream_bytes_total() -> usize {
    64 * 1024 * 1024
}

fn default_future_window() -> u64 {
    2
}

impl Config {
    /// Defaults for one validator listening on loopback from `base_port`.
    pub fn local(moniker: &str, base_port: u16) -> Self {
        Self::at(moniker, std::net::Ipv4Addr::LOCALHOST, base_port)
    }

    /// Defaults for one validator listening on `ip` from `base_port`: consensus p2p at
    /// `base_port`, transaction gossip at `base_port + 1`, RPC at `base_port + 2`.
    pub fn at(moniker: &str, ip: std::net::Ipv4Addr, base_port: u16) -> Self {
        let addr = |off: u16| SocketAddr::from((ip, base_port + off));
        Config {
            moniker: moniker.to_string(),
            p2p: P2pConfig {
                listen: addr(0),
                persistent_peers: vec![],
                pubsub: PubSub::Broadcast,
            },
            gossip: GossipConfig {
                listen: addr(1),
                peers: vec![],
                max_frame_bytes: 4 * 1024 * 1024,
            },
            rpc: RpcConfig {
                listen: addr(2),
                max_body_bytes: 1024 * 1024,
                max_batch: junction_rpc::client::MAX_BATCH,
                max_subscriptions: 256,
            },
            mempool: MempoolConfig {
                max_txs: 100_000,
                max_bytes: 64 * 1024 * 1024,
                max_tx_bytes: junction_spec::encoding::MAX_TX_BYTES,
                max_account_txs: default_account_txs(),
                max_account_bytes: default_account_bytes(),
            },
            consensus: ConsensusParams {
                target_block_time_ms: 150,
                max_block_txs: 2_000,
                max_block_bytes: 8 * 1024 * 1024,
                max_clock_drift_ms: 2_000,
                timeout_propose_ms: 1_500,
                timeout_vote_ms: 500,
                max_part_streams_per_peer: default_streams_per_peer(),
                max_part_streams: default_streams(),
                max_stream_bytes: default_stream_bytes(),
                max_stream_bytes_total: default_stream_bytes_total(),
                future_height_window: default_future_window(),
                idle_block_interval_ms: default_idle_block_interval(),
            },
            state: StateConfig::default(),
            signer: None,
        }
    }
}

/// One genesis validator.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct GenesisValidator {
    /// Operator's name for it.
    pub name: String,
    /// ed25519 consensus key, hex.
    pub pub_key: String,
    /// Voting power.
    pub power: u64,
    /// Ethereum address (hex) of the validator's secp256k1 attestation key: the key that
    /// signs checkpoints in its precommit vote extensions, checked by gateways with
    /// `ecrecover`.
    pub attestation_address: String,
}

/// A founding council member.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct GenesisMember {
    /// Organization id.
    pub org: OrgId,
    /// Organization name.
    pub name: String,
    /// Voting weight.
    pub weight: u64,
    /// Role.
    pub role: Role,
    /// ed25519 account keys (hex) that sign for the organization.
    pub keys: Vec<String>,
}

/// A route open at genesis.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct GenesisRoute {
    /// Route id.
    pub id: RouteId,
    /// Its policy.
    pub policy: RoutePolicy,
}

/// The council, parameters, chains and routes the hub starts with.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct GenesisGovernance {
    /// Founding members.
    pub members: Vec<GenesisMember>,
    /// Governance parameters.
    pub params: GovParams,
    /// Bounds no vote can move the parameters past.
    pub floors: GovFloors,
    /// Registered chains.
    #[serde(default)]
    pub chains: Vec<ChainRegistration>,
    /// Open routes.
    #[serde(default)]
    pub routes: Vec<GenesisRoute>,
    /// Registered relayer account keys (hex).
    #[serde(default)]
    pub relayers: Vec<String>,
    /// Accounts admitted to submit transactions besides members and relayers (hex keys).
    #[serde(default)]
    pub accounts: Vec<String>,
}

impl GenesisGovernance {
    /// A council of one member per key, equal weights, with parameters for a local network
    /// (short voting period and timelock).
    pub fn local(member_keys: &[KeyFile]) -> Self {
        let frac = |num, den| junction_spec::gov::Fraction { num, den };
        GenesisGovernance {
            members: member_keys
                .iter()
                .enumerate()
                .filter_map(|(i, k)| {
                    Some(GenesisMember {
                        org: OrgId::new(format!("org{i}")).ok()?,
                        name: format!("Organization {i}"),
                        weight: 10,
                        role: Role::Member,
                        keys: vec![k.public_key.clone()],
                    })
                })
                .collect(),
            params: GovParams {
                // Long enough for a handful of CLI votes on a loaded machine, short
                // enough to watch a proposal pass.
                voting_period_ms: 15_000,
                expedited_voting_period_ms: 8_000,
                timelock_ms: 2_000,
                quorum: frac(1, 3),
                threshold: frac(51, 100),
                expedited_threshold: frac(2, 3),
                veto: frac(1, 3),
                min_deposit: 0,
                max_active_proposals: 64,
                max_route_gas_limit: junction_spec::MAX_PACKET_GAS_LIMIT,
            },
            // What no vote can cross on a local network: a third of the weight must vote,
            // a minority of at most half can veto, and votes and timelocks stay long
            // enough for every member to see them.
            floors: GovFloors {
                min_quorum: frac(1, 3),
                max_veto: frac(1, 2),
                min_voting_period_ms: 5_000,
                min_expedited_voting_period_ms: 2_000,
                min_timelock_ms: 1_000,
            },
            chains: vec![],
            routes: vec![],
            relayers: vec![],
            accounts: vec![],
        }
    }
}

/// `genesis.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Genesis {
    /// Hub chain id.
    pub chain_id: String,
    /// Time of genesis (block 1 must be later).
    pub genesis_time_ms: u64,
    /// Initial validators.
    pub validators: Vec<GenesisValidator>,
    /// Initial council, parameters, chains and routes.
    pub governance: GenesisGovernance,
}

fn address20(hex_address: &str, validator: &str) -> Result<[u8; 20], String> {
    hex::decode(hex_address.trim_start_matches("0x"))
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| {
            format!(
                "validator {validator}: attestation_address `{hex_address}` is not 20 bytes of hex"
            )
        })
}

fn key32(hex_key: &str, what: &str) -> Result<[u8; 32], String> {
    hex::decode(hex_key)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| format!("{what}: `{hex_key}` is not 32 bytes of hex"))
}

impl Genesis {
    /// The validated chain id.
    pub fn chain_id(&self) -> Result<ChainId, String> {
        ChainId::new(self.chain_id.clone()).map_err(|e| e.to_string())
    }

    /// The validator set.
    pub fn validator_set(&self) -> Result<ValidatorSet, String> {
        let mut vals = Vec::new();
        for v in &self.validators {
            let bytes: [u8; 32] = hex::decode(&v.pub_key)
                .ok()
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| format!("validator {} has a bad pub_key", v.name))?;
            let pk = PublicKey::from_bytes(bytes)
                .map_err(|e| format!("validator {} key: {e}", v.name))?;
            vals.push(Validator::new(pk, v.power));
        }
        ValidatorSet::new(vals).map_err(|e| e.to_string())
    }

    /// The attestation set: each validator's attestation address with its voting power.
    pub fn attestation_set(&self) -> Result<AttestationSet, String> {
        let mut attesters = Vec::with_capacity(self.validators.len());
        for v in &self.validators {
            attesters.push(Attester {
                address: address20(&v.attestation_address, &v.name)?,
                power: v.power,
            });
        }
        attesters.sort();
        let set = AttestationSet { attesters };
        set.validate()
            .map_err(|e| format!("attestation set: {e}"))?;
        Ok(set)
    }

    /// The genesis validators as the council and the validator schedule hold them, sorted
    /// by key.
    pub fn hub_validators(&self) -> Result<Vec<junction_spec::HubValidator>, String> {
        let mut out = self
            .validators
            .iter()
            .map(|v| {
                Ok(junction_spec::HubValidator {
                    pub_key: key32(&v.pub_key, &format!("validator {}", v.name))?,
                    power: v.power,
                    attestation_address: address20(&v.attestation_address, &v.name)?,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        out.sort_by_key(|v| v.pub_key);
        Ok(out)
    }

    /// The council at genesis (checked by the governance rules).
    pub fn council(&self) -> Result<Council, String> {
        let g = &self.governance;
        let mut members = Vec::new();
        for m in &g.members {
            let keys = m
                .keys
                .iter()
                .map(|k| key32(k, &format!("member {}", m.org.as_str())))
                .collect::<Result<Vec<_>, _>>()?;
            members.push(Member {
                org: m.org.clone(),
                name: m.name.clone(),
                weight: m.weight,
                role: m.role,
                status: MemberStatus::Active,
                keys,
            });
        }
        let validators = self.hub_validators()?;
        Council::genesis(GovGenesis {
            members,
            params: g.params.clone(),
            floors: g.floors,
            chains: g.chains.clone(),
            routes: g
                .routes
                .iter()
                .map(|r| (r.id.clone(), r.policy.clone()))
                .collect(),
            validators,
            relayers: g
                .relayers
                .iter()
                .map(|k| key32(k, "relayer"))
                .collect::<Result<Vec<_>, _>>()?,
            accounts: g
                .accounts
                .iter()
                .map(|k| key32(k, "account"))
                .collect::<Result<Vec<_>, _>>()?,
        })
        .map_err(|e| format!("governance: {e}"))
    }

    /// Identity of the genesis: the parent hash of block 1. Commits to the chain id, time,
    /// validator set and the whole genesis council.
    pub fn hash(&self) -> Result<Hash32, String> {
        let vs = self.validator_set()?;
        let council = self.council()?;
        let mut buf = Vec::new();
        junction_spec::encoding::encode_str(&self.chain_id, &mut buf);
        buf.extend_from_slice(&self.genesis_time_ms.to_be_bytes());
        buf.extend_from_slice(&vs.hash());
        council.encode_to(&mut buf);
        Ok(tagged_hash(HashTag::BlockHeader, &buf))
    }

    /// Reads and checks `genesis.json`.
    pub fn load(path: &Path) -> Result<Self, HomeError> {
        let text = std::fs::read_to_string(path).map_err(io_err(path))?;
        let g: Genesis = serde_json::from_str(&text).map_err(|e| invalid(path, e))?;
        g.chain_id().map_err(|e| invalid(path, e))?;
        g.validator_set().map_err(|e| invalid(path, e))?;
        g.attestation_set().map_err(|e| invalid(path, e))?;
        g.council().map_err(|e| invalid(path, e))?;
        Ok(g)
    }
}

/// Paths inside a home directory.
#[derive(Debug, Clone)]
pub struct Home {
    /// The home directory.
    pub root: PathBuf,
}

impl Home {
    /// A home at `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }
    /// `config/config.toml`.
    pub fn config_file(&self) -> PathBuf {
        self.root.join("config").join("config.toml")
    }
    /// `config/genesis.json`.
    pub fn genesis_file(&self) -> PathBuf {
        self.root.join("config").join("genesis.json")
    }
    /// `config/validator_key.json`.
    pub fn validator_key_file(&self) -> PathBuf {
        self.root.join("config").join("validator_key.json")
    }
    /// `config/attestation_key.json`.
    pub fn attestation_key_file(&self) -> PathBuf {
        self.root.join("config").join("attestation_key.json")
    }
    /// `keys/`.
    pub fn keys_dir(&self) -> PathBuf {
        self.root.join("keys")
    }
    /// `data/`.
    pub fn data_dir(&self) -> PathBuf {
        self.root.join("data")
    }

    /// Loads `config.toml`, with a clear error if the home is not initialized.
    pub fn load_config(&self) -> Result<Config, HomeError> {
        let path = self.config_file();
        if !path.exists() {
            return Err(HomeError::Missing(self.root.display().to_string()));
        }
        let text = std::fs::read_to_string(&path).map_err(io_err(&path))?;
        let config: Config = toml::from_str(&text).map_err(|e| invalid(&path, e))?;
        config.consensus.check().map_err(|e| invalid(&path, e))?;
        Ok(config)
    }

    /// Writes a home without its genesis (the ceremony's `join`: the genesis comes later,
    /// from `genesis verify`): config, validator key, attestation key.
    pub fn write_without_genesis(
        &self,
        config: &Config,
        key: &KeyFile,
        attestation: &AttestationKeyFile,
    ) -> Result<(), HomeError> {
        for d in [self.root.join("config"), self.data_dir(), self.keys_dir()] {
            std::fs::create_dir_all(&d).map_err(io_err(&d))?;
        }
        self.write_config(config)?;
        key.save(&self.validator_key_file())?;
        Ok(attestation.save(&self.attestation_key_file())?)
    }

    /// Writes `config.toml`.
    pub fn write_config(&self, config: &Config) -> Result<(), HomeError> {
        let cfg = self.config_file();
        let text = toml::to_string_pretty(config).map_err(|e| invalid(&cfg, e))?;
        std::fs::write(&cfg, text).map_err(io_err(&cfg))
    }

    /// Writes `genesis.json`.
    pub fn write_genesis(&self, genesis: &Genesis) -> Result<(), HomeError> {
        let gen = self.genesis_file();
        let text = serde_json::to_string_pretty(genesis).map_err(|e| invalid(&gen, e))?;
        std::fs::write(&gen, text).map_err(io_err(&gen))
    }

    /// Writes a complete home: config, genesis, validator key, attestation key.
    pub fn write(
        &self,
        config: &Config,
        genesis: &Genesis,
        key: &KeyFile,
        attestation: &AttestationKeyFile,
    ) -> Result<(), HomeError> {
        for d in [self.root.join("config"), self.data_dir(), self.keys_dir()] {
            std::fs::create_dir_all(&d).map_err(io_err(&d))?;
        }
        let cfg = self.config_file();
        let text = toml::to_string_pretty(config).map_err(|e| invalid(&cfg, e))?;
        std::fs::write(&cfg, text).map_err(io_err(&cfg))?;
        let gen = self.genesis_file();
        let text = serde_json::to_string_pretty(genesis).map_err(|e| invalid(&gen, e))?;
        std::fs::write(&gen, text).map_err(io_err(&gen))?;
        key.save(&self.validator_key_file())?;
        Ok(attestation.save(&self.attestation_key_file())?)
    }
}

/// Writes the home of a hub with one validator (which is its only member) and returns
/// what it holds.
#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) fn one_validator_home(home: &Home) -> (Config, Genesis, KeyFile, AttestationKeyFile) {
    let key = KeyFile::generate("v0");
    let attest = AttestationKeyFile::generate();
    let genesis = Genesis {
        chain_id: "junction-local".into(),
        genesis_time_ms: 1,
        validators: vec![GenesisValidator {
            name: "v0".into(),
            pub_key: key.public_key.clone(),
            power: 10,
            attestation_address: attest.address.clone(),
        }],
        governance: GenesisGovernance::local(std::slice::from_ref(&key)),
    };
    let config = Config::local("n0", 27000);
    home.write(&config, &genesis, &key, &attest).unwrap();
    (config, genesis, key, attest)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn home_round_trips_and_reports_missing() {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::new(dir.path().join("n0"));
        assert!(matches!(home.load_config(), Err(HomeError::Missing(_))));
        let (config, genesis, key, attest) = one_validator_home(&home);
        assert_eq!(
            AttestationKeyFile::load(&home.attestation_key_file()).unwrap(),
            attest
        );
        assert_eq!(genesis.attestation_set().unwrap().attesters.len(), 1);
        assert_eq!(home.load_config().unwrap(), config);
        assert_eq!(Genesis::load(&home.genesis_file()).unwrap(), genesis);
        assert_eq!(KeyFile::load(&home.validator_key_file()).unwrap(), key);
        std::fs::write(home.genesis_file(), "{not json").unwrap();
        assert!(matches!(
            Genesis::load(&home.genesis_file()),
            Err(HomeError::File(FileError::Invalid { .. }))
        ));
    }
}
