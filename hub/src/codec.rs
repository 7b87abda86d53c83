//! The byte encoding of every message Malachite sends or writes for us: consensus messages,
//! liveness certificates, proposal-part streams, sync requests and responses, WAL entries.
//!
//! Everything goes through the `spec` encoding (`Reader`, `Put`): bounded lengths, no
//! trailing bytes, and a named error for bad input from a peer instead of a panic.

use bytes::Bytes;
use malachitebft_app_channel::app::consensus::{LivenessMsg, ProposedValue, SignedConsensusMsg};
use malachitebft_app_channel::app::engine::util::streaming::{
    StreamContent, StreamId, StreamMessage,
};
use malachitebft_app_channel::app::types::codec::{Codec, HasEncodedLen};
use malachitebft_app_channel::app::types::core::{
    CommitCertificate, CommitSignature, ExtendedCommitCertificate, ExtendedCommitSignature,
    PolkaCertificate, PolkaSignature, RoundCertificate, RoundCertificateType, RoundSignature,
    SignedExtension, SignedMessage, SignedProposal, SignedVote, ValidatorProof, Validity,
};
use malachitebft_app_channel::app::types::sync::RawDecidedValue;
use malachitebft_app_channel::app::types::PeerId;
use malachitebft_sync::{self as sync, ValueRequest, ValueResponse};

use crate::context::{
    decode_nil_or_hash, decode_proposal, decode_round, decode_vote_body, decode_vote_type,
    encode_nil_or_hash, encode_proposal, encode_round, encode_vote_body, encode_vote_type, Address,
    BlockHash, Height, JunctionContext as Ctx, ProposalPart, Signature, Vote, PART_CHUNK_BYTES,
};
use junction_spec::encoding::{DecodeError, Put, Reader};

/// Largest vote extension accepted from a peer (a checkpoint attestation is far smaller).
pub const MAX_EXTENSION_BYTES: usize = 1024;
/// Most signatures in one certificate (validators in a set).
pub const MAX_SIGNATURES: usize = 1024;
/// Most decided values in one sync response.
pub const MAX_SYNC_VALUES: usize = 256;
/// Largest encoded block accepted through sync.
pub const MAX_BLOCK_BYTES: usize = 32 * 1024 * 1024;

/// The hub's codec for everything Malachite serializes.
#[derive(Copy, Clone, Debug, Default)]
pub struct JunctionCodec;

fn sig(w: &mut Vec<u8>, s: &Signature) {
    w.put_raw(&s.to_bytes());
}

fn read_sig(r: &mut Reader<'_>) -> Result<Signature, DecodeError> {
    Ok(Signature::from_bytes(r.read_array()?))
}

fn addr(r: &mut Reader<'_>) -> Result<Address, DecodeError> {
    Ok(Address(r.read_array()?))
}

fn finish<T>(r: Reader<'_>, v: T) -> Result<T, DecodeError> {
    r.finish()?;
    Ok(v)
}

fn encode_extension(w: &mut Vec<u8>, e: &SignedExtension<Ctx>) {
    w.put_bytes(&e.message);
    sig(w, &e.signature);
}

fn decode_extension(r: &mut Reader<'_>) -> Result<SignedExtension<Ctx>, DecodeError> {
    let msg = Bytes::copy_from_slice(r.read_bytes(MAX_EXTENSION_BYTES)?);
    Ok(SignedMessage::new(msg, read_sig(r)?))
}

fn encode_opt_extension(w: &mut Vec<u8>, e: &Option<SignedExtension<Ctx>>) {
    match e {
        None => w.put_u8(0),
        Some(e) => {
            w.put_u8(1);
            encode_extension(w, e);
        }
    }
}

fn decode_opt_extension(r: &mut Reader<'_>) -> Result<Option<SignedExtension<Ctx>>, DecodeError> {
    match r.read_u8()? {
        0 => Ok(None),
        1 => Ok(Some(decode_extension(r)?)),
        _ => Err(DecodeError::InvalidValue("extension tag")),
    }
}

fn encode_signed_vote(w: &mut Vec<u8>, v: &SignedVote<Ctx>) {
    encode_vote_body(w, &v.message);
    encode_opt_extension(w, &v.message.extension);
    sig(w, &v.signature);
}

