//! The hub's packet core: one test per rule, negative cases by error name.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use junction_governance::{Council, GovGenesis, Member, PolicyRejection};
use junction_packets::{
    AckKind, AckPacket, Bindings, ChannelKey, DestHead, PacketError, PacketEvent, PacketInput,
    PacketState, PacketStatus, PlanStep, RecvPacket, TimeoutPacket, APP_REVERTED,
};
use junction_spec::merkle::verify_inclusion;
use junction_spec::{EntryKind, MemberStatus, Packet, ProposalKind, Role, RoutePolicy};

const NOW: u64 = 5_000;

/// The bindings the hub would pass for chain-a (source) and chain-b (destination).
const BINDINGS: Bindings = Bindings {
    source: [0xaa; 32],
    dest: [0xbb; 32],
};

/// The route covering the packet's sequence space, as the packet core sees it.
fn route_for(c: &Council, p: &Packet) -> Option<junction_spec::RouteId> {
    match junction_packets::RouteTable::cover(c, p) {
        junction_packets::RouteCover::Covered { route, .. } => Some(route),
        junction_packets::RouteCover::Unassigned(_) => None,
    }
}

fn dest_head() -> Option<DestHead> {
    Some(DestHead {
        height: 100,
        time_ms: DEST_TIME_MS,
        remote: false,
    })
}

/// The fixture council (members of weight 1 and 1; route `a-to-b`), with the route
/// ordered or not.
fn council_with(ordered: bool) -> Council {
    let mut p = policy();
    p.ordered = ordered;
    council_with_routes(vec![(route_id("a-to-b"), p)])
}

fn council_with_routes(routes: Vec<(junction_spec::RouteId, RoutePolicy)>) -> Council {
    let members = (1..=2u8)
        .map(|n| Member {
            org: org(n),
            name: format!("Org {n}"),
            weight: 1,
            role: Role::Member,
            status: MemberStatus::Active,
            keys: vec![key(n)],
        })
        .collect();
    Council::genesis(GovGenesis {
        members,
        params: params(),
        floors: floors(),
        chains: vec![registration("chain-a"), registration("chain-b")],
        routes,
        validators: validators(),
        relayers: vec![[0xee; 32]],
        accounts: Vec::new(),
    })
    .unwrap()
}

fn seq(n: u64) -> Packet {
    let mut p = packet(10);
    p.sequence = n;
    p
}

/// A `RecvPacket` proven at height 10 of a source client at 11, destination at height
/// 100 and time `DEST_TIME_MS` (the fixture's `ctx`).
fn recv(p: &Packet) -> PacketInput {
    PacketInput::Recv(RecvPacket {
        packet: p.clone(),
        proof_height: 10,
        source_latest_height: 11,
        dest: dest_head(),
        bindings: BINDINGS,
    })
}

fn ack(p: &Packet, kind: AckKind, result: &[u8]) -> PacketInput {
    PacketInput::Ack(AckPacket {
        packet: p.clone(),
        kind,
        result: result.to_vec(),
        bindings: BINDINGS,
    })
}

/// A timeout proven at a destination header at the packet's deadline time.
fn timeout(p: &Packet) -> PacketInput {
    PacketInput::Timeout(TimeoutPacket {
        packet: p.clone(),
        dest_height: 100,
        dest_time_ms: p.timeout.time_ms,
        decided_remotely: false,
        bindings: BINDINGS,
    })
}

/// Applies `input`, checks the invariants, and returns the logged entry kinds.
fn ok(s: &mut PacketState, c: &mut Council, input: &PacketInput) -> Vec<EntryKind> {
    let events = s.apply(c, input, NOW).unwrap();
    s.check_invariants().unwrap();
    events.iter().map(|e| e.kind).collect()
}

/// Checks that `input` is refused with error `name` and changes neither state.
fn refused(s: &mut PacketState, c: &mut Council, input: &PacketInput, name: &str) -> PacketError {
    let (s0, c0) = (s.clone(), c.clone());
    let err = s.apply(c, input, NOW).unwrap_err();
    assert_eq!(err.name(), name, "{err}");
    assert_eq!(*s, s0, "a refused input changed the packet state");
    assert_eq!(*c, c0, "a refused input changed the council");
    err
}

fn status(s: &PacketState, p: &Packet) -> PacketStatus {
    s.record_of(&p.key()).unwrap().status()
}

