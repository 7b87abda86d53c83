//! The adapter of a source-only ledger served over JSON-RPC 2.0 (HTTP POST, 127.0.0.1).
//!
//! A ledger the relayer has no built-in adapter for, and that takes no deliveries from the
//! hub (Bitcoin, and Tendermint and Fabric until their destination layouts are built), can be
//! served by a small process that speaks the methods below; the dev-tools fixture ledgers
//! speak it. The relayer trusts nothing it answers: headers go to the hub's light client of
//! the ledger's kind, proofs to the same client, and packets are checked against their key
//! by the hub. Every answer is bounded ([`MAX_RESPONSE_BYTES`]) and every request has a
//! deadline ([`REQUEST_TIMEOUT`]).
//!
//! | method | params | result |
//! |---|---|---|
//! | `ledger_identity` | — | [`Identity`] |
//! | `ledger_latestHeight` | — | the newest height, a number |
//! | `ledger_header` | `{height}` | [`HeaderAnswer`] |
//! | `ledger_sentPackets` | `{from, to}` | [`SentAnswer`]s in chain order |
//! | `ledger_pendingPackets` | — | [`SentAnswer`]s still committed |
//! | `ledger_proveCommitment` | `{key, height}` | [`ProofAnswer`]; error `data` = `"not_committed"` when the packet is not committed there |

use std::time::Duration;

use async_trait::async_trait;
use junction_spec::{ChainId, Decode, LedgerKind, Packet, SourceProof, MAX_TX_BYTES};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::{
    Adapter, AdapterError, CheckpointProof, DeliverOutcome, EntryProof, HeaderInfo, Outcome,
    Receipt, SentPacket,
};

/// Largest answer the adapter reads.
pub const MAX_RESPONSE_BYTES: usize = 8 * 1024 * 1024;
/// Deadline of one request.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Most packets one `ledger_sentPackets` or `ledger_pendingPackets` answer may list.
pub const MAX_PACKETS_PER_ANSWER: usize = 10_000;

/// `ledger_identity`: which ledger the process serves.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// The chain's id on the hub.
    pub chain: String,
    /// Its ledger kind's name (`tendermint`, `fabric`, `bitcoin`, ...).
    pub kind: String,
    /// Whether the hub's client takes every header in turn.
    pub sequential_headers: bool,
}

/// `ledger_header`: a header's height, time and the bytes of a hub `UpdateClient` for it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeaderAnswer {
    /// Its height.
    pub height: u64,
    /// Its time, seconds since the Unix epoch.
    pub time_secs: u64,
    /// The update, hex.
    pub update: String,
}

/// A packet the ledger committed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentAnswer {
    /// The packet's canonical encoding, hex.
    pub packet: String,
    /// The block that committed it.
    pub height: u64,
    /// The committing transaction, hex (32 bytes).
    pub tx_hash: String,
}

/// `ledger_proveCommitment`: the proof and the height it is taken at (the block holding the
/// commitment for ledgers whose proofs name it, e.g. Bitcoin and Fabric).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProofAnswer {
    /// The proof's height.
    pub height: u64,
    /// The proof bytes in the hub client's format, hex.
    pub proof: String,
}

/// The ledger kind named `name`.
pub fn kind_named(name: &str) -> Option<LedgerKind> {
    (1..=u8::MAX)
        .map_while(LedgerKind::from_tag)
        .find(|k| k.as_str() == name)
}

/// A source-only ledger behind a JSON-RPC endpoint.
#[derive(Debug)]
pub struct LedgerRpcAdapter {
    http: reqwest::Client,
    url: String,
    chain: ChainId,
    kind: LedgerKind,
    sequential: bool,
}

fn rpc_error(what: impl std::fmt::Display) -> AdapterError {
    AdapterError::Rpc(what.to_string())
}

/// `bytes`, if a relayer message can carry them.
pub(crate) fn within_a_message(
    what: &'static str,
    bytes: Vec<u8>,
) -> Result<Vec<u8>, AdapterError> {
    if bytes.len() > MAX_TX_BYTES {
        return Err(AdapterError::TooLarge {
            what,
            got: bytes.len(),
            max: MAX_TX_BYTES,
        });
    }
    Ok(bytes)
}

