//! Canonical binary encoding.
//!
//! Every value has exactly one encoding, and decoding accepts exactly that encoding:
//!
//! - integers are big-endian and fixed width (`u8`, `u16`, `u32`, `u64`, `u128`);
//! - `bool` is one byte, `0x00` or `0x01`;
//! - fixed-size byte arrays are written raw, without a length;
//! - variable-length byte strings and UTF-8 strings are a `u32` length followed by
//!   the bytes, and every such length has a cap that the decoder enforces;
//! - `Option<T>` is a tag byte (`0x00` = none, `0x01` = some) followed by the value;
//! - sequences are a `u32` item count (capped) followed by the items;
//! - struct fields are written in declaration order with no padding or separators;
//! - a whole-buffer decode ([`Decode::from_bytes`]) rejects trailing bytes.
//!
//! Since every length is fixed width, the only non-canonical inputs are: a bool byte
//! other than 0/1, an option or enum tag that is not defined, a length over its cap,
//! trailing bytes, invalid UTF-8, and the type-specific rules of each type (for example
//! the chain-id alphabet). See `spec/encoding.md` for every format byte by byte.

use thiserror::Error;

pub use crate::id::MAX_CHAIN_ID_LEN;
use crate::id::{ChainId, ChainIdError};

/// Maximum length in bytes of the canonical encoding of a signed transaction.
pub const MAX_TX_BYTES: usize = 65_536;
/// Maximum length in bytes of a packet payload.
pub const MAX_PAYLOAD_BYTES: usize = 65_536;
/// Maximum length in bytes of an application id (packet source or destination app).
pub const MAX_APP_ID_LEN: usize = 64;
/// Maximum length in bytes of the data of a `Remark` transaction.
pub const MAX_REMARK_BYTES: usize = 4_096;
/// Cap on the byte length of a `String` decoded through its [`Decode`] implementation.
/// Types with a tighter rule decode their strings with [`decode_string`] instead.
pub const MAX_STRING_BYTES: usize = 65_536;

/// Why a byte string is not the canonical encoding of a value.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeError {
    /// The input ended before the value was complete.
    #[error("unexpected end of input: needed {needed} bytes, {remaining} remaining")]
    UnexpectedEnd {
        /// Bytes the next read needed.
        needed: usize,
        /// Bytes that were left.
        remaining: usize,
    },
    /// A whole-buffer decode finished with bytes left over.
    #[error("{remaining} trailing bytes after the value")]
    TrailingBytes {
        /// Bytes left after the value.
        remaining: usize,
    },
    /// A length or count prefix exceeds the cap for that field.
    #[error("length {len} exceeds the cap of {max}")]
    LengthTooLarge {
        /// The length found (saturated at `usize::MAX`).
        len: usize,
        /// The cap for this field.
        max: usize,
    },
    /// A bool byte other than `0x00` or `0x01`.
    #[error("invalid bool byte {0:#04x}: must be 0x00 or 0x01")]
    InvalidBool(u8),
    /// An option or enum tag that is not defined.
    #[error("invalid {what} tag {tag:#04x}")]
    InvalidTag {
        /// What kind of tag it is (e.g. `"option"`, `"tx kind"`).
        what: &'static str,
        /// The tag byte found.
        tag: u8,
    },
    /// A string field is not valid UTF-8.
    #[error("string is not valid UTF-8")]
    InvalidUtf8,
    /// A chain id breaks the chain-id rules.
    #[error("invalid chain id: {0}")]
    InvalidChainId(#[from] ChainIdError),
    /// A count that is determined by another field does not match it.
    #[error("{what}: expected {expected} items, found {got}")]
    CountMismatch {
        /// Which count.
        what: &'static str,
        /// The count implied by the other field.
        expected: u64,
        /// The count found.
        got: u64,
    },
    /// Any other type-specific canonical-form rule, named by the message.
    #[error("non-canonical encoding: {0}")]
    NonCanonical(&'static str),
    /// A field holds a value outside its domain (an unknown tag of a node message, a
    /// round out of range, a peer id that does not parse).
    #[error("invalid {0}")]
    InvalidValue(&'static str),
}

/// A value with a canonical binary encoding.
pub trait Encode {
    /// Appends the canonical encoding of `self` to `out`.
    fn encode_to(&self, out: &mut Vec<u8>);

    /// Returns the canonical encoding of `self`.
    fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_to(&mut out);
        out
    }
}

/// A value that can be decoded from its canonical binary encoding.
pub trait Decode: Sized {
    /// Decodes one value from the front of `r`, leaving the reader after it.
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError>;

    /// Decodes a value that must occupy the whole buffer: rejects trailing bytes.
    fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let value = Self::decode_from(&mut r)?;
        r.finish()?;
        Ok(value)
    }
}

