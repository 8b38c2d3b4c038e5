//! The LAPACK Fortran ABI and LAPACKE entry points, called as a C or Fortran program calls
//! them, checked by scaled residuals in all four precisions, plus LAPACK's conventions
//! (INFO values, workspace queries, quick returns, row-major layout, threads).

use faer::Mat;
use num_complex::{Complex32, Complex64};
use std::ffi::c_char;
use tessera::dense::random_value;
use tessera_kernels::Scalar;
use tessera_lapack::{fortran as f, lapacke as e};

const N: *const c_char = c"N".as_ptr();
const T_: *const c_char = c"T".as_ptr();
const C_: *const c_char = c"C".as_ptr();
const L: *const c_char = c"L".as_ptr();
const U: *const c_char = c"U".as_ptr();
const R: *const c_char = c"R".as_ptr();

/// The routines of one precision, by pointer.
#[allow(clippy::type_complexity)]
struct Lap<T> {
    gesv: unsafe extern "C" fn(
        *const i32,
        *const i32,
        *mut T,
        *const i32,
        *mut i32,
        *mut T,
        *const i32,
        *mut i32,
    ),
    getrf: unsafe extern "C" fn(*const i32, *const i32, *mut T, *const i32, *mut i32, *mut i32),
    getrs: unsafe extern "C" fn(
        *const c_char,
        *const i32,
        *const i32,
        *const T,
        *const i32,
        *const i32,
        *mut T,
        *const i32,
        *mut i32,
        usize,
    ),
    posv: unsafe extern "C" fn(
        *const c_char,
        *const i32,
        *const i32,
        *mut T,
        *const i32,
        *mut T,
        *const i32,
        *mut i32,
        usize,
    ),
    potrf: unsafe extern "C" fn(*const c_char, *const i32, *mut T, *const i32, *mut i32, usize),
    potrs: unsafe extern "C" fn(
        *const c_char,
        *const i32,
        *const i32,
        *const T,
        *const i32,
        *mut T,
        *const i32,
        *mut i32,
        usize,
    ),
    geqrf: unsafe extern "C" fn(
        *const i32,
        *const i32,
        *mut T,
        *const i32,
        *mut T,
        *mut T,
        *const i32,
        *mut i32,
    ),
    orgqr: unsafe extern "C" fn(
        *const i32,
        *const i32,
        *const i32,
        *mut T,
        *const i32,
        *const T,
        *mut T,
        *const i32,
        *mut i32,
    ),
    ormqr: unsafe extern "C" fn(
        *const c_char,
        *const c_char,
        *const i32,
        *const i32,
        *const i32,
        *const T,
        *const i32,
        *const T,
        *mut T,
        *const i32,
        *mut T,
        *const i32,
        *mut i32,
        usize,
        usize,
    ),
    gels: unsafe extern "C" fn(
        *const c_char,
        *const i32,
        *const i32,
        *const i32,
        *mut T,
        *const i32,
        *mut T,
        *const i32,
        *mut T,
        *const i32,
        *mut i32,
        usize,
    ),
    lapacke_gesv: unsafe extern "C" fn(i32, i32, i32, *mut T, i32, *mut i32, *mut T, i32) -> i32,
    lapacke_posv: unsafe extern "C" fn(i32, c_char, i32, i32, *mut T, i32, *mut T, i32) -> i32,
    lapacke_gels: unsafe extern "C" fn(i32, c_char, i32, i32, i32, *mut T, i32, *mut T, i32) -> i32,
    lapacke_geqrf: unsafe extern "C" fn(i32, i32, i32, *mut T, i32, *mut T) -> i32,
    lapacke_orgqr: unsafe extern "C" fn(i32, i32, i32, i32, *mut T, i32, *const T) -> i32,
}

