//! Random sequences of proposals, votes (including by non-members and duplicates),
//! emergency actions, packets and time steps, checked after every step.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;

use common::{chain, key, org, registration, route_id, validators};
use junction_governance::*;
use junction_spec::*;
use proptest::prelude::*;

const VOTING: u64 = 1_000;
const EXPEDITED: u64 = 500;
const TIMELOCK: u64 = 200;

fn params(voting_period_ms: u64, timelock_ms: u64, max_active_proposals: u32) -> GovParams {
    GovParams {
        voting_period_ms,
        expedited_voting_period_ms: EXPEDITED.min(voting_period_ms),
        timelock_ms,
        quorum: Fraction::new(1, 3),
        threshold: Fraction::new(3, 5),
        expedited_threshold: Fraction::new(3, 4),
        veto: Fraction::new(1, 3),
        min_deposit: 5,
        max_active_proposals,
        max_route_gas_limit: MAX_PACKET_GAS_LIMIT,
    }
}

fn floors() -> GovFloors {
    GovFloors {
        min_quorum: Fraction::new(1, 3),
        max_veto: Fraction::new(1, 3),
        min_voting_period_ms: 100,
        min_expedited_voting_period_ms: 100,
        min_timelock_ms: 0,
    }
}

fn policy(source: &str, dest: &str, messages: u64) -> RoutePolicy {
    RoutePolicy {
        source_chain: chain(source),
        source_apps: vec![b"app".to_vec()],
        dest_chain: chain(dest),
        dest_apps: vec![b"bank".to_vec()],
        ordered: false,
        max_payload: 512,
        max_gas_limit: 100_000,
        rate: RateLimit {
            messages,
            bytes: 2_048,
            window_ms: 1_000,
        },
        app_rate: None,
        min_timeout_ms: 0,
        max_timeout_ms: 1_000_000,
        min_confirmations: 1,
        fee: 0,
    }
}

const CHAINS: [&str; 3] = ["chain-a", "chain-b", "chain-c"];
const ROUTES: [&str; 3] = ["a-to-b", "b-to-a", "a-to-c"];

fn genesis(weights: [u64; 5]) -> Council {
    let roles = [
        Role::Member,
        Role::Member,
        Role::Regulator,
        Role::Observer,
        Role::Member,
    ];
    let members = (1..=5u8)
        .zip(weights.iter().zip(roles))
        .map(|(i, (weight, role))| Member {
            org: org(i),
            name: format!("Org {i}"),
            weight: *weight,
            role,
            status: MemberStatus::Active,
            keys: vec![key(i)],
        })
        .collect();
    Council::genesis(GovGenesis {
        members,
        params: params(VOTING, TIMELOCK, 6),
        floors: floors(),
        chains: vec![registration("chain-a"), registration("chain-b")],
        routes: vec![
            (route_id("a-to-b"), policy("chain-a", "chain-b", 3)),
            (route_id("b-to-a"), policy("chain-b", "chain-a", 3)),
        ],
        validators: validators(),
        relayers: vec![[0xee; 32]],
        accounts: Vec::new(),
    })
    .unwrap()
}

fn member_org() -> impl Strategy<Value = OrgId> {
    (1u8..=7).prop_map(org)
}

fn member_keys() -> impl Strategy<Value = Vec<[u8; 32]>> {
    prop::collection::vec((1u8..=12).prop_map(key), 1..=2)
}

fn a_chain() -> impl Strategy<Value = ChainId> {
    prop::sample::select(&CHAINS[..]).prop_map(chain)
}

fn a_route() -> impl Strategy<Value = RouteId> {
    prop::sample::select(&ROUTES[..]).prop_map(route_id)
}

fn a_policy() -> impl Strategy<Value = RoutePolicy> {
    (0usize..3, 0usize..3, 1u64..5).prop_map(|(s, d, m)| policy(CHAINS[s], CHAINS[d], m))
}

fn validator_key() -> impl Strategy<Value = [u8; 32]> {
    (0xf0u8..=0xf5).prop_map(|b| [b; 32])
}

