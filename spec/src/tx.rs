//! Hub transactions: what each kind does, the signed body, and their size rules.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::encoding::{
    decode_bytes, encode_bytes, Decode, DecodeError, Encode, Reader, MAX_REMARK_BYTES, MAX_TX_BYTES,
};
use crate::gov::{ProposalKind, RouteId, VoteOption};
use crate::hash::{tagged_hash, Hash32, HashTag};
use crate::id::{address_from_ed25519, Address, ChainId};

/// Why a transaction breaks a size rule.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TxError {
    /// Remark data longer than [`MAX_REMARK_BYTES`].
    #[error("remark data is {len} bytes, the maximum is {max}")]
    RemarkTooLarge {
        /// Its length.
        len: usize,
        /// The maximum.
        max: usize,
    },
    /// A proposal's content breaks its own bounds.
    #[error("invalid proposal: {0}")]
    InvalidProposal(crate::gov::ParamsError),
    /// A relay transaction without messages.
    #[error("relay transaction carries no message")]
    EmptyRelay,
    /// A park reason that is empty or longer than [`MAX_PARK_REASON_BYTES`].
    #[error("a park reason must be 1 to {max} bytes, this one is {len}")]
    ParkReason {
        /// Its length.
        len: usize,
        /// The maximum.
        max: usize,
    },
    /// An attest transaction without attestations.
    #[error("attest transaction carries no attestation")]
    EmptyAttest,
    /// The encoded transaction is longer than [`MAX_TX_BYTES`].
    #[error("encoded transaction is {len} bytes, the maximum is {max}")]
    TooLarge {
        /// Its encoded length.
        len: usize,
        /// The maximum.
        max: usize,
    },
}

/// Longest reason a `ParkPacket` gives, in bytes.
pub const MAX_PARK_REASON_BYTES: usize = 256;

/// What a transaction does. Encoded as a tag byte followed by the variant's fields.
/// Tag `0x00` is never used; new kinds take new tags.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TxKind {
    /// Tag `0x01`: record opaque data on chain (at most [`MAX_REMARK_BYTES`]).
    Remark {
        /// The data.
        #[serde(with = "crate::serde_hex::bytes")]
        data: Vec<u8>,
    },
    /// Tag `0x02`: a council member submits a proposal (see `governance.md`).
    Propose {
        /// What the proposal does once passed (boxed: it is far larger than other kinds).
        proposal: Box<ProposalKind>,
        /// Shorter voting period, higher threshold.
        expedited: bool,
        /// Deposit offered (at least the council's minimum).
        #[serde(with = "crate::serde_hex::u128_str")]
        deposit: u128,
    },
    /// Tag `0x03`: a council member votes on a proposal.
    Vote {
        /// Proposal id.
        proposal_id: u64,
        /// The vote.
        option: VoteOption,
    },
    /// Tag `0x04`: a member's signature for pausing a route at once (the emergency brake).
    EmergencyPause {
        /// The route.
        route: RouteId,
    },
    /// Tag `0x05`: a member's signature for freezing a light client at once.
    EmergencyFreeze {
        /// The chain whose client is frozen.
        chain: ChainId,
    },
    /// Tag `0x06`: a registered relayer's messages (1 to [`crate::relay::MAX_RELAY_MSGS`]),
    /// executed in order; each succeeds or is refused on its own.
    Relay {
        /// The messages.
        msgs: Vec<crate::relay::RelayMsg>,
    },
    /// Tag `0x07`: a member's attester vouches for headers of `chain` it saw finalized
    /// itself (1 to [`crate::relay::MAX_ATTESTATIONS_PER_TX`]); the hub moves the chain's
    /// client once k of its n registered attesters signed the same header.
    Attest {
        /// The chain.
        chain: crate::id::ChainId,
        /// The attestations, each one header and one signature.
        attestations: Vec<crate::relay::HeaderAttestation>,
    },
    /// Tag `0x08`: a registered relayer's operator parks a packet the hub logged that can
    /// never be delivered, with the reason. The hub records it (an event and the packet's
    /// record); relayers then leave its delivery alone. Nothing else changes: its outcome
    /// still comes by the protocol's rules (a parked packet times out as any other).
    ParkPacket {
        /// The packet key hash.
        #[serde(with = "crate::serde_hex::array")]
        key: Hash32,
        /// Why (1 to [`MAX_PARK_REASON_BYTES`] bytes).
        reason: String,
    },
    /// Tag `0x09`: a member replaces the account key that signs this transaction by
    /// `new_key` (a key it lost is replaced by a council vote, `ResetMemberKey`).
    RotateKey {
        /// The new ed25519 account key.
        #[serde(with = "crate::serde_hex::array")]
        new_key: [u8; 32],
    },
    /// Tag `0x0a`: a validator moves to new consensus and attestation keys, signed by its
    /// current consensus key; the new keys sign from two heights after the block.
    RotateValidatorKeys {
        /// The new ed25519 consensus key.
        #[serde(with = "crate::serde_hex::array")]
        new_key: [u8; 32],
        /// The address of the new secp256k1 attestation key.
        #[serde(with = "crate::serde_hex::array")]
        new_attestation_address: [u8; 20],
    },
    /// Tag `0x0b`: a member's attester moves to a new secp256k1 key for one attested EVM
    /// chain. Both keys sign the rotation (the old one hands its seat over, the new one
    /// shows it is held), bound to the hub, the chain, this transaction's signer and its
    /// nonce (`attesters.md`); the council's registration and the hub's client take the new
    /// address in the old one's place, threshold unchanged.
    RotateAttesterKey {
        /// The attested chain.
        chain: crate::id::ChainId,
        /// The address leaving the chain's attester set.
        #[serde(with = "crate::serde_hex::array")]
        old_address: [u8; 20],
        /// The address taking its place.
        #[serde(with = "crate::serde_hex::array")]
        new_address: [u8; 20],
        /// The old key's signature of the rotation (`r || s || v`).
        #[serde(with = "crate::serde_hex::array")]
        old_signature: [u8; 65],
        /// The new key's signature of the rotation.
        #[serde(with = "crate::serde_hex::array")]
        new_signature: [u8; 65],
    },
}

