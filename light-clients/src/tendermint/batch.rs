//! Commit-signature checking with ed25519 batch verification (ZIP-215).
//!
//! [`BatchVotingPowerCalculator`] is a drop-in replacement for the verifier crate's
//! `ProdVotingPowerCalculator`. It reaches the same verdict on every input:
//!
//! 1. It walks the commit exactly as the reference does (votes sorted by validator address,
//!    duplicate votes refused, validators taken in set order, early stop once the threshold
//!    is reached), but without checking signatures, and records which signature the
//!    reference would have checked at each step, with which validator key, in which order.
//! 2. It checks all those signatures at once with `ed25519_consensus::batch::Verifier`.
//! 3. If the batch fails it replays the recorded checks one by one with the reference's
//!    single verifier and reports the first bad one, which is the one the reference would
//!    have stopped at; the walk before that point does not depend on signature validity,
//!    because the reference stops at the first bad signature.
//!
//! ed25519-consensus implements ZIP-215, under which a batch of valid signatures always
//! passes and single and batch verification accept the same signatures; so the verdict is
//! the single-verification verdict. A batch containing an invalid signature passes only
//! with negligible probability, over the batch coefficients.
//!
//! The batch coefficients must be unpredictable to whoever chose the signatures, but the
//! hub may not use randomness (every validator must reach the same verdict). They come
//! from ChaCha20 seeded with SHA-256 of the whole batch (every key, signature and message,
//! length-prefixed): changing any input changes every coefficient, which is the
//! Fiat-Shamir argument behind deterministic batch verification (as in ed25519-dalek's
//! `batch_deterministic`).

// The error type is the verifier trait's, not ours to shrink.
#![allow(clippy::result_large_err)]

use ed25519_consensus::{batch, Signature as EdSignature, VerificationKeyBytes};
use rand_chacha::{rand_core::SeedableRng, ChaCha20Rng};
use sha2::{Digest, Sha256};
use tendermint::{
    account,
    block::CommitSig,
    crypto::default::signature::Verifier as DefaultSignatureVerifier,
    validator,
    vote::{SignedVote, ValidatorIndex, Vote},
    PublicKey,
};
use tendermint_light_client_verifier::{
    errors::VerificationError,
    operations::{voting_power::VotingPowerTally, VotingPowerCalculator},
    types::{SignedHeader, TrustThreshold, ValidatorSet},
};

/// A `VotingPowerCalculator` that checks commit signatures with ed25519 batch verification
/// and gives the same verdicts as the reference `ProdVotingPowerCalculator`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BatchVotingPowerCalculator;

/// A non-absent, non-nil vote of the commit, as the reference builds it.
struct CommitVote {
    validator_id: account::Id,
    signed_vote: SignedVote,
}

/// One signature check the reference would perform: vote `vote` with `validator`'s key.
struct Check<'a> {
    vote: usize,
    validator: &'a validator::Info,
}

/// `tallied / total > numerator / denominator`, without the overflow of the reference's
/// `u64` products.
pub(crate) fn is_enough_power(tallied: u64, total: u64, threshold: &TrustThreshold) -> bool {
    u128::from(tallied) * u128::from(threshold.denominator())
        > u128::from(total) * u128::from(threshold.numerator())
}

fn commit_votes(signed_header: &SignedHeader) -> Result<Vec<CommitVote>, VerificationError> {
    let commit = &signed_header.commit;
    let mut votes = Vec::with_capacity(commit.signatures.len());
    for (idx, commit_sig) in commit.signatures.iter().enumerate() {
        let (validator_address, timestamp, signature) = match commit_sig {
            CommitSig::BlockIdFlagCommit {
                validator_address,
                timestamp,
                signature,
            } => (*validator_address, *timestamp, signature),
            CommitSig::BlockIdFlagAbsent | CommitSig::BlockIdFlagNil { .. } => continue,
        };
        // More than 2^31 signatures cannot be indexed; the reference would abort here.
        let validator_index = ValidatorIndex::try_from(idx).map_err(|_| {
            VerificationError::mismatch_pre_commit_length(commit.signatures.len(), idx)
        })?;
        let vote = Vote {
            vote_type: tendermint::vote::Type::Precommit,
            height: commit.height,
            round: commit.round,
            block_id: Some(commit.block_id),
            timestamp: Some(timestamp),
            validator_address,
            validator_index,
            signature: signature.clone(),
            extension: Default::default(),
            extension_signature: None,
        };
        let signed_vote = SignedVote::from_vote(vote, signed_header.header.chain_id.clone())
            .ok_or_else(VerificationError::missing_signature)?;
        votes.push(CommitVote {
            validator_id: validator_address,
            signed_vote,
        });
    }
    votes.sort_by_key(|v| v.validator_id);
    if let Some(pair) = votes
        .windows(2)
        .find(|pair| matches!(pair, [a, b] if a.validator_id == b.validator_id))
    {
        if let Some(first) = pair.first() {
            return Err(VerificationError::duplicate_validator(first.validator_id));
        }
    }
    Ok(votes)
}

