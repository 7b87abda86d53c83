//! Generated and mutated Bitcoin inputs: byte flips, truncations, the two Merkle
//! ambiguities, forged difficulty, fork choice by work, confirmations and deep reorgs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use alloy_primitives::U256;
use junction_light_clients::bitcoin::client::{
    BitcoinClient, Checkpoint, ClientConfig, HeaderBatch, TxInclusionProof,
};
use junction_light_clients::bitcoin::header::BlockHeader;
use junction_light_clients::bitcoin::merkle::{
    build_branch, compute_root_without_count, merkle_root, verify_merkleblock, MerkleBlock,
    MerkleBranch,
};
use junction_light_clients::bitcoin::pow::{
    check_proof_of_work, decode_compact, encode_compact, Params,
};
use junction_light_clients::bitcoin::testkit::{
    self, far_future, mainnet_example, mine, regtest_checkpoint, regtest_client, regtest_config,
    regtest_extend, regtest_genesis, synthetic_block, SplitMix,
};
use junction_light_clients::bitcoin::tx::{parse_tx, txid_checked};
use junction_light_clients::bitcoin::{merkle_parent, sha256d, Hash32};
use junction_light_clients::{ClientStatus, LightClient, NamedError};

fn mainnet_client_at_829999() -> BitcoinClient {
    let ex = mainnet_example().unwrap();
    BitcoinClient::new(
        ClientConfig::mainnet(),
        Checkpoint {
            height: 829_999,
            header: ex.parent,
            chainwork: U256::ZERO,
            // Only the block's own time is known here; fewer than 11 is what Core does
            // near genesis, and 830,000 is not a retarget boundary.
            period_first_time: ex.parent.time - 1,
            recent_times: vec![ex.parent.time],
            last_normal_bits: None,
        },
    )
    .unwrap()
}

#[test]
fn testkit_mainnet_example_verifies_header_and_branch() {
    let ex = mainnet_example().unwrap();
    testkit::verify_header_and_branch(&ex).unwrap();
    let client = mainnet_client_at_829999();
    let v = client
        .verify_header(
            &HeaderBatch {
                headers: vec![ex.header],
            },
            far_future(),
        )
        .unwrap();
    assert!(v.becomes_best);
}

#[test]
fn every_header_byte_flip_is_rejected_by_the_client() {
    let ex = mainnet_example().unwrap();
    let client = mainnet_client_at_829999();
    let good = ex.header.encode();
    for i in 0..80 {
        for mask in [0x01u8, 0x80] {
            let mut b = good;
            b[i] ^= mask;
            let h = BlockHeader::decode(&b).unwrap();
            let e = client
                .verify_header(&HeaderBatch { headers: vec![h] }, far_future())
                .unwrap_err();
            let allowed = [
                "unknown_parent",
                "insufficient_proof_of_work",
                "negative_target",
                "overflowing_target",
                "target_above_pow_limit",
                "unexpected_difficulty_bits",
            ];
            assert!(allowed.contains(&e.name()), "byte {i} mask {mask:#x}: {e}");
        }
    }
}

#[test]
fn truncated_or_extended_headers_are_wrong_length() {
    let good = mainnet_example().unwrap().header.encode();
    for n in 0..80 {
        let e = BlockHeader::decode(&good[..n]).unwrap_err();
        assert_eq!(e.name(), "wrong_length", "{n} bytes");
    }
    let mut long = good.to_vec();
    long.push(0);
    assert_eq!(
        BlockHeader::decode(&long).unwrap_err().name(),
        "wrong_length"
    );
}

