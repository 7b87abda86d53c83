//! Where a local testnet keeps its validator homes (`<dir>/node0`, `<dir>/node1`, ...).

use std::path::{Path, PathBuf};

use eyre::eyre;

/// The validator homes of a testnet directory, in order.
pub fn node_homes(dir: &Path) -> eyre::Result<Vec<PathBuf>> {
    let mut homes = Vec::new();
    for i in 0.. {
        let h = dir.join(format!("node{i}"));
        if !h.exists() {
            break;
        }
        homes.push(h);
    }
    if homes.is_empty() {
        return Err(eyre!(
            "{} holds no testnet: run `junction testnet init --out {}` first",
            dir.display(),
            dir.display()
        ));
    }
    Ok(homes)
}
