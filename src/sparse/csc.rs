//! Compressed sparse column and row matrices.

use crate::error::{Error, Result};
use crate::Scalar;

/// A sparse matrix in compressed sparse column form: column `j` holds the rows
/// `row_idx[col_ptr[j]..col_ptr[j + 1]]` (strictly increasing) and their values.
///
/// Symmetric and Hermitian matrices are stored in full (both triangles); the solver reads
/// what it needs.
#[derive(Debug, Clone, PartialEq)]
pub struct CscMatrix<T> {
    nrows: usize,
    ncols: usize,
    col_ptr: Vec<usize>,
    row_idx: Vec<usize>,
    values: Vec<T>,
}

impl<T: Scalar> CscMatrix<T> {
    /// Builds a matrix from its arrays, checking them: `col_ptr` has `ncols + 1`
    /// non-decreasing entries starting at 0, the row indices of each column are strictly
    /// increasing and below `nrows`, and there is one value per row index.
    pub fn new(
        nrows: usize,
        ncols: usize,
        col_ptr: Vec<usize>,
        row_idx: Vec<usize>,
        values: Vec<T>,
    ) -> Result<Self> {
        if col_ptr.len() != ncols + 1 {
            return Err(Error::invalid(
                0,
                format!(
                    "col_ptr has {} entries, expected ncols + 1 = {}",
                    col_ptr.len(),
                    ncols + 1
                ),
            ));
        }
        if col_ptr[0] != 0 || col_ptr[ncols] != row_idx.len() || row_idx.len() != values.len() {
            return Err(Error::invalid(
                0,
                format!(
                    "inconsistent arrays: col_ptr[0] = {}, col_ptr[ncols] = {}, {} row indices, {} values",
                    col_ptr[0],
                    col_ptr[ncols],
                    row_idx.len(),
                    values.len()
                ),
            ));
        }
        for j in 0..ncols {
            if col_ptr[j] > col_ptr[j + 1] {
                return Err(Error::invalid(
                    0,
                    format!("col_ptr decreases at column {j}"),
                ));
            }
            let rows = &row_idx[col_ptr[j]..col_ptr[j + 1]];
            for (k, &i) in rows.iter().enumerate() {
                if i >= nrows {
                    return Err(Error::invalid(
                        0,
                        format!("row index {i} in column {j} is out of range (nrows = {nrows})"),
                    ));
                }
                if k > 0 && rows[k - 1] >= i {
                    return Err(Error::invalid(
                        0,
                        format!("row indices of column {j} are not strictly increasing"),
                    ));
                }
            }
        }
        Ok(CscMatrix {
            nrows,
            ncols,
            col_ptr,
            row_idx,
            values,
        })
    }

    /// Builds a matrix from `(row, col, value)` triplets in any order; duplicates are summed.
    pub fn from_triplets(
        nrows: usize,
        ncols: usize,
        triplets: &[(usize, usize, T)],
    ) -> Result<Self> {
        let mut count = vec![0usize; ncols + 1];
        for (k, &(i, j, _)) in triplets.iter().enumerate() {
            if i >= nrows || j >= ncols {
                return Err(Error::invalid(
                    0,
                    format!("triplet {k}: ({i}, {j}) is outside the {nrows} x {ncols} matrix"),
                ));
            }
            count[j + 1] += 1;
        }
        for j in 0..ncols {
            count[j + 1] += count[j];
        }
        let mut next = count.clone();
        let mut rows = vec![0usize; triplets.len()];
        let mut vals = vec![T::zero(); triplets.len()];
        for &(i, j, v) in triplets {
            rows[next[j]] = i;
            vals[next[j]] = v;
            next[j] += 1;
        }
        // Sort each column and sum duplicates.
        let mut col_ptr = vec![0usize; ncols + 1];
        let mut row_idx = Vec::with_capacity(triplets.len());
        let mut values = Vec::with_capacity(triplets.len());
        let mut perm: Vec<usize> = Vec::new();
        for j in 0..ncols {
            let (s, e) = (count[j], count[j + 1]);
            perm.clear();
            perm.extend(s..e);
            perm.sort_unstable_by_key(|&k| rows[k]);
            for &k in &perm {
                if row_idx.len() > col_ptr[j] && *row_idx.last().unwrap() == rows[k] {
                    *values.last_mut().unwrap() += vals[k];
                } else {
                    row_idx.push(rows[k]);
                    values.push(vals[k]);
                }
            }
            col_ptr[j + 1] = row_idx.len();
        }
        Ok(CscMatrix {
            nrows,
            ncols,
            col_ptr,
            row_idx,
            values,
        })
    }

