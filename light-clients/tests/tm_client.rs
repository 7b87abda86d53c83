//! Generated (testkit) cases for the Tendermint client: updates, every rejection rule by
//! name, batch vs reference agreement under mutation, misbehaviour and freezing, bounds,
//! and the bisection driver.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use ed25519_consensus::SigningKey;
use junction_light_clients::tendermint::bisection::{
    verify_to_target, BisectionError, LightBlockSource,
};
use junction_light_clients::tendermint::client::{
    verify_commit, ClientConfig, ConsensusState, Engine, Header, Misbehaviour, TendermintClient,
    TendermintError,
};
use junction_light_clients::tendermint::testkit::{
    default_config, header_from, light_block, resign, signed_light_block, validator_keys,
    verify_commit_batch, verify_commit_reference,
};
use junction_light_clients::{ClientStatus, LightClient, NamedError, Timestamp};
use tendermint::block::CommitSig;
use tendermint_light_client_verifier::types::LightBlock;

const CHAIN: &str = "test-chain";
const T0: u64 = 1_700_000_000;
const SEC: u64 = 1_000_000_000;

fn ts(secs_after_t0: u64) -> Timestamp {
    Timestamp::from_secs(T0 + secs_after_t0)
}

fn keys() -> Vec<SigningKey> {
    validator_keys(1, 4)
}

fn block(height: u64, secs: u64, keys: &[SigningKey]) -> LightBlock {
    signed_light_block(CHAIN, height, ts(secs), keys, keys, &[height as u8; 32]).unwrap()
}

fn client_at(b: &LightBlock) -> TendermintClient {
    client_with(b, &default_config(CHAIN))
}

fn client_with(b: &LightBlock, cfg: &ClientConfig) -> TendermintClient {
    TendermintClient::new(
        cfg,
        b.height().value(),
        ConsensusState::from_signed_header(&b.signed_header).unwrap(),
    )
    .unwrap()
}

/// Verify with both engines; they must agree; return the verdict.
fn verify_both(
    client: &TendermintClient,
    h: &Header,
    now: Timestamp,
) -> Result<(), TendermintError> {
    let batch = client.verify_header(h, now).map(|_| ());
    let reference = client
        .clone()
        .with_engine(Engine::Reference)
        .verify_header(h, now)
        .map(|_| ());
    assert_eq!(batch, reference, "batch and reference engines disagree");
    batch
}

fn expect_err(r: Result<(), TendermintError>, name: &str) {
    match r {
        Err(e) => assert_eq!(e.name(), name, "wrong error: {e}"),
        Ok(()) => panic!("expected {name}, got Ok"),
    }
}

fn set_sig(b: &mut LightBlock, i: usize, f: impl FnOnce(&mut CommitSig)) {
    f(&mut b.signed_header.commit.signatures[i]);
}

#[test]
fn adjacent_and_skipping_updates_are_accepted_and_applied() {
    let k = keys();
    let b1 = block(1, 0, &k);
    let mut c = client_at(&b1);
    let b2 = block(2, 5, &k);
    let v = c.verify_header(&header_from(&b2, &b1), ts(10)).unwrap();
    c.apply_header(v);
    assert_eq!(c.latest_height(), 2);
    assert_eq!(c.consensus_state(2).unwrap().root, vec![2u8; 32]);
    let b9 = block(9, 40, &k);
    let v = c.verify_header(&header_from(&b9, &b2), ts(50)).unwrap();
    c.apply_header(v);
    assert_eq!(c.latest_height(), 9);
    assert_eq!(c.status(ts(50)), ClientStatus::Active);
    // Re-submitting the same header is idempotent.
    assert!(c.verify_header(&header_from(&b9, &b2), ts(50)).is_ok());
}

