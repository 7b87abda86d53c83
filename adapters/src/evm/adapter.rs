//! The adapter of an EVM chain, in attested mode (`LedgerKind::EvmAttested`) or followed by
//! its QBFT validators (`LedgerKind::EvmQbft`, Besu / GoQuorum).
//!
//! - **Headers**: the block header is fetched, RLP-encoded and checked to hash to the block
//!   hash the node reported (for QBFT, the hash without seals and round, as Besu computes
//!   it). In attested mode it is reduced to its attested fields and signed by the adapter's
//!   attester keys ([`sign_attested_header`]); the update carries no full header, since the
//!   hub's client checks the attesters' signatures, not the node. For QBFT the update is
//!   the sealed header itself: the hub checks the validators' seals in `extraData`.
//! - **Packets**: the gateway's `PacketSent` events, each checked against its key and hash.
//!   [`Adapter::pending_packets`] keeps those whose commitment is still stored at the latest
//!   block, so a restarted relayer rebuilds its work from the chain alone.
//! - **Proofs**: `eth_getProof` of the gateway's mapping entries (GATEWAY.md, "Storage the hub
//!   proves"): `commitments` at slot 0, `acks` at slot 1, encoded as the light client's
//!   [`EvmProof`] into a [`SourceProof`].
//! - **Delivery**: [`crate::evm::gateway::deliver`], simulated first, so a batch the gateway
//!   would refuse comes back with the gateway's error name and costs nothing.
//!
//! Every answer of the node is checked before use; nothing here panics on RPC data.

use alloy::network::EthereumWallet;
use alloy::primitives::{keccak256, Address, B256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::{BlockId, BlockNumberOrTag, Filter, Log};
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolEvent;
use async_trait::async_trait;
use junction_light_clients::evm::attested::{
    attest_from_rlp, sign_attested_header, AttestedHeader, SignedAttestedHeader,
};
use junction_light_clients::evm::codec::{AttestedTrustRoot, QbftTrustRoot};
use junction_light_clients::evm::mpt::{verify_state, verify_state_absent, EvmPath, EvmProof};
use junction_light_clients::evm::qbft::QbftHeader;
use junction_light_clients::evm::secp::address_of_key;
use junction_spec::encoding::{Decode, Encode};
use junction_spec::log::{ack_commitment, EntryKind};
use junction_spec::relay::{MAX_HEADER_BYTES, MAX_PROOF_BYTES};
use junction_spec::{ChainId, LedgerKind, Packet, SourceProof};
use k256::ecdsa::SigningKey;

use super::gateway::{self, GatewayError, JunctionGateway};
use crate::{
    Adapter, AdapterError, CheckpointProof, DeliverOutcome, EntryProof, HeaderInfo, Outcome,
    ProofClaim, Receipt, SentPacket, SkippedEntry,
};

/// Most blocks asked for in one `eth_getLogs` (nodes cap the range).
pub const LOG_RANGE: u64 = 10_000;

pub use junction_light_clients::evm::mpt::{
    commitment_slot, mapping_slot, receipt_slot, GATEWAY_ACKS_SLOT as ACKS_SLOT,
    GATEWAY_COMMITMENTS_SLOT as COMMITMENTS_SLOT,
};

/// The canonical RLP of a block header, after checking that it hashes to the block hash the
/// node reported for it.
pub fn checked_header_rlp(
    height: u64,
    header: &alloy::rpc::types::Header,
) -> Result<Vec<u8>, AdapterError> {
    let rlp = alloy::rlp::encode(&header.inner);
    let computed = keccak256(&rlp).0;
    if computed != header.hash.0 {
        return Err(AdapterError::HeaderHashMismatch {
            height,
            reported: header.hash.0,
            computed,
        });
    }
    Ok(rlp)
}

/// What an [`EvmAdapter`] needs. Keys are secrets: `Debug` prints their addresses only.
#[derive(Clone)]
pub struct EvmAdapterConfig {
    /// JSON-RPC over HTTP of a node the operator runs, on `127.0.0.1`.
    pub rpc_url: String,
    /// The chain's id on the hub.
    pub chain: ChainId,
    /// EIP-155 chain id of the node.
    pub evm_chain_id: u64,
    /// The Junction gateway.
    pub gateway: Address,
    /// The block the gateway was deployed in (event scans start there).
    pub deploy_block: u64,
    /// Attester keys this adapter signs headers with: for tests and benchmarks that play
    /// every member. A relayer passes none (each member's attester signs on its own
    /// machine); the adapter then sends no header updates (`relays_headers` is false).
    pub attester_keys: Vec<SigningKey>,
    /// The funded key that pays the gas of `deliver` (it is trusted with nothing else).
    pub sender_key: SigningKey,
    /// The chain is a QBFT chain the hub follows by its validators' seals
    /// (`LedgerKind::EvmQbft`): headers go to the hub sealed as the node serves them, and
    /// `attester_keys` may be empty (they are not used).
    pub qbft: bool,
}

impl std::fmt::Debug for EvmAdapterConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let attesters: Vec<String> = self
            .attester_keys
            .iter()
            .map(|k| format!("0x{}", hex::encode(address_of_key(k.verifying_key()))))
            .collect();
        f.debug_struct("EvmAdapterConfig")
            .field("rpc_url", &self.rpc_url)
            .field("chain", &self.chain)
            .field("evm_chain_id", &self.evm_chain_id)
            .field("gateway", &self.gateway)
            .field("deploy_block", &self.deploy_block)
            .field("attesters", &attesters)
            .field("qbft", &self.qbft)
            .field(
                "sender",
                &format!(
                    "0x{}",
                    hex::encode(address_of_key(self.sender_key.verifying_key()))
                ),
            )
            .finish()
    }
}

