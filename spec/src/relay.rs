//! Relayer messages: what a registered relayer submits to the hub in a `Relay`
//! transaction (DESIGN §4). Headers and proofs are opaque here: their layout belongs to
//! the ledger kind of the chain they concern (for `evm_attested`, see the light-clients
//! crate's `evm::codec`). Every field is bounded.

use serde::{Deserialize, Serialize};

use crate::encoding::{decode_bytes, encode_bytes, Decode, DecodeError, Encode, Reader};
use crate::id::ChainId;
use crate::log::MAX_RESULT_BYTES;
use crate::types::Packet;

/// Largest encoded header an `UpdateClient` may carry.
pub const MAX_HEADER_BYTES: usize = 16_384;
/// Largest encoded proof a message may carry.
pub const MAX_PROOF_BYTES: usize = 32_768;
/// Most messages in one `Relay` transaction.
pub const MAX_RELAY_MSGS: usize = 64;
/// Largest encoded evidence a `Misbehaviour` message may carry (two headers with their
/// signatures or commits).
pub const MAX_EVIDENCE_BYTES: usize = 2 * MAX_HEADER_BYTES;

/// Largest encoded header one attestation may carry (an `evm_attested` header is 152
/// bytes).
pub const MAX_ATTESTED_HEADER_BYTES: usize = 512;
/// Most attestations one `Attest` transaction may carry.
pub const MAX_ATTESTATIONS_PER_TX: usize = 32;

/// One attester's signature over one header of a chain the hub follows through
/// attesters: what a member's attester submits in an `Attest` transaction. The header's
/// layout belongs to the chain's ledger kind (for `evm_attested`, the light-clients crate's
/// `evm::codec::encode_attested_header`); the signature is the attester's secp256k1
/// signature over that kind's attestation digest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeaderAttestation {
    /// The ledger kind's header encoding.
    #[serde(with = "crate::serde_hex::bytes")]
    pub header: Vec<u8>,
    /// `r || s || v`.
    #[serde(with = "crate::serde_hex::array")]
    pub signature: [u8; 65],
}

impl Encode for HeaderAttestation {
    fn encode_to(&self, out: &mut Vec<u8>) {
        encode_bytes(&self.header, out);
        self.signature.encode_to(out);
    }
}

impl Decode for HeaderAttestation {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            header: decode_bytes(r, MAX_ATTESTED_HEADER_BYTES)?,
            signature: Decode::decode_from(r)?,
        })
    }
}

/// A proof of a packet's commitment on its source chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceProof {
    /// Source-chain height the proof is against.
    pub height: u64,
    /// The ledger kind's proof encoding.
    #[serde(with = "crate::serde_hex::bytes")]
    pub proof: Vec<u8>,
}

impl Encode for SourceProof {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.height.encode_to(out);
        encode_bytes(&self.proof, out);
    }
}

impl Decode for SourceProof {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            height: Decode::decode_from(r)?,
            proof: decode_bytes(r, MAX_PROOF_BYTES)?,
        })
    }
}

/// One relayer message. Encoded as a tag byte and the variant's fields.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "msg", rename_all = "snake_case")]
pub enum RelayMsg {
    /// Tag `0x01`: a new header for the hub's light client of `chain`.
    UpdateClient {
        /// The chain.
        chain: ChainId,
        /// The ledger kind's header encoding.
        #[serde(with = "crate::serde_hex::bytes")]
        header: Vec<u8>,
    },
    /// Tag `0x02`: a packet and the proof of its commitment on the source chain.
    RecvPacket {
        /// The packet.
        packet: Packet,
        /// Its commitment proof.
        proof: SourceProof,
    },
    /// Tag `0x03`: the destination gateway's receipt for a packet (app ran or reverted).
    AckPacket {
        /// The packet.
        packet: Packet,
        /// True when the destination app ran, false when it reverted.
        app_succeeded: bool,
        /// The ack (or the revert reason), at most [`MAX_RESULT_BYTES`].
        #[serde(with = "crate::serde_hex::bytes")]
        result: Vec<u8>,
        /// Proof of the receipt on the destination chain (height = destination height).
        proof: SourceProof,
    },
    /// Tag `0x04`: the destination is past the packet's deadline and holds no receipt.
    TimeoutPacket {
        /// The packet.
        packet: Packet,
        /// Proof that the destination gateway holds no receipt, at a destination height
        /// at or past the deadline.
        absence: SourceProof,
        /// For a packet the hub never received: its commitment proof on the source.
        commitment: Option<SourceProof>,
    },
    /// Tag `0x05`: evidence that the signers the hub's client of `chain` trusts signed two
    /// conflicting headers. Verified, it freezes the client until a council vote replaces
    /// its trust root.
    Misbehaviour {
        /// The chain.
        chain: ChainId,
        /// The ledger kind's evidence encoding.
        #[serde(with = "crate::serde_hex::bytes")]
        evidence: Vec<u8>,
    },
}

