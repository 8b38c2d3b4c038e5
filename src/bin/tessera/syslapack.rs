//! The system's LAPACK (`liblapack.so.3`, e.g. OpenBLAS or the reference LAPACK), loaded
//! at run time so that building Tessera never needs it. Used as a side-by-side baseline.

use libloading::Library;
use std::ffi::{c_char, c_int, CStr};
use tessera::{DType, Error, Result, Scalar};

type Potrf<T> =
    unsafe extern "C" fn(*const c_char, *const c_int, *mut T, *const c_int, *mut c_int, usize);
type Getrf<T> =
    unsafe extern "C" fn(*const c_int, *const c_int, *mut T, *const c_int, *mut c_int, *mut c_int);
type Geqrf<T> = unsafe extern "C" fn(
    *const c_int,
    *const c_int,
    *mut T,
    *const c_int,
    *mut T,
    *mut T,
    *const c_int,
    *mut c_int,
);
type Posv<T> = unsafe extern "C" fn(
    *const c_char,
    *const c_int,
    *const c_int,
    *mut T,
    *const c_int,
    *mut T,
    *const c_int,
    *mut c_int,
    usize,
);
type Gesv<T> = unsafe extern "C" fn(
    *const c_int,
    *const c_int,
    *mut T,
    *const c_int,
    *mut c_int,
    *mut T,
    *const c_int,
    *mut c_int,
);
type Gels<T> = unsafe extern "C" fn(
    *const c_char,
    *const c_int,
    *const c_int,
    *const c_int,
    *mut T,
    *const c_int,
    *mut T,
    *const c_int,
    *mut T,
    *const c_int,
    *mut c_int,
    usize,
);
type Gemm<T> = unsafe extern "C" fn(
    *const c_char,
    *const c_char,
    *const c_int,
    *const c_int,
    *const c_int,
    *const T,
    *const T,
    *const c_int,
    *const T,
    *const c_int,
    *const T,
    *mut T,
    *const c_int,
    usize,
    usize,
);

/// The routines of one precision, resolved from the loaded libraries.
pub struct SysLapack<T> {
    potrf: Potrf<T>,
    getrf: Getrf<T>,
    geqrf: Geqrf<T>,
    posv: Posv<T>,
    gesv: Gesv<T>,
    gels: Gels<T>,
    gemm: Gemm<T>,
    /// What the library says it is (OpenBLAS config string), or its file name.
    pub name: String,
    _libs: Vec<Library>,
}

fn open(names: &[&str]) -> Result<Library> {
    let mut errs = Vec::new();
    for n in names {
        // SAFETY: loading a system BLAS/LAPACK runs its initialisers, which is what every
        // program linked against it does at start-up.
        match unsafe { Library::new(*n) } {
            Ok(l) => return Ok(l),
            Err(e) => errs.push(format!("{n}: {e:?}")),
        }
    }
    Err(Error::Library(format!(
        "cannot load the system LAPACK ({}); install it, e.g. `apt-get install libopenblas0` or `liblapack3`",
        errs.join("; ")
    )))
}

fn sym<F: Copy>(libs: &[Library], name: &str) -> Result<F> {
    for l in libs {
        // SAFETY: the symbol is a LAPACK/BLAS routine whose Fortran ABI signature is `F`;
        // the library stays loaded as long as `SysLapack` holds it.
        if let Ok(s) = unsafe { l.get::<F>(name.as_bytes()) } {
            return Ok(*s);
        }
    }
    Err(Error::Library(format!(
        "symbol {name} not found in the system LAPACK/BLAS"
    )))
}

