//! secp256k1 signer recovery shared by the EVM clients: 65-byte `r || s || v` signatures,
//! low-S only, the signer's address derived from the recovered key.

use k256::ecdsa::{RecoveryId, Signature, SigningKey, VerifyingKey};
use k256::elliptic_curve::scalar::IsHigh;

use super::header::keccak256;

/// Why a 65-byte signature gave no signer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigError {
    /// `v` is not an accepted recovery id.
    BadRecoveryId {
        /// The byte found.
        v: u8,
    },
    /// `r` or `s` is zero or not below the group order, or no key recovers.
    Invalid,
    /// `s` is in the upper half of the order: the malleable twin of a valid signature.
    HighS,
}

/// The Ethereum address of a public key: the last 20 bytes of keccak256 of the
/// uncompressed point without its `0x04` tag.
pub fn address_of_key(key: &VerifyingKey) -> [u8; 20] {
    let point = key.to_encoded_point(false);
    let bytes = point.as_bytes();
    let hash = keccak256(bytes.get(1..).unwrap_or_default());
    let mut out = [0u8; 20];
    out.copy_from_slice(&hash[12..]);
    out
}

/// Recover the address that signed `digest`. `v` may be 0/1, and also 27/28 when
/// `allow_legacy_v` (the `eth_sign` convention).
pub fn recover_address(
    digest: &[u8; 32],
    sig: &[u8; 65],
    allow_legacy_v: bool,
) -> Result<[u8; 20], SigError> {
    let (rs, v) = sig.split_at(64);
    let v = v.first().copied().unwrap_or(0xff);
    let rec = match v {
        0 | 1 => v,
        27 | 28 if allow_legacy_v => v - 27,
        _ => return Err(SigError::BadRecoveryId { v }),
    };
    let recid = RecoveryId::from_byte(rec).ok_or(SigError::BadRecoveryId { v })?;
    let signature = Signature::from_slice(rs).map_err(|_| SigError::Invalid)?;
    if bool::from(signature.s().is_high()) {
        return Err(SigError::HighS);
    }
    let key = VerifyingKey::recover_from_prehash(digest, &signature, recid)
        .map_err(|_| SigError::Invalid)?;
    Ok(address_of_key(&key))
}

/// Sign `digest` with `key`, giving `r || s || v` with low S and `v` in {0, 1} (callers add
/// 27 for the `eth_sign` convention). Used by attesters, hub validators' checkpoint
/// attestations and the test kits; `None` only if the signer fails, which k256 does not do for a 32-byte digest.
pub fn sign_digest(key: &SigningKey, digest: &[u8; 32]) -> Option<[u8; 65]> {
    let (sig, recid) = key.sign_prehash_recoverable(digest).ok()?;
    // k256 already returns low-S signatures; normalising again keeps this true whatever
    // the backend does, flipping the recovery parity with the sign of S.
    let (sig, recid) = match sig.normalize_s() {
        Some(low) => (
            low,
            RecoveryId::new(!recid.is_y_odd(), recid.is_x_reduced()),
        ),
        None => (sig, recid),
    };
    let mut out = [0u8; 65];
    out[..64].copy_from_slice(&sig.to_bytes());
    out[64] = recid.to_byte();
    Some(out)
}

/// A deterministic secp256k1 key from `domain` and `seed` (test kits only: the secret is
/// public by construction).
pub fn key_from_seed(domain: &[u8], seed: u64) -> SigningKey {
    use k256::elliptic_curve::ops::ReduceNonZero;
    let mut material = domain.to_vec();
    material.extend_from_slice(&seed.to_be_bytes());
    let bytes = keccak256(&material);
    let scalar =
        <k256::NonZeroScalar as ReduceNonZero<k256::U256>>::reduce_nonzero_bytes(&bytes.into());
    SigningKey::from(scalar)
}
