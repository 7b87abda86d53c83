//! Canonical encodings (spec/encoding.md rules) of what the hub stores and relayers send for
//! an EVM chain, attested or QBFT: the council's trust root, the client state, signed
//! headers, misbehaviour evidence and EIP-1186 proofs. Every list and byte string is bounded.
//! (A QBFT header travels as its own RLP, sealed in `extraData`.)

use std::collections::BTreeMap;

use junction_spec::encoding::{decode_bytes, decode_vec, encode_bytes, encode_len, encode_vec};
use junction_spec::{Decode, DecodeError, Encode, Reader};

use super::attested::{
    AttestedClient, AttestedConfig, AttestedConsensusState, AttestedHeader, AttestedMisbehaviour,
    AttesterSet, SignedAttestedHeader, MAX_ATTESTERS, MAX_HISTORY, MAX_SIGNATURES,
};
use super::mpt::EvmProof;
use super::qbft::{
    QbftClient, QbftConfig, QbftConsensusState, QbftMisbehaviour, Vote, VoteType, MAX_VALIDATORS,
};

/// Largest trie node a proof may carry (a full branch node is 532 bytes).
pub const MAX_PROOF_NODE_BYTES: usize = 1_024;
/// Most nodes in one proof section (64 nibbles of path, plus an extension or two).
pub const MAX_PROOF_NODES: usize = 72;
/// Largest full RLP header an update may carry.
pub const MAX_FULL_HEADER_BYTES: usize = 2_048;

impl Encode for AttestedHeader {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.chain_id.encode_to(out);
        self.number.encode_to(out);
        self.hash.encode_to(out);
        self.parent_hash.encode_to(out);
        self.state_root.encode_to(out);
        self.receipts_root.encode_to(out);
        self.timestamp.encode_to(out);
    }
}

impl Decode for AttestedHeader {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            chain_id: Decode::decode_from(r)?,
            number: Decode::decode_from(r)?,
            hash: Decode::decode_from(r)?,
            parent_hash: Decode::decode_from(r)?,
            state_root: Decode::decode_from(r)?,
            receipts_root: Decode::decode_from(r)?,
            timestamp: Decode::decode_from(r)?,
        })
    }
}

/// `header || u32 count || 65-byte signatures || optional full RLP header`.
impl Encode for SignedAttestedHeader {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.header.encode_to(out);
        encode_vec(&self.signatures, out);
        match &self.full_header {
            None => out.push(0),
            Some(rlp) => {
                out.push(1);
                encode_bytes(rlp, out);
            }
        }
    }
}

impl Decode for SignedAttestedHeader {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let header = AttestedHeader::decode_from(r)?;
        let signatures = decode_vec(r, MAX_SIGNATURES)?;
        let full_header = match r.read_u8()? {
            0 => None,
            1 => Some(decode_bytes(r, MAX_FULL_HEADER_BYTES)?),
            tag => {
                return Err(DecodeError::InvalidTag {
                    what: "optional full header",
                    tag,
                })
            }
        };
        Ok(Self {
            header,
            signatures,
            full_header,
        })
    }
}

/// `a || b`: the two signed headers, each as [`SignedAttestedHeader`] encodes.
impl Encode for AttestedMisbehaviour {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.a.encode_to(out);
        self.b.encode_to(out);
    }
}

impl Decode for AttestedMisbehaviour {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            a: Decode::decode_from(r)?,
            b: Decode::decode_from(r)?,
        })
    }
}

fn encode_nodes(nodes: &[Vec<u8>], out: &mut Vec<u8>) {
    encode_len(nodes.len(), out);
    for n in nodes {
        encode_bytes(n, out);
    }
}

fn decode_nodes(r: &mut Reader<'_>) -> Result<Vec<Vec<u8>>, DecodeError> {
    let n = r.read_len(MAX_PROOF_NODES)?;
    (0..n)
        .map(|_| decode_bytes(r, MAX_PROOF_NODE_BYTES))
        .collect()
}

/// `account_proof || storage_proof || receipt_proof`, each a counted list of nodes.
impl Encode for EvmProof {
    fn encode_to(&self, out: &mut Vec<u8>) {
        encode_nodes(&self.account_proof, out);
        encode_nodes(&self.storage_proof, out);
        encode_nodes(&self.receipt_proof, out);
    }
}