impl<T: Scalar> SysLapack<T> {
    /// Loads `liblapack.so.3` (and `libblas.so.3` for gemm if needed) with `threads` threads.
    pub fn load(threads: usize) -> Result<Self> {
        let lapack = open(&["liblapack.so.3", "liblapack.so"])?;
        let mut libs = vec![lapack];
        if let Ok(b) = open(&["libblas.so.3", "libblas.so"]) {
            libs.push(b);
        }
        // OpenBLAS: set the thread count and read its identity when it is what we loaded.
        let mut name = "liblapack.so.3".to_string();
        if let Ok(set) = sym::<unsafe extern "C" fn(c_int)>(&libs, "openblas_set_num_threads") {
            // SAFETY: OpenBLAS's documented thread-count setter.
            unsafe { set(threads as c_int) };
        }
        if let Ok(cfg) =
            sym::<unsafe extern "C" fn() -> *const c_char>(&libs, "openblas_get_config")
        {
            // SAFETY: returns a static NUL-terminated string.
            let s = unsafe { CStr::from_ptr(cfg()) }
                .to_string_lossy()
                .into_owned();
            let core =
                sym::<unsafe extern "C" fn() -> *const c_char>(&libs, "openblas_get_corename")
                    // SAFETY: as above.
                    .map(|f| {
                        unsafe { CStr::from_ptr(f()) }
                            .to_string_lossy()
                            .into_owned()
                    })
                    .unwrap_or_default();
            name = format!(
                "{} (core {core})",
                s.split_whitespace().take(2).collect::<Vec<_>>().join(" ")
            );
        }
        let p = match T::DTYPE {
            DType::F32 => 's',
            DType::F64 => 'd',
            DType::C32 => 'c',
            DType::C64 => 'z',
        };
        Ok(SysLapack {
            potrf: sym(&libs, &format!("{p}potrf_"))?,
            getrf: sym(&libs, &format!("{p}getrf_"))?,
            geqrf: sym(&libs, &format!("{p}geqrf_"))?,
            posv: sym(&libs, &format!("{p}posv_"))?,
            gesv: sym(&libs, &format!("{p}gesv_"))?,
            gels: sym(&libs, &format!("{p}gels_"))?,
            gemm: sym(&libs, &format!("{p}gemm_"))?,
            name,
            _libs: libs,
        })
    }

    fn check(info: c_int, what: &str) -> Result<()> {
        if info == 0 {
            Ok(())
        } else {
            Err(Error::Library(format!(
                "system {what} returned info = {info}"
            )))
        }
    }

    /// Lower Cholesky in place of a column-major `n x n` matrix with `lda = n`.
    pub fn potrf(&self, n: usize, a: &mut [T]) -> Result<()> {
        let (n, mut info) = (n as c_int, 0);
        // SAFETY: `a` holds n*n elements, column-major with lda = n.
        unsafe { (self.potrf)(c"L".as_ptr(), &n, a.as_mut_ptr(), &n.max(1), &mut info, 1) };
        Self::check(info, "potrf")
    }

    /// LU with partial pivoting in place.
    pub fn getrf(&self, n: usize, a: &mut [T], ipiv: &mut [c_int]) -> Result<()> {
        let (n, mut info) = (n as c_int, 0);
        // SAFETY: `a` holds n*n elements, `ipiv` n.
        unsafe {
            (self.getrf)(
                &n,
                &n,
                a.as_mut_ptr(),
                &n.max(1),
                ipiv.as_mut_ptr(),
                &mut info,
            )
        };
        Self::check(info, "getrf")
    }

    /// QR in place (with its workspace query).
    pub fn geqrf(&self, m: usize, n: usize, a: &mut [T], tau: &mut [T]) -> Result<()> {
        let (mi, ni, mut info) = (m as c_int, n as c_int, 0);
        let mut q = [T::zero()];
        // SAFETY: workspace query: lwork = -1 writes the optimal size into q[0].
        unsafe {
            (self.geqrf)(
                &mi,
                &ni,
                a.as_mut_ptr(),
                &mi.max(1),
                tau.as_mut_ptr(),
                q.as_mut_ptr(),
                &-1,
                &mut info,
            )
        };
        Self::check(info, "geqrf (workspace query)")?;
        let lw = (q[0].re() as usize).max(n.max(1));
        let mut work = vec![T::zero(); lw];
        // SAFETY: `a` is m x n with lda = m, tau has min(m, n) entries, work has lw.
        unsafe {
            (self.geqrf)(
                &mi,
                &ni,
                a.as_mut_ptr(),
                &mi.max(1),
                tau.as_mut_ptr(),
                work.as_mut_ptr(),
                &(lw as c_int),
                &mut info,
            )
        };
        Self::check(info, "geqrf")
    }

