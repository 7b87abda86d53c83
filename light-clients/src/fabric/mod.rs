//! Hyperledger Fabric light client (DESIGN §5).
//!
//! Fabric has no light-client protocol of its own, so this module checks what can be checked
//! from signed data alone and asks for signed statements for the rest:
//!
//! - **Blocks** ([`block`]): the header hash (SHA-256 of the ASN.1 DER header, as Fabric's
//!   `protoutil.BlockHeaderHash`), the data hash (SHA-256 of the concatenated envelopes) and
//!   previous-hash continuity.
//! - **Ordering** ([`verify`]): the orderer signatures in the `SIGNATURES` block metadata,
//!   ECDSA P-256 low-S, by certificates chained to an orderer org's MSP roots ([`msp`]) taken
//!   from the channel config ([`config`]), at least `k` distinct orderer orgs.
//! - **Endorsements**: each endorsement of each action, by a certificate chained to an
//!   application org's MSP, at least `n` distinct listed orgs.
//! - **Validity** ([`attest`]): the `TRANSACTIONS_FILTER` metadata is written by the committing
//!   peer and signed by no one, so a transaction counts as valid only with
//!   [`attest::ValidationAttestation`]s signed by peers of `k` distinct application orgs.
//!
//! [`FabricClient`] ties these together behind [`crate::LightClient`]. See
//! `light-clients/docs/fabric.md` for what each signature does and does not prove.

pub mod attest;
pub mod block;
pub mod client;
pub mod config;
pub mod hub;
pub mod msp;
pub mod proto;
#[cfg(any(test, feature = "testkit"))]
pub mod testkit;
pub mod verify;

pub use attest::{SignedValidationAttestation, ValidationAttestation};
pub use client::{
    FabricClient, FabricHeader, FabricMisbehaviour, FabricPath, FabricPolicy, FabricTxProof,
    FabricVerified,
};
pub use config::ChannelConfig;
pub use msp::Msp;
pub use verify::EndorsementPolicy;

use crate::NamedError;

/// Largest encoded block accepted (bytes).
pub const MAX_BLOCK_BYTES: usize = 8 * 1024 * 1024;
/// Largest block file (block-store format) accepted by [`block::decode_block_file`].
pub const MAX_BLOCK_FILE_BYTES: usize = 32 * 1024 * 1024;
/// Most blocks read from one block file.
pub const MAX_BLOCKS_PER_FILE: usize = 4096;
/// Most envelopes in one block.
pub const MAX_TXS_PER_BLOCK: usize = 10_000;
/// Most metadata entries in one block.
pub const MAX_METADATA_ENTRIES: usize = 16;
/// Most orderer signatures read from one block.
pub const MAX_ORDERER_SIGNATURES: usize = 64;
/// Most actions in one transaction.
pub const MAX_ACTIONS_PER_TX: usize = 16;
/// Most endorsements on one action.
pub const MAX_ENDORSEMENTS: usize = 64;
/// Most validation attestations with one proof.
pub const MAX_ATTESTATIONS: usize = 64;
/// Largest serialized identity (MSP id + PEM certificate).
pub const MAX_IDENTITY_BYTES: usize = 16 * 1024;
/// Longest MSP id, channel id or transaction id.
pub const MAX_ID_LEN: usize = 256;
/// Most organizations in one channel config section.
pub const MAX_ORGS: usize = 64;
/// Most root plus intermediate certificates in one MSP.
pub const MAX_CERTS_PER_MSP: usize = 16;
/// Longest chain of intermediate CAs between a root and an identity.
pub const MAX_INTERMEDIATE_DEPTH: usize = 4;