    /// The `n x n` identity.
    pub fn identity(n: usize) -> Self {
        CscMatrix {
            nrows: n,
            ncols: n,
            col_ptr: (0..=n).collect(),
            row_idx: (0..n).collect(),
            values: vec![T::one(); n],
        }
    }

    /// Number of rows.
    pub fn nrows(&self) -> usize {
        self.nrows
    }
    /// Number of columns.
    pub fn ncols(&self) -> usize {
        self.ncols
    }
    /// Number of stored entries.
    pub fn nnz(&self) -> usize {
        self.row_idx.len()
    }
    /// Column pointers (`ncols + 1` entries).
    pub fn col_ptr(&self) -> &[usize] {
        &self.col_ptr
    }
    /// Row indices.
    pub fn row_idx(&self) -> &[usize] {
        &self.row_idx
    }
    /// Values.
    pub fn values(&self) -> &[T] {
        &self.values
    }
    /// Values, mutably (the pattern cannot change).
    pub fn values_mut(&mut self) -> &mut [T] {
        &mut self.values
    }
    /// Row indices and values of column `j`.
    pub fn col(&self, j: usize) -> (&[usize], &[T]) {
        let r = self.col_ptr[j]..self.col_ptr[j + 1];
        (&self.row_idx[r.clone()], &self.values[r])
    }
    /// The arrays `(col_ptr, row_idx, values)`.
    pub fn into_parts(self) -> (Vec<usize>, Vec<usize>, Vec<T>) {
        (self.col_ptr, self.row_idx, self.values)
    }

    /// The transpose (`conj = true`: the conjugate transpose).
    pub fn transpose_conj(&self, conj: bool) -> Self {
        let mut count = vec![0usize; self.nrows + 1];
        for &i in &self.row_idx {
            count[i + 1] += 1;
        }
        for i in 0..self.nrows {
            count[i + 1] += count[i];
        }
        let mut next = count.clone();
        let mut row_idx = vec![0usize; self.nnz()];
        let mut values = vec![T::zero(); self.nnz()];
        for j in 0..self.ncols {
            let (rows, vals) = self.col(j);
            for (&i, &v) in rows.iter().zip(vals) {
                row_idx[next[i]] = j;
                values[next[i]] = if conj { v.conj() } else { v };
                next[i] += 1;
            }
        }
        CscMatrix {
            nrows: self.ncols,
            ncols: self.nrows,
            col_ptr: count,
            row_idx,
            values,
        }
    }
    /// The transpose.
    pub fn transpose(&self) -> Self {
        self.transpose_conj(false)
    }

    /// `y = alpha A x + beta y` (`beta = 0` ignores what `y` holds).
    pub fn mul_add(&self, alpha: T, x: &[T], beta: T, y: &mut [T]) {
        assert_eq!(x.len(), self.ncols, "x has the wrong length");
        assert_eq!(y.len(), self.nrows, "y has the wrong length");
        if beta == T::zero() {
            y.iter_mut().for_each(|v| *v = T::zero());
        } else if beta != T::one() {
            y.iter_mut().for_each(|v| *v *= beta);
        }
        for j in 0..self.ncols {
            let xj = alpha * x[j];
            if xj == T::zero() {
                continue;
            }
            let (rows, vals) = self.col(j);
            for (&i, &v) in rows.iter().zip(vals) {
                y[i] += v * xj;
            }
        }
    }

    /// `A x`.
    pub fn mul_vec(&self, x: &[T]) -> Vec<T> {
        let mut y = vec![T::zero(); self.nrows];
        self.mul_add(T::one(), x, T::zero(), &mut y);
        y
    }

    /// `||A||_oo`, the largest row sum of moduli.
    pub fn norm_inf(&self) -> f64 {
        let mut r = vec![0.0f64; self.nrows];
        for (&i, v) in self.row_idx.iter().zip(&self.values) {
            r[i] += v.modulus();
        }
        r.into_iter().fold(0.0, f64::max)
    }