    /// Cholesky solve.
    pub fn posv(&self, n: usize, nrhs: usize, a: &mut [T], b: &mut [T]) -> Result<()> {
        let (n, r, mut info) = (n as c_int, nrhs as c_int, 0);
        // SAFETY: `a` is n x n, `b` n x nrhs, both with leading dimension n.
        unsafe {
            (self.posv)(
                c"L".as_ptr(),
                &n,
                &r,
                a.as_mut_ptr(),
                &n.max(1),
                b.as_mut_ptr(),
                &n.max(1),
                &mut info,
                1,
            )
        };
        Self::check(info, "posv")
    }

    /// LU solve.
    pub fn gesv(
        &self,
        n: usize,
        nrhs: usize,
        a: &mut [T],
        ipiv: &mut [c_int],
        b: &mut [T],
    ) -> Result<()> {
        let (n, r, mut info) = (n as c_int, nrhs as c_int, 0);
        // SAFETY: as for posv, ipiv has n entries.
        unsafe {
            (self.gesv)(
                &n,
                &r,
                a.as_mut_ptr(),
                &n.max(1),
                ipiv.as_mut_ptr(),
                b.as_mut_ptr(),
                &n.max(1),
                &mut info,
            )
        };
        Self::check(info, "gesv")
    }

    /// Least squares, `b` with `max(m, n)` rows.
    pub fn gels(&self, m: usize, n: usize, nrhs: usize, a: &mut [T], b: &mut [T]) -> Result<()> {
        let (mi, ni, r, mut info) = (m as c_int, n as c_int, nrhs as c_int, 0);
        let ldb = m.max(n).max(1) as c_int;
        let mut q = [T::zero()];
        // SAFETY: workspace query.
        unsafe {
            (self.gels)(
                c"N".as_ptr(),
                &mi,
                &ni,
                &r,
                a.as_mut_ptr(),
                &mi.max(1),
                b.as_mut_ptr(),
                &ldb,
                q.as_mut_ptr(),
                &-1,
                &mut info,
                1,
            )
        };
        Self::check(info, "gels (workspace query)")?;
        let lw = (q[0].re() as usize).max(1);
        let mut work = vec![T::zero(); lw];
        // SAFETY: `a` m x n (lda m), `b` ldb x nrhs, work lw.
        unsafe {
            (self.gels)(
                c"N".as_ptr(),
                &mi,
                &ni,
                &r,
                a.as_mut_ptr(),
                &mi.max(1),
                b.as_mut_ptr(),
                &ldb,
                work.as_mut_ptr(),
                &(lw as c_int),
                &mut info,
                1,
            )
        };
        Self::check(info, "gels")
    }

    /// `C = A B + beta C`, all n x n.
    pub fn gemm(&self, n: usize, a: &[T], b: &[T], c: &mut [T]) -> Result<()> {
        let ni = n as c_int;
        let (one, zero) = (T::one(), T::zero());
        // SAFETY: all three are n x n column-major with leading dimension n.
        unsafe {
            (self.gemm)(
                c"N".as_ptr(),
                c"N".as_ptr(),
                &ni,
                &ni,
                &ni,
                &one,
                a.as_ptr(),
                &ni.max(1),
                b.as_ptr(),
                &ni.max(1),
                &zero,
                c.as_mut_ptr(),
                &ni.max(1),
                1,
                1,
            )
        };
        Ok(())
    }
}
