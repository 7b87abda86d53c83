//! fabric light client (in progress).
