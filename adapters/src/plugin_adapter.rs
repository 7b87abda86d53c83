//! The adapter of a chain served by a plugin (`spec/adapter-protocol.md` §3): the methods
//! of the [`Adapter`] trait, asked of a [`PluginProcess`] and checked for shape and bounds
//! (§6) before anything goes on. A method's own error (§4) becomes the [`AdapterError`] of
//! the same name, so the relayer judges a plugin's refusals as it judges a built-in
//! adapter's; a failure of the plugin itself (§5) is [`AdapterError::Plugin`].

use std::time::Duration;

use async_trait::async_trait;
use junction_spec::{ChainId, Decode, Encode, LedgerKind, Packet, SourceProof};
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::Mutex;

use crate::ledger_rpc::{hex_bytes, kind_named, within_a_message, SentAnswer};
use crate::plugin::{CallError, PluginProcess};
use crate::{
    Adapter, AdapterError, CheckpointProof, DeliverOutcome, EntryProof, HeaderInfo, Outcome,
    ProofClaim, Receipt, SentPacket, SkippedEntry,
};

/// Deadline of a cheap question (`chain_latestHeight`, `adapter_health`).
const QUICK: Duration = Duration::from_secs(5);
/// Deadline of a read or a proof.
const READ: Duration = Duration::from_secs(30);
/// Most packets, outcomes or receipts in one answer.
pub const MAX_ITEMS_PER_ANSWER: usize = 10_000;
/// Most claims in one `chain_prove`.
pub const MAX_CLAIMS: usize = 256;
/// Deadline of a delivery (sent and mined).
const DELIVER: Duration = Duration::from_secs(120);
/// Most batches in one `chain_deliver`.
pub const MAX_BATCHES: usize = 16;
/// Most pages of `chain_pendingPackets` read for one rebuild.
const MAX_PENDING_PAGES: usize = 1_000;

