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

/// An attested EVM chain's trust root the hub can start a client from: four test
/// attesters, a gateway address and a trusted header.
fn attested_trust_root() -> Vec<u8> {
    use junction_light_clients::evm::attested::{testkit, AttestedHeader};
    use junction_light_clients::evm::codec::AttestedTrustRoot;
    use junction_spec::Encode;
    AttestedTrustRoot {
        evm_chain_id: 31_337,
        gateway: [0x33; 20],
        attesters: testkit::attester_keys(4)
            .iter()
            .map(testkit::address)
            .collect(),
        trusted: AttestedHeader {
            chain_id: 31_337,
            number: 1,
            hash: [1; 32],
            parent_hash: [0; 32],
            state_root: [2; 32],
            receipts_root: [3; 32],
            timestamp: 1_000,
        },
    }
    .to_bytes()
}

fn register_chain_file(dir: &Path, id: &str) -> String {
    register_chain_file_with(dir, id, attested_trust_root())
}

fn register_chain_file_with(dir: &Path, id: &str, trust_root: Vec<u8>) -> String {
    register_kind_file(dir, id, LedgerKind::EvmAttested, trust_root)
}

fn register_kind_file(dir: &Path, id: &str, kind: LedgerKind, trust_root: Vec<u8>) -> String {
    let p = ProposalKind::RegisterChain(ChainRegistration {
        chain_id: ChainId::new(id).unwrap(),
        kind,
        params: LightClientParams {
            trust_level: Fraction { num: 2, den: 3 },
            trusting_period_ms: 86_400_000,
            max_clock_drift_ms: 5_000,
            min_confirmations: 1,
            threshold: Fraction { num: 2, den: 3 },
        },
        trust_root,
    });
    let path = dir.join(format!("{id}.toml"));
    std::fs::write(&path, toml::to_string(&p).unwrap()).unwrap();
    path.to_str().unwrap().to_string()
}

fn policy_file(dir: &Path) -> String {
    policy_file_with(dir, "policy.toml", true)
}

fn policy_file_with(dir: &Path, name: &str, ordered: bool) -> String {
    let policy = RoutePolicy {
        source_chain: ChainId::new("chain-a").unwrap(),
        source_apps: vec![b"escrow".to_vec()],
        dest_chain: ChainId::new("chain-b").unwrap(),
        dest_apps: vec![b"escrow".to_vec()],
        ordered,
        max_payload: 1024,
        max_gas_limit: 500_000,
        rate: RateLimit {
            messages: 100,
            bytes: 100_000,
            window_ms: 60_000,
        },
        app_rate: None,
        min_timeout_ms: 1_000,
        max_timeout_ms: 3_600_000,
        min_confirmations: 1,
        fee: 0,
    };
    let path = dir.join(name);
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
    let mut net = Net::init(4, 11_700);
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
        // Once every node has it, the three members vote at once: a node that lags on a
        // loaded machine delays its own vote, not the others'.
        for i in 1..4 {
            wait_until_proposal_seen(&net, i, proposal);
        }
        std::thread::scope(|scope| {
            for i in 1..4 {
                let (home, rpc, id) = (home(i), rpc(i), proposal.to_string());
                scope.spawn(move || {
                    cli_ok(&["gov", "vote", &id, "yes", "--home", &home, "--rpc", &rpc]);
                });
            }
        });
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
    // A fresh key is no account the council knows: refused before its content is read.
    assert!(outsider.contains("unknown_account"), "{outsider}");
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
    assert!(outsider_vote.contains("unknown_account"), "{outsider_vote}");
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
    // A majority cannot vote away the council's rules: parameters past the genesis bounds
    // (a quorum of 10^-12, no veto, 1 ms votes, no timelock) are refused at proposal.
    let takeover = ProposalKind::SetParams(junction_spec::gov::GovParams {
        voting_period_ms: 1,
        expedited_voting_period_ms: 1,
        timelock_ms: 0,
        quorum: Fraction {
            num: 1,
            den: 1_000_000_000_000,
        },
        threshold: Fraction { num: 51, den: 100 },
        expedited_threshold: Fraction { num: 2, den: 3 },
        veto: Fraction { num: 1, den: 1 },
        min_deposit: 0,
        max_active_proposals: 64,
        max_route_gas_limit: junction_spec::MAX_PACKET_GAS_LIMIT,
    });
    let takeover_file = files.join("takeover.toml");
    std::fs::write(&takeover_file, toml::to_string(&takeover).unwrap()).unwrap();
    let refused = cli_err(&[
        "gov",
        "propose",
        "file",
        takeover_file.to_str().unwrap(),
        "--home",
        &home(0),
        "--rpc",
        &rpc(0),
    ]);
    assert!(
        refused.contains("invalid_proposal") && refused.contains("fixed at genesis"),
        "{refused}"
    );
    // No vote is taken on a chain whose light client the hub cannot start.
    let broken = register_chain_file_with(files, "chain-c", vec![0xab; 32]);
    let refused = cli_err(&[
        "gov",
        "propose",
        "file",
        &broken,
        "--home",
        &home(0),
        "--rpc",
        &rpc(0),
    ]);
    assert!(refused.contains("client_refused"), "{refused}");
    // Nor on a trust root the kind's client does not accept: refused by name, not
    // registered to fail every message later.
    let unaccepted = register_kind_file(files, "chain-d", LedgerKind::Bitcoin, vec![0xab; 80]);
    let refused = cli_err(&[
        "gov",
        "propose",
        "file",
        &unaccepted,
        "--home",
        &home(0),
        "--rpc",
        &rpc(0),
    ]);
    assert!(
        refused.contains("client_refused") && refused.contains("bad_trust_root"),
        "{refused}"
    );

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
    // One ordering per sequence space: an unordered route over the ordered route's apps is
    // refused at proposal.
    let unordered = policy_file_with(files, "unordered.toml", false);
    let conflict = cli_err(&[
        "gov",
        "propose",
        "open-route",
        "--route",
        "a-to-b-unordered",
        "--policy",
        &unordered,
        "--home",
        &home(0),
        "--rpc",
        &rpc(0),
    ]);
    assert!(conflict.contains("ordering_conflict"), "{conflict}");

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

    // Member 4 rotates its account key with `junction keys rotate` (the old key signs):
    // the old key, kept aside, is then refused as an account the hub does not know, and
    // the new one acts for the member.
    let rotated = cli_ok(&["keys", "rotate", "--home", &home(3), "--rpc", &rpc(3)]);
    let rotated: Value = serde_json::from_str(&rotated[rotated.find('{').unwrap()..]).unwrap();
    let kept = rotated["old_key_kept_as"].as_str().unwrap();
    let keys_dir = std::path::Path::new(kept).parent().unwrap();
    std::fs::copy(kept, keys_dir.join("old.json")).unwrap();
    let stale = cli_err(&[
        "tx",
        "remark",
        "old key",
        "--from",
        "old",
        "--home",
        &home(3),
        "--rpc",
        &rpc(3),
    ]);
    assert!(stale.contains("unknown_account"), "{stale}");
    cli_ok(&[
        "tx",
        "remark",
        "new key",
        "--from",
        "member",
        "--home",
        &home(3),
        "--rpc",
        &rpc(3),
    ]);
    let shown = net.rpc(0, "council_list", json!({})).unwrap().to_string();
    assert!(
        shown.contains(rotated["new_public_key"].as_str().unwrap())
            && !shown.contains(rotated["old_public_key"].as_str().unwrap()),
        "{shown}"
    );
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
