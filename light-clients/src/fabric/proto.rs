//! Hand-written protobuf messages of Hyperledger Fabric (`fabric-protos`), only the fields a
//! verifier reads. Field numbers follow `common/common.proto`, `common/configtx.proto`,
//! `msp/identities.proto`, `msp/msp_config.proto`, `peer/transaction.proto`,
//! `peer/proposal.proto`, `peer/proposal_response.proto` and `ledger/rwset/*.proto`.
//!
//! Maps use `BTreeMap` so iteration order never depends on a hasher.
#![allow(missing_docs)]

use std::collections::BTreeMap;

/// `common.Block`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Block {
    #[prost(message, optional, tag = "1")]
    pub header: Option<BlockHeader>,
    #[prost(message, optional, tag = "2")]
    pub data: Option<BlockData>,
    #[prost(message, optional, tag = "3")]
    pub metadata: Option<BlockMetadata>,
}

/// `common.BlockHeader`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct BlockHeader {
    #[prost(uint64, tag = "1")]
    pub number: u64,
    #[prost(bytes = "vec", tag = "2")]
    pub previous_hash: Vec<u8>,
    #[prost(bytes = "vec", tag = "3")]
    pub data_hash: Vec<u8>,
}

/// `common.BlockData`: the serialized envelopes, hashed as raw bytes.
#[derive(Clone, PartialEq, prost::Message)]
pub struct BlockData {
    #[prost(bytes = "vec", repeated, tag = "1")]
    pub data: Vec<Vec<u8>>,
}

/// `common.BlockMetadata`, indexed by `BlockMetadataIndex`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct BlockMetadata {
    #[prost(bytes = "vec", repeated, tag = "1")]
    pub metadata: Vec<Vec<u8>>,
}

/// `common.Metadata`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Metadata {
    #[prost(bytes = "vec", tag = "1")]
    pub value: Vec<u8>,
    #[prost(message, repeated, tag = "2")]
    pub signatures: Vec<MetadataSignature>,
}

/// `common.MetadataSignature`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct MetadataSignature {
    #[prost(bytes = "vec", tag = "1")]
    pub signature_header: Vec<u8>,
    #[prost(bytes = "vec", tag = "2")]
    pub signature: Vec<u8>,
    /// BFT orderers name the signer by consenter id instead of a signature header.
    #[prost(bytes = "vec", tag = "3")]
    pub identifier_header: Vec<u8>,
}

/// `common.Envelope`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Envelope {
    #[prost(bytes = "vec", tag = "1")]
    pub payload: Vec<u8>,
    #[prost(bytes = "vec", tag = "2")]
    pub signature: Vec<u8>,
}

/// `common.Payload`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Payload {
    #[prost(message, optional, tag = "1")]
    pub header: Option<Header>,
    #[prost(bytes = "vec", tag = "2")]
    pub data: Vec<u8>,
}

/// `common.Header`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Header {
    #[prost(bytes = "vec", tag = "1")]
    pub channel_header: Vec<u8>,
    #[prost(bytes = "vec", tag = "2")]
    pub signature_header: Vec<u8>,
}

/// `google.protobuf.Timestamp`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ProtoTimestamp {
    #[prost(int64, tag = "1")]
    pub seconds: i64,
    #[prost(int32, tag = "2")]
    pub nanos: i32,
}

/// `common.ChannelHeader`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ChannelHeader {
    #[prost(int32, tag = "1")]
    pub r#type: i32,
    #[prost(int32, tag = "2")]
    pub version: i32,
    #[prost(message, optional, tag = "3")]
    pub timestamp: Option<ProtoTimestamp>,
    #[prost(string, tag = "4")]
    pub channel_id: String,
    #[prost(string, tag = "5")]
    pub tx_id: String,
    #[prost(uint64, tag = "6")]
    pub epoch: u64,
    #[prost(bytes = "vec", tag = "7")]
    pub extension: Vec<u8>,
    #[prost(bytes = "vec", tag = "8")]
    pub tls_cert_hash: Vec<u8>,
}

/// `common.SignatureHeader`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct SignatureHeader {
    #[prost(bytes = "vec", tag = "1")]
    pub creator: Vec<u8>,
    #[prost(bytes = "vec", tag = "2")]
    pub nonce: Vec<u8>,
}

/// `msp.SerializedIdentity`: MSP id and a PEM certificate.
#[derive(Clone, PartialEq, prost::Message)]
pub struct SerializedIdentity {
    #[prost(string, tag = "1")]
    pub mspid: String,
    #[prost(bytes = "vec", tag = "2")]
    pub id_bytes: Vec<u8>,
}

/// `protos.Transaction`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Transaction {
    #[prost(message, repeated, tag = "1")]
    pub actions: Vec<TransactionAction>,
}