#[test]
fn every_branch_byte_flip_removal_and_duplication_is_rejected() {
    let ex = mainnet_example().unwrap();
    let root = ex.header.merkle_root;
    ex.branch.verify(&ex.txid, &root).unwrap();
    let enc = ex.branch.encode();
    assert_eq!(MerkleBranch::decode(&enc).unwrap(), ex.branch);
    for i in 0..enc.len() {
        for mask in [0x01u8, 0x10, 0x80] {
            let mut b = enc.clone();
            b[i] ^= mask;
            let res = MerkleBranch::decode(&b).and_then(|br| br.verify(&ex.txid, &root));
            assert!(res.is_err(), "byte {i} mask {mask:#x} accepted");
        }
    }
    for n in 0..enc.len() {
        assert!(MerkleBranch::decode(&enc[..n]).is_err(), "truncated to {n}");
    }
    for i in 0..ex.branch.siblings.len() {
        let mut removed = ex.branch.clone();
        removed.siblings.remove(i);
        assert_eq!(
            removed.verify(&ex.txid, &root).unwrap_err().name(),
            "branch_length_mismatch"
        );
        let mut dup = ex.branch.clone();
        dup.siblings.insert(i, ex.branch.siblings[i]);
        assert_eq!(
            dup.verify(&ex.txid, &root).unwrap_err().name(),
            "branch_length_mismatch"
        );
    }
    // The txid itself flipped.
    let mut txid = ex.txid;
    txid[0] ^= 1;
    assert!(ex.branch.verify(&txid, &root).is_err());
}

#[test]
fn every_merkleblock_byte_flip_is_rejected_or_means_the_same() {
    // A synthetic block whose merkleblock we build by hand (Core's encoding rules).
    let leaves: Vec<Hash32> = (0..7u8).map(|i| sha256d(&[i])).collect();
    let (root, _) = merkle_root(&leaves).unwrap();
    let mb = build_merkleblock(&leaves, &[2, 6], root);
    let bytes = encode_merkleblock(&mb);
    let good = verify_merkleblock(&bytes).unwrap();
    assert_eq!(
        good.matches.iter().map(|m| m.0).collect::<Vec<_>>(),
        vec![2, 6]
    );
    for i in 0..bytes.len() {
        for mask in [0x01u8, 0x80] {
            let mut b = bytes.clone();
            b[i] ^= mask;
            match verify_merkleblock(&b) {
                Err(_) => {}
                // Header fields other than the root are not covered by the tree; the client
                // then refuses the header as not on its best chain. Unused flag padding bits
                // carry no meaning. Either way the proven set must be unchanged.
                Ok(v) => {
                    assert_eq!(v.matches, good.matches, "byte {i} mask {mask:#x}");
                    assert_eq!(v.header.merkle_root, root);
                }
            }
        }
    }
    for n in 0..bytes.len() {
        assert!(verify_merkleblock(&bytes[..n]).is_err(), "truncated to {n}");
    }
    let mut extra = bytes.clone();
    extra.push(0);
    assert_eq!(
        verify_merkleblock(&extra).unwrap_err().name(),
        "trailing_bytes"
    );
}

#[test]
fn truncated_transactions_never_parse() {
    let ex = mainnet_example().unwrap();
    parse_tx(&ex.raw_tx).unwrap();
    for n in 0..ex.raw_tx.len() {
        assert!(parse_tx(&ex.raw_tx[..n]).is_err(), "truncated to {n}");
    }
    for i in 0..ex.raw_tx.len() {
        let mut b = ex.raw_tx.clone();
        b[i] ^= 0x40;
        // Either it no longer parses or it is a different transaction.
        if let Ok(t) = parse_tx(&b) {
            assert_ne!(t.wtxid, parse_tx(&ex.raw_tx).unwrap().wtxid, "byte {i}");
        }
    }
}

// ------------------------------------------------------------------- CVE-2012-2459

#[test]
fn duplicate_subtree_ambiguity_is_rejected_in_branches_trees_and_roots() {
    let mut rng = SplitMix::new(7);
    let l: Vec<Hash32> = (0..6).map(|_| rng.hash()).collect();
    // [a,b,c] and [a,b,c,c] share a root.
    let three = &l[..3];
    let four = [l[0], l[1], l[2], l[2]];
    let (r3, m3) = merkle_root(three).unwrap();
    let (r4, m4) = merkle_root(&four).unwrap();
    assert_eq!(r3, r4);
    assert!(!m3 && m4, "the padded list is reported mutated");
    // The real last node with its padding verifies; the phantom copy does not.
    let real = build_branch(three, 2).unwrap();
    real.verify(&l[2], &r3).unwrap();
    let phantom = MerkleBranch {
        tx_index: 3,
        tx_count: 4,
        siblings: real.siblings.clone(),
    };
    assert_eq!(
        phantom.verify(&l[2], &r3).unwrap_err().name(),
        "duplicate_subtree"
    );
    // The count-free check refuses the phantom position too.
    assert_eq!(
        compute_root_without_count(&l[2], &real.siblings, 3)
            .unwrap_err()
            .name(),
        "duplicate_subtree"
    );
    // A higher level: six leaves pad their third pair; eight leaves repeating the last two
    // give the same root, and a branch to leaf 7 meets the duplicate at level 1.
    let (r6, _) = merkle_root(&l).unwrap();
    let eight = [l[0], l[1], l[2], l[3], l[4], l[5], l[4], l[5]];
    assert_eq!(merkle_root(&eight).unwrap().0, r6);
    let forged = build_branch(&eight, 7).unwrap();
    assert_eq!(
        forged.verify(&l[5], &r6).unwrap_err().name(),
        "duplicate_subtree"
    );
    // A partial Merkle tree over the padded list.
    let mb = build_merkleblock(&four, &[3], r4);
    assert_eq!(
        mb.extract_matches().unwrap_err().name(),
        "duplicate_subtree"
    );
    let mb = build_merkleblock(three, &[2], r3);
    assert_eq!(mb.verify().unwrap().matches, vec![(2, l[2])]);
}

