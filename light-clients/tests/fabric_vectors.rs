//! Fabric vectors from hyperledger/fabric (see shared/vectors/fabric/PROVENANCE.md): block
//! hashes, channel config, the 7 endorsements and 8 envelope signatures of the sample_prod
//! ledger, orderer block signatures, and mutations of each that must fail.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;

use junction_light_clients::fabric::block::{self, block_header_hash, HEADER_TYPE_CONFIG};
use junction_light_clients::fabric::config::{channel_config_from_block, ChannelConfig};
use junction_light_clients::fabric::proto::{Block, Metadata, SerializedIdentity};
use junction_light_clients::fabric::testkit::high_s_twin;
use junction_light_clients::fabric::verify::{
    endorsed_actions, verify_endorsement, verify_envelope_signature, verify_orderer_signatures,
};
use junction_light_clients::fabric::{FabricError, Msp};
use junction_light_clients::NamedError;
use prost::Message;

fn load(name: &str) -> Option<Vec<u8>> {
    let path = common::vector_path(&format!("fabric/{name}"))?;
    let text = std::fs::read_to_string(&path).unwrap();
    Some(hex::decode(text.split_whitespace().collect::<String>()).unwrap())
}

const BLOCKFILE: &str = "sample_prod_mychannel_blockfile_000000.hex";
const CLUSTER_GENESIS: &str = "cluster_mychannel_genesis.block.hex";
const CLUSTER_BLOCK3: &str = "cluster_block3.pb.hex";

fn sample_blocks() -> Option<Vec<Block>> {
    let bytes = load(BLOCKFILE)?;
    Some(block::decode_block_file(&bytes).expect("sample_prod blockfile decodes"))
}

/// (prp, endorser, signature) of every endorsement in blocks 1..=7.
/// Block number, proposal response payload, endorser, signature.
type SampleEndorsement = (u64, Vec<u8>, Vec<u8>, Vec<u8>);

fn sample_endorsements(blocks: &[Block]) -> Vec<SampleEndorsement> {
    let mut out = Vec::new();
    for b in blocks {
        for env in block::envelopes(b) {
            let opened = block::open_envelope(env).unwrap();
            if opened.channel_header.r#type == HEADER_TYPE_CONFIG {
                continue;
            }
            for action in endorsed_actions(&opened).unwrap() {
                for e in action.endorsements {
                    out.push((
                        b.header.as_ref().unwrap().number,
                        action.proposal_response_payload.clone(),
                        e.endorser,
                        e.signature,
                    ));
                }
            }
        }
    }
    out
}

fn all_orgs(cfg: &ChannelConfig) -> BTreeMap<String, Msp> {
    let mut m = cfg.application_orgs.clone();
    m.extend(cfg.orderer_orgs.clone());
    m
}

fn flip(bytes: &[u8], i: usize) -> Vec<u8> {
    let mut v = bytes.to_vec();
    v[i] ^= 0x01;
    v
}

#[test]
fn block_file_hashes_recompute_and_chain() {
    let Some(blocks) = sample_blocks() else {
        return;
    };
    assert_eq!(blocks.len(), 8, "{BLOCKFILE}: block count");
    for (i, b) in blocks.iter().enumerate() {
        let h = b.header.as_ref().unwrap();
        assert_eq!(h.number, i as u64, "{BLOCKFILE}: block {i} number");
        block::check_data_hash(b)
            .unwrap_or_else(|e| panic!("{BLOCKFILE}: block {i} data hash: {e}"));
        if i > 0 {
            let prev = block_header_hash(blocks[i - 1].header.as_ref().unwrap());
            assert_eq!(
                h.previous_hash,
                prev.to_vec(),
                "{BLOCKFILE}: block {i} previous hash"
            );
        }
    }
}

#[test]
fn block_file_data_hash_mutation_is_detected() {
    let Some(blocks) = sample_blocks() else {
        return;
    };
    let mut b = blocks[3].clone();
    let env = &mut b.data.as_mut().unwrap().data[0];
    let mid = env.len() / 2;
    env[mid] ^= 0x80;
    assert_eq!(
        block::check_data_hash(&b).unwrap_err().name(),
        "data_hash_mismatch"
    );
}

