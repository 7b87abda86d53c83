//! Bytes as they travel in JSON: lowercase hex strings, read with or without a `0x`
//! prefix.

use std::fmt;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

fn decode(s: &str) -> Result<Vec<u8>, hex::FromHexError> {
    hex::decode(s.strip_prefix("0x").unwrap_or(s))
}

/// Bytes of any length as a hex string.
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HexBytes(pub Vec<u8>);

impl fmt::Debug for HexBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{}", hex::encode(&self.0))
    }
}

impl From<Vec<u8>> for HexBytes {
    fn from(b: Vec<u8>) -> Self {
        Self(b)
    }
}

impl Serialize for HexBytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for HexBytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        decode(&s)
            .map(Self)
            .map_err(|e| D::Error::custom(format!("not hex: {e}")))
    }
}

impl std::str::FromStr for HexBytes {
    type Err = String;

    /// Reads hex of any length (command-line arguments).
    fn from_str(s: &str) -> Result<Self, String> {
        decode(s.trim())
            .map(Self)
            .map_err(|e| format!("not hex: {e}"))
    }
}

/// Exactly `N` bytes as a hex string (a hash, an address, a signature).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Hex<const N: usize>(pub [u8; N]);

impl<const N: usize> fmt::Debug for Hex<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{}", hex::encode(self.0))
    }
}

impl<const N: usize> From<[u8; N]> for Hex<N> {
    fn from(b: [u8; N]) -> Self {
        Self(b)
    }
}

impl<const N: usize> Serialize for Hex<N> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(self.0))
    }
}

impl<'de, const N: usize> Deserialize<'de> for Hex<N> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        let bytes = decode(&s).map_err(|e| D::Error::custom(format!("not hex: {e}")))?;
        let len = bytes.len();
        <[u8; N]>::try_from(bytes)
            .map(Self)
            .map_err(|_| D::Error::custom(format!("must be {N} bytes, got {len}")))
    }
}

impl<const N: usize> std::str::FromStr for Hex<N> {
    type Err = String;

    /// Reads `N` bytes of hex (command-line arguments).
    fn from_str(s: &str) -> Result<Self, String> {
        let bytes = decode(s.trim()).map_err(|e| format!("not hex: {e}"))?;
        let len = bytes.len();
        <[u8; N]>::try_from(bytes)
            .map(Self)
            .map_err(|_| format!("must be {N} bytes, got {len}"))
    }
}

/// A 32-byte hash as hex.
pub type Hex32 = Hex<32>;

/// Reads an optional unsigned integer given as a JSON number or as a decimal string
/// (command lines and shell scripts pass either).
pub fn opt_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum NumOrText<'a> {
        Num(u64),
        Text(std::borrow::Cow<'a, str>),
    }
    match Option::<NumOrText<'de>>::deserialize(d)? {
        None => Ok(None),
        Some(NumOrText::Num(n)) => Ok(Some(n)),
        Some(NumOrText::Text(s)) => s
            .parse()
            .map(Some)
            .map_err(|_| D::Error::custom("must be a non-negative integer")),
    }
}

/// [`opt_u64`] for a required integer.
pub fn req_u64<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    opt_u64(d)?.ok_or_else(|| D::Error::custom("must be a non-negative integer"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn hex_reads_with_or_without_prefix_and_checks_length() {
        let a: Hex<2> = serde_json::from_str("\"0xabcd\"").unwrap();
        let b: Hex<2> = serde_json::from_str("\"abcd\"").unwrap();
        assert_eq!(a, b);
        assert_eq!(serde_json::to_string(&a).unwrap(), "\"abcd\"");
        assert_eq!("0xabcd".parse::<Hex<2>>().unwrap(), a);
        assert_eq!(
            "abcd".parse::<Hex<3>>().unwrap_err(),
            "must be 3 bytes, got 2"
        );
        let short = serde_json::from_str::<Hex<3>>("\"abcd\"").unwrap_err();
        assert!(
            short.to_string().contains("must be 3 bytes, got 2"),
            "{short}"
        );
        let bad = serde_json::from_str::<HexBytes>("\"zz\"").unwrap_err();
        assert!(bad.to_string().contains("not hex"), "{bad}");
    }

    #[test]
    fn integers_come_as_numbers_or_decimal_text() {
        #[derive(Deserialize)]
        struct P {
            #[serde(default, deserialize_with = "opt_u64")]
            n: Option<u64>,
        }
        let p: P = serde_json::from_str(r#"{"n": 7}"#).unwrap();
        assert_eq!(p.n, Some(7));
        let p: P = serde_json::from_str(r#"{"n": "8"}"#).unwrap();
        assert_eq!(p.n, Some(8));
        let p: P = serde_json::from_str(r#"{}"#).unwrap();
        assert_eq!(p.n, None);
        let p: P = serde_json::from_str(r#"{"n": null}"#).unwrap();
        assert_eq!(p.n, None);
        assert!(serde_json::from_str::<P>(r#"{"n": -1}"#).is_err());
        assert!(serde_json::from_str::<P>(r#"{"n": "x"}"#).is_err());
    }
}
