//! Writes the seed inputs of the fuzz targets into `light-clients/fuzz/corpus/<target>/`
//! (files `seed-*`), in the layouts `tests/fuzz_bodies/mod.rs` reads, from the shared
//! vectors (real captures) and the testkits (inputs valid against the bodies' fixtures).
//! Run by hand when a layout or a fixture changes (from the project root):
//!
//! ```text
//! cargo run -p junction-light-clients --example fuzz_seeds
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "../tests/fuzz_bodies/mod.rs"]
mod fuzz_bodies;

use std::path::{Path, PathBuf};

use base64::Engine as _;
use fuzz_bodies::push_chunk;
use junction_light_clients::bitcoin::{self, testkit as btc_testkit, TxInclusionProof};
use junction_light_clients::evm::{header::keccak256, mpt, qbft};
use junction_light_clients::fabric::{self, block as fblock};
use junction_light_clients::hub;
use junction_light_clients::tendermint::{codec, proof, testkit as tm_testkit};
use junction_light_clients::Timestamp;
use junction_spec::encoding::Encode;
use prost::Message;
use tendermint::block::signed_header::SignedHeader;
use tendermint::validator;
use tendermint_light_client_verifier::types::ValidatorSet;

struct Seeds {
    dir: PathBuf,
    count: usize,
}

impl Seeds {
    fn new(target: &str) -> Self {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fuzz/corpus")
            .join(target);
        std::fs::create_dir_all(&dir).unwrap();
        Self { dir, count: 0 }
    }

    fn write(&mut self, label: &str, bytes: &[u8]) {
        std::fs::write(self.dir.join(format!("seed-{label}")), bytes).unwrap();
        self.count += 1;
    }
}

impl Drop for Seeds {
    fn drop(&mut self) {
        println!("{}: {} seeds", self.dir.display(), self.count);
    }
}

fn unhex(s: &str) -> Vec<u8> {
    let s = s.trim().trim_start_matches("0x");
    if s.len() % 2 == 1 {
        hex::decode(format!("0{s}")).unwrap()
    } else {
        hex::decode(s).unwrap()
    }
}

fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The JSON of the `<<` (response) line of an execution-apis `.io` capture.
fn io_response(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap();
    let line = text.lines().find(|l| l.starts_with("<< ")).unwrap();
    serde_json::from_str(&line[3..]).unwrap()
}

fn hex_list(v: &serde_json::Value) -> Vec<Vec<u8>> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| unhex(x.as_str().unwrap()))
        .collect()
}

fn mpt_seed(
    root: &[u8; 32],
    mode: u8,
    key: &[u8; 32],
    address: &[u8; 20],
    nodes: &[impl AsRef<[u8]>],
) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(root);
    out.push(mode);
    out.extend_from_slice(key);
    out.extend_from_slice(address);
    for n in nodes {
        push_chunk(&mut out, n.as_ref());
    }
    out
}

