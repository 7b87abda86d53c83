//! The hub's JSON-RPC interface, typed: one [`Method`] per call with its parameters and
//! its answer ([`methods`]), the error object ([`error`]), hex and integer forms as they
//! travel ([`hex`]), and the [`RpcClient`] that the CLI, the relayer and the dev tools
//! use. The node's server parses into and answers with the same types.

pub mod client;
pub mod error;
pub mod hex;
pub mod methods;

pub use client::RpcClient;
pub use error::{codes, ClientError, ErrorData, ErrorObject};
pub use hex::{Hex, Hex32, HexBytes};
pub use methods::*;
