//! Tendermint / CometBFT light client: header verification with
//! `tendermint-light-client-verifier`, ICS-23 state proofs, misbehaviour, and the pure
//! bisection driver the relayer uses to pick intermediate heights.

pub mod batch;
pub mod bisection;
pub mod client;
pub mod codec;
pub mod hub;
pub mod proof;
#[cfg(any(test, feature = "testkit"))]
pub mod testkit;
