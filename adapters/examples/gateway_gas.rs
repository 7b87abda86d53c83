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

use alloy::network::EthereumWallet;
use alloy::primitives::{Address, U256};
use alloy::providers::{Provider, ProviderBuilder};
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolValue;
use junction_adapters::evm::anvil::{Anvil, DEV_KEY_0};
use junction_adapters::evm::gateway::{
    deliver, deploy_escrow, deploy_gateway, evm_app_id, CheckpointProof, EntryProof,
    JunctionGateway,
};
use junction_light_clients::hub::testkit;
use junction_spec::log::{EntryKind, LogEntry};
use junction_spec::merkle::{empty_root, inclusion_proof, root_from_leaf_hashes};
use junction_spec::{ChainId, Packet, Timeout};

const LOG_SIZE: usize = 1024;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    if junction_adapters::evm::anvil::anvil_binary().is_none() {
        eprintln!("no anvil binary: run scripts/setup-evm.sh first");
        std::process::exit(1);
    }
    println!("batch  total_gas  app_gas  gas/packet  gas/packet_without_app  (log {LOG_SIZE}, 4 attesters)");
    for batch in [1usize, 10, 100] {
        let (total, app) = measure(batch).await;
        let n = batch as u64;
        println!(
            "{batch:>5}  {total:>9}  {app:>7}  {:>10}  {:>22}",
            total / n,
            (total - app) / n
        );
    }
}

async fn measure(batch: usize) -> (u64, u64) {
    let anvil = Anvil::spawn(&[]).unwrap();
    let signer: PrivateKeySigner = DEV_KEY_0.parse().unwrap();
    let provider = ProviderBuilder::new()
        .wallet(EthereumWallet::from(signer))
        .connect_http(anvil.endpoint().parse().unwrap())
        .erased();
    let hub = ChainId::new("junction-hub").unwrap();
    let here = ChainId::new("evm-b").unwrap();
    let (set, keys) = testkit::attestation_set(4, 7).unwrap();
    let h = set.hash();
    let genesis = testkit::checkpoint(&hub, 1, 0, empty_root(), h, h);
    let gw = deploy_gateway(&provider, &here, &hub, &genesis, &set)
        .await
        .unwrap();
    let escrow = deploy_escrow(&provider, gw, U256::from(1u64))
        .await
        .unwrap();

    let entries: Vec<LogEntry> = (0..LOG_SIZE)
        .map(|i| {
            let packet = Packet {
                version: 1,
                source_chain: ChainId::new("evm-a").unwrap(),
                source_app: vec![0x5a; 20],
                sequence: i as u64 + 1,
                dest_chain: here.clone(),
                dest_app: evm_app_id(escrow),
                payload: (
                    Address::repeat_byte(1),
                    Address::repeat_byte(2),
                    U256::from(10u64),
                )
                    .abi_encode(),
                timeout: Timeout {
                    height: 1_000_000,
                    time_ms: 0,
                },
                gas_limit: 100_000,
                fee: 0,
            };
            LogEntry::new(EntryKind::Packet, false, packet, vec![])
        })
        .collect();
    let leaves: Vec<[u8; 32]> = entries.iter().map(LogEntry::leaf_hash).collect();
    let cp = testkit::checkpoint(
        &hub,
        2,
        LOG_SIZE as u64,
        root_from_leaf_hashes(&leaves),
        h,
        h,
    );
    let signed = testkit::sign_with(cp, &keys).unwrap();
    let proof = CheckpointProof {
        checkpoint: signed.checkpoint,
        signatures: signed.signatures,
        attestation_set: Some(set),
        next_set: None,
    };
    let proven: Vec<EntryProof> = (0..batch)
        .map(|i| EntryProof {
            entry: entries[i].clone(),
            index: i as u64,
            proof: inclusion_proof(&leaves, i as u64).unwrap(),
        })
        .collect();
    let receipt = deliver(&provider, gw, &proof, &proven, Some(250_000_000))
        .await
        .unwrap();
    let app: u64 = receipt
        .inner
        .logs()
        .iter()
        .filter_map(|l| l.log_decode::<JunctionGateway::PacketReceived>().ok())
        .map(|e| {
            assert!(e.inner.data.appSucceeded);
            u64::try_from(e.inner.data.appGasUsed).unwrap()
        })
        .sum();
    let _ = provider.get_block_number().await;
    (receipt.gas_used, app)
}
