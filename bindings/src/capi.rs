//! Tessera's native C API: the tiled and asynchronous levels, declared in
//! `bindings/include/tessera.h` (generated from this file by cbindgen and checked by the
//! `header` test, so the two cannot drift apart).
//!
//! A `tessera_runtime` owns the worker threads; a `tessera_matrix` is a tile matrix of one
//! of four element types, filled from and copied back to column-major buffers; routines
//! work on matrices, either waiting (`tessera_potrf`) or submitting into a
//! `tessera_sequence` and returning at once (`tessera_potrf_async`), to be waited for with
//! `tessera_sequence_wait`.
//!
//! Return codes: `0` success; `> 0` LAPACK's numerical INFO (`TESSERA_ERROR_*` never
//! overlap with it); `-k` argument `k` of the C function is invalid;
//! [`TESSERA_ERROR_INTERNAL`] anything else. `tessera_last_error()` describes the last
//! failure of the calling thread. No call panics across the API.

#![allow(clippy::missing_safety_doc)]

use crate::common::write_ipiv;
use num_complex::{Complex32, Complex64};
use std::cell::RefCell;
use std::ffi::{c_char, c_int, c_void, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use tessera::dense;
use tessera::runtime::{Runtime, RuntimeConfig, Sequence};
use tessera::tile::TileMatrix;
use tessera::Error;
use tessera_kernels::{Op, Scalar, Uplo};

/// Returned for failures that are neither numerical (INFO > 0) nor an invalid argument.
pub const TESSERA_ERROR_INTERNAL: c_int = -1000;

/// Element type of a matrix.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum tessera_dtype {
    /// `float`
    TESSERA_F32 = 0,
    /// `double`
    TESSERA_F64 = 1,
    /// `float _Complex`
    TESSERA_C32 = 2,
    /// `double _Complex`
    TESSERA_C64 = 3,
}

/// A task runtime (worker threads and scheduler).
pub struct tessera_runtime {
    rt: Runtime,
}

enum Any {
    F32(TileMatrix<f32>),
    F64(TileMatrix<f64>),
    C32(TileMatrix<Complex32>),
    C64(TileMatrix<Complex64>),
}

/// A tile matrix.
pub struct tessera_matrix {
    m: Any,
}

type Finalizer = Box<dyn FnOnce() -> Result<(), Error> + Send>;

/// A sequence of submitted tasks that can be waited for as a whole.
pub struct tessera_sequence {
    seq: Sequence,
    after: Vec<Finalizer>,
}

thread_local! {
    static LAST: RefCell<CString> = RefCell::new(CString::default());
}

fn set_last(msg: &str) {
    LAST.with(|l| *l.borrow_mut() = CString::new(msg.replace('\0', " ")).unwrap_or_default());
}

/// Runs an entry point: panics are caught, errors become codes and a message.
fn entry(f: impl FnOnce() -> Result<(), Error>) -> c_int {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => 0,
        Ok(Err(e)) => {
            set_last(&e.to_string());
            match e {
                Error::NotPositiveDefinite { .. }
                | Error::Singular { .. }
                | Error::RankDeficient { .. } => e.info(),
                Error::InvalidArgument { position, .. } if position > 0 => -position,
                _ => TESSERA_ERROR_INTERNAL,
            }
        }
        Err(_) => {
            set_last("internal error: a panic was caught");
            TESSERA_ERROR_INTERNAL
        }
    }
}

fn invalid(position: i32, msg: &str) -> Error {
    Error::InvalidArgument {
        position,
        message: msg.to_string(),
    }
}

fn uplo(c: c_char, pos: i32) -> Result<Uplo, Error> {
    match (c as u8).to_ascii_uppercase() {
        b'L' => Ok(Uplo::Lower),
        b'U' => Ok(Uplo::Upper),
        _ => Err(invalid(pos, "uplo must be 'L' or 'U'")),
    }
}

