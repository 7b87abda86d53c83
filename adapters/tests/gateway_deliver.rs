//! Delivering hub log entries to a gateway on a real anvil: exactly once, one outcome,
//! deadlines by the gateway's own clock, the gas rule, ordered routes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use alloy::primitives::{Address, U256};
use alloy::providers::Provider;
use alloy::sol_types::SolValue;
use common::*;
use junction_adapters::evm::gateway::{
    deliver, deploy_gateway, evm_app_id, CheckpointProof, GatewayRevert, JunctionGateway,
};
use junction_spec::log::{ack_commitment, EntryKind};
use junction_spec::Timeout;

#[tokio::test]
async fn valid_batch_runs_the_app_once_and_a_replay_is_already_delivered() {
    let Some(mut env) = env().await else { return };
    let recipient = Address::repeat_byte(0x11);
    let packet = env.packet_a_to_b(1, recipient, 70, far_timeout());
    let key = packet.key().hash();
    let i = env.hub.append(packet_entry(packet, false));
    let cp = env.hub.certify();
    let proof = env.hub.prove(i);

    let receipt = deliver(
        &env.provider,
        env.gw_b,
        &cp,
        std::slice::from_ref(&proof),
        None,
    )
    .await
    .unwrap();
    let received = events::<JunctionGateway::PacketReceived>(&receipt);
    assert_eq!(received.len(), 1);
    assert!(received[0].appSucceeded);
    let ack = U256::from(70).abi_encode();
    assert_eq!(received[0].result.as_ref(), ack.as_slice());
    assert_eq!(
        env.ack_of(env.gw_b, key).await,
        ack_commitment(EntryKind::Ack, &ack)
    );
    assert_eq!(env.balance(env.escrow_b, recipient).await, U256::from(70));
    // The receipt sits where GATEWAY.md says the hub finds it: mapping `acks` at slot 1.
    let slot =
        alloy::primitives::keccak256([key.as_slice(), &U256::from(1).to_be_bytes::<32>()].concat());
    let proof_of = env.provider.get_proof(env.gw_b, vec![slot]).await.unwrap();
    assert_eq!(
        proof_of.storage_proof[0].value.to_be_bytes::<32>(),
        ack_commitment(EntryKind::Ack, &ack)
    );

    // Same batch again (same checkpoint, now the held one; and the fully signed form).
    for again in [CheckpointProof::held(cp.checkpoint.clone()), cp.clone()] {
        let err = deliver(
            &env.provider,
            env.gw_b,
            &again,
            std::slice::from_ref(&proof),
            None,
        )
        .await
        .unwrap_err();
        assert_eq!(err.revert_name(), Some("AlreadyDelivered"));
        assert!(matches!(err.revert(), Some(GatewayRevert::AlreadyDelivered(e)) if e.key.0 == key));
    }
    // The app ran once.
    assert_eq!(env.balance(env.escrow_b, recipient).await, U256::from(70));
    assert_eq!(
        env.escrow(env.escrow_b).minted().call().await.unwrap(),
        U256::from(70)
    );
}

#[tokio::test]
async fn a_packet_past_its_deadline_is_refused_by_the_gateway_clock() {
    let Some(mut env) = env().await else { return };
    let (_, now) = env.clock().await;
    let recipient = Address::repeat_byte(0x12);
    let deadline = Timeout {
        height: 0,
        time_ms: (now + 60) * 1000,
    };
    let packet = env.packet_a_to_b(1, recipient, 5, deadline);
    let key = packet.key().hash();
    let i = env.hub.append(packet_entry(packet, false));
    let cp = env.hub.certify();
    // The destination chain's clock passes the deadline.
    let _: serde_json::Value = env
        .provider
        .raw_request("evm_increaseTime".into(), (120u64,))
        .await
        .unwrap();
    let _: serde_json::Value = env
        .provider
        .raw_request("evm_mine".into(), ())
        .await
        .unwrap();

    let receipt = deliver(&env.provider, env.gw_b, &cp, &[env.hub.prove(i)], None)
        .await
        .unwrap();
    let refused = events::<JunctionGateway::PacketRefused>(&receipt);
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].key.0, key);
    assert_eq!(refused[0].reason.as_ref(), b"junction: deadline passed");
    assert!(events::<JunctionGateway::PacketReceived>(&receipt).is_empty());
    // No receipt: the hub can prove non-membership and log a timeout.
    assert_eq!(env.ack_of(env.gw_b, key).await, [0u8; 32]);
    assert_eq!(env.balance(env.escrow_b, recipient).await, U256::ZERO);
}

