//! Property tests of the canonical encoding: round trips, and rejection of every
//! non-canonical form.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use junction_spec::encoding::{decode_vec, encode_vec};
use junction_spec::merkle::{leaf_hash, MerkleFrontier};
use junction_spec::*;
use proptest::collection::vec;
use proptest::prelude::*;

fn chain_id() -> impl Strategy<Value = ChainId> {
    "[a-z0-9._-]{1,64}".prop_map(|s| ChainId::new(s).unwrap())
}

fn hash() -> impl Strategy<Value = Hash32> {
    any::<[u8; 32]>()
}

fn header() -> impl Strategy<Value = BlockHeader> {
    (
        chain_id(),
        any::<u64>(),
        any::<u64>(),
        hash(),
        hash(),
        any::<u64>(),
        hash(),
        hash(),
        hash(),
        any::<[u8; 20]>(),
        hash(),
    )
        .prop_map(
            |(
                chain_id,
                height,
                time_ms,
                prev_block_hash,
                app_hash,
                log_size,
                log_root,
                validators_hash,
                next_validators_hash,
                proposer,
                tx_root,
            )| BlockHeader {
                version: (height % 4) as u32 + 1,
                chain_id,
                height,
                time_ms,
                prev_block_hash,
                app_hash,
                log_size,
                log_root,
                validators_hash,
                next_validators_hash,
                proposer,
                tx_root,
            },
        )
}

fn tx_kind() -> impl Strategy<Value = TxKind> {
    prop_oneof![
        vec(any::<u8>(), 0..64).prop_map(|data| TxKind::Remark { data }),
        vec(any::<u8>(), MAX_REMARK_BYTES - 2..=MAX_REMARK_BYTES)
            .prop_map(|data| TxKind::Remark { data }),
        (any::<[u8; 32]>(), "[a-z ]{1,256}")
            .prop_map(|(key, reason)| TxKind::ParkPacket { key, reason }),
        any::<[u8; 32]>().prop_map(|new_key| TxKind::RotateKey { new_key }),
        (any::<[u8; 32]>(), any::<[u8; 20]>()).prop_map(|(new_key, new_attestation_address)| {
            TxKind::RotateValidatorKeys {
                new_key,
                new_attestation_address,
            }
        }),
        (
            chain_id(),
            any::<([u8; 20], [u8; 20])>(),
            any::<[u8; 32]>(),
            any::<[u8; 32]>()
        )
            .prop_map(|(chain, (old_address, new_address), a, b)| {
                let sig = |x: [u8; 32], y: [u8; 32], v: u8| {
                    let mut s = [v; 65];
                    s[..32].copy_from_slice(&x);
                    s[32..64].copy_from_slice(&y);
                    s
                };
                TxKind::RotateAttesterKey {
                    chain,
                    old_address,
                    new_address,
                    old_signature: sig(a, b, 27),
                    new_signature: sig(b, a, 28),
                }
            }),
    ]
}

fn tx_body() -> impl Strategy<Value = TxBody> {
    (chain_id(), any::<[u8; 32]>(), any::<u64>(), tx_kind()).prop_map(
        |(chain_id, signer, nonce, kind)| TxBody {
            chain_id,
            signer,
            nonce,
            kind,
        },
    )
}

fn signed_tx() -> impl Strategy<Value = SignedTx> {
    (tx_body(), vec(any::<u8>(), 64)).prop_map(|(body, sig)| SignedTx {
        body,
        signature: sig.try_into().unwrap(),
    })
}

fn checkpoint() -> impl Strategy<Value = Checkpoint> {
    (
        chain_id(),
        any::<u64>(),
        any::<u64>(),
        any::<u64>(),
        hash(),
        hash(),
        hash(),
    )
        .prop_map(
            |(
                hub_chain_id,
                height,
                time_ms,
                log_size,
                log_root,
                attestation_set_hash,
                next_attestation_set_hash,
            )| Checkpoint {
                hub_chain_id,
                height,
                time_ms,
                log_size,
                log_root,
                attestation_set_hash,
                next_attestation_set_hash,
            },
        )
}

fn timeout() -> impl Strategy<Value = Timeout> {
    (any::<u64>(), any::<u64>()).prop_map(|(height, time_ms)| Timeout { height, time_ms })
}

