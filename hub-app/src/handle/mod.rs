//! One handler per transaction kind, each in two steps: `validate` reads a
//! [`ValidationContext`] and refuses what would fail, by the rule's name; `execute` changes
//! an [`ExecutionContext`] and returns the events. Admission runs `validate` alone; a block
//! runs `execute` (which refuses exactly what `validate` would, as a `tx_failed` event,
//! since the state may have moved between admission and the block).
//!
//! - `remark`: a signed note kept per account;
//! - `gov`: proposals, votes and emergency actions through the council;
//! - `relay`: relayer messages through the light clients and the packet core;
//! - `attest`: members' attestations of attested chains' headers, and an attester's key
//!   rotation;
//! - `park`: an operator parks a packet that can never be delivered.

mod attest;
mod gov;
mod park;
mod relay;
mod remark;

use junction_spec::{Hash32, SignedTx, TxBody, TxKind};

use crate::context::{ExecutionContext, ValidationContext};
use crate::event::Event;
use crate::state::nonce_key;
use crate::tx::TxError;

pub use relay::{check_relay, execute_relay};

/// Why an execute step changed nothing: the rule's stable name and what it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub name: String,
    pub message: String,
}

/// A transaction kind's two steps.
pub(crate) trait TxHandler {
    /// Reads only: `Err` names the rule the transaction breaks now.
    fn validate(&self, ctx: &dyn ValidationContext, tx: &TxBody) -> Result<(), TxError>;

    /// Applies the transaction (its nonce is already used). A refusal leaves the context
    /// as it was.
    fn execute(&self, ctx: &mut dyn ExecutionContext, tx: &TxBody) -> Result<Vec<Event>, Refusal>;
}

/// The handler of `kind`.
fn handler(kind: &TxKind) -> Box<dyn TxHandler + '_> {
    match kind {
        TxKind::Remark { data } => Box::new(remark::Remark { data }),
        TxKind::Propose {
            proposal,
            expedited,
            deposit,
        } => Box::new(gov::Propose {
            proposal,
            expedited: *expedited,
            deposit: *deposit,
        }),
        TxKind::Vote {
            proposal_id,
            option,
        } => Box::new(gov::Vote {
            proposal_id: *proposal_id,
            option: *option,
        }),
        TxKind::EmergencyPause { route } => Box::new(gov::EmergencyPause { route }),
        TxKind::EmergencyFreeze { chain } => Box::new(gov::EmergencyFreeze { chain }),
        TxKind::Relay { msgs } => Box::new(relay::Relay { msgs }),
        TxKind::Attest {
            chain,
            attestations,
        } => Box::new(attest::Attest {
            chain,
            attestations,
        }),
        TxKind::ParkPacket { key, reason } => Box::new(park::ParkPacket { key, reason }),
        TxKind::RotateKey { new_key } => Box::new(gov::RotateKey { new_key }),
        TxKind::RotateValidatorKeys {
            new_key,
            new_attestation_address,
        } => Box::new(gov::RotateValidatorKeys {
            new_key,
            new_attestation_address,
        }),
        TxKind::RotateAttesterKey {
            chain,
            old_address,
            new_address,
            old_signature,
            new_signature,
        } => Box::new(attest::RotateAttesterKey {
            chain,
            old_address,
            new_address,
            old_signature,
            new_signature,
        }),
    }
}

/// The validate step of `tx`'s kind (admission): would it succeed in the next block?
pub fn validate_kind(ctx: &dyn ValidationContext, tx: &SignedTx) -> Result<(), TxError> {
    handler(&tx.body.kind).validate(ctx, &tx.body)
}

