//! Boundary tests of the governance rules, each named after the rule it defends.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use junction_governance::*;
use junction_spec::*;
use VoteOption::{Abstain, No, Veto, Yes};

// ------------------------------------------------------------------ quorum

#[test]
fn quorum_one_unit_below_the_bar_expires() {
    // Total snapshot weight 10, quorum 1/2: 4 voting is one unit below the bar of 5.
    let mut c = weighted(&[4, 1, 5]);
    let id = propose_and_vote(&mut c, relayer_kind(1), false, 0, &[(1, Yes)]);
    let events = c.tick(VOTING_MS);
    assert_eq!(status(&c, id), ProposalStatus::Expired);
    assert_eq!(actions(&events), ["proposal_expired"]);
}

#[test]
fn quorum_exactly_at_the_bar_is_met() {
    let mut c = weighted(&[4, 1, 5]);
    let id = propose_and_vote(&mut c, relayer_kind(1), false, 0, &[(1, Yes), (2, Yes)]);
    c.tick(VOTING_MS);
    assert_eq!(
        status(&c, id),
        ProposalStatus::Passed {
            executes_at_ms: VOTING_MS + TIMELOCK_MS
        }
    );
}

#[test]
fn abstain_counts_toward_quorum_only() {
    // Abstain 5 + yes 1 = 6 of 10 meets quorum; yes 1 of non-abstain 1 passes.
    let mut c = weighted(&[1, 5, 4]);
    let id = propose_and_vote(&mut c, relayer_kind(1), false, 0, &[(1, Yes), (2, Abstain)]);
    assert_eq!(
        c.tally(id).unwrap(),
        Tally {
            yes: 1,
            no: 0,
            abstain: 5,
            veto: 0,
            total_snapshot: 10
        }
    );
    c.tick(VOTING_MS);
    assert!(matches!(status(&c, id), ProposalStatus::Passed { .. }));
}

// ------------------------------------------------------------------ threshold

#[test]
fn threshold_exactly_reached_is_rejected() {
    // Threshold 3/5 must be strictly exceeded: 3 yes of 5 is not enough.
    let mut c = weighted(&[3, 2]);
    let id = propose_and_vote(&mut c, relayer_kind(1), false, 0, &[(1, Yes), (2, No)]);
    c.tick(VOTING_MS);
    assert_eq!(status(&c, id), ProposalStatus::Rejected);
}

#[test]
fn threshold_exceeded_by_one_unit_passes() {
    let mut c = weighted(&[61, 39]);
    let id = propose_and_vote(&mut c, relayer_kind(1), false, 0, &[(1, Yes), (2, No)]);
    c.tick(VOTING_MS);
    assert!(matches!(status(&c, id), ProposalStatus::Passed { .. }));
}

#[test]
fn council_change_needs_more_than_two_thirds() {
    // 2 of 3 passes a normal proposal (2/3 > 3/5) but not a council change (needs > 2/3).
    let mut c = weighted(&[2, 1, 1]);
    let normal = propose_and_vote(&mut c, relayer_kind(1), false, 0, &[(1, Yes), (2, No)]);
    let council_change = propose_and_vote(
        &mut c,
        ProposalKind::ChangeWeight {
            org: org(3),
            weight: 1,
        },
        false,
        0,
        &[(1, Yes), (2, No)],
    );
    c.tick(VOTING_MS);
    assert!(matches!(status(&c, normal), ProposalStatus::Passed { .. }));
    assert_eq!(status(&c, council_change), ProposalStatus::Rejected);
    assert_eq!(
        required_threshold(c.params(), &c.proposal(council_change).unwrap().kind, false),
        Fraction::TWO_THIRDS
    );
}

#[test]
fn validator_change_needs_more_than_two_thirds() {
    let mut c = weighted(&[2, 1]);
    let id = propose_and_vote(
        &mut c,
        ProposalKind::ChangePower {
            pub_key: [0xf0; 32],
            power: 11,
        },
        false,
        0,
        &[(1, Yes), (2, No)],
    );
    c.tick(VOTING_MS);
    assert_eq!(status(&c, id), ProposalStatus::Rejected);
}

// ------------------------------------------------------------------ veto

#[test]
fn veto_exactly_at_one_third_does_not_veto() {
    // Veto 2 of 6 voting is exactly 1/3: not more than the veto share.
    let mut c = weighted(&[2, 1, 3]);
    let id = propose_and_vote(
        &mut c,
        relayer_kind(1),
        false,
        0,
        &[(1, Veto), (2, Yes), (3, Yes)],
    );
    c.tick(VOTING_MS);
    assert!(matches!(status(&c, id), ProposalStatus::Passed { .. }));
}

#[test]
fn veto_above_one_third_vetoes_and_burns_the_deposit() {
    // Veto 2 of 5 voting is more than 1/3, even though yes (3) would pass.
    let mut c = weighted(&[2, 1, 3]);
    let id = propose_and_vote(&mut c, relayer_kind(1), false, 0, &[(1, Veto), (3, Yes)]);
    let events = c.tick(VOTING_MS);
    assert_eq!(status(&c, id), ProposalStatus::Vetoed);
    assert_eq!(actions(&events), ["proposal_vetoed"]);
    assert!(c.proposal(id).unwrap().deposit_burned());
}

// ------------------------------------------------------------------ expiry, timelock

#[test]
fn expiry_happens_at_the_first_tick_at_or_after_the_end() {
    let mut c = weighted(&[1, 1]);
    let id = propose_and_vote(&mut c, relayer_kind(1), false, 0, &[]);
    assert!(c.tick(VOTING_MS - 1).is_empty());
    assert_eq!(status(&c, id), ProposalStatus::Voting);
    c.tick(VOTING_MS + 5);
    assert_eq!(status(&c, id), ProposalStatus::Expired);
}

#[test]
fn vote_at_or_after_the_end_is_closed() {
    let mut c = weighted(&[1, 1]);
    let id = propose_and_vote(&mut c, relayer_kind(1), false, 0, &[]);
    c.vote(&key(1), id, Yes, VOTING_MS - 1).unwrap();
    assert_eq!(
        c.vote(&key(2), id, Yes, VOTING_MS),
        Err(GovError::VotingClosed { id })
    );
}

#[test]
fn timelock_not_executed_before_executed_at() {
    let mut c = weighted(&[1, 1]);
    let id = propose_and_vote(&mut c, relayer_kind(9), false, 0, &[(1, Yes), (2, Yes)]);
    c.tick(VOTING_MS + 7);
    let at = VOTING_MS + 7 + TIMELOCK_MS;
    assert_eq!(
        status(&c, id),
        ProposalStatus::Passed { executes_at_ms: at }
    );
    assert!(c.tick(at - 1).is_empty());
    assert!(!c.is_relayer(&[9; 32]));
    let events = c.tick(at);
    assert_eq!(
        actions(&events),
        ["proposal_executed", "relayer_registered"]
    );
    assert_eq!(status(&c, id), ProposalStatus::Executed { at_ms: at });
    assert!(c.is_relayer(&[9; 32]));
}

