//! Tiled level-3 BLAS: gemm, trsm, herk, syrk.

use super::{check_conformal, check_matrix, prio};
use crate::error::{Error, Result};
use crate::runtime::{Handle, Runtime, Sequence};
use crate::tile::{pool, Tile, TileHandle, TileMatrix};
#[allow(unused_imports)]
use faer::prelude::{Reborrow, ReborrowMut};
use tessera_kernels::{self as k, Diag, Op, Scalar, Side, Uplo};

/// Shape of `op(A)` in tiles and elements.
fn op_dims<T: Scalar>(op: Op, a: &TileMatrix<T>) -> (usize, usize, usize, usize) {
    match op {
        Op::NoTrans => (a.m(), a.n(), a.mt(), a.nt()),
        _ => (a.n(), a.m(), a.nt(), a.mt()),
    }
}

/// Tile `(i, j)` of `op(A)` (the stored tile it comes from).
fn op_tile<T: Scalar>(op: Op, a: &TileMatrix<T>, i: usize, j: usize) -> &TileHandle<T> {
    match op {
        Op::NoTrans => a.tile(i, j),
        _ => a.tile(j, i),
    }
}

/// Submits one tile gemm `C = alpha op(A) op(B) + beta C`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn gemm_tile<T: Scalar>(
    seq: &Sequence,
    priority: i64,
    rank: usize,
    ta: Op,
    tb: Op,
    alpha: T,
    a: &TileHandle<T>,
    b: &TileHandle<T>,
    beta: T,
    c: &TileHandle<T>,
    flops: f64,
) -> Result<()> {
    let mut t = seq
        .task("gemm")
        .priority(priority)
        .on_rank(rank)
        .flops(flops);
    let ra = t.read(a);
    let rb = t.read(b);
    let mut wc = t.read_write(c);
    t.submit(move |ctx| {
        let (a, b) = (ra.get(ctx), rb.get(ctx));
        k::gemm(
            ta,
            tb,
            alpha,
            a.as_ref(),
            b.as_ref(),
            beta,
            wc.get_mut(ctx).as_mut(),
        );
        Ok(())
    })
}

/// Whether the left-side solve updates tile column `j` of `b` by [`split_update`]: when it
/// is thin (fewer columns than half a tile, such as the right-hand sides of a solve), so
/// that its tiles cost less to move than the tiles of `A`.
fn thin_rhs<T: Scalar>(a: &TileMatrix<T>, b: &TileMatrix<T>, j: usize) -> bool {
    2 * b.tile_cols(j) < a.mb().min(a.nb())
}

/// The rank owning the stored tile behind `op(A)_{m,k}`.
fn a_owner<T: Scalar>(a: &TileMatrix<T>, trans: Op, m: usize, k: usize) -> usize {
    if trans == Op::NoTrans {
        a.owner(m, k)
    } else {
        a.owner(k, m)
    }
}

/// `C = beta C - op(A) B` for a thin `B` and `C` in two tasks: the product `W = op(A) B`
/// on the rank that owns `A`'s tile, then `C = beta C - W` on `C`'s owner. Across ranks
/// only `B` and `W` travel (a few columns each), never the tile of `A`: a distributed
/// triangular solve moves vectors, not the factor. One process runs the same two steps,
/// so its results are bitwise those of any grid.
#[allow(clippy::too_many_arguments)]
fn split_update<T: Scalar>(
    seq: &Sequence,
    priority: i64,
    trans: Op,
    a: &TileHandle<T>,
    a_rank: usize,
    b: &TileHandle<T>,
    beta: T,
    c: &TileHandle<T>,
    c_rank: usize,
    flops: f64,
) -> Result<()> {
    let prod: TileHandle<T> = Handle::new_wire(Tile::empty(0, 0), 0);
    let mut t = seq
        .task("gemm_w")
        .priority(priority)
        .on_rank(a_rank)
        .flops(flops);
    let (ra, rb) = (t.read(a), t.read(b));
    let mut ww = t.write(&prod);
    t.submit(move |ctx| {
        let (a, b) = (ra.get(ctx).as_ref(), rb.get(ctx).as_ref());
        let (r, c) = match trans {
            Op::NoTrans => (a.nrows(), b.ncols()),
            _ => (a.ncols(), b.ncols()),
        };
        let w = ww.get_mut(ctx);
        w.set_vec(r, c, pool::take(r * c));
        k::gemm(trans, Op::NoTrans, T::one(), a, b, T::zero(), w.as_mut());
        Ok(())
    })?;
    let mut t = seq.task("sub_w").priority(priority).on_rank(c_rank);
    let rw = t.read(&prod);
    let mut wc = t.read_write(c);
    t.submit(move |ctx| {
        let (w, c) = (rw.get(ctx), wc.get_mut(ctx));
        if (w.m, w.n) != (c.m, c.n) {
            return Err(Error::Runtime(format!(
                "solve update: a {} x {} product for a {} x {} tile",
                w.m, w.n, c.m, c.n
            )));
        }
        for j in 0..c.n {
            for (x, &y) in c.col_mut(j).iter_mut().zip(w.col(j)) {
                *x = beta * *x - y;
            }
        }
        Ok(())
    })
}

