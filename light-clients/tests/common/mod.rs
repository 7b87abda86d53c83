//! Shared helpers for the vector tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

/// The shared vectors folder: `$JUNCTION_VECTORS`, else `../shared/vectors` beside the
/// project root. `None` (with a note on stdout) when absent, so a clone elsewhere skips.
pub fn vectors_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("JUNCTION_VECTORS") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/vectors")),
    };
    if dir.is_dir() {
        Some(dir)
    } else {
        println!(
            "skipping: vectors folder {} not found (set JUNCTION_VECTORS)",
            dir.display()
        );
        None
    }
}

/// A sub-folder of the vectors, or `None` (skip) when the vectors are absent.
pub fn vector_path(rel: &str) -> Option<PathBuf> {
    let dir = vectors_dir()?.join(rel);
    if dir.exists() {
        Some(dir)
    } else {
        println!("skipping: {} not found", dir.display());
        None
    }
}
