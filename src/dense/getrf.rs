//! Tiled LU: with partial pivoting (getrf), without pivoting (getrf_nopiv), solves.
//!
//! Partial pivoting is LAPACK's: at each column the pivot is searched over the whole
//! remaining column (all tile rows), not within a tile. The panel task takes the whole
//! column of tiles `A[k.., k]`, factors it with the recursive kernel
//! [`tessera_kernels::getrf_panel`], and publishes its pivots in a handle. The row
//! interchanges on the rest of the matrix are separate tasks that read that handle: one
//! task for column `k + 1` (it is on the critical path), then batches of tile columns
//! sized so that each task moves at least [`SWAP_TASK_BYTES`] (see
//! [`swap_batch_columns`]); the interchanges on the columns left of the panel (the `L`
//! factor) are applied at the end, per batch of columns, off the critical path.
//!
//! When a tile column's tiles live on several ranks (grids with `P > 1`), the panel and
//! the interchanges on that column take the distributed form of `getrf_dist` instead: the
//! panel is a group of tasks, one per rank, that reduce the pivot candidates column by
//! column, and the interchanges move only the rows that change place. The arithmetic is
//! the same, so the factors and pivots are bitwise those of one process.

use super::blas3::{gemm_tile, trsm_async, trsm_tile};
use super::getrf_dist;
use super::{check_finite_async, check_matrix, prio, views};
use crate::error::{Error, Result};
use crate::runtime::{Handle, Runtime, Sequence};
use crate::tile::TileMatrix;
use faer::prelude::ReborrowMut;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tessera_kernels::{self as k, Diag, Op, Scalar, Side, Uplo};

/// Marker for "no zero pivot found".
pub const PIVOT_NONE: usize = usize::MAX;

/// Target size of one row-interchange task, in bytes moved.
pub const SWAP_TASK_BYTES: usize = 256 * 1024;

/// Tuning of the LU factorization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct LuOptions {
    /// Bytes a row-interchange task should move at least (default 256 KiB);
    /// the batch of tile columns per task is derived from it.
    pub swap_task_bytes: usize,
    /// Columns one trailing-update task spans on a matrix whose columns are stacked
    /// ([`TileMatrix::columns_stacked`]; default [`UPDATE_BLOCK_COLUMNS`]), rounded up to
    /// whole tiles.
    pub update_block_columns: usize,
}

impl Default for LuOptions {
    fn default() -> Self {
        LuOptions {
            swap_task_bytes: SWAP_TASK_BYTES,
            update_block_columns: UPDATE_BLOCK_COLUMNS,
        }
    }
}

/// How many tile columns one row-interchange task takes so that it moves at least
/// `target_bytes`: `npiv` interchanges of rows `nb` columns wide move `2 npiv nb` elements
/// per tile column.
///
/// ```
/// use tessera::dense::swap_batch_columns;
/// assert_eq!(swap_batch_columns(384, 384, 8, 256 * 1024), 1);
/// assert!(swap_batch_columns(32, 32, 8, 256 * 1024) >= 16);
/// ```
pub fn swap_batch_columns(npiv: usize, nb: usize, elem_bytes: usize, target_bytes: usize) -> usize {
    let per_col = (2 * npiv * nb * elem_bytes).max(1);
    target_bytes.div_ceil(per_col).max(1)
}

/// Submits the tiled LU factorization with partial pivoting `P A = L U` of `a` (m x n).
/// `pivots[k]` receives, once the sequence completes, the pivots of panel `k` relative to
/// the panel's first row; [`getrf`] turns them into LAPACK's global `ipiv`. The smallest
/// 0-based index of an exactly zero pivot is stored in `info` ([`PIVOT_NONE`] if none).
pub fn getrf_async<T: Scalar>(
    seq: &Sequence,
    a: &TileMatrix<T>,
    pivots: &[Handle<Vec<usize>>],
    info: &Arc<AtomicUsize>,
    opts: LuOptions,
) -> Result<()> {
    lu_async(seq, a, None, pivots, info, opts)
}

/// Submits the LU factorization of `a` (square) with `b` factored along, as HPL factors
/// `[A b]`: each panel's row interchanges, its `L11` solve and its `L21` update are
/// applied to `b` as to one more trailing column, so that once the sequence completes `b`
/// holds `L^-1 P b` and `A X = B` is left with the triangular solve `U X = b`
/// ([`gesv_fused`] does both). The interchanges of later panels are not applied to the
/// columns of `L` (nothing needs them: `b` had them when each column of `L` was applied to
/// it), which saves LAPACK's last pass over `L`; the multipliers below the diagonal are
/// therefore not LAPACK's `L` (use [`getrf_async`] when the factors themselves are
/// wanted). `U`, `pivots` and `info` are [`getrf_async`]'s.
pub fn getrf_rhs_async<T: Scalar>(
    seq: &Sequence,
    a: &TileMatrix<T>,
    b: &TileMatrix<T>,
    pivots: &[Handle<Vec<usize>>],
    info: &Arc<AtomicUsize>,
    opts: LuOptions,
) -> Result<()> {
    if a.m() != a.n() || b.m() != a.m() || b.mb() != a.mb() {
        return Err(Error::invalid(
            0,
            format!(
                "getrf with a right-hand side: A is {} x {} (tiles {} x {}), B is {} x {} \
                 (tiles {} x {}); A must be square and B have A's rows and tile rows",
                a.m(),
                a.n(),
                a.mb(),
                a.nb(),
                b.m(),
                b.n(),
                b.mb(),
                b.nb()
            ),
        ));
    }
    lu_async(seq, a, Some(b), pivots, info, opts)
}

