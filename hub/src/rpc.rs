//! JSON-RPC 2.0 over HTTP (`POST /`) and WebSocket (`GET /websocket`), and Prometheus text
//! at `GET /metrics`.
//!
//! Error codes are stable: JSON-RPC's own (-32700 parse, -32600 invalid request, -32601
//! unknown method, -32602 bad params, -32603 internal), -32001 body too large, -32002 batch
//! too large, -32004 not found, -32005 commit wait timed out, -32006 too many subscriptions,
//! -32010 state pruned, -32011 height not committed, and 1001.. for transaction refusals (see `TxError::code`). `error.data.name` carries the
//! short name of the rule that refused the request.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::{to_bytes, Body};
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};
use tokio::sync::broadcast;

use crate::context::Address;
use crate::metrics::Metrics;
use crate::node::{NewBlock, Shared};
use crate::rpc_error::{param_hex, param_u64, RpcError};
use crate::sync::read;
use junction_hub_app::Block;

#[derive(Clone)]
struct RpcState {
    shared: Arc<Shared>,
    subscriptions: Arc<AtomicUsize>,
}

/// The RPC router.
pub fn router(shared: Arc<Shared>) -> Router {
    let state = RpcState {
        shared,
        subscriptions: Arc::new(AtomicUsize::new(0)),
    };
    Router::new()
        .route("/", post(http_rpc))
        .route("/metrics", get(metrics))
        .route("/websocket", get(websocket))
        .layer(DefaultBodyLimit::disable())
        .with_state(state)
}

async fn metrics(State(s): State<RpcState>) -> impl IntoResponse {
    crate::metrics::metrics_response(s.shared.metrics.render())
}

fn error_response(id: Value, e: &RpcError) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": e.to_json()})
}

async fn http_rpc(State(s): State<RpcState>, body: Body) -> Response {
    let max = s.shared.config.rpc.max_body_bytes;
    let bytes = match to_bytes(body, max).await {
        Ok(b) => b,
        Err(_) => {
            Metrics::count(&s.shared.metrics.rpc_rejected, "body_too_large");
            let e = RpcError::new(
                -32001,
                "request_too_large",
                format!("request body is over the {max}-byte cap"),
            );
            return (
                StatusCode::PAYLOAD_TOO_LARGE,
                axum::Json(error_response(Value::Null, &e)),
            )
                .into_response();
        }
    };
    axum::Json(handle_payload(&s, &bytes).await).into_response()
}

async fn handle_payload(s: &RpcState, bytes: &[u8]) -> Value {
    let parsed: Value = match serde_json::from_slice(bytes) {
        Ok(v) => v,
        Err(e) => {
            Metrics::count(&s.shared.metrics.rpc_rejected, "parse_error");
            return error_response(
                Value::Null,
                &RpcError::new(-32700, "parse_error", format!("body is not JSON: {e}")),
            );
        }
    };
    match parsed {
        Value::Array(reqs) => {
            let cap = s.shared.config.rpc.max_batch;
            if reqs.is_empty() || reqs.len() > cap {
                Metrics::count(&s.shared.metrics.rpc_rejected, "batch_size");
                return error_response(
                    Value::Null,
                    &RpcError::new(
                        -32002,
                        "batch_too_large",
                        format!("a batch holds 1 to {cap} requests, got {}", reqs.len()),
                    ),
                );
            }
            let txs: Vec<Vec<u8>> = reqs
                .iter()
                .filter(|r| r.get("method").and_then(Value::as_str) == Some("broadcast_tx"))
                .filter_map(|r| r.pointer("/params/tx").and_then(Value::as_str))
                .filter_map(|t| hex::decode(t.trim_start_matches("0x")).ok())
                .collect();
            s.shared.prime_signatures(txs.iter().map(Vec::as_slice));
            let mut out = Vec::with_capacity(reqs.len());
            for r in reqs {
                out.push(handle_one(s, r).await);
            }
            Value::Array(out)
        }
        single => handle_one(s, single).await,
    }
}

