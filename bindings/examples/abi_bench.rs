//! dgesv and dposv side by side in one process: through Tessera's C ABI (the `dgesv_` /
//! `dposv_` of `libtessera_lapack.so`, loaded with dlopen as a C program would link it),
//! through the Rust API (`tessera::dense::lapack`), and through the system's OpenBLAS
//! (`libopenblas.so.0`). Each result is residual-checked; times are the best of the runs.
//!
//! ```text
//! cargo build --release -p tessera-lapack --examples
//! target/release/examples/abi_bench [N] [REPEATS]      # default 4000 3
//! ```

use faer::Mat;
use libloading::Library;
use std::ffi::c_int;
use std::time::{Duration, Instant};
use tessera::dense::{lapack, random_value};
use tessera::runtime::Runtime;
use tessera_kernels::Uplo;

type Gesv = unsafe extern "C" fn(
    *const c_int,
    *const c_int,
    *mut f64,
    *const c_int,
    *mut c_int,
    *mut f64,
    *const c_int,
    *mut c_int,
);
type Posv = unsafe extern "C" fn(
    *const u8,
    *const c_int,
    *const c_int,
    *mut f64,
    *const c_int,
    *mut f64,
    *const c_int,
    *mut c_int,
    usize,
);

fn resid(a: &Mat<f64>, x: &Mat<f64>, b: &Mat<f64>) -> f64 {
    let r = a * x - b;
    r.norm_max() / (a.norm_max() * x.norm_max() * a.nrows() as f64 * f64::EPSILON / 2.0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(4000);
    let reps: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(3);
    let threads = std::thread::available_parallelism().map_or(1, |t| t.get());
    let exe = std::env::current_exe().unwrap();
    let ours_path = exe
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("libtessera_lapack.so");
    // SAFETY: loading shared libraries runs their initialisers, as linking would.
    let ours = unsafe { Library::new(&ours_path) }
        .unwrap_or_else(|e| panic!("{}: {e}", ours_path.display()));
    // SAFETY: as above.
    let blas = unsafe { Library::new("libopenblas.so.0") }
        .expect("libopenblas.so.0 (apt-get install libopenblas0-pthread)");
    // SAFETY: the symbols have the LAPACK Fortran ABI signatures above.
    let (t_gesv, t_posv, o_gesv, o_posv) = unsafe {
        (
            *ours.get::<Gesv>(b"dgesv_").unwrap(),
            *ours.get::<Posv>(b"dposv_").unwrap(),
            *blas.get::<Gesv>(b"dgesv_").unwrap(),
            *blas.get::<Posv>(b"dposv_").unwrap(),
        )
    };
    // SAFETY: OpenBLAS's thread-count setter. It is process-wide: with
    // TESSERA_KERNELS=blas Tessera's tile kernels run on this same OpenBLAS, one thread
    // each, so the baseline gets its threads back right before each of its own calls.
    let set_threads = unsafe {
        *blas
            .get::<unsafe extern "C" fn(c_int)>(b"openblas_set_num_threads")
            .unwrap()
    };
    let blas_kernels = std::env::var("TESSERA_KERNELS").is_ok_and(|v| v == "blas");
    let rt = Runtime::with_default();
    let a = Mat::<f64>::from_fn(n, n, |i, j| random_value(1, i, j));
    let s = Mat::<f64>::from_fn(n, n, |i, j| {
        let v: f64 = random_value(2, i.min(j), i.max(j));
        if i == j {
            n as f64
        } else {
            v
        }
    });
    let b = Mat::<f64>::from_fn(n, 1, |i, _| random_value(3, i, 0));
    let ni = n as c_int;
    let one = 1;
    println!("N = {n}, {threads} threads, best of {reps}; scaled residuals in brackets");
    for op in ["dgesv", "dposv"] {
        let mut best = [Duration::MAX; 3];
        let mut res = [0.0f64; 3];
        let m = if op == "dgesv" { &a } else { &s };
        for _ in 0..reps {
            for (k, best_k) in best.iter_mut().enumerate() {
                let (mut am, mut bm) = (m.clone(), b.clone());
                let mut ipiv = vec![0 as c_int; n];
                let mut ipu = vec![0usize; n];
                let mut info = 0;
                let (lda, ldb) = (
                    am.col_stride() as c_int,
                    bm.col_stride().max(n as isize) as c_int,
                );
                std::thread::sleep(Duration::from_millis(300));
                // SAFETY: OpenBLAS's setter (see above).
                unsafe {
                    set_threads(if k == 2 || !blas_kernels {
                        threads as c_int
                    } else {
                        1
                    })
                };
                let t0 = Instant::now();
                // SAFETY: column-major n x n and n x 1 buffers with leading dimension n.
                unsafe {
                    match (op, k) {
                        ("dgesv", 0) => t_gesv(
                            &ni,
                            &one,
                            am.as_ptr_mut(),
                            &lda,
                            ipiv.as_mut_ptr(),
                            bm.as_ptr_mut(),
                            &ldb,
                            &mut info,
                        ),
                        ("dgesv", 1) => {
                            lapack::gesv(&rt, am.as_mut(), &mut ipu, bm.as_mut()).unwrap()
                        }
                        ("dgesv", _) => o_gesv(
                            &ni,
                            &one,
                            am.as_ptr_mut(),
                            &lda,
                            ipiv.as_mut_ptr(),
                            bm.as_ptr_mut(),
                            &ldb,
                            &mut info,
                        ),
                        (_, 0) => t_posv(
                            b"L".as_ptr(),
                            &ni,
                            &one,
                            am.as_ptr_mut(),
                            &lda,
                            bm.as_ptr_mut(),
                            &ldb,
                            &mut info,
                            1,
                        ),
                        (_, 1) => lapack::posv(&rt, Uplo::Lower, am.as_mut(), bm.as_mut()).unwrap(),
                        _ => o_posv(
                            b"L".as_ptr(),
                            &ni,
                            &one,
                            am.as_ptr_mut(),
                            &lda,
                            bm.as_ptr_mut(),
                            &ldb,
                            &mut info,
                            1,
                        ),
                    }
                }
                let dt = t0.elapsed();
                assert_eq!(info, 0);
                res[k] = resid(m, &bm, &b);
                assert!(res[k] < 30.0, "{op} residual {}", res[k]);
                *best_k = (*best_k).min(dt);
            }
        }
        let flops = if op == "dgesv" {
            2.0 / 3.0 * (n as f64).powi(3) + 2.0 * (n as f64).powi(2)
        } else {
            (n as f64).powi(3) / 3.0 + 2.0 * (n as f64).powi(2)
        };
        let gf = |d: Duration| flops / d.as_secs_f64() / 1e9;
        println!(
            "{op}: C ABI {:.3} s ({:.1} GF/s) [{:.2}] | Rust API {:.3} s ({:.1} GF/s) [{:.2}] | OpenBLAS {:.3} s ({:.1} GF/s) [{:.2}]",
            best[0].as_secs_f64(), gf(best[0]), res[0],
            best[1].as_secs_f64(), gf(best[1]), res[1],
            best[2].as_secs_f64(), gf(best[2]), res[2]
        );
        println!(
            "{op}: C ABI / Rust API time = {:.3}; speed vs OpenBLAS = {:.3}x",
            best[0].as_secs_f64() / best[1].as_secs_f64(),
            best[2].as_secs_f64() / best[0].as_secs_f64()
        );
    }
}
