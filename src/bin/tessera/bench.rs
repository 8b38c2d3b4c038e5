//! `tessera bench`: generate, run, check, compare.

use crate::syslapack::SysLapack;
use faer::dyn_stack::{MemBuffer, MemStack};
use faer::{Mat, MatRef, Par};
use std::time::Instant;
use tessera::dense::{self, flops};
use tessera::runtime::{Runtime, RuntimeConfig};
use tessera::tile::TileMatrix;
use tessera::{c32, c64, DType, Diag, Error, Op, Result, Scalar, Side, Uplo};

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BenchOp {
    Gemm,
    Potrf,
    Getrf,
    GetrfNopiv,
    Geqrf,
    Posv,
    Gesv,
    Gels,
}

impl BenchOp {
    pub fn name(self) -> &'static str {
        match self {
            BenchOp::Gemm => "gemm",
            BenchOp::Potrf => "potrf",
            BenchOp::Getrf => "getrf",
            BenchOp::GetrfNopiv => "getrf_nopiv",
            BenchOp::Geqrf => "geqrf",
            BenchOp::Posv => "posv",
            BenchOp::Gesv => "gesv",
            BenchOp::Gels => "gels",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Compare {
    Faer,
    Lapack,
}

#[derive(Debug, Clone)]
pub struct Args {
    pub op: BenchOp,
    pub n: usize,
    m: Option<usize>,
    pub nb: Option<usize>,
    pub threads: usize,
    dtype: DType,
    compare: Option<Compare>,
    pub repeat: usize,
    nrhs: usize,
    pub trace: Option<String>,
    pub json: bool,
    kernels: String,
    /// Process grid of a distributed run (under mpirun).
    pub grid: Option<(usize, usize)>,
    /// Distribution of a distributed run: 2dbc or sbc.
    pub dist: String,
    /// Run the LAPACK-layout routine (`dense::lapack`, on a column-major matrix) instead
    /// of the tiled one.
    lapack_layout: bool,
}

fn bad(msg: String) -> Error {
    Error::InvalidArgument {
        position: 0,
        message: msg,
    }
}

pub fn parse(a: &[String]) -> Result<Args> {
    let op = match a.first().map(|s| s.as_str()) {
        Some("gemm") => BenchOp::Gemm,
        Some("potrf") => BenchOp::Potrf,
        Some("getrf") => BenchOp::Getrf,
        Some("getrf_nopiv") => BenchOp::GetrfNopiv,
        Some("geqrf") => BenchOp::Geqrf,
        Some("posv") => BenchOp::Posv,
        Some("gesv") => BenchOp::Gesv,
        Some("gels") => BenchOp::Gels,
        Some(o) => {
            return Err(bad(format!(
                "unknown op '{o}' (gemm potrf getrf getrf_nopiv geqrf posv gesv gels)"
            )))
        }
        None => return Err(bad("bench needs an op: tessera bench potrf".into())),
    };
    let mut r = Args {
        op,
        n: 4000,
        m: None,
        nb: None,
        threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        dtype: DType::F64,
        compare: None,
        repeat: 1,
        nrhs: 1,
        trace: None,
        json: false,
        kernels: tessera::env::kernels_override()
            .unwrap_or("faer")
            .to_string(),
        grid: None,
        dist: "2dbc".into(),
        lapack_layout: false,
    };
    let mut i = 1;
    let num = |v: Option<&String>, flag: &str| -> Result<usize> {
        let v = v.ok_or_else(|| bad(format!("{flag} needs a value")))?;
        v.parse::<usize>()
            .map_err(|_| bad(format!("{flag}: '{v}' is not a non-negative integer")))
    };
    while i < a.len() {
        let f = a[i].as_str();
        let v = a.get(i + 1);
        match f {
            "--n" => r.n = num(v, f)?,
            "--m" => r.m = Some(num(v, f)?),
            "--nb" => r.nb = Some(num(v, f)?.max(1)),
            "--threads" => r.threads = num(v, f)?.max(1),
            "--repeat" => r.repeat = num(v, f)?.max(1),
            "--nrhs" => r.nrhs = num(v, f)?,
            "--dtype" => {
                r.dtype = v
                    .ok_or_else(|| bad("--dtype needs a value".into()))?
                    .parse()
                    .map_err(bad)?
            }
            "--compare" => {
                r.compare = Some(match v.map(|s| s.as_str()) {
                    Some("faer") => Compare::Faer,
                    Some("lapack") => Compare::Lapack,
                    _ => return Err(bad("--compare takes faer or lapack".into())),
                })
            }
            "--kernels" => {
                r.kernels = v
                    .ok_or_else(|| bad("--kernels needs faer or blas".into()))?
                    .clone()
            }
            "--grid" => {
                let v = v.ok_or_else(|| bad("--grid needs PxQ".into()))?;
                let parsed = v
                    .split_once(['x', 'X'])
                    .and_then(|(p, q)| Some((p.parse::<usize>().ok()?, q.parse::<usize>().ok()?)))
                    .filter(|&(p, q)| p > 0 && q > 0);
                r.grid = Some(parsed.ok_or_else(|| bad(format!("--grid: '{v}' is not PxQ")))?);
            }
            "--dist" => {
                let v = v.ok_or_else(|| bad("--dist needs 2dbc or sbc".into()))?;
                if v != "2dbc" && v != "sbc" {
                    return Err(bad(format!("--dist: '{v}' is not 2dbc or sbc")));
                }
                r.dist = v.clone();
            }
            "--layout" => match v.map(|s| s.as_str()) {
                Some("tile") => r.lapack_layout = false,
                Some("lapack") => r.lapack_layout = true,
                _ => return Err(bad("--layout takes tile or lapack".into())),
            },
            "--trace" => {
                r.trace = Some(v.ok_or_else(|| bad("--trace needs a file".into()))?.clone())
            }
            "--json" => {
                r.json = true;
                i += 1;
                continue;
            }
            _ => return Err(bad(format!("unknown option '{f}'"))),
        }
        i += 2;
    }
    if r.lapack_layout {
        if !matches!(
            r.op,
            BenchOp::Potrf | BenchOp::Getrf | BenchOp::Posv | BenchOp::Gesv
        ) {
            return Err(bad(format!(
                "--layout lapack: {} has no LAPACK-layout benchmark (potrf getrf posv gesv)",
                r.op.name()
            )));
        }
        if r.grid.is_some() {
            return Err(bad("--layout lapack runs in one process (no --grid)".into()));
        }
        if r.nb.is_some() {
            return Err(bad(
                "--layout lapack: the routine picks its tile size (set TESSERA_NB, not --nb)"
                    .into(),
            ));
        }
    }
    Ok(r)
}

pub fn run(a: &Args) -> Result<bool> {
    // The kernels first: a distributed run uses them too.
    match a.kernels.as_str() {
        "faer" => tessera::kernels::sysblas::use_faer(),
        "blas" => {
            tessera::kernels::sysblas::use_system_blas().map_err(Error::Library)?;
        }
        k => return Err(bad(format!("--kernels: '{k}' is not faer or blas"))),
    }
    if a.grid.is_some() {
        return crate::distbench::run(a);
    }
    match a.dtype {
        DType::F64 => run_t::<f64>(a),
        DType::F32 => run_t::<f32>(a),
        DType::C64 => run_t::<c64>(a),
        DType::C32 => run_t::<c32>(a),
    }
}

fn layout_name(a: &Args) -> &'static str {
    if a.lapack_layout {
        "lapack"
    } else {
        "tile"
    }
}

struct Outcome {
    seconds: f64,
    residual: f64,
}

struct Baseline {
    name: String,
    seconds: f64,
}

fn run_t<T: Scalar>(a: &Args) -> Result<bool> {
    let n = a.n;
    let m = match a.op {
        BenchOp::Geqrf | BenchOp::Gels => a.m.unwrap_or(n),
        _ => n,
    };
    let rt = Runtime::new(RuntimeConfig::with_workers(a.threads));
    let nb =
        a.nb.unwrap_or_else(|| dense::auto_tile_size(m, n, a.threads));
    let w = T::DTYPE.flop_weight();
    let (fm, fn_, fr) = (m as f64, n as f64, a.nrhs as f64);
    let fl = w * match a.op {
        BenchOp::Gemm => flops::gemm(fn_, fn_, fn_),
        BenchOp::Potrf => flops::potrf(fn_),
        BenchOp::Getrf | BenchOp::GetrfNopiv => flops::getrf(fn_, fn_),
        BenchOp::Geqrf => flops::geqrf(fm, fn_),
        BenchOp::Posv => flops::potrf(fn_) + 2.0 * flops::trsm(fn_, fr),
        BenchOp::Gesv => flops::getrf(fn_, fn_) + 2.0 * flops::trsm(fn_, fr),
        BenchOp::Gels => flops::geqrf(fm, fn_) + 4.0 * fm * fn_ * fr,
    };
    if !a.json {
        eprintln!(
            "tessera bench {} {} m={m} n={n} nb={nb} threads={} kernels={} layout={} (repeat {})",
            a.op.name(),
            T::DTYPE.name(),
            a.threads,
            tessera::kernels::sysblas::backend_name(),
            layout_name(a),
            a.repeat
        );
    }
    let mut best: Option<Outcome> = None;
    for r in 0..a.repeat {
        if a.repeat > 1 && !a.json {
            eprintln!("  run {}/{}...", r + 1, a.repeat);
        }
        let last = r + 1 == a.repeat;
        let trace = last && a.trace.is_some();
        tessera::kernels::sysblas::reset_threads();
        let o = with_progress(&rt, a.op.name(), || {
            run_tessera::<T>(&rt, a, m, n, nb, trace)
        })?;
        if best.as_ref().is_none_or(|b| o.seconds < b.seconds) {
            best = Some(o);
        }
    }
    let best = best.expect("at least one run");
    if let Some(path) = &a.trace {
        let tr = rt.take_trace();
        std::fs::write(path, tr.to_chrome_json())
            .map_err(|e| Error::Runtime(format!("cannot write {path}: {e}")))?;
        eprintln!("{}", tr.summary());
    }
    let baseline = match a.compare {
        None => None,
        Some(c) => {
            if !a.json {
                eprintln!("  running the baseline ({c:?})...");
            }
            let mut bbest: Option<Baseline> = None;
            for _ in 0..a.repeat {
                let b = match c {
                    Compare::Faer => run_faer::<T>(a, m, n)?,
                    Compare::Lapack => run_lapack::<T>(a, m, n)?,
                };
                if bbest.as_ref().is_none_or(|x| b.seconds < x.seconds) {
                    bbest = Some(b);
                }
            }
            bbest
        }
    };
    let gflops = fl / best.seconds / 1e9;
    let passed = best.residual.is_finite() && best.residual < 16.0;
    if a.json {
        let mut s = format!(
            "{{\"op\":\"{}\",\"dtype\":\"{}\",\"m\":{m},\"n\":{n},\"nb\":{nb},\"threads\":{},\"kernels\":\"{}\",\"layout\":\"{}\",\"seconds\":{:.6},\"gflops\":{:.3},\"residual\":{:e},\"passed\":{passed}",
            a.op.name(),
            T::DTYPE.name(),
            a.threads,
            tessera::kernels::sysblas::backend_name(),
            layout_name(a),
            best.seconds,
            gflops,
            best.residual
        );
        if let Some(b) = &baseline {
            s += &format!(
                ",\"baseline\":{{\"name\":\"{}\",\"seconds\":{:.6},\"gflops\":{:.3}}},\"ratio\":{:.4}",
                b.name.replace('"', "'"),
                b.seconds,
                fl / b.seconds / 1e9,
                b.seconds / best.seconds
            );
        }
        println!("{s}}}");
    } else {
        println!(
            "tessera  {:<12} {} n={n}{} nb={nb} threads={}: {:>9.4} s {:>8.1} GFLOP/s  residual {:.2e} {}",
            a.op.name(),
            T::DTYPE.name(),
            if m != n { format!(" m={m}") } else { String::new() },
            a.threads,
            best.seconds,
            gflops,
            best.residual,
            if passed { "PASSED" } else { "FAILED" }
        );
        if let Some(b) = &baseline {
            println!(
                "baseline {:<12} {}: {:>9.4} s {:>8.1} GFLOP/s  (tessera/baseline speed = {:.3}x)",
                a.op.name(),
                b.name,
                b.seconds,
                fl / b.seconds / 1e9,
                b.seconds / best.seconds
            );
        }
    }
    Ok(passed)
}

/// Runs `f`, printing the share of finished tasks on stderr every 2 seconds while it lasts
/// (long runs only).
pub(crate) fn with_progress<R>(rt: &Runtime, what: &str, f: impl FnOnce() -> R) -> R {
    use std::sync::atomic::{AtomicBool, Ordering};
    let done = AtomicBool::new(false);
    let (s0, c0) = rt.task_counts();
    std::thread::scope(|sc| {
        sc.spawn(|| {
            let t = Instant::now();
            let mut next = 2.0;
            while !done.load(Ordering::Relaxed) {
                std::thread::sleep(std::time::Duration::from_millis(50));
                let e = t.elapsed().as_secs_f64();
                if e >= next {
                    next += 2.0;
                    let (s, c) = rt.task_counts();
                    let (s, c) = (s - s0, c - c0);
                    eprintln!(
                        "  {what}: {c}/{s} tasks done ({:.0}%), {e:.0} s",
                        100.0 * c as f64 / s.max(1) as f64
                    );
                }
            }
        });
        let r = f();
        done.store(true, Ordering::Relaxed);
        r
    })
}

const SEED_A: u64 = 0x7e55e4a;
const SEED_B: u64 = 0xb0b;

/// The test matrix of each op, in tiles.
fn matrix_a<T: Scalar>(
    rt: &Runtime,
    op: BenchOp,
    m: usize,
    n: usize,
    nb: usize,
) -> Result<TileMatrix<T>> {
    match op {
        BenchOp::Potrf | BenchOp::Posv => dense::plghe::<T>(rt, n as f64, n, nb, SEED_A),
        BenchOp::GetrfNopiv => dense::plgsy::<T>(rt, T::from_f64(n as f64), n, nb, SEED_A),
        _ => dense::plrnt::<T>(rt, m, n, nb, SEED_A),
    }
}

fn norm_inf<T: Scalar>(a: MatRef<'_, T>) -> f64 {
    (0..a.nrows())
        .map(|i| (0..a.ncols()).map(|j| a.get(i, j).modulus()).sum::<f64>())
        .fold(0.0, f64::max)
}

fn matmul<T: Scalar>(a: MatRef<'_, T>, b: MatRef<'_, T>, ta: Op) -> Mat<T> {
    let rows = if ta == Op::NoTrans {
        a.nrows()
    } else {
        a.ncols()
    };
    let mut c = Mat::<T>::zeros(rows, b.ncols());
    tessera::kernels::gemm(ta, Op::NoTrans, T::one(), a, b, T::zero(), c.as_mut());
    c
}

/// ||A x - b||_oo / (eps (||A||_oo ||x||_oo + ||b||_oo) N)
fn solve_residual<T: Scalar>(a: MatRef<'_, T>, x: MatRef<'_, T>, b: MatRef<'_, T>) -> f64 {
    let mut r = matmul(a, x, Op::NoTrans);
    r -= b;
    let num = norm_inf(r.as_ref());
    num / (T::EPS * (norm_inf(a) * norm_inf(x) + norm_inf(b)) * a.ncols().max(1) as f64)
}

fn run_tessera<T: Scalar>(
    rt: &Runtime,
    a: &Args,
    m: usize,
    n: usize,
    nb: usize,
    trace: bool,
) -> Result<Outcome> {
    let op = a.op;
    let ta = matrix_a::<T>(rt, op, m, n, nb)?;
    let a0 = ta.to_mat(rt)?;
    let nrhs = a.nrhs;
    if a.lapack_layout {
        return run_lapack_layout(rt, a, a0, nb, trace);
    }
    match op {
        BenchOp::Gemm => {
            let tb = dense::plrnt::<T>(rt, n, n, nb, SEED_B)?;
            let tc = TileMatrix::<T>::zeros(n, n, nb, nb);
            rt.set_tracing(trace);
            let t = Instant::now();
            dense::gemm(
                rt,
                Op::NoTrans,
                Op::NoTrans,
                T::one(),
                &ta,
                &tb,
                T::zero(),
                &tc,
            )?;
            let seconds = t.elapsed().as_secs_f64();
            rt.set_tracing(false);
            let (b0, c) = (tb.to_mat(rt)?, tc.to_mat(rt)?);
            let y = Mat::<T>::from_fn(n, 1, |i, _| dense::random_value::<T>(99, i, 0));
            let cy = matmul(c.as_ref(), y.as_ref(), Op::NoTrans);
            let by = matmul(b0.as_ref(), y.as_ref(), Op::NoTrans);
            let aby = matmul(a0.as_ref(), by.as_ref(), Op::NoTrans);
            let num = norm_inf((&cy - &aby).as_ref());
            let den = T::EPS
                * norm_inf(a0.as_ref())
                * norm_inf(b0.as_ref())
                * norm_inf(y.as_ref())
                * n.max(1) as f64;
            Ok(Outcome {
                seconds,
                residual: if num == 0.0 { 0.0 } else { num / den },
            })
        }
        BenchOp::Potrf | BenchOp::Getrf | BenchOp::GetrfNopiv | BenchOp::Geqrf => {
            let mut ipiv = vec![0; m.min(n)];
            let tt = dense::qr_workspace(&ta);
            rt.set_tracing(trace);
            let t = Instant::now();
            match op {
                BenchOp::Potrf => dense::potrf(rt, Uplo::Lower, &ta)?,
                BenchOp::Getrf => dense::getrf(rt, &ta, &mut ipiv)?,
                BenchOp::GetrfNopiv => dense::getrf_nopiv(rt, &ta)?,
                _ => dense::geqrf(rt, &ta, &tt)?,
            }
            let seconds = t.elapsed().as_secs_f64();
            rt.set_tracing(false);
            // Check with a solve using the computed factors.
            let rows = m.max(n);
            let tb = dense::plrnt::<T>(rt, rows, 1.max(nrhs), nb, SEED_B)?;
            let b0 = tb.to_mat(rt)?;
            let one = T::one();
            match op {
                BenchOp::Potrf => dense::potrs(rt, Uplo::Lower, &ta, &tb)?,
                BenchOp::Getrf => dense::getrs(rt, Op::NoTrans, &ta, &ipiv, &tb)?,
                BenchOp::GetrfNopiv => {
                    dense::trsm(
                        rt,
                        Side::Left,
                        Uplo::Lower,
                        Op::NoTrans,
                        Diag::Unit,
                        one,
                        &ta,
                        &tb,
                    )?;
                    dense::trsm(
                        rt,
                        Side::Left,
                        Uplo::Upper,
                        Op::NoTrans,
                        Diag::NonUnit,
                        one,
                        &ta,
                        &tb,
                    )?;
                }
                _ => {
                    dense::unmqr(rt, Side::Left, Op::ConjTrans, &ta, &tt, &tb)?;
                    if m == n {
                        dense::trsm(
                            rt,
                            Side::Left,
                            Uplo::Upper,
                            Op::NoTrans,
                            Diag::NonUnit,
                            one,
                            &ta,
                            &tb,
                        )?;
                    }
                }
            }
            let x = tb.to_mat(rt)?;
            let residual = if op == BenchOp::Geqrf && m != n {
                // ||Q^H b|| = ||b||: the orthogonality check of the reflectors.
                let l2 = |v: &Mat<T>| {
                    (0..v.nrows())
                        .map(|i| v.get(i, 0).modulus().powi(2))
                        .sum::<f64>()
                        .sqrt()
                };
                let (nx, nb0) = (l2(&x), l2(&b0));
                (nx - nb0).abs() / (T::EPS * nb0 * m as f64)
            } else {
                solve_residual(a0.as_ref(), x.as_ref(), b0.as_ref())
            };
            Ok(Outcome { seconds, residual })
        }
        BenchOp::Posv | BenchOp::Gesv | BenchOp::Gels => {
            let rows = m.max(n);
            let tb = dense::plrnt::<T>(rt, rows, nrhs, nb, SEED_B)?;
            let b0 = tb.to_mat(rt)?;
            let mut ipiv = vec![0; n];
            rt.set_tracing(trace);
            let t = Instant::now();
            match op {
                BenchOp::Posv => dense::posv(rt, Uplo::Lower, &ta, &tb)?,
                BenchOp::Gesv => dense::gesv(rt, &ta, &mut ipiv, &tb)?,
                _ => dense::gels(rt, &ta, &tb)?,
            }
            let seconds = t.elapsed().as_secs_f64();
            rt.set_tracing(false);
            let x = tb.to_mat(rt)?;
            let residual = if op == BenchOp::Gels {
                let x = x.as_ref().subrows(0, n);
                let mut r = matmul(a0.as_ref(), x, Op::NoTrans);
                r -= b0.as_ref().subrows(0, m);
                let g = matmul(a0.as_ref(), r.as_ref(), Op::ConjTrans);
                let an = norm_inf(a0.as_ref());
                norm_inf(g.as_ref())
                    / (T::EPS * an * (an * norm_inf(x) + norm_inf(b0.as_ref())) * m.max(1) as f64)
            } else {
                solve_residual(a0.as_ref(), x.as_ref(), b0.as_ref())
            };
            Ok(Outcome { seconds, residual })
        }
    }
}

/// The LAPACK-layout routine (`dense::lapack`) on the column-major `a0`: what a program
/// calling Tessera through LAPACK's interface gets (the routine picks its tile size, as
/// there: `TESSERA_NB` overrides it, `--nb` is refused).
fn run_lapack_layout<T: Scalar>(
    rt: &Runtime,
    a: &Args,
    a0: Mat<T>,
    nb: usize,
    trace: bool,
) -> Result<Outcome> {
    use dense::lapack;
    let n = a0.nrows();
    let b0 = dense::plrnt::<T>(rt, n, 1.max(a.nrhs), nb, SEED_B)?.to_mat(rt)?;
    let (mut am, mut x) = (a0.clone(), b0.clone());
    let mut ipiv = vec![0; n];
    rt.set_tracing(trace);
    let t = Instant::now();
    match a.op {
        BenchOp::Potrf => lapack::potrf(rt, Uplo::Lower, am.as_mut())?,
        BenchOp::Getrf => lapack::getrf(rt, am.as_mut(), &mut ipiv)?,
        BenchOp::Posv => lapack::posv(rt, Uplo::Lower, am.as_mut(), x.as_mut())?,
        _ => lapack::gesv(rt, am.as_mut(), &mut ipiv, x.as_mut())?,
    }
    let seconds = t.elapsed().as_secs_f64();
    rt.set_tracing(false);
    match a.op {
        BenchOp::Potrf => lapack::potrs(rt, Uplo::Lower, am.as_ref(), x.as_mut())?,
        BenchOp::Getrf => lapack::getrs(rt, Op::NoTrans, am.as_ref(), &ipiv, x.as_mut())?,
        _ => {}
    }
    Ok(Outcome {
        seconds,
        residual: solve_residual(a0.as_ref(), x.as_ref(), b0.as_ref()),
    })
}

fn rayon_pool(threads: usize) {
    use std::sync::Once;
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build_global();
    });
}

