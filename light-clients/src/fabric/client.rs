//! [`FabricClient`]: a light client of one Fabric channel.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use super::attest::{verify_validation_attestations, SignedValidationAttestation};
use super::block::{
    self, block_header_hash, HEADER_TYPE_CONFIG, HEADER_TYPE_ENDORSER_TRANSACTION,
    METADATA_TRANSACTIONS_FILTER, TX_VALID,
};
use super::config::{channel_config_from_block, channel_config_from_envelope, ChannelConfig};
use super::verify::{
    endorsed_actions, find_transaction, verify_endorsed_action, verify_envelope_signature,
    verify_orderer_signatures, written_value, EndorsementPolicy,
};
use super::{bound, FabricError, MAX_ID_LEN};
use crate::{ClientStatus, LightClient, Timestamp};

/// How many verified blocks the client remembers for membership proofs.
pub const MAX_STORED_BLOCKS: usize = 4096;

/// The thresholds a Fabric client enforces, set when the chain is registered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FabricPolicy {
    /// Distinct orderer orgs whose signatures a block needs.
    pub orderer_threshold: usize,
    /// Who must endorse each action of a proven transaction.
    pub endorsement: EndorsementPolicy,
    /// Distinct application orgs whose peers must attest a transaction VALID.
    pub validation_threshold: usize,
}

/// A block submitted to move the client forward: a protobuf `common.Block`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FabricHeader {
    /// The encoded block.
    pub block: Vec<u8>,
}

/// A block accepted by [`FabricClient::verify_header`].
#[derive(Clone, Debug)]
pub struct FabricVerified {
    /// Block number.
    pub number: u64,
    /// Its header hash.
    pub header_hash: [u8; 32],
    /// The orderer orgs that signed it.
    pub signers: Vec<String>,
    /// The new channel config when the block is a config block.
    pub new_config: Option<ChannelConfig>,
    /// The config envelope it was read from (what a stored client keeps).
    pub new_config_envelope: Option<Vec<u8>>,
}

/// What a membership proof speaks about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FabricPath {
    /// The value is SHA-256 of the transaction's envelope payload.
    TxPayloadHash {
        /// The transaction id.
        tx_id: String,
    },
    /// The value is what the transaction's endorsed write set writes to `key`.
    WriteSetValue {
        /// The transaction id.
        tx_id: String,
        /// The chaincode namespace.
        namespace: String,
        /// The key.
        key: String,
    },
}

impl FabricPath {
    fn tx_id(&self) -> &str {
        match self {
            Self::TxPayloadHash { tx_id } | Self::WriteSetValue { tx_id, .. } => tx_id,
        }
    }
}

/// A transaction proof: the whole block (Fabric has no per-transaction Merkle tree, the data
/// hash covers all envelopes) and the peers' validation attestations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FabricTxProof {
    /// The encoded block at the proven height.
    pub block: Vec<u8>,
    /// Signed VALID statements by peers of distinct orgs.
    pub attestations: Vec<SignedValidationAttestation>,
}

/// Two orderer-signed blocks with one number and different header hashes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FabricMisbehaviour {
    /// One encoded block.
    pub block_a: Vec<u8>,
    /// The other encoded block.
    pub block_b: Vec<u8>,
}

/// A light client of one Fabric channel: the trusted channel config, the thresholds, and the
/// header hashes of the blocks verified so far.
#[derive(Clone, Debug)]
pub struct FabricClient {
    config: ChannelConfig,
    policy: FabricPolicy,
    latest_number: u64,
    latest_hash: [u8; 32],
    blocks: BTreeMap<u64, [u8; 32]>,
    frozen: Option<u64>,
}

