//! Property tests of the RFC 6962 log on larger random trees and arbitrary input.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use junction_spec::merkle::{
    consistency_proof, inclusion_proof, leaf_hash, root_from_leaf_hashes, verify_consistency,
    verify_inclusion, MerkleFrontier,
};
use junction_spec::{Decode, Encode, Hash32};
use proptest::collection::vec;
use proptest::prelude::*;

fn leaves(n: u64) -> Vec<Hash32> {
    (0..n).map(|i| leaf_hash(&i.to_le_bytes())).collect()
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 64,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    // Generated proofs verify in random trees of up to 2000 leaves.
    #[test]
    fn generated_proofs_verify(n in 1u64..2000, a in any::<prop::sample::Index>(), b in any::<prop::sample::Index>()) {
        let l = leaves(n);
        let root = root_from_leaf_hashes(&l);
        let index = a.index(l.len()) as u64;
        let proof = inclusion_proof(&l, index).unwrap();
        prop_assert!(verify_inclusion(&l[index as usize], index, n, &proof, &root).is_ok());
        let old = b.index(l.len()) as u64 + 1;
        let old_root = root_from_leaf_hashes(&l[..old as usize]);
        let proof = consistency_proof(&l, old).unwrap();
        prop_assert!(verify_consistency(old, n, &old_root, &root, &proof).is_ok());
        prop_assert_eq!(MerkleFrontier::from_leaf_hashes(&l).root(), root);
    }

    // Verifiers never panic, whatever the sizes, indices and proofs.
    #[test]
    fn verifiers_never_panic(
        a in any::<u64>(), b in any::<u64>(), small in 0u64..70,
        proof in vec(any::<[u8; 32]>(), 0..70), x in any::<[u8; 32]>(), y in any::<[u8; 32]>(),
    ) {
        for (i, s) in [(a, b), (small, b), (a, small), (small, small.saturating_add(1))] {
            let _ = verify_inclusion(&x, i, s, &proof, &y);
            let _ = verify_consistency(i, s, &x, &y, &proof);
        }
    }

    // A frontier decodes only with popcount(size) roots.
    #[test]
    fn frontier_decoding_checks_the_count(size in any::<u64>(), count in 0u32..70) {
        let mut bytes = size.to_be_bytes().to_vec();
        bytes.extend_from_slice(&count.to_be_bytes());
        bytes.extend(std::iter::repeat_n(7u8, 32 * count as usize));
        let got = MerkleFrontier::from_bytes(&bytes);
        prop_assert_eq!(got.is_ok(), count == size.count_ones());
        if let Ok(f) = got {
            prop_assert_eq!(f.to_bytes(), bytes);
        }
    }
}
