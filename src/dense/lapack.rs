//! LAPACK-layout entry points on faer views. The tile size is [`auto_tile_size`]
//! (overridable with `TESSERA_NB`); use the tiled API to choose it.
//!
//! The factorizations and solves (`potrf`, `potrs`, `posv`, `getrf`, `getrs`, `gesv`,
//! `getrf_nopiv`, `geqrf`) run the tiled algorithm **in place** on a column-major matrix
//! ([`TileMatrix::from_col_major_in_place`]): each tile is the block of the caller's
//! matrix where it lies, nothing is copied in or out, and no tile memory is allocated.
//! A matrix with another layout (a row-major ndarray view, say) is copied into tiles by
//! tasks of the same sequence as the algorithm (a tile's first task starts as soon as that
//! tile is copied in, finished tiles are copied out while the rest is still computing).
//!
//! ```
//! use faer::Mat;
//! use tessera::{dense::lapack, runtime::Runtime};
//! let rt = Runtime::with_default();
//! let n = 200;
//! let a0 = Mat::<f64>::from_fn(n, n, |i, j| if i == j { 4.0 } else { 1.0 / (1 + i + j) as f64 });
//! let x0 = Mat::<f64>::from_fn(n, 2, |i, j| (i + j) as f64);
//! let mut b = &a0 * &x0;
//! let mut a = a0.clone();
//! let mut ipiv = vec![0; n];
//! lapack::gesv(&rt, a.as_mut(), &mut ipiv, b.as_mut()).unwrap();
//! assert!((&b - &x0).norm_max() < 1e-10);
//! ```

use super::auto_tile_size;
use crate::error::{Error, Result};
use crate::runtime::{Runtime, Sequence};
use crate::tile::TileMatrix;
#[allow(unused_imports)]
use faer::prelude::{Reborrow, ReborrowMut};
use faer::{Mat, MatMut, MatRef};
use tessera_kernels::{self as k, Norm, Op, Scalar, Side, Uplo};

fn tiles<T: Scalar>(rt: &Runtime, a: MatRef<'_, T>, nb: usize) -> Result<TileMatrix<T>> {
    TileMatrix::from_col_major(rt, a, nb, nb)
}

/// A caller's matrix as tiles for one call: in place when it is column-major, else a copy
/// made (and, for an argument that is written, copied back) by tasks of the call's
/// sequence.
struct Tiled<T: Scalar> {
    t: TileMatrix<T>,
    copied: bool,
}

impl<T: Scalar> Tiled<T> {
    /// `a` (or only its `part` triangle, for the routines that reference one) as tiles.
    ///
    /// # Safety
    /// The call waits for `seq` (or drops it) and drops the returned value before it
    /// touches `a` again or returns (the contract of
    /// [`TileMatrix::from_col_major_in_place`]).
    unsafe fn new(
        seq: &Sequence,
        mut a: MatMut<'_, T>,
        nb: usize,
        part: Option<Uplo>,
    ) -> Result<Self> {
        // SAFETY: the caller's contract.
        unsafe {
            if let Some(t) = TileMatrix::from_col_major_in_place(a.rb_mut(), nb, nb)? {
                return Ok(Tiled { t, copied: false });
            }
            let t = TileMatrix::from_col_major_part_async(seq, a.rb(), nb, nb, part)?;
            Ok(Tiled { t, copied: true })
        }
    }

    /// A copy of `a` made by tasks of `seq`, for an argument the call must not write
    /// before the end (posv's `B`, which the solve reaches before the factorization ends).
    ///
    /// # Safety
    /// As [`Tiled::new`].
    unsafe fn copy(seq: &Sequence, a: MatRef<'_, T>, nb: usize) -> Result<Self> {
        // SAFETY: the caller's contract.
        let t = unsafe { TileMatrix::from_col_major_async(seq, a, nb, nb)? };
        Ok(Tiled { t, copied: true })
    }

