//! Account addresses and chain ids: the names everything else in the protocol refers to.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::hash::{tagged_hash, HashTag};

/// Most bytes in a chain id.
pub const MAX_CHAIN_ID_LEN: usize = 64;

/// An account address: the first 20 bytes of a tagged hash of the account's public key.
pub type Address = [u8; 20];

/// The address of an ed25519 public key: the first 20 bytes of
/// `tagged_hash(Address, pubkey)`.
pub fn address_from_ed25519(pubkey: &[u8; 32]) -> Address {
    let digest = tagged_hash(HashTag::Address, pubkey);
    let mut out = [0u8; 20];
    for (dst, src) in out.iter_mut().zip(digest.iter()) {
        *dst = *src;
    }
    out
}

/// Why a string is not a valid chain id.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ChainIdError {
    /// The chain id is empty.
    #[error("chain id is empty")]
    Empty,
    /// The chain id is longer than [`MAX_CHAIN_ID_LEN`] bytes.
    #[error("chain id is {len} bytes long, the maximum is {max}")]
    TooLong {
        /// Its length in bytes.
        len: usize,
        /// The maximum.
        max: usize,
    },
    /// The chain id holds a byte outside `[a-z0-9._-]`.
    #[error("chain id byte {byte:#04x} at position {position} is not one of [a-z0-9._-]")]
    InvalidByte {
        /// Offset of the first offending byte.
        position: usize,
        /// The byte.
        byte: u8,
    },
}

/// A chain identifier: 1 to [`MAX_CHAIN_ID_LEN`] bytes of `[a-z0-9._-]`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ChainId(String);

impl ChainId {
    /// Validates `s` as a chain id.
    pub fn new(s: impl Into<String>) -> Result<Self, ChainIdError> {
        let s = s.into();
        Self::check(s.as_bytes())?;
        Ok(Self(s))
    }

    /// Checks the chain-id rules on raw bytes.
    pub fn check(bytes: &[u8]) -> Result<(), ChainIdError> {
        if bytes.is_empty() {
            return Err(ChainIdError::Empty);
        }
        if bytes.len() > MAX_CHAIN_ID_LEN {
            return Err(ChainIdError::TooLong {
                len: bytes.len(),
                max: MAX_CHAIN_ID_LEN,
            });
        }
        match bytes
            .iter()
            .position(|b| !matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'.' | b'_' | b'-'))
        {
            Some(position) => Err(ChainIdError::InvalidByte {
                position,
                byte: bytes.get(position).copied().unwrap_or(0),
            }),
            None => Ok(()),
        }
    }

    /// The chain id as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The chain id as an owned string.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl TryFrom<String> for ChainId {
    type Error = ChainIdError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::new(s)
    }
}

impl TryFrom<&str> for ChainId {
    type Error = ChainIdError;
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Self::new(s)
    }
}

impl core::str::FromStr for ChainId {
    type Err = ChainIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl From<ChainId> for String {
    fn from(id: ChainId) -> Self {
        id.0
    }
}

impl AsRef<str> for ChainId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl core::fmt::Display for ChainId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.0)
    }
}