#[test]
fn proposal_executes_exactly_once() {
    let mut c = weighted(&[1, 1]);
    let id = propose_and_vote(&mut c, relayer_kind(9), false, 0, &[(1, Yes), (2, Yes)]);
    let mut executed = 0;
    for t in (0..10).map(|i| VOTING_MS + i * TIMELOCK_MS) {
        executed += c
            .tick(t)
            .iter()
            .filter(|e| e.action == "proposal_executed" && e.proposal_id == Some(id))
            .count();
    }
    assert_eq!(executed, 1);
    assert_eq!(c.executed_ids(), [id]);
}

// ------------------------------------------------------------------ expedited

#[test]
fn expedited_closes_early_and_needs_the_expedited_threshold() {
    // 3 of 4 is exactly the expedited threshold 3/4: rejected; the same votes pass a
    // normal proposal (3/4 > 3/5).
    let mut c = weighted(&[3, 1]);
    let fast = propose_and_vote(&mut c, relayer_kind(1), true, 0, &[(1, Yes), (2, No)]);
    let normal = propose_and_vote(&mut c, relayer_kind(2), false, 0, &[(1, Yes), (2, No)]);
    assert_eq!(c.proposal(fast).unwrap().voting_ends_ms, EXPEDITED_MS);
    c.tick(EXPEDITED_MS);
    assert_eq!(status(&c, fast), ProposalStatus::Rejected);
    assert_eq!(status(&c, normal), ProposalStatus::Voting);
    c.tick(VOTING_MS);
    assert!(matches!(status(&c, normal), ProposalStatus::Passed { .. }));
}

#[test]
fn expedited_passes_above_its_threshold() {
    let mut c = weighted(&[4, 1]);
    let id = propose_and_vote(&mut c, relayer_kind(1), true, 0, &[(1, Yes), (2, No)]);
    c.tick(EXPEDITED_MS);
    assert!(matches!(status(&c, id), ProposalStatus::Passed { .. }));
    c.tick(EXPEDITED_MS + TIMELOCK_MS);
    assert!(c.is_relayer(&[1; 32]));
}

// ------------------------------------------------------------------ who may act

#[test]
fn proposing_and_voting_need_an_active_voting_member() {
    let mut c = council(&[(1, Role::Member), (1, Role::Observer), (1, Role::Member)]);
    let kind = relayer_kind(1);
    assert_eq!(
        c.propose(&key(0), kind.clone(), false, 10, 0),
        Err(GovError::NotAMember)
    );
    assert_eq!(
        c.propose(&key(2), kind.clone(), false, 10, 0),
        Err(GovError::ObserverCannotPropose)
    );
    assert_eq!(
        c.propose(&key(1), kind.clone(), false, 9, 0),
        Err(GovError::DepositTooLow { got: 9, need: 10 })
    );
    let bad = ProposalKind::ChangeWeight {
        org: org(1),
        weight: 0,
    };
    assert_eq!(
        c.propose(&key(1), bad, false, 10, 0).map_err(|e| e.name()),
        Err("invalid_proposal")
    );
    let (id, events) = c.propose(&key(1), kind, false, 10, 0).unwrap();
    assert_eq!(actions(&events), ["proposal_submitted"]);
    assert_eq!(events[0].signer, Some(org(1)));
    assert_eq!(c.proposal(id).unwrap().snapshot, [(org(1), 1), (org(3), 1)]);
    assert_eq!(
        c.vote(&key(2), id, Yes, 1),
        Err(GovError::ObserverCannotVote)
    );
    assert_eq!(c.vote(&key(0), id, Yes, 1), Err(GovError::NotAMember));
    assert_eq!(
        c.vote(&key(1), 99, Yes, 1),
        Err(GovError::UnknownProposal(99))
    );
    c.vote(&key(1), id, Yes, 1).unwrap();
    assert_eq!(c.vote(&key(1), id, No, 2), Err(GovError::DuplicateVote));
}

#[test]
fn member_added_after_submission_is_not_eligible() {
    let mut c = weighted(&[1, 1]);
    let add = propose_and_vote(
        &mut c,
        ProposalKind::AddMember {
            org: org(7),
            name: "Late".into(),
            weight: 1,
            role: Role::Member,
            keys: vec![key(7)],
        },
        false,
        0,
        &[(1, Yes), (2, Yes)],
    );
    let later = propose_and_vote(&mut c, relayer_kind(1), false, 500, &[]);
    c.tick(VOTING_MS);
    c.tick(VOTING_MS + TIMELOCK_MS);
    assert!(matches!(status(&c, add), ProposalStatus::Executed { .. }));
    assert_eq!(
        c.vote(&key(7), later, Yes, 1_100),
        Err(GovError::NotEligible)
    );
    assert!(c.vote(&key(1), later, Yes, 1_100).is_ok());
}

#[test]
fn too_many_active_proposals_is_refused() {
    let mut c = weighted(&[1]);
    for b in 0..4 {
        c.propose(&key(1), relayer_kind(b), false, 10, 0).unwrap();
    }
    assert_eq!(
        c.propose(&key(1), relayer_kind(9), false, 10, 0),
        Err(GovError::TooManyActiveProposals { max: 4 })
    );
    c.tick(VOTING_MS);
    assert!(c
        .propose(&key(1), relayer_kind(9), false, 10, VOTING_MS)
        .is_ok());
}

// ------------------------------------------------------------------ suspension

#[test]
fn suspended_member_earlier_vote_stops_counting() {
    let mut c = weighted(&[1, 1, 1]);
    // Suspend org-2 (all three agree).
    let suspend = propose_and_vote(
        &mut c,
        ProposalKind::SuspendMember { org: org(2) },
        false,
        0,
        &[(1, Yes), (2, Yes), (3, Yes)],
    );
    // Meanwhile org-1 and org-2 vote yes on another proposal.
    let other = propose_and_vote(&mut c, relayer_kind(4), false, 500, &[(1, Yes), (2, Yes)]);
    assert_eq!(c.tally(other).unwrap().yes, 2);
    c.tick(VOTING_MS);
    c.tick(VOTING_MS + TIMELOCK_MS);
    assert!(matches!(
        status(&c, suspend),
        ProposalStatus::Executed { .. }
    ));
    assert_eq!(c.member(&org(2)).unwrap().status, MemberStatus::Suspended);
    // org-2's yes no longer counts: 1 of 3 voted, below quorum.
    assert_eq!(
        c.tally(other).unwrap(),
        Tally {
            yes: 1,
            no: 0,
            abstain: 0,
            veto: 0,
            total_snapshot: 3
        }
    );
    c.tick(500 + VOTING_MS);
    assert_eq!(status(&c, other), ProposalStatus::Expired);
    // A suspended member can no longer act.
    assert_eq!(
        c.propose(&key(2), relayer_kind(5), false, 10, 2_000),
        Err(GovError::MemberNotActive {
            status: MemberStatus::Suspended
        })
    );
}

