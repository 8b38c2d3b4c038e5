//! Error reporting of the dense routines: matrices that are not positive definite,
//! exactly singular or rank deficient (with LAPACK's 1-based `INFO` positions, failures
//! placed inside the 2nd and 3rd tiles), NaN / infinite input (with the right position),
//! invalid dimensions and arguments (`Error::InvalidArgument`, negative `info()`), and
//! what is (or is not) left behind after a failure. No call may panic.

mod common;

use common::*;
use std::sync::Arc;
use tessera::dense;
use tessera::runtime::Runtime;
use tessera::tile::{BlockCyclic2D, TileMatrix};
use tessera::{c32, c64, Diag, Error, Norm, Op, Scalar, Side, Uplo};

fn name<T: Scalar>() -> &'static str {
    T::DTYPE.name()
}

/// An SPD (diagonally dominant) `n x n` matrix.
fn spd<T: Scalar>(rt: &Runtime, n: usize, seed: u64) -> Dm<T> {
    Dm::of(rt, &dense::plghe::<T>(rt, n as f64, n, 8, seed).unwrap())
}

// =======================================================================================
// Not positive definite

fn not_pd<T: Scalar>() {
    let rt = runtime(3);
    for nb in [4, 7, 16] {
        let n = 3 * nb + 2;
        // The failing minor in the 1st, 2nd, 3rd and last tile.
        for k in [1, nb + 1, 2 * nb + 3, n - 1] {
            for uplo in [Uplo::Lower, Uplo::Upper] {
                let ctx = format!("potrf {} n={n} nb={nb} k={k} {uplo:?}", name::<T>());
                let mut a0 = spd::<T>(&rt, n, 5);
                // Leading minors of order <= k stay dominant; the minor of order k + 1 is not PD.
                a0.set(k, k, T::from_f64(-1.0));
                let a = a0.tiles(&rt, nb);
                let r = dense::potrf(&rt, uplo, &a);
                assert_eq!(r, Err(Error::NotPositiveDefinite { order: k + 1 }), "{ctx}");
                assert_eq!(r.unwrap_err().info(), (k + 1) as i32, "{ctx}: info");
                // posv reports the same.
                let a = a0.tiles(&rt, nb);
                let b = Dm::<T>::random(n, 2, 6).tiles(&rt, nb);
                assert_eq!(
                    dense::posv(&rt, uplo, &a, &b),
                    Err(Error::NotPositiveDefinite { order: k + 1 }),
                    "{ctx} (posv)"
                );
            }
        }
        // A zero (not negative) pivot fails too.
        let mut a0 = spd::<T>(&rt, n, 7);
        let k = nb + 2;
        for j in 0..n {
            a0.set(k, j, T::zero());
            a0.set(j, k, T::zero());
        }
        let a = a0.tiles(&rt, nb);
        assert_eq!(
            dense::potrf(&rt, Uplo::Lower, &a),
            Err(Error::NotPositiveDefinite { order: k + 1 }),
            "{} zero row/column {k}",
            name::<T>()
        );
    }
}

#[test]
fn not_positive_definite_f32() {
    not_pd::<f32>()
}
#[test]
fn not_positive_definite_f64() {
    not_pd::<f64>()
}
#[test]
fn not_positive_definite_c32() {
    not_pd::<c32>()
}
#[test]
fn not_positive_definite_c64() {
    not_pd::<c64>()
}

/// The LAPACK-layout posv wrapper leaves B untouched when the factorization fails.
#[test]
fn lapack_posv_failure_leaves_b_untouched() {
    let rt = runtime(2);
    let n = 150;
    let mut a0 = spd::<f64>(&rt, n, 8);
    a0.set(120, 120, -1.0);
    let b0 = Dm::<f64>::random(n, 2, 9);
    let mut a = faer::Mat::<f64>::from_fn(n, n, |i, j| a0.get(i, j));
    let mut b = faer::Mat::<f64>::from_fn(n, 2, |i, j| b0.get(i, j));
    let r = dense::lapack::posv(&rt, Uplo::Lower, a.as_mut(), b.as_mut());
    assert_eq!(r, Err(Error::NotPositiveDefinite { order: 121 }));
    assert!(
        (0..n).all(|i| (0..2).all(|j| b[(i, j)].to_bits() == b0.get(i, j).to_bits())),
        "B was modified"
    );
}

