//! Governance wire types: the values that travel in council transactions (organizations,
//! roles, votes, light-client and route parameters, and the typed proposal kinds), with
//! their canonical encoding and the `check` methods that state when a value is acceptable.
//!
//! As everywhere in this crate, decoding enforces structure only (tags, caps, the id
//! alphabet, UTF-8); the `check` methods add the semantic rules. The byte layouts are in
//! `spec/encoding.md` ("Governance types"); the rules that use them are in
//! `spec/governance.md`.

use core::cmp::Ordering;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::encoding::{
    decode_bytes, decode_string, decode_vec, encode_bytes, encode_len, encode_str, encode_vec,
    Decode, DecodeError, Encode, Reader, MAX_APP_ID_LEN, MAX_PAYLOAD_BYTES,
};
use crate::id::ChainId;

/// Maximum length in bytes of an organization id or a route id.
pub const MAX_GOV_ID_LEN: usize = 64;
/// Maximum length in bytes of a member's display name.
pub const MAX_MEMBER_NAME_LEN: usize = 128;
/// Maximum number of account keys a member holds.
pub const MAX_MEMBER_KEYS: usize = 8;
/// Maximum length in bytes of a chain's trust root.
pub const MAX_TRUST_ROOT_LEN: usize = 32_768;
/// Maximum number of app ids in each app list of a route policy.
pub const MAX_ROUTE_APPS: usize = 64;
/// Maximum length in bytes of an upgrade name.
pub const MAX_UPGRADE_NAME_LEN: usize = 64;
/// Largest voting weight of one member (keeps every weight sum far below `u64::MAX`).
pub const MAX_WEIGHT: u64 = 1_000_000_000_000;
/// Largest voting power of one validator (keeps every power sum far below `u64::MAX`).
pub const MAX_POWER: u64 = 1_000_000_000_000;
/// Largest gas limit any packet may carry: what an EVM gateway refuses at `send`, and the
/// ceiling of every route's `max_gas_limit`. Well below an EVM block's gas limit (30 M
/// and more on public chains), so a delivery of one packet always fits in a block.
pub const MAX_PACKET_GAS_LIMIT: u64 = 10_000_000;
/// A route's `max_gas_limit` when its policy file does not name one.
pub const DEFAULT_ROUTE_GAS_LIMIT: u64 = 1_000_000;

// ---------------------------------------------------------------------------------------
// Identifiers
// ---------------------------------------------------------------------------------------

/// Why a string is not a valid organization or route id.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum IdError {
    /// The id is empty.
    #[error("id is empty")]
    Empty,
    /// The id is longer than [`MAX_GOV_ID_LEN`] bytes.
    #[error("id is {len} bytes long, the maximum is {max}")]
    TooLong {
        /// Its length in bytes.
        len: usize,
        /// The maximum.
        max: usize,
    },
    /// The id holds a byte outside `[a-z0-9._-]`.
    #[error("id byte {byte:#04x} at position {position} is not one of [a-z0-9._-]")]
    InvalidByte {
        /// Offset of the first offending byte.
        position: usize,
        /// The byte.
        byte: u8,
    },
}

impl IdError {
    /// Stable snake_case name of the broken rule.
    pub fn name(&self) -> &'static str {
        match self {
            IdError::Empty => "id_empty",
            IdError::TooLong { .. } => "id_too_long",
            IdError::InvalidByte { .. } => "id_invalid_byte",
        }
    }
}

/// Checks the id rules (the chain-id rules): 1 to [`MAX_GOV_ID_LEN`] bytes of `[a-z0-9._-]`.
fn check_id(bytes: &[u8]) -> Result<(), IdError> {
    if bytes.is_empty() {
        return Err(IdError::Empty);
    }
    if bytes.len() > MAX_GOV_ID_LEN {
        return Err(IdError::TooLong {
            len: bytes.len(),
            max: MAX_GOV_ID_LEN,
        });
    }
    match bytes
        .iter()
        .position(|b| !matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'.' | b'_' | b'-'))
    {
        Some(position) => Err(IdError::InvalidByte {
            position,
            byte: bytes.get(position).copied().unwrap_or(0),
        }),
        None => Ok(()),
    }
}

macro_rules! gov_id {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Validates `s`: 1 to 64 bytes of `[a-z0-9._-]`.
            pub fn new(s: impl Into<String>) -> Result<Self, IdError> {
                let s = s.into();
                check_id(s.as_bytes())?;
                Ok(Self(s))
            }

            /// The id as a string slice.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The id as an owned string.
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                Self::new(s)
            }
        }

        impl TryFrom<&str> for $name {
            type Error = IdError;
            fn try_from(s: &str) -> Result<Self, Self::Error> {
                Self::new(s)
            }
        }

        impl core::str::FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::new(s)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> Self {
                id.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl core::fmt::Display for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str(&self.0)
            }
        }

        /// `len (u32, 1..=64) || ASCII bytes of [a-z0-9._-]`, as a chain id.
        impl Encode for $name {
            fn encode_to(&self, out: &mut Vec<u8>) {
                encode_bytes(self.0.as_bytes(), out);
            }
        }

        impl Decode for $name {
            fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
                let bytes = r.read_bytes(MAX_GOV_ID_LEN)?;
                check_id(bytes).map_err(|_| {
                    DecodeError::NonCanonical(concat!($what, " is not 1 to 64 bytes of [a-z0-9._-]"))
                })?;
                let s = core::str::from_utf8(bytes).map_err(|_| DecodeError::InvalidUtf8)?;
                Ok(Self(s.to_owned()))
            }
        }
    };
}

gov_id!(
    /// An organization (council member) id: 1 to 64 bytes of `[a-z0-9._-]`.
    OrgId,
    "org id"
);

gov_id!(
    /// A route id: 1 to 64 bytes of `[a-z0-9._-]`.
    RouteId,
    "route id"
);

// ---------------------------------------------------------------------------------------
// Small enums
// ---------------------------------------------------------------------------------------

macro_rules! tagged_enum {
    (
        $(#[$doc:meta])* $name:ident, $what:literal,
        { $($(#[$vdoc:meta])* $variant:ident = $tag:literal => $text:literal),* $(,)? }
    ) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vdoc])* $variant),*
        }

        impl $name {
            /// Every value, in tag order.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The tag byte of this value.
            pub fn tag(self) -> u8 {
                match self {
                    $($name::$variant => $tag),*
                }
            }

            /// The value with tag byte `tag`, if any.
            pub fn from_tag(tag: u8) -> Option<Self> {
                match tag {
                    $($tag => Some($name::$variant),)*
                    _ => None,
                }
            }

            /// The lowercase name (as in JSON).
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),*
                }
            }
        }

        impl core::fmt::Display for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Encode for $name {
            fn encode_to(&self, out: &mut Vec<u8>) {
                out.push(self.tag());
            }
        }

        impl Decode for $name {
            fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
                let tag = r.read_u8()?;
                Self::from_tag(tag).ok_or(DecodeError::InvalidTag { what: $what, tag })
            }
        }
    };
}

tagged_enum!(
    /// What a council member may do.
    Role, "role",
    {
        /// Proposes, votes and signs emergency actions.
        Member = 1 => "member",
        /// Reads everything; cannot propose, vote or sign emergency actions.
        Observer = 2 => "observer",
        /// Proposes and votes like a member, and alone can trigger an emergency pause or
        /// freeze.
        Regulator = 3 => "regulator",
    }
);

impl Role {
    /// True for the roles that propose and vote (`Member`, `Regulator`).
    pub fn votes(self) -> bool {
        !matches!(self, Role::Observer)
    }
}

tagged_enum!(
    /// Where a member is in its lifecycle.
    MemberStatus, "member status",
    {
        /// Takes part in governance.
        Active = 1 => "active",
        /// Temporarily excluded: cannot act, and earlier votes stop counting.
        Suspended = 2 => "suspended",
        /// Left the council; the record stays for audit.
        Exited = 3 => "exited",
    }
);

tagged_enum!(
    /// A vote on a proposal.
    VoteOption, "vote option",
    {
        /// In favour.
        Yes = 1 => "yes",
        /// Against.
        No = 2 => "no",
        /// Counts toward quorum only.
        Abstain = 3 => "abstain",
        /// Against, and vetoes the proposal if the veto share is reached.
        Veto = 4 => "veto",
    }
);

/// A string that is not one of `yes`, `no`, `abstain`, `veto`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("unknown vote option {0:?}: expected yes, no, abstain or veto")]
pub struct ParseVoteOptionError(pub String);

impl core::str::FromStr for VoteOption {
    type Err = ParseVoteOptionError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        VoteOption::ALL
            .iter()
            .copied()
            .find(|o| o.as_str() == s)
            .ok_or_else(|| ParseVoteOptionError(s.to_owned()))
    }
}

tagged_enum!(
    /// The kind of ledger a registered chain is, which selects its light client.
    LedgerKind, "ledger kind",
    {
        /// A CometBFT/Tendermint chain.
        Tendermint = 1 => "tendermint",
        /// An EVM chain with QBFT finality.
        EvmQbft = 2 => "evm_qbft",
        /// An EVM chain whose blocks are attested by a signer set.
        EvmAttested = 3 => "evm_attested",
        /// A Hyperledger Fabric channel.
        Fabric = 4 => "fabric",
        /// A Bitcoin-style proof-of-work chain.
        Bitcoin = 5 => "bitcoin",
        /// Another Junction hub.
        JunctionHub = 6 => "junction_hub",
    }
);

impl LedgerKind {
    /// Whether chains of this kind have a Junction gateway the hub delivers to (and the
    /// council may retire): the EVM kinds.
    pub fn has_gateway(self) -> bool {
        matches!(self, LedgerKind::EvmQbft | LedgerKind::EvmAttested)
    }
}

// ---------------------------------------------------------------------------------------
// Parameter errors
// ---------------------------------------------------------------------------------------

