//! ed25519 edge cases under ZIP-215 (the rule Tendermint commit signatures use): single and
//! batch verification must agree per case and match speccheck's results for Zebra.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use junction_light_clients::tendermint::batch::{verify_ed25519_batch, verify_ed25519_single};

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

#[test]
fn speccheck_cases_give_zip215_answers_single_and_batch() {
    let Some(dir) = common::vector_path("ed25519/speccheck") else {
        return;
    };
    let cases: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(dir.join("cases.json")).unwrap()).unwrap();
    let results = std::fs::read_to_string(dir.join("results.md")).unwrap();
    let zebra = results
        .lines()
        .find(|l| l.starts_with("|Zebra"))
        .expect("Zebra row in results.md");
    let expected: Vec<bool> = zebra
        .split('|')
        .skip(2)
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(|c| c == "V")
        .collect();
    assert_eq!(expected.len(), cases.len(), "one Zebra verdict per case");
    // PROVENANCE: Zebra accepts 0-5 and 9-11, rejects 6-8.
    let accepted: Vec<usize> = (0..expected.len()).filter(|i| expected[*i]).collect();
    assert_eq!(accepted, vec![0, 1, 2, 3, 4, 5, 9, 10, 11]);
    for (i, case) in cases.iter().enumerate() {
        let msg = unhex(case["message"].as_str().unwrap());
        let pk = unhex(case["pub_key"].as_str().unwrap());
        let sig = unhex(case["signature"].as_str().unwrap());
        let single = verify_ed25519_single(&pk, &sig, &msg);
        let batch = verify_ed25519_batch(&[(&pk, &sig, &msg)]);
        assert_eq!(single, expected[i], "speccheck case {i}: single verdict");
        assert_eq!(batch, expected[i], "speccheck case {i}: batch verdict");
    }
    // A batch of all accepted cases passes; adding any rejected case fails it.
    let decoded: Vec<(Vec<u8>, Vec<u8>, Vec<u8>)> = cases
        .iter()
        .map(|c| {
            (
                unhex(c["pub_key"].as_str().unwrap()),
                unhex(c["signature"].as_str().unwrap()),
                unhex(c["message"].as_str().unwrap()),
            )
        })
        .collect();
    let good: Vec<(&[u8], &[u8], &[u8])> = decoded
        .iter()
        .enumerate()
        .filter(|(i, _)| expected[*i])
        .map(|(_, (p, s, m))| (p.as_slice(), s.as_slice(), m.as_slice()))
        .collect();
    assert!(
        verify_ed25519_batch(&good),
        "batch of the ZIP-215-valid speccheck cases"
    );
    for (i, (p, s, m)) in decoded.iter().enumerate().filter(|(i, _)| !expected[*i]) {
        let mut items = good.clone();
        items.push((p, s, m));
        assert!(
            !verify_ed25519_batch(&items),
            "batch with rejected case {i} must fail"
        );
    }
}

#[test]
fn cctv_vectors_single_and_batch_agree_with_zip215_rule() {
    let Some(dir) = common::vector_path("ed25519/cctv") else {
        return;
    };
    let vectors: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(dir.join("ed25519vectors.json")).unwrap())
            .unwrap();
    assert!(!vectors.is_empty());
    let mut all = Vec::new();
    let mut rejected = 0usize;
    for v in &vectors {
        let n = v["number"].as_u64().unwrap();
        let pk = unhex(v["key"].as_str().unwrap());
        let sig = unhex(v["sig"].as_str().unwrap());
        let msg = v["msg"].as_str().unwrap().as_bytes().to_vec();
        let single = verify_ed25519_single(&pk, &sig, &msg);
        let batch = verify_ed25519_batch(&[(&pk, &sig, &msg)]);
        assert_eq!(single, batch, "cctv vector {n}: single and batch disagree");
        // ZIP-215: cofactored equation, non-canonical A and R accepted, and k hashed over
        // the bytes as given; so every vector verifies except those whose k was computed
        // over a re-encoded A or R (`reencoded_k`), unless A has low order, where the
        // cofactored equation drops the [8][k]A term and k does not matter.
        let no_flags = Vec::new();
        let flags = v["flags"].as_array().unwrap_or(&no_flags);
        let has = |name: &str| flags.iter().any(|f| f == name);
        let expected = !has("reencoded_k") || has("low_order_A");
        assert_eq!(
            single, expected,
            "cctv vector {n} (flags {}) under ZIP-215",
            v["flags"]
        );
        if single {
            all.push((pk, sig, msg));
        } else {
            rejected += 1;
        }
    }
    let items: Vec<(&[u8], &[u8], &[u8])> = all
        .iter()
        .map(|(p, s, m)| (p.as_slice(), s.as_slice(), m.as_slice()))
        .collect();
    assert!(
        verify_ed25519_batch(&items),
        "one batch of all accepted cctv vectors"
    );
    println!(
        "cctv: {} accepted, {rejected} rejected (reencoded_k with A not of low order)",
        all.len()
    );
    assert!(rejected > 0 && !all.is_empty());
}

