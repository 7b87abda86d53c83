//! The bodies of the fuzz targets, one plain function per target, shared by two crates:
//!
//! - the cargo-fuzz crate `light-clients/fuzz/` (nightly, libFuzzer), whose targets include
//!   this file with `#[path = "../../tests/fuzz_bodies/mod.rs"] mod bodies;` and call
//!   `bodies::<target>(data)`;
//! - the integration test `light-clients/tests/fuzz_corpus.rs` (stable, no libFuzzer), which
//!   replays every committed corpus and regression file through the same functions.
//!
//! Including the file by path (rather than a library crate both depend on) keeps the test a
//! plain test of `junction-light-clients` and the fuzz crate out of the workspace. The file
//! lives in a sub-folder of `tests/` so that cargo does not build it as a test of its own.
//! It may use only `junction_light_clients` and `junction_spec` (both crates depend on them).
//!
//! A body must return for every input. Panics are findings; so are the few assertions here,
//! which check properties the docs promise (canonical encodings re-encode to the input,
//! both Tendermint signature engines give the same verdict).
//!
//! Input layout: most bodies read a mode byte first, then fixed-size fields, then
//! length-prefixed chunks (`u32` little-endian length, clamped to what is left) and finally
//! the rest. Missing bytes read as zeros, so every input is meaningful.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::OnceLock;

use junction_light_clients::bitcoin::{self, merkle, pow, tx, BitcoinClient, Params};
use junction_light_clients::evm::{attested, header as evm_header, mpt, qbft};
use junction_light_clients::fabric::{
    self, block as fabric_block_mod, config as fabric_config, msp, verify as fabric_verify,
};
use junction_light_clients::hub::{self, HubClient};
use junction_light_clients::tendermint::{
    client::{ConsensusState, Engine, TendermintClient},
    codec, proof, testkit as tm_testkit,
};
use junction_light_clients::{LightClient, Timestamp};
use junction_spec::encoding::Encode;

/// Reads a fuzz input field by field; reads past the end give zeros / empty slices.
pub struct Input<'a> {
    data: &'a [u8],
}

impl<'a> Input<'a> {
    /// A reader over `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Self { data }
    }

    /// The next `n` bytes (fewer at the end).
    pub fn take(&mut self, n: usize) -> &'a [u8] {
        let n = n.min(self.data.len());
        let (head, tail) = self.data.split_at(n);
        self.data = tail;
        head
    }

    /// One byte (0 at the end).
    pub fn byte(&mut self) -> u8 {
        self.take(1).first().copied().unwrap_or(0)
    }

    /// A zero-padded array.
    pub fn array<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        let got = self.take(N);
        out[..got.len()].copy_from_slice(got);
        out
    }

    /// A little-endian `u64`.
    pub fn u64(&mut self) -> u64 {
        u64::from_le_bytes(self.array())
    }

    /// A chunk: `u32` little-endian length (clamped to what is left), then that many bytes.
    pub fn chunk(&mut self) -> &'a [u8] {
        let len = u32::from_le_bytes(self.array()) as usize;
        self.take(len)
    }

    /// Chunks until the input ends (at most `max`; the rest is dropped).
    pub fn chunks(&mut self, max: usize) -> Vec<&'a [u8]> {
        let mut out = Vec::new();
        while !self.data.is_empty() && out.len() < max {
            out.push(self.chunk());
        }
        out
    }

    /// Everything left.
    pub fn rest(&mut self) -> &'a [u8] {
        self.take(self.data.len())
    }
}

/// Writes what [`Input::chunk`] reads.
pub fn push_chunk(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    out.extend_from_slice(bytes);
}

// ---------------------------------------------------------------------------------------
// mpt_proof: root[32] || mode || key[32] || address[20] || chunk(node)*
// ---------------------------------------------------------------------------------------

