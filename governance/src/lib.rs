//! The council state machine (DESIGN §6): members, proposals, votes, tallies, the
//! emergency brake, registries of chains, validators and relayers, and route policy with
//! token-bucket rate limits.
//!
//! The crate is pure: no I/O, no clock (hub time is the `now_ms` parameter of every
//! transition), no floating point, and no hash-map iteration. Every fraction is compared
//! by cross-multiplication in `u128`. [`Council`] has one canonical encoding, which the
//! hub stores and commits to in its app hash. The rules are written out in
//! `spec/governance.md`.
//!
//! Entry points: [`Council::genesis`], then [`Council::apply`] (or the individual
//! methods [`Council::propose`], [`Council::vote`], [`Council::emergency_pause`],
//! [`Council::emergency_freeze`], [`Council::tick`]), and for packets
//! [`Council::check_packet`] (read-only) and [`Council::execute_packet`] (takes tokens).
//! The packet core (`junction-packets`) reaches that policy through its `RouteTable`
//! trait, which [`Council`] implements.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod bench;
pub mod error;
pub mod event;
mod execute;
pub mod invariants;
pub mod member;
pub mod proposal;
pub mod registry;
pub mod route;
pub mod state;
pub mod tally;

pub use error::GovError;
pub use error::InvariantViolation;
pub use event::GovEvent;
pub use member::Member;
pub use proposal::{Proposal, ProposalStatus, MAX_FAILURE_REASON_LEN};
pub use registry::{
    total_power, validator_change_allowed, ClientState, EmergencySignature, ScheduledUpgrade,
};
pub use route::{
    route_choice, PacketContext, PolicyRejection, Route, RouteChoice, RouteState, TokenBucket,
};
pub use state::{
    ClientCheck, Council, GovGenesis, GovInput, NoClientCheck, Retirement, COUNCIL_STATE_VERSION,
};
pub use tally::{required_threshold, Outcome, Tally};

/// Most members (of any status) a council holds.
pub const MAX_MEMBERS: usize = 1_024;
/// Most validators in the hub validator set.
pub const MAX_VALIDATORS: usize = 1_024;
/// Most registered chains.
pub const MAX_CHAINS: usize = 4_096;
/// Most routes (of any state).
pub const MAX_ROUTES: usize = 4_096;
/// Most registered relayers.
pub const MAX_RELAYERS: usize = 4_096;
/// Most admitted accounts (besides members and relayers).
pub const MAX_ACCOUNTS: usize = 4_096;
/// Most proposals kept in the state.
pub const MAX_PROPOSALS: usize = 1 << 20;
