//! Exact bytes and hashes of small handcrafted values. A failure here means the wire
//! format or a hash changed: update `spec/encoding.md` / `spec/hashing.md` and every
//! consumer (gateways, relayer) together, or undo the change.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use junction_spec::merkle::{empty_root, leaf_hash, node_hash, MerkleFrontier};
use junction_spec::*;

fn chain(s: &str) -> ChainId {
    ChainId::new(s).unwrap()
}

fn hex_of(parts: &[&str]) -> String {
    parts.concat()
}

fn rep(byte: &str, n: usize) -> String {
    byte.repeat(n)
}

fn sample_header() -> BlockHeader {
    BlockHeader {
        version: 1,
        chain_id: chain("junction-1"),
        height: 1,
        time_ms: 1_700_000_000_000,
        prev_block_hash: [0x11; 32],
        app_hash: [0x22; 32],
        log_size: 3,
        log_root: [0x33; 32],
        validators_hash: [0x44; 32],
        next_validators_hash: [0x55; 32],
        proposer: [0x66; 20],
        tx_root: [0x77; 32],
    }
}

fn sample_tx() -> SignedTx {
    SignedTx {
        body: TxBody {
            chain_id: chain("junction-1"),
            signer: [0xaa; 32],
            nonce: 7,
            kind: TxKind::Remark {
                data: b"hi".to_vec(),
            },
        },
        signature: [0xbb; 64],
    }
}

#[test]
fn block_header_golden_bytes() {
    let header = sample_header();
    let expected = hex_of(&[
        "00000001",             // version
        "0000000a",             // chain id length
        "6a756e6374696f6e2d31", // "junction-1"
        "0000000000000001",     // height
        "0000018bcfe56800",     // time_ms = 1_700_000_000_000
        &rep("11", 32),         // prev_block_hash
        &rep("22", 32),         // app_hash
        "0000000000000003",     // log_size
        &rep("33", 32),         // log_root
        &rep("44", 32),         // validators_hash
        &rep("55", 32),         // next_validators_hash
        &rep("66", 20),         // proposer
        &rep("77", 32),         // tx_root
    ]);
    let bytes = header.to_bytes();
    assert_eq!(bytes.len(), 254);
    assert_eq!(hex::encode(&bytes), expected);
    assert_eq!(BlockHeader::from_bytes(&bytes).unwrap(), header);
    assert_eq!(
        hex::encode(header.hash()),
        "c23c3d404baff3ca7fcab84a7c4223892b070226ce32789c76a886b134b5d44f"
    );
}

#[test]
fn signed_tx_golden_bytes() {
    let tx = sample_tx();
    let body_hex = hex_of(&[
        "0000000a",             // chain id length
        "6a756e6374696f6e2d31", // "junction-1"
        &rep("aa", 32),         // signer
        "0000000000000007",     // nonce
        "01",                   // kind tag: Remark
        "00000002",             // remark length
        "6869",                 // "hi"
    ]);
    let expected = hex_of(&[&body_hex, &rep("bb", 64)]); // + signature
    assert_eq!(hex::encode(tx.body.to_bytes()), body_hex);
    let bytes = tx.to_bytes();
    assert_eq!(bytes.len(), 125);
    assert_eq!(hex::encode(&bytes), expected);
    assert_eq!(SignedTx::from_bytes(&bytes).unwrap(), tx);
    assert_eq!(
        hex::encode(tx.body.sign_bytes()),
        "67eb28094f856e161e25278f9040dfbc5791c187c29e14393a2b9e5bd9915414"
    );
    assert_eq!(
        hex::encode(tx.body.hash()),
        "7a57ab3ed86264e7304d1adc6da50dca3b040e903ac09c753ea65b9db3e9909c"
    );
    assert_eq!(
        hex::encode(tx.hash()),
        "5bc258699214142e8ee9a4f19d1c99fe82bcbafa2ee544970f280379ccaa58eb"
    );
    assert_eq!(
        hex::encode(tx.body.signer_address()),
        "700a5e67685c9199835a3a0b4691156df2f5b3ed"
    );
}

