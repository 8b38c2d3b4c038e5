//! LAPACKE, LAPACK's C interface (`LAPACKE_dgesv`, `LAPACKE_zpotrf_work`, ...), for the
//! same routines as [`crate::fortran`], with LAPACKE's rules: `matrix_layout` is
//! `LAPACK_ROW_MAJOR` (101) or `LAPACK_COL_MAJOR` (102), and anything else is argument 1;
//! row-major arrays are transposed into column-major copies and back, after LAPACKE's own
//! leading-dimension checks; the high-level functions check their input arrays for NaN
//! and return `-i` (the array's position) without calling anything, and allocate no
//! workspace (Tessera's routines need none); illegal arguments found by the computational
//! routine are reported by `xerbla_` with LAPACK's numbering and returned shifted by one
//! (the `matrix_layout` argument), as LAPACKE does. Exported as `LAPACKE_*` (feature
//! `lapack-symbols`) and `tessera_LAPACKE_*`.

#![allow(non_snake_case)]

use crate::common::{guard, lapacke_xerbla, rname, xerbla, Out};
use crate::routines as r;
use std::ffi::c_char;
use tessera_kernels::Scalar;

/// `LAPACK_ROW_MAJOR`.
pub const ROW_MAJOR: i32 = 101;
/// `LAPACK_COL_MAJOR`.
pub const COL_MAJOR: i32 = 102;

/// Runs a computational routine the way LAPACKE calls the Fortran one: an illegal argument
/// `k` is reported through `xerbla_` (LAPACK's numbering) and returned as `-(k + 1)`.
fn call(name: &str, f: impl FnOnce() -> Out) -> i32 {
    match guard(name, f) {
        Ok(v) => v,
        Err(k) => {
            xerbla(name, k);
            -(k + 1)
        }
    }
}

fn bad(name: &str, info: i32) -> i32 {
    lapacke_xerbla(name, info);
    info
}

fn up(c: c_char) -> u8 {
    (c as u8).to_ascii_uppercase()
}

/// A column-major copy of a row-major `rows x cols` matrix with leading dimension `ld`.
///
/// # Safety
/// `p` valid for the row-major matrix (or `rows`/`cols` is 0).
unsafe fn from_row_major<T: Scalar>(p: *const T, rows: i32, cols: i32, ld: i32) -> Vec<T> {
    let (m, n) = (rows.max(0) as usize, cols.max(0) as usize);
    let mut v = vec![T::zero(); m.max(1) * n];
    for i in 0..m {
        for j in 0..n {
            // SAFETY: by the caller's contract.
            v[i + j * m.max(1)] = unsafe { *p.add(i * ld as usize + j) };
        }
    }
    v
}

/// Writes a column-major copy back into a row-major matrix.
///
/// # Safety
/// `p` valid for writes of the row-major matrix.
unsafe fn to_row_major<T: Scalar>(v: &[T], p: *mut T, rows: i32, cols: i32, ld: i32) {
    let (m, n) = (rows.max(0) as usize, cols.max(0) as usize);
    for i in 0..m {
        for j in 0..n {
            // SAFETY: by the caller's contract.
            unsafe { *p.add(i * ld as usize + j) = v[i + j * m.max(1)] };
        }
    }
}

/// Whether a general matrix in `layout` holds a NaN (LAPACKE's `?ge_nancheck`).
///
/// # Safety
/// `p` valid for the matrix.
unsafe fn ge_nan<T: Scalar>(layout: i32, m: i32, n: i32, p: *const T, ld: i32) -> bool {
    let (m, n) = (m.max(0) as usize, n.max(0) as usize);
    let (outer, inner) = if layout == COL_MAJOR { (n, m) } else { (m, n) };
    (0..outer).any(|o| {
        (0..inner).any(|i| {
            // SAFETY: by the caller's contract.
            let x = unsafe { *p.add(o * ld as usize + i) };
            x.re().is_nan() || x.im().is_nan()
        })
    })
}

/// Whether the `uplo` triangle of a square matrix holds a NaN (LAPACKE's `?po_nancheck`).
///
/// # Safety
/// `p` valid for the matrix.
unsafe fn tri_nan<T: Scalar>(layout: i32, uplo: c_char, n: i32, p: *const T, ld: i32) -> bool {
    let n = n.max(0) as usize;
    let lower = up(uplo) == b'L';
    (0..n).any(|i| {
        (0..n).any(|j| {
            if (lower && i < j) || (!lower && i > j) {
                return false;
            }
            let off = if layout == COL_MAJOR {
                i + j * ld as usize
            } else {
                i * ld as usize + j
            };
            // SAFETY: by the caller's contract.
            let x = unsafe { *p.add(off) };
            x.re().is_nan() || x.im().is_nan()
        })
    })
}

