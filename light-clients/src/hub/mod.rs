//! Light client of Junction itself: hub checkpoints signed by the attestation set, and
//! RFC 6962 inclusion / consistency proofs of the message log (DESIGN §4).
//!
//! A checkpoint `(hub chain id, height, time, log size, log root, attestation-set hash,
//! next attestation-set hash)` is accepted when it names the set the client holds, is not
//! older than the latest one, and carries signatures of distinct members of that set with
//! strictly more than two thirds of its power. Each signature is a 65-byte `r || s || v`
//! secp256k1 signature over the 32-byte [`Checkpoint::hash`]; the signer is recovered, so
//! a member is named by its Ethereum address (what an EVM gateway's `ecrecover` returns)
//! and never by a key the relayer supplies. The set changes only through a checkpoint
//! whose next-set hash names the new set, which the relayer must then supply in full.

#[cfg(any(test, feature = "testkit"))]
pub mod testkit;

use std::collections::BTreeMap;

use junction_spec::attestation::{AttestationSet, AttestationSetError};
use junction_spec::encoding::{decode_vec, encode_vec, Decode, DecodeError, Encode, Reader};
use junction_spec::merkle::{self, MerkleError};
use junction_spec::{ChainId, Checkpoint, Hash32};
use k256::ecdsa::{RecoveryId, Signature, VerifyingKey};
use sha3::{Digest, Keccak256};
use thiserror::Error;

use crate::{ClientStatus, LightClient, NamedError, Timestamp};

/// Most checkpoints the client keeps for proofs (older ones are dropped).
pub const MAX_STORED_CHECKPOINTS: usize = 1024;
/// Most past attestation sets kept to judge misbehaviour.
pub const MAX_STORED_SETS: usize = 16;
/// Most hashes in an RFC 6962 inclusion or consistency proof (a 2^64-leaf log needs 64).
pub const MAX_LOG_PROOF_HASHES: usize = 64;
/// Largest encoded [`SignedCheckpoint`] accepted by [`decode_signed_checkpoint`].
pub const MAX_SIGNED_CHECKPOINT_BYTES: usize = 128 * 1024;

/// A secp256k1 signature `r (32) || s (32) || v (1)`, `v` in {0, 1, 27, 28}.
pub type RecoverableSignature = [u8; 65];

/// Half the secp256k1 group order: an `s` above it is the malleable twin of a low one.
const SECP256K1_HALF_ORDER: [u8; 32] = [
    0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0x5d, 0x57, 0x6e, 0x73, 0x57, 0xa4, 0x50, 0x1d, 0xdf, 0xe9, 0x2f, 0x46, 0x68, 0x1b, 0x20, 0xa0,
];

