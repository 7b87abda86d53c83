//! RPC methods of the message path: the log (entries, inclusion proofs), light-client
//! heights, and the packet index (`packet_show`, `packet_list`).

use serde_json::{json, Value};

use junction_packets::{PacketRecord, PacketStatus};
use junction_spec::{ChainId, Encode, Hash32, LogEntry, RouteId};

use crate::node::Shared;
use crate::rpc_error::{param_u64, RpcError};
use crate::sync::read;
use junction_hub_app::relay::entry_kind_name;

/// Most entries one `log_entries` call returns.
pub const MAX_LOG_ENTRIES_PER_CALL: u64 = 1_000;
/// Most packets one `packet_list` call returns.
pub const MAX_PACKETS_PER_CALL: usize = 1_000;

fn str_param<'a>(p: &'a Value, name: &str) -> Option<&'a str> {
    p.get(name).and_then(Value::as_str)
}

fn entry_json(index: u64, e: &LogEntry) -> Value {
    json!({
        "index": index,
        "kind": entry_kind_name(e.kind),
        "target_chain": e.target_chain.as_str(),
        "ordered": e.is_ordered(),
        "ordered_from": e.ordered_from,
        "target_binding": hex::encode(e.target_binding),
        "key": hex::encode(e.packet.key().hash()),
        "packet": e.packet,
        "result_hex": hex::encode(&e.result),
        "entry_hex": hex::encode(e.to_bytes()),
    })
}

fn record_state(r: &PacketRecord) -> &'static str {
    match r.status() {
        PacketStatus::Received { .. } => "pending",
        PacketStatus::Outcome { kind, .. } => entry_kind_name(kind),
    }
}

fn record_json(key: &Hash32, r: &PacketRecord, entry: Option<&LogEntry>) -> Value {
    json!({
        "key": hex::encode(key),
        "packet_hash": hex::encode(r.packet_hash),
        "route": r.route.as_ref().map(|r| r.as_str()),
        "ordered": r.ordered,
        "state": record_state(r),
        "received_on_hub": r.received_on_hub,
        "packet_index": r.packet_index,
        "outcome": r.outcome.map(|o| json!({"kind": entry_kind_name(o.kind), "log_index": o.log_index})),
        "skip_index": r.skip_index,
        "packet": entry.map(|e| &e.packet),
    })
}

fn parse_key(p: &Value) -> Result<Hash32, RpcError> {
    let s = str_param(p, "key").ok_or_else(|| RpcError::params("`key` (hex) is required"))?;
    let b = hex::decode(s.trim_start_matches("0x"))
        .map_err(|e| RpcError::params(format!("`key` is not hex: {e}")))?;
    Hash32::try_from(b).map_err(|_| RpcError::params("`key` must be 32 bytes"))
}

/// Handles the message-path methods; `None` when `method` is not one of them.
pub fn dispatch(shared: &Shared, method: &str, p: &Value) -> Option<Result<Value, RpcError>> {
    let r = match method {
        "log_info" => log_info(shared),
        "log_entries" => log_entries(shared, p),
        "log_proof" => log_proof(shared, p),
        "log_proofs" => log_proofs(shared, p),
        "client_state" => client_state(shared, p),
        "packet_show" => packet_show(shared, p),
        "packet_list" => packet_list(shared, p),
        _ => return None,
    };
    Some(r)
}

fn log_info(shared: &Shared) -> Result<Value, RpcError> {
    let chain = read(&shared.chain);
    Ok(json!({
        "size": chain.packets.log().size(),
        "root": hex::encode(chain.packets.log().root()),
        "committed_size": chain.tip.log_size,
        "height": chain.tip.height,
    }))
}

fn log_entries(shared: &Shared, p: &Value) -> Result<Value, RpcError> {
    let from = param_u64(p, "from")?.unwrap_or(0);
    let chain = read(&shared.chain);
    let size = chain.packets.log().size();
    let to = param_u64(p, "to")?
        .unwrap_or(size)
        .min(size)
        .min(from.saturating_add(MAX_LOG_ENTRIES_PER_CALL));
    let target = str_param(p, "target_chain");
    let entries: Vec<Value> = (from..to)
        .filter_map(|i| chain.packets.log().entry(i).map(|e| (i, e)))
        .filter(|(_, e)| target.is_none_or(|t| e.target_chain.as_str() == t))
        .map(|(i, e)| entry_json(i, e))
        .collect();
    Ok(json!({"from": from, "to": to, "size": size, "entries": entries}))
}

fn log_proof(shared: &Shared, p: &Value) -> Result<Value, RpcError> {
    let index = param_u64(p, "index")?.ok_or_else(|| RpcError::params("`index` is required"))?;
    let tree_size =
        param_u64(p, "tree_size")?.ok_or_else(|| RpcError::params("`tree_size` is required"))?;
    let chain = read(&shared.chain);
    let log = chain.packets.log();
    let proof = log
        .inclusion_proof(index, tree_size)
        .map_err(|e| RpcError::params(format!("no inclusion proof: {e}")))?;
    let mut out = proven_entry(log, index, &proof)?;
    out["tree_size"] = json!(tree_size);
    Ok(out)
}

