//! The hub's light clients of every ledger kind behind one enum (as ibc-rs holds client
//! states as `AnyClientState`): the relayer-message handlers call [`AnyClient`]'s methods
//! and never name a kind, so a new ledger kind is a new variant here and nothing else.
//!
//! A packet's commitment and its receipt live at a place each kind defines
//! ([`PacketSlot`]); for EVM chains those are the gateway's storage slots.

use junction_light_clients::bitcoin::hub::{
    verify_packet_commitment, BitcoinTrustRoot, PacketProof as BitcoinPacketProof,
};
use junction_light_clients::bitcoin::{BitcoinClient, HeaderBatch};
use junction_light_clients::evm::attested::{
    AttestedClient, AttestedConfig, AttestedMisbehaviour, AttesterRotation, AttesterSet,
    SignedAttestedHeader,
};
use junction_light_clients::evm::codec::{AttestedTrustRoot, QbftTrustRoot, MAX_QBFT_HEADER_BYTES};
use junction_light_clients::evm::mpt::{commitment_slot, receipt_slot, EvmPath, EvmProof};
use junction_light_clients::evm::qbft::{QbftClient, QbftConfig, QbftMisbehaviour};
use junction_light_clients::fabric::hub::{
    verify_packet_commitment as verify_fabric_commitment, FabricTrustRoot,
    PacketProof as FabricPacketProof, StoredFabricClient,
};
use junction_light_clients::fabric::FabricMisbehaviour;
use junction_light_clients::hub::{
    CheckpointMisbehaviour, HubClient, HubTrustRoot, SignedCheckpoint,
};
use junction_light_clients::tendermint::client::TendermintClient;
use junction_light_clients::tendermint::hub::{
    decode_misbehaviour, decode_update, TendermintTrustRoot,
};
use junction_light_clients::{ClientStatus, LightClient, NamedError, Timestamp};
use junction_spec::{
    evm_target_binding, ChainRegistration, Decode, DecodeError, Encode, Hash32, LedgerKind,
};

/// Consensus states an attested client keeps.
pub const CLIENT_HISTORY: usize = 256;

/// Which of a packet's records on its ledger a proof is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PacketSlot {
    /// The commitment the source ledger stores when the packet is sent.
    Commitment,
    /// The receipt (ack commitment) the destination ledger stores when it is delivered.
    Receipt,
}

/// Why a client could not be built, decoded, updated or could not verify a proof. The
/// relay handlers name the chain when they report it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// The ledger kind has no hub client yet.
    #[error("the hub has no client of kind {0}")]
    UnsupportedKind(&'static str),
    /// The registration's trust root does not decode or start a client.
    #[error("bad trust root: {0}")]
    BadTrustRoot(String),
    /// A header, proof or stored client does not decode.
    #[error("malformed {what}: {error}")]
    Malformed {
        /// What.
        what: &'static str,
        /// The decode error.
        error: DecodeError,
    },
    /// The light client refused a header or proof.
    #[error("{what} refused: {name}: {message}")]
    Refused {
        /// `header` or `proof`.
        what: &'static str,
        /// The client's error name.
        name: &'static str,
        /// Its message.
        message: String,
    },
}

/// Whether the hub has a client of `kind`: it can register the chain and prove packets
/// from it.
pub fn has_hub_client(kind: LedgerKind) -> bool {
    matches!(
        kind,
        LedgerKind::EvmAttested
            | LedgerKind::EvmQbft
            | LedgerKind::Tendermint
            | LedgerKind::JunctionHub
            | LedgerKind::Bitcoin
            | LedgerKind::Fabric
    )
}

/// Whether the hub can deliver packets to a chain of `kind` (an adapter carries them to a
/// gateway there and proves its receipts back); the other kinds with a hub client are
/// sources only, and a packet to one of them has no route.
pub fn can_deliver_to(kind: LedgerKind) -> bool {
    kind.has_gateway()
}

/// The registered identity of a chain's gateway, which every log entry for the chain is
/// bound to (`LogEntry::target_binding`): for an EVM chain (attested or QBFT) the EIP-155
/// id and the gateway address of its trust root; all zero for a chain the hub has no
/// gateway of.
pub fn target_binding(registration: Option<&ChainRegistration>) -> Hash32 {
    let evm = match registration {
        Some(reg) if reg.kind == LedgerKind::EvmAttested => {
            AttestedTrustRoot::from_bytes(&reg.trust_root)
                .ok()
                .map(|root| (root.evm_chain_id, root.gateway))
        }
        Some(reg) if reg.kind == LedgerKind::EvmQbft => QbftTrustRoot::from_bytes(&reg.trust_root)
            .ok()
            .map(|root| (root.evm_chain_id, root.gateway)),
        _ => None,
    };
    evm.map_or([0; 32], |(chain_id, gateway)| {
        evm_target_binding(chain_id, &gateway)
    })
}

