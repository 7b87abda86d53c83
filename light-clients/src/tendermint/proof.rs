//! ICS-23 membership and non-membership proofs, checked against proof specs pinned here.
//!
//! A proof never chooses its own spec: a spec taken from the proof (or a relaxed match on
//! one) is how bridges have accepted forged proofs (the BNB-bridge IAVL forgery used a leaf
//! the verifier's spec did not forbid). [`SpecKind`] names the only three specs we accept,
//! built in this file, and every leaf and inner step is checked against the chosen one
//! before any hash is trusted.
//!
//! Contract used by the Tendermint client: [`verify_membership`]`(root, path, value,
//! proof_bytes)` and [`verify_non_membership`]`(root, path, proof_bytes)`, where `root` is the
//! header's app hash, `path` the key path from the outermost store inward (`[store_name,
//! key]` for a Cosmos multistore) and `proof_bytes` a protobuf
//! `ibc.core.commitment.v1.MerkleProof`. The proofs in it are ordered innermost first (the
//! IAVL proof of `key` in the store, then the simple-Merkle proof of the store root under
//! `store_name` in the multistore), as IBC produces them.
//!
//! The verifier is written from the ICS-23 specification and the Go reference; after it
//! accepts, the `ics23` crate is asked for a second opinion and any disagreement is an
//! error ([`ProofError::ReferenceDisagrees`]), so a bug in either one fails closed.

use ics23::{
    commitment_proof, CommitmentProof, ExistenceProof, HashOp, HostFunctionsManager,
    HostFunctionsProvider, InnerOp, InnerSpec, LeafOp, LengthOp, NonExistenceProof, ProofSpec,
};
use prost::Message;
use thiserror::Error;

/// Largest accepted encoded proof (a `MerkleProof` or a single `CommitmentProof`).
pub const MAX_PROOF_BYTES: usize = 64 * 1024;
/// Most `CommitmentProof`s in one `MerkleProof` (a Cosmos multistore uses two).
pub const MAX_PROOFS: usize = 4;
/// Most inner steps in one existence proof when the spec sets no `max_depth` (as in the Go
/// reference: 128 levels is far beyond any IAVL or simple-Merkle tree).
pub const MAX_INNER_OPS: usize = 128;
/// Largest accepted key or path segment.
pub const MAX_KEY_BYTES: usize = 4 * 1024;
/// Largest accepted value.
pub const MAX_VALUE_BYTES: usize = 64 * 1024;
/// Length of every root the pinned specs produce (SHA-256).
pub const ROOT_LEN: usize = 32;

/// The proof specs we accept. Each is a constant of this module, equal to the `ics23`
/// crate's own `iavl_spec()`, `tendermint_spec()` and `smt_spec()`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SpecKind {
    /// Cosmos SDK IAVL store (`ics23:iavl`).
    Iavl,
    /// Tendermint simple Merkle tree, used by the Cosmos multistore (`ics23:simple`).
    Tendermint,
    /// Celestia-style sparse Merkle tree (keys pre-hashed with SHA-256).
    Smt,
}

impl SpecKind {
    /// The pinned proof spec.
    pub fn spec(self) -> ProofSpec {
        let sha256 = HashOp::Sha256 as i32;
        match self {
            SpecKind::Iavl => ProofSpec {
                leaf_spec: Some(LeafOp {
                    hash: sha256,
                    prehash_key: HashOp::NoHash as i32,
                    prehash_value: sha256,
                    length: LengthOp::VarProto as i32,
                    prefix: vec![0],
                }),
                inner_spec: Some(InnerSpec {
                    child_order: vec![0, 1],
                    child_size: 33,
                    min_prefix_length: 4,
                    max_prefix_length: 12,
                    empty_child: vec![],
                    hash: sha256,
                }),
                max_depth: 0,
                min_depth: 0,
                prehash_key_before_comparison: false,
            },
            SpecKind::Tendermint => ProofSpec {
                leaf_spec: Some(LeafOp {
                    hash: sha256,
                    prehash_key: HashOp::NoHash as i32,
                    prehash_value: sha256,
                    length: LengthOp::VarProto as i32,
                    prefix: vec![0],
                }),
                inner_spec: Some(InnerSpec {
                    child_order: vec![0, 1],
                    child_size: 32,
                    min_prefix_length: 1,
                    max_prefix_length: 1,
                    empty_child: vec![],
                    hash: sha256,
                }),
                max_depth: 0,
                min_depth: 0,
                prehash_key_before_comparison: false,
            },
            SpecKind::Smt => ProofSpec {
                leaf_spec: Some(LeafOp {
                    hash: sha256,
                    prehash_key: sha256,
                    prehash_value: sha256,
                    length: LengthOp::NoPrefix as i32,
                    prefix: vec![0],
                }),
                inner_spec: Some(InnerSpec {
                    child_order: vec![0, 1],
                    child_size: 32,
                    min_prefix_length: 1,
                    max_prefix_length: 1,
                    empty_child: vec![0; 32],
                    hash: sha256,
                }),
                max_depth: 0,
                min_depth: 0,
                prehash_key_before_comparison: true,
            },
        }
    }

    /// The specs of a Cosmos SDK chain, innermost first: IAVL store, then multistore.
    pub const COSMOS_SDK: [SpecKind; 2] = [SpecKind::Iavl, SpecKind::Tendermint];
}

