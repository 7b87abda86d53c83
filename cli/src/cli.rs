//! The `junction` command line.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use eyre::{eyre, WrapErr};
use serde_json::json;

use junction_spec::{ChainId, TxKind};

use junction_rpc::methods::{
    NoParams, PacketKeyParams, PacketList, PacketListParams, PacketShow, Status,
};
use junction_rpc::RpcClient;

use crate::send::{key_path, print_json, send_tx, SendArgs};
use junction_hub::config::{
    AttestationKeyFile, Config, Genesis, GenesisGovernance, GenesisValidator, Home, KeyFile,
};

/// Junction: a relay hub for consortium blockchains.
#[derive(Debug, Parser)]
#[command(name = "junction", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Top-level verbs.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a single-validator home directory (config, genesis, validator key).
    Init {
        /// Home directory to create.
        #[arg(long)]
        home: PathBuf,
        /// Chain id of the new hub.
        #[arg(long, default_value = "junction-local")]
        chain_id: String,
        /// Node name.
        #[arg(long, default_value = "node0")]
        moniker: String,
        /// First of the three ports (p2p, gossip, rpc).
        #[arg(long, default_value_t = 26600)]
        base_port: u16,
        /// Join the hub this genesis file starts instead of starting a new one: the home
        /// gets the genesis and fresh validator and attestation keys, and its node follows
        /// the chain until the council adds it (`gov propose` an `add_validator` with the
        /// keys printed).
        #[arg(long)]
        genesis: Option<PathBuf>,
        /// Address the node listens on.
        #[arg(long, default_value = "127.0.0.1")]
        listen: std::net::Ipv4Addr,
        /// Another node to dial, as `ip:base_port` (its p2p port; its gossip port is the
        /// next one). Repeat for each.
        #[arg(long = "peer")]
        peers: Vec<std::net::SocketAddr>,
    },
    /// Run a validator, and beside it the member's attester when `config/attester.toml`
    /// exists in the home (read again whenever it changes).
    Start {
        /// Home directory made by `init` or `testnet init`.
        #[arg(long)]
        home: PathBuf,
        /// Run protocol versions only up to this one (lower than the binary's own): the
        /// node stops, by name, at the height of an upgrade to a later version, as an older
        /// release would. To rehearse an upgrade (`spec/upgrades.md`).
        #[arg(long)]
        max_protocol_version: Option<u32>,
    },
    /// A member's attester on its own (`junction attester start --config attester.toml`):
    /// signs the finalized headers of the attested EVM chains it follows and submits them
    /// to the hub.
    Attester {
        /// What to do.
        #[command(subcommand)]
        command: AttesterCommand,
    },
    /// Local multi-validator networks.
    Testnet {
        /// What to do with the testnet.
        #[command(subcommand)]
        command: TestnetCommand,
    },
    /// Call any RPC method of a node and print its answer (`junction query block
    /// '{"height": 5}'`); the methods are listed in spec/hub-chain.md.
    Query {
        /// Method name.
        method: String,
        /// Parameters, as JSON (`{}` when absent).
        params: Option<String>,
        /// Node RPC endpoint.
        #[arg(long, default_value = "http://127.0.0.1:26602")]
        rpc: String,
    },
    /// Show a node's status.
    Status {
        /// Node RPC endpoint.
        #[arg(long, default_value = "http://127.0.0.1:26602")]
        rpc: String,
    },
    /// The genesis ceremony of a hub run by several organizations: `join` (each), `assemble`
    /// (one), `verify` (each, before starting).
    Genesis {
        /// Ceremony step.
        #[command(subcommand)]
        command: crate::genesis_cli::GenesisCommand,
    },
    /// The external signer of a validator's consensus key.
    Signer {
        /// What to do.
        #[command(subcommand)]
        command: SignerCommand,
    },
    /// Manage account keys in a home directory.
    Keys {
        /// Key operation.
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Sign and send transactions.
    Tx {
        /// Transaction kind.
        #[command(subcommand)]
        command: TxCommand,
    },
    /// Council governance: proposals, votes, the emergency brake.
    Gov {
        /// Governance action.
        #[command(subcommand)]
        command: crate::govcli::GovCommand,
    },
    /// The council's members.
    Council {
        /// Query.
        #[command(subcommand)]
        command: crate::govcli::CouncilCommand,
    },
    /// Registered chains and their light clients.
    Chain {
        /// Query.
        #[command(subcommand)]
        command: crate::govcli::RegistryCommand,
    },
    /// Routes between chains.
    Route {
        /// Query.
        #[command(subcommand)]
        command: crate::govcli::RegistryCommand,
    },
    /// Attest an EVM header with a council member's attester key: prints the attested
    /// fields, the digest and the 65-byte signature (what an `Attest` transaction carries).
    Attest {
        /// EVM JSON-RPC endpoint (127.0.0.1).
        #[arg(long)]
        rpc: String,
        /// EIP-155 chain id the council registered.
        #[arg(long)]
        evm_chain_id: u64,
        /// Block number (default: latest).
        #[arg(long)]
        height: Option<u64>,
        /// File holding the attester's secp256k1 key as hex.
        #[arg(long)]
        key_file: PathBuf,
    },
    /// Relay packets between chains through the hub.
    /// Run the relayer (`junction relay --config relayer.toml`), or ask a running one
    /// (`junction relay status --config relayer.toml`).
    #[command(args_conflicts_with_subcommands = true)]
    Relay {
        /// The relayer's configuration (`relayer.toml`).
        #[arg(long)]
        config: Option<PathBuf>,
        /// A question for the running relayer.
        #[command(subcommand)]
        command: Option<RelayCommand>,
    },
    /// Adapters of chains: the conformance kit.
    Adapter {
        /// What to do.
        #[command(subcommand)]
        command: AdapterCommand,
    },
    /// Packets on the hub: lifecycle and pending lists.
    Packet {
        /// Query.
        #[command(subcommand)]
        command: PacketCommand,
    },
    /// Benchmarks.
    Bench {
        /// Which benchmark.
        #[command(subcommand)]
        command: BenchCommand,
    },
}

