//! A local anvil process on `127.0.0.1`, stopped when dropped (tests, examples, local nets).
//!
//! The binary comes from the pinned npm package (`scripts/setup-evm.sh` installs it into
//! `adapters/evm/node_modules`); `JUNCTION_ANVIL` names another one.

use std::io;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use thiserror::Error;

/// How long a starting anvil may take to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(20);
/// Attempts with a fresh port when another process takes ours between probe and bind.
const START_ATTEMPTS: usize = 3;

/// The first of anvil's public development keys (account 0). Known to everyone: only for
/// local tests, never for a chain that holds value.
pub const DEV_KEY_0: &str = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
/// Development key of account 1 (public, tests only).
pub const DEV_KEY_1: &str = "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";

/// Why anvil could not be started.
#[derive(Debug, Error)]
pub enum AnvilError {
    /// No anvil binary was found.
    #[error("anvil not found: run scripts/setup-evm.sh or set JUNCTION_ANVIL")]
    NotFound,
    /// The process could not be started or probed.
    #[error("anvil: {0}")]
    Io(#[from] io::Error),
    /// The process exited or never accepted connections.
    #[error("anvil did not start: {0}")]
    DidNotStart(String),
}

impl AnvilError {
    /// Stable snake_case name.
    pub fn name(&self) -> &'static str {
        match self {
            AnvilError::NotFound => "anvil_not_found",
            AnvilError::Io(_) => "anvil_io",
            AnvilError::DidNotStart(_) => "anvil_did_not_start",
        }
    }
}

/// The anvil binary: `JUNCTION_ANVIL`, else the one `scripts/setup-evm.sh` installs, else
/// `anvil` on `PATH`.
pub fn anvil_binary() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("JUNCTION_ANVIL") {
        return Some(PathBuf::from(p));
    }
    let pinned = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("evm/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil");
    if pinned.is_file() {
        return Some(pinned);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("anvil"))
        .find(|p| p.is_file())
}

/// A running anvil; killed on drop.
#[derive(Debug)]
pub struct Anvil {
    child: Child,
    port: u16,
    log_path: PathBuf,
}

impl Anvil {
    /// Starts anvil on a free `127.0.0.1` port with `extra_args` (e.g. `--block-time`).
    pub fn spawn(extra_args: &[&str]) -> Result<Self, AnvilError> {
        let bin = anvil_binary().ok_or(AnvilError::NotFound)?;
        let mut last = String::new();
        for _ in 0..START_ATTEMPTS {
            let port = free_port()?;
            // anvil's output goes to a file: a pipe nobody reads would fill up and stall it.
            let log_path = std::env::temp_dir().join(format!("junction-anvil-{port}.log"));
            let log = std::fs::File::create(&log_path)?;
            let child = Command::new(&bin)
                .args(["--host", "127.0.0.1", "--port", &port.to_string()])
                // Room for large batches; the default block gas limit is 30M.
                .args(["--gas-limit", "300000000"])
                .args(extra_args)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::from(log))
                .spawn()?;
            let mut anvil = Anvil {
                child,
                port,
                log_path,
            };
            match anvil.wait_ready() {
                Ok(()) => return Ok(anvil),
                Err(e) => last = e,
            }
        }
        Err(AnvilError::DidNotStart(last))
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + START_TIMEOUT;
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                let err = std::fs::read_to_string(&self.log_path).unwrap_or_default();
                return Err(format!("exited with {status}: {}", err.trim()));
            }
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(format!(
            "no answer on port {} within {START_TIMEOUT:?}",
            self.port
        ))
    }

    /// The port anvil listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The HTTP JSON-RPC endpoint.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Anvil {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log_path);
    }
}

fn free_port() -> io::Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(listener.local_addr()?.port())
}