/// [`getrf_async`], with `rhs` factored along ([`getrf_rhs_async`]) when given.
fn lu_async<T: Scalar>(
    seq: &Sequence,
    a: &TileMatrix<T>,
    rhs: Option<&TileMatrix<T>>,
    pivots: &[Handle<Vec<usize>>],
    info: &Arc<AtomicUsize>,
    opts: LuOptions,
) -> Result<()> {
    let (mt, nt) = (a.mt(), a.nt());
    let kt = mt.min(nt);
    if pivots.len() < kt {
        return Err(Error::invalid(
            0,
            format!("getrf: {} pivot handles for {kt} panels", pivots.len()),
        ));
    }
    let mb = a.mb();
    let w = T::DTYPE.flop_weight();
    let esz = std::mem::size_of::<T>();
    // One gather buffer for all panels (they are ordered by their data anyway): no page
    // faults on a fresh allocation at every step.
    let scratch: Handle<Vec<T>> = Handle::scratch(Vec::new(), 0);
    // Whether the rows of tile column `j` from tile row `p` down live on several ranks:
    // then panel `p` and its row interchanges on `j` move only what they must
    // (getrf_dist), which needs every pivot position in the top tile (square tiles).
    let square = a.mb() == a.nb();
    let split = |p: usize, j: usize| square && getrf_dist::owners(a, p..mt, &[j]).len() > 1;
    // Columns of L whose rows below the diagonal tile live on several ranks: they take
    // each later panel's interchanges right after it (the others, one batch at the end).
    // With a right-hand side factored along, L takes no later interchanges at all.
    let left = rhs.is_none();
    let spans: Vec<bool> = (0..kt)
        .map(|j| left && j + 1 < mt && split(j + 1, j))
        .collect();
    for (kk, piv_k) in pivots.iter().enumerate().take(kt) {
        let rows: usize = (kk..mt).map(|i| a.tile_rows(i)).sum();
        let cols = a.tile_cols(kk);
        let npiv = rows.min(cols);
        // A tile column on several ranks is factored and interchanged by the members of a
        // group (getrf_dist); on one rank, by one task. Needs every pivot position in the
        // top tile, which square tiles give.
        let rk = a.tile_rows(kk);
        let pf = w * super::flops::getrf(rows as f64, cols as f64);
        if split(kk, kk) {
            getrf_dist::panel(seq, a, kk, piv_k, info, &scratch, prio(kk, kk, mt), pf)?;
        } else {
            // Panel: the whole tile column, pivot search over all its rows.
            let mut t = seq
                .task("getrf_panel")
                .priority(prio(kk, kk, mt))
                .on_rank(a.owner(kk, kk))
                .flops(pf);
            let mut toks: Vec<_> = (kk..mt).map(|i| t.read_write(a.tile(i, kk))).collect();
            let mut wp = t.write(piv_k);
            let mut ws = t.read_write(&scratch);
            let info = info.clone();
            let off = kk * mb;
            t.submit(move |ctx| {
                let piv = wp.get_mut(ctx);
                piv.clear();
                piv.resize(npiv, 0);
                // Tiles in place form one column-major block: factored where it lies;
                // other tiles are gathered into one buffer and scattered back.
                let zero = match super::stacked(views(&mut toks, ctx)) {
                    Ok(col) => k::getrf_panel_view(col, piv),
                    Err(mut tiles) => {
                        let store = ws.get_mut(ctx);
                        store.resize(rows * cols, T::zero());
                        let buf = &mut store[..rows * cols];
                        k::gather_tiles(
                            &tiles,
                            faer::MatMut::from_column_major_slice_mut(buf, rows, cols),
                        );
                        let z = k::getrf_panel(buf, rows, cols, rows, piv);
                        k::scatter_tiles(
                            faer::MatRef::from_column_major_slice(buf, rows, cols),
                            &mut tiles,
                        );
                        z
                    }
                };
                if let Some(z) = zero {
                    info.fetch_min(off + z, Ordering::Relaxed);
                }
                Ok(())
            })?;
        }
        // A matrix whose tile columns are column-major blocks of one array on each rank
        // (in place, or column storage), each column on one rank: one task per block of
        // trailing columns does their interchanges, their solve and their update with one
        // gemm call (tall and wide products run faster than one call per tile, and the
        // interchanged rows are used while still in cache). Column k + 1 is a block of its
        // own (the next panel waits for it only).
        if a.columns_stacked() && (kk + 1..nt).all(|j| !split(kk, j)) {
            let blocks = column_blocks(a, kk, opts.update_block_columns);
            // A rank updating columns without holding L's column receives its tiles as
            // separate buffers: one task per such rank gathers them into one array, read
            // by all its blocks of this step.
            let below: usize = (kk + 1..mt).map(|i| a.tile_rows(i)).sum();
            let lown = a.owner(kk, kk);
            let mut gathered: Vec<(usize, Handle<Pooled<T>>)> = Vec::new();
            for cols in &blocks {
                let r = a.owner(kk, cols[0]);
                if below == 0 || r == lown || gathered.iter().any(|(g, _)| *g == r) {
                    continue;
                }
                let h: Handle<Pooled<T>> = Handle::scratch(Pooled(Vec::new()), below * rk * esz);
                let mut t = seq
                    .task("getrf_gather_l")
                    .priority(prio(kk, kk + 1, mt) + 1)
                    .on_rank(r);
                let rl: Vec<_> = (kk + 1..mt).map(|i| t.read(a.tile(i, kk))).collect();
                let mut wg = t.write(&h);
                // Every step's buffer has the first step's size, so that the buffers of
                // earlier steps, back in the pool, serve the later ones (the size of each
                // step's own would match none: fresh pages at every step).
                let cap = (a.m() - a.tile_rows(0)).max(below) * rk;
                t.submit(move |ctx| {
                    let g = wg.get_mut(ctx);
                    g.0 = crate::tile::pool::take::<T>(cap);
                    let mut dst = faer::MatMut::from_column_major_slice_mut(
                        &mut g.0[..below * rk],
                        below,
                        rk,
                    );
                    let mut r0 = 0;
                    for li in &rl {
                        let li = li.get(ctx).as_ref();
                        dst.rb_mut().subrows_mut(r0, li.nrows()).copy_from(li);
                        r0 += li.nrows();
                    }
                    Ok(())
                })?;
                gathered.push((r, h));
            }
            for cols in blocks {
                let r = a.owner(kk, cols[0]);
                let g = gathered.iter().find(|(o, _)| *o == r).map(|(_, h)| h);
                update_columns(seq, a, kk, cols, piv_k, w, g)?;
            }
        } else {
            // Row interchanges on the trailing columns, batched, each followed by the triangular
            // solve of its tile of row k (U12 = L11^-1 A12): one task per batch, so that the
            // updates of a column wait for one task, not two.
            let batch = swap_batch_columns(npiv, a.nb(), esz, opts.swap_task_bytes);
            // Column k + 1 alone (critical path), then batches of columns with the same owner.
            for cols in owner_batches(a, Some(kk), kk + 1..nt, batch) {
                let f: f64 = cols
                    .iter()
                    .map(|&j| w * (rk * rk * a.tile_cols(j)) as f64)
                    .sum();
                if cols.iter().any(|&j| split(kk, j)) {
                    getrf_dist::swap_columns(
                        seq,
                        a,
                        kk,
                        piv_k,
                        &cols,
                        true,
                        prio(kk, cols[0], mt),
                        f,
                    )?;
                    continue;
                }
                let mut t = seq
                    .task("laswp_trsm")
                    .priority(prio(kk, cols[0], mt))
                    .on_rank(a.owner(kk, cols[0]))
                    .flops(f);
                let rp = t.read(piv_k);
                let rl = t.read(a.tile(kk, kk));
                let mut cols_toks: Vec<Vec<_>> = cols
                    .iter()
                    .map(|&j| (kk..mt).map(|i| t.read_write(a.tile(i, j))).collect())
                    .collect();
                t.submit(move |ctx| {
                    let piv = rp.get(ctx);
                    let l = rl.get(ctx).as_ref();
                    let l = l.get(.., ..l.nrows());
                    for col in cols_toks.iter_mut() {
                        let mut tiles = views(col, ctx);
                        k::laswp_tiles(&mut tiles, mb, 0, piv);
                        solve_unit_lower(l, tiles[0].rb_mut());
                    }
                    Ok(())
                })?;
            }
            for j in kk + 1..nt {
                for m in kk + 1..mt {
                    let f = w * super::flops::gemm(
                        a.tile_rows(m) as f64,
                        a.tile_cols(j) as f64,
                        rk as f64,
                    );
                    gemm_tile(
                        seq,
                        prio(m, j, mt),
                        a.owner(m, j),
                        Op::NoTrans,
                        Op::NoTrans,
                        -T::one(),
                        a.tile(m, kk),
                        a.tile(kk, j),
                        T::one(),
                        a.tile(m, j),
                        f,
                    )?;
                }
            }
        }
        if let Some(b) = rhs {
            update_rhs(seq, a, b, kk, piv_k, w)?;
        }
        // Nothing later reads this panel's L or this step's row of U on a rank that
        // received them (the interchanges at the end write L where it lives): drop those
        // copies once this step's tasks have read them, instead of keeping a copy of the
        // factor on every rank.
        for i in kk..mt {
            seq.flush(a.tile(i, kk))?;
        }
        for j in kk + 1..nt {
            seq.flush(a.tile(kk, j))?;
        }
        // This panel's interchanges on the columns of L that live on several ranks.
        if spans[..kk].contains(&true) {
            let batch = swap_batch_columns(npiv, a.nb(), esz, opts.swap_task_bytes);
            for cols in owner_batches(a, Some(kk), 0..kk, batch) {
                let cols: Vec<usize> = cols.into_iter().filter(|&j| spans[j]).collect();
                if !cols.is_empty() {
                    getrf_dist::swap_columns(seq, a, kk, piv_k, &cols, false, i64::MIN / 2, 0.0)?;
                }
            }
        }
    }
    // Interchanges of later panels on the columns of L, batched over columns of one owner
    // (the columns on several ranks had theirs panel by panel, above).
    if left && kt > 1 {
        let batch =
            swap_batch_columns(a.tile_cols(0) * (kt - 1), a.nb(), esz, opts.swap_task_bytes);
        for cols in owner_batches(a, None, 0..kt - 1, batch) {
            let cols: Vec<usize> = cols.into_iter().filter(|&j| !spans[j]).collect();
            let Some(&j0) = cols.first() else { continue };
            let mut t = seq
                .task("laswp_left")
                .priority(i64::MIN / 2)
                .on_rank(a.owner(j0, j0));
            // Read the pivots of every panel after j0.
            let pivs: Vec<_> = (j0 + 1..kt).map(|p| t.read(&pivots[p])).collect();
            let mut cols_toks: Vec<(usize, Vec<_>)> = cols
                .iter()
                .map(|&j| (j, (j + 1..mt).map(|i| t.read_write(a.tile(i, j))).collect()))
                .collect();
            t.submit(move |ctx| {
                for (j, col) in cols_toks.iter_mut() {
                    let j = *j;
                    let mut tiles = views(col, ctx);
                    for p in j + 1..kt {
                        // Rows of panel p, counted from tile row j + 1.
                        let shift = (p - j - 1) * mb;
                        let piv: Vec<usize> = pivs[p - j0 - 1]
                            .get(ctx)
                            .iter()
                            .map(|&r| r + shift)
                            .collect();
                        k::laswp_tiles(&mut tiles, mb, shift, &piv);
                    }
                }
                Ok(())
            })?;
        }
    }
    Ok(())
}

