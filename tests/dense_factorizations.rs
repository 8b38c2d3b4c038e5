//! Numerical tests of the tiled dense algorithms (Cholesky, LU, QR, least squares, level-3
//! BLAS, norms) and of their LAPACK-layout wrappers, for `f32`, `f64`, `c32` and `c64`,
//! over empty, tiny, one-tile and ragged multi-tile sizes and several tile sizes. Every
//! check compares with naive references computed in `Complex<f64>` (or with faer), as
//! scaled residuals in the LAPACK testing style.

mod common;

use common::*;
use tessera::dense;
use tessera::runtime::Runtime;
use tessera::tile::TileMatrix;
use tessera::{Diag, Norm, Op, Scalar, Side, Uplo};

/// Generates one `#[test]` per element type calling the generic function `$f`.
macro_rules! per_type {
    ($name:ident, $f:ident) => {
        mod $name {
            #[test]
            fn f32() {
                super::$f::<f32>()
            }
            #[test]
            fn f64() {
                super::$f::<f64>()
            }
            #[test]
            fn c32() {
                super::$f::<tessera::c32>()
            }
            #[test]
            fn c64() {
                super::$f::<tessera::c64>()
            }
        }
    };
}

const LIMIT: f64 = 30.0;

fn eps<T: Scalar>() -> f64 {
    T::EPS
}

/// Shapes `(m, n)` for the general (rectangular) factorizations at tile size `nb`.
fn shapes(nb: usize) -> Vec<(usize, usize)> {
    let mut v: Vec<(usize, usize)> = sizes(nb).into_iter().map(|n| (n, n)).collect();
    v.extend([
        (2 * nb + 3, nb + 1),
        (3 * nb + 1, 5),
        (nb + 1, 1),
        (3 * nb + 2, 2 * nb),
        (nb + 1, 3 * nb + 1),
        (5, 2 * nb + 3),
        (1, nb + 1),
        (2 * nb, 3 * nb + 2),
        (0, 5),
        (5, 0),
    ]);
    v
}

/// A general random matrix with a shifted diagonal (diagonally dominant when `shift`
/// exceeds the order).
fn dominant<T: Scalar>(m: usize, n: usize, shift: f64, seed: u64) -> Dm<T> {
    let mut a = Dm::<T>::random(m, n, seed);
    for i in 0..m.min(n) {
        a.set(i, i, a.get(i, i) + T::from_f64(shift));
    }
    a
}

/// The full Hermitian matrix whose `uplo` triangle is stored in `a` (diagonal as stored).
fn hermitian_from(a: &Dm<Z>, uplo: Uplo) -> Dm<Z> {
    Dm::from_fn(a.m, a.n, |i, j| {
        let inside = match uplo {
            Uplo::Lower => i >= j,
            Uplo::Upper => i <= j,
        };
        if inside {
            a.get(i, j)
        } else {
            a.get(j, i).conj()
        }
    })
}

/// The full symmetric matrix whose `uplo` triangle is stored in `a`.
fn symmetric_from(a: &Dm<Z>, uplo: Uplo) -> Dm<Z> {
    Dm::from_fn(a.m, a.n, |i, j| {
        let inside = match uplo {
            Uplo::Lower => i >= j,
            Uplo::Upper => i <= j,
        };
        if inside {
            a.get(i, j)
        } else {
            a.get(j, i)
        }
    })
}

fn in_triangle(uplo: Uplo, i: usize, j: usize) -> bool {
    match uplo {
        Uplo::Lower => i >= j,
        Uplo::Upper => i <= j,
    }
}

// =======================================================================================
// Cholesky

fn potrf_all<T: Scalar>() {
    let rt = runtime(3);
    let mut fails = Failures::new();
    for nb in TILE_SIZES {
        for n in sizes(nb) {
            for uplo in [Uplo::Lower, Uplo::Upper] {
                let ctx = format!("potrf {} n={n} nb={nb} {uplo:?}", T::DTYPE.name());
                let a = dense::plghe::<T>(&rt, n as f64, n, nb, 11 + n as u64).unwrap();
                let a0 = Dm::of(&rt, &a);
                dense::potrf(&rt, uplo, &a).unwrap_or_else(|e| panic!("{ctx}: {e}"));
                let fz = Dm::of(&rt, &a).z();
                // Diagonal of the factor: real and positive.
                for i in 0..n {
                    let d = fz.get(i, i);
                    fails.check(d.re > 0.0 && d.im.abs() <= 10.0 * eps::<T>() * d.re, || {
                        format!("{ctx}: diagonal {i} is {d}")
                    });
                }
                let prod = match uplo {
                    Uplo::Lower => {
                        let l = lower(&fz);
                        mul(&l, &adj(&l))
                    }
                    Uplo::Upper => {
                        let u = upper(&fz, n);
                        mul(&adj(&u), &u)
                    }
                };
                let full = hermitian_from(&a0.z(), Uplo::Lower);
                // Compare only the referenced triangle.
                let diff = Dm::from_fn(n, n, |i, j| {
                    if in_triangle(uplo, i, j) {
                        prod.get(i, j) - full.get(i, j)
                    } else {
                        Z::new(0.0, 0.0)
                    }
                });
                let res = ratio(norm1(&diff), n as f64 * norm1(&full) * eps::<T>());
                fails.small(res, LIMIT, &ctx);
            }
        }
    }
    fails.finish("potrf");
}
per_type!(potrf, potrf_all);

/// LAPACK's `xPOTRF` (and Tessera's documentation: "only the `uplo` triangle is read and
/// overwritten") leaves the other strict triangle untouched.
fn potrf_other_triangle<T: Scalar>(fails: &mut Failures) {
    let rt = runtime(2);
    for nb in [4, 7] {
        for n in [3, nb, 2 * nb + 3] {
            for uplo in [Uplo::Lower, Uplo::Upper] {
                let a = dense::plghe::<T>(&rt, n as f64, n, nb, 12).unwrap();
                let a0 = Dm::of(&rt, &a);
                dense::potrf(&rt, uplo, &a).unwrap();
                let f = Dm::of(&rt, &a);
                let mut changed = Vec::new();
                for j in 0..n {
                    for i in 0..n {
                        if !in_triangle(uplo, i, j) && !same_bits(f.get(i, j), a0.get(i, j)) {
                            changed.push(format!(
                                "({i},{j}): {:?} -> {:?}",
                                a0.get(i, j),
                                f.get(i, j)
                            ));
                        }
                    }
                }
                fails.check(changed.is_empty(), || {
                    format!(
                        "potrf {} n={n} nb={nb} {uplo:?}: {} entries of the other triangle changed, e.g. {}",
                        T::DTYPE.name(),
                        changed.len(),
                        changed[0]
                    )
                });
            }
        }
    }
}

#[test]
fn potrf_leaves_other_triangle_untouched() {
    let mut fails = Failures::new();
    potrf_other_triangle::<f32>(&mut fails);
    potrf_other_triangle::<f64>(&mut fails);
    potrf_other_triangle::<tessera::c32>(&mut fails);
    potrf_other_triangle::<tessera::c64>(&mut fails);
    fails.finish("potrf, other triangle");
}

fn posv_potrs_all<T: Scalar>() {
    let rt = runtime(2);
    for nb in TILE_SIZES {
        for n in sizes(nb) {
            for uplo in [Uplo::Lower, Uplo::Upper] {
                for nrhs in [1, 3, nb + 2] {
                    let ctx = format!(
                        "posv {} n={n} nb={nb} {uplo:?} nrhs={nrhs}",
                        T::DTYPE.name()
                    );
                    let a = dense::plghe::<T>(&rt, n as f64, n, nb, 21).unwrap();
                    let a0 = Dm::of(&rt, &a).z();
                    let b0 = Dm::<T>::random(n, nrhs, 22);
                    // posv
                    let b = b0.tiles(&rt, nb);
                    dense::posv(&rt, uplo, &a, &b).unwrap_or_else(|e| panic!("{ctx}: {e}"));
                    let x = Dm::of(&rt, &b).z();
                    let r = sub(&mul(&a0, &x), &b0.z());
                    let res = ratio(norm1(&r), norm1(&a0) * norm1(&x) * n as f64 * eps::<T>());
                    check_small(res, LIMIT, &ctx);
                    // potrs with the factor posv left in `a` gives the same solution.
                    let b2 = b0.tiles(&rt, nb);
                    dense::potrs(&rt, uplo, &a, &b2).unwrap_or_else(|e| panic!("{ctx} potrs: {e}"));
                    let x2 = Dm::of(&rt, &b2).z();
                    let r2 = sub(&mul(&a0, &x2), &b0.z());
                    let res2 = ratio(norm1(&r2), norm1(&a0) * norm1(&x2) * n as f64 * eps::<T>());
                    check_small(res2, LIMIT, format!("{ctx} (potrs)"));
                }
            }
        }
    }
}
per_type!(posv_potrs, posv_potrs_all);

// =======================================================================================
// LU

/// Checks `P A = L U` for the factors in `f` and LAPACK-style `ipiv`; returns the scaled
/// residual.
fn lu_residual<T: Scalar>(a0: &Dm<T>, f: &Dm<T>, ipiv: &[usize]) -> f64 {
    let (m, n) = (a0.m, a0.n);
    let k = m.min(n);
    let mut pa = a0.z();
    apply_swaps(&mut pa, ipiv);
    let fz = f.z();
    let lu = mul(&unit_lower(&fz, k), &upper(&fz, k));
    ratio(
        norm1(&sub(&pa, &lu)),
        m.max(n) as f64 * norm1(&a0.z()) * eps::<T>(),
    )
}

fn check_ipiv(ipiv: &[usize], m: usize, ctx: &str) {
    for (i, &p) in ipiv.iter().enumerate() {
        assert!(p >= i && p < m, "{ctx}: ipiv[{i}] = {p} is not in {i}..{m}");
    }
}

fn getrf_all<T: Scalar>() {
    let rt = runtime(3);
    for nb in TILE_SIZES {
        for (m, n) in shapes(nb) {
            let ctx = format!("getrf {} {m}x{n} nb={nb}", T::DTYPE.name());
            let a = dense::plrnt::<T>(&rt, m, n, nb, 31 + m as u64 * 7 + n as u64).unwrap();
            let a0 = Dm::of(&rt, &a);
            let k = m.min(n);
            let mut ipiv = vec![usize::MAX; k];
            dense::getrf(&rt, &a, &mut ipiv).unwrap_or_else(|e| panic!("{ctx}: {e}"));
            check_ipiv(&ipiv, m, &ctx);
            let f = Dm::of(&rt, &a);
            check_small(lu_residual(&a0, &f, &ipiv), LIMIT, &ctx);
            // Partial pivoting bounds the multipliers: |l| <= 1 (real); with the |re| + |im|
            // pivot choice of complex LAPACK, |l| <= sqrt(2).
            let bound = if is_complex::<T>() {
                std::f64::consts::SQRT_2
            } else {
                1.0
            } * (1.0 + 8.0 * eps::<T>());
            for j in 0..k {
                for i in j + 1..m {
                    let l = z(f.get(i, j)).norm();
                    assert!(l <= bound, "{ctx}: |L({i},{j})| = {l} exceeds {bound}");
                }
            }
        }
    }
}
per_type!(getrf, getrf_all);

