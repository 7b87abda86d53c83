//! The genesis ceremony: bringing a hub up from several organizations' machines.
//!
//! 1. Each organization runs `junction genesis join`: its home gets fresh keys (validator,
//!    attestation, member account) and a `config.toml` listening on its own address, and it
//!    writes a [`JoinFile`] signed by its validator key and its member key.
//! 2. One of them runs `junction genesis assemble` over every join file: each signature
//!    is checked, and the genesis (every validator at equal power, every organization a
//!    member of equal weight) and a peer list are written.
//! 3. Every organization runs `junction genesis verify` with the hash it was told out of
//!    band: it refuses a genesis with another hash, or one that does not name its own keys,
//!    and installs the genesis and its peers into its home.

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

use junction_spec::encoding::encode_str;
use junction_spec::{ChainId, OrgId};

use crate::config::{Genesis, GenesisGovernance, GenesisMember, GenesisValidator};
use crate::context::{PrivateKey, PublicKey, Signature};

/// The join file format version.
pub const JOIN_VERSION: u32 = 1;

/// Power of each validator and weight of each member in an assembled genesis.
pub const CEREMONY_POWER: u64 = 10;

/// Most organizations one ceremony takes.
pub const MAX_JOINS: usize = 128;

/// One organization's application to a hub's genesis.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct JoinFile {
    /// [`JOIN_VERSION`].
    pub version: u32,
    /// The hub's chain id.
    pub chain_id: String,
    /// The organization.
    pub org: OrgId,
    /// Its name.
    pub name: String,
    /// Its validator's ed25519 consensus key (hex).
    pub validator_key: String,
    /// Its validator's attestation address (hex).
    pub attestation_address: String,
    /// Its member account key (hex).
    pub member_key: String,
    /// Where its validator takes consensus connections.
    pub p2p: SocketAddr,
    /// Where it takes transaction gossip.
    pub gossip: SocketAddr,
    /// The validator key's signature over [`JoinFile::sign_bytes`] (hex): possession of
    /// the key it offers.
    pub validator_signature: String,
    /// The member key's signature over the same bytes (hex).
    pub member_signature: String,
}

/// Why a join file or a genesis is refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CeremonyError {
    /// A join file of another format version.
    #[error("join file of {org}: version {got}, this binary reads {JOIN_VERSION}")]
    Version {
        /// Whose.
        org: String,
        /// Its version.
        got: u32,
    },
    /// A join file for another hub.
    #[error("join file of {org} is for chain {got}, not {expected}")]
    WrongChain {
        /// Whose.
        org: String,
        /// Its chain.
        got: String,
        /// The ceremony's.
        expected: String,
    },
    /// A key or signature that does not decode.
    #[error("join file of {org}: {what} is not valid")]
    Malformed {
        /// Whose.
        org: String,
        /// Which field.
        what: &'static str,
    },
    /// A signature that does not verify.
    #[error("join file of {org}: the {which} signature does not verify")]
    BadSignature {
        /// Whose.
        org: String,
        /// `validator` or `member`.
        which: &'static str,
    },
    /// Two join files share an organization, a key or an address.
    #[error("two join files share {what} ({value})")]
    Duplicate {
        /// What is shared.
        what: &'static str,
        /// The value.
        value: String,
    },
    /// No join file, or too many.
    #[error("a genesis needs 1 to {MAX_JOINS} join files, got {0}")]
    Count(usize),
    /// The genesis is not the one the organization was told.
    #[error("the genesis hash is {got}, not the {expected} you were given: do not start on it")]
    HashMismatch {
        /// Its hash.
        got: String,
        /// The expected hash.
        expected: String,
    },
    /// The genesis does not name this home's keys.
    #[error("the genesis does not name this home's {0}")]
    NotNamed(&'static str),
    /// Anything else about the genesis.
    #[error("genesis: {0}")]
    Genesis(String),
}

impl JoinFile {
    /// What both keys sign: a domain prefix and every other field, length-prefixed.
    pub fn sign_bytes(&self) -> Vec<u8> {
        let mut out = b"junction/genesis-join/v1".to_vec();
        out.extend_from_slice(&self.version.to_be_bytes());
        for field in [
            self.chain_id.as_str(),
            self.org.as_str(),
            self.name.as_str(),
            self.validator_key.as_str(),
            self.attestation_address.as_str(),
            self.member_key.as_str(),
            &self.p2p.to_string(),
            &self.gossip.to_string(),
        ] {
            encode_str(field, &mut out);
        }
        out
    }