/// Why a checkpoint, proof or piece of evidence was refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum HubError {
    /// The client is frozen.
    #[error("the client is frozen at height {height}")]
    Frozen {
        /// Height of the proven misbehaviour.
        height: u64,
    },
    /// The checkpoint is for another hub.
    #[error("checkpoint of hub {got}, the client follows {expected}")]
    WrongChainId {
        /// The client's hub chain id.
        expected: ChainId,
        /// The checkpoint's.
        got: ChainId,
    },
    /// The checkpoint names an attestation set other than the one the client holds.
    #[error(
        "checkpoint names attestation set {}, the client holds {}",
        hex::encode(got),
        hex::encode(expected)
    )]
    WrongSetHash {
        /// Hash of the held set.
        expected: Hash32,
        /// Hash the checkpoint names.
        got: Hash32,
    },
    /// The checkpoint is below the latest one.
    #[error("checkpoint height {got} is below the latest height {latest}")]
    OlderCheckpoint {
        /// The checkpoint's height.
        got: u64,
        /// The latest verified height.
        latest: u64,
    },
    /// The checkpoint is the latest one again.
    #[error("checkpoint at height {0} is already verified")]
    AlreadyVerified(u64),
    /// A different checkpoint at an already verified height: submit it as misbehaviour.
    #[error("a different checkpoint at verified height {0}")]
    ConflictingCheckpoint(u64),
    /// The checkpoint's time is before the latest one's.
    #[error("checkpoint time {got} ms is before the latest {latest} ms")]
    TimeWentBackwards {
        /// The checkpoint's time.
        got: u64,
        /// The latest checkpoint's time.
        latest: u64,
    },
    /// The checkpoint's log is smaller than the latest one's.
    #[error("checkpoint log size {got} is below the latest {latest}")]
    LogShrank {
        /// The checkpoint's log size.
        got: u64,
        /// The latest log size.
        latest: u64,
    },
    /// More signatures than the set has members.
    #[error("{got} signatures for a set of {max} attesters")]
    TooManySignatures {
        /// Signatures supplied.
        got: usize,
        /// Members of the set.
        max: usize,
    },
    /// `v` is not 0, 1, 27 or 28.
    #[error("signature {index}: invalid recovery byte {v}")]
    InvalidRecoveryId {
        /// Position of the signature.
        index: usize,
        /// The byte.
        v: u8,
    },
    /// `s` is in the upper half of the group order (the malleable form).
    #[error("signature {index}: high S")]
    HighS {
        /// Position of the signature.
        index: usize,
    },
    /// `r` or `s` is zero or not below the group order, or no key recovers.
    #[error("signature {index} is malformed or recovers no key")]
    InvalidSignature {
        /// Position of the signature.
        index: usize,
    },
    /// A recovered signer is not in the attestation set.
    #[error(
        "signature {index}: signer {} is not in the attestation set",
        hex::encode(address)
    )]
    UnknownSigner {
        /// Position of the signature.
        index: usize,
        /// The recovered address.
        address: [u8; 20],
    },
    /// Two signatures recover the same signer.
    #[error("signature {index}: signer {} signed twice", hex::encode(address))]
    DuplicateSigner {
        /// Position of the second signature.
        index: usize,
        /// The signer.
        address: [u8; 20],
    },
    /// The signers hold at most two thirds of the set's power.
    #[error("signers hold {got} of {total} power; more than {need_more_than} is needed")]
    InsufficientPower {
        /// Power of the distinct valid signers.
        got: u64,
        /// Total power of the set.
        total: u64,
        /// Two thirds of the total (the signers must exceed it).
        need_more_than: u64,
    },
    /// The checkpoint changes the set but the new set was not supplied.
    #[error("the checkpoint changes the attestation set; the new set is missing")]
    MissingNextSet,
    /// The supplied next set does not hash to the checkpoint's next-set hash.
    #[error(
        "the supplied next set hashes to {}, the checkpoint names {}",
        hex::encode(got),
        hex::encode(expected)
    )]
    NextSetMismatch {
        /// Hash the checkpoint names.
        expected: Hash32,
        /// Hash of the supplied set.
        got: Hash32,
    },
    /// A next set was supplied but the checkpoint keeps the current set.
    #[error("a next set was supplied but the checkpoint keeps the current set")]
    UnexpectedNextSet,
    /// An attestation set breaks the canonical-form rules.
    #[error("invalid attestation set: {0}")]
    InvalidSet(#[from] AttestationSetError),
    /// No verified checkpoint at that height.
    #[error("no verified checkpoint at height {0}")]
    UnknownHeight(u64),
    /// The log-proof request or the proof itself is wrong.
    #[error("log proof refused: {0}")]
    LogProof(#[from] MerkleError),
    /// A log proof with too many hashes, or bytes that are not whole hashes.
    #[error("log proof is malformed: {0}")]
    MalformedLogProof(&'static str),
    /// The hub's log has no non-membership proofs.
    #[error("non-membership is not supported by the hub log")]
    NonMembershipUnsupported,
    /// The two checkpoints of the evidence are not at the same height or are equal.
    #[error("evidence is not two different checkpoints at one height")]
    NotConflicting,
    /// The evidence names a set the client never held.
    #[error("evidence names an unknown attestation set {}", hex::encode(.0))]
    UnknownSet(Hash32),
    /// The bytes are not a canonical encoding.
    #[error("decode: {0}")]
    Decode(#[from] DecodeError),
    /// The input exceeds its size bound.
    #[error("input is {len} bytes, the maximum is {max}")]
    TooLarge {
        /// Its size.
        len: usize,
        /// The bound.
        max: usize,
    },
}

impl NamedError for HubError {
    fn name(&self) -> &'static str {
        match self {
            HubError::Frozen { .. } => "frozen",
            HubError::WrongChainId { .. } => "wrong_chain_id",
            HubError::WrongSetHash { .. } => "wrong_set_hash",
            HubError::OlderCheckpoint { .. } => "older_checkpoint",
            HubError::AlreadyVerified(_) => "already_verified",
            HubError::ConflictingCheckpoint(_) => "conflicting_checkpoint",
            HubError::TimeWentBackwards { .. } => "time_went_backwards",
            HubError::LogShrank { .. } => "log_shrank",
            HubError::TooManySignatures { .. } => "too_many_signatures",
            HubError::InvalidRecoveryId { .. } => "invalid_recovery_id",
            HubError::HighS { .. } => "high_s",
            HubError::InvalidSignature { .. } => "invalid_signature",
            HubError::UnknownSigner { .. } => "unknown_signer",
            HubError::DuplicateSigner { .. } => "duplicate_signer",
            HubError::InsufficientPower { .. } => "insufficient_power",
            HubError::MissingNextSet => "missing_next_set",
            HubError::NextSetMismatch { .. } => "next_set_mismatch",
            HubError::UnexpectedNextSet => "unexpected_next_set",
            HubError::InvalidSet(_) => "invalid_set",
            HubError::UnknownHeight(_) => "unknown_height",
            HubError::LogProof(_) => "log_proof",
            HubError::MalformedLogProof(_) => "malformed_log_proof",
            HubError::NonMembershipUnsupported => "non_membership_unsupported",
            HubError::NotConflicting => "not_conflicting",
            HubError::UnknownSet(_) => "unknown_set",
            HubError::Decode(_) => "decode",
            HubError::TooLarge { .. } => "too_large",
        }
    }
}

/// A checkpoint with its signatures and, when it changes the set, the new set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedCheckpoint {
    /// The checkpoint.
    pub checkpoint: Checkpoint,
    /// Signatures over `checkpoint.hash()`, in any order.
    pub signatures: Vec<RecoverableSignature>,
    /// The set named by `next_attestation_set_hash`, when it differs from the current one.
    pub next_set: Option<AttestationSet>,
}

/// `checkpoint || count (u32) || (r || s || v)* || option(next set)`.
impl Encode for SignedCheckpoint {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.checkpoint.encode_to(out);
        encode_vec(&self.signatures, out);
        self.next_set.encode_to(out);
    }
}

