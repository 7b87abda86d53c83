//! Ethereum header RLP: the fork-optional fields, canonical encoding only, bounds.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use alloy_primitives::U256;
use junction_light_clients::evm::header::{keccak256, EvmHeader, HeaderError, MAX_HEADER_BYTES};
use junction_light_clients::evm::qbft::testkit;
use junction_light_clients::NamedError;

fn base() -> EvmHeader {
    let spec = testkit::HeaderSpec::new(5, [1u8; 32], 1000, vec![[2u8; 20]]);
    let (mut h, _) = testkit::unsealed(&spec);
    h.base_fee_per_gas = None;
    h
}

#[test]
fn every_fork_prefix_of_optional_fields_round_trips() {
    let mut h = base();
    let mut lens = Vec::new();
    for step in 0..=6 {
        match step {
            1 => h.base_fee_per_gas = Some(U256::from(7u64)),
            2 => h.withdrawals_root = Some([3u8; 32]),
            3 => h.blob_gas_used = Some(131_072),
            4 => h.excess_blob_gas = Some(0),
            5 => h.parent_beacon_block_root = Some([4u8; 32]),
            6 => h.requests_hash = Some([5u8; 32]),
            _ => {}
        }
        let rlp = h.encode();
        let d = EvmHeader::decode(&rlp).unwrap_or_else(|e| panic!("step {step}: {e}"));
        assert_eq!(d, h, "step {step}");
        assert_eq!(d.hash(), keccak256(&rlp));
        lens.push(rlp.len());
    }
    assert!(lens.windows(2).all(|w| w[0] < w[1]));
}

#[test]
fn known_mainnet_style_genesis_hash() {
    // Ethereum mainnet genesis header (block 0): its hash is well known.
    let h = EvmHeader {
        parent_hash: [0u8; 32],
        ommers_hash: hex::decode(
            "1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347",
        )
        .unwrap()
        .try_into()
        .unwrap(),
        beneficiary: [0u8; 20],
        state_root: hex::decode("d7f8974fb5ac78d9ac099b9ad5018bedc2ce0a72dad1827a1709da30580f0544")
            .unwrap()
            .try_into()
            .unwrap(),
        transactions_root: hex::decode(
            "56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421",
        )
        .unwrap()
        .try_into()
        .unwrap(),
        receipts_root: hex::decode(
            "56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421",
        )
        .unwrap()
        .try_into()
        .unwrap(),
        logs_bloom: Box::new([0u8; 256]),
        difficulty: U256::from(17_179_869_184u64),
        number: 0,
        gas_limit: 5000,
        gas_used: 0,
        timestamp: 0,
        extra_data: hex::decode("11bbe8db4e347b4e8c937c1c8370e4b5ed33adb3db69cbdb7a38e1e50b1b82fa")
            .unwrap(),
        mix_hash: [0u8; 32],
        nonce: hex::decode("0000000000000042").unwrap().try_into().unwrap(),
        base_fee_per_gas: None,
        withdrawals_root: None,
        blob_gas_used: None,
        excess_blob_gas: None,
        parent_beacon_block_root: None,
        requests_hash: None,
    };
    assert_eq!(
        hex::encode(h.hash()),
        "d4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3"
    );
}