/// The pivots of tessera's getrf agree with faer's partial-pivoting LU (both pick the
/// largest magnitude in the column; real types only).
#[test]
fn getrf_pivots_match_faer_f64() {
    let rt = runtime(2);
    for nb in [4, 7, 16, 32] {
        for (m, n) in shapes(nb) {
            if m == 0 || n == 0 {
                continue;
            }
            let ctx = format!("getrf pivots f64 {m}x{n} nb={nb}");
            let a0 = Dm::<f64>::random(m, n, 41 + (m * n) as u64);
            let a = a0.tiles(&rt, nb);
            let mut ipiv = vec![0; m.min(n)];
            dense::getrf(&rt, &a, &mut ipiv).unwrap();
            let ours = swaps_to_perm(m, &ipiv);
            let fa = faer::Mat::<f64>::from_fn(m, n, |i, j| a0.get(i, j));
            let lu = fa.partial_piv_lu();
            let theirs: Vec<usize> = lu.P().arrays().0.to_vec();
            assert_eq!(
                ours[..m.min(n)],
                theirs[..m.min(n)],
                "{ctx}: pivot rows differ from faer's"
            );
            // Compare the factors too (same pivots, same math).
            let f = Dm::of(&rt, &a);
            let (l, u) = (lu.L(), lu.U());
            let k = m.min(n);
            let mut err: f64 = 0.0;
            for j in 0..n {
                for i in 0..m {
                    let ours = f.get(i, j);
                    let theirs = if i > j {
                        l[(i, j)]
                    } else if i < k {
                        u[(i, j)]
                    } else {
                        0.0
                    };
                    err = err.max((ours - theirs).abs());
                }
            }
            check_small(err / (m.max(n) as f64 * f64::EPSILON), 1e3, &ctx);
        }
    }
}

#[test]
fn getrf_pivots_match_faer_f32() {
    let rt = runtime(2);
    for nb in [4, 16] {
        for (m, n) in shapes(nb) {
            if m == 0 || n == 0 {
                continue;
            }
            let a0 = Dm::<f32>::random(m, n, 43 + (m * n) as u64);
            let a = a0.tiles(&rt, nb);
            let mut ipiv = vec![0; m.min(n)];
            dense::getrf(&rt, &a, &mut ipiv).unwrap();
            let ours = swaps_to_perm(m, &ipiv);
            let fa = faer::Mat::<f32>::from_fn(m, n, |i, j| a0.get(i, j));
            let lu = fa.partial_piv_lu();
            let theirs: Vec<usize> = lu.P().arrays().0.to_vec();
            assert_eq!(
                ours[..m.min(n)],
                theirs[..m.min(n)],
                "getrf pivots f32 {m}x{n} nb={nb}"
            );
        }
    }
}

fn getrf_nopiv_all<T: Scalar>() {
    let rt = runtime(3);
    for nb in TILE_SIZES {
        for n in sizes(nb) {
            let ctx = format!("getrf_nopiv {} n={n} nb={nb}", T::DTYPE.name());
            let a0 = dominant::<T>(n, n, n as f64 + 1.0, 51);
            let a = a0.tiles(&rt, nb);
            dense::getrf_nopiv(&rt, &a).unwrap_or_else(|e| panic!("{ctx}: {e}"));
            let f = Dm::of(&rt, &a);
            let ident: Vec<usize> = (0..n).collect();
            check_small(lu_residual(&a0, &f, &ident), LIMIT, &ctx);
        }
    }
}
per_type!(getrf_nopiv, getrf_nopiv_all);

fn getrs_gesv_all<T: Scalar>() {
    let rt = runtime(2);
    for nb in TILE_SIZES {
        for n in sizes(nb) {
            let nrhs = 3;
            let a0 = Dm::<T>::random(n, n, 61 + n as u64);
            let b0 = Dm::<T>::random(n, nrhs, 62);
            let a = a0.tiles(&rt, nb);
            let mut ipiv = vec![0; n];
            dense::getrf(&rt, &a, &mut ipiv).unwrap();
            for trans in [Op::NoTrans, Op::Trans, Op::ConjTrans] {
                let ctx = format!("getrs {} n={n} nb={nb} {trans:?}", T::DTYPE.name());
                let b = b0.tiles(&rt, nb);
                dense::getrs(&rt, trans, &a, &ipiv, &b).unwrap_or_else(|e| panic!("{ctx}: {e}"));
                let x = Dm::of(&rt, &b).z();
                let oa = op(trans, &a0.z());
                let r = sub(&mul(&oa, &x), &b0.z());
                let res = ratio(norm1(&r), norm1(&oa) * norm1(&x) * n as f64 * eps::<T>());
                check_small(res, LIMIT, &ctx);
            }
            // gesv
            let ctx = format!("gesv {} n={n} nb={nb}", T::DTYPE.name());
            let a = a0.tiles(&rt, nb);
            let b = b0.tiles(&rt, nb);
            let mut ipiv2 = vec![0; n];
            dense::gesv(&rt, &a, &mut ipiv2, &b).unwrap_or_else(|e| panic!("{ctx}: {e}"));
            assert_eq!(ipiv, ipiv2, "{ctx}: pivots differ from getrf's");
            let x = Dm::of(&rt, &b).z();
            let r = sub(&mul(&a0.z(), &x), &b0.z());
            let res = ratio(
                norm1(&r),
                norm1(&a0.z()) * norm1(&x) * n as f64 * eps::<T>(),
            );
            check_small(res, LIMIT, &ctx);
            check_small(
                lu_residual(&a0, &Dm::of(&rt, &a), &ipiv2),
                LIMIT,
                format!("{ctx} (factors)"),
            );
        }
    }
}
per_type!(getrs_gesv, getrs_gesv_all);

/// HPL's solve (`gesv_fused`: B factored along with A, then the solve with U): getrf's
/// pivots and U, a solution with a small residual, on tiles and in place (blocks of
/// columns), with one and several tile columns of right-hand sides; a singular matrix
/// and mismatched shapes are errors.
fn gesv_fused_all<T: Scalar>() {
    let rt = runtime(2);
    for nb in TILE_SIZES {
        for n in sizes(nb) {
            for nrhs in [1, nb + 2] {
                let ctx = format!("gesv_fused {} n={n} nb={nb} nrhs={nrhs}", T::DTYPE.name());
                let a0 = Dm::<T>::random(n, n, 71 + n as u64);
                let b0 = Dm::<T>::random(n, nrhs, 72);
                let mut ipiv_ref = vec![0; n];
                let lu = a0.tiles(&rt, nb);
                dense::getrf(&rt, &lu, &mut ipiv_ref).unwrap();
                let lu = Dm::of(&rt, &lu);
                let check = |f: &Dm<T>, x: &Dm<T>, ipiv: &[usize], how: &str| {
                    assert_eq!(
                        ipiv,
                        &ipiv_ref[..],
                        "{ctx} {how}: pivots differ from getrf's"
                    );
                    for j in 0..n {
                        for i in 0..=j {
                            let (g, e) = (f.get(i, j), lu.get(i, j));
                            assert!(
                                (g - e).modulus() <= eps::<T>().sqrt() * (1.0 + e.modulus()),
                                "{ctx} {how}: U({i}, {j}) is {g:?}, getrf's {e:?}"
                            );
                        }
                    }
                    let x = x.z();
                    let r = sub(&mul(&a0.z(), &x), &b0.z());
                    let res = ratio(
                        norm1(&r),
                        norm1(&a0.z()) * norm1(&x) * n as f64 * eps::<T>(),
                    );
                    check_small(res, LIMIT, format!("{ctx} {how}"));
                };
                // Tiles.
                let a = a0.tiles(&rt, nb);
                let b = b0.tiles(&rt, nb);
                let mut ipiv = vec![0; n];
                dense::gesv_fused(&rt, &a, &mut ipiv, &b).unwrap_or_else(|e| panic!("{ctx}: {e}"));
                check(&Dm::of(&rt, &a), &Dm::of(&rt, &b), &ipiv, "tiles");
                // In place: blocks of columns.
                let mut f = faer_of(&a0);
                let mut ipiv = vec![0; n];
                let b = b0.tiles(&rt, nb);
                {
                    // SAFETY: `f` is only reached through `a` until `a` is dropped, after
                    // the solve has waited for its tasks.
                    let a = unsafe { TileMatrix::from_col_major_in_place(f.as_mut(), nb, nb) }
                        .unwrap()
                        .expect("a faer matrix is column-major");
                    dense::gesv_fused(&rt, &a, &mut ipiv, &b)
                        .unwrap_or_else(|e| panic!("{ctx}: {e}"));
                }
                check(&dm_of_faer(f.as_ref()), &Dm::of(&rt, &b), &ipiv, "in place");
            }
        }
    }
    // A zero column: singular, reported with LAPACK's 1-based index of U's zero pivot.
    let n = 13;
    let mut a0 = Dm::<T>::random(n, n, 73);
    for i in 0..n {
        a0.set(i, 4, T::zero());
    }
    let a = a0.tiles(&rt, 4);
    let b = Dm::<T>::random(n, 1, 74).tiles(&rt, 4);
    let mut ipiv = vec![0; n];
    match dense::gesv_fused(&rt, &a, &mut ipiv, &b) {
        Err(tessera::Error::Singular { index }) => assert_eq!(index, 5),
        other => panic!("gesv_fused on a singular matrix: {other:?}"),
    }
    // Shapes that do not conform.
    let b = Dm::<T>::random(n + 1, 1, 74).tiles(&rt, 4);
    assert!(matches!(
        dense::gesv_fused(&rt, &a, &mut ipiv, &b),
        Err(tessera::Error::InvalidArgument { .. })
    ));
    let b = Dm::<T>::random(n, 1, 74).tiles(&rt, 5);
    assert!(matches!(
        dense::gesv_fused(&rt, &a, &mut ipiv, &b),
        Err(tessera::Error::InvalidArgument { .. })
    ));
}
per_type!(gesv_fused, gesv_fused_all);

// =======================================================================================
// QR

