//! LAPACK-layout entry points on faer views: convert to tiles (in parallel), run the
//! tiled algorithm, convert back. The tile size is [`auto_tile_size`] (overridable with
//! `TESSERA_NB`); use the tiled API to choose it.
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
use crate::runtime::Runtime;
use crate::tile::TileMatrix;
#[allow(unused_imports)]
use faer::prelude::{Reborrow, ReborrowMut};
use faer::{Mat, MatMut, MatRef};
use tessera_kernels::{Norm, Op, Scalar, Side, Uplo};

fn tiles<T: Scalar>(rt: &Runtime, a: MatRef<'_, T>, nb: usize) -> Result<TileMatrix<T>> {
    TileMatrix::from_col_major(rt, a, nb, nb)
}

fn nb_for(rt: &Runtime, m: usize, n: usize) -> usize {
    auto_tile_size(m, n, rt.workers())
}

/// Cholesky factorization in place (LAPACK `xPOTRF`); only the `uplo` triangle is used.
pub fn potrf<T: Scalar>(rt: &Runtime, uplo: Uplo, a: MatMut<'_, T>) -> Result<()> {
    let nb = nb_for(rt, a.nrows(), a.ncols());
    let ta = tiles(rt, a.rb(), nb)?;
    let r = super::potrf(rt, uplo, &ta);
    ta.to_col_major(rt, a)?;
    r
}

/// Solves `A X = B` with a Cholesky factor from [`potrf`] (LAPACK `xPOTRS`).
pub fn potrs<T: Scalar>(
    rt: &Runtime,
    uplo: Uplo,
    a: MatRef<'_, T>,
    b: MatMut<'_, T>,
) -> Result<()> {
    let nb = nb_for(rt, a.nrows(), a.ncols());
    let ta = tiles(rt, a, nb)?;
    let tb = tiles(rt, b.rb(), nb)?;
    super::potrs(rt, uplo, &ta, &tb)?;
    tb.to_col_major(rt, b)
}

/// Cholesky factorization and solve (LAPACK `xPOSV`).
pub fn posv<T: Scalar>(rt: &Runtime, uplo: Uplo, a: MatMut<'_, T>, b: MatMut<'_, T>) -> Result<()> {
    let nb = nb_for(rt, a.nrows(), a.ncols());
    let ta = tiles(rt, a.rb(), nb)?;
    let tb = tiles(rt, b.rb(), nb)?;
    let r = super::posv(rt, uplo, &ta, &tb);
    ta.to_col_major(rt, a)?;
    if r.is_ok() {
        tb.to_col_major(rt, b)?;
    }
    r
}

/// LU factorization with partial pivoting in place (LAPACK `xGETRF`, 0-based `ipiv`).
/// On [`Error::Singular`] the factors and `ipiv` are still complete.
pub fn getrf<T: Scalar>(rt: &Runtime, a: MatMut<'_, T>, ipiv: &mut [usize]) -> Result<()> {
    let nb = nb_for(rt, a.nrows(), a.ncols());
    let ta = tiles(rt, a.rb(), nb)?;
    let r = super::getrf(rt, &ta, ipiv);
    ta.to_col_major(rt, a)?;
    r
}

/// LU factorization without pivoting in place.
pub fn getrf_nopiv<T: Scalar>(rt: &Runtime, a: MatMut<'_, T>) -> Result<()> {
    let nb = nb_for(rt, a.nrows(), a.ncols());
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
    b: MatMut<'_, T>,
) -> Result<()> {
    let nb = nb_for(rt, a.nrows(), a.ncols());
    let ta = tiles(rt, a, nb)?;
    let tb = tiles(rt, b.rb(), nb)?;
    super::getrs(rt, trans, &ta, ipiv, &tb)?;
    tb.to_col_major(rt, b)
}

/// Solves `A X = B` by LU with partial pivoting (LAPACK `xGESV`).
pub fn gesv<T: Scalar>(
    rt: &Runtime,
    a: MatMut<'_, T>,
    ipiv: &mut [usize],
    b: MatMut<'_, T>,
) -> Result<()> {
    let nb = nb_for(rt, a.nrows(), a.ncols());
    let ta = tiles(rt, a.rb(), nb)?;
    let tb = tiles(rt, b.rb(), nb)?;
    let r = super::gesv(rt, &ta, ipiv, &tb);
    ta.to_col_major(rt, a)?;
    if r.is_ok() {
        tb.to_col_major(rt, b)?;
    }
    r
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
