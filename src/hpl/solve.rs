//! One HPL test: the random system, the timed factorization and solve, the residual check;
//! and the mixed-precision (HPL-MxP) variant.

use crate::dense::{self, LuOptions};
use crate::error::{Error, Result};
use crate::runtime::{Runtime, Sequence, Trace};
use crate::tile::{BlockCyclic2D, Distribution, TileMatrix};
use crate::{Norm, Op};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

/// HPL's seed for the random matrix.
pub const HPL_SEED: u64 = 100;
const MULT: u64 = 6_364_136_223_846_793_005;
const ADD: u64 = 1;

/// The state of HPL's linear congruential generator (`X <- a X + c mod 2^64`, with HPL's
/// multiplier and increment) after `k` steps from `seed`, by binary jumping.
fn jump(seed: u64, mut k: u64) -> u64 {
    let (mut a, mut c, mut x) = (MULT, ADD, seed);
    while k > 0 {
        if k & 1 == 1 {
            x = a.wrapping_mul(x).wrapping_add(c);
        }
        c = c.wrapping_mul(a.wrapping_add(1));
        a = a.wrapping_mul(a);
        k >>= 1;
    }
    x
}

#[inline]
fn value(x: u64) -> f64 {
    // The top 32 bits, mapped onto (-0.5, 0.5].
    0.5 - (x >> 32) as f64 / 4_294_967_296.0
}

/// Entry `(i, j)` of HPL's `n x (n + 1)` matrix `[A b]`: element `j n + i` of the random
/// sequence in column-major order, uniform in `(-0.5, 0.5]`. It depends only on the seed,
/// `n` and the position, never on the tile size or the number of workers.
pub fn hpl_entry(seed: u64, n: usize, i: usize, j: usize) -> f64 {
    value(jump(seed, (j as u64) * (n as u64) + i as u64))
}

/// Fills `a` (an `n x w` tile matrix) with columns `col0 .. col0 + w` of HPL's `[A b]` of
/// order `n`, one task per tile.
pub fn fill_hpl(
    seq: &Sequence,
    a: &TileMatrix<f64>,
    n: usize,
    col0: usize,
    seed: u64,
) -> Result<()> {
    let (mb, nb) = (a.mb(), a.nb());
    for j in 0..a.nt() {
        for i in 0..a.mt() {
            let mut t = seq
                .task("hpl_matgen")
                .priority(dense::prio(i, j, a.mt()))
                .on_rank(a.owner(i, j));
            let mut w = t.write(a.tile(i, j));
            t.submit(move |ctx| {
                let tile = w.get_mut(ctx);
                for c in 0..tile.n {
                    let gj = col0 + j * nb + c;
                    let mut x = jump(seed, gj as u64 * n as u64 + (i * mb) as u64);
                    for v in tile.col_mut(c) {
                        *v = value(x);
                        x = MULT.wrapping_mul(x).wrapping_add(ADD);
                    }
                }
                Ok(())
            })?;
        }
    }
    Ok(())
}

/// Fills `a` (`n x n`) and `b` (`n x 1`) with HPL's system `[A b]` of order `n`.
fn fill_system(
    rt: &Runtime,
    a: &TileMatrix<f64>,
    b: &TileMatrix<f64>,
    n: usize,
    seed: u64,
) -> Result<()> {
    let seq = rt.sequence();
    fill_hpl(&seq, a, n, 0, seed)?;
    fill_hpl(&seq, b, n, n, seed)?;
    seq.wait()
}

/// HPL's residual check and the norms behind it.
#[derive(Debug, Clone, Copy)]
pub struct Check {
    /// `||A x - b||_oo / (eps (||A||_oo ||x||_oo + ||b||_oo) N)`.
    pub scaled: f64,
    /// `||A x - b||_oo`.
    pub r_inf: f64,
    /// `||A||_oo`.
    pub a_inf: f64,
    /// `||A||_1`.
    pub a_one: f64,
    /// `||x||_oo`.
    pub x_inf: f64,
    /// `||x||_1`.
    pub x_one: f64,
    /// `||b||_oo`.
    pub b_inf: f64,
}

/// The unit roundoff HPL prints as "eps": 2^-53.
pub const EPS: f64 = f64::EPSILON / 2.0;

