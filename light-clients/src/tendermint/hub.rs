//! What the hub's state and relayer messages carry for a Tendermint / Cosmos SDK chain, in
//! the canonical encoding (spec/encoding.md rules): the council's trust root, a header
//! update and misbehaviour evidence (each header as its CometBFT v0.38 protobuf pieces).
//! The client's own state encodes in `client`.

use junction_spec::encoding::{decode_bytes, decode_string, encode_bytes, encode_str};
use junction_spec::{Decode, DecodeError, Encode, Reader};

use super::client::{
    ClientConfig, ConsensusState, Header, Misbehaviour, TendermintClient, TendermintError,
    MAX_ROOT_BYTES,
};
use super::codec::{decode_header, encode_signed_header, encode_validator_set};

/// Largest protobuf piece (signed header or validator set) a hub message may carry.
pub const MAX_PIECE_BYTES: usize = 16_384;
/// Largest store name or key prefix of a commitment layout.
pub const MAX_LAYOUT_BYTES: usize = 64;

/// The council's trust root for a Tendermint chain: the header it trusts (by height, time,
/// app hash and the hash of the validator set that signs the next height), the chain's
/// unbonding period, and where the chain keeps packet commitments (the store of the
/// multistore, and the key prefix inside it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TendermintTrustRoot {
    /// The chain's id (CometBFT `chain_id`).
    pub chain_id: String,
    /// The trusted height.
    pub height: u64,
    /// Its header time, ns since the epoch.
    pub time_ns: u64,
    /// Its app hash.
    pub app_hash: Vec<u8>,
    /// Hash of the validator set that signs the next height.
    pub next_validators_hash: [u8; 32],
    /// The chain's unbonding period, ns (longer than the registration's trusting period).
    pub unbonding_period_ns: u64,
    /// The multistore's store that holds commitments (e.g. `junction`).
    pub store: Vec<u8>,
    /// The key prefix of commitments inside it.
    pub key_prefix: Vec<u8>,
}

impl TendermintTrustRoot {
    /// The root that trusts `header` (a block header the council checked out of band) of a
    /// chain whose unbonding period is `unbonding_period_ns` and that keeps commitments in
    /// `store` under `key_prefix`. Refused for a header without a SHA-256 hash of its next
    /// validator set, or with a time outside the client's range.
    pub fn trusting(
        header: &tendermint::block::Header,
        unbonding_period_ns: u64,
        store: &[u8],
        key_prefix: &[u8],
    ) -> Result<Self, TendermintError> {
        let next_validators_hash = <[u8; 32]>::try_from(header.next_validators_hash.as_bytes())
            .map_err(|_| {
                TendermintError::Decode("the next validators hash is not SHA-256".into())
            })?;
        Ok(Self {
            chain_id: header.chain_id.as_str().to_owned(),
            height: header.height.value(),
            time_ns: super::client::from_tm_time(header.time)?.nanos(),
            app_hash: header.app_hash.as_bytes().to_vec(),
            next_validators_hash,
            unbonding_period_ns,
            store: store.to_vec(),
            key_prefix: key_prefix.to_vec(),
        })
    }

    /// The client the council's registration starts: this root's header trusted, with the
    /// registration's trust level, trusting period and clock drift, keeping at most
    /// `max_states` consensus states.
    pub fn start_client(
        &self,
        trust_level: (u64, u64),
        trusting_period_ns: u64,
        max_clock_drift_ns: u64,
        max_states: usize,
    ) -> Result<TendermintClient, TendermintError> {
        let config = ClientConfig {
            chain_id: self.chain_id.clone(),
            trust_numerator: trust_level.0,
            trust_denominator: trust_level.1,
            trusting_period_ns,
            unbonding_period_ns: self.unbonding_period_ns,
            max_clock_drift_ns,
            max_consensus_states: max_states,
        };
        let consensus_state = ConsensusState {
            timestamp: crate::Timestamp(self.time_ns),
            root: self.app_hash.clone(),
            next_validators_hash: tendermint::Hash::Sha256(self.next_validators_hash),
        };
        TendermintClient::new(&config, self.height, consensus_state)
    }
}