/// `dense::posv` is documented with "the solve is not run if the factorization fails":
/// B must keep its contents when the failing minor lies in a later tile.
#[test]
fn posv_failure_leaves_b_untouched() {
    for workers in [1, 2] {
        let rt = runtime(workers);
        let nb = 4;
        let n = 4 * nb;
        let mut a0 = spd::<f64>(&rt, n, 10);
        let k = 3 * nb + 1;
        a0.set(k, k, -1.0);
        let b0 = Dm::<f64>::random(n, 3, 11);
        let (a, b) = (a0.tiles(&rt, nb), b0.tiles(&rt, nb));
        assert_eq!(
            dense::posv(&rt, Uplo::Lower, &a, &b),
            Err(Error::NotPositiveDefinite { order: k + 1 })
        );
        let after = Dm::of(&rt, &b);
        assert!(
            after.bits_eq(&b0),
            "{workers} worker(s): posv failed but modified {} entries of B",
            after.bits_diff(&b0)
        );
    }
}

// =======================================================================================
// Exactly singular (LU) and rank deficient (QR)

/// `getrf` on `a0` must report `Singular { index }` and still complete the factorization.
fn expect_singular<T: Scalar>(rt: &Runtime, a0: &Dm<T>, nb: usize, index: usize, ctx: &str) {
    let a = a0.tiles(rt, nb);
    let k = a0.m.min(a0.n);
    let mut ipiv = vec![usize::MAX; k];
    let r = dense::getrf(rt, &a, &mut ipiv);
    assert_eq!(r, Err(Error::Singular { index }), "{ctx}");
    assert_eq!(r.unwrap_err().info(), index as i32, "{ctx}: info");
    for (i, &p) in ipiv.iter().enumerate() {
        assert!(p >= i && p < a0.m, "{ctx}: ipiv[{i}] = {p}");
    }
    // The factorization is complete: P A = L U.
    let f = Dm::of(rt, &a).z();
    let mut pa = a0.z();
    apply_swaps(&mut pa, &ipiv);
    let lu = mul(&unit_lower(&f, k), &upper(&f, k));
    let res = norm1(&sub(&pa, &lu)) / (a0.m.max(a0.n) as f64 * norm1(&a0.z()) * T::EPS);
    check_small(res, 30.0, format!("{ctx}: P A - L U"));
    assert_eq!(
        f.get(index - 1, index - 1),
        Z::new(0.0, 0.0),
        "{ctx}: U(index, index) is not zero"
    );
}

fn singular<T: Scalar>() {
    let rt = runtime(3);
    for nb in [4, 7, 16] {
        let n = 3 * nb + 2;
        // A zero column k: U(k, k) is the first zero pivot.
        for k in [nb + 1, 2 * nb + 3] {
            let ctx = format!("getrf {} n={n} nb={nb} zero column {k}", name::<T>());
            let mut a0 = Dm::<T>::random(n, n, 20 + k as u64);
            for i in 0..n {
                a0.set(i, k, T::zero());
            }
            expect_singular(&rt, &a0, nb, k + 1, &ctx);
            // Tall and wide matrices with the same zero column.
            let mut tall = Dm::<T>::random(n + nb + 1, n, 21);
            for i in 0..tall.m {
                tall.set(i, k, T::zero());
            }
            expect_singular(&rt, &tall, nb, k + 1, &format!("{ctx} (tall)"));
            let mut wide = Dm::<T>::random(n, n + 2 * nb, 22);
            for i in 0..wide.m {
                wide.set(i, k, T::zero());
            }
            expect_singular(&rt, &wide, nb, k + 1, &format!("{ctx} (wide)"));
        }
        // A zero row: only the last pivot is zero.
        let mut a0 = Dm::<T>::random(n, n, 23);
        for j in 0..n {
            a0.set(nb + 2, j, T::zero());
        }
        expect_singular(
            &rt,
            &a0,
            nb,
            n,
            &format!("getrf {} n={n} nb={nb} zero row", name::<T>()),
        );
        // Two equal rows (whose first entry, 1, is the largest of the column so that the
        // elimination is exact): the copy becomes an exact zero row.
        let mut a0 = Dm::<T>::random(n, n, 24);
        let (r1, r2) = (nb - 1, 2 * nb + 1);
        a0.set(r1, 0, T::one());
        for j in 0..n {
            a0.set(r2, j, a0.get(r1, j));
        }
        expect_singular(
            &rt,
            &a0,
            nb,
            n,
            &format!("getrf {} n={n} nb={nb} duplicated rows", name::<T>()),
        );
    }
}

