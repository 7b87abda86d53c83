//! Hub checkpoints: attestation-set signatures, set changes, misbehaviour, RFC 6962 log
//! proofs, byte-flip mutations.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use junction_light_clients::hub::{self, testkit, CheckpointMisbehaviour, HubClient, HubError};
use junction_light_clients::{ClientStatus, LightClient, NamedError, Timestamp};
use junction_spec::attestation::{AttestationSet, Attester};
use junction_spec::encoding::Encode;
use junction_spec::merkle::{consistency_proof, inclusion_proof, leaf_hash, root_from_leaf_hashes};
use junction_spec::{ChainId, Checkpoint, Hash32};
use k256::ecdsa::SigningKey;

const NOW: Timestamp = Timestamp(0);

fn chain() -> ChainId {
    ChainId::new("junction-1").unwrap()
}

struct Fixture {
    client: HubClient,
    set: AttestationSet,
    keys: Vec<SigningKey>,
}

fn fixture(n: usize) -> Fixture {
    let (set, keys) = testkit::attestation_set(n, 1).unwrap();
    let h = set.hash();
    let genesis = testkit::checkpoint(&chain(), 10, 0, junction_spec::merkle::empty_root(), h, h);
    let client = HubClient::new(genesis, set.clone(), None).unwrap();
    Fixture { client, set, keys }
}

fn next_cp(f: &Fixture, height: u64) -> Checkpoint {
    let h = f.set.hash();
    testkit::checkpoint(&chain(), height, 5, [7; 32], h, h)
}

fn err_name(r: Result<impl std::fmt::Debug, HubError>) -> &'static str {
    r.unwrap_err().name()
}

#[test]
fn checkpoint_signed_by_the_whole_set_is_accepted_and_applied() {
    let mut f = fixture(4);
    let signed = testkit::sign_with(next_cp(&f, 11), &f.keys).unwrap();
    let v = f.client.verify_header(&signed, NOW).unwrap();
    f.client.apply_header(v);
    assert_eq!(f.client.latest_height(), 11);
    assert_eq!(f.client.status(NOW), ClientStatus::Active);
}

#[test]
fn exactly_two_thirds_of_power_is_refused() {
    // 3 attesters of power 10: two signers hold exactly 2/3 → not enough.
    let f = fixture(3);
    let signed = testkit::sign_with(next_cp(&f, 11), &f.keys[..2]).unwrap();
    let err = f.client.verify_header(&signed, NOW).unwrap_err();
    assert_eq!(
        err,
        HubError::InsufficientPower {
            got: 20,
            total: 30,
            need_more_than: 20
        }
    );
    // Three of four (30 of 40) is strictly more than 2/3.
    let f = fixture(4);
    let signed = testkit::sign_with(next_cp(&f, 11), &f.keys[..3]).unwrap();
    assert!(f.client.verify_header(&signed, NOW).is_ok());
    // No signature at all: zero power is never a quorum.
    let signed = testkit::sign_with(next_cp(&f, 11), &[]).unwrap();
    assert_eq!(
        err_name(f.client.verify_header(&signed, NOW)),
        "insufficient_power"
    );
}

#[test]
fn weighted_power_decides_not_signer_count() {
    let (set, keys) =
        testkit::attestation_set_with_powers(4, 2, |i| if i == 0 { 100 } else { 1 }).unwrap();
    let h = set.hash();
    let genesis = testkit::checkpoint(&chain(), 1, 0, [0; 32], h, h);
    let client = HubClient::new(genesis, set.clone(), None).unwrap();
    let heavy = keys
        .iter()
        .position(|k| set.power_of(&testkit::address_of(k)) == Some(100))
        .unwrap();
    let light: Vec<SigningKey> = keys
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != heavy)
        .map(|(_, k)| k.clone())
        .collect();
    let cp = testkit::checkpoint(&chain(), 2, 0, [0; 32], h, h);
    assert_eq!(
        err_name(client.verify_header(&testkit::sign_with(cp.clone(), &light).unwrap(), NOW)),
        "insufficient_power"
    );
    assert!(client
        .verify_header(
            &testkit::sign_with(cp, &[keys[heavy].clone()]).unwrap(),
            NOW
        )
        .is_ok());
}

