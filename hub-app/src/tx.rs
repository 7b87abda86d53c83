//! Transactions: admission rules (chain id, nonce, account), and the execution of each
//! kind — remarks, governance actions through the council, relayer messages through the
//! light clients and the packet core.

use junction_governance::{Council, GovError, GovEvent};
use junction_packets::PacketState;
use junction_spec::{address_from_ed25519, ChainId, Hash32, SignedTx, TxKind};

use crate::event::{gov_event, Event};
use crate::relay::{RelayError, RelayExec};
use crate::state::{nonce_key, remark_key, AppState, Overlay};

/// How far ahead of the account's next nonce a pending transaction may be.
pub const MAX_NONCE_AHEAD: u64 = 1_000;

/// Why a transaction is refused. Each variant has a stable RPC code ([`TxError::code`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TxError {
    /// The bytes are not a canonical signed transaction.
    #[error("malformed transaction: {0}")]
    Malformed(String),
    /// Over the size cap.
    #[error("transaction is {len} bytes, the cap is {max}")]
    TooLarge {
        /// Size received.
        len: usize,
        /// Cap.
        max: usize,
    },
    /// The signature does not verify under the signer key.
    #[error("signature does not verify for the signer key")]
    BadSignature,
    /// Signed for another chain.
    #[error("transaction is for chain {got}, this is {expected}")]
    WrongChainId {
        /// This hub's chain id.
        expected: String,
        /// The transaction's.
        got: String,
    },
    /// The nonce was already used.
    #[error("nonce {got} already used: next nonce for this account is {expected}")]
    StaleNonce {
        /// Next usable nonce.
        expected: u64,
        /// Nonce given.
        got: u64,
    },
    /// Too far ahead of the account's next nonce.
    #[error("nonce {got} is too far ahead: next nonce for this account is {expected}")]
    NonceTooFarAhead {
        /// Next usable nonce.
        expected: u64,
        /// Nonce given.
        got: u64,
    },
    /// Another pending transaction already uses this nonce.
    #[error("another pending transaction already uses nonce {0}")]
    NonceAlreadyPending(u64),
    /// The same transaction is already pending.
    #[error("transaction already in the mempool")]
    AlreadyKnown,
    /// The transaction was already committed.
    #[error("transaction already committed at height {0}")]
    AlreadyCommitted(u64),
    /// The council refuses the governance action (non-member, duplicate vote, closed vote...).
    #[error("governance: {message}")]
    Governance {
        /// Stable name of the broken rule.
        name: &'static str,
        /// What happened.
        message: String,
    },
    /// A relayer message is refused (the whole transaction is refused at admission, so the
    /// relayer can drop that message and resubmit the rest).
    #[error("relay message {index} ({msg}) refused: {message}")]
    Relay {
        /// Position of the message in the transaction.
        index: usize,
        /// The message kind.
        msg: &'static str,
        /// Stable name of the error.
        name: &'static str,
        /// What happened.
        message: String,
    },
    /// The transaction's content breaks its own bounds (e.g. an invalid proposal).
    #[error("invalid transaction content: {0}")]
    InvalidContent(String),
    /// The signer is no account the council knows (a member, a registered relayer or an
    /// admitted account): refused before anything else in the transaction is looked at.
    #[error("the signer is not an account the council knows: members, registered relayers and accounts admitted by an admit_account vote may submit")]
    UnknownAccount,
    /// The signer already has as many pending transactions (or bytes) as one account may.
    #[error("the account already has {txs} pending transactions ({bytes} bytes), its mempool quota: wait for them to commit")]
    AccountQuota {
        /// Its pending transactions.
        txs: usize,
        /// Its pending bytes.
        bytes: usize,
    },
    /// The node's store could not answer a check admission needs (e.g. whether the
    /// transaction is already committed): nothing is admitted on a guess.
    #[error("the node's store cannot answer: {0}; retry, or ask another node")]
    StoreUnavailable(String),
    /// The mempool is at its cap.
    #[error("mempool is full ({txs} transactions, {bytes} bytes): retry later")]
    MempoolFull {
        /// Pending count.
        txs: usize,
        /// Pending bytes.
        bytes: usize,
    },
}