/// What a replacement of a chain's trust root must keep, in the registration's own terms:
/// where the ledger keeps what the hub proves, and which ledger it is. Routes, packets and
/// logged entries are bound to it, so a vote may renew trust (a new header, attester set,
/// validator set) but not point the chain at another ledger or another commitment store.
/// - EVM: the EIP-155 id and the gateway ([`target_binding`]);
/// - Tendermint: the commitment store and key prefix (the chain id may change: a chain
///   upgrade that renames the chain keeps its store);
/// - Fabric: the chaincode and key prefix (and the channel, which a config block names);
/// - Bitcoin: the network;
/// - Junction hub: the hub's chain id.
///
/// `None` for a trust root that does not decode (the registration check refuses it).
pub fn kept_by_replacement(reg: &ChainRegistration) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    match reg.kind {
        LedgerKind::EvmAttested | LedgerKind::EvmQbft => {
            out.extend_from_slice(&target_binding(Some(reg)));
        }
        LedgerKind::Tendermint => {
            let root = TendermintTrustRoot::from_bytes(&reg.trust_root).ok()?;
            junction_spec::encoding::encode_bytes(&root.store, &mut out);
            junction_spec::encoding::encode_bytes(&root.key_prefix, &mut out);
        }
        LedgerKind::Fabric => {
            let root = FabricTrustRoot::from_bytes(&reg.trust_root).ok()?;
            let channel = root.start_client().ok()?.client.config().channel_id.clone();
            junction_spec::encoding::encode_str(&channel, &mut out);
            junction_spec::encoding::encode_str(&root.chaincode, &mut out);
            junction_spec::encoding::encode_str(&root.key_prefix, &mut out);
        }
        LedgerKind::Bitcoin => {
            let root = BitcoinTrustRoot::from_bytes(&reg.trust_root).ok()?;
            root.network.encode_to(&mut out);
        }
        LedgerKind::JunctionHub => {
            let root = HubTrustRoot::from_bytes(&reg.trust_root).ok()?;
            root.checkpoint.hub_chain_id.encode_to(&mut out);
        }
    }
    Some(out)
}

fn refused<E: NamedError + std::fmt::Display>(what: &'static str, e: E) -> ClientError {
    ClientError::Refused {
        what,
        name: e.name(),
        message: e.to_string(),
    }
}

/// An attested EVM client and the gateway whose storage it proves.
#[derive(Clone, Debug)]
pub struct EvmAttestedHubClient {
    client: AttestedClient,
    gateway: [u8; 20],
}

impl EvmAttestedHubClient {
    fn from_registration(reg: &ChainRegistration) -> Result<Self, ClientError> {
        let bad = |reason: String| ClientError::BadTrustRoot(reason);
        let root =
            AttestedTrustRoot::from_bytes(&reg.trust_root).map_err(|e| bad(e.to_string()))?;
        let n = root.attesters.len() as u128;
        let t = reg.params.threshold;
        // ceil(n × num / den), at least one attester.
        let threshold = (n * u128::from(t.num))
            .div_ceil(u128::from(t.den.max(1)))
            .clamp(1, n.max(1));
        let set = AttesterSet::new(root.attesters.clone(), threshold as usize)
            .map_err(|e| bad(e.to_string()))?;
        let config = AttestedConfig {
            chain_id: root.evm_chain_id,
            max_clock_drift_secs: reg.params.max_clock_drift_ms / 1000,
            trusting_period_secs: (reg.params.trusting_period_ms / 1000).max(1),
            max_history: CLIENT_HISTORY,
        };
        let client =
            AttestedClient::new(config, set, &root.trusted).map_err(|e| bad(e.to_string()))?;
        Ok(EvmAttestedHubClient {
            client,
            gateway: root.gateway,
        })
    }

    /// The light client.
    pub fn client(&self) -> &AttestedClient {
        &self.client
    }

    /// Applies an attester's key rotation both keys signed ([`AttestedClient::rotate_attester`]).
    pub fn rotate_attester(
        &mut self,
        rotation: &AttesterRotation,
        old_signature: &[u8; 65],
        new_signature: &[u8; 65],
    ) -> Result<(), ClientError> {
        self.client
            .rotate_attester(rotation, old_signature, new_signature)
            .map_err(|e| refused("attester rotation", e))
    }
}