#[test]
fn singular_f32() {
    singular::<f32>()
}
#[test]
fn singular_f64() {
    singular::<f64>()
}
#[test]
fn singular_c32() {
    singular::<c32>()
}
#[test]
fn singular_c64() {
    singular::<c64>()
}

#[test]
fn singular_nopiv_and_gesv() {
    let rt = runtime(2);
    for nb in [4, 7] {
        let n = 3 * nb + 2;
        let k = 2 * nb + 1;
        // getrf_nopiv: a zero column gives an exactly zero pivot U(k, k).
        let mut a0 = Dm::<f64>::random(n, n, 30);
        for i in 0..n {
            a0.set(i, i, a0.get(i, i) + n as f64);
            a0.set(i, k, 0.0);
        }
        let a = a0.tiles(&rt, nb);
        let r = dense::getrf_nopiv(&rt, &a);
        assert_eq!(
            r,
            Err(Error::Singular { index: k + 1 }),
            "getrf_nopiv nb={nb}"
        );
        // gesv: Singular, and B is left untouched.
        let b0 = Dm::<c64>::random(n, 2, 31);
        let mut g0 = Dm::<c64>::random(n, n, 32);
        for i in 0..n {
            g0.set(i, k, c64::new(0.0, 0.0));
        }
        let (a, b) = (g0.tiles(&rt, nb), b0.tiles(&rt, nb));
        let mut ipiv = vec![0; n];
        assert_eq!(
            dense::gesv(&rt, &a, &mut ipiv, &b),
            Err(Error::Singular { index: k + 1 }),
            "gesv nb={nb}"
        );
        assert!(Dm::of(&rt, &b).bits_eq(&b0), "gesv nb={nb}: B was modified");
        // The LAPACK-layout wrapper too.
        let mut am = faer::Mat::<c64>::from_fn(n, n, |i, j| g0.get(i, j));
        let mut bm = faer::Mat::<c64>::from_fn(n, 2, |i, j| b0.get(i, j));
        let mut ipiv = vec![0; n];
        assert_eq!(
            dense::lapack::gesv(&rt, am.as_mut(), &mut ipiv, bm.as_mut()),
            Err(Error::Singular { index: k + 1 })
        );
        assert!(
            (0..n).all(|i| (0..2).all(|j| bm[(i, j)] == b0.get(i, j))),
            "lapack::gesv modified B"
        );
    }
}

