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

use crate::metrics::Metrics;
use crate::node::{NewBlock, Shared};
use crate::rpc_error::{params, serve, RpcError};
use crate::sync::read;
use junction_hub_app::StateReader as _;
use junction_rpc::methods::*;
use junction_rpc::{codes, Hex, HexBytes};

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
    // The client gauges read the committed state: on a blocking worker, like other reads.
    let shared = Arc::clone(&s.shared);
    let rendered = tokio::task::spawn_blocking(move || {
        crate::client_report::refresh_client_gauges(&shared);
        shared.metrics.render()
    })
    .await
    .unwrap_or_else(|e| {
        Err(crate::metrics::MetricsError::new(format!(
            "the metrics worker stopped: {e}"
        )))
    });
    crate::metrics::metrics_response(rendered)
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

fn block_answer(
    shared: &Shared,
    height: u64,
    h: &junction_spec::BlockHeader,
    tx_hashes: Vec<junction_spec::Hash32>,
) -> BlockAnswer {
    let cert = shared
        .store
        .certificate(height)
        .ok()
        .flatten()
        .and_then(|c| crate::codec::decode_extended_cert(&mut junction_spec::Reader::new(&c)).ok());
    BlockAnswer {
        height: h.height,
        hash: Hex(h.hash()),
        header: HeaderView {
            version: h.version,
            chain_id: h.chain_id.as_str().to_string(),
            height: h.height,
            time_ms: h.time_ms,
            prev_block_hash: Hex(h.prev_block_hash),
            app_hash: Hex(h.app_hash),
            log_size: h.log_size,
            log_root: Hex(h.log_root),
            validators_hash: Hex(h.validators_hash),
            next_validators_hash: Hex(h.next_validators_hash),
            proposer: Hex(h.proposer),
            tx_root: Hex(h.tx_root),
        },
        txs: tx_hashes.into_iter().map(Hex).collect(),
        commit: cert.map(|c| CommitView {
            round: c.round.as_i64(),
            signatures: c.commit_signatures.len() as u64,
            extensions: c
                .commit_signatures
                .iter()
                .filter(|s| s.extension.is_some())
                .count() as u64,
        }),
    }
}

/// A committed block's checkpoint with the attestations its commit certificate carries:
/// what a relayer hands to a gateway.
fn checkpoint_answer(shared: &Shared, height: u64, tip: u64) -> Result<CheckpointAnswer, RpcError> {
    use junction_spec::Encode as _;
    if height == 0 {
        return Err(RpcError::params("checkpoints start at height 1"));
    }
    let header = shared
        .block_header(height)
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
    let attestation = shared.signers_at(height).map_err(RpcError::internal)?;
    let checkpoint = attestation.checkpoint(&header);
    let digest = checkpoint.hash();
    // Only attestations that verify are served, one per attester, in set order.
    let mut by_attester = std::collections::BTreeMap::new();
    for s in &cert.commit_signatures {
        let Some(ext) = &s.extension else { continue };
        if attestation.check(&s.address, &digest, &ext.message) {
            if let Some(a) = attestation.address_of(&s.address) {
                by_attester.insert(a, HexBytes(ext.message.to_vec()));
            }
        }
    }
    let signed: u64 = by_attester
        .keys()
        .filter_map(|a| attestation.set.power_of(a))
        .sum();
    let total: u64 = attestation.set.attesters.iter().map(|a| a.power).sum();
    Ok(CheckpointAnswer {
        height,
        checkpoint_hex: HexBytes(checkpoint.to_bytes()),
        checkpoint,
        hash: Hex(digest),
        signatures: by_attester.into_values().collect(),
        attestation_set_hex: HexBytes(attestation.set.to_bytes()),
        next_attestation_set_hex: (attestation.next_set_hash != attestation.set_hash)
            .then(|| HexBytes(attestation.next_set.to_bytes())),
        signed_power: signed,
        total_power: total,
    })
}

