//! Transaction gossip between validators over plain TCP on loopback.
//!
//! Malachite's channel API gossips only proposal parts, so transactions travel here: every
//! node keeps one outbound connection to each peer and forwards the transactions it admitted
//! from RPC; inbound transactions are admitted without forwarding (validators form a full
//! mesh). Frames: `u32 length` then the body; a body is `0x01`, a u32 count and that many
//! u32-length-prefixed transactions. A frame over the cap, an unknown kind or a malformed
//! body is counted in `junction_p2p_dropped_frames` and the connection is closed.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::broadcast;
use tracing::{debug, warn};

use crate::metrics::Metrics;
use crate::node::Shared;
use junction_spec::encoding::{DecodeError, Put, Reader};

const KIND_TXS: u8 = 1;
/// Most transactions in one gossip frame.
const MAX_TXS_PER_FRAME: usize = 4096;

/// Parses a frame body into transactions.
pub fn parse_frame(body: &[u8], max_tx: usize) -> Result<Vec<&[u8]>, DecodeError> {
    let mut r = Reader::new(body);
    if r.read_u8()? != KIND_TXS {
        return Err(DecodeError::InvalidValue("frame kind"));
    }
    let n = r.read_count(MAX_TXS_PER_FRAME, 4)?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(r.read_bytes(max_tx)?);
    }
    r.finish()?;
    Ok(out)
}

/// Builds one frame (length prefix included).
pub fn build_frame(txs: &[Arc<Vec<u8>>]) -> Vec<u8> {
    let mut w = Vec::new();
    w.put_u8(KIND_TXS);
    w.put_u32(txs.len() as u32);
    for t in txs {
        w.put_bytes(t);
    }
    let body = w;
    let mut out = Vec::with_capacity(body.len() + 4);
    out.extend_from_slice(&(body.len() as u32).to_be_bytes());
    out.extend_from_slice(&body);
    out
}

/// Accepts peers' connections and admits the transactions they send.
pub async fn serve(shared: Arc<Shared>, listener: TcpListener) {
    loop {
        let Ok((sock, from)) = listener.accept().await else {
            continue;
        };
        let shared = shared.clone();
        tokio::spawn(async move {
            if let Err(reason) = read_peer(&shared, sock).await {
                debug!(%from, reason, "gossip connection closed");
            }
        });
    }
}

async fn read_peer(shared: &Shared, mut sock: TcpStream) -> Result<(), &'static str> {
    let max_frame = shared.config.gossip.max_frame_bytes;
    let max_tx = shared.config.mempool.max_tx_bytes;
    let dropped = |reason: &'static str| {
        Metrics::count(&shared.metrics.p2p_dropped_frames, reason);
        reason
    };
    loop {
        let mut len = [0u8; 4];
        if sock.read_exact(&mut len).await.is_err() {
            return Ok(());
        }
        let len = u32::from_be_bytes(len) as usize;
        if len > max_frame {
            return Err(dropped("oversized_frame"));
        }
        let mut body = vec![0u8; len];
        if sock.read_exact(&mut body).await.is_err() {
            return Err(dropped("truncated_frame"));
        }
        let txs = parse_frame(&body, max_tx).map_err(|_| dropped("malformed_frame"))?;
        // Refusals are counted by reason inside.
        shared.admit_frame(&txs);
    }
}

/// Keeps a connection to one peer and forwards admitted transactions in batches.
pub async fn forward_to(shared: Arc<Shared>, peer: SocketAddr) {
    let mut rx = shared.outbound_txs.subscribe();
    loop {
        let mut sock = match TcpStream::connect(peer).await {
            Ok(s) => s,
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(300)).await;
                continue;
            }
        };
        let _ = sock.set_nodelay(true);
        shared.metrics.connected_peers.inc();
        loop {
            let first = match rx.recv().await {
                Ok(t) => t,
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    warn!(%peer, skipped = n, "gossip fell behind; peers will get these through blocks");
                    continue;
                }
                Err(broadcast::error::RecvError::Closed) => return,
            };
            let mut batch = vec![first];
            while batch.len() < MAX_TXS_PER_FRAME {
                match rx.try_recv() {
                    Ok(t) => batch.push(t),
                    Err(_) => break,
                }
            }
            if sock.write_all(&build_frame(&batch)).await.is_err() {
                break;
            }
        }
        shared.metrics.connected_peers.dec();
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn frames_round_trip_and_garbage_is_refused() {
        let txs = vec![Arc::new(vec![1, 2, 3]), Arc::new(vec![4])];
        let frame = build_frame(&txs);
        let parsed = parse_frame(&frame[4..], 100).unwrap();
        assert_eq!(parsed, vec![&[1u8, 2, 3][..], &[4u8][..]]);
        assert!(parse_frame(&[9, 0, 0, 0, 0], 100).is_err());
        assert!(parse_frame(&frame[4..frame.len() - 1], 100).is_err());
        assert!(matches!(
            parse_frame(&frame[4..], 2),
            Err(DecodeError::LengthTooLarge { len: 3, max: 2 })
        ));
    }
}
