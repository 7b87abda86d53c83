//! Where the EVM clients' `verify_membership` meets the Merkle-Patricia verifier.
//!
//! NOT WIRED YET: `prove` refuses every proof with [`ProofsNotWired`]. After the MPT work
//! (`evm/mpt.rs`) lands, its body becomes a call to `mpt::verify_state(state_root, path,
//! value, proof)` (or `mpt::verify_state_absent` when `value` is `None`), the `path` /
//! `proof` parameters become `&mpt::EvmPath` / `&mpt::EvmProof`, and the clients'
//! `type Path` / `type Proof` follow. Both clients call only this function.

/// Proofs cannot be checked until the MPT verifier is wired in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ProofsNotWired;

/// Check `proof` that `path` holds `value` (or nothing, for `None`) under the given roots.
pub(crate) fn prove(
    state_root: &[u8; 32],
    receipts_root: &[u8; 32],
    path: &[u8],
    value: Option<&[u8]>,
    proof: &[u8],
) -> Result<(), ProofsNotWired> {
    let _ = (state_root, receipts_root, path, value, proof);
    Err(ProofsNotWired)
}
