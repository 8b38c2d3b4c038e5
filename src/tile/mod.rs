//! # Tile matrices
//!
//! A [`TileMatrix`] is an `m x n` matrix cut into `mb x nb` tiles, each registered with the
//! runtime as one [`Handle`]. A tile is either stored contiguously (column-major, leading
//! dimension = its row count, from the [`pool`] of tile buffers) or, for a matrix made by
//! [`TileMatrix::from_col_major_in_place`], is the block of a caller's column-major matrix
//! where it lies (leading dimension = the caller's): the LAPACK-layout routines and the C
//! interface factor the caller's array without copying it (Chameleon's LAPACK-layout
//! descriptors). Kernels see either as a view. Edge tiles are ragged when `m` or `n` is not
//! a multiple of the tile size. A [`Distribution`] maps each tile to the rank that owns it (2D
//! block-cyclic `P x Q`; one process is `1 x 1`), and algorithms ask the matrix who owns a
//! tile rather than assuming.
//!
//! Views ([`TileMatrix::sub`]) select a rectangle of whole tiles and share the tiles.

mod convert;
mod distribution;
pub mod pool;

pub use convert::copy_overlap_async;
pub use distribution::{BlockCyclic2D, Distribution, SymmetricBlockCyclic};

use crate::error::{Error, Result};
use crate::runtime::Handle;
#[allow(unused_imports)]
use faer::prelude::{Reborrow, ReborrowMut};
use faer::{MatMut, MatRef};
use std::sync::Arc;
use tessera_kernels::Scalar;

/// One tile: an `m x n` column-major block. It either owns its storage (leading dimension
/// `m`, from the [`pool`] of tile buffers, to which it goes back when the tile is dropped)
/// or is a block of a caller's column-major matrix used in place (see
/// [`TileMatrix::from_col_major_in_place`]): the LAPACK-layout routines factor the
/// caller's matrix where it lies, with no copy in and out.
pub struct Tile<T: Scalar> {
    /// Number of rows.
    pub m: usize,
    /// Number of columns.
    pub n: usize,
    store: Store<T>,
}

enum Store<T> {
    /// `m * n` elements, column-major (or none: a placeholder without storage).
    Owned(Vec<T>),
    /// The block at `ptr` of a borrowed column-major matrix with leading dimension `ld`.
    Borrowed {
        ptr: std::ptr::NonNull<T>,
        ld: usize,
        /// The array the block lies in when the tile matrix owns it (column storage, see
        /// [`TileMatrix::new_distributed_col_major`]): kept alive by every tile of it.
        _keep: Option<Arc<LocalArray<T>>>,
    },
}

/// A rank's column-major array of the tiles it owns ([`TileMatrix::new_distributed_col_major`]):
/// a `Vec` taken apart, so that its tiles, which write into it through pointers, can share
/// it; freed when the last tile goes.
struct LocalArray<T> {
    ptr: std::ptr::NonNull<T>,
    len: usize,
    cap: usize,
}

impl<T> LocalArray<T> {
    fn new(v: Vec<T>) -> Self {
        let mut v = std::mem::ManuallyDrop::new(v);
        let (len, cap) = (v.len(), v.capacity());
        // A Vec's pointer is never null (dangling but non-null when empty).
        let ptr = std::ptr::NonNull::new(v.as_mut_ptr()).expect("a Vec's pointer is not null");
        LocalArray { ptr, len, cap }
    }
}

impl<T> Drop for LocalArray<T> {
    fn drop(&mut self) {
        // SAFETY: the parts are those of a Vec taken apart in `new` and not freed since;
        // the last tile into it is going, so nothing points into it any more.
        drop(unsafe { Vec::from_raw_parts(self.ptr.as_ptr(), self.len, self.cap) });
    }
}

// SAFETY: the array is a `Vec<T>` of plain scalars; it is only reached through the
// pointers of its tiles, whose accesses the runtime orders (see `Tile`'s Send/Sync).
unsafe impl<T: Send> Send for LocalArray<T> {}
// SAFETY: as above; the array itself is never read or written through a shared reference.
unsafe impl<T: Sync> Sync for LocalArray<T> {}