    /// As [`Tiled::new`] for an argument that is only read.
    ///
    /// # Safety
    /// As [`Tiled::new`]; no task writes the returned tiles.
    unsafe fn read(
        seq: &Sequence,
        a: MatRef<'_, T>,
        nb: usize,
        part: Option<Uplo>,
    ) -> Result<Self> {
        // SAFETY: the caller's contract.
        unsafe {
            if let Some(t) = TileMatrix::from_col_major_in_place_read(a, nb, nb)? {
                return Ok(Tiled { t, copied: false });
            }
            let t = TileMatrix::from_col_major_part_async(seq, a, nb, nb, part)?;
            Ok(Tiled { t, copied: true })
        }
    }

    /// Submits the copy back into `a` (nothing to do in place).
    ///
    /// # Safety
    /// As [`Tiled::new`], with `a` the matrix the tiles came from.
    unsafe fn copy_out(&self, seq: &Sequence, a: MatMut<'_, T>, part: Option<Uplo>) -> Result<()> {
        if self.copied {
            // SAFETY: the caller's contract.
            unsafe { self.t.to_col_major_part_async(seq, a, part) }?;
        }
        Ok(())
    }

    /// Waits for `seq`. If it failed, the copy-out tasks after the failure were skipped,
    /// so a copied matrix is copied back into `a` whole before the error is returned (in
    /// place, `a` already holds what the tasks that ran left).
    fn wait(
        &self,
        seq: &Sequence,
        rt: &Runtime,
        a: MatMut<'_, T>,
        part: Option<Uplo>,
    ) -> Result<()> {
        let r = seq.wait();
        if r.is_err() && self.copied {
            self.t.to_col_major_part(rt, a, part)?;
        }
        r
    }
}

fn nb_for(rt: &Runtime, m: usize, n: usize) -> usize {
    auto_tile_size(m, n, rt.workers())
}

/// Problems up to this order run directly on the caller's thread with the single-tile
/// kernels (no tiles, no tasks, no copies) unless `TESSERA_NB` forces a tile size: below
/// it, the cost of handing work to the runtime's workers exceeds what running it on two
/// or more of them saves (a 10 x 10 solve takes microseconds; handing it to the workers,
/// hundreds). The kernels are those of the tiled algorithms, so the results are those of
/// a single-tile run.
pub const DIRECT_MAX: usize = 256;

/// Whether an `m x n` problem takes the direct path ([`DIRECT_MAX`]).
pub fn runs_direct(m: usize, n: usize) -> bool {
    m.max(n) <= DIRECT_MAX && crate::env::tile_size_override().is_none()
}

fn finite<T: Scalar>(a: MatRef<'_, T>, arg: &'static str, uplo: Option<Uplo>) -> Result<()> {
    let bad = match uplo {
        Some(u) => k::find_non_finite_triangle(u, a),
        None => k::find_non_finite(a),
    };
    match bad {
        Some((row, col)) => Err(Error::NotFinite { arg, row, col }),
        None => Ok(()),
    }
}

fn direct_potrf<T: Scalar>(uplo: Uplo, a: MatMut<'_, T>) -> Result<()> {
    finite(a.rb(), "A", Some(uplo))?;
    k::potrf(uplo, a).map_err(|j| Error::NotPositiveDefinite { order: j + 1 })
}

fn direct_potrs<T: Scalar>(uplo: Uplo, a: MatRef<'_, T>, mut b: MatMut<'_, T>) {
    use tessera_kernels::Diag::NonUnit;
    let (first, second) = match uplo {
        Uplo::Lower => (Op::NoTrans, Op::ConjTrans),
        Uplo::Upper => (Op::ConjTrans, Op::NoTrans),
    };
    k::trsm(Side::Left, uplo, first, NonUnit, T::one(), a, b.rb_mut());
    k::trsm(Side::Left, uplo, second, NonUnit, T::one(), a, b);
}

