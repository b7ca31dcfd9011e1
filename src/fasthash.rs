//! A small, fast, unkeyed hasher for the core's internal maps and sets: each 8-byte word is mixed
//! in with one 64×64→128-bit multiply whose halves are folded together (the "folded multiply" of
//! wyhash and foldhash). rustc's classic `FxHasher` (rotate, xor, multiply) was tried first and is not
//! enough here: its multiply only carries differences upwards, so keys that differ in one byte at
//! the end of a word — IPv4 addresses like `10.0.1.2` / `10.0.2.1` — collide outright (see the
//! tests).
//!
//! The standard library's `SipHash` is keyed against hash flooding and costs several times more per
//! key; the maps here are keyed by strings of one payload, and a payload comes from an
//! authenticated sender and is bounded in size, so the cheaper hash is used on the hot paths
//! (policy dedup, STIX id lookups, item keys).

use std::hash::{BuildHasherDefault, Hasher};

/// [`FastHasher`] as a `BuildHasher` for `HashMap` and `HashSet`.
pub(crate) type FastBuild = BuildHasherDefault<FastHasher>;
/// A `HashMap` with [`FastHasher`].
pub(crate) type FastMap<K, V> = std::collections::HashMap<K, V, FastBuild>;
/// A `HashSet` with [`FastHasher`] (the tests' collision checks).
#[cfg(test)]
pub(crate) type FastSet<T> = std::collections::HashSet<T, FastBuild>;

/// An odd constant with well-spread bits (the fractional part of pi, as in wyhash's seeds).
const SEED: u64 = 0x243f_6a88_85a3_08d3;

/// The hasher: a running state mixed with each word written.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FastHasher {
    hash: u64,
}

impl Default for FastHasher {
    fn default() -> Self {
        // Not zero: a zero state times anything stays zero.
        Self { hash: 0x1319_8a2e_0370_7344 }
    }
}

impl FastHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        let product = u128::from(self.hash ^ word) * u128::from(SEED);
        self.hash = (product as u64) ^ ((product >> 64) as u64);
    }
}

impl Hasher for FastHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            if let Some(head) = word.get_mut(..rest.len()) {
                head.copy_from_slice(rest);
            }
            self.add(u64::from_le_bytes(word));
        }
    }

    #[inline]
    fn write_u8(&mut self, n: u8) {
        self.add(u64::from(n));
    }

    #[inline]
    fn write_u16(&mut self, n: u16) {
        self.add(u64::from(n));
    }

    #[inline]
    fn write_u32(&mut self, n: u32) {
        self.add(u64::from(n));
    }

    #[inline]
    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }

    #[inline]
    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.hash
    }
}

#[cfg(test)]
mod tests {
    use std::hash::BuildHasher;

    use super::*;

    #[test]
    fn equal_keys_hash_equal_and_near_keys_apart() {
        let build = FastBuild::default();
        assert_eq!(build.hash_one("203.0.113.7"), build.hash_one(String::from("203.0.113.7")));
        // No two of these keys share a hash (the classic `FxHasher` fails this on the IPv4s).
        let mut seen = FastSet::default();
        for i in 0..200_000u32 {
            let ipv4 = format!("10.{}.{}.{}", i >> 16, (i >> 8) & 0xff, i & 0xff);
            assert!(seen.insert(build.hash_one(ipv4.as_str())), "{ipv4}");
            assert!(seen.insert(build.hash_one(format!("{i:08x}.example"))), "{i}");
            assert!(seen.insert(build.hash_one(i)), "{i}");
        }
        // Hashes spread over the low bits (a table's bucket index) and the top seven (its tags).
        let mut low = FastSet::default();
        let mut top = FastSet::default();
        for i in 0..4096u32 {
            let h = build.hash_one(format!("10.0.{}.{}", i / 256, i % 256));
            low.insert(h & 0xfff);
            top.insert(h >> 57);
        }
        assert!(low.len() > 2400, "{}", low.len());
        assert_eq!(top.len(), 128);
        // A string and the same bytes split differently are different keys (str hashing ends
        // with a terminator byte).
        assert_ne!(build.hash_one(("ab", "c")), build.hash_one(("a", "bc")));
    }

    #[test]
    fn maps_and_sets_work_as_with_the_default_hasher() {
        let mut map: FastMap<&str, usize> = FastMap::default();
        for (i, k) in ["a", "b", "a", "c", "b"].iter().enumerate() {
            *map.entry(k).or_default() += i;
        }
        assert_eq!((map["a"], map["b"], map["c"], map.len()), (2, 5, 3, 3));
    }
}
