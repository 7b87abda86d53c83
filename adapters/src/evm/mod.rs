//! EVM chains: the Junction gateway contract, the adapter relayers use, and the local node
//! used to test them.

pub mod adapter;
pub mod anvil;
#[cfg(feature = "testkit")]
pub mod gas;
pub mod gateway;