// ------------------------------------------------------------------- 64-byte transactions

/// A structurally valid 64-byte legacy transaction (1 input, 1 output with a 4-byte script).
fn tx64(rng: &mut SplitMix) -> Vec<u8> {
    let mut tx = Vec::new();
    tx.extend_from_slice(&1u32.to_le_bytes());
    tx.push(1);
    tx.extend_from_slice(&rng.hash());
    tx.extend_from_slice(&0u32.to_le_bytes());
    tx.push(0);
    tx.extend_from_slice(&u32::MAX.to_le_bytes());
    tx.push(1);
    tx.extend_from_slice(&1000u64.to_le_bytes());
    tx.push(4);
    tx.extend_from_slice(&[0x51, 0x51, 0x51, 0x51]);
    tx.extend_from_slice(&0u32.to_le_bytes());
    assert_eq!(tx.len(), 64);
    tx
}

#[test]
fn sixty_four_byte_transaction_posing_as_inner_node_is_refused() {
    let mut rng = SplitMix::new(64);
    let fake = tx64(&mut rng);
    assert!(
        parse_tx(&fake).is_ok(),
        "the 64 bytes parse as a transaction"
    );
    assert_eq!(
        txid_checked(&fake).unwrap_err().name(),
        "sixty_four_byte_transaction"
    );
    // Build a real 8-leaf tree whose leaves 2 and 3 are the two halves of the 64 bytes: the
    // inner node above them is then sha256d(fake), i.e. the "txid" of the fake.
    let mut leaves: Vec<Hash32> = (0..8).map(|_| rng.hash()).collect();
    leaves[2].copy_from_slice(&fake[..32]);
    leaves[3].copy_from_slice(&fake[32..]);
    let (root, _) = merkle_root(&leaves).unwrap();
    let fake_txid = sha256d(&fake);
    assert_eq!(fake_txid, merkle_parent(&leaves[2], &leaves[3]));
    let level1: Vec<Hash32> = leaves
        .chunks(2)
        .map(|p| merkle_parent(&p[0], &p[1]))
        .collect();
    let forged = build_branch(&level1, 1).unwrap();
    // The bare branch check cannot tell: this is the ambiguity.
    forged.verify(&fake_txid, &root).unwrap();
    // The client requires the transaction's bytes and refuses 64 of them.
    let genesis = regtest_genesis(64);
    let block = mine(
        BlockHeader {
            version: 4,
            prev_blockhash: genesis.block_hash(),
            merkle_root: root,
            time: genesis.time + 600,
            bits: Params::REGTEST.pow_limit_bits,
            nonce: 0,
        },
        &Params::REGTEST,
    );
    let mut client = BitcoinClient::new(regtest_config(1), regtest_checkpoint(genesis, 0)).unwrap();
    let v = client
        .verify_header(
            &HeaderBatch {
                headers: vec![block],
            },
            far_future(),
        )
        .unwrap();
    client.apply_header(v);
    let e = client
        .verify_membership(1, &fake_txid, &fake, &TxInclusionProof::Branch(forged))
        .unwrap_err();
    assert_eq!(e.name(), "sixty_four_byte_transaction");
}

// ------------------------------------------------------------------- difficulty and work

