//! Finding the real clock functions and mapping the control file, once per process.
//!
//! Done at load time by a constructor (before main, one thread), and on the first
//! clock call if that comes earlier (another library's constructor): whoever wins an
//! atomic compare-and-swap sets up; a call that meets the setup in progress does not
//! wait for it (it may be a signal handler interrupting it) but reads true time with a
//! raw system call. Once set up, the hot path only loads atomics.

use core::ffi::{c_char, c_int, c_void, CStr};
use core::ptr;
use core::sync::atomic::{AtomicPtr, AtomicU8, AtomicUsize, Ordering};

use crate::control::{Mapping, SIZE};

pub type ClockGettime = unsafe extern "C" fn(libc::clockid_t, *mut libc::timespec) -> c_int;
pub type Gettimeofday = unsafe extern "C" fn(*mut libc::timeval, *mut c_void) -> c_int;

const UNSET: u8 = 0;
const SETTING_UP: u8 = 1;
const READY: u8 = 2;

static PHASE: AtomicU8 = AtomicU8::new(UNSET);
static REAL_CLOCK_GETTIME: AtomicUsize = AtomicUsize::new(0);
static REAL_GETTIMEOFDAY: AtomicUsize = AtomicUsize::new(0);
static CONTROL: AtomicPtr<u8> = AtomicPtr::new(ptr::null_mut());

const CONTROL_ENV: &CStr = c"LOGQUAKE_CLOCK_FILE";

/// Runs when the dynamic linker loads the library.
#[used]
#[link_section = ".init_array"]
static SET_UP_AT_LOAD: extern "C" fn() = set_up_at_load;

extern "C" fn set_up_at_load() {
    ensure_set_up();
}

/// Whether setup is done: one load on the hot path, a compare-and-swap only before.
fn ensure_set_up() -> bool {
    if PHASE.load(Ordering::Acquire) == READY {
        return true;
    }
    match PHASE.compare_exchange(UNSET, SETTING_UP, Ordering::AcqRel, Ordering::Acquire) {
        Ok(_) => {
            unsafe { set_up() };
            PHASE.store(READY, Ordering::Release);
            true
        }
        Err(phase) => phase == READY,
    }
}

unsafe fn set_up() {
    REAL_CLOCK_GETTIME.store(next_symbol(c"clock_gettime"), Ordering::Relaxed);
    REAL_GETTIMEOFDAY.store(next_symbol(c"gettimeofday"), Ordering::Relaxed);
    CONTROL.store(map_control_file(), Ordering::Relaxed);
}

unsafe fn next_symbol(name: &CStr) -> usize {
    libc::dlsym(libc::RTLD_NEXT, name.as_ptr()) as usize
}

/// The control file named by LOGQUAKE_CLOCK_FILE, mapped shared and read-only; null
/// (true time) if the variable is unset, or, said once on stderr, if the file cannot
/// be opened or is not a control file.
unsafe fn map_control_file() -> *mut u8 {
    let path = libc::getenv(CONTROL_ENV.as_ptr());
    if path.is_null() {
        return ptr::null_mut();
    }
    let fd = libc::open(path, libc::O_RDONLY | libc::O_CLOEXEC);
    if fd < 0 {
        warn(path, c"cannot be opened");
        return ptr::null_mut();
    }
    let mut status: libc::stat = core::mem::zeroed();
    let big_enough = libc::fstat(fd, &mut status) == 0
        && (status.st_mode & libc::S_IFMT) == libc::S_IFREG
        && status.st_size >= SIZE as libc::off_t;
    let mapped = if big_enough {
        libc::mmap(ptr::null_mut(), SIZE, libc::PROT_READ, libc::MAP_SHARED, fd, 0)
    } else {
        libc::MAP_FAILED
    };
    libc::close(fd);
    if mapped == libc::MAP_FAILED {
        warn(path, c"is not a clock control file (too short, or not a regular file)");
        return ptr::null_mut();
    }
    if !Mapping(mapped as *const u8).recognised() {
        libc::munmap(mapped, SIZE);
        warn(path, c"is not a clock control file (unknown magic or version)");
        return ptr::null_mut();
    }
    mapped as *mut u8
}

unsafe fn warn(path: *const c_char, problem: &CStr) {
    let parts: [&[u8]; 5] = [
        b"logquake clock shift: the control file ",
        CStr::from_ptr(path).to_bytes(),
        b" ",
        problem.to_bytes(),
        b"; this process keeps true time\n",
    ];
    for part in parts {
        libc::write(libc::STDERR_FILENO, part.as_ptr() as *const c_void, part.len());
    }
}

/// The control file, if this process has one that it follows.
pub fn control() -> Option<Mapping> {
    if !ensure_set_up() {
        return None;
    }
    let mapped = CONTROL.load(Ordering::Relaxed);
    (!mapped.is_null()).then_some(Mapping(mapped))
}

/// libc's clock_gettime, or the system call while the library is being set up.
pub fn real_clock_gettime() -> ClockGettime {
    let found = if ensure_set_up() { REAL_CLOCK_GETTIME.load(Ordering::Relaxed) } else { 0 };
    if found == 0 {
        syscall_clock_gettime
    } else {
        unsafe { core::mem::transmute::<usize, ClockGettime>(found) }
    }
}

/// libc's gettimeofday, or the system call while the library is being set up.
pub fn real_gettimeofday() -> Gettimeofday {
    let found = if ensure_set_up() { REAL_GETTIMEOFDAY.load(Ordering::Relaxed) } else { 0 };
    if found == 0 {
        syscall_gettimeofday
    } else {
        unsafe { core::mem::transmute::<usize, Gettimeofday>(found) }
    }
}

unsafe extern "C" fn syscall_clock_gettime(clock: libc::clockid_t, time: *mut libc::timespec) -> c_int {
    libc::syscall(libc::SYS_clock_gettime, clock, time) as c_int
}

unsafe extern "C" fn syscall_gettimeofday(time: *mut libc::timeval, zone: *mut c_void) -> c_int {
    libc::syscall(libc::SYS_gettimeofday, time, zone) as c_int
}
