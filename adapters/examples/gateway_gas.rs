//! Gas of `deliver` on a real anvil, per delivered packet, at batch sizes 1, 10 and 100.
//!
//! `cargo run -p junction-adapters --example gateway_gas`
//!
//! Each batch is a fresh checkpoint signed by 4 attesters (verified once per batch) over a
//! log of 1,024 entries (so every proof has 10 hashes), delivering escrow packets whose app
//! mints tokens. "App" is the gas the app calls used (from `PacketReceived.appGasUsed`);
//! the per-packet figure without it is what the gateway itself costs, calldata and the
//! 21,000 of the transaction included.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use junction_adapters::evm::gas::{measure_delivery, LOG_SIZE};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    if junction_adapters::evm::anvil::anvil_binary().is_none() {
        eprintln!("no anvil binary: run scripts/setup-evm.sh first");
        std::process::exit(1);
    }
    println!("batch  total_gas  app_gas  gas/packet  gas/packet_without_app  (log {LOG_SIZE}, 4 attesters)");
    for batch in [1usize, 10, 100] {
        let gas = measure_delivery(batch).await.unwrap();
        assert_eq!(gas.app_succeeded, batch, "every app call must succeed");
        let (total, app) = (gas.total, gas.app);
        let n = batch as u64;
        println!(
            "{batch:>5}  {total:>9}  {app:>7}  {:>10}  {:>22}",
            total / n,
            (total - app) / n
        );
    }
}
