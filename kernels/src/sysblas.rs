//! Optional tile-kernel backend: the system's BLAS (OpenBLAS, BLIS, MKL, reference BLAS...)
//! loaded at run time, so that building never needs it.
//!
//! faer's kernels are the default everywhere. On some machines a tuned BLAS runs the
//! single-tile level-3 kernels faster (measured on an AVX2-only Zen 3: OpenBLAS's
//! sequential dgemm on 384 x 384 tiles is ~20% faster than faer's there, while on AVX-512
//! machines faer matches or beats it). [`use_system_blas`] switches `gemm`, `trsm`, `syrk`
//! and `herk` (and the kernels built on them) to the system BLAS for the whole process; the
//! BLAS is asked to run single-threaded, since parallelism comes from the task runtime.
//! Everything else (Cholesky and LU of a tile, QR panels, norms) stays on faer.

use crate::{DType, Diag, Op, Scalar, Side, Uplo};
use faer::{MatMut, MatRef};
use libloading::Library;
use std::ffi::{c_char, c_int, c_void};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

type Gemm = unsafe extern "C" fn(
    *const c_char,
    *const c_char,
    *const c_int,
    *const c_int,
    *const c_int,
    *const c_void,
    *const c_void,
    *const c_int,
    *const c_void,
    *const c_int,
    *const c_void,
    *mut c_void,
    *const c_int,
    usize,
    usize,
);
type Trsm = unsafe extern "C" fn(
    *const c_char,
    *const c_char,
    *const c_char,
    *const c_char,
    *const c_int,
    *const c_int,
    *const c_void,
    *const c_void,
    *const c_int,
    *mut c_void,
    *const c_int,
    usize,
    usize,
    usize,
    usize,
);
/// `xSYRK` and `xHERK` share this shape (alpha and beta are real for herk).
type Rank = unsafe extern "C" fn(
    *const c_char,
    *const c_char,
    *const c_int,
    *const c_int,
    *const c_void,
    *const c_void,
    *const c_int,
    *const c_void,
    *mut c_void,
    *const c_int,
    usize,
    usize,
);

struct Routines {
    gemm: Gemm,
    trsm: Trsm,
    syrk: Rank,
    herk: Option<Rank>,
}

struct Blas {
    /// Indexed by `dtype_index`.
    r: [Routines; 4],
    name: String,
    set_threads: Option<unsafe extern "C" fn(c_int)>,
    _lib: Library,
}

fn dtype_index(d: DType) -> usize {
    match d {
        DType::F32 => 0,
        DType::F64 => 1,
        DType::C32 => 2,
        DType::C64 => 3,
    }
}

static LOADED: OnceLock<Result<Blas, String>> = OnceLock::new();
static ACTIVE: AtomicBool = AtomicBool::new(false);

fn load() -> Result<Blas, String> {
    let mut errs = Vec::new();
    for name in ["libopenblas.so.0", "libblas.so.3", "libblas.so"] {
        // SAFETY: loading a BLAS library runs its initialisers, as linking against it would.
        let lib = match unsafe { Library::new(name) } {
            Ok(l) => l,
            Err(e) => {
                errs.push(format!("{name}: {e:?}"));
                continue;
            }
        };
        let get = |s: &str| -> Result<*const c_void, String> {
            // SAFETY: only the address is taken here; it is cast to the routine's Fortran
            // ABI signature below.
            unsafe { lib.get::<*const c_void>(s.as_bytes()) }
                .map(|p| *p)
                .map_err(|e| format!("{s}: {e:?}"))
        };
        let mut r = Vec::new();
        let mut ok = true;
        for p in ['s', 'd', 'c', 'z'] {
            let g = get(&format!("{p}gemm_"));
            let t = get(&format!("{p}trsm_"));
            let s = get(&format!("{p}syrk_"));
            let h = if p == 'c' || p == 'z' {
                get(&format!("{p}herk_")).ok()
            } else {
                None
            };
            match (g, t, s) {
                // SAFETY: these symbols are the BLAS routines with the signatures above.
                (Ok(g), Ok(t), Ok(s)) => r.push(unsafe {
                    Routines {
                        gemm: std::mem::transmute::<*const c_void, Gemm>(g),
                        trsm: std::mem::transmute::<*const c_void, Trsm>(t),
                        syrk: std::mem::transmute::<*const c_void, Rank>(s),
                        herk: h.map(|h| std::mem::transmute::<*const c_void, Rank>(h)),
                    }
                }),
                (g, t, s) => {
                    errs.push(format!("{name}: {:?} {:?} {:?}", g.err(), t.err(), s.err()));
                    ok = false;
                    break;
                }
            }
        }
        if !ok {
            continue;
        }
        let set_threads = get("openblas_set_num_threads")
            .ok()
            // SAFETY: OpenBLAS's `void openblas_set_num_threads(int)`.
            .map(|p| unsafe {
                std::mem::transmute::<*const c_void, unsafe extern "C" fn(c_int)>(p)
            });
        let r: [Routines; 4] = match r.try_into() {
            Ok(r) => r,
            Err(_) => continue,
        };
        return Ok(Blas {
            r,
            name: name.to_string(),
            set_threads,
            _lib: lib,
        });
    }
    Err(format!("no usable system BLAS ({})", errs.join("; ")))
}

