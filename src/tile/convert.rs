//! Conversion between LAPACK column-major layout and tiles, and tile-wise copies. Every
//! copy runs as runtime tasks (one per tile, in parallel on the workers), ordered after the
//! tasks already submitted on the same tiles.

use super::{BlockCyclic2D, Tile, TileMatrix};
use crate::error::{Error, Result};
use crate::runtime::Handle;
use crate::runtime::{Runtime, Sequence};
#[allow(unused_imports)]
use faer::prelude::{Reborrow, ReborrowMut};
use faer::{MatMut, MatRef};
use std::sync::Arc;
use tessera_kernels::{Scalar, Uplo};

/// Whether tile `(i, j)` meets the triangle `part` (every tile when there is none).
fn in_part(part: Option<Uplo>, i: usize, j: usize) -> bool {
    match part {
        None => true,
        Some(Uplo::Lower) => i >= j,
        Some(Uplo::Upper) => i <= j,
    }
}

fn check_part(part: Option<Uplo>, mb: usize, nb: usize) -> Result<()> {
    if part.is_some() && mb != nb {
        return Err(Error::invalid(
            0,
            format!("a triangle needs square tiles (got {mb} x {nb})"),
        ));
    }
    Ok(())
}

/// A borrowed strided matrix smuggled into tasks that the submitting call waits for.
#[derive(Clone, Copy)]
struct RawView<T> {
    ptr: *mut T,
    rs: isize,
    cs: isize,
}
// SAFETY: a RawView is only dereferenced by tasks of a sequence that the creating call
// waits for before the borrow it came from ends; tasks touch disjoint regions.
unsafe impl<T: Send> Send for RawView<T> {}

impl<T> RawView<T> {
    /// The `m x n` block at `(r0, c0)`, read-only.
    ///
    /// # Safety
    /// The block lies inside the borrowed matrix, which outlives the returned view.
    unsafe fn block<'a>(self, r0: usize, c0: usize, m: usize, n: usize) -> MatRef<'a, T> {
        // SAFETY: the caller's contract.
        unsafe {
            MatRef::from_raw_parts(
                self.ptr
                    .offset(r0 as isize * self.rs + c0 as isize * self.cs)
                    as *const T,
                m,
                n,
                self.rs,
                self.cs,
            )
        }
    }

    /// The `m x n` block at `(r0, c0)`, writable.
    ///
    /// # Safety
    /// As [`RawView::block`], and no other view of the block is alive meanwhile.
    unsafe fn block_mut<'a>(self, r0: usize, c0: usize, m: usize, n: usize) -> MatMut<'a, T> {
        // SAFETY: the caller's contract.
        unsafe {
            MatMut::from_raw_parts_mut(
                self.ptr
                    .offset(r0 as isize * self.rs + c0 as isize * self.cs),
                m,
                n,
                self.rs,
                self.cs,
            )
        }
    }
}

impl<T: Scalar> TileMatrix<T> {
    /// The single-process tile matrix over the column-major matrix `a`, **in place**: tile
    /// `(i, j)` is the block of `a` at `(i mb, j nb)`, read and written where it lies, so
    /// nothing is copied in or out (Chameleon's LAPACK-layout descriptors; the
    /// LAPACK-layout routines of [`crate::dense::lapack`] and the C interface use it).
    /// Returns `None` when `a` is not column-major (unit row stride, columns that do not
    /// overlap); copy it with [`TileMatrix::from_col_major_async`] then.
    ///
    /// Tiles in place are views with `a`'s leading dimension; they never travel between
    /// ranks (the distribution is the single process's).
    ///
    /// # Safety
    /// The memory behind `a` must stay valid, and be neither read nor written other than
    /// through the returned matrix, until the matrix, every view of it and every task that
    /// uses it are gone: submit, wait for the sequence (or drop it), drop the matrix, and
    /// only then touch `a` again.
    pub unsafe fn from_col_major_in_place(
        a: MatMut<'_, T>,
        mb: usize,
        nb: usize,
    ) -> Result<Option<Self>> {
        let (m, n) = (a.nrows(), a.ncols());
        let (rs, cs) = (a.row_stride(), a.col_stride());
        let ptr = a.as_ptr_mut();
        // SAFETY: the caller's contract.
        unsafe { Self::in_place(ptr, m, n, rs, cs, mb, nb) }
    }