/// Submits one tile trsm.
#[allow(clippy::too_many_arguments)]
pub(crate) fn trsm_tile<T: Scalar>(
    seq: &Sequence,
    priority: i64,
    rank: usize,
    side: Side,
    uplo: Uplo,
    trans: Op,
    diag: Diag,
    alpha: T,
    a: &TileHandle<T>,
    b: &TileHandle<T>,
    flops: f64,
) -> Result<()> {
    let mut t = seq
        .task("trsm")
        .priority(priority)
        .on_rank(rank)
        .flops(flops);
    let ra = t.read(a);
    let mut wb = t.read_write(b);
    t.submit(move |ctx| {
        k::trsm(
            side,
            uplo,
            trans,
            diag,
            alpha,
            ra.get(ctx).as_ref(),
            wb.get_mut(ctx).as_mut(),
        );
        Ok(())
    })
}

/// Submits `C = alpha op(A) op(B) + beta C` on tiles (all with the same square tile size).
#[allow(clippy::too_many_arguments)]
pub fn gemm_async<T: Scalar>(
    seq: &Sequence,
    ta: Op,
    tb: Op,
    alpha: T,
    a: &TileMatrix<T>,
    b: &TileMatrix<T>,
    beta: T,
    c: &TileMatrix<T>,
) -> Result<()> {
    let (m, ka, _, kt) = op_dims(ta, a);
    let (kb, n, _, _) = op_dims(tb, b);
    if ka != kb || c.m() != m || c.n() != n {
        return Err(Error::invalid(
            0,
            format!(
                "gemm: op(A) is {m} x {ka}, op(B) is {kb} x {n}, C is {} x {}",
                c.m(),
                c.n()
            ),
        ));
    }
    check_conformal(a, c, "gemm")?;
    check_conformal(b, c, "gemm")?;
    let w = T::DTYPE.flop_weight();
    for j in 0..c.nt() {
        for i in 0..c.mt() {
            let p = prio(i, j, c.mt());
            if kt == 0 {
                let mut t = seq.task("scale").priority(p).on_rank(c.owner(i, j));
                let mut wc = t.read_write(c.tile(i, j));
                t.submit(move |ctx| {
                    k::scale(beta, wc.get_mut(ctx).as_mut());
                    Ok(())
                })?;
            }
            for l in 0..kt {
                let f = w * super::flops::gemm(
                    c.tile_rows(i) as f64,
                    c.tile_cols(j) as f64,
                    a.nb() as f64,
                );
                let (ta_, tb_) = (op_tile(ta, a, i, l), op_tile(tb, b, l, j));
                let beta_l = if l == 0 { beta } else { T::one() };
                gemm_tile(
                    seq,
                    p,
                    c.owner(i, j),
                    ta,
                    tb,
                    alpha,
                    ta_,
                    tb_,
                    beta_l,
                    c.tile(i, j),
                    f,
                )?;
            }
        }
    }
    Ok(())
}

