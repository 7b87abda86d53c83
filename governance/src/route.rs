//! Routes: a policy, a state, and a token bucket; and the packet policy check.
//!
//! # Token bucket
//!
//! Each route has two buckets, one counting messages and one counting payload bytes, with
//! capacities `rate.messages` and `rate.bytes`. They refill continuously over hub time:
//!
//! `tokens(now) = min(capacity, tokens(then) + (now - then) * capacity / window_ms)`.
//!
//! To keep that exact in integers the level is stored scaled by `window_ms` ("token
//! milliseconds"): `level = tokens * window_ms`, refill adds `elapsed_ms * capacity`, the
//! level is capped at `capacity * window_ms`, and taking `n` tokens subtracts
//! `n * window_ms`. Everything is `u128`, so nothing overflows and no fraction of a token
//! is ever lost to rounding. A packet needs one message token and `payload.len()` byte
//! tokens; a full window after being emptied, a bucket is full again. Time that goes
//! backwards refills nothing.

use std::collections::BTreeMap;

use junction_spec::encoding::{decode_bytes, encode_bytes, encode_len};
use junction_spec::{
    ChainId, Decode, DecodeError, Encode, GovParams, Packet, RateLimit, Reader, RouteId,
    RoutePolicy, MAX_APP_ID_LEN, MAX_ROUTE_APPS,
};
use serde::{Deserialize, Serialize};

use crate::error::GovError;
use crate::registry::ClientState;
pub use junction_packets::{PacketContext, PolicyRejection};

/// Whether packets may use a route.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RouteState {
    /// Tag `0x01`: packets pass if they meet the policy.
    Open,
    /// Tag `0x02`: every packet is rejected until a `ResumeRoute` proposal executes.
    Paused,
    /// Tag `0x03`: closed for good.
    Closed,
}

impl RouteState {
    /// Stable snake_case name.
    pub fn name(self) -> &'static str {
        match self {
            RouteState::Open => "open",
            RouteState::Paused => "paused",
            RouteState::Closed => "closed",
        }
    }
}

impl Encode for RouteState {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.push(match self {
            RouteState::Open => 1,
            RouteState::Paused => 2,
            RouteState::Closed => 3,
        });
    }
}

impl Decode for RouteState {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match r.read_u8()? {
            1 => Ok(RouteState::Open),
            2 => Ok(RouteState::Paused),
            3 => Ok(RouteState::Closed),
            tag => Err(DecodeError::InvalidTag {
                what: "route state",
                tag,
            }),
        }
    }
}

/// The rate-limit buckets of a route, scaled by the window (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenBucket {
    /// Message tokens × `window_ms`.
    #[serde(with = "junction_spec::serde_hex::u128_str")]
    pub messages: u128,
    /// Byte tokens × `window_ms`.
    #[serde(with = "junction_spec::serde_hex::u128_str")]
    pub bytes: u128,
    /// Hub time of the last refill.
    pub updated_ms: u64,
}

impl TokenBucket {
    /// A full bucket for `rate`, as of `now_ms`.
    pub fn full(rate: &RateLimit, now_ms: u64) -> Self {
        Self {
            messages: scaled(rate.messages, rate.window_ms),
            bytes: scaled(rate.bytes, rate.window_ms),
            updated_ms: now_ms,
        }
    }

    /// The levels after refilling up to `now_ms` (read-only).
    pub fn refilled(&self, rate: &RateLimit, now_ms: u64) -> TokenBucket {
        let elapsed = u128::from(now_ms.saturating_sub(self.updated_ms));
        let refill = |level: u128, capacity: u64| {
            level
                .saturating_add(elapsed.saturating_mul(u128::from(capacity)))
                .min(scaled(capacity, rate.window_ms))
        };
        TokenBucket {
            messages: refill(self.messages, rate.messages),
            bytes: refill(self.bytes, rate.bytes),
            updated_ms: self.updated_ms.max(now_ms),
        }
    }

    /// Whole tokens available at `now_ms`: `(messages, bytes)`.
    pub fn available(&self, rate: &RateLimit, now_ms: u64) -> (u64, u64) {
        let level = self.refilled(rate, now_ms);
        let window = u128::from(rate.window_ms.max(1));
        let whole = |l: u128| u64::try_from(l / window).unwrap_or(u64::MAX);
        (whole(level.messages), whole(level.bytes))
    }

    /// Checks that one message and `len` bytes can be taken at `now_ms` (read-only).
    pub fn check(&self, rate: &RateLimit, now_ms: u64, len: u64) -> Result<(), PolicyRejection> {
        self.refilled(rate, now_ms).check_level(rate, len)
    }