/// The [`Adapter`] of an EVM chain whose headers the hub follows through attesters.
pub struct EvmAdapter {
    chain: ChainId,
    evm_chain_id: u64,
    gateway: Address,
    deploy_block: u64,
    attester_keys: Vec<SigningKey>,
    attesters: Vec<[u8; 20]>,
    sender: Address,
    provider: DynProvider,
    qbft: bool,
    /// One `deliver` at a time: the sender's nonce is read from the node per transaction.
    send_lock: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for EvmAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EvmAdapter")
            .field("chain", &self.chain)
            .field("evm_chain_id", &self.evm_chain_id)
            .field("gateway", &self.gateway)
            .field("deploy_block", &self.deploy_block)
            .field("attesters", &self.attesters.len())
            .field("qbft", &self.qbft)
            .field("sender", &self.sender)
            .finish()
    }
}

fn rpc(e: impl std::fmt::Display) -> AdapterError {
    AdapterError::Rpc(e.to_string())
}

/// Checks that `url` is `http://127.0.0.1:<port>[/...]`.
pub fn loopback_url(url: &str) -> Result<alloy::transports::http::reqwest::Url, AdapterError> {
    let parsed: alloy::transports::http::reqwest::Url = url
        .parse()
        .map_err(|e| AdapterError::InvalidConfig(format!("rpc_url {url:?}: {e}")))?;
    if parsed.scheme() != "http" {
        return Err(AdapterError::InvalidConfig(format!(
            "rpc_url {url:?}: only http:// to a local node is supported"
        )));
    }
    if parsed.host_str() != Some("127.0.0.1") {
        return Err(AdapterError::NonLoopbackRpc(url.to_owned()));
    }
    Ok(parsed)
}

fn log_meta(log: &Log) -> Result<(u64, [u8; 32]), AdapterError> {
    let tx_hash = log
        .transaction_hash
        .ok_or_else(|| AdapterError::Rpc("a log without its transaction hash".into()))?;
    let height = log
        .block_number
        .ok_or_else(|| AdapterError::MalformedEvent {
            tx_hash: tx_hash.0,
            what: "log without a block number".into(),
        })?;
    Ok((height, tx_hash.0))
}

fn decode_event<E: SolEvent>(log: &Log) -> Result<E, AdapterError> {
    log.log_decode::<E>()
        .map(|l| l.inner.data)
        .map_err(|e| AdapterError::MalformedEvent {
            tx_hash: log.transaction_hash.map(|h| h.0).unwrap_or_default(),
            what: format!("{}: {e}", E::SIGNATURE),
        })
}

fn receipt_of(
    ev: &JunctionGateway::PacketReceived,
    height: u64,
    tx_hash: [u8; 32],
) -> Result<Receipt, AdapterError> {
    let kind = if ev.appSucceeded {
        EntryKind::Ack
    } else {
        EntryKind::ErrorAck
    };
    if ev.result.len() > junction_spec::MAX_RESULT_BYTES {
        return Err(AdapterError::MalformedEvent {
            tx_hash,
            what: "PacketReceived: result over the entry cap".into(),
        });
    }
    Ok(Receipt {
        key: ev.key.0,
        app_succeeded: ev.appSucceeded,
        result: ev.result.to_vec(),
        ack_commitment: ack_commitment(kind, &ev.result),
        height,
        tx_hash,
    })
}

fn outcome_of(
    ev: &JunctionGateway::OutcomeDelivered,
    height: u64,
    tx_hash: [u8; 32],
) -> Result<Outcome, AdapterError> {
    let kind = EntryKind::from_tag(ev.kind)
        .filter(|k| k.is_outcome())
        .ok_or_else(|| AdapterError::MalformedEvent {
            tx_hash,
            what: format!("OutcomeDelivered: kind {} is not an outcome", ev.kind),
        })?;
    Ok(Outcome {
        key: ev.key.0,
        kind,
        callback_succeeded: ev.callbackSucceeded,
        callback_error: ev.callbackError.to_vec(),
        height,
        tx_hash,
    })
}

