//! The council on a real 4-validator network, driven from the `junction` CLI: chains are
//! registered and a route is opened by vote; bad governance transactions are refused by name.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::time::{Duration, Instant};

use junction_spec::gov::{
    ChainRegistration, Fraction, LedgerKind, LightClientParams, ProposalKind, RateLimit,
    RoutePolicy,
};
use junction_spec::ChainId;
use junction_tests::{run_cli, Net};
use serde_json::{json, Value};

const LONG: Duration = Duration::from_secs(90);

fn cli_ok(args: &[&str]) -> String {
    let (ok, text) = run_cli(args);
    assert!(ok, "junction {args:?} failed:\n{text}");
    text
}

fn cli_err(args: &[&str]) -> String {
    let (ok, text) = run_cli(args);
    assert!(!ok, "junction {args:?} should have failed:\n{text}");
    text
}

fn register_chain_file(dir: &Path, id: &str) -> String {
    let p = ProposalKind::RegisterChain(ChainRegistration {
        chain_id: ChainId::new(id).unwrap(),
        kind: LedgerKind::EvmAttested,
        params: LightClientParams {
            trust_level: Fraction { num: 2, den: 3 },
            trusting_period_ms: 86_400_000,
            max_clock_drift_ms: 5_000,
            min_confirmations: 1,
            threshold: Fraction { num: 2, den: 3 },
        },
        trust_root: vec![0xab; 32],
    });
    let path = dir.join(format!("{id}.toml"));
    std::fs::write(&path, toml::to_string(&p).unwrap()).unwrap();
    path.to_str().unwrap().to_string()
}

fn policy_file(dir: &Path) -> String {
    let policy = RoutePolicy {
        source_chain: ChainId::new("chain-a").unwrap(),
        source_apps: vec![b"escrow".to_vec()],
        dest_chain: ChainId::new("chain-b").unwrap(),
        dest_apps: vec![b"escrow".to_vec()],
        ordered: true,
        max_payload: 1024,
        rate: RateLimit {
            messages: 100,
            bytes: 100_000,
            window_ms: 60_000,
        },
        min_timeout_ms: 1_000,
        max_timeout_ms: 3_600_000,
        min_confirmations: 1,
        fee: 0,
    };
    let path = dir.join("policy.toml");
    std::fs::write(&path, toml::to_string(&policy).unwrap()).unwrap();
    path.to_str().unwrap().to_string()
}

fn proposal_ids(net: &Net, kind: &str) -> Vec<u64> {
    net.rpc(0, "gov_list", json!({}))
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["kind"] == kind)
        .map(|p| p["id"].as_u64().unwrap())
        .collect()
}

fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < LONG, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// `gov propose` returns once node 0 has committed the proposal; another node may be a
/// block behind, and its admission check would refuse a vote for a proposal it has not seen.
fn wait_until_proposal_seen(net: &Net, node: usize, proposal: u64) {
    wait_until(&format!("proposal {proposal} on node {node}"), || {
        net.rpc(node, "gov_show", json!({"id": proposal})).is_some()
    });
}

