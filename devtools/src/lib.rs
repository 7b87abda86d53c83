//! Development tools behind `junction testnet` and `junction bench`: local testnets of
//! validator processes on 127.0.0.1 (`testnet`), anvil chains with deployed gateways and a
//! relayer (`evmnet`), two linked hubs (`hubnet`), a QBFT-sealed view of an anvil chain (`qbft_shim`), Tendermint,
//! Fabric and Bitcoin fixture ledgers served to a relayer (`fixture_ledger`), and the
//! benchmarks (`bench`, `bench_e2e`, `bench_verify`). No production crate depends on this
//! one.

pub mod bench;
pub mod bench_e2e;
pub mod bench_hub;
mod bench_measure;
pub mod bench_verify;
mod bench_verify_clients;
pub mod evmnet;
pub mod fixture_ledger;
pub mod homes;
pub mod hubnet;
pub mod qbft_shim;
pub mod testnet;
