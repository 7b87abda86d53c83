//! What the hub's state and relayer messages carry for a Hyperledger Fabric channel (a
//! packet source on the hub), in the canonical encoding (spec/encoding.md rules): the
//! council's trust root, the stored client, and the proof that a transaction committed a
//! packet.
//!
//! **How a Fabric app sends a packet.** The Junction chaincode named by the trust root
//! writes, in the transaction that sends the packet, the key `key_prefix ‖ "commitments/" ‖
//! hex(PacketKey::hash)` with the 32 bytes of `Packet::hash` as value. The hub takes the
//! commitment from a block the channel's orderers signed, in a transaction whose creator
//! and endorsers chain to the channel's MSPs under the registered endorsement policy, and
//! which peers of enough orgs attest VALID (the block's validity filter is signed by no
//! one).

use std::collections::BTreeMap;

use junction_spec::encoding::{decode_bytes, decode_string, decode_vec, encode_bytes, encode_str};
use junction_spec::{Decode, DecodeError, Encode, Reader};

use super::attest::{SignedValidationAttestation, ValidationAttestation};
use super::block;
use super::client::{FabricClient, FabricPath, FabricPolicy, FabricTxProof};
use super::config::channel_config_from_envelope;
use super::verify::EndorsementPolicy;
use super::{FabricError, MAX_ATTESTATIONS, MAX_IDENTITY_BYTES, MAX_ID_LEN, MAX_ORGS};
use crate::LightClient;

/// Largest config block a trust root may carry (the registration's own bound is 32,768).
pub const MAX_CONFIG_BLOCK_BYTES: usize = 32_000;
/// Largest block a packet proof may carry (the relayer message bounds a proof at 32,768).
pub const MAX_PROOF_BLOCK_BYTES: usize = 32_000;
/// Largest chaincode name or key prefix of a commitment layout.
pub const MAX_LAYOUT_LEN: usize = 64;
/// Key segment before a packet key hash in the chaincode's state.
pub const COMMITMENTS: &str = "commitments/";
/// Largest DER signature (P-256).
const MAX_SIGNATURE_BYTES: usize = 80;

/// The council's trust root for a Fabric channel: a config block it checked out of band
/// (usually the genesis block), the thresholds, and where the channel's Junction chaincode
/// keeps commitments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FabricTrustRoot {
    /// The encoded `common.Block` holding the channel config.
    pub config_block: Vec<u8>,
    /// Orderer, endorsement and validation thresholds.
    pub policy: FabricPolicy,
    /// The chaincode (namespace) whose write sets carry commitments.
    pub chaincode: String,
    /// The key prefix of commitments inside it.
    pub key_prefix: String,
    /// When the council vouched for the config block, ms since the epoch: Fabric blocks
    /// carry no time the orderers sign, so the client's trusting period runs from this
    /// time, and then from the hub time of each block it takes.
    pub time_ms: u64,
}

fn encode_policy(p: &FabricPolicy, out: &mut Vec<u8>) {
    (p.orderer_threshold as u64).encode_to(out);
    junction_spec::encoding::encode_len(p.endorsement.orgs.len(), out);
    for org in &p.endorsement.orgs {
        encode_str(org, out);
    }
    (p.endorsement.required as u64).encode_to(out);
    (p.validation_threshold as u64).encode_to(out);
}

fn decode_usize(r: &mut Reader<'_>) -> Result<usize, DecodeError> {
    usize::try_from(u64::decode_from(r)?).map_err(|_| DecodeError::NonCanonical("count too large"))
}

fn decode_policy(r: &mut Reader<'_>) -> Result<FabricPolicy, DecodeError> {
    let orderer_threshold = decode_usize(r)?;
    let n = r.read_len(MAX_ORGS)?;
    let orgs = (0..n)
        .map(|_| decode_string(r, MAX_ID_LEN))
        .collect::<Result<Vec<_>, _>>()?;
    let required = decode_usize(r)?;
    let validation_threshold = decode_usize(r)?;
    Ok(FabricPolicy {
        orderer_threshold,
        endorsement: EndorsementPolicy { orgs, required },
        validation_threshold,
    })
}