/// A QBFT (Besu, GoQuorum) chain's client, following the validators' seals in `extraData`,
/// and the gateway whose storage it proves.
#[derive(Clone, Debug)]
pub struct EvmQbftHubClient {
    client: QbftClient,
    gateway: [u8; 20],
}

impl EvmQbftHubClient {
    fn from_registration(reg: &ChainRegistration) -> Result<Self, ClientError> {
        let bad = |reason: String| ClientError::BadTrustRoot(reason);
        let root = QbftTrustRoot::from_bytes(&reg.trust_root).map_err(|e| bad(e.to_string()))?;
        // QBFT's own quorum (⌈2n/3⌉ seals of the listed validators) decides; the
        // registration's threshold and trust level are not used for this kind.
        let config = QbftConfig {
            max_clock_drift_secs: reg.params.max_clock_drift_ms / 1000,
            trusting_period_secs: (reg.params.trusting_period_ms / 1000).max(1),
            max_history: CLIENT_HISTORY,
        };
        let client = QbftClient::from_trusted_header(&root.trusted_header, config)
            .map_err(|e| bad(e.to_string()))?;
        Ok(EvmQbftHubClient {
            client,
            gateway: root.gateway,
        })
    }

    /// The light client.
    pub fn client(&self) -> &QbftClient {
        &self.client
    }
}

/// Fabric misbehaviour evidence: block a bytes ‖ block b bytes (each cap 32,000).
fn decode_fabric_evidence(bytes: &[u8]) -> Result<FabricMisbehaviour, DecodeError> {
    let mut r = junction_spec::Reader::new(bytes);
    let max = junction_light_clients::fabric::hub::MAX_PROOF_BLOCK_BYTES;
    let evidence = FabricMisbehaviour {
        block_a: junction_spec::encoding::decode_bytes(&mut r, max)?,
        block_b: junction_spec::encoding::decode_bytes(&mut r, max)?,
    };
    r.finish()?;
    Ok(evidence)
}

/// Has `client` judge a header decoded as `decoded` at `now` and applies it: the height
/// `height_of` reads from what it verified.
fn apply_update<C>(
    client: &mut C,
    decoded: Result<C::Header, DecodeError>,
    now: Timestamp,
    height_of: impl Fn(&C::Verified) -> u64,
) -> Result<u64, ClientError>
where
    C: LightClient,
    C::Error: std::fmt::Display,
{
    let header = decoded.map_err(|error| ClientError::Malformed {
        what: "header",
        error,
    })?;
    let verified = client
        .verify_header(&header, now)
        .map_err(|e| refused("header", e))?;
    let height = height_of(&verified);
    client.apply_header(verified);
    Ok(height)
}

/// Has `client` judge misbehaviour evidence decoded as `decoded`: the height it is about.
fn judge_evidence<C>(
    client: &C,
    decoded: Result<C::Misbehaviour, DecodeError>,
    now: Timestamp,
) -> Result<u64, ClientError>
where
    C: LightClient,
    C::Error: std::fmt::Display,
{
    let evidence = decoded.map_err(|error| ClientError::Malformed {
        what: "misbehaviour evidence",
        error,
    })?;
    client
        .verify_misbehaviour(&evidence, now)
        .map_err(|e| refused("misbehaviour", e))
}

/// Refuses a header for a client whose kind has no expiry of its own and that the
/// registration's trusting period has run out on.
fn unexpired(status: ClientStatus, message: &str) -> Result<(), ClientError> {
    if status == ClientStatus::Expired {
        return Err(ClientError::Refused {
            what: "header",
            name: "client_expired",
            message: message.to_owned(),
        });
    }
    Ok(())
}

/// Verifies a packet's `slot` in an EVM gateway's storage (EIP-1186 proof) with either EVM
/// client.
fn verify_gateway_slot<C>(
    client: &C,
    gateway: [u8; 20],
    height: u64,
    proof: &[u8],
    slot: PacketSlot,
    key_hash: &Hash32,
    value: Option<&Hash32>,
) -> Result<(), ClientError>
where
    C: LightClient<Path = EvmPath, Proof = EvmProof>,
    C::Error: std::fmt::Display,
{
    let evm_proof = EvmProof::from_bytes(proof).map_err(|error| ClientError::Malformed {
        what: "proof",
        error,
    })?;
    let path = EvmPath::Storage {
        address: gateway,
        slot: match slot {
            PacketSlot::Commitment => commitment_slot(key_hash),
            PacketSlot::Receipt => receipt_slot(key_hash),
        },
    };
    match value {
        Some(v) => client.verify_membership(height, &path, v, &evm_proof),
        None => client.verify_non_membership(height, &path, &evm_proof),
    }
    .map_err(|e| refused("proof", e))
}

