//! Tiled norms: lange (general), lansy / lanhe (symmetric / Hermitian, one triangle stored).

use super::check_matrix;
use crate::error::{Error, Result};
use crate::runtime::{Handle, Runtime};
use crate::tile::TileMatrix;
#[allow(unused_imports)]
use faer::prelude::{Reborrow, ReborrowMut};
use tessera_kernels::{self as k, Norm, PartialNorm, Scalar, Uplo};

/// The norm of a general tile matrix (LAPACK `xLANGE`).
///
/// ```
/// use tessera::{dense, runtime::Runtime, Norm};
/// let rt = Runtime::with_default();
/// let a = dense::plrnt::<f64>(&rt, 10, 10, 4, 1).unwrap();
/// assert!(dense::lange(&rt, Norm::Max, &a).unwrap() <= 0.5);
/// ```
pub fn lange<T: Scalar>(rt: &Runtime, norm: Norm, a: &TileMatrix<T>) -> Result<f64> {
    norm_impl(rt, norm, None, false, a)
}

/// The norm of a symmetric matrix stored in its `uplo` triangle (LAPACK `xLANSY`).
pub fn lansy<T: Scalar>(rt: &Runtime, norm: Norm, uplo: Uplo, a: &TileMatrix<T>) -> Result<f64> {
    norm_impl(rt, norm, Some(uplo), false, a)
}

/// The norm of a Hermitian matrix stored in its `uplo` triangle (LAPACK `xLANHE`). Equal
/// to [`lansy`] except that the diagonal's imaginary parts are taken as zero, as LAPACK does.
pub fn lanhe<T: Scalar>(rt: &Runtime, norm: Norm, uplo: Uplo, a: &TileMatrix<T>) -> Result<f64> {
    // Moduli are the same for A(i, j) and conj(A(i, j)); only the diagonal differs.
    norm_impl(rt, norm, Some(uplo), true, a)
}

fn norm_impl<T: Scalar>(
    rt: &Runtime,
    norm: Norm,
    sym: Option<Uplo>,
    herm: bool,
    a: &TileMatrix<T>,
) -> Result<f64> {
    check_matrix(rt, a, "A")?;
    if sym.is_some() && a.m() != a.n() {
        return Err(Error::invalid(0, "symmetric norm of a non-square matrix"));
    }
    if a.m() == 0 || a.n() == 0 {
        return Ok(0.0);
    }
    let seq = rt.sequence();
    // (tile row, tile col, mirrored, partial, partial of the transpose for One/Inf)
    type Part = NormPart;
    let mut parts: Vec<(usize, usize, bool, Handle<Part>)> = Vec::new();
    for j in 0..a.nt() {
        for i in 0..a.mt() {
            let (tri, mirror) = match sym {
                None => (None, false),
                Some(uplo) => {
                    let inside = if uplo == Uplo::Lower { i >= j } else { i <= j };
                    if !inside {
                        continue;
                    }
                    if i == j {
                        (Some(uplo), false)
                    } else {
                        (None, true)
                    }
                }
            };
            let out = Handle::new_wire(NormPart(PartialNorm::Max(0.0), None), 0);
            let mut t = seq.task("norm").on_rank(a.owner(i, j));
            let r = t.read(a.tile(i, j));
            let mut w = t.write(&out);
            t.submit(move |ctx| {
                let tile = r.get(ctx).as_ref();
                let p = match tri {
                    Some(u) if herm => k::tile_norm_hermitian(norm, u, tile),
                    _ => k::tile_norm(norm, tri, tile),
                };
                // A mirrored tile also stands for its transpose: its row sums there are
                // this tile's column sums and vice versa.
                let q = match (mirror, norm) {
                    (true, Norm::One) => Some(k::tile_norm(Norm::Inf, None, tile)),
                    (true, Norm::Inf) => Some(k::tile_norm(Norm::One, None, tile)),
                    _ => None,
                };
                *w.get_mut(ctx) = NormPart(p, q);
                Ok(())
            })?;
            parts.push((i, j, mirror, out));
        }
    }
    if rt.nranks() > 1 {
        // Every rank combines every partial result: a task on every rank reads them all.
        let mut t = seq.task("norm_gather");
        let _toks: Vec<_> = parts.iter().map(|p| t.read(&p.3)).collect();
        t.submit(|_| Ok(()))?;
    }
    seq.wait()?;
    drop(seq);
    let (mb, nb) = (a.mb(), a.nb());
    let mut colsums = vec![0.0; a.n()];
    let mut rowsums = vec![0.0; a.m()];
    let mut max: f64 = 0.0;
    let mut ssq = (0.0, 1.0);
    for (i, j, mirror, h) in parts {
        let NormPart(p, q) = h
            .into_inner()
            .map_err(|_| Error::Runtime("norm result still shared".into()))?;
        for (p, transposed) in [(Some(p), false), (q, true)] {
            let (bi, bj) = if transposed { (j, i) } else { (i, j) };
            match p {
                None => {}
                Some(PartialNorm::Max(v)) if v > max || v.is_nan() => max = v,
                Some(PartialNorm::Max(_)) => {}
                Some(PartialNorm::ColSums(c)) if !transposed => c
                    .iter()
                    .enumerate()
                    .for_each(|(x, v)| colsums[bj * nb + x] += v),
                // Row sums of the tile are the column sums of its transpose at (j, i).
                Some(PartialNorm::RowSums(r)) if transposed => r
                    .iter()
                    .enumerate()
                    .for_each(|(x, v)| colsums[bj * nb + x] += v),
                Some(PartialNorm::RowSums(r)) => r
                    .iter()
                    .enumerate()
                    .for_each(|(x, v)| rowsums[bi * mb + x] += v),
                Some(PartialNorm::ColSums(c)) => c
                    .iter()
                    .enumerate()
                    .for_each(|(x, v)| rowsums[bi * mb + x] += v),
                Some(PartialNorm::Ssq { scale, sumsq }) => {
                    let w = if mirror { 2.0 } else { 1.0 };
                    ssq = k::ssq_combine(ssq, (scale, sumsq * w));
                }
            }
        }
    }
    Ok(match norm {
        Norm::Max => max,
        Norm::One => colsums.into_iter().fold(0.0, f64::max),
        Norm::Inf => rowsums.into_iter().fold(0.0, f64::max),
        Norm::Frobenius => ssq.0 * ssq.1.sqrt(),
    })
}

