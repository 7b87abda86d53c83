//! Attested EVM headers, for chains whose headers carry no finality seals (e.g. a
//! development `anvil` chain or a proof-of-authority chain without BFT seals).
//!
//! The council registers n attesters (secp256k1 addresses) and a threshold k with
//! 1 ≤ k ≤ n; the council chooses k (k > n/2 is advised, so that two conflicting headers
//! need an overlapping attester, who is then provably at fault). Each attester signs
//! [`attestation_digest`] of an [`AttestedHeader`]:
//!
//! ```text
//! keccak256( "junction/evm-attested-header/v1"   (31 ASCII bytes, no length prefix)
//!         || chain_id      u64 big-endian
//!         || number        u64 big-endian
//!         || hash          32 bytes
//!         || parent_hash   32 bytes
//!         || state_root    32 bytes
//!         || receipts_root 32 bytes
//!         || timestamp     u64 big-endian (seconds) )
//! ```
//!
//! Signatures are 65-byte `r || s || v` (v ∈ {0, 1, 27, 28}), low S, by distinct registered
//! attesters. The client moves forward only (number > latest; an adjacent header must name
//! the latest hash as its parent, a later one may skip: the attesters vouch for each
//! header's finality, so relayers need not submit every block); two attested headers at one height with different hashes are
//! misbehaviour and freeze it when one attester signed both, or when each carries k
//! signatures.

use std::collections::BTreeMap;

use crate::evm::history::{ConsensusHistory, HeaderTime, HistoryError};

use k256::ecdsa::SigningKey;
use thiserror::Error;

use super::header::{keccak256, EvmHeader, HeaderError};
use super::secp::{recover_address, sign_digest, SigError};
use crate::{ClientStatus, LightClient, NamedError, Timestamp};

/// Domain tag in front of every attestation digest.
pub const DOMAIN_TAG: &[u8] = b"junction/evm-attested-header/v1";
/// Most attesters a set may hold.
pub const MAX_ATTESTERS: usize = 64;
/// Most signatures an update may carry.
pub const MAX_SIGNATURES: usize = MAX_ATTESTERS;
pub use crate::evm::history::MAX_HISTORY;