/// What the plugin said it is (`adapter_hello`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
struct Hello {
    #[serde(default)]
    version: u64,
    kind: String,
    /// The gateway's identity on its ledger as the council registers it (EVM: its
    /// 20-byte address), hex.
    #[serde(default)]
    gateway: String,
    #[serde(default)]
    capabilities: Vec<String>,
    #[serde(default)]
    sequential_headers: bool,
    #[serde(default = "yes")]
    relays_headers: bool,
    #[serde(default = "yes")]
    is_destination: bool,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
struct HeightAnswer {
    height: u64,
}

#[derive(Deserialize)]
struct HeaderInfoAnswer {
    height: u64,
    time_secs: u64,
}

#[derive(Deserialize)]
struct UpdateAnswer {
    height: u64,
    update: String,
}

#[derive(Deserialize)]
struct PacketsAnswer {
    packets: Vec<SentAnswer>,
    #[serde(default)]
    next: Option<Value>,
}

#[derive(Deserialize)]
struct ProofView {
    height: u64,
    proof: String,
}

#[derive(Deserialize)]
struct ErrorView {
    name: String,
    #[serde(default)]
    message: String,
}

#[derive(Deserialize)]
struct ClaimResult {
    #[serde(default)]
    proof: Option<ProofView>,
    #[serde(default)]
    error: Option<ErrorView>,
}

#[derive(Deserialize)]
struct ProveAnswer {
    results: Vec<ClaimResult>,
}

#[derive(Deserialize)]
struct ReceiptView {
    key: String,
    app_succeeded: bool,
    result: String,
    ack_commitment: String,
    height: u64,
    tx_hash: String,
}

#[derive(Deserialize)]
struct ReceiptsAnswer {
    receipts: Vec<ReceiptView>,
}

#[derive(Deserialize)]
struct OneReceiptAnswer {
    receipt: Option<ReceiptView>,
}

#[derive(Deserialize)]
struct OutcomeView {
    key: String,
    kind: String,
    callback_succeeded: bool,
    #[serde(default)]
    callback_error: String,
    height: u64,
    tx_hash: String,
}

#[derive(Deserialize)]
struct OutcomesAnswer {
    outcomes: Vec<OutcomeView>,
}

#[derive(Deserialize)]
struct SkippedView {
    index: u64,
    key: String,
    reason: String,
}

#[derive(Deserialize)]
struct DeliveredView {
    tx_hash: String,
    height: u64,
    #[serde(default)]
    fee_used: u64,
    #[serde(default)]
    received: Vec<ReceiptView>,
    #[serde(default)]
    outcomes: Vec<OutcomeView>,
    #[serde(default)]
    skipped: Vec<SkippedView>,
}

#[derive(Deserialize)]
struct DeliverErrorView {
    name: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    revert: String,
}

#[derive(Deserialize)]
struct BatchResult {
    #[serde(default, flatten)]
    delivered: Option<DeliveredView>,
    #[serde(default)]
    error: Option<DeliverErrorView>,
}

#[derive(Deserialize)]
struct DeliverAnswer {
    results: Vec<BatchResult>,
}

#[derive(Deserialize)]
struct FeeAnswer {
    budget: Option<u64>,
}

#[derive(Deserialize)]
struct GatewaySetAnswer {
    attestation_set_hash: String,
}

/// A chain served by a plugin.
pub struct PluginAdapter {
    chain: ChainId,
    kind: LedgerKind,
    hello: Hello,
    process: Mutex<PluginProcess>,
}

impl std::fmt::Debug for PluginAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginAdapter")
            .field("chain", &self.chain)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

fn bytes32(what: &str, s: &str) -> Result<[u8; 32], AdapterError> {
    hex_bytes(what, s)?
        .try_into()
        .map_err(|_| AdapterError::MalformedProof(format!("{what} is not 32 bytes")))
}

fn bounded<T>(what: &'static str, items: Vec<T>, max: usize) -> Result<Vec<T>, AdapterError> {
    if items.len() > max {
        return Err(AdapterError::TooLarge {
            what,
            got: items.len(),
            max,
        });
    }
    Ok(items)
}

impl PluginAdapter {
    /// Starts the plugin `process` serves `chain` with, and takes its hello.
    pub async fn start(chain: ChainId, mut process: PluginProcess) -> Result<Self, AdapterError> {
        // Any question starts the plugin and greets it; the height is asked of every
        // plugin.
        let _: Value = ask_of(&mut process, "chain_latestHeight", json!({}), QUICK).await?;
        let hello: Hello = process
            .hello()
            .cloned()
            .ok_or_else(|| AdapterError::InvalidConfig("the plugin gave no hello".into()))
            .and_then(|h| {
                serde_json::from_value(h)
                    .map_err(|e| AdapterError::InvalidConfig(format!("the plugin's hello: {e}")))
            })?;
        let kind = kind_named(&hello.kind).ok_or_else(|| {
            AdapterError::InvalidConfig(format!("the plugin names kind {:?}", hello.kind))
        })?;
        Ok(Self {
            chain,
            kind,
            hello,
            process: Mutex::new(process),
        })
    }

    /// Stops the plugin; the next request starts it again (the conformance kit).
    pub async fn restart(&self) {
        self.process.lock().await.stop().await;
    }

    /// One request as given, its answer or error as the plugin sent it (the conformance
    /// kit's bad requests).
    pub async fn call_raw(&self, method: &str, params: Value) -> Result<Value, CallError> {
        self.process.lock().await.call(method, params, READ).await
    }

    /// What the plugin said it is (`adapter_hello`), as it said it.
    pub fn hello(&self) -> (u64, &[String]) {
        (self.hello.version, &self.hello.capabilities)
    }

    /// Whether the plugin listed `capability`.
    pub fn can(&self, capability: &str) -> bool {
        self.hello.capabilities.iter().any(|c| c == capability)
    }

    async fn ask<T: serde::de::DeserializeOwned>(
        &self,
        method: &str,
        params: Value,
        deadline: Duration,
    ) -> Result<T, AdapterError> {
        let mut p = self.process.lock().await;
        ask_of(&mut p, method, params, deadline).await
    }

    fn sent(&self, answers: Vec<SentAnswer>) -> Result<Vec<SentPacket>, AdapterError> {
        bounded("packet list", answers, MAX_ITEMS_PER_ANSWER)?
            .into_iter()
            .map(|a| {
                let tx_hash = bytes32("tx hash", &a.tx_hash)?;
                let packet = Packet::from_bytes(&hex_bytes("packet", &a.packet)?).map_err(|e| {
                    AdapterError::MalformedEvent {
                        tx_hash,
                        what: format!("packet: {e}"),
                    }
                })?;
                if packet.source_chain != self.chain {
                    return Err(AdapterError::MalformedEvent {
                        tx_hash,
                        what: "a packet of another source chain".into(),
                    });
                }
                Ok(SentPacket {
                    packet,
                    height: a.height,
                    tx_hash,
                })
            })
            .collect()
    }

