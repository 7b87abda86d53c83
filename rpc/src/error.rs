//! The error object every method answers with, as it travels, and the errors a client
//! sees.

use serde::{Deserialize, Serialize};

/// `data` of a JSON-RPC error: the stable name of what went wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorData {
    /// Stable short name (`invalid_params`, `not_found`, a transaction rule, ...).
    pub name: String,
}

/// A JSON-RPC error object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorObject {
    /// Stable code.
    pub code: i64,
    /// What happened and what to do.
    pub message: String,
    /// The stable name.
    pub data: Option<ErrorData>,
}

/// Codes the hub answers with besides the transaction rules' own.
pub mod codes {
    /// The body is not JSON.
    pub const PARSE_ERROR: i64 = -32700;
    /// Not a JSON-RPC request.
    pub const INVALID_REQUEST: i64 = -32600;
    /// No such method.
    pub const METHOD_NOT_FOUND: i64 = -32601;
    /// Parameters missing or malformed.
    pub const INVALID_PARAMS: i64 = -32602;
    /// The node failed to answer.
    pub const INTERNAL_ERROR: i64 = -32603;
    /// Nothing by that key or height.
    pub const NOT_FOUND: i64 = -32004;
    /// Admitted but not committed within the wait.
    pub const COMMIT_TIMEOUT: i64 = -32005;
    /// The state at that height was pruned.
    pub const STATE_PRUNED: i64 = -32010;
    /// The height is above the last committed one.
    pub const HEIGHT_NOT_COMMITTED: i64 = -32011;
}

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
    /// The answer was not JSON-RPC, or not the shape the method answers in.
    #[error("unexpected answer: {0}")]
    Protocol(String),
}

impl From<ErrorObject> for ClientError {
    fn from(e: ErrorObject) -> Self {
        ClientError::Rpc {
            code: e.code,
            name: e.data.map_or_else(|| "unknown".to_string(), |d| d.name),
            message: e.message,
        }
    }
}