/// The reference tally over one validator set, without signature checks; appends to
/// `checks` every signature the reference would verify, in its order.
fn walk<'a>(
    votes: &[CommitVote],
    scheduled: &mut [bool],
    checks: &mut Vec<Check<'a>>,
    set: &'a ValidatorSet,
    threshold: TrustThreshold,
    total: u64,
) -> Result<VotingPowerTally, VerificationError> {
    let mut tally = VotingPowerTally {
        total,
        tallied: 0,
        trust_threshold: threshold,
    };
    let mut counted = vec![false; votes.len()];
    for validator in set.validators() {
        let Ok(idx) = votes.binary_search_by_key(&validator.address, |v| v.validator_id) else {
            continue;
        };
        if let Some(done) = scheduled.get_mut(idx) {
            if !*done {
                *done = true;
                checks.push(Check {
                    vote: idx,
                    validator,
                });
            }
        }
        // Two set entries with one address would count one vote twice.
        match counted.get_mut(idx) {
            Some(seen) if *seen => {
                return Err(VerificationError::duplicate_validator(validator.address))
            }
            Some(seen) => *seen = true,
            None => continue,
        }
        tally.tallied = tally.tallied.saturating_add(validator.power());
        if is_enough_power(tally.tallied, tally.total, &threshold) {
            break;
        }
    }
    Ok(tally)
}

fn sign_bytes(vote: &CommitVote) -> Vec<u8> {
    // Encoding into a Vec grows it as needed and cannot fail.
    let mut buf = Vec::with_capacity(166);
    let _ = vote.signed_vote.sign_bytes_into(&mut buf);
    buf
}

/// Batch-verify `(key, signature, message)` triples; `false` if any is not an ed25519
/// triple of the right sizes or if the batch equation fails.
fn batch_ok(items: &[(&validator::Info, &tendermint::Signature, Vec<u8>)]) -> bool {
    let mut triples = Vec::with_capacity(items.len());
    for (validator, signature, msg) in items {
        let PublicKey::Ed25519(key) = &validator.pub_key else {
            // Other key kinds are checked singly: let the replay judge them.
            return false;
        };
        triples.push((key.as_bytes(), signature.as_bytes(), msg.as_slice()));
    }
    verify_ed25519_batch(&triples)
}

impl BatchVotingPowerCalculator {
    fn tallies(
        &self,
        signed_header: &SignedHeader,
        sets: &[(&ValidatorSet, TrustThreshold)],
    ) -> Result<Vec<VotingPowerTally>, VerificationError> {
        let votes = commit_votes(signed_header)?;
        let mut scheduled = vec![false; votes.len()];
        let mut checks = Vec::new();
        let mut tallies = Vec::with_capacity(sets.len());
        let mut walk_error = None;
        for (set, threshold) in sets {
            let total = self.total_power_of(set);
            match walk(&votes, &mut scheduled, &mut checks, set, *threshold, total) {
                Ok(tally) => tallies.push(tally),
                Err(e) => {
                    walk_error = Some(e);
                    break;
                }
            }
        }
        let mut items = Vec::with_capacity(checks.len());
        for check in &checks {
            if let Some(vote) = votes.get(check.vote) {
                items.push((
                    check.validator,
                    vote.signed_vote.signature(),
                    sign_bytes(vote),
                ));
            }
        }
        if !batch_ok(&items) {
            for (validator, signature, msg) in &items {
                if validator
                    .verify_signature::<DefaultSignatureVerifier>(msg, signature)
                    .is_err()
                {
                    return Err(VerificationError::invalid_signature(
                        signature.as_bytes().to_vec(),
                        Box::new((*validator).clone()),
                        msg.clone(),
                    ));
                }
            }
            // Every signature passed singly: single verification is the rule, accept.
        }
        match walk_error {
            Some(e) => Err(e),
            None => Ok(tallies),
        }
    }
}