fn mpt_seeds(vectors: Option<&Path>) {
    let mut s = Seeds::new("mpt_proof");
    if let Some(v) = vectors {
        let dir = v.join("ethereum-mpt/execution-apis/eth_getProof");
        for name in ["get-account-proof-latest", "get-account-proof-with-storage"] {
            let r = &io_response(&dir.join(format!("{name}.io")))["result"];
            let account = hex_list(&r["accountProof"]);
            let state_root = keccak256(&account[0]);
            let address: [u8; 20] = unhex(r["address"].as_str().unwrap()).try_into().unwrap();
            let split = account.len().min(15) as u8;
            assert!(mpt::verify_account(&state_root, &address, &account)
                .unwrap()
                .is_some());
            // Account path: every node in the account section.
            s.write(
                &format!("{name}-account"),
                &mpt_seed(
                    &state_root,
                    0x10 | split,
                    &keccak256(&address),
                    &address,
                    &account,
                ),
            );
            for (i, sp) in r["storageProof"].as_array().unwrap().iter().enumerate() {
                let nodes = hex_list(&sp["proof"]);
                let mut slot = [0u8; 32];
                let raw = unhex(sp["key"].as_str().unwrap());
                slot[32 - raw.len()..].copy_from_slice(&raw);
                if let Some(first) = nodes.first() {
                    // Storage trie alone (verify_storage), then the state path through
                    // the account into its storage (verify_state).
                    s.write(
                        &format!("{name}-storage{i}"),
                        &mpt_seed(&keccak256(first), 0, &slot, &address, &nodes),
                    );
                }
                let mut both = account.clone();
                both.extend(nodes);
                s.write(
                    &format!("{name}-state{i}"),
                    &mpt_seed(&state_root, split, &slot, &address, &both),
                );
            }
        }
    }
    for (seed, n) in [(1u64, 5u64), (2, 60), (3, 400)] {
        let f = mpt::testkit::storage_fixture(seed, n, n / 2);
        s.write(
            &format!("storage-{n}-present"),
            &mpt_seed(&f.storage_root, 0, &f.slot, &[0; 20], &f.proof),
        );
        s.write(
            &format!("storage-{n}-absent"),
            &mpt_seed(
                &f.storage_root,
                0,
                &f.absent_slot,
                &[0; 20],
                &f.absent_proof,
            ),
        );
    }
    let items: Vec<Vec<u8>> = (0..20u8).map(|i| vec![i; 40 + usize::from(i)]).collect();
    let (root, proofs) = mpt::testkit::ordered_with_proofs(&items);
    for index in [0usize, 1, 7, 19] {
        let mut key = [0u8; 32];
        key[0] = index as u8;
        s.write(
            &format!("receipt-{index}"),
            &mpt_seed(&root, 0x20, &key, &[0; 20], &proofs[index]),
        );
    }
}

fn ics23_seed(root: &[u8], store: &[u8], key: &[u8], value: &[u8], proof_bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    push_chunk(&mut out, root);
    push_chunk(&mut out, store);
    push_chunk(&mut out, key);
    push_chunk(&mut out, value);
    out.extend_from_slice(proof_bytes);
    out
}

fn ics23_seeds(vectors: Option<&Path>) {
    let mut s = Seeds::new("ics23_proof");
    if let Some(v) = vectors {
        for spec in ["iavl", "tendermint", "smt"] {
            for case in [
                "exist_left",
                "exist_middle",
                "exist_right",
                "nonexist_left",
                "nonexist_middle",
                "nonexist_right",
            ] {
                let j = read_json(&v.join(format!("ics23/{spec}/{case}.json")));
                let field = |k: &str| j[k].as_str().map(unhex).unwrap_or_default();
                s.write(
                    &format!("{spec}-{case}"),
                    &ics23_seed(
                        &field("root"),
                        b"ibc",
                        &field("key"),
                        &field("value"),
                        &field("proof"),
                    ),
                );
            }
        }
    }
    for (depth, stores, seed) in [(1, 1, 1u64), (3, 4, 2), (8, 12, 3)] {
        let (app_hash, store, key, value, bytes) =
            proof::testkit::cosmos_membership(depth, stores, seed).unwrap();
        s.write(
            &format!("cosmos-{depth}-{stores}"),
            &ics23_seed(&app_hash, &store, &key, &value, &bytes),
        );
    }
}

fn tm_seed(mode: u8, trusted_height: u64, sh: &[u8], vals: &[u8], trusted: &[u8]) -> Vec<u8> {
    let mut out = vec![mode];
    out.extend_from_slice(&trusted_height.to_le_bytes());
    push_chunk(&mut out, sh);
    push_chunk(&mut out, vals);
    out.extend_from_slice(trusted);
    out
}

