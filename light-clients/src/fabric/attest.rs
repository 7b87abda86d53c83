//! Validation attestations: signed statements by peers that a transaction got a given
//! validation code.
//!
//! A Fabric block's `TRANSACTIONS_FILTER` metadata holds one validation code per envelope,
//! but the committing peer writes it locally and nobody signs it; the header hash and the
//! orderer signatures do not cover it. A light client therefore accepts a transaction as
//! valid only when peers of `k` distinct application orgs sign that it is.
//!
//! Encoding signed (all integers big-endian):
//!
//! ```text
//! "junction/fabric-validation/v1"
//! u32 len(channel)  || channel  (UTF-8)
//! u64 block_number
//! u32 len(tx_id)    || tx_id    (UTF-8)
//! u32 validation_code           (Fabric TxValidationCode; VALID = 0)
//! ```
//!
//! The digest is SHA-256 of that encoding; the signature is ECDSA P-256 (low-S, DER) over
//! the encoding, i.e. over that digest.

use std::collections::{BTreeMap, BTreeSet};

use sha2::{Digest, Sha256};

use super::block::TX_VALID;
use super::msp::{verify_signed_by_member, Msp};
use super::{bound, FabricError, MAX_ATTESTATIONS, MAX_ID_LEN};

/// Domain tag that starts every signed attestation.
pub const VALIDATION_DOMAIN: &[u8] = b"junction/fabric-validation/v1";

/// A peer's statement about the validation outcome of one transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidationAttestation {
    /// The channel id.
    pub channel: String,
    /// The block that holds the transaction.
    pub block_number: u64,
    /// The transaction id.
    pub tx_id: String,
    /// Fabric's `TxValidationCode` the peer's validator gave the transaction.
    pub validation_code: u32,
}

impl ValidationAttestation {
    /// The canonical encoding (see the module docs); the bytes a peer signs.
    pub fn signing_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(
            VALIDATION_DOMAIN
                .len()
                .saturating_add(24)
                .saturating_add(self.channel.len())
                .saturating_add(self.tx_id.len()),
        );
        out.extend_from_slice(VALIDATION_DOMAIN);
        put_str(&mut out, &self.channel);
        out.extend_from_slice(&self.block_number.to_be_bytes());
        put_str(&mut out, &self.tx_id);
        out.extend_from_slice(&self.validation_code.to_be_bytes());
        out
    }

    /// SHA-256 of [`Self::signing_bytes`].
    pub fn digest(&self) -> [u8; 32] {
        Sha256::digest(self.signing_bytes()).into()
    }
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    // Lengths are bounded by MAX_ID_LEN before signing or verifying; saturate regardless.
    let len = u32::try_from(s.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(s.as_bytes());
}

/// An attestation with the signer's serialized identity and DER signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedValidationAttestation {
    /// What is attested.
    pub attestation: ValidationAttestation,
    /// The peer's `msp.SerializedIdentity` bytes.
    pub signer: Vec<u8>,
    /// ECDSA P-256 DER signature over [`ValidationAttestation::signing_bytes`].
    pub signature: Vec<u8>,
}

/// Check that peers of at least `threshold` distinct application orgs attested `tx_id` in
/// block `block_number` of `channel` as VALID. Every attestation must be about that very
/// transaction and must verify; any validly signed non-VALID code refuses the transaction.
/// Returns the attesting orgs.
pub fn verify_validation_attestations(
    channel: &str,
    block_number: u64,
    tx_id: &str,
    attestations: &[SignedValidationAttestation],
    application_orgs: &BTreeMap<String, Msp>,
    threshold: usize,
) -> Result<Vec<String>, FabricError> {
    if threshold == 0 {
        return Err(FabricError::InvalidThreshold {
            what: "validation",
            threshold,
            orgs: application_orgs.len(),
        });
    }
    bound(
        "validation attestations",
        attestations.len(),
        MAX_ATTESTATIONS,
    )?;
    let mut orgs = BTreeSet::new();
    for s in attestations {
        let a = &s.attestation;
        bound("attested channel", a.channel.len(), MAX_ID_LEN)?;
        bound("attested tx id", a.tx_id.len(), MAX_ID_LEN)?;
        if a.channel != channel {
            return Err(FabricError::AttestationMismatch { what: "channel" });
        }
        if a.block_number != block_number {
            return Err(FabricError::AttestationMismatch {
                what: "block number",
            });
        }
        if a.tx_id != tx_id {
            return Err(FabricError::AttestationMismatch {
                what: "transaction id",
            });
        }
        let org = verify_signed_by_member(
            application_orgs,
            "application",
            &s.signer,
            &a.signing_bytes(),
            &s.signature,
            "validation attestation",
        )?;
        if a.validation_code != TX_VALID {
            return Err(FabricError::TxAttestedInvalid {
                code: a.validation_code,
            });
        }
        orgs.insert(org.to_string());
    }
    if orgs.len() < threshold {
        return Err(FabricError::InsufficientValidationAttestations {
            got: orgs.len(),
            need: threshold,
        });
    }
    Ok(orgs.into_iter().collect())
}
