//! The triangle-on-square QR kernels (tsqrt / tsmqr) against their definition: applying
//! Q^H to the stacked input gives [R'; 0], Q is unitary, and the strict lower triangle of
//! the top block is left alone.

use faer::Mat;
use tessera_kernels::{c32, c64, tsmqr, tsqrt, Op, Scalar};

fn rnd<T: Scalar>(m: usize, n: usize, seed: u64) -> Mat<T> {
    let mut s = seed.wrapping_mul(0x9e3779b97f4a7c15) | 1;
    Mat::from_fn(m, n, |_, _| {
        let mut f = || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        };
        T::from_parts(f(), f())
    })
}

fn maxabs<T: Scalar>(a: &Mat<T>) -> f64 {
    let mut v: f64 = 0.0;
    for j in 0..a.ncols() {
        for i in 0..a.nrows() {
            v = v.max(a.get(i, j).modulus());
        }
    }
    v
}

fn check<T: Scalar>(n: usize, m: usize) {
    let tol = 50.0 * T::EPS * (n + m) as f64;
    let r0 = rnd::<T>(n, n, 1);
    let a20 = rnd::<T>(m, n, 2);
    let (mut r, mut a2, mut t) = (r0.clone(), a20.clone(), Mat::<T>::zeros(n, n));
    tsqrt(r.as_mut(), a2.as_mut(), t.as_mut());
    // strict lower triangle of the top block untouched
    for j in 0..n {
        for i in j + 1..n {
            assert_eq!(*r.get(i, j), *r0.get(i, j));
        }
    }
    // Q^H [triu(R0); A2] = [R'; 0]
    let mut c1 = Mat::<T>::from_fn(n, n, |i, j| if i <= j { *r0.get(i, j) } else { T::zero() });
    let mut c2 = a20.clone();
    let mut w = Mat::<T>::zeros(n, n);
    tsmqr(
        Op::ConjTrans,
        a2.as_ref(),
        t.as_ref(),
        c1.as_mut(),
        c2.as_mut(),
        w.as_mut(),
    );
    let rr = Mat::<T>::from_fn(n, n, |i, j| if i <= j { *r.get(i, j) } else { T::zero() });
    assert!(
        maxabs(&(&c1 - &rr)) < tol,
        "top block is not R' ({}, n={n} m={m})",
        T::DTYPE.name()
    );
    assert!(
        maxabs(&c2) < tol,
        "bottom block is not annihilated ({}, n={n} m={m})",
        T::DTYPE.name()
    );
    // Q Q^H X = X
    let x1 = rnd::<T>(n, 3, 3);
    let x2 = rnd::<T>(m, 3, 4);
    let (mut y1, mut y2) = (x1.clone(), x2.clone());
    let mut w = Mat::<T>::zeros(n, 3);
    tsmqr(
        Op::ConjTrans,
        a2.as_ref(),
        t.as_ref(),
        y1.as_mut(),
        y2.as_mut(),
        w.as_mut(),
    );
    tsmqr(
        Op::NoTrans,
        a2.as_ref(),
        t.as_ref(),
        y1.as_mut(),
        y2.as_mut(),
        w.as_mut(),
    );
    assert!(
        maxabs(&(&y1 - &x1)) < tol && maxabs(&(&y2 - &x2)) < tol,
        "Q is not unitary"
    );
}

#[test]
fn tsqrt_tsmqr_all_types() {
    for (n, m) in [(1, 1), (4, 4), (7, 3), (16, 16), (12, 40)] {
        check::<f64>(n, m);
        check::<f32>(n, m);
        check::<c64>(n, m);
        check::<c32>(n, m);
    }
}
