//! pyporcupine's linearization search (Wing & Gong with Lowe's cache), compiled, for the
//! built-in models: the same walk as `pyporcupine/search.py`, move for move, so that verdicts
//! and the longest partial linearizations found are the same whichever runs.
//!
//! Python builds the entry list (time order, interchangeable operations hidden behind their
//! predecessor) and numbers the model's values; this module owns the walk. The cache holds
//! (linearized set, state) pairs; the set is a bitset whose hash is kept up to date by XORing
//! one random word per operation (Zobrist hashing), so a probe hashes in constant time and only
//! a hit compares the bitsets (cache.rs keeps them in one arena, not one allocation each). The
//! walk runs a slice of moves at a time, without the GIL (other Python threads go on meanwhile),
//! so the Python driver can still stop it on a deadline or a memory budget.

mod cache;
mod models;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use cache::{mix, Cache};
use models::{Kv, Log, Model, Register};

fn state_word(state: u32) -> u64 {
    mix(u64::from(state) ^ 0x5851_f42d_4c95_7f2d)
}

/// The entry list as flat arrays; see `_EntryList` in search.py.
struct Entries {
    tail: usize,
    nxt: Vec<usize>,
    prv: Vec<usize>,
    matching: Vec<usize>,
    op_of: Vec<usize>,
    follower: Vec<usize>,
    original_prev: Vec<usize>,
}

impl Entries {
    fn unlink(&mut self, node: usize) {
        let (before, after) = (self.prv[node], self.nxt[node]);
        self.nxt[before] = after;
        self.prv[after] = before;
    }

    fn relink(&mut self, node: usize) {
        let (before, after) = (self.prv[node], self.nxt[node]);
        self.nxt[before] = node;
        self.prv[after] = node;
    }

    fn reveal(&mut self, call: usize) {
        let mut before = self.original_prev[call];
        while before != 0 && self.nxt[self.prv[before]] != before {
            before = self.original_prev[before];
        }
        let after = self.nxt[before];
        self.nxt[before] = call;
        self.prv[call] = before;
        self.nxt[call] = after;
        self.prv[after] = call;
    }
}

/// The longest linearizable prefixes seen, per operation, as in search.py's `_record_longest`.
struct Longest {
    prefixes: Vec<Vec<u32>>,
    of: Vec<i64>,
    length: Vec<usize>,
}

impl Longest {
    fn record(&mut self, stack: &[(usize, u32)], op_of: &[usize]) {
        let depth = stack.len();
        let mut prefix: Option<i64> = None;
        for &(entry, _) in stack {
            let op = op_of[entry];
            if self.length[op] < depth {
                let id = *prefix.get_or_insert_with(|| {
                    self.prefixes.push(stack.iter().map(|&(e, _)| op_of[e] as u32).collect());
                    self.prefixes.len() as i64 - 1
                });
                self.of[op] = id;
                self.length[op] = depth;
            }
        }
    }
}

struct Walk<M: Model> {
    model: M,
    entries: Entries,
    zobrist: Vec<u64>,
    bits: Vec<u64>,
    state: u32,
    set_hash: u64,
    cache: Cache,
    stack: Vec<(usize, u32)>,
    entry: usize,
    longest: Option<Longest>,
    verdict: Option<bool>,
}

impl<M: Model> Walk<M> {
    fn new(model: M, entries: Entries, operations: usize, keep_longest: bool) -> Walk<M> {
        let state = model.initial();
        let entry = entries.nxt[0];
        let verdict = (entry == entries.tail).then_some(true);
        Walk {
            model,
            entries,
            zobrist: (0..operations as u64).map(mix).collect(),
            bits: vec![0; operations.div_ceil(64)],
            state,
            set_hash: 0,
            cache: Cache::new(operations.div_ceil(64)),
            stack: Vec::new(),
            entry,
            longest: keep_longest.then(|| Longest {
                prefixes: Vec::new(),
                of: vec![-1; operations],
                length: vec![0; operations],
            }),
            verdict,
        }
    }