/// Why a governance value (parameters, a route policy, a proposal) is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ParamsError {
    /// A remote chain named as the hub it is reached through.
    #[error("a remote chain cannot be the hub it is reached through")]
    RemoteChainIsItsHub,
    /// A retiring gateway's chain named as its own successor.
    #[error("a retiring gateway's chain cannot be its own successor")]
    GatewayIsItsSuccessor,
    /// A fraction has a zero denominator.
    #[error("{what}: the denominator is zero")]
    ZeroDenominator {
        /// Which fraction.
        what: &'static str,
    },
    /// A fraction is greater than 1.
    #[error("{what}: {num}/{den} is greater than 1")]
    FractionAboveOne {
        /// Which fraction.
        what: &'static str,
        /// Numerator.
        num: u64,
        /// Denominator.
        den: u64,
    },
    /// A fraction that must be positive is zero.
    #[error("{what}: must be greater than zero")]
    ZeroFraction {
        /// Which fraction.
        what: &'static str,
    },
    /// A light client's trust level is at most 1/3.
    #[error("trust level {num}/{den} must be greater than 1/3")]
    TrustLevelTooLow {
        /// Numerator.
        num: u64,
        /// Denominator.
        den: u64,
    },
    /// The governance threshold is at most 1/2.
    #[error("threshold {num}/{den} must be greater than 1/2")]
    ThresholdTooLow {
        /// Numerator.
        num: u64,
        /// Denominator.
        den: u64,
    },
    /// The expedited threshold is below the normal threshold.
    #[error("the expedited threshold must be at least the normal threshold")]
    ExpeditedThresholdBelowThreshold,
    /// A duration that must be positive is zero.
    #[error("{what} must be greater than zero")]
    ZeroPeriod {
        /// Which duration.
        what: &'static str,
    },
    /// The expedited voting period is longer than the normal one.
    #[error("the expedited voting period ({expedited_ms} ms) is longer than the voting period ({normal_ms} ms)")]
    ExpeditedPeriodTooLong {
        /// Expedited period.
        expedited_ms: u64,
        /// Normal period.
        normal_ms: u64,
    },
    /// `max_active_proposals` is zero, which would block every proposal.
    #[error("max_active_proposals must be at least 1")]
    ZeroMaxActiveProposals,
    /// A trust root is empty.
    #[error("trust root is empty")]
    EmptyTrustRoot,
    /// A trust root is all zero bytes.
    #[error("trust root is all zero bytes")]
    ZeroTrustRoot,
    /// A trust root is longer than [`MAX_TRUST_ROOT_LEN`].
    #[error("trust root is {len} bytes, the maximum is {max}")]
    TrustRootTooLong {
        /// Its length.
        len: usize,
        /// The maximum.
        max: usize,
    },
    /// A route names no app on one side.
    #[error("the {which} app list is empty: a route must name its apps")]
    EmptyAppList {
        /// `"source"` or `"destination"`.
        which: &'static str,
    },
    /// A route app list has more than [`MAX_ROUTE_APPS`] entries.
    #[error("the {which} app list has {count} entries, the maximum is {max}")]
    TooManyApps {
        /// `"source"` or `"destination"`.
        which: &'static str,
        /// Entries.
        count: usize,
        /// The maximum.
        max: usize,
    },
    /// A route app id is empty.
    #[error("a {which} app id is empty")]
    EmptyAppId {
        /// `"source"` or `"destination"`.
        which: &'static str,
    },
    /// A route app id is longer than [`MAX_APP_ID_LEN`].
    #[error("a {which} app id is {len} bytes, the maximum is {max}")]
    AppIdTooLong {
        /// `"source"` or `"destination"`.
        which: &'static str,
        /// Its length.
        len: usize,
        /// The maximum.
        max: usize,
    },
    /// A route app list names the same app twice.
    #[error("the {which} app list names an app twice")]
    DuplicateAppId {
        /// `"source"` or `"destination"`.
        which: &'static str,
    },
    /// A route's maximum payload is zero.
    #[error("max_payload must be greater than zero")]
    ZeroMaxPayload,
    /// A route's maximum payload is above [`MAX_PAYLOAD_BYTES`].
    #[error("max_payload {max_payload} is above the packet cap {cap}")]
    MaxPayloadOverCap {
        /// The route's value.
        max_payload: u32,
        /// [`MAX_PAYLOAD_BYTES`].
        cap: usize,
    },
    /// A rate-limit field is zero.
    #[error("rate limit {field} must be greater than zero")]
    ZeroRate {
        /// `"messages"`, `"bytes"` or `"window_ms"`.
        field: &'static str,
    },
    /// The byte budget of a window is smaller than one maximal payload, so such a packet
    /// could never pass.
    #[error("rate limit of {bytes} bytes per window is below max_payload {max_payload}")]
    RateBelowMaxPayload {
        /// Bytes per window.
        bytes: u64,
        /// The route's maximum payload.
        max_payload: u32,
    },
    /// `min_timeout_ms > max_timeout_ms`.
    #[error("min_timeout_ms {min} is greater than max_timeout_ms {max}")]
    TimeoutBoundsInverted {
        /// Lower bound.
        min: u64,
        /// Upper bound.
        max: u64,
    },
    /// A route's source and destination chains are the same.
    #[error("a route's source and destination chains must differ")]
    SameSourceAndDest,
    /// A member name is empty.
    #[error("member name is empty")]
    EmptyName,
    /// A member name is longer than [`MAX_MEMBER_NAME_LEN`].
    #[error("member name is {len} bytes, the maximum is {max}")]
    NameTooLong {
        /// Its length.
        len: usize,
        /// The maximum.
        max: usize,
    },
    /// A member weight is zero.
    #[error("member weight must be greater than zero")]
    ZeroWeight,
    /// A member weight is above [`MAX_WEIGHT`].
    #[error("member weight {weight} is above the maximum {max}")]
    WeightTooLarge {
        /// The weight.
        weight: u64,
        /// The maximum.
        max: u64,
    },
    /// A member has no account key.
    #[error("a member needs at least one account key")]
    NoKeys,
    /// A member has more than [`MAX_MEMBER_KEYS`] account keys.
    #[error("{count} account keys, the maximum is {max}")]
    TooManyKeys {
        /// Keys given.
        count: usize,
        /// The maximum.
        max: usize,
    },
    /// A key list names the same key twice.
    #[error("the key list names a key twice")]
    DuplicateKey,
    /// A validator power is zero.
    #[error("validator power must be greater than zero")]
    ZeroPower,
    /// A validator power is above [`MAX_POWER`].
    #[error("validator power {power} is above the maximum {max}")]
    PowerTooLarge {
        /// The power.
        power: u64,
        /// The maximum.
        max: u64,
    },
    /// A relayer penalty of zero.
    #[error("a penalty must be greater than zero")]
    ZeroPenalty,
    /// An upgrade name is empty.
    #[error("upgrade name is empty")]
    EmptyUpgradeName,
    /// An upgrade name is longer than [`MAX_UPGRADE_NAME_LEN`].
    #[error("upgrade name is {len} bytes, the maximum is {max}")]
    UpgradeNameTooLong {
        /// Its length.
        len: usize,
        /// The maximum.
        max: usize,
    },
    /// An upgrade at height zero.
    #[error("upgrade height must be greater than zero")]
    ZeroUpgradeHeight,
    /// A route's gas cap is zero.
    #[error("max_gas_limit must be greater than zero")]
    ZeroGasLimit,
    /// A gas cap is above the one that bounds it ([`MAX_PACKET_GAS_LIMIT`], or the
    /// council's `max_route_gas_limit` for a route).
    #[error("{what} {value} is above the cap {cap}")]
    GasLimitOverCap {
        /// Which cap.
        what: &'static str,
        /// The value given.
        value: u64,
        /// The cap.
        cap: u64,
    },
    /// A governance parameter crosses a floor or ceiling fixed at genesis.
    #[error("{what} crosses the bound fixed at genesis ({bound})")]
    OutOfGenesisBounds {
        /// Which parameter.
        what: &'static str,
        /// The bound, as text.
        bound: String,
    },
    /// A genesis bound is weaker than the protocol allows (quorum floor below 1/3, veto
    /// ceiling above 1/2).
    #[error("genesis bound {what} is weaker than the protocol allows ({rule})")]
    WeakGenesisBound {
        /// Which bound.
        what: &'static str,
        /// The rule it breaks.
        rule: &'static str,
    },
}

