//! `ParkPacket`: a registered relayer's operator parks a packet the hub logged that can
//! never be delivered. The hub keeps who parked it, when and why, and says so in an event;
//! relayers then leave its delivery alone. Its outcome is untouched: it still comes by the
//! protocol's rules (the timeout, proven like any other).

use junction_spec::{Encode, Hash32, TxBody};

use super::{council_of, no_council, Refusal, TxHandler};
use crate::context::{ExecutionContext, ValidationContext};
use crate::event::Event;
use crate::state::{parked, parked_key, Parked};
use crate::tx::TxError;

pub(super) struct ParkPacket<'t> {
    pub key: &'t Hash32,
    pub reason: &'t str,
}

/// The rule a park breaks, by name.
fn check(
    ctx: &dyn ValidationContext,
    tx: &TxBody,
    key: &Hash32,
) -> Result<(), (&'static str, String)> {
    let council =
        council_of(ctx).map_err(|_| ("no_council", "the state holds no council".to_owned()))?;
    if !council.is_relayer(&tx.signer) {
        return Err((
            "unregistered_relayer",
            "only a registered relayer's account parks packets".into(),
        ));
    }
    let Some(record) = ctx.packets().record(key) else {
        return Err((
            "unknown_packet",
            format!("the hub holds no packet {}", hex::encode(key)),
        ));
    };
    if record.outcome.is_some() {
        return Err((
            "packet_settled",
            "the packet has its outcome: there is nothing left to deliver".into(),
        ));
    }
    if parked(ctx.state(), key).is_some() {
        return Err(("already_parked", "the packet is parked already".into()));
    }
    Ok(())
}

impl TxHandler for ParkPacket<'_> {
    fn validate(&self, ctx: &dyn ValidationContext, tx: &TxBody) -> Result<(), TxError> {
        check(ctx, tx, self.key).map_err(|(name, message)| TxError::Park { name, message })
    }

    fn execute(&self, ctx: &mut dyn ExecutionContext, tx: &TxBody) -> Result<Vec<Event>, Refusal> {
        if ctx.council().is_none() {
            return Err(no_council());
        }
        check(ctx, tx, self.key).map_err(|(name, message)| Refusal {
            name: name.to_owned(),
            message,
        })?;
        let by = tx.signer_address();
        let record = Parked {
            by,
            at_ms: ctx.now_ms(),
            reason: self.reason.to_owned(),
        };
        ctx.put(parked_key(self.key), record.to_bytes());
        Ok(vec![Event {
            kind: "packet/parked".into(),
            tx: String::new(),
            attributes: vec![
                ("key".into(), hex::encode(self.key)),
                ("by".into(), hex::encode(by)),
                ("reason".into(), self.reason.to_owned()),
            ],
        }])
    }
}
