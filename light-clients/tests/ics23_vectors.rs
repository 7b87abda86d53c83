//! ICS-23 proofs: the cosmos/ics23 vectors, chained Cosmos multistore proofs, pinned specs
//! and mutation loops.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use base64::Engine;
use ics23::{
    commitment_proof, CommitmentProof, ExistenceProof, HashOp, InnerOp, InnerSpec, LeafOp,
    ProofSpec,
};
use junction_light_clients::tendermint::proof::{self, testkit, ProofError, SpecKind};
use junction_light_clients::NamedError;
use prost::Message;
use serde_json::Value;

// ----- proto3-JSON → ics23 types -------------------------------------------------------

fn b64(v: &Value) -> Vec<u8> {
    match v.as_str() {
        Some(s) => base64::engine::general_purpose::STANDARD.decode(s).unwrap(),
        None => vec![],
    }
}

fn int(v: &Value, field: &str) -> i32 {
    v.get(field).and_then(Value::as_i64).unwrap_or(0) as i32
}

fn leaf_op(v: &Value) -> LeafOp {
    LeafOp {
        hash: int(v, "hash"),
        prehash_key: int(v, "prehash_key"),
        prehash_value: int(v, "prehash_value"),
        length: int(v, "length"),
        prefix: b64(&v["prefix"]),
    }
}

fn inner_op(v: &Value) -> InnerOp {
    InnerOp {
        hash: int(v, "hash"),
        prefix: b64(&v["prefix"]),
        suffix: b64(&v["suffix"]),
    }
}

fn existence(v: &Value) -> ExistenceProof {
    ExistenceProof {
        key: b64(&v["key"]),
        value: b64(&v["value"]),
        leaf: v.get("leaf").map(leaf_op),
        path: v
            .get("path")
            .and_then(Value::as_array)
            .map(|a| a.iter().map(inner_op).collect())
            .unwrap_or_default(),
    }
}

fn inner_spec(v: &Value) -> InnerSpec {
    InnerSpec {
        child_order: v["child_order"]
            .as_array()
            .map(|a| a.iter().map(|x| x.as_i64().unwrap() as i32).collect())
            .unwrap_or_default(),
        child_size: int(v, "child_size"),
        min_prefix_length: int(v, "min_prefix_length"),
        max_prefix_length: int(v, "max_prefix_length"),
        empty_child: b64(&v["empty_child"]),
        hash: int(v, "hash"),
    }
}

fn proof_spec(v: &Value) -> ProofSpec {
    ProofSpec {
        leaf_spec: v.get("leaf_spec").map(leaf_op),
        inner_spec: v.get("inner_spec").map(inner_spec),
        max_depth: int(v, "max_depth"),
        min_depth: int(v, "min_depth"),
        prehash_key_before_comparison: v
            .get("prehash_key_before_comparison")
            .and_then(Value::as_bool)
            .unwrap_or(false),
    }
}

fn load(rel: &str) -> Option<Value> {
    let path = common::vector_path(rel)?;
    Some(serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap())
}

// ----- the pinned specs ----------------------------------------------------------------

#[test]
fn pinned_specs_equal_the_reference_specs() {
    assert_eq!(SpecKind::Iavl.spec(), ics23::iavl_spec());
    assert_eq!(SpecKind::Tendermint.spec(), ics23::tendermint_spec());
    assert_eq!(SpecKind::Smt.spec(), ics23::smt_spec());
}

// ----- unit vectors --------------------------------------------------------------------

#[test]
fn do_hash_matches_vectors() {
    let Some(cases) = load("ics23/TestDoHashData.json") else {
        return;
    };
    let cases = cases.as_object().unwrap();
    assert!(cases.len() >= 7);
    for (name, case) in cases {
        let pre = case
            .get("Preimage")
            .or_else(|| case.get("PreImage"))
            .and_then(Value::as_str)
            .unwrap();
        let op = HashOp::try_from(int(case, "HashOp")).unwrap();
        let got = hex::encode(proof::do_hash(op, pre.as_bytes()));
        assert_eq!(
            got,
            case["ExpectedHash"].as_str().unwrap(),
            "TestDoHashData/{name}"
        );
    }
}

