//! Every method the hub answers: its name, its parameters and its answer. The server
//! parses parameters into these types and serializes these answers; the client sends and
//! reads the same types, so the two cannot drift apart.

use serde::{Deserialize, Serialize};

use junction_governance::{ClientState, Member, Proposal, ProposalStatus, Route, Tally};
use junction_hub_app::Event;
use junction_spec::gov::GovParams;
use junction_spec::{Checkpoint, Packet};

use crate::hex::{opt_u64, req_u64, Hex, Hex32, HexBytes};

/// One JSON-RPC method.
pub trait Method {
    /// The method name on the wire.
    const NAME: &'static str;
    /// The `params` object.
    type Params: Serialize + for<'de> Deserialize<'de>;
    /// The `result`.
    type Answer: Serialize + for<'de> Deserialize<'de>;
}

/// Parameters of a method that takes none.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct NoParams {}

/// Parameters that optionally name a committed height (the tip when absent).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AtHeight {
    /// Height; the last committed one when absent.
    #[serde(
        default,
        deserialize_with = "opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub height: Option<u64>,
}

/// Parameters that name a committed height.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Height {
    /// Height.
    #[serde(deserialize_with = "req_u64")]
    pub height: u64,
}

/// Parameters that name a proposal.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ProposalId {
    /// Proposal id.
    #[serde(deserialize_with = "req_u64")]
    pub id: u64,
}

/// Parameters that name a chain or a route by its id.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TextId {
    /// The id.
    pub id: String,
}

macro_rules! method {
    ($(#[$doc:meta])* $ty:ident, $name:literal, $params:ty, $answer:ty) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy)]
        pub struct $ty;
        impl Method for $ty {
            const NAME: &'static str = $name;
            type Params = $params;
            type Answer = $answer;
        }
    };
}

// ----- chain -----

method!(
    /// The node's view of the chain.
    Status, "status", NoParams, StatusAnswer);

/// Answer of [`Status`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StatusAnswer {
    /// The hub's chain id.
    pub chain_id: String,
    /// The node's name.
    pub moniker: String,
    /// Last committed height.
    pub height: u64,
    /// Hash of that block.
    pub latest_block_hash: Hex32,
    /// Its time.
    pub latest_block_time_ms: u64,
    /// Its app hash.
    pub app_hash: Hex32,
    /// Current consensus round.
    pub round: i64,
    /// Transactions committed so far.
    pub total_txs: u64,
    /// Transactions waiting in the mempool.
    pub mempool_txs: u64,
    /// Their size.
    pub mempool_bytes: u64,
}

method!(
    /// A committed block.
    GetBlock, "block", AtHeight, BlockAnswer);

/// A block header as JSON.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HeaderView {
    /// Protocol version.
    #[serde(default)]
    pub version: u32,
    /// Chain id.
    pub chain_id: String,
    /// Height.
    pub height: u64,
    /// Time.
    pub time_ms: u64,
    /// Parent hash.
    pub prev_block_hash: Hex32,
    /// State tree root after the block.
    pub app_hash: Hex32,
    /// Log size after the block.
    pub log_size: u64,
    /// Log root after the block.
    pub log_root: Hex32,
    /// Hash of the validator set.
    pub validators_hash: Hex32,
    /// Hash of the next validator set.
    pub next_validators_hash: Hex32,
    /// Proposer address.
    pub proposer: Hex<20>,
    /// Root of the block's transactions.
    pub tx_root: Hex32,
}

/// What a block's commit certificate holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CommitView {
    /// Round of the decision.
    pub round: i64,
    /// Precommit signatures.
    pub signatures: u64,
    /// Of them, those with a checkpoint attestation.
    pub extensions: u64,
}

/// Answer of [`GetBlock`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BlockAnswer {
    /// Height.
    pub height: u64,
    /// Block hash.
    pub hash: Hex32,
    /// Header.
    pub header: HeaderView,
    /// Transaction hashes in block order.
    pub txs: Vec<Hex32>,
    /// The commit certificate, once stored.
    pub commit: Option<CommitView>,
}

