//! The Tendermint / CometBFT light client (ICS-07 style): trusted consensus states per
//! height, header updates checked with `tendermint-light-client-verifier` (trust level,
//! trusting period, clock drift, skipping verification), commit signatures checked with
//! [`BatchVotingPowerCalculator`], misbehaviour (conflicting headers, BFT-time violation)
//! that freezes the client, and ICS-23 proofs against a verified app hash.

use std::collections::BTreeMap;
use std::time::Duration;

use tendermint::{block::Height, chain, trust_threshold::TrustThresholdFraction, Hash, Time};
use tendermint_light_client_verifier::{
    errors::VerificationErrorDetail,
    operations::ProdCommitValidator,
    options::Options,
    predicates::ProdPredicates,
    types::{SignedHeader, TrustedBlockState, UntrustedBlockState, ValidatorSet},
    PredicateVerifier, ProdVerifier, Verdict, Verifier,
};
use thiserror::Error;

use super::batch::BatchVotingPowerCalculator;
use super::proof::{self, ProofError};
use crate::{ClientStatus, LightClient, NamedError, Timestamp};

/// Most validators accepted in one validator set (and signatures in one commit).
pub const MAX_VALIDATORS: usize = 1024;
/// CometBFT's bound on a validator set's total voting power (`MaxTotalVotingPower`).
pub const MAX_TOTAL_VOTING_POWER: u64 = (i64::MAX / 8) as u64;
/// Most path segments accepted by a membership proof.
pub const MAX_PATH_SEGMENTS: usize = 16;
/// Largest numerator or denominator of a trust level.
pub const MAX_TRUST_LEVEL_TERM: u64 = 1 << 32;
/// Consensus states kept when the configuration does not say.
pub const DEFAULT_MAX_CONSENSUS_STATES: usize = 256;

/// The verifier the client uses: the reference predicates and commit validator, with our
/// batch signature checking.
pub type BatchVerifier =
    PredicateVerifier<ProdPredicates, BatchVotingPowerCalculator, ProdCommitValidator>;

/// Which signature-checking engine runs a verification (the reference one is kept for
/// benchmarks and differential tests).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Engine {
    /// [`BatchVotingPowerCalculator`]: ed25519 batch verification with single fallback.
    #[default]
    Batch,
    /// The verifier crate's `ProdVerifier` (one signature at a time).
    Reference,
}

