//! `junction relay hubs --config hubs.toml`: carries entries between two Junction hubs
//! (`spec/hub-to-hub.md` §6). Each hub logs, for a chain under the other hub, an entry
//! bound to that hub (`hub_target_binding`); this bridge reads those entries, moves the
//! other hub's client of this one to a checkpoint covering them (the checkpoint and the
//! attestations its validators signed), and proves each entry there with its RFC 6962 audit
//! path: a `Packet` entry as `RecvPacket`, an `Ack` / `ErrorAck` as `AckPacket`, a `Timeout`
//! as `TimeoutPacket`. The receiving hub rebuilds every entry from the message and checks
//! it against the checkpoint, so the bridge is trusted with nothing; it holds only a
//! registered relayer account on each hub.
//!
//! It keeps no state: a restart reads each log from the start again, and what the other
//! hub already took is refused there by name (`already_received`,
//! `outcome_already_logged`, `already_timed_out`) and dropped.

use std::path::Path;
use std::time::Duration;

use eyre::{eyre, WrapErr};
use serde::{Deserialize, Serialize};
use tracing::{info, warn};

use junction_light_clients::hub::{HubEntryProof, SignedCheckpoint};
use junction_rpc::methods::{
    BroadcastMode, BroadcastParams, BroadcastTx, ClientStateParams, GetClientState, LogEntries,
    LogEntriesParams,
};
use junction_rpc::{ClientError, HexBytes, RpcClient};
use junction_spec::{
    hub_target_binding, ChainId, Encode, EntryKind, LogEntry, RelayMsg, SourceProof, TxKind,
};

/// One hub as the bridge reaches it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HubEndpoint {
    /// Its JSON-RPC (127.0.0.1).
    pub rpc: String,
    /// Its chain id.
    pub chain_id: String,
    /// Key file of the bridge's account there (a registered relayer of that hub).
    pub relayer_key_file: String,
}

/// `hubs.toml`: the two hubs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BridgeConfig {
    /// Milliseconds between cycles.
    #[serde(default = "default_poll_ms")]
    pub poll_ms: u64,
    /// The two hubs.
    pub hubs: Vec<HubEndpoint>,
}

fn default_poll_ms() -> u64 {
    500
}

impl BridgeConfig {
    /// Reads and checks `hubs.toml`.
    pub fn load(path: &Path) -> eyre::Result<Self> {
        let text = std::fs::read_to_string(path)
            .wrap_err_with(|| format!("reading {}", path.display()))?;
        let c: BridgeConfig =
            toml::from_str(&text).map_err(|e| eyre!("{}: {e}", path.display()))?;
        if c.hubs.len() != 2 {
            return Err(eyre!("{}: name exactly two hubs", path.display()));
        }
        for h in &c.hubs {
            ChainId::new(&h.chain_id).map_err(|e| eyre!("hub {:?}: {e}", h.chain_id))?;
            if !h.rpc.starts_with("http://127.0.0.1:") {
                return Err(eyre!(
                    "hub {}: rpc must be a 127.0.0.1 endpoint",
                    h.chain_id
                ));
            }
        }
        if c.hubs[0].chain_id == c.hubs[1].chain_id {
            return Err(eyre!("{}: the two hubs have one chain id", path.display()));
        }
        Ok(c)
    }

    /// The configuration as TOML.
    pub fn to_toml(&self) -> eyre::Result<String> {
        toml::to_string(self).map_err(|e| eyre!("{e}"))
    }
}

/// The update of a peer hub's client of `chain` (this hub) to the signed checkpoint `cp`.
fn client_update(
    chain: &ChainId,
    cp: &junction_adapters::evm::gateway::CheckpointProof,
) -> RelayMsg {
    let signed = SignedCheckpoint {
        checkpoint: cp.checkpoint.clone(),
        signatures: cp.signatures.clone(),
        next_set: cp.next_set.clone(),
    };
    RelayMsg::UpdateClient {
        chain: chain.clone(),
        header: signed.to_bytes(),
    }
}

