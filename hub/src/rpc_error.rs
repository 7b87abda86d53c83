//! The JSON-RPC error every method returns, and the parameter readers the method modules
//! share.

use serde_json::{json, Value};

use junction_hub_app::TxError;

/// A JSON-RPC error.
#[derive(Debug, Clone)]
pub struct RpcError {
    /// Stable code.
    pub code: i64,
    /// Stable short name.
    pub name: &'static str,
    /// What happened and what to do.
    pub message: String,
}

impl RpcError {
    pub(crate) fn new(code: i64, name: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            name,
            message: message.into(),
        }
    }
    pub(crate) fn params(msg: impl Into<String>) -> Self {
        Self::new(-32602, "invalid_params", msg)
    }
    pub(crate) fn internal(msg: impl ToString) -> Self {
        Self::new(-32603, "internal_error", msg.to_string())
    }
    pub(crate) fn not_found(msg: impl Into<String>) -> Self {
        Self::new(-32004, "not_found", msg)
    }
    pub(crate) fn to_json(&self) -> Value {
        json!({"code": self.code, "message": self.message, "data": {"name": self.name}})
    }
}

impl From<TxError> for RpcError {
    fn from(e: TxError) -> Self {
        RpcError::new(e.code(), e.name(), e.to_string())
    }
}

pub(crate) fn param_u64(p: &Value, name: &str) -> Result<Option<u64>, RpcError> {
    match p.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_u64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            .map(Some)
            .ok_or_else(|| RpcError::params(format!("`{name}` must be a non-negative integer"))),
    }
}

pub(crate) fn param_hex(p: &Value, name: &str) -> Result<Vec<u8>, RpcError> {
    let s = p
        .get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| RpcError::params(format!("`{name}` (hex string) is required")))?;
    hex::decode(s.trim_start_matches("0x"))
        .map_err(|e| RpcError::params(format!("`{name}` is not hex: {e}")))
}