impl RelayMsg {
    /// Tag of [`RelayMsg::UpdateClient`].
    pub const TAG_UPDATE_CLIENT: u8 = 0x01;
    /// Tag of [`RelayMsg::RecvPacket`].
    pub const TAG_RECV_PACKET: u8 = 0x02;
    /// Tag of [`RelayMsg::AckPacket`].
    pub const TAG_ACK_PACKET: u8 = 0x03;
    /// Tag of [`RelayMsg::TimeoutPacket`].
    pub const TAG_TIMEOUT_PACKET: u8 = 0x04;
    /// Tag of [`RelayMsg::Misbehaviour`].
    pub const TAG_MISBEHAVIOUR: u8 = 0x05;

    /// Stable short name (events, metrics).
    pub fn name(&self) -> &'static str {
        match self {
            RelayMsg::UpdateClient { .. } => "update_client",
            RelayMsg::RecvPacket { .. } => "recv_packet",
            RelayMsg::AckPacket { .. } => "ack_packet",
            RelayMsg::TimeoutPacket { .. } => "timeout_packet",
            RelayMsg::Misbehaviour { .. } => "misbehaviour",
        }
    }

    /// The packet the message concerns, if any.
    pub fn packet(&self) -> Option<&Packet> {
        match self {
            RelayMsg::UpdateClient { .. } | RelayMsg::Misbehaviour { .. } => None,
            RelayMsg::RecvPacket { packet, .. }
            | RelayMsg::AckPacket { packet, .. }
            | RelayMsg::TimeoutPacket { packet, .. } => Some(packet),
        }
    }

    fn tag(&self) -> u8 {
        match self {
            RelayMsg::UpdateClient { .. } => Self::TAG_UPDATE_CLIENT,
            RelayMsg::RecvPacket { .. } => Self::TAG_RECV_PACKET,
            RelayMsg::AckPacket { .. } => Self::TAG_ACK_PACKET,
            RelayMsg::TimeoutPacket { .. } => Self::TAG_TIMEOUT_PACKET,
            RelayMsg::Misbehaviour { .. } => Self::TAG_MISBEHAVIOUR,
        }
    }
}

impl Encode for RelayMsg {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.push(self.tag());
        match self {
            RelayMsg::UpdateClient { chain, header } => {
                chain.encode_to(out);
                encode_bytes(header, out);
            }
            RelayMsg::RecvPacket { packet, proof } => {
                packet.encode_to(out);
                proof.encode_to(out);
            }
            RelayMsg::AckPacket {
                packet,
                app_succeeded,
                result,
                proof,
            } => {
                packet.encode_to(out);
                app_succeeded.encode_to(out);
                encode_bytes(result, out);
                proof.encode_to(out);
            }
            RelayMsg::TimeoutPacket {
                packet,
                absence,
                commitment,
            } => {
                packet.encode_to(out);
                absence.encode_to(out);
                commitment.encode_to(out);
            }
            RelayMsg::Misbehaviour { chain, evidence } => {
                chain.encode_to(out);
                encode_bytes(evidence, out);
            }
        }
    }
}