fn decode_signed_vote(r: &mut Reader<'_>) -> Result<SignedVote<Ctx>, DecodeError> {
    let mut vote: Vote = decode_vote_body(r)?;
    vote.extension = decode_opt_extension(r)?;
    Ok(SignedVote::new(vote, read_sig(r)?))
}

fn encode_part(w: &mut Vec<u8>, p: &ProposalPart) {
    match p {
        ProposalPart::Init {
            height,
            round,
            pol_round,
            proposer,
        } => {
            w.put_u8(1);
            w.put_u64(height.0);
            encode_round(w, *round);
            encode_round(w, *pol_round);
            w.put_raw(&proposer.0);
        }
        ProposalPart::Data(b) => {
            w.put_u8(2);
            w.put_bytes(b);
        }
        ProposalPart::Fin { signature } => {
            w.put_u8(3);
            sig(w, signature);
        }
    }
}

/// `sub`, a slice of `whole`, as bytes that share `whole`'s memory: a proposal's parts and a
/// synced block are megabytes, which a copy would allocate and move once more per message.
/// A `sub` from elsewhere is copied.
fn shared(whole: &Bytes, sub: &[u8]) -> Bytes {
    let start = (sub.as_ptr() as usize).wrapping_sub(whole.as_ptr() as usize);
    match start.checked_add(sub.len()) {
        Some(end) if end <= whole.len() => whole.slice(start..end),
        _ => Bytes::copy_from_slice(sub),
    }
}

fn decode_part(r: &mut Reader<'_>, whole: &Bytes) -> Result<ProposalPart, DecodeError> {
    match r.read_u8()? {
        1 => Ok(ProposalPart::Init {
            height: Height(r.read_u64()?),
            round: decode_round(r)?,
            pol_round: decode_round(r)?,
            proposer: addr(r)?,
        }),
        2 => Ok(ProposalPart::Data(shared(
            whole,
            r.read_bytes(PART_CHUNK_BYTES)?,
        ))),
        3 => Ok(ProposalPart::Fin {
            signature: read_sig(r)?,
        }),
        _ => Err(DecodeError::InvalidValue("proposal part tag")),
    }
}

fn encode_polka(w: &mut Vec<u8>, c: &PolkaCertificate<Ctx>) {
    w.put_u64(c.height.0);
    encode_round(w, c.round);
    w.put_raw(&c.value_id.0);
    w.put_u32(c.polka_signatures.len() as u32);
    for s in &c.polka_signatures {
        w.put_raw(&s.address.0);
        sig(w, &s.signature);
    }
}

fn decode_polka(r: &mut Reader<'_>) -> Result<PolkaCertificate<Ctx>, DecodeError> {
    let height = Height(r.read_u64()?);
    let round = decode_round(r)?;
    let value_id = BlockHash(r.read_array()?);
    let n = r.read_count(MAX_SIGNATURES, 84)?;
    let mut polka_signatures = Vec::with_capacity(n);
    for _ in 0..n {
        polka_signatures.push(PolkaSignature::new(addr(r)?, read_sig(r)?));
    }
    Ok(PolkaCertificate {
        height,
        round,
        value_id,
        polka_signatures,
    })
}

fn encode_round_cert(w: &mut Vec<u8>, c: &RoundCertificate<Ctx>) {
    w.put_u64(c.height.0);
    encode_round(w, c.round);
    w.put_u8(match c.cert_type {
        RoundCertificateType::Skip => 1,
        RoundCertificateType::Precommit => 2,
    });
    w.put_u32(c.round_signatures.len() as u32);
    for s in &c.round_signatures {
        encode_vote_type(w, s.vote_type);
        encode_nil_or_hash(w, &s.value_id);
        w.put_raw(&s.address.0);
        sig(w, &s.signature);
    }
}

fn decode_round_cert(r: &mut Reader<'_>) -> Result<RoundCertificate<Ctx>, DecodeError> {
    let height = Height(r.read_u64()?);
    let round = decode_round(r)?;
    let cert_type = match r.read_u8()? {
        1 => RoundCertificateType::Skip,
        2 => RoundCertificateType::Precommit,
        _ => return Err(DecodeError::InvalidValue("round certificate type")),
    };
    let n = r.read_count(MAX_SIGNATURES, 86)?;
    let mut round_signatures = Vec::with_capacity(n);
    for _ in 0..n {
        let vote_type = decode_vote_type(r)?;
        let value_id = decode_nil_or_hash(r)?;
        let address = addr(r)?;
        let signature = read_sig(r)?;
        round_signatures.push(RoundSignature::new(vote_type, value_id, address, signature));
    }
    Ok(RoundCertificate {
        height,
        round,
        cert_type,
        round_signatures,
    })
}