#[test]
fn flipped_signature_bytes_are_rejected_or_unchecked_exactly_as_reference() {
    let k = keys();
    let b1 = block(1, 0, &k);
    let c = client_at(&b1);
    for (target, secs) in [(2u64, 5u64), (7, 30)] {
        let good = block(target, secs, &k);
        let mut rejected = 0;
        let mut unchecked = 0;
        for i in 0..4 {
            for byte in 0..64 {
                let mut b = good.clone();
                set_sig(&mut b, i, |s| {
                    if let CommitSig::BlockIdFlagCommit { signature, .. } = s {
                        let mut bytes = signature.as_ref().unwrap().as_bytes().to_vec();
                        bytes[byte] ^= 0x01;
                        *signature = tendermint::Signature::new(bytes).unwrap();
                    }
                });
                match verify_both(&c, &header_from(&b, &b1), ts(secs + 5)) {
                    Err(e) => {
                        assert_eq!(e.name(), "invalid_commit_signature", "sig {i} byte {byte}");
                        rejected += 1;
                    }
                    // With 4 equal validators, 3 signatures reach 2/3 and the reference
                    // stops before the 4th: a flip there is never looked at.
                    Ok(()) => unchecked += 1,
                }
            }
        }
        assert_eq!(rejected, 3 * 64, "height {target}");
        assert_eq!(unchecked, 64, "height {target}");
    }
}

#[test]
fn signatures_below_two_thirds_are_insufficient_signers_overlap() {
    let k = keys();
    let b1 = block(1, 0, &k);
    let c = client_at(&b1);
    for target in [2u64, 6] {
        let mut b = block(target, 20, &k);
        set_sig(&mut b, 0, |s| *s = CommitSig::BlockIdFlagAbsent);
        set_sig(&mut b, 1, |s| *s = CommitSig::BlockIdFlagAbsent);
        expect_err(
            verify_both(&c, &header_from(&b, &b1), ts(30)),
            "insufficient_signers_overlap",
        );
        assert!(matches!(
            c.verify_header(&header_from(&b, &b1), ts(30)),
            Err(TendermintError::InsufficientSignersOverlap {
                tallied: 20,
                total: 40
            })
        ));
    }
}

#[test]
fn duplicate_signer_in_commit_is_not_counted_twice() {
    let k = keys();
    let b1 = block(1, 0, &k);
    let c = client_at(&b1);
    let mut b = block(2, 5, &k);
    let first = b.signed_header.commit.signatures[0].clone();
    set_sig(&mut b, 1, |s| *s = first);
    expect_err(
        verify_both(&c, &header_from(&b, &b1), ts(10)),
        "duplicate_validator",
    );
}

#[test]
fn duplicate_validator_address_in_set_is_not_counted_twice() {
    // The address is not part of the validator-set hash: two entries sharing an address
    // would let one vote count twice (the attack tendermint-rs' verifier tests replay).
    let k = keys();
    let b1 = block(1, 0, &k);
    let c = client_at(&b1);
    let mut b = block(2, 5, &k);
    set_sig(&mut b, 1, |s| *s = CommitSig::BlockIdFlagAbsent);
    set_sig(&mut b, 2, |s| *s = CommitSig::BlockIdFlagAbsent);
    let addr0 = b.validators.validators()[0].address;
    let mut vals = b.validators.validators().clone();
    vals[1].address = addr0;
    b.validators = tendermint::validator::Set::without_proposer(vals);
    assert_eq!(
        b.validators.hash(),
        b.signed_header.header.validators_hash,
        "address is not hashed"
    );
    expect_err(
        verify_both(&c, &header_from(&b, &b1), ts(10)),
        "duplicate_validator",
    );
}

#[test]
fn signer_outside_the_validator_set_is_refused() {
    let k = keys();
    let b1 = block(1, 0, &k);
    let c = client_at(&b1);
    let mut b = block(2, 5, &k);
    set_sig(&mut b, 3, |s| {
        if let CommitSig::BlockIdFlagCommit {
            validator_address, ..
        } = s
        {
            *validator_address = tendermint::account::Id::new([0xAB; 20]);
        }
    });
    expect_err(
        verify_both(&c, &header_from(&b, &b1), ts(10)),
        "signer_not_in_validator_set",
    );
}

