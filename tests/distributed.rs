//! Distributed execution with ranks as runtimes of one process ([`LocalTransport`]): the
//! same code paths as MPI (owner computes, transfers, caches, error agreement), checked
//! against single-process runs. Under MPI the same checks run from `tests/mpi.rs`.

use faer::Mat;
use std::sync::Arc;
use tessera::dense;
use tessera::runtime::{LocalTransport, Runtime, RuntimeConfig};
use tessera::tile::{BlockCyclic2D, Distribution, SymmetricBlockCyclic, TileMatrix};
use tessera::{Error, Op, Uplo};

/// Runs `f` on `n` ranks (threads), each with its own runtime of `workers` workers.
fn on_ranks<R: Send + 'static>(
    n: usize,
    workers: usize,
    f: impl Fn(&Runtime) -> R + Send + Sync + 'static,
) -> Vec<R> {
    let f = Arc::new(f);
    let handles: Vec<_> = LocalTransport::group(n)
        .into_iter()
        .map(|t| {
            let f = f.clone();
            std::thread::spawn(move || {
                let rt = Runtime::new(RuntimeConfig::with_workers(workers).transport(t));
                f(&rt)
            })
        })
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).collect()
}

fn gather(rt: &Runtime, a: &TileMatrix<f64>) -> Option<Mat<f64>> {
    if rt.rank() == 0 {
        let mut m = Mat::zeros(a.m(), a.n());
        a.gather(rt, 0, Some(m.as_mut())).unwrap();
        Some(m)
    } else {
        a.gather(rt, 0, None).unwrap();
        None
    }
}

fn single_rank<R>(f: impl FnOnce(&Runtime) -> R) -> R {
    f(&Runtime::new(RuntimeConfig::with_workers(2)))
}

fn same_bits(a: &Mat<f64>, b: &Mat<f64>, lower_only: bool) -> bool {
    (0..a.ncols()).all(|j| {
        (0..a.nrows())
            .filter(|&i| !lower_only || i >= j)
            .all(|i| a[(i, j)].to_bits() == b[(i, j)].to_bits())
    })
}

fn dists(n: usize) -> Vec<Arc<dyn Distribution>> {
    let mut v: Vec<Arc<dyn Distribution>> = Vec::new();
    for p in 1..=n {
        if n % p == 0 {
            v.push(Arc::new(BlockCyclic2D::new(p, n / p)));
        }
    }
    if let Some(s) = SymmetricBlockCyclic::for_ranks(n) {
        v.push(Arc::new(s));
    }
    v
}

#[test]
fn potrf_matches_one_process_bitwise() {
    let (n, nb) = (330, 64);
    let reference = single_rank(|rt| {
        let a = dense::plghe::<f64>(rt, n as f64, n, nb, 11).unwrap();
        dense::potrf(rt, Uplo::Lower, &a).unwrap();
        a.to_mat(rt).unwrap()
    });
    for ranks in [2, 3, 4] {
        for d in dists(ranks) {
            let label = format!("{d:?} on {ranks} ranks");
            let spans = d.nranks();
            let out = on_ranks(ranks, 1, move |rt| {
                let a = dense::plghe_on::<f64>(rt, n as f64, n, nb, 11, d.clone()).unwrap();
                dense::potrf(rt, Uplo::Lower, &a).unwrap();
                (gather(rt, &a), rt.comm_bytes())
            });
            let got = out[0].0.as_ref().unwrap();
            assert!(same_bits(got, &reference, true), "{label}");
            if ranks > 1 && spans > 1 {
                let sent: u64 = out.iter().map(|o| o.1 .0).sum();
                let received: u64 = out.iter().map(|o| o.1 .1).sum();
                assert_eq!(sent, received, "{label}");
                assert!(sent > 0, "{label}");
            }
        }
    }
}