/// Why an attested header, proof or misbehaviour was refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum AttestedError {
    /// The threshold is 0 or larger than the set.
    #[error("threshold {threshold} is not within 1..={n}")]
    InvalidThreshold {
        /// Requested k.
        threshold: usize,
        /// Attesters n.
        n: usize,
    },
    /// No attesters.
    #[error("the attester set is empty")]
    EmptyAttesterSet,
    /// More attesters than [`MAX_ATTESTERS`].
    #[error("{got} attesters, more than the {max} allowed")]
    TooManyAttesters {
        /// Attesters given.
        got: usize,
        /// The bound.
        max: usize,
    },
    /// An attester is registered twice.
    #[error("attester 0x{} is registered twice", hex::encode(attester))]
    DuplicateAttester {
        /// The repeated address.
        attester: [u8; 20],
    },
    /// More signatures than [`MAX_SIGNATURES`].
    #[error("{got} signatures, more than the {max} allowed")]
    TooManySignatures {
        /// Signatures carried.
        got: usize,
        /// The bound.
        max: usize,
    },
    /// A recovery byte is not 0, 1, 27 or 28.
    #[error("signature {index}: recovery byte {v} is not 0, 1, 27 or 28")]
    BadRecoveryId {
        /// Position of the signature.
        index: usize,
        /// The byte found.
        v: u8,
    },
    /// Not a valid secp256k1 signature.
    #[error("signature {index} is not a valid signature")]
    InvalidSignature {
        /// Position of the signature.
        index: usize,
    },
    /// High S value.
    #[error("signature {index} has a high S value")]
    HighS {
        /// Position of the signature.
        index: usize,
    },
    /// A signature recovers to an unregistered address.
    #[error(
        "signature {index} was made by 0x{}, not a registered attester",
        hex::encode(signer)
    )]
    SignerNotAttester {
        /// Position of the signature.
        index: usize,
        /// The recovered address.
        signer: [u8; 20],
    },
    /// Two signatures by one attester.
    #[error("attester 0x{} signed twice", hex::encode(signer))]
    DuplicateSigner {
        /// The repeated signer.
        signer: [u8; 20],
    },
    /// Fewer distinct attesters than the threshold.
    #[error("{got} attester signatures, need {need}")]
    InsufficientSignatures {
        /// Distinct attesters.
        got: usize,
        /// The threshold k.
        need: usize,
    },
    /// The header is for another chain.
    #[error("header is for chain {got}, the client follows chain {expected}")]
    WrongChain {
        /// The client's chain id.
        expected: u64,
        /// The header's.
        got: u64,
    },
    /// Not the next height.
    #[error("header {got} does not follow trusted height {trusted}")]
    NonSequential {
        /// Latest trusted height.
        trusted: u64,
        /// The header's number.
        got: u64,
    },
    /// `parent_hash` is not the latest hash.
    #[error("parent hash does not name the trusted block")]
    ParentHashMismatch,
    /// Timestamp not after the parent's.
    #[error("timestamp {got} is not after the parent's {parent}")]
    TimestampNotIncreasing {
        /// Parent timestamp (s).
        parent: u64,
        /// Header timestamp (s).
        got: u64,
    },
    /// Timestamp too far beyond `now`.
    #[error("timestamp {got} is beyond now + drift = {max}")]
    TimestampInFuture {
        /// Header timestamp (s).
        got: u64,
        /// Latest acceptable (s).
        max: u64,
    },
    /// The supplied RLP header does not decode.
    #[error("full header: {0}")]
    Header(#[from] HeaderError),
    /// The supplied RLP header hashes to something else than the attested hash.
    #[error("full header hashes to another value than the attested hash")]
    FullHeaderHashMismatch,
    /// The supplied RLP header disagrees with an attested field.
    #[error("full header field {field} differs from the attested one")]
    FullHeaderFieldMismatch {
        /// The field.
        field: &'static str,
    },
    /// Client frozen.
    #[error("client frozen at height {height}")]
    Frozen {
        /// Height of the misbehaviour.
        height: u64,
    },
    /// Client expired.
    #[error("client expired")]
    Expired,
    /// No consensus state at this height.
    #[error("no consensus state at height {height}")]
    UnknownHeight {
        /// The height asked for.
        height: u64,
    },
    /// The evidence's headers are at different heights.
    #[error("misbehaviour headers are at heights {a} and {b}")]
    MisbehaviourHeightMismatch {
        /// First.
        a: u64,
        /// Second.
        b: u64,
    },
    /// The evidence names one block twice.
    #[error("misbehaviour headers have the same hash")]
    MisbehaviourSameHeader,
    /// The Merkle-Patricia proof was refused.
    #[error("state proof: {0}")]
    Proof(#[from] crate::evm::mpt::MptError),
    /// Configuration out of bounds.
    #[error("invalid configuration: {what}")]
    InvalidConfig {
        /// What was wrong.
        what: &'static str,
    },
    /// The attester key could not sign the digest (k256 refuses only on a degenerate nonce,
    /// which RFC 6979 practically never yields).
    #[error("the attester key could not sign the header")]
    SigningFailed,
    /// A rotation names an old key that is not in the set.
    #[error("0x{} is not a registered attester", hex::encode(attester))]
    UnknownAttester {
        /// The address named.
        attester: [u8; 20],
    },
    /// A rotation's signature is not by the key it must be by.
    #[error(
        "the {key} key's signature of the rotation was made by 0x{}, not 0x{}",
        hex::encode(got),
        hex::encode(expected)
    )]
    RotationSignerMismatch {
        /// `old` or `new`.
        key: &'static str,
        /// The address the rotation names.
        expected: [u8; 20],
        /// The address the signature recovers to.
        got: [u8; 20],
    },
}

impl NamedError for AttestedError {
    fn name(&self) -> &'static str {
        match self {
            AttestedError::InvalidThreshold { .. } => "invalid_threshold",
            AttestedError::EmptyAttesterSet => "empty_attester_set",
            AttestedError::TooManyAttesters { .. } => "too_many_attesters",
            AttestedError::DuplicateAttester { .. } => "duplicate_attester",
            AttestedError::TooManySignatures { .. } => "too_many_signatures",
            AttestedError::BadRecoveryId { .. } => "bad_recovery_id",
            AttestedError::InvalidSignature { .. } => "invalid_signature",
            AttestedError::HighS { .. } => "high_s",
            AttestedError::SignerNotAttester { .. } => "signer_not_attester",
            AttestedError::DuplicateSigner { .. } => "duplicate_signer",
            AttestedError::InsufficientSignatures { .. } => "insufficient_signatures",
            AttestedError::WrongChain { .. } => "wrong_chain",
            AttestedError::NonSequential { .. } => "non_sequential_height",
            AttestedError::ParentHashMismatch => "parent_hash_mismatch",
            AttestedError::TimestampNotIncreasing { .. } => "timestamp_not_increasing",
            AttestedError::TimestampInFuture { .. } => "timestamp_in_future",
            AttestedError::Header(e) => e.name(),
            AttestedError::FullHeaderHashMismatch => "full_header_hash_mismatch",
            AttestedError::FullHeaderFieldMismatch { .. } => "full_header_field_mismatch",
            AttestedError::Frozen { .. } => "client_frozen",
            AttestedError::Expired => "client_expired",
            AttestedError::UnknownHeight { .. } => "unknown_height",
            AttestedError::MisbehaviourHeightMismatch { .. } => "misbehaviour_height_mismatch",
            AttestedError::MisbehaviourSameHeader => "misbehaviour_same_header",
            AttestedError::Proof(e) => e.name(),
            AttestedError::InvalidConfig { .. } => "invalid_config",
            AttestedError::SigningFailed => "signing_failed",
            AttestedError::UnknownAttester { .. } => "unknown_attester",
            AttestedError::RotationSignerMismatch { .. } => "rotation_signer_mismatch",
        }
    }
}

