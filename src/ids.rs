//! Deterministic ids: RFC 9562 name-based UUIDs (version 5, SHA-1), so that a replayed event
//! updates what the first one created and a delete finds it, without any database.
//!
//! SHA-1 is written out here (FIPS 180-4): it is used only to derive ids, never for security, and
//! it is the one piece of the UUIDv5 algorithm a crate would have added.

use std::fmt;

/// The deterministic id of an item: the version-5 UUID (in [`Uuid::TI_RELAY`]) of
/// `<format>|<source id>|<type>|<algorithm>|<value>` for an atomic item, and of
/// `<format>|<source id>|pattern` (with the pattern text instead when there is no source id) for a
/// pattern that is not atomic. The plan's item keys and every destination's ids derive from it, so a
/// replayed event finds what the first one created.
pub fn item_uuid(item: &crate::model::Indicator<'_>) -> Uuid {
    let source = item.source.id.as_deref().unwrap_or("");
    // The name's parts go straight into the hash: the same digest as hashing their concatenation.
    let mut hasher = Sha1::new();
    hasher.update(&Uuid::TI_RELAY.0);
    for part in [item.format.as_str(), "|", source, "|"] {
        hasher.update(part.as_bytes());
    }
    match &item.observable {
        Some(o) => {
            for part in [o.kind.as_str(), "|", o.algorithm.map_or("", |a| a.as_str()), "|", o.value.as_str()] {
                hasher.update(part.as_bytes());
            }
        }
        None if source.is_empty() => {
            hasher.update(b"pattern|");
            hasher.update(item.pattern.as_deref().unwrap_or("").as_bytes());
        }
        None => hasher.update(b"pattern"),
    }
    Uuid::from_digest(hasher.finish())
}

/// A UUID.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Uuid([u8; 16]);

impl Uuid {
    /// ti-relay's own namespace for the ids it derives (a random version-4 UUID, fixed forever:
    /// changing it would orphan every indicator already sent).
    pub const TI_RELAY: Self =
        Self([0x4f, 0x0c, 0x8e, 0x5a, 0x7d, 0x2b, 0x4c, 0x1e, 0x9a, 0x63, 0x2f, 0x1d, 0x5e, 0x8b, 0x07, 0xc4]);

    /// The STIX 2.1 namespace for deterministic SCO ids (STIX 2.1 §2.9).
    pub const STIX_SCO: Self =
        Self([0x00, 0xab, 0xed, 0xb4, 0xaa, 0x42, 0x46, 0x6c, 0x9c, 0x01, 0xfe, 0xd2, 0x33, 0x15, 0xa9, 0xb7]);

    /// The version-5 UUID of `name` in `namespace`.
    pub fn v5(namespace: Self, name: &[u8]) -> Self {
        let mut hasher = Sha1::new();
        hasher.update(&namespace.0);
        hasher.update(name);
        Self::from_digest(hasher.finish())
    }

    /// The version-5 UUID of a SHA-1 `digest` of namespace and name: its first 16 bytes with the
    /// version and variant bits set (RFC 9562 §5.5).
    fn from_digest(digest: [u8; 20]) -> Self {
        let mut bytes = [0u8; 16];
        bytes.iter_mut().zip(digest).for_each(|(b, d)| *b = d);
        if let Some(b) = bytes.get_mut(6) {
            *b = (*b & 0x0f) | 0x50;
        }
        if let Some(b) = bytes.get_mut(8) {
            *b = (*b & 0x3f) | 0x80;
        }
        Self(bytes)
    }

    /// The 16 bytes.
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// Lower-case `8-4-4-4-12` hex, as ASCII bytes (what `Display` writes, without `fmt`: ids are
    /// written several times per planned item). Each byte's two digits go to a fixed place.
    pub fn text(&self) -> [u8; 36] {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        /// Where the two digits of each byte go: after 4, 6, 8 and 10 bytes comes a `-`.
        const AT: [usize; 16] = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];
        let mut text = [b'-'; 36];
        for (&at, &b) in AT.iter().zip(&self.0) {
            let high = HEX.get(usize::from(b >> 4)).copied().unwrap_or(b'0');
            let low = HEX.get(usize::from(b & 0x0f)).copied().unwrap_or(b'0');
            if let Some(pair) = text.get_mut(at..at + 2) {
                pair.copy_from_slice(&[high, low]);
            }
        }
        text
    }

    /// Appends [`Uuid::text`] to `out`.
    pub fn push_to(&self, out: &mut String) {
        out.push_str(std::str::from_utf8(&self.text()).unwrap_or_default());
    }

    /// [`Uuid::text`] as a `String` (the same as `to_string()`, without `fmt`).
    pub fn hyphenated(&self) -> String {
        let mut out = String::with_capacity(36);
        self.push_to(&mut out);
        out
    }
}