    fn check_level(&self, rate: &RateLimit, len: u64) -> Result<(), PolicyRejection> {
        if self.messages < scaled(1, rate.window_ms) {
            return Err(PolicyRejection::RateLimitedMessages);
        }
        if self.bytes < scaled(len, rate.window_ms) {
            return Err(PolicyRejection::RateLimitedBytes);
        }
        Ok(())
    }

    /// Refills to `now_ms`, then takes one message and `len` bytes, or changes nothing and
    /// says why not.
    pub fn take(&mut self, rate: &RateLimit, now_ms: u64, len: u64) -> Result<(), PolicyRejection> {
        let mut level = self.refilled(rate, now_ms);
        level.check_level(rate, len)?;
        level.messages = level.messages.saturating_sub(scaled(1, rate.window_ms));
        level.bytes = level.bytes.saturating_sub(scaled(len, rate.window_ms));
        *self = level;
        Ok(())
    }

    /// The bucket carried over to a new rate: whole tokens available now, capped at the new
    /// capacities, rescaled to the new window.
    pub fn rescaled(&self, old: &RateLimit, new: &RateLimit, now_ms: u64) -> TokenBucket {
        let (messages, bytes) = self.available(old, now_ms);
        TokenBucket {
            messages: scaled(messages.min(new.messages), new.window_ms),
            bytes: scaled(bytes.min(new.bytes), new.window_ms),
            updated_ms: self.updated_ms.max(now_ms),
        }
    }
}

fn scaled(tokens: u64, window_ms: u64) -> u128 {
    u128::from(tokens) * u128::from(window_ms)
}

impl Encode for TokenBucket {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.messages.encode_to(out);
        self.bytes.encode_to(out);
        self.updated_ms.encode_to(out);
    }
}

impl Decode for TokenBucket {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            messages: Decode::decode_from(r)?,
            bytes: Decode::decode_from(r)?,
            updated_ms: Decode::decode_from(r)?,
        })
    }
}

/// A route the council opened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Route {
    /// Its id.
    pub id: RouteId,
    /// What may travel on it.
    pub policy: RoutePolicy,
    /// Open, paused or closed.
    pub state: RouteState,
    /// Rate-limit buckets of the whole route.
    pub bucket: TokenBucket,
    /// Rate-limit buckets of each source app that has sent on the route (under
    /// `policy.app_rate`), sorted by app; an app without one has a full bucket.
    pub app_buckets: Vec<(Vec<u8>, TokenBucket)>,
}

impl Route {
    /// The bucket of source `app` under `policy.app_rate`, as of `now_ms` (a full one if
    /// the app has not sent yet). `None` when the route has no per-app limit.
    pub fn app_bucket(&self, app: &[u8], now_ms: u64) -> Option<(RateLimit, TokenBucket)> {
        let rate = self.policy.app_rate?;
        let bucket = self
            .app_buckets
            .binary_search_by(|(a, _)| a.as_slice().cmp(app))
            .ok()
            .and_then(|i| self.app_buckets.get(i))
            .map_or_else(|| TokenBucket::full(&rate, now_ms), |(_, b)| *b);
        Some((rate, bucket))
    }

    /// Takes one message and `len` bytes from the route's bucket and from `app`'s, or
    /// changes nothing and says which one is empty.
    pub(crate) fn take(
        &mut self,
        app: &[u8],
        now_ms: u64,
        len: u64,
    ) -> Result<(), PolicyRejection> {
        let mut route_bucket = self.bucket;
        route_bucket.take(&self.policy.rate, now_ms, len)?;
        if let Some((rate, mut bucket)) = self.app_bucket(app, now_ms) {
            bucket.take(&rate, now_ms, len)?;
            match self
                .app_buckets
                .binary_search_by(|(a, _)| a.as_slice().cmp(app))
            {
                Ok(i) => {
                    if let Some(slot) = self.app_buckets.get_mut(i) {
                        slot.1 = bucket;
                    }
                }
                Err(i) => self.app_buckets.insert(i, (app.to_vec(), bucket)),
            }
        }
        self.bucket = route_bucket;
        Ok(())
    }

    /// Carries the buckets over to `new` (a policy update): whole tokens available now,
    /// capped at the new capacities; per-app buckets of apps the new policy drops, or of a
    /// per-app limit that is added or removed, are forgotten.
    pub(crate) fn rescale_to(&mut self, new: &RoutePolicy, now_ms: u64) {
        self.bucket = self.bucket.rescaled(&self.policy.rate, &new.rate, now_ms);
        self.app_buckets = match (self.policy.app_rate, new.app_rate) {
            (Some(old), Some(next)) => self
                .app_buckets
                .iter()
                .filter(|(app, _)| new.allows_source_app(app))
                .map(|(app, b)| (app.clone(), b.rescaled(&old, &next, now_ms)))
                .collect(),
            _ => Vec::new(),
        };
    }
}

