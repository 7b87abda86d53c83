//! Corpus regressions: every file of the committed fuzz corpora
//! (`light-clients/fuzz/corpus/<target>/`) and of the kept crash reproducers
//! (`light-clients/fuzz/regressions/<target>/`) goes through the same body the fuzz target
//! runs (`tests/fuzz_bodies/mod.rs`), on stable and without libFuzzer. A body must return;
//! a panic fails the test and names the file.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod fuzz_bodies;

use std::path::{Path, PathBuf};

type Body = fn(&[u8]);

/// Every fuzz target and its body.
const TARGETS: &[(&str, Body)] = &[
    ("mpt_proof", fuzz_bodies::mpt_proof),
    ("ics23_proof", fuzz_bodies::ics23_proof),
    (
        "tendermint_light_block",
        fuzz_bodies::tendermint_light_block,
    ),
    (
        "bitcoin_header_merkleblock",
        fuzz_bodies::bitcoin_header_merkleblock,
    ),
    ("fabric_block", fuzz_bodies::fabric_block),
    ("evm_header", fuzz_bodies::evm_header),
    ("hub_checkpoint", fuzz_bodies::hub_checkpoint),
];

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

fn replay(target: &str, body: Body, sub: &str) -> usize {
    let files = files_in(&fuzz_dir().join(sub).join(target));
    for file in &files {
        let data = std::fs::read(file).unwrap();
        let result = std::panic::catch_unwind(|| body(&data));
        assert!(result.is_ok(), "{target}: {} panicked", file.display());
    }
    files.len()
}

#[test]
fn corpora_and_regressions_return() {
    let mut total = 0;
    for (target, body) in TARGETS {
        let corpus = replay(target, *body, "corpus");
        let regressions = replay(target, *body, "regressions");
        println!("{target}: {corpus} corpus files, {regressions} regressions");
        assert!(corpus > 0, "{target}: empty corpus");
        total += corpus + regressions;
    }
    println!("{total} inputs replayed");
}

#[test]
fn bodies_take_empty_and_short_inputs() {
    for (_, body) in TARGETS {
        for len in 0..=40 {
            body(&vec![0u8; len]);
            body(&vec![0xffu8; len]);
        }
    }
}

#[test]
fn fixtures_build() {
    assert!(fuzz_bodies::tm_client().is_some());
    assert!(fuzz_bodies::btc_client().is_some());
    assert!(fuzz_bodies::fabric_fixture().is_some());
    assert!(fuzz_bodies::hub_client().is_some());
}
