//! The user-facing sparse solver: `analyze -> factorize -> solve`, with equilibration,
//! static pivoting and iterative refinement.
//!
//! ```
//! use tessera::runtime::Runtime;
//! use tessera::sparse::{gen, solver::{self, SolverOptions}};
//! let rt = Runtime::with_default();
//! let a = gen::laplacian_2d(30, 30);
//! let b = vec![1.0; a.nrows()];
//! let opts = SolverOptions::default();
//! let analysis = solver::analyze(&a, &opts).unwrap();
//! let factors = analysis.factorize(&rt, &a).unwrap();
//! let (x, report) = factors.solve(&b, 1).unwrap();
//! assert!(report.residual < 1e-12);
//! # let _ = x;
//! ```

use super::numeric::{self, Kind, Numeric, NumericOptions};
use super::order::Ordering;
use super::symbolic::{self, Symbolic, SymbolicOptions};
use super::CscMatrix;
use crate::error::{Error, Result};
use crate::runtime::Runtime;
use crate::Scalar;
use std::sync::Arc;

/// Which factorization to compute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Factorization {
    /// LL^T when the matrix is symmetric (Hermitian) with a positive diagonal and the
    /// Cholesky factorization succeeds; LDL^T for other symmetric matrices; LU otherwise.
    #[default]
    Auto,
    /// Cholesky `L L^H` (the matrix must be Hermitian positive definite).
    Llt,
    /// `L D L^T` (`L D L^H` for Hermitian complex matrices) with static pivoting.
    Ldlt,
    /// `L U` with static pivoting.
    Lu,
}

impl core::str::FromStr for Factorization {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "auto" => Ok(Factorization::Auto),
            "llt" | "cholesky" => Ok(Factorization::Llt),
            "ldlt" => Ok(Factorization::Ldlt),
            "lu" => Ok(Factorization::Lu),
            _ => Err(format!(
                "unknown factorization '{s}' (expected llt, ldlt, lu or auto)"
            )),
        }
    }
}

/// Iterative refinement method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Refinement {
    /// Simple refinement when no pivot was perturbed, GMRES otherwise.
    #[default]
    Auto,
    /// No refinement: one solve with the factors.
    None,
    /// Classical iterative refinement `x += M^-1 (b - A x)`.
    Simple,
    /// Preconditioned conjugate gradients (for Hermitian positive definite matrices).
    Cg,
    /// Right-preconditioned restarted GMRES.
    Gmres,
    /// Right-preconditioned BiCGStab.
    BiCgStab,
}

impl core::str::FromStr for Refinement {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "auto" => Ok(Refinement::Auto),
            "none" => Ok(Refinement::None),
            "simple" => Ok(Refinement::Simple),
            "cg" => Ok(Refinement::Cg),
            "gmres" => Ok(Refinement::Gmres),
            "bicgstab" => Ok(Refinement::BiCgStab),
            _ => Err(format!(
                "unknown refinement '{s}' (expected auto, none, simple, cg, gmres or bicgstab)"
            )),
        }
    }
}

impl Refinement {
    /// Name as printed in reports.
    pub fn name(self) -> &'static str {
        match self {
            Refinement::Auto => "auto",
            Refinement::None => "none",
            Refinement::Simple => "simple",
            Refinement::Cg => "cg",
            Refinement::Gmres => "gmres",
            Refinement::BiCgStab => "bicgstab",
        }
    }
}

/// Solver settings; the defaults just work.
#[derive(Debug, Clone)]
pub struct SolverOptions {
    /// Factorization kind (default: automatic).
    pub factorization: Factorization,
    /// Fill-reducing ordering (default: [`Ordering::Auto`], Tessera's nested dissection on
    /// mesh-like graphs and METIS otherwise).
    pub ordering: Ordering,
    /// Equilibrate rows and columns before factoring (default: on).
    pub scaling: bool,
    /// Maximum-product matching (MC64-style) for unsymmetric matrices: a column
    /// permutation that puts large entries on the diagonal, with the matching's scaling;
    /// for symmetric indefinite matrices, the symmetric scaling derived from it (default: on).
    pub matching: bool,
    /// Replace tiny pivots in LDL^T and LU (default: on); off makes a zero pivot an error.
    pub static_pivoting: bool,
    /// Pivots below `pivot_threshold * max |a_ij|` (of the scaled matrix) are replaced
    /// (default: sqrt(eps)).
    pub pivot_threshold: f64,
    /// Iterative refinement method (default: automatic).
    pub refinement: Refinement,
    /// Target scaled residual `||b - Ax||_oo / (||A||_oo ||x||_oo + ||b||_oo)` (default 1e-14).
    pub tolerance: f64,
    /// Most refinement iterations (default 50).
    pub max_iterations: usize,
    /// Amalgamation and splitting.
    pub symbolic: SymbolicOptions,
}

