//! `junction bench verify`: verifications per second on one core for every light-client
//! kind, each printed beside the primitive it stands on (hashes, signature checks) measured
//! in the same run, and beside the reference crate where one exists.

use std::hint::black_box;
use std::time::{Duration, Instant};

use eyre::{eyre, WrapErr};

/// How long each figure is measured (after a short warm-up).
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    per_figure: Duration,
}

impl Budget {
    /// `millis` per figure; a tenth of it again is spent warming up.
    pub fn new(millis: u64) -> Self {
        Self {
            per_figure: Duration::from_millis(millis.max(10)),
        }
    }
}

/// Runs `op` repeatedly for the budget and returns operations per second. `op` returns how
/// many operations one call performed (a batch counts each signature) and must return an
/// error if the verification it performs fails, so a broken input can never be timed.
pub(crate) fn measure<F>(budget: Budget, mut op: F) -> eyre::Result<f64>
where
    F: FnMut() -> eyre::Result<u64>,
{
    let warm = Instant::now();
    while warm.elapsed() < budget.per_figure / 10 {
        op()?;
    }
    let start = Instant::now();
    let mut done = 0u64;
    loop {
        done += op()?;
        let elapsed = start.elapsed();
        if elapsed >= budget.per_figure {
            return Ok(done as f64 / elapsed.as_secs_f64());
        }
    }
}

/// The primitive floors, measured first so every verifier row can quote them.
#[derive(Clone, Copy, Debug, Default)]
pub struct Floors {
    /// SHA-256 of 65 bytes per second.
    pub sha256_65: f64,
    /// SHA-256 of 532 bytes per second.
    pub sha256_532: f64,
    /// keccak-256 of 65 bytes per second.
    pub keccak_65: f64,
    /// keccak-256 of 532 bytes per second.
    pub keccak_532: f64,
    /// ed25519 single verifications per second.
    pub ed25519_single: f64,
    /// ed25519 verifications per second in batches of 64.
    pub ed25519_batch64: f64,
    /// secp256k1 public-key recoveries per second.
    pub secp256k1_recover: f64,
    /// P-256 ECDSA verifications per second.
    pub p256_verify: f64,
}

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

fn fmt_rate(r: f64) -> String {
    let whole = r.round() as u64;
    let s = whole.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn row(name: &str, ops: f64, beside: &str) {
    println!("  {name:<48} {:>13}/s   {beside}", fmt_rate(ops));
}

/// Runs the verification benchmark and prints its figures.
pub fn verify(millis: u64) -> eyre::Result<()> {
    let budget = Budget::new(millis);
    println!("bench verify (one core, {millis} ms per figure)");
    println!("floors:");
    let f = measure_floors(budget).wrap_err("measuring the primitive floors")?;
    row("SHA-256, 65 B", f.sha256_65, "");
    row("SHA-256, 532 B", f.sha256_532, "");
    row("keccak-256, 65 B", f.keccak_65, "");
    row("keccak-256, 532 B", f.keccak_532, "");
    row("ed25519 verify, single", f.ed25519_single, "");
    row("ed25519 verify, batches of 64", f.ed25519_batch64, "");
    row("secp256k1 recover", f.secp256k1_recover, "");
    row("P-256 verify", f.p256_verify, "");
    crate::bench_verify_clients::run(budget, &f)
}

pub(crate) fn print_row(name: &str, ops: f64, beside: &str) {
    row(name, ops, beside)
}

pub(crate) fn format_rate(r: f64) -> String {
    fmt_rate(r)
}