fn packet() -> impl Strategy<Value = Packet> {
    (
        chain_id(),
        vec(any::<u8>(), 0..=MAX_APP_ID_LEN),
        any::<u64>(),
        chain_id(),
        vec(any::<u8>(), 0..=MAX_APP_ID_LEN),
        vec(any::<u8>(), 0..300),
        timeout(),
        (any::<u64>(), any::<u128>()),
    )
        .prop_map(
            |(
                source_chain,
                source_app,
                sequence,
                dest_chain,
                dest_app,
                payload,
                timeout,
                (gas_limit, fee),
            )| {
                Packet {
                    version: Packet::VERSION,
                    source_chain,
                    source_app,
                    sequence,
                    dest_chain,
                    dest_app,
                    payload,
                    timeout,
                    gas_limit,
                    fee,
                }
            },
        )
}

/// Strings with at least one byte outside the chain-id alphabet.
fn invalid_chain_id() -> impl Strategy<Value = String> {
    "[a-z0-9._-]{0,40}[^a-z0-9._-][a-z0-9._-]{0,40}"
}

fn frontier() -> impl Strategy<Value = MerkleFrontier> {
    (0u64..200).prop_map(|n| {
        let mut f = MerkleFrontier::new();
        for i in 0..n {
            f.append(leaf_hash(&i.to_be_bytes()));
        }
        f
    })
}

/// Round trip, trailing bytes, every strict prefix, and canonical re-encoding.
fn check_canonical<T: Encode + Decode + PartialEq + std::fmt::Debug>(
    value: &T,
    extra: &[u8],
) -> Result<(), TestCaseError> {
    let bytes = value.to_bytes();
    prop_assert_eq!(&T::from_bytes(&bytes).unwrap(), value);
    if !extra.is_empty() {
        let mut longer = bytes.clone();
        longer.extend_from_slice(extra);
        prop_assert_eq!(
            T::from_bytes(&longer).err(),
            Some(DecodeError::TrailingBytes {
                remaining: extra.len()
            })
        );
    }
    // Prefixes of large values are sampled so the test stays fast.
    let step = (bytes.len() / 512).max(1);
    for cut in (0..bytes.len()).step_by(step) {
        let got = T::from_bytes(&bytes[..cut]);
        prop_assert!(
            matches!(got, Err(DecodeError::UnexpectedEnd { .. })),
            "prefix of {} bytes: {:?}",
            cut,
            got
        );
    }
    Ok(())
}

/// A decoder either rejects the input or accepts exactly its canonical encoding.
fn decode_is_canonical<T: Encode + Decode>(bytes: &[u8]) -> Result<(), TestCaseError> {
    if let Ok(v) = T::from_bytes(bytes) {
        prop_assert_eq!(v.to_bytes(), bytes);
    }
    Ok(())
}

fn decode_all(bytes: &[u8]) -> Result<(), TestCaseError> {
    decode_is_canonical::<u8>(bytes)?;
    decode_is_canonical::<u16>(bytes)?;
    decode_is_canonical::<u32>(bytes)?;
    decode_is_canonical::<u64>(bytes)?;
    decode_is_canonical::<u128>(bytes)?;
    decode_is_canonical::<bool>(bytes)?;
    decode_is_canonical::<[u8; 32]>(bytes)?;
    decode_is_canonical::<String>(bytes)?;
    decode_is_canonical::<Option<u64>>(bytes)?;
    decode_is_canonical::<ChainId>(bytes)?;
    decode_is_canonical::<BlockHeader>(bytes)?;
    decode_is_canonical::<TxKind>(bytes)?;
    decode_is_canonical::<TxBody>(bytes)?;
    decode_is_canonical::<SignedTx>(bytes)?;
    decode_is_canonical::<Checkpoint>(bytes)?;
    decode_is_canonical::<Timeout>(bytes)?;
    decode_is_canonical::<Packet>(bytes)?;
    decode_is_canonical::<MerkleFrontier>(bytes)?;
    Ok(())
}

