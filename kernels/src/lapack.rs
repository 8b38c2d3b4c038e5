//! LAPACK-level kernels on one tile or on one column of tiles: Cholesky, the LU panel with
//! partial pivoting, row interchanges, Householder QR with block reflectors.

use crate::blas::{gemm, trsm};
use crate::{Diag, Op, Scalar, Side, Uplo};
use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::cholesky::llt::factor::{cholesky_in_place, cholesky_in_place_scratch, LltError};
use faer::linalg::matmul::triangular::{self, BlockStructure};
use faer::linalg::qr::no_pivoting::factor::{qr_in_place, qr_in_place_scratch};
use faer::linalg::triangular_solve as ts;
use faer::prelude::{Reborrow, ReborrowMut};
use faer::{Accum, Conj, Mat, MatMut, MatRef, Par};

/// Cholesky factorization of a Hermitian positive definite tile in place (LAPACK `xPOTRF`):
/// `A = L L^H` (Lower, the strict upper triangle is not referenced) or `A = U^H U` (Upper).
///
/// Returns `Err(j)` (0-based) when the leading minor of order `j + 1` is not positive
/// definite; the tile is then partially overwritten, as in LAPACK.
pub fn potrf<T: Scalar>(uplo: Uplo, a: MatMut<'_, T>) -> Result<(), usize> {
    let n = a.nrows();
    if n == 0 {
        return Ok(());
    }
    // Upper: B = A^T = conj(A) is Hermitian positive definite and its lower triangle is
    // stored in A's upper triangle; B = L L^H gives A = (L^T)^H L^T, so U = L^T in place.
    let a = if uplo == Uplo::Lower {
        a
    } else {
        a.transpose_mut()
    };
    // faer's kernel may use the strict upper triangle (of the lower view) as workspace;
    // LAPACK leaves it untouched, and so do we.
    let saved = crate::blas::save_strict_triangle(Uplo::Upper, a.rb());
    let mut a = a;
    // LAPACK reads only the real part of a Hermitian matrix's diagonal (and writes the
    // factor's diagonal exactly real).
    for j in 0..n {
        let d = a.rb_mut().get_mut(j, j);
        *d = T::from_f64(d.re());
    }
    // faer returns NonPositivePivot for a non-positive or NaN pivot; a NaN anywhere below
    // would otherwise go unnoticed, so the diagonal of L is checked for finiteness too.
    let mut mem = MemBuffer::new(cholesky_in_place_scratch::<T>(
        n,
        Par::Seq,
        Default::default(),
    ));
    let res = cholesky_in_place(
        a.rb_mut(),
        Default::default(),
        Par::Seq,
        MemStack::new(&mut mem),
        Default::default(),
    );
    crate::blas::restore_strict_triangle(Uplo::Upper, &saved, a.rb_mut());
    match res {
        Ok(_) => {
            for j in 0..n {
                let d = a.rb_mut().get_mut(j, j);
                if !d.finite() {
                    return Err(j);
                }
                // Rounding in the complex updates can leave a tiny imaginary part on the
                // diagonal; the factor of a Hermitian matrix has an exactly real one.
                *d = T::from_f64(d.re());
            }
            Ok(())
        }
        Err(LltError::NonPositivePivot { index }) => Err(index),
    }
}

/// Swaps rows `i` and `p` of `a`.
#[inline]
fn swap_rows<T: Scalar>(a: MatMut<'_, T>, i: usize, p: usize) {
    let mut a = a;
    if i == p {
        return;
    }
    for j in 0..a.ncols() {
        let x = *a.rb().get(i, j);
        let y = *a.rb().get(p, j);
        *a.rb_mut().get_mut(i, j) = y;
        *a.rb_mut().get_mut(p, j) = x;
    }
}