    /// `||A||_1`, the largest column sum of moduli.
    pub fn norm_one(&self) -> f64 {
        (0..self.ncols)
            .map(|j| self.col(j).1.iter().map(|v| v.modulus()).sum::<f64>())
            .fold(0.0, f64::max)
    }

    /// The first stored entry that is NaN or infinite, as `(row, col)`.
    pub fn find_non_finite(&self) -> Option<(usize, usize)> {
        for j in 0..self.ncols {
            let (rows, vals) = self.col(j);
            if let Some(k) = vals.iter().position(|v| !v.finite()) {
                return Some((rows[k], j));
            }
        }
        None
    }

    /// Whether `A == A^T` (`conj = true`: `A == A^H`) exactly, pattern and values.
    pub fn is_symmetric(&self, conj: bool) -> bool {
        self.nrows == self.ncols && *self == self.transpose_conj(conj)
    }
}

impl<T: Scalar> CscMatrix<T> {
    /// The same matrix in compressed sparse row form.
    pub fn to_csr(&self) -> CsrMatrix<T> {
        CsrMatrix::from_csc(self)
    }

    /// The matrix as a dense `faer::Mat` (for small tests and checks; `nrows * ncols`
    /// memory).
    ///
    /// ```
    /// use tessera::sparse::csc::CscMatrix;
    /// let a = CscMatrix::<f64>::from_triplets(2, 2, &[(0, 0, 1.0), (1, 0, 2.0)]).unwrap();
    /// let d = a.to_dense();
    /// assert_eq!(d[(1, 0)], 2.0);
    /// assert_eq!(d[(0, 1)], 0.0);
    /// ```
    pub fn to_dense(&self) -> faer::Mat<T> {
        let mut d = faer::Mat::<T>::zeros(self.nrows, self.ncols);
        for j in 0..self.ncols {
            let (rows, vals) = self.col(j);
            for (&i, &v) in rows.iter().zip(vals) {
                d[(i, j)] = v;
            }
        }
        d
    }

    /// The entries on or below the diagonal (`i >= j`), as a matrix of the same shape.
    pub fn lower_triangle(&self) -> Self {
        self.filter_entries(|i, j| i >= j)
    }

    /// The entries on or above the diagonal (`i <= j`), as a matrix of the same shape.
    pub fn upper_triangle(&self) -> Self {
        self.filter_entries(|i, j| i <= j)
    }

    /// The entries `(i, j)` for which `keep(i, j)` holds.
    fn filter_entries(&self, keep: impl Fn(usize, usize) -> bool) -> Self {
        let mut col_ptr = Vec::with_capacity(self.ncols + 1);
        col_ptr.push(0);
        let mut row_idx = Vec::new();
        let mut values = Vec::new();
        for j in 0..self.ncols {
            let (rows, vals) = self.col(j);
            for (&i, &v) in rows.iter().zip(vals) {
                if keep(i, j) {
                    row_idx.push(i);
                    values.push(v);
                }
            }
            col_ptr.push(row_idx.len());
        }
        CscMatrix {
            nrows: self.nrows,
            ncols: self.ncols,
            col_ptr,
            row_idx,
            values,
        }
    }

