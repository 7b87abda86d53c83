//! The hub's validators as the council holds them, and the two sets derived from them:
//! the consensus set (ed25519 keys and powers, named by `validators_hash` in block headers)
//! and the attestation set (secp256k1 addresses and powers, named by checkpoints).
//!
//! Both are computed here, from the same list, so that the header a block carries, the
//! checkpoint validators sign and the set a gateway adopts always describe the same
//! validators.

use serde::{Deserialize, Serialize};

use crate::attestation::{AttestationSet, AttestationSetError, Attester};
use crate::encoding::{Decode, DecodeError, Encode, Reader};
use crate::hash::{tagged_hash, Hash32, HashTag};

/// One hub validator: its consensus key, its voting power and the Ethereum address of its
/// secp256k1 attestation key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct HubValidator {
    /// ed25519 consensus key.
    #[serde(with = "crate::serde_hex::array")]
    pub pub_key: [u8; 32],
    /// Voting power (non-zero).
    pub power: u64,
    /// Address of the attestation key that signs checkpoints for it.
    #[serde(with = "crate::serde_hex::array")]
    pub attestation_address: [u8; 20],
}

impl Encode for HubValidator {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.pub_key.encode_to(out);
        self.power.encode_to(out);
        self.attestation_address.encode_to(out);
    }
}

impl Decode for HubValidator {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            pub_key: Decode::decode_from(r)?,
            power: Decode::decode_from(r)?,
            attestation_address: Decode::decode_from(r)?,
        })
    }
}

/// The consensus set's hash: `tagged_hash(ValidatorSet, u32 count ‖ (pub_key ‖ u64 power)*)`
/// with the validators in address order.
pub fn validator_set_hash(validators: &[HubValidator]) -> Hash32 {
    let mut sorted: Vec<([u8; 20], &HubValidator)> = validators
        .iter()
        .map(|v| (crate::address_from_ed25519(&v.pub_key), v))
        .collect();
    sorted.sort_by_key(|a| a.0);
    let mut w = Vec::with_capacity(4 + sorted.len() * 40);
    w.extend_from_slice(&(sorted.len() as u32).to_be_bytes());
    for (_, v) in sorted {
        w.extend_from_slice(&v.pub_key);
        w.extend_from_slice(&v.power.to_be_bytes());
    }
    tagged_hash(HashTag::ValidatorSet, &w)
}

/// The attestation set of these validators: each one's attestation address with its power.
pub fn attestation_set_of(
    validators: &[HubValidator],
) -> Result<AttestationSet, AttestationSetError> {
    AttestationSet::new(
        validators
            .iter()
            .map(|v| Attester {
                address: v.attestation_address,
                power: v.power,
            })
            .collect(),
    )
}

/// The validators of two consecutive heights: `current` signs the next block, `next` the
/// one after it. An executed validator proposal changes the council's list at once, and
/// that list becomes `next` at the end of the block that executed it, so it signs two
/// heights after that block; the header in between names it as its next set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidatorSchedule {
    /// Validators of the next height.
    pub current: Vec<HubValidator>,
    /// Validators of the height after it.
    pub next: Vec<HubValidator>,
}

/// Most validators in one set (the council's bound).
pub const MAX_HUB_VALIDATORS: usize = 1_024;

impl Encode for ValidatorSchedule {
    fn encode_to(&self, out: &mut Vec<u8>) {
        for set in [&self.current, &self.next] {
            out.extend_from_slice(&(set.len() as u32).to_be_bytes());
            for v in set {
                v.encode_to(out);
            }
        }
    }
}

impl Decode for ValidatorSchedule {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let mut sets = [Vec::new(), Vec::new()];
        for set in &mut sets {
            let n = r.read_len(MAX_HUB_VALIDATORS)?;
            for _ in 0..n {
                set.push(HubValidator::decode_from(r)?);
            }
            if set.is_empty() || set.windows(2).any(|w| w[0].pub_key >= w[1].pub_key) {
                return Err(DecodeError::InvalidValue(
                    "validators not strictly sorted by key",
                ));
            }
        }
        let [current, next] = sets;
        Ok(Self { current, next })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn v(k: u8, power: u64) -> HubValidator {
        HubValidator {
            pub_key: [k; 32],
            power,
            attestation_address: [k; 20],
        }
    }

    #[test]
    fn the_set_hash_does_not_depend_on_the_order_given() {
        let a = [v(1, 10), v(2, 20), v(3, 30)];
        let b = [v(3, 30), v(1, 10), v(2, 20)];
        assert_eq!(validator_set_hash(&a), validator_set_hash(&b));
        assert_ne!(
            validator_set_hash(&a),
            validator_set_hash(&[v(1, 10), v(2, 20), v(3, 31)])
        );
        assert_eq!(
            attestation_set_of(&a).unwrap().hash(),
            attestation_set_of(&b).unwrap().hash()
        );
    }

    #[test]
    fn schedules_round_trip_and_refuse_unsorted_or_empty_sets() {
        let s = ValidatorSchedule {
            current: vec![v(1, 10), v(2, 20)],
            next: vec![v(1, 10), v(2, 20), v(4, 5)],
        };
        let bytes = s.to_bytes();
        assert_eq!(ValidatorSchedule::from_bytes(&bytes).unwrap(), s);
        let unsorted = ValidatorSchedule {
            current: vec![v(2, 20), v(1, 10)],
            next: vec![v(1, 10)],
        };
        assert!(matches!(
            ValidatorSchedule::from_bytes(&unsorted.to_bytes()),
            Err(DecodeError::InvalidValue(_))
        ));
        let empty = ValidatorSchedule {
            current: vec![],
            next: vec![v(1, 10)],
        };
        assert!(ValidatorSchedule::from_bytes(&empty.to_bytes()).is_err());
    }
}
