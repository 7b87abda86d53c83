//! The EVM adapter against real anvil processes: what it lists and proves is accepted by the
//! hub's attested light client, and what it should not prove is refused by name.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{SystemTime, UNIX_EPOCH};

use alloy::primitives::{Address, U256};
use alloy::sol_types::SolValue;
use common::*;
use junction_adapters::evm::adapter::{
    commitment_slot, receipt_slot, EvmAdapter, EvmAdapterConfig,
};
use junction_adapters::evm::anvil::DEV_KEY_1;
use junction_adapters::{Adapter, AdapterError};
use junction_light_clients::evm::attested::{
    testkit, AttestedClient, AttestedConfig, AttesterSet, SignedAttestedHeader,
};
use junction_light_clients::evm::codec::AttestedTrustRoot;
use junction_light_clients::evm::mpt::{EvmPath, EvmProof};
use junction_light_clients::{LightClient, NamedError, Timestamp};
use junction_spec::encoding::{Decode, Encode};
use junction_spec::log::{ack_commitment, EntryKind};
use junction_spec::{ChainId, LedgerKind, Packet, SourceProof};
use k256::ecdsa::SigningKey;

const EVM_CHAIN_ID: u64 = 31_337;
const ATTESTERS: usize = 3;
const THRESHOLD: usize = 2;

fn sender_key() -> SigningKey {
    SigningKey::from_slice(&hex::decode(DEV_KEY_1).unwrap()).unwrap()
}

fn config(env: &Env, chain: &ChainId, gateway: Address, attesters: usize) -> EvmAdapterConfig {
    EvmAdapterConfig {
        rpc_url: env.anvil.endpoint(),
        chain: chain.clone(),
        evm_chain_id: EVM_CHAIN_ID,
        gateway,
        deploy_block: 0,
        attester_keys: testkit::attester_keys(attesters),
        sender_key: sender_key(),
        qbft: false,
    }
}

/// The gateway env on an anvil whose every new block is one second after the previous one.
/// In automine mode anvil stamps blocks mined within one second alike, and the attested
/// client (like Ethereum) requires a header's timestamp to exceed its trusted one's.
async fn timed_env() -> Option<Env> {
    use alloy::providers::Provider;
    let env = env().await?;
    let _: serde_json::Value = env
        .provider
        .raw_request("anvil_setBlockTimestampInterval".into(), (1u64,))
        .await
        .unwrap();
    // One block under the interval, so the first trusted header already follows it.
    let _: serde_json::Value = env
        .provider
        .raw_request("evm_mine".into(), ())
        .await
        .unwrap();
    Some(env)
}

async fn adapter(env: &Env, chain: &ChainId, gateway: Address) -> EvmAdapter {
    EvmAdapter::connect(config(env, chain, gateway, ATTESTERS))
        .await
        .unwrap()
}

/// The hub's light client of the chain, as the council would register it from the
/// adapter's trust root (decoded from its canonical encoding).
fn client_from(root: &AttestedTrustRoot) -> AttestedClient {
    let root = AttestedTrustRoot::from_bytes(&root.to_bytes()).unwrap();
    AttestedClient::new(
        AttestedConfig {
            chain_id: root.evm_chain_id,
            // anvil may run its clock ahead of the wall clock when it mines fast.
            max_clock_drift_secs: 3_600,
            trusting_period_secs: 86_400,
            max_history: 64,
        },
        AttesterSet::new(root.attesters.clone(), THRESHOLD).unwrap(),
        &root.trusted,
    )
    .unwrap()
}