/// The header fields attesters vouch for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AttestedHeader {
    /// EVM chain id (EIP-155).
    pub chain_id: u64,
    /// Block number.
    pub number: u64,
    /// Block hash (keccak256 of the RLP header).
    pub hash: [u8; 32],
    /// Parent block hash.
    pub parent_hash: [u8; 32],
    /// State root.
    pub state_root: [u8; 32],
    /// Receipts root.
    pub receipts_root: [u8; 32],
    /// Timestamp, seconds.
    pub timestamp: u64,
}

/// Length of the byte string hashed into the digest.
pub const ATTESTATION_PREIMAGE_LEN: usize = 31 + 8 + 8 + 32 * 4 + 8;

/// The fixed-width preimage of the digest (see the module documentation).
pub fn attestation_preimage(h: &AttestedHeader) -> Vec<u8> {
    let mut out = Vec::with_capacity(ATTESTATION_PREIMAGE_LEN);
    out.extend_from_slice(DOMAIN_TAG);
    out.extend_from_slice(&h.chain_id.to_be_bytes());
    out.extend_from_slice(&h.number.to_be_bytes());
    out.extend_from_slice(&h.hash);
    out.extend_from_slice(&h.parent_hash);
    out.extend_from_slice(&h.state_root);
    out.extend_from_slice(&h.receipts_root);
    out.extend_from_slice(&h.timestamp.to_be_bytes());
    out
}

/// The digest attesters sign.
pub fn attestation_digest(h: &AttestedHeader) -> [u8; 32] {
    keccak256(&attestation_preimage(h))
}

/// An attester's signature over [`attestation_digest`] of `header`: 65 bytes `r || s || v`,
/// low S, `v = 27 + recovery id` (the `eth_sign` convention, which [`AttesterSet::verify`]
/// accepts like 0/1). Pure: the caller holds the key (an attester's own signer, an
/// adapter, or the test kit).
pub fn sign_attested_header(
    key: &SigningKey,
    header: &AttestedHeader,
) -> Result<[u8; 65], AttestedError> {
    sign_eth(key, &attestation_digest(header))
}

/// `key`'s signature of `digest`: `r || s || v`, low S, `v = 27 + recovery id`.
fn sign_eth(key: &SigningKey, digest: &[u8; 32]) -> Result<[u8; 65], AttestedError> {
    let mut sig = sign_digest(key, digest).ok_or(AttestedError::SigningFailed)?;
    sig[64] = sig[64].saturating_add(27);
    Ok(sig)
}

/// The address that made signature number `index` over `digest` (low S), any address.
fn recover_signer(
    digest: &[u8; 32],
    index: usize,
    sig: &[u8; 65],
) -> Result<[u8; 20], AttestedError> {
    recover_address(digest, sig, true).map_err(|e| match e {
        SigError::BadRecoveryId { v } => AttestedError::BadRecoveryId { index, v },
        SigError::Invalid => AttestedError::InvalidSignature { index },
        SigError::HighS => AttestedError::HighS { index },
    })
}

/// The attested fields of a full RLP header for `chain_id`; the hash is keccak256 of the
/// (canonical) RLP.
pub fn attest_from_rlp(chain_id: u64, rlp: &[u8]) -> Result<AttestedHeader, AttestedError> {
    let header = EvmHeader::decode(rlp)?;
    Ok(AttestedHeader {
        chain_id,
        number: header.number,
        hash: keccak256(rlp),
        parent_hash: header.parent_hash,
        state_root: header.state_root,
        receipts_root: header.receipts_root,
        timestamp: header.timestamp,
    })
}