#[test]
fn leaf_op_matches_vectors() {
    let Some(cases) = load("ics23/TestLeafOpData.json") else {
        return;
    };
    for (name, case) in case_map(&cases) {
        let got = proof::apply_leaf(
            &leaf_op(&case["Op"]),
            &b64(&case["Key"]),
            &b64(&case["Value"]),
        );
        check_result(&format!("TestLeafOpData/{name}"), got, case);
    }
}

#[test]
fn inner_op_matches_vectors() {
    let Some(cases) = load("ics23/TestInnerOpData.json") else {
        return;
    };
    for (name, case) in case_map(&cases) {
        let got = proof::apply_inner(&inner_op(&case["Op"]), &b64(&case["Child"]));
        check_result(&format!("TestInnerOpData/{name}"), got, case);
    }
}

#[test]
fn existence_root_matches_vectors() {
    let Some(cases) = load("ics23/TestExistenceProofData.json") else {
        return;
    };
    for (name, case) in case_map(&cases) {
        let got = proof::existence_root(&existence(&case["Proof"]));
        check_result(&format!("TestExistenceProofData/{name}"), got, case);
    }
}

fn case_map(v: &Value) -> Vec<(String, &Value)> {
    let map = v.as_object().unwrap();
    assert!(!map.is_empty());
    map.iter().map(|(k, v)| (k.clone(), v)).collect()
}

fn check_result(label: &str, got: Result<Vec<u8>, ProofError>, case: &Value) {
    if case["IsErr"].as_bool().unwrap() {
        let err = got.expect_err(label);
        assert!(
            matches!(err, ProofError::MissingInput(_) | ProofError::MissingLeaf),
            "{label}: unexpected error kind {}",
            err.name()
        );
    } else {
        let expected = b64(&case["Expected"]);
        assert_eq!(got.expect(label), expected, "{label}");
    }
}

#[test]
fn check_leaf_matches_vectors() {
    let Some(cases) = load("ics23/TestCheckLeafData.json") else {
        return;
    };
    for (name, case) in case_map(&cases) {
        let got = proof::check_leaf(&leaf_op(&case["Leaf"]), &leaf_op(&case["Spec"]));
        if case["IsErr"].as_bool().unwrap() {
            let err = got.expect_err(&name);
            assert!(
                matches!(
                    err,
                    ProofError::SpecMismatch { .. } | ProofError::LeafPrefix(_)
                ),
                "TestCheckLeafData/{name}: {}",
                err.name()
            );
        } else {
            got.unwrap_or_else(|e| panic!("TestCheckLeafData/{name}: {e}"));
        }
    }
}

#[test]
fn check_against_spec_matches_vectors() {
    let Some(cases) = load("ics23/TestCheckAgainstSpecData.json") else {
        return;
    };
    for (name, case) in case_map(&cases) {
        let got =
            proof::check_existence_spec(&existence(&case["Proof"]), &proof_spec(&case["Spec"]));
        let want = case["Err"].as_str().unwrap();
        if want.is_empty() {
            got.unwrap_or_else(|e| panic!("TestCheckAgainstSpecData/{name}: {e}"));
            continue;
        }
        let err = got.expect_err(&name);
        // The upstream message names the rule; our variant must name the same one.
        let expected_name = if want.contains("LeafOp") {
            "missing_leaf"
        } else if want.contains("too short") {
            "too_few_steps"
        } else if want.contains("too long") {
            "too_many_steps"
        } else if want.contains("IAVL height") {
            "inner_prefix"
        } else {
            "spec_mismatch"
        };
        assert_eq!(
            err.name(),
            expected_name,
            "TestCheckAgainstSpecData/{name}: {err}"
        );
    }
}

