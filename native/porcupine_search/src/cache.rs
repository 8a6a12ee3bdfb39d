//! Lowe's cache of (linearized set, state) configurations, without an allocation per entry.
//!
//! Every configuration's bitset lives in one flat arena; a map from a configuration's 64-bit
//! hash to its newest entry, and a chain through the entries sharing a hash, find it again.
//! The hash is the caller's (a Zobrist hash of the set, mixed with the state), so the map passes
//! it through instead of hashing it again.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Passes a key that is already a well-mixed word through as its own hash.
#[derive(Default)]
pub struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, _: &[u8]) {
        unreachable!("keys hash as one u64")
    }
    fn write_u64(&mut self, word: u64) {
        self.0 = word;
    }
}

pub type MixedMap<V> = HashMap<u64, V, BuildHasherDefault<PassThrough>>;

/// SplitMix64's finalizer: spreads any word's bits over all 64.
pub fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

const END: u32 = u32::MAX;

pub struct Cache {
    words: usize,
    bits: Vec<u64>,
    states: Vec<u32>,
    newest: MixedMap<u32>,
    older: Vec<u32>,
}

impl Cache {
    pub fn new(words: usize) -> Cache {
        Cache { words, bits: Vec::new(), states: Vec::new(), newest: MixedMap::default(), older: Vec::new() }
    }

    pub fn contains(&self, hash: u64, state: u32, bits: &[u64]) -> bool {
        let mut entry = self.newest.get(&hash).copied().unwrap_or(END);
        while entry != END {
            let at = entry as usize;
            if self.states[at] == state && self.bits[at * self.words..(at + 1) * self.words] == *bits {
                return true;
            }
            entry = self.older[at];
        }
        false
    }

    pub fn insert(&mut self, hash: u64, state: u32, bits: &[u64]) {
        let entry = self.states.len() as u32;
        self.bits.extend_from_slice(bits);
        self.states.push(state);
        self.older.push(self.newest.insert(hash, entry).unwrap_or(END));
    }

    pub fn held_bytes(&self) -> usize {
        self.bits.capacity() * 8 + self.states.capacity() * 8 + self.newest.capacity() * 16 * 8 / 7
    }
}

/// A fast hasher for small keys of integers (FxHash's rule): the keys here are numbers the search
/// made up, not input an adversary chose.
#[derive(Default)]
pub struct Folding(u64);

impl Hasher for Folding {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
    }
    fn write_u64(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7cc1_b727_220a_95);
    }
    fn write_u32(&mut self, word: u32) {
        self.write_u64(u64::from(word));
    }
    fn write_i64(&mut self, word: i64) {
        self.write_u64(word as u64);
    }
}
