//! Real vectors: EIP-1186 proofs captured from go-ethereum (execution-apis), the receipts and
//! transactions tries of block 3 rebuilt from the raw block, and the ethereum-tests trie roots.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use alloy_primitives::{keccak256, Bytes, U256};
use alloy_rlp::Header;
use junction_light_clients::evm::mpt::{
    self, testkit, Account, EvmPath, EvmProof, MptError, EMPTY_ROOT,
};
use junction_light_clients::NamedError;
use serde_json::Value;
use std::path::Path;

fn unhex(s: &str) -> Vec<u8> {
    let s = s.strip_prefix("0x").unwrap_or(s);
    let s = if s.len() % 2 == 1 {
        format!("0{s}")
    } else {
        s.to_string()
    };
    hex::decode(s).unwrap()
}

fn word(s: &str) -> [u8; 32] {
    let b = unhex(s);
    assert!(b.len() <= 32, "{s} wider than a word");
    let mut w = [0u8; 32];
    w[32 - b.len()..].copy_from_slice(&b);
    w
}

/// The JSON response (`<< ...` line) of a captured `.io` exchange.
fn response(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap();
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix("<< "))
        .unwrap_or_else(|| panic!("{}: no response line", path.display()));
    serde_json::from_str(line).unwrap()
}

fn hex_list(v: &Value) -> Vec<Vec<u8>> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| unhex(x.as_str().unwrap()))
        .collect()
}

/// Items of an RLP list (each item's full encoding).
fn rlp_items(mut buf: &[u8]) -> Vec<&[u8]> {
    let h = Header::decode(&mut buf).unwrap();
    assert!(h.list);
    let mut payload = &buf[..h.payload_length];
    let mut out = Vec::new();
    while !payload.is_empty() {
        let start = payload;
        let h = Header::decode(&mut payload).unwrap();
        payload = &payload[h.payload_length..];
        out.push(&start[..start.len() - payload.len()]);
    }
    out
}

fn rlp_bytes(mut item: &[u8]) -> Vec<u8> {
    Header::decode_bytes(&mut item, false).unwrap().to_vec()
}

#[test]
fn eip1186_proofs_verify_against_block_54_state_root() {
    let Some(dir) = common::vector_path("ethereum-mpt/execution-apis") else {
        return;
    };
    let latest = response(&dir.join("eth_getBlockByNumber/get-latest.io"));
    let state_root = word(latest["result"]["stateRoot"].as_str().unwrap());
    assert_eq!(latest["result"]["number"], "0x36");
    let mut checked = 0;
    for name in [
        "get-account-proof-latest.io",
        "get-account-proof-default-block.io",
        "get-account-proof-blockhash.io",
        "get-account-proof-with-storage.io",
    ] {
        let path = dir.join("eth_getProof").join(name);
        let r = &response(&path)["result"];
        let address: [u8; 20] = unhex(r["address"].as_str().unwrap()).try_into().unwrap();
        let proof = hex_list(&r["accountProof"]);
        let account = mpt::verify_account(&state_root, &address, &proof)
            .unwrap_or_else(|e| panic!("{name}: {e}"))
            .unwrap_or_else(|| panic!("{name}: account proven absent"));
        let expected = Account {
            nonce: u64::from_str_radix(r["nonce"].as_str().unwrap().trim_start_matches("0x"), 16)
                .unwrap(),
            balance: U256::from_be_bytes(word(r["balance"].as_str().unwrap())),
            storage_root: word(r["storageHash"].as_str().unwrap()),
            code_hash: word(r["codeHash"].as_str().unwrap()),
        };
        assert_eq!(account, expected, "{name}");

        // The alloy reference agrees on the same nodes.
        let bytes: Vec<Bytes> = proof.iter().cloned().map(Bytes::from).collect();
        mpt::verify_proof_with_alloy(
            &state_root,
            keccak256(address).as_slice(),
            Some(&account.encode()),
            &bytes,
        )
        .unwrap_or_else(|e| panic!("{name}: alloy refused: {e}"));

        // The client API: the account as membership.
        let evm_proof = EvmProof {
            account_proof: proof.clone(),
            ..EvmProof::default()
        };
        mpt::verify_state(
            &state_root,
            &EMPTY_ROOT,
            &EvmPath::Account { address },
            &account.encode(),
            &evm_proof,
        )
        .unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut other = expected.clone();
        other.balance += U256::from(1);
        let err = mpt::verify_state(
            &state_root,
            &EMPTY_ROOT,
            &EvmPath::Account { address },
            &other.encode(),
            &evm_proof,
        )
        .unwrap_err();
        assert_eq!(err, MptError::ValueMismatch, "{name}");

        for sp in r["storageProof"].as_array().unwrap() {
            let slot = word(sp["key"].as_str().unwrap());
            let value = word(sp["value"].as_str().unwrap());
            let sproof = hex_list(&sp["proof"]);
            let got = mpt::verify_storage(&account.storage_root, &slot, &sproof)
                .unwrap_or_else(|e| panic!("{name}: storage: {e}"));
            assert_eq!(got, value, "{name}: storage value");
            assert_eq!(value[31], 0x38);
            let sbytes: Vec<Bytes> = sproof.iter().cloned().map(Bytes::from).collect();
            mpt::check_storage_with_alloy(&account.storage_root, &slot, &value, &sbytes)
                .unwrap_or_else(|e| panic!("{name}: alloy storage: {e}"));
            let full = EvmProof {
                account_proof: proof.clone(),
                storage_proof: sproof.clone(),
                receipt_proof: Vec::new(),
            };
            let path = EvmPath::Storage { address, slot };
            mpt::verify_state(&state_root, &EMPTY_ROOT, &path, &value, &full)
                .unwrap_or_else(|e| panic!("{name}: verify_state: {e}"));
            let mut wrong = value;
            wrong[31] ^= 1;
            assert_eq!(
                mpt::verify_state(&state_root, &EMPTY_ROOT, &path, &wrong, &full).unwrap_err(),
                MptError::ValueMismatch
            );
            assert_eq!(
                mpt::verify_state_absent(&state_root, &EMPTY_ROOT, &path, &full).unwrap_err(),
                MptError::ValueMismatch,
                "a present slot is not absent"
            );
            checked += 1;
        }
        checked += 1;
    }
    assert_eq!(checked, 5, "4 account proofs and 1 storage proof");
}