fn relayer_key() -> impl Strategy<Value = [u8; 32]> {
    (0xe0u8..=0xe2).prop_map(|b| [b; 32])
}

fn proposal_kind() -> impl Strategy<Value = ProposalKind> {
    prop_oneof![
        (
            member_org(),
            1u64..5,
            prop::sample::select(Role::ALL),
            member_keys()
        )
            .prop_map(|(org, weight, role, keys)| ProposalKind::AddMember {
                org,
                name: "New".into(),
                weight,
                role,
                keys,
            }),
        member_org().prop_map(|org| ProposalKind::SuspendMember { org }),
        member_org().prop_map(|org| ProposalKind::RemoveMember { org }),
        (member_org(), 0u64..5)
            .prop_map(|(org, weight)| ProposalKind::ChangeWeight { org, weight }),
        (member_org(), member_keys())
            .prop_map(|(org, keys)| ProposalKind::ResetMemberKey { org, keys }),
        a_chain().prop_map(|c| ProposalKind::RegisterChain(registration(c.as_str()))),
        a_chain().prop_map(|chain| ProposalKind::FreezeClient { chain }),
        a_chain().prop_map(|chain| ProposalKind::RecoverClient { chain }),
        (a_route(), a_policy())
            .prop_map(|(route, policy)| ProposalKind::OpenRoute { route, policy }),
        (a_route(), a_policy())
            .prop_map(|(route, policy)| ProposalKind::UpdateRoute { route, policy }),
        a_route().prop_map(|route| ProposalKind::PauseRoute { route }),
        a_route().prop_map(|route| ProposalKind::ResumeRoute { route }),
        a_route().prop_map(|route| ProposalKind::CloseRoute { route }),
        (validator_key(), 1u64..16).prop_map(|(pub_key, power)| ProposalKind::AddValidator {
            pub_key,
            power,
            attestation_address: [pub_key[0]; 20]
        }),
        validator_key().prop_map(|pub_key| ProposalKind::RemoveValidator { pub_key }),
        (validator_key(), 1u64..20)
            .prop_map(|(pub_key, power)| ProposalKind::ChangePower { pub_key, power }),
        (
            prop::sample::select(vec![600u64, 1_000, 1_500]),
            0u64..300,
            1u32..8
        )
            .prop_map(|(v, t, m)| ProposalKind::SetParams(params(v, t, m))),
        relayer_key().prop_map(|account| ProposalKind::RegisterRelayer { account }),
        (relayer_key(), 0u128..3)
            .prop_map(|(account, amount)| ProposalKind::PenalizeRelayer { account, amount }),
        (1u64..100).prop_map(|height| ProposalKind::ScheduleUpgrade {
            name: "v2".into(),
            height
        }),
    ]
}

#[derive(Clone, Debug)]
enum Step {
    Propose {
        who: u8,
        kind: Box<ProposalKind>,
        expedited: bool,
        deposit: u128,
    },
    Vote {
        who: u8,
        pick: u8,
        option: VoteOption,
    },
    Pause {
        who: u8,
        route: RouteId,
    },
    Freeze {
        who: u8,
        chain: ChainId,
    },
    Packet {
        route: RouteId,
        len: usize,
    },
    Advance(u64),
}

/// Mostly the genesis members' keys 1..=5, sometimes keys that proposals may hand out
/// (6..=12), sometimes keys nobody holds (0, 13).
fn signer() -> impl Strategy<Value = u8> {
    prop_oneof![
        10 => 1u8..=5,
        2 => 6u8..=12,
        1 => prop::sample::select(vec![0u8, 13]),
    ]
}

/// Mostly yes, so that proposals pass and execute often enough.
fn vote_option() -> impl Strategy<Value = VoteOption> {
    prop_oneof![
        6 => Just(VoteOption::Yes),
        2 => Just(VoteOption::No),
        1 => Just(VoteOption::Abstain),
        1 => Just(VoteOption::Veto),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (signer(), proposal_kind(), any::<bool>(), 3u128..30).prop_map(
            |(who, kind, expedited, deposit)| Step::Propose { who, kind: Box::new(kind), expedited, deposit }
        ),
        10 => (signer(), any::<u8>(), vote_option())
            .prop_map(|(who, pick, option)| Step::Vote { who, pick, option }),
        1 => (signer(), a_route()).prop_map(|(who, route)| Step::Pause { who, route }),
        1 => (signer(), a_chain()).prop_map(|(who, chain)| Step::Freeze { who, chain }),
        2 => (a_route(), 0usize..600).prop_map(|(route, len)| Step::Packet { route, len }),
        4 => (0u64..700).prop_map(Step::Advance),
    ]
}