/// Computes HPL's residual of `x` for the system regenerated from `seed` into `a` (which is
/// overwritten: HPL also regenerates A after the solve, over its factors).
pub fn check(
    rt: &Runtime,
    a: &TileMatrix<f64>,
    x: &TileMatrix<f64>,
    n: usize,
    seed: u64,
) -> Result<Check> {
    let b = TileMatrix::<f64>::new_distributed(rt, n, 1, a.mb(), a.mb(), a.distribution().clone())?;
    fill_system(rt, a, &b, n, seed)?;
    let a_inf = dense::lange(rt, Norm::Inf, a)?;
    let a_one = dense::lange(rt, Norm::One, a)?;
    let x_inf = dense::lange(rt, Norm::Inf, x)?;
    let x_one = dense::lange(rt, Norm::One, x)?;
    let b_inf = dense::lange(rt, Norm::Inf, &b)?;
    dense::gemm(rt, Op::NoTrans, Op::NoTrans, 1.0, a, x, -1.0, &b)?;
    let r_inf = dense::lange(rt, Norm::Inf, &b)?;
    let scaled = if n == 0 {
        0.0
    } else {
        r_inf / (EPS * (a_inf * x_inf + b_inf) * n as f64)
    };
    Ok(Check {
        scaled,
        r_inf,
        a_inf,
        a_one,
        x_inf,
        x_one,
        b_inf,
    })
}

/// What one timed run produced.
#[derive(Debug, Clone)]
pub struct Timed {
    /// Wall time of the factorization and solve (HPL's "Time").
    pub time: Duration,
    /// When the timed part started and ended.
    pub start: SystemTime,
    /// When the timed part ended.
    pub end: SystemTime,
    /// `Some(i)` when `U(i, i)` (1-based) is exactly zero: the solve was not done.
    pub singular: Option<usize>,
    /// Mixed precision only: time of the low-precision LU, refinement time, outer
    /// refinement steps and GMRES iterations.
    pub mxp: Option<MxpStats>,
    /// The tasks of the timed part, when a trace was asked for (this rank's).
    pub trace: Option<Trace>,
}

/// How the mixed-precision solve went.
#[derive(Debug, Clone, Copy)]
pub struct MxpStats {
    /// Conversion to f32 and LU in f32.
    pub factor: Duration,
    /// Everything after: first solve, residuals and GMRES in f64.
    pub refine: Duration,
    /// Outer refinement steps (residual computations in f64 after the first solve).
    pub outer: usize,
    /// Total GMRES iterations (each one matrix-vector product and one f32 LU solve).
    pub inner: usize,
    /// The scaled residual the refinement reached (HPL's formula).
    pub scaled: f64,
}

/// Factors and solves HPL's system of order `n` with tile size `nb` in double precision,
/// with the tiles block-cyclic on a `P x Q` grid of the runtime's ranks (`grid`; `1 x 1`
/// in one process): returns the timing and leaves `a` holding the (regenerated) matrix and
/// `x` the solution, ready for [`check`]. On several ranks every rank calls it. With
/// `trace`, the timed part's tasks are recorded and returned in [`Timed::trace`].
pub fn run_double(
    rt: &Runtime,
    n: usize,
    nb: usize,
    seed: u64,
    grid: (usize, usize),
    trace: bool,
) -> Result<(Timed, TileMatrix<f64>, TileMatrix<f64>)> {
    let dist: Arc<dyn Distribution> = Arc::new(BlockCyclic2D::new(grid.0, grid.1));
    // A in one column-major array per rank, as HPL stores it (the LU then updates blocks
    // of columns with one gemm call each).
    let a = TileMatrix::<f64>::new_distributed_col_major(rt, n, n, nb, nb, dist.clone())?;
    let x = TileMatrix::<f64>::new_distributed(rt, n, 1, nb, nb, dist)?;
    fill_system(rt, &a, &x, n, seed)?;
    let recorder = Recorder::start(rt, trace);
    let start = SystemTime::now();
    let t0 = Instant::now();
    let singular = lu_solve(rt, &a, &x)?;
    let time = t0.elapsed();
    let end = SystemTime::now();
    Ok((
        Timed {
            time,
            start,
            end,
            singular,
            mxp: None,
            trace: recorder.finish(),
        },
        a,
        x,
    ))
}

/// Records the runtime's tasks from `start` to `finish` when asked (and only the tasks of
/// that span: what was recorded before is dropped); tracing is off again after, also when
/// the timed part fails.
struct Recorder<'a> {
    rt: &'a Runtime,
    on: bool,
}

impl<'a> Recorder<'a> {
    fn start(rt: &'a Runtime, on: bool) -> Self {
        if on {
            rt.set_tracing(true);
            drop(rt.take_trace());
        }
        Recorder { rt, on }
    }

    fn finish(self) -> Option<Trace> {
        self.on.then(|| {
            self.rt.set_tracing(false);
            self.rt.take_trace()
        })
    }
}

