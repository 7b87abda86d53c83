//! The JSON-RPC error every method returns, and the typed step every method goes through:
//! parameters parsed into the method's type, its answer serialized from its type.

use serde_json::Value;

use serde::Deserialize as _;

use junction_rpc::methods::Method;
use junction_rpc::{codes, ErrorData, ErrorObject};

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
        Self::new(codes::INVALID_PARAMS, "invalid_params", msg)
    }
    pub(crate) fn internal(msg: impl ToString) -> Self {
        Self::new(codes::INTERNAL_ERROR, "internal_error", msg.to_string())
    }
    pub(crate) fn not_found(msg: impl Into<String>) -> Self {
        Self::new(codes::NOT_FOUND, "not_found", msg)
    }
    pub(crate) fn to_json(&self) -> Value {
        serde_json::to_value(ErrorObject {
            code: self.code,
            message: self.message.clone(),
            data: Some(ErrorData {
                name: self.name.to_string(),
            }),
        })
        .unwrap_or(Value::Null)
    }
}

impl From<TxError> for RpcError {
    fn from(e: TxError) -> Self {
        RpcError::new(e.code(), e.name(), e.to_string())
    }
}

/// Parses `p` as the parameters of `M` (absent parameters read as `{}`).
pub(crate) fn params<M: Method>(p: &Value) -> Result<M::Params, RpcError> {
    let empty = Value::Object(serde_json::Map::new());
    let p = if p.is_null() { &empty } else { p };
    M::Params::deserialize(p).map_err(|e| RpcError::params(format!("{}: {e}", M::NAME)))
}

/// Answers `M`'s call: parses its parameters, runs `f`, serializes the answer.
pub(crate) fn serve<M: Method>(
    p: &Value,
    f: impl FnOnce(M::Params) -> Result<M::Answer, RpcError>,
) -> Result<Value, RpcError> {
    let answer = f(params::<M>(p)?)?;
    serde_json::to_value(answer).map_err(RpcError::internal)
}