/// `packet` verbs.
#[derive(Debug, Subcommand)]
pub enum PacketCommand {
    /// A packet's lifecycle on the hub (by packet key hash).
    Show {
        /// Packet key hash (hex).
        key: junction_rpc::Hex32,
        /// Node RPC endpoint.
        #[arg(long, default_value = "http://127.0.0.1:26602")]
        rpc: String,
        /// A running relayer's `metrics_listen` address (e.g. `127.0.0.1:26690`): also
        /// show why that relayer has not moved the packet on.
        #[arg(long)]
        relayer: Option<String>,
    },
    /// Deliver a packet's newest hub log entry to the chain it targets by hand (e.g. with
    /// more gas than the estimate), as the relayer configuration serves that chain.
    Deliver {
        /// Packet key hash (hex).
        key: junction_rpc::Hex32,
        /// The relayer configuration serving the target chain (`relayer.toml`).
        #[arg(long)]
        config: PathBuf,
        /// Gas for the delivery, sent as it is (not run first).
        #[arg(long)]
        gas: Option<u64>,
    },
    /// Park a packet the hub logged that can never be delivered, with the reason, signed
    /// by the relayer's account: relayers leave its delivery alone, and its outcome comes
    /// by the protocol's rules (it times out).
    Park {
        /// Packet key hash (hex).
        key: junction_rpc::Hex32,
        /// Why (shown by `packet show` and in the hub's event).
        #[arg(long)]
        reason: String,
        /// The relayer configuration whose account signs (`relayer.toml`).
        #[arg(long)]
        config: PathBuf,
    },
    /// Packets the hub holds, filtered by route and state.
    List {
        /// Route id.
        #[arg(long)]
        route: Option<String>,
        /// `pending`, `ack`, `error_ack` or `timeout`.
        #[arg(long)]
        state: Option<String>,
        /// At most this many (1,000 at most).
        #[arg(long)]
        limit: Option<u64>,
        /// The page after this cursor (the `next` of the previous page).
        #[arg(long)]
        after: Option<junction_rpc::HexBytes>,
        /// Node RPC endpoint.
        #[arg(long, default_value = "http://127.0.0.1:26602")]
        rpc: String,
    },
}

/// External signer commands.
#[derive(Debug, Subcommand)]
pub enum SignerCommand {
    /// Serve the consensus key of `--key` on the Unix socket `--socket`, refusing to sign
    /// twice at one height, round and step; what it signed last is kept in `--state`
    /// (spec/signer.md). Point the node's `[signer] socket` at the same path.
    Start {
        /// The validator key file (0600).
        #[arg(long)]
        key: PathBuf,
        /// The state file (made on first use; never delete it).
        #[arg(long)]
        state: PathBuf,
        /// The socket path.
        #[arg(long)]
        socket: PathBuf,
    },
}