    /// As [`TileMatrix::from_col_major_in_place`] for a matrix the tasks only read.
    ///
    /// # Safety
    /// As [`TileMatrix::from_col_major_in_place`], except that `a` may be read elsewhere
    /// meanwhile; no task may write the returned matrix.
    pub(crate) unsafe fn from_col_major_in_place_read(
        a: MatRef<'_, T>,
        mb: usize,
        nb: usize,
    ) -> Result<Option<Self>> {
        let (m, n) = (a.nrows(), a.ncols());
        let (rs, cs) = (a.row_stride(), a.col_stride());
        // SAFETY: the caller's contract (the pointer is only read through).
        unsafe { Self::in_place(a.as_ptr() as *mut T, m, n, rs, cs, mb, nb) }
    }

    /// # Safety
    /// As [`TileMatrix::from_col_major_in_place`], for the `m x n` matrix at `ptr` with
    /// strides `rs`, `cs`.
    unsafe fn in_place(
        ptr: *mut T,
        m: usize,
        n: usize,
        rs: isize,
        cs: isize,
        mb: usize,
        nb: usize,
    ) -> Result<Option<Self>> {
        Self::check_tile_size(mb, nb)?;
        let empty = m == 0 || n == 0;
        if !empty && (rs != 1 || (n > 1 && cs < m as isize)) {
            return Ok(None);
        }
        let ld = if n > 1 { cs as usize } else { m.max(1) };
        Ok(Some(
            Self::from_handles(
                m,
                n,
                mb,
                nb,
                Arc::new(BlockCyclic2D::single()),
                |i, j, r, c| {
                    // SAFETY: tile (i, j) starts inside the matrix (r, c > 0), so the offset
                    // stays in its allocation and the pointer is not null.
                    let t = unsafe {
                        let p = std::ptr::NonNull::new_unchecked(ptr.add(i * mb + j * nb * ld));
                        Tile::borrowed(p, r, c, ld)
                    };
                    Handle::new_wire(t, r * c * std::mem::size_of::<T>())
                },
            )
            .with_stacked_columns(),
        ))
    }

    /// Copies a column-major matrix (any strides) into a new single-process tile matrix;
    /// the copy runs in parallel on the runtime's workers.
    pub fn from_col_major(rt: &Runtime, a: MatRef<'_, T>, mb: usize, nb: usize) -> Result<Self> {
        let seq = rt.sequence();
        // SAFETY: `a` is borrowed until this function returns, after the wait below.
        let out = unsafe { Self::from_col_major_async(&seq, a, mb, nb)? };
        seq.wait()?;
        Ok(out)
    }

    /// Submits the copy of a column-major matrix into a new tile matrix and returns it at
    /// once: the tasks that later use a tile start as soon as that tile is copied, so the
    /// conversion overlaps the computation.
    ///
    /// # Safety
    /// The memory behind `a` must stay valid, and unmodified, until every task of `seq`
    /// submitted so far has run: wait for `seq` (or drop it) before the borrow ends. The
    /// tasks keep a raw pointer to it.
    pub unsafe fn from_col_major_async(
        seq: &Sequence,
        a: MatRef<'_, T>,
        mb: usize,
        nb: usize,
    ) -> Result<Self> {
        // SAFETY: the caller's contract.
        unsafe { Self::from_col_major_part_async(seq, a, mb, nb, None) }
    }

