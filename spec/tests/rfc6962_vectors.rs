//! The RFC 6962 log against the transparency-dev/merkle test vectors, and generated
//! proofs against the verifiers for every small tree.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use base64::Engine as _;
use junction_spec::merkle::{
    consistency_proof, empty_root, inclusion_proof, leaf_hash, root_from_leaf_hashes,
    verify_consistency, verify_inclusion, MerkleError, MerkleFrontier,
};
use junction_spec::testkit::vector_path;
use junction_spec::{Decode, Encode, Hash32};
use serde_json::Value;

fn rfc6962_dir() -> Option<PathBuf> {
    vector_path("rfc6962/transparency-dev-merkle")
}

/// Every `.json` file under `dir`, sorted.
fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "json") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

fn b64(v: &Value) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(v.as_str().expect("base64 string"))
        .expect("valid base64")
}

/// A hash field of the vectors. Our API takes `[u8; 32]`, so a value of another length
/// cannot be passed as is. For roots and proof entries, where the reference compares
/// or hashes bytes without a length check, such a value is mapped to a 32-byte stand-in
/// (`SHA256("non-32-byte value" || bytes)`): equal inputs stay equal, and the stand-in
/// matches no real hash.
fn hash_or_standin(bytes: &[u8]) -> Hash32 {
    match <Hash32>::try_from(bytes) {
        Ok(h) => h,
        Err(_) => {
            let mut data = b"non-32-byte value".to_vec();
            data.extend_from_slice(bytes);
            junction_spec::hash::sha256(&data)
        }
    }
}

fn proof_field(v: &Value) -> Vec<Hash32> {
    match v {
        Value::Null => Vec::new(),
        Value::Array(items) => items.iter().map(|h| hash_or_standin(&b64(h))).collect(),
        other => panic!("proof is neither null nor an array: {other}"),
    }
}

fn u64_field(case: &Value, key: &str) -> u64 {
    case[key]
        .as_u64()
        .unwrap_or_else(|| panic!("{key} is not a u64"))
}

fn rel(path: &Path, base: &Path) -> String {
    path.strip_prefix(base)
        .unwrap_or(path)
        .display()
        .to_string()
}