fn geqrf_unmqr_all<T: Scalar>() {
    let rt = runtime(3);
    for nb in TILE_SIZES {
        for (m, n) in shapes(nb) {
            let ctx = format!("geqrf {} {m}x{n} nb={nb}", T::DTYPE.name());
            let e = eps::<T>();
            let a0 = Dm::<T>::random(m, n, 71 + (m + 3 * n) as u64);
            let a = a0.tiles(&rt, nb);
            let t = dense::qr_workspace(&a);
            dense::geqrf(&rt, &a, &t).unwrap_or_else(|e| panic!("{ctx}: {e}"));
            let f = Dm::of(&rt, &a);
            let r = Dm::from_fn(m, n, |i, j| {
                if i <= j {
                    z(f.get(i, j))
                } else {
                    Z::new(0.0, 0.0)
                }
            });
            let na = norm1(&a0.z());
            let big = m.max(n).max(1) as f64;

            // Q^H A = R.
            let c = a0.tiles(&rt, nb);
            dense::unmqr(&rt, Side::Left, Op::ConjTrans, &a, &t, &c)
                .unwrap_or_else(|e| panic!("{ctx} unmqr: {e}"));
            let qha = Dm::of(&rt, &c).z();
            check_small(
                ratio(norm1(&sub(&qha, &r)), big * na * e),
                LIMIT,
                format!("{ctx}: Q^H A - R"),
            );

            // Explicit Q by applying it to the identity; Q^H Q = I and Q R = A.
            let qi = Dm::<T>::identity(m, m).tiles(&rt, nb);
            dense::unmqr(&rt, Side::Left, Op::NoTrans, &a, &t, &qi).unwrap();
            let q = Dm::of(&rt, &qi).z();
            let qhq = mul(&adj(&q), &q);
            let ident = Dm::<T>::identity(m, m).z();
            check_small(
                ratio(norm1(&sub(&qhq, &ident)), big * e),
                LIMIT,
                format!("{ctx}: Q^H Q - I"),
            );
            check_small(
                ratio(norm1(&sub(&mul(&q, &r), &a0.z())), big * na * e),
                LIMIT,
                format!("{ctx}: Q R - A"),
            );

            // Left: Q C against the explicit Q, and Q^H (Q C) = C.
            let p = 5;
            let c0 = Dm::<T>::random(m, p, 72);
            let c = c0.tiles(&rt, nb);
            dense::unmqr(&rt, Side::Left, Op::NoTrans, &a, &t, &c).unwrap();
            let qc = Dm::of(&rt, &c).z();
            let nc = norm1(&c0.z());
            check_small(
                ratio(norm1(&sub(&qc, &mul(&q, &c0.z()))), big * nc * e),
                LIMIT,
                format!("{ctx}: Q C"),
            );
            dense::unmqr(&rt, Side::Left, Op::ConjTrans, &a, &t, &c).unwrap();
            let back = Dm::of(&rt, &c).z();
            check_small(
                ratio(norm1(&sub(&back, &c0.z())), big * nc * e),
                LIMIT,
                format!("{ctx}: Q^H Q C - C"),
            );

            // Right: C Q and C Q^H against the explicit Q.
            let d0 = Dm::<T>::random(p, m, 73);
            for trans in [Op::NoTrans, Op::ConjTrans] {
                let d = d0.tiles(&rt, nb);
                dense::unmqr(&rt, Side::Right, trans, &a, &t, &d)
                    .unwrap_or_else(|e| panic!("{ctx} right {trans:?}: {e}"));
                let got = Dm::of(&rt, &d).z();
                let want = mul(&d0.z(), &op(trans, &q));
                let nd = norm_inf(&d0.z());
                check_small(
                    ratio(norm1(&sub(&got, &want)), big * nd * e),
                    LIMIT,
                    format!("{ctx}: right {trans:?}"),
                );
            }

            // Real types: Trans means ConjTrans.
            if !is_complex::<T>() {
                let c1 = c0.tiles(&rt, nb);
                let c2 = c0.tiles(&rt, nb);
                dense::unmqr(&rt, Side::Left, Op::Trans, &a, &t, &c1).unwrap();
                dense::unmqr(&rt, Side::Left, Op::ConjTrans, &a, &t, &c2).unwrap();
                assert!(
                    Dm::of(&rt, &c1).bits_eq(&Dm::of(&rt, &c2)),
                    "{ctx}: Trans differs from ConjTrans"
                );
            }
        }
    }
}
per_type!(geqrf_unmqr, geqrf_unmqr_all);

fn gels_over_all<T: Scalar>() {
    let rt = runtime(2);
    for nb in [4, 7, 16] {
        for (m, n) in [
            (nb + 1, nb + 1),
            (2 * nb + 3, nb + 1),
            (3 * nb + 2, 2 * nb),
            (3 * nb + 1, 5),
            (nb + 3, 1),
            (7, 3),
        ] {
            for nrhs in [1, 2] {
                let ctx = format!("gels {} {m}x{n} nb={nb} nrhs={nrhs}", T::DTYPE.name());
                let a0 = Dm::<T>::random(m, n, 81 + m as u64);
                let b0 = Dm::<T>::random(m, nrhs, 82 + n as u64);
                let a = a0.tiles(&rt, nb);
                let b = b0.tiles(&rt, nb);
                dense::gels(&rt, &a, &b).unwrap_or_else(|e| panic!("{ctx}: {e}"));
                let x = Dm::of(&rt, &b).rows(0, n).z();
                let az = a0.z();
                let r = sub(&b0.z(), &mul(&az, &x));
                let g = mul(&adj(&az), &r);
                let na = norm1(&az);
                let res = ratio(
                    norm1(&g),
                    na * (na * norm1(&x) + norm1(&b0.z())) * m as f64 * eps::<T>(),
                );
                check_small(res, LIMIT, format!("{ctx}: A^H (b - A x)"));
                if m == n {
                    // Square: an exact solve.
                    let res = ratio(norm1(&r), na * norm1(&x) * n as f64 * eps::<T>());
                    check_small(res, LIMIT * 10.0, format!("{ctx}: square residual"));
                }
            }
        }
    }
}
per_type!(gels_overdetermined, gels_over_all);

fn gels_under_all<T: Scalar>() {
    let rt = runtime(2);
    for nb in [4, 7, 16] {
        for (m, n) in [
            (nb + 1, 2 * nb + 3),
            (2 * nb, 3 * nb + 2),
            (5, 3 * nb + 1),
            (1, nb + 3),
            (3, 7),
        ] {
            let nrhs = 2;
            let ctx = format!("gels {} {m}x{n} nb={nb}", T::DTYPE.name());
            // Well conditioned: a dominant "diagonal".
            let a0 = dominant::<T>(m, n, (n as f64).sqrt() * 2.0, 91 + m as u64);
            let rhs = Dm::<T>::random(m, nrhs, 92);
            // Rows m..n of B are not input: fill them with garbage.
            let b0 = Dm::from_fn(n, nrhs, |i, j| {
                if i < m {
                    rhs.get(i, j)
                } else {
                    T::from_f64(1e3 + i as f64)
                }
            });
            let a = a0.tiles(&rt, nb);
            let b = b0.tiles(&rt, nb);
            dense::gels(&rt, &a, &b).unwrap_or_else(|e| panic!("{ctx}: {e}"));
            assert!(
                Dm::of(&rt, &a).bits_eq(&a0),
                "{ctx}: A was modified (documented as left intact for m < n)"
            );
            let x = Dm::of(&rt, &b).z();
            let az = a0.z();
            // A x = b.
            let r = sub(&mul(&az, &x), &rhs.z());
            let res = ratio(norm1(&r), norm1(&az) * norm1(&x) * n as f64 * eps::<T>());
            check_small(res, LIMIT, format!("{ctx}: A x - b"));
            // Minimum norm: x = A^H (A A^H)^-1 b.
            let y = solve(&mul(&az, &adj(&az)), &rhs.z());
            let xref = mul(&adj(&az), &y);
            let err = norm1(&sub(&x, &xref)) / norm1(&xref);
            check_small(
                err / (n as f64 * eps::<T>()),
                100.0,
                format!("{ctx}: minimum-norm solution"),
            );
        }
    }
}
per_type!(gels_underdetermined, gels_under_all);

// =======================================================================================
// Level-3 BLAS

fn scalars<T: Scalar>(x: (f64, f64)) -> T {
    T::from_parts(x.0, x.1)
}

fn gemm_all<T: Scalar>() {
    let rt = runtime(2);
    let ops = [Op::NoTrans, Op::Trans, Op::ConjTrans];
    let ab: [((f64, f64), (f64, f64)); 5] = [
        ((1.0, 0.0), (0.0, 0.0)),
        ((0.5, -0.25), (2.0, 1.0)),
        ((0.0, 0.0), (1.5, 0.0)),
        ((-1.0, 0.0), (1.0, 0.0)),
        ((0.0, 0.0), (0.0, 0.0)),
    ];
    for nb in [4, 7] {
        let dims = [
            (5, 7, 3),
            (2 * nb + 3, nb + 1, 3 * nb + 1),
            (nb, nb, nb),
            (1, 2 * nb + 1, nb - 1),
            (nb + 1, 0, 3),
            (3, 4, 0),
            (0, 3, 2),
        ];
        for (m, n, k) in dims {
            for ta in ops {
                for tb in ops {
                    for (ai, &(alpha, beta)) in ab.iter().enumerate() {
                        for nan_c in [false, true] {
                            if nan_c && beta != (0.0, 0.0) {
                                continue;
                            }
                            let ctx = format!("gemm {} m={m} n={n} k={k} nb={nb} {ta:?} {tb:?} alpha={alpha:?} beta={beta:?} nan_c={nan_c}", T::DTYPE.name());
                            let (alpha_t, beta_t): (T, T) = (scalars(alpha), scalars(beta));
                            let sa = if ta == Op::NoTrans { (m, k) } else { (k, m) };
                            let sb = if tb == Op::NoTrans { (k, n) } else { (n, k) };
                            let a0 = Dm::<T>::random(sa.0, sa.1, 101 + ai as u64);
                            let b0 = Dm::<T>::random(sb.0, sb.1, 102);
                            let c0 = if nan_c {
                                Dm::from_fn(m, n, |_, _| T::from_f64(f64::NAN))
                            } else {
                                Dm::<T>::random(m, n, 103)
                            };
                            let (a, b, c) =
                                (a0.tiles(&rt, nb), b0.tiles(&rt, nb), c0.tiles(&rt, nb));
                            dense::gemm(&rt, ta, tb, alpha_t, &a, &b, beta_t, &c)
                                .unwrap_or_else(|e| panic!("{ctx}: {e}"));
                            let got = Dm::of(&rt, &c).z();
                            let (alz, bez) = (z(alpha_t), z(beta_t));
                            let mut want = scal(alz, &mul(&op(ta, &a0.z()), &op(tb, &b0.z())));
                            if beta != (0.0, 0.0) {
                                want = add(&want, &scal(bez, &c0.z()));
                            }
                            assert!(
                                got.d.iter().all(|x| x.re.is_finite() && x.im.is_finite()),
                                "{ctx}: non-finite result"
                            );
                            let scale =
                                alz.norm() * norm_max(&a0.z()) * norm_max(&b0.z()) * k as f64
                                    + if beta != (0.0, 0.0) {
                                        bez.norm() * norm_max(&c0.z())
                                    } else {
                                        0.0
                                    };
                            let err = norm_max(&sub(&got, &want));
                            check_small(
                                ratio(err, scale * (k + 2) as f64 * eps::<T>()),
                                10.0,
                                &ctx,
                            );
                        }
                    }
                }
            }
        }
    }
}
per_type!(gemm, gemm_all);

/// A well-conditioned triangular matrix stored in the `uplo` triangle; the other triangle
/// (and the diagonal when `diag` is `Unit`) holds NaN, which must not be read.
fn triangular<T: Scalar>(n: usize, uplo: Uplo, diag: Diag, seed: u64) -> (Dm<T>, Dm<Z>) {
    let r = Dm::<T>::random(n, n, seed);
    let stored = Dm::from_fn(n, n, |i, j| {
        if i == j {
            match diag {
                Diag::Unit => T::from_f64(f64::NAN),
                Diag::NonUnit => {
                    T::from_parts(1.0 + r.get(i, i).re().abs(), 0.3 * r.get(i, i).im())
                }
            }
        } else if in_triangle(uplo, i, j) {
            r.get(i, j) * T::from_f64(2.0 / (n as f64 + 1.0))
        } else {
            T::from_f64(f64::NAN)
        }
    });
    let eff = Dm::from_fn(n, n, |i, j| {
        if i == j {
            match diag {
                Diag::Unit => Z::new(1.0, 0.0),
                Diag::NonUnit => z(stored.get(i, i)),
            }
        } else if in_triangle(uplo, i, j) {
            z(stored.get(i, j))
        } else {
            Z::new(0.0, 0.0)
        }
    });
    (stored, eff)
}