fn direct_getrf<T: Scalar>(mut a: MatMut<'_, T>, ipiv: &mut [usize]) -> Result<()> {
    finite(a.rb(), "A", None)?;
    let (m, n) = (a.nrows(), a.ncols());
    let zero = if a.row_stride() == 1 && a.col_stride() >= m as isize && m > 0 && n > 0 {
        let ld = a.col_stride() as usize;
        // SAFETY: a column-major view with unit row stride and leading dimension `ld`
        // covers `ld * (n - 1) + m` elements from its first one, all borrowed mutably.
        let buf = unsafe { std::slice::from_raw_parts_mut(a.as_ptr_mut(), ld * (n - 1) + m) };
        k::getrf_panel(buf, m, n, ld, ipiv)
    } else {
        // Any other layout (e.g. a row-major ndarray view): through a column-major copy.
        let mut buf: Vec<T> = (0..n)
            .flat_map(|j| (0..m).map(move |i| (i, j)))
            .map(|(i, j)| *a.rb().get(i, j))
            .collect();
        let z = k::getrf_panel(&mut buf, m, n, m.max(1), ipiv);
        a.copy_from(MatRef::from_column_major_slice(&buf, m, n));
        z
    };
    match zero {
        Some(z) => Err(Error::Singular { index: z + 1 }),
        None => Ok(()),
    }
}

fn direct_getrs<T: Scalar>(trans: Op, a: MatRef<'_, T>, ipiv: &[usize], mut b: MatMut<'_, T>) {
    use tessera_kernels::Diag::{NonUnit, Unit};
    let n = a.nrows();
    if trans == Op::NoTrans {
        k::laswp(b.rb_mut(), &ipiv[..n], true);
        k::trsm(
            Side::Left,
            Uplo::Lower,
            Op::NoTrans,
            Unit,
            T::one(),
            a,
            b.rb_mut(),
        );
        k::trsm(
            Side::Left,
            Uplo::Upper,
            Op::NoTrans,
            NonUnit,
            T::one(),
            a,
            b,
        );
    } else {
        k::trsm(
            Side::Left,
            Uplo::Upper,
            trans,
            NonUnit,
            T::one(),
            a,
            b.rb_mut(),
        );
        k::trsm(
            Side::Left,
            Uplo::Lower,
            trans,
            Unit,
            T::one(),
            a,
            b.rb_mut(),
        );
        k::laswp(b, &ipiv[..n], false);
    }
}

/// Cholesky factorization in place (LAPACK `xPOTRF`); only the `uplo` triangle is used.
pub fn potrf<T: Scalar>(rt: &Runtime, uplo: Uplo, mut a: MatMut<'_, T>) -> Result<()> {
    if a.nrows() != a.ncols() {
        return Err(Error::invalid(0, "potrf: A must be square"));
    }
    if runs_direct(a.nrows(), a.ncols()) {
        return direct_potrf(uplo, a);
    }
    let nb = nb_for(rt, a.nrows(), a.ncols());
    let seq = rt.sequence();
    // SAFETY (here and below): `a` and `b` are borrowed for the whole call and every task
    // that touches them belongs to `seq`, which is waited for (or dropped, which waits)
    // before the tiles are dropped and the call returns; `a` and `b` are touched again only
    // after the wait.
    // Only the `uplo` triangle's tiles are touched (copied in and out when not in place).
    let part = Some(uplo);
    let ta = unsafe { Tiled::new(&seq, a.rb_mut(), nb, part)? };
    super::potrf::check_finite_triangle_async(&seq, uplo, &ta.t)?;
    super::potrf_async(&seq, uplo, &ta.t)?;
    unsafe { ta.copy_out(&seq, a.rb_mut(), part)? };
    ta.wait(&seq, rt, a, part)
}

