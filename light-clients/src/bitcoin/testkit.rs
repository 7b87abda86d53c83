//! Deterministic inputs for benchmarks and tests.
//!
//! Two kinds: a small piece of real mainnet data embedded as constants (block 830,000, its
//! parent, and the Merkle branch of its last transaction), and generated regtest chains
//! whose headers carry real (if trivial) proof of work, built from a seed.

use alloy_primitives::U256;

use super::client::{BitcoinClient, Checkpoint, ClientConfig, HeaderBatch, TxInclusionProof};
use super::header::BlockHeader;
use super::merkle::{build_branch, merkle_root, MerkleBranch};
use super::pow::{check_proof_of_work, Params};
use super::{sha256d, BitcoinError, Hash32};

/// Mainnet block 829,999's header.
pub const MAINNET_829999_HEADER_HEX: &str = "00c051287e7bac63c104eb2a6826cd8d356b7d692755cabc795400000000000000000000035fd05cb426f4d7c4ec2cc079d26fcda223db9e5a1a82edeef269ca589a820db00cc9655dba03173c7034e2";
/// Mainnet block 830,000's header (hash
/// 000000000000000000011d55599ed27d7efca05f5849b755319c89eb2cffbc1f).
pub const MAINNET_830000_HEADER_HEX: &str = "0080ee2578a3104f1a64159e5a953a4a1015795a1e66894bf7c00200000000000000000070adb2fd1ac9b017ea1a2e66457af0514dfbae502efd20473e6e77c2d4cf568a410fc9655dba0317403497a1";
/// Transactions in block 830,000.
pub const MAINNET_830000_TX_COUNT: u32 = 1851;
/// Index of the embedded transaction: the last one, the unpaired node of an odd level.
pub const MAINNET_830000_TX_INDEX: u32 = 1850;
/// The raw (segwit) transaction at [`MAINNET_830000_TX_INDEX`].
pub const MAINNET_830000_TX_HEX: &str = "020000000001019d323b2632e0bd98574d489496089f722248501ae366fdc6577fd15bc61da6d20000000000ffffffff01144402000000000017a9146760efb976850adece9e0f19beb5293b55d08af4870140c96b9b9b51599dbc20e8c1a92a6741e0f514f2ec1f3661e188c879ee7b0c1976f5e1d0cee55658e1499eb78a538771ca8b86338b9d3b35aa2a1c01ec4422209300000000";
/// Its 11 Merkle siblings, leaves first (the first is the transaction itself: padding).
pub const MAINNET_830000_BRANCH_HEX: &str = "1f5ffa5ea67b131f09dca8e0589ca4d6f45c03f9bec9a62cd448d0d481574dc2969946865c21c5e851a7aed29e2f946bf433b24766e9005c13a17ad010cad22df7013d3d7f3a64f87a0bcd9f5d67c15a26b02a4cb1a33d0bcf92707f18e4bc92058b32c42ba50a1f67f3b9decc0e386a2f77f4ad89936df70143fa359dc79b8a690187907a0a266d4e8cc4e99756ec73a801a6a51a5a792ae8d471fa909b3d6489c18d3bea0d0d26c0e730cd7c0c910fabcf6a67686c58b7f80a0818ba5b77c0000690f6d18219c1d211d285491b1bb027f11a9f21f4c7568462088e2816e28a212cc831d68f79ddde4a4545166b73731fe93f758bf42a3d58ac1c45fe03666872bebe7a90dfc84a3b05d34fe43566816488c56b202e904a1cc0b704be72db661ab6dd66341c841e6d2d67561ac470f50352b00a537376cf6d354412d15cf201a34b834a2cad470688b4be16f37cf9faada40137bfef564a3996dcc426a5ccdb";

/// The embedded real example, decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MainnetExample {
    /// Block 829,999.
    pub parent: BlockHeader,
    /// Block 830,000.
    pub header: BlockHeader,
    /// The raw transaction.
    pub raw_tx: Vec<u8>,
    /// Its txid.
    pub txid: Hash32,
    /// Its branch.
    pub branch: MerkleBranch,
}

fn decode_hex(s: &str) -> Result<Vec<u8>, BitcoinError> {
    hex::decode(s).map_err(|_| BitcoinError::WrongLength {
        what: "testkit hex constant",
        expected: s.len() / 2,
        got: 0,
    })
}

/// Decodes the embedded mainnet example.
pub fn mainnet_example() -> Result<MainnetExample, BitcoinError> {
    let parent = BlockHeader::decode(&decode_hex(MAINNET_829999_HEADER_HEX)?)?;
    let header = BlockHeader::decode(&decode_hex(MAINNET_830000_HEADER_HEX)?)?;
    let raw_tx = decode_hex(MAINNET_830000_TX_HEX)?;
    let txid = super::tx::parse_tx(&raw_tx)?.txid;
    let siblings = super::spv::split_nodes(&decode_hex(MAINNET_830000_BRANCH_HEX)?)?;
    Ok(MainnetExample {
        parent,
        header,
        raw_tx,
        txid,
        branch: MerkleBranch {
            tx_index: MAINNET_830000_TX_INDEX,
            tx_count: MAINNET_830000_TX_COUNT,
            siblings,
        },
    })
}