/// Lower-case `8-4-4-4-12` hex.
impl fmt::Display for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(std::str::from_utf8(&self.text()).unwrap_or_default())
    }
}

/// SHA-1 (FIPS 180-4 §6.1), streaming.
struct Sha1 {
    state: [u32; 5],
    block: [u8; 64],
    filled: usize,
    length: u64,
}

impl Sha1 {
    fn new() -> Self {
        Self {
            state: [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476, 0xc3d2_e1f0],
            block: [0; 64],
            filled: 0,
            length: 0,
        }
    }

    fn update(&mut self, mut data: &[u8]) {
        self.length = self.length.wrapping_add(data.len() as u64);
        if self.filled > 0 || data.len() < 64 {
            // Top up the open block (ids hash a few short parts: most updates end here).
            let take = (64 - self.filled).min(data.len());
            let (head, rest) = data.split_at(take);
            if let Some(slot) = self.block.get_mut(self.filled..self.filled + take) {
                slot.copy_from_slice(head);
            }
            self.filled += take;
            if self.filled < 64 {
                return;
            }
            let block = self.block;
            self.compress(&block);
            self.filled = 0;
            data = rest;
        }
        // Whole blocks straight from `data`, then the rest into the open block.
        let mut blocks = data.chunks_exact(64);
        for block in &mut blocks {
            if let Ok(block) = <&[u8; 64]>::try_from(block) {
                self.compress(block);
            }
        }
        let rest = blocks.remainder();
        if let Some(slot) = self.block.get_mut(..rest.len()) {
            slot.copy_from_slice(rest);
        }
        self.filled = rest.len();
    }

    fn finish(mut self) -> [u8; 20] {
        let bits = self.length.wrapping_mul(8);
        // 0x80, zeros up to 56 mod 64, then the bit length: one or two blocks, written at once.
        let pad_len = if self.filled < 56 { 56 - self.filled } else { 120 - self.filled };
        let mut pad = [0u8; 72];
        if let Some(first) = pad.first_mut() {
            *first = 0x80;
        }
        if let Some(tail) = pad.get_mut(pad_len..pad_len + 8) {
            tail.copy_from_slice(&bits.to_be_bytes());
        }
        let length = self.length;
        self.update(pad.get(..pad_len + 8).unwrap_or(&[]));
        self.length = length;
        let mut out = [0u8; 20];
        for (chunk, word) in out.chunks_exact_mut(4).zip(self.state) {
            chunk.copy_from_slice(&word.to_be_bytes());
        }
        out
    }

    // The names of FIPS 180-4 (`w`, `a`..`e`, `f`, `k`, `t`), so the code reads against the standard.
    // The whole 80-word schedule is expanded first (§6.1.2 step 1), then the rounds run in their
    // four groups of 20, so no round branches on `t` (ids are hashed once per planned item).
    #[allow(clippy::many_single_char_names)]
    #[inline(never)]
    fn compress(&mut self, block: &[u8; 64]) {
        let mut w = [0u32; 80];
        for (word, bytes) in w.iter_mut().zip(block.chunks_exact(4)) {
            if let Ok(bytes) = <[u8; 4]>::try_from(bytes) {
                *word = u32::from_be_bytes(bytes);
            }
        }
        for t in 16..80 {
            let at = |i: usize| w.get(i).copied().unwrap_or(0);
            let next = (at(t - 3) ^ at(t - 8) ^ at(t - 14) ^ at(t - 16)).rotate_left(1);
            if let Some(slot) = w.get_mut(t) {
                *slot = next;
            }
        }
        let mut v = self.state;
        let (groups, _) = w.as_chunks::<20>();
        for (g, words) in groups.iter().enumerate() {
            match g {
                0 => rounds::<0>(&mut v, words),
                1 => rounds::<1>(&mut v, words),
                2 => rounds::<2>(&mut v, words),
                _ => rounds::<3>(&mut v, words),
            }
        }
        for (state, value) in self.state.iter_mut().zip(v) {
            *state = state.wrapping_add(value);
        }
    }
}