#[test]
fn gels_rank_deficient() {
    let rt = runtime(2);
    for nb in [4, 7] {
        // Tall: a zero column k.
        let (m, n) = (3 * nb + 2, 2 * nb + 3);
        for k in [nb + 1, 2 * nb + 2] {
            let mut a0 = Dm::<f64>::random(m, n, 40);
            for i in 0..m {
                a0.set(i, k, 0.0);
            }
            let (a, b) = (
                a0.tiles(&rt, nb),
                Dm::<f64>::random(m, 1, 41).tiles(&rt, nb),
            );
            let r = dense::gels(&rt, &a, &b);
            assert_eq!(
                r,
                Err(Error::RankDeficient { index: k + 1 }),
                "gels {m}x{n} nb={nb} zero column {k}"
            );
            assert_eq!(r.unwrap_err().info(), (k + 1) as i32);
        }
        // Wide: a zero row k (A^H has a zero column).
        let (m, n) = (2 * nb + 3, 3 * nb + 2);
        let k = nb + 1;
        let mut a0 = Dm::<c64>::random(m, n, 42);
        for j in 0..n {
            a0.set(k, j, c64::new(0.0, 0.0));
        }
        let (a, b) = (
            a0.tiles(&rt, nb),
            Dm::<c64>::random(n, 1, 43).tiles(&rt, nb),
        );
        assert_eq!(
            dense::gels(&rt, &a, &b),
            Err(Error::RankDeficient { index: k + 1 }),
            "gels {m}x{n} nb={nb} zero row {k}"
        );
    }
}

// =======================================================================================
// NaN and infinities