impl TxKind {
    /// Tag byte of [`TxKind::Remark`].
    pub const TAG_REMARK: u8 = 0x01;
    /// Tag byte of [`TxKind::Propose`].
    pub const TAG_PROPOSE: u8 = 0x02;
    /// Tag byte of [`TxKind::Vote`].
    pub const TAG_VOTE: u8 = 0x03;
    /// Tag byte of [`TxKind::EmergencyPause`].
    pub const TAG_EMERGENCY_PAUSE: u8 = 0x04;
    /// Tag byte of [`TxKind::EmergencyFreeze`].
    pub const TAG_EMERGENCY_FREEZE: u8 = 0x05;
    /// Tag byte of [`TxKind::Relay`].
    pub const TAG_RELAY: u8 = 0x06;
    /// Tag byte of [`TxKind::Attest`].
    pub const TAG_ATTEST: u8 = 0x07;
    /// Tag byte of [`TxKind::ParkPacket`].
    pub const TAG_PARK_PACKET: u8 = 0x08;
    /// Tag byte of [`TxKind::RotateKey`].
    pub const TAG_ROTATE_KEY: u8 = 0x09;
    /// Tag byte of [`TxKind::RotateValidatorKeys`].
    pub const TAG_ROTATE_VALIDATOR_KEYS: u8 = 0x0a;
    /// Tag byte of [`TxKind::RotateAttesterKey`].
    pub const TAG_ROTATE_ATTESTER_KEY: u8 = 0x0b;

    /// The tag byte of this kind.
    pub fn tag(&self) -> u8 {
        match self {
            TxKind::Remark { .. } => Self::TAG_REMARK,
            TxKind::Propose { .. } => Self::TAG_PROPOSE,
            TxKind::Vote { .. } => Self::TAG_VOTE,
            TxKind::EmergencyPause { .. } => Self::TAG_EMERGENCY_PAUSE,
            TxKind::EmergencyFreeze { .. } => Self::TAG_EMERGENCY_FREEZE,
            TxKind::Relay { .. } => Self::TAG_RELAY,
            TxKind::Attest { .. } => Self::TAG_ATTEST,
            TxKind::ParkPacket { .. } => Self::TAG_PARK_PACKET,
            TxKind::RotateKey { .. } => Self::TAG_ROTATE_KEY,
            TxKind::RotateValidatorKeys { .. } => Self::TAG_ROTATE_VALIDATOR_KEYS,
            TxKind::RotateAttesterKey { .. } => Self::TAG_ROTATE_ATTESTER_KEY,
        }
    }