/// `testnet` verbs.
#[derive(Debug, Subcommand)]
pub enum TestnetCommand {
    /// Write N validator homes with one genesis and non-clashing loopback ports.
    Init {
        /// Number of validators.
        #[arg(long, default_value_t = 4)]
        validators: usize,
        /// Output directory (one `nodeI` home per validator).
        #[arg(long)]
        out: PathBuf,
        /// Chain id.
        #[arg(long, default_value = "junction-local")]
        chain_id: String,
        /// First port to try; each validator takes three.
        #[arg(long, default_value_t = 26600)]
        base_port: u16,
        /// 2: two hubs, `hub-a` and `hub-b`, each with `--validators` validators of its own
        /// (`<out>/hub-a/nodeI`, `<out>/hub-b/nodeI`); `--chain-id` is not used.
        #[arg(long, default_value_t = 1)]
        hubs: usize,
    },
    /// Start and supervise every validator of a testnet directory until Ctrl-C.
    Start {
        /// Directory made by `testnet init`.
        dir: PathBuf,
        /// Also start this many local EVM chains (anvil) with gateways, register them and
        /// routes between them by council vote, start a relayer and send one packet
        /// round trip. With `--hubs 2`, any value above 0 starts one chain under each hub
        /// (`evm-a` under `hub-a`, `evm-b` under `hub-b`), links the hubs by their
        /// councils' votes, starts a relayer per hub and the bridge between them, and sends
        /// a round trip each way.
        #[arg(long, default_value_t = 0)]
        evm: usize,
        /// 2: the directory was made by `testnet init --hubs 2`; start both hubs.
        #[arg(long, default_value_t = 1)]
        hubs: usize,
        /// Serve this EVM chain (e.g. `evm-b`) through the reference adapter plugin in
        /// Python (`adapters/plugins/evm-python`, set up by `scripts/setup-plugin.sh`)
        /// instead of the built-in adapter. Run from the repository's root.
        #[arg(long)]
        plugin_chain: Option<String>,
    },
    /// Start EVM chains for a running testnet (anvil sealed as QBFT chains, gateways and
    /// routes registered by council vote, a relayer) and send a packet between the first two every interval,
    /// printing a JSON line per packet sent and per outcome, until SIGTERM; then wait for
    /// the missing outcomes and print how many never came.
    Traffic {
        /// Directory holding the validators' homes (`nodeI`).
        dir: PathBuf,
        /// Chains to start (at least 2).
        #[arg(long, default_value_t = 2)]
        chains: usize,
        /// Milliseconds between packets.
        #[arg(long, default_value_t = 2_000)]
        every_ms: u64,
        /// Seconds to wait for missing outcomes once stopped.
        #[arg(long, default_value_t = 60)]
        drain_secs: u64,
    },
    /// Serve a Tendermint, Fabric or Bitcoin fixture ledger (built from the light clients'
    /// test kits, holding the packets of `--spec`) to a relayer over the `ledger_rpc`
    /// protocol, until stopped. For tests of kinds no local node exists for.
    FixtureLedger {
        /// JSON: `{"kind", "chain", "seed", "block_ms", "packets": [hex, ...]}`.
        #[arg(long)]
        spec: PathBuf,
        /// Where to listen (127.0.0.1 only; port 0 picks one).
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: std::net::SocketAddr,
        /// Written once listening: the endpoint and the trust root to register.
        #[arg(long)]
        ready: PathBuf,
    },
}

/// `keys` verbs.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a new account key.
    Add(KeyArgs),
    /// List account keys.
    List {
        /// Home directory.
        #[arg(long)]
        home: PathBuf,
    },
    /// Show one key's public key and address.
    Show(KeyArgs),
    /// Replace a member's account key (`--from`, `member` by default) by a fresh one: the
    /// old key signs the rotation, the new key takes its file name and the old file is kept
    /// as `<name>.rotated-<ms>.json`.
    Rotate(crate::send::SendArgs),
    /// Move this home's validator to fresh consensus and attestation keys: the current
    /// consensus key signs `RotateValidatorKeys`; the new keys are written beside the old
    /// ones as `config/*.next.json`. They sign from two heights after the printed height:
    /// then stop the node, move the `.next` files over the old ones and start it again.
    RotateValidator {
        /// Home directory.
        #[arg(long)]
        home: PathBuf,
        /// Node RPC endpoint.
        #[arg(long, default_value = "http://127.0.0.1:26602")]
        rpc: String,
    },
    /// Move this member's attester to a fresh secp256k1 key on every chain it attests (or
    /// those named by `--chain`): one transaction per chain from the attester's account,
    /// signed by the old and the new key. The new key is kept as `<key>.next.json` until
    /// every chain holds it (run again to go on after a failure), then replaces the key
    /// file; the old one is kept as `<key>.rotated-<ms>.json`. A running attester picks
    /// the new key up by itself.
    RotateAttester {
        /// The attester's configuration (`attester.toml`); by default the one in
        /// `--home`'s `config/`.
        #[arg(long, conflicts_with = "home")]
        config: Option<PathBuf>,
        /// A member node's home whose `config/attester.toml` to use.
        #[arg(long)]
        home: Option<PathBuf>,
        /// Only these chains (repeatable).
        #[arg(long = "chain")]
        chains: Vec<String>,
    },
}

/// A named key in a home.
#[derive(Debug, Args)]
pub struct KeyArgs {
    /// Key name.
    pub name: String,
    /// Home directory.
    #[arg(long)]
    pub home: PathBuf,
}

/// `tx` verbs.
#[derive(Debug, Subcommand)]
pub enum TxCommand {
    /// Store a remark under the sender's account.
    Remark {
        /// Remark text.
        data: String,
        /// Key name in `<home>/keys`.
        #[arg(long)]
        from: String,
        /// Home directory holding the key and the genesis (for the chain id).
        #[arg(long)]
        home: PathBuf,
        /// Node RPC endpoint.
        #[arg(long, default_value = "http://127.0.0.1:26602")]
        rpc: String,
        /// Return once admitted instead of waiting for the block.
        #[arg(long)]
        no_wait: bool,
    },
}

/// `bench` verbs.
/// Attester verbs.
#[derive(Debug, Subcommand)]
pub enum AttesterCommand {
    /// Run the attester until the process stops.
    Start {
        /// Its configuration (`attester.toml`); waited for while absent.
        #[arg(long)]
        config: PathBuf,
    },
}