impl ParamsError {
    /// Stable snake_case name of the broken rule (for RPC codes and metrics).
    pub fn name(&self) -> &'static str {
        match self {
            ParamsError::RemoteChainIsItsHub => "remote_chain_is_its_hub",
            ParamsError::GatewayIsItsSuccessor => "gateway_is_its_successor",
            ParamsError::ZeroDenominator { .. } => "zero_denominator",
            ParamsError::FractionAboveOne { .. } => "fraction_above_one",
            ParamsError::ZeroFraction { .. } => "zero_fraction",
            ParamsError::TrustLevelTooLow { .. } => "trust_level_too_low",
            ParamsError::ThresholdTooLow { .. } => "threshold_too_low",
            ParamsError::ExpeditedThresholdBelowThreshold => "expedited_threshold_below_threshold",
            ParamsError::ZeroPeriod { .. } => "zero_period",
            ParamsError::ExpeditedPeriodTooLong { .. } => "expedited_period_too_long",
            ParamsError::ZeroMaxActiveProposals => "zero_max_active_proposals",
            ParamsError::EmptyTrustRoot => "empty_trust_root",
            ParamsError::ZeroTrustRoot => "zero_trust_root",
            ParamsError::TrustRootTooLong { .. } => "trust_root_too_long",
            ParamsError::EmptyAppList { .. } => "empty_app_list",
            ParamsError::TooManyApps { .. } => "too_many_apps",
            ParamsError::EmptyAppId { .. } => "empty_app_id",
            ParamsError::AppIdTooLong { .. } => "app_id_too_long",
            ParamsError::DuplicateAppId { .. } => "duplicate_app_id",
            ParamsError::ZeroMaxPayload => "zero_max_payload",
            ParamsError::MaxPayloadOverCap { .. } => "max_payload_over_cap",
            ParamsError::ZeroRate { .. } => "zero_rate",
            ParamsError::RateBelowMaxPayload { .. } => "rate_below_max_payload",
            ParamsError::TimeoutBoundsInverted { .. } => "timeout_bounds_inverted",
            ParamsError::SameSourceAndDest => "same_source_and_dest",
            ParamsError::EmptyName => "empty_name",
            ParamsError::NameTooLong { .. } => "name_too_long",
            ParamsError::ZeroWeight => "zero_weight",
            ParamsError::WeightTooLarge { .. } => "weight_too_large",
            ParamsError::NoKeys => "no_keys",
            ParamsError::TooManyKeys { .. } => "too_many_keys",
            ParamsError::DuplicateKey => "duplicate_key",
            ParamsError::ZeroPower => "zero_power",
            ParamsError::PowerTooLarge { .. } => "power_too_large",
            ParamsError::ZeroPenalty => "zero_penalty",
            ParamsError::EmptyUpgradeName => "empty_upgrade_name",
            ParamsError::UpgradeNameTooLong { .. } => "upgrade_name_too_long",
            ParamsError::ZeroUpgradeHeight => "zero_upgrade_height",
            ParamsError::ZeroGasLimit => "zero_gas_limit",
            ParamsError::GasLimitOverCap { .. } => "gas_limit_over_cap",
            ParamsError::OutOfGenesisBounds { .. } => "params_out_of_genesis_bounds",
            ParamsError::WeakGenesisBound { .. } => "weak_genesis_bound",
        }
    }
}

// ---------------------------------------------------------------------------------------
// Fraction
// ---------------------------------------------------------------------------------------

/// A non-negative rational `num / den`. Valid fractions have `den > 0`; the governance
/// ones also have `num <= den`. Compared by cross-multiplication in `u128`, never by
/// division.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Fraction {
    /// Numerator.
    pub num: u64,
    /// Denominator.
    pub den: u64,
}

impl Fraction {
    /// `num / den` (not checked).
    pub const fn new(num: u64, den: u64) -> Self {
        Self { num, den }
    }

    /// One half.
    pub const HALF: Fraction = Fraction::new(1, 2);
    /// One third.
    pub const ONE_THIRD: Fraction = Fraction::new(1, 3);
    /// Two thirds.
    pub const TWO_THIRDS: Fraction = Fraction::new(2, 3);
    /// One.
    pub const ONE: Fraction = Fraction::new(1, 1);

    /// Compares the values of two fractions with positive denominators
    /// (`a/b` vs `c/d` as `a*d` vs `c*b`, in `u128`). With a zero denominator the result
    /// is meaningless but the call never panics.
    pub fn cmp_value(&self, other: &Fraction) -> Ordering {
        let lhs = u128::from(self.num) * u128::from(other.den);
        let rhs = u128::from(other.num) * u128::from(self.den);
        lhs.cmp(&rhs)
    }

    /// The larger of two fractions by value (`self` on a tie).
    pub fn max_value(self, other: Fraction) -> Fraction {
        if other.cmp_value(&self) == Ordering::Greater {
            other
        } else {
            self
        }
    }

    /// True when `part / whole > self`, i.e. `part * den > num * whole` (in `u128`).
    pub fn exceeded_by(&self, part: u64, whole: u64) -> bool {
        u128::from(part) * u128::from(self.den) > u128::from(self.num) * u128::from(whole)
    }

    /// True when `part / whole >= self`, i.e. `part * den >= num * whole` (in `u128`).
    pub fn reached_by(&self, part: u64, whole: u64) -> bool {
        u128::from(part) * u128::from(self.den) >= u128::from(self.num) * u128::from(whole)
    }

    /// Checks `den > 0` and `num <= den`; `what` names the fraction in the error.
    pub fn check_at_most_one(&self, what: &'static str) -> Result<(), ParamsError> {
        if self.den == 0 {
            return Err(ParamsError::ZeroDenominator { what });
        }
        if self.num > self.den {
            return Err(ParamsError::FractionAboveOne {
                what,
                num: self.num,
                den: self.den,
            });
        }
        Ok(())
    }

    /// Checks `0 < self <= 1`; `what` names the fraction in the error.
    pub fn check_unit_interval(&self, what: &'static str) -> Result<(), ParamsError> {
        self.check_at_most_one(what)?;
        if self.num == 0 {
            return Err(ParamsError::ZeroFraction { what });
        }
        Ok(())
    }
}

/// `num (u64) || den (u64)`.
impl Encode for Fraction {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.num.encode_to(out);
        self.den.encode_to(out);
    }
}

impl Decode for Fraction {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            num: Decode::decode_from(r)?,
            den: Decode::decode_from(r)?,
        })
    }
}

// ---------------------------------------------------------------------------------------
// Chains
// ---------------------------------------------------------------------------------------

/// Parameters of the light client that follows a registered chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LightClientParams {
    /// Share of the trusted validator power that must sign a non-adjacent header
    /// (`1/3 < trust_level <= 1`).
    pub trust_level: Fraction,
    /// How long a trusted header stays usable, in milliseconds (`> 0`).
    pub trusting_period_ms: u64,
    /// Tolerated clock drift of the remote chain, in milliseconds.
    pub max_clock_drift_ms: u64,
    /// Confirmations a block needs before its proofs are used (for probabilistic
    /// finality; 0 or 1 for instant finality).
    pub min_confirmations: u64,
    /// Share of signer power (or attesters) a header needs (`0 < threshold <= 1`).
    pub threshold: Fraction,
}

impl LightClientParams {
    /// Checks `1/3 < trust_level <= 1`, `0 < threshold <= 1`, positive denominators and
    /// `trusting_period_ms > 0`.
    pub fn check(&self) -> Result<(), ParamsError> {
        self.trust_level.check_at_most_one("trust_level")?;
        if self.trust_level.cmp_value(&Fraction::ONE_THIRD) != Ordering::Greater {
            return Err(ParamsError::TrustLevelTooLow {
                num: self.trust_level.num,
                den: self.trust_level.den,
            });
        }
        self.threshold.check_unit_interval("threshold")?;
        if self.trusting_period_ms == 0 {
            return Err(ParamsError::ZeroPeriod {
                what: "trusting_period_ms",
            });
        }
        Ok(())
    }
}

impl Encode for LightClientParams {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.trust_level.encode_to(out);
        self.trusting_period_ms.encode_to(out);
        self.max_clock_drift_ms.encode_to(out);
        self.min_confirmations.encode_to(out);
        self.threshold.encode_to(out);
    }
}

impl Decode for LightClientParams {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            trust_level: Decode::decode_from(r)?,
            trusting_period_ms: Decode::decode_from(r)?,
            max_clock_drift_ms: Decode::decode_from(r)?,
            min_confirmations: Decode::decode_from(r)?,
            threshold: Decode::decode_from(r)?,
        })
    }
}

/// A chain the council registers: its kind, light-client parameters and trust root
/// (the kind-specific starting point of trust: a header, a validator or signer set, a
/// channel configuration, a checkpoint).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainRegistration {
    /// The chain's id.
    pub chain_id: ChainId,
    /// Which light client follows it.
    pub kind: LedgerKind,
    /// Light-client parameters.
    pub params: LightClientParams,
    /// Kind-specific trust root (1 to [`MAX_TRUST_ROOT_LEN`] bytes, not all zero).
    #[serde(with = "crate::serde_hex::bytes")]
    pub trust_root: Vec<u8>,
}

impl ChainRegistration {
    /// Checks the light-client parameters and the trust root.
    pub fn check(&self) -> Result<(), ParamsError> {
        check_client_trust(&self.params, &self.trust_root)
    }
}

/// Checks light-client parameters and a trust root (1 to [`MAX_TRUST_ROOT_LEN`] bytes, not
/// all zero), as a registration or a trust-root replacement carries them.
pub fn check_client_trust(
    params: &LightClientParams,
    trust_root: &[u8],
) -> Result<(), ParamsError> {
    params.check()?;
    if trust_root.is_empty() {
        return Err(ParamsError::EmptyTrustRoot);
    }
    if trust_root.len() > MAX_TRUST_ROOT_LEN {
        return Err(ParamsError::TrustRootTooLong {
            len: trust_root.len(),
            max: MAX_TRUST_ROOT_LEN,
        });
    }
    if trust_root.iter().all(|b| *b == 0) {
        return Err(ParamsError::ZeroTrustRoot);
    }
    Ok(())
}

impl Encode for ChainRegistration {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.chain_id.encode_to(out);
        self.kind.encode_to(out);
        self.params.encode_to(out);
        encode_bytes(&self.trust_root, out);
    }
}

impl Decode for ChainRegistration {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            chain_id: Decode::decode_from(r)?,
            kind: Decode::decode_from(r)?,
            params: Decode::decode_from(r)?,
            trust_root: decode_bytes(r, MAX_TRUST_ROOT_LEN)?,
        })
    }
}

// ---------------------------------------------------------------------------------------
// Routes
// ---------------------------------------------------------------------------------------

/// A token-bucket rate limit: at most `messages` packets and `bytes` payload bytes per
/// `window_ms`, refilled continuously.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RateLimit {
    /// Packets per window (bucket capacity), `> 0`.
    pub messages: u64,
    /// Payload bytes per window (bucket capacity), `> 0`.
    pub bytes: u64,
    /// Window length in milliseconds, `> 0`.
    pub window_ms: u64,
}