impl Drop for Recorder<'_> {
    fn drop(&mut self) {
        if self.on {
            self.rt.set_tracing(false);
        }
    }
}

/// LU with partial pivoting, timed as HPL times it: no input scan for NaN (the matrix is
/// generated), `Some(i)` for an exactly zero pivot.
fn lu<T: crate::Scalar>(
    rt: &Runtime,
    a: &TileMatrix<T>,
    ipiv: &mut [usize],
) -> Result<Option<usize>> {
    if a.m() == 0 {
        return Ok(None);
    }
    let (pivots, info) = dense::pivot_handles(a);
    let seq = rt.sequence();
    dense::getrf_async(&seq, a, &pivots, &info, LuOptions::default())?;
    seq.wait()?;
    drop(seq);
    match dense::finish_pivots(rt, a, pivots, &info, ipiv) {
        Ok(()) => Ok(None),
        Err(Error::Singular { index }) => Ok(Some(index)),
        Err(e) => Err(e),
    }
}

/// HPL's solve, timed as HPL times it: `b` factored along with `A` (each panel's
/// interchanges and `L` applied to it as to a trailing column), then `x = U^-1 b` in
/// place of `b`; no input scan for NaN (the matrix is generated). `Some(i)` for an exactly
/// zero pivot, and then no solve.
fn lu_solve(rt: &Runtime, a: &TileMatrix<f64>, b: &TileMatrix<f64>) -> Result<Option<usize>> {
    if a.m() == 0 {
        return Ok(None);
    }
    let mut ipiv = vec![0usize; a.m()];
    match dense::gesv_fused_unchecked(rt, a, &mut ipiv, b) {
        Ok(()) => Ok(None),
        Err(Error::Singular { index }) => Ok(Some(index)),
        Err(e) => Err(e),
    }
}

fn column(v: &[f64]) -> faer::MatRef<'_, f64> {
    faer::MatRef::from_column_major_slice(v, v.len(), 1)
}

/// `y = A x` in double precision on the tiles of `a`.
fn matvec(rt: &Runtime, a: &TileMatrix<f64>, x: &[f64], y: &mut [f64]) -> Result<()> {
    let nb = a.mb();
    let xt = TileMatrix::from_col_major(rt, column(x), nb, nb)?;
    let yt = TileMatrix::<f64>::zeros(a.m(), 1, nb, nb);
    dense::gemm(rt, Op::NoTrans, Op::NoTrans, 1.0, a, &xt, 0.0, &yt)?;
    yt.to_col_major(rt, faer::MatMut::from_column_major_slice_mut(y, a.m(), 1))
}