#[test]
fn genesis_config_parses_to_msp_roots() {
    let Some(blocks) = sample_blocks() else {
        return;
    };
    let cfg = channel_config_from_block(&blocks[0]).unwrap();
    assert_eq!(cfg.channel_id, "mychannel");
    assert_eq!(cfg.orderer_orgs.keys().collect::<Vec<_>>(), ["SampleOrg"]);
    assert_eq!(
        cfg.application_orgs.keys().collect::<Vec<_>>(),
        ["SampleOrg"]
    );
    // SampleOrg lists a root and an intermediate CA; both are admitted.
    assert!(cfg.application_orgs["SampleOrg"].ca_count() >= 1);

    let Some(g) = load(CLUSTER_GENESIS) else {
        return;
    };
    let g = block::decode_block(&g).unwrap();
    block::check_data_hash(&g).unwrap();
    let gc = channel_config_from_block(&g).unwrap();
    assert_eq!(gc.channel_id, "mychannel");
    assert_eq!(gc.orderer_orgs.keys().collect::<Vec<_>>(), ["OrdererMSP"]);
    // Org3MSP is an idemix MSP (MSPConfig.type 1): it cannot sign X.509 and is left out.
    assert_eq!(
        gc.application_orgs.keys().collect::<Vec<_>>(),
        ["Org1MSP", "Org2MSP"]
    );
}

#[test]
fn all_seven_endorsements_verify() {
    let Some(blocks) = sample_blocks() else {
        return;
    };
    let cfg = channel_config_from_block(&blocks[0]).unwrap();
    let endorsements = sample_endorsements(&blocks);
    assert_eq!(endorsements.len(), 7, "{BLOCKFILE}: endorsement count");
    for (n, prp, endorser, sig) in &endorsements {
        let org = verify_endorsement(prp, endorser, sig, &cfg.application_orgs)
            .unwrap_or_else(|e| panic!("{BLOCKFILE}: block {n} endorsement: {e}"));
        assert_eq!(org, "SampleOrg");
    }
}

#[test]
fn all_eight_envelope_signatures_verify() {
    let Some(blocks) = sample_blocks() else {
        return;
    };
    let cfg = channel_config_from_block(&blocks[0]).unwrap();
    let orgs = all_orgs(&cfg);
    let mut count = 0;
    for b in &blocks {
        for env in block::envelopes(b) {
            let opened = block::open_envelope(env).unwrap();
            verify_envelope_signature(&opened, &orgs, "channel").unwrap_or_else(|e| {
                panic!(
                    "{BLOCKFILE}: block {} envelope: {e}",
                    b.header.as_ref().unwrap().number
                )
            });
            count += 1;
        }
    }
    assert_eq!(count, 8);
}

#[test]
fn endorsement_mutations_fail_with_the_broken_rule() {
    let Some(blocks) = sample_blocks() else {
        return;
    };
    let cfg = channel_config_from_block(&blocks[0]).unwrap();
    let orgs = &cfg.application_orgs;
    for (n, prp, endorser, sig) in sample_endorsements(&blocks) {
        let case = format!("{BLOCKFILE}: block {n}");
        // Signature: every byte flipped is refused (encoding, high-S or invalid).
        for i in 0..sig.len() {
            let e = verify_endorsement(&prp, &endorser, &flip(&sig, i), orgs).unwrap_err();
            assert!(
                matches!(
                    e,
                    FabricError::InvalidSignature { .. }
                        | FabricError::BadSignatureEncoding
                        | FabricError::HighS
                ),
                "{case}: sig byte {i}: {e:?}"
            );
        }
        // Signed payload: a sample of positions across the payload.
        for i in (0..prp.len()).step_by(prp.len() / 32 + 1) {
            let e = verify_endorsement(&flip(&prp, i), &endorser, &sig, orgs).unwrap_err();
            assert_eq!(e.name(), "invalid_signature", "{case}: prp byte {i}");
        }
        // High-S twin of the valid signature: same curve equation, refused as malleable.
        let twin = high_s_twin(&sig).unwrap();
        assert_eq!(
            verify_endorsement(&prp, &endorser, &twin, orgs).unwrap_err(),
            FabricError::HighS,
            "{case}"
        );
        // Certificate: a changed certificate breaks the CA signature or the parse.
        let sid = SerializedIdentity::decode(endorser.as_slice()).unwrap();
        let der_cert = pem_to_der(&sid.id_bytes);
        for i in (0..der_cert.len()).step_by(7) {
            let mutated = SerializedIdentity {
                mspid: sid.mspid.clone(),
                id_bytes: flip(&der_cert, i),
            }
            .encode_to_vec();
            let e = verify_endorsement(&prp, &mutated, &sig, orgs).unwrap_err();
            assert!(
                matches!(
                    e,
                    FabricError::BadCertificate
                        | FabricError::CertNotChained { .. }
                        | FabricError::UnsupportedAlgorithm { .. }
                        | FabricError::InvalidSignature { .. }
                        | FabricError::CertIsCa
                ),
                "{case}: cert byte {i}: {e:?}"
            );
        }
        // Claiming another MSP id: not in the application orgs.
        let other = SerializedIdentity {
            mspid: "EvilMSP".into(),
            id_bytes: sid.id_bytes.clone(),
        }
        .encode_to_vec();
        assert_eq!(
            verify_endorsement(&prp, &other, &sig, orgs)
                .unwrap_err()
                .name(),
            "unknown_msp"
        );
    }
}

