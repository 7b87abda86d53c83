//! Pure verifiers of other ledgers' headers and proofs (DESIGN §5).
//!
//! Every ledger kind implements [`LightClient`]: a read-only `verify_*` step that judges an
//! update, a proof or a piece of misbehaviour against the trusted state and returns either a
//! precise, named error or a verified value, and a write-only `apply_*` / `freeze` step that
//! records what was verified. Nothing here reads a clock, a file or the network: the caller
//! passes `now`, so every validator of the hub reaches the same verdict on the same input.
//!
//! | module | ledger kind |
//! |---|---|
//! | [`tendermint`] | Tendermint / CometBFT headers, ICS-23 proofs, the bisection driver |
//! | [`evm`] | QBFT / IBFT 2.0 headers, attested headers, EIP-1186 and receipt proofs |
//! | [`bitcoin`] | Bitcoin header chain (SPV) and transaction inclusion |
//! | [`fabric`] | Hyperledger Fabric blocks, endorsements and validation attestations |
//! | [`hub`] | Junction's own checkpoints and RFC 6962 message-log proofs |

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod bitcoin;
pub mod evm;
pub mod fabric;
pub mod hub;
pub mod tendermint;

mod client;

pub use client::{ClientStatus, LightClient, NamedError, Timestamp};