fn bad_values<T: Scalar>() -> [(T, &'static str); 3] {
    [
        (T::from_f64(f64::NAN), "NaN"),
        (T::from_f64(f64::INFINITY), "+inf"),
        (
            if is_complex::<T>() {
                T::from_parts(0.5, f64::NEG_INFINITY)
            } else {
                T::from_f64(f64::NEG_INFINITY)
            },
            "-inf (imaginary part for complex)",
        ),
    ]
}

fn not_finite<T: Scalar>() {
    let rt = runtime(3);
    for nb in [4, 7] {
        let n = 3 * nb + 2;
        // Positions in the 2nd and 3rd tiles (row, col), below the diagonal.
        for (i, j) in [(nb + 2, 1), (2 * nb + 1, nb + 3), (n - 1, 2 * nb)] {
            for (v, what) in bad_values::<T>() {
                let ctx = format!("{} nb={nb} {what} at ({i},{j})", name::<T>());
                let want = Err(Error::NotFinite {
                    arg: "A",
                    row: i,
                    col: j,
                });
                // potrf, Lower (i > j) and Upper (the transposed position).
                let mut a0 = spd::<T>(&rt, n, 50);
                a0.set(i, j, v);
                assert_eq!(
                    dense::potrf(&rt, Uplo::Lower, &a0.tiles(&rt, nb)),
                    want,
                    "potrf Lower {ctx}"
                );
                let mut u0 = spd::<T>(&rt, n, 50);
                u0.set(j, i, v);
                assert_eq!(
                    dense::potrf(&rt, Uplo::Upper, &u0.tiles(&rt, nb)),
                    Err(Error::NotFinite {
                        arg: "A",
                        row: j,
                        col: i
                    }),
                    "potrf Upper {ctx}"
                );
                // posv with the bad value in B.
                let mut b0 = Dm::<T>::random(n, 3, 51);
                b0.set(i, 2, v);
                assert_eq!(
                    dense::posv(
                        &rt,
                        Uplo::Lower,
                        &spd::<T>(&rt, n, 50).tiles(&rt, nb),
                        &b0.tiles(&rt, nb)
                    ),
                    Err(Error::NotFinite {
                        arg: "B",
                        row: i,
                        col: 2
                    }),
                    "posv B {ctx}"
                );
                // getrf, getrf_nopiv, geqrf, gels, gesv on a general matrix.
                let mut g0 = Dm::<T>::random(n, n, 52);
                g0.set(i, j, v);
                let mut ipiv = vec![0; n];
                assert_eq!(
                    dense::getrf(&rt, &g0.tiles(&rt, nb), &mut ipiv),
                    want,
                    "getrf {ctx}"
                );
                assert_eq!(
                    dense::getrf_nopiv(&rt, &g0.tiles(&rt, nb)),
                    want,
                    "getrf_nopiv {ctx}"
                );
                let ga = g0.tiles(&rt, nb);
                assert_eq!(
                    dense::geqrf(&rt, &ga, &dense::qr_workspace(&ga)),
                    want,
                    "geqrf {ctx}"
                );
                assert_eq!(
                    dense::gels(
                        &rt,
                        &g0.tiles(&rt, nb),
                        &Dm::<T>::random(n, 1, 53).tiles(&rt, nb)
                    ),
                    want,
                    "gels A {ctx}"
                );
                assert_eq!(
                    dense::gesv(
                        &rt,
                        &g0.tiles(&rt, nb),
                        &mut ipiv,
                        &Dm::<T>::random(n, 1, 53).tiles(&rt, nb)
                    ),
                    want,
                    "gesv A {ctx}"
                );
                let good = Dm::<T>::random(n, n, 54);
                assert_eq!(
                    dense::gesv(&rt, &good.tiles(&rt, nb), &mut ipiv, &b0.tiles(&rt, nb)),
                    Err(Error::NotFinite {
                        arg: "B",
                        row: i,
                        col: 2
                    }),
                    "gesv B {ctx}"
                );
                assert_eq!(
                    dense::gels(&rt, &good.tiles(&rt, nb), &b0.tiles(&rt, nb)),
                    Err(Error::NotFinite {
                        arg: "B",
                        row: i,
                        col: 2
                    }),
                    "gels B {ctx}"
                );
            }
        }
    }
}

#[test]
fn not_finite_f32() {
    not_finite::<f32>()
}
#[test]
fn not_finite_f64() {
    not_finite::<f64>()
}
#[test]
fn not_finite_c32() {
    not_finite::<c32>()
}
#[test]
fn not_finite_c64() {
    not_finite::<c64>()
}

/// potrf reads only the `uplo` triangle: NaN in the other triangle, including the other
/// half of a diagonal tile, must neither fail the call nor affect the factor.
#[test]
fn potrf_ignores_nan_in_other_triangle() {
    let rt = runtime(2);
    let nb = 4;
    let n = 3 * nb + 1;
    let mut fails = Failures::new();
    for uplo in [Uplo::Lower, Uplo::Upper] {
        // (0, 1) is inside the diagonal tile (0, 0); (nb + 1, nb + 3) inside the diagonal
        // tile (1, 1); (1, 2 nb) is in an off-diagonal tile.
        for (i, j) in [(0, 1), (nb + 1, nb + 3), (1, 2 * nb)] {
            let (i, j) = if uplo == Uplo::Lower { (i, j) } else { (j, i) };
            let clean = spd::<f64>(&rt, n, 60);
            let mut a0 = clean.clone();
            a0.set(i, j, f64::NAN);
            let (a, c) = (a0.tiles(&rt, nb), clean.tiles(&rt, nb));
            let r = dense::potrf(&rt, uplo, &a);
            if r.is_err() {
                fails.check(false, || {
                    format!(
                        "potrf {uplo:?} with NaN at ({i},{j}) outside the triangle returned {r:?}"
                    )
                });
                continue;
            }
            dense::potrf(&rt, uplo, &c).unwrap();
            let (fa, fc) = (Dm::of(&rt, &a), Dm::of(&rt, &c));
            let same = (0..n).all(|jj| {
                (0..n).all(|ii| {
                    let inside = if uplo == Uplo::Lower {
                        ii >= jj
                    } else {
                        ii <= jj
                    };
                    !inside || fa.get(ii, jj).to_bits() == fc.get(ii, jj).to_bits()
                })
            });
            fails.check(same, || {
                format!(
                    "potrf {uplo:?} with NaN at ({i},{j}): the factor differs from the clean one"
                )
            });
        }
    }
    fails.finish("potrf with NaN outside the referenced triangle");
}

// =======================================================================================
// Invalid arguments

/// Asserts `InvalidArgument`; returns the error for the `info()` check.
#[track_caller]
fn invalid(r: tessera::Result<()>, what: &str) -> Error {
    match r {
        Err(e @ Error::InvalidArgument { .. }) => e,
        other => panic!("{what}: expected InvalidArgument, got {other:?}"),
    }
}

/// Every invalid call of the tiled API, with what it is.
fn invalid_calls() -> Vec<(String, tessera::Result<()>)> {
    let rt = runtime(2);
    let nb = 4;
    let t = |m: usize, n: usize| Dm::<f64>::random(m, n, 70).tiles(&rt, nb);
    let sq = |n: usize| spd::<f64>(&rt, n, 71).tiles(&rt, nb);
    let mut v: Vec<(String, tessera::Result<()>)> = Vec::new();
    let mut push = |what: &str, r: tessera::Result<()>| v.push((what.to_string(), r));

    push("potrf non-square", dense::potrf(&rt, Uplo::Lower, &t(9, 7)));
    push(
        "posv B rows",
        dense::posv(&rt, Uplo::Lower, &sq(9), &t(8, 2)),
    );
    push(
        "posv non-square A",
        dense::posv(&rt, Uplo::Lower, &t(9, 7), &t(9, 2)),
    );
    push(
        "potrs B rows",
        dense::potrs(&rt, Uplo::Upper, &sq(9), &t(10, 2)),
    );
    push(
        "posv B tile size",
        dense::posv(
            &rt,
            Uplo::Lower,
            &sq(9),
            &Dm::<f64>::random(9, 2, 1).tiles(&rt, 3),
        ),
    );
    let mut ipiv = vec![0; 9];
    push(
        "gesv B rows",
        dense::gesv(&rt, &t(9, 9), &mut ipiv, &t(7, 1)),
    );
    push(
        "gesv non-square A",
        dense::gesv(&rt, &t(9, 8), &mut ipiv, &t(9, 1)),
    );
    let mut short = vec![0; 5];
    push(
        "getrf ipiv too short",
        dense::getrf(&rt, &t(9, 9), &mut short),
    );
    push(
        "gesv ipiv too short",
        dense::gesv(&rt, &t(9, 9), &mut short, &t(9, 1)),
    );
    let lu = t(9, 9);
    let mut ipiv = vec![0; 9];
    dense::getrf(&rt, &lu, &mut ipiv).unwrap();
    push(
        "getrs ipiv too short",
        dense::getrs(&rt, Op::NoTrans, &lu, &ipiv[..5], &t(9, 1)),
    );
    let mut bad = ipiv.clone();
    bad[3] = 9;
    push(
        "getrs pivot out of range",
        dense::getrs(&rt, Op::NoTrans, &lu, &bad, &t(9, 1)),
    );
    push(
        "getrs B rows",
        dense::getrs(&rt, Op::Trans, &lu, &ipiv, &t(8, 1)),
    );
    push(
        "getrs non-square A",
        dense::getrs(&rt, Op::NoTrans, &t(9, 8), &ipiv, &t(9, 1)),
    );
    push("getrf_nopiv non-square", dense::getrf_nopiv(&rt, &t(9, 8)));
    push("gels B rows (tall)", dense::gels(&rt, &t(9, 5), &t(5, 1)));
    push("gels B rows (wide)", dense::gels(&rt, &t(5, 9), &t(5, 1)));
    push(
        "gels B tile size",
        dense::gels(&rt, &t(9, 5), &Dm::<f64>::random(9, 1, 2).tiles(&rt, 3)),
    );
    let qa = t(9, 6);
    let ws = dense::qr_workspace(&qa);
    dense::geqrf(&rt, &qa, &ws).unwrap();
    push(
        "unmqr C rows (Left)",
        dense::unmqr(&rt, Side::Left, Op::ConjTrans, &qa, &ws, &t(8, 2)),
    );
    push(
        "unmqr C cols (Right)",
        dense::unmqr(&rt, Side::Right, Op::NoTrans, &qa, &ws, &t(2, 8)),
    );
    push(
        "geqrf wrong workspace",
        dense::geqrf(&rt, &t(9, 6), &TileMatrix::<f64>::zeros(3, 3, 3, 3)),
    );
    push(
        "gemm inner dimension",
        dense::gemm(
            &rt,
            Op::NoTrans,
            Op::NoTrans,
            1.0,
            &t(5, 6),
            &t(7, 3),
            0.0,
            &t(5, 3),
        ),
    );
    push(
        "gemm C shape",
        dense::gemm(
            &rt,
            Op::Trans,
            Op::NoTrans,
            1.0,
            &t(5, 6),
            &t(5, 3),
            0.0,
            &t(5, 3),
        ),
    );
    push(
        "gemm tile sizes",
        dense::gemm(
            &rt,
            Op::NoTrans,
            Op::NoTrans,
            1.0,
            &t(5, 6),
            &Dm::<f64>::random(6, 3, 3).tiles(&rt, 3),
            0.0,
            &t(5, 3),
        ),
    );
    push(
        "gemm A with non-square tiles",
        dense::gemm(
            &rt,
            Op::NoTrans,
            Op::NoTrans,
            1.0,
            &TileMatrix::<f64>::from_col_major(&rt, Dm::<f64>::random(8, 8, 4).as_faer(), 2, 4)
                .unwrap(),
            &t(8, 8),
            0.0,
            &t(8, 8),
        ),
    );
    push(
        "trsm B rows (Left)",
        dense::trsm(
            &rt,
            Side::Left,
            Uplo::Lower,
            Op::NoTrans,
            Diag::NonUnit,
            1.0,
            &sq(9),
            &t(8, 2),
        ),
    );
    push(
        "trsm B cols (Right)",
        dense::trsm(
            &rt,
            Side::Right,
            Uplo::Upper,
            Op::Trans,
            Diag::Unit,
            1.0,
            &sq(9),
            &t(2, 8),
        ),
    );
    push(
        "trsm non-square A",
        dense::trsm(
            &rt,
            Side::Left,
            Uplo::Lower,
            Op::NoTrans,
            Diag::NonUnit,
            1.0,
            &t(9, 8),
            &t(9, 2),
        ),
    );
    push(
        "herk C shape",
        dense::herk(&rt, Uplo::Lower, Op::NoTrans, 1.0, &t(6, 3), 0.0, &t(5, 5)),
    );
    push(
        "syrk non-square C",
        dense::syrk(&rt, Uplo::Upper, Op::Trans, 1.0, &t(3, 6), 0.0, &t(6, 5)),
    );
    push(
        "potrf non-square tiles",
        dense::potrf(&rt, Uplo::Lower, &TileMatrix::<f64>::zeros(8, 8, 4, 2)),
    );
    let dist = TileMatrix::<f64>::from_fn_tiles(
        8,
        8,
        4,
        4,
        Arc::new(BlockCyclic2D::new(2, 1)),
        |_, _, t| t,
    );
    push(
        "potrf on 2 ranks with a 1-rank runtime",
        dense::potrf(&rt, Uplo::Lower, &dist),
    );
    push(
        "plrnt tile size 0",
        dense::plrnt::<f64>(&rt, 5, 5, 0, 1).map(|_| ()),
    );
    push(
        "plghe tile size 0",
        dense::plghe::<f64>(&rt, 5.0, 5, 0, 1).map(|_| ()),
    );
    push(
        "from_col_major tile size 0",
        TileMatrix::<f64>::from_col_major(&rt, Dm::<f64>::zeros(3, 3).as_faer(), 0, 0).map(|_| ()),
    );
    let mut wrong = faer::Mat::<f64>::zeros(3, 4);
    push(
        "to_col_major wrong shape",
        t(4, 4).to_col_major(&rt, wrong.as_mut()),
    );
    push(
        "lansy non-square",
        dense::lansy(&rt, Norm::One, Uplo::Lower, &t(5, 4)).map(|_| ()),
    );
    // LAPACK-layout wrappers.
    let mut a = faer::Mat::<f64>::zeros(9, 5);
    let mut b = faer::Mat::<f64>::zeros(5, 1);
    push(
        "lapack::gels B rows",
        dense::lapack::gels(&rt, a.as_mut(), b.as_mut()),
    );
    let mut a = faer::Mat::<f64>::identity(6, 6);
    let mut b = faer::Mat::<f64>::zeros(5, 1);
    let mut ipiv = vec![0; 6];
    push(
        "lapack::gesv B rows",
        dense::lapack::gesv(&rt, a.as_mut(), &mut ipiv, b.as_mut()),
    );
    let mut a = faer::Mat::<f64>::identity(6, 6);
    push(
        "lapack::posv B rows",
        dense::lapack::posv(&rt, Uplo::Lower, a.as_mut(), b.as_mut()),
    );
    let mut a = ndarray::Array2::<f64>::zeros((6, 5));
    push(
        "ndarray::potrf non-square",
        dense::ndarray::potrf(&rt, Uplo::Lower, a.view_mut()),
    );
    v
}

#[test]
fn invalid_arguments_are_reported() {
    let mut fails = Failures::new();
    for (what, r) in invalid_calls() {
        fails.check(matches!(r, Err(Error::InvalidArgument { .. })), || {
            format!("{what}: expected InvalidArgument, got {r:?}")
        });
    }
    fails.finish("invalid arguments");
}

/// `Error::info` is documented as LAPACK's INFO: "negative for illegal arguments".
#[test]
fn invalid_argument_info_is_negative() {
    let mut fails = Failures::new();
    for (what, r) in invalid_calls() {
        if let Err(e @ Error::InvalidArgument { .. }) = &r {
            fails.check(e.info() < 0, || {
                format!("{what}: {e:?} has info() = {}", e.info())
            });
        }
    }
    fails.finish("info() of InvalidArgument");
}

#[test]
fn error_info_values() {
    assert_eq!(Error::NotPositiveDefinite { order: 7 }.info(), 7);
    assert_eq!(Error::Singular { index: 3 }.info(), 3);
    assert_eq!(Error::RankDeficient { index: 12 }.info(), 12);
    assert_eq!(
        Error::InvalidArgument {
            position: 2,
            message: String::new()
        }
        .info(),
        -2
    );
    assert_eq!(
        Error::InvalidArgument {
            position: -4,
            message: String::new()
        }
        .info(),
        -4
    );
    assert!(
        Error::NotFinite {
            arg: "A",
            row: 0,
            col: 0
        }
        .info()
            < 0
    );
    assert!(Error::Runtime("x".into()).info() < 0);
    // Display mentions the 1-based position.
    assert!(Error::NotPositiveDefinite { order: 7 }
        .to_string()
        .contains('7'));
    assert!(Error::Singular { index: 3 }.to_string().contains("U(3,3)"));
    let _ = invalid(
        Err(Error::InvalidArgument {
            position: 1,
            message: "m".into(),
        }),
        "self-check",
    );
}

/// Empty problems are valid and return at once.
#[test]
fn empty_problems_succeed() {
    let rt = runtime(2);
    let e = |m: usize, n: usize| TileMatrix::<f64>::zeros(m, n, 4, 4);
    assert_eq!(dense::potrf(&rt, Uplo::Lower, &e(0, 0)), Ok(()));
    assert_eq!(dense::posv(&rt, Uplo::Upper, &e(0, 0), &e(0, 3)), Ok(()));
    assert_eq!(dense::getrf(&rt, &e(0, 5), &mut []), Ok(()));
    assert_eq!(dense::getrf(&rt, &e(5, 0), &mut []), Ok(()));
    assert_eq!(dense::gesv(&rt, &e(0, 0), &mut [], &e(0, 2)), Ok(()));
    let a = e(0, 4);
    assert_eq!(dense::geqrf(&rt, &a, &dense::qr_workspace(&a)), Ok(()));
    // gels with an empty A sets X = 0 (LAPACK).
    let b = Dm::<f64>::random(5, 2, 80).tiles(&rt, 4);
    assert_eq!(dense::gels(&rt, &e(5, 0), &b), Ok(()));
    assert!(
        Dm::of(&rt, &b).d.iter().all(|&x| x == 0.0),
        "gels with n = 0 must zero B"
    );
    assert_eq!(dense::lange(&rt, Norm::Frobenius, &e(0, 3)), Ok(0.0));
}