/// The status of a client whose library has no expiry of its own (`own` is what the
/// library says): expired once hub time `now` is past `trusting_period_ms` after
/// `latest_ms`, the time its trust was last renewed.
fn expiring(
    own: ClientStatus,
    latest_ms: u64,
    trusting_period_ms: u64,
    now: Timestamp,
) -> ClientStatus {
    match own {
        ClientStatus::Active
            if now.nanos() / 1_000_000 > latest_ms.saturating_add(trusting_period_ms) =>
        {
            ClientStatus::Expired
        }
        other => other,
    }
}

/// A Bitcoin chain (a packet source only), followed by the headers with the most work.
#[derive(Clone, Debug)]
pub struct BitcoinHubClient {
    client: BitcoinClient,
    /// Proof of work has no expiry of its own: the registration's trusting period after
    /// the best tip's time without a header, the client is expired.
    trusting_period_ms: u64,
}

impl BitcoinHubClient {
    fn from_registration(reg: &ChainRegistration) -> Result<Self, ClientError> {
        let bad = |reason: String| ClientError::BadTrustRoot(reason);
        let root = BitcoinTrustRoot::from_bytes(&reg.trust_root).map_err(|e| bad(e.to_string()))?;
        // A transaction counts once its block has `min_confirmations` blocks on the
        // chain with the most work, counting itself (at least one).
        let client = root
            .start_client(reg.params.min_confirmations.max(1))
            .map_err(|e| bad(e.to_string()))?;
        Ok(BitcoinHubClient {
            client,
            trusting_period_ms: reg.params.trusting_period_ms,
        })
    }

    /// The light client.
    pub fn client(&self) -> &BitcoinClient {
        &self.client
    }
}

/// A Hyperledger Fabric channel (a packet source on the hub), followed by the blocks its
/// orderers sign, and where its Junction chaincode writes commitments.
#[derive(Clone, Debug)]
pub struct FabricHubClient {
    stored: StoredFabricClient,
    chaincode: String,
    key_prefix: String,
    /// Fabric blocks carry no signed time: the registration's trusting period after the
    /// hub time of the latest block taken (or of the trust root), the client is expired.
    trusting_period_ms: u64,
}

impl FabricHubClient {
    fn from_registration(reg: &ChainRegistration) -> Result<Self, ClientError> {
        let bad = |reason: String| ClientError::BadTrustRoot(reason);
        let root = FabricTrustRoot::from_bytes(&reg.trust_root).map_err(|e| bad(e.to_string()))?;
        let stored = root.start_client().map_err(|e| bad(e.to_string()))?;
        Ok(FabricHubClient {
            stored,
            chaincode: root.chaincode,
            key_prefix: root.key_prefix,
            trusting_period_ms: reg.params.trusting_period_ms,
        })
    }

    /// The light client.
    pub fn client(&self) -> &junction_light_clients::fabric::FabricClient {
        &self.stored.client
    }
}

/// Another Junction hub, followed by the checkpoints its attestation set signs. Its packets
/// need addressing between hubs (the next protocol step); until then it is registered and
/// updated, and proves nothing.
#[derive(Clone, Debug)]
pub struct JunctionHubClient {
    client: HubClient,
    /// A hub's checkpoints carry no expiry of their own: the registration's trusting period
    /// after the latest checkpoint's time, the client is expired.
    trusting_period_ms: u64,
}

impl JunctionHubClient {
    fn from_registration(reg: &ChainRegistration) -> Result<Self, ClientError> {
        let bad = |reason: String| ClientError::BadTrustRoot(reason);
        let root = HubTrustRoot::from_bytes(&reg.trust_root).map_err(|e| bad(e.to_string()))?;
        let mut client = root.start_client().map_err(|e| bad(e.to_string()))?;
        client.keep_checkpoints(CLIENT_HISTORY);
        Ok(JunctionHubClient {
            client,
            trusting_period_ms: reg.params.trusting_period_ms,
        })
    }

    /// The light client.
    pub fn client(&self) -> &HubClient {
        &self.client
    }
}

