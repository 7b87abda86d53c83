//! The Consensys qbft-tests vectors (see ../shared/vectors/qbft/PROVENANCE.md).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use junction_light_clients::evm::header::EvmHeader;
use junction_light_clients::evm::qbft::{
    verify_seals, EmptyVote, QbftError, QbftExtraData, QbftHeader, RoundEncoding, Vote, VoteType,
};
use junction_light_clients::evm::secp::recover_address;
use junction_light_clients::NamedError;
use serde_json::Value;

fn hx(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().unwrap().trim_start_matches("0x")).unwrap()
}

fn load(file: &str) -> Option<Value> {
    let path = common::vector_path(&format!("qbft/consensys-qbft-tests/{file}"))?;
    Some(serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap())
}

#[test]
fn extra_data_vectors_decode_to_their_fields_and_round_trip() {
    let Some(cases) = load("bft_extra_data.json") else {
        return;
    };
    let cases = cases.as_object().unwrap();
    assert_eq!(cases.len(), 4, "PROVENANCE lists 4 cases");
    for (name, case) in cases {
        let rlp = hx(&case["rlp"]);
        let f = &case["qbft_extra_data"];
        let decoded = QbftExtraData::decode(&rlp)
            .unwrap_or_else(|e| panic!("bft_extra_data.json/{name}: {e}"));
        let vote = match &f["vote"] {
            Value::Null => None,
            v => Some(Vote {
                recipient: hx(&v["recipient"]).try_into().unwrap(),
                vote_type: match v["voteType"].as_str().unwrap() {
                    "0xff" => VoteType::Add,
                    "0x00" => VoteType::Drop,
                    other => panic!("{name}: vote type {other}"),
                },
            }),
        };
        let expected = QbftExtraData {
            vanity: hx(&f["vanityData"]).try_into().unwrap(),
            validators: f["validators"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| hx(v).try_into().unwrap())
                .collect(),
            empty_vote: if vote.is_none() {
                EmptyVote::String
            } else {
                EmptyVote::List
            },
            vote,
            round: u32::try_from(f["round"].as_u64().unwrap()).unwrap(),
            round_encoding: RoundEncoding::FixedWidth,
            seals: f["seals"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| hx(v).try_into().unwrap())
                .collect(),
        };
        assert_eq!(
            decoded, expected,
            "bft_extra_data.json/{name}: decoded fields"
        );
        assert_eq!(
            expected.encode(),
            rlp,
            "bft_extra_data.json/{name}: encoding from the fields"
        );
        assert_eq!(
            decoded.encode(),
            rlp,
            "bft_extra_data.json/{name}: round trip"
        );
    }
}

fn vector_header() -> Option<(EvmHeader, [u8; 32], [u8; 32])> {
    let v = load("bft_block_headers_data.json")?;
    let c = &v["hash_of_qbft_block_header"];
    let f = &c["qbft_block_header"];
    let b32 = |k: &str| -> [u8; 32] { hx(&f[k]).try_into().unwrap() };
    let header = EvmHeader {
        parent_hash: b32("parentHash"),
        ommers_hash: b32("ommersHash"),
        beneficiary: hx(&f["coinbase"]).try_into().unwrap(),
        state_root: b32("stateRoot"),
        transactions_root: b32("transactionsRoot"),
        receipts_root: b32("receiptsRoot"),
        logs_bloom: Box::new(hx(&f["logsBloom"]).try_into().unwrap()),
        difficulty: alloy_primitives::U256::from(f["difficulty"].as_u64().unwrap()),
        number: f["number"].as_u64().unwrap(),
        gas_limit: f["gasLimit"].as_u64().unwrap(),
        gas_used: f["gasUsed"].as_u64().unwrap(),
        timestamp: f["timestamp"].as_u64().unwrap(),
        extra_data: hx(&f["extraData"]),
        mix_hash: b32("mixHash"),
        nonce: f["nonce"].as_u64().unwrap().to_be_bytes(),
        base_fee_per_gas: None,
        withdrawals_root: None,
        blob_gas_used: None,
        excess_blob_gas: None,
        parent_beacon_block_root: None,
        requests_hash: None,
    };
    Some((
        header,
        hx(&c["on_chain_hash"]).try_into().unwrap(),
        hx(&c["committed_seal_hash"]).try_into().unwrap(),
    ))
}

