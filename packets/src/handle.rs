//! The three handlers, each split ibc-rs style into `validate` (reads the packet state
//! and the route table, returns a [`Plan`] or a named error) and `execute` (applies a plan,
//! writes only). `execute` must be given a plan validated against the same states.

use junction_spec::{EntryKind, Hash32, LogEntry, Packet, RouteId, MAX_RESULT_BYTES};

use crate::error::PacketError;
use crate::input::{
    AckKind, AckPacket, Bindings, PacketEvent, PacketInput, RecvPacket, TimeoutPacket,
};
use crate::policy::{PacketContext, PolicyRejection, RouteCover, RouteTable};
use crate::state::{ChannelKey, Outcome, PacketRecord, PacketState, APP_REVERTED};

/// Most entries one input appends (an outcome and a sequence skip).
const MAX_ENTRIES_PER_INPUT: u64 = 2;

/// What validation decided; [`PacketState::execute`] carries it out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PlanStep {
    /// Take the route's tokens and log the packet for its destination.
    Deliver {
        /// The policy context the packet was checked under.
        ctx: PacketContext,
    },
    /// Rule (a): the destination's latest verified header is already past the deadline;
    /// log the timeout for the source (and a sequence skip on an ordered route).
    TimeoutOnArrival,
    /// The packet breaks a rule fixed for good (of its route, or no route covers it): a
    /// final error-ack naming the rule (and a sequence skip on an ordered route).
    PolicyErrorAck {
        /// The broken rule.
        rejection: PolicyRejection,
    },
    /// The destination gateway's ack commitment was proven: log it for the source.
    Acknowledge {
        /// Ran or reverted.
        kind: AckKind,
        /// The acknowledgement bytes.
        result: Vec<u8>,
    },
    /// Rule (b) on a logged packet: the destination is past the deadline without a
    /// receipt; log the timeout (and a sequence skip on an ordered route).
    TimeoutPending,
    /// Rule (b) on a packet the hub never received: log the timeout (and a sequence skip
    /// on an ordered route) and mark the key so that no `RecvPacket` is taken later.
    TimeoutUnreceived,
}

impl PlanStep {
    /// Stable snake_case name.
    pub fn name(&self) -> &'static str {
        match self {
            PlanStep::Deliver { .. } => "deliver",
            PlanStep::TimeoutOnArrival => "timeout_on_arrival",
            PlanStep::PolicyErrorAck { .. } => "policy_error_ack",
            PlanStep::Acknowledge { .. } => "acknowledge",
            PlanStep::TimeoutPending => "timeout_pending",
            PlanStep::TimeoutUnreceived => "timeout_unreceived",
        }
    }
}

/// A validated input, ready to execute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    packet: Packet,
    key_hash: Hash32,
    route: Option<RouteId>,
    ordered: bool,
    bindings: Bindings,
    step: PlanStep,
}

impl Plan {
    /// What will happen.
    pub fn step(&self) -> &PlanStep {
        &self.step
    }

    /// The route the packet is handled on (`None`: no route covers its sequence space).
    pub fn route(&self) -> Option<&RouteId> {
        self.route.as_ref()
    }

    /// Whether the packet's sequence space is ordered (its entries are).
    pub fn ordered(&self) -> bool {
        self.ordered
    }

    /// The packet.
    pub fn packet(&self) -> &Packet {
        &self.packet
    }

    /// `PacketKey::hash` of the packet.
    pub fn key_hash(&self) -> &Hash32 {
        &self.key_hash
    }
}

/// How a packet's sequence space stands: the route it travels on and the space's
/// ordering, or no route (then the space has no ordering yet, and the hub takes its
/// sequences in order so that a route opened later, of either ordering, finds every
/// sequence below its first one used up).
struct Space {
    route: Option<RouteId>,
    /// Whether entries are ordered (a covering route is ordered).
    ordered: bool,
    /// Whether the hub takes the space's sequences strictly in order.
    in_order: bool,
    /// Why no route covers the space.
    unrouted: Option<PolicyRejection>,
}

fn space_of(routes: &(impl RouteTable + ?Sized), packet: &Packet) -> Space {
    match routes.cover(packet) {
        RouteCover::Covered { route, ordered } => Space {
            route: Some(route),
            ordered,
            in_order: ordered,
            unrouted: None,
        },
        RouteCover::Unassigned(rejection) => Space {
            route: None,
            ordered: false,
            in_order: true,
            unrouted: Some(rejection),
        },
    }
}