/// A Tendermint / Cosmos SDK client and where its chain keeps packet commitments.
#[derive(Clone, Debug)]
pub struct TendermintHubClient {
    client: TendermintClient,
    store: Vec<u8>,
    key_prefix: Vec<u8>,
}

/// Key segment before a packet key hash in a Tendermint chain's commitment store.
pub const TENDERMINT_COMMITMENTS: &[u8] = b"commitments/";
/// Key segment before a packet key hash in a Tendermint chain's receipt store.
pub const TENDERMINT_RECEIPTS: &[u8] = b"receipts/";

impl TendermintHubClient {
    fn from_registration(reg: &ChainRegistration) -> Result<Self, ClientError> {
        let bad = |reason: String| ClientError::BadTrustRoot(reason);
        let root =
            TendermintTrustRoot::from_bytes(&reg.trust_root).map_err(|e| bad(e.to_string()))?;
        if root.store.is_empty() {
            return Err(bad("the commitment store name is empty".into()));
        }
        let p = &reg.params;
        let client = root
            .start_client(
                (p.trust_level.num, p.trust_level.den),
                p.trusting_period_ms.saturating_mul(1_000_000),
                p.max_clock_drift_ms.saturating_mul(1_000_000),
                CLIENT_HISTORY,
            )
            .map_err(|e| bad(e.to_string()))?;
        Ok(TendermintHubClient {
            client,
            store: root.store,
            key_prefix: root.key_prefix,
        })
    }

    /// The light client.
    pub fn client(&self) -> &TendermintClient {
        &self.client
    }

    /// Where the chain keeps a packet's `slot`: the path `[store, key_prefix ‖
    /// "commitments/" or "receipts/" ‖ packet key hash]` of an ICS-23 proof under the app
    /// hash (`spec/packets.md`, "Commitment layouts").
    pub fn packet_path(&self, slot: PacketSlot, key_hash: &Hash32) -> Vec<Vec<u8>> {
        let mut key = self.key_prefix.clone();
        key.extend_from_slice(match slot {
            PacketSlot::Commitment => TENDERMINT_COMMITMENTS,
            PacketSlot::Receipt => TENDERMINT_RECEIPTS,
        });
        key.extend_from_slice(key_hash);
        vec![self.store.clone(), key]
    }
}

/// A hub light client of any kind the hub follows.
#[derive(Clone, Debug)]
pub enum AnyClient {
    /// An EVM chain followed through council-registered attesters.
    EvmAttested(EvmAttestedHubClient),
    /// A QBFT EVM chain followed by its validators' seals.
    EvmQbft(EvmQbftHubClient),
    /// A Tendermint / Cosmos SDK chain followed by its validators' commits.
    Tendermint(TendermintHubClient),
    /// Another Junction hub followed by its signed checkpoints.
    JunctionHub(JunctionHubClient),
    /// A Bitcoin chain followed by proof of work (a source only).
    Bitcoin(BitcoinHubClient),
    /// A Fabric channel followed by its orderers' signatures (a source only).
    Fabric(FabricHubClient),
}

impl AnyClient {
    /// Starts a client from a council registration (its trust root and parameters).
    pub fn from_registration(reg: &ChainRegistration) -> Result<Self, ClientError> {
        match reg.kind {
            LedgerKind::EvmAttested => Ok(AnyClient::EvmAttested(
                EvmAttestedHubClient::from_registration(reg)?,
            )),
            LedgerKind::EvmQbft => Ok(AnyClient::EvmQbft(EvmQbftHubClient::from_registration(
                reg,
            )?)),
            LedgerKind::Tendermint => Ok(AnyClient::Tendermint(
                TendermintHubClient::from_registration(reg)?,
            )),
            LedgerKind::JunctionHub => Ok(AnyClient::JunctionHub(
                JunctionHubClient::from_registration(reg)?,
            )),
            LedgerKind::Bitcoin => Ok(AnyClient::Bitcoin(BitcoinHubClient::from_registration(
                reg,
            )?)),
            LedgerKind::Fabric => Ok(AnyClient::Fabric(FabricHubClient::from_registration(reg)?)),
        }
    }