/// The 20 rounds of group `G` (FIPS 180-4 §4.1.1: Ch, Parity, Maj, Parity) over `words` of the
/// schedule: one function per group, so no round chooses its function at run time.
#[allow(clippy::many_single_char_names)]
#[inline]
fn rounds<const G: u8>(v: &mut [u32; 5], words: &[u32; 20]) {
    let [mut a, mut b, mut c, mut d, mut e] = *v;
    let k = match G {
        0 => 0x5a82_7999,
        1 => 0x6ed9_eba1,
        2 => 0x8f1b_bcdc,
        _ => 0xca62_c1d6,
    };
    for &word in words {
        let f = match G {
            0 => (b & c) | (!b & d),
            2 => (b & c) | (b & d) | (c & d),
            _ => b ^ c ^ d,
        };
        let temp = a.rotate_left(5).wrapping_add(f).wrapping_add(e).wrapping_add(k).wrapping_add(word);
        e = d;
        d = c;
        c = b.rotate_left(30);
        b = a;
        a = temp;
    }
    *v = [a, b, c, d, e];
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sha1_hex(data: &[u8]) -> String {
        let mut h = Sha1::new();
        h.update(data);
        hex(&h.finish())
    }

    fn hex(bytes: &[u8]) -> String {
        use std::fmt::Write as _;
        bytes.iter().fold(String::new(), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
    }

    #[test]
    fn sha1_matches_the_fips_vectors() {
        assert_eq!(sha1_hex(b""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        assert_eq!(sha1_hex(b"abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
        assert_eq!(
            sha1_hex(b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1"
        );
        assert_eq!(sha1_hex(&vec![b'a'; 1_000_000]), "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
    }

    #[test]
    fn streaming_equals_one_shot() {
        let data: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
        for split in [0, 1, 55, 56, 63, 64, 65, 999] {
            let mut h = Sha1::new();
            let (a, b) = data.split_at(split);
            h.update(a);
            h.update(b);
            let streamed = hex(&h.finish());
            assert_eq!(streamed, sha1_hex(&data), "split at {split}");
        }
    }

    #[test]
    fn uuid_v5_matches_rfc_and_stix_vectors() {
        // RFC 9562 / Python's uuid5(NAMESPACE_DNS, "python.org").
        let dns =
            Uuid([0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8]);
        assert_eq!(Uuid::v5(dns, b"python.org").to_string(), "886313e1-3b8a-5372-9b90-0c9aee199e5d");
        // The STIX 2.1 SCO namespace, as Python's uuid5 computes it.
        assert_eq!(
            Uuid::v5(Uuid::STIX_SCO, br#"{"value":"198.51.100.3"}"#).to_string(),
            "28bb3599-77cd-5a82-a950-b5bc3caf07c4"
        );
        assert_eq!(
            Uuid::v5(Uuid::TI_RELAY, b"sentinel|stix|indicator--1|ipv4|1.2.3.4").to_string(),
            "8947d1b6-6225-5c13-9938-d6bb1743cb05"
        );
        let id = Uuid::v5(Uuid::TI_RELAY, b"x");
        assert_eq!(id.as_bytes()[6] >> 4, 5, "version 5");
        assert_eq!(id.as_bytes()[8] >> 6, 0b10, "RFC variant");
        assert_eq!(Uuid::TI_RELAY.to_string(), "4f0c8e5a-7d2b-4c1e-9a63-2f1d5e8b07c4");
        assert_eq!(Uuid::TI_RELAY.hyphenated(), Uuid::TI_RELAY.to_string());
    }

    #[test]
    fn item_ids_follow_the_documented_names() {
        use crate::model::{Format, Indicator, Observable, ObservableType};
        let mut compound = Indicator::new(Format::Stix, String::new());
        compound.pattern = Some("[a:b = 1] FOLLOWEDBY [c:d = 2]".into());
        // Python: uuid5(UUID('4f0c8e5a-…'), 'stix||pattern|[a:b = 1] FOLLOWEDBY [c:d = 2]').
        assert_eq!(item_uuid(&compound).to_string(), "8ea94091-1481-5e2e-968c-803291ddaf55");
        compound.source.id = Some("indicator--1".into());
        assert_eq!(item_uuid(&compound), Uuid::v5(Uuid::TI_RELAY, b"stix|indicator--1|pattern"));
        let mut atomic = compound.clone();
        atomic.observable = Some(Observable::new(ObservableType::Ipv4, "1.2.3.4"));
        assert_eq!(item_uuid(&atomic), Uuid::v5(Uuid::TI_RELAY, b"stix|indicator--1|ipv4||1.2.3.4"));
    }
}