// SAFETY: an owned tile is a `Vec<T>`. A borrowed tile is made only by the unsafe in-place
// constructors, whose callers guarantee that the matrix it points into outlives every use
// of the tile and is reached by nothing else meanwhile; the runtime hands the tile to one
// writer or to concurrent readers at a time (its access modes), and distinct tiles of a
// matrix cover disjoint elements, so moving or sharing it between threads is as safe as
// for the `Vec`.
unsafe impl<T: Scalar> Send for Tile<T> {}
// SAFETY: as above.
unsafe impl<T: Scalar> Sync for Tile<T> {}

impl<T: Scalar> Tile<T> {
    /// A zero tile.
    pub fn zeros(m: usize, n: usize) -> Self {
        Self::from_vec(m, n, pool::take_zeroed(m * n))
    }
    /// An `m x n` tile with no storage yet (a placeholder for a remote tile, or for one a
    /// task fills later with [`Tile::fill_from`]).
    pub fn empty(m: usize, n: usize) -> Self {
        Self::from_vec(m, n, Vec::new())
    }
    /// The tile owning `data` (`m * n` elements, column-major, or none for a placeholder).
    pub fn from_vec(m: usize, n: usize, data: Vec<T>) -> Self {
        debug_assert!(data.is_empty() || data.len() == m * n);
        Tile {
            m,
            n,
            store: Store::Owned(data),
        }
    }
    /// The `m x n` block of a column-major matrix at `ptr` with leading dimension `ld`,
    /// used in place.
    ///
    /// # Safety
    /// `ptr` points to the block's first element; the `m x n` block with leading dimension
    /// `ld` lies inside one allocation that outlives the tile, and while the tile lives
    /// nothing else reads the block when a task may write it, or writes it at all.
    pub(crate) unsafe fn borrowed(
        ptr: std::ptr::NonNull<T>,
        m: usize,
        n: usize,
        ld: usize,
    ) -> Self {
        Tile {
            m,
            n,
            store: Store::Borrowed {
                ptr,
                ld,
                _keep: None,
            },
        }
    }
    /// As [`Tile::borrowed`], in an array of the tile matrix's own that the tile keeps alive.
    ///
    /// # Safety
    /// As [`Tile::borrowed`], the allocation being `keep`'s.
    unsafe fn borrowed_kept(
        ptr: std::ptr::NonNull<T>,
        m: usize,
        n: usize,
        ld: usize,
        keep: Arc<LocalArray<T>>,
    ) -> Self {
        Tile {
            m,
            n,
            store: Store::Borrowed {
                ptr,
                ld,
                _keep: Some(keep),
            },
        }
    }
    /// Whether the tile has storage (a placeholder of a remote tile has none).
    pub fn has_storage(&self) -> bool {
        match &self.store {
            Store::Owned(v) => v.len() == self.m * self.n,
            Store::Borrowed { .. } => true,
        }
    }
    /// Whether the tile is a block of a caller's matrix used in place.
    pub fn is_borrowed(&self) -> bool {
        matches!(self.store, Store::Borrowed { .. })
    }
    /// The elements as one column-major slice (leading dimension `m`), when they are stored
    /// that way: an owned tile with storage, or a borrowed one whose columns are adjacent.
    pub fn as_slice(&self) -> Option<&[T]> {
        match &self.store {
            Store::Owned(v) if v.len() == self.m * self.n => Some(v),
            Store::Owned(_) => None,
            Store::Borrowed { ptr, ld, .. } if *ld == self.m || self.n <= 1 => {
                // SAFETY: the block is `m * n` adjacent elements (see `borrowed`).
                Some(unsafe { std::slice::from_raw_parts(ptr.as_ptr(), self.m * self.n) })
            }
            Store::Borrowed { .. } => None,
        }
    }
    /// Column `j` (contiguous in both kinds of storage).
    ///
    /// # Panics
    /// If `j >= n`, or the tile has no storage.
    pub fn col(&self, j: usize) -> &[T] {
        assert!(j < self.n, "column {j} of a tile with {} columns", self.n);
        match &self.store {
            Store::Owned(v) => &v[j * self.m..(j + 1) * self.m],
            // SAFETY: column `j` is `m` adjacent elements of the borrowed block.
            Store::Borrowed { ptr, ld, .. } => unsafe {
                std::slice::from_raw_parts(ptr.as_ptr().add(j * ld), self.m)
            },
        }
    }
    /// Column `j`, writable.
    ///
    /// # Panics
    /// As [`Tile::col`].
    pub fn col_mut(&mut self, j: usize) -> &mut [T] {
        assert!(j < self.n, "column {j} of a tile with {} columns", self.n);
        match &mut self.store {
            Store::Owned(v) => &mut v[j * self.m..(j + 1) * self.m],
            // SAFETY: as in `col`; `&mut self` makes this the only view of the column.
            Store::Borrowed { ptr, ld, .. } => unsafe {
                std::slice::from_raw_parts_mut(ptr.as_ptr().add(j * *ld), self.m)
            },
        }
    }
    /// Gives the tile storage (from the [`pool`]) if it has none, and copies `src` into it.
    ///
    /// # Panics
    /// If `src` is not `m x n`.
    pub fn fill_from(&mut self, src: MatRef<'_, T>) {
        assert!(src.nrows() == self.m && src.ncols() == self.n);
        if let Store::Owned(v) = &mut self.store {
            if v.len() != self.m * self.n {
                pool::give(std::mem::replace(v, pool::take(self.m * self.n)));
            }
        }
        self.as_mut().copy_from(src);
    }
    /// Replaces the tile with an owned `m x n` one holding `data` (a placeholder when
    /// `data` is empty); the old storage goes back to the pool if it was owned.
    pub fn set_vec(&mut self, m: usize, n: usize, data: Vec<T>) {
        debug_assert!(data.is_empty() || data.len() == m * n);
        let old = std::mem::replace(&mut self.store, Store::Owned(data));
        if let Store::Owned(v) = old {
            pool::give(v);
        }
        self.m = m;
        self.n = n;
    }
    /// A view of the tile.
    ///
    /// # Panics
    /// If the tile has no storage.
    pub fn as_ref(&self) -> MatRef<'_, T> {
        match &self.store {
            Store::Owned(v) => MatRef::from_column_major_slice(v, self.m, self.n),
            // SAFETY: the block lies in a live allocation (see `borrowed`); `&self` keeps
            // writers away.
            Store::Borrowed { ptr, ld, .. } => unsafe {
                MatRef::from_raw_parts(ptr.as_ptr(), self.m, self.n, 1, *ld as isize)
            },
        }
    }
    /// A mutable view of the tile.
    ///
    /// # Panics
    /// If the tile has no storage.
    pub fn as_mut(&mut self) -> MatMut<'_, T> {
        match &mut self.store {
            Store::Owned(v) => MatMut::from_column_major_slice_mut(v, self.m, self.n),
            // SAFETY: as in `as_ref`; `&mut self` makes this the only view of the block.
            Store::Borrowed { ptr, ld, .. } => unsafe {
                MatMut::from_raw_parts_mut(ptr.as_ptr(), self.m, self.n, 1, *ld as isize)
            },
        }
    }
}

