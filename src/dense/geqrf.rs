//! Tiled Householder QR: geqrf, applying Q (unmqr / ormqr), least squares (gels).
//!
//! The panel task factors the whole tile column `A[k.., k]` (gathered into one contiguous
//! block, so the kernel runs at its full blocked speed) and leaves the Householder vectors
//! in place and the `nb x nb` triangular factor `T_k` of the block reflector in tile `k` of
//! a workspace matrix ([`qr_workspace`]). Each trailing tile column is then updated by its
//! own task (`C = Q_k^H C`), reading the panel: one block reflector per panel, applied with
//! level-3 kernels straight on the tiles (LAPACK's `xGEQRF`/`xLARFB` structure on tiles, as
//! ScaLAPACK does across ranks). Lookahead: the update of column `k + 1` and the next panel
//! have the highest priorities.

use super::blas3::trsm_async;
use super::{check_finite_async, check_matrix, prio, views};
use crate::error::{Error, Result};
use crate::runtime::{ReadToken, Runtime, Sequence, WriteToken};
use crate::tile::{copy_overlap_async, Tile, TileMatrix};
#[allow(unused_imports)]
use faer::prelude::{Reborrow, ReborrowMut};
use tessera_kernels::{self as k, Diag, Op, Scalar, Side, Uplo};

/// The workspace that receives the block-reflector factors of [`geqrf`]: one `nb x nb`
/// tile per tile column of `a`.
pub fn qr_workspace<T: Scalar>(a: &TileMatrix<T>) -> TileMatrix<T> {
    let nb = a.nb();
    TileMatrix::zeros(nb, a.n().max(1), nb, nb)
}

fn check_workspace<T: Scalar>(a: &TileMatrix<T>, t: &TileMatrix<T>) -> Result<()> {
    if t.mb() != a.nb() || t.nb() != a.nb() || t.nt() < a.nt().min(a.mt()) || t.mt() < 1 {
        return Err(Error::invalid(
            0,
            "geqrf: T workspace does not match A (use dense::qr_workspace)",
        ));
    }
    Ok(())
}

/// Submits the tiled QR factorization `A = Q R` (`R` in the upper triangle, Householder
/// vectors below it, block-reflector factors in `t`).
pub fn geqrf_async<T: Scalar>(seq: &Sequence, a: &TileMatrix<T>, t: &TileMatrix<T>) -> Result<()> {
    check_workspace(a, t)?;
    let (mt, nt) = (a.mt(), a.nt());
    let kt = mt.min(nt);
    let w = T::DTYPE.flop_weight();
    // One gather buffer for all panels (they are ordered by their data anyway).
    let scratch: crate::runtime::Handle<Vec<T>> = crate::runtime::Handle::scratch(Vec::new(), 0);
    for kk in 0..kt {
        let rows: usize = (kk..mt).map(|i| a.tile_rows(i)).sum();
        let cols = a.tile_cols(kk);
        let kb = rows.min(cols);
        {
            let mut task = seq
                .task("geqrf_panel")
                .priority(prio(kk, kk, mt))
                .on_rank(a.owner(kk, kk))
                .flops(w * super::flops::geqrf(rows as f64, cols as f64));
            let mut toks: Vec<WriteToken<Tile<T>>> =
                (kk..mt).map(|i| task.read_write(a.tile(i, kk))).collect();
            let mut wt = task.write(t.tile(0, kk));
            let mut ws = task.read_write(&scratch);
            task.submit(move |ctx| {
                let mut tiles = views(&mut toks, ctx);
                let store = ws.get_mut(ctx);
                store.resize(rows * cols, T::zero());
                let mut buf = faer::MatMut::from_column_major_slice_mut(
                    &mut store[..rows * cols],
                    rows,
                    cols,
                );
                k::gather_tiles(&tiles, buf.rb_mut());
                let mut tb = faer::Mat::<T>::zeros(kb, kb);
                k::geqrt(buf.rb_mut(), tb.as_mut());
                wt.get_mut(ctx)
                    .as_mut()
                    .submatrix_mut(0, 0, kb, kb)
                    .copy_from(tb.as_ref());
                k::scatter_tiles(buf.rb(), &mut tiles);
                Ok(())
            })?;
        }
        for j in kk + 1..nt {
            let f = w * 4.0 * rows as f64 * kb as f64 * a.tile_cols(j) as f64;
            submit_apply(
                seq,
                "unmqr",
                prio(kk, j, mt),
                a.owner(kk, j),
                Op::ConjTrans,
                a,
                t,
                kk,
                kb,
                a,
                j,
                f,
            )?;
        }
        // This step's reflectors are read by this step's updates only (a later
        // application of Q fetches them again): drop the copies other ranks received once
        // those have run (see Sequence::flush).
        for i in kk..mt {
            seq.flush(a.tile(i, kk))?;
        }
        seq.flush(t.tile(0, kk))?;
    }
    Ok(())
}

