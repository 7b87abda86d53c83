//! Deterministic generators of attestation sets, signed checkpoints and log proofs, for
//! tests and benchmarks. Keys come from seeds; nothing here is random.

use junction_spec::attestation::{AttestationSet, Attester};
use junction_spec::merkle::{leaf_hash, node_hash};
use junction_spec::{ChainId, Checkpoint, Hash32};
use k256::ecdsa::SigningKey;
use sha2::{Digest, Sha256};

use super::{eth_address, RecoverableSignature, SignedCheckpoint};

fn seeded(domain: &[u8], seed: u64, i: u64) -> Hash32 {
    let mut h = Sha256::new();
    h.update(b"junction/hub-testkit/");
    h.update(domain);
    h.update(seed.to_be_bytes());
    h.update(i.to_be_bytes());
    h.finalize().into()
}

/// The attester key number `i` of seed `seed`.
pub fn attester_key(seed: u64, i: u64) -> SigningKey {
    let mut counter = 0u64;
    loop {
        let bytes = seeded(b"key", seed, i.wrapping_mul(1 << 16).wrapping_add(counter));
        if let Ok(key) = SigningKey::from_slice(&bytes) {
            return key;
        }
        counter = counter.wrapping_add(1);
    }
}

/// The Ethereum address of a signing key.
pub fn address_of(key: &SigningKey) -> [u8; 20] {
    eth_address(key.verifying_key())
}

/// `n` attesters of seed `seed` with powers `power(i)`; returns the set and the keys in
/// the set's (address) order. `None` when the powers do not make a valid set.
pub fn attestation_set_with_powers(
    n: usize,
    seed: u64,
    power: impl Fn(usize) -> u64,
) -> Option<(AttestationSet, Vec<SigningKey>)> {
    let mut pairs: Vec<([u8; 20], u64, SigningKey)> = (0..n)
        .map(|i| {
            let key = attester_key(seed, i as u64);
            (address_of(&key), power(i), key)
        })
        .collect();
    pairs.sort_by_key(|p| p.0);
    let set = AttestationSet::new(
        pairs
            .iter()
            .map(|(address, power, _)| Attester {
                address: *address,
                power: *power,
            })
            .collect(),
    )
    .ok()?;
    Some((set, pairs.into_iter().map(|(_, _, k)| k).collect()))
}

/// `n` attesters of seed `seed`, each with power 10.
pub fn attestation_set(n: usize, seed: u64) -> Option<(AttestationSet, Vec<SigningKey>)> {
    attestation_set_with_powers(n, seed, |_| 10)
}

/// A low-S `r || s || v` signature (v in {27, 28}) of `checkpoint.hash()`.
pub fn sign_checkpoint(key: &SigningKey, checkpoint: &Checkpoint) -> Option<RecoverableSignature> {
    let mut out = crate::evm::secp::sign_digest(key, &checkpoint.hash())?;
    out[64] = out[64].checked_add(27)?;
    Some(out)
}

/// A checkpoint of `chain` at `height` (time `1_700_000_000_000 + height` ms) over a
/// log of `log_size` entries with root `log_root`, signed by the set `set_hash` and
/// naming `next_set_hash`.
pub fn checkpoint(
    chain: &ChainId,
    height: u64,
    log_size: u64,
    log_root: Hash32,
    set_hash: Hash32,
    next_set_hash: Hash32,
) -> Checkpoint {
    Checkpoint {
        hub_chain_id: chain.clone(),
        height,
        time_ms: 1_700_000_000_000u64.saturating_add(height),
        log_size,
        log_root,
        attestation_set_hash: set_hash,
        next_attestation_set_hash: next_set_hash,
    }
}

/// The checkpoint signed by every key in `signers`.
pub fn sign_with(checkpoint: Checkpoint, signers: &[SigningKey]) -> Option<SignedCheckpoint> {
    let signatures = signers
        .iter()
        .map(|k| sign_checkpoint(k, &checkpoint))
        .collect::<Option<Vec<_>>>()?;
    Some(SignedCheckpoint {
        checkpoint,
        signatures,
        next_set: None,
    })
}

/// A checkpoint at `height` signed by all `n` attesters of `seed` (set unchanged), over a
/// seeded log of `log_size` entries; returns it with the set.
pub fn signed_checkpoint(
    n: usize,
    seed: u64,
    chain: &ChainId,
    height: u64,
    log_size: u64,
) -> Option<(SignedCheckpoint, AttestationSet)> {
    let (set, keys) = attestation_set(n, seed)?;
    let h = set.hash();
    let cp = checkpoint(chain, height, log_size, seeded(b"log", seed, height), h, h);
    Some((sign_with(cp, &keys)?, set))
}

/// A log entry's data for index `i` of seed `seed`.
pub fn log_entry(seed: u64, i: u64) -> Vec<u8> {
    seeded(b"entry", seed, i).to_vec()
}

/// An RFC 6962 inclusion proof of entry `index` in a log of `size` entries, without
/// building the log: the sibling subtrees are seeded hashes, which is a valid tree whose
/// other leaves are simply unknown. Returns `(log_root, entry, proof)`. Cheap for any size
/// (e.g. `2^20`), for benchmarks.
pub fn synthetic_inclusion(
    size: u64,
    index: u64,
    seed: u64,
) -> Option<(Hash32, Vec<u8>, Vec<Hash32>)> {
    if index >= size {
        return None;
    }
    let entry = log_entry(seed, index);
    let last = size.checked_sub(1)?;
    let inner = 64u32.checked_sub((index ^ last).leading_zeros())?;
    let mut h = leaf_hash(&entry);
    let mut proof = Vec::new();
    for level in 0..inner {
        let sibling = seeded(b"sibling", seed, u64::from(level));
        h = if (index >> level) & 1 == 1 {
            node_hash(&sibling, &h)
        } else {
            node_hash(&h, &sibling)
        };
        proof.push(sibling);
    }
    let border = index.checked_shr(inner).unwrap_or(0).count_ones();
    for j in 0..border {
        let sibling = seeded(b"border", seed, u64::from(j));
        h = node_hash(&sibling, &h);
        proof.push(sibling);
    }
    Some((h, entry, proof))
}
