//! Numeric factorization on the task runtime, and the triangular solves.
//!
//! Each column block (see [`symbolic`](super::symbolic)) is one dense panel registered as a
//! runtime handle. The factorization is right-looking, PaStiX style:
//! - `init` (write): the panel is allocated and the matrix entries are scattered into it;
//! - `factor` (read-write): the diagonal block is factored (Cholesky, LDL^T or LU, the last
//!   two with static pivoting) and the off-diagonal rows are solved against it;
//! - `update` (read the source panel, [`commute`](crate::runtime::Access::Commute) on the
//!   target): the product of the source's rows with one of its blocks is computed outside
//!   any lock and then subtracted from the target panel under the target's lock, so the
//!   updates a panel receives land in any order.
//!
//! Tree parallelism: subtrees whose work is small next to the whole (below
//! `1 / (8 * workers)` of the flops) are one `subtree` task each, which factors its cblks
//! one after the other and sends its outside updates as commuting updates; above them each
//! cblk is a `factor` task and each (source, target) pair an `update` task, and large
//! supernodes are split into several cblks (node parallelism). Priorities are the flops on
//! the path from the task to the root, so the critical path goes first.
//!
//! Storage: the `L` panel of a cblk with `w` columns and `r` off-diagonal rows is `(w + r) x
//! w`, column-major; LU adds a `U^T` panel of the same shape whose off-diagonal rows hold
//! the rows of `U` right of the diagonal block (the diagonal block holds `L\U` in the `L`
//! panel). LDL^T keeps `D` on the diagonal of the unit lower diagonal block.

use super::symbolic::{Cblk, Symbolic};
use super::CscMatrix;
use crate::error::{Error, Result};
use crate::kernels::{gemm, potrf, trsm};
use crate::runtime::{CommuteToken, Handle, ReadToken, Runtime, WriteToken};
use crate::{Diag, Op, Scalar, Side, Uplo};
use faer::prelude::{IntoConst, ReborrowMut};
use faer::{MatMut, MatRef};
use std::sync::atomic::{AtomicUsize, Ordering as AtOrd};
use std::sync::Arc;

/// Which factorization to compute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `A = L L^H` for Hermitian (symmetric) positive definite matrices.
    Llt,
    /// `A = L D L^T` (or `L D L^H` for Hermitian matrices) with static pivoting.
    Ldlt,
    /// `A = L U` with static pivoting on the symmetrized pattern.
    Lu,
}

impl Kind {
    /// Name as printed in reports.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Llt => "llt",
            Kind::Ldlt => "ldlt",
            Kind::Lu => "lu",
        }
    }
}

/// Settings of the numeric phase.
#[derive(Debug, Clone, Copy)]
pub struct NumericOptions {
    /// Factorization kind.
    pub kind: Kind,
    /// For LDL^T of complex matrices: `L D L^H` (Hermitian) instead of `L D L^T`.
    pub hermitian: bool,
    /// Replace pivots smaller than `pivot_threshold` in modulus (static pivoting, LDL^T
    /// and LU); when false, an exactly zero pivot is an error.
    pub static_pivoting: bool,
    /// Absolute threshold below which a pivot is replaced.
    pub pivot_threshold: f64,
}

/// One column block's storage.
pub(crate) struct Panel<T> {
    pub(crate) l: Vec<T>,
    pub(crate) u: Vec<T>,
}

/// The numeric factors.
pub struct Numeric<T> {
    pub(crate) opts: NumericOptions,
    pub(crate) panels: Vec<Panel<T>>,
    /// Number of pivots replaced by static pivoting.
    pub(crate) perturbed: usize,
}

impl<T> Numeric<T> {
    /// Number of pivots static pivoting replaced.
    pub fn perturbed_pivots(&self) -> usize {
        self.perturbed
    }
}

fn view<T: Scalar>(
    p: &[T],
    ld: usize,
    r0: usize,
    nr: usize,
    c0: usize,
    nc: usize,
) -> MatRef<'_, T> {
    if nr == 0 || nc == 0 {
        return MatRef::from_column_major_slice(&[], nr, nc);
    }
    MatRef::from_column_major_slice_with_stride(&p[r0 + c0 * ld..], nr, nc, ld)
}

