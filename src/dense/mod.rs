//! # Tiled dense algorithms
//!
//! Each routine comes at three levels:
//! - **asynchronous** (`*_async`): submits the tile tasks into a [`Sequence`] and returns;
//!   errors of the tasks surface from [`Sequence::wait`];
//! - **tiled**: on [`TileMatrix`] arguments, submits and waits;
//! - **LAPACK layout** ([`lapack`] for faer views, [`ndarray`] for ndarray views): converts
//!   to tiles, runs the tiled routine, converts back.
//!
//! The algorithms are submission loops over tiles; lookahead comes from priorities: a task
//! that writes tile `(m, n)` gets priority `-(n * mt + m)`, so work on the next panel column
//! overtakes the trailing update of the current step (the order of a left-looking variant
//! on the critical path, the parallelism of a right-looking one).

mod blas3;
mod generate;
mod geqrf;
mod getrf;
mod getrf_dist;
pub mod lapack;
pub mod ndarray;
mod norm;
mod potrf;

pub use blas3::{gemm, gemm_async, herk, herk_async, syrk, syrk_async, trsm, trsm_async};
pub use generate::{plghe, plghe_on, plgsy, plrnt, plrnt_fill, plrnt_on, random_value};
pub use geqrf::{
    gels, gels_op, geqrf, geqrf_async, qr_tau, qr_workspace, qr_workspace_from_tau, ungqr, unmqr,
    unmqr_async,
};
pub(crate) use getrf::gesv_fused_unchecked;
pub use getrf::{
    finish_pivots, finish_pivots_local, gesv, gesv_fused, getrf, getrf_async, getrf_nopiv,
    getrf_nopiv_async, getrf_rhs_async, getrf_with, getrs, getrs_async, pivot_handles,
    swap_batch_columns, LuOptions, PIVOT_NONE, UPDATE_BLOCK_COLUMNS,
};
pub use norm::{lange, lanhe, lansy};
pub use potrf::{posv, potrf, potrf_async, potrs, potrs_async};

use crate::error::{Error, Result};
use crate::runtime::{Runtime, Sequence};
use crate::tile::TileMatrix;
#[allow(unused_imports)]
use faer::prelude::{Reborrow, ReborrowMut};
use tessera_kernels::Scalar;

/// The tile size picked for an `m x n` problem when none is given (overridden by
/// `TESSERA_NB`): large enough that tile kernels run near their peak, small enough that
/// there are a few tiles per worker for parallelism and lookahead.
pub fn auto_tile_size(m: usize, n: usize, workers: usize) -> usize {
    if let Some(nb) = crate::env::tile_size_override() {
        return nb;
    }
    let k = m.min(n).max(1);
    let workers = workers.max(1);
    // 320 is where the tile kernels peak on the machines measured (gemm flat from 320 to
    // 384, panels cheaper at 320); smaller when that leaves fewer than 4 tile columns per
    // worker, so that lookahead and parallelism have room.
    let mut nb = 320;
    while nb > 64 && k.div_ceil(nb) < 4 * workers {
        nb -= 32;
    }
    nb.min(k)
}

/// Priority of a task that writes tile `(m, n)` of a matrix with `mt` tile rows.
#[inline]
pub(crate) fn prio(m: usize, n: usize, mt: usize) -> i64 {
    -((n * mt.max(1) + m) as i64)
}

/// Checks that `a` can be used by the single-process runtime and has square tiles.
pub(crate) fn check_matrix<T: Scalar>(
    rt: &Runtime,
    a: &TileMatrix<T>,
    name: &'static str,
) -> Result<()> {
    if a.distribution().nranks() > rt.nranks() {
        return Err(Error::invalid(
            0,
            format!(
                "{name} is distributed over {} ranks but the runtime has {}",
                a.distribution().nranks(),
                rt.nranks()
            ),
        ));
    }
    if a.mb() != a.nb() {
        return Err(Error::invalid(
            0,
            format!(
                "{name} must have square tiles (has {} x {})",
                a.mb(),
                a.nb()
            ),
        ));
    }
    Ok(())
}