impl Default for SolverOptions {
    fn default() -> Self {
        SolverOptions {
            factorization: Factorization::Auto,
            ordering: Ordering::Auto,
            scaling: true,
            matching: true,
            static_pivoting: true,
            pivot_threshold: f64::EPSILON.sqrt(),
            refinement: Refinement::Auto,
            tolerance: 1e-14,
            max_iterations: 50,
            symbolic: SymbolicOptions::default(),
        }
    }
}

/// The matching's row and column scalings and the bits of the values they were computed for.
type Mc64Scaling = (Vec<f64>, Vec<f64>, Vec<u64>);

/// The analysis of a pattern: reusable for every matrix with that pattern.
#[derive(Debug, Clone)]
pub struct Analysis {
    sym: Arc<Symbolic>,
    opts: SolverOptions,
    /// Column permutation from the matching (`col_match[j]` = new position of column `j`).
    col_match: Option<Arc<Vec<usize>>>,
    /// The matching's scaling and the values it was computed for (reused when the same
    /// values are factored).
    mc64: Option<Arc<Mc64Scaling>>,
    symmetric: bool,
}

/// Checks that `a` is square, finite and structurally nonsingular.
fn check_matrix<T: Scalar>(a: &CscMatrix<T>) -> Result<()> {
    if a.nrows() != a.ncols() {
        return Err(Error::invalid(
            1,
            format!(
                "the matrix must be square, it is {} x {}",
                a.nrows(),
                a.ncols()
            ),
        ));
    }
    if let Some((row, col)) = a.find_non_finite() {
        return Err(Error::NotFinite { arg: "A", row, col });
    }
    Ok(())
}

/// Analyses the pattern of `a`: checks it, orders it and computes the block structure of
/// the factors.
pub fn analyze<T: Scalar>(a: &CscMatrix<T>, opts: &SolverOptions) -> Result<Analysis> {
    check_matrix(a)?;
    let n = a.nrows();
    let rank = structural_rank(n, a.col_ptr(), a.row_idx());
    if rank < n {
        return Err(Error::StructurallySingular { rank });
    }
    let symmetric = a.is_symmetric(true) || (T::DTYPE.is_complex() && a.is_symmetric(false));
    let want_lu = opts.factorization == Factorization::Lu
        || (opts.factorization == Factorization::Auto && !symmetric);
    let (col_match, mc64) = if opts.matching && want_lu {
        let m = super::matching::mc64(a)?;
        let bits = value_bits(a);
        (
            Some(Arc::new(m.col_match)),
            Some(Arc::new((m.dr, m.dc, bits))),
        )
    } else {
        (None, None)
    };
    let sym = match &col_match {
        None => symbolic::analyze(n, a.col_ptr(), a.row_idx(), &opts.ordering, &opts.symbolic)?,
        Some(cm) => {
            let (cp, ri) = permute_columns_pattern(a, cm);
            let mut s = symbolic::analyze(n, &cp, &ri, &opts.ordering, &opts.symbolic)?;
            // Keep the user's pattern for the same-pattern check of later factorizations.
            s.col_ptr = a.col_ptr().to_vec();
            s.row_idx = a.row_idx().to_vec();
            s
        }
    };
    Ok(Analysis {
        sym: Arc::new(sym),
        opts: opts.clone(),
        col_match,
        mc64,
        symmetric,
    })
}

/// The bits of the values (to recognise the matrix the analysis saw).
fn value_bits<T: Scalar>(a: &CscMatrix<T>) -> Vec<u64> {
    a.values()
        .iter()
        .flat_map(|v| [v.re().to_bits(), v.im().to_bits()])
        .collect()
}

/// Pattern of `A Q` where column `j` moves to `col_match[j]`.
fn permute_columns_pattern<T: Scalar>(
    a: &CscMatrix<T>,
    col_match: &[usize],
) -> (Vec<usize>, Vec<usize>) {
    let n = a.ncols();
    let mut src = vec![0usize; n];
    for (j, &k) in col_match.iter().enumerate() {
        src[k] = j;
    }
    let mut cp = vec![0usize; n + 1];
    let mut ri = Vec::with_capacity(a.nnz());
    for k in 0..n {
        ri.extend_from_slice(a.col(src[k]).0);
        cp[k + 1] = ri.len();
    }
    (cp, ri)
}

