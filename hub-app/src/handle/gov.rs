//! Council actions: `Propose`, `Vote`, `EmergencyPause`, `EmergencyFreeze`. Validate runs
//! the action on a copy of the council; execute runs it on a copy too and keeps the copy
//! only when the council accepted it, so a refused action changes nothing.

use junction_governance::{Council, GovError, GovEvent};
use junction_spec::gov::{ProposalKind, RouteId, VoteOption};
use junction_spec::{ChainId, TxBody};

use super::{council_of, no_council, Refusal, TxHandler};
use crate::context::{ExecutionContext, ValidationContext};
use crate::event::{gov_event, Event};
use crate::tx::TxError;

/// One council action, on the hub whose own chain id is `hub_chain` (when the caller
/// knows it).
trait CouncilAction {
    fn apply(
        &self,
        council: &mut Council,
        signer: &[u8; 32],
        now_ms: u64,
        hub_chain: Option<&ChainId>,
    ) -> Result<Vec<GovEvent>, GovError>;
}

fn refused(e: &GovError) -> TxError {
    TxError::Governance {
        name: e.name(),
        message: e.to_string(),
    }
}

impl<A: CouncilAction> TxHandler for A {
    fn validate(&self, ctx: &dyn ValidationContext, tx: &TxBody) -> Result<(), TxError> {
        let mut council = council_of(ctx)?.clone();
        self.apply(&mut council, &tx.signer, ctx.now_ms(), ctx.hub_chain())
            .map(|_| ())
            .map_err(|e| refused(&e))
    }

    fn execute(&self, ctx: &mut dyn ExecutionContext, tx: &TxBody) -> Result<Vec<Event>, Refusal> {
        let now_ms = ctx.now_ms();
        let hub_chain = ctx.hub_chain().cloned();
        let council = ctx.council_mut().ok_or_else(no_council)?;
        let mut next = council.clone();
        let events = self
            .apply(&mut next, &tx.signer, now_ms, hub_chain.as_ref())
            .map_err(|e| Refusal {
                name: e.name().to_string(),
                message: e.to_string(),
            })?;
        *council = next;
        Ok(events.into_iter().map(|e| gov_event(e, None)).collect())
    }
}

pub(super) struct Propose<'t> {
    pub proposal: &'t ProposalKind,
    pub expedited: bool,
    pub deposit: u128,
}

impl CouncilAction for Propose<'_> {
    fn apply(
        &self,
        council: &mut Council,
        signer: &[u8; 32],
        now_ms: u64,
        hub_chain: Option<&ChainId>,
    ) -> Result<Vec<GovEvent>, GovError> {
        // The council does not know the hub's chain id; the hub refuses a proposal that
        // would make it a chain of its own (a client of itself, or a path through itself).
        if let Some(own) = hub_chain {
            let names_own = match self.proposal {
                ProposalKind::RegisterChain(reg) => &reg.chain_id == own,
                ProposalKind::RegisterRemoteChain { chain, via } => chain == own || via == own,
                _ => false,
            };
            if names_own {
                return Err(GovError::OwnChainId);
            }
        }
        if let ProposalKind::AddValidator { pub_key, .. } = self.proposal {
            ed25519_point(pub_key, GovError::InvalidValidatorKey)?;
        }
        council
            .propose_with(
                signer,
                self.proposal.clone(),
                self.expedited,
                self.deposit,
                now_ms,
                &crate::relay::HubClientCheck,
            )
            .map(|(_, events)| events)
    }
}

/// Refuses (with `refusal`) a key no one could sign for: it is no ed25519 point.
fn ed25519_point(key: &[u8; 32], refusal: GovError) -> Result<(), GovError> {
    match ed25519_consensus::VerificationKey::try_from(*key) {
        Ok(_) => Ok(()),
        Err(_) => Err(refusal),
    }
}

pub(super) struct RotateKey<'t> {
    pub new_key: &'t [u8; 32],
}

impl CouncilAction for RotateKey<'_> {
    fn apply(
        &self,
        council: &mut Council,
        signer: &[u8; 32],
        _now_ms: u64,
        _hub_chain: Option<&ChainId>,
    ) -> Result<Vec<GovEvent>, GovError> {
        ed25519_point(self.new_key, GovError::InvalidAccountKey)?;
        council.rotate_key(signer, self.new_key)
    }
}

pub(super) struct RotateValidatorKeys<'t> {
    pub new_key: &'t [u8; 32],
    pub new_attestation_address: &'t [u8; 20],
}

impl CouncilAction for RotateValidatorKeys<'_> {
    fn apply(
        &self,
        council: &mut Council,
        signer: &[u8; 32],
        _now_ms: u64,
        _hub_chain: Option<&ChainId>,
    ) -> Result<Vec<GovEvent>, GovError> {
        ed25519_point(self.new_key, GovError::InvalidValidatorKey)?;
        council.rotate_validator_keys(signer, self.new_key, self.new_attestation_address)
    }
}

pub(super) struct Vote {
    pub proposal_id: u64,
    pub option: VoteOption,
}

impl CouncilAction for Vote {
    fn apply(
        &self,
        council: &mut Council,
        signer: &[u8; 32],
        now_ms: u64,
        _hub_chain: Option<&ChainId>,
    ) -> Result<Vec<GovEvent>, GovError> {
        council.vote(signer, self.proposal_id, self.option, now_ms)
    }
}

pub(super) struct EmergencyPause<'t> {
    pub route: &'t RouteId,
}

impl CouncilAction for EmergencyPause<'_> {
    fn apply(
        &self,
        council: &mut Council,
        signer: &[u8; 32],
        now_ms: u64,
        _hub_chain: Option<&ChainId>,
    ) -> Result<Vec<GovEvent>, GovError> {
        council.emergency_pause(signer, self.route, now_ms)
    }
}

pub(super) struct EmergencyFreeze<'t> {
    pub chain: &'t ChainId,
}

impl CouncilAction for EmergencyFreeze<'_> {
    fn apply(
        &self,
        council: &mut Council,
        signer: &[u8; 32],
        now_ms: u64,
        _hub_chain: Option<&ChainId>,
    ) -> Result<Vec<GovEvent>, GovError> {
        council.emergency_freeze(signer, self.chain, now_ms)
    }
}