#[test]
fn empty_branch_detection_matches_vectors() {
    let Some(cases) = load("ics23/TestEmptyBranchData.json") else {
        return;
    };
    let cases = cases.as_array().unwrap();
    assert!(!cases.is_empty());
    for (i, case) in cases.iter().enumerate() {
        let spec = proof_spec(&case["Spec"]);
        let inner = spec.inner_spec.unwrap();
        let op = inner_op(&case["Op"]);
        assert_eq!(
            proof::left_branches_are_empty(&inner, &op),
            case["IsLeft"].as_bool().unwrap(),
            "TestEmptyBranchData[{i}] left"
        );
        assert_eq!(
            proof::right_branches_are_empty(&inner, &op),
            case["IsRight"].as_bool().unwrap(),
            "TestEmptyBranchData[{i}] right"
        );
    }
}

// ----- single commitment proofs for the three specs ------------------------------------

struct Vector {
    label: String,
    key: Vec<u8>,
    value: Option<Vec<u8>>,
    proof: Vec<u8>,
    root: Vec<u8>,
}

fn spec_vectors(dir: &str) -> Vec<Vector> {
    let mut out = Vec::new();
    for kind in ["exist", "nonexist"] {
        for pos in ["left", "middle", "right"] {
            let rel = format!("ics23/{dir}/{kind}_{pos}.json");
            let Some(v) = load(&rel) else { continue };
            let hexf =
                |f: &str| hex::decode(v.get(f).and_then(Value::as_str).unwrap_or("")).unwrap();
            let value = hexf("value");
            out.push(Vector {
                label: rel,
                key: hexf("key"),
                value: (kind == "exist").then_some(value),
                proof: hexf("proof"),
                root: hexf("root"),
            });
        }
    }
    out
}

