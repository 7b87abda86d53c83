//! The gateway and the `spec` crate agree byte for byte: hashes, the packet `send` commits
//! to, and the committed artifacts are what the pinned compiler builds.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use alloy::primitives::{Address, U256};
use alloy::providers::Provider;
use common::*;
use junction_adapters::evm::gateway::evm_app_id;
use junction_spec::encoding::Encode;
use junction_spec::log::{ack_commitment, EntryKind};
use junction_spec::{Packet, Timeout};

#[tokio::test]
async fn rust_and_solidity_hashes_agree() {
    let Some(env) = env().await else { return };
    let gw = env.gateway(env.gw_b);
    // A packet from a non-EVM chain: a 32-byte source app, a long chain id, a fee.
    let packet = Packet {
        version: 1,
        source_chain: chain("cosmos-hub-4.long_name-with.every_char"),
        source_app: vec![0xab; 32],
        sequence: 0x0102_0304_0506_0708,
        dest_chain: env.chain_b.clone(),
        dest_app: evm_app_id(env.escrow_b),
        payload: (0u8..=200).collect(),
        timeout: Timeout {
            height: 77,
            time_ms: 1_800_000_000_123,
        },
        gas_limit: 123_456,
        fee: u128::MAX - 5,
    };
    let got = gw
        .hashPacket(bytes(&packet.to_bytes()))
        .call()
        .await
        .unwrap();
    assert_eq!(got.packetHash.0, packet.hash(), "packet hash");
    assert_eq!(got.key.0, packet.key().hash(), "packet key hash");

    let cp = env.hub.genesis.clone();
    let h = gw
        .checkpointHash(bytes(&cp.to_bytes()))
        .call()
        .await
        .unwrap();
    assert_eq!(h.0, cp.hash(), "checkpoint hash");

    let s = gw
        .hashAttestationSet(bytes(&env.hub.set.to_bytes()))
        .call()
        .await
        .unwrap();
    assert_eq!(s.0, env.hub.set.hash(), "attestation set hash");

    for (kind, result) in [
        (EntryKind::Ack, b"ok".to_vec()),
        (EntryKind::ErrorAck, vec![7u8; 1024]),
        (EntryKind::Ack, vec![]),
    ] {
        let c = gw
            .ackCommitment(kind.tag(), bytes(&result))
            .call()
            .await
            .unwrap();
        assert_eq!(
            c.0,
            ack_commitment(kind, &result),
            "ack commitment {kind:?}"
        );
    }

    // The gateway holds what it was given.
    assert_eq!(gw.heldCheckpointHash().call().await.unwrap().0, cp.hash());
    assert_eq!(
        gw.attestationSetHash().call().await.unwrap().0,
        env.hub.set.hash()
    );
    assert_eq!(gw.chainId().call().await.unwrap(), "evm-b");
    assert_eq!(gw.hubChainId().call().await.unwrap(), "junction-hub");
}

