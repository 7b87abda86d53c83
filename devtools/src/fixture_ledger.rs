//! Fixture ledgers: a Tendermint chain, a Fabric channel or a Bitcoin regtest chain built
//! from the light clients' test kits, holding Junction packet commitments, served to a
//! relayer over the `ledger_rpc` protocol (`junction_adapters::ledger_rpc`) on 127.0.0.1.
//!
//! No CometBFT, Fabric peer or bitcoind runs here, and recorded ledgers hold no Junction
//! commitments, so a fixture ledger stands in for the source: its blocks are in each
//! ledger's real format and signed (or mined) as the hub's light client requires, and its
//! proofs are the ones an adapter author's adapter would produce.
//!
//! - Tendermint (`tendermint`): four test validators sign every block from height 1 (the
//!   trust root); packet `i` is committed at height `2 + i`; each block's app hash commits
//!   to an IAVL store `junction` in a multistore holding `commitments/ ‖ key hash` = packet
//!   hash for every packet committed so far.
//! - Fabric (`fabric`): a channel of two orderer orgs and three peer orgs; block 0 is the
//!   config block (the trust root); block `1 + i` holds the endorsed transaction of the
//!   `junction` chaincode writing packet `i`'s commitment, later blocks a heartbeat write.
//! - Bitcoin (`bitcoin`): a regtest-difficulty chain from a checkpoint at height 0; block
//!   `1 + i` holds the transaction of the app's script committing packet `i` in an
//!   OP_RETURN output.
//!
//! Blocks appear over time, one every `block_ms` (the newest height grows as a live chain's
//! does), so a relayer sees packets arrive and confirmations accumulate.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use eyre::{eyre, WrapErr};
use junction_adapters::ledger_rpc::{HeaderAnswer, Identity, ProofAnswer, SentAnswer};
use junction_light_clients::bitcoin::hub::{
    commitment_script, BitcoinTrustRoot, Network, PacketProof as BitcoinProof,
};
use junction_light_clients::bitcoin::merkle::{build_branch, merkle_root};
use junction_light_clients::bitcoin::testkit as btc;
use junction_light_clients::bitcoin::{sha256d, BlockHeader as BtcHeader, Params};
use junction_light_clients::fabric::hub::{
    commitment_key, FabricTrustRoot, PacketProof as FabricProof,
};
use junction_light_clients::fabric::testkit::{encode_block, hash_of, TestNetwork};
use junction_light_clients::tendermint::hub::{encode_update, TendermintTrustRoot};
use junction_light_clients::tendermint::proof::testkit::store_memberships;
use junction_light_clients::tendermint::testkit as tm;
use junction_light_clients::Timestamp;
use junction_spec::{Decode, Encode, Packet};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tendermint_light_client_verifier::types::LightBlock;
use tokio::sync::Mutex;

/// Most blocks a fixture ledger grows to.
pub const MAX_FIXTURE_BLOCKS: u64 = 100_000;
/// Most packets one fixture ledger commits.
pub const MAX_FIXTURE_PACKETS: usize = 1_000;
/// The store that holds commitments on the Tendermint fixture.
pub const TENDERMINT_STORE: &[u8] = b"junction";
/// The chaincode that writes commitments on the Fabric fixture.
pub const FABRIC_CHAINCODE: &str = "junction";
/// The Tendermint fixture's unbonding period: 21 days.
const UNBONDING_NS: u64 = 21 * 86_400 * 1_000_000_000;

/// What `junction testnet fixture-ledger --spec` reads.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixtureSpec {
    /// `tendermint`, `fabric` or `bitcoin`.
    pub kind: String,
    /// The chain's id on the hub (every packet's source chain).
    pub chain: String,
    /// Seeds the ledger's keys (Tendermint, Fabric) or its chain (Bitcoin); a Bitcoin
    /// fixture's app script is `bitcoin::testkit::app_script(seed)`.
    pub seed: u64,
    /// A new block every this many ms.
    pub block_ms: u64,
    /// The packets (canonical encoding, hex) in commit order.
    pub packets: Vec<String>,
}

