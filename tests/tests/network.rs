//! A real 4-validator hub on loopback: agreement, crash tolerance, halting without quorum.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use junction_tests::{account, remark_hex, run_cli, Net};
use serde_json::json;

const LONG: Duration = Duration::from_secs(90);
/// The idle block interval of `four_validators_agree_on_every_block_to_height_50`.
const IDLE_MS: u64 = 400;

/// Every validator reports the same block hash and app hash at every height.
#[test]
fn four_validators_agree_on_every_block_to_height_50() {
    let mut net = Net::init(4, 11_000);
    // One validator keeps only the last 10 heights of state history; the chain is the same.
    // Every validator makes empty blocks at most every IDLE_MS (the test needs 50 heights,
    // not 50 seconds).
    for (i, home) in net.homes.iter().enumerate() {
        let cfg = home.join("config/config.toml");
        let mut text = std::fs::read_to_string(&cfg).unwrap();
        assert!(text.contains("\nidle_block_interval_ms = 1000"), "{text}");
        text = text.replace(
            "\nidle_block_interval_ms = 1000",
            &format!("\nidle_block_interval_ms = {IDLE_MS}"),
        );
        if i == 3 {
            assert!(text.contains("retention_blocks = 0"), "{text}");
            text = text.replace("\nretention_blocks = 0", "\nretention_blocks = 10");
        }
        std::fs::write(&cfg, text).unwrap();
    }
    net.start_all();
    net.wait_height(0, 2, LONG);
    // Some state changes, sent through different nodes, so the app hash moves.
    let chain = net.chain_id();
    for i in 0..4u8 {
        let r = net
            .rpc(
                i as usize,
                "broadcast_tx",
                json!({"tx": remark_hex(&account(10 + i), &chain, 0, b"agree"), "mode": "commit"}),
            )
            .expect("commit");
        assert!(r.get("height").and_then(|h| h.as_u64()).is_some());
    }
    for i in 0..4 {
        net.wait_height(i, 50, LONG);
    }
    net.assert_same_chain(&[0, 1, 2, 3], 1..=50);
    let app_hashes: std::collections::BTreeSet<String> =
        (1..=50).map(|h| net.block_ids(0, h).unwrap().1).collect();
    assert!(
        app_hashes.len() > 1,
        "transactions must change the app hash"
    );
    checkpoints_verify_with_the_hub_light_client(&net, 50);
    empty_blocks_keep_the_idle_interval(&net, 50, IDLE_MS);
    blocks_validated_are_not_executed_again_at_commit(&net);
    state_proofs_verify_against_the_certified_app_hash(&net);
}

/// An idle hub proposes an empty block only once `idle_block_interval_ms` (1 s by
/// default) has passed since its parent, while a transaction is proposed at once: without
/// the wait this hub committed about 6 empty blocks a second. The height after a block with
/// transactions does not wait (relayers wait for it), nor does a round after a failed
/// proposer, so a few empty blocks after empty ones may come sooner.
fn empty_blocks_keep_the_idle_interval(net: &Net, top: u64, idle: u64) {
    let block = |h: u64| net.rpc(0, "block", json!({"height": h})).unwrap();
    let time = |b: &serde_json::Value| b.pointer("/header/time_ms").unwrap().as_u64().unwrap();
    let (mut empty, mut empty_waited, mut full_sooner) = (0, 0, 0);
    let mut parent = block(2);
    for h in 3..=top {
        let b = block(h);
        let gap = time(&b) - time(&parent);
        let parent_empty = parent["txs"].as_array().unwrap().is_empty();
        if b["txs"].as_array().unwrap().is_empty() && parent_empty {
            empty += 1;
            if gap >= idle {
                empty_waited += 1;
            }
        } else if gap < idle {
            full_sooner += 1;
        }
        parent = b;
    }
    assert!(empty > 10, "{empty} empty blocks");
    assert!(
        empty_waited * 10 >= empty * 9,
        "only {empty_waited} of {empty} empty blocks came {idle} ms or more after their parent"
    );
    assert!(
        full_sooner > 0,
        "no block with transactions came sooner than the idle interval"
    );
}