fn trsm_all<T: Scalar>() {
    let rt = runtime(3);
    for nb in [4, 7, 16] {
        for n in [1, nb - 1, nb + 1, 2 * nb + 3, 3 * nb + 1] {
            let p = nb + 2;
            for side in [Side::Left, Side::Right] {
                for uplo in [Uplo::Lower, Uplo::Upper] {
                    for trans in [Op::NoTrans, Op::Trans, Op::ConjTrans] {
                        for diag in [Diag::NonUnit, Diag::Unit] {
                            let ctx = format!(
                                "trsm {} n={n} nb={nb} {side:?} {uplo:?} {trans:?} {diag:?}",
                                T::DTYPE.name()
                            );
                            let (stored, eff) = triangular::<T>(n, uplo, diag, 111 + n as u64);
                            let (bm, bn) = if side == Side::Left { (n, p) } else { (p, n) };
                            let b0 = Dm::<T>::random(bm, bn, 112);
                            let alpha: T = T::from_parts(0.75, -0.5);
                            let a = stored.tiles(&rt, nb);
                            let b = b0.tiles(&rt, nb);
                            dense::trsm(&rt, side, uplo, trans, diag, alpha, &a, &b)
                                .unwrap_or_else(|e| panic!("{ctx}: {e}"));
                            let x = Dm::of(&rt, &b).z();
                            let oa = op(trans, &eff);
                            let lhs = if side == Side::Left {
                                mul(&oa, &x)
                            } else {
                                mul(&x, &oa)
                            };
                            let rhs = scal(z(alpha), &b0.z());
                            let r = sub(&lhs, &rhs);
                            let denom = (norm1(&eff).max(norm_inf(&eff))
                                * norm1(&x).max(norm_inf(&x))
                                + norm1(&rhs).max(norm_inf(&rhs)))
                                * n as f64
                                * eps::<T>();
                            check_small(ratio(norm1(&r).max(norm_inf(&r)), denom), LIMIT, &ctx);
                        }
                    }
                }
            }
        }
    }
    // alpha = 0: B := 0 without reading B (BLAS).
    for side in [Side::Left, Side::Right] {
        let nb = 4;
        let n = 2 * nb + 3;
        let (stored, _) = triangular::<T>(n, Uplo::Lower, Diag::NonUnit, 113);
        let b0 = Dm::from_fn(n, n, |i, j| {
            if (i + j) % 3 == 0 {
                T::from_f64(f64::NAN)
            } else {
                T::one()
            }
        });
        let a = stored.tiles(&rt, nb);
        let b = b0.tiles(&rt, nb);
        dense::trsm(
            &rt,
            side,
            Uplo::Lower,
            Op::NoTrans,
            Diag::NonUnit,
            T::zero(),
            &a,
            &b,
        )
        .unwrap();
        let x = Dm::of(&rt, &b);
        assert!(
            x.d.iter().all(|&v| v == T::zero()),
            "trsm alpha=0 {side:?}: B is not zero"
        );
    }
}
per_type!(trsm, trsm_all);

/// What a rank-k sweep checks.
#[derive(Clone, Copy, PartialEq)]
enum RankCheck {
    /// The referenced triangle against the reference.
    Values,
    /// The other strict triangle is left untouched.
    OtherTriangle,
}

/// herk (`herm = true`) or syrk over all uplo / trans / alpha / beta combinations for the
/// inner dimensions `ks`; failures are collected in `fails`.
fn rank_k_sweep<T: Scalar>(herm: bool, ks: &[usize], what: RankCheck, fails: &mut Failures) {
    let rt = runtime(2);
    let transes: Vec<Op> = match (herm, is_complex::<T>()) {
        (true, true) => vec![Op::NoTrans, Op::ConjTrans],
        (false, true) => vec![Op::NoTrans, Op::Trans],
        (_, false) => vec![Op::NoTrans, Op::Trans, Op::ConjTrans],
    };
    let coefs: [((f64, f64), (f64, f64)); 4] = [
        ((1.0, 0.0), (0.0, 0.0)),
        ((-0.5, 0.25), (2.0, -0.5)),
        ((0.0, 0.0), (0.5, 0.0)),
        ((1.5, 0.0), (1.0, 0.0)),
    ];
    let sentinel = T::from_parts(777.0, -3.0);
    for nb in [4, 7] {
        for n in [1, nb - 1, nb + 1, 2 * nb + 3] {
            for k in ks.iter().map(|&k| if k == usize::MAX { nb + 2 } else { k }) {
                for uplo in [Uplo::Lower, Uplo::Upper] {
                    for &trans in &transes {
                        for &(al, be) in &coefs {
                            for nan_c in [false, true] {
                                if nan_c && be != (0.0, 0.0) {
                                    continue;
                                }
                                let kind = if herm { "herk" } else { "syrk" };
                                let ctx = format!(
                                    "{kind} {} n={n} k={k} nb={nb} {uplo:?} {trans:?} alpha={al:?} beta={be:?} nan_c={nan_c}",
                                    T::DTYPE.name()
                                );
                                // Real scalars for herk.
                                let (al, be) = if herm {
                                    ((al.0, 0.0), (be.0, 0.0))
                                } else {
                                    (al, be)
                                };
                                let (alpha, beta): (T, T) = (scalars(al), scalars(be));
                                let sa = if trans == Op::NoTrans { (n, k) } else { (k, n) };
                                let a0 = Dm::<T>::random(sa.0, sa.1, 121 + n as u64);
                                let r = Dm::<T>::random(n, n, 122);
                                let c0 = Dm::from_fn(n, n, |i, j| {
                                    if !in_triangle(uplo, i, j) {
                                        sentinel
                                    } else if nan_c {
                                        T::from_f64(f64::NAN)
                                    } else if herm && i == j {
                                        T::from_f64(r.get(i, j).re())
                                    } else {
                                        r.get(i, j)
                                    }
                                });
                                let (a, c) = (a0.tiles(&rt, nb), c0.tiles(&rt, nb));
                                let res = if herm {
                                    dense::herk(&rt, uplo, trans, al.0, &a, be.0, &c)
                                } else {
                                    dense::syrk(&rt, uplo, trans, alpha, &a, beta, &c)
                                };
                                if let Err(e) = res {
                                    fails.check(false, || {
                                        format!(
                                            "{ctx}: returned {}",
                                            e.to_string().lines().next().unwrap_or("")
                                        )
                                    });
                                    continue;
                                }
                                let got = Dm::of(&rt, &c);
                                if what == RankCheck::OtherTriangle {
                                    let mut changed = Vec::new();
                                    for j in 0..n {
                                        for i in 0..n {
                                            if !in_triangle(uplo, i, j)
                                                && !same_bits(got.get(i, j), sentinel)
                                            {
                                                changed.push(format!(
                                                    "C({i},{j}) = {:?}",
                                                    got.get(i, j)
                                                ));
                                            }
                                        }
                                    }
                                    fails.check(changed.is_empty(), || {
                                        format!("{ctx}: {} entries outside the triangle changed, e.g. {}", changed.len(), changed[0])
                                    });
                                    continue;
                                }
                                let az = a0.z();
                                let x = op(
                                    if trans == Op::NoTrans {
                                        Op::NoTrans
                                    } else if herm {
                                        Op::ConjTrans
                                    } else {
                                        Op::Trans
                                    },
                                    &az,
                                );
                                let y = if herm { adj(&x) } else { op(Op::Trans, &x) };
                                let mut want = scal(z(alpha), &mul(&x, &y));
                                if be != (0.0, 0.0) {
                                    want = add(&want, &scal(z(beta), &c0.z()));
                                }
                                let mut worst = (0.0f64, 0, 0);
                                for j in 0..n {
                                    for i in 0..n {
                                        if in_triangle(uplo, i, j) {
                                            let g = z(got.get(i, j));
                                            let e = (g - want.get(i, j)).norm();
                                            if e > worst.0 || e.is_nan() {
                                                worst = (e, i, j);
                                            }
                                        }
                                    }
                                }
                                let scale = z(alpha).norm() * norm_max(&az).powi(2) * k as f64
                                    + if be != (0.0, 0.0) {
                                        z(beta).norm() * norm_max(&r.z())
                                    } else {
                                        0.0
                                    };
                                let (e, wi, wj) = worst;
                                let res = ratio(
                                    e,
                                    scale.max(f64::MIN_POSITIVE) * (k + 2) as f64 * eps::<T>(),
                                );
                                fails.small(
                                    res,
                                    10.0,
                                    format!(
                                        "{ctx}: worst C({wi},{wj}) = {:?}, want {}",
                                        got.get(wi, wj),
                                        want.get(wi, wj)
                                    ),
                                );
                            }
                        }
                    }
                }
            }
        }
    }
}

fn herk_all<T: Scalar>() {
    let mut fails = Failures::new();
    rank_k_sweep::<T>(true, &[1, usize::MAX, 15], RankCheck::Values, &mut fails);
    fails.finish("herk");
}
fn syrk_all<T: Scalar>() {
    let mut fails = Failures::new();
    rank_k_sweep::<T>(false, &[1, usize::MAX, 15], RankCheck::Values, &mut fails);
    fails.finish("syrk");
}
per_type!(herk, herk_all);
per_type!(syrk, syrk_all);

/// With an empty inner dimension (`k = 0`), herk / syrk reduce to `C := beta C` on the
/// referenced triangle (BLAS), including the off-diagonal tiles.
#[test]
fn herk_syrk_with_empty_inner_dimension() {
    let mut fails = Failures::new();
    rank_k_sweep::<f64>(true, &[0], RankCheck::Values, &mut fails);
    rank_k_sweep::<f64>(false, &[0], RankCheck::Values, &mut fails);
    rank_k_sweep::<tessera::c64>(true, &[0], RankCheck::Values, &mut fails);
    rank_k_sweep::<tessera::c32>(false, &[0], RankCheck::Values, &mut fails);
    fails.finish("herk/syrk with k = 0");
}

/// herk / syrk only reference and update the `uplo` triangle of C (BLAS): the other strict
/// triangle keeps its contents.
#[test]
fn herk_syrk_leave_other_triangle_untouched() {
    let mut fails = Failures::new();
    let ks = [1, usize::MAX];
    rank_k_sweep::<f32>(true, &ks, RankCheck::OtherTriangle, &mut fails);
    rank_k_sweep::<f64>(false, &ks, RankCheck::OtherTriangle, &mut fails);
    rank_k_sweep::<tessera::c32>(true, &ks, RankCheck::OtherTriangle, &mut fails);
    rank_k_sweep::<tessera::c64>(true, &ks, RankCheck::OtherTriangle, &mut fails);
    rank_k_sweep::<tessera::c64>(false, &ks, RankCheck::OtherTriangle, &mut fails);
    fails.finish("herk/syrk, other triangle");
}

/// BLAS `xHERK` sets the imaginary parts of the diagonal of C to zero on output.
#[test]
fn herk_diagonal_is_exactly_real() {
    let rt = runtime(2);
    let nb = 4;
    for trans in [Op::NoTrans, Op::ConjTrans] {
        for uplo in [Uplo::Lower, Uplo::Upper] {
            let (n, k) = (2 * nb + 3, 3 * nb + 1);
            let sa = if trans == Op::NoTrans { (n, k) } else { (k, n) };
            let a = Dm::<tessera::c64>::random(sa.0, sa.1, 131).tiles(&rt, nb);
            let c = Dm::<tessera::c64>::identity(n, n).tiles(&rt, nb);
            dense::herk(&rt, uplo, trans, 1.0, &a, 1.0, &c).unwrap();
            let got = Dm::of(&rt, &c);
            for i in 0..n {
                assert_eq!(
                    got.get(i, i).im,
                    0.0,
                    "herk {trans:?} {uplo:?}: C({i},{i}) = {}",
                    got.get(i, i)
                );
            }
        }
    }
}

