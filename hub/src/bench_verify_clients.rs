//! The light-client rows of `junction bench verify` (filled as each client lands).

use crate::bench_verify::{Budget, Floors};

/// Measures every light-client verification and prints it beside its floor.
pub fn run(_budget: Budget, _floors: &Floors) -> eyre::Result<()> {
    Ok(())
}
