//! Tiled Cholesky: potrf, potrs, posv.

use super::blas3::{gemm_tile, trsm_async, trsm_tile};
use super::{check_finite_async, check_matrix, prio};
use crate::error::{Error, Result};
use crate::runtime::{Runtime, Sequence};
use crate::tile::TileMatrix;
#[allow(unused_imports)]
use faer::prelude::{Reborrow, ReborrowMut};
use tessera_kernels::{self as k, Diag, Op, Scalar, Side, Uplo};

/// Submits the tiled Cholesky factorization of the Hermitian positive definite `a`:
/// `A = L L^H` (Lower) or `A = U^H U` (Upper), in place (right-looking, Chameleon's
/// `pzpotrf` task graph). A non-positive pivot fails the sequence with
/// [`Error::NotPositiveDefinite`] (global order, 1-based).
pub fn potrf_async<T: Scalar>(seq: &Sequence, uplo: Uplo, a: &TileMatrix<T>) -> Result<()> {
    if a.m() != a.n() {
        return Err(Error::invalid(
            2,
            format!("potrf: A must be square (is {} x {})", a.m(), a.n()),
        ));
    }
    let nt = a.nt();
    let mt = a.mt();
    let w = T::DTYPE.flop_weight();
    let nb = a.nb();
    for kk in 0..nt {
        // Factor the diagonal tile.
        {
            let n = a.tile_rows(kk) as f64;
            let off = kk * nb;
            let mut t = seq
                .task("potrf")
                .priority(prio(kk, kk, mt))
                .on_rank(a.owner(kk, kk))
                .flops(w * n * n * n / 3.0);
            let mut wa = t.read_write(a.tile(kk, kk));
            t.submit(move |ctx| {
                k::potrf(uplo, wa.get_mut(ctx).as_mut())
                    .map_err(|j| Error::NotPositiveDefinite { order: off + j + 1 })
            })?;
        }
        let nbf = a.tile_rows(kk) as f64;
        match uplo {
            Uplo::Lower => {
                // A[m][k] = A[m][k] L[k][k]^-H
                for m in kk + 1..mt {
                    let f = w * nbf * nbf * a.tile_rows(m) as f64;
                    trsm_tile(
                        seq,
                        prio(m, kk, mt),
                        a.owner(m, kk),
                        Side::Right,
                        Uplo::Lower,
                        Op::ConjTrans,
                        Diag::NonUnit,
                        T::one(),
                        a.tile(kk, kk),
                        a.tile(m, kk),
                        f,
                    )?;
                }
                for n in kk + 1..nt {
                    // A[n][n] -= A[n][k] A[n][k]^H
                    let rn = a.tile_rows(n) as f64;
                    let mut t = seq
                        .task("herk")
                        .priority(prio(n, n, mt))
                        .on_rank(a.owner(n, n))
                        .flops(w * rn * rn * nbf);
                    let ra = t.read(a.tile(n, kk));
                    let mut wc = t.read_write(a.tile(n, n));
                    t.submit(move |ctx| {
                        k::herk(
                            Uplo::Lower,
                            Op::NoTrans,
                            -1.0,
                            ra.get(ctx).as_ref(),
                            1.0,
                            wc.get_mut(ctx).as_mut(),
                        );
                        Ok(())
                    })?;
                    for m in n + 1..mt {
                        let f = w * 2.0 * a.tile_rows(m) as f64 * rn * nbf;
                        gemm_tile(
                            seq,
                            prio(m, n, mt),
                            a.owner(m, n),
                            Op::NoTrans,
                            Op::ConjTrans,
                            -T::one(),
                            a.tile(m, kk),
                            a.tile(n, kk),
                            T::one(),
                            a.tile(m, n),
                            f,
                        )?;
                    }
                }
            }
            Uplo::Upper => {
                // A[k][n] = U[k][k]^-H A[k][n]
                for n in kk + 1..nt {
                    let f = w * nbf * nbf * a.tile_cols(n) as f64;
                    trsm_tile(
                        seq,
                        prio(kk, n, mt),
                        a.owner(kk, n),
                        Side::Left,
                        Uplo::Upper,
                        Op::ConjTrans,
                        Diag::NonUnit,
                        T::one(),
                        a.tile(kk, kk),
                        a.tile(kk, n),
                        f,
                    )?;
                }
                for m in kk + 1..mt {
                    // A[m][m] -= A[k][m]^H A[k][m]
                    let rm = a.tile_cols(m) as f64;
                    let mut t = seq
                        .task("herk")
                        .priority(prio(m, m, mt))
                        .on_rank(a.owner(m, m))
                        .flops(w * rm * rm * nbf);
                    let ra = t.read(a.tile(kk, m));
                    let mut wc = t.read_write(a.tile(m, m));
                    t.submit(move |ctx| {
                        k::herk(
                            Uplo::Upper,
                            Op::ConjTrans,
                            -1.0,
                            ra.get(ctx).as_ref(),
                            1.0,
                            wc.get_mut(ctx).as_mut(),
                        );
                        Ok(())
                    })?;
                    for n in m + 1..nt {
                        let f = w * 2.0 * rm * a.tile_cols(n) as f64 * nbf;
                        gemm_tile(
                            seq,
                            prio(m, n, mt),
                            a.owner(m, n),
                            Op::ConjTrans,
                            Op::NoTrans,
                            -T::one(),
                            a.tile(kk, m),
                            a.tile(kk, n),
                            T::one(),
                            a.tile(m, n),
                            f,
                        )?;
                    }
                }
            }
        }
        // This step's panel is read by this step's tasks only: drop the copies other
        // ranks received once they have run (see Sequence::flush).
        for i in kk..nt {
            let (r, c) = if uplo == Uplo::Lower {
                (i, kk)
            } else {
                (kk, i)
            };
            seq.flush(a.tile(r, c))?;
        }
    }
    Ok(())
}