/// Handles one method call.
pub async fn dispatch(shared: &Arc<Shared>, method: &str, p: &Value) -> Result<Value, RpcError> {
    match method {
        Status::NAME => serve::<Status>(p, |_| {
            let chain = read(&shared.chain);
            let pool = crate::sync::lock(&shared.mempool);
            Ok(StatusAnswer {
                chain_id: shared.chain_id().as_str().to_string(),
                moniker: shared.config.moniker.clone(),
                height: chain.tip.height,
                latest_block_hash: Hex(chain.tip.block_hash),
                latest_block_time_ms: chain.tip.time_ms,
                app_hash: Hex(chain.tip.app_hash),
                round: chain.round,
                total_txs: chain.tip.total_txs,
                mempool_txs: pool.len() as u64,
                mempool_bytes: pool.bytes() as u64,
            })
        }),
        GetBlock::NAME => serve::<GetBlock>(p, |q| {
            let tip = read(&shared.chain).tip.height;
            let height = q.height.unwrap_or(tip);
            let (header, tx_hashes) = shared
                .block_summary(height)
                .map_err(RpcError::internal)?
                .ok_or_else(|| {
                    RpcError::not_found(format!("no block at height {height} (tip is {tip})"))
                })?;
            Ok(block_answer(shared, height, &header, tx_hashes))
        }),
        GetCheckpoint::NAME => serve::<GetCheckpoint>(p, |q| {
            let tip = read(&shared.chain).tip.height;
            checkpoint_answer(shared, q.height.unwrap_or(tip), tip)
        }),
        BlockEvents::NAME => serve::<BlockEvents>(p, |q| {
            let events = shared
                .events(q.height)
                .map_err(RpcError::internal)?
                .ok_or_else(|| RpcError::not_found(format!("no block at height {}", q.height)))?;
            Ok(BlockEventsAnswer {
                height: q.height,
                events,
            })
        }),
        BroadcastTx::NAME => {
            let q = params::<BroadcastTx>(p)?;
            let answer = broadcast_tx(shared, q).await?;
            serde_json::to_value(answer).map_err(RpcError::internal)
        }
        GetTx::NAME => serve::<GetTx>(p, |q| {
            let hash = q.hash.0;
            let (height, index) = shared
                .store
                .tx_location(&hash)
                .map_err(RpcError::internal)?
                .ok_or_else(|| RpcError::not_found("transaction not committed (or unknown)"))?;
            let tx = shared
                .block_tx(height, index as usize)
                .map_err(RpcError::internal)?
                .ok_or_else(|| RpcError::internal("indexed transaction missing"))?;
            Ok(TxAnswer {
                hash: q.hash,
                height,
                index: u64::from(index),
                tx: HexBytes(junction_spec::Encode::to_bytes(&tx)),
                signer: Hex(tx.body.signer_address()),
                nonce: tx.body.nonce,
                kind: tx.body.kind.name().to_string(),
                result: tx_result(shared, height, &hash),
            })
        }),
        ValidatorChanges::NAME => serve::<ValidatorChanges>(p, |q| {
            let state = read(&shared.chain).state.clone();
            let heights = junction_hub_app::validators::validator_changes(state.as_ref())
                .map_err(RpcError::internal)?;
            let mut changes = Vec::new();
            for h in heights
                .into_iter()
                .filter(|h| *h >= q.from_height)
                .take(MAX_VALIDATOR_CHANGES_ANSWERED)
            {
                let s = junction_hub_app::schedule_at(
                    state.as_ref(),
                    &shared.rules.genesis_validators,
                    h,
                )
                .map_err(RpcError::internal)?;
                let signers = crate::attest::Signers::of(&s).map_err(RpcError::internal)?;
                changes.push(ValidatorChange {
                    height: h,
                    validators_hash: Hex(junction_spec::validator_set_hash(&s.current)),
                    next_validators_hash: Hex(junction_spec::validator_set_hash(&s.next)),
                    attestation_set_hash: Hex(signers.set_hash),
                    next_attestation_set_hash: Hex(signers.next_set_hash),
                });
            }
            Ok(ValidatorChangesAnswer { changes })
        }),
        Validators::NAME => serve::<Validators>(p, |q| {
            let tip = read(&shared.chain).tip.height;
            let at = q.height.unwrap_or(tip + 1);
            if at == 0 || at > tip + 1 {
                return Err(RpcError::params(format!(
                    "validators are known for heights 1 to {} (the next one)",
                    tip + 1
                )));
            }
            let signers = shared.signers_at(at).map_err(RpcError::internal)?;
            let vs = &signers.validators;
            let next = shared.signers_at(at + 1).map_err(RpcError::internal)?;
            Ok(ValidatorsAnswer {
                height: tip,
                signs_height: at,
                hash: Hex(vs.hash()),
                next_hash: Hex(next.validators.hash()),
                attestation_set_hash: Hex(signers.set_hash),
                total_power: vs.validators().iter().map(|v| v.voting_power).sum::<u64>(),
                validators: vs
                    .validators()
                    .iter()
                    .map(|v| ValidatorView {
                        address: Hex(v.address.0),
                        pub_key: Hex(*v.public_key.as_bytes()),
                        power: v.voting_power,
                        attestation_address: Hex(signers
                            .address_of(&v.address)
                            .unwrap_or_default()),
                    })
                    .collect(),
            })
        }),
        Account::NAME => serve::<Account>(p, |q| {
            let addr = q.address.0;
            let chain = read(&shared.chain);
            let remark = chain
                .state
                .get(&junction_hub_app::remark_key(&addr))
                .map(|r| HexBytes(r.to_vec()));
            Ok(AccountAnswer {
                address: q.address,
                next_nonce: chain.state.next_nonce(&addr),
                remark,
            })
        }),
        GovList::NAME
        | GovShow::NAME
        | GovParamsQuery::NAME
        | CouncilList::NAME
        | ChainList::NAME
        | ChainShow::NAME
        | RetiredGateways::NAME
        | RouteList::NAME
        | RouteShow::NAME => gov_query(shared, method, p),
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
                    codes::METHOD_NOT_FOUND,
                    "method_not_found",
                    format!(
                        "unknown method `{other}`; methods: {} (and subscribe over WebSocket)",
                        METHODS.join(", ")
                    ),
                ))
            })
        }
    }
}