/// Submits `C[kk.., j] = op(Q_kk) C[kk.., j]` (left side).
#[allow(clippy::too_many_arguments)]
fn submit_apply<T: Scalar>(
    seq: &Sequence,
    kind: &'static str,
    priority: i64,
    rank: usize,
    trans: Op,
    a: &TileMatrix<T>,
    t: &TileMatrix<T>,
    kk: usize,
    kb: usize,
    c: &TileMatrix<T>,
    j: usize,
    flops: f64,
) -> Result<()> {
    let mut task = seq.task(kind).priority(priority).on_rank(rank).flops(flops);
    let vs: Vec<ReadToken<Tile<T>>> = (kk..a.mt()).map(|i| task.read(a.tile(i, kk))).collect();
    let rt_ = task.read(t.tile(0, kk));
    let mut cs: Vec<WriteToken<Tile<T>>> = (kk..c.mt())
        .map(|i| task.read_write(c.tile(i, j)))
        .collect();
    task.submit(move |ctx| {
        let v: Vec<_> = vs.iter().map(|x| x.get(ctx).as_ref()).collect();
        let tm = rt_.get(ctx).as_ref().submatrix(0, 0, kb, kb);
        let mut cv = views(&mut cs, ctx);
        let ncols = cv[0].ncols();
        let mut work = faer::Mat::<T>::zeros(kb, ncols);
        k::apply_block_reflector_tiles(trans, &v, tm, &mut cv, work.as_mut());
        Ok(())
    })
}

/// Submits `C[i, kk..] = C[i, kk..] op(Q_kk)` (right side).
#[allow(clippy::too_many_arguments)]
fn submit_apply_right<T: Scalar>(
    seq: &Sequence,
    priority: i64,
    rank: usize,
    trans: Op,
    a: &TileMatrix<T>,
    t: &TileMatrix<T>,
    kk: usize,
    kb: usize,
    c: &TileMatrix<T>,
    i: usize,
    flops: f64,
) -> Result<()> {
    let mut task = seq
        .task("unmqr")
        .priority(priority)
        .on_rank(rank)
        .flops(flops);
    let vs: Vec<ReadToken<Tile<T>>> = (kk..a.mt()).map(|r| task.read(a.tile(r, kk))).collect();
    let rt_ = task.read(t.tile(0, kk));
    let mut cs: Vec<WriteToken<Tile<T>>> = (kk..c.nt())
        .map(|j| task.read_write(c.tile(i, j)))
        .collect();
    task.submit(move |ctx| {
        let v: Vec<_> = vs.iter().map(|x| x.get(ctx).as_ref()).collect();
        let tm = rt_.get(ctx).as_ref().submatrix(0, 0, kb, kb);
        let mut cv = views(&mut cs, ctx);
        let nrows = cv[0].nrows();
        let mut work = faer::Mat::<T>::zeros(nrows, kb);
        k::apply_block_reflector_tiles_right(trans, &v, tm, &mut cv, work.as_mut());
        Ok(())
    })
}

