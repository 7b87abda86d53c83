//! What the packet core asks of route policy, and the answers: [`RouteTable`] is the
//! small trait the council implements, so that this crate knows nothing of how routes are
//! voted, stored or rate-limited, and the council knows nothing of receipts or the log.

use junction_spec::{Packet, RouteId};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// How the routes stand to a packet's sequence space.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RouteCover {
    /// A route covers the space: the packet travels on `route`, and the space has the
    /// route's ordering.
    Covered {
        /// The route the packet travels on (or whose rule refuses it).
        route: RouteId,
        /// Whether the route, and so the space, is ordered.
        ordered: bool,
    },
    /// No route covers the space (`no_route` or `source_app_not_allowed`): a final
    /// refusal, and a space with no ordering yet.
    Unassigned(PolicyRejection),
}

/// Route policy as the packet core sees it. Implementations must be deterministic:
/// the answers feed the hub's state transition.
pub trait RouteTable {
    /// Which route covers `packet`'s sequence space, if any.
    fn cover(&self, packet: &Packet) -> RouteCover;

    /// Checks `packet` against the policy of `route`. Read-only.
    fn check_packet(
        &self,
        route: &RouteId,
        packet: &Packet,
        ctx: &PacketContext,
    ) -> Result<(), PolicyRejection>;

    /// Checks like [`RouteTable::check_packet`], then takes the route's tokens for the
    /// packet. On rejection nothing changes.
    fn execute_packet(
        &mut self,
        route: &RouteId,
        packet: &Packet,
        ctx: &PacketContext,
    ) -> Result<(), PolicyRejection>;
}

/// What the hub knows when it checks a packet: its own time, the proof height and the
/// light clients' latest heights and time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PacketContext {
    /// Hub time (for the rate limit).
    pub now_ms: u64,
    /// Source-chain height of the proof of the packet.
    pub proof_height: u64,
    /// Latest height of the source chain's light client.
    pub source_latest_height: u64,
    /// Latest height of the destination chain's light client.
    pub dest_latest_height: u64,
    /// Time of that latest destination header, in ms.
    pub dest_latest_time_ms: u64,
    /// The destination lives under another hub, which judges whether the timeout is
    /// reached: the latest height and time above are that hub's checkpoint's, and serve
    /// only the timeout's bounds.
    #[serde(default)]
    pub dest_remote: bool,
}

/// Why a proven packet does not pass its route's policy. A rejection is **final** when the
/// packet and the route as voted fix it for good (see [`PolicyRejection::is_final`]): the
/// packet then gets an error-ack naming it, counted by [`PolicyRejection::name`]. Any
/// other rejection can change with time or with a relayer's choice: the packet is refused
/// without an outcome, stays pending, and times out by the rules if it never passes.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PolicyRejection {
    /// No route has that id.
    #[error("unknown route")]
    UnknownRoute,
    /// No route joins the packet's chains, or its destination chain is unknown to the hub
    /// or of a kind that cannot receive.
    #[error("no route to the packet's destination")]
    NoRoute,
    /// The packet's source or destination chain is not the route's.
    #[error("the packet's chains are not the route's chains")]
    ChainMismatch,
    /// The source or destination light client is frozen.
    #[error("the source or destination light client is frozen")]
    ClientFrozen,
    /// The route is paused.
    #[error("the route is paused")]
    RoutePaused,
    /// The route is closed.
    #[error("the route is closed")]
    RouteClosed,
    /// The sending app is not in the route's source apps.
    #[error("the source app is not allowed on this route")]
    SourceAppNotAllowed,
    /// The receiving app is not in the route's destination apps.
    #[error("the destination app is not allowed on this route")]
    DestAppNotAllowed,
    /// The payload is longer than the route allows.
    #[error("payload of {len} bytes is over the route's cap of {max}")]
    PayloadTooLarge {
        /// Payload length.
        len: u64,
        /// The route's `max_payload`.
        max: u64,
    },
    /// The packet asks more gas of the destination than the route allows.
    #[error("gas limit {gas_limit} is over the route's cap of {max}")]
    GasLimitOverCap {
        /// The packet's gas limit.
        gas_limit: u64,
        /// The route's cap (within the council's ceiling).
        max: u64,
    },
    /// The packet offers less than the route's fee.
    #[error("fee {offered} is below the route's fee {need}")]
    FeeTooLow {
        /// Fee offered.
        offered: u128,
        /// The route's fee.
        need: u128,
    },
    /// The packet's timeout is already reached on the destination chain.
    #[error("the packet's timeout is already reached on the destination chain")]
    TimeoutReached,
    /// The packet has no timeout time, so the route's timeout bounds cannot hold.
    #[error("the packet has no timeout time; this route bounds timeouts in time")]
    TimeoutWithoutTime,
    /// The timeout is closer than the route's minimum.
    #[error("timeout {remaining_ms} ms away is below the route's minimum {min_ms} ms")]
    TimeoutTooShort {
        /// Timeout time minus the destination's latest time.
        remaining_ms: u64,
        /// The route's `min_timeout_ms`.
        min_ms: u64,
    },
    /// The timeout is further than the route's maximum.
    #[error("timeout {remaining_ms} ms away is above the route's maximum {max_ms} ms")]
    TimeoutTooLong {
        /// Timeout time minus the destination's latest time.
        remaining_ms: u64,
        /// The route's `max_timeout_ms`.
        max_ms: u64,
    },
    /// The proof height is above the source client's latest height.
    #[error("proof height {proof_height} is above the source client's latest height {latest}")]
    ProofAboveClientHeight {
        /// The proof height.
        proof_height: u64,
        /// The source client's latest height.
        latest: u64,
    },
    /// The proof height has too few confirmations.
    #[error("{have} confirmations, the route needs {need}")]
    NotEnoughConfirmations {
        /// `source_latest_height - proof_height + 1`.
        have: u64,
        /// The larger of the route's and the source client's minimum.
        need: u64,
    },
    /// The route's message bucket is empty.
    #[error("the route's message rate limit is exhausted")]
    RateLimitedMessages,
    /// The route's byte bucket holds fewer tokens than the payload needs.
    #[error("the route's byte rate limit is exhausted")]
    RateLimitedBytes,
    /// The destination's gateway was retired by the council (for good).
    #[error("the destination chain's gateway is retired")]
    GatewayRetired,
}