/// A cursor over an input buffer; every read is bounds-checked.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A reader positioned at the start of `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { rest: bytes }
    }

    /// Number of bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.rest.len()
    }

    /// True when every byte has been read.
    pub fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// Succeeds only when every byte has been read.
    pub fn finish(&self) -> Result<(), DecodeError> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::TrailingBytes {
                remaining: self.rest.len(),
            })
        }
    }

    /// Reads exactly `n` raw bytes (no length prefix).
    pub fn read_raw(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if n > self.rest.len() {
            return Err(DecodeError::UnexpectedEnd {
                needed: n,
                remaining: self.rest.len(),
            });
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    /// Reads a fixed-size byte array (no length prefix).
    pub fn read_array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.read_raw(N)?);
        Ok(out)
    }

    /// Reads one byte.
    pub fn read_u8(&mut self) -> Result<u8, DecodeError> {
        Ok(u8::from_be_bytes(self.read_array()?))
    }

    /// Reads a big-endian `u16`.
    pub fn read_u16(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.read_array()?))
    }

    /// Reads a big-endian `u32`.
    pub fn read_u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.read_array()?))
    }

    /// Reads a big-endian `u64`.
    pub fn read_u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_be_bytes(self.read_array()?))
    }

    /// Reads a big-endian `u128`.
    pub fn read_u128(&mut self) -> Result<u128, DecodeError> {
        Ok(u128::from_be_bytes(self.read_array()?))
    }

    /// Reads a big-endian `i64`.
    pub fn read_i64(&mut self) -> Result<i64, DecodeError> {
        Ok(i64::from_be_bytes(self.read_array()?))
    }

    /// Reads a `u32` count of items, each at least `min_item_bytes` long, and refuses a
    /// count over `max` or over what the remaining input could hold (so a forged count
    /// cannot make the caller reserve memory the input does not back).
    pub fn read_count(&mut self, max: usize, min_item_bytes: usize) -> Result<usize, DecodeError> {
        let raw = self.read_u32()?;
        let count = usize::try_from(raw).unwrap_or(usize::MAX);
        let fits = self.remaining() / min_item_bytes.max(1);
        if count > max || count > fits {
            return Err(DecodeError::LengthTooLarge {
                len: count,
                max: max.min(fits),
            });
        }
        Ok(count)
    }

    /// Reads a bool: `0x00` is false, `0x01` is true, anything else is rejected.
    pub fn read_bool(&mut self) -> Result<bool, DecodeError> {
        match self.read_u8()? {
            0 => Ok(false),
            1 => Ok(true),
            other => Err(DecodeError::InvalidBool(other)),
        }
    }

    /// Reads a `u32` length or count prefix and checks it against `max`.
    pub fn read_len(&mut self, max: usize) -> Result<usize, DecodeError> {
        let raw = self.read_u32()?;
        let len = usize::try_from(raw).unwrap_or(usize::MAX);
        if len > max {
            return Err(DecodeError::LengthTooLarge { len, max });
        }
        Ok(len)
    }

    /// Reads a byte string: a `u32` length (at most `max_len`) and that many bytes.
    pub fn read_bytes(&mut self, max_len: usize) -> Result<&'a [u8], DecodeError> {
        let len = self.read_len(max_len)?;
        self.read_raw(len)
    }
}

