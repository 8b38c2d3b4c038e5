//! Distributed execution with ranks as runtimes of one process ([`LocalTransport`]): the
//! same code paths as MPI (owner computes, transfers, caches, error agreement), checked
//! against single-process runs. Under MPI the same checks run from `tests/mpi.rs`.

use faer::Mat;
use std::sync::Arc;
use tessera::dense;
use tessera::runtime::{Handle, LocalTransport, Runtime, RuntimeConfig, Sequence};
use tessera::tile::{BlockCyclic2D, Distribution, SymmetricBlockCyclic, TileMatrix};
use tessera::{Error, Op, Uplo};

/// Runs `f` on `n` ranks (threads), each with its own runtime of `workers` workers.
fn on_ranks<R: Send + 'static>(
    n: usize,
    workers: usize,
    f: impl Fn(&Runtime) -> R + Send + Sync + 'static,
) -> Vec<R> {
    let f = Arc::new(f);
    let handles: Vec<_> = LocalTransport::group(n)
        .into_iter()
        .map(|t| {
            let f = f.clone();
            std::thread::spawn(move || {
                let rt = Runtime::new(RuntimeConfig::with_workers(workers).transport(t));
                f(&rt)
            })
        })
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).collect()
}

fn gather(rt: &Runtime, a: &TileMatrix<f64>) -> Option<Mat<f64>> {
    if rt.rank() == 0 {
        let mut m = Mat::zeros(a.m(), a.n());
        a.gather(rt, 0, Some(m.as_mut())).unwrap();
        Some(m)
    } else {
        a.gather(rt, 0, None).unwrap();
        None
    }
}

fn single_rank<R>(f: impl FnOnce(&Runtime) -> R) -> R {
    f(&Runtime::new(RuntimeConfig::with_workers(2)))
}

fn same_bits(a: &Mat<f64>, b: &Mat<f64>, lower_only: bool) -> bool {
    (0..a.ncols()).all(|j| {
        (0..a.nrows())
            .filter(|&i| !lower_only || i >= j)
            .all(|i| a[(i, j)].to_bits() == b[(i, j)].to_bits())
    })
}

fn dists(n: usize) -> Vec<Arc<dyn Distribution>> {
    let mut v: Vec<Arc<dyn Distribution>> = Vec::new();
    for p in 1..=n {
        if n % p == 0 {
            v.push(Arc::new(BlockCyclic2D::new(p, n / p)));
        }
    }
    if let Some(s) = SymmetricBlockCyclic::for_ranks(n) {
        v.push(Arc::new(s));
    }
    v
}

#[test]
fn potrf_matches_one_process_bitwise() {
    let (n, nb) = (330, 64);
    let reference = single_rank(|rt| {
        let a = dense::plghe::<f64>(rt, n as f64, n, nb, 11).unwrap();
        dense::potrf(rt, Uplo::Lower, &a).unwrap();
        a.to_mat(rt).unwrap()
    });
    for ranks in [2, 3, 4] {
        for d in dists(ranks) {
            let label = format!("{d:?} on {ranks} ranks");
            let spans = d.nranks();
            let out = on_ranks(ranks, 1, move |rt| {
                let a = dense::plghe_on::<f64>(rt, n as f64, n, nb, 11, d.clone()).unwrap();
                dense::potrf(rt, Uplo::Lower, &a).unwrap();
                (gather(rt, &a), rt.comm_bytes())
            });
            let got = out[0].0.as_ref().unwrap();
            assert!(same_bits(got, &reference, true), "{label}");
            if ranks > 1 && spans > 1 {
                let sent: u64 = out.iter().map(|o| o.1 .0).sum();
                let received: u64 = out.iter().map(|o| o.1 .1).sum();
                assert_eq!(sent, received, "{label}");
                assert!(sent > 0, "{label}");
            }
        }
    }
}