fn pem_to_der(pem: &[u8]) -> Vec<u8> {
    use base64::Engine;
    let text = std::str::from_utf8(pem).unwrap();
    let body: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap()
}

#[test]
fn endorser_cert_from_another_ca_is_not_chained() {
    let Some(blocks) = sample_blocks() else {
        return;
    };
    let Some(g) = load(CLUSTER_GENESIS) else {
        return;
    };
    let other = channel_config_from_block(&block::decode_block(&g).unwrap()).unwrap();
    // Pretend the cluster network's Org1MSP roots belong to SampleOrg: the real SampleOrg
    // endorser no longer chains.
    let mut orgs = BTreeMap::new();
    orgs.insert(
        "SampleOrg".to_string(),
        other.application_orgs["Org1MSP"].clone(),
    );
    let (_, prp, endorser, sig) = sample_endorsements(&blocks).remove(0);
    let e = verify_endorsement(&prp, &endorser, &sig, &orgs).unwrap_err();
    assert_eq!(
        e,
        FabricError::CertNotChained {
            mspid: "Org1MSP".into()
        }
    );
}

#[test]
fn envelope_signature_mutations_fail() {
    let Some(blocks) = sample_blocks() else {
        return;
    };
    let cfg = channel_config_from_block(&blocks[0]).unwrap();
    let orgs = all_orgs(&cfg);
    for b in &blocks {
        let env = &block::envelopes(b)[0];
        let opened = block::open_envelope(env).unwrap();
        let mut m = opened.clone();
        m.envelope.signature = high_s_twin(&opened.envelope.signature).unwrap();
        assert_eq!(
            verify_envelope_signature(&m, &orgs, "channel").unwrap_err(),
            FabricError::HighS
        );
        let mut m = opened.clone();
        let last = m.envelope.payload.len() - 1;
        m.envelope.payload[last] ^= 1;
        assert_eq!(
            verify_envelope_signature(&m, &orgs, "channel")
                .unwrap_err()
                .name(),
            "invalid_signature"
        );
    }
}

#[test]
fn orderer_signatures_verify_on_sample_blocks() {
    let Some(blocks) = sample_blocks() else {
        return;
    };
    let cfg = channel_config_from_block(&blocks[0]).unwrap();
    for b in &blocks[1..] {
        let n = b.header.as_ref().unwrap().number;
        let orgs = verify_orderer_signatures(b, &cfg.orderer_orgs, 1)
            .unwrap_or_else(|e| panic!("{BLOCKFILE}: block {n} orderer signature: {e}"));
        assert_eq!(orgs, ["SampleOrg"]);
        // A single orderer org cannot meet a threshold of two.
        assert_eq!(
            verify_orderer_signatures(b, &cfg.orderer_orgs, 2).unwrap_err(),
            FabricError::InsufficientOrdererSignatures { got: 1, need: 2 }
        );
        // The signature covers the header: another number or data hash breaks it.
        let mut m = b.clone();
        m.header.as_mut().unwrap().number += 100;
        assert_eq!(
            verify_orderer_signatures(&m, &cfg.orderer_orgs, 1)
                .unwrap_err()
                .name(),
            "invalid_signature"
        );
        let mut m = b.clone();
        m.header.as_mut().unwrap().data_hash[0] ^= 1;
        assert_eq!(
            verify_orderer_signatures(&m, &cfg.orderer_orgs, 1)
                .unwrap_err()
                .name(),
            "invalid_signature"
        );
        // High-S twin of the orderer signature.
        let mut m = b.clone();
        let md_bytes = &mut m.metadata.as_mut().unwrap().metadata[0];
        let mut md = Metadata::decode(md_bytes.as_slice()).unwrap();
        md.signatures[0].signature = high_s_twin(&md.signatures[0].signature).unwrap();
        *md_bytes = md.encode_to_vec();
        assert_eq!(
            verify_orderer_signatures(&m, &cfg.orderer_orgs, 1).unwrap_err(),
            FabricError::HighS
        );
    }
}

