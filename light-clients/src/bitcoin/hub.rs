//! What the hub's state and relayer messages carry for a Bitcoin chain (a packet source
//! only), in the canonical encoding (spec/encoding.md rules): the council's trust root,
//! the stored client, and the proof that a transaction committed to a packet.
//!
//! **How a Bitcoin app sends a packet.** The source app is a scriptPubKey: whoever can
//! spend its outputs speaks for the app. A packet is committed by a transaction whose
//! *first input spends an output locked by that script* and which has an output
//! `OP_RETURN <68 bytes: "JNC1" ‖ PacketKey::hash ‖ Packet::hash>`. The hub takes the
//! commitment once the transaction's block has the registration's confirmations on the
//! chain with the most work. The spent output's script is read from the previous
//! transaction, which the proof carries: its txid must be the one the input names (the
//! txid commits to every byte of it), and the spending transaction being in a valid block
//! means the spend was valid, so only the script's owner could have made it.

use alloy_primitives::U256;
use junction_spec::encoding::{decode_bytes, encode_bytes};
use junction_spec::{Decode, DecodeError, Encode, Reader};

use super::client::{BitcoinClient, Checkpoint, ClientConfig, TxInclusionProof, MAX_BATCH_HEADERS};
use super::header::{BlockHeader, HEADER_LEN};
use super::merkle::MerkleBranch;
use super::pow::Params;
use super::tx::tx_io;
use super::{display_hex, BitcoinError, Hash32};

/// The tag an `OP_RETURN` packet commitment starts with.
pub const COMMITMENT_TAG: &[u8; 4] = b"JNC1";
/// `OP_RETURN`.
const OP_RETURN: u8 = 0x6a;
/// Length of the pushed commitment: tag ‖ key hash ‖ packet hash.
const COMMITMENT_LEN: usize = 4 + 32 + 32;
/// Largest transaction (either of the two) a packet proof may carry: both fit in one
/// relayer message's proof.
pub const MAX_PROOF_TX_BYTES: usize = 16_000;
/// Headers the hub keeps below the best tip beyond the confirmation depth (a day of
/// blocks): proofs are taken within it, and a reorg reaching below it is judged deep.
pub const HUB_WINDOW_BEYOND_CONFIRMATIONS: u64 = 144;

/// The network whose proof-of-work rules the client applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Network {
    /// Bitcoin mainnet.
    Mainnet,
    /// testnet3.
    Testnet3,
    /// regtest (trivial targets; for tests and fixture ledgers).
    Regtest,
}

impl Network {
    /// The proof-of-work parameters.
    pub fn params(self) -> Params {
        match self {
            Network::Mainnet => Params::MAINNET,
            Network::Testnet3 => Params::TESTNET3,
            Network::Regtest => Params::REGTEST,
        }
    }

    fn tag(self) -> u8 {
        match self {
            Network::Mainnet => 0,
            Network::Testnet3 => 1,
            Network::Regtest => 2,
        }
    }

    fn of_params(params: &Params) -> Option<Self> {
        [Network::Mainnet, Network::Testnet3, Network::Regtest]
            .into_iter()
            .find(|n| n.params() == *params)
    }
}

impl Encode for Network {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.push(self.tag());
    }
}

impl Decode for Network {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match r.read_u8()? {
            0 => Ok(Network::Mainnet),
            1 => Ok(Network::Testnet3),
            2 => Ok(Network::Regtest),
            tag => Err(DecodeError::InvalidTag {
                what: "bitcoin network",
                tag,
            }),
        }
    }
}

/// The council's trust root for a Bitcoin chain: the network and a checkpoint header it
/// checked out of band, with what judging its children needs (cumulative work, the first
/// time of its retarget period, up to 11 recent timestamps).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BitcoinTrustRoot {
    /// The network.
    pub network: Network,
    /// The checkpoint.
    pub checkpoint: Checkpoint,
}