fn view_mut<T: Scalar>(
    p: &mut [T],
    ld: usize,
    r0: usize,
    nr: usize,
    c0: usize,
    nc: usize,
) -> MatMut<'_, T> {
    if nr == 0 || nc == 0 {
        return MatMut::from_column_major_slice_mut(&mut [], nr, nc);
    }
    MatMut::from_column_major_slice_with_stride_mut(&mut p[r0 + c0 * ld..], nr, nc, ld)
}

/// Allocates and fills the panel of cblk `c` from the permuted matrix `b` (and its
/// transpose `bt` for LU).
fn assemble<T: Scalar>(
    c: &Cblk,
    kind: Kind,
    b: &CscMatrix<T>,
    bt: Option<&CscMatrix<T>>,
) -> Result<Panel<T>> {
    let w = c.width();
    let ld = c.panel_rows();
    let mut l = vec![T::zero(); ld * w];
    let local = |r: usize| -> Option<usize> {
        if r < c.end {
            Some(r - c.first)
        } else {
            c.rows.binary_search(&r).ok().map(|p| w + p)
        }
    };
    for j in c.first..c.end {
        let (rows, vals) = b.col(j);
        let start = rows.partition_point(|&r| r < c.first);
        for (&r, &v) in rows[start..].iter().zip(&vals[start..]) {
            let lr = local(r).ok_or_else(|| {
                Error::Runtime(format!(
                    "internal: entry ({r}, {j}) outside the symbolic structure"
                ))
            })?;
            l[lr + (j - c.first) * ld] = v;
        }
    }
    let mut u = Vec::new();
    if kind == Kind::Lu {
        let bt = bt.expect("LU needs the transpose");
        u = vec![T::zero(); ld * w];
        for j in c.first..c.end {
            // Row j of B: entries B(j, r) for r >= end go to U^T(r, j).
            let (cols, vals) = bt.col(j);
            let start = cols.partition_point(|&r| r < c.end);
            for (&r, &v) in cols[start..].iter().zip(&vals[start..]) {
                let lr = local(r).ok_or_else(|| {
                    Error::Runtime(format!(
                        "internal: entry ({j}, {r}) outside the symbolic structure"
                    ))
                })?;
                u[lr + (j - c.first) * ld] = v;
            }
        }
    }
    Ok(Panel { l, u })
}

/// Replaces a small pivot; returns the (possibly new) pivot and whether it changed.
fn static_pivot<T: Scalar>(d: T, opts: &NumericOptions, index: usize) -> Result<(T, bool)> {
    let m = d.modulus();
    if opts.static_pivoting {
        if m < opts.pivot_threshold || !m.is_finite() {
            let r = if m > 0.0 && m.is_finite() {
                d * T::from_f64(opts.pivot_threshold / m)
            } else {
                T::from_f64(opts.pivot_threshold)
            };
            return Ok((r, true));
        }
    } else if m == 0.0 {
        return Err(Error::Singular { index: index + 1 });
    }
    Ok((d, false))
}

/// LDL^T (or LDL^H) of a dense block, lower triangle, with static pivoting; `D` on the
/// diagonal. Returns the number of replaced pivots.
fn ldlt_block<T: Scalar>(
    a: &mut [T],
    ld: usize,
    w: usize,
    opts: &NumericOptions,
    first: usize,
) -> Result<usize> {
    let herm = opts.hermitian;
    let mut count = 0;
    let mut col = vec![T::zero(); w];
    for j in 0..w {
        let mut d = a[j + j * ld];
        if herm {
            d = T::from_f64(d.re());
        }
        let (d, changed) = static_pivot(d, opts, first + j)?;
        count += changed as usize;
        a[j + j * ld] = d;
        let dinv = d.recip();
        // col = a[j+1.., j] (= l * d); then a[i, c] -= col_i * op(col_c) / d.
        for i in j + 1..w {
            col[i] = a[i + j * ld];
        }
        for c in j + 1..w {
            let t = if herm { col[c].conj() } else { col[c] } * dinv;
            if t == T::zero() {
                continue;
            }
            let (_, rest) = a.split_at_mut(c * ld);
            for i in c..w {
                rest[i] -= col[i] * t;
            }
        }
        for i in j + 1..w {
            a[i + j * ld] = col[i] * dinv;
        }
    }
    Ok(count)
}