/// The message that proves, at the receiving hub, `entry` (logged by the other hub for it)
/// under the checkpoint `proof` names. `None` for an entry kind that does not cross hubs
/// (a `SequenceSkip`: routes between hubs are unordered; a `GatewayRetired` notice: hubs
/// have no gateway to retire).
pub fn message_for(entry: &LogEntry, proof: SourceProof) -> Option<RelayMsg> {
    let packet = entry.packet.clone();
    Some(match entry.kind {
        EntryKind::Packet => RelayMsg::RecvPacket { packet, proof },
        EntryKind::Ack | EntryKind::ErrorAck => RelayMsg::AckPacket {
            packet,
            app_succeeded: entry.kind == EntryKind::Ack,
            result: entry.result.clone(),
            proof,
        },
        EntryKind::Timeout => RelayMsg::TimeoutPacket {
            packet,
            absence: proof,
            commitment: None,
        },
        EntryKind::SequenceSkip | EntryKind::GatewayRetired => return None,
    })
}

/// Entries proven per transaction: a relay transaction holds at most
/// [`junction_spec::relay::MAX_RELAY_MSGS`] messages, and one may be the client update the
/// entries are proven under.
pub const ENTRIES_PER_TX: usize = junction_spec::relay::MAX_RELAY_MSGS - 1;

/// Transactions the bridge sends each way per cycle (a backlog clears 8 × 63 entries a
/// cycle, with two commits waited for).
pub const TXS_PER_CYCLE: usize = 8;

/// A refusal that means the other hub already holds what the message carries.
fn settled(name: &str) -> bool {
    matches!(
        name,
        "already_received" | "outcome_already_logged" | "already_timed_out"
    )
}

/// A refusal no later cycle can change: the same entry and proof would be refused again
/// (`spec/hub-to-hub.md` §5). Logged and passed over; any other refusal waits.
fn refused_for_good(name: &str) -> bool {
    matches!(
        name,
        "log_proof"
            | "malformed_log_proof"
            | "malformed_relay_input"
            | "not_via_this_hub"
            | "no_packets_between_hubs"
    )
}

struct Side {
    rpc: RpcClient,
    chain: ChainId,
    key: junction_keys::PrivateKey,
}

/// The bridge between two hubs.
pub struct Bridge {
    sides: [Side; 2],
    /// Per direction (0: from hub 0 to hub 1), the first log index not yet carried.
    cursors: [u64; 2],
    /// Per direction, the failure of the last cycle (logged once while it repeats).
    failing: [Option<String>; 2],
    poll: Duration,
}

impl std::fmt::Debug for Bridge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bridge")
            .field("hubs", &[&self.sides[0].chain, &self.sides[1].chain])
            .field("cursors", &self.cursors)
            .finish_non_exhaustive()
    }
}

impl Bridge {
    /// A bridge for `config` (keys read and checked private here).
    pub fn new(config: &BridgeConfig) -> eyre::Result<Self> {
        let side = |h: &HubEndpoint| -> eyre::Result<Side> {
            Ok(Side {
                rpc: RpcClient::new(h.rpc.clone()),
                chain: ChainId::new(&h.chain_id).map_err(|e| eyre!("{e}"))?,
                key: junction_keys::KeyFile::load(Path::new(&h.relayer_key_file))
                    .map_err(|e| eyre!("{e}"))?
                    .private_key()
                    .map_err(|e| eyre!("{}: {e}", h.relayer_key_file))?,
            })
        };
        Ok(Self {
            sides: [side(&config.hubs[0])?, side(&config.hubs[1])?],
            cursors: [0, 0],
            failing: [None, None],
            poll: Duration::from_millis(config.poll_ms.max(1)),
        })
    }

