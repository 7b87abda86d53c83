//! The light-client rows of `junction bench verify`: each verifier on inputs from its
//! crate's testkit, beside the primitive it stands on and, where one exists, the reference
//! implementation timed on the identical input.

use eyre::eyre;

use junction_light_clients::{bitcoin, evm, fabric, hub, tendermint};
use junction_spec::merkle::{leaf_hash, verify_inclusion};

use crate::bench_measure::{format_rate, measure, print_row, Budget, Floors};

fn pct(part: f64, whole: f64) -> String {
    if whole > 0.0 {
        format!("{:.0} %", part * 100.0 / whole)
    } else {
        "n/a".into()
    }
}

/// Measures every light-client verification and prints it beside its floor.
pub fn run(budget: Budget, f: &Floors) -> eyre::Result<()> {
    println!("verifiers:");
    rfc6962(budget, f)?;
    mpt(budget, f)?;
    tendermint_commits(budget, f)?;
    qbft(budget, f)?;
    bitcoin_spv(budget, f)?;
    fabric_endorsement(budget, f)?;
    Ok(())
}

fn rfc6962(budget: Budget, f: &Floors) -> eyre::Result<()> {
    const SIZE: u64 = 1 << 20;
    let index = 700_001;
    let (root, entry, proof) = hub::testkit::synthetic_inclusion(SIZE, index, 1)
        .ok_or_else(|| eyre!("no synthetic inclusion proof"))?;
    let ops = measure(budget, || {
        let leaf = leaf_hash(std::hint::black_box(&entry));
        verify_inclusion(&leaf, index, SIZE, &proof, &root)
            .map_err(|e| eyre!("RFC 6962 inclusion must verify: {e}"))?;
        Ok(1)
    })?;
    // One leaf hash plus one 65-byte node hash per proof step.
    let ceiling = f.sha256_65 / (proof.len() as f64 + 1.0);
    print_row(
        "RFC 6962 inclusion, 2^20 leaves",
        ops,
        &format!(
            "{} of the SHA-256 floor ({} hashes: {}/s)",
            pct(ops, ceiling),
            proof.len() + 1,
            format_rate(ceiling)
        ),
    );
    Ok(())
}

fn mpt(budget: Budget, f: &Floors) -> eyre::Result<()> {
    use evm::mpt::{check_storage, check_storage_with_alloy, testkit::storage_fixture};
    let fx = storage_fixture(1, 10_000, 1_234);
    let nodes = fx.proof.len();
    let bytes: usize = fx.proof.iter().map(|n| n.len()).sum();
    let ours = measure(budget, || {
        check_storage(&fx.storage_root, &fx.slot, &fx.value, &fx.proof)
            .map_err(|e| eyre!("MPT storage proof must verify: {e}"))?;
        Ok(1)
    })?;
    let alloy = measure(budget, || {
        check_storage_with_alloy(&fx.storage_root, &fx.slot, &fx.value, &fx.proof)
            .map_err(|e| eyre!("alloy-trie must verify the same proof: {e}"))?;
        Ok(1)
    })?;
    print_row(
        &format!("MPT storage proof, ours ({nodes} nodes, {bytes} B)"),
        ours,
        &format!(
            "time {:.2}x alloy-trie's; keccak floor ~{} nodes/s of 532 B",
            alloy / ours,
            format_rate(f.keccak_532)
        ),
    );
    print_row(
        "MPT storage proof, alloy-trie verify_proof",
        alloy,
        "reference, same input",
    );
    Ok(())
}

fn tendermint_commits(budget: Budget, f: &Floors) -> eyre::Result<()> {
    use tendermint::testkit::{light_block, verify_commit_batch, verify_commit_reference};
    let time = junction_light_clients::Timestamp::from_secs(1_700_000_000);
    for n in [4usize, 150] {
        let block = light_block("bench-chain", 10, time, n, 7)
            .map_err(|e| eyre!("light block with {n} validators: {e}"))?;
        let ours = measure(budget, || {
            verify_commit_batch(&block).map_err(|e| eyre!("commit must verify: {e}"))?;
            Ok(1)
        })?;
        let reference = measure(budget, || {
            verify_commit_reference(&block)
                .map_err(|e| eyre!("reference must verify the commit: {e}"))?;
            Ok(1)
        })?;
        // The reference stops once more than 2/3 of the power has signed.
        let checked = n * 2 / 3 + 1;
        print_row(
            &format!("Tendermint commit, {n} validators, ours (batch)"),
            ours,
            &format!(
                "time {:.2}x the reference's; floor {}/s ({checked} sigs in batches)",
                reference / ours,
                format_rate(f.ed25519_batch64 / checked as f64)
            ),
        );
        print_row(
            &format!("Tendermint commit, {n} validators, reference"),
            reference,
            &format!(
                "tendermint-light-client-verifier; floor {}/s ({checked} single sigs)",
                format_rate(f.ed25519_single / checked as f64)
            ),
        );
    }
    Ok(())
}

fn qbft(budget: Budget, f: &Floors) -> eyre::Result<()> {
    use evm::qbft::testkit::{addresses, sealed_header, validator_keys};
    use evm::qbft::verify_sealed_header;
    for n in [4usize, 21] {
        let rlp = sealed_header(n, 1, [0u8; 32], 1_700_000_000);
        let validators = addresses(&validator_keys(n));
        let ops = measure(budget, || {
            verify_sealed_header(&rlp, &validators)
                .map_err(|e| eyre!("QBFT header must verify: {e}"))?;
            Ok(1)
        })?;
        let ceiling = f.secp256k1_recover / n as f64;
        print_row(
            &format!("QBFT header, {n} validators ({n} seals)"),
            ops,
            &format!(
                "{} of the secp256k1 floor ({n} recoveries: {}/s)",
                pct(ops, ceiling),
                format_rate(ceiling)
            ),
        );
    }
    Ok(())
}

fn bitcoin_spv(budget: Budget, f: &Floors) -> eyre::Result<()> {
    use bitcoin::testkit::{mainnet_example, verify_header_and_branch};
    let ex = mainnet_example().map_err(|e| eyre!("embedded mainnet example: {e}"))?;
    let levels = ex.branch.siblings.len();
    let ops = measure(budget, || {
        verify_header_and_branch(&ex).map_err(|e| eyre!("block 830000 must verify: {e}"))?;
        Ok(1)
    })?;
    print_row(
        &format!("Bitcoin header + PoW + Merkle branch ({levels} levels)"),
        ops,
        &format!(
            "double SHA-256 of header, tx and {levels} nodes; SHA-256 floor {}/s (65 B)",
            format_rate(f.sha256_65)
        ),
    );
    Ok(())
}

fn fabric_endorsement(budget: Budget, f: &Floors) -> eyre::Result<()> {
    use fabric::testkit::{endorsement_case, verify_endorsement_case};
    let case = endorsement_case(3).map_err(|e| eyre!("endorsement case: {e}"))?;
    let ops = measure(budget, || {
        verify_endorsement_case(&case).map_err(|e| eyre!("endorsement must verify: {e}"))?;
        Ok(1)
    })?;
    let ceiling = f.p256_verify / 2.0;
    print_row(
        "Fabric endorsement (signature + cert chain)",
        ops,
        &format!(
            "{} of the P-256 floor (2 verifications: {}/s)",
            pct(ops, ceiling),
            format_rate(ceiling)
        ),
    );
    Ok(())
}