/// Check that every threshold is positive and reachable under `config`.
pub fn check_policy(config: &ChannelConfig, policy: &FabricPolicy) -> Result<(), FabricError> {
    let o = config.orderer_orgs.len();
    if policy.orderer_threshold == 0 || policy.orderer_threshold > o {
        return Err(FabricError::InvalidThreshold {
            what: "orderer",
            threshold: policy.orderer_threshold,
            orgs: o,
        });
    }
    let a = config.application_orgs.len();
    if policy.validation_threshold == 0 || policy.validation_threshold > a {
        return Err(FabricError::InvalidThreshold {
            what: "validation",
            threshold: policy.validation_threshold,
            orgs: a,
        });
    }
    let e = &policy.endorsement;
    let mut listed = e.orgs.clone();
    listed.sort();
    listed.dedup();
    if listed.len() != e.orgs.len() || e.required == 0 || e.required > listed.len() {
        return Err(FabricError::InvalidThreshold {
            what: "endorsement",
            threshold: e.required,
            orgs: listed.len(),
        });
    }
    for org in &e.orgs {
        if !config.application_orgs.contains_key(org) {
            return Err(FabricError::UnknownMsp {
                mspid: org.clone(),
                role: "application",
            });
        }
    }
    Ok(())
}

impl FabricClient {
    /// Trust `config` and the block `latest_number` with header hash `latest_hash`.
    pub fn new(
        config: ChannelConfig,
        policy: FabricPolicy,
        latest_number: u64,
        latest_hash: [u8; 32],
    ) -> Result<Self, FabricError> {
        Self::from_parts(
            config,
            policy,
            BTreeMap::from([(latest_number, latest_hash)]),
            None,
        )
    }

    /// Trust a config block (usually the genesis block) given as bytes: its config and its
    /// header hash. The block itself is trusted, not verified: it is the trust root.
    pub fn from_config_block(bytes: &[u8], policy: FabricPolicy) -> Result<Self, FabricError> {
        let block = block::decode_block(bytes)?;
        block::check_data_hash(&block)?;
        let config = channel_config_from_block(&block)?;
        let header = block::header(&block)?;
        Self::new(config, policy, header.number, block_header_hash(header))
    }

    /// The trusted channel config.
    pub fn config(&self) -> &ChannelConfig {
        &self.config
    }

    /// The header hashes of the verified blocks kept, by number.
    pub fn blocks(&self) -> &BTreeMap<u64, [u8; 32]> {
        &self.blocks
    }

    /// The height the client froze at, if frozen.
    pub fn frozen(&self) -> Option<u64> {
        self.frozen
    }

    /// Rebuilds a client from its fields (a decoded client state), checking that they fit
    /// together: the thresholds reachable under `config`, at most [`MAX_STORED_BLOCKS`]
    /// blocks kept, the latest among them with its hash.
    pub fn from_parts(
        config: ChannelConfig,
        policy: FabricPolicy,
        blocks: BTreeMap<u64, [u8; 32]>,
        frozen: Option<u64>,
    ) -> Result<Self, FabricError> {
        check_policy(&config, &policy)?;
        if blocks.len() > MAX_STORED_BLOCKS {
            return Err(FabricError::TooLarge {
                what: "stored blocks",
                got: blocks.len(),
                max: MAX_STORED_BLOCKS,
            });
        }
        let (latest_number, latest_hash) =
            blocks
                .iter()
                .next_back()
                .map(|(n, h)| (*n, *h))
                .ok_or(FabricError::MissingField {
                    what: "a verified block",
                })?;
        Ok(Self {
            config,
            policy,
            latest_number,
            latest_hash,
            blocks,
            frozen,
        })
    }

    /// Keeps at most `n` verified blocks (at least the latest), dropping the oldest.
    pub fn keep_blocks(&mut self, n: usize) {
        while self.blocks.len() > n.max(1) {
            if self.blocks.pop_first().is_none() {
                break;
            }
        }
    }

    /// The thresholds.
    pub fn policy(&self) -> &FabricPolicy {
        &self.policy
    }

    /// Header hash of the latest verified block.
    pub fn latest_hash(&self) -> [u8; 32] {
        self.latest_hash
    }

    fn check_active(&self) -> Result<(), FabricError> {
        match self.frozen {
            Some(height) => Err(FabricError::Frozen { height }),
            None => Ok(()),
        }
    }

