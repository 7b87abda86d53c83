//! RPC methods of the message path: the log (entries, inclusion proofs), light-client
//! heights, and the packet index (`packet_show`, `packet_list`).

use serde_json::Value;

use junction_packets::{PacketRecord, PacketStatus};
use junction_spec::{ChainId, Encode, Hash32, LogEntry, RouteId};

use std::sync::Arc;

use junction_packets::PacketState;
use junction_spec::merkle_store::{stored_inclusion_proof, StoredTreeError};
use junction_spec::Decode as _;

use crate::node::Shared;
use crate::rpc_error::{serve, RpcError};
use crate::snapshot::{all_statuses, status_of_name, status_prefix, Snapshot};
use crate::store::StoreError;
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

fn packet_view(
    snap: &Snapshot,
    key: &Hash32,
    r: &PacketRecord,
    entry: Option<&LogEntry>,
) -> PacketView {
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
        parked: junction_hub_app::state::parked(snap, key).map(|p| ParkedView {
            by: hex::encode(p.by),
            at_ms: p.at_ms,
            reason: p.reason,
        }),
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

/// What one call reads: the committed snapshot, the packet state over it and the tip,
/// taken under the chain lock and read after it is released (a commit never waits for
/// a query).
fn committed(shared: &Shared) -> (Arc<Snapshot>, PacketState, junction_hub_app::Tip) {
    let chain = read(&shared.chain);
    (
        Arc::clone(&chain.state),
        chain.packets.clone(),
        chain.tip.clone(),
    )
}

fn store_err(e: StoreError) -> RpcError {
    RpcError::internal(e.to_string())
}

/// Log entry `index` as the store holds it.
fn stored_entry(snap: &Snapshot, index: u64) -> Result<Option<LogEntry>, RpcError> {
    match snap.log_entry(index).map_err(store_err)? {
        None => Ok(None),
        Some(b) => LogEntry::from_bytes(&b)
            .map(Some)
            .map_err(|e| RpcError::internal(format!("stored log entry {index}: {e}"))),
    }
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
    let (snap, _, tip) = committed(shared);
    let size = tip.log_size;
    let to =
        q.to.unwrap_or(size)
            .min(size)
            .min(from.saturating_add(LogEntries::MAX));
    let target = q.target_chain.as_deref();
    let mut entries = Vec::new();
    for i in from..to {
        let Some(e) = stored_entry(&snap, i)? else {
            continue;
        };
        if target.is_none_or(|t| e.target_chain.as_str() == t) {
            entries.push(entry_view(i, &e));
        }
    }
    Ok(LogEntriesAnswer {
        from,
        to,
        size,
        entries,
    })
}

fn proof_err(e: StoredTreeError) -> RpcError {
    match e {
        StoredTreeError::Merkle(e) => RpcError::params(format!("no inclusion proof: {e}")),
        other => RpcError::internal(other.to_string()),
    }
}

/// A proof request must be at a size the committed log has reached.
fn check_size(tree_size: u64, committed: u64) -> Result<(), RpcError> {
    if tree_size > committed {
        return Err(RpcError::params(format!(
            "no inclusion proof: {}",
            junction_spec::MerkleError::InvalidSizes {
                old_size: tree_size,
                new_size: committed
            }
        )));
    }
    Ok(())
}

fn log_proof(shared: &Shared, q: LogProofParams) -> Result<LogProofAnswer, RpcError> {
    let (snap, _, tip) = committed(shared);
    check_size(q.tree_size, tip.log_size)?;
    let proof = stored_inclusion_proof(snap.as_ref(), q.index, q.tree_size).map_err(proof_err)?;
    Ok(LogProofAnswer {
        entry: proven_entry(&snap, q.index, &proof)?,
        tree_size: q.tree_size,
    })
}

/// The log entry at `index` with its inclusion proof.
fn proven_entry(snap: &Snapshot, index: u64, proof: &[Hash32]) -> Result<ProvenEntry, RpcError> {
    let entry = snap
        .log_entry(index)
        .map_err(store_err)?
        // The proof exists, so the log reached the index: only pruning removes an entry.
        .ok_or_else(|| {
            RpcError::not_found(format!(
                "log entry {index} was pruned: its packet settled longer ago than this node's \
                 packet_retention_blocks (its subtree roots and record are kept)"
            ))
        })?;
    Ok(ProvenEntry {
        index,
        entry_hex: HexBytes(entry),
        proof: proof.iter().map(|h| Hex(*h)).collect(),
    })
}

/// The entries at `indices` (at most [`LogProofs::MAX`]) with their inclusion proofs in
/// the log at `tree_size`: what a relayer delivers under one checkpoint, in one request.
/// Each proof is O(log² n) reads of stored subtree roots.
fn log_proofs(shared: &Shared, q: LogProofsParams) -> Result<LogProofsAnswer, RpcError> {
    if q.indices.len() > LogProofs::MAX {
        return Err(RpcError::params(format!(
            "at most {} indices per call, got {}",
            LogProofs::MAX,
            q.indices.len()
        )));
    }
    let (snap, _, tip) = committed(shared);
    check_size(q.tree_size, tip.log_size)?;
    let proofs = q
        .indices
        .iter()
        .map(|index| {
            let proof =
                stored_inclusion_proof(snap.as_ref(), *index, q.tree_size).map_err(proof_err)?;
            proven_entry(&snap, *index, &proof)
        })
        .collect::<Result<Vec<_>, RpcError>>()?;
    Ok(LogProofsAnswer {
        tree_size: q.tree_size,
        proofs,
    })
}

fn client_state(shared: &Shared, q: ClientStateParams) -> Result<ClientStateAnswer, RpcError> {
    let id = ChainId::new(&q.chain).map_err(|e| RpcError::params(format!("`chain`: {e}")))?;
    let (snap, _, tip) = committed(shared);
    let council = junction_hub_app::load_council(|k| snap.get(k)).map_err(RpcError::internal)?;
    let r = crate::client_report::report(snap.as_ref(), &council, &id, tip.time_ms)
        .map_err(|e| RpcError::not_found(format!("{}: {e}", e.name())))?;
    let registration = council.chain(&id).map(|c| &c.registration);
    let latest = r.client.latest_height();
    let attester_set = match &r.client {
        junction_hub_app::clients::AnyClient::EvmAttested(c) => Some(c.client().attester_set()),
        _ => None,
    };
    Ok(ClientStateAnswer {
        chain: id.as_str().to_string(),
        latest_height: latest,
        latest_timestamp: r.latest_time_ms.map(|ms| ms / 1000),
        heights: r.client.heights(),
        status: r.status.to_string(),
        min_confirmations: registration.map(|r| r.params.min_confirmations),
        gateway: HexBytes(r.client.gateway().to_vec()),
        binding: Hex(junction_hub_app::clients::target_binding(registration)),
        frozen: r.frozen_by_vote,
        hub_time_ms: tip.time_ms,
        age_secs: r.ages.age_secs,
        expires_in_secs: r.ages.expires_in_secs,
        trusting_period_ms: r.trusting_period_ms,
        frozen_height: r.frozen_height,
        evidence: r.evidence.map(HexBytes),
        attesters: attester_set
            .map(|s| s.attesters().iter().map(|a| HexBytes(a.to_vec())).collect()),
        attester_threshold: attester_set.map(|s| s.threshold() as u64),
    })
}

fn packet_show(shared: &Shared, q: PacketKeyParams) -> Result<PacketShowAnswer, RpcError> {
    let key = q.key.0;
    let (snap, packets, tip) = committed(shared);
    let record = packets.record(&key).ok_or_else(|| {
        RpcError::not_found(format!("the hub has no packet {}", hex::encode(key)))
    })?;
    let entry = match record.packet_index.or(record.outcome.map(|o| o.log_index)) {
        Some(i) => stored_entry(&snap, i)?,
        None => None,
    };
    let hub_steps = shared
        .store
        .packet_steps(&key, &record.log_indices().collect::<Vec<_>>())
        .map_err(store_err)?
        .into_iter()
        .map(serde_json::from_value::<PacketStep>)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| store_err(StoreError::Corrupt(format!("packet lifecycle step: {e}"))))?;
    Ok(PacketShowAnswer {
        packet: packet_view(&snap, &key, &record, entry.as_ref()),
        hub_steps,
        committed_log_size: tip.log_size,
    })
}