/// Why a Fabric block, transaction, signature or update was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FabricError {
    /// An input exceeded one of the module's bounds.
    #[error("{what}: {got} exceeds the limit {max}")]
    TooLarge {
        /// What was too large.
        what: &'static str,
        /// Its size or count.
        got: usize,
        /// The bound.
        max: usize,
    },
    /// Bytes did not decode as the expected protobuf, DER or block-store structure.
    #[error("malformed {what}")]
    Malformed {
        /// What failed to decode.
        what: &'static str,
    },
    /// A required field was absent or empty.
    #[error("missing {what}")]
    MissingField {
        /// The missing field.
        what: &'static str,
    },
    /// The block's data hash is not SHA-256 of its envelopes.
    #[error("data hash does not match the block's envelopes")]
    DataHashMismatch,
    /// The block does not follow the trusted block (number).
    #[error("expected block {expected}, got {got}")]
    NonSequentialBlock {
        /// The next block number.
        expected: u64,
        /// The number in the submitted block.
        got: u64,
    },
    /// The block's previous hash is not the trusted block's header hash.
    #[error("previous hash does not match the trusted block")]
    PreviousHashMismatch,
    /// The block's header hash is not the one verified at this height.
    #[error("block header hash differs from the verified block at {height}")]
    HeaderHashMismatch {
        /// The verified height.
        height: u64,
    },
    /// A signer named an MSP that the relevant channel-config section does not hold.
    #[error("MSP {mspid} is not an accepted {role} org")]
    UnknownMsp {
        /// The claimed MSP id.
        mspid: String,
        /// `orderer` or `application`.
        role: &'static str,
    },
    /// The signer's certificate is not issued by a root or intermediate CA of its MSP.
    #[error("certificate not chained to a root of MSP {mspid}")]
    CertNotChained {
        /// The claimed MSP id.
        mspid: String,
    },
    /// A CA certificate was used as a signing identity (Fabric refuses this too).
    #[error("a CA certificate cannot sign as an identity")]
    CertIsCa,
    /// A key or signature algorithm other than ECDSA P-256 / SHA-256.
    #[error("unsupported algorithm in {what}")]
    UnsupportedAlgorithm {
        /// Where the algorithm was found.
        what: &'static str,
    },
    /// A certificate failed to parse.
    #[error("malformed certificate")]
    BadCertificate,
    /// The signature is not a DER ECDSA signature.
    #[error("malformed ECDSA signature")]
    BadSignatureEncoding,
    /// The signature's S is in the upper half of the group order; Fabric's BCCSP refuses it.
    #[error("high-S ECDSA signature (malleable)")]
    HighS,
    /// The signature does not verify.
    #[error("invalid signature over {what}")]
    InvalidSignature {
        /// What was signed.
        what: &'static str,
    },
    /// The orderer signature uses a BFT identifier header, which this client cannot resolve.
    #[error("BFT identifier-header orderer signatures are not supported")]
    UnsupportedBftSignature,
    /// Too few distinct orderer orgs signed the block.
    #[error("orderer signatures from {got} distinct orgs, need {need}")]
    InsufficientOrdererSignatures {
        /// Distinct orgs with a valid signature.
        got: usize,
        /// The policy threshold.
        need: usize,
    },
    /// Too few distinct listed orgs endorsed an action.
    #[error("endorsements from {got} distinct listed orgs, need {need}")]
    InsufficientEndorsements {
        /// Distinct listed orgs with a valid endorsement.
        got: usize,
        /// The policy threshold.
        need: usize,
    },
    /// Too few distinct orgs attested that the transaction is valid.
    #[error("validation attested by {got} distinct orgs, need {need}")]
    InsufficientValidationAttestations {
        /// Distinct orgs with a valid VALID attestation.
        got: usize,
        /// The policy threshold.
        need: usize,
    },
    /// A signed attestation says the transaction was invalidated.
    #[error("transaction attested invalid (validation code {code})")]
    TxAttestedInvalid {
        /// The attested `TxValidationCode`.
        code: u32,
    },
    /// The block's (unsigned) transaction filter marks the transaction invalid.
    #[error("block transaction filter marks the transaction invalid (code {code})")]
    TxMarkedInvalid {
        /// The code in the filter.
        code: u8,
    },
    /// An attestation speaks about another channel, block or transaction.
    #[error("attestation does not match the {what}")]
    AttestationMismatch {
        /// Which field differs.
        what: &'static str,
    },
    /// No envelope in the block carries this transaction id.
    #[error("transaction not found in block")]
    TxNotFound,
    /// Two envelopes in the block carry the same transaction id.
    #[error("transaction id appears twice in the block")]
    DuplicateTxId,
    /// The envelope's channel header names another channel.
    #[error("channel {got} is not the client's channel {expected}")]
    WrongChannel {
        /// The client's channel.
        expected: String,
        /// The channel in the envelope.
        got: String,
    },
    /// The envelope has the wrong header type for this operation.
    #[error("unexpected envelope header type {got}")]
    WrongHeaderType {
        /// The `HeaderType` found.
        got: i32,
    },
    /// The proven value differs from the claimed value.
    #[error("value does not match")]
    ValueMismatch,
    /// The key is not written by the transaction's endorsed write set.
    #[error("key not in the transaction's write set")]
    KeyNotWritten,
    /// Fabric blocks hold no state commitment, so absence cannot be proven.
    #[error("non-membership proofs are not supported for Fabric")]
    NonMembershipUnsupported,
    /// No block was verified at this height.
    #[error("no verified block at height {height}")]
    HeightNotVerified {
        /// The requested height.
        height: u64,
    },
    /// The client is frozen.
    #[error("client frozen at height {height}")]
    Frozen {
        /// The height of the proven misbehaviour.
        height: u64,
    },
    /// Two blocks offered as misbehaviour do not conflict.
    #[error("blocks do not conflict: {reason}")]
    NotMisbehaviour {
        /// Why not.
        reason: &'static str,
    },
    /// A threshold was zero or above the number of orgs that could meet it.
    #[error("{what} threshold {threshold} invalid for {orgs} orgs")]
    InvalidThreshold {
        /// Which threshold.
        what: &'static str,
        /// The threshold.
        threshold: usize,
        /// The orgs that could sign.
        orgs: usize,
    },
}

