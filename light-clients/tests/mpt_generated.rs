//! Generated cases: mutations of real and generated proofs, differential runs against
//! alloy-trie, crafted non-canonical nodes, bounds and the client-facing `verify_state` rules.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use alloy_primitives::{keccak256, Bytes, U256};
use junction_light_clients::evm::mpt::{
    self, testkit, Account, EvmPath, EvmProof, MptError, EMPTY_CODE_HASH, EMPTY_ROOT,
    MAX_PROOF_NODES,
};
use junction_light_clients::NamedError;
use serde_json::Value;

fn to_vecs(p: &[Bytes]) -> Vec<Vec<u8>> {
    p.iter().map(|n| n.to_vec()).collect()
}

fn to_bytes(p: &[Vec<u8>]) -> Vec<Bytes> {
    p.iter().cloned().map(Bytes::from).collect()
}

/// A verdict on a proof.
type Verify<'a> = dyn Fn(&[Vec<u8>]) -> Result<(), MptError> + 'a;

/// Runs every structural mutation of `proof` through `verify` and checks the verdict kind:
/// a flipped byte in node i is `root_mismatch` (i = 0) or `node_hash_mismatch` at i; a removed
/// or duplicated node is refused with a proof-shape error. Returns the number of cases.
fn mutate_all(label: &str, proof: &[Vec<u8>], verify: &Verify<'_>) -> usize {
    verify(proof).unwrap_or_else(|e| panic!("{label}: the unmutated proof fails: {e}"));
    let mut cases = 0;
    for i in 0..proof.len() {
        for j in 0..proof[i].len() {
            for mask in [0x01u8, 0x80] {
                let mut m = proof.to_vec();
                m[i][j] ^= mask;
                let err = verify(&m).expect_err(&format!("{label}: flip node {i} byte {j}"));
                let want = if i == 0 {
                    MptError::RootMismatch
                } else {
                    MptError::NodeHashMismatch { index: i }
                };
                assert_eq!(err, want, "{label}: flip node {i} byte {j}");
                cases += 1;
            }
        }
        // Remove node i.
        let mut m = proof.to_vec();
        m.remove(i);
        let err = verify(&m).expect_err(&format!("{label}: remove node {i}"));
        let ok = match err {
            MptError::RootMismatch => i == 0,
            MptError::NodeHashMismatch { index } => index == i,
            MptError::MissingNode { index } => index == proof.len() - 1,
            _ => false,
        };
        assert!(ok, "{label}: remove node {i}: {}", err.name());
        // Duplicate node i.
        let mut m = proof.to_vec();
        m.insert(i, proof[i].clone());
        let err = verify(&m).expect_err(&format!("{label}: duplicate node {i}"));
        let ok = match err {
            MptError::NodeHashMismatch { index } => index == i + 1,
            MptError::ExtraNode { index } => index == i + 1 && i + 1 == proof.len(),
            _ => false,
        };
        assert!(ok, "{label}: duplicate node {i}: {}", err.name());
        // Truncate node i by one byte.
        let mut m = proof.to_vec();
        m[i].pop();
        assert!(verify(&m).is_err(), "{label}: truncated node {i}");
        cases += 3;
    }
    // An unrelated node appended.
    let mut m = proof.to_vec();
    m.push(proof[0].clone());
    assert_eq!(
        verify(&m).unwrap_err(),
        MptError::ExtraNode { index: proof.len() },
        "{label}: appended node"
    );
    cases + 1
}

fn response(rel: &str) -> Option<Value> {
    let path = common::vector_path(rel)?;
    let text = std::fs::read_to_string(&path).unwrap();
    let line = text.lines().find_map(|l| l.strip_prefix("<< ")).unwrap();
    Some(serde_json::from_str(line).unwrap())
}

fn unhex(s: &str) -> Vec<u8> {
    let s = s.strip_prefix("0x").unwrap_or(s);
    let s = if s.len() % 2 == 1 {
        format!("0{s}")
    } else {
        s.to_string()
    };
    hex::decode(s).unwrap()
}