/// The encoding of a valid chain id followed by `rest`, with a length prefix of `len`.
fn with_len_prefix(len: u32, body: &[u8]) -> Vec<u8> {
    let mut out = len.to_be_bytes().to_vec();
    out.extend_from_slice(body);
    out
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 128,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    // Every type round-trips, and rejects trailing bytes and truncation.
    #[test]
    fn block_header_is_canonical(v in header(), extra in vec(any::<u8>(), 0..8)) {
        check_canonical(&v, &extra)?;
    }

    #[test]
    fn signed_tx_is_canonical(v in signed_tx(), extra in vec(any::<u8>(), 0..8)) {
        check_canonical(&v, &extra)?;
        check_canonical(&v.body, &extra)?;
        check_canonical(&v.body.kind, &extra)?;
        prop_assert!(v.validate().is_ok());
        // The id taken from the decoded bytes is the id of the decoded transaction.
        let (decoded, id) = SignedTx::decode_hashed(&v.to_bytes()).unwrap();
        prop_assert_eq!(id, v.hash());
        prop_assert_eq!(decoded.hash(), v.hash());
    }

    #[test]
    fn checkpoint_is_canonical(v in checkpoint(), extra in vec(any::<u8>(), 0..8)) {
        check_canonical(&v, &extra)?;
    }

    #[test]
    fn packet_is_canonical(v in packet(), extra in vec(any::<u8>(), 0..8)) {
        check_canonical(&v, &extra)?;
        check_canonical(&v.timeout, &extra)?;
        check_canonical(&v.source_chain, &extra)?;
    }

    #[test]
    fn frontier_is_canonical(v in frontier(), extra in vec(any::<u8>(), 0..8)) {
        check_canonical(&v, &extra)?;
    }

    #[test]
    fn primitives_are_canonical(
        a in any::<u8>(), b in any::<u16>(), c in any::<u32>(), d in any::<u64>(),
        e in any::<u128>(), f in any::<bool>(), g in any::<Option<u64>>(), s in ".{0,40}",
        items in vec(any::<u64>(), 0..20), extra in vec(any::<u8>(), 0..8),
    ) {
        check_canonical(&a, &extra)?;
        check_canonical(&b, &extra)?;
        check_canonical(&c, &extra)?;
        check_canonical(&d, &extra)?;
        check_canonical(&e, &extra)?;
        check_canonical(&f, &extra)?;
        check_canonical(&g, &extra)?;
        check_canonical(&s, &extra)?;
        let mut out = Vec::new();
        encode_vec(&items, &mut out);
        let mut r = Reader::new(&out);
        prop_assert_eq!(decode_vec::<u64>(&mut r, 20).unwrap(), items);
        prop_assert!(r.finish().is_ok());
    }

    // Hashes change with every field: the hash commits to the encoding.
    #[test]
    fn distinct_packets_have_distinct_hashes(a in packet(), b in packet()) {
        prop_assert_eq!(a == b, a.hash() == b.hash());
    }

    // Random bytes never panic any decoder, and whatever decodes is canonical.
    #[test]
    fn random_bytes_never_panic(bytes in vec(any::<u8>(), 0..600)) {
        decode_all(&bytes)?;
    }

    // Valid encodings with one byte changed never panic, and stay canonical if accepted.
    #[test]
    fn mutated_encodings_never_panic(
        h in header(), t in signed_tx(), c in checkpoint(), p in packet(),
        at in any::<prop::sample::Index>(), byte in any::<u8>(),
    ) {
        for mut bytes in [h.to_bytes(), t.to_bytes(), c.to_bytes(), p.to_bytes()] {
            let i = at.index(bytes.len());
            bytes[i] = byte;
            decode_all(&bytes)?;
        }
    }

    // A bool is only 0x00 or 0x01.
    #[test]
    fn bool_rejects_other_bytes(b in 2u8..=255) {
        prop_assert_eq!(bool::from_bytes(&[b]), Err(DecodeError::InvalidBool(b)));
    }

    // An option tag is only 0x00 or 0x01.
    #[test]
    fn option_rejects_unknown_tags(tag in 2u8..=255) {
        prop_assert_eq!(
            Option::<u8>::from_bytes(&[tag, 0]),
            Err(DecodeError::InvalidTag { what: "option", tag })
        );
    }

    // Only defined tx-kind tags decode.
    #[test]
    fn tx_kind_rejects_unknown_tags(tag in any::<u8>(), body in tx_body()) {
        prop_assume!(!(TxKind::TAG_REMARK..=TxKind::TAG_ROTATE_ATTESTER_KEY).contains(&tag));
        let mut bytes = body.to_bytes();
        let kind_at = bytes.len() - body.kind.to_bytes().len();
        bytes[kind_at] = tag;
        prop_assert_eq!(
            TxBody::from_bytes(&bytes),
            Err(DecodeError::InvalidTag { what: "tx kind", tag })
        );
    }

    // Only packet version 1 decodes.
    #[test]
    fn packet_rejects_unknown_versions(version in any::<u8>(), p in packet()) {
        prop_assume!(version != Packet::VERSION);
        let mut bytes = p.to_bytes();
        bytes[0] = version;
        prop_assert_eq!(
            Packet::from_bytes(&bytes),
            Err(DecodeError::InvalidTag { what: "packet version", tag: version })
        );
    }

    // A chain id outside [a-z0-9._-]{1,64} is rejected by the constructor and the decoder.
    #[test]
    fn invalid_chain_ids_are_rejected(s in invalid_chain_id()) {
        let by_new = if s.len() <= MAX_CHAIN_ID_LEN {
            matches!(ChainId::new(s.clone()), Err(ChainIdError::InvalidByte { .. }))
        } else {
            matches!(ChainId::new(s.clone()), Err(ChainIdError::TooLong { .. }))
        };
        prop_assert!(by_new, "ChainId::new accepted {:?}", s);
        let got = ChainId::from_bytes(&with_len_prefix(s.len() as u32, s.as_bytes()));
        let by_decode = if s.len() <= MAX_CHAIN_ID_LEN {
            matches!(got, Err(DecodeError::InvalidChainId(ChainIdError::InvalidByte { .. })))
        } else {
            matches!(got, Err(DecodeError::LengthTooLarge { .. }))
        };
        prop_assert!(by_decode, "decoding {:?} gave {:?}", s, got);
        prop_assert!(serde_json::from_value::<ChainId>(serde_json::Value::String(s)).is_err());
    }

    // Any length prefix over a cap is rejected, whatever follows.
    #[test]
    fn lengths_over_caps_are_rejected(over in 1u32..=1000, full in any::<u32>()) {
        for (cap, what) in [
            (MAX_CHAIN_ID_LEN, "chain id"),
            (MAX_REMARK_BYTES, "remark"),
            (MAX_APP_ID_LEN, "app id"),
            (MAX_PAYLOAD_BYTES, "payload"),
            (MAX_STRING_BYTES, "string"),
        ] {
            for len in [cap as u32 + over, full.max(cap as u32 + 1)] {
                let want = Err(DecodeError::LengthTooLarge { len: len as usize, max: cap });
                let mut r = Reader::new(&[]);
                let prefix = len.to_be_bytes();
                let got = match what {
                    "chain id" => ChainId::from_bytes(&prefix).map(|_| ()),
                    "remark" => TxKind::from_bytes(&[&[1u8][..], &prefix].concat()).map(|_| ()),
                    "string" => String::from_bytes(&prefix).map(|_| ()),
                    _ => {
                        r = Reader::new(&prefix);
                        r.read_bytes(cap).map(|_| ())
                    }
                };
                prop_assert_eq!(got, want.clone(), "{}", what);
                let _ = r.remaining();
            }
        }
    }
}

