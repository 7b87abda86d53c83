//! Prometheus metrics served at `/metrics`.

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

pub use junction_telemetry::{metrics_response, render_registry, MetricsError, ReasonLabel};

/// All node metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// Last committed height.
    pub height: Gauge,
    /// Time of the last committed block, ms since the epoch.
    pub last_block_time_ms: Gauge,
    /// Current consensus round.
    pub round: Gauge,
    /// Pending transactions.
    pub mempool_txs: Gauge,
    /// Pending bytes.
    pub mempool_bytes: Gauge,
    /// Transactions committed since this process started... and before (from the store).
    pub committed_txs: Gauge,
    /// Transaction-gossip peers connected (outbound).
    pub connected_peers: Gauge,
    /// Transactions refused at admission, by reason.
    pub rejected_txs: Family<ReasonLabel, Counter>,
    /// Gossip frames dropped (garbage, oversized, undecodable), by reason.
    pub p2p_dropped_frames: Family<ReasonLabel, Counter>,
    /// Proposed blocks this node judged invalid, by reason.
    pub invalid_blocks: Family<ReasonLabel, Counter>,
    /// RPC requests refused before dispatch (too large, bad JSON, batch too big).
    pub rpc_rejected: Family<ReasonLabel, Counter>,
    /// Entries in the message log.
    pub log_size: Gauge,
    /// Packet-log entries appended, by action (`packet_logged`, `ack_logged`, ...).
    pub packet_entries: Family<ReasonLabel, Counter>,
    /// Relayer messages refused in committed blocks, by reason.
    pub relay_rejected: Family<ReasonLabel, Counter>,
    /// Light-client updates applied.
    pub client_updates: Counter,
    /// Decisions whose block this node did not hold, so the height was restarted and the
    /// block fetched by sync (a node stopped between consensus's WAL keeping a proposal
    /// and the store keeping its block).
    pub decided_blocks_unknown: Counter,
    /// Blocks executed, by phase: `validate` (a proposal), `commit` (a decided block whose
    /// validation result was not at hand) and `commit_reused` (the validation result was).
    pub block_executions: Family<ReasonLabel, Counter>,
    /// State-tree updates of committed blocks, by where they were computed: `prepared`
    /// (beside consensus, after the block's validation) or `in_commit` (after the
    /// decision: the validation's result was not at hand).
    pub state_tree_updates: Family<ReasonLabel, Counter>,
    /// Seconds spent admitting one transaction (decode, signature, dry run), accepted or
    /// refused.
    pub admission_seconds: Histogram,
    /// Seconds spent executing one block (validation or a commit that could not reuse it).
    pub block_execution_seconds: Histogram,
    /// CPU seconds the executing thread spent on one block: the work itself, which a busy
    /// machine's other threads do not stretch as they stretch the wall time above.
    pub block_execution_cpu_seconds: Histogram,
    /// Seconds spent committing one block: the store's write transaction, the in-memory
    /// view, and the state tree's update when it was not prepared beside the votes.
    pub block_commit_seconds: Histogram,
    /// Seconds spent computing one block's state-tree update (new nodes and root),
    /// wherever it ran.
    pub state_tree_update_seconds: Histogram,
    /// CPU seconds the updating thread spent on one block's state-tree update.
    pub state_tree_update_cpu_seconds: Histogram,
    /// Per chain: hub time minus its client's latest header time, seconds (set at a
    /// scrape from the committed state).
    pub client_seconds_since_update: Family<ChainLabel, Gauge>,
    /// Per chain: seconds before its client expires without a newer header (0 expired).
    pub client_seconds_to_expiry: Family<ChainLabel, Gauge>,
    /// Per chain and status: 1 for the client's status, 0 for the others.
    pub client_status: Family<ChainStatusLabel, Gauge>,
    /// Per chain: clients frozen by verified misbehaviour evidence.
    pub client_frozen: Family<ChainLabel, Counter>,
}

/// Label of a per-chain metric.
#[derive(Clone, Debug, Hash, PartialEq, Eq, prometheus_client::encoding::EncodeLabelSet)]
pub struct ChainLabel {
    /// Chain id.
    pub chain: String,
}

/// Label of a per-chain status metric.
#[derive(Clone, Debug, Hash, PartialEq, Eq, prometheus_client::encoding::EncodeLabelSet)]
pub struct ChainStatusLabel {
    /// Chain id.
    pub chain: String,
    /// `active`, `expired`, `frozen` or `unavailable`.
    pub status: String,
}

/// Every status [`Metrics::client_status`] shows (`unavailable`: the client does not load).
pub const CLIENT_STATUSES: [&str; 4] = ["active", "expired", "frozen", "unavailable"];

/// Wall and CPU time of work done on the calling thread, observed into a pair of
/// histograms when it ends.
pub(crate) struct Stopwatch {
    wall: std::time::Instant,
    cpu: Option<std::time::Duration>,
}

impl Stopwatch {
    pub(crate) fn start() -> Self {
        Self {
            wall: std::time::Instant::now(),
            cpu: thread_cpu_time(),
        }
    }

