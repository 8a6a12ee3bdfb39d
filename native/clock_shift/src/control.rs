//! The control file's layout and the shift it describes: the reader's half of
//! cluster/clock/control.py, which defines the same 64 bytes and the same function
//! (tests/clock/ check that the two agree bit for bit).
//!
//! Little-endian, at offsets: 0 magic "LQCK", 4 version u32, 8 sequence u64 (odd while
//! the harness writes), 16 offset_ns i64, 24 rate f64, 32 anchor_ns i64,
//! 40 strobe_delta_ns i64, 48 strobe_period_ns i64, 56 strobe_until_ns i64.
//!
//! Everything here runs on the clock functions' hot path, possibly in a signal handler:
//! no allocation, no locks, no panics (saturating arithmetic, no indexing).

use core::hint::spin_loop;
use core::sync::atomic::{fence, AtomicU32, AtomicU64, Ordering};

pub const SIZE: usize = 64;
const MAGIC: u32 = u32::from_le_bytes(*b"LQCK");
const VERSION: u32 = 1;
const SEQUENCE_OFFSET: usize = 8;
const FIELDS_OFFSET: usize = 16;
const FIELD_COUNT: usize = 6;
/// Spins before yielding the processor to a writer that was preempted mid-write.
const SPINS: u32 = 64;
/// Attempts before a reader gives up on a writer that never finished (it died
/// mid-write) and uses true time: a yield each, far longer than any write takes.
const ATTEMPTS: u32 = 100_000;

/// The fields of the control file, as ClockState in control.py.
#[derive(Clone, Copy)]
pub struct State {
    offset_ns: i64,
    rate: f64,
    anchor_ns: i64,
    strobe_delta_ns: i64,
    strobe_period_ns: i64,
    strobe_until_ns: i64,
}

impl State {
    fn from_words(words: [u64; FIELD_COUNT]) -> State {
        let [offset, rate, anchor, delta, period, until] = words;
        State {
            offset_ns: offset as i64,
            rate: f64::from_bits(rate),
            anchor_ns: anchor as i64,
            strobe_delta_ns: delta as i64,
            strobe_period_ns: period as i64,
            strobe_until_ns: until as i64,
        }
    }

    /// ClockState.shift_ns: the offset, the rate's drift since the anchor (truncated
    /// toward zero), and the strobe's delta in odd periods until the strobe ends.
    pub fn shift_ns(&self, monotonic_ns: i64) -> i64 {
        let elapsed = monotonic_ns.saturating_sub(self.anchor_ns);
        let drift = ((self.rate - 1.0) * elapsed as f64) as i64;
        let shift = self.offset_ns.saturating_add(drift);
        if self.strobe_period_ns > 0
            && monotonic_ns < self.strobe_until_ns
            && monotonic_ns.div_euclid(self.strobe_period_ns).rem_euclid(2) == 1
        {
            shift.saturating_add(self.strobe_delta_ns)
        } else {
            shift
        }
    }
}

/// A control file mapped read-only: `SIZE` bytes, page-aligned.
#[derive(Clone, Copy)]
pub struct Mapping(pub *const u8);

impl Mapping {
    unsafe fn word32(&self, offset: usize) -> &AtomicU32 {
        &*(self.0.add(offset) as *const AtomicU32)
    }

    unsafe fn word64(&self, offset: usize) -> &AtomicU64 {
        &*(self.0.add(offset) as *const AtomicU64)
    }

    /// Whether the file says it is this format (checked at every read: a file is only
    /// ever replaced whole, but a reader must not trust what it cannot check).
    pub unsafe fn recognised(&self) -> bool {
        u32::from_le(self.word32(0).load(Ordering::Relaxed)) == MAGIC
            && u32::from_le(self.word32(4).load(Ordering::Relaxed)) == VERSION
    }

    /// The state, read under the seqlock: a sequence number that is even and the same
    /// before and after the fields means no write overlapped the read. None if the file
    /// is not this format or a write never finishes.
    pub unsafe fn read(&self) -> Option<State> {
        if !self.recognised() {
            return None;
        }
        let sequence = self.word64(SEQUENCE_OFFSET);
        for attempt in 0..ATTEMPTS {
            let before = sequence.load(Ordering::Acquire);
            if before & 1 == 0 {
                let mut words = [0u64; FIELD_COUNT];
                for (index, word) in words.iter_mut().enumerate() {
                    *word = u64::from_le(self.word64(FIELDS_OFFSET + 8 * index).load(Ordering::Relaxed));
                }
                fence(Ordering::Acquire);
                if sequence.load(Ordering::Relaxed) == before {
                    return Some(State::from_words(words));
                }
            }
            if attempt < SPINS {
                spin_loop();
            } else {
                libc::sched_yield();
            }
        }
        None
    }
}
