//! Fixed inputs for `junction bench governance`, which times [`Council::check_packet`]
//! and [`Council::tally`] on them.
//!
//! The ids and parameters here are constants that are valid by construction (the tests
//! build every sample), so the conversions below cannot fail; they use `expect` because
//! the id types have no infallible constructor.
#![allow(clippy::expect_used)]

use junction_spec::{
    ChainId, ChainRegistration, Fraction, GovParams, LedgerKind, LightClientParams, MemberStatus,
    OrgId, Packet, ProposalKind, RateLimit, Role, RouteId, RoutePolicy, Timeout, VoteOption,
};

use crate::member::Member;
use crate::route::PacketContext;
use crate::state::{Council, GovGenesis};
use crate::MAX_MEMBERS;

const SOURCE: &str = "chain-a";
const DEST: &str = "chain-b";
const ROUTE: &str = "a-to-b";
const DEST_TIME_MS: u64 = 1_700_000_000_000;

/// The account key of sample member `i`.
pub fn member_key(i: usize) -> [u8; 32] {
    let mut key = [0x5a; 32];
    key[..8].copy_from_slice(&(i as u64).to_be_bytes());
    key
}

fn chain(s: &str) -> ChainId {
    ChainId::new(s).expect("constant chain id is valid")
}

/// Parameters used by the samples: 60 s votes (30 s expedited), 10 s timelock, quorum 1/3,
/// threshold 2/3, expedited threshold 3/4, veto 1/3.
pub fn sample_params() -> GovParams {
    GovParams {
        voting_period_ms: 60_000,
        expedited_voting_period_ms: 30_000,
        timelock_ms: 10_000,
        quorum: Fraction::new(1, 3),
        threshold: Fraction::new(2, 3),
        expedited_threshold: Fraction::new(3, 4),
        veto: Fraction::new(1, 3),
        min_deposit: 0,
        max_active_proposals: 16,
        max_route_gas_limit: junction_spec::MAX_PACKET_GAS_LIMIT,
    }
}

/// Genesis bounds of the samples: quorum at least 1/3, veto at most 1/3, votes of at least
/// 10 s (5 s expedited), no least timelock.
pub fn sample_floors() -> junction_spec::GovFloors {
    junction_spec::GovFloors {
        min_quorum: Fraction::new(1, 3),
        max_veto: Fraction::new(1, 3),
        min_voting_period_ms: 10_000,
        min_expedited_voting_period_ms: 5_000,
        min_timelock_ms: 0,
    }
}

fn registration(id: &str, kind: LedgerKind) -> ChainRegistration {
    ChainRegistration {
        chain_id: chain(id),
        kind,
        params: LightClientParams {
            trust_level: Fraction::new(2, 3),
            trusting_period_ms: 14 * 24 * 3_600_000,
            max_clock_drift_ms: 5_000,
            min_confirmations: 1,
            threshold: Fraction::new(2, 3),
        },
        trust_root: vec![0x42; 32],
    }
}

/// The policy of the sample route `a-to-b`: app `app` on `chain-a` to app `bank` on
/// `chain-b`, unordered, payloads up to 64 KiB, a rate limit far above any benchmark,
/// timeouts between 1 s and one day ahead, one confirmation, no fee.
pub fn sample_policy() -> RoutePolicy {
    RoutePolicy {
        source_chain: chain(SOURCE),
        source_apps: vec![b"app".to_vec()],
        dest_chain: chain(DEST),
        dest_apps: vec![b"bank".to_vec()],
        ordered: false,
        max_payload: 65_536,
        max_gas_limit: 1_000_000,
        rate: RateLimit {
            messages: 1 << 40,
            bytes: 1 << 56,
            window_ms: 1_000,
        },
        app_rate: None,
        min_timeout_ms: 1_000,
        max_timeout_ms: 86_400_000,
        min_confirmations: 1,
        fee: 0,
    }
}

/// A council of `members` (clamped to `1..=MAX_MEMBERS`) active members of weight 1
/// (keys from [`member_key`]), chains `chain-a` and `chain-b`, one open route `a-to-b`, and
/// one validator.
pub fn sample_council(members: usize) -> Council {
    let n = members.clamp(1, MAX_MEMBERS);
    let members = (0..n)
        .map(|i| Member {
            org: OrgId::new(format!("org-{i:05}")).expect("generated org id is valid"),
            name: format!("Organization {i}"),
            weight: 1,
            role: Role::Member,
            status: MemberStatus::Active,
            keys: vec![member_key(i)],
        })
        .collect();
    Council::genesis(GovGenesis {
        members,
        params: sample_params(),
        floors: sample_floors(),
        chains: vec![
            registration(SOURCE, LedgerKind::Tendermint),
            registration(DEST, LedgerKind::EvmQbft),
        ],
        routes: vec![(
            RouteId::new(ROUTE).expect("constant route id is valid"),
            sample_policy(),
        )],
        validators: vec![junction_spec::HubValidator {
            pub_key: [0x11; 32],
            power: 10,
            attestation_address: [0x11; 20],
        }],
        relayers: vec![[0x22; 32]],
        accounts: Vec::new(),
    })
    .expect("the sample genesis is valid")
}

/// A packet that passes the sample route's policy, with its route and context.
pub fn sample_packet() -> (RouteId, Packet, PacketContext) {
    let packet = Packet {
        version: Packet::VERSION,
        source_chain: chain(SOURCE),
        source_app: b"app".to_vec(),
        sequence: 1,
        dest_chain: chain(DEST),
        dest_app: b"bank".to_vec(),
        payload: vec![0xab; 256],
        timeout: Timeout {
            height: 0,
            time_ms: DEST_TIME_MS + 60_000,
        },
        gas_limit: 100_000,
        fee: 0,
    };
    let ctx = PacketContext {
        now_ms: 1_000_000,
        proof_height: 100,
        source_latest_height: 110,
        dest_latest_height: 50,
        dest_latest_time_ms: DEST_TIME_MS,
        dest_remote: false,
    };
    (
        RouteId::new(ROUTE).expect("constant route id is valid"),
        packet,
        ctx,
    )
}

/// [`sample_council`] with one proposal (registering a relayer) on which every member
/// has voted (yes, no, abstain and veto in turn), still in its voting period. Returns the
/// council and the proposal id, for timing [`Council::tally`].
pub fn proposal_with_votes(members: usize) -> (Council, u64) {
    let mut council = sample_council(members);
    let n = council.members().len();
    let (id, _) = council
        .propose(
            &member_key(0),
            ProposalKind::RegisterRelayer {
                account: [0x33; 32],
            },
            false,
            0,
            0,
        )
        .expect("the sample proposal is valid");
    let options = [
        VoteOption::Yes,
        VoteOption::No,
        VoteOption::Abstain,
        VoteOption::Veto,
    ];
    for i in 0..n {
        let option = options
            .get(i % options.len())
            .copied()
            .unwrap_or(VoteOption::Yes);
        council
            .vote(&member_key(i), id, option, 1)
            .expect("every sample member may vote once");
    }
    (council, id)
}
