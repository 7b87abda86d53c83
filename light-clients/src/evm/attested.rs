//! attested (in progress).