#[test]
fn compact_target_decoding_matches_core_including_negative_and_overflow() {
    // Bitcoin Core's arith_uint256 SetCompact/GetCompact cases.
    for bits in [
        0u32,
        0x0012_3456,
        0x0100_3456,
        0x0200_0056,
        0x0300_0000,
        0x0400_0000,
    ] {
        assert_eq!(
            decode_compact(bits).unwrap_err().name(),
            "zero_target",
            "{bits:#x}"
        );
    }
    for bits in [
        0x0092_3456u32,
        0x0180_3456,
        0x0280_0056,
        0x0380_0000,
        0x0480_0000,
    ] {
        assert_eq!(
            decode_compact(bits).unwrap_err().name(),
            "zero_target",
            "{bits:#x}"
        );
    }
    assert_eq!(decode_compact(0x0112_3456).unwrap(), U256::from(0x12u64));
    assert_eq!(encode_compact(U256::from(0x12u64)), 0x0112_0000);
    assert_eq!(
        decode_compact(0x01fe_dcba).unwrap_err().name(),
        "negative_target"
    );
    assert_eq!(decode_compact(0x0212_3456).unwrap(), U256::from(0x1234u64));
    assert_eq!(encode_compact(U256::from(0x1234u64)), 0x0212_3400);
    assert_eq!(
        decode_compact(0x0412_3456).unwrap(),
        U256::from(0x1234_5600u64)
    );
    assert_eq!(
        decode_compact(0x0492_3456).unwrap_err().name(),
        "negative_target"
    );
    assert_eq!(
        decode_compact(0x0500_9234).unwrap(),
        U256::from(0x9234_0000u64)
    );
    assert_eq!(encode_compact(U256::from(0x9234_0000u64)), 0x0500_9234);
    let big = decode_compact(0x2012_3456).unwrap();
    assert_eq!(big, U256::from(0x12_3456u64) << (8 * 29));
    assert_eq!(encode_compact(big), 0x2012_3456);
    assert_eq!(
        decode_compact(0xff12_3456).unwrap_err().name(),
        "overflowing_target"
    );
    assert_eq!(
        decode_compact(0x2301_0000).unwrap_err().name(),
        "overflowing_target"
    );
    // A target above the mainnet limit with a hash that meets it.
    let easy = mine(
        BlockHeader {
            bits: 0x207f_ffff,
            ..mainnet_example().unwrap().header
        },
        &Params::REGTEST,
    );
    assert_eq!(
        check_proof_of_work(&easy, &Params::MAINNET)
            .unwrap_err()
            .name(),
        "target_above_pow_limit"
    );
}

/// Parameters with a four-block period, so retargets happen in tests on trivial targets.
fn fast_params() -> Params {
    Params {
        pow_limit_bits: 0x207f_ffff,
        retarget_interval: 4,
        target_timespan: 4 * 600,
        target_spacing: 600,
        allow_min_difficulty_blocks: false,
        no_retargeting: false,
    }
}

fn fast_client(genesis: BlockHeader) -> BitcoinClient {
    let config = ClientConfig {
        params: fast_params(),
        ..regtest_config(3)
    };
    BitcoinClient::new(config, regtest_checkpoint(genesis, 0)).unwrap()
}

/// `n` headers on `parent` at `height_of_parent`, each `spacing` s apart, carrying the bits
/// the rules demand (computed as the client would).
fn fast_chain(
    parent: BlockHeader,
    first_time: u32,
    n: usize,
    spacing: u32,
    seed: u64,
) -> Vec<BlockHeader> {
    let p = fast_params();
    let mut rng = SplitMix::new(seed);
    let mut out: Vec<BlockHeader> = Vec::new();
    let mut chain = vec![parent];
    for k in 0..n {
        let prev = *chain.last().unwrap();
        let height = chain.len() as u64; // parent is height 0
        let bits = if height.is_multiple_of(p.retarget_interval) {
            let first = chain[chain.len() - p.retarget_interval as usize];
            junction_light_clients::bitcoin::pow::retarget(prev.bits, first.time, prev.time, &p)
                .unwrap()
        } else {
            prev.bits
        };
        let h = mine(
            BlockHeader {
                version: 4,
                prev_blockhash: prev.block_hash(),
                merkle_root: rng.hash(),
                time: first_time + spacing * k as u32,
                bits,
                nonce: 0,
            },
            &p,
        );
        out.push(h);
        chain.push(h);
    }
    out
}