    /// A client as stored (its canonical encoding), for the chain of `reg`.
    pub fn decode_stored(reg: &ChainRegistration, bytes: &[u8]) -> Result<Self, ClientError> {
        let malformed = |error| ClientError::Malformed {
            what: "stored client state",
            error,
        };
        match Self::from_registration(reg)? {
            AnyClient::EvmAttested(fresh) => Ok(AnyClient::EvmAttested(EvmAttestedHubClient {
                client: AttestedClient::from_bytes(bytes).map_err(malformed)?,
                gateway: fresh.gateway,
            })),
            AnyClient::EvmQbft(fresh) => Ok(AnyClient::EvmQbft(EvmQbftHubClient {
                client: QbftClient::from_bytes(bytes).map_err(malformed)?,
                gateway: fresh.gateway,
            })),
            AnyClient::Tendermint(fresh) => Ok(AnyClient::Tendermint(TendermintHubClient {
                client: TendermintClient::from_bytes(bytes).map_err(malformed)?,
                ..fresh
            })),
            AnyClient::JunctionHub(fresh) => Ok(AnyClient::JunctionHub(JunctionHubClient {
                client: HubClient::from_bytes(bytes).map_err(malformed)?,
                ..fresh
            })),
            AnyClient::Bitcoin(fresh) => Ok(AnyClient::Bitcoin(BitcoinHubClient {
                client: BitcoinClient::from_bytes(bytes).map_err(malformed)?,
                ..fresh
            })),
            AnyClient::Fabric(fresh) => Ok(AnyClient::Fabric(FabricHubClient {
                stored: StoredFabricClient::from_bytes(bytes).map_err(malformed)?,
                ..fresh
            })),
        }
    }

    /// The canonical encoding of the client's state.
    pub fn encode_to(&self, out: &mut Vec<u8>) {
        match self {
            AnyClient::EvmAttested(c) => c.client.encode_to(out),
            AnyClient::EvmQbft(c) => c.client.encode_to(out),
            AnyClient::Tendermint(c) => c.client.encode_to(out),
            AnyClient::JunctionHub(c) => c.client.encode_to(out),
            AnyClient::Bitcoin(c) => c.client.encode_to(out),
            AnyClient::Fabric(c) => c.stored.encode_to(out),
        }
    }

    /// The kind of ledger followed.
    pub fn kind(&self) -> LedgerKind {
        match self {
            AnyClient::EvmAttested(_) => LedgerKind::EvmAttested,
            AnyClient::EvmQbft(_) => LedgerKind::EvmQbft,
            AnyClient::Tendermint(_) => LedgerKind::Tendermint,
            AnyClient::JunctionHub(_) => LedgerKind::JunctionHub,
            AnyClient::Bitcoin(_) => LedgerKind::Bitcoin,
            AnyClient::Fabric(_) => LedgerKind::Fabric,
        }
    }

    /// Active, expired or frozen at hub time `now`.
    pub fn status(&self, now: Timestamp) -> ClientStatus {
        let own = match self {
            AnyClient::EvmAttested(c) => c.client.status(now),
            AnyClient::EvmQbft(c) => c.client.status(now),
            AnyClient::Tendermint(c) => c.client.status(now),
            AnyClient::JunctionHub(c) => c.client.status(now),
            AnyClient::Bitcoin(c) => c.client.status(now),
            AnyClient::Fabric(c) => c.stored.client.status(now),
        };
        match (self.hub_trusting_period_ms(), self.renewed_ms()) {
            (Some(period), Some(renewed)) => expiring(own, renewed, period, now),
            _ => own,
        }
    }

    /// The registration's trusting period, for the kinds whose library has no expiry of
    /// its own (the hub judges theirs).
    fn hub_trusting_period_ms(&self) -> Option<u64> {
        match self {
            AnyClient::JunctionHub(c) => Some(c.trusting_period_ms),
            AnyClient::Bitcoin(c) => Some(c.trusting_period_ms),
            AnyClient::Fabric(c) => Some(c.trusting_period_ms),
            AnyClient::EvmAttested(_) | AnyClient::EvmQbft(_) | AnyClient::Tendermint(_) => None,
        }
    }

    /// The time the client's trusting period runs from, ms: its latest header's time, or
    /// for a Fabric channel (whose blocks carry no signed time) the hub time it last took a
    /// block.
    pub fn renewed_ms(&self) -> Option<u64> {
        match self {
            AnyClient::Fabric(c) => Some(c.stored.last_update_ms),
            _ => self.time_ms_at(self.latest_height()),
        }
    }

    /// The latest verified height.
    pub fn latest_height(&self) -> u64 {
        match self {
            AnyClient::EvmAttested(c) => c.client.latest_height(),
            AnyClient::EvmQbft(c) => c.client.latest_height(),
            AnyClient::Tendermint(c) => c.client.latest_height(),
            AnyClient::JunctionHub(c) => c.client.latest_height(),
            AnyClient::Bitcoin(c) => c.client.latest_height(),
            AnyClient::Fabric(c) => c.stored.client.latest_height(),
        }
    }