impl Decode for EvmProof {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            account_proof: decode_nodes(r)?,
            storage_proof: decode_nodes(r)?,
            receipt_proof: decode_nodes(r)?,
        })
    }
}

/// What the council registers for an `evm_attested` chain (`ChainRegistration::trust_root`):
/// the EVM chain id, the gateway whose storage the hub proves, the attesters, and the
/// header the client starts from. The threshold comes from the registration's parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttestedTrustRoot {
    /// EIP-155 chain id.
    pub evm_chain_id: u64,
    /// The Junction gateway contract.
    pub gateway: [u8; 20],
    /// Attester addresses (distinct).
    pub attesters: Vec<[u8; 20]>,
    /// The trusted starting header.
    pub trusted: AttestedHeader,
}

impl Encode for AttestedTrustRoot {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.evm_chain_id.encode_to(out);
        self.gateway.encode_to(out);
        encode_vec(&self.attesters, out);
        self.trusted.encode_to(out);
    }
}

impl Decode for AttestedTrustRoot {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            evm_chain_id: Decode::decode_from(r)?,
            gateway: Decode::decode_from(r)?,
            attesters: decode_vec(r, MAX_ATTESTERS)?,
            trusted: Decode::decode_from(r)?,
        })
    }
}

impl Encode for AttestedConsensusState {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.hash.encode_to(out);
        self.state_root.encode_to(out);
        self.receipts_root.encode_to(out);
        self.timestamp.encode_to(out);
    }
}

impl Decode for AttestedConsensusState {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            hash: Decode::decode_from(r)?,
            state_root: Decode::decode_from(r)?,
            receipts_root: Decode::decode_from(r)?,
            timestamp: Decode::decode_from(r)?,
        })
    }
}

/// `config || attesters || threshold || latest || frozen || u32 count || (height, state)*`
/// with heights strictly increasing.
impl Encode for AttestedClient {
    fn encode_to(&self, out: &mut Vec<u8>) {
        let (config, set, states, latest, frozen) = self.parts();
        config.chain_id.encode_to(out);
        config.max_clock_drift_secs.encode_to(out);
        config.trusting_period_secs.encode_to(out);
        (config.max_history as u64).encode_to(out);
        encode_vec(set.attesters(), out);
        (set.threshold() as u64).encode_to(out);
        latest.encode_to(out);
        frozen.encode_to(out);
        encode_history(states, out);
    }
}

impl Decode for AttestedClient {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let chain_id = u64::decode_from(r)?;
        let max_clock_drift_secs = u64::decode_from(r)?;
        let trusting_period_secs = u64::decode_from(r)?;
        let max_history = usize::try_from(u64::decode_from(r)?)
            .map_err(|_| DecodeError::NonCanonical("max_history does not fit"))?;
        let attesters: Vec<[u8; 20]> = decode_vec(r, MAX_ATTESTERS)?;
        let threshold = usize::try_from(u64::decode_from(r)?)
            .map_err(|_| DecodeError::NonCanonical("threshold does not fit"))?;
        let latest = u64::decode_from(r)?;
        let frozen = Option::<u64>::decode_from(r)?;
        let states = decode_history(r, AttestedConsensusState::decode_from)?;
        let set = AttesterSet::new(attesters, threshold)
            .map_err(|_| DecodeError::NonCanonical("invalid attester set"))?;
        let config = AttestedConfig {
            chain_id,
            max_clock_drift_secs,
            trusting_period_secs,
            max_history,
        };
        AttestedClient::from_parts(config, set, states, latest, frozen)
            .map_err(|_| DecodeError::NonCanonical("inconsistent attested client state"))
    }
}

/// Largest QBFT header (RLP) an update, evidence or trust root may carry: 128 validators
/// and their seals fit, and two such headers fit one misbehaviour message.
pub const MAX_QBFT_HEADER_BYTES: usize = 16_380;

/// What the council registers for an `evm_qbft` chain (`ChainRegistration::trust_root`): the
/// EVM chain id and gateway (as for an attested chain) and the QBFT header the client
/// starts from, whose `extraData` lists the validators that seal the next block. The
/// council checks that header out of band; its seals are not needed (the block hash leaves
/// them out), which keeps the root small.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QbftTrustRoot {
    /// EIP-155 chain id.
    pub evm_chain_id: u64,
    /// The Junction gateway contract.
    pub gateway: [u8; 20],
    /// The trusted header's RLP.
    pub trusted_header: Vec<u8>,
}