macro_rules! lap {
    ($t:ty, $p:ident, $org:ident, $orm:ident) => {
        paste::paste! {
            Lap::<$t> {
                gesv: f::[<$p gesv_>],
                getrf: f::[<$p getrf_>],
                getrs: f::[<$p getrs_>],
                posv: f::[<$p posv_>],
                potrf: f::[<$p potrf_>],
                potrs: f::[<$p potrs_>],
                geqrf: f::[<$p geqrf_>],
                orgqr: f::[<$p $org _>],
                ormqr: f::[<$p $orm _>],
                gels: f::[<$p gels_>],
                lapacke_gesv: e::[<LAPACKE_ $p gesv>],
                lapacke_posv: e::[<LAPACKE_ $p posv>],
                lapacke_gels: e::[<LAPACKE_ $p gels>],
                lapacke_geqrf: e::[<LAPACKE_ $p geqrf>],
                lapacke_orgqr: e::[<LAPACKE_ $p $org>],
            }
        }
    };
}

/// A column-major buffer with leading dimension `ld` holding `a` (the padding is junk).
fn buf<T: Scalar>(a: &Mat<T>, ld: usize) -> Vec<T> {
    let mut v = vec![T::from_f64(7.25); ld * a.ncols().max(1)];
    for j in 0..a.ncols() {
        for i in 0..a.nrows() {
            v[i + j * ld] = a[(i, j)];
        }
    }
    v
}

fn unbuf<T: Scalar>(v: &[T], m: usize, n: usize, ld: usize) -> Mat<T> {
    Mat::from_fn(m, n, |i, j| v[i + j * ld])
}

fn rand<T: Scalar>(m: usize, n: usize, seed: u64) -> Mat<T> {
    Mat::from_fn(m, n, |i, j| random_value::<T>(seed, i, j))
}

fn norm_max<T: Scalar>(a: &Mat<T>) -> f64 {
    let mut m = 0.0f64;
    for j in 0..a.ncols() {
        for i in 0..a.nrows() {
            m = m.max(a[(i, j)].modulus());
        }
    }
    m
}

fn adj<T: Scalar>(a: &Mat<T>) -> Mat<T> {
    Mat::from_fn(a.ncols(), a.nrows(), |i, j| a[(j, i)].conj())
}

fn tr<T: Scalar>(a: &Mat<T>) -> Mat<T> {
    Mat::from_fn(a.ncols(), a.nrows(), |i, j| a[(j, i)])
}

/// `||A X - B|| / (||A|| ||X|| n eps)`.
fn resid<T: Scalar>(a: &Mat<T>, x: &Mat<T>, b: &Mat<T>) -> f64 {
    let r = a * x - b;
    let n = a.nrows().max(a.ncols()) as f64;
    norm_max(&r) / ((norm_max(a) * norm_max(x) * n).max(f64::MIN_POSITIVE) * T::EPS)
}

fn hpd<T: Scalar>(n: usize, seed: u64) -> Mat<T> {
    let g = rand::<T>(n, n, seed);
    let mut a = &g * adj(&g);
    for i in 0..n {
        a[(i, i)] += T::from_f64(n as f64);
    }
    a
}