impl RateLimit {
    /// Checks that every field is positive.
    pub fn check(&self) -> Result<(), ParamsError> {
        for (field, value) in [
            ("messages", self.messages),
            ("bytes", self.bytes),
            ("window_ms", self.window_ms),
        ] {
            if value == 0 {
                return Err(ParamsError::ZeroRate { field });
            }
        }
        Ok(())
    }
}

impl Encode for RateLimit {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.messages.encode_to(out);
        self.bytes.encode_to(out);
        self.window_ms.encode_to(out);
    }
}

impl Decode for RateLimit {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            messages: Decode::decode_from(r)?,
            bytes: Decode::decode_from(r)?,
            window_ms: Decode::decode_from(r)?,
        })
    }
}

/// What may travel on a route: which apps on which chains, how much, how fast, with which
/// timeouts, after how many confirmations and for what fee.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoutePolicy {
    /// The chain packets come from.
    pub source_chain: ChainId,
    /// Apps on the source chain allowed to send (1 to [`MAX_ROUTE_APPS`] distinct ids).
    #[serde(with = "serde_lists::byte_strings")]
    pub source_apps: Vec<Vec<u8>>,
    /// The chain packets go to.
    pub dest_chain: ChainId,
    /// Apps on the destination chain allowed to receive (1 to [`MAX_ROUTE_APPS`]).
    #[serde(with = "serde_lists::byte_strings")]
    pub dest_apps: Vec<Vec<u8>>,
    /// Whether packets are delivered in sequence order.
    pub ordered: bool,
    /// Largest payload in bytes (`1..=MAX_PAYLOAD_BYTES`).
    pub max_payload: u32,
    /// Largest gas limit a packet may ask of the destination (`1..=MAX_PACKET_GAS_LIMIT`,
    /// and at most the council's `max_route_gas_limit`). A packet above it gets a final
    /// error-ack `gas_limit_over_cap`.
    #[serde(default = "default_route_gas_limit")]
    pub max_gas_limit: u64,
    /// Token-bucket rate limit of the whole route.
    pub rate: RateLimit,
    /// Token-bucket rate limit of each source app on the route, on top of the route's:
    /// an app that empties its own bucket waits alone. `None`: no per-app limit.
    #[serde(default)]
    pub app_rate: Option<RateLimit>,
    /// Least time, in ms, between the destination's latest known time and the packet's
    /// timeout time.
    pub min_timeout_ms: u64,
    /// Most time, in ms, between the destination's latest known time and the packet's
    /// timeout time.
    pub max_timeout_ms: u64,
    /// Least confirmations of the proof height on the source chain (the source client's
    /// own minimum also applies; the larger wins).
    pub min_confirmations: u64,
    /// Least fee a packet must offer.
    #[serde(with = "crate::serde_hex::u128_str")]
    pub fee: u128,
}

fn default_route_gas_limit() -> u64 {
    DEFAULT_ROUTE_GAS_LIMIT
}

fn default_max_route_gas_limit() -> u64 {
    MAX_PACKET_GAS_LIMIT
}

/// Checks `0 < value <= cap` for a gas cap named `what`.
fn check_gas_cap(what: &'static str, value: u64, cap: u64) -> Result<(), ParamsError> {
    if value == 0 {
        return Err(ParamsError::ZeroGasLimit);
    }
    if value > cap {
        return Err(ParamsError::GasLimitOverCap { what, value, cap });
    }
    Ok(())
}

fn check_app_list(which: &'static str, apps: &[Vec<u8>]) -> Result<(), ParamsError> {
    if apps.is_empty() {
        return Err(ParamsError::EmptyAppList { which });
    }
    if apps.len() > MAX_ROUTE_APPS {
        return Err(ParamsError::TooManyApps {
            which,
            count: apps.len(),
            max: MAX_ROUTE_APPS,
        });
    }
    for (i, app) in apps.iter().enumerate() {
        if app.is_empty() {
            return Err(ParamsError::EmptyAppId { which });
        }
        if app.len() > MAX_APP_ID_LEN {
            return Err(ParamsError::AppIdTooLong {
                which,
                len: app.len(),
                max: MAX_APP_ID_LEN,
            });
        }
        if apps.iter().take(i).any(|earlier| earlier == app) {
            return Err(ParamsError::DuplicateAppId { which });
        }
    }
    Ok(())
}

impl RoutePolicy {
    /// Checks the policy: distinct chains, non-empty app lists within caps and without
    /// duplicates, `0 < max_payload <= MAX_PAYLOAD_BYTES`,
    /// `0 < max_gas_limit <= MAX_PACKET_GAS_LIMIT`, positive rates (route and per app) whose
    /// byte budget holds at least one maximal payload, and `min_timeout_ms <= max_timeout_ms`.
    /// (The council's own `max_route_gas_limit` is checked against its state.)
    pub fn check(&self) -> Result<(), ParamsError> {
        if self.source_chain == self.dest_chain {
            return Err(ParamsError::SameSourceAndDest);
        }
        check_app_list("source", &self.source_apps)?;
        check_app_list("destination", &self.dest_apps)?;
        if self.max_payload == 0 {
            return Err(ParamsError::ZeroMaxPayload);
        }
        if usize::try_from(self.max_payload).map_or(true, |m| m > MAX_PAYLOAD_BYTES) {
            return Err(ParamsError::MaxPayloadOverCap {
                max_payload: self.max_payload,
                cap: MAX_PAYLOAD_BYTES,
            });
        }
        check_gas_cap("max_gas_limit", self.max_gas_limit, MAX_PACKET_GAS_LIMIT)?;
        for rate in core::iter::once(&self.rate).chain(self.app_rate.as_ref()) {
            rate.check()?;
            if rate.bytes < u64::from(self.max_payload) {
                return Err(ParamsError::RateBelowMaxPayload {
                    bytes: rate.bytes,
                    max_payload: self.max_payload,
                });
            }
        }
        if self.min_timeout_ms > self.max_timeout_ms {
            return Err(ParamsError::TimeoutBoundsInverted {
                min: self.min_timeout_ms,
                max: self.max_timeout_ms,
            });
        }
        Ok(())
    }

    /// True when `app` is one of the allowed source apps.
    pub fn allows_source_app(&self, app: &[u8]) -> bool {
        self.source_apps.iter().any(|a| a.as_slice() == app)
    }

    /// True when `app` is one of the allowed destination apps.
    pub fn allows_dest_app(&self, app: &[u8]) -> bool {
        self.dest_apps.iter().any(|a| a.as_slice() == app)
    }
}

fn encode_app_list(apps: &[Vec<u8>], out: &mut Vec<u8>) {
    encode_len(apps.len(), out);
    for app in apps {
        encode_bytes(app, out);
    }
}

fn decode_app_list(r: &mut Reader<'_>) -> Result<Vec<Vec<u8>>, DecodeError> {
    let count = r.read_len(MAX_ROUTE_APPS)?;
    let mut apps = Vec::with_capacity(count.min(r.remaining()));
    for _ in 0..count {
        apps.push(decode_bytes(r, MAX_APP_ID_LEN)?);
    }
    Ok(apps)
}

impl Encode for RoutePolicy {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.source_chain.encode_to(out);
        encode_app_list(&self.source_apps, out);
        self.dest_chain.encode_to(out);
        encode_app_list(&self.dest_apps, out);
        self.ordered.encode_to(out);
        self.max_payload.encode_to(out);
        self.max_gas_limit.encode_to(out);
        self.rate.encode_to(out);
        self.app_rate.encode_to(out);
        self.min_timeout_ms.encode_to(out);
        self.max_timeout_ms.encode_to(out);
        self.min_confirmations.encode_to(out);
        self.fee.encode_to(out);
    }
}

impl Decode for RoutePolicy {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            source_chain: Decode::decode_from(r)?,
            source_apps: decode_app_list(r)?,
            dest_chain: Decode::decode_from(r)?,
            dest_apps: decode_app_list(r)?,
            ordered: Decode::decode_from(r)?,
            max_payload: Decode::decode_from(r)?,
            max_gas_limit: Decode::decode_from(r)?,
            rate: Decode::decode_from(r)?,
            app_rate: Decode::decode_from(r)?,
            min_timeout_ms: Decode::decode_from(r)?,
            max_timeout_ms: Decode::decode_from(r)?,
            min_confirmations: Decode::decode_from(r)?,
            fee: Decode::decode_from(r)?,
        })
    }
}

// ---------------------------------------------------------------------------------------
// Governance parameters
// ---------------------------------------------------------------------------------------

/// The council's own rules: voting periods, timelock, tally fractions, deposit and the
/// number of proposals that may be voting at once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GovParams {
    /// Length of a normal vote, in ms (`> 0`).
    pub voting_period_ms: u64,
    /// Length of an expedited vote, in ms (`0 < expedited <= voting_period_ms`).
    pub expedited_voting_period_ms: u64,
    /// Delay between passing and execution, in ms (may be 0).
    pub timelock_ms: u64,
    /// Share of the snapshot weight that must vote (`0 < quorum <= 1`).
    pub quorum: Fraction,
    /// Share of yes over yes+no+veto a normal proposal needs (`1/2 < threshold <= 1`).
    pub threshold: Fraction,
    /// Threshold of an expedited proposal (`threshold <= expedited_threshold <= 1`).
    pub expedited_threshold: Fraction,
    /// Share of veto over all votes that vetoes a proposal (`0 < veto <= 1`).
    pub veto: Fraction,
    /// Least deposit a proposal carries.
    #[serde(with = "crate::serde_hex::u128_str")]
    pub min_deposit: u128,
    /// Most proposals in their voting period at once (`>= 1`).
    pub max_active_proposals: u32,
    /// Largest `max_gas_limit` a route may be given (`1..=MAX_PACKET_GAS_LIMIT`).
    #[serde(default = "default_max_route_gas_limit")]
    pub max_route_gas_limit: u64,
}