fn now() -> Timestamp {
    Timestamp::from_secs(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
}

/// Relays the adapter's header at `height` into `client`, as the hub would.
async fn update(client: &mut AttestedClient, adapter: &EvmAdapter, height: u64) {
    let bytes = adapter.header_update(height).await.unwrap();
    let signed = SignedAttestedHeader::from_bytes(&bytes).unwrap();
    assert!(signed.full_header.is_none());
    assert_eq!(signed.signatures.len(), ATTESTERS);
    let verified = client.verify_header(&signed, now()).unwrap();
    client.apply_header(verified);
    assert_eq!(client.latest_height(), height);
}

fn evm_proof(p: &SourceProof) -> EvmProof {
    EvmProof::from_bytes(&p.proof).unwrap()
}

fn commitment_path(gateway: Address, packet: &Packet) -> EvmPath {
    EvmPath::Storage {
        address: gateway.0 .0,
        slot: commitment_slot(&packet.key().hash()),
    }
}

fn receipt_path(gateway: Address, packet: &Packet) -> EvmPath {
    EvmPath::Storage {
        address: gateway.0 .0,
        slot: receipt_slot(&packet.key().hash()),
    }
}

#[tokio::test]
async fn a_packet_round_trip_through_the_adapters_is_accepted_by_the_light_clients() {
    let Some(mut env) = timed_env().await else {
        return;
    };
    let a = adapter(&env, &env.chain_a.clone(), env.gw_a).await;
    let b = adapter(&env, &env.chain_b.clone(), env.gw_b).await;
    assert_eq!(a.chain(), &env.chain_a);
    assert_eq!(a.kind(), LedgerKind::EvmAttested);
    assert_eq!(a.attesters().len(), ATTESTERS);

    // The council registers both gateways from the adapters' trust roots.
    let h0 = a.latest_height().await.unwrap();
    let root_a = a.trust_root(h0).await.unwrap();
    assert_eq!(root_a.gateway, env.gw_a.0 .0);
    assert_eq!(root_a.evm_chain_id, EVM_CHAIN_ID);
    assert_eq!(root_a.trusted.number, h0);
    let mut client_a = client_from(&root_a);
    let mut client_b = client_from(&b.trust_root(h0).await.unwrap());

    // Three packets through escrow A.
    let recipient = Address::repeat_byte(0x21);
    let mut packets = Vec::new();
    for amount in [10u64, 20, 30] {
        packets.push(env.lock_and_send(recipient, amount, far_timeout()).await);
    }
    let h1 = a.latest_height().await.unwrap();
    let sent = a.sent_packets(0, h1).await.unwrap();
    assert_eq!(
        sent.iter().map(|s| s.packet.clone()).collect::<Vec<_>>(),
        packets
    );
    for s in &sent {
        assert!(s.height > h0 && s.height <= h1);
        assert_ne!(s.tx_hash, [0u8; 32]);
    }
    // Ranges are inclusive and exact.
    assert_eq!(
        a.sent_packets(sent[1].height, sent[1].height)
            .await
            .unwrap(),
        vec![sent[1].clone()]
    );
    assert!(a.sent_packets(0, h0).await.unwrap().is_empty());
    // Gateway B sent nothing.
    assert!(b.sent_packets(0, h1).await.unwrap().is_empty());
    assert_eq!(a.pending_packets().await.unwrap(), sent);

    // The hub follows A to h1 and accepts every commitment proof there.
    update(&mut client_a, &a, h1).await;
    for p in &packets {
        let proof = a.prove_commitment(p, h1).await.unwrap();
        assert_eq!(proof.height, h1);
        client_a
            .verify_membership(
                h1,
                &commitment_path(env.gw_a, p),
                &p.hash(),
                &evm_proof(&proof),
            )
            .unwrap();
    }

    // Before delivery, B proves it holds no receipt.
    let packet = packets[0].clone();
    let hb = b.latest_height().await.unwrap();
    update(&mut client_b, &b, hb).await;
    let absent = b.prove_no_receipt(&packet, hb).await.unwrap();
    client_b
        .verify_non_membership(hb, &receipt_path(env.gw_b, &packet), &evm_proof(&absent))
        .unwrap();
    assert!(b.receipt(&packet).await.unwrap().is_none());
    assert_eq!(
        b.prove_receipt(&packet, hb).await.unwrap_err().name(),
        "no_receipt"
    );

    // The hub logs the packet; B's adapter delivers it.
    let i = env.hub.append(packet_entry(packet.clone(), false));
    let cp = env.hub.certify();
    let delivered = b.deliver(&cp, &[env.hub.prove(i)]).await.unwrap();
    assert!(delivered.gas_used > 0);
    assert_eq!(delivered.received.len(), 1);
    assert!(delivered.skipped.is_empty());
    let ack = U256::from(10).abi_encode();
    let receipt = b.receipt(&packet).await.unwrap().expect("a receipt");
    assert_eq!(receipt, delivered.received[0]);
    assert!(receipt.app_succeeded);
    assert_eq!(receipt.result, ack);
    assert_eq!(receipt.key, packet.key().hash());
    assert_eq!(
        (receipt.height, receipt.tx_hash),
        (delivered.height, delivered.tx_hash)
    );
    assert_eq!(
        b.receipts(0, delivered.height).await.unwrap(),
        vec![receipt.clone()]
    );
    assert_eq!(env.balance(env.escrow_b, recipient).await, U256::from(10));

    // The hub follows B past the delivery and accepts the receipt proof.
    let hr = b.latest_height().await.unwrap();
    update(&mut client_b, &b, hr).await;
    let proven = b.prove_receipt(&packet, hr).await.unwrap();
    client_b
        .verify_membership(
            hr,
            &receipt_path(env.gw_b, &packet),
            &ack_commitment(EntryKind::Ack, &receipt.result),
            &evm_proof(&proven),
        )
        .unwrap();
    assert_eq!(
        b.prove_no_receipt(&packet, hr).await.unwrap_err().name(),
        "receipt_exists"
    );
    // The earlier absence proof still holds at its own height, not at the new one.
    let err = client_b
        .verify_non_membership(hr, &receipt_path(env.gw_b, &packet), &evm_proof(&absent))
        .unwrap_err();
    assert_eq!(err.name(), "root_mismatch");

    // The same batch again: the gateway's named refusal, and the app ran once.
    let again = b.deliver(&cp, &[env.hub.prove(i)]).await.unwrap_err();
    assert_eq!(again.name(), "gateway_revert");
    assert_eq!(again.revert_name(), Some("AlreadyDelivered"));
    assert_eq!(env.balance(env.escrow_b, recipient).await, U256::from(10));

    // The hub logs the ack; A's adapter delivers it back.
    let k = env.hub.append(entry(
        EntryKind::Ack,
        false,
        packet.clone(),
        receipt.result.clone(),
    ));
    let cp2 = env.hub.certify();
    let back = a.deliver(&cp2, &[env.hub.prove(k)]).await.unwrap();
    assert_eq!(back.outcomes.len(), 1);
    assert_eq!(back.outcomes[0].kind, EntryKind::Ack);
    assert!(back.outcomes[0].callback_succeeded);
    assert_eq!(back.outcomes[0].key, packet.key().hash());
    assert_eq!(a.outcomes(0, back.height).await.unwrap(), back.outcomes);
    assert!(b.outcomes(0, back.height).await.unwrap().is_empty());

    // The packet is no longer pending, also for a freshly started adapter (a restarted
    // relayer has nothing but the chain).
    let restarted = adapter(&env, &env.chain_a.clone(), env.gw_a).await;
    for ad in [&a, &restarted] {
        let pending = ad.pending_packets().await.unwrap();
        assert_eq!(
            pending.iter().map(|s| s.packet.clone()).collect::<Vec<_>>(),
            packets[1..].to_vec()
        );
    }
    let hn = a.latest_height().await.unwrap();
    let err = a.prove_commitment(&packet, hn).await.unwrap_err();
    assert!(
        matches!(err, AdapterError::NotCommitted { found, .. } if found == [0u8; 32]),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_commitment_proof_is_refused_at_another_root_or_for_another_packet() {
    let Some(env) = timed_env().await else { return };
    let a = adapter(&env, &env.chain_a.clone(), env.gw_a).await;
    let h0 = a.latest_height().await.unwrap();
    let mut client = client_from(&a.trust_root(h0).await.unwrap());
    let p1 = env
        .lock_and_send(Address::repeat_byte(0x31), 1, far_timeout())
        .await;
    let h1 = a.latest_height().await.unwrap();
    let p2 = env
        .lock_and_send(Address::repeat_byte(0x32), 2, far_timeout())
        .await;
    let h2 = a.latest_height().await.unwrap();
    update(&mut client, &a, h1).await;
    update(&mut client, &a, h2).await;

    let proof1 = evm_proof(&a.prove_commitment(&p1, h2).await.unwrap());
    let path1 = commitment_path(env.gw_a, &p1);
    client
        .verify_membership(h2, &path1, &p1.hash(), &proof1)
        .unwrap();

    let name =
        |r: Result<(), junction_light_clients::evm::attested::AttestedError>| r.unwrap_err().name();
    // Another height: its state root is another one.
    assert_eq!(
        name(client.verify_membership(h1, &path1, &p1.hash(), &proof1)),
        "root_mismatch"
    );
    // A height the client never verified.
    assert_eq!(
        name(client.verify_membership(h2 + 1, &path1, &p1.hash(), &proof1)),
        "unknown_height"
    );
    // Another packet's hash at this packet's slot.
    assert_eq!(
        name(client.verify_membership(h2, &path1, &p2.hash(), &proof1)),
        "value_mismatch"
    );
    // This proof for the other packet's slot: both are stored, so where their trie paths
    // part, the proof's next node is not the one the other path references.
    let path2 = commitment_path(env.gw_a, &p2);
    assert_eq!(
        name(client.verify_membership(h2, &path2, &p2.hash(), &proof1)),
        "node_hash_mismatch"
    );
    // Absence of a stored commitment cannot be shown with its membership proof.
    assert_eq!(
        name(client.verify_non_membership(h2, &path1, &proof1)),
        "value_mismatch"
    );
    // A proof of another account (gateway B's storage) for gateway A's slot.
    let b = adapter(&env, &env.chain_b.clone(), env.gw_b).await;
    let foreign = evm_proof(&b.prove_no_receipt(&p1, h2).await.unwrap());
    assert_eq!(
        name(client.verify_membership(h2, &path1, &p1.hash(), &foreign)),
        "node_hash_mismatch"
    );
    // A commitment proof for a packet that was never sent is refused by the adapter itself.
    let mut never = p2.clone();
    never.sequence = 99;
    assert_eq!(
        a.prove_commitment(&never, h2).await.unwrap_err().name(),
        "not_committed"
    );
}

#[tokio::test]
async fn a_header_signed_by_fewer_attesters_than_the_threshold_is_refused() {
    let Some(env) = timed_env().await else { return };
    let a = adapter(&env, &env.chain_a.clone(), env.gw_a).await;
    let h0 = a.latest_height().await.unwrap();
    let mut client = client_from(&a.trust_root(h0).await.unwrap());
    env.lock_and_send(Address::repeat_byte(0x41), 1, far_timeout())
        .await;
    let h1 = a.latest_height().await.unwrap();

    // An adapter holding one attester key (of three, threshold two).
    let lone = EvmAdapter::connect(config(&env, &env.chain_a, env.gw_a, 1))
        .await
        .unwrap();
    let signed = SignedAttestedHeader::from_bytes(&lone.header_update(h1).await.unwrap()).unwrap();
    assert_eq!(signed.signatures.len(), 1);
    let err = client.verify_header(&signed, now()).unwrap_err();
    assert_eq!(err.name(), "insufficient_signatures");

    // Signatures by keys the council never registered.
    let mut strangers = config(&env, &env.chain_a, env.gw_a, 0);
    strangers.attester_keys = (100..103).map(testkit::attester_key).collect();
    let strangers = EvmAdapter::connect(strangers).await.unwrap();
    let signed =
        SignedAttestedHeader::from_bytes(&strangers.header_update(h1).await.unwrap()).unwrap();
    assert_eq!(
        client.verify_header(&signed, now()).unwrap_err().name(),
        "signer_not_attester"
    );

    // A tampered state root no longer matches the attesters' signatures.
    let mut forged = SignedAttestedHeader::from_bytes(&a.header_update(h1).await.unwrap()).unwrap();
    forged.header.state_root[0] ^= 1;
    assert_eq!(
        client.verify_header(&forged, now()).unwrap_err().name(),
        "signer_not_attester"
    );

    // The full set is accepted.
    update(&mut client, &a, h1).await;
}

#[tokio::test]
async fn the_adapter_refuses_a_wrong_configuration_by_name() {
    let Some(env) = timed_env().await else { return };
    let mut wrong_chain = config(&env, &env.chain_a, env.gw_a, 1);
    wrong_chain.evm_chain_id = 1;
    assert_eq!(
        EvmAdapter::connect(wrong_chain).await.unwrap_err().name(),
        "chain_id_mismatch"
    );
    // Without attester keys (a relayer's adapter) it reads and proves, and leaves the
    // headers to the members' attesters.
    let no_keys = EvmAdapter::connect(config(&env, &env.chain_a, env.gw_a, 0))
        .await
        .unwrap();
    assert!(!no_keys.relays_headers());
    assert_eq!(
        no_keys.header_update(1).await.unwrap_err().name(),
        "invalid_config"
    );
    let mut remote = config(&env, &env.chain_a, env.gw_a, 1);
    remote.rpc_url = format!("http://192.0.2.1:{}", env.anvil.port());
    assert_eq!(
        EvmAdapter::connect(remote).await.unwrap_err().name(),
        "non_loopback_rpc"
    );
    // Debug output names the attesters, never the keys.
    let shown = format!("{:?}", config(&env, &env.chain_a, env.gw_a, 1));
    assert!(!shown.contains(DEV_KEY_1));
    assert!(shown.contains(&hex::encode(testkit::address(&testkit::attester_key(0)))));
    // A block the node does not have; and the adapter works behind `dyn Adapter`.
    let a: Box<dyn Adapter> = Box::new(adapter(&env, &env.chain_a.clone(), env.gw_a).await);
    assert_eq!(a.kind(), LedgerKind::EvmAttested);
    assert_eq!(
        a.header_update(1_000_000).await.unwrap_err().name(),
        "block_not_found"
    );
}

#[tokio::test]
async fn an_error_ack_and_a_timeout_are_proven_and_reported() {
    let Some(mut env) = timed_env().await else {
        return;
    };
    let a = adapter(&env, &env.chain_a.clone(), env.gw_a).await;
    let b = adapter(&env, &env.chain_b.clone(), env.gw_b).await;
    let h0 = b.latest_height().await.unwrap();
    let mut client_b = client_from(&b.trust_root(h0).await.unwrap());

    // Error-ack: escrow B reverts on a zero recipient; the receipt says so and is proven
    // with the error-ack commitment.
    let bad = env.packet_a_to_b(7, Address::ZERO, 3, far_timeout());
    let i = env.hub.append(packet_entry(bad.clone(), false));
    let cp = env.hub.certify();
    let delivered = b.deliver(&cp, &[env.hub.prove(i)]).await.unwrap();
    let receipt = b.receipt(&bad).await.unwrap().expect("a receipt");
    assert_eq!(delivered.received, vec![receipt.clone()]);
    assert!(!receipt.app_succeeded);
    assert_eq!(receipt.kind(), EntryKind::ErrorAck);
    let hr = b.latest_height().await.unwrap();
    update(&mut client_b, &b, hr).await;
    let proof = b.prove_receipt(&bad, hr).await.unwrap();
    client_b
        .verify_membership(
            hr,
            &receipt_path(env.gw_b, &bad),
            &ack_commitment(EntryKind::ErrorAck, &receipt.result),
            &evm_proof(&proof),
        )
        .unwrap();
    // Not the ack commitment of the same result.
    assert_eq!(
        client_b
            .verify_membership(
                hr,
                &receipt_path(env.gw_b, &bad),
                &ack_commitment(EntryKind::Ack, &receipt.result),
                &evm_proof(&proof),
            )
            .unwrap_err()
            .name(),
        "value_mismatch"
    );

    // Timeout: a packet due by a destination height that passes without delivery.
    let deadline = b.latest_height().await.unwrap() + 3;
    let late = env
        .lock_and_send(
            Address::repeat_byte(0x51),
            5,
            junction_spec::Timeout {
                height: deadline,
                time_ms: 0,
            },
        )
        .await;
    assert_eq!(a.pending_packets().await.unwrap().len(), 1);
    while b.latest_height().await.unwrap() < deadline {
        use alloy::providers::Provider;
        let _: serde_json::Value = env
            .provider
            .raw_request("evm_mine".into(), ())
            .await
            .unwrap();
    }
    let ht = b.latest_height().await.unwrap();
    update(&mut client_b, &b, ht).await;
    let absence = b.prove_no_receipt(&late, ht).await.unwrap();
    assert!(absence.height >= deadline);
    client_b
        .verify_non_membership(ht, &receipt_path(env.gw_b, &late), &evm_proof(&absence))
        .unwrap();
    // The hub logs the timeout; the source gets its refund and the packet leaves the
    // pending list.
    let t = env
        .hub
        .append(entry(EntryKind::Timeout, false, late.clone(), vec![]));
    let cp2 = env.hub.certify();
    let back = a.deliver(&cp2, &[env.hub.prove(t)]).await.unwrap();
    assert_eq!(back.outcomes.len(), 1);
    assert_eq!(back.outcomes[0].kind, EntryKind::Timeout);
    assert!(back.outcomes[0].callback_succeeded);
    assert!(a.pending_packets().await.unwrap().is_empty());
    assert_eq!(
        env.balance(env.escrow_a, env.user).await,
        U256::from(SUPPLY)
    );
}
