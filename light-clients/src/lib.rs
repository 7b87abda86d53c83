//! Pure verifiers of other ledgers' headers and proofs (DESIGN §5).
//!
//! Nothing is implemented here yet: the light clients arrive with their own issue. The crate
//! exists so that the dependency direction (`light-clients` → `spec`) is fixed from the start.