/// Submits `C = op(Q) C` (Left) or `C = C op(Q)` (Right) with the `Q` of [`geqrf_async`]
/// (LAPACK `xORMQR` / `xUNMQR`; `trans` is `NoTrans` or `ConjTrans`, `Trans` meaning
/// `ConjTrans` for real types).
pub fn unmqr_async<T: Scalar>(
    seq: &Sequence,
    side: Side,
    trans: Op,
    a: &TileMatrix<T>,
    t: &TileMatrix<T>,
    c: &TileMatrix<T>,
) -> Result<()> {
    check_workspace(a, t)?;
    let trans = if trans == Op::Trans {
        Op::ConjTrans
    } else {
        trans
    };
    let q_order = a.m();
    let cdim = if side == Side::Left { c.m() } else { c.n() };
    if cdim != q_order || a.mb() != c.mb() || a.nb() != c.nb() {
        return Err(Error::invalid(
            0,
            format!(
                "unmqr: Q is {q_order} x {q_order} (tiles {}), C is {} x {} (tiles {})",
                a.mb(),
                c.m(),
                c.n(),
                c.mb()
            ),
        ));
    }
    let (mt, nt) = (a.mt(), a.nt());
    let kt = mt.min(nt);
    let w = T::DTYPE.flop_weight();
    // Left: Q^H C applies H_0^H first; Q C applies H_{kt-1} first. Right: C Q applies H_0
    // first; C Q^H applies H_{kt-1}^H first.
    let forward = (side == Side::Left) == (trans == Op::ConjTrans);
    let steps: Vec<usize> = if forward {
        (0..kt).collect()
    } else {
        (0..kt).rev().collect()
    };
    for kk in steps {
        let rows: usize = (kk..mt).map(|i| a.tile_rows(i)).sum();
        let kb = rows.min(a.tile_cols(kk));
        match side {
            Side::Left => {
                for j in 0..c.nt() {
                    let f = w * 4.0 * rows as f64 * kb as f64 * c.tile_cols(j) as f64;
                    submit_apply(
                        seq,
                        "unmqr",
                        prio(kk, j, c.mt()),
                        c.owner(kk, j),
                        trans,
                        a,
                        t,
                        kk,
                        kb,
                        c,
                        j,
                        f,
                    )?;
                }
            }
            Side::Right => {
                for i in 0..c.mt() {
                    let f = w * 4.0 * rows as f64 * kb as f64 * c.tile_rows(i) as f64;
                    submit_apply_right(
                        seq,
                        prio(i, kk, c.mt()),
                        c.owner(i, kk),
                        trans,
                        a,
                        t,
                        kk,
                        kb,
                        c,
                        i,
                        f,
                    )?;
                }
            }
        }
    }
    Ok(())
}

/// Householder QR factorization of a tile matrix (LAPACK `xGEQRF`): on return `R` is in
/// the upper triangle of `a`, the Householder vectors below it, and the block-reflector
/// factors in `t` (from [`qr_workspace`]).
///
/// ```
/// use tessera::{dense, runtime::Runtime};
/// let rt = Runtime::with_default();
/// let a = dense::plrnt::<f64>(&rt, 300, 100, 64, 5).unwrap();
/// let t = dense::qr_workspace(&a);
/// dense::geqrf(&rt, &a, &t).unwrap();
/// ```
pub fn geqrf<T: Scalar>(rt: &Runtime, a: &TileMatrix<T>, t: &TileMatrix<T>) -> Result<()> {
    check_matrix(rt, a, "A")?;
    let seq = rt.sequence();
    check_finite_async(&seq, a, "A")?;
    geqrf_async(&seq, a, t)?;
    seq.wait()
}

/// Multiplies by the `Q` of [`geqrf`] (LAPACK `xUNMQR`/`xORMQR`).
pub fn unmqr<T: Scalar>(
    rt: &Runtime,
    side: Side,
    trans: Op,
    a: &TileMatrix<T>,
    t: &TileMatrix<T>,
    c: &TileMatrix<T>,
) -> Result<()> {
    check_matrix(rt, a, "A")?;
    check_matrix(rt, c, "C")?;
    let seq = rt.sequence();
    unmqr_async(&seq, side, trans, a, t, c)?;
    seq.wait()
}

