//! Prints the single-thread GFLOP/s of the tile kernels for a few tile sizes (helps pick nb).
use faer::Mat;
use std::time::Instant;
use tessera_kernels::*;
fn main() {
    for nb in [128usize, 192, 256, 320, 384, 512] {
        let a = Mat::<f64>::from_fn(nb, nb, |i, j| {
            ((i * 7 + j * 13) % 17) as f64 * 0.01 + if i == j { nb as f64 } else { 0.0 }
        });
        let b = a.clone();
        let mut c = Mat::<f64>::zeros(nb, nb);
        let reps = (2e9 / (2.0 * (nb as f64).powi(3))) as usize + 1;
        let t = Instant::now();
        for _ in 0..reps {
            gemm(
                Op::NoTrans,
                Op::Trans,
                -1.0,
                a.as_ref(),
                b.as_ref(),
                1.0,
                c.as_mut(),
            );
        }
        let g = 2.0 * (nb as f64).powi(3) * reps as f64 / t.elapsed().as_secs_f64() / 1e9;
        let t = Instant::now();
        for _ in 0..reps {
            let mut x = b.clone();
            trsm(
                Side::Right,
                Uplo::Lower,
                Op::ConjTrans,
                Diag::NonUnit,
                1.0,
                a.as_ref(),
                x.as_mut(),
            );
        }
        let tr = (nb as f64).powi(3) * reps as f64 / t.elapsed().as_secs_f64() / 1e9;
        let t = Instant::now();
        for _ in 0..reps {
            herk(Uplo::Lower, Op::NoTrans, -1.0, a.as_ref(), 1.0, c.as_mut());
        }
        let hk = (nb as f64).powi(3) * reps as f64 / t.elapsed().as_secs_f64() / 1e9;
        let t = Instant::now();
        for _ in 0..reps {
            let mut x = a.clone();
            potrf(Uplo::Lower, x.as_mut()).unwrap();
        }
        let po = (nb as f64).powi(3) / 3.0 * reps as f64 / t.elapsed().as_secs_f64() / 1e9;
        // LU panel 4000 x nb
        let m = 4000;
        let p = Mat::<f64>::from_fn(m, nb, |i, j| (((i * 31 + j * 17) % 97) as f64) / 97.0 - 0.5);
        let mut ipiv = vec![0; nb];
        let t = Instant::now();
        let mut buf: Vec<f64> = (0..m * nb).map(|k| p[(k % m, k / m)]).collect();
        getrf_panel(&mut buf, m, nb, m, &mut ipiv);
        let lu =
            ((m * nb * nb) as f64 - (nb as f64).powi(3) / 3.0) / t.elapsed().as_secs_f64() / 1e9;
        println!("nb {nb}: gemm {g:.1} trsm {tr:.1} herk {hk:.1} potrf {po:.1} lu-panel(4000) {lu:.1} GFLOP/s");
    }
}