impl Analysis {
    /// The symbolic structure.
    pub fn symbolic(&self) -> &Symbolic {
        &self.sym
    }
    /// The options the analysis was made with.
    pub fn options(&self) -> &SolverOptions {
        &self.opts
    }

    /// Factors `a`, which must have the pattern that was analysed.
    pub fn factorize<T: Scalar>(&self, rt: &Runtime, a: &CscMatrix<T>) -> Result<Factors<T>> {
        check_matrix(a)?;
        if a.nrows() != self.sym.n
            || a.col_ptr() != self.sym.col_ptr.as_slice()
            || a.row_idx() != self.sym.row_idx.as_slice()
        {
            return Err(Error::invalid(
                0,
                "the matrix does not have the pattern that was analysed; analyse it again",
            ));
        }
        let hermitian = a.is_symmetric(true);
        let symmetric = hermitian || (T::DTYPE.is_complex() && a.is_symmetric(false));
        if self.col_match.is_some()
            && self.opts.factorization != Factorization::Lu
            && symmetric != self.symmetric
        {
            return Err(Error::invalid(0, "the analysis was made for an unsymmetric matrix and permutes its columns; analyse this matrix again"));
        }
        let kinds: Vec<Kind> = if self.col_match.is_some() {
            vec![Kind::Lu]
        } else {
            match self.opts.factorization {
                Factorization::Llt => {
                    if !hermitian {
                        return Err(Error::invalid(
                            0,
                            "LL^T needs a symmetric (Hermitian) matrix; use ldlt or lu",
                        ));
                    }
                    vec![Kind::Llt]
                }
                Factorization::Ldlt => {
                    if !symmetric {
                        return Err(Error::invalid(0, "LDL^T needs a symmetric matrix; use lu"));
                    }
                    vec![Kind::Ldlt]
                }
                Factorization::Lu => vec![Kind::Lu],
                Factorization::Auto => {
                    if hermitian {
                        let pos_diag = (0..a.ncols()).all(|j| {
                            let (rows, vals) = a.col(j);
                            rows.binary_search(&j).is_ok_and(|p| vals[p].re() > 0.0)
                        });
                        if pos_diag {
                            vec![Kind::Llt, Kind::Ldlt]
                        } else {
                            vec![Kind::Ldlt]
                        }
                    } else if symmetric {
                        vec![Kind::Ldlt]
                    } else {
                        vec![Kind::Lu]
                    }
                }
            }
        };
        let col_match: Vec<usize> = match &self.col_match {
            Some(c) => c.to_vec(),
            None => (0..a.ncols()).collect(),
        };
        let mut last_err = None;
        for kind in kinds.iter().copied() {
            let (dr, dc) = self.scaling(a, kind, symmetric)?;
            let b = Arc::new(permute_scale(a, &self.sym, &col_match, &dr, &dc));
            let amax = b.values().iter().map(|v| v.modulus()).fold(0.0, f64::max);
            let nopts = NumericOptions {
                kind,
                hermitian: hermitian && kind != Kind::Lu,
                static_pivoting: self.opts.static_pivoting,
                pivot_threshold: self.opts.pivot_threshold * amax.max(f64::MIN_POSITIVE),
            };
            match numeric::factorize(rt, &self.sym, b.clone(), nopts) {
                Ok(num) => {
                    return Ok(Factors {
                        sym: self.sym.clone(),
                        opts: self.opts.clone(),
                        a: a.clone(),
                        norm_a: a.norm_inf(),
                        dr,
                        dc,
                        col_match,
                        num,
                        col_match_arc: self.col_match.clone(),
                        mc64: self.mc64.clone(),
                        symmetric: self.symmetric,
                    })
                }
                Err(e @ Error::NotPositiveDefinite { .. }) if kinds.len() > 1 => last_err = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last_err.unwrap_or_else(|| Error::Runtime("no factorization was tried".into())))
    }

    /// Row and column scalings for factoring `a` with `kind`.
    fn scaling<T: Scalar>(
        &self,
        a: &CscMatrix<T>,
        kind: Kind,
        symmetric: bool,
    ) -> Result<(Vec<f64>, Vec<f64>)> {
        let n = a.nrows();
        if !self.opts.scaling {
            return Ok((vec![1.0; n], vec![1.0; n]));
        }
        if let Some(mc) = &self.mc64 {
            if mc.2 == value_bits(a) {
                return Ok((mc.0.clone(), mc.1.clone()));
            }
            // New values on the analysed pattern: equilibrate instead (the matching's
            // permutation stays, the pattern depends on it).
            return Ok(ruiz_scaling(a));
        }
        if symmetric {
            if kind == Kind::Ldlt && self.opts.matching {
                // Symmetric scaling from the matching's duals (Duff and Pralet).
                if let Ok(m) = super::matching::mc64(a) {
                    let d: Vec<f64> =
                        m.dr.iter()
                            .zip(&m.dc)
                            .map(|(r, c)| (r * c).sqrt())
                            .collect();
                    return Ok((d.clone(), d));
                }
            }
            let d = symmetric_scaling(a);
            Ok((d.clone(), d))
        } else {
            Ok(ruiz_scaling(a))
        }
    }
}

/// Report of a solve: refinement method, iterations, and the final scaled residual
/// `max over right-hand sides of ||b - Ax||_oo / (||A||_oo ||x||_oo + ||b||_oo)`.
#[derive(Debug, Clone, PartialEq)]
pub struct SolveReport {
    /// Refinement method used.
    pub method: Refinement,
    /// Refinement iterations (the largest over the right-hand sides).
    pub iterations: usize,
    /// Final scaled residual (the largest over the right-hand sides).
    pub residual: f64,
}

/// Numeric factors of a matrix, ready to solve.
pub struct Factors<T> {
    sym: Arc<Symbolic>,
    opts: SolverOptions,
    a: CscMatrix<T>,
    norm_a: f64,
    dr: Vec<f64>,
    dc: Vec<f64>,
    col_match: Vec<usize>,
    num: Numeric<T>,
    col_match_arc: Option<Arc<Vec<usize>>>,
    mc64: Option<Arc<Mc64Scaling>>,
    symmetric: bool,
}

impl<T: Scalar> Factors<T> {
    /// The factorization computed.
    pub fn kind(&self) -> Kind {
        self.num.opts.kind
    }
    /// Pivots replaced by static pivoting.
    pub fn perturbed_pivots(&self) -> usize {
        self.num.perturbed_pivots()
    }
    /// Entries stored for the factors.
    pub fn factor_entries(&self) -> usize {
        if self.kind() == Kind::Lu {
            self.sym.factor_entries_lu()
        } else {
            self.sym.factor_entries_l()
        }
    }
    /// Bytes of the factors.
    pub fn factor_bytes(&self) -> usize {
        self.factor_entries() * std::mem::size_of::<T>()
    }
    /// Flops of the numeric factorization (multiply and add counted separately; complex
    /// arithmetic weighted 4).
    pub fn flops(&self) -> f64 {
        let f = self.sym.flops_cholesky() * T::DTYPE.flop_weight();
        if self.kind() == Kind::Lu {
            2.0 * f
        } else {
            f
        }
    }