#[test]
fn council_opens_a_route_by_vote_and_refuses_bad_actions_by_name() {
    let mut net = Net::init(4, 31700);
    net.start_all();
    for i in 0..4 {
        net.wait_height(i, 2, LONG);
    }
    let home = |i: usize| net.homes[i].to_str().unwrap().to_string();
    let rpc = |i: usize| format!("http://{}", net.rpc[i]);
    let files = net.dir.path();

    // Member 1 (node0's organization) proposes registering each chain; members 2-4 vote
    // yes right away, each through its own node, well inside the voting period.
    let mut ids = Vec::new();
    for id in ["chain-a", "chain-b"] {
        let f = register_chain_file(files, id);
        cli_ok(&[
            "gov",
            "propose",
            "file",
            &f,
            "--home",
            &home(0),
            "--rpc",
            &rpc(0),
        ]);
        let proposal = proposal_ids(&net, "register_chain")
            .into_iter()
            .max()
            .unwrap();
        for i in 1..4 {
            wait_until_proposal_seen(&net, i, proposal);
            cli_ok(&[
                "gov",
                "vote",
                &proposal.to_string(),
                "yes",
                "--home",
                &home(i),
                "--rpc",
                &rpc(i),
            ]);
        }
        ids.push(proposal);
    }
    assert_eq!(ids.len(), 2);
    assert_ne!(ids[0], ids[1]);
    wait_until("both chains registered", || {
        (0..4).all(|i| {
            net.rpc(i, "chain_list", json!({}))
                .and_then(|v| v.as_array().map(Vec::len))
                == Some(2)
        })
    });

    // Member 1 proposes the route; members 2-4 vote; it opens after the timelock.
    let policy = policy_file(files);
    cli_ok(&[
        "gov",
        "propose",
        "open-route",
        "--route",
        "a-to-b",
        "--policy",
        &policy,
        "--home",
        &home(0),
        "--rpc",
        &rpc(0),
    ]);
    let route_id = proposal_ids(&net, "open_route")[0];
    for i in 1..4 {
        wait_until_proposal_seen(&net, i, route_id);
        cli_ok(&[
            "gov",
            "vote",
            &route_id.to_string(),
            "yes",
            "--home",
            &home(i),
            "--rpc",
            &rpc(i),
        ]);
    }
    // Refusals, each by name.
    let dup = cli_err(&[
        "gov",
        "vote",
        &route_id.to_string(),
        "no",
        "--home",
        &home(1),
        "--rpc",
        &rpc(1),
    ]);
    assert!(dup.contains("duplicate_vote"), "{dup}");
    cli_ok(&["keys", "add", "outsider", "--home", &home(2)]);
    let outsider = cli_err(&[
        "gov",
        "propose",
        "pause-route",
        "--route",
        "a-to-b",
        "--from",
        "outsider",
        "--home",
        &home(2),
        "--rpc",
        &rpc(2),
    ]);
    assert!(outsider.contains("not_a_member"), "{outsider}");
    let outsider_vote = cli_err(&[
        "gov",
        "vote",
        &route_id.to_string(),
        "yes",
        "--from",
        "outsider",
        "--home",
        &home(2),
        "--rpc",
        &rpc(2),
    ]);
    assert!(outsider_vote.contains("not_a_member"), "{outsider_vote}");
    let late = cli_err(&[
        "gov",
        "vote",
        &ids[0].to_string(),
        "yes",
        "--home",
        &home(0),
        "--rpc",
        &rpc(0),
    ]);
    assert!(late.contains("voting_closed"), "{late}");

    // A replayed transaction: the exact bytes of a committed vote.
    let show = net.rpc(1, "gov_show", json!({"id": route_id})).unwrap();
    assert!(show["tally"]["yes"].as_u64().unwrap() >= 30, "{show}");
    let events_tx = find_vote_tx(&net, route_id);
    let replay = net
        .rpc_raw(3, "broadcast_tx", json!({"tx": events_tx}))
        .unwrap();
    assert_eq!(
        replay["error"]["data"]["name"], "tx_already_committed",
        "{replay}"
    );

    wait_until("route open on every validator", || {
        (0..4).all(|i| {
            net.rpc(i, "route_show", json!({"id": "a-to-b"}))
                .map(|r| r["state"] == "open" || r["state"]["state"] == "open")
                .unwrap_or(false)
        })
    });
    let h = (0..4).map(|i| net.height(i).unwrap()).min().unwrap();
    let app: Vec<String> = (0..4).map(|i| net.block_ids(i, h).unwrap().1).collect();
    assert!(
        app.windows(2).all(|w| w[0] == w[1]),
        "app hashes differ at {h}: {app:?}"
    );
    let show = net.rpc(0, "gov_show", json!({"id": route_id})).unwrap();
    assert_eq!(show["proposal"]["status"]["status"], "executed", "{show}");

    // Every governance action is an event with its proposal and signer.
    let mut seen_vote_event = false;
    for height in 1..=h {
        let ev = net
            .rpc(0, "block_events", json!({"height": height}))
            .unwrap();
        for e in ev["events"].as_array().unwrap() {
            if e["kind"] == "gov/vote_cast" {
                seen_vote_event = true;
                let attrs: Vec<&Value> = e["attributes"].as_array().unwrap().iter().collect();
                assert!(attrs.iter().any(|a| a[0] == "proposal_id"));
                assert!(attrs.iter().any(|a| a[0] == "signer"));
            }
        }
    }
    assert!(seen_vote_event);
}

/// Hex of a committed vote transaction for `proposal`, found through the block events.
fn find_vote_tx(net: &Net, proposal: u64) -> String {
    let tip = net.height(0).unwrap();
    for height in (1..=tip).rev() {
        let ev = net
            .rpc(0, "block_events", json!({"height": height}))
            .unwrap();
        for e in ev["events"].as_array().unwrap() {
            let is_vote = e["kind"] == "gov/vote_cast"
                && e["attributes"].as_array().unwrap().iter().any(|a| {
                    a[0] == "proposal_id"
                        && a[1].as_str().and_then(|v| v.parse::<u64>().ok()) == Some(proposal)
                });
            if is_vote {
                let tx = net
                    .rpc(0, "tx", json!({"hash": e["tx"]}))
                    .expect("indexed vote");
                return tx["tx"].as_str().unwrap().to_string();
            }
        }
    }
    panic!("no vote for proposal {proposal} found");
}
