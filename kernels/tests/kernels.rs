//! Single-tile kernels of `tessera-kernels` against naive references computed in
//! `Complex<f64>`: gemm / trsm / herk / syrk (including which triangle they touch),
//! Cholesky, the recursive LU panel (pivots compared with faer), row interchanges on
//! columns of tiles, LU without pivoting, Householder QR with block reflectors applied
//! across tiles from both sides, norms and auxiliary kernels.

use faer::{Mat, MatMut, MatRef};
use num_complex::Complex;
use tessera_kernels::{self as k, c32, c64, Diag, Norm, Op, PartialNorm, Scalar, Side, Uplo};

type Z = Complex<f64>;

// ---------------------------------------------------------------------------------------
// Helpers

/// splitmix64-based uniform value in [-0.5, 0.5).
fn unif(seed: u64, i: usize, j: usize, part: u64) -> f64 {
    let mut z =
        seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ ((i as u64) << 32) ^ (j as u64) ^ (part << 62);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64 - 0.5
}

fn rand<T: Scalar>(m: usize, n: usize, seed: u64) -> Mat<T> {
    Mat::from_fn(m, n, |i, j| {
        T::from_parts(unif(seed, i, j, 0), unif(seed, i, j, 1))
    })
}

fn zm<T: Scalar>(a: MatRef<'_, T>) -> Mat<Z> {
    Mat::from_fn(a.nrows(), a.ncols(), |i, j| {
        let x = a[(i, j)];
        Z::new(x.re(), x.im())
    })
}

fn op(o: Op, a: &Mat<Z>) -> Mat<Z> {
    match o {
        Op::NoTrans => a.clone(),
        Op::Trans => Mat::from_fn(a.ncols(), a.nrows(), |i, j| a[(j, i)]),
        Op::ConjTrans => Mat::from_fn(a.ncols(), a.nrows(), |i, j| a[(j, i)].conj()),
    }
}

fn mul(a: &Mat<Z>, b: &Mat<Z>) -> Mat<Z> {
    assert_eq!(a.ncols(), b.nrows());
    Mat::from_fn(a.nrows(), b.ncols(), |i, j| {
        (0..a.ncols()).map(|l| a[(i, l)] * b[(l, j)]).sum()
    })
}

fn max_diff(a: &Mat<Z>, b: &Mat<Z>) -> f64 {
    assert_eq!((a.nrows(), a.ncols()), (b.nrows(), b.ncols()));
    let mut m: f64 = 0.0;
    for j in 0..a.ncols() {
        for i in 0..a.nrows() {
            m = m.max((a[(i, j)] - b[(i, j)]).norm());
        }
    }
    m
}

fn max_abs(a: &Mat<Z>) -> f64 {
    let mut m: f64 = 0.0;
    for j in 0..a.ncols() {
        for i in 0..a.nrows() {
            m = m.max(a[(i, j)].norm());
        }
    }
    m
}

fn bits<T: Scalar>(x: T) -> (u64, u64) {
    (x.re().to_bits(), x.im().to_bits())
}

fn inside(uplo: Uplo, i: usize, j: usize) -> bool {
    match uplo {
        Uplo::Lower => i >= j,
        Uplo::Upper => i <= j,
    }
}

const OPS: [Op; 3] = [Op::NoTrans, Op::Trans, Op::ConjTrans];

// ---------------------------------------------------------------------------------------
// BLAS

