//! Governance wire types: round trips, rejection of every non-canonical form, the `check`
//! rules, and exact bytes of two proposal kinds.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use junction_spec::*;
use proptest::collection::vec;
use proptest::prelude::*;

fn id_string() -> impl Strategy<Value = String> {
    "[a-z0-9._-]{1,64}"
}

fn org_id() -> impl Strategy<Value = OrgId> {
    id_string().prop_map(|s| OrgId::new(s).unwrap())
}

fn route_id() -> impl Strategy<Value = RouteId> {
    id_string().prop_map(|s| RouteId::new(s).unwrap())
}

fn chain_id() -> impl Strategy<Value = ChainId> {
    id_string().prop_map(|s| ChainId::new(s).unwrap())
}

fn fraction() -> impl Strategy<Value = Fraction> {
    (any::<u64>(), any::<u64>()).prop_map(|(num, den)| Fraction { num, den })
}

fn keys() -> impl Strategy<Value = Vec<[u8; 32]>> {
    vec(any::<[u8; 32]>(), 0..=MAX_MEMBER_KEYS)
}

fn role() -> impl Strategy<Value = Role> {
    prop::sample::select(Role::ALL)
}

fn ledger_kind() -> impl Strategy<Value = LedgerKind> {
    prop::sample::select(LedgerKind::ALL)
}

fn light_client_params() -> impl Strategy<Value = LightClientParams> {
    (
        fraction(),
        any::<u64>(),
        any::<u64>(),
        any::<u64>(),
        fraction(),
    )
        .prop_map(
            |(
                trust_level,
                trusting_period_ms,
                max_clock_drift_ms,
                min_confirmations,
                threshold,
            )| {
                LightClientParams {
                    trust_level,
                    trusting_period_ms,
                    max_clock_drift_ms,
                    min_confirmations,
                    threshold,
                }
            },
        )
}

fn registration() -> impl Strategy<Value = ChainRegistration> {
    (
        chain_id(),
        ledger_kind(),
        light_client_params(),
        prop_oneof![
            vec(any::<u8>(), 0..100),
            vec(any::<u8>(), MAX_TRUST_ROOT_LEN - 1..=MAX_TRUST_ROOT_LEN),
        ],
    )
        .prop_map(|(chain_id, kind, params, trust_root)| ChainRegistration {
            chain_id,
            kind,
            params,
            trust_root,
        })
}

fn apps() -> impl Strategy<Value = Vec<Vec<u8>>> {
    prop_oneof![
        4 => vec(vec(any::<u8>(), 0..=MAX_APP_ID_LEN), 0..6),
        1 => vec(vec(any::<u8>(), 0..4), MAX_ROUTE_APPS),
    ]
}

fn rate() -> impl Strategy<Value = RateLimit> {
    (any::<u64>(), any::<u64>(), any::<u64>()).prop_map(|(messages, bytes, window_ms)| RateLimit {
        messages,
        bytes,
        window_ms,
    })
}

fn policy() -> impl Strategy<Value = RoutePolicy> {
    (
        (chain_id(), apps(), chain_id(), apps(), any::<bool>()),
        (
            any::<u32>(),
            rate(),
            any::<u64>(),
            any::<u64>(),
            any::<u64>(),
            any::<u128>(),
        ),
        (any::<u64>(), proptest::option::of(rate())),
    )
        .prop_map(
            |(
                (source_chain, source_apps, dest_chain, dest_apps, ordered),
                (max_payload, rate, min_timeout_ms, max_timeout_ms, min_confirmations, fee),
                (max_gas_limit, app_rate),
            )| RoutePolicy {
                source_chain,
                source_apps,
                dest_chain,
                dest_apps,
                ordered,
                max_payload,
                max_gas_limit,
                rate,
                app_rate,
                min_timeout_ms,
                max_timeout_ms,
                min_confirmations,
                fee,
            },
        )
}

fn gov_params() -> impl Strategy<Value = GovParams> {
    (
        (any::<u64>(), any::<u64>(), any::<u64>()),
        (fraction(), fraction(), fraction(), fraction()),
        (any::<u128>(), any::<u32>(), any::<u64>()),
    )
        .prop_map(
            |(
                (voting_period_ms, expedited_voting_period_ms, timelock_ms),
                (quorum, threshold, expedited_threshold, veto),
                (min_deposit, max_active_proposals, max_route_gas_limit),
            )| GovParams {
                max_route_gas_limit,
                voting_period_ms,
                expedited_voting_period_ms,
                timelock_ms,
                quorum,
                threshold,
                expedited_threshold,
                veto,
                min_deposit,
                max_active_proposals,
            },
        )
}