/// EVM Merkle-Patricia proofs: `verify_proof` (key length from the mode byte), account,
/// storage, receipt and transaction proofs, `verify_state` / `verify_state_absent`.
///
/// Layout: `root[32] || mode || key[32] || address[20] || chunk(node)*` (at most 70 nodes,
/// so `too_many_nodes` is reachable). `key` is the raw key of `verify_proof`, the slot of
/// storage paths, and its first two bytes give the receipt / transaction index (mod 1024).
/// Mode bit 7 set: the raw key is `mode & 63` bytes of `key` repeated (lengths above 32
/// reach `key_too_long`); clear: all 32 bytes. Mode bits 4-5 pick the `verify_state` path
/// (storage, account, receipt, receipt) and bits 0-3 how many nodes form the account
/// section (the others form the storage section).
pub fn mpt_proof(data: &[u8]) {
    let mut input = Input::new(data);
    let root: [u8; 32] = input.array();
    let mode = input.byte();
    let key: [u8; 32] = input.array();
    let address: [u8; 20] = input.array();
    let nodes = input.chunks(70);

    let key_slice: Vec<u8> = if mode & 0x80 != 0 {
        let n = usize::from(mode & 0x3f);
        key.iter().copied().cycle().take(n).collect()
    } else {
        key.to_vec()
    };
    let _ = mpt::verify_proof(&root, &key_slice, &nodes);
    let _ = mpt::verify_account(&root, &address, &nodes);
    let _ = mpt::verify_storage(&root, &key, &nodes);
    let index = u64::from_le_bytes([key[0], key[1], 0, 0, 0, 0, 0, 0]) % 1024;
    let _ = mpt::verify_receipt(&root, index, &nodes);
    let _ = mpt::verify_transaction(&root, index, &nodes);
    for node in &nodes {
        let _ = mpt::Account::decode(node);
    }

    // The state entry points: split the nodes into the account and storage sections.
    let split = usize::from(mode & 0x0f).min(nodes.len());
    let (account, storage) = nodes.split_at(split);
    let owned = |s: &[&[u8]]| s.iter().map(|n| n.to_vec()).collect::<Vec<_>>();
    let proof = mpt::EvmProof {
        account_proof: owned(account),
        storage_proof: owned(storage),
        receipt_proof: Vec::new(),
    };
    let path = match mode & 0x30 {
        0x00 => mpt::EvmPath::Storage { address, slot: key },
        0x10 => mpt::EvmPath::Account { address },
        _ => mpt::EvmPath::Receipt { index },
    };
    let receipt_proof = mpt::EvmProof {
        account_proof: Vec::new(),
        storage_proof: Vec::new(),
        receipt_proof: owned(&nodes),
    };
    let proof = if matches!(path, mpt::EvmPath::Receipt { .. }) {
        receipt_proof
    } else {
        proof
    };
    let value = nodes.last().copied().unwrap_or(&[]);
    let _ = mpt::verify_state(&root, &root, &path, value, &proof);
    let _ = mpt::verify_state_absent(&root, &root, &path, &proof);
}

// ---------------------------------------------------------------------------------------
// ics23_proof: chunk(root) chunk(store) chunk(key) chunk(value) rest(proof)
// ---------------------------------------------------------------------------------------

/// ICS-23: `decode_merkle_proof`, the chained Cosmos `verify_membership` /
/// `verify_non_membership` over the path `[store, key]`, and `verify_commitment_proof`
/// under each pinned spec.
///
/// Layout: `chunk(root) || chunk(store) || chunk(key) || chunk(value) || proof`.
pub fn ics23_proof(data: &[u8]) {
    let mut input = Input::new(data);
    let root = input.chunk();
    let store = input.chunk();
    let key = input.chunk();
    let value = input.chunk();
    let proof_bytes = input.rest();

    let _ = proof::decode_merkle_proof(proof_bytes);
    let path: [&[u8]; 2] = [store, key];
    let _ = proof::verify_membership(root, &path, value, proof_bytes);
    let _ = proof::verify_non_membership(root, &path, proof_bytes);
    let one: [&[u8]; 1] = [key];
    let _ = proof::verify_membership(root, &one, value, proof_bytes);
    for kind in [
        proof::SpecKind::Iavl,
        proof::SpecKind::Tendermint,
        proof::SpecKind::Smt,
    ] {
        let _ = proof::verify_commitment_proof(kind, root, key, Some(value), proof_bytes);
        let _ = proof::verify_commitment_proof(kind, root, key, None, proof_bytes);
    }
}

// ---------------------------------------------------------------------------------------
// tendermint_light_block
// ---------------------------------------------------------------------------------------

/// The chain id of the fixed trusted state.
pub const TM_CHAIN: &str = "fuzz-chain";
/// Seed of the fixed validator keys.
pub const TM_SEED: u64 = 0xf022;
/// Validators in the fixed set.
pub const TM_VALIDATORS: usize = 4;
/// Time of the trusted header (2024-01-01T00:00:00Z).
pub const TM_TRUSTED_TIME: Timestamp = Timestamp::from_secs(1_704_067_200);
/// `now` for every verification: one hour after the trusted header.
pub const TM_NOW: Timestamp = Timestamp::from_secs(1_704_067_200 + 3_600);