fn op(c: c_char, pos: i32) -> Result<Op, Error> {
    match (c as u8).to_ascii_uppercase() {
        b'N' => Ok(Op::NoTrans),
        b'T' => Ok(Op::Trans),
        b'C' => Ok(Op::ConjTrans),
        _ => Err(invalid(pos, "trans must be 'N', 'T' or 'C'")),
    }
}

unsafe fn rt_ref<'a>(rt: *const tessera_runtime, pos: i32) -> Result<&'a Runtime, Error> {
    // SAFETY: a pointer from tessera_runtime_create or null.
    unsafe { rt.as_ref() }
        .map(|r| &r.rt)
        .ok_or_else(|| invalid(pos, "runtime is NULL"))
}

unsafe fn mat_ref<'a>(m: *const tessera_matrix, pos: i32) -> Result<&'a Any, Error> {
    // SAFETY: a pointer from tessera_matrix_create or null.
    unsafe { m.as_ref() }
        .map(|m| &m.m)
        .ok_or_else(|| invalid(pos, "matrix is NULL"))
}

unsafe fn seq_mut<'a>(
    s: *mut tessera_sequence,
    pos: i32,
) -> Result<&'a mut tessera_sequence, Error> {
    // SAFETY: a pointer from tessera_sequence_create or null.
    unsafe { s.as_mut() }.ok_or_else(|| invalid(pos, "sequence is NULL"))
}

/// Dispatches on the element types of one, two or three matrices (which must agree).
macro_rules! with_types {
    ($a:expr, |$x:ident| $body:expr) => {
        match $a {
            Any::F32($x) => $body,
            Any::F64($x) => $body,
            Any::C32($x) => $body,
            Any::C64($x) => $body,
        }
    };
    ($a:expr, $b:expr, $pos:expr, |$x:ident, $y:ident| $body:expr) => {
        match ($a, $b) {
            (Any::F32($x), Any::F32($y)) => $body,
            (Any::F64($x), Any::F64($y)) => $body,
            (Any::C32($x), Any::C32($y)) => $body,
            (Any::C64($x), Any::C64($y)) => $body,
            _ => Err(invalid($pos, "matrices of different element types")),
        }
    };
    ($a:expr, $b:expr, $c:expr, $pos:expr, |$x:ident, $y:ident, $z:ident| $body:expr) => {
        match ($a, $b, $c) {
            (Any::F32($x), Any::F32($y), Any::F32($z)) => $body,
            (Any::F64($x), Any::F64($y), Any::F64($z)) => $body,
            (Any::C32($x), Any::C32($y), Any::C32($z)) => $body,
            (Any::C64($x), Any::C64($y), Any::C64($z)) => $body,
            _ => Err(invalid($pos, "matrices of different element types")),
        }
    };
}

/// Drops a boxed object handed out to C; NULL is ignored, a panic in its drop is caught.
///
/// # Safety
/// `p` is null or came from `Box::into_raw` and is not used afterwards.
unsafe fn free<T>(p: *mut T) {
    if !p.is_null() {
        // SAFETY: by the caller's contract.
        let _ = catch_unwind(AssertUnwindSafe(|| drop(unsafe { Box::from_raw(p) })));
    }
}

/// The message of the calling thread's last failed call (empty if none). Valid until the
/// thread's next failing call.
#[no_mangle]
pub extern "C" fn tessera_last_error() -> *const c_char {
    LAST.with(|l| l.borrow().as_ptr())
}

/// Starts a runtime with `workers` threads (`<= 0`: one per core, or `TESSERA_NUM_THREADS`).
#[no_mangle]
pub unsafe extern "C" fn tessera_runtime_create(
    workers: c_int,
    out: *mut *mut tessera_runtime,
) -> c_int {
    entry(|| {
        if out.is_null() {
            return Err(invalid(2, "out is NULL"));
        }
        let cfg = if workers > 0 {
            RuntimeConfig::with_workers(workers as usize)
        } else {
            RuntimeConfig::default()
        };
        let rt = Box::new(tessera_runtime {
            rt: Runtime::new(cfg),
        });
        // SAFETY: `out` is a valid pointer to write to.
        unsafe { *out = Box::into_raw(rt) };
        Ok(())
    })
}