#[test]
fn wrong_chain_id_is_chain_id_mismatch() {
    let k = keys();
    let b1 = block(1, 0, &k);
    let c = client_at(&b1);
    let b = signed_light_block("other-chain", 2, ts(5), &k, &k, &[2; 32]).unwrap();
    expect_err(
        verify_both(&c, &header_from(&b, &b1), ts(10)),
        "chain_id_mismatch",
    );
}

#[test]
fn expired_trusting_period_is_trust_expired() {
    let k = keys();
    let b1 = block(1, 0, &k);
    let c = client_at(&b1);
    let b = block(2, 5, &k);
    let fifteen_days = 15 * 86_400;
    expect_err(
        verify_both(&c, &header_from(&b, &b1), ts(fifteen_days)),
        "trust_expired",
    );
    assert_eq!(c.status(ts(fifteen_days)), ClientStatus::Expired);
    assert_eq!(c.status(ts(60)), ClientStatus::Active);
}

#[test]
fn header_beyond_clock_drift_is_from_the_future() {
    let k = keys();
    let b1 = block(1, 0, &k);
    let c = client_at(&b1);
    let b = block(2, 100, &k);
    // drift is 10 s: 89 s before the header is too early, 91 s is fine.
    expect_err(
        verify_both(&c, &header_from(&b, &b1), ts(89)),
        "header_from_the_future",
    );
    assert!(verify_both(&c, &header_from(&b, &b1), ts(91)).is_ok());
}

#[test]
fn validator_and_commit_mismatches_are_named() {
    let k = keys();
    let b1 = block(1, 0, &k);
    let c = client_at(&b1);
    let good = block(2, 5, &k);

    let mut b = good.clone();
    b.validators = block(2, 5, &validator_keys(9, 4)).validators;
    expect_err(
        verify_both(&c, &header_from(&b, &b1), ts(10)),
        "validators_hash_mismatch",
    );

    let mut b = good.clone();
    b.signed_header.header.app_hash = vec![7u8; 32].try_into().unwrap();
    expect_err(
        verify_both(&c, &header_from(&b, &b1), ts(10)),
        "header_commit_mismatch",
    );

    let mut h = header_from(&good, &b1);
    h.trusted_next_validator_set = block(1, 0, &validator_keys(9, 4)).validators;
    expect_err(verify_both(&c, &h, ts(10)), "trusted_validators_mismatch");

    let mut h = header_from(&good, &b1);
    h.trusted_height = 77;
    expect_err(verify_both(&c, &h, ts(10)), "consensus_state_not_found");

    // Adjacent header signed by a set other than the trusted next set.
    let other = validator_keys(9, 4);
    let b = block(2, 5, &other);
    expect_err(
        verify_both(&c, &header_from(&b, &b1), ts(10)),
        "next_validators_hash_mismatch",
    );

    // A later header whose time is not after the trusted one.
    let b = block(3, 0, &k);
    expect_err(
        verify_both(&c, &header_from(&b, &b1), ts(10)),
        "non_monotonic_bft_time",
    );

    let mut b = good.clone();
    for s in &mut b.signed_header.commit.signatures {
        *s = CommitSig::BlockIdFlagAbsent;
    }
    expect_err(
        verify_both(&c, &header_from(&b, &b1), ts(10)),
        "no_signature_for_commit",
    );

    let mut b = good;
    b.signed_header.commit.signatures.pop();
    expect_err(
        verify_both(&c, &header_from(&b, &b1), ts(10)),
        "signature_count_mismatch",
    );
}

#[test]
fn skipping_to_a_disjoint_validator_set_is_not_enough_trust() {
    let k = keys();
    let b1 = block(1, 0, &k);
    let c = client_at(&b1);
    let b = block(8, 40, &validator_keys(2, 4));
    expect_err(
        verify_both(&c, &header_from(&b, &b1), ts(50)),
        "not_enough_trust",
    );
}