/// Why a Tendermint header, misbehaviour or proof was refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum TendermintError {
    /// The trust level is not a fraction in (0, 1] with bounded terms.
    #[error("invalid trust level {numerator}/{denominator}")]
    InvalidTrustLevel {
        /// Numerator given.
        numerator: u64,
        /// Denominator given.
        denominator: u64,
    },
    /// The trust level is below 1/3: one honest validator would not be guaranteed.
    #[error("trust level {numerator}/{denominator} is below 1/3")]
    TrustLevelBelowOneThird {
        /// Numerator given.
        numerator: u64,
        /// Denominator given.
        denominator: u64,
    },
    /// The trusting period is zero or not shorter than the unbonding period.
    #[error(
        "trusting period {trusting_ns} ns must be > 0 and < unbonding period {unbonding_ns} ns"
    )]
    InvalidTrustingPeriod {
        /// Trusting period in ns.
        trusting_ns: u64,
        /// Unbonding period in ns.
        unbonding_ns: u64,
    },
    /// The chain id is not a valid Tendermint chain id.
    #[error("invalid chain id")]
    InvalidChainId,
    /// A height is zero or beyond what Tendermint can represent.
    #[error("height {height} is out of range")]
    HeightOutOfRange {
        /// The height.
        height: u64,
    },
    /// A time is before the epoch or beyond year 9999.
    #[error("time is out of range")]
    TimeOutOfRange,
    /// The client is frozen; it refuses every update and proof.
    #[error("client is frozen at height {height}")]
    Frozen {
        /// Freeze height.
        height: u64,
    },
    /// No consensus state is stored at this height.
    #[error("no consensus state at height {height}")]
    ConsensusStateNotFound {
        /// The height asked for.
        height: u64,
    },
    /// The trusted validator set supplied with the header does not hash to the stored
    /// `next_validators_hash` of the trusted consensus state.
    #[error("trusted validator set does not match the stored next validators hash")]
    TrustedValidatorsMismatch,
    /// Too many validators (or commit signatures).
    #[error("{got} validators or signatures exceed the maximum {max}")]
    TooManyValidators {
        /// Count given.
        got: usize,
        /// Maximum.
        max: usize,
    },
    /// The total voting power of a set exceeds CometBFT's bound.
    #[error("total voting power exceeds {max}")]
    VotingPowerTooLarge {
        /// Maximum.
        max: u64,
    },
    /// A different consensus state is already stored at this height (submit misbehaviour).
    #[error("a different header was already verified at height {height}")]
    ConflictingConsensusState {
        /// Height.
        height: u64,
    },
    /// The header time is not between the stored neighbours' times (BFT time monotonicity).
    #[error("header time at height {height} breaks BFT time monotonicity with stored states")]
    TimeMonotonicityViolation {
        /// Height.
        height: u64,
    },
    /// The trusted state is older than the trusting period.
    #[error("trust expired at {expires_at} (now {now})")]
    TrustExpired {
        /// Expiry time (RFC 3339).
        expires_at: String,
        /// The current time given (RFC 3339).
        now: String,
    },
    /// The header's time is beyond `now + max_clock_drift`.
    #[error("header time {header_time} is from the future (now {now})")]
    HeaderFromTheFuture {
        /// Header time (RFC 3339).
        header_time: String,
        /// The current time given (RFC 3339).
        now: String,
    },
    /// Less than the trust level of the trusted validators signed (skipping needs bisection).
    #[error("not enough trust: {tallied} of {total} trusted voting power signed")]
    NotEnoughTrust {
        /// Power that signed.
        tallied: u64,
        /// Total trusted power.
        total: u64,
    },
    /// Not more than 2/3 of the header's own validator set signed.
    #[error("insufficient signers: {tallied} of {total} voting power signed")]
    InsufficientSignersOverlap {
        /// Power that signed.
        tallied: u64,
        /// Total power.
        total: u64,
    },
    /// One validator's vote appears twice (in the commit or through a repeated address).
    #[error("duplicate validator {address}")]
    DuplicateValidator {
        /// Validator address (hex).
        address: String,
    },
    /// A commit vote has no signature.
    #[error("missing signature")]
    MissingSignature,
    /// A commit signature does not verify.
    #[error("invalid commit signature by {validator}")]
    InvalidCommitSignature {
        /// Validator address (hex).
        validator: String,
    },
    /// The commit is for another block than the header.
    #[error("header hash {header_hash} != commit block hash {commit_hash}")]
    HeaderCommitMismatch {
        /// Header hash.
        header_hash: String,
        /// Commit's block hash.
        commit_hash: String,
    },
    /// The validator set does not hash to the header's `validators_hash`.
    #[error("validators hash mismatch: header {header} != set {computed}")]
    ValidatorsHashMismatch {
        /// Hash in the header.
        header: String,
        /// Hash of the given set.
        computed: String,
    },
    /// Next validators do not match (adjacent header vs trusted `next_validators_hash`).
    #[error("next validators hash mismatch: {got} != {expected}")]
    NextValidatorsHashMismatch {
        /// Hash found.
        got: String,
        /// Hash expected.
        expected: String,
    },
    /// The header is not above the trusted height.
    #[error("non-increasing height: got {got}, expected at least {expected}")]
    NonIncreasingHeight {
        /// Height given.
        got: u64,
        /// Lowest acceptable height.
        expected: u64,
    },
    /// The header is for another chain.
    #[error("chain id mismatch: got {got}, expected {expected}")]
    ChainIdMismatch {
        /// Chain id found.
        got: String,
        /// Chain id of the client.
        expected: String,
    },
    /// The header's time is not after the trusted header's time.
    #[error("non-monotonic BFT time")]
    NonMonotonicBftTime,
    /// The commit carries no signature at all.
    #[error("commit has no signatures")]
    NoSignatureForCommit,
    /// The commit's signature count differs from the validator count.
    #[error("{signatures} commit signatures for {validators} validators")]
    SignatureCountMismatch {
        /// Signatures in the commit.
        signatures: usize,
        /// Validators in the set.
        validators: usize,
    },
    /// A commit signer is not in the validator set.
    #[error("signer {signer} is not in the validator set")]
    SignerNotInValidatorSet {
        /// Signer address (hex).
        signer: String,
    },
    /// The verifier failed on arithmetic or encoding (e.g. time overflow).
    #[error("verifier internal error: {0}")]
    VerifierInternal(String),
    /// The two misbehaviour headers are identical (same height, same hash).
    #[error("the misbehaviour headers do not conflict")]
    HeadersNotConflicting,
    /// The misbehaviour headers are at different heights but their times are monotonic.
    #[error("the misbehaviour headers do not violate BFT time")]
    NoTimeViolation,
    /// Too many path segments in a proof request.
    #[error("{got} path segments exceed {max}")]
    PathTooLong {
        /// Segments given.
        got: usize,
        /// Maximum.
        max: usize,
    },
    /// The ICS-23 proof was refused.
    #[error("proof refused: {0}")]
    Proof(#[from] ProofError),
    /// An encoding is larger than accepted.
    #[error("encoding of {got} bytes exceeds {max}")]
    EncodingTooLarge {
        /// Bytes given.
        got: usize,
        /// Maximum.
        max: usize,
    },
    /// An encoding does not decode to a valid value.
    #[error("decode failed: {0}")]
    Decode(String),
    /// Bisection needs an intermediate height between two adjacent ones (cannot happen on
    /// a valid chain: adjacent headers need no trust overlap).
    #[error("bisection could not split between heights {low} and {high}")]
    CannotBisect {
        /// Trusted height.
        low: u64,
        /// Pending height.
        high: u64,
    },
}