#[test]
fn getrf_and_gesv_match_one_process_bitwise() {
    let (n, nb) = (300, 48);
    let (reference, ref_ipiv, ref_x) = single_rank(|rt| {
        let a = dense::plrnt::<f64>(rt, n, n, nb, 5).unwrap();
        let b = dense::plrnt::<f64>(rt, n, 3, nb, 6).unwrap();
        let mut ipiv = vec![0; n];
        dense::getrf(rt, &a, &mut ipiv).unwrap();
        dense::getrs(rt, Op::NoTrans, &a, &ipiv, &b).unwrap();
        (a.to_mat(rt).unwrap(), ipiv, b.to_mat(rt).unwrap())
    });
    for (p, q) in [(1, 2), (2, 1), (2, 2), (1, 3)] {
        let out = on_ranks(p * q, 1, move |rt| {
            let d: Arc<dyn Distribution> = Arc::new(BlockCyclic2D::new(p, q));
            let a = dense::plrnt_on::<f64>(rt, n, n, nb, 5, d.clone()).unwrap();
            let b = dense::plrnt_on::<f64>(rt, n, 3, nb, 6, d).unwrap();
            let mut ipiv = vec![0; n];
            dense::getrf(rt, &a, &mut ipiv).unwrap();
            dense::getrs(rt, Op::NoTrans, &a, &ipiv, &b).unwrap();
            (gather(rt, &a), gather(rt, &b), ipiv)
        });
        for o in &out {
            assert_eq!(o.2, ref_ipiv, "{p}x{q}: every rank has the pivots");
        }
        assert!(
            same_bits(out[0].0.as_ref().unwrap(), &reference, false),
            "{p}x{q}"
        );
        assert!(
            same_bits(out[0].1.as_ref().unwrap(), &ref_x, false),
            "{p}x{q}"
        );
    }
}

#[test]
fn gemm_gels_and_norms_match_one_process() {
    let (m, n, nb) = (260, 150, 40);
    let reference = single_rank(|rt| {
        let a = dense::plrnt::<f64>(rt, m, n, nb, 1).unwrap();
        let b = dense::plrnt::<f64>(rt, n, m, nb, 2).unwrap();
        let c = dense::plrnt::<f64>(rt, m, m, nb, 3).unwrap();
        dense::gemm(rt, Op::NoTrans, Op::NoTrans, 1.5, &a, &b, -0.5, &c).unwrap();
        let norms: Vec<f64> = [
            tessera::Norm::One,
            tessera::Norm::Inf,
            tessera::Norm::Frobenius,
            tessera::Norm::Max,
        ]
        .iter()
        .map(|&k| dense::lange(rt, k, &c).unwrap())
        .collect();
        let x = dense::plrnt::<f64>(rt, m, 2, nb, 4).unwrap();
        dense::gels(rt, &a, &x).unwrap();
        (c.to_mat(rt).unwrap(), norms, x.to_mat(rt).unwrap())
    });
    for (p, q) in [(2, 2), (1, 2)] {
        let out = on_ranks(p * q, 1, move |rt| {
            let d: Arc<dyn Distribution> = Arc::new(BlockCyclic2D::new(p, q));
            let a = dense::plrnt_on::<f64>(rt, m, n, nb, 1, d.clone()).unwrap();
            let b = dense::plrnt_on::<f64>(rt, n, m, nb, 2, d.clone()).unwrap();
            let c = dense::plrnt_on::<f64>(rt, m, m, nb, 3, d.clone()).unwrap();
            dense::gemm(rt, Op::NoTrans, Op::NoTrans, 1.5, &a, &b, -0.5, &c).unwrap();
            let norms: Vec<f64> = [
                tessera::Norm::One,
                tessera::Norm::Inf,
                tessera::Norm::Frobenius,
                tessera::Norm::Max,
            ]
            .iter()
            .map(|&k| dense::lange(rt, k, &c).unwrap())
            .collect();
            let x = dense::plrnt_on::<f64>(rt, m, 2, nb, 4, d).unwrap();
            dense::gels(rt, &a, &x).unwrap();
            (gather(rt, &c), norms, gather(rt, &x))
        });
        assert!(
            same_bits(out[0].0.as_ref().unwrap(), &reference.0, false),
            "{p}x{q} gemm"
        );
        for o in &out {
            for (x, y) in o.1.iter().zip(&reference.1) {
                assert!((x - y).abs() <= 1e-13 * y.abs(), "{p}x{q} norm {x} vs {y}");
            }
        }
        let x = out[0].2.as_ref().unwrap();
        for j in 0..2 {
            for i in 0..n {
                let (u, v) = (x[(i, j)], reference.2[(i, j)]);
                assert!(
                    (u - v).abs() <= 1e-12 * (1.0 + v.abs()),
                    "{p}x{q} gels {u} vs {v}"
                );
            }
        }
    }
}