    fn receipt_of(r: ReceiptView) -> Result<Receipt, AdapterError> {
        Ok(Receipt {
            key: bytes32("receipt key", &r.key)?,
            app_succeeded: r.app_succeeded,
            result: hex_bytes("receipt result", &r.result)?,
            ack_commitment: bytes32("ack commitment", &r.ack_commitment)?,
            height: r.height,
            tx_hash: bytes32("tx hash", &r.tx_hash)?,
        })
    }

    fn outcome_of(o: OutcomeView) -> Result<Outcome, AdapterError> {
        let kind = match o.kind.as_str() {
            "ack" => junction_spec::log::EntryKind::Ack,
            "error_ack" => junction_spec::log::EntryKind::ErrorAck,
            "timeout" => junction_spec::log::EntryKind::Timeout,
            other => {
                return Err(AdapterError::Plugin {
                    reason: "plugin_garbage",
                    detail: format!("an outcome of kind {other:?}"),
                })
            }
        };
        Ok(Outcome {
            key: bytes32("outcome key", &o.key)?,
            kind,
            callback_succeeded: o.callback_succeeded,
            callback_error: hex_bytes("callback error", &o.callback_error)?,
            height: o.height,
            tx_hash: bytes32("tx hash", &o.tx_hash)?,
        })
    }