/// LU without pivoting of a dense square block with static pivoting.
fn lu_block<T: Scalar>(
    a: &mut [T],
    ld: usize,
    w: usize,
    opts: &NumericOptions,
    first: usize,
) -> Result<usize> {
    let mut count = 0;
    for j in 0..w {
        let (d, changed) = static_pivot(a[j + j * ld], opts, first + j)?;
        count += changed as usize;
        a[j + j * ld] = d;
        let dinv = d.recip();
        for i in j + 1..w {
            a[i + j * ld] *= dinv;
        }
        let (left, right) = a.split_at_mut((j + 1) * ld);
        let lcol = &left[j * ld..j * ld + w];
        for c in j + 1..w {
            let col = &mut right[(c - j - 1) * ld..(c - j - 1) * ld + w];
            let u = col[j];
            if u == T::zero() {
                continue;
            }
            for i in j + 1..w {
                col[i] -= lcol[i] * u;
            }
        }
    }
    Ok(count)
}

/// Factors the panel of `c` in place (diagonal block, then the off-diagonal rows).
fn factor_panel<T: Scalar>(c: &Cblk, p: &mut Panel<T>, opts: &NumericOptions) -> Result<usize> {
    let w = c.width();
    let ld = c.panel_rows();
    let nr = c.rows.len();
    let mut count = 0;
    match opts.kind {
        Kind::Llt => {
            potrf(Uplo::Lower, view_mut(&mut p.l, ld, 0, w, 0, w)).map_err(|j| {
                Error::NotPositiveDefinite {
                    order: c.first + j + 1,
                }
            })?;
            if nr > 0 {
                let (diag, off) = split_diag(&mut p.l, ld, w, nr);
                trsm(
                    Side::Right,
                    Uplo::Lower,
                    Op::ConjTrans,
                    Diag::NonUnit,
                    T::one(),
                    diag,
                    off,
                );
            }
        }
        Kind::Ldlt => {
            count = ldlt_block(&mut p.l, ld, w, opts, c.first)?;
            if nr > 0 {
                let trans = if opts.hermitian {
                    Op::ConjTrans
                } else {
                    Op::Trans
                };
                let dinv: Vec<T> = (0..w).map(|j| p.l[j + j * ld].recip()).collect();
                let (diag, mut off) = split_diag(&mut p.l, ld, w, nr);
                trsm(
                    Side::Right,
                    Uplo::Lower,
                    trans,
                    Diag::Unit,
                    T::one(),
                    diag,
                    off.rb_mut(),
                );
                for (j, &di) in dinv.iter().enumerate() {
                    for i in 0..nr {
                        *off.rb_mut().get_mut(i, j) *= di;
                    }
                }
            }
        }
        Kind::Lu => {
            count = lu_block(&mut p.l, ld, w, opts, c.first)?;
            if nr > 0 {
                // L21 = A21 U11^-1 ; U^T21 = A^T21 L11^-T.
                {
                    let (d, off) = split_diag(&mut p.l, ld, w, nr);
                    trsm(
                        Side::Right,
                        Uplo::Upper,
                        Op::NoTrans,
                        Diag::NonUnit,
                        T::one(),
                        d,
                        off,
                    );
                }
                let d = view(&p.l, ld, 0, w, 0, w);
                let off = view_mut(&mut p.u, ld, w, nr, 0, w);
                trsm(
                    Side::Right,
                    Uplo::Lower,
                    Op::Trans,
                    Diag::Unit,
                    T::one(),
                    d,
                    off,
                );
            }
        }
    }
    Ok(count)
}

