//! Signing a transaction with a key from a home and sending it to a node; printing answers.

use std::path::PathBuf;

use clap::Args;
use eyre::eyre;

use junction_hub::config::{Genesis, Home, KeyFile};
use junction_keys::sign_tx;
use junction_rpc::methods::{
    Account, AccountParams, BroadcastAnswer, BroadcastMode, BroadcastParams, BroadcastTx,
};
use junction_rpc::{Hex, HexBytes, RpcClient};
use junction_spec::{Encode, TxKind};

/// Path of the key file `name` in a home's key directory.
pub(crate) fn key_path(home: &std::path::Path, name: &str) -> PathBuf {
    Home::new(home).keys_dir().join(format!("{name}.json"))
}

/// Prints a JSON value, pretty.
pub(crate) fn print_json<T: serde::Serialize + ?Sized>(v: &T) {
    use std::io::Write as _;
    // A closed pipe (`| head`) ends the output quietly.
    let _ = writeln!(
        std::io::stdout(),
        "{}",
        serde_json::to_string_pretty(v).unwrap_or_default()
    );
}

/// Who signs a transaction and where it goes.
#[derive(Debug, Clone, Args)]
pub struct SendArgs {
    /// Key name in `<home>/keys`.
    #[arg(long, default_value = "member")]
    pub from: String,
    /// Home directory holding the key and the genesis (for the chain id).
    #[arg(long)]
    pub home: PathBuf,
    /// Node RPC endpoint.
    #[arg(long, default_value = "http://127.0.0.1:26602")]
    pub rpc: String,
    /// Return once admitted instead of waiting for the block.
    #[arg(long)]
    pub no_wait: bool,
}

/// Signs `kind` with the named key at the account's next nonce and broadcasts it.
pub async fn send_tx(send: &SendArgs, kind: TxKind) -> eyre::Result<BroadcastAnswer> {
    let key = KeyFile::load(&key_path(&send.home, &send.from))?
        .private_key()
        .map_err(|e| eyre!("key `{}`: {e}", send.from))?;
    let mode = if send.no_wait {
        BroadcastMode::Sync
    } else {
        BroadcastMode::Commit
    };
    send_with(&key, &send.home, &send.rpc, kind, mode).await
}

/// Signs `kind` with `key` (the chain id from `home`'s genesis) and waits for its block.
pub async fn send_signed(
    key: &junction_hub::context::PrivateKey,
    home: &std::path::Path,
    rpc: &str,
    kind: TxKind,
) -> eyre::Result<BroadcastAnswer> {
    send_with(key, home, rpc, kind, BroadcastMode::Commit).await
}

async fn send_with(
    key: &junction_hub::context::PrivateKey,
    home: &std::path::Path,
    rpc: &str,
    kind: TxKind,
    mode: BroadcastMode,
) -> eyre::Result<BroadcastAnswer> {
    let genesis = Genesis::load(&Home::new(home).genesis_file())?;
    let chain_id = genesis.chain_id().map_err(|e| eyre!("genesis: {e}"))?;
    let client = RpcClient::new(rpc.to_string());
    let addr = junction_spec::address_from_ed25519(key.public_key().as_bytes());
    let nonce = client
        .call::<Account>(&AccountParams { address: Hex(addr) })
        .await?
        .next_nonce;
    let tx = sign_tx(key, &chain_id, nonce, kind);
    Ok(client
        .call::<BroadcastTx>(&BroadcastParams {
            tx: HexBytes(tx.to_bytes()),
            mode,
        })
        .await?)
}