/// Loads the system BLAS (first `libopenblas.so.0`, then `libblas.so.3`) and routes the
/// level-3 tile kernels to it, single-threaded, for the whole process. Returns the name of
/// the library, or why it cannot be used (the faer kernels then stay in use).
pub fn use_system_blas() -> Result<String, String> {
    let b = LOADED.get_or_init(load).as_ref().map_err(|e| e.clone())?;
    if let Some(f) = b.set_threads {
        // SAFETY: documented OpenBLAS entry point.
        unsafe { f(1) };
    }
    ACTIVE.store(true, Ordering::Release);
    Ok(b.name.clone())
}

/// Routes the tile kernels back to faer (the default).
pub fn use_faer() {
    ACTIVE.store(false, Ordering::Release);
}

/// Which backend the level-3 tile kernels use now: `"faer"` or the system BLAS's file name.
pub fn backend_name() -> String {
    match (ACTIVE.load(Ordering::Acquire), LOADED.get()) {
        (true, Some(Ok(b))) => format!("system BLAS ({})", b.name),
        _ => "faer".to_string(),
    }
}

/// Re-asserts single-threaded BLAS (another user of the same library, e.g. a LAPACK
/// baseline, may have changed its thread count).
pub fn reset_threads() {
    if let Some(Ok(b)) = LOADED.get() {
        if let Some(f) = b.set_threads {
            // SAFETY: documented OpenBLAS entry point.
            unsafe { f(1) };
        }
    }
}

#[inline]
fn is_complex<T: Scalar>() -> bool {
    matches!(T::DTYPE, DType::C32 | DType::C64)
}

#[inline]
fn routines<T: Scalar>() -> Option<&'static Routines> {
    if !ACTIVE.load(Ordering::Relaxed) {
        return None;
    }
    match LOADED.get() {
        Some(Ok(b)) => Some(&b.r[dtype_index(T::DTYPE)]),
        _ => None,
    }
}

fn ch_op(op: Op) -> &'static [u8; 2] {
    match op {
        Op::NoTrans => b"N\0",
        Op::Trans => b"T\0",
        Op::ConjTrans => b"C\0",
    }
}
fn ch_uplo(u: Uplo) -> &'static [u8; 2] {
    if u == Uplo::Lower {
        b"L\0"
    } else {
        b"U\0"
    }
}

/// Column-major with unit row stride and a positive leading dimension: what BLAS takes.
#[inline]
fn blas_layout(rs: isize, cs: isize, nrows: usize) -> Option<c_int> {
    if rs == 1 && cs >= nrows.max(1) as isize && cs <= c_int::MAX as isize {
        Some(cs as c_int)
    } else {
        None
    }
}

/// `xGEMM` through the system BLAS; `false` if it is not active or the views do not have
/// a BLAS layout (the caller then uses faer).
#[allow(clippy::too_many_arguments)]
pub(crate) fn gemm<T: Scalar>(
    ta: Op,
    tb: Op,
    alpha: T,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    beta: T,
    c: MatMut<'_, T>,
) -> bool {
    let Some(r) = routines::<T>() else {
        return false;
    };
    let (Some(lda), Some(ldb), Some(ldc)) = (
        blas_layout(a.row_stride(), a.col_stride(), a.nrows()),
        blas_layout(b.row_stride(), b.col_stride(), b.nrows()),
        blas_layout(c.row_stride(), c.col_stride(), c.nrows()),
    ) else {
        return false;
    };
    let m = c.nrows() as c_int;
    let n = c.ncols() as c_int;
    let k = if ta == Op::NoTrans {
        a.ncols()
    } else {
        a.nrows()
    } as c_int;
    // SAFETY: the views are valid column-major blocks with the given leading dimensions;
    // the element type matches the routine chosen by `T::DTYPE`.
    unsafe {
        (r.gemm)(
            ch_op(ta).as_ptr() as _,
            ch_op(tb).as_ptr() as _,
            &m,
            &n,
            &k,
            &alpha as *const T as *const c_void,
            a.as_ptr() as *const c_void,
            &lda,
            b.as_ptr() as *const c_void,
            &ldb,
            &beta as *const T as *const c_void,
            c.as_ptr_mut() as *mut c_void,
            &ldc,
            1,
            1,
        )
    };
    true
}