impl EvmAdapter {
    /// Connects to the node and checks that it follows `config.evm_chain_id`.
    pub async fn connect(config: EvmAdapterConfig) -> Result<Self, AdapterError> {
        let url = loopback_url(&config.rpc_url)?;
        let attesters: Vec<[u8; 20]> = config
            .attester_keys
            .iter()
            .map(|k| address_of_key(k.verifying_key()))
            .collect();
        let signer = PrivateKeySigner::from_signing_key(config.sender_key.clone());
        let sender = signer.address();
        // Nonces come from the node's pending count on every send, not from a local cache:
        // a send that fails after taking a cached nonce would leave a gap that holds back
        // every later transaction, and sends here are serialized by `send_lock` anyway.
        let provider = ProviderBuilder::new()
            .disable_recommended_fillers()
            .with_gas_estimation()
            .with_simple_nonce_management()
            .fetch_chain_id()
            .wallet(EthereumWallet::from(signer))
            .connect_http(url)
            .erased();
        let got = provider.get_chain_id().await.map_err(rpc)?;
        if got != config.evm_chain_id {
            return Err(AdapterError::ChainIdMismatch {
                expected: config.evm_chain_id,
                got,
            });
        }
        Ok(Self {
            chain: config.chain,
            evm_chain_id: config.evm_chain_id,
            gateway: config.gateway,
            deploy_block: config.deploy_block,
            attester_keys: config.attester_keys,
            attesters,
            sender,
            provider,
            qbft: config.qbft,
            send_lock: tokio::sync::Mutex::new(()),
        })
    }

    /// The gateway contract.
    pub fn gateway(&self) -> Address {
        self.gateway
    }

    /// The EIP-155 chain id.
    pub fn evm_chain_id(&self) -> u64 {
        self.evm_chain_id
    }

    /// Addresses of the attester keys, in configuration order.
    pub fn attesters(&self) -> &[[u8; 20]] {
        &self.attesters
    }

    /// The address paying for `deliver`.
    pub fn sender(&self) -> Address {
        self.sender
    }

    /// The gas limit of the chain's latest block: what one delivery can use at most.
    pub async fn block_gas_limit(&self) -> Result<u64, AdapterError> {
        let block = self
            .provider
            .get_block_by_number(BlockNumberOrTag::Latest)
            .await
            .map_err(rpc)?
            .ok_or(AdapterError::BlockNotFound { height: 0 })?;
        Ok(block.header.gas_limit)
    }

    /// Delivers `batches` under one checkpoint. Batches with an entry of an ordered route
    /// go one at a time, each mined before the next is estimated (a later one may depend
    /// on an earlier one's sequence); otherwise all are sent back to back with consecutive
    /// nonces and mined together, which takes one block instead of one per batch. Each
    /// batch's gas estimate runs it before it is sent, so a refused batch costs nothing
    /// and the others go ahead.
    async fn deliver_together(
        &self,
        checkpoint: &CheckpointProof,
        batches: &[&[EntryProof]],
    ) -> Vec<Result<DeliverOutcome, AdapterError>> {
        let ordered = crate::any_ordered(batches);
        if ordered || batches.len() < 2 {
            let mut out = Vec::with_capacity(batches.len());
            for b in batches {
                out.push(self.deliver(checkpoint, b).await);
            }
            return out;
        }
        let sent = {
            let _one_at_a_time = self.send_lock.lock().await;
            let mut sent = Vec::with_capacity(batches.len());
            for b in batches {
                sent.push(
                    gateway::send_deliver(&self.provider, self.gateway, checkpoint, b, None)
                        .await
                        .map_err(deliver_error),
                );
            }
            sent
        };
        futures::future::join_all(sent.into_iter().map(|s| async move {
            let receipt = gateway::mined(s?).await.map_err(deliver_error)?;
            self.deliver_outcome(&receipt)
        }))
        .await
    }