#[tokio::test]
async fn a_relayer_cannot_starve_the_app_of_its_gas() {
    let Some(mut env) = env().await else { return };
    let recipient = Address::repeat_byte(0x13);
    let mut packet = env.packet_a_to_b(1, recipient, 9, far_timeout());
    packet.gas_limit = 1_000_000;
    let key = packet.key().hash();
    let i = env.hub.append(packet_entry(packet, false));
    let cp = env.hub.certify();
    let proof = env.hub.prove(i);
    let call = junction_adapters::evm::gateway::deliver_call(&cp, std::slice::from_ref(&proof));
    let gw = env.gateway(env.gw_b);

    // Enough for the checkpoint and the proof, not for the app's million.
    let err = gw
        .deliver(call.signed.clone(), call.entries.clone())
        .gas(600_000)
        .call()
        .await
        .unwrap_err();
    let data = err.as_revert_data().unwrap();
    assert_eq!(
        junction_adapters::evm::gateway::revert_name(&data),
        Some("InsufficientGasForApp")
    );
    let mined = deliver(
        &env.provider,
        env.gw_b,
        &cp,
        std::slice::from_ref(&proof),
        Some(600_000),
    )
    .await;
    assert_eq!(mined.unwrap_err().name(), "reverted");
    // Nothing was delivered: no receipt, no mint, not even the checkpoint.
    assert_eq!(env.ack_of(env.gw_b, key).await, [0u8; 32]);
    assert_eq!(env.balance(env.escrow_b, recipient).await, U256::ZERO);
    assert_eq!(gw.heldHeight().call().await.unwrap(), 1);

    // With enough gas the same batch goes through.
    deliver(&env.provider, env.gw_b, &cp, &[proof], Some(2_000_000))
        .await
        .unwrap();
    assert_eq!(env.balance(env.escrow_b, recipient).await, U256::from(9));
}

#[tokio::test]
async fn an_app_revert_becomes_an_error_ack_and_the_batch_goes_on() {
    let Some(mut env) = env().await else { return };
    let good_recipient = Address::repeat_byte(0x14);
    // The escrow reverts on a zero recipient.
    let bad = env.packet_a_to_b(1, Address::ZERO, 3, far_timeout());
    let good = env.packet_a_to_b(2, good_recipient, 4, far_timeout());
    let bad_key = bad.key().hash();
    let i = env.hub.append(packet_entry(bad, false));
    let j = env.hub.append(packet_entry(good.clone(), false));
    let cp = env.hub.certify();
    let receipt = deliver(
        &env.provider,
        env.gw_b,
        &cp,
        &[env.hub.prove(i), env.hub.prove(j)],
        None,
    )
    .await
    .unwrap();
    let received = events::<JunctionGateway::PacketReceived>(&receipt);
    assert_eq!(received.len(), 2);
    assert!(!received[0].appSucceeded);
    // The reason is the app's revert data: TokenEscrow.ZeroRecipient().
    let reason = received[0].result.to_vec();
    assert_eq!(
        reason,
        alloy::primitives::keccak256("ZeroRecipient()")[..4].to_vec()
    );
    assert_eq!(
        env.ack_of(env.gw_b, bad_key).await,
        ack_commitment(EntryKind::ErrorAck, &reason)
    );
    assert!(received[1].appSucceeded);
    assert_eq!(
        env.balance(env.escrow_b, good_recipient).await,
        U256::from(4)
    );
}