impl GovParams {
    /// Checks: `1/2 < threshold <= 1`, `threshold <= expedited_threshold <= 1`,
    /// `0 < quorum <= 1`, `0 < veto <= 1`, positive periods with the expedited one no longer
    /// than the normal one, and `max_active_proposals >= 1`.
    pub fn check(&self) -> Result<(), ParamsError> {
        self.threshold.check_at_most_one("threshold")?;
        if self.threshold.cmp_value(&Fraction::HALF) != Ordering::Greater {
            return Err(ParamsError::ThresholdTooLow {
                num: self.threshold.num,
                den: self.threshold.den,
            });
        }
        self.expedited_threshold
            .check_at_most_one("expedited_threshold")?;
        if self.expedited_threshold.cmp_value(&self.threshold) == Ordering::Less {
            return Err(ParamsError::ExpeditedThresholdBelowThreshold);
        }
        self.quorum.check_unit_interval("quorum")?;
        self.veto.check_unit_interval("veto")?;
        if self.voting_period_ms == 0 {
            return Err(ParamsError::ZeroPeriod {
                what: "voting_period_ms",
            });
        }
        if self.expedited_voting_period_ms == 0 {
            return Err(ParamsError::ZeroPeriod {
                what: "expedited_voting_period_ms",
            });
        }
        if self.expedited_voting_period_ms > self.voting_period_ms {
            return Err(ParamsError::ExpeditedPeriodTooLong {
                expedited_ms: self.expedited_voting_period_ms,
                normal_ms: self.voting_period_ms,
            });
        }
        if self.max_active_proposals == 0 {
            return Err(ParamsError::ZeroMaxActiveProposals);
        }
        check_gas_cap(
            "max_route_gas_limit",
            self.max_route_gas_limit,
            MAX_PACKET_GAS_LIMIT,
        )
    }

    /// Checks these parameters against the bounds fixed at genesis: the quorum is at least
    /// the floor, the veto share at most the ceiling, and each period at least its
    /// minimum. No vote can move the parameters past them.
    pub fn check_within(&self, floors: &GovFloors) -> Result<(), ParamsError> {
        let out =
            |what: &'static str, bound: String| ParamsError::OutOfGenesisBounds { what, bound };
        if self.quorum.cmp_value(&floors.min_quorum) == Ordering::Less {
            return Err(out(
                "quorum",
                format!(
                    "at least {}/{}",
                    floors.min_quorum.num, floors.min_quorum.den
                ),
            ));
        }
        if self.veto.cmp_value(&floors.max_veto) == Ordering::Greater {
            return Err(out(
                "veto",
                format!("at most {}/{}", floors.max_veto.num, floors.max_veto.den),
            ));
        }
        for (what, value, min) in [
            (
                "voting_period_ms",
                self.voting_period_ms,
                floors.min_voting_period_ms,
            ),
            (
                "expedited_voting_period_ms",
                self.expedited_voting_period_ms,
                floors.min_expedited_voting_period_ms,
            ),
            ("timelock_ms", self.timelock_ms, floors.min_timelock_ms),
        ] {
            if value < min {
                return Err(out(what, format!("at least {min} ms")));
            }
        }
        Ok(())
    }
}

/// Bounds fixed at genesis that no vote can cross (DESIGN §6): a coalition that passes a
/// `SetParams` cannot lower the quorum, raise the veto share or shorten the periods and
/// timelock past them, and so cannot vote away the rules that protect the others.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GovFloors {
    /// Least quorum (`>= 1/3`).
    pub min_quorum: Fraction,
    /// Largest veto share (`0 < max_veto <= 1/2`).
    pub max_veto: Fraction,
    /// Least normal voting period, in ms (`> 0`).
    pub min_voting_period_ms: u64,
    /// Least expedited voting period, in ms (`> 0`).
    pub min_expedited_voting_period_ms: u64,
    /// Least timelock, in ms.
    pub min_timelock_ms: u64,
}

impl GovFloors {
    /// Checks the bounds themselves: quorum floor in `[1/3, 1]`, veto ceiling in
    /// `(0, 1/2]`, positive minimum periods.
    pub fn check(&self) -> Result<(), ParamsError> {
        self.min_quorum.check_unit_interval("min_quorum")?;
        if self.min_quorum.cmp_value(&Fraction::ONE_THIRD) == Ordering::Less {
            return Err(ParamsError::WeakGenesisBound {
                what: "min_quorum",
                rule: "at least 1/3",
            });
        }
        self.max_veto.check_unit_interval("max_veto")?;
        if self.max_veto.cmp_value(&Fraction::HALF) == Ordering::Greater {
            return Err(ParamsError::WeakGenesisBound {
                what: "max_veto",
                rule: "at most 1/2",
            });
        }
        for (what, value) in [
            ("min_voting_period_ms", self.min_voting_period_ms),
            (
                "min_expedited_voting_period_ms",
                self.min_expedited_voting_period_ms,
            ),
        ] {
            if value == 0 {
                return Err(ParamsError::ZeroPeriod { what });
            }
        }
        Ok(())
    }
}

impl Encode for GovFloors {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.min_quorum.encode_to(out);
        self.max_veto.encode_to(out);
        self.min_voting_period_ms.encode_to(out);
        self.min_expedited_voting_period_ms.encode_to(out);
        self.min_timelock_ms.encode_to(out);
    }
}

impl Decode for GovFloors {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            min_quorum: Decode::decode_from(r)?,
            max_veto: Decode::decode_from(r)?,
            min_voting_period_ms: Decode::decode_from(r)?,
            min_expedited_voting_period_ms: Decode::decode_from(r)?,
            min_timelock_ms: Decode::decode_from(r)?,
        })
    }
}

impl Encode for GovParams {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.voting_period_ms.encode_to(out);
        self.expedited_voting_period_ms.encode_to(out);
        self.timelock_ms.encode_to(out);
        self.quorum.encode_to(out);
        self.threshold.encode_to(out);
        self.expedited_threshold.encode_to(out);
        self.veto.encode_to(out);
        self.min_deposit.encode_to(out);
        self.max_active_proposals.encode_to(out);
        self.max_route_gas_limit.encode_to(out);
    }
}

impl Decode for GovParams {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            voting_period_ms: Decode::decode_from(r)?,
            expedited_voting_period_ms: Decode::decode_from(r)?,
            timelock_ms: Decode::decode_from(r)?,
            quorum: Decode::decode_from(r)?,
            threshold: Decode::decode_from(r)?,
            expedited_threshold: Decode::decode_from(r)?,
            veto: Decode::decode_from(r)?,
            min_deposit: Decode::decode_from(r)?,
            max_active_proposals: Decode::decode_from(r)?,
            max_route_gas_limit: Decode::decode_from(r)?,
        })
    }
}

// ---------------------------------------------------------------------------------------
// Proposal kinds
// ---------------------------------------------------------------------------------------