impl PacketState {
    fn check_room(&self) -> Result<(), PacketError> {
        if self.log.has_room(MAX_ENTRIES_PER_INPUT) {
            Ok(())
        } else {
            Err(PacketError::LogFull)
        }
    }

    /// The record under the packet's key, after checking it holds this very packet.
    fn matching_record(
        &self,
        key_hash: &Hash32,
        packet: &Packet,
    ) -> Result<Option<PacketRecord>, PacketError> {
        match self.record(key_hash) {
            None => Ok(None),
            Some(r) => {
                let got = packet.hash();
                if r.packet_hash != got {
                    return Err(PacketError::PacketMismatch {
                        expected: r.packet_hash,
                        got,
                    });
                }
                Ok(Some(r))
            }
        }
    }

    /// Validates a `RecvPacket` at hub time `now_ms`: packet rules, exactly-once by key,
    /// the route (or none), sequence order where the space is ordered or has no route yet,
    /// then no destination (`no_route`), timeout rule (a), and the route policy: a rule
    /// fixed for good plans a final error-ack, one that may pass later refuses the input
    /// ([`PacketError::Retry`]).
    pub fn validate_recv(
        &self,
        routes: &(impl RouteTable + ?Sized),
        input: &RecvPacket,
        now_ms: u64,
    ) -> Result<Plan, PacketError> {
        let packet = &input.packet;
        packet.validate().map_err(PacketError::Malformed)?;
        let key_hash = packet.key().hash();
        if let Some(r) = self.record(&key_hash) {
            return Err(if r.received_on_hub {
                PacketError::AlreadyReceived
            } else {
                PacketError::AlreadyTimedOut
            });
        }
        let space = space_of(routes, packet);
        if space.in_order {
            let expected = self.channel(&ChannelKey::of(packet)).next_recv;
            if packet.sequence != expected {
                return Err(PacketError::OutOfOrder {
                    expected,
                    got: packet.sequence,
                });
            }
        }
        self.check_room()?;
        let step = match (input.dest, &space.unrouted, &space.route) {
            (None, _, _) => PlanStep::PolicyErrorAck {
                rejection: PolicyRejection::NoRoute,
            },
            (Some(dest), _, _)
                if !dest.remote && packet.timeout.is_reached(dest.height, dest.time_ms) =>
            {
                PlanStep::TimeoutOnArrival
            }
            (Some(_), Some(rejection), _) => PlanStep::PolicyErrorAck {
                rejection: rejection.clone(),
            },
            (Some(dest), None, Some(route)) => {
                let ctx = PacketContext {
                    now_ms,
                    proof_height: input.proof_height,
                    source_latest_height: input.source_latest_height,
                    dest_latest_height: dest.height,
                    dest_latest_time_ms: dest.time_ms,
                    dest_remote: dest.remote,
                };
                match routes.check_packet(route, packet, &ctx) {
                    Ok(()) => PlanStep::Deliver { ctx },
                    Err(rejection) if rejection.is_final() => {
                        PlanStep::PolicyErrorAck { rejection }
                    }
                    Err(rejection) => return Err(PacketError::Retry(rejection)),
                }
            }
            (Some(_), None, None) => PlanStep::PolicyErrorAck {
                rejection: PolicyRejection::NoRoute,
            },
        };
        Ok(Plan {
            packet: packet.clone(),
            key_hash,
            route: space.route,
            ordered: space.ordered,
            bindings: input.bindings,
            step,
        })
    }

    /// Validates an `AckPacket`: the packet was logged for its destination and has no
    /// outcome yet.
    pub fn validate_ack(&self, input: &AckPacket) -> Result<Plan, PacketError> {
        let packet = &input.packet;
        packet.validate().map_err(PacketError::Malformed)?;
        if input.result.len() > MAX_RESULT_BYTES {
            return Err(PacketError::ResultTooLarge {
                len: input.result.len(),
            });
        }
        let key_hash = packet.key().hash();
        let record = self
            .matching_record(&key_hash, packet)?
            .ok_or(PacketError::NoPendingPacket)?;
        if record.outcome.is_some() {
            return Err(PacketError::OutcomeAlreadyLogged);
        }
        if record.packet_index.is_none() {
            return Err(PacketError::NoPendingPacket);
        }
        self.check_room()?;
        Ok(Plan {
            packet: packet.clone(),
            key_hash,
            route: record.route.clone(),
            ordered: record.ordered,
            bindings: input.bindings,
            step: PlanStep::Acknowledge {
                kind: input.kind,
                result: input.result.clone(),
            },
        })
    }