/// What a benchmark of "verify a header and a Merkle branch" measures: the header's proof
/// of work and link to its parent, the transaction's txid (with the 64-byte rule) and its
/// branch against the header's root.
pub fn verify_header_and_branch(ex: &MainnetExample) -> Result<(), BitcoinError> {
    if ex.header.prev_blockhash != ex.parent.block_hash() {
        return Err(BitcoinError::BrokenLink { position: 0 });
    }
    check_proof_of_work(&ex.header, &Params::MAINNET)?;
    let txid = super::tx::txid_checked(&ex.raw_tx)?;
    ex.branch.verify(&txid, &ex.header.merkle_root)
}

/// A small deterministic generator (SplitMix64) so the testkit needs no RNG crate.
#[derive(Clone, Debug)]
pub struct SplitMix(u64);

impl SplitMix {
    /// Seeds the generator.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }
    /// The next 64 pseudo-random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// 32 pseudo-random bytes.
    pub fn hash(&mut self) -> Hash32 {
        let mut out = [0u8; 32];
        for chunk in out.chunks_exact_mut(8) {
            chunk.copy_from_slice(&self.next_u64().to_le_bytes());
        }
        out
    }
}

/// Regtest genesis-like starting header (bits = the regtest limit), found by grinding.
pub fn regtest_genesis(seed: u64) -> BlockHeader {
    let mut rng = SplitMix::new(seed);
    let header = BlockHeader {
        version: 4,
        prev_blockhash: rng.hash(),
        merkle_root: rng.hash(),
        time: 1_700_000_000,
        bits: Params::REGTEST.pow_limit_bits,
        nonce: 0,
    };
    mine(header, &Params::REGTEST)
}

/// Tries nonces from 0 until the header meets its target (about two tries on regtest; on
/// real targets it gives up after 2^32 tries and returns the last attempt).
pub fn mine(mut header: BlockHeader, params: &Params) -> BlockHeader {
    for nonce in 0..=u32::MAX {
        header.nonce = nonce;
        if check_proof_of_work(&header, params).is_ok() {
            break;
        }
    }
    header
}

/// A trusted checkpoint for a regtest header at `height`.
pub fn regtest_checkpoint(header: BlockHeader, height: u64) -> Checkpoint {
    Checkpoint {
        height,
        header,
        chainwork: U256::ZERO,
        period_first_time: header.time,
        recent_times: vec![header.time],
        last_normal_bits: None,
    }
}

/// `n` regtest headers extending `parent`, one every `spacing` seconds, with Merkle roots
/// drawn from `seed` (different seeds give different branches).
pub fn regtest_extend(parent: &BlockHeader, n: usize, spacing: u32, seed: u64) -> Vec<BlockHeader> {
    let mut rng = SplitMix::new(seed);
    let mut prev = *parent;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let header = mine(
            BlockHeader {
                version: 4,
                prev_blockhash: prev.block_hash(),
                merkle_root: rng.hash(),
                time: prev.time.wrapping_add(spacing),
                bits: Params::REGTEST.pow_limit_bits,
                nonce: 0,
            },
            &Params::REGTEST,
        );
        out.push(header);
        prev = header;
    }
    out
}

/// A regtest client config with `confirmations` and a generous window.
pub fn regtest_config(confirmations: u64) -> ClientConfig {
    ClientConfig {
        params: Params::REGTEST,
        confirmations,
        window: 4032,
        max_batch: super::client::MAX_BATCH_HEADERS,
        freeze_on_deep_reorg: true,
    }
}

/// A regtest client with `n` headers on top of its checkpoint (`now` far enough ahead).
pub fn regtest_client(
    seed: u64,
    n: usize,
    confirmations: u64,
) -> Result<BitcoinClient, BitcoinError> {
    let genesis = regtest_genesis(seed);
    let mut client = BitcoinClient::new(
        regtest_config(confirmations),
        regtest_checkpoint(genesis, 0),
    )?;
    if n > 0 {
        let batch = HeaderBatch {
            headers: regtest_extend(&genesis, n, 600, seed ^ 0x5eed),
        };
        let verified = client.verify_batch(&batch, far_future())?;
        client.apply_batch(verified);
    }
    Ok(client)
}

/// A `now` after every generated timestamp.
pub fn far_future() -> crate::Timestamp {
    crate::Timestamp::from_secs(4_000_000_000)
}

/// A synthetic block body of `tx_count` distinct transactions (none 64 bytes long), the
/// raw bytes of the one at `index`, its branch and the block's Merkle root.
pub fn synthetic_block(
    seed: u64,
    tx_count: u32,
    index: u32,
) -> Option<(Vec<u8>, Hash32, TxInclusionProof, Hash32)> {
    let mut rng = SplitMix::new(seed);
    let mut raws = Vec::with_capacity(tx_count as usize);
    for _ in 0..tx_count {
        raws.push(synthetic_tx(&mut rng));
    }
    let txids: Vec<Hash32> = raws.iter().map(|r| sha256d(r)).collect();
    let (root, _) = merkle_root(&txids)?;
    let branch = build_branch(&txids, index as usize)?;
    let raw = raws.get(index as usize)?.clone();
    let txid = *txids.get(index as usize)?;
    Some((raw, txid, TxInclusionProof::Branch(branch), root))
}