    /// What a mined `deliver` did, from its events.
    fn deliver_outcome(
        &self,
        receipt: &alloy::rpc::types::TransactionReceipt,
    ) -> Result<DeliverOutcome, AdapterError> {
        let tx_hash = receipt.transaction_hash.0;
        let height = receipt
            .block_number
            .ok_or_else(|| AdapterError::Rpc("a mined receipt without a block number".into()))?;
        let mut out = DeliverOutcome {
            tx_hash,
            height,
            gas_used: receipt.gas_used,
            received: Vec::new(),
            outcomes: Vec::new(),
            skipped: Vec::new(),
        };
        for log in receipt.inner.logs() {
            if log.address() != self.gateway {
                continue;
            }
            let Some(topic) = log.topic0() else { continue };
            if *topic == JunctionGateway::PacketReceived::SIGNATURE_HASH {
                let ev: JunctionGateway::PacketReceived = decode_event(log)?;
                out.received.push(receipt_of(&ev, height, tx_hash)?);
            } else if *topic == JunctionGateway::OutcomeDelivered::SIGNATURE_HASH {
                let ev: JunctionGateway::OutcomeDelivered = decode_event(log)?;
                out.outcomes.push(outcome_of(&ev, height, tx_hash)?);
            } else if *topic == JunctionGateway::EntrySkipped::SIGNATURE_HASH {
                let ev: JunctionGateway::EntrySkipped = decode_event(log)?;
                out.skipped.push(SkippedEntry {
                    index: u64::try_from(ev.index).unwrap_or(u64::MAX),
                    key: ev.key.0,
                    reason: gateway::revert_name(&ev.reason).unwrap_or("unknown"),
                });
            }
        }
        Ok(out)
    }

    /// The provider (sending from the sender key).
    pub fn provider(&self) -> &DynProvider {
        &self.provider
    }

    /// The attested fields of block `height`, from its checked RLP header (for a QBFT chain,
    /// `hash` is the QBFT block hash).
    pub async fn attested_header(&self, height: u64) -> Result<AttestedHeader, AdapterError> {
        Ok(self.checked_header(height).await?.1)
    }

    /// Block `height`'s RLP header, checked against the block hash the node reported, and
    /// its attested fields.
    async fn checked_header(&self, height: u64) -> Result<(Vec<u8>, AttestedHeader), AdapterError> {
        let block = self
            .provider
            .get_block_by_number(BlockNumberOrTag::Number(height))
            .await
            .map_err(rpc)?
            .ok_or(AdapterError::BlockNotFound { height })?;
        if block.header.inner.number != height {
            return Err(AdapterError::InvalidHeader {
                height,
                reason: format!("the node returned block {}", block.header.inner.number),
            });
        }
        if self.qbft {
            let rlp = alloy::rlp::encode(&block.header.inner);
            let sealed = QbftHeader::decode(&rlp).map_err(|e| AdapterError::InvalidHeader {
                height,
                reason: format!("not a QBFT header: {e}"),
            })?;
            if sealed.block_hash != block.header.hash.0 {
                return Err(AdapterError::HeaderHashMismatch {
                    height,
                    reported: block.header.hash.0,
                    computed: sealed.block_hash,
                });
            }
            let h = &sealed.header;
            let attested = AttestedHeader {
                chain_id: self.evm_chain_id,
                number: h.number,
                hash: sealed.block_hash,
                parent_hash: h.parent_hash,
                state_root: h.state_root,
                receipts_root: h.receipts_root,
                timestamp: h.timestamp,
            };
            return Ok((rlp, attested));
        }
        let rlp = checked_header_rlp(height, &block.header)?;
        let attested =
            attest_from_rlp(self.evm_chain_id, &rlp).map_err(|e| AdapterError::InvalidHeader {
                height,
                reason: e.to_string(),
            })?;
        Ok((rlp, attested))
    }

    /// What the council registers for this chain when it is a QBFT chain: the EVM chain
    /// id, the gateway and block `height`'s header (checked against its hash), whose
    /// `extraData` names the validators that seal the next block.
    pub async fn qbft_trust_root(&self, height: u64) -> Result<QbftTrustRoot, AdapterError> {
        Ok(QbftTrustRoot {
            evm_chain_id: self.evm_chain_id,
            gateway: self.gateway.0 .0,
            trusted_header: self.checked_header(height).await?.0,
        })
    }

    /// Block `height` attested and signed by every attester key of the adapter.
    pub async fn signed_header(&self, height: u64) -> Result<SignedAttestedHeader, AdapterError> {
        let header = self.attested_header(height).await?;
        let signatures = self
            .attester_keys
            .iter()
            .map(|k| sign_attested_header(k, &header).map_err(|_| AdapterError::SigningFailed))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(SignedAttestedHeader {
            header,
            signatures,
            full_header: None,
        })
    }

    /// What the council registers for this chain: the EVM chain id, the gateway, the
    /// attesters (the addresses of the adapter's attester keys) and block `height` as the
    /// trusted starting header.
    pub async fn trust_root(&self, height: u64) -> Result<AttestedTrustRoot, AdapterError> {
        Ok(AttestedTrustRoot {
            evm_chain_id: self.evm_chain_id,
            gateway: self.gateway.0 .0,
            attesters: self.attesters.clone(),
            trusted: self.attested_header(height).await?,
        })
    }