/// Encodes a commit certificate with its vote extensions (stored with each block).
pub fn encode_extended_cert(w: &mut Vec<u8>, c: &ExtendedCommitCertificate<Ctx>) {
    w.put_u64(c.height.0);
    encode_round(w, c.round);
    w.put_raw(&c.value_id.0);
    w.put_u32(c.commit_signatures.len() as u32);
    for s in &c.commit_signatures {
        w.put_raw(&s.address.0);
        sig(w, &s.signature);
        encode_opt_extension(w, &s.extension);
    }
}

/// Decodes what [`encode_extended_cert`] wrote.
pub fn decode_extended_cert(
    r: &mut Reader<'_>,
) -> Result<ExtendedCommitCertificate<Ctx>, DecodeError> {
    let height = Height(r.read_u64()?);
    let round = decode_round(r)?;
    let value_id = BlockHash(r.read_array()?);
    let n = r.read_count(MAX_SIGNATURES, 85)?;
    let mut commit_signatures = Vec::with_capacity(n);
    for _ in 0..n {
        let address = addr(r)?;
        let signature = read_sig(r)?;
        let extension = decode_opt_extension(r)?;
        commit_signatures.push(ExtendedCommitSignature::new(address, signature, extension));
    }
    Ok(ExtendedCommitCertificate {
        height,
        round,
        value_id,
        commit_signatures,
    })
}

/// The certificate without extensions, as consensus hands it to the application.
pub fn plain_certificate(c: &ExtendedCommitCertificate<Ctx>) -> CommitCertificate<Ctx> {
    CommitCertificate {
        height: c.height,
        round: c.round,
        value_id: c.value_id,
        commit_signatures: c
            .commit_signatures
            .iter()
            .map(|s| CommitSignature::new(s.address, s.signature))
            .collect(),
    }
}

fn encode_response(w: &mut Vec<u8>, resp: &sync::Response<Ctx>) {
    let sync::Response::ValueResponse(v) = resp;
    w.put_u64(v.start_height.0);
    w.put_u32(v.values.len() as u32);
    for raw in &v.values {
        w.put_bytes(&raw.value_bytes);
        encode_extended_cert(w, &raw.certificate);
    }
}

macro_rules! codec_impl {
    ($t:ty, |$w:ident, $m:ident| $enc:block, |$r:ident| $dec:block) => {
        codec_impl!($t, |$w, $m| $enc, |$r, _whole| $dec);
    };
    ($t:ty, |$w:ident, $m:ident| $enc:block, |$r:ident, $whole:ident| $dec:block) => {
        impl Codec<$t> for JunctionCodec {
            type Error = DecodeError;

            fn decode(&self, bytes: Bytes) -> Result<$t, DecodeError> {
                let $whole = &bytes;
                let mut $r = Reader::new(&bytes);
                let v = $dec;
                finish($r, v)
            }

            fn encode(&self, $m: &$t) -> Result<Bytes, DecodeError> {
                let mut $w = Vec::new();
                $enc;
                Ok(Bytes::from($w))
            }
        }
    };
}

codec_impl!(
    ProposalPart,
    |w, m| { encode_part(&mut w, m) },
    |r, whole| { decode_part(&mut r, whole)? }
);

codec_impl!(
    SignedConsensusMsg<Ctx>,
    |w, m| {
        match m {
            SignedConsensusMsg::Vote(v) => {
                w.put_u8(1);
                encode_signed_vote(&mut w, v);
            }
            SignedConsensusMsg::Proposal(p) => {
                w.put_u8(2);
                encode_proposal(&mut w, &p.message);
                sig(&mut w, &p.signature);
            }
        }
    },
    |r| {
        match r.read_u8()? {
            1 => SignedConsensusMsg::Vote(decode_signed_vote(&mut r)?),
            2 => {
                let p = decode_proposal(&mut r)?;
                SignedConsensusMsg::Proposal(SignedProposal::new(p, read_sig(&mut r)?))
            }
            _ => return Err(DecodeError::InvalidValue("consensus message tag")),
        }
    }
);