    /// Validates a `TimeoutPacket`: the destination header is at or past the deadline,
    /// and the packet has no outcome yet (whether or not the hub received it).
    pub fn validate_timeout(
        &self,
        routes: &(impl RouteTable + ?Sized),
        input: &TimeoutPacket,
    ) -> Result<Plan, PacketError> {
        let packet = &input.packet;
        packet.validate().map_err(PacketError::Malformed)?;
        if !input.decided_remotely
            && !packet
                .timeout
                .is_reached(input.dest_height, input.dest_time_ms)
        {
            return Err(PacketError::NotYetTimedOut {
                height: input.dest_height,
                time_ms: input.dest_time_ms,
            });
        }
        let key_hash = packet.key().hash();
        let (route, ordered, step) = match self.matching_record(&key_hash, packet)? {
            Some(record) => {
                if record.outcome.is_some() {
                    return Err(PacketError::OutcomeAlreadyLogged);
                }
                (
                    record.route.clone(),
                    record.ordered,
                    PlanStep::TimeoutPending,
                )
            }
            None => {
                let space = space_of(routes, packet);
                // An ordered route may time a later sequence out first (the destination
                // waits for the earlier ones anyway); a space without a route may not, so
                // that its used-up sequences stay a prefix.
                if space.route.is_none() {
                    let expected = self.channel(&ChannelKey::of(packet)).next_recv;
                    if packet.sequence != expected {
                        return Err(PacketError::OutOfOrder {
                            expected,
                            got: packet.sequence,
                        });
                    }
                }
                (space.route, space.ordered, PlanStep::TimeoutUnreceived)
            }
        };
        self.check_room()?;
        Ok(Plan {
            packet: packet.clone(),
            key_hash,
            route,
            ordered,
            bindings: input.bindings,
            step,
        })
    }

    /// Validates any input (reads only).
    pub fn validate(
        &self,
        routes: &(impl RouteTable + ?Sized),
        input: &PacketInput,
        now_ms: u64,
    ) -> Result<Plan, PacketError> {
        match input {
            PacketInput::Recv(i) => self.validate_recv(routes, i, now_ms),
            PacketInput::Ack(i) => self.validate_ack(i),
            PacketInput::Timeout(i) => self.validate_timeout(routes, i),
        }
    }

    /// Validates, then executes.
    pub fn apply(
        &mut self,
        routes: &mut (impl RouteTable + ?Sized),
        input: &PacketInput,
        now_ms: u64,
    ) -> Result<Vec<PacketEvent>, PacketError> {
        let plan = self.validate(&*routes, input, now_ms)?;
        Ok(self.execute(routes, plan))
    }

