//! Gas of `deliver` on a fresh gateway, per batch size: the measurement behind the
//! `gateway_gas` example and the controlled rows of `junction bench e2e`.
//!
//! Each batch is one checkpoint signed by 4 test attesters (verified once) over a log of
//! 1,024 entries (so every inclusion proof has 10 hashes), delivering escrow packets whose
//! app mints tokens. The app's own gas comes from `PacketReceived.appGasUsed`.

use alloy::network::EthereumWallet;
use alloy::primitives::{Address, U256};
use alloy::providers::{Provider, ProviderBuilder};
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolValue;
use junction_light_clients::hub::testkit;
use junction_spec::log::{EntryKind, LogEntry};
use junction_spec::merkle::{empty_root, inclusion_proof, root_from_leaf_hashes};
use junction_spec::{evm_target_binding, ChainId, Packet, Timeout};

use super::anvil::{Anvil, DEV_KEY_0};
use super::gateway::{
    deliver, deploy_escrow, deploy_gateway, evm_app_id, CheckpointProof, EntryProof,
    JunctionGateway,
};

/// Entries in the measured log.
pub const LOG_SIZE: usize = 1024;
/// Gas given to each measured `deliver`.
const DELIVER_GAS: u64 = 250_000_000;

/// What one measured `deliver` cost.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeliveryGas {
    /// Gas the transaction used.
    pub total: u64,
    /// Gas the apps' `onReceive` calls used.
    pub app: u64,
    /// Packets whose app ran (the rest reverted into error-acks).
    pub app_succeeded: usize,
}

/// Delivers `batch` (1 to [`LOG_SIZE`]) escrow packets in one `deliver` on a fresh anvil
/// and gateway.
pub async fn measure_delivery(batch: usize) -> Result<DeliveryGas, String> {
    if batch == 0 || batch > LOG_SIZE {
        return Err(format!("batch must be 1..={LOG_SIZE}"));
    }
    let anvil = Anvil::spawn(&[]).map_err(|e| format!("anvil: {e}"))?;
    let signer: PrivateKeySigner = DEV_KEY_0.parse().map_err(|e| format!("dev key: {e}"))?;
    let url = anvil
        .endpoint()
        .parse()
        .map_err(|e| format!("anvil endpoint: {e}"))?;
    let provider = ProviderBuilder::new()
        .wallet(EthereumWallet::from(signer))
        .connect_http(url)
        .erased();
    let id = |s: &str| ChainId::new(s).map_err(|e| e.to_string());
    let (hub, here, src) = (id("junction-hub")?, id("evm-b")?, id("evm-a")?);
    let (set, keys) = testkit::attestation_set(4, 7).ok_or("test attestation set")?;
    let h = set.hash();
    let genesis = testkit::checkpoint(&hub, 1, 0, empty_root(), h, h);
    let gw = deploy_gateway(&provider, &here, &hub, &genesis, &set)
        .await
        .map_err(|e| format!("deploying a gateway: {e}"))?;
    let escrow = deploy_escrow(&provider, gw, U256::from(1u64))
        .await
        .map_err(|e| format!("deploying an escrow: {e}"))?;
    let evm_chain_id = provider
        .get_chain_id()
        .await
        .map_err(|e| format!("eth_chainId: {e}"))?;
    let binding = evm_target_binding(evm_chain_id, &gw.0 .0);
    let entries: Vec<LogEntry> = (0..LOG_SIZE)
        .map(|i| {
            let packet = Packet {
                version: 1,
                source_chain: src.clone(),
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
            LogEntry::new(EntryKind::Packet, binding, 0, packet, vec![])
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
    let signed = testkit::sign_with(cp, &keys).ok_or("signing a checkpoint")?;
    let proof = CheckpointProof {
        checkpoint: signed.checkpoint,
        signatures: signed.signatures,
        attestation_set: Some(set),
        next_set: None,
    };
    let proven = entries
        .iter()
        .take(batch)
        .enumerate()
        .map(|(i, e)| {
            Ok(EntryProof {
                entry: e.clone(),
                index: i as u64,
                proof: inclusion_proof(&leaves, i as u64).map_err(|e| format!("{e:?}"))?,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    let receipt = deliver(&provider, gw, &proof, &proven, Some(DELIVER_GAS))
        .await
        .map_err(|e| format!("deliver of {batch}: {e}"))?;
    let mut out = DeliveryGas {
        total: receipt.gas_used,
        app: 0,
        app_succeeded: 0,
    };
    for e in receipt
        .inner
        .logs()
        .iter()
        .filter_map(|l| l.log_decode::<JunctionGateway::PacketReceived>().ok())
    {
        out.app = out
            .app
            .saturating_add(u64::try_from(e.inner.data.appGasUsed).unwrap_or(u64::MAX));
        if e.inner.data.appSucceeded {
            out.app_succeeded += 1;
        }
    }
    Ok(out)
}
