//! Route policy: every rejection with its stable name, and the token bucket.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use junction_governance::*;
use junction_spec::*;
use VoteOption::Yes;

fn route() -> RouteId {
    route_id("a-to-b")
}

/// Checks that `packet` is rejected with `want`, whose name is `name`, by both steps,
/// and that the rejection takes no tokens.
fn rejects(
    c: &mut Council,
    packet: &Packet,
    ctx: &PacketContext,
    want: PolicyRejection,
    name: &str,
) {
    let r = route();
    assert_eq!(c.check_packet(&r, packet, ctx), Err(want.clone()));
    let before = c.clone();
    assert_eq!(c.execute_packet(&r, packet, ctx), Err(want.clone()));
    assert_eq!(*c, before, "a rejected packet changed the state");
    assert_eq!(want.name(), name);
}

/// Passes `kind` with both members' votes and executes it; returns the time after.
fn enact(c: &mut Council, kind: ProposalKind, now: u64) -> u64 {
    let id = propose_and_vote(c, kind, false, now, &[(1, Yes), (2, Yes)]);
    c.tick(now + VOTING_MS);
    c.tick(now + VOTING_MS + TIMELOCK_MS);
    assert!(
        matches!(status(c, id), ProposalStatus::Executed { .. }),
        "{:?}",
        status(c, id)
    );
    now + VOTING_MS + TIMELOCK_MS
}

#[test]
fn accepted_packet_takes_one_message_and_its_bytes() {
    let mut c = weighted(&[1, 1]);
    let r = route();
    assert_eq!(c.check_packet(&r, &packet(100), &ctx(5_000)), Ok(()));
    // Checking is read-only.
    assert_eq!(
        c.route(&r).unwrap().bucket.available(&policy().rate, 5_000),
        (3, 2_000)
    );
    c.execute_packet(&r, &packet(100), &ctx(5_000)).unwrap();
    assert_eq!(
        c.route(&r).unwrap().bucket.available(&policy().rate, 5_000),
        (2, 1_900)
    );
}

#[test]
fn unknown_route() {
    let mut c = weighted(&[1, 1]);
    let got = c.execute_packet(&route_id("b-to-a"), &packet(1), &ctx(0));
    assert_eq!(got, Err(PolicyRejection::UnknownRoute));
    assert_eq!(PolicyRejection::UnknownRoute.name(), "unknown_route");
}

#[test]
fn source_app_not_allowed() {
    let mut c = weighted(&[1, 1]);
    let mut p = packet(1);
    p.source_app = b"other".to_vec();
    rejects(
        &mut c,
        &p,
        &ctx(0),
        PolicyRejection::SourceAppNotAllowed,
        "source_app_not_allowed",
    );
}

#[test]
fn dest_app_not_allowed() {
    let mut c = weighted(&[1, 1]);
    let mut p = packet(1);
    p.dest_app = b"app".to_vec();
    rejects(
        &mut c,
        &p,
        &ctx(0),
        PolicyRejection::DestAppNotAllowed,
        "dest_app_not_allowed",
    );
}

#[test]
fn payload_over_cap() {
    let mut c = weighted(&[1, 1]);
    assert_eq!(c.check_packet(&route(), &packet(1_000), &ctx(0)), Ok(()));
    rejects(
        &mut c,
        &packet(1_001),
        &ctx(0),
        PolicyRejection::PayloadTooLarge {
            len: 1_001,
            max: 1_000,
        },
        "payload_over_cap",
    );
}

#[test]
fn rate_limit_exceeded_then_accepted_after_the_window_refills() {
    // 3 messages per 1,000 ms.
    let mut c = weighted(&[1, 1]);
    let r = route();
    let t = 10_000;
    for _ in 0..3 {
        c.execute_packet(&r, &packet(10), &ctx(t)).unwrap();
    }
    rejects(
        &mut c,
        &packet(10),
        &ctx(t),
        PolicyRejection::RateLimitedMessages,
        "rate_limit_exceeded",
    );
    // One message refills every 333.3 ms: not yet at +333, yes at +334.
    rejects(
        &mut c,
        &packet(10),
        &ctx(t + 333),
        PolicyRejection::RateLimitedMessages,
        "rate_limit_exceeded",
    );
    c.execute_packet(&r, &packet(10), &ctx(t + 334)).unwrap();
    // A full window later the bucket is full again: three more pass.
    for _ in 0..3 {
        c.execute_packet(&r, &packet(10), &ctx(t + 334 + 1_000))
            .unwrap();
    }
}