    /// `A + A^T` (not conjugated) on the union of the patterns of `A` and `A^T`.
    ///
    /// The pattern is structural: a position is stored when `(i, j)` or `(j, i)` is stored
    /// in `A`, even where the two values cancel, so the result is the symmetric pattern
    /// orderings and symbolic analyses of unsymmetric matrices need. Callers that want
    /// only the pattern ignore the values. Errors when `A` is not square.
    ///
    /// ```
    /// use tessera::sparse::csc::CscMatrix;
    /// let a = CscMatrix::<f64>::from_triplets(2, 2, &[(0, 0, 1.0), (1, 0, 2.0)]).unwrap();
    /// let s = a.symmetrize_pattern().unwrap();
    /// assert_eq!(s.nnz(), 3);
    /// assert!(s.is_symmetric(false));
    /// ```
    pub fn symmetrize_pattern(&self) -> Result<Self> {
        if self.nrows != self.ncols {
            return Err(Error::invalid(
                0,
                format!(
                    "symmetrize_pattern needs a square matrix, this one is {} x {}",
                    self.nrows, self.ncols
                ),
            ));
        }
        let t = self.transpose();
        let n = self.ncols;
        let mut col_ptr = Vec::with_capacity(n + 1);
        col_ptr.push(0);
        let mut row_idx = Vec::with_capacity(2 * self.nnz());
        let mut values = Vec::with_capacity(2 * self.nnz());
        for j in 0..n {
            // Merge two sorted columns.
            let (ra, va) = self.col(j);
            let (rb, vb) = t.col(j);
            let (mut p, mut q) = (0, 0);
            while p < ra.len() || q < rb.len() {
                let ia = ra.get(p).copied().unwrap_or(usize::MAX);
                let ib = rb.get(q).copied().unwrap_or(usize::MAX);
                if ia == ib {
                    row_idx.push(ia);
                    values.push(va[p] + vb[q]);
                    p += 1;
                    q += 1;
                } else if ia < ib {
                    row_idx.push(ia);
                    values.push(va[p]);
                    p += 1;
                } else {
                    row_idx.push(ib);
                    values.push(vb[q]);
                    q += 1;
                }
            }
            col_ptr.push(row_idx.len());
        }
        Ok(CscMatrix {
            nrows: n,
            ncols: n,
            col_ptr,
            row_idx,
            values,
        })
    }
}

/// A sparse matrix in compressed sparse row form: row `i` holds the columns
/// `col_idx[row_ptr[i]..row_ptr[i + 1]]` (strictly increasing) and their values.
///
/// The row-wise twin of [`CscMatrix`], with the same invariants; convert with
/// [`CsrMatrix::from_csc`] / [`CscMatrix::to_csr`] and [`CsrMatrix::to_csc`].
///
/// ```
/// use tessera::sparse::csc::{CscMatrix, CsrMatrix};
/// let a = CscMatrix::<f64>::from_triplets(2, 3, &[(0, 2, 1.0), (1, 0, 2.0)]).unwrap();
/// let r = CsrMatrix::from_csc(&a);
/// assert_eq!(r.row(0), (&[2usize][..], &[1.0][..]));
/// assert_eq!(r.mul_vec(&[1.0, 1.0, 1.0]), a.mul_vec(&[1.0, 1.0, 1.0]));
/// assert_eq!(r.to_csc(), a);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct CsrMatrix<T> {
    nrows: usize,
    ncols: usize,
    row_ptr: Vec<usize>,
    col_idx: Vec<usize>,
    values: Vec<T>,
}

impl<T: Scalar> CsrMatrix<T> {
    /// Builds a matrix from its arrays, checking them: `row_ptr` has `nrows + 1`
    /// non-decreasing entries starting at 0, the column indices of each row are strictly
    /// increasing and below `ncols`, and there is one value per column index.
    pub fn new(
        nrows: usize,
        ncols: usize,
        row_ptr: Vec<usize>,
        col_idx: Vec<usize>,
        values: Vec<T>,
    ) -> Result<Self> {
        if row_ptr.len() != nrows + 1 {
            return Err(Error::invalid(
                0,
                format!(
                    "row_ptr has {} entries, expected nrows + 1 = {}",
                    row_ptr.len(),
                    nrows + 1
                ),
            ));
        }
        if row_ptr[0] != 0 || row_ptr[nrows] != col_idx.len() || col_idx.len() != values.len() {
            return Err(Error::invalid(
                0,
                format!(
                    "inconsistent arrays: row_ptr[0] = {}, row_ptr[nrows] = {}, {} column indices, {} values",
                    row_ptr[0],
                    row_ptr[nrows],
                    col_idx.len(),
                    values.len()
                ),
            ));
        }
        for i in 0..nrows {
            if row_ptr[i] > row_ptr[i + 1] {
                return Err(Error::invalid(0, format!("row_ptr decreases at row {i}")));
            }
            let cols = &col_idx[row_ptr[i]..row_ptr[i + 1]];
            for (k, &j) in cols.iter().enumerate() {
                if j >= ncols {
                    return Err(Error::invalid(
                        0,
                        format!("column index {j} in row {i} is out of range (ncols = {ncols})"),
                    ));
                }
                if k > 0 && cols[k - 1] >= j {
                    return Err(Error::invalid(
                        0,
                        format!("column indices of row {i} are not strictly increasing"),
                    ));
                }
            }
        }
        Ok(CsrMatrix {
            nrows,
            ncols,
            row_ptr,
            col_idx,
            values,
        })
    }