/// Why an ICS-23 proof was refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ProofError {
    /// The trusted root is empty (a zero-length app hash proves nothing).
    #[error("the root is empty")]
    EmptyRoot,
    /// The trusted root is not a 32-byte SHA-256 root.
    #[error("the root is {len} bytes long; the pinned specs produce {ROOT_LEN}-byte roots")]
    RootLength {
        /// Its length.
        len: usize,
    },
    /// Membership of an empty value was asked; ICS-23 cannot prove it.
    #[error("the value is empty")]
    EmptyValue,
    /// The key path has no segment.
    #[error("the key path is empty")]
    EmptyPath,
    /// A key or path segment is empty.
    #[error("a key or path segment is empty")]
    EmptyKey,
    /// An input exceeds its size bound.
    #[error("{what} is {len} bytes/items, the maximum is {max}")]
    TooLarge {
        /// Which input.
        what: &'static str,
        /// Its size.
        len: usize,
        /// The bound.
        max: usize,
    },
    /// The proof bytes are not a protobuf `MerkleProof` / `CommitmentProof`.
    #[error("proof does not decode: {0}")]
    Decode(String),
    /// The proof decodes, but its bytes are not the canonical encoding of what it decodes to.
    #[error("proof bytes are not the canonical protobuf encoding")]
    NonCanonical,
    /// The number of proofs does not match the number of path segments / specs.
    #[error("{proofs} proofs for {segments} path segments")]
    PathLengthMismatch {
        /// Proofs in the `MerkleProof`.
        proofs: usize,
        /// Segments in the path.
        segments: usize,
    },
    /// A batch, compressed or empty commitment proof (we accept only single proofs).
    #[error("unsupported commitment proof kind: {0}")]
    UnsupportedProofKind(&'static str),
    /// A non-existence proof was given where an existence proof is needed, or vice versa.
    #[error("expected an {expected} proof")]
    WrongProofKind {
        /// The kind needed.
        expected: &'static str,
    },
    /// The existence proof has no leaf operation.
    #[error("existence proof has no leaf operation")]
    MissingLeaf,
    /// A proof or spec field holds a hash or length operation that does not exist.
    #[error("unknown {what} operation {value}")]
    UnknownOp {
        /// Which field.
        what: &'static str,
        /// Its value.
        value: i32,
    },
    /// The spec given to a generic check lacks its leaf or inner spec.
    #[error("the proof spec lacks its leaf or inner spec")]
    IncompleteSpec,
    /// A leaf or inner operation differs from the pinned spec.
    #[error("{what} differs from the proof spec")]
    SpecMismatch {
        /// Which field.
        what: &'static str,
    },
    /// The leaf prefix is not allowed by the spec (wrong constant or bad IAVL encoding).
    #[error("leaf prefix refused: {0}")]
    LeafPrefix(&'static str),
    /// An inner step's prefix is not allowed by the spec.
    #[error("inner step {step} prefix refused: {reason}")]
    InnerPrefix {
        /// 1-based step number from the leaf.
        step: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// An inner step's suffix is not a whole number of children.
    #[error("inner step {step} suffix is malformed")]
    InnerSuffix {
        /// 1-based step number from the leaf.
        step: usize,
    },
    /// Fewer inner steps than the spec's `min_depth`.
    #[error("{got} inner steps, the spec needs at least {min}")]
    TooFewSteps {
        /// Steps in the proof.
        got: usize,
        /// The spec's minimum.
        min: usize,
    },
    /// More inner steps than the spec's `max_depth` (or [`MAX_INNER_OPS`]).
    #[error("{got} inner steps, the maximum is {max}")]
    TooManySteps {
        /// Steps in the proof.
        got: usize,
        /// The maximum.
        max: usize,
    },
    /// A hash input (key, value or child) is missing.
    #[error("{0} is missing")]
    MissingInput(&'static str),
    /// An intermediate hash is longer than the spec's child size.
    #[error("an intermediate hash exceeds the child size")]
    ChildSize,
    /// The proof is about another key.
    #[error("the proof is about another key")]
    KeyMismatch,
    /// The proof is about another value.
    #[error("the proof is about another value")]
    ValueMismatch,
    /// The proof leads to another root.
    #[error(
        "root mismatch: expected {}, computed {}",
        hex::encode(expected),
        hex::encode(computed)
    )]
    RootMismatch {
        /// The trusted root.
        expected: Vec<u8>,
        /// The root the proof leads to.
        computed: Vec<u8>,
    },
    /// A non-existence proof does not show that the key is absent.
    #[error("non-existence proof is invalid: {0}")]
    NonExistenceInvalid(&'static str),
    /// This verifier accepted the proof but the `ics23` reference crate did not.
    #[error("the ics23 reference verifier disagrees")]
    ReferenceDisagrees,
}

impl crate::NamedError for ProofError {
    fn name(&self) -> &'static str {
        match self {
            ProofError::EmptyRoot => "empty_root",
            ProofError::RootLength { .. } => "root_length",
            ProofError::EmptyValue => "empty_value",
            ProofError::EmptyPath => "empty_path",
            ProofError::EmptyKey => "empty_key",
            ProofError::TooLarge { .. } => "too_large",
            ProofError::Decode(_) => "decode",
            ProofError::NonCanonical => "non_canonical",
            ProofError::PathLengthMismatch { .. } => "path_length_mismatch",
            ProofError::UnsupportedProofKind(_) => "unsupported_proof_kind",
            ProofError::WrongProofKind { .. } => "wrong_proof_kind",
            ProofError::MissingLeaf => "missing_leaf",
            ProofError::UnknownOp { .. } => "unknown_op",
            ProofError::IncompleteSpec => "incomplete_spec",
            ProofError::SpecMismatch { .. } => "spec_mismatch",
            ProofError::LeafPrefix(_) => "leaf_prefix",
            ProofError::InnerPrefix { .. } => "inner_prefix",
            ProofError::InnerSuffix { .. } => "inner_suffix",
            ProofError::TooFewSteps { .. } => "too_few_steps",
            ProofError::TooManySteps { .. } => "too_many_steps",
            ProofError::MissingInput(_) => "missing_input",
            ProofError::ChildSize => "child_size",
            ProofError::KeyMismatch => "key_mismatch",
            ProofError::ValueMismatch => "value_mismatch",
            ProofError::RootMismatch { .. } => "root_mismatch",
            ProofError::NonExistenceInvalid(_) => "non_existence_invalid",
            ProofError::ReferenceDisagrees => "reference_disagrees",
        }
    }
}

/// `ibc.core.commitment.v1.MerkleProof`: the chained proofs, innermost first.
#[derive(Clone, PartialEq, Message)]
pub struct MerkleProof {
    /// One commitment proof per path segment, innermost (the key in its store) first.
    #[prost(message, repeated, tag = "1")]
    pub proofs: Vec<CommitmentProof>,
}

// ---------------------------------------------------------------------------------------
// Entry points
// ---------------------------------------------------------------------------------------

/// Verify that `path` (outermost segment first) holds `value` under the app hash `root`,
/// with the Cosmos SDK specs (IAVL store inside a simple-Merkle multistore).
pub fn verify_membership(
    root: &[u8],
    path: &[&[u8]],
    value: &[u8],
    proof: &[u8],
) -> Result<(), ProofError> {
    verify_chained_membership(&SpecKind::COSMOS_SDK, root, path, value, proof)
}

/// Verify that `path` (outermost segment first) holds nothing under the app hash `root`,
/// with the Cosmos SDK specs.
pub fn verify_non_membership(root: &[u8], path: &[&[u8]], proof: &[u8]) -> Result<(), ProofError> {
    verify_chained_non_membership(&SpecKind::COSMOS_SDK, root, path, proof)
}

/// Chained membership with explicit pinned specs, innermost first (`specs[0]` judges the
/// proof of the last path segment). `proof` is an encoded `MerkleProof`.
pub fn verify_chained_membership(
    specs: &[SpecKind],
    root: &[u8],
    path: &[&[u8]],
    value: &[u8],
    proof: &[u8],
) -> Result<(), ProofError> {
    check_root(root)?;
    check_value(value)?;
    let merkle = decode_merkle_proof(proof)?;
    check_path(specs, path, merkle.proofs.len())?;
    let mut value = value.to_vec();
    for (i, (cp, spec)) in merkle.proofs.iter().zip(specs).enumerate() {
        let key = path_key(path, i)?;
        let exist = existence_of(cp)?;
        let sub_root = existence_root_for_spec(exist, Some(&spec.spec()))?;
        verify_existence_kind(exist, *spec, &sub_root, key, &value)?;
        value = sub_root;
    }
    compare_root(root, &value)
}

/// Chained non-membership with explicit pinned specs, innermost first: the first proof
/// shows the key absent from its store, the others chain that store's root to `root`.
pub fn verify_chained_non_membership(
    specs: &[SpecKind],
    root: &[u8],
    path: &[&[u8]],
    proof: &[u8],
) -> Result<(), ProofError> {
    check_root(root)?;
    let merkle = decode_merkle_proof(proof)?;
    check_path(specs, path, merkle.proofs.len())?;
    let (first_proof, rest_proofs) =
        merkle
            .proofs
            .split_first()
            .ok_or(ProofError::PathLengthMismatch {
                proofs: 0,
                segments: path.len(),
            })?;
    let (first_spec, rest_specs) = specs.split_first().ok_or(ProofError::EmptyPath)?;
    let key = path_key(path, 0)?;
    let non = match &first_proof.proof {
        Some(commitment_proof::Proof::Nonexist(non)) => non,
        Some(commitment_proof::Proof::Exist(_)) => {
            return Err(ProofError::WrongProofKind {
                expected: "non-existence",
            })
        }
        other => return Err(unsupported(other)),
    };
    let spec = first_spec.spec();
    let neighbour =
        non.left
            .as_ref()
            .or(non.right.as_ref())
            .ok_or(ProofError::NonExistenceInvalid(
                "neither left nor right neighbour",
            ))?;
    let mut value = existence_root_for_spec(neighbour, Some(&spec))?;
    verify_non_existence_kind(non, *first_spec, &value, key)?;
    for (i, (cp, spec)) in rest_proofs.iter().zip(rest_specs).enumerate() {
        let key = path_key(path, i.saturating_add(1))?;
        let exist = existence_of(cp)?;
        let sub_root = existence_root_for_spec(exist, Some(&spec.spec()))?;
        verify_existence_kind(exist, *spec, &sub_root, key, &value)?;
        value = sub_root;
    }
    compare_root(root, &value)
}

/// Verify one encoded `cosmos.ics23.v1.CommitmentProof` under `root` with a pinned spec:
/// membership of `key` = `value` when `value` is `Some`, absence of `key` when `None`.
pub fn verify_commitment_proof(
    spec: SpecKind,
    root: &[u8],
    key: &[u8],
    value: Option<&[u8]>,
    proof_bytes: &[u8],
) -> Result<(), ProofError> {
    check_root(root)?;
    check_key(key)?;
    if let Some(value) = value {
        check_value(value)?;
    }
    let cp = decode_canonical::<CommitmentProof>(proof_bytes)?;
    match value {
        Some(value) => {
            let exist = existence_of(&cp)?;
            verify_existence_kind(exist, spec, root, key, value)
        }
        None => match &cp.proof {
            Some(commitment_proof::Proof::Nonexist(non)) => {
                verify_non_existence_kind(non, spec, root, key)
            }
            Some(commitment_proof::Proof::Exist(_)) => Err(ProofError::WrongProofKind {
                expected: "non-existence",
            }),
            other => Err(unsupported(other)),
        },
    }
}

/// Decode an `ibc.core.commitment.v1.MerkleProof`, enforcing the size bounds and the
/// canonical encoding.
pub fn decode_merkle_proof(bytes: &[u8]) -> Result<MerkleProof, ProofError> {
    let merkle = decode_canonical::<MerkleProof>(bytes)?;
    if merkle.proofs.len() > MAX_PROOFS {
        return Err(ProofError::TooLarge {
            what: "proof count",
            len: merkle.proofs.len(),
            max: MAX_PROOFS,
        });
    }
    Ok(merkle)
}

fn decode_canonical<M: Message + Default>(bytes: &[u8]) -> Result<M, ProofError> {
    if bytes.len() > MAX_PROOF_BYTES {
        return Err(ProofError::TooLarge {
            what: "proof",
            len: bytes.len(),
            max: MAX_PROOF_BYTES,
        });
    }
    if bytes.is_empty() {
        return Err(ProofError::Decode("empty proof".into()));
    }
    let msg = M::decode(bytes).map_err(|e| ProofError::Decode(e.to_string()))?;
    // Protobuf admits many encodings of one message (field order, unknown fields, padded
    // varints); accepting only the canonical one makes every proof byte meaningful.
    if msg.encode_to_vec() != bytes {
        return Err(ProofError::NonCanonical);
    }
    Ok(msg)
}

fn check_root(root: &[u8]) -> Result<(), ProofError> {
    if root.is_empty() {
        return Err(ProofError::EmptyRoot);
    }
    if root.len() != ROOT_LEN {
        return Err(ProofError::RootLength { len: root.len() });
    }
    Ok(())
}

fn check_value(value: &[u8]) -> Result<(), ProofError> {
    if value.is_empty() {
        return Err(ProofError::EmptyValue);
    }
    if value.len() > MAX_VALUE_BYTES {
        return Err(ProofError::TooLarge {
            what: "value",
            len: value.len(),
            max: MAX_VALUE_BYTES,
        });
    }
    Ok(())
}

fn check_key(key: &[u8]) -> Result<(), ProofError> {
    if key.is_empty() {
        return Err(ProofError::EmptyKey);
    }
    if key.len() > MAX_KEY_BYTES {
        return Err(ProofError::TooLarge {
            what: "key",
            len: key.len(),
            max: MAX_KEY_BYTES,
        });
    }
    Ok(())
}

fn check_path(specs: &[SpecKind], path: &[&[u8]], proofs: usize) -> Result<(), ProofError> {
    if path.is_empty() {
        return Err(ProofError::EmptyPath);
    }
    if path.len() > MAX_PROOFS {
        return Err(ProofError::TooLarge {
            what: "path",
            len: path.len(),
            max: MAX_PROOFS,
        });
    }
    for segment in path {
        check_key(segment)?;
    }
    if proofs != path.len() || specs.len() != path.len() {
        return Err(ProofError::PathLengthMismatch {
            proofs,
            segments: path.len(),
        });
    }
    Ok(())
}

/// The key proven by proof `i` (innermost first) is path segment `len - 1 - i`.
fn path_key<'a>(path: &[&'a [u8]], i: usize) -> Result<&'a [u8], ProofError> {
    path.len()
        .checked_sub(1)
        .and_then(|last| last.checked_sub(i))
        .and_then(|j| path.get(j))
        .copied()
        .ok_or(ProofError::PathLengthMismatch {
            proofs: i.saturating_add(1),
            segments: path.len(),
        })
}