#[test]
fn suspended_member_is_readmitted_by_add_member() {
    let mut c = weighted(&[1, 1, 1]);
    propose_and_vote(
        &mut c,
        ProposalKind::SuspendMember { org: org(3) },
        false,
        0,
        &[(1, Yes), (2, Yes)],
    );
    c.tick(VOTING_MS);
    c.tick(VOTING_MS + TIMELOCK_MS);
    let id = propose_and_vote(
        &mut c,
        ProposalKind::AddMember {
            org: org(3),
            name: "Back".into(),
            weight: 2,
            role: Role::Member,
            keys: vec![key(33)],
        },
        false,
        2_000,
        &[(1, Yes), (2, Yes)],
    );
    c.tick(3_000);
    let events = c.tick(3_000 + TIMELOCK_MS);
    assert!(
        actions(&events).contains(&"member_readmitted"),
        "{events:?}"
    );
    let m = c.member(&org(3)).unwrap();
    assert_eq!((m.status, m.weight), (MemberStatus::Active, 2));
    assert_eq!(c.member_of_key(&key(33)).unwrap().org, org(3));
    assert!(c.member_of_key(&key(3)).is_none());
    assert!(matches!(status(&c, id), ProposalStatus::Executed { .. }));
}

#[test]
fn suspending_the_last_active_member_fails() {
    let mut c = weighted(&[1]);
    let id = propose_and_vote(
        &mut c,
        ProposalKind::SuspendMember { org: org(1) },
        false,
        0,
        &[(1, Yes)],
    );
    c.tick(VOTING_MS);
    let events = c.tick(VOTING_MS + TIMELOCK_MS);
    assert_eq!(actions(&events), ["proposal_failed"]);
    assert!(matches!(status(&c, id), ProposalStatus::Failed { .. }));
    assert_eq!(c.member(&org(1)).unwrap().status, MemberStatus::Active);
    assert!(c.check_invariants().is_ok());
}

#[test]
fn key_reset_moves_signing_rights() {
    let mut c = weighted(&[1, 1]);
    propose_and_vote(
        &mut c,
        ProposalKind::ResetMemberKey {
            org: org(2),
            keys: vec![key(22)],
        },
        false,
        0,
        &[(1, Yes), (2, Yes)],
    );
    c.tick(VOTING_MS);
    c.tick(VOTING_MS + TIMELOCK_MS);
    assert_eq!(
        c.propose(&key(2), relayer_kind(1), false, 10, 2_000),
        Err(GovError::NotAMember)
    );
    assert!(c
        .propose(&key(22), relayer_kind(1), false, 10, 2_000)
        .is_ok());
}

#[test]
fn key_held_by_another_member_fails_the_reset() {
    let mut c = weighted(&[1, 1]);
    let id = propose_and_vote(
        &mut c,
        ProposalKind::ResetMemberKey {
            org: org(2),
            keys: vec![key(1)],
        },
        false,
        0,
        &[(1, Yes), (2, Yes)],
    );
    c.tick(VOTING_MS);
    c.tick(VOTING_MS + TIMELOCK_MS);
    assert!(matches!(status(&c, id), ProposalStatus::Failed { .. }));
    assert_eq!(c.member_of_key(&key(1)).unwrap().org, org(1));
}

// ------------------------------------------------------------------ validators

#[test]
fn validator_change_moving_a_third_of_power_fails() {
    // Total power 40: adding 13 moves 39 < 40 * 1/3 * 3; adding 14 moves 42 >= 40.
    let mut c = weighted(&[1]);
    let ok = propose_and_vote(
        &mut c,
        ProposalKind::AddValidator {
            pub_key: [1; 32],
            power: 13,
            attestation_address: [1; 20],
        },
        false,
        0,
        &[(1, Yes)],
    );
    let too_much = propose_and_vote(
        &mut c,
        ProposalKind::AddValidator {
            pub_key: [2; 32],
            power: 14,
            attestation_address: [2; 20],
        },
        false,
        0,
        &[(1, Yes)],
    );
    c.tick(VOTING_MS);
    c.tick(VOTING_MS + TIMELOCK_MS);
    assert!(matches!(status(&c, ok), ProposalStatus::Executed { .. }));
    // The second is judged against the set after the first: 53 total, 14 * 3 = 42 < 53.
    assert!(matches!(
        status(&c, too_much),
        ProposalStatus::Executed { .. }
    ));

    let mut c = weighted(&[1]);
    let id = propose_and_vote(
        &mut c,
        ProposalKind::AddValidator {
            pub_key: [2; 32],
            power: 14,
            attestation_address: [2; 20],
        },
        false,
        0,
        &[(1, Yes)],
    );
    c.tick(VOTING_MS);
    let events = c.tick(VOTING_MS + TIMELOCK_MS);
    assert_eq!(actions(&events), ["proposal_failed"]);
    assert!(matches!(status(&c, id), ProposalStatus::Failed { .. }));
    assert_eq!(c.validators(), validators().as_slice());
}

/// Each validator signs checkpoints with its own attestation key: a second validator
/// under an address already in the set would let one key count twice in the gateways'
/// sets (which refuse duplicates, so the set could not even be handed over).
#[test]
fn a_validator_under_an_attestation_address_already_in_the_set_is_refused() {
    let mut c = weighted(&[1]);
    let taken = validators()[0].attestation_address;
    let id = propose_and_vote(
        &mut c,
        ProposalKind::AddValidator {
            pub_key: [0x01; 32],
            power: 5,
            attestation_address: taken,
        },
        false,
        0,
        &[(1, Yes)],
    );
    c.tick(VOTING_MS);
    let events = c.tick(VOTING_MS + TIMELOCK_MS);
    assert_eq!(actions(&events), ["proposal_failed"]);
    assert!(matches!(status(&c, id), ProposalStatus::Failed { .. }));
    assert_eq!(c.validators(), validators().as_slice());
}

/// A validator moves to new keys with a transaction its current consensus key signs: the
/// same power under the new keys, in key order; a key or address another validator holds,
/// a signer that is no validator, and a move of a third of the power are refused by name.
#[test]
fn a_validator_rotates_its_keys_with_its_consensus_key() {
    let mut c = weighted(&[1]);
    let old = validators()[1];
    assert!(c.known_accounts().contains(&old.pub_key));
    let refused = |c: &mut Council, signer: [u8; 32], key: [u8; 32], address: [u8; 20]| {
        c.rotate_validator_keys(&signer, &key, &address)
            .unwrap_err()
            .name()
    };
    assert_eq!(
        refused(&mut c, [0x01; 32], [0x02; 32], [0x02; 20]),
        "not_a_validator"
    );
    let other = validators()[2];
    assert_eq!(
        refused(&mut c, old.pub_key, other.pub_key, [0x02; 20]),
        "key_in_use"
    );
    assert_eq!(
        refused(&mut c, old.pub_key, [0x02; 32], other.attestation_address),
        "key_in_use"
    );
    let events = c
        .rotate_validator_keys(&old.pub_key, &[0x02; 32], &[0x02; 20])
        .unwrap();
    assert_eq!(actions(&events), ["validator_keys_rotated"]);
    let keys: Vec<u8> = c.validators().iter().map(|v| v.pub_key[0]).collect();
    assert_eq!(keys, [0x02, 0xf0, 0xf2, 0xf3]);
    assert_eq!(c.validators()[0].power, old.power);
    assert_eq!(c.validators()[0].attestation_address, [0x02; 20]);
    assert!(!c.known_accounts().contains(&old.pub_key));

    // Of two equal validators, one holds half the power: it cannot move at once.
    let two: Vec<_> = validators().into_iter().take(2).collect();
    let mut g = Council::genesis(GovGenesis {
        members: vec![Member {
            org: org(1),
            name: "Org 1".into(),
            weight: 1,
            role: Role::Member,
            status: MemberStatus::Active,
            keys: vec![key(1)],
        }],
        params: params(),
        floors: floors(),
        chains: vec![],
        routes: vec![],
        validators: two.clone(),
        relayers: vec![],
        accounts: vec![],
    })
    .unwrap();
    assert_eq!(
        refused(&mut g, two[0].pub_key, [0x03; 32], [0x03; 20]),
        "validator_change_too_large"
    );
}