/// A client trusting height 1 of the testkit chain `TM_CHAIN` (validators `TM_SEED`).
pub fn tm_client() -> Option<&'static TendermintClient> {
    static CLIENT: OnceLock<Option<TendermintClient>> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            let lb = tm_testkit::light_block(TM_CHAIN, 1, TM_TRUSTED_TIME, TM_VALIDATORS, TM_SEED)
                .ok()?;
            let cs = ConsensusState::from_signed_header(&lb.signed_header).ok()?;
            TendermintClient::new(&tm_testkit::default_config(TM_CHAIN), 1, cs).ok()
        })
        .as_ref()
}

/// Tendermint: `codec::decode_signed_header` / `decode_validator_set`, the whole update
/// from bytes (`verify_header_bytes`) against a client trusting height 1 of a testkit chain,
/// and `verify_commit` with both signature engines, which must agree. A decoded header must
/// survive an encode / decode round trip unchanged.
///
/// Layout: `mode || trusted_height u64 || chunk(signed_header) || chunk(validator_set) ||
/// trusted_next_validator_set`. Mode bit 0 set: also check the rest as an ed25519 triple
/// through `verify_ed25519_single` / `verify_ed25519_batch`.
pub fn tendermint_light_block(data: &[u8]) {
    let mut input = Input::new(data);
    let mode = input.byte();
    let trusted_height = input.u64();
    let sh_bytes = input.chunk();
    let vals_bytes = input.chunk();
    let trusted_bytes = input.rest();

    let sh = codec::decode_signed_header(sh_bytes);
    let vals = codec::decode_validator_set(vals_bytes);
    let _ = codec::decode_validator_set(trusted_bytes);

    if let Ok(sh) = &sh {
        let again = codec::decode_signed_header(&codec::encode_signed_header(sh));
        assert!(
            again.as_ref() == Ok(sh),
            "signed header round trip changed it: {again:?}"
        );
    }
    if let Ok(vals) = &vals {
        let again = codec::decode_validator_set(&codec::encode_validator_set(vals));
        assert!(
            again.as_ref().map(|v| v.hash()) == Ok(vals.hash()),
            "validator set round trip changed its hash"
        );
    }
    if let (Ok(sh), Ok(vals)) = (&sh, &vals) {
        use junction_light_clients::tendermint::client::verify_commit;
        let batch = verify_commit(sh, vals, Engine::Batch);
        let reference = verify_commit(sh, vals, Engine::Reference);
        assert_eq!(
            batch.is_ok(),
            reference.is_ok(),
            "engines disagree: batch {batch:?}, reference {reference:?}"
        );
    }
    if let Some(client) = tm_client() {
        let _ = codec::verify_header_bytes(
            client,
            sh_bytes,
            vals_bytes,
            trusted_height,
            trusted_bytes,
            TM_NOW,
        );
    }
    if mode & 1 == 1 {
        let mut triple = Input::new(trusted_bytes);
        let key = triple.chunk();
        let sig = triple.chunk();
        let msg = triple.rest();
        let single =
            junction_light_clients::tendermint::batch::verify_ed25519_single(key, sig, msg);
        let batch =
            junction_light_clients::tendermint::batch::verify_ed25519_batch(&[(key, sig, msg)]);
        assert_eq!(single, batch, "ed25519 single and batch disagree");
    }
}

// ---------------------------------------------------------------------------------------
// bitcoin_header_merkleblock
// ---------------------------------------------------------------------------------------

/// A regtest client with 12 headers on its checkpoint, 6 confirmations.
pub fn btc_client() -> Option<&'static BitcoinClient> {
    static CLIENT: OnceLock<Option<BitcoinClient>> = OnceLock::new();
    CLIENT
        .get_or_init(|| bitcoin::testkit::regtest_client(BTC_SEED, 12, 6).ok())
        .as_ref()
}

/// Seed of the regtest client.
pub const BTC_SEED: u64 = 0xb17c;