/// Applies the row interchanges `ipiv` (LAPACK `xLASWP` with 0-based indices): for
/// `k` in order, row `k` is swapped with row `ipiv[k]` (`forward`), or in reverse order.
pub fn laswp<T: Scalar>(a: MatMut<'_, T>, ipiv: &[usize], forward: bool) {
    // Column-outer in chunks: the rows a chunk touches stay in cache while every
    // interchange is applied to it (row by row over all columns, each interchange would
    // bring two cache lines per column in again).
    const CHUNK: usize = 16;
    let mut a = a;
    let ncols = a.ncols();
    let mut j0 = 0;
    while j0 < ncols {
        let j1 = (j0 + CHUNK).min(ncols);
        let mut blk = a.rb_mut().get_mut(.., j0..j1);
        if forward {
            for (k, &p) in ipiv.iter().enumerate() {
                swap_rows(blk.rb_mut(), k, p);
            }
        } else {
            for (k, &p) in ipiv.iter().enumerate().rev() {
                swap_rows(blk.rb_mut(), k, p);
            }
        }
        j0 = j1;
    }
}

/// Applies row interchanges to a column of tiles as if they were one matrix: global row
/// `r` lives in tile `r / mb`, row `r % mb`. Row `k0 + k` is swapped with row `ipiv[k]`
/// (both counted from the first row of `tiles[0]`).
pub fn laswp_tiles<T: Scalar>(tiles: &mut [MatMut<'_, T>], mb: usize, k0: usize, ipiv: &[usize]) {
    let ncols = tiles.first().map_or(0, |t| t.ncols());
    // (pointer, row stride, column stride, rows) of each tile.
    let raw: Vec<(*mut T, isize, isize, usize)> = tiles
        .iter_mut()
        .map(|t| (t.as_ptr_mut(), t.row_stride(), t.col_stride(), t.nrows()))
        .collect();
    for (k, &p) in ipiv.iter().enumerate() {
        let r = k0 + k;
        assert!(
            r / mb < raw.len() && p / mb < raw.len(),
            "row interchange out of the column of tiles"
        );
        assert!(
            r % mb < raw[r / mb].3 && p % mb < raw[p / mb].3,
            "row interchange out of the column of tiles"
        );
    }
    // Column-outer loop in chunks keeps the touched rows in cache.
    const CHUNK: usize = 16;
    let mut j0 = 0;
    while j0 < ncols {
        let j1 = (j0 + CHUNK).min(ncols);
        for (k, &p) in ipiv.iter().enumerate() {
            let r = k0 + k;
            if r == p {
                continue;
            }
            let (a, b) = (raw[r / mb], raw[p / mb]);
            let (lr, lp) = ((r % mb) as isize, (p % mb) as isize);
            for j in j0 as isize..j1 as isize {
                // SAFETY: both rows exist in their tiles (checked above), every tile has
                // `ncols` columns, and the tiles are distinct live views borrowed mutably for
                // the duration of this call; `r != p`, so the two elements are distinct.
                unsafe {
                    std::ptr::swap(
                        a.0.offset(lr * a.1 + j * a.2),
                        b.0.offset(lp * b.1 + j * b.2),
                    );
                }
            }
        }
        j0 = j1;
    }
}

crate::simd::dispatch! {
    /// Unblocked right-looking LU with partial pivoting (LAPACK `xGETF2`) on a column-major
    /// buffer. Returns the first zero pivot (0-based) if any; the factorization completes.
    fn getf2<T: Scalar>(a: MatMut<'_, T>, ipiv: &mut [usize]) -> Option<usize> => getf2_body
}

/// Column `j` of a view with unit row stride, as a slice.
#[inline(always)]
fn col_slice<T: Scalar>(a: MatRef<'_, T>, j: usize) -> &[T] {
    a.col(j)
        .try_as_col_major()
        .expect("the LU panel needs a unit row stride")
        .as_slice()
}

/// Column `j` of a view with unit row stride, as a mutable slice.
#[inline(always)]
fn col_slice_mut<T: Scalar>(a: MatMut<'_, T>, j: usize) -> &mut [T] {
    a.col_mut(j)
        .try_as_col_major_mut()
        .expect("the LU panel needs a unit row stride")
        .as_slice_mut()
}

#[inline(always)]
fn getf2_body<T: Scalar>(a: MatMut<'_, T>, ipiv: &mut [usize]) -> Option<usize> {
    let (m, n) = (a.nrows(), a.ncols());
    let mut a = a;
    let mut info = None;
    for j in 0..m.min(n) {
        let col = col_slice(a.rb(), j);
        let mut p = j;
        let mut best = col[j].abs1();
        for (i, x) in col.iter().enumerate().skip(j + 1) {
            let v = x.abs1();
            if v > best {
                best = v;
                p = i;
            }
        }
        ipiv[j] = p;
        if col[p] != T::zero() {
            if p != j {
                for c in 0..n {
                    col_slice_mut(a.rb_mut(), c).swap(j, p);
                }
            }
            let col = &mut col_slice_mut(a.rb_mut(), j)[j..];
            let piv = col[0];
            let col = &mut col[1..];
            if piv.modulus() >= T::SAFE_MIN {
                let r = piv.recip();
                col.iter_mut().for_each(|x| *x *= r);
            } else {
                col.iter_mut().for_each(|x| *x = x.div_robust(piv));
            }
        } else if info.is_none() {
            info = Some(j);
        }
        // Rank-1 update of the trailing block.
        if j + 1 >= n {
            continue;
        }
        let (left, mut right) = a.rb_mut().split_at_col_mut(j + 1);
        let l = &col_slice(left.rb(), j)[j + 1..];
        for c in 0..n - j - 1 {
            let colc = col_slice_mut(right.rb_mut(), c);
            let u = colc[j];
            if u != T::zero() {
                for (x, &li) in colc[j + 1..].iter_mut().zip(l) {
                    *x -= li * u;
                }
            }
        }
    }
    info
}

/// Recursive LU with partial pivoting (the method of LAPACK `xGETRF2`, Toledo 1997) on a
/// column-major `m x n` buffer with leading dimension `ld`; the pivot search at each column
/// runs over all `m` rows. `ipiv[j]` receives the (0-based) row swapped with row `j`.
/// Returns the first exactly-zero pivot (0-based); the factorization is completed anyway.
pub fn getrf_panel<T: Scalar>(
    a: &mut [T],
    m: usize,
    n: usize,
    ld: usize,
    ipiv: &mut [usize],
) -> Option<usize> {
    if m == 0 || n == 0 {
        return None;
    }
    let v = MatMut::from_column_major_slice_with_stride_mut(&mut a[..(n - 1) * ld + m], m, n, ld);
    getrf_panel_view(v, ipiv)
}

/// [`getrf_panel`] on a view (any leading dimension), such as a column of tiles of a
/// matrix used in place.
///
/// # Panics
/// If the view's row stride is not 1.
pub fn getrf_panel_view<T: Scalar>(a: MatMut<'_, T>, ipiv: &mut [usize]) -> Option<usize> {
    let (m, n) = (a.nrows(), a.ncols());
    let k = m.min(n);
    if k == 0 {
        return None;
    }
    if n <= 16 || m <= 16 {
        return getf2(a, ipiv);
    }
    let n1 = (k / 2).max(1);
    let (mut left, mut right) = a.split_at_col_mut(n1);
    // Factor the left column block [A11; A21].
    let info1 = getrf_panel_view(left.rb_mut(), &mut ipiv[..n1]);
    // Apply its interchanges to [A12; A22].
    laswp(right.rb_mut(), &ipiv[..n1], true);
    {
        let (a11, a21) = left.rb().split_at_row(n1);
        let (mut a12, a22) = right.rb_mut().split_at_row_mut(n1);
        // A12 = L11^-1 A12 ; A22 -= A21 A12
        trsm(
            Side::Left,
            Uplo::Lower,
            Op::NoTrans,
            Diag::Unit,
            T::one(),
            a11,
            a12.rb_mut(),
        );
        if m > n1 {
            gemm(
                Op::NoTrans,
                Op::NoTrans,
                -T::one(),
                a21,
                a12.rb(),
                T::one(),
                a22,
            );
        }
    }
    // Factor A22 recursively.
    let mut info2 = None;
    if m > n1 {
        let (_, a22) = right.split_at_row_mut(n1);
        info2 = getrf_panel_view(a22, &mut ipiv[n1..k]);
        for p in ipiv[n1..k].iter_mut() {
            *p += n1;
        }
        // Apply the second block's interchanges to A21 (rows n1.. of the left block).
        let (_, a21) = left.split_at_row_mut(n1);
        let piv: Vec<usize> = ipiv[n1..k].iter().map(|&p| p - n1).collect();
        laswp(a21, &piv, true);
    }
    info1.or(info2.map(|i| i + n1))
}

/// LU without pivoting of a tile (`A = L U`, L unit lower). Returns the first zero pivot
/// (0-based); the remaining columns are then left unscaled but updated, as LAPACK does.
pub fn getrf_nopiv<T: Scalar>(a: MatMut<'_, T>) -> Option<usize> {
    let (m, n) = (a.nrows(), a.ncols());
    let k = m.min(n);
    let mut a = a;
    let mut info = None;
    const NB: usize = 32;
    let mut j0 = 0;
    while j0 < k {
        let jb = NB.min(k - j0);
        // Unblocked factorization of the column block [j0, j0+jb) over rows j0..m.
        for j in j0..j0 + jb {
            let piv = *a.rb().get(j, j);
            if piv == T::zero() {
                if info.is_none() {
                    info = Some(j);
                }
            } else {
                let r = piv.recip();
                for i in j + 1..m {
                    *a.rb_mut().get_mut(i, j) *= r;
                }
            }
            for c in j + 1..j0 + jb {
                let u = *a.rb().get(j, c);
                if u == T::zero() {
                    continue;
                }
                for i in j + 1..m {
                    let l = *a.rb().get(i, j);
                    *a.rb_mut().get_mut(i, c) -= l * u;
                }
            }
        }
        let j1 = j0 + jb;
        if j1 < n {
            let (left, right) = a.rb_mut().split_at_col_mut(j1);
            let left = left.rb().get(j0.., j0..j1);
            let right = right.get_mut(j0.., ..);
            let (l11, l21) = left.split_at_row(jb);
            let (mut u12, a22) = right.split_at_row_mut(jb);
            trsm(
                Side::Left,
                Uplo::Lower,
                Op::NoTrans,
                Diag::Unit,
                T::one(),
                l11,
                u12.rb_mut(),
            );
            if m > j1 {
                gemm(
                    Op::NoTrans,
                    Op::NoTrans,
                    -T::one(),
                    l21,
                    u12.rb(),
                    T::one(),
                    a22,
                );
            }
        }
        j0 = j1;
    }
    info
}

/// Householder QR of an `m x n` block (LAPACK `xGEQRT`): on exit R is in the upper
/// triangle and the Householder vectors (unit diagonal implied) below it; `t` (`k x k`,
/// `k = min(m, n)`) receives the triangular factor of the block reflector
/// `Q = I - V T^-1 V^H` (faer's convention: T is applied by a triangular solve).
pub fn geqrt<T: Scalar>(a: MatMut<'_, T>, t: MatMut<'_, T>) {
    let (m, n) = (a.nrows(), a.ncols());
    let k = m.min(n);
    if k == 0 {
        return;
    }
    debug_assert!(t.nrows() == k && t.ncols() == k);
    let mut mem = MemBuffer::new(qr_in_place_scratch::<T>(
        m,
        n,
        k,
        Par::Seq,
        Default::default(),
    ));
    qr_in_place(a, t, Par::Seq, MemStack::new(&mut mem), Default::default());
}

/// faer marks a reflector that is the identity (nothing below the diagonal to annihilate)
/// with an infinite diagonal entry of `T`. Solving with such a `T` can mix `inf` with
/// large finite values into NaN, so the identity reflectors are taken out exactly: their
/// rows of `x` (`k x ncols`, row `j` belongs to reflector `j`) become zero and the returned
/// copy of `T` has their rows and columns replaced by those of the identity (the product
/// of the remaining reflectors is what `T` without them describes). `None` when every
/// reflector is a proper one.
fn identity_reflectors_out<T: Scalar>(t: MatRef<'_, T>, x: MatMut<'_, T>) -> Option<Mat<T>> {
    let k = t.nrows();
    if (0..k).all(|j| t.get(j, j).finite()) {
        return None;
    }
    let mut x = x;
    let mut s = t.to_owned();
    for j in 0..k {
        if !t.get(j, j).finite() {
            for i in 0..k {
                s[(i, j)] = T::zero();
                s[(j, i)] = T::zero();
            }
            s[(j, j)] = T::one();
            for c in 0..x.ncols() {
                *x.rb_mut().get_mut(j, c) = T::zero();
            }
        }
    }
    Some(s)
}

/// The inverse of [`larft`] on the diagonal: LAPACK's `tau_j = 1 / T_jj` of the reflectors
/// whose block factor (faer's convention) is `t`, and 0 for an identity reflector
/// (infinite `T_jj`). `tau` receives `tau.len()` values.
pub fn householder_tau<T: Scalar>(t: MatRef<'_, T>, tau: &mut [T]) {
    for (j, tj) in tau.iter_mut().enumerate() {
        let d = *t.get(j, j);
        *tj = if d.finite() { d.recip() } else { T::zero() };
    }
}

/// The block-reflector factor, in faer's convention (`Q = I - V T^-1 V^H`), of
/// reflectors given in LAPACK's form: the Householder vectors below the diagonal of `v`
/// (`rows x k`, unit diagonal implied, upper triangle not read) and their LAPACK scalars
/// `tau` (`H_j = I - tau_j v_j v_j^H`). `T = striu(V^H V) + diag(1 / tau)`, with an
/// infinite diagonal entry (faer's mark for `H_j = I`) where `tau_j = 0`.
pub fn larft<T: Scalar>(v: MatRef<'_, T>, tau: &[T], t: MatMut<'_, T>) {
    let k = tau.len();
    let mut vv = v.get(.., ..k).to_owned();
    for j in 0..k {
        for i in 0..j {
            vv[(i, j)] = T::zero();
        }
        vv[(j, j)] = T::one();
    }
    let mut g = Mat::<T>::zeros(k, k);
    gemm(
        Op::ConjTrans,
        Op::NoTrans,
        T::one(),
        vv.as_ref(),
        vv.as_ref(),
        T::zero(),
        g.as_mut(),
    );
    let mut t = t;
    for (j, &tau_j) in tau.iter().enumerate() {
        for i in 0..k {
            *t.rb_mut().get_mut(i, j) = match i.cmp(&j) {
                std::cmp::Ordering::Less => g[(i, j)],
                std::cmp::Ordering::Equal if tau_j == T::zero() => T::from_f64(f64::INFINITY),
                std::cmp::Ordering::Equal => tau_j.recip(),
                std::cmp::Ordering::Greater => T::zero(),
            };
        }
    }
}

/// Applies the block reflector `Q = I - V T^-1 V^H` produced by [`geqrt`] (or its
/// conjugate transpose when `trans == ConjTrans`) from the left to a matrix whose rows
/// are split over a column of tiles: `v[i]` and `c[i]` hold the same rows. `v[0]` is the
/// tile holding the unit lower triangular top of V (its upper triangle is not read).
/// `work` must be `k x ncols`, with `k` the number of reflectors (`t` is `k x k`).
pub fn apply_block_reflector_tiles<T: Scalar>(
    trans: Op,
    v: &[MatRef<'_, T>],
    t: MatRef<'_, T>,
    c: &mut [MatMut<'_, T>],
    work: MatMut<'_, T>,
) {
    let k = t.nrows();
    if k == 0 || c.is_empty() || c[0].ncols() == 0 {
        return;
    }
    let mut w = work;
    debug_assert_eq!(w.nrows(), k);
    let v0 = v[0];
    let (v0top, v0bot) = (v0.get(..k, ..k), v0.get(k.., ..k));
    // W = V^H C
    {
        let (c0top, c0bot) = c[0].rb().split_at_row(k);
        triangular::matmul_with_conj(
            w.rb_mut(),
            BlockStructure::Rectangular,
            Accum::Replace,
            v0top.transpose(),
            BlockStructure::UnitTriangularUpper,
            Conj::Yes,
            c0top,
            BlockStructure::Rectangular,
            Conj::No,
            T::one(),
            Par::Seq,
        );
        if v0bot.nrows() > 0 {
            gemm(
                Op::ConjTrans,
                Op::NoTrans,
                T::one(),
                v0bot,
                c0bot,
                T::one(),
                w.rb_mut(),
            );
        }
        for (vi, ci) in v[1..].iter().zip(c[1..].iter()) {
            gemm(
                Op::ConjTrans,
                Op::NoTrans,
                T::one(),
                vi.get(.., ..k),
                ci.rb(),
                T::one(),
                w.rb_mut(),
            );
        }
    }
    // W = T^-1 W (apply Q) or T^-H W (apply Q^H).
    let st = identity_reflectors_out(t, w.rb_mut());
    let t = st.as_ref().map_or(t, |s| s.as_ref());
    if trans == Op::NoTrans {
        ts::solve_upper_triangular_in_place_with_conj(t, Conj::No, w.rb_mut(), Par::Seq);
    } else {
        ts::solve_lower_triangular_in_place_with_conj(
            t.transpose(),
            Conj::Yes,
            w.rb_mut(),
            Par::Seq,
        );
    }
    // C -= V W
    {
        let (c0top, c0bot) = c[0].rb_mut().split_at_row_mut(k);
        triangular::matmul_with_conj(
            c0top,
            BlockStructure::Rectangular,
            Accum::Add,
            v0top,
            BlockStructure::UnitTriangularLower,
            Conj::No,
            w.rb(),
            BlockStructure::Rectangular,
            Conj::No,
            -T::one(),
            Par::Seq,
        );
        if v0bot.nrows() > 0 {
            gemm(
                Op::NoTrans,
                Op::NoTrans,
                -T::one(),
                v0bot,
                w.rb(),
                T::one(),
                c0bot,
            );
        }
    }
    for (vi, ci) in v[1..].iter().zip(c[1..].iter_mut()) {
        gemm(
            Op::NoTrans,
            Op::NoTrans,
            -T::one(),
            vi.get(.., ..k),
            w.rb(),
            T::one(),
            ci.rb_mut(),
        );
    }
}

/// Applies the block reflector `Q = I - V T^-1 V^H` of [`geqrt`] from the right:
/// `C = C Q` (`trans = NoTrans`) or `C = C Q^H` (`ConjTrans`), where the columns of `C` are
/// split over a row of tiles: `c[i]` holds the columns matching the rows of `v[i]`.
/// `work` must be `nrows(C) x k`.
pub fn apply_block_reflector_tiles_right<T: Scalar>(
    trans: Op,
    v: &[MatRef<'_, T>],
    t: MatRef<'_, T>,
    c: &mut [MatMut<'_, T>],
    work: MatMut<'_, T>,
) {
    let k = t.nrows();
    if k == 0 || c.is_empty() || c[0].nrows() == 0 {
        return;
    }
    let mut w = work;
    let v0 = v[0];
    let (v0top, v0bot) = (v0.get(..k, ..k), v0.get(k.., ..k));
    // W = C V
    {
        let (c0l, c0r) = c[0].rb().split_at_col(k);
        triangular::matmul_with_conj(
            w.rb_mut(),
            BlockStructure::Rectangular,
            Accum::Replace,
            c0l,
            BlockStructure::Rectangular,
            Conj::No,
            v0top,
            BlockStructure::UnitTriangularLower,
            Conj::No,
            T::one(),
            Par::Seq,
        );
        if v0bot.nrows() > 0 {
            gemm(
                Op::NoTrans,
                Op::NoTrans,
                T::one(),
                c0r,
                v0bot,
                T::one(),
                w.rb_mut(),
            );
        }
        for (vi, ci) in v[1..].iter().zip(c[1..].iter()) {
            gemm(
                Op::NoTrans,
                Op::NoTrans,
                T::one(),
                ci.rb(),
                vi.get(.., ..k),
                T::one(),
                w.rb_mut(),
            );
        }
    }
    // W = W T^-1 (Q) or W T^-H (Q^H), solved on the transposed system.
    let st = identity_reflectors_out(t, w.rb_mut().transpose_mut());
    let t = st.as_ref().map_or(t, |s| s.as_ref());
    if trans == Op::NoTrans {
        ts::solve_lower_triangular_in_place_with_conj(
            t.transpose(),
            Conj::No,
            w.rb_mut().transpose_mut(),
            Par::Seq,
        );
    } else {
        ts::solve_upper_triangular_in_place_with_conj(
            t,
            Conj::Yes,
            w.rb_mut().transpose_mut(),
            Par::Seq,
        );
    }
    // C -= W V^H
    {
        let (c0l, c0r) = c[0].rb_mut().split_at_col_mut(k);
        triangular::matmul_with_conj(
            c0l,
            BlockStructure::Rectangular,
            Accum::Add,
            w.rb(),
            BlockStructure::Rectangular,
            Conj::No,
            v0top.transpose(),
            BlockStructure::UnitTriangularUpper,
            Conj::Yes,
            -T::one(),
            Par::Seq,
        );
        if v0bot.nrows() > 0 {
            gemm(
                Op::NoTrans,
                Op::ConjTrans,
                -T::one(),
                w.rb(),
                v0bot,
                T::one(),
                c0r,
            );
        }
    }
    for (vi, ci) in v[1..].iter().zip(c[1..].iter_mut()) {
        gemm(
            Op::NoTrans,
            Op::ConjTrans,
            -T::one(),
            w.rb(),
            vi.get(.., ..k),
            T::one(),
            ci.rb_mut(),
        );
    }
}

/// Triangle-on-top-of-square QR (LAPACK `xTPQRT` with `L = 0`, PLASMA's `TSQRT`): factors
/// `[R; A2] = Q [R'; 0]` where `R` is the upper triangle of the `n x n` block `r` and `A2`
/// is `m x n`. On exit the upper triangle of `r` holds `R'` (its strict lower triangle is
/// not touched, so it can keep the reflectors of an earlier [`geqrt`]), `a2` holds `V2`,
/// and `t` (`n x n`) the triangular factor: `Q = I - [I; V2] T^-1 [I; V2]^H`. This is the
/// kernel of tile QR with a reduction tree (the top block of `V` is exactly the identity).
///
/// The factorization runs faer's blocked Householder QR on the stacked block, so it does
/// the `2/3 n^3` flops of the zero triangle too.
pub fn tsqrt<T: Scalar>(r: MatMut<'_, T>, a2: MatMut<'_, T>, t: MatMut<'_, T>) {
    let n = r.ncols();
    let m = a2.nrows();
    debug_assert!(r.nrows() == n && a2.ncols() == n && t.nrows() == n && t.ncols() == n);
    if n == 0 {
        return;
    }
    let (mut r, mut a2) = (r, a2);
    let mut s = Mat::<T>::zeros(n + m, n);
    for j in 0..n {
        for i in 0..=j {
            *s.as_mut().get_mut(i, j) = *r.rb().get(i, j);
        }
    }
    s.as_mut().submatrix_mut(n, 0, m, n).copy_from(a2.rb());
    geqrt(s.as_mut(), t);
    for j in 0..n {
        for i in 0..=j {
            *r.rb_mut().get_mut(i, j) = *s.as_ref().get(i, j);
        }
    }
    a2.copy_from(s.as_ref().submatrix(n, 0, m, n));
}

/// Applies the reflector of [`tsqrt`] from the left to a pair of blocks (LAPACK `xTPMQRT`
/// with `L = 0`, PLASMA's `TSMQR`): `[C1; C2] = op(Q) [C1; C2]`, `op` = `NoTrans` or
/// `ConjTrans`, with `C1` `k x ncols` (the rows of the triangle) and `C2` `m x ncols`.
/// `work` must be `k x ncols`.
pub fn tsmqr<T: Scalar>(
    trans: Op,
    v2: MatRef<'_, T>,
    t: MatRef<'_, T>,
    c1: MatMut<'_, T>,
    c2: MatMut<'_, T>,
    work: MatMut<'_, T>,
) {
    let k = t.nrows();
    if k == 0 || c1.ncols() == 0 {
        return;
    }
    let (mut c1, mut c2, mut w) = (c1, c2, work);
    // W = C1 + V2^H C2
    w.copy_from(c1.rb());
    gemm(
        Op::ConjTrans,
        Op::NoTrans,
        T::one(),
        v2,
        c2.rb(),
        T::one(),
        w.rb_mut(),
    );
    // W = T^-1 W (Q) or T^-H W (Q^H)
    if trans == Op::NoTrans {
        ts::solve_upper_triangular_in_place_with_conj(t, Conj::No, w.rb_mut(), Par::Seq);
    } else {
        ts::solve_lower_triangular_in_place_with_conj(
            t.transpose(),
            Conj::Yes,
            w.rb_mut(),
            Par::Seq,
        );
    }
    // C1 -= W ; C2 -= V2 W
    for j in 0..c1.ncols() {
        for i in 0..k {
            let x = *w.rb().get(i, j);
            *c1.rb_mut().get_mut(i, j) -= x;
        }
    }
    gemm(
        Op::NoTrans,
        Op::NoTrans,
        -T::one(),
        v2,
        w.rb(),
        T::one(),
        c2.rb_mut(),
    );
}