impl<T: Scalar> Clone for Tile<T> {
    /// A copy with its own storage (a borrowed tile's copy owns its elements).
    fn clone(&self) -> Self {
        match &self.store {
            Store::Owned(v) => Tile::from_vec(self.m, self.n, v.clone()),
            Store::Borrowed { .. } => {
                let mut t = Tile::empty(self.m, self.n);
                t.fill_from(self.as_ref());
                t
            }
        }
    }
}

impl<T: Scalar> PartialEq for Tile<T> {
    fn eq(&self, other: &Self) -> bool {
        self.m == other.m
            && self.n == other.n
            && self.has_storage() == other.has_storage()
            && (!self.has_storage() || (0..self.n).all(|j| self.col(j) == other.col(j)))
    }
}

impl<T: Scalar> std::fmt::Debug for Tile<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match &self.store {
            Store::Owned(v) if v.is_empty() && self.m * self.n > 0 => "no storage",
            Store::Owned(_) => "owned",
            Store::Borrowed { .. } => "in place",
        };
        write!(f, "Tile({} x {}, {kind})", self.m, self.n)
    }
}

/// Appends the bytes of `v` to `out`.
pub(crate) fn put_scalars<T: Scalar>(out: &mut Vec<u8>, v: &[T]) {
    // SAFETY: the scalar types (f32, f64 and their complex pairs) are plain old data
    // without padding, so their memory is a valid byte slice of the same extent.
    let bytes =
        unsafe { std::slice::from_raw_parts(v.as_ptr() as *const u8, std::mem::size_of_val(v)) };
    out.extend_from_slice(bytes);
}