/// Columns an update task of a matrix with [`TileMatrix::columns_stacked`] should span:
/// about this many (whole tiles, at least one).
pub const UPDATE_BLOCK_COLUMNS: usize = 1024;

/// The blocks of trailing columns updated by panel `kk`, one task each: column `kk + 1`
/// alone, then the others grouped by owner into blocks of `columns` (whole tiles) aligned
/// the same way at every step (a block's task waits for one task of the step before, not
/// two), or single columns once the trailing matrix is narrow.
fn column_blocks<T: Scalar>(a: &TileMatrix<T>, kk: usize, columns: usize) -> Vec<Vec<usize>> {
    let nt = a.nt();
    // Narrow blocks near the end (fewer than four wide blocks' worth of columns left),
    // where wide ones would leave workers idle.
    let wide = columns.div_ceil(a.nb()).max(1);
    let width = if nt.saturating_sub(kk + 2) >= 4 * wide {
        wide
    } else {
        1
    };
    let mut out: Vec<Vec<usize>> = Vec::new();
    if kk + 1 < nt {
        out.push(vec![kk + 1]);
    }
    // Each column's position among its owner's columns.
    let mut seen: Vec<(usize, usize)> = Vec::new();
    let mut open: Vec<((usize, usize), Vec<usize>)> = Vec::new();
    for j in 0..nt {
        let o = a.owner(kk, j);
        let local = match seen.iter_mut().find(|(r, _)| *r == o) {
            Some((_, c)) => {
                *c += 1;
                *c - 1
            }
            None => {
                seen.push((o, 1));
                0
            }
        };
        if j < kk + 2 {
            continue;
        }
        let key = (o, local / width);
        match open.iter_mut().find(|(k, _)| *k == key) {
            Some((_, cols)) => cols.push(j),
            None => open.push((key, vec![j])),
        }
    }
    out.extend(open.into_iter().map(|(_, c)| c));
    out
}

