//! `state_proof`: a key's value, or its absence, at a committed height, with an ICS-23
//! proof against that height's app hash (`spec/hub-chain.md`, "State proofs"). Whoever
//! asks checks it with `junction_state_tree::verify_state_proof` and needs to trust only
//! the app hash, which a block header signed by the validators carries.

use serde_json::Value;

use junction_state_tree::MAX_STATE_KEY_BYTES;

use crate::node::Shared;
use crate::rpc_error::{serve, RpcError};
use crate::store::StoreError;
use crate::sync::read;
use junction_rpc::methods::{
    Method as _, StateProof, StateProofAnswer, StateProofParams, STATE_PROOF_FORMAT,
};
use junction_rpc::{codes, Hex, HexBytes};

/// Handles the state methods; `None` when `method` is not one of them.
pub fn dispatch(shared: &Shared, method: &str, p: &Value) -> Option<Result<Value, RpcError>> {
    match method {
        StateProof::NAME => Some(serve::<StateProof>(p, |q| state_proof(shared, q))),
        _ => None,
    }
}

fn state_proof(shared: &Shared, q: StateProofParams) -> Result<StateProofAnswer, RpcError> {
    let key = q.key.0;
    if key.len() > MAX_STATE_KEY_BYTES {
        return Err(RpcError::params(format!(
            "`key` is {} bytes; state keys are at most {MAX_STATE_KEY_BYTES}",
            key.len()
        )));
    }
    let tip = read(&shared.chain).tip.height;
    let height = q.height.unwrap_or(tip);
    if height > tip {
        return Err(RpcError::new(
            codes::HEIGHT_NOT_COMMITTED,
            "height_not_committed",
            format!("height {height} is above the last committed height {tip}"),
        ));
    }
    let proven = shared
        .store
        .state_proof(height, &key)
        .map_err(store_error)?;
    Ok(StateProofAnswer {
        height,
        app_hash: Hex(proven.root),
        key: HexBytes(key),
        value: proven.value.map(HexBytes),
        proof: HexBytes(proven.proof),
        proof_format: STATE_PROOF_FORMAT.to_string(),
    })
}

fn store_error(e: StoreError) -> RpcError {
    match e {
        StoreError::StatePruned { .. } => {
            RpcError::new(codes::STATE_PRUNED, "state_pruned", e.to_string())
        }
        other => RpcError::new(codes::INTERNAL_ERROR, other.name(), other.to_string()),
    }
}
