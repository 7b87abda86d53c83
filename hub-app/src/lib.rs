//! The hub's application state machine, pure: no I/O, no clock (hub time comes in the block
//! header; the validating node's clock is a parameter), no floats, and no hash-map
//! iteration in anything hashed. The node crate persists what [`execute_block`] returns in
//! one store transaction.
//!
//! Modules, each depending only on those listed after it:
//! - `block`: blocks, the tip, the header rules and [`execute_block`];
//! - `handle`: one handler per transaction kind (remark, council actions, relayer
//!   messages), each a validate step over a read-only [`ValidationContext`] and an execute
//!   step over a writing [`ExecutionContext`];
//! - `context`: those contexts, for admission ([`AdmissionContext`]) and for a block
//!   ([`BlockContext`]);
//! - `tx`: the rules every transaction shares ([`validate_tx`]: chain id, nonce) and
//!   [`TxError`];
//! - `relay`: relayer messages — light-client updates, proven packets, acks, timeouts —
//!   through the light clients and the packet core;
//! - `attest`: attestations of attested chains' headers, kept per attester and applied
//!   once k of the n registered attesters agree;
//! - `clients`: the light clients of every ledger kind behind one enum (`AnyClient`);
//! - `event`: what transactions report;
//! - `upgrade`: protocol versions, and the migration a scheduled upgrade runs;
//! - `validators`: which validators sign which height (the schedule of validator-set
//!   changes, two heights after the block that executed them);
//! - `state`: the authenticated key/value state and its overlay of pending writes.

pub mod attest;
pub mod block;
pub mod clients;
pub mod context;
pub mod event;
pub mod handle;
pub mod relay;
pub mod state;
pub mod tx;
pub mod upgrade;
pub mod validators;

pub use block::*;
pub use context::*;
pub use event::*;
pub use handle::{check_relay, execute_relay, validate_kind};
pub use state::*;
pub use tx::*;
pub use validators::{schedule_at, VALIDATOR_CHANGES_KEY};

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod hub_path_tests;

#[cfg(test)]
pub(crate) mod testutil {
    use junction_governance::bench::{sample_floors, sample_params};
    use junction_governance::{Council, GovGenesis, Member};
    use junction_spec::{MemberStatus, OrgId, Role};

    /// A genesis council with one active member holding `member_key`.
    pub fn council_with_member(member_key: [u8; 32]) -> Council {
        council_with_chains(member_key, vec![])
    }

    /// The same council with `chains` registered.
    pub fn council_with_chains(
        member_key: [u8; 32],
        chains: Vec<junction_spec::ChainRegistration>,
    ) -> Council {
        let member = Member {
            org: OrgId::new("org0").unwrap_or_else(|e| unreachable!("{e}")),
            name: "Organization 0".into(),
            weight: 10,
            role: Role::Member,
            status: MemberStatus::Active,
            keys: vec![member_key],
        };
        Council::genesis(GovGenesis {
            members: vec![member],
            params: sample_params(),
            floors: sample_floors(),
            chains,
            routes: vec![],
            validators: vec![junction_spec::HubValidator {
                pub_key: [4; 32],
                power: 10,
                attestation_address: [4; 20],
            }],
            relayers: vec![],
            accounts: vec![],
        })
        .unwrap_or_else(|e| unreachable!("the test genesis is valid: {e}"))
    }
}