impl NamedError for TendermintError {
    fn name(&self) -> &'static str {
        use TendermintError::*;
        match self {
            InvalidTrustLevel { .. } => "invalid_trust_level",
            TrustLevelBelowOneThird { .. } => "trust_level_below_one_third",
            InvalidTrustingPeriod { .. } => "invalid_trusting_period",
            InvalidChainId => "invalid_chain_id",
            HeightOutOfRange { .. } => "height_out_of_range",
            TimeOutOfRange => "time_out_of_range",
            Frozen { .. } => "frozen",
            ConsensusStateNotFound { .. } => "consensus_state_not_found",
            TrustedValidatorsMismatch => "trusted_validators_mismatch",
            TooManyValidators { .. } => "too_many_validators",
            VotingPowerTooLarge { .. } => "voting_power_too_large",
            ConflictingConsensusState { .. } => "conflicting_consensus_state",
            TimeMonotonicityViolation { .. } => "time_monotonicity_violation",
            TrustExpired { .. } => "trust_expired",
            HeaderFromTheFuture { .. } => "header_from_the_future",
            NotEnoughTrust { .. } => "not_enough_trust",
            InsufficientSignersOverlap { .. } => "insufficient_signers_overlap",
            DuplicateValidator { .. } => "duplicate_validator",
            MissingSignature => "missing_signature",
            InvalidCommitSignature { .. } => "invalid_commit_signature",
            HeaderCommitMismatch { .. } => "header_commit_mismatch",
            ValidatorsHashMismatch { .. } => "validators_hash_mismatch",
            NextValidatorsHashMismatch { .. } => "next_validators_hash_mismatch",
            NonIncreasingHeight { .. } => "non_increasing_height",
            ChainIdMismatch { .. } => "chain_id_mismatch",
            NonMonotonicBftTime => "non_monotonic_bft_time",
            NoSignatureForCommit => "no_signature_for_commit",
            SignatureCountMismatch { .. } => "signature_count_mismatch",
            SignerNotInValidatorSet { .. } => "signer_not_in_validator_set",
            VerifierInternal(_) => "verifier_internal",
            HeadersNotConflicting => "headers_not_conflicting",
            NoTimeViolation => "no_time_violation",
            PathTooLong { .. } => "path_too_long",
            Proof(e) => e.name(),
            CannotBisect { .. } => "cannot_bisect",
            EncodingTooLarge { .. } => "encoding_too_large",
            Decode(_) => "decode_failed",
        }
    }
}

/// Map a verifier error detail to our named error.
pub fn map_detail(detail: &VerificationErrorDetail) -> TendermintError {
    use VerificationErrorDetail as D;
    match detail {
        D::Tendermint(e) => TendermintError::VerifierInternal(e.source.to_string()),
        D::HeaderFromTheFuture(e) => TendermintError::HeaderFromTheFuture {
            header_time: e.header_time.to_rfc3339(),
            now: e.now.to_rfc3339(),
        },
        D::NotEnoughTrust(e) => TendermintError::NotEnoughTrust {
            tallied: e.tally.tallied,
            total: e.tally.total,
        },
        D::InsufficientSignersOverlap(e) => TendermintError::InsufficientSignersOverlap {
            tallied: e.tally.tallied,
            total: e.tally.total,
        },
        D::DuplicateValidator(e) => TendermintError::DuplicateValidator {
            address: e.address.to_string(),
        },
        D::MissingSignature(_) => TendermintError::MissingSignature,
        D::InvalidSignature(e) => TendermintError::InvalidCommitSignature {
            validator: e.validator.address.to_string(),
        },
        D::InvalidCommitValue(e) => TendermintError::HeaderCommitMismatch {
            header_hash: e.header_hash.to_string(),
            commit_hash: e.commit_hash.to_string(),
        },
        D::InvalidNextValidatorSet(e) => TendermintError::NextValidatorsHashMismatch {
            got: e.next_validators_hash.to_string(),
            expected: e.header_next_validators_hash.to_string(),
        },
        D::InvalidValidatorSet(e) => TendermintError::ValidatorsHashMismatch {
            header: e.header_validators_hash.to_string(),
            computed: e.validators_hash.to_string(),
        },
        D::NonIncreasingHeight(e) => TendermintError::NonIncreasingHeight {
            got: e.got.value(),
            expected: e.expected.value(),
        },
        D::ChainIdMismatch(e) => TendermintError::ChainIdMismatch {
            got: e.got.clone(),
            expected: e.expected.clone(),
        },
        D::NonMonotonicBftTime(_) => TendermintError::NonMonotonicBftTime,
        D::NotWithinTrustPeriod(e) => TendermintError::TrustExpired {
            expires_at: e.expires_at.to_rfc3339(),
            now: e.now.to_rfc3339(),
        },
        D::NoSignatureForCommit(_) => TendermintError::NoSignatureForCommit,
        D::MismatchPreCommitLength(e) => TendermintError::SignatureCountMismatch {
            signatures: e.pre_commit_length,
            validators: e.validator_length,
        },
        D::FaultySigner(e) => TendermintError::SignerNotInValidatorSet {
            signer: e.signer.to_string(),
        },
    }
}