pub(crate) fn hex_bytes(what: &str, s: &str) -> Result<Vec<u8>, AdapterError> {
    hex::decode(s.trim_start_matches("0x"))
        .map_err(|e| AdapterError::MalformedProof(format!("{what} is not hex: {e}")))
}

impl LedgerRpcAdapter {
    /// Connects to the ledger at `url` (127.0.0.1 only) and checks that it serves `chain`.
    pub async fn connect(url: &str, chain: ChainId) -> Result<Self, AdapterError> {
        crate::evm::adapter::loopback_url(url)?;
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(rpc_error)?;
        let mut a = Self {
            http,
            url: url.to_owned(),
            chain,
            kind: LedgerKind::Bitcoin,
            sequential: true,
        };
        let id: Identity = a.call("ledger_identity", json!([])).await?;
        if id.chain != a.chain.as_str() {
            return Err(AdapterError::InvalidConfig(format!(
                "the ledger at {url} serves chain {}, configured as {}",
                id.chain,
                a.chain.as_str()
            )));
        }
        a.kind = kind_named(&id.kind).ok_or_else(|| {
            AdapterError::InvalidConfig(format!("the ledger at {url} names kind {}", id.kind))
        })?;
        a.sequential = id.sequential_headers;
        Ok(a)
    }

    async fn call<T: serde::de::DeserializeOwned>(
        &self,
        method: &str,
        params: Value,
    ) -> Result<T, AdapterError> {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let mut resp = self
            .http
            .post(&self.url)
            .json(&body)
            .send()
            .await
            .map_err(|e| rpc_error(format!("{method}: {e}")))?;
        let mut bytes = Vec::new();
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| rpc_error(format!("{method}: {e}")))?
        {
            if bytes.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err(AdapterError::TooLarge {
                    what: "ledger answer",
                    got: bytes.len() + chunk.len(),
                    max: MAX_RESPONSE_BYTES,
                });
            }
            bytes.extend_from_slice(&chunk);
        }
        let v: Value = serde_json::from_slice(&bytes)
            .map_err(|e| rpc_error(format!("{method}: answer is not JSON: {e}")))?;
        if let Some(err) = v.get("error") {
            if err.get("data").and_then(Value::as_str) == Some("not_committed") {
                return Err(AdapterError::NotCommitted {
                    key: [0; 32],
                    height: 0,
                    found: [0; 32],
                });
            }
            return Err(rpc_error(format!("{method}: {err}")));
        }
        let result = v
            .get("result")
            .cloned()
            .ok_or_else(|| rpc_error(format!("{method}: answer without a result")))?;
        serde_json::from_value(result)
            .map_err(|e| rpc_error(format!("{method}: unexpected result: {e}")))
    }

    fn sent(&self, answers: Vec<SentAnswer>) -> Result<Vec<SentPacket>, AdapterError> {
        if answers.len() > MAX_PACKETS_PER_ANSWER {
            return Err(AdapterError::TooLarge {
                what: "packet list",
                got: answers.len(),
                max: MAX_PACKETS_PER_ANSWER,
            });
        }
        answers
            .into_iter()
            .map(|a| {
                let tx_hash: [u8; 32] = hex_bytes("tx hash", &a.tx_hash)?
                    .try_into()
                    .map_err(|_| self.malformed([0; 32], "tx hash is not 32 bytes"))?;
                let packet = Packet::from_bytes(&hex_bytes("packet", &a.packet)?)
                    .map_err(|e| self.malformed(tx_hash, &format!("packet: {e}")))?;
                if packet.source_chain != self.chain {
                    return Err(self.malformed(tx_hash, "a packet of another source chain"));
                }
                Ok(SentPacket {
                    packet,
                    height: a.height,
                    tx_hash,
                })
            })
            .collect()
    }

    fn malformed(&self, tx_hash: [u8; 32], what: &str) -> AdapterError {
        AdapterError::MalformedEvent {
            tx_hash,
            what: what.to_owned(),
        }
    }

    async fn header(&self, height: u64) -> Result<HeaderAnswer, AdapterError> {
        let h: HeaderAnswer = self
            .call("ledger_header", json!({ "height": height }))
            .await?;
        if h.height != height {
            return Err(AdapterError::InvalidHeader {
                height,
                reason: format!("the ledger answered height {}", h.height),
            });
        }
        Ok(h)
    }

    fn source_only(&self, what: &str) -> AdapterError {
        AdapterError::SourceOnly {
            chain: self.chain.as_str().to_owned(),
            what: what.to_owned(),
        }
    }
}

