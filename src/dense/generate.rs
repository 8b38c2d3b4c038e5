//! Random matrix generators, as the testing drivers of Chameleon use them: a general
//! random matrix (`plrnt`) and Hermitian / symmetric positive definite ones (`plghe`,
//! `plgsy`: random entries plus a diagonal `bump`).
//!
//! Entry `(i, j)` depends only on the seed and the global position, never on the tile size
//! or the number of workers, so the same seed gives the same matrix at any tiling.

use super::prio;
use crate::error::Result;
use crate::runtime::Runtime;
use crate::tile::{BlockCyclic2D, Distribution, TileMatrix};
#[allow(unused_imports)]
use faer::prelude::{Reborrow, ReborrowMut};
use std::sync::Arc;
use tessera_kernels::Scalar;

#[inline]
fn mix(mut z: u64) -> u64 {
    // splitmix64 finaliser
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d049bb133111eb);
    z ^ (z >> 31)
}

#[inline]
fn uniform(seed: u64, i: usize, j: usize, part: u64) -> f64 {
    let h =
        mix(seed.wrapping_mul(0x9e3779b97f4a7c15) ^ mix((i as u64) << 32 ^ j as u64 ^ part << 62));
    // 53 random bits -> [0, 1), shifted to [-0.5, 0.5).
    (h >> 11) as f64 * (1.0 / (1u64 << 53) as f64) - 0.5
}

/// Entry `(i, j)` of the random matrix with this seed: real and imaginary parts uniform
/// in `[-0.5, 0.5)`.
pub fn random_value<T: Scalar>(seed: u64, i: usize, j: usize) -> T {
    T::from_parts(uniform(seed, i, j, 0), uniform(seed, i, j, 1))
}

fn generate<T: Scalar>(
    rt: &Runtime,
    m: usize,
    n: usize,
    nb: usize,
    dist: Option<Arc<dyn Distribution>>,
    f: impl Fn(usize, usize) -> T + Send + Sync + 'static,
) -> Result<TileMatrix<T>> {
    TileMatrix::<T>::check_tile_size(nb, nb)?;
    let a = match dist {
        None => {
            TileMatrix::from_fn_tiles(m, n, nb, nb, Arc::new(BlockCyclic2D::single()), |_, _, t| t)
        }
        Some(d) => TileMatrix::new_distributed(rt, m, n, nb, nb, d)?,
    };
    fill(rt, &a, f)?;
    Ok(a)
}

/// Writes `f(i, j)` into every entry of `a` that this rank owns, one task per tile.
fn fill<T: Scalar>(
    rt: &Runtime,
    a: &TileMatrix<T>,
    f: impl Fn(usize, usize) -> T + Send + Sync + 'static,
) -> Result<()> {
    let nb = a.nb();
    let mb = a.mb();
    let f = Arc::new(f);
    let seq = rt.sequence();
    for j in 0..a.nt() {
        for i in 0..a.mt() {
            let mut t = seq
                .task("generate")
                .priority(prio(i, j, a.mt()))
                .on_rank(a.owner(i, j));
            let mut w = t.write(a.tile(i, j));
            let f = f.clone();
            t.submit(move |ctx| {
                let tile = w.get_mut(ctx);
                for c in 0..tile.n {
                    for (r, v) in tile.col_mut(c).iter_mut().enumerate() {
                        *v = f(i * mb + r, j * nb + c);
                    }
                }
                Ok(())
            })?;
        }
    }
    seq.wait()
}

/// A random `m x n` matrix with entries uniform in `[-0.5, 0.5)` (Chameleon's `plrnt`).
pub fn plrnt<T: Scalar>(
    rt: &Runtime,
    m: usize,
    n: usize,
    nb: usize,
    seed: u64,
) -> Result<TileMatrix<T>> {
    generate(rt, m, n, nb, None, move |i, j| {
        random_value::<T>(seed, i, j)
    })
}

/// Fills an existing matrix (any tiling, distribution or storage, e.g.
/// [`TileMatrix::new_distributed_col_major`]) with the values of [`plrnt`] for `seed`; each
/// rank writes the tiles it owns. Entry `(i, j)` of a view is entry `(i, j)` of the
/// random matrix.
pub fn plrnt_fill<T: Scalar>(rt: &Runtime, a: &TileMatrix<T>, seed: u64) -> Result<()> {
    fill(rt, a, move |i, j| random_value::<T>(seed, i, j))
}

/// [`plrnt`] distributed over the runtime's ranks by `dist`: each rank generates only the
/// tiles it owns (the values are those of [`plrnt`], whatever the distribution).
pub fn plrnt_on<T: Scalar>(
    rt: &Runtime,
    m: usize,
    n: usize,
    nb: usize,
    seed: u64,
    dist: Arc<dyn Distribution>,
) -> Result<TileMatrix<T>> {
    generate(rt, m, n, nb, Some(dist), move |i, j| {
        random_value::<T>(seed, i, j)
    })
}

/// [`plghe`] distributed over the runtime's ranks by `dist` (each rank generates its tiles).
pub fn plghe_on<T: Scalar>(
    rt: &Runtime,
    bump: f64,
    n: usize,
    nb: usize,
    seed: u64,
    dist: Arc<dyn Distribution>,
) -> Result<TileMatrix<T>> {
    generate(rt, n, n, nb, Some(dist), move |i, j| {
        hermitian_value(seed, bump, i, j)
    })
}

fn hermitian_value<T: Scalar>(seed: u64, bump: f64, i: usize, j: usize) -> T {
    if i == j {
        T::from_f64(random_value::<T>(seed, i, i).re() + bump)
    } else if i > j {
        random_value::<T>(seed, i, j)
    } else {
        Scalar::conj(random_value::<T>(seed, j, i))
    }
}

/// A random Hermitian `n x n` matrix with `bump` added to the diagonal (Chameleon's
/// `plghe`): with `bump >= n` it is diagonally dominant, hence positive definite.
pub fn plghe<T: Scalar>(
    rt: &Runtime,
    bump: f64,
    n: usize,
    nb: usize,
    seed: u64,
) -> Result<TileMatrix<T>> {
    generate(rt, n, n, nb, None, move |i, j| {
        hermitian_value(seed, bump, i, j)
    })
}

/// A random symmetric `n x n` matrix with `bump` added to the diagonal (Chameleon's
/// `plgsy`); for complex types it is complex symmetric, not Hermitian.
pub fn plgsy<T: Scalar>(
    rt: &Runtime,
    bump: T,
    n: usize,
    nb: usize,
    seed: u64,
) -> Result<TileMatrix<T>> {
    generate(rt, n, n, nb, None, move |i, j| {
        let (r, c) = if i >= j { (i, j) } else { (j, i) };
        let v = random_value::<T>(seed, r, c);
        if i == j {
            v + bump
        } else {
            v
        }
    })
}