/// Check that a full RLP header is the one `attested` describes: same hash, same fields.
pub fn check_full_header(attested: &AttestedHeader, rlp: &[u8]) -> Result<(), AttestedError> {
    let full = attest_from_rlp(attested.chain_id, rlp)?;
    if full.hash != attested.hash {
        return Err(AttestedError::FullHeaderHashMismatch);
    }
    let fields: [(&'static str, bool); 5] = [
        ("number", full.number == attested.number),
        ("parent_hash", full.parent_hash == attested.parent_hash),
        ("state_root", full.state_root == attested.state_root),
        (
            "receipts_root",
            full.receipts_root == attested.receipts_root,
        ),
        ("timestamp", full.timestamp == attested.timestamp),
    ];
    for (field, same) in fields {
        if !same {
            return Err(AttestedError::FullHeaderFieldMismatch { field });
        }
    }
    Ok(())
}

/// Domain tag in front of every attester rotation digest.
pub const ROTATION_DOMAIN_TAG: &[u8] = b"junction/evm-attester-rotation/v1";

/// A member's attester moving from key `old` to key `new` for one chain on one hub. Both
/// keys sign [`AttesterRotation::digest`]: the old one hands its seat over, the new one
/// shows it is held (nobody can move a seat onto an address whose key they lack). The
/// hub's chain id, the sending account and its nonce bind a signature to one transaction:
/// it cannot be replayed on another hub, from another account, or a second time.
///
/// ```text
/// keccak256( "junction/evm-attester-rotation/v1"   (33 ASCII bytes, no length prefix)
///         || u16 BE length || hub chain id (UTF-8)
///         || u16 BE length || chain id (UTF-8)
///         || old 20 bytes || new 20 bytes
///         || account 32 bytes (the ed25519 key signing the transaction)
///         || nonce u64 BE (the transaction's) )
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttesterRotation {
    /// The hub's chain id.
    pub hub_chain: String,
    /// The attested chain's id on the hub.
    pub chain: String,
    /// The address leaving the set.
    pub old: [u8; 20],
    /// The address taking its place.
    pub new: [u8; 20],
    /// The hub account sending the rotation.
    pub account: [u8; 32],
    /// That account's nonce for the transaction.
    pub nonce: u64,
}

impl AttesterRotation {
    /// The byte string hashed into [`AttesterRotation::digest`].
    pub fn preimage(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(ROTATION_DOMAIN_TAG.len() + 4 + 64 + 40 + 40);
        out.extend_from_slice(ROTATION_DOMAIN_TAG);
        for id in [&self.hub_chain, &self.chain] {
            let len = u16::try_from(id.len()).unwrap_or(u16::MAX);
            out.extend_from_slice(&len.to_be_bytes());
            out.extend_from_slice(&id.as_bytes()[..usize::from(len)]);
        }
        out.extend_from_slice(&self.old);
        out.extend_from_slice(&self.new);
        out.extend_from_slice(&self.account);
        out.extend_from_slice(&self.nonce.to_be_bytes());
        out
    }

    /// What both keys sign.
    pub fn digest(&self) -> [u8; 32] {
        keccak256(&self.preimage())
    }

    /// `key`'s signature of the rotation (`r || s || v`, low S, `v = 27 + recovery id`).
    pub fn sign(&self, key: &SigningKey) -> Result<[u8; 65], AttestedError> {
        sign_eth(key, &self.digest())
    }
}

/// The council-registered attesters and threshold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttesterSet {
    attesters: Vec<[u8; 20]>,
    threshold: usize,
}

impl AttesterSet {
    /// A set of distinct attesters with threshold `1 ≤ threshold ≤ n`.
    pub fn new(attesters: Vec<[u8; 20]>, threshold: usize) -> Result<Self, AttestedError> {
        let n = attesters.len();
        if n == 0 {
            return Err(AttestedError::EmptyAttesterSet);
        }
        if n > MAX_ATTESTERS {
            return Err(AttestedError::TooManyAttesters {
                got: n,
                max: MAX_ATTESTERS,
            });
        }
        if threshold == 0 || threshold > n {
            return Err(AttestedError::InvalidThreshold { threshold, n });
        }
        let mut sorted = attesters.clone();
        sorted.sort_unstable();
        for pair in sorted.windows(2) {
            if let [a, b] = pair {
                if a == b {
                    return Err(AttestedError::DuplicateAttester { attester: *a });
                }
            }
        }
        Ok(AttesterSet {
            attesters,
            threshold,
        })
    }

