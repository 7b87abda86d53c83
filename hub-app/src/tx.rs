//! Transactions: the rules every kind shares (chain id, nonce) and the errors that refuse
//! a transaction. Each kind's own validate and execute steps are in `handle`.

use junction_spec::{ChainId, SignedTx};

use crate::state::StateReader;

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
    /// A park is refused (not a registered relayer, no such packet, settled, parked).
    #[error("park: {message}")]
    Park {
        /// Stable name of the broken rule.
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
            TxError::Park { .. } => 3002,
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
            TxError::Governance { name, .. }
            | TxError::Relay { name, .. }
            | TxError::Park { name, .. } => name,
            TxError::InvalidContent(_) => "invalid_tx_content",
        }
    }
}

/// Checks a transaction against the chain and the state view (not its signature: that is
/// verified once per node and cached).
pub fn validate_tx(
    chain_id: &ChainId,
    view: &dyn StateReader,
    tx: &SignedTx,
) -> Result<(), TxError> {
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
