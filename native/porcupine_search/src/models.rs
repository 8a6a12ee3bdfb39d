//! The built-in models a compiled search can step, with their states numbered by the model.
//!
//! A state id must name one state: two ids are equal iff their states are. The register's
//! values are numbered by the Python side (a dict, so Python's equality decides), which makes
//! the register's state its value's number; the string store numbers its strings itself.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;

use crate::cache::{mix, Folding, MixedMap};

/// A model stepping numbered states by operation index.
pub trait Model: Send {
    /// The state after operation `op` in state `state`, or None if `op` is illegal there.
    fn step(&mut self, state: u32, op: usize) -> Option<u32>;
    fn initial(&self) -> u32;
    /// Bytes the states hold, for the memory budget.
    fn held_bytes(&self) -> usize;
}

pub const READ: u8 = 0;
pub const WRITE: u8 = 1;
pub const CAS: u8 = 2;
/// A read's output, or a cas output, that is unknown: anything goes.
pub const UNKNOWN_VALUE: i64 = -1;
pub const CAS_SWAPPED: i64 = 1;
pub const CAS_FAILED: i64 = 0;

/// RegisterModel and CasRegisterModel: read (a = -, out = value read), write (a = value),
/// cas (a = expected, b = new, out = swapped / failed / anything else, which allows both).
pub struct Register {
    pub initial: u32,
    pub f: Vec<u8>,
    pub a: Vec<u32>,
    pub b: Vec<u32>,
    pub out: Vec<i64>,
}

impl Model for Register {
    fn step(&mut self, state: u32, op: usize) -> Option<u32> {
        match self.f[op] {
            READ => {
                let out = self.out[op];
                (out == UNKNOWN_VALUE || out == state as i64).then_some(state)
            }
            WRITE => Some(self.a[op]),
            _ => {
                let out = self.out[op];
                if state == self.a[op] {
                    (out != CAS_FAILED).then_some(self.b[op])
                } else {
                    (out != CAS_SWAPPED).then_some(state)
                }
            }
        }
    }

    fn initial(&self) -> u32 {
        self.initial
    }

    fn held_bytes(&self) -> usize {
        0
    }
}

pub const GET: u8 = 0;
pub const PUT: u8 = 1;
pub const APPEND: u8 = 2;
/// States whose steps are memoized: a string store's states mostly grow, so later ones are rarely
/// revisited and computing a step again is cheaper than remembering every one.
const MEMOIZED_STATES: usize = 256;
const NOT_MEMOIZED: u32 = u32::MAX;
const ILLEGAL: u32 = u32::MAX - 1;
const NO_STATE: u32 = u32::MAX;
const BASE: u64 = 0x100_0000_01b3;

/// A polynomial hash of a string, which extends by an append in the append's length.
fn string_hash(string: &str) -> u64 {
    string.bytes().fold(0, |hash, byte| hash.wrapping_mul(BASE).wrapping_add(u64::from(byte) + 1))
}

fn slot(hash: u64, length: usize) -> u64 {
    mix(hash ^ (length as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15))
}

/// KvModel, one key: get (arg = the string read, unless unknown), put and append (arg = value).
///
/// Strings are numbered once each. An append's result is found by its hash (the state's hash
/// extended by the appended string's) and compared in two parts, so a state seen before costs
/// no copy; only a new state's string is built.
pub struct Kv {
    f: Vec<u8>,
    arg: Vec<String>,
    unknown: Vec<bool>,
    arg_hash: Vec<u64>,
    arg_shift: Vec<u64>,
    text: Vec<u8>,
    start: Vec<usize>,
    hashes: Vec<u64>,
    first_with: MixedMap<u32>,
    next_with: Vec<u32>,
    memo: Vec<Vec<u32>>,
    bytes: usize,
}

impl Kv {
    pub fn new(f: Vec<u8>, arg: Vec<String>, unknown: Vec<bool>) -> Kv {
        let arg_hash = arg.iter().map(|a| string_hash(a)).collect();
        let arg_shift = arg.iter().map(|a| (0..a.len()).fold(1u64, |p, _| p.wrapping_mul(BASE))).collect();
        let mut kv = Kv { f, arg, unknown, arg_hash, arg_shift, text: Vec::new(), start: vec![0],
                          hashes: Vec::new(), first_with: MixedMap::default(), next_with: Vec::new(),
                          memo: Vec::new(), bytes: 0 };
        kv.number(0);
        kv
    }

    /// The string of state `id`, as bytes.
    fn string(&self, id: u32) -> &[u8] {
        &self.text[self.start[id as usize]..self.start[id as usize + 1]]
    }