/// Replaces `v` with the scalars encoded in `b` (as [`put_scalars`] wrote them).
pub(crate) fn get_scalars<T: Scalar>(b: &[u8], v: &mut Vec<T>) -> Result<()> {
    let sz = std::mem::size_of::<T>();
    if b.len() % sz != 0 {
        return Err(Error::Runtime(format!(
            "{} bytes are not a whole number of {}-byte scalars",
            b.len(),
            sz
        )));
    }
    let n = b.len() / sz;
    if v.capacity() < n {
        pool::give(std::mem::replace(v, pool::take(n)));
    }
    // Every element is overwritten below: shrinking writes nothing, growing zero-fills
    // only the part past the old length (within the capacity), to be initialized.
    v.resize(n, T::zero());
    // SAFETY: `v` holds exactly `b.len()` bytes of plain-old-data scalars (any bit pattern
    // is a valid value), and the two regions do not overlap.
    unsafe { std::ptr::copy_nonoverlapping(b.as_ptr(), v.as_mut_ptr() as *mut u8, b.len()) };
    Ok(())
}

impl<T: Scalar> crate::runtime::Wire for Tile<T> {
    fn encode(&self, out: &mut Vec<u8>) {
        crate::runtime::dist_put_u64(out, self.m as u64);
        crate::runtime::dist_put_u64(out, self.n as u64);
        match self.as_slice() {
            Some(v) => put_scalars(out, v),
            None if !self.has_storage() => {}
            None => (0..self.n).for_each(|j| put_scalars(out, self.col(j))),
        }
    }
    fn decode(&mut self, b: &[u8]) -> Result<()> {
        let mut at = 0;
        let m = crate::runtime::dist_get_u64(b, &mut at)? as usize;
        let n = crate::runtime::dist_get_u64(b, &mut at)? as usize;
        let body = &b[at..];
        if body.len() != m * n * std::mem::size_of::<T>() {
            return Err(Error::Runtime(format!(
                "a {m} x {n} tile arrived with {} bytes",
                body.len()
            )));
        }
        match &mut self.store {
            Store::Owned(v) => {
                self.m = m;
                self.n = n;
                get_scalars(body, v)
            }
            Store::Borrowed { .. } => {
                if (m, n) != (self.m, self.n) {
                    return Err(Error::Runtime(format!(
                        "a {m} x {n} tile arrived for a {} x {} tile in place",
                        self.m, self.n
                    )));
                }
                let mut v: Vec<T> = Vec::new();
                get_scalars(body, &mut v)?;
                self.as_mut()
                    .copy_from(MatRef::from_column_major_slice(&v, m, n));
                pool::give(v);
                Ok(())
            }
        }
    }
    fn evict(&mut self) {
        // A tile in place is the caller's memory: nothing to free.
        if let Store::Owned(v) = &mut self.store {
            pool::give(std::mem::take(v));
        }
    }
}

impl<T: Scalar> Drop for Tile<T> {
    fn drop(&mut self) {
        if let Store::Owned(v) = &mut self.store {
            pool::give(std::mem::take(v));
        }
    }
}

/// The handle type of a tile.
pub type TileHandle<T> = Handle<Tile<T>>;