#[test]
fn validator_set_changes_by_vote_and_stays_sorted() {
    let mut c = weighted(&[1]);
    propose_and_vote(
        &mut c,
        ProposalKind::RemoveValidator {
            pub_key: [0xf1; 32],
        },
        false,
        0,
        &[(1, Yes)],
    );
    propose_and_vote(
        &mut c,
        ProposalKind::AddValidator {
            pub_key: [0x01; 32],
            power: 5,
            attestation_address: [0x01; 20],
        },
        false,
        0,
        &[(1, Yes)],
    );
    c.tick(VOTING_MS);
    c.tick(VOTING_MS + TIMELOCK_MS);
    let keys: Vec<u8> = c.validators().iter().map(|v| v.pub_key[0]).collect();
    assert_eq!(keys, [0x01, 0xf0, 0xf2, 0xf3]);
}

// ------------------------------------------------------------------ emergency brake

#[test]
fn emergency_pause_by_exactly_one_third_of_weight_takes_effect() {
    // Total 6: a signer of weight 2 is exactly 1/3.
    let mut c = weighted(&[2, 2, 2]);
    let events = c.emergency_pause(&key(1), &route_id("a-to-b"), 0).unwrap();
    assert_eq!(
        actions(&events),
        ["emergency_pause_signed", "emergency_pause"]
    );
    assert_eq!(
        c.route(&route_id("a-to-b")).unwrap().state,
        RouteState::Paused
    );
}

#[test]
fn emergency_pause_just_below_one_third_waits_for_more_signers() {
    // Total 7: weight 2 is below 1/3 (6 < 7); a second signer brings it to 4 (12 >= 7).
    let mut c = weighted(&[2, 2, 3]);
    let r = route_id("a-to-b");
    let events = c.emergency_pause(&key(1), &r, 0).unwrap();
    assert_eq!(actions(&events), ["emergency_pause_signed"]);
    assert_eq!(c.route(&r).unwrap().state, RouteState::Open);
    assert_eq!(c.pending_pause_signatures(&r).len(), 1);
    assert_eq!(
        c.emergency_pause(&key(1), &r, 1),
        Err(GovError::DuplicateEmergencySignature)
    );
    let events = c.emergency_pause(&key(2), &r, 2).unwrap();
    assert_eq!(
        actions(&events),
        ["emergency_pause_signed", "emergency_pause"]
    );
    assert_eq!(c.route(&r).unwrap().state, RouteState::Paused);
    assert!(c.pending_pause_signatures(&r).is_empty());
}

#[test]
fn emergency_signatures_lapse_after_a_voting_period() {
    let mut c = weighted(&[2, 2, 3]);
    let r = route_id("a-to-b");
    c.emergency_pause(&key(1), &r, 0).unwrap();
    c.tick(VOTING_MS);
    assert!(c.pending_pause_signatures(&r).is_empty());
    c.emergency_pause(&key(2), &r, VOTING_MS).unwrap();
    assert_eq!(c.route(&r).unwrap().state, RouteState::Open);
}

#[test]
fn emergency_pause_by_a_regulator_alone() {
    let mut c = council(&[
        (10, Role::Member),
        (1, Role::Regulator),
        (1, Role::Observer),
    ]);
    let r = route_id("a-to-b");
    assert_eq!(
        c.emergency_pause(&key(3), &r, 0),
        Err(GovError::ObserverCannotSignEmergency)
    );
    let events = c.emergency_pause(&key(2), &r, 0).unwrap();
    assert_eq!(
        actions(&events),
        ["emergency_pause_signed", "emergency_pause"]
    );
    assert_eq!(events[1].signer, Some(org(2)));
    assert_eq!(c.route(&r).unwrap().state, RouteState::Paused);
}

#[test]
fn resume_needs_a_passed_proposal() {
    let mut c = weighted(&[1, 1, 1]);
    let r = route_id("a-to-b");
    c.emergency_pause(&key(1), &r, 0).unwrap();
    // Signing again does not resume, it says the route is already paused.
    assert_eq!(
        c.emergency_pause(&key(2), &r, 1),
        Err(GovError::AlreadyPaused)
    );
    assert_eq!(
        c.check_packet(&r, &packet(10), &ctx(1)),
        Err(PolicyRejection::RoutePaused)
    );
    // A resume proposal that does not pass leaves the route paused.
    let rejected = propose_and_vote(
        &mut c,
        ProposalKind::ResumeRoute { route: r.clone() },
        false,
        10,
        &[(1, Yes), (2, No), (3, No)],
    );
    c.tick(10 + VOTING_MS + TIMELOCK_MS);
    assert_eq!(status(&c, rejected), ProposalStatus::Rejected);
    assert_eq!(c.route(&r).unwrap().state, RouteState::Paused);
    // A passed one resumes it after the timelock.
    let t = 2_000;
    let resume = propose_and_vote(
        &mut c,
        ProposalKind::ResumeRoute { route: r.clone() },
        false,
        t,
        &[(1, Yes), (2, Yes)],
    );
    c.tick(t + VOTING_MS);
    assert_eq!(c.route(&r).unwrap().state, RouteState::Paused);
    let events = c.tick(t + VOTING_MS + TIMELOCK_MS);
    assert_eq!(actions(&events), ["proposal_executed", "route_resumed"]);
    assert!(matches!(
        status(&c, resume),
        ProposalStatus::Executed { .. }
    ));
    assert_eq!(c.route(&r).unwrap().state, RouteState::Open);
    assert_eq!(c.check_packet(&r, &packet(10), &ctx(t + 2_000)), Ok(()));
}

#[test]
fn emergency_freeze_and_recover_by_vote() {
    let mut c = council(&[(3, Role::Member), (1, Role::Regulator)]);
    let a = chain("chain-a");
    assert_eq!(
        c.emergency_freeze(&key(1), &chain("chain-z"), 0),
        Err(GovError::UnknownChain)
    );
    let events = c.emergency_freeze(&key(2), &a, 0).unwrap();
    assert_eq!(
        actions(&events),
        ["emergency_freeze_signed", "emergency_freeze"]
    );
    assert!(c.chain(&a).unwrap().frozen);
    assert_eq!(
        c.emergency_freeze(&key(1), &a, 1),
        Err(GovError::AlreadyFrozen)
    );
    let r = route_id("a-to-b");
    assert_eq!(
        c.check_packet(&r, &packet(10), &ctx(1)),
        Err(PolicyRejection::ClientFrozen)
    );
    propose_and_vote(
        &mut c,
        ProposalKind::RecoverClient { chain: a.clone() },
        false,
        0,
        &[(1, Yes), (2, Yes)],
    );
    c.tick(VOTING_MS);
    let events = c.tick(VOTING_MS + TIMELOCK_MS);
    assert_eq!(actions(&events), ["proposal_executed", "client_recovered"]);
    assert!(!c.chain(&a).unwrap().frozen);
}