/// # Safety
/// `p` valid for `n` elements.
unsafe fn vec_nan<T: Scalar>(n: i32, p: *const T) -> bool {
    // SAFETY: by the caller's contract.
    (0..n.max(0) as usize)
        .any(|i| unsafe { (*p.add(i)).re().is_nan() || (*p.add(i)).im().is_nan() })
}

fn layout_ok(name: &str, layout: i32) -> Result<(), i32> {
    if layout == ROW_MAJOR || layout == COL_MAJOR {
        Ok(())
    } else {
        Err(bad(name, -1))
    }
}

macro_rules! tri {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(i) => return i,
        }
    };
}

// ---- xPOTRF ----

/// # Safety
/// LAPACKE's contract.
pub(crate) unsafe fn potrf_work<T: Scalar>(
    layout: i32,
    uplo: c_char,
    n: i32,
    a: *mut T,
    lda: i32,
) -> i32 {
    let f = rname::<T>("POTRF");
    let w = format!("LAPACKE_{}_work", f.to_lowercase());
    tri!(layout_ok(&w, layout));
    let u = up(uplo);
    if layout == COL_MAJOR {
        // SAFETY: LAPACKE's contract.
        return call(&f, || unsafe { r::potrf::<T>(&f, u, n, a, lda) });
    }
    if lda < n {
        return bad(&w, -5);
    }
    let ldt = n.max(1);
    // SAFETY: LAPACKE's contract.
    let mut at = unsafe { from_row_major(a, n, n, lda) };
    let info = call(&f, || unsafe {
        r::potrf::<T>(&f, u, n, at.as_mut_ptr(), ldt)
    });
    // SAFETY: LAPACKE's contract.
    unsafe { to_row_major(&at, a, n, n, lda) };
    info
}

/// # Safety
/// LAPACKE's contract.
pub(crate) unsafe fn potrf<T: Scalar>(
    layout: i32,
    uplo: c_char,
    n: i32,
    a: *mut T,
    lda: i32,
) -> i32 {
    let name = format!("LAPACKE_{}", rname::<T>("POTRF").to_lowercase());
    tri!(layout_ok(&name, layout));
    // SAFETY: LAPACKE's contract.
    if unsafe { tri_nan(layout, uplo, n, a, lda) } {
        return -4;
    }
    // SAFETY: forwarded.
    unsafe { potrf_work(layout, uplo, n, a, lda) }
}

// ---- xPOTRS / xPOSV ----

/// # Safety
/// LAPACKE's contract.
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn potrs_work<T: Scalar>(
    posv: bool,
    layout: i32,
    uplo: c_char,
    n: i32,
    nrhs: i32,
    a: *mut T,
    lda: i32,
    b: *mut T,
    ldb: i32,
) -> i32 {
    let f = rname::<T>(if posv { "POSV" } else { "POTRS" });
    let w = format!("LAPACKE_{}_work", f.to_lowercase());
    tri!(layout_ok(&w, layout));
    let u = up(uplo);
    let run = |a: *mut T, lda: i32, b: *mut T, ldb: i32| {
        call(&f, || unsafe {
            if posv {
                r::posv::<T>(&f, u, n, nrhs, a, lda, b, ldb)
            } else {
                r::potrs::<T>(&f, u, n, nrhs, a, lda, b, ldb)
            }
        })
    };
    if layout == COL_MAJOR {
        return run(a, lda, b, ldb);
    }
    if lda < n {
        return bad(&w, -6);
    }
    if ldb < nrhs {
        return bad(&w, -8);
    }
    let ldt = n.max(1);
    // SAFETY: LAPACKE's contract.
    let (mut at, mut bt) = unsafe {
        (
            from_row_major(a, n, n, lda),
            from_row_major(b, n, nrhs, ldb),
        )
    };
    let info = run(at.as_mut_ptr(), ldt, bt.as_mut_ptr(), ldt);
    // SAFETY: LAPACKE's contract.
    unsafe {
        if posv {
            to_row_major(&at, a, n, n, lda);
        }
        to_row_major(&bt, b, n, nrhs, ldb);
    }
    info
}