method!(
    /// A committed block's checkpoint with the attestations that sign it: what a relayer
    /// hands to a gateway.
    GetCheckpoint, "checkpoint", AtHeight, CheckpointAnswer);

/// Answer of [`GetCheckpoint`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckpointAnswer {
    /// Height.
    pub height: u64,
    /// The checkpoint.
    pub checkpoint: Checkpoint,
    /// Its canonical encoding.
    pub checkpoint_hex: HexBytes,
    /// Its hash (what attesters sign).
    pub hash: Hex32,
    /// One verified attestation per attester, in set order (65-byte signatures).
    pub signatures: Vec<HexBytes>,
    /// The attestation set's canonical encoding.
    pub attestation_set_hex: HexBytes,
    /// The next height's attestation set, when the checkpoint names another one than its
    /// own (a validator-set change): a gateway or hub light client adopts it from this
    /// checkpoint on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attestation_set_hex: Option<HexBytes>,
    /// Power of the attesters that signed.
    pub signed_power: u64,
    /// Power of the whole set.
    pub total_power: u64,
}

method!(
    /// What a committed block's transactions did.
    BlockEvents, "block_events", Height, BlockEventsAnswer);

/// Answer of [`BlockEvents`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BlockEventsAnswer {
    /// Height.
    pub height: u64,
    /// Events in transaction order.
    pub events: Vec<Event>,
}

/// How long `broadcast_tx` waits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BroadcastMode {
    /// Until the mempool admitted it.
    #[default]
    Sync,
    /// Until a block committed it (at most 30 s).
    Commit,
}

/// Parameters of [`BroadcastTx`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BroadcastParams {
    /// The signed transaction's canonical encoding.
    pub tx: HexBytes,
    /// How long to wait.
    #[serde(default)]
    pub mode: BroadcastMode,
}

method!(
    /// Submits a signed transaction.
    BroadcastTx, "broadcast_tx", BroadcastParams, BroadcastAnswer);

/// What a committed transaction did: `"ok"`, or the named rule that made it fail (its
/// nonce is used all the same).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TxResult {
    /// It executed.
    Ok,
    /// It failed.
    Failed {
        /// Error name.
        failed: String,
        /// Message.
        message: String,
    },
}

impl Serialize for TxResult {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Failed<'a> {
            failed: &'a str,
            message: &'a str,
        }
        match self {
            TxResult::Ok => s.serialize_str("ok"),
            TxResult::Failed { failed, message } => Failed { failed, message }.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for TxResult {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Wire {
            Text(String),
            Failed { failed: String, message: String },
        }
        match Wire::deserialize(d)? {
            Wire::Text(t) if t == "ok" => Ok(TxResult::Ok),
            Wire::Text(t) => Err(serde::de::Error::custom(format!(
                "a transaction result is \"ok\" or {{failed, message}}, not {t:?}"
            ))),
            Wire::Failed { failed, message } => Ok(TxResult::Failed { failed, message }),
        }
    }
}

/// Answer of [`BroadcastTx`]: the hash, and where it was committed in `commit` mode.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BroadcastAnswer {
    /// Transaction hash.
    pub hash: Hex32,
    /// Committed at (commit mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u64>,
    /// Index in the block (commit mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<u64>,
    /// What it did (commit mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<TxResult>,
}

/// Parameters of [`GetTx`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TxParams {
    /// Transaction hash.
    pub hash: Hex32,
}

method!(
    /// A committed transaction.
    GetTx, "tx", TxParams, TxAnswer);

/// Answer of [`GetTx`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TxAnswer {
    /// Hash.
    pub hash: Hex32,
    /// Block height.
    pub height: u64,
    /// Index in the block.
    pub index: u64,
    /// Canonical encoding.
    pub tx: HexBytes,
    /// Signer address.
    pub signer: Hex<20>,
    /// Its nonce.
    pub nonce: u64,
    /// Transaction kind name.
    pub kind: String,
    /// What it did.
    pub result: TxResult,
}