fn proposal_kind() -> impl Strategy<Value = ProposalKind> {
    prop_oneof![
        (org_id(), ".{0,32}", any::<u64>(), role(), keys()).prop_map(
            |(org, name, weight, role, keys)| ProposalKind::AddMember {
                org,
                name,
                weight,
                role,
                keys
            }
        ),
        org_id().prop_map(|org| ProposalKind::SuspendMember { org }),
        org_id().prop_map(|org| ProposalKind::RemoveMember { org }),
        (org_id(), any::<u64>())
            .prop_map(|(org, weight)| ProposalKind::ChangeWeight { org, weight }),
        (org_id(), keys()).prop_map(|(org, keys)| ProposalKind::ResetMemberKey { org, keys }),
        registration().prop_map(ProposalKind::RegisterChain),
        chain_id().prop_map(|chain| ProposalKind::FreezeClient { chain }),
        chain_id().prop_map(|chain| ProposalKind::RecoverClient { chain }),
        (route_id(), policy())
            .prop_map(|(route, policy)| ProposalKind::OpenRoute { route, policy }),
        (route_id(), policy())
            .prop_map(|(route, policy)| ProposalKind::UpdateRoute { route, policy }),
        route_id().prop_map(|route| ProposalKind::PauseRoute { route }),
        route_id().prop_map(|route| ProposalKind::ResumeRoute { route }),
        route_id().prop_map(|route| ProposalKind::CloseRoute { route }),
        (any::<[u8; 32]>(), any::<u64>(), any::<[u8; 20]>()).prop_map(
            |(pub_key, power, attestation_address)| ProposalKind::AddValidator {
                pub_key,
                power,
                attestation_address
            }
        ),
        any::<[u8; 32]>().prop_map(|pub_key| ProposalKind::RemoveValidator { pub_key }),
        (any::<[u8; 32]>(), any::<u64>())
            .prop_map(|(pub_key, power)| ProposalKind::ChangePower { pub_key, power }),
        gov_params().prop_map(ProposalKind::SetParams),
        any::<[u8; 32]>().prop_map(|account| ProposalKind::RegisterRelayer { account }),
        (any::<[u8; 32]>(), any::<u128>())
            .prop_map(|(account, amount)| ProposalKind::PenalizeRelayer { account, amount }),
        ("[a-z0-9.-]{0,64}", any::<u64>())
            .prop_map(|(name, height)| ProposalKind::ScheduleUpgrade { name, height }),
        registration().prop_map(|r| ProposalKind::ReplaceClient {
            chain: r.chain_id,
            params: r.params,
            trust_root: r.trust_root
        }),
        any::<[u8; 32]>().prop_map(|account| ProposalKind::AdmitAccount { account }),
        any::<[u8; 32]>().prop_map(|account| ProposalKind::RemoveAccount { account }),
        (chain_id(), chain_id())
            .prop_map(|(chain, via)| ProposalKind::RegisterRemoteChain { chain, via }),
        (chain_id(), proptest::option::of(chain_id()))
            .prop_map(|(chain, successor)| ProposalKind::RetireGateway { chain, successor }),
    ]
}

/// Round trip, trailing bytes, and every strict prefix.
fn check_canonical<T: Encode + Decode + PartialEq + std::fmt::Debug>(
    value: &T,
    extra: &[u8],
) -> Result<(), TestCaseError> {
    let bytes = value.to_bytes();
    prop_assert_eq!(&T::from_bytes(&bytes).unwrap(), value);
    if !extra.is_empty() {
        let mut longer = bytes.clone();
        longer.extend_from_slice(extra);
        prop_assert_eq!(
            T::from_bytes(&longer).err(),
            Some(DecodeError::TrailingBytes {
                remaining: extra.len()
            })
        );
    }
    let step = (bytes.len() / 512).max(1);
    for cut in (0..bytes.len()).step_by(step) {
        let got = T::from_bytes(&bytes[..cut]);
        prop_assert!(
            matches!(got, Err(DecodeError::UnexpectedEnd { .. })),
            "prefix of {} bytes: {:?}",
            cut,
            got
        );
    }
    Ok(())
}

/// A decoder either rejects the input or accepts exactly its canonical encoding.
fn decode_is_canonical<T: Encode + Decode>(bytes: &[u8]) -> Result<(), TestCaseError> {
    if let Ok(v) = T::from_bytes(bytes) {
        prop_assert_eq!(v.to_bytes(), bytes);
    }
    Ok(())
}