/// Solves `A X = B` with a Cholesky factor from [`potrf`] (LAPACK `xPOTRS`).
pub fn potrs<T: Scalar>(
    rt: &Runtime,
    uplo: Uplo,
    a: MatRef<'_, T>,
    mut b: MatMut<'_, T>,
) -> Result<()> {
    if a.nrows() != a.ncols() || b.nrows() != a.nrows() {
        return Err(Error::invalid(
            0,
            "potrs: A must be square and B have its rows",
        ));
    }
    if runs_direct(a.nrows(), b.ncols()) {
        direct_potrs(uplo, a, b);
        return Ok(());
    }
    let nb = nb_for(rt, a.nrows(), a.ncols());
    let seq = rt.sequence();
    let ta = unsafe { Tiled::read(&seq, a, nb, Some(uplo))? };
    let tb = unsafe { Tiled::new(&seq, b.rb_mut(), nb, None)? };
    super::potrs_async(&seq, uplo, &ta.t, &tb.t)?;
    unsafe { tb.copy_out(&seq, b.rb_mut(), None)? };
    seq.wait()
}

/// Cholesky factorization and solve (LAPACK `xPOSV`); `B` is left untouched if the
/// factorization fails.
pub fn posv<T: Scalar>(
    rt: &Runtime,
    uplo: Uplo,
    mut a: MatMut<'_, T>,
    mut b: MatMut<'_, T>,
) -> Result<()> {
    if b.nrows() != a.nrows() || a.nrows() != a.ncols() {
        return Err(Error::invalid(
            0,
            "posv: A must be square and B have its rows",
        ));
    }
    if runs_direct(a.nrows(), b.ncols()) {
        finite(b.rb(), "B", None)?;
        direct_potrf(uplo, a.rb_mut())?;
        direct_potrs(uplo, a.rb(), b);
        return Ok(());
    }
    let nb = nb_for(rt, a.nrows(), a.ncols());
    let seq = rt.sequence();
    let part = Some(uplo);
    let ta = unsafe { Tiled::new(&seq, a.rb_mut(), nb, part)? };
    // B is solved in a copy: the solve starts behind the factorization's front, and B must
    // stay untouched if the factorization fails.
    let tb = unsafe { Tiled::copy(&seq, b.rb(), nb)? };
    super::potrf::check_finite_triangle_async(&seq, uplo, &ta.t)?;
    super::check_finite_async(&seq, &tb.t, "B")?;
    super::potrf_async(&seq, uplo, &ta.t)?;
    unsafe { ta.copy_out(&seq, a.rb_mut(), part)? };
    // The solve follows the factorization without waiting for all of it (the forward
    // substitution runs behind the factorization's front) on the copy of B. B itself is
    // still never touched when the factorization fails: every tile of the solution depends
    // on every tile of the factor (the forward solve of the last block row reads them all),
    // so a failing check or pivot anywhere precedes each copy into B, and the runtime
    // skips the tasks after a failed one.
    super::potrs_async(&seq, uplo, &ta.t, &tb.t)?;
    unsafe { tb.copy_out(&seq, b.rb_mut(), None)? };
    ta.wait(&seq, rt, a, part)
}

/// LU factorization with partial pivoting in place (LAPACK `xGETRF`, 0-based `ipiv`).
/// On [`Error::Singular`] the factors and `ipiv` are still complete.
pub fn getrf<T: Scalar>(rt: &Runtime, mut a: MatMut<'_, T>, ipiv: &mut [usize]) -> Result<()> {
    let kmin = a.nrows().min(a.ncols());
    if ipiv.len() < kmin {
        return Err(Error::invalid(
            0,
            format!("getrf: ipiv has {} entries, needs {kmin}", ipiv.len()),
        ));
    }
    if runs_direct(a.nrows(), a.ncols()) {
        return direct_getrf(a, ipiv);
    }
    let nb = nb_for(rt, a.nrows(), a.ncols());
    let seq = rt.sequence();
    let ta = unsafe { Tiled::new(&seq, a.rb_mut(), nb, None)? };
    let (pivots, info) = super::getrf::pivot_handles(&ta.t);
    super::check_finite_async(&seq, &ta.t, "A")?;
    super::getrf_async(&seq, &ta.t, &pivots, &info, Default::default())?;
    unsafe { ta.copy_out(&seq, a.rb_mut(), None)? };
    ta.wait(&seq, rt, a, None)?;
    drop(seq);
    super::getrf::finish_pivots(rt, &ta.t, pivots, &info, ipiv)
}