impl Decode for SignedCheckpoint {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            checkpoint: Decode::decode_from(r)?,
            signatures: decode_vec(r, junction_spec::attestation::MAX_ATTESTERS)?,
            next_set: Decode::decode_from(r)?,
        })
    }
}

/// Decode a [`SignedCheckpoint`] from its canonical encoding (size-bounded).
pub fn decode_signed_checkpoint(bytes: &[u8]) -> Result<SignedCheckpoint, HubError> {
    if bytes.len() > MAX_SIGNED_CHECKPOINT_BYTES {
        return Err(HubError::TooLarge {
            len: bytes.len(),
            max: MAX_SIGNED_CHECKPOINT_BYTES,
        });
    }
    Ok(SignedCheckpoint::from_bytes(bytes)?)
}

/// The Ethereum address of a secp256k1 public key: the last 20 bytes of the keccak-256 of
/// the uncompressed point without its `0x04` prefix.
pub fn eth_address(key: &VerifyingKey) -> [u8; 20] {
    let point = key.to_encoded_point(false);
    let digest = Keccak256::digest(point.as_bytes().get(1..).unwrap_or_default());
    let mut out = [0u8; 20];
    out.copy_from_slice(digest.get(12..).unwrap_or(&[0u8; 20]));
    out
}

/// Recover the Ethereum address that made `sig` over `digest`. Refuses `v` outside
/// {0, 1, 27, 28}, high `s` and any malformed signature, as the EVM gateway does.
pub fn recover_signer(
    digest: &Hash32,
    sig: &RecoverableSignature,
    index: usize,
) -> Result<[u8; 20], HubError> {
    let (rs, v) = sig.split_at(64);
    let v = v.first().copied().unwrap_or(0xff);
    let recid = match v {
        0 | 27 => 0,
        1 | 28 => 1,
        _ => return Err(HubError::InvalidRecoveryId { index, v }),
    };
    if rs
        .get(32..64)
        .is_some_and(|s| s > SECP256K1_HALF_ORDER.as_slice())
    {
        return Err(HubError::HighS { index });
    }
    let signature = Signature::from_slice(rs).map_err(|_| HubError::InvalidSignature { index })?;
    let recid = RecoveryId::from_byte(recid).ok_or(HubError::InvalidSignature { index })?;
    let key = VerifyingKey::recover_from_prehash(digest, &signature, recid)
        .map_err(|_| HubError::InvalidSignature { index })?;
    Ok(eth_address(&key))
}