/// Replace the encoding of `number` (a small positive integer) by a non-minimal one.
#[test]
fn non_canonical_integer_is_refused() {
    let h = base(); // number 5 encodes as the single byte 0x05
    let rlp = h.encode();
    let gas_limit = alloy_rlp::encode(h.gas_limit);
    let mut pos = None;
    // find "05" followed by the gas-limit encoding
    for i in 0..rlp.len() - gas_limit.len() {
        if rlp[i] == 0x05 && rlp[i + 1..].starts_with(&gas_limit) {
            pos = Some(i);
        }
    }
    let i = pos.unwrap();
    // 0x81 0x05: a one-byte string for a byte below 0x80 (non-canonical)
    let mut bad = rlp[..i].to_vec();
    bad.extend_from_slice(&[0x81, 0x05]);
    bad.extend_from_slice(&rlp[i + 1..]);
    let mut payload_len = u16::from_be_bytes([rlp[1], rlp[2]]);
    payload_len += 1;
    bad[1..3].copy_from_slice(&payload_len.to_be_bytes());
    assert_eq!(
        EvmHeader::decode(&bad).unwrap_err(),
        HeaderError::NonCanonical
    );
    // 0x82 0x00 0x05: leading zero
    let mut bad2 = rlp[..i].to_vec();
    bad2.extend_from_slice(&[0x82, 0x00, 0x05]);
    bad2.extend_from_slice(&rlp[i + 1..]);
    payload_len += 1;
    bad2[1..3].copy_from_slice(&payload_len.to_be_bytes());
    assert_eq!(
        EvmHeader::decode(&bad2).unwrap_err().name(),
        "non_canonical_rlp"
    );
}

#[test]
fn long_form_list_length_for_the_header_is_refused_when_short_form_fits() {
    // A header is > 55 bytes so its list header is long form; re-encode with a 3-byte length.
    let rlp = base().encode();
    assert_eq!(rlp[0], 0xf9);
    let mut bad = vec![0xfa, 0x00];
    bad.extend_from_slice(&rlp[1..]);
    assert_eq!(
        EvmHeader::decode(&bad).unwrap_err().name(),
        "non_canonical_rlp"
    );
}

#[test]
fn trailing_bytes_missing_and_extra_fields_are_refused() {
    let h = base();
    let mut rlp = h.encode();
    rlp.push(0x80);
    assert_eq!(
        EvmHeader::decode(&rlp).unwrap_err(),
        HeaderError::TrailingBytes
    );
    // Too many fields: all optional fields plus one more.
    let mut full = base();
    full.base_fee_per_gas = Some(U256::from(1u8));
    full.withdrawals_root = Some([0u8; 32]);
    full.blob_gas_used = Some(0);
    full.excess_blob_gas = Some(0);
    full.parent_beacon_block_root = Some([0u8; 32]);
    full.requests_hash = Some([0u8; 32]);
    let enc = full.encode();
    let payload = &enc[3..];
    let mut more = payload.to_vec();
    more.push(0x80);
    let mut bad = Vec::new();
    alloy_rlp::Header {
        list: true,
        payload_length: more.len(),
    }
    .encode(&mut bad);
    bad.extend_from_slice(&more);
    assert_eq!(
        EvmHeader::decode(&bad).unwrap_err(),
        HeaderError::TooManyFields
    );
    // Too few: an empty list.
    assert_eq!(
        EvmHeader::decode(&[0xc0]).unwrap_err().name(),
        "missing_field"
    );
}

#[test]
fn oversized_header_and_extra_data_are_refused() {
    let mut h = base();
    h.extra_data = vec![0u8; MAX_HEADER_BYTES];
    assert_eq!(
        EvmHeader::decode(&h.encode()).unwrap_err().name(),
        "header_too_large"
    );
    h.extra_data = vec![0u8; 15 * 1024 + 1];
    assert_eq!(
        EvmHeader::decode(&h.encode()).unwrap_err().name(),
        "extra_data_too_large"
    );
}

#[test]
fn every_byte_flip_and_truncation_of_a_header_never_panics() {
    let mut h = base();
    h.base_fee_per_gas = Some(U256::from(9u8));
    h.withdrawals_root = Some([7u8; 32]);
    let rlp = h.encode();
    for i in 0..rlp.len() {
        for mask in [0x01u8, 0x80] {
            let mut m = rlp.clone();
            m[i] ^= mask;
            if let Ok(d) = EvmHeader::decode(&m) {
                // Anything accepted is canonical and is a different header.
                assert_eq!(d.encode(), m);
                assert_ne!(d, h);
            }
        }
    }
    for len in 0..rlp.len() {
        assert!(EvmHeader::decode(&rlp[..len]).is_err());
    }
}