#[test]
fn byte_rate_limit_exceeded_then_accepted_after_the_window_refills() {
    // 2,000 bytes per 1,000 ms, i.e. 2 bytes per ms; two 1,000-byte payloads empty it.
    let mut c = weighted(&[1, 1]);
    let r = route();
    let t = 10_000;
    c.execute_packet(&r, &packet(1_000), &ctx(t)).unwrap();
    c.execute_packet(&r, &packet(1_000), &ctx(t)).unwrap();
    rejects(
        &mut c,
        &packet(10),
        &ctx(t),
        PolicyRejection::RateLimitedBytes,
        "rate_limit_exceeded",
    );
    // 4 ms refill 8 bytes: not enough for 10; 5 ms refill exactly 10.
    rejects(
        &mut c,
        &packet(10),
        &ctx(t + 4),
        PolicyRejection::RateLimitedBytes,
        "rate_limit_exceeded",
    );
    c.execute_packet(&r, &packet(10), &ctx(t + 5)).unwrap();
    // A full window later both buckets are full again.
    let later = t + 5 + 1_000;
    c.execute_packet(&r, &packet(1_000), &ctx(later)).unwrap();
    c.execute_packet(&r, &packet(1_000), &ctx(later)).unwrap();
}

#[test]
fn time_going_backwards_refills_nothing() {
    let mut c = weighted(&[1, 1]);
    let r = route();
    for _ in 0..3 {
        c.execute_packet(&r, &packet(1), &ctx(50_000)).unwrap();
    }
    assert_eq!(
        c.check_packet(&r, &packet(1), &ctx(1)),
        Err(PolicyRejection::RateLimitedMessages)
    );
}

#[test]
fn route_paused() {
    let mut c = weighted(&[1, 1]);
    enact(&mut c, ProposalKind::PauseRoute { route: route() }, 0);
    rejects(
        &mut c,
        &packet(1),
        &ctx(5_000),
        PolicyRejection::RoutePaused,
        "route_paused",
    );
}

#[test]
fn route_closed() {
    let mut c = weighted(&[1, 1]);
    let t = enact(&mut c, ProposalKind::CloseRoute { route: route() }, 0);
    rejects(
        &mut c,
        &packet(1),
        &ctx(t),
        PolicyRejection::RouteClosed,
        "route_closed",
    );
    // A closed route stays closed: resuming it fails.
    let id = propose_and_vote(
        &mut c,
        ProposalKind::ResumeRoute { route: route() },
        false,
        t,
        &[(1, Yes), (2, Yes)],
    );
    c.tick(t + VOTING_MS);
    c.tick(t + VOTING_MS + TIMELOCK_MS);
    assert!(matches!(status(&c, id), ProposalStatus::Failed { .. }));
}

#[test]
fn no_route_when_the_route_names_an_unregistered_chain() {
    let mut c = weighted(&[1, 1]);
    let mut p = policy();
    p.dest_chain = chain("chain-c");
    let t = enact(
        &mut c,
        ProposalKind::OpenRoute {
            route: route_id("a-to-c"),
            policy: p,
        },
        0,
    );
    let mut pk = packet(1);
    pk.dest_chain = chain("chain-c");
    let got = c.check_packet(&route_id("a-to-c"), &pk, &ctx(t));
    // The hub knows no chain-c: the packet has nowhere to go, for good.
    assert_eq!(got, Err(PolicyRejection::NoRoute));
    assert_eq!(PolicyRejection::NoRoute.name(), "no_route");
    assert!(PolicyRejection::NoRoute.is_final());
    // Once the chain is registered, the same packet passes.
    let t = enact(
        &mut c,
        ProposalKind::RegisterChain(registration("chain-c")),
        t,
    );
    assert_eq!(c.check_packet(&route_id("a-to-c"), &pk, &ctx(t)), Ok(()));
}

#[test]
fn chain_mismatch_when_the_packet_source_differs_from_the_route() {
    let mut c = weighted(&[1, 1]);
    let mut p = packet(1);
    p.source_chain = chain("chain-c");
    rejects(
        &mut c,
        &p,
        &ctx(0),
        PolicyRejection::ChainMismatch,
        "chain_mismatch",
    );
    let mut p = packet(1);
    p.dest_chain = chain("chain-a");
    rejects(
        &mut c,
        &p,
        &ctx(0),
        PolicyRejection::ChainMismatch,
        "chain_mismatch",
    );
}

#[test]
fn client_frozen() {
    let mut c = weighted(&[1, 1]);
    let t = enact(
        &mut c,
        ProposalKind::FreezeClient {
            chain: chain("chain-b"),
        },
        0,
    );
    rejects(
        &mut c,
        &packet(1),
        &ctx(t),
        PolicyRejection::ClientFrozen,
        "client_frozen",
    );
}

#[test]
fn fee_too_low() {
    let mut c = weighted(&[1, 1]);
    let mut p = packet(1);
    p.fee = 4;
    rejects(
        &mut c,
        &p,
        &ctx(0),
        PolicyRejection::FeeTooLow {
            offered: 4,
            need: 5,
        },
        "fee_too_low",
    );
}