/// Reads a `u32` count (at most `max`) and that many items with `item`, and rejects the
/// sequence unless `key` strictly increases from one item to the next, so that a sorted
/// collection has exactly one encoding.
pub fn decode_sorted<T, K: Ord + ?Sized>(
    r: &mut Reader<'_>,
    max: usize,
    unsorted: &'static str,
    mut item: impl FnMut(&mut Reader<'_>) -> Result<T, DecodeError>,
    key: impl Fn(&T) -> &K,
) -> Result<Vec<T>, DecodeError> {
    let count = r.read_len(max)?;
    let mut items: Vec<T> = Vec::with_capacity(count.min(r.remaining()));
    for _ in 0..count {
        let next = item(r)?;
        if let Some(last) = items.last() {
            if key(last) >= key(&next) {
                return Err(DecodeError::NonCanonical(unsorted));
            }
        }
        items.push(next);
    }
    Ok(items)
}

/// Appends values to a buffer in this encoding, for the node's own messages and rows that
/// are written field by field rather than through [`Encode`].
pub trait Put {
    /// Appends one byte.
    fn put_u8(&mut self, v: u8);
    /// Appends a big-endian `u32`.
    fn put_u32(&mut self, v: u32);
    /// Appends a big-endian `u64`.
    fn put_u64(&mut self, v: u64);
    /// Appends a big-endian `i64`.
    fn put_i64(&mut self, v: i64);
    /// Appends bytes as they are (fixed-width fields).
    fn put_raw(&mut self, v: &[u8]);
    /// Appends a byte string: a `u32` length, then the bytes.
    fn put_bytes(&mut self, v: &[u8]);
}

impl Put for Vec<u8> {
    fn put_u8(&mut self, v: u8) {
        self.push(v);
    }
    fn put_u32(&mut self, v: u32) {
        v.encode_to(self);
    }
    fn put_u64(&mut self, v: u64) {
        v.encode_to(self);
    }
    fn put_i64(&mut self, v: i64) {
        v.encode_to(self);
    }
    fn put_raw(&mut self, v: &[u8]) {
        self.extend_from_slice(v);
    }
    fn put_bytes(&mut self, v: &[u8]) {
        encode_bytes(v, self);
    }
}

/// Writes a `u32` length or count prefix.
///
/// A length that does not fit in `u32` is written as `u32::MAX`; since every cap is far
/// below that, such an encoding never decodes. Values are expected to be validated
/// against their caps before they are encoded.
pub fn encode_len(len: usize, out: &mut Vec<u8>) {
    let len = u32::try_from(len).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
}

/// Writes a byte string: a `u32` length followed by the bytes.
pub fn encode_bytes(bytes: &[u8], out: &mut Vec<u8>) {
    encode_len(bytes.len(), out);
    out.extend_from_slice(bytes);
}

/// Writes `value`'s encoding as a byte string, the same bytes as
/// `encode_bytes(&value.to_bytes(), out)`, without a buffer of its own: the length is
/// written after the value, into four bytes kept for it.
pub fn encode_nested(value: &(impl Encode + ?Sized), out: &mut Vec<u8>) {
    let at = out.len();
    out.extend_from_slice(&[0; 4]);
    value.encode_to(out);
    let len = u32::try_from(out.len() - at - 4).unwrap_or(u32::MAX);
    if let Some(prefix) = out.get_mut(at..at + 4) {
        prefix.copy_from_slice(&len.to_be_bytes());
    }
}

/// Reads a byte string of at most `max_len` bytes into an owned vector.
pub fn decode_bytes(r: &mut Reader<'_>, max_len: usize) -> Result<Vec<u8>, DecodeError> {
    Ok(r.read_bytes(max_len)?.to_vec())
}

/// Writes a UTF-8 string: a `u32` byte length followed by the bytes.
pub fn encode_str(s: &str, out: &mut Vec<u8>) {
    encode_bytes(s.as_bytes(), out);
}

/// Reads a UTF-8 string of at most `max_len` bytes.
pub fn decode_string(r: &mut Reader<'_>, max_len: usize) -> Result<String, DecodeError> {
    let bytes = r.read_bytes(max_len)?;
    core::str::from_utf8(bytes)
        .map(str::to_owned)
        .map_err(|_| DecodeError::InvalidUtf8)
}

/// Writes a sequence: a `u32` item count followed by each item's encoding.
pub fn encode_vec<T: Encode>(items: &[T], out: &mut Vec<u8>) {
    encode_len(items.len(), out);
    for item in items {
        item.encode_to(out);
    }
}

/// Reads a sequence of at most `max_count` items.
///
/// The vector is never pre-allocated beyond the number of bytes left in the input, so
/// a large count in a short input cannot cause a large allocation.
pub fn decode_vec<T: Decode>(r: &mut Reader<'_>, max_count: usize) -> Result<Vec<T>, DecodeError> {
    let count = r.read_len(max_count)?;
    let mut items = Vec::with_capacity(count.min(r.remaining()));
    for _ in 0..count {
        items.push(T::decode_from(r)?);
    }
    Ok(items)
}

macro_rules! impl_int {
    ($($t:ty => $read:ident),* $(,)?) => {$(
        impl Encode for $t {
            fn encode_to(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_be_bytes());
            }
        }
        impl Decode for $t {
            fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
                r.$read()
            }
        }
    )*};
}

impl_int!(u8 => read_u8, u16 => read_u16, u32 => read_u32, u64 => read_u64, u128 => read_u128, i64 => read_i64);

impl Encode for bool {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.push(u8::from(*self));
    }
}

impl Decode for bool {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.read_bool()
    }
}

impl<const N: usize> Encode for [u8; N] {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self);
    }
}

impl<const N: usize> Decode for [u8; N] {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.read_array()
    }
}

impl Encode for str {
    fn encode_to(&self, out: &mut Vec<u8>) {
        encode_str(self, out);
    }
}

impl Encode for String {
    fn encode_to(&self, out: &mut Vec<u8>) {
        encode_str(self, out);
    }
}

/// Decodes a string of at most [`MAX_STRING_BYTES`] bytes.
impl Decode for String {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        decode_string(r, MAX_STRING_BYTES)
    }
}

