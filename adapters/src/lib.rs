//! Adapters for other ledgers and the relayer (DESIGN §7).
//!
//! - [`Adapter`]: what a relayer needs from one chain — its headers for the hub's light
//!   client (and their height and time, [`HeaderInfo`]), the packets its gateway sent,
//!   proofs of what its gateway holds ([`ProofClaim`], one at a time or batched), receipts
//!   and outcomes, its delivery budget, and the delivery of hub batches to its gateway. The
//!   relayer sees every chain only through this trait.
//! - [`evm::adapter::EvmAdapter`]: the adapter of an EVM chain in attested mode.
//! - [`evm::gateway`]: bindings to the Solidity contracts in `adapters/evm/contracts`,
//!   deployment, and the encoding of a hub checkpoint and log entries into one `deliver`
//!   call; [`evm::anvil`], a local anvil process for tests.
//! - [`ledger_rpc::LedgerRpcAdapter`]: a source-only ledger served over JSON-RPC on
//!   127.0.0.1 (the dev-tools fixture ledgers of Tendermint, Fabric and Bitcoin).
//! - [`plugin::PluginProcess`]: the process of an out-of-process adapter plugin
//!   (`spec/adapter-protocol.md`): bounded lines, deadlines, named failures, restarts;
//!   [`plugin_adapter::PluginAdapter`], the [`Adapter`] of a chain such a plugin serves.

pub mod evm;
pub mod ledger_rpc;
pub mod plugin;
pub mod plugin_adapter;

use async_trait::async_trait;
use junction_spec::log::EntryKind;
use junction_spec::{ChainId, LedgerKind, Packet, SourceProof};
use thiserror::Error;

pub use evm::gateway::{CheckpointProof, EntryProof};

/// A header as the relayer reasons about it, whatever the ledger: its height and its time
/// (the hub's client compares both; deadlines are checked against them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeaderInfo {
    /// The chain's own block height.
    pub height: u64,
    /// Its time, seconds since the Unix epoch.
    pub time_secs: u64,
}

/// What a proof about a packet on a chain is to show.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ProofClaim {
    /// The source holds the packet's commitment: it was sent and has no outcome.
    Commitment,
    /// The destination holds a receipt: the packet ran or its app reverted.
    Receipt,
    /// The destination holds no receipt: what a timeout proves.
    NoReceipt,
}

/// A packet the chain's gateway sent (its `PacketSent` event).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SentPacket {
    /// The packet, decoded from the event and checked against its key and hash.
    pub packet: Packet,
    /// Block of the sending transaction.
    pub height: u64,
    /// The sending transaction.
    pub tx_hash: [u8; 32],
}

/// The destination gateway's receipt for a packet (its `PacketReceived` event).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipt {
    /// The packet key hash the receipt is stored under.
    pub key: [u8; 32],
    /// True when the destination app ran (ack), false when it reverted (error-ack).
    pub app_succeeded: bool,
    /// The ack, or the revert reason.
    pub result: Vec<u8>,
    /// What the gateway stored: `ack_commitment(Ack | ErrorAck, result)`.
    pub ack_commitment: [u8; 32],
    /// Block of the delivering transaction.
    pub height: u64,
    /// The delivering transaction.
    pub tx_hash: [u8; 32],
}

impl Receipt {
    /// `Ack` when the app ran, `ErrorAck` when it reverted.
    pub fn kind(&self) -> EntryKind {
        if self.app_succeeded {
            EntryKind::Ack
        } else {
            EntryKind::ErrorAck
        }
    }
}

/// An outcome delivered back to the source app (its gateway's `OutcomeDelivered` event).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// The packet key hash.
    pub key: [u8; 32],
    /// `Ack`, `ErrorAck` or `Timeout`.
    pub kind: EntryKind,
    /// Whether the source app's callback returned normally.
    pub callback_succeeded: bool,
    /// The callback's revert data when it did not.
    pub callback_error: Vec<u8>,
    /// Block of the delivering transaction.
    pub height: u64,
    /// The delivering transaction.
    pub tx_hash: [u8; 32],
}

/// An entry of a delivered batch that the gateway left alone (another relayer was first).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkippedEntry {
    /// Position of the entry in the batch.
    pub index: u64,
    /// The packet key hash.
    pub key: [u8; 32],
    /// The gateway error naming the reason (`AlreadyDelivered`, `OutOfOrder`,
    /// `PacketNotPending`), or `unknown`.
    pub reason: &'static str,
}

