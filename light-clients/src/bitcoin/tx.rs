//! Bounded parsing of transactions and blocks, enough to compute txids.
//!
//! Scripts are not interpreted; what matters to SPV is where each part of the transaction
//! starts and ends, so that the txid (double SHA-256 of the serialization without
//! witnesses) is computed over exactly the bytes consensus hashes.

use super::header::{BlockHeader, HEADER_LEN};
use super::merkle::MAX_BLOCK_TXS;
use super::{sha256d, BitcoinError, Hash32, Reader};

/// Largest serialized transaction accepted (a block's whole weight budget).
pub const MAX_TX_BYTES: usize = 4_000_000;
/// Largest serialized block accepted (4 MB weight allows at most this many bytes).
pub const MAX_BLOCK_BYTES: usize = 4_000_000;
/// The non-witness size that makes a transaction indistinguishable from an inner node.
pub const AMBIGUOUS_TX_LEN: usize = 64;

const MIN_INPUT_LEN: usize = 36 + 1 + 4;
const MIN_OUTPUT_LEN: usize = 8 + 1;

/// A parsed transaction: its ids and sizes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedTx {
    /// Double SHA-256 of the serialization without witnesses.
    pub txid: Hash32,
    /// Double SHA-256 of the full serialization (equals `txid` without witnesses).
    pub wtxid: Hash32,
    /// Bytes of the serialization without witnesses (the one the txid commits to).
    pub base_len: usize,
    /// Bytes of the full serialization.
    pub total_len: usize,
    /// Number of inputs.
    pub inputs: usize,
    /// Number of outputs.
    pub outputs: usize,
    /// Whether it carries witness data.
    pub has_witness: bool,
}

fn read_inputs(r: &mut Reader<'_>, n: usize) -> Result<(), BitcoinError> {
    for _ in 0..n {
        r.take(36)?;
        let len = r.count("script length", MAX_TX_BYTES as u64)?;
        r.take(len)?;
        r.take(4)?;
    }
    Ok(())
}

fn read_outputs(r: &mut Reader<'_>, n: usize) -> Result<(), BitcoinError> {
    for _ in 0..n {
        r.take(8)?;
        let len = r.count("script length", MAX_TX_BYTES as u64)?;
        r.take(len)?;
    }
    Ok(())
}

fn input_count(r: &mut Reader<'_>) -> Result<usize, BitcoinError> {
    let max = (r.remaining() / MIN_INPUT_LEN) as u64;
    r.count("transaction inputs", max)
}

fn output_count(r: &mut Reader<'_>) -> Result<usize, BitcoinError> {
    let max = (r.remaining() / MIN_OUTPUT_LEN) as u64;
    r.count("transaction outputs", max)
}

/// Reads one transaction from the front of `r` (Core's `UnserializeTransaction`).
fn read_tx(r: &mut Reader<'_>) -> Result<ParsedTx, BitcoinError> {
    let start = r.clone();
    let total_before = r.remaining();
    let version = r.take(4)?;
    // The input list starts here in both forms; for segwit the marker and flag come first.
    let mut probe = r.clone();
    let mut has_witness = false;
    if probe.u8()? == 0 {
        let flag = probe.u8()?;
        if flag != 1 {
            return Err(BitcoinError::InvalidVin {
                reason: "no inputs, or an unknown segwit flag",
            });
        }
        has_witness = true;
        *r = probe;
    }
    let body_start = r.clone();
    let body_before = r.remaining();
    let inputs = input_count(r)?;
    if inputs == 0 {
        return Err(BitcoinError::InvalidVin {
            reason: "no inputs",
        });
    }
    read_inputs(r, inputs)?;
    let outputs = output_count(r)?;
    read_outputs(r, outputs)?;
    let body_len = body_before - r.remaining();
    if has_witness {
        let mut any = false;
        for _ in 0..inputs {
            let items = r.count("witness items", r.remaining() as u64)?;
            for _ in 0..items {
                let len = r.count("witness item length", MAX_TX_BYTES as u64)?;
                r.take(len)?;
                any = true;
            }
        }
        if !any {
            return Err(BitcoinError::InvalidVin {
                reason: "superfluous witness record",
            });
        }
    }
    let locktime = r.take(4)?;
    let total_len = total_before - r.remaining();
    if total_len > MAX_TX_BYTES {
        return Err(BitcoinError::LimitExceeded {
            what: "transaction bytes",
            max: MAX_TX_BYTES as u64,
            got: total_len as u64,
        });
    }
    let mut body_reader = body_start;
    let body = body_reader.take(body_len)?;
    let mut base = Vec::with_capacity(8 + body_len);
    base.extend_from_slice(version);
    base.extend_from_slice(body);
    base.extend_from_slice(locktime);
    let txid = sha256d(&base);
    let mut full_reader = start;
    let wtxid = if has_witness {
        sha256d(full_reader.take(total_len)?)
    } else {
        txid
    };
    Ok(ParsedTx {
        txid,
        wtxid,
        base_len: base.len(),
        total_len,
        inputs,
        outputs,
        has_witness,
    })
}