/// What a proposal does once passed and its timelock has ended. Encoded as a tag byte
/// (`0x01`..`0x19`, in declaration order) followed by the variant's fields.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ProposalKind {
    /// `0x01`: admit an organization (or re-admit a suspended or exited one).
    AddMember {
        /// The organization.
        org: OrgId,
        /// Display name (1 to [`MAX_MEMBER_NAME_LEN`] bytes).
        name: String,
        /// Voting weight (`1..=MAX_WEIGHT`).
        weight: u64,
        /// Role.
        role: Role,
        /// ed25519 account keys (1 to [`MAX_MEMBER_KEYS`], distinct).
        #[serde(with = "serde_lists::keys")]
        keys: Vec<[u8; 32]>,
    },
    /// `0x02`: suspend an active member.
    SuspendMember {
        /// The organization.
        org: OrgId,
    },
    /// `0x03`: remove a member (status becomes exited).
    RemoveMember {
        /// The organization.
        org: OrgId,
    },
    /// `0x04`: change a member's weight.
    ChangeWeight {
        /// The organization.
        org: OrgId,
        /// New weight (`1..=MAX_WEIGHT`).
        weight: u64,
    },
    /// `0x05`: replace a member's account keys (lost or compromised key).
    ResetMemberKey {
        /// The organization.
        org: OrgId,
        /// New keys (1 to [`MAX_MEMBER_KEYS`], distinct).
        #[serde(with = "serde_lists::keys")]
        keys: Vec<[u8; 32]>,
    },
    /// `0x06`: register a chain and create its light client.
    RegisterChain(ChainRegistration),
    /// `0x07`: freeze a chain's light client.
    FreezeClient {
        /// The chain.
        chain: ChainId,
    },
    /// `0x08`: unfreeze a frozen light client.
    RecoverClient {
        /// The chain.
        chain: ChainId,
    },
    /// `0x09`: open a new route.
    OpenRoute {
        /// The route id (never reused).
        route: RouteId,
        /// Its policy.
        policy: RoutePolicy,
    },
    /// `0x0a`: replace the policy of an open or paused route.
    UpdateRoute {
        /// The route.
        route: RouteId,
        /// The new policy (same chains and ordering).
        policy: RoutePolicy,
    },
    /// `0x0b`: pause an open route.
    PauseRoute {
        /// The route.
        route: RouteId,
    },
    /// `0x0c`: resume a paused route.
    ResumeRoute {
        /// The route.
        route: RouteId,
    },
    /// `0x0d`: close a route for good.
    CloseRoute {
        /// The route.
        route: RouteId,
    },
    /// `0x0e`: add a hub validator.
    AddValidator {
        /// ed25519 consensus key.
        #[serde(with = "crate::serde_hex::array")]
        pub_key: [u8; 32],
        /// Voting power (`1..=MAX_POWER`).
        power: u64,
        /// Address of its secp256k1 attestation key (signs checkpoints, checked by
        /// gateways with `ecrecover`).
        #[serde(with = "crate::serde_hex::array")]
        attestation_address: [u8; 20],
    },
    /// `0x0f`: remove a hub validator.
    RemoveValidator {
        /// ed25519 consensus key.
        #[serde(with = "crate::serde_hex::array")]
        pub_key: [u8; 32],
    },
    /// `0x10`: change a validator's power.
    ChangePower {
        /// ed25519 consensus key.
        #[serde(with = "crate::serde_hex::array")]
        pub_key: [u8; 32],
        /// New power (`1..=MAX_POWER`).
        power: u64,
    },
    /// `0x11`: replace the governance parameters.
    SetParams(GovParams),
    /// `0x12`: register a relayer account.
    RegisterRelayer {
        /// ed25519 account key.
        #[serde(with = "crate::serde_hex::array")]
        account: [u8; 32],
    },
    /// `0x13`: penalize a registered relayer.
    PenalizeRelayer {
        /// ed25519 account key.
        #[serde(with = "crate::serde_hex::array")]
        account: [u8; 32],
        /// Penalty (`> 0`).
        #[serde(with = "crate::serde_hex::u128_str")]
        amount: u128,
    },
    /// `0x14`: schedule a software upgrade at a hub height.
    ScheduleUpgrade {
        /// Upgrade name (1 to [`MAX_UPGRADE_NAME_LEN`] bytes).
        name: String,
        /// Hub height (`> 0`).
        height: u64,
    },
    /// `0x15`: replace a registered chain's light-client parameters and trust root (a new
    /// attester set, a new trusted header). The chain keeps its kind, routes, packets and
    /// gateway; its client restarts from the new trust root, which also recovers an
    /// expired or frozen client.
    ReplaceClient {
        /// The chain.
        chain: ChainId,
        /// New light-client parameters.
        params: LightClientParams,
        /// New kind-specific trust root (1 to [`MAX_TRUST_ROOT_LEN`] bytes, not all zero).
        #[serde(with = "crate::serde_hex::bytes")]
        trust_root: Vec<u8>,
    },
    /// `0x16`: admit an account that is neither a member nor a relayer (an operator's
    /// tooling, a monitor) to submit transactions.
    AdmitAccount {
        /// ed25519 account key.
        #[serde(with = "crate::serde_hex::array")]
        account: [u8; 32],
    },
    /// `0x17`: withdraw an admitted account.
    RemoveAccount {
        /// ed25519 account key.
        #[serde(with = "crate::serde_hex::array")]
        account: [u8; 32],
    },
    /// `0x18`: register `chain` as a chain under another Junction hub, `via` (a registered
    /// `junction_hub` chain): a destination reached through that hub, whose proofs are
    /// proofs about that hub's log (`spec/hub-to-hub.md`).
    RegisterRemoteChain {
        /// The remote chain's id (global across the two hubs).
        chain: ChainId,
        /// The hub it lives under.
        via: ChainId,
    },
    /// `0x19`: retire a chain's gateway for good (`spec/upgrades.md`, *Retiring a
    /// gateway*). The hub logs a retirement entry for it; from the checkpoint that carries
    /// the entry the gateway refuses new sends, while it still runs the packets already
    /// logged for it and takes the outcomes of those it sent. New packets to the chain end
    /// with an error-ack (`gateway_retired`).
    RetireGateway {
        /// The chain whose gateway retires (an EVM chain with a gateway).
        chain: ChainId,
        /// The registered chain that takes its place, named in the retirement entry so
        /// that apps find it (none: the chain is simply closed).
        #[serde(default)]
        successor: Option<ChainId>,
    },
}

fn check_keys(keys: &[[u8; 32]]) -> Result<(), ParamsError> {
    if keys.is_empty() {
        return Err(ParamsError::NoKeys);
    }
    if keys.len() > MAX_MEMBER_KEYS {
        return Err(ParamsError::TooManyKeys {
            count: keys.len(),
            max: MAX_MEMBER_KEYS,
        });
    }
    for (i, key) in keys.iter().enumerate() {
        if keys.iter().take(i).any(|earlier| earlier == key) {
            return Err(ParamsError::DuplicateKey);
        }
    }
    Ok(())
}

fn check_weight(weight: u64) -> Result<(), ParamsError> {
    if weight == 0 {
        return Err(ParamsError::ZeroWeight);
    }
    if weight > MAX_WEIGHT {
        return Err(ParamsError::WeightTooLarge {
            weight,
            max: MAX_WEIGHT,
        });
    }
    Ok(())
}

fn check_power(power: u64) -> Result<(), ParamsError> {
    if power == 0 {
        return Err(ParamsError::ZeroPower);
    }
    if power > MAX_POWER {
        return Err(ParamsError::PowerTooLarge {
            power,
            max: MAX_POWER,
        });
    }
    Ok(())
}

/// Checks a member name: 1 to [`MAX_MEMBER_NAME_LEN`] bytes.
pub fn check_member_name(name: &str) -> Result<(), ParamsError> {
    if name.is_empty() {
        return Err(ParamsError::EmptyName);
    }
    if name.len() > MAX_MEMBER_NAME_LEN {
        return Err(ParamsError::NameTooLong {
            len: name.len(),
            max: MAX_MEMBER_NAME_LEN,
        });
    }
    Ok(())
}

/// Checks a member's fields as `AddMember` does: name, weight and keys.
pub fn check_member_fields(name: &str, weight: u64, keys: &[[u8; 32]]) -> Result<(), ParamsError> {
    check_member_name(name)?;
    check_weight(weight)?;
    check_keys(keys)
}

/// Checks a validator power: `1..=MAX_POWER`.
pub fn check_validator_power(power: u64) -> Result<(), ParamsError> {
    check_power(power)
}

impl ProposalKind {
    /// Tag bytes, in declaration order.
    pub const TAG_ADD_MEMBER: u8 = 0x01;
    /// Tag of [`ProposalKind::SuspendMember`].
    pub const TAG_SUSPEND_MEMBER: u8 = 0x02;
    /// Tag of [`ProposalKind::RemoveMember`].
    pub const TAG_REMOVE_MEMBER: u8 = 0x03;
    /// Tag of [`ProposalKind::ChangeWeight`].
    pub const TAG_CHANGE_WEIGHT: u8 = 0x04;
    /// Tag of [`ProposalKind::ResetMemberKey`].
    pub const TAG_RESET_MEMBER_KEY: u8 = 0x05;
    /// Tag of [`ProposalKind::RegisterChain`].
    pub const TAG_REGISTER_CHAIN: u8 = 0x06;
    /// Tag of [`ProposalKind::FreezeClient`].
    pub const TAG_FREEZE_CLIENT: u8 = 0x07;
    /// Tag of [`ProposalKind::RecoverClient`].
    pub const TAG_RECOVER_CLIENT: u8 = 0x08;
    /// Tag of [`ProposalKind::OpenRoute`].
    pub const TAG_OPEN_ROUTE: u8 = 0x09;
    /// Tag of [`ProposalKind::UpdateRoute`].
    pub const TAG_UPDATE_ROUTE: u8 = 0x0a;
    /// Tag of [`ProposalKind::PauseRoute`].
    pub const TAG_PAUSE_ROUTE: u8 = 0x0b;
    /// Tag of [`ProposalKind::ResumeRoute`].
    pub const TAG_RESUME_ROUTE: u8 = 0x0c;
    /// Tag of [`ProposalKind::CloseRoute`].
    pub const TAG_CLOSE_ROUTE: u8 = 0x0d;
    /// Tag of [`ProposalKind::AddValidator`].
    pub const TAG_ADD_VALIDATOR: u8 = 0x0e;
    /// Tag of [`ProposalKind::RemoveValidator`].
    pub const TAG_REMOVE_VALIDATOR: u8 = 0x0f;
    /// Tag of [`ProposalKind::ChangePower`].
    pub const TAG_CHANGE_POWER: u8 = 0x10;
    /// Tag of [`ProposalKind::SetParams`].
    pub const TAG_SET_PARAMS: u8 = 0x11;
    /// Tag of [`ProposalKind::RegisterRelayer`].
    pub const TAG_REGISTER_RELAYER: u8 = 0x12;
    /// Tag of [`ProposalKind::PenalizeRelayer`].
    pub const TAG_PENALIZE_RELAYER: u8 = 0x13;
    /// Tag of [`ProposalKind::ScheduleUpgrade`].
    pub const TAG_SCHEDULE_UPGRADE: u8 = 0x14;
    /// Tag of [`ProposalKind::ReplaceClient`].
    pub const TAG_REPLACE_CLIENT: u8 = 0x15;
    /// Tag of [`ProposalKind::AdmitAccount`].
    pub const TAG_ADMIT_ACCOUNT: u8 = 0x16;
    /// Tag of [`ProposalKind::RemoveAccount`].
    pub const TAG_REMOVE_ACCOUNT: u8 = 0x17;
    /// Tag of [`ProposalKind::RegisterRemoteChain`].
    pub const TAG_REGISTER_REMOTE_CHAIN: u8 = 0x18;
    /// Tag of [`ProposalKind::RetireGateway`].
    pub const TAG_RETIRE_GATEWAY: u8 = 0x19;