/// What a delivered batch did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliverOutcome {
    /// The transaction.
    pub tx_hash: [u8; 32],
    /// Its block.
    pub height: u64,
    /// Gas it used.
    pub gas_used: u64,
    /// Packet keys whose app ran here (ack or error-ack stored).
    pub received: Vec<Receipt>,
    /// Outcomes delivered to source apps here.
    pub outcomes: Vec<Outcome>,
    /// Entries skipped because they lost a race.
    pub skipped: Vec<SkippedEntry>,
}

/// Why an adapter operation failed. [`AdapterError::name`] is stable (logs, metrics, tests).
#[derive(Debug, Clone, Error)]
pub enum AdapterError {
    /// The configuration is unusable.
    #[error("invalid adapter configuration: {0}")]
    InvalidConfig(String),
    /// The RPC endpoint is not on the loopback interface.
    #[error("RPC endpoint {0} is not on 127.0.0.1: adapters talk only to a node the operator runs locally")]
    NonLoopbackRpc(String),
    /// The node follows another EVM chain than configured.
    #[error("the node is on EVM chain {got}, the adapter is configured for {expected}")]
    ChainIdMismatch {
        /// Configured chain id.
        expected: u64,
        /// The node's `eth_chainId`.
        got: u64,
    },
    /// The node failed or refused a request.
    #[error("node RPC failed: {0}")]
    Rpc(String),
    /// The node has no block at this height.
    #[error("the node has no block {height}")]
    BlockNotFound {
        /// The height asked for.
        height: u64,
    },
    /// The header the node returned does not hash to the block hash it reported.
    #[error(
        "block {height}: the node reports hash 0x{}, its header hashes to 0x{}",
        hex::encode(reported),
        hex::encode(computed)
    )]
    HeaderHashMismatch {
        /// The height.
        height: u64,
        /// The hash the node reported.
        reported: [u8; 32],
        /// keccak256 of the RLP header.
        computed: [u8; 32],
    },
    /// The header could not be turned into an attested header.
    #[error("block {height}: invalid header: {reason}")]
    InvalidHeader {
        /// The height.
        height: u64,
        /// Why.
        reason: String,
    },
    /// An attester key failed to sign.
    #[error("an attester key could not sign the header")]
    SigningFailed,
    /// A gateway event disagrees with itself (packet bytes vs key or hash) or with the
    /// chain the adapter serves.
    #[error("malformed gateway event in tx 0x{}: {what}", hex::encode(tx_hash))]
    MalformedEvent {
        /// The transaction.
        tx_hash: [u8; 32],
        /// What was wrong.
        what: String,
    },
    /// The packet has no commitment on the source gateway at this height.
    #[error(
        "packet key 0x{} has no commitment at height {height} (found 0x{})",
        hex::encode(key),
        hex::encode(found)
    )]
    NotCommitted {
        /// The packet key hash.
        key: [u8; 32],
        /// The height.
        height: u64,
        /// The stored word (zero when not pending, another hash when another packet).
        found: [u8; 32],
    },
    /// A receipt was asked to be proven but the destination gateway holds none.
    #[error("packet key 0x{} has no receipt at height {height}", hex::encode(key))]
    NoReceipt {
        /// The packet key hash.
        key: [u8; 32],
        /// The height.
        height: u64,
    },
    /// Non-membership was asked for but the destination gateway holds a receipt.
    #[error(
        "packet key 0x{} already has a receipt at height {height}",
        hex::encode(key)
    )]
    ReceiptExists {
        /// The packet key hash.
        key: [u8; 32],
        /// The height.
        height: u64,
    },
    /// The node's `eth_getProof` answer is not for the asked slot, or not shaped as the hub
    /// accepts.
    #[error("unusable storage proof: {0}")]
    MalformedProof(String),
    /// The encoded header or proof is larger than a relayer message may carry.
    #[error("{what} is {got} bytes, more than the {max} a relayer message may carry")]
    TooLarge {
        /// What was too large.
        what: &'static str,
        /// Its size.
        got: usize,
        /// The bound.
        max: usize,
    },
    /// The gateway refused the call with a named error (e.g. `AlreadyDelivered`); nothing
    /// was sent.
    #[error("the gateway refused the call: {revert} ({detail})")]
    GatewayRevert {
        /// The Solidity name of the gateway error, or `unknown`.
        revert: &'static str,
        /// The node's message.
        detail: String,
    },
    /// The ledger is a packet source only: nothing is delivered to it and it proves no
    /// receipts; outcomes of its packets stay on the hub.
    #[error("chain {chain} is a packet source only: it takes no {what}")]
    SourceOnly {
        /// The chain.
        chain: String,
        /// What was asked of it.
        what: String,
    },
    /// The transaction was mined but reverted (gas was set by hand, so it was not
    /// simulated first).
    /// An adapter plugin failed (`spec/adapter-protocol.md` §5) or answered a method error
    /// the protocol does not name.
    #[error("adapter plugin: {reason}: {detail}")]
    Plugin {
        /// `plugin_exited`, `plugin_timeout`, `plugin_garbage`, ... (the name).
        reason: &'static str,
        /// What happened.
        detail: String,
    },
    #[error("transaction 0x{} reverted", hex::encode(tx_hash))]
    TxReverted {
        /// The transaction.
        tx_hash: [u8; 32],
    },
}