#[test]
fn getrf_and_gesv_match_one_process_bitwise() {
    let (n, nb) = (300, 48);
    let (reference, ref_ipiv, ref_x) = single_rank(|rt| {
        let a = dense::plrnt::<f64>(rt, n, n, nb, 5).unwrap();
        let b = dense::plrnt::<f64>(rt, n, 3, nb, 6).unwrap();
        let mut ipiv = vec![0; n];
        dense::getrf(rt, &a, &mut ipiv).unwrap();
        dense::getrs(rt, Op::NoTrans, &a, &ipiv, &b).unwrap();
        (a.to_mat(rt).unwrap(), ipiv, b.to_mat(rt).unwrap())
    });
    for (p, q) in [(1, 2), (2, 1), (2, 2), (1, 3)] {
        let out = on_ranks(p * q, 1, move |rt| {
            let d: Arc<dyn Distribution> = Arc::new(BlockCyclic2D::new(p, q));
            let a = dense::plrnt_on::<f64>(rt, n, n, nb, 5, d.clone()).unwrap();
            let b = dense::plrnt_on::<f64>(rt, n, 3, nb, 6, d).unwrap();
            let mut ipiv = vec![0; n];
            dense::getrf(rt, &a, &mut ipiv).unwrap();
            dense::getrs(rt, Op::NoTrans, &a, &ipiv, &b).unwrap();
            (gather(rt, &a), gather(rt, &b), ipiv)
        });
        for o in &out {
            assert_eq!(o.2, ref_ipiv, "{p}x{q}: every rank has the pivots");
        }
        assert!(
            same_bits(out[0].0.as_ref().unwrap(), &reference, false),
            "{p}x{q}"
        );
        assert!(
            same_bits(out[0].1.as_ref().unwrap(), &ref_x, false),
            "{p}x{q}"
        );
    }
}

#[test]
fn gemm_gels_and_norms_match_one_process() {
    let (m, n, nb) = (260, 150, 40);
    let reference = single_rank(|rt| {
        let a = dense::plrnt::<f64>(rt, m, n, nb, 1).unwrap();
        let b = dense::plrnt::<f64>(rt, n, m, nb, 2).unwrap();
        let c = dense::plrnt::<f64>(rt, m, m, nb, 3).unwrap();
        dense::gemm(rt, Op::NoTrans, Op::NoTrans, 1.5, &a, &b, -0.5, &c).unwrap();
        let norms: Vec<f64> = [
            tessera::Norm::One,
            tessera::Norm::Inf,
            tessera::Norm::Frobenius,
            tessera::Norm::Max,
        ]
        .iter()
        .map(|&k| dense::lange(rt, k, &c).unwrap())
        .collect();
        let x = dense::plrnt::<f64>(rt, m, 2, nb, 4).unwrap();
        dense::gels(rt, &a, &x).unwrap();
        (c.to_mat(rt).unwrap(), norms, x.to_mat(rt).unwrap())
    });
    for (p, q) in [(2, 2), (1, 2)] {
        let out = on_ranks(p * q, 1, move |rt| {
            let d: Arc<dyn Distribution> = Arc::new(BlockCyclic2D::new(p, q));
            let a = dense::plrnt_on::<f64>(rt, m, n, nb, 1, d.clone()).unwrap();
            let b = dense::plrnt_on::<f64>(rt, n, m, nb, 2, d.clone()).unwrap();
            let c = dense::plrnt_on::<f64>(rt, m, m, nb, 3, d.clone()).unwrap();
            dense::gemm(rt, Op::NoTrans, Op::NoTrans, 1.5, &a, &b, -0.5, &c).unwrap();
            let norms: Vec<f64> = [
                tessera::Norm::One,
                tessera::Norm::Inf,
                tessera::Norm::Frobenius,
                tessera::Norm::Max,
            ]
            .iter()
            .map(|&k| dense::lange(rt, k, &c).unwrap())
            .collect();
            let x = dense::plrnt_on::<f64>(rt, m, 2, nb, 4, d).unwrap();
            dense::gels(rt, &a, &x).unwrap();
            (gather(rt, &c), norms, gather(rt, &x))
        });
        assert!(
            same_bits(out[0].0.as_ref().unwrap(), &reference.0, false),
            "{p}x{q} gemm"
        );
        for o in &out {
            for (x, y) in o.1.iter().zip(&reference.1) {
                assert!((x - y).abs() <= 1e-13 * y.abs(), "{p}x{q} norm {x} vs {y}");
            }
        }
        let x = out[0].2.as_ref().unwrap();
        for j in 0..2 {
            for i in 0..n {
                let (u, v) = (x[(i, j)], reference.2[(i, j)]);
                assert!(
                    (u - v).abs() <= 1e-12 * (1.0 + v.abs()),
                    "{p}x{q} gels {u} vs {v}"
                );
            }
        }
    }
}

