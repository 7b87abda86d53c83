//! A packet across two hubs, in process (`spec/hub-to-hub.md`): hub A proves it from a
//! Tendermint source and logs it for hub B; hub B proves A's entry through its client of
//! A, applies its own council's route policy and logs it for the destination, or an
//! error-ack or a timeout back to the source (also by rule (b), for a packet B never
//! received, with A's entry as its commitment); A proves B's outcome entry and logs it for
//! the source.

use junction_governance::Council;
use junction_light_clients::hub::{HubEntryProof, HubTrustRoot};
use junction_light_clients::tendermint::hub::encode_update;
use junction_light_clients::tendermint::proof::testkit::store_memberships;
use junction_packets::PacketState;
use junction_spec::gov::{LedgerKind, ProposalKind, RouteId, RoutePolicy, VoteOption};
use junction_spec::{
    hub_target_binding, ChainId, Checkpoint, Encode, EntryKind, Packet, RelayMsg, SourceProof,
    Timeout,
};

use crate::relay::tests::{chain_registration, registration, tendermint_chain};
use crate::relay::RelayExec;
use crate::state::{AppState, Overlay};

const NOW_MS: u64 = 1_020_000;

fn id(s: &str) -> ChainId {
    ChainId::new(s).unwrap()
}

/// Registration of the hub `chain` from a checkpoint of its log (`log_size`, `log_root`)
/// at `height`, signed by nobody (a trust root is the council's word).
fn hub_registration(
    chain: &str,
    height: u64,
    log_size: u64,
    log_root: [u8; 32],
) -> (
    junction_spec::ChainRegistration,
    Vec<k256::ecdsa::SigningKey>,
) {
    use junction_light_clients::hub::testkit as hub;
    let (set, keys) = hub::attestation_set(4, 3).unwrap();
    let checkpoint = Checkpoint {
        hub_chain_id: id(chain),
        height,
        time_ms: NOW_MS - 5_000,
        log_size,
        log_root,
        attestation_set_hash: set.hash(),
        next_attestation_set_hash: set.hash(),
    };
    let root = HubTrustRoot {
        checkpoint,
        set,
        next_set: None,
    };
    (
        chain_registration(
            chain,
            LedgerKind::JunctionHub,
            3_600_000,
            0,
            root.to_bytes(),
        ),
        keys,
    )
}

/// Passes `kinds` with the council's only member.
fn pass(council: &mut Council, kinds: Vec<ProposalKind>) {
    for kind in kinds {
        let (pid, _) = council.propose(&[1; 32], kind, false, 0, 0).unwrap();
        council.vote(&[1; 32], pid, VoteOption::Yes, 0).unwrap();
    }
    council.tick(1_000_000_000);
    let events = council.tick(2_000_000_000);
    assert!(
        events.iter().all(|e| e.action != "proposal_failed"),
        "{events:?}"
    );
}

fn route(from: &str, to: &str, dest_apps: &[&[u8]]) -> ProposalKind {
    ProposalKind::OpenRoute {
        route: RouteId::new(format!("{from}-to-{to}")).unwrap(),
        policy: RoutePolicy {
            source_chain: id(from),
            dest_chain: id(to),
            dest_apps: dest_apps.iter().map(|a| a.to_vec()).collect(),
            ..junction_governance::bench::sample_policy()
        },
    }
}

fn packet(sequence: u64, dest_app: &[u8]) -> Packet {
    Packet {
        version: Packet::VERSION,
        source_chain: id("cosmos-a"),
        source_app: b"app".to_vec(),
        sequence,
        dest_chain: id("evm-c"),
        dest_app: dest_app.to_vec(),
        payload: b"across".to_vec(),
        // Sequence 3 is past its deadline by every clock here (hub B's checkpoint,
        // `evm-c`'s header): only hub B, which follows `evm-c`, may say so.
        // Sequence 4 passes its deadline while hub B waits for it (`evm-c`'s next header).
        timeout: Timeout {
            height: 0,
            time_ms: match sequence {
                3 => 999_000,
                4 => 1_018_000,
                _ => NOW_MS + 400_000,
            },
        },
        gas_limit: 100_000,
        fee: 0,
    }
}

