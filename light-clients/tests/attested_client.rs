//! Attested headers: k-of-n attesters, continuity, the full-header check, misbehaviour.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use alloy_primitives::U256;
use junction_light_clients::evm::attested::testkit;
use junction_light_clients::evm::attested::{
    attest_from_rlp, attestation_digest, attestation_preimage, sign_attested_header,
    AttestedClient, AttestedError, AttestedHeader, AttestedMisbehaviour, AttesterRotation,
    AttesterSet, SignedAttestedHeader, ATTESTATION_PREIMAGE_LEN, DOMAIN_TAG, ROTATION_DOMAIN_TAG,
};
use junction_light_clients::evm::header::keccak256;
use junction_light_clients::evm::mpt::{EvmPath, EvmProof};
use junction_light_clients::{ClientStatus, LightClient, NamedError, Timestamp};

const CHAIN: u64 = 31337;
const T0: u64 = 1_700_000_000;

fn now() -> Timestamp {
    Timestamp::from_secs(T0 + 100)
}

fn genesis() -> AttestedHeader {
    testkit::signed_attested_header(CHAIN, 0, 0, [0u8; 32], T0).header
}

fn client(n: usize, k: usize) -> AttestedClient {
    AttestedClient::new(
        testkit::config(CHAIN),
        testkit::attester_set(n, k).unwrap(),
        &genesis(),
    )
    .unwrap()
}

fn next(signers: usize) -> SignedAttestedHeader {
    testkit::signed_attested_header(CHAIN, signers, 1, genesis().hash, T0 + 1)
}

fn name<T: std::fmt::Debug>(r: Result<T, AttestedError>) -> &'static str {
    r.unwrap_err().name()
}

#[test]
fn threshold_must_be_between_one_and_n() {
    assert_eq!(name(testkit::attester_set(3, 0)), "invalid_threshold");
    assert_eq!(name(testkit::attester_set(3, 4)), "invalid_threshold");
    assert_eq!(name(testkit::attester_set(0, 0)), "empty_attester_set");
    let a = testkit::address(&testkit::attester_key(1));
    assert_eq!(name(AttesterSet::new(vec![a, a], 1)), "duplicate_attester");
    for k in 1..=3 {
        assert_eq!(testkit::attester_set(3, k).unwrap().threshold(), k);
    }
}

#[test]
fn digest_is_the_documented_fixed_width_preimage() {
    let h = next(0).header;
    let pre = attestation_preimage(&h);
    assert_eq!(pre.len(), ATTESTATION_PREIMAGE_LEN);
    assert_eq!(DOMAIN_TAG.len(), 31);
    assert_eq!(&pre[..31], b"junction/evm-attested-header/v1");
    assert_eq!(&pre[31..39], &CHAIN.to_be_bytes());
    assert_eq!(&pre[39..47], &1u64.to_be_bytes());
    assert_eq!(&pre[47..79], &h.hash);
    assert_eq!(&pre[79..111], &h.parent_hash);
    assert_eq!(&pre[111..143], &h.state_root);
    assert_eq!(&pre[143..175], &h.receipts_root);
    assert_eq!(&pre[175..183], &(T0 + 1).to_be_bytes());
    assert_eq!(attestation_digest(&h), keccak256(&pre));
}

#[test]
fn threshold_of_distinct_attesters_is_accepted() {
    let mut c = client(5, 3);
    let v = c.verify_header(&next(3), now()).unwrap();
    assert_eq!(v.signers.len(), 3);
    c.apply_header(v);
    assert_eq!(c.latest_height(), 1);
    let st = c.consensus_state(1).unwrap();
    assert_eq!(st.hash, next(0).header.hash);
}