/// Map a verdict to `Ok` or our named error.
pub fn map_verdict(verdict: Verdict) -> Result<(), TendermintError> {
    match verdict {
        Verdict::Success => Ok(()),
        Verdict::NotEnoughTrust(tally) => Err(TendermintError::NotEnoughTrust {
            tallied: tally.tallied,
            total: tally.total,
        }),
        Verdict::Invalid(detail) => Err(map_detail(&detail)),
    }
}

/// `Timestamp` → Tendermint time.
pub fn to_tm_time(ts: Timestamp) -> Result<Time, TendermintError> {
    let secs = i64::try_from(ts.secs()).map_err(|_| TendermintError::TimeOutOfRange)?;
    let nanos =
        u32::try_from(ts.nanos() % 1_000_000_000).map_err(|_| TendermintError::TimeOutOfRange)?;
    Time::from_unix_timestamp(secs, nanos).map_err(|_| TendermintError::TimeOutOfRange)
}

/// Tendermint time → `Timestamp` (times before the epoch are refused).
pub fn from_tm_time(time: Time) -> Result<Timestamp, TendermintError> {
    u64::try_from(time.unix_timestamp_nanos())
        .map(Timestamp)
        .map_err(|_| TendermintError::TimeOutOfRange)
}

/// Check a trust level: `1/3 <= numerator/denominator <= 1`, terms bounded.
pub fn trust_level(
    numerator: u64,
    denominator: u64,
) -> Result<TrustThresholdFraction, TendermintError> {
    let bad = TendermintError::InvalidTrustLevel {
        numerator,
        denominator,
    };
    if denominator == 0
        || numerator == 0
        || numerator > denominator
        || denominator > MAX_TRUST_LEVEL_TERM
    {
        return Err(bad);
    }
    // numerator/denominator < 1/3  <=>  3 * numerator < denominator (terms are < 2^33).
    if numerator.saturating_mul(3) < denominator {
        return Err(TendermintError::TrustLevelBelowOneThird {
            numerator,
            denominator,
        });
    }
    TrustThresholdFraction::new(numerator, denominator).map_err(|_| bad)
}

/// Refuse validator sets beyond [`MAX_VALIDATORS`] / [`MAX_TOTAL_VOTING_POWER`].
pub fn check_validator_set_bounds(set: &ValidatorSet) -> Result<(), TendermintError> {
    let got = set.validators().len();
    if got > MAX_VALIDATORS {
        return Err(TendermintError::TooManyValidators {
            got,
            max: MAX_VALIDATORS,
        });
    }
    let mut total: u64 = 0;
    for v in set.validators() {
        total = total.saturating_add(v.power());
    }
    if total > MAX_TOTAL_VOTING_POWER {
        return Err(TendermintError::VotingPowerTooLarge {
            max: MAX_TOTAL_VOTING_POWER,
        });
    }
    Ok(())
}

fn check_signed_header_bounds(sh: &SignedHeader) -> Result<(), TendermintError> {
    let got = sh.commit.signatures.len();
    if got > MAX_VALIDATORS {
        return Err(TendermintError::TooManyValidators {
            got,
            max: MAX_VALIDATORS,
        });
    }
    Ok(())
}

