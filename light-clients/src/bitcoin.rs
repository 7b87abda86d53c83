//! bitcoin light client (in progress).
