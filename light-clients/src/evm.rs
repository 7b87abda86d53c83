//! evm light client (in progress).