/// A legacy one-input, one-output transaction with random outpoint and script.
pub fn synthetic_tx(rng: &mut SplitMix) -> Vec<u8> {
    let mut tx = Vec::with_capacity(100);
    tx.extend_from_slice(&1u32.to_le_bytes());
    tx.push(1);
    tx.extend_from_slice(&rng.hash());
    tx.extend_from_slice(&0u32.to_le_bytes());
    tx.push(0);
    tx.extend_from_slice(&u32::MAX.to_le_bytes());
    tx.push(1);
    tx.extend_from_slice(&rng.next_u64().to_le_bytes());
    tx.push(22);
    tx.extend_from_slice(&[0x00, 0x14]);
    tx.extend_from_slice(rng.hash().get(..20).unwrap_or_default());
    tx.extend_from_slice(&0u32.to_le_bytes());
    tx
}

/// A legacy transaction (version 2, empty scriptSigs, locktime 0) spending `inputs`
/// (txid, output index) and paying `outputs` (value, scriptPubKey).
pub fn raw_tx(inputs: &[(Hash32, u32)], outputs: &[(u64, Vec<u8>)]) -> Vec<u8> {
    let mut tx = Vec::with_capacity(16 + 41 * inputs.len() + 40 * outputs.len());
    tx.extend_from_slice(&2u32.to_le_bytes());
    super::write_varint(&mut tx, inputs.len() as u64);
    for (txid, vout) in inputs {
        tx.extend_from_slice(txid);
        tx.extend_from_slice(&vout.to_le_bytes());
        tx.push(0);
        tx.extend_from_slice(&u32::MAX.to_le_bytes());
    }
    super::write_varint(&mut tx, outputs.len() as u64);
    for (value, script) in outputs {
        tx.extend_from_slice(&value.to_le_bytes());
        super::write_varint(&mut tx, script.len() as u64);
        tx.extend_from_slice(script);
    }
    tx.extend_from_slice(&0u32.to_le_bytes());
    tx
}

/// A P2WPKH-style script of seed `seed` (an app's identity in tests).
pub fn app_script(seed: u64) -> Vec<u8> {
    let mut s = vec![0x00, 0x14];
    s.extend_from_slice(SplitMix::new(seed).hash().get(..20).unwrap_or_default());
    s
}

/// A regtest chain in which block 1 holds a packet commitment.
#[derive(Clone, Debug)]
pub struct CommitmentFixture {
    /// The trusted checkpoint (height 0).
    pub checkpoint: Checkpoint,
    /// Headers from height 1: block 1 holds the commitment, the rest bury it.
    pub headers: Vec<BlockHeader>,
    /// The commitment's proof at height 1.
    pub proof: super::hub::PacketProof,
}

/// A regtest chain whose block 1 holds a transaction that spends an output locked by
/// `app` (from a previous transaction that is not in the chain: only its txid matters) and
/// commits `key_hash` to `packet_hash`, followed by `bury` more blocks; `outputs` are the
/// committing transaction's outputs (`None`: the commitment alone).
pub fn commitment_fixture(
    seed: u64,
    app: &[u8],
    outputs: Option<Vec<(u64, Vec<u8>)>>,
    key_hash: &Hash32,
    packet_hash: &Hash32,
    bury: usize,
) -> Option<CommitmentFixture> {
    let mut rng = SplitMix::new(seed);
    let prev_tx = raw_tx(&[(rng.hash(), 0)], &[(50_000, app.to_vec())]);
    let outputs =
        outputs.unwrap_or_else(|| vec![(0, super::hub::commitment_script(key_hash, packet_hash))]);
    let tx = raw_tx(&[(sha256d(&prev_tx), 0)], &outputs);
    let filler = synthetic_tx(&mut rng);
    let txids = [sha256d(&filler), sha256d(&tx)];
    let (root, _) = merkle_root(&txids)?;
    let branch = build_branch(&txids, 1)?;
    let genesis = regtest_genesis(seed);
    let block1 = mine(
        BlockHeader {
            version: 4,
            prev_blockhash: genesis.block_hash(),
            merkle_root: root,
            time: genesis.time.wrapping_add(600),
            bits: Params::REGTEST.pow_limit_bits,
            nonce: 0,
        },
        &Params::REGTEST,
    );
    let mut headers = vec![block1];
    headers.extend(regtest_extend(&block1, bury, 600, seed ^ 0xb10c));
    Some(CommitmentFixture {
        checkpoint: regtest_checkpoint(genesis, 0),
        headers,
        proof: super::hub::PacketProof {
            tx,
            branch,
            prev_tx,
        },
    })
}