#[test]
fn every_byte_flip_removal_and_duplication_of_the_real_eip1186_proofs_is_refused() {
    let (Some(block), Some(resp)) = (
        response("ethereum-mpt/execution-apis/eth_getBlockByNumber/get-latest.io"),
        response("ethereum-mpt/execution-apis/eth_getProof/get-account-proof-with-storage.io"),
    ) else {
        return;
    };
    let state_root: [u8; 32] = unhex(block["result"]["stateRoot"].as_str().unwrap())
        .try_into()
        .unwrap();
    let r = &resp["result"];
    let address: [u8; 20] = unhex(r["address"].as_str().unwrap()).try_into().unwrap();
    let account_proof: Vec<Vec<u8>> = r["accountProof"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| unhex(x.as_str().unwrap()))
        .collect();
    let storage_root: [u8; 32] = unhex(r["storageHash"].as_str().unwrap())
        .try_into()
        .unwrap();
    let sp = &r["storageProof"][0];
    let storage_proof: Vec<Vec<u8>> = sp["proof"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| unhex(x.as_str().unwrap()))
        .collect();
    let mut slot = [0u8; 32];
    slot[31] = 0;
    let mut value = [0u8; 32];
    value[31] = 0x38;

    let n = mutate_all("account proof", &account_proof, &|p| {
        mpt::verify_account(&state_root, &address, p)?
            .map(|_| ())
            .ok_or(MptError::ValueMismatch)
    });
    let m = mutate_all("storage proof", &storage_proof, &|p| {
        mpt::check_storage(&storage_root, &slot, &value, p)
    });
    println!("{n} account-proof and {m} storage-proof mutations refused");
    // alloy refuses them as well (checked on the flips, the expensive part above).
    let account = mpt::verify_account(&state_root, &address, &account_proof)
        .unwrap()
        .unwrap();
    for i in 0..account_proof.len() {
        for j in (0..account_proof[i].len()).step_by(7) {
            let mut m = account_proof.clone();
            m[i][j] ^= 0x01;
            assert!(mpt::verify_proof_with_alloy(
                &state_root,
                keccak256(address).as_slice(),
                Some(&account.encode()),
                &to_bytes(&m)
            )
            .is_err());
        }
    }
}

#[test]
fn generated_storage_presence_and_absence_proofs_survive_no_mutation() {
    let f = testkit::storage_fixture(7, 300, 41);
    let proof = to_vecs(&f.proof);
    let absent = to_vecs(&f.absent_proof);
    assert_eq!(
        mpt::verify_storage(&f.storage_root, &f.slot, &proof).unwrap(),
        f.value
    );
    assert_eq!(
        mpt::verify_storage(&f.storage_root, &f.absent_slot, &absent).unwrap(),
        [0u8; 32]
    );
    mutate_all("presence", &proof, &|p| {
        mpt::check_storage(&f.storage_root, &f.slot, &f.value, p)
    });
    mutate_all("absence", &absent, &|p| {
        mpt::check_storage(&f.storage_root, &f.absent_slot, &[0u8; 32], p)
    });
}

/// The walker remembers the top nodes it has hashed (many proofs share a root), by their
/// bytes: once a proof has passed, a copy whose root or second node differs in one byte is
/// still refused by name, and a node the same length at another root is hashed again.
#[test]
fn a_remembered_top_node_is_known_only_by_its_bytes() {
    let f = testkit::storage_fixture(11, 500, 3);
    let proof = to_vecs(&f.proof);
    let check = |p: &[Vec<u8>]| mpt::check_storage(&f.storage_root, &f.slot, &f.value, p);
    check(&proof).unwrap();
    for (i, want) in [
        (0, MptError::RootMismatch),
        (1, MptError::NodeHashMismatch { index: 1 }),
    ] {
        let last = proof[i].len() - 1;
        let mut m = proof.clone();
        m[i][last] ^= 0x01;
        assert_eq!(check(&m), Err(want));
        check(&proof).unwrap();
    }
    let other = testkit::storage_fixture(12, 500, 3);
    assert_eq!(
        mpt::check_storage(
            &f.storage_root,
            &other.slot,
            &other.value,
            &to_vecs(&other.proof)
        ),
        Err(MptError::RootMismatch)
    );
}