impl BitcoinTrustRoot {
    /// The client this root starts: `confirmations` deep (at least 1), keeping
    /// [`HUB_WINDOW_BEYOND_CONFIRMATIONS`] more headers, freezing on a reorg that
    /// disconnects a confirmed block.
    pub fn start_client(&self, confirmations: u64) -> Result<BitcoinClient, BitcoinError> {
        let config = ClientConfig {
            params: self.network.params(),
            confirmations,
            window: confirmations.saturating_add(HUB_WINDOW_BEYOND_CONFIRMATIONS),
            max_batch: MAX_BATCH_HEADERS,
            freeze_on_deep_reorg: true,
        };
        BitcoinClient::new(config, self.checkpoint.clone())
    }
}

fn encode_header(h: &BlockHeader, out: &mut Vec<u8>) {
    out.extend_from_slice(&h.encode());
}

fn decode_header(r: &mut Reader<'_>) -> Result<BlockHeader, DecodeError> {
    let raw = r.read_raw(HEADER_LEN)?;
    BlockHeader::decode(raw).map_err(|_| DecodeError::NonCanonical("bitcoin header"))
}

fn encode_u256(v: &U256, out: &mut Vec<u8>) {
    out.extend_from_slice(&v.to_be_bytes::<32>());
}

fn decode_u256(r: &mut Reader<'_>) -> Result<U256, DecodeError> {
    Ok(U256::from_be_bytes(r.read_array::<32>()?))
}

/// network (u8: 0 mainnet, 1 testnet3, 2 regtest) ‖ height u64 ‖ header (80) ‖ chainwork
/// (32, big-endian) ‖ period first time u32 ‖ u32 count (1..=11) ‖ recent times u32* ‖
/// Option<u32> last normal bits.
impl Encode for BitcoinTrustRoot {
    fn encode_to(&self, out: &mut Vec<u8>) {
        let c = &self.checkpoint;
        self.network.encode_to(out);
        c.height.encode_to(out);
        encode_header(&c.header, out);
        encode_u256(&c.chainwork, out);
        c.period_first_time.encode_to(out);
        junction_spec::encoding::encode_vec(&c.recent_times, out);
        c.last_normal_bits.encode_to(out);
    }
}

impl Decode for BitcoinTrustRoot {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            network: Decode::decode_from(r)?,
            checkpoint: Checkpoint {
                height: Decode::decode_from(r)?,
                header: decode_header(r)?,
                chainwork: decode_u256(r)?,
                period_first_time: Decode::decode_from(r)?,
                recent_times: junction_spec::encoding::decode_vec(
                    r,
                    super::client::MEDIAN_TIME_SPAN,
                )?,
                last_normal_bits: Decode::decode_from(r)?,
            },
        })
    }
}

/// A transaction's commitment to a packet, as a relayer proves it: the transaction, its
/// Merkle branch in the block at the proof's height, and the transaction whose output its
/// first input spends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PacketProof {
    /// The committing transaction (raw, with or without witnesses).
    pub tx: Vec<u8>,
    /// Its branch to the block's Merkle root.
    pub branch: MerkleBranch,
    /// The transaction its first input spends from (raw).
    pub prev_tx: Vec<u8>,
}

/// tx bytes (cap 16,000) ‖ branch bytes (`MerkleBranch::encode`, cap 1,100) ‖ previous tx
/// bytes (cap 16,000).
impl Encode for PacketProof {
    fn encode_to(&self, out: &mut Vec<u8>) {
        encode_bytes(&self.tx, out);
        encode_bytes(&self.branch.encode(), out);
        encode_bytes(&self.prev_tx, out);
    }
}

impl Decode for PacketProof {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let tx = decode_bytes(r, MAX_PROOF_TX_BYTES)?;
        let branch = decode_bytes(r, 1_100)?;
        let branch = MerkleBranch::decode(&branch)
            .map_err(|_| DecodeError::NonCanonical("bitcoin merkle branch"))?;
        Ok(Self {
            tx,
            branch,
            prev_tx: decode_bytes(r, MAX_PROOF_TX_BYTES)?,
        })
    }
}