#[test]
fn emergency_actions_on_unknown_or_closed_routes_are_refused() {
    let mut c = weighted(&[1, 1]);
    assert_eq!(
        c.emergency_pause(&key(1), &route_id("nope"), 0),
        Err(GovError::UnknownRoute)
    );
    let r = route_id("a-to-b");
    propose_and_vote(
        &mut c,
        ProposalKind::CloseRoute { route: r.clone() },
        false,
        0,
        &[(1, Yes), (2, Yes)],
    );
    c.tick(VOTING_MS);
    c.tick(VOTING_MS + TIMELOCK_MS);
    assert_eq!(
        c.emergency_pause(&key(1), &r, 2_000),
        Err(GovError::RouteClosed)
    );
}

// ------------------------------------------------------------------ genesis, params

#[test]
fn genesis_refuses_broken_states() {
    let member = |o: u8, k: u8| Member {
        org: org(o),
        name: "x".into(),
        weight: 1,
        role: Role::Member,
        status: MemberStatus::Active,
        keys: vec![key(k)],
    };
    let base = GovGenesis {
        members: vec![member(1, 1)],
        params: params(),
        floors: floors(),
        chains: vec![registration("chain-a"), registration("chain-b")],
        routes: vec![(route_id("a-to-b"), policy())],
        validators: validators(),
        relayers: vec![],
        accounts: vec![],
    };
    assert!(Council::genesis(base.clone()).is_ok());

    let mut g = base.clone();
    g.validators.clear();
    assert_eq!(
        Council::genesis(g),
        Err(GovError::Invariant(InvariantViolation::EmptyValidatorSet))
    );
    let mut g = base.clone();
    g.members[0].status = MemberStatus::Suspended;
    assert_eq!(
        Council::genesis(g),
        Err(GovError::Invariant(InvariantViolation::EmptyCouncil))
    );
    let mut g = base.clone();
    g.members.push(member(1, 2));
    assert_eq!(
        Council::genesis(g),
        Err(GovError::DuplicateGenesisEntry { what: "member" })
    );
    let mut g = base.clone();
    g.members.push(member(2, 1));
    assert_eq!(
        Council::genesis(g).map_err(|e| e.name()),
        Err("invariant_violation")
    );
    let mut g = base.clone();
    g.params.threshold = Fraction::new(1, 2);
    assert_eq!(
        Council::genesis(g).map_err(|e| e.name()),
        Err("invalid_genesis")
    );
    let mut g = base.clone();
    g.chains.pop();
    assert_eq!(Council::genesis(g), Err(GovError::GenesisRouteChainUnknown));
    let mut g = base;
    g.validators[0].power = 0;
    assert_eq!(
        Council::genesis(g).map_err(|e| e.name()),
        Err("invalid_genesis")
    );
}

#[test]
fn set_params_applies_to_later_tallies() {
    let mut c = weighted(&[1, 1]);
    let mut p = params();
    p.quorum = Fraction::new(1, 1);
    propose_and_vote(
        &mut c,
        ProposalKind::SetParams(p.clone()),
        false,
        0,
        &[(1, Yes), (2, Yes)],
    );
    c.tick(VOTING_MS);
    let events = c.tick(VOTING_MS + TIMELOCK_MS);
    assert_eq!(actions(&events), ["proposal_executed", "params_set"]);
    assert_eq!(c.params(), &p);
    // Now one of two voting is below the full quorum.
    let id = propose_and_vote(&mut c, relayer_kind(1), false, 2_000, &[(1, Yes)]);
    c.tick(2_000 + VOTING_MS);
    assert_eq!(status(&c, id), ProposalStatus::Expired);
}

#[test]
fn relayer_penalties_and_upgrades_are_recorded() {
    let mut c = weighted(&[1]);
    propose_and_vote(
        &mut c,
        ProposalKind::PenalizeRelayer {
            account: [0xee; 32],
            amount: 7,
        },
        false,
        0,
        &[(1, Yes)],
    );
    let unknown = propose_and_vote(
        &mut c,
        ProposalKind::PenalizeRelayer {
            account: [0xed; 32],
            amount: 7,
        },
        false,
        0,
        &[(1, Yes)],
    );
    propose_and_vote(
        &mut c,
        ProposalKind::ScheduleUpgrade {
            name: "v2".into(),
            height: 500,
        },
        false,
        0,
        &[(1, Yes)],
    );
    c.tick(VOTING_MS);
    c.tick(VOTING_MS + TIMELOCK_MS);
    assert_eq!(c.penalty_of(&[0xee; 32]), 7);
    assert!(matches!(status(&c, unknown), ProposalStatus::Failed { .. }));
    let up = c.scheduled_upgrade().unwrap();
    assert_eq!((up.name.as_str(), up.height), ("v2", 500));
}

#[test]
fn apply_drives_the_same_transitions() {
    let mut a = weighted(&[1, 1]);
    let mut b = a.clone();
    let id = propose_and_vote(&mut a, relayer_kind(3), false, 0, &[(1, Yes), (2, Yes)]);
    a.tick(VOTING_MS);
    let inputs = [
        GovInput::Propose {
            signer: key(1),
            kind: Box::new(relayer_kind(3)),
            expedited: false,
            deposit: 10,
        },
        GovInput::Vote {
            signer: key(1),
            id,
            option: Yes,
        },
        GovInput::Vote {
            signer: key(2),
            id,
            option: Yes,
        },
    ];
    for input in inputs {
        b.apply(input, 0).unwrap();
    }
    b.apply(GovInput::Tick, VOTING_MS).unwrap();
    assert_eq!(a, b);
}

// ------------------------------------------------------------------ state encoding

#[test]
fn council_encoding_round_trips_and_rejects_trailing_bytes() {
    let mut c = council(&[(1, Role::Member), (3, Role::Regulator), (1, Role::Observer)]);
    propose_and_vote(&mut c, relayer_kind(3), false, 0, &[(1, Yes), (2, No)]);
    c.emergency_pause(&key(1), &route_id("a-to-b"), 0).unwrap();
    assert_eq!(c.pending_pause_signatures(&route_id("a-to-b")).len(), 1);
    let bytes = c.to_bytes();
    assert_eq!(Council::from_bytes(&bytes).unwrap(), c);
    let mut longer = bytes.clone();
    longer.push(0);
    assert_eq!(
        Council::from_bytes(&longer),
        Err(DecodeError::TrailingBytes { remaining: 1 })
    );
    for cut in 0..bytes.len() {
        assert!(Council::from_bytes(&bytes[..cut]).is_err(), "prefix {cut}");
    }
    let mut wrong_version = bytes;
    wrong_version[0] = COUNCIL_STATE_VERSION + 1;
    assert!(matches!(
        Council::from_bytes(&wrong_version),
        Err(DecodeError::InvalidTag { .. })
    ));
}

#[test]
fn bench_samples_are_valid() {
    for n in [1, 7, 100] {
        let c = bench::sample_council(n);
        assert_eq!(c.members().len(), n);
        assert!(c.check_invariants().is_ok());
        let (route, packet, ctx) = bench::sample_packet();
        assert_eq!(c.check_packet(&route, &packet, &ctx), Ok(()));
        let (c, id) = bench::proposal_with_votes(n);
        let t = c.tally(id).unwrap();
        assert_eq!(t.voted(), n as u64);
        assert_eq!(t.total_snapshot, n as u64);
    }
}