fn tm_seeds(vectors: Option<&Path>) {
    use fuzz_bodies::{TM_CHAIN, TM_SEED, TM_TRUSTED_TIME, TM_VALIDATORS};
    let mut s = Seeds::new("tendermint_light_block");
    let lb1 =
        tm_testkit::light_block(TM_CHAIN, 1, TM_TRUSTED_TIME, TM_VALIDATORS, TM_SEED).unwrap();
    let trusted = codec::encode_validator_set(&lb1.next_validators);
    for height in [2u64, 3] {
        let time = TM_TRUSTED_TIME.plus_nanos(height * 60_000_000_000);
        let lb = tm_testkit::light_block(TM_CHAIN, height, time, TM_VALIDATORS, TM_SEED).unwrap();
        codec::verify_header_bytes(
            fuzz_bodies::tm_client().unwrap(),
            &codec::encode_signed_header(&lb.signed_header),
            &codec::encode_validator_set(&lb.validators),
            1,
            &trusted,
            fuzz_bodies::TM_NOW,
        )
        .unwrap();
        s.write(
            &format!("testkit-height-{height}"),
            &tm_seed(
                0,
                1,
                &codec::encode_signed_header(&lb.signed_header),
                &codec::encode_validator_set(&lb.validators),
                &trusted,
            ),
        );
    }
    // Another validator set (a skipping update whose signers barely overlap).
    let other = tm_testkit::validator_keys(TM_SEED + 1, 3);
    let mut keys = tm_testkit::validator_keys(TM_SEED, 1);
    keys.extend(other);
    let lb = tm_testkit::signed_light_block(
        TM_CHAIN,
        4,
        TM_TRUSTED_TIME.plus_nanos(240_000_000_000),
        &keys,
        &keys,
        b"app",
    )
    .unwrap();
    s.write(
        "testkit-new-set",
        &tm_seed(
            0,
            1,
            &codec::encode_signed_header(&lb.signed_header),
            &codec::encode_validator_set(&lb.validators),
            &trusted,
        ),
    );
    // An ed25519 triple (mode bit 0).
    let sk = ed25519_consensus::SigningKey::from([7u8; 32]);
    let msg = b"junction fuzz ed25519 seed";
    let mut triple = Vec::new();
    push_chunk(&mut triple, &sk.verification_key().to_bytes());
    push_chunk(&mut triple, &sk.sign(msg).to_bytes());
    triple.extend_from_slice(msg);
    s.write("ed25519-triple", &tm_seed(1, 1, &[], &[], &triple));

    let Some(v) = vectors else { return };
    let dir = v.join("tendermint/tendermint-rs/kvstore_v0_38");
    let sh: SignedHeader = serde_json::from_value(
        read_json(&dir.join("commit_at_height_10.json"))["result"]["signed_header"].clone(),
    )
    .unwrap();
    let g = read_json(&dir.join("genesis.json"));
    let infos = g["result"]["genesis"]["validators"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            let pk = base64::engine::general_purpose::STANDARD
                .decode(v["pub_key"]["value"].as_str().unwrap())
                .unwrap();
            let power: u64 = v["power"].as_str().unwrap().parse().unwrap();
            validator::Info::new(
                tendermint::PublicKey::from_raw_ed25519(&pk).unwrap(),
                power.try_into().unwrap(),
            )
        })
        .collect();
    let set = ValidatorSet::without_proposer(infos);
    let set_bytes = codec::encode_validator_set(&set);
    s.write(
        "kvstore-v0_38-height-10",
        &tm_seed(
            0,
            1,
            &codec::encode_signed_header(&sh),
            &set_bytes,
            &set_bytes,
        ),
    );
    let dir = v.join("tendermint/tendermint-rs/model_based_single_step");
    for name in [
        "MC4_4_faulty_TestSuccess",
        "MC4_4_faulty_Test2NotEnoughTrustFailure",
    ] {
        let j = read_json(&dir.join(format!("{name}.json")));
        let trusted: ValidatorSet =
            serde_json::from_value(j["initial"]["next_validator_set"].clone()).unwrap();
        let trusted = codec::encode_validator_set(&trusted);
        for (i, input) in j["input"].as_array().unwrap().iter().take(2).enumerate() {
            let b = &input["block"];
            let sh: SignedHeader = serde_json::from_value(b["signed_header"].clone()).unwrap();
            let vals: ValidatorSet = serde_json::from_value(b["validator_set"].clone()).unwrap();
            s.write(
                &format!("{name}-{i}"),
                &tm_seed(
                    0,
                    1,
                    &codec::encode_signed_header(&sh),
                    &codec::encode_validator_set(&vals),
                    &trusted,
                ),
            );
        }
    }
}