#[test]
fn fewer_than_threshold_is_refused() {
    let c = client(5, 3);
    match c.verify_header(&next(2), now()) {
        Err(AttestedError::InsufficientSignatures { got: 2, need: 3 }) => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn duplicate_attester_signature_is_not_counted_twice() {
    let c = client(5, 3);
    let mut s = next(2);
    let again = s.signatures[0];
    s.signatures.push(again);
    assert_eq!(name(c.verify_header(&s, now())), "duplicate_signer");
}

#[test]
fn outsider_signature_is_refused() {
    let c = client(3, 2);
    let mut s = next(2);
    s.signatures
        .push(testkit::sign(&testkit::attester_key(99), &s.header));
    assert_eq!(name(c.verify_header(&s, now())), "signer_not_attester");
}

#[test]
fn signature_over_other_fields_is_refused() {
    // Signed for another chain id: the digest differs, so the signer is someone else.
    let c = client(3, 2);
    let mut s = next(0);
    let mut other = s.header;
    other.chain_id = 1;
    s.signatures = testkit::attester_keys(2)
        .iter()
        .map(|k| testkit::sign(k, &other))
        .collect();
    assert_eq!(name(c.verify_header(&s, now())), "signer_not_attester");
    // And a header claiming another chain is refused before signatures are looked at.
    let wrong = testkit::signed_attested_header(1, 2, 1, genesis().hash, T0 + 1);
    assert_eq!(name(c.verify_header(&wrong, now())), "wrong_chain");
}

#[test]
fn sign_attested_header_is_low_s_with_v_27_or_28_and_recovers_the_attester() {
    let half_order = U256::from_str_radix(
        "7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0",
        16,
    )
    .unwrap();
    let header = genesis();
    for seed in 0..16 {
        let key = testkit::attester_key(seed);
        let sig = sign_attested_header(&key, &header).unwrap();
        assert!(matches!(sig[64], 27 | 28), "v = {}", sig[64]);
        assert!(U256::from_be_slice(&sig[32..64]) <= half_order);
        let set = AttesterSet::new(vec![testkit::address(&key)], 1).unwrap();
        assert_eq!(
            set.verify(&header, &[sig]).unwrap(),
            vec![testkit::address(&key)]
        );
        assert_eq!(testkit::sign(&key, &header), sig);
    }
}

#[test]
fn high_s_and_legacy_v() {
    let order = U256::from_str_radix(
        "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141",
        16,
    )
    .unwrap();
    let c = client(3, 2);
    let mut s = next(2);
    // The kit signs with v = 27/28 (eth_sign convention); v = 0/1 is accepted too.
    assert!(matches!(s.signatures[0][64], 27 | 28));
    s.signatures[0][64] -= 27;
    c.verify_header(&s, now()).unwrap();
    let mut s = next(2);
    let sv = U256::from_be_slice(&s.signatures[0][32..64]);
    s.signatures[0][32..64].copy_from_slice(&(order - sv).to_be_bytes::<32>());
    // The twin signature: negated S, flipped parity (27 <-> 28).
    s.signatures[0][64] = if s.signatures[0][64] == 27 { 28 } else { 27 };
    assert_eq!(name(c.verify_header(&s, now())), "high_s");
    let mut s = next(2);
    s.signatures[1][64] = 5;
    assert_eq!(name(c.verify_header(&s, now())), "bad_recovery_id");
}

#[test]
fn sequence_parent_and_time_rules() {
    let c = client(3, 2);
    // Attested headers may skip ahead (the parent link is checked only when adjacent)...
    let skip = testkit::signed_attested_header(CHAIN, 2, 2, [7u8; 32], T0 + 2);
    assert!(c.verify_header(&skip, now()).is_ok());
    // ...but never go back to, or stay at, the trusted height.
    let same = testkit::signed_attested_header(CHAIN, 2, 0, [0u8; 32], T0 + 2);
    assert_eq!(name(c.verify_header(&same, now())), "non_sequential_height");
    let orphan = testkit::signed_attested_header(CHAIN, 2, 1, [7u8; 32], T0 + 1);
    assert_eq!(
        name(c.verify_header(&orphan, now())),
        "parent_hash_mismatch"
    );
    let stale = testkit::signed_attested_header(CHAIN, 2, 1, genesis().hash, T0);
    assert_eq!(
        name(c.verify_header(&stale, now())),
        "timestamp_not_increasing"
    );
    let future = testkit::signed_attested_header(CHAIN, 2, 1, genesis().hash, T0 + 116);
    assert_eq!(name(c.verify_header(&future, now())), "timestamp_in_future");
    let late = Timestamp::from_secs(T0 + 86_401);
    assert_eq!(c.status(late), ClientStatus::Expired);
    assert_eq!(name(c.verify_header(&next(2), late)), "client_expired");
}

fn full_header_rlp(parent: [u8; 32], number: u64, ts: u64) -> Vec<u8> {
    let spec = junction_light_clients::evm::qbft::testkit::HeaderSpec::new(
        number,
        parent,
        ts,
        vec![[1u8; 20]],
    );
    junction_light_clients::evm::qbft::testkit::unsealed(&spec)
        .0
        .encode()
}

#[test]
fn full_header_must_hash_to_the_attested_hash_and_match_its_fields() {
    let c = client(3, 2);
    let rlp = full_header_rlp(genesis().hash, 1, T0 + 1);
    let header = attest_from_rlp(CHAIN, &rlp).unwrap();
    assert_eq!(header.hash, keccak256(&rlp));
    let sign = |h: &AttestedHeader| {
        testkit::attester_keys(2)
            .iter()
            .map(|k| testkit::sign(k, h))
            .collect::<Vec<_>>()
    };
    let ok = SignedAttestedHeader {
        header,
        signatures: sign(&header),
        full_header: Some(rlp.clone()),
    };
    c.verify_header(&ok, now()).unwrap();
    // Another header's RLP under the same attestation.
    let other = full_header_rlp(genesis().hash, 1, T0 + 2);
    let bad = SignedAttestedHeader {
        full_header: Some(other),
        ..ok.clone()
    };
    assert_eq!(
        name(c.verify_header(&bad, now())),
        "full_header_hash_mismatch"
    );
    // Attested fields that lie about the (correctly hashed) header.
    let mut lying = header;
    lying.state_root[0] ^= 1;
    let bad = SignedAttestedHeader {
        header: lying,
        signatures: sign(&lying),
        full_header: Some(rlp.clone()),
    };
    assert_eq!(
        name(c.verify_header(&bad, now())),
        "full_header_field_mismatch"
    );
    // Garbage RLP.
    let bad = SignedAttestedHeader {
        full_header: Some(vec![0xc0]),
        ..ok
    };
    assert_eq!(name(c.verify_header(&bad, now())), "missing_field");
}

#[test]
fn conflicting_attested_headers_freeze_the_client() {
    let mut c = client(3, 2);
    let a = next(2);
    let b = testkit::signed_attested_header(CHAIN, 2, 1, [5u8; 32], T0 + 1);
    assert_ne!(a.header.hash, b.header.hash);
    let h = c
        .verify_misbehaviour(
            &AttestedMisbehaviour {
                a: a.clone(),
                b: b.clone(),
            },
            now(),
        )
        .unwrap();
    assert_eq!(h, 1);
    let same = AttestedMisbehaviour {
        a: a.clone(),
        b: a.clone(),
    };
    assert_eq!(
        name(c.verify_misbehaviour(&same, now())),
        "misbehaviour_same_header"
    );
    // One attester who signed both headers is at fault on its own.
    let one = |s: &SignedAttestedHeader, seed: u64| SignedAttestedHeader {
        signatures: vec![testkit::sign(&testkit::attester_key(seed), &s.header)],
        ..s.clone()
    };
    assert_eq!(
        c.verify_misbehaviour(
            &AttestedMisbehaviour {
                a: one(&a, 0),
                b: one(&b, 0),
            },
            now(),
        ),
        Ok(1)
    );
    // Fewer than k on one side and no attester on both: nobody is shown at fault.
    assert_eq!(
        name(c.verify_misbehaviour(
            &AttestedMisbehaviour {
                a: one(&a, 0),
                b: one(&b, 1)
            },
            now()
        )),
        "insufficient_signatures"
    );
    c.freeze(h);
    assert_eq!(c.status(now()), ClientStatus::Frozen { height: 1 });
    assert_eq!(name(c.verify_header(&a, now())), "client_frozen");
    assert_eq!(
        name(c.verify_membership(
            0,
            &EvmPath::Receipt { index: 0 },
            b"v",
            &EvmProof::default()
        )),
        "client_frozen"
    );
}

#[test]
fn storage_membership_is_proven_through_the_clients_verified_state_root() {
    // The real eth_getProof capture (block 54) against an attested header carrying its root.
    let Some(dir) = common::vector_path("ethereum-mpt/execution-apis") else {
        return;
    };
    let read = |rel: &str| -> serde_json::Value {
        let text = std::fs::read_to_string(dir.join(rel)).unwrap();
        let line = text.lines().find(|l| l.starts_with("<<")).unwrap();
        serde_json::from_str(line.trim_start_matches("<<").trim()).unwrap()
    };
    let word = |v: &serde_json::Value| -> [u8; 32] {
        let h = v.as_str().unwrap().trim_start_matches("0x");
        let mut out = [0u8; 32];
        let raw = hex::decode(format!("{h:0>64}")).unwrap();
        out.copy_from_slice(&raw);
        out
    };
    let nodes = |v: &serde_json::Value| -> Vec<Vec<u8>> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|n| hex::decode(n.as_str().unwrap().trim_start_matches("0x")).unwrap())
            .collect()
    };
    let latest = read("eth_getBlockByNumber/get-latest.io");
    let r = read("eth_getProof/get-account-proof-with-storage.io")["result"].clone();
    let mut trusted = genesis();
    trusted.state_root = word(&latest["result"]["stateRoot"]);
    let c = AttestedClient::new(
        testkit::config(CHAIN),
        testkit::attester_set(3, 2).unwrap(),
        &trusted,
    )
    .unwrap();
    let address: [u8; 20] = hex::decode(r["address"].as_str().unwrap().trim_start_matches("0x"))
        .unwrap()
        .try_into()
        .unwrap();
    let sp = &r["storageProof"][0];
    let path = EvmPath::Storage {
        address,
        slot: word(&sp["key"]),
    };
    let proof = EvmProof {
        account_proof: nodes(&r["accountProof"]),
        storage_proof: nodes(&sp["proof"]),
        receipt_proof: Vec::new(),
    };
    let value = word(&sp["value"]);
    c.verify_membership(0, &path, &value, &proof).unwrap();
    let mut wrong = value;
    wrong[31] ^= 1;
    assert_eq!(
        name(c.verify_membership(0, &path, &wrong, &proof)),
        "value_mismatch"
    );
    assert_eq!(
        name(c.verify_non_membership(0, &path, &proof)),
        "value_mismatch"
    );
    assert_eq!(
        name(c.verify_membership(9, &path, &value, &proof)),
        "unknown_height"
    );
    // The same proof against a header whose root differs is refused at the root.
    let other = client(3, 2);
    assert_eq!(
        name(other.verify_membership(0, &path, &value, &proof)),
        "root_mismatch"
    );
}