impl NamedError for FabricError {
    fn name(&self) -> &'static str {
        match self {
            Self::TooLarge { .. } => "too_large",
            Self::Malformed { .. } => "malformed",
            Self::MissingField { .. } => "missing_field",
            Self::DataHashMismatch => "data_hash_mismatch",
            Self::NonSequentialBlock { .. } => "non_sequential_block",
            Self::PreviousHashMismatch => "previous_hash_mismatch",
            Self::HeaderHashMismatch { .. } => "header_hash_mismatch",
            Self::UnknownMsp { .. } => "unknown_msp",
            Self::CertNotChained { .. } => "cert_not_chained",
            Self::CertIsCa => "cert_is_ca",
            Self::UnsupportedAlgorithm { .. } => "unsupported_algorithm",
            Self::BadCertificate => "bad_certificate",
            Self::BadSignatureEncoding => "bad_signature_encoding",
            Self::HighS => "high_s_signature",
            Self::InvalidSignature { .. } => "invalid_signature",
            Self::UnsupportedBftSignature => "unsupported_bft_signature",
            Self::InsufficientOrdererSignatures { .. } => "insufficient_orderer_signatures",
            Self::InsufficientEndorsements { .. } => "insufficient_endorsements",
            Self::InsufficientValidationAttestations { .. } => {
                "insufficient_validation_attestations"
            }
            Self::TxAttestedInvalid { .. } => "tx_attested_invalid",
            Self::TxMarkedInvalid { .. } => "tx_marked_invalid",
            Self::AttestationMismatch { .. } => "attestation_mismatch",
            Self::TxNotFound => "tx_not_found",
            Self::DuplicateTxId => "duplicate_tx_id",
            Self::WrongChannel { .. } => "wrong_channel",
            Self::WrongHeaderType { .. } => "wrong_header_type",
            Self::ValueMismatch => "value_mismatch",
            Self::KeyNotWritten => "key_not_written",
            Self::NonMembershipUnsupported => "non_membership_unsupported",
            Self::HeightNotVerified { .. } => "height_not_verified",
            Self::Frozen { .. } => "frozen",
            Self::NotMisbehaviour { .. } => "not_misbehaviour",
            Self::InvalidThreshold { .. } => "invalid_threshold",
        }
    }
}

/// Refuse `got` above `max`.
pub(crate) fn bound(what: &'static str, got: usize, max: usize) -> Result<(), FabricError> {
    if got > max {
        Err(FabricError::TooLarge { what, got, max })
    } else {
        Ok(())
    }
}

/// Decode a protobuf message after bounding its size.
pub(crate) fn decode_bounded<M: prost::Message + Default>(
    bytes: &[u8],
    what: &'static str,
    max: usize,
) -> Result<M, FabricError> {
    bound(what, bytes.len(), max)?;
    M::decode(bytes).map_err(|_| FabricError::Malformed { what })
}