/// LU factorization without pivoting in place.
pub fn getrf_nopiv<T: Scalar>(rt: &Runtime, mut a: MatMut<'_, T>) -> Result<()> {
    let nb = nb_for(rt, a.nrows(), a.ncols());
    // SAFETY: the tiled call waits for its tasks, and the tiles are dropped before `a` is
    // touched again.
    if let Some(ta) = unsafe { TileMatrix::from_col_major_in_place(a.rb_mut(), nb, nb)? } {
        return super::getrf_nopiv(rt, &ta);
    }
    let ta = tiles(rt, a.rb(), nb)?;
    let r = super::getrf_nopiv(rt, &ta);
    ta.to_col_major(rt, a)?;
    r
}

/// Solves `op(A) X = B` with the factors from [`getrf`] (LAPACK `xGETRS`).
pub fn getrs<T: Scalar>(
    rt: &Runtime,
    trans: Op,
    a: MatRef<'_, T>,
    ipiv: &[usize],
    mut b: MatMut<'_, T>,
) -> Result<()> {
    let n = a.nrows();
    if a.ncols() != n || b.nrows() != n || ipiv.len() < n || ipiv[..n].iter().any(|&p| p >= n) {
        return Err(Error::invalid(
            0,
            "getrs: A must be square, B and ipiv conform, pivots in range",
        ));
    }
    if runs_direct(n, b.ncols()) {
        direct_getrs(trans, a, ipiv, b);
        return Ok(());
    }
    let nb = nb_for(rt, a.nrows(), a.ncols());
    let seq = rt.sequence();
    let ta = unsafe { Tiled::read(&seq, a, nb, None)? };
    let tb = unsafe { Tiled::new(&seq, b.rb_mut(), nb, None)? };
    super::getrs_async(&seq, trans, &ta.t, ipiv, &tb.t)?;
    unsafe { tb.copy_out(&seq, b.rb_mut(), None)? };
    seq.wait()
}

/// Solves `A X = B` by LU with partial pivoting (LAPACK `xGESV`); `B` is left untouched
/// if `A` is singular.
pub fn gesv<T: Scalar>(
    rt: &Runtime,
    mut a: MatMut<'_, T>,
    ipiv: &mut [usize],
    mut b: MatMut<'_, T>,
) -> Result<()> {
    let n = a.nrows();
    if a.ncols() != n || b.nrows() != n || ipiv.len() < n {
        return Err(Error::invalid(
            0,
            "gesv: A must be square, B and ipiv conform",
        ));
    }
    if runs_direct(n, b.ncols()) {
        finite(b.rb(), "B", None)?;
        direct_getrf(a.rb_mut(), ipiv)?;
        direct_getrs(Op::NoTrans, a.rb(), ipiv, b);
        return Ok(());
    }
    let nb = nb_for(rt, n, n);
    let seq = rt.sequence();
    let ta = unsafe { Tiled::new(&seq, a.rb_mut(), nb, None)? };
    let tb = unsafe { Tiled::new(&seq, b.rb_mut(), nb, None)? };
    let (pivots, info) = super::getrf::pivot_handles(&ta.t);
    super::check_finite_async(&seq, &ta.t, "A")?;
    super::check_finite_async(&seq, &tb.t, "B")?;
    super::getrf_async(&seq, &ta.t, &pivots, &info, Default::default())?;
    unsafe { ta.copy_out(&seq, a.rb_mut(), None)? };
    ta.wait(&seq, rt, a, None)?;
    super::getrf::finish_pivots(rt, &ta.t, pivots, &info, ipiv)?;
    super::getrs_async(&seq, Op::NoTrans, &ta.t, ipiv, &tb.t)?;
    unsafe { tb.copy_out(&seq, b.rb_mut(), None)? };
    seq.wait()
}