/// Block 3 from the captures: header roots, raw receipts and raw transactions.
struct Block3 {
    transactions_root: [u8; 32],
    receipts_root: [u8; 32],
    receipts: Vec<Vec<u8>>,
    transactions: Vec<Vec<u8>>,
}

fn block3(dir: &Path) -> Block3 {
    let header = unhex(
        response(&dir.join("debug_getRawHeader/get-block-n.io"))["result"]
            .as_str()
            .unwrap(),
    );
    let fields = rlp_items(&header);
    assert_eq!(rlp_bytes(fields[8]), vec![3], "header is block 3");
    let transactions_root: [u8; 32] = rlp_bytes(fields[4]).try_into().unwrap();
    let receipts_root: [u8; 32] = rlp_bytes(fields[5]).try_into().unwrap();
    let receipts = hex_list(&response(&dir.join("debug_getRawReceipts/get-block-n.io"))["result"]);
    let block = unhex(
        response(&dir.join("debug_getRawBlock/get-block-n.io"))["result"]
            .as_str()
            .unwrap(),
    );
    let parts = rlp_items(&block);
    assert_eq!(parts[0], &header[..], "raw block carries the raw header");
    // A legacy transaction is stored as its RLP list, a typed one as the string's payload.
    let transactions = rlp_items(parts[1])
        .into_iter()
        .map(|t| {
            if t[0] >= 0xc0 {
                t.to_vec()
            } else {
                rlp_bytes(t)
            }
        })
        .collect();
    Block3 {
        transactions_root,
        receipts_root,
        receipts,
        transactions,
    }
}

#[test]
fn block_3_receipts_trie_rebuilds_header_root_and_every_receipt_proof_verifies() {
    let Some(dir) = common::vector_path("ethereum-mpt/execution-apis") else {
        return;
    };
    let b = block3(&dir);
    assert_eq!(b.receipts.len(), 3);
    let (root, proofs) = testkit::ordered_with_proofs(&b.receipts);
    assert_eq!(root, b.receipts_root, "HashBuilder receipts root");
    let entries: Vec<(Vec<u8>, Vec<u8>)> = b
        .receipts
        .iter()
        .enumerate()
        .map(|(i, r)| (testkit::key_of(i as u64), r.clone()))
        .collect();
    assert_eq!(
        testkit::reference_root(&entries),
        b.receipts_root,
        "our recursive builder agrees"
    );
    for (i, proof) in proofs.iter().enumerate() {
        let got = mpt::verify_receipt(&root, i as u64, proof).unwrap();
        assert_eq!(got.as_deref(), Some(&b.receipts[i][..]), "receipt {i}");
        mpt::verify_proof_with_alloy(
            &root,
            &testkit::key_of(i as u64),
            Some(&b.receipts[i]),
            proof,
        )
        .unwrap();
        let p = EvmProof {
            receipt_proof: proof.iter().map(|n| n.to_vec()).collect(),
            ..EvmProof::default()
        };
        let path = EvmPath::Receipt { index: i as u64 };
        mpt::verify_state(&[1; 32], &root, &path, &b.receipts[i], &p).unwrap();
        let mut other = b.receipts[i].clone();
        let last = other.len() - 1;
        other[last] ^= 1;
        assert_eq!(
            mpt::verify_state(&[1; 32], &root, &path, &other, &p).unwrap_err(),
            MptError::ValueMismatch
        );
        // The proof of receipt i does not prove another position.
        let j = (i as u64 + 1) % 3;
        let err = mpt::verify_state(
            &[1; 32],
            &root,
            &EvmPath::Receipt { index: j },
            &b.receipts[j as usize],
            &p,
        )
        .unwrap_err();
        assert!(
            matches!(
                err,
                MptError::ValueMismatch
                    | MptError::MissingNode { .. }
                    | MptError::NodeHashMismatch { .. }
            ),
            "receipt {i} as {j}: {}",
            err.name()
        );
    }
    // Position 3 does not exist: an absence proof from the same trie.
    let absent = testkit::reference_proof(&entries, &testkit::key_of(3));
    assert_eq!(mpt::verify_receipt(&root, 3, &absent).unwrap(), None);
    let p = EvmProof {
        receipt_proof: absent.clone(),
        ..EvmProof::default()
    };
    mpt::verify_state_absent(&[1; 32], &root, &EvmPath::Receipt { index: 3 }, &p).unwrap();
}