fn packet_for(c: &Council, route: &RouteId, len: usize) -> Packet {
    let (source, dest) = c.route(route).map_or_else(
        || (chain("chain-a"), chain("chain-b")),
        |r| (r.policy.source_chain.clone(), r.policy.dest_chain.clone()),
    );
    Packet {
        version: Packet::VERSION,
        source_chain: source,
        source_app: b"app".to_vec(),
        sequence: 1,
        dest_chain: dest,
        dest_app: b"bank".to_vec(),
        payload: vec![0; len],
        timeout: Timeout {
            height: 0,
            time_ms: 10_000,
        },
        gas_limit: 100_000,
        fee: 0,
    }
}

/// Applies one step at `*now`; returns the events, or the error.
fn run(c: &mut Council, step: &Step, now: &mut u64) -> Result<Vec<GovEvent>, String> {
    match step {
        Step::Propose {
            who,
            kind,
            expedited,
            deposit,
        } => c
            .propose(&key(*who), (**kind).clone(), *expedited, *deposit, *now)
            .map(|(_, events)| events)
            .map_err(|e| e.name().to_owned()),
        Step::Vote { who, pick, option } => {
            // Mostly one of the three latest proposals; sometimes any, or an unknown id.
            let last = c.next_proposal_id().saturating_sub(1).max(1);
            let id = match pick {
                255 => 999,
                0..=199 => last.saturating_sub(u64::from(*pick % 3)).max(1),
                _ => 1 + u64::from(*pick) % last,
            };
            c.vote(&key(*who), id, *option, *now)
                .map_err(|e| e.name().to_owned())
        }
        Step::Pause { who, route } => c
            .emergency_pause(&key(*who), route, *now)
            .map_err(|e| e.name().to_owned()),
        Step::Freeze { who, chain } => c
            .emergency_freeze(&key(*who), chain, *now)
            .map_err(|e| e.name().to_owned()),
        Step::Packet { route, len } => {
            let packet = packet_for(c, route, *len);
            let ctx = PacketContext {
                now_ms: *now,
                proof_height: 5,
                source_latest_height: 5,
                dest_latest_height: 1,
                dest_latest_time_ms: 0,
                dest_remote: false,
            };
            c.execute_packet(route, &packet, &ctx)
                .map(|()| Vec::new())
                .map_err(|e| e.name().to_owned())
        }
        Step::Advance(dt) => {
            *now += dt;
            Ok(c.tick(*now))
        }
    }
}

/// The tally, recounted from scratch without the crate's helpers.
fn recount(p: &Proposal, members: &[Member]) -> Tally {
    let mut t = Tally {
        yes: 0,
        no: 0,
        abstain: 0,
        veto: 0,
        total_snapshot: p.snapshot.iter().map(|(_, w)| *w).sum(),
    };
    for (voter, option) in &p.votes {
        let weight = p
            .snapshot
            .iter()
            .find(|(o, _)| o == voter)
            .map_or(0, |(_, w)| *w);
        let active = members
            .iter()
            .any(|m| &m.org == voter && m.status == MemberStatus::Active);
        if !active {
            continue;
        }
        match option {
            VoteOption::Yes => t.yes += weight,
            VoteOption::No => t.no += weight,
            VoteOption::Abstain => t.abstain += weight,
            VoteOption::Veto => t.veto += weight,
        }
    }
    t
}

