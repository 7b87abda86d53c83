//! The Junction gateway on EVM chains (`adapters/evm/contracts/JunctionGateway.sol`).
//!
//! The bindings come from the committed artifacts (`adapters/evm/artifacts/*.json`, built by
//! `adapters/evm/compile.js`). Everything a gateway hashes is passed to it in the `spec`
//! canonical encoding, so this module only wraps those bytes into the ABI of `deliver`:
//!
//! ```text
//! deliver(
//!   (bytes checkpoint, bytes[] signatures, bytes attestationSet, bytes nextSet) signed,
//!   (bytes entry, uint64 leafIndex, bytes32[] proof)[] entries)
//! ```
//!
//! `checkpoint` is a `Checkpoint` encoding, each signature 65 bytes `r || s || v` over its
//! hash, `attestationSet` the set the gateway holds (empty when the checkpoint is the one it
//! holds), `nextSet` the set the checkpoint's next-set hash names (empty unless it changes),
//! `entry` a `LogEntry` encoding and `proof` its RFC 6962 audit path, leaf level first.

use alloy::primitives::{Address, Bytes, FixedBytes, U256};
use alloy::providers::Provider;
use alloy::sol_types::{SolCall, SolInterface};
use junction_spec::attestation::AttestationSet;
use junction_spec::encoding::Encode;
use junction_spec::log::LogEntry;
use junction_spec::{ChainId, Checkpoint, Hash32};
use thiserror::Error;

/// Bindings generated from the committed artifacts (the ABI decides the argument counts).
#[allow(clippy::too_many_arguments, missing_docs)]
mod bindings {
    alloy::sol!(
        #[sol(rpc)]
        #[derive(Debug, PartialEq, Eq)]
        JunctionGateway,
        "evm/artifacts/JunctionGateway.json"
    );

    alloy::sol!(
        #[sol(rpc)]
        #[derive(Debug, PartialEq, Eq)]
        TokenEscrow,
        "evm/artifacts/TokenEscrow.json"
    );
}

pub use bindings::{JunctionGateway, TokenEscrow};

pub use JunctionGateway::JunctionGatewayErrors as GatewayRevert;

/// Why a gateway operation failed.
#[derive(Debug, Error)]
pub enum GatewayError {
    /// The node refused or failed a call or transaction.
    #[error("contract call failed: {0}")]
    Contract(#[from] alloy::contract::Error),
    /// A transaction was mined but did not succeed.
    #[error("transaction {0} reverted")]
    Reverted(String),
    /// The node's answer was not what the gateway ABI says.
    #[error("unexpected answer from the node: {0}")]
    Unexpected(String),
}

impl GatewayError {
    /// Stable snake_case name.
    pub fn name(&self) -> &'static str {
        match self {
            GatewayError::Contract(_) => "contract",
            GatewayError::Reverted(_) => "reverted",
            GatewayError::Unexpected(_) => "unexpected",
        }
    }

    /// The gateway's own error (e.g. `InsufficientPower`) when the failure is a revert with
    /// a known custom error.
    pub fn revert(&self) -> Option<GatewayRevert> {
        match self {
            GatewayError::Contract(e) => e.as_decoded_interface_error::<GatewayRevert>(),
            _ => None,
        }
    }

    /// The Solidity name of the gateway error in the revert, if any.
    pub fn revert_name(&self) -> Option<&'static str> {
        match self {
            GatewayError::Contract(e) => e.as_revert_data().and_then(|d| revert_name(&d)),
            _ => None,
        }
    }
}

/// The Solidity name of a gateway custom error from its revert data.
pub fn revert_name(data: &[u8]) -> Option<&'static str> {
    let selector: [u8; 4] = data.get(..4)?.try_into().ok()?;
    GatewayRevert::name_by_selector(selector)
}

/// The gateway error of this Solidity name (a plugin reports gateway refusals by name).
pub fn revert_named(name: &str) -> Option<&'static str> {
    GatewayRevert::SELECTORS
        .iter()
        .filter_map(|s| GatewayRevert::name_by_selector(*s))
        .find(|n| *n == name)
}

/// What proves a hub checkpoint to a gateway.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckpointProof {
    /// The checkpoint.
    pub checkpoint: Checkpoint,
    /// Signatures `r || s || v` over `checkpoint.hash()`, any order.
    pub signatures: Vec<[u8; 65]>,
    /// The set the gateway holds; `None` when `checkpoint` is the one it holds.
    pub attestation_set: Option<AttestationSet>,
    /// The set named by the checkpoint's next-set hash, when it changes the set.
    pub next_set: Option<AttestationSet>,
}

impl CheckpointProof {
    /// The checkpoint the gateway already holds: no signatures needed.
    pub fn held(checkpoint: Checkpoint) -> Self {
        Self {
            checkpoint,
            signatures: Vec::new(),
            attestation_set: None,
            next_set: None,
        }
    }

    /// The ABI struct of `deliver`'s first argument.
    pub fn to_abi(&self) -> JunctionGateway::SignedCheckpoint {
        JunctionGateway::SignedCheckpoint {
            checkpoint: Bytes::from(self.checkpoint.to_bytes()),
            signatures: self
                .signatures
                .iter()
                .map(|s| Bytes::copy_from_slice(s))
                .collect(),
            attestationSet: self
                .attestation_set
                .as_ref()
                .map(|s| Bytes::from(s.to_bytes()))
                .unwrap_or_default(),
            nextSet: self
                .next_set
                .as_ref()
                .map(|s| Bytes::from(s.to_bytes()))
                .unwrap_or_default(),
        }
    }
}

