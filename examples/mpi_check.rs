//! Distributed checks under MPI, run by `scripts/test.sh` as
//! `mpirun -np N target/release/examples/mpi_check` for N = 1, 2 and 4: every algorithm on
//! every distribution that fits N ranks agrees with a single-process run on each rank (a
//! separate local runtime), bitwise where the operation order is the same; an error on one
//! rank reaches every rank. Exits non-zero (and MPI aborts the job) on any failure.

use faer::Mat;
use std::sync::Arc;
use tessera::comm::Mpi;
use tessera::dense;
use tessera::runtime::{Runtime, RuntimeConfig};
use tessera::tile::{BlockCyclic2D, Distribution, SymmetricBlockCyclic, TileMatrix};
use tessera::{Error, Norm, Op, Uplo};

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

fn same_bits(a: &Mat<f64>, b: &Mat<f64>, lower_only: bool) -> bool {
    (0..a.ncols()).all(|j| {
        (0..a.nrows())
            .filter(|&i| !lower_only || i >= j)
            .all(|i| a[(i, j)].to_bits() == b[(i, j)].to_bits())
    })
}

fn main() {
    let mpi = Mpi::init().expect("MPI");
    let nr = mpi.size();
    let rt = Runtime::new(RuntimeConfig::with_workers(1).transport(mpi.transport().unwrap()));
    let local = Runtime::new(RuntimeConfig::with_workers(1));
    let me = rt.rank();
    let say = |s: &str| {
        if me == 0 {
            println!("mpi_check ({nr} ranks): {s}");
        }
    };
    let mut dists: Vec<Arc<dyn Distribution>> = Vec::new();
    for p in 1..=nr {
        if nr % p == 0 {
            dists.push(Arc::new(BlockCyclic2D::new(p, nr / p)));
        }
    }
    if let Some(s) = SymmetricBlockCyclic::for_ranks(nr) {
        dists.push(Arc::new(s));
    }
    // A distribution over fewer ranks than the runtime (the others idle) must work too.
    if nr > 3 {
        dists.push(Arc::new(SymmetricBlockCyclic::new(3)));
    }

    let (n, nb) = (330, 48);
    // Cholesky.
    let reference = {
        let a = dense::plghe::<f64>(&local, n as f64, n, nb, 11).unwrap();
        dense::potrf(&local, Uplo::Lower, &a).unwrap();
        a.to_mat(&local).unwrap()
    };
    for d in &dists {
        let a = dense::plghe_on::<f64>(&rt, n as f64, n, nb, 11, d.clone()).unwrap();
        dense::potrf(&rt, Uplo::Lower, &a).unwrap();
        if let Some(g) = gather(&rt, &a) {
            assert!(same_bits(&g, &reference, true), "potrf on {d:?}");
        }
        say(&format!("potrf on {d:?}: bitwise equal"));
    }
    // LU and solve.
    let (lu_ref, ipiv_ref, x_ref) = {
        let a = dense::plrnt::<f64>(&local, n, n, nb, 5).unwrap();
        let b = dense::plrnt::<f64>(&local, n, 3, nb, 6).unwrap();
        let mut ipiv = vec![0; n];
        dense::getrf(&local, &a, &mut ipiv).unwrap();
        dense::getrs(&local, Op::NoTrans, &a, &ipiv, &b).unwrap();
        (a.to_mat(&local).unwrap(), ipiv, b.to_mat(&local).unwrap())
    };
    for d in dists
        .iter()
        .filter(|d| format!("{d:?}").contains("BlockCyclic2D"))
    {
        let a = dense::plrnt_on::<f64>(&rt, n, n, nb, 5, d.clone()).unwrap();
        let b = dense::plrnt_on::<f64>(&rt, n, 3, nb, 6, d.clone()).unwrap();
        let mut ipiv = vec![0; n];
        dense::getrf(&rt, &a, &mut ipiv).unwrap();
        dense::getrs(&rt, Op::NoTrans, &a, &ipiv, &b).unwrap();
        assert_eq!(ipiv, ipiv_ref, "pivots on {d:?}");
        let (ga, gb) = (gather(&rt, &a), gather(&rt, &b));
        if let (Some(ga), Some(gb)) = (ga, gb) {
            assert!(same_bits(&ga, &lu_ref, false), "getrf on {d:?}");
            assert!(same_bits(&gb, &x_ref, false), "getrs on {d:?}");
        }
        say(&format!("getrf + getrs on {d:?}: bitwise equal"));
    }
    // gemm, norms, least squares.
    let (m, k) = (260, 150);
    let (c_ref, norms_ref, x_ref) = {
        let a = dense::plrnt::<f64>(&local, m, k, nb, 1).unwrap();
        let b = dense::plrnt::<f64>(&local, k, m, nb, 2).unwrap();
        let c = dense::plrnt::<f64>(&local, m, m, nb, 3).unwrap();
        dense::gemm(&local, Op::NoTrans, Op::NoTrans, 1.5, &a, &b, -0.5, &c).unwrap();
        let norms: Vec<f64> = [Norm::One, Norm::Inf, Norm::Frobenius, Norm::Max]
            .iter()
            .map(|&w| dense::lange(&local, w, &c).unwrap())
            .collect();
        let x = dense::plrnt::<f64>(&local, m, 2, nb, 4).unwrap();
        dense::gels(&local, &a, &x).unwrap();
        (c.to_mat(&local).unwrap(), norms, x.to_mat(&local).unwrap())
    };
    for d in dists
        .iter()
        .filter(|d| format!("{d:?}").contains("BlockCyclic2D"))
    {
        let a = dense::plrnt_on::<f64>(&rt, m, k, nb, 1, d.clone()).unwrap();
        let b = dense::plrnt_on::<f64>(&rt, k, m, nb, 2, d.clone()).unwrap();
        let c = dense::plrnt_on::<f64>(&rt, m, m, nb, 3, d.clone()).unwrap();
        dense::gemm(&rt, Op::NoTrans, Op::NoTrans, 1.5, &a, &b, -0.5, &c).unwrap();
        for (w, r) in [Norm::One, Norm::Inf, Norm::Frobenius, Norm::Max]
            .iter()
            .zip(&norms_ref)
        {
            let v = dense::lange(&rt, *w, &c).unwrap();
            assert!(
                (v - r).abs() <= 1e-13 * r.abs(),
                "norm {w:?} on {d:?}: {v} vs {r}"
            );
        }
        let x = dense::plrnt_on::<f64>(&rt, m, 2, nb, 4, d.clone()).unwrap();
        dense::gels(&rt, &a, &x).unwrap();
        if let (Some(gc), Some(gx)) = (gather(&rt, &c), gather(&rt, &x)) {
            assert!(same_bits(&gc, &c_ref, false), "gemm on {d:?}");
            for j in 0..2 {
                for i in 0..k {
                    let (u, v) = (gx[(i, j)], x_ref[(i, j)]);
                    assert!((u - v).abs() <= 1e-12 * (1.0 + v.abs()), "gels on {d:?}");
                }
            }
        }
        say(&format!("gemm, norms, gels on {d:?}: agree"));
    }
    // Scatter from the last rank and gather back.
    let src = Mat::<f64>::from_fn(123, 77, |i, j| (i * 1000 + j) as f64);
    let root = nr - 1;
    let d: Arc<dyn Distribution> = Arc::new(BlockCyclic2D::new(1, nr));
    let s = TileMatrix::scatter(
        &rt,
        root,
        (me == root).then(|| src.as_ref()),
        (123, 77),
        32,
        32,
        d,
    )
    .unwrap();
    if let Some(g) = gather(&rt, &s) {
        assert!(same_bits(&g, &src, false), "scatter/gather");
    }
    say("scatter from the last rank, gather to rank 0: exact");
    // A non-positive pivot on the rank that owns it reaches every rank as the same error.
    let d: Arc<dyn Distribution> = Arc::new(BlockCyclic2D::new(1, nr));
    let a = dense::plghe_on::<f64>(&rt, 256.0, 256, 32, 3, d).unwrap();
    {
        let seq = rt.sequence();
        let mut t = seq.task("poison").on_rank(a.owner(6, 6));
        let mut w = t.read_write(a.tile(6, 6));
        t.submit(move |ctx| {
            w.get_mut(ctx).col_mut(7)[7] = -1e6;
            Ok(())
        })
        .unwrap();
        seq.wait().unwrap();
    }
    match dense::potrf(&rt, Uplo::Lower, &a) {
        Err(Error::NotPositiveDefinite { order: 200 }) => {}
        other => panic!("rank {me}: expected the order-200 failure, got {other:?}"),
    }
    say("a non-positive pivot on one rank: every rank reports order 200");
    let (sent, received) = rt.comm_bytes();
    println!("mpi_check rank {me}: sent {sent} bytes, received {received} bytes");
    drop(rt);
    drop(local);
    drop(mpi);
}