method!(
    /// The validators that sign a height (the next one when absent).
    Validators, "validators", AtHeight, ValidatorsAnswer);

method!(
    /// The heights from which the validators changed: a checkpoint whose next attestation
    /// set differs from its own hands gateways over to the new set.
    ValidatorChanges, "validator_changes", ValidatorChangesParams, ValidatorChangesAnswer);

/// Parameters of [`ValidatorChanges`].
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ValidatorChangesParams {
    /// Only changes at this height or later.
    #[serde(default)]
    pub from_height: u64,
}

/// One change of [`ValidatorChanges`]: who signs `height` and the height after it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ValidatorChange {
    /// The first height signed so.
    pub height: u64,
    /// The header's `validators_hash` from this height.
    pub validators_hash: Hex32,
    /// Its `next_validators_hash`.
    pub next_validators_hash: Hex32,
    /// The checkpoint's `attestation_set_hash`.
    pub attestation_set_hash: Hex32,
    /// The checkpoint's `next_attestation_set_hash`.
    pub next_attestation_set_hash: Hex32,
}

/// Answer of [`ValidatorChanges`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ValidatorChangesAnswer {
    /// Changes in height order, at most [`MAX_VALIDATOR_CHANGES_ANSWERED`].
    pub changes: Vec<ValidatorChange>,
}

/// Most changes one [`ValidatorChanges`] answer carries (ask again from the last height).
pub const MAX_VALIDATOR_CHANGES_ANSWERED: usize = 256;

/// One validator.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ValidatorView {
    /// Address.
    pub address: Hex<20>,
    /// ed25519 public key.
    pub pub_key: Hex32,
    /// Voting power.
    pub power: u64,
    /// Address of its secp256k1 attestation key.
    pub attestation_address: Hex<20>,
}

/// Answer of [`Validators`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ValidatorsAnswer {
    /// Last committed height.
    pub height: u64,
    /// The height these validators sign.
    pub signs_height: u64,
    /// Hash of the set (a header's `validators_hash`).
    pub hash: Hex32,
    /// Hash of the set of the height after it (the header's `next_validators_hash`).
    pub next_hash: Hex32,
    /// Hash of its attestation set (a checkpoint's `attestation_set_hash`).
    pub attestation_set_hash: Hex32,
    /// Sum of the powers.
    pub total_power: u64,
    /// The validators.
    pub validators: Vec<ValidatorView>,
}

/// Parameters of [`Account`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccountParams {
    /// Account address.
    pub address: Hex<20>,
}

method!(
    /// An account's next nonce and last remark.
    Account, "account", AccountParams, AccountAnswer);

/// Answer of [`Account`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccountAnswer {
    /// Address.
    pub address: Hex<20>,
    /// The nonce its next transaction must carry.
    pub next_nonce: u64,
    /// Its last remark.
    pub remark: Option<HexBytes>,
}

// ----- governance -----

/// One proposal in [`GovList`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProposalSummary {
    /// Id.
    pub id: u64,
    /// Kind name.
    pub kind: String,
    /// Member that proposed it.
    pub proposer: String,
    /// Short voting period.
    pub expedited: bool,
    /// Where it stands.
    pub status: ProposalStatus,
    /// End of voting.
    pub voting_ends_ms: u64,
    /// Votes cast.
    pub votes: u64,
}

method!(
    /// Every proposal.
    GovList, "gov_list", NoParams, Vec<ProposalSummary>);

method!(
    /// One proposal with its tally.
    GovShow, "gov_show", ProposalId, GovShowAnswer);

/// Answer of [`GovShow`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GovShowAnswer {
    /// The proposal.
    pub proposal: Proposal,
    /// Its tally.
    pub tally: Option<Tally>,
    /// The hub's time (the last block's).
    pub hub_time_ms: u64,
    /// Voting time left.
    pub voting_time_left_ms: u64,
    /// Delay between passing and executing.
    pub timelock_ms: u64,
}

