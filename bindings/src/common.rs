//! What every entry point shares: the process-wide runtime, LAPACK's argument conventions
//! (characters, `xerbla_`), panic containment, and raw-buffer views.

use faer::{MatMut, MatRef};
use std::ffi::{c_char, c_int};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Mutex, OnceLock};
use tessera::runtime::{Runtime, RuntimeConfig};
use tessera::Error;
use tessera_kernels::Scalar;

/// Outcome of a LAPACK routine: `Ok(info >= 0)`, or `Err(k)` when argument `k` (1-based,
/// LAPACK's numbering) is illegal.
pub(crate) type Out = Result<i32, i32>;

/// INFO returned when something LAPACK has no code for went wrong (a task panicked, the
/// runtime could not start): negative like an illegal argument, so that `INFO != 0` tests
/// catch it, and outside any argument number. The reason is printed on stderr.
pub const INFO_INTERNAL: i32 = -1000;

/// The process-wide runtime used by the LAPACK-layout entry points, created on first use
/// with [`RuntimeConfig::default`] (`TESSERA_NUM_THREADS` workers, else one per core).
/// A forked child gets its own (the parent's workers do not exist in the child).
pub(crate) fn runtime() -> &'static Runtime {
    static RT: Mutex<Option<(u32, &'static Runtime)>> = Mutex::new(None);
    let pid = std::process::id();
    let mut g = RT.lock().unwrap_or_else(|p| p.into_inner());
    match *g {
        Some((p, rt)) if p == pid => rt,
        _ => {
            // Leaked on purpose: it lives as long as the process, and the parent's runtime
            // must not be dropped in a forked child (its workers are not there to join).
            select_kernels();
            let rt: &'static Runtime = Box::leak(Box::new(Runtime::new(RuntimeConfig::default())));
            *g = Some((pid, rt));
            rt
        }
    }
}

/// The tile-kernel backend of the LAPACK interface: `TESSERA_KERNELS=blas` runs the level-3
/// tile kernels on the system BLAS (loaded at run time, single-threaded per task),
/// `faer` (the default) on faer's.
fn select_kernels() {
    match tessera::env::kernels_override() {
        Some("blas") => {
            if let Err(e) = tessera_kernels::sysblas::use_system_blas() {
                eprintln!("tessera: TESSERA_KERNELS=blas: {e}; using faer's kernels");
            }
        }
        Some("faer") | None => tessera_kernels::sysblas::use_faer(),
        Some(other) => {
            eprintln!("tessera: TESSERA_KERNELS={other} is not faer or blas; using faer's kernels")
        }
    }
}

/// The first character of a Fortran CHARACTER argument, upper-cased (LAPACK's `LSAME`
/// compares only the first character, case-insensitively).
///
/// # Safety
/// `c` must point to a readable byte.
pub(crate) unsafe fn ch(c: *const c_char) -> u8 {
    if c.is_null() {
        return 0;
    }
    // SAFETY: the caller passes a valid CHARACTER argument.
    unsafe { *c as u8 }.to_ascii_uppercase()
}

/// Reads a Fortran INTEGER argument.
///
/// # Safety
/// `p` must point to a readable `c_int`.
pub(crate) unsafe fn int(p: *const c_int) -> i32 {
    if p.is_null() {
        0
    } else {
        // SAFETY: the caller passes a valid INTEGER argument.
        unsafe { *p }
    }
}

type Xerbla = unsafe extern "C" fn(*const c_char, *const c_int, usize);

extern "C" {
    fn dlsym(handle: *mut std::ffi::c_void, symbol: *const c_char) -> *mut std::ffi::c_void;
}

/// glibc's and musl's `RTLD_DEFAULT`: search the global scope in load order, starting with
/// the executable.
#[cfg(not(target_os = "macos"))]
const RTLD_DEFAULT: *mut std::ffi::c_void = std::ptr::null_mut();
#[cfg(target_os = "macos")]
const RTLD_DEFAULT: *mut std::ffi::c_void = -2isize as *mut std::ffi::c_void;

/// The address of `name` (NUL-terminated) in the process's global symbol scope.
fn global_symbol(name: &[u8]) -> Option<*mut std::ffi::c_void> {
    // SAFETY: `name` is NUL-terminated; dlsym only reads it.
    let p = unsafe { dlsym(RTLD_DEFAULT, name.as_ptr() as *const c_char) };
    (!p.is_null()).then_some(p)
}

/// Reports illegal argument `k` of `name` (e.g. "DPOTRF") the way LAPACK does: through the
/// `xerbla_` found in the process's global symbol scope, so that a program's own XERBLA
/// (which LAPACK's test suite relies on) or the system LAPACK's is the one called. Tessera
/// defines none; when no `xerbla_` exists it prints LAPACK's message on stderr and returns
/// (it never stops the program).
pub(crate) fn xerbla(name: &str, k: i32) {
    static SYM: OnceLock<Option<Xerbla>> = OnceLock::new();
    let f = SYM.get_or_init(|| {
        // SAFETY: `xerbla_` is LAPACK's `SUBROUTINE XERBLA(SRNAME, INFO)` with the hidden
        // length of SRNAME.
        global_symbol(b"xerbla_\0")
            .map(|p| unsafe { std::mem::transmute::<*mut std::ffi::c_void, Xerbla>(p) })
    });
    match f {
        // SAFETY: `name` is valid for `name.len()` bytes (no NUL is passed: the length is
        // the hidden argument), `k` lives across the call.
        Some(f) => unsafe { f(name.as_ptr() as *const c_char, &k, name.len()) },
        None => eprintln!(" ** On entry to {name:<6} parameter number {k:>2} had an illegal value"),
    }
}