#[test]
fn every_byte_flip_of_a_signature_is_refused() {
    let c = client(3, 3);
    let s = next(3);
    c.verify_header(&s, now()).unwrap();
    for i in 0..3 {
        for j in 0..65 {
            let mut m = s.clone();
            m.signatures[i][j] ^= 0x01;
            assert!(
                c.verify_header(&m, now()).is_err(),
                "flip sig {i} byte {j} accepted"
            );
        }
    }
}

fn rotation(old: u64, new: u64, nonce: u64) -> AttesterRotation {
    AttesterRotation {
        hub_chain: "junction-local".into(),
        chain: "evm-a".into(),
        old: testkit::address(&testkit::attester_key(old)),
        new: testkit::address(&testkit::attester_key(new)),
        account: [7; 32],
        nonce,
    }
}

fn signed_by(r: &AttesterRotation, old: u64, new: u64) -> ([u8; 65], [u8; 65]) {
    (
        r.sign(&testkit::attester_key(old)).unwrap(),
        r.sign(&testkit::attester_key(new)).unwrap(),
    )
}

#[test]
fn rotation_digest_is_the_documented_preimage() {
    let r = rotation(0, 9, 5);
    let pre = r.preimage();
    let mut want = ROTATION_DOMAIN_TAG.to_vec();
    assert_eq!(ROTATION_DOMAIN_TAG.len(), 33);
    want.extend_from_slice(&14u16.to_be_bytes());
    want.extend_from_slice(b"junction-local");
    want.extend_from_slice(&5u16.to_be_bytes());
    want.extend_from_slice(b"evm-a");
    want.extend_from_slice(&r.old);
    want.extend_from_slice(&r.new);
    want.extend_from_slice(&[7; 32]);
    want.extend_from_slice(&5u64.to_be_bytes());
    assert_eq!(pre, want);
    assert_eq!(r.digest(), keccak256(&want));
    // Every bound field changes the digest: a signature is for one hub, chain, pair of
    // keys, account and nonce.
    let others = [
        AttesterRotation {
            hub_chain: "junction-other".into(),
            ..r.clone()
        },
        AttesterRotation {
            chain: "evm-b".into(),
            ..r.clone()
        },
        rotation(1, 9, 5),
        rotation(0, 8, 5),
        AttesterRotation {
            account: [8; 32],
            ..r.clone()
        },
        rotation(0, 9, 6),
    ];
    for o in others {
        assert_ne!(o.digest(), r.digest(), "{o:?}");
    }
}