#[test]
fn value_mismatch_is_refused_by_ours_and_alloy() {
    let f = testkit::storage_fixture(3, 100, 5);
    let mut wrong = f.value;
    wrong[31] ^= 0x10;
    assert_eq!(
        mpt::check_storage(&f.storage_root, &f.slot, &wrong, &f.proof).unwrap_err(),
        MptError::ValueMismatch
    );
    assert_eq!(
        mpt::check_storage_with_alloy(&f.storage_root, &f.slot, &wrong, &f.proof).unwrap_err(),
        MptError::ValueMismatch
    );
    // Claiming absence of a present slot, and presence of an absent one.
    assert_eq!(
        mpt::check_storage(&f.storage_root, &f.slot, &[0u8; 32], &f.proof).unwrap_err(),
        MptError::ValueMismatch
    );
    assert_eq!(
        mpt::check_storage(&f.storage_root, &f.absent_slot, &f.value, &f.absent_proof).unwrap_err(),
        MptError::ValueMismatch
    );
    // The benchmark pair agrees on the valid input.
    mpt::check_storage(&f.storage_root, &f.slot, &f.value, &f.proof).unwrap();
    mpt::check_storage_with_alloy(&f.storage_root, &f.slot, &f.value, &f.proof).unwrap();
    mpt::check_storage_with_alloy(&f.storage_root, &f.absent_slot, &[0; 32], &f.absent_proof)
        .unwrap();
}

#[test]
fn proof_against_the_wrong_root_is_root_mismatch() {
    let a = testkit::storage_fixture(1, 50, 3);
    let b = testkit::storage_fixture(2, 50, 3);
    assert_eq!(
        mpt::verify_storage(&b.storage_root, &a.slot, &a.proof).unwrap_err(),
        MptError::RootMismatch
    );
    assert_eq!(
        mpt::verify_storage(&b.storage_root, &a.absent_slot, &a.absent_proof).unwrap_err(),
        MptError::RootMismatch
    );
}

#[test]
fn zero_root_and_empty_trie_root_never_prove_a_value() {
    let f = testkit::storage_fixture(1, 10, 3);
    let empty: Vec<Vec<u8>> = Vec::new();
    for proof in [to_vecs(&f.proof), empty.clone()] {
        assert_eq!(
            mpt::verify_storage(&[0u8; 32], &f.slot, &proof).unwrap_err(),
            MptError::EmptyRoot
        );
        assert_eq!(
            mpt::verify_receipt(&[0u8; 32], 0, &proof).unwrap_err(),
            MptError::EmptyRoot
        );
        assert_eq!(
            mpt::verify_account(&[0u8; 32], &[1; 20], &proof).unwrap_err(),
            MptError::EmptyRoot
        );
    }
    // The empty trie proves absence only, with no nodes or the single empty node.
    assert_eq!(
        mpt::verify_storage(&EMPTY_ROOT, &f.slot, &empty).unwrap(),
        [0u8; 32]
    );
    assert_eq!(
        mpt::verify_storage(&EMPTY_ROOT, &f.slot, &[vec![0x80]]).unwrap(),
        [0u8; 32]
    );
    assert_eq!(
        mpt::verify_storage(&EMPTY_ROOT, &f.slot, &[vec![0x80], vec![0x80]]).unwrap_err(),
        MptError::ExtraNode { index: 1 }
    );
    assert_eq!(
        mpt::verify_storage(&EMPTY_ROOT, &f.slot, &to_vecs(&f.proof)).unwrap_err(),
        MptError::RootMismatch
    );
    // A receipt claimed under either root.
    let p = EvmProof::default();
    for root in [[0u8; 32], EMPTY_ROOT] {
        assert_eq!(
            mpt::verify_state(&[1; 32], &root, &EvmPath::Receipt { index: 0 }, b"r", &p)
                .unwrap_err(),
            MptError::EmptyRoot
        );
        assert_eq!(
            mpt::verify_state(
                &root,
                &[1; 32],
                &EvmPath::Account { address: [1; 20] },
                b"a",
                &p
            )
            .unwrap_err(),
            MptError::EmptyRoot
        );
    }
    mpt::verify_state_absent(&[1; 32], &EMPTY_ROOT, &EvmPath::Receipt { index: 0 }, &p).unwrap();
}