impl AdapterError {
    /// Stable snake_case name.
    pub fn name(&self) -> &'static str {
        match self {
            AdapterError::InvalidConfig(_) => "invalid_config",
            AdapterError::NonLoopbackRpc(_) => "non_loopback_rpc",
            AdapterError::ChainIdMismatch { .. } => "chain_id_mismatch",
            AdapterError::Rpc(_) => "rpc",
            AdapterError::BlockNotFound { .. } => "block_not_found",
            AdapterError::HeaderHashMismatch { .. } => "header_hash_mismatch",
            AdapterError::InvalidHeader { .. } => "invalid_header",
            AdapterError::SigningFailed => "signing_failed",
            AdapterError::MalformedEvent { .. } => "malformed_event",
            AdapterError::NotCommitted { .. } => "not_committed",
            AdapterError::NoReceipt { .. } => "no_receipt",
            AdapterError::ReceiptExists { .. } => "receipt_exists",
            AdapterError::MalformedProof(_) => "malformed_proof",
            AdapterError::TooLarge { .. } => "too_large",
            AdapterError::GatewayRevert { .. } => "gateway_revert",
            AdapterError::TxReverted { .. } => "tx_reverted",
            AdapterError::SourceOnly { .. } => "source_only",
            AdapterError::Plugin { reason, .. } => reason,
        }
    }

    /// The gateway's named error when the gateway refused the call.
    pub fn revert_name(&self) -> Option<&'static str> {
        match self {
            AdapterError::GatewayRevert { revert, .. } => Some(revert),
            _ => None,
        }
    }
}

/// Whether any entry of `batches` is of an ordered sequence space: such batches must run
/// one after the other (a later one run before an earlier is mined finds it out of order).
pub fn any_ordered(batches: &[&[EntryProof]]) -> bool {
    batches
        .iter()
        .flat_map(|b| b.iter())
        .any(|e| e.entry.is_ordered())
}

/// One chain as a relayer sees it (DESIGN §7). Heights are the chain's own block numbers.
#[async_trait]
pub trait Adapter: Send + Sync {
    /// The chain's id on the hub.
    fn chain(&self) -> &ChainId;

    /// The chain's ledger kind (selects the hub's light client).
    fn kind(&self) -> LedgerKind;

    /// Whether the hub delivers to this chain (its log entries for it are carried to it).
    /// A source-only ledger (e.g. Bitcoin) answers false: outcomes of its packets stay on
    /// the hub, where they are queryable.
    fn is_destination(&self) -> bool {
        true
    }

    /// The identity of the chain's gateway as the council registers it (an EVM gateway's
    /// 20-byte address), when the adapter knows it.
    fn gateway_id(&self) -> Option<Vec<u8>> {
        None
    }

    /// The hash of the hub attestation set the chain's gateway holds, when the adapter can
    /// read it. After a hub validator-set change a gateway accepts only the checkpoint that
    /// hands over to the new set, then the new set's; the relayer compares this with the
    /// hub's set to deliver those hand-overs first. `None`: not known.
    async fn gateway_attestation_set(&self) -> Result<Option<[u8; 32]>, AdapterError> {
        Ok(None)
    }

    /// The unsigned header at `height` that an attested chain's attesters sign, in its
    /// light client's encoding (attested kinds only): what the members' attesters sign,
    /// and what the conformance kit signs with its own test attesters.
    async fn header_to_attest(&self, height: u64) -> Result<Vec<u8>, AdapterError> {
        let _ = height;
        Err(AdapterError::InvalidConfig(
            "this adapter builds no headers for attesters".into(),
        ))
    }

    /// The newest height the adapter will build headers and proofs at.
    async fn latest_height(&self) -> Result<u64, AdapterError>;

    /// The encoded header for a hub `RelayMsg::UpdateClient` at `height`.
    async fn header_update(&self, height: u64) -> Result<Vec<u8>, AdapterError>;