fn route() -> junction_spec::RouteId {
    route_id("a-to-b")
}

// ---------------------------------------------------------------- RecvPacket

#[test]
fn recv_logs_the_packet_for_its_destination_and_takes_route_tokens() {
    let (mut s, mut c) = (PacketState::new(), council_with(false));
    let p = seq(1);
    let events = s.apply(&mut c, &recv(&p), NOW).unwrap();
    assert_eq!(events.len(), 1);
    let e = &events[0];
    assert_eq!(
        (e.action, e.kind, e.log_index),
        ("packet_logged", EntryKind::Packet, 0)
    );
    assert_eq!(e.key_hash, p.key().hash());
    let entry = s.log().entry(0).unwrap();
    assert_eq!(entry.target_chain, p.dest_chain);
    assert_eq!(entry.packet, p);
    assert!(!entry.is_ordered());
    // Bound to the destination's registered identity; its outcome will be bound to the
    // source's.
    assert_eq!(entry.target_binding, BINDINGS.dest);
    assert_eq!(status(&s, &p), PacketStatus::Received { log_index: 0 });
    assert_eq!(s.counters(&route()).received, 1);
    // One message and ten bytes taken from the bucket of 3 messages / 2,000 bytes.
    let bucket = c.route(&route()).unwrap().bucket;
    assert_eq!(bucket.available(&policy().rate, NOW), (2, 1_990));
    s.check_invariants().unwrap();
}

#[test]
fn second_recv_of_one_key_is_already_received() {
    let (mut s, mut c) = (PacketState::new(), council_with(false));
    ok(&mut s, &mut c, &recv(&seq(1)));
    refused(&mut s, &mut c, &recv(&seq(1)), "already_received");
    // Same key, other content: still the key that counts.
    let mut other = seq(1);
    other.payload = vec![9; 3];
    refused(&mut s, &mut c, &recv(&other), "already_received");
}

#[test]
fn malformed_packet_is_refused_without_outcome() {
    let (mut s, mut c) = (PacketState::new(), council_with(false));
    let err = refused(&mut s, &mut c, &recv(&seq(0)), "malformed_packet");
    assert_eq!(
        err,
        PacketError::Malformed(junction_spec::PacketError::ZeroSequence)
    );
    let mut no_timeout = seq(1);
    no_timeout.timeout = junction_spec::Timeout::default();
    refused(&mut s, &mut c, &recv(&no_timeout), "malformed_packet");
    assert_eq!(s.log().size(), 0);
}

/// A proven packet to a chain the hub does not know (a typo) or that no route reaches
/// gets a final error-ack `no_route`, bound to its source, so its escrow is refunded; the
/// space has no ordering yet, so its sequences are used up in order.
#[test]
fn packet_without_a_route_gets_a_final_error_ack_no_route() {
    let (mut s, mut c) = (PacketState::new(), council_with(false));
    let mut p = seq(1);
    p.dest_chain = chain("chain-c");
    let mut q = p.clone();
    q.sequence = 2;
    // The hub knows no chain-c: no destination header.
    let unknown = |p: &Packet| {
        PacketInput::Recv(RecvPacket {
            packet: p.clone(),
            proof_height: 10,
            source_latest_height: 11,
            dest: None,
            bindings: Bindings {
                source: BINDINGS.source,
                dest: [0; 32],
            },
        })
    };
    refused(&mut s, &mut c, &unknown(&q), "out_of_order");
    let events = s.apply(&mut c, &unknown(&p), NOW).unwrap();
    s.check_invariants().unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(
        (events[0].kind, events[0].reason.as_str(), &events[0].route),
        (EntryKind::ErrorAck, "no_route", &None)
    );
    let entry = s.log().entry(0).unwrap();
    assert_eq!(entry.result, b"no_route");
    assert_eq!(entry.target_chain, p.source_chain);
    assert_eq!(entry.target_binding, BINDINGS.source);
    refused(&mut s, &mut c, &unknown(&p), "already_received");
    // A registered destination that no route reaches: the same, final.
    let events = s.apply(&mut c, &recv(&q), NOW).unwrap();
    s.check_invariants().unwrap();
    assert_eq!(events[0].reason, "no_route");
    // A timeout of a packet no route covers is taken in order too.
    let mut r5 = p.clone();
    r5.sequence = 5;
    refused(&mut s, &mut c, &timeout(&r5), "out_of_order");
    let mut r3 = p.clone();
    r3.sequence = 3;
    assert_eq!(ok(&mut s, &mut c, &timeout(&r3)), [EntryKind::Timeout]);
    assert_eq!(s.channel(&ChannelKey::of(&p)).next_recv, 4);
}