/// Fails with [`Error::RankDeficient`] if a diagonal entry of the leading `n x n` upper
/// triangle of `a` is exactly zero (checked by tasks, after the factorization's).
fn check_r_diagonal_async<T: Scalar>(seq: &Sequence, a: &TileMatrix<T>, n: usize) -> Result<()> {
    let nb = a.nb();
    for kk in 0..n.div_ceil(nb) {
        let mut t = seq.task("check_diag").on_rank(a.owner(kk, kk));
        let r = t.read(a.tile(kk, kk));
        let cnt = (n - kk * nb).min(nb);
        t.submit(move |ctx| {
            let d = r.get(ctx).as_ref();
            match (0..cnt).find(|&i| *d.get(i, i) == T::zero()) {
                Some(i) => Err(Error::RankDeficient {
                    index: kk * nb + i + 1,
                }),
                None => Ok(()),
            }
        })?;
    }
    Ok(())
}

/// Least squares / minimum norm solution of a full-rank system (LAPACK `xGELS`,
/// `TRANS = 'N'`):
/// - `m >= n`: minimizes `||B - A X||_2`;
/// - `m < n`: the minimum-norm solution of `A X = B`.
///
/// `b` must have `max(m, n)` rows; the solution is in its first `n` rows on return. For
/// `m >= n`, `a` is overwritten by its QR factorization; for `m < n` the factorization is
/// done on a conjugate-transposed copy and `a` is left intact. A zero diagonal entry of
/// `R` gives [`Error::RankDeficient`] and leaves `b` as `Q^H b`.
pub fn gels<T: Scalar>(rt: &Runtime, a: &TileMatrix<T>, b: &TileMatrix<T>) -> Result<()> {
    gels_op(rt, Op::NoTrans, a, b)
}

/// [`gels`] for `op(A) X = B` (LAPACK `xGELS` with `TRANS`): `NoTrans`, or `ConjTrans`
/// (`Trans` is accepted for real types, where it means the same). With `ConjTrans`:
/// - `m >= n`: the minimum-norm solution of the underdetermined `A^H X = B`;
/// - `m < n`: minimizes `||B - A^H X||_2`.
///
/// `b` has `max(m, n)` rows; the solution is in its first `m` rows (`op(A)` has `m`
/// columns). `a` holds the QR factorization of `A` on return when `m >= n`.
pub fn gels_op<T: Scalar>(
    rt: &Runtime,
    trans: Op,
    a: &TileMatrix<T>,
    b: &TileMatrix<T>,
) -> Result<()> {
    check_matrix(rt, a, "A")?;
    check_matrix(rt, b, "B")?;
    let trans = match trans {
        Op::Trans if T::DTYPE.is_complex() => {
            return Err(Error::invalid(
                1,
                "gels: a complex A takes NoTrans or ConjTrans (LAPACK 'N' or 'C')",
            ))
        }
        Op::Trans => Op::ConjTrans,
        t => t,
    };
    let (m, n) = (a.m(), a.n());
    if b.m() != m.max(n) || b.mb() != a.mb() {
        return Err(Error::invalid(
            0,
            format!(
                "gels: B must have max(m, n) = {} rows and A's tile size (has {} rows)",
                m.max(n),
                b.m()
            ),
        ));
    }
    let nb = a.nb();
    let nrhs = b.n();
    {
        let seq = rt.sequence();
        check_finite_async(&seq, a, "A")?;
        check_finite_async(&seq, b, "B")?;
        seq.wait()?;
    }
    if m == 0 || n == 0 || nrhs == 0 {
        // LAPACK sets X = 0 when A is empty.
        let z = TileMatrix::zeros(b.m(), nrhs, nb, nb);
        let seq = rt.sequence();
        copy_overlap_async(&seq, &z, b)?;
        return seq.wait();
    }
    match (trans == Op::NoTrans, m >= n) {
        (true, true) => least_squares(rt, a, b),
        (true, false) => min_norm(rt, &a.conj_transpose(rt)?, b),
        (false, true) => min_norm(rt, a, b),
        (false, false) => least_squares(rt, &a.conj_transpose(rt)?, b),
    }
}