method!(
    /// The council's parameters.
    GovParamsQuery, "gov_params", NoParams, GovParams);

method!(
    /// The council's members.
    CouncilList, "council_list", NoParams, Vec<Member>);

method!(
    /// Registered chains.
    ChainList, "chain_list", NoParams, Vec<ClientState>);

method!(
    /// One registered chain.
    ChainShow, "chain_show", TextId, ClientState);

/// A gateway the council retired (`spec/upgrades.md`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetiredGateway {
    /// The retired chain.
    pub chain: String,
    /// The proposal that retired it.
    pub proposal_id: u64,
    /// The chain named in its place.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub successor: Option<String>,
    /// Where the hub logged the notice (absent until a block logged it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_index: Option<u64>,
}

method!(
    /// Retired gateways, by chain.
    RetiredGateways, "retired_gateways", NoParams, Vec<RetiredGateway>);

method!(
    /// Open and closed routes.
    RouteList, "route_list", NoParams, Vec<Route>);

method!(
    /// One route.
    RouteShow, "route_show", TextId, Route);

// ----- message path -----

method!(
    /// The message log's size and root.
    LogInfo, "log_info", NoParams, LogInfoAnswer);

/// Answer of [`LogInfo`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LogInfoAnswer {
    /// Entries.
    pub size: u64,
    /// Root.
    pub root: Hex32,
    /// Size the last committed header commits to.
    pub committed_size: u64,
    /// Last committed height.
    pub height: u64,
}

/// Parameters of [`LogEntries`].
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LogEntriesParams {
    /// First index (0 when absent).
    #[serde(
        default,
        deserialize_with = "opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub from: Option<u64>,
    /// End index, exclusive (the log size when absent).
    #[serde(
        default,
        deserialize_with = "opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub to: Option<u64>,
    /// Only entries for this chain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_chain: Option<String>,
}

method!(
    /// A range of log entries (at most [`LogEntries::MAX`] per call).
    LogEntries, "log_entries", LogEntriesParams, LogEntriesAnswer);

impl LogEntries {
    /// Most entries one call returns.
    pub const MAX: u64 = 1_000;
}

/// One log entry as JSON.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EntryView {
    /// Index.
    pub index: u64,
    /// Entry kind name.
    pub kind: String,
    /// Destination.
    pub target_chain: String,
    /// On an ordered channel.
    pub ordered: bool,
    /// First index of the ordered space.
    pub ordered_from: u64,
    /// The destination's binding.
    pub target_binding: Hex32,
    /// Packet key hash.
    pub key: Hex32,
    /// The packet.
    pub packet: Packet,
    /// Result bytes (acks).
    pub result_hex: HexBytes,
    /// Canonical encoding of the entry.
    pub entry_hex: HexBytes,
}

/// Answer of [`LogEntries`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LogEntriesAnswer {
    /// First index looked at.
    pub from: u64,
    /// End of the range looked at: the next call starts there.
    pub to: u64,
    /// Log size.
    pub size: u64,
    /// The entries in range (for the chain asked for).
    pub entries: Vec<EntryView>,
}

/// Parameters of [`LogProof`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LogProofParams {
    /// Entry index.
    #[serde(deserialize_with = "req_u64")]
    pub index: u64,
    /// Log size of the checkpoint to prove against.
    #[serde(deserialize_with = "req_u64")]
    pub tree_size: u64,
}

/// An entry with its RFC 6962 inclusion proof.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProvenEntry {
    /// Index.
    pub index: u64,
    /// Canonical encoding of the entry.
    pub entry_hex: HexBytes,
    /// Audit path.
    pub proof: Vec<Hex32>,
}

method!(
    /// One entry with its inclusion proof.
    LogProof, "log_proof", LogProofParams, LogProofAnswer);

/// Answer of [`LogProof`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LogProofAnswer {
    /// The entry and its proof.
    #[serde(flatten)]
    pub entry: ProvenEntry,
    /// Log size proved against.
    pub tree_size: u64,
}

