//! `state_proof`: a key's value, or its absence, at a committed height, with an ICS-23
//! proof against that height's app hash (`spec/hub-chain.md`, "State proofs"). Whoever
//! asks checks it with `junction_state_tree::verify_state_proof` and needs to trust only
//! the app hash, which a block header signed by the validators carries.

use serde_json::{json, Value};

use junction_state_tree::MAX_STATE_KEY_BYTES;

use crate::node::Shared;
use crate::rpc_error::{param_hex, param_u64, RpcError};
use crate::store::StoreError;
use crate::sync::read;

/// Handles the state methods; `None` when `method` is not one of them.
pub fn dispatch(shared: &Shared, method: &str, p: &Value) -> Option<Result<Value, RpcError>> {
    match method {
        "state_proof" => Some(state_proof(shared, p)),
        _ => None,
    }
}

fn state_proof(shared: &Shared, p: &Value) -> Result<Value, RpcError> {
    let key = param_hex(p, "key")?;
    if key.len() > MAX_STATE_KEY_BYTES {
        return Err(RpcError::params(format!(
            "`key` is {} bytes; state keys are at most {MAX_STATE_KEY_BYTES}",
            key.len()
        )));
    }
    let tip = read(&shared.chain).tip.height;
    let height = param_u64(p, "height")?.unwrap_or(tip);
    if height > tip {
        return Err(RpcError::new(
            -32011,
            "height_not_committed",
            format!("height {height} is above the last committed height {tip}"),
        ));
    }
    let proven = shared
        .store
        .state_proof(height, &key)
        .map_err(store_error)?;
    Ok(json!({
        "height": height,
        "app_hash": hex::encode(proven.root),
        "key": hex::encode(&key),
        "value": proven.value.map(hex::encode),
        "proof": hex::encode(proven.proof),
        "proof_format": "ics23:jmt-sha256",
    }))
}

fn store_error(e: StoreError) -> RpcError {
    match e {
        StoreError::StatePruned { .. } => RpcError::new(-32010, "state_pruned", e.to_string()),
        other => RpcError::new(-32603, other.name(), other.to_string()),
    }
}
