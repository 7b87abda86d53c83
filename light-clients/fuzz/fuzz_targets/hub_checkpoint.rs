//! Fuzz target `hub_checkpoint`: the body lives in `light-clients/tests/fuzz_bodies/mod.rs`, shared
//! with the corpus regression test (`light-clients/tests/fuzz_corpus.rs`).
#![no_main]

#[path = "../../tests/fuzz_bodies/mod.rs"]
mod bodies;

libfuzzer_sys::fuzz_target!(|data: &[u8]| bodies::hub_checkpoint(data));