/// What the fixture ledger writes to its ready file once it listens.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FixtureReady {
    /// Its JSON-RPC endpoint.
    pub endpoint: String,
    /// The chain's id on the hub.
    pub chain: String,
    /// Its ledger kind.
    pub kind: String,
    /// The trust root a council registers the chain with, hex.
    pub trust_root: String,
}

struct TendermintFixture {
    keys: Vec<ed25519_consensus::SigningKey>,
    /// Signed blocks by height (built when first asked for).
    blocks: BTreeMap<u64, LightBlock>,
}

struct FabricFixture {
    net: TestNetwork,
    /// Blocks by number, from 0 without gaps.
    blocks: Vec<junction_light_clients::fabric::proto::Block>,
}

struct BitcoinBlock {
    header: BtcHeader,
    /// The commitment's proof, for a block that holds one.
    proof: Option<BitcoinProof>,
}

struct BitcoinFixture {
    /// Blocks from height 0 (the checkpoint) without gaps.
    blocks: Vec<BitcoinBlock>,
    app: Vec<u8>,
    seed: u64,
}

/// A packet's key hash and packet hash, as a block commits them.
type Commitment = ([u8; 32], [u8; 32]);

enum Ledger {
    Tendermint(TendermintFixture),
    Fabric(FabricFixture),
    Bitcoin(BitcoinFixture),
}

/// A fixture ledger.
pub struct FixtureLedger {
    chain: String,
    packets: Vec<Packet>,
    /// Height of the first packet's block; packet `i` is at `first + i`.
    first_packet_height: u64,
    /// Height of the trust root; the newest height starts there.
    root_height: u64,
    block_ms: u64,
    started: Instant,
    /// Block `h` of a Tendermint or Fabric fixture is stamped `base_secs + h`: a little in
    /// the past, a second apart, never ahead of the hub's clock.
    base_secs: u64,
    ledger: Ledger,
}

