//! Generated QBFT cases: the seal rules, the chain rules and misbehaviour.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use alloy_primitives::U256;
use junction_light_clients::evm::mpt::{EvmPath, EvmProof};
use junction_light_clients::evm::qbft::testkit::{self, HeaderSpec};
use junction_light_clients::evm::qbft::{
    quorum, verify_sealed_header, QbftClient, QbftError, QbftHeader, QbftMisbehaviour, Vote,
    VoteType,
};
use junction_light_clients::{ClientStatus, LightClient, NamedError, Timestamp};

const T0: u64 = 1_700_000_000;

fn now() -> Timestamp {
    Timestamp::from_secs(T0 + 100)
}

/// A client trusting header 0 of a chain of `n` validators, and that chain's keys.
fn setup(n: usize) -> (QbftClient, Vec<Vec<u8>>, Vec<k256::ecdsa::SigningKey>) {
    let chain = testkit::chain(n, 3, T0);
    let client = QbftClient::from_trusted_header(&chain[0], testkit::config()).unwrap();
    (client, chain, testkit::validator_keys(n))
}

fn next_spec(client: &QbftClient, keys: &[k256::ecdsa::SigningKey]) -> HeaderSpec {
    let h = client.latest_height();
    let st = client.consensus_state(h).unwrap();
    HeaderSpec::new(h + 1, st.hash, st.timestamp + 1, testkit::addresses(keys))
}

fn err_name(r: Result<impl std::fmt::Debug, QbftError>) -> &'static str {
    r.unwrap_err().name()
}

#[test]
fn sealed_header_sequence_is_accepted_and_recorded() {
    for n in [1, 4, 21] {
        let (mut client, chain, _) = setup(n);
        for (i, rlp) in chain.iter().enumerate().skip(1) {
            let v = client
                .verify_header(rlp, now())
                .unwrap_or_else(|e| panic!("n={n} h={i}: {e}"));
            assert_eq!(v.signers.len(), n);
            client.apply_header(v);
            assert_eq!(client.latest_height(), i as u64);
        }
        let q = QbftHeader::decode(&chain[2]).unwrap();
        assert_eq!(client.consensus_state(2).unwrap().hash, q.block_hash);
        assert_eq!(
            client.consensus_state(2).unwrap().state_root,
            q.header.state_root
        );
    }
}

#[test]
fn quorum_is_ceil_two_thirds() {
    let expect = [
        (1, 1),
        (2, 2),
        (3, 2),
        (4, 3),
        (5, 4),
        (6, 4),
        (7, 5),
        (10, 7),
        (21, 14),
        (22, 15),
    ];
    for (n, q) in expect {
        assert_eq!(quorum(n), q, "n={n}");
    }
}

#[test]
fn exactly_quorum_seals_pass_and_one_fewer_is_insufficient() {
    for n in [4, 21] {
        let (client, _, keys) = setup(n);
        let spec = next_spec(&client, &keys);
        let q = quorum(n);
        let ok = testkit::seal_spec(&spec, &keys[..q]);
        client.verify_header(&ok, now()).unwrap();
        let short = testkit::seal_spec(&spec, &keys[..q - 1]);
        match client.verify_header(&short, now()) {
            Err(QbftError::InsufficientSeals { got, need }) => assert_eq!((got, need), (q - 1, q)),
            other => panic!("n={n}: {other:?}"),
        }
    }
}

#[test]
fn duplicate_seal_is_not_counted_twice() {
    let (client, _, keys) = setup(4);
    let spec = next_spec(&client, &keys);
    // Two seals by validator 0 plus one more would reach 3 = quorum if counted twice.
    let signers = vec![keys[0].clone(), keys[0].clone(), keys[1].clone()];
    let rlp = testkit::seal_spec(&spec, &signers);
    assert_eq!(
        err_name(client.verify_header(&rlp, now())),
        "duplicate_signer"
    );
}

