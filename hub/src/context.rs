//! The types Malachite is generic over: heights, addresses, validators, values, votes,
//! proposals and proposal parts of the Junction hub chain.
//!
//! A consensus *value* is only a block hash: the block itself travels as proposal parts
//! (see [`ProposalPart`]) and is kept by the application, so votes and proposals stay small
//! whatever the block size.

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use malachitebft_app_channel::app::types::core::{
    self as mc, LinearTimeouts, NilOrVal, Round, SignedExtension, VoteType, VotingPower,
};
pub use malachitebft_signing_ed25519::{Ed25519, PrivateKey, PublicKey, Signature};

use junction_spec::{tagged_hash, Hash32, HashTag};

use junction_spec::encoding::{DecodeError, Put, Reader};

/// A hub block height; height 1 is the first block after genesis.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Height(pub u64);

impl fmt::Display for Height {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl mc::Height for Height {
    const ZERO: Self = Height(0);
    const INITIAL: Self = Height(1);

    fn increment_by(&self, n: u64) -> Self {
        Height(self.0.saturating_add(n))
    }

    fn decrement_by(&self, n: u64) -> Option<Self> {
        self.0.checked_sub(n).map(Height)
    }

    fn as_u64(&self) -> u64 {
        self.0
    }
}

/// A validator's address: the first 20 bytes of the tagged hash of its ed25519 key.
#[derive(Copy, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Address(pub [u8; 20]);

impl Address {
    /// The address of an ed25519 consensus key.
    pub fn from_public_key(key: &PublicKey) -> Self {
        Address(junction_spec::address_from_ed25519(key.as_bytes()))
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", hex::encode(self.0))
    }
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Address({})", hex::encode(self.0))
    }
}

impl mc::Address for Address {}

/// One validator: consensus key and voting power.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Validator {
    /// Derived from `public_key`.
    pub address: Address,
    /// ed25519 consensus key.
    pub public_key: PublicKey,
    /// Voting power, never zero.
    pub voting_power: VotingPower,
}

impl Validator {
    /// A validator from its key and power.
    pub fn new(public_key: PublicKey, voting_power: VotingPower) -> Self {
        Self {
            address: Address::from_public_key(&public_key),
            public_key,
            voting_power,
        }
    }
}

impl mc::Validator<JunctionContext> for Validator {
    fn address(&self) -> &Address {
        &self.address
    }

    fn public_key(&self) -> &PublicKey {
        &self.public_key
    }

    fn voting_power(&self) -> VotingPower {
        self.voting_power
    }
}

/// Why a validator set cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ValidatorSetError {
    /// A chain needs at least one validator.
    #[error("the validator set is empty")]
    Empty,
    /// Zero power would let a validator sign without weight.
    #[error("validator {0} has zero voting power")]
    ZeroPower(Address),
    /// The same key twice would count its power twice.
    #[error("validator {0} appears twice")]
    Duplicate(Address),
    /// Total power must fit in a u64.
    #[error("total voting power overflows")]
    PowerOverflow,
}

/// A non-empty validator set, sorted by address so that its hash and proposer order do not
/// depend on the order of the genesis file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidatorSet {
    validators: Arc<Vec<Validator>>,
    total_power: VotingPower,
}

impl ValidatorSet {
    /// Checks the set (non-empty, no zero power, no duplicate) and sorts it by address.
    pub fn new(mut validators: Vec<Validator>) -> Result<Self, ValidatorSetError> {
        if validators.is_empty() {
            return Err(ValidatorSetError::Empty);
        }
        validators.sort_by_key(|v| v.address);
        let mut total: u64 = 0;
        for (i, v) in validators.iter().enumerate() {
            if v.voting_power == 0 {
                return Err(ValidatorSetError::ZeroPower(v.address));
            }
            if i > 0 && validators[i - 1].address == v.address {
                return Err(ValidatorSetError::Duplicate(v.address));
            }
            total = total
                .checked_add(v.voting_power)
                .ok_or(ValidatorSetError::PowerOverflow)?;
        }
        Ok(Self {
            validators: Arc::new(validators),
            total_power: total,
        })
    }