struct Storage<T: Scalar> {
    m: usize,
    n: usize,
    mb: usize,
    nb: usize,
    mt: usize,
    /// Column-major grid of tile handles.
    tiles: Vec<TileHandle<T>>,
    dist: Arc<dyn Distribution>,
    /// The tiles this rank owns in each tile column are adjacent row blocks of one
    /// column-major array, top to bottom (tiles in place, column storage).
    stacked: bool,
}

/// Refuses a distribution over more ranks than the runtime has.
fn check_ranks(rt: &crate::runtime::Runtime, dist: &dyn Distribution) -> Result<()> {
    if dist.nranks() > rt.nranks() {
        return Err(Error::invalid(
            0,
            format!(
                "the distribution spans {} ranks but the runtime has {}",
                dist.nranks(),
                rt.nranks()
            ),
        ));
    }
    Ok(())
}

/// A tiled matrix (or a tile-aligned view of one).
///
/// ```
/// use tessera::tile::TileMatrix;
/// let a = TileMatrix::<f64>::zeros(1000, 700, 256, 256);
/// assert_eq!((a.mt(), a.nt()), (4, 3));
/// assert_eq!(a.tile_rows(3), 1000 - 3 * 256); // ragged edge
/// let v = a.sub(1, 1, 3, 2);
/// assert_eq!((v.m(), v.n()), (1000 - 256, 700 - 256));
/// ```
pub struct TileMatrix<T: Scalar> {
    st: Arc<Storage<T>>,
    /// View offset and extent, in tiles.
    i0: usize,
    j0: usize,
    mt: usize,
    nt: usize,
}

impl<T: Scalar> Clone for TileMatrix<T> {
    /// Another view of the same tiles (not a copy of the data: see [`TileMatrix::duplicate`]).
    fn clone(&self) -> Self {
        TileMatrix {
            st: self.st.clone(),
            i0: self.i0,
            j0: self.j0,
            mt: self.mt,
            nt: self.nt,
        }
    }
}

impl<T: Scalar> std::fmt::Debug for TileMatrix<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "TileMatrix<{}>({} x {}, tiles {} x {}, {} x {} tiles)",
            T::DTYPE.name(),
            self.m(),
            self.n(),
            self.st.mb,
            self.st.nb,
            self.mt,
            self.nt
        )
    }
}

impl<T: Scalar> TileMatrix<T> {
    /// A zero matrix on one process.
    pub fn zeros(m: usize, n: usize, mb: usize, nb: usize) -> Self {
        Self::from_fn_tiles(m, n, mb, nb, Arc::new(BlockCyclic2D::single()), |_, _, t| t)
    }

    /// Checks the tile sizes.
    pub fn check_tile_size(mb: usize, nb: usize) -> Result<()> {
        if mb == 0 || nb == 0 {
            return Err(Error::invalid(
                0,
                format!("tile size must be positive (got {mb} x {nb})"),
            ));
        }
        Ok(())
    }

    /// Builds a matrix whose tile `(i, j)` is produced by `f(i, j, zero_tile)`, with the
    /// given distribution.
    pub fn from_fn_tiles(
        m: usize,
        n: usize,
        mb: usize,
        nb: usize,
        dist: Arc<dyn Distribution>,
        mut f: impl FnMut(usize, usize, Tile<T>) -> Tile<T>,
    ) -> Self {
        Self::from_handles(m, n, mb.max(1), nb.max(1), dist, |i, j, r, c| {
            let t = f(i, j, Tile::zeros(r, c));
            let bytes = if t.has_storage() { t.m * t.n } else { 0 } * std::mem::size_of::<T>();
            Handle::new_wire(t, bytes)
        })
    }

    /// The matrix whose tile `(i, j)` (of `r x c` entries) is the handle `make(i, j, r, c)`.
    fn from_handles(
        m: usize,
        n: usize,
        mb: usize,
        nb: usize,
        dist: Arc<dyn Distribution>,
        mut make: impl FnMut(usize, usize, usize, usize) -> TileHandle<T>,
    ) -> Self {
        let mt = m.div_ceil(mb);
        let nt = n.div_ceil(nb);
        let mut tiles = Vec::with_capacity(mt * nt);
        for j in 0..nt {
            for i in 0..mt {
                let (r, c) = ((m - i * mb).min(mb), (n - j * nb).min(nb));
                tiles.push(make(i, j, r, c));
            }
        }
        TileMatrix {
            st: Arc::new(Storage {
                m,
                n,
                mb,
                nb,
                mt,
                tiles,
                dist,
                stacked: false,
            }),
            i0: 0,
            j0: 0,
            mt,
            nt,
        }
    }