/// Executes one transaction whose nonce and chain id were checked. The nonce is used up
/// whatever happens next; a refusal becomes a `tx_failed` event with the rule's name and
/// changes nothing else.
pub(crate) fn execute_tx(
    ctx: &mut dyn ExecutionContext,
    tx: &SignedTx,
    tx_hash: &Hash32,
) -> Vec<Event> {
    ctx.begin_tx(tx_hash);
    let hash = hex::encode(tx_hash);
    let failed = |name: &str, message: String| Event {
        kind: "tx_failed".into(),
        tx: hash.clone(),
        attributes: vec![
            ("kind".into(), tx.body.kind.name().into()),
            ("error".into(), name.to_string()),
            ("message".into(), message),
        ],
    };
    // Only accounts the council knows may act; a block carrying another signer's
    // transaction (no honest node admits one) records it as failed and nothing else, not
    // even the nonce.
    if ctx
        .council()
        .is_some_and(|c| !c.is_known_account(&tx.body.signer))
    {
        return vec![failed(
            TxError::UnknownAccount.name(),
            TxError::UnknownAccount.to_string(),
        )];
    }
    ctx.put(
        nonce_key(&tx.body.signer_address()),
        (tx.body.nonce + 1).to_be_bytes().to_vec(),
    );
    match handler(&tx.body.kind).execute(ctx, &tx.body) {
        Ok(events) => events
            .into_iter()
            .map(|mut e| {
                e.tx.clone_from(&hash);
                e
            })
            .collect(),
        Err(r) => vec![failed(&r.name, r.message)],
    }
}

/// The refusal of a kind that needs a council when the state holds none.
fn no_council() -> Refusal {
    Refusal {
        name: "no_council".into(),
        message: NO_COUNCIL.into(),
    }
}

const NO_COUNCIL: &str = "the state holds no council";