/// `{index, entry_hex, proof}` of the log entry at `index` with its inclusion proof.
fn proven_entry(
    log: &junction_packets::MessageLog,
    index: u64,
    proof: &[Hash32],
) -> Result<Value, RpcError> {
    let entry = log
        .entry(index)
        .ok_or_else(|| RpcError::not_found(format!("no log entry {index}")))?;
    Ok(json!({
        "index": index,
        "entry_hex": hex::encode(entry.to_bytes()),
        "proof": proof.iter().map(hex::encode).collect::<Vec<_>>(),
    }))
}

/// Most entries one `log_proofs` call proves.
pub const MAX_LOG_PROOFS: usize = 1_024;

/// The entries at `indices` (at most [`MAX_LOG_PROOFS`]) with their inclusion proofs in
/// the log at `tree_size`: what a relayer delivers under one checkpoint, in one request
/// and one pass over the tree instead of one per entry.
fn log_proofs(shared: &Shared, p: &Value) -> Result<Value, RpcError> {
    let tree_size =
        param_u64(p, "tree_size")?.ok_or_else(|| RpcError::params("`tree_size` is required"))?;
    let indices = p
        .get("indices")
        .and_then(Value::as_array)
        .ok_or_else(|| RpcError::params("`indices` (an array of entry indices) is required"))?;
    if indices.len() > MAX_LOG_PROOFS {
        return Err(RpcError::params(format!(
            "at most {MAX_LOG_PROOFS} indices per call, got {}",
            indices.len()
        )));
    }
    let indices = indices
        .iter()
        .map(|v| {
            v.as_u64()
                .ok_or_else(|| RpcError::params("`indices` must hold unsigned integers"))
        })
        .collect::<Result<Vec<u64>, RpcError>>()?;
    let chain = read(&shared.chain);
    let log = chain.packets.log();
    let proofs = log
        .inclusion_proofs(&indices, tree_size)
        .map_err(|e| RpcError::params(format!("no inclusion proof: {e}")))?;
    let out = indices
        .iter()
        .zip(proofs)
        .map(|(index, proof)| proven_entry(log, *index, &proof))
        .collect::<Result<Vec<Value>, RpcError>>()?;
    Ok(json!({"tree_size": tree_size, "proofs": out}))
}

fn client_state(shared: &Shared, p: &Value) -> Result<Value, RpcError> {
    let id = ChainId::new(str_param(p, "chain").unwrap_or_default())
        .map_err(|e| RpcError::params(format!("`chain`: {e}")))?;
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
    let ts = client.time_ms_at(latest).map(|ms| ms / 1000);
    let heights = client.heights();
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
    Ok(json!({
        "chain": id.as_str(),
        "latest_height": latest,
        "latest_timestamp": ts,
        "heights": heights,
        "status": status,
        "min_confirmations": registration.map(|r| r.params.min_confirmations),
        "gateway": hex::encode(client.gateway()),
        "binding": hex::encode(junction_hub_app::clients::target_binding(registration)),
        "frozen": frozen_by_vote,
    }))
}

fn packet_show(shared: &Shared, p: &Value) -> Result<Value, RpcError> {
    let key = parse_key(p)?;
    let chain = read(&shared.chain);
    let record = chain.packets.record(&key).ok_or_else(|| {
        RpcError::not_found(format!("the hub has no packet {}", hex::encode(key)))
    })?;
    let entry_index = record.packet_index.or(record.outcome.map(|o| o.log_index));
    let entry = entry_index.and_then(|i| chain.packets.log().entry(i));
    let steps: Value = shared
        .store
        .packet_steps(&key)
        .map_err(|e| RpcError::internal(e.to_string()))?
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(Value::Array(vec![]));
    let mut v = record_json(&key, record, entry);
    v["hub_steps"] = steps;
    v["committed_log_size"] = json!(chain.tip.log_size);
    Ok(v)
}

fn packet_list(shared: &Shared, p: &Value) -> Result<Value, RpcError> {
    let route = match str_param(p, "route") {
        Some(r) => Some(RouteId::new(r).map_err(|e| RpcError::params(format!("`route`: {e}")))?),
        None => None,
    };
    let state = str_param(p, "state");
    let limit = param_u64(p, "limit")?
        .map_or(MAX_PACKETS_PER_CALL, |n| n as usize)
        .min(MAX_PACKETS_PER_CALL);
    let chain = read(&shared.chain);
    let mut out = Vec::new();
    let mut total = 0usize;
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
        if out.len() < limit {
            let entry = r
                .packet_index
                .or(r.outcome.map(|o| o.log_index))
                .and_then(|i| chain.packets.log().entry(i));
            out.push(record_json(key, r, entry));
        }
    }
    Ok(json!({"total": total, "packets": out}))
}
