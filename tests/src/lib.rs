//! End-to-end tests that start real `junction` processes on loopback.