#[test]
fn duplicate_signer_is_refused() {
    let f = fixture(4);
    let mut signed = testkit::sign_with(next_cp(&f, 11), &f.keys[..2]).unwrap();
    let dup = signed.signatures[0];
    signed.signatures.push(dup);
    assert_eq!(
        err_name(f.client.verify_header(&signed, NOW)),
        "duplicate_signer"
    );
    // The same signer with the other (v = 0/1) spelling of its recovery byte is still the
    // same signer.
    let mut signed = testkit::sign_with(next_cp(&f, 11), &f.keys[..3]).unwrap();
    let mut alt = signed.signatures[0];
    alt[64] -= 27;
    signed.signatures.push(alt);
    assert_eq!(
        err_name(f.client.verify_header(&signed, NOW)),
        "duplicate_signer"
    );
}

#[test]
fn signer_outside_the_set_is_refused() {
    let f = fixture(4);
    let outsider = testkit::attester_key(99, 0);
    let mut signers = f.keys[..3].to_vec();
    signers.push(outsider);
    let signed = testkit::sign_with(next_cp(&f, 11), &signers).unwrap();
    assert_eq!(
        err_name(f.client.verify_header(&signed, NOW)),
        "unknown_signer"
    );
}

#[test]
fn checkpoint_naming_another_set_is_refused() {
    let f = fixture(4);
    let (other, other_keys) = testkit::attestation_set(4, 7).unwrap();
    let oh = other.hash();
    // Signed by a different set that it names: the signer set is checked, not trusted.
    let cp = testkit::checkpoint(&chain(), 11, 5, [7; 32], oh, oh);
    let signed = testkit::sign_with(cp, &other_keys).unwrap();
    assert_eq!(
        err_name(f.client.verify_header(&signed, NOW)),
        "wrong_set_hash"
    );
    // The right set's signatures over a checkpoint naming another set.
    let h = f.set.hash();
    let mut wrong = h;
    wrong[0] ^= 1;
    let cp = testkit::checkpoint(&chain(), 11, 5, [7; 32], wrong, h);
    let signed = testkit::sign_with(cp, &f.keys).unwrap();
    assert_eq!(
        err_name(f.client.verify_header(&signed, NOW)),
        "wrong_set_hash"
    );
}

#[test]
fn wrong_chain_id_is_refused() {
    let f = fixture(4);
    let mut cp = next_cp(&f, 11);
    cp.hub_chain_id = ChainId::new("junction-2").unwrap();
    let signed = testkit::sign_with(cp, &f.keys).unwrap();
    assert_eq!(
        err_name(f.client.verify_header(&signed, NOW)),
        "wrong_chain_id"
    );
}

#[test]
fn older_or_repeated_checkpoint_is_refused() {
    let mut f = fixture(4);
    let signed = testkit::sign_with(next_cp(&f, 12), &f.keys).unwrap();
    let v = f.client.verify_header(&signed, NOW).unwrap();
    f.client.apply_header(v);
    let older = testkit::sign_with(next_cp(&f, 11), &f.keys).unwrap();
    assert_eq!(
        err_name(f.client.verify_header(&older, NOW)),
        "older_checkpoint"
    );
    assert_eq!(
        err_name(f.client.verify_header(&signed, NOW)),
        "already_verified"
    );
    let mut conflicting = next_cp(&f, 12);
    conflicting.log_root = [8; 32];
    let conflicting = testkit::sign_with(conflicting, &f.keys).unwrap();
    assert_eq!(
        err_name(f.client.verify_header(&conflicting, NOW)),
        "conflicting_checkpoint"
    );
    // Log and time must not go backwards either.
    let mut cp = next_cp(&f, 13);
    cp.log_size = 4;
    assert_eq!(
        err_name(
            f.client
                .verify_header(&testkit::sign_with(cp, &f.keys).unwrap(), NOW)
        ),
        "log_shrank"
    );
    let mut cp = next_cp(&f, 13);
    cp.time_ms = 1;
    assert_eq!(
        err_name(
            f.client
                .verify_header(&testkit::sign_with(cp, &f.keys).unwrap(), NOW)
        ),
        "time_went_backwards"
    );
}