/// # Safety
/// LAPACKE's contract.
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn potrs<T: Scalar>(
    posv: bool,
    layout: i32,
    uplo: c_char,
    n: i32,
    nrhs: i32,
    a: *mut T,
    lda: i32,
    b: *mut T,
    ldb: i32,
) -> i32 {
    let name = format!(
        "LAPACKE_{}",
        rname::<T>(if posv { "POSV" } else { "POTRS" }).to_lowercase()
    );
    tri!(layout_ok(&name, layout));
    // SAFETY: LAPACKE's contract.
    unsafe {
        if tri_nan(layout, uplo, n, a, lda) {
            return -5;
        }
        if ge_nan(layout, n, nrhs, b, ldb) {
            return -7;
        }
        potrs_work(posv, layout, uplo, n, nrhs, a, lda, b, ldb)
    }
}

// ---- xGETRF ----

/// # Safety
/// LAPACKE's contract.
pub(crate) unsafe fn getrf_work<T: Scalar>(
    layout: i32,
    m: i32,
    n: i32,
    a: *mut T,
    lda: i32,
    ipiv: *mut i32,
) -> i32 {
    let f = rname::<T>("GETRF");
    let w = format!("LAPACKE_{}_work", f.to_lowercase());
    tri!(layout_ok(&w, layout));
    if layout == COL_MAJOR {
        // SAFETY: LAPACKE's contract.
        return call(&f, || unsafe { r::getrf::<T>(&f, m, n, a, lda, ipiv) });
    }
    if lda < n {
        return bad(&w, -5);
    }
    let ldt = m.max(1);
    // SAFETY: LAPACKE's contract.
    let mut at = unsafe { from_row_major(a, m, n, lda) };
    let info = call(&f, || unsafe {
        r::getrf::<T>(&f, m, n, at.as_mut_ptr(), ldt, ipiv)
    });
    // SAFETY: LAPACKE's contract.
    unsafe { to_row_major(&at, a, m, n, lda) };
    info
}

/// # Safety
/// LAPACKE's contract.
pub(crate) unsafe fn getrf<T: Scalar>(
    layout: i32,
    m: i32,
    n: i32,
    a: *mut T,
    lda: i32,
    ipiv: *mut i32,
) -> i32 {
    let name = format!("LAPACKE_{}", rname::<T>("GETRF").to_lowercase());
    tri!(layout_ok(&name, layout));
    // SAFETY: LAPACKE's contract.
    unsafe {
        if ge_nan(layout, m, n, a, lda) {
            return -4;
        }
        getrf_work(layout, m, n, a, lda, ipiv)
    }
}

// ---- xGETRS ----

/// # Safety
/// LAPACKE's contract.
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn getrs_work<T: Scalar>(
    layout: i32,
    trans: c_char,
    n: i32,
    nrhs: i32,
    a: *const T,
    lda: i32,
    ipiv: *const i32,
    b: *mut T,
    ldb: i32,
) -> i32 {
    let f = rname::<T>("GETRS");
    let w = format!("LAPACKE_{}_work", f.to_lowercase());
    tri!(layout_ok(&w, layout));
    let t = up(trans);
    if layout == COL_MAJOR {
        // SAFETY: LAPACKE's contract.
        return call(&f, || unsafe {
            r::getrs::<T>(&f, t, n, nrhs, a, lda, ipiv, b, ldb)
        });
    }
    if lda < n {
        return bad(&w, -6);
    }
    if ldb < nrhs {
        return bad(&w, -9);
    }
    let ldt = n.max(1);
    // SAFETY: LAPACKE's contract.
    let (at, mut bt) = unsafe {
        (
            from_row_major(a, n, n, lda),
            from_row_major(b, n, nrhs, ldb),
        )
    };
    let info = call(&f, || unsafe {
        r::getrs::<T>(&f, t, n, nrhs, at.as_ptr(), ldt, ipiv, bt.as_mut_ptr(), ldt)
    });
    // SAFETY: LAPACKE's contract.
    unsafe { to_row_major(&bt, b, n, nrhs, ldb) };
    info
}

