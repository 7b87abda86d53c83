//! Deterministic generator of signed Fabric inputs for tests and benchmarks: organizations
//! with seeded P-256 keys and self-made CA certificates, a genesis config block, endorser
//! transactions, orderer-signed blocks and validation attestations.
//!
//! Benchmarks: [`endorsement_case`] + [`verify_endorsement_case`] ("verify one Fabric
//! endorsement", certificate chain included), [`TestNetwork::block`] +
//! [`crate::fabric::verify::verify_orderer_signatures`] (one block's orderer signatures).

use std::collections::BTreeMap;
use std::str::FromStr;

use der::asn1::{Any, BitString, OctetString, UtcTime};
use der::{Encode, EncodePem};
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use prost::Message;
use sha2::{Digest, Sha256};
use x509_cert::certificate::{TbsCertificate, Version};
use x509_cert::ext::pkix::BasicConstraints;
use x509_cert::ext::Extension;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_cert::time::{Time, Validity};
use x509_cert::Certificate;

use super::attest::{SignedValidationAttestation, ValidationAttestation};
use super::block::{
    block_data_hash, block_header_bytes, block_header_hash, HEADER_TYPE_CONFIG,
    HEADER_TYPE_ENDORSER_TRANSACTION, METADATA_SIGNATURES, METADATA_TRANSACTIONS_FILTER,
};
use super::msp::{
    Msp, OID_BASIC_CONSTRAINTS, OID_ECDSA_WITH_SHA256, OID_EC_PUBLIC_KEY, OID_SECP256R1,
};
use super::proto::{
    Block, BlockData, BlockHeader, BlockMetadata, ChaincodeAction, ChaincodeActionPayload,
    ChaincodeEndorsedAction, ChannelHeader, Config, ConfigEnvelope, ConfigGroup, ConfigValue,
    Endorsement, Envelope, FabricMspConfig, Header, KvRwSet, KvWrite, Metadata, MetadataSignature,
    MspConfig, NsReadWriteSet, Payload, ProposalResponsePayload, SerializedIdentity,
    SignatureHeader, Transaction, TransactionAction, TxReadWriteSet,
};
use super::verify::{orderer_signed_bytes, verify_endorsement};
use super::FabricError;

/// A P-256 key derived from a label; retries the (negligible) out-of-range case.
pub fn seeded_key(label: &str) -> SigningKey {
    let mut counter = 0u32;
    loop {
        let mut h = Sha256::new();
        h.update(b"junction/fabric/testkit/key");
        h.update(label.as_bytes());
        h.update(counter.to_be_bytes());
        if let Ok(k) = SigningKey::from_slice(&h.finalize()) {
            return k;
        }
        counter = counter.wrapping_add(1);
    }
}

/// DER ECDSA signature over `msg`, normalized to low-S as Fabric signers do.
pub fn sign_low_s(key: &SigningKey, msg: &[u8]) -> Vec<u8> {
    let sig: Signature = key.sign(msg);
    sig.normalize_s()
        .unwrap_or(sig)
        .to_der()
        .as_bytes()
        .to_vec()
}

/// The high-S twin of a DER signature (same (r, n - s)): valid ECDSA, refused by Fabric.
pub fn high_s_twin(sig_der: &[u8]) -> Option<Vec<u8>> {
    let sig = Signature::from_der(sig_der).ok()?;
    let s = sig.s();
    let neg = -*s.as_ref();
    let twin = Signature::from_scalars(sig.r().to_bytes(), neg.to_bytes()).ok()?;
    Some(twin.to_der().as_bytes().to_vec())
}

fn time(secs: u64) -> Result<Time, FabricError> {
    UtcTime::from_unix_duration(core::time::Duration::from_secs(secs))
        .map(Time::UtcTime)
        .map_err(|_| FabricError::BadCertificate)
}