    /// A new channel config carried by `block`, if it is a config block.
    fn config_update(
        &self,
        block: &super::proto::Block,
    ) -> Result<Option<(ChannelConfig, Vec<u8>)>, FabricError> {
        let envs = block::envelopes(block);
        let mut config_envs = 0usize;
        for env in envs {
            if let Ok(opened) = block::open_envelope(env) {
                if opened.channel_header.r#type == HEADER_TYPE_CONFIG {
                    config_envs = config_envs.saturating_add(1);
                }
            }
        }
        if config_envs == 0 {
            return Ok(None);
        }
        if config_envs != 1 || envs.len() != 1 {
            return Err(FabricError::Malformed {
                what: "config block with other envelopes",
            });
        }
        let first = envs.first().ok_or(FabricError::MissingField {
            what: "config envelope",
        })?;
        let new = channel_config_from_envelope(first, 0)?;
        if new.channel_id != self.config.channel_id {
            return Err(FabricError::WrongChannel {
                expected: self.config.channel_id.clone(),
                got: new.channel_id,
            });
        }
        if new.sequence <= self.config.sequence {
            return Err(FabricError::Malformed {
                what: "config sequence not increasing",
            });
        }
        check_policy(&new, &self.policy)?;
        Ok(Some((new, first.clone())))
    }

    /// Check a membership proof; see [`LightClient::verify_membership`].
    fn check_membership(
        &self,
        height: u64,
        path: &FabricPath,
        value: &[u8],
        proof: &FabricTxProof,
    ) -> Result<(), FabricError> {
        self.check_active()?;
        let stored = self
            .blocks
            .get(&height)
            .ok_or(FabricError::HeightNotVerified { height })?;
        let tx_id = path.tx_id();
        bound("tx id", tx_id.len(), MAX_ID_LEN)?;
        let block = block::decode_block(&proof.block)?;
        if block_header_hash(block::header(&block)?) != *stored {
            return Err(FabricError::HeaderHashMismatch { height });
        }
        block::check_data_hash(&block)?;
        let (index, opened) = find_transaction(&block, tx_id)?;
        if opened.channel_header.channel_id != self.config.channel_id {
            return Err(FabricError::WrongChannel {
                expected: self.config.channel_id.clone(),
                got: opened.channel_header.channel_id,
            });
        }
        if opened.channel_header.r#type != HEADER_TYPE_ENDORSER_TRANSACTION {
            return Err(FabricError::WrongHeaderType {
                got: opened.channel_header.r#type,
            });
        }
        verify_envelope_signature(&opened, &self.config.application_orgs, "application")?;
        let actions = endorsed_actions(&opened)?;
        for action in &actions {
            verify_endorsed_action(
                action,
                &self.config.application_orgs,
                &self.policy.endorsement,
            )?;
        }
        // The filter is unsigned: it can only make us refuse, never accept.
        if let Some(code) = block::metadata_entry(&block, METADATA_TRANSACTIONS_FILTER).get(index) {
            if u32::from(*code) != TX_VALID {
                return Err(FabricError::TxMarkedInvalid { code: *code });
            }
        }
        verify_validation_attestations(
            &self.config.channel_id,
            height,
            tx_id,
            &proof.attestations,
            &self.config.application_orgs,
            self.policy.validation_threshold,
        )?;
        match path {
            FabricPath::TxPayloadHash { .. } => {
                let h: [u8; 32] = Sha256::digest(&opened.envelope.payload).into();
                if h.as_slice() != value {
                    return Err(FabricError::ValueMismatch);
                }
            }
            FabricPath::WriteSetValue { namespace, key, .. } => {
                let mut written = None;
                for action in &actions {
                    if let Some(v) = written_value(action, namespace, key)? {
                        written = Some(v);
                    }
                }
                let written = written.ok_or(FabricError::KeyNotWritten)?;
                if written != value {
                    return Err(FabricError::ValueMismatch);
                }
            }
        }
        Ok(())
    }
}