fn field(detail: &str, name: &str) -> u64 {
    detail
        .split(' ')
        .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

/// Checks a closing event against the plain tally formulas and the threshold rule.
fn check_close(event: &GovEvent, proposal: &Proposal) -> Result<(), TestCaseError> {
    let d = &event.detail;
    let (yes, no, abstain, veto, total) = (
        field(d, "yes"),
        field(d, "no"),
        field(d, "abstain"),
        field(d, "veto"),
        field(d, "total_snapshot"),
    );
    let thr = d
        .split(' ')
        .find_map(|kv| kv.strip_prefix("threshold="))
        .unwrap();
    let (tn, td): (u64, u64) = {
        let (a, b) = thr.split_once('/').unwrap();
        (a.parse().unwrap(), b.parse().unwrap())
    };
    // Expected threshold: 3/4 expedited, 3/5 normal; council changes at least 2/3.
    let (en, ed) = if proposal.expedited { (3, 4) } else { (3, 5) };
    let (en, ed) = if proposal.kind.needs_supermajority() && en * 3 < 2 * ed {
        (2, 3)
    } else {
        (en, ed)
    };
    prop_assert_eq!((tn, td), (en, ed), "threshold of {}", proposal.kind.name());
    let voted = yes + no + abstain + veto;
    let want = if voted * 3 < total {
        "proposal_expired"
    } else if veto * 3 > voted {
        "proposal_vetoed"
    } else if u128::from(yes) * u128::from(td) > u128::from(tn) * u128::from(yes + no + veto) {
        "proposal_passed"
    } else {
        "proposal_rejected"
    };
    prop_assert_eq!(event.action.as_str(), want, "{}", d);
    Ok(())
}

fn run_all(weights: [u64; 5], steps: &[Step]) -> Result<(Council, Vec<GovEvent>), TestCaseError> {
    let mut c = genesis(weights);
    let mut now = 0u64;
    let mut log = Vec::new();
    let mut executed: BTreeMap<u64, usize> = BTreeMap::new();
    for step in steps {
        let before = c.clone();
        match run(&mut c, step, &mut now) {
            Ok(events) => {
                for e in &events {
                    if let Some(id) = e.proposal_id {
                        let p = c.proposal(id).unwrap();
                        if e.action == "proposal_executed" {
                            *executed.entry(id).or_default() += 1;
                        }
                        if e.action.starts_with("proposal_")
                            && !["proposal_submitted", "proposal_executed", "proposal_failed"]
                                .contains(&e.action.as_str())
                        {
                            check_close(e, p)?;
                        }
                    }
                }
                log.extend(events);
            }
            // A refused action changes nothing.
            Err(_) => prop_assert_eq!(&c, &before, "refused {:?} changed the state", step),
        }

        // Every invariant holds after every step.
        if let Err(v) = c.check_invariants() {
            return Err(TestCaseError::fail(format!(
                "after {step:?}: {v} ({})",
                v.name()
            )));
        }
        // Every tally equals a plain recount.
        for p in c.proposals() {
            prop_assert_eq!(
                c.tally(p.id).unwrap(),
                recount(p, c.members()),
                "proposal {}",
                p.id
            );
        }
        // No proposal executes twice, and every executed one has exactly one event.
        prop_assert!(executed.values().all(|n| *n <= 1));
        for p in c.proposals() {
            let is_executed = matches!(p.status, ProposalStatus::Executed { .. });
            prop_assert_eq!(is_executed, executed.get(&p.id) == Some(&1));
        }
        // The state round-trips through its canonical encoding.
        let bytes = c.to_bytes();
        prop_assert_eq!(&Council::from_bytes(&bytes).unwrap(), &c);
    }
    Ok((c, log))
}

fn weights() -> impl Strategy<Value = [u64; 5]> {
    prop::array::uniform5(1u64..5)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    // After every step: invariants hold, tallies equal a plain recount, nothing executes
    // twice, refused actions change nothing, and the state round-trips; the same inputs
    // give the same state and events.
    #[test]
    fn random_sequences_keep_every_invariant(
        w in weights(),
        steps in prop::collection::vec(step(), 40..60),
    ) {
        let (a, events_a) = run_all(w, &steps)?;
        let (b, events_b) = run_all(w, &steps)?;
        prop_assert_eq!(a, b);
        prop_assert_eq!(events_a, events_b);
    }
}