#[test]
fn chain_id_rules() {
    assert_eq!(ChainId::new(""), Err(ChainIdError::Empty));
    assert_eq!(
        ChainId::new("a".repeat(65)),
        Err(ChainIdError::TooLong { len: 65, max: 64 })
    );
    assert_eq!(
        ChainId::new("Hub-1"),
        Err(ChainIdError::InvalidByte {
            position: 0,
            byte: b'H'
        })
    );
    assert!(ChainId::new("a".repeat(64)).is_ok());
    assert!(ChainId::new("evm.mainnet_1-x").is_ok());
    assert_eq!(
        ChainId::from_bytes(&with_len_prefix(0, b"")),
        Err(DecodeError::InvalidChainId(ChainIdError::Empty))
    );
    assert_eq!(
        ChainId::from_bytes(&with_len_prefix(2, &[b'a', 0xff])),
        Err(DecodeError::InvalidChainId(ChainIdError::InvalidByte {
            position: 1,
            byte: 0xff
        }))
    );
}

fn sample_packet() -> Packet {
    Packet {
        version: Packet::VERSION,
        source_chain: ChainId::new("chain-a").unwrap(),
        source_app: b"app".to_vec(),
        sequence: 1,
        dest_chain: ChainId::new("chain-b").unwrap(),
        dest_app: b"app".to_vec(),
        payload: vec![0; MAX_PAYLOAD_BYTES],
        timeout: Timeout {
            height: 10,
            time_ms: 0,
        },
        gas_limit: 100_000,
        fee: 0,
    }
}