/// Check that `signatures` over `checkpoint` come from distinct members of `set` holding
/// strictly more than two thirds of its power; returns the signed power.
pub fn verify_signatures(
    set: &AttestationSet,
    checkpoint: &Checkpoint,
    signatures: &[RecoverableSignature],
) -> Result<u64, HubError> {
    let total = set.validate()?;
    if signatures.len() > set.attesters.len() {
        return Err(HubError::TooManySignatures {
            got: signatures.len(),
            max: set.attesters.len(),
        });
    }
    let digest = checkpoint.hash();
    let mut seen = std::collections::BTreeSet::new();
    let mut power: u64 = 0;
    for (index, sig) in signatures.iter().enumerate() {
        let address = recover_signer(&digest, sig, index)?;
        let p = set
            .power_of(&address)
            .ok_or(HubError::UnknownSigner { index, address })?;
        if !seen.insert(address) {
            return Err(HubError::DuplicateSigner { index, address });
        }
        // A validated set's total fits in u64, so a sum of distinct members does too.
        power = power.saturating_add(p);
    }
    // power > 2/3 total, in integers: 3 * power > 2 * total.
    if u128::from(power) * 3 <= u128::from(total) * 2 {
        return Err(HubError::InsufficientPower {
            got: power,
            total,
            need_more_than: u64::try_from(u128::from(total) * 2 / 3).unwrap_or(u64::MAX),
        });
    }
    Ok(power)
}

/// The RFC 6962 inclusion of the log entry `entry` (the leaf's data) at `index` under a
/// checkpoint's log root; the tree size is the checkpoint's log size.
pub fn verify_log_inclusion(
    checkpoint: &Checkpoint,
    index: u64,
    entry: &[u8],
    proof: &[Hash32],
) -> Result<(), HubError> {
    if proof.len() > MAX_LOG_PROOF_HASHES {
        return Err(HubError::MalformedLogProof("too many hashes"));
    }
    merkle::verify_inclusion(
        &merkle::leaf_hash(entry),
        index,
        checkpoint.log_size,
        proof,
        &checkpoint.log_root,
    )?;
    Ok(())
}

/// Where an entry sits in another hub's log: what a relayer hands a hub to prove an entry
/// that hub rebuilds itself from the message (`spec/hub-to-hub.md`). Encoded as
/// `index u64 ‖ u32 count ‖ audit path (32 bytes each)`, at most
/// [`MAX_LOG_PROOF_HASHES`] hashes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HubEntryProof {
    /// The entry's index in the log.
    pub index: u64,
    /// Its RFC 6962 audit path under the checkpoint's log root.
    pub path: Vec<Hash32>,
}

impl Encode for HubEntryProof {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.index.encode_to(out);
        junction_spec::encoding::encode_vec(&self.path, out);
    }
}