/// Run `verify_update_header` (or the misbehaviour variant, which skips the
/// header-from-the-future check) with the chosen engine, after the size bounds.
pub fn verify_update(
    untrusted: UntrustedBlockState<'_>,
    trusted: TrustedBlockState<'_>,
    options: &Options,
    now: Time,
    engine: Engine,
    for_misbehaviour: bool,
) -> Result<(), TendermintError> {
    check_signed_header_bounds(untrusted.signed_header)?;
    check_validator_set_bounds(untrusted.validators)?;
    if let Some(next) = untrusted.next_validators {
        check_validator_set_bounds(next)?;
    }
    check_validator_set_bounds(trusted.next_validators)?;
    let verdict = match (engine, for_misbehaviour) {
        (Engine::Batch, false) => {
            BatchVerifier::default().verify_update_header(untrusted, trusted, options, now)
        }
        (Engine::Batch, true) => {
            BatchVerifier::default().verify_misbehaviour_header(untrusted, trusted, options, now)
        }
        (Engine::Reference, false) => {
            ProdVerifier::default().verify_update_header(untrusted, trusted, options, now)
        }
        (Engine::Reference, true) => {
            ProdVerifier::default().verify_misbehaviour_header(untrusted, trusted, options, now)
        }
    };
    map_verdict(verdict)
}

/// Check only the commit: validator set hash, header/commit match, commit shape, and
/// more than 2/3 of `validators` signing with valid signatures.
pub fn verify_commit(
    signed_header: &SignedHeader,
    validators: &ValidatorSet,
    engine: Engine,
) -> Result<(), TendermintError> {
    check_signed_header_bounds(signed_header)?;
    check_validator_set_bounds(validators)?;
    let untrusted = UntrustedBlockState {
        signed_header,
        validators,
        next_validators: None,
    };
    let verdict = match engine {
        Engine::Batch => {
            let v = BatchVerifier::default();
            match v.verify_validator_sets(&untrusted) {
                Verdict::Success => v.verify_commit(&untrusted),
                other => other,
            }
        }
        Engine::Reference => {
            let v = ProdVerifier::default();
            match v.verify_validator_sets(&untrusted) {
                Verdict::Success => v.verify_commit(&untrusted),
                other => other,
            }
        }
    };
    map_verdict(verdict)
}

/// Client configuration (all periods in nanoseconds).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientConfig {
    /// Chain id of the followed chain.
    pub chain_id: String,
    /// Trust level numerator (≥ denominator / 3).
    pub trust_numerator: u64,
    /// Trust level denominator.
    pub trust_denominator: u64,
    /// How long a verified header may be used to verify the next one.
    pub trusting_period_ns: u64,
    /// The chain's unbonding period (must exceed the trusting period).
    pub unbonding_period_ns: u64,
    /// Tolerated lead of a header's time over `now`.
    pub max_clock_drift_ns: u64,
    /// Most consensus states kept (oldest heights are pruned first; the latest stays).
    pub max_consensus_states: usize,
}

/// The client state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientState {
    /// Chain id.
    pub chain_id: chain::Id,
    /// Trust level (≥ 1/3).
    pub trust_level: TrustThresholdFraction,
    /// Trusting period (ns).
    pub trusting_period_ns: u64,
    /// Unbonding period (ns).
    pub unbonding_period_ns: u64,
    /// Max clock drift (ns).
    pub max_clock_drift_ns: u64,
    /// Highest verified height.
    pub latest_height: u64,
    /// Set once misbehaviour is proven.
    pub frozen_height: Option<u64>,
    /// Bound on stored consensus states.
    pub max_consensus_states: usize,
}

/// What the client trusts about one verified height.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsensusState {
    /// Header time.
    pub timestamp: Timestamp,
    /// The header's app hash: the root of ICS-23 proofs.
    pub root: Vec<u8>,
    /// Hash of the validator set that signs the next height.
    pub next_validators_hash: Hash,
}

impl ConsensusState {
    /// The consensus state a signed header commits to.
    pub fn from_signed_header(sh: &SignedHeader) -> Result<Self, TendermintError> {
        Ok(Self {
            timestamp: from_tm_time(sh.header.time)?,
            root: sh.header.app_hash.as_bytes().to_vec(),
            next_validators_hash: sh.header.next_validators_hash,
        })
    }
}

/// An update: a signed header, its validator set, and the trusted height (with the
/// validator set the trusted header named as next) it is verified from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// The new header and its commit.
    pub signed_header: SignedHeader,
    /// The validator set of the new header.
    pub validator_set: ValidatorSet,
    /// A height with a stored consensus state.
    pub trusted_height: u64,
    /// The validator set whose hash is that state's `next_validators_hash`.
    pub trusted_next_validator_set: ValidatorSet,
}

impl Header {
    /// The header's height.
    pub fn height(&self) -> u64 {
        self.signed_header.header.height.value()
    }
}

/// A verified update, ready for [`LightClient::apply_header`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedHeader {
    /// Height verified.
    pub height: u64,
    /// Its consensus state.
    pub consensus_state: ConsensusState,
}