    /// The registered addresses.
    pub fn attesters(&self) -> &[[u8; 20]] {
        &self.attesters
    }

    /// The threshold k.
    pub fn threshold(&self) -> usize {
        self.threshold
    }

    /// The registered attester who made `signature` over `header` (low S): one
    /// attestation, as a member's attester submits it.
    pub fn signer(
        &self,
        header: &AttestedHeader,
        signature: &[u8; 65],
    ) -> Result<[u8; 20], AttestedError> {
        self.signer_of(&attestation_digest(header), 0, signature)
    }

    fn signer_of(
        &self,
        digest: &[u8; 32],
        index: usize,
        sig: &[u8; 65],
    ) -> Result<[u8; 20], AttestedError> {
        let signer = recover_signer(digest, index, sig)?;
        if !self.attesters.contains(&signer) {
            return Err(AttestedError::SignerNotAttester { index, signer });
        }
        Ok(signer)
    }

    /// The set after `rotation`, which `old_signature` and `new_signature` must sign: the
    /// old address is replaced in its place, the threshold kept. Refused when the old
    /// address is not in the set, the new one already is (k of n must stay k distinct
    /// attesters), or a signature is not by its key.
    pub fn rotated(
        &self,
        rotation: &AttesterRotation,
        old_signature: &[u8; 65],
        new_signature: &[u8; 65],
    ) -> Result<AttesterSet, AttestedError> {
        let at = self
            .attesters
            .iter()
            .position(|a| a == &rotation.old)
            .ok_or(AttestedError::UnknownAttester {
                attester: rotation.old,
            })?;
        if self.attesters.contains(&rotation.new) {
            return Err(AttestedError::DuplicateAttester {
                attester: rotation.new,
            });
        }
        let digest = rotation.digest();
        for (index, (key, expected, sig)) in [
            ("old", rotation.old, old_signature),
            ("new", rotation.new, new_signature),
        ]
        .into_iter()
        .enumerate()
        {
            let got = recover_signer(&digest, index, sig)?;
            if got != expected {
                return Err(AttestedError::RotationSignerMismatch { key, expected, got });
            }
        }
        let mut attesters = self.attesters.clone();
        if let Some(slot) = attesters.get_mut(at) {
            *slot = rotation.new;
        }
        Ok(AttesterSet {
            attesters,
            threshold: self.threshold,
        })
    }

    /// The distinct registered attesters who signed `header`, however many (the
    /// threshold is not checked here).
    pub fn signers(
        &self,
        header: &AttestedHeader,
        signatures: &[[u8; 65]],
    ) -> Result<Vec<[u8; 20]>, AttestedError> {
        if signatures.len() > MAX_SIGNATURES {
            return Err(AttestedError::TooManySignatures {
                got: signatures.len(),
                max: MAX_SIGNATURES,
            });
        }
        let digest = attestation_digest(header);
        let mut signers: Vec<[u8; 20]> = Vec::with_capacity(signatures.len());
        for (index, sig) in signatures.iter().enumerate() {
            let signer = self.signer_of(&digest, index, sig)?;
            if signers.contains(&signer) {
                return Err(AttestedError::DuplicateSigner { signer });
            }
            signers.push(signer);
        }
        Ok(signers)
    }

    /// Check `signatures` over `header`: distinct registered attesters, at least k, low S.
    /// Returns the signers.
    pub fn verify(
        &self,
        header: &AttestedHeader,
        signatures: &[[u8; 65]],
    ) -> Result<Vec<[u8; 20]>, AttestedError> {
        let signers = self.signers(header, signatures)?;
        if signers.len() < self.threshold {
            return Err(AttestedError::InsufficientSignatures {
                got: signers.len(),
                need: self.threshold,
            });
        }
        Ok(signers)
    }
}

/// A relayer's update: the attested header, its signatures and optionally the full header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedAttestedHeader {
    /// The attested fields.
    pub header: AttestedHeader,
    /// 65-byte signatures over [`attestation_digest`].
    pub signatures: Vec<[u8; 65]>,
    /// The full RLP header, checked against `header` when present.
    pub full_header: Option<Vec<u8>>,
}

