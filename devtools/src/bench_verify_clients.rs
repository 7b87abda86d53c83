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
    println!("hub clients (the hub's handlers of UpdateClient and RecvPacket proofs, on fixture ledgers):");
    for kind in ["tendermint", "fabric", "bitcoin"] {
        hub_client(kind, budget, f)?;
    }
    Ok(())
}

/// One fixture ledger's header update and packet proof through the hub's client of its
/// kind (`AnyClient`, what a relayer's `UpdateClient` and `RecvPacket` run): the update
/// applied to a copy of the client each time (the copy is timed too), the proof checked
/// at a height three blocks above the packet's.
fn hub_client(kind: &str, budget: Budget, f: &Floors) -> eyre::Result<()> {
    use crate::fixture_ledger::{FixtureLedger, FixtureSpec};
    use junction_hub_app::clients::{AnyClient, PacketSlot};
    use junction_light_clients::Timestamp;
    use junction_spec::{ChainId, Encode, Packet, Timeout};
    let app = if kind == "bitcoin" {
        bitcoin::testkit::app_script(7)
    } else {
        b"bench-app".to_vec()
    };
    let packet = Packet {
        version: Packet::VERSION,
        source_chain: ChainId::new("bench-fx").map_err(|e| eyre!("{e}"))?,
        source_app: app.clone(),
        sequence: 1,
        dest_chain: ChainId::new("evm-a").map_err(|e| eyre!("{e}"))?,
        dest_app: vec![2; 20],
        payload: vec![7; 96],
        timeout: Timeout::default(),
        gas_limit: 100_000,
        fee: 0,
    };
    let spec = FixtureSpec {
        kind: kind.into(),
        chain: "bench-fx".into(),
        seed: 7,
        block_ms: 1_000,
        packets: vec![hex::encode(packet.to_bytes())],
    };
    let mut ledger = FixtureLedger::new(&spec)?.grown(10);
    let reg = ledger.registration(3)?;
    let now = Timestamp::from_millis(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_err(|e| eyre!("{e}"))?
            .as_millis() as u64,
    );
    let mut client = AnyClient::from_registration(&reg).map_err(|e| eyre!("{e:?}"))?;
    let proof_height = ledger.packet_height(0) + 3;
    for h in ledger.root_height() + 1..proof_height {
        client
            .update(&ledger.update_at(h)?, now)
            .map_err(|e| eyre!("{kind} update {h}: {e:?}"))?;
    }
    let next = ledger.update_at(proof_height)?;
    let update_ops = measure(budget, || {
        let mut c = client.clone();
        c.update(std::hint::black_box(&next), now)
            .map_err(|e| eyre!("{kind} update must apply: {e:?}"))?;
        Ok(1)
    })?;
    client
        .update(&next, now)
        .map_err(|e| eyre!("{kind} update {proof_height}: {e:?}"))?;
    let (height, proof) = ledger.commitment_proof(packet.key().hash(), proof_height)?;
    let (key, hash) = (packet.key().hash(), packet.hash());
    let proof_ops = measure(budget, || {
        client
            .verify_packet_slot(
                height,
                std::hint::black_box(&proof),
                PacketSlot::Commitment,
                &key,
                Some(&hash),
                &app,
            )
            .map_err(|e| eyre!("{kind} proof must verify: {e:?}"))?;
        Ok(1)
    })?;
    let (update_floor, proof_floor) = match kind {
        "tendermint" => (
            format!(
                "4 ed25519 signatures in a batch: {}/s",
                format_rate(f.ed25519_batch64 / 4.0)
            ),
            format!("ICS-23, {} proof bytes", proof.len()),
        ),
        // Every Fabric signature is checked with its certificate's chain to the MSP root:
        // two P-256 verifications each.
        "fabric" => (
            format!(
                "2 orderer signatures and their certificates (4 P-256: {}/s)",
                format_rate(f.p256_verify / 4.0)
            ),
            format!(
                "creator, 2 endorsements, 2 attestations and their certificates (10 P-256: {}/s), {} proof bytes",
                format_rate(f.p256_verify / 10.0),
                proof.len()
            ),
        ),
        _ => (
            format!(
                "1 header, double SHA-256 (2 SHA-256 of 65 bytes: {}/s)",
                format_rate(f.sha256_65 / 2.0)
            ),
            format!("SPV branch and 2 txids, {} proof bytes", proof.len()),
        ),
    };
    print_row(
        &format!("hub {kind} UpdateClient (one header)"),
        update_ops,
        &update_floor,
    );
    print_row(
        &format!("hub {kind} RecvPacket proof"),
        proof_ops,
        &proof_floor,
    );
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