/// Waits for the runtime's tasks and stops its workers. NULL is ignored.
#[no_mangle]
pub unsafe extern "C" fn tessera_runtime_destroy(rt: *mut tessera_runtime) {
    // SAFETY: a pointer from tessera_runtime_create (or null), destroyed once.
    unsafe { free(rt) }
}

/// The number of worker threads of `rt` (0 for NULL).
#[no_mangle]
pub unsafe extern "C" fn tessera_runtime_workers(rt: *const tessera_runtime) -> c_int {
    // SAFETY: a pointer from tessera_runtime_create or null.
    unsafe { rt.as_ref() }.map_or(0, |r| r.rt.workers() as c_int)
}

fn from_buffer<T: Scalar>(
    rt: &Runtime,
    m: usize,
    n: usize,
    nb: usize,
    a: *const c_void,
    lda: i64,
) -> Result<TileMatrix<T>, Error> {
    if a.is_null() {
        return Ok(TileMatrix::zeros(m, n, nb, nb));
    }
    let v = if m == 0 || n == 0 {
        faer::MatRef::<T>::from_column_major_slice(&[], m, n)
    } else {
        // SAFETY: the caller's buffer holds an m x n column-major matrix with leading
        // dimension lda (checked >= m), alive during the call.
        unsafe { faer::MatRef::from_raw_parts(a as *const T, m, n, 1, lda as isize) }
    };
    TileMatrix::from_col_major(rt, v, nb, nb)
}

/// Creates an `m x n` tile matrix with square `nb x nb` tiles (`nb <= 0`: chosen from the
/// size, as the LAPACK interface does), copied from the column-major buffer `a` with
/// leading dimension `lda >= max(1, m)`, or zero when `a` is NULL. The buffer is not kept.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn tessera_matrix_create(
    rt: *const tessera_runtime,
    dtype: tessera_dtype,
    m: i64,
    n: i64,
    nb: i64,
    a: *const c_void,
    lda: i64,
    out: *mut *mut tessera_matrix,
) -> c_int {
    entry(|| {
        // SAFETY: checked pointer.
        let rt = unsafe { rt_ref(rt, 1)? };
        if m < 0 {
            return Err(invalid(3, "m < 0"));
        }
        if n < 0 {
            return Err(invalid(4, "n < 0"));
        }
        if !a.is_null() && lda < m.max(1) {
            return Err(invalid(7, "lda < max(1, m)"));
        }
        if out.is_null() {
            return Err(invalid(8, "out is NULL"));
        }
        let (mu, nu) = (m as usize, n as usize);
        let nb = if nb > 0 {
            nb as usize
        } else {
            dense::auto_tile_size(mu, nu, rt.workers()).max(1)
        };
        let any = match dtype {
            tessera_dtype::TESSERA_F32 => Any::F32(from_buffer(rt, mu, nu, nb, a, lda)?),
            tessera_dtype::TESSERA_F64 => Any::F64(from_buffer(rt, mu, nu, nb, a, lda)?),
            tessera_dtype::TESSERA_C32 => Any::C32(from_buffer(rt, mu, nu, nb, a, lda)?),
            tessera_dtype::TESSERA_C64 => Any::C64(from_buffer(rt, mu, nu, nb, a, lda)?),
        };
        // SAFETY: `out` is a valid pointer to write to.
        unsafe { *out = Box::into_raw(Box::new(tessera_matrix { m: any })) };
        Ok(())
    })
}

