//! Which state keys the store may hold: a Bloom filter over the keys' tree hashes, kept in
//! memory beside the store. Most state reads of a busy hub are of keys never written (the
//! record of a packet not yet received, read at admission and again in its block); the
//! filter answers those without a walk down the state tree, whose lower nodes are mostly
//! outside the page cache once the state is large.
//!
//! A "no" must be true at every height a reader can see, so the store adds a block's new
//! keys before the block's write transaction commits: a snapshot opened after the commit
//! finds them here. A "maybe" only sends the read on to the store. The filter grows in
//! levels of doubling capacity, so neither its false-positive rate nor the cost of adding a
//! key grows with the state; the store rebuilds it from the keys each version wrote
//! (`state_tree_version_keys`) when it opens.

use std::sync::RwLock;

use junction_spec::Hash32;

/// Keys the first level holds at its false-positive rate.
const FIRST_LEVEL_KEYS: usize = 1 << 20;
/// Filter bits per key a level is sized for.
const BITS_PER_KEY: usize = 12;
/// Bits set per key. With 12 bits per key, about 0.3 % of absent keys read as "maybe".
const PROBES: u64 = 8;

#[derive(Debug)]
pub(crate) struct Level {
    bits: Vec<u64>,
    /// Bit count minus one (the count is a power of two).
    mask: u64,
    keys: usize,
    capacity: usize,
}

impl Level {
    fn new(capacity: usize) -> Self {
        let bit_count = (capacity * BITS_PER_KEY).next_power_of_two().max(64);
        Self {
            bits: vec![0; bit_count / 64],
            mask: bit_count as u64 - 1,
            keys: 0,
            capacity,
        }
    }

    fn insert(&mut self, key_hash: &Hash32) {
        for p in probes(self.mask, key_hash) {
            if let Some(w) = self.bits.get_mut((p / 64) as usize) {
                *w |= 1 << (p % 64);
            }
        }
        self.keys += 1;
    }

    fn may_contain(&self, key_hash: &Hash32) -> bool {
        probes(self.mask, key_hash).all(|p| {
            self.bits
                .get((p / 64) as usize)
                .is_some_and(|w| w & (1 << (p % 64)) != 0)
        })
    }
}

/// The bit positions of a key in a level of `mask + 1` bits: a tree key hash is already
/// uniform, so two of its words give every probe (double hashing) without hashing again.
fn probes(mask: u64, key_hash: &Hash32) -> impl Iterator<Item = u64> {
    let word = |i: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&key_hash[i * 8..i * 8 + 8]);
        u64::from_le_bytes(w)
    };
    let (a, b) = (word(0), word(1) | 1);
    (0..PROBES).map(move |i| a.wrapping_add(i.wrapping_mul(b)) & mask)
}

/// The filter. `Disabled` answers "maybe" for every key: a store whose keys are not all in
/// its value rows (see [`crate::store_tree::rows_name_every_key`]) cannot be scanned for
/// them.
#[derive(Debug)]
pub(crate) enum KeyFilter {
    Enabled(RwLock<Vec<Level>>),
    Disabled,
}

impl KeyFilter {
    /// An empty filter.
    pub(crate) fn new() -> Self {
        Self::Enabled(RwLock::new(vec![Level::new(FIRST_LEVEL_KEYS)]))
    }

    /// Whether the store may hold the key with this tree hash (`false`: it holds none).
    pub(crate) fn may_contain(&self, key_hash: &Hash32) -> bool {
        match self {
            Self::Disabled => true,
            Self::Enabled(levels) => match levels.read() {
                Ok(levels) => levels.iter().any(|l| l.may_contain(key_hash)),
                // A writer panicked mid-insert: the bits may be short, so every answer
                // is "maybe" from here on.
                Err(_) => true,
            },
        }
    }

    /// Adds keys about to be written.
    pub(crate) fn insert<'a>(&self, key_hashes: impl IntoIterator<Item = &'a Hash32>) {
        let Self::Enabled(levels) = self else {
            return;
        };
        let Ok(mut levels) = levels.write() else {
            return;
        };
        for kh in key_hashes {
            let full = levels.last().is_none_or(|l| l.keys >= l.capacity);
            if full {
                let capacity = levels
                    .last()
                    .map_or(FIRST_LEVEL_KEYS, |l| l.capacity.saturating_mul(2));
                levels.push(Level::new(capacity));
            }
            if let Some(level) = levels.last_mut() {
                level.insert(kh);
            }
        }
    }

    /// Bytes the filter's bits take.
    #[cfg(test)]
    pub(crate) fn bytes(&self) -> usize {
        match self {
            Self::Disabled => 0,
            Self::Enabled(levels) => levels
                .read()
                .map_or(0, |l| l.iter().map(|l| l.bits.len() * 8).sum()),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn key(i: u64) -> Hash32 {
        junction_state_tree::key_hash(&i.to_be_bytes()).0
    }

    #[test]
    fn every_added_key_may_be_there_and_few_others_seem_to_be() {
        let f = KeyFilter::new();
        let added: Vec<Hash32> = (0..100_000).map(key).collect();
        f.insert(&added);
        assert!(added.iter().all(|k| f.may_contain(k)));
        let seem = (100_000..200_000)
            .filter(|i| f.may_contain(&key(*i)))
            .count();
        // Sized for a million keys, a tenth full: well under the 0.3 % it is built for.
        assert!(seem < 300, "{seem} of 100,000 absent keys read as maybe");
    }

    #[test]
    fn past_a_levels_capacity_a_larger_level_keeps_the_rate() {
        let f = KeyFilter::new();
        let n = FIRST_LEVEL_KEYS as u64 * 3 / 2;
        let added: Vec<Hash32> = (0..n).map(key).collect();
        f.insert(&added);
        assert!(added.iter().all(|k| f.may_contain(k)));
        let seem = (n..n + 100_000).filter(|i| f.may_contain(&key(*i))).count();
        assert!(seem < 1_000, "{seem} of 100,000 absent keys read as maybe");
        // Two levels: the first full (12 bits per key, rounded to a power of two) and one
        // of twice its capacity.
        assert_eq!(f.bytes(), (2 << 20) + (4 << 20));
    }

    #[test]
    fn a_disabled_filter_says_maybe_to_everything() {
        let f = KeyFilter::Disabled;
        f.insert(&[key(1)]);
        assert!(f.may_contain(&key(2)));
    }
}