/// Submits the update of tile columns `cols` (all on one rank) by panel `kk` as one task:
/// the panel's row interchanges on rows `kk..` of the columns, `U = L11^-1 A(kk, cols)`,
/// and `A(kk+1.., cols) -= L21 U`, each as one kernel call over the whole block when its
/// tiles are adjacent blocks of one column-major array and `L21` is one matrix (its tiles
/// in place, or `gathered` for this rank), column by column and tile by tile otherwise.
fn update_columns<T: Scalar>(
    seq: &Sequence,
    a: &TileMatrix<T>,
    kk: usize,
    cols: Vec<usize>,
    piv_k: &Handle<Vec<usize>>,
    w: f64,
    gathered: Option<&Handle<Pooled<T>>>,
) -> Result<()> {
    let mt = a.mt();
    let mb = a.mb();
    let rk = a.tile_rows(kk);
    let width: usize = cols.iter().map(|&j| a.tile_cols(j)).sum();
    let below: usize = (kk + 1..mt).map(|i| a.tile_rows(i)).sum();
    let f =
        w * ((rk * rk * width) as f64 + super::flops::gemm(below as f64, width as f64, rk as f64));
    // Column k + 1 is on the critical path (the next panel waits for it): the priority of
    // its tile. The other blocks rank below every panel and column k + 1, in step order
    // (then left to right): a block left behind would otherwise hold back the chain of
    // its own updates at later steps, all at the end.
    let nt = a.nt();
    let priority = if cols[0] == kk + 1 {
        prio(kk, cols[0], mt)
    } else {
        -((mt * nt + nt + kk * nt + cols[0]) as i64)
    };
    let mut t = seq
        .task("getrf_update")
        .priority(priority)
        .on_rank(a.owner(kk, cols[0]))
        .flops(f);
    let rp = t.read(piv_k);
    let rl: Vec<_> = (kk..mt).map(|i| t.read(a.tile(i, kk))).collect();
    let rg = gathered.map(|h| t.read(h));
    let mut toks: Vec<Vec<_>> = cols
        .iter()
        .map(|&j| (kk..mt).map(|i| t.read_write(a.tile(i, j))).collect())
        .collect();
    t.submit(move |ctx| {
        let piv = rp.get(ctx);
        let l: Vec<faer::MatRef<'_, T>> = rl.iter().map(|r| r.get(ctx).as_ref()).collect();
        let l11 = l[0].get(.., ..l[0].nrows());
        // L21 as one matrix: gathered for this rank, or its tiles in place.
        let l21 = match &rg {
            Some(g) => Some(faer::MatRef::from_column_major_slice(
                &g.get(ctx).0[..below * rk],
                below,
                rk,
            )),
            None => super::stacked_ref(&l[1..]),
        };
        // The whole block as one view when its columns are adjacent blocks in place.
        let whole = if below == 0 || l21.is_some() {
            toks.iter_mut()
                .map(|c| super::stacked(views(c, ctx)).ok())
                .collect::<Option<Vec<_>>>()
                .and_then(|c| super::beside(c).ok())
        } else {
            None
        };
        if let Some(mut c) = whole {
            let rows = c.nrows().max(1);
            k::laswp_tiles(std::slice::from_mut(&mut c), rows, 0, piv);
            let (mut u, c21) = c.split_at_row_mut(rk);
            solve_unit_lower(l11, u.rb_mut());
            if let Some(l21) = l21 {
                k::gemm(
                    Op::NoTrans,
                    Op::NoTrans,
                    -T::one(),
                    l21,
                    u.as_ref(),
                    T::one(),
                    c21,
                );
            }
            return Ok(());
        }
        // Column by column, tile by tile (the tiles are not one block).
        for col in toks.iter_mut() {
            update_tile_column(views(col, ctx), &l, mb, piv);
        }
        Ok(())
    })
}

