#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use proptest::prelude::*;
use std::collections::BTreeSet;

fn w(k: &str, v: Option<&str>) -> StateWrite {
    (k.as_bytes().to_vec(), v.map(|v| v.as_bytes().to_vec()))
}

fn tree_with(versions: &[Vec<StateWrite>]) -> (MemoryTree, Vec<Hash32>) {
    let mut t = MemoryTree::default();
    let roots = versions
        .iter()
        .enumerate()
        .map(|(v, writes)| t.apply(v as u64, writes).unwrap())
        .collect();
    (t, roots)
}

#[test]
fn the_empty_state_has_the_placeholder_root() {
    assert_eq!(root_of(std::iter::empty()), empty_root());
    let (_, roots) = tree_with(&[vec![]]);
    assert_eq!(roots[0], empty_root());
}

#[test]
fn membership_and_absence_verify_at_each_version() {
    let (t, roots) = tree_with(&[
        vec![
            w("acct/a", Some("1")),
            w("acct/b", Some("2")),
            w("gov", Some("c")),
        ],
        vec![w("acct/a", Some("3")), w("acct/b", None)],
        vec![],
    ]);
    // Version 1 changed the root; the empty version 2 keeps it.
    assert_ne!(roots[0], roots[1]);
    assert_eq!(roots[1], roots[2]);

    let ProvenValue {
        value: v,
        proof: p,
        root,
    } = prove(&t, 0, b"acct/a").unwrap();
    assert_eq!(root, roots[0]);
    assert_eq!(v.as_deref(), Some(&b"1"[..]));
    verify_state_proof(&roots[0], b"acct/a", Some(b"1"), &p).unwrap();

    let ProvenValue {
        value: v, proof: p, ..
    } = prove(&t, 2, b"acct/a").unwrap();
    assert_eq!(v.as_deref(), Some(&b"3"[..]));
    verify_state_proof(&roots[2], b"acct/a", Some(b"3"), &p).unwrap();

    // A deleted key and a never-written key are absent, with proofs.
    for key in [&b"acct/b"[..], b"zzz", b"", b"acct/"] {
        let ProvenValue {
            value: v, proof: p, ..
        } = prove(&t, 1, key).unwrap();
        assert_eq!(v, None);
        verify_state_proof(&roots[1], key, None, &p).unwrap();
    }
}

#[test]
fn a_proof_is_refused_by_name_for_anything_it_does_not_prove() {
    let (t, roots) = tree_with(&[
        vec![
            w("k1", Some("v1")),
            w("k2", Some("v2")),
            w("k3", Some("v3")),
        ],
        vec![w("k1", Some("v1b"))],
    ]);
    let ProvenValue { proof: member, .. } = prove(&t, 1, b"k1").unwrap();
    let ProvenValue { proof: absent, .. } = prove(&t, 1, b"k9").unwrap();

    // The old root does not hold the new value.
    assert!(matches!(
        verify_state_proof(&roots[0], b"k1", Some(b"v1b"), &member),
        Err(StateProofError::RootMismatch { .. })
    ));
    assert!(matches!(
        verify_state_proof(&[7; 32], b"k9", None, &absent),
        Err(StateProofError::RootMismatch { .. })
    ));
    assert_eq!(
        verify_state_proof(&roots[1], b"k1", Some(b"v1"), &member),
        Err(StateProofError::ValueMismatch)
    );
    assert_eq!(
        verify_state_proof(&roots[1], b"k2", Some(b"v1b"), &member),
        Err(StateProofError::KeyMismatch)
    );
    assert_eq!(
        verify_state_proof(&roots[1], b"k8", None, &absent),
        Err(StateProofError::KeyMismatch)
    );
    assert!(matches!(
        verify_state_proof(&roots[1], b"k1", None, &member),
        Err(StateProofError::WrongKind { .. })
    ));
    assert!(matches!(
        verify_state_proof(&roots[1], b"k9", Some(b"x"), &absent),
        Err(StateProofError::WrongKind { .. })
    ));
    assert!(matches!(
        verify_state_proof(&roots[1], b"k1", Some(b"v1b"), &[0xff, 0x01, 0x02]),
        Err(StateProofError::Malformed(_))
    ));
    assert!(matches!(
        verify_state_proof(&roots[1], b"k1", Some(b"v1b"), &[]),
        Err(StateProofError::Malformed(_))
    ));
    assert_eq!(
        verify_state_proof(
            &roots[1],
            b"k1",
            Some(b"v1b"),
            &vec![0; MAX_STATE_PROOF_BYTES + 1]
        ),
        Err(StateProofError::TooLarge(MAX_STATE_PROOF_BYTES + 1))
    );
    // Flipping any byte of a good proof never makes it prove the claim.
    for i in 0..member.len() {
        let mut bad = member.clone();
        bad[i] ^= 0x01;
        assert!(
            verify_state_proof(&roots[1], b"k1", Some(b"v1b"), &bad).is_err(),
            "byte {i} flipped still verified"
        );
    }
}

#[test]
fn a_version_never_written_is_a_missing_root() {
    let (t, _) = tree_with(&[vec![w("a", Some("1"))]]);
    assert_eq!(root_at(&t, 5), Err(StateTreeError::MissingRoot(5)));
    assert_eq!(prove(&t, 5, b"a"), Err(StateTreeError::MissingRoot(5)));
    // Skipping a version is refused: each block's tree starts from the last one.
    let mut t2 = t.clone();
    assert_eq!(
        t2.apply(3, &[w("b", Some("2"))]),
        Err(StateTreeError::MissingRoot(2))
    );
}