/// `xTRSM` through the system BLAS (see [`gemm`]).
#[allow(clippy::too_many_arguments)]
pub(crate) fn trsm<T: Scalar>(
    side: Side,
    uplo: Uplo,
    trans: Op,
    diag: Diag,
    alpha: T,
    a: MatRef<'_, T>,
    b: MatMut<'_, T>,
) -> bool {
    let Some(r) = routines::<T>() else {
        return false;
    };
    let (Some(lda), Some(ldb)) = (
        blas_layout(a.row_stride(), a.col_stride(), a.nrows()),
        blas_layout(b.row_stride(), b.col_stride(), b.nrows()),
    ) else {
        return false;
    };
    let (m, n) = (b.nrows() as c_int, b.ncols() as c_int);
    let s: &[u8; 2] = if side == Side::Left { b"L\0" } else { b"R\0" };
    let d: &[u8; 2] = if diag == Diag::Unit { b"U\0" } else { b"N\0" };
    // SAFETY: as in `gemm`.
    unsafe {
        (r.trsm)(
            s.as_ptr() as _,
            ch_uplo(uplo).as_ptr() as _,
            ch_op(trans).as_ptr() as _,
            d.as_ptr() as _,
            &m,
            &n,
            &alpha as *const T as *const c_void,
            a.as_ptr() as *const c_void,
            &lda,
            b.as_ptr_mut() as *mut c_void,
            &ldb,
            1,
            1,
            1,
            1,
        )
    };
    true
}

/// `xSYRK` (`herm = false`) or `xHERK` (`herm = true`, real alpha/beta in `alpha_re`,
/// `beta_re`) through the system BLAS (see [`gemm`]).
#[allow(clippy::too_many_arguments)]
pub(crate) fn rank_k<T: Scalar>(
    uplo: Uplo,
    trans: Op,
    herm: bool,
    alpha: T,
    a: MatRef<'_, T>,
    beta: T,
    c: MatMut<'_, T>,
) -> bool {
    let Some(r) = routines::<T>() else {
        return false;
    };
    let f = if herm && is_complex::<T>() {
        match r.herk {
            Some(f) => f,
            None => return false,
        }
    } else {
        r.syrk
    };
    let (Some(lda), Some(ldc)) = (
        blas_layout(a.row_stride(), a.col_stride(), a.nrows()),
        blas_layout(c.row_stride(), c.col_stride(), c.nrows()),
    ) else {
        return false;
    };
    let n = c.nrows() as c_int;
    let k = if trans == Op::NoTrans {
        a.ncols()
    } else {
        a.nrows()
    } as c_int;
    // Real BLAS syrk takes 'T' (and accepts 'C'); complex herk takes 'C', complex syrk 'T'.
    let t = match (trans, herm && is_complex::<T>()) {
        (Op::NoTrans, _) => Op::NoTrans,
        (_, true) => Op::ConjTrans,
        (_, false) => Op::Trans,
    };
    let (ar, br) = (alpha.re(), beta.re());
    let (ar32, br32) = (ar as f32, br as f32);
    let (pa, pb): (*const c_void, *const c_void) = if herm && is_complex::<T>() {
        if T::DTYPE == DType::C32 {
            (&ar32 as *const f32 as _, &br32 as *const f32 as _)
        } else {
            (&ar as *const f64 as _, &br as *const f64 as _)
        }
    } else {
        (&alpha as *const T as _, &beta as *const T as _)
    };
    // SAFETY: as in `gemm`; for herk the scalars are the real type of T.
    unsafe {
        f(
            ch_uplo(uplo).as_ptr() as _,
            ch_op(t).as_ptr() as _,
            &n,
            &k,
            pa,
            a.as_ptr() as *const c_void,
            &lda,
            pb,
            c.as_ptr_mut() as *mut c_void,
            &ldc,
            1,
            1,
        )
    };
    true
}