    /// The tag byte of this kind.
    pub fn tag(&self) -> u8 {
        match self {
            ProposalKind::AddMember { .. } => Self::TAG_ADD_MEMBER,
            ProposalKind::SuspendMember { .. } => Self::TAG_SUSPEND_MEMBER,
            ProposalKind::RemoveMember { .. } => Self::TAG_REMOVE_MEMBER,
            ProposalKind::ChangeWeight { .. } => Self::TAG_CHANGE_WEIGHT,
            ProposalKind::ResetMemberKey { .. } => Self::TAG_RESET_MEMBER_KEY,
            ProposalKind::RegisterChain(_) => Self::TAG_REGISTER_CHAIN,
            ProposalKind::FreezeClient { .. } => Self::TAG_FREEZE_CLIENT,
            ProposalKind::RecoverClient { .. } => Self::TAG_RECOVER_CLIENT,
            ProposalKind::OpenRoute { .. } => Self::TAG_OPEN_ROUTE,
            ProposalKind::UpdateRoute { .. } => Self::TAG_UPDATE_ROUTE,
            ProposalKind::PauseRoute { .. } => Self::TAG_PAUSE_ROUTE,
            ProposalKind::ResumeRoute { .. } => Self::TAG_RESUME_ROUTE,
            ProposalKind::CloseRoute { .. } => Self::TAG_CLOSE_ROUTE,
            ProposalKind::AddValidator { .. } => Self::TAG_ADD_VALIDATOR,
            ProposalKind::RemoveValidator { .. } => Self::TAG_REMOVE_VALIDATOR,
            ProposalKind::ChangePower { .. } => Self::TAG_CHANGE_POWER,
            ProposalKind::SetParams(_) => Self::TAG_SET_PARAMS,
            ProposalKind::RegisterRelayer { .. } => Self::TAG_REGISTER_RELAYER,
            ProposalKind::PenalizeRelayer { .. } => Self::TAG_PENALIZE_RELAYER,
            ProposalKind::ScheduleUpgrade { .. } => Self::TAG_SCHEDULE_UPGRADE,
            ProposalKind::ReplaceClient { .. } => Self::TAG_REPLACE_CLIENT,
            ProposalKind::AdmitAccount { .. } => Self::TAG_ADMIT_ACCOUNT,
            ProposalKind::RemoveAccount { .. } => Self::TAG_REMOVE_ACCOUNT,
            ProposalKind::RegisterRemoteChain { .. } => Self::TAG_REGISTER_REMOTE_CHAIN,
            ProposalKind::RetireGateway { .. } => Self::TAG_RETIRE_GATEWAY,
        }
    }

    /// Stable snake_case name of the kind (as in JSON `"type"`).
    pub fn name(&self) -> &'static str {
        match self {
            ProposalKind::AddMember { .. } => "add_member",
            ProposalKind::SuspendMember { .. } => "suspend_member",
            ProposalKind::RemoveMember { .. } => "remove_member",
            ProposalKind::ChangeWeight { .. } => "change_weight",
            ProposalKind::ResetMemberKey { .. } => "reset_member_key",
            ProposalKind::RegisterChain(_) => "register_chain",
            ProposalKind::FreezeClient { .. } => "freeze_client",
            ProposalKind::RecoverClient { .. } => "recover_client",
            ProposalKind::OpenRoute { .. } => "open_route",
            ProposalKind::UpdateRoute { .. } => "update_route",
            ProposalKind::PauseRoute { .. } => "pause_route",
            ProposalKind::ResumeRoute { .. } => "resume_route",
            ProposalKind::CloseRoute { .. } => "close_route",
            ProposalKind::AddValidator { .. } => "add_validator",
            ProposalKind::RemoveValidator { .. } => "remove_validator",
            ProposalKind::ChangePower { .. } => "change_power",
            ProposalKind::SetParams(_) => "set_params",
            ProposalKind::RegisterRelayer { .. } => "register_relayer",
            ProposalKind::PenalizeRelayer { .. } => "penalize_relayer",
            ProposalKind::ScheduleUpgrade { .. } => "schedule_upgrade",
            ProposalKind::ReplaceClient { .. } => "replace_client",
            ProposalKind::AdmitAccount { .. } => "admit_account",
            ProposalKind::RemoveAccount { .. } => "remove_account",
            ProposalKind::RegisterRemoteChain { .. } => "register_remote_chain",
            ProposalKind::RetireGateway { .. } => "retire_gateway",
        }
    }

    /// True for kinds that change who decides or whom the hub trusts: the council
    /// (members, weights, keys), the validator set, the governance parameters, and the
    /// trust in other chains (registering a chain, replacing a trust root, unfreezing a
    /// client — whoever chooses a chain's attesters can drain its escrows). They pass only
    /// with more than 2/3 of the non-abstaining weight, whatever the configured threshold.
    pub fn needs_supermajority(&self) -> bool {
        matches!(
            self,
            ProposalKind::AddMember { .. }
                | ProposalKind::SuspendMember { .. }
                | ProposalKind::RemoveMember { .. }
                | ProposalKind::ChangeWeight { .. }
                | ProposalKind::ResetMemberKey { .. }
                | ProposalKind::AddValidator { .. }
                | ProposalKind::RemoveValidator { .. }
                | ProposalKind::ChangePower { .. }
                | ProposalKind::SetParams(_)
                | ProposalKind::RegisterChain(_)
                | ProposalKind::RegisterRemoteChain { .. }
                | ProposalKind::ReplaceClient { .. }
                | ProposalKind::RecoverClient { .. }
        )
    }

    /// Checks the rules that do not depend on state: names, weights, powers, keys,
    /// registrations, policies, parameters, penalties and upgrade heights.
    pub fn check(&self) -> Result<(), ParamsError> {
        match self {
            ProposalKind::AddMember {
                name, weight, keys, ..
            } => check_member_fields(name, *weight, keys),
            ProposalKind::ChangeWeight { weight, .. } => check_weight(*weight),
            ProposalKind::ResetMemberKey { keys, .. } => check_keys(keys),
            ProposalKind::RegisterChain(registration) => registration.check(),
            ProposalKind::ReplaceClient {
                params, trust_root, ..
            } => check_client_trust(params, trust_root),
            ProposalKind::OpenRoute { policy, .. } | ProposalKind::UpdateRoute { policy, .. } => {
                policy.check()
            }
            ProposalKind::AddValidator { power, .. } | ProposalKind::ChangePower { power, .. } => {
                check_power(*power)
            }
            ProposalKind::SetParams(params) => params.check(),
            ProposalKind::PenalizeRelayer { amount, .. } => {
                if *amount == 0 {
                    Err(ParamsError::ZeroPenalty)
                } else {
                    Ok(())
                }
            }
            ProposalKind::ScheduleUpgrade { name, height } => {
                if name.is_empty() {
                    return Err(ParamsError::EmptyUpgradeName);
                }
                if name.len() > MAX_UPGRADE_NAME_LEN {
                    return Err(ParamsError::UpgradeNameTooLong {
                        len: name.len(),
                        max: MAX_UPGRADE_NAME_LEN,
                    });
                }
                if *height == 0 {
                    return Err(ParamsError::ZeroUpgradeHeight);
                }
                Ok(())
            }
            ProposalKind::SuspendMember { .. }
            | ProposalKind::RemoveMember { .. }
            | ProposalKind::FreezeClient { .. }
            | ProposalKind::RecoverClient { .. }
            | ProposalKind::PauseRoute { .. }
            | ProposalKind::ResumeRoute { .. }
            | ProposalKind::CloseRoute { .. }
            | ProposalKind::RemoveValidator { .. }
            | ProposalKind::RegisterRelayer { .. }
            | ProposalKind::AdmitAccount { .. }
            | ProposalKind::RemoveAccount { .. } => Ok(()),
            ProposalKind::RegisterRemoteChain { chain, via } if chain == via => {
                Err(ParamsError::RemoteChainIsItsHub)
            }
            ProposalKind::RegisterRemoteChain { .. } => Ok(()),
            ProposalKind::RetireGateway {
                chain,
                successor: Some(successor),
            } if chain == successor => Err(ParamsError::GatewayIsItsSuccessor),
            ProposalKind::RetireGateway { .. } => Ok(()),
        }
    }
}

impl Encode for ProposalKind {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.push(self.tag());
        match self {
            ProposalKind::AddMember {
                org,
                name,
                weight,
                role,
                keys,
            } => {
                org.encode_to(out);
                encode_str(name, out);
                weight.encode_to(out);
                role.encode_to(out);
                encode_vec(keys, out);
            }
            ProposalKind::SuspendMember { org } | ProposalKind::RemoveMember { org } => {
                org.encode_to(out);
            }
            ProposalKind::ChangeWeight { org, weight } => {
                org.encode_to(out);
                weight.encode_to(out);
            }
            ProposalKind::ResetMemberKey { org, keys } => {
                org.encode_to(out);
                encode_vec(keys, out);
            }
            ProposalKind::RegisterChain(registration) => registration.encode_to(out),
            ProposalKind::FreezeClient { chain } | ProposalKind::RecoverClient { chain } => {
                chain.encode_to(out);
            }
            ProposalKind::OpenRoute { route, policy }
            | ProposalKind::UpdateRoute { route, policy } => {
                route.encode_to(out);
                policy.encode_to(out);
            }
            ProposalKind::PauseRoute { route }
            | ProposalKind::ResumeRoute { route }
            | ProposalKind::CloseRoute { route } => route.encode_to(out),
            ProposalKind::AddValidator {
                pub_key,
                power,
                attestation_address,
            } => {
                pub_key.encode_to(out);
                power.encode_to(out);
                attestation_address.encode_to(out);
            }
            ProposalKind::ChangePower { pub_key, power } => {
                pub_key.encode_to(out);
                power.encode_to(out);
            }
            ProposalKind::RemoveValidator { pub_key } => pub_key.encode_to(out),
            ProposalKind::SetParams(params) => params.encode_to(out),
            ProposalKind::RegisterRelayer { account } => account.encode_to(out),
            ProposalKind::PenalizeRelayer { account, amount } => {
                account.encode_to(out);
                amount.encode_to(out);
            }
            ProposalKind::ScheduleUpgrade { name, height } => {
                encode_str(name, out);
                height.encode_to(out);
            }
            ProposalKind::ReplaceClient {
                chain,
                params,
                trust_root,
            } => {
                chain.encode_to(out);
                params.encode_to(out);
                encode_bytes(trust_root, out);
            }
            ProposalKind::AdmitAccount { account } | ProposalKind::RemoveAccount { account } => {
                account.encode_to(out)
            }
            ProposalKind::RegisterRemoteChain { chain, via } => {
                chain.encode_to(out);
                via.encode_to(out);
            }
            ProposalKind::RetireGateway { chain, successor } => {
                chain.encode_to(out);
                successor.encode_to(out);
            }
        }
    }
}

