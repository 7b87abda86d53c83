//! Adapters for other ledgers and the relayer (DESIGN §7).
//!
//! So far: the EVM gateway ([`evm::gateway`]): bindings to the Solidity contracts in
//! `adapters/evm/contracts`, deployment, and the encoding of a hub checkpoint and log
//! entries into one `deliver` call; and [`evm::anvil`], a local anvil process for tests.

pub mod evm;