impl Decode for HubEntryProof {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            index: Decode::decode_from(r)?,
            path: junction_spec::encoding::decode_vec(r, MAX_LOG_PROOF_HASHES)?,
        })
    }
}

/// Split proof bytes into 32-byte hashes (at most [`MAX_LOG_PROOF_HASHES`]).
pub fn decode_log_proof(bytes: &[u8]) -> Result<Vec<Hash32>, HubError> {
    if !bytes.len().is_multiple_of(32) {
        return Err(HubError::MalformedLogProof("not a whole number of hashes"));
    }
    if bytes.len() / 32 > MAX_LOG_PROOF_HASHES {
        return Err(HubError::MalformedLogProof("too many hashes"));
    }
    Ok(bytes
        .chunks_exact(32)
        .map(|c| {
            let mut h = [0u8; 32];
            h.copy_from_slice(c);
            h
        })
        .collect())
}

/// Raw-bytes inclusion check (fuzz entry): `proof` is concatenated 32-byte hashes.
pub fn verify_log_inclusion_bytes(
    log_root: &Hash32,
    log_size: u64,
    index: u64,
    entry: &[u8],
    proof: &[u8],
) -> Result<(), HubError> {
    let proof = decode_log_proof(proof)?;
    merkle::verify_inclusion(&merkle::leaf_hash(entry), index, log_size, &proof, log_root)?;
    Ok(())
}

/// RFC 6962 consistency between two checkpoints of one hub: the older log is a prefix of
/// the newer one.
pub fn verify_checkpoint_consistency(
    old: &Checkpoint,
    new: &Checkpoint,
    proof: &[Hash32],
) -> Result<(), HubError> {
    if old.hub_chain_id != new.hub_chain_id {
        return Err(HubError::WrongChainId {
            expected: old.hub_chain_id.clone(),
            got: new.hub_chain_id.clone(),
        });
    }
    if new.height < old.height {
        return Err(HubError::OlderCheckpoint {
            got: new.height,
            latest: old.height,
        });
    }
    if proof.len() > MAX_LOG_PROOF_HASHES {
        return Err(HubError::MalformedLogProof("too many hashes"));
    }
    merkle::verify_consistency(
        old.log_size,
        new.log_size,
        &old.log_root,
        &new.log_root,
        proof,
    )?;
    Ok(())
}

/// A checkpoint that [`HubClient::verify_header`] accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedCheckpoint {
    /// The checkpoint.
    pub checkpoint: Checkpoint,
    /// The set that signs from the next checkpoint on, when it changes.
    pub next_set: Option<AttestationSet>,
}

/// Two checkpoints at one height, both validly signed: the attesters equivocated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckpointMisbehaviour {
    /// One checkpoint.
    pub first: SignedCheckpoint,
    /// Another checkpoint at the same height.
    pub second: SignedCheckpoint,
}

/// The light client of a Junction hub.
#[derive(Clone, Debug)]
pub struct HubClient {
    chain_id: ChainId,
    set: AttestationSet,
    set_hash: Hash32,
    latest: Checkpoint,
    checkpoints: BTreeMap<u64, Checkpoint>,
    past_sets: BTreeMap<Hash32, AttestationSet>,
    frozen: Option<u64>,
}

impl HubClient {
    /// Trust `checkpoint` and `set` (chosen by governance or genesis). The set must be
    /// canonical and be the one the checkpoint names; when the checkpoint names a different
    /// next set it must be supplied as `next_set`.
    pub fn new(
        checkpoint: Checkpoint,
        set: AttestationSet,
        next_set: Option<AttestationSet>,
    ) -> Result<Self, HubError> {
        set.validate()?;
        let set_hash = set.hash();
        if checkpoint.attestation_set_hash != set_hash {
            return Err(HubError::WrongSetHash {
                expected: set_hash,
                got: checkpoint.attestation_set_hash,
            });
        }
        let mut past_sets = BTreeMap::new();
        past_sets.insert(set_hash, set.clone());
        let (set, set_hash) = match check_next_set(&checkpoint, set_hash, next_set.as_ref())? {
            Some(next) => (next.clone(), next.hash()),
            None => (set, set_hash),
        };
        past_sets.insert(set_hash, set.clone());
        let mut checkpoints = BTreeMap::new();
        checkpoints.insert(checkpoint.height, checkpoint.clone());
        Ok(Self {
            chain_id: checkpoint.hub_chain_id.clone(),
            set,
            set_hash,
            latest: checkpoint,
            checkpoints,
            past_sets,
            frozen: None,
        })
    }