/// faer's own routines on the same matrix, with `threads` threads.
fn run_faer<T: Scalar>(a: &Args, m: usize, n: usize) -> Result<Baseline> {
    use faer::linalg::{
        cholesky::llt, lu::partial_pivoting as plu, matmul as mm, qr::no_pivoting as qr,
    };
    rayon_pool(a.threads);
    let par = if a.threads > 1 {
        Par::rayon(a.threads)
    } else {
        Par::Seq
    };
    faer::set_global_parallelism(par);
    // Generate with a one-worker runtime so the baseline's threads have the machine.
    let rt = Runtime::new(RuntimeConfig::with_workers(1));
    let nb = dense::auto_tile_size(m, n, 1);
    let mut am = matrix_a::<T>(&rt, a.op, m, n, nb)?.to_mat(&rt)?;
    let rows = m.max(n);
    let b = dense::plrnt::<T>(
        &rt,
        rows,
        if a.op == BenchOp::Gemm { n } else { a.nrhs },
        nb,
        SEED_B,
    )?
    .to_mat(&rt)?;
    drop(rt);
    let version = "faer 0.24".to_string();
    let t = Instant::now();
    match a.op {
        BenchOp::Gemm => {
            let mut c = Mat::<T>::zeros(n, n);
            let t = Instant::now();
            mm::matmul(
                c.as_mut(),
                faer::Accum::Replace,
                am.as_ref(),
                b.as_ref(),
                T::one(),
                par,
            );
            return Ok(Baseline {
                name: version,
                seconds: t.elapsed().as_secs_f64(),
            });
        }
        BenchOp::Potrf => {
            let mut mem = MemBuffer::new(llt::factor::cholesky_in_place_scratch::<T>(
                n,
                par,
                Default::default(),
            ));
            llt::factor::cholesky_in_place(
                am.as_mut(),
                Default::default(),
                par,
                MemStack::new(&mut mem),
                Default::default(),
            )
            .map_err(|e| Error::Library(format!("faer llt: {e:?}")))?;
        }
        BenchOp::Getrf | BenchOp::GetrfNopiv => {
            let mut perm = vec![0usize; n];
            let mut pinv = vec![0usize; n];
            let mut mem = MemBuffer::new(plu::factor::lu_in_place_scratch::<usize, T>(
                n,
                n,
                par,
                Default::default(),
            ));
            plu::factor::lu_in_place(
                am.as_mut(),
                &mut perm,
                &mut pinv,
                par,
                MemStack::new(&mut mem),
                Default::default(),
            );
        }
        BenchOp::Geqrf => {
            let bs = qr::factor::recommended_block_size::<T>(m, n);
            let mut h = Mat::<T>::zeros(bs, m.min(n));
            let mut mem = MemBuffer::new(qr::factor::qr_in_place_scratch::<T>(
                m,
                n,
                bs,
                par,
                Default::default(),
            ));
            qr::factor::qr_in_place(
                am.as_mut(),
                h.as_mut(),
                par,
                MemStack::new(&mut mem),
                Default::default(),
            );
        }
        BenchOp::Posv => {
            use faer::linalg::solvers::Solve;
            let f = am
                .llt(faer::Side::Lower)
                .map_err(|e| Error::Library(format!("faer llt: {e:?}")))?;
            let _x = f.solve(&b);
        }
        BenchOp::Gesv => {
            use faer::linalg::solvers::Solve;
            let _x = am.partial_piv_lu().solve(&b);
        }
        BenchOp::Gels => {
            use faer::linalg::solvers::SolveLstsq;
            if m >= n {
                let _x = am.qr().solve_lstsq(&b);
            } else {
                return Err(Error::Library(
                    "the faer baseline of gels covers m >= n only".into(),
                ));
            }
        }
    }
    Ok(Baseline {
        name: version,
        seconds: t.elapsed().as_secs_f64(),
    })
}