/// `evm_chain_id u64 || gateway (20) || trusted header bytes`.
impl Encode for QbftTrustRoot {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.evm_chain_id.encode_to(out);
        self.gateway.encode_to(out);
        encode_bytes(&self.trusted_header, out);
    }
}

impl Decode for QbftTrustRoot {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            evm_chain_id: Decode::decode_from(r)?,
            gateway: Decode::decode_from(r)?,
            trusted_header: decode_bytes(r, MAX_QBFT_HEADER_BYTES)?,
        })
    }
}

/// `header a bytes || header b bytes`, each a sealed QBFT header's RLP.
impl Encode for QbftMisbehaviour {
    fn encode_to(&self, out: &mut Vec<u8>) {
        encode_bytes(&self.header_a, out);
        encode_bytes(&self.header_b, out);
    }
}

impl Decode for QbftMisbehaviour {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            header_a: decode_bytes(r, MAX_QBFT_HEADER_BYTES)?,
            header_b: decode_bytes(r, MAX_QBFT_HEADER_BYTES)?,
        })
    }
}

/// `hash || state root || receipts root || timestamp u64 || validators || vote`, the vote
/// as `0` (none) or `1 || recipient (20) || 0x01 add / 0x00 drop`.
impl Encode for QbftConsensusState {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.hash.encode_to(out);
        self.state_root.encode_to(out);
        self.receipts_root.encode_to(out);
        self.timestamp.encode_to(out);
        encode_vec(&self.validators, out);
        match &self.vote {
            None => out.push(0),
            Some(vote) => {
                out.push(1);
                vote.recipient.encode_to(out);
                out.push(match vote.vote_type {
                    VoteType::Add => 1,
                    VoteType::Drop => 0,
                });
            }
        }
    }
}

impl Decode for QbftConsensusState {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let hash = Decode::decode_from(r)?;
        let state_root = Decode::decode_from(r)?;
        let receipts_root = Decode::decode_from(r)?;
        let timestamp = Decode::decode_from(r)?;
        let validators = decode_vec(r, MAX_VALIDATORS)?;
        let vote = match r.read_u8()? {
            0 => None,
            1 => {
                let recipient = Decode::decode_from(r)?;
                let vote_type = match r.read_u8()? {
                    1 => VoteType::Add,
                    0 => VoteType::Drop,
                    tag => {
                        return Err(DecodeError::InvalidTag {
                            what: "vote type",
                            tag,
                        })
                    }
                };
                Some(Vote {
                    recipient,
                    vote_type,
                })
            }
            tag => {
                return Err(DecodeError::InvalidTag {
                    what: "optional vote",
                    tag,
                })
            }
        };
        Ok(Self {
            hash,
            state_root,
            receipts_root,
            timestamp,
            validators,
            vote,
        })
    }
}

/// `max clock drift s || trusting period s || max history || latest || frozen || u32 count
/// || (height, state)*` with heights strictly increasing.
impl Encode for QbftClient {
    fn encode_to(&self, out: &mut Vec<u8>) {
        let (config, states, latest, frozen) = self.parts();
        config.max_clock_drift_secs.encode_to(out);
        config.trusting_period_secs.encode_to(out);
        (config.max_history as u64).encode_to(out);
        latest.encode_to(out);
        frozen.encode_to(out);
        encode_history(states, out);
    }
}

impl Decode for QbftClient {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let max_clock_drift_secs = u64::decode_from(r)?;
        let trusting_period_secs = u64::decode_from(r)?;
        let max_history = usize::try_from(u64::decode_from(r)?)
            .map_err(|_| DecodeError::NonCanonical("max_history does not fit"))?;
        let latest = u64::decode_from(r)?;
        let frozen = Option::<u64>::decode_from(r)?;
        let states = decode_history(r, QbftConsensusState::decode_from)?;
        let config = QbftConfig {
            max_clock_drift_secs,
            trusting_period_secs,
            max_history,
        };
        QbftClient::from_parts(config, states, latest, frozen)
            .map_err(|_| DecodeError::NonCanonical("inconsistent QBFT client state"))
    }
}