#[test]
fn an_attester_rotates_its_key_signed_by_both_keys_and_the_client_keeps_its_states() {
    let mut c = client(3, 2);
    let v = c.verify_header(&next(2), now()).unwrap();
    c.apply_header(v);
    let r = rotation(1, 9, 0);
    let (old_sig, new_sig) = signed_by(&r, 1, 9);
    c.rotate_attester(&r, &old_sig, &new_sig).unwrap();
    let set = c.attester_set();
    assert_eq!(set.threshold(), 2);
    assert_eq!(set.attesters().len(), 3);
    assert_eq!(
        set.attesters()[1],
        r.new,
        "the new key takes the old one's place"
    );
    assert!(!set.attesters().contains(&r.old));
    assert_eq!(
        c.latest_height(),
        1,
        "the rotation keeps the client's states"
    );
    // The old key signs nothing that counts any more; the new key does.
    let h2 = testkit::signed_attested_header(CHAIN, 0, 2, next(0).header.hash, T0 + 2).header;
    let by = |seeds: &[u64]| SignedAttestedHeader {
        header: h2,
        signatures: seeds
            .iter()
            .map(|s| testkit::sign(&testkit::attester_key(*s), &h2))
            .collect(),
        full_header: None,
    };
    assert_eq!(
        name(c.verify_header(&by(&[0, 1]), now())),
        "signer_not_attester"
    );
    let v = c.verify_header(&by(&[0, 9]), now()).unwrap();
    c.apply_header(v);
    assert_eq!(c.latest_height(), 2);
}