    /// Stable short name of the kind (events, metrics).
    pub fn name(&self) -> &'static str {
        match self {
            TxKind::Remark { .. } => "remark",
            TxKind::Propose { .. } => "propose",
            TxKind::Vote { .. } => "vote",
            TxKind::EmergencyPause { .. } => "emergency_pause",
            TxKind::EmergencyFreeze { .. } => "emergency_freeze",
            TxKind::Relay { .. } => "relay",
            TxKind::Attest { .. } => "attest",
            TxKind::ParkPacket { .. } => "park_packet",
            TxKind::RotateKey { .. } => "rotate_key",
            TxKind::RotateValidatorKeys { .. } => "rotate_validator_keys",
            TxKind::RotateAttesterKey { .. } => "rotate_attester_key",
        }
    }

    /// Checks the size caps of this kind.
    pub fn validate(&self) -> Result<(), TxError> {
        match self {
            TxKind::Remark { data } if data.len() > MAX_REMARK_BYTES => {
                Err(TxError::RemarkTooLarge {
                    len: data.len(),
                    max: MAX_REMARK_BYTES,
                })
            }
            TxKind::Remark { .. } => Ok(()),
            TxKind::Propose { proposal, .. } => proposal.check().map_err(TxError::InvalidProposal),
            TxKind::Relay { msgs } if msgs.is_empty() => Err(TxError::EmptyRelay),
            TxKind::Relay { .. } => Ok(()),
            TxKind::Attest { attestations, .. } if attestations.is_empty() => {
                Err(TxError::EmptyAttest)
            }
            TxKind::Attest { .. } => Ok(()),
            TxKind::ParkPacket { reason, .. }
                if reason.is_empty() || reason.len() > MAX_PARK_REASON_BYTES =>
            {
                Err(TxError::ParkReason {
                    len: reason.len(),
                    max: MAX_PARK_REASON_BYTES,
                })
            }
            TxKind::ParkPacket { .. } => Ok(()),
            TxKind::Vote { .. }
            | TxKind::EmergencyPause { .. }
            | TxKind::EmergencyFreeze { .. }
            | TxKind::RotateKey { .. }
            | TxKind::RotateValidatorKeys { .. }
            | TxKind::RotateAttesterKey { .. } => Ok(()),
        }
    }
}

impl Encode for TxKind {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.push(self.tag());
        match self {
            TxKind::Remark { data } => encode_bytes(data, out),
            TxKind::Propose {
                proposal,
                expedited,
                deposit,
            } => {
                proposal.encode_to(out);
                expedited.encode_to(out);
                deposit.encode_to(out);
            }
            TxKind::Vote {
                proposal_id,
                option,
            } => {
                proposal_id.encode_to(out);
                option.encode_to(out);
            }
            TxKind::EmergencyPause { route } => route.encode_to(out),
            TxKind::EmergencyFreeze { chain } => chain.encode_to(out),
            TxKind::Relay { msgs } => crate::encoding::encode_vec(msgs, out),
            TxKind::Attest {
                chain,
                attestations,
            } => {
                chain.encode_to(out);
                crate::encoding::encode_vec(attestations, out);
            }
            TxKind::ParkPacket { key, reason } => {
                key.encode_to(out);
                reason.encode_to(out);
            }
            TxKind::RotateKey { new_key } => new_key.encode_to(out),
            TxKind::RotateValidatorKeys {
                new_key,
                new_attestation_address,
            } => {
                new_key.encode_to(out);
                new_attestation_address.encode_to(out);
            }
            TxKind::RotateAttesterKey {
                chain,
                old_address,
                new_address,
                old_signature,
                new_signature,
            } => {
                chain.encode_to(out);
                old_address.encode_to(out);
                new_address.encode_to(out);
                old_signature.encode_to(out);
                new_signature.encode_to(out);
            }
        }
    }
}

impl Decode for TxKind {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match r.read_u8()? {
            Self::TAG_REMARK => Ok(TxKind::Remark {
                data: decode_bytes(r, MAX_REMARK_BYTES)?,
            }),
            Self::TAG_PROPOSE => Ok(TxKind::Propose {
                proposal: Box::new(ProposalKind::decode_from(r)?),
                expedited: Decode::decode_from(r)?,
                deposit: Decode::decode_from(r)?,
            }),
            Self::TAG_VOTE => Ok(TxKind::Vote {
                proposal_id: Decode::decode_from(r)?,
                option: Decode::decode_from(r)?,
            }),
            Self::TAG_EMERGENCY_PAUSE => Ok(TxKind::EmergencyPause {
                route: Decode::decode_from(r)?,
            }),
            Self::TAG_EMERGENCY_FREEZE => Ok(TxKind::EmergencyFreeze {
                chain: Decode::decode_from(r)?,
            }),
            Self::TAG_RELAY => Ok(TxKind::Relay {
                msgs: crate::encoding::decode_vec(r, crate::relay::MAX_RELAY_MSGS)?,
            }),
            Self::TAG_ATTEST => Ok(TxKind::Attest {
                chain: Decode::decode_from(r)?,
                attestations: crate::encoding::decode_vec(
                    r,
                    crate::relay::MAX_ATTESTATIONS_PER_TX,
                )?,
            }),
            Self::TAG_PARK_PACKET => Ok(TxKind::ParkPacket {
                key: Decode::decode_from(r)?,
                reason: crate::encoding::decode_string(r, MAX_PARK_REASON_BYTES)?,
            }),
            Self::TAG_ROTATE_KEY => Ok(TxKind::RotateKey {
                new_key: Decode::decode_from(r)?,
            }),
            Self::TAG_ROTATE_VALIDATOR_KEYS => Ok(TxKind::RotateValidatorKeys {
                new_key: Decode::decode_from(r)?,
                new_attestation_address: Decode::decode_from(r)?,
            }),
            Self::TAG_ROTATE_ATTESTER_KEY => Ok(TxKind::RotateAttesterKey {
                chain: Decode::decode_from(r)?,
                old_address: Decode::decode_from(r)?,
                new_address: Decode::decode_from(r)?,
                old_signature: Decode::decode_from(r)?,
                new_signature: Decode::decode_from(r)?,
            }),
            tag => Err(DecodeError::InvalidTag {
                what: "tx kind",
                tag,
            }),
        }
    }
}

