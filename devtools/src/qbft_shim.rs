//! A QBFT-sealed view of an anvil chain, for testing the hub's `evm_qbft` path without Besu.
//!
//! The shim is a JSON-RPC proxy on 127.0.0.1 in front of one anvil. Every request goes to
//! anvil unchanged except the block queries (`eth_getBlockByNumber`, `eth_getBlockByHash`),
//! whose headers come back as a QBFT chain would serve them: `extraData` holds the
//! validator list, the proposer's vote, round 0 and a commit seal by every validator (test
//! keys with public seeds), `hash` is the QBFT block hash (seals and round left out) and
//! `parentHash` the previous block's QBFT hash. Everything else is anvil's, so the state
//! root, and with it every `eth_getProof` answer, is real.
//!
//! [`QbftShim::vote_add`] has the next sealed block carry a vote to add a validator; the
//! block after it lists the new validator and is sealed by the enlarged set, as Besu does
//! after a vote passes. Blocks are sealed in order and kept, so a block always reads the
//! same.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use eyre::{eyre, WrapErr};
use junction_light_clients::evm::header::EvmHeader;
use junction_light_clients::evm::qbft::testkit as qbft;
use junction_light_clients::evm::qbft::{EmptyVote, QbftExtraData, RoundEncoding, Vote, VoteType};
use k256::ecdsa::SigningKey;
use serde_json::{json, Value};
use tokio::sync::Mutex;

/// Most blocks the shim seals to answer one request (a request far ahead of what it has
/// sealed is refused rather than left to run for minutes).
pub const MAX_SEAL_AHEAD: u64 = 100_000;

struct Sealed {
    hash: [u8; 32],
    extra: Vec<u8>,
    validators: usize,
}

struct ShimState {
    upstream: String,
    http: reqwest::Client,
    /// The validators sealing the next block, ordered by address.
    validators: Vec<SigningKey>,
    /// A validator to add: voted in the next sealed block, listed from the one after.
    pending_vote: Option<SigningKey>,
    /// Sealed blocks by number, from 0 up without gaps.
    sealed: Vec<Sealed>,
    by_hash: BTreeMap<[u8; 32], u64>,
}

/// A running shim; stops when dropped.
pub struct QbftShim {
    endpoint: String,
    state: Arc<Mutex<ShimState>>,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for QbftShim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QbftShim")
            .field("endpoint", &self.endpoint)
            .finish()
    }
}

impl Drop for QbftShim {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl QbftShim {
    /// Starts a shim in front of the anvil at `upstream` (`http://127.0.0.1:…`), sealed by
    /// test validators `0..validators`.
    pub async fn start(upstream: &str, validators: usize) -> eyre::Result<Self> {
        let state = Arc::new(Mutex::new(ShimState {
            upstream: upstream.to_owned(),
            http: reqwest::Client::new(),
            validators: qbft::validator_keys(validators),
            pending_vote: None,
            sealed: Vec::new(),
            by_hash: BTreeMap::new(),
        }));
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .wrap_err("binding the QBFT shim")?;
        let endpoint = format!("http://{}", listener.local_addr()?);
        let app = Router::new()
            .route("/", post(handle))
            .with_state(state.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self {
            endpoint,
            state,
            task,
        })
    }

    /// The shim's JSON-RPC endpoint.
    pub fn endpoint(&self) -> String {
        self.endpoint.clone()
    }

    /// Addresses of the validators sealing the next block.
    pub async fn validators(&self) -> Vec<[u8; 20]> {
        qbft::addresses(&self.state.lock().await.validators)
    }

    /// How many validators block `number` lists and is sealed by, once it is sealed.
    pub async fn validators_at(&self, number: u64) -> Option<usize> {
        let s = self.state.lock().await;
        s.sealed.get(number as usize).map(|b| b.validators)
    }

    /// The next sealed block votes to add test validator `seed`; the block after lists it.
    pub async fn vote_add(&self, seed: u64) -> [u8; 20] {
        let key = qbft::validator_key(seed);
        let address = qbft::address(&key);
        self.state.lock().await.pending_vote = Some(key);
        address
    }
}

fn rpc_error(id: &Value, message: String) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32000, "message": message}})
}

async fn handle(
    State(state): State<Arc<Mutex<ShimState>>>,
    Json(body): Json<Value>,
) -> Json<Value> {
    match body {
        Value::Array(calls) => {
            let mut out = Vec::with_capacity(calls.len());
            for call in calls {
                out.push(one(&state, call).await);
            }
            Json(Value::Array(out))
        }
        call => Json(one(&state, call).await),
    }
}

async fn one(state: &Mutex<ShimState>, call: Value) -> Value {
    let id = call.get("id").cloned().unwrap_or(Value::Null);
    let method = call.get("method").and_then(Value::as_str).unwrap_or("");
    let mut s = state.lock().await;
    let result = match method {
        "eth_getBlockByNumber" | "eth_getBlockByHash" => s.block(&call).await,
        _ => s.forward(&call).await,
    };
    result.unwrap_or_else(|e| rpc_error(&id, format!("{e:#}")))
}