    /// Logs of event `signature` (optionally with first indexed topic `topic1`) of the
    /// gateway in blocks `from..=to`, asked for in ranges of [`LOG_RANGE`].
    async fn logs(
        &self,
        signature: B256,
        topic1: Option<B256>,
        from: u64,
        to: u64,
    ) -> Result<Vec<Log>, AdapterError> {
        let mut out = Vec::new();
        let mut start = from;
        while start <= to {
            let end = start.saturating_add(LOG_RANGE - 1).min(to);
            let mut filter = Filter::new()
                .address(self.gateway)
                .event_signature(signature)
                .from_block(start)
                .to_block(end);
            if let Some(t) = topic1 {
                filter = filter.topic1(t);
            }
            let logs = self.provider.get_logs(&filter).await.map_err(rpc)?;
            out.extend(logs.into_iter().filter(|l| !l.removed));
            if end == u64::MAX {
                break;
            }
            start = end + 1;
        }
        Ok(out)
    }

    fn sent_packet(&self, log: &Log) -> Result<SentPacket, AdapterError> {
        let (height, tx_hash) = log_meta(log)?;
        let ev: JunctionGateway::PacketSent = decode_event(log)?;
        let bad = |what: &str| AdapterError::MalformedEvent {
            tx_hash,
            what: format!("PacketSent: {what}"),
        };
        let packet = Packet::from_bytes(&ev.packet).map_err(|e| bad(&e.to_string()))?;
        if packet.key().hash() != ev.key.0 {
            return Err(bad("the packet's key hash is not the event's key"));
        }
        if packet.hash() != ev.packetHash.0 {
            return Err(bad("the packet's hash is not the event's packet hash"));
        }
        if packet.source_chain != self.chain {
            return Err(bad("the packet's source chain is not this chain"));
        }
        if packet.source_app != ev.app.as_slice() || packet.sequence != ev.sequence {
            return Err(bad("the packet's app or sequence is not the event's"));
        }
        Ok(SentPacket {
            packet,
            height,
            tx_hash,
        })
    }

    /// The words at `slots` of the gateway's storage at `height`, with their EIP-1186
    /// proofs, from one `eth_getProof` (not yet checked: see [`Self::check_proof_against`]).
    async fn storage_proofs(
        &self,
        slots: &[[u8; 32]],
        height: u64,
    ) -> Result<Vec<([u8; 32], EvmProof)>, AdapterError> {
        let resp = self
            .provider
            .get_proof(self.gateway, slots.iter().map(|s| B256::from(*s)).collect())
            .block_id(BlockId::number(height))
            .await
            .map_err(rpc)?;
        if resp.address != self.gateway {
            return Err(AdapterError::MalformedProof(format!(
                "proof of account {} instead of the gateway",
                resp.address
            )));
        }
        if resp.storage_proof.len() != slots.len() {
            return Err(AdapterError::MalformedProof(format!(
                "{} storage proofs for {} slots",
                resp.storage_proof.len(),
                slots.len()
            )));
        }
        let account_proof: Vec<Vec<u8>> = resp.account_proof.iter().map(|n| n.to_vec()).collect();
        slots
            .iter()
            .zip(&resp.storage_proof)
            .map(|(slot, entry)| {
                if entry.key.as_b256().0 != *slot {
                    return Err(AdapterError::MalformedProof(
                        "storage proof of another slot".into(),
                    ));
                }
                let proof = EvmProof {
                    account_proof: account_proof.clone(),
                    storage_proof: entry.proof.iter().map(|n| n.to_vec()).collect(),
                    receipt_proof: Vec::new(),
                };
                Ok((entry.value.to_be_bytes::<32>(), proof))
            })
            .collect()
    }

    /// [`Self::prove_slots_under`] the attested header at `height`, fetched here.
    pub async fn prove_slots(
        &self,
        claims: &[(ProofClaim, &Packet)],
        height: u64,
    ) -> Vec<Result<SourceProof, AdapterError>> {
        match self.attested_header(height).await {
            Ok(header) => self.prove_slots_under(&header, claims).await,
            Err(e) => claims.iter().map(|_| Err(e.clone())).collect(),
        }
    }