/// chain id (string, cap 50) ‖ height u64 ‖ time ns u64 ‖ app hash bytes (cap 64) ‖ next
/// validators hash (32) ‖ unbonding ns u64 ‖ store bytes (cap 64) ‖ key prefix bytes (cap 64).
impl Encode for TendermintTrustRoot {
    fn encode_to(&self, out: &mut Vec<u8>) {
        encode_str(&self.chain_id, out);
        self.height.encode_to(out);
        self.time_ns.encode_to(out);
        encode_bytes(&self.app_hash, out);
        self.next_validators_hash.encode_to(out);
        self.unbonding_period_ns.encode_to(out);
        encode_bytes(&self.store, out);
        encode_bytes(&self.key_prefix, out);
    }
}

impl Decode for TendermintTrustRoot {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            chain_id: decode_string(r, 50)?,
            height: Decode::decode_from(r)?,
            time_ns: Decode::decode_from(r)?,
            app_hash: decode_bytes(r, MAX_ROOT_BYTES)?,
            next_validators_hash: Decode::decode_from(r)?,
            unbonding_period_ns: Decode::decode_from(r)?,
            store: decode_bytes(r, MAX_LAYOUT_BYTES)?,
            key_prefix: decode_bytes(r, MAX_LAYOUT_BYTES)?,
        })
    }
}

/// A header update: signed header ‖ its validator set ‖ trusted height u64 ‖ the validator
/// set the trusted header names as next (each protobuf piece as bytes, cap 16,384).
pub fn encode_update(header: &Header) -> Vec<u8> {
    let mut out = Vec::new();
    encode_update_to(header, &mut out);
    out
}

fn encode_update_to(header: &Header, out: &mut Vec<u8>) {
    encode_bytes(&encode_signed_header(&header.signed_header), out);
    encode_bytes(&encode_validator_set(&header.validator_set), out);
    header.trusted_height.encode_to(out);
    encode_bytes(
        &encode_validator_set(&header.trusted_next_validator_set),
        out,
    );
}

fn decode_update_from(r: &mut Reader<'_>) -> Result<Header, DecodeError> {
    let signed = decode_bytes(r, MAX_PIECE_BYTES)?;
    let validators = decode_bytes(r, MAX_PIECE_BYTES)?;
    let trusted_height = u64::decode_from(r)?;
    let trusted_next = decode_bytes(r, MAX_PIECE_BYTES)?;
    decode_header(&signed, &validators, trusted_height, &trusted_next)
        .map_err(|_| DecodeError::InvalidValue("tendermint header protobuf"))
}

/// Decodes a header update ([`encode_update`]) that fills `bytes`.
pub fn decode_update(bytes: &[u8]) -> Result<Header, DecodeError> {
    let mut r = Reader::new(bytes);
    let header = decode_update_from(&mut r)?;
    r.finish()?;
    Ok(header)
}

/// Misbehaviour evidence: the two headers, each as [`encode_update`].
pub fn encode_misbehaviour(evidence: &Misbehaviour) -> Vec<u8> {
    let mut out = Vec::new();
    encode_update_to(&evidence.header1, &mut out);
    encode_update_to(&evidence.header2, &mut out);
    out
}