#[async_trait]
impl Adapter for LedgerRpcAdapter {
    fn chain(&self) -> &ChainId {
        &self.chain
    }

    fn kind(&self) -> LedgerKind {
        self.kind
    }

    fn sequential_headers(&self) -> bool {
        self.sequential
    }

    fn is_destination(&self) -> bool {
        false
    }

    async fn latest_height(&self) -> Result<u64, AdapterError> {
        self.call("ledger_latestHeight", json!([])).await
    }

    async fn header_update(&self, height: u64) -> Result<Vec<u8>, AdapterError> {
        within_a_message(
            "header update",
            hex_bytes("header update", &self.header(height).await?.update)?,
        )
    }

    async fn header_info(&self, height: u64) -> Result<HeaderInfo, AdapterError> {
        let h = self.header(height).await?;
        Ok(HeaderInfo {
            height,
            time_secs: h.time_secs,
        })
    }

    async fn sent_packets(&self, from: u64, to: u64) -> Result<Vec<SentPacket>, AdapterError> {
        let answers = self
            .call("ledger_sentPackets", json!({ "from": from, "to": to }))
            .await?;
        self.sent(answers)
    }

    async fn pending_packets(&self) -> Result<Vec<SentPacket>, AdapterError> {
        let answers = self.call("ledger_pendingPackets", json!([])).await?;
        self.sent(answers)
    }

    async fn prove_commitment(
        &self,
        packet: &Packet,
        height: u64,
    ) -> Result<SourceProof, AdapterError> {
        let key = packet.key().hash();
        let a: ProofAnswer = self
            .call(
                "ledger_proveCommitment",
                json!({ "key": hex::encode(key), "height": height }),
            )
            .await
            .map_err(|e| match e {
                AdapterError::NotCommitted { found, .. } => {
                    AdapterError::NotCommitted { key, height, found }
                }
                e => e,
            })?;
        if a.height > height {
            return Err(AdapterError::MalformedProof(format!(
                "asked at height {height}, the ledger proved at {}",
                a.height
            )));
        }
        Ok(SourceProof {
            height: a.height,
            proof: within_a_message("commitment proof", hex_bytes("proof", &a.proof)?)?,
        })
    }

    async fn receipt(&self, _: &Packet) -> Result<Option<Receipt>, AdapterError> {
        Ok(None)
    }

    async fn prove_receipt(&self, _: &Packet, _: u64) -> Result<SourceProof, AdapterError> {
        Err(self.source_only("a receipt proof"))
    }

    async fn prove_no_receipt(&self, _: &Packet, _: u64) -> Result<SourceProof, AdapterError> {
        Err(self.source_only("a receipt's absence"))
    }

    async fn deliver(
        &self,
        _: &CheckpointProof,
        _: &[EntryProof],
    ) -> Result<DeliverOutcome, AdapterError> {
        Err(self.source_only("a delivery"))
    }

    async fn outcomes(&self, _: u64, _: u64) -> Result<Vec<Outcome>, AdapterError> {
        Ok(Vec::new())
    }

    async fn receipts(&self, _: u64, _: u64) -> Result<Vec<Receipt>, AdapterError> {
        Ok(Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_found_by_its_name() {
        for k in [
            LedgerKind::Tendermint,
            LedgerKind::EvmQbft,
            LedgerKind::EvmAttested,
            LedgerKind::Fabric,
            LedgerKind::Bitcoin,
            LedgerKind::JunctionHub,
        ] {
            assert_eq!(kind_named(k.as_str()), Some(k));
        }
        assert_eq!(kind_named("corda"), None);
    }
}
