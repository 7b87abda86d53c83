//! Header verification and misbehaviour (in progress).
