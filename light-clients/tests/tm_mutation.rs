//! Mutation loops over the Tendermint encodings and a seeded differential test of the
//! batch signature engine against the reference `ProdVerifier`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use junction_light_clients::tendermint::client::{
    verify_update, ConsensusState, Engine, TendermintClient, TendermintError,
};
use junction_light_clients::tendermint::codec::{
    decode_signed_header, decode_validator_set, encode_signed_header, encode_validator_set,
    verify_header_bytes, MAX_ENCODED_BYTES,
};
use junction_light_clients::tendermint::testkit::{
    default_config, signed_light_block, signed_light_block_with_sets, validator_keys,
    weighted_validator_set,
};
use junction_light_clients::{NamedError, Timestamp};
use rand::{rngs::StdRng, Rng, SeedableRng};
use tendermint::block::CommitSig;
use tendermint_light_client_verifier::options::Options;
use tendermint_light_client_verifier::types::LightBlock;

const CHAIN: &str = "mutation-chain";
const T0: u64 = 1_700_000_000;

fn ts(s: u64) -> Timestamp {
    Timestamp::from_secs(T0 + s)
}

/// Three equal validators: all three signatures are needed for > 2/3, so every signature
/// is checked and no byte of the commit is meaningless.
fn setup() -> (TendermintClient, LightBlock, LightBlock) {
    let keys = validator_keys(11, 3);
    let b1 = signed_light_block(CHAIN, 1, ts(0), &keys, &keys, &[1; 32]).unwrap();
    let b2 = signed_light_block(CHAIN, 2, ts(5), &keys, &keys, &[2; 32]).unwrap();
    let client = TendermintClient::new(
        &default_config(CHAIN),
        1,
        ConsensusState::from_signed_header(&b1.signed_header).unwrap(),
    )
    .unwrap();
    (client, b1, b2)
}

#[test]
fn every_byte_flip_of_the_signed_header_encoding_is_refused_or_meaningless() {
    let (client, b1, b2) = setup();
    let sh = encode_signed_header(&b2.signed_header);
    let vals = encode_validator_set(&b2.validators);
    let trusted = encode_validator_set(&b1.next_validators);
    let now = ts(10);
    assert!(verify_header_bytes(&client, &sh, &vals, 1, &trusted, now).is_ok());
    let reference = client.clone().with_engine(Engine::Reference);
    let (mut decode_refused, mut verify_refused, mut same) = (0, 0, 0);
    for i in 0..sh.len() {
        for bit in [0x01u8, 0x80] {
            let mut m = sh.clone();
            m[i] ^= bit;
            let got = verify_header_bytes(&client, &m, &vals, 1, &trusted, now);
            let refgot = verify_header_bytes(&reference, &m, &vals, 1, &trusted, now);
            assert_eq!(got, refgot, "byte {i} bit {bit:#x}: engines disagree");
            match (decode_signed_header(&m), got) {
                (Err(e), Err(g)) => {
                    assert_eq!(e.name(), "decode_failed");
                    assert_eq!(g.name(), "decode_failed");
                    decode_refused += 1;
                }
                (Ok(d), Ok(_)) => {
                    // Accepted only if the flip did not change the decoded value.
                    assert_eq!(
                        d, b2.signed_header,
                        "byte {i} bit {bit:#x}: changed header accepted"
                    );
                    same += 1;
                }
                (Ok(d), Err(e)) => {
                    assert_ne!(
                        d, b2.signed_header,
                        "byte {i} bit {bit:#x}: same header refused ({e})"
                    );
                    verify_refused += 1;
                }
                (Err(e), Ok(_)) => panic!("byte {i}: undecodable but accepted ({e})"),
            }
        }
    }
    println!("signed header: {} bytes, decode refused {decode_refused}, verify refused {verify_refused}, unchanged {same}", sh.len());
    assert!(decode_refused > 0 && verify_refused > 0);
}

#[test]
fn every_byte_flip_of_the_validator_set_encoding_is_refused_or_meaningless() {
    let (client, b1, b2) = setup();
    let sh = encode_signed_header(&b2.signed_header);
    let vals = encode_validator_set(&b2.validators);
    let trusted = encode_validator_set(&b1.next_validators);
    let now = ts(10);
    let mut refused = 0;
    for (which, base) in [("validators", vals.clone()), ("trusted", trusted.clone())] {
        for i in 0..base.len() {
            let mut m = base.clone();
            m[i] ^= 0x01;
            let (v, t) = if which == "validators" {
                (&m, &trusted)
            } else {
                (&vals, &m)
            };
            let got = verify_header_bytes(&client, &sh, v, 1, t, now);
            match (decode_validator_set(&m), got) {
                (Ok(set), Ok(_)) => {
                    // Only fields outside the set hash (proposer, priorities, cached total)
                    // may change without effect.
                    assert_eq!(
                        set.hash(),
                        b2.validators.hash(),
                        "{which} byte {i}: changed set accepted"
                    );
                }
                (_, Err(e)) => {
                    assert!(!e.name().is_empty());
                    refused += 1;
                }
                (Err(e), Ok(_)) => panic!("{which} byte {i}: undecodable but accepted ({e})"),
            }
        }
    }
    assert!(refused > 0);
}