/// The system LAPACK on the same matrix (column-major copy), with `threads` threads.
fn run_lapack<T: Scalar>(a: &Args, m: usize, n: usize) -> Result<Baseline> {
    let lib = SysLapack::<T>::load(a.threads)?;
    let rt = Runtime::new(RuntimeConfig::with_workers(1));
    let nb = dense::auto_tile_size(m, n, 1);
    let am = matrix_a::<T>(&rt, a.op, m, n, nb)?.to_mat(&rt)?;
    let rows = m.max(n);
    let bm = dense::plrnt::<T>(
        &rt,
        rows,
        if a.op == BenchOp::Gemm { n } else { a.nrhs },
        nb,
        SEED_B,
    )?
    .to_mat(&rt)?;
    drop(rt);
    let col = |x: &Mat<T>| -> Vec<T> {
        let mut v = Vec::with_capacity(x.nrows() * x.ncols());
        for j in 0..x.ncols() {
            for i in 0..x.nrows() {
                v.push(*x.get(i, j));
            }
        }
        v
    };
    let (mut av, mut bv) = (col(&am), col(&bm));
    let mut ipiv = vec![0i32; n.max(1)];
    let t = Instant::now();
    match a.op {
        BenchOp::Gemm => {
            let mut c = vec![T::zero(); n * n];
            let t = Instant::now();
            lib.gemm(n, &av, &bv, &mut c)?;
            return Ok(Baseline {
                name: lib.name.clone(),
                seconds: t.elapsed().as_secs_f64(),
            });
        }
        BenchOp::Potrf => lib.potrf(n, &mut av)?,
        BenchOp::Getrf | BenchOp::GetrfNopiv => lib.getrf(n, &mut av, &mut ipiv)?,
        BenchOp::Geqrf => {
            let mut tau = vec![T::zero(); m.min(n).max(1)];
            let t = Instant::now();
            lib.geqrf(m, n, &mut av, &mut tau)?;
            return Ok(Baseline {
                name: lib.name.clone(),
                seconds: t.elapsed().as_secs_f64(),
            });
        }
        BenchOp::Posv => lib.posv(n, a.nrhs, &mut av, &mut bv)?,
        BenchOp::Gesv => lib.gesv(n, a.nrhs, &mut av, &mut ipiv, &mut bv)?,
        BenchOp::Gels => lib.gels(m, n, a.nrhs, &mut av, &mut bv)?,
    }
    Ok(Baseline {
        name: lib.name.clone(),
        seconds: t.elapsed().as_secs_f64(),
    })
}