/// `v <- M^-1 v` with the single-precision LU factors `lu32`.
fn precondition(rt: &Runtime, lu32: &TileMatrix<f32>, ipiv: &[usize], v: &mut [f64]) -> Result<()> {
    let nb = lu32.mb();
    let v32: Vec<f32> = v.iter().map(|&x| x as f32).collect();
    let t = TileMatrix::from_col_major(
        rt,
        faer::MatRef::from_column_major_slice(&v32, v.len(), 1),
        nb,
        nb,
    )?;
    dense::getrs(rt, Op::NoTrans, lu32, ipiv, &t)?;
    let mut out = vec![0f32; v.len()];
    t.to_col_major(
        rt,
        faer::MatMut::from_column_major_slice_mut(&mut out, v.len(), 1),
    )?;
    for (d, s) in v.iter_mut().zip(out) {
        *d = f64::from(s);
    }
    Ok(())
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn norm2(a: &[f64]) -> f64 {
    dot(a, a).sqrt()
}

fn norm_inf(a: &[f64]) -> f64 {
    a.iter().fold(0.0f64, |m, x| m.max(x.abs()))
}

/// Flexible GMRES (right preconditioning) on `A d = r` from `d = 0`, with `M^-1` = the
/// single-precision LU: `d = sum y_k M^-1 v_k`, the residual minimized in double precision
/// with products by the double-precision `A`, so the preconditioner's rounding (its input
/// and arithmetic are single precision) slows convergence but does not limit accuracy. At
/// most `max_it` iterations, until the residual falls by `tol`. Returns `d` and the
/// iterations.
fn gmres(
    rt: &Runtime,
    a: &TileMatrix<f64>,
    lu32: &TileMatrix<f32>,
    ipiv: &[usize],
    r: &[f64],
    max_it: usize,
    tol: f64,
) -> Result<(Vec<f64>, usize)> {
    let n = r.len();
    let beta = norm2(r);
    if beta == 0.0 {
        return Ok((vec![0.0; n], 0));
    }
    let mut basis: Vec<Vec<f64>> = vec![r.iter().map(|x| x / beta).collect()];
    let mut zs: Vec<Vec<f64>> = Vec::new();
    let mut h: Vec<Vec<f64>> = Vec::new(); // h[j] = column j of the Hessenberg matrix
    let (mut cs, mut sn) = (Vec::<f64>::new(), Vec::<f64>::new());
    let mut g = vec![beta];
    let mut w = vec![0.0; n];
    let mut k = 0;
    while k < max_it {
        let mut z = basis[k].clone();
        precondition(rt, lu32, ipiv, &mut z)?;
        matvec(rt, a, &z, &mut w)?;
        zs.push(z);
        let mut col = vec![0.0; k + 2];
        for (i, v) in basis.iter().enumerate() {
            let hij = dot(&w, v);
            col[i] = hij;
            for (wj, vj) in w.iter_mut().zip(v) {
                *wj -= hij * vj;
            }
        }
        let hnext = norm2(&w);
        col[k + 1] = hnext;
        for i in 0..k {
            let t = cs[i] * col[i] + sn[i] * col[i + 1];
            col[i + 1] = -sn[i] * col[i] + cs[i] * col[i + 1];
            col[i] = t;
        }
        let rho = col[k].hypot(col[k + 1]);
        let (c, s) = if rho == 0.0 {
            (1.0, 0.0)
        } else {
            (col[k] / rho, col[k + 1] / rho)
        };
        col[k] = rho;
        col[k + 1] = 0.0;
        cs.push(c);
        sn.push(s);
        g.push(-s * g[k]);
        g[k] *= c;
        h.push(col);
        k += 1;
        if g[k].abs() <= tol * beta || hnext == 0.0 {
            break;
        }
        basis.push(w.iter().map(|x| x / hnext).collect());
    }
    // Back substitution with the triangular factor.
    let mut y = vec![0.0; k];
    for i in (0..k).rev() {
        let mut s = g[i];
        for (j, yj) in y.iter().enumerate().skip(i + 1) {
            s -= h[j][i] * yj;
        }
        y[i] = if h[i][i] != 0.0 { s / h[i][i] } else { 0.0 };
    }
    let mut d = vec![0.0; n];
    for (yi, v) in y.iter().zip(&zs) {
        for (dj, vj) in d.iter_mut().zip(v) {
            *dj += yi * vj;
        }
    }
    Ok((d, k))
}

/// HPL-MxP: factors HPL's matrix in single precision, then refines the solution in double
/// precision with GMRES preconditioned by that LU until HPL's scaled residual is below
/// `target` (or stops improving). The time covers everything from the conversion to f32 to
/// the refined solution. Returns the timing, the f64 matrix and the solution for [`check`]
/// (and with `trace`, the timed part's tasks in [`Timed::trace`]).
pub fn run_mixed(
    rt: &Runtime,
    n: usize,
    nb: usize,
    seed: u64,
    target: f64,
    trace: bool,
) -> Result<(Timed, TileMatrix<f64>, TileMatrix<f64>)> {
    let a = TileMatrix::<f64>::zeros(n, n, nb, nb);
    let bt = TileMatrix::<f64>::zeros(n, 1, nb, nb);
    fill_system(rt, &a, &bt, n, seed)?;
    let b = bt.to_mat(rt)?.col_as_slice(0).to_vec();
    let a_inf = dense::lange(rt, Norm::Inf, &a)?;
    let b_inf = norm_inf(&b);

    // Allocated (and its pages touched) before the clock starts, as HPL allocates before.
    let a32 = TileMatrix::<f32>::zeros(n, n, nb, nb);
    let recorder = Recorder::start(rt, trace);
    let start = SystemTime::now();
    let t0 = Instant::now();
    // Conversion to single precision, one task per tile, then the f32 LU.
    {
        let seq = rt.sequence();
        for j in 0..a.nt() {
            for i in 0..a.mt() {
                let mut t = seq.task("convert_f32").priority(dense::prio(i, j, a.mt()));
                let r = t.read(a.tile(i, j));
                let mut w = t.write(a32.tile(i, j));
                t.submit(move |ctx| {
                    let (d, s) = (w.get_mut(ctx), r.get(ctx));
                    for c in 0..s.n {
                        for (d, s) in d.col_mut(c).iter_mut().zip(s.col(c)) {
                            *d = *s as f32;
                        }
                    }
                    Ok(())
                })?;
            }
        }
        seq.wait()?;
    }
    let mut ipiv = vec![0usize; n];
    let singular = lu(rt, &a32, &mut ipiv)?;
    let factor = t0.elapsed();
    let mut stats = MxpStats {
        factor,
        refine: Duration::ZERO,
        outer: 0,
        inner: 0,
        scaled: f64::INFINITY,
    };
    let mut x = vec![0.0; n];
    if singular.is_none() && n > 0 {
        x.copy_from_slice(&b);
        precondition(rt, &a32, &ipiv, &mut x)?;
        let mut r = vec![0.0; n];
        let mut best = f64::INFINITY;
        for _ in 0..30 {
            matvec(rt, &a, &x, &mut r)?;
            for (ri, bi) in r.iter_mut().zip(&b) {
                *ri = bi - *ri;
            }
            let scaled = norm_inf(&r) / (EPS * (a_inf * norm_inf(&x) + b_inf) * n as f64);
            stats.scaled = scaled;
            if scaled < target || scaled > 0.5 * best {
                break;
            }
            best = scaled;
            let (d, it) = gmres(rt, &a, &a32, &ipiv, &r, 50, 1e-12)?;
            stats.outer += 1;
            stats.inner += it;
            for (xi, di) in x.iter_mut().zip(&d) {
                *xi += di;
            }
        }
    }
    let time = t0.elapsed();
    stats.refine = time - factor;
    let end = SystemTime::now();
    let xt = TileMatrix::from_col_major(rt, column(&x), nb, nb)?;
    Ok((
        Timed {
            time,
            start,
            end,
            singular,
            mxp: Some(stats),
            trace: recorder.finish(),
        },
        a,
        xt,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generator_jumps_and_steps_agree() {
        let mut x = HPL_SEED;
        for k in 0..1000u64 {
            assert_eq!(jump(HPL_SEED, k), x);
            x = MULT.wrapping_mul(x).wrapping_add(ADD);
        }
        let v: Vec<f64> = (0..10_000).map(|k| value(jump(7, k))).collect();
        assert!(v.iter().all(|&x| x > -0.5 && x <= 0.5));
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        assert!(mean.abs() < 0.02, "mean {mean}");
    }

    #[test]
    fn matrix_does_not_depend_on_tiling() {
        let rt = Runtime::with_default();
        let n = 37;
        let mats: Vec<faer::Mat<f64>> = [5, 16, 64]
            .iter()
            .map(|&nb| {
                let a = TileMatrix::<f64>::zeros(n, n + 1, nb, nb);
                let seq = rt.sequence();
                fill_hpl(&seq, &a, n, 0, HPL_SEED).unwrap();
                seq.wait().unwrap();
                a.to_mat(&rt).unwrap()
            })
            .collect();
        for m in &mats[1..] {
            assert_eq!(m, &mats[0]);
        }
        assert_eq!(mats[0][(3, 5)], hpl_entry(HPL_SEED, n, 3, 5));
        assert_eq!(mats[0][(n - 1, n)], hpl_entry(HPL_SEED, n, n - 1, n));
    }

    #[test]
    fn double_and_mixed_solves_pass_hpl_check() {
        let rt = Runtime::with_default();
        let n = 300;
        let (t, a, x) = run_double(&rt, n, 64, HPL_SEED, (1, 1), false).unwrap();
        assert!(t.singular.is_none());
        let c = check(&rt, &a, &x, n, HPL_SEED).unwrap();
        assert!(c.scaled < 16.0, "{c:?}");
        // Independent reference: faer's LU on the same matrix.
        let dense_a = faer::Mat::from_fn(n, n, |i, j| hpl_entry(HPL_SEED, n, i, j));
        let dense_b = faer::Mat::from_fn(n, 1, |i, _| hpl_entry(HPL_SEED, n, i, n));
        let lu = dense_a.partial_piv_lu();
        let xr = faer::linalg::solvers::Solve::solve(&lu, &dense_b);
        let xt = x.to_mat(&rt).unwrap();
        assert!(
            (&xt - &xr).norm_max() < 1e-8 * xr.norm_max(),
            "differs from faer"
        );

        let (t, a, x) = run_mixed(&rt, n, 64, HPL_SEED, 1.0, false).unwrap();
        let s = t.mxp.unwrap();
        assert!(s.outer >= 1 && s.inner >= 1, "{s:?}");
        let c = check(&rt, &a, &x, n, HPL_SEED).unwrap();
        assert!(c.scaled < 1.0, "{c:?} {s:?}");
        assert!((c.scaled - s.scaled).abs() < 0.5, "{c:?} {s:?}");
    }
}
