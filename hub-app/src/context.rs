//! What a transaction's handler sees. The validate step gets a [`ValidationContext`] and
//! can only read; the execute step gets an [`ExecutionContext`] and is the only step that
//! writes. Admission (the mempool) validates against [`AdmissionContext`]; a block runs
//! each transaction through [`BlockContext`], whose writes the node persists.

use junction_governance::Council;
use junction_packets::PacketState;
use junction_spec::{ChainId, Hash32};

use crate::relay::{ProofMemo, RelayExec};
use crate::state::{Overlay, StateReader, StateWriter as _};

/// What a validate step may read.
pub trait ValidationContext {
    /// The state, with the writes of the block's earlier transactions.
    fn state(&self) -> &dyn StateReader;
    /// The council, ticked to [`ValidationContext::now_ms`]; `None` when the state holds
    /// none.
    fn council(&self) -> Option<&Council>;
    /// The packet state.
    fn packets(&self) -> &PacketState;
    /// Hub time: the block's, or at admission the node's clock past the tip.
    fn now_ms(&self) -> u64;
    /// The node's memo of passed proof checks, if it keeps one.
    fn proof_memo(&self) -> Option<&dyn ProofMemo> {
        None
    }
    /// The hash of the transaction being checked or run, when the caller has it: the memo
    /// then names a message's proof by the transaction and the message's index, which fix
    /// its bytes, instead of hashing the proof bytes again.
    fn tx_hash(&self) -> Option<&Hash32> {
        None
    }
    /// This hub's own chain id, when the caller has it: entries another hub logged for
    /// this one are bound to it (`spec/hub-to-hub.md`).
    fn hub_chain(&self) -> Option<&ChainId> {
        None
    }
}

/// What an execute step may change.
pub trait ExecutionContext: ValidationContext {
    /// Writes a state value.
    fn put(&mut self, key: Vec<u8>, value: Vec<u8>);
    /// The council, to change.
    fn council_mut(&mut self) -> Option<&mut Council>;
    /// The state, the council and the packet state together, for relayer messages.
    fn relay(&mut self) -> Option<RelayExec<'_>>;
    /// Names the transaction the next steps run (see [`ValidationContext::tx_hash`]).
    fn begin_tx(&mut self, _hash: &Hash32) {}
}

/// Admission: the committed state, the council ticked to the node's clock, the committed
/// packet state. Read-only by construction.
#[derive(Debug)]
pub struct AdmissionContext<'a> {
    state: &'a dyn StateReader,
    council: Option<Council>,
    packets: &'a PacketState,
    now_ms: u64,
    memo: Option<&'a dyn ProofMemo>,
    tx_hash: Option<Hash32>,
    hub_chain: Option<ChainId>,
}

impl<'a> AdmissionContext<'a> {
    /// The context at hub time `now_ms` (the council ticks to it, as the next block's
    /// would).
    pub fn new(
        state: &'a dyn StateReader,
        council: Option<Council>,
        packets: &'a PacketState,
        now_ms: u64,
    ) -> Self {
        let council = council.map(|mut c| {
            c.tick_with(now_ms, &crate::relay::HubClientCheck);
            c
        });
        Self {
            state,
            council,
            packets,
            now_ms,
            memo: None,
            tx_hash: None,
            hub_chain: None,
        }
    }

    /// The same on the hub with chain id `id`.
    pub fn with_hub_chain(mut self, id: ChainId) -> Self {
        self.hub_chain = Some(id);
        self
    }

    /// The same, remembering passed proof checks in `memo` (the block that carries the
    /// transaction then finds them there).
    pub fn with_proof_memo(mut self, memo: &'a dyn ProofMemo) -> Self {
        self.memo = Some(memo);
        self
    }

    /// The same for the transaction with hash `hash` (see [`ValidationContext::tx_hash`]).
    pub fn with_tx_hash(mut self, hash: Hash32) -> Self {
        self.tx_hash = Some(hash);
        self
    }
}

impl ValidationContext for AdmissionContext<'_> {
    fn state(&self) -> &dyn StateReader {
        self.state
    }
    fn council(&self) -> Option<&Council> {
        self.council.as_ref()
    }
    fn packets(&self) -> &PacketState {
        self.packets
    }
    fn now_ms(&self) -> u64 {
        self.now_ms
    }
    fn proof_memo(&self) -> Option<&dyn ProofMemo> {
        self.memo
    }
    fn tx_hash(&self) -> Option<&Hash32> {
        self.tx_hash.as_ref()
    }
    fn hub_chain(&self) -> Option<&ChainId> {
        self.hub_chain.as_ref()
    }
}

/// A block's execution: an overlay of writes over the committed state, the council as the
/// block changes it, and the packet state, copied on the first relayer message.
#[derive(Debug)]
pub struct BlockContext<'a> {
    pub(crate) view: Overlay<'a>,
    pub(crate) council: Option<Council>,
    base_packets: &'a PacketState,
    pub(crate) packets: Option<PacketState>,
    now_ms: u64,
    memo: Option<&'a dyn ProofMemo>,
    tx_hash: Option<Hash32>,
    hub_chain: Option<ChainId>,
}

impl<'a> BlockContext<'a> {
    /// The context of a block at hub time `now_ms` over `state` and `packets`.
    pub fn new(
        state: &'a dyn StateReader,
        council: Option<Council>,
        packets: &'a PacketState,
        now_ms: u64,
    ) -> Self {
        Self {
            view: Overlay::new(state),
            council,
            base_packets: packets,
            packets: None,
            now_ms,
            memo: None,
            tx_hash: None,
            hub_chain: None,
        }
    }

    /// The same on the hub with chain id `id`.
    pub fn with_hub_chain(mut self, id: ChainId) -> Self {
        self.hub_chain = Some(id);
        self
    }

    /// The same, skipping proof checks `memo` holds as passed and remembering new passes.
    pub fn with_proof_memo(mut self, memo: Option<&'a dyn ProofMemo>) -> Self {
        self.memo = memo;
        self
    }
}

impl ValidationContext for BlockContext<'_> {
    fn state(&self) -> &dyn StateReader {
        &self.view
    }
    fn council(&self) -> Option<&Council> {
        self.council.as_ref()
    }
    fn packets(&self) -> &PacketState {
        self.packets.as_ref().unwrap_or(self.base_packets)
    }
    fn now_ms(&self) -> u64 {
        self.now_ms
    }
    fn proof_memo(&self) -> Option<&dyn ProofMemo> {
        self.memo
    }
    fn tx_hash(&self) -> Option<&Hash32> {
        self.tx_hash.as_ref()
    }
    fn hub_chain(&self) -> Option<&ChainId> {
        self.hub_chain.as_ref()
    }
}

impl ExecutionContext for BlockContext<'_> {
    fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.view.put(key, value);
    }
    fn council_mut(&mut self) -> Option<&mut Council> {
        self.council.as_mut()
    }
    fn relay(&mut self) -> Option<RelayExec<'_>> {
        let base = self.base_packets;
        Some(
            RelayExec::new(
                &mut self.view,
                self.council.as_mut()?,
                self.packets.get_or_insert_with(|| base.clone()),
                self.now_ms,
            )
            .with_proof_memo(self.memo)
            .with_tx(self.tx_hash)
            .with_hub_chain(self.hub_chain.clone()),
        )
    }
    fn begin_tx(&mut self, hash: &Hash32) {
        self.tx_hash = Some(*hash);
    }
}