    /// One pass each way; returns the entries the other hub took.
    pub async fn cycle(&mut self) -> usize {
        let mut taken = 0;
        for dir in 0..2 {
            let (from, to) = (
                self.sides[dir].chain.as_str().to_string(),
                self.sides[1 - dir].chain.as_str().to_string(),
            );
            // A failure that repeats every cycle is logged when it starts and when it ends.
            match self.carry(dir).await {
                Ok(n) => {
                    taken += n;
                    if self.failing[dir].take().is_some() {
                        info!(from, to, "carrying again");
                    }
                }
                Err(e) => {
                    let text = format!("{e:#}");
                    if self.failing[dir].as_deref() != Some(text.as_str()) {
                        warn!(from, to, "not carried (retried every cycle): {text}");
                        self.failing[dir] = Some(text);
                    }
                }
            }
        }
        taken
    }

    /// Carries the entries hub `dir` logged for the other hub since the cursor.
    async fn carry(&mut self, dir: usize) -> eyre::Result<usize> {
        let (from, to) = (&self.sides[dir], &self.sides[1 - dir]);
        let binding = hub_target_binding(&to.chain);
        let latest = crate::checkpoint_at(&from.rpc, None).await?;
        let checkpoint = &latest.checkpoint;
        // Only what the checkpoint covers can be proven under it.
        let end = checkpoint.log_size;
        let limit = TXS_PER_CYCLE * ENTRIES_PER_TX;
        let mut cursor = self.cursors[dir];
        let mut indices = Vec::new();
        while cursor < end && indices.len() < limit {
            let page = from
                .rpc
                .call::<LogEntries>(&LogEntriesParams {
                    from: Some(cursor),
                    to: Some(end),
                    target_chain: None,
                })
                .await?;
            for e in page.entries {
                if e.target_binding.0 != binding {
                    continue;
                }
                indices.push(e.index);
                if indices.len() == limit {
                    cursor = e.index + 1;
                    break;
                }
            }
            if indices.len() < limit {
                cursor = page.to;
            }
            if page.to <= page.from {
                break;
            }
        }
        if indices.is_empty() {
            self.cursors[dir] = cursor;
            return Ok(0);
        }
        // The receiving hub's client of this one must hold the checkpoint.
        let client = to
            .rpc
            .call::<GetClientState>(&ClientStateParams {
                chain: from.chain.as_str().to_string(),
            })
            .await?;
        let mut batches: Vec<Vec<Tagged>> = Vec::new();
        let mut first: Vec<Tagged> = Vec::new();
        if client.latest_height < checkpoint.height {
            // A client that missed changes of this hub's validators takes each hand-over
            // checkpoint in order first: it accepts a checkpoint only from the set it holds.
            for cp in
                crate::hand_over_checkpoints(&from.rpc, client.latest_height, checkpoint.height)
                    .await?
            {
                first.push((None, client_update(&from.chain, &cp)));
            }
            first.push((None, client_update(&from.chain, &latest)));
        }
        for chunk in crate::prove_log_entries(&from.rpc, &indices, end)
            .await?
            .chunks(ENTRIES_PER_TX)
        {
            let mut batch = std::mem::take(&mut first);
            for p in chunk {
                let proof = SourceProof {
                    height: checkpoint.height,
                    proof: HubEntryProof {
                        index: p.index,
                        path: p.proof.clone(),
                    }
                    .to_bytes(),
                };
                batch.extend(message_for(&p.entry, proof).map(|m| (Some(p.index), m)));
            }
            batches.push(batch);
        }
        let n = batches
            .iter()
            .flatten()
            .filter(|(i, _)| i.is_some())
            .count();
        let waiting = submit(to, batches).await?;
        // Entries the other hub refused for now (a rate limit, a client to recover), at
        // admission or in their block, are carried again next cycle, from the first of
        // them; what came before it is held there, or refused for good and explained in
        // the log.
        self.cursors[dir] = match waiting.iter().min() {
            None => cursor,
            Some(None) => self.cursors[dir],
            Some(Some(first)) => *first,
        };
        info!(
            from = from.chain.as_str(),
            to = to.chain.as_str(),
            checkpoint = checkpoint.height,
            carried = n.saturating_sub(waiting.len()),
            waiting = waiting.len(),
            "entries carried"
        );
        Ok(n.saturating_sub(waiting.len()))
    }

