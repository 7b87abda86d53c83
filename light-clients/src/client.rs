//! What every light client offers, whatever ledger it follows.

use core::fmt;

/// A point in time, in nanoseconds since the Unix epoch. The caller supplies it (`now`);
/// light clients never read a clock.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub u64);

impl Timestamp {
    /// From whole seconds since the epoch (saturating).
    pub const fn from_secs(secs: u64) -> Self {
        Self(secs.saturating_mul(1_000_000_000))
    }
    /// From milliseconds since the epoch (saturating).
    pub const fn from_millis(millis: u64) -> Self {
        Self(millis.saturating_mul(1_000_000))
    }
    /// Nanoseconds since the epoch.
    pub const fn nanos(self) -> u64 {
        self.0
    }
    /// Whole seconds since the epoch.
    pub const fn secs(self) -> u64 {
        self.0 / 1_000_000_000
    }
    /// `self + nanos`, saturating.
    pub const fn plus_nanos(self, nanos: u64) -> Self {
        Self(self.0.saturating_add(nanos))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}.{:09}s",
            self.0 / 1_000_000_000,
            self.0 % 1_000_000_000
        )
    }
}

/// Whether a client may still be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientStatus {
    /// Updates and proofs are accepted.
    Active,
    /// The trusted state is older than the trusting period; only a council vote recovers it.
    Expired,
    /// Misbehaviour was proven at this height; only a council vote recovers it.
    Frozen {
        /// Height at which the conflicting headers were seen.
        height: u64,
    },
}

/// An error with a stable, machine-readable name (`snake_case`), used in events, metrics
/// and RPC answers so that a rejection is always explained by what went wrong.
pub trait NamedError: std::error::Error {
    /// The error's stable name, e.g. `insufficient_voting_power`.
    fn name(&self) -> &'static str;
}

/// A light client of one foreign ledger.
///
/// The `verify_*` methods only read; they return what the matching `apply_*` method writes.
/// Splitting the two lets the hub judge a transaction during block validation and record
/// the outcome only when the block executes.
pub trait LightClient {
    /// What a relayer submits to move the client forward (one header, or a header with the
    /// signatures that finalize it).
    type Header;
    /// The result of a successful header verification, consumed by [`Self::apply_header`].
    type Verified;
    /// A key (or path) whose value a proof speaks about.
    type Path: ?Sized;
    /// A membership or non-membership proof.
    type Proof: ?Sized;
    /// Evidence that the ledger's signers signed two conflicting headers.
    type Misbehaviour;
    /// Why a verification failed.
    type Error: NamedError;

    /// The highest verified height.
    fn latest_height(&self) -> u64;

    /// Whether the client is active, expired at `now`, or frozen.
    fn status(&self, now: Timestamp) -> ClientStatus;

    /// Judge `header` against the trusted state at `now`.
    fn verify_header(
        &self,
        header: &Self::Header,
        now: Timestamp,
    ) -> Result<Self::Verified, Self::Error>;

    /// Record a header that [`Self::verify_header`] accepted.
    fn apply_header(&mut self, verified: Self::Verified);

    /// Prove that `path` holds `value` in the state committed at verified `height`.
    fn verify_membership(
        &self,
        height: u64,
        path: &Self::Path,
        value: &[u8],
        proof: &Self::Proof,
    ) -> Result<(), Self::Error>;

    /// Prove that `path` holds nothing in the state committed at verified `height`.
    fn verify_non_membership(
        &self,
        height: u64,
        path: &Self::Path,
        proof: &Self::Proof,
    ) -> Result<(), Self::Error>;

    /// Judge evidence of misbehaviour; on success returns the height to freeze at.
    fn verify_misbehaviour(
        &self,
        evidence: &Self::Misbehaviour,
        now: Timestamp,
    ) -> Result<u64, Self::Error>;

    /// Freeze the client at `height`; it then refuses every update and proof.
    fn freeze(&mut self, height: u64);
}
