//! Byte writer and bounded reader for the node's own messages (consensus codec, store rows,
//! transaction gossip). Same conventions as the `spec` encoding: big-endian fixed-width
//! integers, u32 length prefixes, every length checked against a cap and the input left.

/// Why bytes from a peer or from disk could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// The input ended inside a field.
    #[error("input ended early: needed {needed} more bytes")]
    UnexpectedEnd {
        /// Bytes missing.
        needed: usize,
    },
    /// A length prefix is larger than allowed.
    #[error("length {len} is over the cap of {max}")]
    TooLong {
        /// Declared length.
        len: usize,
        /// Cap for this field.
        max: usize,
    },
    /// Bytes were left after the message.
    #[error("{0} trailing bytes")]
    Trailing(usize),
    /// A field holds a value outside its domain.
    #[error("invalid {0}")]
    Invalid(&'static str),
}

/// Appends fields to a buffer.
#[derive(Debug, Default)]
pub struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    /// An empty writer.
    pub fn new() -> Self {
        Self::default()
    }
    /// One byte.
    pub fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }
    /// Big-endian u32.
    pub fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }
    /// Big-endian u64.
    pub fn u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }
    /// Big-endian i64.
    pub fn i64(&mut self, v: i64) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }
    /// Fixed-size bytes, no length.
    pub fn array(&mut self, v: &[u8]) {
        self.buf.extend_from_slice(v);
    }
    /// Raw bytes, no length (domain tags).
    pub fn raw(&mut self, v: &[u8]) {
        self.buf.extend_from_slice(v);
    }
    /// u32 length then the bytes.
    pub fn bytes(&mut self, v: &[u8]) {
        self.u32(v.len() as u32);
        self.buf.extend_from_slice(v);
    }
    /// The bytes written.
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }
}

/// Reads fields from a byte slice without ever reading past its end.
#[derive(Debug)]
pub struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    /// Reads `buf` from the start.
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf }
    }
    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.buf.len()
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        if self.buf.len() < n {
            return Err(WireError::UnexpectedEnd {
                needed: n - self.buf.len(),
            });
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }
    /// One byte.
    pub fn u8(&mut self) -> Result<u8, WireError> {
        Ok(self.take(1)?[0])
    }
    /// Big-endian u32.
    pub fn u32(&mut self) -> Result<u32, WireError> {
        Ok(u32::from_be_bytes(self.array()?))
    }
    /// Big-endian u64.
    pub fn u64(&mut self) -> Result<u64, WireError> {
        Ok(u64::from_be_bytes(self.array()?))
    }
    /// Big-endian i64.
    pub fn i64(&mut self) -> Result<i64, WireError> {
        Ok(i64::from_be_bytes(self.array()?))
    }
    /// Fixed-size bytes.
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], WireError> {
        let s = self.take(N)?;
        let mut out = [0u8; N];
        out.copy_from_slice(s);
        Ok(out)
    }
    /// u32-length-prefixed bytes of at most `max` bytes.
    pub fn bytes(&mut self, max: usize) -> Result<&'a [u8], WireError> {
        let len = self.u32()? as usize;
        if len > max {
            return Err(WireError::TooLong { len, max });
        }
        self.take(len)
    }
    /// A u32 element count of at most `max`, also bounded by the bytes left (each element
    /// takes at least `min_elem_bytes`), so a forged count cannot make us allocate.
    pub fn count(&mut self, max: usize, min_elem_bytes: usize) -> Result<usize, WireError> {
        let n = self.u32()? as usize;
        let fits = self.remaining() / min_elem_bytes.max(1);
        if n > max || n > fits {
            return Err(WireError::TooLong {
                len: n,
                max: max.min(fits),
            });
        }
        Ok(n)
    }
    /// Fails unless every byte was read.
    pub fn finish(self) -> Result<(), WireError> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(WireError::Trailing(self.buf.len()))
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn reader_never_reads_past_the_end() {
        let mut w = Writer::new();
        w.u64(7);
        w.bytes(b"abc");
        let b = w.into_bytes();
        for cut in 0..b.len() {
            let mut r = Reader::new(&b[..cut]);
            let res = r.u64().and_then(|_| r.bytes(10).map(|_| ()));
            assert!(
                matches!(res, Err(WireError::UnexpectedEnd { .. })),
                "cut {cut}"
            );
        }
        let mut r = Reader::new(&b);
        assert_eq!(r.u64().unwrap(), 7);
        assert_eq!(r.bytes(2), Err(WireError::TooLong { len: 3, max: 2 }));
    }

    #[test]
    fn forged_counts_are_refused() {
        let mut w = Writer::new();
        w.u32(u32::MAX);
        let b = w.into_bytes();
        assert!(matches!(
            Reader::new(&b).count(1_000_000, 1),
            Err(WireError::TooLong { .. })
        ));
    }
}
