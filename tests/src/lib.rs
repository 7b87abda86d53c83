//! Harness for end-to-end tests: real `junction` validator processes on 127.0.0.1, driven
//! over their JSON-RPC, killed and restarted with real signals.
//!
//! The binary is `JUNCTION_BIN` when set; otherwise the tests build the current one
//! (`cargo build -p junction-cli --bin junction`, once per test process: a no-op when it is
//! up to date), so they never run a stale binary.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// Runs `junction <args>` with its output appended to `log`.
pub fn spawn_logged(args: &[&str], log: &Path) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    Command::new(junction_bin())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::from(log.try_clone().unwrap()))
        .stderr(Stdio::from(log))
        .spawn()
        .unwrap()
}

/// Path of the `junction` binary under test: `JUNCTION_BIN`, or the workspace's build when
/// it is newer than every source it is built from, else built here first (so a test never
/// runs a stale binary).
pub fn junction_bin() -> PathBuf {
    if let Ok(p) = std::env::var("JUNCTION_BIN") {
        return PathBuf::from(p);
    }
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
            let target = std::env::var_os("CARGO_TARGET_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| root.join("target"));
            let bin = target.join("debug/junction");
            let built = std::fs::metadata(&bin).and_then(|m| m.modified()).ok();
            let stale = match (built, newest_source(&root)) {
                (Some(b), Some(src)) => src > b,
                _ => true,
            };
            if stale {
                let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
                let status = Command::new(cargo)
                    .args([
                        "build",
                        "--quiet",
                        "-p",
                        "junction-cli",
                        "--bin",
                        "junction",
                    ])
                    .current_dir(&root)
                    .status()
                    .expect("running cargo to build the junction binary");
                assert!(status.success(), "building the junction binary failed");
            }
            bin
        })
        .clone()
}

/// The newest modification time among the sources the binary is built from.
fn newest_source(root: &Path) -> Option<std::time::SystemTime> {
    fn walk(dir: &Path, newest: &mut Option<std::time::SystemTime>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let path = e.path();
            let name = e.file_name();
            if matches!(
                name.to_str(),
                Some("target" | "node_modules" | "fuzz" | "tests" | ".git")
            ) {
                continue;
            }
            if path.is_dir() {
                walk(&path, newest);
            } else if let Ok(t) = e.metadata().and_then(|m| m.modified()) {
                if newest.is_none_or(|n| t > n) {
                    *newest = Some(t);
                }
            }
        }
    }
    let mut newest = None;
    // Every crate the workspace lists (the binary depends on nearly all of them).
    let members: Vec<String> = std::fs::read_to_string(root.join("Cargo.toml"))
        .ok()
        .and_then(|t| toml::from_str::<toml::Table>(&t).ok())
        .and_then(|m| {
            m.get("workspace")?.get("members")?.as_array().map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
        })
        .unwrap_or_default();
    for part in members.iter().filter(|m| *m != "tests") {
        walk(&root.join(part), &mut newest);
    }
    for file in ["Cargo.toml", "Cargo.lock"] {
        if let Ok(t) = std::fs::metadata(root.join(file)).and_then(|m| m.modified()) {
            if newest.is_none_or(|n| t > n) {
                newest = Some(t);
            }
        }
    }
    newest
}

/// Runs `junction <args>` to completion and returns (success, stdout+stderr).
pub fn run_cli(args: &[&str]) -> (bool, String) {
    let out = Command::new(junction_bin())
        .args(args)
        .output()
        .expect("running junction");
    let mut text = String::from_utf8_lossy(&out.stdout).to_string();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

/// An HTTP response: status and body.
#[derive(Debug)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Body text.
    pub body: String,
}

/// A minimal HTTP/1.1 POST over a fresh loopback connection.
pub fn http_post(addr: &str, path: &str, body: &[u8]) -> std::io::Result<HttpResponse> {
    http_request(addr, "POST", path, body)
}

/// A minimal HTTP/1.1 GET.
pub fn http_get(addr: &str, path: &str) -> std::io::Result<HttpResponse> {
    http_request(addr, "GET", path, b"")
}

fn http_request(
    addr: &str,
    method: &str,
    path: &str,
    body: &[u8],
) -> std::io::Result<HttpResponse> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(40)))?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes())?;
    // The server may answer (413) before reading a huge body; a write error then is fine.
    let _ = s.write_all(body);
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).to_string();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = match text.find("\r\n\r\n") {
        Some(i) => decode_chunked_if_needed(&text[..i], &text[i + 4..]),
        None => String::new(),
    };
    Ok(HttpResponse { status, body })
}