fn reference_leaf_hashes(dir: &Path) -> (Vec<Hash32>, Vec<Hash32>) {
    let tree: Value =
        serde_json::from_slice(&std::fs::read(dir.join("reference_tree.json")).unwrap()).unwrap();
    let leaves = tree["leaves"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| leaf_hash(&hex::decode(l.as_str().unwrap()).unwrap()))
        .collect();
    let roots = tree["roots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| <Hash32>::try_from(hex::decode(r.as_str().unwrap()).unwrap()).unwrap())
        .collect();
    (leaves, roots)
}

#[test]
fn every_inclusion_vector_has_the_expected_verdict() {
    let Some(dir) = rfc6962_dir() else { return };
    let (ref_leaves, _) = reference_leaf_hashes(&dir);
    let files = json_files(&dir.join("inclusion"));
    assert!(
        files.len() > 50,
        "too few inclusion vectors: {}",
        files.len()
    );
    let mut failures = Vec::new();
    let mut compared = 0;
    for file in &files {
        let name = rel(file, &dir);
        let case: Value = serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
        let want_err = case["wantErr"].as_bool().unwrap();
        let index = u64_field(&case, "leafIdx");
        let size = u64_field(&case, "treeSize");
        let root = hash_or_standin(&b64(&case["root"]));
        let proof = proof_field(&case["proof"]);
        // A leaf hash of the wrong length is rejected by the type of the API.
        let verdict = match <Hash32>::try_from(b64(&case["leafHash"]).as_slice()) {
            Ok(leaf) => verify_inclusion(&leaf, index, size, &proof, &root),
            Err(_) => Err(MerkleError::WrongProofLength {
                expected: 0,
                got: 0,
            }),
        };
        if verdict.is_err() != want_err {
            failures.push(format!(
                "{name}: wantErr={want_err}, got {verdict:?} ({})",
                case["desc"]
            ));
        }
        // Happy paths on the reference leaves: our generator must produce the same proof.
        if !want_err && size <= ref_leaves.len() as u64 {
            let leaves = &ref_leaves[..size as usize];
            if b64(&case["leafHash"]) == leaves[index as usize] {
                let ours = inclusion_proof(leaves, index).unwrap();
                compared += 1;
                if ours != proof {
                    failures.push(format!("{name}: generated proof differs"));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "failing vectors:\n{}",
        failures.join("\n")
    );
    assert!(
        compared >= 5,
        "only {compared} happy paths were compared to generated proofs"
    );
    println!("{} inclusion vectors passed", files.len());
}

#[test]
fn every_consistency_vector_has_the_expected_verdict() {
    let Some(dir) = rfc6962_dir() else { return };
    let (ref_leaves, ref_roots) = reference_leaf_hashes(&dir);
    let files = json_files(&dir.join("consistency"));
    assert!(
        files.len() > 50,
        "too few consistency vectors: {}",
        files.len()
    );
    let mut failures = Vec::new();
    let mut compared = 0;
    for file in &files {
        let name = rel(file, &dir);
        let case: Value = serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
        let want_err = case["wantErr"].as_bool().unwrap();
        let old_size = u64_field(&case, "size1");
        let new_size = u64_field(&case, "size2");
        let old_root = hash_or_standin(&b64(&case["root1"]));
        let new_root = hash_or_standin(&b64(&case["root2"]));
        let proof = proof_field(&case["proof"]);
        let verdict = verify_consistency(old_size, new_size, &old_root, &new_root, &proof);
        if verdict.is_err() != want_err {
            failures.push(format!(
                "{name}: wantErr={want_err}, got {verdict:?} ({})",
                case["desc"]
            ));
        }
        if !want_err
            && old_size >= 1
            && new_size <= ref_leaves.len() as u64
            && old_root == ref_roots[old_size as usize]
            && new_root == ref_roots[new_size as usize]
        {
            let ours = consistency_proof(&ref_leaves[..new_size as usize], old_size).unwrap();
            compared += 1;
            if ours != proof {
                failures.push(format!("{name}: generated proof differs"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "failing vectors:\n{}",
        failures.join("\n")
    );
    assert!(
        compared >= 5,
        "only {compared} happy paths were compared to generated proofs"
    );
    println!("{} consistency vectors passed", files.len());
}

#[test]
fn reference_tree_roots_match_both_root_computations() {
    let Some(dir) = rfc6962_dir() else { return };
    let (leaves, roots) = reference_leaf_hashes(&dir);
    assert_eq!(roots.len(), leaves.len() + 1);
    assert_eq!(roots[0], empty_root());
    let mut frontier = MerkleFrontier::new();
    for (n, root) in roots.iter().enumerate() {
        assert_eq!(
            root_from_leaf_hashes(&leaves[..n]),
            *root,
            "prefix of {n} leaves"
        );
        assert_eq!(frontier.root(), *root, "frontier of {n} leaves");
        if let Some(leaf) = leaves.get(n) {
            frontier.append(*leaf);
        }
    }
}

fn test_leaves(n: usize) -> Vec<Hash32> {
    (0..n as u64).map(|i| leaf_hash(&i.to_be_bytes())).collect()
}

/// Every generated inclusion proof verifies, and only at its own index and size.
#[test]
fn shared_inclusion_proofs_equal_one_at_a_time_proofs() {
    for n in [1usize, 2, 3, 5, 8, 13, 64, 100, 257] {
        let leaves = test_leaves(n);
        // Every index once, out of order and with repeats, as a relayer might ask.
        let mut indices: Vec<u64> = (0..n as u64).rev().collect();
        indices.extend([0, (n as u64) / 2, n as u64 - 1]);
        let many = junction_spec::merkle::inclusion_proofs(&leaves, &indices).unwrap();
        assert_eq!(many.len(), indices.len());
        for (index, proof) in indices.iter().zip(&many) {
            assert_eq!(
                proof,
                &inclusion_proof(&leaves, *index).unwrap(),
                "size {n} index {index}"
            );
        }
        assert!(matches!(
            junction_spec::merkle::inclusion_proofs(&leaves, &[0, n as u64]),
            Err(MerkleError::IndexOutOfRange { .. })
        ));
    }
    assert!(junction_spec::merkle::inclusion_proofs(&[], &[])
        .unwrap()
        .is_empty());
}

#[test]
fn generated_inclusion_proofs_verify_for_every_small_tree() {
    for n in 0..=64usize {
        let leaves = test_leaves(n);
        let root = root_from_leaf_hashes(&leaves);
        let size = n as u64;
        assert!(matches!(
            inclusion_proof(&leaves, size),
            Err(MerkleError::IndexOutOfRange { .. })
        ));
        for (i, leaf) in leaves.iter().enumerate() {
            let index = i as u64;
            let proof = inclusion_proof(&leaves, index).unwrap();
            verify_inclusion(leaf, index, size, &proof, &root)
                .unwrap_or_else(|e| panic!("size {n} index {i}: {e}"));
            assert!(verify_inclusion(leaf, index, 2 * size + 1, &proof, &root).is_err());
            if n > 1 {
                let other = (index + 1) % size;
                assert!(verify_inclusion(leaf, other, size, &proof, &root).is_err());
            }
            if let Some(first) = proof.first() {
                let mut bad = proof.clone();
                bad[0] = leaf_hash(first);
                assert!(matches!(
                    verify_inclusion(leaf, index, size, &bad, &root),
                    Err(MerkleError::RootMismatch { .. })
                ));
                assert!(matches!(
                    verify_inclusion(leaf, index, size, &proof[1..], &root),
                    Err(MerkleError::WrongProofLength { .. })
                ));
            }
        }
    }
}

/// Every generated consistency proof verifies, and only between its own sizes.
#[test]
fn generated_consistency_proofs_verify_for_every_small_tree() {
    for n in 0..=64usize {
        let leaves = test_leaves(n);
        let new_size = n as u64;
        let new_root = root_from_leaf_hashes(&leaves);
        assert_eq!(
            consistency_proof(&leaves, 0),
            Err(MerkleError::EmptyOldTree)
        );
        assert!(matches!(
            consistency_proof(&leaves, new_size + 1),
            Err(MerkleError::InvalidSizes { .. })
        ));
        for old in 1..=n {
            let old_size = old as u64;
            let old_root = root_from_leaf_hashes(&leaves[..old]);
            let proof = consistency_proof(&leaves, old_size).unwrap();
            verify_consistency(old_size, new_size, &old_root, &new_root, &proof)
                .unwrap_or_else(|e| panic!("old {old} new {n}: {e}"));
            if old < n {
                assert!(
                    verify_consistency(old_size, new_size, &new_root, &old_root, &proof).is_err()
                );
                assert!(
                    verify_consistency(old_size, new_size, &old_root, &old_root, &proof).is_err()
                );
                let mut bad = proof.clone();
                let last = bad.len() - 1;
                bad[last] = leaf_hash(&bad[last]);
                assert!(
                    verify_consistency(old_size, new_size, &old_root, &new_root, &bad).is_err()
                );
            }
        }
    }
}

/// The O(log n) frontier always has the root of the full tree.
#[test]
fn frontier_root_equals_tree_root_for_every_size_up_to_300() {
    let leaves = test_leaves(300);
    let mut frontier = MerkleFrontier::new();
    for n in 0..=300usize {
        assert_eq!(frontier.size(), n as u64);
        assert_eq!(frontier.peaks().len(), n.count_ones() as usize);
        assert_eq!(
            frontier.root(),
            root_from_leaf_hashes(&leaves[..n]),
            "size {n}"
        );
        let bytes = frontier.to_bytes();
        assert_eq!(MerkleFrontier::from_bytes(&bytes).unwrap(), frontier);
        if let Some(leaf) = leaves.get(n) {
            frontier.append(*leaf);
        }
    }
}