/// # Safety
/// LAPACKE's contract.
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn getrs<T: Scalar>(
    layout: i32,
    trans: c_char,
    n: i32,
    nrhs: i32,
    a: *const T,
    lda: i32,
    ipiv: *const i32,
    b: *mut T,
    ldb: i32,
) -> i32 {
    let name = format!("LAPACKE_{}", rname::<T>("GETRS").to_lowercase());
    tri!(layout_ok(&name, layout));
    // SAFETY: LAPACKE's contract.
    unsafe {
        if ge_nan(layout, n, n, a, lda) {
            return -5;
        }
        if ge_nan(layout, n, nrhs, b, ldb) {
            return -8;
        }
        getrs_work(layout, trans, n, nrhs, a, lda, ipiv, b, ldb)
    }
}

// ---- xGESV ----

/// # Safety
/// LAPACKE's contract.
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn gesv_work<T: Scalar>(
    layout: i32,
    n: i32,
    nrhs: i32,
    a: *mut T,
    lda: i32,
    ipiv: *mut i32,
    b: *mut T,
    ldb: i32,
) -> i32 {
    let f = rname::<T>("GESV");
    let w = format!("LAPACKE_{}_work", f.to_lowercase());
    tri!(layout_ok(&w, layout));
    if layout == COL_MAJOR {
        // SAFETY: LAPACKE's contract.
        return call(&f, || unsafe {
            r::gesv::<T>(&f, n, nrhs, a, lda, ipiv, b, ldb)
        });
    }
    if lda < n {
        return bad(&w, -5);
    }
    if ldb < nrhs {
        return bad(&w, -8);
    }
    let ldt = n.max(1);
    // SAFETY: LAPACKE's contract.
    let (mut at, mut bt) = unsafe {
        (
            from_row_major(a, n, n, lda),
            from_row_major(b, n, nrhs, ldb),
        )
    };
    let info = call(&f, || unsafe {
        r::gesv::<T>(
            &f,
            n,
            nrhs,
            at.as_mut_ptr(),
            ldt,
            ipiv,
            bt.as_mut_ptr(),
            ldt,
        )
    });
    // SAFETY: LAPACKE's contract.
    unsafe {
        to_row_major(&at, a, n, n, lda);
        to_row_major(&bt, b, n, nrhs, ldb);
    }
    info
}

/// # Safety
/// LAPACKE's contract.
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn gesv<T: Scalar>(
    layout: i32,
    n: i32,
    nrhs: i32,
    a: *mut T,
    lda: i32,
    ipiv: *mut i32,
    b: *mut T,
    ldb: i32,
) -> i32 {
    let name = format!("LAPACKE_{}", rname::<T>("GESV").to_lowercase());
    tri!(layout_ok(&name, layout));
    // SAFETY: LAPACKE's contract.
    unsafe {
        if ge_nan(layout, n, n, a, lda) {
            return -4;
        }
        if ge_nan(layout, n, nrhs, b, ldb) {
            return -7;
        }
        gesv_work(layout, n, nrhs, a, lda, ipiv, b, ldb)
    }
}

// ---- xGEQRF ----

/// # Safety
/// LAPACKE's contract.
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn geqrf_work<T: Scalar>(
    layout: i32,
    m: i32,
    n: i32,
    a: *mut T,
    lda: i32,
    tau: *mut T,
    work: *mut T,
    lwork: i32,
) -> i32 {
    let f = rname::<T>("GEQRF");
    let w = format!("LAPACKE_{}_work", f.to_lowercase());
    tri!(layout_ok(&w, layout));
    if layout == COL_MAJOR {
        // SAFETY: LAPACKE's contract.
        return call(&f, || unsafe {
            r::geqrf::<T>(&f, m, n, a, lda, tau, work, lwork)
        });
    }
    if lda < n {
        return bad(&w, -5);
    }
    let ldt = m.max(1);
    if lwork == -1 {
        // SAFETY: a query touches WORK(1) only.
        return call(&f, || unsafe {
            r::geqrf::<T>(&f, m, n, a, ldt, tau, work, lwork)
        });
    }
    // SAFETY: LAPACKE's contract.
    let mut at = unsafe { from_row_major(a, m, n, lda) };
    let info = call(&f, || unsafe {
        r::geqrf::<T>(&f, m, n, at.as_mut_ptr(), ldt, tau, work, lwork)
    });
    // SAFETY: LAPACKE's contract.
    unsafe { to_row_major(&at, a, m, n, lda) };
    info
}

/// # Safety
/// LAPACKE's contract.
pub(crate) unsafe fn geqrf<T: Scalar>(
    layout: i32,
    m: i32,
    n: i32,
    a: *mut T,
    lda: i32,
    tau: *mut T,
) -> i32 {
    let name = format!("LAPACKE_{}", rname::<T>("GEQRF").to_lowercase());
    tri!(layout_ok(&name, layout));
    // SAFETY: LAPACKE's contract.
    unsafe {
        if ge_nan(layout, m, n, a, lda) {
            return -4;
        }
        geqrf_work(layout, m, n, a, lda, tau, std::ptr::null_mut(), i32::MAX)
    }
}