/// Checks that `b`'s tile rows match `a`'s tile columns (same tile size).
pub(crate) fn check_conformal<T: Scalar>(
    a: &TileMatrix<T>,
    b: &TileMatrix<T>,
    what: &str,
) -> Result<()> {
    if a.nb() != b.mb() {
        return Err(Error::invalid(
            0,
            format!("{what}: tile sizes differ ({} vs {})", a.nb(), b.mb()),
        ));
    }
    Ok(())
}

/// Submits one task per tile that fails with [`Error::NotFinite`] if the tile holds a NaN
/// or an infinity. Factorizations run it first: the check costs one read of the matrix and
/// runs in parallel with the start of the factorization.
pub(crate) fn check_finite_async<T: Scalar>(
    seq: &Sequence,
    a: &TileMatrix<T>,
    arg: &'static str,
) -> Result<()> {
    let (r0, c0) = (a.row_offset(), a.col_offset());
    let (mb, nb) = (a.mb(), a.nb());
    for j in 0..a.nt() {
        for i in 0..a.mt() {
            let mut t = seq
                .task("check_finite")
                .priority(prio(i, j, a.mt()) + 1)
                .on_rank(a.owner(i, j));
            let r = t.read(a.tile(i, j));
            t.submit(
                move |ctx| match tessera_kernels::find_non_finite(r.get(ctx).as_ref()) {
                    None => Ok(()),
                    Some((ii, jj)) => Err(Error::NotFinite {
                        arg,
                        row: r0 + i * mb + ii,
                        col: c0 + j * nb + jj,
                    }),
                },
            )?;
        }
    }
    Ok(())
}

/// Mutable views of the tiles behind a task's write tokens (a column or row of tiles).
pub(crate) fn views<'a, T: Scalar>(
    toks: &'a mut [crate::runtime::WriteToken<crate::tile::Tile<T>>],
    ctx: &'a crate::runtime::TaskContext,
) -> Vec<faer::MatMut<'a, T>> {
    toks.iter_mut().map(|t| t.get_mut(ctx).as_mut()).collect()
}

/// `(rows, columns, column stride)` of the union of `tiles` (top to bottom) when they are
/// adjacent blocks of one column-major matrix: unit row stride, the same columns and column
/// stride, each starting where the one above ends, the stride spanning them all.
fn stack_extent<'a, T: Scalar + 'a>(
    tiles: impl Iterator<Item = faer::MatRef<'a, T>> + Clone,
) -> Option<(usize, usize, isize)> {
    let first = tiles.clone().next()?;
    let (n, cs) = (first.ncols(), first.col_stride());
    let rows: usize = tiles.clone().map(|t| t.nrows()).sum();
    let mut next = first.as_ptr() as usize;
    let adjacent = tiles.into_iter().all(|t| {
        let ok = t.row_stride() == 1
            && t.col_stride() == cs
            && t.ncols() == n
            && t.as_ptr() as usize == next;
        next = next.wrapping_add(t.nrows() * std::mem::size_of::<T>());
        ok
    });
    (adjacent && n > 0 && (n == 1 || cs >= rows as isize)).then_some((rows, n, cs))
}

/// The column of tiles `tiles` (top to bottom) as one view when they are adjacent blocks of
/// one column-major matrix (tiles in place, see
/// [`TileMatrix::from_col_major_in_place`]): same columns and leading dimension, each
/// starting where the one above ends, the leading dimension spanning them all. Otherwise
/// the views are handed back.
pub(crate) fn stacked<T: Scalar>(
    tiles: Vec<faer::MatMut<'_, T>>,
) -> std::result::Result<faer::MatMut<'_, T>, Vec<faer::MatMut<'_, T>>> {
    let Some((rows, n, cs)) = stack_extent(tiles.iter().map(|t| t.as_ref())) else {
        return Err(tiles);
    };
    let ptr = tiles[0].as_ptr_mut();
    drop(tiles);
    // SAFETY: the views were the disjoint, exclusive (mutably borrowed) blocks of rows
    // `0..rows` of one column-major `rows x n` block with column stride `cs >= rows`
    // starting at `ptr`, each beginning where the one above ends; they are consumed here,
    // so the one view of their union is the only one, for the same lifetime.
    Ok(unsafe { faer::MatMut::from_raw_parts_mut(ptr, rows, n, 1, cs) })
}

