//! Key files and transaction signing. A node reads its validator and attestation keys
//! here; the CLI, the relayer and the dev tools read account keys and sign the hub
//! transactions they submit. Every key file is written readable by its owner only, and a
//! file that others may read is refused when loaded for use ([`check_private`]).

use std::path::Path;

use serde::{Deserialize, Serialize};

pub use malachitebft_signing_ed25519::{PrivateKey, PublicKey};

/// A file (a key file, or another file of a home directory) could not be read, written
/// or used.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// The file could not be read or written.
    #[error("cannot access {path}: {source}")]
    Io {
        /// File.
        path: String,
        /// Cause.
        source: std::io::Error,
    },
    /// The file is not a valid key file.
    #[error("{path} is invalid: {reason}. Fix or regenerate it")]
    Invalid {
        /// File.
        path: String,
        /// What is wrong.
        reason: String,
    },
}

impl FileError {
    /// `path` could not be read or written.
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        FileError::Io {
            path: path.display().to_string(),
            source,
        }
    }

    /// `path` is not valid, for `reason`.
    pub fn invalid(path: &Path, reason: impl ToString) -> Self {
        FileError::Invalid {
            path: path.display().to_string(),
            reason: reason.to_string(),
        }
    }
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> FileError + '_ {
    move |source| FileError::io(path, source)
}

fn invalid(path: &Path, reason: impl ToString) -> FileError {
    FileError::invalid(path, reason)
}

/// An ed25519 key file (validator or account).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct KeyFile {
    /// Key name.
    pub name: String,
    /// Secret key, hex. Keep this file private.
    pub private_key: String,
    /// Public key, hex.
    pub public_key: String,
    /// Address derived from the public key, hex.
    pub address: String,
}

impl KeyFile {
    /// A fresh random key.
    pub fn generate(name: &str) -> Self {
        let key = PrivateKey::generate(rand::thread_rng());
        Self::from_key(name, &key)
    }

    /// The file for an existing key.
    pub fn from_key(name: &str, key: &PrivateKey) -> Self {
        let public = key.public_key();
        KeyFile {
            name: name.to_string(),
            private_key: hex::encode(key.inner().as_bytes()),
            public_key: hex::encode(public.as_bytes()),
            address: hex::encode(junction_spec::address_from_ed25519(public.as_bytes())),
        }
    }

    /// The secret key.
    pub fn private_key(&self) -> Result<PrivateKey, String> {
        let bytes: [u8; 32] = hex::decode(&self.private_key)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or("private_key is not 32 bytes of hex")?;
        let key = PrivateKey::from(bytes);
        if hex::encode(key.public_key().as_bytes()) != self.public_key {
            return Err("public_key does not match private_key".into());
        }
        Ok(key)
    }

    /// Reads and checks a key file.
    pub fn load(path: &Path) -> Result<Self, FileError> {
        let text = std::fs::read_to_string(path).map_err(io_err(path))?;
        let k: KeyFile = serde_json::from_str(&text).map_err(|e| invalid(path, e))?;
        k.private_key().map_err(|e| invalid(path, e))?;
        Ok(k)
    }

    /// Writes the key file, readable by the owner only.
    pub fn save(&self, path: &Path) -> Result<(), FileError> {
        let text = serde_json::to_string_pretty(self).map_err(|e| invalid(path, e))?;
        write_private(path, &text)
    }
}

/// A validator's secp256k1 attestation key: it signs checkpoints in precommit vote
/// extensions. Its address is what genesis lists and what gateways recover.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AttestationKeyFile {
    /// Secret scalar, hex. Keep this file private.
    pub private_key: String,
    /// Ethereum address of the key, hex.
    pub address: String,
}

impl AttestationKeyFile {
    /// A fresh random key.
    pub fn generate() -> Self {
        let key = k256::ecdsa::SigningKey::random(&mut rand::rngs::OsRng);
        Self::from_key(&key)
    }

    /// The file for an existing key.
    pub fn from_key(key: &k256::ecdsa::SigningKey) -> Self {
        Self {
            private_key: hex::encode(key.to_bytes()),
            address: hex::encode(junction_light_clients::hub::eth_address(
                key.verifying_key(),
            )),
        }
    }

    /// The signing key, checked against the stored address.
    pub fn signing_key(&self) -> Result<k256::ecdsa::SigningKey, String> {
        let bytes =
            hex::decode(&self.private_key).map_err(|_| "private_key is not hex".to_string())?;
        let key = k256::ecdsa::SigningKey::from_slice(&bytes)
            .map_err(|_| "private_key is not a secp256k1 secret".to_string())?;
        let address = hex::encode(junction_light_clients::hub::eth_address(
            key.verifying_key(),
        ));
        if address != self.address.trim_start_matches("0x").to_lowercase() {
            return Err(format!(
                "address {} does not belong to the key (it is {address})",
                self.address
            ));
        }
        Ok(key)
    }

    /// Reads and checks a key file.
    pub fn load(path: &Path) -> Result<Self, FileError> {
        let text = std::fs::read_to_string(path).map_err(io_err(path))?;
        let k: AttestationKeyFile = serde_json::from_str(&text).map_err(|e| invalid(path, e))?;
        k.signing_key().map_err(|e| invalid(path, e))?;
        Ok(k)
    }

    /// Writes the key file, readable by the owner only.
    pub fn save(&self, path: &Path) -> Result<(), FileError> {
        let text = serde_json::to_string_pretty(self).map_err(|e| invalid(path, e))?;
        write_private(path, &text)
    }
}

fn write_private(path: &Path, text: &str) -> Result<(), FileError> {
    use std::io::Write;
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(io_err(path))?;
    // An existing file keeps its mode on open: make it private too.
    f.set_permissions(std::fs::Permissions::from_mode(0o600))
        .map_err(io_err(path))?;
    f.write_all(text.as_bytes()).map_err(io_err(path))
}

/// Refuses a key file that others than its owner may read or write (as ssh does): a
/// secret in a world-readable file is no longer one.
pub fn check_private(path: &Path) -> Result<(), FileError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)
        .map_err(io_err(path))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        return Err(invalid(
            path,
            format!(
                "key file mode is {:o}: others may read it; run `chmod 600 {}`",
                mode & 0o777,
                path.display()
            ),
        ));
    }
    Ok(())
}

/// Signs a hub transaction.
pub fn sign_tx(
    key: &PrivateKey,
    chain_id: &junction_spec::ChainId,
    nonce: u64,
    kind: junction_spec::TxKind,
) -> junction_spec::SignedTx {
    let body = junction_spec::TxBody {
        chain_id: chain_id.clone(),
        signer: *key.public_key().as_bytes(),
        nonce,
        kind,
    };
    let signature = key.sign(&body.sign_bytes()).to_bytes();
    junction_spec::SignedTx { body, signature }
}

/// Signs a `Remark` transaction.
pub fn sign_remark(
    key: &PrivateKey,
    chain_id: &junction_spec::ChainId,
    nonce: u64,
    data: Vec<u8>,
) -> junction_spec::SignedTx {
    sign_tx(key, chain_id, nonce, junction_spec::TxKind::Remark { data })
}