impl<T: Encode> Encode for Option<T> {
    fn encode_to(&self, out: &mut Vec<u8>) {
        match self {
            None => out.push(0),
            Some(value) => {
                out.push(1);
                value.encode_to(out);
            }
        }
    }
}

impl<T: Decode> Decode for Option<T> {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match r.read_u8()? {
            0 => Ok(None),
            1 => Ok(Some(T::decode_from(r)?)),
            tag => Err(DecodeError::InvalidTag {
                what: "option",
                tag,
            }),
        }
    }
}

impl<T: Encode + ?Sized> Encode for &T {
    fn encode_to(&self, out: &mut Vec<u8>) {
        (**self).encode_to(out);
    }
}

/// `len (u32, 1..=64) || ASCII bytes of [a-z0-9._-]`.
impl Encode for ChainId {
    fn encode_to(&self, out: &mut Vec<u8>) {
        encode_bytes(self.as_str().as_bytes(), out);
    }
}

impl Decode for ChainId {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let bytes = r.read_bytes(MAX_CHAIN_ID_LEN)?;
        Self::check(bytes)?;
        // The alphabet is ASCII, so the bytes are UTF-8.
        let s = core::str::from_utf8(bytes).map_err(|_| DecodeError::InvalidUtf8)?;
        Ok(ChainId::new(s.to_owned())?)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn put_and_read_agree_and_never_read_past_the_end() {
        let mut w = Vec::new();
        w.put_u64(7);
        w.put_i64(-3);
        w.put_bytes(b"abc");
        for cut in 0..w.len() {
            let mut r = Reader::new(&w[..cut]);
            let res = r
                .read_u64()
                .and_then(|_| r.read_i64())
                .and_then(|_| r.read_bytes(10).map(|_| ()));
            assert!(
                matches!(res, Err(DecodeError::UnexpectedEnd { .. })),
                "cut {cut}"
            );
        }
        let mut r = Reader::new(&w);
        assert_eq!(r.read_u64(), Ok(7));
        assert_eq!(r.read_i64(), Ok(-3));
        assert_eq!(
            r.read_bytes(2),
            Err(DecodeError::LengthTooLarge { len: 3, max: 2 })
        );
    }

    #[test]
    fn a_nested_encoding_is_the_byte_string_of_the_encoding() {
        for n in [0, 1, 70_000] {
            let value = Some("x".repeat(n));
            let mut nested = vec![0xee];
            encode_nested(&value, &mut nested);
            let mut plain = vec![0xee];
            encode_bytes(&value.to_bytes(), &mut plain);
            assert_eq!(nested, plain);
        }
    }

    #[test]
    fn a_count_the_input_cannot_hold_is_refused() {
        let mut w = Vec::new();
        w.put_u32(u32::MAX);
        assert!(matches!(
            Reader::new(&w).read_count(1_000_000, 1),
            Err(DecodeError::LengthTooLarge { .. })
        ));
        let mut w = Vec::new();
        w.put_u32(3);
        w.put_raw(&[0; 8]);
        // Three items of 4 bytes need 12; only 8 are there.
        assert_eq!(
            Reader::new(&w).read_count(10, 4),
            Err(DecodeError::LengthTooLarge { len: 3, max: 2 })
        );
        assert_eq!(Reader::new(&w).read_count(10, 2), Ok(3));
    }

    #[test]
    fn integers_are_big_endian_fixed_width() {
        assert_eq!(0x0102u16.to_bytes(), [1, 2]);
        assert_eq!(1u64.to_bytes(), [0, 0, 0, 0, 0, 0, 0, 1]);
        assert_eq!(u128::from_bytes(&[0xff; 16]).unwrap(), u128::MAX);
    }

    #[test]
    fn read_bytes_checks_cap_before_availability() {
        let mut input = 5u32.to_be_bytes().to_vec();
        input.extend_from_slice(b"abc");
        let mut r = Reader::new(&input);
        assert_eq!(
            r.read_bytes(4),
            Err(DecodeError::LengthTooLarge { len: 5, max: 4 })
        );
        let mut r = Reader::new(&input);
        assert_eq!(
            r.read_bytes(8),
            Err(DecodeError::UnexpectedEnd {
                needed: 5,
                remaining: 3
            })
        );
    }

    #[test]
    fn decode_vec_does_not_trust_the_count() {
        let input = 1_000_000u32.to_be_bytes();
        let mut r = Reader::new(&input);
        let got: Result<Vec<u64>, _> = decode_vec(&mut r, usize::MAX);
        assert!(matches!(got, Err(DecodeError::UnexpectedEnd { .. })));
    }

    #[test]
    fn option_rejects_unknown_tag() {
        assert_eq!(
            Option::<u8>::from_bytes(&[2, 0]),
            Err(DecodeError::InvalidTag {
                what: "option",
                tag: 2
            })
        );
    }
}
