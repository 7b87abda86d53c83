//! The external signer of a validator's consensus key (`spec/signer.md`).
//!
//! A validator may keep its ed25519 consensus key out of the node: the node then asks a
//! signer process over a Unix socket for every consensus signature. The reference signer
//! (`junction signer start`) reads what it is asked to sign itself — the height, round and
//! step are taken from the canonical sign bytes, never from the node's word — and refuses
//! to sign a second, different message at a height, round and step it signed before, or
//! anything older. What it signed last is on disk before the signature leaves it, so the
//! protection survives a crash or a restart.
//!
//! Modules: `guard` (the pure double-sign rule over parsed sign bytes), `protocol` (the
//! messages on the socket), `server` (the reference signer), `client` (the node's side).

pub mod client;
pub mod guard;
pub mod protocol;
pub mod server;

pub use client::RemoteSigner;
pub use guard::{GuardError, LastSigned, SignGuard, Signable};
pub use protocol::{SignRequest, SignResponse, SignerErrorBody};