/// `state_proof` answers a value or an absence at a committed height with a proof that
/// checks against the app hash in the next block's header, which the validators signed;
/// the node that answered need not be trusted. A node that prunes refuses old heights by
/// name.
fn state_proofs_verify_against_the_certified_app_hash(net: &Net) {
    use junction_state_tree::{verify_state_proof, StateProofError};
    let unhex = |v: &serde_json::Value| hex::decode(v.as_str().unwrap()).unwrap();
    let signer = junction_keys::sign_remark(&account(10), &net.chain_id(), 0, vec![])
        .body
        .signer_address();
    let nonce_key = junction_hub_app::nonce_key(&signer);
    let height = 30;
    // The state after block 30 is what block 31's header commits to.
    let certified: [u8; 32] = hex::decode(net.block_ids(1, height + 1).unwrap().1)
        .unwrap()
        .try_into()
        .unwrap();
    let r = net
        .rpc(
            0,
            "state_proof",
            json!({"key": hex::encode(&nonce_key), "height": height}),
        )
        .unwrap();
    assert_eq!(r["height"], height);
    assert_eq!(unhex(&r["app_hash"]), certified);
    let value = unhex(&r["value"]);
    assert_eq!(value, 1u64.to_be_bytes(), "one remark sent: next nonce 1");
    let proof = unhex(&r["proof"]);
    verify_state_proof(&certified, &nonce_key, Some(&value), &proof).unwrap();
    // Against the genesis state (before any remark) the proof is refused by name.
    let genesis: [u8; 32] = hex::decode(net.block_ids(1, 1).unwrap().1)
        .unwrap()
        .try_into()
        .unwrap();
    assert!(matches!(
        verify_state_proof(&genesis, &nonce_key, Some(&value), &proof),
        Err(StateProofError::RootMismatch { .. })
    ));
    // Absence: an account that never sent anything.
    let absent = junction_hub_app::nonce_key(&[0xee; 20]);
    let r = net
        .rpc(
            2,
            "state_proof",
            json!({"key": hex::encode(&absent), "height": height}),
        )
        .unwrap();
    assert!(r["value"].is_null());
    verify_state_proof(&certified, &absent, None, &unhex(&r["proof"])).unwrap();
    assert!(matches!(
        verify_state_proof(&certified, &absent, Some(b"x"), &unhex(&r["proof"])),
        Err(StateProofError::WrongKind { .. })
    ));
    // The pruning validator proves its recent heights and refuses old ones by name.
    let tip = net.height(3).unwrap();
    let r = net
        .rpc(
            3,
            "state_proof",
            json!({"key": hex::encode(&nonce_key), "height": tip}),
        )
        .unwrap();
    verify_state_proof(
        &unhex(&r["app_hash"]).try_into().unwrap(),
        &nonce_key,
        Some(&1u64.to_be_bytes()),
        &unhex(&r["proof"]),
    )
    .unwrap();
    let e = net
        .rpc_raw(
            3,
            "state_proof",
            json!({"key": hex::encode(&nonce_key), "height": height}),
        )
        .unwrap();
    assert_eq!(e["error"]["data"]["name"], "state_pruned", "{e}");
    assert_eq!(e["error"]["code"], -32010);
    let e = net
        .rpc_raw(0, "state_proof", json!({"key": "00", "height": 1_000_000}))
        .unwrap();
    assert_eq!(e["error"]["data"]["name"], "height_not_committed", "{e}");
}

/// A validator executes a proposal once to validate it and commits that result (the
/// proposer executes its own beside the votes): a decided block is executed again only
/// when that result is not at hand (a block it synced, or a proposal validated after it).
fn blocks_validated_are_not_executed_again_at_commit(net: &Net) {
    // A counter summed over the four validators.
    let total = |metric: &str, reason: &str| -> f64 {
        (0..4)
            .map(|i| net.metric(i, metric, &format!("reason=\"{reason}\"")))
            .sum()
    };
    let executions = "junction_block_executions_total";
    let reused = total(executions, "commit_reused");
    let fresh = total(executions, "commit");
    assert!(
        reused >= fresh,
        "most commits reuse the validation's execution: {reused} reused, {fresh} executed again"
    );
    assert!(reused + fresh >= 4.0 * 50.0, "every commit is counted");
    // The state tree's update of a validated block is computed beside the votes, not
    // after the decision.
    let prepared = total("junction_state_tree_updates_total", "prepared");
    let in_commit = total("junction_state_tree_updates_total", "in_commit");
    assert!(
        prepared >= reused * 0.9 && prepared + in_commit >= reused + fresh,
        "the commits that reuse a validation use its prepared tree: {prepared} prepared, {in_commit} in commit, {reused} reused"
    );
}