impl VotingPowerCalculator for BatchVotingPowerCalculator {
    fn total_power_of(&self, validator_set: &ValidatorSet) -> u64 {
        validator_set
            .validators()
            .iter()
            .fold(0u64, |total, v| total.saturating_add(v.power()))
    }

    fn voting_power_in(
        &self,
        signed_header: &SignedHeader,
        validator_set: &ValidatorSet,
        trust_threshold: TrustThreshold,
    ) -> Result<VotingPowerTally, VerificationError> {
        let tallies = self.tallies(signed_header, &[(validator_set, trust_threshold)])?;
        tallies
            .first()
            .copied()
            .ok_or_else(VerificationError::no_signature_for_commit)
    }

    fn voting_power_in_sets(
        &self,
        signed_header: &SignedHeader,
        first_set: (&ValidatorSet, TrustThreshold),
        second_set: (&ValidatorSet, TrustThreshold),
    ) -> Result<(VotingPowerTally, VotingPowerTally), VerificationError> {
        let tallies = self.tallies(signed_header, &[first_set, second_set])?;
        match tallies.as_slice() {
            [first, second] => Ok((*first, *second)),
            _ => Err(VerificationError::no_signature_for_commit()),
        }
    }

    // The trait's defaults compare with `is_enough_power`, whose u64 products can overflow;
    // these compare in u128 and otherwise behave the same.
    fn check_enough_trust_and_signers(
        &self,
        untrusted_header: &SignedHeader,
        trusted_validators: &ValidatorSet,
        trust_threshold: TrustThreshold,
        untrusted_validators: &ValidatorSet,
    ) -> Result<(), VerificationError> {
        let (trusted, untrusted) = self.voting_power_in_sets(
            untrusted_header,
            (trusted_validators, trust_threshold),
            (untrusted_validators, TrustThreshold::TWO_THIRDS),
        )?;
        if !is_enough_power(trusted.tallied, trusted.total, &trusted.trust_threshold) {
            return Err(VerificationError::not_enough_trust(trusted));
        }
        if !is_enough_power(
            untrusted.tallied,
            untrusted.total,
            &untrusted.trust_threshold,
        ) {
            return Err(VerificationError::insufficient_signers_overlap(untrusted));
        }
        Ok(())
    }

    fn check_signers_overlap(
        &self,
        untrusted_header: &SignedHeader,
        untrusted_validators: &ValidatorSet,
    ) -> Result<(), VerificationError> {
        let tally = self.voting_power_in(
            untrusted_header,
            untrusted_validators,
            TrustThreshold::TWO_THIRDS,
        )?;
        if is_enough_power(tally.tallied, tally.total, &tally.trust_threshold) {
            Ok(())
        } else {
            Err(VerificationError::insufficient_signers_overlap(tally))
        }
    }
}

/// Verify one ed25519 signature with ZIP-215 rules (ed25519-consensus), singly.
/// Plain entry for vectors, fuzzing and benchmarks.
pub fn verify_ed25519_single(public_key: &[u8], signature: &[u8], msg: &[u8]) -> bool {
    let Ok(key) = <[u8; 32]>::try_from(public_key) else {
        return false;
    };
    let Ok(sig) = <[u8; 64]>::try_from(signature) else {
        return false;
    };
    ed25519_consensus::VerificationKey::try_from(key)
        .and_then(|vk| vk.verify(&EdSignature::from(sig), msg))
        .is_ok()
}

/// Verify ed25519 signatures as one deterministic batch (same seeding as commit checks).
/// `true` iff the batch passes; under ZIP-215 that is iff every signature verifies singly.
/// Items with a key or signature of the wrong length make the batch fail.
pub fn verify_ed25519_batch(items: &[(&[u8], &[u8], &[u8])]) -> bool {
    let mut verifier = batch::Verifier::new();
    let mut transcript = Sha256::new();
    transcript.update(b"junction/tendermint/commit-batch/v1");
    for (public_key, signature, msg) in items {
        let Ok(key) = <[u8; 32]>::try_from(*public_key) else {
            return false;
        };
        let Ok(sig) = <[u8; 64]>::try_from(*signature) else {
            return false;
        };
        for part in [&key[..], &sig[..], msg] {
            transcript.update((part.len() as u64).to_be_bytes());
            transcript.update(part);
        }
        verifier.queue((
            VerificationKeyBytes::from(key),
            EdSignature::from(sig),
            *msg,
        ));
    }
    let seed: [u8; 32] = transcript.finalize().into();
    verifier.verify(ChaCha20Rng::from_seed(seed)).is_ok()
}