#[test]
fn scatter_and_gather_round_trip() {
    let (m, n) = (123, 77);
    let src = Mat::<f64>::from_fn(m, n, |i, j| (i * 1000 + j) as f64);
    let out = on_ranks(3, 1, move |rt| {
        let d: Arc<dyn Distribution> = Arc::new(BlockCyclic2D::new(1, 3));
        let a = if rt.rank() == 1 {
            TileMatrix::scatter(rt, 1, Some(src.as_ref()), (m, n), 32, 32, d)
        } else {
            TileMatrix::scatter(rt, 1, None, (m, n), 32, 32, d)
        }
        .unwrap();
        // Each rank holds only its own tiles.
        gather(rt, &a)
    });
    let got = out[0].as_ref().unwrap();
    for j in 0..n {
        for i in 0..m {
            assert_eq!(got[(i, j)], (i * 1000 + j) as f64);
        }
    }
}

#[test]
fn a_failure_on_one_rank_reaches_every_rank() {
    // Not positive definite at order 200: the failing diagonal tile lives on one rank.
    let (n, nb) = (256, 32);
    for ranks in [2, 4] {
        let out = on_ranks(ranks, 1, move |rt| {
            let d: Arc<dyn Distribution> = Arc::new(BlockCyclic2D::new(ranks / 2, 2));
            let a = dense::plghe_on::<f64>(rt, n as f64, n, nb, 3, d.clone()).unwrap();
            // Make A(199, 199) hugely negative through a rank-local task on its owner.
            let seq = rt.sequence();
            let (ti, off) = (199 / nb, 199 % nb);
            let mut t = seq.task("poison").on_rank(a.owner(ti, ti));
            let mut w = t.read_write(a.tile(ti, ti));
            t.submit(move |ctx| {
                let tile = w.get_mut(ctx);
                let m = tile.m;
                tile.data[off * m + off] = -1e6;
                Ok(())
            })
            .unwrap();
            seq.wait().unwrap();
            drop(seq);
            dense::potrf(rt, Uplo::Lower, &a)
        });
        for (r, o) in out.iter().enumerate() {
            match o {
                Err(Error::NotPositiveDefinite { order }) => assert_eq!(*order, 200, "rank {r}"),
                other => panic!("rank {r} of {ranks}: {other:?}"),
            }
        }
    }
}

#[test]
fn sbc_sends_fewer_bytes_than_2dbc_for_cholesky() {
    let (n, nb) = (960, 64);
    let bytes = |d: Arc<dyn Distribution>, ranks: usize| -> u64 {
        on_ranks(ranks, 1, move |rt| {
            let a = dense::plghe_on::<f64>(rt, n as f64, n, nb, 2, d.clone()).unwrap();
            let before = rt.comm_bytes().0;
            dense::potrf(rt, Uplo::Lower, &a).unwrap();
            rt.comm_bytes().0 - before
        })
        .iter()
        .sum()
    };
    for (ranks, p, q) in [(3, 1, 3), (6, 2, 3)] {
        let sbc = bytes(
            Arc::new(SymmetricBlockCyclic::for_ranks(ranks).unwrap()),
            ranks,
        );
        let bc = bytes(Arc::new(BlockCyclic2D::new(p, q)), ranks);
        assert!(
            sbc < bc,
            "{ranks} ranks: SBC {sbc} bytes, 2DBC {p}x{q} {bc} bytes"
        );
    }
}
