//! The council state machine (DESIGN §6): members, proposals, votes, routes, registries.
//!
//! Nothing is implemented here yet: governance arrives with its own issue. The crate exists so
//! that the dependency direction (`governance` → `spec`) is fixed from the start.