    /// Proves each claim about a packet's slots at `header`'s height: one `eth_getProof`
    /// per [`MAX_SLOTS_PER_PROOF_REQUEST`] claims, instead of a request (and a header) per
    /// packet. Each claim gets its own result (a packet whose slot says otherwise does not
    /// fail the others); every proof is checked against `header`'s state root before it is
    /// returned. `header` must come from [`Self::attested_header`], which checks it against
    /// the block hash.
    pub async fn prove_slots_under(
        &self,
        header: &AttestedHeader,
        claims: &[(ProofClaim, &Packet)],
    ) -> Vec<Result<SourceProof, AdapterError>> {
        let height = header.number;
        let chunks = claims
            .chunks(MAX_SLOTS_PER_PROOF_REQUEST)
            .map(|chunk| async move {
                let slots: Vec<[u8; 32]> = chunk
                    .iter()
                    .map(|(claim, p)| claim.slot(&p.key().hash()))
                    .collect();
                match self.storage_proofs(&slots, height).await {
                    Err(e) => chunk.iter().map(|_| Err(e.clone())).collect::<Vec<_>>(),
                    Ok(found) => chunk
                        .iter()
                        .zip(slots.iter().zip(found))
                        .map(|((claim, packet), (slot, (value, proof)))| {
                            claim.check_value(packet, &value, height)?;
                            Self::check_proof_against(
                                header,
                                self.gateway,
                                *slot,
                                &value,
                                &proof,
                                height,
                            )?;
                            Self::source_proof(height, &proof)
                        })
                        .collect(),
                }
            });
        futures::future::join_all(chunks)
            .await
            .into_iter()
            .flatten()
            .collect()
    }

    /// One claim through [`Self::prove_slots`].
    async fn prove_one(
        &self,
        claim: ProofClaim,
        packet: &Packet,
        height: u64,
    ) -> Result<SourceProof, AdapterError> {
        self.prove_slots(&[(claim, packet)], height)
            .await
            .pop()
            .unwrap_or_else(|| Err(AdapterError::Rpc("no proof came back".into())))
    }

    /// Checks the node's proof that `slot` holds `value` (zero: nothing) against the state
    /// root of `header` before it goes to the hub: a proof the hub would refuse is a bug
    /// or a lying node, found here.
    fn check_proof_against(
        header: &AttestedHeader,
        gateway: Address,
        slot: [u8; 32],
        value: &[u8; 32],
        proof: &EvmProof,
        height: u64,
    ) -> Result<(), AdapterError> {
        let path = EvmPath::Storage {
            address: gateway.0 .0,
            slot,
        };
        let checked = if *value == [0u8; 32] {
            verify_state_absent(&header.state_root, &header.receipts_root, &path, proof)
        } else {
            verify_state(
                &header.state_root,
                &header.receipts_root,
                &path,
                value,
                proof,
            )
        };
        checked.map_err(|e| {
            AdapterError::MalformedProof(format!(
                "the node's proof does not verify against block {height}'s state root: {e}"
            ))
        })
    }

    /// The proof in the form the hub accepts, within a relayer message's bounds.
    fn source_proof(height: u64, proof: &EvmProof) -> Result<SourceProof, AdapterError> {
        let bytes = proof.to_bytes();
        if bytes.len() > MAX_PROOF_BYTES {
            return Err(AdapterError::TooLarge {
                what: "storage proof",
                got: bytes.len(),
                max: MAX_PROOF_BYTES,
            });
        }
        // The hub decodes with the codec's node bounds: refuse here what it would refuse.
        EvmProof::from_bytes(&bytes).map_err(|e| AdapterError::MalformedProof(e.to_string()))?;
        Ok(SourceProof {
            height,
            proof: bytes,
        })
    }
}

#[async_trait]
impl Adapter for EvmAdapter {
    fn chain(&self) -> &ChainId {
        &self.chain
    }

    fn kind(&self) -> LedgerKind {
        if self.qbft {
            LedgerKind::EvmQbft
        } else {
            LedgerKind::EvmAttested
        }
    }

    async fn latest_height(&self) -> Result<u64, AdapterError> {
        self.provider.get_block_number().await.map_err(rpc)
    }

    async fn header_info(&self, height: u64) -> Result<HeaderInfo, AdapterError> {
        let h = self.attested_header(height).await?;
        Ok(HeaderInfo {
            height: h.number,
            time_secs: h.timestamp,
        })
    }

    async fn prove_claims(
        &self,
        claims: &[(ProofClaim, &Packet)],
        height: u64,
    ) -> Vec<Result<SourceProof, AdapterError>> {
        self.prove_slots(claims, height).await
    }

    async fn delivery_budget(&self) -> Result<Option<u64>, AdapterError> {
        self.block_gas_limit().await.map(Some)
    }

    async fn deliver_batches(
        &self,
        checkpoint: &CheckpointProof,
        batches: &[&[EntryProof]],
    ) -> Vec<Result<DeliverOutcome, AdapterError>> {
        self.deliver_together(checkpoint, batches).await
    }

    fn sequential_headers(&self) -> bool {
        self.qbft
    }

    fn relays_headers(&self) -> bool {
        self.qbft || !self.attester_keys.is_empty()
    }