impl std::fmt::Debug for FixtureLedger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FixtureLedger")
            .field("chain", &self.chain)
            .field("kind", &self.kind_name())
            .field("packets", &self.packets.len())
            .finish()
    }
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Why a request to a fixture ledger failed: the message, and `not_committed` when the
/// packet has no commitment at the asked height.
type Refusal = (String, Option<&'static str>);

fn refuse(message: impl Into<String>) -> Refusal {
    (message.into(), None)
}

impl FixtureLedger {
    /// Builds the ledger `spec` describes; the clock of its growth starts now.
    pub fn new(spec: &FixtureSpec) -> eyre::Result<Self> {
        if spec.packets.len() > MAX_FIXTURE_PACKETS {
            return Err(eyre!(
                "{} packets, at most {MAX_FIXTURE_PACKETS}",
                spec.packets.len()
            ));
        }
        if spec.block_ms == 0 {
            return Err(eyre!("block_ms must be positive"));
        }
        let packets = spec
            .packets
            .iter()
            .enumerate()
            .map(|(i, hexed)| {
                let bytes = hex::decode(hexed.trim_start_matches("0x"))
                    .wrap_err_with(|| format!("packet {i} is not hex"))?;
                let p = Packet::from_bytes(&bytes).map_err(|e| eyre!("packet {i}: {e}"))?;
                if p.source_chain.as_str() != spec.chain {
                    return Err(eyre!(
                        "packet {i} is from {}, the ledger is {}",
                        p.source_chain.as_str(),
                        spec.chain
                    ));
                }
                Ok(p)
            })
            .collect::<eyre::Result<Vec<_>>>()?;
        let (ledger, root_height, first_packet_height) = match spec.kind.as_str() {
            "tendermint" => (
                Ledger::Tendermint(TendermintFixture {
                    keys: tm::validator_keys(spec.seed, 4),
                    blocks: BTreeMap::new(),
                }),
                1,
                2,
            ),
            "fabric" => {
                let net = TestNetwork::new(&format!("{}-ch", spec.chain), spec.seed, 2, 3)
                    .map_err(|e| eyre!("fabric test network: {e}"))?;
                let genesis = net.genesis_block();
                (
                    Ledger::Fabric(FabricFixture {
                        net,
                        blocks: vec![genesis],
                    }),
                    0,
                    1,
                )
            }
            "bitcoin" => {
                let app = btc::app_script(spec.seed);
                if let Some(i) = packets.iter().position(|p| p.source_app != app) {
                    return Err(eyre!(
                        "packet {i}'s source app is not the fixture's app script {}",
                        hex::encode(&app)
                    ));
                }
                (
                    Ledger::Bitcoin(BitcoinFixture {
                        blocks: vec![BitcoinBlock {
                            header: btc::regtest_genesis(spec.seed),
                            proof: None,
                        }],
                        app,
                        seed: spec.seed,
                    }),
                    0,
                    1,
                )
            }
            other => {
                return Err(eyre!(
                    "kind {other}: a fixture ledger is tendermint, fabric or bitcoin"
                ))
            }
        };
        Ok(Self {
            chain: spec.chain.clone(),
            packets,
            first_packet_height,
            root_height,
            block_ms: spec.block_ms,
            started: Instant::now(),
            base_secs: now_secs().saturating_sub(600),
            ledger,
        })
    }

    /// The ledger as if it had been growing for `blocks` blocks already (benchmarks and
    /// tests that need its blocks at once).
    pub fn grown(mut self, blocks: u64) -> Self {
        let back = Duration::from_millis(blocks.saturating_mul(self.block_ms));
        if let Some(t) = self.started.checked_sub(back) {
            self.started = t;
        }
        self
    }

    /// The height of the trust root (the client starts there).
    pub fn root_height(&self) -> u64 {
        self.root_height
    }

    /// The height of the block committing packet `i` of the spec.
    pub fn packet_height(&self, i: usize) -> u64 {
        self.first_packet_height.saturating_add(i as u64)
    }

    /// The `UpdateClient` header bytes of block `height`.
    pub fn update_at(&mut self, height: u64) -> eyre::Result<Vec<u8>> {
        let answer = self.header(height).map_err(|(m, _)| eyre!(m))?;
        hex::decode(answer.update).wrap_err("update hex")
    }

    /// The proof of the packet with key hash `key` at `height`: its height and bytes.
    pub fn commitment_proof(&mut self, key: [u8; 32], height: u64) -> eyre::Result<(u64, Vec<u8>)> {
        let answer = self.prove(key, height).map_err(|(m, _)| eyre!(m))?;
        Ok((
            answer.height,
            hex::decode(answer.proof).wrap_err("proof hex")?,
        ))
    }

    fn kind_name(&self) -> &'static str {
        match self.ledger {
            Ledger::Tendermint(_) => "tendermint",
            Ledger::Fabric(_) => "fabric",
            Ledger::Bitcoin(_) => "bitcoin",
        }
    }

    /// The trust root a council registers this ledger with.
    pub fn trust_root(&mut self) -> eyre::Result<Vec<u8>> {
        match &mut self.ledger {
            Ledger::Tendermint(_) => {
                let root = self.root_height;
                let block = self.tendermint_block(root)?;
                TendermintTrustRoot::trusting(
                    &block.signed_header.header,
                    UNBONDING_NS,
                    TENDERMINT_STORE,
                    b"",
                )
                .map(|r| r.to_bytes())
                .map_err(|e| eyre!("tendermint trust root: {e}"))
            }
            Ledger::Fabric(f) => {
                let config_block = f.blocks.first().ok_or_else(|| eyre!("no config block"))?;
                Ok(FabricTrustRoot {
                    config_block: encode_block(config_block),
                    policy: f.net.majority_policy(),
                    chaincode: FABRIC_CHAINCODE.into(),
                    key_prefix: String::new(),
                    time_ms: self.base_secs.saturating_add(600).saturating_mul(1000),
                }
                .to_bytes())
            }
            Ledger::Bitcoin(b) => {
                let genesis = b.blocks.first().ok_or_else(|| eyre!("no checkpoint"))?;
                Ok(BitcoinTrustRoot {
                    network: Network::Regtest,
                    checkpoint: btc::regtest_checkpoint(genesis.header, 0),
                }
                .to_bytes())
            }
        }
    }

    /// A registration of this ledger as the council would vote it: its trust root, a
    /// trusting period the ledger's clock allows (10 years for the Bitcoin fixture, whose
    /// regtest times start in 2023; 14 days otherwise) and `min_confirmations`.
    pub fn registration(
        &mut self,
        min_confirmations: u64,
    ) -> eyre::Result<junction_spec::ChainRegistration> {
        use junction_spec::gov::{Fraction, LightClientParams};
        const DAY_MS: u64 = 86_400_000;
        Ok(junction_spec::ChainRegistration {
            chain_id: junction_spec::ChainId::new(&self.chain).map_err(|e| eyre!("{e}"))?,
            kind: junction_adapters::ledger_rpc::kind_named(self.kind_name())
                .ok_or_else(|| eyre!("kind {}", self.kind_name()))?,
            params: LightClientParams {
                trust_level: Fraction { num: 2, den: 3 },
                trusting_period_ms: match self.ledger {
                    Ledger::Bitcoin(_) => 3_650 * DAY_MS,
                    _ => 14 * DAY_MS,
                },
                max_clock_drift_ms: 10_000,
                min_confirmations,
                threshold: Fraction { num: 2, den: 3 },
            },
            trust_root: self.trust_root()?,
        })
    }

    /// The newest height: one block more every `block_ms` since the start.
    pub fn latest_height(&self) -> u64 {
        let grown = self.started.elapsed().as_millis() / u128::from(self.block_ms);
        self.root_height
            .saturating_add(u64::try_from(grown).unwrap_or(u64::MAX))
            .min(MAX_FIXTURE_BLOCKS)
    }

    fn check_height(&self, height: u64) -> Result<(), Refusal> {
        if height > self.latest_height() {
            return Err(refuse(format!(
                "no block {height} yet (latest {})",
                self.latest_height()
            )));
        }
        Ok(())
    }

    /// The packet committed in block `height`, if any.
    fn packet_at(&self, height: u64) -> Option<(usize, &Packet)> {
        let i = usize::try_from(height.checked_sub(self.first_packet_height)?).ok()?;
        self.packets.get(i).map(|p| (i, p))
    }

    fn tendermint_block(&mut self, height: u64) -> eyre::Result<LightBlock> {
        if let Ledger::Tendermint(t) = &self.ledger {
            if let Some(b) = t.blocks.get(&height) {
                return Ok(b.clone());
            }
        }
        let entries = self.tendermint_entries(height);
        let time = Timestamp::from_secs(self.base_secs.saturating_add(height));
        let Ledger::Tendermint(t) = &mut self.ledger else {
            return Err(eyre!("not a tendermint fixture"));
        };
        let (app_hash, _) = store_memberships(TENDERMINT_STORE, &entries, 1, 4, height)
            .ok_or_else(|| eyre!("store of block {height}"))?;
        let block = tm::signed_light_block(&self.chain, height, time, &t.keys, &t.keys, &app_hash)
            .map_err(|e| eyre!("block {height}: {e}"))?;
        t.blocks.insert(height, block.clone());
        Ok(block)
    }

    /// The store at `height`: a marker of the height, and every commitment made so far.
    fn tendermint_entries(&self, height: u64) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut entries = BTreeMap::new();
        entries.insert(b"height".to_vec(), height.to_be_bytes().to_vec());
        for (i, p) in self.packets.iter().enumerate() {
            if self.packet_height(i) <= height {
                let mut key = b"commitments/".to_vec();
                key.extend_from_slice(&p.key().hash());
                entries.insert(key, p.hash().to_vec());
            }
        }
        entries.into_iter().collect()
    }

    /// Builds Fabric and Bitcoin blocks up to `height` (each links to the one before).
    fn grow_to(&mut self, height: u64) -> eyre::Result<()> {
        let wanted = usize::try_from(height)?.saturating_add(1);
        let commits: Vec<(u64, Option<Commitment>)> = {
            let have = match &self.ledger {
                Ledger::Fabric(f) => f.blocks.len(),
                Ledger::Bitcoin(b) => b.blocks.len(),
                Ledger::Tendermint(_) => return Ok(()),
            };
            (have..wanted)
                .map(|n| {
                    let n = n as u64;
                    (
                        n,
                        self.packet_at(n).map(|(_, p)| (p.key().hash(), p.hash())),
                    )
                })
                .collect()
        };
        for (number, commit) in commits {
            match &mut self.ledger {
                Ledger::Fabric(f) => {
                    let prev = f
                        .blocks
                        .last()
                        .map(hash_of)
                        .ok_or_else(|| eyre!("no block before {number}"))?;
                    let tx_id = format!("fx-tx-{number}");
                    let (key, value) = match commit {
                        Some((key_hash, packet_hash)) => {
                            (commitment_key("", &key_hash), packet_hash.to_vec())
                        }
                        None => ("heartbeat".to_owned(), number.to_be_bytes().to_vec()),
                    };
                    let tx = f
                        .net
                        .endorser_tx(&tx_id, 0, &[0, 1], FABRIC_CHAINCODE, &key, &value);
                    f.blocks.push(f.net.block(number, &prev, vec![tx], &[0, 1]));
                }
                Ledger::Bitcoin(b) => {
                    let prev = b
                        .blocks
                        .last()
                        .map(|x| x.header)
                        .ok_or_else(|| eyre!("no block before {number}"))?;
                    let mut rng = btc::SplitMix::new(b.seed ^ number.wrapping_mul(0x9e37));
                    let filler = btc::synthetic_tx(&mut rng);
                    let mut txids = vec![sha256d(&filler)];
                    let mut committed = None;
                    if let Some((key_hash, packet_hash)) = commit {
                        let prev_tx = btc::raw_tx(&[(rng.hash(), 0)], &[(50_000, b.app.clone())]);
                        let tx = btc::raw_tx(
                            &[(sha256d(&prev_tx), 0)],
                            &[(0, commitment_script(&key_hash, &packet_hash))],
                        );
                        txids.push(sha256d(&tx));
                        committed = Some((tx, prev_tx));
                    }
                    let (root, _) =
                        merkle_root(&txids).ok_or_else(|| eyre!("merkle root of {number}"))?;
                    let header = btc::mine(
                        BtcHeader {
                            version: 4,
                            prev_blockhash: prev.block_hash(),
                            merkle_root: root,
                            time: prev.time.wrapping_add(600),
                            bits: Params::REGTEST.pow_limit_bits,
                            nonce: 0,
                        },
                        &Params::REGTEST,
                    );
                    let proof = match committed {
                        Some((tx, prev_tx)) => Some(BitcoinProof {
                            tx,
                            branch: build_branch(&txids, 1)
                                .ok_or_else(|| eyre!("branch of block {number}"))?,
                            prev_tx,
                        }),
                        None => None,
                    };
                    b.blocks.push(BitcoinBlock { header, proof });
                }
                Ledger::Tendermint(_) => {}
            }
        }
        Ok(())
    }

    fn identity(&self) -> Identity {
        Identity {
            chain: self.chain.clone(),
            kind: self.kind_name().to_owned(),
            sequential_headers: true,
        }
    }

    /// The header at `height` and the bytes of its `UpdateClient` (a Tendermint header is
    /// verified against the block before it; Fabric and Bitcoin headers link to it).
    fn header(&mut self, height: u64) -> Result<HeaderAnswer, Refusal> {
        self.check_height(height)?;
        if height < self.root_height {
            return Err(refuse(format!("block {height} is before the trust root")));
        }
        let fail = |e: eyre::Report| refuse(format!("{e:#}"));
        match self.ledger {
            // The trust root's time, and no update: the client starts there.
            Ledger::Tendermint(_) if height == self.root_height => Ok(HeaderAnswer {
                height,
                time_secs: self.base_secs.saturating_add(height),
                update: String::new(),
            }),
            Ledger::Tendermint(_) => {
                let trusted = self.tendermint_block(height - 1).map_err(fail)?;
                let block = self.tendermint_block(height).map_err(fail)?;
                Ok(HeaderAnswer {
                    height,
                    time_secs: self.base_secs.saturating_add(height),
                    update: hex::encode(encode_update(&tm::header_from(&block, &trusted))),
                })
            }
            Ledger::Fabric(_) | Ledger::Bitcoin(_) => {
                self.grow_to(height).map_err(fail)?;
                let at = height as usize;
                match &self.ledger {
                    Ledger::Fabric(f) => Ok(HeaderAnswer {
                        height,
                        // Fabric blocks carry no signed time; the fixture's clock orders them.
                        time_secs: self.base_secs.saturating_add(height),
                        update: hex::encode(encode_block(
                            f.blocks.get(at).ok_or_else(|| refuse("no block"))?,
                        )),
                    }),
                    Ledger::Bitcoin(b) => {
                        let h = b.blocks.get(at).ok_or_else(|| refuse("no block"))?.header;
                        Ok(HeaderAnswer {
                            height,
                            time_secs: u64::from(h.time),
                            update: hex::encode(h.encode()),
                        })
                    }
                    Ledger::Tendermint(_) => Err(refuse("unreachable kind")),
                }
            }
        }
    }

    fn sent(&self, from: u64, to: u64) -> Vec<SentAnswer> {
        let to = to.min(self.latest_height());
        self.packets
            .iter()
            .enumerate()
            .filter(|(i, _)| (from..=to).contains(&self.packet_height(*i)))
            .map(|(i, p)| SentAnswer {
                packet: hex::encode(p.to_bytes()),
                height: self.packet_height(i),
                tx_hash: hex::encode(p.key().hash()),
            })
            .collect()
    }

    /// The proof of the packet with key hash `key` as committed at `height`: for Tendermint
    /// the store's membership at `height`; for Fabric and Bitcoin the transaction in the
    /// block that holds it (at or below `height`).
    fn prove(&mut self, key: [u8; 32], height: u64) -> Result<ProofAnswer, Refusal> {
        self.check_height(height)?;
        let not_committed = || {
            (
                format!("no commitment of {} at {height}", hex::encode(key)),
                Some("not_committed"),
            )
        };
        let i = self
            .packets
            .iter()
            .position(|p| p.key().hash() == key)
            .ok_or_else(not_committed)?;
        let at = self.packet_height(i);
        if at > height {
            return Err(not_committed());
        }
        let fail = |e: eyre::Report| refuse(format!("{e:#}"));
        match self.ledger {
            Ledger::Tendermint(_) => {
                let entries = self.tendermint_entries(height);
                let mut wanted = b"commitments/".to_vec();
                wanted.extend_from_slice(&key);
                let index = entries
                    .iter()
                    .position(|(k, _)| *k == wanted)
                    .ok_or_else(not_committed)?;
                let (_, proofs) = store_memberships(TENDERMINT_STORE, &entries, 1, 4, height)
                    .ok_or_else(|| refuse("store proof"))?;
                let proof = proofs.get(index).ok_or_else(|| refuse("store proof"))?;
                Ok(ProofAnswer {
                    height,
                    proof: hex::encode(proof),
                })
            }
            Ledger::Fabric(_) | Ledger::Bitcoin(_) => {
                self.grow_to(at).map_err(fail)?;
                let proof = match &self.ledger {
                    Ledger::Fabric(f) => {
                        let tx_id = format!("fx-tx-{at}");
                        let block = f
                            .blocks
                            .get(at as usize)
                            .ok_or_else(|| refuse("no block"))?;
                        FabricProof {
                            attestations: [0, 2]
                                .iter()
                                .filter_map(|org| f.net.attest(*org, at, &tx_id, 0))
                                .collect(),
                            tx_id,
                            block: encode_block(block),
                        }
                        .to_bytes()
                    }
                    Ledger::Bitcoin(b) => b
                        .blocks
                        .get(at as usize)
                        .and_then(|x| x.proof.as_ref())
                        .ok_or_else(|| refuse("no commitment transaction"))?
                        .to_bytes(),
                    Ledger::Tendermint(_) => return Err(refuse("unreachable kind")),
                };
                Ok(ProofAnswer {
                    height: at,
                    proof: hex::encode(proof),
                })
            }
        }
    }

    /// Answers one JSON-RPC call.
    fn answer(&mut self, method: &str, params: &Value) -> Result<Value, Refusal> {
        let u64_param = |name: &str| {
            params
                .get(name)
                .and_then(Value::as_u64)
                .ok_or_else(|| refuse(format!("{method}: missing {name}")))
        };
        let to_value = |v: Result<Value, serde_json::Error>| v.map_err(|e| refuse(e.to_string()));
        match method {
            "ledger_identity" => to_value(serde_json::to_value(self.identity())),
            "ledger_latestHeight" => Ok(json!(self.latest_height())),
            "ledger_header" => {
                let h = self.header(u64_param("height")?)?;
                to_value(serde_json::to_value(h))
            }
            "ledger_sentPackets" => {
                let sent = self.sent(u64_param("from")?, u64_param("to")?);
                to_value(serde_json::to_value(sent))
            }
            "ledger_pendingPackets" => {
                let sent = self.sent(0, u64::MAX);
                to_value(serde_json::to_value(sent))
            }
            "ledger_proveCommitment" => {
                let key: [u8; 32] = params
                    .get("key")
                    .and_then(Value::as_str)
                    .and_then(|s| hex::decode(s.trim_start_matches("0x")).ok())
                    .and_then(|b| b.try_into().ok())
                    .ok_or_else(|| refuse("ledger_proveCommitment: key is not 32 bytes of hex"))?;
                let p = self.prove(key, u64_param("height")?)?;
                to_value(serde_json::to_value(p))
            }
            other => Err(refuse(format!("unknown method {other}"))),
        }
    }
}