    /// A zero matrix distributed over the runtime's ranks by `dist`: each rank allocates
    /// only the tiles it owns (the others are empty placeholders, filled when a task on
    /// this rank needs them). With one rank this is [`TileMatrix::zeros`] with `dist`.
    pub fn new_distributed(
        rt: &crate::runtime::Runtime,
        m: usize,
        n: usize,
        mb: usize,
        nb: usize,
        dist: Arc<dyn Distribution>,
    ) -> Result<Self> {
        Self::check_tile_size(mb, nb)?;
        check_ranks(rt, dist.as_ref())?;
        Ok(Self::distributed_with(
            rt.rank(),
            m,
            n,
            mb,
            nb,
            dist,
            |_, _, r, c| Tile::zeros(r, c),
        ))
    }

    /// The matrix distributed by `dist` as seen from rank `me`: `local(i, j, rows, cols)`
    /// makes the tiles this rank owns, the others are empty placeholders.
    fn distributed_with(
        me: usize,
        m: usize,
        n: usize,
        mb: usize,
        nb: usize,
        dist: Arc<dyn Distribution>,
        mut local: impl FnMut(usize, usize, usize, usize) -> Tile<T>,
    ) -> Self {
        let dist2 = dist.clone();
        Self::from_handles(m, n, mb, nb, dist, |i, j, r, c| {
            let owner = dist2.owner(i, j);
            let t = if owner == me {
                local(i, j, r, c)
            } else {
                Tile::empty(r, c)
            };
            Handle::new_on(t, r * c * std::mem::size_of::<T>(), owner)
        })
    }

    /// A zero matrix distributed over the runtime's ranks by `dist` whose tiles on each rank
    /// lie in one column-major array (ScaLAPACK's local array): the tiles a rank owns in a
    /// tile column are stacked top to bottom, and tile columns with the same local rows sit
    /// side by side, so [`TileMatrix::columns_stacked`] holds and the factorizations update
    /// blocks of columns with one kernel call. The array is allocated once (its pages are
    /// first touched by the tasks that fill it) and freed with the last tile. With one rank
    /// this is an `m x n` column-major matrix.
    pub fn new_distributed_col_major(
        rt: &crate::runtime::Runtime,
        m: usize,
        n: usize,
        mb: usize,
        nb: usize,
        dist: Arc<dyn Distribution>,
    ) -> Result<Self> {
        Self::check_tile_size(mb, nb)?;
        check_ranks(rt, dist.as_ref())?;
        let me = rt.rank();
        let (mt, nt) = (m.div_ceil(mb), n.div_ceil(nb));
        let rows = |i: usize| (m - i * mb).min(mb);
        let cols = |j: usize| (n - j * nb).min(nb);
        // Per tile column: its first element in the array, and its local row count (ld).
        let mut base = vec![0usize; nt];
        let mut ld = vec![0usize; nt];
        let mut len = 0usize;
        for j in 0..nt {
            let h: usize = (0..mt).filter(|&i| dist.owner(i, j) == me).map(rows).sum();
            base[j] = len;
            ld[j] = h;
            len = h
                .checked_mul(cols(j))
                .and_then(|x| x.checked_add(len))
                .ok_or_else(|| Error::invalid(0, "the local array is too large".to_string()))?;
        }
        let array = Arc::new(LocalArray::new(vec![T::zero(); len]));
        let mut row_at = vec![0usize; nt];
        Ok(
            Self::distributed_with(me, m, n, mb, nb, dist, |_, j, r, c| {
                let at = base[j] + row_at[j];
                row_at[j] += r;
                // SAFETY: the `r x c` block at row `at - base[j]` of tile column `j`'s
                // `ld[j] x c` part of the array lies inside it (the rows of the tiles this rank
                // owns in the column add up to `ld[j]`), and no other tile covers it. The tile
                // keeps the array alive.
                unsafe {
                    let p = std::ptr::NonNull::new_unchecked(array.ptr.as_ptr().add(at));
                    Tile::borrowed_kept(p, r, c, ld[j], array.clone())
                }
            })
            .with_stacked_columns(),
        )
    }

