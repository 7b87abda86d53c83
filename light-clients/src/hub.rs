//! hub light client (in progress).
