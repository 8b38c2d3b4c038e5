//! Shared helpers of the integration tests: a small column-major dense matrix type, naive
//! reference arithmetic carried out in `Complex<f64>` whatever the element type under test
//! (real types simply have zero imaginary parts), norms, and conversions to and from tile
//! matrices.

#![allow(dead_code)]

use faer::MatRef;
use num_complex::Complex;
use std::sync::mpsc;
use std::time::Duration;
use tessera::runtime::{Runtime, RuntimeConfig};
use tessera::tile::TileMatrix;
use tessera::{Op, Scalar};

/// The type reference computations are carried out in.
pub type Z = Complex<f64>;

/// A runtime with `w` workers.
pub fn runtime(w: usize) -> Runtime {
    Runtime::new(RuntimeConfig::with_workers(w))
}

/// The tile sizes most tests sweep.
pub const TILE_SIZES: [usize; 4] = [4, 7, 16, 32];

/// Matrix orders around the tile size `nb`: empty, tiny, one tile minus/plus one, ragged
/// multi-tile sizes (up to a little over three tiles).
pub fn sizes(nb: usize) -> Vec<usize> {
    let mut v = vec![0, 1, 3, nb - 1, nb, nb + 1, 2 * nb + 3, 3 * nb + 1];
    v.sort_unstable();
    v.dedup();
    v
}

/// Runs `f` on another thread and fails (instead of hanging) if it does not finish within
/// `secs` seconds. Panics inside `f` are propagated as test failures.
pub fn with_timeout<R: Send + 'static>(
    secs: u64,
    what: &str,
    f: impl FnOnce() -> R + Send + 'static,
) -> R {
    let (tx, rx) = mpsc::channel();
    let h = std::thread::spawn(move || {
        let r = f();
        let _ = tx.send(r);
    });
    match rx.recv_timeout(Duration::from_secs(secs)) {
        Ok(r) => {
            let _ = h.join();
            r
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => match h.join() {
            Err(p) => std::panic::resume_unwind(p),
            Ok(()) => panic!("{what}: worker thread ended without a result"),
        },
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("{what}: did not finish within {secs} s (deadlock?)")
        }
    }
}

/// A column-major dense matrix.
#[derive(Clone, Debug, PartialEq)]
pub struct Dm<T> {
    pub m: usize,
    pub n: usize,
    pub d: Vec<T>,
}

impl<T: Copy> Dm<T> {
    pub fn from_fn(m: usize, n: usize, mut f: impl FnMut(usize, usize) -> T) -> Self {
        let mut d = Vec::with_capacity(m * n);
        for j in 0..n {
            for i in 0..m {
                d.push(f(i, j));
            }
        }
        Dm { m, n, d }
    }
    #[inline]
    pub fn get(&self, i: usize, j: usize) -> T {
        self.d[i + j * self.m]
    }
    #[inline]
    pub fn set(&mut self, i: usize, j: usize, v: T) {
        self.d[i + j * self.m] = v;
    }
    /// Rows `r0..r1`, all columns.
    pub fn rows(&self, r0: usize, r1: usize) -> Self {
        Dm::from_fn(r1 - r0, self.n, |i, j| self.get(r0 + i, j))
    }
}

impl<T: Scalar> Dm<T> {
    pub fn zeros(m: usize, n: usize) -> Self {
        Dm::from_fn(m, n, |_, _| T::zero())
    }
    pub fn identity(m: usize, n: usize) -> Self {
        Dm::from_fn(m, n, |i, j| if i == j { T::one() } else { T::zero() })
    }
    /// Entries uniform in `[-0.5, 0.5)` (both parts for complex types).
    pub fn random(m: usize, n: usize, seed: u64) -> Self {
        Dm::from_fn(m, n, |i, j| tessera::dense::random_value::<T>(seed, i, j))
    }
    /// A copy of a tile matrix.
    pub fn of(rt: &Runtime, a: &TileMatrix<T>) -> Self {
        let mat = a.to_mat(rt).unwrap();
        Dm::from_fn(a.m(), a.n(), |i, j| mat[(i, j)])
    }
    pub fn as_faer(&self) -> MatRef<'_, T> {
        MatRef::from_column_major_slice(&self.d, self.m, self.n)
    }
    /// A new tile matrix (tiles `nb x nb`) holding a copy.
    pub fn tiles(&self, rt: &Runtime, nb: usize) -> TileMatrix<T> {
        TileMatrix::from_col_major(rt, self.as_faer(), nb, nb).unwrap()
    }
    /// The matrix in `Complex<f64>`.
    pub fn z(&self) -> Dm<Z> {
        Dm {
            m: self.m,
            n: self.n,
            d: self.d.iter().map(|&x| z(x)).collect(),
        }
    }
    /// True when every entry has the same bits.
    pub fn bits_eq(&self, o: &Self) -> bool {
        self.m == o.m && self.n == o.n && self.d.iter().zip(&o.d).all(|(&a, &b)| same_bits(a, b))
    }
    /// The number of entries whose bits differ.
    pub fn bits_diff(&self, o: &Self) -> usize {
        self.d
            .iter()
            .zip(&o.d)
            .filter(|(&a, &b)| !same_bits(a, b))
            .count()
    }
}

