//! Hub to hub on real processes (`spec/hub-to-hub.md`): two hubs of 4 validators each,
//! with their own councils, an anvil chain under each (`evm-a` under `hub-a`, `evm-b` under
//! `hub-b`) followed by the members' attesters, a relayer per hub and the bridge
//! (`junction relay hubs`) between the hubs. Each council registered the other hub, the
//! other hub's chain through it and its own segment of the routes by vote. Loopback only.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Child;
use std::time::{Duration, Instant};

use alloy::primitives::{Address, U256};
use junction_adapters::evm::gateway::TokenEscrow;
use junction_adapters::Adapter;
use junction_devtools::evmnet::{self, EvmNet, EvmNetOptions, Lifecycle, Sent};
use junction_devtools::hubnet::{self, HubNet};
use junction_spec::gov::ProposalKind;
use junction_spec::Timeout;
use junction_tests::{spawn_logged, Net};
use serde_json::{json, Value};

struct Hubs {
    nets: [Net; 2],
    hub: HubNet,
    rt: tokio::runtime::Runtime,
    relayers: [Option<Child>; 2],
    bridge: Option<Child>,
}

impl Drop for Hubs {
    fn drop(&mut self) {
        for c in self
            .relayers
            .iter_mut()
            .chain(std::iter::once(&mut self.bridge))
            .flatten()
        {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn setup(base_port: u16) -> Option<Hubs> {
    if junction_adapters::evm::anvil::anvil_binary().is_none() {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "CI=true and no anvil binary: scripts/setup-evm.sh installs it"
        );
        eprintln!("SKIPPED: no anvil binary; run scripts/setup-evm.sh (CI does)");
        return None;
    }
    let mut nets = [
        Net::init_chain(4, base_port, hubnet::HUB_IDS[0]),
        Net::init_chain(4, base_port + 50, hubnet::HUB_IDS[1]),
    ];
    for n in nets.iter_mut() {
        n.start_all();
    }
    for n in &nets {
        n.wait_height(0, 2, Duration::from_secs(60));
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dirs = [
        nets[0].dir.path().join("net"),
        nets[1].dir.path().join("net"),
    ];
    let bridge_dir = nets[0].dir.path().join("bridge");
    let hub = rt
        .block_on(hubnet::setup(
            [&dirs[0], &dirs[1]],
            &bridge_dir,
            &EvmNetOptions::default(),
        ))
        .unwrap();
    let mut hubs = Hubs {
        nets,
        hub,
        rt,
        relayers: [None, None],
        bridge: None,
    };
    for i in 0..2 {
        hubs.start_relayer(i);
    }
    hubs.start_bridge();
    Some(hubs)
}

impl Hubs {
    fn evm(&self, i: usize) -> &EvmNet {
        self.hub.hub(i)
    }

    fn chain(&self, i: usize) -> &str {
        self.evm(i).chains[0].id.as_str()
    }

    fn start_relayer(&mut self, i: usize) {
        let toml = self.evm(i).relayer_toml.clone();
        self.relayers[i] = Some(spawn_logged(
            &["relay", "--config", toml.to_str().unwrap()],
            &toml.with_file_name("relayer.log"),
        ));
    }

    fn start_bridge(&mut self) {
        assert!(self.bridge.is_none());
        let toml = self.hub.bridge_toml.clone();
        self.bridge = Some(spawn_logged(
            &["relay", "hubs", "--config", toml.to_str().unwrap()],
            &toml.with_file_name("bridge.log"),
        ));
    }

    fn kill_bridge(&mut self) {
        if let Some(mut c) = self.bridge.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// The tails of the relayers' and the bridge's logs, for a failure message.
    fn logs(&self) -> String {
        let tail = |p: std::path::PathBuf| {
            let text = std::fs::read_to_string(&p).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            format!(
                "--- {}\n{}",
                p.display(),
                lines[lines.len().saturating_sub(15)..].join("\n")
            )
        };
        [
            tail(self.evm(0).relayer_toml.with_file_name("relayer.log")),
            tail(self.evm(1).relayer_toml.with_file_name("relayer.log")),
            tail(self.hub.bridge_toml.with_file_name("bridge.log")),
        ]
        .join("\n")
    }

    /// A deadline an hour past the latest block of the chain under hub `i`.
    fn far(&self, i: usize) -> Timeout {
        Timeout {
            height: 0,
            time_ms: self.chain_time(i) + 3_600_000,
        }
    }

    fn chain_time(&self, i: usize) -> u64 {
        self.rt
            .block_on(self.evm(i).time_ms(self.chain(i)))
            .unwrap()
    }

    /// Escrow transfer from the chain under hub `from` to the one under hub `to`.
    fn send(&self, from: usize, to: usize, recipient: Address, amount: u64, t: Timeout) -> Sent {
        let (src, dst) = (&self.evm(from).chains[0], &self.evm(to).chains[0]);
        self.rt
            .block_on(evmnet::escrow_send_between(
                src, src.escrow, dst, recipient, amount, t,
            ))
            .unwrap()
    }

    fn lifecycle(&self, sent: &Sent, from: usize, to: usize) -> Lifecycle {
        self.rt.block_on(async {
            let rpc = junction_rpc::RpcClient::new(self.evm(from).hub_rpc.clone());
            let src = self.evm(from).adapter(self.chain(from)).await.unwrap();
            let dst = self.evm(to).adapter(self.chain(to)).await.unwrap();
            evmnet::lifecycle(&rpc, &src, &dst, sent).await.unwrap()
        })
    }

    fn wait_outcome(&self, sent: &Sent, from: usize, to: usize, limit: Duration) -> Lifecycle {
        let start = Instant::now();
        loop {
            let l = self.lifecycle(sent, from, to);
            if l.outcome.is_some() {
                return l;
            }
            assert!(
                start.elapsed() < limit,
                "no outcome for {} sequence {} within {limit:?}: {l:?}\n{}",
                self.chain(from),
                sent.packet.sequence,
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(300));
        }
    }

    /// Outcomes of `sent` delivered to its source app (under hub `from`).
    fn outcomes_at_source(&self, sent: &Sent, from: usize) -> usize {
        self.rt.block_on(async {
            let a = self.evm(from).adapter(self.chain(from)).await.unwrap();
            let latest = a.latest_height().await.unwrap();
            a.outcomes(0, latest)
                .await
                .unwrap()
                .iter()
                .filter(|o| o.key == sent.packet.key().hash())
                .count()
        })
    }

    /// `who`'s balance in the escrow of the chain under hub `i`.
    fn balance(&self, i: usize, who: Address) -> U256 {
        let c = &self.evm(i).chains[0];
        let p = evmnet::provider(
            &c.anvil.endpoint(),
            junction_adapters::evm::anvil::DEV_KEY_0,
        )
        .unwrap();
        self.rt
            .block_on(async { TokenEscrow::new(c.escrow, &p).balanceOf(who).call().await })
            .unwrap()
    }

    /// Hub `i`'s `packet_show` of `sent`.
    fn show(&self, i: usize, sent: &Sent) -> Value {
        self.nets[i]
            .rpc(
                0,
                "packet_show",
                json!({"key": hex::encode(sent.packet.key().hash())}),
            )
            .unwrap_or(Value::Null)
    }

    fn pass(&self, i: usize, kinds: Vec<ProposalKind>) {
        let members = evmnet::member_keys(&self.nets[i].dir.path().join("net")).unwrap();
        let rpc = junction_rpc::RpcClient::new(self.evm(i).hub_rpc.clone());
        self.rt
            .block_on(evmnet::pass_proposals(
                &rpc,
                &members,
                &self.evm(i).hub_chain_id,
                kinds,
            ))
            .unwrap();
    }
}

/// The sender of every escrow transfer (anvil's first dev account).
fn user() -> Address {
    "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
        .parse()
        .unwrap()
}

/// Round trips both ways; a validator of each hub SIGKILLed and restarted while packets
/// cross; a packet past its deadline on the far segment (the bridge down until then),
/// timed out by hub B and refunded at the source through hub A; and an error-ack from hub
/// B's council's policy, which hub A's policy passed. Every packet ends with exactly one
/// outcome at its source.
#[test]
fn packets_cross_two_hubs_both_ways_and_end_with_exactly_one_outcome_at_the_source() {
    let Some(mut env) = setup(14_700) else {
        return;
    };
    let mut all: Vec<(Sent, usize)> = Vec::new();

    // Round trips, each way.
    let (r1, r2) = (Address::repeat_byte(0x51), Address::repeat_byte(0x52));
    let ab = env.send(0, 1, r1, 100, env.far(1));
    let ba = env.send(1, 0, r2, 200, env.far(0));
    for (sent, from, to) in [(&ab, 0, 1), (&ba, 1, 0)] {
        let l = env.wait_outcome(sent, from, to, Duration::from_secs(120));
        assert_eq!(
            l.outcome.as_ref().map(|o| o.0.as_str()),
            Some("ack"),
            "{l:?}"
        );
        assert_eq!(l.delivered.map(|d| d.1), Some(true), "{l:?}");
        // Each hub judged and logged its own segment, and each ends with the ack.
        for i in 0..2 {
            let show = env.show(i, sent);
            assert_eq!(show["state"], "ack", "hub {i}: {show}");
        }
        all.push((sent.clone(), from));
    }
    assert_eq!(env.balance(1, r1), U256::from(100));
    assert_eq!(env.balance(0, r2), U256::from(200));

    // A validator of each hub SIGKILLed while packets cross both ways, then restarted.
    let r3 = Address::repeat_byte(0x53);
    let mut flight = Vec::new();
    for _ in 0..3 {
        flight.push((env.send(0, 1, r3, 10, env.far(1)), 0, 1));
        flight.push((env.send(1, 0, r3, 10, env.far(0)), 1, 0));
    }
    env.nets[0].kill(3);
    env.nets[1].kill(2);
    std::thread::sleep(Duration::from_secs(5));
    env.nets[0].start(3);
    env.nets[1].start(2);
    for (sent, from, to) in &flight {
        let l = env.wait_outcome(sent, *from, *to, Duration::from_secs(120));
        assert_eq!(
            l.outcome.as_ref().map(|o| o.0.as_str()),
            Some("ack"),
            "{l:?}"
        );
        all.push((sent.clone(), *from));
    }
    assert_eq!(env.balance(1, r3), U256::from(30));
    assert_eq!(env.balance(0, r3), U256::from(30));
    // The restarted validators caught up with their hubs.
    for (i, node) in [(0, 3), (1, 2)] {
        let h = env.nets[i].height(0).unwrap();
        env.nets[i].wait_height(node, h, Duration::from_secs(60));
    }

    // The far segment's deadline passes while the bridge is down: hub A logged the packet
    // for hub B and cannot judge its deadline; hub B times it out on arrival by its client
    // of `evm-b`, and hub A takes that timeout from B's log and refunds the source.
    env.kill_bridge();
    let before = env.balance(0, user());
    let deadline = env.chain_time(1) + 4_000;
    let late = env.send(
        0,
        1,
        Address::repeat_byte(0x54),
        7,
        Timeout {
            height: 0,
            time_ms: deadline,
        },
    );
    assert_eq!(env.balance(0, user()), before - U256::from(7));
    let start = Instant::now();
    while env.chain_time(1) < deadline + 3_000 || env.show(0, &late).is_null() {
        assert!(start.elapsed() < Duration::from_secs(60), "{}", env.logs());
        std::thread::sleep(Duration::from_millis(300));
    }
    assert_eq!(env.show(0, &late)["state"], "pending");
    assert!(env.show(1, &late).is_null(), "{}", env.show(1, &late));
    env.start_bridge();
    let l = env.wait_outcome(&late, 0, 1, Duration::from_secs(90));
    assert_eq!(
        l.outcome.as_ref().map(|o| o.0.as_str()),
        Some("timeout"),
        "{l:?}"
    );
    assert_eq!(l.delivered, None, "{l:?}");
    // Hub B judged the deadline by its own client of `evm-b`, when A's entry arrived.
    let at_b = env.show(1, &late);
    assert_eq!(at_b["state"], "timeout", "{at_b}");
    assert_eq!(at_b["hub_steps"][0]["action"], "timeout_logged", "{at_b}");
    assert_eq!(
        at_b["hub_steps"][0]["reason"], "timeout_on_arrival",
        "{at_b}"
    );
    let at_a = env.show(0, &late);
    assert_eq!(at_a["state"], "timeout", "{at_a}");
    assert_eq!(env.balance(0, user()), before);
    all.push((late, 0));

    // Hub B's council narrows its segment: the payload cap of `evm-a` → `evm-b` drops
    // below an escrow transfer's. Hub A's policy still passes the packet; hub B refuses it
    // with an error-ack, which hub A carries back to the source (refund).
    let route = evmnet::route_id(&env.evm(0).chains[0], &env.evm(1).chains[0]).unwrap();
    let mut policy = evmnet::route_policy(
        &env.evm(0).chains[0],
        &env.evm(1).chains[0],
        &EvmNetOptions::default(),
    );
    policy.max_payload = 8;
    env.pass(1, vec![ProposalKind::UpdateRoute { route, policy }]);
    let before = env.balance(0, user());
    let refused = env.send(0, 1, Address::repeat_byte(0x55), 9, env.far(1));
    let l = env.wait_outcome(&refused, 0, 1, Duration::from_secs(90));
    assert_eq!(
        l.outcome.as_ref().map(|o| o.0.as_str()),
        Some("error_ack"),
        "{l:?}"
    );
    assert_eq!(l.delivered, None, "{l:?}");
    let at_b = env.show(1, &refused);
    assert_eq!(at_b["state"], "error_ack", "{at_b}");
    assert_eq!(at_b["hub_steps"][0]["action"], "error_ack_logged", "{at_b}");
    assert_eq!(at_b["hub_steps"][0]["reason"], "payload_over_cap", "{at_b}");
    assert_eq!(env.show(0, &refused)["state"], "error_ack");
    assert_eq!(env.balance(0, user()), before);
    all.push((refused, 0));

    // Exactly one outcome each, at the source.
    for (sent, from) in &all {
        assert_eq!(
            env.outcomes_at_source(sent, *from),
            1,
            "{} sequence {}",
            env.chain(*from),
            sent.packet.sequence
        );
    }
}