/// Sequences used up while no route covered a space are below the first one an ordered
/// route later runs: every ordered entry names that first sequence, so the destination
/// gateway starts there instead of waiting for sequence 1 forever.
#[test]
fn an_ordered_route_opened_after_unrouted_packets_starts_past_them() {
    let (mut s, mut c) = (PacketState::new(), council_with(false));
    let mut p = seq(1);
    p.dest_chain = chain("chain-c");
    let to_c = |n: u64| {
        let mut q = p.clone();
        q.sequence = n;
        q
    };
    ok(&mut s, &mut c, &recv(&to_c(1)));
    ok(&mut s, &mut c, &recv(&to_c(2)));
    let mut policy_c = policy();
    policy_c.dest_chain = chain("chain-c");
    policy_c.ordered = true;
    let id = propose_and_vote(
        &mut c,
        ProposalKind::RegisterChain(registration("chain-c")),
        false,
        0,
        &[
            (1, junction_spec::VoteOption::Yes),
            (2, junction_spec::VoteOption::Yes),
        ],
    );
    let id2 = propose_and_vote(
        &mut c,
        ProposalKind::OpenRoute {
            route: route_id("a-to-c"),
            policy: policy_c,
        },
        false,
        0,
        &[
            (1, junction_spec::VoteOption::Yes),
            (2, junction_spec::VoteOption::Yes),
        ],
    );
    c.tick(VOTING_MS);
    c.tick(VOTING_MS + TIMELOCK_MS);
    for id in [id, id2] {
        assert!(matches!(
            c.proposal(id).unwrap().status,
            junction_governance::ProposalStatus::Executed { .. }
        ));
    }
    assert_eq!(ok(&mut s, &mut c, &recv(&to_c(3))), [EntryKind::Packet]);
    let entry = s.log().entry(2).unwrap();
    assert!(entry.is_ordered());
    assert_eq!(entry.ordered_from, 3);
    assert_eq!(s.channel(&ChannelKey::of(&p)).ordered_from, 3);
    // A later timeout's skip names the same first sequence.
    let mut late = to_c(4);
    late.timeout.time_ms = DEST_TIME_MS;
    assert_eq!(
        ok(&mut s, &mut c, &recv(&late)),
        [EntryKind::Timeout, EntryKind::SequenceSkip]
    );
    assert_eq!(s.log().entry(4).unwrap().ordered_from, 3);
}

#[test]
fn ordered_route_takes_sequences_strictly_in_order() {
    let (mut s, mut c) = (PacketState::new(), council_with(true));
    let err = refused(&mut s, &mut c, &recv(&seq(2)), "out_of_order");
    assert_eq!(
        err,
        PacketError::OutOfOrder {
            expected: 1,
            got: 2
        }
    );
    ok(&mut s, &mut c, &recv(&seq(1)));
    ok(&mut s, &mut c, &recv(&seq(2)));
    let ch = s.channel(&ChannelKey::of(&seq(1)));
    assert_eq!((ch.next_recv, ch.next_dest), (3, 1));
    assert!(s.log().entry(1).unwrap().is_ordered());
    assert_eq!(s.log().entry(1).unwrap().ordered_from, 1);
}

#[test]
fn unordered_route_takes_any_order() {
    let (mut s, mut c) = (PacketState::new(), council_with(false));
    ok(&mut s, &mut c, &recv(&seq(3)));
    ok(&mut s, &mut c, &recv(&seq(1)));
    assert_eq!(s.channel(&ChannelKey::of(&seq(1))).next_recv, 2);
    ok(&mut s, &mut c, &recv(&seq(2)));
    assert_eq!(s.channel(&ChannelKey::of(&seq(1))).next_recv, 4);
}