impl Decode for RelayMsg {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match r.read_u8()? {
            Self::TAG_UPDATE_CLIENT => Ok(RelayMsg::UpdateClient {
                chain: Decode::decode_from(r)?,
                header: decode_bytes(r, MAX_HEADER_BYTES)?,
            }),
            Self::TAG_RECV_PACKET => Ok(RelayMsg::RecvPacket {
                packet: Decode::decode_from(r)?,
                proof: Decode::decode_from(r)?,
            }),
            Self::TAG_ACK_PACKET => Ok(RelayMsg::AckPacket {
                packet: Decode::decode_from(r)?,
                app_succeeded: Decode::decode_from(r)?,
                result: decode_bytes(r, MAX_RESULT_BYTES)?,
                proof: Decode::decode_from(r)?,
            }),
            Self::TAG_TIMEOUT_PACKET => Ok(RelayMsg::TimeoutPacket {
                packet: Decode::decode_from(r)?,
                absence: Decode::decode_from(r)?,
                commitment: Decode::decode_from(r)?,
            }),
            Self::TAG_MISBEHAVIOUR => Ok(RelayMsg::Misbehaviour {
                chain: Decode::decode_from(r)?,
                evidence: decode_bytes(r, MAX_EVIDENCE_BYTES)?,
            }),
            tag => Err(DecodeError::InvalidTag {
                what: "relay message",
                tag,
            }),
        }
    }
}

#[cfg(test)]
#[allow(clippy::panic)]
mod tests {
    use super::*;
    use crate::types::Timeout;

    fn packet() -> Packet {
        Packet {
            version: Packet::VERSION,
            source_chain: ChainId::new("evm-a").unwrap_or_else(|e| panic!("{e}")),
            source_app: vec![1; 20],
            sequence: 7,
            dest_chain: ChainId::new("evm-b").unwrap_or_else(|e| panic!("{e}")),
            dest_app: vec![2; 20],
            payload: b"hello".to_vec(),
            timeout: Timeout {
                height: 0,
                time_ms: 99,
            },
            gas_limit: 100_000,
            fee: 5,
        }
    }

    #[test]
    fn every_message_round_trips() {
        let proof = SourceProof {
            height: 12,
            proof: vec![9; 300],
        };
        let msgs = [
            RelayMsg::UpdateClient {
                chain: ChainId::new("evm-a").unwrap_or_else(|e| panic!("{e}")),
                header: vec![1, 2, 3],
            },
            RelayMsg::RecvPacket {
                packet: packet(),
                proof: proof.clone(),
            },
            RelayMsg::AckPacket {
                packet: packet(),
                app_succeeded: false,
                result: b"reason".to_vec(),
                proof: proof.clone(),
            },
            RelayMsg::TimeoutPacket {
                packet: packet(),
                absence: proof.clone(),
                commitment: Some(proof),
            },
            RelayMsg::Misbehaviour {
                chain: ChainId::new("evm-a").unwrap_or_else(|e| panic!("{e}")),
                evidence: vec![4; 500],
            },
        ];
        for m in msgs {
            let bytes = m.to_bytes();
            assert_eq!(RelayMsg::from_bytes(&bytes), Ok(m.clone()), "{}", m.name());
            let json = serde_json::to_string(&m).unwrap_or_else(|e| panic!("{e}"));
            let back: RelayMsg = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(back, m);
        }
    }

    #[test]
    fn unknown_tag_and_oversized_result_are_refused() {
        assert!(matches!(
            RelayMsg::from_bytes(&[0x09]),
            Err(DecodeError::InvalidTag {
                what: "relay message",
                tag: 0x09
            })
        ));
        let m = RelayMsg::AckPacket {
            packet: packet(),
            app_succeeded: true,
            result: vec![0; MAX_RESULT_BYTES + 1],
            proof: SourceProof {
                height: 1,
                proof: vec![],
            },
        };
        assert!(matches!(
            RelayMsg::from_bytes(&m.to_bytes()),
            Err(DecodeError::LengthTooLarge { .. })
        ));
    }
}