#[test]
fn fork_with_more_work_wins_and_fork_with_more_blocks_but_less_work_loses() {
    let genesis = regtest_genesis(11);
    // Slow branch: 12 blocks at the easiest target (slow blocks cannot ease below the limit).
    let slow = fast_chain(genesis, genesis.time + 1200, 12, 1200, 1);
    // Fast branch: blocks 1 s apart; after the first period the target drops fourfold.
    let fast = fast_chain(genesis, genesis.time + 1, 7, 1, 2);
    assert!(fast[3].bits != genesis.bits, "the fast branch retargeted");

    let mut c = fast_client(genesis);
    let v = c
        .verify_header(
            &HeaderBatch {
                headers: slow.clone(),
            },
            far_future(),
        )
        .unwrap();
    c.apply_header(v);
    let slow_work = c.best_tip().chainwork;
    let v = c
        .verify_header(
            &HeaderBatch {
                headers: fast.clone(),
            },
            far_future(),
        )
        .unwrap();
    assert!(
        v.becomes_best,
        "7 harder blocks outweigh 12 easy ones: {} vs {slow_work}, bits {:#x} {:#x}",
        v.entries.last().unwrap().chainwork,
        fast[3].bits,
        slow[3].bits
    );
    let reorg = v.reorg.unwrap();
    assert_eq!((reorg.fork_height, reorg.disconnected), (0, 12));
    assert!(reorg.deep);
    assert!(v.entries.last().unwrap().chainwork > slow_work);

    // The other order: the longer, lighter branch does not displace the heavier one.
    let mut c = fast_client(genesis);
    let v = c
        .verify_header(
            &HeaderBatch {
                headers: fast.clone(),
            },
            far_future(),
        )
        .unwrap();
    c.apply_header(v);
    let v = c
        .verify_header(
            &HeaderBatch {
                headers: slow.clone(),
            },
            far_future(),
        )
        .unwrap();
    assert!(!v.becomes_best && v.reorg.is_none());
    c.apply_header(v);
    assert_eq!(c.best_tip().hash, fast.last().unwrap().block_hash());
    assert_eq!(c.latest_height(), 7);
}

#[test]
fn forged_retarget_and_insufficient_work_are_rejected_by_kind() {
    let genesis = regtest_genesis(12);
    let fast = fast_chain(genesis, genesis.time + 1, 4, 1, 3);
    let mut c = fast_client(genesis);
    let v = c
        .verify_header(
            &HeaderBatch {
                headers: fast[..3].to_vec(),
            },
            far_future(),
        )
        .unwrap();
    c.apply_header(v);
    // At the boundary the rules demand a 4x harder target; keeping the easy bits is forged.
    let forged = mine(
        BlockHeader {
            bits: fast[2].bits,
            ..fast[3]
        },
        &fast_params(),
    );
    let e = c
        .verify_header(
            &HeaderBatch {
                headers: vec![forged],
            },
            far_future(),
        )
        .unwrap_err();
    assert_eq!(e.name(), "unexpected_difficulty_bits", "{e}");
    // The right bits but a nonce whose hash misses the target.
    let mut weak = fast[3];
    let target = decode_compact(weak.bits).unwrap();
    weak.nonce = (0..)
        .find(|n| {
            let h = BlockHeader { nonce: *n, ..weak };
            U256::from_le_bytes(h.block_hash()) > target
        })
        .unwrap();
    let e = c
        .verify_header(
            &HeaderBatch {
                headers: vec![weak],
            },
            far_future(),
        )
        .unwrap_err();
    assert_eq!(e.name(), "insufficient_proof_of_work");
    // Off a boundary, changing bits at all is forged too.
    let mut c2 = fast_client(genesis);
    let off = mine(
        BlockHeader {
            bits: 0x2000_ffff,
            ..fast[0]
        },
        &fast_params(),
    );
    let e = c2
        .verify_header(&HeaderBatch { headers: vec![off] }, far_future())
        .unwrap_err();
    assert_eq!(e.name(), "unexpected_difficulty_bits");
    // The honest header is accepted.
    let v = c
        .verify_header(
            &HeaderBatch {
                headers: vec![fast[3]],
            },
            far_future(),
        )
        .unwrap();
    c.apply_header(v);
    c2.apply_header(
        c2.verify_header(
            &HeaderBatch {
                headers: vec![fast[0]],
            },
            far_future(),
        )
        .unwrap(),
    );
}

