//! Checkpoint attestations: every validator signs the checkpoint of the block it precommits
//! with its secp256k1 attestation key, inside the precommit's vote extension. A commit
//! certificate therefore carries the signatures of more than 2/3 of the power over the
//! block's checkpoint, in the form an EVM gateway checks with `ecrecover`. Which validators
//! sign which height follows the council's validator changes ([`Signers`]).

use std::collections::BTreeMap;

use junction_light_clients::hub::recover_signer;
use junction_spec::attestation::AttestationSet;
use junction_spec::{BlockHeader, Checkpoint, Hash32, HubValidator, ValidatorSchedule};
use k256::ecdsa::SigningKey;

use crate::context::{Address, PublicKey, Validator, ValidatorSet};
use junction_hub_app::checkpoint_of;

/// Length of one attestation: `r ‖ s ‖ v`.
pub const ATTESTATION_LEN: usize = 65;

/// Who signs one height: its consensus validator set, the attestation set that signs its
/// checkpoint (the same validators' attestation keys), and the next height's attestation
/// set, which the checkpoint names so that gateways can follow a change.
#[derive(Debug, Clone)]
pub struct Signers {
    /// The consensus set of the height.
    pub validators: ValidatorSet,
    /// Its attestation set, in canonical order.
    pub set: AttestationSet,
    /// Its hash, named by the height's checkpoint.
    pub set_hash: Hash32,
    /// The next height's attestation set.
    pub next_set: AttestationSet,
    /// Its hash, the checkpoint's next-set hash.
    pub next_set_hash: Hash32,
    by_validator: BTreeMap<Address, [u8; 20]>,
}

fn consensus_set(validators: &[HubValidator]) -> Result<ValidatorSet, String> {
    let mut vals = Vec::with_capacity(validators.len());
    for v in validators {
        let pk = PublicKey::from_bytes(v.pub_key)
            .map_err(|e| format!("validator key {}: {e}", hex::encode(v.pub_key)))?;
        vals.push(Validator::new(pk, v.power));
    }
    ValidatorSet::new(vals).map_err(|e| e.to_string())
}

impl Signers {
    /// The signers of the height whose schedule is `schedule`.
    pub fn of(schedule: &ValidatorSchedule) -> Result<Self, String> {
        let set = junction_spec::attestation_set_of(&schedule.current)
            .map_err(|e| format!("attestation set: {e}"))?;
        let next_set = junction_spec::attestation_set_of(&schedule.next)
            .map_err(|e| format!("next attestation set: {e}"))?;
        let validators = consensus_set(&schedule.current)?;
        let by_validator = schedule
            .current
            .iter()
            .map(|v| {
                (
                    Address(junction_spec::address_from_ed25519(&v.pub_key)),
                    v.attestation_address,
                )
            })
            .collect();
        Ok(Self {
            validators,
            set_hash: set.hash(),
            set,
            next_set_hash: next_set.hash(),
            next_set,
            by_validator,
        })
    }

    /// The checkpoint of a block of this height.
    pub fn checkpoint(&self, header: &BlockHeader) -> Checkpoint {
        checkpoint_of(header, self.set_hash, self.next_set_hash)
    }

    /// The attestation address registered for a consensus validator.
    pub fn address_of(&self, validator: &Address) -> Option<[u8; 20]> {
        self.by_validator.get(validator).copied()
    }

    /// Whether `extension` is `validator`'s signature over `checkpoint_hash`.
    pub fn check(&self, validator: &Address, checkpoint_hash: &Hash32, extension: &[u8]) -> bool {
        let Some(expected) = self.address_of(validator) else {
            return false;
        };
        let Ok(sig) = <[u8; ATTESTATION_LEN]>::try_from(extension) else {
            return false;
        };
        recover_signer(checkpoint_hash, &sig, 0).is_ok_and(|a| a == expected)
    }
}

/// Signs a checkpoint hash: low-S, `v` = 27 + recovery id, as gateways expect.
pub fn sign(key: &SigningKey, checkpoint_hash: &Hash32) -> Result<[u8; ATTESTATION_LEN], String> {
    let mut out = junction_light_clients::evm::secp::sign_digest(key, checkpoint_hash)
        .ok_or_else(|| "signing the checkpoint failed".to_string())?;
    out[64] = out[64].saturating_add(27);
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn signatures_recover_to_the_key_and_are_low_s() {
        for seed in 1u8..20 {
            let key = SigningKey::from_slice(&[seed; 32]).unwrap();
            let digest = [seed.wrapping_mul(7); 32];
            let sig = sign(&key, &digest).unwrap();
            let addr = junction_light_clients::hub::eth_address(key.verifying_key());
            assert_eq!(recover_signer(&digest, &sig, 0).unwrap(), addr);
            let mut other = digest;
            other[0] ^= 1;
            assert_ne!(recover_signer(&other, &sig, 0).ok(), Some(addr));
        }
    }
}