/// Minimizes `||B - F X||` for a tall `f` (`q x p`, `q >= p`), overwritten by its QR.
fn least_squares<T: Scalar>(rt: &Runtime, f: &TileMatrix<T>, b: &TileMatrix<T>) -> Result<()> {
    let (nb, nrhs, p) = (f.nb(), b.n(), f.n());
    let t = qr_workspace(f);
    let x = TileMatrix::zeros(p, nrhs, nb, nb);
    let seq = rt.sequence();
    geqrf_async(&seq, f, &t)?;
    unmqr_async(&seq, Side::Left, Op::ConjTrans, f, &t, b)?;
    check_r_diagonal_async(&seq, f, p)?;
    copy_overlap_async(&seq, b, &x)?;
    // R as its own p x p matrix (views are tile-aligned; R may end inside a tile).
    let r = TileMatrix::zeros(p, p, nb, nb);
    copy_overlap_async(&seq, f, &r)?;
    trsm_async(
        &seq,
        Side::Left,
        Uplo::Upper,
        Op::NoTrans,
        Diag::NonUnit,
        T::one(),
        &r,
        &x,
    )?;
    copy_overlap_async(&seq, &x, b)?;
    seq.wait()
}

/// The minimum-norm solution of `F^H X = B` for a tall `f` (`q x p`, `q >= p`),
/// overwritten by its QR: `F = Q R`, so `F^H = R^H Q^H` and `X = Q [R^-H B; 0]`.
fn min_norm<T: Scalar>(rt: &Runtime, f: &TileMatrix<T>, b: &TileMatrix<T>) -> Result<()> {
    let (nb, nrhs, q, p) = (f.nb(), b.n(), f.m(), f.n());
    let t = qr_workspace(f);
    let y = TileMatrix::zeros(p, nrhs, nb, nb);
    let x = TileMatrix::zeros(q, nrhs, nb, nb);
    let seq = rt.sequence();
    geqrf_async(&seq, f, &t)?;
    check_r_diagonal_async(&seq, f, p)?;
    copy_overlap_async(&seq, b, &y)?;
    let r = TileMatrix::zeros(p, p, nb, nb);
    copy_overlap_async(&seq, f, &r)?;
    trsm_async(
        &seq,
        Side::Left,
        Uplo::Upper,
        Op::ConjTrans,
        Diag::NonUnit,
        T::one(),
        &r,
        &y,
    )?;
    copy_overlap_async(&seq, &y, &x)?;
    unmqr_async(&seq, Side::Left, Op::NoTrans, f, &t, &x)?;
    copy_overlap_async(&seq, &x, b)?;
    seq.wait()
}

/// The scalar factors `tau` of LAPACK's representation of the `Q` made by [`geqrf`]:
/// `Q = H_1 H_2 ... H_k`, `H_j = I - tau_j v_j v_j^H`, `k = min(m, n)` (LAPACK `xGEQRF`'s
/// `TAU`). The block factors keep `1 / tau_j` on their diagonals (infinity for `H_j = I`).
pub fn qr_tau<T: Scalar>(rt: &Runtime, a: &TileMatrix<T>, t: &TileMatrix<T>) -> Result<Vec<T>> {
    check_workspace(a, t)?;
    let tm = t.to_mat(rt)?;
    let nb = a.nb();
    let mut tau = Vec::with_capacity(a.m().min(a.n()));
    for kk in 0..a.mt().min(a.nt()) {
        let rows: usize = (kk..a.mt()).map(|i| a.tile_rows(i)).sum();
        let kb = rows.min(a.tile_cols(kk));
        let start = tau.len();
        tau.resize(start + kb, T::zero());
        k::householder_tau(tm.as_ref().submatrix(0, kk * nb, kb, kb), &mut tau[start..]);
    }
    Ok(tau)
}

