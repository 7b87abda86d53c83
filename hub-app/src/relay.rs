//! Relayer transactions (DESIGN §4): light-client updates and proven packets, acks and
//! timeouts. Each message is checked by the light client of the chain it concerns, then by
//! the packet core (`junction_packets`), and appends typed entries to the
//! message log. A refused message changes nothing and is reported by name; the other
//! messages of the transaction still run.
//!
//! State entries (all inside the app hash):
//! - `client/<chain id>`: hash of the registration the client was built from, then the
//!   client's canonical encoding. A `ReplaceClient` proposal changes the registration
//!   (parameters and trust root), so the client restarts from the new trust root; a
//!   `RecoverClient` proposal only lifts a freeze and keeps the stored client as it is;
//! - `pkt/rec/<packet key hash>`, `pkt/chan/<channel key>`, `pkt/ctr/<route id>`: the
//!   packet core's records, sequence counters and per-route counters;
//! - `log/frontier`: the message log's RFC 6962 frontier (the entries themselves are in
//!   the store, committed through the header's log root);
//! - `relayer/bucket/<account>`: the relayer's rate-limit bucket.

use junction_governance::{ClientCheck, Council};
use junction_light_clients::{ClientStatus, Timestamp};
use junction_packets::{
    AckKind, AckPacket, Bindings, Channel, ChannelKey, DestHead, PacketError, PacketEvent,
    PacketInput, PacketRecord, PacketState, RecvPacket, RouteCounters, TimeoutPacket,
};
use junction_spec::{
    ack_commitment, tagged_hash, tagged_hash_parts, ChainId, ChainRegistration, Decode,
    DecodeError, Encode, EntryKind, Hash32, HashTag, Packet, RelayMsg, RouteId, SourceProof,
};

use crate::clients::{can_deliver_to, target_binding, AnyClient, ClientError, PacketSlot};
use crate::event::Event;
use crate::state::StateWriter;
use junction_light_clients::hub::HubEntryProof;
use std::sync::Arc;

/// Prefix of light-client states.
pub const CLIENT_PREFIX: &[u8] = b"client/";
/// Prefix of packet records.
pub const RECORD_PREFIX: &[u8] = b"pkt/rec/";
/// Prefix of channel counters.
pub const CHANNEL_PREFIX: &[u8] = b"pkt/chan/";
/// Prefix of per-route counters.
pub const COUNTERS_PREFIX: &[u8] = b"pkt/ctr/";
/// Key of the message log's frontier.
pub const LOG_FRONTIER_KEY: &[u8] = b"log/frontier";
/// Prefix of relayer rate-limit buckets.
pub const BUCKET_PREFIX: &[u8] = b"relayer/bucket/";
/// Prefix of the misbehaviour evidence that froze a chain's client, by chain id: the
/// height (u64 big-endian), then the evidence as submitted. It stays after a recovery:
/// what froze a client is part of the record an auditor proves.
pub const EVIDENCE_PREFIX: &[u8] = b"client/evidence/";

/// Messages a relayer may submit in a burst.
pub const RELAYER_BURST: u64 = 20_000;
/// Messages a relayer's bucket regains per second of hub time.
pub const RELAYER_REFILL_PER_SEC: u64 = 4_000;

/// Why a relayer message was refused.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    /// The signer is not a council-registered relayer.
    #[error("signer is not a registered relayer")]
    UnregisteredRelayer,
    /// The relayer's bucket is empty.
    #[error("relayer rate limit: {needed} messages, {available} available")]
    RateLimited {
        /// Messages in the transaction.
        needed: u64,
        /// Messages left in the bucket.
        available: u64,
    },
    /// No registered chain has this id.
    #[error("chain {0} is not registered")]
    UnknownChain(ChainId),
    /// The council froze the chain's client (packets wait until a vote recovers it).
    #[error("the client of chain {0} is frozen: packets wait until a vote recovers it")]
    ChainFrozen(ChainId),
    /// The chain's client received no update within its trusting period; only a council
    /// vote (`replace_client`) recovers it, and packets wait until then.
    #[error("the client of chain {0} has expired (no update within its trusting period): a replace_client vote recovers it")]
    ClientExpired(ChainId),
    /// Misbehaviour froze the chain's client: packets wait until a `replace_client` vote
    /// gives it a new trust root.
    #[error("the client of chain {chain} is frozen by misbehaviour at height {height}: a replace_client vote recovers it")]
    ClientFrozen {
        /// The chain.
        chain: ChainId,
        /// Where its signers equivocated.
        height: u64,
    },
    /// Misbehaviour evidence about a height before the oldest state the client keeps
    /// (before the trust root a vote last gave it).
    #[error("evidence for chain {chain} at height {height} is older than its client's oldest kept state ({earliest})")]
    EvidenceBeforeTrustedState {
        /// The chain.
        chain: ChainId,
        /// The evidence's height.
        height: u64,
        /// The oldest height the client keeps.
        earliest: u64,
    },
    /// The ledger kind has no hub client yet.
    #[error("ledger kind {0} is not supported by the hub yet")]
    UnsupportedLedgerKind(&'static str),
    /// The registration's trust root does not decode or start a client.
    #[error("bad trust root of chain {chain}: {reason}")]
    BadTrustRoot {
        /// The chain.
        chain: ChainId,
        /// What is wrong.
        reason: String,
    },
    /// A header, proof or stored client does not decode.
    #[error("{what} does not decode: {error}")]
    Malformed {
        /// What.
        what: &'static str,
        /// The decode error.
        error: DecodeError,
    },
    /// The light client refused a header or proof.
    #[error("light client of {chain} refused the {what}: {message}")]
    Client {
        /// The chain.
        chain: ChainId,
        /// `header` or `proof`.
        what: &'static str,
        /// The client's error name.
        name: &'static str,
        /// Its message.
        message: String,
    },
    /// A proof from another hub's log at a hub whose own chain id the caller did not give,
    /// or through a chain that is not a Junction hub.
    #[error("{0}")]
    NotViaThisHub(String),
    /// Attestations name a chain whose client does not follow attesters.
    #[error("chain {0} is not followed through attesters: its client takes no attestations")]
    NotAttested(ChainId),
    /// A timeout proof's height is not kept by the destination client.
    #[error("the destination client keeps no header at height {0}")]
    UnknownHeight(u64),
    /// A timeout for a packet the hub never received needs its commitment proof.
    #[error("the hub never received this packet: prove its commitment too")]
    MissingCommitmentProof,
    /// The packet core refused the input.
    #[error(transparent)]
    Packet(#[from] PacketError),
}

impl RelayError {
    /// Stable name (events, metrics, RPC errors).
    pub fn name(&self) -> &'static str {
        match self {
            RelayError::UnregisteredRelayer => "unregistered_relayer",
            RelayError::RateLimited { .. } => "relayer_rate_limited",
            RelayError::UnknownChain(_) => "unknown_chain",
            RelayError::ChainFrozen(_) => "chain_frozen",
            RelayError::ClientExpired(_) => "client_expired",
            RelayError::ClientFrozen { .. } => "client_frozen",
            RelayError::EvidenceBeforeTrustedState { .. } => "evidence_before_trusted_state",
            RelayError::UnsupportedLedgerKind(_) => "unsupported_ledger_kind",
            RelayError::BadTrustRoot { .. } => "bad_trust_root",
            RelayError::Malformed { .. } => "malformed_relay_input",
            RelayError::Client { name, .. } => name,
            RelayError::NotAttested(_) => "not_attested_chain",
            RelayError::NotViaThisHub(_) => "not_via_this_hub",
            RelayError::UnknownHeight(_) => "unknown_height",
            RelayError::MissingCommitmentProof => "missing_commitment_proof",
            RelayError::Packet(e) => e.name(),
        }
    }
}

pub(crate) fn key(prefix: &[u8], suffix: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(prefix.len() + suffix.len());
    k.extend_from_slice(prefix);
    k.extend_from_slice(suffix);
    k
}

/// A chain's client as loaded from the state, with the registration it was built from.
#[derive(Debug, Clone)]
pub(crate) struct LoadedClient {
    pub(crate) client: AnyClient,
    registration_hash: Hash32,
    /// Digest of the stored bytes (registration hash, then the client): a proof verdict
    /// remembered under it holds for exactly this client state.
    digest: Hash32,
}

fn client_digest(stored: &[u8]) -> Hash32 {
    tagged_hash_parts(HashTag::ProofVerdict, &[b"client", stored])
}

/// Successful light-client proof checks a node remembers, so that a packet proven when
/// its transaction was admitted is not proven again when the block carrying it runs.
/// A key ([`RelayExec`] computes it) commits to the client's stored state, the height,
/// the slot, the key, the value and the proof bytes, which are everything a check
/// depends on: a remembered key is a check that passed on these very inputs. Only passes
/// are remembered; a failing proof is checked again and refused by name.
pub trait ProofMemo: Send + Sync {
    /// Whether the check under `key` passed before.
    fn passed(&self, key: &Hash32) -> bool;
    /// Remembers that the check under `key` passed.
    fn remember(&self, key: Hash32);
}

impl std::fmt::Debug for dyn ProofMemo + '_ {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ProofMemo")
    }
}

/// What fixes a checked proof's bytes in a memo key: the bytes themselves, or the
/// transaction (by hash) and the index of the message that carries them, which fix them
/// as well and are already hashed.
#[derive(Clone, Copy, Debug)]
enum ProofWitness<'a> {
    Bytes(&'a [u8]),
    Message { tx: &'a Hash32, index: u64 },
}

fn proof_memo_key(
    client: &LoadedClient,
    chain: &ChainId,
    proof: &SourceProof,
    slot: PacketSlot,
    key_hash: &Hash32,
    value: Option<&Hash32>,
    witness: ProofWitness<'_>,
) -> Hash32 {
    let slot_tag: &[u8] = match slot {
        PacketSlot::Commitment => b"c",
        PacketSlot::Receipt => b"r",
    };
    let (present, value): (&[u8], &[u8]) = match value {
        Some(v) => (b"1", v),
        None => (b"0", &[]),
    };
    // The witness comes last and its two forms start with different tags; the message
    // form has a fixed length.
    let index_bytes;
    let (witness_tag, witness): (&[u8], &[&[u8]]) = match witness {
        ProofWitness::Bytes(b) => (b"p", &[b][..]),
        ProofWitness::Message { tx, index } => {
            index_bytes = index.to_be_bytes();
            (b"m", &[tx.as_slice(), index_bytes.as_slice()][..])
        }
    };
    let head: [&[u8]; 10] = [
        b"check",
        &client.digest,
        &(chain.as_str().len() as u64).to_be_bytes(),
        chain.as_str().as_bytes(),
        &proof.height.to_be_bytes(),
        slot_tag,
        key_hash,
        present,
        value,
        witness_tag,
    ];
    let parts: Vec<&[u8]> = head.iter().chain(witness).copied().collect();
    tagged_hash_parts(HashTag::ProofVerdict, &parts)
}

fn registration_hash(reg: &ChainRegistration) -> Hash32 {
    tagged_hash(HashTag::StateEntry, &reg.to_bytes())
}

impl RelayError {
    pub(crate) fn of_client(chain: &ChainId, e: ClientError) -> Self {
        match e {
            ClientError::UnsupportedKind(kind) => RelayError::UnsupportedLedgerKind(kind),
            ClientError::BadTrustRoot(reason) => RelayError::BadTrustRoot {
                chain: chain.clone(),
                reason,
            },
            ClientError::Malformed { what, error } => RelayError::Malformed { what, error },
            ClientError::Refused {
                what,
                name,
                message,
            } => RelayError::Client {
                chain: chain.clone(),
                what,
                name,
                message,
            },
        }
    }
}

/// Starts a chain's client from its council registration.
pub fn client_from_registration(reg: &ChainRegistration) -> Result<AnyClient, RelayError> {
    AnyClient::from_registration(reg).map_err(|e| RelayError::of_client(&reg.chain_id, e))
}

/// The hub's judgement of a chain registration or trust-root replacement
/// ([`ClientCheck`]): the hub must have a client of the kind and start it from the
/// registration (else `unsupported_ledger_kind` or `bad_trust_root`), and a replacement
/// keeps the chain's kind and ledger ([`crate::clients::kept_by_replacement`]: an EVM
/// chain's EIP-155 id and gateway, a Tendermint chain's commitment store, ...), since
/// routes, packets and the entries already logged are bound to it.
#[derive(Clone, Copy, Debug, Default)]
pub struct HubClientCheck;

impl ClientCheck for HubClientCheck {
    fn check(
        &self,
        next: &ChainRegistration,
        current: Option<&ChainRegistration>,
    ) -> Result<(), String> {
        // A kind without a hub client is refused here, by name, rather than registered
        // and left to fail every message later.
        client_from_registration(next).map_err(|e| format!("{}: {e}", e.name()))?;
        if let Some(cur) = current {
            let kept = crate::clients::kept_by_replacement;
            if cur.kind != next.kind || kept(cur) != kept(next) {
                return Err(format!(
                    "a replacement trust root must keep the chain's kind and ledger ({})",
                    match next.kind {
                        junction_spec::LedgerKind::EvmAttested
                        | junction_spec::LedgerKind::EvmQbft => "its EIP-155 id and gateway",
                        junction_spec::LedgerKind::Tendermint =>
                            "its commitment store and key prefix",
                        junction_spec::LedgerKind::Fabric =>
                            "its channel, chaincode and key prefix",
                        junction_spec::LedgerKind::Bitcoin => "its network",
                        junction_spec::LedgerKind::JunctionHub => "the hub's chain id",
                    }
                ));
            }
        }
        Ok(())
    }
}

/// Clients already decoded by one [`RelayExec`]. A transaction's messages mostly name the
/// same two chains; decoding a client and hashing its registration per message cost more
/// than proving the packet. Only `store_client` writes a client while a `RelayExec`
/// lives, and it refreshes the entry; the council's registrations do not change under
/// it (relayer messages only take route tokens), so an entry stays what the state holds.
#[derive(Debug, Default)]
pub struct ClientCache(std::cell::RefCell<std::collections::BTreeMap<ChainId, Arc<LoadedClient>>>);

/// Reads and writes what relayer messages touch, over a state overlay.
#[derive(Debug)]
pub struct RelayExec<'v> {
    /// The state view.
    pub view: &'v mut dyn StateWriter,
    /// The council (route policy takes its tokens).
    pub council: &'v mut Council,
    /// The packet state.
    pub packets: &'v mut PacketState,
    /// Hub time (the block time).
    pub now_ms: u64,
    clients: ClientCache,
    /// Target bindings by chain, as the council's registrations give them (which relayer
    /// messages never change): a transaction's packets share a few chains.
    bindings: std::cell::RefCell<std::collections::BTreeMap<ChainId, Hash32>>,
    memo: Option<&'v dyn ProofMemo>,
    /// The transaction being run, and the index of its message being run.
    tx: Option<Hash32>,
    msg_index: Option<u64>,
    /// This hub's chain id (entries other hubs log for it are bound to it).
    hub_chain: Option<ChainId>,
}