#[test]
fn recv_after_the_destination_passed_the_deadline_is_timed_out_on_arrival() {
    for ordered in [false, true] {
        let (mut s, mut c) = (PacketState::new(), council_with(ordered));
        let p = seq(1);
        let late = PacketInput::Recv(RecvPacket {
            packet: p.clone(),
            proof_height: 10,
            source_latest_height: 11,
            dest: Some(DestHead {
                height: 100,
                time_ms: p.timeout.time_ms,
                remote: false,
            }),
            bindings: BINDINGS,
        });
        let plan = s.validate(&c, &late, NOW).unwrap();
        assert_eq!(plan.step(), &PlanStep::TimeoutOnArrival);
        let kinds = ok(&mut s, &mut c, &late);
        if ordered {
            assert_eq!(kinds, [EntryKind::Timeout, EntryKind::SequenceSkip]);
            let skip = s.log().entry(1).unwrap();
            assert_eq!(skip.target_chain, p.dest_chain);
        } else {
            assert_eq!(kinds, [EntryKind::Timeout]);
        }
        assert_eq!(s.log().entry(0).unwrap().target_chain, p.source_chain);
        assert_eq!(s.counters(&route()).timed_out, 1);
        // The sequence is used up and no tokens were taken.
        assert_eq!(s.channel(&ChannelKey::of(&p)).next_recv, 2);
        assert_eq!(
            c.route(&route())
                .unwrap()
                .bucket
                .available(&policy().rate, NOW),
            (3, 2_000)
        );
        refused(&mut s, &mut c, &recv(&p), "already_received");
        refused(&mut s, &mut c, &timeout(&p), "outcome_already_logged");
    }
}

/// Checks that `p` got a final error-ack with reason `name` (plus a skip on an ordered
/// route), that its sequence is used up and that the reason is counted.
fn assert_policy_error_ack(s: &mut PacketState, c: &mut Council, p: &Packet, name: &str) {
    let ordered = c.route(&route()).unwrap().policy.ordered;
    let before = s.log().size();
    let events = s.apply(c, &recv(p), NOW).unwrap();
    s.check_invariants().unwrap();
    let kinds: Vec<EntryKind> = events.iter().map(|e| e.kind).collect();
    if ordered {
        assert_eq!(kinds, [EntryKind::ErrorAck, EntryKind::SequenceSkip]);
    } else {
        assert_eq!(kinds, [EntryKind::ErrorAck]);
    }
    let entry = s.log().entry(before).unwrap();
    assert_eq!(entry.result, name.as_bytes());
    assert_eq!(entry.target_chain, p.source_chain);
    assert_eq!(events[0].reason, name);
    assert!(matches!(
        status(s, p),
        PacketStatus::Outcome {
            kind: EntryKind::ErrorAck,
            ..
        }
    ));
    assert!(
        s.counters(&route())
            .error_acked
            .get(name)
            .copied()
            .unwrap_or(0)
            >= 1
    );
    assert!(s.channel(&ChannelKey::of(p)).next_recv > p.sequence);
    refused(s, c, &recv(p), "already_received");
    refused(s, c, &ack(p, AckKind::Ack, b""), "outcome_already_logged");
}

#[test]
fn recv_on_a_paused_route_gets_a_final_error_ack_route_paused() {
    for ordered in [false, true] {
        let (mut s, mut c) = (PacketState::new(), council_with(ordered));
        c.emergency_pause(&key(1), &route(), 0).unwrap();
        assert_policy_error_ack(&mut s, &mut c, &seq(1), "route_paused");
        // The next sequence is not blocked on an ordered route: it is judged on its own.
        assert_policy_error_ack(&mut s, &mut c, &seq(2), "route_paused");
        assert_eq!(s.counters(&route()).error_acked["route_paused"], 2);
    }
}

#[test]
fn recv_on_a_closed_route_gets_a_final_error_ack_route_closed() {
    let (mut s, mut c) = (PacketState::new(), council_with(true));
    let id = propose_and_vote(
        &mut c,
        ProposalKind::CloseRoute { route: route() },
        false,
        0,
        &[
            (1, junction_spec::VoteOption::Yes),
            (2, junction_spec::VoteOption::Yes),
        ],
    );
    c.tick(VOTING_MS);
    c.tick(VOTING_MS + TIMELOCK_MS);
    assert!(matches!(
        c.proposal(id).unwrap().status,
        junction_governance::ProposalStatus::Executed { .. }
    ));
    assert_policy_error_ack(&mut s, &mut c, &seq(1), "route_closed");
}

