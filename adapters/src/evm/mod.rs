//! EVM chains: the Junction gateway contract and the local node used to test it.

pub mod anvil;
pub mod gateway;