    /// Carries out a plan from `validate` on the same states: takes route tokens for a
    /// delivery, appends the entries, updates the record, the channel and the counters.
    pub fn execute(
        &mut self,
        routes: &mut (impl RouteTable + ?Sized),
        plan: Plan,
    ) -> Vec<PacketEvent> {
        let Plan {
            packet,
            key_hash,
            route,
            ordered,
            bindings,
            step,
        } = plan;
        let packet_hash = packet.hash();
        let channel = ChannelKey::of(&packet);
        let mut events = Vec::new();
        let mut log = |state: &mut PacketState, kind: EntryKind, result: Vec<u8>, reason: &str| {
            let ordered_from = if ordered {
                state.ordered_from(&channel)
            } else {
                0
            };
            let entry = LogEntry::new(
                kind,
                bindings.of(kind),
                ordered_from,
                packet.clone(),
                result,
            );
            let log_index = state.log.append(entry);
            events.push(PacketEvent {
                action: PacketEvent::action_of(kind),
                kind,
                log_index,
                route: route.clone(),
                key_hash,
                packet_hash,
                reason: reason.to_owned(),
            });
            log_index
        };
        // A final outcome without delivery: timeout or policy error-ack, plus a sequence
        // skip on an ordered route.
        let mut settle_undelivered =
            |state: &mut PacketState, kind: EntryKind, reason: &str, received: bool| {
                let result = if kind == EntryKind::ErrorAck {
                    reason.as_bytes().to_vec()
                } else {
                    Vec::new()
                };
                let log_index = log(state, kind, result, reason);
                let skip_index =
                    ordered.then(|| log(state, EntryKind::SequenceSkip, Vec::new(), reason));
                state.records.insert(
                    key_hash,
                    PacketRecord {
                        packet_hash,
                        route: route.clone(),
                        ordered,
                        received_on_hub: received,
                        packet_index: None,
                        outcome: Some(Outcome { kind, log_index }),
                        skip_index,
                    },
                );
                state.count(route.as_ref(), |counters| {
                    if kind == EntryKind::Timeout {
                        counters.timed_out = counters.timed_out.saturating_add(1);
                    } else {
                        let n = counters.error_acked.entry(reason.to_owned()).or_default();
                        *n = n.saturating_add(1);
                    }
                    if ordered {
                        counters.sequence_skips = counters.sequence_skips.saturating_add(1);
                    }
                });
            };
        match step {
            PlanStep::Deliver { ctx } => {
                let taken = match &route {
                    Some(r) => routes.execute_packet(r, &packet, &ctx),
                    None => Err(PolicyRejection::NoRoute),
                };
                match taken {
                    Ok(()) => {
                        let packet_index = log(self, EntryKind::Packet, Vec::new(), "");
                        self.records.insert(
                            key_hash,
                            PacketRecord {
                                packet_hash,
                                route: route.clone(),
                                ordered,
                                received_on_hub: true,
                                packet_index: Some(packet_index),
                                outcome: None,
                                skip_index: None,
                            },
                        );
                        self.count(route.as_ref(), |c| {
                            c.received = c.received.saturating_add(1)
                        });
                    }
                    // Only if the routes changed since validation (the caller validates
                    // and executes on the same states): settle it as the rule says.
                    Err(rejection) => {
                        settle_undelivered(self, EntryKind::ErrorAck, rejection.name(), true)
                    }
                }
            }
            PlanStep::TimeoutOnArrival => {
                settle_undelivered(self, EntryKind::Timeout, "timeout_on_arrival", true)
            }
            PlanStep::PolicyErrorAck { rejection } => {
                settle_undelivered(self, EntryKind::ErrorAck, rejection.name(), true)
            }
            PlanStep::TimeoutUnreceived => {
                settle_undelivered(self, EntryKind::Timeout, "timeout_unreceived", false)
            }
            PlanStep::Acknowledge { kind, result } => {
                let entry_kind = kind.entry_kind();
                let reason = if kind == AckKind::ErrorAck {
                    APP_REVERTED
                } else {
                    ""
                };
                let log_index = log(self, entry_kind, result, reason);
                if let Some(mut r) = self.record(&key_hash) {
                    r.outcome = Some(Outcome {
                        kind: entry_kind,
                        log_index,
                    });
                    self.records.insert(key_hash, r);
                }
                self.count(route.as_ref(), |counters| match kind {
                    AckKind::Ack => counters.acked = counters.acked.saturating_add(1),
                    AckKind::ErrorAck => {
                        let n = counters
                            .error_acked
                            .entry(APP_REVERTED.to_owned())
                            .or_default();
                        *n = n.saturating_add(1);
                    }
                });
            }
            PlanStep::TimeoutPending => {
                let log_index = log(self, EntryKind::Timeout, Vec::new(), "timeout_proven");
                let skip_index = ordered
                    .then(|| log(self, EntryKind::SequenceSkip, Vec::new(), "timeout_proven"));
                if let Some(mut r) = self.record(&key_hash) {
                    r.outcome = Some(Outcome {
                        kind: EntryKind::Timeout,
                        log_index,
                    });
                    r.skip_index = skip_index;
                    self.records.insert(key_hash, r);
                }
                self.count(route.as_ref(), |counters| {
                    counters.timed_out = counters.timed_out.saturating_add(1);
                    if ordered {
                        counters.sequence_skips = counters.sequence_skips.saturating_add(1);
                    }
                });
            }
        }
        self.advance_channel(&channel);
        events
    }
}