#[test]
fn trust_level_below_one_third_and_bad_periods_are_refused_at_construction() {
    let b1 = block(1, 0, &keys());
    let cs = ConsensusState::from_signed_header(&b1.signed_header).unwrap();
    let mk = |n: u64, d: u64| {
        let mut cfg = default_config(CHAIN);
        cfg.trust_numerator = n;
        cfg.trust_denominator = d;
        TendermintClient::new(&cfg, 1, cs.clone()).map(|_| ())
    };
    expect_err(mk(1, 4), "trust_level_below_one_third");
    expect_err(mk(33, 100), "trust_level_below_one_third");
    expect_err(mk(0, 3), "invalid_trust_level");
    expect_err(mk(1, 0), "invalid_trust_level");
    expect_err(mk(4, 3), "invalid_trust_level");
    assert!(mk(1, 3).is_ok());
    assert!(mk(2, 3).is_ok());
    assert!(mk(1, 1).is_ok());
    let mut cfg = default_config(CHAIN);
    cfg.trusting_period_ns = cfg.unbonding_period_ns;
    expect_err(
        TendermintClient::new(&cfg, 1, cs.clone()).map(|_| ()),
        "invalid_trusting_period",
    );
    cfg.trusting_period_ns = 0;
    expect_err(
        TendermintClient::new(&cfg, 1, cs.clone()).map(|_| ()),
        "invalid_trusting_period",
    );
    let mut cfg = default_config("");
    cfg.chain_id = String::new();
    expect_err(
        TendermintClient::new(&cfg, 1, cs).map(|_| ()),
        "invalid_chain_id",
    );
}

#[test]
fn trust_level_two_thirds_needs_more_overlap_than_one_third() {
    // 2 of 4 trusted validators still sign at height 8: enough for 1/3, not for 2/3.
    let k = keys();
    let b1 = block(1, 0, &k);
    let mut mixed = k[..2].to_vec();
    mixed.extend(validator_keys(3, 2));
    let b8 = block(8, 40, &mixed);
    assert!(verify_both(&client_at(&b1), &header_from(&b8, &b1), ts(50)).is_ok());
    let mut cfg = default_config(CHAIN);
    cfg.trust_numerator = 2;
    cfg.trust_denominator = 3;
    expect_err(
        verify_both(&client_with(&b1, &cfg), &header_from(&b8, &b1), ts(50)),
        "not_enough_trust",
    );
}

#[test]
fn conflicting_headers_at_one_height_freeze_the_client() {
    let k = keys();
    let b1 = block(1, 0, &k);
    let mut c = client_at(&b1);
    let a = block(5, 20, &k);
    let mut b = a.clone();
    b.signed_header.header.app_hash = vec![0xEE; 32].try_into().unwrap();
    resign(&mut b, &k).unwrap();
    // The honest one is applied first; the fork then cannot be applied.
    let v = c.verify_header(&header_from(&a, &b1), ts(30)).unwrap();
    c.apply_header(v);
    expect_err(
        c.verify_header(&header_from(&b, &b1), ts(30)).map(|_| ()),
        "conflicting_consensus_state",
    );

    let ev = Misbehaviour {
        header1: header_from(&a, &b1),
        header2: header_from(&b, &b1),
    };
    assert_eq!(c.verify_misbehaviour(&ev, ts(30)), Ok(5));
    let same = Misbehaviour {
        header1: header_from(&a, &b1),
        header2: header_from(&a, &b1),
    };
    expect_err(
        c.verify_misbehaviour(&same, ts(30)).map(|_| ()),
        "headers_not_conflicting",
    );

    c.freeze(5);
    assert_eq!(c.status(ts(30)), ClientStatus::Frozen { height: 5 });
    let b6 = block(6, 25, &k);
    expect_err(
        c.verify_header(&header_from(&b6, &a), ts(30)).map(|_| ()),
        "frozen",
    );
    expect_err(
        c.verify_membership(5, &[b"ibc".to_vec()], b"v", b"p"),
        "frozen",
    );
    expect_err(
        c.verify_non_membership(5, &[b"ibc".to_vec()], b"p"),
        "frozen",
    );
    expect_err(c.verify_misbehaviour(&ev, ts(30)).map(|_| ()), "frozen");
}

