//! The message path on real processes: 4 hub validators, two anvil chains with gateways
//! and the sample escrow app, chains/relayer/routes registered by council vote, and the
//! `junction relay` process. Loopback only.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use alloy::primitives::{Address, U256};
use junction_adapters::evm::adapter::EvmAdapter;
use junction_adapters::evm::gateway::{CheckpointProof, EntryProof, TokenEscrow};
use junction_adapters::Adapter;
use junction_devtools::evmnet::{self, EvmNet, EvmNetOptions, Lifecycle, Sent};
use junction_hub::config::KeyFile;
use junction_hub::context::PrivateKey;
use junction_spec::attestation::AttestationSet;
use junction_spec::gov::{ProposalKind, RateLimit};
use junction_spec::{Checkpoint, Decode, Encode, LogEntry, RelayMsg, Timeout, TxKind};
use junction_tests::{junction_bin, spawn_logged, Net};
use serde_json::{json, Value};

struct Env {
    net: Net,
    evm: EvmNet,
    rt: tokio::runtime::Runtime,
    relayer: Option<Child>,
    second_relayer: Option<Child>,
    /// Attester processes (`junction attester start`), when the setup put their
    /// configurations apart from the nodes.
    attesters: Vec<Option<Child>>,
    /// The attesters run as their own processes, started with the relayer.
    attesters_apart: bool,
}

fn setup(base_port: u16, ordered: bool) -> Option<Env> {
    setup_with(
        base_port,
        EvmNetOptions {
            ordered,
            ..Default::default()
        },
    )
}

fn setup_with(base_port: u16, opts: EvmNetOptions) -> Option<Env> {
    if junction_adapters::evm::anvil::anvil_binary().is_none() {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "CI=true and no anvil binary: scripts/setup-evm.sh installs it"
        );
        eprintln!("SKIPPED: no anvil binary; run scripts/setup-evm.sh (CI does)");
        return None;
    }
    let mut net = Net::init(4, base_port);
    net.start_all();
    net.wait_height(0, 2, Duration::from_secs(60));
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = net.dir.path().join("net");
    let evm = rt.block_on(evmnet::setup(&dir, &opts)).unwrap();
    let attesters_apart = !opts.attesters_in_nodes;
    Some(Env {
        net,
        evm,
        rt,
        relayer: None,
        second_relayer: None,
        attesters: Vec::new(),
        attesters_apart,
    })
}

impl Env {
    /// Starts the relayer (and the attesters, when they run apart and are not running:
    /// without them no attested client moves).
    fn start_relayer(&mut self) {
        assert!(self.relayer.is_none());
        if self.attesters_apart {
            self.start_attesters();
        }
        let toml = &self.evm.relayer_toml;
        self.relayer = Some(spawn_logged(
            &["relay", "--config", toml.to_str().unwrap()],
            &toml.with_file_name("relayer.log"),
        ));
    }

    /// Starts attester `i` as its own process (its configuration was put apart from the
    /// nodes: `attesters_in_nodes: false`).
    fn start_attester(&mut self, i: usize) {
        let config = self.evm.attester_configs[i].clone();
        if self.attesters.len() <= i {
            self.attesters.resize_with(i + 1, || None);
        }
        assert!(self.attesters[i].is_none(), "attester {i} runs already");
        self.attesters[i] = Some(spawn_logged(
            &["attester", "start", "--config", config.to_str().unwrap()],
            &config.with_file_name("attester.log"),
        ));
    }

    fn start_attesters(&mut self) {
        for i in 0..self.evm.attester_configs.len() {
            if self.attesters.get(i).is_none_or(Option::is_none) {
                self.start_attester(i);
            }
        }
    }