/// Evidence: two headers that cannot both be honest — same height with different hashes,
/// or a higher height whose time is not after a lower height's time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Misbehaviour {
    /// First header.
    pub header1: Header,
    /// Second header.
    pub header2: Header,
}

/// The Tendermint light client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TendermintClient {
    state: ClientState,
    consensus_states: BTreeMap<u64, ConsensusState>,
    engine: Engine,
}

impl TendermintClient {
    /// A client trusting `consensus_state` at `height` (chosen subjectively, e.g. by a
    /// council vote). Refuses trust levels below 1/3 and bad periods.
    pub fn new(
        config: &ClientConfig,
        height: u64,
        consensus_state: ConsensusState,
    ) -> Result<Self, TendermintError> {
        let trust_level = trust_level(config.trust_numerator, config.trust_denominator)?;
        if config.trusting_period_ns == 0 || config.trusting_period_ns >= config.unbonding_period_ns
        {
            return Err(TendermintError::InvalidTrustingPeriod {
                trusting_ns: config.trusting_period_ns,
                unbonding_ns: config.unbonding_period_ns,
            });
        }
        let chain_id = chain::Id::try_from(config.chain_id.clone())
            .map_err(|_| TendermintError::InvalidChainId)?;
        Height::try_from(height).map_err(|_| TendermintError::HeightOutOfRange { height })?;
        if height == 0 {
            return Err(TendermintError::HeightOutOfRange { height });
        }
        to_tm_time(consensus_state.timestamp)?;
        let mut consensus_states = BTreeMap::new();
        consensus_states.insert(height, consensus_state);
        Ok(Self {
            state: ClientState {
                chain_id,
                trust_level,
                trusting_period_ns: config.trusting_period_ns,
                unbonding_period_ns: config.unbonding_period_ns,
                max_clock_drift_ns: config.max_clock_drift_ns,
                latest_height: height,
                frozen_height: None,
                max_consensus_states: config.max_consensus_states.max(1),
            },
            consensus_states,
            engine: Engine::Batch,
        })
    }

    /// Use another signature engine (the reference one, for differential tests).
    pub fn with_engine(mut self, engine: Engine) -> Self {
        self.engine = engine;
        self
    }

    /// The client state.
    pub fn client_state(&self) -> &ClientState {
        &self.state
    }

    /// The consensus state at `height`, if stored.
    pub fn consensus_state(&self, height: u64) -> Option<&ConsensusState> {
        self.consensus_states.get(&height)
    }

    /// Heights with a stored consensus state, ascending.
    pub fn stored_heights(&self) -> Vec<u64> {
        self.consensus_states.keys().copied().collect()
    }

    /// The verifier options this client uses.
    pub fn options(&self) -> Options {
        Options {
            trust_threshold: self.state.trust_level,
            trusting_period: Duration::from_nanos(self.state.trusting_period_ns),
            clock_drift: Duration::from_nanos(self.state.max_clock_drift_ns),
        }
    }

    fn ensure_not_frozen(&self) -> Result<(), TendermintError> {
        match self.state.frozen_height {
            Some(height) => Err(TendermintError::Frozen { height }),
            None => Ok(()),
        }
    }

    /// Verify `header` against its trusted consensus state (shared by updates and
    /// misbehaviour).
    fn verify_against_trusted(
        &self,
        header: &Header,
        now: Timestamp,
        for_misbehaviour: bool,
    ) -> Result<ConsensusState, TendermintError> {
        let trusted = self.consensus_states.get(&header.trusted_height).ok_or(
            TendermintError::ConsensusStateNotFound {
                height: header.trusted_height,
            },
        )?;
        check_validator_set_bounds(&header.trusted_next_validator_set)?;
        if header.trusted_next_validator_set.hash() != trusted.next_validators_hash {
            return Err(TendermintError::TrustedValidatorsMismatch);
        }
        let trusted_height = Height::try_from(header.trusted_height).map_err(|_| {
            TendermintError::HeightOutOfRange {
                height: header.trusted_height,
            }
        })?;
        let trusted_state = TrustedBlockState {
            chain_id: &self.state.chain_id,
            header_time: to_tm_time(trusted.timestamp)?,
            height: trusted_height,
            next_validators: &header.trusted_next_validator_set,
            next_validators_hash: trusted.next_validators_hash,
        };
        let untrusted = UntrustedBlockState {
            signed_header: &header.signed_header,
            validators: &header.validator_set,
            next_validators: None,
        };
        verify_update(
            untrusted,
            trusted_state,
            &self.options(),
            to_tm_time(now)?,
            self.engine,
            for_misbehaviour,
        )?;
        ConsensusState::from_signed_header(&header.signed_header)
    }