/// Copies `a` into the column-major buffer `dst` (leading dimension `ld >= max(1, m)`),
/// after every task already submitted on `a` has run.
#[no_mangle]
pub unsafe extern "C" fn tessera_matrix_read(
    rt: *const tessera_runtime,
    a: *const tessera_matrix,
    dst: *mut c_void,
    ld: i64,
) -> c_int {
    entry(|| {
        // SAFETY: checked pointers.
        let (rt, a) = unsafe { (rt_ref(rt, 1)?, mat_ref(a, 2)?) };
        if dst.is_null() {
            return Err(invalid(3, "dst is NULL"));
        }
        with_types!(a, |x| {
            if ld < (x.m() as i64).max(1) {
                return Err(invalid(4, "ld < max(1, m)"));
            }
            if x.m() == 0 || x.n() == 0 {
                return Ok(());
            }
            // SAFETY: the caller's buffer holds m x n with leading dimension ld.
            let v = unsafe {
                faer::MatMut::from_raw_parts_mut(dst as *mut _, x.m(), x.n(), 1, ld as isize)
            };
            x.to_col_major(rt, v)
        })
    })
}

/// Frees a matrix (tasks already submitted on it keep what they need). NULL is ignored.
#[no_mangle]
pub unsafe extern "C" fn tessera_matrix_destroy(a: *mut tessera_matrix) {
    // SAFETY: a pointer from tessera_matrix_create (or null), destroyed once.
    unsafe { free(a) }
}

/// Rows of `a` (0 for NULL).
#[no_mangle]
pub unsafe extern "C" fn tessera_matrix_rows(a: *const tessera_matrix) -> i64 {
    // SAFETY: checked pointer.
    unsafe { mat_ref(a, 1) }.map_or(0, |a| with_types!(a, |x| x.m() as i64))
}

/// Columns of `a` (0 for NULL).
#[no_mangle]
pub unsafe extern "C" fn tessera_matrix_cols(a: *const tessera_matrix) -> i64 {
    // SAFETY: checked pointer.
    unsafe { mat_ref(a, 1) }.map_or(0, |a| with_types!(a, |x| x.n() as i64))
}

/// Tile size of `a` (0 for NULL).
#[no_mangle]
pub unsafe extern "C" fn tessera_matrix_tile_size(a: *const tessera_matrix) -> i64 {
    // SAFETY: checked pointer.
    unsafe { mat_ref(a, 1) }.map_or(0, |a| with_types!(a, |x| x.nb() as i64))
}

/// Cholesky factorization in place (`uplo` 'L': A = L L^H, 'U': A = U^H U). Returns the
/// order of the first non-positive leading minor (> 0) on failure.
#[no_mangle]
pub unsafe extern "C" fn tessera_potrf(
    rt: *const tessera_runtime,
    uplo_: c_char,
    a: *mut tessera_matrix,
) -> c_int {
    entry(|| {
        // SAFETY: checked pointers.
        let (rt, a) = unsafe { (rt_ref(rt, 1)?, mat_ref(a, 3)?) };
        let u = uplo(uplo_, 2)?;
        with_types!(a, |x| dense::potrf(rt, u, x))
    })
}

/// Solves `A X = B` with the Cholesky factor from `tessera_potrf`; `b` is overwritten.
#[no_mangle]
pub unsafe extern "C" fn tessera_potrs(
    rt: *const tessera_runtime,
    uplo_: c_char,
    a: *const tessera_matrix,
    b: *mut tessera_matrix,
) -> c_int {
    entry(|| {
        // SAFETY: checked pointers.
        let (rt, a, b) = unsafe { (rt_ref(rt, 1)?, mat_ref(a, 3)?, mat_ref(b, 4)?) };
        let u = uplo(uplo_, 2)?;
        with_types!(a, b, 4, |x, y| dense::potrs(rt, u, x, y))
    })
}

/// Cholesky factorization and solve; `a` holds the factor and `b` the solution.
#[no_mangle]
pub unsafe extern "C" fn tessera_posv(
    rt: *const tessera_runtime,
    uplo_: c_char,
    a: *mut tessera_matrix,
    b: *mut tessera_matrix,
) -> c_int {
    entry(|| {
        // SAFETY: checked pointers.
        let (rt, a, b) = unsafe { (rt_ref(rt, 1)?, mat_ref(a, 3)?, mat_ref(b, 4)?) };
        let u = uplo(uplo_, 2)?;
        with_types!(a, b, 4, |x, y| dense::posv(rt, u, x, y))
    })
}