#[test]
fn supercop_sign_input_lines_verify_and_a_flipped_bit_does_not() {
    let Some(dir) = common::vector_path("ed25519/supercop-sign-input") else {
        return;
    };
    let text = std::fs::read_to_string(dir.join("sign.input.first256")).unwrap();
    let mut count = 0;
    for (line_no, line) in text.lines().enumerate() {
        let fields: Vec<&str> = line.split(':').collect();
        let sk_pk = unhex(fields[0]);
        let pk = unhex(fields[1]);
        let msg = unhex(fields[2]);
        let sig = unhex(fields[3])[..64].to_vec();
        let key = ed25519_consensus::SigningKey::try_from(&sk_pk[..32]).unwrap();
        assert_eq!(
            key.verification_key().as_bytes(),
            &pk[..],
            "line {line_no}: public key"
        );
        assert_eq!(
            key.sign(&msg).to_bytes().to_vec(),
            sig,
            "line {line_no}: deterministic signature"
        );
        assert!(verify_ed25519_single(&pk, &sig, &msg), "line {line_no}");
        let mut bad = sig.clone();
        bad[line_no % 64] ^= 1 << (line_no % 8);
        assert!(
            !verify_ed25519_single(&pk, &bad, &msg),
            "line {line_no}: flipped signature"
        );
        assert!(
            !verify_ed25519_batch(&[(&pk, &sig, &msg), (&pk, &bad, &msg)]),
            "line {line_no}: batch with flipped signature"
        );
        count += 1;
    }
    assert_eq!(count, 256);
}

/// Wycheproof's verdicts are strict RFC 8032. Under ZIP-215 every "valid" case must verify,
/// and every "invalid" one must fail except where the only defect is an encoding ZIP-215
/// deliberately accepts (non-canonical point encodings); those are listed and counted.
#[test]
fn wycheproof_cases_under_zip215_single_and_batch() {
    let Some(dir) = common::vector_path("ed25519/wycheproof") else {
        return;
    };
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("ed25519_test.json")).unwrap())
            .unwrap();
    let mut valid = 0;
    let mut rejected = 0;
    let mut zip215_accepts = Vec::new();
    for group in file["testGroups"].as_array().unwrap() {
        let pk = unhex(group["publicKey"]["pk"].as_str().unwrap());
        for case in group["tests"].as_array().unwrap() {
            let id = case["tcId"].as_u64().unwrap();
            let msg = unhex(case["msg"].as_str().unwrap());
            let sig = unhex(case["sig"].as_str().unwrap());
            let flags: Vec<&str> = case["flags"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f.as_str().unwrap())
                .collect();
            let single = verify_ed25519_single(&pk, &sig, &msg);
            let batch = verify_ed25519_batch(&[(&pk[..], &sig[..], &msg[..])]);
            assert_eq!(single, batch, "tcId {id}: single and batch disagree");
            match case["result"].as_str().unwrap() {
                "valid" => {
                    assert!(single, "tcId {id} ({flags:?}) must verify");
                    valid += 1;
                }
                _ if !single => rejected += 1,
                _ => {
                    // Only a non-canonical encoding of a point may pass under ZIP-215; a
                    // malleable S (≥ L), truncation, garbage or a wrong signature never.
                    assert_eq!(
                        flags,
                        ["InvalidEncoding"],
                        "tcId {id}: ZIP-215 accepted an invalid case that is not an encoding issue"
                    );
                    assert!(sig.len() == 64 && pk.len() == 32, "tcId {id}: lengths");
                    zip215_accepts.push(id);
                }
            }
        }
    }
    println!("valid {valid}, rejected {rejected}, accepted by ZIP-215 only: {zip215_accepts:?}");
    assert_eq!(valid, 88);
    // tcId 151: R encodes y = 1 with the sign bit of x set ("-0"), a non-canonical encoding
    // that ZIP-215 accepts by design so that every validator agrees on it.
    assert_eq!(zip215_accepts, [151]);
    assert_eq!(valid + rejected + zip215_accepts.len(), 151);
}