    /// As [`TileMatrix::from_col_major_async`], but when `part` is `Some(uplo)` only the
    /// tiles that meet that triangle (`i >= j` for `Lower`, `i <= j` for `Upper`; square
    /// tiles, `mb == nb`) are copied; the others get no storage, and a task that touches
    /// one fails. For the routines that reference one triangle (Cholesky and its solves):
    /// half the copy, half the memory.
    ///
    /// # Safety
    /// As [`TileMatrix::from_col_major_async`].
    pub unsafe fn from_col_major_part_async(
        seq: &Sequence,
        a: MatRef<'_, T>,
        mb: usize,
        nb: usize,
        part: Option<Uplo>,
    ) -> Result<Self> {
        Self::check_tile_size(mb, nb)?;
        check_part(part, mb, nb)?;
        // Storage comes with the copy, inside the tasks: from the tile-buffer pool, in
        // parallel, and never zero-filled first.
        let out = Self::from_handles(
            a.nrows(),
            a.ncols(),
            mb,
            nb,
            Arc::new(BlockCyclic2D::single()),
            |_, _, r, c| Handle::new_wire(Tile::empty(r, c), r * c * std::mem::size_of::<T>()),
        );
        let src = RawView {
            ptr: a.as_ptr() as *mut T,
            rs: a.row_stride(),
            cs: a.col_stride(),
        };
        for j in 0..out.nt() {
            for i in 0..out.mt() {
                if !in_part(part, i, j) {
                    continue;
                }
                let mut t = seq.task("tile_in").priority(i64::MAX / 4);
                let mut w = t.write(out.tile(i, j));
                let (r0, c0) = (i * mb, j * nb);
                t.submit(move |ctx| {
                    let tile = w.get_mut(ctx);
                    let s = src;
                    // SAFETY: the source outlives the sequence (the caller's contract) and is only read.
                    let v = unsafe { s.block(r0, c0, tile.m, tile.n) };
                    tile.fill_from(v);
                    Ok(())
                })?;
            }
        }
        Ok(out)
    }

    /// Distributes the column-major matrix `a`, given on rank `root` only (`None` on the
    /// other ranks; `shape` is its `(m, n)`, the same on every rank), over the runtime's
    /// ranks by `dist`: every rank ends up with only its tiles. A collective.
    pub fn scatter(
        rt: &Runtime,
        root: usize,
        a: Option<MatRef<'_, T>>,
        shape: (usize, usize),
        mb: usize,
        nb: usize,
        dist: Arc<dyn super::Distribution>,
    ) -> Result<Self> {
        let (m, n) = shape;
        let me = rt.rank();
        if root >= rt.nranks() {
            return Err(Error::invalid(0, format!("scatter: no rank {root}")));
        }
        if me == root && a.is_none_or(|a| a.nrows() != m || a.ncols() != n) {
            return Err(Error::invalid(
                0,
                format!("scatter: the root must pass the {m} x {n} matrix"),
            ));
        }
        let out = Self::new_distributed(rt, m, n, mb, nb, dist)?;
        let seq = rt.sequence();
        for j in 0..out.nt() {
            for i in 0..out.mt() {
                let (r, c) = (out.tile_rows(i), out.tile_cols(j));
                // The root's copy of the tile travels to its owner as the input of the task
                // that stores it there.
                let part = match a {
                    Some(a) if me == root => {
                        let mut t = Tile::zeros(r, c);
                        t.as_mut().copy_from(a.submatrix(i * mb, j * nb, r, c));
                        t
                    }
                    _ => Tile::empty(r, c),
                };
                let src =
                    crate::runtime::Handle::new_on(part, r * c * std::mem::size_of::<T>(), root);
                let mut t = seq.task("scatter").on_rank(out.owner(i, j));
                let rs = t.read(&src);
                let mut w = t.write(out.tile(i, j));
                t.submit(move |ctx| {
                    let s = rs.get(ctx);
                    w.get_mut(ctx).fill_from(s.as_ref());
                    Ok(())
                })?;
            }
        }
        seq.wait()?;
        Ok(out)
    }