/// LU factorization with partial pivoting in place; `ipiv` (min(m, n) entries) receives
/// LAPACK's 1-based pivots. Returns `i > 0` if `U(i, i)` is exactly zero (the factors are
/// complete).
#[no_mangle]
pub unsafe extern "C" fn tessera_getrf(
    rt: *const tessera_runtime,
    a: *mut tessera_matrix,
    ipiv: *mut i32,
) -> c_int {
    entry(|| {
        // SAFETY: checked pointers.
        let (rt, a) = unsafe { (rt_ref(rt, 1)?, mat_ref(a, 2)?) };
        if ipiv.is_null() {
            return Err(invalid(3, "ipiv is NULL"));
        }
        with_types!(a, |x| {
            let mut piv = vec![0usize; x.m().min(x.n())];
            let r = dense::getrf(rt, x, &mut piv);
            if matches!(r, Ok(()) | Err(Error::Singular { .. })) {
                // SAFETY: the caller's ipiv holds min(m, n) entries.
                unsafe { write_ipiv(ipiv, &piv) };
            }
            r
        })
    })
}

fn read_ipiv(ipiv: *const i32, n: usize, pos: i32) -> Result<Vec<usize>, Error> {
    if ipiv.is_null() {
        return Err(invalid(pos, "ipiv is NULL"));
    }
    // SAFETY: the caller's ipiv holds n entries.
    let ip = unsafe { std::slice::from_raw_parts(ipiv, n) };
    ip.iter()
        .map(|&p| {
            if p >= 1 && p as usize <= n {
                Ok(p as usize - 1)
            } else {
                Err(invalid(pos, "ipiv entry out of range"))
            }
        })
        .collect()
}

/// Solves `op(A) X = B` with the factors of `tessera_getrf` (`trans` 'N', 'T' or 'C').
#[no_mangle]
pub unsafe extern "C" fn tessera_getrs(
    rt: *const tessera_runtime,
    trans: c_char,
    a: *const tessera_matrix,
    ipiv: *const i32,
    b: *mut tessera_matrix,
) -> c_int {
    entry(|| {
        // SAFETY: checked pointers.
        let (rt, a, b) = unsafe { (rt_ref(rt, 1)?, mat_ref(a, 3)?, mat_ref(b, 5)?) };
        let t = op(trans, 2)?;
        with_types!(a, b, 5, |x, y| {
            let piv = read_ipiv(ipiv, x.m(), 4)?;
            dense::getrs(rt, t, x, &piv, y)
        })
    })
}

/// Solves `A X = B` by LU with partial pivoting; `a` holds the factors, `ipiv` the pivots
/// and `b` the solution (untouched if `A` is singular).
#[no_mangle]
pub unsafe extern "C" fn tessera_gesv(
    rt: *const tessera_runtime,
    a: *mut tessera_matrix,
    ipiv: *mut i32,
    b: *mut tessera_matrix,
) -> c_int {
    entry(|| {
        // SAFETY: checked pointers.
        let (rt, a, b) = unsafe { (rt_ref(rt, 1)?, mat_ref(a, 2)?, mat_ref(b, 4)?) };
        if ipiv.is_null() {
            return Err(invalid(3, "ipiv is NULL"));
        }
        with_types!(a, b, 4, |x, y| {
            let mut piv = vec![0usize; x.m()];
            let r = dense::gesv(rt, x, &mut piv, y);
            if matches!(r, Ok(()) | Err(Error::Singular { .. })) {
                // SAFETY: the caller's ipiv holds min(m, n) entries.
                unsafe { write_ipiv(ipiv, &piv) };
            }
            r
        })
    })
}