// ------------------------------------------------------------------ attacks on the council

/// The council takeover (spec/security.md): a bare majority passes `SetParams` with a tiny
/// quorum, no veto, 1 ms votes and no timelock, then adds a member of huge weight with its
/// own votes alone. Parameters need more than 2/3 and cannot cross the genesis bounds, so
/// the sequence ends with the council unchanged.
#[test]
fn majority_cannot_vote_away_the_council_rules() {
    // Weights 3, 1, 1: member 1 holds 3/5 of the weight (a majority, less than 2/3).
    let mut c = weighted(&[3, 1, 1]);
    let before = c.clone();
    let takeover = GovParams {
        quorum: Fraction::new(1, 1_000_000_000_000),
        veto: Fraction::ONE,
        voting_period_ms: 1,
        expedited_voting_period_ms: 1,
        timelock_ms: 0,
        ..params()
    };
    // The attack's parameters cross the genesis bounds: refused at proposal, by name.
    let e = c
        .propose(
            &key(1),
            ProposalKind::SetParams(takeover.clone()),
            false,
            10,
            0,
        )
        .unwrap_err();
    assert_eq!(e.name(), "invalid_proposal");
    assert!(matches!(
        e,
        GovError::InvalidProposal(ParamsError::OutOfGenesisBounds { .. })
    ));
    // Parameters inside the bounds but shortening the vote still need more than 2/3:
    // the majority alone does not pass them.
    let mut shorter = params();
    shorter.voting_period_ms = 2;
    shorter.expedited_voting_period_ms = 1;
    let id = propose_and_vote(
        &mut c,
        ProposalKind::SetParams(shorter),
        false,
        0,
        &[(1, Yes), (2, No), (3, No)],
    );
    c.tick(VOTING_MS);
    assert_eq!(status(&c, id), ProposalStatus::Rejected);
    assert_eq!(
        required_threshold(c.params(), &c.proposal(id).unwrap().kind, false),
        Fraction::TWO_THIRDS
    );
    // The second step: a member of huge weight. The vote lasts the full period (no
    // parameter change shortened it), so the others get to vote against it.
    let id = propose_and_vote(
        &mut c,
        ProposalKind::AddMember {
            org: org(9),
            name: "Mallory".into(),
            weight: MAX_WEIGHT,
            role: Role::Member,
            keys: vec![key(9)],
        },
        false,
        VOTING_MS,
        &[(1, Yes), (2, No), (3, No)],
    );
    c.tick(2 * VOTING_MS);
    c.tick(2 * VOTING_MS + TIMELOCK_MS);
    assert_eq!(status(&c, id), ProposalStatus::Rejected);
    assert_eq!(c.params(), before.params());
    assert_eq!(c.members(), before.members());
    assert!(c.member(&org(9)).is_none());
}

/// A `SetParams` that a vote passed is checked against the genesis bounds again when it
/// executes, and the bounds themselves can never change.
#[test]
fn parameters_stay_within_the_genesis_bounds() {
    let mut c = weighted(&[1, 1]);
    let genesis_floors = *c.floors();
    for bad in [
        GovParams {
            quorum: Fraction::new(1, 4),
            ..params()
        },
        GovParams {
            veto: Fraction::new(2, 3),
            ..params()
        },
    ] {
        let e = c
            .propose(&key(1), ProposalKind::SetParams(bad), false, 10, 0)
            .unwrap_err();
        assert_eq!(e.name(), "invalid_proposal", "{e}");
    }
    let ok = GovParams {
        quorum: Fraction::new(1, 3),
        veto: Fraction::new(1, 2),
        ..params()
    };
    propose_and_vote(
        &mut c,
        ProposalKind::SetParams(ok.clone()),
        false,
        0,
        &[(1, Yes), (2, Yes)],
    );
    c.tick(VOTING_MS);
    c.tick(VOTING_MS + TIMELOCK_MS);
    assert_eq!(c.params(), &ok);
    assert_eq!(c.floors(), &genesis_floors);
    // Genesis itself refuses bounds weaker than the protocol's.
    let mut g = GovGenesis {
        members: c.members().to_vec(),
        params: params(),
        floors: floors(),
        chains: vec![],
        routes: vec![],
        validators: validators(),
        relayers: vec![],
        accounts: vec![],
    };
    g.floors.min_quorum = Fraction::new(1, 4);
    assert_eq!(
        Council::genesis(g.clone()).map_err(|e| e.name()),
        Err("invalid_genesis")
    );
    g.floors = floors();
    g.params.quorum = Fraction::new(1, 4);
    assert_eq!(
        Council::genesis(g).map_err(|e| e.name()),
        Err("invalid_genesis")
    );
}

/// Ordering is a property of a (source chain, source app, destination chain) space: a
/// route over a space another route (open, paused or closed) orders the other way is
/// refused at proposal, and again at execution if the other was opened meanwhile.
#[test]
fn a_route_that_gives_a_space_a_second_ordering_is_refused() {
    let mut c = weighted(&[1, 1]);
    let mut ordered = policy();
    ordered.ordered = true;
    // Same chains, overlapping source apps, other ordering than route a-to-b.
    ordered.source_apps = vec![b"app".to_vec(), b"other".to_vec()];
    let e = c
        .propose(
            &key(1),
            ProposalKind::OpenRoute {
                route: route_id("a-to-b-2"),
                policy: ordered.clone(),
            },
            false,
            10,
            0,
        )
        .unwrap_err();
    assert_eq!(e.name(), "ordering_conflict");
    // Disjoint apps: another space, any ordering.
    let mut disjoint = ordered.clone();
    disjoint.source_apps = vec![b"other".to_vec()];
    let first = propose_and_vote(
        &mut c,
        ProposalKind::OpenRoute {
            route: route_id("a-to-b-2"),
            policy: disjoint.clone(),
        },
        false,
        0,
        &[(1, Yes), (2, Yes)],
    );
    // An unordered route over "other", proposed while the ordered one is still voting:
    // it passes the proposal check, and fails at execution.
    let mut unordered_other = policy();
    unordered_other.source_apps = vec![b"other".to_vec()];
    let second = propose_and_vote(
        &mut c,
        ProposalKind::OpenRoute {
            route: route_id("a-to-b-3"),
            policy: unordered_other.clone(),
        },
        false,
        0,
        &[(1, Yes), (2, Yes)],
    );
    c.tick(VOTING_MS);
    c.tick(VOTING_MS + TIMELOCK_MS);
    assert!(matches!(status(&c, first), ProposalStatus::Executed { .. }));
    match status(&c, second) {
        ProposalStatus::Failed { reason } => assert!(reason.contains("other way"), "{reason}"),
        s => panic!("expected a failed proposal, got {s:?}"),
    }
    // Closing the ordered route does not free its space for the other ordering.
    let close = propose_and_vote(
        &mut c,
        ProposalKind::CloseRoute {
            route: route_id("a-to-b-2"),
        },
        false,
        VOTING_MS + TIMELOCK_MS,
        &[(1, Yes), (2, Yes)],
    );
    c.tick(2 * VOTING_MS + TIMELOCK_MS);
    c.tick(2 * VOTING_MS + 2 * TIMELOCK_MS);
    assert!(matches!(status(&c, close), ProposalStatus::Executed { .. }));
    let e = c
        .propose(
            &key(1),
            ProposalKind::OpenRoute {
                route: route_id("a-to-b-4"),
                policy: unordered_other,
            },
            false,
            10,
            2 * VOTING_MS + 2 * TIMELOCK_MS,
        )
        .unwrap_err();
    assert_eq!(e.name(), "ordering_conflict");
    // Nor may an update add an app of that space to a route of the other ordering.
    let mut widened = policy();
    widened.source_apps.push(b"other".to_vec());
    let e = c
        .propose(
            &key(1),
            ProposalKind::UpdateRoute {
                route: route_id("a-to-b"),
                policy: widened,
            },
            false,
            10,
            2 * VOTING_MS + 2 * TIMELOCK_MS,
        )
        .unwrap_err();
    assert_eq!(e.name(), "ordering_conflict");
    c.check_invariants().unwrap();
}