/// Parameters of [`LogProofs`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LogProofsParams {
    /// Entry indices (at most [`LogProofs::MAX`]).
    pub indices: Vec<u64>,
    /// Log size of the checkpoint to prove against.
    #[serde(deserialize_with = "req_u64")]
    pub tree_size: u64,
}

method!(
    /// Several entries with their inclusion proofs under one checkpoint, in one pass over
    /// the tree.
    LogProofs, "log_proofs", LogProofsParams, LogProofsAnswer);

impl LogProofs {
    /// Most entries one call proves.
    pub const MAX: usize = 1_024;
}

/// Answer of [`LogProofs`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LogProofsAnswer {
    /// Log size proved against.
    pub tree_size: u64,
    /// One per index asked, in order.
    pub proofs: Vec<ProvenEntry>,
}

/// Parameters of [`GetClientState`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClientStateParams {
    /// Chain id.
    pub chain: String,
}

method!(
    /// What the hub's light client of a chain holds.
    GetClientState, "client_state", ClientStateParams, ClientStateAnswer);

/// Answer of [`GetClientState`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClientStateAnswer {
    /// Chain id.
    pub chain: String,
    /// Highest verified height.
    pub latest_height: u64,
    /// Its time, seconds.
    pub latest_timestamp: Option<u64>,
    /// Heights held.
    pub heights: Vec<u64>,
    /// `active`, `expired` or `frozen`.
    pub status: String,
    /// Confirmations the registration asks of proofs.
    pub min_confirmations: Option<u64>,
    /// The chain's gateway.
    pub gateway: HexBytes,
    /// The binding log entries for the chain carry.
    pub binding: Hex32,
    /// Frozen by a council vote.
    pub frozen: bool,
    /// The hub's time the answer is at (the last committed block's), ms.
    #[serde(default)]
    pub hub_time_ms: u64,
    /// How old the latest verified header is at that time, seconds: the time since the
    /// client last moved, which the trusting period counts from.
    #[serde(default)]
    pub age_secs: Option<u64>,
    /// Seconds left before the client expires unless a newer header arrives (0 once
    /// expired).
    #[serde(default)]
    pub expires_in_secs: Option<u64>,
    /// The registration's trusting period, ms.
    #[serde(default)]
    pub trusting_period_ms: Option<u64>,
    /// The height misbehaviour froze the client at (its signers signed two conflicting
    /// headers there); `None` unless it is frozen by misbehaviour.
    #[serde(default)]
    pub frozen_height: Option<u64>,
    /// The evidence that last froze the chain's client, as submitted (kept after a
    /// recovery: it is part of the record).
    #[serde(default)]
    pub evidence: Option<HexBytes>,
    /// For a chain followed through attesters: the addresses holding its seats now
    /// (after any key rotations), in registration order.
    #[serde(default)]
    pub attesters: Option<Vec<HexBytes>>,
    /// For such a chain: how many of them must sign a header.
    #[serde(default)]
    pub attester_threshold: Option<u64>,
}

/// Parameters of [`PacketShow`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PacketKeyParams {
    /// Packet key hash.
    pub key: Hex32,
}

/// A packet outcome.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OutcomeView {
    /// `ack`, `error_ack` or `timeout`.
    pub kind: String,
    /// Log index of the outcome entry.
    pub log_index: u64,
}

/// One hub-side step of a packet's lifecycle.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PacketStep {
    /// Hub height.
    #[serde(default)]
    pub height: u64,
    /// What happened (`packet_logged`, `ack_logged`, ...).
    #[serde(default)]
    pub action: String,
    /// Log index written, if any.
    #[serde(default)]
    pub log_index: u64,
    /// Why, when refused.
    #[serde(default)]
    pub reason: String,
    /// Transaction hash.
    #[serde(default)]
    pub tx: String,
}