#[test]
fn outsider_seal_is_refused() {
    let (client, _, keys) = setup(4);
    let spec = next_spec(&client, &keys);
    let mut signers = keys.clone();
    signers.push(testkit::validator_key(1000));
    let rlp = testkit::seal_spec(&spec, &signers);
    assert_eq!(
        err_name(client.verify_header(&rlp, now())),
        "signer_not_validator"
    );
}

#[test]
fn seal_over_header_with_round_stripped_is_refused() {
    // The seal must cover the round; signing the block-hash form (round removed) or the raw
    // header recovers to some other address.
    let (client, _, keys) = setup(4);
    let mut spec = next_spec(&client, &keys);
    spec.round = 7;
    let (header, extra) = testkit::unsealed(&spec);
    for wrong in [
        testkit::block_hash(&header, &extra),
        junction_light_clients::evm::header::keccak256(&header.encode()),
    ] {
        let seals = keys.iter().map(|k| testkit::seal(k, &wrong)).collect();
        let rlp = testkit::with_seals(&header, &extra, seals);
        assert_eq!(
            err_name(client.verify_header(&rlp, now())),
            "signer_not_validator"
        );
    }
    // Same header, sealed over the right digest: accepted (so the refusal is about the digest).
    let right = testkit::seal_digest(&header, &extra);
    let seals = keys.iter().map(|k| testkit::seal(k, &right)).collect();
    client
        .verify_header(&testkit::with_seals(&header, &extra, seals), now())
        .unwrap();
}

#[test]
fn high_s_seal_is_refused() {
    let order = U256::from_str_radix(
        "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141",
        16,
    )
    .unwrap();
    let (client, _, keys) = setup(4);
    let spec = next_spec(&client, &keys);
    let (header, extra) = testkit::unsealed(&spec);
    let digest = testkit::seal_digest(&header, &extra);
    let mut seals: Vec<[u8; 65]> = keys.iter().map(|k| testkit::seal(k, &digest)).collect();
    let s = U256::from_be_slice(&seals[0][32..64]);
    seals[0][32..64].copy_from_slice(&(order - s).to_be_bytes::<32>());
    seals[0][64] ^= 1; // the twin signature of the same key
    let rlp = testkit::with_seals(&header, &extra, seals);
    assert_eq!(err_name(client.verify_header(&rlp, now())), "high_s");
}

#[test]
fn bad_recovery_byte_is_refused() {
    let (client, _, keys) = setup(4);
    let spec = next_spec(&client, &keys);
    let (header, extra) = testkit::unsealed(&spec);
    let digest = testkit::seal_digest(&header, &extra);
    let mut seals: Vec<[u8; 65]> = keys.iter().map(|k| testkit::seal(k, &digest)).collect();
    seals[1][64] += 27; // the eth_sign convention is not QBFT's
    let rlp = testkit::with_seals(&header, &extra, seals);
    assert_eq!(
        err_name(client.verify_header(&rlp, now())),
        "bad_recovery_id"
    );
}

#[test]
fn wrong_parent_is_refused() {
    let (client, _, keys) = setup(4);
    let mut spec = next_spec(&client, &keys);
    spec.parent_hash[0] ^= 1;
    let rlp = testkit::seal_spec(&spec, &keys);
    assert_eq!(
        err_name(client.verify_header(&rlp, now())),
        "parent_hash_mismatch"
    );
}

#[test]
fn non_sequential_header_is_refused() {
    let (client, chain, _) = setup(4);
    assert_eq!(
        err_name(client.verify_header(&chain[2], now())),
        "non_sequential_height"
    );
    assert_eq!(
        err_name(client.verify_header(&chain[0], now())),
        "non_sequential_height"
    );
}

#[test]
fn future_and_non_increasing_timestamps_are_refused() {
    let (client, _, keys) = setup(4);
    let mut spec = next_spec(&client, &keys);
    spec.timestamp = T0 + 100 + 16; // drift is 15 s
    let rlp = testkit::seal_spec(&spec, &keys);
    assert_eq!(
        err_name(client.verify_header(&rlp, now())),
        "timestamp_in_future"
    );
    spec.timestamp = T0 + 100 + 15;
    client
        .verify_header(&testkit::seal_spec(&spec, &keys), now())
        .unwrap();
    spec.timestamp = T0;
    let rlp = testkit::seal_spec(&spec, &keys);
    assert_eq!(
        err_name(client.verify_header(&rlp, now())),
        "timestamp_not_increasing"
    );
}