/// Least squares (`m >= n`) or minimum norm (`m < n`) solution of `op(A) X = B`, `trans`
/// 'N' or 'C' ('T' for real types); `b` has `max(m, n)` rows and receives `X` on top.
#[no_mangle]
pub unsafe extern "C" fn tessera_gels(
    rt: *const tessera_runtime,
    trans: c_char,
    a: *mut tessera_matrix,
    b: *mut tessera_matrix,
) -> c_int {
    entry(|| {
        // SAFETY: checked pointers.
        let (rt, a, b) = unsafe { (rt_ref(rt, 1)?, mat_ref(a, 3)?, mat_ref(b, 4)?) };
        let t = op(trans, 2)?;
        with_types!(a, b, 4, |x, y| dense::gels_op(rt, t, x, y))
    })
}

/// Reads a scalar of the matrix's element type from `p`.
unsafe fn scalar<T: Scalar>(p: *const c_void, pos: i32) -> Result<T, Error> {
    if p.is_null() {
        return Err(invalid(pos, "scalar pointer is NULL"));
    }
    // SAFETY: `p` points to a value of the matrices' element type.
    Ok(unsafe { *(p as *const T) })
}

/// `C = alpha op(A) op(B) + beta C`; `alpha` and `beta` point to values of the matrices'
/// element type.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn tessera_gemm(
    rt: *const tessera_runtime,
    transa: c_char,
    transb: c_char,
    alpha: *const c_void,
    a: *const tessera_matrix,
    b: *const tessera_matrix,
    beta: *const c_void,
    c: *mut tessera_matrix,
) -> c_int {
    entry(|| {
        // SAFETY: checked pointer.
        let rt = unsafe { rt_ref(rt, 1)? };
        let seq = rt.sequence();
        // SAFETY: forwarded pointers.
        unsafe { submit_gemm(&seq, transa, transb, alpha, a, b, beta, c)? };
        seq.wait()
    })
}

#[allow(clippy::too_many_arguments)]
unsafe fn submit_gemm(
    seq: &Sequence,
    transa: c_char,
    transb: c_char,
    alpha: *const c_void,
    a: *const tessera_matrix,
    b: *const tessera_matrix,
    beta: *const c_void,
    c: *mut tessera_matrix,
) -> Result<(), Error> {
    let (ta, tb) = (op(transa, 2)?, op(transb, 3)?);
    // SAFETY: checked pointers.
    let (a, b, c) = unsafe { (mat_ref(a, 5)?, mat_ref(b, 6)?, mat_ref(c, 8)?) };
    with_types!(a, b, c, 6, |x, y, z| {
        // SAFETY: the scalars have the matrices' type.
        let (al, be) = unsafe { (scalar(alpha, 4)?, scalar(beta, 7)?) };
        dense::gemm_async(seq, ta, tb, al, x, y, be, z)
    })
}

/// Creates an empty sequence on `rt`.
#[no_mangle]
pub unsafe extern "C" fn tessera_sequence_create(
    rt: *const tessera_runtime,
    out: *mut *mut tessera_sequence,
) -> c_int {
    entry(|| {
        // SAFETY: checked pointer.
        let rt = unsafe { rt_ref(rt, 1)? };
        if out.is_null() {
            return Err(invalid(2, "out is NULL"));
        }
        let s = Box::new(tessera_sequence {
            seq: rt.sequence(),
            after: Vec::new(),
        });
        // SAFETY: `out` is a valid pointer to write to.
        unsafe { *out = Box::into_raw(s) };
        Ok(())
    })
}

/// Waits for every task of the sequence; returns the first error of its tasks (e.g. the
/// INFO of a failed factorization), then completes the outputs of asynchronous calls
/// (`ipiv` of `tessera_getrf_async`). The sequence can be reused.
#[no_mangle]
pub unsafe extern "C" fn tessera_sequence_wait(seq: *mut tessera_sequence) -> c_int {
    entry(|| {
        // SAFETY: checked pointer.
        let s = unsafe { seq_mut(seq, 1)? };
        let r = s.seq.wait();
        let mut rest = Ok(());
        for f in s.after.drain(..) {
            let x = f();
            if rest.is_ok() {
                rest = x;
            }
        }
        r.and(rest)
    })
}

