//! Signature checks on blocks and transactions: orderer block signatures, the creator's
//! envelope signature and endorsements.

use std::collections::{BTreeMap, BTreeSet};

use super::block::{
    self, block_header_bytes, OpenedEnvelope, HEADER_TYPE_ENDORSER_TRANSACTION, METADATA_SIGNATURES,
};
use super::msp::{verify_signed_by_member, Msp};
use super::proto::{
    Block, ChaincodeAction, ChaincodeActionPayload, ChaincodeEndorsedAction, KvRwSet, Metadata,
    ProposalResponsePayload, SignatureHeader, Transaction, TxReadWriteSet,
};
use super::{
    bound, decode_bounded, FabricError, MAX_ACTIONS_PER_TX, MAX_BLOCK_BYTES, MAX_ENDORSEMENTS,
    MAX_IDENTITY_BYTES, MAX_ORDERER_SIGNATURES,
};

/// The bytes an orderer signs for a block: `metadata.value || signature_header ||
/// BlockHeaderBytes(header)` (Fabric's `BlockSignatureVerifier`).
pub fn orderer_signed_bytes(value: &[u8], signature_header: &[u8], header_der: &[u8]) -> Vec<u8> {
    let mut msg = Vec::with_capacity(
        value
            .len()
            .saturating_add(signature_header.len())
            .saturating_add(header_der.len()),
    );
    msg.extend_from_slice(value);
    msg.extend_from_slice(signature_header);
    msg.extend_from_slice(header_der);
    msg
}

/// Check the orderer signatures in the block's `SIGNATURES` metadata: every signature must
/// verify (low-S) under a certificate chained to an orderer org's MSP, and at least
/// `threshold` distinct orderer orgs must have signed. Returns the signing orgs.
pub fn verify_orderer_signatures(
    block: &Block,
    orderer_orgs: &BTreeMap<String, Msp>,
    threshold: usize,
) -> Result<Vec<String>, FabricError> {
    if threshold == 0 {
        return Err(FabricError::InvalidThreshold {
            what: "orderer",
            threshold,
            orgs: orderer_orgs.len(),
        });
    }
    let header_der = block_header_bytes(block::header(block)?);
    let raw = block::metadata_entry(block, METADATA_SIGNATURES);
    let md: Metadata = decode_bounded(raw, "signatures metadata", MAX_BLOCK_BYTES)?;
    bound(
        "orderer signatures",
        md.signatures.len(),
        MAX_ORDERER_SIGNATURES,
    )?;
    let mut orgs = BTreeSet::new();
    for sig in &md.signatures {
        if sig.signature_header.is_empty() {
            return Err(if sig.identifier_header.is_empty() {
                FabricError::MissingField {
                    what: "orderer signature header",
                }
            } else {
                FabricError::UnsupportedBftSignature
            });
        }
        let sh: SignatureHeader = decode_bounded(
            &sig.signature_header,
            "orderer signature header",
            MAX_IDENTITY_BYTES,
        )?;
        let msg = orderer_signed_bytes(&md.value, &sig.signature_header, &header_der);
        let org = verify_signed_by_member(
            orderer_orgs,
            "orderer",
            &sh.creator,
            &msg,
            &sig.signature,
            "block",
        )?;
        orgs.insert(org.to_string());
    }
    if orgs.len() < threshold {
        return Err(FabricError::InsufficientOrdererSignatures {
            got: orgs.len(),
            need: threshold,
        });
    }
    Ok(orgs.into_iter().collect())
}

/// Decode a block, check its data hash and its orderer signatures (see
/// [`verify_orderer_signatures`]). Returns the block and the signing orderer orgs.
pub fn verify_block(
    bytes: &[u8],
    orderer_orgs: &BTreeMap<String, Msp>,
    threshold: usize,
) -> Result<(Block, Vec<String>), FabricError> {
    let block = block::decode_block(bytes)?;
    block::check_data_hash(&block)?;
    let orgs = verify_orderer_signatures(&block, orderer_orgs, threshold)?;
    Ok((block, orgs))
}

/// Check the creator's signature over the envelope payload; the creator must belong to one
/// of `orgs`. Returns the creator's MSP id.
pub fn verify_envelope_signature(
    opened: &OpenedEnvelope,
    orgs: &BTreeMap<String, Msp>,
    role: &'static str,
) -> Result<String, FabricError> {
    verify_signed_by_member(
        orgs,
        role,
        &opened.signature_header.creator,
        &opened.envelope.payload,
        &opened.envelope.signature,
        "envelope payload",
    )
    .map(str::to_string)
}

/// Who must endorse: at least `required` distinct orgs among `orgs`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndorsementPolicy {
    /// The orgs (MSP ids) whose endorsements count.
    pub orgs: Vec<String>,
    /// How many distinct listed orgs must endorse each action.
    pub required: usize,
}

