use faer::Mat;
use std::time::Instant;
use tessera_kernels::*;
fn run(nb: usize, reps: usize) -> f64 {
    let a = Mat::<f64>::from_fn(nb, nb, |i, j| ((i * 7 + j * 13) % 17) as f64 * 0.01);
    let b = a.clone();
    let mut c = Mat::<f64>::zeros(nb, nb);
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
    2.0 * (nb as f64).powi(3) * reps as f64 / t.elapsed().as_secs_f64() / 1e9
}
fn main() {
    for nb in [192usize, 256, 320, 384, 448] {
        let reps = (8e9 / (2.0 * (nb as f64).powi(3))) as usize;
        let one = run(nb, reps);
        let h: Vec<_> = (0..2)
            .map(|_| std::thread::spawn(move || run(nb, reps)))
            .collect();
        let two: Vec<f64> = h.into_iter().map(|h| h.join().unwrap()).collect();
        println!(
            "nb {nb}: 1 thread {one:.1}, 2 threads {:.1} + {:.1}",
            two[0], two[1]
        );
    }
}