#[test]
fn a_route_gas_cap_above_the_council_ceiling_is_refused() {
    let mut c = weighted(&[1, 1]);
    let mut p = policy();
    p.max_gas_limit = params().max_route_gas_limit + 1;
    let e = c
        .propose(
            &key(1),
            ProposalKind::OpenRoute {
                route: route_id("a-to-b-2"),
                policy: p,
            },
            false,
            10,
            0,
        )
        .unwrap_err();
    assert!(matches!(
        e,
        GovError::InvalidProposal(ParamsError::GasLimitOverCap { .. })
    ));
}

/// `ReplaceClient` swaps a chain's parameters and trust root (e.g. a new attester set),
/// recovers a frozen client, keeps the chain's routes, and needs more than 2/3.
#[test]
fn replace_client_swaps_the_trust_root_and_recovers_the_client() {
    let mut c = weighted(&[2, 1]);
    c.emergency_freeze(&key(1), &chain("chain-a"), 0).unwrap();
    assert!(c.chain(&chain("chain-a")).unwrap().frozen);
    let mut params_a = registration("chain-a").params;
    params_a.trusting_period_ms = 7;
    let kind = ProposalKind::ReplaceClient {
        chain: chain("chain-a"),
        params: params_a.clone(),
        trust_root: vec![9; 40],
    };
    // 2 of 3 is not more than 2/3.
    let id = propose_and_vote(&mut c, kind.clone(), false, 0, &[(1, Yes), (2, No)]);
    c.tick(VOTING_MS);
    assert_eq!(status(&c, id), ProposalStatus::Rejected);
    let id = propose_and_vote(&mut c, kind, false, VOTING_MS, &[(1, Yes), (2, Yes)]);
    c.tick(2 * VOTING_MS);
    let events = c.tick(2 * VOTING_MS + TIMELOCK_MS);
    assert!(matches!(status(&c, id), ProposalStatus::Executed { .. }));
    assert!(actions(&events).contains(&"client_replaced"));
    let a = c.chain(&chain("chain-a")).unwrap();
    assert!(!a.frozen);
    assert_eq!(a.registration.trust_root, vec![9; 40]);
    assert_eq!(a.registration.params, params_a);
    assert_eq!(a.registration.kind, registration("chain-a").kind);
    assert!(c.route(&route_id("a-to-b")).is_some());
    // An unknown chain cannot be replaced.
    let e = c
        .propose(
            &key(1),
            ProposalKind::ReplaceClient {
                chain: chain("chain-z"),
                params: params_a,
                trust_root: vec![9; 40],
            },
            false,
            10,
            3 * VOTING_MS,
        )
        .unwrap_err();
    assert_eq!(e.name(), "unknown_chain");
}

/// The hub's client check runs at proposal and again at execution.
#[test]
fn a_registration_the_hub_cannot_start_is_refused_at_proposal_and_execution() {
    struct Refuse(bool);
    impl ClientCheck for Refuse {
        fn check(
            &self,
            next: &ChainRegistration,
            _: Option<&ChainRegistration>,
        ) -> Result<(), String> {
            if self.0 {
                Err(format!("no client for {}", next.chain_id))
            } else {
                Ok(())
            }
        }
    }
    let mut c = weighted(&[1, 1]);
    let kind = ProposalKind::RegisterChain(registration("chain-c"));
    let e = c
        .propose_with(&key(1), kind.clone(), false, 10, 0, &Refuse(true))
        .unwrap_err();
    assert_eq!(e.name(), "client_refused");
    let (id, _) = c
        .propose_with(&key(1), kind, false, 10, 0, &Refuse(false))
        .unwrap();
    for who in [1, 2] {
        c.vote(&key(who), id, Yes, 0).unwrap();
    }
    c.tick_with(VOTING_MS, &Refuse(true));
    c.tick_with(VOTING_MS + TIMELOCK_MS, &Refuse(true));
    assert!(matches!(status(&c, id), ProposalStatus::Failed { .. }));
    assert!(c.chain(&chain("chain-c")).is_none());
}

/// Only accounts the council knows may submit: members (not exited), registered relayers
/// and accounts admitted by vote.
#[test]
fn accounts_are_admitted_and_removed_by_vote() {
    let mut c = weighted(&[1, 1]);
    assert!(c.is_known_account(&key(1)));
    assert!(c.is_known_account(&[0xee; 32]), "the relayer");
    assert!(!c.is_known_account(&[0x55; 32]));
    propose_and_vote(
        &mut c,
        ProposalKind::AdmitAccount {
            account: [0x55; 32],
        },
        false,
        0,
        &[(1, Yes), (2, Yes)],
    );
    c.tick(VOTING_MS);
    c.tick(VOTING_MS + TIMELOCK_MS);
    assert!(c.is_known_account(&[0x55; 32]));
    assert_eq!(c.known_accounts().len(), 4 + validators().len());
    let id = propose_and_vote(
        &mut c,
        ProposalKind::RemoveAccount {
            account: [0x55; 32],
        },
        false,
        VOTING_MS + TIMELOCK_MS,
        &[(1, Yes), (2, Yes)],
    );
    c.tick(2 * VOTING_MS + TIMELOCK_MS);
    c.tick(2 * VOTING_MS + 2 * TIMELOCK_MS);
    assert!(matches!(status(&c, id), ProposalStatus::Executed { .. }));
    assert!(!c.is_known_account(&[0x55; 32]));
    c.check_invariants().unwrap();
}