/// Check one endorsement: the signature over `proposal_response_payload || endorser` by a
/// certificate chained to one of `application_orgs`. Returns the endorser's MSP id.
pub fn verify_endorsement(
    proposal_response_payload: &[u8],
    endorser: &[u8],
    signature: &[u8],
    application_orgs: &BTreeMap<String, Msp>,
) -> Result<String, FabricError> {
    let mut msg = Vec::with_capacity(
        proposal_response_payload
            .len()
            .saturating_add(endorser.len()),
    );
    msg.extend_from_slice(proposal_response_payload);
    msg.extend_from_slice(endorser);
    verify_signed_by_member(
        application_orgs,
        "application",
        endorser,
        &msg,
        signature,
        "endorsement",
    )
    .map(str::to_string)
}

/// Check all endorsements of an action (each must verify) and that distinct listed orgs
/// reach `policy.required`; an org endorsing twice counts once. Returns the counted orgs.
pub fn verify_endorsed_action(
    action: &ChaincodeEndorsedAction,
    application_orgs: &BTreeMap<String, Msp>,
    policy: &EndorsementPolicy,
) -> Result<Vec<String>, FabricError> {
    if policy.required == 0 || policy.required > policy.orgs.len() {
        return Err(FabricError::InvalidThreshold {
            what: "endorsement",
            threshold: policy.required,
            orgs: policy.orgs.len(),
        });
    }
    bound("endorsements", action.endorsements.len(), MAX_ENDORSEMENTS)?;
    let mut orgs = BTreeSet::new();
    for e in &action.endorsements {
        let org = verify_endorsement(
            &action.proposal_response_payload,
            &e.endorser,
            &e.signature,
            application_orgs,
        )?;
        if policy.orgs.contains(&org) {
            orgs.insert(org);
        }
    }
    if orgs.len() < policy.required {
        return Err(FabricError::InsufficientEndorsements {
            got: orgs.len(),
            need: policy.required,
        });
    }
    Ok(orgs.into_iter().collect())
}

/// The endorsed actions of an ENDORSER_TRANSACTION envelope.
pub fn endorsed_actions(
    opened: &OpenedEnvelope,
) -> Result<Vec<ChaincodeEndorsedAction>, FabricError> {
    if opened.channel_header.r#type != HEADER_TYPE_ENDORSER_TRANSACTION {
        return Err(FabricError::WrongHeaderType {
            got: opened.channel_header.r#type,
        });
    }
    let tx: Transaction = decode_bounded(&opened.payload.data, "transaction", MAX_BLOCK_BYTES)?;
    bound("transaction actions", tx.actions.len(), MAX_ACTIONS_PER_TX)?;
    if tx.actions.is_empty() {
        return Err(FabricError::MissingField {
            what: "transaction actions",
        });
    }
    let mut out = Vec::with_capacity(tx.actions.len());
    for a in &tx.actions {
        let cap: ChaincodeActionPayload =
            decode_bounded(&a.payload, "chaincode action payload", MAX_BLOCK_BYTES)?;
        out.push(cap.action.ok_or(FabricError::MissingField {
            what: "endorsed action",
        })?);
    }
    Ok(out)
}

/// The value the endorsed write set of `action` writes to `key` in `namespace`, if any.
/// A delete is reported as not written.
pub fn written_value(
    action: &ChaincodeEndorsedAction,
    namespace: &str,
    key: &str,
) -> Result<Option<Vec<u8>>, FabricError> {
    let prp: ProposalResponsePayload = decode_bounded(
        &action.proposal_response_payload,
        "proposal response payload",
        MAX_BLOCK_BYTES,
    )?;
    let cca: ChaincodeAction = decode_bounded(&prp.extension, "chaincode action", MAX_BLOCK_BYTES)?;
    let rw: TxReadWriteSet = decode_bounded(&cca.results, "read-write set", MAX_BLOCK_BYTES)?;
    let mut found = None;
    for ns in rw.ns_rwset.iter().filter(|ns| ns.namespace == namespace) {
        let kv: KvRwSet = decode_bounded(&ns.rwset, "kv read-write set", MAX_BLOCK_BYTES)?;
        for w in kv.writes.iter().filter(|w| w.key == key) {
            // Two writes of one key make the written value ambiguous.
            if found.is_some() {
                return Err(FabricError::Malformed {
                    what: "key written twice",
                });
            }
            found = Some(if w.is_delete {
                None
            } else {
                Some(w.value.clone())
            });
        }
    }
    Ok(found.flatten())
}

/// Find the envelope with `tx_id` in the block: its index and the opened envelope. Refuses
/// a block where the id appears twice (Fabric would invalidate the duplicate).
pub fn find_transaction(
    block: &Block,
    tx_id: &str,
) -> Result<(usize, OpenedEnvelope), FabricError> {
    let mut found = None;
    for (i, env) in block::envelopes(block).iter().enumerate() {
        // Envelopes that do not open cannot carry the id; they do not block the search.
        let Ok(opened) = block::open_envelope(env) else {
            continue;
        };
        if opened.channel_header.tx_id == tx_id {
            if found.is_some() {
                return Err(FabricError::DuplicateTxId);
            }
            found = Some((i, opened));
        }
    }
    found.ok_or(FabricError::TxNotFound)
}