fn gemm_case<T: Scalar>() {
    // (50, 60, 70) and (49, 130, 55): large enough for the copy of a transposed B.
    for (m, n, kk) in [
        (5, 7, 3),
        (17, 9, 33),
        (1, 1, 1),
        (4, 6, 0),
        (50, 60, 70),
        (49, 130, 55),
    ] {
        for ta in OPS {
            for tb in OPS {
                for (alpha, beta) in [
                    ((1.0, 0.0), (0.0, 0.0)),
                    ((0.5, -1.0), (2.0, 0.5)),
                    ((0.0, 0.0), (-1.0, 0.0)),
                ] {
                    let a = if ta == Op::NoTrans {
                        rand::<T>(m, kk, 1)
                    } else {
                        rand::<T>(kk, m, 1)
                    };
                    let b = if tb == Op::NoTrans {
                        rand::<T>(kk, n, 2)
                    } else {
                        rand::<T>(n, kk, 2)
                    };
                    // beta = 0: C full of NaN must not propagate.
                    let c0 = if beta == (0.0, 0.0) {
                        Mat::from_fn(m, n, |_, _| T::from_f64(f64::NAN))
                    } else {
                        rand::<T>(m, n, 3)
                    };
                    let mut c = c0.clone();
                    let (al, be) = (
                        T::from_parts(alpha.0, alpha.1),
                        T::from_parts(beta.0, beta.1),
                    );
                    k::gemm(ta, tb, al, a.as_ref(), b.as_ref(), be, c.as_mut());
                    let mut want = mul(&op(ta, &zm(a.as_ref())), &op(tb, &zm(b.as_ref())));
                    let (alz, bez) = (Z::new(al.re(), al.im()), Z::new(be.re(), be.im()));
                    let c0z = zm(c0.as_ref());
                    for j in 0..n {
                        for i in 0..m {
                            want[(i, j)] = alz * want[(i, j)]
                                + if beta == (0.0, 0.0) {
                                    Z::new(0.0, 0.0)
                                } else {
                                    bez * c0z[(i, j)]
                                };
                        }
                    }
                    let err = max_diff(&zm(c.as_ref()), &want);
                    assert!(
                        err <= 20.0 * (kk + 2) as f64 * T::EPS * 3.0,
                        "gemm {} {m}x{n}x{kk} {ta:?} {tb:?} {alpha:?} {beta:?}: {err:e}",
                        T::DTYPE.name()
                    );
                }
            }
        }
    }
}

#[test]
fn gemm_against_naive() {
    gemm_case::<f32>();
    gemm_case::<f64>();
    gemm_case::<c32>();
    gemm_case::<c64>();
}

fn trsm_case<T: Scalar>() {
    let n = 13;
    let p = 6;
    for side in [Side::Left, Side::Right] {
        for uplo in [Uplo::Lower, Uplo::Upper] {
            for trans in OPS {
                for diag in [Diag::NonUnit, Diag::Unit] {
                    // The other triangle (and the diagonal for Unit) holds NaN: not read.
                    let r = rand::<T>(n, n, 4);
                    let a = Mat::from_fn(n, n, |i, j| {
                        if i == j {
                            if diag == Diag::Unit {
                                T::from_f64(f64::NAN)
                            } else {
                                T::from_parts(1.5 + r[(i, i)].re(), r[(i, i)].im())
                            }
                        } else if inside(uplo, i, j) {
                            r[(i, j)] * T::from_f64(0.3)
                        } else {
                            T::from_f64(f64::NAN)
                        }
                    });
                    let eff = Mat::from_fn(n, n, |i, j| {
                        if i == j {
                            if diag == Diag::Unit {
                                Z::new(1.0, 0.0)
                            } else {
                                Z::new(a[(i, i)].re(), a[(i, i)].im())
                            }
                        } else if inside(uplo, i, j) {
                            Z::new(a[(i, j)].re(), a[(i, j)].im())
                        } else {
                            Z::new(0.0, 0.0)
                        }
                    });
                    let b0 = if side == Side::Left {
                        rand::<T>(n, p, 5)
                    } else {
                        rand::<T>(p, n, 5)
                    };
                    let mut b = b0.clone();
                    let alpha = T::from_parts(-0.5, 0.75);
                    k::trsm(side, uplo, trans, diag, alpha, a.as_ref(), b.as_mut());
                    let x = zm(b.as_ref());
                    let oa = op(trans, &eff);
                    let lhs = if side == Side::Left {
                        mul(&oa, &x)
                    } else {
                        mul(&x, &oa)
                    };
                    let mut rhs = zm(b0.as_ref());
                    for j in 0..rhs.ncols() {
                        for i in 0..rhs.nrows() {
                            rhs[(i, j)] *= Z::new(alpha.re(), alpha.im());
                        }
                    }
                    let err = max_diff(&lhs, &rhs) / (max_abs(&x) * n as f64 * T::EPS);
                    assert!(
                        err < 50.0,
                        "trsm {} {side:?} {uplo:?} {trans:?} {diag:?}: {err}",
                        T::DTYPE.name()
                    );
                }
            }
        }
    }
}

