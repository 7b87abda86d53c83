//! The attestation set: the hub validators' secp256k1 keys, named by their Ethereum
//! addresses, with their powers. Checkpoints name the set that signs them by its hash, so
//! an EVM gateway can check a signer with `ecrecover` and a lookup.
//!
//! Canonical form: attesters sorted by address, strictly increasing (so no duplicates), every
//! power non-zero, at most [`MAX_ATTESTERS`] of them, total power fitting in a `u64`, and at
//! least one attester. Decoding enforces it, so one set has exactly one encoding and one hash.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::encoding::{decode_vec, encode_vec, Decode, DecodeError, Encode, Reader};
use crate::hash::{tagged_hash, Hash32, HashTag};

/// Most attesters in one set.
pub const MAX_ATTESTERS: usize = 512;

/// One attester: the Ethereum address of its secp256k1 key (the last 20 bytes of the
/// keccak-256 of the uncompressed public key without its `0x04` prefix) and its power.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Attester {
    /// Ethereum address of the attester's secp256k1 key.
    #[serde(with = "crate::serde_hex::array")]
    pub address: [u8; 20],
    /// Voting power (non-zero).
    pub power: u64,
}

/// Why an attestation set is not in canonical form.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AttestationSetError {
    /// The set has no attester.
    #[error("the attestation set is empty")]
    Empty,
    /// More than [`MAX_ATTESTERS`] attesters.
    #[error("{0} attesters, the maximum is {MAX_ATTESTERS}")]
    TooMany(usize),
    /// An attester has zero power.
    #[error("attester {0} has zero power")]
    ZeroPower(usize),
    /// Addresses are not strictly increasing (unsorted or duplicated).
    #[error("attester {0} is not after the previous one (unsorted or duplicate address)")]
    NotStrictlyIncreasing(usize),
    /// The total power overflows a `u64`.
    #[error("total power overflows")]
    PowerOverflow,
}

/// The set of attesters that signs a checkpoint; `hash()` is what checkpoints name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttestationSet {
    /// Attesters in canonical order (strictly increasing address).
    pub attesters: Vec<Attester>,
}

impl AttestationSet {
    /// Builds a set from attesters in any order; sorts them and checks the rules.
    pub fn new(mut attesters: Vec<Attester>) -> Result<Self, AttestationSetError> {
        attesters.sort();
        let set = Self { attesters };
        set.validate()?;
        Ok(set)
    }

    /// Checks the canonical-form rules; returns the total power.
    pub fn validate(&self) -> Result<u64, AttestationSetError> {
        if self.attesters.is_empty() {
            return Err(AttestationSetError::Empty);
        }
        if self.attesters.len() > MAX_ATTESTERS {
            return Err(AttestationSetError::TooMany(self.attesters.len()));
        }
        let mut total: u64 = 0;
        let mut prev: Option<&[u8; 20]> = None;
        for (i, a) in self.attesters.iter().enumerate() {
            if a.power == 0 {
                return Err(AttestationSetError::ZeroPower(i));
            }
            if prev.is_some_and(|p| p >= &a.address) {
                return Err(AttestationSetError::NotStrictlyIncreasing(i));
            }
            prev = Some(&a.address);
            total = total
                .checked_add(a.power)
                .ok_or(AttestationSetError::PowerOverflow)?;
        }
        Ok(total)
    }

    /// Sum of all powers (saturating; a validated set never saturates).
    pub fn total_power(&self) -> u64 {
        self.attesters
            .iter()
            .fold(0u64, |acc, a| acc.saturating_add(a.power))
    }

    /// The power of `address`, if it is in the set.
    pub fn power_of(&self, address: &[u8; 20]) -> Option<u64> {
        self.attesters
            .binary_search_by(|a| a.address.cmp(address))
            .ok()
            .and_then(|i| self.attesters.get(i))
            .map(|a| a.power)
    }

    /// `tagged_hash(AttestationSet, encoding)`.
    pub fn hash(&self) -> Hash32 {
        tagged_hash(HashTag::AttestationSet, &self.to_bytes())
    }
}

impl Encode for Attester {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.address.encode_to(out);
        self.power.encode_to(out);
    }
}

impl Decode for Attester {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            address: Decode::decode_from(r)?,
            power: Decode::decode_from(r)?,
        })
    }
}

/// `count (u32, 1..=MAX_ATTESTERS) || (address[20] || power u64)*`.
impl Encode for AttestationSet {
    fn encode_to(&self, out: &mut Vec<u8>) {
        encode_vec(&self.attesters, out);
    }
}

impl Decode for AttestationSet {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let set = Self {
            attesters: decode_vec(r, MAX_ATTESTERS)?,
        };
        set.validate().map_err(|e| {
            DecodeError::NonCanonical(match e {
                AttestationSetError::Empty => "empty attestation set",
                AttestationSetError::TooMany(_) => "too many attesters",
                AttestationSetError::ZeroPower(_) => "attester with zero power",
                AttestationSetError::NotStrictlyIncreasing(_) => {
                    "attesters not strictly increasing"
                }
                AttestationSetError::PowerOverflow => "attestation power overflows",
            })
        })?;
        Ok(set)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn a(b: u8, power: u64) -> Attester {
        Attester {
            address: [b; 20],
            power,
        }
    }

    #[test]
    fn canonical_set_round_trips_and_hashes() {
        let set = AttestationSet::new(vec![a(3, 5), a(1, 7)]).unwrap();
        assert_eq!(set.attesters[0].address, [1; 20]);
        let bytes = set.to_bytes();
        assert_eq!(bytes.len(), 4 + 2 * 28);
        assert_eq!(AttestationSet::from_bytes(&bytes).unwrap(), set);
        assert_eq!(set.total_power(), 12);
        assert_eq!(set.power_of(&[3; 20]), Some(5));
        assert_eq!(set.power_of(&[2; 20]), None);
        assert_eq!(set.hash(), tagged_hash(HashTag::AttestationSet, &bytes));
    }

    #[test]
    fn non_canonical_sets_are_refused() {
        assert_eq!(AttestationSet::new(vec![]), Err(AttestationSetError::Empty));
        assert_eq!(
            AttestationSet::new(vec![a(1, 0)]),
            Err(AttestationSetError::ZeroPower(0))
        );
        assert_eq!(
            AttestationSet::new(vec![a(1, 1), a(1, 2)]),
            Err(AttestationSetError::NotStrictlyIncreasing(1))
        );
        assert_eq!(
            AttestationSet::new(vec![a(1, u64::MAX), a(2, 1)]),
            Err(AttestationSetError::PowerOverflow)
        );
        let unsorted = AttestationSet {
            attesters: vec![a(2, 1), a(1, 1)],
        };
        assert!(matches!(
            AttestationSet::from_bytes(&unsorted.to_bytes()),
            Err(DecodeError::NonCanonical(_))
        ));
        let empty = AttestationSet { attesters: vec![] };
        assert!(AttestationSet::from_bytes(&empty.to_bytes()).is_err());
    }
}
