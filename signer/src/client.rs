//! The node's side: asks the signer over its Unix socket, one request at a time, and
//! reconnects once when the connection is gone (a restarted signer).

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;
use tokio::sync::Mutex;

use crate::protocol::{SignRequest, SignResponse, MAX_LINE_BYTES};

/// How long one answer may take.
pub const SIGNER_DEADLINE: Duration = Duration::from_secs(5);

/// Why a signature did not come.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum SignerClientError {
    /// The socket is not reachable, or broke.
    #[error("signer at {path} unreachable: {reason}")]
    Unreachable {
        /// The socket.
        path: String,
        /// What failed.
        reason: String,
    },
    /// The signer refused, by name (`double_sign`, `regression`, ...).
    #[error("signer refused ({name}): {message}")]
    Refused {
        /// The refusal's name.
        name: String,
        /// Its message.
        message: String,
    },
    /// The answer was not one of the protocol.
    #[error("signer answered garbage: {0}")]
    Protocol(String),
}

type Conn = BufReader<UnixStream>;

/// A connection to a signer.
#[derive(Debug)]
pub struct RemoteSigner {
    path: PathBuf,
    conn: Mutex<Option<Conn>>,
}

impl RemoteSigner {
    /// A signer at `path` (connected at the first request).
    pub fn new(path: &Path) -> Self {
        Self {
            path: path.to_path_buf(),
            conn: Mutex::new(None),
        }
    }

    fn unreachable(&self, reason: impl ToString) -> SignerClientError {
        SignerClientError::Unreachable {
            path: self.path.display().to_string(),
            reason: reason.to_string(),
        }
    }

    async fn exchange(
        &self,
        conn: &mut Conn,
        line: &str,
    ) -> Result<SignResponse, SignerClientError> {
        let io = async {
            conn.get_mut().write_all(line.as_bytes()).await?;
            conn.get_mut().write_all(b"\n").await?;
            let mut answer = String::new();
            let n = (&mut *conn)
                .take(MAX_LINE_BYTES as u64 + 1)
                .read_line(&mut answer)
                .await?;
            Ok::<_, std::io::Error>((n, answer))
        };
        let (n, answer) = tokio::time::timeout(SIGNER_DEADLINE, io)
            .await
            .map_err(|_| self.unreachable("no answer in time"))?
            .map_err(|e| self.unreachable(e))?;
        if n == 0 {
            return Err(self.unreachable("connection closed"));
        }
        if n > MAX_LINE_BYTES {
            return Err(SignerClientError::Protocol("answer too long".into()));
        }
        serde_json::from_str(answer.trim_end())
            .map_err(|e| SignerClientError::Protocol(e.to_string()))
    }

    async fn request(&self, req: &SignRequest) -> Result<SignResponse, SignerClientError> {
        let line =
            serde_json::to_string(req).map_err(|e| SignerClientError::Protocol(e.to_string()))?;
        let mut guard = self.conn.lock().await;
        // A kept connection may be stale (the signer restarted): one fresh try.
        for attempt in 0..2 {
            if guard.is_none() {
                let stream = UnixStream::connect(&self.path)
                    .await
                    .map_err(|e| self.unreachable(e))?;
                *guard = Some(BufReader::new(stream));
            }
            let Some(conn) = guard.as_mut() else {
                continue;
            };
            match self.exchange(conn, &line).await {
                Ok(r) => {
                    if let Some(e) = r.error {
                        return Err(SignerClientError::Refused {
                            name: e.name,
                            message: e.message,
                        });
                    }
                    return Ok(r);
                }
                Err(e @ SignerClientError::Unreachable { .. }) => {
                    *guard = None;
                    if attempt == 1 {
                        return Err(e);
                    }
                }
                Err(e) => {
                    *guard = None;
                    return Err(e);
                }
            }
        }
        Err(self.unreachable("no connection"))
    }

    /// The public key the signer holds.
    pub async fn public_key(&self) -> Result<[u8; 32], SignerClientError> {
        let r = self.request(&SignRequest::PublicKey).await?;
        r.public_key
            .and_then(|k| hex::decode(k).ok())
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .ok_or_else(|| SignerClientError::Protocol("no public key".into()))
    }

    /// The signature over `bytes`.
    pub async fn sign(&self, bytes: &[u8]) -> Result<[u8; 64], SignerClientError> {
        let r = self
            .request(&SignRequest::Sign {
                bytes: hex::encode(bytes),
            })
            .await?;
        r.signature
            .and_then(|s| hex::decode(s).ok())
            .and_then(|b| <[u8; 64]>::try_from(b).ok())
            .ok_or_else(|| SignerClientError::Protocol("no signature".into()))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::guard::tests::vote;
    use crate::server::{serve, Signer};
    use malachitebft_signing_ed25519::PrivateKey;

    /// Over the socket: the key, a signature, a refusal by name, and a signer restarted
    /// from its state file still refusing the other vote.
    #[tokio::test]
    async fn a_restarted_signer_still_refuses_what_it_refused() {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("signer.sock");
        let state = dir.path().join("state.json");
        let key = PrivateKey::from([5u8; 32]);
        let task = tokio::spawn({
            let (socket, state, key) = (socket.clone(), state.clone(), key.clone());
            async move { serve(&socket, Signer::open(key, &state).unwrap()).await }
        });
        let client = RemoteSigner::new(&socket);
        let mut pk = None;
        for _ in 0..50 {
            if let Ok(k) = client.public_key().await {
                pk = Some(k);
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(pk, Some(*key.public_key().as_bytes()));
        client.sign(&vote(1, 3, 0, Some(1))).await.unwrap();
        let refused = client.sign(&vote(1, 3, 0, Some(2))).await.unwrap_err();
        assert!(
            matches!(&refused, SignerClientError::Refused { name, .. } if name == "double_sign"),
            "{refused}"
        );
        task.abort();
        let _ = task.await;
        let task = tokio::spawn({
            let (socket, state) = (socket.clone(), state.clone());
            async move { serve(&socket, Signer::open(key, &state).unwrap()).await }
        });
        let mut after = None;
        for _ in 0..50 {
            match client.sign(&vote(1, 3, 0, Some(2))).await {
                Err(SignerClientError::Unreachable { .. }) => {
                    tokio::time::sleep(Duration::from_millis(20)).await
                }
                other => {
                    after = Some(other);
                    break;
                }
            }
        }
        assert!(
            matches!(&after, Some(Err(SignerClientError::Refused { name, .. })) if name == "double_sign"),
            "{after:?}"
        );
        task.abort();
    }
}