    /// SIGKILLs attester `i`.
    fn kill_attester(&mut self, i: usize) {
        if let Some(mut c) = self.attesters.get_mut(i).and_then(Option::take) {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    fn kill_attesters(&mut self) {
        for i in 0..self.attesters.len() {
            self.kill_attester(i);
        }
    }

    /// Starts the second registered relayer, racing the first.
    fn start_second_relayer(&mut self) {
        assert!(self.second_relayer.is_none());
        let toml = &self.evm.second_relayer_toml;
        self.second_relayer = Some(spawn_logged(
            &["relay", "--config", toml.to_str().unwrap()],
            &toml.with_file_name("relayer.log"),
        ));
    }

    fn kill_relayer(&mut self) {
        if let Some(mut c) = self.relayer.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    fn relayer_log(&self) -> String {
        let text = std::fs::read_to_string(self.evm.relayer_toml.with_file_name("relayer.log"))
            .unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    fn relayer_key(&self) -> PrivateKey {
        KeyFile::load(&self.evm.relayer_toml.with_file_name("key.json"))
            .unwrap()
            .private_key()
            .unwrap()
    }

    fn adapter(&self, id: &str) -> EvmAdapter {
        self.rt.block_on(self.evm.adapter(id)).unwrap()
    }

    fn send(
        &self,
        from: &str,
        to: &str,
        recipient: Address,
        amount: u64,
        timeout: Timeout,
    ) -> Sent {
        self.rt
            .block_on(self.evm.escrow_send(from, to, recipient, amount, timeout))
            .unwrap()
    }

    fn far(&self, chain: &str) -> Timeout {
        Timeout {
            height: 0,
            time_ms: self.rt.block_on(self.evm.time_ms(chain)).unwrap() + 3_600_000,
        }
    }

    fn lifecycle(&self, sent: &Sent, src: &str, dst: &str) -> Lifecycle {
        let rpc = junction_rpc::RpcClient::new(self.evm.hub_rpc.clone());
        let (a, b) = (self.adapter(src), self.adapter(dst));
        self.rt
            .block_on(evmnet::lifecycle(&rpc, &a, &b, sent))
            .unwrap()
    }

    /// Waits until the source app got an outcome; returns the lifecycle.
    fn wait_outcome(&self, sent: &Sent, src: &str, dst: &str, limit: Duration) -> Lifecycle {
        let start = Instant::now();
        loop {
            let l = self.lifecycle(sent, src, dst);
            if l.outcome.is_some() {
                return l;
            }
            assert!(
                start.elapsed() < limit,
                "no outcome for sequence {} within {limit:?}: {l:?}\nrelayer log:\n{}",
                sent.packet.sequence,
                self.relayer_log()
            );
            std::thread::sleep(Duration::from_millis(300));
        }
    }

    fn balance(&self, chain: &str, who: Address) -> U256 {
        self.balance_in(chain, self.evm.chain(chain).unwrap().escrow, who)
    }

    /// `who`'s balance in the escrow contract `app` on `chain`.
    fn balance_in(&self, chain: &str, app: Address, who: Address) -> U256 {
        let c = self.evm.chain(chain).unwrap();
        let p = evmnet::provider(
            &c.anvil.endpoint(),
            junction_adapters::evm::anvil::DEV_KEY_0,
        )
        .unwrap();
        self.rt
            .block_on(async { TokenEscrow::new(app, &p).balanceOf(who).call().await })
            .unwrap()
    }

    /// Signs `msgs` as a relay transaction with `key` and submits it (commit mode); the
    /// JSON-RPC result or error object.
    fn relay(&self, key: &PrivateKey, msgs: Vec<RelayMsg>) -> Result<Value, Value> {
        self.submit(key, TxKind::Relay { msgs })
    }

    /// Signs a transaction of `kind` with `key` and submits it (commit mode).
    fn submit(&self, key: &PrivateKey, kind: TxKind) -> Result<Value, Value> {
        let addr = junction_spec::address_from_ed25519(key.public_key().as_bytes());
        let nonce = self
            .net
            .rpc(0, "account", json!({"address": hex::encode(addr)}))
            .unwrap()["next_nonce"]
            .as_u64()
            .unwrap();
        let tx = junction_keys::sign_tx(key, &self.net.chain_id(), nonce, kind);
        let v = self
            .net
            .rpc_raw(
                0,
                "broadcast_tx",
                json!({"tx": hex::encode(tx.to_bytes()), "mode": "commit"}),
            )
            .unwrap();
        match v.get("error") {
            Some(e) => Err(e.clone()),
            None => Ok(v["result"].clone()),
        }
    }

    /// A client update of `chain` to its latest block (waiting for a block whose time is
    /// after the hub client's latest), and that height.
    fn update(&self, chain: &str) -> (RelayMsg, u64) {
        let a = self.adapter(chain);
        let hub_ts = self
            .net
            .rpc(0, "client_state", json!({"chain": chain}))
            .unwrap()["latest_timestamp"]
            .as_u64()
            .unwrap_or(0);
        let start = Instant::now();
        loop {
            let h = self.rt.block_on(a.latest_height()).unwrap();
            let header = self.rt.block_on(a.attested_header(h)).unwrap();
            if header.timestamp > hub_ts {
                let bytes = self.rt.block_on(a.header_update(h)).unwrap();
                return (
                    RelayMsg::UpdateClient {
                        chain: junction_spec::ChainId::new(chain).unwrap(),
                        header: bytes,
                    },
                    h,
                );
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "{chain} makes no blocks"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn hub_events_named(&self, kind: &str) -> Vec<Value> {
        let tip = self.net.height(0).unwrap();
        let mut out = Vec::new();
        for h in 1..=tip {
            if let Some(v) = self.net.rpc(0, "block_events", json!({"height": h})) {
                for e in v["events"].as_array().cloned().unwrap_or_default() {
                    if e["kind"] == kind {
                        out.push(e);
                    }
                }
            }
        }
        out
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        self.kill_relayer();
        self.kill_attesters();
        if let Some(mut c) = self.second_relayer.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A `RegisterChain` proposal for `chain` of `kind`: trust level and threshold 2/3, 10 s of
/// clock drift, the trusting period and confirmations given.
fn register_chain(
    chain: &junction_spec::ChainId,
    kind: junction_spec::LedgerKind,
    trusting_period_ms: u64,
    min_confirmations: u64,
    trust_root: Vec<u8>,
) -> ProposalKind {
    ProposalKind::RegisterChain(junction_spec::ChainRegistration {
        chain_id: chain.clone(),
        kind,
        params: junction_spec::gov::LightClientParams {
            trust_level: junction_spec::gov::Fraction { num: 2, den: 3 },
            trusting_period_ms,
            max_clock_drift_ms: 10_000,
            min_confirmations,
            threshold: junction_spec::gov::Fraction { num: 2, den: 3 },
        },
        trust_root,
    })
}

fn error_name(e: &Value) -> String {
    e.pointer("/data/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// The packet entry of `sent` as the hub logged it, proven under the latest checkpoint.
fn entry_proof(env: &Env, sent: &Sent) -> (CheckpointProof, EntryProof) {
    let cp = env.net.rpc(0, "checkpoint", json!({})).unwrap();
    let checkpoint =
        Checkpoint::from_bytes(&hex::decode(cp["checkpoint_hex"].as_str().unwrap()).unwrap())
            .unwrap();
    let set = AttestationSet::from_bytes(
        &hex::decode(cp["attestation_set_hex"].as_str().unwrap()).unwrap(),
    )
    .unwrap();
    let signatures = cp["signatures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| <[u8; 65]>::try_from(hex::decode(s.as_str().unwrap()).unwrap()).unwrap())
        .collect();
    let key = hex::encode(sent.packet.key().hash());
    let show = env.net.rpc(0, "packet_show", json!({"key": key})).unwrap();
    let index = show["packet_index"].as_u64().unwrap();
    let p = env
        .net
        .rpc(
            0,
            "log_proof",
            json!({"index": index, "tree_size": checkpoint.log_size}),
        )
        .unwrap();
    let entry =
        LogEntry::from_bytes(&hex::decode(p["entry_hex"].as_str().unwrap()).unwrap()).unwrap();
    let proof = p["proof"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| <[u8; 32]>::try_from(hex::decode(h.as_str().unwrap()).unwrap()).unwrap())
        .collect();
    (
        CheckpointProof {
            checkpoint,
            signatures,
            attestation_set: Some(set),
            next_set: None,
        },
        EntryProof {
            entry,
            index,
            proof,
        },
    )
}

/// A → B and B → A delivered and acked; the unordered route takes packets in any order;
/// the hub and the gateway each refuse a second delivery by name and the app runs once;
/// forged hub input is refused by name and counted.
#[test]
fn round_trips_exactly_once_and_forged_input() {
    // The test relays by hand first, moving the clients with headers it signs as the
    // members; the attesters start with the relayer.
    let Some(mut env) = setup_with(
        11_800,
        EvmNetOptions {
            attesters_in_nodes: false,
            ..Default::default()
        },
    ) else {
        return;
    };
    let recipient = Address::repeat_byte(0x42);
    let t = env.far("evm-b");
    let sent = env.send("evm-a", "evm-b", recipient, 100, t);

    // Relay it by hand first: updates and the proof in one transaction.
    let key = env.relayer_key();
    let (upd_a, h_a) = env.update("evm-a");
    let (upd_b, _) = env.update("evm-b");
    let a = env.adapter("evm-a");
    let proof = env
        .rt
        .block_on(a.prove_commitment(&sent.packet, h_a))
        .unwrap();
    let recv = RelayMsg::RecvPacket {
        packet: sent.packet.clone(),
        proof: proof.clone(),
    };
    env.relay(&key, vec![upd_a, upd_b, recv.clone()]).unwrap();
    let show = env
        .net
        .rpc(
            0,
            "packet_show",
            json!({"key": hex::encode(sent.packet.key().hash())}),
        )
        .unwrap();
    assert_eq!(show["state"], "pending", "{show}");

    // The same packet again: refused at admission, by name.
    let e = env.relay(&key, vec![recv.clone()]).unwrap_err();
    assert_eq!(error_name(&e), "already_received", "{e}");

    // A packet that differs from the committed one (same key, other payload): the proof
    // shows another value under its slot.
    let mut forged = sent.packet.clone();
    forged.payload[95] ^= 1;
    let e = env
        .relay(
            &key,
            vec![RelayMsg::RecvPacket {
                packet: forged.clone(),
                proof: proof.clone(),
            }],
        )
        .unwrap_err();
    assert_eq!(error_name(&e), "value_mismatch", "{e}");

    // A packet never sent (next sequence): its slot is empty.
    let mut absent = sent.packet.clone();
    absent.sequence += 1;
    let e = env
        .relay(
            &key,
            vec![RelayMsg::RecvPacket {
                packet: absent,
                proof: proof.clone(),
            }],
        )
        .unwrap_err();
    assert!(
        ["node_hash_mismatch", "extra_node", "key_mismatch"].contains(&error_name(&e).as_str()),
        "{e}"
    );

    // The right proof claimed at a later height: another send changed the gateway's
    // storage, so the state root there differs.
    let t = env.far("evm-b");
    let sent2 = env.send("evm-a", "evm-b", recipient, 7, t);
    let (upd_a2, h_a2) = env.update("evm-a");
    assert!(h_a2 >= sent2.height);
    env.relay(&key, vec![upd_a2]).unwrap();
    let e = env
        .relay(
            &key,
            vec![RelayMsg::RecvPacket {
                packet: sent.packet.clone(),
                proof: junction_spec::SourceProof {
                    height: h_a2,
                    proof: proof.proof.clone(),
                },
            }],
        )
        .unwrap_err();
    assert_eq!(error_name(&e), "root_mismatch", "{e}");

    // The route is unordered: a later packet is taken while an earlier one (sent2) has
    // not reached the hub.
    let t = env.far("evm-b");
    let sent3 = env.send("evm-a", "evm-b", recipient, 3, t);
    assert_eq!(sent3.packet.sequence, sent2.packet.sequence + 1);
    let (upd_a3, h_a3) = env.update("evm-a");
    let proof3 = env
        .rt
        .block_on(a.prove_commitment(&sent3.packet, h_a3))
        .unwrap();
    env.relay(
        &key,
        vec![
            upd_a3,
            RelayMsg::RecvPacket {
                packet: sent3.packet.clone(),
                proof: proof3,
            },
        ],
    )
    .unwrap();
    let unseen = env
        .net
        .rpc_raw(
            0,
            "packet_show",
            json!({"key": hex::encode(sent2.packet.key().hash())}),
        )
        .unwrap();
    assert_eq!(error_name(&unseen["error"]), "not_found", "{unseen}");
    assert_eq!(env.hub_steps(&sent3)[0]["action"], "packet_logged");

    // A relay transaction from an account the council never registered.
    let outsider = junction_tests::account(77);
    let e = env.relay(&outsider, vec![recv]).unwrap_err();
    assert_eq!(error_name(&e), "unregistered_relayer", "{e}");
    assert!(
        env.net
            .metric(0, "junction_rejected_txs_total", "unregistered_relayer")
            >= 1.0
    );
    assert!(
        env.net
            .metric(0, "junction_rejected_txs_total", "already_received")
            >= 1.0
    );

    // `junction attest`: a member's attester key signs a header the attested client
    // accepts from that attester.
    let key_path = std::path::PathBuf::from(
        junction_attester::AttesterConfig::load(&env.evm.attester_configs[0])
            .unwrap()
            .attester_key_file,
    );
    let endpoint = env.evm.chain("evm-a").unwrap().anvil.endpoint();
    let (ok, out) = junction_tests::run_cli(&[
        "attest",
        "--rpc",
        &endpoint,
        "--evm-chain-id",
        "31337",
        "--key-file",
        key_path.to_str().unwrap(),
    ]);
    assert!(ok, "{out}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let h32 = |k: &str| <[u8; 32]>::try_from(hex::decode(v[k].as_str().unwrap()).unwrap()).unwrap();
    let header = junction_light_clients::evm::attested::AttestedHeader {
        chain_id: 31_337,
        number: v["number"].as_u64().unwrap(),
        hash: h32("hash"),
        parent_hash: h32("parent_hash"),
        state_root: h32("state_root"),
        receipts_root: h32("receipts_root"),
        timestamp: v["timestamp"].as_u64().unwrap(),
    };
    let signer = <[u8; 20]>::try_from(
        hex::decode(v["attester"].as_str().unwrap().trim_start_matches("0x")).unwrap(),
    )
    .unwrap();
    let signature =
        <[u8; 65]>::try_from(hex::decode(v["signature"].as_str().unwrap()).unwrap()).unwrap();
    let set = junction_light_clients::evm::attested::AttesterSet::new(vec![signer], 1).unwrap();
    assert_eq!(set.verify(&header, &[signature]).unwrap(), vec![signer]);

    // The relayer takes it from here: delivery to B, ack back to A.
    env.start_relayer();
    let l = env.wait_outcome(&sent, "evm-a", "evm-b", Duration::from_secs(90));
    assert_eq!(
        l.outcome.as_ref().map(|o| o.0.as_str()),
        Some("ack"),
        "{l:?}"
    );
    assert_eq!(l.delivered.map(|d| d.1), Some(true));
    assert_eq!(l.hub_state.as_deref(), Some("ack"));

    // B → A as well.
    let t = env.far("evm-a");
    let back = env.send("evm-b", "evm-a", recipient, 40, t);
    let l = env.wait_outcome(&back, "evm-b", "evm-a", Duration::from_secs(90));
    assert_eq!(
        l.outcome.as_ref().map(|o| o.0.as_str()),
        Some("ack"),
        "{l:?}"
    );
    assert_eq!(env.balance("evm-a", recipient), U256::from(40));

    // The gateway refuses the same delivery again by name; the app ran once.
    let (cp, entry) = entry_proof(&env, &sent);
    let b = env.adapter("evm-b");
    let e = env.rt.block_on(b.deliver(&cp, &[entry])).unwrap_err();
    assert_eq!(e.revert_name(), Some("AlreadyDelivered"), "{e}");
    let receipts = env
        .rt
        .block_on(b.receipts(0, env.rt.block_on(b.latest_height()).unwrap()))
        .unwrap();
    assert_eq!(
        receipts
            .iter()
            .filter(|r| r.key == sent.packet.key().hash())
            .count(),
        1
    );
    let l = env.wait_outcome(&sent2, "evm-a", "evm-b", Duration::from_secs(60));
    assert_eq!(
        l.outcome.as_ref().map(|o| o.0.as_str()),
        Some("ack"),
        "{l:?}"
    );
    let l = env.wait_outcome(&sent3, "evm-a", "evm-b", Duration::from_secs(60));
    assert_eq!(
        l.outcome.as_ref().map(|o| o.0.as_str()),
        Some("ack"),
        "{l:?}"
    );
    // Each app ran once: 100 + 7 + 3 minted on B, nothing twice.
    assert_eq!(env.balance("evm-b", recipient), U256::from(110));
    let logged = env.hub_events_named("packet/packet_logged");
    assert_eq!(logged.len(), 4, "{logged:?}");
    let acked = env.hub_events_named("packet/ack_logged");
    assert_eq!(acked.len(), 4, "{acked:?}");
}

impl Env {
    /// Waits until chain `id`'s latest block time is at or past `time_ms`.
    fn wait_time(&self, id: &str, time_ms: u64) {
        let start = Instant::now();
        while self.rt.block_on(self.evm.time_ms(id)).unwrap() < time_ms {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "{id} time stands still"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn user(&self) -> Address {
        "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
            .parse()
            .unwrap()
    }

    fn outcomes_for(&self, chain: &str, sent: &Sent) -> usize {
        let a = self.adapter(chain);
        let latest = self.rt.block_on(a.latest_height()).unwrap();
        self.rt
            .block_on(a.outcomes(0, latest))
            .unwrap()
            .iter()
            .filter(|o| o.key == sent.packet.key().hash())
            .count()
    }

    /// Waits for `sent`'s outcome at the source and checks its kind; for an error-ack,
    /// also that the hub's first step was that error-ack with `reason` and that the
    /// destination app never ran.
    fn expect_outcome(&self, sent: &Sent, src: &str, dst: &str, kind: &str, reason: &str) {
        let l = self.wait_outcome(sent, src, dst, Duration::from_secs(60));
        assert_eq!(
            l.outcome.as_ref().map(|o| o.0.as_str()),
            Some(kind),
            "{l:?}"
        );
        if kind == "error_ack" {
            assert_eq!(l.delivered, None, "{l:?}");
            let steps = self.hub_steps(sent);
            assert_eq!(steps[0]["action"], "error_ack_logged", "{steps:?}");
            assert_eq!(steps[0]["reason"], reason, "{steps:?}");
        }
    }

    /// Proves `sent` (from evm-a to evm-b) to the hub by hand, as the relayer: both
    /// clients updated and the packet received in one transaction.
    fn recv_by_hand(&self, sent: &Sent) {
        let key = self.relayer_key();
        let (upd_a, h_a) = self.update("evm-a");
        let (upd_b, _) = self.update("evm-b");
        let proof = self
            .rt
            .block_on(self.adapter("evm-a").prove_commitment(&sent.packet, h_a))
            .unwrap();
        let recv = RelayMsg::RecvPacket {
            packet: sent.packet.clone(),
            proof,
        };
        self.relay(&key, vec![upd_a, upd_b, recv]).unwrap();
    }

    /// Passes `kinds` by an expedited council vote.
    fn pass(&self, kinds: Vec<ProposalKind>) {
        let members = evmnet::member_keys(&self.net.dir.path().join("net")).unwrap();
        let rpc = junction_rpc::RpcClient::new(self.evm.hub_rpc.clone());
        self.rt
            .block_on(evmnet::pass_proposals(
                &rpc,
                &members,
                &self.evm.hub_chain_id,
                kinds,
            ))
            .unwrap();
    }

    /// The hub's `client_state` of `chain` (node 0).
    fn client_state(&self, chain: &str) -> Value {
        self.net
            .rpc(0, "client_state", json!({"chain": chain}))
            .unwrap()
    }

    /// Waits for `sent` to be acked and checks that `recipient` holds `amount` on `dst`.
    fn expect_delivered(&self, sent: &Sent, src: &str, dst: &str, recipient: Address, amount: u64) {
        let l = self.wait_outcome(sent, src, dst, Duration::from_secs(90));
        assert_eq!(
            l.outcome.as_ref().map(|o| o.0.as_str()),
            Some("ack"),
            "{l:?}"
        );
        assert_eq!(self.balance(dst, recipient), U256::from(amount));
    }

    fn hub_steps(&self, sent: &Sent) -> Vec<Value> {
        let show = self
            .net
            .rpc(
                0,
                "packet_show",
                json!({"key": hex::encode(sent.packet.key().hash())}),
            )
            .unwrap();
        show["hub_steps"].as_array().cloned().unwrap_or_default()
    }
}

/// On ordered routes: a withheld packet times out at the source exactly once (refund)
/// and the next packet still flows; a `RecvPacket` that reaches the hub after the
/// destination's deadline is timed out directly; a packet ahead of its turn is refused by
/// name; a packet on a paused or closed route, over the payload cap or from an app the
/// policy does not name gets a final error-ack with that reason (refund), and the next
/// packet on the channel still flows; one over the rate limit waits and times out.
#[test]
fn timeouts_and_policy_error_acks_on_an_ordered_route() {
    // Some packets are relayed by hand, with headers the test signs as the members: the
    // attesters run apart, with the relayer.
    let Some(mut env) = setup_with(
        11_900,
        EvmNetOptions {
            ordered: true,
            attesters_in_nodes: false,
            ..Default::default()
        },
    ) else {
        return;
    };
    let user = env.user();
    let recipient = Address::repeat_byte(0x24);
    let start_balance = env.balance("evm-a", user);

    // Withheld past its deadline (no relayer), then relayed: timeout, refund.
    let deadline = env.rt.block_on(env.evm.time_ms("evm-b")).unwrap() + 2_500;
    let p1 = env.send(
        "evm-a",
        "evm-b",
        recipient,
        10,
        Timeout {
            height: 0,
            time_ms: deadline,
        },
    );
    assert_eq!(env.balance("evm-a", user), start_balance - U256::from(10));
    env.wait_time("evm-b", deadline);
    // The attesters move both clients past the send and the deadline before the relayer
    // looks: it then proves the missing receipt (rule (b)) instead of racing the
    // destination's client with the packet (which rule (a) would time out).
    env.start_attesters();
    let start = Instant::now();
    loop {
        let (a, b) = (env.client_state("evm-a"), env.client_state("evm-b"));
        let b_ms = b["latest_timestamp"]
            .as_u64()
            .unwrap_or(0)
            .saturating_mul(1000);
        if a["latest_height"].as_u64().unwrap_or(0) >= p1.height && b_ms >= deadline {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "attesters did not move the clients: {a} {b}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    env.start_relayer();
    let l = env.wait_outcome(&p1, "evm-a", "evm-b", Duration::from_secs(60));
    assert_eq!(
        l.outcome.as_ref().map(|o| o.0.as_str()),
        Some("timeout"),
        "{l:?}"
    );
    assert_eq!(
        l.delivered, None,
        "a timed-out packet never reaches the app"
    );
    assert_eq!(env.balance("evm-a", user), start_balance);
    let steps = env.hub_steps(&p1);
    assert_eq!(steps[0]["action"], "timeout_logged", "{steps:?}");
    assert_eq!(steps[0]["reason"], "timeout_unreceived", "{steps:?}");

    // The next packet on the ordered route still flows (the hub logged a sequence skip).
    let t = env.far("evm-b");
    let p2 = env.send("evm-a", "evm-b", recipient, 20, t);
    assert_eq!(p2.packet.sequence, p1.packet.sequence + 1);
    let l = env.wait_outcome(&p2, "evm-a", "evm-b", Duration::from_secs(60));
    assert_eq!(
        l.outcome.as_ref().map(|o| o.0.as_str()),
        Some("ack"),
        "{l:?}"
    );
    assert_eq!(env.balance("evm-b", recipient), U256::from(20));
    assert_eq!(env.hub_events_named("packet/sequence_skip_logged").len(), 1);

    // Rule (a): the proof reaches the hub after the destination's deadline.
    env.kill_relayer();
    env.kill_attesters();
    let deadline = env.rt.block_on(env.evm.time_ms("evm-b")).unwrap() + 2_500;
    let p3 = env.send(
        "evm-a",
        "evm-b",
        recipient,
        30,
        Timeout {
            height: 0,
            time_ms: deadline,
        },
    );
    env.wait_time("evm-b", deadline);
    env.recv_by_hand(&p3);
    let key = env.relayer_key();
    let steps = env.hub_steps(&p3);
    assert_eq!(steps[0]["action"], "timeout_logged", "{steps:?}");
    assert_eq!(steps[0]["reason"], "timeout_on_arrival", "{steps:?}");
    env.start_relayer();
    let l = env.wait_outcome(&p3, "evm-a", "evm-b", Duration::from_secs(60));
    assert_eq!(
        l.outcome.as_ref().map(|o| o.0.as_str()),
        Some("timeout"),
        "{l:?}"
    );

    // Policy: two members pull the emergency brake on the route; the next packet gets a
    // final error-ack naming the reason, and its escrow is refunded.
    let members = evmnet::member_keys(&env.net.dir.path().join("net")).unwrap();
    for m in members.iter().take(2) {
        let pk = m.private_key().unwrap();
        let addr = junction_spec::address_from_ed25519(pk.public_key().as_bytes());
        let nonce = env
            .net
            .rpc(0, "account", json!({"address": hex::encode(addr)}))
            .unwrap()["next_nonce"]
            .as_u64()
            .unwrap();
        let tx = junction_keys::sign_tx(
            &pk,
            &env.net.chain_id(),
            nonce,
            TxKind::EmergencyPause {
                route: junction_spec::gov::RouteId::new("evm-a-to-evm-b").unwrap(),
            },
        );
        env.net
            .rpc(
                0,
                "broadcast_tx",
                json!({"tx": hex::encode(tx.to_bytes()), "mode": "commit"}),
            )
            .unwrap();
    }
    let route = env
        .net
        .rpc(0, "route_show", json!({"id": "evm-a-to-evm-b"}))
        .unwrap();
    assert_eq!(route["state"], "paused", "{route}");
    let before = env.balance("evm-a", user);
    let t = env.far("evm-b");
    let p4 = env.send("evm-a", "evm-b", recipient, 40, t);
    let l = env.wait_outcome(&p4, "evm-a", "evm-b", Duration::from_secs(60));
    assert_eq!(
        l.outcome.as_ref().map(|o| o.0.as_str()),
        Some("error_ack"),
        "{l:?}"
    );
    assert_eq!(l.delivered, None, "the paused route never reached the app");
    let steps = env.hub_steps(&p4);
    assert_eq!(steps[0]["action"], "error_ack_logged", "{steps:?}");
    assert_eq!(steps[0]["reason"], "route_paused", "{steps:?}");
    assert_eq!(env.balance("evm-a", user), before);

    // Order on the ordered route B → A: the hub refuses a packet ahead of its turn by
    // name; the relayer then brings both, in order.
    env.kill_relayer();
    env.kill_attesters();
    let t = env.far("evm-a");
    let o1 = env.send("evm-b", "evm-a", recipient, 1, t);
    let o2 = env.send("evm-b", "evm-a", recipient, 2, t);
    let (upd_b, h_b) = env.update("evm-b");
    let (upd_a, _) = env.update("evm-a");
    let proof = env
        .rt
        .block_on(env.adapter("evm-b").prove_commitment(&o2.packet, h_b))
        .unwrap();
    let e = env
        .relay(
            &key,
            vec![
                upd_b,
                upd_a,
                RelayMsg::RecvPacket {
                    packet: o2.packet.clone(),
                    proof,
                },
            ],
        )
        .unwrap_err();
    assert_eq!(error_name(&e), "out_of_order", "{e}");
    env.start_relayer();
    for o in [&o1, &o2] {
        env.expect_outcome(o, "evm-b", "evm-a", "ack", "");
    }
    assert_eq!(env.balance("evm-a", recipient), U256::from(3));

    // The council closes A → B and caps B → A's payload below the escrow's 96 bytes.
    let (chain_a, chain_b) = (
        env.evm.chain("evm-a").unwrap(),
        env.evm.chain("evm-b").unwrap(),
    );
    let (a_to_b, b_to_a) = (
        evmnet::route_id(chain_a, chain_b).unwrap(),
        evmnet::route_id(chain_b, chain_a).unwrap(),
    );
    let opts = EvmNetOptions {
        ordered: true,
        ..Default::default()
    };
    let mut capped = evmnet::route_policy(chain_b, chain_a, &opts);
    capped.max_payload = 64;
    env.pass(vec![
        ProposalKind::CloseRoute { route: a_to_b },
        ProposalKind::UpdateRoute {
            route: b_to_a.clone(),
            policy: capped,
        },
    ]);
    let before_b = env.balance("evm-b", user);
    let t = env.far("evm-b");
    let p5 = env.send("evm-a", "evm-b", recipient, 50, t);
    let t = env.far("evm-a");
    let q1 = env.send("evm-b", "evm-a", recipient, 60, t);
    env.expect_outcome(&p5, "evm-a", "evm-b", "error_ack", "route_closed");
    env.expect_outcome(&q1, "evm-b", "evm-a", "error_ack", "payload_over_cap");
    assert_eq!(env.balance("evm-a", user), before);
    assert_eq!(env.balance("evm-b", user), before_b);

    // Then B → A takes any payload again but one message per hour; an escrow the policy
    // does not name is refused for good, the next packet of the named one still flows on
    // the ordered route (q1's sequence was used up), and the one after it finds the
    // bucket empty: an empty bucket is no reason to end a packet (anyone can drain one),
    // so the hub refuses it for now, it waits, and it times out by the rules.
    let mut limited = evmnet::route_policy(chain_b, chain_a, &opts);
    limited.rate = RateLimit {
        messages: 1,
        bytes: 1_000_000,
        window_ms: 3_600_000,
    };
    env.pass(vec![ProposalKind::UpdateRoute {
        route: b_to_a,
        policy: limited,
    }]);
    let other = env
        .rt
        .block_on(env.evm.deploy_other_escrow("evm-b"))
        .unwrap();
    let t = env.far("evm-a");
    let q2 = env
        .rt
        .block_on(
            env.evm
                .escrow_send_from("evm-b", other, "evm-a", recipient, 70, t),
        )
        .unwrap();
    let q3 = env.send("evm-b", "evm-a", recipient, 80, t);
    assert_eq!(q3.packet.sequence, q1.packet.sequence + 1);
    let soon = Timeout {
        height: 0,
        time_ms: env.rt.block_on(env.evm.time_ms("evm-a")).unwrap() + 12_000,
    };
    let q4 = env.send("evm-b", "evm-a", recipient, 90, soon);
    env.expect_outcome(&q2, "evm-b", "evm-a", "error_ack", "source_app_not_allowed");
    env.expect_outcome(&q3, "evm-b", "evm-a", "ack", "");
    env.expect_outcome(&q4, "evm-b", "evm-a", "timeout", "");
    assert!(
        env.net
            .metric(0, "junction_rejected_txs_total", "rate_limit_exceeded")
            >= 1.0
    );
    let steps = env.hub_steps(&q4);
    assert_eq!(steps[0]["action"], "timeout_logged", "{steps:?}");
    assert_eq!(
        env.balance_in("evm-b", other, user),
        U256::from(evmnet::ESCROW_SUPPLY)
    );
    assert_eq!(env.balance("evm-b", user), before_b - U256::from(80));
    assert_eq!(env.balance("evm-a", recipient), U256::from(3 + 80));

    // Exactly one outcome each at the source.
    for p in [&p1, &p2, &p3, &p4, &p5] {
        assert_eq!(
            env.outcomes_for("evm-a", p),
            1,
            "sequence {}",
            p.packet.sequence
        );
    }
    for q in [&o1, &o2, &q1, &q2, &q3, &q4] {
        assert_eq!(
            env.outcomes_for("evm-b", q),
            1,
            "sequence {}",
            q.packet.sequence
        );
    }
    assert_eq!(env.balance("evm-b", recipient), U256::from(20));
}

/// Sends `n` escrow packets from A to B without waiting for each to be mined.
fn send_many(env: &Env, n: usize, recipient: Address, amount: u64) -> Vec<Sent> {
    use alloy::providers::Provider as _;
    let src = env.evm.chain("evm-a").unwrap();
    let dst = env.evm.chain("evm-b").unwrap();
    let t = env.far("evm-b");
    env.rt.block_on(async {
        let p = evmnet::provider(
            &src.anvil.endpoint(),
            junction_adapters::evm::anvil::DEV_KEY_0,
        )
        .unwrap();
        let escrow = TokenEscrow::new(src.escrow, &p);
        let mut pending = Vec::with_capacity(n);
        for _ in 0..n {
            let tx = escrow
                .lockAndSend(
                    dst.id.as_str().to_owned(),
                    dst.escrow,
                    recipient,
                    U256::from(amount),
                    t.height,
                    t.time_ms,
                    evmnet::ESCROW_APP_GAS,
                )
                .send()
                .await
                .unwrap();
            pending.push(*tx.tx_hash());
        }
        let mut out = Vec::with_capacity(n);
        for h in pending {
            let receipt = loop {
                if let Some(r) = p.get_transaction_receipt(h).await.unwrap() {
                    break r;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            };
            assert!(receipt.block_number.is_some());
            out.push(evmnet::sent_in(&receipt).unwrap());
        }
        out
    })
}

/// 200 packets relayed by two relayers racing; one relayer and one validator are killed
/// in the middle of the flow and restarted: every packet ends acked, none twice, and the
/// app ran once per packet.
#[test]
fn relayer_and_validator_restarts_lose_and_repeat_nothing() {
    const N: usize = 200;
    let Some(mut env) = setup(12_100, false) else {
        return;
    };
    let recipient = Address::repeat_byte(0x77);
    env.start_relayer();
    env.start_second_relayer();
    let sent = send_many(&env, N, recipient, 3);
    let keys: std::collections::BTreeSet<[u8; 32]> =
        sent.iter().map(|s| s.packet.key().hash()).collect();
    assert_eq!(keys.len(), N);
    let a = env.adapter("evm-a");
    let b = env.adapter("evm-b");
    let from = sent.iter().map(|s| s.height).min().unwrap();
    let count_outcomes = |env: &Env| {
        let latest = env.rt.block_on(a.latest_height()).unwrap();
        env.rt.block_on(a.outcomes(from, latest)).unwrap()
    };

    // Let part of the flow through, then kill the relayer and a validator mid-flow.
    let start = Instant::now();
    while count_outcomes(&env).len() < 20 {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "no progress:\n{}",
            env.relayer_log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    env.kill_relayer();
    env.net.kill(3);
    std::thread::sleep(Duration::from_secs(3));
    env.net.start(3);
    env.start_relayer();

    let start = Instant::now();
    loop {
        let outcomes = count_outcomes(&env);
        if outcomes.len() >= N {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(300),
            "{} of {N} outcomes after restarts:\n{}",
            outcomes.len(),
            env.relayer_log()
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    // Settle: nothing more may arrive.
    std::thread::sleep(Duration::from_secs(3));
    let outcomes = count_outcomes(&env);
    assert_eq!(outcomes.len(), N, "an outcome was delivered twice");
    let got: std::collections::BTreeSet<[u8; 32]> = outcomes.iter().map(|o| o.key).collect();
    assert_eq!(got, keys, "every packet has exactly one outcome");
    assert!(outcomes
        .iter()
        .all(|o| o.kind == junction_spec::EntryKind::Ack && o.callback_succeeded));
    let latest_b = env.rt.block_on(b.latest_height()).unwrap();
    let receipts = env.rt.block_on(b.receipts(0, latest_b)).unwrap();
    assert_eq!(receipts.len(), N, "an app ran twice");
    assert_eq!(env.balance("evm-b", recipient), U256::from(3 * N as u64));
    let list = env
        .net
        .rpc(0, "packet_list", json!({"state": "ack"}))
        .unwrap();
    assert_eq!(list["total"], N as u64);
    // Paged three at a time from the status index, the pages hold every packet once.
    let mut paged = std::collections::BTreeSet::new();
    let mut after = serde_json::Value::Null;
    loop {
        let mut q = json!({"state": "ack", "limit": 3});
        if !after.is_null() {
            q["after"] = after.clone();
        }
        let page = env.net.rpc(0, "packet_list", q).unwrap();
        assert_eq!(page["total"], N as u64);
        for p in page["packets"].as_array().unwrap() {
            let key: [u8; 32] = hex::decode(p["key"].as_str().unwrap())
                .unwrap()
                .try_into()
                .unwrap();
            assert!(paged.insert(key), "a packet came on two pages");
        }
        after = page["next"].clone();
        if after.is_null() {
            break;
        }
    }
    assert_eq!(paged, keys, "the pages hold exactly the acked packets");
    let pending = env
        .net
        .rpc(0, "packet_list", json!({"state": "pending"}))
        .unwrap();
    assert_eq!(pending["total"], 0);
    // Both relayers took part: each committed relay transactions on the hub or delivered
    // to a gateway (which of the two racing relayers lands a given message is timing).
    for toml in [&env.evm.relayer_toml, &env.evm.second_relayer_toml] {
        let pk = KeyFile::load(&toml.with_file_name("key.json"))
            .unwrap()
            .private_key()
            .unwrap();
        let addr = junction_spec::address_from_ed25519(pk.public_key().as_bytes());
        let hub_txs = env
            .net
            .rpc(0, "account", json!({"address": hex::encode(addr)}))
            .unwrap()["next_nonce"]
            .as_u64()
            .unwrap();
        let sender = junction_relayer::load_secp_key(
            toml.with_file_name("sender.json").to_str().unwrap(),
            "sender",
        )
        .unwrap();
        let sender = alloy::primitives::Address::from_public_key(sender.verifying_key());
        let gateway_txs: u64 = ["evm-a", "evm-b"]
            .iter()
            .map(|c| {
                let endpoint = env.evm.chain(c).unwrap().anvil.endpoint();
                let p =
                    evmnet::provider(&endpoint, junction_adapters::evm::anvil::DEV_KEY_0).unwrap();
                env.rt
                    .block_on(async {
                        alloy::providers::Provider::get_transaction_count(&p, sender).await
                    })
                    .unwrap()
            })
            .sum();
        assert!(
            hub_txs + gateway_txs > 0,
            "{}: no hub or gateway transaction",
            toml.display()
        );
    }
    // The restarted validator caught up on the same chain.
    let h = env.net.height(0).unwrap();
    env.net.wait_height(3, h, Duration::from_secs(60));
    env.net.assert_same_chain(&[0, 3], h.saturating_sub(5)..=h);
}

impl Env {
    /// Locks `amount` in the escrow of `from` and sends it to `dest_chain` (any name, even
    /// one the hub does not know) for `dest_escrow`, with the app gas `gas_limit`.
    #[allow(clippy::too_many_arguments)]
    fn send_raw(
        &self,
        from: &str,
        dest_chain: &str,
        dest_escrow: Address,
        recipient: Address,
        amount: u64,
        timeout: Timeout,
        gas_limit: u64,
    ) -> Sent {
        let src = self.evm.chain(from).unwrap();
        self.rt.block_on(async {
            let p = evmnet::provider(
                &src.anvil.endpoint(),
                junction_adapters::evm::anvil::DEV_KEY_0,
            )
            .unwrap();
            let receipt = TokenEscrow::new(src.escrow, &p)
                .lockAndSend(
                    dest_chain.to_owned(),
                    dest_escrow,
                    recipient,
                    U256::from(amount),
                    timeout.height,
                    timeout.time_ms,
                    gas_limit,
                )
                .send()
                .await
                .unwrap()
                .get_receipt()
                .await
                .unwrap();
            evmnet::sent_in(&receipt).unwrap()
        })
    }

    /// Waits until `sent` has its outcome at the source `src` (its kind, and the hub's
    /// reason for a policy error-ack).
    fn wait_source_outcome(&self, sent: &Sent, src: &str, limit: Duration) -> (String, String) {
        let a = self.adapter(src);
        let start = Instant::now();
        loop {
            let latest = self.rt.block_on(a.latest_height()).unwrap();
            let found = self
                .rt
                .block_on(a.outcomes(sent.height, latest))
                .unwrap()
                .into_iter()
                .find(|o| o.key == sent.packet.key().hash());
            if let Some(o) = found {
                let steps = self.hub_steps(sent);
                let reason = steps
                    .iter()
                    .find(|s| s["action"] == "error_ack_logged")
                    .and_then(|s| s["reason"].as_str())
                    .unwrap_or_default()
                    .to_string();
                return (
                    junction_hub_app::relay::entry_kind_name(o.kind).to_string(),
                    reason,
                );
            }
            assert!(
                start.elapsed() < limit,
                "no outcome at {src} for sequence {}\nrelayer log:\n{}",
                sent.packet.sequence,
                self.relayer_log()
            );
            std::thread::sleep(Duration::from_millis(300));
        }
    }
}

/// Attacks on delivery and on the outcome of packets, against the running relayer:
/// - a packet asking more gas than its route allows (but less than the gateway's cap) among
///   100 honest ones: before, nothing capped a packet's gas, and one such packet made every
///   batch holding it revert, stalling the whole chain's deliveries; now the 100 are
///   delivered and acked and it gets a final error-ack `gas_limit_over_cap` and its refund;
/// - a packet to a chain the hub does not know (a typo'd destination): before, it never got
///   an outcome and its escrow stayed locked; now a final error-ack `no_route`, refunded;
/// - the routes ask for 3 confirmations: before, a relayer's proof at a shallow height
///   ended the packet with a final error-ack; now the relayer proves at a deep enough
///   height and every packet is delivered;
/// - `junction relay status` shows the relayer's backlog and what it is waiting on.
#[test]
fn poison_packets_and_confirmations_never_stall_or_end_honest_packets() {
    let Some(mut env) = setup_with(
        12_300,
        EvmNetOptions {
            min_confirmations: 3,
            ..Default::default()
        },
    ) else {
        return;
    };
    let user = env.user();
    let recipient = Address::repeat_byte(0x61);
    let start_balance = env.balance("evm-a", user);
    env.start_relayer();
    // The poison packet first, then the honest ones, then the lost one.
    let t = env.far("evm-b");
    let b_escrow = env.evm.chain("evm-b").unwrap().escrow;
    let poison = env.send_raw(
        "evm-a",
        "evm-b",
        b_escrow,
        recipient,
        1_000,
        t,
        evmnet::ROUTE_GAS_LIMIT * 5,
    );
    let honest = send_many(&env, 100, recipient, 3);
    let lost = env.send_raw(
        "evm-a",
        "evm-c",
        Address::repeat_byte(0x0c),
        recipient,
        500,
        t,
        evmnet::ESCROW_APP_GAS,
    );

    let (kind, reason) = env.wait_source_outcome(&poison, "evm-a", Duration::from_secs(120));
    assert_eq!(
        (kind.as_str(), reason.as_str()),
        ("error_ack", "gas_limit_over_cap")
    );
    let (kind, reason) = env.wait_source_outcome(&lost, "evm-a", Duration::from_secs(60));
    assert_eq!((kind.as_str(), reason.as_str()), ("error_ack", "no_route"));
    for s in &honest {
        let (kind, _) = env.wait_source_outcome(s, "evm-a", Duration::from_secs(120));
        assert_eq!(kind, "ack", "sequence {}", s.packet.sequence);
    }
    assert_eq!(env.balance("evm-b", recipient), U256::from(300));
    // Refunded once each: only the honest 300 left the sender for good.
    assert_eq!(env.balance("evm-a", user), start_balance - U256::from(300));
    // The hub never took a shallow proof: nothing was refused as a final outcome for it,
    // and every honest packet was logged.
    assert_eq!(env.hub_events_named("packet/packet_logged").len(), 100);

    let (ok, out) = junction_tests::run_cli(&[
        "relay",
        "status",
        "--config",
        env.evm.relayer_toml.to_str().unwrap(),
    ]);
    assert!(ok, "{out}");
    let status: Value = serde_json::from_str(&out).unwrap();
    assert!(
        status["chains"]["evm-b"]["cursor"].as_u64().unwrap() > 0,
        "{status}"
    );
    assert!(status["hub_refusals"].is_array(), "{status}");
}

/// An attested client that gets no update within its trusting period expires; before,
/// it stayed expired for good (and `recover_client` only lifted freezes). A council vote
/// now replaces the chain's trust root, which restarts the client; the packet that waited
/// then completes, and proofs at the expired client were refused by name meanwhile.
#[test]
fn an_expired_client_is_recovered_by_a_vote_and_waiting_packets_complete() {
    let Some(mut env) = setup_with(
        12_500,
        EvmNetOptions {
            trusting_period_ms: 20_000,
            ..Default::default()
        },
    ) else {
        return;
    };
    let recipient = Address::repeat_byte(0x62);
    // No relayer runs: nobody updates the clients for longer than their trusting period.
    let until = Instant::now() + Duration::from_secs(24);
    while Instant::now() < until {
        std::thread::sleep(Duration::from_millis(500));
    }
    let state = env.client_state("evm-a");
    assert_eq!(state["status"], "expired", "{state}");
    // An operator saw it coming: the header's age and the time left, in the RPC, in
    // `junction chain show` and in the metrics.
    assert_eq!(state["expires_in_secs"], 0, "{state}");
    assert_eq!(state["trusting_period_ms"], 20_000, "{state}");
    assert!(state["age_secs"].as_u64().unwrap() >= 20, "{state}");
    let evm_a = "chain=\"evm-a\"";
    let status = |net: &Net, s: &str| {
        net.metric(
            0,
            "junction_client_status",
            &format!("{evm_a},status=\"{s}\""),
        )
    };
    assert_eq!(
        (status(&env.net, "expired"), status(&env.net, "active")),
        (1.0, 0.0)
    );
    assert_eq!(
        env.net
            .metric(0, "junction_client_seconds_to_expiry", evm_a),
        0.0
    );
    assert!(
        env.net
            .metric(0, "junction_client_seconds_since_update", evm_a)
            >= 20.0
    );
    let rpc = format!("http://{}", env.net.rpc[0]);
    let (ok, out) = junction_tests::run_cli(&["chain", "show", "evm-a", "--rpc", &rpc]);
    assert!(ok, "{out}");
    let shown: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(shown["registration"]["chain_id"], "evm-a", "{shown}");
    assert_eq!(shown["client"]["status"], "expired", "{shown}");
    assert_eq!(shown["client"]["expires_in_secs"], 0, "{shown}");
    let t = env.far("evm-b");
    let sent = env.send("evm-a", "evm-b", recipient, 25, t);
    // Refused by name, and nothing else happens.
    let key = env.relayer_key();
    let (upd_a, _) = env.update("evm-a");
    let e = env.relay(&key, vec![upd_a]).unwrap_err();
    assert_eq!(error_name(&e), "client_expired", "{e}");
    env.start_relayer();
    std::thread::sleep(Duration::from_secs(5));
    let l = env.lifecycle(&sent, "evm-a", "evm-b");
    assert_eq!(l.outcome, None, "{l:?}");
    assert!(
        env.net
            .metric(0, "junction_rejected_txs_total", "client_expired")
            >= 1.0
    );

    // The council replaces both chains' trust roots (a fresh trusted header each, the same
    // attesters and gateway, a longer trusting period).
    let mut kinds = Vec::new();
    for id in ["evm-a", "evm-b"] {
        let a = env.adapter(id);
        let latest = env.rt.block_on(a.latest_height()).unwrap();
        let root = env.rt.block_on(a.trust_root(latest)).unwrap();
        let reg: Value = env.net.rpc(0, "chain_show", json!({"id": id})).unwrap();
        let mut params: junction_spec::gov::LightClientParams =
            serde_json::from_value(reg["registration"]["params"].clone()).unwrap();
        params.trusting_period_ms = 3_600_000;
        kinds.push(ProposalKind::ReplaceClient {
            chain: junction_spec::ChainId::new(id).unwrap(),
            params,
            trust_root: root.to_bytes(),
        });
    }
    env.pass(kinds);
    let state = env.client_state("evm-a");
    assert_eq!(state["status"], "active", "{state}");
    assert!(
        state["expires_in_secs"].as_u64().unwrap() > 3_000,
        "the replaced trust root counts a fresh hour: {state}"
    );
    assert_eq!(
        (status(&env.net, "expired"), status(&env.net, "active")),
        (0.0, 1.0)
    );
    env.expect_delivered(&sent, "evm-a", "evm-b", recipient, 25);
}

/// Two blocks at one height of an attested chain, each signed by its attesters: the
/// chain forked (anvil's snapshot and revert make the fork) and the attesters vouched for
/// both. A relayer hands the hub the two headers; the hub verifies them against the
/// attesters it trusts, freezes the client and keeps the evidence. Every proof at the
/// client is then refused by name, and a packet sent meanwhile waits (no error-ack) until
/// a council vote replaces the trust root; then it completes.
#[test]
fn a_forked_attested_chain_freezes_its_client_until_a_vote_and_waiting_packets_complete() {
    use alloy::providers::Provider;
    use junction_light_clients::evm::attested::AttestedMisbehaviour;
    let Some(mut env) = setup(12_700, false) else {
        return;
    };
    let a = env.adapter("evm-a");
    let provider = a.provider().clone();
    let call = |method: &'static str, params: Value| -> Value {
        env.rt
            .block_on(provider.raw_request::<_, Value>(method.into(), params))
            .unwrap()
    };
    // Interval mining stops while the fork is made, so that only these blocks are mined.
    call("evm_setIntervalMining", json!([0]));
    let tip = env.rt.block_on(a.latest_height()).unwrap();
    let tip_time = env.rt.block_on(a.attested_header(tip)).unwrap().timestamp;
    let snapshot = call("evm_snapshot", json!([]));
    call("evm_mine", json!([tip_time + 2]));
    let first = env.rt.block_on(a.signed_header(tip + 1)).unwrap();
    call("evm_revert", json!([snapshot]));
    call("evm_mine", json!([tip_time + 3]));
    let second = env.rt.block_on(a.signed_header(tip + 1)).unwrap();
    call("evm_setIntervalMining", json!([1]));
    assert_ne!(first.header.hash, second.header.hash);
    let evidence = AttestedMisbehaviour {
        a: first,
        b: second,
    }
    .to_bytes();
    let chain = junction_spec::ChainId::new("evm-a").unwrap();
    let key = env.relayer_key();
    env.relay(
        &key,
        vec![RelayMsg::Misbehaviour {
            chain: chain.clone(),
            evidence: evidence.clone(),
        }],
    )
    .unwrap();

    let state = env.client_state("evm-a");
    assert_eq!(state["status"], "frozen", "{state}");
    assert_eq!(state["frozen_height"], tip + 1, "{state}");
    assert_eq!(state["evidence"], hex::encode(&evidence), "{state}");
    let evm_a = "chain=\"evm-a\"";
    assert_eq!(
        env.net.metric(0, "junction_client_frozen_total", evm_a),
        1.0
    );
    assert_eq!(
        env.net.metric(
            0,
            "junction_client_status",
            &format!("{evm_a},status=\"frozen\"")
        ),
        1.0
    );
    // The evidence is in the committed state: an auditor proves it without trusting us.
    let proof = env
        .net
        .rpc(
            0,
            "state_proof",
            json!({"key": hex::encode(b"client/evidence/evm-a")}),
        )
        .unwrap();
    assert!(
        proof["value"]
            .as_str()
            .unwrap()
            .ends_with(&hex::encode(&evidence)),
        "{proof}"
    );
    // The same evidence again, or a header: refused by name, nothing else changes.
    let e = env
        .relay(
            &key,
            vec![RelayMsg::Misbehaviour {
                chain: chain.clone(),
                evidence: evidence.clone(),
            }],
        )
        .unwrap_err();
    assert_eq!(error_name(&e), "client_frozen", "{e}");

    // A packet sent while the client is frozen waits: its proofs are refused, it is not
    // error-acked.
    let recipient = Address::repeat_byte(0x63);
    let t = env.far("evm-b");
    let sent = env.send("evm-a", "evm-b", recipient, 40, t);
    env.start_relayer();
    std::thread::sleep(Duration::from_secs(6));
    let l = env.lifecycle(&sent, "evm-a", "evm-b");
    assert_eq!(l.outcome, None, "{l:?}");
    assert!(
        env.net
            .metric(0, "junction_rejected_txs_total", "client_frozen")
            >= 1.0
    );

    // The council replaces the trust root (a header of the branch the chain kept).
    let latest = env.rt.block_on(a.latest_height()).unwrap();
    let root = env.rt.block_on(a.trust_root(latest)).unwrap();
    let reg: Value = env
        .net
        .rpc(0, "chain_show", json!({"id": "evm-a"}))
        .unwrap();
    let params: junction_spec::gov::LightClientParams =
        serde_json::from_value(reg["registration"]["params"].clone()).unwrap();
    env.pass(vec![ProposalKind::ReplaceClient {
        chain: chain.clone(),
        params,
        trust_root: root.to_bytes(),
    }]);
    let state = env.client_state("evm-a");
    assert_eq!(state["status"], "active", "{state}");
    // The evidence the vote ruled on, replayed, cannot freeze the restarted client.
    let e = env
        .relay(&key, vec![RelayMsg::Misbehaviour { chain, evidence }])
        .unwrap_err();
    assert_eq!(error_name(&e), "evidence_before_trusted_state", "{e}");
    env.expect_delivered(&sent, "evm-a", "evm-b", recipient, 40);
}

/// The council rotates a chain's attesters by vote (`replace_client` with a new attester
/// set and a fresh trusted header of the same chain and gateway): headers signed by the old
/// attesters are refused by name from then on, headers signed by the new ones move the
/// client, and packets keep flowing on the same route and gateway.
#[test]
fn attesters_are_rotated_by_a_vote_and_packets_flow_under_the_new_set() {
    use junction_light_clients::evm::attested::testkit;
    let Some(mut env) = setup(12_900, false) else {
        return;
    };
    // The members' attester keys sign every chain's headers: both chains rotate.
    let new_keys: Vec<k256::ecdsa::SigningKey> = (200..204).map(testkit::attester_key).collect();
    let mut kinds = Vec::new();
    let mut rotated_at = Vec::new();
    for id in ["evm-a", "evm-b"] {
        let adapter = env.adapter(id);
        let latest = env.rt.block_on(adapter.latest_height()).unwrap();
        let mut root = env.rt.block_on(adapter.trust_root(latest)).unwrap();
        assert!(root
            .attesters
            .iter()
            .all(|old| new_keys.iter().all(|k| testkit::address(k) != *old)));
        root.attesters = new_keys.iter().map(testkit::address).collect();
        let reg: Value = env.net.rpc(0, "chain_show", json!({"id": id})).unwrap();
        let params: junction_spec::gov::LightClientParams =
            serde_json::from_value(reg["registration"]["params"].clone()).unwrap();
        kinds.push(ProposalKind::ReplaceClient {
            chain: junction_spec::ChainId::new(id).unwrap(),
            params,
            trust_root: root.to_bytes(),
        });
        rotated_at.push(latest);
    }
    env.pass(kinds);

    // The old attesters no longer move the client.
    let key = env.relayer_key();
    let (stale, _) = env.update("evm-a");
    let e = env.relay(&key, vec![stale]).unwrap_err();
    assert_eq!(error_name(&e), "signer_not_attester", "{e}");
    // Each member's attester gets its new key (its node reads the configuration again
    // when it changes); the packet then flows. The relayer's configuration names none.
    assert_eq!(env.evm.attester_configs.len(), new_keys.len());
    for (path, k) in env.evm.attester_configs.iter().zip(&new_keys) {
        let text = std::fs::read_to_string(path).unwrap();
        let config = junction_attester::AttesterConfig::load(path).unwrap();
        junction_hub::config::AttestationKeyFile::from_key(k)
            .save(std::path::Path::new(&config.attester_key_file))
            .unwrap();
        std::fs::remove_file(path).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let relayer_toml = std::fs::read_to_string(&env.evm.relayer_toml).unwrap();
    assert!(!relayer_toml.contains("attester"), "{relayer_toml}");
    let recipient = Address::repeat_byte(0x64);
    let t = env.far("evm-b");
    let sent = env.send("evm-a", "evm-b", recipient, 15, t);
    env.start_relayer();
    env.expect_delivered(&sent, "evm-a", "evm-b", recipient, 15);
    let state = env.client_state("evm-a");
    assert!(
        state["latest_height"].as_u64().unwrap() > rotated_at[0],
        "the new attesters moved the client: {state}"
    );
}

/// A Tendermint chain registered by vote from the real CometBFT v0.38 kvstore capture (the
/// trust root names block 1), then moved on 4 validators by a relayer's `UpdateClient`
/// carrying the capture's real commit 10 with its validator set; the same commit with one
/// signature byte flipped is refused by name and moves nothing. A second Tendermint chain,
/// of test-kit validators, registered in the same vote, is frozen by evidence that its
/// validators signed two blocks at one height.
#[test]
fn tendermint_chains_registered_by_vote_follow_real_commits_and_freeze_on_evidence() {
    use junction_light_clients::tendermint::client::{Header, Misbehaviour};
    use junction_light_clients::tendermint::hub::{
        encode_misbehaviour, encode_update, TendermintTrustRoot,
    };
    use junction_light_clients::tendermint::testkit as tm;
    use junction_light_clients::Timestamp;
    let Some(dir) = junction_spec::testkit::vector_path("tendermint/tendermint-rs/kvstore_v0_38")
    else {
        return;
    };
    let read = |name: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(dir.join(name)).unwrap()).unwrap()
    };
    let validators: Vec<tendermint::validator::Info> =
        serde_json::from_value(read("genesis.json")["result"]["genesis"]["validators"].clone())
            .unwrap();
    let set = tendermint::validator::Set::without_proposer(validators);
    let b1: tendermint::block::Header =
        serde_json::from_value(read("block_at_height_1.json")["result"]["block"]["header"].clone())
            .unwrap();
    let sh10: tendermint::block::signed_header::SignedHeader =
        serde_json::from_value(read("commit_at_height_10.json")["result"]["signed_header"].clone())
            .unwrap();
    let Some(env) = setup(13_100, false) else {
        return;
    };
    const YEAR_MS: u64 = 365 * 86_400_000;
    // The capture is old: a long trusting period keeps it within trust today.
    let root =
        TendermintTrustRoot::trusting(&b1, 11 * YEAR_MS * 1_000_000, b"junction", b"").unwrap();
    let chain = junction_spec::ChainId::new("tm-kv").unwrap();
    let registration =
        |id: &junction_spec::ChainId, trusting_period_ms, root: &TendermintTrustRoot| {
            ProposalKind::RegisterChain(junction_spec::ChainRegistration {
                chain_id: id.clone(),
                kind: junction_spec::LedgerKind::Tendermint,
                params: junction_spec::gov::LightClientParams {
                    trust_level: junction_spec::gov::Fraction { num: 2, den: 3 },
                    trusting_period_ms,
                    max_clock_drift_ms: 10_000,
                    min_confirmations: 0,
                    threshold: junction_spec::gov::Fraction { num: 2, den: 3 },
                },
                trust_root: root.to_bytes(),
            })
        };
    // The test-kit chain: its validators' keys are known, so it can be made to equivocate.
    let kit = junction_spec::ChainId::new("tm-kit").unwrap();
    let keys = tm::validator_keys(5, 4);
    let now_secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let block = |height, secs, app_hash: &[u8]| {
        tm::signed_light_block(
            "kit-chain",
            height,
            Timestamp::from_secs(secs),
            &keys,
            &keys,
            app_hash,
        )
        .unwrap()
    };
    let trusted = block(3, now_secs - 120, &[1; 32]);
    let kit_root = TendermintTrustRoot::trusting(
        &trusted.signed_header.header,
        21 * 86_400 * 1_000_000_000,
        b"junction",
        b"",
    )
    .unwrap();
    env.pass(vec![
        registration(&chain, 10 * YEAR_MS, &root),
        registration(&kit, 14 * 86_400_000, &kit_root),
    ]);
    let state = env.client_state("tm-kv");
    assert_eq!(
        (state["status"].as_str(), state["latest_height"].as_u64()),
        (Some("active"), Some(1)),
        "{state}"
    );

    let wire = encode_update(&Header {
        signed_header: sh10.clone(),
        validator_set: set.clone(),
        trusted_height: 1,
        trusted_next_validator_set: set,
    });
    let flipped = tm::flip_commit_signature(&wire, &sh10).unwrap();
    let key = env.relayer_key();
    let e = env
        .relay(
            &key,
            vec![RelayMsg::UpdateClient {
                chain: chain.clone(),
                header: flipped,
            }],
        )
        .unwrap_err();
    assert_eq!(error_name(&e), "invalid_commit_signature", "{e}");
    env.relay(
        &key,
        vec![RelayMsg::UpdateClient {
            chain,
            header: wire,
        }],
    )
    .unwrap();
    let state = env.client_state("tm-kv");
    assert_eq!(state["latest_height"], 10, "{state}");
    assert_eq!(state["heights"], json!([1, 10]), "{state}");
    assert_eq!(state["gateway"], hex::encode(b"junction"), "{state}");

    // The kit chain's validators sign two blocks at height 5: frozen at 5 on the evidence.
    let evidence = encode_misbehaviour(&Misbehaviour {
        header1: tm::header_from(&block(5, now_secs - 60, &[2; 32]), &trusted),
        header2: tm::header_from(&block(5, now_secs - 60, &[3; 32]), &trusted),
    });
    env.relay(
        &key,
        vec![RelayMsg::Misbehaviour {
            chain: kit,
            evidence,
        }],
    )
    .unwrap();
    let state = env.client_state("tm-kit");
    assert_eq!(
        (state["status"].as_str(), state["frozen_height"].as_u64()),
        (Some("frozen"), Some(5)),
        "{state}"
    );
    assert_eq!(
        env.net
            .metric(0, "junction_client_frozen_total", "chain=\"tm-kit\""),
        1.0
    );
}

/// A QBFT chain beside an attested one, on 4 validators: `evm-b` is registered by vote as
/// `evm_qbft` from a header of its QBFT-sealed view (anvil's blocks with Besu's `extraData`
/// sealed by 4 test validators, anvil's state root, so every proof is real); the relayer
/// forwards its sealed headers block by block and packets complete both ways. A validator
/// added by the `extraData` vote is followed: the hub's client moves past blocks listed and
/// sealed by the five.
#[test]
fn a_qbft_chain_and_an_attested_one_exchange_packets_and_a_voted_validator_is_followed() {
    let Some(mut env) = setup_with(
        13_300,
        EvmNetOptions {
            qbft_chains: vec![1],
            ..Default::default()
        },
    ) else {
        return;
    };
    let shown: Value = env
        .net
        .rpc(0, "chain_show", json!({"id": "evm-b"}))
        .unwrap();
    assert_eq!(shown["registration"]["kind"], "evm_qbft", "{shown}");
    let registered_at = env.client_state("evm-b")["latest_height"].as_u64().unwrap();

    let to_b = Address::repeat_byte(0x71);
    let sent = env.send("evm-a", "evm-b", to_b, 21, env.far("evm-b"));
    env.start_relayer();
    env.expect_delivered(&sent, "evm-a", "evm-b", to_b, 21);
    let to_a = Address::repeat_byte(0x72);
    let sent = env.send("evm-b", "evm-a", to_a, 22, env.far("evm-a"));
    env.expect_delivered(&sent, "evm-b", "evm-a", to_a, 22);
    let state = env.client_state("evm-b");
    assert!(
        state["latest_height"].as_u64().unwrap() > registered_at,
        "the relayer's sealed headers moved the QBFT client: {state}"
    );

    // A fifth validator voted in: blocks after the vote list and are sealed by five.
    let shim = env.evm.chain("evm-b").unwrap().qbft.as_ref().unwrap();
    env.rt.block_on(shim.vote_add(50));
    let start = Instant::now();
    for round in 0u8.. {
        let to = Address::repeat_byte(0x80 + round);
        let sent = env.send("evm-b", "evm-a", to, 23, env.far("evm-a"));
        env.expect_delivered(&sent, "evm-b", "evm-a", to, 23);
        let latest = env.client_state("evm-b")["latest_height"].as_u64().unwrap();
        if env.rt.block_on(shim.validators_at(latest)) == Some(5) {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the hub's client of evm-b never reached a block sealed by five (at {latest})\nrelayer log:\n{}",
            env.relayer_log()
        );
    }
    assert_eq!(env.rt.block_on(shim.validators()).len(), 5);
}

/// On 4 validators: a Junction hub registered by vote as `junction_hub` (this hub itself,
/// trusted at one of its own checkpoints and attestation set, as a peer hub's council
/// would register it) is moved by a later checkpoint its validators really signed, sent
/// in a relayer's `UpdateClient`; the same checkpoint with one signature's recovery byte
/// flipped, or signed by too few, is refused by name and moves nothing.
#[test]
fn a_hub_registered_by_vote_follows_checkpoints_its_attesters_signed() {
    use junction_light_clients::hub::{HubTrustRoot, SignedCheckpoint};
    let Some(env) = setup(13_500, false) else {
        return;
    };
    let rpc = junction_rpc::RpcClient::new(env.evm.hub_rpc.clone());
    let signed_at = |height: Option<u64>| -> (SignedCheckpoint, AttestationSet) {
        let cp = env
            .rt
            .block_on(rpc.call::<junction_rpc::methods::GetCheckpoint>(
                &junction_rpc::methods::AtHeight { height },
            ))
            .unwrap();
        let signed = SignedCheckpoint {
            checkpoint: Checkpoint::from_bytes(&cp.checkpoint_hex.0).unwrap(),
            signatures: cp
                .signatures
                .iter()
                .map(|s| <[u8; 65]>::try_from(s.0.as_slice()).unwrap())
                .collect(),
            next_set: None,
        };
        let set = AttestationSet::from_bytes(&cp.attestation_set_hex.0).unwrap();
        (signed, set)
    };
    let (trusted, set) = signed_at(None);
    assert!(
        trusted.signatures.len() >= 3,
        "{}",
        trusted.signatures.len()
    );
    let peer = junction_spec::ChainId::new("hub-peer").unwrap();
    env.pass(vec![register_chain(
        &peer,
        junction_spec::LedgerKind::JunctionHub,
        86_400_000,
        0,
        HubTrustRoot {
            checkpoint: trusted.checkpoint.clone(),
            set,
            next_set: None,
        }
        .to_bytes(),
    )]);
    let state = env.client_state("hub-peer");
    assert_eq!(
        (state["status"].as_str(), state["latest_height"].as_u64()),
        (Some("active"), Some(trusted.checkpoint.height)),
        "{state}"
    );

    let (later, _) = signed_at(None);
    assert!(later.checkpoint.height > trusted.checkpoint.height);
    let update = |signed: &SignedCheckpoint| RelayMsg::UpdateClient {
        chain: peer.clone(),
        header: signed.to_bytes(),
    };
    let key = env.relayer_key();
    let mut flipped = later.clone();
    // The other recovery parity: the signature recovers another key, never none.
    flipped.signatures[0][64] = match flipped.signatures[0][64] {
        27 => 28,
        28 => 27,
        v => v ^ 0x01,
    };
    let mut few = later.clone();
    few.signatures.truncate(2);
    for (name, bad) in [("unknown_signer", &flipped), ("insufficient_power", &few)] {
        let e = env.relay(&key, vec![update(bad)]).unwrap_err();
        assert_eq!(error_name(&e), name, "{e}");
    }
    assert_eq!(
        env.client_state("hub-peer")["latest_height"].as_u64(),
        Some(trusted.checkpoint.height)
    );
    env.relay(&key, vec![update(&later)]).unwrap();
    let state = env.client_state("hub-peer");
    assert_eq!(
        state["latest_height"].as_u64(),
        Some(later.checkpoint.height),
        "{state}"
    );
    assert_eq!(
        state["heights"],
        json!([trusted.checkpoint.height, later.checkpoint.height]),
        "{state}"
    );
}

/// On 4 validators: Bitcoin mainnet registered by vote as a `bitcoin` chain from a real
/// header (block 828,576, the first of a retarget period, with its real chainwork), then
/// moved by relayers' `UpdateClient` messages carrying the real 2,016 headers that follow
/// (828,577 to 830,592, across the next retarget) in batches of 200; a batch with one
/// nonce changed is refused by name and moves nothing.
#[test]
fn bitcoin_mainnet_registered_by_vote_follows_real_headers_across_a_retarget() {
    use junction_light_clients::bitcoin::hub::{BitcoinTrustRoot, Network};
    use junction_light_clients::bitcoin::{BlockHeader, Checkpoint};
    let Some(dir) = junction_spec::testkit::vector_path("bitcoin/ckb-spv-testdata") else {
        return;
    };
    let lines = |name: &str| -> std::collections::BTreeMap<u64, Vec<u8>> {
        std::fs::read_to_string(dir.join(name))
            .unwrap()
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                let mut it = l.split_whitespace();
                let h: u64 = it.next().unwrap().parse().unwrap();
                (h, hex::decode(it.next().unwrap()).unwrap())
            })
            .collect()
    };
    let headers: std::collections::BTreeMap<u64, BlockHeader> =
        lines("mainnet_headers_822528_830592.txt")
            .into_iter()
            .map(|(h, b)| (h, BlockHeader::decode(&b).unwrap()))
            .collect();
    let chainwork = lines("mainnet_chainwork_retarget_boundaries.txt");
    let start = 828_576u64;
    assert_eq!(start % 2016, 0);
    let root = BitcoinTrustRoot {
        network: Network::Mainnet,
        checkpoint: Checkpoint {
            height: start,
            header: headers[&start],
            chainwork: U256::from_be_slice(&chainwork[&start]),
            period_first_time: headers[&start].time,
            recent_times: (start - 10..=start).map(|h| headers[&h].time).collect(),
            last_normal_bits: None,
        },
    };
    let Some(env) = setup(13_700, false) else {
        return;
    };
    const YEAR_MS: u64 = 365 * 86_400_000;
    let chain = junction_spec::ChainId::new("btc-main").unwrap();
    // The capture is from 2024: a long trusting period keeps it within trust.
    env.pass(vec![register_chain(
        &chain,
        junction_spec::LedgerKind::Bitcoin,
        10 * YEAR_MS,
        6,
        root.to_bytes(),
    )]);
    let state = env.client_state("btc-main");
    assert_eq!(
        (state["status"].as_str(), state["latest_height"].as_u64()),
        (Some("active"), Some(start)),
        "{state}"
    );
    let batch = |from: u64, to: u64| RelayMsg::UpdateClient {
        chain: chain.clone(),
        header: (from..=to).flat_map(|h| headers[&h].encode()).collect(),
    };
    let key = env.relayer_key();
    // The first batch with its last header's nonce changed: that header's proof of work
    // fails (an earlier one would break the next link), and nothing moves.
    let mut forged: Vec<u8> = (start + 1..=start + 200)
        .flat_map(|h| headers[&h].encode())
        .collect();
    forged[80 * 199 + 76] ^= 0x01;
    let e = env
        .relay(
            &key,
            vec![RelayMsg::UpdateClient {
                chain: chain.clone(),
                header: forged,
            }],
        )
        .unwrap_err();
    assert_eq!(error_name(&e), "insufficient_proof_of_work", "{e}");
    assert_eq!(
        env.client_state("btc-main")["latest_height"].as_u64(),
        Some(start)
    );
    let last = start + 2016;
    let batches: Vec<RelayMsg> = (start + 1..=last)
        .step_by(200)
        .map(|from| batch(from, (from + 199).min(last)))
        .collect();
    for tx in batches.chunks(3) {
        env.relay(&key, tx.to_vec()).unwrap();
    }
    let state = env.client_state("btc-main");
    assert_eq!(state["latest_height"].as_u64(), Some(last), "{state}");
    assert_eq!(state["status"], "active", "{state}");
    // The new period's first header carries the retargeted difficulty the hub computed.
    assert_ne!(headers[&last].bits, headers[&start].bits);
}

/// On 4 validators: a Hyperledger Fabric channel registered by vote as `fabric` from a real
/// peer ledger's config block (block 0 of `mychannel`, its MSP certificates), then moved
/// by relayers' `UpdateClient` messages carrying that ledger's real blocks 1 to 7 (each
/// checked against the orderer's signature and the previous block's hash); a block with
/// one byte of its orderer signature changed is refused (`invalid_signature`) and moves
/// nothing.
#[test]
fn a_fabric_channel_registered_by_vote_follows_its_real_blocks() {
    use junction_light_clients::fabric::hub::FabricTrustRoot;
    use junction_light_clients::fabric::testkit::encode_block;
    use junction_light_clients::fabric::{EndorsementPolicy, FabricPolicy};
    let Some(path) =
        junction_spec::testkit::vector_path("fabric/sample_prod_mychannel_blockfile_000000.hex")
    else {
        return;
    };
    let text = std::fs::read_to_string(path).unwrap();
    let bytes = hex::decode(text.split_whitespace().collect::<String>()).unwrap();
    let blocks: Vec<Vec<u8>> = junction_light_clients::fabric::block::decode_block_file(&bytes)
        .unwrap()
        .iter()
        .map(encode_block)
        .collect();
    assert_eq!(blocks.len(), 8);
    let root = FabricTrustRoot {
        config_block: blocks[0].clone(),
        policy: FabricPolicy {
            orderer_threshold: 1,
            endorsement: EndorsementPolicy {
                orgs: vec!["SampleOrg".into()],
                required: 1,
            },
            validation_threshold: 1,
        },
        chaincode: "junction".into(),
        key_prefix: String::new(),
        // The council vouches for the config block now; the registration's trusting
        // period runs from here.
        time_ms: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64,
    };
    let Some(env) = setup(13_900, false) else {
        return;
    };
    let chain = junction_spec::ChainId::new("fabric-my").unwrap();
    env.pass(vec![register_chain(
        &chain,
        junction_spec::LedgerKind::Fabric,
        86_400_000,
        0,
        root.to_bytes(),
    )]);
    let state = env.client_state("fabric-my");
    assert_eq!(
        (state["status"].as_str(), state["latest_height"].as_u64()),
        (Some("active"), Some(0)),
        "{state}"
    );
    let update = |block: &[u8]| RelayMsg::UpdateClient {
        chain: chain.clone(),
        header: block.to_vec(),
    };
    let key = env.relayer_key();
    // The orderer's DER ECDSA signature (`30 44|45 02 …`) is the last one in block 1's
    // metadata: one byte of its `r` changed.
    let mut forged = blocks[1].clone();
    let der = (0..forged.len() - 3)
        .rev()
        .find(|&i| {
            forged[i] == 0x30 && matches!(forged[i + 1], 0x44 | 0x45) && forged[i + 2] == 0x02
        })
        .unwrap();
    forged[der + 8] ^= 0x01;
    let e = env.relay(&key, vec![update(&forged)]).unwrap_err();
    assert_eq!(error_name(&e), "invalid_signature", "{e}");
    assert_eq!(
        env.client_state("fabric-my")["latest_height"].as_u64(),
        Some(0)
    );
    env.relay(&key, blocks[1..].iter().map(|b| update(b)).collect())
        .unwrap();
    let state = env.client_state("fabric-my");
    assert_eq!(state["latest_height"].as_u64(), Some(7), "{state}");
    assert_eq!(state["heights"], json!([0, 1, 2, 3, 4, 5, 6, 7]), "{state}");
}

/// Fixture-ledger processes (`junction testnet fixture-ledger`), stopped when dropped.
struct FixtureLedgers(Vec<Child>);

impl Drop for FixtureLedgers {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// On 4 validators: packets from three ledger kinds that run nowhere here reach an app on
/// anvil through the relayer. Each ledger is a fixture-ledger process (dev-tools) built
/// from the light clients' test kits and growing a block at a time: a Tendermint chain
/// whose app hashes commit the packets in an ICS-23 store, a Fabric channel whose Junction
/// chaincode write sets hold them (2 endorsements, 2 VALID attestations), a regtest Bitcoin
/// chain whose transactions of the app's script carry `OP_RETURN` commitments. Each is
/// registered by vote from the trust root its process prints, with a route to `evm-a`'s
/// escrow. The relayer serves them through `ledger_rpc` chains in `relayer.toml`: it moves
/// each client header by header, proves each packet with its kind's proof (the Bitcoin ones
/// once their blocks are 3 deep), and delivers the logged packets to the escrow, which
/// mints to each recipient. The acks are logged on the hub for the source-only ledgers and
/// queryable there (`packet_show`, `log_entries`); nothing is delivered to those ledgers.
/// A fourth ledger the relayer serves goes down after the relayer starts: its failing reads
/// are logged by name and hold back no other chain's packets.
#[test]
fn packets_from_tendermint_fabric_and_bitcoin_fixture_ledgers_reach_an_app_on_anvil() {
    use alloy::sol_types::SolValue;
    use junction_devtools::fixture_ledger::{wait_ready, FixtureSpec};
    use junction_light_clients::bitcoin::testkit::app_script;
    use junction_relayer::{AdapterChoice, ChainConfig, RelayerConfig};
    use junction_spec::gov::RoutePolicy;
    use junction_spec::{ChainId, LedgerKind, Packet, RouteId};
    let Some(mut env) = setup(14_100, false) else {
        return;
    };
    let evm_a = env.evm.chain("evm-a").unwrap();
    let (escrow, dest) = (evm_a.escrow, evm_a.id.clone());
    let timeout = env.far("evm-a");
    const DAY_MS: u64 = 86_400_000;
    // (chain, kind, app, trusting period, confirmations, block ms, first recipient byte)
    let ledgers = [
        (
            "tm-fx",
            LedgerKind::Tendermint,
            b"tm-app".to_vec(),
            14 * DAY_MS,
            0,
            1_000,
            0x91,
        ),
        (
            "fab-fx",
            LedgerKind::Fabric,
            b"fab-app".to_vec(),
            DAY_MS,
            0,
            700,
            0xa1,
        ),
        (
            "btc-fx",
            LedgerKind::Bitcoin,
            app_script(21),
            3_650 * DAY_MS,
            3,
            1_000,
            0xb1,
        ),
    ];
    let dir = env.net.dir.path().join("fixtures");
    std::fs::create_dir_all(&dir).unwrap();
    let mut processes = FixtureLedgers(Vec::new());
    let mut packets: Vec<(Packet, Address, u64)> = Vec::new();
    for (chain, kind, app, _, _, block_ms, who) in &ledgers {
        let mine: Vec<(Packet, Address, u64)> = (1..=2u8)
            .map(|sequence| {
                let recipient = Address::repeat_byte(who + sequence);
                let amount = u64::from(*who) * 10 + u64::from(sequence);
                let packet = Packet {
                    version: Packet::VERSION,
                    source_chain: ChainId::new(*chain).unwrap(),
                    source_app: app.clone(),
                    sequence: u64::from(sequence),
                    dest_chain: dest.clone(),
                    dest_app: escrow.to_vec(),
                    payload: (Address::ZERO, recipient, U256::from(amount)).abi_encode(),
                    timeout,
                    gas_limit: evmnet::ESCROW_APP_GAS,
                    fee: 0,
                };
                (packet, recipient, amount)
            })
            .collect();
        let spec = FixtureSpec {
            kind: kind.as_str().to_owned(),
            chain: (*chain).to_owned(),
            seed: 21,
            block_ms: *block_ms,
            packets: mine
                .iter()
                .map(|(p, _, _)| hex::encode(p.to_bytes()))
                .collect(),
        };
        let spec_path = dir.join(format!("{chain}.json"));
        std::fs::write(&spec_path, serde_json::to_vec(&spec).unwrap()).unwrap();
        let log = std::fs::File::create(dir.join(format!("{chain}.log"))).unwrap();
        processes.0.push(
            Command::new(junction_bin())
                .args(["testnet", "fixture-ledger", "--spec"])
                .arg(&spec_path)
                .arg("--ready")
                .arg(dir.join(format!("{chain}.ready")))
                .stdin(Stdio::null())
                .stdout(Stdio::from(log.try_clone().unwrap()))
                .stderr(Stdio::from(log))
                .spawn()
                .unwrap(),
        );
        packets.extend(mine);
    }
    // A fourth ledger the relayer serves that goes down once the relayer has started: its
    // failing reads must hold back no other chain's packets.
    let down = FixtureSpec {
        kind: "tendermint".into(),
        chain: "down-fx".into(),
        seed: 22,
        block_ms: 1_000,
        packets: Vec::new(),
    };
    std::fs::write(dir.join("down-fx.json"), serde_json::to_vec(&down).unwrap()).unwrap();
    let mut down_process = Command::new(junction_bin())
        .args(["testnet", "fixture-ledger", "--spec"])
        .arg(dir.join("down-fx.json"))
        .arg("--ready")
        .arg(dir.join("down-fx.ready"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let ready: Vec<_> = ledgers
        .iter()
        .map(|(chain, ..)| {
            wait_ready(&dir.join(format!("{chain}.ready")), Duration::from_secs(30)).unwrap()
        })
        .collect();
    let down_ready = wait_ready(&dir.join("down-fx.ready"), Duration::from_secs(30)).unwrap();

    env.pass(
        ledgers
            .iter()
            .zip(&ready)
            .map(|((chain, kind, _, period, confirmations, ..), r)| {
                assert_eq!(r.kind, kind.as_str());
                register_chain(
                    &ChainId::new(*chain).unwrap(),
                    *kind,
                    *period,
                    *confirmations,
                    hex::decode(&r.trust_root).unwrap(),
                )
            })
            .collect(),
    );
    env.pass(
        ledgers
            .iter()
            .map(|(chain, _, app, ..)| ProposalKind::OpenRoute {
                route: RouteId::new(format!("{chain}-to-evm-a")).unwrap(),
                policy: RoutePolicy {
                    source_chain: ChainId::new(*chain).unwrap(),
                    source_apps: vec![app.clone()],
                    dest_chain: dest.clone(),
                    dest_apps: vec![escrow.to_vec()],
                    ordered: false,
                    max_payload: 4_096,
                    max_gas_limit: evmnet::ROUTE_GAS_LIMIT,
                    rate: RateLimit {
                        messages: 1_000,
                        bytes: 1_000_000,
                        window_ms: 1_000,
                    },
                    app_rate: None,
                    min_timeout_ms: 0,
                    max_timeout_ms: 7 * DAY_MS,
                    min_confirmations: 0,
                    fee: 0,
                },
            })
            .collect(),
    );

    // The relayer serves the fixture ledgers beside the anvil chains.
    let mut config = RelayerConfig::load(&env.evm.relayer_toml).unwrap();
    for r in ready.iter().chain([&down_ready]) {
        config.chains.push(ChainConfig {
            id: r.chain.clone(),
            adapter: AdapterChoice::LedgerRpc,
            rpc: r.endpoint.clone(),
            command: Vec::new(),
            evm_chain_id: 0,
            gateway: String::new(),
            deploy_block: 0,
            sender_key_file: String::new(),
            qbft: false,
        });
    }
    std::fs::write(&env.evm.relayer_toml, config.to_toml().unwrap()).unwrap();
    env.start_relayer();
    let connected = Instant::now();
    while !env
        .relayer_log()
        .contains("relayer rebuilt pending packets")
    {
        assert!(
            connected.elapsed() < Duration::from_secs(30),
            "the relayer never connected\n{}",
            env.relayer_log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = down_process.kill();
    let _ = down_process.wait();

    let start = Instant::now();
    for (packet, recipient, amount) in &packets {
        while env.balance("evm-a", *recipient) != U256::from(*amount) {
            assert!(
                start.elapsed() < Duration::from_secs(120),
                "{} #{} never reached the escrow\nrelayer log (down-fx lines left out):\n{}",
                packet.source_chain.as_str(),
                packet.sequence,
                std::fs::read_to_string(env.evm.relayer_toml.with_file_name("relayer.log"))
                    .unwrap_or_default()
                    .lines()
                    .filter(|l| !l.contains("down-fx"))
                    .collect::<Vec<_>>()
                    .join("\n")
            );
            std::thread::sleep(Duration::from_millis(300));
        }
    }
    // Each outcome is on the hub, logged for the source-only ledger that takes none.
    for (packet, ..) in &packets {
        let key = hex::encode(packet.key().hash());
        let shown = loop {
            let shown = env.net.rpc(0, "packet_show", json!({"key": key})).unwrap();
            if shown["state"] == "ack" || start.elapsed() > Duration::from_secs(150) {
                break shown;
            }
            std::thread::sleep(Duration::from_millis(300));
        };
        assert_eq!(shown["state"], "ack", "{shown}\n{}", env.relayer_log());
        assert_eq!(shown["outcome"]["kind"], "ack", "{shown}");
        let index = shown["outcome"]["log_index"].as_u64().unwrap();
        let entries = env
            .net
            .rpc(0, "log_entries", json!({"from": index, "to": index + 1}))
            .unwrap();
        let entry = &entries["entries"][0];
        assert_eq!(entry["kind"], "ack", "{entries}");
        assert_eq!(
            entry["target_chain"],
            packet.source_chain.as_str(),
            "{entries}"
        );
        assert_eq!(entry["key"], json!(key), "{entries}");
    }
    // The Bitcoin packets were proven at blocks 1 and 2 with 3 confirmations: the hub's
    // client holds at least block 4.
    let btc = env.client_state("btc-fx");
    assert!(btc["latest_height"].as_u64().unwrap() >= 4, "{btc}");
    for (chain, ..) in &ledgers {
        let state = env.client_state(chain);
        assert_eq!(state["status"], "active", "{chain}: {state}");
    }
    // The ledger that went down was named in the relayer's log and nothing else waited.
    let log = std::fs::read_to_string(env.evm.relayer_toml.with_file_name("relayer.log")).unwrap();
    assert!(
        log.contains("chain not read this cycle") && log.contains("down-fx"),
        "{}",
        env.relayer_log()
    );
    drop(processes);
}

/// Attested headers are signed by the members' attesters, each its own process reading
/// anvil itself, and gathered by the hub (k = 2 of n = 3); the relayer holds no attester key.
/// A relayer's header the chain never produced is refused whatever way it comes; one
/// attester down, packets flow; two down, they wait without loss and resume when one
/// restarts; an attester signing two headers at one height freezes the client.
#[test]
fn members_attesters_move_attested_clients_without_the_relayer() {
    use junction_light_clients::evm::attested::{
        sign_attested_header, AttestedHeader, SignedAttestedHeader,
    };
    use junction_spec::relay::HeaderAttestation;
    let Some(mut env) = setup_with(
        14_300,
        EvmNetOptions {
            attesters: 3,
            attesters_in_nodes: false,
            ..Default::default()
        },
    ) else {
        return;
    };
    let relayer_toml = std::fs::read_to_string(&env.evm.relayer_toml).unwrap();
    assert!(!relayer_toml.contains("attester"), "{relayer_toml}");
    let recipient = Address::repeat_byte(0x71);
    let chain = junction_spec::ChainId::new("evm-a").unwrap();

    // A header the chain never produced (the latest block with another state root): as a
    // relayer's update with no attester signature, with a key of its own, or as an
    // attestation by that key, each refused by name.
    let key = env.relayer_key();
    let a = env.adapter("evm-a");
    let latest = env.rt.block_on(a.latest_height()).unwrap();
    let mut forged: AttestedHeader = env.rt.block_on(a.attested_header(latest)).unwrap();
    forged.state_root = [0xee; 32];
    let own = k256::ecdsa::SigningKey::from_slice(&[0x42; 32]).unwrap();
    let own_sig = sign_attested_header(&own, &forged).unwrap();
    for (signatures, name) in [
        (vec![], "insufficient_signatures"),
        (vec![own_sig], "signer_not_attester"),
    ] {
        let update = RelayMsg::UpdateClient {
            chain: chain.clone(),
            header: SignedAttestedHeader {
                header: forged,
                signatures,
                full_header: None,
            }
            .to_bytes(),
        };
        let e = env.relay(&key, vec![update]).unwrap_err();
        assert_eq!(error_name(&e), name, "{e}");
    }
    let attest = |header: &AttestedHeader, k: &k256::ecdsa::SigningKey| TxKind::Attest {
        chain: chain.clone(),
        attestations: vec![HeaderAttestation {
            header: header.to_bytes(),
            signature: sign_attested_header(k, header).unwrap(),
        }],
    };
    let e = env.submit(&key, attest(&forged, &own)).unwrap_err();
    assert_eq!(error_name(&e), "signer_not_attester", "{e}");
    let before = env.client_state("evm-a")["latest_height"].as_u64().unwrap();

    // All three attesters: packets flow, the client moving with the chain.
    env.start_relayer();
    let t = env.far("evm-b");
    let p1 = env.send("evm-a", "evm-b", recipient, 1, t);
    env.expect_delivered(&p1, "evm-a", "evm-b", recipient, 1);
    assert!(env.client_state("evm-a")["latest_height"].as_u64().unwrap() > before);

    // One down (SIGKILL): two of three still agree.
    env.kill_attester(0);
    let p2 = env.send("evm-a", "evm-b", recipient, 2, t);
    env.expect_delivered(&p2, "evm-a", "evm-b", recipient, 3);

    // Two down: nothing moves the clients, and the packet waits.
    env.kill_attester(1);
    std::thread::sleep(Duration::from_secs(2));
    let stalled = env.client_state("evm-a")["latest_height"].as_u64().unwrap();
    let p3 = env.send("evm-a", "evm-b", recipient, 4, t);
    std::thread::sleep(Duration::from_secs(8));
    let held = env.client_state("evm-a")["latest_height"].as_u64().unwrap();
    assert!(
        held < p3.height,
        "one attester moved the client: {held} ≥ {}",
        p3.height
    );
    assert!(
        held <= stalled + 1,
        "the client moved while stalled: {stalled} → {held}"
    );
    let l = env.lifecycle(&p3, "evm-a", "evm-b");
    assert_eq!((l.outcome.clone(), l.delivered), (None, None), "{l:?}");
    // A restart resumes: the packet completes, once.
    env.start_attester(1);
    env.expect_delivered(&p3, "evm-a", "evm-b", recipient, 7);

    // Attester 1 moves to a fresh key while it runs (attester 0 still down, so every
    // header from here needs the new key): both keys sign, its seat on each chain moves,
    // the running process picks the new key file up, and packets keep flowing.
    let config = env.evm.attester_configs[1].clone();
    let (ok, out) = junction_tests::run_cli(&[
        "keys",
        "rotate-attester",
        "--config",
        config.to_str().unwrap(),
    ]);
    assert!(ok, "{out}");
    let report: Value = serde_json::from_str(&out).unwrap();
    let old_address = format!(
        "0x{}",
        hex::encode(junction_light_clients::hub::eth_address(
            env.evm.attester_keys[1].verifying_key()
        ))
    );
    assert_eq!(report["old"], old_address.as_str(), "{report}");
    let new_address = report["new"].as_str().unwrap().to_string();
    assert_eq!(report["rotated"].as_array().unwrap().len(), 2, "{report}");
    for chain in ["evm-a", "evm-b"] {
        let seats = env.client_state(chain)["attesters"].clone();
        assert!(
            seats
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a == new_address.trim_start_matches("0x")),
            "{seats}"
        );
        assert!(
            !seats
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a == old_address.trim_start_matches("0x")),
            "{seats}"
        );
    }
    // The old key is refused by name; the new one moves the clients with attester 2.
    let mut stale = forged;
    stale.number = held + 5_000;
    let e = env
        .submit(&key, attest(&stale, &env.evm.attester_keys[1]))
        .unwrap_err();
    assert_eq!(error_name(&e), "signer_not_attester", "{e}");
    let p4 = env.send("evm-a", "evm-b", recipient, 8, t);
    env.expect_delivered(&p4, "evm-a", "evm-b", recipient, 15);

    // Attester 2 signs two different headers at one height: the client freezes.
    let k2 = env.evm.attester_keys[2].clone();
    let mut one = forged;
    one.number = held + 10_000;
    let mut other = one;
    other.hash = [0x77; 32];
    env.submit(&key, attest(&one, &k2)).unwrap();
    env.submit(&key, attest(&other, &k2)).unwrap();
    let state = env.client_state("evm-a");
    assert_eq!(state["status"], "frozen", "{state}");
    assert_eq!(state["frozen_height"], one.number, "{state}");
    let e = env
        .submit(&key, attest(&one, &env.evm.attester_keys[1]))
        .unwrap_err();
    assert_eq!(error_name(&e), "client_frozen", "{e}");
}

/// Each chain served by its own relayer (an operator per chain): the relayer of the
/// destination learns from the hub the packets it did not see sent, proves their receipts
/// back to the hub, and the source's relayer delivers the acks. Both directions.
#[test]
fn a_relayer_per_chain_carries_packets_it_did_not_see_sent() {
    let Some(mut env) = setup(14_500, false) else {
        return;
    };
    let only = |path: &std::path::Path, chain: &str| {
        let mut c = junction_relayer::RelayerConfig::load(path).unwrap();
        c.chains.retain(|c| c.id == chain);
        assert_eq!(c.chains.len(), 1);
        std::fs::write(path, c.to_toml().unwrap()).unwrap();
    };
    only(&env.evm.relayer_toml, "evm-a");
    only(&env.evm.second_relayer_toml, "evm-b");
    env.start_relayer();
    env.start_second_relayer();
    let recipient = Address::repeat_byte(0x73);
    let to_b = env.send("evm-a", "evm-b", recipient, 5, env.far("evm-b"));
    let to_a = env.send("evm-b", "evm-a", recipient, 6, env.far("evm-a"));
    env.expect_delivered(&to_b, "evm-a", "evm-b", recipient, 5);
    env.expect_delivered(&to_a, "evm-b", "evm-a", recipient, 6);
}

/// The reference plugin's Python and program, or `None` (said, and skipped) outside CI
/// when `scripts/setup-plugin.sh` has not run.
fn reference_plugin() -> Option<Vec<String>> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap();
    match evmnet::reference_plugin(root) {
        Ok(command) => Some(command),
        Err(e) => {
            assert!(
                std::env::var("CI").map_or(true, |v| v != "true"),
                "CI=true and no plugin: {e}"
            );
            eprintln!("SKIPPED: {e}");
            None
        }
    }
}

/// [`setup_with`] on `base_port` with `evm-b` served through the reference plugin, and the
/// plugin's program (`None` when either is skipped).
fn setup_with_plugin(base_port: u16) -> Option<(Env, Vec<String>)> {
    let plugin = reference_plugin()?;
    let env = setup_with(
        base_port,
        EvmNetOptions {
            plugin_chain: Some(("evm-b".into(), plugin.clone())),
            ..Default::default()
        },
    )?;
    Some((env, plugin))
}

/// A copy of the reference plugin broken on purpose: `patch` (Python, run after the
/// plugin module is imported as `p`, before it starts) changes one method.
fn broken_plugin(dir: &std::path::Path, name: &str, plugin: &[String], patch: &str) -> String {
    let program = std::path::Path::new(&plugin[1]);
    let path = dir.join(format!("{name}.py"));
    let code = format!(
        "import sys\nsys.path.insert(0, {:?})\nimport junction_evm_plugin as p\n{patch}\nsys.exit(p.main())\n",
        program.parent().unwrap().display().to_string()
    );
    std::fs::write(&path, code).unwrap();
    path.display().to_string()
}

/// One chain served through the Python reference plugin (`adapter = "plugin"`): packets
/// round trip both ways through it exactly as through the built-in adapter. Then the
/// conformance kit passes on the plugin and on the built-in adapter, and names the check a
/// broken copy of the plugin fails: one that skips an event (`events_complete`), one that
/// answers proofs from another height (`commitment_proofs_verify`).
#[test]
fn a_chain_behind_the_python_plugin_round_trips_and_the_kit_judges_both_adapters() {
    let Some((mut env, plugin)) = setup_with_plugin(14_900) else {
        return;
    };
    let config = junction_relayer::RelayerConfig::load(&env.evm.relayer_toml).unwrap();
    let served = config.chains.iter().find(|c| c.id == "evm-b").unwrap();
    assert_eq!(served.adapter, junction_relayer::AdapterChoice::Plugin);
    let plugin_args: Vec<String> = served.command[2..].to_vec();

    env.start_relayer();
    let recipient = Address::repeat_byte(0x5a);
    let to_b = env.send("evm-a", "evm-b", recipient, 7, env.far("evm-b"));
    let to_a = env.send("evm-b", "evm-a", recipient, 8, env.far("evm-a"));
    env.expect_delivered(&to_b, "evm-a", "evm-b", recipient, 7);
    env.expect_delivered(&to_a, "evm-b", "evm-a", recipient, 8);
    for (sent, src, dst) in [(&to_b, "evm-a", "evm-b"), (&to_a, "evm-b", "evm-a")] {
        let l = env.lifecycle(sent, src, dst);
        assert_eq!(l.hub_state.as_deref(), Some("ack"), "{l:?}");
        assert!(l.delivered.is_some_and(|(_, ran)| ran), "{l:?}");
    }

    // A packet left pending on each chain (the relayer is stopped first) for the kit to
    // prove; then a relayer serving only `evm-a` brings both packets from `evm-a` to the
    // hub, and nobody delivers them: the kit delivers them among entries delivered
    // already (the packet from `evm-b` stays pending).
    env.kill_relayer();
    env.send("evm-b", "evm-a", recipient, 1, env.far("evm-a"));
    env.send("evm-a", "evm-b", recipient, 1, env.far("evm-b"));
    let mut source_only =
        junction_relayer::RelayerConfig::load(&env.evm.second_relayer_toml).unwrap();
    source_only.chains.retain(|c| c.id == "evm-a");
    std::fs::write(&env.evm.second_relayer_toml, source_only.to_toml().unwrap()).unwrap();
    let logged = env.send("evm-a", "evm-b", recipient, 2, env.far("evm-b"));
    env.start_second_relayer();
    let start = Instant::now();
    // Logged, and under the latest signed checkpoint (the kit proves it under that one).
    loop {
        let index = env
            .net
            .rpc(
                0,
                "packet_show",
                json!({"key": hex::encode(logged.packet.key().hash())}),
            )
            .and_then(|v| v["packet_index"].as_u64());
        let signed = env
            .net
            .rpc(0, "checkpoint", json!({}))
            .and_then(|v| v["checkpoint"]["log_size"].as_u64());
        if let (Some(i), Some(n)) = (index, signed) {
            if i < n {
                break;
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "never logged under a signed checkpoint"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    if let Some(mut c) = env.second_relayer.take() {
        let _ = c.kill();
        let _ = c.wait();
    }
    let toml = env.evm.relayer_toml.to_str().unwrap().to_owned();
    let passing = |chain: &str, skipped: &[&str]| {
        let (ok, out) =
            junction_tests::run_cli(&["adapter", "test", "--config", &toml, "--chain", chain]);
        eprintln!("kit on {chain}:\n{out}");
        assert!(ok, "{chain} fails the kit:\n{out}");
        for name in junction_conformance::CHECKS {
            let verdict = if skipped.contains(&name) {
                "skip"
            } else {
                "pass"
            };
            assert!(
                out.lines()
                    .any(|l| l.starts_with(verdict) && l.split_whitespace().nth(1) == Some(name)),
                "{chain}: {name} is not `{verdict}`:\n{out}"
            );
        }
        out
    };
    let out = passing("evm-b", &[]);
    assert!(
        out.lines()
            .any(|l| l.contains("deliveries_per_entry") && l.contains("2 received")),
        "the logged, undelivered packets are not delivered among the others:\n{out}"
    );
    assert_eq!(
        env.balance("evm-b", recipient),
        U256::from(10),
        "7 from the round trip, 1 and 2 the kit delivered:\n{out}"
    );
    passing("evm-a", &["bad_requests_answered", "limits_respected"]);

    let dir = tempfile::tempdir().unwrap();
    let python = plugin[0].clone();
    let failing = |name: &str, patch: &str, check: &str| {
        let program = broken_plugin(dir.path(), name, &plugin, patch);
        let mut args = vec![
            "adapter",
            "test",
            "--chain",
            "evm-b",
            "--",
            python.as_str(),
            program.as_str(),
        ];
        args.extend(plugin_args.iter().map(String::as_str));
        let (ok, out) = junction_tests::run_cli(&args);
        eprintln!("kit on {name}:\n{out}");
        assert!(!ok, "{name} passes the kit:\n{out}");
        assert!(
            out.lines()
                .any(|l| l.starts_with("FAIL") && l.split_whitespace().nth(1) == Some(check)),
            "{name} does not fail {check}:\n{out}"
        );
    };
    failing(
        "skips_an_event",
        "sent = p.EvmPlugin.chain_sent_packets\n\
         def skipping(self, params):\n    answer = sent(self, params)\n    answer['packets'] = answer['packets'][:1] + answer['packets'][2:]\n    return answer\n\
         p.EvmPlugin.chain_sent_packets = skipping\n",
        "events_complete",
    );
    failing(
        "proves_at_another_height",
        "prove = p.EvmPlugin.chain_prove\n\
         def elsewhere(self, params):\n    asked = params['height']\n    answer = prove(self, dict(params, height=self.deploy_block))\n    for r in answer['results']:\n        if 'proof' in r:\n            r['proof']['height'] = asked\n    return answer\n\
         p.EvmPlugin.chain_prove = elsewhere\n",
        "commitment_proofs_verify",
    );
}

/// A Prometheus server scraping `targets` (`host:port` serving `/metrics`) every second,
/// stopped and its data removed when dropped; `None` (said, and skipped) outside CI when
/// Debian's `prometheus` is not installed.
struct Prometheus {
    child: Child,
    addr: String,
    _dir: tempfile::TempDir,
}

impl Prometheus {
    fn start(port: u16, targets: &[String]) -> Option<Self> {
        if Command::new("prometheus")
            .arg("--version")
            .output()
            .is_err()
        {
            assert!(
                std::env::var("CI").map_or(true, |v| v != "true"),
                "CI=true and no prometheus: scripts/setup-prometheus.sh installs it"
            );
            eprintln!("SKIPPED: no prometheus; run scripts/setup-prometheus.sh (CI does)");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let list: Vec<String> = targets.iter().map(|t| format!("'{t}'")).collect();
        let config = dir.path().join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global: {{scrape_interval: 1s, evaluation_interval: 1s}}\nscrape_configs:\n  - job_name: junction\n    static_configs: [{{targets: [{}]}}]\n",
                list.join(", ")
            ),
        )
        .unwrap();
        let addr = format!("127.0.0.1:{port}");
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address={addr}"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("prometheus.log")).unwrap())
            .spawn()
            .unwrap();
        Some(Self {
            child,
            addr,
            _dir: dir,
        })
    }

    /// The instant vector of `expr`, through the HTTP API.
    fn query(&self, expr: &str) -> Vec<Value> {
        let encoded: String = expr
            .bytes()
            .map(|b| match b {
                b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' | b'-' | b'.' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect();
        let Ok(r) = junction_tests::http_get(&self.addr, &format!("/api/v1/query?query={encoded}"))
        else {
            return Vec::new();
        };
        let v: Value = serde_json::from_str(&r.body).unwrap_or(Value::Null);
        assert_ne!(v["status"], "error", "{expr}: {}", r.body);
        v["data"]["result"].as_array().cloned().unwrap_or_default()
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The first JSON object a command printed (its log lines may come first or after).
fn json_of(out: &str) -> Result<Value, String> {
    let at = out
        .find("\n{")
        .map(|i| i + 1)
        .or_else(|| out.starts_with('{').then_some(0));
    let Some(at) = at else {
        return Err(format!("no JSON in: {out}"));
    };
    serde_json::Deserializer::from_str(&out[at..])
        .into_iter::<Value>()
        .next()
        .ok_or_else(|| format!("no JSON in: {out}"))?
        .map_err(|e| format!("{e}: {out}"))
}

/// What `junction relay status --config <toml>` reports (`None` while it cannot answer).
fn relay_status(toml: &std::path::Path) -> Option<Value> {
    let (ok, out) =
        junction_tests::run_cli(&["relay", "status", "--config", toml.to_str().unwrap()]);
    ok.then(|| json_of(&out).ok()).flatten()
}

/// `junction packet show <key> --relayer <addr>`: the hub's record and the relayer's reason.
fn packet_with_reason(env: &Env, sent: &Sent, relayer: &str) -> Value {
    let shown = try_packet_with_reason(env, sent, relayer);
    assert!(shown.is_ok(), "packet show: {shown:?}");
    shown.unwrap_or_default()
}

fn try_packet_with_reason(env: &Env, sent: &Sent, relayer: &str) -> Result<Value, String> {
    let key = hex::encode(sent.packet.key().hash());
    let rpc = format!("http://{}", env.net.rpc[0]);
    let (ok, out) =
        junction_tests::run_cli(&["packet", "show", &key, "--rpc", &rpc, "--relayer", relayer]);
    if !ok {
        return Err(out);
    }
    json_of(&out)
}

/// Waits until the hub holds `sent` as pending (logged for its destination).
fn wait_logged(env: &Env, sent: &Sent, relayer: &str) {
    let start = Instant::now();
    while try_packet_with_reason(env, sent, relayer)
        .map_or(true, |v| v["hub"]["state"] != "pending")
    {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "never logged:\n{}",
            env.relayer_log()
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// Relayer operations on real processes, with one chain behind the Python plugin:
/// - a backlog found at start is cleared `clear_limit` packets a cycle, the progress in
///   `relay status` (`backlog_clearing`, and packets waiting for it by that reason);
/// - why a packet waits, served by the relayer and shown by `packet show --relayer`;
/// - a manual delivery with a gas override (`packet deliver --gas`): too little gas
///   delivers nothing, enough delivers it, sent with exactly that gas;
/// - a packet parked by an operator (`packet park`, a hub transaction and event; a second
///   park refused as `already_parked`) is not delivered and ends by its timeout, refunded;
/// - a plugin killed under the relayer is counted, restarted, and its chain goes on;
/// - every panel of `docs/dashboards/junction.json`, run through a real Prometheus that
///   scrapes the hub and both relayers, returns data.
#[test]
fn relayer_operations_backlog_reasons_manual_delivery_parking_and_dashboards() {
    let Some((mut env, _)) = setup_with_plugin(15_100) else {
        return;
    };
    let first_toml = env.evm.relayer_toml.clone();
    let second_toml = env.evm.second_relayer_toml.clone();
    let set = |path: &std::path::Path, chains: &[&str], clear_limit: usize| {
        let mut c = junction_relayer::RelayerConfig::load(path).unwrap();
        c.chains.retain(|c| chains.contains(&c.id.as_str()));
        c.clear_limit = clear_limit;
        std::fs::write(path, c.to_toml().unwrap()).unwrap();
        c.metrics_listen.unwrap().to_string()
    };
    let first_addr = set(&first_toml, &["evm-a", "evm-b"], 2);
    let second_addr = set(&second_toml, &["evm-b"], 100);
    let mut targets: Vec<String> = env.net.rpc.clone();
    targets.extend([first_addr.clone(), second_addr.clone()]);
    let Some(prometheus) = Prometheus::start(15_180, &targets) else {
        return;
    };
    let recipient = Address::repeat_byte(0x6b);

    // 1. A backlog of 5, cleared 2 a cycle.
    let backlog: Vec<Sent> = (0..5)
        .map(|_| env.send("evm-a", "evm-b", recipient, 1, env.far("evm-b")))
        .collect();
    env.start_relayer();
    let mut most_deferred = 0;
    let start = Instant::now();
    loop {
        if let Some(s) = relay_status(&first_toml) {
            let clearing = &s["backlog_clearing"];
            if clearing["found_at_start"].as_u64() == Some(5) {
                most_deferred = most_deferred.max(
                    s["waiting"]["by_reason"]["backlog_clearing"]
                        .as_u64()
                        .unwrap_or(0),
                );
                if clearing["remaining"].as_u64() == Some(0) {
                    assert_eq!(clearing["cleared"].as_u64(), Some(5), "{s}");
                    break;
                }
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "the backlog was not cleared:\n{}",
            env.relayer_log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        most_deferred >= 1,
        "no packet ever waited for the clear limit"
    );
    for s in &backlog {
        let l = env.wait_outcome(s, "evm-a", "evm-b", Duration::from_secs(60));
        assert_eq!(
            l.outcome.as_ref().map(|o| o.0.as_str()),
            Some("ack"),
            "{l:?}"
        );
    }
    assert_eq!(env.balance("evm-b", recipient), U256::from(5));

    // 2. Why a packet waits, and a manual delivery with a gas override: the relayer
    // serves only the source, nobody the destination.
    env.kill_relayer();
    set(&first_toml, &["evm-a"], 100);
    env.start_relayer();
    let manual = env.send("evm-a", "evm-b", recipient, 30, env.far("evm-b"));
    wait_logged(&env, &manual, &first_addr);
    let start = Instant::now();
    let seen = loop {
        let v = packet_with_reason(&env, &manual, &first_addr);
        if v["relayer"]["reason"] == "destination_served_elsewhere" {
            break v;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no reason given: {v}"
        );
        std::thread::sleep(Duration::from_millis(300));
    };
    assert!(
        seen["relayer"]["detail"]
            .as_str()
            .unwrap()
            .contains("evm-b"),
        "{seen}"
    );
    let manual_key = hex::encode(manual.packet.key().hash());
    let second = second_toml.to_str().unwrap();
    let (ok, out) = junction_tests::run_cli(&[
        "packet",
        "deliver",
        &manual_key,
        "--config",
        second,
        "--gas",
        "60000",
    ]);
    assert!(!ok, "60,000 gas delivered it: {out}");
    assert!(out.contains("tx_reverted") || out.contains("rpc"), "{out}");
    assert_eq!(env.balance("evm-b", recipient), U256::from(5));
    let (ok, out) = junction_tests::run_cli(&[
        "packet",
        "deliver",
        &manual_key,
        "--config",
        second,
        "--gas",
        "3000000",
    ]);
    assert!(ok, "{out}");
    let delivered = json_of(&out).unwrap();
    assert_eq!(delivered["received"], 1, "{delivered}");
    assert_eq!(delivered["kind"], "packet", "{delivered}");
    assert_eq!(env.balance("evm-b", recipient), U256::from(35));
    let tx = env
        .rt
        .block_on(async {
            use alloy::providers::Provider as _;
            let c = env.evm.chain("evm-b").unwrap();
            let p = evmnet::provider(
                &c.anvil.endpoint(),
                junction_adapters::evm::anvil::DEV_KEY_0,
            )
            .unwrap();
            let hash: [u8; 32] = hex::decode(delivered["tx_hash"].as_str().unwrap())
                .unwrap()
                .try_into()
                .unwrap();
            p.get_transaction_by_hash(hash.into()).await
        })
        .unwrap()
        .unwrap();
    assert_eq!(alloy::consensus::Transaction::gas_limit(&tx), 3_000_000);
    // The ack goes back once the destination's relayer runs (it proves the receipt).
    env.start_second_relayer();
    let l = env.wait_outcome(&manual, "evm-a", "evm-b", Duration::from_secs(90));
    assert_eq!(
        l.outcome.as_ref().map(|o| o.0.as_str()),
        Some("ack"),
        "{l:?}"
    );

    // 3. A parked packet is not delivered and ends by its timeout. The destination's
    // relayer is stopped while the packet is logged and parked.
    if let Some(mut c) = env.second_relayer.take() {
        let _ = c.kill();
        let _ = c.wait();
    }
    let deadline = Timeout {
        height: 0,
        time_ms: env.rt.block_on(env.evm.time_ms("evm-b")).unwrap() + 25_000,
    };
    let parked = env.send("evm-a", "evm-b", recipient, 50, deadline);
    wait_logged(&env, &parked, &first_addr);
    let key = hex::encode(parked.packet.key().hash());
    let reason = "the destination app is retired";
    let first = first_toml.to_str().unwrap();
    let (ok, out) = junction_tests::run_cli(&[
        "packet", "park", &key, "--reason", reason, "--config", first,
    ]);
    assert!(ok, "park: {out}");
    let (ok, out) = junction_tests::run_cli(&[
        "packet", "park", &key, "--reason", reason, "--config", first,
    ]);
    assert!(
        !ok && out.contains("already_parked"),
        "a second park: {out}"
    );
    let show = packet_with_reason(&env, &parked, &first_addr);
    assert_eq!(show["hub"]["parked"]["reason"], reason, "{show}");
    assert_eq!(env.hub_events_named("packet/parked").len(), 1);
    env.start_second_relayer();
    let start = Instant::now();
    loop {
        // The relayer answers once it has started.
        let v = try_packet_with_reason(&env, &parked, &second_addr).unwrap_or_default();
        if v["relayer"]["reason"] == "parked" {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the destination's relayer does not report it parked: {v}\n{}",
            std::fs::read_to_string(second_toml.with_file_name("relayer.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    let l = env.wait_outcome(&parked, "evm-a", "evm-b", Duration::from_secs(90));
    assert_eq!(
        l.outcome.as_ref().map(|o| o.0.as_str()),
        Some("timeout"),
        "{l:?}"
    );
    assert!(
        l.delivered.is_none(),
        "a parked packet was delivered: {l:?}"
    );
    assert_eq!(env.balance("evm-b", recipient), U256::from(35));

    // 4. A plugin killed under the relayer: counted, restarted, and its chain goes on.
    let sender_file = second_toml.with_file_name("sender.json");
    let killed = Command::new("pkill")
        .args([
            "-KILL",
            "-f",
            &format!("junction_evm_plugin.py.*{}", sender_file.display()),
        ])
        .status()
        .unwrap();
    assert!(killed.success(), "no plugin process of the second relayer");
    let after = env.send("evm-a", "evm-b", recipient, 7, env.far("evm-b"));
    env.expect_delivered(&after, "evm-a", "evm-b", recipient, 42);

    // 5. Every panel's query returns data.
    let dashboard: Value = serde_json::from_str(
        &std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../docs/dashboards/junction.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let exprs: Vec<String> = dashboard["panels"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["targets"].as_array().cloned().unwrap_or_default())
        .map(|t| t["expr"].as_str().unwrap().to_owned())
        .collect();
    assert!(exprs.len() >= 15, "{exprs:?}");
    let start = Instant::now();
    for expr in &exprs {
        while prometheus.query(expr).is_empty() {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "the panel query {expr} returns no data"
            );
            std::thread::sleep(Duration::from_millis(500));
        }
    }
    for (expr, what) in [
        (
            "junction_relayer_plugin_failures_total{chain=\"evm-b\",reason=\"plugin_exited\"}",
            "the killed plugin",
        ),
        (
            "junction_rejected_txs_total{reason=\"already_parked\"}",
            "the second park",
        ),
    ] {
        assert!(!prometheus.query(expr).is_empty(), "{what} is not counted");
    }
}

/// The attestation addresses that signed the hub's checkpoint at `height` (node `node`'s
/// answer), recovered from the signatures it serves.
fn checkpoint_signers(env: &Env, node: usize, height: u64) -> Vec<[u8; 20]> {
    let cp = env
        .net
        .rpc(node, "checkpoint", json!({"height": height}))
        .unwrap();
    let digest: [u8; 32] = hex::decode(cp["hash"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    cp["signatures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let sig: [u8; 65] = hex::decode(s.as_str().unwrap())
                .unwrap()
                .try_into()
                .unwrap();
            junction_light_clients::hub::recover_signer(&digest, &sig, 0).unwrap()
        })
        .collect()
}

fn hex20(v: &Value) -> [u8; 20] {
    hex::decode(v.as_str().unwrap().trim_start_matches("0x"))
        .unwrap()
        .try_into()
        .unwrap()
}

fn hex32(v: &Value) -> [u8; 32] {
    hex::decode(v.as_str().unwrap().trim_start_matches("0x"))
        .unwrap()
        .try_into()
        .unwrap()
}

/// Waits until the hub's validator set (node 0's `validators`) has `n` validators; returns
/// the answer.
fn wait_validators(env: &Env, n: usize) -> Value {
    let start = Instant::now();
    loop {
        let v = env.net.rpc(0, "validators", json!({})).unwrap();
        if v["validators"].as_array().unwrap().len() == n {
            return v;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the validator set never reached {n}: {v}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Validator-set changes by vote, carried out, on real processes: an operator makes a
/// fifth node's home from the hub's genesis (`junction init --genesis`) and starts it; it
/// follows the chain, and once the council's `AddValidator` executes it signs (two heights
/// later) — with two of the original four down, the chain and the packets go on only
/// because it signs. An original validator removed by vote stops counting: its key is gone
/// from the hub's sets, and a checkpoint signed by it alone is refused by the gateway
/// (`UnknownSigner`). Packets flow over the anvil gateways across both changes: the relayer
/// hands each gateway over to the new attestation set with the checkpoint that names it.
#[test]
fn validators_voted_in_and_out_sign_and_stop_signing_and_gateways_follow() {
    let Some(mut env) = setup(15_300, false) else {
        return;
    };
    env.start_relayer();
    let before = env.net.rpc(0, "validators", json!({})).unwrap();
    let genesis_set = before["attestation_set_hash"].clone();
    let to_b = Address::repeat_byte(0x91);
    let sent = env.send("evm-a", "evm-b", to_b, 31, env.far("evm-b"));
    env.expect_delivered(&sent, "evm-a", "evm-b", to_b, 31);

    // The operator of a fifth organization makes its home and starts its node.
    let (joined, keys) = env.net.join(15_350);
    env.net.start(joined);
    let tip = env.net.height(0).unwrap();
    env.net.wait_height(joined, tip, Duration::from_secs(60));
    let new_key = hex32(&keys["pub_key"]);
    let new_attester = hex20(&keys["attestation_address"]);
    env.pass(vec![ProposalKind::AddValidator {
        pub_key: new_key,
        power: 10,
        attestation_address: new_attester,
    }]);
    let added = wait_validators(&env, 5);
    assert_ne!(added["attestation_set_hash"], genesis_set, "{added}");
    // The first height the five sign was named one checkpoint ahead.
    let changes = env.net.rpc(0, "validator_changes", json!({})).unwrap();
    let handover = changes["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| {
            c["attestation_set_hash"] == genesis_set
                && c["next_attestation_set_hash"] == added["attestation_set_hash"]
        })
        .unwrap_or_else(|| panic!("no hand-over checkpoint: {changes}"))
        .clone();
    let first = handover["height"].as_u64().unwrap() + 1;
    let cp = env
        .net
        .rpc(0, "checkpoint", json!({"height": first - 1}))
        .unwrap();
    assert!(cp["next_attestation_set_hex"].is_string(), "{cp}");
    // With one of the original four down, only the new validator's vote makes a quorum
    // (4 of 5): blocks go on, and their checkpoints carry its attestation.
    env.net.wait_height(0, first, Duration::from_secs(60));
    env.net.kill(1);
    let tip = env.net.height(0).unwrap();
    env.net.wait_height(0, tip + 3, Duration::from_secs(60));
    for h in tip + 2..=tip + 3 {
        assert!(
            checkpoint_signers(&env, 0, h).contains(&new_attester),
            "height {h}"
        );
    }
    env.net.start(1);

    // Remove one of the original four.
    let removed_home = junction_hub::config::Home::new(&env.net.homes[3]);
    let removed_key = hex32(&json!(
        KeyFile::load(&removed_home.validator_key_file())
            .unwrap()
            .public_key
    ));
    let removed_attest =
        junction_hub::config::AttestationKeyFile::load(&removed_home.attestation_key_file())
            .unwrap();
    let removed_attester = hex20(&json!(removed_attest.address));
    env.pass(vec![ProposalKind::RemoveValidator {
        pub_key: removed_key,
    }]);
    let after = wait_validators(&env, 4);
    assert!(
        after["validators"]
            .as_array()
            .unwrap()
            .iter()
            .all(|v| hex20(&v["attestation_address"]) != removed_attester),
        "{after}"
    );
    let tip = env.net.height(0).unwrap();
    env.net.wait_height(0, tip + 3, Duration::from_secs(60));
    for h in tip + 1..=tip + 3 {
        assert!(
            !checkpoint_signers(&env, 0, h).contains(&removed_attester),
            "height {h}"
        );
    }

    // With the removed validator and one more of the originals down, only the new
    // validator's votes make a quorum (3 of 4): blocks go on. (Node 1 comes back for its
    // member's attester, which the attested chains' clients need.)
    env.net.kill(3);
    env.net.kill(1);
    let tip = env.net.height(0).unwrap();
    env.net.wait_height(0, tip + 3, Duration::from_secs(60));
    for h in tip + 2..=tip + 3 {
        let signers = checkpoint_signers(&env, 0, h);
        assert!(signers.contains(&new_attester), "height {h}");
        assert!(!signers.contains(&removed_attester), "height {h}");
    }
    env.net.start(1);
    let to_a = Address::repeat_byte(0x92);
    let sent = env.send("evm-b", "evm-a", to_a, 32, env.far("evm-a"));
    env.expect_delivered(&sent, "evm-b", "evm-a", to_a, 32);
    let to_b = Address::repeat_byte(0x93);
    let sent = env.send("evm-a", "evm-b", to_b, 33, env.far("evm-b"));
    env.expect_delivered(&sent, "evm-a", "evm-b", to_b, 33);
    let current: [u8; 32] = hex32(&after["attestation_set_hash"]);
    for id in ["evm-a", "evm-b"] {
        let held = env
            .rt
            .block_on(env.adapter(id).gateway_attestation_set())
            .unwrap();
        assert_eq!(
            held,
            Some(current),
            "{id}'s gateway holds the hub's current set"
        );
    }

    // A checkpoint signed by the removed validator's key alone: refused by the gateway.
    let latest = env.net.rpc(0, "checkpoint", json!({})).unwrap();
    let mut forged =
        Checkpoint::from_bytes(&hex::decode(latest["checkpoint_hex"].as_str().unwrap()).unwrap())
            .unwrap();
    forged.height += 1_000;
    forged.time_ms += 1_000;
    let sig =
        junction_hub::attest::sign(&removed_attest.signing_key().unwrap(), &forged.hash()).unwrap();
    let proof = CheckpointProof {
        checkpoint: forged,
        signatures: vec![sig],
        attestation_set: Some(
            AttestationSet::from_bytes(
                &hex::decode(latest["attestation_set_hex"].as_str().unwrap()).unwrap(),
            )
            .unwrap(),
        ),
        next_set: None,
    };
    let e = env
        .rt
        .block_on(env.adapter("evm-b").deliver(&proof, &[]))
        .unwrap_err();
    assert!(e.to_string().contains("UnknownSigner"), "{e}");
}

/// A gateway retired by the council with packets in flight both ways (`spec/upgrades.md`,
/// *Retiring a gateway*): a packet logged for it before the vote is still run there and
/// acknowledged; a packet it sent before the vote still reaches its destination and its
/// ack comes back to it, so its escrow is settled; once it holds the hub's notice it
/// refuses new sends by name and names its successor; a packet sent to it after the vote
/// ends with a final error-ack `gateway_retired` and its refund; the successor (registered
/// by vote) carries new packets.
#[test]
fn a_retired_gateway_refuses_new_sends_and_settles_every_packet_in_flight() {
    use alloy::sol_types::SolError as _;
    use junction_adapters::evm::gateway::JunctionGateway;
    let Some(mut env) = setup_with(
        15_700,
        EvmNetOptions {
            chains: 3,
            attesters_in_nodes: false,
            ..Default::default()
        },
    ) else {
        return;
    };
    let (r1, r2, r3, r4) = (
        Address::repeat_byte(0x71),
        Address::repeat_byte(0x72),
        Address::repeat_byte(0x73),
        Address::repeat_byte(0x74),
    );
    // In flight to evm-b: logged on the hub for its gateway (by hand, no relayer yet),
    // not delivered.
    let to_b = env.send("evm-a", "evm-b", r1, 12, env.far("evm-b"));
    env.recv_by_hand(&to_b);
    assert_eq!(
        env.lifecycle(&to_b, "evm-a", "evm-b").hub_state.as_deref(),
        Some("pending")
    );
    // In flight from evm-b: sent, not yet proven to the hub.
    let from_b = env.send("evm-b", "evm-a", r2, 13, env.far("evm-a"));

    env.pass(vec![ProposalKind::RetireGateway {
        chain: junction_spec::ChainId::new("evm-b").unwrap(),
        successor: Some(junction_spec::ChainId::new("evm-c").unwrap()),
    }]);
    let logged = env.hub_events_named("packet/gateway_retirement_logged");
    assert_eq!(logged.len(), 1, "{logged:?}");
    assert!(logged[0].to_string().contains("evm-c"), "{logged:?}");
    let retired = env.net.rpc(0, "retired_gateways", json!({})).unwrap();
    assert_eq!(retired[0]["chain"], "evm-b", "{retired}");
    assert_eq!(retired[0]["successor"], "evm-c", "{retired}");
    assert!(retired[0]["log_index"].is_u64(), "{retired}");

    // Sent to evm-b after the vote: refused for good, refunded on evm-a.
    let sender = env.user();
    let before = env.balance("evm-a", sender);
    let late = env.send("evm-a", "evm-b", r3, 14, env.far("evm-b"));
    assert_eq!(env.balance("evm-a", sender), before - U256::from(14));

    env.start_relayer();
    env.expect_delivered(&to_b, "evm-a", "evm-b", r1, 12);
    env.expect_delivered(&from_b, "evm-b", "evm-a", r2, 13);
    env.expect_outcome(&late, "evm-a", "evm-b", "error_ack", "gateway_retired");
    assert_eq!(env.balance("evm-a", sender), before);
    assert_eq!(env.balance("evm-b", r3), U256::ZERO);

    // The notice reached the gateway: it names its successor and refuses new sends.
    let b = env.evm.chain("evm-b").unwrap();
    let p = evmnet::provider(
        &b.anvil.endpoint(),
        junction_adapters::evm::anvil::DEV_KEY_0,
    )
    .unwrap();
    let gateway = JunctionGateway::new(b.gateway, &p);
    let start = Instant::now();
    while !env
        .rt
        .block_on(async { gateway.retired().call().await })
        .unwrap()
    {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the notice never reached evm-b's gateway\n{}",
            env.relayer_log()
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    assert_eq!(
        env.rt
            .block_on(async { gateway.successorChain().call().await })
            .unwrap(),
        "evm-c"
    );
    let e = env
        .rt
        .block_on(
            env.evm
                .escrow_send("evm-b", "evm-a", r3, 1, env.far("evm-a")),
        )
        .unwrap_err()
        .to_string();
    let selector = hex::encode(JunctionGateway::GatewayIsRetired::SELECTOR);
    assert!(
        e.contains("GatewayIsRetired") || e.contains(&selector),
        "{e}"
    );

    // The successor carries new packets.
    let to_c = env.send("evm-a", "evm-c", r4, 15, env.far("evm-c"));
    env.expect_delivered(&to_c, "evm-a", "evm-c", r4, 15);
}
