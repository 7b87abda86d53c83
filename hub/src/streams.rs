//! Reassembly of proposal-part streams from consensus peers, under caps: a peer can hold at
//! most `per_peer` streams open, all peers together `total` streams and `total_bytes`
//! bytes, one stream at most `stream_bytes`, and a stream for a height more than `window`
//! above the tip is refused as soon as its `Init` part names the height. Without these caps
//! a peer could keep many large half-sent streams, or blocks for far-future heights, in
//! memory until that height.

use std::collections::{BTreeMap, HashMap};

use malachitebft_app_channel::app::engine::util::streaming::{
    StreamContent, StreamId, StreamMessage,
};
use malachitebft_app_channel::app::types::PeerId;

use crate::context::ProposalPart;

/// The caps of [`PartStreams`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamCaps {
    /// Most streams open from one peer (its oldest is dropped for a new one).
    pub per_peer: usize,
    /// Most streams open in all (the oldest is dropped for a new one).
    pub total: usize,
    /// Most data bytes in one stream (it is dropped when it grows past them).
    pub stream_bytes: usize,
    /// Most data bytes in all open streams (the oldest streams are dropped to make room).
    pub total_bytes: usize,
    /// Most heights above the tip a proposal may be for.
    pub window: u64,
}

/// Parts of one proposal stream being reassembled.
#[derive(Debug, Default)]
pub struct PartStream {
    /// The parts received, by sequence.
    pub parts: BTreeMap<u64, StreamContent<ProposalPart>>,
    fin_seq: Option<u64>,
    bytes: usize,
    opened: u64,
    /// The height its `Init` named, once that part is in.
    height: Option<u64>,
    /// The tip when its first part arrived.
    opened_at_tip: u64,
}

/// Why a part (and its stream) was dropped; the name is the metrics label.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamDrop {
    /// The stream grew past `stream_bytes` (or its part count past what that allows).
    TooLarge,
    /// Its `Init` names a height more than `window` above the tip (or at or below it).
    HeightOutOfWindow,
}

impl StreamDrop {
    /// Stable name.
    pub fn name(self) -> &'static str {
        match self {
            StreamDrop::TooLarge => "proposal_too_large",
            StreamDrop::HeightOutOfWindow => "proposal_height_out_of_window",
        }
    }
}

/// What adding a part did.
#[derive(Debug, Default)]
pub struct Added {
    /// The whole stream, once its last part is in.
    pub complete: Option<PartStream>,
    /// Why the part's stream was dropped, if it was.
    pub dropped: Option<StreamDrop>,
    /// Streams dropped to make room under the caps.
    pub evicted: usize,
}

/// The open streams, keyed by (peer, stream id).
#[derive(Debug)]
pub struct PartStreams {
    caps: StreamCaps,
    streams: HashMap<(PeerId, StreamId), PartStream>,
    counter: u64,
    bytes: usize,
}

impl PartStreams {
    /// No open streams.
    pub fn new(caps: StreamCaps) -> Self {
        Self {
            caps,
            streams: HashMap::new(),
            counter: 0,
            bytes: 0,
        }
    }

    /// Open streams.
    pub fn len(&self) -> usize {
        self.streams.len()
    }

    /// Whether no stream is open.
    pub fn is_empty(&self) -> bool {
        self.streams.is_empty()
    }