    /// A signed join file.
    #[allow(clippy::too_many_arguments)]
    pub fn signed(
        chain_id: &ChainId,
        org: OrgId,
        name: String,
        validator: &PrivateKey,
        attestation_address: String,
        member: &PrivateKey,
        p2p: SocketAddr,
        gossip: SocketAddr,
    ) -> Self {
        let mut j = JoinFile {
            version: JOIN_VERSION,
            chain_id: chain_id.as_str().to_string(),
            org,
            name,
            validator_key: hex::encode(validator.public_key().as_bytes()),
            attestation_address: attestation_address.trim_start_matches("0x").to_lowercase(),
            member_key: hex::encode(member.public_key().as_bytes()),
            p2p,
            gossip,
            validator_signature: String::new(),
            member_signature: String::new(),
        };
        let bytes = j.sign_bytes();
        j.validator_signature = hex::encode(validator.sign(&bytes).to_bytes());
        j.member_signature = hex::encode(member.sign(&bytes).to_bytes());
        j
    }

    /// Checks the version, the chain, the keys and both signatures.
    pub fn verify(&self, chain_id: &str) -> Result<(), CeremonyError> {
        let org = self.org.as_str().to_string();
        if self.version != JOIN_VERSION {
            return Err(CeremonyError::Version {
                org,
                got: self.version,
            });
        }
        if self.chain_id != chain_id {
            return Err(CeremonyError::WrongChain {
                org,
                got: self.chain_id.clone(),
                expected: chain_id.to_string(),
            });
        }
        let malformed = |what| CeremonyError::Malformed {
            org: org.clone(),
            what,
        };
        let key = |hex_key: &str, what| {
            hex::decode(hex_key)
                .ok()
                .and_then(|b| <[u8; 32]>::try_from(b).ok())
                .and_then(|b| PublicKey::from_bytes(b).ok())
                .ok_or_else(|| malformed(what))
        };
        let sig = |hex_sig: &str, what| {
            hex::decode(hex_sig)
                .ok()
                .and_then(|b| <[u8; 64]>::try_from(b).ok())
                .map(Signature::from_bytes)
                .ok_or_else(|| malformed(what))
        };
        let validator = key(&self.validator_key, "validator_key")?;
        let member = key(&self.member_key, "member_key")?;
        let address = hex::decode(&self.attestation_address)
            .ok()
            .filter(|b| b.len() == 20);
        if address.is_none() {
            return Err(malformed("attestation_address"));
        }
        let bytes = self.sign_bytes();
        if validator
            .verify(
                &bytes,
                &sig(&self.validator_signature, "validator_signature")?,
            )
            .is_err()
        {
            return Err(CeremonyError::BadSignature {
                org,
                which: "validator",
            });
        }
        if member
            .verify(&bytes, &sig(&self.member_signature, "member_signature")?)
            .is_err()
        {
            return Err(CeremonyError::BadSignature {
                org,
                which: "member",
            });
        }
        Ok(())
    }
}

/// Where each validator of an assembled genesis listens.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Peer {
    /// Its organization.
    pub org: OrgId,
    /// Its validator key (hex).
    pub validator_key: String,
    /// Consensus address.
    pub p2p: SocketAddr,
    /// Gossip address.
    pub gossip: SocketAddr,
}

/// Builds the genesis of `chain_id` from join files (each checked), at `genesis_time_ms`,
/// with the governance parameters of `template`; returns it with the peer list.
pub fn assemble(
    chain_id: &str,
    genesis_time_ms: u64,
    joins: &[JoinFile],
    template: GenesisGovernance,
) -> Result<(Genesis, Vec<Peer>), CeremonyError> {
    ChainId::new(chain_id).map_err(|e| CeremonyError::Genesis(e.to_string()))?;
    if joins.is_empty() || joins.len() > MAX_JOINS {
        return Err(CeremonyError::Count(joins.len()));
    }
    let mut seen = std::collections::BTreeSet::new();
    for j in joins {
        j.verify(chain_id)?;
        for (what, value) in [
            ("an organization", j.org.as_str().to_string()),
            ("a validator key", j.validator_key.clone()),
            ("an attestation address", j.attestation_address.clone()),
            ("a member key", j.member_key.clone()),
            ("a p2p address", j.p2p.to_string()),
            ("a gossip address", j.gossip.to_string()),
        ] {
            if !seen.insert((what, value.clone())) {
                return Err(CeremonyError::Duplicate { what, value });
            }
        }
    }
    let mut sorted: Vec<&JoinFile> = joins.iter().collect();
    sorted.sort_by(|a, b| a.org.as_str().cmp(b.org.as_str()));
    let genesis = Genesis {
        chain_id: chain_id.to_string(),
        genesis_time_ms,
        validators: sorted
            .iter()
            .map(|j| GenesisValidator {
                name: j.org.as_str().to_string(),
                pub_key: j.validator_key.clone(),
                power: CEREMONY_POWER,
                attestation_address: j.attestation_address.clone(),
            })
            .collect(),
        governance: GenesisGovernance {
            members: sorted
                .iter()
                .map(|j| GenesisMember {
                    org: j.org.clone(),
                    name: j.name.clone(),
                    weight: CEREMONY_POWER,
                    role: junction_spec::Role::Member,
                    keys: vec![j.member_key.clone()],
                })
                .collect(),
            ..template
        },
    };
    genesis.council().map_err(CeremonyError::Genesis)?;
    genesis.validator_set().map_err(CeremonyError::Genesis)?;
    let peers = sorted
        .iter()
        .map(|j| Peer {
            org: j.org.clone(),
            validator_key: j.validator_key.clone(),
            p2p: j.p2p,
            gossip: j.gossip,
        })
        .collect();
    Ok((genesis, peers))
}