// ---- xORGQR / xUNGQR ----

fn orgqr_name<T: Scalar>() -> String {
    rname::<T>(if T::DTYPE.is_complex() {
        "UNGQR"
    } else {
        "ORGQR"
    })
}

fn ormqr_name<T: Scalar>() -> String {
    rname::<T>(if T::DTYPE.is_complex() {
        "UNMQR"
    } else {
        "ORMQR"
    })
}

/// # Safety
/// LAPACKE's contract.
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn ungqr_work<T: Scalar>(
    layout: i32,
    m: i32,
    n: i32,
    k: i32,
    a: *mut T,
    lda: i32,
    tau: *const T,
    work: *mut T,
    lwork: i32,
) -> i32 {
    let f = orgqr_name::<T>();
    let w = format!("LAPACKE_{}_work", f.to_lowercase());
    tri!(layout_ok(&w, layout));
    if layout == COL_MAJOR {
        // SAFETY: LAPACKE's contract.
        return call(&f, || unsafe {
            r::ungqr::<T>(&f, m, n, k, a, lda, tau, work, lwork)
        });
    }
    if lda < n {
        return bad(&w, -6);
    }
    let ldt = m.max(1);
    if lwork == -1 {
        // SAFETY: a query touches WORK(1) only.
        return call(&f, || unsafe {
            r::ungqr::<T>(&f, m, n, k, a, ldt, tau, work, lwork)
        });
    }
    // SAFETY: LAPACKE's contract.
    let mut at = unsafe { from_row_major(a, m, n, lda) };
    let info = call(&f, || unsafe {
        r::ungqr::<T>(&f, m, n, k, at.as_mut_ptr(), ldt, tau, work, lwork)
    });
    // SAFETY: LAPACKE's contract.
    unsafe { to_row_major(&at, a, m, n, lda) };
    info
}

/// # Safety
/// LAPACKE's contract.
pub(crate) unsafe fn ungqr<T: Scalar>(
    layout: i32,
    m: i32,
    n: i32,
    k: i32,
    a: *mut T,
    lda: i32,
    tau: *const T,
) -> i32 {
    let name = format!("LAPACKE_{}", orgqr_name::<T>().to_lowercase());
    tri!(layout_ok(&name, layout));
    // SAFETY: LAPACKE's contract.
    unsafe {
        if ge_nan(layout, m, n, a, lda) {
            return -5;
        }
        if vec_nan(k, tau) {
            return -7;
        }
        ungqr_work(layout, m, n, k, a, lda, tau, std::ptr::null_mut(), i32::MAX)
    }
}

// ---- xORMQR / xUNMQR ----

/// # Safety
/// LAPACKE's contract.
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn unmqr_work<T: Scalar>(
    layout: i32,
    side: c_char,
    trans: c_char,
    m: i32,
    n: i32,
    k: i32,
    a: *const T,
    lda: i32,
    tau: *const T,
    c: *mut T,
    ldc: i32,
    work: *mut T,
    lwork: i32,
) -> i32 {
    let f = ormqr_name::<T>();
    let w = format!("LAPACKE_{}_work", f.to_lowercase());
    tri!(layout_ok(&w, layout));
    let (s, t) = (up(side), up(trans));
    if layout == COL_MAJOR {
        // SAFETY: LAPACKE's contract.
        return call(&f, || unsafe {
            r::unmqr::<T>(&f, s, t, m, n, k, a, lda, tau, c, ldc, work, lwork)
        });
    }
    let rows = if s == b'L' { m } else { n };
    if lda < k {
        return bad(&w, -8);
    }
    if ldc < n {
        return bad(&w, -11);
    }
    let (lda_t, ldc_t) = (rows.max(1), m.max(1));
    if lwork == -1 {
        // SAFETY: a query touches WORK(1) only.
        return call(&f, || unsafe {
            r::unmqr::<T>(&f, s, t, m, n, k, a, lda_t, tau, c, ldc_t, work, lwork)
        });
    }
    // SAFETY: LAPACKE's contract.
    let (at, mut ct) = unsafe {
        (
            from_row_major(a, rows, k, lda),
            from_row_major(c, m, n, ldc),
        )
    };
    let info = call(&f, || unsafe {
        r::unmqr::<T>(
            &f,
            s,
            t,
            m,
            n,
            k,
            at.as_ptr(),
            lda_t,
            tau,
            ct.as_mut_ptr(),
            ldc_t,
            work,
            lwork,
        )
    });
    // SAFETY: LAPACKE's contract.
    unsafe { to_row_major(&ct, c, m, n, ldc) };
    info
}