    /// The ledger's time at a kept height, in ms.
    pub fn time_ms_at(&self, height: u64) -> Option<u64> {
        match self {
            AnyClient::EvmAttested(c) => c
                .client
                .consensus_state(height)
                .map(|s| s.timestamp.saturating_mul(1000)),
            AnyClient::EvmQbft(c) => c
                .client
                .consensus_state(height)
                .map(|s| s.timestamp.saturating_mul(1000)),
            AnyClient::Tendermint(c) => c
                .client
                .consensus_state(height)
                .map(|s| s.timestamp.nanos() / 1_000_000),
            AnyClient::JunctionHub(c) => c.client.checkpoint_at(height).map(|cp| cp.time_ms),
            AnyClient::Bitcoin(c) => c
                .client
                .best_at(height)
                .map(|h| u64::from(h.header.time) * 1000),
            // Fabric blocks carry no time the orderers sign: a Fabric chain is no
            // destination, so no deadline is judged against it.
            AnyClient::Fabric(_) => None,
        }
    }

    /// Every height the client keeps a consensus state of.
    pub fn heights(&self) -> Vec<u64> {
        match self {
            AnyClient::EvmAttested(c) => c.client.parts().2.keys().copied().collect(),
            AnyClient::EvmQbft(c) => c.client.parts().1.keys().copied().collect(),
            AnyClient::Tendermint(c) => c.client.stored_heights(),
            AnyClient::JunctionHub(c) => c.client.checkpoint_heights(),
            AnyClient::Bitcoin(c) => c.client.parts().best_chain.keys().copied().collect(),
            AnyClient::Fabric(c) => c.stored.client.blocks().keys().copied().collect(),
        }
    }

    /// Where the hub proves packets from on the ledger: the EVM gateway's address, or a
    /// Tendermint chain's commitment store name.
    pub fn gateway(&self) -> &[u8] {
        match self {
            AnyClient::EvmAttested(c) => &c.gateway,
            AnyClient::EvmQbft(c) => &c.gateway,
            AnyClient::Tendermint(c) => &c.store,
            AnyClient::Fabric(c) => c.chaincode.as_bytes(),
            AnyClient::JunctionHub(_) | AnyClient::Bitcoin(_) => &[],
        }
    }

    /// Verifies a header in the ledger's format and applies it; returns its height.
    pub fn update(&mut self, header: &[u8], now: Timestamp) -> Result<u64, ClientError> {
        // The kinds whose library has no expiry: the hub refuses their updates itself.
        if self.hub_trusting_period_ms().is_some() {
            unexpired(self.status(now), "no update within the trusting period")?;
        }
        match self {
            AnyClient::EvmAttested(c) => apply_update(
                &mut c.client,
                SignedAttestedHeader::from_bytes(header),
                now,
                |v| v.number,
            ),
            AnyClient::EvmQbft(c) => {
                let rlp = if header.len() > MAX_QBFT_HEADER_BYTES {
                    Err(DecodeError::LengthTooLarge {
                        len: header.len(),
                        max: MAX_QBFT_HEADER_BYTES,
                    })
                } else {
                    Ok(header.to_vec())
                };
                apply_update(&mut c.client, rlp, now, |v| v.number)
            }
            AnyClient::Tendermint(c) => {
                apply_update(&mut c.client, decode_update(header), now, |v| v.height)
            }
            AnyClient::JunctionHub(c) => {
                // The relay message bounds the header (16 KiB), well inside the client's
                // own bound on a signed checkpoint.
                let height = apply_update(
                    &mut c.client,
                    SignedCheckpoint::from_bytes(header),
                    now,
                    |v| v.checkpoint.height,
                )?;
                c.client.keep_checkpoints(CLIENT_HISTORY);
                Ok(height)
            }
            AnyClient::Bitcoin(c) => {
                let batch = HeaderBatch::decode(header).map_err(|e| refused("header", e))?;
                apply_update(&mut c.client, Ok(batch), now, |_| 0)?;
                Ok(c.client.latest_height())
            }
            AnyClient::Fabric(c) => c
                .stored
                .update(header, now, CLIENT_HISTORY)
                .map_err(|e| refused("header", e)),
        }
    }