/// `protos.TransactionAction`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TransactionAction {
    #[prost(bytes = "vec", tag = "1")]
    pub header: Vec<u8>,
    #[prost(bytes = "vec", tag = "2")]
    pub payload: Vec<u8>,
}

/// `protos.ChaincodeActionPayload`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ChaincodeActionPayload {
    #[prost(bytes = "vec", tag = "1")]
    pub chaincode_proposal_payload: Vec<u8>,
    #[prost(message, optional, tag = "2")]
    pub action: Option<ChaincodeEndorsedAction>,
}

/// `protos.ChaincodeEndorsedAction`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ChaincodeEndorsedAction {
    #[prost(bytes = "vec", tag = "1")]
    pub proposal_response_payload: Vec<u8>,
    #[prost(message, repeated, tag = "2")]
    pub endorsements: Vec<Endorsement>,
}

/// `protos.Endorsement`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Endorsement {
    #[prost(bytes = "vec", tag = "1")]
    pub endorser: Vec<u8>,
    #[prost(bytes = "vec", tag = "2")]
    pub signature: Vec<u8>,
}

/// `protos.ProposalResponsePayload`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ProposalResponsePayload {
    #[prost(bytes = "vec", tag = "1")]
    pub proposal_hash: Vec<u8>,
    #[prost(bytes = "vec", tag = "2")]
    pub extension: Vec<u8>,
}

/// `protos.ChaincodeAction` (the extension of a proposal response payload).
#[derive(Clone, PartialEq, prost::Message)]
pub struct ChaincodeAction {
    #[prost(bytes = "vec", tag = "1")]
    pub results: Vec<u8>,
    #[prost(bytes = "vec", tag = "2")]
    pub events: Vec<u8>,
}

/// `rwset.TxReadWriteSet`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TxReadWriteSet {
    #[prost(int32, tag = "1")]
    pub data_model: i32,
    #[prost(message, repeated, tag = "2")]
    pub ns_rwset: Vec<NsReadWriteSet>,
}

/// `rwset.NsReadWriteSet`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct NsReadWriteSet {
    #[prost(string, tag = "1")]
    pub namespace: String,
    #[prost(bytes = "vec", tag = "2")]
    pub rwset: Vec<u8>,
}

/// `kvrwset.KVRWSet` (reads and range queries skipped).
#[derive(Clone, PartialEq, prost::Message)]
pub struct KvRwSet {
    #[prost(message, repeated, tag = "3")]
    pub writes: Vec<KvWrite>,
}

/// `kvrwset.KVWrite`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct KvWrite {
    #[prost(string, tag = "1")]
    pub key: String,
    #[prost(bool, tag = "2")]
    pub is_delete: bool,
    #[prost(bytes = "vec", tag = "3")]
    pub value: Vec<u8>,
}

/// `common.ConfigEnvelope`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ConfigEnvelope {
    #[prost(message, optional, tag = "1")]
    pub config: Option<Config>,
}

/// `common.Config`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Config {
    #[prost(uint64, tag = "1")]
    pub sequence: u64,
    #[prost(message, optional, tag = "2")]
    pub channel_group: Option<ConfigGroup>,
}

/// `common.ConfigGroup` (policies skipped).
#[derive(Clone, PartialEq, prost::Message)]
pub struct ConfigGroup {
    #[prost(uint64, tag = "1")]
    pub version: u64,
    #[prost(btree_map = "string, message", tag = "2")]
    pub groups: BTreeMap<String, ConfigGroup>,
    #[prost(btree_map = "string, message", tag = "3")]
    pub values: BTreeMap<String, ConfigValue>,
    #[prost(string, tag = "5")]
    pub mod_policy: String,
}

/// `common.ConfigValue`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ConfigValue {
    #[prost(uint64, tag = "1")]
    pub version: u64,
    #[prost(bytes = "vec", tag = "2")]
    pub value: Vec<u8>,
    #[prost(string, tag = "3")]
    pub mod_policy: String,
}

/// `msp.MSPConfig`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct MspConfig {
    #[prost(int32, tag = "1")]
    pub r#type: i32,
    #[prost(bytes = "vec", tag = "2")]
    pub config: Vec<u8>,
}

/// `msp.FabricMSPConfig` (the fields a chain check needs).
#[derive(Clone, PartialEq, prost::Message)]
pub struct FabricMspConfig {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(bytes = "vec", repeated, tag = "2")]
    pub root_certs: Vec<Vec<u8>>,
    #[prost(bytes = "vec", repeated, tag = "3")]
    pub intermediate_certs: Vec<Vec<u8>>,
    #[prost(bytes = "vec", repeated, tag = "4")]
    pub admins: Vec<Vec<u8>>,
    #[prost(bytes = "vec", repeated, tag = "5")]
    pub revocation_list: Vec<Vec<u8>>,
}
