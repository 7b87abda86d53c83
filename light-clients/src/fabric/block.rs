//! Fabric blocks: decoding (protobuf and the peer's block-store file), header and data hashes.

use sha2::{Digest, Sha256};

use super::proto::{
    Block, BlockData, BlockHeader, BlockMetadata, ChannelHeader, Envelope, Payload, SignatureHeader,
};
use super::{
    bound, decode_bounded, FabricError, MAX_BLOCKS_PER_FILE, MAX_BLOCK_BYTES, MAX_BLOCK_FILE_BYTES,
    MAX_IDENTITY_BYTES, MAX_METADATA_ENTRIES, MAX_TXS_PER_BLOCK,
};

/// `BlockMetadataIndex.SIGNATURES`.
pub const METADATA_SIGNATURES: usize = 0;
/// `BlockMetadataIndex.TRANSACTIONS_FILTER`: one validation code per envelope, unsigned.
pub const METADATA_TRANSACTIONS_FILTER: usize = 2;

/// `HeaderType.CONFIG`.
pub const HEADER_TYPE_CONFIG: i32 = 1;
/// `HeaderType.ENDORSER_TRANSACTION`.
pub const HEADER_TYPE_ENDORSER_TRANSACTION: i32 = 3;
/// `HeaderType.ORDERER_TRANSACTION`.
pub const HEADER_TYPE_ORDERER_TRANSACTION: i32 = 4;

/// `TxValidationCode.VALID`; every other code invalidates the transaction.
pub const TX_VALID: u32 = 0;

/// The DER encoding Fabric hashes for a block header (`protoutil.BlockHeaderBytes`):
/// `SEQUENCE { INTEGER number, OCTET STRING previous_hash, OCTET STRING data_hash }`.
pub fn block_header_bytes(header: &BlockHeader) -> Vec<u8> {
    let mut body = Vec::with_capacity(
        header
            .previous_hash
            .len()
            .saturating_add(header.data_hash.len())
            .saturating_add(16),
    );
    // INTEGER: minimal big-endian two's complement of a non-negative number.
    let be = header.number.to_be_bytes();
    let first = be.iter().position(|b| *b != 0).unwrap_or(be.len() - 1);
    let digits = be.get(first..).unwrap_or(&[0]);
    let pad = digits.first().is_some_and(|b| b & 0x80 != 0);
    der_tlv(
        &mut body,
        0x02,
        &[if pad { &[0u8][..] } else { &[][..] }, digits],
    );
    der_tlv(&mut body, 0x04, &[&header.previous_hash]);
    der_tlv(&mut body, 0x04, &[&header.data_hash]);
    let mut out = Vec::with_capacity(body.len().saturating_add(6));
    der_tlv(&mut out, 0x30, &[&body]);
    out
}

fn der_tlv(out: &mut Vec<u8>, tag: u8, parts: &[&[u8]]) {
    let len = parts
        .iter()
        .fold(0usize, |acc, p| acc.saturating_add(p.len()));
    out.push(tag);
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let be = (len as u64).to_be_bytes();
        let first = be.iter().position(|b| *b != 0).unwrap_or(be.len() - 1);
        let digits = be.get(first..).unwrap_or(&[]);
        out.push(0x80 | digits.len() as u8);
        out.extend_from_slice(digits);
    }
    for p in parts {
        out.extend_from_slice(p);
    }
}

/// SHA-256 of [`block_header_bytes`]: the hash the next block names as `previous_hash`.
pub fn block_header_hash(header: &BlockHeader) -> [u8; 32] {
    Sha256::digest(block_header_bytes(header)).into()
}

/// SHA-256 over the concatenated envelope bytes (`protoutil.ComputeBlockDataHash`).
pub fn block_data_hash(data: &BlockData) -> [u8; 32] {
    let mut h = Sha256::new();
    for entry in &data.data {
        h.update(entry);
    }
    h.finalize().into()
}

/// Decode a `common.Block` and bound its parts. Does not check any hash or signature.
pub fn decode_block(bytes: &[u8]) -> Result<Block, FabricError> {
    let block: Block = decode_bounded(bytes, "block bytes", MAX_BLOCK_BYTES)?;
    check_block_shape(&block)?;
    Ok(block)
}

/// Header present, counts within bounds.
pub(crate) fn check_block_shape(block: &Block) -> Result<(), FabricError> {
    if block.header.is_none() {
        return Err(FabricError::MissingField {
            what: "block header",
        });
    }
    let txs = block.data.as_ref().map_or(0, |d| d.data.len());
    bound("envelopes in block", txs, MAX_TXS_PER_BLOCK)?;
    let md = block.metadata.as_ref().map_or(0, |m| m.metadata.len());
    bound("metadata entries", md, MAX_METADATA_ENTRIES)
}

/// The block header (checked present by [`decode_block`]).
pub fn header(block: &Block) -> Result<&BlockHeader, FabricError> {
    block.header.as_ref().ok_or(FabricError::MissingField {
        what: "block header",
    })
}

/// The envelopes of the block, empty when the block has no data.
pub fn envelopes(block: &Block) -> &[Vec<u8>] {
    block.data.as_ref().map_or(&[], |d| d.data.as_slice())
}

/// Check that the header's data hash is SHA-256 of the block's envelopes.
pub fn check_data_hash(block: &Block) -> Result<(), FabricError> {
    let h = header(block)?;
    let computed = match &block.data {
        Some(d) => block_data_hash(d),
        None => block_data_hash(&BlockData::default()),
    };
    if h.data_hash.as_slice() == computed.as_slice() {
        Ok(())
    } else {
        Err(FabricError::DataHashMismatch)
    }
}

