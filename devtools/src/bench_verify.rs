//! `junction bench verify`: verifications per second on one core for every light-client
//! kind, each printed beside the primitive it stands on (hashes, signature checks) measured
//! in the same run, and beside the reference crate where one exists.

use std::hint::black_box;

use eyre::{eyre, WrapErr};

use crate::bench_measure::{measure, print_row, Budget, Floors};

fn measure_floors(budget: Budget) -> eyre::Result<Floors> {
    use sha2::Digest as _;
    let small = [0x5au8; 65];
    let large = [0xa5u8; 532];
    let sha256_65 = measure(budget, || {
        black_box(sha2::Sha256::digest(black_box(&small)));
        Ok(1)
    })?;
    let sha256_532 = measure(budget, || {
        black_box(sha2::Sha256::digest(black_box(&large)));
        Ok(1)
    })?;
    let keccak_65 = measure(budget, || {
        black_box(alloy_primitives::keccak256(black_box(&small)));
        Ok(1)
    })?;
    let keccak_532 = measure(budget, || {
        black_box(alloy_primitives::keccak256(black_box(&large)));
        Ok(1)
    })?;

    // ed25519 (ZIP-215, ed25519-consensus): 64 distinct keys and messages.
    let keys: Vec<ed25519_consensus::SigningKey> = (0u8..64)
        .map(|i| ed25519_consensus::SigningKey::from([i.wrapping_add(1); 32]))
        .collect();
    let signed: Vec<(
        ed25519_consensus::VerificationKey,
        [u8; 40],
        ed25519_consensus::Signature,
    )> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let mut msg = [0u8; 40];
            msg[..8].copy_from_slice(&(i as u64).to_be_bytes());
            (k.verification_key(), msg, k.sign(&msg))
        })
        .collect();
    let mut i = 0usize;
    let ed25519_single = measure(budget, || {
        let (vk, msg, sig) = &signed[i % signed.len()];
        i += 1;
        vk.verify(sig, msg)
            .map_err(|e| eyre!("ed25519 floor input must verify: {e}"))?;
        Ok(1)
    })?;
    let ed25519_batch64 = measure(budget, || {
        let mut batch = ed25519_consensus::batch::Verifier::new();
        for (vk, msg, sig) in &signed {
            batch.queue(((*vk).into(), *sig, &msg[..]));
        }
        batch
            .verify(rand::thread_rng())
            .map_err(|e| eyre!("ed25519 batch floor must verify: {e}"))?;
        Ok(signed.len() as u64)
    })?;

    // secp256k1 recovery from a prehashed digest (what ecrecover and QBFT seals cost).
    let sk = k256::ecdsa::SigningKey::from_bytes(&[7u8; 32].into())
        .map_err(|e| eyre!("secp256k1 key: {e}"))?;
    let digest = [0x11u8; 32];
    let (sig, recid) = sk
        .sign_prehash_recoverable(&digest)
        .map_err(|e| eyre!("secp256k1 sign: {e}"))?;
    let expected = *sk.verifying_key();
    let secp256k1_recover = measure(budget, || {
        let vk = k256::ecdsa::VerifyingKey::recover_from_prehash(&digest, &sig, recid)
            .map_err(|e| eyre!("secp256k1 floor must recover: {e}"))?;
        if vk != expected {
            return Err(eyre!("secp256k1 floor recovered the wrong key"));
        }
        Ok(1)
    })?;

    // P-256 ECDSA over a prehashed digest (Fabric endorsements and orderer signatures).
    use p256::ecdsa::signature::hazmat::{PrehashSigner as _, PrehashVerifier as _};
    let psk = p256::ecdsa::SigningKey::from_bytes(&[9u8; 32].into())
        .map_err(|e| eyre!("P-256 key: {e}"))?;
    let psig: p256::ecdsa::Signature = psk
        .sign_prehash(&digest)
        .map_err(|e| eyre!("P-256 sign: {e}"))?;
    let pvk = *psk.verifying_key();
    let p256_verify = measure(budget, || {
        pvk.verify_prehash(&digest, &psig)
            .map_err(|e| eyre!("P-256 floor must verify: {e}"))?;
        Ok(1)
    })?;

    Ok(Floors {
        sha256_65,
        sha256_532,
        keccak_65,
        keccak_532,
        ed25519_single,
        ed25519_batch64,
        secp256k1_recover,
        p256_verify,
    })
}

/// Runs the verification benchmark and prints its figures.
pub fn verify(millis: u64) -> eyre::Result<()> {
    let budget = Budget::new(millis);
    println!("bench verify (one core, {millis} ms per figure)");
    println!("floors:");
    let f = measure_floors(budget).wrap_err("measuring the primitive floors")?;
    print_row("SHA-256, 65 B", f.sha256_65, "");
    print_row("SHA-256, 532 B", f.sha256_532, "");
    print_row("keccak-256, 65 B", f.keccak_65, "");
    print_row("keccak-256, 532 B", f.keccak_532, "");
    print_row("ed25519 verify, single", f.ed25519_single, "");
    print_row("ed25519 verify, batches of 64", f.ed25519_batch64, "");
    print_row("secp256k1 recover", f.secp256k1_recover, "");
    print_row("P-256 verify", f.p256_verify, "");
    crate::bench_verify_clients::run(budget, &f)
}
