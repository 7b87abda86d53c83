//! The messages on the signer's socket: one JSON object a line each way, a request and
//! then its answer (`spec/signer.md`).

use serde::{Deserialize, Serialize};

/// Longest line either side reads.
pub const MAX_LINE_BYTES: usize = 16 * 1024;

/// A request.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum SignRequest {
    /// The consensus public key the signer holds.
    PublicKey,
    /// Sign these canonical sign bytes (hex).
    Sign {
        /// The bytes, hex.
        bytes: String,
    },
}

/// A refusal.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SignerErrorBody {
    /// `double_sign`, `regression`, `unknown_message`, `bad_request` or `state_not_saved`.
    pub name: String,
    /// What happened.
    pub message: String,
}

/// An answer.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct SignResponse {
    /// The public key (hex), to `public_key`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
    /// The 64-byte ed25519 signature (hex), to `sign`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    /// Why the request was refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<SignerErrorBody>,
}