/// A small state: accounts at generated addresses, one with the storage of `fixture`, one
/// with empty storage.
struct State {
    root: [u8; 32],
    rich: [u8; 20],
    rich_proof: Vec<Vec<u8>>,
    bare: [u8; 20],
    bare_proof: Vec<Vec<u8>>,
    missing: [u8; 20],
    missing_proof: Vec<Vec<u8>>,
    storage: testkit::StorageFixture,
}

fn state() -> State {
    let storage = testkit::storage_fixture(9, 64, 10);
    let addr = |i: u8| [i; 20];
    let mut entries = Vec::new();
    for i in 1..=20u8 {
        let acct = Account {
            nonce: u64::from(i),
            balance: U256::from(1000u64 * u64::from(i)),
            storage_root: if i == 1 {
                storage.storage_root
            } else {
                EMPTY_ROOT
            },
            code_hash: EMPTY_CODE_HASH,
        };
        entries.push((keccak256(addr(i)).to_vec(), acct.encode()));
    }
    let targets = [addr(1), addr(2), addr(99)].map(|a| keccak256(a).to_vec());
    let (root, proofs) = testkit::build_with_proofs(&entries, &targets);
    State {
        root,
        rich: addr(1),
        rich_proof: to_vecs(&proofs[0]),
        bare: addr(2),
        bare_proof: to_vecs(&proofs[1]),
        missing: addr(99),
        missing_proof: to_vecs(&proofs[2]),
        storage,
    }
}

#[test]
fn verify_state_storage_path_rules() {
    let s = state();
    let storage_proof = to_vecs(&s.storage.proof);
    let full = EvmProof {
        account_proof: s.rich_proof.clone(),
        storage_proof: storage_proof.clone(),
        receipt_proof: Vec::new(),
    };
    let path = EvmPath::Storage {
        address: s.rich,
        slot: s.storage.slot,
    };
    mpt::verify_state(&s.root, &EMPTY_ROOT, &path, &s.storage.value, &full).unwrap();
    // Wrong value, zero value, short value.
    let mut wrong = s.storage.value;
    wrong[0] ^= 1;
    assert_eq!(
        mpt::verify_state(&s.root, &EMPTY_ROOT, &path, &wrong, &full).unwrap_err(),
        MptError::ValueMismatch
    );
    assert_eq!(
        mpt::verify_state(&s.root, &EMPTY_ROOT, &path, &[0u8; 32], &full).unwrap_err(),
        MptError::ZeroValue
    );
    assert_eq!(
        mpt::verify_state(&s.root, &EMPTY_ROOT, &path, &[1u8; 31], &full)
            .unwrap_err()
            .name(),
        "invalid_value"
    );
    // An unused section filled in.
    let mut extra = full.clone();
    extra.receipt_proof = vec![vec![0x80]];
    assert_eq!(
        mpt::verify_state(&s.root, &EMPTY_ROOT, &path, &s.storage.value, &extra).unwrap_err(),
        MptError::UnusedProof("receipt")
    );
    // The slot in an account that does not exist.
    let ghost = EvmProof {
        account_proof: s.missing_proof.clone(),
        storage_proof: storage_proof.clone(),
        receipt_proof: Vec::new(),
    };
    let ghost_path = EvmPath::Storage {
        address: s.missing,
        slot: s.storage.slot,
    };
    assert_eq!(
        mpt::verify_state(&s.root, &EMPTY_ROOT, &ghost_path, &s.storage.value, &ghost).unwrap_err(),
        MptError::AccountAbsent
    );
    // ...is absent, but only without a storage section.
    assert_eq!(
        mpt::verify_state_absent(&s.root, &EMPTY_ROOT, &ghost_path, &ghost).unwrap_err(),
        MptError::UnusedProof("storage")
    );
    let ghost_clean = EvmProof {
        account_proof: s.missing_proof.clone(),
        ..EvmProof::default()
    };
    mpt::verify_state_absent(&s.root, &EMPTY_ROOT, &ghost_path, &ghost_clean).unwrap();
    mpt::verify_state_absent(
        &s.root,
        &EMPTY_ROOT,
        &EvmPath::Account { address: s.missing },
        &ghost_clean,
    )
    .unwrap();
    // An account with empty storage: no value can be claimed, absence holds.
    let bare = EvmProof {
        account_proof: s.bare_proof.clone(),
        ..EvmProof::default()
    };
    let bare_path = EvmPath::Storage {
        address: s.bare,
        slot: s.storage.slot,
    };
    assert_eq!(
        mpt::verify_state(&s.root, &EMPTY_ROOT, &bare_path, &s.storage.value, &bare).unwrap_err(),
        MptError::EmptyRoot
    );
    mpt::verify_state_absent(&s.root, &EMPTY_ROOT, &bare_path, &bare).unwrap();
    // Absent slot in the rich account.
    let absent = EvmProof {
        account_proof: s.rich_proof.clone(),
        storage_proof: to_vecs(&s.storage.absent_proof),
        receipt_proof: Vec::new(),
    };
    let absent_path = EvmPath::Storage {
        address: s.rich,
        slot: s.storage.absent_slot,
    };
    mpt::verify_state_absent(&s.root, &EMPTY_ROOT, &absent_path, &absent).unwrap();
    // The present slot is not absent; the storage proof of another account's slot is refused.
    assert_eq!(
        mpt::verify_state_absent(&s.root, &EMPTY_ROOT, &path, &full).unwrap_err(),
        MptError::ValueMismatch
    );
    // Mutations of the combined proof through the client API.
    mutate_all("state account section", &s.rich_proof, &|p| {
        let proof = EvmProof {
            account_proof: p.to_vec(),
            storage_proof: storage_proof.clone(),
            receipt_proof: Vec::new(),
        };
        mpt::verify_state(&s.root, &EMPTY_ROOT, &path, &s.storage.value, &proof)
    });
}