/// The diagonal block (read) and the off-diagonal rows (mutable) of a panel.
fn split_diag<T: Scalar>(
    p: &mut [T],
    ld: usize,
    w: usize,
    nr: usize,
) -> (MatRef<'_, T>, MatMut<'_, T>) {
    let m = MatMut::from_column_major_slice_with_stride_mut(p, ld, w, ld);
    let (top, bottom) = m.split_at_row_mut(w);
    let _ = nr;
    (top.into_const(), bottom)
}

/// The contribution of source cblk `src` through its block `bi`: `(rows, cols, W_L, W_U)`
/// where `W_L` is `|R| x |C|` for the `L` panel and `W_U` (LU only) `(|R| - |C|) x |C|`
/// for the `U^T` panel.
fn contribution<T: Scalar>(
    src: &Cblk,
    sp: &Panel<T>,
    bi: usize,
    opts: &NumericOptions,
    wl: &mut Vec<T>,
    wu: &mut Vec<T>,
    scratch: &mut Vec<T>,
) {
    let b = src.blocks[bi];
    let w = src.width();
    let ld = src.panel_rows();
    let m = src.rows.len() - b.start;
    let nc = b.end - b.start;
    let r0 = w + b.start;
    wl.clear();
    wl.resize(m * nc, T::zero());
    wu.clear();
    let out = MatMut::from_column_major_slice_mut(wl, m, nc);
    let lr = view(&sp.l, ld, r0, m, 0, w);
    match opts.kind {
        Kind::Llt => {
            let lc = view(&sp.l, ld, r0, nc, 0, w);
            gemm(Op::NoTrans, Op::ConjTrans, T::one(), lr, lc, T::zero(), out);
        }
        Kind::Ldlt => {
            // (L_R D) op(L_C)^T
            scratch.clear();
            scratch.resize(m * w, T::zero());
            for j in 0..w {
                let d = sp.l[j + j * ld];
                let src_col = &sp.l[r0 + j * ld..r0 + j * ld + m];
                for (o, &x) in scratch[j * m..(j + 1) * m].iter_mut().zip(src_col) {
                    *o = x * d;
                }
            }
            let ldm = MatRef::from_column_major_slice(scratch, m, w);
            let lc = view(&sp.l, ld, r0, nc, 0, w);
            let op = if opts.hermitian {
                Op::ConjTrans
            } else {
                Op::Trans
            };
            gemm(Op::NoTrans, op, T::one(), ldm, lc, T::zero(), out);
        }
        Kind::Lu => {
            let uc = view(&sp.u, ld, r0, nc, 0, w);
            gemm(Op::NoTrans, Op::Trans, T::one(), lr, uc, T::zero(), out);
            if m > nc {
                wu.resize((m - nc) * nc, T::zero());
                let out = MatMut::from_column_major_slice_mut(wu, m - nc, nc);
                let ur = view(&sp.u, ld, r0 + nc, m - nc, 0, w);
                let lc = view(&sp.l, ld, r0, nc, 0, w);
                gemm(Op::NoTrans, Op::Trans, T::one(), ur, lc, T::zero(), out);
            }
        }
    }
}

/// Runs of consecutive rows: `(first source row, first target row, length)`.
fn row_runs(src: &Cblk, bi: usize, tgt: &Cblk, runs: &mut Vec<(usize, usize, usize)>) {
    let b = src.blocks[bi];
    let rows = &src.rows[b.start..];
    let tw = tgt.width();
    runs.clear();
    let mut q = 0;
    for (i, &r) in rows.iter().enumerate() {
        let d = if r < tgt.end {
            r - tgt.first
        } else {
            while tgt.rows[q] < r {
                q += 1;
            }
            tw + q
        };
        match runs.last_mut() {
            Some(last) if last.1 + last.2 == d && last.0 + last.2 == i => last.2 += 1,
            _ => runs.push((i, d, 1)),
        }
    }
}

