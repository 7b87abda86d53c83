//! Deterministic generator of validly signed Tendermint light blocks, for tests and
//! benchmarks. Keys come from seeds (SHA-256 of the seed and the validator index), so the
//! same arguments always give the same block, byte for byte.

use ed25519_consensus::SigningKey;
use sha2::{Digest, Sha256};
use tendermint::{
    account,
    block::{self, parts, CommitSig, Height, Round},
    chain, validator,
    vote::{self, ValidatorIndex, Vote},
    AppHash, Hash, PublicKey, Signature,
};
use tendermint_light_client_verifier::types::{LightBlock, PeerId, ValidatorSet};

use super::client::{to_tm_time, verify_commit, ClientConfig, Engine, Header, TendermintError};
use crate::Timestamp;

/// Voting power given to each generated validator.
pub const VALIDATOR_POWER: u64 = 10;

/// `n` signing keys derived from `seed`.
pub fn validator_keys(seed: u64, n: usize) -> Vec<SigningKey> {
    (0..n)
        .map(|i| {
            let mut h = Sha256::new();
            h.update(b"junction/tendermint/testkit/key");
            h.update(seed.to_be_bytes());
            h.update((i as u64).to_be_bytes());
            let bytes: [u8; 32] = h.finalize().into();
            SigningKey::from(bytes)
        })
        .collect()
}

/// The validator set of `keys`, each with `power`.
pub fn validator_set(keys: &[SigningKey], power: u64) -> Result<ValidatorSet, TendermintError> {
    let power = vote::Power::try_from(power).map_err(|_| TendermintError::VotingPowerTooLarge {
        max: super::client::MAX_TOTAL_VOTING_POWER,
    })?;
    let infos = keys
        .iter()
        .map(|k| validator::Info::new(PublicKey::from(k.verification_key()), power))
        .collect();
    Ok(ValidatorSet::without_proposer(infos))
}

fn hash_of(parts: &[&[u8]]) -> Hash {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    Hash::Sha256(h.finalize().into())
}

/// The validator set of `keys` with one power each (`powers` shorter than `keys` gives
/// the remaining keys [`VALIDATOR_POWER`]).
pub fn weighted_validator_set(
    keys: &[SigningKey],
    powers: &[u64],
) -> Result<ValidatorSet, TendermintError> {
    let mut infos = Vec::with_capacity(keys.len());
    for (i, k) in keys.iter().enumerate() {
        let p = powers.get(i).copied().unwrap_or(VALIDATOR_POWER);
        let power = vote::Power::try_from(p).map_err(|_| TendermintError::VotingPowerTooLarge {
            max: super::client::MAX_TOTAL_VOTING_POWER,
        })?;
        infos.push(validator::Info::new(
            PublicKey::from(k.verification_key()),
            power,
        ));
    }
    Ok(ValidatorSet::without_proposer(infos))
}

/// A light block at `height` signed by every key of `keys` (all with
/// [`VALIDATOR_POWER`]), naming `next_keys` as the next validator set.
pub fn signed_light_block(
    chain_id: &str,
    height: u64,
    time: Timestamp,
    keys: &[SigningKey],
    next_keys: &[SigningKey],
    app_hash: &[u8],
) -> Result<LightBlock, TendermintError> {
    signed_light_block_with_sets(
        chain_id,
        height,
        time,
        validator_set(keys, VALIDATOR_POWER)?,
        validator_set(next_keys, VALIDATOR_POWER)?,
        keys,
        app_hash,
    )
}

/// A light block at `height` for explicit validator sets, signed by those of `keys` that
/// are in `validators` (others absent).
pub fn signed_light_block_with_sets(
    chain_id: &str,
    height: u64,
    time: Timestamp,
    validators: ValidatorSet,
    next_validators: ValidatorSet,
    keys: &[SigningKey],
    app_hash: &[u8],
) -> Result<LightBlock, TendermintError> {
    let chain_id_tm =
        chain::Id::try_from(chain_id.to_owned()).map_err(|_| TendermintError::InvalidChainId)?;
    let tm_height =
        Height::try_from(height).map_err(|_| TendermintError::HeightOutOfRange { height })?;
    let tm_time = to_tm_time(time)?;
    let proposer = validators
        .validators()
        .first()
        .map(|v| v.address)
        .unwrap_or_else(|| account::Id::new([0; 20]));
    let prev = height.saturating_sub(1).to_be_bytes();
    let last_block_id = if height > 1 {
        Some(block::Id {
            hash: hash_of(&[b"block", chain_id.as_bytes(), &prev]),
            part_set_header: parts::Header::new(
                1,
                hash_of(&[b"parts", chain_id.as_bytes(), &prev]),
            )
            .map_err(|e| TendermintError::VerifierInternal(e.to_string()))?,
        })
    } else {
        None
    };
    let header = block::Header {
        version: block::header::Version { block: 11, app: 1 },
        chain_id: chain_id_tm.clone(),
        height: tm_height,
        time: tm_time,
        last_block_id,
        last_commit_hash: Some(hash_of(&[b"last_commit", &prev])),
        data_hash: Some(hash_of(&[b"data"])),
        validators_hash: validators.hash(),
        next_validators_hash: next_validators.hash(),
        consensus_hash: hash_of(&[b"consensus"]),
        app_hash: AppHash::try_from(app_hash.to_vec())
            .map_err(|e| TendermintError::VerifierInternal(e.to_string()))?,
        last_results_hash: Some(hash_of(&[b"results"])),
        evidence_hash: Some(hash_of(&[b"evidence"])),
        proposer_address: proposer,
    };
    let mut lb = LightBlock::new(
        block::signed_header::SignedHeader::new(
            header,
            block::Commit {
                height: tm_height,
                round: Round::default(),
                block_id: block::Id::default(),
                signatures: Vec::new(),
            },
        )
        .map_err(|e| TendermintError::VerifierInternal(e.to_string()))?,
        validators,
        next_validators,
        PeerId::new([0; 20]),
    );
    resign(&mut lb, keys)?;
    Ok(lb)
}