async fn handle_one(s: &RpcState, req: Value) -> Value {
    let id = req.get("id").cloned().unwrap_or(Value::Null);
    let Some(method) = req.get("method").and_then(Value::as_str) else {
        return error_response(
            id,
            &RpcError::new(
                -32600,
                "invalid_request",
                "a request needs a string `method`",
            ),
        );
    };
    let params = req.get("params").cloned().unwrap_or(Value::Null);
    match dispatch(&s.shared, method, &params).await {
        Ok(result) => json!({"jsonrpc": "2.0", "id": id, "result": result}),
        Err(e) => error_response(id, &e),
    }
}

fn block_json(shared: &Shared, height: u64, block: &Block) -> Value {
    let h = &block.header;
    let cert = shared
        .store
        .certificate(height)
        .ok()
        .flatten()
        .and_then(|c| crate::codec::decode_extended_cert(&mut junction_spec::Reader::new(&c)).ok());
    json!({
        "height": h.height,
        "hash": hex::encode(block.hash()),
        "header": {
            "chain_id": h.chain_id.as_str(),
            "height": h.height,
            "time_ms": h.time_ms,
            "prev_block_hash": hex::encode(h.prev_block_hash),
            "app_hash": hex::encode(h.app_hash),
            "log_size": h.log_size,
            "log_root": hex::encode(h.log_root),
            "validators_hash": hex::encode(h.validators_hash),
            "next_validators_hash": hex::encode(h.next_validators_hash),
            "proposer": hex::encode(h.proposer),
            "tx_root": hex::encode(h.tx_root),
        },
        "txs": block.txs.iter().map(|t| hex::encode(t.hash())).collect::<Vec<_>>(),
        "commit": cert.map(|c| json!({
            "round": c.round.as_i64(),
            "signatures": c.commit_signatures.len(),
            "extensions": c.commit_signatures.iter().filter(|s| s.extension.is_some()).count(),
        })),
    })
}

/// A committed block's checkpoint with the attestations its commit certificate carries:
/// what a relayer hands to a gateway.
fn checkpoint_json(shared: &Shared, height: u64, tip: u64) -> Result<Value, RpcError> {
    use junction_spec::Encode as _;
    if height == 0 {
        return Err(RpcError::params("checkpoints start at height 1"));
    }
    let block = shared
        .block(height)
        .map_err(RpcError::internal)?
        .ok_or_else(|| {
            RpcError::not_found(format!("no block at height {height} (tip is {tip})"))
        })?;
    let cert = shared
        .store
        .certificate(height)
        .map_err(|e| RpcError::internal(e.to_string()))?
        .ok_or_else(|| RpcError::not_found(format!("no commit certificate at height {height}")))?;
    let cert = crate::codec::decode_extended_cert(&mut junction_spec::Reader::new(&cert))
        .map_err(|e| RpcError::internal(format!("stored certificate {height}: {e}")))?;
    let attestation = &shared.attestation;
    let checkpoint = attestation.checkpoint(&block.header);
    let digest = checkpoint.hash();
    // Only attestations that verify are served, one per attester, in set order.
    let mut by_attester = std::collections::BTreeMap::new();
    for s in &cert.commit_signatures {
        let Some(ext) = &s.extension else { continue };
        if attestation.check(&s.address, &digest, &ext.message) {
            if let Some(a) = attestation.address_of(&s.address) {
                by_attester.insert(a, hex::encode(&ext.message));
            }
        }
    }
    let signed: u64 = by_attester
        .keys()
        .filter_map(|a| attestation.set.power_of(a))
        .sum();
    let total: u64 = attestation.set.attesters.iter().map(|a| a.power).sum();
    Ok(json!({
        "height": height,
        "checkpoint": checkpoint,
        "checkpoint_hex": hex::encode(checkpoint.to_bytes()),
        "hash": hex::encode(digest),
        "signatures": by_attester.values().collect::<Vec<_>>(),
        "attestation_set_hex": hex::encode(attestation.set.to_bytes()),
        "signed_power": signed,
        "total_power": total,
    }))
}