    /// Whether the relayer moves the hub's client of this chain with
    /// [`Adapter::header_update`]. Not for an attested EVM chain: the members' attesters
    /// sign its headers and the hub gathers their signatures, so the relayer proves
    /// packets at the heights the client already holds.
    fn relays_headers(&self) -> bool {
        true
    }

    /// Whether the hub's client of this chain takes every block in turn (QBFT: each
    /// block's validators are named by its parent), so that moving it to a height means
    /// sending each header after its latest. Otherwise one header moves it any distance.
    fn sequential_headers(&self) -> bool {
        false
    }

    /// The height and time of the header at `height`, checked as the adapter checks the
    /// headers it hands to the hub.
    async fn header_info(&self, height: u64) -> Result<HeaderInfo, AdapterError>;

    /// Proofs of `claims` at `height`, one result per claim in order (a claim the chain
    /// contradicts fails alone). The default asks for each proof on its own; an adapter
    /// that can prove many in one request overrides it.
    async fn prove_claims(
        &self,
        claims: &[(ProofClaim, &Packet)],
        height: u64,
    ) -> Vec<Result<SourceProof, AdapterError>> {
        let mut out = Vec::with_capacity(claims.len());
        for (claim, packet) in claims {
            out.push(match claim {
                ProofClaim::Commitment => self.prove_commitment(packet, height).await,
                ProofClaim::Receipt => self.prove_receipt(packet, height).await,
                ProofClaim::NoReceipt => self.prove_no_receipt(packet, height).await,
            });
        }
        out
    }

    /// What one delivery may spend at most, in the chain's own unit (gas on EVM chains);
    /// `None` when the ledger has no such limit. Batches are packed under a share of it.
    async fn delivery_budget(&self) -> Result<Option<u64>, AdapterError> {
        Ok(None)
    }

    /// Packets the gateway sent in blocks `from..=to`, in chain order.
    async fn sent_packets(&self, from: u64, to: u64) -> Result<Vec<SentPacket>, AdapterError>;

    /// Every sent packet still waiting for its outcome at the latest height, rebuilt from
    /// on-chain state alone (how a restarted relayer recovers its work).
    async fn pending_packets(&self) -> Result<Vec<SentPacket>, AdapterError>;

    /// Proof of the packet's commitment on this (source) chain at `height`.
    async fn prove_commitment(
        &self,
        packet: &Packet,
        height: u64,
    ) -> Result<SourceProof, AdapterError>;

    /// This (destination) gateway's receipt for the packet, if it has one.
    async fn receipt(&self, packet: &Packet) -> Result<Option<Receipt>, AdapterError>;

    /// Proof of this (destination) gateway's receipt for the packet at `height`.
    async fn prove_receipt(
        &self,
        packet: &Packet,
        height: u64,
    ) -> Result<SourceProof, AdapterError>;

    /// Proof that this (destination) gateway holds no receipt for the packet at `height`.
    async fn prove_no_receipt(
        &self,
        packet: &Packet,
        height: u64,
    ) -> Result<SourceProof, AdapterError>;

    /// Delivers a hub checkpoint and a batch of proven log entries to the gateway.
    async fn deliver(
        &self,
        checkpoint: &CheckpointProof,
        entries: &[EntryProof],
    ) -> Result<DeliverOutcome, AdapterError>;

    /// Delivers one batch with `gas` set by the operator (`junction packet deliver --gas`):
    /// sent as it is, without running it first, so a failure is a mined revert.
    async fn deliver_with_gas(
        &self,
        checkpoint: &CheckpointProof,
        entries: &[EntryProof],
        gas: u64,
    ) -> Result<DeliverOutcome, AdapterError> {
        let _ = (checkpoint, entries, gas);
        Err(AdapterError::InvalidConfig(
            "this adapter takes no gas override".into(),
        ))
    }

    /// Delivers several batches under one checkpoint, one result per batch in order. The
    /// default delivers them one after the other; an adapter that can have them included
    /// together overrides it.
    async fn deliver_batches(
        &self,
        checkpoint: &CheckpointProof,
        batches: &[&[EntryProof]],
    ) -> Vec<Result<DeliverOutcome, AdapterError>> {
        let mut out = Vec::with_capacity(batches.len());
        for b in batches {
            out.push(self.deliver(checkpoint, b).await);
        }
        out
    }

    /// Outcomes (ack, error-ack, timeout) delivered to source apps in blocks `from..=to`.
    async fn outcomes(&self, from: u64, to: u64) -> Result<Vec<Outcome>, AdapterError>;