    /// The set that must sign the next checkpoint.
    pub fn attestation_set(&self) -> &AttestationSet {
        &self.set
    }

    /// The latest verified checkpoint.
    pub fn latest_checkpoint(&self) -> &Checkpoint {
        &self.latest
    }

    /// The verified checkpoint at `height`, if still kept.
    pub fn checkpoint_at(&self, height: u64) -> Option<&Checkpoint> {
        self.checkpoints.get(&height)
    }

    /// RFC 6962 consistency between the verified checkpoints at two heights.
    pub fn verify_consistency(
        &self,
        old_height: u64,
        new_height: u64,
        proof: &[Hash32],
    ) -> Result<(), HubError> {
        self.check_active()?;
        let old = self
            .checkpoints
            .get(&old_height)
            .ok_or(HubError::UnknownHeight(old_height))?;
        let new = self
            .checkpoints
            .get(&new_height)
            .ok_or(HubError::UnknownHeight(new_height))?;
        verify_checkpoint_consistency(old, new, proof)
    }

    fn check_active(&self) -> Result<(), HubError> {
        match self.frozen {
            Some(height) => Err(HubError::Frozen { height }),
            None => Ok(()),
        }
    }

    /// Signatures of a checkpoint against whichever known set it names (for evidence).
    fn verify_against_known_set(&self, signed: &SignedCheckpoint) -> Result<(), HubError> {
        let cp = &signed.checkpoint;
        if cp.hub_chain_id != self.chain_id {
            return Err(HubError::WrongChainId {
                expected: self.chain_id.clone(),
                got: cp.hub_chain_id.clone(),
            });
        }
        let set = self
            .past_sets
            .get(&cp.attestation_set_hash)
            .ok_or(HubError::UnknownSet(cp.attestation_set_hash))?;
        verify_signatures(set, cp, &signed.signatures)?;
        Ok(())
    }
}

/// What the council registers for a `junction_hub` chain (`ChainRegistration::trust_root`):
/// a checkpoint of that hub it checked out of band, the attestation set the checkpoint
/// names, and the next set when the checkpoint names another one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HubTrustRoot {
    /// The trusted checkpoint.
    pub checkpoint: Checkpoint,
    /// The set it names (`attestation_set_hash`).
    pub set: AttestationSet,
    /// The set it names as next, when that differs.
    pub next_set: Option<AttestationSet>,
}

/// `checkpoint || set || option(next set)`.
impl Encode for HubTrustRoot {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.checkpoint.encode_to(out);
        self.set.encode_to(out);
        self.next_set.encode_to(out);
    }
}

impl Decode for HubTrustRoot {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            checkpoint: Decode::decode_from(r)?,
            set: Decode::decode_from(r)?,
            next_set: Decode::decode_from(r)?,
        })
    }
}

impl HubTrustRoot {
    /// The client this root starts.
    pub fn start_client(&self) -> Result<HubClient, HubError> {
        HubClient::new(
            self.checkpoint.clone(),
            self.set.clone(),
            self.next_set.clone(),
        )
    }
}

/// `first || second`, each a [`SignedCheckpoint`].
impl Encode for CheckpointMisbehaviour {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.first.encode_to(out);
        self.second.encode_to(out);
    }
}

impl Decode for CheckpointMisbehaviour {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            first: Decode::decode_from(r)?,
            second: Decode::decode_from(r)?,
        })
    }
}