#[test]
fn timeout_bounds() {
    let mut c = weighted(&[1, 1]);
    let with_timeout = |height: u64, time_ms: u64| {
        let mut p = packet(1);
        p.timeout = Timeout { height, time_ms };
        p
    };
    // At the bounds: exactly 1 s and exactly 100 s ahead pass.
    for ahead in [1_000, 100_000] {
        let p = with_timeout(0, DEST_TIME_MS + ahead);
        assert_eq!(c.check_packet(&route(), &p, &ctx(0)), Ok(()));
    }
    rejects(
        &mut c,
        &with_timeout(0, DEST_TIME_MS + 999),
        &ctx(0),
        PolicyRejection::TimeoutTooShort {
            remaining_ms: 999,
            min_ms: 1_000,
        },
        "timeout_too_short",
    );
    rejects(
        &mut c,
        &with_timeout(0, DEST_TIME_MS + 100_001),
        &ctx(0),
        PolicyRejection::TimeoutTooLong {
            remaining_ms: 100_001,
            max_ms: 100_000,
        },
        "timeout_too_long",
    );
    rejects(
        &mut c,
        &with_timeout(500, 0),
        &ctx(0),
        PolicyRejection::TimeoutWithoutTime,
        "timeout_without_time",
    );
    rejects(
        &mut c,
        &with_timeout(100, DEST_TIME_MS + 10_000),
        &ctx(0),
        PolicyRejection::TimeoutReached,
        "timeout_reached",
    );
    rejects(
        &mut c,
        &with_timeout(0, DEST_TIME_MS),
        &ctx(0),
        PolicyRejection::TimeoutReached,
        "timeout_reached",
    );
}

#[test]
fn confirmations() {
    // The route needs 2 confirmations: latest 11 confirms height 10 twice.
    let mut c = weighted(&[1, 1]);
    let mut x = ctx(0);
    x.proof_height = 11;
    rejects(
        &mut c,
        &packet(1),
        &x,
        PolicyRejection::NotEnoughConfirmations { have: 1, need: 2 },
        "not_enough_confirmations",
    );
    x.proof_height = 12;
    rejects(
        &mut c,
        &packet(1),
        &x,
        PolicyRejection::ProofAboveClientHeight {
            proof_height: 12,
            latest: 11,
        },
        "proof_above_client_height",
    );
}

#[test]
fn update_route_keeps_chains_and_rescales_the_bucket() {
    let mut c = weighted(&[1, 1]);
    let r = route();
    for _ in 0..2 {
        c.execute_packet(&r, &packet(1), &ctx(0)).unwrap();
    }
    let mut wider = policy();
    wider.rate.messages = 10;
    wider.source_apps.push(b"app2".to_vec());
    let t = enact(
        &mut c,
        ProposalKind::UpdateRoute {
            route: r.clone(),
            policy: wider.clone(),
        },
        0,
    );
    assert_eq!(c.route(&r).unwrap().policy, wider);
    let mut p = packet(1);
    p.source_app = b"app2".to_vec();
    assert_eq!(c.check_packet(&r, &p, &ctx(t)), Ok(()));
    // Changing a route's chain fails.
    let mut moved = policy();
    moved.dest_chain = chain("chain-c");
    let id = propose_and_vote(
        &mut c,
        ProposalKind::UpdateRoute {
            route: r.clone(),
            policy: moved,
        },
        false,
        t,
        &[(1, Yes), (2, Yes)],
    );
    c.tick(t + VOTING_MS);
    c.tick(t + VOTING_MS + TIMELOCK_MS);
    assert!(matches!(status(&c, id), ProposalStatus::Failed { .. }));
}

#[test]
fn every_rejection_has_a_distinct_snake_case_name_except_the_rate_limits() {
    let all = [
        PolicyRejection::UnknownRoute,
        PolicyRejection::NoRoute,
        PolicyRejection::ChainMismatch,
        PolicyRejection::ClientFrozen,
        PolicyRejection::RoutePaused,
        PolicyRejection::RouteClosed,
        PolicyRejection::SourceAppNotAllowed,
        PolicyRejection::DestAppNotAllowed,
        PolicyRejection::PayloadTooLarge { len: 0, max: 0 },
        PolicyRejection::GasLimitOverCap {
            gas_limit: 0,
            max: 0,
        },
        PolicyRejection::FeeTooLow {
            offered: 0,
            need: 0,
        },
        PolicyRejection::TimeoutReached,
        PolicyRejection::TimeoutWithoutTime,
        PolicyRejection::TimeoutTooShort {
            remaining_ms: 0,
            min_ms: 0,
        },
        PolicyRejection::TimeoutTooLong {
            remaining_ms: 0,
            max_ms: 0,
        },
        PolicyRejection::ProofAboveClientHeight {
            proof_height: 0,
            latest: 0,
        },
        PolicyRejection::NotEnoughConfirmations { have: 0, need: 0 },
        PolicyRejection::RateLimitedMessages,
    ];
    let mut names: Vec<&str> = all.iter().map(PolicyRejection::name).collect();
    assert!(names
        .iter()
        .all(|n| n.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')));
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), all.len());
    assert_eq!(
        PolicyRejection::RateLimitedBytes.name(),
        PolicyRejection::RateLimitedMessages.name()
    );
}
