//! Shared helpers for the vector tests.
#![allow(
    dead_code,
    unused_imports,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

pub use junction_spec::testkit::{in_ci, vector_path, vectors_dir};