    /// The same matrix as `a`, stored by rows.
    pub fn from_csc(a: &CscMatrix<T>) -> Self {
        // The CSC arrays of A^T are the CSR arrays of A.
        let t = a.transpose();
        CsrMatrix {
            nrows: a.nrows,
            ncols: a.ncols,
            row_ptr: t.col_ptr,
            col_idx: t.row_idx,
            values: t.values,
        }
    }

    /// The same matrix stored by columns.
    pub fn to_csc(&self) -> CscMatrix<T> {
        // Read the CSR arrays as the CSC arrays of A^T, then transpose.
        let t = CscMatrix {
            nrows: self.ncols,
            ncols: self.nrows,
            col_ptr: self.row_ptr.clone(),
            row_idx: self.col_idx.clone(),
            values: self.values.clone(),
        };
        t.transpose()
    }

    /// Number of rows.
    pub fn nrows(&self) -> usize {
        self.nrows
    }
    /// Number of columns.
    pub fn ncols(&self) -> usize {
        self.ncols
    }
    /// Number of stored entries.
    pub fn nnz(&self) -> usize {
        self.col_idx.len()
    }
    /// Row pointers (`nrows + 1` entries).
    pub fn row_ptr(&self) -> &[usize] {
        &self.row_ptr
    }
    /// Column indices.
    pub fn col_idx(&self) -> &[usize] {
        &self.col_idx
    }
    /// Values.
    pub fn values(&self) -> &[T] {
        &self.values
    }
    /// Values, mutably (the pattern cannot change).
    pub fn values_mut(&mut self) -> &mut [T] {
        &mut self.values
    }
    /// Column indices and values of row `i`.
    pub fn row(&self, i: usize) -> (&[usize], &[T]) {
        let r = self.row_ptr[i]..self.row_ptr[i + 1];
        (&self.col_idx[r.clone()], &self.values[r])
    }
    /// The arrays `(row_ptr, col_idx, values)`.
    pub fn into_parts(self) -> (Vec<usize>, Vec<usize>, Vec<T>) {
        (self.row_ptr, self.col_idx, self.values)
    }

    /// `y = alpha A x + beta y` (`beta = 0` ignores what `y` holds).
    pub fn mul_add(&self, alpha: T, x: &[T], beta: T, y: &mut [T]) {
        assert_eq!(x.len(), self.ncols, "x has the wrong length");
        assert_eq!(y.len(), self.nrows, "y has the wrong length");
        for (i, yi) in y.iter_mut().enumerate() {
            let (cols, vals) = self.row(i);
            let mut s = T::zero();
            for (&j, &v) in cols.iter().zip(vals) {
                s += v * x[j];
            }
            *yi = if beta == T::zero() {
                alpha * s
            } else {
                alpha * s + beta * *yi
            };
        }
    }

    /// `A x`.
    pub fn mul_vec(&self, x: &[T]) -> Vec<T> {
        let mut y = vec![T::zero(); self.nrows];
        self.mul_add(T::one(), x, T::zero(), &mut y);
        y
    }
}

#[cfg(test)]
mod csr_tests {
    use super::*;
    use crate::c64;

    fn sample() -> CscMatrix<f64> {
        // 4 x 3, unsymmetric pattern, row 2 empty.
        CscMatrix::from_triplets(
            4,
            3,
            &[
                (0, 0, 1.0),
                (3, 0, -2.0),
                (1, 1, 3.0),
                (0, 2, 4.0),
                (3, 2, 5.0),
                (1, 2, 0.5),
            ],
        )
        .unwrap()
    }

