//! # Tile matrices
//!
//! A [`TileMatrix`] is an `m x n` matrix cut into `mb x nb` tiles; each tile is stored
//! contiguously (column-major, leading dimension = its row count) and registered with the
//! runtime as one [`Handle`]. Edge tiles are ragged when `m` or `n` is not a multiple of
//! the tile size. A [`Distribution`] maps each tile to the rank that owns it (2D
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

/// One tile: a column-major block with leading dimension `m`. Its buffer goes back to
/// the [`pool`] of tile buffers when it is dropped.
#[derive(Debug, Clone, PartialEq)]
pub struct Tile<T: Scalar> {
    /// Number of rows.
    pub m: usize,
    /// Number of columns.
    pub n: usize,
    /// `m * n` elements, column-major.
    pub data: Vec<T>,
}

impl<T: Scalar> Tile<T> {
    /// A zero tile.
    pub fn zeros(m: usize, n: usize) -> Self {
        Tile {
            m,
            n,
            data: pool::take_zeroed(m * n),
        }
    }
    /// An `m x n` tile with no storage yet (a placeholder for a remote tile, or for one a
    /// task fills later with [`Tile::fill_from`]).
    pub fn empty(m: usize, n: usize) -> Self {
        Tile {
            m,
            n,
            data: Vec::new(),
        }
    }
    /// Gives the tile storage (from the [`pool`]) if it has none, and copies `src` into it.
    ///
    /// # Panics
    /// If `src` is not `m x n`.
    pub fn fill_from(&mut self, src: MatRef<'_, T>) {
        assert!(src.nrows() == self.m && src.ncols() == self.n);
        if self.data.len() != self.m * self.n {
            pool::give(std::mem::replace(
                &mut self.data,
                pool::take(self.m * self.n),
            ));
        }
        self.as_mut().copy_from(src);
    }
    /// A view of the tile.
    pub fn as_ref(&self) -> MatRef<'_, T> {
        MatRef::from_column_major_slice(&self.data, self.m, self.n)
    }
    /// A mutable view of the tile.
    pub fn as_mut(&mut self) -> MatMut<'_, T> {
        MatMut::from_column_major_slice_mut(&mut self.data, self.m, self.n)
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
        put_scalars(out, &self.data);
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
        self.m = m;
        self.n = n;
        get_scalars(body, &mut self.data)
    }
    fn evict(&mut self) {
        pool::give(std::mem::take(&mut self.data));
    }
}

impl<T: Scalar> Drop for Tile<T> {
    fn drop(&mut self) {
        pool::give(std::mem::take(&mut self.data));
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
            let bytes = t.data.len() * std::mem::size_of::<T>();
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
        let me = rt.rank();
        let dist2 = dist.clone();
        Ok(Self::from_handles(m, n, mb, nb, dist, |i, j, r, c| {
            let owner = dist2.owner(i, j);
            let t = if owner == me {
                Tile::zeros(r, c)
            } else {
                Tile {
                    m: r,
                    n: c,
                    data: Vec::new(),
                }
            };
            Handle::new_on(t, r * c * std::mem::size_of::<T>(), owner)
        }))
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
