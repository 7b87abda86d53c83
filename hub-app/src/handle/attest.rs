//! `Attest`: a member's attester vouches for headers of an attested chain. Any account the
//! council knows may carry attestations (the attester's signature is what counts, not the
//! account); validate runs them on a scratch copy and refuses the transaction by its first
//! bad attestation, execute keeps them and moves the client once k attesters agree.

use junction_light_clients::evm::attested::AttesterRotation;
use junction_spec::relay::HeaderAttestation;
use junction_spec::{ChainId, TxBody};

use super::{council_of, no_council, Refusal, TxHandler};
use crate::context::{ExecutionContext, ValidationContext};
use crate::event::Event;
use crate::relay::{RelayError, RelayExec};
use crate::state::Overlay;
use crate::tx::TxError;

pub(super) struct Attest<'t> {
    pub chain: &'t ChainId,
    pub attestations: &'t [HeaderAttestation],
}

/// Runs `step` on scratch copies of the council, the state and the packets (a validate
/// step: it reads only) and names the first rule it breaks as message `msg`'s.
fn on_scratch(
    ctx: &dyn ValidationContext,
    msg: &'static str,
    step: impl FnOnce(&mut RelayExec<'_>) -> Result<Vec<Event>, RelayError>,
) -> Result<(), TxError> {
    let mut council = council_of(ctx)?.clone();
    let mut view = Overlay::new(ctx.state());
    let mut packets = ctx.packets().clone();
    let mut exec = RelayExec::new(&mut view, &mut council, &mut packets, ctx.now_ms());
    step(&mut exec).map(drop).map_err(|e| TxError::Relay {
        index: 0,
        msg,
        name: e.name(),
        message: e.to_string(),
    })
}

/// An execute step's refusal by the rule's name.
fn refusal(e: &RelayError) -> Refusal {
    Refusal {
        name: e.name().to_string(),
        message: e.to_string(),
    }
}

impl TxHandler for Attest<'_> {
    fn validate(&self, ctx: &dyn ValidationContext, _tx: &TxBody) -> Result<(), TxError> {
        on_scratch(ctx, "attest", |exec| {
            exec.attest(self.chain, self.attestations)
        })
    }

    fn execute(&self, ctx: &mut dyn ExecutionContext, _tx: &TxBody) -> Result<Vec<Event>, Refusal> {
        let mut exec = ctx.relay().ok_or_else(no_council)?;
        exec.attest(self.chain, self.attestations)
            .map_err(|e| refusal(&e))
    }
}

/// `RotateAttesterKey`: an attester moves to a new key for one chain. Like `Attest`, any
/// account the council knows may carry it: the two keys' signatures are what count, and
/// they are bound to this transaction's signer and nonce, so nobody can replay them.
pub(super) struct RotateAttesterKey<'t> {
    pub chain: &'t ChainId,
    pub old_address: &'t [u8; 20],
    pub new_address: &'t [u8; 20],
    pub old_signature: &'t [u8; 65],
    pub new_signature: &'t [u8; 65],
}

impl RotateAttesterKey<'_> {
    fn rotation(&self, tx: &TxBody) -> AttesterRotation {
        AttesterRotation {
            hub_chain: tx.chain_id.as_str().to_string(),
            chain: self.chain.as_str().to_string(),
            old: *self.old_address,
            new: *self.new_address,
            account: tx.signer,
            nonce: tx.nonce,
        }
    }
}

impl TxHandler for RotateAttesterKey<'_> {
    fn validate(&self, ctx: &dyn ValidationContext, tx: &TxBody) -> Result<(), TxError> {
        let rotation = self.rotation(tx);
        on_scratch(ctx, "rotate_attester_key", |exec| {
            exec.rotate_attester(
                self.chain,
                &rotation,
                self.old_signature,
                self.new_signature,
            )
        })
    }

    fn execute(&self, ctx: &mut dyn ExecutionContext, tx: &TxBody) -> Result<Vec<Event>, Refusal> {
        let rotation = self.rotation(tx);
        let mut exec = ctx.relay().ok_or_else(no_council)?;
        exec.rotate_attester(
            self.chain,
            &rotation,
            self.old_signature,
            self.new_signature,
        )
        .map_err(|e| refusal(&e))
    }
}
