//! Tiled algorithms at moderate sizes (f64, all cores): gemm, potrf, getrf, getrf_nopiv,
//! geqrf. `tessera bench OP --compare faer|lapack` gives the side-by-side ratios at full size.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tessera::dense;
use tessera::runtime::Runtime;
use tessera::tile::TileMatrix;
use tessera::{Op, Uplo};

fn bench(c: &mut Criterion) {
    let rt = Runtime::with_default();
    let n = 1000;
    let nb = dense::auto_tile_size(n, n, rt.workers());
    let fl = |f: f64| Throughput::Elements(f as u64);
    let nf = n as f64;
    let mut g = c.benchmark_group("dense_f64_n1000");
    g.sample_size(10);
    g.throughput(fl(dense::flops::gemm(nf, nf, nf)));
    let a = dense::plrnt::<f64>(&rt, n, n, nb, 1).unwrap();
    let b = dense::plrnt::<f64>(&rt, n, n, nb, 2).unwrap();
    let cm = TileMatrix::<f64>::zeros(n, n, nb, nb);
    g.bench_function("gemm", |bch| {
        bch.iter(|| dense::gemm(&rt, Op::NoTrans, Op::NoTrans, 1.0, &a, &b, 0.0, &cm).unwrap())
    });
    g.throughput(fl(dense::flops::potrf(nf)));
    g.bench_function("potrf", |bch| {
        bch.iter_batched(
            || dense::plghe::<f64>(&rt, nf, n, nb, 3).unwrap(),
            |a| dense::potrf(&rt, Uplo::Lower, &a).unwrap(),
            criterion::BatchSize::LargeInput,
        )
    });
    g.throughput(fl(dense::flops::getrf(nf, nf)));
    g.bench_function("getrf", |bch| {
        let mut ipiv = vec![0; n];
        bch.iter_batched(
            || dense::plrnt::<f64>(&rt, n, n, nb, 4).unwrap(),
            |a| dense::getrf(&rt, &a, &mut ipiv).unwrap(),
            criterion::BatchSize::LargeInput,
        )
    });
    g.bench_function("getrf_nopiv", |bch| {
        bch.iter_batched(
            || dense::plgsy::<f64>(&rt, nf, n, nb, 5).unwrap(),
            |a| dense::getrf_nopiv(&rt, &a).unwrap(),
            criterion::BatchSize::LargeInput,
        )
    });
    g.throughput(fl(dense::flops::geqrf(nf, nf)));
    g.bench_function("geqrf", |bch| {
        bch.iter_batched(
            || dense::plrnt::<f64>(&rt, n, n, nb, 6).unwrap(),
            |a| {
                let t = dense::qr_workspace(&a);
                dense::geqrf(&rt, &a, &t).unwrap()
            },
            criterion::BatchSize::LargeInput,
        )
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