/// Bitwise equality of two scalars (f32 -> f64 is exact, so comparing the f64 bits of
/// both parts is exact for all four types).
pub fn same_bits<T: Scalar>(a: T, b: T) -> bool {
    a.re().to_bits() == b.re().to_bits() && a.im().to_bits() == b.im().to_bits()
}

#[inline]
pub fn z<T: Scalar>(x: T) -> Z {
    Z::new(x.re(), x.im())
}

/// A scalar of type `T` from a complex number (the imaginary part is dropped for real types).
pub fn t_of<T: Scalar>(x: Z) -> T {
    T::from_parts(x.re, x.im)
}

pub fn is_complex<T: Scalar>() -> bool {
    matches!(T::DTYPE, tessera::DType::C32 | tessera::DType::C64)
}

// ---------------------------------------------------------------------------------------
// Reference arithmetic in Complex<f64>.

/// `op(a)` materialised.
pub fn op(o: Op, a: &Dm<Z>) -> Dm<Z> {
    match o {
        Op::NoTrans => a.clone(),
        Op::Trans => Dm::from_fn(a.n, a.m, |i, j| a.get(j, i)),
        Op::ConjTrans => Dm::from_fn(a.n, a.m, |i, j| a.get(j, i).conj()),
    }
}

pub fn adj(a: &Dm<Z>) -> Dm<Z> {
    op(Op::ConjTrans, a)
}

/// Naive `a * b`.
pub fn mul(a: &Dm<Z>, b: &Dm<Z>) -> Dm<Z> {
    assert_eq!(a.n, b.m, "mul: inner dimensions");
    let mut c = Dm::from_fn(a.m, b.n, |_, _| Z::new(0.0, 0.0));
    for j in 0..b.n {
        for l in 0..a.n {
            let blj = b.d[l + j * b.m];
            if blj == Z::new(0.0, 0.0) {
                continue;
            }
            let acol = &a.d[l * a.m..(l + 1) * a.m];
            let ccol = &mut c.d[j * c.m..(j + 1) * c.m];
            for (ci, &ai) in ccol.iter_mut().zip(acol) {
                *ci += ai * blj;
            }
        }
    }
    c
}

pub fn sub(a: &Dm<Z>, b: &Dm<Z>) -> Dm<Z> {
    assert_eq!((a.m, a.n), (b.m, b.n), "sub: shapes");
    Dm {
        m: a.m,
        n: a.n,
        d: a.d.iter().zip(&b.d).map(|(x, y)| x - y).collect(),
    }
}

pub fn add(a: &Dm<Z>, b: &Dm<Z>) -> Dm<Z> {
    assert_eq!((a.m, a.n), (b.m, b.n), "add: shapes");
    Dm {
        m: a.m,
        n: a.n,
        d: a.d.iter().zip(&b.d).map(|(x, y)| x + y).collect(),
    }
}

pub fn scal(s: Z, a: &Dm<Z>) -> Dm<Z> {
    Dm {
        m: a.m,
        n: a.n,
        d: a.d.iter().map(|x| s * x).collect(),
    }
}

/// Maximum column sum of moduli.
pub fn norm1(a: &Dm<Z>) -> f64 {
    (0..a.n)
        .map(|j| (0..a.m).map(|i| a.get(i, j).norm()).sum::<f64>())
        .fold(0.0, f64::max)
}

/// Maximum row sum of moduli.
pub fn norm_inf(a: &Dm<Z>) -> f64 {
    (0..a.m)
        .map(|i| (0..a.n).map(|j| a.get(i, j).norm()).sum::<f64>())
        .fold(0.0, f64::max)
}

pub fn norm_max(a: &Dm<Z>) -> f64 {
    a.d.iter().map(|x| x.norm()).fold(0.0, f64::max)
}

pub fn norm_fro(a: &Dm<Z>) -> f64 {
    a.d.iter().map(|x| x.norm_sqr()).sum::<f64>().sqrt()
}

/// The unit lower trapezoidal `m x k` factor stored below the diagonal of `f`.
pub fn unit_lower(f: &Dm<Z>, k: usize) -> Dm<Z> {
    Dm::from_fn(f.m, k, |i, j| {
        if i == j {
            Z::new(1.0, 0.0)
        } else if i > j {
            f.get(i, j)
        } else {
            Z::new(0.0, 0.0)
        }
    })
}

