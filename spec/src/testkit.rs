//! Helpers for other crates' tests (feature `testkit`; never in a production build): where
//! the shared test vectors are, and the CI rule that nothing may be skipped.
#![allow(clippy::panic)]

use std::path::PathBuf;

/// Whether the tests run in CI (`CI=true`): there nothing may be skipped.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// The shared vectors folder: `$JUNCTION_VECTORS`, else `shared/vectors` beside the
/// project root. `None` (with a note on stdout) when absent, so a clone elsewhere skips —
/// except in CI, where a missing folder fails the test.
pub fn vectors_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("JUNCTION_VECTORS") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/vectors")),
    };
    if dir.is_dir() {
        return Some(dir);
    }
    if in_ci() {
        panic!(
            "CI=true and the vectors folder {} is missing",
            dir.display()
        );
    }
    println!(
        "skipping: vectors folder {} not found (set JUNCTION_VECTORS)",
        dir.display()
    );
    None
}

/// A file or sub-folder of the vectors, or `None` (skip) when it is absent — except in
/// CI, where a missing one fails the test.
pub fn vector_path(rel: &str) -> Option<PathBuf> {
    let path = vectors_dir()?.join(rel);
    if path.exists() {
        return Some(path);
    }
    if in_ci() {
        panic!("CI=true and the vector {} is missing", path.display());
    }
    println!("skipping: {} not found", path.display());
    None
}