/// A log entry with its leaf index and RFC 6962 audit path under a checkpoint's log root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryProof {
    /// The entry.
    pub entry: LogEntry,
    /// Its leaf index in the log.
    pub index: u64,
    /// Its audit path, leaf level first.
    pub proof: Vec<Hash32>,
}

impl EntryProof {
    /// The ABI struct of one element of `deliver`'s second argument.
    pub fn to_abi(&self) -> JunctionGateway::ProvenEntry {
        JunctionGateway::ProvenEntry {
            entry: Bytes::from(self.entry.delivered_bytes()),
            leafIndex: self.index,
            proof: self.proof.iter().map(|h| FixedBytes::from(*h)).collect(),
        }
    }
}

/// The `deliver` call for a checkpoint and a batch of proven entries.
pub fn deliver_call(
    checkpoint: &CheckpointProof,
    entries: &[EntryProof],
) -> JunctionGateway::deliverCall {
    JunctionGateway::deliverCall {
        signed: checkpoint.to_abi(),
        entries: entries.iter().map(EntryProof::to_abi).collect(),
    }
}

/// The calldata of [`deliver_call`] (selector and ABI encoding).
pub fn deliver_calldata(checkpoint: &CheckpointProof, entries: &[EntryProof]) -> Vec<u8> {
    deliver_call(checkpoint, entries).abi_encode()
}

/// The app id of an EVM contract in packets: its 20-byte address.
pub fn evm_app_id(app: Address) -> Vec<u8> {
    app.as_slice().to_vec()
}

/// Deploys a gateway for chain `chain_id` that trusts `checkpoint` of hub `hub_chain_id`;
/// `next_signers` must be the set named by the checkpoint's next-set hash.
pub async fn deploy_gateway<P: Provider>(
    provider: P,
    chain_id: &ChainId,
    hub_chain_id: &ChainId,
    checkpoint: &Checkpoint,
    next_signers: &AttestationSet,
) -> Result<Address, GatewayError> {
    let instance = JunctionGateway::deploy(
        provider,
        chain_id.as_str().to_owned(),
        hub_chain_id.as_str().to_owned(),
        Bytes::from(next_signers.to_bytes()),
        Bytes::from(checkpoint.to_bytes()),
    )
    .await?;
    Ok(*instance.address())
}

/// Deploys the sample escrow app bound to `gateway`, minting `supply` to the deployer.
pub async fn deploy_escrow<P: Provider>(
    provider: P,
    gateway: Address,
    supply: U256,
) -> Result<Address, GatewayError> {
    let instance = TokenEscrow::deploy(provider, gateway, supply).await?;
    Ok(*instance.address())
}

/// Sends `deliver` as a transaction with `gas` (or the node's estimate) and waits for it.
/// Returns the receipt; a mined but failed transaction is [`GatewayError::Reverted`].
///
/// Without `gas`, the gas is estimated first (`eth_estimateGas` runs the batch), so a batch
/// the gateway would refuse costs nothing and its named error comes back as
/// [`GatewayError::Contract`] before anything is sent.
pub async fn deliver<P: Provider>(
    provider: P,
    gateway: Address,
    checkpoint: &CheckpointProof,
    entries: &[EntryProof],
    gas: Option<u64>,
) -> Result<alloy::rpc::types::TransactionReceipt, GatewayError> {
    let pending = send_deliver(provider, gateway, checkpoint, entries, gas).await?;
    mined(pending).await
}

/// The first half of [`deliver`]: estimates the gas (without `gas`) and sends the transaction,
/// without waiting for it to be mined. Several sends from one provider take consecutive
/// nonces, so their batches run in the order sent.
pub async fn send_deliver<P: Provider>(
    provider: P,
    gateway: Address,
    checkpoint: &CheckpointProof,
    entries: &[EntryProof],
    gas: Option<u64>,
) -> Result<alloy::providers::PendingTransactionBuilder<alloy::network::Ethereum>, GatewayError> {
    let contract = JunctionGateway::new(gateway, provider);
    let call = deliver_call(checkpoint, entries);
    let mut builder = contract.deliver(call.signed, call.entries);
    // The estimate runs the batch: a refused one comes back here with the gateway's
    // error, before anything is sent.
    let gas = match gas {
        Some(gas) => gas,
        None => builder.estimate_gas().await?,
    };
    builder = builder.gas(gas);
    Ok(builder.send().await?)
}

/// The second half of [`deliver`]: waits for the transaction to be mined; a failed one is
/// [`GatewayError::Reverted`].
pub async fn mined(
    pending: alloy::providers::PendingTransactionBuilder<alloy::network::Ethereum>,
) -> Result<alloy::rpc::types::TransactionReceipt, GatewayError> {
    let receipt = pending
        .get_receipt()
        .await
        .map_err(|e| GatewayError::Unexpected(e.to_string()))?;
    if !receipt.status() {
        return Err(GatewayError::Reverted(receipt.transaction_hash.to_string()));
    }
    Ok(receipt)
}

/// Whether a selector-carrying revert is one of the gateway's errors (for callers that get
/// raw revert data, e.g. from `eth_call`).
pub fn decode_revert(data: &[u8]) -> Option<GatewayRevert> {
    GatewayRevert::abi_decode(data).ok()
}
