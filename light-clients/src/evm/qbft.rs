//! qbft (in progress).