#[test]
fn an_update_batch_carries_the_new_nodes_values_and_preimages() {
    let (t, roots) = tree_with(&[vec![w("a", Some("1")), w("b", Some("2"))]]);
    let u = update(&t, 1, &[w("a", Some("9")), w("b", None)]).unwrap();
    assert_eq!(u.version, 1);
    assert_ne!(u.root, roots[0]);
    assert!(!u.nodes.is_empty());
    assert!(
        !u.stale.is_empty(),
        "the replaced leaves are stale since version 1"
    );
    assert!(u.stale.iter().all(|(v, _)| *v == 1));
    assert_eq!(u.values.len(), 2);
    assert_eq!(u.preimages, vec![(key_hash(b"a").0, b"a".to_vec())]);
    for (k, n) in &u.nodes {
        decode_node_key(k).unwrap();
        let leaf = match decode_node(n).unwrap() {
            Node::Leaf(l) => Some(l.key_hash().0),
            _ => None,
        };
        assert_eq!(encoded_leaf_key_hash(n).copied(), leaf);
    }
    assert!(u
        .nodes
        .iter()
        .any(|(_, n)| encoded_leaf_key_hash(n).is_some()));
    assert!(matches!(
        decode_node(&[0xff; 3]),
        Err(StateTreeError::Corrupt(_))
    ));
}

/// Stored node keys sort by version first, so a block's new nodes append to a B-tree
/// instead of landing on pages spread over it (borsh alone writes the version
/// little-endian: version 256 would sort before version 1). A key whose prefix
/// disagrees with its version is refused.
#[test]
fn stored_node_keys_sort_by_version() {
    let mut t = MemoryTree::default();
    let mut keys = Vec::new();
    for v in 0..=300u64 {
        let writes = [w(&format!("k{v}"), Some("x"))];
        let u = update(&t, v, &writes).unwrap();
        t.apply(v, &writes).unwrap();
        for (k, _) in &u.nodes {
            assert_eq!(decode_node_key(k).unwrap().version(), v);
        }
        if [1, 255, 256, 257, 300].contains(&v) {
            keys.push(u.nodes.iter().map(|(k, _)| k.clone()).min().unwrap());
        }
    }
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(sorted, keys);
    let mut bad = keys[0].clone();
    bad[7] ^= 1;
    assert!(matches!(
        decode_node_key(&bad),
        Err(StateTreeError::Corrupt(_))
    ));
}

fn arb_writes() -> impl Strategy<Value = Vec<Vec<(u8, Option<u8>)>>> {
    prop::collection::vec(
        prop::collection::btree_map(0u8..40, prop::option::weighted(0.8, any::<u8>()), 0..12)
            .prop_map(|m| m.into_iter().collect::<Vec<_>>()),
        1..12,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// The incremental root is a function of the entries alone: after any sequence of
    /// versions it equals the root built from nothing over the surviving entries, and
    /// every key proves its value or its absence under it.
    #[test]
    fn incremental_roots_equal_roots_built_from_nothing(versions in arb_writes()) {
        let mut t = MemoryTree::default();
        let mut live: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
        let mut root = empty_root();
        for (v, set) in versions.iter().enumerate() {
            let writes: Vec<StateWrite> = set
                .iter()
                .map(|(k, val)| (vec![b'k', *k], val.map(|x| vec![x; 3])))
                .collect();
            for (k, val) in &writes {
                match val {
                    Some(val) => { live.insert(k.clone(), val.clone()); }
                    None => { live.remove(k); }
                }
            }
            root = t.apply(v as u64, &writes).unwrap();
            prop_assert_eq!(root, root_of(live.iter()));
        }
        let last = versions.len() as u64 - 1;
        if live.is_empty() {
            prop_assert_eq!(prove(&t, last, b"k"), Err(StateTreeError::EmptyTree));
            return Ok(());
        }
        for k in 0u8..40 {
            let key = vec![b'k', k];
            let ProvenValue { value, proof, .. } = prove(&t, last, &key).unwrap();
            prop_assert_eq!(value.as_ref(), live.get(&key));
            prop_assert_eq!(verify_state_proof(&root, &key, value.as_deref(), &proof), Ok(()));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// A version without deletions goes through jmt's one-pass batch; it must store
    /// exactly what key-by-key insertion stores: the same root, the same new nodes under
    /// the same keys, the same values and the same stale nodes.
    #[test]
    fn a_batch_gives_the_same_root_and_stale_nodes_as_key_by_key(
        versions in arb_writes(),
        last in prop::collection::btree_map(0u8..60, any::<u8>(), 1..30),
    ) {
        let mut t = MemoryTree::default();
        for (v, set) in versions.iter().enumerate() {
            let writes: Vec<StateWrite> = set
                .iter()
                .map(|(k, val)| (vec![b'k', *k], val.map(|x| vec![x; 3])))
                .collect();
            t.apply(v as u64, &writes).unwrap();
        }
        let version = versions.len() as u64;
        let writes: Vec<StateWrite> = last
            .iter()
            .map(|(k, x)| (vec![b'k', *k], Some(vec![*x; 5])))
            .collect();
        let (root_a, a) = put(&t, version, &writes).unwrap();
        let (root_b, b) = put_key_by_key(&t, version, &writes).unwrap();
        prop_assert_eq!(root_a, root_b);
        let nodes = |u: &TreeUpdateBatch| u.node_batch.nodes().clone();
        prop_assert_eq!(nodes(&a), nodes(&b));
        prop_assert_eq!(a.node_batch.values(), b.node_batch.values());
        let stale = |u: &TreeUpdateBatch| {
            u.stale_node_index_batch
                .iter()
                .map(|s| (s.stale_since_version, s.node_key.clone()))
                .collect::<BTreeSet<_>>()
        };
        prop_assert_eq!(stale(&a), stale(&b));
    }
}
