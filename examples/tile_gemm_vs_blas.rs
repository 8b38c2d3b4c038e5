//! Single-tile gemm rate, faer vs the system BLAS (sequential), on 1 and 2 concurrent
//! threads: the measurement behind the `--kernels blas` option (needs libblas.so.3).
use faer::Mat;
use std::ffi::{c_char, c_int};
use std::time::Instant;
type Dgemm = unsafe extern "C" fn(
    *const c_char,
    *const c_char,
    *const c_int,
    *const c_int,
    *const c_int,
    *const f64,
    *const f64,
    *const c_int,
    *const f64,
    *const c_int,
    *const f64,
    *mut f64,
    *const c_int,
    usize,
    usize,
);
fn main() {
    let lib = unsafe { libloading::Library::new("libblas.so.3").unwrap() };
    let set: libloading::Symbol<unsafe extern "C" fn(c_int)> =
        unsafe { lib.get(b"openblas_set_num_threads").unwrap() };
    unsafe { set(1) };
    let g: Dgemm = unsafe { *lib.get::<Dgemm>(b"dgemm_").unwrap() };
    for nb in [256usize, 320, 384, 512] {
        let run_faer = move |reps: usize| {
            let a = Mat::<f64>::from_fn(nb, nb, |i, j| ((i * 7 + j * 13) % 17) as f64 * 0.01);
            let mut c = Mat::<f64>::zeros(nb, nb);
            let t = Instant::now();
            for _ in 0..reps {
                tessera::kernels::gemm(
                    tessera::Op::NoTrans,
                    tessera::Op::Trans,
                    -1.0,
                    a.as_ref(),
                    a.as_ref(),
                    1.0,
                    c.as_mut(),
                );
            }
            2.0 * (nb as f64).powi(3) * reps as f64 / t.elapsed().as_secs_f64() / 1e9
        };
        let run_blas = move |reps: usize| {
            let a: Vec<f64> = (0..nb * nb).map(|k| (k % 17) as f64 * 0.01).collect();
            let mut c = vec![0.0; nb * nb];
            let n = nb as c_int;
            let t = Instant::now();
            for _ in 0..reps {
                unsafe {
                    g(
                        c"N".as_ptr(),
                        c"T".as_ptr(),
                        &n,
                        &n,
                        &n,
                        &-1.0,
                        a.as_ptr(),
                        &n,
                        a.as_ptr(),
                        &n,
                        &1.0,
                        c.as_mut_ptr(),
                        &n,
                        1,
                        1,
                    )
                };
            }
            2.0 * (nb as f64).powi(3) * reps as f64 / t.elapsed().as_secs_f64() / 1e9
        };
        let reps = (6e9 / (2.0 * (nb as f64).powi(3))) as usize;
        let f1 = run_faer(reps);
        let b1 = run_blas(reps);
        let f2: Vec<f64> = (0..2)
            .map(|_| std::thread::spawn(move || run_faer(reps)))
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| h.join().unwrap())
            .collect();
        let b2: Vec<f64> = (0..2)
            .map(|_| std::thread::spawn(move || run_blas(reps)))
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| h.join().unwrap())
            .collect();
        println!(
            "nb {nb}: faer 1t {f1:.1} 2t {:.1}+{:.1} | openblas 1t {b1:.1} 2t {:.1}+{:.1}",
            f2[0], f2[1], b2[0], b2[1]
        );
    }
}