fn check_all<T: Scalar>(l: &Lap<T>) {
    let name = T::DTYPE.name();
    for &n in &[1usize, 7, 150] {
        let nrhs = 3usize;
        let (ni, ri) = (n as i32, nrhs as i32);
        let ld = n + 3;
        let ldi = ld as i32;
        let a0 = rand::<T>(n, n, 1);
        let b0 = rand::<T>(n, nrhs, 2);
        let mut info = 99;

        // gesv
        let (mut a, mut b) = (buf(&a0, ld), buf(&b0, ld));
        let mut ipiv = vec![0i32; n];
        unsafe {
            (l.gesv)(
                &ni,
                &ri,
                a.as_mut_ptr(),
                &ldi,
                ipiv.as_mut_ptr(),
                b.as_mut_ptr(),
                &ldi,
                &mut info,
            )
        };
        assert_eq!(info, 0, "{name} gesv n={n}");
        let x = unbuf(&b, n, nrhs, ld);
        assert!(
            resid(&a0, &x, &b0) < 30.0,
            "{name} gesv n={n}: {}",
            resid(&a0, &x, &b0)
        );
        assert!(
            ipiv.iter().all(|&p| p >= 1 && p <= ni),
            "{name} ipiv 1-based"
        );
        assert_eq!(
            a[n],
            T::from_f64(7.25),
            "{name} gesv wrote outside the matrix (padding)"
        );

        // getrf + getrs with N, T, C
        for (trans, opa) in [(N, a0.clone()), (T_, tr(&a0)), (C_, adj(&a0))] {
            let (mut a, mut b) = (buf(&a0, ld), buf(&b0, ld));
            unsafe { (l.getrf)(&ni, &ni, a.as_mut_ptr(), &ldi, ipiv.as_mut_ptr(), &mut info) };
            assert_eq!(info, 0);
            unsafe {
                (l.getrs)(
                    trans,
                    &ni,
                    &ri,
                    a.as_ptr(),
                    &ldi,
                    ipiv.as_ptr(),
                    b.as_mut_ptr(),
                    &ldi,
                    &mut info,
                    1,
                )
            };
            assert_eq!(info, 0);
            let x = unbuf(&b, n, nrhs, ld);
            assert!(resid(&opa, &x, &b0) < 30.0, "{name} getrs n={n}");
        }

        // posv / potrf + potrs, both triangles, junk in the other triangle and (complex) in
        // the imaginary part of the diagonal, which LAPACK ignores.
        let h = hpd::<T>(n, 3);
        for uplo in [L, U] {
            let mut hb = buf(&h, ld);
            for j in 0..n {
                for i in 0..n {
                    let other = if uplo == L { i < j } else { i > j };
                    if other {
                        hb[i + j * ld] = T::from_f64(1e30);
                    }
                }
                hb[j + j * ld] = T::from_parts(h[(j, j)].re(), 1e20);
            }
            let (mut a, mut b) = (hb.clone(), buf(&b0, ld));
            unsafe {
                (l.posv)(
                    uplo,
                    &ni,
                    &ri,
                    a.as_mut_ptr(),
                    &ldi,
                    b.as_mut_ptr(),
                    &ldi,
                    &mut info,
                    1,
                )
            };
            assert_eq!(info, 0, "{name} posv");
            assert!(
                resid(&h, &unbuf(&b, n, nrhs, ld), &b0) < 30.0,
                "{name} posv n={n}"
            );
            for j in 0..n {
                assert_eq!(
                    a[j + j * ld].im(),
                    0.0,
                    "{name} factor diagonal exactly real"
                );
            }
            let mut a = hb.clone();
            unsafe { (l.potrf)(uplo, &ni, a.as_mut_ptr(), &ldi, &mut info, 1) };
            assert_eq!(info, 0);
            let mut b = buf(&b0, ld);
            unsafe {
                (l.potrs)(
                    uplo,
                    &ni,
                    &ri,
                    a.as_ptr(),
                    &ldi,
                    b.as_mut_ptr(),
                    &ldi,
                    &mut info,
                    1,
                )
            };
            assert_eq!(info, 0);
            assert!(
                resid(&h, &unbuf(&b, n, nrhs, ld), &b0) < 30.0,
                "{name} potrs n={n}"
            );
        }

        // geqrf + orgqr + ormqr on a tall matrix.
        let (m, k) = (n + 5, n);
        let (mi, ki) = (m as i32, k as i32);
        let ldq = m + 1;
        let ldqi = ldq as i32;
        let q0 = rand::<T>(m, k, 4);
        let mut a = buf(&q0, ldq);
        let mut tau = vec![T::zero(); k];
        let mut wq = [T::zero()];
        let minus1 = -1;
        unsafe {
            (l.geqrf)(
                &mi,
                &ki,
                a.as_mut_ptr(),
                &ldqi,
                tau.as_mut_ptr(),
                wq.as_mut_ptr(),
                &minus1,
                &mut info,
            )
        };
        assert_eq!(info, 0);
        let lw = wq[0].re() as usize;
        assert!(lw >= k.max(1), "{name} geqrf workspace query");
        let mut work = vec![T::zero(); lw];
        let lwi = lw as i32;
        unsafe {
            (l.geqrf)(
                &mi,
                &ki,
                a.as_mut_ptr(),
                &ldqi,
                tau.as_mut_ptr(),
                work.as_mut_ptr(),
                &lwi,
                &mut info,
            )
        };
        assert_eq!(info, 0);
        let rr = Mat::from_fn(k, k, |i, j| if i <= j { a[i + j * ldq] } else { T::zero() });
        let mut q = a.clone();
        unsafe {
            (l.orgqr)(
                &mi,
                &ki,
                &ki,
                q.as_mut_ptr(),
                &ldqi,
                tau.as_ptr(),
                work.as_mut_ptr(),
                &lwi,
                &mut info,
            )
        };
        assert_eq!(info, 0);
        let qm = unbuf(&q, m, k, ldq);
        let orth = adj(&qm) * &qm - Mat::<T>::identity(k, k);
        assert!(
            norm_max(&orth) < 30.0 * m as f64 * T::EPS,
            "{name} orgqr orthogonality"
        );
        let d = &qm * &rr - &q0;
        assert!(
            norm_max(&d) < 30.0 * m as f64 * T::EPS * norm_max(&q0).max(1.0),
            "{name} QR = A"
        );
        // ormqr: Q^H C from the left equals the explicit product's first k rows.
        let c0 = rand::<T>(m, 2, 5);
        let mut c = buf(&c0, ldq);
        let two = 2;
        let big = 1 << 20;
        let mut w2 = vec![T::zero(); 64];
        let ct = if T::DTYPE.is_complex() { C_ } else { T_ };
        unsafe {
            (l.ormqr)(
                c"L".as_ptr(),
                ct,
                &mi,
                &two,
                &ki,
                a.as_ptr(),
                &ldqi,
                tau.as_ptr(),
                c.as_mut_ptr(),
                &ldqi,
                w2.as_mut_ptr(),
                &big,
                &mut info,
                1,
                1,
            )
        };
        assert_eq!(info, 0);
        let qhc = adj(&qm) * &c0;
        let got = unbuf(&c, k, 2, ldq);
        assert!(
            norm_max(&(&got - &qhc)) < 30.0 * m as f64 * T::EPS * norm_max(&c0),
            "{name} ormqr L"
        );
        // From the right: D Q (D is 2 x m) -> first k columns equal D Qthin.
        let d0 = rand::<T>(2, m, 6);
        let mut dd = buf(&d0, 2);
        unsafe {
            (l.ormqr)(
                R,
                N,
                &two,
                &mi,
                &ki,
                a.as_ptr(),
                &ldqi,
                tau.as_ptr(),
                dd.as_mut_ptr(),
                &two,
                w2.as_mut_ptr(),
                &big,
                &mut info,
                1,
                1,
            )
        };
        assert_eq!(info, 0);
        let got = unbuf(&dd, 2, k, 2);
        let want = &d0 * &qm;
        assert!(
            norm_max(&(&got - &want)) < 30.0 * m as f64 * T::EPS * norm_max(&d0),
            "{name} ormqr R"
        );

        // gels: least squares (tall, 'N'), minimum norm (wide, 'N'), and the transposed forms.
        for (mm, nn, trans) in [(m, k, N), (k, m, N), (k, m, ct), (m, k, ct)] {
            let a0 = rand::<T>(mm, nn, 7);
            let mx = mm.max(nn);
            let (rows_b, cols_x) = if trans == N { (mm, nn) } else { (nn, mm) };
            let b0 = rand::<T>(rows_b, 2, 8);
            let mut ab = buf(&a0, mm);
            let mut bb = buf(
                &Mat::from_fn(
                    mx,
                    2,
                    |i, j| if i < rows_b { b0[(i, j)] } else { T::zero() },
                ),
                mx,
            );
            let (mmi, nni, mxi) = (mm as i32, nn as i32, mx as i32);
            unsafe {
                (l.gels)(
                    trans,
                    &mmi,
                    &nni,
                    &two,
                    ab.as_mut_ptr(),
                    &mmi,
                    bb.as_mut_ptr(),
                    &mxi,
                    w2.as_mut_ptr(),
                    &minus1,
                    &mut info,
                    1,
                )
            };
            let lw = w2[0].re() as usize;
            let mut w = vec![T::zero(); lw];
            let lwi = lw as i32;
            unsafe {
                (l.gels)(
                    trans,
                    &mmi,
                    &nni,
                    &two,
                    ab.as_mut_ptr(),
                    &mmi,
                    bb.as_mut_ptr(),
                    &mxi,
                    w.as_mut_ptr(),
                    &lwi,
                    &mut info,
                    1,
                )
            };
            assert_eq!(info, 0, "{name} gels");
            let x = unbuf(&bb, cols_x, 2, mx);
            let opa = if trans == N { a0.clone() } else { adj(&a0) };
            // Optimality: op(A)^H (op(A) x - b) = 0 (least squares); op(A) x = b (min norm).
            let r = &opa * &x - &b0;
            let g = adj(&opa) * &r;
            let scale =
                norm_max(&opa) * (norm_max(&opa) * norm_max(&x) + norm_max(&b0)) * mx as f64;
            assert!(
                norm_max(&g) / scale < 30.0 * T::EPS,
                "{name} gels {mm}x{nn} optimality"
            );
            if rows_b <= cols_x {
                assert!(resid(&opa, &x, &b0) < 30.0, "{name} gels min-norm solves");
            }
        }

        // LAPACKE: row-major and column-major give the same answers.
        let (rm, cm) = (e::ROW_MAJOR, e::COL_MAJOR);
        let mut a_c = buf(&a0, n);
        let mut b_c = buf(&b0, n);
        let mut a_r = buf(&tr(&a0), n);
        let mut b_r = buf(&tr(&b0), nrhs);
        let mut ip2 = vec![0i32; n];
        assert_eq!(
            unsafe {
                (l.lapacke_gesv)(
                    cm,
                    ni,
                    ri,
                    a_c.as_mut_ptr(),
                    ni,
                    ipiv.as_mut_ptr(),
                    b_c.as_mut_ptr(),
                    ni,
                )
            },
            0
        );
        assert_eq!(
            unsafe {
                (l.lapacke_gesv)(
                    rm,
                    ni,
                    ri,
                    a_r.as_mut_ptr(),
                    ni,
                    ip2.as_mut_ptr(),
                    b_r.as_mut_ptr(),
                    ri,
                )
            },
            0
        );
        assert_eq!(ipiv, ip2, "{name} LAPACKE row-major pivots");
        let xc = unbuf(&b_c, n, nrhs, n);
        let xr = tr(&unbuf(&b_r, nrhs, n, nrhs));
        assert!(
            resid(&a0, &xc, &b0) < 30.0 && resid(&a0, &xr, &b0) < 30.0,
            "{name} LAPACKE gesv"
        );
        let mut hr = buf(&tr(&h), n);
        let mut b_r = buf(&tr(&b0), nrhs);
        assert_eq!(
            unsafe {
                (l.lapacke_posv)(
                    rm,
                    b'L' as c_char,
                    ni,
                    ri,
                    hr.as_mut_ptr(),
                    ni,
                    b_r.as_mut_ptr(),
                    ri,
                )
            },
            0
        );
        assert!(
            resid(&h, &tr(&unbuf(&b_r, nrhs, n, nrhs)), &b0) < 30.0,
            "{name} LAPACKE posv row-major"
        );
        let mut qa = buf(&tr(&q0), k);
        let mut tau2 = vec![T::zero(); k];
        assert_eq!(
            unsafe { (l.lapacke_geqrf)(rm, mi, ki, qa.as_mut_ptr(), ki, tau2.as_mut_ptr()) },
            0
        );
        assert_eq!(
            unsafe { (l.lapacke_orgqr)(rm, mi, ki, ki, qa.as_mut_ptr(), ki, tau2.as_ptr()) },
            0
        );
        let q2 = tr(&unbuf(&qa, k, m, k));
        assert!(
            norm_max(&(&q2 - &qm)) < 30.0 * m as f64 * T::EPS,
            "{name} LAPACKE row-major QR"
        );
        let ta = rand::<T>(m, k, 9);
        let tb = rand::<T>(m, 1, 10);
        let mut ar = buf(&tr(&ta), k);
        let mut br = buf(&tr(&tb), 1);
        assert_eq!(
            unsafe {
                (l.lapacke_gels)(
                    rm,
                    b'N' as c_char,
                    mi,
                    ki,
                    1,
                    ar.as_mut_ptr(),
                    ki,
                    br.as_mut_ptr(),
                    1,
                )
            },
            0
        );
        let x = Mat::from_fn(k, 1, |i, _| br[i]);
        let g = adj(&ta) * (&ta * &x - &tb);
        assert!(
            norm_max(&g) < 1e3 * T::EPS * m as f64 * (1.0 + norm_max(&x)),
            "{name} LAPACKE gels row-major"
        );
    }
}