    /// Factors a new matrix with the same pattern, reusing the analysis.
    pub fn refactorize(&mut self, rt: &Runtime, a: &CscMatrix<T>) -> Result<()> {
        let an = Analysis {
            sym: self.sym.clone(),
            opts: self.opts.clone(),
            col_match: self.col_match_arc.clone(),
            mc64: self.mc64.clone(),
            symmetric: self.symmetric,
        };
        *self = an.factorize(rt, a)?;
        Ok(())
    }

    /// `x = M^-1 b` with the factors alone (no refinement); `b` is `n x nrhs` column-major.
    pub fn solve_factors(&self, b: &[T], nrhs: usize) -> Vec<T> {
        let n = self.sym.n;
        let mut y = vec![T::zero(); n * nrhs];
        for r in 0..nrhs {
            for i in 0..n {
                y[self.sym.iperm[i] + r * n] = b[i + r * n] * T::from_f64(self.dr[i]);
            }
        }
        self.num.solve_permuted(&self.sym, &mut y, nrhs);
        let mut x = vec![T::zero(); n * nrhs];
        for r in 0..nrhs {
            for j in 0..n {
                x[j + r * n] =
                    y[self.sym.iperm[self.col_match[j]] + r * n] * T::from_f64(self.dc[j]);
            }
        }
        x
    }