fn decode_chunked_if_needed(head: &str, body: &str) -> String {
    if !head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        return body.to_string();
    }
    let mut out = String::new();
    let mut rest = body;
    while let Some(i) = rest.find("\r\n") {
        let Ok(n) = usize::from_str_radix(rest[..i].trim(), 16) else {
            break;
        };
        if n == 0 {
            break;
        }
        let start = i + 2;
        out.push_str(&rest[start..(start + n).min(rest.len())]);
        rest = &rest[(start + n + 2).min(rest.len())..];
    }
    out
}

/// A local network of validator processes in a temporary directory.
#[derive(Debug)]
pub struct Net {
    /// Keeps the directory alive.
    pub dir: tempfile::TempDir,
    /// Homes, in order.
    pub homes: Vec<PathBuf>,
    /// RPC `host:port` of each node.
    pub rpc: Vec<String>,
    /// Gossip `host:port` of each node.
    pub gossip: Vec<String>,
    /// Consensus P2P `host:port` of each node.
    pub p2p: Vec<String>,
    children: Vec<Option<Child>>,
}

impl Net {
    /// Writes an `n`-validator testnet with ports from `base_port`.
    ///
    /// Tests choose bases below 32768, out of Linux's ephemeral range (32768-60999): a port
    /// found free when the testnet is written must still be free when a node starts a minute
    /// later, and in that range any outgoing connection (anvil, the relayer, another test)
    /// may have taken it as its source port meanwhile.
    pub fn init(n: usize, base_port: u16) -> Net {
        Self::init_chain(n, base_port, "junction-local")
    }

    /// [`Net::init`] for a hub with chain id `chain_id`.
    pub fn init_chain(n: usize, base_port: u16, chain_id: &str) -> Net {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("net");
        let (ok, text) = run_cli(&[
            "testnet",
            "init",
            "--validators",
            &n.to_string(),
            "--out",
            out.to_str().unwrap(),
            "--base-port",
            &base_port.to_string(),
            "--chain-id",
            chain_id,
        ]);
        assert!(ok, "testnet init failed: {text}");
        let mut net = Net {
            dir,
            homes: vec![],
            rpc: vec![],
            gossip: vec![],
            p2p: vec![],
            children: vec![],
        };
        for i in 0..n {
            let home = out.join(format!("node{i}"));
            let cfg = junction_hub::config::Home::new(&home)
                .load_config()
                .unwrap();
            net.rpc.push(cfg.rpc.listen.to_string());
            net.gossip.push(cfg.gossip.listen.to_string());
            net.p2p.push(cfg.p2p.listen.to_string());
            net.homes.push(home);
            net.children.push(None);
        }
        net
    }

    /// Makes the home of one more node with `junction init --genesis` (this net's genesis,
    /// fresh keys, every node as a peer) at ports from `base_port`, as an operator joining
    /// the hub would; returns its index and what `init` printed (its keys). It is not a
    /// validator until the council adds it.
    pub fn join(&mut self, base_port: u16) -> (usize, Value) {
        let i = self.homes.len();
        // Beside the testnet, not in it: it holds no member key.
        let home = self.dir.path().join("joined").join(format!("node{i}"));
        let genesis = junction_hub::config::Home::new(&self.homes[0]).genesis_file();
        let mut args = vec![
            "init".to_string(),
            "--home".into(),
            home.to_str().unwrap().into(),
            "--moniker".into(),
            format!("node{i}"),
            "--genesis".into(),
            genesis.to_str().unwrap().into(),
            "--base-port".into(),
            base_port.to_string(),
        ];
        for p in &self.p2p {
            args.push("--peer".into());
            args.push(p.clone());
        }
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let (ok, text) = run_cli(&refs);
        assert!(ok, "init --genesis failed: {text}");
        let printed: Value = serde_json::from_str(&text[text.find('{').unwrap_or(0)..]).unwrap();
        let cfg = junction_hub::config::Home::new(&home)
            .load_config()
            .unwrap();
        self.rpc.push(cfg.rpc.listen.to_string());
        self.gossip.push(cfg.gossip.listen.to_string());
        self.p2p.push(cfg.p2p.listen.to_string());
        self.homes.push(home);
        self.children.push(None);
        (i, printed)
    }

    /// Starts every node.
    pub fn start_all(&mut self) {
        for i in 0..self.homes.len() {
            self.start(i);
        }
    }

    /// Starts node `i` (its output appends to `<home>/node.log`).
    pub fn start(&mut self, i: usize) {
        self.start_with(i, &[]);
    }