/// `adapter` verbs.
#[derive(Debug, Subcommand)]
pub enum AdapterCommand {
    /// Run the conformance kit against one chain's adapter and print its table of named
    /// checks; exits non-zero when one fails. The adapter is the chain's in `relayer.toml`
    /// (`--config F --chain C`), or the plugin after `--` (`--chain C -- <command>...`).
    Test {
        /// The chain (its id on the hub).
        #[arg(long)]
        chain: String,
        /// A relayer configuration naming the chain's adapter (and the hub).
        #[arg(long)]
        config: Option<PathBuf>,
        /// The hub's RPC, for a plugin given by its command: the entries it logged for the
        /// chain are delivered again, to see one result per entry.
        #[arg(long)]
        hub_rpc: Option<String>,
        /// The plugin's program and arguments.
        #[arg(last = true)]
        command: Vec<String>,
    },
}

/// Questions for a running relayer.
#[derive(Debug, Subcommand)]
pub enum RelayCommand {
    /// What the running relayer reports: entries stuck on a gateway (with the reason and
    /// when they are retried), packets the hub refused for now, the backlog per chain. It
    /// asks the relayer's `metrics_listen` address.
    Status {
        /// The relayer's configuration (`relayer.toml`).
        #[arg(long)]
        config: PathBuf,
    },
    /// Carry entries between two Junction hubs (`junction relay hubs --config hubs.toml`):
    /// what each logged for a chain under the other, proven to the other.
    Hubs {
        /// The bridge's configuration (`hubs.toml`: each hub's rpc, chain id and the key
        /// file of a relayer account registered there).
        #[arg(long)]
        config: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Start a local network and measure block time, throughput and commit latency.
    Chain {
        /// Validators to start.
        #[arg(long, default_value_t = 4)]
        validators: usize,
        /// Seconds of load.
        #[arg(long, default_value_t = 20)]
        seconds: u64,
        /// Sending accounts.
        #[arg(long, default_value_t = 64)]
        accounts: usize,
        /// Offered load in transactions per second (0: as fast as the nodes accept).
        #[arg(long, default_value_t = 0)]
        rate: u64,
        /// Seconds the network first sits idle (blocks made and disk grown idle; 0: none).
        #[arg(long, default_value_t = 60)]
        idle_seconds: u64,
        /// The nodes' `idle_block_interval_ms` (their default when absent; 0: an empty
        /// block every `target_block_time_ms`, as before the idle rule).
        #[arg(long)]
        idle_interval_ms: Option<u64>,
    },
    /// The hub alone under verified relayer load (no anvil): validators whose genesis
    /// registers two attested EVM chains; the benchmark signs attested headers and proves
    /// packets with real MPT storage proofs as registered relayers. Packets per second,
    /// block time, admission and execution per packet and RSS after each checkpoint of
    /// packets already logged.
    Hub {
        /// Validators to start.
        #[arg(long, default_value_t = 4)]
        validators: usize,
        /// Relayer accounts (each has its own rate-limit bucket on the hub).
        #[arg(long, default_value_t = 4)]
        relayers: usize,
        /// Packets in each measured window.
        #[arg(long, default_value_t = 10_000)]
        window: u64,
        /// Packets already logged before each measured window (comma-separated).
        #[arg(long, value_delimiter = ',', default_value = "0,10000,100000")]
        checkpoints: Vec<u64>,
    },
    /// Route-policy checks per second and tally time by council size.
    Governance,
    /// Light-client verifications per second on one core, beside their primitive floors.
    Verify {
        /// Milliseconds spent measuring each figure.
        #[arg(long, default_value_t = 1000)]
        millis: u64,
    },
    /// The whole path on real processes: validators, two anvil chains, `junction relay`;
    /// one-way and round-trip latency, packets per second, gas per delivered packet.
    E2e {
        /// Packets sent back to back in the throughput phase.
        #[arg(long, default_value_t = 1000)]
        packets: usize,
        /// Packets sent one at a time (each after the previous ack) for latency.
        #[arg(long, default_value_t = 20)]
        latency_samples: usize,
        /// Hub validators.
        #[arg(long, default_value_t = 4)]
        validators: usize,
        /// Anvil block time in seconds, fractions allowed (0: automine, a block per
        /// transaction).
        #[arg(long, default_value_t = 1.0)]
        block_time: f64,
        /// The relayer's pause between cycles, in ms.
        #[arg(long, default_value_t = 300)]
        relayer_poll_ms: u64,
        /// The relayer's most log entries per gateway `deliver`.
        #[arg(long, default_value_t = 100)]
        max_batch: usize,
        /// How often the benchmark polls both chains for events, in ms.
        #[arg(long, default_value_t = 20)]
        watch_ms: u64,
        /// Give up on a phase after this many seconds.
        #[arg(long, default_value_t = 300)]
        timeout: u64,
        /// Keep the temporary directory (node and relayer logs).
        #[arg(long)]
        keep: bool,
        /// 2: the hub-to-hub path. Two hubs of `--validators` each, an anvil chain under
        /// each, a relayer per hub and the bridge; packets go from `evm-a` under `hub-a`
        /// to `evm-b` under `hub-b` and their acks come back the same way.
        #[arg(long, default_value_t = 1)]
        hubs: usize,
        /// Serve the destination chain (`evm-b`) through the reference adapter plugin in
        /// Python instead of the built-in adapter (run from the repository's root, after
        /// `scripts/setup-plugin.sh`): the plugin protocol's cost per packet.
        #[arg(long)]
        plugin_chain: bool,
        /// The hub nodes' `idle_block_interval_ms` (their default when absent; 0: the
        /// idle rule off), to see its cost in latency.
        #[arg(long)]
        idle_interval_ms: Option<u64>,
    },
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> eyre::Result<()> {
    match cli.command {
        Command::Init {
            home,
            chain_id,
            moniker,
            base_port,
            genesis,
            listen,
            peers,
        } => {
            let h = Home::new(&home);
            crate::genesis_cli::ensure_fresh_home(&h, &home)?;
            if let Some(path) = genesis {
                let genesis = Genesis::load(&path)?;
                let (key, attest, mut cfg) = crate::genesis_cli::fresh_validator(&moniker, listen, base_port);
                for p in &peers {
                    cfg.p2p.persistent_peers.push(*p);
                    let mut gossip = *p;
                    gossip.set_port(p.port().saturating_add(1));
                    cfg.gossip.peers.push(gossip);
                }
                h.write(&cfg, &genesis, &key, &attest)?;
                print_json(&serde_json::json!({
                    "home": home,
                    "chain_id": genesis.chain_id,
                    "pub_key": key.public_key,
                    "attestation_address": attest.address,
                    "rpc": cfg.rpc.listen.to_string(),
                }));
                return Ok(());
            }
            ChainId::new(chain_id.clone()).map_err(|e| eyre!("--chain-id: {e}"))?;
            let key = KeyFile::generate("validator0");
            let attest = AttestationKeyFile::generate();
            let member = KeyFile::generate("member");
            let genesis = Genesis {
                chain_id,
                genesis_time_ms: junction_hub::node::now_ms(),
                validators: vec![GenesisValidator {
                    name: key.name.clone(),
                    pub_key: key.public_key.clone(),
                    power: 10,
                    attestation_address: attest.address.clone(),
                }],
                governance: GenesisGovernance::local(std::slice::from_ref(&member)),
            };
            let cfg = Config::local(&moniker, base_port);
            h.write(&cfg, &genesis, &key, &attest)?;
            member.save(&h.keys_dir().join("member.json"))?;
            println!(
                "initialized {} (rpc http://{})",
                home.display(),
                cfg.rpc.listen
            );
            Ok(())
        }
        Command::Start {
            home,
            max_protocol_version,
        } => {
            let attester = Home::new(&home).config_file().with_file_name("attester.toml");
            tokio::select! {
                r = junction_hub::start::run_with(Home::new(home), max_protocol_version) => r,
                r = junction_attester::run(attester) => r,
            }
        }
        Command::Attester {
            command: AttesterCommand::Start { config },
        } => junction_attester::run(config).await,
        Command::Testnet { command } => match command {
            TestnetCommand::Init {
                validators,
                out,
                chain_id,
                base_port,
                hubs,
            } => {
                let hub_urls = match hubs {
                    1 => vec![(out.clone(), junction_devtools::testnet::init(&out, validators, &chain_id, base_port)?)],
                    2 => {
                        let [a, b] = junction_devtools::testnet::init_two_hubs(&out, validators, base_port)?;
                        vec![
                            (junction_devtools::hubnet::hub_dir(&out, 0), a),
                            (junction_devtools::hubnet::hub_dir(&out, 1), b),
                        ]
                    }
                    _ => return Err(eyre!("--hubs must be 1 or 2")),
                };
                for (dir, urls) in hub_urls {
                    println!("wrote {validators} validator homes to {}", dir.display());
                    for (i, u) in urls.iter().enumerate() {
                        println!("  node{i}: rpc {u}");
                    }
                }
                Ok(())
            }
            TestnetCommand::Start {
                dir,
                evm,
                hubs,
                plugin_chain,
            } => {
                let plugin = match plugin_chain {
                    Some(chain) => Some((
                        chain,
                        junction_devtools::evmnet::reference_plugin(&std::env::current_dir()?)?,
                    )),
                    None => None,
                };
                junction_devtools::testnet::supervise(&dir, evm, hubs, plugin).await
            }
            TestnetCommand::Traffic {
                dir,
                chains,
                every_ms,
                drain_secs,
            } => {
                junction_devtools::testnet::traffic(
                    &dir,
                    chains,
                    std::time::Duration::from_millis(every_ms),
                    std::time::Duration::from_secs(drain_secs),
                )
                .await
            }
            TestnetCommand::FixtureLedger {
                spec,
                listen,
                ready,
            } => junction_devtools::fixture_ledger::serve(&spec, listen, &ready).await,
        },
        Command::Relay { config, command } => match (command, config) {
            (Some(RelayCommand::Status { config }), _) => {
                print_json(&junction_relayer::status(&config).await?);
                Ok(())
            }
            (Some(RelayCommand::Hubs { config }), _) => {
                junction_relayer::hub_bridge::run(&config).await
            }
            (None, Some(config)) => junction_relayer::run(&config).await,
            (None, None) => Err(eyre!(
                "junction relay needs --config relayer.toml (or `junction relay status --config relayer.toml`)"
            )),
        },
        Command::Adapter {
            command:
                AdapterCommand::Test {
                    chain,
                    config,
                    hub_rpc,
                    command,
                },
        } => {
            let report = adapter_test(&chain, config.as_deref(), hub_rpc, command).await?;
            print!("{}", report.table());
            if report.passed() {
                Ok(())
            } else {
                Err(eyre!("failed: {}", report.failed().join(", ")))
            }
        }
        Command::Attest {
            rpc,
            evm_chain_id,
            height,
            key_file,
        } => {
            let v = attest(&rpc, evm_chain_id, height, &key_file).await?;
            print_json(&v);
            Ok(())
        }
        Command::Packet { command } => {
            match command {
                PacketCommand::Show { key, rpc, relayer } => {
                    let hub = RpcClient::new(rpc)
                        .call::<PacketShow>(&PacketKeyParams { key })
                        .await?;
                    match relayer {
                        None => print_json(&hub),
                        Some(addr) => {
                            let relayer = junction_relayer::packet_reason(&addr, &key.0).await?;
                            print_json(&serde_json::json!({"hub": hub, "relayer": relayer}));
                        }
                    }
                }
                PacketCommand::Park {
                    key,
                    reason,
                    config,
                } => {
                    print_json(&junction_relayer::park_packet(&config, key.0, &reason).await?);
                }
                PacketCommand::Deliver { key, config, gas } => {
                    print_json(&junction_relayer::deliver_packet(&config, key.0, gas).await?);
                }
                PacketCommand::List {
                    route,
                    state,
                    limit,
                    after,
                    rpc,
                } => {
                    print_json(
                        &RpcClient::new(rpc)
                            .call::<PacketList>(&PacketListParams {
                                route,
                                state,
                                limit,
                                after,
                            })
                            .await?,
                    );
                }
            }
            Ok(())
        }
        Command::Query {
            method,
            params,
            rpc,
        } => {
            let params: serde_json::Value = match params {
                Some(p) => serde_json::from_str(&p).map_err(|e| eyre!("params are not JSON: {e}"))?,
                None => json!({}),
            };
            print_json(&RpcClient::new(rpc).call_named(&method, &params).await?);
            Ok(())
        }
        Command::Status { rpc } => {
            let s = RpcClient::new(rpc).call::<Status>(&NoParams {}).await?;
            print_json(&s);
            Ok(())
        }
        Command::Keys { command } => match command {
            KeysCommand::Add(a) => {
                let path = key_path(&a.home, &a.name);
                if path.exists() {
                    return Err(eyre!(
                        "key `{}` already exists at {}",
                        a.name,
                        path.display()
                    ));
                }
                std::fs::create_dir_all(Home::new(&a.home).keys_dir())
                    .wrap_err("creating the keys directory")?;
                let k = KeyFile::generate(&a.name);
                k.save(&path)?;
                print_json(
                    &json!({"name": k.name, "public_key": k.public_key, "address": k.address}),
                );
                Ok(())
            }
            KeysCommand::List { home } => {
                let dir = Home::new(&home).keys_dir();
                let rd = std::fs::read_dir(&dir)
                    .wrap_err_with(|| format!("no keys directory at {}", dir.display()))?;
                let mut names: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
                names.sort();
                for p in names {
                    if p.extension().is_some_and(|e| e == "json") {
                        let k = KeyFile::load(&p)?;
                        println!("{}\t{}", k.name, k.address);
                    }
                }
                Ok(())
            }
            KeysCommand::Rotate(send) => {
                let path = key_path(&send.home, &send.from);
                let old = KeyFile::load(&path)?;
                let new = KeyFile::generate(&send.from);
                let new_key: [u8; 32] = hex::decode(&new.public_key)
                    .ok()
                    .and_then(|b| b.try_into().ok())
                    .ok_or_else(|| eyre!("the new key did not encode"))?;
                let r = send_tx(&send, TxKind::RotateKey { new_key }).await?;
                if let Some(junction_rpc::methods::TxResult::Failed { failed, message }) =
                    &r.result
                {
                    return Err(eyre!("the hub refused the rotation ({failed}): {message}"));
                }
                let kept = path.with_file_name(format!(
                    "{}.rotated-{}.json",
                    send.from,
                    junction_hub::node::now_ms()
                ));
                std::fs::rename(&path, &kept)
                    .wrap_err_with(|| format!("keeping the old key as {}", kept.display()))?;
                new.save(&path)?;
                print_json(&json!({
                    "name": send.from,
                    "old_public_key": old.public_key,
                    "new_public_key": new.public_key,
                    "height": r.height,
                    "old_key_kept_as": kept,
                }));
                Ok(())
            }
            KeysCommand::RotateValidator { home, rpc } => {
                let h = Home::new(&home);
                let current = KeyFile::load(&h.validator_key_file())?
                    .private_key()
                    .map_err(|e| eyre!("{}: {e}", h.validator_key_file().display()))?;
                let next_key = KeyFile::generate("validator");
                let next_attest = AttestationKeyFile::generate();
                let key_next = h.validator_key_file().with_extension("next.json");
                let attest_next = h.attestation_key_file().with_extension("next.json");
                next_key.save(&key_next)?;
                next_attest.save(&attest_next)?;
                let new_key: [u8; 32] = hex::decode(&next_key.public_key)
                    .ok()
                    .and_then(|b| b.try_into().ok())
                    .ok_or_else(|| eyre!("the new key did not encode"))?;
                let new_attestation_address: [u8; 20] =
                    hex::decode(next_attest.address.trim_start_matches("0x"))
                        .ok()
                        .and_then(|b| b.try_into().ok())
                        .ok_or_else(|| eyre!("the new attestation address did not encode"))?;
                let r = crate::send::send_signed(
                    &current,
                    &home,
                    &rpc,
                    TxKind::RotateValidatorKeys {
                        new_key,
                        new_attestation_address,
                    },
                )
                .await?;
                if let Some(junction_rpc::methods::TxResult::Failed { failed, message }) =
                    &r.result
                {
                    return Err(eyre!("the hub refused the rotation ({failed}): {message}"));
                }
                print_json(&json!({
                    "height": r.height,
                    "new_keys_sign_from": r.height.map(|h| h + 2),
                    "new_validator_key": key_next,
                    "new_attestation_key": attest_next,
                }));
                Ok(())
            }
            KeysCommand::RotateAttester {
                config,
                home,
                chains,
            } => {
                let path = match (config, home) {
                    (Some(c), _) => c,
                    (None, Some(h)) => Home::new(&h).config_file().with_file_name("attester.toml"),
                    (None, None) => return Err(eyre!("give --config or --home")),
                };
                let config = junction_attester::AttesterConfig::load(&path)?;
                let report = junction_attester::rotate_key(&config, &chains).await?;
                print_json(&report);
                Ok(())
            }
            KeysCommand::Show(a) => {
                let k = KeyFile::load(&key_path(&a.home, &a.name))?;
                print_json(
                    &json!({"name": k.name, "public_key": k.public_key, "address": k.address}),
                );
                Ok(())
            }
        },
        Command::Tx { command } => match command {
            TxCommand::Remark {
                data,
                from,
                home,
                rpc,
                no_wait,
            } => {
                let send = SendArgs {
                    from,
                    home,
                    rpc,
                    no_wait,
                };
                let r = send_tx(
                    &send,
                    TxKind::Remark {
                        data: data.into_bytes(),
                    },
                )
                .await?;
                print_json(&r);
                Ok(())
            }
        },
        Command::Genesis { command } => crate::genesis_cli::run(command),
        Command::Signer {
            command: SignerCommand::Start { key, state, socket },
        } => {
            let key = KeyFile::load(&key)?
                .private_key()
                .map_err(|e| eyre!("{}: {e}", key.display()))?;
            let signer = junction_signer::server::Signer::open(key, &state).map_err(|e| eyre!(e))?;
            junction_signer::server::serve(&socket, signer)
                .await
                .wrap_err_with(|| format!("serving on {}", socket.display()))
        }
        Command::Gov { command } => crate::govcli::run_gov(command).await,
        Command::Council { command } => crate::govcli::run_council(command).await,
        Command::Chain { command } => crate::govcli::run_chain(command).await,
        Command::Route { command } => crate::govcli::run_route(command).await,
        Command::Bench { command } => match command {
            BenchCommand::Chain {
                validators,
                seconds,
                accounts,
                rate,
                idle_seconds,
                idle_interval_ms,
            } => {
                junction_devtools::bench::chain(
                    validators,
                    seconds,
                    accounts,
                    rate,
                    idle_seconds,
                    idle_interval_ms,
                )
                .await
            }
            BenchCommand::Hub {
                validators,
                relayers,
                window,
                checkpoints,
            } => {
                junction_devtools::bench_hub::hub(validators, relayers, window, &checkpoints).await
            }
            BenchCommand::Governance => junction_devtools::bench::governance(),
            BenchCommand::Verify { millis } => junction_devtools::bench_verify::verify(millis),
            BenchCommand::E2e {
                packets,
                latency_samples,
                validators,
                block_time,
                relayer_poll_ms,
                max_batch,
                watch_ms,
                timeout,
                keep,
                hubs,
                plugin_chain,
                idle_interval_ms,
            } => {
                let plugin = if plugin_chain {
                    Some(junction_devtools::evmnet::reference_plugin(
                        &std::env::current_dir()?,
                    )?)
                } else {
                    None
                };
                junction_devtools::bench_e2e::e2e(junction_devtools::bench_e2e::E2eOptions {
                    plugin,
                    hubs,
                    validators,
                    packets,
                    latency_samples,
                    block_time_secs: block_time,
                    relayer_poll_ms,
                    max_batch,
                    watch_ms,
                    timeout_secs: timeout,
                    keep,
                    idle_interval_ms,
                })
                .await
            }
        },
    }
}

/// `junction attest`: fetch a header, check its hash, sign its attested fields.
async fn attest(
    rpc: &str,
    evm_chain_id: u64,
    height: Option<u64>,
    key_file: &std::path::Path,
) -> eyre::Result<serde_json::Value> {
    use alloy::providers::{Provider, ProviderBuilder};
    use junction_light_clients::evm::attested::{
        attest_from_rlp, attestation_digest, sign_attested_header,
    };
    if !rpc.starts_with("http://127.0.0.1") {
        return Err(eyre!("--rpc must be a 127.0.0.1 endpoint"));
    }
    // A key file (`{"private_key", "address"}`, as the relayer's), or a bare hex secret.
    let text = std::fs::read_to_string(key_file)
        .map_err(|e| eyre!("reading {}: {e}", key_file.display()))?;
    let key = match serde_json::from_str::<junction_hub::config::AttestationKeyFile>(&text) {
        Ok(file) => file
            .signing_key()
            .map_err(|e| eyre!("{}: {e}", key_file.display()))?,
        Err(_) => {
            let bytes = hex::decode(text.trim().trim_start_matches("0x"))
                .map_err(|e| eyre!("{}: neither a key file nor hex: {e}", key_file.display()))?;
            k256::ecdsa::SigningKey::from_slice(&bytes)
                .map_err(|e| eyre!("{}: not a secp256k1 key: {e}", key_file.display()))?
        }
    };
    let provider =
        ProviderBuilder::new().connect_http(rpc.parse().map_err(|e| eyre!("--rpc {rpc}: {e}"))?);
    let chain = provider.get_chain_id().await?;
    if chain != evm_chain_id {
        return Err(eyre!("the node serves chain {chain}, not {evm_chain_id}"));
    }
    let number = match height {
        Some(h) => h,
        None => provider.get_block_number().await?,
    };
    let block = provider
        .get_block_by_number(number.into())
        .await?
        .ok_or_else(|| eyre!("no block {number}"))?;
    let rlp = junction_adapters::evm::adapter::checked_header_rlp(number, &block.header)
        .map_err(|e| eyre!("{}: {e}", e.name()))?;
    let header = attest_from_rlp(evm_chain_id, &rlp).map_err(|e| eyre!("{e}"))?;
    let signature = sign_attested_header(&key, &header).map_err(|e| eyre!("{e}"))?;
    let signer = junction_light_clients::hub::eth_address(key.verifying_key());
    Ok(json!({
        "evm_chain_id": header.chain_id,
        "number": header.number,
        "hash": hex::encode(header.hash),
        "parent_hash": hex::encode(header.parent_hash),
        "state_root": hex::encode(header.state_root),
        "receipts_root": hex::encode(header.receipts_root),
        "timestamp": header.timestamp,
        "digest": hex::encode(attestation_digest(&header)),
        "signature": hex::encode(signature),
        "attester": format!("0x{}", hex::encode(signer)),
    }))
}

/// The conformance kit against the chain's adapter: the plugin `command`, or what
/// `config` names for the chain.
async fn adapter_test(
    chain: &str,
    config: Option<&std::path::Path>,
    hub_rpc: Option<String>,
    command: Vec<String>,
) -> eyre::Result<junction_conformance::Report> {
    use junction_adapters::plugin::PluginProcess;
    use junction_adapters::plugin_adapter::PluginAdapter;
    use junction_conformance::{not_started, run, Subject};
    use junction_relayer::{AdapterChoice, RelayerConfig};

    let id = junction_spec::ChainId::new(chain).map_err(|e| eyre!("chain id {chain}: {e}"))?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (chain_config, hub_rpc) = match config {
        Some(path) => {
            let loaded = RelayerConfig::load(path)?;
            let hub = hub_rpc.unwrap_or_else(|| loaded.hub_rpc.clone());
            let c = loaded
                .chains
                .into_iter()
                .find(|c| c.id == chain)
                .ok_or_else(|| eyre!("{} names no chain {chain}", path.display()))?;
            (Some(c), Some(hub))
        }
        None => (None, hub_rpc),
    };
    // Entries the hub logged for the chain, when there is a hub to ask.
    let logged = match &hub_rpc {
        Some(rpc) => junction_relayer::logged_entries(rpc, &id, 8).await?,
        None => None,
    };
    let command = match (&chain_config, command.is_empty()) {
        (Some(c), true) if c.adapter == AdapterChoice::Plugin => c.command.clone(),
        (Some(c), true) => {
            let adapter = match c.adapter {
                AdapterChoice::Evm => junction_relayer::evm_adapter(c).await?,
                _ => return Err(eyre!("the kit tests evm and plugin adapters")),
            };
            return Ok(run(Subject::BuiltIn(&adapter), now, logged).await);
        }
        (None, false) => command,
        (Some(_), false) => return Err(eyre!("give --config or a plugin command, not both")),
        (None, true) => return Err(eyre!("give --config relayer.toml or `-- <plugin command>`")),
    };
    let process = PluginProcess::new(chain, command).map_err(|e| eyre!("{}: {e}", e.name()))?;
    match PluginAdapter::start(id, process).await {
        Ok(plugin) => Ok(run(Subject::Plugin(&plugin), now, logged).await),
        Err(e) => Ok(not_started(&format!("{}: {e}", e.name()))),
    }
}