/// Build a certificate for `subject_key`, signed by `issuer_key`, as PEM.
fn make_cert(
    subject: &str,
    issuer: &str,
    subject_key: &SigningKey,
    issuer_key: &SigningKey,
    serial: u8,
    ca: bool,
) -> Result<Vec<u8>, FabricError> {
    let bad = |_| FabricError::BadCertificate;
    let point = subject_key.verifying_key().to_encoded_point(false);
    let ext_value = BasicConstraints {
        ca,
        path_len_constraint: None,
    }
    .to_der()
    .map_err(bad)?;
    let tbs = TbsCertificate {
        version: Version::V3,
        serial_number: SerialNumber::new(&[serial.max(1)]).map_err(bad)?,
        signature: AlgorithmIdentifierOwned {
            oid: OID_ECDSA_WITH_SHA256,
            parameters: None,
        },
        issuer: Name::from_str(issuer).map_err(bad)?,
        validity: Validity {
            not_before: time(1_600_000_000)?,
            not_after: time(2_400_000_000)?,
        },
        subject: Name::from_str(subject).map_err(bad)?,
        subject_public_key_info: SubjectPublicKeyInfoOwned {
            algorithm: AlgorithmIdentifierOwned {
                oid: OID_EC_PUBLIC_KEY,
                parameters: Some(Any::encode_from(&OID_SECP256R1).map_err(bad)?),
            },
            subject_public_key: BitString::from_bytes(point.as_bytes()).map_err(bad)?,
        },
        issuer_unique_id: None,
        subject_unique_id: None,
        extensions: Some(vec![Extension {
            extn_id: OID_BASIC_CONSTRAINTS,
            critical: true,
            extn_value: OctetString::new(ext_value).map_err(bad)?,
        }]),
    };
    let tbs_der = tbs.to_der().map_err(bad)?;
    // Certificate signatures may be high-S in Fabric; keep the raw RFC 6979 output.
    let sig: Signature = issuer_key.sign(&tbs_der);
    let cert = Certificate {
        tbs_certificate: tbs,
        signature_algorithm: AlgorithmIdentifierOwned {
            oid: OID_ECDSA_WITH_SHA256,
            parameters: None,
        },
        signature: BitString::from_bytes(sig.to_der().as_bytes()).map_err(bad)?,
    };
    cert.to_pem(der::pem::LineEnding::LF)
        .map(String::into_bytes)
        .map_err(bad)
}

/// One organization: a seeded root CA and one member (peer or orderer node) certificate.
#[derive(Clone, Debug)]
pub struct TestOrg {
    /// The MSP id.
    pub mspid: String,
    /// The root CA certificate (PEM).
    pub ca_cert: Vec<u8>,
    /// The member's key.
    pub member_key: SigningKey,
    /// The member's `SerializedIdentity` bytes.
    pub identity: Vec<u8>,
}

impl TestOrg {
    /// An org whose keys derive from `mspid` and `seed`.
    pub fn new(mspid: &str, seed: u64) -> Result<Self, FabricError> {
        let ca_key = seeded_key(&format!("{mspid}/{seed}/ca"));
        let member_key = seeded_key(&format!("{mspid}/{seed}/member"));
        let ca_name = format!("CN=ca.{mspid},O={mspid}");
        let ca_cert = make_cert(&ca_name, &ca_name, &ca_key, &ca_key, 1, true)?;
        let member_cert = make_cert(
            &format!("CN=node.{mspid},O={mspid}"),
            &ca_name,
            &member_key,
            &ca_key,
            2,
            false,
        )?;
        let identity = SerializedIdentity {
            mspid: mspid.to_string(),
            id_bytes: member_cert,
        }
        .encode_to_vec();
        Ok(Self {
            mspid: mspid.to_string(),
            ca_cert,
            member_key,
            identity,
        })
    }

    /// The org's MSP (its root CA).
    pub fn msp(&self) -> Result<Msp, FabricError> {
        Msp::new(&self.mspid, std::slice::from_ref(&self.ca_cert), &[])
    }