/// `C = alpha op(A) op(B) + beta C` on tile matrices.
///
/// ```
/// use tessera::{dense, runtime::Runtime, tile::TileMatrix, Op};
/// let rt = Runtime::with_default();
/// let a = dense::plrnt::<f64>(&rt, 50, 40, 16, 1).unwrap();
/// let b = dense::plrnt::<f64>(&rt, 40, 30, 16, 2).unwrap();
/// let c = TileMatrix::<f64>::zeros(50, 30, 16, 16);
/// dense::gemm(&rt, Op::NoTrans, Op::NoTrans, 1.0, &a, &b, 0.0, &c).unwrap();
/// let (am, bm, cm) = (a.to_mat(&rt).unwrap(), b.to_mat(&rt).unwrap(), c.to_mat(&rt).unwrap());
/// assert!((&am * &bm - &cm).norm_max() < 1e-13);
/// ```
#[allow(clippy::too_many_arguments)]
pub fn gemm<T: Scalar>(
    rt: &Runtime,
    ta: Op,
    tb: Op,
    alpha: T,
    a: &TileMatrix<T>,
    b: &TileMatrix<T>,
    beta: T,
    c: &TileMatrix<T>,
) -> Result<()> {
    check_matrix(rt, a, "A")?;
    check_matrix(rt, b, "B")?;
    check_matrix(rt, c, "C")?;
    let seq = rt.sequence();
    gemm_async(&seq, ta, tb, alpha, a, b, beta, c)?;
    seq.wait()
}

/// Submits the triangular solve `op(A) X = alpha B` (Left) or `X op(A) = alpha B` (Right),
/// `B` overwritten by `X`.
#[allow(clippy::too_many_arguments)]
pub fn trsm_async<T: Scalar>(
    seq: &Sequence,
    side: Side,
    uplo: Uplo,
    trans: Op,
    diag: Diag,
    alpha: T,
    a: &TileMatrix<T>,
    b: &TileMatrix<T>,
) -> Result<()> {
    let na = if side == Side::Left { b.m() } else { b.n() };
    if a.m() != a.n() || a.m() != na {
        return Err(Error::invalid(
            0,
            format!(
                "trsm: A is {} x {}, B is {} x {} ({side:?} side)",
                a.m(),
                a.n(),
                b.m(),
                b.n()
            ),
        ));
    }
    if a.mb() != b.mb() || a.nb() != b.nb() {
        return Err(Error::invalid(
            0,
            "trsm: A and B must have the same tile size",
        ));
    }
    // op(A) is effectively lower triangular when uplo and trans agree.
    let eff_lower = (uplo == Uplo::Lower) == (trans == Op::NoTrans);
    let nt = a.nt();
    // op(A)_{r,c} as a stored tile.
    let opa = |r: usize, c: usize| {
        if trans == Op::NoTrans {
            a.tile(r, c)
        } else {
            a.tile(c, r)
        }
    };
    let w = T::DTYPE.flop_weight();
    let nb = a.nb() as f64;
    match side {
        Side::Left => {
            // Forward for a lower op(A), backward for an upper one.
            let order: Vec<usize> = if eff_lower {
                (0..nt).collect()
            } else {
                (0..nt).rev().collect()
            };
            for (step, &kk) in order.iter().enumerate() {
                let lalpha = if step == 0 { alpha } else { T::one() };
                for j in 0..b.nt() {
                    let f = w * super::flops::trsm(a.tile_rows(kk) as f64, b.tile_cols(j) as f64);
                    trsm_tile(
                        seq,
                        prio(kk, j, b.mt()),
                        b.owner(kk, j),
                        side,
                        uplo,
                        trans,
                        diag,
                        lalpha,
                        a.tile(kk, kk),
                        b.tile(kk, j),
                        f,
                    )?;
                }
                for &m in &order[step + 1..] {
                    for j in 0..b.nt() {
                        let f = w * super::flops::gemm(
                            b.tile_rows(m) as f64,
                            b.tile_cols(j) as f64,
                            nb,
                        );
                        if thin_rhs(a, b, j) {
                            split_update(
                                seq,
                                prio(m, j, b.mt()),
                                trans,
                                opa(m, kk),
                                a_owner(a, trans, m, kk),
                                b.tile(kk, j),
                                lalpha,
                                b.tile(m, j),
                                b.owner(m, j),
                                f,
                            )?;
                            continue;
                        }
                        gemm_tile(
                            seq,
                            prio(m, j, b.mt()),
                            b.owner(m, j),
                            trans,
                            Op::NoTrans,
                            -T::one(),
                            opa(m, kk),
                            b.tile(kk, j),
                            lalpha,
                            b.tile(m, j),
                            f,
                        )?;
                    }
                }
            }
        }
        Side::Right => {
            // X op(A) = B: a lower op(A) is solved backward over columns, an upper forward.
            let order: Vec<usize> = if eff_lower {
                (0..nt).rev().collect()
            } else {
                (0..nt).collect()
            };
            for (step, &kk) in order.iter().enumerate() {
                let lalpha = if step == 0 { alpha } else { T::one() };
                for i in 0..b.mt() {
                    let f = w * super::flops::trsm(a.tile_rows(kk) as f64, b.tile_rows(i) as f64);
                    trsm_tile(
                        seq,
                        prio(i, kk, b.mt()),
                        b.owner(i, kk),
                        side,
                        uplo,
                        trans,
                        diag,
                        lalpha,
                        a.tile(kk, kk),
                        b.tile(i, kk),
                        f,
                    )?;
                }
                for &n in &order[step + 1..] {
                    for i in 0..b.mt() {
                        let f = w * super::flops::gemm(
                            b.tile_rows(i) as f64,
                            b.tile_cols(n) as f64,
                            nb,
                        );
                        gemm_tile(
                            seq,
                            prio(i, n, b.mt()),
                            b.owner(i, n),
                            Op::NoTrans,
                            trans,
                            -T::one(),
                            b.tile(i, kk),
                            opa(kk, n),
                            lalpha,
                            b.tile(i, n),
                            f,
                        )?;
                    }
                }
            }
        }
    }
    Ok(())
}

