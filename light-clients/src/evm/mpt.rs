//! Merkle-Patricia proofs (in progress).
//!
//! Contract used by the EVM clients (the bodies land with the MPT work):
//! - `verify_account(state_root, address, account_proof) -> Result<Option<Account>, MptError>`
//! - `verify_storage(storage_root, slot, storage_proof) -> Result<[u8; 32], MptError>`
//!   (the zero word when the slot is absent),
//! - `verify_receipt(receipts_root, index, proof) -> Result<Option<Vec<u8>>, MptError>`,
//! - `verify_state(state_root, path: &EvmPath, value, proof: &EvmProof)` for the client's
//!   `verify_membership` (and `verify_state_absent` for non-membership).

use thiserror::Error;

/// Why a Merkle-Patricia proof was refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum MptError {
    /// Placeholder until the MPT verifier lands.
    #[error("MPT verification is not built yet")]
    NotBuilt,
}

impl crate::NamedError for MptError {
    fn name(&self) -> &'static str {
        match self {
            MptError::NotBuilt => "not_built",
        }
    }
}