#[test]
fn high_s_signature_is_refused() {
    let f = fixture(4);
    let mut signed = testkit::sign_with(next_cp(&f, 11), &f.keys).unwrap();
    // s' = n - s, v flipped: the same signature in its malleable high-S form.
    let n =
        hex::decode("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141").unwrap();
    let sig = &mut signed.signatures[0];
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let d = n[i] as i16 - sig[32 + i] as i16 - borrow;
        sig[32 + i] = d.rem_euclid(256) as u8;
        borrow = if d < 0 { 1 } else { 0 };
    }
    sig[64] = if sig[64] == 27 { 28 } else { 27 };
    assert_eq!(err_name(f.client.verify_header(&signed, NOW)), "high_s");
}

#[test]
fn forged_or_malformed_signature_is_refused() {
    let f = fixture(4);
    // A signature over another checkpoint: recovers some unrelated address.
    let other = testkit::sign_with(next_cp(&f, 99), &f.keys).unwrap();
    let mut signed = testkit::sign_with(next_cp(&f, 11), &f.keys).unwrap();
    signed.signatures[0] = other.signatures[0];
    assert_eq!(
        err_name(f.client.verify_header(&signed, NOW)),
        "unknown_signer"
    );
    // Zero r and s.
    signed.signatures[0] = [0u8; 65];
    signed.signatures[0][64] = 27;
    assert_eq!(
        err_name(f.client.verify_header(&signed, NOW)),
        "invalid_signature"
    );
    // A bad recovery byte.
    let mut signed = testkit::sign_with(next_cp(&f, 11), &f.keys).unwrap();
    signed.signatures[1][64] = 29;
    assert_eq!(
        err_name(f.client.verify_header(&signed, NOW)),
        "invalid_recovery_id"
    );
    // More signatures than members.
    let mut signed = testkit::sign_with(next_cp(&f, 11), &f.keys).unwrap();
    let s = signed.signatures[0];
    signed.signatures.push(s);
    signed.signatures.push(s);
    assert_eq!(
        err_name(f.client.verify_header(&signed, NOW)),
        "too_many_signatures"
    );
}

#[test]
fn address_is_derived_from_the_recovered_key() {
    // Known vector: private key 1 → address 0x7e5f4552091a69125d5dfcb7b8c2659029395bdf.
    let key = SigningKey::from_slice(&{
        let mut k = [0u8; 32];
        k[31] = 1;
        k
    })
    .unwrap();
    assert_eq!(
        hex::encode(testkit::address_of(&key)),
        "7e5f4552091a69125d5dfcb7b8c2659029395bdf"
    );
    let f = fixture(3);
    let cp = next_cp(&f, 11);
    let sig = testkit::sign_checkpoint(&f.keys[0], &cp).unwrap();
    assert_eq!(
        hub::recover_signer(&cp.hash(), &sig, 0).unwrap(),
        testkit::address_of(&f.keys[0])
    );
}

#[test]
fn set_change_is_accepted_only_through_the_next_set_hash() {
    let mut f = fixture(4);
    let (new_set, new_keys) = testkit::attestation_set(5, 2).unwrap();
    let h = f.set.hash();
    let nh = new_set.hash();
    let cp = testkit::checkpoint(&chain(), 11, 5, [7; 32], h, nh);
    let mut signed = testkit::sign_with(cp, &f.keys).unwrap();
    // Missing next set.
    assert_eq!(
        err_name(f.client.verify_header(&signed, NOW)),
        "missing_next_set"
    );
    // A set that does not hash to the named one.
    let (wrong, _) = testkit::attestation_set(5, 3).unwrap();
    signed.next_set = Some(wrong);
    assert_eq!(
        err_name(f.client.verify_header(&signed, NOW)),
        "next_set_mismatch"
    );
    // A next set with the current hash unchanged is not accepted.
    let unchanged = testkit::sign_with(next_cp(&f, 11), &f.keys).unwrap();
    let mut with_set = unchanged.clone();
    with_set.next_set = Some(new_set.clone());
    assert_eq!(
        err_name(f.client.verify_header(&with_set, NOW)),
        "unexpected_next_set"
    );
    // The right set.
    signed.next_set = Some(new_set.clone());
    let v = f.client.verify_header(&signed, NOW).unwrap();
    f.client.apply_header(v);
    assert_eq!(f.client.attestation_set(), &new_set);
    // Now the old set can no longer sign; the new one must.
    let cp_old = testkit::checkpoint(&chain(), 12, 5, [7; 32], h, h);
    assert_eq!(
        err_name(
            f.client
                .verify_header(&testkit::sign_with(cp_old.clone(), &f.keys).unwrap(), NOW)
        ),
        "wrong_set_hash"
    );
    let cp_old_naming_new = testkit::checkpoint(&chain(), 12, 5, [7; 32], nh, nh);
    assert_eq!(
        err_name(f.client.verify_header(
            &testkit::sign_with(cp_old_naming_new.clone(), &f.keys).unwrap(),
            NOW
        )),
        "unknown_signer"
    );
    let ok = testkit::sign_with(cp_old_naming_new, &new_keys).unwrap();
    let v = f.client.verify_header(&ok, NOW).unwrap();
    f.client.apply_header(v);
    assert_eq!(f.client.latest_height(), 12);
}