    /// Cycles until the process stops.
    pub async fn run(mut self) -> eyre::Result<()> {
        info!(
            hubs = format!(
                "{} ⇄ {}",
                self.sides[0].chain.as_str(),
                self.sides[1].chain.as_str()
            ),
            "hub bridge started"
        );
        loop {
            self.cycle().await;
            tokio::time::sleep(self.poll).await;
        }
    }
}

/// A message with the log index of the entry it proves (none for a client update).
type Tagged = (Option<u64>, RelayMsg);

/// Submits each batch to `to` as one transaction, with consecutive nonces. The first is
/// committed before the others are admitted (it may carry the client update they are
/// proven under); the rest go to the mempool back to back, and the last is waited for
/// until committed. A message refused at admission is dropped and its transaction signed
/// again without it; one refused for a reason that may pass ends the submission there.
/// Returns the tags of the messages refused, at admission or in their block, for a reason
/// that may pass.
async fn submit(to: &Side, batches: Vec<Vec<Tagged>>) -> eyre::Result<Vec<Option<u64>>> {
    let address = junction_spec::address_from_ed25519(to.key.public_key().as_bytes());
    let mut nonce = to
        .rpc
        .call::<junction_rpc::methods::Account>(&junction_rpc::methods::AccountParams {
            address: junction_rpc::Hex(address),
        })
        .await?
        .next_nonce;
    let mut waiting = Vec::new();
    let mut sent: Vec<([u8; 32], Vec<Option<u64>>)> = Vec::new();
    let last = batches.len().saturating_sub(1);
    'batches: for (i, mut msgs) in batches.into_iter().enumerate() {
        let mode = if i == 0 || i == last {
            BroadcastMode::Commit
        } else {
            BroadcastMode::Sync
        };
        while !msgs.is_empty() {
            let tx = junction_keys::sign_tx(
                &to.key,
                &to.chain,
                nonce,
                TxKind::Relay {
                    msgs: msgs.iter().map(|(_, m)| m.clone()).collect(),
                },
            );
            match to
                .rpc
                .call::<BroadcastTx>(&BroadcastParams {
                    tx: HexBytes(tx.to_bytes()),
                    mode,
                })
                .await
            {
                Ok(_) => {
                    nonce += 1;
                    sent.push((tx.hash(), msgs.iter().map(|(t, _)| *t).collect()));
                    break;
                }
                Err(ClientError::Rpc {
                    code: 3001,
                    name,
                    message,
                }) => {
                    let index = crate::refused_message_index(&message)
                        .filter(|i| *i < msgs.len())
                        .ok_or_else(|| {
                            eyre!(
                                "{} refused the transaction: {name}: {message}",
                                to.chain.as_str()
                            )
                        })?;
                    let (tag, _) = msgs.remove(index);
                    classify(to, &name, &message, tag, &mut waiting);
                    // The cursor comes back to the first entry that waits, so the entries
                    // after it are carried again next cycle: sending them now would only
                    // have them refused there as already held, one broadcast each.
                    if !waiting.is_empty() {
                        break 'batches;
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
    rejected_in_blocks(to, &sent, &mut waiting).await?;
    Ok(waiting)
}

/// Files one refused message: dropped when the hub already holds what it carries, logged
/// when refused for good, kept in `waiting` otherwise.
fn classify(
    to: &Side,
    name: &str,
    message: &str,
    tag: Option<u64>,
    waiting: &mut Vec<Option<u64>>,
) {
    if settled(name) {
        return;
    }
    if refused_for_good(name) {
        warn!(hub = to.chain.as_str(), error = %name, entry = ?tag, "refused for good: {message}");
        return;
    }
    warn!(hub = to.chain.as_str(), error = %name, entry = ?tag, "refused for now: {message}");
    waiting.push(tag);
}

/// Finds the messages of the `sent` transactions that their blocks refused
/// (`relay/rejected`), and files each (a refusal of the whole transaction, each message).
/// A transaction not found committed within 30 s leaves all its messages waiting.
async fn rejected_in_blocks(
    to: &Side,
    sent: &[([u8; 32], Vec<Option<u64>>)],
    waiting: &mut Vec<Option<u64>>,
) -> eyre::Result<()> {
    use junction_rpc::methods::{BlockEvents, GetTx, Height, TxParams};
    let mut blocks: std::collections::BTreeMap<u64, Vec<junction_hub_app::Event>> =
        std::collections::BTreeMap::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    for (hash, tags) in sent {
        let committed = loop {
            match to
                .rpc
                .call::<GetTx>(&TxParams {
                    hash: junction_rpc::Hex(*hash),
                })
                .await
            {
                Ok(t) => break Some(t),
                Err(ClientError::Rpc { .. }) if tokio::time::Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(ClientError::Rpc { .. }) => break None,
                Err(e) => return Err(e.into()),
            }
        };
        let Some(committed) = committed else {
            warn!(
                hub = to.chain.as_str(),
                tx = hex::encode(hash),
                "not committed in 30 s: its entries wait"
            );
            waiting.extend(tags.iter().copied());
            continue;
        };
        if let std::collections::btree_map::Entry::Vacant(slot) = blocks.entry(committed.height) {
            let events = to
                .rpc
                .call::<BlockEvents>(&Height {
                    height: committed.height,
                })
                .await?
                .events;
            slot.insert(events);
        }
        let hex_hash = hex::encode(hash);
        let events = blocks
            .get(&committed.height)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        for e in events
            .iter()
            .filter(|e| e.kind == "relay/rejected" && e.tx == hex_hash)
        {
            let attr = |k: &str| {
                e.attributes
                    .iter()
                    .find(|(key, _)| key == k)
                    .map(|(_, v)| v.as_str())
            };
            let name = attr("error").unwrap_or("unknown");
            let message = attr("message").unwrap_or("");
            match attr("index").and_then(|i| i.parse::<usize>().ok()) {
                Some(i) => {
                    if let Some(tag) = tags.get(i) {
                        classify(to, name, message, *tag, waiting);
                    }
                }
                None => {
                    for tag in tags {
                        classify(to, name, message, *tag, waiting);
                    }
                }
            }
        }
    }
    Ok(())
}

/// Runs the bridge of `config_path`.
pub async fn run(config_path: &Path) -> eyre::Result<()> {
    Bridge::new(&BridgeConfig::load(config_path)?)?.run().await
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use junction_spec::{Decode, Packet, Timeout};

    fn packet() -> Packet {
        Packet {
            version: Packet::VERSION,
            source_chain: ChainId::new("evm-x").unwrap(),
            source_app: vec![1; 20],
            sequence: 4,
            dest_chain: ChainId::new("evm-c").unwrap(),
            dest_app: vec![2; 20],
            payload: b"p".to_vec(),
            timeout: Timeout {
                height: 0,
                time_ms: 9,
            },
            gas_limit: 1,
            fee: 0,
        }
    }

    /// Each kind of entry becomes the message the receiving hub rebuilds it from: the
    /// packet, the claimed outcome and result, under the proof given.
    #[test]
    fn each_entry_kind_is_carried_as_the_message_that_proves_it() {
        let binding = hub_target_binding(&ChainId::new("hub-b").unwrap());
        let proof = SourceProof {
            height: 7,
            proof: vec![1, 2],
        };
        let entry =
            |kind, result: &[u8]| LogEntry::new(kind, binding, 0, packet(), result.to_vec());
        assert_eq!(
            message_for(&entry(EntryKind::Packet, b""), proof.clone()),
            Some(RelayMsg::RecvPacket {
                packet: packet(),
                proof: proof.clone()
            })
        );
        for (kind, ok) in [(EntryKind::Ack, true), (EntryKind::ErrorAck, false)] {
            assert_eq!(
                message_for(&entry(kind, b"why"), proof.clone()),
                Some(RelayMsg::AckPacket {
                    packet: packet(),
                    app_succeeded: ok,
                    result: b"why".to_vec(),
                    proof: proof.clone()
                })
            );
        }
        assert_eq!(
            message_for(&entry(EntryKind::Timeout, b""), proof.clone()),
            Some(RelayMsg::TimeoutPacket {
                packet: packet(),
                absence: proof.clone(),
                commitment: None
            })
        );
        assert_eq!(
            message_for(&entry(EntryKind::SequenceSkip, b""), proof),
            None
        );
        assert!(settled("already_received") && !settled("relayer_rate_limited"));
        assert!(refused_for_good("log_proof") && !refused_for_good("unknown_height"));
    }

    /// A full batch, the client update and [`ENTRIES_PER_TX`] entries, is one transaction
    /// the hub decodes (one entry more is refused as malformed, and the bridge would stall
    /// on a backlog of 64).
    #[test]
    fn a_full_batch_with_its_client_update_fits_one_relay_transaction() {
        let update = RelayMsg::UpdateClient {
            chain: ChainId::new("hub-a").unwrap(),
            header: vec![0; 100],
        };
        let recv = RelayMsg::RecvPacket {
            packet: packet(),
            proof: SourceProof {
                height: 1,
                proof: vec![0; 40],
            },
        };
        let tx_with = |entries: usize| {
            let mut msgs = vec![update.clone()];
            msgs.extend(std::iter::repeat_n(recv.clone(), entries));
            let key = junction_keys::PrivateKey::from([7; 32]);
            junction_keys::sign_tx(
                &key,
                &ChainId::new("hub-b").unwrap(),
                0,
                TxKind::Relay { msgs },
            )
            .to_bytes()
        };
        assert!(junction_spec::SignedTx::from_bytes(&tx_with(ENTRIES_PER_TX)).is_ok());
        assert!(junction_spec::SignedTx::from_bytes(&tx_with(ENTRIES_PER_TX + 1)).is_err());
    }

    #[test]
    fn a_configuration_names_two_distinct_hubs_on_loopback() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hubs.toml");
        let hub = |id: &str, rpc: &str| HubEndpoint {
            rpc: rpc.into(),
            chain_id: id.into(),
            relayer_key_file: "k.json".into(),
        };
        let write = |c: &BridgeConfig| std::fs::write(&path, c.to_toml().unwrap()).unwrap();
        let ok = BridgeConfig {
            poll_ms: 500,
            hubs: vec![
                hub("hub-a", "http://127.0.0.1:1"),
                hub("hub-b", "http://127.0.0.1:2"),
            ],
        };
        write(&ok);
        assert_eq!(BridgeConfig::load(&path).unwrap(), ok);
        for (bad, why) in [
            (
                BridgeConfig {
                    hubs: vec![ok.hubs[0].clone()],
                    ..ok.clone()
                },
                "exactly two",
            ),
            (
                BridgeConfig {
                    hubs: vec![ok.hubs[0].clone(), ok.hubs[0].clone()],
                    ..ok.clone()
                },
                "one chain id",
            ),
            (
                BridgeConfig {
                    hubs: vec![ok.hubs[0].clone(), hub("hub-b", "http://10.1.1.1:2")],
                    ..ok.clone()
                },
                "127.0.0.1",
            ),
        ] {
            write(&bad);
            let e = BridgeConfig::load(&path).unwrap_err().to_string();
            assert!(e.contains(why), "{e}");
        }
    }
}
