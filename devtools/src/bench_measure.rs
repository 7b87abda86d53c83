//! Timing and printing shared by the rows of `junction bench verify`.

use std::time::{Duration, Instant};

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

/// A rate with thousands separators, rounded to a whole number.
pub(crate) fn format_rate(r: f64) -> String {
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

/// Prints one figure row: name, rate, and what it stands beside.
pub(crate) fn print_row(name: &str, ops: f64, beside: &str) {
    println!("  {name:<48} {:>13}/s   {beside}", format_rate(ops));
}