impl<'v> RelayExec<'v> {
    /// Relayer messages over `view`, `council` and `packets` at hub time `now_ms`.
    pub fn new(
        view: &'v mut dyn StateWriter,
        council: &'v mut Council,
        packets: &'v mut PacketState,
        now_ms: u64,
    ) -> Self {
        Self {
            view,
            council,
            packets,
            now_ms,
            clients: ClientCache::default(),
            bindings: Default::default(),
            memo: None,
            tx: None,
            msg_index: None,
            hub_chain: None,
        }
    }

    /// The same on the hub with chain id `id` (without it, nothing is proven from another
    /// hub's log).
    pub fn with_hub_chain(mut self, id: Option<ChainId>) -> Self {
        self.hub_chain = id;
        self
    }

    /// The same, remembering passed proof checks in `memo` and skipping those it holds.
    pub fn with_proof_memo(mut self, memo: Option<&'v dyn ProofMemo>) -> Self {
        self.memo = memo;
        self
    }

    /// The same for the messages of the transaction with hash `tx` (run them with
    /// [`RelayExec::run_at`]): remembered proof checks are named by the transaction and
    /// the message's index instead of a hash of the proof bytes.
    pub fn with_tx(mut self, tx: Option<Hash32>) -> Self {
        self.tx = tx;
        self
    }
}

impl RelayExec<'_> {
    fn load_client(&self, chain: &ChainId) -> Result<Arc<LoadedClient>, RelayError> {
        let state = self
            .council
            .chain(chain)
            .ok_or_else(|| RelayError::UnknownChain(chain.clone()))?;
        if state.frozen {
            return Err(RelayError::ChainFrozen(chain.clone()));
        }
        self.stored_client(chain)
    }

    /// The chain's client as stored (or as its registration starts it), frozen or not.
    fn stored_client(&self, chain: &ChainId) -> Result<Arc<LoadedClient>, RelayError> {
        let state = self
            .council
            .chain(chain)
            .ok_or_else(|| RelayError::UnknownChain(chain.clone()))?;
        if let Some(c) = self.clients.0.borrow().get(chain) {
            return Ok(Arc::clone(c));
        }
        let reg = &state.registration;
        let reg_hash = registration_hash(reg);
        let stored = self
            .view
            .get(&key(CLIENT_PREFIX, chain.as_str().as_bytes()))
            .filter(|bytes| bytes.len() >= 32 && bytes[..32] == reg_hash);
        let (client, digest) = match stored {
            Some(bytes) => (
                AnyClient::decode_stored(reg, &bytes[32..]),
                client_digest(&bytes),
            ),
            None => {
                let client = AnyClient::from_registration(reg);
                let mut v = reg_hash.to_vec();
                if let Ok(c) = &client {
                    c.encode_to(&mut v);
                }
                (client, client_digest(&v))
            }
        };
        let client = client.map_err(|e| RelayError::of_client(chain, e))?;
        let loaded = Arc::new(LoadedClient {
            client,
            registration_hash: reg_hash,
            digest,
        });
        self.clients
            .0
            .borrow_mut()
            .insert(chain.clone(), Arc::clone(&loaded));
        Ok(loaded)
    }

    /// The chain's client as the state holds it (or as its registration starts it).
    pub fn client(&self, chain: &ChainId) -> Result<AnyClient, RelayError> {
        Ok(self.load_client(chain)?.client.clone())
    }

    /// [`RelayExec::client`], also for a frozen chain (for queries: what the client holds
    /// while it waits for a recovery vote).
    pub fn client_even_frozen(&self, chain: &ChainId) -> Result<AnyClient, RelayError> {
        Ok(self.stored_client(chain)?.client.clone())
    }

    /// Stores `client` as the chain's under its current registration (after the
    /// registration itself changed, e.g. an attester rotation renewed its trust root).
    pub(crate) fn store_client_as_registered(
        &mut self,
        chain: &ChainId,
        client: AnyClient,
    ) -> Result<(), RelayError> {
        let reg = &self
            .council
            .chain(chain)
            .ok_or_else(|| RelayError::UnknownChain(chain.clone()))?
            .registration;
        let loaded = LoadedClient {
            client,
            registration_hash: registration_hash(reg),
            digest: [0; 32],
        };
        self.store_client(chain, loaded);
        Ok(())
    }

    pub(crate) fn store_client(&mut self, chain: &ChainId, mut c: LoadedClient) {
        let mut v = c.registration_hash.to_vec();
        c.client.encode_to(&mut v);
        c.digest = client_digest(&v);
        self.view
            .put(key(CLIENT_PREFIX, chain.as_str().as_bytes()), v);
        self.clients
            .0
            .borrow_mut()
            .insert(chain.clone(), Arc::new(c));
    }

    fn now(&self) -> Timestamp {
        Timestamp::from_millis(self.now_ms)
    }

    /// Proves the packet's `slot` on `chain` holds `value` (membership) or nothing.
    fn prove_slot(
        &self,
        chain: &ChainId,
        proof: &SourceProof,
        slot: PacketSlot,
        key_hash: &Hash32,
        value: Option<&Hash32>,
        source_app: &[u8],
    ) -> Result<Arc<LoadedClient>, RelayError> {
        let c = self.usable_client(chain)?;
        let witness = match (&self.tx, self.msg_index) {
            (Some(tx), Some(index)) => ProofWitness::Message { tx, index },
            _ => ProofWitness::Bytes(&proof.proof),
        };
        let memo_key = self
            .memo
            .map(|_| proof_memo_key(&c, chain, proof, slot, key_hash, value, witness));
        if let (Some(memo), Some(k)) = (self.memo, &memo_key) {
            if memo.passed(k) {
                return Ok(c);
            }
        }
        c.client
            .verify_packet_slot(
                proof.height,
                &proof.proof,
                slot,
                key_hash,
                value,
                source_app,
            )
            .map_err(|e| RelayError::of_client(chain, e))?;
        if let (Some(memo), Some(k)) = (self.memo, memo_key) {
            memo.remember(k);
        }
        Ok(c)
    }

    /// Proves that `packet` was sent: its commitment on its source chain, or, for a source
    /// under another hub, the `Packet` entry that hub logged for this one. Returns the
    /// client that judged it (whose latest height counts confirmations).
    fn prove_commitment(
        &self,
        packet: &Packet,
        proof: &SourceProof,
    ) -> Result<Arc<LoadedClient>, RelayError> {
        if let Some(via) = self.council.remote_chain(&packet.source_chain).cloned() {
            return self.prove_hub_entry(&via, proof, EntryKind::Packet, packet, &[]);
        }
        self.prove_slot(
            &packet.source_chain,
            proof,
            PacketSlot::Commitment,
            &packet.key().hash(),
            Some(&packet.hash()),
            &packet.source_app,
        )
    }

    /// Proves that the hub `via` logged, for this hub, the entry of `kind` for `packet`
    /// with `result`: the entry is rebuilt here, bound to this hub, and its RFC 6962
    /// inclusion checked (a [`HubEntryProof`]) under the checkpoint at `proof.height`, which
    /// this hub's client of `via` holds. Nothing the relayer says about the entry is taken.
    fn prove_hub_entry(
        &self,
        via: &ChainId,
        proof: &SourceProof,
        kind: EntryKind,
        packet: &Packet,
        result: &[u8],
    ) -> Result<Arc<LoadedClient>, RelayError> {
        let own = self.hub_chain.as_ref().ok_or_else(|| {
            RelayError::NotViaThisHub("this hub's own chain id is not known here".into())
        })?;
        let c = self.usable_client(via)?;
        let AnyClient::JunctionHub(hub) = &c.client else {
            return Err(RelayError::NotViaThisHub(format!(
                "{} is not a Junction hub",
                via.as_str()
            )));
        };
        let entry = junction_spec::LogEntry::new(
            kind,
            junction_spec::hub_target_binding(own),
            0,
            packet.clone(),
            result.to_vec(),
        );
        let at =
            HubEntryProof::from_bytes(&proof.proof).map_err(|error| RelayError::Malformed {
                what: "hub entry proof",
                error,
            })?;
        use junction_light_clients::LightClient as _;
        hub.client()
            .verify_membership(proof.height, &at.index, &entry.to_bytes(), &at.path)
            .map_err(|e| RelayError::Client {
                chain: via.clone(),
                what: "hub entry proof",
                name: junction_light_clients::NamedError::name(&e),
                message: e.to_string(),
            })?;
        Ok(c)
    }

    /// The chain's client, if it may judge proofs now: not frozen (by a vote or by
    /// misbehaviour) and not expired. Each refusal is one time or a vote lifts, never the
    /// end of a packet.
    pub(crate) fn usable_client(&self, chain: &ChainId) -> Result<Arc<LoadedClient>, RelayError> {
        let c = self.load_client(chain)?;
        match c.client.status(self.now()) {
            ClientStatus::Active => Ok(c),
            ClientStatus::Expired => Err(RelayError::ClientExpired(chain.clone())),
            ClientStatus::Frozen { height } => Err(RelayError::ClientFrozen {
                chain: chain.clone(),
                height,
            }),
        }
    }

    /// Freezes the chain's client on verified evidence that its signers signed two
    /// conflicting headers, and keeps the evidence in the state.
    fn submit_misbehaviour(
        &mut self,
        chain: &ChainId,
        evidence: &[u8],
    ) -> Result<Vec<Event>, RelayError> {
        let c = LoadedClient::clone(&*self.load_client(chain)?);
        if let ClientStatus::Frozen { height } = c.client.status(self.now()) {
            return Err(RelayError::ClientFrozen {
                chain: chain.clone(),
                height,
            });
        }
        let height = c
            .client
            .verify_misbehaviour(evidence, self.now())
            .map_err(|e| RelayError::of_client(chain, e))?;
        // Evidence about heights before the oldest state the client keeps speaks of what a
        // vote already ruled on (a replaced trust root starts there): replayed after a
        // recovery, it would freeze the restarted client for good.
        let earliest = c.client.heights().first().copied().unwrap_or(0);
        if height < earliest {
            return Err(RelayError::EvidenceBeforeTrustedState {
                chain: chain.clone(),
                height,
                earliest,
            });
        }
        Ok(self.freeze_on_evidence(chain, c, height, evidence))
    }

    /// Freezes `c`, the chain's client, at `height` on verified `evidence`, and keeps the
    /// evidence in the state.
    pub(crate) fn freeze_on_evidence(
        &mut self,
        chain: &ChainId,
        mut c: LoadedClient,
        height: u64,
        evidence: &[u8],
    ) -> Vec<Event> {
        c.client.freeze(height);
        self.store_client(chain, c);
        let mut record = height.to_be_bytes().to_vec();
        record.extend_from_slice(evidence);
        self.view
            .put(key(EVIDENCE_PREFIX, chain.as_str().as_bytes()), record);
        vec![Event {
            kind: "client/frozen".into(),
            tx: String::new(),
            attributes: vec![
                ("chain".into(), chain.as_str().to_string()),
                ("height".into(), height.to_string()),
                (
                    "evidence".into(),
                    hex::encode(tagged_hash(HashTag::StateEntry, evidence)),
                ),
            ],
        }]
    }

    pub(crate) fn update_client(
        &mut self,
        chain: &ChainId,
        header: &[u8],
    ) -> Result<Vec<Event>, RelayError> {
        let mut c = LoadedClient::clone(&*self.load_client(chain)?);
        // One name for every kind: a frozen client waits for a vote, whatever its library
        // calls the refusal.
        if let ClientStatus::Frozen { height } = c.client.status(self.now()) {
            return Err(RelayError::ClientFrozen {
                chain: chain.clone(),
                height,
            });
        }
        let height = c
            .client
            .update(header, self.now())
            .map_err(|e| RelayError::of_client(chain, e))?;
        self.store_client(chain, c);
        Ok(vec![Event {
            kind: "client/updated".into(),
            tx: String::new(),
            attributes: vec![
                ("chain".into(), chain.as_str().to_string()),
                ("height".into(), height.to_string()),
            ],
        }])
    }

    /// The destination's latest verified header, or `None` when the destination is not a
    /// chain the hub can deliver to (not registered, or of a kind without a hub client):
    /// such a packet has no route. A frozen or expired destination client refuses the
    /// message instead (the packet waits for the council to recover the client).
    fn dest_head(&self, chain: &ChainId) -> Result<Option<DestHead>, RelayError> {
        // A chain under another hub: that hub's latest checkpoint stands for it, and that
        // hub judges the packet's timeout.
        if let Some(via) = self.council.remote_chain(chain).cloned() {
            let c = self.usable_client(&via)?;
            let height = c.client.latest_height();
            return Ok(Some(DestHead {
                height,
                time_ms: c.client.time_ms_at(height).unwrap_or(0),
                remote: true,
            }));
        }
        match self.council.chain(chain) {
            None => return Ok(None),
            Some(c) if !can_deliver_to(c.registration.kind) => return Ok(None),
            Some(_) => {}
        }
        let c = self.usable_client(chain)?;
        let height = c.client.latest_height();
        let time_ms = c.client.time_ms_at(height).unwrap_or(0);
        Ok(Some(DestHead {
            height,
            time_ms,
            remote: false,
        }))
    }

    fn bindings(&self, packet: &Packet) -> Bindings {
        let binding = |chain: &ChainId| {
            if let Some(b) = self.bindings.borrow().get(chain) {
                return *b;
            }
            let b = match self.council.remote_chain(chain) {
                Some(via) => junction_spec::hub_target_binding(via),
                None => target_binding(self.council.chain(chain).map(|c| &c.registration)),
            };
            self.bindings.borrow_mut().insert(chain.clone(), b);
            b
        };
        Bindings {
            source: binding(&packet.source_chain),
            dest: binding(&packet.dest_chain),
        }
    }

    fn run_packet_input(&mut self, input: PacketInput) -> Result<Vec<Event>, RelayError> {
        let plan = self.packets.validate(self.council, &input, self.now_ms)?;
        let packet = plan.packet().clone();
        let route = plan.route().cloned();
        let key_hash = *plan.key_hash();
        let events = self.packets.execute(self.council, plan);
        self.write_packet(&packet, &key_hash, route.as_ref());
        Ok(events
            .into_iter()
            .map(|e| packet_event(&e, &packet))
            .collect())
    }

    fn write_packet(&mut self, packet: &Packet, key_hash: &Hash32, route: Option<&RouteId>) {
        if let Some(r) = self.packets.record(key_hash) {
            self.view.put(key(RECORD_PREFIX, key_hash), r.to_bytes());
        }
        let ch = ChannelKey::of(packet);
        let channel = self.packets.channel(&ch);
        self.view
            .put(key(CHANNEL_PREFIX, &ch.to_bytes()), channel.to_bytes());
        if let Some(route) = route {
            let counters = self.packets.counters(route);
            self.view.put(
                key(COUNTERS_PREFIX, route.as_str().as_bytes()),
                counters.to_bytes(),
            );
        }
    }

    /// Runs message `index` of the transaction [`RelayExec::with_tx`] names.
    pub fn run_at(&mut self, index: usize, msg: &RelayMsg) -> Result<Vec<Event>, RelayError> {
        self.msg_index = Some(index as u64);
        let out = self.run(msg);
        self.msg_index = None;
        out
    }

    /// Runs one message.
    pub fn run(&mut self, msg: &RelayMsg) -> Result<Vec<Event>, RelayError> {
        match msg {
            RelayMsg::UpdateClient { chain, header } => self.update_client(chain, header),
            RelayMsg::Misbehaviour { chain, evidence } => self.submit_misbehaviour(chain, evidence),
            RelayMsg::RecvPacket { packet, proof } => {
                let source = self.prove_commitment(packet, proof)?;
                let dest = self.dest_head(&packet.dest_chain)?;
                let bindings = self.bindings(packet);
                self.run_packet_input(PacketInput::Recv(RecvPacket {
                    packet: packet.clone(),
                    proof_height: proof.height,
                    source_latest_height: source.client.latest_height(),
                    dest,
                    bindings,
                }))
            }
            RelayMsg::AckPacket {
                packet,
                app_succeeded,
                result,
                proof,
            } => {
                let kind = if *app_succeeded {
                    AckKind::Ack
                } else {
                    AckKind::ErrorAck
                };
                let key_hash = packet.key().hash();
                match self.council.remote_chain(&packet.dest_chain).cloned() {
                    // The hub the destination lives under logged the outcome for this one.
                    Some(via) => {
                        self.prove_hub_entry(&via, proof, kind.entry_kind(), packet, result)?;
                    }
                    None => {
                        self.prove_slot(
                            &packet.dest_chain,
                            proof,
                            PacketSlot::Receipt,
                            &key_hash,
                            Some(&ack_commitment(kind.entry_kind(), result)),
                            &packet.source_app,
                        )?;
                    }
                }
                let bindings = self.bindings(packet);
                self.run_packet_input(PacketInput::Ack(AckPacket {
                    packet: packet.clone(),
                    kind,
                    result: result.clone(),
                    bindings,
                }))
            }
            RelayMsg::TimeoutPacket {
                packet,
                absence,
                commitment,
            } => {
                let key_hash = packet.key().hash();
                // Under another hub, the destination's timeout is that hub's to judge: its
                // `Timeout` entry for this hub is the proof.
                let remote = self.council.remote_chain(&packet.dest_chain).cloned();
                let dest_time_ms = match &remote {
                    Some(via) => {
                        self.prove_hub_entry(via, absence, EntryKind::Timeout, packet, &[])?;
                        0
                    }
                    None => {
                        let dest = self.prove_slot(
                            &packet.dest_chain,
                            absence,
                            PacketSlot::Receipt,
                            &key_hash,
                            None,
                            &packet.source_app,
                        )?;
                        dest.client
                            .time_ms_at(absence.height)
                            .ok_or(RelayError::UnknownHeight(absence.height))?
                    }
                };
                if self.packets.record(&key_hash).is_none() {
                    let proof = commitment
                        .as_ref()
                        .ok_or(RelayError::MissingCommitmentProof)?;
                    self.prove_commitment(packet, proof)?;
                }
                let bindings = self.bindings(packet);
                self.run_packet_input(PacketInput::Timeout(TimeoutPacket {
                    packet: packet.clone(),
                    dest_height: absence.height,
                    dest_time_ms,
                    decided_remotely: remote.is_some(),
                    bindings,
                }))
            }
        }
    }

    /// Takes `n` messages from the relayer's bucket.
    pub fn take_tokens(&mut self, account: &[u8], n: u64) -> Result<(), RelayError> {
        let k = key(BUCKET_PREFIX, account);
        let (tokens, last_ms) = match self.view.get(&k) {
            Some(b) if b.len() == 16 => {
                let mut t = [0u8; 8];
                let mut l = [0u8; 8];
                t.copy_from_slice(&b[..8]);
                l.copy_from_slice(&b[8..]);
                (u64::from_be_bytes(t), u64::from_be_bytes(l))
            }
            _ => (RELAYER_BURST, self.now_ms),
        };
        let elapsed = self.now_ms.saturating_sub(last_ms);
        let refill = elapsed.saturating_mul(RELAYER_REFILL_PER_SEC) / 1000;
        let available = tokens.saturating_add(refill).min(RELAYER_BURST);
        if available < n {
            return Err(RelayError::RateLimited {
                needed: n,
                available,
            });
        }
        let mut v = (available - n).to_be_bytes().to_vec();
        v.extend_from_slice(&self.now_ms.to_be_bytes());
        self.view.put(k, v);
        Ok(())
    }
}

