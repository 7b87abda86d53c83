//! Header attestations from the member organizations' attesters (`Attest` transactions):
//! the hub, not a relayer, gathers the k of n signatures that move an attested EVM
//! chain's client.
//!
//! Each registered attester's latest attestations of a chain are kept in the state,
//! `client/attest/<chain id>/<attester address>`: at most [`KEPT_PER_ATTESTER`] (header,
//! signature) pairs, by block number, the lowest dropped first. An attestation is taken
//! when its signature recovers to a registered attester of the chain's client; once k
//! distinct attesters hold the same header above the client's latest height, the header
//! goes through the client's own update (signatures checked again, parent and time
//! rules), exactly as a signed header from a relayer would. An attester that signs a
//! second, different header at a height it already attested has equivocated: the two
//! signed headers are the evidence, and they freeze the client until a council vote.

use std::collections::BTreeMap;

use junction_light_clients::evm::attested::{
    AttestedHeader, AttestedMisbehaviour, AttesterRotation, SignedAttestedHeader,
};
use junction_light_clients::evm::codec::AttestedTrustRoot;
use junction_light_clients::NamedError;
use junction_spec::encoding::{decode_vec, encode_vec};
use junction_spec::relay::HeaderAttestation;
use junction_spec::{ChainId, Decode, Encode, Reader};

use crate::clients::AnyClient;
use crate::event::Event;
use crate::relay::{key, LoadedClient, RelayError, RelayExec};

/// Prefix of the attestations kept per chain and attester.
pub const ATTEST_PREFIX: &[u8] = b"client/attest/";
/// Attestations kept per attester and chain: the newest heights it attested. Enough for
/// the others to catch up on a height it signed while they were down, and to catch it
/// signing a second header at one of them.
pub const KEPT_PER_ATTESTER: usize = 32;

/// State key of `attester`'s kept attestations of `chain`.
pub fn attest_key(chain: &ChainId, attester: &[u8; 20]) -> Vec<u8> {
    let mut suffix = chain.as_str().as_bytes().to_vec();
    suffix.push(b'/');
    suffix.extend_from_slice(attester);
    key(ATTEST_PREFIX, &suffix)
}

/// One kept attestation, decoded.
#[derive(Clone, Debug)]
struct Kept {
    header: AttestedHeader,
    signature: [u8; 65],
}

impl Kept {
    fn signed(&self) -> SignedAttestedHeader {
        SignedAttestedHeader {
            header: self.header,
            signatures: vec![self.signature],
            full_header: None,
        }
    }
}

fn encode_kept(kept: &[Kept]) -> Vec<u8> {
    let list: Vec<HeaderAttestation> = kept
        .iter()
        .map(|k| HeaderAttestation {
            header: k.header.to_bytes(),
            signature: k.signature,
        })
        .collect();
    let mut out = Vec::new();
    encode_vec(&list, &mut out);
    out
}

fn decode_kept(bytes: &[u8]) -> Option<Vec<Kept>> {
    let mut r = Reader::new(bytes);
    let list: Vec<HeaderAttestation> = decode_vec(&mut r, KEPT_PER_ATTESTER).ok()?;
    r.finish().ok()?;
    list.into_iter()
        .map(|a| {
            Some(Kept {
                header: AttestedHeader::from_bytes(&a.header).ok()?,
                signature: a.signature,
            })
        })
        .collect()
}

