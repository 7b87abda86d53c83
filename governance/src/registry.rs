//! Registries: light clients of registered chains, the hub validator set and relayers.

use junction_spec::{ChainRegistration, Decode, DecodeError, Encode, Reader};
use serde::{Deserialize, Serialize};

/// The council's record of a registered chain's light client.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientState {
    /// How the chain was registered.
    pub registration: ChainRegistration,
    /// A frozen client proves nothing: every packet from or to the chain is rejected until
    /// a `RecoverClient` proposal executes.
    pub frozen: bool,
}

/// `registration || frozen (bool)`.
impl Encode for ClientState {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.registration.encode_to(out);
        self.frozen.encode_to(out);
    }
}

impl Decode for ClientState {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            registration: Decode::decode_from(r)?,
            frozen: Decode::decode_from(r)?,
        })
    }
}

/// A software upgrade the council scheduled.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduledUpgrade {
    /// The upgrade's name.
    pub name: String,
    /// The hub height at which it applies.
    pub height: u64,
    /// The proposal that scheduled it.
    pub proposal_id: u64,
}

/// One member's signature of a pending emergency pause or freeze.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmergencySignature {
    /// The signing member.
    pub org: junction_spec::OrgId,
    /// Hub time of the signature. It lapses `voting_period_ms` later.
    pub signed_ms: u64,
}

/// The sum of the powers of a validator set (saturating; powers are capped so that it
/// never saturates in practice).
pub fn total_power(validators: &[junction_spec::HubValidator]) -> u64 {
    validators
        .iter()
        .fold(0u64, |acc, v| acc.saturating_add(v.power))
}

/// The validator-set change rule: a change that moves `delta` power is allowed only when
/// it is less than a third of the power before it (`3 * delta < total_before`, in
/// `u128`), so that consecutive validator sets always overlap by more than 2/3.
pub fn validator_change_allowed(total_before: u64, delta: u64) -> bool {
    u128::from(delta) * 3 < u128::from(total_before)
}