#[test]
fn zero_power_or_empty_set_is_refused() {
    assert!(testkit::attestation_set_with_powers(3, 1, |i| i as u64).is_none());
    let empty = AttestationSet { attesters: vec![] };
    let cp = testkit::checkpoint(&chain(), 1, 0, [0; 32], empty.hash(), empty.hash());
    assert_eq!(err_name(HubClient::new(cp, empty, None)), "invalid_set");
    let zero = AttestationSet {
        attesters: vec![Attester {
            address: [1; 20],
            power: 0,
        }],
    };
    let cp = testkit::checkpoint(&chain(), 1, 0, [0; 32], zero.hash(), zero.hash());
    assert_eq!(
        err_name(HubClient::new(cp, zero.clone(), None)),
        "invalid_set"
    );
    // As a next set too.
    let f = fixture(3);
    let cp = testkit::checkpoint(&chain(), 11, 0, [0; 32], f.set.hash(), zero.hash());
    let mut signed = testkit::sign_with(cp, &f.keys).unwrap();
    signed.next_set = Some(zero);
    assert_eq!(
        err_name(f.client.verify_header(&signed, NOW)),
        "invalid_set"
    );
}

#[test]
fn conflicting_checkpoints_freeze_the_client() {
    let mut f = fixture(4);
    let a = testkit::sign_with(next_cp(&f, 11), &f.keys).unwrap();
    let mut cp_b = next_cp(&f, 11);
    cp_b.log_root = [9; 32];
    let b = testkit::sign_with(cp_b, &f.keys).unwrap();
    // Same checkpoint twice is not evidence.
    let same = CheckpointMisbehaviour {
        first: a.clone(),
        second: a.clone(),
    };
    assert_eq!(
        err_name(f.client.verify_misbehaviour(&same, NOW)),
        "not_conflicting"
    );
    // Evidence with an under-signed half is refused.
    let weak = CheckpointMisbehaviour {
        first: a.clone(),
        second: testkit::sign_with(b.checkpoint.clone(), &f.keys[..2]).unwrap(),
    };
    assert_eq!(
        err_name(f.client.verify_misbehaviour(&weak, NOW)),
        "insufficient_power"
    );
    let ev = CheckpointMisbehaviour {
        first: a,
        second: b,
    };
    let h = f.client.verify_misbehaviour(&ev, NOW).unwrap();
    assert_eq!(h, 11);
    f.client.freeze(h);
    assert_eq!(f.client.status(NOW), ClientStatus::Frozen { height: 11 });
    let next = testkit::sign_with(next_cp(&f, 12), &f.keys).unwrap();
    assert_eq!(err_name(f.client.verify_header(&next, NOW)), "frozen");
    assert_eq!(
        err_name(f.client.verify_membership(10, &0, b"x", &[])),
        "frozen"
    );
}

