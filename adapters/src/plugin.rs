//! The process of an adapter plugin (`spec/adapter-protocol.md` §1, §2, §5): a program in
//! any language, started once per chain, that answers JSON-RPC 2.0 requests on its standard
//! input with one line per answer on its standard output.
//!
//! [`PluginProcess`] starts it, says hello (version and chain checked), sends one request
//! at a time with a deadline, reads each answer line with a bound, and turns whatever goes
//! wrong into a named [`PluginFailure`]: the process is then killed, the failure counted by
//! reason, and the plugin started again on the next call once its pause is over (1 s,
//! doubling to 60 s, back to 1 s after 5 minutes without a failure). A method's own error
//! ([`MethodError`], §4) is an answer: the plugin stays up. Its standard error goes to the
//! log under the chain's name.
//!
//! Nothing a plugin answers is trusted beyond its shape: the adapter above this layer hands
//! headers and proofs to the hub, which verifies them.

use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::Duration;

use serde_json::{json, Value};
use thiserror::Error;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use tokio::time::Instant;

/// The protocol version this host speaks.
pub const PROTOCOL_VERSION: u64 = 1;
/// Longest answer line read (§6).
pub const MAX_LINE_BYTES: usize = 8 * 1024 * 1024;
/// Longest line of the plugin's standard error copied to the log.
const MAX_LOG_LINE: usize = 4 * 1024;
/// Deadline of `adapter_hello`.
pub const HELLO_DEADLINE: Duration = Duration::from_secs(5);
/// Longest pause before a restart.
const MAX_PAUSE: Duration = Duration::from_secs(60);
/// A plugin this long without a failure starts again from the shortest pause.
const HEALTHY_RESET: Duration = Duration::from_secs(300);

/// Why the host stopped a plugin, or cannot use it (§5). [`PluginFailure::name`] is stable
/// (logs, metrics, the conformance kit).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PluginFailure {
    /// The command could not be started.
    #[error("the plugin could not be started: {0}")]
    Spawn(String),
    /// The process ended (or closed its standard output).
    #[error("the plugin exited")]
    Exited,
    /// No answer within the method's deadline.
    #[error("no answer to {method} within {ms} ms")]
    Timeout {
        /// The method asked.
        method: String,
        /// The deadline.
        ms: u64,
    },
    /// A line that is not a JSON-RPC response to the pending request, or a result of the
    /// wrong shape.
    #[error("garbage answer to {method}: {detail}")]
    Garbage {
        /// The method asked.
        method: String,
        /// What was wrong.
        detail: String,
    },
    /// An answer line longer than the bound.
    #[error("an answer line longer than {max} bytes")]
    Oversized {
        /// The bound.
        max: usize,
    },
    /// A JSON-RPC protocol error (the plugin could not read a well-formed request), or
    /// `unsupported` for a method it listed.
    #[error("protocol error on {method}: {detail}")]
    Protocol {
        /// The method asked.
        method: String,
        /// The error it gave.
        detail: String,
    },
    /// No protocol version in common: the chain stops until its configuration changes.
    #[error("the plugin speaks version {offered}, this host speaks {PROTOCOL_VERSION}")]
    Version {
        /// What the plugin answered.
        offered: String,
    },
    /// The plugin serves another chain than the one configured.
    #[error("the plugin serves chain {got:?}, configured for {expected:?}")]
    Identity {
        /// Configured.
        expected: String,
        /// Answered.
        got: String,
    },
    /// Stopped after a failure; started again once the pause is over.
    #[error("the plugin is paused after {reason} ({ms} ms left)")]
    Paused {
        /// The failure that stopped it.
        reason: &'static str,
        /// Time left.
        ms: u64,
    },
}

