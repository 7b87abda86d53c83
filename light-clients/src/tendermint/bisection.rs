//! Bisection driver (in progress).
