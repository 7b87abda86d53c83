//! Message-log entries: targets follow the kind, encodings round-trip and reject unknown
//! kinds, packet keys ignore everything but the key fields.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use junction_spec::merkle::leaf_hash;
use junction_spec::{
    ack_commitment, evm_target_binding, tagged_hash, ChainId, Decode, DecodeError, Encode,
    EntryKind, HashTag, LogEntry, LogEntryError, Packet, RetirementNotice, Timeout,
};

const BINDING: [u8; 32] = [0x5b; 32];

fn packet(seq: u64) -> Packet {
    Packet {
        version: Packet::VERSION,
        source_chain: ChainId::new("chain-a").unwrap(),
        source_app: vec![0xaa; 20],
        sequence: seq,
        dest_chain: ChainId::new("chain-b").unwrap(),
        dest_app: vec![0xbb; 20],
        payload: b"hello".to_vec(),
        timeout: Timeout {
            height: 100,
            time_ms: 0,
        },
        gas_limit: 100_000,
        fee: 7,
    }
}

const KINDS: [EntryKind; 6] = [
    EntryKind::Packet,
    EntryKind::Ack,
    EntryKind::ErrorAck,
    EntryKind::Timeout,
    EntryKind::SequenceSkip,
    EntryKind::GatewayRetired,
];

#[test]
fn each_kind_targets_the_chain_that_must_act_on_it() {
    for kind in KINDS {
        let result = if matches!(kind, EntryKind::Ack | EntryKind::ErrorAck) {
            b"r".to_vec()
        } else {
            Vec::new()
        };
        let e = LogEntry::new(kind, BINDING, 1, packet(1), result);
        e.validate().unwrap();
        let expected = if matches!(
            kind,
            EntryKind::Packet | EntryKind::SequenceSkip | EntryKind::GatewayRetired
        ) {
            "chain-b"
        } else {
            "chain-a"
        };
        assert_eq!(e.target_chain.as_str(), expected, "{kind:?}");
        let mut wrong = e.clone();
        wrong.target_chain = ChainId::new("chain-c").unwrap();
        assert!(matches!(
            wrong.validate(),
            Err(LogEntryError::WrongTarget { .. })
        ));
    }
    let e = LogEntry::new(EntryKind::Timeout, BINDING, 0, packet(1), b"x".to_vec());
    assert_eq!(
        e.validate(),
        Err(LogEntryError::UnexpectedResult(EntryKind::Timeout))
    );
}

#[test]
fn entries_round_trip_and_unknown_kinds_are_refused() {
    for kind in KINDS {
        let e = LogEntry::new(kind, BINDING, 0, packet(3), Vec::new());
        let bytes = e.to_bytes();
        assert_eq!(LogEntry::from_bytes(&bytes).unwrap(), e);
        assert_eq!(e.leaf_hash(), leaf_hash(&bytes));
        assert_eq!(e.id(), tagged_hash(HashTag::LogEntry, &bytes));
        // What a gateway receives is the encoding without the binding, which it supplies.
        assert_eq!(bytes[..32], BINDING);
        assert_eq!(e.delivered_bytes(), bytes[32..]);
        assert_eq!(
            LogEntry::from_delivered(BINDING, &e.delivered_bytes()).unwrap(),
            e
        );
        for bad in [0u8, 7, 0xff] {
            let mut b = bytes.clone();
            b[32] = bad;
            assert!(matches!(
                LogEntry::from_bytes(&b),
                Err(DecodeError::InvalidTag { .. })
            ));
        }
        for cut in 0..bytes.len() {
            assert!(LogEntry::from_bytes(&bytes[..cut]).is_err());
        }
    }
}

#[test]
fn packet_key_depends_only_on_the_key_fields() {
    let a = packet(5);
    let mut b = packet(5);
    b.payload = b"other".to_vec();
    b.fee = 99;
    b.timeout.height = 1;
    assert_eq!(a.key().hash(), b.key().hash());
    assert_ne!(a.hash(), b.hash());
    assert_ne!(a.key().hash(), packet(6).key().hash());
}

#[test]
fn ack_commitment_matches_its_definition() {
    let got = ack_commitment(EntryKind::Ack, b"ok");
    let mut bytes = vec![2u8];
    bytes.extend_from_slice(&2u32.to_be_bytes());
    bytes.extend_from_slice(b"ok");
    assert_eq!(got, tagged_hash(HashTag::AckCommitment, &bytes));
    assert_ne!(got, ack_commitment(EntryKind::ErrorAck, b"ok"));
}

/// An entry bound to one gateway has another leaf under any other binding: a second
/// gateway (another address, or the same address on another EIP-155 chain) cannot prove it.
#[test]
fn the_binding_is_part_of_the_leaf() {
    let a = evm_target_binding(31_337, &[0x11; 20]);
    let other_address = evm_target_binding(31_337, &[0x12; 20]);
    let other_chain = evm_target_binding(31_338, &[0x11; 20]);
    assert_ne!(a, other_address);
    assert_ne!(a, other_chain);
    let mut pre = b"evm".to_vec();
    pre.extend_from_slice(&31_337u64.to_be_bytes());
    pre.extend_from_slice(&[0x11; 20]);
    assert_eq!(a, tagged_hash(HashTag::TargetBinding, &pre));
    let e = LogEntry::new(EntryKind::Packet, a, 0, packet(1), Vec::new());
    for other in [other_address, other_chain] {
        let mut rebound = e.clone();
        rebound.target_binding = other;
        assert_eq!(rebound.delivered_bytes(), e.delivered_bytes());
        assert_ne!(rebound.leaf_hash(), e.leaf_hash());
    }
}

/// The council's retirement notice travels in the packet envelope: it targets the retired
/// chain, reads back to the same notice (with or without a successor), and an ordinary
/// packet is no notice.
#[test]
fn a_retirement_notice_targets_the_retired_chain_and_reads_back() {
    for successor in [None, Some(ChainId::new("chain-c").unwrap())] {
        let notice = RetirementNotice {
            hub_chain: ChainId::new("hub").unwrap(),
            proposal_id: 42,
            chain: ChainId::new("chain-b").unwrap(),
            successor,
        };
        let e = notice.entry(BINDING);
        e.validate().unwrap();
        assert_eq!(e.kind, EntryKind::GatewayRetired);
        assert_eq!(e.kind.tag(), 6);
        assert_eq!(e.target_chain.as_str(), "chain-b");
        assert_eq!(e.target_binding, BINDING);
        assert!(!e.kind.is_outcome());
        let back = LogEntry::from_bytes(&e.to_bytes()).unwrap();
        assert_eq!(RetirementNotice::from_envelope(&back.packet), Some(notice));
    }
    assert_eq!(RetirementNotice::from_envelope(&packet(1)), None);
}