/// Verify a signed attested header against a set (fuzz / bench entry point): signatures,
/// and the full header if supplied. Chain continuity is the client's job.
pub fn verify_signed_attested_header(
    set: &AttesterSet,
    signed: &SignedAttestedHeader,
) -> Result<Vec<[u8; 20]>, AttestedError> {
    let signers = set.verify(&signed.header, &signed.signatures)?;
    if let Some(rlp) = &signed.full_header {
        check_full_header(&signed.header, rlp)?;
    }
    Ok(signers)
}

/// Evidence: two attested headers at one height with different hashes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttestedMisbehaviour {
    /// One header with its signatures.
    pub a: SignedAttestedHeader,
    /// The other.
    pub b: SignedAttestedHeader,
}

/// Council-set parameters of an attested client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AttestedConfig {
    /// The EVM chain id followed.
    pub chain_id: u64,
    /// How far (seconds) a header's timestamp may lie beyond `now`.
    pub max_clock_drift_secs: u64,
    /// How long (seconds) after the latest header's timestamp the client stays usable.
    pub trusting_period_secs: u64,
    /// Consensus states kept (1..=[`MAX_HISTORY`]).
    pub max_history: usize,
}

/// What the client keeps per verified height.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AttestedConsensusState {
    /// Block hash.
    pub hash: [u8; 32],
    /// State root.
    pub state_root: [u8; 32],
    /// Receipts root.
    pub receipts_root: [u8; 32],
    /// Timestamp, seconds.
    pub timestamp: u64,
}

/// A verified attested header ready for `apply_header`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedAttestedHeader {
    /// Block number.
    pub number: u64,
    /// The state to record.
    pub state: AttestedConsensusState,
    /// Who attested.
    pub signers: Vec<[u8; 20]>,
}

/// A light client following an EVM chain through council-registered attesters.
#[derive(Clone, Debug)]
pub struct AttestedClient {
    config: AttestedConfig,
    set: AttesterSet,
    history: ConsensusHistory<AttestedConsensusState>,
}

impl HeaderTime for AttestedConsensusState {
    fn timestamp(&self) -> u64 {
        self.timestamp
    }
}

impl From<HistoryError> for AttestedError {
    fn from(e: HistoryError) -> Self {
        match e {
            HistoryError::InvalidConfig { what } => AttestedError::InvalidConfig { what },
            HistoryError::Frozen { height } => AttestedError::Frozen { height },
            HistoryError::UnknownHeight { height } => AttestedError::UnknownHeight { height },
        }
    }
}

fn state_of(h: &AttestedHeader) -> AttestedConsensusState {
    AttestedConsensusState {
        hash: h.hash,
        state_root: h.state_root,
        receipts_root: h.receipts_root,
        timestamp: h.timestamp,
    }
}

impl AttestedClient {
    /// Start from a council-trusted header.
    pub fn new(
        config: AttestedConfig,
        set: AttesterSet,
        trusted: &AttestedHeader,
    ) -> Result<Self, AttestedError> {
        let history =
            ConsensusHistory::start(config.max_history, trusted.number, state_of(trusted))?;
        if trusted.chain_id != config.chain_id {
            return Err(AttestedError::WrongChain {
                expected: config.chain_id,
                got: trusted.chain_id,
            });
        }
        Ok(AttestedClient {
            config,
            set,
            history,
        })
    }

    /// The client's fields, for its canonical encoding.
    #[allow(clippy::type_complexity)]
    pub fn parts(
        &self,
    ) -> (
        &AttestedConfig,
        &AttesterSet,
        &BTreeMap<u64, AttestedConsensusState>,
        u64,
        Option<u64>,
    ) {
        (
            &self.config,
            &self.set,
            self.history.states(),
            self.history.latest(),
            self.history.frozen(),
        )
    }

    /// Rebuild a client from its fields (a decoded client state), checking that they fit
    /// together: a kept state at `latest`, history within `max_history`.
    pub fn from_parts(
        config: AttestedConfig,
        set: AttesterSet,
        states: BTreeMap<u64, AttestedConsensusState>,
        latest: u64,
        frozen: Option<u64>,
    ) -> Result<Self, AttestedError> {
        let history = ConsensusHistory::from_parts(config.max_history, states, latest, frozen)?;
        Ok(AttestedClient {
            config,
            set,
            history,
        })
    }

    /// The council-set configuration.
    pub fn config(&self) -> &AttestedConfig {
        &self.config
    }

    /// The consensus state at `height`, if kept.
    pub fn consensus_state(&self, height: u64) -> Option<&AttestedConsensusState> {
        self.history.get(height)
    }

    fn check_signed(&self, signed: &SignedAttestedHeader) -> Result<Vec<[u8; 20]>, AttestedError> {
        self.check_chain(&signed.header)?;
        verify_signed_attested_header(&self.set, signed)
    }

