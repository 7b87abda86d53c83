//! Bad input over RPC and P2P gets a named error or is dropped and counted, and the network
//! keeps committing; operator mistakes get messages that say what to do.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;

use junction_tests::{account, http_post, remark_hex, run_cli, Net};
use serde_json::{json, Value};

const LONG: Duration = Duration::from_secs(90);

fn error_of(v: &Value) -> (i64, String) {
    let e = v
        .get("error")
        .unwrap_or_else(|| panic!("expected an error, got {v}"));
    (
        e["code"].as_i64().unwrap(),
        e["data"]["name"].as_str().unwrap_or("").to_string(),
    )
}

#[test]
fn bad_rpc_and_p2p_input_is_refused_by_name_and_the_chain_goes_on() {
    let mut net = Net::init(4, 11_400);
    net.start_all();
    net.wait_height(0, 2, LONG);
    let chain = net.chain_id();
    let key = account(5);

    // A good transaction first, so that stale nonces and replays exist.
    let good = remark_hex(&key, &chain, 0, b"first");
    let r = net
        .rpc(0, "broadcast_tx", json!({"tx": good, "mode": "commit"}))
        .expect("good tx commits");
    let committed_at = r["height"].as_u64().unwrap();
    assert!(committed_at >= 1);
    // Node 1 answers the checks below: they are about committed state, so it must have
    // committed that block too (until then the transaction is only pending there).
    net.wait_height(1, committed_at, LONG);

    let send = |tx: String| net.rpc_raw(1, "broadcast_tx", json!({"tx": tx})).unwrap();

    // Malformed bytes.
    assert_eq!(
        error_of(&send("00ff00".into())),
        (1001, "malformed_tx".into())
    );
    // Not hex at all.
    assert_eq!(error_of(&send("zz".into())).0, -32602);
    // Oversized transaction.
    let huge = hex::encode(vec![0u8; 70_000]);
    assert_eq!(error_of(&send(huge)), (1002, "tx_too_large".into()));
    // Wrong signature.
    let mut bad_sig = hex::decode(remark_hex(&key, &chain, 1, b"x")).unwrap();
    let last = bad_sig.len() - 1;
    bad_sig[last] ^= 0x01;
    assert_eq!(
        error_of(&send(hex::encode(bad_sig))),
        (1003, "invalid_signature".into())
    );
    // Wrong chain id.
    let other = junction_spec::ChainId::new("other-chain").unwrap();
    assert_eq!(
        error_of(&send(remark_hex(&key, &other, 1, b"x"))),
        (1004, "wrong_chain_id".into())
    );
    // Stale nonce (0 is used) with different content.
    assert_eq!(
        error_of(&send(remark_hex(&key, &chain, 0, b"again"))),
        (1005, "stale_nonce".into())
    );
    // Exact replay of the committed transaction.
    assert_eq!(error_of(&send(good)), (1009, "tx_already_committed".into()));
    // Nonce far ahead.
    assert_eq!(
        error_of(&send(remark_hex(&key, &chain, 1_000_000, b"x"))),
        (1006, "nonce_too_far_ahead".into())
    );
    // A key the council does not know (not a member, relayer or admitted account): refused
    // by name before anything in it is looked at, however well formed.
    let mut seed = [7u8; 32];
    seed[0] = 0;
    let stranger = junction_hub::context::PrivateKey::from(seed);
    assert_eq!(
        error_of(&send(remark_hex(&stranger, &chain, 0, b"spam"))),
        (1013, "unknown_account".into())
    );
    assert!(net.metric(1, "junction_rejected_txs_total", "unknown_account") >= 1.0);
    // Unknown method.
    let v = net.rpc_raw(1, "no_such_method", json!({})).unwrap();
    assert_eq!(error_of(&v), (-32601, "method_not_found".into()));
    // Not JSON.
    let r = http_post(&net.rpc[1], "/", b"{not json").unwrap();
    assert_eq!(error_of(&serde_json::from_str(&r.body).unwrap()).0, -32700);
    // A huge JSON body.
    let mut big =
        b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"status\",\"params\":{\"x\":\"".to_vec();
    big.extend(std::iter::repeat_n(b'a', 3 * 1024 * 1024));
    big.extend_from_slice(b"\"}}");
    let r = http_post(&net.rpc[1], "/", &big).unwrap();
    assert_eq!(r.status, 413);
    assert_eq!(
        error_of(&serde_json::from_str(&r.body).unwrap()),
        (-32001, "request_too_large".into())
    );
    // A batch over the cap.
    let batch: Vec<Value> = (0..100)
        .map(|i| json!({"jsonrpc": "2.0", "id": i, "method": "status"}))
        .collect();
    let r = http_post(&net.rpc[1], "/", Value::Array(batch).to_string().as_bytes()).unwrap();
    assert_eq!(
        error_of(&serde_json::from_str(&r.body).unwrap()),
        (-32002, "batch_too_large".into())
    );

    // Garbage and an oversized frame to node 2's gossip port; garbage to its consensus port.
    {
        let mut s = TcpStream::connect(&net.gossip[2]).unwrap();
        s.write_all(&[0, 0, 0, 8, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4])
            .unwrap();
    }
    {
        let mut s = TcpStream::connect(&net.gossip[2]).unwrap();
        s.write_all(&u32::MAX.to_be_bytes()).unwrap();
        s.write_all(&[0u8; 64]).unwrap();
    }
    {
        let mut s = TcpStream::connect(&net.p2p[2]).unwrap();
        let _ = s.write_all(&[0x13; 4096]);
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let malformed = net.metric(2, "junction_p2p_dropped_frames_total", "malformed_frame");
        let oversized = net.metric(2, "junction_p2p_dropped_frames_total", "oversized_frame");
        if malformed >= 1.0 && oversized >= 1.0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "dropped frames not counted: malformed={malformed} oversized={oversized}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(net.metric(1, "junction_rejected_txs_total", "invalid_signature") >= 1.0);

    // After all that, every node still commits.
    let now = net.height(0).unwrap();
    for i in 0..4 {
        net.wait_height(i, now + 5, LONG);
        assert!(net.alive(i), "node{i} died");
    }
}

#[test]
fn websocket_subscription_streams_new_blocks() {
    let mut net = Net::init(1, 11_500);
    net.start_all();
    net.wait_height(0, 1, LONG);
    let (mut ws, _) = tungstenite::connect(format!("ws://{}/websocket", net.rpc[0])).unwrap();
    ws.send(tungstenite::Message::Text(
        json!({"jsonrpc": "2.0", "id": 7, "method": "subscribe", "params": {"event": "new_block"}})
            .to_string()
            .into(),
    ))
    .unwrap();
    let mut heights = Vec::new();
    while heights.len() < 3 {
        let msg = ws.read().unwrap();
        let v: Value = serde_json::from_str(msg.to_text().unwrap()).unwrap();
        if v.get("id") == Some(&json!(7)) {
            assert_eq!(v["result"]["subscribed"], "new_block");
            continue;
        }
        assert_eq!(v["method"], "new_block");
        heights.push(v["params"]["height"].as_u64().unwrap());
    }
    assert!(heights.windows(2).all(|w| w[1] == w[0] + 1), "{heights:?}");
}

#[test]
fn operator_errors_say_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nowhere");
    let (ok, text) = run_cli(&["start", "--home", missing.to_str().unwrap()]);
    assert!(!ok);
    assert!(text.contains("junction init"), "{text}");

    let net = Net::init(1, 11_600);
    let home = net.homes[0].to_str().unwrap().to_string();
    let genesis = net.homes[0].join("config/genesis.json");
    let original = std::fs::read_to_string(&genesis).unwrap();

    // Port in use.
    let _hold = std::net::TcpListener::bind(&net.rpc[0]).unwrap();
    let (ok, text) = run_cli(&["start", "--home", &home]);
    assert!(!ok);
    assert!(text.contains("already in use"), "{text}");
    drop(_hold);

    // Corrupt genesis.
    std::fs::write(&genesis, "{ not json").unwrap();
    let (ok, text) = run_cli(&["start", "--home", &home]);
    assert!(!ok);
    assert!(text.contains("genesis.json is invalid"), "{text}");

    // Unreadable key file.
    std::fs::write(&genesis, &original).unwrap();
    let key = net.homes[0].join("config/validator_key.json");
    let key_text = std::fs::read_to_string(&key).unwrap();
    std::fs::write(&key, "garbage").unwrap();
    let (ok, text) = run_cli(&["start", "--home", &home]);
    assert!(!ok);
    assert!(text.contains("validator_key.json is invalid"), "{text}");
    std::fs::write(&key, key_text).unwrap();

    // Mismatched genesis: data made with one genesis, then another chain id.
    let mut g: Value = serde_json::from_str(&original).unwrap();
    let (mut child, _) = (
        std::process::Command::new(junction_tests::junction_bin())
            .args(["start", "--home", &home])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
        (),
    );
    std::thread::sleep(Duration::from_secs(2));
    let _ = child.kill();
    let _ = child.wait();
    g["chain_id"] = json!("another-chain");
    std::fs::write(&genesis, g.to_string()).unwrap();
    let (ok, text) = run_cli(&["start", "--home", &home]);
    assert!(!ok);
    assert!(text.contains("does not match the genesis"), "{text}");
}