async fn handle(
    State(ledger): State<Arc<Mutex<FixtureLedger>>>,
    Json(call): Json<Value>,
) -> Json<Value> {
    let id = call.get("id").cloned().unwrap_or(Value::Null);
    let method = call.get("method").and_then(Value::as_str).unwrap_or("");
    let params = call.get("params").cloned().unwrap_or(Value::Null);
    let answer = ledger.lock().await.answer(method, &params);
    Json(match answer {
        Ok(result) => json!({"jsonrpc": "2.0", "id": id, "result": result}),
        Err((message, data)) => json!({
            "jsonrpc": "2.0",
            "id": id,
            "error": {"code": -32000, "message": message, "data": data},
        }),
    })
}

/// `junction testnet fixture-ledger`: builds the ledger `spec` describes, listens on
/// `listen` (127.0.0.1 only), writes [`FixtureReady`] to `ready` and serves until stopped.
pub async fn serve(
    spec: &std::path::Path,
    listen: SocketAddr,
    ready: &std::path::Path,
) -> eyre::Result<()> {
    if !listen.ip().is_loopback() {
        return Err(eyre!("a fixture ledger listens on 127.0.0.1 only"));
    }
    let text =
        std::fs::read_to_string(spec).wrap_err_with(|| format!("reading {}", spec.display()))?;
    let spec: FixtureSpec =
        serde_json::from_str(&text).wrap_err_with(|| format!("parsing {}", spec.display()))?;
    let mut ledger = FixtureLedger::new(&spec)?;
    let trust_root = ledger.trust_root()?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .wrap_err("binding the fixture ledger")?;
    let endpoint = format!("http://{}", listener.local_addr()?);
    let info = FixtureReady {
        endpoint,
        chain: spec.chain.clone(),
        kind: spec.kind.clone(),
        trust_root: hex::encode(trust_root),
    };
    // Written whole under another name, then renamed: a reader never sees half of it.
    let tmp = ready.with_extension("tmp");
    std::fs::write(&tmp, serde_json::to_vec_pretty(&info)?)?;
    std::fs::rename(&tmp, ready)?;
    let app = Router::new()
        .route("/", post(handle))
        .with_state(Arc::new(Mutex::new(ledger)));
    axum::serve(listener, app).await?;
    Ok(())
}