/// Subtracts a contribution from the target panel, run by run.
fn scatter<T: Scalar>(
    src: &Cblk,
    bi: usize,
    tgt: &Cblk,
    tp: &mut Panel<T>,
    wl: &[T],
    wu: &[T],
    runs: &[(usize, usize, usize)],
) {
    let b = src.blocks[bi];
    let rows = &src.rows[b.start..];
    let m = rows.len();
    let nc = b.end - b.start;
    let ld = tgt.panel_rows();
    for t in 0..nc {
        let col = (rows[t] - tgt.first) * ld;
        let dst = &mut tp.l[col..col + ld];
        let sc = &wl[t * m..(t + 1) * m];
        for &(s0, d0, len) in runs {
            for (d, &v) in dst[d0..d0 + len].iter_mut().zip(&sc[s0..s0 + len]) {
                *d -= v;
            }
        }
        if !wu.is_empty() {
            let dst = &mut tp.u[col..col + ld];
            let sc = &wu[t * (m - nc)..(t + 1) * (m - nc)];
            for &(s0, d0, len) in runs {
                // The U contribution covers the rows after the block (positions >= nc).
                let lo = s0.max(nc);
                let hi = s0 + len;
                if lo >= hi {
                    continue;
                }
                let dd = d0 + (lo - s0);
                for (d, &v) in dst[dd..dd + (hi - lo)]
                    .iter_mut()
                    .zip(&sc[lo - nc..hi - nc])
                {
                    *d -= v;
                }
            }
        }
    }
}

fn cblk_flops(c: &Cblk) -> f64 {
    let w = c.width() as f64;
    let m = c.panel_rows() as f64;
    // sum over the columns of (rows below)^2, approximately.
    w * (m * m - m * w + w * w / 3.0)
}