    #[test]
    fn csr_round_trip_and_products() {
        let a = sample();
        let r = a.to_csr();
        assert_eq!((r.nrows(), r.ncols(), r.nnz()), (4, 3, 6));
        assert_eq!(r.row_ptr(), &[0, 2, 4, 4, 6]);
        assert_eq!(r.col_idx(), &[0, 2, 1, 2, 0, 2]);
        assert_eq!(r.row(3), (&[0usize, 2][..], &[-2.0, 5.0][..]));
        assert_eq!(r.to_csc(), a);
        let x = [1.0, -1.0, 2.0];
        assert_eq!(r.mul_vec(&x), a.mul_vec(&x));
        let mut y1 = vec![1.0, 2.0, 3.0, 4.0];
        let mut y2 = y1.clone();
        r.mul_add(2.0, &x, -0.5, &mut y1);
        a.mul_add(2.0, &x, -0.5, &mut y2);
        assert_eq!(y1, y2);
        let (rp, ci, v) = r.clone().into_parts();
        assert_eq!(CsrMatrix::new(4, 3, rp, ci, v).unwrap(), r);
        // Empty matrices.
        let e = CscMatrix::<f64>::from_triplets(0, 5, &[]).unwrap();
        assert_eq!(e.to_csr().to_csc(), e);
    }

    #[test]
    fn csr_new_rejects_bad_arrays() {
        let bad = [
            CsrMatrix::<f64>::new(2, 2, vec![0, 1], vec![0], vec![1.0]),
            CsrMatrix::<f64>::new(2, 2, vec![1, 1, 1], vec![0], vec![1.0]),
            CsrMatrix::<f64>::new(2, 2, vec![0, 2, 1], vec![0, 1], vec![1.0, 1.0]),
            CsrMatrix::<f64>::new(2, 2, vec![0, 1, 1], vec![2], vec![1.0]),
            CsrMatrix::<f64>::new(2, 2, vec![0, 2, 2], vec![1, 0], vec![1.0, 1.0]),
            CsrMatrix::<f64>::new(2, 2, vec![0, 1, 1], vec![0], vec![]),
        ];
        for b in bad {
            assert!(matches!(b, Err(Error::InvalidArgument { .. })));
        }
    }

    #[test]
    fn dense_and_triangles() {
        let a = CscMatrix::<f64>::from_triplets(
            3,
            3,
            &[
                (0, 0, 1.0),
                (1, 0, 2.0),
                (0, 1, 3.0),
                (2, 1, 4.0),
                (2, 2, 5.0),
            ],
        )
        .unwrap();
        let d = a.to_dense();
        for i in 0..3 {
            for j in 0..3 {
                let l = a.lower_triangle().to_dense()[(i, j)];
                let u = a.upper_triangle().to_dense()[(i, j)];
                assert_eq!(l, if i >= j { d[(i, j)] } else { 0.0 });
                assert_eq!(u, if i <= j { d[(i, j)] } else { 0.0 });
            }
        }
        assert_eq!(a.lower_triangle().nnz(), 4);
        assert_eq!(a.upper_triangle().nnz(), 3);
        // Rectangular: the two diagonal entries (0, 0) and (1, 1) are in both.
        let r = sample();
        assert_eq!(
            r.lower_triangle().nnz() + r.upper_triangle().nnz(),
            r.nnz() + 2
        );
    }

    #[test]
    fn symmetrize_pattern_is_a_plus_a_transpose() {
        // The (1, 0) and (0, 1) values cancel; the position stays.
        let a = CscMatrix::<f64>::from_triplets(
            3,
            3,
            &[(0, 0, 1.0), (1, 0, 2.0), (0, 1, -2.0), (2, 1, 4.0)],
        )
        .unwrap();
        let s = a.symmetrize_pattern().unwrap();
        assert!(s.is_symmetric(false));
        assert_eq!(s.nnz(), 5);
        assert_eq!(s.col(0), (&[0usize, 1][..], &[2.0, 0.0][..]));
        assert_eq!(s.col(1), (&[0usize, 2][..], &[0.0, 4.0][..]));
        let d = a.to_dense();
        let sd = s.to_dense();
        for i in 0..3 {
            for j in 0..3 {
                assert_eq!(sd[(i, j)], d[(i, j)] + d[(j, i)]);
            }
        }
        assert!(sample().symmetrize_pattern().is_err());
        // Complex: plain transpose, no conjugation.
        let z = CscMatrix::<c64>::from_triplets(2, 2, &[(1, 0, c64::new(1.0, 2.0))]).unwrap();
        let zs = z.symmetrize_pattern().unwrap();
        assert_eq!(zs.values(), &[c64::new(1.0, 2.0), c64::new(1.0, 2.0)]);
    }
}