    /// Receipts this (destination) gateway stored in blocks `from..=to`.
    async fn receipts(&self, from: u64, to: u64) -> Result<Vec<Receipt>, AdapterError>;
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use junction_spec::Timeout;
    use std::sync::Mutex;

    /// An adapter that records which single-claim and single-batch calls the defaults make.
    struct Recording {
        chain: ChainId,
        calls: Mutex<Vec<String>>,
    }

    impl Recording {
        fn log(&self, what: String) {
            self.calls.lock().unwrap().push(what);
        }
        fn proof(&self, what: &str, p: &Packet, height: u64) -> Result<SourceProof, AdapterError> {
            self.log(format!("{what} {} @{height}", p.sequence));
            if p.sequence == 2 {
                return Err(AdapterError::Rpc("sequence 2 fails alone".into()));
            }
            Ok(SourceProof {
                height,
                proof: vec![p.sequence as u8],
            })
        }
    }

    fn unused() -> AdapterError {
        AdapterError::Rpc("not used by these tests".into())
    }

    #[async_trait]
    impl Adapter for Recording {
        fn chain(&self) -> &ChainId {
            &self.chain
        }
        fn kind(&self) -> LedgerKind {
            LedgerKind::EvmAttested
        }
        async fn latest_height(&self) -> Result<u64, AdapterError> {
            Err(unused())
        }
        async fn header_update(&self, _: u64) -> Result<Vec<u8>, AdapterError> {
            Err(unused())
        }
        async fn header_info(&self, _: u64) -> Result<HeaderInfo, AdapterError> {
            Err(unused())
        }
        async fn sent_packets(&self, _: u64, _: u64) -> Result<Vec<SentPacket>, AdapterError> {
            Err(unused())
        }
        async fn pending_packets(&self) -> Result<Vec<SentPacket>, AdapterError> {
            Err(unused())
        }
        async fn prove_commitment(&self, p: &Packet, h: u64) -> Result<SourceProof, AdapterError> {
            self.proof("commitment", p, h)
        }
        async fn receipt(&self, _: &Packet) -> Result<Option<Receipt>, AdapterError> {
            Err(unused())
        }
        async fn prove_receipt(&self, p: &Packet, h: u64) -> Result<SourceProof, AdapterError> {
            self.proof("receipt", p, h)
        }
        async fn prove_no_receipt(&self, p: &Packet, h: u64) -> Result<SourceProof, AdapterError> {
            self.proof("no_receipt", p, h)
        }
        async fn deliver(
            &self,
            _: &CheckpointProof,
            entries: &[EntryProof],
        ) -> Result<DeliverOutcome, AdapterError> {
            self.log(format!("deliver {}", entries.len()));
            Err(unused())
        }
        async fn outcomes(&self, _: u64, _: u64) -> Result<Vec<Outcome>, AdapterError> {
            Err(unused())
        }
        async fn receipts(&self, _: u64, _: u64) -> Result<Vec<Receipt>, AdapterError> {
            Err(unused())
        }
    }

    fn packet(sequence: u64) -> Packet {
        Packet {
            version: 1,
            source_chain: ChainId::new("evm-a").unwrap(),
            source_app: vec![1; 20],
            sequence,
            dest_chain: ChainId::new("evm-b").unwrap(),
            dest_app: vec![2; 20],
            payload: vec![0; 4],
            timeout: Timeout::default(),
            gas_limit: 0,
            fee: 0,
        }
    }

    /// An adapter that proves one claim at a time still answers a batch of claims: each
    /// claim by its own method, in order, a failure alone.
    #[tokio::test]
    async fn the_default_batched_proofs_ask_each_claim_by_its_kind_in_order() {
        let a = Recording {
            chain: ChainId::new("evm-a").unwrap(),
            calls: Mutex::new(Vec::new()),
        };
        let (p1, p2, p3) = (packet(1), packet(2), packet(3));
        let claims = [
            (ProofClaim::Commitment, &p1),
            (ProofClaim::NoReceipt, &p2),
            (ProofClaim::Receipt, &p3),
        ];
        let out = a.prove_claims(&claims, 7).await;
        assert_eq!(out.len(), 3);
        assert_eq!(out[0].as_ref().unwrap().proof, vec![1]);
        assert_eq!(out[1].as_ref().unwrap_err().name(), "rpc");
        assert_eq!(out[2].as_ref().unwrap().height, 7);
        assert_eq!(
            *a.calls.lock().unwrap(),
            vec!["commitment 1 @7", "no_receipt 2 @7", "receipt 3 @7"]
        );
        assert_eq!(a.delivery_budget().await.unwrap(), None);
    }
}