fn btc_seeds(vectors: Option<&Path>) {
    let mut s = Seeds::new("bitcoin_header_merkleblock");
    let with_mode = |mode: u8, bytes: &[u8]| {
        let mut out = vec![mode];
        out.extend_from_slice(bytes);
        out
    };
    // Regtest headers extending the fixture's tip and a fork from below it.
    let client = fuzz_bodies::btc_client().unwrap();
    let tip = client.best_tip().header;
    let ext: Vec<u8> = btc_testkit::regtest_extend(&tip, 3, 600, 1)
        .iter()
        .flat_map(|h| h.encode())
        .collect();
    let batch = bitcoin::HeaderBatch::decode(&ext).unwrap();
    client
        .verify_batch(&batch, btc_testkit::far_future())
        .unwrap();
    s.write("regtest-extend-tip", &with_mode(1, &ext));
    let below = client.best_at(8).unwrap().header;
    let fork: Vec<u8> = btc_testkit::regtest_extend(&below, 6, 600, 2)
        .iter()
        .flat_map(|h| h.encode())
        .collect();
    s.write("regtest-fork", &with_mode(1, &fork));
    s.write("regtest-header", &with_mode(0, &tip.encode()));
    for (seed, count, index) in [(1u64, 1u32, 0u32), (2, 7, 6), (3, 300, 123)] {
        let (raw, txid, proof, root) = btc_testkit::synthetic_block(seed, count, index).unwrap();
        let TxInclusionProof::Branch(branch) = proof else {
            panic!("branch")
        };
        let mut b = vec![2u8];
        b.extend_from_slice(&txid);
        b.extend_from_slice(&root);
        b.extend_from_slice(&branch.encode());
        s.write(&format!("branch-{count}-{index}"), &b);
        s.write(&format!("tx-{count}-{index}"), &with_mode(4, &raw));
        let mut t = vec![6u8];
        t.extend_from_slice(&(u64::from(index) % 12).to_le_bytes());
        push_chunk(&mut t, &raw);
        t.extend_from_slice(&branch.encode());
        s.write(&format!("verify-tx-{count}-{index}"), &t);
    }

    let Some(v) = vectors else { return };
    let dir = v.join("bitcoin/ckb-spv-testdata");
    let headers = std::fs::read_to_string(dir.join("mainnet_headers_822528_830592.txt")).unwrap();
    let headers: Vec<Vec<u8>> = headers
        .lines()
        .filter_map(|l| l.split_whitespace().nth(1))
        .map(unhex)
        .collect();
    for i in [0usize, 2015, 2016, 8064] {
        s.write(&format!("mainnet-header-{i}"), &with_mode(0, &headers[i]));
    }
    for (start, n) in [(0usize, 2usize), (2014, 4), (100, 11)] {
        let chain: Vec<u8> = headers[start..start + n].concat();
        s.write(&format!("mainnet-chain-{start}-{n}"), &with_mode(1, &chain));
    }
    let mut proofs: Vec<PathBuf> = std::fs::read_dir(dir.join("txoutproof"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    proofs.sort();
    for p in &proofs {
        let bytes = unhex(&std::fs::read_to_string(p).unwrap());
        let name = p.file_stem().unwrap().to_string_lossy().into_owned();
        s.write(&format!("txoutproof-{name}"), &with_mode(3, &bytes));
    }
    // BIP158 testnet blocks: full blocks (parse_block) and their transactions.
    let rows = read_json(&v.join("bitcoin/rust-bitcoin/blockfilters.json"));
    for row in rows.as_array().unwrap().iter().skip(1).take(6) {
        let height = row[0].as_u64().unwrap();
        let raw = unhex(row[2].as_str().unwrap());
        if raw.len() > 64 * 1024 {
            continue;
        }
        s.write(&format!("testnet-block-{height}"), &with_mode(5, &raw));
        if let Ok(parsed) = bitcoin::tx::parse_block(&raw) {
            // Transactions follow the header and the CompactSize count.
            let mut off = 80
                + match raw[80] {
                    0xfd => 3,
                    0xfe => 5,
                    0xff => 9,
                    _ => 1,
                };
            for (i, tx) in parsed.txs.iter().enumerate().take(2) {
                let bytes = &raw[off..off + tx.total_len];
                s.write(&format!("testnet-tx-{height}-{i}"), &with_mode(4, bytes));
                off += tx.total_len;
            }
        }
    }
}

fn fabric_seeds(vectors: Option<&Path>) {
    let mut s = Seeds::new("fabric_block");
    let with_mode = |mode: u8, bytes: &[u8]| {
        let mut out = vec![mode];
        out.extend_from_slice(bytes);
        out
    };
    let mut blocks: Vec<(String, Vec<u8>)> = Vec::new();
    let fx = fuzz_bodies::fabric_fixture().unwrap();
    let net = &fx.network;
    let genesis = net.genesis_block();
    let tx = net.endorser_tx("tx-1", 0, &[0, 1], "mycc", "key", b"value");
    let b1 = net.block(
        1,
        &fabric::testkit::hash_of(&genesis),
        vec![tx.clone()],
        &[0],
    );
    fabric::verify::verify_block(&b1.encode_to_vec(), &fx.orderers, 1).unwrap();
    blocks.push(("testkit-genesis".into(), genesis.encode_to_vec()));
    blocks.push(("testkit-block-1".into(), b1.encode_to_vec()));
    s.write("testkit-envelope", &with_mode(1, &tx));
    s.write("testkit-identity", &with_mode(2, &net.peers[0].identity));

    if let Some(v) = vectors {
        let dir = v.join("fabric");
        for name in ["cluster_block3.pb", "cluster_mychannel_genesis.block"] {
            let bytes = unhex(&std::fs::read_to_string(dir.join(format!("{name}.hex"))).unwrap());
            blocks.push((name.replace('.', "-"), bytes));
        }
        let file = unhex(
            &std::fs::read_to_string(dir.join("sample_prod_mychannel_blockfile_000000.hex"))
                .unwrap(),
        );
        let stored = fblock::decode_block_file(&file).unwrap();
        for (i, b) in stored.iter().enumerate().take(3) {
            blocks.push((format!("sample-prod-{i}"), b.encode_to_vec()));
        }
        // The block file (mode 3): its first two stored blocks, and one stored block.
        let mut r = &file[..];
        let mut first_two = Vec::new();
        for _ in 0..2 {
            let (len, n) = varint(r);
            first_two.extend_from_slice(&r[..n + len]);
            r = &r[n + len..];
        }
        s.write("sample-prod-file-2-blocks", &with_mode(3, &first_two));
        let (len, n) = varint(&file);
        s.write("sample-prod-stored-0", &with_mode(3, &file[n..n + len]));
    }
    for (name, bytes) in &blocks {
        s.write(&format!("block-{name}"), &with_mode(0, bytes));
        let block = fblock::decode_block(bytes).unwrap();
        for (i, env) in fblock::envelopes(&block).iter().enumerate().take(1) {
            s.write(&format!("envelope-{name}-{i}"), &with_mode(1, env));
            if let Ok(o) = fblock::open_envelope(env) {
                s.write(
                    &format!("identity-{name}-{i}"),
                    &with_mode(2, &o.signature_header.creator),
                );
            }
        }
    }
}

/// A protobuf varint at the start of `b`: (value, bytes read).
fn varint(b: &[u8]) -> (usize, usize) {
    let mut v = 0usize;
    for (i, byte) in b.iter().enumerate() {
        v |= usize::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return (v, i + 1);
        }
    }
    panic!("truncated varint")
}

fn h_validators() -> Vec<[u8; 20]> {
    qbft::testkit::addresses(&qbft::testkit::validator_keys(fuzz_bodies::QBFT_VALIDATORS))
}

fn evm_seeds(vectors: Option<&Path>) {
    let mut s = Seeds::new("evm_header");
    let with_mode = |mode: u8, bytes: &[u8]| {
        let mut out = vec![mode];
        out.extend_from_slice(bytes);
        out
    };
    for (i, rlp) in qbft::testkit::chain(fuzz_bodies::QBFT_VALIDATORS, 3, 1_700_000_000)
        .iter()
        .enumerate()
    {
        qbft::verify_sealed_header(rlp, &h_validators()).unwrap();
        s.write(&format!("qbft-testkit-{i}"), &with_mode(2, rlp));
        s.write(&format!("qbft-testkit-{i}-as-evm"), &with_mode(0, rlp));
        let h = qbft::decode_qbft_header(rlp).unwrap();
        s.write(
            &format!("qbft-testkit-{i}-extra"),
            &with_mode(1, &h.header.extra_data),
        );
    }
    let Some(v) = vectors else { return };
    let dir = v.join("ethereum-mpt/execution-apis/debug_getRawHeader");
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        if let Some(hex_rlp) = io_response(&p)["result"].as_str() {
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            s.write(
                &format!("raw-header-{name}"),
                &with_mode(0, &unhex(hex_rlp)),
            );
        }
    }
    let j = read_json(&v.join("qbft/consensys-qbft-tests/bft_extra_data.json"));
    for (name, case) in j.as_object().unwrap() {
        s.write(
            &format!("extra-{name}"),
            &with_mode(1, &unhex(case["rlp"].as_str().unwrap())),
        );
    }
}