#[test]
fn log_inclusion_under_a_verified_checkpoint() {
    let mut f = fixture(4);
    let entries: Vec<Vec<u8>> = (0..13).map(|i| testkit::log_entry(5, i)).collect();
    let leaves: Vec<Hash32> = entries.iter().map(|e| leaf_hash(e)).collect();
    let root = root_from_leaf_hashes(&leaves);
    let h = f.set.hash();
    let cp = testkit::checkpoint(&chain(), 11, 13, root, h, h);
    let v = f
        .client
        .verify_header(&testkit::sign_with(cp, &f.keys).unwrap(), NOW)
        .unwrap();
    f.client.apply_header(v);
    for i in 0..13u64 {
        let proof = inclusion_proof(&leaves, i).unwrap();
        f.client
            .verify_membership(11, &i, &entries[i as usize], &proof)
            .unwrap();
        // wrong entry, wrong index
        assert_eq!(
            err_name(f.client.verify_membership(11, &i, b"forged", &proof)),
            "log_proof"
        );
        let j = (i + 1) % 13;
        assert_eq!(
            err_name(
                f.client
                    .verify_membership(11, &j, &entries[i as usize], &proof)
            ),
            "log_proof"
        );
    }
    assert_eq!(
        err_name(f.client.verify_membership(11, &13, &entries[0], &[])),
        "log_proof"
    );
    assert_eq!(
        err_name(f.client.verify_membership(99, &0, &entries[0], &[])),
        "unknown_height"
    );
    assert_eq!(
        err_name(f.client.verify_non_membership(11, &0, &[])),
        "non_membership_unsupported"
    );
}

#[test]
fn consistency_between_verified_checkpoints() {
    let mut f = fixture(4);
    let leaves: Vec<Hash32> = (0..20)
        .map(|i| leaf_hash(&testkit::log_entry(6, i)))
        .collect();
    let h = f.set.hash();
    for (height, size) in [(11u64, 7usize), (12, 20)] {
        let cp = testkit::checkpoint(
            &chain(),
            height,
            size as u64,
            root_from_leaf_hashes(&leaves[..size]),
            h,
            h,
        );
        let v = f
            .client
            .verify_header(&testkit::sign_with(cp, &f.keys).unwrap(), NOW)
            .unwrap();
        f.client.apply_header(v);
    }
    let proof = consistency_proof(&leaves, 7).unwrap();
    f.client.verify_consistency(11, 12, &proof).unwrap();
    let mut bad = proof.clone();
    bad[0][0] ^= 1;
    assert_eq!(
        err_name(f.client.verify_consistency(11, 12, &bad)),
        "log_proof"
    );
    assert_eq!(
        err_name(f.client.verify_consistency(12, 11, &proof)),
        "older_checkpoint"
    );
}

#[test]
fn synthetic_inclusion_in_a_2_pow_20_log_verifies() {
    let size = 1u64 << 20;
    for index in [0, 1, 12345, size - 1] {
        let (root, entry, proof) = testkit::synthetic_inclusion(size, index, 3).unwrap();
        assert_eq!(proof.len(), 20);
        let cp = Checkpoint {
            hub_chain_id: chain(),
            height: 1,
            time_ms: 0,
            log_size: size,
            log_root: root,
            attestation_set_hash: [0; 32],
            next_attestation_set_hash: [0; 32],
        };
        hub::verify_log_inclusion(&cp, index, &entry, &proof).unwrap();
        let bytes: Vec<u8> = proof.concat();
        hub::verify_log_inclusion_bytes(&root, size, index, &entry, &bytes).unwrap();
        assert_eq!(
            hub::verify_log_inclusion_bytes(&root, size, index, &entry, &bytes[1..])
                .unwrap_err()
                .name(),
            "malformed_log_proof"
        );
    }
    // Non-power-of-two sizes follow the same audit-path shape as the spec's verifier.
    for (size, index) in [(13u64, 12u64), (1000, 517), (3, 2)] {
        let (root, entry, proof) = testkit::synthetic_inclusion(size, index, 4).unwrap();
        junction_spec::merkle::verify_inclusion(&leaf_hash(&entry), index, size, &proof, &root)
            .unwrap();
    }
}

#[test]
fn every_byte_flip_of_a_signed_checkpoint_is_refused() {
    let f = fixture(4);
    let (new_set, _) = testkit::attestation_set(2, 8).unwrap();
    let h = f.set.hash();
    let cp = testkit::checkpoint(&chain(), 11, 5, [7; 32], h, new_set.hash());
    let mut signed = testkit::sign_with(cp, &f.keys[..3]).unwrap();
    signed.next_set = Some(new_set);
    let bytes = signed.to_bytes();
    let decoded = hub::decode_signed_checkpoint(&bytes).unwrap();
    assert!(f.client.verify_header(&decoded, NOW).is_ok());
    for i in 0..bytes.len() {
        let mut m = bytes.clone();
        m[i] ^= 0x01;
        let verdict =
            hub::decode_signed_checkpoint(&m).and_then(|s| f.client.verify_header(&s, NOW));
        if let Ok(v) = verdict {
            panic!("byte {i} flipped still verifies: {:?}", v.checkpoint);
        }
    }
    // truncations
    for len in 0..bytes.len() {
        assert!(
            hub::decode_signed_checkpoint(&bytes[..len]).is_err(),
            "truncated to {len}"
        );
    }
}

