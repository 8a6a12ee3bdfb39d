//! Shifts a process's wall clock, and only its wall clock, by what logquake's harness
//! writes to a control file: preloaded (LD_PRELOAD) into a node's processes, it
//! overrides clock_gettime for CLOCK_REALTIME, CLOCK_REALTIME_COARSE and CLOCK_TAI,
//! gettimeofday and time. Every other clock (CLOCK_MONOTONIC and the rest) goes
//! straight to libc, so sleeps, timers and elapsed-time measurements are unaffected,
//! as they are by a real clock step.
//!
//! The control file is named by LOGQUAKE_CLOCK_FILE and mapped shared, so a change the
//! harness writes is seen at the next call. Without it, or with a file that is not a
//! control file, the process keeps true time. The overrides are async-signal-safe: no
//! allocation, no locks, no panics.

mod control;
mod setup;

use core::ffi::c_int;
use core::ffi::c_void;

use setup::{control, real_clock_gettime, real_gettimeofday};

const NANOS_PER_SECOND: i128 = 1_000_000_000;
const NANOS_PER_MICROSECOND: i128 = 1_000;

/// The shift the control file prescribes at this CLOCK_MONOTONIC time, in
/// nanoseconds (0 without a control file): what the overrides add, exported so that
/// tests can compare it with cluster/clock/control.py's ClockState.shift_ns.
#[no_mangle]
pub extern "C" fn logquake_clock_shift_ns(monotonic_ns: i64) -> i64 {
    match control() {
        Some(mapping) => unsafe { mapping.read() }.map_or(0, |state| state.shift_ns(monotonic_ns)),
        None => 0,
    }
}

/// The shift now, or None when there is nothing to shift by.
fn shift_now() -> Option<i64> {
    let mapping = control()?;
    let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    if unsafe { real_clock_gettime()(libc::CLOCK_MONOTONIC, &mut now) } != 0 {
        return None;
    }
    let monotonic_ns = (now.tv_sec as i128 * NANOS_PER_SECOND + now.tv_nsec as i128) as i64;
    let shift = unsafe { mapping.read() }?.shift_ns(monotonic_ns);
    (shift != 0).then_some(shift)
}

fn is_wall_clock(clock: libc::clockid_t) -> bool {
    matches!(clock, libc::CLOCK_REALTIME | libc::CLOCK_REALTIME_COARSE | libc::CLOCK_TAI)
}

/// Seconds and the remainder in `unit` nanoseconds of `seconds` + `nanoseconds` + `shift_ns`,
/// floored (a time before a whole second belongs to the second before), seconds clamped to i64.
fn shifted(seconds: i64, nanoseconds: i128, shift_ns: i64, unit: i128) -> (i64, i64) {
    let total = seconds as i128 * NANOS_PER_SECOND + nanoseconds + shift_ns as i128;
    let whole = total.div_euclid(NANOS_PER_SECOND).clamp(i64::MIN as i128, i64::MAX as i128);
    (whole as i64, (total.rem_euclid(NANOS_PER_SECOND) / unit) as i64)
}

/// # Safety
/// As libc's clock_gettime: `time` is null or points to a writable timespec.
#[no_mangle]
pub unsafe extern "C" fn clock_gettime(clock: libc::clockid_t, time: *mut libc::timespec) -> c_int {
    let result = real_clock_gettime()(clock, time);
    if result == 0 && !time.is_null() && is_wall_clock(clock) {
        if let Some(shift) = shift_now() {
            let (seconds, nanoseconds) = shifted((*time).tv_sec, (*time).tv_nsec as i128, shift, 1);
            (*time).tv_sec = seconds;
            (*time).tv_nsec = nanoseconds;
        }
    }
    result
}

/// # Safety
/// As libc's gettimeofday: each pointer is null or points to a writable struct.
#[no_mangle]
pub unsafe extern "C" fn gettimeofday(time: *mut libc::timeval, zone: *mut c_void) -> c_int {
    let result = real_gettimeofday()(time, zone);
    if result == 0 && !time.is_null() {
        if let Some(shift) = shift_now() {
            let micros = (*time).tv_usec as i128 * NANOS_PER_MICROSECOND;
            let (seconds, microseconds) = shifted((*time).tv_sec, micros, shift, NANOS_PER_MICROSECOND);
            (*time).tv_sec = seconds;
            (*time).tv_usec = microseconds;
        }
    }
    result
}

/// # Safety
/// As libc's time: `seconds` is null or points to a writable time_t.
#[no_mangle]
pub unsafe extern "C" fn time(seconds: *mut libc::time_t) -> libc::time_t {
    let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    if clock_gettime(libc::CLOCK_REALTIME, &mut now) != 0 {
        return -1;
    }
    if !seconds.is_null() {
        *seconds = now.tv_sec;
    }
    now.tv_sec
}