impl TxError {
    /// Stable JSON-RPC error code.
    pub fn code(&self) -> i64 {
        match self {
            TxError::Malformed(_) => 1001,
            TxError::TooLarge { .. } => 1002,
            TxError::BadSignature => 1003,
            TxError::WrongChainId { .. } => 1004,
            TxError::StaleNonce { .. } => 1005,
            TxError::NonceTooFarAhead { .. } => 1006,
            TxError::NonceAlreadyPending(_) => 1007,
            TxError::AlreadyKnown => 1008,
            TxError::AlreadyCommitted(_) => 1009,
            TxError::MempoolFull { .. } => 1010,
            TxError::StoreUnavailable(_) => 1012,
            TxError::UnknownAccount => 1013,
            TxError::AccountQuota { .. } => 1014,
            TxError::Governance { .. } => 2001,
            TxError::Relay { .. } => 3001,
            TxError::InvalidContent(_) => 1011,
        }
    }

    /// Stable short name, used in metrics labels and RPC error data.
    pub fn name(&self) -> &'static str {
        match self {
            TxError::Malformed(_) => "malformed_tx",
            TxError::TooLarge { .. } => "tx_too_large",
            TxError::BadSignature => "invalid_signature",
            TxError::WrongChainId { .. } => "wrong_chain_id",
            TxError::StaleNonce { .. } => "stale_nonce",
            TxError::NonceTooFarAhead { .. } => "nonce_too_far_ahead",
            TxError::NonceAlreadyPending(_) => "nonce_already_pending",
            TxError::AlreadyKnown => "tx_already_known",
            TxError::AlreadyCommitted(_) => "tx_already_committed",
            TxError::MempoolFull { .. } => "mempool_full",
            TxError::StoreUnavailable(_) => "store_unavailable",
            TxError::UnknownAccount => "unknown_account",
            TxError::AccountQuota { .. } => "account_mempool_quota",
            TxError::Governance { name, .. } | TxError::Relay { name, .. } => name,
            TxError::InvalidContent(_) => "invalid_tx_content",
        }
    }
}

/// Checks a transaction against the chain and the state view (not its signature: that is
/// verified once per node and cached).
pub fn validate_tx(chain_id: &ChainId, view: &Overlay<'_>, tx: &SignedTx) -> Result<(), TxError> {
    if &tx.body.chain_id != chain_id {
        return Err(TxError::WrongChainId {
            expected: chain_id.as_str().to_string(),
            got: tx.body.chain_id.as_str().to_string(),
        });
    }
    let expected = view.next_nonce(&tx.body.signer_address());
    if tx.body.nonce != expected {
        return Err(if tx.body.nonce < expected {
            TxError::StaleNonce {
                expected,
                got: tx.body.nonce,
            }
        } else {
            TxError::NonceTooFarAhead {
                expected,
                got: tx.body.nonce,
            }
        });
    }
    Ok(())
}

/// Applies a governance transaction to the council. `now_ms` is hub time (the block time).
pub fn apply_gov_tx(
    council: &mut Council,
    tx: &SignedTx,
    now_ms: u64,
) -> Result<Vec<GovEvent>, GovError> {
    let signer = &tx.body.signer;
    match &tx.body.kind {
        TxKind::Remark { .. } => Ok(vec![]),
        TxKind::Propose {
            proposal,
            expedited,
            deposit,
        } => council
            .propose_with(
                signer,
                (**proposal).clone(),
                *expedited,
                *deposit,
                now_ms,
                &crate::relay::HubClientCheck,
            )
            .map(|(_, events)| events),
        TxKind::Vote {
            proposal_id,
            option,
        } => council.vote(signer, *proposal_id, *option, now_ms),
        TxKind::EmergencyPause { route } => council.emergency_pause(signer, route, now_ms),
        TxKind::EmergencyFreeze { chain } => council.emergency_freeze(signer, chain, now_ms),
        // Relayer messages are not council actions (see `execute_relay`).
        TxKind::Relay { .. } => Ok(vec![]),
    }
}