    /// [`Net::start`] with more arguments to `junction start`.
    pub fn start_with(&mut self, i: usize, extra: &[&str]) {
        assert!(self.children[i].is_none(), "node{i} already running");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.homes[i].join("node.log"))
            .unwrap();
        let child = Command::new(junction_bin())
            .args(["start", "--home", self.homes[i].to_str().unwrap()])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap();
        self.children[i] = Some(child);
    }

    /// SIGKILLs node `i` and reaps it.
    pub fn kill(&mut self, i: usize) {
        if let Some(mut c) = self.children[i].take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Whether node `i`'s process is still alive.
    pub fn alive(&mut self, i: usize) -> bool {
        match self.children[i].as_mut() {
            Some(c) => c.try_wait().ok().flatten().is_none(),
            None => false,
        }
    }

    /// The tail of node `i`'s log (for failure messages).
    pub fn log_tail(&self, i: usize) -> String {
        let text = std::fs::read_to_string(self.homes[i].join("node.log")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    /// Calls an RPC method on node `i`; returns the whole response object.
    pub fn rpc_raw(&self, i: usize, method: &str, params: Value) -> Option<Value> {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let r = http_post(&self.rpc[i], "/", body.to_string().as_bytes()).ok()?;
        serde_json::from_str(&r.body).ok()
    }

    /// Calls an RPC method; `Some(result)` on success.
    pub fn rpc(&self, i: usize, method: &str, params: Value) -> Option<Value> {
        self.rpc_raw(i, method, params)?.get("result").cloned()
    }

    /// Node `i`'s committed height, if it answers.
    pub fn height(&self, i: usize) -> Option<u64> {
        self.rpc(i, "status", json!({}))?.get("height")?.as_u64()
    }

    /// Waits until node `i` reaches `h`, panicking with its log after `limit`.
    pub fn wait_height(&self, i: usize, h: u64, limit: Duration) -> u64 {
        let start = Instant::now();
        loop {
            if let Some(got) = self.height(i) {
                if got >= h {
                    return got;
                }
            }
            if start.elapsed() > limit {
                panic!(
                    "node{i} did not reach height {h} within {limit:?} (at {:?})\n{}",
                    self.height(i),
                    self.log_tail(i)
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// (block hash, app hash) of node `i` at height `h`.
    pub fn block_ids(&self, i: usize, h: u64) -> Option<(String, String)> {
        let b = self.rpc(i, "block", json!({"height": h}))?;
        Some((
            b.get("hash")?.as_str()?.to_string(),
            b.pointer("/header/app_hash")?.as_str()?.to_string(),
        ))
    }

    /// Asserts that every node in `nodes` has the same block and app hash at each height
    /// in `heights`.
    pub fn assert_same_chain(&self, nodes: &[usize], heights: std::ops::RangeInclusive<u64>) {
        for h in heights {
            let first = self
                .block_ids(nodes[0], h)
                .unwrap_or_else(|| panic!("node{} has no block {h}", nodes[0]));
            for &i in &nodes[1..] {
                let ids = self
                    .block_ids(i, h)
                    .unwrap_or_else(|| panic!("node{i} has no block {h}"));
                assert_eq!(
                    ids, first,
                    "node{i} differs from node{} at height {h}",
                    nodes[0]
                );
            }
        }
    }

    /// The chain id of the network.
    pub fn chain_id(&self) -> junction_spec::ChainId {
        junction_hub::config::Genesis::load(
            &junction_hub::config::Home::new(&self.homes[0]).genesis_file(),
        )
        .unwrap()
        .chain_id()
        .unwrap()
    }

    /// A metric's value from node `i`'s `/metrics` (summing label sets that contain `labels`).
    pub fn metric(&self, i: usize, name: &str, labels: &str) -> f64 {
        let Ok(r) = http_get(&self.rpc[i], "/metrics") else {
            return 0.0;
        };
        r.body
            .lines()
            .filter(|l| l.starts_with(name) && l.contains(labels))
            .filter_map(|l| l.rsplit(' ').next().and_then(|v| v.parse::<f64>().ok()))
            .sum()
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        for c in self.children.iter_mut().flatten() {
            let _ = c.kill();
            let _ = c.wait();
        }
        // A failing test shows what each validator said last (its directory goes with it).
        if std::thread::panicking() {
            for h in &self.homes {
                let text = std::fs::read_to_string(h.join("node.log")).unwrap_or_default();
                let lines: Vec<&str> = text.lines().collect();
                eprintln!(
                    "--- {} (last lines) ---\n{}",
                    h.display(),
                    lines[lines.len().saturating_sub(15)..].join("\n")
                );
            }
        }
    }
}

/// A deterministic test account.
pub fn account(seed: u8) -> junction_hub::context::PrivateKey {
    junction_hub::context::PrivateKey::from([seed; 32])
}

/// Hex of a signed `Remark` transaction.
pub fn remark_hex(
    key: &junction_hub::context::PrivateKey,
    chain: &junction_spec::ChainId,
    nonce: u64,
    data: &[u8],
) -> String {
    use junction_spec::Encode;
    hex::encode(junction_keys::sign_remark(key, chain, nonce, data.to_vec()).to_bytes())
}
