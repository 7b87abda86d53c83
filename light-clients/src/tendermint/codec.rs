//! Raw-bytes entry points: CometBFT v0.38 protobuf encodings of signed headers and
//! validator sets, decoded with the tendermint crate's domain checks, and a header update
//! judged straight from bytes (for relayer messages, fuzzing and mutation tests).

use tendermint::{block::signed_header::SignedHeader, validator};
use tendermint_proto::v0_38::types::{
    SignedHeader as RawSignedHeader, ValidatorSet as RawValidatorSet,
};
use tendermint_proto::Protobuf;

use super::client::{Header, TendermintClient, TendermintError, VerifiedHeader};
use crate::{LightClient, Timestamp};

/// Largest encoding accepted (a 1024-validator commit is ~110 KiB).
pub const MAX_ENCODED_BYTES: usize = 1 << 20;

fn check_len(bytes: &[u8]) -> Result<(), TendermintError> {
    if bytes.len() > MAX_ENCODED_BYTES {
        return Err(TendermintError::EncodingTooLarge {
            got: bytes.len(),
            max: MAX_ENCODED_BYTES,
        });
    }
    Ok(())
}

/// Decode a protobuf `tendermint.types.SignedHeader`.
pub fn decode_signed_header(bytes: &[u8]) -> Result<SignedHeader, TendermintError> {
    check_len(bytes)?;
    <SignedHeader as Protobuf<RawSignedHeader>>::decode_vec(bytes)
        .map_err(|e| TendermintError::Decode(e.to_string()))
}

/// Decode a protobuf `tendermint.types.ValidatorSet`.
pub fn decode_validator_set(bytes: &[u8]) -> Result<validator::Set, TendermintError> {
    check_len(bytes)?;
    <validator::Set as Protobuf<RawValidatorSet>>::decode_vec(bytes)
        .map_err(|e| TendermintError::Decode(e.to_string()))
}

/// Encode a signed header as protobuf.
pub fn encode_signed_header(signed_header: &SignedHeader) -> Vec<u8> {
    <SignedHeader as Protobuf<RawSignedHeader>>::encode_vec(signed_header.clone())
}

/// Encode a validator set as protobuf.
pub fn encode_validator_set(set: &validator::Set) -> Vec<u8> {
    <validator::Set as Protobuf<RawValidatorSet>>::encode_vec(set.clone())
}

/// Decode a client update from its three encodings and the trusted height.
pub fn decode_header(
    signed_header: &[u8],
    validator_set: &[u8],
    trusted_height: u64,
    trusted_next_validator_set: &[u8],
) -> Result<Header, TendermintError> {
    Ok(Header {
        signed_header: decode_signed_header(signed_header)?,
        validator_set: decode_validator_set(validator_set)?,
        trusted_height,
        trusted_next_validator_set: decode_validator_set(trusted_next_validator_set)?,
    })
}

/// Judge an update given as bytes against `client` at `now` (read only).
pub fn verify_header_bytes(
    client: &TendermintClient,
    signed_header: &[u8],
    validator_set: &[u8],
    trusted_height: u64,
    trusted_next_validator_set: &[u8],
    now: Timestamp,
) -> Result<VerifiedHeader, TendermintError> {
    let header = decode_header(
        signed_header,
        validator_set,
        trusted_height,
        trusted_next_validator_set,
    )?;
    client.verify_header(&header, now)
}
