//! A small JSON-RPC client for the CLI, the relayer, the testnet supervisor and the
//! benchmarks, and the signing of the transactions they submit.

use serde_json::{json, Value};

/// An RPC call failed: transport, or an error object from the node.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The node could not be reached.
    #[error("cannot reach {url}: {reason}. Is the node running? (`junction start` / `junction testnet start`)")]
    Unreachable {
        /// Endpoint.
        url: String,
        /// Cause.
        reason: String,
    },
    /// The node answered with a JSON-RPC error.
    #[error("{name} (code {code}): {message}")]
    Rpc {
        /// Stable code.
        code: i64,
        /// Stable name.
        name: String,
        /// Message.
        message: String,
    },
    /// The answer was not JSON-RPC.
    #[error("unexpected answer: {0}")]
    Protocol(String),
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

    /// Sends a raw JSON body and returns the parsed answer.
    pub async fn raw(&self, body: &Value) -> Result<Value, ClientError> {
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
        resp.json::<Value>()
            .await
            .map_err(|e| ClientError::Protocol(e.to_string()))
    }

    /// Calls one method.
    pub async fn call(&self, method: &str, params: Value) -> Result<Value, ClientError> {
        let v = self
            .raw(&json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}))
            .await?;
        into_result(v)
    }
}

/// Turns one JSON-RPC response object into its result or error.
pub fn into_result(v: Value) -> Result<Value, ClientError> {
    if let Some(e) = v.get("error") {
        return Err(ClientError::Rpc {
            code: e.get("code").and_then(Value::as_i64).unwrap_or(0),
            name: e
                .pointer("/data/name")
                .and_then(Value::as_str)
                .unwrap_or("unknown")
                .to_string(),
            message: e
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
        });
    }
    v.get("result")
        .cloned()
        .ok_or_else(|| ClientError::Protocol(v.to_string()))
}

/// Signs a transaction.
pub fn sign_tx(
    key: &crate::context::PrivateKey,
    chain_id: &junction_spec::ChainId,
    nonce: u64,
    kind: junction_spec::TxKind,
) -> junction_spec::SignedTx {
    let body = junction_spec::TxBody {
        chain_id: chain_id.clone(),
        signer: *key.public_key().as_bytes(),
        nonce,
        kind,
    };
    let signature = key.sign(&body.sign_bytes()).to_bytes();
    junction_spec::SignedTx { body, signature }
}

/// Signs a `Remark` transaction.
pub fn sign_remark(
    key: &crate::context::PrivateKey,
    chain_id: &junction_spec::ChainId,
    nonce: u64,
    data: Vec<u8>,
) -> junction_spec::SignedTx {
    sign_tx(key, chain_id, nonce, junction_spec::TxKind::Remark { data })
}
