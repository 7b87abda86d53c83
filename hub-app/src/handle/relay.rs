//! `Relay`: a registered relayer's messages (client updates, proven packets, acks,
//! timeouts), each through the light clients and the packet core. Validate runs them on a
//! scratch copy and refuses the transaction by its first failing message; execute runs
//! them for real, each message succeeding or refused on its own.

use junction_governance::Council;
use junction_spec::{address_from_ed25519, RelayMsg, TxBody};

use super::{council_of, no_council, Refusal, TxHandler};
use crate::context::{ExecutionContext, ValidationContext};
use crate::event::Event;
use crate::relay::{RelayError, RelayExec};
use crate::state::Overlay;
use crate::tx::TxError;

pub(super) struct Relay<'t> {
    pub msgs: &'t [RelayMsg],
}

impl TxHandler for Relay<'_> {
    fn validate(&self, ctx: &dyn ValidationContext, tx: &TxBody) -> Result<(), TxError> {
        let council = council_of(ctx)?;
        check_relay(ctx, council, &tx.signer, self.msgs)
    }

    fn execute(&self, ctx: &mut dyn ExecutionContext, tx: &TxBody) -> Result<Vec<Event>, Refusal> {
        let exec = ctx.relay().ok_or_else(no_council)?;
        Ok(execute_relay(exec, &tx.signer, self.msgs))
    }
}

/// Runs a relayer's messages in order: the signer must be a registered relayer with
/// room in its rate-limit bucket; each message then succeeds or is refused on its own
/// (`relay/rejected` with the error's name), changing nothing when refused.
pub fn execute_relay(mut exec: RelayExec<'_>, signer: &[u8; 32], msgs: &[RelayMsg]) -> Vec<Event> {
    let refused = |name: &str, message: String, index: Option<(usize, &str)>| {
        let mut attributes = Vec::with_capacity(4);
        if let Some((i, msg)) = index {
            attributes.push(("index".into(), i.to_string()));
            attributes.push(("msg".into(), msg.to_string()));
        }
        attributes.push(("error".into(), name.to_string()));
        attributes.push(("message".into(), message));
        Event {
            kind: "relay/rejected".into(),
            tx: String::new(),
            attributes,
        }
    };
    if !exec.council.is_relayer(signer) {
        let e = RelayError::UnregisteredRelayer;
        return vec![refused(e.name(), e.to_string(), None)];
    }
    let account = address_from_ed25519(signer);
    if let Err(e) = exec.take_tokens(&account, msgs.len() as u64) {
        return vec![refused(e.name(), e.to_string(), None)];
    }
    let mut events = Vec::new();
    for (i, m) in msgs.iter().enumerate() {
        match exec.run_at(i, m) {
            Ok(evs) => events.extend(evs),
            Err(e) => events.push(refused(e.name(), e.to_string(), Some((i, m.name())))),
        }
    }
    events
}

/// Admission check of a relay transaction: runs it against a scratch overlay and copies
/// of the council and the packet state (the context is only read), and refuses it by the
/// first message that fails (or the signer check / rate limit).
pub fn check_relay(
    ctx: &dyn ValidationContext,
    council: &Council,
    signer: &[u8; 32],
    msgs: &[RelayMsg],
) -> Result<(), TxError> {
    let whole = |e: RelayError| TxError::Relay {
        index: 0,
        msg: "relay",
        name: e.name(),
        message: e.to_string(),
    };
    if !council.is_relayer(signer) {
        return Err(whole(RelayError::UnregisteredRelayer));
    }
    let mut view = Overlay::new(ctx.state());
    let mut council = council.clone();
    let mut packets = ctx.packets().clone();
    let mut exec = RelayExec::new(&mut view, &mut council, &mut packets, ctx.now_ms())
        .with_proof_memo(ctx.proof_memo())
        .with_tx(ctx.tx_hash().copied())
        .with_hub_chain(ctx.hub_chain().cloned());
    exec.take_tokens(&address_from_ed25519(signer), msgs.len() as u64)
        .map_err(whole)?;
    for (index, m) in msgs.iter().enumerate() {
        exec.run_at(index, m).map_err(|e| TxError::Relay {
            index,
            msg: m.name(),
            name: e.name(),
            message: e.to_string(),
        })?;
    }
    Ok(())
}