    /// Rows of the view.
    pub fn m(&self) -> usize {
        if self.mt == 0 {
            0
        } else {
            (self.st.m - self.i0 * self.st.mb).min(self.mt * self.st.mb)
        }
    }
    /// Columns of the view.
    pub fn n(&self) -> usize {
        if self.nt == 0 {
            0
        } else {
            (self.st.n - self.j0 * self.st.nb).min(self.nt * self.st.nb)
        }
    }
    /// Tile rows (`mb`).
    pub fn mb(&self) -> usize {
        self.st.mb
    }
    /// Tile columns (`nb`).
    pub fn nb(&self) -> usize {
        self.st.nb
    }
    /// Number of tile rows of the view.
    pub fn mt(&self) -> usize {
        self.mt
    }
    /// Number of tile columns of the view.
    pub fn nt(&self) -> usize {
        self.nt
    }
    /// Rows of tile row `i` of the view.
    pub fn tile_rows(&self, i: usize) -> usize {
        let gi = self.i0 + i;
        (self.st.m - gi * self.st.mb).min(self.st.mb)
    }
    /// Columns of tile column `j` of the view.
    pub fn tile_cols(&self, j: usize) -> usize {
        let gj = self.j0 + j;
        (self.st.n - gj * self.st.nb).min(self.st.nb)
    }
    /// The handle of tile `(i, j)` of the view.
    pub fn tile(&self, i: usize, j: usize) -> &TileHandle<T> {
        debug_assert!(i < self.mt && j < self.nt);
        &self.st.tiles[(self.j0 + j) * self.st.mt + self.i0 + i]
    }
    /// The rank that owns tile `(i, j)` of the view.
    pub fn owner(&self, i: usize, j: usize) -> usize {
        self.st.dist.owner(self.i0 + i, self.j0 + j)
    }
    /// The distribution.
    pub fn distribution(&self) -> &Arc<dyn Distribution> {
        &self.st.dist
    }

    /// Whether the tiles this rank owns in each tile column are adjacent row blocks of one
    /// column-major array, top to bottom (a matrix in place, see
    /// [`TileMatrix::from_col_major_in_place`]): the factorizations then update a column
    /// of tiles with one kernel call instead of one per tile.
    pub fn columns_stacked(&self) -> bool {
        self.st.stacked
    }

    /// Marks a matrix just made (its storage not yet shared) as [`Self::columns_stacked`].
    pub(crate) fn with_stacked_columns(mut self) -> Self {
        if let Some(st) = Arc::get_mut(&mut self.st) {
            st.stacked = true;
        }
        self
    }

    /// The view of tile rows `i..i+mt` and tile columns `j..j+nt` (sharing the tiles).
    /// Panics if the rectangle does not fit.
    pub fn sub(&self, i: usize, j: usize, mt: usize, nt: usize) -> TileMatrix<T> {
        assert!(
            i + mt <= self.mt && j + nt <= self.nt,
            "sub-view out of range"
        );
        TileMatrix {
            st: self.st.clone(),
            i0: self.i0 + i,
            j0: self.j0 + j,
            mt,
            nt,
        }
    }

    /// True when the tiles are square (`mb == nb`), which the factorizations require.
    pub fn is_square_tiled(&self) -> bool {
        self.st.mb == self.st.nb
    }

    /// The global row offset of the view inside the full matrix.
    pub fn row_offset(&self) -> usize {
        self.i0 * self.st.mb
    }

    /// The global column offset of the view inside the full matrix.
    pub fn col_offset(&self) -> usize {
        self.j0 * self.st.nb
    }
}