impl PluginFailure {
    /// Stable name.
    pub fn name(&self) -> &'static str {
        match self {
            PluginFailure::Spawn(_) => "plugin_spawn",
            PluginFailure::Exited => "plugin_exited",
            PluginFailure::Timeout { .. } => "plugin_timeout",
            PluginFailure::Garbage { .. } => "plugin_garbage",
            PluginFailure::Oversized { .. } => "plugin_oversized",
            PluginFailure::Protocol { .. } => "plugin_protocol",
            PluginFailure::Version { .. } => "plugin_version",
            PluginFailure::Identity { .. } => "plugin_identity",
            PluginFailure::Paused { .. } => "plugin_paused",
        }
    }

    /// Whether a restart cannot help (the chain waits for its configuration to change).
    pub fn is_permanent(&self) -> bool {
        matches!(
            self,
            PluginFailure::Version { .. } | PluginFailure::Identity { .. }
        )
    }
}

/// A method's own error, answered by the plugin (§4): `data.name` and the message.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{name}: {message}")]
pub struct MethodError {
    /// The stable name (`rpc`, `block_not_found`, `not_committed`, ...).
    pub name: String,
    /// For people.
    pub message: String,
}

/// What a call can end with besides a result.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CallError {
    /// The plugin failed and was stopped (or is paused).
    #[error(transparent)]
    Failure(#[from] PluginFailure),
    /// The method failed; the plugin is fine.
    #[error(transparent)]
    Method(#[from] MethodError),
}

struct Running {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

/// Told of each failure of a plugin by its name (§5), as it is counted.
pub type FailureHook = Box<dyn Fn(&'static str) + Send + Sync>;

/// One plugin process for one chain.
pub struct PluginProcess {
    chain: String,
    command: Vec<String>,
    running: Option<Running>,
    hello: Option<Value>,
    next_id: u64,
    base_pause: Duration,
    pause: Duration,
    paused_until: Option<(Instant, &'static str)>,
    last_failure: Option<Instant>,
    failures: BTreeMap<&'static str, u64>,
    on_failure: Option<FailureHook>,
    dir: Option<std::path::PathBuf>,
    starts: u64,
    stopped_for_good: Option<PluginFailure>,
}

impl std::fmt::Debug for PluginProcess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginProcess")
            .field("chain", &self.chain)
            .field("command", &self.command)
            .field("running", &self.running.is_some())
            .field("failures", &self.failures)
            .finish_non_exhaustive()
    }
}

impl PluginProcess {
    /// A plugin for `chain` run as `command` (program and arguments); started on the first
    /// call.
    pub fn new(chain: &str, command: Vec<String>) -> Result<Self, PluginFailure> {
        if command.first().is_none_or(|p| p.is_empty()) {
            return Err(PluginFailure::Spawn("the command is empty".into()));
        }
        Ok(Self {
            chain: chain.to_string(),
            command,
            running: None,
            hello: None,
            next_id: 1,
            base_pause: Duration::from_secs(1),
            pause: Duration::from_secs(1),
            paused_until: None,
            last_failure: None,
            failures: BTreeMap::new(),
            on_failure: None,
            dir: None,
            starts: 0,
            stopped_for_good: None,
        })
    }

    /// The same with a shorter first pause (tests).
    pub fn with_first_pause(mut self, pause: Duration) -> Self {
        self.base_pause = pause;
        self.pause = pause;
        self
    }

    /// Runs the plugin in `dir` (the directory of `relayer.toml`), when given.
    pub fn in_dir(mut self, dir: Option<std::path::PathBuf>) -> Self {
        self.dir = dir.filter(|d| !d.as_os_str().is_empty());
        self
    }

    /// Calls `hook` with the name of each failure as it is counted (the relayer's metric).
    pub fn on_failure(mut self, hook: FailureHook) -> Self {
        self.on_failure = Some(hook);
        self
    }

    /// Failures so far, by [`PluginFailure::name`].
    pub fn failures(&self) -> &BTreeMap<&'static str, u64> {
        &self.failures
    }

    /// How many times the process was started.
    pub fn starts(&self) -> u64 {
        self.starts
    }

    /// The answer to `adapter_hello` of the running process.
    pub fn hello(&self) -> Option<&Value> {
        self.hello.as_ref()
    }

    /// The process id of the running plugin.
    pub fn pid(&self) -> Option<u32> {
        self.running.as_ref().and_then(|r| r.child.id())
    }

    /// Calls `method` with `params`, starting (and greeting) the plugin first when it is
    /// not running; `deadline` bounds the wait for the answer.
    pub async fn call(
        &mut self,
        method: &str,
        params: Value,
        deadline: Duration,
    ) -> Result<Value, CallError> {
        self.ensure_running().await?;
        match self.exchange(method, params, deadline).await {
            Ok(v) => Ok(v),
            Err(CallError::Failure(f)) => {
                self.fail(&f);
                Err(CallError::Failure(f))
            }
            Err(e) => Err(e),
        }
    }

    async fn ensure_running(&mut self) -> Result<(), PluginFailure> {
        if let Some(f) = &self.stopped_for_good {
            return Err(f.clone());
        }
        if self.running.is_some() {
            return Ok(());
        }
        if let Some((until, reason)) = self.paused_until {
            let now = Instant::now();
            if now < until {
                return Err(PluginFailure::Paused {
                    reason,
                    ms: until.duration_since(now).as_millis() as u64,
                });
            }
        }
        self.paused_until = None;
        let started = self.start().await;
        if let Err(f) = started {
            self.fail(&f);
            return Err(f);
        }
        Ok(())
    }

    async fn start(&mut self) -> Result<(), PluginFailure> {
        let (program, args) = self
            .command
            .split_first()
            .ok_or_else(|| PluginFailure::Spawn("the command is empty".into()))?;
        let mut command = Command::new(program);
        // The plugin gets no secrets by inheritance: only what the protocol names (§1).
        command.env_clear();
        for var in ["PATH", "HOME", "LANG"] {
            if let Some(v) = std::env::var_os(var) {
                command.env(var, v);
            }
        }
        if let Some(dir) = &self.dir {
            command.current_dir(dir);
        }
        let mut child = command
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| PluginFailure::Spawn(format!("{program}: {e}")))?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            return Err(PluginFailure::Spawn("no pipes to the plugin".into()));
        };
        if let Some(stderr) = child.stderr.take() {
            let chain = self.chain.clone();
            tokio::spawn(async move {
                let mut lines = BufReader::new(stderr);
                loop {
                    match read_line_bounded(&mut lines, MAX_LOG_LINE).await {
                        Ok(Some(line)) => {
                            let text = String::from_utf8_lossy(&line);
                            tracing::info!(chain, plugin = true, "{}", text.trim_end());
                        }
                        Ok(None) => break,
                        // A long line: cut, and go on with the next.
                        Err(_) => tracing::info!(chain, plugin = true, "(a log line over 4 KiB)"),
                    }
                }
            });
        }
        self.starts += 1;
        self.running = Some(Running {
            child,
            stdin,
            stdout: BufReader::new(stdout),
        });
        let hello = self
            .exchange(
                "adapter_hello",
                json!({"versions": [PROTOCOL_VERSION], "chain": self.chain}),
                HELLO_DEADLINE,
            )
            .await
            .map_err(|e| match e {
                CallError::Failure(f) => f,
                CallError::Method(m) => PluginFailure::Protocol {
                    method: "adapter_hello".into(),
                    detail: m.to_string(),
                },
            })?;
        if hello.get("version").and_then(Value::as_u64) != Some(PROTOCOL_VERSION) {
            return Err(PluginFailure::Version {
                offered: hello
                    .get("version")
                    .map_or_else(|| "none".into(), |v| v.to_string()),
            });
        }
        let chain = hello.get("chain").and_then(Value::as_str).unwrap_or("");
        if chain != self.chain {
            return Err(PluginFailure::Identity {
                expected: self.chain.clone(),
                got: chain.to_string(),
            });
        }
        self.hello = Some(hello);
        Ok(())
    }

    /// Stops the running process (not a failure: nothing is counted), and ends a pause
    /// after a failure; the next call starts it again at once. The conformance kit
    /// restarts a plugin this way. A plugin stopped for good stays stopped.
    pub async fn stop(&mut self) {
        if let Some(mut r) = self.running.take() {
            let _ = r.child.start_kill();
            let _ = r.child.wait().await;
        }
        self.hello = None;
        self.paused_until = None;
    }

    /// Stops the process after `failure`, counts it and sets the pause before a restart.
    fn fail(&mut self, failure: &PluginFailure) {
        if matches!(failure, PluginFailure::Paused { .. }) {
            return;
        }
        let name = failure.name();
        *self.failures.entry(name).or_default() += 1;
        if let Some(hook) = &self.on_failure {
            hook(name);
        }
        tracing::warn!(
            chain = self.chain,
            reason = name,
            "plugin stopped: {failure}"
        );
        if let Some(mut r) = self.running.take() {
            let _ = r.child.start_kill();
            tokio::spawn(async move {
                let _ = r.child.wait().await;
            });
        }
        self.hello = None;
        if failure.is_permanent() {
            self.stopped_for_good = Some(failure.clone());
            return;
        }
        let now = Instant::now();
        if self
            .last_failure
            .is_some_and(|t| now.duration_since(t) > HEALTHY_RESET)
        {
            self.pause = self.base_pause;
        }
        self.last_failure = Some(now);
        self.paused_until = Some((now + self.pause, name));
        self.pause = (self.pause * 2).min(MAX_PAUSE);
    }

    /// One request and its answer on the running process.
    async fn exchange(
        &mut self,
        method: &str,
        params: Value,
        deadline: Duration,
    ) -> Result<Value, CallError> {
        let id = self.next_id;
        self.next_id += 1;
        let running = self.running.as_mut().ok_or(PluginFailure::Exited)?;
        let mut line = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
            .to_string()
            .into_bytes();
        line.push(b'\n');
        let garbage = |detail: String| PluginFailure::Garbage {
            method: method.to_string(),
            detail,
        };
        let answer = tokio::time::timeout(deadline, async {
            running
                .stdin
                .write_all(&line)
                .await
                .map_err(|_| PluginFailure::Exited)?;
            running
                .stdin
                .flush()
                .await
                .map_err(|_| PluginFailure::Exited)?;
            read_line_bounded(&mut running.stdout, MAX_LINE_BYTES)
                .await?
                .ok_or(PluginFailure::Exited)
        })
        .await
        .map_err(|_| PluginFailure::Timeout {
            method: method.to_string(),
            ms: deadline.as_millis() as u64,
        })??;
        let v: Value =
            serde_json::from_slice(&answer).map_err(|e| garbage(format!("not JSON: {e}")))?;
        if v.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
            return Err(garbage("not a JSON-RPC 2.0 response".into()).into());
        }
        if v.get("id").and_then(Value::as_u64) != Some(id) {
            return Err(garbage(format!(
                "answers id {}, the request was {id}",
                v.get("id").map_or_else(|| "none".into(), |i| i.to_string())
            ))
            .into());
        }
        if let Some(e) = v.get("error") {
            let code = e.get("code").and_then(Value::as_i64).unwrap_or(0);
            let message = e
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let name = e
                .get("data")
                .and_then(|d| d.get("name"))
                .and_then(Value::as_str);
            return Err(match name {
                // JSON-RPC's own codes: the plugin could not read a well-formed request.
                _ if (-32_700..=-32_600).contains(&code) => {
                    CallError::Failure(PluginFailure::Protocol {
                        method: method.to_string(),
                        detail: format!("{code}: {message}"),
                    })
                }
                Some("unsupported") => CallError::Failure(PluginFailure::Protocol {
                    method: method.to_string(),
                    detail: format!("unsupported: {message}"),
                }),
                Some(name) => CallError::Method(MethodError {
                    name: name.to_string(),
                    message,
                }),
                None => CallError::Failure(garbage("an error without data.name".into())),
            });
        }
        v.get("result")
            .cloned()
            .ok_or_else(|| garbage("neither result nor error".into()).into())
    }
}