#[test]
fn recv_from_an_app_not_allowed_gets_a_final_error_ack() {
    let (mut s, mut c) = (PacketState::new(), council_with(false));
    let mut p = seq(1);
    p.source_app = b"rogue".to_vec();
    // No route covers the rogue app's space: refused for good, counted by the hub (not
    // per route), and its sequences are taken in order.
    assert!(route_for(&c, &p).is_none());
    let events = s.apply(&mut c, &recv(&p), NOW).unwrap();
    s.check_invariants().unwrap();
    assert_eq!(
        (events[0].kind, events[0].reason.as_str(), &events[0].route),
        (EntryKind::ErrorAck, "source_app_not_allowed", &None)
    );
    assert_eq!(s.log().entry(0).unwrap().result, b"source_app_not_allowed");
    refused(&mut s, &mut c, &recv(&p), "already_received");
    let mut q = seq(1);
    q.dest_app = b"vault".to_vec();
    assert_policy_error_ack(&mut s, &mut c, &q, "dest_app_not_allowed");
}

#[test]
fn recv_over_the_payload_cap_gets_a_final_error_ack() {
    let (mut s, mut c) = (PacketState::new(), council_with(true));
    let mut p = packet(1_001);
    p.sequence = 1;
    assert_policy_error_ack(&mut s, &mut c, &p, "payload_over_cap");
    // Nothing was taken from the bucket.
    assert_eq!(
        c.route(&route())
            .unwrap()
            .bucket
            .available(&policy().rate, NOW),
        (3, 2_000)
    );
}

#[test]
fn recv_over_the_gas_cap_gets_a_final_error_ack() {
    let (mut s, mut c) = (PacketState::new(), council_with(true));
    let mut p = seq(1);
    p.gas_limit = policy().max_gas_limit + 1;
    assert_policy_error_ack(&mut s, &mut c, &p, "gas_limit_over_cap");
    // At the cap it passes.
    let mut q = seq(2);
    q.gas_limit = policy().max_gas_limit;
    assert_eq!(ok(&mut s, &mut c, &recv(&q)), [EntryKind::Packet]);
}

/// An empty bucket is no reason to end a packet: anyone can drain a bucket with tiny
/// sends. The packet is refused without an outcome and passes once tokens are back.
#[test]
fn recv_over_the_rate_limit_is_refused_until_the_bucket_refills() {
    let (mut s, mut c) = (PacketState::new(), council_with(false));
    for n in 1..=3 {
        assert_eq!(ok(&mut s, &mut c, &recv(&seq(n))), [EntryKind::Packet]);
    }
    let err = refused(&mut s, &mut c, &recv(&seq(4)), "rate_limit_exceeded");
    assert!(matches!(err, PacketError::Retry(_)));
    assert_eq!(s.channel(&ChannelKey::of(&seq(4))).next_recv, 4);
    let later = NOW + 1_000;
    assert_eq!(
        s.apply(&mut c, &recv(&seq(4)), later).unwrap()[0].kind,
        EntryKind::Packet
    );
    assert_eq!(s.counters(&route()).received, 4);
    assert!(s.counters(&route()).error_acked.is_empty());
}

/// What a relayer chooses (the proof height, whether to update the destination client)
/// and what time changes can only delay a packet, never end it.
#[test]
fn rejections_a_relayer_or_time_can_change_are_retryable() {
    let (mut s, mut c) = (PacketState::new(), council_with(true));
    let base = RecvPacket {
        packet: seq(1),
        proof_height: 10,
        source_latest_height: 11,
        dest: dest_head(),
        bindings: BINDINGS,
    };
    let cases: Vec<(&str, RecvPacket)> = vec![
        // The route needs 2 confirmations: a proof at the client's latest height has 1.
        (
            "not_enough_confirmations",
            RecvPacket {
                proof_height: 11,
                ..base.clone()
            },
        ),
        (
            "proof_above_client_height",
            RecvPacket {
                proof_height: 12,
                ..base.clone()
            },
        ),
        // A stale destination client makes the deadline look further than the route's
        // maximum; a fresher one would not.
        (
            "timeout_too_long",
            RecvPacket {
                dest: Some(DestHead {
                    height: 1,
                    time_ms: 1,
                    remote: false,
                }),
                ..base.clone()
            },
        ),
    ];
    for (name, input) in cases {
        let err = refused(&mut s, &mut c, &PacketInput::Recv(input), name);
        assert!(matches!(err, PacketError::Retry(_)), "{err:?}");
    }
    // A frozen destination client: packets wait for its recovery.
    c.emergency_freeze(&key(1), &chain("chain-b"), 0).unwrap();
    let err = refused(&mut s, &mut c, &recv(&seq(1)), "client_frozen");
    assert!(matches!(err, PacketError::Retry(_)));
    assert_eq!(s.log().size(), 0);
}