    /// Up to `moves` lifts and backtracks; the verdict once there is one.
    fn advance(&mut self, mut moves: usize) -> Option<bool> {
        if self.verdict.is_some() {
            return self.verdict;
        }
        let mut entry = self.entry;
        while moves > 0 {
            let ret = self.entries.matching[entry];
            if ret != 0 {
                let op = self.entries.op_of[entry];
                let Some(next) = self.model.step(self.state, op) else {
                    entry = self.entries.nxt[entry];
                    continue;
                };
                if !self.lift(entry, op, next) {
                    entry = self.entries.nxt[entry];
                    continue;
                }
                entry = self.entries.nxt[0];
                if entry == self.entries.tail {
                    if let Some(longest) = self.longest.as_mut() {
                        longest.record(&self.stack, &self.entries.op_of);
                    }
                    self.verdict = Some(true);
                    return self.verdict;
                }
            } else {
                let Some(resumed) = self.backtrack() else {
                    self.verdict = Some(false);
                    return self.verdict;
                };
                entry = resumed;
            }
            moves -= 1;
        }
        self.entry = entry;
        None
    }

    /// Takes call `entry` (operation `op`, leading to state `next`) unless that configuration is
    /// cached; says whether it did.
    fn lift(&mut self, entry: usize, op: usize, next: u32) -> bool {
        let (word, bit) = (op / 64, 1u64 << (op % 64));
        let hash = self.set_hash ^ self.zobrist[op] ^ state_word(next);
        self.bits[word] |= bit;
        if self.cache.contains(hash, next, &self.bits) {
            self.bits[word] &= !bit;
            return false;
        }
        self.cache.insert(hash, next, &self.bits);
        let before = self.state;
        self.state = next;
        self.set_hash ^= self.zobrist[op];
        self.stack.push((entry, before));
        let entries = &mut self.entries;
        entries.unlink(entry);
        entries.unlink(entries.matching[entry]);
        if entries.follower[entry] != 0 {
            entries.reveal(entries.follower[entry]);
        }
        true
    }

    /// Undoes the last lift; the entry to try next, or None if there was nothing to undo.
    fn backtrack(&mut self) -> Option<usize> {
        if let Some(longest) = self.longest.as_mut() {
            if !self.stack.is_empty() {
                longest.record(&self.stack, &self.entries.op_of);
            }
        }
        let (entry, state) = self.stack.pop()?;
        let op = self.entries.op_of[entry];
        self.bits[op / 64] &= !(1u64 << (op % 64));
        self.state = state;
        self.set_hash ^= self.zobrist[op];
        let entries = &mut self.entries;
        let hidden = entries.follower[entry];
        if hidden != 0 {
            entries.unlink(hidden);
        }
        entries.relink(entries.matching[entry]);
        entries.relink(entry);
        Some(entries.nxt[entry])
    }

    fn held_bytes(&self) -> usize {
        self.cache.held_bytes() + self.model.held_bytes()
    }

    /// The prefixes some operation still names (a prefix superseded for all of its operations is
    /// left out), and which one each operation names.
    fn longest(&self) -> (Vec<Vec<u32>>, Vec<i64>) {
        let Some(longest) = self.longest.as_ref() else { return (Vec::new(), Vec::new()) };
        let mut renumbered = vec![-1i64; longest.prefixes.len()];
        let mut prefixes = Vec::new();
        let of = longest.of.iter().map(|&id| {
            if id < 0 {
                return id;
            }
            if renumbered[id as usize] < 0 {
                renumbered[id as usize] = prefixes.len() as i64;
                prefixes.push(longest.prefixes[id as usize].clone());
            }
            renumbered[id as usize]
        }).collect();
        (prefixes, of)
    }
}

enum AnyWalk {
    Register(Walk<Register>),
    Kv(Walk<Kv>),
    Log(Walk<Log>),
}

/// One partition's search. `advance(moves)` runs without the GIL and returns the verdict
/// (True: linearizable) once there is one, None while the search goes on.
#[pyclass(module = "pyporcupine.search_core")]
struct Search {
    walk: AnyWalk,
}

type EntryLists = (Vec<usize>, Vec<usize>, Vec<usize>, Vec<usize>, Vec<usize>, Vec<usize>);