/// Waits up to `timeout` for a fixture ledger's ready file.
pub fn wait_ready(ready: &std::path::Path, timeout: Duration) -> eyre::Result<FixtureReady> {
    let start = Instant::now();
    loop {
        if let Ok(text) = std::fs::read_to_string(ready) {
            return serde_json::from_str(&text).wrap_err("parsing the ready file");
        }
        if start.elapsed() > timeout {
            return Err(eyre!("no ready file {} after {timeout:?}", ready.display()));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use junction_spec::{ChainId, Timeout};

    fn packet(chain: &str, app: &[u8], sequence: u64) -> Packet {
        Packet {
            version: Packet::VERSION,
            source_chain: ChainId::new(chain).unwrap(),
            source_app: app.to_vec(),
            sequence,
            dest_chain: ChainId::new("evm-a").unwrap(),
            dest_app: vec![2; 20],
            payload: vec![7; 8],
            timeout: Timeout::default(),
            gas_limit: 100_000,
            fee: 0,
        }
    }

    fn ledger(kind: &str, app: &[u8]) -> (FixtureLedger, Vec<Packet>) {
        let packets: Vec<Packet> = (1..=3).map(|s| packet("fx", app, s)).collect();
        let spec = FixtureSpec {
            kind: kind.into(),
            chain: "fx".into(),
            seed: 5,
            block_ms: 1_000,
            packets: packets.iter().map(|p| hex::encode(p.to_bytes())).collect(),
        };
        (FixtureLedger::new(&spec).unwrap(), packets)
    }

    /// Every kind's headers and proofs are taken by the hub's light client of that kind:
    /// the fixture's clients follow each header from the trust root and verify every
    /// packet's proof; a packet asked before its block is `not_committed`.
    #[test]
    fn each_fixture_kind_serves_headers_and_proofs_its_light_client_accepts() {
        use junction_hub_app::clients::AnyClient;
        for kind in ["tendermint", "fabric", "bitcoin"] {
            let app = if kind == "bitcoin" {
                btc::app_script(5)
            } else {
                b"app".to_vec()
            };
            let (l, packets) = ledger(kind, &app);
            let mut l = l.grown(12);
            let reg = l.registration(3).unwrap();
            let now = Timestamp::from_secs(now_secs());
            let mut client = AnyClient::from_registration(&reg).unwrap();
            let latest = l.latest_height();
            assert!(latest >= 8, "{kind}: {latest}");
            let first = l.first_packet_height;
            // Not yet in its block.
            let early = l.prove(packets[2].key().hash(), first + 1).unwrap_err();
            assert_eq!(early.1, Some("not_committed"), "{kind}");
            for h in l.root_height + 1..=first + 5 {
                let update = hex::decode(l.header(h).unwrap().update).unwrap();
                let applied = client
                    .update(&update, now)
                    .unwrap_or_else(|e| unreachable!("{kind}: update {h}: {e:?}"));
                assert_eq!(applied, h, "{kind}");
            }
            for p in &packets {
                let proof = l.prove(p.key().hash(), first + 5).unwrap();
                client
                    .verify_packet_slot(
                        proof.height,
                        &hex::decode(&proof.proof).unwrap(),
                        junction_hub_app::clients::PacketSlot::Commitment,
                        &p.key().hash(),
                        Some(&p.hash()),
                        &p.source_app,
                    )
                    .unwrap_or_else(|e| unreachable!("{kind}: packet {}: {e:?}", p.sequence));
            }
        }
    }
}