    /// Observes the elapsed wall time, and the thread's CPU time where the clock is
    /// readable (it is on Linux; elsewhere only the wall time is kept).
    pub(crate) fn observe(&self, wall: &Histogram, cpu: &Histogram) {
        wall.observe(self.wall.elapsed().as_secs_f64());
        if let (Some(start), Some(now)) = (self.cpu, thread_cpu_time()) {
            cpu.observe(now.saturating_sub(start).as_secs_f64());
        }
    }
}

fn thread_cpu_time() -> Option<std::time::Duration> {
    nix::time::clock_gettime(nix::time::ClockId::CLOCK_THREAD_CPUTIME_ID)
        .ok()
        .map(std::time::Duration::from)
}

fn seconds_buckets() -> Histogram {
    // 10 µs to about 5 s.
    Histogram::new(exponential_buckets(0.000_01, 3.0, 13))
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Registers every metric under the `junction` prefix.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("junction");
        let m = Metrics {
            height: Gauge::default(),
            last_block_time_ms: Gauge::default(),
            round: Gauge::default(),
            mempool_txs: Gauge::default(),
            mempool_bytes: Gauge::default(),
            committed_txs: Gauge::default(),
            connected_peers: Gauge::default(),
            rejected_txs: Family::default(),
            p2p_dropped_frames: Family::default(),
            invalid_blocks: Family::default(),
            rpc_rejected: Family::default(),
            log_size: Gauge::default(),
            packet_entries: Family::default(),
            relay_rejected: Family::default(),
            client_updates: Counter::default(),
            decided_blocks_unknown: Counter::default(),
            block_executions: Family::default(),
            state_tree_updates: Family::default(),
            client_seconds_since_update: Family::default(),
            client_seconds_to_expiry: Family::default(),
            client_status: Family::default(),
            client_frozen: Family::default(),
            admission_seconds: seconds_buckets(),
            block_execution_seconds: seconds_buckets(),
            block_execution_cpu_seconds: seconds_buckets(),
            block_commit_seconds: seconds_buckets(),
            state_tree_update_seconds: seconds_buckets(),
            state_tree_update_cpu_seconds: seconds_buckets(),
            registry: Registry::default(),
        };
        registry.register("height", "Last committed block height", m.height.clone());
        registry.register(
            "last_block_time_ms",
            "Time of the last committed block (ms since the Unix epoch)",
            m.last_block_time_ms.clone(),
        );
        registry.register("round", "Current consensus round", m.round.clone());
        registry.register("mempool_txs", "Pending transactions", m.mempool_txs.clone());
        registry.register(
            "mempool_bytes",
            "Pending transaction bytes",
            m.mempool_bytes.clone(),
        );
        registry.register(
            "committed_txs",
            "Transactions committed on this chain",
            m.committed_txs.clone(),
        );
        registry.register(
            "connected_peers",
            "Transaction-gossip peers currently connected",
            m.connected_peers.clone(),
        );
        registry.register(
            "rejected_txs",
            "Transactions refused at admission, by reason",
            m.rejected_txs.clone(),
        );
        registry.register(
            "p2p_dropped_frames",
            "Frames from peers dropped as garbage or oversized, by reason",
            m.p2p_dropped_frames.clone(),
        );
        registry.register(
            "invalid_blocks",
            "Proposed blocks judged invalid, by reason",
            m.invalid_blocks.clone(),
        );
        registry.register(
            "rpc_rejected",
            "RPC requests refused before dispatch, by reason",
            m.rpc_rejected.clone(),
        );
        registry.register("log_size", "Entries in the message log", m.log_size.clone());
        registry.register(
            "packet_entries",
            "Message-log entries appended, by action",
            m.packet_entries.clone(),
        );
        registry.register(
            "relay_rejected",
            "Relayer messages refused in committed blocks, by reason",
            m.relay_rejected.clone(),
        );
        registry.register(
            "admission_seconds",
            "Seconds spent admitting one transaction",
            m.admission_seconds.clone(),
        );
        registry.register(
            "block_execution_seconds",
            "Seconds spent executing one block",
            m.block_execution_seconds.clone(),
        );
        registry.register(
            "block_execution_cpu_seconds",
            "CPU seconds the executing thread spent on one block",
            m.block_execution_cpu_seconds.clone(),
        );
        registry.register(
            "block_commit_seconds",
            "Seconds spent committing one block (store, memory; the state tree when not prepared)",
            m.block_commit_seconds.clone(),
        );
        registry.register(
            "state_tree_update_seconds",
            "Seconds spent computing one block's state-tree update",
            m.state_tree_update_seconds.clone(),
        );
        registry.register(
            "state_tree_update_cpu_seconds",
            "CPU seconds the updating thread spent on one block's state-tree update",
            m.state_tree_update_cpu_seconds.clone(),
        );
        registry.register(
            "client_updates",
            "Light-client headers applied",
            m.client_updates.clone(),
        );
        registry.register(
            "decided_blocks_unknown",
            "Decisions whose block this node did not hold (the height restarts and sync fetches it)",
            m.decided_blocks_unknown.clone(),
        );
        registry.register(
            "block_executions",
            "Block executions by phase (validate, commit, commit_reused)",
            m.block_executions.clone(),
        );
        registry.register(
            "state_tree_updates",
            "State-tree updates of committed blocks by where they were computed (prepared, in_commit)",
            m.state_tree_updates.clone(),
        );
        registry.register(
            "client_seconds_since_update",
            "Per chain: hub time minus the time of the latest header its client verified, seconds",
            m.client_seconds_since_update.clone(),
        );
        registry.register(
            "client_seconds_to_expiry",
            "Per chain: seconds before its client expires without a newer header (0 once expired)",
            m.client_seconds_to_expiry.clone(),
        );
        registry.register(
            "client_status",
            "Per chain: 1 for its client's status (active, expired, frozen, unavailable), 0 for the others",
            m.client_status.clone(),
        );
        registry.register(
            "client_frozen",
            "Per chain: clients frozen by verified misbehaviour evidence",
            m.client_frozen.clone(),
        );
        Metrics { registry, ..m }
    }

    /// Shows chain `chain`'s client: its status, and its header's age and the time left
    /// before it expires, in seconds, where known (an unknown one shows no value rather
    /// than a stale or zero one).
    pub fn set_client(
        &self,
        chain: &str,
        status: &str,
        age_secs: Option<u64>,
        expires_in_secs: Option<u64>,
    ) {
        let label = ChainLabel {
            chain: chain.to_string(),
        };
        let gauge = |family: &Family<ChainLabel, Gauge>, secs: Option<u64>| match secs {
            Some(s) => {
                family
                    .get_or_create(&label)
                    .set(i64::try_from(s).unwrap_or(i64::MAX));
            }
            None => {
                family.remove(&label);
            }
        };
        gauge(&self.client_seconds_since_update, age_secs);
        gauge(&self.client_seconds_to_expiry, expires_in_secs);
        for s in CLIENT_STATUSES {
            self.client_status
                .get_or_create(&ChainStatusLabel {
                    chain: chain.to_string(),
                    status: s.to_string(),
                })
                .set(i64::from(s == status));
        }
    }

    /// Increments a reason-labelled counter.
    pub fn count(family: &Family<ReasonLabel, Counter>, reason: &str) {
        junction_telemetry::count_reason(family, reason);
    }

    /// Counts a committed block event in the packet and relay metrics.
    pub fn count_event(&self, e: &junction_hub_app::Event) {
        if let Some(action) = e.kind.strip_prefix("packet/") {
            Self::count(&self.packet_entries, action);
        } else if e.kind == "relay/rejected" {
            let reason = e
                .attributes
                .iter()
                .find(|(k, _)| k == "error")
                .map_or("unknown", |(_, v)| v.as_str());
            Self::count(&self.relay_rejected, reason);
        } else if e.kind == "client/updated" {
            self.client_updates.inc();
        } else if e.kind == "client/frozen" {
            let chain = e
                .attributes
                .iter()
                .find(|(k, _)| k == "chain")
                .map_or("unknown", |(_, v)| v.as_str());
            self.client_frozen
                .get_or_create(&ChainLabel {
                    chain: chain.to_string(),
                })
                .inc();
        }
    }

    /// Prometheus text exposition.
    pub fn render(&self) -> Result<String, MetricsError> {
        render_registry(&self.registry)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_node_metrics_render() {
        let (status, _, body) = metrics_response(Metrics::new().render());
        assert_eq!(status, axum::http::StatusCode::OK);
        assert!(body.contains("junction_height"), "{body}");
    }

    #[test]
    fn a_chain_client_shows_one_status_and_only_known_ages() {
        let m = Metrics::new();
        m.set_client("evm-a", "active", Some(90), Some(3_510));
        let body = m.render().unwrap();
        for line in [
            "junction_client_status{chain=\"evm-a\",status=\"active\"} 1",
            "junction_client_status{chain=\"evm-a\",status=\"expired\"} 0",
            "junction_client_status{chain=\"evm-a\",status=\"frozen\"} 0",
            "junction_client_seconds_since_update{chain=\"evm-a\"} 90",
            "junction_client_seconds_to_expiry{chain=\"evm-a\"} 3510",
        ] {
            assert!(body.lines().any(|l| l == line), "{line} in\n{body}");
        }
        // The client stops loading: its status says so and its ages go, not stay stale.
        m.set_client("evm-a", "unavailable", None, None);
        let body = m.render().unwrap();
        assert!(body
            .lines()
            .any(|l| l == "junction_client_status{chain=\"evm-a\",status=\"unavailable\"} 1"));
        assert!(body
            .lines()
            .any(|l| l == "junction_client_status{chain=\"evm-a\",status=\"active\"} 0"));
        assert!(
            !body.contains("junction_client_seconds_to_expiry{"),
            "{body}"
        );
        assert!(
            !body.contains("junction_client_seconds_since_update{"),
            "{body}"
        );
    }
}