#[test]
fn median_time_past_and_future_time_rules() {
    let genesis = regtest_genesis(13);
    let chain = regtest_extend(&genesis, 11, 600, 5);
    let mut c = BitcoinClient::new(regtest_config(1), regtest_checkpoint(genesis, 0)).unwrap();
    c.apply_header(
        c.verify_header(
            &HeaderBatch {
                headers: chain.clone(),
            },
            far_future(),
        )
        .unwrap(),
    );
    let tip = *chain.last().unwrap();
    let median = c.best_tip().median_time_past();
    assert_eq!(median, chain[5].time);
    let at_median = mine(
        BlockHeader {
            prev_blockhash: tip.block_hash(),
            time: median,
            ..tip
        },
        &Params::REGTEST,
    );
    let e = c
        .verify_header(
            &HeaderBatch {
                headers: vec![at_median],
            },
            far_future(),
        )
        .unwrap_err();
    assert_eq!(e.name(), "time_not_after_median_time_past");
    let after = mine(
        BlockHeader {
            time: median + 1,
            ..at_median
        },
        &Params::REGTEST,
    );
    c.verify_header(
        &HeaderBatch {
            headers: vec![after],
        },
        far_future(),
    )
    .unwrap();
    let now = junction_light_clients::Timestamp::from_secs(u64::from(tip.time));
    let future = mine(
        BlockHeader {
            time: tip.time + 7201,
            ..at_median
        },
        &Params::REGTEST,
    );
    let e = c
        .verify_header(
            &HeaderBatch {
                headers: vec![future],
            },
            now,
        )
        .unwrap_err();
    assert_eq!(e.name(), "time_too_far_in_future");
}

// ------------------------------------------------------------------- client behaviour

#[test]
fn low_confirmations_are_refused_until_the_block_is_buried() {
    let genesis = regtest_genesis(21);
    let (raw, txid, proof, root) = synthetic_block(21, 13, 12).unwrap();
    let block = mine(
        BlockHeader {
            version: 4,
            prev_blockhash: genesis.block_hash(),
            merkle_root: root,
            time: genesis.time + 600,
            bits: Params::REGTEST.pow_limit_bits,
            nonce: 0,
        },
        &Params::REGTEST,
    );
    let mut c = BitcoinClient::new(regtest_config(6), regtest_checkpoint(genesis, 0)).unwrap();
    c.apply_header(
        c.verify_header(
            &HeaderBatch {
                headers: vec![block],
            },
            far_future(),
        )
        .unwrap(),
    );
    let mut prev = block;
    for confs in 1..=6u64 {
        let res = c.verify_membership(1, &txid, &raw, &proof);
        if confs < 6 {
            let e = res.unwrap_err();
            assert_eq!(
                e,
                junction_light_clients::bitcoin::BitcoinError::InsufficientConfirmations {
                    got: confs,
                    need: 6
                }
            );
            let next = regtest_extend(&prev, 1, 600, confs);
            prev = next[0];
            c.apply_header(
                c.verify_header(&HeaderBatch { headers: next }, far_future())
                    .unwrap(),
            );
        } else {
            res.unwrap();
        }
    }
    // Unknown heights and misbehaviour are named.
    assert_eq!(
        c.verify_membership(99, &txid, &raw, &proof)
            .unwrap_err()
            .name(),
        "unknown_height"
    );
    assert_eq!(
        c.verify_misbehaviour(&(), far_future()).unwrap_err().name(),
        "misbehaviour_not_applicable"
    );
}