/// The client state the hub stores: after a set change and a freeze it reads back equal
/// (and behaves alike); a tail, a latest checkpoint it does not keep, or a current set it
/// does not know are refused.
#[test]
fn client_state_round_trips_through_its_encoding_and_inconsistent_states_are_refused() {
    use junction_spec::encoding::{Decode, DecodeError};
    let mut f = fixture(4);
    let (new_set, new_keys) = testkit::attestation_set(5, 2).unwrap();
    let (h, nh) = (f.set.hash(), new_set.hash());
    let mut signed = testkit::sign_with(
        testkit::checkpoint(&chain(), 11, 5, [7; 32], h, nh),
        &f.keys,
    )
    .unwrap();
    signed.next_set = Some(new_set.clone());
    let v = f.client.verify_header(&signed, NOW).unwrap();
    f.client.apply_header(v);
    let next = testkit::checkpoint(&chain(), 12, 6, [8; 32], nh, nh);
    let v = f
        .client
        .verify_header(&testkit::sign_with(next, &new_keys).unwrap(), NOW)
        .unwrap();
    f.client.apply_header(v);
    f.client.freeze(12);
    let bytes = f.client.to_bytes();
    let back = HubClient::from_bytes(&bytes).unwrap();
    assert_eq!(back.to_bytes(), bytes);
    assert_eq!(back.attestation_set(), &new_set);
    assert_eq!(back.checkpoint_heights(), vec![10, 11, 12]);
    assert_eq!(back.status(NOW), ClientStatus::Frozen { height: 12 });
    let mut long = bytes.clone();
    long.push(0);
    assert!(matches!(
        HubClient::from_bytes(&long),
        Err(DecodeError::TrailingBytes { .. })
    ));

    // Hand-built states that break an invariant.
    let encode = |set: &AttestationSet,
                  latest: &Checkpoint,
                  cps: &[&Checkpoint],
                  sets: &[&AttestationSet]| {
        let mut out = Vec::new();
        set.encode_to(&mut out);
        latest.encode_to(&mut out);
        None::<u64>.encode_to(&mut out);
        junction_spec::encoding::encode_len(cps.len(), &mut out);
        for cp in cps {
            cp.encode_to(&mut out);
        }
        junction_spec::encoding::encode_len(sets.len(), &mut out);
        for s in sets {
            s.encode_to(&mut out);
        }
        out
    };
    let cp10 = f.client.checkpoint_at(10).unwrap().clone();
    let cp11 = f.client.checkpoint_at(11).unwrap().clone();
    assert!(HubClient::from_bytes(&encode(&f.set, &cp10, &[&cp10], &[&f.set])).is_ok());
    for (what, state) in [
        (
            "latest not kept",
            encode(&f.set, &cp11, &[&cp10], &[&f.set]),
        ),
        (
            "checkpoints out of order",
            encode(&f.set, &cp11, &[&cp11, &cp10], &[&f.set]),
        ),
        (
            "current set unknown",
            encode(&new_set, &cp10, &[&cp10], &[&f.set]),
        ),
    ] {
        assert!(
            matches!(
                HubClient::from_bytes(&state),
                Err(DecodeError::NonCanonical(_))
            ),
            "{what}"
        );
    }
    let root = hub::HubTrustRoot {
        checkpoint: cp10,
        set: f.set.clone(),
        next_set: None,
    };
    assert_eq!(
        hub::HubTrustRoot::from_bytes(&root.to_bytes()),
        Ok(root.clone())
    );
    assert_eq!(root.start_client().unwrap().latest_height(), 10);
    let evidence = CheckpointMisbehaviour {
        first: signed.clone(),
        second: signed,
    };
    assert_eq!(
        CheckpointMisbehaviour::from_bytes(&evidence.to_bytes()),
        Ok(evidence)
    );
}
