//! RPC methods of the message path: the log (entries, inclusion proofs), light-client
//! heights, and the packet index (`packet_show`, `packet_list`).

use serde_json::Value;

use junction_packets::{PacketRecord, PacketStatus};
use junction_spec::{ChainId, Encode, Hash32, LogEntry, RouteId};

use crate::node::Shared;
use crate::rpc_error::{serve, RpcError};
use crate::sync::read;
use junction_hub_app::relay::entry_kind_name;
use junction_hub_app::StateReader as _;
use junction_rpc::methods::*;
use junction_rpc::{Hex, HexBytes};

fn entry_view(index: u64, e: &LogEntry) -> EntryView {
    EntryView {
        index,
        kind: entry_kind_name(e.kind).to_string(),
        target_chain: e.target_chain.as_str().to_string(),
        ordered: e.is_ordered(),
        ordered_from: e.ordered_from,
        target_binding: Hex(e.target_binding),
        key: Hex(e.packet.key().hash()),
        packet: e.packet.clone(),
        result_hex: HexBytes(e.result.clone()),
        entry_hex: HexBytes(e.to_bytes()),
    }
}

fn record_state(r: &PacketRecord) -> &'static str {
    match r.status() {
        PacketStatus::Received { .. } => "pending",
        PacketStatus::Outcome { kind, .. } => entry_kind_name(kind),
    }
}

fn packet_view(key: &Hash32, r: &PacketRecord, entry: Option<&LogEntry>) -> PacketView {
    PacketView {
        key: Hex(*key),
        packet_hash: Hex(r.packet_hash),
        route: r.route.as_ref().map(|r| r.as_str().to_string()),
        ordered: r.ordered,
        state: record_state(r).to_string(),
        received_on_hub: r.received_on_hub,
        packet_index: r.packet_index,
        outcome: r.outcome.map(|o| OutcomeView {
            kind: entry_kind_name(o.kind).to_string(),
            log_index: o.log_index,
        }),
        skip_index: r.skip_index,
        packet: entry.map(|e| e.packet.clone()),
    }
}

/// Handles the message-path methods; `None` when `method` is not one of them.
pub fn dispatch(shared: &Shared, method: &str, p: &Value) -> Option<Result<Value, RpcError>> {
    let r = match method {
        LogInfo::NAME => serve::<LogInfo>(p, |_| log_info(shared)),
        LogEntries::NAME => serve::<LogEntries>(p, |q| log_entries(shared, q)),
        LogProof::NAME => serve::<LogProof>(p, |q| log_proof(shared, q)),
        LogProofs::NAME => serve::<LogProofs>(p, |q| log_proofs(shared, q)),
        GetClientState::NAME => serve::<GetClientState>(p, |q| client_state(shared, q)),
        PacketShow::NAME => serve::<PacketShow>(p, |q| packet_show(shared, q)),
        PacketList::NAME => serve::<PacketList>(p, |q| packet_list(shared, q)),
        _ => return None,
    };
    Some(r)
}

fn log_info(shared: &Shared) -> Result<LogInfoAnswer, RpcError> {
    let chain = read(&shared.chain);
    Ok(LogInfoAnswer {
        size: chain.packets.log().size(),
        root: Hex(chain.packets.log().root()),
        committed_size: chain.tip.log_size,
        height: chain.tip.height,
    })
}

fn log_entries(shared: &Shared, q: LogEntriesParams) -> Result<LogEntriesAnswer, RpcError> {
    let from = q.from.unwrap_or(0);
    let chain = read(&shared.chain);
    let size = chain.packets.log().size();
    let to =
        q.to.unwrap_or(size)
            .min(size)
            .min(from.saturating_add(LogEntries::MAX));
    let target = q.target_chain.as_deref();
    let entries = (from..to)
        .filter_map(|i| chain.packets.log().entry(i).map(|e| (i, e)))
        .filter(|(_, e)| target.is_none_or(|t| e.target_chain.as_str() == t))
        .map(|(i, e)| entry_view(i, e))
        .collect();
    Ok(LogEntriesAnswer {
        from,
        to,
        size,
        entries,
    })
}

fn log_proof(shared: &Shared, q: LogProofParams) -> Result<LogProofAnswer, RpcError> {
    let chain = read(&shared.chain);
    let log = chain.packets.log();
    let proof = log
        .inclusion_proof(q.index, q.tree_size)
        .map_err(|e| RpcError::params(format!("no inclusion proof: {e}")))?;
    Ok(LogProofAnswer {
        entry: proven_entry(log, q.index, &proof)?,
        tree_size: q.tree_size,
    })
}

/// The log entry at `index` with its inclusion proof.
fn proven_entry(
    log: &junction_packets::MessageLog,
    index: u64,
    proof: &[Hash32],
) -> Result<ProvenEntry, RpcError> {
    let entry = log
        .entry(index)
        .ok_or_else(|| RpcError::not_found(format!("no log entry {index}")))?;
    Ok(ProvenEntry {
        index,
        entry_hex: HexBytes(entry.to_bytes()),
        proof: proof.iter().map(|h| Hex(*h)).collect(),
    })
}

