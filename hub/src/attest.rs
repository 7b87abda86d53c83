//! Checkpoint attestations: every validator signs the checkpoint of the block it precommits
//! with its secp256k1 attestation key, inside the precommit's vote extension. A commit
//! certificate therefore carries the signatures of more than 2/3 of the power over the
//! block's checkpoint, in the form an EVM gateway checks with `ecrecover`.

use std::collections::BTreeMap;

use junction_light_clients::hub::recover_signer;
use junction_spec::attestation::AttestationSet;
use junction_spec::{BlockHeader, Checkpoint, Hash32};
use k256::ecdsa::SigningKey;

use crate::config::Genesis;
use crate::context::{Address, PublicKey};
use junction_hub_app::checkpoint_of;

/// Length of one attestation: `r ‖ s ‖ v`.
pub const ATTESTATION_LEN: usize = 65;

/// The hub's attestation set and who in the consensus set holds which attestation key.
#[derive(Debug, Clone)]
pub struct Attestation {
    /// The set, in canonical order.
    pub set: AttestationSet,
    /// Its hash, named by every checkpoint.
    pub set_hash: Hash32,
    by_validator: BTreeMap<Address, [u8; 20]>,
}

impl Attestation {
    /// The genesis attestation set. Validator-set changes do not move it yet: the council's
    /// executed validator proposals are not applied to consensus (see spec/hub-chain.md),
    /// so the next-set hash always equals the current one.
    pub fn from_genesis(genesis: &Genesis) -> Result<Self, String> {
        let set = genesis.attestation_set()?;
        let mut by_validator = BTreeMap::new();
        for (pub_key, address) in genesis.attestation_addresses()? {
            let bytes: [u8; 32] = hex::decode(&pub_key)
                .ok()
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| format!("validator key `{pub_key}` is not 32 bytes of hex"))?;
            let pk = PublicKey::from_bytes(bytes).map_err(|e| format!("validator key: {e}"))?;
            by_validator.insert(Address::from_public_key(&pk), address);
        }
        Ok(Self {
            set_hash: set.hash(),
            set,
            by_validator,
        })
    }

    /// The checkpoint of a block.
    pub fn checkpoint(&self, header: &BlockHeader) -> Checkpoint {
        checkpoint_of(header, self.set_hash)
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