codec_impl!(
    LivenessMsg<Ctx>,
    |w, m| {
        match m {
            LivenessMsg::Vote(v) => {
                w.put_u8(1);
                encode_signed_vote(&mut w, v);
            }
            LivenessMsg::PolkaCertificate(c) => {
                w.put_u8(2);
                encode_polka(&mut w, c);
            }
            LivenessMsg::SkipRoundCertificate(c) => {
                w.put_u8(3);
                encode_round_cert(&mut w, c);
            }
        }
    },
    |r| {
        match r.read_u8()? {
            1 => LivenessMsg::Vote(decode_signed_vote(&mut r)?),
            2 => LivenessMsg::PolkaCertificate(decode_polka(&mut r)?),
            3 => LivenessMsg::SkipRoundCertificate(decode_round_cert(&mut r)?),
            _ => return Err(DecodeError::InvalidValue("liveness message tag")),
        }
    }
);

codec_impl!(
    StreamMessage<ProposalPart>,
    |w, m| {
        w.put_bytes(&m.stream_id.to_bytes());
        w.put_u64(m.sequence);
        match &m.content {
            StreamContent::Data(p) => {
                w.put_u8(1);
                encode_part(&mut w, p);
            }
            StreamContent::Fin => w.put_u8(2),
        }
    },
    |r, whole| {
        let stream_id = StreamId::new(Bytes::copy_from_slice(r.read_bytes(64)?));
        let sequence = r.read_u64()?;
        let content = match r.read_u8()? {
            1 => StreamContent::Data(decode_part(&mut r, whole)?),
            2 => StreamContent::Fin,
            _ => return Err(DecodeError::InvalidValue("stream content tag")),
        };
        StreamMessage {
            stream_id,
            sequence,
            content,
        }
    }
);

codec_impl!(
    ValidatorProof<Ctx>,
    |w, m| {
        w.put_bytes(&m.public_key);
        w.put_bytes(&m.peer_id);
        sig(&mut w, &m.signature);
    },
    |r| {
        let public_key = r.read_bytes(64)?.to_vec();
        let peer_id = r.read_bytes(128)?.to_vec();
        ValidatorProof::new(public_key, peer_id, read_sig(&mut r)?)
    }
);

codec_impl!(
    ProposedValue<Ctx>,
    |w, m| {
        w.put_u64(m.height.0);
        encode_round(&mut w, m.round);
        encode_round(&mut w, m.valid_round);
        w.put_raw(&m.proposer.0);
        w.put_raw(&m.value.0);
        w.put_u8(u8::from(m.validity.is_valid()));
    },
    |r| {
        ProposedValue {
            height: Height(r.read_u64()?),
            round: decode_round(&mut r)?,
            valid_round: decode_round(&mut r)?,
            proposer: addr(&mut r)?,
            value: BlockHash(r.read_array()?),
            validity: match r.read_u8()? {
                0 => Validity::Invalid,
                1 => Validity::Valid,
                _ => return Err(DecodeError::InvalidValue("validity")),
            },
        }
    }
);

codec_impl!(
    PolkaCertificate<Ctx>,
    |w, m| { encode_polka(&mut w, m) },
    |r| { decode_polka(&mut r)? }
);

codec_impl!(
    sync::Status<Ctx>,
    |w, m| {
        w.put_bytes(&m.peer_id.to_bytes());
        w.put_u64(m.tip_height.0);
        w.put_u64(m.history_min_height.0);
    },
    |r| {
        let peer_id = PeerId::from_bytes(r.read_bytes(128)?)
            .map_err(|_| DecodeError::InvalidValue("peer id"))?;
        sync::Status {
            peer_id,
            tip_height: Height(r.read_u64()?),
            history_min_height: Height(r.read_u64()?),
        }
    }
);

codec_impl!(
    sync::Request<Ctx>,
    |w, m| {
        let sync::Request::ValueRequest(req) = m;
        w.put_u64(req.range.start().0);
        w.put_u64(req.range.end().0);
    },
    |r| {
        let start = r.read_u64()?;
        let end = r.read_u64()?;
        if end < start {
            return Err(DecodeError::InvalidValue("sync range"));
        }
        sync::Request::ValueRequest(ValueRequest::new(Height(start)..=Height(end)))
    }
);