#[tokio::test]
async fn an_ack_at_the_source_runs_the_callback_once_and_deletes_the_commitment() {
    let Some(mut env) = env().await else { return };
    let recipient = Address::repeat_byte(0x15);
    let packet = env.lock_and_send(recipient, 40, far_timeout()).await;
    let key = packet.key().hash();
    assert_eq!(env.commitment_of(env.gw_a, key).await, packet.hash());

    // Hub: the packet, then (after B ran it) its ack.
    let p = env.hub.append(packet_entry(packet.clone(), false));
    let cp = env.hub.certify();
    deliver(&env.provider, env.gw_b, &cp, &[env.hub.prove(p)], None)
        .await
        .unwrap();
    let ack = U256::from(40).abi_encode();
    let a = env.hub.append(entry(EntryKind::Ack, false, packet, ack));
    let cp2 = env.hub.certify();
    let receipt = deliver(&env.provider, env.gw_a, &cp2, &[env.hub.prove(a)], None)
        .await
        .unwrap();
    let outcomes = events::<JunctionGateway::OutcomeDelivered>(&receipt);
    assert_eq!(outcomes.len(), 1);
    assert!(outcomes[0].callbackSucceeded);
    assert_eq!(outcomes[0].kind, EntryKind::Ack.tag());
    assert_eq!(env.commitment_of(env.gw_a, key).await, [0u8; 32]);
    let escrow = env.escrow(env.escrow_a);
    assert_eq!(escrow.pending().call().await.unwrap(), U256::ZERO);
    assert_eq!(escrow.escrowed().call().await.unwrap(), U256::from(40));

    // A second outcome for the same packet finds nothing pending.
    let err = deliver(
        &env.provider,
        env.gw_a,
        &CheckpointProof::held(cp2.checkpoint.clone()),
        &[env.hub.prove(a)],
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(err.revert_name(), Some("PacketNotPending"));
    assert_eq!(escrow.escrowed().call().await.unwrap(), U256::from(40));
}

#[tokio::test]
async fn a_timeout_at_the_source_refunds_the_escrow() {
    let Some(mut env) = env().await else { return };
    let recipient = Address::repeat_byte(0x16);
    let packet = env
        .lock_and_send(
            recipient,
            500,
            Timeout {
                height: 3,
                time_ms: 0,
            },
        )
        .await;
    assert_eq!(
        env.balance(env.escrow_a, env.user).await,
        U256::from(SUPPLY - 500)
    );
    let t = env
        .hub
        .append(entry(EntryKind::Timeout, false, packet.clone(), vec![]));
    let cp = env.hub.certify();
    let receipt = deliver(&env.provider, env.gw_a, &cp, &[env.hub.prove(t)], None)
        .await
        .unwrap();
    let outcomes = events::<JunctionGateway::OutcomeDelivered>(&receipt);
    assert_eq!(outcomes.len(), 1);
    assert!(outcomes[0].callbackSucceeded);
    assert_eq!(
        env.balance(env.escrow_a, env.user).await,
        U256::from(SUPPLY)
    );
    assert_eq!(
        env.escrow(env.escrow_a).pending().call().await.unwrap(),
        U256::ZERO
    );
    assert_eq!(
        env.commitment_of(env.gw_a, packet.key().hash()).await,
        [0u8; 32]
    );
}

#[tokio::test]
async fn an_error_ack_at_the_source_refunds_the_escrow() {
    let Some(mut env) = env().await else { return };
    let packet = env
        .lock_and_send(Address::repeat_byte(0x17), 60, far_timeout())
        .await;
    let e = env.hub.append(entry(
        EntryKind::ErrorAck,
        false,
        packet,
        b"route paused".to_vec(),
    ));
    let cp = env.hub.certify();
    deliver(&env.provider, env.gw_a, &cp, &[env.hub.prove(e)], None)
        .await
        .unwrap();
    assert_eq!(
        env.balance(env.escrow_a, env.user).await,
        U256::from(SUPPLY)
    );
}

#[tokio::test]
async fn an_ordered_route_runs_by_sequence_and_a_skip_unblocks_it() {
    let Some(mut env) = env().await else { return };
    let recipient = Address::repeat_byte(0x18);
    let first = env.packet_a_to_b(1, recipient, 1, far_timeout());
    let second = env.packet_a_to_b(2, recipient, 2, far_timeout());
    let i2 = env.hub.append(packet_entry(second.clone(), true));
    let cp = env.hub.certify();
    let gw = env.gateway(env.gw_b);
    let next = || async {
        gw.nextReceiveSequence("evm-a".into(), env.escrow_a.as_slice().to_vec().into())
            .call()
            .await
            .unwrap()
    };
    assert_eq!(next().await, 1);

    // Sequence 2 before sequence 1: refused.
    let err = deliver(&env.provider, env.gw_b, &cp, &[env.hub.prove(i2)], None)
        .await
        .unwrap_err();
    assert_eq!(err.revert_name(), Some("OutOfOrder"));
    match err.revert() {
        Some(GatewayRevert::OutOfOrder(e)) => {
            assert_eq!((e.expected, e.got), (1, 2));
        }
        other => panic!("expected OutOfOrder, got {other:?}"),
    }
    assert_eq!(env.ack_of(env.gw_b, second.key().hash()).await, [0u8; 32]);

    // The hub skips sequence 1 (it timed out); then 2 runs, in the same batch.
    let s1 = env
        .hub
        .append(entry(EntryKind::SequenceSkip, true, first.clone(), vec![]));
    let cp2 = env.hub.certify();
    let receipt = deliver(
        &env.provider,
        env.gw_b,
        &cp2,
        &[env.hub.prove(s1), env.hub.prove(i2)],
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        events::<JunctionGateway::SequenceSkipped>(&receipt).len(),
        1
    );
    assert_eq!(events::<JunctionGateway::PacketReceived>(&receipt).len(), 1);
    assert_eq!(next().await, 3);
    assert_eq!(env.balance(env.escrow_b, recipient).await, U256::from(2));
    // The skipped sequence can never run afterwards.
    let late = env.hub.append(packet_entry(first, true));
    let cp3 = env.hub.certify();
    let err = deliver(&env.provider, env.gw_b, &cp3, &[env.hub.prove(late)], None)
        .await
        .unwrap_err();
    assert_eq!(err.revert_name(), Some("AlreadyDelivered"));
}

#[tokio::test]
async fn an_entry_for_another_chain_is_refused() {
    let Some(mut env) = env().await else { return };
    let packet = env.packet_a_to_b(1, Address::repeat_byte(0x19), 1, far_timeout());
    // Addressed to evm-b and bound to gateway B: at gateway A its leaf is another one.
    let i = env.hub.append(packet_entry(packet.clone(), false));
    // Addressed to evm-b but (wrongly) bound to gateway A: proven there, and still refused
    // by its target chain.
    let mut mislabelled = packet_entry(packet, false);
    mislabelled.target_binding = env.hub.bindings[&env.chain_a];
    let j = env.hub.append_raw(mislabelled);
    let cp = env.hub.certify();
    let err = deliver(&env.provider, env.gw_a, &cp, &[env.hub.prove(i)], None)
        .await
        .unwrap_err();
    assert_eq!(err.revert_name(), Some("InclusionProofInvalid"));
    let err = deliver(&env.provider, env.gw_a, &cp, &[env.hub.prove(j)], None)
        .await
        .unwrap_err();
    assert_eq!(err.revert_name(), Some("WrongTargetChain"));
}

/// Replay at a twin gateway (spec/security.md): entries were bound to a chain-id string only, so a second gateway
/// deployed under the same chain name (on this or another EVM chain) accepted the same
/// checkpoints and entries. Each entry's leaf now commits to the registered gateway's
/// binding (EIP-155 id and address): the second gateway cannot prove it.
#[tokio::test]
async fn a_second_gateway_with_the_same_chain_name_cannot_replay_entries() {
    let Some(mut env) = env().await else { return };
    let recipient = Address::repeat_byte(0x1c);
    let twin = deploy_gateway(
        &env.provider,
        &env.chain_b,
        &env.hub.chain,
        &env.hub.genesis,
        &env.hub.set,
    )
    .await
    .unwrap();
    let twin_escrow =
        junction_adapters::evm::gateway::deploy_escrow(&env.provider, twin, U256::from(SUPPLY))
            .await
            .unwrap();
    assert_eq!(
        env.gateway(twin).chainId().call().await.unwrap(),
        env.chain_b.as_str()
    );
    let mut packet = env.packet_a_to_b(1, recipient, 5, far_timeout());
    packet.dest_app = evm_app_id(twin_escrow);
    let i = env.hub.append(packet_entry(packet, false));
    let cp = env.hub.certify();
    let err = deliver(&env.provider, twin, &cp, &[env.hub.prove(i)], None)
        .await
        .unwrap_err();
    assert_eq!(err.revert_name(), Some("InclusionProofInvalid"));
    assert_eq!(env.balance(twin_escrow, recipient).await, U256::ZERO);
}

#[tokio::test]
async fn a_bad_inclusion_proof_is_refused() {
    let Some(mut env) = env().await else { return };
    let recipient = Address::repeat_byte(0x1a);
    for s in 1..=3 {
        let p = env.packet_a_to_b(s, recipient, s, far_timeout());
        env.hub.append(packet_entry(p, false));
    }
    let cp = env.hub.certify();
    let good = env.hub.prove(1);
    let mut flipped = good.clone();
    flipped.proof[0][0] ^= 1;
    let mut wrong_index = good.clone();
    wrong_index.index = 2;
    let mut short = good.clone();
    short.proof.pop();
    let mut tampered = good.clone();
    tampered.entry.packet.payload[31] ^= 1;
    for bad in [flipped, wrong_index, short, tampered] {
        let err = deliver(&env.provider, env.gw_b, &cp, &[env.hub.prove(0), bad], None)
            .await
            .unwrap_err();
        assert!(
            matches!(err.revert(), Some(GatewayRevert::InclusionProofInvalid(e)) if e.index == U256::from(1)),
            "{err:?}"
        );
    }
    assert_eq!(env.balance(env.escrow_b, recipient).await, U256::ZERO);
    deliver(&env.provider, env.gw_b, &cp, &[good], None)
        .await
        .unwrap();
    assert_eq!(env.balance(env.escrow_b, recipient).await, U256::from(2));
}

/// The poison packet (spec/security.md): nothing capped a packet's gas limit, so one
/// `lockAndSend` with `gasLimit = 2**63` made every delivery batch holding it revert. The
/// gateway refuses such a packet at `send`, where nothing is committed yet.
#[tokio::test]
async fn send_above_the_gateway_gas_cap_is_refused() {
    let Some(env) = env().await else { return };
    let cap = env.gateway(env.gw_a).MAX_GAS_LIMIT().call().await.unwrap();
    assert_eq!(cap, junction_spec::MAX_PACKET_GAS_LIMIT);
    let to = Address::repeat_byte(0x1d);
    for gas in [cap + 1, 1u64 << 63] {
        let err = env
            .lock_and_send_call(env.escrow_b, to, 5, far_timeout(), gas)
            .call()
            .await
            .unwrap_err();
        let data = err.as_revert_data().unwrap();
        assert_eq!(
            junction_adapters::evm::gateway::revert_name(&data),
            Some("GasLimitTooHigh"),
            "gas limit {gas}"
        );
    }
    // At the cap a packet is committed.
    let sent = env
        .lock_and_send_to(env.escrow_b, to, 5, far_timeout(), cap)
        .await;
    assert_eq!(sent.gas_limit, cap);
}

/// Effects kept with an invalid ack (spec/security.md): an app whose ack was invalid
/// (oversized, not `bytes`, a return bomb) kept its effects while the source was refunded
/// through the error-ack: one packet paid out on both chains. The app now runs in a frame
/// of its own that rolls back unless its return is a valid ack: its state is unchanged, the
/// outcome is one error-ack, and the source refunds once.
#[tokio::test]
async fn an_invalid_ack_rolls_the_app_back_and_the_source_is_refunded_once() {
    let Some(mut env) = env().await else { return };
    let hostile = hostile::HostileApp::deploy(env.provider.clone(), env.gw_b)
        .await
        .unwrap();
    let modes: [(u8, &str); 4] = [
        (1, "ack over the cap"),
        (2, "not bytes"),
        (3, "return bomb"),
        (4, "revert"),
    ];
    let before = env.balance(env.escrow_a, env.user).await;
    // The hostile app reads its mode from the recipient's last byte.
    let recipient = |mode: u8| {
        let mut r = [0x20u8; 20];
        r[19] = mode;
        Address::from(r)
    };
    let mut sent = Vec::new();
    for (mode, _) in modes {
        sent.push(
            env.lock_and_send_to(
                *hostile.address(),
                recipient(mode),
                10,
                far_timeout(),
                APP_GAS,
            )
            .await,
        );
    }
    let indices: Vec<u64> = sent
        .iter()
        .map(|p| env.hub.append(packet_entry(p.clone(), false)))
        .collect();
    let cp = env.hub.certify();
    let proofs: Vec<_> = indices.iter().map(|i| env.hub.prove(*i)).collect();
    let receipt = deliver(&env.provider, env.gw_b, &cp, &proofs, None)
        .await
        .unwrap();
    let received = events::<JunctionGateway::PacketReceived>(&receipt);
    assert_eq!(received.len(), modes.len());
    for ((_, what), r) in modes.iter().zip(&received) {
        assert!(!r.appSucceeded, "{what}");
        if *what != "revert" {
            assert_eq!(
                r.result.as_ref(),
                b"junction: app returned a malformed or oversized ack",
                "{what}"
            );
        }
    }
    // The app's effects did not stand.
    assert_eq!(hostile.runs().call().await.unwrap(), U256::ZERO);
    assert_eq!(hostile.credited().call().await.unwrap(), U256::ZERO);
    // A valid ack keeps them.
    let fine = env
        .lock_and_send_to(*hostile.address(), recipient(0), 10, far_timeout(), APP_GAS)
        .await;
    let i = env.hub.append(packet_entry(fine, false));
    let cp = env.hub.certify();
    let receipt = deliver(&env.provider, env.gw_b, &cp, &[env.hub.prove(i)], None)
        .await
        .unwrap();
    assert!(events::<JunctionGateway::PacketReceived>(&receipt)[0].appSucceeded);
    assert_eq!(hostile.runs().call().await.unwrap(), U256::from(1));
    // Each error-ack reaches escrow A once: the 4 × 10 locked come back, once.
    let acks: Vec<u64> = sent
        .iter()
        .zip(&received)
        .map(|(p, r)| {
            env.hub.append(entry(
                EntryKind::ErrorAck,
                false,
                p.clone(),
                r.result.to_vec(),
            ))
        })
        .collect();
    let cp = env.hub.certify();
    let proofs: Vec<_> = acks.iter().map(|i| env.hub.prove(*i)).collect();
    let receipt = deliver(&env.provider, env.gw_a, &cp, &proofs, None)
        .await
        .unwrap();
    let outcomes = events::<JunctionGateway::OutcomeDelivered>(&receipt);
    assert_eq!(outcomes.len(), modes.len());
    assert!(outcomes.iter().all(|o| o.callbackSucceeded));
    // Only the valid packet's 10 are still locked.
    assert_eq!(
        env.balance(env.escrow_a, env.user).await,
        before - U256::from(10u64)
    );
    let err = deliver(
        &env.provider,
        env.gw_a,
        &CheckpointProof::held(cp.checkpoint.clone()),
        &proofs,
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(err.revert_name(), Some("PacketNotPending"));
    assert_eq!(
        env.balance(env.escrow_a, env.user).await,
        before - U256::from(10u64)
    );
}

/// Outcomes held back by a huge gas limit (spec/security.md): the source-side callbacks
/// ran with the packet's own gas limit, so a packet at a huge limit could never get its
/// outcome delivered (the timeout reverted too). They now run with a bounded gas of their
/// own.
#[tokio::test]
async fn outcome_callbacks_run_with_their_own_bounded_gas() {
    let Some(mut env) = env().await else { return };
    let packet = env
        .lock_and_send_to(
            env.escrow_b,
            Address::repeat_byte(0x1f),
            12,
            far_timeout(),
            junction_spec::MAX_PACKET_GAS_LIMIT,
        )
        .await;
    let before = env.balance(env.escrow_a, env.user).await;
    let t = env
        .hub
        .append(entry(EntryKind::Timeout, false, packet, vec![]));
    let cp = env.hub.certify();
    // Far less than the packet's 10 M: the refund still runs.
    let receipt = deliver(
        &env.provider,
        env.gw_a,
        &cp,
        &[env.hub.prove(t)],
        Some(1_500_000),
    )
    .await
    .unwrap();
    let outcomes = events::<JunctionGateway::OutcomeDelivered>(&receipt);
    assert!(outcomes[0].callbackSucceeded);
    assert_eq!(
        env.balance(env.escrow_a, env.user).await,
        before + U256::from(12u64)
    );
}

/// Gateway retirement (`spec/upgrades.md`): the hub's notice retires a gateway for good
/// and names its successor; a retired gateway refuses new sends by name, but still runs
/// the packets logged for it (here in the notice's own batch, after it) and takes the
/// outcome of a packet it sent before, so its escrow is settled; a second notice is
/// already delivered.
#[tokio::test]
async fn a_retired_gateway_refuses_sends_but_runs_and_settles_what_is_in_flight() {
    use alloy::sol_types::SolError as _;
    use junction_spec::RetirementNotice;
    let Some(mut env) = env().await else { return };
    let recipient = Address::repeat_byte(0x1e);
    let packet = env.lock_and_send(recipient, 30, far_timeout()).await;
    let key = packet.key().hash();
    let notice = |retired: &junction_spec::ChainId, id: u64| {
        RetirementNotice {
            hub_chain: chain("hub"),
            proposal_id: id,
            chain: retired.clone(),
            successor: Some(chain("evm-c")),
        }
        .entry([0; 32])
    };
    let (chain_a, chain_b) = (env.chain_a.clone(), env.chain_b.clone());
    let na = env.hub.append(notice(&chain_a, 4));
    let nb = env.hub.append(notice(&chain_b, 5));
    let p = env.hub.append(packet_entry(packet.clone(), false));
    let cp = env.hub.certify();

    let receipt = deliver(&env.provider, env.gw_a, &cp, &[env.hub.prove(na)], None)
        .await
        .unwrap();
    let retired = events::<JunctionGateway::GatewayRetired>(&receipt);
    assert_eq!(retired.len(), 1);
    assert_eq!(retired[0].proposalId, 4);
    assert_eq!(retired[0].successor, "evm-c");
    let gw_a = env.gateway(env.gw_a);
    assert!(gw_a.retired().call().await.unwrap());
    assert_eq!(gw_a.successorChain().call().await.unwrap(), "evm-c");

    let receipt = deliver(
        &env.provider,
        env.gw_b,
        &cp,
        &[env.hub.prove(nb), env.hub.prove(p)],
        None,
    )
    .await
    .unwrap();
    assert_eq!(events::<JunctionGateway::GatewayRetired>(&receipt).len(), 1);
    let received = events::<JunctionGateway::PacketReceived>(&receipt);
    assert_eq!(received.len(), 1);
    assert!(received[0].appSucceeded);
    assert_eq!(env.balance(env.escrow_b, recipient).await, U256::from(30));

    // New sends are refused by name.
    let err = env
        .lock_and_send_call(env.escrow_b, recipient, 5, far_timeout(), APP_GAS)
        .call()
        .await
        .unwrap_err();
    let data = err.as_revert_data().unwrap();
    assert_eq!(
        data[..4],
        JunctionGateway::GatewayIsRetired::SELECTOR[..],
        "{err}"
    );
    assert_eq!(
        junction_adapters::evm::gateway::revert_name(&data),
        Some("GatewayIsRetired")
    );

    // The outcome of the packet sent before retirement still settles the escrow.
    let ack = U256::from(30).abi_encode();
    let a = env.hub.append(entry(EntryKind::Ack, false, packet, ack));
    let cp2 = env.hub.certify();
    let receipt = deliver(&env.provider, env.gw_a, &cp2, &[env.hub.prove(a)], None)
        .await
        .unwrap();
    let outcomes = events::<JunctionGateway::OutcomeDelivered>(&receipt);
    assert_eq!(outcomes.len(), 1);
    assert!(outcomes[0].callbackSucceeded);
    assert_eq!(env.commitment_of(env.gw_a, key).await, [0u8; 32]);
    assert_eq!(
        env.escrow(env.escrow_a).pending().call().await.unwrap(),
        U256::ZERO
    );

    // The notice again: already delivered.
    let err = deliver(
        &env.provider,
        env.gw_a,
        &CheckpointProof::held(cp2.checkpoint.clone()),
        &[env.hub.prove(na)],
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(err.revert_name(), Some("AlreadyDelivered"));
}