// =======================================================================================
// Norms

fn norm_ref(norm: Norm, a: &Dm<Z>) -> f64 {
    match norm {
        Norm::Max => norm_max(a),
        Norm::One => norm1(a),
        Norm::Inf => norm_inf(a),
        Norm::Frobenius => norm_fro(a),
    }
}

fn check_norm(got: f64, want: f64, norm: Norm, ctx: &str) {
    if norm == Norm::Max {
        assert_eq!(got, want, "{ctx}");
    } else {
        let tol = 1e-12 * want.max(f64::MIN_POSITIVE);
        assert!((got - want).abs() <= tol, "{ctx}: got {got}, want {want}");
    }
}

const NORMS: [Norm; 4] = [Norm::Max, Norm::One, Norm::Inf, Norm::Frobenius];

fn norms_all<T: Scalar>() {
    let rt = runtime(2);
    for nb in TILE_SIZES {
        for (m, n) in shapes(nb) {
            let a0 = Dm::<T>::random(m, n, 141 + (m + n) as u64);
            let a = a0.tiles(&rt, nb);
            for norm in NORMS {
                let ctx = format!("lange {} {m}x{n} nb={nb} {norm:?}", T::DTYPE.name());
                let got = dense::lange(&rt, norm, &a).unwrap_or_else(|e| panic!("{ctx}: {e}"));
                check_norm(got, norm_ref(norm, &a0.z()), norm, &ctx);
            }
        }
        for n in sizes(nb) {
            for uplo in [Uplo::Lower, Uplo::Upper] {
                // The other triangle holds large garbage: it must not be read.
                let r = Dm::<T>::random(n, n, 151 + n as u64);
                let stored = Dm::from_fn(n, n, |i, j| {
                    if in_triangle(uplo, i, j) {
                        if i == j {
                            T::from_f64(r.get(i, j).re() * 3.0)
                        } else {
                            r.get(i, j)
                        }
                    } else {
                        T::from_parts(1e3, -1e3)
                    }
                });
                let a = stored.tiles(&rt, nb);
                let sym = symmetric_from(&stored.z(), uplo);
                let her = hermitian_from(&stored.z(), uplo);
                for norm in NORMS {
                    let ctx = format!("lansy {} n={n} nb={nb} {uplo:?} {norm:?}", T::DTYPE.name());
                    let got =
                        dense::lansy(&rt, norm, uplo, &a).unwrap_or_else(|e| panic!("{ctx}: {e}"));
                    check_norm(got, norm_ref(norm, &sym), norm, &ctx);
                    let ctx = format!("lanhe {} n={n} nb={nb} {uplo:?} {norm:?}", T::DTYPE.name());
                    let got =
                        dense::lanhe(&rt, norm, uplo, &a).unwrap_or_else(|e| panic!("{ctx}: {e}"));
                    check_norm(got, norm_ref(norm, &her), norm, &ctx);
                }
            }
        }
    }
}
per_type!(norms, norms_all);

/// `lanhe` is documented to take the imaginary parts of the diagonal as zero, as LAPACK's
/// `xLANHE` does.
#[test]
fn lanhe_ignores_imaginary_diagonal() {
    let rt = runtime(2);
    let (n, nb) = (11, 4);
    let stored = Dm::<tessera::c64>::from_fn(n, n, |i, j| {
        if i == j {
            tessera::c64::new(0.25, 4.0)
        } else {
            tessera::dense::random_value(161, i, j)
        }
    });
    let a = stored.tiles(&rt, nb);
    let mut real_diag = stored.z();
    for i in 0..n {
        real_diag.set(i, i, Z::new(0.25, 0.0));
    }
    let her = hermitian_from(&real_diag, Uplo::Lower);
    for norm in NORMS {
        let got = dense::lanhe(&rt, norm, Uplo::Lower, &a).unwrap();
        check_norm(
            got,
            norm_ref(norm, &her),
            norm,
            &format!("lanhe with a non-real diagonal, {norm:?}"),
        );
    }
}

// =======================================================================================
// Views

/// The algorithms work on tile-aligned sub-views (they share the parent's tiles).
#[test]
fn potrf_and_getrf_on_subviews() {
    let rt = runtime(2);
    let nb = 4;
    let n = 5 * nb + 2;
    let big = dense::plghe::<f64>(&rt, n as f64, n, nb, 171).unwrap();
    let full0 = Dm::of(&rt, &big);
    let v = big.sub(1, 1, 3, 3);
    let (vm, v0) = (v.m(), nb);
    let sub0 = Dm::from_fn(vm, vm, |i, j| full0.get(v0 + i, v0 + j));
    dense::potrf(&rt, Uplo::Lower, &v).unwrap();
    let full = Dm::of(&rt, &big);
    // Outside the view: unchanged.
    for j in 0..n {
        for i in 0..n {
            let inside = (v0..v0 + vm).contains(&i) && (v0..v0 + vm).contains(&j);
            if !inside {
                assert!(
                    same_bits(full.get(i, j), full0.get(i, j)),
                    "potrf on a view changed ({i},{j})"
                );
            }
        }
    }
    let l = lower(&Dm::of(&rt, &v).z());
    let llh = mul(&l, &adj(&l));
    let diff = Dm::from_fn(vm, vm, |i, j| {
        if i >= j {
            llh.get(i, j) - z(sub0.get(i, j))
        } else {
            Z::new(0.0, 0.0)
        }
    });
    check_small(
        norm1(&diff) / (vm as f64 * norm1(&sub0.z()) * f64::EPSILON),
        LIMIT,
        "potrf on a view",
    );

    // The last tile column is ragged: LU of a view reaching it.
    let g = dense::plrnt::<f64>(&rt, n, n, nb, 172).unwrap();
    let g0 = Dm::of(&rt, &g);
    let gv = g.sub(2, 3, 4, 3);
    let (gm, gn) = (gv.m(), gv.n());
    let gsub = Dm::from_fn(gm, gn, |i, j| g0.get(2 * nb + i, 3 * nb + j));
    let mut ipiv = vec![0; gm.min(gn)];
    dense::getrf(&rt, &gv, &mut ipiv).unwrap();
    check_ipiv(&ipiv, gm, "getrf on a view");
    check_small(
        lu_residual(&gsub, &Dm::of(&rt, &gv), &ipiv),
        LIMIT,
        "getrf on a view",
    );
}

// =======================================================================================
// LAPACK-layout wrappers (faer views) and ndarray views.

fn nb_auto(rt: &Runtime, m: usize, n: usize) -> usize {
    dense::auto_tile_size(m, n, rt.workers())
}

fn faer_of<T: Scalar>(a: &Dm<T>) -> faer::Mat<T> {
    faer::Mat::from_fn(a.m, a.n, |i, j| a.get(i, j))
}

fn dm_of_faer<T: Scalar>(a: faer::MatRef<'_, T>) -> Dm<T> {
    Dm::from_fn(a.nrows(), a.ncols(), |i, j| a[(i, j)])
}

fn dm_of_nd<T: Scalar>(a: &ndarray::Array2<T>) -> Dm<T> {
    let (m, n) = a.dim();
    Dm::from_fn(m, n, |i, j| a[[i, j]])
}

/// A C-order (row-major) ndarray copy.
fn nd_c<T: Scalar>(a: &Dm<T>) -> ndarray::Array2<T> {
    ndarray::Array2::from_shape_fn((a.m, a.n), |(i, j)| a.get(i, j))
}

/// A Fortran-order (column-major) ndarray copy.
fn nd_f<T: Scalar>(a: &Dm<T>) -> ndarray::Array2<T> {
    use ndarray::ShapeBuilder;
    ndarray::Array2::from_shape_fn((a.m, a.n).f(), |(i, j)| a.get(i, j))
}