#[test]
fn misbehaviour_with_a_forged_header_is_refused_and_does_not_freeze() {
    let k = keys();
    let b1 = block(1, 0, &k);
    let c = client_at(&b1);
    let a = block(5, 20, &k);
    // The fork is signed by keys the client never trusted.
    let mut b = block(5, 20, &validator_keys(7, 4));
    b.next_validators = a.next_validators.clone();
    let ev = Misbehaviour {
        header1: header_from(&a, &b1),
        header2: header_from(&b, &b1),
    };
    expect_err(
        c.verify_misbehaviour(&ev, ts(30)).map(|_| ()),
        "not_enough_trust",
    );
    // A fork with a bad signature.
    let mut b = a.clone();
    b.signed_header.header.app_hash = vec![0xEE; 32].try_into().unwrap();
    resign(&mut b, &k).unwrap();
    set_sig(&mut b, 0, |s| {
        if let CommitSig::BlockIdFlagCommit { signature, .. } = s {
            *signature = tendermint::Signature::new([3u8; 64]).unwrap();
        }
    });
    let ev = Misbehaviour {
        header1: header_from(&a, &b1),
        header2: header_from(&b, &b1),
    };
    expect_err(
        c.verify_misbehaviour(&ev, ts(30)).map(|_| ()),
        "invalid_commit_signature",
    );
    assert_eq!(c.status(ts(30)), ClientStatus::Active);
}

#[test]
fn bft_time_violation_is_misbehaviour() {
    let k = keys();
    let b1 = block(1, 0, &k);
    let mut c = client_at(&b1);
    let high = block(6, 20, &k);
    let low = block(5, 25, &k);
    let ev = Misbehaviour {
        header1: header_from(&high, &b1),
        header2: header_from(&low, &b1),
    };
    assert_eq!(c.verify_misbehaviour(&ev, ts(30)), Ok(6));
    let ok_low = block(5, 15, &k);
    let ev = Misbehaviour {
        header1: header_from(&high, &b1),
        header2: header_from(&ok_low, &b1),
    };
    expect_err(
        c.verify_misbehaviour(&ev, ts(30)).map(|_| ()),
        "no_time_violation",
    );
    // The same rule guards updates: a header between stored heights must fit in time.
    let v = c.verify_header(&header_from(&high, &b1), ts(30)).unwrap();
    c.apply_header(v);
    expect_err(
        c.verify_header(&header_from(&low, &b1), ts(30)).map(|_| ()),
        "time_monotonicity_violation",
    );
    assert!(c.verify_header(&header_from(&ok_low, &b1), ts(30)).is_ok());
}

#[test]
fn consensus_states_are_bounded_and_keep_the_latest() {
    let k = keys();
    let b1 = block(1, 0, &k);
    let mut cfg = default_config(CHAIN);
    cfg.max_consensus_states = 3;
    let mut c = client_with(&b1, &cfg);
    let mut trusted = b1;
    for h in 2..=7u64 {
        let b = block(h, h * 5, &k);
        let v = c
            .verify_header(&header_from(&b, &trusted), ts(100))
            .unwrap();
        c.apply_header(v);
        trusted = b;
    }
    assert_eq!(c.stored_heights(), vec![5, 6, 7]);
    assert_eq!(c.latest_height(), 7);
}