#[test]
fn scatter_and_gather_round_trip() {
    let (m, n) = (123, 77);
    let src = Mat::<f64>::from_fn(m, n, |i, j| (i * 1000 + j) as f64);
    let out = on_ranks(3, 1, move |rt| {
        let d: Arc<dyn Distribution> = Arc::new(BlockCyclic2D::new(1, 3));
        let a = if rt.rank() == 1 {
            TileMatrix::scatter(rt, 1, Some(src.as_ref()), (m, n), 32, 32, d)
        } else {
            TileMatrix::scatter(rt, 1, None, (m, n), 32, 32, d)
        }
        .unwrap();
        // Each rank holds only its own tiles.
        gather(rt, &a)
    });
    let got = out[0].as_ref().unwrap();
    for j in 0..n {
        for i in 0..m {
            assert_eq!(got[(i, j)], (i * 1000 + j) as f64);
        }
    }
}

#[test]
fn a_failure_on_one_rank_reaches_every_rank() {
    // Not positive definite at order 200: the failing diagonal tile lives on one rank.
    let (n, nb) = (256, 32);
    for ranks in [2, 4] {
        let out = on_ranks(ranks, 1, move |rt| {
            let d: Arc<dyn Distribution> = Arc::new(BlockCyclic2D::new(ranks / 2, 2));
            let a = dense::plghe_on::<f64>(rt, n as f64, n, nb, 3, d.clone()).unwrap();
            // Make A(199, 199) hugely negative through a rank-local task on its owner.
            let seq = rt.sequence();
            let (ti, off) = (199 / nb, 199 % nb);
            let mut t = seq.task("poison").on_rank(a.owner(ti, ti));
            let mut w = t.read_write(a.tile(ti, ti));
            t.submit(move |ctx| {
                w.get_mut(ctx).col_mut(off)[off] = -1e6;
                Ok(())
            })
            .unwrap();
            seq.wait().unwrap();
            drop(seq);
            dense::potrf(rt, Uplo::Lower, &a)
        });
        for (r, o) in out.iter().enumerate() {
            match o {
                Err(Error::NotPositiveDefinite { order }) => assert_eq!(*order, 200, "rank {r}"),
                other => panic!("rank {r} of {ranks}: {other:?}"),
            }
        }
    }
}

#[test]
fn sbc_sends_fewer_bytes_than_2dbc_for_cholesky() {
    let (n, nb) = (960, 64);
    let bytes = |d: Arc<dyn Distribution>, ranks: usize| -> u64 {
        on_ranks(ranks, 1, move |rt| {
            let a = dense::plghe_on::<f64>(rt, n as f64, n, nb, 2, d.clone()).unwrap();
            let before = rt.comm_bytes().0;
            dense::potrf(rt, Uplo::Lower, &a).unwrap();
            rt.comm_bytes().0 - before
        })
        .iter()
        .sum()
    };
    for (ranks, p, q) in [(3, 1, 3), (6, 2, 3)] {
        let sbc = bytes(
            Arc::new(SymmetricBlockCyclic::for_ranks(ranks).unwrap()),
            ranks,
        );
        let bc = bytes(Arc::new(BlockCyclic2D::new(p, q)), ranks);
        assert!(
            sbc < bc,
            "{ranks} ranks: SBC {sbc} bytes, 2DBC {p}x{q} {bc} bytes"
        );
    }
}