/// Decodes misbehaviour evidence ([`encode_misbehaviour`]) that fills `bytes`.
pub fn decode_misbehaviour(bytes: &[u8]) -> Result<Misbehaviour, DecodeError> {
    let mut r = Reader::new(bytes);
    let header1 = decode_update_from(&mut r)?;
    let header2 = decode_update_from(&mut r)?;
    r.finish()?;
    Ok(Misbehaviour { header1, header2 })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::tendermint::testkit;
    use crate::Timestamp;

    #[test]
    fn trust_roots_updates_and_evidence_round_trip_and_refuse_a_cut() {
        let root = TendermintTrustRoot {
            chain_id: "cosmos-a".into(),
            height: 3,
            time_ns: 1_700_000_000_000_000_000,
            app_hash: vec![7; 32],
            next_validators_hash: [9; 32],
            unbonding_period_ns: 3 * 86_400 * 1_000_000_000,
            store: b"junction".to_vec(),
            key_prefix: b"packets/".to_vec(),
        };
        let bytes = root.to_bytes();
        assert_eq!(TendermintTrustRoot::from_bytes(&bytes), Ok(root));
        assert!(TendermintTrustRoot::from_bytes(&bytes[..bytes.len() - 1]).is_err());

        let keys = testkit::validator_keys(1, 4);
        let t = Timestamp::from_secs(1_700_000_000);
        let trusted =
            testkit::signed_light_block("cosmos-a", 3, t, &keys, &keys, &[1; 32]).unwrap();
        let next = testkit::signed_light_block(
            "cosmos-a",
            5,
            Timestamp::from_secs(1_700_000_010),
            &keys,
            &keys,
            &[2; 32],
        )
        .unwrap();
        let header = testkit::header_from(&next, &trusted);
        let bytes = encode_update(&header);
        assert_eq!(decode_update(&bytes).unwrap(), header);
        assert!(matches!(
            decode_update(&bytes[..bytes.len() - 1]),
            Err(DecodeError::UnexpectedEnd { .. })
        ));
        let mut tail = bytes.clone();
        tail.push(0);
        assert!(matches!(
            decode_update(&tail),
            Err(DecodeError::TrailingBytes { .. })
        ));
        let evidence = Misbehaviour {
            header1: header.clone(),
            header2: header,
        };
        let bytes = encode_misbehaviour(&evidence);
        assert_eq!(decode_misbehaviour(&bytes).unwrap(), evidence);
    }

    #[test]
    fn a_stored_client_reads_back_equal_and_refuses_what_no_client_holds() {
        use crate::LightClient;
        let keys = testkit::validator_keys(2, 4);
        let t = Timestamp::from_secs(1_700_000_000);
        let trusted =
            testkit::signed_light_block("cosmos-a", 3, t, &keys, &keys, &[1; 32]).unwrap();
        let root = TendermintTrustRoot::trusting(
            &trusted.signed_header.header,
            21 * 86_400 * 1_000_000_000,
            b"junction",
            b"",
        )
        .unwrap();
        assert_eq!((root.height, root.time_ns), (3, t.nanos()));
        let mut client = root
            .start_client((2, 3), 14 * 86_400 * 1_000_000_000, 10_000_000_000, 8)
            .unwrap();
        let next = testkit::signed_light_block(
            "cosmos-a",
            6,
            Timestamp::from_secs(1_700_000_030),
            &keys,
            &keys,
            &[2; 32],
        )
        .unwrap();
        let v = client
            .verify_header(
                &testkit::header_from(&next, &trusted),
                Timestamp::from_secs(1_700_000_040),
            )
            .unwrap();
        client.apply_header(v);
        let bytes = client.to_bytes();
        assert_eq!(TendermintClient::from_bytes(&bytes).unwrap(), client);
        client.freeze(6);
        assert_eq!(
            TendermintClient::from_bytes(&client.to_bytes()).unwrap(),
            client
        );
        assert!(TendermintClient::from_bytes(&bytes[..bytes.len() - 1]).is_err());
        // A trust level below 1/3 is no client's: refused on reading too.
        let mut low = bytes.clone();
        let at = 4 + "cosmos-a".len();
        low[at..at + 8].copy_from_slice(&1u64.to_be_bytes());
        low[at + 8..at + 16].copy_from_slice(&4u64.to_be_bytes());
        assert!(matches!(
            TendermintClient::from_bytes(&low),
            Err(DecodeError::InvalidValue(_))
        ));
    }
}