/// config block bytes (cap 32,000) ‖ policy (orderer threshold u64 ‖ u32 count ‖ endorsing
/// orgs (string)* ‖ endorsements required u64 ‖ validation threshold u64) ‖ chaincode
/// (string, cap 64) ‖ key prefix (string, cap 64) ‖ time ms u64.
impl Encode for FabricTrustRoot {
    fn encode_to(&self, out: &mut Vec<u8>) {
        encode_bytes(&self.config_block, out);
        encode_policy(&self.policy, out);
        encode_str(&self.chaincode, out);
        encode_str(&self.key_prefix, out);
        self.time_ms.encode_to(out);
    }
}

impl Decode for FabricTrustRoot {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            config_block: decode_bytes(r, MAX_CONFIG_BLOCK_BYTES)?,
            policy: decode_policy(r)?,
            chaincode: decode_string(r, MAX_LAYOUT_LEN)?,
            key_prefix: decode_string(r, MAX_LAYOUT_LEN)?,
            time_ms: Decode::decode_from(r)?,
        })
    }
}

impl FabricTrustRoot {
    /// The client this root starts, with the config envelope it trusts.
    pub fn start_client(&self) -> Result<StoredFabricClient, FabricError> {
        if self.chaincode.is_empty() {
            return Err(FabricError::MissingField {
                what: "the commitment chaincode",
            });
        }
        let client = FabricClient::from_config_block(&self.config_block, self.policy.clone())?;
        let block = block::decode_block(&self.config_block)?;
        let config_envelope =
            block::envelopes(&block)
                .first()
                .cloned()
                .ok_or(FabricError::MissingField {
                    what: "config envelope",
                })?;
        Ok(StoredFabricClient {
            client,
            config_envelope,
            last_update_ms: self.time_ms,
        })
    }

    /// The key the chaincode writes a packet's commitment to.
    pub fn commitment_key(&self, key_hash: &[u8; 32]) -> String {
        commitment_key(&self.key_prefix, key_hash)
    }
}

/// `key_prefix ‖ "commitments/" ‖ lowercase hex of the packet key hash`.
pub fn commitment_key(key_prefix: &str, key_hash: &[u8; 32]) -> String {
    format!("{key_prefix}{COMMITMENTS}{}", hex::encode(key_hash))
}

/// A Fabric client as the hub stores it: the client and the config envelope its channel
/// config comes from (kept as the channel wrote it, and parsed again on reading).
#[derive(Clone, Debug)]
pub struct StoredFabricClient {
    /// The client.
    pub client: FabricClient,
    /// The envelope of the config the client holds.
    pub config_envelope: Vec<u8>,
    /// The hub time the client last took a block (the trust root's time before the
    /// first), ms: what its trusting period runs from.
    pub last_update_ms: u64,
}

impl StoredFabricClient {
    /// Verifies a block and applies it, keeping at most `keep` blocks; a config block
    /// replaces the config envelope. Returns the block number.
    pub fn update(
        &mut self,
        block_bytes: &[u8],
        now: crate::Timestamp,
        keep: usize,
    ) -> Result<u64, FabricError> {
        let header = super::client::FabricHeader {
            block: block_bytes.to_vec(),
        };
        let mut verified = self.client.verify_header(&header, now)?;
        let number = verified.number;
        if let Some(env) = verified.new_config_envelope.take() {
            self.config_envelope = env;
        }
        self.client.apply_header(verified);
        self.client.keep_blocks(keep);
        self.last_update_ms = self.last_update_ms.max(now.nanos() / 1_000_000);
        Ok(number)
    }
}

/// config envelope bytes (cap 32,000) ‖ policy ‖ frozen Option<u64> ‖ u32 count ‖ (block
/// number u64 ‖ header hash 32)* by increasing number (the last is the latest) ‖ last
/// update ms u64.
impl Encode for StoredFabricClient {
    fn encode_to(&self, out: &mut Vec<u8>) {
        encode_bytes(&self.config_envelope, out);
        encode_policy(self.client.policy(), out);
        self.client.frozen().encode_to(out);
        junction_spec::encoding::encode_len(self.client.blocks().len(), out);
        for (n, h) in self.client.blocks() {
            n.encode_to(out);
            h.encode_to(out);
        }
        self.last_update_ms.encode_to(out);
    }
}