/// Each source app has its own bucket on top of the route's: an app that drains its share
/// waits alone.
#[test]
fn one_app_draining_its_bucket_delays_only_itself() {
    let mut p = policy();
    p.source_apps = vec![b"app".to_vec(), b"other".to_vec()];
    p.rate.messages = 10;
    p.app_rate = Some(junction_spec::RateLimit {
        messages: 2,
        bytes: 1_000,
        window_ms: 1_000,
    });
    let (mut s, mut c) = (PacketState::new(), council_with_routes(vec![(route(), p)]));
    for n in 1..=2 {
        ok(&mut s, &mut c, &recv(&seq(n)));
    }
    refused(&mut s, &mut c, &recv(&seq(3)), "rate_limit_exceeded");
    let mut other = seq(1);
    other.source_app = b"other".to_vec();
    assert_eq!(ok(&mut s, &mut c, &recv(&other)), [EntryKind::Packet]);
}

#[test]
fn validate_reads_only() {
    let (s, c) = (PacketState::new(), council_with(true));
    let (s0, c0) = (s.clone(), c.clone());
    let plan = s.validate(&c, &recv(&seq(1)), NOW).unwrap();
    assert_eq!(plan.step().name(), "deliver");
    assert_eq!((s, c), (s0, c0));
}

#[test]
fn route_lookup_prefers_a_route_that_allows_both_apps() {
    let mut other_dest = policy();
    other_dest.dest_apps = vec![b"other".to_vec()];
    let mut c = council_with_routes(vec![
        (route_id("a-to-b-0"), other_dest),
        (route_id("a-to-b-1"), policy()),
    ]);
    assert_eq!(route_for(&c, &seq(1)).unwrap(), route_id("a-to-b-1"));
    c.emergency_pause(&key(1), &route_id("a-to-b-1"), 0)
        .unwrap();
    // Paused but allowing the apps still wins over open but not allowing them.
    assert_eq!(route_for(&c, &seq(1)).unwrap(), route_id("a-to-b-1"));
}

/// Two routes over one space: pausing one holds the space's traffic. It must not fall
/// through to the other, open route (the pause would be bypassed).
#[test]
fn a_paused_route_never_falls_through_to_an_overlapping_open_route() {
    for ordered in [false, true] {
        let mut p = policy();
        p.ordered = ordered;
        let (mut s, mut c) = (
            PacketState::new(),
            council_with_routes(vec![
                (route_id("a-to-b-0"), p.clone()),
                (route_id("a-to-b-1"), p),
            ]),
        );
        c.emergency_pause(&key(1), &route_id("a-to-b-1"), 0)
            .unwrap();
        assert_eq!(route_for(&c, &seq(1)).unwrap(), route_id("a-to-b-1"));
        let events = s.apply(&mut c, &recv(&seq(1)), NOW).unwrap();
        s.check_invariants().unwrap();
        assert_eq!(
            (events[0].kind, events[0].reason.as_str()),
            (EntryKind::ErrorAck, "route_paused")
        );
    }
}

// ---------------------------------------------------------------- AckPacket