/// The entries at `indices` (at most [`LogProofs::MAX`]) with their inclusion proofs in
/// the log at `tree_size`: what a relayer delivers under one checkpoint, in one request
/// and one pass over the tree instead of one per entry.
fn log_proofs(shared: &Shared, q: LogProofsParams) -> Result<LogProofsAnswer, RpcError> {
    if q.indices.len() > LogProofs::MAX {
        return Err(RpcError::params(format!(
            "at most {} indices per call, got {}",
            LogProofs::MAX,
            q.indices.len()
        )));
    }
    let chain = read(&shared.chain);
    let log = chain.packets.log();
    let proofs = log
        .inclusion_proofs(&q.indices, q.tree_size)
        .map_err(|e| RpcError::params(format!("no inclusion proof: {e}")))?;
    let proofs = q
        .indices
        .iter()
        .zip(proofs)
        .map(|(index, proof)| proven_entry(log, *index, &proof))
        .collect::<Result<Vec<_>, RpcError>>()?;
    Ok(LogProofsAnswer {
        tree_size: q.tree_size,
        proofs,
    })
}

fn client_state(shared: &Shared, q: ClientStateParams) -> Result<ClientStateAnswer, RpcError> {
    let id = ChainId::new(&q.chain).map_err(|e| RpcError::params(format!("`chain`: {e}")))?;
    let chain = read(&shared.chain);
    let council = junction_hub_app::load_council(|k| chain.state.get(k).map(<[u8]>::to_vec))
        .map_err(RpcError::internal)?;
    let mut view = junction_hub_app::Overlay::new(&chain.state);
    let mut packets = junction_packets::PacketState::default();
    let mut council_copy = council.clone();
    let exec = junction_hub_app::relay::RelayExec {
        view: &mut view,
        council: &mut council_copy,
        packets: &mut packets,
        now_ms: chain.tip.time_ms,
    };
    let client = exec
        .client_even_frozen(&id)
        .map_err(|e| RpcError::not_found(format!("{}: {e}", e.name())))?;
    let latest = client.latest_height();
    let frozen_by_vote = council.chain(&id).is_some_and(|c| c.frozen);
    let status = match client.status(junction_light_clients::Timestamp::from_millis(
        chain.tip.time_ms,
    )) {
        _ if frozen_by_vote => "frozen",
        junction_light_clients::ClientStatus::Active => "active",
        junction_light_clients::ClientStatus::Expired => "expired",
        junction_light_clients::ClientStatus::Frozen { .. } => "frozen",
    };
    let registration = council.chain(&id).map(|c| &c.registration);
    Ok(ClientStateAnswer {
        chain: id.as_str().to_string(),
        latest_height: latest,
        latest_timestamp: client.time_ms_at(latest).map(|ms| ms / 1000),
        heights: client.heights(),
        status: status.to_string(),
        min_confirmations: registration.map(|r| r.params.min_confirmations),
        gateway: HexBytes(client.gateway().to_vec()),
        binding: Hex(junction_hub_app::clients::target_binding(registration)),
        frozen: frozen_by_vote,
    })
}

fn packet_show(shared: &Shared, q: PacketKeyParams) -> Result<PacketShowAnswer, RpcError> {
    let key = q.key.0;
    let chain = read(&shared.chain);
    let record = chain.packets.record(&key).ok_or_else(|| {
        RpcError::not_found(format!("the hub has no packet {}", hex::encode(key)))
    })?;
    let entry_index = record.packet_index.or(record.outcome.map(|o| o.log_index));
    let entry = entry_index.and_then(|i| chain.packets.log().entry(i));
    let hub_steps: Vec<PacketStep> = shared
        .store
        .packet_steps(&key)
        .map_err(|e| RpcError::internal(e.to_string()))?
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    Ok(PacketShowAnswer {
        packet: packet_view(&key, record, entry),
        hub_steps,
        committed_log_size: chain.tip.log_size,
    })
}

fn packet_list(shared: &Shared, q: PacketListParams) -> Result<PacketListAnswer, RpcError> {
    let route = match &q.route {
        Some(r) => Some(RouteId::new(r).map_err(|e| RpcError::params(format!("`route`: {e}")))?),
        None => None,
    };
    let state = q.state.as_deref();
    let limit = q
        .limit
        .map_or(PacketList::MAX, |n| {
            usize::try_from(n).unwrap_or(usize::MAX)
        })
        .min(PacketList::MAX);
    let chain = read(&shared.chain);
    let mut packets = Vec::new();
    let mut total = 0u64;
    for (key, r) in chain.packets.records() {
        if route
            .as_ref()
            .is_some_and(|id| r.route.as_ref() != Some(id))
        {
            continue;
        }
        if state.is_some_and(|s| s != record_state(r)) {
            continue;
        }
        total += 1;
        if packets.len() < limit {
            let entry = r
                .packet_index
                .or(r.outcome.map(|o| o.log_index))
                .and_then(|i| chain.packets.log().entry(i));
            packets.push(packet_view(key, r, entry));
        }
    }
    Ok(PacketListAnswer { total, packets })
}
