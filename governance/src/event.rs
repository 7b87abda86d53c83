//! Audit events: every governance action, with its proposal and signer where there is one.

use junction_spec::OrgId;
use serde::{Deserialize, Serialize};

/// One governance action, for the audit log. The hub adds the block height when it stores
/// the event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GovEvent {
    /// What happened, as a stable snake_case name (for example `"proposal_submitted"`,
    /// `"vote_cast"`, `"proposal_passed"`, `"proposal_executed"`, `"emergency_pause"`,
    /// `"route_paused"`). The full list is in `spec/governance.md`.
    pub action: String,
    /// The proposal concerned, if any.
    pub proposal_id: Option<u64>,
    /// The member that signed the action, if it was signed (ticks are not).
    pub signer: Option<OrgId>,
    /// Human-readable particulars (`key=value` pairs separated by spaces).
    pub detail: String,
}

impl GovEvent {
    /// An event with the given action and detail.
    pub fn new(
        action: &str,
        proposal_id: Option<u64>,
        signer: Option<OrgId>,
        detail: String,
    ) -> Self {
        Self {
            action: action.to_owned(),
            proposal_id,
            signer,
            detail,
        }
    }
}

/// Lower-case hex of `bytes`, for event details.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}