/// Runs getrf of an `m x n` random matrix (zero column `zero_col` if given) on `ranks`
/// ranks with distribution `d`: the gathered factors, the pivots, the result, and the
/// bytes each rank sent.
#[allow(clippy::type_complexity)]
fn getrf_on<T: tessera::Scalar>(
    ranks: usize,
    d: Arc<dyn Distribution>,
    (m, n, nb): (usize, usize, usize),
    zero_col: Option<usize>,
) -> Vec<(Option<Mat<T>>, Vec<usize>, Result<(), Error>, u64)> {
    on_ranks(ranks, 1, move |rt| {
        let a = dense::plrnt_on::<T>(rt, m, n, nb, 9, d.clone()).unwrap();
        if let Some(c) = zero_col {
            zero_column(rt, &a, c);
        }
        let before = rt.comm_bytes().0;
        let mut ipiv = vec![0; m.min(n)];
        let res = dense::getrf(rt, &a, &mut ipiv);
        let sent = rt.comm_bytes().0 - before;
        let full = if rt.rank() == 0 {
            let mut f = Mat::zeros(m, n);
            a.gather(rt, 0, Some(f.as_mut())).unwrap();
            Some(f)
        } else {
            a.gather(rt, 0, None).unwrap();
            None
        };
        (full, ipiv, res, sent)
    })
}

/// Sets column `c` of `a` to zero, on the ranks that own its tiles.
fn zero_column<T: tessera::Scalar>(rt: &Runtime, a: &TileMatrix<T>, c: usize) {
    let seq = rt.sequence();
    let (tj, off) = (c / a.nb(), c % a.nb());
    for i in 0..a.mt() {
        let mut t = seq.task("zero").on_rank(a.owner(i, tj));
        let mut w = t.read_write(a.tile(i, tj));
        t.submit(move |ctx| {
            w.get_mut(ctx).col_mut(off).fill(T::zero());
            Ok(())
        })
        .unwrap();
    }
    seq.wait().unwrap();
}

fn same_bits_t<T: tessera::Scalar>(a: &Mat<T>, b: &Mat<T>) -> bool {
    (0..a.ncols()).all(|j| (0..a.nrows()).all(|i| a[(i, j)] == b[(i, j)]))
}

#[test]
fn getrf_with_columns_on_several_ranks_matches_one_process() {
    // Tile columns split over 2, 3 and 4 ranks (P > 1, and the symmetric distribution),
    // square and rectangular, with a zero column (a zero pivot): same factors, pivots
    // and error as one process.
    fn check<T: tessera::Scalar>(shape: (usize, usize, usize), zero_col: Option<usize>) {
        let (m, n, nb) = shape;
        let reference = single_rank(move |rt| {
            let a = dense::plrnt::<T>(rt, m, n, nb, 9).unwrap();
            if let Some(c) = zero_col {
                zero_column(rt, &a, c);
            }
            let mut ipiv = vec![0; m.min(n)];
            let res = dense::getrf(rt, &a, &mut ipiv);
            (a.to_mat(rt).unwrap(), ipiv, res)
        });
        let mut grids: Vec<(usize, Arc<dyn Distribution>)> = vec![
            (2, Arc::new(BlockCyclic2D::new(2, 1))),
            (3, Arc::new(BlockCyclic2D::new(3, 1))),
            (4, Arc::new(BlockCyclic2D::new(2, 2))),
        ];
        grids.push((3, Arc::new(SymmetricBlockCyclic::for_ranks(3).unwrap())));
        for (ranks, d) in grids {
            let label = format!("{d:?} {m}x{n} nb {nb} zero column {zero_col:?}");
            let out = getrf_on::<T>(ranks, d, shape, zero_col);
            for (r, o) in out.iter().enumerate() {
                assert_eq!(o.1, reference.1, "{label}: pivots on rank {r}");
                assert_eq!(o.2, reference.2, "{label}: result on rank {r}");
            }
            assert!(
                same_bits_t(out[0].0.as_ref().unwrap(), &reference.0),
                "{label}: factors"
            );
        }
    }
    check::<f64>((300, 300, 32), None);
    check::<f64>((330, 200, 32), None);
    check::<f64>((200, 330, 32), None);
    check::<f64>((260, 260, 32), Some(70));
    check::<tessera::c64>((190, 190, 24), None);
    check::<f32>((190, 170, 24), Some(5));
}