    /// The validators, sorted by address.
    pub fn validators(&self) -> &[Validator] {
        &self.validators
    }

    /// Commits to every (key, power) pair in address order.
    pub fn hash(&self) -> Hash32 {
        let mut w = Vec::new();
        w.put_u32(self.validators.len() as u32);
        for v in self.validators.iter() {
            w.put_raw(v.public_key.as_bytes());
            w.put_u64(v.voting_power);
        }
        tagged_hash(HashTag::ValidatorSet, &w)
    }
}

impl mc::ValidatorSet<JunctionContext> for ValidatorSet {
    fn count(&self) -> usize {
        self.validators.len()
    }

    fn total_voting_power(&self) -> VotingPower {
        self.total_power
    }

    fn get_by_address(&self, address: &Address) -> Option<&Validator> {
        self.validators
            .binary_search_by(|v| v.address.cmp(address))
            .ok()
            .and_then(|i| self.validators.get(i))
    }

    fn get_by_index(&self, index: usize) -> Option<&Validator> {
        self.validators.get(index)
    }
}

/// The value consensus agrees on: the hash of a block header.
#[derive(Copy, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct BlockHash(pub Hash32);

impl fmt::Display for BlockHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", hex::encode(self.0))
    }
}

impl fmt::Debug for BlockHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BlockHash({})", hex::encode(&self.0[..8]))
    }
}

impl mc::Value for BlockHash {
    type Id = BlockHash;

    fn id(&self) -> BlockHash {
        *self
    }
}

/// A proposal as consensus signs and gossips it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proposal {
    /// Height proposed for.
    pub height: Height,
    /// Round proposed in.
    pub round: Round,
    /// The proposed block hash.
    pub value: BlockHash,
    /// Proof-of-lock round, or nil.
    pub pol_round: Round,
    /// Proposer.
    pub validator_address: Address,
}

impl Proposal {
    /// The bytes the proposer signs (domain-separated from votes and parts).
    pub fn to_sign_bytes(&self) -> Vec<u8> {
        let mut w = Vec::new();
        w.put_raw(b"junction/proposal/v1");
        encode_proposal(&mut w, self);
        w
    }
}

impl mc::Proposal<JunctionContext> for Proposal {
    fn height(&self) -> Height {
        self.height
    }
    fn round(&self) -> Round {
        self.round
    }
    fn value(&self) -> &BlockHash {
        &self.value
    }
    fn take_value(self) -> BlockHash {
        self.value
    }
    fn pol_round(&self) -> Round {
        self.pol_round
    }
    fn validator_address(&self) -> &Address {
        &self.validator_address
    }
}

/// A prevote or precommit, with an optional signed extension (the checkpoint attestation).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vote {
    /// Prevote or precommit.
    pub typ: VoteType,
    /// Height voted at.
    pub height: Height,
    /// Round voted in.
    pub round: Round,
    /// The block voted for, or nil.
    pub value: NilOrVal<BlockHash>,
    /// Voter.
    pub validator_address: Address,
    /// Vote extension, only on precommits for a value.
    pub extension: Option<SignedExtension<JunctionContext>>,
}

impl Vote {
    /// The bytes the voter signs: everything but the extension, which is signed on its own.
    pub fn to_sign_bytes(&self) -> Vec<u8> {
        let mut w = Vec::new();
        w.put_raw(b"junction/vote/v1");
        encode_vote_body(&mut w, self);
        w
    }
}

impl mc::Vote<JunctionContext> for Vote {
    fn height(&self) -> Height {
        self.height
    }
    fn round(&self) -> Round {
        self.round
    }
    fn value(&self) -> &NilOrVal<BlockHash> {
        &self.value
    }
    fn take_value(self) -> NilOrVal<BlockHash> {
        self.value
    }
    fn vote_type(&self) -> VoteType {
        self.typ
    }
    fn validator_address(&self) -> &Address {
        &self.validator_address
    }
    fn extension(&self) -> Option<&SignedExtension<JunctionContext>> {
        self.extension.as_ref()
    }
    fn take_extension(&mut self) -> Option<SignedExtension<JunctionContext>> {
        self.extension.take()
    }
    fn extend(self, extension: SignedExtension<JunctionContext>) -> Self {
        Self {
            extension: Some(extension),
            ..self
        }
    }
}