#[test]
fn proofs_delegate_to_ics23_and_bound_paths() {
    let k = keys();
    let b1 = block(1, 0, &k);
    let c = client_at(&b1);
    expect_err(
        c.verify_membership(3, &[b"ibc".to_vec()], b"v", b"p"),
        "consensus_state_not_found",
    );
    let long: Vec<Vec<u8>> = (0..17).map(|i| vec![i]).collect();
    expect_err(c.verify_membership(1, &long, b"v", b"p"), "path_too_long");
    // At a verified height the ICS-23 verifier judges (a garbage proof must be refused).
    let r = c.verify_membership(1, &[b"ibc".to_vec(), b"key".to_vec()], b"v", b"\x01\x02");
    assert!(matches!(r, Err(TendermintError::Proof(_))), "got {r:?}");
    let r = c.verify_non_membership(1, &[b"ibc".to_vec(), b"key".to_vec()], b"\x01\x02");
    assert!(matches!(r, Err(TendermintError::Proof(_))), "got {r:?}");
}

#[test]
fn testkit_blocks_are_deterministic_and_verify_with_both_engines() {
    for n in [1usize, 2, 3, 4, 7, 10, 25] {
        let a = light_block(CHAIN, 10, ts(0), n, 42).unwrap();
        let b = light_block(CHAIN, 10, ts(0), n, 42).unwrap();
        assert_eq!(a, b, "n={n}");
        assert_eq!(a.validators.validators().len(), n);
        assert_eq!(verify_commit_batch(&a), Ok(()), "n={n}");
        assert_eq!(verify_commit_reference(&a), Ok(()), "n={n}");
    }
    let c = light_block(CHAIN, 10, ts(0), 4, 43).unwrap();
    let a = light_block(CHAIN, 10, ts(0), 4, 42).unwrap();
    assert_ne!(
        a.signed_header.header.validators_hash,
        c.signed_header.header.validators_hash
    );
    // Commit-only check: a bad signature early in set order is named by both engines.
    let mut bad = a.clone();
    set_sig(&mut bad, 0, |s| {
        if let CommitSig::BlockIdFlagCommit { signature, .. } = s {
            *signature = tendermint::Signature::new([9u8; 64]).unwrap();
        }
    });
    for engine in [Engine::Batch, Engine::Reference] {
        expect_err(
            verify_commit(&bad.signed_header, &bad.validators, engine),
            "invalid_commit_signature",
        );
    }
}

#[test]
fn oversized_validator_sets_are_refused_by_name() {
    let k = keys();
    let b1 = block(1, 0, &k);
    let c = client_at(&b1);
    let mut b = block(2, 5, &k);
    let extra = b.signed_header.commit.signatures[0].clone();
    b.signed_header
        .commit
        .signatures
        .extend(std::iter::repeat_n(extra, 1100));
    expect_err(
        c.verify_header(&header_from(&b, &b1), ts(10)).map(|_| ()),
        "too_many_validators",
    );
}

struct MapSource(BTreeMap<u64, LightBlock>);

impl LightBlockSource for MapSource {
    type Error = String;
    fn fetch(&mut self, height: u64) -> Result<LightBlock, String> {
        self.0
            .get(&height)
            .cloned()
            .ok_or_else(|| format!("no block at {height}"))
    }
}

/// Heights 1..=n; the validator set at height h is the 4 keys with indices h..h+4 of a
/// long key list, so each height replaces one validator.
fn rotating_chain(n: u64) -> BTreeMap<u64, LightBlock> {
    let all = validator_keys(5, (n + 5) as usize);
    (1..=n)
        .map(|h| {
            let i = h as usize;
            let b = signed_light_block(
                CHAIN,
                h,
                ts(h * 10),
                &all[i..i + 4],
                &all[i + 1..i + 5],
                &[h as u8; 32],
            )
            .unwrap();
            (h, b)
        })
        .collect()
}

