//! Auxiliary tile kernels: copies, fills, norms, finiteness checks.

use crate::{Norm, Scalar, Uplo};
use faer::prelude::ReborrowMut;
use faer::{MatMut, MatRef};

/// Copies `a` into `b` (LAPACK `xLACPY`): the whole matrix (`uplo = None`) or one triangle.
pub fn lacpy<T: Scalar>(uplo: Option<Uplo>, a: MatRef<'_, T>, b: MatMut<'_, T>) {
    let mut b = b;
    match uplo {
        None => b.copy_from(a),
        Some(u) => {
            for j in 0..a.ncols() {
                let (lo, hi) = match u {
                    Uplo::Lower => (j, a.nrows()),
                    Uplo::Upper => (0, (j + 1).min(a.nrows())),
                };
                for i in lo..hi {
                    *b.rb_mut().get_mut(i, j) = *a.get(i, j);
                }
            }
        }
    }
}

/// Sets the off-diagonal entries to `alpha` and the diagonal to `beta` (LAPACK `xLASET`).
pub fn laset<T: Scalar>(alpha: T, beta: T, a: MatMut<'_, T>) {
    let mut a = a;
    for j in 0..a.ncols() {
        for i in 0..a.nrows() {
            *a.rb_mut().get_mut(i, j) = if i == j { beta } else { alpha };
        }
    }
}

/// The position of the first entry (column-major order) that is NaN or infinite.
pub fn find_non_finite<T: Scalar>(a: MatRef<'_, T>) -> Option<(usize, usize)> {
    (0..a.ncols()).find_map(|j| first_non_finite(a, j, 0..a.nrows()).map(|i| (i, j)))
}

/// [`find_non_finite`] restricted to the `uplo` triangle (diagonal included).
pub fn find_non_finite_triangle<T: Scalar>(uplo: Uplo, a: MatRef<'_, T>) -> Option<(usize, usize)> {
    (0..a.ncols()).find_map(|j| {
        let rows = if uplo == Uplo::Lower {
            j.min(a.nrows())..a.nrows()
        } else {
            0..(j + 1).min(a.nrows())
        };
        first_non_finite(a, j, rows).map(|i| (i, j))
    })
}

/// The first row in `rows` of column `j` holding a NaN or an infinity.
fn first_non_finite<T: Scalar>(
    a: MatRef<'_, T>,
    j: usize,
    rows: std::ops::Range<usize>,
) -> Option<usize> {
    let col = a.col(j).subrows(rows.start, rows.len());
    match col.try_as_col_major() {
        // A contiguous column: a branch-free scan (vectorized) first, the position only
        // when it finds something.
        Some(c) if !any_non_finite(c.as_slice()) => None,
        _ => rows.clone().find(|&i| !a.get(i, j).finite()),
    }
}

crate::simd::dispatch! {
    /// Whether `v` holds a NaN or an infinity.
    fn any_non_finite<T: Scalar>(v: &[T]) -> bool => any_non_finite_body
}

#[inline(always)]
fn any_non_finite_body<T: Scalar>(v: &[T]) -> bool {
    v.iter().fold(false, |bad, x| bad | !x.finite())
}

/// A partial norm of one tile that combines with the partial norms of other tiles.
///
/// - `Max`: the largest modulus;
/// - `One`: the column sums (one per column);
/// - `Inf`: the row sums (one per row);
/// - `Frobenius`: `(scale, sumsq)` with norm = `scale * sqrt(sumsq)` (LAPACK `xLASSQ`).
#[derive(Debug, Clone, PartialEq)]
pub enum PartialNorm {
    /// Largest modulus.
    Max(f64),
    /// Column sums of moduli.
    ColSums(Vec<f64>),
    /// Row sums of moduli.
    RowSums(Vec<f64>),
    /// Scaled sum of squares.
    Ssq {
        /// Scale.
        scale: f64,
        /// Sum of squares divided by `scale^2`.
        sumsq: f64,
    },
}

/// Adds `x` (a modulus) into a scaled sum of squares.
#[inline]
pub fn ssq_add(scale: &mut f64, sumsq: &mut f64, x: f64) {
    if x != 0.0 || x.is_nan() {
        if *scale < x || x.is_nan() {
            *sumsq = 1.0 + *sumsq * (*scale / x) * (*scale / x);
            *scale = x;
        } else {
            *sumsq += (x / *scale) * (x / *scale);
        }
    }
}