/// A trust root of hub `chain` at an empty log (for registrations in other tests).
pub(crate) fn hub_trust_root(chain: &str) -> Vec<u8> {
    hub_registration(chain, 10, 0, [0; 32]).0.trust_root
}

fn entry_proof(log: &junction_packets::MessageLog, index: u64, height: u64) -> SourceProof {
    let path = log.inclusion_proof(index, log.size()).unwrap();
    SourceProof {
        height,
        proof: HubEntryProof { index, path }.to_bytes(),
    }
}

#[test]
fn a_packet_crosses_two_hubs_and_each_council_judges_its_own_segment() {
    // Hub A: the Tendermint chain `cosmos-a` (the source), hub B, and `evm-c` under hub B.
    let (tm_reg, tm_keys, header5) = tendermint_chain();
    let packets = [
        packet(1, b"bank"),
        packet(2, b"shop"),
        packet(3, b"bank"),
        packet(4, b"bank"),
    ];
    let entries: Vec<(Vec<u8>, Vec<u8>)> = packets
        .iter()
        .map(|p| {
            let mut key = b"packets/".to_vec();
            key.extend_from_slice(crate::clients::TENDERMINT_COMMITMENTS);
            key.extend_from_slice(&p.key().hash());
            (key, p.hash().to_vec())
        })
        .collect();
    let (app_hash, proofs) = store_memberships(b"junction", &entries, 5, 3, 7).unwrap();
    let (hub_b_reg, hub_b_keys) = hub_registration("hub-b", 10, 0, [0; 32]);
    let mut council_a = crate::testutil::council_with_chains([1; 32], vec![tm_reg, hub_b_reg]);
    pass(
        &mut council_a,
        vec![
            ProposalKind::RegisterRemoteChain {
                chain: id("evm-c"),
                via: id("hub-b"),
            },
            route("cosmos-a", "evm-c", &[b"bank", b"shop"]),
        ],
    );
    assert_eq!(council_a.remote_chain(&id("evm-c")), Some(&id("hub-b")));
    let state_a = AppState::default();
    let mut view_a = Overlay::new(&state_a);
    let mut packets_a = PacketState::default();
    let mut a = RelayExec::new(&mut view_a, &mut council_a, &mut packets_a, NOW_MS)
        .with_hub_chain(Some(id("hub-a")));
    a.run(&RelayMsg::UpdateClient {
        chain: id("cosmos-a"),
        header: encode_update(&header5(&tm_keys, &app_hash)),
    })
    .unwrap();
    for (p, proof) in packets.iter().zip(&proofs) {
        let events = a
            .run(&RelayMsg::RecvPacket {
                packet: p.clone(),
                proof: SourceProof {
                    height: 5,
                    proof: proof.clone(),
                },
            })
            .unwrap();
        assert!(
            events.iter().any(|e| e.kind == "packet/packet_logged"),
            "{events:?}"
        );
    }
    // A logged each for hub B (sequence 3 too: A does not judge the far segment's
    // deadline), never for a gateway of its own.
    let log_a = a.packets.log().clone();
    assert_eq!(log_a.size(), 4);
    for e in log_a.entries() {
        assert_eq!(e.kind, EntryKind::Packet);
        assert_eq!(e.target_binding, hub_target_binding(&id("hub-b")));
    }
    drop(a);

    // Hub B: `evm-c` (attested, a destination), hub A at a checkpoint of A's log, and
    // `cosmos-a` under hub A. B's council allows only the app `bank` on `evm-c`.
    let mut c_reg = registration(
        LedgerKind::EvmAttested,
        4,
        junction_spec::gov::Fraction { num: 2, den: 3 },
    );
    c_reg.chain_id = id("evm-c");
    let mut council_b = crate::testutil::council_with_chains(
        [1; 32],
        vec![
            c_reg,
            hub_registration("hub-a", 20, log_a.size(), log_a.root()).0,
        ],
    );
    pass(
        &mut council_b,
        vec![
            ProposalKind::RegisterRemoteChain {
                chain: id("cosmos-a"),
                via: id("hub-a"),
            },
            route("cosmos-a", "evm-c", &[b"bank"]),
        ],
    );
    let state_b = AppState::default();
    let mut view_b = Overlay::new(&state_b);
    let mut packets_b = PacketState::default();
    let mut b = RelayExec::new(&mut view_b, &mut council_b, &mut packets_b, NOW_MS)
        .with_hub_chain(Some(id("hub-b")));

    // Forged claims about A's log, each refused by name.
    let recv = |p: &Packet, proof: SourceProof| RelayMsg::RecvPacket {
        packet: p.clone(),
        proof,
    };
    let mut other = packets[0].clone();
    other.payload = b"forged".to_vec();
    let cases = [
        ("log_proof", recv(&packets[0], entry_proof(&log_a, 1, 20))),
        ("log_proof", recv(&other, entry_proof(&log_a, 0, 20))),
        (
            "unknown_height",
            recv(&packets[0], entry_proof(&log_a, 0, 21)),
        ),
        (
            "malformed_relay_input",
            recv(
                &packets[0],
                SourceProof {
                    height: 20,
                    proof: vec![1, 2, 3],
                },
            ),
        ),
    ];
    for (name, msg) in cases {
        let e = b.run(&msg).unwrap_err();
        assert_eq!(e.name(), name, "{e}");
    }

    // Sequence 1 passes B's policy: logged for `evm-c`'s gateway.
    b.run(&recv(&packets[0], entry_proof(&log_a, 0, 20)))
        .unwrap();
    let first = b.packets.log().entry(0).unwrap().clone();
    assert_eq!(first.kind, EntryKind::Packet);
    assert_eq!(first.target_chain, id("evm-c"));
    assert_eq!(
        first.target_binding,
        crate::clients::target_binding(b.council.chain(&id("evm-c")).map(|c| &c.registration))
    );
    // Once only.
    let e = b
        .run(&recv(&packets[0], entry_proof(&log_a, 0, 20)))
        .unwrap_err();
    assert_eq!(e.name(), "already_received");
    // Sequence 2 breaks B's policy for good: an error-ack to the source, bound to hub A.
    b.run(&recv(&packets[1], entry_proof(&log_a, 1, 20)))
        .unwrap();
    let refused = b.packets.log().entry(1).unwrap().clone();
    assert_eq!(refused.kind, EntryKind::ErrorAck);
    assert_eq!(refused.target_chain, id("cosmos-a"));
    assert_eq!(refused.target_binding, hub_target_binding(&id("hub-a")));
    // Sequence 3 is past its deadline by `evm-c`'s clock, which B follows: B times it out.
    b.run(&recv(&packets[2], entry_proof(&log_a, 2, 20)))
        .unwrap();
    let timed_out = b.packets.log().entry(2).unwrap().clone();
    assert_eq!(timed_out.kind, EntryKind::Timeout);
    assert_eq!(timed_out.target_binding, hub_target_binding(&id("hub-a")));
    // Sequence 4 never reached B, and `evm-c` passed its deadline without a receipt: any
    // relayer proves that at B, with A's entry as the packet's commitment (rule (b)).
    let key4 = packets[3].key().hash();
    let (state_root, absence) =
        junction_light_clients::evm::mpt::testkit::no_receipt_proof(&[7; 20], &key4);
    let header = junction_light_clients::evm::attested::AttestedHeader {
        chain_id: 31_337,
        number: 6,
        hash: [6; 32],
        parent_hash: [1; 32],
        state_root,
        receipts_root: [0; 32],
        timestamp: 1_019,
    };
    let signed = junction_light_clients::evm::attested::SignedAttestedHeader {
        header,
        signatures: junction_light_clients::evm::attested::testkit::attester_keys(4)
            .iter()
            .map(|k| junction_light_clients::evm::attested::testkit::sign(k, &header))
            .collect(),
        full_header: None,
    };
    b.run(&RelayMsg::UpdateClient {
        chain: id("evm-c"),
        header: signed.to_bytes(),
    })
    .unwrap();
    let timeout = |commitment: Option<SourceProof>| RelayMsg::TimeoutPacket {
        packet: packets[3].clone(),
        absence: SourceProof {
            height: 6,
            proof: absence.to_bytes(),
        },
        commitment,
    };
    let e = b.run(&timeout(None)).unwrap_err();
    assert_eq!(e.name(), "missing_commitment_proof");
    let e = b
        .run(&timeout(Some(entry_proof(&log_a, 2, 20))))
        .unwrap_err();
    assert_eq!(e.name(), "log_proof");
    b.run(&timeout(Some(entry_proof(&log_a, 3, 20)))).unwrap();
    let unreceived = b.packets.log().entry(3).unwrap().clone();
    assert_eq!(
        (unreceived.kind, unreceived.target_binding),
        (EntryKind::Timeout, hub_target_binding(&id("hub-a")))
    );
    // A's entry arriving afterwards changes nothing.
    let e = b
        .run(&recv(&packets[3], entry_proof(&log_a, 3, 20)))
        .unwrap_err();
    assert_eq!(e.name(), "already_timed_out");
    let log_b = b.packets.log().clone();
    drop(b);

    // Back on A: hub B's checkpoint of its log, signed by its attesters, then B's
    // outcomes proven from it. Only what B logged for A is taken.
    let mut a = RelayExec::new(&mut view_a, &mut council_a, &mut packets_a, NOW_MS)
        .with_hub_chain(Some(id("hub-a")));
    let set_hash = {
        use junction_light_clients::hub::testkit as hub;
        hub::attestation_set(4, 3).unwrap().0.hash()
    };
    let checkpoint = Checkpoint {
        hub_chain_id: id("hub-b"),
        height: 30,
        time_ms: NOW_MS - 1_000,
        log_size: log_b.size(),
        log_root: log_b.root(),
        attestation_set_hash: set_hash,
        next_attestation_set_hash: set_hash,
    };
    let signed =
        junction_light_clients::hub::testkit::sign_with(checkpoint, &hub_b_keys[..3]).unwrap();
    a.run(&RelayMsg::UpdateClient {
        chain: id("hub-b"),
        header: signed.to_bytes(),
    })
    .unwrap();
    let ack = |p: &Packet, ok: bool, result: &[u8], index: u64| RelayMsg::AckPacket {
        packet: p.clone(),
        app_succeeded: ok,
        result: result.to_vec(),
        proof: entry_proof(&log_b, index, 30),
    };
    // B logged a packet, not an ack, for sequence 1; and an error-ack, not an ack, with
    // its rule's name, for sequence 2.
    for msg in [
        ack(&packets[0], true, b"", 0),
        ack(&packets[1], true, &refused.result, 1),
        ack(&packets[1], false, b"another reason", 1),
    ] {
        let e = a.run(&msg).unwrap_err();
        assert_eq!(e.name(), "log_proof", "{e}");
    }
    a.run(&ack(&packets[1], false, &refused.result, 1)).unwrap();
    a.run(&RelayMsg::TimeoutPacket {
        packet: packets[2].clone(),
        absence: entry_proof(&log_b, 2, 30),
        commitment: None,
    })
    .unwrap();
    a.run(&RelayMsg::TimeoutPacket {
        packet: packets[3].clone(),
        absence: entry_proof(&log_b, 3, 30),
        commitment: None,
    })
    .unwrap();
    let log = a.packets.log();
    assert_eq!(log.size(), 7);
    assert_eq!(log.entry(6).unwrap().kind, EntryKind::Timeout);
    let error_ack = log.entry(4).unwrap();
    assert_eq!(
        (error_ack.kind, &error_ack.target_chain, &error_ack.result),
        (EntryKind::ErrorAck, &id("cosmos-a"), &refused.result)
    );
    assert_eq!(log.entry(5).unwrap().kind, EntryKind::Timeout);
    // Exactly one outcome per packet on A.
    let e = a
        .run(&ack(&packets[1], false, &refused.result, 1))
        .unwrap_err();
    assert_eq!(e.name(), "outcome_already_logged");
    assert_eq!(first.kind, EntryKind::Packet);
}
