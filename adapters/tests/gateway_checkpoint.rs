//! Checkpoint verification by the gateway: quorum strictly above 2/3, signers from the held
//! set only and once each, never backwards, set changes only through the next-set hash.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use alloy::primitives::Address;
use common::*;
use junction_adapters::evm::gateway::{deliver, CheckpointProof, GatewayRevert, JunctionGateway};
use junction_light_clients::hub::testkit;

async fn height(env: &Env) -> u64 {
    env.gateway(env.gw_b).heldHeight().call().await.unwrap()
}

#[tokio::test]
async fn exactly_two_thirds_of_the_power_is_not_enough() {
    // Three attesters of power 10: two of them hold exactly 2/3.
    let Some(mut env) = env_with(TestHub::new(3)).await else {
        return;
    };
    let cp = env.hub.next_checkpoint();
    let err = deliver(
        &env.provider,
        env.gw_b,
        &env.hub.sign(&cp, &[0, 2]),
        &[],
        None,
    )
    .await
    .unwrap_err();
    match err.revert() {
        Some(GatewayRevert::InsufficientPower(e)) => {
            assert_eq!(e.got, alloy::primitives::U256::from(20));
            assert_eq!(e.need, alloy::primitives::U256::from(21));
        }
        other => panic!("expected InsufficientPower, got {other:?}"),
    }
    assert_eq!(height(&env).await, 1);
    let receipt = deliver(
        &env.provider,
        env.gw_b,
        &env.hub.sign(&cp, &[0, 1, 2]),
        &[],
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        events::<JunctionGateway::CheckpointAccepted>(&receipt).len(),
        1
    );
    assert_eq!(height(&env).await, cp.height);
}

#[tokio::test]
async fn a_signer_outside_the_set_is_refused() {
    let Some(mut env) = env().await else { return };
    let cp = env.hub.next_checkpoint();
    let mut proof = env.hub.sign(&cp, &[0, 1, 2]);
    let stranger = testkit::attester_key(99, 0);
    proof
        .signatures
        .push(testkit::sign_checkpoint(&stranger, &cp).unwrap());
    let err = deliver(&env.provider, env.gw_b, &proof, &[], None)
        .await
        .unwrap_err();
    match err.revert() {
        Some(GatewayRevert::UnknownSigner(e)) => {
            assert_eq!(e.signer, Address::from(testkit::address_of(&stranger)));
        }
        other => panic!("expected UnknownSigner, got {other:?}"),
    }
}

#[tokio::test]
async fn a_signer_counted_twice_is_refused() {
    let Some(mut env) = env().await else { return };
    let cp = env.hub.next_checkpoint();
    // 0, 1 and 1 again would be 3 of 4 "signatures" but only half the power.
    let proof = env.hub.sign(&cp, &[0, 1, 1]);
    let err = deliver(&env.provider, env.gw_b, &proof, &[], None)
        .await
        .unwrap_err();
    assert_eq!(err.revert_name(), Some("DuplicateSigner"));
}

#[tokio::test]
async fn a_high_s_signature_is_refused() {
    let Some(mut env) = env().await else { return };
    let cp = env.hub.next_checkpoint();
    let mut proof = env.hub.sign(&cp, &[0, 1, 2, 3]);
    // (r, n - s, v ^ 1) is the same signature in its malleable form.
    let n = alloy::primitives::U256::from_be_bytes([
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xfe, 0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36,
        0x41, 0x41,
    ]);
    let sig = &mut proof.signatures[2];
    let s = alloy::primitives::U256::from_be_slice(&sig[32..64]);
    sig[32..64].copy_from_slice(&(n - s).to_be_bytes::<32>());
    sig[64] = if sig[64] == 27 { 28 } else { 27 };
    let err = deliver(&env.provider, env.gw_b, &proof, &[], None)
        .await
        .unwrap_err();
    let got = err.revert();
    assert!(
        matches!(got, Some(GatewayRevert::HighS(ref e)) if e.index == alloy::primitives::U256::from(2)),
        "{got:?}"
    );
}