/// Waits for the sequence's tasks and frees it. NULL is ignored.
#[no_mangle]
pub unsafe extern "C" fn tessera_sequence_destroy(seq: *mut tessera_sequence) {
    if !seq.is_null() {
        // SAFETY: a pointer from tessera_sequence_create, destroyed once.
        let _ = catch_unwind(AssertUnwindSafe(|| {
            let mut s = unsafe { Box::from_raw(seq) };
            let _ = s.seq.wait();
            for f in s.after.drain(..) {
                let _ = f();
            }
        }));
    }
}

/// Submits the Cholesky factorization of `a` into `seq` and returns.
#[no_mangle]
pub unsafe extern "C" fn tessera_potrf_async(
    seq: *mut tessera_sequence,
    uplo_: c_char,
    a: *mut tessera_matrix,
) -> c_int {
    entry(|| {
        // SAFETY: checked pointers.
        let (s, a) = unsafe { (seq_mut(seq, 1)?, mat_ref(a, 3)?) };
        let u = uplo(uplo_, 2)?;
        with_types!(a, |x| dense::potrf_async(&s.seq, u, x))
    })
}

/// Submits the Cholesky solve `A X = B` into `seq` and returns.
#[no_mangle]
pub unsafe extern "C" fn tessera_potrs_async(
    seq: *mut tessera_sequence,
    uplo_: c_char,
    a: *const tessera_matrix,
    b: *mut tessera_matrix,
) -> c_int {
    entry(|| {
        // SAFETY: checked pointers.
        let (s, a, b) = unsafe { (seq_mut(seq, 1)?, mat_ref(a, 3)?, mat_ref(b, 4)?) };
        let u = uplo(uplo_, 2)?;
        with_types!(a, b, 4, |x, y| dense::potrs_async(&s.seq, u, x, y))
    })
}

/// Submits the LU factorization with partial pivoting into `seq` and returns; `ipiv`
/// (min(m, n) entries, kept alive by the caller until the wait) is filled by
/// `tessera_sequence_wait`, which also reports a zero pivot as INFO > 0.
#[no_mangle]
pub unsafe extern "C" fn tessera_getrf_async(
    seq: *mut tessera_sequence,
    a: *mut tessera_matrix,
    ipiv: *mut i32,
) -> c_int {
    entry(|| {
        // SAFETY: checked pointers.
        let (s, a) = unsafe { (seq_mut(seq, 1)?, mat_ref(a, 2)?) };
        if ipiv.is_null() {
            return Err(invalid(3, "ipiv is NULL"));
        }
        let ip = ipiv as usize;
        with_types!(a, |x| {
            let (pivots, info) = dense::pivot_handles(x);
            dense::getrf_async(&s.seq, x, &pivots, &info, dense::LuOptions::default())?;
            let a = x.clone();
            s.after.push(Box::new(move || {
                let mut piv = vec![0usize; a.m().min(a.n())];
                let r = dense::finish_pivots_local(&a, pivots, &info, &mut piv);
                if matches!(r, Ok(()) | Err(Error::Singular { .. })) {
                    // SAFETY: the caller keeps ipiv (min(m, n) entries) alive until the wait.
                    unsafe { write_ipiv(ip as *mut i32, &piv) };
                }
                r
            }));
            Ok(())
        })
    })
}

/// Submits `C = alpha op(A) op(B) + beta C` into `seq` and returns.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn tessera_gemm_async(
    seq: *mut tessera_sequence,
    transa: c_char,
    transb: c_char,
    alpha: *const c_void,
    a: *const tessera_matrix,
    b: *const tessera_matrix,
    beta: *const c_void,
    c: *mut tessera_matrix,
) -> c_int {
    entry(|| {
        // SAFETY: checked pointer.
        let s = unsafe { seq_mut(seq, 1)? };
        // SAFETY: forwarded pointers.
        unsafe { submit_gemm(&s.seq, transa, transb, alpha, a, b, beta, c) }
    })
}