#[test]
fn getrf_on_p_by_1_moves_rows_not_columns() {
    // On 2 x 1 what travels is each U tile to the other rank, the interchanged rows (a
    // rank sends at most nb per panel) and one candidate row per rank and panel column.
    // Moving whole tile columns for the interchanges (as LU did before) sends, by count,
    // about 45 MB per rank here (each panel's trailing columns to their top tile's rank and
    // back), against this bound of about 22 MB and a measured 10 MB.
    let (n, nb) = (1280usize, 64usize);
    let kt = n / nb;
    let per_rank = |p: usize, q: usize| -> Vec<u64> {
        getrf_on::<f64>(2, Arc::new(BlockCyclic2D::new(p, q)), (n, n, nb), None)
            .iter()
            .map(|o| o.3)
            .collect()
    };
    let (tall, wide) = (per_rank(2, 1), per_rank(1, 2));
    let tile = (nb * nb * 8 + 64) as u64;
    let u_tiles = (kt * (kt - 1) / 2) as u64 * tile;
    let swaps = (kt * nb * n * 8) as u64;
    let panel = (n * (2 * nb * 8 + 64)) as u64;
    let bound = u_tiles + swaps + panel + (kt * kt * 1024) as u64;
    println!("getrf {n} nb {nb}: 2x1 sent {tall:?} bytes, 1x2 {wide:?}, 2x1 bound {bound}");
    for b in tall {
        assert!(b <= bound, "2x1 sent {b} bytes, bound {bound}");
    }
}

#[test]
fn getrf_panel_member_failure_reaches_every_rank() {
    // A task that fails on rank 1 before getrf, unwaited: the panel's member on rank 1 is
    // skipped, its group aborts, and every rank returns an error (none hangs).
    let (n, nb) = (256, 32);
    let out = on_ranks(2, 1, move |rt| {
        let d: Arc<dyn Distribution> = Arc::new(BlockCyclic2D::new(2, 1));
        let a = dense::plrnt_on::<f64>(rt, n, n, nb, 4, d).unwrap();
        let seq = rt.sequence();
        let mut t = seq.task("fail").on_rank(a.owner(1, 0));
        let _w = t.read_write(a.tile(1, 0));
        t.submit(|_| {
            std::thread::sleep(std::time::Duration::from_millis(50));
            Err(Error::Runtime("injected".into()))
        })
        .unwrap();
        let mut ipiv = vec![0; n];
        let res = dense::getrf(rt, &a, &mut ipiv);
        let _ = seq.wait();
        res
    });
    for (r, o) in out.iter().enumerate() {
        assert!(o.is_err(), "rank {r}: {o:?}");
    }
}

#[test]
fn distributed_solves_move_vectors_not_the_factor() {
    // A solve with a few right-hand sides forms each update's product on the rank that owns
    // the factor's tile and sends the product (nb x nrhs), never the tile (nb x nb): what
    // travels is at most the diagonal tiles (to the ranks holding the right-hand side) and
    // vectors. Pulling the off-diagonal factor tiles to the right-hand side's owner, as the
    // fused update did, sends about 1.8 MB per solve here.
    let (n, nb, nrhs) = (960usize, 64usize, 2usize);
    let kt = n / nb;
    let tile = (nb * nb * 8 + 64) as u64;
    let vec = (nb * nrhs * 8 + 64) as u64;
    for (p, q) in [(1, 2), (2, 1)] {
        let out = on_ranks(2, 1, move |rt| {
            let d: Arc<dyn Distribution> = Arc::new(BlockCyclic2D::new(p, q));
            let a = dense::plrnt_on::<f64>(rt, n, n, nb, 5, d.clone()).unwrap();
            let b = dense::plrnt_on::<f64>(rt, n, nrhs, nb, 6, d.clone()).unwrap();
            let spd = dense::plghe_on::<f64>(rt, n as f64, n, nb, 7, d.clone()).unwrap();
            let c = dense::plrnt_on::<f64>(rt, n, nrhs, nb, 6, d).unwrap();
            let mut ipiv = vec![0; n];
            dense::getrf(rt, &a, &mut ipiv).unwrap();
            dense::potrf(rt, Uplo::Lower, &spd).unwrap();
            let before = rt.comm_bytes().0;
            dense::getrs(rt, Op::NoTrans, &a, &ipiv, &b).unwrap();
            let lu = rt.comm_bytes().0 - before;
            let before = rt.comm_bytes().0;
            dense::potrs(rt, Uplo::Lower, &spd, &c).unwrap();
            (lu, rt.comm_bytes().0 - before)
        });
        let (lu, chol): (u64, u64) = (out.iter().map(|o| o.0).sum(), out.iter().map(|o| o.1).sum());
        // Two triangular solves: each diagonal tile at most once to the other rank, each
        // update's product and each solved block at most once each way; the interchanges
        // of the right-hand side move rows of it.
        let bound =
            2 * kt as u64 * tile + 2 * (kt * kt) as u64 * 2 * vec + (n * nrhs * 8 * 2) as u64;
        println!("{p}x{q}: getrs sent {lu} bytes, potrs {chol}, bound {bound}");
        assert!(lu <= bound, "{p}x{q}: getrs sent {lu} bytes, bound {bound}");
        assert!(
            chol <= bound,
            "{p}x{q}: potrs sent {chol} bytes, bound {bound}"
        );
    }
}

