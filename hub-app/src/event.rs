//! Block events: what each transaction did, for subscribers, the RPC and metrics.

use junction_governance::GovEvent;
use junction_spec::Hash32;

/// An event emitted by a transaction.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Event {
    /// Event kind, e.g. `remark`.
    pub kind: String,
    /// Transaction hash (hex).
    pub tx: String,
    /// Key/value attributes in a fixed order.
    pub attributes: Vec<(String, String)>,
}

/// A governance event as a block event.
pub fn gov_event(e: GovEvent, tx_hash: Option<&Hash32>) -> Event {
    let mut attributes = Vec::with_capacity(3);
    if let Some(id) = e.proposal_id {
        attributes.push(("proposal_id".into(), id.to_string()));
    }
    if let Some(s) = &e.signer {
        attributes.push(("signer".into(), s.as_str().to_string()));
    }
    attributes.push(("detail".into(), e.detail));
    Event {
        kind: format!("gov/{}", e.action),
        tx: tx_hash.map(hex::encode).unwrap_or_default(),
        attributes,
    }
}