impl Decode for ProposalKind {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let tag = r.read_u8()?;
        Ok(match tag {
            Self::TAG_ADD_MEMBER => ProposalKind::AddMember {
                org: Decode::decode_from(r)?,
                name: decode_string(r, MAX_MEMBER_NAME_LEN)?,
                weight: Decode::decode_from(r)?,
                role: Decode::decode_from(r)?,
                keys: decode_vec(r, MAX_MEMBER_KEYS)?,
            },
            Self::TAG_SUSPEND_MEMBER => ProposalKind::SuspendMember {
                org: Decode::decode_from(r)?,
            },
            Self::TAG_REMOVE_MEMBER => ProposalKind::RemoveMember {
                org: Decode::decode_from(r)?,
            },
            Self::TAG_CHANGE_WEIGHT => ProposalKind::ChangeWeight {
                org: Decode::decode_from(r)?,
                weight: Decode::decode_from(r)?,
            },
            Self::TAG_RESET_MEMBER_KEY => ProposalKind::ResetMemberKey {
                org: Decode::decode_from(r)?,
                keys: decode_vec(r, MAX_MEMBER_KEYS)?,
            },
            Self::TAG_REGISTER_CHAIN => ProposalKind::RegisterChain(Decode::decode_from(r)?),
            Self::TAG_FREEZE_CLIENT => ProposalKind::FreezeClient {
                chain: Decode::decode_from(r)?,
            },
            Self::TAG_RECOVER_CLIENT => ProposalKind::RecoverClient {
                chain: Decode::decode_from(r)?,
            },
            Self::TAG_OPEN_ROUTE => ProposalKind::OpenRoute {
                route: Decode::decode_from(r)?,
                policy: Decode::decode_from(r)?,
            },
            Self::TAG_UPDATE_ROUTE => ProposalKind::UpdateRoute {
                route: Decode::decode_from(r)?,
                policy: Decode::decode_from(r)?,
            },
            Self::TAG_PAUSE_ROUTE => ProposalKind::PauseRoute {
                route: Decode::decode_from(r)?,
            },
            Self::TAG_RESUME_ROUTE => ProposalKind::ResumeRoute {
                route: Decode::decode_from(r)?,
            },
            Self::TAG_CLOSE_ROUTE => ProposalKind::CloseRoute {
                route: Decode::decode_from(r)?,
            },
            Self::TAG_ADD_VALIDATOR => ProposalKind::AddValidator {
                pub_key: Decode::decode_from(r)?,
                power: Decode::decode_from(r)?,
                attestation_address: Decode::decode_from(r)?,
            },
            Self::TAG_REMOVE_VALIDATOR => ProposalKind::RemoveValidator {
                pub_key: Decode::decode_from(r)?,
            },
            Self::TAG_CHANGE_POWER => ProposalKind::ChangePower {
                pub_key: Decode::decode_from(r)?,
                power: Decode::decode_from(r)?,
            },
            Self::TAG_SET_PARAMS => ProposalKind::SetParams(Decode::decode_from(r)?),
            Self::TAG_REGISTER_RELAYER => ProposalKind::RegisterRelayer {
                account: Decode::decode_from(r)?,
            },
            Self::TAG_PENALIZE_RELAYER => ProposalKind::PenalizeRelayer {
                account: Decode::decode_from(r)?,
                amount: Decode::decode_from(r)?,
            },
            Self::TAG_SCHEDULE_UPGRADE => ProposalKind::ScheduleUpgrade {
                name: decode_string(r, MAX_UPGRADE_NAME_LEN)?,
                height: Decode::decode_from(r)?,
            },
            Self::TAG_REPLACE_CLIENT => ProposalKind::ReplaceClient {
                chain: Decode::decode_from(r)?,
                params: Decode::decode_from(r)?,
                trust_root: decode_bytes(r, MAX_TRUST_ROOT_LEN)?,
            },
            Self::TAG_ADMIT_ACCOUNT => ProposalKind::AdmitAccount {
                account: Decode::decode_from(r)?,
            },
            Self::TAG_REMOVE_ACCOUNT => ProposalKind::RemoveAccount {
                account: Decode::decode_from(r)?,
            },
            Self::TAG_REGISTER_REMOTE_CHAIN => ProposalKind::RegisterRemoteChain {
                chain: Decode::decode_from(r)?,
                via: Decode::decode_from(r)?,
            },
            Self::TAG_RETIRE_GATEWAY => ProposalKind::RetireGateway {
                chain: Decode::decode_from(r)?,
                successor: Decode::decode_from(r)?,
            },
            tag => {
                return Err(DecodeError::InvalidTag {
                    what: "proposal kind",
                    tag,
                })
            }
        })
    }
}

// ---------------------------------------------------------------------------------------
// Serde helpers for lists of byte values
// ---------------------------------------------------------------------------------------

/// Serde helpers for the JSON form of byte lists: each item is a lowercase hex string
/// (decoding accepts either case). Use with `#[serde(with = "...")]`.
pub mod serde_lists {
    /// `Vec<[u8; 32]>` (account keys) as a list of 64-digit hex strings.
    pub mod keys {
        use serde::{de::Error as _, Deserialize, Deserializer, Serializer};

        /// Serializes each key as a hex string.
        pub fn serialize<S: Serializer>(
            keys: &[[u8; 32]],
            serializer: S,
        ) -> Result<S::Ok, S::Error> {
            serializer.collect_seq(keys.iter().map(hex::encode))
        }

        /// Deserializes a list of 64-digit hex strings.
        pub fn deserialize<'de, D: Deserializer<'de>>(
            deserializer: D,
        ) -> Result<Vec<[u8; 32]>, D::Error> {
            let items = Vec::<String>::deserialize(deserializer)?;
            items
                .iter()
                .map(|s| {
                    let mut out = [0u8; 32];
                    hex::decode_to_slice(s.as_bytes(), &mut out).map_err(D::Error::custom)?;
                    Ok(out)
                })
                .collect()
        }
    }

    /// `Vec<Vec<u8>>` (app ids) as a list of hex strings.
    pub mod byte_strings {
        use serde::{de::Error as _, Deserialize, Deserializer, Serializer};

        /// Serializes each byte string as a hex string.
        pub fn serialize<S: Serializer>(
            items: &[Vec<u8>],
            serializer: S,
        ) -> Result<S::Ok, S::Error> {
            serializer.collect_seq(items.iter().map(hex::encode))
        }

        /// Deserializes a list of hex strings.
        pub fn deserialize<'de, D: Deserializer<'de>>(
            deserializer: D,
        ) -> Result<Vec<Vec<u8>>, D::Error> {
            let items = Vec::<String>::deserialize(deserializer)?;
            items
                .iter()
                .map(|s| hex::decode(s.as_bytes()).map_err(D::Error::custom))
                .collect()
        }
    }

    /// `Vec<([u8; 32], u64)>` (keys with a weight or power) as a list of
    /// `{"key": "<hex>", "power": n}` objects.
    pub mod key_powers {
        use serde::{Deserialize, Deserializer, Serialize, Serializer};

        #[derive(Serialize, Deserialize)]
        struct Entry {
            #[serde(with = "crate::serde_hex::array")]
            key: [u8; 32],
            power: u64,
        }

        /// Serializes each entry as an object.
        pub fn serialize<S: Serializer>(
            items: &[([u8; 32], u64)],
            serializer: S,
        ) -> Result<S::Ok, S::Error> {
            serializer.collect_seq(items.iter().map(|(key, power)| Entry {
                key: *key,
                power: *power,
            }))
        }

        /// Deserializes a list of `{"key", "power"}` objects.
        pub fn deserialize<'de, D: Deserializer<'de>>(
            deserializer: D,
        ) -> Result<Vec<([u8; 32], u64)>, D::Error> {
            let items = Vec::<Entry>::deserialize(deserializer)?;
            Ok(items.into_iter().map(|e| (e.key, e.power)).collect())
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn ids_follow_the_chain_id_rules() {
        assert!(OrgId::new("bank-a.eu_1").is_ok());
        assert_eq!(OrgId::new(""), Err(IdError::Empty));
        assert!(matches!(
            RouteId::new("A"),
            Err(IdError::InvalidByte { position: 0, .. })
        ));
        assert!(matches!(
            RouteId::new("a".repeat(65)),
            Err(IdError::TooLong { len: 65, .. })
        ));
        assert!(RouteId::new("a".repeat(64)).is_ok());
    }

    #[test]
    fn vote_option_parses_lowercase_names() {
        for option in VoteOption::ALL {
            assert_eq!(option.as_str().parse::<VoteOption>().unwrap(), *option);
        }
        assert!("Yes".parse::<VoteOption>().is_err());
    }

    #[test]
    fn trust_level_must_exceed_one_third() {
        let mut p = LightClientParams {
            trust_level: Fraction::ONE_THIRD,
            trusting_period_ms: 1,
            max_clock_drift_ms: 0,
            min_confirmations: 0,
            threshold: Fraction::TWO_THIRDS,
        };
        assert!(matches!(
            p.check(),
            Err(ParamsError::TrustLevelTooLow { .. })
        ));
        p.trust_level = Fraction::new(334, 1000);
        assert!(p.check().is_ok());
        p.threshold = Fraction::new(0, 1);
        assert_eq!(p.check().map_err(|e| e.name()), Err("zero_fraction"));
    }

    #[test]
    fn fraction_comparisons_do_not_overflow() {
        let big = Fraction::new(u64::MAX, u64::MAX);
        assert_eq!(big.cmp_value(&Fraction::ONE), Ordering::Equal);
        assert!(Fraction::HALF.exceeded_by(u64::MAX, u64::MAX));
        assert!(!Fraction::ONE.exceeded_by(u64::MAX, u64::MAX));
        assert!(Fraction::ONE.reached_by(u64::MAX, u64::MAX));
    }
}
