//! `tessera bench OP --grid PxQ [--dist 2dbc|sbc]`: the distributed benchmark, one process
//! per rank under mpirun. Every rank generates its own tiles, the operation is timed
//! between two collectives, the result is checked by a distributed solve whose solution
//! is gathered to rank 0, and each rank's bytes sent and received are reported.

use crate::bench::Args;
#[cfg(feature = "mpi")]
use crate::bench::BenchOp;
use tessera::{Error, Result};

#[cfg(not(feature = "mpi"))]
pub fn run(a: &Args) -> Result<bool> {
    let _ = a;
    Err(Error::InvalidArgument {
        position: 0,
        message: "--grid needs a build with MPI: cargo build --release --features mpi, then \
                  mpirun -np P*Q tessera bench OP --grid PxQ"
            .into(),
    })
}

#[cfg(feature = "mpi")]
pub fn run(a: &Args) -> Result<bool> {
    let mpi = tessera::comm::Mpi::init()?;
    let out = run_on(a, &mpi);
    drop(mpi);
    out
}

#[cfg(feature = "mpi")]
fn run_on(a: &Args, mpi: &tessera::comm::Mpi) -> Result<bool> {
    use faer::Mat;
    use std::sync::Arc;
    use std::time::Instant;
    use tessera::dense::{self, flops};
    use tessera::runtime::{Runtime, RuntimeConfig};
    use tessera::tile::TileMatrix;
    use tessera::tile::{BlockCyclic2D, Distribution, SymmetricBlockCyclic};
    use tessera::{Op, Uplo};

    let bad = |m: String| Error::InvalidArgument {
        position: 0,
        message: m,
    };
    let (p, q) = a.grid.expect("a grid");
    if p * q != mpi.size() {
        return Err(bad(format!(
            "--grid {p}x{q} needs {} ranks but mpirun started {}",
            p * q,
            mpi.size()
        )));
    }
    let dist: Arc<dyn Distribution> = match a.dist.as_str() {
        "sbc" => Arc::new(SymmetricBlockCyclic::for_ranks(p * q).ok_or_else(|| {
            bad(format!(
                "--dist sbc needs r(r-1)/2 ranks (1, 3, 6, 10, ...), not {}",
                p * q
            ))
        })?),
        _ => Arc::new(BlockCyclic2D::new(p, q)),
    };
    if a.dist == "sbc" && !matches!(a.op, BenchOp::Potrf | BenchOp::Posv) {
        return Err(bad("--dist sbc is for Cholesky (potrf, posv)".into()));
    }
    let n = a.n;
    let nb =
        a.nb.unwrap_or_else(|| dense::auto_tile_size(n, n, a.threads * p * q));
    let rt = Runtime::new(RuntimeConfig::with_workers(a.threads).transport(mpi.transport()?));
    let me = rt.rank();
    let (seed_a, seed_b) = (3, 4);
    let gen_a = || match a.op {
        BenchOp::Potrf | BenchOp::Posv => {
            dense::plghe_on::<f64>(&rt, n as f64, n, nb, seed_a, dist.clone())
        }
        _ => dense::plrnt_on::<f64>(&rt, n, n, nb, seed_a, dist.clone()),
    };
    let mut best = f64::INFINITY;
    let mut bytes = (0, 0);
    let mut residual = 0.0;
    for _ in 0..a.repeat {
        let ta = gen_a()?;
        let tb = dense::plrnt_on::<f64>(&rt, n, 1, nb, seed_b, dist.clone())?;
        // gemm: D = A C.
        let (tc, td) = if a.op == BenchOp::Gemm {
            (
                Some(dense::plrnt_on::<f64>(&rt, n, n, nb, seed_b, dist.clone())?),
                Some(TileMatrix::<f64>::new_distributed(
                    &rt,
                    n,
                    n,
                    nb,
                    nb,
                    dist.clone(),
                )?),
            )
        } else {
            (None, None)
        };
        let mut ipiv = vec![0; n];
        rt.agree_min(0);
        let (s0, r0) = rt.comm_bytes();
        rt.set_tracing(a.trace.is_some());
        let t = Instant::now();
        match a.op {
            BenchOp::Potrf => dense::potrf(&rt, Uplo::Lower, &ta)?,
            BenchOp::Posv => dense::posv(&rt, Uplo::Lower, &ta, &tb)?,
            BenchOp::Getrf => dense::getrf(&rt, &ta, &mut ipiv)?,
            BenchOp::Gesv => dense::gesv(&rt, &ta, &mut ipiv, &tb)?,
            BenchOp::Gemm => {
                let (c, d) = (tc.as_ref().unwrap(), td.as_ref().unwrap());
                dense::gemm(&rt, Op::NoTrans, Op::NoTrans, 1.0, &ta, c, 0.0, d)?
            }
            other => {
                return Err(bad(format!(
                    "--grid runs potrf, posv, getrf, gesv and gemm, not {}",
                    other.name()
                )))
            }
        }
        rt.agree_min(0);
        let secs = t.elapsed().as_secs_f64();
        rt.set_tracing(false);
        if let Some(path) = &a.trace {
            // One file per rank; times are from each process's own clock.
            let tr = rt.take_trace();
            let path = format!("{path}.rank{me}.json");
            std::fs::write(&path, tr.to_chrome_json())
                .map_err(|e| bad(format!("cannot write the trace {path}: {e}")))?;
            eprintln!("rank {me}: {}", tr.summary());
        }
        let (s1, r1) = rt.comm_bytes();
        if secs < best {
            best = secs;
            bytes = (s1 - s0, r1 - r0);
        }
        // Check: a distributed solve (for the factorizations), gathered to rank 0 and
        // compared there with the matrix regenerated in LAPACK layout.
        match a.op {
            BenchOp::Potrf => dense::potrs(&rt, Uplo::Lower, &ta, &tb)?,
            BenchOp::Getrf => dense::getrs(&rt, Op::NoTrans, &ta, &ipiv, &tb)?,
            BenchOp::Gemm => {
                // tb = D y with y random (Freivalds' check).
                let y = dense::plrnt_on::<f64>(&rt, n, 1, nb, 99, dist.clone())?;
                dense::gemm(
                    &rt,
                    Op::NoTrans,
                    Op::NoTrans,
                    1.0,
                    td.as_ref().unwrap(),
                    &y,
                    0.0,
                    &tb,
                )?;
            }
            _ => {}
        }
        let mut x = (me == 0).then(|| Mat::<f64>::zeros(tb.m(), tb.n()));
        tb.gather(&rt, 0, x.as_mut().map(|x| x.as_mut()))?;
        if let Some(x) = x {
            let local = Runtime::new(RuntimeConfig::with_workers(a.threads));
            let a0 = match a.op {
                BenchOp::Potrf | BenchOp::Posv => {
                    dense::plghe::<f64>(&local, n as f64, n, nb, seed_a)?
                }
                _ => dense::plrnt::<f64>(&local, n, n, nb, seed_a)?,
            }
            .to_mat(&local)?;
            let b0 = dense::plrnt::<f64>(&local, n, 1, nb, seed_b)?.to_mat(&local)?;
            let inf = |m: faer::MatRef<'_, f64>| {
                (0..m.nrows())
                    .map(|i| (0..m.ncols()).map(|j| m[(i, j)].abs()).sum::<f64>())
                    .fold(0.0, f64::max)
            };
            residual = if a.op == BenchOp::Gemm {
                // x = (A C) y: compare with A (C y).
                let c0 = dense::plrnt::<f64>(&local, n, n, nb, seed_b)?.to_mat(&local)?;
                let y = dense::plrnt::<f64>(&local, n, 1, nb, 99)?.to_mat(&local)?;
                let r = &x - &a0 * (&c0 * &y);
                inf(r.as_ref())
                    / (f64::EPSILON
                        * inf(a0.as_ref())
                        * inf(c0.as_ref())
                        * inf(y.as_ref())
                        * n as f64)
            } else {
                let r = &a0 * &x - &b0;
                inf(r.as_ref())
                    / (f64::EPSILON
                        * (inf(a0.as_ref()) * inf(x.as_ref()) + inf(b0.as_ref()))
                        * n as f64)
            };
        }
    }
    let residual = f64::from_bits(rt.allgather_u64(residual.to_bits())[0]);
    let sent = rt.allgather_u64(bytes.0);
    let received = rt.allgather_u64(bytes.1);
    let f = n as f64;
    let fl = match a.op {
        BenchOp::Potrf => flops::potrf(f),
        BenchOp::Posv => flops::potrf(f) + 2.0 * flops::trsm(f, 1.0),
        BenchOp::Getrf => flops::getrf(f, f),
        BenchOp::Gesv => flops::getrf(f, f) + 2.0 * flops::trsm(f, 1.0),
        _ => flops::gemm(f, f, f),
    };
    let gflops = fl / best / 1e9;
    let passed = residual.is_finite() && residual < 16.0;
    if me == 0 {
        let dname = if a.dist == "sbc" { "sbc" } else { "2dbc" };
        if a.json {
            let list = |v: &[u64]| {
                v.iter()
                    .map(|x| x.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            println!(
                "{{\"op\": \"{}\", \"n\": {n}, \"nb\": {nb}, \"grid\": [{p}, {q}], \"dist\": \"{dname}\", \
                 \"workers_per_rank\": {}, \"kernels\": \"{}\", \"seconds\": {best:.6}, \
                 \"gflops\": {gflops:.3}, \"residual\": {residual:.3e}, \"passed\": {passed}, \
                 \"bytes_sent\": [{}], \"bytes_received\": [{}]}}",
                a.op.name(),
                a.threads,
                tessera::kernels::sysblas::backend_name(),
                list(&sent),
                list(&received)
            );
        } else {
            println!(
                "{} n={n} nb={nb} grid={p}x{q} dist={dname} workers/rank={} kernels={}: {best:.3} s, {gflops:.2} Gflop/s, residual {residual:.2e} {}",
                a.op.name(),
                a.threads,
                tessera::kernels::sysblas::backend_name(),
                if passed { "PASSED" } else { "FAILED" }
            );
            for r in 0..p * q {
                println!(
                    "  rank {r}: sent {} bytes, received {} bytes",
                    sent[r], received[r]
                );
            }
            println!("  total sent: {} bytes", sent.iter().sum::<u64>());
        }
    }
    Ok(passed)
}