/// Largest chunk of an encoded block carried by one proposal part.
pub const PART_CHUNK_BYTES: usize = 256 * 1024;

/// The pieces a proposer streams for one block: who proposes, the block bytes, and the
/// proposer's signature over (height, round, block hash).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProposalPart {
    /// Opens the stream.
    Init {
        /// Height of the block.
        height: Height,
        /// Round in which it was first proposed.
        round: Round,
        /// Proof-of-lock round of that proposal (nil for a fresh block).
        pol_round: Round,
        /// The proposer who signs the `Fin` part.
        proposer: Address,
    },
    /// A chunk of the canonical block encoding.
    Data(Bytes),
    /// Closes the stream with the proposer's signature.
    Fin {
        /// Signature over [`part_sign_bytes`].
        signature: Signature,
    },
}

/// What the proposer signs for its proposal parts.
pub fn part_sign_bytes(height: Height, round: Round, block_hash: &BlockHash) -> Vec<u8> {
    let mut w = Vec::new();
    w.put_raw(b"junction/proposal-parts/v1");
    w.put_u64(height.0);
    w.put_i64(round.as_i64());
    w.put_raw(&block_hash.0);
    w
}

impl mc::ProposalPart<JunctionContext> for ProposalPart {
    fn is_first(&self) -> bool {
        matches!(self, ProposalPart::Init { .. })
    }
    fn is_last(&self) -> bool {
        matches!(self, ProposalPart::Fin { .. })
    }
}

/// The hub's consensus context.
#[derive(Clone, Debug, Default)]
pub struct JunctionContext;

impl mc::Context for JunctionContext {
    type Address = Address;
    type Height = Height;
    type ProposalPart = ProposalPart;
    type Proposal = Proposal;
    type Validator = Validator;
    type ValidatorSet = ValidatorSet;
    type Timeouts = LinearTimeouts;
    type Value = BlockHash;
    type Vote = Vote;
    type Extension = Bytes;
    type SigningScheme = Ed25519;

    fn select_proposer<'a>(
        &self,
        validator_set: &'a ValidatorSet,
        height: Height,
        round: Round,
    ) -> &'a Validator {
        // Round-robin over the address-sorted set; the set is never empty (see `ValidatorSet::new`).
        let n = validator_set.validators.len().max(1) as u64;
        let r = round.as_u32().unwrap_or(0) as u64;
        let idx = (height.0.saturating_sub(1).wrapping_add(r) % n) as usize;
        &validator_set.validators[idx]
    }

    fn new_proposal(
        &self,
        height: Height,
        round: Round,
        value: BlockHash,
        pol_round: Round,
        address: Address,
    ) -> Proposal {
        Proposal {
            height,
            round,
            value,
            pol_round,
            validator_address: address,
        }
    }

    fn new_prevote(
        &self,
        height: Height,
        round: Round,
        value_id: NilOrVal<BlockHash>,
        address: Address,
    ) -> Vote {
        Vote {
            typ: VoteType::Prevote,
            height,
            round,
            value: value_id,
            validator_address: address,
            extension: None,
        }
    }

    fn new_precommit(
        &self,
        height: Height,
        round: Round,
        value_id: NilOrVal<BlockHash>,
        address: Address,
    ) -> Vote {
        Vote {
            typ: VoteType::Precommit,
            height,
            round,
            value: value_id,
            validator_address: address,
            extension: None,
        }
    }
}

// ---- shared encodings used by sign bytes and by the codec ----

pub(crate) fn encode_round(w: &mut Vec<u8>, round: Round) {
    w.put_i64(round.as_i64());
}

pub(crate) fn decode_round(r: &mut Reader<'_>) -> Result<Round, DecodeError> {
    let v = r.read_i64()?;
    if v == -1 {
        Ok(Round::Nil)
    } else if (0..=u32::MAX as i64).contains(&v) {
        Ok(Round::new(v as u32))
    } else {
        Err(DecodeError::InvalidValue("round"))
    }
}

