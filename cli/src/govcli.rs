//! `junction gov|council|chain|route`: governance transactions and registry queries.

use std::path::{Path, PathBuf};

use clap::Subcommand;
use eyre::{eyre, WrapErr};

use junction_spec::gov::{OrgId, ProposalKind, RouteId, RoutePolicy, VoteOption};
use junction_spec::{ChainId, TxKind};

use crate::send::{print_json, send_tx, SendArgs};
use junction_rpc::methods::{
    ChainList, ChainShow, ClientStateParams, CouncilList, GetClientState, GovList, GovShow, Method,
    NoParams, ProposalId, RouteList, RouteShow, TextId,
};
use junction_rpc::RpcClient;

/// `gov` verbs.
#[derive(Debug, Subcommand)]
pub enum GovCommand {
    /// Submit a proposal.
    Propose {
        /// What to propose.
        #[command(subcommand)]
        what: ProposeCommand,
    },
    /// Vote on a proposal: yes, no, abstain or veto.
    Vote {
        /// Proposal id.
        id: u64,
        /// yes | no | abstain | veto.
        option: VoteOption,
        /// Signer and node.
        #[command(flatten)]
        send: SendArgs,
    },
    /// Sign the emergency pause of a route (takes effect at 1/3 of the weight, or a regulator).
    EmergencyPause {
        /// Route id.
        route: String,
        /// Signer and node.
        #[command(flatten)]
        send: SendArgs,
    },
    /// Sign the emergency freeze of a chain's light client.
    EmergencyFreeze {
        /// Chain id.
        chain: String,
        /// Signer and node.
        #[command(flatten)]
        send: SendArgs,
    },
    /// List proposals.
    List {
        /// Node RPC endpoint.
        #[arg(long, default_value = "http://127.0.0.1:26602")]
        rpc: String,
    },
    /// A proposal with its tally so far, votes, time left and timelock.
    Show {
        /// Proposal id.
        id: u64,
        /// Node RPC endpoint.
        #[arg(long, default_value = "http://127.0.0.1:26602")]
        rpc: String,
    },
}

/// Options shared by every proposal.
#[derive(Debug, Clone, clap::Args)]
pub struct ProposalArgs {
    /// Expedited: shorter voting period, higher threshold.
    #[arg(long)]
    pub expedited: bool,
    /// Deposit offered.
    #[arg(long, default_value_t = 0)]
    pub deposit: u128,
    /// Signer and node.
    #[command(flatten)]
    pub send: SendArgs,
}

/// Proposal kinds with their own flags; any kind can also come from a TOML file.
#[derive(Debug, Subcommand)]
pub enum ProposeCommand {
    /// Any proposal, from a TOML file with a `type` field (e.g. `type = "open_route"`).
    File {
        /// The proposal file.
        path: PathBuf,
        /// Common options.
        #[command(flatten)]
        args: ProposalArgs,
    },
    /// Open a route with the policy in a TOML file.
    OpenRoute {
        /// Route id.
        #[arg(long)]
        route: String,
        /// TOML file holding the route policy.
        #[arg(long)]
        policy: PathBuf,
        /// Common options.
        #[command(flatten)]
        args: ProposalArgs,
    },
    /// Pause a route.
    PauseRoute {
        /// Route id.
        #[arg(long)]
        route: String,
        /// Common options.
        #[command(flatten)]
        args: ProposalArgs,
    },
    /// Resume a paused route.
    ResumeRoute {
        /// Route id.
        #[arg(long)]
        route: String,
        /// Common options.
        #[command(flatten)]
        args: ProposalArgs,
    },
    /// Close a route for good.
    CloseRoute {
        /// Route id.
        #[arg(long)]
        route: String,
        /// Common options.
        #[command(flatten)]
        args: ProposalArgs,
    },
    /// Suspend a member.
    SuspendMember {
        /// Organization id.
        #[arg(long)]
        org: String,
        /// Common options.
        #[command(flatten)]
        args: ProposalArgs,
    },
    /// Retire a chain's gateway for good: it refuses new sends from the checkpoint that
    /// carries the hub's notice, and still runs and settles what is in flight.
    RetireGateway {
        /// The chain whose gateway retires.
        #[arg(long)]
        chain: String,
        /// The registered chain that takes its place (named in the notice).
        #[arg(long)]
        successor: Option<String>,
        /// Common options.
        #[command(flatten)]
        args: ProposalArgs,
    },
    /// Recover a frozen light client.
    RecoverClient {
        /// Chain id.
        #[arg(long)]
        chain: String,
        /// Common options.
        #[command(flatten)]
        args: ProposalArgs,
    },
}

/// `council` verbs.
#[derive(Debug, Subcommand)]
pub enum CouncilCommand {
    /// List members, weights, roles and statuses.
    List {
        /// Node RPC endpoint.
        #[arg(long, default_value = "http://127.0.0.1:26602")]
        rpc: String,
    },
}

/// `chain` and `route` verbs.
#[derive(Debug, Subcommand)]
pub enum RegistryCommand {
    /// List all.
    List {
        /// Node RPC endpoint.
        #[arg(long, default_value = "http://127.0.0.1:26602")]
        rpc: String,
    },
    /// Show one.
    Show {
        /// Id.
        id: String,
        /// Node RPC endpoint.
        #[arg(long, default_value = "http://127.0.0.1:26602")]
        rpc: String,
    },
}

fn read_toml<T: serde::de::DeserializeOwned>(path: &Path) -> eyre::Result<T> {
    let text =
        std::fs::read_to_string(path).wrap_err_with(|| format!("reading {}", path.display()))?;
    toml::from_str(&text).map_err(|e| eyre!("{} is not a valid proposal file: {e}", path.display()))
}