/// A counted list of `(height, state)` by increasing height.
fn encode_history<S: Encode>(states: &BTreeMap<u64, S>, out: &mut Vec<u8>) {
    encode_len(states.len(), out);
    for (h, s) in states {
        h.encode_to(out);
        s.encode_to(out);
    }
}

/// A counted list of `(height, state)` with heights strictly increasing.
fn decode_history<S>(
    r: &mut Reader<'_>,
    state: impl Fn(&mut Reader<'_>) -> Result<S, DecodeError>,
) -> Result<BTreeMap<u64, S>, DecodeError> {
    let n = r.read_len(MAX_HISTORY)?;
    let mut states = BTreeMap::new();
    let mut prev: Option<u64> = None;
    for _ in 0..n {
        let h = u64::decode_from(r)?;
        if prev.is_some_and(|p| p >= h) {
            return Err(DecodeError::NonCanonical(
                "client state heights not increasing",
            ));
        }
        prev = Some(h);
        states.insert(h, state(r)?);
    }
    Ok(states)
}

#[cfg(test)]
#[allow(clippy::panic)]
mod tests {
    use super::*;
    use crate::evm::attested::testkit;
    use crate::{LightClient, Timestamp};

    fn header(number: u64, parent: [u8; 32]) -> AttestedHeader {
        AttestedHeader {
            chain_id: 7,
            number,
            hash: [number as u8; 32],
            parent_hash: parent,
            state_root: [0xaa; 32],
            receipts_root: [0xbb; 32],
            timestamp: 1_000 + number,
        }
    }

    #[test]
    fn misbehaviour_evidence_round_trips_and_refuses_a_cut_or_a_tail() {
        let a = testkit::signed_attested_header(7, 3, 9, [1; 32], 1_000);
        let b = testkit::signed_attested_header(7, 3, 9, [2; 32], 1_000);
        let evidence = AttestedMisbehaviour { a, b };
        let bytes = evidence.to_bytes();
        assert_eq!(AttestedMisbehaviour::from_bytes(&bytes), Ok(evidence));
        assert!(AttestedMisbehaviour::from_bytes(&bytes[..bytes.len() - 1]).is_err());
        let mut tail = bytes.clone();
        tail.push(0);
        assert!(matches!(
            AttestedMisbehaviour::from_bytes(&tail),
            Err(DecodeError::TrailingBytes { .. })
        ));
    }

    #[test]
    fn client_state_round_trips_and_refuses_trailing_bytes() {
        let keys = testkit::attester_keys(3);
        let set = AttesterSet::new(keys.iter().map(testkit::address).collect(), 2)
            .unwrap_or_else(|e| panic!("{e}"));
        let config = AttestedConfig {
            chain_id: 7,
            max_clock_drift_secs: 10,
            trusting_period_secs: 3_600,
            max_history: 4,
        };
        let mut client =
            AttestedClient::new(config, set, &header(1, [0; 32])).unwrap_or_else(|e| panic!("{e}"));
        for n in [2u64, 5, 6] {
            let parent = [(n - 1) as u8; 32];
            let h = header(n, parent);
            let signed = SignedAttestedHeader {
                header: h,
                signatures: keys.iter().take(2).map(|k| testkit::sign(k, &h)).collect(),
                full_header: None,
            };
            let v = client
                .verify_header(&signed, Timestamp::from_secs(1_010))
                .unwrap_or_else(|e| panic!("header {n}: {e}"));
            client.apply_header(v);
            let bytes = signed.to_bytes();
            assert_eq!(SignedAttestedHeader::from_bytes(&bytes), Ok(signed));
        }
        let bytes = client.to_bytes();
        let back = AttestedClient::from_bytes(&bytes).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back.to_bytes(), bytes);
        assert_eq!(back.latest_height(), 6);
        let mut long = bytes.clone();
        long.push(0);
        assert!(matches!(
            AttestedClient::from_bytes(&long),
            Err(DecodeError::TrailingBytes { .. })
        ));
    }

    #[test]
    fn qbft_client_state_evidence_and_trust_root_round_trip_and_refuse_bad_bytes() {
        use crate::evm::qbft::testkit as qbft;
        let chain = qbft::chain(4, 6, 1_000);
        let mut client = QbftClient::from_trusted_header(&chain[0], qbft::config())
            .unwrap_or_else(|e| panic!("{e}"));
        for rlp in &chain[1..] {
            let v = client
                .verify_header(rlp, Timestamp::from_secs(1_010))
                .unwrap_or_else(|e| panic!("{e}"));
            client.apply_header(v);
        }
        client.freeze(4);
        let bytes = client.to_bytes();
        let back = QbftClient::from_bytes(&bytes).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back.to_bytes(), bytes);
        assert_eq!(back.latest_height(), 5);
        assert_eq!(back.parts().3, Some(4));
        let mut long = bytes.clone();
        long.push(0);
        assert!(matches!(
            QbftClient::from_bytes(&long),
            Err(DecodeError::TrailingBytes { .. })
        ));
        // A kept state with a validator listed twice is not a state the client could hold.
        let (config, states, latest, frozen) = client.parts();
        let mut states = states.clone();
        if let Some(s) = states.get_mut(&latest) {
            let first = s.validators[0];
            s.validators.push(first);
        }
        let mut bad = Vec::new();
        config.max_clock_drift_secs.encode_to(&mut bad);
        config.trusting_period_secs.encode_to(&mut bad);
        (config.max_history as u64).encode_to(&mut bad);
        latest.encode_to(&mut bad);
        frozen.encode_to(&mut bad);
        encode_len(states.len(), &mut bad);
        for (h, s) in &states {
            h.encode_to(&mut bad);
            s.encode_to(&mut bad);
        }
        assert!(matches!(
            QbftClient::from_bytes(&bad),
            Err(DecodeError::NonCanonical(_))
        ));

        let state = QbftConsensusState {
            hash: [1; 32],
            state_root: [2; 32],
            receipts_root: [3; 32],
            timestamp: 9,
            validators: vec![[4; 20]],
            vote: Some(Vote {
                recipient: [5; 20],
                vote_type: VoteType::Drop,
            }),
        };
        let mut bytes = state.to_bytes();
        assert_eq!(QbftConsensusState::from_bytes(&bytes), Ok(state));
        let last = bytes.len() - 1;
        bytes[last] = 2;
        assert!(matches!(
            QbftConsensusState::from_bytes(&bytes),
            Err(DecodeError::InvalidTag {
                what: "vote type",
                ..
            })
        ));

        let evidence = QbftMisbehaviour {
            header_a: chain[2].clone(),
            header_b: chain[3].clone(),
        };
        let bytes = evidence.to_bytes();
        assert_eq!(QbftMisbehaviour::from_bytes(&bytes), Ok(evidence));
        assert!(QbftMisbehaviour::from_bytes(&bytes[..bytes.len() - 1]).is_err());
        let root = QbftTrustRoot {
            evm_chain_id: 1_337,
            gateway: [9; 20],
            trusted_header: chain[0].clone(),
        };
        assert_eq!(QbftTrustRoot::from_bytes(&root.to_bytes()), Ok(root));
        let huge = QbftTrustRoot {
            evm_chain_id: 1,
            gateway: [9; 20],
            trusted_header: vec![0xc0; MAX_QBFT_HEADER_BYTES + 1],
        };
        assert!(matches!(
            QbftTrustRoot::from_bytes(&huge.to_bytes()),
            Err(DecodeError::LengthTooLarge { .. })
        ));
    }

    #[test]
    fn proof_and_trust_root_round_trip_and_bound_their_sizes() {
        let proof = EvmProof {
            account_proof: vec![vec![1; 100], vec![2; 532]],
            storage_proof: vec![vec![3; 40]],
            receipt_proof: vec![],
        };
        assert_eq!(EvmProof::from_bytes(&proof.to_bytes()), Ok(proof));
        let big = EvmProof {
            account_proof: vec![vec![0; MAX_PROOF_NODE_BYTES + 1]],
            ..EvmProof::default()
        };
        assert!(matches!(
            EvmProof::from_bytes(&big.to_bytes()),
            Err(DecodeError::LengthTooLarge { .. })
        ));
        let root = AttestedTrustRoot {
            evm_chain_id: 31_337,
            gateway: [9; 20],
            attesters: vec![[1; 20], [2; 20]],
            trusted: header(3, [2; 32]),
        };
        assert_eq!(AttestedTrustRoot::from_bytes(&root.to_bytes()), Ok(root));
    }
}