/// The gateway's inclusion check (assembly, run for every level of every delivered entry)
/// gives the spec's verdict for every leaf of every tree up to 40 leaves (and a few larger
/// ones), and for proofs altered in each way a relayer could alter them.
#[tokio::test]
async fn the_inclusion_check_agrees_with_the_spec_on_every_leaf() {
    use junction_spec::merkle::{
        inclusion_proof, leaf_hash, root_from_leaf_hashes, verify_inclusion,
    };
    let Some(env) = env().await else { return };
    let gw = env.gateway(env.gw_b);
    // The gateway hashes each leaf as SHA256(0x00 || its binding || delivered bytes).
    let binding = env.hub.bindings[&env.chain_b];
    let other_binding = env.hub.bindings[&env.chain_a];
    assert_eq!(gw.BINDING().call().await.unwrap().0, binding);
    let sizes: Vec<u64> = (1..=40).chain([63, 64, 65, 100, 1024]).collect();
    let mut checked = 0usize;
    for size in sizes {
        // Entries of varied lengths (0 to 70 bytes), so the leaf hash sees several words.
        let entries: Vec<Vec<u8>> = (0..size)
            .map(|i| vec![(i % 251) as u8; (i % 71) as usize])
            .collect();
        let bound = |b: &[u8; 32], e: &[u8]| leaf_hash(&[b.as_slice(), e].concat());
        let leaves: Vec<[u8; 32]> = entries.iter().map(|e| bound(&binding, e)).collect();
        let root = root_from_leaf_hashes(&leaves);
        let indices: Vec<u64> = if size <= 40 {
            (0..size).collect()
        } else {
            vec![0, 1, size / 2, size - 2, size - 1]
        };
        for index in indices {
            let proof = inclusion_proof(&leaves, index).unwrap();
            // (claimed index, proof, root, tree size, what was altered)
            type Case = (u64, Vec<[u8; 32]>, [u8; 32], u64, &'static str);
            let mut cases: Vec<Case> = vec![
                (index, proof.clone(), root, size, "as proven"),
                (index, proof.clone(), root, size + 1, "another size"),
                (index + 1, proof.clone(), root, size, "another index"),
                (size, proof.clone(), root, size, "index at size"),
            ];
            if !proof.is_empty() {
                let mut flipped = proof.clone();
                flipped[proof.len() - 1][31] ^= 1;
                cases.push((index, flipped, root, size, "a sibling flipped"));
                cases.push((
                    index,
                    proof[..proof.len() - 1].to_vec(),
                    root,
                    size,
                    "one sibling short",
                ));
            }
            let mut longer = proof.clone();
            longer.push([7; 32]);
            cases.push((index, longer, root, size, "one sibling extra"));
            let mut other_root = root;
            other_root[0] ^= 0x80;
            cases.push((index, proof.clone(), other_root, size, "another root"));
            // The same entry logged for another gateway: its tree's root.
            let mut foreign = leaves.clone();
            foreign[index as usize] = bound(&other_binding, &entries[index as usize]);
            let foreign_root = root_from_leaf_hashes(&foreign);
            cases.push((
                index,
                proof.clone(),
                foreign_root,
                size,
                "bound to another gateway",
            ));
            for (i, p, r, n, what) in cases {
                let spec_ok = verify_inclusion(&leaves[index as usize], i, n, &p, &r).is_ok();
                let sol: Vec<alloy::primitives::FixedBytes<32>> =
                    p.iter().map(|h| (*h).into()).collect();
                let got = gw
                    .verifyInclusion(bytes(&entries[index as usize]), i, sol, r.into(), n)
                    .call()
                    .await
                    .unwrap();
                assert_eq!(
                    got, spec_ok,
                    "size {size}, leaf {index}, {what}: gateway {got}, spec {spec_ok}"
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 6_000, "{checked}");
}

#[tokio::test]
async fn send_stores_the_commitment_and_emits_the_spec_encoding() {
    let Some(env) = env().await else { return };
    let recipient = Address::repeat_byte(0x42);
    let timeout = Timeout {
        height: 500,
        time_ms: 1_900_000_000_000,
    };
    let gw = env.gateway(env.gw_a);
    assert_eq!(
        gw.nextSendSequence(env.escrow_a, "evm-b".into())
            .call()
            .await
            .unwrap(),
        1
    );
    let sent = env.lock_and_send(recipient, 250, timeout).await;
    // The event's bytes decode to exactly the packet escrow A asked for.
    assert_eq!(sent, env.packet_a_to_b(1, recipient, 250, timeout));
    assert_eq!(
        env.commitment_of(env.gw_a, sent.key().hash()).await,
        sent.hash()
    );
    // ... in mapping `commitments` at slot 0, where the hub proves it with eth_getProof.
    let slot = alloy::primitives::keccak256(
        [
            sent.key().hash().as_slice(),
            &U256::ZERO.to_be_bytes::<32>(),
        ]
        .concat(),
    );
    let proof = env.provider.get_proof(env.gw_a, vec![slot]).await.unwrap();
    assert_eq!(
        proof.storage_proof[0].value.to_be_bytes::<32>(),
        sent.hash()
    );
    // Sequences count per (app, destination).
    let second = env.lock_and_send(recipient, 1, timeout).await;
    assert_eq!(second.sequence, 2);
    assert_eq!(
        gw.nextSendSequence(env.escrow_a, "evm-b".into())
            .call()
            .await
            .unwrap(),
        3
    );
    assert_eq!(
        env.balance(env.escrow_a, env.user).await,
        U256::from(SUPPLY - 251)
    );
    assert_eq!(
        env.escrow(env.escrow_a).pending().call().await.unwrap(),
        U256::from(251)
    );
}

#[tokio::test]
async fn send_refuses_packets_the_hub_could_not_accept() {
    let Some(env) = env().await else { return };
    let gw = env.gateway(env.gw_a);
    let no_timeout = gw
        .send("evm-b".into(), bytes(&[1; 20]), bytes(b"x"), 0, 0, 1)
        .call()
        .await
        .unwrap_err();
    let name = |e: alloy::contract::Error| {
        junction_adapters::evm::gateway::revert_name(&e.as_revert_data().unwrap())
    };
    assert_eq!(name(no_timeout), Some("NoTimeout"));
    let bad_chain = gw
        .send("EVM B".into(), bytes(&[1; 20]), bytes(b"x"), 5, 0, 1)
        .call()
        .await
        .unwrap_err();
    assert_eq!(name(bad_chain), Some("InvalidChainId"));
    let empty_app = gw
        .send("evm-b".into(), bytes(&[]), bytes(b"x"), 5, 0, 1)
        .call()
        .await
        .unwrap_err();
    assert_eq!(name(empty_app), Some("InvalidAppId"));
}

/// Recompiling the contracts with the pinned solc-js gives the committed artifacts.
#[test]
fn committed_artifacts_match_a_fresh_compile() {
    let evm = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("evm");
    if !evm.join("node_modules/solc").is_dir() {
        assert!(
            !in_ci(),
            "CI=true and adapters/evm/node_modules is missing: scripts/setup-evm.sh installs it"
        );
        eprintln!(
            "SKIPPED: adapters/evm/node_modules is absent; run scripts/setup-evm.sh (CI does)"
        );
        return;
    }
    let out = std::env::temp_dir().join(format!("junction-artifacts-{}", std::process::id()));
    let status = std::process::Command::new("node")
        .arg(evm.join("compile.js"))
        .arg("--out")
        .arg(&out)
        .status()
        .expect("node runs");
    assert!(status.success(), "compile.js failed");
    for name in ["JunctionGateway", "TokenEscrow", "HostileApp"] {
        let fresh = std::fs::read(out.join(format!("{name}.json"))).unwrap();
        let committed = std::fs::read(evm.join(format!("artifacts/{name}.json"))).unwrap();
        assert!(
            fresh == committed,
            "artifacts/{name}.json is stale: run `node adapters/evm/compile.js` and commit it"
        );
    }
    let _ = std::fs::remove_dir_all(&out);
}