#[test]
fn bisection_finds_a_verified_path_through_rotating_validators() {
    let chain = rotating_chain(16);
    let trusted = chain[&1].clone();
    let c = client_at(&trusted);
    let opts = c.options();
    let mut src = MapSource(chain.clone());
    let trace =
        verify_to_target(&trusted, 16, &mut src, &opts, ts(200), 64, Engine::Batch).unwrap();
    let heights: Vec<u64> = trace.verified.iter().map(|b| b.height().value()).collect();
    assert_eq!(heights.last(), Some(&16));
    assert!(heights.len() >= 2, "must bisect: {heights:?}");
    assert!(heights.windows(2).all(|w| w[0] < w[1]));
    // The trace drives the client: apply each step as an update.
    let mut client = c;
    let mut prev = trusted;
    for b in &trace.verified {
        let v = client
            .verify_header(&header_from(b, &prev), ts(200))
            .unwrap();
        client.apply_header(v);
        prev = b.clone();
    }
    assert_eq!(client.latest_height(), 16);
    let reference = verify_to_target(
        &chain[&1],
        16,
        &mut MapSource(chain.clone()),
        &opts,
        ts(200),
        64,
        Engine::Reference,
    )
    .unwrap();
    assert_eq!(reference, trace);
}

#[test]
fn bisection_is_bounded_and_names_its_failures() {
    let chain = rotating_chain(16);
    let trusted = chain[&1].clone();
    let opts = client_at(&trusted).options();
    let r = verify_to_target(
        &trusted,
        16,
        &mut MapSource(chain.clone()),
        &opts,
        ts(200),
        2,
        Engine::Batch,
    );
    assert!(
        matches!(r, Err(BisectionError::TooManySteps { max: 2 })),
        "{r:?}"
    );
    let r = verify_to_target(
        &trusted,
        1,
        &mut MapSource(chain.clone()),
        &opts,
        ts(200),
        64,
        Engine::Batch,
    );
    assert_eq!(r.unwrap_err().name(), "target_not_above_trusted");
    let r = verify_to_target(
        &trusted,
        30,
        &mut MapSource(chain.clone()),
        &opts,
        ts(400),
        64,
        Engine::Batch,
    );
    assert_eq!(r.unwrap_err().name(), "source_failed");
    // Height 4 is on the path (16 and 8 lack trust); garbage signatures there stop it.
    let mut broken = chain.clone();
    let mut b4 = broken[&4].clone();
    for s in &mut b4.signed_header.commit.signatures {
        if let CommitSig::BlockIdFlagCommit { signature, .. } = s {
            *signature = tendermint::Signature::new([5u8; 64]).unwrap();
        }
    }
    broken.insert(4, b4);
    let r = verify_to_target(
        &trusted,
        16,
        &mut MapSource(broken),
        &opts,
        ts(200),
        64,
        Engine::Batch,
    );
    match r {
        Err(BisectionError::Verification { height: 4, error }) => {
            assert_eq!(error.name(), "invalid_commit_signature")
        }
        Err(e) => panic!("expected failure at 4, got {e}"),
        Ok(t) => panic!(
            "expected failure at 4, got a trace of {} blocks",
            t.verified.len()
        ),
    }
}

#[test]
fn trusted_time_plus_period_bounds_status() {
    let k = keys();
    let b1 = block(1, 0, &k);
    let c = client_at(&b1);
    let period = default_config(CHAIN).trusting_period_ns / SEC;
    assert_eq!(c.status(ts(period - 1)), ClientStatus::Active);
    assert_eq!(c.status(ts(period)), ClientStatus::Expired);
}

/// Heights 1..=n like `rotating_chain`, but from `fork_at` on the same validators sign
/// other blocks (other app hash): a fork by the whole validator set.
fn forked_chain(n: u64, fork_at: u64) -> BTreeMap<u64, LightBlock> {
    let all = validator_keys(5, (n + 5) as usize);
    (1..=n)
        .map(|h| {
            let i = h as usize;
            let app = if h >= fork_at {
                [0xF0 | h as u8; 32]
            } else {
                [h as u8; 32]
            };
            let b = signed_light_block(
                CHAIN,
                h,
                ts(h * 10),
                &all[i..i + 4],
                &all[i + 1..i + 5],
                &app,
            )
            .unwrap();
            (h, b)
        })
        .collect()
}