/// `id || policy || state (u8) || bucket (u128 messages, u128 bytes, u64 updated_ms) ||
/// app buckets (u32 count, then app (bytes) and bucket each, sorted by app)`.
impl Encode for Route {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.id.encode_to(out);
        self.policy.encode_to(out);
        self.state.encode_to(out);
        self.bucket.encode_to(out);
        encode_len(self.app_buckets.len(), out);
        for (app, bucket) in &self.app_buckets {
            encode_bytes(app, out);
            bucket.encode_to(out);
        }
    }
}

impl Decode for Route {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            id: Decode::decode_from(r)?,
            policy: Decode::decode_from(r)?,
            state: Decode::decode_from(r)?,
            bucket: Decode::decode_from(r)?,
            app_buckets: junction_spec::encoding::decode_sorted(
                r,
                MAX_ROUTE_APPS,
                "app buckets not strictly sorted by app",
                |r| {
                    Ok((
                        decode_bytes(r, MAX_APP_ID_LEN)?,
                        TokenBucket::decode_from(r)?,
                    ))
                },
                |(app, _)| app.as_slice(),
            )?,
        })
    }
}

/// Checks a route policy against the rest of the council's routes, at proposal and at
/// execution: its gas cap within the council's `max_route_gas_limit`, and one ordering per
/// sequence space — no other route (of any state: routes are never deleted, so a space
/// keeps its ordering for good) joining the same two chains and allowing one of its
/// source apps may have the other ordering. `id` is the route itself (skipped).
pub(crate) fn check_route_against(
    params: &GovParams,
    routes: &BTreeMap<RouteId, Route>,
    id: &RouteId,
    policy: &RoutePolicy,
) -> Result<(), GovError> {
    if policy.max_gas_limit > params.max_route_gas_limit {
        return Err(GovError::InvalidProposal(
            junction_spec::ParamsError::GasLimitOverCap {
                what: "max_gas_limit",
                value: policy.max_gas_limit,
                cap: params.max_route_gas_limit,
            },
        ));
    }
    let conflict = routes.values().find(|r| {
        &r.id != id
            && r.policy.source_chain == policy.source_chain
            && r.policy.dest_chain == policy.dest_chain
            && r.policy.ordered != policy.ordered
            && r.policy
                .source_apps
                .iter()
                .any(|app| policy.allows_source_app(app))
    });
    match conflict {
        Some(r) => Err(GovError::OrderingConflict {
            route: r.id.clone(),
        }),
        None => Ok(()),
    }
}

/// How the council's routes stand to a packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RouteChoice<'c> {
    /// Routes join the packet's chains and allow its source app: its sequence space has
    /// their ordering, and `route` is the one it travels on (or whose rule refuses it).
    Covered(&'c Route),
    /// No route joining its chains allows its source app (`SourceAppNotAllowed`), or no
    /// route joins them at all (`NoRoute`): a final refusal, and a space with no
    /// ordering yet.
    Unassigned(PolicyRejection),
}

/// The route a packet travels on. Among the routes joining its source chain to its
/// destination chain that allow its source app, those also allowing its destination app
/// come first, and among them a **paused** one before an open one, an open one before a
/// closed one (then by id): a pause holds the traffic it covers, and never falls through
/// to an overlapping open route, while a closed route gives way to its replacement.
pub fn route_choice<'c>(
    routes: impl Iterator<Item = &'c Route>,
    packet: &Packet,
) -> RouteChoice<'c> {
    let rank = |r: &Route| {
        let state = match r.state {
            RouteState::Paused => 0u8,
            RouteState::Open => 1,
            RouteState::Closed => 2,
        };
        (!r.policy.allows_dest_app(&packet.dest_app), state)
    };
    let mut joins = false;
    let mut best: Option<&'c Route> = None;
    for r in routes {
        if r.policy.source_chain != packet.source_chain || r.policy.dest_chain != packet.dest_chain
        {
            continue;
        }
        joins = true;
        if !r.policy.allows_source_app(&packet.source_app) {
            continue;
        }
        // Routes come by id, so the first of equal rank wins.
        if best.is_none_or(|b| rank(r) < rank(b)) {
            best = Some(r);
        }
    }
    match (best, joins) {
        (Some(r), _) => RouteChoice::Covered(r),
        (None, true) => RouteChoice::Unassigned(PolicyRejection::SourceAppNotAllowed),
        (None, false) => RouteChoice::Unassigned(PolicyRejection::NoRoute),
    }
}