/// Parses exactly one transaction (with or without witnesses).
pub fn parse_tx(bytes: &[u8]) -> Result<ParsedTx, BitcoinError> {
    if bytes.len() > MAX_TX_BYTES {
        return Err(BitcoinError::LimitExceeded {
            what: "transaction bytes",
            max: MAX_TX_BYTES as u64,
            got: bytes.len() as u64,
        });
    }
    let mut r = Reader::new(bytes, "transaction");
    let tx = read_tx(&mut r)?;
    r.finish()?;
    Ok(tx)
}

/// The txid of a raw transaction, refusing one whose txid preimage is 64 bytes: such a
/// "transaction" is indistinguishable from an inner Merkle node, so a Merkle proof for it
/// could be a proof for two child hashes instead.
pub fn txid_checked(bytes: &[u8]) -> Result<Hash32, BitcoinError> {
    let tx = parse_tx(bytes)?;
    if tx.base_len == AMBIGUOUS_TX_LEN {
        return Err(BitcoinError::SixtyFourByteTransaction);
    }
    Ok(tx.txid)
}

/// What a transaction spends and pays: each input's outpoint and each output's value and
/// script (scripts are returned, not interpreted).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxIo {
    /// Each input's spent outpoint: (txid, output index).
    pub inputs: Vec<(Hash32, u32)>,
    /// Each output: (value in satoshis, scriptPubKey).
    pub outputs: Vec<(u64, Vec<u8>)>,
}

/// Parses exactly one transaction (as [`parse_tx`] does) and returns its txid (refusing a
/// 64-byte preimage, as [`txid_checked`] does) with its inputs' outpoints and its outputs.
pub fn tx_io(bytes: &[u8]) -> Result<(Hash32, TxIo), BitcoinError> {
    let txid = txid_checked(bytes)?;
    let mut r = Reader::new(bytes, "transaction");
    r.take(4)?;
    let mut probe = r.clone();
    if probe.u8()? == 0 {
        probe.u8()?;
        r = probe;
    }
    let n = input_count(&mut r)?;
    let mut inputs = Vec::with_capacity(n);
    for _ in 0..n {
        let prev: Hash32 = r.array()?;
        let vout = r.u32_le()?;
        let len = r.count("script length", MAX_TX_BYTES as u64)?;
        r.take(len)?;
        r.take(4)?;
        inputs.push((prev, vout));
    }
    let n = output_count(&mut r)?;
    let mut outputs = Vec::with_capacity(n);
    for _ in 0..n {
        let value = u64::from_le_bytes(r.array()?);
        let len = r.count("script length", MAX_TX_BYTES as u64)?;
        outputs.push((value, r.take(len)?.to_vec()));
    }
    Ok((txid, TxIo { inputs, outputs }))
}

/// A parsed block: its header and its transactions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedBlock {
    /// The header.
    pub header: BlockHeader,
    /// Each transaction, in order.
    pub txs: Vec<ParsedTx>,
}

/// Parses a full serialized block (bounded by [`MAX_BLOCK_BYTES`] and [`MAX_BLOCK_TXS`]).
pub fn parse_block(bytes: &[u8]) -> Result<ParsedBlock, BitcoinError> {
    if bytes.len() > MAX_BLOCK_BYTES {
        return Err(BitcoinError::LimitExceeded {
            what: "block bytes",
            max: MAX_BLOCK_BYTES as u64,
            got: bytes.len() as u64,
        });
    }
    let mut r = Reader::new(bytes, "block");
    let header = BlockHeader::decode(r.take(HEADER_LEN)?)?;
    let n = r.count("transactions in block", u64::from(MAX_BLOCK_TXS))?;
    if n == 0 {
        return Err(BitcoinError::NoTransactions);
    }
    let mut txs = Vec::with_capacity(n.min(r.remaining() / 60 + 1));
    for _ in 0..n {
        txs.push(read_tx(&mut r)?);
    }
    r.finish()?;
    Ok(ParsedBlock { header, txs })
}

/// Checks a summa-style input vector: a non-zero CompactSize count and exactly that many
/// well-formed inputs.
pub fn validate_vin(vin: &[u8]) -> Result<usize, BitcoinError> {
    let invalid = |reason| BitcoinError::InvalidVin { reason };
    let mut r = Reader::new(vin, "vin");
    let n = input_count(&mut r).map_err(|_| invalid("bad input count"))?;
    if n == 0 {
        return Err(invalid("no inputs"));
    }
    read_inputs(&mut r, n).map_err(|_| invalid("truncated input"))?;
    r.finish().map_err(|_| invalid("trailing bytes"))?;
    Ok(n)
}

/// Checks a summa-style output vector: a non-zero CompactSize count and exactly that many
/// well-formed outputs.
pub fn validate_vout(vout: &[u8]) -> Result<usize, BitcoinError> {
    let invalid = |reason| BitcoinError::InvalidVout { reason };
    let mut r = Reader::new(vout, "vout");
    let n = output_count(&mut r).map_err(|_| invalid("bad output count"))?;
    if n == 0 {
        return Err(invalid("no outputs"));
    }
    read_outputs(&mut r, n).map_err(|_| invalid("truncated output"))?;
    r.finish().map_err(|_| invalid("trailing bytes"))?;
    Ok(n)
}