/// A packet-core event as a block event (`packet/<action>`).
pub fn packet_event(e: &PacketEvent, packet: &Packet) -> Event {
    Event {
        kind: format!("packet/{}", e.action),
        tx: String::new(),
        attributes: vec![
            ("key".into(), hex::encode(e.key_hash)),
            ("packet".into(), hex::encode(e.packet_hash)),
            (
                "route".into(),
                e.route.as_ref().map_or("", |r| r.as_str()).to_string(),
            ),
            (
                "source_chain".into(),
                packet.source_chain.as_str().to_string(),
            ),
            ("dest_chain".into(), packet.dest_chain.as_str().to_string()),
            ("sequence".into(), packet.sequence.to_string()),
            ("log_index".into(), e.log_index.to_string()),
            ("reason".into(), e.reason.clone()),
        ],
    }
}

/// The committed packet state as the key/value state holds it: records, channels and
/// route counters read one key at a time.
#[derive(Debug, Clone)]
pub struct StatePackets {
    state: std::sync::Arc<dyn crate::state::StateReader>,
}

impl StatePackets {
    /// The packet state `state` holds.
    pub fn new(state: std::sync::Arc<dyn crate::state::StateReader>) -> Self {
        Self { state }
    }

    /// The decoded value under `prefix ‖ suffix`. A stored row that does not decode is
    /// damage no block can have written: the reader is told (the node's store then
    /// refuses to commit anything executed over it) and the row reads as absent.
    fn read<T: Decode>(&self, prefix: &[u8], suffix: &[u8]) -> Option<T> {
        let k = key(prefix, suffix);
        let v = self.state.get(&k)?;
        match T::from_bytes(&v) {
            Ok(t) => Some(t),
            Err(e) => {
                self.state.note_damage(format!(
                    "state row {} does not decode: {e}",
                    hex::encode(&k)
                ));
                None
            }
        }
    }
}

impl junction_packets::PacketReader for StatePackets {
    fn record(&self, key_hash: &Hash32) -> Option<PacketRecord> {
        self.read(RECORD_PREFIX, key_hash)
    }
    fn channel(&self, channel: &ChannelKey) -> Option<Channel> {
        self.read(CHANNEL_PREFIX, &channel.to_bytes())
    }
    fn counters(&self, route: &RouteId) -> Option<RouteCounters> {
        self.read(COUNTERS_PREFIX, route.as_str().as_bytes())
    }
}

/// The packet state over the committed `state`: its records, channels and counters read
/// per key, the log at the frontier the state stores.
pub fn packet_state_over(
    state: std::sync::Arc<dyn crate::state::StateReader>,
) -> Result<PacketState, String> {
    let frontier = match state.get(LOG_FRONTIER_KEY) {
        Some(b) => junction_spec::MerkleFrontier::from_bytes(&b)
            .map_err(|e| format!("stored log frontier does not decode: {e}"))?,
        None => junction_spec::MerkleFrontier::new(),
    };
    Ok(PacketState::over(
        std::sync::Arc::new(StatePackets::new(state)),
        frontier,
    ))
}