#[test]
fn expired_client_refuses_updates() {
    let (client, chain, _) = setup(4);
    let late = Timestamp::from_secs(T0 + 86_400 + 1);
    assert_eq!(client.status(late), ClientStatus::Expired);
    assert_eq!(
        err_name(client.verify_header(&chain[1], late)),
        "client_expired"
    );
}

#[test]
fn validator_set_changes_only_by_the_voted_add_or_drop() {
    let (mut client, _, keys) = setup(4);
    let newcomer = testkit::validator_key(77);
    let newcomer_addr = testkit::address(&newcomer);
    // Header 1 votes to add the newcomer.
    let mut spec = next_spec(&client, &keys);
    spec.vote = Some(Vote {
        recipient: newcomer_addr,
        vote_type: VoteType::Add,
    });
    let v = client
        .verify_header(&testkit::seal_spec(&spec, &keys), now())
        .unwrap();
    client.apply_header(v);
    // Header 2 lists five validators, sealed by the new set including the newcomer.
    let mut five = keys.clone();
    five.push(newcomer.clone());
    let spec2 = next_spec(&client, &five);
    let signers: Vec<_> = five[1..].to_vec(); // 4 of 5 = quorum(5)
    let v = client
        .verify_header(&testkit::seal_spec(&spec2, &signers), now())
        .unwrap();
    assert!(v.signers.contains(&newcomer_addr));
    client.apply_header(v);
    // Header 3 may not silently drop someone: no vote in header 2.
    let four_again = five[..4].to_vec();
    let spec3 = next_spec(&client, &four_again);
    let rlp = testkit::seal_spec(&spec3, &four_again);
    assert_eq!(
        err_name(client.verify_header(&rlp, now())),
        "unvoted_validator_set_change"
    );
}

#[test]
fn unvoted_validator_set_change_is_refused() {
    let (client, _, keys) = setup(4);
    // An attacker-chosen list of fresh keys, fully sealed by them.
    let fresh: Vec<_> = (500..504).map(testkit::validator_key).collect();
    let mut spec = next_spec(&client, &keys);
    spec.validators = testkit::addresses(&fresh);
    let rlp = testkit::seal_spec(&spec, &fresh);
    assert_eq!(
        err_name(client.verify_header(&rlp, now())),
        "unvoted_validator_set_change"
    );
}

#[test]
fn conflicting_sealed_headers_freeze_the_client() {
    let (mut client, chain, keys) = setup(4);
    let mut other = next_spec(&client, &keys);
    other.timestamp += 1; // a different block at height 1
    let b = testkit::seal_spec(&other, &keys);
    let evidence = QbftMisbehaviour {
        header_a: chain[1].clone(),
        header_b: b.clone(),
    };
    let h = client.verify_misbehaviour(&evidence, now()).unwrap();
    assert_eq!(h, 1);
    // The same header twice is not evidence.
    let same = QbftMisbehaviour {
        header_a: chain[1].clone(),
        header_b: chain[1].clone(),
    };
    assert_eq!(
        err_name(client.verify_misbehaviour(&same, now())),
        "misbehaviour_same_header"
    );
    // A conflicting header without a quorum is not evidence.
    let weak = testkit::seal_spec(&other, &keys[..2]);
    let weak_ev = QbftMisbehaviour {
        header_a: chain[1].clone(),
        header_b: weak,
    };
    assert_eq!(
        err_name(client.verify_misbehaviour(&weak_ev, now())),
        "insufficient_seals"
    );
    client.freeze(h);
    assert_eq!(client.status(now()), ClientStatus::Frozen { height: 1 });
    assert_eq!(
        err_name(client.verify_header(&chain[1], now())),
        "client_frozen"
    );
    assert_eq!(
        err_name(client.verify_membership(
            0,
            &EvmPath::Receipt { index: 0 },
            b"v",
            &EvmProof::default()
        )),
        "client_frozen"
    );
}