/// Bitcoin. Mode byte (`% 7`), then:
/// 0. one header (`BlockHeader::decode`, which must re-encode to the input) and its proof of
///    work under mainnet, testnet and regtest parameters;
/// 1. concatenated headers: `HeaderBatch::decode`, the regtest client's `verify_batch`,
///    `pow::validate_header_chain` (mainnet);
/// 2. `txid[32] || root[32] || branch`: `MerkleBranch::decode` (re-encodes to the input),
///    `verify`, `compute_root`, `compute_root_without_count`;
/// 3. a BIP37 `merkleblock`: `verify_merkleblock`, `MerkleBlock::extract_matches`;
/// 4. a transaction: `parse_tx`, `txid_checked`, `validate_vin`, `validate_vout`;
/// 5. a block: `parse_block`;
/// 6. `height u64 || chunk(raw tx) || proof`: the regtest client's `verify_tx` with the
///    proof read as a branch and as a merkleblock.
pub fn bitcoin_header_merkleblock(data: &[u8]) {
    let mut input = Input::new(data);
    let mode = input.byte() % 7;
    match mode {
        0 => {
            let bytes = input.rest();
            if let Ok(h) = bitcoin::BlockHeader::decode(bytes) {
                assert_eq!(&h.encode()[..], bytes, "header does not re-encode");
                let _ = h.block_hash();
                for params in [Params::MAINNET, Params::TESTNET3, Params::REGTEST] {
                    if let Ok(target) = pow::target_from_bits(h.bits, &params) {
                        let _ = pow::work_from_target(target);
                        let _ = pow::difficulty(target);
                        let _ = pow::encode_compact(target);
                    }
                    let _ = pow::check_proof_of_work(&h, &params);
                }
                let _ = pow::decode_compact(h.bits);
            }
        }
        1 => {
            let bytes = input.rest();
            if let Ok(batch) = bitcoin::HeaderBatch::decode(bytes) {
                if let Some(client) = btc_client() {
                    let _ = client.verify_batch(&batch, bitcoin::testkit::far_future());
                }
            }
            let _ = pow::validate_header_chain(bytes, &Params::MAINNET, 2016);
        }
        2 => {
            let txid: [u8; 32] = input.array();
            let root: [u8; 32] = input.array();
            let bytes = input.rest();
            if let Ok(branch) = merkle::MerkleBranch::decode(bytes) {
                assert_eq!(branch.encode(), bytes, "branch does not re-encode");
                let _ = branch.verify(&txid, &root);
                let _ = branch.compute_root(&txid);
                let _ = merkle::compute_root_without_count(
                    &txid,
                    &branch.siblings,
                    u64::from(branch.tx_index),
                );
            }
        }
        3 => {
            let bytes = input.rest();
            let _ = merkle::verify_merkleblock(bytes);
            if let Ok(mb) = merkle::MerkleBlock::decode(bytes) {
                let _ = mb.extract_matches();
                let _ = mb.verify();
            }
        }
        4 => {
            let bytes = input.rest();
            let _ = tx::parse_tx(bytes);
            let _ = tx::txid_checked(bytes);
            let _ = tx::validate_vin(bytes);
            let _ = tx::validate_vout(bytes);
        }
        5 => {
            let _ = tx::parse_block(input.rest());
        }
        _ => {
            let height = input.u64() % 32;
            let raw = input.chunk();
            let proof_bytes = input.rest();
            let Some(client) = btc_client() else { return };
            let txid = bitcoin::sha256d(raw);
            if let Ok(branch) = merkle::MerkleBranch::decode(proof_bytes) {
                let proof = bitcoin::TxInclusionProof::Branch(branch);
                let _ = client.verify_tx(height, &txid, raw, &proof);
            }
            if let Ok(mb) = merkle::MerkleBlock::decode(proof_bytes) {
                let proof = bitcoin::TxInclusionProof::MerkleBlock(mb);
                let _ = client.verify_tx(height, &txid, raw, &proof);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// fabric_block
// ---------------------------------------------------------------------------------------

/// The testkit network whose orderer and peer MSPs the Fabric body verifies against.
pub struct FabricFixture {
    /// Channel `fuzzchannel`, one orderer org, two peer orgs.
    pub network: fabric::testkit::TestNetwork,
    /// Its orderer MSPs.
    pub orderers: BTreeMap<String, msp::Msp>,
    /// Its application MSPs.
    pub peers: BTreeMap<String, msp::Msp>,
}

/// Seed of the Fabric testkit network.
pub const FABRIC_SEED: u64 = 0xfab;

/// The Fabric fixture (built once).
pub fn fabric_fixture() -> Option<&'static FabricFixture> {
    static FIXTURE: OnceLock<Option<FabricFixture>> = OnceLock::new();
    FIXTURE
        .get_or_init(|| {
            let network =
                fabric::testkit::TestNetwork::new("fuzzchannel", FABRIC_SEED, 1, 2).ok()?;
            let orderers = network.orderer_msps().ok()?;
            let peers = network.peer_msps().ok()?;
            Some(FabricFixture {
                network,
                orderers,
                peers,
            })
        })
        .as_ref()
}

fn fabric_policy(required: usize) -> fabric::FabricPolicy {
    fabric::FabricPolicy {
        orderer_threshold: 1,
        endorsement: fabric::EndorsementPolicy {
            orgs: vec!["Org1MSP".into(), "Org2MSP".into(), "SampleOrg".into()],
            required,
        },
        validation_threshold: 1,
    }
}

fn fabric_envelope(env: &[u8], fixture: Option<&FabricFixture>) {
    let Ok(opened) = fabric_block_mod::open_envelope(env) else {
        return;
    };
    let _ = msp::parse_identity(&opened.signature_header.creator);
    if let Some(fx) = fixture {
        let _ = fabric_verify::verify_envelope_signature(&opened, &fx.peers, "application");
    }
    if let Ok(actions) = fabric_verify::endorsed_actions(&opened) {
        for action in &actions {
            let _ = fabric_verify::written_value(action, "mycc", "key");
            if let Some(fx) = fixture {
                let _ = fabric_verify::verify_endorsed_action(
                    action,
                    &fx.peers,
                    &fabric_policy(1).endorsement,
                );
            }
            for e in &action.endorsements {
                let _ = msp::parse_identity(&e.endorser);
            }
        }
    }
    let _ = fabric_config::channel_config_from_envelope(env, 1);
}

/// Hyperledger Fabric. Mode byte (`% 4`), then:
/// 0. a protobuf `common.Block`: `decode_block`, header / data hashes, every envelope opened
///    (creator identity, endorsed actions, write sets, endorsements checked against a
///    testkit network), `find_transaction`, `verify_block` against the testkit orderers,
///    `channel_config_from_block_bytes` and, when that succeeds, `verify_block` against the
///    config's own orderer orgs and `FabricClient::from_config_block`;
/// 1. one envelope, as above;
/// 2. `parse_identity` and `parse_certificate` of the bytes;
/// 3. a peer block-store file: `decode_block_file`, `decode_stored_block`.
pub fn fabric_block(data: &[u8]) {
    let mut input = Input::new(data);
    let mode = input.byte() % 4;
    let bytes = input.rest();
    let fixture = fabric_fixture();
    match mode {
        0 => {
            if let Ok(block) = fabric_block_mod::decode_block(bytes) {
                if let Ok(h) = fabric_block_mod::header(&block) {
                    let _ = fabric_block_mod::block_header_hash(h);
                }
                let _ = fabric_block_mod::check_data_hash(&block);
                for i in 0..5 {
                    let _ = fabric_block_mod::metadata_entry(&block, i);
                }
                let mut first_tx = None;
                for env in fabric_block_mod::envelopes(&block) {
                    fabric_envelope(env, fixture);
                    if first_tx.is_none() {
                        if let Ok(o) = fabric_block_mod::open_envelope(env) {
                            first_tx = Some(o.channel_header.tx_id);
                        }
                    }
                }
                if let Some(tx_id) = first_tx {
                    let _ = fabric_verify::find_transaction(&block, &tx_id);
                }
            }
            if let Some(fx) = fixture {
                let _ = fabric_verify::verify_block(bytes, &fx.orderers, 1);
            }
            if let Ok(cfg) = fabric_config::channel_config_from_block_bytes(bytes) {
                let _ = fabric_verify::verify_block(bytes, &cfg.orderer_orgs, 1);
                let _ = fabric::client::check_policy(&cfg, &fabric_policy(1));
                let _ = fabric::FabricClient::from_config_block(bytes, fabric_policy(1));
            }
        }
        1 => fabric_envelope(bytes, fixture),
        2 => {
            let _ = msp::parse_identity(bytes);
            if let Ok(cert) = msp::parse_certificate(bytes) {
                let _ = msp::certificate_key(&cert);
            }
        }
        _ => {
            let _ = fabric_block_mod::decode_block_file(bytes);
            let _ = fabric_block_mod::decode_stored_block(bytes);
        }
    }
}

// ---------------------------------------------------------------------------------------
// evm_header
// ---------------------------------------------------------------------------------------

/// Validators of the QBFT fixture (testkit keys).
pub const QBFT_VALIDATORS: usize = 4;

fn qbft_validators() -> &'static [[u8; 20]] {
    static SET: OnceLock<Vec<[u8; 20]>> = OnceLock::new();
    SET.get_or_init(|| qbft::testkit::addresses(&qbft::testkit::validator_keys(QBFT_VALIDATORS)))
}

/// EVM headers. Mode byte (`% 3`), then:
/// 0. an RLP header: `decode_header` (a decoded header must re-encode to the input),
///    `header_hash`, `attest_from_rlp` and `check_full_header`;
/// 1. QBFT `extraData`: `decode_extra_data` (must re-encode to the input);
/// 2. a QBFT header: `decode_qbft_header`, `verify_sealed_header` against the testkit
///    validators and against the validators the header lists.
pub fn evm_header(data: &[u8]) {
    let mut input = Input::new(data);
    let mode = input.byte() % 3;
    let bytes = input.rest();
    match mode {
        0 => {
            if let Ok(h) = evm_header::decode_header(bytes) {
                assert_eq!(h.encode(), bytes, "EVM header does not re-encode");
                let _ = h.hash();
            }
            let _ = evm_header::header_hash(bytes);
            if let Ok(a) = attested::attest_from_rlp(1, bytes) {
                let _ = attested::check_full_header(&a, bytes);
                let _ = attested::attestation_digest(&a);
            }
        }
        1 => {
            if let Ok(extra) = qbft::decode_extra_data(bytes) {
                assert_eq!(extra.encode(), bytes, "QBFT extraData does not re-encode");
                let _ = extra.encode_without_seals();
                let _ = extra.encode_without_seals_and_round();
            }
        }
        _ => {
            if let Ok(h) = qbft::decode_qbft_header(bytes) {
                let _ = qbft::verify_sealed_header(bytes, &h.extra.validators);
                let _ = qbft::check_validator_set(&h.extra.validators);
            }
            let _ = qbft::verify_sealed_header(bytes, qbft_validators());
        }
    }
}

// ---------------------------------------------------------------------------------------
// hub_checkpoint
// ---------------------------------------------------------------------------------------

/// Attesters of the hub fixture.
pub const HUB_ATTESTERS: usize = 4;
/// Seed of the hub fixture.
pub const HUB_SEED: u64 = 0x4b;
/// Chain id of the hub fixture.
pub const HUB_CHAIN: &str = "junction-fuzz";

/// A hub client trusting checkpoint 1 of the testkit set.
pub fn hub_client() -> Option<&'static HubClient> {
    static CLIENT: OnceLock<Option<HubClient>> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            let chain = junction_spec::ChainId::new(HUB_CHAIN).ok()?;
            let (sc, set) = hub::testkit::signed_checkpoint(HUB_ATTESTERS, HUB_SEED, &chain, 1, 8)?;
            HubClient::new(sc.checkpoint, set, None).ok()
        })
        .as_ref()
}