/// The kind of a log entry as the name `junction packet` prints.
pub fn entry_kind_name(kind: EntryKind) -> &'static str {
    match kind {
        EntryKind::Packet => "packet",
        EntryKind::Ack => "ack",
        EntryKind::ErrorAck => "error_ack",
        EntryKind::Timeout => "timeout",
        EntryKind::SequenceSkip => "sequence_skip",
        EntryKind::GatewayRetired => "gateway_retired",
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
pub(crate) mod tests {
    use super::*;
    use crate::state::{AppState, Overlay};
    use junction_light_clients::evm::attested::{testkit, AttestedHeader, SignedAttestedHeader};
    use junction_light_clients::evm::codec::AttestedTrustRoot;
    use junction_spec::gov::{Fraction, LightClientParams};
    use junction_spec::LedgerKind;

    pub(crate) fn registration(
        kind: LedgerKind,
        attesters: usize,
        threshold: Fraction,
    ) -> ChainRegistration {
        let keys = testkit::attester_keys(attesters);
        let root = AttestedTrustRoot {
            evm_chain_id: 31_337,
            gateway: [7; 20],
            attesters: keys.iter().map(testkit::address).collect(),
            trusted: AttestedHeader {
                chain_id: 31_337,
                number: 5,
                hash: [1; 32],
                parent_hash: [0; 32],
                state_root: [2; 32],
                receipts_root: [3; 32],
                timestamp: 1_000,
            },
        };
        ChainRegistration {
            chain_id: ChainId::new("evm-a").unwrap(),
            kind,
            params: LightClientParams {
                trust_level: Fraction { num: 2, den: 3 },
                trusting_period_ms: 3_600_000,
                max_clock_drift_ms: 10_000,
                min_confirmations: 0,
                threshold,
            },
            trust_root: root.to_bytes(),
        }
    }

    /// A registration of chain `id` of `kind` with trust level and threshold 2/3, 10 s of
    /// clock drift, and the trusting period and confirmations given.
    pub(crate) fn chain_registration(
        id: &str,
        kind: LedgerKind,
        trusting_period_ms: u64,
        min_confirmations: u64,
        trust_root: Vec<u8>,
    ) -> ChainRegistration {
        ChainRegistration {
            chain_id: ChainId::new(id).unwrap(),
            kind,
            params: LightClientParams {
                trust_level: Fraction { num: 2, den: 3 },
                trusting_period_ms,
                max_clock_drift_ms: 10_000,
                min_confirmations,
                threshold: Fraction { num: 2, den: 3 },
            },
            trust_root,
        }
    }

    fn council() -> Council {
        crate::testutil::council_with_member([1; 32])
    }

    #[test]
    fn a_stored_client_decodes_for_its_registration_and_garbage_is_refused_by_name() {
        let reg = registration(LedgerKind::EvmAttested, 4, Fraction { num: 2, den: 3 });
        let client = AnyClient::from_registration(&reg).unwrap();
        let mut bytes = Vec::new();
        client.encode_to(&mut bytes);
        let back = AnyClient::decode_stored(&reg, &bytes).unwrap();
        assert_eq!(back.kind(), LedgerKind::EvmAttested);
        assert_eq!(back.latest_height(), 5);
        assert_eq!(back.heights(), vec![5]);
        assert_eq!(back.time_ms_at(5), Some(1_000_000));
        assert_eq!(back.time_ms_at(6), None);
        assert_eq!(back.gateway(), &[7; 20]);
        let e = AnyClient::decode_stored(&reg, &bytes[..bytes.len() - 1]).unwrap_err();
        assert!(
            matches!(
                e,
                ClientError::Malformed {
                    what: "stored client state",
                    ..
                }
            ),
            "{e:?}"
        );
        assert_eq!(
            RelayError::of_client(&reg.chain_id, e).name(),
            "malformed_relay_input"
        );
    }

    /// Counts what a [`ProofMemo`] is asked and told.
    #[derive(Default)]
    struct RecordingMemo {
        passed: std::sync::Mutex<std::collections::BTreeSet<Hash32>>,
        hits: std::sync::atomic::AtomicUsize,
    }

    impl ProofMemo for RecordingMemo {
        fn passed(&self, key: &Hash32) -> bool {
            let hit = self.passed.lock().unwrap().contains(key);
            if hit {
                self.hits.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
            hit
        }
        fn remember(&self, key: Hash32) {
            self.passed.lock().unwrap().insert(key);
        }
    }

    #[test]
    fn a_remembered_proof_check_is_skipped_only_for_the_very_same_inputs() {
        use junction_light_clients::evm::mpt::testkit::commitment_proof;
        let key_hash = [9u8; 32];
        let value = [5u8; 32];
        let (state_root, proof) = commitment_proof(&[7; 20], &key_hash, &value);
        let mut reg = registration(LedgerKind::EvmAttested, 4, Fraction { num: 2, den: 3 });
        let mut root = AttestedTrustRoot::from_bytes(&reg.trust_root).unwrap();
        root.trusted.state_root = state_root;
        reg.trust_root = root.to_bytes();
        let chain = reg.chain_id.clone();
        let mut council = crate::testutil::council_with_chains([1; 32], vec![reg]);
        let state = AppState::default();
        let mut view = Overlay::new(&state);
        let mut packets = PacketState::default();
        let memo = RecordingMemo::default();
        let exec = RelayExec::new(&mut view, &mut council, &mut packets, 1_000_000)
            .with_proof_memo(Some(&memo));
        let good = SourceProof {
            height: 5,
            proof: proof.to_bytes(),
        };
        let slot = PacketSlot::Commitment;
        exec.prove_slot(&chain, &good, slot, &key_hash, Some(&value), b"")
            .unwrap();
        assert_eq!(memo.passed.lock().unwrap().len(), 1);
        assert_eq!(memo.hits.load(std::sync::atomic::Ordering::SeqCst), 0);
        // The same check again is answered by the memo.
        exec.prove_slot(&chain, &good, slot, &key_hash, Some(&value), b"")
            .unwrap();
        assert_eq!(memo.hits.load(std::sync::atomic::Ordering::SeqCst), 1);
        // Any other input is checked for itself, and a failure is not remembered.
        let e = exec
            .prove_slot(&chain, &good, slot, &key_hash, Some(&[6; 32]), b"")
            .unwrap_err();
        assert_eq!(e.name(), "value_mismatch", "{e}");
        let e = exec
            .prove_slot(&chain, &good, slot, &key_hash, None, b"")
            .unwrap_err();
        assert_eq!(e.name(), "value_mismatch", "{e}");
        let e = exec
            .prove_slot(
                &chain,
                &good,
                PacketSlot::Receipt,
                &key_hash,
                Some(&value),
                b"",
            )
            .unwrap_err();
        assert_eq!(e.name(), "value_mismatch", "{e}");
        let mut cut = proof.clone();
        cut.storage_proof.clear();
        let short = SourceProof {
            height: 5,
            proof: cut.to_bytes(),
        };
        assert!(exec
            .prove_slot(&chain, &short, slot, &key_hash, Some(&value), b"")
            .is_err());
        let e = exec
            .prove_slot(
                &chain,
                &SourceProof {
                    height: 6,
                    ..good.clone()
                },
                slot,
                &key_hash,
                Some(&value),
                b"",
            )
            .unwrap_err();
        assert_eq!(e.name(), "unknown_height", "{e}");
        assert_eq!(memo.passed.lock().unwrap().len(), 1);
        assert_eq!(memo.hits.load(std::sync::atomic::Ordering::SeqCst), 1);
        // The key commits to the client state too: another stored client, another key.
        let loaded = exec.load_client(&chain).unwrap();
        let mut other = LoadedClient::clone(&loaded);
        other.digest = client_digest(b"another client state");
        let bytes = ProofWitness::Bytes(&good.proof);
        let key = |c: &LoadedClient, w| {
            proof_memo_key(c, &chain, &good, slot, &key_hash, Some(&value), w)
        };
        assert_ne!(key(&loaded, bytes), key(&other, bytes));
        // Named by its transaction and message index, a check is the same check only for
        // the same transaction and index, and never the one named by the bytes.
        let tx = [3u8; 32];
        let at = |tx: &'static [u8; 32], index| ProofWitness::Message { tx, index };
        assert_eq!(key(&loaded, at(&[3; 32], 0)), key(&loaded, at(&[3; 32], 0)));
        assert_ne!(key(&loaded, at(&[3; 32], 0)), key(&loaded, at(&[3; 32], 1)));
        assert_ne!(key(&loaded, at(&[3; 32], 0)), key(&loaded, at(&[4; 32], 0)));
        assert_ne!(key(&loaded, at(&[3; 32], 0)), key(&loaded, bytes));
        assert_ne!(key(&loaded, at(&[3; 32], 0)), key(&other, at(&[3; 32], 0)));
        drop(exec);
        // Run as message 0 of a transaction, a pass is found again for that message only:
        // message 1 of the same transaction carrying a cut proof is checked and refused.
        let memo = RecordingMemo::default();
        let mut exec = RelayExec::new(&mut view, &mut council, &mut packets, 1_000_000)
            .with_proof_memo(Some(&memo))
            .with_tx(Some(tx));
        exec.msg_index = Some(0);
        exec.prove_slot(&chain, &good, slot, &key_hash, Some(&value), b"")
            .unwrap();
        exec.prove_slot(&chain, &good, slot, &key_hash, Some(&value), b"")
            .unwrap();
        assert_eq!(memo.hits.load(std::sync::atomic::Ordering::SeqCst), 1);
        exec.msg_index = Some(1);
        assert!(exec
            .prove_slot(&chain, &short, slot, &key_hash, Some(&value), b"")
            .is_err());
        assert_eq!(memo.hits.load(std::sync::atomic::Ordering::SeqCst), 1);
    }

    #[test]
    fn a_registration_starts_a_client_with_the_rounded_up_threshold() {
        for (n, num, den, want) in [(4, 2, 3, 3), (3, 2, 3, 2), (4, 1, 1, 4), (5, 1, 2, 3)] {
            let reg = registration(LedgerKind::EvmAttested, n, Fraction { num, den });
            let client = client_from_registration(&reg).unwrap();
            assert_eq!(client.gateway(), &[7; 20]);
            let AnyClient::EvmAttested(evm) = &client else {
                unreachable!("an attested registration starts an attested client")
            };
            assert_eq!(
                evm.client().parts().1.threshold(),
                want,
                "{n} × {num}/{den}"
            );
            assert_eq!(client.latest_height(), 5);
        }
        // A trust root the kind's client does not accept (an attested root given as
        // another kind's) is refused by name, and the council is told so before any vote.
        for kind in [
            LedgerKind::EvmQbft,
            LedgerKind::Tendermint,
            LedgerKind::Bitcoin,
            LedgerKind::Fabric,
            LedgerKind::JunctionHub,
        ] {
            let reg = registration(kind, 4, Fraction { num: 2, den: 3 });
            let e = client_from_registration(&reg).unwrap_err();
            assert_eq!(e.name(), "bad_trust_root", "{kind:?}");
            let refused = HubClientCheck.check(&reg, None).unwrap_err();
            assert!(refused.starts_with("bad_trust_root"), "{refused}");
        }
        let mut bad = registration(LedgerKind::EvmAttested, 4, Fraction { num: 2, den: 3 });
        bad.trust_root.truncate(10);
        assert_eq!(
            client_from_registration(&bad).unwrap_err().name(),
            "bad_trust_root"
        );
    }

    /// Evidence that attesters `signers` signed two headers at `number` that differ.
    fn equivocation(number: u64, signers: usize) -> (SignedAttestedHeader, SignedAttestedHeader) {
        let a = testkit::signed_attested_header(31_337, signers, number, [1; 32], 1_001);
        let b = testkit::signed_attested_header(31_337, signers, number, [9; 32], 1_001);
        (a, b)
    }

    fn evidence(a: &SignedAttestedHeader, b: &SignedAttestedHeader) -> Vec<u8> {
        junction_light_clients::evm::attested::AttestedMisbehaviour {
            a: a.clone(),
            b: b.clone(),
        }
        .to_bytes()
    }

    #[test]
    fn misbehaviour_freezes_the_client_until_its_trust_root_is_replaced_and_forgeries_are_refused_by_name(
    ) {
        let reg = registration(LedgerKind::EvmAttested, 4, Fraction { num: 2, den: 3 });
        let chain = reg.chain_id.clone();
        let mut council = crate::testutil::council_with_chains([1; 32], vec![reg.clone()]);
        let state = AppState::default();
        let mut view = Overlay::new(&state);
        let mut packets = PacketState::default();
        let now_ms = 1_100_000;
        let mut exec = RelayExec::new(&mut view, &mut council, &mut packets, now_ms);
        let submit = |exec: &mut RelayExec<'_>, chain: &ChainId, evidence: Vec<u8>| {
            exec.run(&RelayMsg::Misbehaviour {
                chain: chain.clone(),
                evidence,
            })
        };
        let (a, b) = equivocation(6, 3);
        // Forged or mistaken evidence: each refused by its own name, and nothing frozen.
        let (_, b7) = equivocation(7, 3);
        // Fewer than k signers, none of whom signed the other header: no one is at fault.
        let mut b_two = b.clone();
        b_two.signatures = vec![testkit::sign(&testkit::attester_key(3), &b.header)];
        let mut b_strangers = b.clone();
        b_strangers.signatures = (10..13)
            .map(|seed| testkit::sign(&testkit::attester_key(seed), &b.header))
            .collect();
        let mut b_other_chain = b.clone();
        b_other_chain.header.chain_id = 1;
        b_other_chain.signatures = testkit::attester_keys(3)
            .iter()
            .map(|k| testkit::sign(k, &b_other_chain.header))
            .collect();
        let cases: Vec<(&str, ChainId, Vec<u8>)> = vec![
            (
                "misbehaviour_height_mismatch",
                chain.clone(),
                evidence(&a, &b7),
            ),
            ("misbehaviour_same_header", chain.clone(), evidence(&a, &a)),
            (
                "insufficient_signatures",
                chain.clone(),
                evidence(&a, &b_two),
            ),
            (
                "signer_not_attester",
                chain.clone(),
                evidence(&a, &b_strangers),
            ),
            ("wrong_chain", chain.clone(), evidence(&a, &b_other_chain)),
            ("malformed_relay_input", chain.clone(), vec![1, 2, 3]),
            (
                "unknown_chain",
                ChainId::new("evm-z").unwrap(),
                evidence(&a, &b),
            ),
        ];
        for (name, on, bytes) in cases {
            let e = submit(&mut exec, &on, bytes).unwrap_err();
            assert_eq!(e.name(), name, "{e}");
        }
        assert_eq!(
            exec.client(&chain).unwrap().status(exec.now()),
            ClientStatus::Active
        );
        assert_eq!(exec.view.get(&key(EVIDENCE_PREFIX, b"evm-a")), None);

        // Two conflicting headers, each signed by enough attesters: frozen at their height.
        let events = submit(&mut exec, &chain, evidence(&a, &b)).unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].kind, "client/frozen");
        assert!(events[0]
            .attributes
            .contains(&("height".to_string(), "6".to_string())));
        let kept = exec.view.get(&key(EVIDENCE_PREFIX, b"evm-a")).unwrap();
        assert_eq!(kept[..8], 6u64.to_be_bytes());
        assert_eq!(kept[8..], evidence(&a, &b)[..]);
        // Every header and proof at the client is refused now, by a name that a vote can
        // lift (a packet waits; nothing error-acks it).
        let e = submit(&mut exec, &chain, evidence(&a, &b)).unwrap_err();
        assert_eq!(e.name(), "client_frozen", "{e}");
        let next = testkit::signed_attested_header(31_337, 3, 6, [1; 32], 1_001);
        let e = exec
            .run(&RelayMsg::UpdateClient {
                chain: chain.clone(),
                header: next.to_bytes(),
            })
            .unwrap_err();
        assert_eq!(e.name(), "client_frozen", "{e}");
        let proof = SourceProof {
            height: 5,
            proof: vec![0; 8],
        };
        let e = exec
            .prove_slot(
                &chain,
                &proof,
                PacketSlot::Commitment,
                &[9; 32],
                Some(&[5; 32]),
                b"",
            )
            .unwrap_err();
        assert_eq!(e.name(), "client_frozen", "{e}");
        let e = exec.dest_head(&chain).unwrap_err();
        assert_eq!(e.name(), "client_frozen", "{e}");
        drop(exec);

        // A replace_client vote (another trust root) starts the client afresh; the evidence
        // stays on record.
        let mut replaced = reg.clone();
        let mut root = AttestedTrustRoot::from_bytes(&reg.trust_root).unwrap();
        root.trusted.number = 8;
        root.trusted.hash = [8; 32];
        root.trusted.timestamp = 1_050;
        replaced.trust_root = root.to_bytes();
        let mut council = crate::testutil::council_with_chains([1; 32], vec![replaced]);
        let mut exec = RelayExec::new(&mut view, &mut council, &mut packets, now_ms);
        let client = exec.client(&chain).unwrap();
        assert_eq!(client.status(exec.now()), ClientStatus::Active);
        assert_eq!(client.latest_height(), 8);
        assert!(exec.view.get(&key(EVIDENCE_PREFIX, b"evm-a")).is_some());
        // The old evidence again cannot freeze the client the vote restarted: it is about
        // a height before the state the council trusted anew.
        let e = submit(&mut exec, &chain, evidence(&a, &b)).unwrap_err();
        assert_eq!(e.name(), "evidence_before_trusted_state", "{e}");
        assert_eq!(
            exec.client(&chain).unwrap().status(exec.now()),
            ClientStatus::Active
        );
    }

    /// Builds the update to a Tendermint block at height 5 signed by the keys given, with
    /// the app hash given.
    pub(crate) type HeaderAt5 = Box<
        dyn Fn(
            &[ed25519_consensus::SigningKey],
            &[u8],
        ) -> junction_light_clients::tendermint::client::Header,
    >;

    /// A Tendermint chain `cosmos-a` of 4 test-kit validators, trusted at height 3 (time
    /// 1,000 s), keeping packet commitments in store `junction` under `packets/`: its
    /// registration, the validators' keys, and the update to a block at height 5 (time
    /// 1,010 s) with an app hash, signed by the keys given.
    pub(crate) fn tendermint_chain() -> (
        ChainRegistration,
        Vec<ed25519_consensus::SigningKey>,
        HeaderAt5,
    ) {
        use junction_light_clients::tendermint::hub::TendermintTrustRoot;
        use junction_light_clients::tendermint::testkit as tm;
        let keys = tm::validator_keys(1, 4);
        let t0 = Timestamp::from_secs(1_000);
        let trusted = tm::signed_light_block("cosmos-a", 3, t0, &keys, &keys, &[1; 32]).unwrap();
        let root = TendermintTrustRoot::trusting(
            &trusted.signed_header.header,
            21 * 86_400 * 1_000_000_000,
            b"junction",
            b"packets/",
        )
        .unwrap();
        let reg = chain_registration(
            "cosmos-a",
            LedgerKind::Tendermint,
            14 * 86_400_000,
            0,
            root.to_bytes(),
        );
        let header5 = move |signers: &[ed25519_consensus::SigningKey], app_hash: &[u8]| {
            let t5 = Timestamp::from_secs(1_010);
            let block =
                tm::signed_light_block("cosmos-a", 5, t5, signers, signers, app_hash).unwrap();
            tm::header_from(&block, &trusted)
        };
        (reg, keys, Box::new(header5))
    }

    /// A Tendermint chain, `cosmos-a`, that keeps packet commitments in store `junction`
    /// under `packets/`: followed from a trusted header, updated by its validators' commit,
    /// and proving a commitment with an ICS-23 proof under the app hash.
    #[test]
    fn a_tendermint_chain_is_followed_and_proves_commitments_from_its_store() {
        use junction_light_clients::tendermint::client::Misbehaviour;
        use junction_light_clients::tendermint::hub::{encode_misbehaviour, encode_update};
        use junction_light_clients::tendermint::proof::testkit::store_membership;
        use junction_light_clients::tendermint::testkit as tm;
        let (reg, keys, header5) = tendermint_chain();
        let key_hash = [9u8; 32];
        let value = [5u8; 32];
        let mut key = b"packets/".to_vec();
        key.extend_from_slice(crate::clients::TENDERMINT_COMMITMENTS);
        key.extend_from_slice(&key_hash);
        let (app_hash, proof) = store_membership(b"junction", &key, &value, 4, 3, 7).unwrap();
        let header = header5(&keys, &app_hash);
        assert!(crate::clients::has_hub_client(LedgerKind::Tendermint));
        HubClientCheck.check(&reg, None).unwrap();
        let chain = reg.chain_id.clone();
        let mut council = crate::testutil::council_with_chains([1; 32], vec![reg]);
        let state = AppState::default();
        let mut view = Overlay::new(&state);
        let mut packets = PacketState::default();
        let now_ms = 1_020_000;
        let mut exec = RelayExec::new(&mut view, &mut council, &mut packets, now_ms);

        // A header its validators signed moves the client; garbage is refused by name.
        let e = exec
            .run(&RelayMsg::UpdateClient {
                chain: chain.clone(),
                header: vec![1, 2, 3],
            })
            .unwrap_err();
        assert_eq!(e.name(), "malformed_relay_input", "{e}");
        let strangers = tm::validator_keys(99, 4);
        let e = exec
            .run(&RelayMsg::UpdateClient {
                chain: chain.clone(),
                header: encode_update(&header5(&strangers, &app_hash)),
            })
            .unwrap_err();
        assert_eq!(e.name(), "not_enough_trust", "{e}");
        let events = exec
            .run(&RelayMsg::UpdateClient {
                chain: chain.clone(),
                header: encode_update(&header),
            })
            .unwrap();
        assert_eq!(events[0].kind, "client/updated");
        let client = exec.client(&chain).unwrap();
        assert_eq!(client.latest_height(), 5);
        assert_eq!(client.time_ms_at(5), Some(1_010_000));
        assert_eq!(client.gateway(), b"junction");

        // The commitment is proven under the app hash; any other claim is refused by name.
        let at = |height| SourceProof {
            height,
            proof: proof.clone(),
        };
        exec.prove_slot(
            &chain,
            &at(5),
            PacketSlot::Commitment,
            &key_hash,
            Some(&value),
            b"",
        )
        .unwrap();
        for (name, height, slot, kh, v) in [
            (
                "value_mismatch",
                5,
                PacketSlot::Commitment,
                key_hash,
                [6u8; 32],
            ),
            ("key_mismatch", 5, PacketSlot::Commitment, [8u8; 32], value),
            ("key_mismatch", 5, PacketSlot::Receipt, key_hash, value),
            (
                "consensus_state_not_found",
                4,
                PacketSlot::Commitment,
                key_hash,
                value,
            ),
        ] {
            let e = exec
                .prove_slot(&chain, &at(height), slot, &kh, Some(&v), b"")
                .unwrap_err();
            assert_eq!(e.name(), name, "{e}");
        }
        // Every single-byte flip of the ICS-23 proof is refused by name: the proof's every
        // byte is an input to a hash that ends at the app hash, or to the spec checks.
        let (refused, _) =
            flip_each_byte_of_proof(&exec, &chain, 5, &proof, &key_hash, &value, b"");
        assert_eq!(refused.values().sum::<usize>(), proof.len(), "{refused:?}");
        println!(
            "tendermint proof: {} bytes, every flip refused: {refused:?}",
            proof.len()
        );
        // A source only: a packet to it has no route (no adapter delivers there).
        assert!(exec.dest_head(&chain).unwrap().is_none());
        drop(exec);

        // The stored client reads back as it was written.
        let mut exec = RelayExec::new(&mut view, &mut council, &mut packets, now_ms);
        assert_eq!(exec.client(&chain).unwrap().latest_height(), 5);

        // Its validators signing another block at height 5: frozen, proofs refused.

        let evidence = encode_misbehaviour(&Misbehaviour {
            header1: header,
            header2: header5(&keys, &[3; 32]),
        });
        exec.run(&RelayMsg::Misbehaviour {
            chain: chain.clone(),
            evidence,
        })
        .unwrap();
        let e = exec
            .prove_slot(
                &chain,
                &at(5),
                PacketSlot::Commitment,
                &key_hash,
                Some(&value),
                b"",
            )
            .unwrap_err();
        assert_eq!(e.name(), "client_frozen", "{e}");
    }

    /// A QBFT chain `besu-a` (EIP-155 id 1,337, gateway 0x0b…) of 4 test-kit validators,
    /// trusted at block 3 (time 1,000 s, registered without seals): its registration, the
    /// validators' keys, and a builder of block `number` over `parent` listing
    /// `validators`, with `state_root`, an optional vote, sealed by `signers`. Returns the
    /// sealed RLP and the block hash.
    #[allow(clippy::type_complexity)]
    fn qbft_chain() -> (
        ChainRegistration,
        Vec<k256::ecdsa::SigningKey>,
        [u8; 32],
        Box<
            dyn Fn(
                u64,
                [u8; 32],
                &[[u8; 20]],
                [u8; 32],
                Option<junction_light_clients::evm::qbft::Vote>,
                &[k256::ecdsa::SigningKey],
            ) -> (Vec<u8>, [u8; 32]),
        >,
    ) {
        use junction_light_clients::evm::codec::QbftTrustRoot;
        use junction_light_clients::evm::qbft::testkit as qbft;
        let keys = qbft::validator_keys(4);
        let build = |number: u64,
                     parent: [u8; 32],
                     validators: &[[u8; 20]],
                     state_root: [u8; 32],
                     vote,
                     signers: &[k256::ecdsa::SigningKey]| {
            let mut spec = qbft::HeaderSpec::new(
                number,
                parent,
                1_000 + 5 * (number - 3),
                validators.to_vec(),
            );
            spec.state_root = state_root;
            spec.vote = vote;
            let (header, extra) = qbft::unsealed(&spec);
            (
                qbft::seal_spec(&spec, signers),
                qbft::block_hash(&header, &extra),
            )
        };
        let (trusted, trusted_hash) =
            build(3, [0; 32], &qbft::addresses(&keys), [2; 32], None, &[]);
        let root = QbftTrustRoot {
            evm_chain_id: 1_337,
            gateway: [0x0b; 20],
            trusted_header: trusted,
        };
        let reg = chain_registration("besu-a", LedgerKind::EvmQbft, 3_600_000, 0, root.to_bytes());
        (reg, keys, trusted_hash, Box::new(build))
    }

    /// A QBFT chain (Besu's consensus EVM) is followed by its validators' seals in
    /// `extraData`, proves packet commitments from its gateway's storage like an attested
    /// chain, follows a validator added by vote, is a destination, and freezes on two
    /// sealed blocks at one height.
    #[test]
    fn a_qbft_chain_is_followed_by_its_seals_follows_a_voted_validator_and_freezes_on_evidence() {
        use junction_light_clients::evm::codec::QbftTrustRoot;
        use junction_light_clients::evm::mpt::testkit::commitment_proof;
        use junction_light_clients::evm::qbft::{
            testkit as qbft, QbftMisbehaviour, Vote, VoteType,
        };
        let (reg, keys, hash3, block) = qbft_chain();
        assert!(crate::clients::has_hub_client(LedgerKind::EvmQbft));
        assert!(crate::clients::can_deliver_to(LedgerKind::EvmQbft));
        HubClientCheck.check(&reg, None).unwrap();
        assert_eq!(
            crate::clients::target_binding(Some(&reg)),
            junction_spec::evm_target_binding(1_337, &[0x0b; 20])
        );
        let validators = qbft::addresses(&keys);
        let newcomer = qbft::validator_key(4);
        let key_hash = [9u8; 32];
        let value = [5u8; 32];
        let (state_root, proof) = commitment_proof(&[0x0b; 20], &key_hash, &value);
        let add = Vote {
            recipient: qbft::address(&newcomer),
            vote_type: VoteType::Add,
        };
        // Block 4 carries a vote to add a fifth validator and the commitment.
        let (header4, hash4) = block(4, hash3, &validators, state_root, Some(add), &keys[..3]);
        // A replacement trust root may not move the gateway: packets are bound to it.
        let mut moved = reg.clone();
        let mut root = QbftTrustRoot::from_bytes(&reg.trust_root).unwrap();
        root.gateway = [0x0c; 20];
        moved.trust_root = root.to_bytes();
        HubClientCheck.check(&moved, None).unwrap();
        assert!(HubClientCheck.check(&moved, Some(&reg)).is_err());
        let chain = reg.chain_id.clone();
        let mut council = crate::testutil::council_with_chains([1; 32], vec![reg]);
        let state = AppState::default();
        let mut view = Overlay::new(&state);
        let mut packets = PacketState::default();
        let now_ms = 1_020_000;
        let mut exec = RelayExec::new(&mut view, &mut council, &mut packets, now_ms);
        let update = |header: &[u8]| RelayMsg::UpdateClient {
            chain: chain.clone(),
            header: header.to_vec(),
        };

        // Two seals of four are short of the quorum; strangers' seals are refused; a
        // block that skips one is refused; the validators' three seals move the client.
        for (name, header) in [
            (
                "insufficient_seals",
                block(4, hash3, &validators, state_root, Some(add), &keys[..2]).0,
            ),
            (
                "signer_not_validator",
                block(
                    4,
                    hash3,
                    &validators,
                    state_root,
                    Some(add),
                    &qbft::validator_keys(9)[5..8],
                )
                .0,
            ),
            (
                "non_sequential_height",
                block(5, hash3, &validators, state_root, None, &keys).0,
            ),
            (
                "parent_hash_mismatch",
                block(4, [7; 32], &validators, state_root, Some(add), &keys).0,
            ),
            ("missing_field", vec![0xc0]),
        ] {
            let e = exec.run(&update(&header)).unwrap_err();
            assert_eq!(e.name(), name, "{e}");
        }
        let events = exec.run(&update(&header4)).unwrap();
        assert_eq!(events[0].kind, "client/updated");
        let client = exec.client(&chain).unwrap();
        assert_eq!(client.latest_height(), 4);
        assert_eq!(client.time_ms_at(4), Some(1_005_000));
        assert_eq!(client.gateway(), &[0x0b; 20]);

        // The commitment is proven from the gateway's storage; other claims by name.
        let at = |height| SourceProof {
            height,
            proof: proof.to_bytes(),
        };
        exec.prove_slot(
            &chain,
            &at(4),
            PacketSlot::Commitment,
            &key_hash,
            Some(&value),
            b"",
        )
        .unwrap();
        for (name, height, slot, v) in [
            ("value_mismatch", 4, PacketSlot::Commitment, [6u8; 32]),
            ("root_mismatch", 3, PacketSlot::Commitment, value),
            ("unknown_height", 2, PacketSlot::Commitment, value),
        ] {
            let e = exec
                .prove_slot(&chain, &at(height), slot, &key_hash, Some(&v), b"")
                .unwrap_err();
            assert_eq!(e.name(), name, "{e}");
        }
        assert!(exec
            .prove_slot(
                &chain,
                &at(4),
                PacketSlot::Receipt,
                &key_hash,
                Some(&value),
                b""
            )
            .is_err());
        // A destination: its head is what a packet to it times out against.
        let head = exec.dest_head(&chain).unwrap().unwrap();
        assert_eq!((head.height, head.time_ms), (4, 1_005_000));

        // Block 5 lists the voted validator: four of the five seal it. A set that adds a
        // validator nobody voted for is refused.
        let mut five = validators.clone();
        five.push(add.recipient);
        five.sort_unstable();
        let mut signers5 = keys[..3].to_vec();
        signers5.push(newcomer.clone());
        let mut unvoted = validators.clone();
        unvoted.push(qbft::address(&qbft::validator_key(7)));
        unvoted.sort_unstable();
        let e = exec
            .run(&update(&block(5, hash4, &unvoted, [3; 32], None, &keys).0))
            .unwrap_err();
        assert_eq!(e.name(), "unvoted_validator_set_change", "{e}");
        let (header5, _) = block(5, hash4, &five, [3; 32], None, &signers5);
        exec.run(&update(&header5)).unwrap();
        drop(exec);

        // The stored client reads back as written, with the five validators.
        let mut exec = RelayExec::new(&mut view, &mut council, &mut packets, now_ms);
        let client = exec.client(&chain).unwrap();
        assert_eq!(client.latest_height(), 5);
        let AnyClient::EvmQbft(c) = &client else {
            unreachable!("a QBFT registration starts a QBFT client")
        };
        assert_eq!(c.client().trusted_validators(), five.as_slice());

        // The five sealing another block 5: evidence freezes the client; forged evidence
        // is refused by the rule it breaks.
        let (other5, _) = block(5, hash4, &five, [4; 32], None, &signers5);
        let misbehaviour = |a: &[u8], b: &[u8]| RelayMsg::Misbehaviour {
            chain: chain.clone(),
            evidence: QbftMisbehaviour {
                header_a: a.to_vec(),
                header_b: b.to_vec(),
            }
            .to_bytes(),
        };
        let (short5, _) = block(5, hash4, &five, [4; 32], None, &signers5[..2]);
        for (name, a, b) in [
            ("misbehaviour_same_header", &header5, &header5),
            ("insufficient_seals", &header5, &short5),
            ("misbehaviour_height_mismatch", &header5, &header4),
        ] {
            let e = exec.run(&misbehaviour(a, b)).unwrap_err();
            assert_eq!(e.name(), name, "{e}");
        }
        let events = exec.run(&misbehaviour(&header5, &other5)).unwrap();
        assert_eq!(events[0].kind, "client/frozen");
        let e = exec
            .prove_slot(
                &chain,
                &at(4),
                PacketSlot::Commitment,
                &key_hash,
                Some(&value),
                b"",
            )
            .unwrap_err();
        assert_eq!(e.name(), "client_frozen", "{e}");
        assert_eq!(exec.dest_head(&chain).unwrap_err().name(), "client_frozen");
    }

    /// Another Junction hub `hub-b` whose 4 test attesters (power 10 each) signed a
    /// checkpoint at height 10: its registration (trusted at that checkpoint, trusting
    /// period one hour), the attesters' keys, and a builder of checkpoint `height` over a
    /// log of `log_size` entries, signed by the keys given.
    #[allow(clippy::type_complexity)]
    fn hub_chain() -> (
        ChainRegistration,
        Vec<k256::ecdsa::SigningKey>,
        Box<
            dyn Fn(
                u64,
                u64,
                &[k256::ecdsa::SigningKey],
            ) -> junction_light_clients::hub::SignedCheckpoint,
        >,
    ) {
        use junction_light_clients::hub::testkit as hub;
        use junction_light_clients::hub::HubTrustRoot;
        let chain = ChainId::new("hub-b").unwrap();
        let (set, keys) = hub::attestation_set(4, 3).unwrap();
        let set_hash = set.hash();
        let build = {
            let chain = chain.clone();
            move |height: u64, log_size: u64, signers: &[k256::ecdsa::SigningKey]| {
                let cp = hub::checkpoint(
                    &chain,
                    height,
                    log_size,
                    [log_size as u8; 32],
                    set_hash,
                    set_hash,
                );
                hub::sign_with(cp, signers).unwrap()
            }
        };
        let root = HubTrustRoot {
            checkpoint: build(10, 5, &[]).checkpoint,
            set,
            next_set: None,
        };
        let reg = chain_registration(
            chain.as_str(),
            LedgerKind::JunctionHub,
            3_600_000,
            0,
            root.to_bytes(),
        );
        (reg, keys, Box::new(build))
    }

    /// Another Junction hub is registered and followed by the checkpoints its attestation
    /// set signs (> 2/3 of the power); it proves no packets yet (hub-to-hub addressing
    /// comes next), is no destination, expires after its trusting period without a
    /// checkpoint, and two signed checkpoints at one height freeze it.
    #[test]
    fn another_hub_is_followed_by_its_signed_checkpoints_and_freezes_on_two_at_one_height() {
        use junction_light_clients::hub::CheckpointMisbehaviour;
        let (reg, keys, checkpoint) = hub_chain();
        assert!(crate::clients::has_hub_client(LedgerKind::JunctionHub));
        assert!(!crate::clients::can_deliver_to(LedgerKind::JunctionHub));
        HubClientCheck.check(&reg, None).unwrap();
        let chain = reg.chain_id.clone();
        let mut council = crate::testutil::council_with_chains([1; 32], vec![reg.clone()]);
        let state = AppState::default();
        let mut view = Overlay::new(&state);
        let mut packets = PacketState::default();
        let now_ms = 1_700_000_000_000 + 60_000;
        let mut exec = RelayExec::new(&mut view, &mut council, &mut packets, now_ms);
        let update =
            |signed: &junction_light_clients::hub::SignedCheckpoint| RelayMsg::UpdateClient {
                chain: chain.clone(),
                header: signed.to_bytes(),
            };
        let strangers = junction_light_clients::hub::testkit::attestation_set(4, 9)
            .unwrap()
            .1;
        for (name, msg) in [
            ("insufficient_power", update(&checkpoint(12, 7, &keys[..2]))),
            ("unknown_signer", update(&checkpoint(12, 7, &strangers))),
            ("older_checkpoint", update(&checkpoint(9, 5, &keys))),
            ("log_shrank", update(&checkpoint(12, 4, &keys))),
            (
                "malformed_relay_input",
                RelayMsg::UpdateClient {
                    chain: chain.clone(),
                    header: vec![1, 2, 3],
                },
            ),
        ] {
            let e = exec.run(&msg).unwrap_err();
            assert_eq!(e.name(), name, "{e}");
        }
        let signed12 = checkpoint(12, 7, &keys[..3]);
        let events = exec.run(&update(&signed12)).unwrap();
        assert_eq!(events[0].kind, "client/updated");
        let client = exec.client(&chain).unwrap();
        assert_eq!(client.latest_height(), 12);
        assert_eq!(client.heights(), vec![10, 12]);
        assert_eq!(client.time_ms_at(12), Some(1_700_000_000_012));
        // No packets from or to another hub yet: refused by name, never error-acked.
        let e = exec
            .prove_slot(
                &chain,
                &SourceProof {
                    height: 12,
                    proof: vec![],
                },
                PacketSlot::Commitment,
                &[9; 32],
                Some(&[5; 32]),
                b"",
            )
            .unwrap_err();
        assert_eq!(e.name(), "no_packets_between_hubs", "{e}");
        assert!(exec.dest_head(&chain).unwrap().is_none());
        drop(exec);

        // An hour after the latest checkpoint without another, the client is expired.
        let late = 1_700_000_000_012 + 3_600_001;
        let mut exec = RelayExec::new(&mut view, &mut council, &mut packets, late);
        assert_eq!(
            exec.client(&chain)
                .unwrap()
                .status(Timestamp::from_millis(late)),
            ClientStatus::Expired
        );
        let e = exec.run(&update(&checkpoint(13, 7, &keys))).unwrap_err();
        assert_eq!(e.name(), "client_expired", "{e}");
        drop(exec);

        // Its attesters signing another checkpoint at height 12: frozen.
        let mut exec = RelayExec::new(&mut view, &mut council, &mut packets, now_ms);
        let evidence = |a: &junction_light_clients::hub::SignedCheckpoint,
                        b: &junction_light_clients::hub::SignedCheckpoint| {
            RelayMsg::Misbehaviour {
                chain: chain.clone(),
                evidence: CheckpointMisbehaviour {
                    first: a.clone(),
                    second: b.clone(),
                }
                .to_bytes(),
            }
        };
        let other12 = checkpoint(12, 8, &keys[..3]);
        let e = exec.run(&evidence(&signed12, &signed12)).unwrap_err();
        assert_eq!(e.name(), "not_conflicting", "{e}");
        let e = exec
            .run(&evidence(&signed12, &checkpoint(12, 8, &keys[..2])))
            .unwrap_err();
        assert_eq!(e.name(), "insufficient_power", "{e}");
        let events = exec.run(&evidence(&signed12, &other12)).unwrap();
        assert_eq!(events[0].kind, "client/frozen");
        assert_eq!(
            exec.client_even_frozen(&chain)
                .unwrap()
                .status(Timestamp::from_millis(now_ms)),
            ClientStatus::Frozen { height: 12 }
        );
        let e = exec.run(&update(&checkpoint(13, 9, &keys))).unwrap_err();
        assert_eq!(e.name(), "client_frozen", "{e}");
    }

    /// A regtest Bitcoin chain `btc-r` whose block 1 holds a transaction by the app
    /// `app_script(7)` committing packet key [9; 32] to packet hash [5; 32], buried by 4
    /// more blocks; transactions count at 3 confirmations. Its registration and the
    /// fixture.
    fn bitcoin_chain() -> (
        ChainRegistration,
        junction_light_clients::bitcoin::testkit::CommitmentFixture,
    ) {
        use junction_light_clients::bitcoin::hub::{BitcoinTrustRoot, Network};
        use junction_light_clients::bitcoin::testkit as btc;
        let fixture =
            btc::commitment_fixture(7, &btc::app_script(7), None, &[9; 32], &[5; 32], 4).unwrap();
        let root = BitcoinTrustRoot {
            network: Network::Regtest,
            checkpoint: fixture.checkpoint.clone(),
        };
        let reg = chain_registration(
            "btc-r",
            LedgerKind::Bitcoin,
            7 * 86_400_000,
            3,
            root.to_bytes(),
        );
        (reg, fixture)
    }

    /// A Bitcoin chain is a packet source: followed by the headers with the most work, it
    /// proves a packet's commitment from a transaction of the source app (its first input
    /// spends the app's script) with an `OP_RETURN` output naming the packet, once buried
    /// by the registered confirmations; every other claim is refused by the rule it
    /// breaks, and nothing is delivered to it.
    #[test]
    fn a_bitcoin_chain_proves_a_packet_from_an_app_transaction_once_confirmed() {
        use junction_light_clients::bitcoin::hub::PacketProof;
        use junction_light_clients::bitcoin::testkit as btc;
        let (reg, fixture) = bitcoin_chain();
        assert!(crate::clients::has_hub_client(LedgerKind::Bitcoin));
        assert!(!crate::clients::can_deliver_to(LedgerKind::Bitcoin));
        HubClientCheck.check(&reg, None).unwrap();
        let chain = reg.chain_id.clone();
        let mut council = crate::testutil::council_with_chains([1; 32], vec![reg]);
        let state = AppState::default();
        let mut view = Overlay::new(&state);
        let mut packets = PacketState::default();
        let now_ms = (1_700_000_000 + 86_400) * 1000;
        let mut exec = RelayExec::new(&mut view, &mut council, &mut packets, now_ms);
        let batch =
            |headers: &[junction_light_clients::bitcoin::BlockHeader]| RelayMsg::UpdateClient {
                chain: chain.clone(),
                header: headers.iter().flat_map(|h| h.encode()).collect(),
            };
        let app = btc::app_script(7);
        let (key_hash, packet_hash) = ([9u8; 32], [5u8; 32]);
        let prove = |exec: &RelayExec<'_>,
                     height: u64,
                     proof: &PacketProof,
                     packet_hash: &[u8; 32],
                     app: &[u8]| {
            exec.prove_slot(
                &chain,
                &SourceProof {
                    height,
                    proof: proof.to_bytes(),
                },
                PacketSlot::Commitment,
                &key_hash,
                Some(packet_hash),
                app,
            )
            .map(|_| ())
            .map_err(|e| e.name())
        };

        // Headers: one without its proof of work, one that does not link, then block 1.
        let mut weak = fixture.headers[0];
        weak.nonce = weak.nonce.wrapping_add(1);
        while junction_light_clients::bitcoin::pow::check_proof_of_work(
            &weak,
            &junction_light_clients::bitcoin::Params::REGTEST,
        )
        .is_ok()
        {
            weak.nonce = weak.nonce.wrapping_add(1);
        }
        for (name, msg) in [
            ("insufficient_proof_of_work", batch(&[weak])),
            ("unknown_parent", batch(&fixture.headers[1..2])),
            // Proof of work has no signers to equivocate: a deep reorg freezes instead.
            (
                "misbehaviour_not_applicable",
                RelayMsg::Misbehaviour {
                    chain: chain.clone(),
                    evidence: vec![1],
                },
            ),
        ] {
            let e = exec.run(&msg).unwrap_err();
            assert_eq!(e.name(), name, "{e}");
        }
        exec.run(&batch(&fixture.headers[..1])).unwrap();
        assert_eq!(exec.client(&chain).unwrap().latest_height(), 1);
        // One block deep of three: not yet.
        assert_eq!(
            prove(&exec, 1, &fixture.proof, &packet_hash, &app),
            Err("insufficient_confirmations")
        );
        exec.run(&batch(&fixture.headers[1..3])).unwrap();
        let client = exec.client(&chain).unwrap();
        assert_eq!(client.latest_height(), 3);
        assert_eq!(
            client.time_ms_at(1),
            Some(u64::from(fixture.headers[0].time) * 1000)
        );
        prove(&exec, 1, &fixture.proof, &packet_hash, &app).unwrap();
        // Every single-byte flip of the proof is refused by name.
        let bytes = fixture.proof.to_bytes();
        let (refused, same) =
            flip_each_byte_of_proof(&exec, &chain, 1, &bytes, &key_hash, &packet_hash, &app);
        assert_eq!(same, 0, "a flipped byte of the proof was accepted");
        assert_eq!(refused.values().sum::<usize>(), bytes.len());
        println!("bitcoin proof: {} bytes, refused {refused:?}", bytes.len());

        // Every other claim, by the rule it breaks.
        let mut other_prev = fixture.proof.clone();
        other_prev.prev_tx = btc::raw_tx(&[([3; 32], 0)], &[(1, app.clone())]);
        let mut other_tx = fixture.proof.clone();
        other_tx.tx = btc::raw_tx(&[([4; 32], 0)], &[(0, vec![0x6a])]);
        for (name, height, proof, packet, app) in [
            (
                "source_app_mismatch",
                1,
                &fixture.proof,
                packet_hash,
                btc::app_script(8),
            ),
            (
                "packet_commitment_mismatch",
                1,
                &fixture.proof,
                [6; 32],
                app.clone(),
            ),
            (
                "previous_tx_mismatch",
                1,
                &other_prev,
                packet_hash,
                app.clone(),
            ),
            (
                "merkle_root_mismatch",
                1,
                &other_tx,
                packet_hash,
                app.clone(),
            ),
            (
                "insufficient_confirmations",
                2,
                &fixture.proof,
                packet_hash,
                app.clone(),
            ),
            (
                "unknown_height",
                9,
                &fixture.proof,
                packet_hash,
                app.clone(),
            ),
        ] {
            assert_eq!(
                prove(&exec, height, proof, &packet, &app),
                Err(name),
                "{name}"
            );
        }
        let e = exec
            .prove_slot(
                &chain,
                &SourceProof {
                    height: 1,
                    proof: fixture.proof.to_bytes(),
                },
                PacketSlot::Receipt,
                &key_hash,
                Some(&packet_hash),
                &app,
            )
            .unwrap_err();
        assert_eq!(e.name(), "source_only", "{e}");
        assert!(exec.dest_head(&chain).unwrap().is_none());
        drop(exec);

        // The stored client reads back; a week after its tip without a header it expires.
        let exec = RelayExec::new(&mut view, &mut council, &mut packets, now_ms);
        assert_eq!(exec.client(&chain).unwrap().latest_height(), 3);
        drop(exec);
        // A branch from the checkpoint with more work disconnects the confirmed block 1:
        // the client freezes (on a copy of the state, so the expiry below still runs).
        {
            let mut fork_view = Overlay::new(&view);
            let mut council = council.clone();
            let mut packets = packets.clone();
            let mut exec = RelayExec::new(&mut fork_view, &mut council, &mut packets, now_ms);
            let branch = btc::regtest_extend(&fixture.checkpoint.header, 4, 600, 99);
            exec.run(&batch(&branch)).unwrap();
            assert_eq!(
                exec.client_even_frozen(&chain)
                    .unwrap()
                    .status(Timestamp::from_millis(now_ms)),
                ClientStatus::Frozen { height: 1 }
            );
            assert_eq!(
                prove(&exec, 1, &fixture.proof, &packet_hash, &app),
                Err("client_frozen")
            );
        }
        let late = (u64::from(fixture.headers[2].time) + 7 * 86_400 + 1) * 1000;
        let mut exec = RelayExec::new(&mut view, &mut council, &mut packets, late);
        let e = exec.run(&batch(&fixture.headers[3..])).unwrap_err();
        assert_eq!(e.name(), "client_expired", "{e}");
    }

    /// When the council vouched for `fab-a`'s config block (a minute before the tests'
    /// hub time).
    const FABRIC_TRUSTED_MS: u64 = 1_700_000_000_000 - 60_000;

    /// A Fabric channel `fab-a` of a test network (2 orderer orgs, 3 peer orgs) trusted at
    /// its genesis config block, whose `junction` chaincode keeps commitments under
    /// `jn/`: orderer signatures of 2 orgs, endorsements of 2 listed orgs and VALID
    /// attestations of 2 orgs are needed. Its registration and the network.
    fn fabric_chain() -> (
        ChainRegistration,
        junction_light_clients::fabric::testkit::TestNetwork,
    ) {
        use junction_light_clients::fabric::hub::FabricTrustRoot;
        use junction_light_clients::fabric::testkit::{encode_block, TestNetwork};
        let net = TestNetwork::new("fab-ch", 11, 2, 3).unwrap();
        let root = FabricTrustRoot {
            config_block: encode_block(&net.genesis_block()),
            policy: net.majority_policy(),
            chaincode: "junction".into(),
            key_prefix: "jn/".into(),
            time_ms: FABRIC_TRUSTED_MS,
        };
        let reg = chain_registration("fab-a", LedgerKind::Fabric, 3_600_000, 0, root.to_bytes());
        (reg, net)
    }

    /// A Fabric channel is a packet source: followed block by block under its orderers'
    /// signatures, it proves a packet's commitment from a transaction of the Junction
    /// chaincode whose write set sets the packet's key to its hash, endorsed per the
    /// policy and attested VALID by peers of enough orgs; every other claim is refused by
    /// the rule it breaks, a forked block signed by the orderers freezes it, and nothing is
    /// delivered to it.
    #[test]
    fn a_fabric_channel_proves_a_packet_from_its_chaincode_write_set() {
        use junction_light_clients::fabric::hub::{commitment_key, PacketProof};
        use junction_light_clients::fabric::testkit::{encode_block, hash_of};
        let (reg, net) = fabric_chain();
        assert!(crate::clients::has_hub_client(LedgerKind::Fabric));
        assert!(!crate::clients::can_deliver_to(LedgerKind::Fabric));
        HubClientCheck.check(&reg, None).unwrap();
        let chain = reg.chain_id.clone();
        let (key_hash, packet_hash) = ([9u8; 32], [5u8; 32]);
        let key = commitment_key("jn/", &key_hash);
        let tx = net.endorser_tx("tx-1", 0, &[0, 1], "junction", &key, &packet_hash);
        let genesis = hash_of(&net.genesis_block());
        let block1 = net.block(1, &genesis, vec![tx], &[0, 1]);
        let mut council = crate::testutil::council_with_chains([1; 32], vec![reg]);
        let state = AppState::default();
        let mut view = Overlay::new(&state);
        let mut packets = PacketState::default();
        let now_ms = 1_700_000_000_000;
        let mut exec = RelayExec::new(&mut view, &mut council, &mut packets, now_ms);
        let update =
            |block: &junction_light_clients::fabric::proto::Block| RelayMsg::UpdateClient {
                chain: chain.clone(),
                header: encode_block(block),
            };
        for (name, msg) in [
            (
                "insufficient_orderer_signatures",
                update(&net.block(1, &genesis, vec![], &[0])),
            ),
            (
                "previous_hash_mismatch",
                update(&net.block(1, &[7; 32], vec![], &[0, 1])),
            ),
            (
                "non_sequential_block",
                update(&net.block(2, &genesis, vec![], &[0, 1])),
            ),
        ] {
            let e = exec.run(&msg).unwrap_err();
            assert_eq!(e.name(), name, "{e}");
        }
        exec.run(&update(&block1)).unwrap();
        let client = exec.client(&chain).unwrap();
        assert_eq!(client.latest_height(), 1);
        assert_eq!(client.heights(), vec![0, 1]);
        assert_eq!(client.gateway(), b"junction");

        let attest = |orgs: &[usize], code| -> Vec<_> {
            orgs.iter()
                .map(|o| net.attest(*o, 1, "tx-1", code).unwrap())
                .collect()
        };
        let proof = PacketProof {
            tx_id: "tx-1".into(),
            block: encode_block(&block1),
            attestations: attest(&[0, 2], 0),
        };
        let prove = |exec: &RelayExec<'_>,
                     height: u64,
                     proof: &PacketProof,
                     packet: &[u8; 32],
                     key: &[u8; 32]| {
            exec.prove_slot(
                &chain,
                &SourceProof {
                    height,
                    proof: proof.to_bytes(),
                },
                PacketSlot::Commitment,
                key,
                Some(packet),
                b"",
            )
            .map(|_| ())
            .map_err(|e| e.name())
        };
        prove(&exec, 1, &proof, &packet_hash, &key_hash).unwrap();
        // Every single-byte flip of the proof is refused by name, or (a byte nothing the
        // hub checks covers, such as the block's orderer metadata, whose header hash the
        // client already holds) proves the same commitment.
        let bytes = proof.to_bytes();
        let (refused, same) =
            flip_each_byte_of_proof(&exec, &chain, 1, &bytes, &key_hash, &packet_hash, b"");
        assert!(
            refused.values().sum::<usize>() > bytes.len() / 2,
            "{refused:?}"
        );
        println!(
            "fabric proof: {} bytes, refused {refused:?}, {same} proved the same",
            bytes.len()
        );
        let one_attestation = PacketProof {
            attestations: attest(&[0], 0),
            ..proof.clone()
        };
        let invalid = PacketProof {
            attestations: attest(&[0, 2], 11),
            ..proof.clone()
        };
        let other_tx = PacketProof {
            tx_id: "tx-2".into(),
            ..proof.clone()
        };
        for (name, height, p, packet, key) in [
            ("value_mismatch", 1, &proof, [6u8; 32], key_hash),
            ("key_not_written", 1, &proof, packet_hash, [8u8; 32]),
            (
                "insufficient_validation_attestations",
                1,
                &one_attestation,
                packet_hash,
                key_hash,
            ),
            ("tx_attested_invalid", 1, &invalid, packet_hash, key_hash),
            ("tx_not_found", 1, &other_tx, packet_hash, key_hash),
            ("header_hash_mismatch", 0, &proof, packet_hash, key_hash),
            ("height_not_verified", 2, &proof, packet_hash, key_hash),
        ] {
            assert_eq!(prove(&exec, height, p, &packet, &key), Err(name), "{name}");
        }
        let e = exec
            .prove_slot(
                &chain,
                &SourceProof {
                    height: 1,
                    proof: proof.to_bytes(),
                },
                PacketSlot::Receipt,
                &key_hash,
                Some(&packet_hash),
                b"",
            )
            .unwrap_err();
        assert_eq!(e.name(), "source_only", "{e}");
        assert!(exec.dest_head(&chain).unwrap().is_none());
        drop(exec);

        // Fabric blocks carry no signed time: the trusting period (an hour) runs from the
        // hub time block 1 was taken at. Until it passes the client is active; after it,
        // the client is expired: no block and no proof is taken (both final only after a
        // replace_client vote), and the stored client reads back as it was.
        let late = now_ms + 3_600_000;
        let exec = RelayExec::new(&mut view, &mut council, &mut packets, late);
        let client = exec.client(&chain).unwrap();
        assert_eq!(client.renewed_ms(), Some(now_ms));
        assert_eq!(
            client.status(junction_light_clients::Timestamp::from_millis(late)),
            ClientStatus::Active
        );
        drop(exec);
        let mut exec = RelayExec::new(&mut view, &mut council, &mut packets, late + 1);
        let block2 = net.block(2, &hash_of(&block1), vec![], &[0, 1]);
        assert_eq!(
            exec.run(&update(&block2)).unwrap_err().name(),
            "client_expired"
        );
        assert_eq!(
            prove(&exec, 1, &proof, &packet_hash, &key_hash),
            Err("client_expired")
        );
        drop(exec);

        // The stored client reads back; the orderers signing another block 1: frozen.
        let mut exec = RelayExec::new(&mut view, &mut council, &mut packets, now_ms);
        assert_eq!(exec.client(&chain).unwrap().latest_height(), 1);
        assert_eq!(exec.client(&chain).unwrap().renewed_ms(), Some(now_ms));
        let fork = net.block(1, &genesis, vec![], &[0, 1]);
        let mut evidence = Vec::new();
        junction_spec::encoding::encode_bytes(&encode_block(&block1), &mut evidence);
        junction_spec::encoding::encode_bytes(&encode_block(&fork), &mut evidence);
        exec.run(&RelayMsg::Misbehaviour {
            chain: chain.clone(),
            evidence,
        })
        .unwrap();
        assert_eq!(
            prove(&exec, 1, &proof, &packet_hash, &key_hash),
            Err("client_frozen")
        );
    }

    /// A replacement trust root (a `replace_client` vote) may renew a chain's trust but
    /// not point the chain at another ledger or another commitment store: routes, packets
    /// and logged entries are bound to them. Before this rule only EVM chains were held to
    /// it (their EIP-155 id and gateway); a vote could move a Tendermint chain to another
    /// store, a Fabric channel to another chaincode or a Bitcoin chain to another network.
    #[test]
    fn a_replacement_keeps_the_chains_ledger_and_commitment_store() {
        use junction_light_clients::bitcoin::hub::{BitcoinTrustRoot, Network};
        use junction_light_clients::fabric::hub::FabricTrustRoot;
        use junction_light_clients::tendermint::hub::TendermintTrustRoot;
        let with = |reg: &ChainRegistration, trust_root: Vec<u8>| ChainRegistration {
            trust_root,
            ..reg.clone()
        };
        let refused = |next: &ChainRegistration, cur: &ChainRegistration, what: &str| {
            let e = HubClientCheck.check(next, Some(cur)).unwrap_err();
            assert!(e.contains(what), "{e}");
        };

        let (tm, _, _) = tendermint_chain();
        let root = TendermintTrustRoot::from_bytes(&tm.trust_root).unwrap();
        let renewed = TendermintTrustRoot {
            height: 9,
            time_ns: root.time_ns + 1_000_000_000,
            ..root.clone()
        };
        HubClientCheck
            .check(&with(&tm, renewed.to_bytes()), Some(&tm))
            .unwrap();
        // A chain upgrade that renames the chain keeps its store: accepted.
        let renamed = TendermintTrustRoot {
            chain_id: "cosmos-b".into(),
            ..root.clone()
        };
        HubClientCheck
            .check(&with(&tm, renamed.to_bytes()), Some(&tm))
            .unwrap();
        for moved in [
            TendermintTrustRoot {
                store: b"bank".to_vec(),
                ..root.clone()
            },
            TendermintTrustRoot {
                key_prefix: b"other/".to_vec(),
                ..root.clone()
            },
        ] {
            refused(&with(&tm, moved.to_bytes()), &tm, "commitment store");
        }

        let (fab, _) = fabric_chain();
        let root = FabricTrustRoot::from_bytes(&fab.trust_root).unwrap();
        let renewed = FabricTrustRoot {
            time_ms: root.time_ms + 1,
            ..root.clone()
        };
        HubClientCheck
            .check(&with(&fab, renewed.to_bytes()), Some(&fab))
            .unwrap();
        for moved in [
            FabricTrustRoot {
                chaincode: "other".into(),
                ..root.clone()
            },
            FabricTrustRoot {
                key_prefix: "other/".into(),
                ..root.clone()
            },
        ] {
            refused(&with(&fab, moved.to_bytes()), &fab, "chaincode");
        }

        let (btc, _) = bitcoin_chain();
        let root = BitcoinTrustRoot::from_bytes(&btc.trust_root).unwrap();
        let moved = BitcoinTrustRoot {
            network: Network::Testnet3,
            ..root
        };
        refused(&with(&btc, moved.to_bytes()), &btc, "network");

        // Another kind is never a replacement.
        refused(&fab, &tm, "kind");
    }

    /// Every single-byte flip of `proof`, proven at `chain`'s client as the commitment of
    /// `packet_hash` under `key_hash` at `height` (sent by `source_app`): the refusals by
    /// name, and how many flips proved the same commitment.
    fn flip_each_byte_of_proof(
        exec: &RelayExec<'_>,
        chain: &ChainId,
        height: u64,
        proof: &[u8],
        key_hash: &Hash32,
        packet_hash: &Hash32,
        source_app: &[u8],
    ) -> (std::collections::BTreeMap<&'static str, usize>, usize) {
        let mut refused: std::collections::BTreeMap<&'static str, usize> = Default::default();
        let mut same = 0usize;
        for i in 0..proof.len() {
            let mut flipped = proof.to_vec();
            flipped[i] ^= 0x01;
            let r = exec.prove_slot(
                chain,
                &SourceProof {
                    height,
                    proof: flipped,
                },
                PacketSlot::Commitment,
                key_hash,
                Some(packet_hash),
                source_app,
            );
            match r {
                Ok(_) => same += 1,
                Err(e) => *refused.entry(e.name()).or_default() += 1,
            }
        }
        (refused, same)
    }

    /// What one relayer message does to a fresh hub holding `reg`'s chain at hub time
    /// `now_ms`: the client as stored after it, or the refusal's name.
    fn run_on_fresh_hub(
        reg: &ChainRegistration,
        now_ms: u64,
        msg: &RelayMsg,
    ) -> Result<Option<Vec<u8>>, &'static str> {
        let mut council = crate::testutil::council_with_chains([1; 32], vec![reg.clone()]);
        let state = AppState::default();
        let mut view = Overlay::new(&state);
        let mut packets = PacketState::default();
        let mut exec = RelayExec::new(&mut view, &mut council, &mut packets, now_ms);
        exec.run(msg).map_err(|e| e.name())?;
        Ok(exec
            .view
            .get(&key(CLIENT_PREFIX, reg.chain_id.as_str().as_bytes())))
    }

    /// Every single-byte flip of a header update and of misbehaviour evidence, for each
    /// kind the hub follows, run through the relayer-message handler: each is refused by
    /// a name, or (a byte the ledger's signatures do not cover, such as a validator's
    /// proposer priority) leaves the hub exactly where the unaltered message does. None
    /// moves a client anywhere else, none freezes it at another height, none panics.
    #[test]
    fn every_byte_flip_of_an_update_or_evidence_is_refused_by_name_or_changes_nothing() {
        use junction_light_clients::tendermint::client::Misbehaviour;
        use junction_light_clients::tendermint::hub::{encode_misbehaviour, encode_update};
        let attested = registration(LedgerKind::EvmAttested, 4, Fraction { num: 2, den: 3 });
        let header6 = testkit::signed_attested_header(31_337, 3, 6, [1; 32], 1_001);
        let (a, b) = equivocation(6, 3);
        let (tendermint, keys, header5) = tendermint_chain();
        let tm_update = encode_update(&header5(&keys, &[2; 32]));
        let tm_evidence = encode_misbehaviour(&Misbehaviour {
            header1: header5(&keys, &[2; 32]),
            header2: header5(&keys, &[3; 32]),
        });
        let (qbft, qbft_keys, hash3, qbft_block) = qbft_chain();
        let validators = junction_light_clients::evm::qbft::testkit::addresses(&qbft_keys);
        let qbft_header =
            |root: [u8; 32]| qbft_block(4, hash3, &validators, root, None, &qbft_keys[..3]).0;
        let qbft_evidence = junction_light_clients::evm::qbft::QbftMisbehaviour {
            header_a: qbft_header([2; 32]),
            header_b: qbft_header([3; 32]),
        }
        .to_bytes();
        let (hub, hub_keys, hub_checkpoint) = hub_chain();
        let hub_update = hub_checkpoint(12, 7, &hub_keys).to_bytes();
        let hub_evidence = junction_light_clients::hub::CheckpointMisbehaviour {
            first: hub_checkpoint(12, 7, &hub_keys),
            second: hub_checkpoint(12, 8, &hub_keys),
        }
        .to_bytes();
        // Bitcoin mainnet (regtest's trivial targets would let a flipped header pass):
        // trusted at block 829,999, updated with block 830,000.
        let btc_example = junction_light_clients::bitcoin::testkit::mainnet_example().unwrap();
        let (mut bitcoin, _) = bitcoin_chain();
        bitcoin.params.min_confirmations = 6;
        bitcoin.trust_root = junction_light_clients::bitcoin::hub::BitcoinTrustRoot {
            network: junction_light_clients::bitcoin::hub::Network::Mainnet,
            checkpoint: junction_light_clients::bitcoin::Checkpoint {
                height: 829_999,
                header: btc_example.parent,
                chainwork: Default::default(),
                period_first_time: btc_example.parent.time,
                recent_times: vec![btc_example.parent.time],
                last_normal_bits: None,
            },
        }
        .to_bytes();
        let btc_now_ms = (u64::from(btc_example.header.time) + 60) * 1000;
        let (fabric, fabric_net) = fabric_chain();
        let fabric_genesis =
            junction_light_clients::fabric::testkit::hash_of(&fabric_net.genesis_block());
        // Blocks without transactions: the evidence needs only the signed headers (a
        // flipped transaction byte would change nothing), and the update's signatures are
        // what a flip must break.
        let fabric_block = |previous: &[u8; 32]| {
            junction_light_clients::fabric::testkit::encode_block(&fabric_net.block(
                1,
                previous,
                vec![],
                &[0, 1],
            ))
        };
        let mut fabric_evidence = Vec::new();
        junction_spec::encoding::encode_bytes(&fabric_block(&fabric_genesis), &mut fabric_evidence);
        junction_spec::encoding::encode_bytes(&fabric_block(&[7; 32]), &mut fabric_evidence);
        let update = |chain: &ChainId, header: Vec<u8>| RelayMsg::UpdateClient {
            chain: chain.clone(),
            header,
        };
        let misbehaviour = |chain: &ChainId, evidence: Vec<u8>| RelayMsg::Misbehaviour {
            chain: chain.clone(),
            evidence,
        };
        type Make<'a> = &'a dyn Fn(&ChainId, Vec<u8>) -> RelayMsg;
        let cases: Vec<(&str, &ChainRegistration, u64, Vec<u8>, Make<'_>)> = vec![
            (
                "attested update",
                &attested,
                1_100_000,
                header6.to_bytes(),
                &update,
            ),
            (
                "attested evidence",
                &attested,
                1_100_000,
                evidence(&a, &b),
                &misbehaviour,
            ),
            (
                "qbft update",
                &qbft,
                1_020_000,
                qbft_header([2; 32]),
                &update,
            ),
            (
                "qbft evidence",
                &qbft,
                1_020_000,
                qbft_evidence,
                &misbehaviour,
            ),
            ("hub update", &hub, 1_700_000_060_000, hub_update, &update),
            (
                "hub evidence",
                &hub,
                1_700_000_060_000,
                hub_evidence,
                &misbehaviour,
            ),
            (
                "bitcoin update",
                &bitcoin,
                btc_now_ms,
                btc_example.header.encode().to_vec(),
                &update,
            ),
            (
                "fabric update",
                &fabric,
                1_700_000_000_000,
                fabric_block(&fabric_genesis),
                &update,
            ),
            (
                "fabric evidence",
                &fabric,
                1_700_000_000_000,
                fabric_evidence,
                &misbehaviour,
            ),
            (
                "tendermint update",
                &tendermint,
                1_020_000,
                tm_update,
                &update,
            ),
            (
                "tendermint evidence",
                &tendermint,
                1_020_000,
                tm_evidence,
                &misbehaviour,
            ),
        ];
        for (what, reg, now_ms, bytes, make) in cases {
            let chain = &reg.chain_id;
            let honest = run_on_fresh_hub(reg, now_ms, &make(chain, bytes.clone()));
            assert!(honest.is_ok(), "{what}: the unaltered message: {honest:?}");
            let honest = honest.unwrap();
            let mut refused: std::collections::BTreeMap<&'static str, usize> = Default::default();
            let mut unchanged = 0usize;
            for i in 0..bytes.len() {
                let mut flipped = bytes.clone();
                flipped[i] ^= 0x01;
                match run_on_fresh_hub(reg, now_ms, &make(chain, flipped)) {
                    Err(name) => *refused.entry(name).or_default() += 1,
                    Ok(after) => {
                        assert_eq!(
                            after, honest,
                            "{what}: byte {i} flipped moved the client elsewhere"
                        );
                        unchanged += 1;
                    }
                }
            }
            assert_eq!(refused.values().sum::<usize>() + unchanged, bytes.len());
            assert!(
                refused.values().sum::<usize>() > bytes.len() / 2,
                "{what}: {refused:?}, {unchanged} unchanged"
            );
            assert!(refused
                .keys()
                .all(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_lowercase() || c == '_')));
            println!(
                "{what}: {} bytes, refused {refused:?}, {unchanged} left the hub unchanged",
                bytes.len()
            );
        }
    }

    #[test]
    fn the_relayer_bucket_empties_and_refills_with_hub_time() {
        let state = AppState::default();
        let mut view = Overlay::new(&state);
        let mut council = council();
        let mut packets = PacketState::default();
        let mut exec = RelayExec::new(&mut view, &mut council, &mut packets, 1_000);
        exec.take_tokens(&[1; 20], RELAYER_BURST).unwrap();
        let e = exec.take_tokens(&[1; 20], 1).unwrap_err();
        assert_eq!(e.name(), "relayer_rate_limited");
        // Another account has its own bucket.
        exec.take_tokens(&[2; 20], 10).unwrap();
        // Half a second refills half the per-second rate.
        exec.now_ms = 1_500;
        exec.take_tokens(&[1; 20], RELAYER_REFILL_PER_SEC / 2)
            .unwrap();
        assert!(exec.take_tokens(&[1; 20], 1).is_err());
    }

    #[test]
    fn an_unregistered_chain_or_a_malformed_header_is_refused_by_name() {
        let state = AppState::default();
        let mut view = Overlay::new(&state);
        let mut council = council();
        let mut packets = PacketState::default();
        let mut exec = RelayExec::new(&mut view, &mut council, &mut packets, 1_000);
        let e = exec
            .run(&RelayMsg::UpdateClient {
                chain: ChainId::new("evm-z").unwrap(),
                header: vec![1, 2, 3],
            })
            .unwrap_err();
        assert_eq!(e.name(), "unknown_chain");
    }
}