/// Every committed height carries a checkpoint signed by more than 2/3 of the attestation
/// set's power (from the precommit vote extensions), and the hub light client that gateways
/// mirror accepts it; a forged signature is refused.
fn checkpoints_verify_with_the_hub_light_client(net: &Net, up_to: u64) {
    use junction_light_clients::hub::{verify_signatures, HubError};
    use junction_spec::attestation::AttestationSet;
    use junction_spec::{Checkpoint, Decode};
    for height in [1, up_to / 2, up_to] {
        let r = net
            .rpc(0, "checkpoint", json!({ "height": height }))
            .unwrap();
        let unhex = |k: &str| hex::decode(r[k].as_str().unwrap()).unwrap();
        let checkpoint = Checkpoint::from_bytes(&unhex("checkpoint_hex")).unwrap();
        let set = AttestationSet::from_bytes(&unhex("attestation_set_hex")).unwrap();
        assert_eq!(checkpoint.height, height);
        assert_eq!(checkpoint.attestation_set_hash, set.hash());
        assert_eq!(hex::encode(checkpoint.hash()), r["hash"].as_str().unwrap());
        let sigs: Vec<[u8; 65]> = r["signatures"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                hex::decode(s.as_str().unwrap())
                    .unwrap()
                    .try_into()
                    .unwrap()
            })
            .collect();
        let power = verify_signatures(&set, &checkpoint, &sigs).unwrap();
        assert!(power * 3 > r["total_power"].as_u64().unwrap() * 2);
        // The same checkpoint as the other nodes serve it.
        let other = net
            .rpc(3, "checkpoint", json!({ "height": height }))
            .unwrap();
        assert_eq!(other["checkpoint_hex"], r["checkpoint_hex"]);
        let mut forged = sigs.clone();
        forged[0][5] ^= 1;
        assert!(matches!(
            verify_signatures(&set, &checkpoint, &forged),
            Err(HubError::UnknownSigner { .. } | HubError::InvalidSignature { .. })
        ));
    }
}

/// One of four down: the others go on; back up: it catches up to the same chain.
#[test]
fn one_validator_down_then_catches_up() {
    let mut net = Net::init(4, 11_100);
    net.start_all();
    net.wait_height(0, 5, LONG);
    net.kill(3);
    let at_kill = net.height(0).unwrap();
    net.wait_height(0, at_kill + 15, LONG);
    net.wait_height(1, at_kill + 15, LONG);
    net.start(3);
    let target = net.height(0).unwrap();
    net.wait_height(3, target, LONG);
    net.assert_same_chain(&[0, 1, 2, 3], 1..=target);
}

/// Two of four down: no quorum, so no block and no fork; restarted, progress resumes.
#[test]
fn two_of_four_down_halts_without_fork_and_resumes() {
    let mut net = Net::init(4, 11_200);
    net.start_all();
    net.wait_height(0, 5, LONG);
    net.kill(2);
    net.kill(3);
    // Let a block already precommitted by the survivors land, then watch for 5 s.
    std::thread::sleep(Duration::from_secs(2));
    let h0 = net.height(0).unwrap();
    let h1 = net.height(1).unwrap();
    std::thread::sleep(Duration::from_secs(5));
    assert_eq!(net.height(0), Some(h0), "node0 committed without quorum");
    assert_eq!(net.height(1), Some(h1), "node1 committed without quorum");
    net.start(2);
    net.start(3);
    let target = h0.max(h1) + 5;
    for i in 0..4 {
        net.wait_height(i, target, LONG);
    }
    net.assert_same_chain(&[0, 1, 2, 3], 1..=target);
}