#[test]
fn packet_golden_bytes() {
    let packet = Packet {
        version: 1,
        source_chain: chain("chain-a"),
        source_app: b"app".to_vec(),
        sequence: 42,
        dest_chain: chain("chain-b"),
        dest_app: b"bank".to_vec(),
        payload: vec![1, 2, 3],
        timeout: Timeout {
            height: 1000,
            time_ms: 0,
        },
        gas_limit: 100_000,
        fee: 500,
    };
    let expected = hex_of(&[
        "01",                               // version
        "00000007",                         // source chain length
        "636861696e2d61",                   // "chain-a"
        "00000003",                         // source app length
        "617070",                           // "app"
        "000000000000002a",                 // sequence 42
        "00000007",                         // destination chain length
        "636861696e2d62",                   // "chain-b"
        "00000004",                         // destination app length
        "62616e6b",                         // "bank"
        "00000003",                         // payload length
        "010203",                           // payload
        "00000000000003e8",                 // timeout height 1000
        "0000000000000000",                 // timeout time_ms (none)
        "00000000000186a0",                 // gas limit 100,000
        "000000000000000000000000000001f4", // fee 500 (u128)
    ]);
    assert_eq!(hex::encode(packet.to_bytes()), expected);
    assert_eq!(Packet::from_bytes(&packet.to_bytes()).unwrap(), packet);
    assert_eq!(
        hex::encode(packet.hash()),
        "e6a17186dea9c13c9f0efac31b42cd6671f8086767c604d2ad20cd2bd20e1699"
    );
}

#[test]
fn checkpoint_golden_bytes() {
    let checkpoint = Checkpoint {
        hub_chain_id: chain("junction-1"),
        height: 5,
        time_ms: 1_700_000_000_000,
        log_size: 3,
        log_root: [0x33; 32],
        attestation_set_hash: [0x44; 32],
        next_attestation_set_hash: [0x55; 32],
    };
    let expected = hex_of(&[
        "0000000a",
        "6a756e6374696f6e2d31",
        "0000000000000005",
        "0000018bcfe56800",
        "0000000000000003",
        &rep("33", 32),
        &rep("44", 32),
        &rep("55", 32),
    ]);
    assert_eq!(hex::encode(checkpoint.to_bytes()), expected);
    assert_eq!(
        hex::encode(checkpoint.hash()),
        "20d694ac53c455a58a02657e8be26820a15d257f592e32b911b904acf5269247"
    );
}

#[test]
fn frontier_golden_bytes() {
    let leaves: Vec<Hash32> = (0u8..3).map(|i| leaf_hash(&[i])).collect();
    let frontier = MerkleFrontier::from_leaf_hashes(&leaves);
    let left = node_hash(&leaves[0], &leaves[1]);
    let expected = hex_of(&[
        "0000000000000003",      // size
        "00000002",              // popcount(3) subtree roots
        &hex::encode(left),      // root of leaves 0..2
        &hex::encode(leaves[2]), // root of leaf 2
    ]);
    assert_eq!(hex::encode(frontier.to_bytes()), expected);
    assert_eq!(
        hex::encode(empty_root()),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
}

#[test]
fn primitive_golden_bytes() {
    assert_eq!(true.to_bytes(), [1]);
    assert_eq!(false.to_bytes(), [0]);
    assert_eq!(Some(5u16).to_bytes(), [1, 0, 5]);
    assert_eq!(None::<u16>.to_bytes(), [0]);
    assert_eq!("ab".to_string().to_bytes(), [0, 0, 0, 2, b'a', b'b']);
    assert_eq!(
        Timeout {
            height: 1,
            time_ms: 2
        }
        .to_bytes(),
        [0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2]
    );
}
