//! Domain-separated SHA-256.
//!
//! `tagged_hash(tag, data) = SHA256(SHA256(tag) || SHA256(tag) || data)`, where `tag`
//! is the ASCII string of a [`HashTag`] (the construction of BIP-340). Two values of
//! different kinds can never share a hash, even when their encodings are equal.
//! The message log uses plain RFC 6962 hashing instead (see [`crate::merkle`]).

use sha2::{Digest, Sha256};

/// A 32-byte hash.
pub type Hash32 = [u8; 32];

/// The domain of a tagged hash. Each tag names exactly one kind of hashed value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HashTag {
    /// The canonical encoding of a `BlockHeader` (the block id).
    BlockHeader,
    /// The canonical encoding of a `TxBody` (the body id, independent of the signature).
    TxBody,
    /// The canonical encoding of a `SignedTx` (the transaction id).
    TxEnvelope,
    /// The canonical encoding of a `Checkpoint` (what validators attest to).
    Checkpoint,
    /// The canonical encoding of a `Packet` (the packet identity).
    Packet,
    /// One key/value entry of the hub state.
    StateEntry,
    /// The root of the hub state (the app hash).
    StateRoot,
    /// The canonical encoding of a consensus validator set.
    ValidatorSet,
    /// The canonical encoding of an attestation set (secp256k1 keys with powers).
    AttestationSet,
    /// An ed25519 public key, to derive an account address.
    Address,
    /// The canonical encoding of a `TxBody`, as the message an account signs.
    TxSignBytes,
    /// The transactions of a block, as committed by the header's `tx_root`.
    BlockBody,
    /// One entry of the message log, before it becomes an RFC 6962 leaf.
    LogEntry,
    /// A packet key (source chain, source app, destination chain, sequence).
    PacketKey,
    /// What a destination gateway stores once a packet ran (or its app reverted).
    AckCommitment,
    /// The registered identity of a log entry's target (for EVM: the EIP-155 chain id and
    /// the gateway address), so that no other contract can act on the entry.
    TargetBinding,
    /// A light-client proof check a node remembered as passed (a local memo key; it never
    /// leaves the node and nothing on chain commits to it).
    ProofVerdict,
}

impl HashTag {
    /// Every tag, in declaration order.
    pub const ALL: [HashTag; 17] = [
        HashTag::BlockHeader,
        HashTag::TxBody,
        HashTag::TxEnvelope,
        HashTag::Checkpoint,
        HashTag::Packet,
        HashTag::StateEntry,
        HashTag::StateRoot,
        HashTag::ValidatorSet,
        HashTag::AttestationSet,
        HashTag::Address,
        HashTag::TxSignBytes,
        HashTag::BlockBody,
        HashTag::LogEntry,
        HashTag::PacketKey,
        HashTag::AckCommitment,
        HashTag::TargetBinding,
        HashTag::ProofVerdict,
    ];

    /// The ASCII tag string hashed into the prefix.
    pub fn as_str(&self) -> &'static str {
        match self {
            HashTag::BlockHeader => "junction/block-header/v1",
            HashTag::TxBody => "junction/tx-body/v1",
            HashTag::TxEnvelope => "junction/tx-envelope/v1",
            HashTag::Checkpoint => "junction/checkpoint/v1",
            HashTag::Packet => "junction/packet/v1",
            HashTag::StateEntry => "junction/state-entry/v1",
            HashTag::StateRoot => "junction/state-root/v1",
            HashTag::ValidatorSet => "junction/validator-set/v1",
            HashTag::AttestationSet => "junction/attestation-set/v1",
            HashTag::Address => "junction/address/v1",
            HashTag::TxSignBytes => "junction/tx-sign-bytes/v1",
            HashTag::BlockBody => "junction/block-body/v1",
            HashTag::LogEntry => "junction/log-entry/v1",
            HashTag::PacketKey => "junction/packet-key/v1",
            HashTag::AckCommitment => "junction/ack-commitment/v1",
            HashTag::TargetBinding => "junction/target-binding/v1",
            HashTag::ProofVerdict => "junction/proof-verdict/v1",
        }
    }

    fn prefixed_hasher(self) -> Sha256 {
        let tag_hash = Sha256::digest(self.as_str().as_bytes());
        let mut hasher = Sha256::new();
        hasher.update(tag_hash);
        hasher.update(tag_hash);
        hasher
    }
}

impl core::fmt::Display for HashTag {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `SHA256(SHA256(tag) || SHA256(tag) || data)`.
pub fn tagged_hash(tag: HashTag, data: &[u8]) -> Hash32 {
    tagged_hash_parts(tag, &[data])
}

/// The tagged hash of the concatenation of `parts` (no separators or lengths are
/// added: callers hash canonical encodings, which are self-delimiting).
pub fn tagged_hash_parts(tag: HashTag, parts: &[&[u8]]) -> Hash32 {
    let mut hasher = tag.prefixed_hasher();
    for part in parts {
        hasher.update(part);
    }
    hasher.finalize().into()
}

/// Plain SHA-256 (used by the RFC 6962 log and by tag prefixes).
pub fn sha256(data: &[u8]) -> Hash32 {
    Sha256::digest(data).into()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn tag_strings_are_unique_and_versioned() {
        let mut seen = std::collections::BTreeSet::new();
        for tag in HashTag::ALL {
            assert!(seen.insert(tag.as_str()), "duplicate tag {tag}");
            assert!(tag.as_str().starts_with("junction/"));
            assert!(tag.as_str().ends_with("/v1"));
        }
    }

    #[test]
    fn tagged_hash_matches_its_definition() {
        let tag = HashTag::Packet;
        let t = sha256(tag.as_str().as_bytes());
        let mut pre = Vec::new();
        pre.extend_from_slice(&t);
        pre.extend_from_slice(&t);
        pre.extend_from_slice(b"abc");
        assert_eq!(tagged_hash(tag, b"abc"), sha256(&pre));
        assert_eq!(
            tagged_hash_parts(tag, &[b"a", b"", b"bc"]),
            tagged_hash(tag, b"abc")
        );
    }

    #[test]
    fn tags_separate_domains() {
        assert_ne!(
            tagged_hash(HashTag::TxBody, b"x"),
            tagged_hash(HashTag::TxSignBytes, b"x")
        );
    }
}
