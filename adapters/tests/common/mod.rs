//! Shared set-up of the gateway tests: a real anvil, two gateways ("evm-a" and "evm-b") on
//! it with an escrow app each, and a hub stand-in that keeps a message log and signs
//! checkpoints with seeded attester keys (`junction_light_clients::hub::testkit`).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use alloy::network::EthereumWallet;
use alloy::primitives::{Address, Bytes, U256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolValue;
use junction_adapters::evm::anvil::{Anvil, DEV_KEY_0};
use junction_adapters::evm::gateway::{
    deploy_escrow, deploy_gateway, evm_app_id, CheckpointProof, EntryProof, JunctionGateway,
    TokenEscrow,
};
use junction_light_clients::hub::testkit;
use junction_spec::attestation::AttestationSet;
use junction_spec::log::{EntryKind, LogEntry};
use junction_spec::merkle::{empty_root, inclusion_proof, root_from_leaf_hashes};
use junction_spec::{ChainId, Checkpoint, Packet, Timeout};
use k256::ecdsa::SigningKey;

pub const SUPPLY: u64 = 1_000_000;
pub const APP_GAS: u64 = 200_000;

/// Starts anvil, or returns `None` (with a note) when no anvil binary exists.
pub fn anvil() -> Option<Anvil> {
    if junction_adapters::evm::anvil::anvil_binary().is_none() {
        assert!(
            !in_ci(),
            "CI=true and no anvil binary: scripts/setup-evm.sh installs it"
        );
        eprintln!("SKIPPED: no anvil binary; run scripts/setup-evm.sh (CI does)");
        return None;
    }
    Some(Anvil::spawn(&[]).expect("anvil starts"))
}

/// Whether the tests run in CI (`CI=true`): there nothing may be skipped.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

pub fn chain(s: &str) -> ChainId {
    ChainId::new(s).unwrap()
}

/// The hub as the gateways see it: a log, checkpoints, attester keys.
pub struct TestHub {
    pub chain: ChainId,
    pub set: AttestationSet,
    pub keys: Vec<SigningKey>,
    pub height: u64,
    pub log: Vec<LogEntry>,
    pub genesis: Checkpoint,
    /// The registered binding of each chain's gateway (as the hub's registration gives
    /// it); `append` binds entries for these chains.
    pub bindings: std::collections::BTreeMap<ChainId, [u8; 32]>,
}

impl TestHub {
    pub fn new(attesters: usize) -> Self {
        let (set, keys) = testkit::attestation_set(attesters, 7).unwrap();
        let chain = chain("junction-hub");
        let h = set.hash();
        let genesis = testkit::checkpoint(&chain, 1, 0, empty_root(), h, h);
        Self {
            chain,
            set,
            keys,
            height: 1,
            log: Vec::new(),
            genesis,
            bindings: std::collections::BTreeMap::new(),
        }
    }

    /// Appends an entry bound to its target's gateway (as the hub binds it, when the
    /// target has a gateway here); returns its index.
    pub fn append(&mut self, mut entry: LogEntry) -> u64 {
        if let Some(b) = self.bindings.get(&entry.target_chain) {
            entry.target_binding = *b;
        }
        self.append_raw(entry)
    }

    /// Appends an entry exactly as given (e.g. bound to another gateway).
    pub fn append_raw(&mut self, entry: LogEntry) -> u64 {
        self.log.push(entry);
        (self.log.len() - 1) as u64
    }

    fn leaves(&self) -> Vec<[u8; 32]> {
        self.log.iter().map(LogEntry::leaf_hash).collect()
    }

    /// A new checkpoint over the whole log, one height up, same set.
    pub fn next_checkpoint(&mut self) -> Checkpoint {
        self.height += 1;
        let h = self.set.hash();
        testkit::checkpoint(
            &self.chain,
            self.height,
            self.log.len() as u64,
            root_from_leaf_hashes(&self.leaves()),
            h,
            h,
        )
    }

    /// `checkpoint` signed by the attesters at `signers` (indices into `keys`).
    pub fn sign(&self, checkpoint: &Checkpoint, signers: &[usize]) -> CheckpointProof {
        let keys: Vec<SigningKey> = signers.iter().map(|i| self.keys[*i].clone()).collect();
        let signed = testkit::sign_with(checkpoint.clone(), &keys).unwrap();
        CheckpointProof {
            checkpoint: signed.checkpoint,
            signatures: signed.signatures,
            attestation_set: Some(self.set.clone()),
            next_set: None,
        }
    }

    /// A fresh checkpoint signed by every attester.
    pub fn certify(&mut self) -> CheckpointProof {
        let cp = self.next_checkpoint();
        let all: Vec<usize> = (0..self.keys.len()).collect();
        self.sign(&cp, &all)
    }

    /// Entry `index` with its proof under the current whole log.
    pub fn prove(&self, index: u64) -> EntryProof {
        let proof = inclusion_proof(&self.leaves(), index).unwrap();
        EntryProof {
            entry: self.log[index as usize].clone(),
            index,
            proof,
        }
    }
}

/// Two gateways and two escrows on one anvil.
pub struct Env {
    pub anvil: Anvil,
    pub provider: DynProvider,
    pub hub: TestHub,
    pub chain_a: ChainId,
    pub chain_b: ChainId,
    pub gw_a: Address,
    pub gw_b: Address,
    pub escrow_a: Address,
    pub escrow_b: Address,
    pub user: Address,
}

pub async fn env() -> Option<Env> {
    env_with(TestHub::new(4)).await
}

pub async fn env_with(mut hub: TestHub) -> Option<Env> {
    let anvil = anvil()?;
    let signer: PrivateKeySigner = DEV_KEY_0.parse().unwrap();
    let user = signer.address();
    let provider = ProviderBuilder::new()
        .wallet(EthereumWallet::from(signer))
        .connect_http(anvil.endpoint().parse().unwrap())
        .erased();
    let chain_a = chain("evm-a");
    let chain_b = chain("evm-b");
    let gw_a = deploy_gateway(&provider, &chain_a, &hub.chain, &hub.genesis, &hub.set)
        .await
        .unwrap();
    let gw_b = deploy_gateway(&provider, &chain_b, &hub.chain, &hub.genesis, &hub.set)
        .await
        .unwrap();
    let escrow_a = deploy_escrow(&provider, gw_a, U256::from(SUPPLY))
        .await
        .unwrap();
    let escrow_b = deploy_escrow(&provider, gw_b, U256::from(SUPPLY))
        .await
        .unwrap();
    let evm_chain_id = provider.get_chain_id().await.unwrap();
    hub.bindings.insert(
        chain_a.clone(),
        junction_spec::evm_target_binding(evm_chain_id, &gw_a.0 .0),
    );
    hub.bindings.insert(
        chain_b.clone(),
        junction_spec::evm_target_binding(evm_chain_id, &gw_b.0 .0),
    );
    Some(Env {
        anvil,
        provider,
        hub,
        chain_a,
        chain_b,
        gw_a,
        gw_b,
        escrow_a,
        escrow_b,
        user,
    })
}

impl Env {
    pub fn gateway(&self, at: Address) -> JunctionGateway::JunctionGatewayInstance<DynProvider> {
        JunctionGateway::new(at, self.provider.clone())
    }

    pub fn escrow(&self, at: Address) -> TokenEscrow::TokenEscrowInstance<DynProvider> {
        TokenEscrow::new(at, self.provider.clone())
    }

    /// Current block number and timestamp (seconds).
    pub async fn clock(&self) -> (u64, u64) {
        let n = self.provider.get_block_number().await.unwrap();
        let block = self
            .provider
            .get_block_by_number(n.into())
            .await
            .unwrap()
            .unwrap();
        (n, block.header.timestamp)
    }

    /// A packet from escrow A to escrow B (as escrow A would send it), without sending it.
    pub fn packet_a_to_b(
        &self,
        sequence: u64,
        recipient: Address,
        amount: u64,
        timeout: Timeout,
    ) -> Packet {
        Packet {
            version: 1,
            source_chain: self.chain_a.clone(),
            source_app: evm_app_id(self.escrow_a),
            sequence,
            dest_chain: self.chain_b.clone(),
            dest_app: evm_app_id(self.escrow_b),
            payload: (self.user, recipient, U256::from(amount)).abi_encode(),
            timeout,
            gas_limit: APP_GAS,
            fee: 0,
        }
    }

    /// Locks `amount` in escrow A for `recipient` on B; returns the packet the gateway
    /// emitted (decoded from its event).
    pub async fn lock_and_send(&self, recipient: Address, amount: u64, timeout: Timeout) -> Packet {
        self.lock_and_send_to(self.escrow_b, recipient, amount, timeout, APP_GAS)
            .await
    }

    /// [`Env::lock_and_send`] to the app `dest` on B, with the app gas `gas_limit`.
    pub async fn lock_and_send_to(
        &self,
        dest: Address,
        recipient: Address,
        amount: u64,
        timeout: Timeout,
        gas_limit: u64,
    ) -> Packet {
        let receipt = self
            .lock_and_send_call(dest, recipient, amount, timeout, gas_limit)
            .send()
            .await
            .unwrap()
            .get_receipt()
            .await
            .unwrap();
        assert!(receipt.status());
        let sent = receipt
            .inner
            .logs()
            .iter()
            .find_map(|l| l.log_decode::<JunctionGateway::PacketSent>().ok())
            .expect("PacketSent event");
        use junction_spec::encoding::Decode;
        Packet::from_bytes(&sent.inner.data.packet).unwrap()
    }

    /// The `lockAndSend` call on escrow A (to send, or to simulate).
    pub fn lock_and_send_call(
        &self,
        dest: Address,
        recipient: Address,
        amount: u64,
        timeout: Timeout,
        gas_limit: u64,
    ) -> alloy::contract::SolCallBuilder<&DynProvider, TokenEscrow::lockAndSendCall> {
        let call = TokenEscrow::lockAndSendCall {
            destChain: self.chain_b.as_str().to_owned(),
            destEscrow: dest,
            recipient,
            amount: U256::from(amount),
            timeoutHeight: timeout.height,
            timeoutTimeMs: timeout.time_ms,
            gasLimit: gas_limit,
        };
        alloy::contract::SolCallBuilder::new_sol(&self.provider, &self.escrow_a, &call)
    }

    pub async fn balance(&self, escrow: Address, who: Address) -> U256 {
        self.escrow(escrow).balanceOf(who).call().await.unwrap()
    }

    pub async fn ack_of(&self, gw: Address, key: [u8; 32]) -> [u8; 32] {
        self.gateway(gw).acks(key.into()).call().await.unwrap().0
    }

    pub async fn commitment_of(&self, gw: Address, key: [u8; 32]) -> [u8; 32] {
        self.gateway(gw)
            .commitments(key.into())
            .call()
            .await
            .unwrap()
            .0
    }
}

/// A timeout far in the future (by height).
pub fn far_timeout() -> Timeout {
    Timeout {
        height: 1_000_000,
        time_ms: 0,
    }
}

/// A packet entry (bound when appended), ordered from sequence 1 when `ordered`.
pub fn packet_entry(packet: Packet, ordered: bool) -> LogEntry {
    entry(EntryKind::Packet, ordered, packet, vec![])
}

/// An entry of `kind` (bound when appended), ordered from sequence 1 when `ordered`.
pub fn entry(kind: EntryKind, ordered: bool, packet: Packet, result: Vec<u8>) -> LogEntry {
    LogEntry::new(kind, [0; 32], u64::from(ordered), packet, result)
}

pub fn bytes(b: &[u8]) -> Bytes {
    Bytes::copy_from_slice(b)
}

/// Events of one type in a receipt.
pub fn events<E: alloy::sol_types::SolEvent>(
    receipt: &alloy::rpc::types::TransactionReceipt,
) -> Vec<E> {
    receipt
        .inner
        .logs()
        .iter()
        .filter_map(|l| l.log_decode::<E>().ok())
        .map(|l| l.inner.data)
        .collect()
}

/// The gateway tests' hostile destination app (`contracts/test/HostileApp.sol`).
#[allow(clippy::too_many_arguments, missing_docs)]
pub mod hostile {
    alloy::sol!(
        #[sol(rpc)]
        #[derive(Debug, PartialEq, Eq)]
        HostileApp,
        "evm/artifacts/HostileApp.json"
    );
}