/// One page of packets by state and route, read from the status index: the total comes
/// from per-status counts and the page from a bounded range, never a scan of every record.
fn packet_list(shared: &Shared, q: PacketListParams) -> Result<PacketListAnswer, RpcError> {
    let route = match &q.route {
        Some(r) => Some(RouteId::new(r).map_err(|e| RpcError::params(format!("`route`: {e}")))?),
        None => None,
    };
    let statuses = match q.state.as_deref() {
        None => all_statuses(),
        Some(name) => match status_of_name(name) {
            Some(s) => vec![s],
            // No record is in a state of another name.
            None => Vec::new(),
        },
    };
    let prefixes: Vec<Vec<u8>> = if statuses.is_empty() {
        Vec::new()
    } else {
        match &route {
            Some(r) => statuses
                .iter()
                .map(|s| status_prefix(*s, Some(r)))
                .collect(),
            None if statuses.len() == all_statuses().len() => vec![Vec::new()],
            None => statuses.iter().map(|s| vec![*s]).collect(),
        }
    };
    let limit = q
        .limit
        .map_or(PacketList::MAX, |n| {
            usize::try_from(n).unwrap_or(usize::MAX)
        })
        .min(PacketList::MAX);
    let (snap, packets, _) = committed(shared);
    let page = snap
        .packet_page(&prefixes, q.after.as_ref().map(|c| c.0.as_slice()), limit)
        .map_err(store_err)?;
    let mut views = Vec::with_capacity(page.keys.len());
    for (_, key) in &page.keys {
        let r = packets.record(key).ok_or_else(|| {
            RpcError::internal(format!(
                "the status index names packet {} but the state has no record of it",
                hex::encode(key)
            ))
        })?;
        let entry = match r.packet_index.or(r.outcome.map(|o| o.log_index)) {
            Some(i) => stored_entry(&snap, i)?,
            None => None,
        };
        views.push(packet_view(&snap, key, &r, entry.as_ref()));
    }
    Ok(PacketListAnswer {
        total: page.total,
        packets: views,
        next: page.next.map(HexBytes),
    })
}
