//! A JSON-RPC client for the CLI, the relayer, the testnet supervisor and the benchmarks.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{ClientError, ErrorObject};
use crate::methods::Method;

/// Most requests in one JSON-RPC batch the client sends: the hub's default
/// `rpc.max_batch`, which refuses larger batches.
pub const MAX_BATCH: usize = 64;

/// A request as it travels.
#[derive(Debug, Serialize)]
struct Request<'a, P> {
    jsonrpc: &'static str,
    id: u64,
    method: &'a str,
    params: &'a P,
}

/// An answer as it travels: a result or an error.
#[derive(Debug, Deserialize)]
struct Response {
    #[serde(default)]
    id: Option<Value>,
    #[serde(default)]
    result: Option<Value>,
    #[serde(default)]
    error: Option<ErrorObject>,
}

impl Response {
    fn into_answer<A: for<'de> Deserialize<'de>>(self, method: &str) -> Result<A, ClientError> {
        if let Some(e) = self.error {
            return Err(e.into());
        }
        let result = self
            .result
            .ok_or_else(|| ClientError::Protocol(format!("{method}: neither result nor error")))?;
        serde_json::from_value(result)
            .map_err(|e| ClientError::Protocol(format!("{method} answer: {e}")))
    }
}

/// Talks to one node.
#[derive(Debug, Clone)]
pub struct RpcClient {
    url: String,
    http: reqwest::Client,
}

impl RpcClient {
    /// A client for `url` (e.g. `http://127.0.0.1:26602`).
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            http: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(60))
                .build()
                .unwrap_or_default(),
        }
    }

    /// The endpoint.
    pub fn url(&self) -> &str {
        &self.url
    }

    async fn post<B: Serialize + ?Sized, R: for<'de> Deserialize<'de>>(
        &self,
        body: &B,
    ) -> Result<R, ClientError> {
        let resp = self
            .http
            .post(&self.url)
            .json(body)
            .send()
            .await
            .map_err(|e| ClientError::Unreachable {
                url: self.url.clone(),
                reason: e.to_string(),
            })?;
        resp.json::<R>()
            .await
            .map_err(|e| ClientError::Protocol(e.to_string()))
    }

    /// Calls method `M`.
    pub async fn call<M: Method>(&self, params: &M::Params) -> Result<M::Answer, ClientError> {
        self.call_by_name(M::NAME, params).await
    }

    /// Calls any method by name with JSON parameters (an operator's `junction query`).
    pub async fn call_named(&self, method: &str, params: &Value) -> Result<Value, ClientError> {
        self.call_by_name(method, params).await
    }

    async fn call_by_name<P: Serialize, A: for<'de> Deserialize<'de>>(
        &self,
        method: &str,
        params: &P,
    ) -> Result<A, ClientError> {
        let answer: Response = self
            .post(&Request {
                jsonrpc: "2.0",
                id: 1,
                method,
                params,
            })
            .await?;
        answer.into_answer(method)
    }

    /// Calls method `M` once per element of `params`, in JSON-RPC batches of at most
    /// [`MAX_BATCH`]; the answers come in the order of `params`. An error for the whole
    /// batch (transport, a refused batch) is the outer error.
    pub async fn call_batch<M: Method>(
        &self,
        params: &[M::Params],
    ) -> Result<Vec<Result<M::Answer, ClientError>>, ClientError> {
        let mut out = Vec::with_capacity(params.len());
        for chunk in params.chunks(MAX_BATCH) {
            let reqs: Vec<Request<'_, M::Params>> = chunk
                .iter()
                .enumerate()
                .map(|(i, p)| Request {
                    jsonrpc: "2.0",
                    id: i as u64,
                    method: M::NAME,
                    params: p,
                })
                .collect();
            let answer: Value = self.post(&reqs).await?;
            let answers: Vec<Response> = match answer {
                Value::Array(a) => a
                    .into_iter()
                    .map(serde_json::from_value)
                    .collect::<Result<_, _>>()
                    .map_err(|e| ClientError::Protocol(format!("{} batch: {e}", M::NAME)))?,
                other => {
                    // A refused batch comes back as one error object.
                    let one: Response = serde_json::from_value(other)
                        .map_err(|e| ClientError::Protocol(format!("{} batch: {e}", M::NAME)))?;
                    return Err(match one.error {
                        Some(e) => e.into(),
                        None => ClientError::Protocol(format!(
                            "{}: the hub did not answer the batch with a list",
                            M::NAME
                        )),
                    });
                }
            };
            let mut by_id: std::collections::BTreeMap<u64, Response> = answers
                .into_iter()
                .filter_map(|a| Some((a.id.as_ref()?.as_u64()?, a)))
                .collect();
            for i in 0..chunk.len() as u64 {
                let a = by_id.remove(&i).ok_or_else(|| {
                    ClientError::Protocol(format!("{} batch: no answer to request {i}", M::NAME))
                })?;
                out.push(a.into_answer(M::NAME));
            }
        }
        Ok(out)
    }

    /// Calls a method by name with untyped parameters, for tools that pass through what
    /// a user typed; programs use [`RpcClient::call`].
    pub async fn call_untyped(&self, method: &str, params: &Value) -> Result<Value, ClientError> {
        let answer: Response = self
            .post(&Request {
                jsonrpc: "2.0",
                id: 1,
                method,
                params,
            })
            .await?;
        answer.into_answer(method)
    }

    /// Sends a raw JSON body and returns the parsed answer (for tests of malformed input
    /// and of batches).
    pub async fn raw(&self, body: &Value) -> Result<Value, ClientError> {
        self.post(body).await
    }
}