/// The block-reflector factors (the workspace of [`unmqr`] and [`ungqr`]) of reflectors
/// given in LAPACK's form: Householder vectors below the diagonal of the `k = a.n()`
/// columns of `a` (unit diagonal implied, the upper triangle not read) and their scalar
/// factors `tau` (LAPACK `xLARFT` in faer's convention: `T = striu(V^H V) + diag(1/tau)`).
pub fn qr_workspace_from_tau<T: Scalar>(
    rt: &Runtime,
    a: &TileMatrix<T>,
    tau: &[T],
) -> Result<TileMatrix<T>> {
    check_matrix(rt, a, "A")?;
    let k = a.n();
    if tau.len() != k || k > a.m() {
        return Err(Error::invalid(
            0,
            format!(
                "qr_workspace_from_tau: A is {} x {}, needs k = n <= m and k factors (has {})",
                a.m(),
                k,
                tau.len()
            ),
        ));
    }
    let t = qr_workspace(a);
    let (mt, nb) = (a.mt(), a.nb());
    let seq = rt.sequence();
    for kk in 0..a.nt() {
        let rows: usize = (kk..mt).map(|i| a.tile_rows(i)).sum();
        let kb = a.tile_cols(kk);
        let taus: Vec<T> = tau[kk * nb..kk * nb + kb].to_vec();
        let mut task = seq
            .task("larft")
            .priority(prio(kk, kk, mt))
            .on_rank(a.owner(kk, kk))
            .flops(T::DTYPE.flop_weight() * rows as f64 * (kb * kb) as f64);
        let vs: Vec<ReadToken<Tile<T>>> = (kk..mt).map(|i| task.read(a.tile(i, kk))).collect();
        let mut wt = task.write(t.tile(0, kk));
        task.submit(move |ctx| {
            let tiles: Vec<_> = vs.iter().map(|x| x.get(ctx).as_ref()).collect();
            let mut v = faer::Mat::<T>::zeros(rows, kb);
            let mut r0 = 0;
            for tl in &tiles {
                let m = tl.nrows();
                v.as_mut()
                    .submatrix_mut(r0, 0, m, kb)
                    .copy_from(tl.get(.., ..kb));
                r0 += m;
            }
            k::larft(
                v.as_ref(),
                &taus,
                wt.get_mut(ctx).as_mut().submatrix_mut(0, 0, kb, kb),
            );
            Ok(())
        })?;
    }
    seq.wait()?;
    Ok(t)
}

/// Forms the first `q.n()` columns of the `Q` of [`geqrf`] in `q` (LAPACK
/// `xUNGQR`/`xORGQR`): `q` is `m x n` with `n <= m`, `a` the `m x k` reflectors and `t`
/// their block factors (from [`geqrf`] or [`qr_workspace_from_tau`]).
pub fn ungqr<T: Scalar>(
    rt: &Runtime,
    a: &TileMatrix<T>,
    t: &TileMatrix<T>,
    q: &TileMatrix<T>,
) -> Result<()> {
    check_matrix(rt, q, "Q")?;
    if q.m() != a.m() || q.n() > q.m() || q.mb() != a.mb() {
        return Err(Error::invalid(
            0,
            format!(
                "ungqr: Q is {} x {}, needs {} rows, at most as many columns, A's tile size",
                q.m(),
                q.n(),
                a.m()
            ),
        ));
    }
    let seq = rt.sequence();
    for j in 0..q.nt() {
        for i in 0..q.mt() {
            let mut task = seq.task("laset").on_rank(q.owner(i, j));
            let mut w = task.write(q.tile(i, j));
            let diag = i == j;
            task.submit(move |ctx| {
                let d = if diag { T::one() } else { T::zero() };
                k::laset(T::zero(), d, w.get_mut(ctx).as_mut());
                Ok(())
            })?;
        }
    }
    if a.n() > 0 {
        unmqr_async(&seq, Side::Left, Op::NoTrans, a, t, q)?;
    }
    seq.wait()
}