/// Panel `k`'s step on one column of tiles `c` (its rows `k..`), tile by tile: the
/// interchanges `piv`, `c_k = L11^-1 c_k` and `c_i -= L_ik c_k`, with `l` the panel's
/// tiles from the diagonal one down (as many as `c` has tiles below `c_k` and more are
/// ignored; fewer leave the rest of `c` to the caller).
fn update_tile_column<T: Scalar>(
    mut c: Vec<faer::MatMut<'_, T>>,
    l: &[faer::MatRef<'_, T>],
    mb: usize,
    piv: &[usize],
) {
    let l11 = l[0].get(.., ..l[0].nrows());
    k::laswp_tiles(&mut c, mb, 0, piv);
    let mut c21 = c.split_off(1);
    let mut u = c.pop().expect("the diagonal row's tile");
    solve_unit_lower(l11, u.rb_mut());
    for (li, ci) in l[1..].iter().zip(c21.iter_mut()) {
        k::gemm(
            Op::NoTrans,
            Op::NoTrans,
            -T::one(),
            *li,
            u.as_ref(),
            T::one(),
            ci.rb_mut(),
        );
    }
}

/// Submits what panel `kk` does to the right-hand side `b` factored along
/// ([`getrf_rhs_async`]): per tile column of `b`, the panel's interchanges on its rows
/// `kk..`, `b_k = L11^-1 b_k` and `b_i -= L_ik b_k` below. One task when the rows live on
/// one rank (it reads the column of L, which that rank receives anyway for its own
/// trailing columns); otherwise the interchanges and the solve in one task and each
/// product on the rank of its rows (the tiles of `b` are small, those of L are not).
fn update_rhs<T: Scalar>(
    seq: &Sequence,
    a: &TileMatrix<T>,
    b: &TileMatrix<T>,
    kk: usize,
    piv_k: &Handle<Vec<usize>>,
    w: f64,
) -> Result<()> {
    let (mt, nt) = (a.mt(), a.nt());
    let mb = a.mb();
    let rk = a.tile_rows(kk);
    // After every update of this step: the solve with U needs b only at the end.
    let priority = -((mt * nt + nt + kk * nt + nt) as i64);
    for j in 0..b.nt() {
        let r = b.owner(kk, j);
        let one_rank = (kk + 1..mt).all(|i| b.owner(i, j) == r);
        let nrhs = b.tile_cols(j);
        let below: usize = (kk + 1..mt).map(|i| a.tile_rows(i)).sum();
        let mut f = w * (rk * rk * nrhs) as f64;
        if one_rank {
            f += w * super::flops::gemm(below as f64, nrhs as f64, rk as f64);
        }
        let mut t = seq.task("getrf_rhs").priority(priority).on_rank(r).flops(f);
        let rp = t.read(piv_k);
        let last = if one_rank { mt } else { kk + 1 };
        let rl: Vec<_> = (kk..last).map(|i| t.read(a.tile(i, kk))).collect();
        let mut toks: Vec<_> = (kk..mt).map(|i| t.read_write(b.tile(i, j))).collect();
        t.submit(move |ctx| {
            let l: Vec<faer::MatRef<'_, T>> = rl.iter().map(|r| r.get(ctx).as_ref()).collect();
            update_tile_column(views(&mut toks, ctx), &l, mb, rp.get(ctx));
            Ok(())
        })?;
        if !one_rank {
            for i in kk + 1..mt {
                let f = w * super::flops::gemm(a.tile_rows(i) as f64, nrhs as f64, rk as f64);
                gemm_tile(
                    seq,
                    priority,
                    b.owner(i, j),
                    Op::NoTrans,
                    Op::NoTrans,
                    -T::one(),
                    a.tile(i, kk),
                    b.tile(kk, j),
                    T::one(),
                    b.tile(i, j),
                    f,
                )?;
            }
        }
    }
    Ok(())
}

/// A buffer from the tile-buffer pool, given back when dropped.
struct Pooled<T: Scalar>(Vec<T>);

impl<T: Scalar> Drop for Pooled<T> {
    fn drop(&mut self) {
        crate::tile::pool::give(std::mem::take(&mut self.0));
    }
}

/// `B = L^-1 B` with the unit lower triangle of `l` (LU's `U12 = L11^-1 A12`).
pub(super) fn solve_unit_lower<T: Scalar>(l: faer::MatRef<'_, T>, b: faer::MatMut<'_, T>) {
    k::trsm(
        Side::Left,
        Uplo::Lower,
        Op::NoTrans,
        Diag::Unit,
        T::one(),
        l,
        b,
    );
}

/// Splits the tile columns `cols` into row-interchange tasks: the first column alone (it
/// is on the critical path), then batches of at most `batch` columns that have the same
/// owner in tile row `row` (`None`: on the diagonal), so that a task's columns live on
/// one rank; with one rank the batches are runs of consecutive columns.
fn owner_batches<T: Scalar>(
    a: &TileMatrix<T>,
    row: Option<usize>,
    cols: std::ops::Range<usize>,
    batch: usize,
) -> Vec<Vec<usize>> {
    let mut out = Vec::new();
    let mut open: Vec<(usize, Vec<usize>)> = Vec::new();
    for j in cols.clone() {
        if j == cols.start {
            out.push(vec![j]);
            continue;
        }
        let o = a.owner(row.unwrap_or(j), j);
        let pos = match open.iter().position(|(r, _)| *r == o) {
            Some(p) => p,
            None => {
                open.push((o, Vec::new()));
                open.len() - 1
            }
        };
        open[pos].1.push(j);
        if open[pos].1.len() >= batch {
            out.push(open.remove(pos).1);
        }
    }
    out.extend(open.into_iter().map(|(_, c)| c));
    out.sort_by_key(|c| c[0]);
    out
}

/// LU factorization with partial pivoting of a tile matrix (LAPACK `xGETRF`):
/// `A = P L U`, L unit lower triangular, U upper triangular, both in place. `ipiv`
/// (length `min(m, n)`) receives LAPACK's pivots, 0-based: row `i` was interchanged with
/// row `ipiv[i]`, in order.
///
/// If some `U(i, i)` is exactly zero the factorization is still completed (as in LAPACK)
/// and [`Error::Singular`] reports the first such `i` (1-based); `ipiv` is filled too.
///
/// ```
/// use tessera::{dense, runtime::Runtime};
/// let rt = Runtime::with_default();
/// let a = dense::plrnt::<f64>(&rt, 300, 300, 64, 3).unwrap();
/// let mut ipiv = vec![0; 300];
/// dense::getrf(&rt, &a, &mut ipiv).unwrap();
/// ```
pub fn getrf<T: Scalar>(rt: &Runtime, a: &TileMatrix<T>, ipiv: &mut [usize]) -> Result<()> {
    getrf_with(rt, a, ipiv, LuOptions::default())
}

/// [`getrf`] with explicit options.
pub fn getrf_with<T: Scalar>(
    rt: &Runtime,
    a: &TileMatrix<T>,
    ipiv: &mut [usize],
    opts: LuOptions,
) -> Result<()> {
    check_matrix(rt, a, "A")?;
    let kmin = a.m().min(a.n());
    if ipiv.len() < kmin {
        return Err(Error::invalid(
            0,
            format!("getrf: ipiv has {} entries, needs {kmin}", ipiv.len()),
        ));
    }
    let (pivots, info) = pivot_handles(a);
    let seq = rt.sequence();
    check_finite_async(&seq, a, "A")?;
    getrf_async(&seq, a, &pivots, &info, opts)?;
    seq.wait()?;
    drop(seq);
    finish_pivots(rt, a, pivots, &info, ipiv)
}

/// The per-panel pivot handles and the zero-pivot record [`getrf_async`] fills.
pub fn pivot_handles<T: Scalar>(a: &TileMatrix<T>) -> (Vec<Handle<Vec<usize>>>, Arc<AtomicUsize>) {
    let kt = a.mt().min(a.nt());
    let pivots = (0..kt).map(|_| Handle::new_wire(Vec::new(), 0)).collect();
    (pivots, Arc::new(AtomicUsize::new(PIVOT_NONE)))
}

/// After the sequence of [`getrf_async`] has completed: LAPACK's global 0-based `ipiv`
/// from the per-panel pivots, and [`Error::Singular`] for a zero pivot. On several ranks
/// it is a collective: the pivots and the zero-pivot record reach every rank.
pub fn finish_pivots<T: Scalar>(
    rt: &Runtime,
    a: &TileMatrix<T>,
    pivots: Vec<Handle<Vec<usize>>>,
    info: &AtomicUsize,
    ipiv: &mut [usize],
) -> Result<()> {
    if rt.nranks() > 1 {
        // A task on every rank that reads every panel's pivots brings them everywhere.
        let seq = rt.sequence();
        let mut t = seq.task("pivots");
        let _toks: Vec<_> = pivots.iter().map(|p| t.read(p)).collect();
        t.submit(|_| Ok(()))?;
        seq.wait()?;
    }
    let zero = rt.agree_min(info.load(Ordering::Relaxed) as u64) as usize;
    info.store(zero, Ordering::Relaxed);
    finish_pivots_local(a, pivots, info, ipiv)
}

/// [`finish_pivots`] for a single-process run (no collective): the pivots and `info` are
/// read where they are.
pub fn finish_pivots_local<T: Scalar>(
    a: &TileMatrix<T>,
    pivots: Vec<Handle<Vec<usize>>>,
    info: &AtomicUsize,
    ipiv: &mut [usize],
) -> Result<()> {
    let zero = info.load(Ordering::Relaxed);
    let mut pos = 0;
    for (kk, p) in pivots.into_iter().enumerate() {
        let v = p
            .into_inner()
            .map_err(|_| Error::Runtime("pivot handle still shared".into()))?;
        for r in v {
            ipiv[pos] = kk * a.mb() + r;
            pos += 1;
        }
    }
    debug_assert_eq!(pos, a.m().min(a.n()));
    match zero {
        PIVOT_NONE => Ok(()),
        z => Err(Error::Singular { index: z + 1 }),
    }
}

/// Submits the tiled LU factorization without pivoting `A = L U` (for diagonally dominant
/// matrices, and to measure what pivoting costs). Zero pivots are recorded in `info`.
pub fn getrf_nopiv_async<T: Scalar>(
    seq: &Sequence,
    a: &TileMatrix<T>,
    info: &Arc<AtomicUsize>,
) -> Result<()> {
    let (mt, nt) = (a.mt(), a.nt());
    let kt = mt.min(nt);
    let w = T::DTYPE.flop_weight();
    for kk in 0..kt {
        {
            let (r, c) = (a.tile_rows(kk) as f64, a.tile_cols(kk) as f64);
            let mut t = seq
                .task("getrf_nopiv")
                .priority(prio(kk, kk, mt))
                .on_rank(a.owner(kk, kk))
                .flops(w * super::flops::getrf(r, c));
            let mut wa = t.read_write(a.tile(kk, kk));
            let info = info.clone();
            let off = kk * a.mb();
            t.submit(move |ctx| {
                if let Some(z) = k::getrf_nopiv(wa.get_mut(ctx).as_mut()) {
                    info.fetch_min(off + z, Ordering::Relaxed);
                }
                Ok(())
            })?;
        }
        let rk = a.tile_rows(kk) as f64;
        for m in kk + 1..mt {
            let f = w * rk * rk * a.tile_rows(m) as f64;
            trsm_tile(
                seq,
                prio(m, kk, mt),
                a.owner(m, kk),
                Side::Right,
                Uplo::Upper,
                Op::NoTrans,
                Diag::NonUnit,
                T::one(),
                a.tile(kk, kk),
                a.tile(m, kk),
                f,
            )?;
        }
        for n in kk + 1..nt {
            let f = w * rk * rk * a.tile_cols(n) as f64;
            trsm_tile(
                seq,
                prio(kk, n, mt),
                a.owner(kk, n),
                Side::Left,
                Uplo::Lower,
                Op::NoTrans,
                Diag::Unit,
                T::one(),
                a.tile(kk, kk),
                a.tile(kk, n),
                f,
            )?;
            for m in kk + 1..mt {
                let f = w * super::flops::gemm(a.tile_rows(m) as f64, a.tile_cols(n) as f64, rk);
                gemm_tile(
                    seq,
                    prio(m, n, mt),
                    a.owner(m, n),
                    Op::NoTrans,
                    Op::NoTrans,
                    -T::one(),
                    a.tile(m, kk),
                    a.tile(kk, n),
                    T::one(),
                    a.tile(m, n),
                    f,
                )?;
            }
        }
    }
    Ok(())
}

/// LU factorization without pivoting of a square-tiled matrix. Unstable unless the
/// matrix is, e.g., diagonally dominant; [`Error::Singular`] reports an exactly zero pivot.
pub fn getrf_nopiv<T: Scalar>(rt: &Runtime, a: &TileMatrix<T>) -> Result<()> {
    check_matrix(rt, a, "A")?;
    if a.m() != a.n() {
        return Err(Error::invalid(0, "getrf_nopiv: A must be square"));
    }
    let info = Arc::new(AtomicUsize::new(PIVOT_NONE));
    let seq = rt.sequence();
    check_finite_async(&seq, a, "A")?;
    getrf_nopiv_async(&seq, a, &info)?;
    seq.wait()?;
    match rt.agree_min(info.load(Ordering::Relaxed) as u64) as usize {
        PIVOT_NONE => Ok(()),
        z => Err(Error::Singular { index: z + 1 }),
    }
}

/// Submits the row interchanges `ipiv` (0-based, LAPACK order) on every tile column of `b`,
/// forward or backward.
fn laswp_async<T: Scalar>(
    seq: &Sequence,
    b: &TileMatrix<T>,
    ipiv: Arc<Vec<usize>>,
    forward: bool,
) -> Result<()> {
    let mb = b.mb();
    for j in 0..b.nt() {
        let mut t = seq
            .task("laswp")
            .priority(prio(0, j, b.mt()))
            .on_rank(b.owner(0, j));
        let mut toks: Vec<_> = (0..b.mt()).map(|i| t.read_write(b.tile(i, j))).collect();
        let ipiv = ipiv.clone();
        t.submit(move |ctx| {
            let mut tiles = views(&mut toks, ctx);
            if forward {
                k::laswp_tiles(&mut tiles, mb, 0, &ipiv);
            } else {
                for (r, &p) in ipiv.iter().enumerate().rev() {
                    k::laswp_tiles(&mut tiles, mb, r, &[p]);
                }
            }
            Ok(())
        })?;
    }
    Ok(())
}

/// Solves `op(A) X = B` with the factors of [`getrf`] (LAPACK `xGETRS`); `B` is overwritten.
pub fn getrs<T: Scalar>(
    rt: &Runtime,
    trans: Op,
    a: &TileMatrix<T>,
    ipiv: &[usize],
    b: &TileMatrix<T>,
) -> Result<()> {
    check_matrix(rt, a, "A")?;
    check_matrix(rt, b, "B")?;
    if a.m() != a.n() || b.m() != a.m() || ipiv.len() < a.m() {
        return Err(Error::invalid(
            0,
            format!(
                "getrs: A is {} x {}, B is {} x {}, ipiv has {}",
                a.m(),
                a.n(),
                b.m(),
                b.n(),
                ipiv.len()
            ),
        ));
    }
    if let Some(&bad) = ipiv[..a.m()].iter().find(|&&p| p >= a.m()) {
        return Err(Error::invalid(
            0,
            format!("getrs: pivot {bad} out of range"),
        ));
    }
    let seq = rt.sequence();
    getrs_async(&seq, trans, a, &ipiv[..a.m()], b)?;
    seq.wait()
}

/// Submits the solve `op(A) X = B` with LU factors and LAPACK's 0-based `ipiv` (checked by
/// [`getrs`]; here only its length is).
pub fn getrs_async<T: Scalar>(
    seq: &Sequence,
    trans: Op,
    a: &TileMatrix<T>,
    ipiv: &[usize],
    b: &TileMatrix<T>,
) -> Result<()> {
    if ipiv.len() < a.m() || a.m() != a.n() || b.m() != a.m() {
        return Err(Error::invalid(0, "getrs: A, B and ipiv do not conform"));
    }
    let ipiv = Arc::new(ipiv[..a.m()].to_vec());
    if trans == Op::NoTrans {
        laswp_async(seq, b, ipiv, true)?;
        trsm_async(
            seq,
            Side::Left,
            Uplo::Lower,
            Op::NoTrans,
            Diag::Unit,
            T::one(),
            a,
            b,
        )?;
        trsm_async(
            seq,
            Side::Left,
            Uplo::Upper,
            Op::NoTrans,
            Diag::NonUnit,
            T::one(),
            a,
            b,
        )?;
    } else {
        trsm_async(
            seq,
            Side::Left,
            Uplo::Upper,
            trans,
            Diag::NonUnit,
            T::one(),
            a,
            b,
        )?;
        trsm_async(
            seq,
            Side::Left,
            Uplo::Lower,
            trans,
            Diag::Unit,
            T::one(),
            a,
            b,
        )?;
        laswp_async(seq, b, ipiv, false)?;
    }
    Ok(())
}

/// Solves `A X = B` by LU with partial pivoting the way HPL does: `B` is factored along
/// with `A` ([`getrf_rhs_async`]), which leaves the triangular solve with `U` only (no
/// solve with `L`, no last pass of interchanges over `L`). Faster than [`gesv`] when the
/// solution is all that is wanted; `ipiv` is LAPACK's and `U` is in `A`'s upper triangle,
/// but the multipliers below the diagonal are not LAPACK's `L` (each column's rows are in
/// the order of its own step). A singular `U` gives [`Error::Singular`]; `B` then holds
/// `L^-1 P B`, not a solution.
pub fn gesv_fused<T: Scalar>(
    rt: &Runtime,
    a: &TileMatrix<T>,
    ipiv: &mut [usize],
    b: &TileMatrix<T>,
) -> Result<()> {
    check_matrix(rt, a, "A")?;
    check_matrix(rt, b, "B")?;
    if a.m() != a.n() || b.m() != a.m() || b.mb() != a.mb() || ipiv.len() < a.m() {
        return Err(Error::invalid(
            0,
            format!(
                "gesv_fused: A is {} x {} (tiles {} x {}), B is {} x {} (tiles {} x {}), ipiv \
                 has {} entries; A must be square, B have A's rows and tile rows",
                a.m(),
                a.n(),
                a.mb(),
                a.nb(),
                b.m(),
                b.n(),
                b.mb(),
                b.nb(),
                ipiv.len()
            ),
        ));
    }
    if a.m() == 0 {
        return Ok(());
    }
    {
        let seq = rt.sequence();
        check_finite_async(&seq, a, "A")?;
        check_finite_async(&seq, b, "B")?;
        seq.wait()?;
    }
    gesv_fused_unchecked(rt, a, ipiv, b)
}

/// [`gesv_fused`] without the argument checks and the scan for NaN and infinity (the
/// caller knows the input is sound: `tessera-hpl`, as HPL, times the solve alone).
pub(crate) fn gesv_fused_unchecked<T: Scalar>(
    rt: &Runtime,
    a: &TileMatrix<T>,
    ipiv: &mut [usize],
    b: &TileMatrix<T>,
) -> Result<()> {
    let (pivots, info) = pivot_handles(a);
    let seq = rt.sequence();
    getrf_rhs_async(&seq, a, b, &pivots, &info, LuOptions::default())?;
    seq.wait()?;
    drop(seq);
    finish_pivots(rt, a, pivots, &info, ipiv)?;
    let seq = rt.sequence();
    trsm_async(
        &seq,
        Side::Left,
        Uplo::Upper,
        Op::NoTrans,
        Diag::NonUnit,
        T::one(),
        a,
        b,
    )?;
    seq.wait()
}

/// Solves `A X = B` by LU with partial pivoting (LAPACK `xGESV`): `A` holds the factors,
/// `ipiv` the pivots and `B` the solution on return. A singular `U` gives
/// [`Error::Singular`] and `B` is left untouched.
pub fn gesv<T: Scalar>(
    rt: &Runtime,
    a: &TileMatrix<T>,
    ipiv: &mut [usize],
    b: &TileMatrix<T>,
) -> Result<()> {
    if a.m() != a.n() || b.m() != a.m() {
        return Err(Error::invalid(
            0,
            format!(
                "gesv: A is {} x {}, B is {} x {}",
                a.m(),
                a.n(),
                b.m(),
                b.n()
            ),
        ));
    }
    check_matrix(rt, b, "B")?;
    {
        let seq = rt.sequence();
        check_finite_async(&seq, b, "B")?;
        seq.wait()?;
    }
    getrf(rt, a, ipiv)?;
    getrs(rt, Op::NoTrans, a, ipiv, b)
}