fn decode_all(bytes: &[u8]) -> Result<(), TestCaseError> {
    decode_is_canonical::<OrgId>(bytes)?;
    decode_is_canonical::<RouteId>(bytes)?;
    decode_is_canonical::<Role>(bytes)?;
    decode_is_canonical::<MemberStatus>(bytes)?;
    decode_is_canonical::<VoteOption>(bytes)?;
    decode_is_canonical::<LedgerKind>(bytes)?;
    decode_is_canonical::<Fraction>(bytes)?;
    decode_is_canonical::<LightClientParams>(bytes)?;
    decode_is_canonical::<ChainRegistration>(bytes)?;
    decode_is_canonical::<RateLimit>(bytes)?;
    decode_is_canonical::<RoutePolicy>(bytes)?;
    decode_is_canonical::<GovParams>(bytes)?;
    decode_is_canonical::<ProposalKind>(bytes)?;
    Ok(())
}

/// A valid policy between two distinct chains.
fn valid_policy() -> RoutePolicy {
    RoutePolicy {
        source_chain: ChainId::new("chain-a").unwrap(),
        source_apps: vec![b"app".to_vec()],
        dest_chain: ChainId::new("chain-b").unwrap(),
        dest_apps: vec![b"bank".to_vec()],
        ordered: true,
        max_payload: 1_024,
        max_gas_limit: 500_000,
        rate: RateLimit {
            messages: 10,
            bytes: 10_240,
            window_ms: 1_000,
        },
        app_rate: Some(RateLimit {
            messages: 5,
            bytes: 5_120,
            window_ms: 1_000,
        }),
        min_timeout_ms: 1_000,
        max_timeout_ms: 60_000,
        min_confirmations: 2,
        fee: 7,
    }
}

fn valid_registration() -> ChainRegistration {
    ChainRegistration {
        chain_id: ChainId::new("evm-a").unwrap(),
        kind: LedgerKind::EvmAttested,
        params: LightClientParams {
            trust_level: Fraction::TWO_THIRDS,
            trusting_period_ms: 3_600_000,
            max_clock_drift_ms: 0,
            min_confirmations: 0,
            threshold: Fraction::TWO_THIRDS,
        },
        trust_root: vec![1; 8],
    }
}