    /// The state `prefix` followed by argument `op` (whose hash is `hash`), numbering it if it is new.
    fn state_of(&mut self, prefix: Option<u32>, op: usize, hash: u64) -> u32 {
        let head = prefix.map_or(0..0, |p| self.start[p as usize]..self.start[p as usize + 1]);
        let suffix = self.arg[op].as_bytes();
        let length = head.len() + suffix.len();
        let key = slot(hash, length);
        let mut candidate = self.first_with.get(&key).copied().unwrap_or(NO_STATE);
        while candidate != NO_STATE {
            let string = self.string(candidate);
            if string.len() == length && string[..head.len()] == self.text[head.clone()]
                && string[head.len()..] == *suffix {
                return candidate;
            }
            candidate = self.next_with[candidate as usize];
        }
        self.text.extend_from_within(head);
        self.text.extend_from_slice(self.arg[op].as_bytes());
        self.number(hash)
    }

    /// Numbers the string just added at the end of `text`.
    fn number(&mut self, hash: u64) -> u32 {
        let id = self.hashes.len() as u32;
        self.start.push(self.text.len());
        let length = self.string(id).len();
        self.next_with.push(self.first_with.insert(slot(hash, length), id).unwrap_or(NO_STATE));
        self.bytes += length + 48;
        self.hashes.push(hash);
        if (id as usize) < MEMOIZED_STATES {
            self.memo.push(vec![NOT_MEMOIZED; self.f.len()]);
            self.bytes += 4 * self.f.len();
        }
        id
    }

    fn compute(&mut self, state: u32, op: usize) -> Option<u32> {
        match self.f[op] {
            GET => (self.unknown[op] || (self.hashes[state as usize] == self.arg_hash[op]
                                         && self.string(state) == self.arg[op].as_bytes())).then_some(state),
            PUT => Some(self.state_of(None, op, self.arg_hash[op])),
            _ => {
                let hash = self.hashes[state as usize].wrapping_mul(self.arg_shift[op]).wrapping_add(self.arg_hash[op]);
                Some(self.state_of(Some(state), op, hash))
            }
        }
    }
}

impl Model for Kv {
    fn step(&mut self, state: u32, op: usize) -> Option<u32> {
        let memoized = (state as usize) < MEMOIZED_STATES;
        if memoized {
            match self.memo[state as usize][op] {
                NOT_MEMOIZED => {}
                ILLEGAL => return None,
                next => return Some(next),
            }
        }
        let next = self.compute(state, op);
        if memoized {
            self.memo[state as usize][op] = next.unwrap_or(ILLEGAL);
        }
        next
    }

    fn initial(&self) -> u32 {
        0
    }

    fn held_bytes(&self) -> usize {
        self.bytes
    }
}

/// LogModel, one partition: append (a = value, out = the offset it got, or unknown) and read
/// (a = offset, out = the value read, which is the number of None past the end).
///
/// A log is numbered by (the log before its last append, the value appended): two logs are
/// equal iff their entries are, so equal logs get one number.
pub struct Log {
    f: Vec<u8>,
    a: Vec<i64>,
    out: Vec<i64>,
    none: i64,
    previous: Vec<u32>,
    last: Vec<i64>,
    length: Vec<i64>,
    ids: HashMap<(u32, i64), u32, BuildHasherDefault<Folding>>,
}

impl Log {
    pub fn new(f: Vec<u8>, a: Vec<i64>, out: Vec<i64>, none: i64) -> Log {
        Log { f, a, out, none, previous: vec![0], last: vec![0], length: vec![0], ids: HashMap::default() }
    }

    fn at(&self, mut state: u32, offset: i64) -> i64 {
        for _ in 0..self.length[state as usize] - 1 - offset {
            state = self.previous[state as usize];
        }
        self.last[state as usize]
    }
}

impl Model for Log {
    fn step(&mut self, state: u32, op: usize) -> Option<u32> {
        let out = self.out[op];
        let length = self.length[state as usize];
        if self.f[op] == APPEND {
            if out != UNKNOWN_VALUE && out != length {
                return None;
            }
            let next = self.previous.len() as u32;
            let id = *self.ids.entry((state, self.a[op])).or_insert(next);
            if id == next {
                self.previous.push(state);
                self.last.push(self.a[op]);
                self.length.push(length + 1);
            }
            return Some(id);
        }
        let offset = self.a[op];
        let legal = out == UNKNOWN_VALUE
            || if (0..length).contains(&offset) { self.at(state, offset) == out } else { out == self.none };
        legal.then_some(state)
    }

    fn initial(&self) -> u32 {
        0
    }

    fn held_bytes(&self) -> usize {
        self.previous.len() * 64
    }
}