/// `set || latest checkpoint || frozen || u32 count || checkpoints* (by increasing
/// height) || u32 count || past sets* (by increasing hash)`; the chain id and the current
/// set's hash follow from the rest.
impl Encode for HubClient {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.set.encode_to(out);
        self.latest.encode_to(out);
        self.frozen.encode_to(out);
        junction_spec::encoding::encode_len(self.checkpoints.len(), out);
        for cp in self.checkpoints.values() {
            cp.encode_to(out);
        }
        junction_spec::encoding::encode_len(self.past_sets.len(), out);
        for set in self.past_sets.values() {
            set.encode_to(out);
        }
    }
}

impl Decode for HubClient {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let bad = DecodeError::NonCanonical;
        let set = AttestationSet::decode_from(r)?;
        let latest = Checkpoint::decode_from(r)?;
        let frozen = Option::<u64>::decode_from(r)?;
        let n = r.read_len(MAX_STORED_CHECKPOINTS)?;
        let mut checkpoints = BTreeMap::new();
        for _ in 0..n {
            let cp = Checkpoint::decode_from(r)?;
            if checkpoints
                .keys()
                .next_back()
                .is_some_and(|h| *h >= cp.height)
            {
                return Err(bad("hub client checkpoints not increasing"));
            }
            if cp.hub_chain_id != latest.hub_chain_id {
                return Err(bad("hub client checkpoint of another hub"));
            }
            checkpoints.insert(cp.height, cp);
        }
        if checkpoints.get(&latest.height) != Some(&latest) {
            return Err(bad("hub client latest checkpoint not kept"));
        }
        let n = r.read_len(MAX_STORED_SETS)?;
        let mut past_sets = BTreeMap::new();
        for _ in 0..n {
            let past = AttestationSet::decode_from(r)?;
            past.validate()
                .map_err(|_| bad("hub client past set invalid"))?;
            let hash = past.hash();
            if past_sets.keys().next_back().is_some_and(|h| *h >= hash) {
                return Err(bad("hub client past sets not increasing"));
            }
            past_sets.insert(hash, past);
        }
        set.validate().map_err(|_| bad("hub client set invalid"))?;
        let set_hash = set.hash();
        if past_sets.get(&set_hash) != Some(&set) {
            return Err(bad("hub client set not among its known sets"));
        }
        Ok(Self {
            chain_id: latest.hub_chain_id.clone(),
            set,
            set_hash,
            latest,
            checkpoints,
            past_sets,
            frozen,
        })
    }
}

impl HubClient {
    /// Heights of the checkpoints kept.
    pub fn checkpoint_heights(&self) -> Vec<u64> {
        self.checkpoints.keys().copied().collect()
    }

    /// Keeps at most `n` checkpoints (at least one: the latest), dropping the oldest.
    pub fn keep_checkpoints(&mut self, n: usize) {
        while self.checkpoints.len() > n.max(1) {
            if self.checkpoints.pop_first().is_none() {
                break;
            }
        }
    }
}

/// When the checkpoint names a next set other than the current one, the supplied set must
/// hash to it; otherwise no set may be supplied.
fn check_next_set<'a>(
    checkpoint: &Checkpoint,
    current: Hash32,
    next_set: Option<&'a AttestationSet>,
) -> Result<Option<&'a AttestationSet>, HubError> {
    if checkpoint.next_attestation_set_hash == current {
        return match next_set {
            Some(_) => Err(HubError::UnexpectedNextSet),
            None => Ok(None),
        };
    }
    let next = next_set.ok_or(HubError::MissingNextSet)?;
    next.validate()?;
    let got = next.hash();
    if got != checkpoint.next_attestation_set_hash {
        return Err(HubError::NextSetMismatch {
            expected: checkpoint.next_attestation_set_hash,
            got,
        });
    }
    Ok(Some(next))
}

impl LightClient for HubClient {
    type Header = SignedCheckpoint;
    type Verified = VerifiedCheckpoint;
    /// The log index of the entry.
    type Path = u64;
    /// The RFC 6962 audit path, leaf level first.
    type Proof = [Hash32];
    type Misbehaviour = CheckpointMisbehaviour;
    type Error = HubError;

    fn latest_height(&self) -> u64 {
        self.latest.height
    }

