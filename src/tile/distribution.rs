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

/// The symmetric block-cyclic distribution for Cholesky (Beaumont, Collin, Eyraud-Dubois,
/// Vérité, SC'22): on `P = r (r - 1) / 2` ranks, the off-diagonal tiles `(i, j)` and
/// `(j, i)` with `{i mod r, j mod r} = {a, b}` belong to the rank of the pair `{a, b}`, and
/// the diagonal tiles of block row `a` go round the `r - 1` ranks whose pair contains `a`.
/// Every tile row and column `a` then lives on `r - 1 ≈ sqrt(2 P)` ranks, against
/// `p + q - 1 ≈ 2 sqrt(P)` for a square 2D block-cyclic grid: a panel tile of Cholesky is
/// sent to fewer ranks.
///
/// ```
/// use tessera::tile::{Distribution, SymmetricBlockCyclic};
/// let d = SymmetricBlockCyclic::for_ranks(3).unwrap();
/// assert_eq!(d.nranks(), 3);
/// assert_eq!(d.owner(4, 1), d.owner(1, 4)); // symmetric
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SymmetricBlockCyclic {
    /// Size of the pattern (`P = r (r - 1) / 2`).
    pub r: usize,
}

impl SymmetricBlockCyclic {
    /// The pattern of size `r` (at least 2): `r (r - 1) / 2` ranks.
    pub fn new(r: usize) -> Self {
        SymmetricBlockCyclic { r: r.max(2) }
    }

    /// The distribution over exactly `p` ranks, if `p = r (r - 1) / 2` for some `r`
    /// (1, 3, 6, 10, 15...).
    pub fn for_ranks(p: usize) -> Option<Self> {
        (2..=p + 1)
            .find(|r| r * (r - 1) / 2 == p)
            .map(SymmetricBlockCyclic::new)
    }

    /// The rank of the pair `{a, b}`, `a > b`.
    fn pair(a: usize, b: usize) -> usize {
        a * (a - 1) / 2 + b
    }
}

impl Distribution for SymmetricBlockCyclic {
    fn owner(&self, i: usize, j: usize) -> usize {
        let r = self.r;
        let (a, b) = (i % r, j % r);
        if a != b {
            return Self::pair(a.max(b), a.min(b));
        }
        // Diagonal pattern cell a: the k-th rank among those whose pair holds a.
        let k = (i / r + j / r) % (r - 1);
        let c = if k < a { k } else { k + 1 };
        Self::pair(a.max(c), a.min(c))
    }
    fn nranks(&self) -> usize {
        self.r * (self.r - 1) / 2
    }
}