fn hex32(v: &Value) -> eyre::Result<[u8; 32]> {
    let s = v.as_str().ok_or_else(|| eyre!("not a hex string"))?;
    let b = hex::decode(s.trim_start_matches("0x"))?;
    b.try_into().map_err(|_| eyre!("not 32 bytes"))
}

fn hex_u64(v: &Value) -> eyre::Result<u64> {
    let s = v.as_str().ok_or_else(|| eyre!("not a hex quantity"))?;
    Ok(u64::from_str_radix(s.trim_start_matches("0x"), 16)?)
}

impl ShimState {
    async fn forward(&self, call: &Value) -> eyre::Result<Value> {
        Ok(self
            .http
            .post(&self.upstream)
            .json(call)
            .send()
            .await?
            .json::<Value>()
            .await?)
    }

    async fn upstream_block(&self, number: u64, full: bool) -> eyre::Result<Value> {
        let call = json!({
            "jsonrpc": "2.0", "id": 1, "method": "eth_getBlockByNumber",
            "params": [format!("0x{number:x}"), full],
        });
        let resp = self.forward(&call).await?;
        resp.get("result")
            .filter(|r| !r.is_null())
            .cloned()
            .ok_or_else(|| eyre!("anvil has no block {number}: {resp}"))
    }

    /// Seals every block up to `number` not sealed yet (`last`: block `number` as anvil
    /// already served it, so it is not fetched again).
    async fn seal_through(&mut self, number: u64, last: &Value) -> eyre::Result<()> {
        let next = self.sealed.len() as u64;
        if number >= next.saturating_add(MAX_SEAL_AHEAD) {
            return Err(eyre!("block {number} is too far ahead of the sealed chain"));
        }
        for n in next..=number {
            let block = if n == number {
                last.clone()
            } else {
                self.upstream_block(n, false).await?
            };
            let header: alloy::rpc::types::Header = serde_json::from_value(block)?;
            let rlp = alloy::rlp::encode(&header.inner);
            let mut evm = EvmHeader::decode(&rlp).map_err(|e| eyre!("anvil block {n}: {e}"))?;
            if let Some(parent) = n.checked_sub(1).and_then(|p| self.sealed.get(p as usize)) {
                evm.parent_hash = parent.hash;
            }
            let vote = self.pending_vote.take();
            let extra = QbftExtraData {
                vanity: [0; 32],
                validators: qbft::addresses(&self.validators),
                vote: vote.as_ref().map(|k| Vote {
                    recipient: qbft::address(k),
                    vote_type: VoteType::Add,
                }),
                empty_vote: EmptyVote::List,
                round: 0,
                round_encoding: RoundEncoding::FixedWidth,
                seals: Vec::new(),
            };
            let digest = qbft::seal_digest(&evm, &extra);
            let hash = qbft::block_hash(&evm, &extra);
            let mut sealed = extra.clone();
            sealed.seals = self
                .validators
                .iter()
                .map(|k| qbft::seal(k, &digest))
                .collect();
            if let Some(k) = vote {
                self.validators.push(k);
                self.validators.sort_by_key(qbft::address);
            }
            self.by_hash.insert(hash, n);
            self.sealed.push(Sealed {
                hash,
                validators: sealed.validators.len(),
                extra: sealed.encode(),
            });
        }
        Ok(())
    }

    async fn block(&mut self, call: &Value) -> eyre::Result<Value> {
        let id = call.get("id").cloned().unwrap_or(Value::Null);
        let params = call.get("params").and_then(Value::as_array);
        let which = params
            .and_then(|p| p.first())
            .cloned()
            .unwrap_or(Value::Null);
        let full = params
            .and_then(|p| p.get(1))
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let number = if call.get("method").and_then(Value::as_str) == Some("eth_getBlockByHash") {
            match self.by_hash.get(&hex32(&which)?) {
                Some(n) => *n,
                None => return Ok(json!({"jsonrpc": "2.0", "id": id, "result": null})),
            }
        } else {
            match which.as_str() {
                Some(tag) if !tag.starts_with("0x") => {
                    let latest = json!({"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber", "params": []});
                    let resp = self.forward(&latest).await?;
                    hex_u64(resp.get("result").unwrap_or(&Value::Null))?
                }
                _ => hex_u64(&which)?,
            }
        };
        let mut block = match self.upstream_block(number, full).await {
            Ok(b) => b,
            Err(_) => return Ok(json!({"jsonrpc": "2.0", "id": id, "result": null})),
        };
        self.seal_through(number, &block).await?;
        let sealed = self
            .sealed
            .get(number as usize)
            .ok_or_else(|| eyre!("block {number} was not sealed"))?;
        let parent = match number.checked_sub(1) {
            Some(p) => self.sealed.get(p as usize).map_or([0; 32], |s| s.hash),
            None => [0; 32],
        };
        block["hash"] = json!(format!("0x{}", hex::encode(sealed.hash)));
        block["extraData"] = json!(format!("0x{}", hex::encode(&sealed.extra)));
        if number > 0 {
            block["parentHash"] = json!(format!("0x{}", hex::encode(parent)));
        }
        Ok(json!({"jsonrpc": "2.0", "id": id, "result": block}))
    }
}