/// The upper trapezoidal `k x n` factor stored on and above the diagonal of `f`.
pub fn upper(f: &Dm<Z>, k: usize) -> Dm<Z> {
    Dm::from_fn(k, f.n, |i, j| {
        if i <= j {
            f.get(i, j)
        } else {
            Z::new(0.0, 0.0)
        }
    })
}

/// The lower triangle (with the diagonal) of a square `f`.
pub fn lower(f: &Dm<Z>) -> Dm<Z> {
    Dm::from_fn(f.m, f.n, |i, j| {
        if i >= j {
            f.get(i, j)
        } else {
            Z::new(0.0, 0.0)
        }
    })
}

/// Applies LAPACK-style 0-based row interchanges (row `i` with `ipiv[i]`, in order).
pub fn apply_swaps<T: Copy>(a: &mut Dm<T>, ipiv: &[usize]) {
    for (i, &p) in ipiv.iter().enumerate() {
        if p != i {
            for j in 0..a.n {
                let (x, y) = (a.get(i, j), a.get(p, j));
                a.set(i, j, y);
                a.set(p, j, x);
            }
        }
    }
}

/// The row permutation produced by the interchanges: `perm[k]` is the original row that
/// ends up in position `k`.
pub fn swaps_to_perm(m: usize, ipiv: &[usize]) -> Vec<usize> {
    let mut p: Vec<usize> = (0..m).collect();
    for (i, &q) in ipiv.iter().enumerate() {
        p.swap(i, q);
    }
    p
}

/// Solves `a x = b` (square `a`) by Gaussian elimination with partial pivoting, in f64.
pub fn solve(a: &Dm<Z>, b: &Dm<Z>) -> Dm<Z> {
    let n = a.m;
    assert_eq!(a.n, n);
    let mut a = a.clone();
    let mut b = b.clone();
    for k in 0..n {
        let p = (k..n)
            .max_by(|&x, &y| a.get(x, k).norm().total_cmp(&a.get(y, k).norm()))
            .unwrap();
        for j in 0..n {
            let (x, y) = (a.get(k, j), a.get(p, j));
            a.set(k, j, y);
            a.set(p, j, x);
        }
        for j in 0..b.n {
            let (x, y) = (b.get(k, j), b.get(p, j));
            b.set(k, j, y);
            b.set(p, j, x);
        }
        let piv = a.get(k, k);
        assert!(piv.norm() > 0.0, "reference solve: singular matrix");
        for i in k + 1..n {
            let l = a.get(i, k) / piv;
            if l == Z::new(0.0, 0.0) {
                continue;
            }
            for j in k..n {
                let v = a.get(i, j) - l * a.get(k, j);
                a.set(i, j, v);
            }
            for j in 0..b.n {
                let v = b.get(i, j) - l * b.get(k, j);
                b.set(i, j, v);
            }
        }
    }
    for j in 0..b.n {
        for i in (0..n).rev() {
            let mut s = b.get(i, j);
            for l in i + 1..n {
                s -= a.get(i, l) * b.get(l, j);
            }
            b.set(i, j, s / a.get(i, i));
        }
    }
    b
}

/// `value / denom`, or 0 when both are 0 (empty problems).
pub fn ratio(value: f64, denom: f64) -> f64 {
    if value == 0.0 {
        0.0
    } else {
        value / denom
    }
}

/// Asserts that a scaled residual is finite and below `limit`.
#[track_caller]
pub fn check_small(value: f64, limit: f64, what: impl std::fmt::Display) {
    assert!(
        value.is_finite() && value < limit,
        "{what}: scaled residual {value:.3e} (limit {limit})"
    );
}

/// Collects failed checks so that one test reports every failing case, not just the first.
#[derive(Default)]
pub struct Failures {
    list: Vec<String>,
    checks: usize,
}

impl Failures {
    pub fn new() -> Self {
        Self::default()
    }
    /// Records a failure unless `cond` holds.
    pub fn check(&mut self, cond: bool, what: impl FnOnce() -> String) {
        self.checks += 1;
        if !cond {
            self.list.push(what());
        }
    }
    /// Records a failure unless the scaled residual `value` is finite and below `limit`.
    pub fn small(&mut self, value: f64, limit: f64, what: impl std::fmt::Display) {
        self.check(value.is_finite() && value < limit, || {
            format!("{what}: scaled residual {value:.3e} (limit {limit})")
        });
    }
    /// Panics listing the failures (the first 25) if there are any.
    #[track_caller]
    pub fn finish(self, title: &str) {
        if !self.list.is_empty() {
            let shown: Vec<&str> = self.list.iter().take(25).map(|s| s.as_str()).collect();
            panic!(
                "{title}: {} of {} checks failed:\n  {}",
                self.list.len(),
                self.checks,
                shown.join("\n  ")
            );
        }
    }
}