/// The block reflectors of a QR factorization made by [`geqrf`]: one `nb x nb` triangular
/// factor per panel of `nb` columns (faer's convention `Q_k = I - V_k T_k^-1 V_k^H`).
#[derive(Debug, Clone)]
pub struct QrReflectors<T: Scalar> {
    /// The tile size (panel width).
    pub nb: usize,
    /// `nb x n`: the factor of panel `k` in columns `k nb .. (k+1) nb`.
    pub t: Mat<T>,
}

/// Householder QR in place (LAPACK `xGEQRF`): `R` in the upper triangle, the Householder
/// vectors below it, the block-reflector factors returned.
pub fn geqrf<T: Scalar>(rt: &Runtime, a: MatMut<'_, T>) -> Result<QrReflectors<T>> {
    let nb = nb_for(rt, a.nrows(), a.ncols());
    let ta = tiles(rt, a.rb(), nb)?;
    let tt = super::qr_workspace(&ta);
    super::geqrf(rt, &ta, &tt)?;
    ta.to_col_major(rt, a)?;
    Ok(QrReflectors {
        nb,
        t: tt.to_mat(rt)?,
    })
}

/// Multiplies `C` by the `Q` of [`geqrf`] (LAPACK `xUNMQR` / `xORMQR`).
pub fn unmqr<T: Scalar>(
    rt: &Runtime,
    side: Side,
    trans: Op,
    a: MatRef<'_, T>,
    refl: &QrReflectors<T>,
    c: MatMut<'_, T>,
) -> Result<()> {
    let nb = refl.nb;
    let ta = tiles(rt, a, nb)?;
    let tt = tiles(rt, refl.t.as_ref(), nb)?;
    let tc = tiles(rt, c.rb(), nb)?;
    super::unmqr(rt, side, trans, &ta, &tt, &tc)?;
    tc.to_col_major(rt, c)
}

/// Least squares (`m >= n`) or minimum norm (`m < n`) solution (LAPACK `xGELS`, no
/// transpose): `b` has `max(m, n)` rows and its first `n` rows hold `X` on return.
pub fn gels<T: Scalar>(rt: &Runtime, a: MatMut<'_, T>, b: MatMut<'_, T>) -> Result<()> {
    let (m, n) = (a.nrows(), a.ncols());
    if b.nrows() != m.max(n) {
        return Err(Error::invalid(
            0,
            format!(
                "gels: B has {} rows, needs max(m, n) = {}",
                b.nrows(),
                m.max(n)
            ),
        ));
    }
    let nb = nb_for(rt, m, n);
    let ta = tiles(rt, a.rb(), nb)?;
    let tb = tiles(rt, b.rb(), nb)?;
    let r = super::gels(rt, &ta, &tb);
    if m >= n {
        ta.to_col_major(rt, a)?;
    }
    tb.to_col_major(rt, b)?;
    r
}

/// `C = alpha op(A) op(B) + beta C` (BLAS `xGEMM`) through the tiled algorithm.
#[allow(clippy::too_many_arguments)]
pub fn gemm<T: Scalar>(
    rt: &Runtime,
    ta: Op,
    tb: Op,
    alpha: T,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    beta: T,
    c: MatMut<'_, T>,
) -> Result<()> {
    let nb = nb_for(rt, c.nrows(), c.ncols());
    let (a_, b_, c_) = (tiles(rt, a, nb)?, tiles(rt, b, nb)?, tiles(rt, c.rb(), nb)?);
    super::gemm(rt, ta, tb, alpha, &a_, &b_, beta, &c_)?;
    c_.to_col_major(rt, c)
}

/// A matrix norm (LAPACK `xLANGE`).
pub fn lange<T: Scalar>(rt: &Runtime, norm: Norm, a: MatRef<'_, T>) -> Result<f64> {
    let nb = nb_for(rt, a.nrows(), a.ncols());
    super::lange(rt, norm, &tiles(rt, a, nb)?)
}