#[test]
fn ack_logs_the_outcome_for_the_source_once() {
    let (mut s, mut c) = (PacketState::new(), council_with(true));
    let p = seq(1);
    ok(&mut s, &mut c, &recv(&p));
    let events = s
        .apply(&mut c, &ack(&p, AckKind::Ack, b"done"), NOW)
        .unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].action, PacketEvent::action_of(EntryKind::Ack));
    let entry = s.log().entry(1).unwrap();
    assert_eq!(
        (entry.kind, &entry.target_chain, entry.result.as_slice()),
        (EntryKind::Ack, &p.source_chain, &b"done"[..])
    );
    assert_eq!(
        status(&s, &p),
        PacketStatus::Outcome {
            kind: EntryKind::Ack,
            log_index: 1
        }
    );
    assert_eq!(s.counters(&route()).acked, 1);
    let ch = s.channel(&ChannelKey::of(&p));
    assert_eq!((ch.next_recv, ch.next_dest), (2, 2));
    refused(
        &mut s,
        &mut c,
        &ack(&p, AckKind::Ack, b"done"),
        "outcome_already_logged",
    );
    refused(
        &mut s,
        &mut c,
        &ack(&p, AckKind::ErrorAck, b"x"),
        "outcome_already_logged",
    );
    refused(&mut s, &mut c, &timeout(&p), "outcome_already_logged");
}

#[test]
fn app_error_ack_is_logged_and_counted_as_app_reverted_without_skip() {
    let (mut s, mut c) = (PacketState::new(), council_with(true));
    let p = seq(1);
    ok(&mut s, &mut c, &recv(&p));
    let kinds = ok(&mut s, &mut c, &ack(&p, AckKind::ErrorAck, b"revert"));
    // The destination ran (and reverted) the packet: its sequence moved there already.
    assert_eq!(kinds, [EntryKind::ErrorAck]);
    assert_eq!(s.counters(&route()).error_acked[APP_REVERTED], 1);
}

#[test]
fn ack_for_a_packet_never_received_is_no_pending_packet() {
    let (mut s, mut c) = (PacketState::new(), council_with(false));
    refused(
        &mut s,
        &mut c,
        &ack(&seq(1), AckKind::Ack, b""),
        "no_pending_packet",
    );
}

#[test]
fn ack_with_other_content_under_a_known_key_is_packet_mismatch() {
    let (mut s, mut c) = (PacketState::new(), council_with(false));
    ok(&mut s, &mut c, &recv(&seq(1)));
    let mut forged = seq(1);
    forged.payload = vec![7; 10];
    let err = refused(
        &mut s,
        &mut c,
        &ack(&forged, AckKind::Ack, b""),
        "packet_mismatch",
    );
    assert_eq!(
        err,
        PacketError::PacketMismatch {
            expected: seq(1).hash(),
            got: forged.hash()
        }
    );
    refused(&mut s, &mut c, &timeout(&forged), "packet_mismatch");
}

#[test]
fn ack_longer_than_an_entry_carries_is_result_too_large() {
    let (mut s, mut c) = (PacketState::new(), council_with(false));
    ok(&mut s, &mut c, &recv(&seq(1)));
    let big = vec![0; junction_spec::MAX_RESULT_BYTES + 1];
    refused(
        &mut s,
        &mut c,
        &ack(&seq(1), AckKind::Ack, &big),
        "result_too_large",
    );
    let fits = vec![0; junction_spec::MAX_RESULT_BYTES];
    ok(&mut s, &mut c, &ack(&seq(1), AckKind::Ack, &fits));
}

// ---------------------------------------------------------------- TimeoutPacket

#[test]
fn timeout_before_the_deadline_is_not_yet_timed_out() {
    let (mut s, mut c) = (PacketState::new(), council_with(false));
    let p = seq(1);
    ok(&mut s, &mut c, &recv(&p));
    let early = PacketInput::Timeout(TimeoutPacket {
        packet: p.clone(),
        dest_height: 1_000_000,
        dest_time_ms: p.timeout.time_ms - 1,
        decided_remotely: false,
        bindings: BINDINGS,
    });
    let err = refused(&mut s, &mut c, &early, "not_yet_timed_out");
    assert_eq!(
        err,
        PacketError::NotYetTimedOut {
            height: 1_000_000,
            time_ms: p.timeout.time_ms - 1
        }
    );
    // A height deadline counts as well as a time deadline.
    let mut by_height = seq(2);
    by_height.timeout.height = 500;
    ok(&mut s, &mut c, &recv(&by_height));
    let at_height = PacketInput::Timeout(TimeoutPacket {
        packet: by_height.clone(),
        dest_height: 500,
        dest_time_ms: DEST_TIME_MS,
        decided_remotely: false,
        bindings: BINDINGS,
    });
    assert_eq!(ok(&mut s, &mut c, &at_height), [EntryKind::Timeout]);
}