#[test]
fn reorg_deeper_than_confirmation_depth_is_reported_and_freezes() {
    let confirmations = 3;
    let genesis = regtest_genesis(31);
    let main = regtest_extend(&genesis, 5, 600, 100);
    // Shallow: a 2-block rival to the last block (disconnects 1 < 3).
    let mut c = BitcoinClient::new(
        regtest_config(confirmations),
        regtest_checkpoint(genesis, 0),
    )
    .unwrap();
    c.apply_header(
        c.verify_header(
            &HeaderBatch {
                headers: main.clone(),
            },
            far_future(),
        )
        .unwrap(),
    );
    let rival = regtest_extend(&main[3], 2, 601, 200);
    let v = c
        .verify_header(
            &HeaderBatch {
                headers: rival.clone(),
            },
            far_future(),
        )
        .unwrap();
    let r = v.reorg.unwrap();
    assert_eq!((r.fork_height, r.disconnected, r.deep), (4, 1, false));
    c.apply_header(v);
    assert_eq!(c.status(far_future()), ClientStatus::Active);
    assert_eq!(c.latest_height(), 6);
    assert_eq!(c.best_at(5).unwrap().hash, rival[0].block_hash());

    // Deep: a rival from height 1 with more work disconnects 4 ≥ 3 blocks.
    let mut c = BitcoinClient::new(
        regtest_config(confirmations),
        regtest_checkpoint(genesis, 0),
    )
    .unwrap();
    c.apply_header(
        c.verify_header(
            &HeaderBatch {
                headers: main.clone(),
            },
            far_future(),
        )
        .unwrap(),
    );
    let deep = regtest_extend(&main[0], 5, 599, 300);
    let v = c
        .verify_header(
            &HeaderBatch {
                headers: deep.clone(),
            },
            far_future(),
        )
        .unwrap();
    let r = v.reorg.unwrap();
    assert_eq!((r.fork_height, r.disconnected, r.deep), (1, 4, true));
    c.apply_header(v);
    assert_eq!(c.status(far_future()), ClientStatus::Frozen { height: 2 });
    assert_eq!(c.last_deep_reorg().unwrap().disconnected, 4);
    let more = regtest_extend(deep.last().unwrap(), 1, 600, 400);
    assert_eq!(
        c.verify_header(&HeaderBatch { headers: more }, far_future())
            .unwrap_err()
            .name(),
        "frozen"
    );
}

#[test]
fn batches_must_attach_link_and_stay_bounded_and_the_window_prunes() {
    let mut c = regtest_client(41, 30, 2).unwrap();
    assert_eq!(c.latest_height(), 30);
    let tip = c.best_tip().header;
    // Unknown parent.
    let orphan = regtest_extend(&regtest_genesis(999), 1, 600, 1);
    assert_eq!(
        c.verify_header(&HeaderBatch { headers: orphan }, far_future())
            .unwrap_err()
            .name(),
        "unknown_parent"
    );
    // Broken link inside a batch.
    let mut two = regtest_extend(&tip, 2, 600, 2);
    two[1].prev_blockhash[0] ^= 1;
    let two = vec![two[0], mine(two[1], &Params::REGTEST)];
    assert_eq!(
        c.verify_header(&HeaderBatch { headers: two }, far_future())
            .unwrap_err()
            .name(),
        "broken_link"
    );
    // Empty and oversize batches.
    assert_eq!(
        c.verify_header(&HeaderBatch { headers: vec![] }, far_future())
            .unwrap_err()
            .name(),
        "empty_batch"
    );
    let mut small = *c.config();
    small.max_batch = 3;
    let genesis = regtest_genesis(42);
    let c2 = BitcoinClient::new(small, regtest_checkpoint(genesis, 0)).unwrap();
    let four = regtest_extend(&genesis, 4, 600, 3);
    assert_eq!(
        c2.verify_header(&HeaderBatch { headers: four }, far_future())
            .unwrap_err()
            .name(),
        "limit_exceeded"
    );
    // Window: keep only `window` headers below the tip.
    let mut cfg = regtest_config(2);
    cfg.window = 10;
    let mut c3 = BitcoinClient::new(cfg, regtest_checkpoint(genesis, 0)).unwrap();
    let chain = regtest_extend(&genesis, 40, 600, 4);
    for chunk in chain.chunks(7) {
        c3.apply_header(
            c3.verify_header(
                &HeaderBatch {
                    headers: chunk.to_vec(),
                },
                far_future(),
            )
            .unwrap(),
        );
    }
    assert_eq!(c3.latest_height(), 40);
    assert_eq!(c3.stored_len(), 11);
    assert!(c3.best_at(29).is_none() && c3.best_at(30).is_some());
    // A fork off a pruned header is refused as unknown.
    let late = regtest_extend(&chain[5], 50, 599, 5);
    assert_eq!(
        c3.verify_header(&HeaderBatch { headers: late }, far_future())
            .unwrap_err()
            .name(),
        "unknown_parent"
    );
    // Duplicates are named.
    c.apply_header(
        c.verify_header(
            &HeaderBatch {
                headers: regtest_extend(&tip, 1, 600, 9),
            },
            far_future(),
        )
        .unwrap(),
    );
    assert_eq!(
        c.verify_header(
            &HeaderBatch {
                headers: regtest_extend(&tip, 1, 600, 9)
            },
            far_future()
        )
        .unwrap_err()
        .name(),
        "duplicate_header"
    );
}

