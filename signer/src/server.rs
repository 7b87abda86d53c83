//! The reference signer: holds the consensus key, answers on a Unix socket, and keeps what
//! it signed last in a state file that is written (and synced) before a signature leaves.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use malachitebft_signing_ed25519::PrivateKey;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::Mutex;
use tracing::{info, warn};

use crate::guard::{Decision, SignGuard};
use crate::protocol::{SignRequest, SignResponse, SignerErrorBody, MAX_LINE_BYTES};

/// The key and what it signed.
#[derive(Debug)]
pub struct Signer {
    key: PrivateKey,
    state_path: PathBuf,
    guard: SignGuard,
}

/// Why a signature is refused.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// The guard refused it.
    #[error(transparent)]
    Guard(#[from] crate::guard::GuardError),
    /// The new state could not be made durable: nothing is signed.
    #[error("state not saved: {0}")]
    StateNotSaved(String),
}

impl SignError {
    /// The error's name on the socket.
    pub fn name(&self) -> &'static str {
        match self {
            SignError::Guard(g) => g.name(),
            SignError::StateNotSaved(_) => "state_not_saved",
        }
    }
}

impl Signer {
    /// The signer of `key`, with what `state_path` says it signed (nothing when the file
    /// does not exist yet). A state file that does not read is refused: starting blank
    /// would forget what was signed.
    pub fn open(key: PrivateKey, state_path: &Path) -> Result<Self, String> {
        let guard = match std::fs::read_to_string(state_path) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| {
                format!(
                    "{} is not a signer state ({e}); restore it rather than start blank",
                    state_path.display()
                )
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => SignGuard::default(),
            Err(e) => return Err(format!("reading {}: {e}", state_path.display())),
        };
        Ok(Self {
            key,
            state_path: state_path.to_path_buf(),
            guard,
        })
    }

    /// What it signed last.
    pub fn guard(&self) -> &SignGuard {
        &self.guard
    }

    /// The public key, hex.
    pub fn public_key_hex(&self) -> String {
        hex::encode(self.key.public_key().as_bytes())
    }

    /// Signs `bytes` if the guard allows it, after the new state is on disk.
    pub fn sign(&mut self, bytes: &[u8]) -> Result<[u8; 64], SignError> {
        if self.guard.check(bytes)? == Decision::Record {
            let next = self.guard.record(bytes)?;
            save(&self.state_path, &next).map_err(SignError::StateNotSaved)?;
            self.guard = next;
        }
        Ok(self.key.sign(bytes).to_bytes())
    }
}

/// Writes the state durably: a temporary file, synced, renamed over the old one, and the
/// directory synced.
fn save(path: &Path, guard: &SignGuard) -> Result<(), String> {
    use std::io::Write;
    let text = serde_json::to_string(guard).map_err(|e| e.to_string())?;
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::File::create(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
    f.write_all(text.as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(|e| format!("{}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, path).map_err(|e| format!("{}: {e}", path.display()))?;
    if let Some(dir) = path.parent() {
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

fn answer(signer: &mut Signer, line: &str) -> SignResponse {
    let refused = |name: &str, message: String| SignResponse {
        error: Some(SignerErrorBody {
            name: name.to_string(),
            message,
        }),
        ..Default::default()
    };
    match serde_json::from_str::<SignRequest>(line) {
        Err(e) => refused("bad_request", e.to_string()),
        Ok(SignRequest::PublicKey) => SignResponse {
            public_key: Some(signer.public_key_hex()),
            ..Default::default()
        },
        Ok(SignRequest::Sign { bytes }) => match hex::decode(&bytes) {
            Err(e) => refused("bad_request", format!("bytes: {e}")),
            Ok(bytes) => match signer.sign(&bytes) {
                Ok(sig) => SignResponse {
                    signature: Some(hex::encode(sig)),
                    ..Default::default()
                },
                Err(e) => {
                    warn!(error = e.name(), "refused to sign: {e}");
                    refused(e.name(), e.to_string())
                }
            },
        },
    }
}

async fn connection(stream: UnixStream, signer: Arc<Mutex<Signer>>) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    let mut line = String::new();
    loop {
        line.clear();
        let n = (&mut lines)
            .take(MAX_LINE_BYTES as u64 + 1)
            .read_line(&mut line)
            .await?;
        if n == 0 {
            return Ok(());
        }
        if n > MAX_LINE_BYTES {
            // A line over the bound: answered once, then the connection is closed.
            let r =
                serde_json::json!({"error": {"name": "bad_request", "message": "line too long"}});
            write.write_all(format!("{r}\n").as_bytes()).await?;
            return Ok(());
        }
        let response = {
            let mut s = signer.lock().await;
            answer(&mut s, line.trim_end())
        };
        let text = serde_json::to_string(&response).unwrap_or_default();
        write.write_all(text.as_bytes()).await?;
        write.write_all(b"\n").await?;
    }
}

/// Serves `signer` on the Unix socket `socket` (made readable and writable by the owner
/// only) until the process stops.
pub async fn serve(socket: &Path, signer: Signer) -> std::io::Result<()> {
    if socket.exists() {
        std::fs::remove_file(socket)?;
    }
    let listener = UnixListener::bind(socket)?;
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(socket, std::fs::Permissions::from_mode(0o600))?;
    }
    info!(socket = %socket.display(), public_key = %signer.public_key_hex(), "signer listening");
    let signer = Arc::new(Mutex::new(signer));
    loop {
        let (stream, _) = listener.accept().await?;
        let s = signer.clone();
        tokio::spawn(async move {
            if let Err(e) = connection(stream, s).await {
                warn!(%e, "signer connection ended");
            }
        });
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::guard::tests::vote;

    /// What the signer signed is on disk before the signature leaves, so a signer started
    /// again over the same state still refuses the other vote.
    #[test]
    fn the_protection_survives_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("signer_state.json");
        let key = PrivateKey::from([3u8; 32]);
        let mut s = Signer::open(key.clone(), &state).unwrap();
        let sig = s.sign(&vote(2, 9, 1, Some(4))).unwrap();
        assert!(key
            .public_key()
            .verify(
                &vote(2, 9, 1, Some(4)),
                &malachitebft_signing_ed25519::Signature::from_bytes(sig)
            )
            .is_ok());
        drop(s);
        let mut again = Signer::open(key.clone(), &state).unwrap();
        assert_eq!(
            again.sign(&vote(2, 9, 1, Some(5))).unwrap_err().name(),
            "double_sign"
        );
        assert_eq!(
            again.sign(&vote(1, 9, 1, Some(5))).unwrap_err().name(),
            "regression"
        );
        assert_eq!(again.sign(&vote(2, 9, 1, Some(4))).unwrap(), sig);
        std::fs::write(&state, "{ not json").unwrap();
        assert!(Signer::open(key, &state).is_err());
    }
}