    /// Whether a consensus state at `height` with `timestamp` keeps BFT time monotonic
    /// with the stored neighbours.
    fn monotonic_with_neighbours(&self, height: u64, timestamp: Timestamp) -> bool {
        let below_ok = self
            .consensus_states
            .range(..height)
            .next_back()
            .is_none_or(|(_, cs)| cs.timestamp < timestamp);
        let above_ok = height == u64::MAX
            || self
                .consensus_states
                .range(height.saturating_add(1)..)
                .next()
                .is_none_or(|(_, cs)| cs.timestamp > timestamp);
        below_ok && above_ok
    }
}

impl LightClient for TendermintClient {
    type Header = Header;
    type Verified = VerifiedHeader;
    type Path = [Vec<u8>];
    type Proof = [u8];
    type Misbehaviour = Misbehaviour;
    type Error = TendermintError;

    fn latest_height(&self) -> u64 {
        self.state.latest_height
    }

    fn status(&self, now: Timestamp) -> ClientStatus {
        if let Some(height) = self.state.frozen_height {
            return ClientStatus::Frozen { height };
        }
        match self.consensus_states.get(&self.state.latest_height) {
            Some(cs) if cs.timestamp.plus_nanos(self.state.trusting_period_ns) > now => {
                ClientStatus::Active
            }
            _ => ClientStatus::Expired,
        }
    }

    fn verify_header(
        &self,
        header: &Header,
        now: Timestamp,
    ) -> Result<VerifiedHeader, TendermintError> {
        self.ensure_not_frozen()?;
        let consensus_state = self.verify_against_trusted(header, now, false)?;
        let height = header.height();
        if let Some(existing) = self.consensus_states.get(&height) {
            if *existing == consensus_state {
                return Ok(VerifiedHeader {
                    height,
                    consensus_state,
                });
            }
            return Err(TendermintError::ConflictingConsensusState { height });
        }
        if !self.monotonic_with_neighbours(height, consensus_state.timestamp) {
            return Err(TendermintError::TimeMonotonicityViolation { height });
        }
        Ok(VerifiedHeader {
            height,
            consensus_state,
        })
    }

    fn apply_header(&mut self, verified: VerifiedHeader) {
        if self.state.frozen_height.is_some() {
            return;
        }
        self.consensus_states
            .insert(verified.height, verified.consensus_state);
        self.state.latest_height = self.state.latest_height.max(verified.height);
        while self.consensus_states.len() > self.state.max_consensus_states {
            match self.consensus_states.keys().next().copied() {
                Some(lowest) if lowest != self.state.latest_height => {
                    self.consensus_states.remove(&lowest);
                }
                _ => break,
            }
        }
    }

    fn verify_membership(
        &self,
        height: u64,
        path: &[Vec<u8>],
        value: &[u8],
        proof: &[u8],
    ) -> Result<(), TendermintError> {
        self.ensure_not_frozen()?;
        let cs = self
            .consensus_states
            .get(&height)
            .ok_or(TendermintError::ConsensusStateNotFound { height })?;
        let segments = path_segments(path)?;
        proof::verify_membership(&cs.root, &segments, value, proof)?;
        Ok(())
    }

    fn verify_non_membership(
        &self,
        height: u64,
        path: &[Vec<u8>],
        proof: &[u8],
    ) -> Result<(), TendermintError> {
        self.ensure_not_frozen()?;
        let cs = self
            .consensus_states
            .get(&height)
            .ok_or(TendermintError::ConsensusStateNotFound { height })?;
        let segments = path_segments(path)?;
        proof::verify_non_membership(&cs.root, &segments, proof)?;
        Ok(())
    }

    fn verify_misbehaviour(
        &self,
        evidence: &Misbehaviour,
        now: Timestamp,
    ) -> Result<u64, TendermintError> {
        self.ensure_not_frozen()?;
        let (h1, h2) = (&evidence.header1, &evidence.header2);
        let height = if h1.height() == h2.height() {
            if h1.signed_header.header.hash() == h2.signed_header.header.hash() {
                return Err(TendermintError::HeadersNotConflicting);
            }
            h1.height()
        } else {
            let (high, low) = if h1.height() > h2.height() {
                (h1, h2)
            } else {
                (h2, h1)
            };
            if high.signed_header.header.time > low.signed_header.header.time {
                return Err(TendermintError::NoTimeViolation);
            }
            high.height()
        };
        self.verify_against_trusted(h1, now, true)?;
        self.verify_against_trusted(h2, now, true)?;
        Ok(height)
    }

    fn freeze(&mut self, height: u64) {
        if self.state.frozen_height.is_none() {
            self.state.frozen_height = Some(height);
        }
    }
}