/// A packet record as JSON.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PacketView {
    /// Key hash.
    pub key: Hex32,
    /// Hash of the packet.
    pub packet_hash: Hex32,
    /// Route it travels.
    pub route: Option<String>,
    /// Ordered channel.
    pub ordered: bool,
    /// `pending` or the outcome kind.
    pub state: String,
    /// Received on the hub.
    pub received_on_hub: bool,
    /// Log index of the packet entry.
    pub packet_index: Option<u64>,
    /// Its outcome.
    pub outcome: Option<OutcomeView>,
    /// Log index of a skip entry (ordered channels).
    pub skip_index: Option<u64>,
    /// The packet.
    pub packet: Option<Packet>,
    /// Set when an operator parked it (`ParkPacket`): relayers leave its delivery alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parked: Option<ParkedView>,
}

/// Who parked a packet, when and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParkedView {
    /// The relayer account (hex address).
    pub by: String,
    /// Hub time of the block, milliseconds.
    pub at_ms: u64,
    /// The operator's reason.
    pub reason: String,
}

method!(
    /// One packet with its hub-side history.
    PacketShow, "packet_show", PacketKeyParams, PacketShowAnswer);

/// Answer of [`PacketShow`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PacketShowAnswer {
    /// The record.
    #[serde(flatten)]
    pub packet: PacketView,
    /// Its steps on the hub.
    pub hub_steps: Vec<PacketStep>,
    /// Size of the log the last header commits to.
    pub committed_log_size: u64,
}

/// Parameters of [`PacketList`].
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PacketListParams {
    /// Only this route.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route: Option<String>,
    /// Only this state (`pending`, `ack`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// At most this many (and never more than [`PacketList::MAX`]).
    #[serde(
        default,
        deserialize_with = "opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub limit: Option<u64>,
    /// The page after this cursor (a previous answer's `next`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<HexBytes>,
}

method!(
    /// Packets, filtered by route and state.
    PacketList, "packet_list", PacketListParams, PacketListAnswer);

impl PacketList {
    /// Most packets one call returns.
    pub const MAX: usize = 1_000;
}

/// Answer of [`PacketList`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PacketListAnswer {
    /// How many match.
    pub total: u64,
    /// This page of them, by state, route and packet key.
    pub packets: Vec<PacketView>,
    /// Cursor of the next page (`after`), when there are more.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<HexBytes>,
}

// ----- state -----

/// Parameters of [`StateProof`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StateProofParams {
    /// State key.
    pub key: HexBytes,
    /// Committed height (the tip when absent).
    #[serde(
        default,
        deserialize_with = "opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub height: Option<u64>,
}

method!(
    /// A key's value or absence at a committed height, with an ICS-23 proof against that
    /// height's app hash.
    StateProof, "state_proof", StateProofParams, StateProofAnswer);

/// The proof format [`StateProof`] answers in.
pub const STATE_PROOF_FORMAT: &str = "ics23:jmt-sha256";

/// Answer of [`StateProof`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StateProofAnswer {
    /// Height.
    pub height: u64,
    /// That height's app hash.
    pub app_hash: Hex32,
    /// The key.
    pub key: HexBytes,
    /// Its value; `None` for an absence.
    pub value: Option<HexBytes>,
    /// The ICS-23 `CommitmentProof`, protobuf.
    pub proof: HexBytes,
    /// [`STATE_PROOF_FORMAT`].
    pub proof_format: String,
}

