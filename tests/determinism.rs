//! Determinism: the same input gives bitwise identical factors (Cholesky, LU with its
//! pivots, QR with its block-reflector factors, least squares) whatever the number of
//! workers (1, 2, 4) and the submission window, since conflicting tile accesses run in
//! submission order and every kernel is sequential.

mod common;

use common::*;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use tessera::dense::{self, LuOptions, PIVOT_NONE};
use tessera::runtime::{Handle, Runtime, RuntimeConfig};
use tessera::{c64, Scalar, Uplo};

const WORKERS: [usize; 3] = [1, 2, 4];

fn runtimes() -> Vec<Runtime> {
    let mut v: Vec<Runtime> = WORKERS.iter().map(|&w| runtime(w)).collect();
    // And one with a tiny submission window.
    let mut cfg = RuntimeConfig::with_workers(3);
    cfg.window = 16;
    v.push(Runtime::new(cfg));
    v
}

/// Runs `f` on every runtime and checks that all results are bitwise equal to the first.
fn same_everywhere<R>(
    what: &str,
    f: impl Fn(&Runtime) -> R,
    eq: impl Fn(&R, &R) -> Option<String>,
) {
    let rts = runtimes();
    let first = f(&rts[0]);
    for (rt, label) in rts
        .iter()
        .zip(["1 worker", "2 workers", "4 workers", "3 workers, window 16"])
        .skip(1)
    {
        for rep in 0..2 {
            let other = f(rt);
            if let Some(diff) = eq(&first, &other) {
                panic!("{what}: {label} (run {rep}) differs from 1 worker: {diff}");
            }
        }
    }
}

fn mat_diff<T: Scalar>(a: &Dm<T>, b: &Dm<T>) -> Option<String> {
    if a.bits_eq(b) {
        None
    } else {
        Some(format!(
            "{} of {} entries differ",
            a.bits_diff(b),
            a.d.len()
        ))
    }
}

fn potrf_case<T: Scalar>(n: usize, nb: usize, uplo: Uplo) {
    same_everywhere(
        &format!("potrf {} n={n} nb={nb} {uplo:?}", T::DTYPE.name()),
        |rt| {
            let a = dense::plghe::<T>(rt, n as f64, n, nb, 3).unwrap();
            dense::potrf(rt, uplo, &a).unwrap();
            Dm::of(rt, &a)
        },
        mat_diff,
    );
}

fn getrf_case<T: Scalar>(m: usize, n: usize, nb: usize) {
    same_everywhere(
        &format!("getrf {} {m}x{n} nb={nb}", T::DTYPE.name()),
        |rt| {
            let a = dense::plrnt::<T>(rt, m, n, nb, 4).unwrap();
            let mut ipiv = vec![0; m.min(n)];
            dense::getrf(rt, &a, &mut ipiv).unwrap();
            (Dm::of(rt, &a), ipiv)
        },
        |a, b| {
            if a.1 != b.1 {
                Some("pivots differ".into())
            } else {
                mat_diff(&a.0, &b.0)
            }
        },
    );
}

fn geqrf_case<T: Scalar>(m: usize, n: usize, nb: usize) {
    same_everywhere(
        &format!("geqrf {} {m}x{n} nb={nb}", T::DTYPE.name()),
        |rt| {
            let a = dense::plrnt::<T>(rt, m, n, nb, 5).unwrap();
            let t = dense::qr_workspace(&a);
            dense::geqrf(rt, &a, &t).unwrap();
            (Dm::of(rt, &a), Dm::of(rt, &t))
        },
        |a, b| {
            mat_diff(&a.0, &b.0).or_else(|| mat_diff(&a.1, &b.1).map(|d| format!("T factors: {d}")))
        },
    );
}

#[test]
fn potrf_is_deterministic() {
    potrf_case::<f64>(100, 8, Uplo::Lower);
    potrf_case::<f64>(97, 16, Uplo::Upper);
    potrf_case::<c64>(61, 8, Uplo::Lower);
    potrf_case::<f32>(75, 7, Uplo::Upper);
}

#[test]
fn getrf_is_deterministic() {
    getrf_case::<f64>(100, 100, 8);
    getrf_case::<f64>(130, 70, 16);
    getrf_case::<f64>(50, 90, 8);
    getrf_case::<c64>(61, 61, 8);
    getrf_case::<f32>(75, 75, 7);
}