async fn broadcast_tx(shared: &Shared, q: BroadcastParams) -> Result<BroadcastAnswer, RpcError> {
    // Subscribe before admission so the block that includes it cannot be missed.
    let mut blocks = shared.blocks.subscribe();
    let hash = shared.admit_tx(&q.tx.0, true)?;
    if q.mode == BroadcastMode::Sync {
        return Ok(BroadcastAnswer {
            hash: Hex(hash),
            height: None,
            index: None,
            result: None,
        });
    }
    let wait = async {
        loop {
            match blocks.recv().await {
                Ok(b) => {
                    if let Some(i) = b.tx_hashes.iter().position(|h| h == &hash) {
                        return Ok((b.height, i as u64));
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    if let Ok(Some((h, i))) = shared.store.tx_location(&hash) {
                        return Ok((h, u64::from(i)));
                    }
                }
                Err(broadcast::error::RecvError::Closed) => {
                    return Err(RpcError::internal("node is shutting down"))
                }
            }
        }
    };
    match tokio::time::timeout(Duration::from_secs(30), wait).await {
        Ok(Ok((height, index))) => Ok(BroadcastAnswer {
            hash: Hex(hash),
            height: Some(height),
            index: Some(index),
            result: Some(tx_result(shared, height, &hash)),
        }),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(RpcError::new(
            codes::COMMIT_TIMEOUT,
            "commit_timeout",
            "transaction is in the mempool but was not committed within 30 s; query `tx` later",
        )),
    }
}

/// `Ok`, or the named rule that made a committed transaction fail (its nonce is used).
fn tx_result(shared: &Shared, height: u64, hash: &[u8; 32]) -> TxResult {
    let hex_hash = hex::encode(hash);
    let failed = shared.events(height).ok().flatten().and_then(|events| {
        events
            .into_iter()
            .find(|e| e.kind == "tx_failed" && e.tx == hex_hash)
    });
    match failed {
        None => TxResult::Ok,
        Some(e) => {
            let attr = |k: &str| {
                e.attributes
                    .iter()
                    .find(|(a, _)| a == k)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default()
            };
            TxResult::Failed {
                failed: attr("error"),
                message: attr("message"),
            }
        }
    }
}

fn gov_query(shared: &Shared, method: &str, p: &Value) -> Result<Value, RpcError> {
    let (council, now) = {
        let chain = read(&shared.chain);
        let c =
            junction_hub_app::load_council(|k| chain.state.get(k)).map_err(RpcError::internal)?;
        (c, chain.tip.time_ms)
    };
    let chain_id = |id: &str| {
        junction_spec::ChainId::new(id).map_err(|e| RpcError::params(format!("`id`: {e}")))
    };
    let route_id = |id: &str| {
        junction_spec::gov::RouteId::new(id).map_err(|e| RpcError::params(format!("`id`: {e}")))
    };
    match method {
        GovList::NAME => serve::<GovList>(p, |_| {
            Ok(council
                .proposals()
                .map(|pr| ProposalSummary {
                    id: pr.id,
                    kind: pr.kind.name().to_string(),
                    proposer: pr.proposer.as_str().to_string(),
                    expedited: pr.expedited,
                    status: pr.status.clone(),
                    voting_ends_ms: pr.voting_ends_ms,
                    votes: pr.votes.len() as u64,
                })
                .collect())
        }),
        GovShow::NAME => serve::<GovShow>(p, |q| {
            let pr = council
                .proposal(q.id)
                .ok_or_else(|| RpcError::not_found(format!("no proposal {}", q.id)))?;
            Ok(GovShowAnswer {
                proposal: pr.clone(),
                tally: council.tally(q.id),
                hub_time_ms: now,
                voting_time_left_ms: pr.voting_ends_ms.saturating_sub(now),
                timelock_ms: council.params().timelock_ms,
            })
        }),
        GovParamsQuery::NAME => serve::<GovParamsQuery>(p, |_| Ok(council.params().clone())),
        CouncilList::NAME => serve::<CouncilList>(p, |_| Ok(council.members().to_vec())),
        ChainList::NAME => serve::<ChainList>(p, |_| Ok(council.chains().cloned().collect())),
        ChainShow::NAME => serve::<ChainShow>(p, |q| {
            let id = chain_id(&q.id)?;
            council
                .chain(&id)
                .cloned()
                .ok_or_else(|| RpcError::not_found(format!("no chain {}", id.as_str())))
        }),
        RetiredGateways::NAME => serve::<RetiredGateways>(p, |_| {
            Ok(council
                .retirements()
                .map(|(chain, r)| RetiredGateway {
                    chain: chain.as_str().to_string(),
                    proposal_id: r.proposal_id,
                    successor: r.successor.as_ref().map(|s| s.as_str().to_string()),
                    log_index: r.log_index,
                })
                .collect())
        }),
        RouteList::NAME => serve::<RouteList>(p, |_| Ok(council.routes().cloned().collect())),
        _ => serve::<RouteShow>(p, |q| {
            let id = route_id(&q.id)?;
            council
                .route(&id)
                .cloned()
                .ok_or_else(|| RpcError::not_found(format!("no route {}", id.as_str())))
        }),
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