/// Executes one transaction whose nonce and chain id were checked. The nonce is used up
/// whatever happens next; a governance action the council refuses becomes a `tx_failed`
/// event with the rule's name, and changes nothing else.
pub(crate) fn execute_tx(
    view: &mut Overlay<'_>,
    council: &mut Option<Council>,
    packets: &mut Option<PacketState>,
    base_packets: &PacketState,
    tx: &SignedTx,
    tx_hash: &Hash32,
    now_ms: u64,
) -> Vec<Event> {
    let addr = tx.body.signer_address();
    // Only accounts the council knows may act; a block carrying another signer's
    // transaction (no honest node admits one) records it as failed and nothing else, not
    // even the nonce.
    if council
        .as_ref()
        .is_some_and(|c| !c.is_known_account(&tx.body.signer))
    {
        return vec![Event {
            kind: "tx_failed".into(),
            tx: hex::encode(tx_hash),
            attributes: vec![
                ("kind".into(), tx.body.kind.name().into()),
                ("error".into(), TxError::UnknownAccount.name().into()),
                ("message".into(), TxError::UnknownAccount.to_string()),
            ],
        }];
    }
    view.put(nonce_key(&addr), (tx.body.nonce + 1).to_be_bytes().to_vec());
    if let TxKind::Remark { data } = &tx.body.kind {
        view.put(remark_key(&addr), data.clone());
        return vec![Event {
            kind: "remark".into(),
            tx: hex::encode(tx_hash),
            attributes: vec![
                ("sender".into(), hex::encode(addr)),
                ("nonce".into(), tx.body.nonce.to_string()),
                ("bytes".into(), data.len().to_string()),
            ],
        }];
    }
    let failed = |name: &str, message: String| Event {
        kind: "tx_failed".into(),
        tx: hex::encode(tx_hash),
        attributes: vec![
            ("kind".into(), tx.body.kind.name().into()),
            ("error".into(), name.to_string()),
            ("message".into(), message),
        ],
    };
    let Some(c) = council.as_mut() else {
        return vec![failed("no_council", "the state holds no council".into())];
    };
    if let TxKind::Relay { msgs } = &tx.body.kind {
        let packets = packets.get_or_insert_with(|| base_packets.clone());
        return execute_relay(view, c, packets, &tx.body.signer, msgs, now_ms)
            .into_iter()
            .map(|mut e| {
                e.tx = hex::encode(tx_hash);
                e
            })
            .collect();
    }
    // Apply to a copy so that a refused action leaves the council untouched.
    let mut next = c.clone();
    match apply_gov_tx(&mut next, tx, now_ms) {
        Ok(events) => {
            *c = next;
            events
                .into_iter()
                .map(|e| gov_event(e, Some(tx_hash)))
                .collect()
        }
        Err(e) => vec![failed(e.name(), e.to_string())],
    }
}

/// Runs a relayer's messages in order: the signer must be a registered relayer with
/// room in its rate-limit bucket; each message then succeeds or is refused on its own
/// (`relay/rejected` with the error's name), changing nothing when refused.
pub fn execute_relay(
    view: &mut Overlay<'_>,
    council: &mut Council,
    packets: &mut PacketState,
    signer: &[u8; 32],
    msgs: &[junction_spec::RelayMsg],
    now_ms: u64,
) -> Vec<Event> {
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
    if !council.is_relayer(signer) {
        let e = RelayError::UnregisteredRelayer;
        return vec![refused(e.name(), e.to_string(), None)];
    }
    let mut exec = RelayExec {
        view,
        council,
        packets,
        now_ms,
    };
    let account = address_from_ed25519(signer);
    if let Err(e) = exec.take_tokens(&account, msgs.len() as u64) {
        return vec![refused(e.name(), e.to_string(), None)];
    }
    let mut events = Vec::new();
    for (i, m) in msgs.iter().enumerate() {
        match exec.run(m) {
            Ok(evs) => events.extend(evs),
            Err(e) => events.push(refused(e.name(), e.to_string(), Some((i, m.name())))),
        }
    }
    events
}

/// Admission check of a relay transaction: runs it against a copy of the state and
/// refuses it by the first message that fails (or the signer check / rate limit).
pub fn check_relay(
    state: &AppState,
    council: &Council,
    packets: &PacketState,
    signer: &[u8; 32],
    msgs: &[junction_spec::RelayMsg],
    now_ms: u64,
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
    let mut view = Overlay::new(state);
    let mut council = council.clone();
    let mut packets = packets.clone();
    let mut exec = RelayExec {
        view: &mut view,
        council: &mut council,
        packets: &mut packets,
        now_ms,
    };
    exec.take_tokens(&address_from_ed25519(signer), msgs.len() as u64)
        .map_err(whole)?;
    for (index, m) in msgs.iter().enumerate() {
        exec.run(m).map_err(|e| TxError::Relay {
            index,
            msg: m.name(),
            name: e.name(),
            message: e.to_string(),
        })?;
    }
    Ok(())
}
