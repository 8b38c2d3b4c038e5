//! Distributions: which rank owns which tile.

/// Maps tile `(i, j)` (global tile indices) to the rank that owns it.
pub trait Distribution: Send + Sync + std::fmt::Debug {
    /// Owner of tile `(i, j)`.
    fn owner(&self, i: usize, j: usize) -> usize;
    /// Number of ranks the distribution spans.
    fn nranks(&self) -> usize;
}

/// 2D block-cyclic distribution over a `p x q` process grid (ScaLAPACK's, row-major rank
/// numbering): tile `(i, j)` belongs to rank `(i mod p) * q + (j mod q)`.
///
/// ```
/// use tessera::tile::{BlockCyclic2D, Distribution};
/// let d = BlockCyclic2D::new(2, 3);
/// assert_eq!(d.owner(3, 4), 1 * 3 + 1);
/// assert_eq!(d.nranks(), 6);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockCyclic2D {
    /// Process rows.
    pub p: usize,
    /// Process columns.
    pub q: usize,
}

impl BlockCyclic2D {
    /// A `p x q` grid (each at least 1).
    pub fn new(p: usize, q: usize) -> Self {
        BlockCyclic2D {
            p: p.max(1),
            q: q.max(1),
        }
    }
    /// The `1 x 1` grid of a single process.
    pub fn single() -> Self {
        Self::new(1, 1)
    }
}

impl Distribution for BlockCyclic2D {
    fn owner(&self, i: usize, j: usize) -> usize {
        (i % self.p) * self.q + (j % self.q)
    }
    fn nranks(&self) -> usize {
        self.p * self.q
    }
}