/// An organization's check of the genesis it received: its hash is `expected_hash` (hex)
/// and it names this home's validator key, attestation address and member key. Returns
/// the hash.
pub fn verify(
    genesis: &Genesis,
    expected_hash: Option<&str>,
    validator_key: &str,
    attestation_address: &str,
    member_key: &str,
) -> Result<String, CeremonyError> {
    let hash = hex::encode(genesis.hash().map_err(CeremonyError::Genesis)?);
    if let Some(expected) = expected_hash {
        let expected = expected.trim_start_matches("0x").to_lowercase();
        if expected != hash {
            return Err(CeremonyError::HashMismatch {
                got: hash,
                expected,
            });
        }
    }
    let address = attestation_address.trim_start_matches("0x").to_lowercase();
    let Some(v) = genesis
        .validators
        .iter()
        .find(|v| v.pub_key == validator_key)
    else {
        return Err(CeremonyError::NotNamed("validator key"));
    };
    if v.attestation_address
        .trim_start_matches("0x")
        .to_lowercase()
        != address
    {
        return Err(CeremonyError::NotNamed("attestation address"));
    }
    if !genesis
        .governance
        .members
        .iter()
        .any(|m| m.keys.iter().any(|k| k == member_key))
    {
        return Err(CeremonyError::NotNamed("member key"));
    }
    Ok(hash)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::config::{AttestationKeyFile, KeyFile};

    fn join(i: u8) -> JoinFile {
        let v = KeyFile::generate("v").private_key().unwrap();
        let m = KeyFile::generate("m").private_key().unwrap();
        let a = AttestationKeyFile::generate();
        let addr = |port| SocketAddr::from(([192, 0, 2, i], port));
        JoinFile::signed(
            &ChainId::new("consortium").unwrap(),
            OrgId::new(format!("org{i}")).unwrap(),
            format!("Org {i}"),
            &v,
            a.address,
            &m,
            addr(26600),
            addr(26601),
        )
    }

    fn template() -> GenesisGovernance {
        GenesisGovernance::local(&[])
    }

    #[test]
    fn four_joins_assemble_into_a_genesis_every_one_verifies() {
        let joins: Vec<JoinFile> = (1..=4).map(join).collect();
        let (g, peers) = assemble("consortium", 1_000, &joins, template()).unwrap();
        assert_eq!(g.validators.len(), 4);
        assert_eq!(g.governance.members.len(), 4);
        assert_eq!(peers.len(), 4);
        let hash = hex::encode(g.hash().unwrap());
        for j in &joins {
            assert_eq!(
                verify(
                    &g,
                    Some(&hash),
                    &j.validator_key,
                    &j.attestation_address,
                    &j.member_key
                ),
                Ok(hash.clone())
            );
        }
        // The same joins in another order make the same genesis.
        let mut reversed = joins.clone();
        reversed.reverse();
        let (again, _) = assemble("consortium", 1_000, &reversed, template()).unwrap();
        assert_eq!(again.hash().unwrap(), g.hash().unwrap());
    }

    #[test]
    fn tampered_or_duplicated_joins_and_another_genesis_are_refused_by_name() {
        let joins: Vec<JoinFile> = (1..=3).map(join).collect();
        let mut tampered = joins.clone();
        tampered[1].p2p = SocketAddr::from(([203, 0, 113, 9], 26600));
        assert!(matches!(
            assemble("consortium", 1, &tampered, template()),
            Err(CeremonyError::BadSignature {
                which: "validator",
                ..
            })
        ));
        let mut dup = joins.clone();
        dup.push(joins[0].clone());
        assert!(matches!(
            assemble("consortium", 1, &dup, template()),
            Err(CeremonyError::Duplicate { .. })
        ));
        assert!(matches!(
            assemble("other", 1, &joins, template()),
            Err(CeremonyError::WrongChain { .. })
        ));
        let (g, _) = assemble("consortium", 1, &joins, template()).unwrap();
        let (other, _) = assemble("consortium", 2, &joins, template()).unwrap();
        let told = hex::encode(g.hash().unwrap());
        let j = &joins[0];
        assert!(matches!(
            verify(
                &other,
                Some(&told),
                &j.validator_key,
                &j.attestation_address,
                &j.member_key
            ),
            Err(CeremonyError::HashMismatch { .. })
        ));
        let outsider = join(9);
        assert_eq!(
            verify(
                &g,
                Some(&told),
                &outsider.validator_key,
                &j.attestation_address,
                &j.member_key
            ),
            Err(CeremonyError::NotNamed("validator key"))
        );
    }
}