impl PolicyRejection {
    /// Stable snake_case name (the error-ack reason and the metrics label). Both rate
    /// limits share `rate_limit_exceeded`.
    pub fn name(&self) -> &'static str {
        match self {
            PolicyRejection::UnknownRoute => "unknown_route",
            PolicyRejection::NoRoute => "no_route",
            PolicyRejection::ChainMismatch => "chain_mismatch",
            PolicyRejection::ClientFrozen => "client_frozen",
            PolicyRejection::RoutePaused => "route_paused",
            PolicyRejection::RouteClosed => "route_closed",
            PolicyRejection::SourceAppNotAllowed => "source_app_not_allowed",
            PolicyRejection::DestAppNotAllowed => "dest_app_not_allowed",
            PolicyRejection::PayloadTooLarge { .. } => "payload_over_cap",
            PolicyRejection::GasLimitOverCap { .. } => "gas_limit_over_cap",
            PolicyRejection::FeeTooLow { .. } => "fee_too_low",
            PolicyRejection::TimeoutReached => "timeout_reached",
            PolicyRejection::TimeoutWithoutTime => "timeout_without_time",
            PolicyRejection::TimeoutTooShort { .. } => "timeout_too_short",
            PolicyRejection::TimeoutTooLong { .. } => "timeout_too_long",
            PolicyRejection::ProofAboveClientHeight { .. } => "proof_above_client_height",
            PolicyRejection::NotEnoughConfirmations { .. } => "not_enough_confirmations",
            PolicyRejection::GatewayRetired => "gateway_retired",
            PolicyRejection::RateLimitedMessages | PolicyRejection::RateLimitedBytes => {
                "rate_limit_exceeded"
            }
        }
    }

    /// Whether the rejection is fixed for good by the packet and the route as voted, so
    /// that the packet ends with an error-ack: route paused or closed, an app not allowed,
    /// payload or gas over the route's cap, fee below the route's, no timeout time where
    /// the route bounds it, no route, a retired destination gateway. Everything else (frozen clients, timeout bounds
    /// measured against a destination client a relayer may or may not update, the proof's
    /// height and confirmations, an empty rate-limit bucket) may pass later.
    pub fn is_final(&self) -> bool {
        match self {
            PolicyRejection::UnknownRoute
            | PolicyRejection::NoRoute
            | PolicyRejection::ChainMismatch
            | PolicyRejection::RoutePaused
            | PolicyRejection::RouteClosed
            | PolicyRejection::SourceAppNotAllowed
            | PolicyRejection::DestAppNotAllowed
            | PolicyRejection::PayloadTooLarge { .. }
            | PolicyRejection::GasLimitOverCap { .. }
            | PolicyRejection::FeeTooLow { .. }
            | PolicyRejection::TimeoutWithoutTime
            | PolicyRejection::GatewayRetired => true,
            PolicyRejection::ClientFrozen
            | PolicyRejection::TimeoutReached
            | PolicyRejection::TimeoutTooShort { .. }
            | PolicyRejection::TimeoutTooLong { .. }
            | PolicyRejection::ProofAboveClientHeight { .. }
            | PolicyRejection::NotEnoughConfirmations { .. }
            | PolicyRejection::RateLimitedMessages
            | PolicyRejection::RateLimitedBytes => false,
        }
    }
}