fn wrappers_all<T: Scalar>() {
    let rt = runtime(2);
    // Above the direct (single-tile, no task) path of the wrappers: they must then give
    // exactly the tiled algorithm's results.
    let n = dense::lapack::DIRECT_MAX + 44;
    let nrhs = 3;
    let nb = nb_auto(&rt, n, n);
    assert!(
        nb < n,
        "the wrapper tests need several tiles (auto tile size {nb} for n = {n})"
    );
    let name = T::DTYPE.name();

    // ---- Cholesky
    let spd = Dm::of(&rt, &dense::plghe::<T>(&rt, n as f64, n, 16, 181).unwrap());
    let b0 = Dm::<T>::random(n, nrhs, 182);
    let (ta, tb) = (spd.tiles(&rt, nb), b0.tiles(&rt, nb));
    dense::posv(&rt, Uplo::Lower, &ta, &tb).unwrap();
    let (fac_ref, x_ref) = (Dm::of(&rt, &ta), Dm::of(&rt, &tb));
    let r = sub(&mul(&spd.z(), &x_ref.z()), &b0.z());
    check_small(
        norm1(&r) / (norm1(&spd.z()) * norm1(&x_ref.z()) * n as f64 * T::EPS),
        LIMIT,
        format!("{name} posv residual"),
    );

    let (mut a, mut b) = (faer_of(&spd), faer_of(&b0));
    dense::lapack::posv(&rt, Uplo::Lower, a.as_mut(), b.as_mut()).unwrap();
    assert!(
        dm_of_faer(a.as_ref()).bits_eq(&fac_ref),
        "{name} lapack::posv factor differs from the tiled one"
    );
    assert!(
        dm_of_faer(b.as_ref()).bits_eq(&x_ref),
        "{name} lapack::posv solution differs from the tiled one"
    );

    let mut a = faer_of(&spd);
    dense::lapack::potrf(&rt, Uplo::Lower, a.as_mut()).unwrap();
    assert!(
        dm_of_faer(a.as_ref()).bits_eq(&fac_ref),
        "{name} lapack::potrf"
    );
    let mut b = faer_of(&b0);
    dense::lapack::potrs(&rt, Uplo::Lower, a.as_ref(), b.as_mut()).unwrap();
    assert!(
        dm_of_faer(b.as_ref()).bits_eq(&x_ref),
        "{name} lapack::potrs"
    );

    for (label, mut an, mut bn) in [
        ("C-order", nd_c(&spd), nd_c(&b0)),
        ("F-order", nd_f(&spd), nd_f(&b0)),
    ] {
        dense::ndarray::posv(&rt, Uplo::Lower, an.view_mut(), bn.view_mut()).unwrap();
        assert!(
            dm_of_nd(&an).bits_eq(&fac_ref),
            "{name} ndarray::posv ({label}) factor"
        );
        assert!(
            dm_of_nd(&bn).bits_eq(&x_ref),
            "{name} ndarray::posv ({label}) solution"
        );
    }
    let mut an = nd_c(&spd);
    dense::ndarray::potrf(&rt, Uplo::Lower, an.view_mut()).unwrap();
    assert!(
        dm_of_nd(&an).bits_eq(&fac_ref),
        "{name} ndarray::potrf (C-order)"
    );

    // ---- LU
    let g0 = Dm::<T>::random(n, n, 183);
    let (ta, tb) = (g0.tiles(&rt, nb), b0.tiles(&rt, nb));
    let mut ipiv_ref = vec![0; n];
    dense::gesv(&rt, &ta, &mut ipiv_ref, &tb).unwrap();
    let (lu_ref, xg_ref) = (Dm::of(&rt, &ta), Dm::of(&rt, &tb));
    check_small(
        lu_residual(&g0, &lu_ref, &ipiv_ref),
        LIMIT,
        format!("{name} gesv factors"),
    );
    let tbt = b0.tiles(&rt, nb);
    dense::getrs(&rt, Op::ConjTrans, &ta, &ipiv_ref, &tbt).unwrap();
    let xt_ref = Dm::of(&rt, &tbt);

    let (mut a, mut b) = (faer_of(&g0), faer_of(&b0));
    let mut ipiv = vec![0; n];
    dense::lapack::gesv(&rt, a.as_mut(), &mut ipiv, b.as_mut()).unwrap();
    assert_eq!(ipiv, ipiv_ref, "{name} lapack::gesv pivots");
    assert!(
        dm_of_faer(a.as_ref()).bits_eq(&lu_ref),
        "{name} lapack::gesv factors"
    );
    assert!(
        dm_of_faer(b.as_ref()).bits_eq(&xg_ref),
        "{name} lapack::gesv solution"
    );
    let mut a = faer_of(&g0);
    let mut ipiv = vec![0; n];
    dense::lapack::getrf(&rt, a.as_mut(), &mut ipiv).unwrap();
    assert_eq!(ipiv, ipiv_ref, "{name} lapack::getrf pivots");
    assert!(
        dm_of_faer(a.as_ref()).bits_eq(&lu_ref),
        "{name} lapack::getrf factors"
    );
    let mut b = faer_of(&b0);
    dense::lapack::getrs(&rt, Op::ConjTrans, a.as_ref(), &ipiv, b.as_mut()).unwrap();
    assert!(
        dm_of_faer(b.as_ref()).bits_eq(&xt_ref),
        "{name} lapack::getrs ConjTrans"
    );

    for (label, mut an, mut bn) in [
        ("C-order", nd_c(&g0), nd_c(&b0)),
        ("F-order", nd_f(&g0), nd_f(&b0)),
    ] {
        let mut ipiv = vec![0; n];
        dense::ndarray::gesv(&rt, an.view_mut(), &mut ipiv, bn.view_mut()).unwrap();
        assert_eq!(ipiv, ipiv_ref, "{name} ndarray::gesv ({label}) pivots");
        assert!(
            dm_of_nd(&an).bits_eq(&lu_ref),
            "{name} ndarray::gesv ({label}) factors"
        );
        assert!(
            dm_of_nd(&bn).bits_eq(&xg_ref),
            "{name} ndarray::gesv ({label}) solution"
        );
        let mut an = if label == "C-order" {
            nd_c(&g0)
        } else {
            nd_f(&g0)
        };
        let mut ipiv = vec![0; n];
        dense::ndarray::getrf(&rt, an.view_mut(), &mut ipiv).unwrap();
        assert_eq!(ipiv, ipiv_ref, "{name} ndarray::getrf ({label}) pivots");
        assert!(
            dm_of_nd(&an).bits_eq(&lu_ref),
            "{name} ndarray::getrf ({label}) factors"
        );
        let mut bn = nd_c(&b0);
        dense::ndarray::getrs(&rt, Op::ConjTrans, an.view(), &ipiv, bn.view_mut()).unwrap();
        assert!(
            dm_of_nd(&bn).bits_eq(&xt_ref),
            "{name} ndarray::getrs ({label})"
        );
    }

    // getrf_nopiv
    let d0 = dominant::<T>(n, n, n as f64 + 1.0, 184);
    let td = d0.tiles(&rt, nb);
    dense::getrf_nopiv(&rt, &td).unwrap();
    let mut a = faer_of(&d0);
    dense::lapack::getrf_nopiv(&rt, a.as_mut()).unwrap();
    assert!(
        dm_of_faer(a.as_ref()).bits_eq(&Dm::of(&rt, &td)),
        "{name} lapack::getrf_nopiv"
    );

    // ---- QR and least squares (tall and wide)
    for (m, nn) in [(n, 110), (110, n)] {
        let nbq = nb_auto(&rt, m, nn);
        let a0 = Dm::<T>::random(m, nn, 185);
        let ta = a0.tiles(&rt, nbq);
        let tt = dense::qr_workspace(&ta);
        dense::geqrf(&rt, &ta, &tt).unwrap();
        let qr_ref = Dm::of(&rt, &ta);
        let c0 = Dm::<T>::random(m, 4, 186);
        let tc = c0.tiles(&rt, nbq);
        dense::unmqr(&rt, Side::Left, Op::ConjTrans, &ta, &tt, &tc).unwrap();
        let qhc_ref = Dm::of(&rt, &tc);

        let mut a = faer_of(&a0);
        let refl = dense::lapack::geqrf(&rt, a.as_mut()).unwrap();
        assert_eq!(refl.nb, nbq, "{name} lapack::geqrf tile size");
        assert!(
            dm_of_faer(a.as_ref()).bits_eq(&qr_ref),
            "{name} lapack::geqrf {m}x{nn}"
        );
        let mut c = faer_of(&c0);
        dense::lapack::unmqr(
            &rt,
            Side::Left,
            Op::ConjTrans,
            a.as_ref(),
            &refl,
            c.as_mut(),
        )
        .unwrap();
        assert!(
            dm_of_faer(c.as_ref()).bits_eq(&qhc_ref),
            "{name} lapack::unmqr {m}x{nn}"
        );
        let mut an = nd_c(&a0);
        let refl2 = dense::ndarray::geqrf(&rt, an.view_mut()).unwrap();
        assert!(
            dm_of_nd(&an).bits_eq(&qr_ref),
            "{name} ndarray::geqrf (C-order) {m}x{nn}"
        );
        assert!(
            dm_of_faer(refl2.t.as_ref()).bits_eq(&dm_of_faer(refl.t.as_ref())),
            "{name} ndarray::geqrf T factors"
        );

        // gels
        let rows = m.max(nn);
        let bb = Dm::<T>::random(rows, 2, 187);
        let (ta, tb) = (a0.tiles(&rt, nbq), bb.tiles(&rt, nbq));
        dense::gels(&rt, &ta, &tb).unwrap();
        let x_ref = Dm::of(&rt, &tb);
        let (mut a, mut b) = (faer_of(&a0), faer_of(&bb));
        dense::lapack::gels(&rt, a.as_mut(), b.as_mut()).unwrap();
        assert!(
            dm_of_faer(b.as_ref()).bits_eq(&x_ref),
            "{name} lapack::gels {m}x{nn}"
        );
        if m < nn {
            assert!(
                dm_of_faer(a.as_ref()).bits_eq(&a0),
                "{name} lapack::gels {m}x{nn} modified A"
            );
        }
        let (mut an, mut bn) = (nd_c(&a0), nd_c(&bb));
        dense::ndarray::gels(&rt, an.view_mut(), bn.view_mut()).unwrap();
        assert!(
            dm_of_nd(&bn).bits_eq(&x_ref),
            "{name} ndarray::gels (C-order) {m}x{nn}"
        );
        // And the answer is right: normal equations residual.
        let x = x_ref.rows(0, nn).z();
        let az = a0.z();
        if m >= nn {
            let g = mul(&adj(&az), &sub(&bb.z(), &mul(&az, &x)));
            let na = norm1(&az);
            check_small(
                norm1(&g) / (na * (na * norm1(&x) + norm1(&bb.z())) * m as f64 * T::EPS),
                LIMIT,
                format!("{name} gels {m}x{nn}"),
            );
        } else {
            let r = sub(&mul(&az, &x), &bb.rows(0, m).z());
            check_small(
                norm1(&r) / (norm1(&az) * norm1(&x) * nn as f64 * T::EPS),
                LIMIT,
                format!("{name} gels {m}x{nn}"),
            );
        }
    }

    // ---- gemm and lange
    let (m, k, nn) = (130, 120, 140);
    let nbg = nb_auto(&rt, m, nn);
    let a0 = Dm::<T>::random(k, m, 188);
    let b0 = Dm::<T>::random(k, nn, 189);
    let c0 = Dm::<T>::random(m, nn, 190);
    let (alpha, beta) = (T::from_parts(0.5, 0.5), T::from_parts(-1.0, 0.25));
    let tc = c0.tiles(&rt, nbg);
    dense::gemm(
        &rt,
        Op::ConjTrans,
        Op::NoTrans,
        alpha,
        &a0.tiles(&rt, nbg),
        &b0.tiles(&rt, nbg),
        beta,
        &tc,
    )
    .unwrap();
    let c_ref = Dm::of(&rt, &tc);
    let mut c = faer_of(&c0);
    dense::lapack::gemm(
        &rt,
        Op::ConjTrans,
        Op::NoTrans,
        alpha,
        faer_of(&a0).as_ref(),
        faer_of(&b0).as_ref(),
        beta,
        c.as_mut(),
    )
    .unwrap();
    assert!(
        dm_of_faer(c.as_ref()).bits_eq(&c_ref),
        "{name} lapack::gemm"
    );
    let want = add(
        &scal(z(alpha), &mul(&adj(&a0.z()), &b0.z())),
        &scal(z(beta), &c0.z()),
    );
    check_small(
        norm_max(&sub(&c_ref.z(), &want)) / (k as f64 * T::EPS * 4.0),
        10.0,
        format!("{name} gemm"),
    );
    for norm in NORMS {
        let got = dense::lapack::lange(&rt, norm, faer_of(&c0).as_ref()).unwrap();
        check_norm(
            got,
            norm_ref(norm, &c0.z()),
            norm,
            &format!("{name} lapack::lange {norm:?}"),
        );
    }
}
per_type!(lapack_and_ndarray_wrappers, wrappers_all);

/// ndarray views with negative strides (reversed rows and columns) are handled too.
#[test]
fn ndarray_reversed_views() {
    use ndarray::s;
    let rt = runtime(2);
    let n = 150;
    let spd = Dm::of(
        &rt,
        &dense::plghe::<f64>(&rt, n as f64, n, 16, 191).unwrap(),
    );
    let b0 = Dm::<f64>::random(n, 2, 192);
    let mut a = nd_c(&spd);
    let mut b = nd_c(&b0);
    // The reversed matrix is P A P, also SPD; the system is (P A P)(P x) = P b.
    dense::ndarray::posv(
        &rt,
        Uplo::Lower,
        a.slice_mut(s![..;-1, ..;-1]),
        b.slice_mut(s![..;-1, ..]),
    )
    .unwrap();
    let x = dm_of_nd(&b).z();
    let r = sub(&mul(&spd.z(), &x), &b0.z());
    check_small(
        norm1(&r) / (norm1(&spd.z()) * norm1(&x) * n as f64 * f64::EPSILON),
        LIMIT,
        "ndarray::posv on reversed views",
    );

    let g0 = Dm::<f64>::random(n, n, 193);
    let mut a = nd_c(&g0);
    let mut b = nd_c(&b0);
    let mut ipiv = vec![0; n];
    dense::ndarray::gesv(
        &rt,
        a.slice_mut(s![.., ..;-1]),
        &mut ipiv,
        b.slice_mut(s![..;-1, ..]),
    )
    .unwrap();
    // Column-reversed A: A P; (A P) y = b with b's rows reversed in storage: y stored reversed.
    let y = Dm::from_fn(n, 2, |i, j| b[[n - 1 - i, j]]).z();
    let ap = Dm::from_fn(n, n, |i, j| g0.get(i, n - 1 - j)).z();
    let brev = Dm::from_fn(n, 2, |i, j| b0.get(n - 1 - i, j)).z();
    let r = sub(&mul(&ap, &y), &brev);
    check_small(
        norm1(&r) / (norm1(&ap) * norm1(&y) * n as f64 * f64::EPSILON),
        LIMIT,
        "ndarray::gesv on reversed views",
    );
}