fn hub_seeds(vectors: Option<&Path>) {
    use fuzz_bodies::{HUB_ATTESTERS, HUB_CHAIN, HUB_SEED};
    let mut s = Seeds::new("hub_checkpoint");
    let chain = junction_spec::ChainId::new(HUB_CHAIN).unwrap();
    for height in [2u64, 9] {
        let (sc, _) =
            hub::testkit::signed_checkpoint(HUB_ATTESTERS, HUB_SEED, &chain, height, 16).unwrap();
        use junction_light_clients::LightClient;
        let client = fuzz_bodies::hub_client().unwrap();
        client
            .verify_header(&sc, Timestamp::from_secs(2_000_000_000))
            .unwrap();
        let mut b = vec![0u8];
        b.extend_from_slice(&sc.to_bytes());
        s.write(&format!("checkpoint-{height}"), &b);
    }
    let inclusion = |root: &[u8], size: u64, index: u64, entry: &[u8], proof: &[u8]| {
        let mut b = vec![1u8];
        b.extend_from_slice(root);
        b.extend_from_slice(&size.to_le_bytes());
        b.extend_from_slice(&index.to_le_bytes());
        push_chunk(&mut b, entry);
        b.extend_from_slice(proof);
        b
    };
    for (size, index) in [(1u64, 0u64), (7, 6), (1 << 20, 12345)] {
        let (root, entry, proof) = hub::testkit::synthetic_inclusion(size, index, 1).unwrap();
        hub::verify_log_inclusion_bytes(&root, size, index, &entry, &proof.concat()).unwrap();
        s.write(
            &format!("inclusion-{size}-{index}"),
            &inclusion(&root, size, index, &entry, &proof.concat()),
        );
    }
    let Some(v) = vectors else { return };
    // RFC 6962 happy paths: the JSON gives the leaf hash, not the leaf; the reference tree
    // gives the leaves.
    let reference = read_json(&v.join("rfc6962/transparency-dev-merkle/reference_tree.json"));
    let _ = &reference;
    let b64 = |x: &serde_json::Value| {
        base64::engine::general_purpose::STANDARD
            .decode(x.as_str().unwrap_or(""))
            .unwrap()
    };
    let leaves: Vec<Vec<u8>> = reference["leaves"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|x| x.as_str().map(unhex).unwrap_or_default())
                .collect()
        })
        .unwrap_or_default();
    for n in 0..2 {
        let p = v.join(format!(
            "rfc6962/transparency-dev-merkle/inclusion/{n}/happy-path.json"
        ));
        let Ok(text) = std::fs::read_to_string(&p) else {
            continue;
        };
        let j: serde_json::Value = serde_json::from_str(&text).unwrap();
        let index = j["leafIdx"].as_u64().unwrap();
        let size = j["treeSize"].as_u64().unwrap();
        let proof: Vec<u8> = j["proof"]
            .as_array()
            .map(|a| a.iter().flat_map(b64).collect())
            .unwrap_or_default();
        let entry = leaves.get(index as usize).cloned().unwrap_or_default();
        let root: [u8; 32] = b64(&j["root"]).try_into().unwrap();
        hub::verify_log_inclusion_bytes(&root, size, index, &entry, &proof).unwrap();
        s.write(
            &format!("rfc6962-inclusion-{n}"),
            &inclusion(&b64(&j["root"]), size, index, &entry, &proof),
        );
    }
}

fn main() {
    let vectors = common::vectors_dir();
    let vectors = vectors.as_deref();
    mpt_seeds(vectors);
    ics23_seeds(vectors);
    tm_seeds(vectors);
    btc_seeds(vectors);
    fabric_seeds(vectors);
    evm_seeds(vectors);
    hub_seeds(vectors);
}