fn route_id(s: &str) -> eyre::Result<RouteId> {
    RouteId::new(s).map_err(|e| eyre!("route id `{s}`: {e}"))
}

fn org_id(s: &str) -> eyre::Result<OrgId> {
    OrgId::new(s).map_err(|e| eyre!("organization id `{s}`: {e}"))
}

fn chain_id(s: &str) -> eyre::Result<ChainId> {
    ChainId::new(s).map_err(|e| eyre!("chain id `{s}`: {e}"))
}

async fn propose(what: ProposeCommand) -> eyre::Result<()> {
    let (proposal, args) = match what {
        ProposeCommand::File { path, args } => (read_toml::<ProposalKind>(&path)?, args),
        ProposeCommand::OpenRoute {
            route,
            policy,
            args,
        } => (
            ProposalKind::OpenRoute {
                route: route_id(&route)?,
                policy: read_toml::<RoutePolicy>(&policy)?,
            },
            args,
        ),
        ProposeCommand::PauseRoute { route, args } => (
            ProposalKind::PauseRoute {
                route: route_id(&route)?,
            },
            args,
        ),
        ProposeCommand::ResumeRoute { route, args } => (
            ProposalKind::ResumeRoute {
                route: route_id(&route)?,
            },
            args,
        ),
        ProposeCommand::CloseRoute { route, args } => (
            ProposalKind::CloseRoute {
                route: route_id(&route)?,
            },
            args,
        ),
        ProposeCommand::SuspendMember { org, args } => {
            (ProposalKind::SuspendMember { org: org_id(&org)? }, args)
        }
        ProposeCommand::RetireGateway {
            chain,
            successor,
            args,
        } => (
            ProposalKind::RetireGateway {
                chain: chain_id(&chain)?,
                successor: successor.as_deref().map(chain_id).transpose()?,
            },
            args,
        ),
        ProposeCommand::RecoverClient { chain, args } => (
            ProposalKind::RecoverClient {
                chain: chain_id(&chain)?,
            },
            args,
        ),
    };
    proposal
        .check()
        .map_err(|e| eyre!("the proposal is invalid: {e}"))?;
    let r = send_tx(
        &args.send,
        TxKind::Propose {
            proposal: Box::new(proposal),
            expedited: args.expedited,
            deposit: args.deposit,
        },
    )
    .await?;
    print_json(&r);
    Ok(())
}

/// Runs a `gov` verb.
pub async fn run_gov(cmd: GovCommand) -> eyre::Result<()> {
    let r = match cmd {
        GovCommand::Propose { what } => return propose(what).await,
        GovCommand::Vote { id, option, send } => {
            send_tx(
                &send,
                TxKind::Vote {
                    proposal_id: id,
                    option,
                },
            )
            .await?
        }
        GovCommand::EmergencyPause { route, send } => {
            send_tx(
                &send,
                TxKind::EmergencyPause {
                    route: route_id(&route)?,
                },
            )
            .await?
        }
        GovCommand::EmergencyFreeze { chain, send } => {
            send_tx(
                &send,
                TxKind::EmergencyFreeze {
                    chain: chain_id(&chain)?,
                },
            )
            .await?
        }
        GovCommand::List { rpc } => {
            print_json(&RpcClient::new(rpc).call::<GovList>(&NoParams {}).await?);
            return Ok(());
        }
        GovCommand::Show { id, rpc } => {
            print_json(
                &RpcClient::new(rpc)
                    .call::<GovShow>(&ProposalId { id })
                    .await?,
            );
            return Ok(());
        }
    };
    print_json(&r);
    Ok(())
}

/// Runs a `council` verb.
pub async fn run_council(cmd: CouncilCommand) -> eyre::Result<()> {
    let CouncilCommand::List { rpc } = cmd;
    print_json(
        &RpcClient::new(rpc)
            .call::<CouncilList>(&NoParams {})
            .await?,
    );
    Ok(())
}

/// A `chain` or `route` verb: `L` lists, `S` shows one by id.
async fn registry<L, S>(cmd: RegistryCommand) -> eyre::Result<()>
where
    L: Method<Params = NoParams>,
    S: Method<Params = TextId>,
{
    match cmd {
        RegistryCommand::List { rpc } => {
            print_json(&RpcClient::new(rpc).call::<L>(&NoParams {}).await?);
        }
        RegistryCommand::Show { id, rpc } => {
            print_json(&RpcClient::new(rpc).call::<S>(&TextId { id }).await?);
        }
    }
    Ok(())
}

/// Runs a `chain` verb. `show` adds where the chain's light client stands (status, the
/// age of its latest header, the time left before it expires), or why it cannot say.
pub async fn run_chain(cmd: RegistryCommand) -> eyre::Result<()> {
    let RegistryCommand::Show { id, rpc } = cmd else {
        return registry::<ChainList, ChainShow>(cmd).await;
    };
    let rpc = RpcClient::new(rpc);
    let registered = rpc.call::<ChainShow>(&TextId { id: id.clone() }).await?;
    let client = match rpc
        .call::<GetClientState>(&ClientStateParams { chain: id })
        .await
    {
        Ok(answer) => serde_json::to_value(answer)?,
        Err(e) => serde_json::json!({ "error": e.to_string() }),
    };
    let mut shown = serde_json::to_value(registered)?;
    if let Some(map) = shown.as_object_mut() {
        map.insert("client".into(), client);
    }
    print_json(&shown);
    Ok(())
}

/// Runs a `route` verb.
pub async fn run_route(cmd: RegistryCommand) -> eyre::Result<()> {
    registry::<RouteList, RouteShow>(cmd).await
}