#[test]
fn block_3_transactions_trie_rebuilds_header_root() {
    let Some(dir) = common::vector_path("ethereum-mpt/execution-apis") else {
        return;
    };
    let b = block3(&dir);
    assert_eq!(b.transactions.len(), b.receipts.len());
    let (root, proofs) = testkit::ordered_with_proofs(&b.transactions);
    assert_eq!(root, b.transactions_root);
    for (i, proof) in proofs.iter().enumerate() {
        let got = mpt::verify_transaction(&root, i as u64, proof).unwrap();
        assert_eq!(got.as_deref(), Some(&b.transactions[i][..]), "tx {i}");
    }
}

fn parse_str(s: &str) -> Vec<u8> {
    if s.starts_with("0x") {
        unhex(s)
    } else {
        s.as_bytes().to_vec()
    }
}

/// One trie test: name, entries in order, expected root.
type TrieCase = (String, Vec<(Vec<u8>, Vec<u8>)>, [u8; 32]);

fn trie_cases(file: &Path) -> Vec<TrieCase> {
    let json: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    let mut out = Vec::new();
    for (name, case) in json.as_object().unwrap() {
        let entries: Vec<(Vec<u8>, Vec<u8>)> = match &case["in"] {
            Value::Array(list) => list
                .iter()
                .map(|kv| {
                    let k = parse_str(kv[0].as_str().unwrap());
                    let v = kv[1].as_str().map(parse_str).unwrap_or_default();
                    (k, v)
                })
                .collect(),
            Value::Object(map) => map
                .iter()
                .map(|(k, v)| (parse_str(k), v.as_str().map(parse_str).unwrap_or_default()))
                .collect(),
            other => panic!("{name}: unexpected `in` {other}"),
        };
        out.push((name.clone(), entries, word(case["root"].as_str().unwrap())));
    }
    out
}

#[test]
fn ethereum_tests_trie_roots_and_proofs_of_every_key() {
    let Some(dir) = common::vector_path("ethereum-mpt/ethereum-tests/TrieTests") else {
        return;
    };
    let files = [
        ("trietest.json", false),
        ("trieanyorder.json", false),
        ("trietest_secureTrie.json", true),
        ("trieanyorder_secureTrie.json", true),
        ("hex_encoded_securetrie_test.json", true),
    ];
    let mut cases = 0;
    let mut proofs = 0;
    for (file, secure) in files {
        for (name, mut entries, root) in trie_cases(&dir.join(file)) {
            if secure {
                for (k, _) in entries.iter_mut() {
                    *k = keccak256(&k[..]).to_vec();
                }
            }
            let got = testkit::reference_root(&entries);
            assert_eq!(got, root, "{file}/{name}: root");
            cases += 1;
            // Final contents: last write wins, empty = deleted.
            let mut last = std::collections::BTreeMap::new();
            for (k, v) in &entries {
                last.insert(k.clone(), v.clone());
            }
            for (k, v) in &last {
                let proof = testkit::reference_proof(&entries, k);
                let found = mpt::verify_proof(&root, k, &proof)
                    .unwrap_or_else(|e| panic!("{file}/{name}: key {}: {e}", hex::encode(k)));
                let want = (!v.is_empty()).then_some(&v[..]);
                assert_eq!(found, want, "{file}/{name}: key {}", hex::encode(k));
                proofs += 1;
            }
            // A key that is in no case (absence).
            let probe = keccak256(b"junction absent probe").to_vec();
            let proof = testkit::reference_proof(&entries, &probe);
            assert_eq!(
                mpt::verify_proof(&root, &probe, &proof).unwrap(),
                None,
                "{file}/{name}: absent probe"
            );
            // Where HashBuilder can build it (prefix-free keys), it gives the same root.
            let keys: Vec<&Vec<u8>> = last
                .iter()
                .filter(|(_, v)| !v.is_empty())
                .map(|(k, _)| k)
                .collect();
            let prefix_free = keys
                .iter()
                .all(|a| keys.iter().all(|b| a == b || !b.starts_with(a)) && a.len() <= 32);
            if prefix_free && !keys.is_empty() {
                let live: Vec<(Vec<u8>, Vec<u8>)> = last
                    .iter()
                    .filter(|(_, v)| !v.is_empty())
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                let (hb_root, _) = testkit::build_with_proofs(&live, &[]);
                assert_eq!(hb_root, root, "{file}/{name}: HashBuilder root");
            }
        }
    }
    assert!(cases >= 25, "only {cases} trie cases");
    println!("{cases} trie cases, {proofs} key proofs");
}
