//! The optional system-BLAS tile-kernel backend gives the same results as the faer kernels
//! (to rounding) in every precision, and the tiled factorizations stay correct on it.
//! One test function: the backend is process-wide, so nothing else runs in this binary.
//! scripts/test.sh installs the system BLAS (OpenBLAS) before the tests.

use faer::Mat;
use tessera::kernels::{self as k, sysblas};
use tessera::runtime::{Runtime, RuntimeConfig};
use tessera::{c32, c64, dense, Diag, Op, Scalar, Side, Uplo};

fn rnd<T: Scalar>(m: usize, n: usize, seed: u64) -> Mat<T> {
    Mat::from_fn(m, n, |i, j| dense::random_value::<T>(seed, i, j))
}

fn max_diff<T: Scalar>(a: &Mat<T>, b: &Mat<T>) -> f64 {
    let mut d: f64 = 0.0;
    for j in 0..a.ncols() {
        for i in 0..a.nrows() {
            d = d.max((*a.get(i, j) - *b.get(i, j)).modulus());
        }
    }
    d
}

/// Runs `f` once with faer kernels and once with the system BLAS; returns both outputs.
fn both<T: Scalar>(f: impl Fn() -> Mat<T>) -> (Mat<T>, Mat<T>) {
    sysblas::use_faer();
    let x = f();
    sysblas::use_system_blas().expect("scripts/test.sh installs the system BLAS");
    let y = f();
    sysblas::use_faer();
    (x, y)
}

fn kernels_agree<T: Scalar>() {
    let tol = 200.0 * T::EPS;
    let ops = [Op::NoTrans, Op::Trans, Op::ConjTrans];
    for ta in ops {
        for tb in ops {
            let (a, b) = (rnd::<T>(37, 37, 1), rnd::<T>(37, 37, 2));
            let (x, y) = both(|| {
                let mut c = rnd::<T>(37, 37, 3);
                k::gemm(
                    ta,
                    tb,
                    T::from_parts(0.5, 0.25),
                    a.as_ref(),
                    b.as_ref(),
                    T::from_f64(-1.5),
                    c.as_mut(),
                );
                c
            });
            assert!(
                max_diff(&x, &y) < tol * 37.0,
                "gemm {ta:?} {tb:?} {}",
                T::DTYPE.name()
            );
        }
    }
    for side in [Side::Left, Side::Right] {
        for uplo in [Uplo::Lower, Uplo::Upper] {
            for trans in ops {
                for diag in [Diag::NonUnit, Diag::Unit] {
                    let mut a = rnd::<T>(20, 20, 4);
                    for i in 0..20 {
                        *a.as_mut().get_mut(i, i) = T::from_f64(4.0);
                    }
                    let (x, y) = both(|| {
                        let mut b = rnd::<T>(20, 20, 5);
                        k::trsm(
                            side,
                            uplo,
                            trans,
                            diag,
                            T::from_f64(2.0),
                            a.as_ref(),
                            b.as_mut(),
                        );
                        b
                    });
                    assert!(
                        max_diff(&x, &y) < tol * 20.0,
                        "trsm {side:?} {uplo:?} {trans:?} {diag:?}"
                    );
                }
            }
        }
    }
    for uplo in [Uplo::Lower, Uplo::Upper] {
        for trans in [Op::NoTrans, Op::ConjTrans] {
            let a = rnd::<T>(25, 25, 6);
            let (x, y) = both(|| {
                let mut c = rnd::<T>(25, 25, 7);
                k::herk(uplo, trans, -1.0, a.as_ref(), 0.5, c.as_mut());
                // compare the referenced triangle only
                Mat::from_fn(25, 25, |i, j| {
                    if (uplo == Uplo::Lower) == (i >= j) {
                        *c.get(i, j)
                    } else {
                        T::zero()
                    }
                })
            });
            assert!(max_diff(&x, &y) < tol * 25.0, "herk {uplo:?} {trans:?}");
            let (x, y) = both(|| {
                let mut c = rnd::<T>(25, 25, 8);
                k::syrk(
                    uplo,
                    if trans == Op::NoTrans {
                        Op::NoTrans
                    } else {
                        Op::Trans
                    },
                    T::from_f64(-1.0),
                    a.as_ref(),
                    T::from_f64(0.5),
                    c.as_mut(),
                );
                Mat::from_fn(25, 25, |i, j| {
                    if (uplo == Uplo::Lower) == (i >= j) {
                        *c.get(i, j)
                    } else {
                        T::zero()
                    }
                })
            });
            assert!(max_diff(&x, &y) < tol * 25.0, "syrk {uplo:?} {trans:?}");
        }
    }
}

fn factorizations_on_blas<T: Scalar>(rt: &Runtime) {
    let n = 150;
    let nb = 32;
    // potrf + potrs
    let a = dense::plghe::<T>(rt, n as f64, n, nb, 11).unwrap();
    let a0 = a.to_mat(rt).unwrap();
    let b = dense::plrnt::<T>(rt, n, 2, nb, 12).unwrap();
    let b0 = b.to_mat(rt).unwrap();
    dense::posv(rt, Uplo::Lower, &a, &b).unwrap();
    let x = b.to_mat(rt).unwrap();
    let r = max_diff(&(&a0 * &x), &b0);
    assert!(r < 1e3 * T::EPS * n as f64, "posv on BLAS kernels: {r}");
    // getrf + getrs
    let a = dense::plrnt::<T>(rt, n, n, nb, 13).unwrap();
    let a0 = a.to_mat(rt).unwrap();
    let b = dense::plrnt::<T>(rt, n, 2, nb, 14).unwrap();
    let b0 = b.to_mat(rt).unwrap();
    let mut ipiv = vec![0; n];
    dense::gesv(rt, &a, &mut ipiv, &b).unwrap();
    let x = b.to_mat(rt).unwrap();
    let r = max_diff(&(&a0 * &x), &b0) / (1.0 + max_diff(&x, &Mat::zeros(n, 2)));
    assert!(r < 1e4 * T::EPS * n as f64, "gesv on BLAS kernels: {r}");
    // gels (tall)
    let a = dense::plrnt::<T>(rt, 2 * n, n, nb, 15).unwrap();
    let a0 = a.to_mat(rt).unwrap();
    let b = dense::plrnt::<T>(rt, 2 * n, 1, nb, 16).unwrap();
    let b0 = b.to_mat(rt).unwrap();
    dense::gels(rt, &a, &b).unwrap();
    let x = b.to_mat(rt).unwrap();
    let x = x.as_ref().subrows(0, n).to_owned();
    let res = &b0 - &a0 * &x;
    let g = a0.adjoint() * &res;
    let gn = (0..n).map(|i| g.get(i, 0).modulus()).fold(0.0, f64::max);
    assert!(gn < 1e4 * T::EPS * n as f64, "gels on BLAS kernels: {gn}");
}

#[test]
fn system_blas_backend_matches_faer_kernels() {
    kernels_agree::<f64>();
    kernels_agree::<f32>();
    kernels_agree::<c64>();
    kernels_agree::<c32>();
    let name = sysblas::use_system_blas().expect("scripts/test.sh installs the system BLAS");
    assert!(sysblas::backend_name().contains(&name));
    let rt = Runtime::new(RuntimeConfig::with_workers(2));
    factorizations_on_blas::<f64>(&rt);
    factorizations_on_blas::<f32>(&rt);
    factorizations_on_blas::<c64>(&rt);
    factorizations_on_blas::<c32>(&rt);
    sysblas::use_faer();
    assert_eq!(sysblas::backend_name(), "faer");
}