#[test]
fn cluster_block3_orderer_signature_and_hashes() {
    let Some(bytes) = load(CLUSTER_BLOCK3) else {
        return;
    };
    let b3 = block::decode_block(&bytes).unwrap();
    assert_eq!(b3.header.as_ref().unwrap().number, 3);
    block::check_data_hash(&b3).unwrap();
    // The block carries a channel-creation config for channel `bar` from the same network;
    // its OrdererMSP roots are the ones that issued the orderer's certificate.
    let inner = channel_config_from_block(&b3).unwrap();
    assert_eq!(inner.channel_id, "bar");
    assert_eq!(
        verify_orderer_signatures(&b3, &inner.orderer_orgs, 1).unwrap(),
        ["OrdererMSP"]
    );
    // The cluster `mychannel` network has another OrdererMSP CA: the signer is not chained.
    let Some(g) = load(CLUSTER_GENESIS) else {
        return;
    };
    let gc = channel_config_from_block(&block::decode_block(&g).unwrap()).unwrap();
    assert_eq!(
        verify_orderer_signatures(&b3, &gc.orderer_orgs, 1).unwrap_err(),
        FabricError::CertNotChained {
            mspid: "OrdererMSP".into()
        }
    );
}

#[test]
fn every_byte_of_a_block_flipped_never_panics_or_verifies_differently() {
    let Some(bytes) = load(CLUSTER_BLOCK3) else {
        return;
    };
    let b3 = block::decode_block(&bytes).unwrap();
    let inner = channel_config_from_block(&b3).unwrap();
    let good_hash = block_header_hash(b3.header.as_ref().unwrap());
    // Every byte is flipped; the verdict is computed for each.
    for i in 0..bytes.len() {
        let m = flip(&bytes, i);
        let Ok(mb) = block::decode_block(&m) else {
            continue;
        };
        // Signatures are checked only when the data hash holds, as the client does.
        if block::check_data_hash(&mb).is_ok()
            && verify_orderer_signatures(&mb, &inner.orderer_orgs, 1).is_ok()
        {
            // Accepted only if the signed content is unchanged: the flip hit bytes the
            // header hash does not cover (metadata other than the signature, or protobuf
            // framing that decodes to the same header).
            assert_eq!(
                block_header_hash(mb.header.as_ref().unwrap()),
                good_hash,
                "byte {i}"
            );
            assert_eq!(block::envelopes(&mb), block::envelopes(&b3), "byte {i}");
        }
    }
}

#[test]
fn block_file_byte_flips_never_panic_and_never_pass_the_chain_check_changed() {
    let Some(bytes) = load(BLOCKFILE) else { return };
    let original = block::decode_block_file(&bytes).unwrap();
    for i in 0..bytes.len() {
        let Ok(blocks) = block::decode_block_file(&flip(&bytes, i)) else {
            continue;
        };
        let chain_ok = blocks.len() == original.len()
            && blocks.iter().enumerate().all(|(n, b)| {
                block::check_data_hash(b).is_ok()
                    && b.header.as_ref().unwrap().number == n as u64
                    && (n == 0
                        || b.header.as_ref().unwrap().previous_hash
                            == block_header_hash(blocks[n - 1].header.as_ref().unwrap()).to_vec())
            });
        if chain_ok {
            // Same verdict only when the hashed content is unchanged (a metadata flip, or a
            // flip in the last header's hashes would break the orderer signature instead).
            for (a, b) in blocks.iter().zip(&original) {
                assert_eq!(
                    block::envelopes(a),
                    block::envelopes(b),
                    "{BLOCKFILE}: byte {i}"
                );
            }
        }
    }
}

#[test]
fn genesis_byte_flips_never_panic() {
    let Some(bytes) = load(CLUSTER_GENESIS) else {
        return;
    };
    let mut parsed = 0;
    for i in (0..bytes.len()).step_by(3) {
        if let Ok(cfg) = junction_light_clients::fabric::config::channel_config_from_block_bytes(
            &flip(&bytes, i),
        ) {
            assert!(!cfg.orderer_orgs.is_empty());
            parsed += 1;
        }
    }
    // Most flips land in certificates or framing and are refused.
    assert!(parsed < bytes.len() / 3, "parsed {parsed}");
}