/// One tile's partial norm, and that of its transpose for mirrored tiles.
struct NormPart(PartialNorm, Option<PartialNorm>);

fn put_part(p: &PartialNorm, out: &mut Vec<u8>) {
    let put = |out: &mut Vec<u8>, v: f64| out.extend_from_slice(&v.to_le_bytes());
    match p {
        PartialNorm::Max(v) => {
            out.push(0);
            put(out, *v);
        }
        PartialNorm::ColSums(c) | PartialNorm::RowSums(c) => {
            out.push(if matches!(p, PartialNorm::ColSums(_)) {
                1
            } else {
                2
            });
            out.extend_from_slice(&(c.len() as u64).to_le_bytes());
            c.iter().for_each(|&v| put(out, v));
        }
        PartialNorm::Ssq { scale, sumsq } => {
            out.push(3);
            put(out, *scale);
            put(out, *sumsq);
        }
    }
}

fn get_part(b: &[u8], at: &mut usize) -> Result<PartialNorm> {
    let kind = *b
        .get(*at)
        .ok_or_else(|| Error::Runtime("truncated norm message".into()))?;
    *at += 1;
    let mut f = || -> Result<f64> {
        let s = b
            .get(*at..*at + 8)
            .ok_or_else(|| Error::Runtime("truncated norm message".into()))?;
        *at += 8;
        Ok(f64::from_le_bytes(s.try_into().unwrap()))
    };
    Ok(match kind {
        0 => PartialNorm::Max(f()?),
        1 | 2 => {
            let n = f()?.to_bits() as usize;
            let v = (0..n).map(|_| f()).collect::<Result<Vec<f64>>>()?;
            if kind == 1 {
                PartialNorm::ColSums(v)
            } else {
                PartialNorm::RowSums(v)
            }
        }
        _ => PartialNorm::Ssq {
            scale: f()?,
            sumsq: f()?,
        },
    })
}

impl crate::runtime::Wire for NormPart {
    fn encode(&self, out: &mut Vec<u8>) {
        put_part(&self.0, out);
        match &self.1 {
            None => out.push(0),
            Some(q) => {
                out.push(1);
                put_part(q, out);
            }
        }
    }
    fn decode(&mut self, b: &[u8]) -> Result<()> {
        let mut at = 0;
        self.0 = get_part(b, &mut at)?;
        self.1 = match b.get(at) {
            Some(1) => {
                at += 1;
                Some(get_part(b, &mut at)?)
            }
            _ => None,
        };
        Ok(())
    }
}