fn entries_of(lists: EntryLists, operations: usize) -> PyResult<Entries> {
    let (nxt, prv, matching, op_of, follower, original_prev) = lists;
    let nodes = nxt.len();
    let lengths_agree = [&prv, &matching, &op_of, &follower, &original_prev].iter().all(|l| l.len() == nodes);
    let in_range = nxt.iter().chain(&prv).chain(&matching).chain(&follower).chain(&original_prev).all(|&n| n < nodes)
        && op_of.iter().all(|&op| op < operations.max(1));
    if nodes < 2 || !lengths_agree || !in_range {
        return Err(PyValueError::new_err("the entry lists do not describe an entry list"));
    }
    Ok(Entries { tail: nodes - 1, nxt, prv, matching, op_of, follower, original_prev })
}

fn same_length(lengths: &[usize]) -> PyResult<usize> {
    if lengths.windows(2).any(|pair| pair[0] != pair[1]) {
        return Err(PyValueError::new_err("every operation needs each of its fields"));
    }
    Ok(lengths[0])
}

#[pymethods]
impl Search {
    /// RegisterModel / CasRegisterModel over value numbers.
    #[staticmethod]
    #[allow(clippy::too_many_arguments)]
    fn register(entries: EntryLists, initial: u32, f: Vec<u8>, a: Vec<u32>, b: Vec<u32>, out: Vec<i64>,
                keep_longest: bool) -> PyResult<Search> {
        let operations = same_length(&[f.len(), a.len(), b.len(), out.len()])?;
        let entries = entries_of(entries, operations)?;
        let model = Register { initial, f, a, b, out };
        Ok(Search { walk: AnyWalk::Register(Walk::new(model, entries, operations, keep_longest)) })
    }

    /// KvModel, one key's operations.
    #[staticmethod]
    fn kv(entries: EntryLists, f: Vec<u8>, arg: Vec<String>, unknown: Vec<bool>, keep_longest: bool)
          -> PyResult<Search> {
        let operations = same_length(&[f.len(), arg.len(), unknown.len()])?;
        let entries = entries_of(entries, operations)?;
        Ok(Search { walk: AnyWalk::Kv(Walk::new(Kv::new(f, arg, unknown), entries, operations, keep_longest)) })
    }

    /// LogModel, one partition, over value numbers; `none` is the number of None.
    #[staticmethod]
    fn log(entries: EntryLists, f: Vec<u8>, a: Vec<i64>, out: Vec<i64>, none: i64, keep_longest: bool)
           -> PyResult<Search> {
        let operations = same_length(&[f.len(), a.len(), out.len()])?;
        let entries = entries_of(entries, operations)?;
        Ok(Search { walk: AnyWalk::Log(Walk::new(Log::new(f, a, out, none), entries, operations, keep_longest)) })
    }

    fn advance(&mut self, py: Python<'_>, moves: usize) -> Option<bool> {
        let walk = &mut self.walk;
        py.detach(|| match walk {
            AnyWalk::Register(w) => w.advance(moves),
            AnyWalk::Kv(w) => w.advance(moves),
            AnyWalk::Log(w) => w.advance(moves),
        })
    }

    /// Bytes the search holds (cache and states), an estimate that errs high.
    fn held_bytes(&self) -> usize {
        match &self.walk {
            AnyWalk::Register(w) => w.held_bytes(),
            AnyWalk::Kv(w) => w.held_bytes(),
            AnyWalk::Log(w) => w.held_bytes(),
        }
    }

    /// (prefixes, of): operation i's longest linearizable prefix is prefixes[of[i]] (none if -1).
    fn longest(&self) -> (Vec<Vec<u32>>, Vec<i64>) {
        match &self.walk {
            AnyWalk::Register(w) => w.longest(),
            AnyWalk::Kv(w) => w.longest(),
            AnyWalk::Log(w) => w.longest(),
        }
    }
}

#[pymodule]
fn search_core(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<Search>()?;
    module.add("READ", models::READ)?;
    module.add("WRITE", models::WRITE)?;
    module.add("CAS", models::CAS)?;
    module.add("GET", models::GET)?;
    module.add("PUT", models::PUT)?;
    module.add("APPEND", models::APPEND)?;
    module.add("UNKNOWN_VALUE", models::UNKNOWN_VALUE)?;
    module.add("CAS_SWAPPED", models::CAS_SWAPPED)?;
    module.add("CAS_FAILED", models::CAS_FAILED)?;
    Ok(())
}