    /// Solves `A X = B` (`b` is `n x nrhs`, column-major) and refines each column to the
    /// tolerance; returns `X` and the report.
    pub fn solve(&self, b: &[T], nrhs: usize) -> Result<(Vec<T>, SolveReport)> {
        let n = self.sym.n;
        if b.len() != n * nrhs {
            return Err(Error::invalid(
                0,
                format!(
                    "the right-hand side has {} entries, expected n x nrhs = {n} x {nrhs}",
                    b.len()
                ),
            ));
        }
        if let Some(k) = b.iter().position(|v| !v.finite()) {
            return Err(Error::NotFinite {
                arg: "B",
                row: k % n.max(1),
                col: k / n.max(1),
            });
        }
        let mut x = self.solve_factors(b, nrhs);
        let method = match self.opts.refinement {
            Refinement::Auto => {
                if self.perturbed_pivots() > 0 {
                    Refinement::Gmres
                } else {
                    Refinement::Simple
                }
            }
            m => m,
        };
        let mut report = SolveReport {
            method,
            iterations: 0,
            residual: 0.0,
        };
        for r in 0..nrhs {
            let bc = &b[r * n..(r + 1) * n];
            let xc = &mut x[r * n..(r + 1) * n];
            let (it, res) = super::refine::refine(self, method, bc, xc);
            report.iterations = report.iterations.max(it);
            report.residual = report.residual.max(res);
        }
        Ok((x, report))
    }