#[test]
fn header_vector_block_hash_and_commit_seal_digest_match() {
    let Some((header, on_chain, committed)) = vector_header() else {
        return;
    };
    let rlp = header.encode();
    let q = QbftHeader::decode(&rlp).expect("bft_block_headers_data.json decodes");
    assert_eq!(
        q.header, header,
        "bft_block_headers_data.json: header round trip"
    );
    assert_eq!(q.extra.encode(), header.extra_data, "extraData round trip");
    assert_eq!(
        q.block_hash, on_chain,
        "bft_block_headers_data.json: on_chain_hash"
    );
    assert_eq!(
        q.seal_digest, committed,
        "bft_block_headers_data.json: committed_seal_hash"
    );
    // The raw keccak of the full header is neither: seals and round really are stripped.
    let raw = junction_light_clients::evm::header::keccak256(&rlp);
    assert_ne!(raw, on_chain);
    assert_ne!(raw, committed);
}

#[test]
fn header_vector_seals_are_not_from_its_validators() {
    // PROVENANCE: the 4 seals are not by the listed validators 0x..01 / 0x..02.
    let Some((header, _, _)) = vector_header() else {
        return;
    };
    let q = QbftHeader::decode(&header.encode()).unwrap();
    assert_eq!(q.extra.seals.len(), 4);
    let err = verify_seals(&q, &q.extra.validators).unwrap_err();
    assert_eq!(
        err.name(),
        "signer_not_validator",
        "bft_block_headers_data.json: {err}"
    );
}

#[test]
fn header_vector_with_wrong_round_stripping_gives_other_digests() {
    // Keeping the round in the block hash, or dropping it from the seal digest, must give a
    // different value: the two forms are not interchangeable.
    let Some((header, on_chain, committed)) = vector_header() else {
        return;
    };
    let q = QbftHeader::decode(&header.encode()).unwrap();
    let keep_round = junction_light_clients::evm::header::keccak256(
        &header.encode_with_extra(&q.extra.encode_without_seals()),
    );
    let drop_round = junction_light_clients::evm::header::keccak256(
        &header.encode_with_extra(&q.extra.encode_without_seals_and_round()),
    );
    assert_ne!(keep_round, on_chain);
    assert_ne!(drop_round, committed);
}

#[test]
fn messages_block_decodes_with_scalar_round_and_commit_seal_recovers_the_validator() {
    let Some(v) = load("messages.json") else {
        return;
    };
    let block = hx(&v["roundChange_with_prepares"]["message"]["block"]);
    // block = [header, transactions, ommers]
    let mut buf = block.as_slice();
    let outer = alloy_rlp::Header::decode(&mut buf).unwrap();
    assert!(outer.list);
    let first = alloy_rlp::Header::decode(&mut &buf[..]).unwrap();
    let header_rlp = &buf[..first.length_with_payload()];
    let q = QbftHeader::decode(header_rlp).expect("messages.json block header decodes");
    assert_eq!(q.header.encode(), header_rlp);
    assert_eq!(q.extra.round, 0);
    assert_eq!(
        q.extra.round_encoding,
        RoundEncoding::Scalar,
        "round 0 is encoded 0x80 here"
    );
    assert_eq!(q.extra.validators.len(), 1);
    // The commit message's seal is a real signature by that validator over the digest.
    let commit = &v["commit"]["message"]["unsignedCommit"];
    let digest: [u8; 32] = hx(&commit["digest"]).try_into().unwrap();
    let seal: [u8; 65] = hx(&commit["commitSeal"]).try_into().unwrap();
    let signer = recover_address(&digest, &seal, false).expect("messages.json commitSeal recovers");
    assert_eq!(
        signer, q.extra.validators[0],
        "messages.json: commitSeal signer"
    );
    // A flipped digest recovers someone else.
    let mut other = digest;
    other[0] ^= 1;
    assert_ne!(recover_address(&other, &seal, false).ok(), Some(signer));
}

#[test]
fn extra_data_vectors_refuse_every_single_byte_flip_or_keep_the_value() {
    let Some(cases) = load("bft_extra_data.json") else {
        return;
    };
    for (name, case) in cases.as_object().unwrap() {
        let rlp = hx(&case["rlp"]);
        let original = QbftExtraData::decode(&rlp).unwrap();
        for i in 0..rlp.len() {
            for mask in [0x01u8, 0x80, 0xff] {
                let mut m = rlp.clone();
                m[i] ^= mask;
                match QbftExtraData::decode(&m) {
                    // A flip inside a value decodes to a different value, never the same one.
                    Ok(d) => {
                        assert_ne!(d, original, "{name}: flip at {i} decoded to the original");
                        assert_eq!(d.encode(), m, "{name}: flip at {i} is not canonical");
                    }
                    Err(e) => {
                        let _: &QbftError = &e;
                        assert!(!e.name().is_empty());
                    }
                }
            }
        }
    }
}