/// Handles one method call.
pub async fn dispatch(shared: &Arc<Shared>, method: &str, p: &Value) -> Result<Value, RpcError> {
    match method {
        "status" => {
            let chain = read(&shared.chain);
            let pool = crate::sync::lock(&shared.mempool);
            Ok(json!({
                "chain_id": shared.chain_id().as_str(),
                "moniker": shared.config.moniker,
                "height": chain.tip.height,
                "latest_block_hash": hex::encode(chain.tip.block_hash),
                "latest_block_time_ms": chain.tip.time_ms,
                "app_hash": hex::encode(chain.tip.app_hash),
                "round": chain.round,
                "total_txs": chain.tip.total_txs,
                "mempool_txs": pool.len(),
                "mempool_bytes": pool.bytes(),
            }))
        }
        "block" => {
            let tip = read(&shared.chain).tip.height;
            let height = param_u64(p, "height")?.unwrap_or(tip);
            let block = shared
                .block(height)
                .map_err(RpcError::internal)?
                .ok_or_else(|| {
                    RpcError::not_found(format!("no block at height {height} (tip is {tip})"))
                })?;
            Ok(block_json(shared, height, &block))
        }
        "checkpoint" => {
            let tip = read(&shared.chain).tip.height;
            let height = param_u64(p, "height")?.unwrap_or(tip);
            checkpoint_json(shared, height, tip)
        }
        "block_events" => {
            let height =
                param_u64(p, "height")?.ok_or_else(|| RpcError::params("`height` is required"))?;
            let events = shared
                .events(height)
                .map_err(RpcError::internal)?
                .ok_or_else(|| RpcError::not_found(format!("no block at height {height}")))?;
            Ok(json!({"height": height, "events": events}))
        }
        "broadcast_tx" => {
            let bytes = param_hex(p, "tx")?;
            let mode = p.get("mode").and_then(Value::as_str).unwrap_or("sync");
            if mode != "sync" && mode != "commit" {
                return Err(RpcError::params("`mode` is `sync` or `commit`"));
            }
            // Subscribe before admission so the block that includes it cannot be missed.
            let mut blocks = shared.blocks.subscribe();
            let hash = shared.admit_tx(&bytes, true)?;
            if mode == "sync" {
                return Ok(json!({"hash": hex::encode(hash)}));
            }
            let wait = async {
                loop {
                    match blocks.recv().await {
                        Ok(b) => {
                            if let Some(i) = b.tx_hashes.iter().position(|h| h == &hash) {
                                return Ok((b.height, i));
                            }
                        }
                        Err(broadcast::error::RecvError::Lagged(_)) => {
                            if let Ok(Some((h, i))) = shared.store.tx_location(&hash) {
                                return Ok((h, i as usize));
                            }
                        }
                        Err(broadcast::error::RecvError::Closed) => {
                            return Err(RpcError::internal("node is shutting down"))
                        }
                    }
                }
            };
            match tokio::time::timeout(Duration::from_secs(30), wait).await {
                Ok(Ok((height, index))) => Ok(json!({
                    "hash": hex::encode(hash),
                    "height": height,
                    "index": index,
                    "result": tx_result(shared, height, &hash),
                })),
                Ok(Err(e)) => Err(e),
                Err(_) => Err(RpcError::new(
                    -32005,
                    "commit_timeout",
                    "transaction is in the mempool but was not committed within 30 s; query `tx` later",
                )),
            }
        }
        "tx" => {
            let hash: [u8; 32] = param_hex(p, "hash")?
                .try_into()
                .map_err(|_| RpcError::params("`hash` must be 32 bytes"))?;
            let (height, index) = shared
                .store
                .tx_location(&hash)
                .map_err(RpcError::internal)?
                .ok_or_else(|| RpcError::not_found("transaction not committed (or unknown)"))?;
            let block = shared
                .block(height)
                .map_err(RpcError::internal)?
                .ok_or_else(|| RpcError::internal("indexed block missing"))?;
            let tx = block
                .txs
                .get(index as usize)
                .ok_or_else(|| RpcError::internal("indexed transaction missing"))?;
            Ok(json!({
                "hash": hex::encode(hash),
                "height": height,
                "index": index,
                "tx": crate::node::tx_hex(tx),
                "signer": hex::encode(tx.body.signer_address()),
                "nonce": tx.body.nonce,
                "kind": tx.body.kind.name(),
                "result": tx_result(shared, height, &hash),
            }))
        }
        "validators" => {
            let vs = &shared.validator_set;
            Ok(json!({
                "height": read(&shared.chain).tip.height,
                "hash": hex::encode(vs.hash()),
                "total_power": vs.validators().iter().map(|v| v.voting_power).sum::<u64>(),
                "validators": vs.validators().iter().map(|v| json!({
                    "address": v.address.to_string(),
                    "pub_key": hex::encode(v.public_key.as_bytes()),
                    "power": v.voting_power,
                })).collect::<Vec<_>>(),
            }))
        }
        "account" => {
            let addr: [u8; 20] = param_hex(p, "address")?
                .try_into()
                .map_err(|_| RpcError::params("`address` must be 20 bytes"))?;
            let chain = read(&shared.chain);
            let remark = chain
                .state
                .get(&junction_hub_app::remark_key(&addr))
                .map(hex::encode);
            Ok(json!({
                "address": Address(addr).to_string(),
                "next_nonce": chain.state.next_nonce(&addr),
                "remark": remark,
            }))
        }
        "gov_list" | "gov_show" | "gov_params" | "council_list" | "chain_list" | "chain_show"
        | "route_list" | "route_show" => gov_query(shared, method, p),
        other => {
            // Log, packet and state queries read proofs and indexes: they run on the blocking
            // workers so that a large one never stalls the async workers (consensus, gossip).
            let (owned, method, params) = (Arc::clone(shared), other.to_owned(), p.clone());
            let answer = tokio::task::spawn_blocking(move || {
                crate::rpc_packets::dispatch(&owned, &method, &params)
                    .or_else(|| crate::rpc_state::dispatch(&owned, &method, &params))
            })
            .await
            .map_err(|e| RpcError::internal(format!("the query worker stopped: {e}")))?;
            answer.unwrap_or_else(|| {
                Err(RpcError::new(
                    -32601,
                    "method_not_found",
                    format!("unknown method `{other}`; methods: status, block, block_events, broadcast_tx, tx, validators, account, gov_list, gov_show, gov_params, council_list, chain_list, chain_show, route_list, route_show, log_info, log_entries, log_proof, log_proofs, client_state, packet_show, packet_list, state_proof (and subscribe over WebSocket)"),
                ))
            })
        }
    }
}