impl RelayExec<'_> {
    fn kept(&self, chain: &ChainId, attester: &[u8; 20]) -> Vec<Kept> {
        let Some(bytes) = self.view.get(&attest_key(chain, attester)) else {
            return Vec::new();
        };
        decode_kept(&bytes).unwrap_or_else(|| {
            self.view.note_damage(format!(
                "kept attestations of {} by 0x{} do not decode",
                chain.as_str(),
                hex::encode(attester)
            ));
            Vec::new()
        })
    }

    /// Takes attestations of `chain`'s headers: each must be signed by a registered
    /// attester of the chain's (usable) client, else the whole transaction is refused by
    /// the first bad one. Then keeps them, freezes the client on an equivocation, and
    /// moves the client to each header k attesters now agree on, lowest first.
    pub fn attest(
        &mut self,
        chain: &ChainId,
        attestations: &[HeaderAttestation],
    ) -> Result<Vec<Event>, RelayError> {
        let loaded = self.usable_client(chain)?;
        let AnyClient::EvmAttested(hub_client) = &loaded.client else {
            return Err(RelayError::NotAttested(chain.clone()));
        };
        let client = hub_client.client();
        let mut checked = Vec::with_capacity(attestations.len());
        for a in attestations {
            let header =
                AttestedHeader::from_bytes(&a.header).map_err(|error| RelayError::Malformed {
                    what: "attested header",
                    error,
                })?;
            let signer = client
                .attestation_signer(&header, &a.signature)
                .map_err(|e| RelayError::Client {
                    chain: chain.clone(),
                    what: "attestation",
                    name: e.name(),
                    message: e.to_string(),
                })?;
            checked.push((
                signer,
                Kept {
                    header,
                    signature: a.signature,
                },
            ));
        }
        let set = client.attester_set().clone();
        let latest = loaded.client.latest_height();
        let earliest = loaded.client.heights().first().copied().unwrap_or(0);
        let mut lists: BTreeMap<[u8; 20], Vec<Kept>> = BTreeMap::new();
        let mut candidates: BTreeMap<(u64, [u8; 32]), AttestedHeader> = BTreeMap::new();
        let mut taken = 0usize;
        for (signer, new) in checked {
            let list = lists
                .entry(signer)
                .or_insert_with(|| self.kept(chain, &signer));
            if let Some(old) = list.iter().find(|k| k.header.number == new.header.number) {
                if old.header == new.header {
                    continue;
                }
                // Two headers at one height by one attester. Evidence about a height before
                // the client's oldest state speaks of what a vote already ruled on.
                if new.header.number >= earliest {
                    let evidence = AttestedMisbehaviour {
                        a: old.signed(),
                        b: new.signed(),
                    }
                    .to_bytes();
                    let c = LoadedClient::clone(&loaded);
                    let mut events =
                        self.freeze_on_evidence(chain, c, new.header.number, &evidence);
                    for e in &mut events {
                        e.attributes
                            .push(("equivocator".into(), format!("0x{}", hex::encode(signer))));
                    }
                    return Ok(events);
                }
                continue;
            }
            if new.header.number > latest {
                candidates.insert((new.header.number, new.header.hash), new.header);
            }
            list.push(new);
            list.sort_by_key(|k| k.header.number);
            if list.len() > KEPT_PER_ATTESTER {
                let extra = list.len() - KEPT_PER_ATTESTER;
                list.drain(..extra);
            }
            taken += 1;
        }
        for (signer, list) in &lists {
            self.view.put(attest_key(chain, signer), encode_kept(list));
        }
        let mut events = vec![Event {
            kind: "client/attested".into(),
            tx: String::new(),
            attributes: vec![
                ("chain".into(), chain.as_str().to_string()),
                ("taken".into(), taken.to_string()),
            ],
        }];
        // Every attester's kept list, read once for all candidates.
        if !candidates.is_empty() {
            for attester in set.attesters() {
                if !lists.contains_key(attester) {
                    let kept = self.kept(chain, attester);
                    lists.insert(*attester, kept);
                }
            }
        }
        for ((number, _), header) in candidates {
            // An earlier candidate of this transaction may have moved the client past it.
            let now_latest = self.usable_client(chain)?.client.latest_height();
            if number <= now_latest {
                continue;
            }
            let mut signatures = Vec::new();
            for attester in set.attesters() {
                let signed_it = lists
                    .get(attester)
                    .and_then(|list| list.iter().find(|k| k.header == header));
                if let Some(k) = signed_it {
                    signatures.push(k.signature);
                }
            }
            if signatures.len() < set.threshold() {
                continue;
            }
            let signed = SignedAttestedHeader {
                header,
                signatures,
                full_header: None,
            };
            match self.update_client(chain, &signed.to_bytes()) {
                Ok(mut evs) => {
                    for e in &mut evs {
                        e.attributes.push(("by".into(), "attesters".into()));
                    }
                    events.extend(evs);
                }
                // k attesters agree on a header the client cannot take (e.g. not linked to
                // its latest block): reported, the attestations stay kept.
                Err(e) => events.push(Event {
                    kind: "client/attestation_not_applied".into(),
                    tx: String::new(),
                    attributes: vec![
                        ("chain".into(), chain.as_str().to_string()),
                        ("height".into(), number.to_string()),
                        ("error".into(), e.name().to_string()),
                    ],
                }),
            }
        }
        Ok(events)
    }
}