/// SIGKILL a validator at random moments while it commits: after every restart its store
/// audits clean and every transaction it had reported committed is still there.
#[test]
fn sigkill_during_commits_loses_nothing() {
    use rand::{Rng, SeedableRng};
    let seed: u64 = rand::random();
    println!("seed {seed}");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut net = Net::init(4, 11_300);
    net.start_all();
    net.wait_height(3, 2, LONG);
    let chain = net.chain_id();
    let key = account(77);
    let mut nonce = 0u64;
    let mut reported: Vec<(String, u64)> = Vec::new();
    let genesis = junction_hub::config::Genesis::load(
        &junction_hub::config::Home::new(&net.homes[3]).genesis_file(),
    )
    .unwrap();
    let rules = junction_hub_app::ChainRules {
        chain_id: chain.clone(),
        genesis_validators: std::sync::Arc::new(genesis.hub_validators().unwrap()),
        max_clock_drift_ms: 2000,
    };
    for round in 0..20 {
        net.wait_height(3, 1, LONG);
        // Commit a few transactions through node3, then kill it at a random moment while
        // it keeps committing blocks (and possibly while it commits one of ours).
        let burst = rng.gen_range(1..4);
        for _ in 0..burst {
            let r = net
                .rpc_raw(
                    3,
                    "broadcast_tx",
                    json!({"tx": remark_hex(&key, &chain, nonce, format!("r{round}").as_bytes()), "mode": "commit"}),
                )
                .expect("node3 answers");
            let res = r
                .get("result")
                .unwrap_or_else(|| panic!("round {round}: {r}"));
            reported.push((
                res["hash"].as_str().unwrap().to_string(),
                res["height"].as_u64().unwrap(),
            ));
            nonce += 1;
        }
        std::thread::sleep(Duration::from_millis(rng.gen_range(0..800)));
        net.kill(3);
        let store = junction_hub::store::RedbStore::open(&net.homes[3].join("data/store.redb"))
            .unwrap_or_else(|e| panic!("round {round}: store does not open after SIGKILL: {e}"));
        let audited = junction_hub::node::audit_chain(&store, &genesis, &rules)
            .unwrap_or_else(|e| panic!("round {round}: stored chain is damaged: {e}"));
        for (hash, height) in &reported {
            let h: [u8; 32] = hex::decode(hash).unwrap().try_into().unwrap();
            use junction_hub::store::Store;
            assert_eq!(
                store.tx_location(&h).unwrap().map(|l| l.0),
                Some(*height),
                "round {round}: committed tx {hash} lost (store audited to {audited})"
            );
        }
        drop(store);
        net.start(3);
    }
    let target = net.height(0).unwrap();
    net.wait_height(3, target, LONG);
    net.assert_same_chain(&[0, 3], 1..=target);
}

/// A validator whose consensus key lives in an external signer process (`junction signer
/// start`), not in its home: with another validator down, the chain goes on only because
/// its votes, signed by the signer over the socket, count. The signer is SIGKILLed and
/// started again over its state file: the node reconnects and signs on, and the state
/// file names the last height signed.
#[test]
fn a_validator_signs_through_its_external_signer_across_a_signer_restart() {
    use std::process::{Command, Stdio};
    let mut net = Net::init(4, 15_400);
    let home = net.homes[3].clone();
    let moved = net.dir.path().join("signer_key.json");
    std::fs::rename(home.join("config/validator_key.json"), &moved).unwrap();
    let socket = home.join("signer.sock");
    let state = net.dir.path().join("signer_state.json");
    let cfg = home.join("config/config.toml");
    let mut text = std::fs::read_to_string(&cfg).unwrap();
    text.push_str("\n[signer]\nsocket = \"signer.sock\"\n");
    std::fs::write(&cfg, text).unwrap();
    let signer_log = net.dir.path().join("signer.log");
    let start_signer = || {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&signer_log)
            .unwrap();
        Command::new(junction_tests::junction_bin())
            .args(["signer", "start", "--key"])
            .arg(&moved)
            .arg("--state")
            .arg(&state)
            .arg("--socket")
            .arg(&socket)
            .stdin(Stdio::null())
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap()
    };
    let mut signer = start_signer();
    net.start_all();
    for i in 0..4 {
        net.wait_height(i, 3, LONG);
    }
    // Three of four must vote: node 3, signing through the signer, is one of them.
    net.kill(2);
    let h = net.height(0).unwrap();
    net.wait_height(0, h + 5, LONG);
    let signed = |state: &std::path::Path| -> u64 {
        let s: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(state).unwrap()).unwrap();
        s["step"]["height"].as_u64().unwrap()
    };
    assert!(
        signed(&state) >= h,
        "the signer's state names height {}",
        signed(&state)
    );

    let _ = signer.kill();
    let _ = signer.wait();
    let before = signed(&state);
    signer = start_signer();
    let h = net.height(0).unwrap();
    net.wait_height(0, h + 5, LONG);
    assert!(
        signed(&state) > before,
        "the restarted signer signed nothing"
    );
    assert!(net.alive(3), "{}", net.log_tail(3));
    let _ = signer.kill();
    let _ = signer.wait();
}