fn valid_params() -> GovParams {
    GovParams {
        voting_period_ms: 60_000,
        expedited_voting_period_ms: 10_000,
        timelock_ms: 5_000,
        quorum: Fraction::new(1, 3),
        threshold: Fraction::new(51, 100),
        expedited_threshold: Fraction::new(2, 3),
        veto: Fraction::new(1, 3),
        min_deposit: 100,
        max_active_proposals: 8,
        max_route_gas_limit: 2_000_000,
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    // Every proposal kind round-trips, and rejects trailing bytes and truncation.
    #[test]
    fn proposal_kind_is_canonical(v in proposal_kind(), extra in vec(any::<u8>(), 0..8)) {
        check_canonical(&v, &extra)?;
    }

    // Every other governance type round-trips, and rejects trailing bytes and truncation.
    #[test]
    fn gov_types_are_canonical(
        org in org_id(), route in route_id(), role in role(), kind in ledger_kind(),
        option in prop::sample::select(VoteOption::ALL),
        status in prop::sample::select(MemberStatus::ALL),
        f in fraction(), lc in light_client_params(), reg in registration(), p in policy(),
        g in gov_params(), extra in vec(any::<u8>(), 0..8),
    ) {
        check_canonical(&org, &extra)?;
        check_canonical(&route, &extra)?;
        check_canonical(&role, &extra)?;
        check_canonical(&kind, &extra)?;
        check_canonical(&option, &extra)?;
        check_canonical(&status, &extra)?;
        check_canonical(&f, &extra)?;
        check_canonical(&lc, &extra)?;
        check_canonical(&reg, &extra)?;
        check_canonical(&p.rate, &extra)?;
        check_canonical(&p, &extra)?;
        check_canonical(&g, &extra)?;
    }

    // JSON round-trips too (RPC and genesis files).
    #[test]
    fn proposal_kind_json_round_trips(v in proposal_kind()) {
        let json = serde_json::to_string(&v).unwrap();
        prop_assert_eq!(serde_json::from_str::<ProposalKind>(&json).unwrap(), v);
    }

    // Only the 25 defined proposal-kind tags decode.
    #[test]
    fn proposal_kind_rejects_unknown_tags(tag in prop_oneof![Just(0u8), 0x1au8..=0xff], v in proposal_kind()) {
        let mut bytes = v.to_bytes();
        bytes[0] = tag;
        prop_assert_eq!(
            ProposalKind::from_bytes(&bytes),
            Err(DecodeError::InvalidTag { what: "proposal kind", tag })
        );
    }

    // Small enums decode only their defined tags.
    #[test]
    fn small_enums_reject_unknown_tags(tag in any::<u8>()) {
        prop_assert_eq!(Role::from_bytes(&[tag]).is_ok(), (1..=3).contains(&tag));
        prop_assert_eq!(MemberStatus::from_bytes(&[tag]).is_ok(), (1..=3).contains(&tag));
        prop_assert_eq!(VoteOption::from_bytes(&[tag]).is_ok(), (1..=4).contains(&tag));
        prop_assert_eq!(LedgerKind::from_bytes(&[tag]).is_ok(), (1..=6).contains(&tag));
    }

    // Random bytes never panic any decoder, and whatever decodes is canonical.
    #[test]
    fn random_bytes_never_panic(bytes in vec(any::<u8>(), 0..600)) {
        decode_all(&bytes)?;
        let mut tagged = bytes.clone();
        if let Some(first) = tagged.first_mut() {
            *first = (*first % 0x15).max(1);
        }
        decode_is_canonical::<ProposalKind>(&tagged)?;
    }

    // Valid encodings with one byte changed never panic, and stay canonical if accepted.
    #[test]
    fn mutated_encodings_never_panic(
        v in proposal_kind(), at in any::<prop::sample::Index>(), byte in any::<u8>(),
    ) {
        let mut bytes = v.to_bytes();
        let i = at.index(bytes.len());
        bytes[i] = byte;
        decode_all(&bytes)?;
    }

    // Org and route ids follow the chain-id alphabet, in the constructor and the decoder.
    #[test]
    fn invalid_ids_are_rejected(s in "[a-z0-9._-]{0,40}[^a-z0-9._-][a-z0-9._-]{0,40}") {
        prop_assert!(OrgId::new(s.clone()).is_err());
        prop_assert!(RouteId::new(s.clone()).is_err());
        let mut bytes = (s.len() as u32).to_be_bytes().to_vec();
        bytes.extend_from_slice(s.as_bytes());
        prop_assert!(OrgId::from_bytes(&bytes).is_err());
        prop_assert!(RouteId::from_bytes(&bytes).is_err());
        prop_assert!(serde_json::from_value::<OrgId>(serde_json::Value::String(s)).is_err());
    }

    // Fractions compare by value, whatever the representation.
    #[test]
    fn fraction_comparison_is_by_value(a in 1u64..1000, b in 1u64..1000, k in 1u64..1000) {
        let f = Fraction::new(a, b);
        let g = Fraction::new(a * k, b * k);
        prop_assert_eq!(f.cmp_value(&g), std::cmp::Ordering::Equal);
        prop_assert_eq!(f.exceeded_by(a, b), false);
        prop_assert!(f.reached_by(a, b));
    }
}

/// A change that breaks one rule.
type Mutation<T> = Box<dyn Fn(&mut T)>;

fn with_len(len: u32) -> Vec<u8> {
    len.to_be_bytes().to_vec()
}

#[test]
fn over_cap_lengths_are_rejected() {
    let org = OrgId::new("bank-a").unwrap().to_bytes();
    let too_long = |cap: usize| DecodeError::LengthTooLarge {
        len: cap + 1,
        max: cap,
    };
    // AddMember name over 128 bytes.
    let bytes = [&[ProposalKind::TAG_ADD_MEMBER][..], &org, &with_len(129)].concat();
    assert_eq!(
        ProposalKind::from_bytes(&bytes),
        Err(too_long(MAX_MEMBER_NAME_LEN))
    );
    // ResetMemberKey with 9 keys.
    let bytes = [
        &[ProposalKind::TAG_RESET_MEMBER_KEY][..],
        &org,
        &with_len(9),
    ]
    .concat();
    assert_eq!(
        ProposalKind::from_bytes(&bytes),
        Err(too_long(MAX_MEMBER_KEYS))
    );
    // ScheduleUpgrade name over 64 bytes.
    let bytes = [&[ProposalKind::TAG_SCHEDULE_UPGRADE][..], &with_len(65)].concat();
    assert_eq!(
        ProposalKind::from_bytes(&bytes),
        Err(too_long(MAX_UPGRADE_NAME_LEN))
    );
    // Org id over 64 bytes.
    assert_eq!(
        OrgId::from_bytes(&with_len(65)),
        Err(too_long(MAX_GOV_ID_LEN))
    );
    // Trust root over 4096 bytes.
    let mut reg = ChainRegistration {
        chain_id: ChainId::new("chain-a").unwrap(),
        kind: LedgerKind::Fabric,
        params: LightClientParams {
            trust_level: Fraction::TWO_THIRDS,
            trusting_period_ms: 1,
            max_clock_drift_ms: 0,
            min_confirmations: 0,
            threshold: Fraction::TWO_THIRDS,
        },
        trust_root: vec![],
    }
    .to_bytes();
    let n = reg.len();
    reg[n - 4..].copy_from_slice(&with_len(MAX_TRUST_ROOT_LEN as u32 + 1));
    assert_eq!(
        ChainRegistration::from_bytes(&reg),
        Err(too_long(MAX_TRUST_ROOT_LEN))
    );
    // Route app list over 64 entries, and an app id over 64 bytes.
    let chain = ChainId::new("chain-a").unwrap().to_bytes();
    let bytes = [&chain[..], &with_len(65)].concat();
    assert_eq!(
        RoutePolicy::from_bytes(&bytes),
        Err(too_long(MAX_ROUTE_APPS))
    );
    let bytes = [&chain[..], &with_len(1), &with_len(65)].concat();
    assert_eq!(
        RoutePolicy::from_bytes(&bytes),
        Err(too_long(MAX_APP_ID_LEN))
    );
}

#[test]
fn light_client_params_check_names_the_rule() {
    let ok = LightClientParams {
        trust_level: Fraction::new(1, 3),
        trusting_period_ms: 1_000,
        max_clock_drift_ms: 0,
        min_confirmations: 0,
        threshold: Fraction::new(1, 1),
    };
    assert_eq!(ok.check().map_err(|e| e.name()), Err("trust_level_too_low"));
    let mut p = LightClientParams {
        trust_level: Fraction::new(2, 3),
        ..ok.clone()
    };
    assert_eq!(p.check(), Ok(()));
    p.trust_level = Fraction::new(4, 3);
    assert_eq!(p.check().map_err(|e| e.name()), Err("fraction_above_one"));
    p.trust_level = Fraction::new(1, 0);
    assert_eq!(p.check().map_err(|e| e.name()), Err("zero_denominator"));
    p.trust_level = Fraction::new(2, 3);
    p.threshold = Fraction::new(0, 5);
    assert_eq!(p.check().map_err(|e| e.name()), Err("zero_fraction"));
    p.threshold = Fraction::new(1, 2);
    p.trusting_period_ms = 0;
    assert_eq!(p.check().map_err(|e| e.name()), Err("zero_period"));
}

#[test]
fn route_policy_check_names_the_rule() {
    assert_eq!(valid_policy().check(), Ok(()));
    let cases: Vec<(&str, Mutation<RoutePolicy>)> = vec![
        (
            "same_source_and_dest",
            Box::new(|p| p.dest_chain = p.source_chain.clone()),
        ),
        ("empty_app_list", Box::new(|p| p.source_apps.clear())),
        ("empty_app_list", Box::new(|p| p.dest_apps.clear())),
        (
            "too_many_apps",
            Box::new(|p| p.dest_apps = (0..65u8).map(|i| vec![i]).collect()),
        ),
        ("empty_app_id", Box::new(|p| p.source_apps.push(vec![]))),
        (
            "app_id_too_long",
            Box::new(|p| p.source_apps.push(vec![1; MAX_APP_ID_LEN + 1])),
        ),
        (
            "duplicate_app_id",
            Box::new(|p| p.dest_apps.push(b"bank".to_vec())),
        ),
        ("zero_max_payload", Box::new(|p| p.max_payload = 0)),
        (
            "max_payload_over_cap",
            Box::new(|p| {
                p.max_payload = MAX_PAYLOAD_BYTES as u32 + 1;
                p.rate.bytes = u64::MAX;
            }),
        ),
        ("zero_rate", Box::new(|p| p.rate.messages = 0)),
        ("zero_rate", Box::new(|p| p.rate.window_ms = 0)),
        ("rate_below_max_payload", Box::new(|p| p.rate.bytes = 1_023)),
        (
            "zero_rate",
            Box::new(|p| {
                if let Some(r) = p.app_rate.as_mut() {
                    r.bytes = 0
                }
            }),
        ),
        (
            "rate_below_max_payload",
            Box::new(|p| {
                if let Some(r) = p.app_rate.as_mut() {
                    r.bytes = 1_023
                }
            }),
        ),
        ("zero_gas_limit", Box::new(|p| p.max_gas_limit = 0)),
        (
            "gas_limit_over_cap",
            Box::new(|p| p.max_gas_limit = MAX_PACKET_GAS_LIMIT + 1),
        ),
        (
            "timeout_bounds_inverted",
            Box::new(|p| p.min_timeout_ms = p.max_timeout_ms + 1),
        ),
    ];
    for (name, mutate) in cases {
        let mut p = valid_policy();
        mutate(&mut p);
        assert_eq!(p.check().map_err(|e| e.name()), Err(name), "{p:?}");
    }
}

#[test]
fn gov_params_check_names_the_rule() {
    assert_eq!(valid_params().check(), Ok(()));
    let cases: Vec<(&str, Mutation<GovParams>)> = vec![
        (
            "threshold_too_low",
            Box::new(|g| g.threshold = Fraction::new(1, 2)),
        ),
        (
            "expedited_threshold_below_threshold",
            Box::new(|g| g.expedited_threshold = Fraction::new(1, 2)),
        ),
        (
            "zero_fraction",
            Box::new(|g| g.quorum = Fraction::new(0, 1)),
        ),
        (
            "fraction_above_one",
            Box::new(|g| g.veto = Fraction::new(3, 2)),
        ),
        ("zero_period", Box::new(|g| g.voting_period_ms = 0)),
        (
            "zero_period",
            Box::new(|g| g.expedited_voting_period_ms = 0),
        ),
        (
            "expedited_period_too_long",
            Box::new(|g| g.expedited_voting_period_ms = g.voting_period_ms + 1),
        ),
        (
            "zero_max_active_proposals",
            Box::new(|g| g.max_active_proposals = 0),
        ),
        ("zero_gas_limit", Box::new(|g| g.max_route_gas_limit = 0)),
        (
            "gas_limit_over_cap",
            Box::new(|g| g.max_route_gas_limit = MAX_PACKET_GAS_LIMIT + 1),
        ),
    ];
    for (name, mutate) in cases {
        let mut g = valid_params();
        mutate(&mut g);
        assert_eq!(g.check().map_err(|e| e.name()), Err(name), "{g:?}");
    }
}

fn floors() -> GovFloors {
    GovFloors {
        min_quorum: Fraction::new(1, 3),
        max_veto: Fraction::new(1, 3),
        min_voting_period_ms: 30_000,
        min_expedited_voting_period_ms: 5_000,
        min_timelock_ms: 1_000,
    }
}

/// The parameter set of the council-takeover attack (quorum 10^-12, veto 1, 1 ms votes,
/// no timelock) passes the plain parameter check but crosses every genesis bound.
#[test]
fn genesis_bounds_refuse_what_the_plain_check_accepts() {
    assert_eq!(floors().check(), Ok(()));
    assert_eq!(valid_params().check_within(&floors()), Ok(()));
    let attack = GovParams {
        quorum: Fraction::new(1, 1_000_000_000_000),
        veto: Fraction::ONE,
        voting_period_ms: 1,
        expedited_voting_period_ms: 1,
        timelock_ms: 0,
        ..valid_params()
    };
    assert_eq!(attack.check(), Ok(()), "the rules alone allow it");
    let cases: Vec<(&str, Mutation<GovParams>)> = vec![
        ("quorum", Box::new(|g| g.quorum = Fraction::new(1, 4))),
        ("veto", Box::new(|g| g.veto = Fraction::new(1, 2))),
        (
            "voting_period_ms",
            Box::new(|g| g.voting_period_ms = 29_999),
        ),
        (
            "expedited_voting_period_ms",
            Box::new(|g| g.expedited_voting_period_ms = 4_999),
        ),
        ("timelock_ms", Box::new(|g| g.timelock_ms = 999)),
    ];
    for (what, mutate) in cases {
        let mut g = valid_params();
        mutate(&mut g);
        let e = g.check_within(&floors()).unwrap_err();
        assert_eq!(e.name(), "params_out_of_genesis_bounds");
        assert!(
            matches!(&e, ParamsError::OutOfGenesisBounds { what: w, .. } if *w == what),
            "{e:?}"
        );
    }
    assert!(attack.check_within(&floors()).is_err());
    // The bounds themselves: no floor may be weaker than the protocol's.
    let weak: Vec<(&str, Mutation<GovFloors>)> = vec![
        (
            "weak_genesis_bound",
            Box::new(|f| f.min_quorum = Fraction::new(33, 100)),
        ),
        (
            "weak_genesis_bound",
            Box::new(|f| f.max_veto = Fraction::new(51, 100)),
        ),
        (
            "zero_fraction",
            Box::new(|f| f.max_veto = Fraction::new(0, 1)),
        ),
        ("zero_period", Box::new(|f| f.min_voting_period_ms = 0)),
    ];
    for (name, mutate) in weak {
        let mut f = floors();
        mutate(&mut f);
        assert_eq!(f.check().map_err(|e| e.name()), Err(name), "{f:?}");
    }
}

#[test]
fn proposal_kind_check_names_the_rule() {
    let org = OrgId::new("bank-a").unwrap();
    let add = |name: &str, weight: u64, keys: Vec<[u8; 32]>| ProposalKind::AddMember {
        org: org.clone(),
        name: name.to_owned(),
        weight,
        role: Role::Member,
        keys,
    };
    assert_eq!(add("Bank A", 1, vec![[1; 32]]).check(), Ok(()));
    let cases = [
        (add("", 1, vec![[1; 32]]), "empty_name"),
        (add(&"x".repeat(129), 1, vec![[1; 32]]), "name_too_long"),
        (add("Bank A", 0, vec![[1; 32]]), "zero_weight"),
        (
            add("Bank A", MAX_WEIGHT + 1, vec![[1; 32]]),
            "weight_too_large",
        ),
        (add("Bank A", 1, vec![]), "no_keys"),
        (add("Bank A", 1, vec![[1; 32]; 2]), "duplicate_key"),
        (
            add("Bank A", 1, (0..9u8).map(|i| [i; 32]).collect()),
            "too_many_keys",
        ),
        (
            ProposalKind::ChangePower {
                pub_key: [1; 32],
                power: 0,
            },
            "zero_power",
        ),
        (
            ProposalKind::AddValidator {
                pub_key: [1; 32],
                power: MAX_POWER + 1,
                attestation_address: [1; 20],
            },
            "power_too_large",
        ),
        (
            ProposalKind::PenalizeRelayer {
                account: [1; 32],
                amount: 0,
            },
            "zero_penalty",
        ),
        (
            ProposalKind::ScheduleUpgrade {
                name: String::new(),
                height: 1,
            },
            "empty_upgrade_name",
        ),
        (
            ProposalKind::ScheduleUpgrade {
                name: "v2".into(),
                height: 0,
            },
            "zero_upgrade_height",
        ),
    ];
    for (kind, name) in cases {
        assert_eq!(kind.check().map_err(|e| e.name()), Err(name), "{kind:?}");
    }
    let mut reg = ChainRegistration {
        chain_id: ChainId::new("chain-a").unwrap(),
        kind: LedgerKind::Bitcoin,
        params: LightClientParams {
            trust_level: Fraction::TWO_THIRDS,
            trusting_period_ms: 1,
            max_clock_drift_ms: 0,
            min_confirmations: 6,
            threshold: Fraction::ONE,
        },
        trust_root: vec![0; 32],
    };
    assert_eq!(
        ProposalKind::RegisterChain(reg.clone())
            .check()
            .map_err(|e| e.name()),
        Err("zero_trust_root")
    );
    reg.trust_root.clear();
    assert_eq!(reg.check().map_err(|e| e.name()), Err("empty_trust_root"));
    reg.trust_root = vec![1; MAX_TRUST_ROOT_LEN + 1];
    assert_eq!(
        reg.check().map_err(|e| e.name()),
        Err("trust_root_too_long")
    );
    reg.trust_root = vec![1; MAX_TRUST_ROOT_LEN];
    assert_eq!(reg.check(), Ok(()));
}

#[test]
fn council_and_validator_kinds_are_marked() {
    let org = OrgId::new("bank-a").unwrap();
    let route = RouteId::new("r").unwrap();
    let marked = [
        ProposalKind::SuspendMember { org: org.clone() },
        ProposalKind::RemoveMember { org: org.clone() },
        ProposalKind::ChangeWeight {
            org: org.clone(),
            weight: 1,
        },
        ProposalKind::ResetMemberKey {
            org,
            keys: vec![[1; 32]],
        },
        ProposalKind::AddValidator {
            pub_key: [1; 32],
            power: 1,
            attestation_address: [1; 20],
        },
        ProposalKind::RemoveValidator { pub_key: [1; 32] },
        ProposalKind::ChangePower {
            pub_key: [1; 32],
            power: 1,
        },
        // Parameters and the trust in other chains need the same 2/3 as the council.
        ProposalKind::SetParams(valid_params()),
        ProposalKind::RecoverClient {
            chain: ChainId::new("evm-a").unwrap(),
        },
        ProposalKind::ReplaceClient {
            chain: ChainId::new("evm-a").unwrap(),
            params: valid_registration().params,
            trust_root: vec![1; 8],
        },
        ProposalKind::RegisterChain(valid_registration()),
    ];
    for kind in &marked {
        assert!(kind.needs_supermajority(), "{}", kind.name());
    }
    for kind in [
        ProposalKind::PauseRoute { route },
        ProposalKind::RegisterRelayer { account: [1; 32] },
        ProposalKind::AdmitAccount { account: [1; 32] },
        ProposalKind::FreezeClient {
            chain: ChainId::new("evm-a").unwrap(),
        },
    ] {
        assert!(!kind.needs_supermajority(), "{}", kind.name());
    }
}

#[test]
fn add_member_golden_bytes() {
    let kind = ProposalKind::AddMember {
        org: OrgId::new("bank-a").unwrap(),
        name: "Bank A".into(),
        weight: 10,
        role: Role::Regulator,
        keys: vec![[0xaa; 32]],
    };
    let expected = [
        "01",               // tag: AddMember
        "00000006",         // org length
        "62616e6b2d61",     // "bank-a"
        "00000006",         // name length
        "42616e6b2041",     // "Bank A"
        "000000000000000a", // weight 10
        "03",               // role: Regulator
        "00000001",         // one key
        &"aa".repeat(32),   // the key
    ]
    .concat();
    assert_eq!(hex::encode(kind.to_bytes()), expected);
    assert_eq!(ProposalKind::from_bytes(&kind.to_bytes()).unwrap(), kind);
    assert_eq!(kind.name(), "add_member");
}

#[test]
fn open_route_golden_bytes() {
    let kind = ProposalKind::OpenRoute {
        route: RouteId::new("a-to-b").unwrap(),
        policy: valid_policy(),
    };
    let expected = [
        "09",                               // tag: OpenRoute
        "00000006",                         // route id length
        "612d746f2d62",                     // "a-to-b"
        "00000007",                         // source chain length
        "636861696e2d61",                   // "chain-a"
        "00000001",                         // one source app
        "00000003",                         // app length
        "617070",                           // "app"
        "00000007",                         // destination chain length
        "636861696e2d62",                   // "chain-b"
        "00000001",                         // one destination app
        "00000004",                         // app length
        "62616e6b",                         // "bank"
        "01",                               // ordered
        "00000400",                         // max_payload 1024
        "000000000007a120",                 // max_gas_limit 500000
        "000000000000000a",                 // rate.messages 10
        "0000000000002800",                 // rate.bytes 10240
        "00000000000003e8",                 // rate.window_ms 1000
        "01",                               // app_rate: some
        "0000000000000005",                 // app_rate.messages 5
        "0000000000001400",                 // app_rate.bytes 5120
        "00000000000003e8",                 // app_rate.window_ms 1000
        "00000000000003e8",                 // min_timeout_ms 1000
        "000000000000ea60",                 // max_timeout_ms 60000
        "0000000000000002",                 // min_confirmations 2
        "00000000000000000000000000000007", // fee 7 (u128)
    ]
    .concat();
    assert_eq!(hex::encode(kind.to_bytes()), expected);
    assert_eq!(ProposalKind::from_bytes(&kind.to_bytes()).unwrap(), kind);
}

#[test]
fn json_uses_snake_case_names_and_hex() {
    let kind = ProposalKind::ResetMemberKey {
        org: OrgId::new("bank-a").unwrap(),
        keys: vec![[0xab; 32]],
    };
    let json = serde_json::to_value(&kind).unwrap();
    assert_eq!(json["type"], "reset_member_key");
    assert_eq!(json["keys"][0], "ab".repeat(32));
    let role: Role = serde_json::from_str("\"regulator\"").unwrap();
    assert_eq!(role, Role::Regulator);
    let kind: LedgerKind = serde_json::from_str("\"evm_qbft\"").unwrap();
    assert_eq!(kind, LedgerKind::EvmQbft);
}