impl Decode for StoredFabricClient {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let config_envelope = decode_bytes(r, MAX_CONFIG_BLOCK_BYTES)?;
        let policy = decode_policy(r)?;
        let frozen = Option::<u64>::decode_from(r)?;
        let n = r.read_len(super::client::MAX_STORED_BLOCKS)?;
        let mut blocks = BTreeMap::new();
        for _ in 0..n {
            let number = u64::decode_from(r)?;
            if blocks.keys().next_back().is_some_and(|k| *k >= number) {
                return Err(DecodeError::NonCanonical("fabric blocks not increasing"));
            }
            blocks.insert(number, <[u8; 32]>::decode_from(r)?);
        }
        let last_update_ms = u64::decode_from(r)?;
        let config = channel_config_from_envelope(&config_envelope, 0)
            .map_err(|_| DecodeError::NonCanonical("fabric config envelope"))?;
        let client = FabricClient::from_parts(config, policy, blocks, frozen)
            .map_err(|_| DecodeError::NonCanonical("inconsistent fabric client state"))?;
        Ok(Self {
            client,
            config_envelope,
            last_update_ms,
        })
    }
}

/// A transaction's commitment to a packet, as a relayer proves it: the transaction id, the
/// block holding it and the peers' VALID attestations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PacketProof {
    /// The transaction id.
    pub tx_id: String,
    /// The encoded block at the proof's height.
    pub block: Vec<u8>,
    /// Signed VALID statements by peers of distinct orgs.
    pub attestations: Vec<SignedValidationAttestation>,
}

impl Encode for SignedValidationAttestation {
    fn encode_to(&self, out: &mut Vec<u8>) {
        let a = &self.attestation;
        encode_str(&a.channel, out);
        a.block_number.encode_to(out);
        encode_str(&a.tx_id, out);
        a.validation_code.encode_to(out);
        encode_bytes(&self.signer, out);
        encode_bytes(&self.signature, out);
    }
}

impl Decode for SignedValidationAttestation {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            attestation: ValidationAttestation {
                channel: decode_string(r, MAX_ID_LEN)?,
                block_number: Decode::decode_from(r)?,
                tx_id: decode_string(r, MAX_ID_LEN)?,
                validation_code: Decode::decode_from(r)?,
            },
            signer: decode_bytes(r, MAX_IDENTITY_BYTES)?,
            signature: decode_bytes(r, MAX_SIGNATURE_BYTES)?,
        })
    }
}

/// tx id (string, cap 256) ‖ block bytes (cap 32,000) ‖ u32 count ‖ attestations (channel
/// string ‖ block number u64 ‖ tx id string ‖ validation code u32 ‖ signer bytes ‖ DER
/// signature bytes)*.
impl Encode for PacketProof {
    fn encode_to(&self, out: &mut Vec<u8>) {
        encode_str(&self.tx_id, out);
        encode_bytes(&self.block, out);
        junction_spec::encoding::encode_vec(&self.attestations, out);
    }
}

impl Decode for PacketProof {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            tx_id: decode_string(r, MAX_ID_LEN)?,
            block: decode_bytes(r, MAX_PROOF_BLOCK_BYTES)?,
            attestations: decode_vec(r, MAX_ATTESTATIONS)?,
        })
    }
}

/// Verifies that transaction `proof.tx_id` in the verified block at `height` is endorsed,
/// attested VALID, and that its write set in `chaincode` sets the packet's commitment key
/// to `packet_hash`.
pub fn verify_packet_commitment(
    client: &FabricClient,
    chaincode: &str,
    key_prefix: &str,
    height: u64,
    proof: &PacketProof,
    key_hash: &[u8; 32],
    packet_hash: &[u8; 32],
) -> Result<(), FabricError> {
    let path = FabricPath::WriteSetValue {
        tx_id: proof.tx_id.clone(),
        namespace: chaincode.to_owned(),
        key: commitment_key(key_prefix, key_hash),
    };
    client.verify_membership(
        height,
        &path,
        packet_hash,
        &FabricTxProof {
            block: proof.block.clone(),
            attestations: proof.attestations.clone(),
        },
    )
}