    fn status(&self, _now: Timestamp) -> ClientStatus {
        match self.frozen {
            Some(height) => ClientStatus::Frozen { height },
            None => ClientStatus::Active,
        }
    }

    fn verify_header(
        &self,
        header: &SignedCheckpoint,
        _now: Timestamp,
    ) -> Result<VerifiedCheckpoint, HubError> {
        self.check_active()?;
        let cp = &header.checkpoint;
        if cp.hub_chain_id != self.chain_id {
            return Err(HubError::WrongChainId {
                expected: self.chain_id.clone(),
                got: cp.hub_chain_id.clone(),
            });
        }
        if cp.height < self.latest.height {
            return Err(HubError::OlderCheckpoint {
                got: cp.height,
                latest: self.latest.height,
            });
        }
        if cp.height == self.latest.height {
            return Err(if cp.hash() == self.latest.hash() {
                HubError::AlreadyVerified(cp.height)
            } else {
                HubError::ConflictingCheckpoint(cp.height)
            });
        }
        if cp.attestation_set_hash != self.set_hash {
            return Err(HubError::WrongSetHash {
                expected: self.set_hash,
                got: cp.attestation_set_hash,
            });
        }
        if cp.time_ms < self.latest.time_ms {
            return Err(HubError::TimeWentBackwards {
                got: cp.time_ms,
                latest: self.latest.time_ms,
            });
        }
        if cp.log_size < self.latest.log_size {
            return Err(HubError::LogShrank {
                got: cp.log_size,
                latest: self.latest.log_size,
            });
        }
        verify_signatures(&self.set, cp, &header.signatures)?;
        let next_set = check_next_set(cp, self.set_hash, header.next_set.as_ref())?.cloned();
        Ok(VerifiedCheckpoint {
            checkpoint: cp.clone(),
            next_set,
        })
    }

    fn apply_header(&mut self, verified: VerifiedCheckpoint) {
        if let Some(next) = verified.next_set {
            let hash = next.hash();
            self.past_sets.insert(hash, next.clone());
            while self.past_sets.len() > MAX_STORED_SETS {
                // Drop any set but the current one (order by hash is arbitrary but
                // deterministic; only evidence against very old sets is lost).
                let victim = self.past_sets.keys().find(|k| **k != hash).copied();
                match victim {
                    Some(k) => {
                        self.past_sets.remove(&k);
                    }
                    None => break,
                }
            }
            self.set = next;
            self.set_hash = hash;
        }
        let cp = verified.checkpoint;
        if cp.height > self.latest.height {
            self.latest = cp.clone();
        }
        self.checkpoints.insert(cp.height, cp);
        while self.checkpoints.len() > MAX_STORED_CHECKPOINTS {
            if self.checkpoints.pop_first().is_none() {
                break;
            }
        }
    }

    fn verify_membership(
        &self,
        height: u64,
        path: &u64,
        value: &[u8],
        proof: &[Hash32],
    ) -> Result<(), HubError> {
        self.check_active()?;
        let cp = self
            .checkpoints
            .get(&height)
            .ok_or(HubError::UnknownHeight(height))?;
        verify_log_inclusion(cp, *path, value, proof)
    }

    fn verify_non_membership(
        &self,
        _height: u64,
        _path: &u64,
        _proof: &[Hash32],
    ) -> Result<(), HubError> {
        Err(HubError::NonMembershipUnsupported)
    }

    fn verify_misbehaviour(
        &self,
        evidence: &CheckpointMisbehaviour,
        _now: Timestamp,
    ) -> Result<u64, HubError> {
        self.check_active()?;
        let a = &evidence.first.checkpoint;
        let b = &evidence.second.checkpoint;
        if a.height != b.height || a.hash() == b.hash() {
            return Err(HubError::NotConflicting);
        }
        self.verify_against_known_set(&evidence.first)?;
        self.verify_against_known_set(&evidence.second)?;
        Ok(a.height)
    }

    fn freeze(&mut self, height: u64) {
        self.frozen = Some(match self.frozen {
            Some(h) => h.min(height),
            None => height,
        });
    }
}