#[test]
fn all_routines_all_precisions() {
    check_all(&lap!(f32, s, orgqr, ormqr));
    check_all(&lap!(f64, d, orgqr, ormqr));
    check_all(&lap!(Complex32, c, ungqr, unmqr));
    check_all(&lap!(Complex64, z, ungqr, unmqr));
}

#[test]
fn info_codes_follow_lapack() {
    let mut a = vec![1.0f64; 16];
    let mut b = vec![1.0f64; 8];
    let mut ipiv = [0i32; 4];
    let mut info = 0;
    let (n2, n4, m1, one) = (2, 4, -1, 1);
    // Illegal arguments: INFO = -k, nothing touched (xerbla_ has no program definition
    // here, so the message goes to stderr and the call returns).
    unsafe {
        f::dgesv_(
            &m1,
            &one,
            a.as_mut_ptr(),
            &one,
            ipiv.as_mut_ptr(),
            b.as_mut_ptr(),
            &one,
            &mut info,
        )
    };
    assert_eq!(info, -1);
    unsafe {
        f::dgesv_(
            &n2,
            &one,
            a.as_mut_ptr(),
            &one,
            ipiv.as_mut_ptr(),
            b.as_mut_ptr(),
            &n2,
            &mut info,
        )
    };
    assert_eq!(info, -4);
    unsafe { f::dpotrf_(c"X".as_ptr(), &n2, a.as_mut_ptr(), &n2, &mut info, 1) };
    assert_eq!(info, -1);
    unsafe {
        f::dgels_(
            c"N".as_ptr(),
            &one,
            &one,
            &m1,
            a.as_mut_ptr(),
            &one,
            b.as_mut_ptr(),
            &one,
            b.as_mut_ptr(),
            &one,
            &mut info,
            1,
        )
    };
    assert_eq!(info, -4);
    // Complex: 'T' is illegal for ZUNMQR and ZGELS.
    let mut z = vec![Complex64::new(1.0, 0.0); 16];
    let mut zw = vec![Complex64::new(0.0, 0.0); 16];
    unsafe {
        f::zgels_(
            c"T".as_ptr(),
            &n2,
            &n2,
            &one,
            z.as_mut_ptr(),
            &n2,
            zw.as_mut_ptr(),
            &n2,
            zw.as_mut_ptr(),
            &n4,
            &mut info,
            1,
        )
    };
    assert_eq!(info, -1);
    assert!(a.iter().all(|&x| x == 1.0), "arrays untouched on error");
    assert!(
        unsafe {
            e::LAPACKE_dgesv(
                7,
                2,
                1,
                a.as_mut_ptr(),
                2,
                ipiv.as_mut_ptr(),
                b.as_mut_ptr(),
                2,
            )
        } == -1
    );
    assert_eq!(
        unsafe {
            e::LAPACKE_dgesv(
                e::ROW_MAJOR,
                2,
                3,
                a.as_mut_ptr(),
                2,
                ipiv.as_mut_ptr(),
                b.as_mut_ptr(),
                2,
            )
        },
        -8
    );

    // Singular: INFO = first zero pivot, factors and ipiv complete, B untouched.
    let mut s = vec![1.0, 2.0, 0.0, 2.0, 4.0, 0.0, 3.0, 1.0, 5.0]; // column 2 = 2 x column 1
    let mut bs = vec![1.0, 1.0, 1.0];
    let n3 = 3;
    unsafe {
        f::dgesv_(
            &n3,
            &one,
            s.as_mut_ptr(),
            &n3,
            ipiv.as_mut_ptr(),
            bs.as_mut_ptr(),
            &n3,
            &mut info,
        )
    };
    assert_eq!(info, 2);
    assert_eq!(bs, vec![1.0, 1.0, 1.0]);
    assert!(ipiv[..3].iter().all(|&p| (1..=3).contains(&p)));
    // Not positive definite: INFO = order of the failing minor.
    let mut p = vec![4.0, 2.0, 2.0, 1.0];
    unsafe { f::dpotrf_(L, &n2, p.as_mut_ptr(), &n2, &mut info, 1) };
    assert_eq!(info, 2);
    // A NaN is refused with INFO > 0 (its column), never spread silently.
    let mut q = vec![4.0, f64::NAN, 1.0, 3.0];
    unsafe { f::dgetrf_(&n2, &n2, q.as_mut_ptr(), &n2, ipiv.as_mut_ptr(), &mut info) };
    assert_eq!(info, 1);
    // LAPACKE's NaN check returns the array's position without computing.
    let mut q = vec![4.0, f64::NAN, 1.0, 3.0];
    let mut bq = vec![1.0, 1.0];
    assert_eq!(
        unsafe {
            e::LAPACKE_dgesv(
                e::COL_MAJOR,
                2,
                1,
                q.as_mut_ptr(),
                2,
                ipiv.as_mut_ptr(),
                bq.as_mut_ptr(),
                2,
            )
        },
        -4
    );
    // Quick returns: N = 0 with LDA = 1 is legal.
    let zero = 0;
    unsafe {
        f::dgesv_(
            &zero,
            &one,
            a.as_mut_ptr(),
            &one,
            ipiv.as_mut_ptr(),
            b.as_mut_ptr(),
            &one,
            &mut info,
        )
    };
    assert_eq!(info, 0);
    // Workspace queries: the minimum sizes.
    let mut w = [0.0f64];
    unsafe {
        f::dgeqrf_(
            &n4,
            &n2,
            a.as_mut_ptr(),
            &n4,
            b.as_mut_ptr(),
            w.as_mut_ptr(),
            &m1,
            &mut info,
        )
    };
    assert_eq!((info, w[0]), (0, 2.0));
    unsafe {
        f::dgels_(
            N,
            &n4,
            &n2,
            &one,
            a.as_mut_ptr(),
            &n4,
            b.as_mut_ptr(),
            &n4,
            w.as_mut_ptr(),
            &m1,
            &mut info,
            1,
        )
    };
    assert_eq!((info, w[0]), (0, 4.0));
}

#[test]
fn concurrent_callers_share_the_runtime() {
    let handles: Vec<_> = (0..4)
        .map(|t| {
            std::thread::spawn(move || {
                let n = 120usize;
                let a0 = rand::<f64>(n, n, 100 + t);
                let b0 = rand::<f64>(n, 1, 200 + t);
                let (mut a, mut b) = (buf(&a0, n), buf(&b0, n));
                let mut ipiv = vec![0i32; n];
                let (ni, one) = (n as i32, 1);
                let mut info = -7;
                for _ in 0..5 {
                    let (mut a2, mut b2) = (a.clone(), b.clone());
                    unsafe {
                        f::dgesv_(
                            &ni,
                            &one,
                            a2.as_mut_ptr(),
                            &ni,
                            ipiv.as_mut_ptr(),
                            b2.as_mut_ptr(),
                            &ni,
                            &mut info,
                        )
                    };
                    assert_eq!(info, 0);
                    (a, b) = (buf(&a0, n), b2);
                    assert!(resid(&a0, &unbuf(&b, n, 1, n), &b0) < 30.0);
                    b = buf(&b0, n);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}