/// # Safety
/// LAPACKE's contract.
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn unmqr<T: Scalar>(
    layout: i32,
    side: c_char,
    trans: c_char,
    m: i32,
    n: i32,
    k: i32,
    a: *const T,
    lda: i32,
    tau: *const T,
    c: *mut T,
    ldc: i32,
) -> i32 {
    let name = format!("LAPACKE_{}", ormqr_name::<T>().to_lowercase());
    tri!(layout_ok(&name, layout));
    let rows = if up(side) == b'L' { m } else { n };
    // SAFETY: LAPACKE's contract.
    unsafe {
        if ge_nan(layout, rows, k, a, lda) {
            return -7;
        }
        if ge_nan(layout, m, n, c, ldc) {
            return -10;
        }
        if vec_nan(k, tau) {
            return -9;
        }
        unmqr_work(
            layout,
            side,
            trans,
            m,
            n,
            k,
            a,
            lda,
            tau,
            c,
            ldc,
            std::ptr::null_mut(),
            i32::MAX,
        )
    }
}

// ---- xGELS ----

/// # Safety
/// LAPACKE's contract.
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn gels_work<T: Scalar>(
    layout: i32,
    trans: c_char,
    m: i32,
    n: i32,
    nrhs: i32,
    a: *mut T,
    lda: i32,
    b: *mut T,
    ldb: i32,
    work: *mut T,
    lwork: i32,
) -> i32 {
    let f = rname::<T>("GELS");
    let w = format!("LAPACKE_{}_work", f.to_lowercase());
    tri!(layout_ok(&w, layout));
    let t = up(trans);
    if layout == COL_MAJOR {
        // SAFETY: LAPACKE's contract.
        return call(&f, || unsafe {
            r::gels::<T>(&f, t, m, n, nrhs, a, lda, b, ldb, work, lwork)
        });
    }
    if lda < n {
        return bad(&w, -7);
    }
    if ldb < nrhs {
        return bad(&w, -9);
    }
    let (lda_t, ldb_t) = (m.max(1), m.max(n).max(1));
    if lwork == -1 {
        // SAFETY: a query touches WORK(1) only.
        return call(&f, || unsafe {
            r::gels::<T>(&f, t, m, n, nrhs, a, lda_t, b, ldb_t, work, lwork)
        });
    }
    // SAFETY: LAPACKE's contract.
    let (mut at, mut bt) = unsafe {
        (
            from_row_major(a, m, n, lda),
            from_row_major(b, m.max(n), nrhs, ldb),
        )
    };
    let info = call(&f, || unsafe {
        r::gels::<T>(
            &f,
            t,
            m,
            n,
            nrhs,
            at.as_mut_ptr(),
            lda_t,
            bt.as_mut_ptr(),
            ldb_t,
            work,
            lwork,
        )
    });
    // SAFETY: LAPACKE's contract.
    unsafe {
        to_row_major(&at, a, m, n, lda);
        to_row_major(&bt, b, m.max(n), nrhs, ldb);
    }
    info
}

/// # Safety
/// LAPACKE's contract.
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn gels<T: Scalar>(
    layout: i32,
    trans: c_char,
    m: i32,
    n: i32,
    nrhs: i32,
    a: *mut T,
    lda: i32,
    b: *mut T,
    ldb: i32,
) -> i32 {
    let name = format!("LAPACKE_{}", rname::<T>("GELS").to_lowercase());
    tri!(layout_ok(&name, layout));
    // SAFETY: LAPACKE's contract.
    unsafe {
        if ge_nan(layout, m, n, a, lda) {
            return -6;
        }
        if ge_nan(layout, m.max(n), nrhs, b, ldb) {
            return -8;
        }
        gels_work(
            layout,
            trans,
            m,
            n,
            nrhs,
            a,
            lda,
            b,
            ldb,
            std::ptr::null_mut(),
            i32::MAX,
        )
    }
}

