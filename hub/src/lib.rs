//! The Junction hub node: consensus glue (Malachite), the block state machine, the redb
//! store, the mempool and transaction gossip, JSON-RPC and metrics, and the `junction` CLI.
//!
//! Layout: `context`/`signing`/`codec` adapt Malachite to our types; `chain` holds the pure
//! block rules; `node` the shared state and commit path; `app` the consensus loop; `store`
//! persistence; `mempool`, `gossip`, `rpc`, `metrics` the rest of the node; `config` the home
//! directory; `cli`, `testnet` and `bench` the operator commands.

pub mod app;
pub mod attest;
pub mod bench;
pub mod bench_e2e;
pub mod bench_verify;
mod bench_verify_clients;
pub mod chain;
pub mod cli;
pub mod client;
pub mod codec;
pub mod config;
pub mod context;
pub mod evmnet;
pub mod gossip;
pub mod govcli;
pub mod mempool;
pub mod metrics;
pub mod node;
pub mod relay;
pub mod relayer;
pub mod rpc;
pub mod rpc_packets;
pub mod signing;
pub mod start;
pub mod store;
pub mod streams;
pub mod testnet;
pub mod wire;