#[test]
fn misbehaviour_at_a_recorded_height_uses_the_recorded_validators() {
    let (mut client, chain, keys) = setup(4);
    let v = client.verify_header(&chain[1], now()).unwrap();
    client.apply_header(v);
    let v = client.verify_header(&chain[2], now()).unwrap();
    client.apply_header(v);
    let mut fork = HeaderSpec::new(1, [9u8; 32], T0 + 5, testkit::addresses(&keys));
    fork.round = 3;
    let b = testkit::seal_spec(&fork, &keys);
    let ev = QbftMisbehaviour {
        header_a: chain[1].clone(),
        header_b: b,
    };
    assert_eq!(client.verify_misbehaviour(&ev, now()).unwrap(), 1);
    // Outsiders sealing a fork at a recorded height prove nothing.
    let fresh: Vec<_> = (600..604).map(testkit::validator_key).collect();
    let fake = HeaderSpec::new(1, [9u8; 32], T0 + 5, testkit::addresses(&fresh));
    let ev = QbftMisbehaviour {
        header_a: chain[1].clone(),
        header_b: testkit::seal_spec(&fake, &fresh),
    };
    assert_eq!(
        err_name(client.verify_misbehaviour(&ev, now())),
        "signer_not_validator"
    );
}

#[test]
fn proofs_reach_the_mpt_verifier_and_unknown_heights_are_refused() {
    let (client, _, _) = setup(4);
    let path = EvmPath::Receipt { index: 0 };
    let empty = EvmProof::default();
    // A generated header's receipts root is not the empty trie, so an empty proof misses.
    let got = err_name(client.verify_membership(0, &path, b"v", &empty));
    assert!(
        ["missing_node", "empty_root", "root_mismatch"].contains(&got),
        "{got}"
    );
    assert_eq!(
        err_name(client.verify_membership(5, &path, b"v", &empty)),
        "unknown_height"
    );
}

#[test]
fn history_is_bounded() {
    let mut cfg = testkit::config();
    cfg.max_history = 2;
    let chain = testkit::chain(1, 5, T0);
    let mut client = QbftClient::from_trusted_header(&chain[0], cfg).unwrap();
    for rlp in &chain[1..] {
        let v = client.verify_header(rlp, now()).unwrap();
        client.apply_header(v);
    }
    assert!(client.consensus_state(2).is_none());
    assert!(client.consensus_state(3).is_some() && client.consensus_state(4).is_some());
}

#[test]
fn every_byte_flip_of_a_sealed_header_is_refused_without_panic() {
    let (client, chain, _) = setup(4);
    let rlp = &chain[1];
    client.verify_header(rlp, now()).unwrap();
    let mut names = std::collections::BTreeSet::new();
    for i in 0..rlp.len() {
        let mut m = rlp.clone();
        m[i] ^= 0x01;
        match client.verify_header(&m, now()) {
            Ok(_) => panic!("flip at byte {i} of {} was accepted", rlp.len()),
            Err(e) => {
                names.insert(e.name());
            }
        }
    }
    // Truncations too.
    for len in 0..rlp.len() {
        assert!(
            client.verify_header(&rlp[..len].to_vec(), now()).is_err(),
            "truncated to {len}"
        );
    }
    println!("refusal kinds: {names:?}");
    assert!(names.contains("signer_not_validator") || names.contains("parent_hash_mismatch"));
}

#[test]
fn benchmark_entry_verify_a_qbft_header_with_n_validators() {
    // What `verify a QBFT header with n validators` (n = 4, 21) runs.
    for n in [4, 21] {
        let keys = testkit::validator_keys(n);
        let rlp = testkit::sealed_header(n, 1, [0u8; 32], T0);
        let header = verify_sealed_header(&rlp, &testkit::addresses(&keys)).unwrap();
        assert_eq!(header.extra.seals.len(), n);
    }
}