    /// Verifies evidence of misbehaviour in the ledger kind's encoding (for an attested EVM
    /// chain, two headers at one height with different hashes, each signed by enough of
    /// the attesters): the height the client's signers equivocated at. Only reads.
    pub fn verify_misbehaviour(&self, evidence: &[u8], now: Timestamp) -> Result<u64, ClientError> {
        match self {
            AnyClient::EvmAttested(c) => {
                judge_evidence(&c.client, AttestedMisbehaviour::from_bytes(evidence), now)
            }
            AnyClient::EvmQbft(c) => {
                judge_evidence(&c.client, QbftMisbehaviour::from_bytes(evidence), now)
            }
            AnyClient::Tendermint(c) => {
                judge_evidence(&c.client, decode_misbehaviour(evidence), now)
            }
            AnyClient::JunctionHub(c) => {
                judge_evidence(&c.client, CheckpointMisbehaviour::from_bytes(evidence), now)
            }
            // Proof of work has no signers to equivocate: a deep reorg in the headers
            // freezes the client instead.
            AnyClient::Bitcoin(c) => judge_evidence(&c.client, Ok(()), now),
            AnyClient::Fabric(c) => {
                judge_evidence(&c.stored.client, decode_fabric_evidence(evidence), now)
            }
        }
    }

    /// Freezes the client at `height`: it then refuses every header and proof.
    pub fn freeze(&mut self, height: u64) {
        match self {
            AnyClient::EvmAttested(c) => c.client.freeze(height),
            AnyClient::EvmQbft(c) => c.client.freeze(height),
            AnyClient::Tendermint(c) => c.client.freeze(height),
            AnyClient::JunctionHub(c) => c.client.freeze(height),
            AnyClient::Bitcoin(c) => c.client.freeze(height),
            AnyClient::Fabric(c) => c.stored.client.freeze(height),
        }
    }

    /// Verifies that the packet's `slot` at `height` holds `value` (membership), or nothing
    /// (`None`: non-membership), with a proof in the ledger's format. `source_app` is the
    /// packet's sending app, which a Bitcoin proof must show spent from (on the other
    /// kinds the commitment's place already belongs to the app).
    pub fn verify_packet_slot(
        &self,
        height: u64,
        proof: &[u8],
        slot: PacketSlot,
        key_hash: &Hash32,
        value: Option<&Hash32>,
        source_app: &[u8],
    ) -> Result<(), ClientError> {
        match self {
            AnyClient::EvmAttested(c) => {
                verify_gateway_slot(&c.client, c.gateway, height, proof, slot, key_hash, value)
            }
            AnyClient::EvmQbft(c) => {
                verify_gateway_slot(&c.client, c.gateway, height, proof, slot, key_hash, value)
            }
            AnyClient::Tendermint(c) => {
                let path = c.packet_path(slot, key_hash);
                match value {
                    Some(v) => c.client.verify_membership(height, &path, v, proof),
                    None => c.client.verify_non_membership(height, &path, proof),
                }
                .map_err(|e| refused("proof", e))
            }
            // Packets between hubs need addressing across hubs, which the protocol does not
            // define yet: nothing is proven from another hub.
            AnyClient::JunctionHub(_) => Err(ClientError::Refused {
                what: "proof",
                name: "no_packets_between_hubs",
                message: "packets from another Junction hub are not defined yet".into(),
            }),
            AnyClient::Bitcoin(c) => match (slot, value) {
                (PacketSlot::Commitment, Some(packet_hash)) => {
                    let proof = BitcoinPacketProof::from_bytes(proof).map_err(|error| {
                        ClientError::Malformed {
                            what: "proof",
                            error,
                        }
                    })?;
                    verify_packet_commitment(
                        &c.client,
                        height,
                        &proof,
                        key_hash,
                        packet_hash,
                        source_app,
                    )
                    .map_err(|e| refused("proof", e))
                }
                _ => Err(refused(
                    "proof",
                    junction_light_clients::bitcoin::BitcoinError::SourceOnly,
                )),
            },
            AnyClient::Fabric(c) => match (slot, value) {
                (PacketSlot::Commitment, Some(packet_hash)) => {
                    let proof = FabricPacketProof::from_bytes(proof).map_err(|error| {
                        ClientError::Malformed {
                            what: "proof",
                            error,
                        }
                    })?;
                    verify_fabric_commitment(
                        &c.stored.client,
                        &c.chaincode,
                        &c.key_prefix,
                        height,
                        &proof,
                        key_hash,
                        packet_hash,
                    )
                    .map_err(|e| refused("proof", e))
                }
                _ => Err(ClientError::Refused {
                    what: "proof",
                    name: "source_only",
                    message: "a Fabric channel is a packet source only on the hub".into(),
                }),
            },
        }
    }
}