/// Differential run: our walker and alloy's on many tries, keys, present and absent, and
/// their mutations. Ours may only be stricter, never looser.
#[test]
fn our_walker_gives_alloys_verdict_on_generated_tries() {
    let mut compared = 0usize;
    let mut stricter = 0usize;
    let mut tiny_roots = 0usize;
    for (t, n) in [1u64, 2, 3, 5, 16, 17, 40, 130, 300]
        .into_iter()
        .enumerate()
    {
        // Ordered tries (receipt-like keys) with tiny values produce embedded nodes.
        let small: Vec<Vec<u8>> = (0..n).map(|i| vec![(i % 100) as u8 + 1]).collect();
        let big: Vec<Vec<u8>> = (0..n).map(|i| vec![i as u8; 40]).collect();
        for (kind, items) in [("small", &small), ("big", &big)] {
            let mut keyed: Vec<(Vec<u8>, Vec<u8>)> = items
                .iter()
                .enumerate()
                .map(|(i, v)| (testkit::key_of(i as u64), v.clone()))
                .collect();
            // Also a secure-keyed variant of the same values.
            if t % 2 == 1 {
                for (k, _) in keyed.iter_mut() {
                    *k = keccak256(&k[..]).to_vec();
                }
            }
            let probes: Vec<Vec<u8>> = keyed
                .iter()
                .map(|(k, _)| k.clone())
                .chain([testkit::key_of(n), testkit::key_of(n + 1000), vec![0x7f]])
                .chain([keccak256(b"x").to_vec()])
                .collect();
            let (root, proofs) = testkit::build_with_proofs(&keyed, &probes);
            assert_eq!(root, testkit::reference_root(&keyed), "{kind} {n}: roots");
            for (probe, proof) in probes.iter().zip(&proofs) {
                let want = keyed
                    .iter()
                    .find(|(k, _)| k == probe)
                    .map(|(_, v)| v.as_slice());
                let ours = mpt::verify_proof(&root, probe, proof);
                assert_eq!(ours, Ok(want), "{kind} {n}: probe {}", hex::encode(probe));
                if proof[0].len() < 32 {
                    // Documented divergence: alloy compares a root node under 32 bytes
                    // unhashed with the root and refuses it; only tiny tries have one.
                    assert!(mpt::verify_proof_with_alloy(&root, probe, want, proof).is_err());
                    tiny_roots += 1;
                    continue;
                }
                mpt::verify_proof_with_alloy(&root, probe, want, proof).unwrap();
                compared += 1;
                // Mutations: every verdict of ours is matched or made stricter.
                let mut variants: Vec<Vec<Bytes>> = Vec::new();
                for i in 0..proof.len() {
                    let mut m = proof.clone();
                    m.remove(i);
                    variants.push(m);
                    let mut m = proof.clone();
                    m.insert(i, proof[i].clone());
                    variants.push(m);
                    for j in (0..proof[i].len()).step_by(5) {
                        let mut m = to_vecs(proof);
                        m[i][j] ^= 0x04;
                        variants.push(to_bytes(&m));
                    }
                }
                for m in &variants {
                    let ours = mpt::verify_proof(&root, probe, m).map(|v| v == want);
                    let theirs = mpt::verify_proof_with_alloy(&root, probe, want, m).is_ok();
                    match ours {
                        Ok(true) => assert!(theirs, "{kind} {n}: ours accepts, alloy refuses"),
                        Ok(false) => panic!("{kind} {n}: a mutation changed the value"),
                        Err(e) => {
                            if theirs {
                                assert_eq!(e.name(), "extra_node", "{kind} {n}: only extra nodes");
                                stricter += 1;
                            }
                        }
                    }
                    compared += 1;
                }
            }
        }
    }
    println!(
        "{compared} verdicts compared, {stricter} where ours was stricter (unused nodes), \
         {tiny_roots} proofs with a root node under 32 bytes (alloy refuses)"
    );
    assert!(tiny_roots > 0 && compared > 1000);
}