fn compare_root(expected: &[u8], computed: &[u8]) -> Result<(), ProofError> {
    if expected != computed {
        return Err(ProofError::RootMismatch {
            expected: expected.to_vec(),
            computed: computed.to_vec(),
        });
    }
    Ok(())
}

fn unsupported(proof: &Option<commitment_proof::Proof>) -> ProofError {
    ProofError::UnsupportedProofKind(match proof {
        None => "empty",
        Some(commitment_proof::Proof::Batch(_)) => "batch",
        Some(commitment_proof::Proof::Compressed(_)) => "compressed batch",
        Some(_) => "single",
    })
}

fn existence_of(cp: &CommitmentProof) -> Result<&ExistenceProof, ProofError> {
    match &cp.proof {
        Some(commitment_proof::Proof::Exist(exist)) => Ok(exist),
        Some(commitment_proof::Proof::Nonexist(_)) => Err(ProofError::WrongProofKind {
            expected: "existence",
        }),
        other => Err(unsupported(other)),
    }
}

/// Existence under a pinned spec, confirmed by the `ics23` crate.
fn verify_existence_kind(
    proof: &ExistenceProof,
    kind: SpecKind,
    root: &[u8],
    key: &[u8],
    value: &[u8],
) -> Result<(), ProofError> {
    let spec = kind.spec();
    verify_existence(proof, &spec, root, key, value)?;
    let cp = CommitmentProof {
        proof: Some(commitment_proof::Proof::Exist(proof.clone())),
    };
    if !ics23::verify_membership::<HostFunctionsManager>(&cp, &spec, &root.to_vec(), key, value) {
        return Err(ProofError::ReferenceDisagrees);
    }
    Ok(())
}