/// A scheduled upgrade carried out, on 4 validators: every node runs as the old release
/// (`--max-protocol-version 1`); the council schedules upgrade `v2` at a height; every node
/// stops before that height, naming the version it needs, with no block of version 2
/// anywhere. Started again as the new release, they run version 2's migration in the block
/// at that height and go on: that block and every later one carry version 2, the earlier
/// ones version 1, and all four hold the same chain.
#[test]
fn an_upgrade_stops_the_old_release_at_its_height_and_the_new_one_migrates_and_goes_on() {
    let mut net = Net::init(4, 15_500);
    for i in 0..4 {
        net.start_with(i, &["--max-protocol-version", "1"]);
    }
    for i in 0..4 {
        net.wait_height(i, 2, LONG);
    }
    let tip = net.height(0).unwrap();
    let at = tip + 30;
    let proposal = net.dir.path().join("upgrade.toml");
    std::fs::write(
        &proposal,
        format!("type = \"schedule_upgrade\"\nname = \"v2\"\nheight = {at}\n"),
    )
    .unwrap();
    let home = |i: usize| net.homes[i].to_str().unwrap().to_string();
    let rpc = |i: usize| format!("http://{}", net.rpc[i]);
    let (ok, text) = run_cli(&[
        "gov",
        "propose",
        "file",
        proposal.to_str().unwrap(),
        "--expedited",
        "--home",
        &home(0),
        "--rpc",
        &rpc(0),
    ]);
    assert!(ok, "{text}");
    let id = net
        .rpc(0, "gov_list", json!({}))
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["kind"] == "schedule_upgrade")
        .filter_map(|p| p["id"].as_u64())
        .max()
        .unwrap();
    for i in 1..4 {
        let (ok, text) = run_cli(&[
            "gov",
            "vote",
            &id.to_string(),
            "yes",
            "--home",
            &home(i),
            "--rpc",
            &rpc(i),
        ]);
        assert!(ok, "{text}");
    }
    // Every node stops before the upgrade's height, by name.
    let start = std::time::Instant::now();
    while (0..4).any(|i| net.alive(i)) {
        assert!(
            start.elapsed() < LONG,
            "a node of the old release still runs at height {:?}",
            net.height(0)
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    for i in 0..4 {
        let log = std::fs::read_to_string(net.homes[i].join("node.log")).unwrap();
        assert!(
            log.contains("upgrade_required")
                && log.contains(&format!("height {at} runs protocol version 2")),
            "node{i}: {}",
            net.log_tail(i)
        );
        net.kill(i);
    }
    // The new release migrates at the height and goes on.
    net.start_all();
    for i in 0..4 {
        net.wait_height(i, at + 2, LONG);
    }
    net.assert_same_chain(&[0, 1, 2, 3], 1..=at + 2);
    let version = |h: u64| {
        net.rpc(0, "block", json!({"height": h})).unwrap()["header"]["version"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(version(at - 1), 1);
    assert_eq!(version(at), 2);
    assert_eq!(version(at + 2), 2);
}
