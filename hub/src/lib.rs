//! The Junction hub node: consensus glue (Malachite), the block state machine, the redb
//! store, the mempool and transaction gossip, JSON-RPC and metrics.
//!
//! Layout: `context`/`signing`/`codec` adapt Malachite to our types; `chain` holds the pure
//! block rules and `relay` the relayer transactions; `node` the shared state and commit
//! path; `app` the consensus loop; `store` persistence (`store_tree` the state tree's rows); `mempool`, `gossip`, `rpc`,
//! `metrics` (and `client_report`, each chain's client status and expiry) the rest of the node; `config` the home directory, `ceremony` the genesis ceremony. The RPC's types and client
//! are `junction-rpc`, key files and transaction signing `junction-keys`.

pub mod app;
pub mod attest;
pub mod ceremony;
pub mod client_report;
pub mod codec;
pub mod config;
pub mod context;
pub mod gossip;
mod key_filter;
pub mod mempool;
pub mod metrics;
pub mod node;
pub mod rpc;
pub mod rpc_error;
pub mod rpc_packets;
pub mod rpc_state;
pub mod signing;
pub mod snapshot;
pub mod start;
pub mod store;
pub mod store_tables;
mod store_tree;
pub mod streams;
pub mod sync;