/// Hub checkpoints. Mode byte (`% 2`), then:
/// 0. a signed checkpoint: `decode_signed_checkpoint` (a decoded checkpoint must re-encode
///    to the input), the fixture client's `verify_header`, `verify_signatures` against the
///    fixture's set;
/// 1. `root[32] || log_size u64 || index u64 || chunk(entry) || proof`:
///    `verify_log_inclusion_bytes`.
pub fn hub_checkpoint(data: &[u8]) {
    let mut input = Input::new(data);
    let mode = input.byte() % 2;
    if mode == 0 {
        let bytes = input.rest();
        let Ok(sc) = hub::decode_signed_checkpoint(bytes) else {
            return;
        };
        assert_eq!(sc.to_bytes(), bytes, "signed checkpoint does not re-encode");
        if let Some(client) = hub_client() {
            let _ = client.verify_header(&sc, Timestamp::from_secs(2_000_000_000));
            let _ =
                hub::verify_signatures(client.attestation_set(), &sc.checkpoint, &sc.signatures);
        }
    } else {
        let root: [u8; 32] = input.array();
        let size = input.u64();
        let index = input.u64();
        let entry = input.chunk();
        let proof_bytes = input.rest();
        let _ = hub::verify_log_inclusion_bytes(&root, size, index, entry, proof_bytes);
    }
}