/// Metadata entry `index`, or an empty slice when absent.
pub fn metadata_entry(block: &Block, index: usize) -> &[u8] {
    block
        .metadata
        .as_ref()
        .and_then(|m| m.metadata.get(index))
        .map_or(&[], |v| v.as_slice())
}

/// An envelope opened down to its headers; raw bytes kept where signatures cover them.
#[derive(Clone, Debug)]
pub struct OpenedEnvelope {
    /// The envelope (raw `payload` bytes are what the creator signed).
    pub envelope: Envelope,
    /// The decoded payload.
    pub payload: Payload,
    /// The decoded channel header.
    pub channel_header: ChannelHeader,
    /// The decoded signature header (creator identity, nonce).
    pub signature_header: SignatureHeader,
}

/// Decode an envelope and its payload, channel header and signature header.
pub fn open_envelope(bytes: &[u8]) -> Result<OpenedEnvelope, FabricError> {
    let envelope: Envelope = decode_bounded(bytes, "envelope", MAX_BLOCK_BYTES)?;
    let payload: Payload = decode_bounded(&envelope.payload, "payload", MAX_BLOCK_BYTES)?;
    let hdr = payload.header.as_ref().ok_or(FabricError::MissingField {
        what: "payload header",
    })?;
    let channel_header: ChannelHeader =
        decode_bounded(&hdr.channel_header, "channel header", MAX_IDENTITY_BYTES)?;
    let signature_header: SignatureHeader = decode_bounded(
        &hdr.signature_header,
        "signature header",
        MAX_IDENTITY_BYTES,
    )?;
    Ok(OpenedEnvelope {
        envelope,
        payload,
        channel_header,
        signature_header,
    })
}

fn read_varint(bytes: &[u8], pos: &mut usize) -> Result<u64, FabricError> {
    let mut value: u64 = 0;
    for i in 0..10u32 {
        let b = *bytes.get(*pos).ok_or(FabricError::Malformed {
            what: "block file varint",
        })?;
        *pos = pos.saturating_add(1);
        let low = u64::from(b & 0x7f);
        if i == 9 && b > 1 {
            return Err(FabricError::Malformed {
                what: "block file varint",
            });
        }
        value |= low << (7 * i);
        if b & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(FabricError::Malformed {
        what: "block file varint",
    })
}

fn read_len_bytes<'a>(bytes: &'a [u8], pos: &mut usize) -> Result<&'a [u8], FabricError> {
    let len = usize::try_from(read_varint(bytes, pos)?).map_err(|_| FabricError::Malformed {
        what: "block file length",
    })?;
    let end = pos.checked_add(len).ok_or(FabricError::Malformed {
        what: "block file length",
    })?;
    let out = bytes.get(*pos..end).ok_or(FabricError::Malformed {
        what: "block file truncated",
    })?;
    *pos = end;
    Ok(out)
}

fn read_count(
    bytes: &[u8],
    pos: &mut usize,
    what: &'static str,
    max: usize,
) -> Result<usize, FabricError> {
    let n = read_varint(bytes, pos)?;
    let n = usize::try_from(n).unwrap_or(usize::MAX);
    bound(what, n, max)?;
    Ok(n)
}

/// Decode a peer block-store file (`blockfile_NNNNNN`): repeated `varint len; block`, each
/// block serialized as `number, data_hash, previous_hash, txs, metadata` (Fabric's
/// `serializeBlock`). Returns the blocks as `common.Block` values.
pub fn decode_block_file(bytes: &[u8]) -> Result<Vec<Block>, FabricError> {
    bound("block file bytes", bytes.len(), MAX_BLOCK_FILE_BYTES)?;
    let mut blocks = Vec::new();
    let mut pos = 0usize;
    while pos < bytes.len() {
        bound(
            "blocks in file",
            blocks.len().saturating_add(1),
            MAX_BLOCKS_PER_FILE,
        )?;
        let one = read_len_bytes(bytes, &mut pos)?;
        blocks.push(decode_stored_block(one)?);
    }
    Ok(blocks)
}

/// Decode one block in the block-store serialization.
pub fn decode_stored_block(bytes: &[u8]) -> Result<Block, FabricError> {
    let mut pos = 0usize;
    let number = read_varint(bytes, &mut pos)?;
    let data_hash = read_len_bytes(bytes, &mut pos)?.to_vec();
    let previous_hash = read_len_bytes(bytes, &mut pos)?.to_vec();
    let tx_count = read_count(bytes, &mut pos, "envelopes in block", MAX_TXS_PER_BLOCK)?;
    let mut data = Vec::with_capacity(tx_count.min(64));
    for _ in 0..tx_count {
        data.push(read_len_bytes(bytes, &mut pos)?.to_vec());
    }
    let md_count = read_count(bytes, &mut pos, "metadata entries", MAX_METADATA_ENTRIES)?;
    let mut metadata = Vec::with_capacity(md_count);
    for _ in 0..md_count {
        metadata.push(read_len_bytes(bytes, &mut pos)?.to_vec());
    }
    if pos != bytes.len() {
        return Err(FabricError::Malformed {
            what: "block file trailing bytes",
        });
    }
    Ok(Block {
        header: Some(BlockHeader {
            number,
            previous_hash,
            data_hash,
        }),
        data: Some(BlockData { data }),
        metadata: Some(BlockMetadata { metadata }),
    })
}