    /// What one delivered batch did, as the plugin reports it; its entries' positions are
    /// checked against the batch (`len` entries).
    fn delivered_of(d: DeliveredView, len: usize) -> Result<DeliverOutcome, AdapterError> {
        let bound = |what, n: usize| {
            if n > len {
                Err(AdapterError::Plugin {
                    reason: "plugin_garbage",
                    detail: format!("{n} {what} for a batch of {len} entries"),
                })
            } else {
                Ok(())
            }
        };
        bound("receipts", d.received.len())?;
        bound("outcomes", d.outcomes.len())?;
        bound("skipped entries", d.skipped.len())?;
        let skipped = d
            .skipped
            .into_iter()
            .map(|s| {
                if s.index >= len as u64 {
                    return Err(AdapterError::Plugin {
                        reason: "plugin_garbage",
                        detail: format!("entry {} skipped in a batch of {len}", s.index),
                    });
                }
                Ok(SkippedEntry {
                    index: s.index,
                    key: bytes32("skipped key", &s.key)?,
                    reason: crate::evm::gateway::revert_named(&s.reason).unwrap_or("unknown"),
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(DeliverOutcome {
            tx_hash: bytes32("tx hash", &d.tx_hash)?,
            height: d.height,
            gas_used: d.fee_used,
            received: d
                .received
                .into_iter()
                .map(Self::receipt_of)
                .collect::<Result<_, _>>()?,
            outcomes: d
                .outcomes
                .into_iter()
                .map(Self::outcome_of)
                .collect::<Result<_, _>>()?,
            skipped,
        })
    }

    /// `chain_deliver` of `batches` under one checkpoint, sending `gas` when given.
    pub async fn deliver_batches_with_gas(
        &self,
        checkpoint: &CheckpointProof,
        batches: &[&[EntryProof]],
        gas: Option<u64>,
    ) -> Vec<Result<DeliverOutcome, AdapterError>> {
        if !self.is_destination() {
            let e = self.source_only("deliveries");
            return batches.iter().map(|_| Err(e.clone())).collect();
        }
        let mut out = Vec::with_capacity(batches.len());
        for chunk in batches.chunks(MAX_BATCHES) {
            let params = json!({
                "checkpoint": hex::encode(checkpoint.checkpoint.to_bytes()),
                "signatures": checkpoint.signatures.iter().map(hex::encode).collect::<Vec<_>>(),
                "attestation_set": checkpoint.attestation_set.as_ref().map(|s| hex::encode(s.to_bytes())).unwrap_or_default(),
                "next_set": checkpoint.next_set.as_ref().map(|s| hex::encode(s.to_bytes())).unwrap_or_default(),
                "batches": chunk.iter().map(|b| b.iter().map(|e| json!({
                    "entry": hex::encode(e.entry.to_bytes()),
                    "index": e.index,
                    "path": e.proof.iter().map(hex::encode).collect::<Vec<_>>(),
                })).collect::<Vec<_>>()).collect::<Vec<_>>(),
                "gas": gas,
            });
            match self
                .ask::<DeliverAnswer>("chain_deliver", params, DELIVER)
                .await
            {
                Ok(a) if a.results.len() == chunk.len() => {
                    for (r, batch) in a.results.into_iter().zip(chunk) {
                        out.push(match (r.delivered, r.error) {
                            (_, Some(e)) if e.name == "gateway_revert" => {
                                Err(AdapterError::GatewayRevert {
                                    revert: crate::evm::gateway::revert_named(&e.revert)
                                        .unwrap_or("unknown"),
                                    detail: e.message,
                                })
                            }
                            (_, Some(e)) if e.name == "tx_reverted" => {
                                Err(AdapterError::TxReverted {
                                    tx_hash: bytes32("tx hash", &e.message).unwrap_or([0; 32]),
                                })
                            }
                            (_, Some(e)) => Err(method_error(&e.name, &e.message)),
                            (Some(d), None) => Self::delivered_of(d, batch.len()),
                            (None, None) => Err(AdapterError::Plugin {
                                reason: "plugin_garbage",
                                detail: "a batch result with neither a delivery nor an error"
                                    .into(),
                            }),
                        });
                    }
                }
                Ok(a) => {
                    let e = AdapterError::Plugin {
                        reason: "plugin_garbage",
                        detail: format!("{} results for {} batches", a.results.len(), chunk.len()),
                    };
                    out.extend(chunk.iter().map(|_| Err(e.clone())));
                }
                Err(e) => out.extend(chunk.iter().map(|_| Err(e.clone()))),
            }
        }
        out
    }

    fn source_only(&self, what: &str) -> AdapterError {
        AdapterError::SourceOnly {
            chain: self.chain.as_str().to_owned(),
            what: what.to_owned(),
        }
    }

    async fn prove_one(
        &self,
        claim: ProofClaim,
        packet: &Packet,
        height: u64,
    ) -> Result<SourceProof, AdapterError> {
        self.prove_claims(&[(claim, packet)], height)
            .await
            .pop()
            .unwrap_or_else(|| Err(AdapterError::Rpc("no proof answered".into())))
    }
}

/// One call, its method error mapped to the adapter error of that name and its result
/// read as `T`.
async fn ask_of<T: serde::de::DeserializeOwned>(
    p: &mut PluginProcess,
    method: &str,
    params: Value,
    deadline: Duration,
) -> Result<T, AdapterError> {
    let v = p
        .call(method, params, deadline)
        .await
        .map_err(|e| match e {
            CallError::Failure(f) => AdapterError::Plugin {
                reason: f.name(),
                detail: f.to_string(),
            },
            CallError::Method(m) => method_error(&m.name, &m.message),
        })?;
    serde_json::from_value(v).map_err(|e| AdapterError::Plugin {
        reason: "plugin_garbage",
        detail: format!("{method}: {e}"),
    })
}

/// Most heights one range request spans (§3).
pub const MAX_RANGE: u64 = 10_000;

/// `from..=to` in pieces of at most [`MAX_RANGE`] heights.
fn ranges(from: u64, to: u64) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    let mut start = from;
    while start <= to {
        let end = to.min(start.saturating_add(MAX_RANGE - 1));
        out.push((start, end));
        if end == u64::MAX {
            break;
        }
        start = end + 1;
    }
    out
}

/// The adapter error a plugin's method error names (§4).
fn method_error(name: &str, message: &str) -> AdapterError {
    match name {
        "block_not_found" | "rpc" => AdapterError::Rpc(format!("{name}: {message}")),
        "invalid_header" => AdapterError::InvalidHeader {
            height: 0,
            reason: message.to_owned(),
        },
        "not_committed" => AdapterError::NotCommitted {
            key: [0; 32],
            height: 0,
            found: [0; 32],
        },
        "no_receipt" => AdapterError::NoReceipt {
            key: [0; 32],
            height: 0,
        },
        "receipt_exists" => AdapterError::ReceiptExists {
            key: [0; 32],
            height: 0,
        },
        "too_large" => AdapterError::TooLarge {
            what: "plugin answer",
            got: 0,
            max: 0,
        },
        _ => AdapterError::Plugin {
            reason: "plugin_method_error",
            detail: format!("{name}: {message}"),
        },
    }
}

fn claim_name(c: ProofClaim) -> &'static str {
    match c {
        ProofClaim::Commitment => "commitment",
        ProofClaim::Receipt => "receipt",
        ProofClaim::NoReceipt => "no_receipt",
    }
}

#[async_trait]
impl Adapter for PluginAdapter {
    fn chain(&self) -> &ChainId {
        &self.chain
    }

    fn kind(&self) -> LedgerKind {
        self.kind
    }

    fn is_destination(&self) -> bool {
        self.hello.is_destination && self.can("deliver")
    }

    fn relays_headers(&self) -> bool {
        self.hello.relays_headers
    }

    fn gateway_id(&self) -> Option<Vec<u8>> {
        hex::decode(&self.hello.gateway)
            .ok()
            .filter(|g| !g.is_empty())
    }

    /// An attested kind's `chain_headerUpdate` is the unsigned header (§3).
    async fn header_to_attest(&self, height: u64) -> Result<Vec<u8>, AdapterError> {
        if self.kind != LedgerKind::EvmAttested {
            return Err(AdapterError::InvalidConfig(format!(
                "a {} chain's headers are not attested",
                self.hello.kind
            )));
        }
        self.header_update(height).await
    }

    fn sequential_headers(&self) -> bool {
        self.hello.sequential_headers
    }

    async fn latest_height(&self) -> Result<u64, AdapterError> {
        let a: HeightAnswer = self.ask("chain_latestHeight", json!({}), QUICK).await?;
        Ok(a.height)
    }

    async fn header_update(&self, height: u64) -> Result<Vec<u8>, AdapterError> {
        let a: UpdateAnswer = self
            .ask(
                "chain_headerUpdate",
                json!({"trusted_height": null, "height": height}),
                READ,
            )
            .await?;
        if a.height != height {
            return Err(AdapterError::InvalidHeader {
                height,
                reason: format!("the plugin answered height {}", a.height),
            });
        }
        within_a_message("header update", hex_bytes("header update", &a.update)?)
    }

    async fn header_info(&self, height: u64) -> Result<HeaderInfo, AdapterError> {
        let a: HeaderInfoAnswer = self
            .ask("chain_headerInfo", json!({ "height": height }), READ)
            .await?;
        if a.height != height {
            return Err(AdapterError::InvalidHeader {
                height,
                reason: format!("the plugin answered height {}", a.height),
            });
        }
        Ok(HeaderInfo {
            height,
            time_secs: a.time_secs,
        })
    }

    async fn prove_claims(
        &self,
        claims: &[(ProofClaim, &Packet)],
        height: u64,
    ) -> Vec<Result<SourceProof, AdapterError>> {
        let mut out = Vec::with_capacity(claims.len());
        for chunk in claims.chunks(MAX_CLAIMS) {
            let asked: Vec<Value> = chunk
                .iter()
                .map(|(c, p)| json!({"claim": claim_name(*c), "packet": hex::encode(p.to_bytes())}))
                .collect();
            let answer: Result<ProveAnswer, AdapterError> = self
                .ask(
                    "chain_prove",
                    json!({"height": height, "claims": asked}),
                    READ,
                )
                .await;
            match answer {
                Ok(a) if a.results.len() == chunk.len() => {
                    for r in a.results {
                        out.push(match (r.proof, r.error) {
                            (Some(p), None) if p.height <= height => hex_bytes("proof", &p.proof)
                                .and_then(|b| within_a_message("proof", b))
                                .map(|proof| SourceProof {
                                    height: p.height,
                                    proof,
                                }),
                            (Some(p), None) => Err(AdapterError::MalformedProof(format!(
                                "asked at height {height}, the plugin proved at {}",
                                p.height
                            ))),
                            (None, Some(e)) => Err(method_error(&e.name, &e.message)),
                            _ => Err(AdapterError::Plugin {
                                reason: "plugin_garbage",
                                detail: "a claim result with neither or both of proof and error"
                                    .into(),
                            }),
                        });
                    }
                }
                Ok(a) => {
                    let e = AdapterError::Plugin {
                        reason: "plugin_garbage",
                        detail: format!("{} results for {} claims", a.results.len(), chunk.len()),
                    };
                    out.extend(chunk.iter().map(|_| Err(e.clone())));
                }
                Err(e) => out.extend(chunk.iter().map(|_| Err(e.clone()))),
            }
        }
        out
    }

    async fn gateway_attestation_set(&self) -> Result<Option<[u8; 32]>, AdapterError> {
        if !self.can("gateway_set") {
            return Ok(None);
        }
        let a: GatewaySetAnswer = self.ask("chain_gatewaySet", json!({}), READ).await?;
        bytes32("attestation_set_hash", &a.attestation_set_hash).map(Some)
    }

    async fn delivery_budget(&self) -> Result<Option<u64>, AdapterError> {
        if !self.can("fee_estimate") {
            return Ok(None);
        }
        let a: FeeAnswer = self
            .ask("chain_feeEstimate", json!({"entries": 1}), READ)
            .await?;
        Ok(a.budget)
    }

    async fn sent_packets(&self, from: u64, to: u64) -> Result<Vec<SentPacket>, AdapterError> {
        let mut out = Vec::new();
        for (from, to) in ranges(from, to) {
            let a: PacketsAnswer = self
                .ask("chain_sentPackets", json!({"from": from, "to": to}), READ)
                .await?;
            out.extend(self.sent(a.packets)?);
        }
        Ok(out)
    }

    async fn pending_packets(&self) -> Result<Vec<SentPacket>, AdapterError> {
        let mut out = Vec::new();
        let mut cursor = Value::Null;
        for _ in 0..MAX_PENDING_PAGES {
            let a: PacketsAnswer = self
                .ask("chain_pendingPackets", json!({ "cursor": cursor }), READ)
                .await?;
            out.extend(self.sent(a.packets)?);
            match a.next {
                Some(next) if !next.is_null() => cursor = next,
                _ => return Ok(out),
            }
        }
        Err(AdapterError::TooLarge {
            what: "pending packet pages",
            got: MAX_PENDING_PAGES + 1,
            max: MAX_PENDING_PAGES,
        })
    }

    async fn prove_commitment(
        &self,
        packet: &Packet,
        height: u64,
    ) -> Result<SourceProof, AdapterError> {
        self.prove_one(ProofClaim::Commitment, packet, height).await
    }

    async fn receipt(&self, packet: &Packet) -> Result<Option<Receipt>, AdapterError> {
        if !self.can("receipts") {
            return Err(self.source_only("receipts"));
        }
        let a: OneReceiptAnswer = self
            .ask(
                "chain_receipt",
                json!({"packet": hex::encode(packet.to_bytes())}),
                READ,
            )
            .await?;
        a.receipt.map(Self::receipt_of).transpose()
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
        self.deliver_batches_with_gas(checkpoint, &[entries], None)
            .await
            .pop()
            .unwrap_or_else(|| Err(AdapterError::Rpc("no delivery answered".into())))
    }

    async fn deliver_with_gas(
        &self,
        checkpoint: &CheckpointProof,
        entries: &[EntryProof],
        gas: u64,
    ) -> Result<DeliverOutcome, AdapterError> {
        self.deliver_batches_with_gas(checkpoint, &[entries], Some(gas))
            .await
            .pop()
            .unwrap_or_else(|| Err(AdapterError::Rpc("no delivery answered".into())))
    }

    /// Batches of an ordered space go one request at a time: the plugin's estimate of a
    /// later batch would run before the earlier one is mined, and find it out of order.
    async fn deliver_batches(
        &self,
        checkpoint: &CheckpointProof,
        batches: &[&[EntryProof]],
    ) -> Vec<Result<DeliverOutcome, AdapterError>> {
        let ordered = crate::any_ordered(batches);
        if !ordered {
            return self
                .deliver_batches_with_gas(checkpoint, batches, None)
                .await;
        }
        let mut out = Vec::with_capacity(batches.len());
        for b in batches {
            out.extend(self.deliver_batches_with_gas(checkpoint, &[b], None).await);
        }
        out
    }

    async fn outcomes(&self, from: u64, to: u64) -> Result<Vec<Outcome>, AdapterError> {
        if !self.can("outcomes") {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        for (from, to) in ranges(from, to) {
            let a: OutcomesAnswer = self
                .ask("chain_outcomes", json!({"from": from, "to": to}), READ)
                .await?;
            for o in bounded("outcome list", a.outcomes, MAX_ITEMS_PER_ANSWER)? {
                out.push(Self::outcome_of(o)?);
            }
        }
        Ok(out)
    }

    async fn receipts(&self, from: u64, to: u64) -> Result<Vec<Receipt>, AdapterError> {
        if !self.can("receipts") {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        for (from, to) in ranges(from, to) {
            let a: ReceiptsAnswer = self
                .ask("chain_receipts", json!({"from": from, "to": to}), READ)
                .await?;
            for r in bounded("receipt list", a.receipts, MAX_ITEMS_PER_ANSWER)? {
                out.push(Self::receipt_of(r)?);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use junction_spec::Timeout;

    fn packet(sequence: u64) -> Packet {
        Packet {
            version: Packet::VERSION,
            source_chain: ChainId::new("fab-a").unwrap(),
            source_app: b"app".to_vec(),
            sequence,
            dest_chain: ChainId::new("evm-b").unwrap(),
            dest_app: vec![2; 20],
            payload: b"p".to_vec(),
            timeout: Timeout {
                height: 0,
                time_ms: 9,
            },
            gas_limit: 1,
            fee: 0,
        }
    }

    /// A Python plugin of a source-only `fabric` chain `fab-a` with the packets given:
    /// heights, headers, packets, and proofs (packet 2 is `not_committed`).
    fn fixture(packets: &[Packet]) -> Vec<String> {
        let hexes: Vec<String> = packets.iter().map(|p| hex::encode(p.to_bytes())).collect();
        let code = format!(
            r#"
import json, sys
packets = {hexes:?}
def ok(rid, result): print(json.dumps({{"jsonrpc": "2.0", "id": rid, "result": result}}), flush=True)
for line in sys.stdin:
    req = json.loads(line); rid = req["id"]; m = req["method"]; p = req["params"]
    if m == "adapter_hello":
        ok(rid, {{"version": 1, "chain": "fab-a", "kind": "fabric", "capabilities": ["headers", "sent_packets", "prove_commitment"], "sequential_headers": True, "is_destination": False}})
    elif m == "chain_latestHeight":
        ok(rid, {{"height": 12}})
    elif m == "chain_headerUpdate":
        ok(rid, {{"height": p["height"], "time_secs": 100, "update": "ab" * 8}})
    elif m == "chain_headerInfo":
        ok(rid, {{"height": p["height"] + (1 if p["height"] == 13 else 0), "time_secs": 100}})
    elif m == "chain_sentPackets":
        ok(rid, {{"packets": [{{"packet": x, "height": 5, "tx_hash": "11" * 32}} for x in packets]}})
    elif m == "chain_pendingPackets":
        if p["cursor"] is None:
            ok(rid, {{"packets": [{{"packet": packets[0], "height": 5, "tx_hash": "11" * 32}}], "next": 1}})
        else:
            ok(rid, {{"packets": [{{"packet": packets[1], "height": 6, "tx_hash": "22" * 32}}], "next": None}})
    elif m == "chain_prove":
        res = []
        for c in p["claims"]:
            if c["packet"] == packets[0]:
                res.append({{"proof": {{"height": p["height"], "proof": "cd" * 4}}}})
            else:
                res.append({{"error": {{"name": "not_committed", "message": "absent"}}}})
        ok(rid, {{"results": res}})
"#,
        );
        vec!["python3".into(), "-c".into(), code]
    }

    use crate::plugin::tests::have_python;

    #[tokio::test]
    async fn a_plugin_chain_answers_through_the_adapter_trait_and_bad_answers_are_named() {
        if !have_python() {
            return;
        }
        let (p1, p2) = (packet(1), packet(2));
        let process = PluginProcess::new("fab-a", fixture(&[p1.clone(), p2.clone()])).unwrap();
        let a = PluginAdapter::start(ChainId::new("fab-a").unwrap(), process)
            .await
            .unwrap();
        assert_eq!(a.kind(), LedgerKind::Fabric);
        assert!(a.sequential_headers() && !a.is_destination());
        assert_eq!(a.latest_height().await.unwrap(), 12);
        assert_eq!(a.header_update(12).await.unwrap(), vec![0xab; 8]);
        assert_eq!(a.header_info(12).await.unwrap().time_secs, 100);
        // An answer for another height than asked is refused by name.
        assert_eq!(
            a.header_info(13).await.unwrap_err().name(),
            "invalid_header"
        );
        let sent = a.sent_packets(1, 12).await.unwrap();
        assert_eq!(
            sent.iter().map(|s| s.packet.clone()).collect::<Vec<_>>(),
            vec![p1.clone(), p2.clone()]
        );
        // Two pages.
        assert_eq!(a.pending_packets().await.unwrap().len(), 2);
        let proofs = a
            .prove_claims(
                &[(ProofClaim::Commitment, &p1), (ProofClaim::Commitment, &p2)],
                12,
            )
            .await;
        assert_eq!(proofs[0].as_ref().unwrap().proof, vec![0xcd; 4]);
        assert_eq!(proofs[1].as_ref().unwrap_err().name(), "not_committed");
        // A source-only chain takes no receipts.
        assert_eq!(a.receipt(&p1).await.unwrap_err().name(), "source_only");
        assert!(a.receipts(1, 12).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn packets_of_another_source_chain_are_refused() {
        if !have_python() {
            return;
        }
        let mut other = packet(1);
        other.source_chain = ChainId::new("fab-z").unwrap();
        let process = PluginProcess::new("fab-a", fixture(&[other.clone(), other])).unwrap();
        let a = PluginAdapter::start(ChainId::new("fab-a").unwrap(), process)
            .await
            .unwrap();
        assert_eq!(
            a.sent_packets(1, 12).await.unwrap_err().name(),
            "malformed_event"
        );
    }

    /// A batch's result is a delivery or an error; a delivery is checked against its batch.
    #[test]
    fn delivery_results_are_read_per_batch_and_checked_against_it() {
        let a: DeliverAnswer = serde_json::from_value(json!({"results": [
            {"tx_hash": "11".repeat(32), "height": 7, "fee_used": 90_000,
             "received": [], "outcomes": [],
             "skipped": [{"index": 1, "key": "22".repeat(32), "reason": "AlreadyDelivered"}]},
            {"error": {"name": "gateway_revert", "message": "estimate", "revert": "InsufficientPower"}},
            {"tx_hash": "11".repeat(32), "height": 7,
             "skipped": [{"index": 5, "key": "22".repeat(32), "reason": "OutOfOrder"}]},
        ]}))
        .unwrap();
        let mut r = a.results.into_iter();
        let first = r.next().unwrap();
        assert!(first.error.is_none());
        let d = PluginAdapter::delivered_of(first.delivered.unwrap(), 2).unwrap();
        assert_eq!((d.height, d.gas_used), (7, 90_000));
        assert_eq!(d.skipped[0].reason, "AlreadyDelivered");
        let second = r.next().unwrap();
        assert!(second.delivered.is_none());
        assert_eq!(second.error.unwrap().revert, "InsufficientPower");
        assert_eq!(
            crate::evm::gateway::revert_named("InsufficientPower"),
            Some("InsufficientPower")
        );
        assert_eq!(crate::evm::gateway::revert_named("NoSuchError"), None);
        // An entry outside the batch is garbage.
        let third = r.next().unwrap().delivered.unwrap();
        assert_eq!(
            PluginAdapter::delivered_of(third, 2).unwrap_err().name(),
            "plugin_garbage"
        );
    }

    /// Ranges are asked in pieces the protocol allows, covering the range exactly.
    #[test]
    fn long_ranges_are_asked_in_pieces_of_ten_thousand_heights() {
        assert_eq!(ranges(0, 9_999), vec![(0, 9_999)]);
        assert_eq!(
            ranges(5, 25_000),
            vec![(5, 10_004), (10_005, 20_004), (20_005, 25_000)]
        );
        assert!(ranges(7, 6).is_empty());
        assert_eq!(ranges(u64::MAX, u64::MAX), vec![(u64::MAX, u64::MAX)]);
    }
}