fn rlp_str(p: &[u8]) -> Vec<u8> {
    if p.len() == 1 && p[0] < 0x80 {
        return p.to_vec();
    }
    assert!(p.len() < 56);
    let mut v = vec![0x80 + p.len() as u8];
    v.extend_from_slice(p);
    v
}

fn rlp_list(items: &[Vec<u8>]) -> Vec<u8> {
    let payload: Vec<u8> = items.concat();
    let mut v = if payload.len() < 56 {
        vec![0xc0 + payload.len() as u8]
    } else if payload.len() < 256 {
        vec![0xf8, payload.len() as u8]
    } else {
        vec![0xf9, (payload.len() >> 8) as u8, payload.len() as u8]
    };
    v.extend(payload);
    v
}

/// A one-node trie: the node is the root, hashed.
fn single(node: &[u8], key: &[u8]) -> Result<Option<Vec<u8>>, MptError> {
    let root = keccak256(node).0;
    mpt::verify_proof(&root, key, &[node.to_vec()]).map(|v| v.map(<[u8]>::to_vec))
}

#[test]
fn crafted_non_canonical_and_malformed_nodes_are_refused_by_name() {
    let key = [0xab; 32];
    let mut hp = vec![0x20];
    hp.extend_from_slice(&key);
    let value = rlp_str(&[0x05; 40]);
    // Well-formed leaf first, so the failures below are about the one broken rule.
    let good = rlp_list(&[rlp_str(&hp), value.clone()]);
    assert_eq!(single(&good, &key).unwrap(), Some(vec![0x05; 40]));
    // Even hex-prefix with a non-zero pad nibble.
    let mut bad_hp = hp.clone();
    bad_hp[0] = 0x21;
    let node = rlp_list(&[rlp_str(&bad_hp), value.clone()]);
    assert_eq!(single(&node, &key).unwrap_err().name(), "non_canonical");
    // Flag nibble above 3.
    let mut bad_hp = hp.clone();
    bad_hp[0] = 0x40;
    let node = rlp_list(&[rlp_str(&bad_hp), value.clone()]);
    assert_eq!(single(&node, &key).unwrap_err().name(), "invalid_node");
    // Bytes after the node.
    let mut node = good.clone();
    node.push(0x00);
    assert_eq!(single(&node, &key).unwrap_err().name(), "decode");
    // Leaf value that is a list.
    let node = rlp_list(&[rlp_str(&hp), rlp_list(&[rlp_str(&[1; 40])])]);
    assert_eq!(single(&node, &key).unwrap_err().name(), "invalid_node");
    // Empty leaf value.
    let node = rlp_list(&[rlp_str(&hp), vec![0x80]]);
    assert_eq!(single(&node, &key).unwrap_err().name(), "non_canonical");
    // Three items.
    let node = rlp_list(&[rlp_str(&hp), value.clone(), value.clone()]);
    assert_eq!(single(&node, &key).unwrap_err().name(), "invalid_node");
    // A non-canonical length: a short string written in the long form.
    let mut long_form = vec![0xb8, 40];
    long_form.extend_from_slice(&[0x05; 40]);
    let node = rlp_list(&[rlp_str(&hp), long_form]);
    assert_eq!(single(&node, &key).unwrap_err().name(), "non_canonical");
    // A root that is a string, not a node.
    assert_eq!(
        single(&rlp_str(&[7; 40]), &key).unwrap_err().name(),
        "invalid_node"
    );
    // An extension whose child is a leaf (never produced: they would merge).
    let leaf = rlp_list(&[rlp_str(&[0x20; 17]), rlp_str(&[9; 40])]);
    let ext = rlp_list(&[rlp_str(&[0x00, 0x20]), rlp_str(keccak256(&leaf).as_slice())]);
    let root = keccak256(&ext).0;
    let mut k = vec![0x20];
    k.extend_from_slice(&[0u8; 31]);
    let err = mpt::verify_proof(&root, &k, &[ext.clone(), leaf.clone()]).unwrap_err();
    assert_eq!(err.name(), "non_canonical");
    // An extension with an empty path.
    let ext0 = rlp_list(&[rlp_str(&[0x00]), rlp_str(keccak256(&leaf).as_slice())]);
    assert_eq!(single(&ext0, &k).unwrap_err().name(), "non_canonical");
    // A branch child reference of 5 bytes (neither hash nor node).
    let mut items = vec![vec![0x80]; 17];
    items[0] = rlp_str(&[1, 2, 3, 4, 5]);
    items[1] = rlp_str(&[0xcc; 32]);
    let branch = rlp_list(&items);
    assert_eq!(single(&branch, &[0x10]).unwrap_err().name(), "invalid_node");
}