#[test]
fn primary_and_witness_forks_are_detected_as_misbehaviour_and_freeze() {
    let primary = rotating_chain(16);
    let trusted = primary[&1].clone();
    for fork_at in [16u64, 9, 2] {
        let witness = forked_chain(16, fork_at);
        let mut client = client_at(&trusted);
        let opts = client.options();
        let now = ts(200);
        let p = verify_to_target(
            &trusted,
            16,
            &mut MapSource(primary.clone()),
            &opts,
            now,
            64,
            Engine::Batch,
        )
        .unwrap()
        .verified;
        let w = verify_to_target(
            &trusted,
            16,
            &mut MapSource(witness.clone()),
            &opts,
            now,
            64,
            Engine::Batch,
        )
        .unwrap()
        .verified;
        // The client follows the primary.
        let mut prev = trusted.clone();
        for b in &p {
            let v = client.verify_header(&header_from(b, &prev), now).unwrap();
            client.apply_header(v);
            prev = b.clone();
        }
        // First divergence of the two verified traces; both sides are proven from the last
        // common block, which the client holds.
        let split = p
            .iter()
            .zip(&w)
            .position(|(a, b)| a.signed_header.header.hash() != b.signed_header.header.hash())
            .expect("the traces diverge");
        let base = if split == 0 {
            trusted.clone()
        } else {
            p[split - 1].clone()
        };
        assert_eq!(p[split].height(), w[split].height());
        let evidence = Misbehaviour {
            header1: header_from(&p[split], &base),
            header2: header_from(&w[split], &base),
        };
        let height = client.verify_misbehaviour(&evidence, now).unwrap();
        assert_eq!(height, p[split].height().value(), "fork at {fork_at}");
        assert!(height >= fork_at);
        // The witness' header alone is refused as an update: a state already exists there.
        expect_err(
            client
                .verify_header(&header_from(&w[split], &base), now)
                .map(|_| ()),
            "conflicting_consensus_state",
        );
        client.freeze(height);
        assert_eq!(client.status(now), ClientStatus::Frozen { height });
        expect_err(
            client.verify_membership(height, &[b"k".to_vec()], b"v", b"p"),
            "frozen",
        );
    }
}

#[test]
fn ics23_membership_is_proven_against_a_verified_headers_app_hash() {
    use junction_light_clients::tendermint::proof::testkit::cosmos_membership;
    let (app_hash, store, key, value, proof) = cosmos_membership(12, 8, 7).unwrap();
    let app_hash: [u8; 32] = app_hash.try_into().unwrap();
    let k = keys();
    let b1 = block(1, 0, &k);
    let mut c = client_at(&b1);
    // Height 2 commits the multistore root as its app hash; the client learns it by update.
    let b2 = signed_light_block(CHAIN, 2, ts(5), &k, &k, &app_hash).unwrap();
    let v = c.verify_header(&header_from(&b2, &b1), ts(10)).unwrap();
    c.apply_header(v);
    let path = [store.clone(), key.clone()];
    c.verify_membership(2, &path, &value, &proof).unwrap();
    let mut wrong = value.clone();
    wrong[0] ^= 1;
    assert!(matches!(
        c.verify_membership(2, &path, &wrong, &proof),
        Err(TendermintError::Proof(_))
    ));
    // The same proof at a height whose app hash differs is refused.
    let r = c.verify_membership(1, &path, &value, &proof);
    assert_eq!(r.unwrap_err().name(), "root_mismatch");
    // Present keys are not absent.
    assert!(matches!(
        c.verify_non_membership(2, &path, &proof),
        Err(TendermintError::Proof(_))
    ));
}