    /// The matrix that was factored.
    pub fn matrix(&self) -> &CscMatrix<T> {
        &self.a
    }
    /// `||A||_oo`.
    pub fn norm_inf(&self) -> f64 {
        self.norm_a
    }
    /// Options in use.
    pub fn options(&self) -> &SolverOptions {
        &self.opts
    }
}

/// Scaled residual `||b - Ax||_oo / (||A||_oo ||x||_oo + ||b||_oo)`.
pub fn scaled_residual<T: Scalar>(a: &CscMatrix<T>, x: &[T], b: &[T]) -> f64 {
    let mut r = b.to_vec();
    a.mul_add(-T::one(), x, T::one(), &mut r);
    let ninf = |v: &[T]| v.iter().map(|z| z.modulus()).fold(0.0, f64::max);
    let den = a.norm_inf() * ninf(x) + ninf(b);
    if den == 0.0 {
        return ninf(&r);
    }
    ninf(&r) / den
}

/// `P (Dr A Dc Q) P^T` in compressed columns, sorted (`Q` moves column `j` to
/// `col_match[j]`).
fn permute_scale<T: Scalar>(
    a: &CscMatrix<T>,
    sym: &Symbolic,
    col_match: &[usize],
    dr: &[f64],
    dc: &[f64],
) -> CscMatrix<T> {
    let n = a.nrows();
    // Source column of each new column.
    let mut src = vec![0usize; n];
    for (j, &k) in col_match.iter().enumerate() {
        src[sym.iperm[k]] = j;
    }
    let mut col_ptr = vec![0usize; n + 1];
    for jn in 0..n {
        let j = src[jn];
        col_ptr[jn + 1] = col_ptr[jn] + (a.col_ptr()[j + 1] - a.col_ptr()[j]);
    }
    let mut row_idx = vec![0usize; a.nnz()];
    let mut values = vec![T::zero(); a.nnz()];
    let mut tmp: Vec<(usize, T)> = Vec::new();
    for jn in 0..n {
        let j = src[jn];
        let (rows, vals) = a.col(j);
        tmp.clear();
        tmp.extend(
            rows.iter()
                .zip(vals)
                .map(|(&i, &v)| (sym.iperm[i], v * T::from_f64(dr[i] * dc[j]))),
        );
        tmp.sort_unstable_by_key(|e| e.0);
        for (k, (i, v)) in tmp.iter().enumerate() {
            row_idx[col_ptr[jn] + k] = *i;
            values[col_ptr[jn] + k] = *v;
        }
    }
    CscMatrix::new(n, n, col_ptr, row_idx, values).expect("a permutation keeps a valid matrix")
}

/// Symmetric equilibration `D A D` (Ruiz's iteration in the infinity norm): every row and
/// column of the scaled matrix ends with its largest entry close to 1.
fn symmetric_scaling<T: Scalar>(a: &CscMatrix<T>) -> Vec<f64> {
    let n = a.nrows();
    let mut d = vec![1.0f64; n];
    for _ in 0..10 {
        let mut cmax = vec![0.0f64; n];
        for j in 0..n {
            let (rows, vals) = a.col(j);
            for (&i, v) in rows.iter().zip(vals) {
                let s = v.modulus() * d[i] * d[j];
                if s > cmax[j] {
                    cmax[j] = s;
                }
            }
        }
        let mut done = true;
        for j in 0..n {
            if cmax[j] > 0.0 {
                if (cmax[j] - 1.0).abs() > 1e-2 {
                    done = false;
                }
                d[j] /= cmax[j].sqrt();
            }
        }
        if done {
            break;
        }
    }
    d
}

/// Row and column equilibration `Dr A Dc` (Ruiz's iteration in the infinity norm).
fn ruiz_scaling<T: Scalar>(a: &CscMatrix<T>) -> (Vec<f64>, Vec<f64>) {
    let (m, n) = (a.nrows(), a.ncols());
    let mut dr = vec![1.0f64; m];
    let mut dc = vec![1.0f64; n];
    for _ in 0..10 {
        let mut rmax = vec![0.0f64; m];
        let mut cmax = vec![0.0f64; n];
        for j in 0..n {
            let (rows, vals) = a.col(j);
            for (&i, v) in rows.iter().zip(vals) {
                let s = v.modulus() * dr[i] * dc[j];
                rmax[i] = rmax[i].max(s);
                cmax[j] = cmax[j].max(s);
            }
        }
        let mut done = true;
        for (d, mx) in dr.iter_mut().zip(&rmax).chain(dc.iter_mut().zip(&cmax)) {
            if *mx > 0.0 {
                if (*mx - 1.0).abs() > 1e-2 {
                    done = false;
                }
                *d /= mx.sqrt();
            }
        }
        if done {
            break;
        }
    }
    (dr, dc)
}

/// Structural rank: the size of a maximum matching of rows to columns (depth-first
/// augmenting paths with a cheap greedy start, as CSparse's `cs_maxtrans`).
pub fn structural_rank(n: usize, col_ptr: &[usize], row_idx: &[usize]) -> usize {
    const NONE: usize = usize::MAX;
    let mut row_match = vec![NONE; n];
    let mut matched = 0;
    // Greedy pass.
    let mut col_done = vec![false; n];
    for j in 0..n {
        for &i in &row_idx[col_ptr[j]..col_ptr[j + 1]] {
            if row_match[i] == NONE {
                row_match[i] = j;
                col_done[j] = true;
                matched += 1;
                break;
            }
        }
    }
    let mut visited = vec![NONE; n];
    let mut stack: Vec<(usize, usize)> = Vec::new();
    let mut path_rows: Vec<usize> = Vec::new();
    for j0 in 0..n {
        if col_done[j0] {
            continue;
        }
        // Iterative DFS from column j0 over alternating paths.
        stack.clear();
        path_rows.clear();
        stack.push((j0, col_ptr[j0]));
        let mut found = NONE;
        while let Some(&(j, p0)) = stack.last() {
            let mut p = p0;
            let mut next = NONE;
            while p < col_ptr[j + 1] {
                let i = row_idx[p];
                p += 1;
                if visited[i] == j0 {
                    continue;
                }
                visited[i] = j0;
                path_rows.push(i);
                if row_match[i] == NONE {
                    found = i;
                } else {
                    next = row_match[i];
                }
                break;
            }
            stack.last_mut().unwrap().1 = p;
            if found != NONE {
                break;
            }
            if next != NONE {
                stack.push((next, col_ptr[next]));
            } else {
                stack.pop();
                path_rows.pop();
            }
        }
        if found != NONE {
            // Augment: path_rows[k] is matched to stack[k].0.
            for (k, &(j, _)) in stack.iter().enumerate() {
                row_match[path_rows[k]] = j;
            }
            matched += 1;
        }
    }
    matched
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::RuntimeConfig;
    use crate::{c64, Scalar};

    /// A 2D 5-point grid operator with optional unsymmetric and complex parts.
    fn grid<T: Scalar>(k: usize, shift: f64, skew: f64, imag: f64) -> CscMatrix<T> {
        let n = k * k;
        let mut t = Vec::new();
        for x in 0..k {
            for y in 0..k {
                let i = x * k + y;
                t.push((i, i, T::from_parts(4.0 + shift, imag)));
                let mut nb = |j: usize, s: f64| t.push((i, j, T::from_parts(-1.0 + s, 0.3 * imag)));
                if x > 0 {
                    nb(i - k, skew);
                }
                if x + 1 < k {
                    nb(i + k, -skew);
                }
                if y > 0 {
                    nb(i - 1, 0.5 * skew);
                }
                if y + 1 < k {
                    nb(i + 1, -0.5 * skew);
                }
            }
        }
        CscMatrix::from_triplets(n, n, &t).unwrap()
    }

    /// `r0_bound`: scaled residual the factors must reach without refinement.
    fn check<T: Scalar>(
        a: &CscMatrix<T>,
        f: Factorization,
        expect: Kind,
        split: usize,
        r0_bound: f64,
    ) {
        let rt = Runtime::new(RuntimeConfig::with_workers(3));
        let mut opts = SolverOptions {
            factorization: f,
            ..Default::default()
        };
        opts.symbolic.split_above = split;
        opts.symbolic.split_width = split.div_ceil(2).max(1);
        for ord in [
            Ordering::Metis,
            Ordering::Auto,
            Ordering::Nd,
            Ordering::Amd,
            Ordering::Natural,
        ] {
            opts.ordering = ord.clone();
            let an = analyze(a, &opts).unwrap();
            let fac = an.factorize(&rt, a).unwrap();
            assert_eq!(fac.kind(), expect);
            let n = a.nrows();
            let b: Vec<T> = (0..2 * n)
                .map(|i| T::from_parts((i % 7) as f64 - 3.0, (i % 3) as f64))
                .collect();
            // Without refinement the factors alone must already be accurate here.
            let x0 = fac.solve_factors(&b[..n], 1);
            let r0 = scaled_residual(a, &x0, &b[..n]);
            assert!(
                r0 < r0_bound,
                "{ord:?} {f:?} (n = {}, split {split}): residual without refinement {r0:e}",
                a.nrows()
            );
            let (x, rep) = fac.solve(&b, 2).unwrap();
            for r in 0..2 {
                let res = scaled_residual(a, &x[r * n..(r + 1) * n], &b[r * n..(r + 1) * n]);
                assert!(res < 1e-14, "{res:e}");
            }
            assert!(rep.residual < 1e-14);
        }
    }

    #[test]
    fn all_kinds_real_and_complex() {
        for split in [4, 256] {
            let spd = grid::<f64>(17, 0.0, 0.0, 0.0);
            check(&spd, Factorization::Auto, Kind::Llt, split, 1e-13);
            check(&spd, Factorization::Ldlt, Kind::Ldlt, split, 1e-13);
            check(&spd, Factorization::Lu, Kind::Lu, split, 1e-13);
            // The shifted grid is ill-conditioned: without refinement its residual moves
            // between 1e-14 and 2e-13 with the order in which the commuting updates land.
            let indef = grid::<f64>(17, -4.5, 0.0, 0.0);
            check(&indef, Factorization::Auto, Kind::Ldlt, split, 1e-12);
            let unsym = grid::<f64>(17, 0.0, 0.4, 0.0);
            check(&unsym, Factorization::Auto, Kind::Lu, split, 1e-13);
            let csym = grid::<c64>(15, 0.0, 0.0, 0.7);
            check(&csym, Factorization::Auto, Kind::Ldlt, split, 1e-13);
            check(&csym, Factorization::Lu, Kind::Lu, split, 1e-13);
            let cunsym = grid::<c64>(15, 0.0, 0.3, 0.7);
            check(&cunsym, Factorization::Auto, Kind::Lu, split, 1e-13);
            let f32m = grid::<f32>(10, 0.0, 0.0, 0.0);
            let _ = f32m;
        }
    }

    #[test]
    fn structural_rank_finds_singular_patterns() {
        let a = CscMatrix::<f64>::from_triplets(
            3,
            3,
            &[(0, 0, 1.0), (1, 0, 1.0), (0, 2, 1.0), (1, 2, 1.0)],
        )
        .unwrap();
        assert_eq!(structural_rank(3, a.col_ptr(), a.row_idx()), 2);
        assert!(matches!(
            analyze(&a, &SolverOptions::default()),
            Err(Error::StructurallySingular { rank: 2 })
        ));
        let p = grid::<f64>(9, 0.0, 0.3, 0.0);
        assert_eq!(structural_rank(81, p.col_ptr(), p.row_idx()), 81);
    }
}
