//! The 80-byte block header.

use super::{sha256d, BitcoinError, Hash32, Reader};

/// Size of a serialized header; anything else is refused.
pub const HEADER_LEN: usize = 80;

/// A decoded block header. Hashes are kept in internal byte order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BlockHeader {
    /// Block version (BIP9 bits included).
    pub version: i32,
    /// Hash of the parent header.
    pub prev_blockhash: Hash32,
    /// Root of the transaction Merkle tree (txids, not wtxids).
    pub merkle_root: Hash32,
    /// Miner's timestamp, seconds since the epoch.
    pub time: u32,
    /// Compact encoding of the target this header claims to meet.
    pub bits: u32,
    /// Proof-of-work nonce.
    pub nonce: u32,
}

impl BlockHeader {
    /// Decodes exactly 80 bytes.
    pub fn decode(bytes: &[u8]) -> Result<Self, BitcoinError> {
        if bytes.len() != HEADER_LEN {
            return Err(BitcoinError::WrongLength {
                what: "block header",
                expected: HEADER_LEN,
                got: bytes.len(),
            });
        }
        let mut r = Reader::new(bytes, "block header");
        let header = Self::read(&mut r)?;
        r.finish()?;
        Ok(header)
    }

    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Self, BitcoinError> {
        Ok(Self {
            version: i32::from_le_bytes(r.array()?),
            prev_blockhash: r.array()?,
            merkle_root: r.array()?,
            time: r.u32_le()?,
            bits: r.u32_le()?,
            nonce: r.u32_le()?,
        })
    }

    /// The consensus serialization.
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        out[0..4].copy_from_slice(&self.version.to_le_bytes());
        out[4..36].copy_from_slice(&self.prev_blockhash);
        out[36..68].copy_from_slice(&self.merkle_root);
        out[68..72].copy_from_slice(&self.time.to_le_bytes());
        out[72..76].copy_from_slice(&self.bits.to_le_bytes());
        out[76..80].copy_from_slice(&self.nonce.to_le_bytes());
        out
    }

    /// The block hash (internal byte order).
    pub fn block_hash(&self) -> Hash32 {
        sha256d(&self.encode())
    }
}

/// Decodes concatenated 80-byte headers (at most `max` of them) and checks that each links to
/// the one before. Linking is all this checks; proof of work is [`super::pow`]'s job.
pub fn decode_header_chain(bytes: &[u8], max: usize) -> Result<Vec<BlockHeader>, BitcoinError> {
    if !bytes.len().is_multiple_of(HEADER_LEN) {
        return Err(BitcoinError::WrongLength {
            what: "header chain (multiple of 80)",
            expected: bytes.len() - bytes.len() % HEADER_LEN,
            got: bytes.len(),
        });
    }
    let n = bytes.len() / HEADER_LEN;
    if n > max {
        return Err(BitcoinError::LimitExceeded {
            what: "headers",
            max: max as u64,
            got: n as u64,
        });
    }
    let mut out: Vec<BlockHeader> = Vec::with_capacity(n);
    let mut prev_hash: Option<Hash32> = None;
    for (position, chunk) in bytes.chunks_exact(HEADER_LEN).enumerate() {
        let header = BlockHeader::decode(chunk)?;
        if let Some(prev) = prev_hash {
            if header.prev_blockhash != prev {
                return Err(BitcoinError::BrokenLink { position });
            }
        }
        prev_hash = Some(header.block_hash());
        out.push(header);
    }
    Ok(out)
}