    /// The member's low-S signature over `msg`.
    pub fn sign(&self, msg: &[u8]) -> Vec<u8> {
        sign_low_s(&self.member_key, msg)
    }

    fn fabric_msp_value(&self) -> ConfigValue {
        let fabric = FabricMspConfig {
            name: self.mspid.clone(),
            root_certs: vec![self.ca_cert.clone()],
            ..Default::default()
        };
        let msp = MspConfig {
            r#type: 0,
            config: fabric.encode_to_vec(),
        };
        ConfigValue {
            version: 0,
            value: msp.encode_to_vec(),
            mod_policy: "Admins".into(),
        }
    }
}

/// A channel with orderer orgs and peer orgs, all seeded.
#[derive(Clone, Debug)]
pub struct TestNetwork {
    /// The channel id.
    pub channel: String,
    /// Orderer orgs (`OrdererN`).
    pub orderers: Vec<TestOrg>,
    /// Application orgs (`OrgN`).
    pub peers: Vec<TestOrg>,
}

impl TestNetwork {
    /// `orderers` orderer orgs and `peers` application orgs on channel `channel`.
    pub fn new(
        channel: &str,
        seed: u64,
        orderers: usize,
        peers: usize,
    ) -> Result<Self, FabricError> {
        let orderers = (1..=orderers)
            .map(|i| TestOrg::new(&format!("Orderer{i}MSP"), seed))
            .collect::<Result<_, _>>()?;
        let peers = (1..=peers)
            .map(|i| TestOrg::new(&format!("Org{i}MSP"), seed))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            channel: channel.to_string(),
            orderers,
            peers,
        })
    }

    /// The policy of a majority everywhere: blocks signed by a majority of the orderer
    /// orgs, actions endorsed by a majority of the peer orgs (all listed), transactions
    /// attested VALID by peers of a majority of them.
    pub fn majority_policy(&self) -> super::FabricPolicy {
        let peers = self.peers.len();
        super::FabricPolicy {
            orderer_threshold: self.orderers.len() / 2 + 1,
            endorsement: super::EndorsementPolicy {
                orgs: self.peers.iter().map(|o| o.mspid.clone()).collect(),
                required: peers / 2 + 1,
            },
            validation_threshold: peers / 2 + 1,
        }
    }

    /// Orderer MSPs by id.
    pub fn orderer_msps(&self) -> Result<BTreeMap<String, Msp>, FabricError> {
        self.orderers
            .iter()
            .map(|o| Ok((o.mspid.clone(), o.msp()?)))
            .collect()
    }

    /// Application MSPs by id.
    pub fn peer_msps(&self) -> Result<BTreeMap<String, Msp>, FabricError> {
        self.peers
            .iter()
            .map(|o| Ok((o.mspid.clone(), o.msp()?)))
            .collect()
    }

    fn envelope(&self, r#type: i32, tx_id: &str, creator: &TestOrg, data: Vec<u8>) -> Vec<u8> {
        let ch = ChannelHeader {
            r#type,
            channel_id: self.channel.clone(),
            tx_id: tx_id.to_string(),
            ..Default::default()
        };
        let sh = SignatureHeader {
            creator: creator.identity.clone(),
            nonce: Sha256::digest(tx_id.as_bytes()).to_vec(),
        };
        let payload = Payload {
            header: Some(Header {
                channel_header: ch.encode_to_vec(),
                signature_header: sh.encode_to_vec(),
            }),
            data,
        }
        .encode_to_vec();
        let signature = creator.sign(&payload);
        Envelope { payload, signature }.encode_to_vec()
    }

    /// The CONFIG envelope of sequence `sequence` listing every org.
    pub fn config_envelope(&self, sequence: u64) -> Vec<u8> {
        let org_group = |o: &TestOrg| {
            let mut g = ConfigGroup::default();
            g.values.insert("MSP".into(), o.fabric_msp_value());
            (o.mspid.trim_end_matches("MSP").to_string(), g)
        };
        let orderer = ConfigGroup {
            groups: self.orderers.iter().map(org_group).collect(),
            ..Default::default()
        };
        let app = ConfigGroup {
            groups: self.peers.iter().map(org_group).collect(),
            ..Default::default()
        };
        let mut root = ConfigGroup::default();
        root.groups.insert("Orderer".into(), orderer);
        root.groups.insert("Application".into(), app);
        let env = ConfigEnvelope {
            config: Some(Config {
                sequence,
                channel_group: Some(root),
            }),
        };
        let creator = self.orderers.first().or(self.peers.first());
        match creator {
            Some(c) => self.envelope(HEADER_TYPE_CONFIG, "", c, env.encode_to_vec()),
            None => Vec::new(),
        }
    }

    /// An ENDORSER_TRANSACTION created by peer org `creator` writing `value` to
    /// `namespace`/`key`, endorsed by the peer orgs at `endorsers` (indices into `peers`).
    pub fn endorser_tx(
        &self,
        tx_id: &str,
        creator: usize,
        endorsers: &[usize],
        namespace: &str,
        key: &str,
        value: &[u8],
    ) -> Vec<u8> {
        let kv = KvRwSet {
            writes: vec![KvWrite {
                key: key.to_string(),
                is_delete: false,
                value: value.to_vec(),
            }],
        };
        let rw = TxReadWriteSet {
            data_model: 0,
            ns_rwset: vec![NsReadWriteSet {
                namespace: namespace.to_string(),
                rwset: kv.encode_to_vec(),
            }],
        };
        let cca = ChaincodeAction {
            results: rw.encode_to_vec(),
            events: Vec::new(),
        };
        let prp = ProposalResponsePayload {
            proposal_hash: Sha256::digest(tx_id.as_bytes()).to_vec(),
            extension: cca.encode_to_vec(),
        }
        .encode_to_vec();
        let endorsements = endorsers
            .iter()
            .filter_map(|i| self.peers.get(*i))
            .map(|org| {
                let mut msg = prp.clone();
                msg.extend_from_slice(&org.identity);
                Endorsement {
                    endorser: org.identity.clone(),
                    signature: org.sign(&msg),
                }
            })
            .collect();
        let cap = ChaincodeActionPayload {
            chaincode_proposal_payload: Vec::new(),
            action: Some(ChaincodeEndorsedAction {
                proposal_response_payload: prp,
                endorsements,
            }),
        };
        let tx = Transaction {
            actions: vec![TransactionAction {
                header: Vec::new(),
                payload: cap.encode_to_vec(),
            }],
        };
        match self.peers.get(creator).or(self.peers.first()) {
            Some(c) => self.envelope(
                HEADER_TYPE_ENDORSER_TRANSACTION,
                tx_id,
                c,
                tx.encode_to_vec(),
            ),
            None => Vec::new(),
        }
    }

    /// A block of `envelopes` after `previous_hash`, signed by the orderer orgs at `signers`,
    /// with a transaction filter marking every envelope VALID.
    pub fn block(
        &self,
        number: u64,
        previous_hash: &[u8],
        envelopes: Vec<Vec<u8>>,
        signers: &[usize],
    ) -> Block {
        let data = BlockData { data: envelopes };
        let header = BlockHeader {
            number,
            previous_hash: previous_hash.to_vec(),
            data_hash: block_data_hash(&data).to_vec(),
        };
        let filter = vec![0u8; data.data.len()];
        let mut block = Block {
            header: Some(header),
            data: Some(data),
            metadata: None,
        };
        let mut metadata = vec![Vec::new(); 5];
        if let Some(slot) = metadata.get_mut(METADATA_SIGNATURES) {
            *slot = self.orderer_metadata(&block, signers).encode_to_vec();
        }
        if let Some(slot) = metadata.get_mut(METADATA_TRANSACTIONS_FILTER) {
            *slot = filter;
        }
        block.metadata = Some(BlockMetadata { metadata });
        block
    }

    /// The SIGNATURES metadata for `block` by the orderer orgs at `signers`.
    pub fn orderer_metadata(&self, block: &Block, signers: &[usize]) -> Metadata {
        let header_der = block
            .header
            .as_ref()
            .map(block_header_bytes)
            .unwrap_or_default();
        let value = b"orderer block metadata".to_vec();
        let signatures = signers
            .iter()
            .filter_map(|i| self.orderers.get(*i))
            .map(|o| {
                let sh = SignatureHeader {
                    creator: o.identity.clone(),
                    nonce: vec![7; 24],
                }
                .encode_to_vec();
                let signature = o.sign(&orderer_signed_bytes(&value, &sh, &header_der));
                MetadataSignature {
                    signature_header: sh,
                    signature,
                    identifier_header: Vec::new(),
                }
            })
            .collect();
        Metadata { value, signatures }
    }

    /// The genesis config block (number 0), unsigned as Fabric's genesis block is.
    pub fn genesis_block(&self) -> Block {
        let data = BlockData {
            data: vec![self.config_envelope(0)],
        };
        let header = BlockHeader {
            number: 0,
            previous_hash: Vec::new(),
            data_hash: block_data_hash(&data).to_vec(),
        };
        Block {
            header: Some(header),
            data: Some(data),
            metadata: Some(BlockMetadata {
                metadata: vec![Vec::new(); 5],
            }),
        }
    }

    /// A validation attestation by the peer of org `org` (index into `peers`).
    pub fn attest(
        &self,
        org: usize,
        block_number: u64,
        tx_id: &str,
        validation_code: u32,
    ) -> Option<SignedValidationAttestation> {
        let o = self.peers.get(org)?;
        let attestation = ValidationAttestation {
            channel: self.channel.clone(),
            block_number,
            tx_id: tx_id.to_string(),
            validation_code,
        };
        let signature = o.sign(&attestation.signing_bytes());
        Some(SignedValidationAttestation {
            attestation,
            signer: o.identity.clone(),
            signature,
        })
    }
}