#[test]
fn trsm_against_naive() {
    trsm_case::<f32>();
    trsm_case::<f64>();
    trsm_case::<c32>();
    trsm_case::<c64>();
}

/// herk (herm) or syrk on one square tile: values in the `uplo` triangle, the other strict
/// triangle untouched. Returns the failures.
fn rank_k_case<T: Scalar>(herm: bool, fails: &mut Vec<String>) {
    let sentinel = T::from_parts(777.0, -3.0);
    for n in [1, 2, 3, 4, 5, 8, 13] {
        for kk in [1, 3, 9] {
            for uplo in [Uplo::Lower, Uplo::Upper] {
                for trans in [Op::NoTrans, if herm { Op::ConjTrans } else { Op::Trans }] {
                    let a = if trans == Op::NoTrans {
                        rand::<T>(n, kk, 6)
                    } else {
                        rand::<T>(kk, n, 6)
                    };
                    let r = rand::<T>(n, n, 7);
                    let c0 = Mat::from_fn(n, n, |i, j| {
                        if !inside(uplo, i, j) {
                            sentinel
                        } else if herm && i == j {
                            T::from_f64(r[(i, j)].re())
                        } else {
                            r[(i, j)]
                        }
                    });
                    let mut c = c0.clone();
                    let name = if herm { "herk" } else { "syrk" };
                    if herm {
                        k::herk(uplo, trans, 0.5, a.as_ref(), 2.0, c.as_mut());
                    } else {
                        k::syrk(
                            uplo,
                            trans,
                            T::from_parts(0.5, 0.25),
                            a.as_ref(),
                            T::from_f64(2.0),
                            c.as_mut(),
                        );
                    }
                    let az = zm(a.as_ref());
                    let x = op(trans, &az);
                    let y = if herm {
                        op(Op::ConjTrans, &x)
                    } else {
                        op(Op::Trans, &x)
                    };
                    let xy = mul(&x, &y);
                    let al = if herm {
                        Z::new(0.5, 0.0)
                    } else {
                        let x = T::from_parts(0.5, 0.25);
                        Z::new(x.re(), x.im())
                    };
                    let ctx = format!("{name} {} n={n} k={kk} {uplo:?} {trans:?}", T::DTYPE.name());
                    for j in 0..n {
                        for i in 0..n {
                            if inside(uplo, i, j) {
                                let c0z = Z::new(c0[(i, j)].re(), c0[(i, j)].im());
                                let want = al * xy[(i, j)] + 2.0 * c0z;
                                let got = Z::new(c[(i, j)].re(), c[(i, j)].im());
                                if (got - want).norm() > 50.0 * (kk + 2) as f64 * T::EPS * 4.0 {
                                    fails.push(format!("{ctx}: C({i},{j}) = {got}, want {want}"));
                                }
                            } else if bits(c[(i, j)]) != bits(sentinel) {
                                fails.push(format!(
                                    "{ctx}: C({i},{j}) outside the triangle changed to {:?}",
                                    c[(i, j)]
                                ));
                            }
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn herk_syrk_touch_only_their_triangle() {
    let mut fails = Vec::new();
    rank_k_case::<f32>(true, &mut fails);
    rank_k_case::<f64>(true, &mut fails);
    rank_k_case::<c32>(true, &mut fails);
    rank_k_case::<c64>(true, &mut fails);
    rank_k_case::<f64>(false, &mut fails);
    rank_k_case::<c32>(false, &mut fails);
    rank_k_case::<c64>(false, &mut fails);
    let mut kinds: Vec<String> = fails
        .iter()
        .map(|f| f.split(" n=").next().unwrap().to_string())
        .collect();
    kinds.dedup();
    assert!(
        fails.is_empty(),
        "{} failures (in {kinds:?}), e.g.:\n  {}",
        fails.len(),
        fails
            .iter()
            .take(12)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n  ")
    );
}

#[test]
fn scale_zero_overwrites_nan() {
    let mut c = Mat::<f64>::from_fn(3, 2, |_, _| f64::NAN);
    k::scale(0.0, c.as_mut());
    assert!((0..3).all(|i| (0..2).all(|j| c[(i, j)] == 0.0)));
    let mut c = Mat::<c64>::from_fn(2, 2, |i, j| c64::new(i as f64, j as f64));
    k::scale(c64::new(0.0, 1.0), c.as_mut());
    assert_eq!(c[(1, 1)], c64::new(-1.0, 1.0));
}

// ---------------------------------------------------------------------------------------
// Cholesky

fn spd<T: Scalar>(n: usize, seed: u64) -> Mat<T> {
    let r = rand::<T>(n, n, seed);
    Mat::from_fn(n, n, |i, j| {
        if i == j {
            T::from_f64(r[(i, i)].re() + n as f64)
        } else if i > j {
            r[(i, j)]
        } else {
            Scalar::conj(r[(j, i)])
        }
    })
}

fn potrf_case<T: Scalar>(fails: &mut Vec<String>) {
    for n in [1, 2, 5, 16, 33] {
        for uplo in [Uplo::Lower, Uplo::Upper] {
            let a0 = spd::<T>(n, 8);
            let mut a = a0.clone();
            let ctx = format!("potrf {} n={n} {uplo:?}", T::DTYPE.name());
            assert_eq!(k::potrf(uplo, a.as_mut()), Ok(()), "{ctx}");
            let f = zm(a.as_ref());
            let tri = Mat::from_fn(n, n, |i, j| {
                if inside(uplo, i, j) {
                    f[(i, j)]
                } else {
                    Z::new(0.0, 0.0)
                }
            });
            let prod = if uplo == Uplo::Lower {
                mul(&tri, &op(Op::ConjTrans, &tri))
            } else {
                mul(&op(Op::ConjTrans, &tri), &tri)
            };
            let err = max_diff(&prod, &zm(a0.as_ref())) / (n as f64 * n as f64 * T::EPS);
            assert!(err < 10.0, "{ctx}: {err}");
            let changed = (0..n)
                .flat_map(|j| (0..n).map(move |i| (i, j)))
                .filter(|&(i, j)| !inside(uplo, i, j) && bits(a[(i, j)]) != bits(a0[(i, j)]))
                .count();
            if changed > 0 {
                fails.push(format!(
                    "{ctx}: {changed} entries of the other triangle were overwritten"
                ));
            }
        }
    }
    // Not positive definite: the 0-based index of the failing column.
    for j in [0, 3, 10] {
        let mut a = spd::<T>(12, 9);
        a[(j, j)] = T::from_f64(-1.0);
        assert_eq!(
            k::potrf(Uplo::Lower, a.as_mut()),
            Err(j),
            "potrf {} failing column {j}",
            T::DTYPE.name()
        );
    }
}

#[test]
fn potrf_tile() {
    let mut fails = Vec::new();
    potrf_case::<f32>(&mut fails);
    potrf_case::<f64>(&mut fails);
    potrf_case::<c32>(&mut fails);
    potrf_case::<c64>(&mut fails);
    assert!(
        fails.is_empty(),
        "the strict other triangle must not be written (LAPACK xPOTRF):\n  {}",
        fails.join("\n  ")
    );
}

// ---------------------------------------------------------------------------------------
// LU

fn lu_check<T: Scalar>(a0: &Mat<T>, f: &Mat<T>, ipiv: &[usize], ctx: &str) {
    let (m, n) = (a0.nrows(), a0.ncols());
    let kmin = m.min(n);
    let mut pa = zm(a0.as_ref());
    for (i, &p) in ipiv.iter().enumerate() {
        assert!(p >= i && p < m, "{ctx}: ipiv[{i}] = {p}");
        for j in 0..n {
            let t = pa[(i, j)];
            pa[(i, j)] = pa[(p, j)];
            pa[(p, j)] = t;
        }
    }
    let fz = zm(f.as_ref());
    let l = Mat::from_fn(m, kmin, |i, j| {
        if i == j {
            Z::new(1.0, 0.0)
        } else if i > j {
            fz[(i, j)]
        } else {
            Z::new(0.0, 0.0)
        }
    });
    let u = Mat::from_fn(
        kmin,
        n,
        |i, j| if i <= j { fz[(i, j)] } else { Z::new(0.0, 0.0) },
    );
    let err = max_diff(&mul(&l, &u), &pa) / (m.max(n) as f64 * T::EPS);
    assert!(err < 50.0, "{ctx}: P A - L U = {err}");
}

#[test]
fn getrf_panel_matches_faer_pivots() {
    for (m, n) in [
        (50, 20),
        (40, 40),
        (20, 50),
        (17, 17),
        (100, 33),
        (5, 3),
        (3, 5),
    ] {
        let a0 = rand::<f64>(m, n, 10 + m as u64);
        let mut buf: Vec<f64> = (0..n)
            .flat_map(|j| (0..m).map(move |i| (i, j)))
            .map(|(i, j)| a0[(i, j)])
            .collect();
        let mut ipiv = vec![0; m.min(n)];
        assert_eq!(k::getrf_panel(&mut buf, m, n, m, &mut ipiv), None);
        let f = Mat::from_fn(m, n, |i, j| buf[i + j * m]);
        lu_check(&a0, &f, &ipiv, &format!("getrf_panel {m}x{n}"));
        let mut perm: Vec<usize> = (0..m).collect();
        for (i, &p) in ipiv.iter().enumerate() {
            perm.swap(i, p);
        }
        let lu = a0.partial_piv_lu();
        let theirs = lu.P().arrays().0;
        assert_eq!(
            perm[..m.min(n)],
            theirs[..m.min(n)],
            "getrf_panel {m}x{n}: pivots differ from faer's"
        );
    }
}

#[test]
fn getrf_panel_complex_and_leading_dimension() {
    // A panel inside a larger buffer (ld > m) leaves the rows below untouched.
    let (m, n, ld) = (37, 21, 45);
    let a0 = rand::<c64>(m, n, 11);
    let mut buf = vec![c64::new(9.0, 9.0); ld * n];
    for j in 0..n {
        for i in 0..m {
            buf[i + j * ld] = a0[(i, j)];
        }
    }
    let mut ipiv = vec![0; n];
    assert_eq!(k::getrf_panel(&mut buf, m, n, ld, &mut ipiv), None);
    for j in 0..n {
        for i in m..ld {
            assert_eq!(
                buf[i + j * ld],
                c64::new(9.0, 9.0),
                "row {i} below the panel was written"
            );
        }
    }
    let f = Mat::from_fn(m, n, |i, j| buf[i + j * ld]);
    lu_check(&a0, &f, &ipiv, "getrf_panel c64 with ld > m");
}

#[test]
fn getrf_panel_zero_pivot() {
    for (m, n, zc) in [(30, 20, 7), (30, 20, 0), (12, 12, 11), (40, 25, 19)] {
        let mut a0 = rand::<f64>(m, n, 12);
        for i in 0..m {
            a0[(i, zc)] = 0.0;
        }
        let mut buf: Vec<f64> = (0..n)
            .flat_map(|j| (0..m).map(move |i| (i, j)))
            .map(|(i, j)| a0[(i, j)])
            .collect();
        let mut ipiv = vec![0; m.min(n)];
        assert_eq!(
            k::getrf_panel(&mut buf, m, n, m, &mut ipiv),
            Some(zc),
            "{m}x{n} zero column {zc}"
        );
        let f = Mat::from_fn(m, n, |i, j| buf[i + j * m]);
        lu_check(
            &a0,
            &f,
            &ipiv,
            &format!("getrf_panel {m}x{n} zero column {zc}"),
        );
    }
}

#[test]
fn getrf_nopiv_tile() {
    for n in [1, 5, 32, 47] {
        let mut a0 = rand::<c64>(n, n, 13);
        for i in 0..n {
            a0[(i, i)] += c64::new(n as f64, 0.0);
        }
        let mut a = a0.clone();
        assert_eq!(k::getrf_nopiv(a.as_mut()), None);
        let ident: Vec<usize> = (0..n).collect();
        lu_check(&a0, &a, &ident, &format!("getrf_nopiv n={n}"));
    }
    let mut a = Mat::<f64>::from_fn(4, 4, |i, j| {
        if i == j && i != 2 {
            4.0
        } else if j == 2 {
            0.0
        } else {
            0.5
        }
    });
    assert_eq!(k::getrf_nopiv(a.as_mut()), Some(2));
}

#[test]
fn laswp_tiles_matches_laswp() {
    let (m, n, mb) = (23, 6, 5);
    let a0 = rand::<f32>(m, n, 14);
    let ipiv: Vec<usize> = vec![4, 7, 2, 22, 10, 5, 17, 9];
    let k0 = 2;
    // Reference: row k0 + i swapped with ipiv[i], in order.
    let mut want = a0.clone();
    for (i, &p) in ipiv.iter().enumerate() {
        for j in 0..n {
            let t = want[(k0 + i, j)];
            want[(k0 + i, j)] = want[(p, j)];
            want[(p, j)] = t;
        }
    }
    let mut tiles: Vec<Mat<f32>> = (0..m.div_ceil(mb))
        .map(|t| Mat::from_fn((m - t * mb).min(mb), n, |i, j| a0[(t * mb + i, j)]))
        .collect();
    {
        let mut views: Vec<MatMut<'_, f32>> = tiles.iter_mut().map(|t| t.as_mut()).collect();
        k::laswp_tiles(&mut views, mb, k0, &ipiv);
    }
    for i in 0..m {
        for j in 0..n {
            assert_eq!(tiles[i / mb][(i % mb, j)], want[(i, j)], "row {i} col {j}");
        }
    }
    // laswp forward then backward restores the matrix.
    let piv2: Vec<usize> = vec![3, 1, 4, 4, 9, 22];
    let mut b = a0.clone();
    k::laswp(b.as_mut(), &piv2, true);
    k::laswp(b.as_mut(), &piv2, false);
    assert!((0..m).all(|i| (0..n).all(|j| b[(i, j)] == a0[(i, j)])));
}

// ---------------------------------------------------------------------------------------
// QR with block reflectors across tiles

fn qr_case<T: Scalar>(m: usize, n: usize, split: &[usize]) {
    let ctx = format!("geqrt {} {m}x{n} split {split:?}", T::DTYPE.name());
    let kk = m.min(n);
    let a0 = rand::<T>(m, n, 15);
    let mut a = a0.clone();
    let mut t = Mat::<T>::zeros(kk, kk);
    k::geqrt(a.as_mut(), t.as_mut());
    // The rows of V split over tiles (first tile holds at least k rows).
    let mut bounds = vec![0];
    bounds.extend_from_slice(split);
    bounds.push(m);
    let v_tiles: Vec<Mat<T>> = bounds
        .windows(2)
        .map(|w| Mat::from_fn(w[1] - w[0], n, |i, j| a[(w[0] + i, j)]))
        .collect();
    let v: Vec<MatRef<'_, T>> = v_tiles.iter().map(|x| x.as_ref()).collect();
    let apply_left = |trans: Op, c0: &Mat<T>| -> Mat<T> {
        let p = c0.ncols();
        let mut c_tiles: Vec<Mat<T>> = bounds
            .windows(2)
            .map(|w| Mat::from_fn(w[1] - w[0], p, |i, j| c0[(w[0] + i, j)]))
            .collect();
        {
            let mut cv: Vec<MatMut<'_, T>> = c_tiles.iter_mut().map(|x| x.as_mut()).collect();
            let mut work = faer::Mat::<T>::zeros(kk, p);
            k::apply_block_reflector_tiles(trans, &v, t.as_ref(), &mut cv, work.as_mut());
        }
        Mat::from_fn(m, p, |i, j| {
            let tt = bounds.windows(2).position(|w| i < w[1]).unwrap();
            c_tiles[tt][(i - bounds[tt], j)]
        })
    };
    let apply_right = |trans: Op, c0: &Mat<T>| -> Mat<T> {
        let p = c0.nrows();
        let mut c_tiles: Vec<Mat<T>> = bounds
            .windows(2)
            .map(|w| Mat::from_fn(p, w[1] - w[0], |i, j| c0[(i, w[0] + j)]))
            .collect();
        {
            let mut cv: Vec<MatMut<'_, T>> = c_tiles.iter_mut().map(|x| x.as_mut()).collect();
            let mut work = Mat::<T>::zeros(p, kk);
            k::apply_block_reflector_tiles_right(trans, &v, t.as_ref(), &mut cv, work.as_mut());
        }
        Mat::from_fn(p, m, |i, j| {
            let tt = bounds.windows(2).position(|w| j < w[1]).unwrap();
            c_tiles[tt][(i, j - bounds[tt])]
        })
    };
    // Explicit Q = Q I.
    let q = zm(apply_left(Op::NoTrans, &Mat::<T>::identity(m, m)).as_ref());
    let qhq = mul(&op(Op::ConjTrans, &q), &q);
    let ident = zm(Mat::<T>::identity(m, m).as_ref());
    let tol = 30.0 * m as f64 * T::EPS;
    assert!(max_diff(&qhq, &ident) < tol, "{ctx}: Q^H Q != I");
    // Q^H A = R.
    let qha = zm(apply_left(Op::ConjTrans, &a0).as_ref());
    let r = Mat::from_fn(m, n, |i, j| {
        if i <= j {
            Z::new(a[(i, j)].re(), a[(i, j)].im())
        } else {
            Z::new(0.0, 0.0)
        }
    });
    assert!(
        max_diff(&qha, &r) < tol * max_abs(&zm(a0.as_ref())) * 2.0,
        "{ctx}: Q^H A != R"
    );
    // Right side against the explicit Q.
    let d0 = rand::<T>(4, m, 16);
    for trans in [Op::NoTrans, Op::ConjTrans] {
        let got = zm(apply_right(trans, &d0).as_ref());
        let want = mul(&zm(d0.as_ref()), &op(trans, &q));
        assert!(max_diff(&got, &want) < tol * 4.0, "{ctx}: right {trans:?}");
    }
}

#[test]
fn geqrt_and_block_reflectors() {
    qr_case::<f64>(20, 8, &[8, 14]);
    qr_case::<f64>(9, 9, &[]);
    qr_case::<f32>(30, 12, &[12, 24]);
    qr_case::<c64>(25, 10, &[10, 17]);
    qr_case::<c32>(16, 7, &[9]);
    qr_case::<c64>(6, 11, &[]);
}

// ---------------------------------------------------------------------------------------
// Norms and auxiliaries

#[test]
fn tile_norms() {
    let a = rand::<c64>(7, 5, 17);
    let az = zm(a.as_ref());
    let modulus = |i: usize, j: usize| az[(i, j)].norm();
    match k::tile_norm(Norm::Max, None, a.as_ref()) {
        PartialNorm::Max(v) => assert_eq!(
            v,
            (0..7)
                .flat_map(|i| (0..5).map(move |j| (i, j)))
                .map(|(i, j)| modulus(i, j))
                .fold(0.0, f64::max)
        ),
        other => panic!("{other:?}"),
    }
    match k::tile_norm(Norm::One, None, a.as_ref()) {
        PartialNorm::ColSums(c) => (0..5).for_each(|j| {
            assert!((c[j] - (0..7).map(|i| modulus(i, j)).sum::<f64>()).abs() < 1e-14)
        }),
        other => panic!("{other:?}"),
    }
    match k::tile_norm(Norm::Inf, None, a.as_ref()) {
        PartialNorm::RowSums(r) => (0..7).for_each(|i| {
            assert!((r[i] - (0..5).map(|j| modulus(i, j)).sum::<f64>()).abs() < 1e-14)
        }),
        other => panic!("{other:?}"),
    }
    // Frobenius of two tiles combined = Frobenius of the stacked matrix.
    let b = rand::<c64>(3, 5, 18);
    let fro = |x: &Mat<c64>| match k::tile_norm(Norm::Frobenius, None, x.as_ref()) {
        PartialNorm::Ssq { scale, sumsq } => (scale, sumsq),
        other => panic!("{other:?}"),
    };
    let (s, q) = k::ssq_combine(fro(&a), fro(&b));
    let want = (az.squared_norm_l2() + zm(b.as_ref()).squared_norm_l2()).sqrt();
    assert!((s * q.sqrt() - want).abs() < 1e-14 * want);
    assert_eq!(k::ssq_combine((0.0, 1.0), (0.0, 1.0)).0, 0.0);
    // Symmetric diagonal tile: One norm counts the mirrored entries.
    let s5 = rand::<f64>(5, 5, 19);
    match k::tile_norm(Norm::One, Some(Uplo::Lower), s5.as_ref()) {
        PartialNorm::ColSums(c) => {
            for j in 0..5 {
                let want: f64 = (0..5)
                    .map(|i| {
                        if i >= j {
                            s5[(i, j)].abs()
                        } else {
                            s5[(j, i)].abs()
                        }
                    })
                    .sum();
                assert!((c[j] - want).abs() < 1e-14, "column {j}");
            }
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn auxiliary_kernels() {
    let mut a = rand::<f64>(4, 6, 20);
    assert_eq!(k::find_non_finite(a.as_ref()), None);
    a[(3, 2)] = f64::INFINITY;
    a[(1, 4)] = f64::NAN;
    assert_eq!(k::find_non_finite(a.as_ref()), Some((3, 2)));
    let z = Mat::<c32>::from_fn(2, 2, |i, j| {
        if (i, j) == (1, 1) {
            c32::new(1.0, f32::NAN)
        } else {
            c32::new(0.0, 0.0)
        }
    });
    assert_eq!(k::find_non_finite(z.as_ref()), Some((1, 1)));

    let src = rand::<f64>(5, 5, 21);
    let mut dst = Mat::<f64>::from_fn(5, 5, |_, _| -7.0);
    k::lacpy(Some(Uplo::Upper), src.as_ref(), dst.as_mut());
    for j in 0..5 {
        for i in 0..5 {
            assert_eq!(dst[(i, j)], if i <= j { src[(i, j)] } else { -7.0 });
        }
    }
    let mut s = Mat::<f64>::zeros(3, 4);
    k::laset(2.0, 5.0, s.as_mut());
    assert!((0..3).all(|i| (0..4).all(|j| s[(i, j)] == if i == j { 5.0 } else { 2.0 })));
}

fn non_finite_case<T: Scalar>() {
    let (m, n) = (37, 9);
    let a = rand::<T>(m, n, 31);
    assert_eq!(k::find_non_finite(a.as_ref()), None);
    assert_eq!(k::find_non_finite_triangle(Uplo::Lower, a.as_ref()), None);
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        for (i, j) in [(0, 0), (36, 0), (5, 4), (17, 8), (36, 8), (4, 5)] {
            let mut b = a.clone();
            b[(i, j)] = T::from_f64(bad);
            // A second one later in column-major order is not the one reported.
            b[(36, 8)] = if (i, j) == (36, 8) {
                b[(36, 8)]
            } else {
                T::from_f64(f64::NAN)
            };
            assert_eq!(
                k::find_non_finite(b.as_ref()),
                Some((i, j)),
                "{bad} at ({i}, {j})"
            );
            // Strided views: a transposed one (no contiguous column) and a submatrix.
            assert_eq!(
                k::find_non_finite(b.as_ref().transpose()),
                (0..m).find_map(|r| (0..n).find(|&c| !b[(r, c)].finite()).map(|c| (c, r))),
                "{bad} at ({i}, {j}), transposed"
            );
            let s = b.as_ref().submatrix(1, 1, m - 1, n - 1);
            let want =
                (0..n - 1).find_map(|c| (0..m - 1).find(|&r| !s[(r, c)].finite()).map(|r| (r, c)));
            assert_eq!(
                k::find_non_finite(s),
                want,
                "{bad} at ({i}, {j}), submatrix"
            );
            // Triangles: only entries inside count.
            for uplo in [Uplo::Lower, Uplo::Upper] {
                let want = (0..n).find_map(|c| {
                    (0..m)
                        .find(|&r| inside(uplo, r, c) && !b[(r, c)].finite())
                        .map(|r| (r, c))
                });
                assert_eq!(
                    k::find_non_finite_triangle(uplo, b.as_ref()),
                    want,
                    "{bad} at ({i}, {j}), {uplo:?}"
                );
            }
        }
    }
}

#[test]
fn non_finite_entries_are_found_where_they_are() {
    non_finite_case::<f32>();
    non_finite_case::<f64>();
    non_finite_case::<c32>();
    non_finite_case::<c64>();
}