/// Cholesky factorization of a tiled Hermitian positive definite matrix (LAPACK `xPOTRF`).
///
/// Only the `uplo` triangle is read and overwritten. Fails with
/// [`Error::NotPositiveDefinite`] (the order of the first leading minor that is not
/// positive definite) or [`Error::NotFinite`] if the triangle holds NaN or infinity.
///
/// ```
/// use tessera::{dense, runtime::Runtime, Uplo};
/// let rt = Runtime::with_default();
/// let a = dense::plghe::<f64>(&rt, 100.0, 200, 64, 7).unwrap();
/// dense::potrf(&rt, Uplo::Lower, &a).unwrap();
/// ```
pub fn potrf<T: Scalar>(rt: &Runtime, uplo: Uplo, a: &TileMatrix<T>) -> Result<()> {
    check_matrix(rt, a, "A")?;
    let seq = rt.sequence();
    check_finite_triangle_async(&seq, uplo, a)?;
    potrf_async(&seq, uplo, a)?;
    seq.wait()
}

/// The finiteness check of the `uplo` triangle only (the other one is not referenced).
pub(crate) fn check_finite_triangle_async<T: Scalar>(
    seq: &Sequence,
    uplo: Uplo,
    a: &TileMatrix<T>,
) -> Result<()> {
    let nb = a.nb();
    for j in 0..a.nt() {
        let rows = match uplo {
            Uplo::Lower => j..a.mt(),
            Uplo::Upper => 0..(j + 1).min(a.mt()),
        };
        for i in rows {
            let mut t = seq
                .task("check_finite")
                .priority(prio(i, j, a.mt()) + 1)
                .on_rank(a.owner(i, j));
            let r = t.read(a.tile(i, j));
            let diag = i == j;
            t.submit(move |ctx| {
                let tile = r.get(ctx).as_ref();
                let bad = if diag {
                    k::find_non_finite_triangle(uplo, tile)
                } else {
                    k::find_non_finite(tile)
                };
                match bad {
                    None => Ok(()),
                    Some((ii, jj)) => Err(Error::NotFinite {
                        arg: "A",
                        row: i * nb + ii,
                        col: j * nb + jj,
                    }),
                }
            })?;
        }
    }
    Ok(())
}

/// Submits the solve `A X = B` with the Cholesky factor computed by [`potrf_async`].
pub fn potrs_async<T: Scalar>(
    seq: &Sequence,
    uplo: Uplo,
    a: &TileMatrix<T>,
    b: &TileMatrix<T>,
) -> Result<()> {
    if a.m() != a.n() || b.m() != a.m() {
        return Err(Error::invalid(
            0,
            format!(
                "potrs: A is {} x {}, B is {} x {}",
                a.m(),
                a.n(),
                b.m(),
                b.n()
            ),
        ));
    }
    match uplo {
        Uplo::Lower => {
            trsm_async(
                seq,
                Side::Left,
                Uplo::Lower,
                Op::NoTrans,
                Diag::NonUnit,
                T::one(),
                a,
                b,
            )?;
            trsm_async(
                seq,
                Side::Left,
                Uplo::Lower,
                Op::ConjTrans,
                Diag::NonUnit,
                T::one(),
                a,
                b,
            )
        }
        Uplo::Upper => {
            trsm_async(
                seq,
                Side::Left,
                Uplo::Upper,
                Op::ConjTrans,
                Diag::NonUnit,
                T::one(),
                a,
                b,
            )?;
            trsm_async(
                seq,
                Side::Left,
                Uplo::Upper,
                Op::NoTrans,
                Diag::NonUnit,
                T::one(),
                a,
                b,
            )
        }
    }
}

/// Solves `A X = B` with the factor from [`potrf`] (LAPACK `xPOTRS`); `B` is overwritten.
pub fn potrs<T: Scalar>(
    rt: &Runtime,
    uplo: Uplo,
    a: &TileMatrix<T>,
    b: &TileMatrix<T>,
) -> Result<()> {
    check_matrix(rt, a, "A")?;
    check_matrix(rt, b, "B")?;
    let seq = rt.sequence();
    potrs_async(&seq, uplo, a, b)?;
    seq.wait()
}

/// Factors `A` and solves `A X = B` (LAPACK `xPOSV`); `A` holds the factor and `B` the
/// solution on return. The solve is not run if the factorization fails.
pub fn posv<T: Scalar>(
    rt: &Runtime,
    uplo: Uplo,
    a: &TileMatrix<T>,
    b: &TileMatrix<T>,
) -> Result<()> {
    check_matrix(rt, a, "A")?;
    check_matrix(rt, b, "B")?;
    if b.m() != a.m() {
        return Err(Error::invalid(
            0,
            format!(
                "posv: A is {} x {}, B is {} x {}",
                a.m(),
                a.n(),
                b.m(),
                b.n()
            ),
        ));
    }
    let seq = rt.sequence();
    check_finite_triangle_async(&seq, uplo, a)?;
    check_finite_async(&seq, b, "B")?;
    potrf_async(&seq, uplo, a)?;
    // Wait before the solve: its first tasks only need the leading tiles of the factor and
    // would otherwise start (and modify B) before a failing pivot further down is found.
    seq.wait()?;
    potrs_async(&seq, uplo, a, b)?;
    seq.wait()
}