pub(crate) fn encode_proposal(w: &mut Vec<u8>, p: &Proposal) {
    w.put_u64(p.height.0);
    encode_round(w, p.round);
    w.put_raw(&p.value.0);
    encode_round(w, p.pol_round);
    w.put_raw(&p.validator_address.0);
}

pub(crate) fn decode_proposal(r: &mut Reader<'_>) -> Result<Proposal, DecodeError> {
    Ok(Proposal {
        height: Height(r.read_u64()?),
        round: decode_round(r)?,
        value: BlockHash(r.read_array()?),
        pol_round: decode_round(r)?,
        validator_address: Address(r.read_array()?),
    })
}

pub(crate) fn encode_vote_type(w: &mut Vec<u8>, t: VoteType) {
    w.put_u8(match t {
        VoteType::Prevote => 1,
        VoteType::Precommit => 2,
    });
}

pub(crate) fn decode_vote_type(r: &mut Reader<'_>) -> Result<VoteType, DecodeError> {
    match r.read_u8()? {
        1 => Ok(VoteType::Prevote),
        2 => Ok(VoteType::Precommit),
        _ => Err(DecodeError::InvalidValue("vote type")),
    }
}

pub(crate) fn encode_nil_or_hash(w: &mut Vec<u8>, v: &NilOrVal<BlockHash>) {
    match v {
        NilOrVal::Nil => w.put_u8(0),
        NilOrVal::Val(h) => {
            w.put_u8(1);
            w.put_raw(&h.0);
        }
    }
}

pub(crate) fn decode_nil_or_hash(r: &mut Reader<'_>) -> Result<NilOrVal<BlockHash>, DecodeError> {
    match r.read_u8()? {
        0 => Ok(NilOrVal::Nil),
        1 => Ok(NilOrVal::Val(BlockHash(r.read_array()?))),
        _ => Err(DecodeError::InvalidValue("nil-or-value tag")),
    }
}

pub(crate) fn encode_vote_body(w: &mut Vec<u8>, v: &Vote) {
    encode_vote_type(w, v.typ);
    w.put_u64(v.height.0);
    encode_round(w, v.round);
    encode_nil_or_hash(w, &v.value);
    w.put_raw(&v.validator_address.0);
}

pub(crate) fn decode_vote_body(r: &mut Reader<'_>) -> Result<Vote, DecodeError> {
    Ok(Vote {
        typ: decode_vote_type(r)?,
        height: Height(r.read_u64()?),
        round: decode_round(r)?,
        value: decode_nil_or_hash(r)?,
        validator_address: Address(r.read_array()?),
        extension: None,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use malachitebft_app_channel::app::types::core::{Context, Validator as _};

    fn key(i: u8) -> PrivateKey {
        PrivateKey::from([i; 32])
    }

    #[test]
    fn validator_set_is_sorted_and_rejects_bad_sets() {
        let vs = ValidatorSet::new(vec![
            Validator::new(key(1).public_key(), 1),
            Validator::new(key(2).public_key(), 2),
        ])
        .unwrap();
        assert!(vs.validators()[0].address < vs.validators()[1].address);
        assert_eq!(ValidatorSet::new(vec![]), Err(ValidatorSetError::Empty));
        let zero = Validator::new(key(1).public_key(), 0);
        assert_eq!(
            ValidatorSet::new(vec![zero.clone()]),
            Err(ValidatorSetError::ZeroPower(zero.address))
        );
        let one = Validator::new(key(1).public_key(), 1);
        assert_eq!(
            ValidatorSet::new(vec![one.clone(), one.clone()]),
            Err(ValidatorSetError::Duplicate(one.address))
        );
    }

    #[test]
    fn proposer_rotates_with_height_and_round() {
        let vs = ValidatorSet::new(
            (1..=4)
                .map(|i| Validator::new(key(i).public_key(), 1))
                .collect(),
        )
        .unwrap();
        let ctx = JunctionContext;
        let p1 = ctx.select_proposer(&vs, Height(1), Round::new(0)).address();
        let p2 = ctx.select_proposer(&vs, Height(2), Round::new(0)).address();
        let p1r1 = ctx.select_proposer(&vs, Height(1), Round::new(1)).address();
        assert_ne!(p1, p2);
        assert_eq!(p2, p1r1);
    }
}