#[test]
fn generated_blocks_of_many_sizes_prove_every_position() {
    for count in 1..=40u32 {
        for index in 0..count {
            let (raw, txid, proof, root) = synthetic_block(u64::from(count), count, index).unwrap();
            assert_eq!(txid_checked(&raw).unwrap(), txid);
            let TxInclusionProof::Branch(b) = proof else {
                unreachable!()
            };
            b.verify(&txid, &root)
                .unwrap_or_else(|e| panic!("count {count} index {index}: {e}"));
            // The same branch claimed for a neighbouring position fails.
            if index + 1 < count {
                let moved = MerkleBranch {
                    tx_index: index + 1,
                    ..b.clone()
                };
                assert!(
                    moved.verify(&txid, &root).is_err(),
                    "count {count} index {index}+1"
                );
            }
        }
    }
}

// ------------------------------------------------------------------- helpers

/// Builds a BIP37 partial tree the way Core's `CPartialMerkleTree` constructor does.
fn build_merkleblock(leaves: &[Hash32], matched: &[u32], root: Hash32) -> MerkleBlock {
    let n = leaves.len() as u32;
    let width = |h: usize| (u64::from(n) + (1u64 << h) - 1) >> h;
    fn node(leaves: &[Hash32], h: usize, pos: u64, width: &dyn Fn(usize) -> u64) -> Hash32 {
        if h == 0 {
            return leaves[pos as usize];
        }
        let l = node(leaves, h - 1, pos * 2, width);
        let r = if pos * 2 + 1 < width(h - 1) {
            node(leaves, h - 1, pos * 2 + 1, width)
        } else {
            l
        };
        merkle_parent(&l, &r)
    }
    let mut height = 0;
    while width(height) > 1 {
        height += 1;
    }
    let mut bits = Vec::new();
    let mut hashes = Vec::new();
    #[allow(clippy::too_many_arguments)]
    fn walk(
        leaves: &[Hash32],
        matched: &[u32],
        h: usize,
        pos: u64,
        width: &dyn Fn(usize) -> u64,
        bits: &mut Vec<bool>,
        hashes: &mut Vec<Hash32>,
    ) {
        let lo = pos << h;
        let hi = ((pos + 1) << h).min(leaves.len() as u64);
        let parent_of_match = (lo..hi).any(|i| matched.contains(&(i as u32)));
        bits.push(parent_of_match);
        if h == 0 || !parent_of_match {
            hashes.push(node(leaves, h, pos, width));
        } else {
            walk(leaves, matched, h - 1, pos * 2, width, bits, hashes);
            if pos * 2 + 1 < width(h - 1) {
                walk(leaves, matched, h - 1, pos * 2 + 1, width, bits, hashes);
            }
        }
    }
    walk(leaves, matched, height, 0, &width, &mut bits, &mut hashes);
    let mut flags = vec![0u8; bits.len().div_ceil(8)];
    for (i, b) in bits.iter().enumerate() {
        if *b {
            flags[i / 8] |= 1 << (i % 8);
        }
    }
    let header = BlockHeader {
        version: 4,
        prev_blockhash: [0; 32],
        merkle_root: root,
        time: 0,
        bits: 0x207f_ffff,
        nonce: 0,
    };
    MerkleBlock {
        header,
        tx_count: n,
        hashes,
        flags,
    }
}

fn encode_merkleblock(mb: &MerkleBlock) -> Vec<u8> {
    let mut out = mb.header.encode().to_vec();
    out.extend_from_slice(&mb.tx_count.to_le_bytes());
    assert!(mb.hashes.len() < 0xfd && mb.flags.len() < 0xfd);
    out.push(mb.hashes.len() as u8);
    for h in &mb.hashes {
        out.extend_from_slice(h);
    }
    out.push(mb.flags.len() as u8);
    out.extend_from_slice(&mb.flags);
    out
}