/// The names of every method, for the `method_not_found` message.
pub const METHODS: &[&str] = &[
    Status::NAME,
    GetBlock::NAME,
    BlockEvents::NAME,
    GetCheckpoint::NAME,
    BroadcastTx::NAME,
    GetTx::NAME,
    Validators::NAME,
    Account::NAME,
    GovList::NAME,
    GovShow::NAME,
    GovParamsQuery::NAME,
    CouncilList::NAME,
    ChainList::NAME,
    ChainShow::NAME,
    RetiredGateways::NAME,
    RouteList::NAME,
    RouteShow::NAME,
    LogInfo::NAME,
    LogEntries::NAME,
    LogProof::NAME,
    LogProofs::NAME,
    GetClientState::NAME,
    PacketShow::NAME,
    PacketList::NAME,
    StateProof::NAME,
];

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A committed transaction's result is the string "ok" or `{failed, message}`, and
    /// nothing else reads as one.
    #[test]
    fn a_transaction_result_is_ok_or_a_named_failure() {
        assert_eq!(serde_json::to_value(TxResult::Ok).unwrap(), json!("ok"));
        let failed = TxResult::Failed {
            failed: "unknown_proposal".into(),
            message: "no proposal 9".into(),
        };
        let v = serde_json::to_value(&failed).unwrap();
        assert_eq!(
            v,
            json!({"failed": "unknown_proposal", "message": "no proposal 9"})
        );
        assert_eq!(serde_json::from_value::<TxResult>(v).unwrap(), failed);
        assert_eq!(
            serde_json::from_value::<TxResult>(json!("ok")).unwrap(),
            TxResult::Ok
        );
        assert!(serde_json::from_value::<TxResult>(json!("fine")).is_err());
    }

    /// `broadcast_tx` in sync mode answers the hash alone; the mode defaults to sync and
    /// an unknown mode is refused.
    #[test]
    fn broadcast_answers_and_modes_keep_their_shape() {
        let sync = BroadcastAnswer {
            hash: Hex([1; 32]),
            height: None,
            index: None,
            result: None,
        };
        assert_eq!(
            serde_json::to_value(&sync).unwrap(),
            json!({"hash": hex::encode([1u8; 32])})
        );
        let p: BroadcastParams = serde_json::from_value(json!({"tx": "0x00ff"})).unwrap();
        assert_eq!((p.tx.0, p.mode), (vec![0, 0xff], BroadcastMode::Sync));
        let p: BroadcastParams =
            serde_json::from_value(json!({"tx": "00", "mode": "commit"})).unwrap();
        assert_eq!(p.mode, BroadcastMode::Commit);
        assert!(
            serde_json::from_value::<BroadcastParams>(json!({"tx": "00", "mode": "later"}))
                .is_err()
        );
    }

    /// Flattened answers keep one flat object, as the relayer and the CLI read them.
    #[test]
    fn flattened_answers_are_one_object() {
        let a = LogProofAnswer {
            entry: ProvenEntry {
                index: 4,
                entry_hex: HexBytes(vec![0xab]),
                proof: vec![Hex([2; 32])],
            },
            tree_size: 9,
        };
        let v = serde_json::to_value(&a).unwrap();
        assert_eq!(
            v,
            json!({"index": 4, "entry_hex": "ab", "proof": [hex::encode([2u8; 32])], "tree_size": 9})
        );
        let back: LogProofAnswer = serde_json::from_value(v).unwrap();
        assert_eq!(back.entry.index, 4);
        assert_eq!(back.tree_size, 9);
    }

    /// Heights and ids come as numbers or decimal strings; a missing required one is
    /// refused by its field's name.
    #[test]
    fn parameters_read_as_the_cli_and_scripts_send_them() {
        let h: AtHeight = serde_json::from_value(json!({"height": "12"})).unwrap();
        assert_eq!(h.height, Some(12));
        let h: AtHeight = serde_json::from_value(json!({})).unwrap();
        assert_eq!(h.height, None);
        let e = serde_json::from_value::<Height>(json!({})).unwrap_err();
        assert!(e.to_string().contains("missing field `height`"), "{e}");
        let id: ProposalId = serde_json::from_value(json!({"id": 3})).unwrap();
        assert_eq!(id.id, 3);
        let e = serde_json::from_value::<PacketKeyParams>(json!({"key": "abcd"})).unwrap_err();
        assert!(e.to_string().contains("must be 32 bytes"), "{e}");
    }

    /// Every method's name is listed once.
    #[test]
    fn method_names_are_unique() {
        let mut names: Vec<&str> = METHODS.to_vec();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), METHODS.len());
    }
}