#[test]
fn storage_values_must_be_canonical_integers() {
    let slot = [3u8; 32];
    let key = keccak256(slot).to_vec();
    let filler: Vec<(Vec<u8>, Vec<u8>)> = (0..8u8)
        .map(|i| (keccak256([i]).to_vec(), vec![0x81, 0x80 + i]))
        .collect();
    for (stored, name) in [
        (vec![0x82, 0x00, 0x01], "non_canonical"), // leading zero
        (vec![0x80], "non_canonical"),             // zero stored
        (vec![0x81, 0x05], "non_canonical"),       // single byte wrapped
        (
            {
                let mut v = vec![0xa1];
                v.extend([1u8; 33]);
                v
            },
            "invalid_value",
        ), // 33 bytes
        (vec![0xc1, 0x01], "invalid_value"),       // a list
    ] {
        let mut entries = filler.clone();
        entries.push((key.clone(), stored.clone()));
        let (root, proofs) = testkit::build_with_proofs(&entries, std::slice::from_ref(&key));
        let err = mpt::verify_storage(&root, &slot, &proofs[0]).unwrap_err();
        assert_eq!(err.name(), name, "stored {}", hex::encode(&stored));
    }
}

#[test]
fn bounds_are_named_errors() {
    let f = testkit::storage_fixture(5, 20, 1);
    let too_many: Vec<Vec<u8>> = vec![vec![0xc0]; MAX_PROOF_NODES + 1];
    assert_eq!(
        mpt::verify_storage(&f.storage_root, &f.slot, &too_many).unwrap_err(),
        MptError::TooManyNodes {
            got: MAX_PROOF_NODES + 1,
            max: MAX_PROOF_NODES
        }
    );
    let huge = vec![vec![0u8; mpt::MAX_PROOF_BYTES + 1]];
    assert_eq!(
        mpt::verify_storage(&f.storage_root, &f.slot, &huge)
            .unwrap_err()
            .name(),
        "too_large"
    );
    assert_eq!(
        mpt::verify_proof(&f.storage_root, &[0u8; 33], &f.proof)
            .unwrap_err()
            .name(),
        "key_too_long"
    );
    assert_eq!(
        mpt::verify_proof_with_alloy(&f.storage_root, &[0u8; 33], None, &f.proof)
            .unwrap_err()
            .name(),
        "key_too_long"
    );
}