    /// Gathers the view into the column-major `dst` on rank `root` (`None` elsewhere). A
    /// collective; each tile is sent once, from the rank holding it to the root.
    pub fn gather(&self, rt: &Runtime, root: usize, dst: Option<MatMut<'_, T>>) -> Result<()> {
        let (m, n) = (self.m(), self.n());
        let me = rt.rank();
        if root >= rt.nranks() {
            return Err(Error::invalid(0, format!("gather: no rank {root}")));
        }
        let d = match dst {
            Some(d) if d.nrows() == m && d.ncols() == n => Some(RawView {
                ptr: d.as_ptr() as *mut T,
                rs: d.row_stride(),
                cs: d.col_stride(),
            }),
            _ if me == root => {
                return Err(Error::invalid(
                    0,
                    format!("gather: the root must pass a {m} x {n} destination"),
                ))
            }
            _ => None,
        };
        let (mb, nb) = (self.mb(), self.nb());
        let seq = rt.sequence();
        for j in 0..self.nt() {
            for i in 0..self.mt() {
                let mut t = seq.task("gather").on_rank(root).priority(i64::MIN / 4);
                let r = t.read(self.tile(i, j));
                let (r0, c0) = (i * mb, j * nb);
                t.submit(move |ctx| {
                    let tile = r.get(ctx);
                    let Some(d) = d else {
                        return Err(Error::Runtime("gather: no destination on the root".into()));
                    };
                    // SAFETY: each task writes its own disjoint block of `dst`, which is
                    // borrowed until this function returns, after the wait below.
                    let mut v = unsafe { d.block_mut(r0, c0, tile.m, tile.n) };
                    v.copy_from(tile.as_ref());
                    Ok(())
                })?;
            }
        }
        seq.wait()
    }

    /// Copies the view into a column-major matrix of the same shape, in parallel on the
    /// runtime's workers, after the tasks already submitted on its tiles.
    pub fn to_col_major(&self, rt: &Runtime, dst: MatMut<'_, T>) -> Result<()> {
        self.to_col_major_part(rt, dst, None)
    }

    /// As [`TileMatrix::to_col_major`], only the tiles that meet the triangle `part` when
    /// it is given (see [`TileMatrix::from_col_major_part_async`]).
    pub fn to_col_major_part(
        &self,
        rt: &Runtime,
        dst: MatMut<'_, T>,
        part: Option<Uplo>,
    ) -> Result<()> {
        let seq = rt.sequence();
        // SAFETY: `dst` is borrowed until this function returns, after the wait below.
        unsafe { self.to_col_major_part_async(&seq, dst, part)? };
        seq.wait()
    }

    /// Submits the copy of the view into a column-major matrix, each tile after the tasks
    /// already submitted on it, at the lowest priority (the copies fill idle time instead
    /// of delaying the critical path). Tasks of `seq` skipped after an error do not copy.
    ///
    /// # Safety
    /// The memory behind `dst` must stay valid, and not be accessed otherwise, until every
    /// task of `seq` submitted so far has run: wait for `seq` (or drop it) before the
    /// borrow ends.
    pub unsafe fn to_col_major_async(&self, seq: &Sequence, dst: MatMut<'_, T>) -> Result<()> {
        // SAFETY: the caller's contract.
        unsafe { self.to_col_major_part_async(seq, dst, None) }
    }

    /// As [`TileMatrix::to_col_major_async`], only the tiles that meet the triangle `part`
    /// when it is given (see [`TileMatrix::from_col_major_part_async`]).
    ///
    /// # Safety
    /// As [`TileMatrix::to_col_major_async`].
    pub unsafe fn to_col_major_part_async(
        &self,
        seq: &Sequence,
        dst: MatMut<'_, T>,
        part: Option<Uplo>,
    ) -> Result<()> {
        check_part(part, self.mb(), self.nb())?;
        let (m, n) = (self.m(), self.n());
        if dst.nrows() != m || dst.ncols() != n {
            return Err(Error::invalid(
                0,
                format!(
                    "destination is {} x {}, the tile matrix {m} x {n}",
                    dst.nrows(),
                    dst.ncols()
                ),
            ));
        }
        let d = RawView {
            ptr: dst.as_ptr() as *mut T,
            rs: dst.row_stride(),
            cs: dst.col_stride(),
        };
        let (mb, nb) = (self.mb(), self.nb());
        for j in 0..self.nt() {
            for i in 0..self.mt() {
                // Global tile indices: the triangle is that of the whole matrix.
                if !in_part(part, self.i0 + i, self.j0 + j) {
                    continue;
                }
                let mut t = seq.task("tile_out").priority(i64::MIN / 4);
                let r = t.read(self.tile(i, j));
                let (r0, c0) = (i * mb, j * nb);
                t.submit(move |ctx| {
                    let tile = r.get(ctx);
                    let d = d;
                    // SAFETY: each task writes its own disjoint block of `dst`, which outlives
                    // the sequence (the caller's contract).
                    let mut v = unsafe { d.block_mut(r0, c0, tile.m, tile.n) };
                    v.copy_from(tile.as_ref());
                    Ok(())
                })?;
            }
        }
        Ok(())
    }