#[test]
fn real_endorsed_write_sets_decode() {
    use junction_light_clients::fabric::proto::{
        ChaincodeAction, KvRwSet, ProposalResponsePayload, TxReadWriteSet,
    };
    use junction_light_clients::fabric::verify::written_value;
    let Some(blocks) = sample_blocks() else {
        return;
    };
    let mut checked = 0;
    for b in &blocks[1..] {
        let n = b.header.as_ref().unwrap().number;
        let opened = block::open_envelope(&block::envelopes(b)[0]).unwrap();
        for action in endorsed_actions(&opened).unwrap() {
            let prp = ProposalResponsePayload::decode(action.proposal_response_payload.as_slice())
                .unwrap();
            let cca = ChaincodeAction::decode(prp.extension.as_slice()).unwrap();
            let rw = TxReadWriteSet::decode(cca.results.as_slice()).unwrap();
            for ns in &rw.ns_rwset {
                let kv = KvRwSet::decode(ns.rwset.as_slice()).unwrap();
                for w in kv.writes.iter().filter(|w| !w.is_delete) {
                    println!(
                        "block {n}: {} / {} = {} bytes",
                        ns.namespace,
                        w.key,
                        w.value.len()
                    );
                    let got = written_value(&action, &ns.namespace, &w.key).unwrap();
                    assert_eq!(
                        got.as_deref(),
                        Some(w.value.as_slice()),
                        "{BLOCKFILE}: block {n} {}",
                        w.key
                    );
                    checked += 1;
                }
            }
        }
    }
    assert!(
        checked > 0,
        "{BLOCKFILE}: no writes found in the _lifecycle transactions"
    );
}

#[test]
fn client_follows_the_real_ledger_and_needs_attestations_for_validity() {
    use junction_light_clients::fabric::{
        EndorsementPolicy, FabricClient, FabricHeader, FabricPath, FabricPolicy, FabricTxProof,
    };
    use junction_light_clients::{LightClient, Timestamp};
    let Some(blocks) = sample_blocks() else {
        return;
    };
    let policy = FabricPolicy {
        orderer_threshold: 1,
        endorsement: EndorsementPolicy {
            orgs: vec!["SampleOrg".into()],
            required: 1,
        },
        validation_threshold: 1,
    };
    let mut c = FabricClient::from_config_block(&blocks[0].encode_to_vec(), policy).unwrap();
    let now = Timestamp::from_secs(1_700_000_000);
    for b in &blocks[1..] {
        let n = b.header.as_ref().unwrap().number;
        let v = c
            .verify_header(
                &FabricHeader {
                    block: b.encode_to_vec(),
                },
                now,
            )
            .unwrap_or_else(|e| panic!("{BLOCKFILE}: block {n}: {e}"));
        c.apply_header(v);
    }
    assert_eq!(c.latest_height(), 7);
    // Block 4 writes marbles/marble1. Creator signature, endorsement policy and write set all
    // check out on real data; what is missing is the peers' signed word that it was VALID
    // (the block's filter says 0, but nobody signed that).
    let b4 = &blocks[4];
    let filter = block::metadata_entry(b4, 2);
    assert_eq!(filter, [0u8]);
    let tx_id = block::open_envelope(&block::envelopes(b4)[0])
        .unwrap()
        .channel_header
        .tx_id;
    let path = FabricPath::WriteSetValue {
        tx_id,
        namespace: "marbles".into(),
        key: "marble1".into(),
    };
    let value = {
        use junction_light_clients::fabric::verify::written_value;
        let opened = block::open_envelope(&block::envelopes(b4)[0]).unwrap();
        written_value(&endorsed_actions(&opened).unwrap()[0], "marbles", "marble1")
            .unwrap()
            .unwrap()
    };
    let proof = FabricTxProof {
        block: b4.encode_to_vec(),
        attestations: vec![],
    };
    assert_eq!(
        c.verify_membership(4, &path, &value, &proof).unwrap_err(),
        FabricError::InsufficientValidationAttestations { got: 0, need: 1 }
    );
    // The same block offered for height 5 is not the block verified there.
    assert_eq!(
        c.verify_membership(5, &path, &value, &proof)
            .unwrap_err()
            .name(),
        "header_hash_mismatch"
    );
}