    /// Data bytes held in all open streams.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    fn remove(&mut self, key: &(PeerId, StreamId)) -> Option<PartStream> {
        let s = self.streams.remove(key)?;
        self.bytes = self.bytes.saturating_sub(s.bytes);
        Some(s)
    }

    /// Drops the oldest stream among those `filter` accepts; whether one was dropped.
    fn evict_oldest(&mut self, filter: impl Fn(&(PeerId, StreamId)) -> bool) -> bool {
        let oldest = self
            .streams
            .iter()
            .filter(|(k, _)| filter(k))
            .min_by_key(|(_, s)| s.opened)
            .map(|(k, _)| k.clone());
        match oldest {
            Some(k) => self.remove(&k).is_some(),
            None => false,
        }
    }

    /// Drops the streams that can no longer make a block to decide, now that the chain is
    /// at height `tip`: those whose `Init` named a height at or below it, and those still
    /// without an `Init` two heights after their first part (the rest of a stream whose
    /// `Init` was refused would otherwise wait for the caps to push it out). Returns how
    /// many were dropped.
    pub fn prune(&mut self, tip: u64) -> usize {
        let stale: Vec<(PeerId, StreamId)> = self
            .streams
            .iter()
            .filter(|(_, s)| match s.height {
                Some(h) => h <= tip,
                None => s.opened_at_tip.saturating_add(1) < tip,
            })
            .map(|(k, _)| k.clone())
            .collect();
        for k in &stale {
            self.remove(k);
        }
        stale.len()
    }

    /// Adds a part from `peer`, with the chain at height `tip`. Returns the whole stream
    /// once its last part is in, and reports what was dropped.
    pub fn add(&mut self, peer: PeerId, msg: StreamMessage<ProposalPart>, tip: u64) -> Added {
        let mut out = Added::default();
        let key = (peer, msg.stream_id.clone());
        if let StreamContent::Data(ProposalPart::Init { height, .. }) = &msg.content {
            if height.0 <= tip || height.0 > tip.saturating_add(self.caps.window) {
                self.remove(&key);
                out.dropped = Some(StreamDrop::HeightOutOfWindow);
                return out;
            }
        }
        if !self.streams.contains_key(&key) {
            let from_peer = self.streams.keys().filter(|(p, _)| *p == peer).count();
            if from_peer >= self.caps.per_peer && self.evict_oldest(|(p, _)| *p == peer) {
                out.evicted += 1;
            }
            if self.streams.len() >= self.caps.total && self.evict_oldest(|_| true) {
                out.evicted += 1;
            }
            self.counter += 1;
            self.streams.insert(
                key.clone(),
                PartStream {
                    opened: self.counter,
                    opened_at_tip: tip,
                    ..PartStream::default()
                },
            );
        }
        let added = match &msg.content {
            StreamContent::Data(ProposalPart::Data(b)) => b.len(),
            _ => 0,
        };
        let max_parts = self.caps.stream_bytes / 1024 + 8;
        let too_large = self.streams.get(&key).is_some_and(|s| {
            s.bytes.saturating_add(added) > self.caps.stream_bytes || s.parts.len() >= max_parts
        });
        if too_large {
            self.remove(&key);
            out.dropped = Some(StreamDrop::TooLarge);
            return out;
        }
        // Room under the total: the oldest other streams go first.
        while self.bytes.saturating_add(added) > self.caps.total_bytes {
            if !self.evict_oldest(|k| *k != key) {
                break;
            }
            out.evicted += 1;
        }
        if self.bytes.saturating_add(added) > self.caps.total_bytes {
            self.remove(&key);
            out.dropped = Some(StreamDrop::TooLarge);
            return out;
        }
        let Some(stream) = self.streams.get_mut(&key) else {
            return out;
        };
        stream.bytes += added;
        self.bytes += added;
        match &msg.content {
            StreamContent::Fin => stream.fin_seq = Some(msg.sequence),
            StreamContent::Data(ProposalPart::Init { height, .. }) => {
                stream.height = Some(height.0)
            }
            StreamContent::Data(_) => {}
        }
        stream.parts.insert(msg.sequence, msg.content);
        let Some(fin) = stream.fin_seq else {
            return out;
        };
        if stream.parts.len() as u64 == fin + 1 {
            out.complete = self.remove(&key);
        }
        out
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::context::{Address, Height};
    use bytes::Bytes;
    use malachitebft_app_channel::app::types::core::Round;

    fn caps() -> StreamCaps {
        StreamCaps {
            per_peer: 2,
            total: 3,
            stream_bytes: 4_096,
            total_bytes: 8_192,
            window: 2,
        }
    }

    /// A peer id (a SHA-256 multihash of `n`s).
    fn peer(n: u8) -> PeerId {
        let mut b = vec![0x12, 0x20];
        b.extend_from_slice(&[n; 32]);
        PeerId::from_bytes(&b).unwrap()
    }

    fn sid(n: u8) -> StreamId {
        StreamId::new(Bytes::from(vec![n]))
    }

    fn init(stream: u8, height: u64) -> StreamMessage<ProposalPart> {
        StreamMessage::new(
            sid(stream),
            0,
            StreamContent::Data(ProposalPart::Init {
                height: Height(height),
                round: Round::new(0),
                pol_round: Round::Nil,
                proposer: Address([0; 20]),
            }),
        )
    }

    fn data(stream: u8, seq: u64, len: usize) -> StreamMessage<ProposalPart> {
        StreamMessage::new(
            sid(stream),
            seq,
            StreamContent::Data(ProposalPart::Data(Bytes::from(vec![7; len]))),
        )
    }

    #[test]
    fn a_peer_holds_at_most_its_share_of_streams_and_all_peers_the_total() {
        let mut s = PartStreams::new(caps());
        let (a, b) = (peer(1), peer(2));
        for n in 0..5u8 {
            s.add(a, data(n, 1, 10), 10);
            assert!(s.len() <= 2, "peer a holds {}", s.len());
        }
        // b adds two: the total cap (3) drops the oldest stream of all.
        let r = s.add(b, data(100, 1, 10), 10);
        assert_eq!((r.evicted, s.len()), (0, 3));
        let r = s.add(b, data(101, 1, 10), 10);
        assert_eq!((r.evicted, s.len()), (1, 3));
    }

    #[test]
    fn a_stream_over_its_byte_cap_or_the_total_is_dropped() {
        let mut s = PartStreams::new(caps());
        let p = peer(1);
        assert!(s.add(p, data(1, 1, 4_000), 10).dropped.is_none());
        let r = s.add(p, data(1, 2, 200), 10);
        assert_eq!(r.dropped, Some(StreamDrop::TooLarge));
        assert_eq!((s.len(), s.bytes()), (0, 0));
        // Many peers of one stream each: the total bytes stay under the cap.
        for n in 0..10u8 {
            s.add(peer(10 + n), data(n, 1, 3_000), 10);
            assert!(s.bytes() <= caps().total_bytes, "{}", s.bytes());
        }
    }

    #[test]
    fn a_proposal_for_a_height_beyond_the_window_is_refused() {
        let mut s = PartStreams::new(caps());
        let p = peer(1);
        for (height, ok) in [
            (11, true),
            (12, true),
            (13, false),
            (10, false),
            (u64::MAX, false),
        ] {
            let r = s.add(p, init(height as u8, height), 10);
            assert_eq!(r.dropped.is_none(), ok, "height {height}");
        }
        // Data first, then an Init out of the window: the whole stream goes.
        s.add(p, data(50, 1, 100), 10);
        let r = s.add(p, init(50, 99), 10);
        assert_eq!(r.dropped, Some(StreamDrop::HeightOutOfWindow));
        assert!(s.streams.keys().all(|(_, id)| *id != sid(50)));
    }

    #[test]
    fn streams_that_can_no_longer_decide_a_block_go_at_the_next_height() {
        let mut s = PartStreams::new(StreamCaps { total: 8, ..caps() });
        let p = peer(1);
        // The rest of a stream whose Init came too late (the node had moved on).
        assert_eq!(
            s.add(p, init(1, 10), 10).dropped,
            Some(StreamDrop::HeightOutOfWindow)
        );
        s.add(p, data(1, 1, 100), 10);
        s.add(p, StreamMessage::new(sid(1), 2, StreamContent::Fin), 10);
        // A stream for the next height, one for the height after, and data whose Init is
        // still on its way.
        s.add(peer(2), init(2, 11), 10);
        s.add(peer(2), init(3, 12), 10);
        s.add(peer(3), data(4, 1, 100), 10);
        assert_eq!(s.len(), 4);
        // Nothing is dropped while the tip stays.
        assert_eq!(s.prune(10), 0);
        // Height 11 commits: its stream goes; the Init-less ones wait one more height.
        assert_eq!(s.prune(11), 1);
        assert_eq!(s.len(), 3);
        assert!(s.streams.keys().any(|(_, id)| *id == sid(3)));
        // Height 12 commits: the stream for it, and the Init-less ones, go.
        assert_eq!(s.prune(12), 3);
        assert!(s.is_empty());
        assert_eq!(s.bytes(), 0);
    }

    #[test]
    fn a_complete_stream_comes_back_whole() {
        let mut s = PartStreams::new(caps());
        let p = peer(1);
        assert!(s.add(p, init(1, 11), 10).complete.is_none());
        assert!(s.add(p, data(1, 1, 10), 10).complete.is_none());
        let fin = StreamMessage::new(sid(1), 2, StreamContent::Fin);
        let whole = s.add(p, fin, 10).complete.unwrap();
        assert_eq!(whole.parts.len(), 3);
        assert!(s.is_empty());
        assert_eq!(s.bytes(), 0);
    }
}