/// alloy-trie 0.9.9 panics when a walk passes 64 nibbles; ours answers (the key is absent)
/// and the alloy wrapper turns the panic into an error.
#[test]
fn overlong_paths_do_not_panic() {
    let mut hp = vec![0x20];
    hp.extend_from_slice(&[0x11; 32]); // a 64-nibble leaf path below a branch
    let leaf = rlp_list(&[rlp_str(&hp), rlp_str(&[1; 40])]);
    let mut items = vec![vec![0x80]; 17];
    items[0] = rlp_str(keccak256(&leaf).as_slice());
    let branch = rlp_list(&items);
    let root = keccak256(&branch).0;
    let key = [0x01; 32];
    let proof = vec![branch.clone(), leaf.clone()];
    assert_eq!(mpt::verify_proof(&root, &key, &proof).unwrap(), None);
    let err = mpt::verify_proof_with_alloy(&root, &key, None, &to_bytes(&proof)).unwrap_err();
    assert_eq!(err.name(), "invalid_node");
}

#[test]
fn testkit_is_deterministic() {
    let a = testkit::storage_fixture(11, 200, 17);
    let b = testkit::storage_fixture(11, 200, 17);
    assert_eq!(a.storage_root, b.storage_root);
    assert_eq!(a.proof, b.proof);
    assert_ne!(
        a.storage_root,
        testkit::storage_fixture(12, 200, 17).storage_root
    );
    let entries: Vec<(Vec<u8>, Vec<u8>)> = testkit::storage_entries(11, 200)
        .into_iter()
        .map(|(s, v)| {
            (
                keccak256(s).to_vec(),
                alloy_rlp::encode(U256::from_be_bytes(v)),
            )
        })
        .collect();
    assert_eq!(testkit::reference_root(&entries), a.storage_root);
}

/// The one shape where alloy is looser: an absence proof that diverges inside an extension,
/// followed by the extension's child. Ours refuses the unused node.
#[test]
fn unused_node_after_extension_divergence_is_extra_node() {
    let entries: Vec<(Vec<u8>, Vec<u8>)> = (1..=4u8)
        .map(|i| (vec![0xaa, 0xaa, i], vec![i; 40]))
        .collect();
    let root = testkit::reference_root(&entries);
    let present = testkit::reference_proof(&entries, &[0xaa, 0xaa, 1]);
    let absent = testkit::reference_proof(&entries, &[0xbb, 0x00, 0x00]);
    assert_eq!(absent.len(), 1, "the root extension alone proves absence");
    assert_eq!(
        mpt::verify_proof(&root, &[0xbb, 0, 0], &absent).unwrap(),
        None
    );
    let mut padded = absent.clone();
    padded.push(present[1].clone());
    assert_eq!(
        mpt::verify_proof(&root, &[0xbb, 0, 0], &padded).unwrap_err(),
        MptError::ExtraNode { index: 1 }
    );
    // alloy-trie 0.9 accepts the padded proof (documented in the module header).
    assert!(mpt::verify_proof_with_alloy(&root, &[0xbb, 0, 0], None, &to_bytes(&padded)).is_ok());
}