/// The blocks `cols` (left to right) as one view when they are adjacent column blocks of
/// one column-major matrix: same rows and strides, each starting where the one on its left
/// ends. Otherwise the views are handed back.
pub(crate) fn beside<T: Scalar>(
    cols: Vec<faer::MatMut<'_, T>>,
) -> std::result::Result<faer::MatMut<'_, T>, Vec<faer::MatMut<'_, T>>> {
    let Some(first) = cols.first() else {
        return Err(cols);
    };
    let (m, cs) = (first.nrows(), first.col_stride());
    let n: usize = cols.iter().map(|c| c.ncols()).sum();
    let mut next = first.as_ptr() as usize;
    let adjacent = cols.iter().all(|c| {
        let ok = c.row_stride() == 1
            && c.nrows() == m
            && (c.col_stride() == cs || c.ncols() <= 1)
            && c.as_ptr() as usize == next;
        next = next.wrapping_add(c.ncols() * cs.max(0) as usize * std::mem::size_of::<T>());
        ok
    });
    if !adjacent || m == 0 || cs < m as isize {
        return Err(cols);
    }
    let ptr = cols[0].as_ptr_mut();
    drop(cols);
    // SAFETY: the views were disjoint, exclusive `m x n_i` column-major blocks with column
    // stride `cs >= m`, each starting where the one on its left ends: together they are the
    // `m x n` block at `ptr` with that stride, and they are consumed here, so its one view
    // is the only one, for the same lifetime.
    Ok(unsafe { faer::MatMut::from_raw_parts_mut(ptr, m, n, 1, cs) })
}

/// [`stacked`] for read-only views: the one view of `tiles` when they are adjacent blocks
/// of one column-major matrix, or `None`.
pub(crate) fn stacked_ref<'a, T: Scalar>(
    tiles: &[faer::MatRef<'a, T>],
) -> Option<faer::MatRef<'a, T>> {
    let first = tiles.first()?;
    let (rows, n, cs) = stack_extent(tiles.iter().copied())?;
    // SAFETY: the views are the blocks of rows `0..rows` of one column-major `rows x n`
    // block with column stride `cs >= rows` starting at the first one's pointer, each
    // beginning where the one above ends, all borrowed for `'a`: their union is readable
    // for `'a` as well.
    Some(unsafe { faer::MatRef::from_raw_parts(first.as_ptr(), rows, n, 1, cs) })
}

/// Flop counts (LAPACK working note 41), real arithmetic; multiply by
/// [`tessera_kernels::DType::flop_weight`] for complex.
pub mod flops {
    /// `m x n x k` gemm.
    pub fn gemm(m: f64, n: f64, k: f64) -> f64 {
        2.0 * m * n * k
    }
    /// Cholesky of order n.
    pub fn potrf(n: f64) -> f64 {
        n * n * n / 3.0 + n * n / 2.0 + n / 6.0
    }
    /// LU of an m x n matrix.
    pub fn getrf(m: f64, n: f64) -> f64 {
        if m >= n {
            m * n * n - n * n * n / 3.0 - n * n / 2.0 + 5.0 * n / 6.0
        } else {
            n * m * m - m * m * m / 3.0 - m * m / 2.0 + 5.0 * m / 6.0
        }
    }
    /// Householder QR of an m x n matrix.
    pub fn geqrf(m: f64, n: f64) -> f64 {
        if m >= n {
            2.0 * m * n * n - 2.0 * n * n * n / 3.0 + m * n + n * n + 14.0 * n / 3.0
        } else {
            2.0 * n * m * m - 2.0 * m * m * m / 3.0 + 3.0 * n * m - m * m + 14.0 * m / 3.0
        }
    }
    /// Triangular solve with an n x n triangle and nrhs right-hand sides.
    pub fn trsm(n: f64, nrhs: f64) -> f64 {
        n * n * nrhs
    }
}