/// The output script that commits to a packet: `OP_RETURN` pushing `"JNC1" ‖ key hash ‖
/// packet hash` (68 bytes, within the 80 bytes relay policy allows).
pub fn commitment_script(key_hash: &Hash32, packet_hash: &Hash32) -> Vec<u8> {
    let mut s = Vec::with_capacity(2 + COMMITMENT_LEN);
    s.push(OP_RETURN);
    s.push(COMMITMENT_LEN as u8);
    s.extend_from_slice(COMMITMENT_TAG);
    s.extend_from_slice(key_hash);
    s.extend_from_slice(packet_hash);
    s
}

/// The (key hash, packet hash) an output script commits to, if it is a commitment.
fn committed(script: &[u8]) -> Option<(Hash32, Hash32)> {
    let body = script.strip_prefix(&[OP_RETURN, COMMITMENT_LEN as u8])?;
    let body = body.strip_prefix(COMMITMENT_TAG.as_slice())?;
    if body.len() != 64 {
        return None;
    }
    let key = <Hash32>::try_from(body.get(..32)?).ok()?;
    let packet = <Hash32>::try_from(body.get(32..)?).ok()?;
    Some((key, packet))
}

/// Verifies that the transaction in `proof`, in the best-chain block at `height` with the
/// client's confirmations, commits packet key `key_hash` to `packet_hash` and was made by
/// the owner of `source_app` (its first input spends an output locked by that script).
pub fn verify_packet_commitment(
    client: &BitcoinClient,
    height: u64,
    proof: &PacketProof,
    key_hash: &Hash32,
    packet_hash: &Hash32,
    source_app: &[u8],
) -> Result<(), BitcoinError> {
    let (txid, io) = tx_io(&proof.tx)?;
    client.verify_tx(
        height,
        &txid,
        &proof.tx,
        &TxInclusionProof::Branch(proof.branch.clone()),
    )?;
    let key = || hex::encode(key_hash);
    let mut seen = false;
    for (_, script) in &io.outputs {
        if let Some((k, p)) = committed(script) {
            if k == *key_hash {
                if p != *packet_hash {
                    return Err(BitcoinError::PacketCommitmentMismatch { key: key() });
                }
                seen = true;
            }
        }
    }
    if !seen {
        return Err(BitcoinError::NoPacketCommitment { key: key() });
    }
    let (spent_txid, vout) = io.inputs.first().copied().ok_or(BitcoinError::InvalidVin {
        reason: "no inputs",
    })?;
    let (prev_txid, prev) = tx_io(&proof.prev_tx)?;
    if prev_txid != spent_txid {
        return Err(BitcoinError::PreviousTxMismatch {
            spent: display_hex(&spent_txid),
            got: display_hex(&prev_txid),
        });
    }
    let script = prev
        .outputs
        .get(vout as usize)
        .map(|(_, s)| s.as_slice())
        .ok_or(BitcoinError::IndexOutOfRange {
            index: u64::from(vout),
            count: prev.outputs.len() as u64,
        })?;
    if script != source_app {
        return Err(BitcoinError::SourceAppMismatch);
    }
    Ok(())
}