#[test]
fn a_rotation_is_refused_by_name_unless_both_keys_sign_it_and_the_set_stays_distinct() {
    let c = client(3, 2);
    let set = c.attester_set();
    let r = rotation(1, 9, 0);
    let (old_sig, new_sig) = signed_by(&r, 1, 9);
    // Someone without the old key cannot take its seat.
    let (forged_old, _) = signed_by(&r, 5, 9);
    match set.rotated(&r, &forged_old, &new_sig) {
        Err(AttestedError::RotationSignerMismatch { key, expected, got }) => {
            assert_eq!((key, expected), ("old", r.old));
            assert_eq!(got, testkit::address(&testkit::attester_key(5)));
        }
        other => panic!("{other:?}"),
    }
    // A seat cannot be moved onto an address whose key the mover lacks.
    let (_, forged_new) = signed_by(&r, 1, 5);
    match set.rotated(&r, &old_sig, &forged_new) {
        Err(AttestedError::RotationSignerMismatch { key, .. }) => assert_eq!(key, "new"),
        other => panic!("{other:?}"),
    }
    // Signatures of another rotation (another nonce: a replay) do not fit this one.
    let replay = rotation(1, 9, 1);
    assert_eq!(
        name(set.rotated(&replay, &old_sig, &new_sig)),
        "rotation_signer_mismatch"
    );
    // Onto another attester's address: k of n would no longer be k distinct attesters.
    let onto = rotation(1, 2, 0);
    let (a, b) = signed_by(&onto, 1, 2);
    match set.rotated(&onto, &a, &b) {
        Err(AttestedError::DuplicateAttester { attester }) => assert_eq!(attester, onto.new),
        other => panic!("{other:?}"),
    }
    // From an address that holds no seat.
    let outsider = rotation(7, 9, 0);
    let (a, b) = signed_by(&outsider, 7, 9);
    match set.rotated(&outsider, &a, &b) {
        Err(AttestedError::UnknownAttester { attester }) => assert_eq!(attester, outsider.old),
        other => panic!("{other:?}"),
    }
    // Bytes that are no signature at all.
    assert_eq!(
        name(set.rotated(&r, &[0u8; 65], &new_sig)),
        "invalid_signature"
    );
    assert!(set.rotated(&r, &old_sig, &new_sig).is_ok());
}

#[test]
fn a_frozen_client_takes_no_rotation() {
    let mut c = client(3, 2);
    c.freeze(0);
    let r = rotation(1, 9, 0);
    let (a, b) = signed_by(&r, 1, 9);
    assert_eq!(name(c.rotate_attester(&r, &a, &b)), "client_frozen");
}