/// The council a validate step reads, or the same refusal at admission.
fn council_of(ctx: &dyn ValidationContext) -> Result<&junction_governance::Council, TxError> {
    ctx.council().ok_or(TxError::Governance {
        name: "no_council",
        message: NO_COUNCIL.into(),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::context::{AdmissionContext, BlockContext};
    use crate::state::{AppState, StateReader as _, COUNCIL_KEY};
    use junction_packets::PacketState;
    use junction_spec::gov::{RouteId, VoteOption};
    use junction_spec::{ChainId, Encode as _, RelayMsg, TxBody};

    fn member() -> ed25519_consensus::SigningKey {
        ed25519_consensus::SigningKey::from([3u8; 32])
    }

    fn tx(kind: TxKind) -> SignedTx {
        let key = member();
        let body = TxBody {
            chain_id: ChainId::new("hub-test").unwrap(),
            signer: key.verification_key().to_bytes(),
            nonce: 0,
            kind,
        };
        let signature = key.sign(&body.sign_bytes()).to_bytes();
        SignedTx { body, signature }
    }

    /// The kinds, each refused by the council or the relay rules in this state.
    fn refused_kinds() -> Vec<(TxKind, &'static str)> {
        vec![
            (
                TxKind::Vote {
                    proposal_id: 99,
                    option: VoteOption::Yes,
                },
                "unknown_proposal",
            ),
            (
                TxKind::EmergencyPause {
                    route: RouteId::new("no-such-route").unwrap(),
                },
                "unknown_route",
            ),
            (
                TxKind::Relay {
                    msgs: vec![RelayMsg::UpdateClient {
                        chain: ChainId::new("evm-a").unwrap(),
                        header: vec![1, 2, 3],
                    }],
                },
                "unregistered_relayer",
            ),
            (
                TxKind::ParkPacket {
                    key: [1; 32],
                    reason: "never deliverable".into(),
                },
                "unregistered_relayer",
            ),
        ]
    }

    /// What admission refuses, a block refuses by the same name, and a refusal changes
    /// nothing but the nonce.
    #[test]
    fn validate_and_execute_refuse_by_the_same_name_and_a_refusal_changes_nothing() {
        let council = crate::testutil::council_with_member(member().verification_key().to_bytes());
        let state = crate::block::genesis_state(&council);
        let packets = PacketState::default();
        for (kind, name) in refused_kinds() {
            let tx = tx(kind);
            let admission = AdmissionContext::new(&state, Some(council.clone()), &packets, 5_000);
            let err = validate_kind(&admission, &tx).unwrap_err();
            assert_eq!(err.name(), name, "{}", tx.body.kind.name());

            let mut block = BlockContext::new(&state, Some(council.clone()), &packets, 5_000);
            let events = execute_tx(&mut block, &tx, &tx.hash());
            let refusal = events
                .iter()
                .find(|e| e.kind == "tx_failed" || e.kind == "relay/rejected")
                .unwrap_or_else(|| panic!("{name}: no refusal in {events:?}"));
            assert!(
                refusal
                    .attributes
                    .iter()
                    .any(|(k, v)| k == "error" && v == name),
                "{refusal:?}"
            );
            assert_eq!(refusal.tx, hex::encode(tx.hash()));
            assert_eq!(
                block.council.as_ref().unwrap().to_bytes(),
                council.to_bytes()
            );
            assert!(block.packets.as_ref().is_none_or(|p| p.log().size() == 0));
            let writes = block.view.into_writes();
            let nonce_only: Vec<_> = writes
                .iter()
                .filter(|(k, _)| !k.starts_with(b"acct/nonce/"))
                .collect();
            assert!(nonce_only.is_empty(), "{name}: wrote {nonce_only:?}");
        }
    }

    /// A proposal that names the hub's own chain id as a chain to follow or reach (its own
    /// client, a remote chain through itself, or itself as remote) is refused at admission
    /// and in a block, by name, and changes nothing. Without the check, `hub-test` passes
    /// as a remote chain through a registered hub.
    #[test]
    fn a_proposal_naming_the_hubs_own_chain_id_is_refused() {
        use junction_spec::gov::ProposalKind;
        let own = ChainId::new("hub-test").unwrap();
        let hub = crate::relay::tests::chain_registration(
            "hub-b",
            junction_spec::LedgerKind::JunctionHub,
            3_600_000,
            0,
            crate::hub_path_tests::hub_trust_root("hub-b"),
        );
        let council =
            crate::testutil::council_with_chains(member().verification_key().to_bytes(), vec![hub]);
        let state = crate::block::genesis_state(&council);
        let packets = PacketState::default();
        let mut own_client = crate::relay::tests::registration(
            junction_spec::LedgerKind::EvmAttested,
            4,
            junction_spec::gov::Fraction { num: 2, den: 3 },
        );
        own_client.chain_id = own.clone();
        let proposals = [
            ProposalKind::RegisterChain(own_client),
            ProposalKind::RegisterRemoteChain {
                chain: own.clone(),
                via: ChainId::new("hub-b").unwrap(),
            },
            ProposalKind::RegisterRemoteChain {
                chain: ChainId::new("evm-z").unwrap(),
                via: own.clone(),
            },
        ];
        for proposal in proposals {
            let tx = tx(TxKind::Propose {
                proposal: Box::new(proposal.clone()),
                expedited: false,
                deposit: 0,
            });
            // Where the hub's id is not given, the council alone decides (the first two
            // are accepted there: nothing in the council knows `hub-test`).
            let blind = AdmissionContext::new(&state, Some(council.clone()), &packets, 5_000);
            let blind_result = validate_kind(&blind, &tx);
            let admission = AdmissionContext::new(&state, Some(council.clone()), &packets, 5_000)
                .with_hub_chain(own.clone());
            let err = validate_kind(&admission, &tx).unwrap_err();
            assert_eq!(
                err.name(),
                "own_chain_id",
                "{proposal:?} (without the id: {blind_result:?})"
            );
            let mut block = BlockContext::new(&state, Some(council.clone()), &packets, 5_000)
                .with_hub_chain(own.clone());
            let events = execute_tx(&mut block, &tx, &tx.hash());
            assert!(
                events.iter().any(|e| e.kind == "tx_failed"
                    && e.attributes
                        .iter()
                        .any(|(k, v)| k == "error" && v == "own_chain_id")),
                "{events:?}"
            );
            assert_eq!(
                block.council.as_ref().unwrap().to_bytes(),
                council.to_bytes()
            );
        }
        // Another remote chain through the registered hub still passes.
        let ok = tx(TxKind::Propose {
            proposal: Box::new(ProposalKind::RegisterRemoteChain {
                chain: ChainId::new("evm-z").unwrap(),
                via: ChainId::new("hub-b").unwrap(),
            }),
            expedited: false,
            deposit: 0,
        });
        let admission = AdmissionContext::new(&state, Some(council.clone()), &packets, 5_000)
            .with_hub_chain(own);
        validate_kind(&admission, &ok).unwrap();
    }

    /// A validator whose consensus key is not an ed25519 point could never have its votes
    /// counted, and the hub could not build the validator set that names it: two heights
    /// after the vote it would halt. The proposal is refused by name at admission and in a
    /// block; a real key passes.
    #[test]
    fn a_validator_key_that_is_not_an_ed25519_point_is_refused() {
        use junction_spec::gov::ProposalKind;
        let council = crate::testutil::council_with_member(member().verification_key().to_bytes());
        let state = crate::block::genesis_state(&council);
        let packets = PacketState::default();
        // y = 2 is not the y-coordinate of any point of the curve.
        let mut not_a_point = [0u8; 32];
        not_a_point[0] = 2;
        assert!(ed25519_consensus::VerificationKey::try_from(not_a_point).is_err());
        let propose = |pub_key: [u8; 32]| {
            tx(TxKind::Propose {
                proposal: Box::new(ProposalKind::AddValidator {
                    pub_key,
                    power: 1,
                    attestation_address: [9; 20],
                }),
                expedited: false,
                deposit: 0,
            })
        };
        let bad = propose(not_a_point);
        let admission = AdmissionContext::new(&state, Some(council.clone()), &packets, 5_000);
        assert_eq!(
            validate_kind(&admission, &bad).unwrap_err().name(),
            "invalid_validator_key"
        );
        let mut block = BlockContext::new(&state, Some(council.clone()), &packets, 5_000);
        let events = execute_tx(&mut block, &bad, &bad.hash());
        assert!(
            events.iter().any(|e| e.kind == "tx_failed"
                && e.attributes
                    .iter()
                    .any(|(k, v)| k == "error" && v == "invalid_validator_key")),
            "{events:?}"
        );
        let real = ed25519_consensus::SigningKey::from([42; 32])
            .verification_key()
            .to_bytes();
        validate_kind(&admission, &propose(real)).unwrap();
    }

    /// A member rotates its own account key with a transaction the old key signs: the
    /// council then knows the new key as the member's and the old one as nobody's. A key
    /// the council knows already, or one that is no ed25519 point, is refused by name.
    #[test]
    fn a_member_rotates_its_account_key_with_the_old_one() {
        let council = crate::testutil::council_with_member(member().verification_key().to_bytes());
        let state = crate::block::genesis_state(&council);
        let packets = PacketState::default();
        let new_key = ed25519_consensus::SigningKey::from([4u8; 32])
            .verification_key()
            .to_bytes();
        let admission = AdmissionContext::new(&state, Some(council.clone()), &packets, 5_000);
        let mut not_a_point = [0u8; 32];
        not_a_point[0] = 2;
        for (key, name) in [
            (member().verification_key().to_bytes(), "key_in_use"),
            (not_a_point, "invalid_account_key"),
        ] {
            let refused = tx(TxKind::RotateKey { new_key: key });
            assert_eq!(
                validate_kind(&admission, &refused).unwrap_err().name(),
                name
            );
        }
        let rotate = tx(TxKind::RotateKey { new_key });
        validate_kind(&admission, &rotate).unwrap();
        let mut block = BlockContext::new(&state, Some(council.clone()), &packets, 5_000);
        let events = execute_tx(&mut block, &rotate, &rotate.hash());
        assert!(
            events.iter().any(|e| e.kind == "gov/member_key_rotated"),
            "{events:?}"
        );
        let after = block.council.as_ref().unwrap();
        assert!(after.member_of_key(&new_key).is_some());
        assert!(after
            .member_of_key(&member().verification_key().to_bytes())
            .is_none());
    }

    /// A remark validates anywhere and writes the account's remark and nonce.
    #[test]
    fn a_remark_writes_the_note_and_the_nonce() {
        let council = crate::testutil::council_with_member(member().verification_key().to_bytes());
        let state = crate::block::genesis_state(&council);
        let packets = PacketState::default();
        let tx = tx(TxKind::Remark {
            data: b"hello".to_vec(),
        });
        let admission = AdmissionContext::new(&state, Some(council.clone()), &packets, 5_000);
        validate_kind(&admission, &tx).unwrap();
        let mut block = BlockContext::new(&state, Some(council), &packets, 5_000);
        let events = execute_tx(&mut block, &tx, &tx.hash());
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].kind, "remark");
        let addr = tx.body.signer_address();
        let mut after = AppState::default();
        after.apply(&block.view.into_writes());
        assert_eq!(after.next_nonce(&addr), 1);
        assert_eq!(
            after.get(&crate::state::remark_key(&addr)),
            Some(b"hello".to_vec())
        );
        assert!(after.get(COUNCIL_KEY).is_none());
    }

    /// A signer the council does not know fails without even using its nonce.
    #[test]
    fn an_unknown_signer_fails_and_uses_no_nonce() {
        let council = crate::testutil::council_with_member([9u8; 32]);
        let state = crate::block::genesis_state(&council);
        let packets = PacketState::default();
        let tx = tx(TxKind::Remark { data: vec![1] });
        let mut block = BlockContext::new(&state, Some(council), &packets, 5_000);
        let events = execute_tx(&mut block, &tx, &tx.hash());
        assert!(events[0]
            .attributes
            .iter()
            .any(|(k, v)| k == "error" && v == "unknown_account"));
        assert!(block.view.into_writes().is_empty());
    }

    /// An attester moves to a new key for one chain by a transaction both keys signed: the
    /// hub's client and the council's registration hold the new address in the old one's
    /// place (threshold and the client's states kept), the old key's attestations are
    /// dropped and count no more, the new key's do. Refused by name, at admission and in a
    /// block alike: a rotation the old key did not sign (someone taking a seat), one the
    /// new key did not sign, and signatures made for another nonce (a replay).
    #[test]
    fn an_attester_rotates_its_key_by_a_transaction_both_keys_sign() {
        use junction_light_clients::evm::attested::{testkit, AttestedHeader, AttesterRotation};
        use junction_light_clients::evm::codec::AttestedTrustRoot;
        use junction_spec::gov::Fraction;
        use junction_spec::relay::HeaderAttestation;
        use junction_spec::Decode as _;

        let reg = crate::relay::tests::registration(
            junction_spec::LedgerKind::EvmAttested,
            3,
            Fraction { num: 2, den: 3 },
        );
        let chain = reg.chain_id.clone();
        let council =
            crate::testutil::council_with_chains(member().verification_key().to_bytes(), vec![reg]);
        let state = crate::block::genesis_state(&council);
        let packets = PacketState::default();
        let now = 1_100_000;
        let address = |seed: u64| testkit::address(&testkit::attester_key(seed));
        let signed_tx = |kind: TxKind, nonce: u64| {
            let key = member();
            let body = TxBody {
                chain_id: ChainId::new("hub-test").unwrap(),
                signer: key.verification_key().to_bytes(),
                nonce,
                kind,
            };
            let signature = key.sign(&body.sign_bytes()).to_bytes();
            SignedTx { body, signature }
        };
        // Attester 1 moves to key 9; `old`/`new` say which keys really sign, `signed_for`
        // the nonce the signatures were made for.
        let rotation = |old: u64, new: u64, signed_for: u64, nonce: u64| {
            let r = AttesterRotation {
                hub_chain: "hub-test".into(),
                chain: chain.as_str().into(),
                old: address(1),
                new: address(9),
                account: member().verification_key().to_bytes(),
                nonce: signed_for,
            };
            signed_tx(
                TxKind::RotateAttesterKey {
                    chain: chain.clone(),
                    old_address: r.old,
                    new_address: r.new,
                    old_signature: r.sign(&testkit::attester_key(old)).unwrap(),
                    new_signature: r.sign(&testkit::attester_key(new)).unwrap(),
                },
                nonce,
            )
        };
        let refusal = |events: &[crate::event::Event]| {
            events
                .iter()
                .find(|e| e.kind == "tx_failed")
                .and_then(|e| e.attributes.iter().find(|(k, _)| k == "error"))
                .map(|(_, v)| v.clone())
        };
        for (bad, name) in [
            (rotation(5, 9, 0, 0), "rotation_signer_mismatch"),
            (rotation(1, 5, 0, 0), "rotation_signer_mismatch"),
            (rotation(1, 9, 0, 1), "rotation_signer_mismatch"),
        ] {
            let admission = AdmissionContext::new(&state, Some(council.clone()), &packets, now);
            assert_eq!(validate_kind(&admission, &bad).unwrap_err().name(), name);
            let mut block = BlockContext::new(&state, Some(council.clone()), &packets, now);
            let events = execute_tx(&mut block, &bad, &bad.hash());
            assert_eq!(refusal(&events).as_deref(), Some(name), "{events:?}");
            assert_eq!(
                block.council.as_ref().unwrap().to_bytes(),
                council.to_bytes()
            );
        }

        // Attester 1 attested block 6 before it rotates.
        let six = testkit::signed_attested_header(31_337, 0, 6, [1; 32], 1_006).header;
        let attest = |seed: u64, header: &AttestedHeader, nonce: u64| {
            signed_tx(
                TxKind::Attest {
                    chain: chain.clone(),
                    attestations: vec![HeaderAttestation {
                        header: header.to_bytes(),
                        signature: testkit::sign(&testkit::attester_key(seed), header),
                    }],
                },
                nonce,
            )
        };
        let mut block = BlockContext::new(&state, Some(council.clone()), &packets, now);
        let events = execute_tx(&mut block, &attest(1, &six, 0), &[1; 32]);
        assert_eq!(refusal(&events), None, "{events:?}");
        let good = rotation(1, 9, 1, 1);
        let events = execute_tx(&mut block, &good, &good.hash());
        assert_eq!(refusal(&events), None, "{events:?}");
        let rotated = events
            .iter()
            .find(|e| e.kind == "client/attester_rotated")
            .unwrap();
        assert!(rotated
            .attributes
            .contains(&("new".into(), format!("0x{}", hex::encode(address(9))))));

        // The registration names the new key in the old one's place.
        let after_council = block.council.clone().unwrap();
        let root = AttestedTrustRoot::from_bytes(
            &after_council.chain(&chain).unwrap().registration.trust_root,
        )
        .unwrap();
        assert_eq!(root.attesters, vec![address(0), address(9), address(2)]);
        // The client kept its states and holds the new set.
        let client = block.relay().unwrap().client(&chain).unwrap();
        let crate::clients::AnyClient::EvmAttested(c) = &client else {
            panic!("{client:?}")
        };
        assert_eq!(
            c.client().attester_set().attesters(),
            root.attesters.as_slice()
        );
        assert_eq!(c.client().attester_set().threshold(), 2);
        assert_eq!(client.latest_height(), 5);

        // The old key's attestation of block 6 was dropped: with attester 0 it is not k.
        use crate::state::StateReader as _;
        assert_eq!(
            block
                .view
                .get(&crate::attest::attest_key(&chain, &address(1))),
            None
        );
        let events = execute_tx(&mut block, &attest(0, &six, 2), &[2; 32]);
        assert!(
            !events.iter().any(|e| e.kind == "client/updated"),
            "{events:?}"
        );
        // The old key is refused by name; the new key's attestation makes k.
        let events = execute_tx(&mut block, &attest(1, &six, 3), &[3; 32]);
        assert_eq!(refusal(&events).as_deref(), Some("signer_not_attester"));
        let events = execute_tx(&mut block, &attest(9, &six, 4), &[4; 32]);
        assert!(
            events.iter().any(|e| e.kind == "client/updated"),
            "{events:?}"
        );
        assert_eq!(
            block
                .relay()
                .unwrap()
                .client(&chain)
                .unwrap()
                .latest_height(),
            6
        );
        // Done once: the same rotation again names a key that holds no seat.
        let again = rotation(1, 9, 5, 5);
        let events = execute_tx(&mut block, &again, &again.hash());
        assert_eq!(refusal(&events).as_deref(), Some("unknown_attester"));
    }
}