    fn gateway_id(&self) -> Option<Vec<u8>> {
        Some(self.gateway.0 .0.to_vec())
    }

    async fn gateway_attestation_set(&self) -> Result<Option<[u8; 32]>, AdapterError> {
        let held = JunctionGateway::new(self.gateway, &self.provider)
            .attestationSetHash()
            .call()
            .await
            .map_err(rpc)?;
        Ok(Some(held.0))
    }

    async fn header_to_attest(&self, height: u64) -> Result<Vec<u8>, AdapterError> {
        if self.qbft {
            return Err(AdapterError::InvalidConfig(
                "a QBFT chain's headers are sealed by its validators, not attested".into(),
            ));
        }
        Ok(self.attested_header(height).await?.to_bytes())
    }

    async fn header_update(&self, height: u64) -> Result<Vec<u8>, AdapterError> {
        if !self.relays_headers() {
            return Err(AdapterError::InvalidConfig(
                "this adapter holds no attester key: the members' attesters sign the chain's headers and the hub gathers them".into(),
            ));
        }
        let bytes = if self.qbft {
            self.checked_header(height).await?.0
        } else {
            self.signed_header(height).await?.to_bytes()
        };
        if bytes.len() > MAX_HEADER_BYTES {
            return Err(AdapterError::TooLarge {
                what: "header update",
                got: bytes.len(),
                max: MAX_HEADER_BYTES,
            });
        }
        Ok(bytes)
    }

    async fn sent_packets(&self, from: u64, to: u64) -> Result<Vec<SentPacket>, AdapterError> {
        let from = from.max(self.deploy_block);
        self.logs(JunctionGateway::PacketSent::SIGNATURE_HASH, None, from, to)
            .await?
            .iter()
            .map(|l| self.sent_packet(l))
            .collect()
    }

    async fn pending_packets(&self) -> Result<Vec<SentPacket>, AdapterError> {
        let latest = self.latest_height().await?;
        let sent = self.sent_packets(self.deploy_block, latest).await?;
        let gateway = JunctionGateway::new(self.gateway, &self.provider);
        let mut pending = Vec::new();
        for s in sent {
            let stored = gateway
                .commitments(B256::from(s.packet.key().hash()))
                .block(BlockId::number(latest))
                .call()
                .await
                .map_err(rpc)?;
            if stored.0 == s.packet.hash() {
                pending.push(s);
            }
        }
        Ok(pending)
    }

    async fn prove_commitment(
        &self,
        packet: &Packet,
        height: u64,
    ) -> Result<SourceProof, AdapterError> {
        self.prove_one(ProofClaim::Commitment, packet, height).await
    }

    async fn receipt(&self, packet: &Packet) -> Result<Option<Receipt>, AdapterError> {
        let key = packet.key().hash();
        let latest = self.latest_height().await?;
        let logs = self
            .logs(
                JunctionGateway::PacketReceived::SIGNATURE_HASH,
                Some(B256::from(key)),
                self.deploy_block,
                latest,
            )
            .await?;
        match logs.last() {
            None => Ok(None),
            Some(log) => {
                let (height, tx_hash) = log_meta(log)?;
                let ev: JunctionGateway::PacketReceived = decode_event(log)?;
                receipt_of(&ev, height, tx_hash).map(Some)
            }
        }
    }

    async fn prove_receipt(
        &self,
        packet: &Packet,
        height: u64,
    ) -> Result<SourceProof, AdapterError> {
        self.prove_one(ProofClaim::Receipt, packet, height).await
    }

    async fn prove_no_receipt(
        &self,
        packet: &Packet,
        height: u64,
    ) -> Result<SourceProof, AdapterError> {
        self.prove_one(ProofClaim::NoReceipt, packet, height).await
    }

    async fn deliver(
        &self,
        checkpoint: &CheckpointProof,
        entries: &[EntryProof],
    ) -> Result<DeliverOutcome, AdapterError> {
        let _one_at_a_time = self.send_lock.lock().await;
        let receipt = gateway::deliver(&self.provider, self.gateway, checkpoint, entries, None)
            .await
            .map_err(deliver_error)?;
        self.deliver_outcome(&receipt)
    }

    async fn deliver_with_gas(
        &self,
        checkpoint: &CheckpointProof,
        entries: &[EntryProof],
        gas: u64,
    ) -> Result<DeliverOutcome, AdapterError> {
        let _one_at_a_time = self.send_lock.lock().await;
        let receipt =
            gateway::deliver(&self.provider, self.gateway, checkpoint, entries, Some(gas))
                .await
                .map_err(deliver_error)?;
        self.deliver_outcome(&receipt)
    }