#[tokio::test]
async fn an_older_checkpoint_is_refused() {
    let Some(mut env) = env().await else { return };
    let old = env.hub.certify();
    let new = env.hub.certify();
    deliver(&env.provider, env.gw_b, &new, &[], None)
        .await
        .unwrap();
    let err = deliver(&env.provider, env.gw_b, &old, &[], None)
        .await
        .unwrap_err();
    match err.revert() {
        Some(GatewayRevert::CheckpointOlder(e)) => assert_eq!((e.got, e.held), (2, 3)),
        other => panic!("expected CheckpointOlder, got {other:?}"),
    }
    // A different checkpoint at the held height is a conflict, not a no-op.
    let mut twin = new.checkpoint.clone();
    twin.time_ms += 1;
    let err = deliver(
        &env.provider,
        env.gw_b,
        &env.hub.sign(&twin, &[0, 1, 2, 3]),
        &[],
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(err.revert_name(), Some("ConflictingCheckpoint"));
    // A checkpoint of another hub.
    let mut foreign = env.hub.next_checkpoint();
    foreign.hub_chain_id = chain("other-hub");
    let err = deliver(
        &env.provider,
        env.gw_b,
        &env.hub.sign(&foreign, &[0, 1, 2, 3]),
        &[],
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(err.revert_name(), Some("WrongHubChain"));
}

#[tokio::test]
async fn the_set_changes_through_the_next_set_hash_and_the_new_set_signs() {
    let Some(mut env) = env().await else { return };
    let (new_set, new_keys) = testkit::attestation_set(5, 8).unwrap();
    let old_set = env.hub.set.clone();
    // The old set signs a checkpoint naming the new set as the next signer.
    let mut handover = env.hub.next_checkpoint();
    handover.next_attestation_set_hash = new_set.hash();
    let mut proof = env.hub.sign(&handover, &[0, 1, 2, 3]);

    // Without the new set, or with a different one: refused.
    let err = deliver(&env.provider, env.gw_b, &proof, &[], None)
        .await
        .unwrap_err();
    assert_eq!(err.revert_name(), Some("MissingNextSet"));
    proof.next_set = Some(testkit::attestation_set(5, 9).unwrap().0);
    let err = deliver(&env.provider, env.gw_b, &proof, &[], None)
        .await
        .unwrap_err();
    assert_eq!(err.revert_name(), Some("NextSetMismatch"));

    proof.next_set = Some(new_set.clone());
    let receipt = deliver(&env.provider, env.gw_b, &proof, &[], None)
        .await
        .unwrap();
    assert_eq!(
        events::<JunctionGateway::AttestationSetChanged>(&receipt).len(),
        1
    );
    let gw = env.gateway(env.gw_b);
    assert_eq!(
        gw.attestationSetHash().call().await.unwrap().0,
        new_set.hash()
    );

    // From now on the new set signs; the old one no longer can.
    env.hub.set = new_set.clone();
    env.hub.keys = new_keys;
    let next = env.hub.next_checkpoint();
    let mut by_old = env.hub.sign(&next, &[]);
    by_old.attestation_set = Some(old_set.clone());
    let err = deliver(&env.provider, env.gw_b, &by_old, &[], None)
        .await
        .unwrap_err();
    assert_eq!(err.revert_name(), Some("AttestationSetMismatch"));
    let by_new = env.hub.sign(&next, &[0, 1, 2, 4]);
    deliver(&env.provider, env.gw_b, &by_new, &[], None)
        .await
        .unwrap();
    assert_eq!(height(&env).await, next.height);

    // A held checkpoint needs no signatures at all.
    deliver(
        &env.provider,
        env.gw_b,
        &CheckpointProof::held(next),
        &[],
        None,
    )
    .await
    .unwrap();
}