type LapackeXerbla = unsafe extern "C" fn(*const c_char, c_int);

/// LAPACKE's error report: `LAPACKE_xerbla(name, info)` from the global scope if the
/// program (or a LAPACKE it links) defines one, else LAPACKE's message on stderr.
pub(crate) fn lapacke_xerbla(name: &str, info: i32) {
    static SYM: OnceLock<Option<LapackeXerbla>> = OnceLock::new();
    let f = SYM.get_or_init(|| {
        // SAFETY: `void LAPACKE_xerbla(const char *name, lapack_int info)`.
        global_symbol(b"LAPACKE_xerbla\0")
            .map(|p| unsafe { std::mem::transmute::<*mut std::ffi::c_void, LapackeXerbla>(p) })
    });
    let cname = std::ffi::CString::new(name).unwrap_or_default();
    match f {
        // SAFETY: a NUL-terminated name, as LAPACKE passes it.
        Some(f) => unsafe { f(cname.as_ptr(), info) },
        None => eprintln!("Wrong parameter {} in {name}", -info),
    }
}

/// Runs the body of an entry point: a panic is caught (it must never unwind into C or
/// Fortran) and becomes [`INFO_INTERNAL`] with the reason on stderr.
pub(crate) fn guard(name: &str, f: impl FnOnce() -> Out) -> Out {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(p) => {
            let msg = p
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| p.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            eprintln!("tessera: {name} failed: {msg}");
            Ok(INFO_INTERNAL)
        }
    }
}

/// Maps the error of a Tessera call to LAPACK's INFO. Numerical failures keep their LAPACK
/// meaning; a NaN or infinity (which LAPACK would silently spread through the result) is
/// reported as `INFO = nan_info(row, col)` with a line on stderr; anything else is
/// [`INFO_INTERNAL`] with the reason on stderr.
pub(crate) fn info_of(name: &str, e: &Error, nan_info: impl Fn(&str, usize, usize) -> i32) -> i32 {
    match e {
        Error::NotPositiveDefinite { .. }
        | Error::Singular { .. }
        | Error::RankDeficient { .. } => e.info(),
        Error::NotFinite { arg, row, col } => {
            let info = nan_info(arg, *row, *col);
            eprintln!(
                "tessera: {name}: {arg}({}, {}) is NaN or infinite; INFO = {info}",
                row + 1,
                col + 1
            );
            info
        }
        other => {
            eprintln!("tessera: {name} failed: {other}");
            INFO_INTERNAL
        }
    }
}

/// The LAPACK routine name for element type `T`: `"D"` + `base` (`"POTRF"` -> `"DPOTRF"`).
pub(crate) fn rname<T: Scalar>(base: &str) -> String {
    format!("{}{base}", T::DTYPE.lapack_prefix().to_ascii_uppercase())
}

/// `max(1, x)`.
pub(crate) fn max1(x: i32) -> i32 {
    x.max(1)
}

/// A column-major `m x n` view with leading dimension `ld` of a caller's buffer.
///
/// # Safety
/// `p` must be valid for reads of the `m x n` matrix with leading dimension `ld >= m`
/// for the returned lifetime (not needed when `m` or `n` is 0).
pub(crate) unsafe fn view<'a, T: Scalar>(p: *const T, m: i32, n: i32, ld: i32) -> MatRef<'a, T> {
    let (m, n) = (m.max(0) as usize, n.max(0) as usize);
    if m == 0 || n == 0 {
        return MatRef::from_column_major_slice(&[], m, n);
    }
    // SAFETY: by the caller's contract.
    unsafe { MatRef::from_raw_parts(p, m, n, 1, ld as isize) }
}

/// A mutable column-major view of a caller's buffer.
///
/// # Safety
/// As [`view`], for writes, and no other live reference to the region.
pub(crate) unsafe fn view_mut<'a, T: Scalar>(p: *mut T, m: i32, n: i32, ld: i32) -> MatMut<'a, T> {
    let (m, n) = (m.max(0) as usize, n.max(0) as usize);
    if m == 0 || n == 0 {
        return MatMut::from_column_major_slice_mut(&mut [], m, n);
    }
    // SAFETY: by the caller's contract.
    unsafe { MatMut::from_raw_parts_mut(p, m, n, 1, ld as isize) }
}

/// Writes a workspace size into `WORK(1)` (real part; imaginary part 0 for complex).
///
/// # Safety
/// `work` must be null or valid for one write.
pub(crate) unsafe fn set_work<T: Scalar>(work: *mut T, size: i32) {
    if !work.is_null() {
        // SAFETY: by the caller's contract.
        unsafe { *work = T::from_f64(size as f64) };
    }
}

/// Writes 0-based pivots as LAPACK's 1-based `IPIV`.
///
/// # Safety
/// `ipiv` must be valid for `piv.len()` writes.
pub(crate) unsafe fn write_ipiv(ipiv: *mut c_int, piv: &[usize]) {
    for (i, &p) in piv.iter().enumerate() {
        // SAFETY: by the caller's contract.
        unsafe { *ipiv.add(i) = p as c_int + 1 };
    }
}
