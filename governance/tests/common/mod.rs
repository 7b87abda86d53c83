//! Shared fixtures: a small council with known weights, two chains and one route.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use junction_governance::*;
use junction_spec::*;

pub const VOTING_MS: u64 = 1_000;
pub const EXPEDITED_MS: u64 = 500;
pub const TIMELOCK_MS: u64 = 100;
pub const DEST_TIME_MS: u64 = 1_000_000;

/// Account key of member `i` (1-based; key 0 is nobody's).
pub fn key(i: u8) -> [u8; 32] {
    [i; 32]
}

pub fn org(i: u8) -> OrgId {
    OrgId::new(format!("org-{i}")).unwrap()
}

pub fn chain(s: &str) -> ChainId {
    ChainId::new(s).unwrap()
}

pub fn route_id(s: &str) -> RouteId {
    RouteId::new(s).unwrap()
}

/// Quorum 1/2, threshold 3/5, expedited threshold 3/4, veto 1/3, deposit at least 10,
/// at most 4 proposals voting.
pub fn params() -> GovParams {
    GovParams {
        voting_period_ms: VOTING_MS,
        expedited_voting_period_ms: EXPEDITED_MS,
        timelock_ms: TIMELOCK_MS,
        quorum: Fraction::new(1, 2),
        threshold: Fraction::new(3, 5),
        expedited_threshold: Fraction::new(3, 4),
        veto: Fraction::new(1, 3),
        min_deposit: 10,
        max_active_proposals: 4,
        max_route_gas_limit: 2_000_000,
    }
}

/// Genesis bounds: quorum at least 1/3, veto at most 1/2, any positive period, no least
/// timelock.
pub fn floors() -> GovFloors {
    GovFloors {
        min_quorum: Fraction::new(1, 3),
        max_veto: Fraction::new(1, 2),
        min_voting_period_ms: 1,
        min_expedited_voting_period_ms: 1,
        min_timelock_ms: 0,
    }
}

pub fn registration(id: &str) -> ChainRegistration {
    ChainRegistration {
        chain_id: chain(id),
        kind: LedgerKind::Tendermint,
        params: LightClientParams {
            trust_level: Fraction::new(2, 3),
            trusting_period_ms: 1_000_000,
            max_clock_drift_ms: 1_000,
            min_confirmations: 1,
            threshold: Fraction::new(2, 3),
        },
        trust_root: vec![7; 32],
    }
}

/// `chain-a`:`app` → `chain-b`:`bank`; 3 messages and 2,000 bytes per second; payloads
/// up to 1,000 bytes; timeouts 1 s to 100 s ahead; 2 confirmations; fee at least 5.
pub fn policy() -> RoutePolicy {
    RoutePolicy {
        source_chain: chain("chain-a"),
        source_apps: vec![b"app".to_vec()],
        dest_chain: chain("chain-b"),
        dest_apps: vec![b"bank".to_vec()],
        ordered: false,
        max_payload: 1_000,
        max_gas_limit: 1_000_000,
        rate: RateLimit {
            messages: 3,
            bytes: 2_000,
            window_ms: 1_000,
        },
        app_rate: None,
        min_timeout_ms: 1_000,
        max_timeout_ms: 100_000,
        min_confirmations: 2,
        fee: 5,
    }
}

pub fn validators() -> Vec<junction_spec::HubValidator> {
    (0..4u8)
        .map(|i| junction_spec::HubValidator {
            pub_key: [0xf0 + i; 32],
            power: 10,
            attestation_address: [0xf0 + i; 20],
        })
        .collect()
}

/// Members `org-1`, `org-2`, … with the given weights and roles, holding keys 1, 2, …;
/// chains `chain-a` and `chain-b`; route `a-to-b`; four validators of power 10.
pub fn council(members: &[(u64, Role)]) -> Council {
    let members = members
        .iter()
        .enumerate()
        .map(|(i, (weight, role))| {
            let n = u8::try_from(i + 1).unwrap();
            Member {
                org: org(n),
                name: format!("Org {n}"),
                weight: *weight,
                role: *role,
                status: MemberStatus::Active,
                keys: vec![key(n)],
            }
        })
        .collect();
    Council::genesis(GovGenesis {
        members,
        params: params(),
        floors: floors(),
        chains: vec![registration("chain-a"), registration("chain-b")],
        routes: vec![(route_id("a-to-b"), policy())],
        validators: validators(),
        relayers: vec![[0xee; 32]],
        accounts: Vec::new(),
    })
    .unwrap()
}

/// Members with the given weights, all of role `Member`.
pub fn weighted(weights: &[u64]) -> Council {
    let members: Vec<(u64, Role)> = weights.iter().map(|w| (*w, Role::Member)).collect();
    council(&members)
}

/// A packet that passes [`policy`] under [`ctx`].
pub fn packet(payload_len: usize) -> Packet {
    Packet {
        version: Packet::VERSION,
        source_chain: chain("chain-a"),
        source_app: b"app".to_vec(),
        sequence: 1,
        dest_chain: chain("chain-b"),
        dest_app: b"bank".to_vec(),
        payload: vec![1; payload_len],
        timeout: Timeout {
            height: 0,
            time_ms: DEST_TIME_MS + 10_000,
        },
        gas_limit: 100_000,
        fee: 5,
    }
}

pub fn ctx(now_ms: u64) -> PacketContext {
    PacketContext {
        now_ms,
        proof_height: 10,
        source_latest_height: 11,
        dest_latest_height: 100,
        dest_latest_time_ms: DEST_TIME_MS,
        dest_remote: false,
    }
}

pub fn relayer_kind(b: u8) -> ProposalKind {
    ProposalKind::RegisterRelayer { account: [b; 32] }
}

/// Submits `kind` by member 1 at `now`, and has each `(member, option)` vote at `now`.
pub fn propose_and_vote(
    c: &mut Council,
    kind: ProposalKind,
    expedited: bool,
    now: u64,
    votes: &[(u8, VoteOption)],
) -> u64 {
    let (id, _) = c.propose(&key(1), kind, expedited, 10, now).unwrap();
    for (who, option) in votes {
        c.vote(&key(*who), id, *option, now).unwrap();
    }
    id
}

pub fn status(c: &Council, id: u64) -> ProposalStatus {
    c.proposal(id).unwrap().status.clone()
}

pub fn actions(events: &[GovEvent]) -> Vec<&str> {
    events.iter().map(|e| e.action.as_str()).collect()
}
