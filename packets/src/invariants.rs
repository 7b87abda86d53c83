//! The packet state's invariants, re-derived from the log. The central one: every packet
//! key has at most one `Packet` entry, at most one outcome entry (`Ack`, `ErrorAck` or
//! `Timeout`) and at most one `SequenceSkip` entry, and its record points at exactly
//! those. Cost is linear in the log and the channels' sequence ranges, so the hub runs it
//! in tests and audits, not on every block.

use std::collections::BTreeMap;

use junction_spec::merkle::root_from_leaf_hashes;
use junction_spec::{EntryKind, Hash32, RouteId};

use crate::error::PacketInvariantViolation as V;
use crate::state::{ChannelKey, PacketState, RouteCounters, APP_REVERTED};

#[derive(Default)]
struct Seen {
    packet: Option<u64>,
    outcome: Option<u64>,
    skip: Option<u64>,
    channel: Option<ChannelKey>,
}

impl PacketState {
    /// Checks every invariant (see the crate docs) of a state built from nothing, which
    /// holds its whole log and every record (a state over a stored base holds only its
    /// writes: audit the store by replaying the chain into one built from nothing).
    pub fn check_invariants(&self) -> Result<(), V> {
        let log = &self.log;
        let leaves = &log.leaves;
        let n = log.entries().count();
        if log.base_size != 0
            || leaves.len() != n
            || usize::try_from(log.size()).ok() != Some(n)
            || log.root() != root_from_leaf_hashes(leaves)
        {
            return Err(V::LogInconsistent);
        }

        let mut seen: BTreeMap<Hash32, Seen> = BTreeMap::new();
        let mut counters: BTreeMap<RouteId, RouteCounters> = BTreeMap::new();
        let mut last_ordered: BTreeMap<ChannelKey, u64> = BTreeMap::new();
        for (i, (entry, leaf)) in log.entries().zip(leaves).enumerate() {
            let index = u64::try_from(i).unwrap_or(u64::MAX);
            if entry.leaf_hash() != *leaf {
                return Err(V::LogInconsistent);
            }
            if entry.validate().is_err() {
                return Err(V::MalformedEntry { index });
            }
            // A council notice concerns no packet: it has no record and counts on no route.
            if entry.kind == EntryKind::GatewayRetired {
                if junction_spec::RetirementNotice::from_envelope(&entry.packet).is_none() {
                    return Err(V::MalformedEntry { index });
                }
                continue;
            }
            if entry.is_ordered() {
                // Every ordered entry of a space names the one first sequence the hub fixed
                // for it, and none is below it.
                let channel = self.channel(&ChannelKey::of(&entry.packet));
                if entry.ordered_from != channel.ordered_from
                    || entry.packet.sequence < entry.ordered_from
                {
                    return Err(V::OrderedOutOfSequence { index });
                }
            }
            if entry.is_ordered() && entry.kind == EntryKind::Packet {
                let last = last_ordered
                    .entry(ChannelKey::of(&entry.packet))
                    .or_default();
                if entry.packet.sequence <= *last {
                    return Err(V::OrderedOutOfSequence { index });
                }
                *last = entry.packet.sequence;
            }
            let key_hash = entry.packet.key().hash();
            let record = self
                .records
                .get(&key_hash)
                .filter(|r| r.packet_hash == entry.packet.hash() && r.ordered == entry.is_ordered())
                .ok_or(V::EntryWithoutRecord { index })?;
            let s = seen.entry(key_hash).or_default();
            s.channel = Some(ChannelKey::of(&entry.packet));
            let (slot, what, points_here) = match entry.kind {
                EntryKind::Packet => (&mut s.packet, "packet", record.packet_index == Some(index)),
                EntryKind::SequenceSkip => (
                    &mut s.skip,
                    "sequence_skip",
                    record.skip_index == Some(index),
                ),
                EntryKind::GatewayRetired => return Err(V::MalformedEntry { index }),
                EntryKind::Ack | EntryKind::ErrorAck | EntryKind::Timeout => (
                    &mut s.outcome,
                    "outcome",
                    record
                        .outcome
                        .is_some_and(|o| o.log_index == index && o.kind == entry.kind),
                ),
            };
            if slot.is_some() {
                return Err(V::DuplicateEntry { index, what });
            }
            *slot = Some(index);
            if !points_here {
                return Err(V::RecordMismatch { key_hash });
            }
            // Packets no route covers are counted by reason on the hub, not per route.
            let Some(route) = &record.route else {
                continue;
            };
            let c = counters.entry(route.clone()).or_default();
            match entry.kind {
                EntryKind::Packet => c.received += 1,
                EntryKind::Ack => c.acked += 1,
                EntryKind::Timeout => c.timed_out += 1,
                EntryKind::SequenceSkip => c.sequence_skips += 1,
                EntryKind::GatewayRetired => {}
                EntryKind::ErrorAck => {
                    let reason = if record.packet_index.is_some() {
                        APP_REVERTED.to_owned()
                    } else {
                        String::from_utf8_lossy(&entry.result).into_owned()
                    };
                    *c.error_acked.entry(reason).or_default() += 1;
                }
            }
        }

        for (key_hash, record) in &self.records {
            let s = seen.get(key_hash).ok_or(V::EmptyRecord {
                key_hash: *key_hash,
            })?;
            // Every index the record names was found above at that very index.
            if s.packet != record.packet_index
                || s.outcome != record.outcome.map(|o| o.log_index)
                || s.skip != record.skip_index
            {
                return Err(V::RecordMismatch {
                    key_hash: *key_hash,
                });
            }
            if record.packet_index.is_none() && record.outcome.is_none() {
                return Err(V::EmptyRecord {
                    key_hash: *key_hash,
                });
            }
            // An ack needs a delivery; outcomes come after the delivery.
            if let Some(o) = record.outcome {
                let after_delivery = record.packet_index.is_none_or(|p| p < o.log_index);
                let ack_needs_delivery = o.kind != EntryKind::Ack || record.packet_index.is_some();
                if !after_delivery || !ack_needs_delivery {
                    return Err(V::RecordMismatch {
                        key_hash: *key_hash,
                    });
                }
            }
            // A skip exactly for packets on ordered routes that will never run at the
            // destination (timed out, or refused by policy), right after the outcome.
            let never_runs = record.outcome.is_some_and(|o| {
                o.kind == EntryKind::Timeout
                    || (o.kind == EntryKind::ErrorAck && record.packet_index.is_none())
            });
            let skip_ok = match record.skip_index {
                None => !(record.ordered && never_runs),
                Some(skip) => {
                    record.ordered
                        && never_runs
                        && record
                            .outcome
                            .is_some_and(|o| o.log_index.checked_add(1) == Some(skip))
                }
            };
            if !skip_ok {
                return Err(V::SkipMismatch {
                    key_hash: *key_hash,
                });
            }
            if !record.received_on_hub
                && (record.packet_index.is_some()
                    || record.outcome.map(|o| o.kind) != Some(EntryKind::Timeout))
            {
                return Err(V::RecordMismatch {
                    key_hash: *key_hash,
                });
            }
            match &s.channel {
                Some(ch) if self.channels.contains_key(ch) => {}
                _ => return Err(V::ChannelMismatch),
            }
        }

        for (key, ch) in &self.channels {
            if ch.next_recv == 0 || ch.next_dest == 0 || ch.next_dest > ch.next_recv {
                return Err(V::ChannelMismatch);
            }
            for seq in 1..ch.next_recv {
                let record = self.records.get(&key.packet_key(seq).hash());
                let settled = record.is_some_and(|r| r.outcome.is_some());
                if record.is_none() || (seq < ch.next_dest && !settled) {
                    return Err(V::ChannelMismatch);
                }
            }
            let maximal_recv = !self
                .records
                .contains_key(&key.packet_key(ch.next_recv).hash());
            let maximal_dest = ch.next_dest == ch.next_recv
                || self
                    .records
                    .get(&key.packet_key(ch.next_dest).hash())
                    .is_some_and(|r| r.outcome.is_none());
            if !maximal_recv || !maximal_dest {
                return Err(V::ChannelMismatch);
            }
        }

        let stored: BTreeMap<&RouteId, &RouteCounters> = self
            .counters
            .iter()
            .filter(|(_, c)| **c != RouteCounters::default())
            .collect();
        let derived: BTreeMap<&RouteId, &RouteCounters> = counters.iter().collect();
        if stored != derived {
            return Err(V::CountersMismatch);
        }
        Ok(())
    }
}