    /// The registered attester who signed this one attestation of a header of the
    /// followed chain.
    pub fn attestation_signer(
        &self,
        header: &AttestedHeader,
        signature: &[u8; 65],
    ) -> Result<[u8; 20], AttestedError> {
        self.check_chain(header)?;
        self.set.signer(header, signature)
    }

    /// The registered attesters and the threshold.
    pub fn attester_set(&self) -> &AttesterSet {
        &self.set
    }

    /// Applies an attester's key rotation ([`AttesterSet::rotated`]); the consensus states
    /// stay as they are. A frozen client takes none: its recovery vote names the set.
    pub fn rotate_attester(
        &mut self,
        rotation: &AttesterRotation,
        old_signature: &[u8; 65],
        new_signature: &[u8; 65],
    ) -> Result<(), AttestedError> {
        if let Some(height) = self.history.frozen() {
            return Err(AttestedError::Frozen { height });
        }
        self.set = self.set.rotated(rotation, old_signature, new_signature)?;
        Ok(())
    }

    fn check_chain(&self, header: &AttestedHeader) -> Result<(), AttestedError> {
        if header.chain_id != self.config.chain_id {
            return Err(AttestedError::WrongChain {
                expected: self.config.chain_id,
                got: header.chain_id,
            });
        }
        Ok(())
    }

    /// Signers of a signed header of the followed chain (any number of them) whose full
    /// header, when carried, is the attested one.
    fn check_signers(&self, signed: &SignedAttestedHeader) -> Result<Vec<[u8; 20]>, AttestedError> {
        self.check_chain(&signed.header)?;
        let signers = self.set.signers(&signed.header, &signed.signatures)?;
        if let Some(rlp) = &signed.full_header {
            check_full_header(&signed.header, rlp)?;
        }
        Ok(signers)
    }

    fn proof_state(&self, height: u64) -> Result<&AttestedConsensusState, AttestedError> {
        Ok(self.history.proof_state(height)?)
    }
}

impl LightClient for AttestedClient {
    type Header = SignedAttestedHeader;
    type Verified = VerifiedAttestedHeader;
    type Path = crate::evm::mpt::EvmPath;
    type Proof = crate::evm::mpt::EvmProof;
    type Misbehaviour = AttestedMisbehaviour;
    type Error = AttestedError;

    fn latest_height(&self) -> u64 {
        self.history.latest()
    }

    fn status(&self, now: Timestamp) -> ClientStatus {
        self.history.status(now, self.config.trusting_period_secs)
    }

    fn verify_header(
        &self,
        signed: &SignedAttestedHeader,
        now: Timestamp,
    ) -> Result<VerifiedAttestedHeader, AttestedError> {
        match self.status(now) {
            ClientStatus::Active => {}
            ClientStatus::Expired => return Err(AttestedError::Expired),
            ClientStatus::Frozen { height } => return Err(AttestedError::Frozen { height }),
        }
        let trusted = self.history.latest_state()?;
        let latest = self.history.latest();
        let h = &signed.header;
        if h.chain_id != self.config.chain_id {
            return Err(AttestedError::WrongChain {
                expected: self.config.chain_id,
                got: h.chain_id,
            });
        }
        if h.number <= latest {
            return Err(AttestedError::NonSequential {
                trusted: latest,
                got: h.number,
            });
        }
        // Attesters vouch for each header's finality on their own; a header that skips
        // ahead needs nothing more, an adjacent one must also link to the trusted one.
        if h.number == latest + 1 && h.parent_hash != trusted.hash {
            return Err(AttestedError::ParentHashMismatch);
        }
        if h.timestamp <= trusted.timestamp {
            return Err(AttestedError::TimestampNotIncreasing {
                parent: trusted.timestamp,
                got: h.timestamp,
            });
        }
        let max = now.secs().saturating_add(self.config.max_clock_drift_secs);
        if h.timestamp > max {
            return Err(AttestedError::TimestampInFuture {
                got: h.timestamp,
                max,
            });
        }
        let signers = self.check_signed(signed)?;
        Ok(VerifiedAttestedHeader {
            number: h.number,
            state: state_of(h),
            signers,
        })
    }

    fn apply_header(&mut self, verified: VerifiedAttestedHeader) {
        self.history.record(verified.number, verified.state);
    }