/// LU on column storage (each rank's tiles in one column-major array): on grids with one
/// process row, blocks of columns are updated with one call and the `L` a rank receives
/// is gathered for it; grids with several process rows take the per-tile path on the same
/// storage. Pivots, factors and solutions are those of one process (to rounding: the
/// products are cut differently), and the solution solves the system.
#[test]
fn getrf_on_column_storage_matches_one_process() {
    let (n, nb) = (26 * 8 + 5, 8);
    let mut opts = dense::LuOptions::default();
    opts.update_block_columns = 2 * nb;
    let run = move |rt: &Runtime, p: usize, q: usize| {
        let d: Arc<dyn Distribution> = Arc::new(BlockCyclic2D::new(p, q));
        let a = TileMatrix::<f64>::new_distributed_col_major(rt, n, n, nb, nb, d.clone()).unwrap();
        assert!(a.columns_stacked());
        dense::plrnt_fill(rt, &a, 5).unwrap();
        let b = dense::plrnt_on::<f64>(rt, n, 2, nb, 6, d).unwrap();
        let mut ipiv = vec![0; n];
        dense::getrf_with(rt, &a, &mut ipiv, opts).unwrap();
        dense::getrs(rt, Op::NoTrans, &a, &ipiv, &b).unwrap();
        (gather(rt, &a), gather(rt, &b), ipiv)
    };
    let (reference, ref_x, ref_ipiv) = single_rank(|rt| {
        let (a, x, ipiv) = run(rt, 1, 1);
        (a.unwrap(), x.unwrap(), ipiv)
    });
    // The solution solves the system.
    let a0 = Mat::<f64>::from_fn(n, n, |i, j| dense::random_value(5, i, j));
    let b0 = Mat::<f64>::from_fn(n, 2, |i, j| dense::random_value(6, i, j));
    let r = &a0 * &ref_x - &b0;
    assert!(
        r.norm_max() < 1e-9 * (a0.norm_max() * ref_x.norm_max() * n as f64),
        "residual {}",
        r.norm_max()
    );
    for (p, q) in [(2, 1), (1, 2), (1, 3), (2, 2)] {
        let out = on_ranks(p * q, 1, move |rt| run(rt, p, q));
        for o in &out {
            assert_eq!(o.2, ref_ipiv, "{p}x{q}: pivots");
        }
        let (f, x) = (out[0].0.as_ref().unwrap(), out[0].1.as_ref().unwrap());
        let df = (f - &reference).norm_max();
        let dx = (x - &ref_x).norm_max();
        assert!(
            df <= 1e-12 * reference.norm_max(),
            "{p}x{q}: factors differ by {df}"
        );
        assert!(
            dx <= 1e-10 * ref_x.norm_max(),
            "{p}x{q}: solutions differ by {dx}"
        );
        eprintln!("{p}x{q}: factors differ by {df:e}, solutions by {dx:e}");
    }
}

