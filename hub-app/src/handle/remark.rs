//! `Remark`: a signed note, kept as the account's last remark.

use junction_spec::TxBody;

use super::{Refusal, TxHandler};
use crate::context::{ExecutionContext, ValidationContext};
use crate::event::Event;
use crate::state::remark_key;
use crate::tx::TxError;

pub(super) struct Remark<'t> {
    pub data: &'t [u8],
}

impl TxHandler for Remark<'_> {
    fn validate(&self, _: &dyn ValidationContext, _: &TxBody) -> Result<(), TxError> {
        // Its size is bounded by the transaction's content rules; nothing else can refuse it.
        Ok(())
    }

    fn execute(&self, ctx: &mut dyn ExecutionContext, tx: &TxBody) -> Result<Vec<Event>, Refusal> {
        let addr = tx.signer_address();
        ctx.put(remark_key(&addr), self.data.to_vec());
        Ok(vec![Event {
            kind: "remark".into(),
            tx: String::new(),
            attributes: vec![
                ("sender".into(), hex::encode(addr)),
                ("nonce".into(), tx.nonce.to_string()),
                ("bytes".into(), self.data.len().to_string()),
            ],
        }])
    }
}