    fn verify_membership(
        &self,
        height: u64,
        path: &crate::evm::mpt::EvmPath,
        value: &[u8],
        proof: &crate::evm::mpt::EvmProof,
    ) -> Result<(), AttestedError> {
        let state = self.proof_state(height)?;
        crate::evm::mpt::verify_state(&state.state_root, &state.receipts_root, path, value, proof)?;
        Ok(())
    }

    fn verify_non_membership(
        &self,
        height: u64,
        path: &crate::evm::mpt::EvmPath,
        proof: &crate::evm::mpt::EvmProof,
    ) -> Result<(), AttestedError> {
        let state = self.proof_state(height)?;
        crate::evm::mpt::verify_state_absent(&state.state_root, &state.receipts_root, path, proof)?;
        Ok(())
    }

    fn verify_misbehaviour(
        &self,
        evidence: &AttestedMisbehaviour,
        _now: Timestamp,
    ) -> Result<u64, AttestedError> {
        self.history.not_frozen()?;
        let (a, b) = (&evidence.a.header, &evidence.b.header);
        if a.number != b.number {
            return Err(AttestedError::MisbehaviourHeightMismatch {
                a: a.number,
                b: b.number,
            });
        }
        if a.hash == b.hash {
            return Err(AttestedError::MisbehaviourSameHeader);
        }
        // One attester who signed both is at fault, whatever the threshold: an attester
        // signs only headers it saw final. Without one, both sides must carry k (with
        // k ≤ n/2 two disjoint groups can each vouch for a block).
        let sa = self.check_signers(&evidence.a)?;
        let sb = self.check_signers(&evidence.b)?;
        let common = sa.iter().any(|s| sb.contains(s));
        let k = self.set.threshold();
        if !common && sa.len().min(sb.len()) < k {
            return Err(AttestedError::InsufficientSignatures {
                got: sa.len().min(sb.len()),
                need: k,
            });
        }
        Ok(a.number)
    }

    fn freeze(&mut self, height: u64) {
        self.history.freeze(height);
    }
}

/// Deterministic attesters and signed attested headers for tests and benchmarks (keys from
/// public seeds: nothing here is secret).
#[cfg(any(test, feature = "testkit"))]
pub mod testkit {
    use super::*;
    use crate::evm::secp::{address_of_key, key_from_seed};

    /// The key of test attester `seed`.
    pub fn attester_key(seed: u64) -> SigningKey {
        key_from_seed(b"junction/testkit/evm-attester/v1", seed)
    }

    /// Keys of attesters `0..n`.
    pub fn attester_keys(n: usize) -> Vec<SigningKey> {
        (0..n as u64).map(attester_key).collect()
    }

    /// Address of a key.
    pub fn address(key: &SigningKey) -> [u8; 20] {
        address_of_key(key.verifying_key())
    }

    /// The set of attesters `0..n` with threshold `k` (refused like [`AttesterSet::new`]).
    pub fn attester_set(n: usize, k: usize) -> Result<AttesterSet, AttestedError> {
        AttesterSet::new(attester_keys(n).iter().map(address).collect(), k)
    }

    /// A signature by `key` over the header's digest ([`sign_attested_header`]: low S,
    /// `v` 27/28); all zero, hence refused, if signing failed.
    pub fn sign(key: &SigningKey, header: &AttestedHeader) -> [u8; 65] {
        sign_attested_header(key, header).unwrap_or([0u8; 65])
    }

    /// An attested header at `number` over `parent_hash` (hash and roots derived from the
    /// number), signed by attesters `0..signers`.
    pub fn signed_attested_header(
        chain_id: u64,
        signers: usize,
        number: u64,
        parent_hash: [u8; 32],
        timestamp: u64,
    ) -> SignedAttestedHeader {
        let mut material = b"block".to_vec();
        material.extend_from_slice(&number.to_be_bytes());
        material.extend_from_slice(&parent_hash);
        let header = AttestedHeader {
            chain_id,
            number,
            hash: keccak256(&material),
            parent_hash,
            state_root: keccak256(&[&material[..], b"state"].concat()),
            receipts_root: keccak256(&[&material[..], b"receipts"].concat()),
            timestamp,
        };
        let signatures = attester_keys(signers)
            .iter()
            .map(|k| sign(k, &header))
            .collect();
        SignedAttestedHeader {
            header,
            signatures,
            full_header: None,
        }
    }

    /// A client configuration suited to tests.
    pub fn config(chain_id: u64) -> AttestedConfig {
        AttestedConfig {
            chain_id,
            max_clock_drift_secs: 15,
            trusting_period_secs: 86_400,
            max_history: 64,
        }
    }
}
