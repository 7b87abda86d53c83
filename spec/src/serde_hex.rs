//! Serde helpers for the human-readable (JSON) form of wire types: byte arrays and
//! byte strings as lowercase hex strings, `u128` as a decimal string (JSON numbers
//! lose precision above 2^53 in many readers). Decoding accepts upper- or lowercase hex.
//!
//! Use with `#[serde(with = "junction_spec::serde_hex::array")]` and friends.

/// Fixed-size byte arrays (`[u8; N]`, including hashes and addresses) as hex strings.
pub mod array {
    use serde::{de::Error as _, Deserialize, Deserializer, Serializer};

    /// Serializes `bytes` as a hex string.
    pub fn serialize<S: Serializer, const N: usize>(
        bytes: &[u8; N],
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&hex::encode(bytes))
    }

    /// Deserializes a hex string of exactly `2 * N` digits.
    pub fn deserialize<'de, D: Deserializer<'de>, const N: usize>(
        deserializer: D,
    ) -> Result<[u8; N], D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        let mut out = [0u8; N];
        hex::decode_to_slice(s.as_bytes(), &mut out).map_err(D::Error::custom)?;
        Ok(out)
    }
}

/// Variable-length byte strings (`Vec<u8>`) as hex strings.
pub mod bytes {
    use serde::{de::Error as _, Deserialize, Deserializer, Serializer};

    /// Serializes `bytes` as a hex string.
    pub fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&hex::encode(bytes))
    }

    /// Deserializes a hex string.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        hex::decode(s.as_bytes()).map_err(D::Error::custom)
    }
}

/// `u128` as a decimal string.
pub mod u128_str {
    use serde::{de::Error as _, Deserialize, Deserializer, Serializer};

    /// Serializes `value` as a decimal string.
    pub fn serialize<S: Serializer>(value: &u128, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(value)
    }

    /// Deserializes a decimal string of ASCII digits only (no sign, no spaces).
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u128, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(D::Error::custom("expected a decimal string of digits"));
        }
        s.parse::<u128>().map_err(D::Error::custom)
    }
}