/// Triangular solve with a tiled triangular matrix (BLAS `xTRSM` semantics).
#[allow(clippy::too_many_arguments)]
pub fn trsm<T: Scalar>(
    rt: &Runtime,
    side: Side,
    uplo: Uplo,
    trans: Op,
    diag: Diag,
    alpha: T,
    a: &TileMatrix<T>,
    b: &TileMatrix<T>,
) -> Result<()> {
    check_matrix(rt, a, "A")?;
    check_matrix(rt, b, "B")?;
    let seq = rt.sequence();
    trsm_async(&seq, side, uplo, trans, diag, alpha, a, b)?;
    seq.wait()
}

#[allow(clippy::too_many_arguments)]
fn rank_k_async<T: Scalar>(
    seq: &Sequence,
    herm: bool,
    uplo: Uplo,
    trans: Op,
    alpha: T,
    a: &TileMatrix<T>,
    beta: T,
    c: &TileMatrix<T>,
) -> Result<()> {
    let (n, kdim, nt, kt) = op_dims(trans, a);
    if c.m() != c.n() || c.m() != n {
        return Err(Error::invalid(
            0,
            format!(
                "rank-k update: op(A) is {n} x {kdim}, C is {} x {}",
                c.m(),
                c.n()
            ),
        ));
    }
    check_conformal(a, c, "rank-k update")?;
    let w = T::DTYPE.flop_weight();
    // The transposition applied to the second operand: A^H for herk, A^T for syrk.
    let t2 = |t: Op| match (t, herm) {
        (Op::NoTrans, true) => Op::ConjTrans,
        (Op::NoTrans, false) => Op::Trans,
        _ => Op::NoTrans,
    };
    for j in 0..nt {
        for i in 0..nt {
            let lower = uplo == Uplo::Lower;
            if (lower && i < j) || (!lower && i > j) {
                continue;
            }
            let p = prio(i, j, c.mt());
            for l in 0..kt.max(1) {
                let beta_l = if l == 0 { beta } else { T::one() };
                let rank = c.owner(i, j);
                if kt == 0 {
                    // No update: C = beta C on the referenced part.
                    let mut t = seq.task("scale").priority(p).on_rank(rank);
                    let mut wc = t.read_write(c.tile(i, j));
                    let diag = i == j;
                    t.submit(move |ctx| {
                        let c = wc.get_mut(ctx).as_mut();
                        let empty = faer::Mat::<T>::zeros(c.nrows(), 0);
                        match (diag, herm) {
                            (true, true) => {
                                k::herk(uplo, Op::NoTrans, 0.0, empty.as_ref(), beta.re(), c)
                            }
                            (true, false) => {
                                k::syrk(uplo, Op::NoTrans, T::zero(), empty.as_ref(), beta, c)
                            }
                            (false, _) => k::scale(beta, c),
                        }
                        Ok(())
                    })?;
                    continue;
                }
                let ai = op_tile(trans, a, i, l);
                if i == j {
                    let f = w * (c.tile_rows(i) as f64).powi(2) * a.nb() as f64;
                    let mut t = seq
                        .task(if herm { "herk" } else { "syrk" })
                        .priority(p)
                        .on_rank(rank)
                        .flops(f);
                    let ra = t.read(ai);
                    let mut wc = t.read_write(c.tile(i, j));
                    t.submit(move |ctx| {
                        let (a, c) = (ra.get(ctx).as_ref(), wc.get_mut(ctx).as_mut());
                        if herm {
                            k::herk(uplo, trans, alpha.re(), a, beta_l.re(), c);
                        } else {
                            k::syrk(uplo, trans, alpha, a, beta_l, c);
                        }
                        Ok(())
                    })?;
                } else {
                    // C_ij += alpha op(A)_il op(A)_jl^{H or T}
                    let aj = op_tile(trans, a, j, l);
                    let (ta, tb) = (trans, t2(trans));
                    let f = w * super::flops::gemm(
                        c.tile_rows(i) as f64,
                        c.tile_cols(j) as f64,
                        a.nb() as f64,
                    );
                    gemm_tile(seq, p, rank, ta, tb, alpha, ai, aj, beta_l, c.tile(i, j), f)?;
                }
            }
        }
    }
    Ok(())
}