/// Combines two scaled sums of squares.
pub fn ssq_combine(a: (f64, f64), b: (f64, f64)) -> (f64, f64) {
    let (s1, q1) = a;
    let (s2, q2) = b;
    if s1 >= s2 {
        if s1 == 0.0 {
            (0.0, 0.0)
        } else {
            (s1, q1 + q2 * (s2 / s1) * (s2 / s1))
        }
    } else {
        (s2, q2 + q1 * (s1 / s2) * (s1 / s2))
    }
}

/// The partial norm of a tile. With `uplo = Some(..)` only that triangle is read and the
/// tile is taken as the diagonal tile of a Hermitian (`herm = true`) or symmetric matrix,
/// so the missing triangle is accounted for by symmetry (LAPACK `xLANHE` / `xLANSY`).
pub fn tile_norm<T: Scalar>(norm: Norm, uplo: Option<Uplo>, a: MatRef<'_, T>) -> PartialNorm {
    tile_norm_impl(norm, uplo, false, a)
}

/// [`tile_norm`] of the diagonal tile of a Hermitian matrix: as LAPACK's `xLANHE`, the
/// imaginary parts of the diagonal are taken as zero.
pub fn tile_norm_hermitian<T: Scalar>(norm: Norm, uplo: Uplo, a: MatRef<'_, T>) -> PartialNorm {
    tile_norm_impl(norm, Some(uplo), true, a)
}

fn tile_norm_impl<T: Scalar>(
    norm: Norm,
    uplo: Option<Uplo>,
    herm: bool,
    a: MatRef<'_, T>,
) -> PartialNorm {
    let at = |i: usize, j: usize| -> T {
        let z = *a.get(i, j);
        if herm && i == j {
            T::from_f64(z.re())
        } else {
            z
        }
    };
    let (m, n) = (a.nrows(), a.ncols());
    let in_tri = |i: usize, j: usize| match uplo {
        None => true,
        Some(Uplo::Lower) => i >= j,
        Some(Uplo::Upper) => i <= j,
    };
    match norm {
        Norm::Max => {
            let mut v: f64 = 0.0;
            for j in 0..n {
                for i in 0..m {
                    if in_tri(i, j) {
                        let x = at(i, j).modulus();
                        if x > v || x.is_nan() {
                            v = x;
                        }
                    }
                }
            }
            PartialNorm::Max(v)
        }
        Norm::One | Norm::Inf => {
            let mut cs = vec![0.0; n];
            let mut rs = vec![0.0; m];
            for j in 0..n {
                for i in 0..m {
                    if in_tri(i, j) {
                        let x = at(i, j).modulus();
                        cs[j] += x;
                        rs[i] += x;
                        if uplo.is_some() && i != j {
                            // The mirrored entry (j, i).
                            cs[i] += x;
                            rs[j] += x;
                        }
                    }
                }
            }
            if norm == Norm::One {
                PartialNorm::ColSums(cs)
            } else {
                PartialNorm::RowSums(rs)
            }
        }
        Norm::Frobenius => {
            let (mut scale, mut sumsq) = (0.0, 1.0);
            for j in 0..n {
                for i in 0..m {
                    if in_tri(i, j) {
                        let z = at(i, j);
                        let w = if uplo.is_some() && i != j { 2 } else { 1 };
                        for _ in 0..w {
                            ssq_add(&mut scale, &mut sumsq, z.re().abs());
                            ssq_add(&mut scale, &mut sumsq, z.im().abs());
                        }
                    }
                }
            }
            PartialNorm::Ssq { scale, sumsq }
        }
    }
}

/// Copies a column of tiles, stacked top to bottom, into one block (`dst` has the sum of
/// their row counts and their column count): how a panel task gathers its tiles.
pub fn gather_tiles<T: Scalar>(tiles: &[MatMut<'_, T>], dst: MatMut<'_, T>) {
    let mut dst = dst;
    let mut r0 = 0;
    for t in tiles {
        dst.rb_mut()
            .submatrix_mut(r0, 0, t.nrows(), t.ncols())
            .copy_from(t.as_ref());
        r0 += t.nrows();
    }
}

/// The inverse of [`gather_tiles`]: copies the stacked block back into its tiles.
pub fn scatter_tiles<T: Scalar>(src: MatRef<'_, T>, tiles: &mut [MatMut<'_, T>]) {
    let mut r0 = 0;
    for t in tiles.iter_mut() {
        let (m, n) = (t.nrows(), t.ncols());
        t.copy_from(src.submatrix(r0, 0, m, n));
        r0 += m;
    }
}