impl RelayExec<'_> {
    /// An attester's key rotation (`RotateAttesterKey`), which both keys signed: the
    /// chain's client and the council's registration take `rotation.new` in place of
    /// `rotation.old`, threshold kept, and the old key's kept attestations are dropped
    /// (its signatures count for nothing from here on; the new key attests afresh). The
    /// registration changes with the client so that a later vote drafted from it (a
    /// recovery, a renewal) names the keys that hold the seats.
    pub fn rotate_attester(
        &mut self,
        chain: &ChainId,
        rotation: &AttesterRotation,
        old_signature: &[u8; 65],
        new_signature: &[u8; 65],
    ) -> Result<Vec<Event>, RelayError> {
        let loaded = self.usable_client(chain)?;
        let AnyClient::EvmAttested(mut hub_client) = loaded.client.clone() else {
            return Err(RelayError::NotAttested(chain.clone()));
        };
        hub_client
            .rotate_attester(rotation, old_signature, new_signature)
            .map_err(|e| RelayError::of_client(chain, e))?;
        let attesters = hub_client.client().attester_set().attesters().to_vec();
        let threshold = hub_client.client().attester_set().threshold();
        let registration = &self
            .council
            .chain(chain)
            .ok_or_else(|| RelayError::UnknownChain(chain.clone()))?
            .registration;
        let mut root =
            AttestedTrustRoot::from_bytes(&registration.trust_root).map_err(|error| {
                RelayError::Malformed {
                    what: "registered attested trust root",
                    error,
                }
            })?;
        root.attesters = attesters;
        self.council
            .renew_trust_root(chain, root.to_bytes())
            .map_err(|_| RelayError::UnknownChain(chain.clone()))?;
        self.store_client_as_registered(chain, AnyClient::EvmAttested(hub_client))?;
        self.view.delete(attest_key(chain, &rotation.old));
        let hex = |a: &[u8; 20]| format!("0x{}", hex::encode(a));
        Ok(vec![Event {
            kind: "client/attester_rotated".into(),
            tx: String::new(),
            attributes: vec![
                ("chain".into(), chain.as_str().to_string()),
                ("old".into(), hex(&rotation.old)),
                ("new".into(), hex(&rotation.new)),
                ("threshold".into(), threshold.to_string()),
            ],
        }])
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::state::{AppState, Overlay};
    use junction_light_clients::evm::attested::testkit;
    use junction_light_clients::{ClientStatus, Timestamp};
    use junction_packets::PacketState;
    use junction_spec::gov::Fraction;
    use junction_spec::LedgerKind;

    fn attestation(signer: u64, header: &AttestedHeader) -> HeaderAttestation {
        HeaderAttestation {
            header: header.to_bytes(),
            signature: testkit::sign(&testkit::attester_key(signer), header),
        }
    }

    /// Attester `signer`'s attestation of block `number` on top of `parent`.
    fn block(number: u64, parent: [u8; 32]) -> AttestedHeader {
        testkit::signed_attested_header(31_337, 0, number, parent, 1_000 + number).header
    }

    /// An attested chain with three registered attesters and k = 2 (2/3 of 3), its
    /// council and an empty state.
    fn three_attesters() -> (ChainId, junction_governance::Council, AppState) {
        let reg = crate::relay::tests::registration(
            LedgerKind::EvmAttested,
            3,
            Fraction { num: 2, den: 3 },
        );
        let chain = reg.chain_id.clone();
        let council = crate::testutil::council_with_chains([1; 32], vec![reg]);
        (chain, council, AppState::default())
    }

    /// Three registered attesters, k = 2 (2/3 of 3): one attestation keeps, a second by
    /// another attester moves the client, a late third changes nothing; a stranger, another
    /// chain's header or a non-attested chain is refused by name and keeps nothing; an
    /// attester that signs a second header at a height it attested freezes the client, and
    /// the two signed headers are the evidence the state keeps.
    #[test]
    fn k_of_n_attestations_move_the_client_and_an_equivocation_freezes_it() {
        let (chain, mut council, state) = three_attesters();
        let mut view = Overlay::new(&state);
        let mut packets = PacketState::default();
        let mut exec = RelayExec::new(&mut view, &mut council, &mut packets, 1_100_000);
        let latest = |exec: &RelayExec<'_>| exec.client(&chain).unwrap().latest_height();

        let six = block(6, [1; 32]);
        let events = exec.attest(&chain, &[attestation(0, &six)]).unwrap();
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(latest(&exec), 5, "one attester of three is not k");
        // The same attestation again is taken once.
        exec.attest(&chain, &[attestation(0, &six)]).unwrap();
        assert_eq!(
            exec.kept(&chain, &testkit::address(&testkit::attester_key(0)))
                .len(),
            1
        );

        // Refused whole, by name, and nothing kept.
        let mut other_chain = block(6, [1; 32]);
        other_chain.chain_id = 1;
        let cases = [
            ("signer_not_attester", attestation(7, &six)),
            ("wrong_chain", attestation(1, &other_chain)),
            (
                "malformed_relay_input",
                HeaderAttestation {
                    header: vec![1, 2, 3],
                    signature: [0; 65],
                },
            ),
        ];
        for (name, bad) in cases {
            let e = exec
                .attest(&chain, &[attestation(2, &six), bad])
                .unwrap_err();
            assert_eq!(e.name(), name, "{e}");
        }
        assert!(exec
            .kept(&chain, &testkit::address(&testkit::attester_key(2)))
            .is_empty());
        let e = exec
            .attest(&ChainId::new("evm-z").unwrap(), &[attestation(1, &six)])
            .unwrap_err();
        assert_eq!(e.name(), "unknown_chain");

        // A second attester: k agree, the client moves.
        let events = exec.attest(&chain, &[attestation(1, &six)]).unwrap();
        assert!(
            events.iter().any(|e| e.kind == "client/updated"
                && e.attributes.contains(&("by".into(), "attesters".into()))),
            "{events:?}"
        );
        assert_eq!(latest(&exec), 6);
        // Several heights in one transaction, each moving the client in order once two
        // attesters hold it; a header skipping ahead is taken too.
        let seven = block(7, six.hash);
        let nine = block(9, [5; 32]);
        exec.attest(&chain, &[attestation(0, &seven), attestation(0, &nine)])
            .unwrap();
        exec.attest(&chain, &[attestation(2, &nine), attestation(2, &seven)])
            .unwrap();
        assert_eq!(latest(&exec), 9);
        // Late attestations of applied heights change nothing.
        exec.attest(&chain, &[attestation(2, &six)]).unwrap();
        assert_eq!(latest(&exec), 9);

        // Attester 2 signs another block at height 7, which it attested: frozen.
        let other_seven = block(7, [8; 32]);
        let events = exec
            .attest(&chain, &[attestation(2, &other_seven)])
            .unwrap();
        assert_eq!(events[0].kind, "client/frozen", "{events:?}");
        let equivocator = format!(
            "0x{}",
            hex::encode(testkit::address(&testkit::attester_key(2)))
        );
        assert!(events[0]
            .attributes
            .contains(&("equivocator".to_string(), equivocator)));
        assert_eq!(
            exec.client_even_frozen(&chain)
                .unwrap()
                .status(Timestamp::from_millis(1_100_000)),
            ClientStatus::Frozen { height: 7 }
        );
        // The kept evidence is what `Misbehaviour` takes from anyone: one attester's two
        // signed headers.
        let kept = exec
            .view
            .get(&key(crate::relay::EVIDENCE_PREFIX, b"evm-a"))
            .unwrap();
        let evidence = AttestedMisbehaviour::from_bytes(&kept[8..]).unwrap();
        assert_eq!(evidence.a.header, seven);
        assert_eq!(evidence.b.header, other_seven);
        // A frozen client takes no attestation.
        let e = exec
            .attest(&chain, &[attestation(0, &block(10, nine.hash))])
            .unwrap_err();
        assert_eq!(e.name(), "client_frozen");
    }

    /// An attester's kept attestations are bounded: the lowest heights go first.
    #[test]
    fn an_attester_keeps_at_most_its_newest_attestations() {
        let (chain, mut council, state) = three_attesters();
        let mut view = Overlay::new(&state);
        let mut packets = PacketState::default();
        let mut exec = RelayExec::new(&mut view, &mut council, &mut packets, 1_100_000);
        let n = KEPT_PER_ATTESTER as u64 + 10;
        for start in (0..n).step_by(20) {
            let batch: Vec<HeaderAttestation> = (start..(start + 20).min(n))
                .map(|i| attestation(0, &block(100 + i, [i as u8; 32])))
                .collect();
            exec.attest(&chain, &batch).unwrap();
        }
        let kept = exec.kept(&chain, &testkit::address(&testkit::attester_key(0)));
        assert_eq!(kept.len(), KEPT_PER_ATTESTER);
        assert_eq!(kept[0].header.number, 100 + n - KEPT_PER_ATTESTER as u64);
        assert_eq!(kept.last().unwrap().header.number, 100 + n - 1);
    }
}