macro_rules! lapacke_symbols {
    ($t:ty, $p:ident, $orgqr:ident, $ormqr:ident) => {
        paste::paste! {
            lapacke_symbols!(@one $t, [<LAPACKE_ $p potrf>], [<tessera_LAPACKE_ $p potrf>],
                (layout: i32, uplo: c_char, n: i32, a: *mut $t, lda: i32),
                potrf(layout, uplo, n, a, lda));
            lapacke_symbols!(@one $t, [<LAPACKE_ $p potrf_work>], [<tessera_LAPACKE_ $p potrf_work>],
                (layout: i32, uplo: c_char, n: i32, a: *mut $t, lda: i32),
                potrf_work(layout, uplo, n, a, lda));
            lapacke_symbols!(@one $t, [<LAPACKE_ $p potrs>], [<tessera_LAPACKE_ $p potrs>],
                (layout: i32, uplo: c_char, n: i32, nrhs: i32, a: *const $t, lda: i32, b: *mut $t, ldb: i32),
                potrs(false, layout, uplo, n, nrhs, a as *mut $t, lda, b, ldb));
            lapacke_symbols!(@one $t, [<LAPACKE_ $p potrs_work>], [<tessera_LAPACKE_ $p potrs_work>],
                (layout: i32, uplo: c_char, n: i32, nrhs: i32, a: *const $t, lda: i32, b: *mut $t, ldb: i32),
                potrs_work(false, layout, uplo, n, nrhs, a as *mut $t, lda, b, ldb));
            lapacke_symbols!(@one $t, [<LAPACKE_ $p posv>], [<tessera_LAPACKE_ $p posv>],
                (layout: i32, uplo: c_char, n: i32, nrhs: i32, a: *mut $t, lda: i32, b: *mut $t, ldb: i32),
                potrs(true, layout, uplo, n, nrhs, a, lda, b, ldb));
            lapacke_symbols!(@one $t, [<LAPACKE_ $p posv_work>], [<tessera_LAPACKE_ $p posv_work>],
                (layout: i32, uplo: c_char, n: i32, nrhs: i32, a: *mut $t, lda: i32, b: *mut $t, ldb: i32),
                potrs_work(true, layout, uplo, n, nrhs, a, lda, b, ldb));
            lapacke_symbols!(@one $t, [<LAPACKE_ $p getrf>], [<tessera_LAPACKE_ $p getrf>],
                (layout: i32, m: i32, n: i32, a: *mut $t, lda: i32, ipiv: *mut i32),
                getrf(layout, m, n, a, lda, ipiv));
            lapacke_symbols!(@one $t, [<LAPACKE_ $p getrf_work>], [<tessera_LAPACKE_ $p getrf_work>],
                (layout: i32, m: i32, n: i32, a: *mut $t, lda: i32, ipiv: *mut i32),
                getrf_work(layout, m, n, a, lda, ipiv));
            lapacke_symbols!(@one $t, [<LAPACKE_ $p getrs>], [<tessera_LAPACKE_ $p getrs>],
                (layout: i32, trans: c_char, n: i32, nrhs: i32, a: *const $t, lda: i32, ipiv: *const i32, b: *mut $t, ldb: i32),
                getrs(layout, trans, n, nrhs, a, lda, ipiv, b, ldb));
            lapacke_symbols!(@one $t, [<LAPACKE_ $p getrs_work>], [<tessera_LAPACKE_ $p getrs_work>],
                (layout: i32, trans: c_char, n: i32, nrhs: i32, a: *const $t, lda: i32, ipiv: *const i32, b: *mut $t, ldb: i32),
                getrs_work(layout, trans, n, nrhs, a, lda, ipiv, b, ldb));
            lapacke_symbols!(@one $t, [<LAPACKE_ $p gesv>], [<tessera_LAPACKE_ $p gesv>],
                (layout: i32, n: i32, nrhs: i32, a: *mut $t, lda: i32, ipiv: *mut i32, b: *mut $t, ldb: i32),
                gesv(layout, n, nrhs, a, lda, ipiv, b, ldb));
            lapacke_symbols!(@one $t, [<LAPACKE_ $p gesv_work>], [<tessera_LAPACKE_ $p gesv_work>],
                (layout: i32, n: i32, nrhs: i32, a: *mut $t, lda: i32, ipiv: *mut i32, b: *mut $t, ldb: i32),
                gesv_work(layout, n, nrhs, a, lda, ipiv, b, ldb));
            lapacke_symbols!(@one $t, [<LAPACKE_ $p geqrf>], [<tessera_LAPACKE_ $p geqrf>],
                (layout: i32, m: i32, n: i32, a: *mut $t, lda: i32, tau: *mut $t),
                geqrf(layout, m, n, a, lda, tau));
            lapacke_symbols!(@one $t, [<LAPACKE_ $p geqrf_work>], [<tessera_LAPACKE_ $p geqrf_work>],
                (layout: i32, m: i32, n: i32, a: *mut $t, lda: i32, tau: *mut $t, work: *mut $t, lwork: i32),
                geqrf_work(layout, m, n, a, lda, tau, work, lwork));
            lapacke_symbols!(@one $t, [<LAPACKE_ $p $orgqr>], [<tessera_LAPACKE_ $p $orgqr>],
                (layout: i32, m: i32, n: i32, k: i32, a: *mut $t, lda: i32, tau: *const $t),
                ungqr(layout, m, n, k, a, lda, tau));
            lapacke_symbols!(@one $t, [<LAPACKE_ $p $orgqr _work>], [<tessera_LAPACKE_ $p $orgqr _work>],
                (layout: i32, m: i32, n: i32, k: i32, a: *mut $t, lda: i32, tau: *const $t, work: *mut $t, lwork: i32),
                ungqr_work(layout, m, n, k, a, lda, tau, work, lwork));
            lapacke_symbols!(@one $t, [<LAPACKE_ $p $ormqr>], [<tessera_LAPACKE_ $p $ormqr>],
                (layout: i32, side: c_char, trans: c_char, m: i32, n: i32, k: i32, a: *const $t, lda: i32, tau: *const $t, c: *mut $t, ldc: i32),
                unmqr(layout, side, trans, m, n, k, a, lda, tau, c, ldc));
            lapacke_symbols!(@one $t, [<LAPACKE_ $p $ormqr _work>], [<tessera_LAPACKE_ $p $ormqr _work>],
                (layout: i32, side: c_char, trans: c_char, m: i32, n: i32, k: i32, a: *const $t, lda: i32, tau: *const $t, c: *mut $t, ldc: i32, work: *mut $t, lwork: i32),
                unmqr_work(layout, side, trans, m, n, k, a, lda, tau, c, ldc, work, lwork));
            lapacke_symbols!(@one $t, [<LAPACKE_ $p gels>], [<tessera_LAPACKE_ $p gels>],
                (layout: i32, trans: c_char, m: i32, n: i32, nrhs: i32, a: *mut $t, lda: i32, b: *mut $t, ldb: i32),
                gels(layout, trans, m, n, nrhs, a, lda, b, ldb));
            lapacke_symbols!(@one $t, [<LAPACKE_ $p gels_work>], [<tessera_LAPACKE_ $p gels_work>],
                (layout: i32, trans: c_char, m: i32, n: i32, nrhs: i32, a: *mut $t, lda: i32, b: *mut $t, ldb: i32, work: *mut $t, lwork: i32),
                gels_work(layout, trans, m, n, nrhs, a, lda, b, ldb, work, lwork));
        }
    };
    (@one $t:ty, $name:ident, $pname:ident, ($($arg:ident : $ty:ty),*), $imp:ident($($e:expr),*)) => {
        #[doc = concat!("`", stringify!($name), "` (LAPACKE).")]
        ///
        /// # Safety
        /// LAPACKE's contract on the arrays.
        #[cfg_attr(feature = "lapack-symbols", no_mangle)]
        #[allow(clippy::too_many_arguments)]
        pub unsafe extern "C" fn $name($($arg: $ty),*) -> i32 {
            // SAFETY: forwarded under the same contract.
            unsafe { $imp::<$t>($($e),*) }
        }
        #[doc = concat!("`", stringify!($name), "` under Tessera's prefix.")]
        ///
        /// # Safety
        /// LAPACKE's contract on the arrays.
        #[no_mangle]
        #[allow(clippy::too_many_arguments)]
        pub unsafe extern "C" fn $pname($($arg: $ty),*) -> i32 {
            // SAFETY: forwarded under the same contract.
            unsafe { $imp::<$t>($($e),*) }
        }
    };
}

use num_complex::{Complex32, Complex64};
lapacke_symbols!(f32, s, orgqr, ormqr);
lapacke_symbols!(f64, d, orgqr, ormqr);
lapacke_symbols!(Complex32, c, ungqr, unmqr);
lapacke_symbols!(Complex64, z, ungqr, unmqr);
