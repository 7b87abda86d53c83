//! `junction genesis join | assemble | verify`: the genesis ceremony of a hub run by
//! several organizations (`junction_hub::ceremony`).

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use eyre::{eyre, WrapErr};

use junction_hub::ceremony::{self, JoinFile, Peer};
use junction_hub::config::{AttestationKeyFile, Config, Genesis, GenesisGovernance, Home, KeyFile};
use junction_spec::{ChainId, OrgId};

use crate::send::print_json;

/// Genesis ceremony steps.
#[derive(Debug, clap::Subcommand)]
pub enum GenesisCommand {
    /// Make this organization's home (fresh validator, attestation and member keys, a
    /// config listening on `--listen`) and its signed join file.
    Join {
        /// Home directory to create.
        #[arg(long)]
        home: PathBuf,
        /// The hub's chain id.
        #[arg(long)]
        chain_id: String,
        /// This organization's id.
        #[arg(long)]
        org: String,
        /// Its name.
        #[arg(long)]
        name: String,
        /// The address its node listens on (and the others dial).
        #[arg(long)]
        listen: Ipv4Addr,
        /// First of its three ports (p2p, gossip, rpc).
        #[arg(long, default_value_t = 26600)]
        base_port: u16,
        /// Where to write the join file.
        #[arg(long)]
        out: PathBuf,
    },
    /// Check every join file and write `genesis.json` and `peers.json` into `--out`;
    /// prints the genesis hash, which every organization must be told out of band.
    Assemble {
        /// The hub's chain id.
        #[arg(long)]
        chain_id: String,
        /// A join file; repeat for each organization.
        #[arg(long = "join", required = true)]
        joins: Vec<PathBuf>,
        /// Directory for `genesis.json` and `peers.json`.
        #[arg(long)]
        out: PathBuf,
        /// Genesis time (ms since the Unix epoch); now by default.
        #[arg(long)]
        genesis_time_ms: Option<u64>,
    },
    /// Check a received genesis against the hash you were told and this home's keys, then
    /// install it and the other validators as peers into the home.
    Verify {
        /// This organization's home (from `genesis join`).
        #[arg(long)]
        home: PathBuf,
        /// The genesis received.
        #[arg(long)]
        genesis: PathBuf,
        /// The peers received.
        #[arg(long)]
        peers: PathBuf,
        /// The genesis hash you were told (hex).
        #[arg(long)]
        hash: String,
    },
}

fn read_json<T: serde::de::DeserializeOwned>(path: &PathBuf) -> eyre::Result<T> {
    let text =
        std::fs::read_to_string(path).wrap_err_with(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| eyre!("{} is not valid: {e}", path.display()))
}

fn write_json<T: serde::Serialize>(path: &PathBuf, value: &T) -> eyre::Result<()> {
    std::fs::write(path, serde_json::to_string_pretty(value)?)
        .wrap_err_with(|| format!("writing {}", path.display()))
}

/// Runs one ceremony step.
pub fn run(command: GenesisCommand) -> eyre::Result<()> {
    match command {
        GenesisCommand::Join {
            home,
            chain_id,
            org,
            name,
            listen,
            base_port,
            out,
        } => {
            let h = Home::new(&home);
            ensure_fresh_home(&h, &home)?;
            let chain = ChainId::new(chain_id).map_err(|e| eyre!("--chain-id: {e}"))?;
            let org = OrgId::new(org).map_err(|e| eyre!("--org: {e}"))?;
            let (key, attest, cfg) = fresh_validator(org.as_str(), listen, base_port);
            let member = KeyFile::generate("member");
            h.write_without_genesis(&cfg, &key, &attest)?;
            member.save(&h.keys_dir().join("member.json"))?;
            let join = JoinFile::signed(
                &chain,
                org,
                name,
                &key.private_key().map_err(|e| eyre!(e))?,
                attest.address.clone(),
                &member.private_key().map_err(|e| eyre!(e))?,
                cfg.p2p.listen,
                cfg.gossip.listen,
            );
            write_json(&out, &join)?;
            print_json(&serde_json::json!({
                "home": home,
                "join_file": out,
                "validator_key": join.validator_key,
                "attestation_address": join.attestation_address,
                "member_key": join.member_key,
            }));
            Ok(())
        }
        GenesisCommand::Assemble {
            chain_id,
            joins,
            out,
            genesis_time_ms,
        } => {
            let joins = joins
                .iter()
                .map(read_json::<JoinFile>)
                .collect::<eyre::Result<Vec<_>>>()?;
            let time = genesis_time_ms.unwrap_or_else(junction_hub::node::now_ms);
            let (genesis, peers) =
                ceremony::assemble(&chain_id, time, &joins, GenesisGovernance::local(&[]))?;
            std::fs::create_dir_all(&out)
                .wrap_err_with(|| format!("creating {}", out.display()))?;
            write_json(&out.join("genesis.json"), &genesis)?;
            write_json(&out.join("peers.json"), &peers)?;
            let hash = hex::encode(genesis.hash().map_err(|e| eyre!(e))?);
            print_json(&serde_json::json!({
                "genesis": out.join("genesis.json"),
                "peers": out.join("peers.json"),
                "genesis_hash": hash,
                "validators": genesis.validators.len(),
            }));
            Ok(())
        }
        GenesisCommand::Verify {
            home,
            genesis,
            peers,
            hash,
        } => {
            let h = Home::new(&home);
            let mut cfg = h.load_config()?;
            let genesis = Genesis::load(&genesis)?;
            let peers: Vec<Peer> = read_json(&peers)?;
            let key = KeyFile::load(&h.validator_key_file())?;
            let attest = AttestationKeyFile::load(&h.attestation_key_file())?;
            let member = KeyFile::load(&h.keys_dir().join("member.json"))?;
            let hash = ceremony::verify(
                &genesis,
                Some(&hash),
                &key.public_key,
                &attest.address,
                &member.public_key,
            )?;
            let others: Vec<&Peer> = peers
                .iter()
                .filter(|p| p.validator_key != key.public_key)
                .collect();
            cfg.p2p.persistent_peers = others.iter().map(|p| p.p2p).collect();
            cfg.gossip.peers = others.iter().map(|p| p.gossip).collect::<Vec<SocketAddr>>();
            h.write_config(&cfg)?;
            h.write_genesis(&genesis)?;
            print_json(&serde_json::json!({
                "home": home,
                "genesis_hash": hash,
                "peers": others.len(),
            }));
            Ok(())
        }
    }
}

/// Refuses a home that is already initialized (`init`, `genesis join`).
pub(crate) fn ensure_fresh_home(h: &Home, home: &std::path::Path) -> eyre::Result<()> {
    if h.config_file().exists() {
        return Err(eyre!(
            "{} is already initialized; choose another --home",
            home.display()
        ));
    }
    Ok(())
}

/// A validator's fresh consensus and attestation keys and its configuration, listening on
/// `listen` from `base_port` (`init --genesis`, `genesis join`).
pub(crate) fn fresh_validator(
    moniker: &str,
    listen: std::net::Ipv4Addr,
    base_port: u16,
) -> (KeyFile, AttestationKeyFile, Config) {
    (
        KeyFile::generate(moniker),
        AttestationKeyFile::generate(),
        Config::at(moniker, listen, base_port),
    )
}