/// Reads one line (without its `\n`), at most `max` bytes; `None` at the end of input.
async fn read_line_bounded<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    max: usize,
) -> Result<Option<Vec<u8>>, PluginFailure> {
    let mut line = Vec::new();
    loop {
        let buf = reader.fill_buf().await.map_err(|_| PluginFailure::Exited)?;
        if buf.is_empty() {
            return Ok(if line.is_empty() { None } else { Some(line) });
        }
        let (take, done) = match buf.iter().position(|b| *b == b'\n') {
            Some(i) => (i + 1, true),
            None => (buf.len(), false),
        };
        if line.len() + take > max + 1 {
            return Err(PluginFailure::Oversized { max });
        }
        line.extend_from_slice(&buf[..take]);
        reader.consume(take);
        if done {
            line.pop();
            return Ok(Some(line));
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
pub(crate) mod tests {
    use super::*;

    /// A plugin in Python that greets as `evm-b` and then behaves as `script` says, per
    /// request: `ok` (answers the height 7), `method_error`, `exit`, `hang`, `garbage`,
    /// `wrong_id`, `oversized`, `parse_error`. `hello` overrides the greeting's version
    /// and chain.
    fn plugin(script: &[&str], version: u64, chain: &str) -> Vec<String> {
        let code = format!(
            r#"
import json, sys, time
plan = {plan:?}
n = 0
for line in sys.stdin:
    req = json.loads(line)
    rid = req["id"]
    if req["method"] == "adapter_hello":
        out = {{"jsonrpc": "2.0", "id": rid, "result": {{"version": {version}, "chain": "{chain}", "kind": "evm_attested", "capabilities": []}}}}
        print(json.dumps(out), flush=True)
        continue
    step = plan[n % len(plan)]
    n += 1
    print("handling", req["method"], step, file=sys.stderr, flush=True)
    if step == "ok":
        print(json.dumps({{"jsonrpc": "2.0", "id": rid, "result": {{"height": 7}}}}), flush=True)
    elif step == "method_error":
        print(json.dumps({{"jsonrpc": "2.0", "id": rid, "error": {{"code": -32000, "message": "no block 9", "data": {{"name": "block_not_found"}}}}}}), flush=True)
    elif step == "exit":
        sys.exit(3)
    elif step == "hang":
        time.sleep(30)
    elif step == "garbage":
        print("this is not json", flush=True)
    elif step == "wrong_id":
        print(json.dumps({{"jsonrpc": "2.0", "id": rid + 1, "result": {{}}}}), flush=True)
    elif step == "oversized":
        sys.stdout.write("x" * (9 * 1024 * 1024) + "\n"); sys.stdout.flush()
    elif step == "parse_error":
        print(json.dumps({{"jsonrpc": "2.0", "id": rid, "error": {{"code": -32700, "message": "parse error"}}}}), flush=True)
"#,
            plan = script,
        );
        vec!["python3".into(), "-c".into(), code]
    }

    /// Whether `python3` runs here (the test plugins are Python); in CI it must.
    pub(crate) fn have_python() -> bool {
        let ok = std::process::Command::new("python3")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        assert!(
            ok || std::env::var("CI").map_or(true, |v| v != "true"),
            "CI=true and no python3"
        );
        if !ok {
            eprintln!("SKIPPED: no python3");
        }
        ok
    }

    fn process(script: &[&str]) -> PluginProcess {
        PluginProcess::new("evm-b", plugin(script, 1, "evm-b"))
            .unwrap()
            .with_first_pause(Duration::from_millis(50))
    }

    async fn height(p: &mut PluginProcess) -> Result<Value, CallError> {
        p.call("chain_latestHeight", json!({}), Duration::from_secs(2))
            .await
    }

    #[tokio::test]
    async fn answers_and_method_errors_keep_the_plugin_running() {
        if !have_python() {
            return;
        }
        let mut p = process(&["ok", "method_error"]);
        assert_eq!(height(&mut p).await.unwrap(), json!({"height": 7}));
        assert_eq!(p.hello().unwrap()["chain"], "evm-b");
        let pid = p.pid();
        let e = height(&mut p).await.unwrap_err();
        assert_eq!(
            e,
            CallError::Method(MethodError {
                name: "block_not_found".into(),
                message: "no block 9".into()
            })
        );
        assert_eq!(height(&mut p).await.unwrap(), json!({"height": 7}));
        assert_eq!((p.pid(), p.starts()), (pid, 1));
        assert!(p.failures().is_empty());
    }

    /// Each misbehaviour stops the plugin with its own name, is counted, and the plugin is
    /// started again (and greeted) once its pause is over.
    #[tokio::test]
    async fn each_misbehaviour_is_named_counted_and_followed_by_a_restart() {
        if !have_python() {
            return;
        }
        for (step, name) in [
            ("exit", "plugin_exited"),
            ("hang", "plugin_timeout"),
            ("garbage", "plugin_garbage"),
            ("wrong_id", "plugin_garbage"),
            ("oversized", "plugin_oversized"),
            ("parse_error", "plugin_protocol"),
        ] {
            let told = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
            let hook_told = told.clone();
            let mut p = process(&[step, "ok"])
                .on_failure(Box::new(move |n| hook_told.lock().unwrap().push(n)));
            let e = height(&mut p).await.unwrap_err();
            let CallError::Failure(f) = &e else {
                panic!("{step}: {e:?}")
            };
            assert_eq!(f.name(), name, "{step}: {f}");
            assert_eq!(p.failures().get(name), Some(&1), "{step}");
            assert_eq!(
                *told.lock().unwrap(),
                vec![name],
                "{step}: the hook is told"
            );
            assert_eq!(p.pid(), None, "{step}: stopped");
            // Paused at once, then started again: the new process answers (its plan starts
            // over at the misbehaviour, so the restart is seen by the start count).
            let paused = height(&mut p).await.unwrap_err();
            assert!(
                matches!(paused, CallError::Failure(PluginFailure::Paused { .. })),
                "{step}: {paused:?}"
            );
            tokio::time::sleep(Duration::from_millis(80)).await;
            let _ = height(&mut p).await;
            assert_eq!(p.starts(), 2, "{step}");
        }
    }

    #[tokio::test]
    async fn a_plugin_of_another_version_or_chain_is_stopped_for_good() {
        if !have_python() {
            return;
        }
        for (version, chain, name) in [
            (2, "evm-b", "plugin_version"),
            (1, "evm-z", "plugin_identity"),
        ] {
            let mut p = PluginProcess::new("evm-b", plugin(&["ok"], version, chain))
                .unwrap()
                .with_first_pause(Duration::from_millis(1));
            for _ in 0..3 {
                let e = height(&mut p).await.unwrap_err();
                assert!(
                    matches!(&e, CallError::Failure(f) if f.name() == name),
                    "{e:?}"
                );
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            // Never started again: a restart cannot change its answer.
            assert_eq!(p.starts(), 1);
        }
    }

    #[tokio::test]
    async fn a_command_that_cannot_start_is_named() {
        let mut p = PluginProcess::new("evm-b", vec!["/nonexistent/plugin".into()]).unwrap();
        let e = height(&mut p).await.unwrap_err();
        assert!(
            matches!(&e, CallError::Failure(f) if f.name() == "plugin_spawn"),
            "{e:?}"
        );
        assert!(PluginProcess::new("evm-b", vec![]).is_err());
    }

    #[tokio::test]
    async fn pauses_double_up_to_a_minute() {
        if !have_python() {
            return;
        }
        let mut p = process(&["exit"]);
        let mut pauses = Vec::new();
        for _ in 0..4 {
            let _ = height(&mut p).await;
            let Some((until, _)) = p.paused_until else {
                panic!("not paused")
            };
            pauses.push(until.duration_since(Instant::now()).as_millis() as u64);
            p.paused_until = None;
        }
        // 50, 100, 200, 400 ms (less the time the calls took).
        for (got, want) in pauses.iter().zip([50u64, 100, 200, 400]) {
            assert!(*got <= want && *got + 40 >= want, "{pauses:?}");
        }
        assert_eq!(p.failures().get("plugin_exited"), Some(&4));
    }
}