/// `"ok"`, or the named rule that made a committed transaction fail (its nonce is used).
fn tx_result(shared: &Shared, height: u64, hash: &[u8; 32]) -> Value {
    let hex_hash = hex::encode(hash);
    let failed = shared.events(height).ok().flatten().and_then(|events| {
        events
            .into_iter()
            .find(|e| e.kind == "tx_failed" && e.tx == hex_hash)
    });
    match failed {
        None => json!("ok"),
        Some(e) => {
            let attr = |k: &str| {
                e.attributes
                    .iter()
                    .find(|(a, _)| a == k)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default()
            };
            json!({"failed": attr("error"), "message": attr("message")})
        }
    }
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<Value, RpcError> {
    serde_json::to_value(v).map_err(RpcError::internal)
}

fn gov_query(shared: &Shared, method: &str, p: &Value) -> Result<Value, RpcError> {
    let (council, now) = {
        let chain = read(&shared.chain);
        let c = junction_hub_app::load_council(|k| chain.state.get(k).map(<[u8]>::to_vec))
            .map_err(RpcError::internal)?;
        (c, chain.tip.time_ms)
    };
    let id_str = || {
        p.get("id")
            .and_then(Value::as_str)
            .ok_or_else(|| RpcError::params("`id` (string) is required"))
    };
    match method {
        "gov_list" => Ok(Value::Array(
            council
                .proposals()
                .map(|pr| {
                    json!({
                        "id": pr.id,
                        "kind": pr.kind.name(),
                        "proposer": pr.proposer.as_str(),
                        "expedited": pr.expedited,
                        "status": pr.status,
                        "voting_ends_ms": pr.voting_ends_ms,
                        "votes": pr.votes.len(),
                    })
                })
                .collect(),
        )),
        "gov_show" => {
            let id = param_u64(p, "id")?.ok_or_else(|| RpcError::params("`id` is required"))?;
            let pr = council
                .proposal(id)
                .ok_or_else(|| RpcError::not_found(format!("no proposal {id}")))?;
            Ok(json!({
                "proposal": to_json(pr)?,
                "tally": council.tally(id).map(|t| to_json(&t)).transpose()?,
                "hub_time_ms": now,
                "voting_time_left_ms": pr.voting_ends_ms.saturating_sub(now),
                "timelock_ms": council.params().timelock_ms,
            }))
        }
        "gov_params" => to_json(council.params()),
        "council_list" => to_json(&council.members()),
        "chain_list" => Ok(Value::Array(
            council.chains().map(to_json).collect::<Result<_, _>>()?,
        )),
        "chain_show" => {
            let id = junction_spec::ChainId::new(id_str()?)
                .map_err(|e| RpcError::params(format!("`id`: {e}")))?;
            to_json(
                council
                    .chain(&id)
                    .ok_or_else(|| RpcError::not_found(format!("no chain {}", id.as_str())))?,
            )
        }
        "route_list" => Ok(Value::Array(
            council.routes().map(to_json).collect::<Result<_, _>>()?,
        )),
        _ => {
            let id = junction_spec::gov::RouteId::new(id_str()?)
                .map_err(|e| RpcError::params(format!("`id`: {e}")))?;
            to_json(
                council
                    .route(&id)
                    .ok_or_else(|| RpcError::not_found(format!("no route {}", id.as_str())))?,
            )
        }
    }
}

async fn websocket(State(s): State<RpcState>, ws: WebSocketUpgrade) -> Response {
    let max = s.shared.config.rpc.max_body_bytes;
    ws.max_message_size(max)
        .max_frame_size(max)
        .on_upgrade(move |socket| ws_session(s, socket))
}

struct SubscriptionGuard(Arc<AtomicUsize>);

impl Drop for SubscriptionGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn ws_session(s: RpcState, mut socket: WebSocket) {
    let mut sub: Option<(broadcast::Receiver<Arc<NewBlock>>, SubscriptionGuard)> = None;
    loop {
        let next_block = async {
            match sub.as_mut() {
                Some((rx, _)) => rx.recv().await.ok(),
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            msg = socket.recv() => {
                let Some(Ok(msg)) = msg else { return };
                let text = match msg {
                    Message::Text(t) => t.to_string(),
                    Message::Close(_) => return,
                    _ => continue,
                };
                let req: Value = match serde_json::from_str(&text) {
                    Ok(v) => v,
                    Err(e) => {
                        let r = error_response(Value::Null, &RpcError::new(-32700, "parse_error", e.to_string()));
                        if socket.send(Message::Text(r.to_string().into())).await.is_err() { return }
                        continue;
                    }
                };
                let id = req.get("id").cloned().unwrap_or(Value::Null);
                let reply = if req.get("method").and_then(Value::as_str) == Some("subscribe") {
                    let n = s.subscriptions.fetch_add(1, Ordering::SeqCst);
                    if n >= s.shared.config.rpc.max_subscriptions {
                        s.subscriptions.fetch_sub(1, Ordering::SeqCst);
                        error_response(id, &RpcError::new(-32006, "too_many_subscriptions", "subscription cap reached; close another subscription"))
                    } else {
                        sub = Some((s.shared.blocks.subscribe(), SubscriptionGuard(s.subscriptions.clone())));
                        json!({"jsonrpc": "2.0", "id": id, "result": {"subscribed": "new_block"}})
                    }
                } else {
                    handle_one(&s, req).await
                };
                if socket.send(Message::Text(reply.to_string().into())).await.is_err() { return }
            }
            Some(block) = next_block => {
                let note = json!({"jsonrpc": "2.0", "method": "new_block", "params": &*block});
                if socket.send(Message::Text(note.to_string().into())).await.is_err() { return }
            }
        }
    }
}
