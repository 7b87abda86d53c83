//! ICS-23 membership and non-membership proofs with pinned proof specs (in progress).
//!
//! Contract used by the Tendermint client (the bodies land with the ICS-23 work):
//! `verify_membership(root, path, value, proof_bytes)` and
//! `verify_non_membership(root, path, proof_bytes)`, where `root` is the header's app hash,
//! `path` the key path from the outermost store inward (`[store_name, key]` for a Cosmos
//! multistore), `proof_bytes` a protobuf `ibc.core.commitment.v1.MerkleProof`.

use thiserror::Error;

/// Why an ICS-23 proof was refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ProofError {
    /// Placeholder until the ICS-23 verifier lands.
    #[error("ICS-23 verification is not built yet")]
    NotBuilt,
}

impl crate::NamedError for ProofError {
    fn name(&self) -> &'static str {
        match self {
            ProofError::NotBuilt => "not_built",
        }
    }
}

/// Verify that `path` holds `value` under `root`.
pub fn verify_membership(
    _root: &[u8],
    _path: &[&[u8]],
    _value: &[u8],
    _proof: &[u8],
) -> Result<(), ProofError> {
    Err(ProofError::NotBuilt)
}

/// Verify that `path` holds nothing under `root`.
pub fn verify_non_membership(
    _root: &[u8],
    _path: &[&[u8]],
    _proof: &[u8],
) -> Result<(), ProofError> {
    Err(ProofError::NotBuilt)
}