/// Non-existence under a pinned spec, confirmed by the `ics23` crate.
fn verify_non_existence_kind(
    proof: &NonExistenceProof,
    kind: SpecKind,
    root: &[u8],
    key: &[u8],
) -> Result<(), ProofError> {
    let spec = kind.spec();
    verify_non_existence(proof, &spec, root, key)?;
    // Our checks above rule out the inputs on which the crate's neighbour walk would
    // panic (paths without a divergent step), so it is safe to ask it now.
    let cp = CommitmentProof {
        proof: Some(commitment_proof::Proof::Nonexist(proof.clone())),
    };
    if !ics23::verify_non_membership::<HostFunctionsManager>(&cp, &spec, &root.to_vec(), key) {
        return Err(ProofError::ReferenceDisagrees);
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// The ICS-23 algorithm (generic over a spec, for the unit vectors)
// ---------------------------------------------------------------------------------------

fn hash_op(value: i32, what: &'static str) -> Result<HashOp, ProofError> {
    HashOp::try_from(value).map_err(|_| ProofError::UnknownOp { what, value })
}

fn length_op(value: i32) -> Result<LengthOp, ProofError> {
    LengthOp::try_from(value).map_err(|_| ProofError::UnknownOp {
        what: "length",
        value,
    })
}

/// Hash `data` with an ICS-23 hash operation (`NoHash` returns the data).
pub fn do_hash(op: HashOp, data: &[u8]) -> Vec<u8> {
    type H = HostFunctionsManager;
    match op {
        HashOp::NoHash => data.to_vec(),
        HashOp::Sha256 => H::sha2_256(data).to_vec(),
        HashOp::Sha512 => H::sha2_512(data).to_vec(),
        HashOp::Keccak256 => H::keccak_256(data).to_vec(),
        HashOp::Ripemd160 => H::ripemd160(data).to_vec(),
        HashOp::Bitcoin => H::ripemd160(&H::sha2_256(data)).to_vec(),
        HashOp::Sha512256 => H::sha2_512_truncated(data).to_vec(),
        HashOp::Blake2b512 => H::blake2b_512(data).to_vec(),
        HashOp::Blake2s256 => H::blake2s_256(data).to_vec(),
        HashOp::Blake3 => H::blake3(data).to_vec(),
    }
}

fn do_length(op: LengthOp, data: Vec<u8>) -> Result<Vec<u8>, ProofError> {
    let len = data.len();
    let mut out = match op {
        LengthOp::NoPrefix => return Ok(data),
        LengthOp::Require32Bytes | LengthOp::Require64Bytes => {
            let need = if op == LengthOp::Require32Bytes {
                32
            } else {
                64
            };
            if len != need {
                return Err(ProofError::SpecMismatch {
                    what: "required data length",
                });
            }
            return Ok(data);
        }
        LengthOp::VarProto => {
            let mut v = Vec::with_capacity(10);
            prost::encoding::encode_varint(len as u64, &mut v);
            v
        }
        LengthOp::Fixed32Big | LengthOp::Fixed32Little => {
            let n = u32::try_from(len).map_err(|_| ProofError::TooLarge {
                what: "leaf data",
                len,
                max: u32::MAX as usize,
            })?;
            if op == LengthOp::Fixed32Big {
                n.to_be_bytes().to_vec()
            } else {
                n.to_le_bytes().to_vec()
            }
        }
        LengthOp::Fixed64Big => (len as u64).to_be_bytes().to_vec(),
        LengthOp::Fixed64Little => (len as u64).to_le_bytes().to_vec(),
        LengthOp::VarRlp => {
            return Err(ProofError::UnknownOp {
                what: "length",
                value: op as i32,
            })
        }
    };
    out.extend_from_slice(&data);
    Ok(out)
}

/// Apply a leaf operation to `key` and `value`: the leaf hash.
pub fn apply_leaf(leaf: &LeafOp, key: &[u8], value: &[u8]) -> Result<Vec<u8>, ProofError> {
    if key.is_empty() {
        return Err(ProofError::MissingInput("key"));
    }
    if value.is_empty() {
        return Err(ProofError::MissingInput("value"));
    }
    let length = length_op(leaf.length)?;
    let pre_key = do_length(
        length,
        do_hash(hash_op(leaf.prehash_key, "prehash key")?, key),
    )?;
    let pre_value = do_length(
        length,
        do_hash(hash_op(leaf.prehash_value, "prehash value")?, value),
    )?;
    let mut image = Vec::with_capacity(
        leaf.prefix
            .len()
            .saturating_add(pre_key.len())
            .saturating_add(pre_value.len()),
    );
    image.extend_from_slice(&leaf.prefix);
    image.extend_from_slice(&pre_key);
    image.extend_from_slice(&pre_value);
    Ok(do_hash(hash_op(leaf.hash, "leaf hash")?, &image))
}

/// Apply an inner operation to a child hash: `hash(prefix || child || suffix)`.
pub fn apply_inner(inner: &InnerOp, child: &[u8]) -> Result<Vec<u8>, ProofError> {
    if child.is_empty() {
        return Err(ProofError::MissingInput("child hash"));
    }
    let mut image = Vec::with_capacity(
        inner
            .prefix
            .len()
            .saturating_add(child.len())
            .saturating_add(inner.suffix.len()),
    );
    image.extend_from_slice(&inner.prefix);
    image.extend_from_slice(child);
    image.extend_from_slice(&inner.suffix);
    Ok(do_hash(hash_op(inner.hash, "inner hash")?, &image))
}

/// The root an existence proof leads to, without any spec check. Only for tests and
/// tooling: a root computed this way says nothing until the proof is checked against a
/// pinned spec (see the malleability vectors).
pub fn existence_root(proof: &ExistenceProof) -> Result<Vec<u8>, ProofError> {
    existence_root_for_spec(proof, None)
}

fn existence_root_for_spec(
    proof: &ExistenceProof,
    spec: Option<&ProofSpec>,
) -> Result<Vec<u8>, ProofError> {
    if proof.key.is_empty() {
        return Err(ProofError::MissingInput("key"));
    }
    if proof.value.is_empty() {
        return Err(ProofError::MissingInput("value"));
    }
    if proof.path.len() > MAX_INNER_OPS {
        return Err(ProofError::TooManySteps {
            got: proof.path.len(),
            max: MAX_INNER_OPS,
        });
    }
    let leaf = proof.leaf.as_ref().ok_or(ProofError::MissingLeaf)?;
    let child_size = spec
        .and_then(|s| s.inner_spec.as_ref())
        .map(|i| i.child_size)
        .and_then(|c| usize::try_from(c).ok());
    let mut hash = apply_leaf(leaf, &proof.key, &proof.value)?;
    for step in &proof.path {
        hash = apply_inner(step, &hash)?;
        if let Some(child_size) = child_size {
            if child_size >= 32 && hash.len() > child_size {
                return Err(ProofError::ChildSize);
            }
        }
    }
    Ok(hash)
}

/// Check one leaf operation against a spec's leaf operation.
pub fn check_leaf(leaf: &LeafOp, leaf_spec: &LeafOp) -> Result<(), ProofError> {
    if leaf.hash != leaf_spec.hash {
        return Err(ProofError::SpecMismatch { what: "leaf hash" });
    }
    if leaf.prehash_key != leaf_spec.prehash_key {
        return Err(ProofError::SpecMismatch {
            what: "leaf prehash key",
        });
    }
    if leaf.prehash_value != leaf_spec.prehash_value {
        return Err(ProofError::SpecMismatch {
            what: "leaf prehash value",
        });
    }
    if leaf.length != leaf_spec.length {
        return Err(ProofError::SpecMismatch {
            what: "leaf length",
        });
    }
    if !leaf.prefix.starts_with(&leaf_spec.prefix) {
        return Err(ProofError::LeafPrefix(
            "does not start with the spec's prefix",
        ));
    }
    Ok(())
}

/// Whether `spec` is the IAVL spec in the relaxed sense of the reference implementations
/// (same operations and sizes), so that IAVL's prefix encoding rules apply.
fn is_iavl_like(spec: &ProofSpec) -> bool {
    let iavl = SpecKind::Iavl.spec();
    match (
        &spec.leaf_spec,
        &spec.inner_spec,
        &iavl.leaf_spec,
        &iavl.inner_spec,
    ) {
        (Some(l), Some(i), Some(il), Some(ii)) => {
            l.hash == il.hash
                && l.prehash_key == il.prehash_key
                && l.prehash_value == il.prehash_value
                && l.length == il.length
                && i.hash == ii.hash
                && i.min_prefix_length == ii.min_prefix_length
                && i.max_prefix_length == ii.max_prefix_length
                && i.child_size == ii.child_size
                && i.child_order.len() == ii.child_order.len()
        }
        _ => false,
    }
}

/// Zig-zag varint as IAVL writes node height, size and version.
fn read_signed_varint(buf: &mut &[u8]) -> Option<i64> {
    let ux = prost::encoding::decode_varint(buf).ok()?;
    let x = i64::try_from(ux >> 1).ok()?;
    Some(if ux & 1 != 0 { !x } else { x })
}

/// Parses an IAVL node prefix (height, size, version) and returns the bytes left after it.
fn iavl_prefix_rest(prefix: &[u8], min_height: i64) -> Result<usize, &'static str> {
    let mut buf = prefix;
    let height = read_signed_varint(&mut buf).ok_or("bad IAVL height encoding")?;
    if height < min_height {
        return Err("IAVL height below the layer number");
    }
    let size = read_signed_varint(&mut buf).ok_or("bad IAVL size encoding")?;
    if size < 0 {
        return Err("negative IAVL size");
    }
    let version = read_signed_varint(&mut buf).ok_or("bad IAVL version encoding")?;
    if version < 0 {
        return Err("negative IAVL version");
    }
    Ok(buf.len())
}

fn check_inner(
    inner: &InnerOp,
    step: usize,
    spec: &ProofSpec,
    iavl: bool,
) -> Result<(), ProofError> {
    let (leaf_spec, inner_spec) = match (&spec.leaf_spec, &spec.inner_spec) {
        (Some(l), Some(i)) => (l, i),
        _ => return Err(ProofError::IncompleteSpec),
    };
    if inner.hash != inner_spec.hash {
        return Err(ProofError::SpecMismatch { what: "inner hash" });
    }
    if iavl {
        let layer = i64::try_from(step).unwrap_or(i64::MAX);
        match iavl_prefix_rest(&inner.prefix, layer) {
            // One length byte before the right child, or the left child (with its length
            // bytes on both sides) and the right child's length byte.
            Ok(1) | Ok(34) => {}
            Ok(_) => {
                return Err(ProofError::InnerPrefix {
                    step,
                    reason: "bad IAVL prefix length",
                })
            }
            Err(reason) => return Err(ProofError::InnerPrefix { step, reason }),
        }
    }
    if inner.prefix.starts_with(&leaf_spec.prefix) {
        return Err(ProofError::InnerPrefix {
            step,
            reason: "starts with the leaf prefix",
        });
    }
    let min_prefix = usize::try_from(inner_spec.min_prefix_length).unwrap_or(usize::MAX);
    if inner.prefix.len() < min_prefix {
        return Err(ProofError::InnerPrefix {
            step,
            reason: "shorter than the spec's minimum",
        });
    }
    let child_size = usize::try_from(inner_spec.child_size).unwrap_or(0);
    if child_size == 0 {
        return Err(ProofError::IncompleteSpec);
    }
    let max_left = inner_spec
        .child_order
        .len()
        .saturating_sub(1)
        .saturating_mul(child_size);
    let max_prefix = usize::try_from(inner_spec.max_prefix_length)
        .unwrap_or(0)
        .saturating_add(max_left);
    if inner.prefix.len() > max_prefix {
        return Err(ProofError::InnerPrefix {
            step,
            reason: "longer than the spec's maximum",
        });
    }
    if !inner.suffix.len().is_multiple_of(child_size) || inner.suffix.len() > max_left {
        return Err(ProofError::InnerSuffix { step });
    }
    Ok(())
}

/// Check an existence proof's shape against a spec: leaf operation and prefix, depth
/// bounds, every inner step's hash, prefix and suffix.
pub fn check_existence_spec(proof: &ExistenceProof, spec: &ProofSpec) -> Result<(), ProofError> {
    let leaf_spec = spec.leaf_spec.as_ref().ok_or(ProofError::IncompleteSpec)?;
    let leaf = proof.leaf.as_ref().ok_or(ProofError::MissingLeaf)?;
    let iavl = is_iavl_like(spec);
    if iavl {
        match iavl_prefix_rest(&leaf.prefix, 0) {
            Ok(0) => {}
            Ok(_) => {
                return Err(ProofError::LeafPrefix(
                    "trailing bytes after the IAVL prefix",
                ))
            }
            Err(reason) => return Err(ProofError::LeafPrefix(reason)),
        }
    }
    check_leaf(leaf, leaf_spec)?;
    let steps = proof.path.len();
    let min = usize::try_from(spec.min_depth).unwrap_or(0);
    if min > 0 && steps < min {
        return Err(ProofError::TooFewSteps { got: steps, min });
    }
    let max = match usize::try_from(spec.max_depth) {
        Ok(m) if m > 0 => m.min(MAX_INNER_OPS),
        _ => MAX_INNER_OPS,
    };
    if steps > max {
        return Err(ProofError::TooManySteps { got: steps, max });
    }
    for (i, step) in proof.path.iter().enumerate() {
        check_inner(step, i.saturating_add(1), spec, iavl)?;
    }
    Ok(())
}

/// Verify that `proof` shows `key` = `value` under `root` with `spec`.
pub fn verify_existence(
    proof: &ExistenceProof,
    spec: &ProofSpec,
    root: &[u8],
    key: &[u8],
    value: &[u8],
) -> Result<(), ProofError> {
    check_existence_spec(proof, spec)?;
    if proof.key != key {
        return Err(ProofError::KeyMismatch);
    }
    if proof.value != value {
        return Err(ProofError::ValueMismatch);
    }
    let computed = existence_root_for_spec(proof, Some(spec))?;
    compare_root(root, &computed)
}

fn comparison_key(spec: &ProofSpec, key: &[u8]) -> Result<Vec<u8>, ProofError> {
    if !spec.prehash_key_before_comparison {
        return Ok(key.to_vec());
    }
    let op = spec.leaf_spec.as_ref().map(|l| l.prehash_key).unwrap_or(0);
    Ok(do_hash(hash_op(op, "prehash key")?, key))
}

/// Verify that `proof` shows `key` absent under `root` with `spec`: its neighbours exist,
/// straddle the key, and are adjacent in the tree.
pub fn verify_non_existence(
    proof: &NonExistenceProof,
    spec: &ProofSpec,
    root: &[u8],
    key: &[u8],
) -> Result<(), ProofError> {
    let inner_spec = spec.inner_spec.as_ref().ok_or(ProofError::IncompleteSpec)?;
    // The proof names the key it speaks about; a proof about another key proves nothing
    // here (and leaving the field unchecked would make its bytes malleable). Specs that
    // pre-hash keys for ordering store the pre-hashed key.
    let target = comparison_key(spec, key)?;
    if proof.key != target {
        return Err(ProofError::KeyMismatch);
    }
    if let Some(left) = &proof.left {
        verify_existence(left, spec, root, &left.key, &left.value)?;
        if comparison_key(spec, &left.key)? >= target {
            return Err(ProofError::NonExistenceInvalid(
                "left neighbour is not before the key",
            ));
        }
    }
    if let Some(right) = &proof.right {
        verify_existence(right, spec, root, &right.key, &right.value)?;
        if comparison_key(spec, &right.key)? <= target {
            return Err(ProofError::NonExistenceInvalid(
                "right neighbour is not after the key",
            ));
        }
    }
    match (&proof.left, &proof.right) {
        (Some(left), None) => ensure_right_most(inner_spec, &left.path),
        (None, Some(right)) => ensure_left_most(inner_spec, &right.path),
        (Some(left), Some(right)) => ensure_left_neighbour(inner_spec, &left.path, &right.path),
        (None, None) => Err(ProofError::NonExistenceInvalid(
            "neither left nor right neighbour",
        )),
    }
}

struct Padding {
    min_prefix: usize,
    max_prefix: usize,
    suffix: usize,
}

fn child_size(spec: &InnerSpec) -> Result<usize, ProofError> {
    match usize::try_from(spec.child_size) {
        Ok(c) if c > 0 => Ok(c),
        _ => Err(ProofError::IncompleteSpec),
    }
}

/// Position of `branch` in the spec's child order.
fn position(spec: &InnerSpec, branch: usize) -> Result<usize, ProofError> {
    spec.child_order
        .iter()
        .position(|&b| usize::try_from(b).ok() == Some(branch))
        .ok_or(ProofError::IncompleteSpec)
}

fn padding(spec: &InnerSpec, branch: usize) -> Result<Padding, ProofError> {
    let idx = position(spec, branch)?;
    let size = child_size(spec)?;
    let prefix = idx.saturating_mul(size);
    let right = spec.child_order.len().saturating_sub(1).saturating_sub(idx);
    Ok(Padding {
        min_prefix: prefix.saturating_add(usize::try_from(spec.min_prefix_length).unwrap_or(0)),
        max_prefix: prefix.saturating_add(usize::try_from(spec.max_prefix_length).unwrap_or(0)),
        suffix: right.saturating_mul(size),
    })
}

fn has_padding(op: &InnerOp, pad: &Padding) -> bool {
    op.prefix.len() >= pad.min_prefix
        && op.prefix.len() <= pad.max_prefix
        && op.suffix.len() == pad.suffix
}

/// Which branch an inner step's child sits in, read from its padding.
fn order_from_padding(spec: &InnerSpec, op: &InnerOp) -> Result<usize, ProofError> {
    for branch in 0..spec.child_order.len() {
        if has_padding(op, &padding(spec, branch)?) {
            return Ok(branch);
        }
    }
    Err(ProofError::NonExistenceInvalid("padding matches no branch"))
}

/// Whether every branch left of this step's child is the spec's empty child (a
/// placeholder step that may sit on a left-most path).
pub fn left_branches_are_empty(spec: &InnerSpec, op: &InnerOp) -> bool {
    let Ok(idx) = order_from_padding(spec, op) else {
        return false;
    };
    let Ok(size) = child_size(spec) else {
        return false;
    };
    if idx == 0 {
        return false;
    }
    let Some(actual_prefix) = op.prefix.len().checked_sub(idx.saturating_mul(size)) else {
        return false;
    };
    (0..idx).all(|i| {
        let Ok(pos) = position(spec, i) else {
            return false;
        };
        let from = actual_prefix.saturating_add(pos.saturating_mul(size));
        op.prefix.get(from..from.saturating_add(size)) == Some(spec.empty_child.as_slice())
    })
}

/// Whether every branch right of this step's child is the spec's empty child.
pub fn right_branches_are_empty(spec: &InnerSpec, op: &InnerOp) -> bool {
    let Ok(idx) = order_from_padding(spec, op) else {
        return false;
    };
    let Ok(size) = child_size(spec) else {
        return false;
    };
    let right = spec.child_order.len().saturating_sub(1).saturating_sub(idx);
    if right == 0 || op.suffix.len() != size {
        return false;
    }
    (0..right).all(|i| {
        let Ok(pos) = position(spec, i) else {
            return false;
        };
        let from = pos.saturating_mul(size);
        op.suffix.get(from..from.saturating_add(size)) == Some(spec.empty_child.as_slice())
    })
}

fn ensure_left_most(spec: &InnerSpec, path: &[InnerOp]) -> Result<(), ProofError> {
    let pad = padding(spec, 0)?;
    for step in path {
        if !has_padding(step, &pad) && !left_branches_are_empty(spec, step) {
            return Err(ProofError::NonExistenceInvalid("step is not left-most"));
        }
    }
    Ok(())
}

fn ensure_right_most(spec: &InnerSpec, path: &[InnerOp]) -> Result<(), ProofError> {
    let last = spec
        .child_order
        .len()
        .checked_sub(1)
        .ok_or(ProofError::IncompleteSpec)?;
    let pad = padding(spec, last)?;
    for step in path {
        if !has_padding(step, &pad) && !right_branches_are_empty(spec, step) {
            return Err(ProofError::NonExistenceInvalid("step is not right-most"));
        }
    }
    Ok(())
}

fn ensure_left_neighbour(
    spec: &InnerSpec,
    left: &[InnerOp],
    right: &[InnerOp],
) -> Result<(), ProofError> {
    // Walk down from the root while both paths share a step; the first step where they
    // differ must put the left child immediately before the right one.
    let mut l = left;
    let mut r = right;
    loop {
        match (l.split_last(), r.split_last()) {
            (Some((top_l, rest_l)), Some((top_r, rest_r))) => {
                if top_l.prefix == top_r.prefix && top_l.suffix == top_r.suffix {
                    l = rest_l;
                    r = rest_r;
                    continue;
                }
                let li = order_from_padding(spec, top_l)?;
                let ri = order_from_padding(spec, top_r)?;
                if li.checked_add(1) != Some(ri) {
                    return Err(ProofError::NonExistenceInvalid(
                        "not left neighbours at the first divergent step",
                    ));
                }
                ensure_right_most(spec, rest_l)?;
                return ensure_left_most(spec, rest_r);
            }
            _ => {
                return Err(ProofError::NonExistenceInvalid(
                    "neighbour paths never diverge",
                ))
            }
        }
    }
}

/// Deterministic generators of valid proofs, for tests and benchmarks.
#[cfg(any(test, feature = "testkit"))]
pub mod testkit {
    use super::{apply_leaf, CommitmentProof, ExistenceProof, InnerOp, MerkleProof};
    use super::{commitment_proof, SpecKind};
    use prost::Message;
    use sha2::{Digest, Sha256};

    fn seeded(seed: u64, i: u64) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(b"junction/ics23-testkit");
        h.update(seed.to_be_bytes());
        h.update(i.to_be_bytes());
        h.finalize().into()
    }

    fn zigzag(x: i64, out: &mut Vec<u8>) {
        let ux = ((x << 1) ^ (x >> 63)) as u64;
        prost::encoding::encode_varint(ux, out);
    }

    /// An IAVL inner node's prefix head: its height, size and version as zigzag varints.
    fn iavl_head(height: i64, size: i64, version: i64) -> Vec<u8> {
        let mut head = Vec::new();
        zigzag(height, &mut head);
        zigzag(size, &mut head);
        zigzag(version, &mut head);
        head
    }

    /// The IAVL inner step over our child: `head`, then the length-prefixed `sibling` on
    /// the side away from ours.
    fn iavl_step(head: Vec<u8>, sibling: &[u8], ours_left: bool) -> InnerOp {
        let mut prefix = head;
        let mut suffix = Vec::new();
        prefix.push(32);
        if ours_left {
            suffix.push(32);
            suffix.extend_from_slice(sibling);
        } else {
            prefix.extend_from_slice(sibling);
            prefix.push(32);
        }
        InnerOp {
            hash: ics23::HashOp::Sha256 as i32,
            prefix,
            suffix,
        }
    }

    /// The IAVL leaf op of a leaf written at `version` (height 0, size 1).
    fn iavl_leaf(version: i64) -> Option<ics23::LeafOp> {
        let mut prefix = Vec::new();
        zigzag(0, &mut prefix);
        zigzag(1, &mut prefix);
        zigzag(version, &mut prefix);
        Some(ics23::LeafOp {
            prefix,
            ..SpecKind::Iavl.spec().leaf_spec?
        })
    }

    /// An IAVL-shaped existence proof of `key` = `value` with `depth` inner steps whose
    /// siblings are derived from `seed`; returns the proof and the store root it leads to.
    pub fn iavl_existence(
        key: &[u8],
        value: &[u8],
        depth: usize,
        seed: u64,
    ) -> Option<(ExistenceProof, Vec<u8>)> {
        let version = 7i64;
        let leaf = iavl_leaf(version)?;
        let mut path = Vec::with_capacity(depth);
        for level in 1..=depth {
            let sibling = seeded(seed, level as u64);
            let head = iavl_head(level as i64, 1i64 << level.min(62), version);
            // Our child on the left when the seed's bit for this level is 0.
            let ours_left = (seed >> (level % 64)) & 1 == 0;
            path.push(iavl_step(head, &sibling, ours_left));
        }
        let proof = ExistenceProof {
            key: key.to_vec(),
            value: value.to_vec(),
            leaf: Some(leaf),
            path,
        };
        let mut root = apply_leaf(proof.leaf.as_ref()?, key, value).ok()?;
        for step in &proof.path {
            root = super::apply_inner(step, &root).ok()?;
        }
        Some((proof, root))
    }

    /// A Tendermint simple-Merkle existence proof of store `name` (value = `store_root`)
    /// in a multistore of `n_stores` stores (the others with seeded names and roots);
    /// returns the proof and the app hash.
    pub fn multistore_existence(
        name: &[u8],
        store_root: &[u8],
        n_stores: usize,
        seed: u64,
    ) -> Option<(ExistenceProof, Vec<u8>)> {
        let leaf = SpecKind::Tendermint.spec().leaf_spec?;
        // Stores sorted by name; ours is placed at a seeded position.
        let n = n_stores.max(1);
        let ours = (seed as usize) % n;
        let mut leaves = Vec::with_capacity(n);
        for i in 0..n {
            if i == ours {
                leaves.push(apply_leaf(&leaf, name, store_root).ok()?);
            } else {
                let other = seeded(seed ^ 0x5a5a, i as u64);
                leaves.push(apply_leaf(&leaf, &other[..8], &other).ok()?);
            }
        }
        let mut path = Vec::new();
        let root = simple_proof(&leaves, Some(ours), &mut path)?;
        let proof = ExistenceProof {
            key: name.to_vec(),
            value: store_root.to_vec(),
            leaf: Some(leaf),
            path,
        };
        Some((proof, root))
    }

    /// Root of a Tendermint simple tree over `leaves`, pushing the inner steps of leaf
    /// `index` (leaf level first) to `path` when `index` is given.
    fn simple_proof(
        leaves: &[Vec<u8>],
        index: Option<usize>,
        path: &mut Vec<InnerOp>,
    ) -> Option<Vec<u8>> {
        match leaves.len() {
            0 => None,
            1 => leaves.first().cloned(),
            n => {
                let k = n.checked_next_power_of_two()? / 2;
                let (l, r) = leaves.split_at(k);
                let go_left = index.is_some_and(|i| i < k);
                let go_right = index.is_some_and(|i| i >= k);
                let left = simple_proof(l, index.filter(|_| go_left), path)?;
                let right = simple_proof(r, index.filter(|_| go_right).map(|i| i - k), path)?;
                let mut image = vec![1u8];
                image.extend_from_slice(&left);
                image.extend_from_slice(&right);
                if go_left {
                    path.push(InnerOp {
                        hash: ics23::HashOp::Sha256 as i32,
                        prefix: vec![1],
                        suffix: right.clone(),
                    });
                } else if go_right {
                    let mut prefix = vec![1u8];
                    prefix.extend_from_slice(&left);
                    path.push(InnerOp {
                        hash: ics23::HashOp::Sha256 as i32,
                        prefix,
                        suffix: vec![],
                    });
                }
                Some(super::do_hash(ics23::HashOp::Sha256, &image))
            }
        }
    }

    /// Wrap existence / non-existence proofs (innermost first) into encoded `MerkleProof`.
    pub fn encode_merkle_proof(proofs: Vec<commitment_proof::Proof>) -> Vec<u8> {
        MerkleProof {
            proofs: proofs
                .into_iter()
                .map(|p| CommitmentProof { proof: Some(p) })
                .collect(),
        }
        .encode_to_vec()
    }

    /// `(app_hash, store_name, key, value, merkle_proof_bytes)`.
    pub type CosmosCase = (Vec<u8>, Vec<u8>, Vec<u8>, Vec<u8>, Vec<u8>);

    /// A membership proof of `key` = `value` in store `store` (an IAVL proof of `depth`
    /// steps inside a multistore of `n_stores` stores): `(app_hash, merkle_proof_bytes)`.
    pub fn store_membership(
        store: &[u8],
        key: &[u8],
        value: &[u8],
        depth: usize,
        n_stores: usize,
        seed: u64,
    ) -> Option<(Vec<u8>, Vec<u8>)> {
        let (inner, store_root) = iavl_existence(key, value, depth, seed)?;
        let (outer, app_hash) = multistore_existence(store, &store_root, n_stores, seed)?;
        let bytes = encode_merkle_proof(vec![
            commitment_proof::Proof::Exist(inner),
            commitment_proof::Proof::Exist(outer),
        ]);
        Some((app_hash, bytes))
    }

    /// An IAVL-shaped store holding every `(key, value)` of `entries` (a balanced tree over
    /// them in the given order, at version `version`) inside a multistore of `n_stores`
    /// stores: the app hash and, in the order of `entries`, each entry's membership proof
    /// (`merkle_proof_bytes`). A store a fixture ledger keeps many commitments in.
    pub fn store_memberships(
        store: &[u8],
        entries: &[(Vec<u8>, Vec<u8>)],
        version: i64,
        n_stores: usize,
        seed: u64,
    ) -> Option<(Vec<u8>, Vec<Vec<u8>>)> {
        let leaf = iavl_leaf(version)?;
        let hashes = entries
            .iter()
            .map(|(k, v)| apply_leaf(&leaf, k, v).ok())
            .collect::<Option<Vec<_>>>()?;
        let mut paths = vec![Vec::new(); entries.len()];
        let (store_root, _, _) = iavl_node(&hashes, &mut paths, version)?;
        let (outer, app_hash) = multistore_existence(store, &store_root, n_stores, seed)?;
        let proofs = entries
            .iter()
            .zip(paths)
            .map(|((key, value), path)| {
                let inner = ExistenceProof {
                    key: key.clone(),
                    value: value.clone(),
                    leaf: Some(leaf.clone()),
                    path,
                };
                encode_merkle_proof(vec![
                    commitment_proof::Proof::Exist(inner),
                    commitment_proof::Proof::Exist(outer.clone()),
                ])
            })
            .collect();
        Some((app_hash, proofs))
    }

    /// An IAVL inner node over `leaves`: its hash, height and size; pushes the node's step
    /// to the path of every leaf below it (children first, so paths run leaf level first).
    fn iavl_node(
        leaves: &[Vec<u8>],
        paths: &mut [Vec<InnerOp>],
        version: i64,
    ) -> Option<(Vec<u8>, i64, i64)> {
        match leaves.len() {
            0 => None,
            1 => Some((leaves.first()?.clone(), 0, 1)),
            n => {
                let k = n / 2;
                let (l, r) = leaves.split_at(k);
                let (lp, rp) = paths.split_at_mut(k);
                let (left, lh, ls) = iavl_node(l, lp, version)?;
                let (right, rh, rs) = iavl_node(r, rp, version)?;
                let (height, size) = (lh.max(rh) + 1, ls + rs);
                let head = iavl_head(height, size, version);
                for p in lp.iter_mut() {
                    p.push(iavl_step(head.clone(), &right, true));
                }
                for p in rp.iter_mut() {
                    p.push(iavl_step(head.clone(), &left, false));
                }
                let mut image = head;
                image.push(32);
                image.extend_from_slice(&left);
                image.push(32);
                image.extend_from_slice(&right);
                Some((super::do_hash(ics23::HashOp::Sha256, &image), height, size))
            }
        }
    }

    /// A Cosmos SDK membership case: `(app_hash, store_name, key, value, merkle_proof_bytes)`
    /// with an IAVL proof of `depth` steps inside a multistore of `n_stores` stores.
    pub fn cosmos_membership(depth: usize, n_stores: usize, seed: u64) -> Option<CosmosCase> {
        let key =
            format!("commitments/ports/transfer/channels/channel-0/sequences/{seed}").into_bytes();
        let value = seeded(seed, u64::MAX).to_vec();
        let store = b"ibc".to_vec();
        let (inner, store_root) = iavl_existence(&key, &value, depth, seed)?;
        let (outer, app_hash) = multistore_existence(&store, &store_root, n_stores, seed)?;
        let bytes = encode_merkle_proof(vec![
            commitment_proof::Proof::Exist(inner),
            commitment_proof::Proof::Exist(outer),
        ]);
        Some((app_hash, store, key, value, bytes))
    }
}