    /// A copy of the view into a new column-major `faer::Mat`.
    pub fn to_mat(&self, rt: &Runtime) -> Result<faer::Mat<T>> {
        let mut a = faer::Mat::zeros(self.m(), self.n());
        self.to_col_major(rt, a.as_mut())?;
        Ok(a)
    }

    /// A deep copy of the view (same tile size, same distribution), made by tasks.
    pub fn duplicate(&self, rt: &Runtime) -> Result<Self> {
        let out = if rt.nranks() > 1 {
            Self::new_distributed(
                rt,
                self.m(),
                self.n(),
                self.mb(),
                self.nb(),
                self.distribution().clone(),
            )?
        } else {
            Self::from_fn_tiles(
                self.m(),
                self.n(),
                self.mb(),
                self.nb(),
                self.distribution().clone(),
                |_, _, t| t,
            )
        };
        let seq = rt.sequence();
        copy_overlap_async(&seq, self, &out)?;
        seq.wait()?;
        Ok(out)
    }

    /// The conjugate transpose `A^H` as a new matrix (tile `(j, i)` = tile `(i, j)`^H).
    pub fn conj_transpose(&self, rt: &Runtime) -> Result<Self> {
        if self.mb() != self.nb() {
            return Err(Error::invalid(0, "conj_transpose needs square tiles"));
        }
        let out = Self::from_fn_tiles(
            self.n(),
            self.m(),
            self.nb(),
            self.mb(),
            Arc::new(BlockCyclic2D::single()),
            |_, _, t| t,
        );
        let seq = rt.sequence();
        for j in 0..self.nt() {
            for i in 0..self.mt() {
                let mut t = seq.task("transpose").on_rank(out.owner(j, i));
                let r = t.read(self.tile(i, j));
                let mut w = t.write(out.tile(j, i));
                t.submit(move |ctx| {
                    let s = r.get(ctx);
                    let d = w.get_mut(ctx);
                    let mut dv = d.as_mut();
                    for c in 0..s.n {
                        for rr in 0..s.m {
                            *dv.as_mut().get_mut(c, rr) = Scalar::conj(*s.as_ref().get(rr, c));
                        }
                    }
                    Ok(())
                })?;
            }
        }
        seq.wait()?;
        Ok(out)
    }
}

/// Submits copies of the overlapping top-left part of `src` into `dst` (same tile size):
/// tile `(i, j)` of both, over the rows and columns both have.
pub fn copy_overlap_async<T: Scalar>(
    seq: &Sequence,
    src: &TileMatrix<T>,
    dst: &TileMatrix<T>,
) -> Result<()> {
    if src.mb() != dst.mb() || src.nb() != dst.nb() {
        return Err(Error::invalid(
            0,
            "tile copy: the two matrices must have the same tile size",
        ));
    }
    for j in 0..src.nt().min(dst.nt()) {
        for i in 0..src.mt().min(dst.mt()) {
            let r = src.tile_rows(i).min(dst.tile_rows(i));
            let c = src.tile_cols(j).min(dst.tile_cols(j));
            let mut t = seq.task("lacpy").on_rank(dst.owner(i, j));
            let rs = t.read(src.tile(i, j));
            let mut wd = t.read_write(dst.tile(i, j));
            t.submit(move |ctx| {
                let s: &Tile<T> = rs.get(ctx);
                wd.get_mut(ctx)
                    .as_mut()
                    .submatrix_mut(0, 0, r, c)
                    .copy_from(s.as_ref().submatrix(0, 0, r, c));
                Ok(())
            })?;
        }
    }
    Ok(())
}