impl LightClient for FabricClient {
    type Header = FabricHeader;
    type Verified = FabricVerified;
    type Path = FabricPath;
    type Proof = FabricTxProof;
    type Misbehaviour = FabricMisbehaviour;
    type Error = FabricError;

    fn latest_height(&self) -> u64 {
        self.latest_number
    }

    /// Fabric has no unbonding period, so a client only stops by freezing.
    fn status(&self, _now: Timestamp) -> ClientStatus {
        match self.frozen {
            Some(height) => ClientStatus::Frozen { height },
            None => ClientStatus::Active,
        }
    }

    fn verify_header(
        &self,
        header: &FabricHeader,
        _now: Timestamp,
    ) -> Result<FabricVerified, FabricError> {
        self.check_active()?;
        let block = block::decode_block(&header.block)?;
        let h = block::header(&block)?;
        let expected =
            self.latest_number
                .checked_add(1)
                .ok_or(FabricError::NonSequentialBlock {
                    expected: u64::MAX,
                    got: h.number,
                })?;
        if h.number != expected {
            return Err(FabricError::NonSequentialBlock {
                expected,
                got: h.number,
            });
        }
        if h.previous_hash.as_slice() != self.latest_hash.as_slice() {
            return Err(FabricError::PreviousHashMismatch);
        }
        block::check_data_hash(&block)?;
        let signers = verify_orderer_signatures(
            &block,
            &self.config.orderer_orgs,
            self.policy.orderer_threshold,
        )?;
        let (new_config, new_config_envelope) = self.config_update(&block)?.unzip();
        Ok(FabricVerified {
            number: h.number,
            header_hash: block_header_hash(h),
            signers,
            new_config,
            new_config_envelope,
        })
    }

    fn apply_header(&mut self, verified: FabricVerified) {
        self.latest_number = verified.number;
        self.latest_hash = verified.header_hash;
        self.blocks.insert(verified.number, verified.header_hash);
        self.keep_blocks(MAX_STORED_BLOCKS);
        if let Some(config) = verified.new_config {
            self.config = config;
        }
    }

    fn verify_membership(
        &self,
        height: u64,
        path: &FabricPath,
        value: &[u8],
        proof: &FabricTxProof,
    ) -> Result<(), FabricError> {
        self.check_membership(height, path, value, proof)
    }

    fn verify_non_membership(
        &self,
        _height: u64,
        _path: &FabricPath,
        _proof: &FabricTxProof,
    ) -> Result<(), FabricError> {
        Err(FabricError::NonMembershipUnsupported)
    }

    fn verify_misbehaviour(
        &self,
        evidence: &FabricMisbehaviour,
        _now: Timestamp,
    ) -> Result<u64, FabricError> {
        self.check_active()?;
        verify_fork(
            &evidence.block_a,
            &evidence.block_b,
            &self.config,
            self.policy.orderer_threshold,
        )
    }

    fn freeze(&mut self, height: u64) {
        self.frozen = Some(height);
    }
}

/// Check that two encoded blocks have one number, different header hashes, and both carry
/// orderer signatures of `threshold` distinct orderer orgs under `config`. Returns the number.
pub fn verify_fork(
    block_a: &[u8],
    block_b: &[u8],
    config: &ChannelConfig,
    threshold: usize,
) -> Result<u64, FabricError> {
    let a = block::decode_block(block_a)?;
    let b = block::decode_block(block_b)?;
    let (ha, hb) = (block::header(&a)?, block::header(&b)?);
    if ha.number != hb.number {
        return Err(FabricError::NotMisbehaviour {
            reason: "different block numbers",
        });
    }
    if block_header_hash(ha) == block_header_hash(hb) {
        return Err(FabricError::NotMisbehaviour {
            reason: "same header hash",
        });
    }
    verify_orderer_signatures(&a, &config.orderer_orgs, threshold)?;
    verify_orderer_signatures(&b, &config.orderer_orgs, threshold)?;
    Ok(ha.number)
}