/// network ‖ confirmations u64 ‖ window u64 ‖ frozen Option<u64> ‖ Option<reorg> ‖ best tip
/// hash (32) ‖ u32 count ‖ stored headers by increasing hash (header 80 ‖ height u64 ‖
/// chainwork 32 ‖ period first time u32 ‖ last normal bits u32 ‖ u32 count ‖ recent times
/// u32*) ‖ u32 count ‖ best chain by increasing height (height u64 ‖ hash 32).
impl Encode for BitcoinClient {
    fn encode_to(&self, out: &mut Vec<u8>) {
        let parts = self.parts();
        // A client the hub stores was started from a trust root, so its parameters are
        // one of the named networks.
        Network::of_params(&parts.config.params)
            .unwrap_or(Network::Mainnet)
            .encode_to(out);
        parts.config.confirmations.encode_to(out);
        parts.config.window.encode_to(out);
        parts.frozen.encode_to(out);
        match parts.last_deep_reorg {
            None => out.push(0),
            Some(reorg) => {
                out.push(1);
                reorg.fork_height.encode_to(out);
                reorg.old_tip.encode_to(out);
                reorg.old_height.encode_to(out);
                reorg.new_tip.encode_to(out);
                reorg.new_height.encode_to(out);
                reorg.disconnected.encode_to(out);
                reorg.deep.encode_to(out);
            }
        }
        parts.best_tip.encode_to(out);
        junction_spec::encoding::encode_len(parts.headers.len(), out);
        for stored in parts.headers {
            encode_header(&stored.header, out);
            stored.height.encode_to(out);
            encode_u256(&stored.chainwork, out);
            stored.period_first_time.encode_to(out);
            stored.last_normal_bits.encode_to(out);
            junction_spec::encoding::encode_vec(stored.recent_times(), out);
        }
        junction_spec::encoding::encode_len(parts.best_chain.len(), out);
        for (height, hash) in parts.best_chain {
            height.encode_to(out);
            hash.encode_to(out);
        }
    }
}

/// Most headers a stored client may hold (its window and the forks within it).
pub const MAX_STORED_HEADERS: usize = 4 * MAX_BATCH_HEADERS;

impl Decode for BitcoinClient {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let network = Network::decode_from(r)?;
        let confirmations = u64::decode_from(r)?;
        let window = u64::decode_from(r)?;
        let frozen = Option::<u64>::decode_from(r)?;
        let last_deep_reorg = match r.read_u8()? {
            0 => None,
            1 => Some(super::client::Reorg {
                fork_height: Decode::decode_from(r)?,
                old_tip: Decode::decode_from(r)?,
                old_height: Decode::decode_from(r)?,
                new_tip: Decode::decode_from(r)?,
                new_height: Decode::decode_from(r)?,
                disconnected: Decode::decode_from(r)?,
                deep: Decode::decode_from(r)?,
            }),
            tag => {
                return Err(DecodeError::InvalidTag {
                    what: "optional reorg",
                    tag,
                })
            }
        };
        let best_tip = Hash32::decode_from(r)?;
        let n = r.read_len(MAX_STORED_HEADERS)?;
        let mut headers = Vec::with_capacity(n.min(r.remaining() / 130 + 1));
        for _ in 0..n {
            let header = decode_header(r)?;
            let height = u64::decode_from(r)?;
            let chainwork = decode_u256(r)?;
            let period_first_time = u32::decode_from(r)?;
            let last_normal_bits = u32::decode_from(r)?;
            let recent: Vec<u32> =
                junction_spec::encoding::decode_vec(r, super::client::MEDIAN_TIME_SPAN)?;
            headers.push(
                super::client::StoredHeader::from_parts(
                    header,
                    height,
                    chainwork,
                    period_first_time,
                    last_normal_bits,
                    &recent,
                )
                .map_err(|_| DecodeError::NonCanonical("bitcoin stored header"))?,
            );
        }
        let n = r.read_len(MAX_STORED_HEADERS)?;
        let mut best_chain = Vec::with_capacity(n.min(r.remaining() / 40 + 1));
        for _ in 0..n {
            best_chain.push((u64::decode_from(r)?, Hash32::decode_from(r)?));
        }
        let config = ClientConfig {
            params: network.params(),
            confirmations,
            window,
            max_batch: MAX_BATCH_HEADERS,
            freeze_on_deep_reorg: true,
        };
        BitcoinClient::from_parts(
            config,
            headers,
            best_chain,
            best_tip,
            frozen,
            last_deep_reorg,
        )
        .map_err(|_| DecodeError::NonCanonical("inconsistent bitcoin client state"))
    }
}