#[test]
fn timeout_of_a_logged_packet_without_receipt_skips_its_sequence_on_ordered_routes() {
    for ordered in [false, true] {
        let (mut s, mut c) = (PacketState::new(), council_with(ordered));
        let (p1, p2) = (seq(1), seq(2));
        ok(&mut s, &mut c, &recv(&p1));
        ok(&mut s, &mut c, &recv(&p2));
        let plan = s.validate(&c, &timeout(&p1), NOW).unwrap();
        assert_eq!(plan.step(), &PlanStep::TimeoutPending);
        let kinds = ok(&mut s, &mut c, &timeout(&p1));
        if ordered {
            assert_eq!(kinds, [EntryKind::Timeout, EntryKind::SequenceSkip]);
            assert_eq!(s.counters(&route()).sequence_skips, 1);
        } else {
            assert_eq!(kinds, [EntryKind::Timeout]);
        }
        assert_eq!(s.counters(&route()).timed_out, 1);
        assert_eq!(s.channel(&ChannelKey::of(&p1)).next_dest, 2);
        refused(
            &mut s,
            &mut c,
            &ack(&p1, AckKind::Ack, b""),
            "outcome_already_logged",
        );
        refused(&mut s, &mut c, &timeout(&p1), "outcome_already_logged");
        // The other packet is untouched.
        ok(&mut s, &mut c, &ack(&p2, AckKind::Ack, b""));
        assert_eq!(s.channel(&ChannelKey::of(&p1)).next_dest, 3);
    }
}

#[test]
fn timeout_of_a_packet_never_received_marks_its_key() {
    let (mut s, mut c) = (PacketState::new(), council_with(true));
    let p3 = seq(3);
    let plan = s.validate(&c, &timeout(&p3), NOW).unwrap();
    assert_eq!(plan.step(), &PlanStep::TimeoutUnreceived);
    // Ahead of the channel: allowed, and the sequence is used up.
    assert_eq!(
        ok(&mut s, &mut c, &timeout(&p3)),
        [EntryKind::Timeout, EntryKind::SequenceSkip]
    );
    refused(&mut s, &mut c, &recv(&p3), "already_timed_out");
    refused(&mut s, &mut c, &timeout(&p3), "outcome_already_logged");
    refused(
        &mut s,
        &mut c,
        &ack(&p3, AckKind::Ack, b""),
        "outcome_already_logged",
    );
    ok(&mut s, &mut c, &recv(&seq(1)));
    assert_eq!(s.channel(&ChannelKey::of(&p3)).next_recv, 2);
    ok(&mut s, &mut c, &recv(&seq(2)));
    // Sequence 3 is already settled: the channel moves past it.
    assert_eq!(s.channel(&ChannelKey::of(&p3)).next_recv, 4);
    refused(&mut s, &mut c, &recv(&p3), "already_timed_out");
    ok(&mut s, &mut c, &recv(&seq(4)));
}

// ---------------------------------------------------------------- the log

#[test]
fn every_entry_is_provable_against_the_log_root_at_any_later_size() {
    let (mut s, mut c) = (PacketState::new(), council_with(true));
    for n in 1..=3 {
        ok(&mut s, &mut c, &recv(&seq(n)));
    }
    ok(&mut s, &mut c, &ack(&seq(1), AckKind::Ack, b"ok"));
    ok(&mut s, &mut c, &timeout(&seq(2)));
    let log = s.log();
    assert_eq!(log.size(), 6);
    for size in 1..=log.size() {
        let root = log.root_at(size).unwrap();
        for index in 0..size {
            let proof = log.inclusion_proof(index, size).unwrap();
            let leaf = log.entry(index).unwrap().leaf_hash();
            verify_inclusion(&leaf, index, size, &proof, &root).unwrap();
        }
    }
    assert_eq!(log.root_at(log.size()).unwrap(), log.root());
    assert!(log.inclusion_proof(0, log.size() + 1).is_err());
}

#[test]
fn policy_rejection_names_are_the_error_ack_reasons() {
    // The reason bytes in an error-ack are exactly the council's rejection names.
    assert_eq!(PolicyRejection::RoutePaused.name(), "route_paused");
    assert_eq!(PolicyRejection::RouteClosed.name(), "route_closed");
    assert_eq!(
        PolicyRejection::RateLimitedBytes.name(),
        "rate_limit_exceeded"
    );
}