fn kinds() -> [(&'static str, SpecKind); 3] {
    [
        ("iavl", SpecKind::Iavl),
        ("tendermint", SpecKind::Tendermint),
        ("smt", SpecKind::Smt),
    ]
}

#[test]
fn spec_vectors_verify_under_their_pinned_spec() {
    let mut seen = 0;
    for (dir, kind) in kinds() {
        for v in spec_vectors(dir) {
            proof::verify_commitment_proof(kind, &v.root, &v.key, v.value.as_deref(), &v.proof)
                .unwrap_or_else(|e| panic!("{}: {e} ({})", v.label, e.name()));
            seen += 1;
        }
    }
    if seen > 0 {
        assert_eq!(seen, 18);
    }
}

#[test]
fn spec_vectors_are_refused_under_another_spec() {
    // A proof never picks its spec: an IAVL proof checked as a simple-Merkle or SMT proof
    // (and so on) must fail on the leaf or inner rules, never verify.
    for (dir, kind) in kinds() {
        for v in spec_vectors(dir) {
            for (_, other) in kinds() {
                if other == kind {
                    continue;
                }
                let err = proof::verify_commitment_proof(
                    other,
                    &v.root,
                    &v.key,
                    v.value.as_deref(),
                    &v.proof,
                )
                .expect_err(&v.label);
                assert!(
                    matches!(
                        err,
                        ProofError::SpecMismatch { .. }
                            | ProofError::LeafPrefix(_)
                            | ProofError::InnerPrefix { .. }
                            | ProofError::InnerSuffix { .. }
                            | ProofError::RootMismatch { .. }
                            | ProofError::NonExistenceInvalid(_)
                            | ProofError::KeyMismatch
                    ),
                    "{} under {other:?}: {} {err}",
                    v.label,
                    err.name()
                );
            }
        }
    }
}

#[test]
fn spec_vectors_wrong_key_value_or_root_are_refused() {
    for (dir, kind) in kinds() {
        for v in spec_vectors(dir) {
            let mut root = v.root.clone();
            root[0] ^= 1;
            let err =
                proof::verify_commitment_proof(kind, &root, &v.key, v.value.as_deref(), &v.proof)
                    .expect_err(&v.label);
            assert_eq!(err.name(), "root_mismatch", "{}", v.label);
            if let Some(value) = &v.value {
                let mut other = value.clone();
                other.push(b'x');
                let err =
                    proof::verify_commitment_proof(kind, &v.root, &v.key, Some(&other), &v.proof)
                        .expect_err(&v.label);
                assert_eq!(err.name(), "value_mismatch", "{}", v.label);
                let mut key = v.key.clone();
                key.push(b'x');
                let err =
                    proof::verify_commitment_proof(kind, &v.root, &key, Some(value), &v.proof)
                        .expect_err(&v.label);
                assert_eq!(err.name(), "key_mismatch", "{}", v.label);
                // An existence proof does not prove absence.
                let err = proof::verify_commitment_proof(kind, &v.root, &v.key, None, &v.proof)
                    .expect_err(&v.label);
                assert_eq!(err.name(), "wrong_proof_kind", "{}", v.label);
            } else {
                // A non-existence proof cannot prove membership of anything.
                let err =
                    proof::verify_commitment_proof(kind, &v.root, &v.key, Some(b"v"), &v.proof)
                        .expect_err(&v.label);
                assert_eq!(err.name(), "wrong_proof_kind", "{}", v.label);
            }
        }
    }
}

#[test]
fn zero_or_empty_root_is_refused() {
    for (dir, kind) in kinds() {
        for v in spec_vectors(dir) {
            let err =
                proof::verify_commitment_proof(kind, &[], &v.key, v.value.as_deref(), &v.proof)
                    .expect_err(&v.label);
            assert_eq!(err, ProofError::EmptyRoot, "{}", v.label);
            let err = proof::verify_commitment_proof(
                kind,
                &[0; 32],
                &v.key,
                v.value.as_deref(),
                &v.proof,
            )
            .expect_err(&v.label);
            assert_eq!(err.name(), "root_mismatch", "{}", v.label);
            let err = proof::verify_commitment_proof(
                kind,
                &v.root[..20],
                &v.key,
                v.value.as_deref(),
                &v.proof,
            )
            .expect_err(&v.label);
            assert_eq!(err.name(), "root_length", "{}", v.label);
        }
    }
    let (app, store, key, value, bytes) = testkit::cosmos_membership(8, 4, 1).unwrap();
    assert!(proof::verify_membership(&app, &[&store, &key], &value, &bytes).is_ok());
    assert_eq!(
        proof::verify_membership(&[], &[&store, &key], &value, &bytes),
        Err(ProofError::EmptyRoot)
    );
    assert_eq!(
        proof::verify_non_membership(&[], &[&store, &key], &bytes),
        Err(ProofError::EmptyRoot)
    );
}

#[test]
fn empty_value_key_and_path_are_refused() {
    let (app, store, key, value, bytes) = testkit::cosmos_membership(4, 3, 2).unwrap();
    assert_eq!(
        proof::verify_membership(&app, &[&store, &key], &[], &bytes),
        Err(ProofError::EmptyValue)
    );
    assert_eq!(
        proof::verify_membership(&app, &[], &value, &bytes),
        Err(ProofError::EmptyPath)
    );
    assert_eq!(
        proof::verify_membership(&app, &[&store, &[]], &value, &bytes),
        Err(ProofError::EmptyKey)
    );
    assert_eq!(
        proof::verify_membership(&app, &[&key], &value, &bytes)
            .unwrap_err()
            .name(),
        "path_length_mismatch"
    );
    assert_eq!(
        proof::verify_membership(&app, &[&store, &key], &value, &[])
            .unwrap_err()
            .name(),
        "decode"
    );
}

#[test]
fn oversize_inputs_are_refused() {
    let (app, store, key, value, _) = testkit::cosmos_membership(4, 3, 3).unwrap();
    let huge = vec![0u8; proof::MAX_PROOF_BYTES + 1];
    assert!(matches!(
        proof::verify_membership(&app, &[&store, &key], &value, &huge),
        Err(ProofError::TooLarge { what: "proof", .. })
    ));
    let big_value = vec![1u8; proof::MAX_VALUE_BYTES + 1];
    let (_, _, _, _, bytes) = testkit::cosmos_membership(4, 3, 3).unwrap();
    assert!(matches!(
        proof::verify_membership(&app, &[&store, &key], &big_value, &bytes),
        Err(ProofError::TooLarge { what: "value", .. })
    ));
    // Five proofs in one MerkleProof: over MAX_PROOFS.
    let (inner, _) = testkit::iavl_existence(&key, &value, 2, 3).unwrap();
    let many = testkit::encode_merkle_proof(vec![commitment_proof::Proof::Exist(inner); 5]);
    assert!(matches!(
        proof::verify_membership(&app, &[&store, &key], &value, &many),
        Err(ProofError::TooLarge {
            what: "proof count",
            ..
        })
    ));
    // 129 inner steps: over the default depth bound.
    let (deep, root) = testkit::iavl_existence(&key, &value, 129, 3).unwrap();
    let bytes = CommitmentProof {
        proof: Some(commitment_proof::Proof::Exist(deep)),
    }
    .encode_to_vec();
    assert!(matches!(
        proof::verify_commitment_proof(SpecKind::Iavl, &root, &key, Some(&value), &bytes),
        Err(ProofError::TooManySteps { got: 129, .. })
    ));
}

// ----- chained Cosmos proofs -----------------------------------------------------------

#[test]
fn chained_membership_verifies_generated_cosmos_proofs() {
    for seed in 0..8u64 {
        let (app, store, key, value, bytes) = testkit::cosmos_membership(12, 5, seed).unwrap();
        proof::verify_membership(&app, &[&store, &key], &value, &bytes)
            .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        // wrong store name
        let err = proof::verify_membership(&app, &[b"bank", &key], &value, &bytes).unwrap_err();
        assert_eq!(err.name(), "key_mismatch", "seed {seed}");
        // a membership proof is not a non-membership proof
        let err = proof::verify_non_membership(&app, &[&store, &key], &bytes).unwrap_err();
        assert_eq!(err.name(), "wrong_proof_kind", "seed {seed}");
    }
}

/// The iavl/ vectors as the store proof, chained through a generated multistore.
#[test]
fn chained_proofs_over_iavl_vectors() {
    for v in spec_vectors("iavl") {
        let (outer, app) = testkit::multistore_existence(b"ibc", &v.root, 6, 11).unwrap();
        let cp = CommitmentProof::decode(v.proof.as_slice()).unwrap();
        let bytes = testkit::encode_merkle_proof(vec![
            cp.proof.clone().unwrap(),
            commitment_proof::Proof::Exist(outer),
        ]);
        let path: [&[u8]; 2] = [b"ibc", &v.key];
        match &v.value {
            Some(value) => {
                proof::verify_membership(&app, &path, value, &bytes)
                    .unwrap_or_else(|e| panic!("{}: {e}", v.label));
                assert_eq!(
                    proof::verify_non_membership(&app, &path, &bytes)
                        .unwrap_err()
                        .name(),
                    "wrong_proof_kind"
                );
            }
            None => {
                proof::verify_non_membership(&app, &path, &bytes)
                    .unwrap_or_else(|e| panic!("{}: {e}", v.label));
                let mut other = app.clone();
                other[31] ^= 0x80;
                assert_eq!(
                    proof::verify_non_membership(&other, &path, &bytes)
                        .unwrap_err()
                        .name(),
                    "root_mismatch",
                    "{}",
                    v.label
                );
            }
        }
    }
}

#[test]
fn leaf_prefix_outside_the_pinned_iavl_spec_is_refused() {
    // The BNB-bridge class: the attacker's leaf carried bytes the verifier's spec did not
    // constrain. Re-prefix a valid IAVL leaf (and recompute the whole chain, so the root
    // matches) and the pinned spec must still refuse it.
    let (app, store, key, value, bytes) = testkit::cosmos_membership(6, 3, 9).unwrap();
    let mut mp = proof::decode_merkle_proof(&bytes).unwrap();
    let Some(commitment_proof::Proof::Exist(inner)) = &mut mp.proofs[0].proof else {
        panic!()
    };
    // A leaf prefix with extra trailing bytes after height/size/version.
    inner
        .leaf
        .as_mut()
        .unwrap()
        .prefix
        .extend_from_slice(&[0xde, 0xad]);
    let store_root = proof::existence_root(inner).unwrap();
    let (outer, forged_app) = testkit::multistore_existence(&store, &store_root, 3, 9).unwrap();
    assert_ne!(forged_app, app);
    mp.proofs[1].proof = Some(commitment_proof::Proof::Exist(outer));
    let forged = mp.encode_to_vec();
    let err = proof::verify_membership(&forged_app, &[&store, &key], &value, &forged).unwrap_err();
    assert_eq!(err.name(), "leaf_prefix", "{err}");

    // A leaf whose hash op differs from the pinned spec: spec_mismatch.
    let (mut p, _) = testkit::iavl_existence(&key, &value, 3, 9).unwrap();
    p.leaf.as_mut().unwrap().prehash_value = HashOp::NoHash as i32;
    let root = proof::existence_root(&p).unwrap();
    let bytes = CommitmentProof {
        proof: Some(commitment_proof::Proof::Exist(p)),
    }
    .encode_to_vec();
    let err = proof::verify_commitment_proof(SpecKind::Iavl, &root, &key, Some(&value), &bytes)
        .unwrap_err();
    assert_eq!(err.name(), "spec_mismatch", "{err}");

    // An inner step whose prefix starts like a leaf (0x00) under the simple-Merkle spec.
    let (mut p, _) = testkit::multistore_existence(b"ibc", &[7u8; 32], 4, 1).unwrap();
    p.path[0].prefix[0] = 0;
    let root = proof::existence_root(&p).unwrap();
    let bytes = CommitmentProof {
        proof: Some(commitment_proof::Proof::Exist(p)),
    }
    .encode_to_vec();
    let err = proof::verify_commitment_proof(
        SpecKind::Tendermint,
        &root,
        b"ibc",
        Some(&[7u8; 32]),
        &bytes,
    )
    .unwrap_err();
    assert_eq!(err.name(), "inner_prefix", "{err}");
}

#[test]
fn batch_and_compressed_proofs_are_refused() {
    let batch = CommitmentProof {
        proof: Some(commitment_proof::Proof::Batch(ics23::BatchProof {
            entries: vec![],
        })),
    }
    .encode_to_vec();
    let err = proof::verify_commitment_proof(SpecKind::Iavl, &[1; 32], b"k", Some(b"v"), &batch)
        .unwrap_err();
    assert_eq!(err.name(), "unsupported_proof_kind");
}

#[test]
fn non_canonical_encoding_is_refused() {
    let (app, store, key, value, mut bytes) = testkit::cosmos_membership(3, 2, 4).unwrap();
    // An unknown field appended: decodes to the same message, but is not canonical.
    bytes.extend_from_slice(&[0x10, 0x01]);
    assert_eq!(
        proof::verify_membership(&app, &[&store, &key], &value, &bytes),
        Err(ProofError::NonCanonical)
    );
}

#[test]
fn legacy_proof_ops_are_not_ics23_proofs() {
    for file in ["client_state_proof.json", "consensus_state_proof.json"] {
        let rel = format!("ics23/legacy-proofops-ibc-rs/{file}");
        let Some(v) = load(&rel) else { continue };
        let ops = v["proof"]["ops"].as_array().unwrap();
        assert_eq!(ops.len(), 2, "{rel}");
        assert_eq!(ops[0]["type"], "iavl:v");
        assert_eq!(ops[1]["type"], "multistore");
        let key = b64(&ops[0]["key"]);
        let value = b64(&v["value"]);
        let root = [0x11u8; 32];
        for op in ops {
            let data = b64(&op["data"]);
            for kind in [SpecKind::Iavl, SpecKind::Tendermint] {
                let err = proof::verify_commitment_proof(kind, &root, &key, Some(&value), &data)
                    .expect_err(&rel);
                assert!(
                    matches!(
                        err,
                        ProofError::Decode(_)
                            | ProofError::NonCanonical
                            | ProofError::UnsupportedProofKind(_)
                            | ProofError::WrongProofKind { .. }
                            | ProofError::MissingLeaf
                            | ProofError::SpecMismatch { .. }
                            | ProofError::LeafPrefix(_)
                            | ProofError::MissingInput(_)
                    ),
                    "{rel} {}: {}",
                    op["type"],
                    err.name()
                );
            }
            let err =
                proof::verify_membership(&root, &[b"ibc", &key], &value, &data).expect_err(&rel);
            assert_ne!(err.name(), "", "{rel}");
        }
    }
}

// ----- mutations -----------------------------------------------------------------------

fn flip_each_byte(label: &str, bytes: &[u8], verify: impl Fn(&[u8]) -> Result<(), ProofError>) {
    for i in 0..bytes.len() {
        for mask in [0x01u8, 0x80] {
            let mut m = bytes.to_vec();
            m[i] ^= mask;
            if let Ok(()) = verify(&m) {
                panic!("{label}: flipping byte {i} with {mask:#04x} still verifies");
            }
        }
    }
}

#[test]
fn every_byte_flip_of_a_vector_proof_is_refused() {
    for (dir, kind) in kinds() {
        for v in spec_vectors(dir) {
            flip_each_byte(&v.label, &v.proof, |p| {
                proof::verify_commitment_proof(kind, &v.root, &v.key, v.value.as_deref(), p)
            });
        }
    }
}

#[test]
fn every_byte_flip_of_a_chained_proof_is_refused() {
    let (app, store, key, value, bytes) = testkit::cosmos_membership(10, 5, 21).unwrap();
    flip_each_byte("cosmos_membership", &bytes, |p| {
        proof::verify_membership(&app, &[&store, &key], &value, p)
    });
    for v in spec_vectors("iavl")
        .into_iter()
        .filter(|v| v.value.is_none())
    {
        let (outer, app) = testkit::multistore_existence(b"ibc", &v.root, 3, 5).unwrap();
        let cp = CommitmentProof::decode(v.proof.as_slice()).unwrap();
        let bytes = testkit::encode_merkle_proof(vec![
            cp.proof.unwrap(),
            commitment_proof::Proof::Exist(outer),
        ]);
        flip_each_byte(&v.label, &bytes, |p| {
            proof::verify_non_membership(&app, &[b"ibc", &v.key], p)
        });
    }
}

fn step_mutations(path: &[InnerOp]) -> Vec<Vec<InnerOp>> {
    let mut out = Vec::new();
    for i in 0..path.len() {
        let mut removed = path.to_vec();
        removed.remove(i);
        out.push(removed);
        let mut dup = path.to_vec();
        dup.insert(i, path[i].clone());
        out.push(dup);
    }
    out
}

#[test]
fn every_inner_step_removed_or_duplicated_is_refused() {
    for (dir, kind) in kinds() {
        for v in spec_vectors(dir) {
            let cp = CommitmentProof::decode(v.proof.as_slice()).unwrap();
            let mut variants: Vec<CommitmentProof> = Vec::new();
            match cp.proof.clone().unwrap() {
                commitment_proof::Proof::Exist(e) => {
                    for path in step_mutations(&e.path) {
                        let mut m = e.clone();
                        m.path = path;
                        variants.push(CommitmentProof {
                            proof: Some(commitment_proof::Proof::Exist(m)),
                        });
                    }
                }
                commitment_proof::Proof::Nonexist(n) => {
                    for side in [0, 1] {
                        let Some(e) = (if side == 0 { &n.left } else { &n.right }) else {
                            continue;
                        };
                        for path in step_mutations(&e.path) {
                            let mut m = n.clone();
                            let mut e2 = e.clone();
                            e2.path = path;
                            if side == 0 {
                                m.left = Some(e2);
                            } else {
                                m.right = Some(e2);
                            }
                            variants.push(CommitmentProof {
                                proof: Some(commitment_proof::Proof::Nonexist(m)),
                            });
                        }
                    }
                }
                _ => panic!("{}: unexpected kind", v.label),
            }
            assert!(!variants.is_empty(), "{}", v.label);
            for (i, m) in variants.iter().enumerate() {
                let err = proof::verify_commitment_proof(
                    kind,
                    &v.root,
                    &v.key,
                    v.value.as_deref(),
                    &m.encode_to_vec(),
                )
                .expect_err(&format!("{} variant {i}", v.label));
                assert!(
                    matches!(
                        err,
                        ProofError::RootMismatch { .. }
                            | ProofError::InnerPrefix { .. }
                            | ProofError::NonExistenceInvalid(_)
                    ),
                    "{} variant {i}: {}",
                    v.label,
                    err.name()
                );
            }
        }
    }
}

#[test]
fn identical_neighbour_paths_are_refused_without_panic() {
    // The reference crate's neighbour walk unwraps on paths that never diverge; ours must
    // refuse such a proof with a named error before the crate ever sees it.
    for v in spec_vectors("iavl")
        .into_iter()
        .filter(|v| v.value.is_none())
    {
        let cp = CommitmentProof::decode(v.proof.as_slice()).unwrap();
        let Some(commitment_proof::Proof::Nonexist(mut n)) = cp.proof else {
            panic!()
        };
        let Some(side) = n.left.clone().or(n.right.clone()) else {
            panic!()
        };
        n.left = Some(side.clone());
        n.right = Some(side);
        let bytes = CommitmentProof {
            proof: Some(commitment_proof::Proof::Nonexist(n)),
        }
        .encode_to_vec();
        let err = proof::verify_commitment_proof(SpecKind::Iavl, &v.root, &v.key, None, &bytes)
            .unwrap_err();
        assert_eq!(err.name(), "non_existence_invalid", "{}", v.label);
    }
}

/// A store of many commitments (what a fixture ledger keeps): each entry's proof verifies
/// under the one app hash, and not for another entry's value or key.
#[test]
fn a_store_of_many_entries_proves_each_under_one_app_hash() {
    for n in [1usize, 2, 3, 5, 8, 13] {
        let entries: Vec<(Vec<u8>, Vec<u8>)> = (0..n)
            .map(|i| {
                (
                    format!("commitments/{i:04}").into_bytes(),
                    vec![i as u8 + 1; 32],
                )
            })
            .collect();
        let (app, proofs) = testkit::store_memberships(b"junction", &entries, 9, 4, 5).unwrap();
        assert_eq!(proofs.len(), n);
        for (i, ((key, value), bytes)) in entries.iter().zip(&proofs).enumerate() {
            assert_eq!(
                proof::verify_membership(&app, &[b"junction", key], value, bytes),
                Ok(()),
                "entry {i} of {n}"
            );
            let other = &entries[(i + 1) % n];
            if n > 1 {
                assert_eq!(
                    proof::verify_membership(&app, &[b"junction", key], &other.1, bytes)
                        .unwrap_err()
                        .name(),
                    "value_mismatch",
                    "entry {i} of {n} with another value"
                );
            }
        }
    }
}