/// The signed part of a transaction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxBody {
    /// The hub chain id (prevents replay on another hub).
    pub chain_id: ChainId,
    /// The signer's ed25519 public key.
    #[serde(with = "crate::serde_hex::array")]
    pub signer: [u8; 32],
    /// The signer's account nonce.
    pub nonce: u64,
    /// What the transaction does.
    pub kind: TxKind,
}

impl TxBody {
    /// The 32-byte message the signer signs: `tagged_hash(TxSignBytes, encoding)`.
    pub fn sign_bytes(&self) -> Hash32 {
        tagged_hash(HashTag::TxSignBytes, &self.to_bytes())
    }

    /// The body id, independent of the signature: `tagged_hash(TxBody, encoding)`.
    pub fn hash(&self) -> Hash32 {
        tagged_hash(HashTag::TxBody, &self.to_bytes())
    }

    /// The signer's account address.
    pub fn signer_address(&self) -> Address {
        address_from_ed25519(&self.signer)
    }

    /// Checks the size caps of the body.
    pub fn validate(&self) -> Result<(), TxError> {
        self.kind.validate()
    }
}

impl Encode for TxBody {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.chain_id.encode_to(out);
        self.signer.encode_to(out);
        self.nonce.encode_to(out);
        self.kind.encode_to(out);
    }
}

impl Decode for TxBody {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            chain_id: Decode::decode_from(r)?,
            signer: Decode::decode_from(r)?,
            nonce: Decode::decode_from(r)?,
            kind: Decode::decode_from(r)?,
        })
    }
}

/// A transaction with its ed25519 signature over [`TxBody::sign_bytes`]. The signature
/// is checked by the hub, not here.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedTx {
    /// The signed body.
    pub body: TxBody,
    /// The ed25519 signature.
    #[serde(with = "crate::serde_hex::array")]
    pub signature: [u8; 64],
}

impl SignedTx {
    /// The transaction id: `tagged_hash(TxEnvelope, encoding)`.
    pub fn hash(&self) -> Hash32 {
        Self::id_of_encoding(&self.to_bytes())
    }

    /// The id of the transaction whose canonical encoding is `bytes`.
    pub fn id_of_encoding(bytes: &[u8]) -> Hash32 {
        tagged_hash(HashTag::TxEnvelope, bytes)
    }

    /// Decodes a transaction and takes its id from `bytes` themselves: decoding accepts
    /// only the canonical encoding, so they are the bytes [`SignedTx::hash`] would make
    /// again (a relay transaction is kilobytes of proofs, encoded again only to be hashed).
    pub fn decode_hashed(bytes: &[u8]) -> Result<(Self, Hash32), DecodeError> {
        let tx = Self::from_bytes(bytes)?;
        Ok((tx, Self::id_of_encoding(bytes)))
    }

    /// Checks the size caps, including [`MAX_TX_BYTES`] on the whole encoding.
    pub fn validate(&self) -> Result<(), TxError> {
        self.body.validate()?;
        let len = self.to_bytes().len();
        if len > MAX_TX_BYTES {
            return Err(TxError::TooLarge {
                len,
                max: MAX_TX_BYTES,
            });
        }
        Ok(())
    }
}

impl Encode for SignedTx {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.body.encode_to(out);
        self.signature.encode_to(out);
    }
}

/// Also rejects an encoding longer than [`MAX_TX_BYTES`].
impl Decode for SignedTx {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let before = r.remaining();
        let tx = Self {
            body: Decode::decode_from(r)?,
            signature: Decode::decode_from(r)?,
        };
        let len = before.saturating_sub(r.remaining());
        if len > MAX_TX_BYTES {
            return Err(DecodeError::LengthTooLarge {
                len,
                max: MAX_TX_BYTES,
            });
        }
        Ok(tx)
    }
}