/// A chain under another Junction hub is registered as reached through a registered
/// `junction_hub` chain, by more than 2/3 (whoever names the hub names who vouches for the
/// chain's packets); its id must be free on this hub, and a route to or from it must be
/// unordered (`spec/hub-to-hub.md`).
#[test]
fn a_remote_chain_is_registered_through_a_hub_and_its_routes_are_unordered() {
    let mut c = weighted(&[2, 1]);
    let remote = |id: &str, via: &str| ProposalKind::RegisterRemoteChain {
        chain: chain(id),
        via: chain(via),
    };
    let refused =
        |c: &mut Council, kind: ProposalKind| c.propose(&key(1), kind, false, 10, 0).unwrap_err();
    assert_eq!(
        refused(&mut c, remote("chain-c", "chain-a")).name(),
        "not_a_hub"
    );
    assert_eq!(
        refused(&mut c, remote("chain-c", "hub-b")).name(),
        "not_a_hub"
    );
    let e = refused(&mut c, remote("hub-b", "hub-b"));
    assert_eq!(
        e,
        GovError::InvalidProposal(ParamsError::RemoteChainIsItsHub)
    );

    let mut hub = registration("hub-b");
    hub.kind = LedgerKind::JunctionHub;
    let id = propose_and_vote(
        &mut c,
        ProposalKind::RegisterChain(hub),
        false,
        0,
        &[(1, Yes), (2, Yes)],
    );
    c.tick(VOTING_MS);
    c.tick(VOTING_MS + TIMELOCK_MS);
    assert!(matches!(status(&c, id), ProposalStatus::Executed { .. }));
    assert_eq!(
        refused(&mut c, remote("chain-a", "hub-b")).name(),
        "chain_exists"
    );

    // 2 of 3 is not more than 2/3; both members pass it.
    let t = 2 * VOTING_MS;
    let id = propose_and_vote(
        &mut c,
        remote("chain-c", "hub-b"),
        false,
        t,
        &[(1, Yes), (2, No)],
    );
    c.tick(t + VOTING_MS);
    assert_eq!(status(&c, id), ProposalStatus::Rejected);
    let t = 4 * VOTING_MS;
    let id = propose_and_vote(
        &mut c,
        remote("chain-c", "hub-b"),
        false,
        t,
        &[(1, Yes), (2, Yes)],
    );
    c.tick(t + VOTING_MS);
    let events = c.tick(t + VOTING_MS + TIMELOCK_MS);
    assert!(matches!(status(&c, id), ProposalStatus::Executed { .. }));
    assert!(actions(&events).contains(&"remote_chain_registered"));
    assert_eq!(c.remote_chain(&chain("chain-c")), Some(&chain("hub-b")));
    assert_eq!(
        c.chain(&chain("chain-c")),
        None,
        "a remote chain has no client here"
    );

    // Its id is taken, locally and remotely.
    assert_eq!(
        refused(&mut c, remote("chain-c", "hub-b")).name(),
        "chain_exists"
    );
    let e = refused(&mut c, ProposalKind::RegisterChain(registration("chain-c")));
    assert_eq!(e.name(), "chain_exists");

    // Routes to it are unordered.
    let to_c = |ordered: bool| ProposalKind::OpenRoute {
        route: route_id("a-to-c"),
        policy: RoutePolicy {
            dest_chain: chain("chain-c"),
            ordered,
            ..policy()
        },
    };
    assert_eq!(refused(&mut c, to_c(true)).name(), "remote_route_ordered");
    c.propose(&key(1), to_c(false), false, 10, 6 * VOTING_MS)
        .unwrap();

    // The registry survives the council's encoding and keeps its invariants.
    let back = Council::from_bytes(&c.to_bytes()).unwrap();
    assert_eq!(back.remote_chain(&chain("chain-c")), Some(&chain("hub-b")));
    assert_eq!(back.to_bytes(), c.to_bytes());
    c.check_invariants().unwrap();
}

/// A council with chains `chain-a` (Tendermint, no gateway), `chain-b` and `chain-c`
/// (attested EVM chains with gateways), route `a-to-b`, members of weights 2 and 1.
fn council_with_gateways() -> Council {
    let base = weighted(&[2, 1]);
    let mut chains = vec![registration("chain-a")];
    for id in ["chain-b", "chain-c"] {
        let mut r = registration(id);
        r.kind = LedgerKind::EvmAttested;
        chains.push(r);
    }
    Council::genesis(GovGenesis {
        members: base.members().to_vec(),
        params: params(),
        floors: floors(),
        chains,
        routes: vec![(route_id("a-to-b"), policy())],
        validators: validators(),
        relayers: vec![[0xee; 32]],
        accounts: Vec::new(),
    })
    .unwrap()
}

/// A gateway is retired by vote, once and for good: only a chain with a gateway (EVM), a
/// successor that is registered and not the chain itself; from the execution every packet
/// to the chain is refused as `gateway_retired`, a final rejection (the packet ends with an
/// error-ack and its refund); the retirement survives the state's encoding, and the hub
/// records once where it logged the notice.
#[test]
fn a_gateway_is_retired_by_vote_once_and_new_packets_to_it_are_refused_for_good() {
    let mut c = council_with_gateways();
    let retire = |id: &str, successor: Option<&str>| ProposalKind::RetireGateway {
        chain: chain(id),
        successor: successor.map(chain),
    };
    let refused =
        |c: &mut Council, kind: ProposalKind| c.propose(&key(1), kind, false, 10, 0).unwrap_err();
    assert_eq!(
        refused(&mut c, retire("chain-a", None)).name(),
        "no_gateway"
    );
    assert_eq!(
        refused(&mut c, retire("chain-x", None)).name(),
        "unknown_chain"
    );
    assert_eq!(
        refused(&mut c, retire("chain-b", Some("chain-x"))).name(),
        "unknown_chain"
    );
    assert_eq!(
        refused(&mut c, retire("chain-b", Some("chain-b"))),
        GovError::InvalidProposal(ParamsError::GatewayIsItsSuccessor)
    );

    let packet = packet(10);
    let route = route_id("a-to-b");
    assert_eq!(c.check_packet(&route, &packet, &ctx(0)), Ok(()));
    let id = propose_and_vote(
        &mut c,
        retire("chain-b", Some("chain-c")),
        false,
        0,
        &[(1, Yes), (2, Yes)],
    );
    c.tick(VOTING_MS);
    let events = c.tick(VOTING_MS + TIMELOCK_MS);
    assert!(matches!(status(&c, id), ProposalStatus::Executed { .. }));
    assert!(actions(&events).contains(&"gateway_retired"), "{events:?}");
    let retirement = c.retirement(&chain("chain-b")).unwrap().clone();
    assert_eq!(retirement.proposal_id, id);
    assert_eq!(retirement.successor, Some(chain("chain-c")));
    assert_eq!(retirement.log_index, None);

    let t = VOTING_MS + TIMELOCK_MS;
    let e = c.check_packet(&route, &packet, &ctx(t)).unwrap_err();
    assert_eq!(e, junction_packets::PolicyRejection::GatewayRetired);
    assert!(e.is_final(), "retirement is for good");
    assert_eq!(e.name(), "gateway_retired");
    // Packets from the retired chain still pass (sent before its gateway saw the notice).
    let mut back = packet.clone();
    std::mem::swap(&mut back.source_chain, &mut back.dest_chain);
    assert!(!matches!(
        c.check_packet(&route, &back, &ctx(t)),
        Err(junction_packets::PolicyRejection::GatewayRetired)
    ));

    assert_eq!(
        refused(&mut c, retire("chain-b", None)).name(),
        "gateway_retired"
    );
    assert_eq!(
        refused(&mut c, retire("chain-c", Some("chain-b"))).name(),
        "gateway_retired"
    );

    c.set_retirement_logged(&chain("chain-b"), 7);
    c.set_retirement_logged(&chain("chain-b"), 9);
    assert_eq!(c.retirement(&chain("chain-b")).unwrap().log_index, Some(7));
    let decoded = Council::from_bytes(&c.to_bytes()).unwrap();
    assert_eq!(decoded, c);
    decoded.check_invariants().unwrap();
}