codec_impl!(
    sync::Response<Ctx>,
    |w, m| { encode_response(&mut w, m) },
    |r, whole| {
        let start_height = Height(r.read_u64()?);
        let n = r.read_count(MAX_SYNC_VALUES, 4)?;
        let mut values = Vec::with_capacity(n);
        for _ in 0..n {
            let value_bytes = shared(whole, r.read_bytes(MAX_BLOCK_BYTES)?);
            let certificate = decode_extended_cert(&mut r)?;
            values.push(RawDecidedValue::new(value_bytes, certificate));
        }
        sync::Response::ValueResponse(ValueResponse::new(start_height, values))
    }
);

impl HasEncodedLen<sync::Response<Ctx>> for JunctionCodec {
    fn encoded_len(&self, msg: &sync::Response<Ctx>) -> Result<usize, DecodeError> {
        let mut w = Vec::new();
        encode_response(&mut w, msg);
        Ok(w.len())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::context::PrivateKey;
    use malachitebft_app_channel::app::types::core::{NilOrVal, Round, VoteType};

    fn signed_vote() -> SignedConsensusMsg<Ctx> {
        let key = PrivateKey::from([7u8; 32]);
        let vote = Vote {
            typ: VoteType::Precommit,
            height: Height(5),
            round: Round::new(1),
            value: NilOrVal::Val(BlockHash([9; 32])),
            validator_address: Address::from_public_key(&key.public_key()),
            extension: Some(SignedMessage::new(
                Bytes::from_static(b"ext"),
                key.sign(b"ext"),
            )),
        };
        let s = key.sign(&vote.to_sign_bytes());
        SignedConsensusMsg::Vote(SignedVote::new(vote, s))
    }

    #[test]
    fn consensus_messages_round_trip_and_reject_damage() {
        let msg = signed_vote();
        let bytes = JunctionCodec.encode(&msg).unwrap();
        let back: SignedConsensusMsg<Ctx> = JunctionCodec.decode(bytes.clone()).unwrap();
        assert_eq!(back, msg);
        for cut in 0..bytes.len() {
            let r: Result<SignedConsensusMsg<Ctx>, _> = JunctionCodec.decode(bytes.slice(..cut));
            assert!(r.is_err(), "prefix of {cut} bytes decoded");
        }
        let mut long = bytes.to_vec();
        long.push(0);
        let r: Result<SignedConsensusMsg<Ctx>, _> = JunctionCodec.decode(Bytes::from(long));
        assert_eq!(r.err(), Some(DecodeError::TrailingBytes { remaining: 1 }));
    }

    #[test]
    fn a_parts_data_shares_the_received_message() {
        let data = Bytes::from(vec![5u8; 3000]);
        let msg = StreamMessage::new(
            StreamId::new(Bytes::from_static(b"s")),
            3,
            StreamContent::Data(ProposalPart::Data(data.clone())),
        );
        let bytes = JunctionCodec.encode(&msg).unwrap();
        let back: StreamMessage<ProposalPart> = JunctionCodec.decode(bytes.clone()).unwrap();
        assert_eq!(back, msg);
        let got = match &back.content {
            StreamContent::Data(ProposalPart::Data(got)) => got.clone(),
            other => unreachable!("not a data part: {other:?}"),
        };
        // The part's bytes lie inside the message's own buffer: nothing was copied.
        let (at, whole) = (got.as_ptr() as usize, bytes.as_ptr() as usize);
        assert!(at > whole && at + got.len() <= whole + bytes.len());
        // Bytes from outside the buffer are copied instead.
        let elsewhere = [1u8, 2, 3];
        assert_eq!(shared(&bytes, &elsewhere).as_ref(), &elsewhere);
        assert_eq!(shared(&bytes, &bytes[4..9]).as_ref(), &bytes[4..9]);
    }

    #[test]
    fn sync_request_with_reversed_range_is_refused() {
        let mut w = Vec::new();
        w.put_u64(10);
        w.put_u64(3);
        let r: Result<sync::Request<Ctx>, _> = JunctionCodec.decode(Bytes::from(w));
        assert_eq!(r.err(), Some(DecodeError::InvalidValue("sync range")));
    }
}