/// Values exactly at a cap decode; one byte over is rejected on encode-decode.
#[test]
fn caps_are_inclusive() {
    let p = sample_packet();
    assert!(p.validate().is_ok());
    assert_eq!(Packet::from_bytes(&p.to_bytes()).unwrap(), p);
    let mut over = p.clone();
    over.payload.push(0);
    assert_eq!(
        over.validate(),
        Err(PacketError::PayloadTooLarge {
            len: MAX_PAYLOAD_BYTES + 1,
            max: MAX_PAYLOAD_BYTES
        })
    );
    assert_eq!(
        Packet::from_bytes(&over.to_bytes()),
        Err(DecodeError::LengthTooLarge {
            len: MAX_PAYLOAD_BYTES + 1,
            max: MAX_PAYLOAD_BYTES
        })
    );
    let mut long_app = p.clone();
    long_app.dest_app = vec![1; MAX_APP_ID_LEN + 1];
    assert!(matches!(
        long_app.validate(),
        Err(PacketError::AppIdTooLong { .. })
    ));
    assert!(matches!(
        Packet::from_bytes(&long_app.to_bytes()),
        Err(DecodeError::LengthTooLarge { len: 65, max: 64 })
    ));
    let remark = TxKind::Remark {
        data: vec![0; MAX_REMARK_BYTES + 1],
    };
    assert!(matches!(
        remark.validate(),
        Err(TxError::RemarkTooLarge { .. })
    ));
    assert!(matches!(
        TxKind::from_bytes(&remark.to_bytes()),
        Err(DecodeError::LengthTooLarge { .. })
    ));
    for reason in [String::new(), "x".repeat(MAX_PARK_REASON_BYTES + 1)] {
        let park = TxKind::ParkPacket {
            key: [7; 32],
            reason,
        };
        assert!(matches!(park.validate(), Err(TxError::ParkReason { .. })));
    }
    let long = TxKind::ParkPacket {
        key: [7; 32],
        reason: "x".repeat(MAX_PARK_REASON_BYTES + 1),
    };
    assert!(matches!(
        TxKind::from_bytes(&long.to_bytes()),
        Err(DecodeError::LengthTooLarge { .. })
    ));
}

#[test]
fn packet_validation_rules() {
    let p = sample_packet();
    let mut no_timeout = p.clone();
    no_timeout.timeout = Timeout::default();
    assert_eq!(no_timeout.validate(), Err(PacketError::NoTimeout));
    let mut zero_seq = p.clone();
    zero_seq.sequence = 0;
    assert_eq!(zero_seq.validate(), Err(PacketError::ZeroSequence));
    let mut empty_app = p.clone();
    empty_app.source_app.clear();
    assert_eq!(
        empty_app.validate(),
        Err(PacketError::EmptyAppId { which: "source" })
    );
    let mut v2 = p;
    v2.version = 2;
    assert_eq!(v2.validate(), Err(PacketError::UnsupportedVersion(2)));
}

#[test]
fn timeout_is_reached_on_either_bounded_axis() {
    let t = Timeout {
        height: 100,
        time_ms: 5_000,
    };
    assert!(!t.is_reached(99, 4_999));
    assert!(t.is_reached(100, 0));
    assert!(t.is_reached(0, 5_000));
    let height_only = Timeout {
        height: 100,
        time_ms: 0,
    };
    assert!(!height_only.is_reached(99, u64::MAX));
    assert!(!Timeout::default().is_reached(u64::MAX, u64::MAX));
}

#[test]
fn serde_json_round_trip_uses_hex_and_decimal_strings() {
    let p = Packet {
        gas_limit: 100_000,
        fee: u128::MAX,
        payload: vec![0xab, 0xcd],
        ..sample_packet()
    };
    let json = serde_json::to_value(&p).unwrap();
    assert_eq!(json["payload"], "abcd");
    assert_eq!(json["fee"], u128::MAX.to_string());
    assert_eq!(json["source_chain"], "chain-a");
    assert_eq!(serde_json::from_value::<Packet>(json).unwrap(), p);

    let tx = SignedTx {
        body: TxBody {
            chain_id: ChainId::new("junction-1").unwrap(),
            signer: [1; 32],
            nonce: 3,
            kind: TxKind::Remark { data: vec![9] },
        },
        signature: [2; 64],
    };
    let json = serde_json::to_value(&tx).unwrap();
    assert_eq!(json["body"]["kind"]["type"], "remark");
    assert_eq!(json["signature"], hex::encode([2u8; 64]));
    assert_eq!(serde_json::from_value::<SignedTx>(json).unwrap(), tx);
}