/// The tiled routines and `TileMatrix` conversions agree whatever the tile size used.
#[test]
fn conversions_roundtrip() {
    let rt = runtime(2);
    for nb in [1, 3, 4, 7, 16] {
        for (m, n) in [(0, 0), (1, 1), (13, 7), (7, 13), (32, 32)] {
            let a0 = Dm::<tessera::c32>::random(m, n, 195);
            let t = a0.tiles(&rt, nb);
            assert_eq!((t.m(), t.n(), t.mb(), t.nb()), (m, n, nb, nb));
            assert!(Dm::of(&rt, &t).bits_eq(&a0), "roundtrip {m}x{n} nb={nb}");
            let d = t.duplicate(&rt).unwrap();
            assert!(Dm::of(&rt, &d).bits_eq(&a0), "duplicate {m}x{n} nb={nb}");
            let h = t.conj_transpose(&rt).unwrap();
            let hh = Dm::of(&rt, &h);
            assert_eq!((hh.m, hh.n), (n, m));
            for j in 0..m {
                for i in 0..n {
                    assert_eq!(
                        hh.get(i, j),
                        a0.get(j, i).conj(),
                        "conj_transpose {m}x{n} nb={nb}"
                    );
                }
            }
        }
    }
    // plrnt does not depend on the tile size.
    let a = Dm::of(&rt, &dense::plrnt::<f64>(&rt, 23, 17, 4, 5).unwrap());
    let b = Dm::of(&rt, &dense::plrnt::<f64>(&rt, 23, 17, 7, 5).unwrap());
    assert!(a.bits_eq(&b));
    let _ = TileMatrix::<f64>::zeros(3, 3, 2, 2);
}

// =======================================================================================
// The direct (single-tile, taskless) path of the LAPACK-layout wrappers, for problems up
// to `dense::lapack::DIRECT_MAX`: residuals, LAPACK's failure semantics, any layout.

fn direct_path_all<T: Scalar>() {
    let rt = runtime(2);
    let name = T::DTYPE.name();
    for &n in &[1usize, 2, 17, 64, dense::lapack::DIRECT_MAX] {
        let nrhs = 3;
        // LU: tall, wide and square factors; solves with N, T, C.
        for (m, k) in [(n, n), (n + 5, n), (n, n + 5)] {
            let a0 = Dm::<T>::random(m, k, 300 + n as u64);
            let mut a = faer_of(&a0);
            let mut ipiv = vec![0usize; m.min(k)];
            dense::lapack::getrf(&rt, a.as_mut(), &mut ipiv).unwrap();
            check_ipiv(&ipiv, m, name);
            check_small(
                lu_residual(&a0, &dm_of_faer(a.as_ref()), &ipiv),
                LIMIT,
                format!("{name} direct getrf {m}x{k}"),
            );
        }
        let a0 = dominant::<T>(n, n, 0.0, 310 + n as u64);
        let b0 = Dm::<T>::random(n, nrhs, 311);
        for trans in [Op::NoTrans, Op::Trans, Op::ConjTrans] {
            let mut a = faer_of(&a0);
            let mut ipiv = vec![0usize; n];
            dense::lapack::getrf(&rt, a.as_mut(), &mut ipiv).unwrap();
            let mut b = faer_of(&b0);
            dense::lapack::getrs(&rt, trans, a.as_ref(), &ipiv, b.as_mut()).unwrap();
            let x = dm_of_faer(b.as_ref());
            let r = sub(&mul(&op(trans, &a0.z()), &x.z()), &b0.z());
            check_small(
                ratio(
                    norm1(&r),
                    norm1(&a0.z()) * norm1(&x.z()) * n as f64 * eps::<T>(),
                ),
                LIMIT,
                format!("{name} direct getrs {trans:?} n={n}"),
            );
        }
        // gesv on a row-major ndarray view (the copy fallback of the LU kernel).
        let (mut an, mut bn) = (nd_c(&a0), nd_c(&b0));
        let mut ipiv = vec![0usize; n];
        dense::ndarray::gesv(&rt, an.view_mut(), &mut ipiv, bn.view_mut()).unwrap();
        let x = dm_of_nd(&bn);
        let r = sub(&mul(&a0.z(), &x.z()), &b0.z());
        check_small(
            ratio(
                norm1(&r),
                norm1(&a0.z()) * norm1(&x.z()) * n as f64 * eps::<T>(),
            ),
            LIMIT,
            format!("{name} direct gesv (row-major) n={n}"),
        );
        // Cholesky both triangles.
        let spd = Dm::of(&rt, &dense::plghe::<T>(&rt, n as f64, n, 16, 320).unwrap());
        for uplo in [Uplo::Lower, Uplo::Upper] {
            let (mut a, mut b) = (faer_of(&spd), faer_of(&b0));
            dense::lapack::posv(&rt, uplo, a.as_mut(), b.as_mut()).unwrap();
            let x = dm_of_faer(b.as_ref());
            let r = sub(&mul(&spd.z(), &x.z()), &b0.z());
            check_small(
                ratio(
                    norm1(&r),
                    norm1(&spd.z()) * norm1(&x.z()) * n as f64 * eps::<T>(),
                ),
                LIMIT,
                format!("{name} direct posv {uplo:?} n={n}"),
            );
        }
    }
    // LAPACK's failures: singular (factors complete), not positive definite, NaN.
    let mut s = faer_of(&Dm::<T>::from_fn(3, 3, |i, j| {
        T::from_f64(((i + 1) * (j + 1)) as f64)
    }));
    let mut ipiv = vec![0usize; 3];
    let e = dense::lapack::getrf(&rt, s.as_mut(), &mut ipiv).unwrap_err();
    assert_eq!(
        e,
        tessera::Error::Singular { index: 2 },
        "{name} direct singular"
    );
    let mut p = faer_of(&Dm::<T>::from_fn(2, 2, |i, j| {
        T::from_f64(if i == j { 1.0 } else { 2.0 })
    }));
    let e = dense::lapack::potrf(&rt, Uplo::Lower, p.as_mut()).unwrap_err();
    assert_eq!(
        e,
        tessera::Error::NotPositiveDefinite { order: 2 },
        "{name} direct not PD"
    );
    let mut q = faer_of(&Dm::<T>::from_fn(2, 2, |i, j| {
        T::from_f64(if (i, j) == (1, 0) { f64::NAN } else { 1.0 })
    }));
    let e = dense::lapack::getrf(&rt, q.as_mut(), &mut ipiv).unwrap_err();
    assert!(
        matches!(e, tessera::Error::NotFinite { row: 1, col: 0, .. }),
        "{name} direct NaN: {e:?}"
    );
}

per_type!(direct_path_of_the_wrappers, direct_path_all);

/// The LAPACK-layout Cholesky routines copy only the referenced triangle's tiles: the
/// other triangle must come back bit for bit untouched (here it holds NaNs, which would
/// also poison the factor if it were read), on success and when the matrix is not
/// positive definite, and the factor must be that of a clean copy.
#[test]
fn lapack_cholesky_leaves_the_other_triangle_alone() {
    let rt = Runtime::new(tessera::runtime::RuntimeConfig::with_workers(2));
    let n = 900; // several tiles of the automatic size
    let sentinel = f64::from_bits(0x7ff8_dead_beef_0001);
    let spd = faer::Mat::<f64>::from_fn(n, n, |i, j| {
        if i == j {
            n as f64
        } else {
            ((i * 31 + j * 17) % 97) as f64 / 97.0 - 0.5 + ((j * 31 + i * 17) % 97) as f64 / 97.0
        }
    });
    // Not positive definite from column 700 on (0-based 699).
    let mut bad = spd.clone();
    bad[(699, 699)] = -1.0;
    let b0 = faer::Mat::<f64>::from_fn(n, 2, |i, j| (i + 3 * j) as f64 % 7.0 - 3.0);
    let nb = dense::auto_tile_size(n, n, rt.workers());
    assert!(n / nb >= 3, "nb = {nb}: too few tiles for this test");
    // The first row of the tile where the factorization fails.
    let fail_tile = 699 / nb * nb;
    for uplo in [Uplo::Lower, Uplo::Upper] {
        let other = |i: usize, j: usize| match uplo {
            Uplo::Lower => i < j,
            Uplo::Upper => i > j,
        };
        let poison = |m: &faer::Mat<f64>| {
            faer::Mat::<f64>::from_fn(n, n, |i, j| if other(i, j) { sentinel } else { m[(i, j)] })
        };
        // `upto`: the leading block that is determined (on failure, what the runtime had
        // computed past the failing tile when it stopped depends on timing, as in LAPACK
        // the rest of A is not the factor).
        let same = |got: &faer::Mat<f64>, clean: &faer::Mat<f64>, upto: usize, what: &str| {
            for j in 0..n {
                for i in 0..n {
                    let want = if other(i, j) {
                        sentinel
                    } else if i < upto && j < upto {
                        clean[(i, j)]
                    } else {
                        continue;
                    };
                    assert_eq!(
                        got[(i, j)].to_bits(),
                        want.to_bits(),
                        "{what} {uplo:?}: entry ({i}, {j})"
                    );
                }
            }
        };
        // Success: potrf, then potrs, then posv.
        let mut clean = spd.clone();
        dense::lapack::potrf(&rt, uplo, clean.as_mut()).unwrap();
        let mut a = poison(&spd);
        dense::lapack::potrf(&rt, uplo, a.as_mut()).unwrap();
        same(&a, &clean, n, "potrf");
        let mut x_clean = b0.clone();
        dense::lapack::potrs(&rt, uplo, clean.as_ref(), x_clean.as_mut()).unwrap();
        let mut x = b0.clone();
        dense::lapack::potrs(&rt, uplo, a.as_ref(), x.as_mut()).unwrap();
        assert_eq!(x, x_clean, "potrs {uplo:?}");
        let (mut a, mut x) = (poison(&spd), b0.clone());
        dense::lapack::posv(&rt, uplo, a.as_mut(), x.as_mut()).unwrap();
        same(&a, &clean, n, "posv");
        assert_eq!(x, x_clean, "posv {uplo:?}");
        // Failure: the same error as on a clean copy, the same partial factor, B untouched.
        let mut clean = bad.clone();
        let e_clean = dense::lapack::potrf(&rt, uplo, clean.as_mut()).unwrap_err();
        assert_eq!(e_clean, tessera::Error::NotPositiveDefinite { order: 700 });
        let mut a = poison(&bad);
        assert_eq!(
            dense::lapack::potrf(&rt, uplo, a.as_mut()).unwrap_err(),
            e_clean
        );
        same(&a, &clean, fail_tile, "potrf (not PD)");
        let (mut a, mut x) = (poison(&bad), b0.clone());
        assert_eq!(
            dense::lapack::posv(&rt, uplo, a.as_mut(), x.as_mut()).unwrap_err(),
            e_clean
        );
        same(&a, &clean, fail_tile, "posv (not PD)");
        assert_eq!(x, b0, "posv (not PD) {uplo:?} modified B");
    }
}