/// Submits `C = alpha op(A) op(A)^H + beta C` on the `uplo` triangle of a Hermitian `C`
/// (real `alpha`, `beta`; `trans` is `NoTrans` or `ConjTrans`).
#[allow(clippy::too_many_arguments)]
pub fn herk_async<T: Scalar>(
    seq: &Sequence,
    uplo: Uplo,
    trans: Op,
    alpha: f64,
    a: &TileMatrix<T>,
    beta: f64,
    c: &TileMatrix<T>,
) -> Result<()> {
    let trans = if trans == Op::Trans {
        Op::ConjTrans
    } else {
        trans
    };
    rank_k_async(
        seq,
        true,
        uplo,
        trans,
        T::from_f64(alpha),
        a,
        T::from_f64(beta),
        c,
    )
}

/// Submits `C = alpha op(A) op(A)^T + beta C` on the `uplo` triangle of a symmetric `C`.
#[allow(clippy::too_many_arguments)]
pub fn syrk_async<T: Scalar>(
    seq: &Sequence,
    uplo: Uplo,
    trans: Op,
    alpha: T,
    a: &TileMatrix<T>,
    beta: T,
    c: &TileMatrix<T>,
) -> Result<()> {
    let trans = if trans == Op::ConjTrans {
        Op::Trans
    } else {
        trans
    };
    rank_k_async(seq, false, uplo, trans, alpha, a, beta, c)
}

/// Hermitian rank-k update on tiles (BLAS `xHERK` semantics).
pub fn herk<T: Scalar>(
    rt: &Runtime,
    uplo: Uplo,
    trans: Op,
    alpha: f64,
    a: &TileMatrix<T>,
    beta: f64,
    c: &TileMatrix<T>,
) -> Result<()> {
    check_matrix(rt, c, "C")?;
    let seq = rt.sequence();
    herk_async(&seq, uplo, trans, alpha, a, beta, c)?;
    seq.wait()
}

/// Symmetric rank-k update on tiles (BLAS `xSYRK` semantics).
pub fn syrk<T: Scalar>(
    rt: &Runtime,
    uplo: Uplo,
    trans: Op,
    alpha: T,
    a: &TileMatrix<T>,
    beta: T,
    c: &TileMatrix<T>,
) -> Result<()> {
    check_matrix(rt, c, "C")?;
    let seq = rt.sequence();
    syrk_async(&seq, uplo, trans, alpha, a, beta, c)?;
    seq.wait()
}