/// Recompute the commit of `block` (block id = header hash) and sign it with every key
/// whose validator is in the block's set, in set order; other entries are absent. Use it
/// after editing a header so that only the edit under test is wrong.
pub fn resign(block: &mut LightBlock, keys: &[SigningKey]) -> Result<(), TendermintError> {
    let header_hash = block.signed_header.header.hash();
    let block_id = block::Id {
        hash: header_hash,
        part_set_header: parts::Header::new(1, hash_of(&[b"parts", header_hash.as_bytes()]))
            .map_err(|e| TendermintError::VerifierInternal(e.to_string()))?,
    };
    let chain_id = block.signed_header.header.chain_id.clone();
    let height = block.signed_header.header.height;
    // Votes are a little after the header time, as in CometBFT.
    let vote_time = block
        .signed_header
        .header
        .time
        .checked_add(core::time::Duration::from_millis(1))
        .ok_or(TendermintError::TimeOutOfRange)?;
    let mut signatures = Vec::with_capacity(block.validators.validators().len());
    for (idx, v) in block.validators.validators().iter().enumerate() {
        let key = keys
            .iter()
            .find(|k| account::Id::from(PublicKey::from(k.verification_key())) == v.address);
        let Some(key) = key else {
            signatures.push(CommitSig::BlockIdFlagAbsent);
            continue;
        };
        let vote = Vote {
            vote_type: vote::Type::Precommit,
            height,
            round: Round::default(),
            block_id: Some(block_id),
            timestamp: Some(vote_time),
            validator_address: v.address,
            validator_index: ValidatorIndex::try_from(idx)
                .map_err(|e| TendermintError::VerifierInternal(e.to_string()))?,
            signature: None,
            extension: Vec::new(),
            extension_signature: None,
        };
        let sign_bytes = vote.into_signable_vec(chain_id.clone());
        let sig = key.sign(&sign_bytes);
        signatures.push(CommitSig::BlockIdFlagCommit {
            validator_address: v.address,
            timestamp: vote_time,
            signature: Signature::new(sig.to_bytes())
                .map_err(|e| TendermintError::VerifierInternal(e.to_string()))?,
        });
    }
    block.signed_header.commit = block::Commit {
        height,
        round: Round::default(),
        block_id,
        signatures,
    };
    Ok(())
}

/// A light block with `n_validators` validators from `seed`, all signing, the same set
/// next. This is the benchmark's input.
pub fn light_block(
    chain_id: &str,
    height: u64,
    time: Timestamp,
    n_validators: usize,
    seed: u64,
) -> Result<LightBlock, TendermintError> {
    let keys = validator_keys(seed, n_validators);
    signed_light_block(chain_id, height, time, &keys, &keys, &height.to_be_bytes())
}

/// Benchmark entry: verify the commit of `block` (more than 2/3 of its set) with our
/// batch calculator.
pub fn verify_commit_batch(block: &LightBlock) -> Result<(), TendermintError> {
    verify_commit(&block.signed_header, &block.validators, Engine::Batch)
}

/// Benchmark entry: the same check with the reference `ProdVerifier`.
pub fn verify_commit_reference(block: &LightBlock) -> Result<(), TendermintError> {
    verify_commit(&block.signed_header, &block.validators, Engine::Reference)
}

/// The client update that takes `block` from a trusted `trusted` block.
pub fn header_from(block: &LightBlock, trusted: &LightBlock) -> Header {
    Header {
        signed_header: block.signed_header.clone(),
        validator_set: block.validators.clone(),
        trusted_height: trusted.signed_header.header.height.value(),
        trusted_next_validator_set: trusted.next_validators.clone(),
    }
}

/// A client configuration for tests: trust 1/3, trusting period 14 days, unbonding 21
/// days, drift 10 s.
pub fn default_config(chain_id: &str) -> ClientConfig {
    const DAY: u64 = 86_400 * 1_000_000_000;
    ClientConfig {
        chain_id: chain_id.to_owned(),
        trust_numerator: 1,
        trust_denominator: 3,
        trusting_period_ns: 14 * DAY,
        unbonding_period_ns: 21 * DAY,
        max_clock_drift_ns: 10_000_000_000,
        max_consensus_states: super::client::DEFAULT_MAX_CONSENSUS_STATES,
    }
}

/// `wire` with one bit of `signed_header`'s first commit signature flipped where `wire`
/// carries it; `None` when the header has no signature or `wire` does not carry it.
pub fn flip_commit_signature(
    wire: &[u8],
    signed_header: &tendermint::block::signed_header::SignedHeader,
) -> Option<Vec<u8>> {
    let sig = signed_header
        .commit
        .signatures
        .iter()
        .find_map(|s| match s {
            tendermint::block::CommitSig::BlockIdFlagCommit {
                signature: Some(sig),
                ..
            } => Some(sig.as_bytes()),
            _ => None,
        })?;
    let at = wire.windows(sig.len()).position(|w| w == sig)?;
    let mut flipped = wire.to_vec();
    flipped[at] ^= 1;
    Some(flipped)
}