/// Runs the numeric factorization of the permuted matrix `b` (`P A P^T`, scaled).
pub(crate) fn factorize<T: Scalar>(
    rt: &Runtime,
    sym: &Symbolic,
    b: Arc<CscMatrix<T>>,
    opts: NumericOptions,
) -> Result<Numeric<T>> {
    let cblks = Arc::new(sym.cblks.clone());
    let nc = cblks.len();
    let bt = if opts.kind == Kind::Lu {
        Some(Arc::new(b.transpose()))
    } else {
        None
    };
    // Costs, critical-path priorities and subtree mapping.
    let cost: Vec<f64> = cblks.iter().map(cblk_flops).collect();
    let mut sub = cost.clone();
    let mut first_desc: Vec<usize> = (0..nc).collect();
    for k in 0..nc {
        if let Some(p) = cblks[k].parent {
            let v = sub[k];
            sub[p] += v;
            first_desc[p] = first_desc[p].min(first_desc[k]);
        }
    }
    let mut path = vec![0f64; nc];
    for k in (0..nc).rev() {
        path[k] = cost[k] + cblks[k].parent.map_or(0.0, |p| path[p]);
    }
    let total: f64 = cost.iter().sum();
    let tau = total / (8.0 * rt.workers() as f64);
    let mut subtree_root = vec![usize::MAX; nc];
    for k in (0..nc).rev() {
        let parent_big = cblks[k].parent.is_none_or(|p| sub[p] > tau);
        if sub[k] <= tau && parent_big {
            for j in first_desc[k]..=k {
                subtree_root[j] = k;
            }
        }
    }
    let prio = |k: usize| (path[k] / 1e3) as i64;

    let handles: Vec<Handle<Panel<T>>> = cblks
        .iter()
        .map(|c| {
            Handle::new(
                Panel {
                    l: Vec::new(),
                    u: Vec::new(),
                },
                c.width() * c.panel_rows() * std::mem::size_of::<T>(),
            )
        })
        .collect();
    let perturbed = Arc::new(AtomicUsize::new(0));
    let seq = rt.sequence();
    // Init tasks of the cblks above the subtrees.
    for k in 0..nc {
        if subtree_root[k] != usize::MAX {
            continue;
        }
        let mut t = seq.task("sp_init").priority(prio(k));
        let mut h = t.write(&handles[k]);
        let (cb, b, bt) = (cblks.clone(), b.clone(), bt.clone());
        t.submit(move |ctx| {
            *h.get_mut(ctx) = assemble(&cb[k], opts.kind, &b, bt.as_deref())?;
            Ok(())
        })?;
    }
    let mut k = 0;
    while k < nc {
        let root = subtree_root[k];
        if root != usize::MAX {
            // One task for the whole subtree k..=root.
            let lo = k;
            let mut t = seq
                .task("sp_subtree")
                .priority(prio(root) + (sub[root] / 1e3) as i64)
                .flops(sub[root]);
            let mut own: Vec<WriteToken<Panel<T>>> =
                (lo..=root).map(|j| t.read_write(&handles[j])).collect();
            let mut outside: Vec<usize> = Vec::new();
            for j in lo..=root {
                for bl in &cblks[j].blocks {
                    if bl.target > root {
                        outside.push(bl.target);
                    }
                }
            }
            outside.sort_unstable();
            outside.dedup();
            let mut out_tok: Vec<CommuteToken<Panel<T>>> =
                outside.iter().map(|&j| t.commute(&handles[j])).collect();
            let (cb, b, bt, pert) = (cblks.clone(), b.clone(), bt.clone(), perturbed.clone());
            t.submit(move |ctx| {
                let (mut wl, mut wu, mut scratch, mut runs) =
                    (Vec::new(), Vec::new(), Vec::new(), Vec::new());
                let mut panels: Vec<&mut Panel<T>> =
                    own.iter_mut().map(|tk| tk.get_mut(ctx)).collect();
                for j in lo..=root {
                    *panels[j - lo] = assemble(&cb[j], opts.kind, &b, bt.as_deref())?;
                }
                for j in lo..=root {
                    let n = factor_panel(&cb[j], panels[j - lo], &opts)?;
                    if n > 0 {
                        pert.fetch_add(n, AtOrd::Relaxed);
                    }
                    for bi in 0..cb[j].blocks.len() {
                        let tg = cb[j].blocks[bi].target;
                        contribution(
                            &cb[j],
                            panels[j - lo],
                            bi,
                            &opts,
                            &mut wl,
                            &mut wu,
                            &mut scratch,
                        );
                        row_runs(&cb[j], bi, &cb[tg], &mut runs);
                        if tg <= root {
                            scatter(&cb[j], bi, &cb[tg], panels[tg - lo], &wl, &wu, &runs);
                        } else {
                            let pos = outside.binary_search(&tg).unwrap();
                            out_tok[pos]
                                .with(ctx, |tp| scatter(&cb[j], bi, &cb[tg], tp, &wl, &wu, &runs));
                        }
                    }
                }
                Ok(())
            })?;
            k = root + 1;
            continue;
        }
        // Factor task, then one update task per block.
        {
            let mut t = seq.task("sp_factor").priority(prio(k)).flops(cost[k]);
            let mut h = t.read_write(&handles[k]);
            let (cb, pert) = (cblks.clone(), perturbed.clone());
            t.submit(move |ctx| {
                let n = factor_panel(&cb[k], h.get_mut(ctx), &opts)?;
                if n > 0 {
                    pert.fetch_add(n, AtOrd::Relaxed);
                }
                Ok(())
            })?;
        }
        for bi in 0..cblks[k].blocks.len() {
            let tg = cblks[k].blocks[bi].target;
            let mut t = seq.task("sp_update").priority(prio(tg));
            let src: ReadToken<Panel<T>> = t.read(&handles[k]);
            let mut dst = t.commute(&handles[tg]);
            let cb = cblks.clone();
            t.submit(move |ctx| {
                let (mut wl, mut wu, mut scratch, mut runs) =
                    (Vec::new(), Vec::new(), Vec::new(), Vec::new());
                contribution(
                    &cb[k],
                    src.get(ctx),
                    bi,
                    &opts,
                    &mut wl,
                    &mut wu,
                    &mut scratch,
                );
                row_runs(&cb[k], bi, &cb[tg], &mut runs);
                dst.with(ctx, |tp| scatter(&cb[k], bi, &cb[tg], tp, &wl, &wu, &runs));
                Ok(())
            })?;
        }
        k += 1;
    }
    seq.wait()?;
    let panels = handles
        .into_iter()
        .map(|h| {
            h.into_inner()
                .map_err(|_| Error::Runtime("internal: a panel is still referenced".into()))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Numeric {
        opts,
        panels,
        perturbed: perturbed.load(AtOrd::Relaxed),
    })
}

impl<T: Scalar> Numeric<T> {
    /// Solves with the factors in place: `x` is `n x nrhs` column-major in the permuted
    /// numbering.
    pub(crate) fn solve_permuted(&self, sym: &Symbolic, x: &mut [T], nrhs: usize) {
        let n = sym.n;
        let kind = self.opts.kind;
        let conj_op = if kind == Kind::Ldlt && !self.opts.hermitian {
            Op::Trans
        } else {
            Op::ConjTrans
        };
        let mut tmp = Vec::new();
        // Forward: L y = b.
        for (c, p) in sym.cblks.iter().zip(&self.panels) {
            let (w, ld, nr) = (c.width(), c.panel_rows(), c.rows.len());
            let diag = if kind == Kind::Llt {
                Diag::NonUnit
            } else {
                Diag::Unit
            };
            let xk = view_mut(x, n, c.first, w, 0, nrhs);
            trsm(
                Side::Left,
                Uplo::Lower,
                Op::NoTrans,
                diag,
                T::one(),
                view(&p.l, ld, 0, w, 0, w),
                xk,
            );
            if nr > 0 {
                tmp.clear();
                tmp.resize(nr * nrhs, T::zero());
                let out = MatMut::from_column_major_slice_mut(&mut tmp, nr, nrhs);
                gemm(
                    Op::NoTrans,
                    Op::NoTrans,
                    T::one(),
                    view(&p.l, ld, w, nr, 0, w),
                    view(x, n, c.first, w, 0, nrhs),
                    T::zero(),
                    out,
                );
                for r in 0..nrhs {
                    for (i, &row) in c.rows.iter().enumerate() {
                        x[row + r * n] -= tmp[i + r * nr];
                    }
                }
            }
        }
        if kind == Kind::Ldlt {
            for (c, p) in sym.cblks.iter().zip(&self.panels) {
                let ld = c.panel_rows();
                for j in 0..c.width() {
                    let dinv = p.l[j + j * ld].recip();
                    for r in 0..nrhs {
                        x[c.first + j + r * n] *= dinv;
                    }
                }
            }
        }
        // Backward.
        for (c, p) in sym.cblks.iter().zip(&self.panels).rev() {
            let (w, ld, nr) = (c.width(), c.panel_rows(), c.rows.len());
            if nr > 0 {
                tmp.clear();
                tmp.resize(nr * nrhs, T::zero());
                for r in 0..nrhs {
                    for (i, &row) in c.rows.iter().enumerate() {
                        tmp[i + r * nr] = x[row + r * n];
                    }
                }
                let g = MatRef::from_column_major_slice(&tmp, nr, nrhs);
                let xk = view_mut(x, n, c.first, w, 0, nrhs);
                match kind {
                    Kind::Lu => gemm(
                        Op::Trans,
                        Op::NoTrans,
                        -T::one(),
                        view(&p.u, ld, w, nr, 0, w),
                        g,
                        T::one(),
                        xk,
                    ),
                    _ => gemm(
                        conj_op,
                        Op::NoTrans,
                        -T::one(),
                        view(&p.l, ld, w, nr, 0, w),
                        g,
                        T::one(),
                        xk,
                    ),
                }
            }
            let xk = view_mut(x, n, c.first, w, 0, nrhs);
            let d = view(&p.l, ld, 0, w, 0, w);
            match kind {
                Kind::Llt => trsm(
                    Side::Left,
                    Uplo::Lower,
                    Op::ConjTrans,
                    Diag::NonUnit,
                    T::one(),
                    d,
                    xk,
                ),
                Kind::Ldlt => trsm(
                    Side::Left,
                    Uplo::Lower,
                    conj_op,
                    Diag::Unit,
                    T::one(),
                    d,
                    xk,
                ),
                Kind::Lu => trsm(
                    Side::Left,
                    Uplo::Upper,
                    Op::NoTrans,
                    Diag::NonUnit,
                    T::one(),
                    d,
                    xk,
                ),
            }
        }
    }
}
