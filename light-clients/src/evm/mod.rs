//! EVM light clients: QBFT / IBFT 2.0 sealed headers, attested headers for chains without
//! seals, and the Merkle-Patricia proofs (EIP-1186 account/storage, receipts) both use.

pub mod attested;
pub mod codec;
pub mod header;
pub mod history;
pub mod mpt;
pub mod qbft;
pub mod secp;
