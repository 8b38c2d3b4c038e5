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
                format!("col_ptr has {} entries, expected ncols + 1 = {}", col_ptr.len(), ncols + 1),
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
                return Err(Error::invalid(0, format!("col_ptr decreases at column {j}")));
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
    pub fn from_triplets(nrows: usize, ncols: usize, triplets: &[(usize, usize, T)]) -> Result<Self> {
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