/// The LAPACK-layout routines factor a column-major matrix in place, tile by tile where it
/// lies: on a view inside a larger buffer (leading dimension above the order, so the
/// tiles are strided blocks), the results must be bitwise those of a contiguous matrix and
/// of the tiled routines, and not one element of the buffer outside the view may change.
#[test]
fn lapack_layout_works_in_place_inside_a_larger_buffer() {
    let rt = Runtime::new(tessera::runtime::RuntimeConfig::with_workers(2));
    let (n, nrhs) = (700, 3);
    let nb = dense::auto_tile_size(n, n, rt.workers());
    assert!(n / nb >= 3, "nb = {nb}: too few tiles for this test");
    let sentinel = f64::from_bits(0x7ff8_0bad_f00d_0002);
    let (pad_r, pad_c) = (13, 5); // the view starts at (pad_r, pad_c) of the buffer
    let ld = n + 2 * pad_r + 1;
    // The view of `src` at (pad_r, pad_c) of a buffer of `ld` rows, sentinels around it.
    let framed = |src: &faer::Mat<f64>| {
        faer::Mat::<f64>::from_fn(ld, src.ncols() + 2 * pad_c, |i, j| {
            let (r, c) = (i.wrapping_sub(pad_r), j.wrapping_sub(pad_c));
            if r < src.nrows() && c < src.ncols() {
                src[(r, c)]
            } else {
                sentinel
            }
        })
    };
    let check_frame = |buf: &faer::Mat<f64>, rows: usize, cols: usize, what: &str| {
        for j in 0..buf.ncols() {
            for i in 0..buf.nrows() {
                let inside =
                    (pad_r..pad_r + rows).contains(&i) && (pad_c..pad_c + cols).contains(&j);
                if !inside {
                    assert_eq!(
                        buf[(i, j)].to_bits(),
                        sentinel.to_bits(),
                        "{what}: ({i}, {j}) outside the view changed"
                    );
                }
            }
        }
    };
    let inner = |buf: &faer::Mat<f64>, rows: usize, cols: usize| {
        buf.as_ref().submatrix(pad_r, pad_c, rows, cols).to_owned()
    };
    let spd = faer::Mat::<f64>::from_fn(n, n, |i, j| {
        let v = ((i * 31 + j * 17) % 97) as f64 / 97.0 + ((j * 31 + i * 17) % 97) as f64 / 97.0;
        if i == j {
            n as f64
        } else {
            v - 1.0
        }
    });
    let gen = faer::Mat::<f64>::from_fn(n, n, |i, j| dense::random_value::<f64>(7, i, j));
    let b0 = faer::Mat::<f64>::from_fn(n, nrhs, |i, j| (i + 3 * j) as f64 % 7.0 - 3.0);

    // Cholesky: potrf, potrs, posv against a contiguous copy (itself checked against
    // the tiled routine by `wrappers`).
    let mut clean = spd.clone();
    dense::lapack::potrf(&rt, Uplo::Lower, clean.as_mut()).unwrap();
    let ta = TileMatrix::from_col_major(&rt, spd.as_ref(), nb, nb).unwrap();
    dense::potrf(&rt, Uplo::Lower, &ta).unwrap();
    let tiled = ta.to_mat(&rt).unwrap();
    for j in 0..n {
        for i in j..n {
            assert_eq!(
                clean[(i, j)].to_bits(),
                tiled[(i, j)].to_bits(),
                "potrf ({i}, {j}) vs tiled"
            );
        }
    }
    let mut buf = framed(&spd);
    dense::lapack::potrf(
        &rt,
        Uplo::Lower,
        buf.as_mut().submatrix_mut(pad_r, pad_c, n, n),
    )
    .unwrap();
    check_frame(&buf, n, n, "potrf");
    assert_eq!(inner(&buf, n, n), clean, "potrf in a larger buffer");
    let mut x_clean = b0.clone();
    dense::lapack::potrs(&rt, Uplo::Lower, clean.as_ref(), x_clean.as_mut()).unwrap();
    let mut xb = framed(&b0);
    dense::lapack::potrs(
        &rt,
        Uplo::Lower,
        buf.as_ref().submatrix(pad_r, pad_c, n, n),
        xb.as_mut().submatrix_mut(pad_r, pad_c, n, nrhs),
    )
    .unwrap();
    check_frame(&xb, n, nrhs, "potrs");
    assert_eq!(inner(&xb, n, nrhs), x_clean, "potrs in a larger buffer");
    let (mut ab, mut xb) = (framed(&spd), framed(&b0));
    dense::lapack::posv(
        &rt,
        Uplo::Lower,
        ab.as_mut().submatrix_mut(pad_r, pad_c, n, n),
        xb.as_mut().submatrix_mut(pad_r, pad_c, n, nrhs),
    )
    .unwrap();
    check_frame(&ab, n, n, "posv A");
    check_frame(&xb, n, nrhs, "posv B");
    assert_eq!(inner(&ab, n, n), clean, "posv factor in a larger buffer");
    assert_eq!(
        inner(&xb, n, nrhs),
        x_clean,
        "posv solution in a larger buffer"
    );

    // LU: getrf, getrs (both ways), gesv.
    let mut lu = gen.clone();
    let mut ipiv = vec![0; n];
    dense::lapack::getrf(&rt, lu.as_mut(), &mut ipiv).unwrap();
    let mut buf = framed(&gen);
    let mut ipiv_b = vec![0; n];
    dense::lapack::getrf(
        &rt,
        buf.as_mut().submatrix_mut(pad_r, pad_c, n, n),
        &mut ipiv_b,
    )
    .unwrap();
    check_frame(&buf, n, n, "getrf");
    assert_eq!(inner(&buf, n, n), lu, "getrf in a larger buffer");
    assert_eq!(ipiv_b, ipiv, "getrf pivots in a larger buffer");
    let r =
        &gen * &{
            let mut x = b0.clone();
            dense::lapack::getrs(&rt, Op::NoTrans, lu.as_ref(), &ipiv, x.as_mut()).unwrap();
            x
        } - &b0;
    assert!(r.norm_max() < 1e-9, "getrs residual {}", r.norm_max());
    for trans in [Op::NoTrans, Op::Trans] {
        let mut x_clean = b0.clone();
        dense::lapack::getrs(&rt, trans, lu.as_ref(), &ipiv, x_clean.as_mut()).unwrap();
        let mut xb = framed(&b0);
        dense::lapack::getrs(
            &rt,
            trans,
            buf.as_ref().submatrix(pad_r, pad_c, n, n),
            &ipiv,
            xb.as_mut().submatrix_mut(pad_r, pad_c, n, nrhs),
        )
        .unwrap();
        check_frame(&xb, n, nrhs, "getrs");
        assert_eq!(
            inner(&xb, n, nrhs),
            x_clean,
            "getrs {trans:?} in a larger buffer"
        );
    }
    let (mut ab, mut xb) = (framed(&gen), framed(&b0));
    let mut ipiv_s = vec![0; n];
    dense::lapack::gesv(
        &rt,
        ab.as_mut().submatrix_mut(pad_r, pad_c, n, n),
        &mut ipiv_s,
        xb.as_mut().submatrix_mut(pad_r, pad_c, n, nrhs),
    )
    .unwrap();
    check_frame(&ab, n, n, "gesv A");
    check_frame(&xb, n, nrhs, "gesv B");
    assert_eq!(inner(&ab, n, n), lu, "gesv factors in a larger buffer");
    assert_eq!(ipiv_s, ipiv, "gesv pivots in a larger buffer");
    let mut x_clean = b0.clone();
    dense::lapack::getrs(&rt, Op::NoTrans, lu.as_ref(), &ipiv, x_clean.as_mut()).unwrap();
    assert_eq!(
        inner(&xb, n, nrhs),
        x_clean,
        "gesv solution in a larger buffer"
    );

    // A singular matrix: the factors are complete (LAPACK's INFO > 0), in place too, and
    // gesv leaves B alone.
    let mut sing = gen.clone();
    for i in 0..n {
        sing[(i, 400)] = 0.0;
    }
    let (mut ab, mut xb) = (framed(&sing), framed(&b0));
    let e = dense::lapack::gesv(
        &rt,
        ab.as_mut().submatrix_mut(pad_r, pad_c, n, n),
        &mut ipiv_s,
        xb.as_mut().submatrix_mut(pad_r, pad_c, n, nrhs),
    )
    .unwrap_err();
    assert!(matches!(e, tessera::Error::Singular { .. }), "{e:?}");
    let mut lu_s = sing.clone();
    assert_eq!(
        dense::lapack::getrf(&rt, lu_s.as_mut(), &mut ipiv).unwrap_err(),
        e
    );
    assert_eq!(
        inner(&ab, n, n),
        lu_s,
        "singular gesv factors in a larger buffer"
    );
    check_frame(&ab, n, n, "singular gesv A");
    assert_eq!(inner(&xb, n, nrhs), b0, "singular gesv modified B");
}

/// LU on a matrix whose columns are stacked (tiles in place, and the column storage of
/// `TileMatrix::new_distributed_col_major`) updates blocks of columns with one call: every
/// block width (one tile, several, wider than the matrix), ragged edges, wide and narrow
/// steps, all four types, against the definition `P A = L U`.
fn getrf_block_updates_all<T: Scalar>() {
    let rt = runtime(3);
    for nb in [4, 7] {
        let shapes = [
            (12 * nb + 3, 12 * nb + 3),
            (13 * nb, 11 * nb + 5),
            (9 * nb + 2, 14 * nb + 1),
        ];
        for (m, n) in shapes {
            let a0 = Dm::<T>::random(m, n, 41 + m as u64);
            for width in [1, 2 * nb, 3 * nb + 1, 1024] {
                let ctx = format!("getrf {} {m}x{n} nb={nb} width={width}", T::DTYPE.name());
                let mut opts = dense::LuOptions::default();
                opts.update_block_columns = width;
                let k = m.min(n);
                // In place.
                let mut f = faer_of(&a0);
                let mut ipiv = vec![usize::MAX; k];
                {
                    // SAFETY: `f` is only reached through `a` until `a` is dropped below,
                    // after the factorization has waited for its tasks.
                    let a = unsafe { TileMatrix::from_col_major_in_place(f.as_mut(), nb, nb) }
                        .unwrap()
                        .unwrap();
                    assert!(a.columns_stacked(), "{ctx}");
                    dense::getrf_with(&rt, &a, &mut ipiv, opts)
                        .unwrap_or_else(|e| panic!("{ctx}: {e}"));
                }
                check_ipiv(&ipiv, m, &ctx);
                let got = dm_of_faer(f.as_ref());
                check_small(lu_residual(&a0, &got, &ipiv), LIMIT, &ctx);
                // Column storage owned by the matrix: the same factors.
                let c = TileMatrix::<T>::new_distributed_col_major(
                    &rt,
                    m,
                    n,
                    nb,
                    nb,
                    std::sync::Arc::new(tessera::tile::BlockCyclic2D::single()),
                )
                .unwrap();
                dense::plrnt_fill(&rt, &c, 41 + m as u64).unwrap();
                let mut ipiv_c = vec![usize::MAX; k];
                dense::getrf_with(&rt, &c, &mut ipiv_c, opts).unwrap();
                assert_eq!(ipiv_c, ipiv, "{ctx}: column storage pivots");
                let fc = Dm::of(&rt, &c);
                for j in 0..n {
                    for i in 0..m {
                        assert!(
                            fc.get(i, j) == got.get(i, j),
                            "{ctx}: column storage ({i}, {j}) differs from in place"
                        );
                    }
                }
            }
        }
    }
}
per_type!(getrf_block_updates, getrf_block_updates_all);