/// Header hash of a generated block (all-zero when it has no header).
pub fn hash_of(block: &Block) -> [u8; 32] {
    block
        .header
        .as_ref()
        .map(block_header_hash)
        .unwrap_or_default()
}

/// One endorsement with everything needed to verify it, for the "verify one Fabric
/// endorsement" benchmark.
#[derive(Clone, Debug)]
pub struct EndorsementCase {
    /// The proposal response payload.
    pub proposal_response_payload: Vec<u8>,
    /// The endorser's serialized identity.
    pub endorser: Vec<u8>,
    /// The DER signature.
    pub signature: Vec<u8>,
    /// The application MSPs (root CA certificates).
    pub msps: BTreeMap<String, Msp>,
}

/// A seeded endorsement by `Org1MSP`'s peer.
pub fn endorsement_case(seed: u64) -> Result<EndorsementCase, FabricError> {
    let org = TestOrg::new("Org1MSP", seed)?;
    let prp = ProposalResponsePayload {
        proposal_hash: vec![0xab; 32],
        extension: b"chaincode action".to_vec(),
    }
    .encode_to_vec();
    let mut msg = prp.clone();
    msg.extend_from_slice(&org.identity);
    let signature = org.sign(&msg);
    let mut msps = BTreeMap::new();
    msps.insert(org.mspid.clone(), org.msp()?);
    Ok(EndorsementCase {
        proposal_response_payload: prp,
        endorser: org.identity,
        signature,
        msps,
    })
}

/// Verify the case (certificate chain, low-S, signature). Returns the endorser's MSP id.
pub fn verify_endorsement_case(case: &EndorsementCase) -> Result<String, FabricError> {
    verify_endorsement(
        &case.proposal_response_payload,
        &case.endorser,
        &case.signature,
        &case.msps,
    )
}

/// The protobuf encoding of a generated block.
pub fn encode_block(block: &Block) -> Vec<u8> {
    block.encode_to_vec()
}