#[test]
fn oversized_encodings_are_refused_by_name() {
    let big = vec![0u8; MAX_ENCODED_BYTES + 1];
    assert_eq!(
        decode_signed_header(&big).unwrap_err().name(),
        "encoding_too_large"
    );
    assert_eq!(
        decode_validator_set(&big).unwrap_err().name(),
        "encoding_too_large"
    );
    assert_eq!(
        decode_signed_header(&[]).unwrap_err().name(),
        "decode_failed"
    );
}

/// Random trusted and untrusted sets over a pool of 8 keys, random powers, random commit
/// entries (valid, absent, corrupted, copied from another validator, signer swapped),
/// adjacent and skipping: the batch engine's verdict must equal the reference's, error
/// details included (so the same first bad signature is named).
#[test]
fn batch_engine_matches_reference_on_seeded_random_commits() {
    let pool = validator_keys(21, 8);
    let mut rng = StdRng::seed_from_u64(0x7e4d_0001);
    let mut outcomes = std::collections::BTreeMap::<&'static str, usize>::new();
    for trial in 0..300 {
        let pick = |rng: &mut StdRng| {
            let n = rng.gen_range(1..=pool.len());
            let mut idx: Vec<usize> = (0..pool.len()).collect();
            for i in (1..idx.len()).rev() {
                idx.swap(i, rng.gen_range(0..=i));
            }
            let keys: Vec<_> = idx[..n].iter().map(|i| pool[*i].clone()).collect();
            let powers: Vec<u64> = (0..n).map(|_| rng.gen_range(1..=100)).collect();
            weighted_validator_set(&keys, &powers).unwrap()
        };
        let adjacent = rng.gen_bool(0.4);
        let trusted_set = pick(&mut rng);
        let untrusted_set = pick(&mut rng);
        let trusted_next = if adjacent {
            untrusted_set.clone()
        } else {
            pick(&mut rng)
        };
        let b1 = signed_light_block_with_sets(
            CHAIN,
            1,
            ts(0),
            trusted_set,
            trusted_next,
            &pool,
            &[1; 32],
        )
        .unwrap();
        let height = if adjacent { 2 } else { rng.gen_range(3..20) };
        let mut b = signed_light_block_with_sets(
            CHAIN,
            height,
            ts(height * 5),
            untrusted_set.clone(),
            untrusted_set,
            &pool,
            &[2; 32],
        )
        .unwrap();
        let n = b.signed_header.commit.signatures.len();
        for i in 0..n {
            match rng.gen_range(0..24) {
                0 => b.signed_header.commit.signatures[i] = CommitSig::BlockIdFlagAbsent,
                1 => {
                    if let CommitSig::BlockIdFlagCommit { signature, .. } =
                        &mut b.signed_header.commit.signatures[i]
                    {
                        let mut s = signature.as_ref().unwrap().as_bytes().to_vec();
                        let j = rng.gen_range(0..64);
                        s[j] ^= 1 << rng.gen_range(0..8);
                        *signature = tendermint::Signature::new(s).unwrap();
                    }
                }
                2 if n > 1 => {
                    let j = (i + 1) % n;
                    b.signed_header.commit.signatures[i] =
                        b.signed_header.commit.signatures[j].clone();
                }
                3 if n > 1 => {
                    // Signer swapped: a valid signature under another validator's address.
                    let j = (i + 1) % n;
                    let other = b.validators.validators()[j].address;
                    if let CommitSig::BlockIdFlagCommit {
                        validator_address, ..
                    } = &mut b.signed_header.commit.signatures[i]
                    {
                        *validator_address = other;
                    }
                }
                _ => {}
            }
        }
        let options = Options {
            trust_threshold: tendermint::trust_threshold::TrustThresholdFraction::ONE_THIRD,
            trusting_period: std::time::Duration::from_secs(86_400),
            clock_drift: std::time::Duration::from_secs(10),
        };
        let now = junction_light_clients::tendermint::client::to_tm_time(ts(200)).unwrap();
        let run = |engine| {
            verify_update(
                b.as_untrusted_state(),
                b1.as_trusted_state(),
                &options,
                now,
                engine,
                false,
            )
        };
        let batch: Result<(), TendermintError> = run(Engine::Batch);
        let reference = run(Engine::Reference);
        assert_eq!(batch, reference, "trial {trial}: engines disagree");
        *outcomes
            .entry(batch.err().map_or("ok", |e| e.name()))
            .or_default() += 1;
    }
    println!("{outcomes:?}");
    for name in [
        "ok",
        "invalid_commit_signature",
        "not_enough_trust",
        "duplicate_validator",
    ] {
        assert!(
            outcomes.get(name).copied().unwrap_or(0) > 0,
            "no {name} outcome in {outcomes:?}"
        );
    }
}