fn path_segments(path: &[Vec<u8>]) -> Result<Vec<&[u8]>, TendermintError> {
    if path.len() > MAX_PATH_SEGMENTS {
        return Err(TendermintError::PathTooLong {
            got: path.len(),
            max: MAX_PATH_SEGMENTS,
        });
    }
    Ok(path.iter().map(Vec::as_slice).collect())
}

/// Largest app hash (a consensus state's proof root) a stored client may hold.
pub const MAX_ROOT_BYTES: usize = 64;

/// The client's canonical encoding (spec/encoding.md rules), as the hub's state keeps it:
/// chain id (string) ‖ trust numerator u64 ‖ trust denominator u64 ‖ trusting period ns
/// u64 ‖ unbonding period ns u64 ‖ max clock drift ns u64 ‖ latest height u64 ‖ frozen
/// height Option<u64> ‖ max consensus states u64 ‖ u32 count ‖ per consensus state, by
/// height: height u64 ‖ time ns u64 ‖ root bytes (cap 64) ‖ next validators hash bytes (32,
/// or empty for none).
impl junction_spec::Encode for TendermintClient {
    fn encode_to(&self, out: &mut Vec<u8>) {
        use junction_spec::encoding::{encode_bytes, encode_len, encode_str};
        let s = &self.state;
        encode_str(s.chain_id.as_str(), out);
        s.trust_level.numerator().encode_to(out);
        s.trust_level.denominator().encode_to(out);
        s.trusting_period_ns.encode_to(out);
        s.unbonding_period_ns.encode_to(out);
        s.max_clock_drift_ns.encode_to(out);
        s.latest_height.encode_to(out);
        s.frozen_height.encode_to(out);
        (s.max_consensus_states as u64).encode_to(out);
        encode_len(self.consensus_states.len(), out);
        for (height, cs) in &self.consensus_states {
            height.encode_to(out);
            cs.timestamp.nanos().encode_to(out);
            encode_bytes(&cs.root, out);
            encode_bytes(cs.next_validators_hash.as_bytes(), out);
        }
    }
}

impl junction_spec::Decode for TendermintClient {
    fn decode_from(r: &mut junction_spec::Reader<'_>) -> Result<Self, junction_spec::DecodeError> {
        use junction_spec::encoding::{decode_bytes, decode_string};
        use junction_spec::DecodeError;
        let invalid = DecodeError::InvalidValue;
        let chain_id = decode_string(r, 50)?;
        let numerator = u64::decode_from(r)?;
        let denominator = u64::decode_from(r)?;
        let config = ClientConfig {
            chain_id,
            trust_numerator: numerator,
            trust_denominator: denominator,
            trusting_period_ns: u64::decode_from(r)?,
            unbonding_period_ns: u64::decode_from(r)?,
            max_clock_drift_ns: u64::decode_from(r)?,
            max_consensus_states: 0,
        };
        let latest_height = u64::decode_from(r)?;
        let frozen_height = Option::<u64>::decode_from(r)?;
        let max_states = usize::try_from(u64::decode_from(r)?)
            .ok()
            .filter(|n| (1..=DEFAULT_MAX_CONSENSUS_STATES).contains(n))
            .ok_or(invalid("tendermint client: consensus states kept"))?;
        let count = r.read_len(max_states)?;
        let mut states = BTreeMap::new();
        for _ in 0..count {
            let height = u64::decode_from(r)?;
            let timestamp = Timestamp(u64::decode_from(r)?);
            let root = decode_bytes(r, MAX_ROOT_BYTES)?;
            let next = decode_bytes(r, 32)?;
            let next_validators_hash = match next.len() {
                0 => Hash::None,
                _ => Hash::from_bytes(tendermint::hash::Algorithm::Sha256, &next)
                    .map_err(|_| invalid("tendermint client: next validators hash"))?,
            };
            let cs = ConsensusState {
                timestamp,
                root,
                next_validators_hash,
            };
            if states.insert(height, cs).is_some() || states.keys().next_back() != Some(&height) {
                return Err(DecodeError::NonCanonical(
                    "tendermint consensus states must be in increasing height order",
                ));
            }
        }
        let latest = states.get(&latest_height).cloned().ok_or(invalid(
            "tendermint client: no consensus state at the latest height",
        ))?;
        // The same rules as a new client's: trust level, periods, chain id, height.
        let mut client = TendermintClient::new(
            &ClientConfig {
                max_consensus_states: max_states,
                ..config
            },
            latest_height,
            latest,
        )
        .map_err(|_| invalid("tendermint client: configuration"))?;
        client.consensus_states = states;
        client.state.frozen_height = frozen_height;
        Ok(client)
    }
}