    async fn outcomes(&self, from: u64, to: u64) -> Result<Vec<Outcome>, AdapterError> {
        let from = from.max(self.deploy_block);
        let logs = self
            .logs(
                JunctionGateway::OutcomeDelivered::SIGNATURE_HASH,
                None,
                from,
                to,
            )
            .await?;
        logs.iter()
            .map(|log| {
                let (height, tx_hash) = log_meta(log)?;
                outcome_of(&decode_event(log)?, height, tx_hash)
            })
            .collect()
    }

    async fn receipts(&self, from: u64, to: u64) -> Result<Vec<Receipt>, AdapterError> {
        let from = from.max(self.deploy_block);
        let logs = self
            .logs(
                JunctionGateway::PacketReceived::SIGNATURE_HASH,
                None,
                from,
                to,
            )
            .await?;
        logs.iter()
            .map(|log| {
                let (height, tx_hash) = log_meta(log)?;
                receipt_of(&decode_event(log)?, height, tx_hash)
            })
            .collect()
    }
}

/// Storage proofs fetched in one `eth_getProof` (a response of a few hundred KiB).
pub const MAX_SLOTS_PER_PROOF_REQUEST: usize = 128;

impl ProofClaim {
    /// The gateway storage slot of the claim about the packet with key hash `key`.
    pub fn slot(&self, key: &[u8; 32]) -> [u8; 32] {
        match self {
            ProofClaim::Commitment => commitment_slot(key),
            ProofClaim::Receipt | ProofClaim::NoReceipt => receipt_slot(key),
        }
    }

    /// Whether the word found in the slot is what the claim needs, as a named error.
    fn check_value(
        &self,
        packet: &Packet,
        found: &[u8; 32],
        height: u64,
    ) -> Result<(), AdapterError> {
        let key = packet.key().hash();
        match self {
            ProofClaim::Commitment if *found != packet.hash() => Err(AdapterError::NotCommitted {
                key,
                height,
                found: *found,
            }),
            ProofClaim::Receipt if *found == [0u8; 32] => {
                Err(AdapterError::NoReceipt { key, height })
            }
            ProofClaim::NoReceipt if *found != [0u8; 32] => {
                Err(AdapterError::ReceiptExists { key, height })
            }
            _ => Ok(()),
        }
    }
}

/// An adapter error for a failed `deliver`, with the gateway's revert name when it has one.
fn deliver_error(e: GatewayError) -> AdapterError {
    match &e {
        GatewayError::Contract(c) => match (e.revert_name(), c.as_revert_data()) {
            (Some(revert), _) => AdapterError::GatewayRevert {
                revert,
                detail: e.to_string(),
            },
            (None, Some(_)) => AdapterError::GatewayRevert {
                revert: "unknown",
                detail: e.to_string(),
            },
            (None, None) => rpc(&e),
        },
        GatewayError::Reverted(tx) => AdapterError::TxReverted {
            tx_hash: tx.parse::<B256>().map(|h| h.0).unwrap_or_default(),
        },
        GatewayError::Unexpected(_) => rpc(&e),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn mapping_slots_follow_solidity_layout() {
        let key = [0xabu8; 32];
        let mut pre = key.to_vec();
        pre.extend_from_slice(&[0u8; 32]);
        assert_eq!(commitment_slot(&key), keccak256(&pre).0);
        pre[63] = 1;
        assert_eq!(receipt_slot(&key), keccak256(&pre).0);
    }

    #[test]
    fn only_loopback_http_endpoints() {
        assert!(loopback_url("http://127.0.0.1:8545").is_ok());
        for url in [
            "http://10.0.0.1:8545",
            "http://localhost:8545",
            "http://node.example:8545",
        ] {
            assert_eq!(loopback_url(url).unwrap_err().name(), "non_loopback_rpc");
        }
        assert_eq!(
            loopback_url("https://127.0.0.1:8545").unwrap_err().name(),
            "invalid_config"
        );
        assert_eq!(
            loopback_url("not a url").unwrap_err().name(),
            "invalid_config"
        );
    }

    #[test]
    fn a_header_that_does_not_hash_to_the_reported_hash_is_refused() {
        let inner = alloy::consensus::Header {
            number: 7,
            timestamp: 1_700_000_000,
            ..Default::default()
        };
        let good = alloy::rpc::types::Header::new(inner.clone());
        let rlp = checked_header_rlp(7, &good).unwrap();
        assert_eq!(keccak256(&rlp), good.hash);
        let attested = attest_from_rlp(31_337, &rlp).unwrap();
        assert_eq!(attested.hash, good.hash.0);
        assert_eq!(attested.number, 7);
        let mut lying = good.clone();
        lying.hash = B256::repeat_byte(1);
        assert_eq!(
            checked_header_rlp(7, &lying).unwrap_err().name(),
            "header_hash_mismatch"
        );
    }
}
