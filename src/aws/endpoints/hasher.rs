//! A small, fast hasher for the catalogue's string-keyed maps.
//!
//! The catalogue's keys are fixed at build time and lookups never insert, so hash flooding cannot
//! degrade it; SipHash's protection is not needed and its cost showed in the catalogue parse time.
//! Used only by [`super::catalogue`].

use std::hash::{BuildHasherDefault, Hasher};

/// Multiply-rotate hashing over 8-byte words (the FxHash scheme).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct WordHasher(u64);

/// Builds [`WordHasher`]s for `HashMap`/`HashSet`.
pub(crate) type BuildWordHasher = BuildHasherDefault<WordHasher>;

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl WordHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for WordHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let mut word = [0u8; 8];
        for (slot, byte) in word.iter_mut().zip(chunks.remainder()) {
            *slot = *byte;
        }
        self.add(u64::from_le_bytes(word) ^ ((bytes.len() as u64) << 56));
    }

    fn write_u8(&mut self, n: u8) {
        self.add(u64::from(n));
    }

    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::{BuildHasher, Hash};

    fn hash<T: Hash>(value: T) -> u64 {
        BuildWordHasher::default().hash_one(value)
    }

    #[test]
    fn distinct_hosts_hash_apart() {
        assert_ne!(
            hash("sqs.us-east-1.amazonaws.com"),
            hash("sqs.us-east-2.amazonaws.com")
        );
        assert_ne!(hash("a"), hash("a\0"));
        assert_ne!(hash(""), hash("\0"));
    }

    #[test]
    fn equal_strings_hash_alike() {
        let owned = String::from("sqs.us-east-1.amazonaws.com");
        assert_eq!(hash(owned.as_str()), hash("sqs.us-east-1.amazonaws.com"));
    }
}
