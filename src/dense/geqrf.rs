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
    let scratch: crate::runtime::Handle<Vec<T>> = crate::runtime::Handle::new(Vec::new(), 0);
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
    check_matrix(rt, a, "A")?;
    check_matrix(rt, b, "B")?;
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
    if m >= n {
        let t = qr_workspace(a);
        let x = TileMatrix::zeros(n, nrhs, nb, nb);
        let seq = rt.sequence();
        geqrf_async(&seq, a, &t)?;
        unmqr_async(&seq, Side::Left, Op::ConjTrans, a, &t, b)?;
        check_r_diagonal_async(&seq, a, n)?;
        copy_overlap_async(&seq, b, &x)?;
        // R as its own n x n matrix (views are tile-aligned; R may end inside a tile).
        let r = TileMatrix::zeros(n, n, nb, nb);
        copy_overlap_async(&seq, a, &r)?;
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
    } else {
        // A^H = Q R  =>  A = R^H Q^H, and x = Q [R^-H b; 0].
        let ah = a.conj_transpose(rt)?;
        let t = qr_workspace(&ah);
        let y = TileMatrix::zeros(m, nrhs, nb, nb);
        let x = TileMatrix::zeros(n, nrhs, nb, nb);
        let seq = rt.sequence();
        geqrf_async(&seq, &ah, &t)?;
        check_r_diagonal_async(&seq, &ah, m)?;
        copy_overlap_async(&seq, b, &y)?;
        let r = TileMatrix::zeros(m, m, nb, nb);
        copy_overlap_async(&seq, &ah, &r)?;
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
        unmqr_async(&seq, Side::Left, Op::NoTrans, &ah, &t, &x)?;
        copy_overlap_async(&seq, &x, b)?;
        seq.wait()
    }
}