/// What [`measure_gemm`] found: the rate of one f64 gemm `C -= A B` of the measured shape
/// per thread (GFLOP/s) on faer's kernels and on the system BLAS, with `threads` threads
/// running at once, each over `C` blocks that do not all fit in cache (as in a
/// factorization's trailing update).
#[derive(Debug, Clone, PartialEq)]
pub struct GemmRates {
    /// The shape measured: `C` is `m x n`, `A` is `m x k`.
    pub m: usize,
    /// See `m`.
    pub n: usize,
    /// See `m`.
    pub k: usize,
    /// Threads running gemms at once.
    pub threads: usize,
    /// faer's kernels.
    pub faer: f64,
    /// The system BLAS (single-threaded per call).
    pub blas: f64,
    /// The system BLAS's file name.
    pub blas_name: String,
}

impl GemmRates {
    /// Whether the system BLAS ran faster than faer's kernels.
    pub fn blas_is_faster(&self) -> bool {
        self.blas > self.faer
    }
}

/// Times the gemm `C -= A B` (`C` is `m x n`, `A` is `m x k`) on faer's kernels and on the
/// system BLAS, alternately (five rounds, the best of each), on `threads` threads at once,
/// each cycling through enough `C` blocks (at least two, eight `k x k` tiles' worth) that
/// `C` comes from memory, as in a factorization's trailing update. About 60 ms for a
/// 256 x 256 x 256 tile; `m x n` is the caller's to keep modest. Which backend is in use
/// afterwards is unchanged. Errors when no system BLAS loads.
pub fn measure_gemm(shape: (usize, usize, usize), threads: usize) -> Result<GemmRates, String> {
    let b = LOADED.get_or_init(load).as_ref().map_err(|e| e.clone())?;
    let (m, n, k) = (shape.0.max(1), shape.1.max(1), shape.2.max(1));
    let threads = threads.max(1);
    let reps = (8 * k * k).div_ceil(m * n).max(2);
    let was = ACTIVE.load(Ordering::Acquire);
    // Per thread: A, B and the C blocks, made (and their pages touched) before timing.
    type Work = (faer::Mat<f64>, faer::Mat<f64>, Vec<faer::Mat<f64>>);
    let mut work: Vec<Work> = (0..threads)
        .map(|t| {
            let f = |i: usize, j: usize| ((i * 7 + j * 13 + t) % 29) as f64 / 29.0 - 0.5;
            let a = faer::Mat::<f64>::from_fn(m, k, f);
            let bm = faer::Mat::<f64>::from_fn(k, n, f);
            (
                a,
                bm,
                (0..reps).map(|_| faer::Mat::<f64>::zeros(m, n)).collect(),
            )
        })
        .collect();
    let mut run = |blas: bool| -> f64 {
        ACTIVE.store(blas, Ordering::Release);
        // Each thread warms up first (a BLAS may set up per-thread buffers on its first
        // call, which a long-lived worker pays once), then all start together.
        let start = std::sync::Barrier::new(work.len());
        let slowest = std::thread::scope(|s| {
            let hs: Vec<_> = work
                .iter_mut()
                .map(|(a, bm, cs)| {
                    let start = &start;
                    s.spawn(move || {
                        let gemm = |c: &mut faer::Mat<f64>| {
                            crate::blas::gemm(
                                Op::NoTrans,
                                Op::NoTrans,
                                -1.0,
                                a.as_ref(),
                                bm.as_ref(),
                                1.0,
                                c.as_mut(),
                            )
                        };
                        gemm(&mut cs[0]);
                        start.wait();
                        let t0 = std::time::Instant::now();
                        cs.iter_mut().for_each(gemm);
                        t0.elapsed().as_secs_f64()
                    })
                })
                .collect();
            hs.into_iter()
                .map(|h| h.join().unwrap_or(f64::INFINITY))
                .fold(0.0, f64::max)
        });
        2.0 * (m * n * k) as f64 * reps as f64 / slowest / 1e9
    };
    if let Some(f) = b.set_threads {
        // SAFETY: documented OpenBLAS entry point.
        unsafe { f(1) };
    }
    let (mut faer, mut blas) = (0.0f64, 0.0f64);
    for _ in 0..5 {
        faer = faer.max(run(false));
        blas = blas.max(run(true));
    }
    ACTIVE.store(was, Ordering::Release);
    Ok(GemmRates {
        m,
        n,
        k,
        threads,
        faer,
        blas,
        blas_name: b.name.clone(),
    })
}