/// Checks `packet` against `route` and the registered `chains`. Every final rule comes
/// before every retryable one, so a packet that breaks a rule fixed for good gets its
/// error-ack whatever the moment: route state (paused, closed), chains match the route,
/// destination registered (else `no_route`), source app, destination app, payload cap, gas
/// cap (the route's, within the council's `max_route_gas_limit`), fee, a timeout time;
/// then neither client frozen, timeout (not reached, within the bounds), proof height and
/// confirmations, the route's and the source app's rate limits. Read-only and
/// allocation-free.
pub(crate) fn check_packet(
    route: &Route,
    chains: &BTreeMap<ChainId, ClientState>,
    remote_chains: &BTreeMap<ChainId, ChainId>,
    params: &GovParams,
    packet: &Packet,
    ctx: &PacketContext,
) -> Result<(), PolicyRejection> {
    let policy = &route.policy;
    match route.state {
        RouteState::Open => {}
        RouteState::Paused => return Err(PolicyRejection::RoutePaused),
        RouteState::Closed => return Err(PolicyRejection::RouteClosed),
    }
    if packet.source_chain != policy.source_chain || packet.dest_chain != policy.dest_chain {
        return Err(PolicyRejection::ChainMismatch);
    }
    // A chain under another hub stands here as the hub it is reached through: its client
    // freezes, its checkpoints confirm.
    let resolve = |id: &ChainId| {
        chains
            .get(id)
            .or_else(|| remote_chains.get(id).and_then(|via| chains.get(via)))
    };
    let (Some(source), Some(dest)) = (resolve(&policy.source_chain), resolve(&policy.dest_chain))
    else {
        return Err(PolicyRejection::NoRoute);
    };
    if !policy.allows_source_app(&packet.source_app) {
        return Err(PolicyRejection::SourceAppNotAllowed);
    }
    if !policy.allows_dest_app(&packet.dest_app) {
        return Err(PolicyRejection::DestAppNotAllowed);
    }
    let len = u64::try_from(packet.payload.len()).unwrap_or(u64::MAX);
    if len > u64::from(policy.max_payload) {
        return Err(PolicyRejection::PayloadTooLarge {
            len,
            max: u64::from(policy.max_payload),
        });
    }
    let max_gas = policy.max_gas_limit.min(params.max_route_gas_limit);
    if packet.gas_limit > max_gas {
        return Err(PolicyRejection::GasLimitOverCap {
            gas_limit: packet.gas_limit,
            max: max_gas,
        });
    }
    if packet.fee < policy.fee {
        return Err(PolicyRejection::FeeTooLow {
            offered: packet.fee,
            need: policy.fee,
        });
    }
    if packet.timeout.time_ms == 0 {
        return Err(PolicyRejection::TimeoutWithoutTime);
    }
    // Final rules end here; what follows may pass later.
    if source.frozen || dest.frozen {
        return Err(PolicyRejection::ClientFrozen);
    }
    if !ctx.dest_remote
        && packet
            .timeout
            .is_reached(ctx.dest_latest_height, ctx.dest_latest_time_ms)
    {
        return Err(PolicyRejection::TimeoutReached);
    }
    // Not reached, so the timeout time is after the destination's latest time.
    let remaining_ms = packet
        .timeout
        .time_ms
        .saturating_sub(ctx.dest_latest_time_ms);
    // A chain under another hub: that hub judges the deadline (a packet already past it
    // gets its timeout there), so only the upper bound is this hub's.
    if remaining_ms < policy.min_timeout_ms && !ctx.dest_remote {
        return Err(PolicyRejection::TimeoutTooShort {
            remaining_ms,
            min_ms: policy.min_timeout_ms,
        });
    }
    if remaining_ms > policy.max_timeout_ms {
        return Err(PolicyRejection::TimeoutTooLong {
            remaining_ms,
            max_ms: policy.max_timeout_ms,
        });
    }
    if ctx.proof_height > ctx.source_latest_height {
        return Err(PolicyRejection::ProofAboveClientHeight {
            proof_height: ctx.proof_height,
            latest: ctx.source_latest_height,
        });
    }
    let have = ctx
        .source_latest_height
        .saturating_sub(ctx.proof_height)
        .saturating_add(1);
    let need = policy
        .min_confirmations
        .max(source.registration.params.min_confirmations);
    if have < need {
        return Err(PolicyRejection::NotEnoughConfirmations { have, need });
    }
    route.bucket.check(&policy.rate, ctx.now_ms, len)?;
    match route.app_bucket(&packet.source_app, ctx.now_ms) {
        Some((rate, bucket)) => bucket.check(&rate, ctx.now_ms, len),
        None => Ok(()),
    }
}
