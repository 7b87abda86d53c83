//! Adapters for other ledgers and the relayer (DESIGN §7).
//!
//! Nothing is implemented here yet: adapters talk to the hub only over its RPC and arrive with
//! the message-path issue.