/// HPL's solve (B factored along with A, then the solve with U only) on every grid shape
/// and both storages: the same pivots and solution as one process, and the solution
/// solves the system. On grids with several process rows the right-hand side's rows live
/// on several ranks, which takes the per-tile path of its update.
#[test]
fn gesv_fused_matches_one_process() {
    let (n, nb) = (26 * 8 + 5, 8);
    let run = move |rt: &Runtime, p: usize, q: usize, columns: bool| {
        let d: Arc<dyn Distribution> = Arc::new(BlockCyclic2D::new(p, q));
        let a = if columns {
            TileMatrix::<f64>::new_distributed_col_major(rt, n, n, nb, nb, d.clone()).unwrap()
        } else {
            TileMatrix::<f64>::new_distributed(rt, n, n, nb, nb, d.clone()).unwrap()
        };
        dense::plrnt_fill(rt, &a, 5).unwrap();
        // Eleven columns: two tile columns of B.
        let b = dense::plrnt_on::<f64>(rt, n, 11, nb, 6, d).unwrap();
        let mut ipiv = vec![0; n];
        dense::gesv_fused(rt, &a, &mut ipiv, &b).unwrap();
        (gather(rt, &b), ipiv)
    };
    let (ref_x, ref_ipiv) = single_rank(|rt| {
        let (x, ipiv) = run(rt, 1, 1, false);
        (x.unwrap(), ipiv)
    });
    let a0 = Mat::<f64>::from_fn(n, n, |i, j| dense::random_value(5, i, j));
    let b0 = Mat::<f64>::from_fn(n, 11, |i, j| dense::random_value(6, i, j));
    let r = &a0 * &ref_x - &b0;
    assert!(
        r.norm_max() < 1e-12 * (a0.norm_max() * ref_x.norm_max() * n as f64),
        "residual {}",
        r.norm_max()
    );
    // The pivots are getrf's.
    let mut ipiv = vec![0; n];
    single_rank(|rt| {
        let a = TileMatrix::from_col_major(rt, a0.as_ref(), nb, nb).unwrap();
        dense::getrf(rt, &a, &mut ipiv).unwrap();
    });
    assert_eq!(ipiv, ref_ipiv, "pivots of getrf");
    for (p, q) in [(2, 1), (1, 2), (1, 3), (2, 2)] {
        for columns in [false, true] {
            let out = on_ranks(p * q, 1, move |rt| run(rt, p, q, columns));
            for o in &out {
                assert_eq!(o.1, ref_ipiv, "{p}x{q}: pivots");
            }
            let x = out[0].0.as_ref().unwrap();
            let dx = (x - &ref_x).norm_max();
            assert!(
                dx <= 1e-10 * ref_x.norm_max(),
                "{p}x{q} (column storage: {columns}): solutions differ by {dx}"
            );
        }
    }
}

/// `Sequence::flush` drops a copy where it was received: a later reader there receives it
/// again, while the rank that wrote it keeps it (its readers move nothing), and without a
/// flush a second reader uses the copy already there.
#[test]
fn flush_drops_received_copies() {
    let out = on_ranks(2, 1, |rt| {
        let seq = rt.sequence();
        let h: Handle<Vec<usize>> = Handle::new_wire(Vec::new(), 0);
        let mut t = seq.task("write").on_rank(0);
        let mut w = t.write(&h);
        t.submit(move |ctx| {
            *w.get_mut(ctx) = (0..1000).collect();
            Ok(())
        })
        .unwrap();
        let read = |seq: &Sequence, rank: usize| {
            let mut t = seq.task("read").on_rank(rank);
            let r = t.read(&h);
            t.submit(move |ctx| {
                if *r.get(ctx) == (0..1000).collect::<Vec<usize>>() {
                    Ok(())
                } else {
                    Err(tessera::Error::Runtime("wrong data".into()))
                }
            })
            .unwrap();
            seq.wait().unwrap();
            // What the writer sent (counted when it sends, before its wait returns).
            rt.comm_bytes().0
        };
        let s0 = rt.comm_bytes().0;
        let s1 = read(&seq, 1);
        let s2 = read(&seq, 1);
        seq.flush(&h).unwrap();
        let s3 = read(&seq, 0);
        let s4 = read(&seq, 1);
        ([s1 - s0, s2 - s1, s3 - s2, s4 - s3], rt.comm_bytes().1)
    });
    let (sent, _) = out[0];
    assert!(
        sent[0] >= 8000,
        "the first read on rank 1 gets the data: {sent:?}"
    );
    assert_eq!(sent[1], 0, "a second read there uses its copy: {sent:?}");
    assert_eq!(
        sent[2], 0,
        "the writer's own reader moves nothing: {sent:?}"
    );
    assert_eq!(
        sent[3], sent[0],
        "after the flush the data goes again: {sent:?}"
    );
    assert_eq!(out[1].1, 2 * sent[0], "rank 1 received it twice");
}