#[test]
fn geqrf_is_deterministic() {
    geqrf_case::<f64>(100, 100, 8);
    geqrf_case::<f64>(130, 70, 16);
    geqrf_case::<f64>(50, 90, 8);
    geqrf_case::<c64>(61, 45, 8);
}

/// The asynchronous LU with many small row-interchange tasks (a tiny swap batch) is
/// deterministic too, and agrees with `getrf`.
#[test]
fn getrf_async_small_swap_batches_is_deterministic() {
    let (n, nb) = (96, 8);
    let run = |rt: &Runtime, swap_bytes: usize| {
        let a = dense::plrnt::<f64>(rt, n, n, nb, 6).unwrap();
        let kt = n.div_ceil(nb);
        let pivots: Vec<Handle<Vec<usize>>> = (0..kt).map(|_| Handle::new(Vec::new(), 0)).collect();
        let info = Arc::new(AtomicUsize::new(PIVOT_NONE));
        let mut opts = LuOptions::default();
        opts.swap_task_bytes = swap_bytes;
        let seq = rt.sequence();
        dense::getrf_async(&seq, &a, &pivots, &info, opts).unwrap();
        seq.wait().unwrap();
        drop(seq);
        let mut ipiv = Vec::new();
        for (k, p) in pivots.into_iter().enumerate() {
            ipiv.extend(p.into_inner().ok().unwrap().into_iter().map(|r| k * nb + r));
        }
        assert_eq!(info.load(std::sync::atomic::Ordering::Relaxed), PIVOT_NONE);
        (Dm::of(rt, &a), ipiv)
    };
    same_everywhere(
        "getrf_async, 1-byte swap tasks",
        |rt| run(rt, 1),
        |a, b| {
            if a.1 != b.1 {
                Some("pivots differ".into())
            } else {
                mat_diff(&a.0, &b.0)
            }
        },
    );
    // Same result as the default batching and as getrf.
    let rt = runtime(2);
    let small = run(&rt, 1);
    let big = run(&rt, usize::MAX / 4);
    assert_eq!(small.1, big.1);
    assert!(
        small.0.bits_eq(&big.0),
        "the swap batching changes the factors"
    );
    let a = dense::plrnt::<f64>(&rt, n, n, nb, 6).unwrap();
    let mut ipiv = vec![0; n];
    dense::getrf(&rt, &a, &mut ipiv).unwrap();
    assert_eq!(ipiv, small.1);
    assert!(Dm::of(&rt, &a).bits_eq(&small.0));
}

#[test]
fn solvers_are_deterministic() {
    same_everywhere(
        "gels 120x70 and 70x120 nb=8",
        |rt| {
            let mut out = Vec::new();
            for (m, n) in [(120, 70), (70, 120)] {
                let a = dense::plrnt::<f64>(rt, m, n, 8, 7).unwrap();
                let b = dense::plrnt::<f64>(rt, m.max(n), 3, 8, 8).unwrap();
                dense::gels(rt, &a, &b).unwrap();
                out.push(Dm::of(rt, &b));
            }
            out
        },
        |a, b| mat_diff(&a[0], &b[0]).or_else(|| mat_diff(&a[1], &b[1])),
    );
    same_everywhere(
        "posv and gesv n=90 nb=8",
        |rt| {
            let a = dense::plghe::<c64>(rt, 90.0, 90, 8, 9).unwrap();
            let b = dense::plrnt::<c64>(rt, 90, 4, 8, 10).unwrap();
            dense::posv(rt, Uplo::Upper, &a, &b).unwrap();
            let g = dense::plrnt::<c64>(rt, 90, 90, 8, 11).unwrap();
            let c = dense::plrnt::<c64>(rt, 90, 4, 8, 12).unwrap();
            let mut ipiv = vec![0; 90];
            dense::gesv(rt, &g, &mut ipiv, &c).unwrap();
            (Dm::of(rt, &b), Dm::of(rt, &c), ipiv)
        },
        |a, b| {
            mat_diff(&a.0, &b.0)
                .or_else(|| mat_diff(&a.1, &b.1))
                .or_else(|| (a.2 != b.2).then(|| "pivots differ".into()))
        },
    );
}
