//! `tessera solve`: the sparse direct solver on a Matrix Market file or a generated problem.

use std::io::IsTerminal;
use std::time::Instant;
use tessera::runtime::{Runtime, RuntimeConfig};
use tessera::sparse::{gen, mm, CscMatrix, Factorization, Ordering, Refinement, SolverOptions};
use tessera::{c64, Error, Result, Scalar};

/// Parsed command line of `tessera solve`.
pub struct Args {
    matrix: String,
    rhs: Option<String>,
    opts: SolverOptions,
    threads: usize,
    repeat: usize,
    json: bool,
    kernels: Option<String>,
}

fn bad(msg: String) -> Error {
    Error::InvalidArgument {
        position: 0,
        message: msg,
    }
}

pub const USAGE: &str = "\
tessera solve MATRIX [options]

MATRIX is a Matrix Market file (.mtx or .mtx.gz; real, complex, integer or pattern;
general, symmetric, skew-symmetric or Hermitian), or a generated problem:
  gen:laplace2d:K        5-point Laplacian on a K x K grid (SPD)
  gen:laplace3d:K        7-point Laplacian on a K^3 grid (SPD; K = 50 gives 125,000 unknowns)
  gen:elasticity3d:K     3D linear elasticity, Q1 elements on a K^3 box (SPD)
  gen:convdiff3d:K[:PE]  3D convection-diffusion, Peclet number PE (default 10; unsymmetric)

OPTIONS:
  --rhs B.mtx            right-hand side(s) (dense or coordinate Matrix Market; default
                         b = A * ones)
  --factorization F      llt | ldlt | lu | auto (default auto: llt for SPD, ldlt for other
                         symmetric, lu otherwise)
  --ordering O           auto (default: nd on meshes, else metis) | metis | nd | amd | scotch | natural
  --refinement R         auto (default) | none | simple | cg | gmres | bicgstab
  --tol X                target scaled residual of the refinement (default 1e-14)
  --threads T            worker threads (default: all cores)
  --repeat K             factor K times on the same analysis, report the fastest
  --kernels faer|blas    dense kernels: faer (default) or the system BLAS
  --no-scaling           do not equilibrate
  --no-matching          no maximum-product matching for unsymmetric matrices
  --json                 one JSON object instead of text

The residual is ||b - Ax||_oo / (||A||_oo ||x||_oo + ||b||_oo), the largest over the
right-hand sides. Exit status 2 when it stays above 1e-10.";

/// Parses the arguments after `solve`.
pub fn parse(a: &[String]) -> Result<Args> {
    let mut r = Args {
        matrix: String::new(),
        rhs: None,
        opts: SolverOptions::default(),
        threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        repeat: 1,
        json: false,
        kernels: None,
    };
    if let Some(t) = tessera::env::num_threads_override() {
        r.threads = t;
    }
    let mut i = 0;
    let val = |i: &mut usize, name: &str| -> Result<String> {
        *i += 1;
        a.get(*i)
            .cloned()
            .ok_or_else(|| bad(format!("{name} needs a value")))
    };
    while i < a.len() {
        let s = a[i].as_str();
        match s {
            "--rhs" => r.rhs = Some(val(&mut i, s)?),
            "--factorization" => {
                r.opts.factorization = val(&mut i, s)?.parse::<Factorization>().map_err(bad)?
            }
            "--ordering" => r.opts.ordering = val(&mut i, s)?.parse::<Ordering>().map_err(bad)?,
            "--refinement" => {
                r.opts.refinement = val(&mut i, s)?.parse::<Refinement>().map_err(bad)?
            }
            "--tol" => {
                let v = val(&mut i, s)?;
                r.opts.tolerance = v
                    .parse::<f64>()
                    .ok()
                    .filter(|x| *x >= 0.0)
                    .ok_or_else(|| bad(format!("--tol: '{v}' is not a non-negative number")))?;
            }
            "--threads" => {
                let v = val(&mut i, s)?;
                r.threads =
                    v.parse::<usize>().ok().filter(|&t| t > 0).ok_or_else(|| {
                        bad(format!("--threads: '{v}' is not a positive integer"))
                    })?;
            }
            "--repeat" => {
                let v = val(&mut i, s)?;
                r.repeat = v
                    .parse::<usize>()
                    .ok()
                    .filter(|&t| t > 0)
                    .ok_or_else(|| bad(format!("--repeat: '{v}' is not a positive integer")))?;
            }
            "--kernels" => r.kernels = Some(val(&mut i, s)?),
            "--no-scaling" => r.opts.scaling = false,
            "--no-matching" => r.opts.matching = false,
            "--json" => r.json = true,
            _ if s.starts_with("--") => return Err(bad(format!("unknown option '{s}'"))),
            _ => {
                if !r.matrix.is_empty() {
                    return Err(bad(format!(
                        "more than one matrix given ('{}' and '{s}')",
                        r.matrix
                    )));
                }
                r.matrix = s.to_string();
            }
        }
        i += 1;
    }
    if r.matrix.is_empty() {
        return Err(bad(
            "no matrix given (a .mtx file or gen:laplace3d:K ...)".into()
        ));
    }
    Ok(r)
}

fn generated(spec: &str) -> Result<CscMatrix<f64>> {
    let parts: Vec<&str> = spec.split(':').collect();
    let num = |k: usize, what: &str| -> Result<usize> {
        parts
            .get(k)
            .and_then(|v| v.parse::<usize>().ok())
            .filter(|&v| v > 0)
            .ok_or_else(|| bad(format!("{spec}: {what} must be a positive integer")))
    };
    match parts.get(1).copied() {
        Some("laplace2d") => Ok(gen::laplacian_2d(num(2, "K")?, num(2, "K")?)),
        Some("laplace3d") => {
            let k = num(2, "K")?;
            Ok(gen::laplacian_3d(k, k, k))
        }
        Some("elasticity3d") => {
            let k = num(2, "K")?;
            Ok(gen::elasticity_3d(k, k, k))
        }
        Some("convdiff3d") => {
            let k = num(2, "K")?;
            let pe = match parts.get(3) {
                Some(v) => v
                    .parse::<f64>()
                    .map_err(|_| bad(format!("{spec}: the Peclet number '{v}' is not a number")))?,
                None => 10.0,
            };
            Ok(gen::convection_diffusion_3d(k, k, k, pe))
        }
        _ => Err(bad(format!(
            "unknown generated problem '{spec}' (laplace2d, laplace3d, elasticity3d, convdiff3d)"
        ))),
    }
}

/// Whether a Matrix Market file holds complex values (from its banner).
fn is_complex_file(path: &str) -> Result<bool> {
    let h = mm::read_header(std::path::Path::new(path))?;
    Ok(h.field == mm::MmField::Complex)
}

/// Runs `tessera solve`. Returns whether the residual is acceptable.
pub fn run(a: &Args) -> Result<bool> {
    match a.kernels.as_deref() {
        None | Some("faer") => tessera::kernels::sysblas::use_faer(),
        Some("blas") => {
            tessera::kernels::sysblas::use_system_blas().map_err(Error::Library)?;
        }
        Some(k) => return Err(bad(format!("--kernels: '{k}' is not faer or blas"))),
    }
    if a.matrix.starts_with("gen:") {
        let m = generated(&a.matrix)?;
        return run_t(a, m);
    }
    if is_complex_file(&a.matrix)? {
        let (m, _) = mm::read_matrix_market::<c64>(std::path::Path::new(&a.matrix))?;
        run_t(a, m)
    } else {
        let (m, _) = mm::read_matrix_market::<f64>(std::path::Path::new(&a.matrix))?;
        run_t(a, m)
    }
}

/// Prints `what` with a spinner-free progress line on a terminal while `f` runs long.
fn phase<R>(rt: &Runtime, quiet: bool, what: &str, f: impl FnOnce() -> R) -> R {
    if quiet || !std::io::stderr().is_terminal() {
        return f();
    }
    crate::bench::with_progress(rt, what, f)
}

fn run_t<T: Scalar>(a: &Args, m: CscMatrix<T>) -> Result<bool> {
    let n = m.nrows();
    let rt = Runtime::new(RuntimeConfig::with_workers(a.threads));
    let quiet = a.json;
    // Right-hand sides.
    let (b, nrhs) = match &a.rhs {
        Some(path) => {
            let bm = mm::read_dense_matrix_market::<T>(std::path::Path::new(path))?;
            if bm.nrows() != n {
                return Err(bad(format!(
                    "the right-hand side has {} rows but the matrix has order {n}",
                    bm.nrows()
                )));
            }
            let mut v = Vec::with_capacity(n * bm.ncols());
            for j in 0..bm.ncols() {
                for i in 0..n {
                    v.push(bm[(i, j)]);
                }
            }
            (v, bm.ncols())
        }
        None => (m.mul_vec(&vec![T::one(); m.ncols()]), 1),
    };
    let t = Instant::now();
    let analysis = tessera::sparse::analyze(&m, &a.opts)?;
    let analyze_s = t.elapsed().as_secs_f64();
    let mut best = f64::INFINITY;
    let mut factors = None;
    for _ in 0..a.repeat {
        drop(factors.take()); // free the previous factors before the next run
        let t = Instant::now();
        let f = phase(&rt, quiet, "factor", || analysis.factorize(&rt, &m))?;
        best = best.min(t.elapsed().as_secs_f64());
        factors = Some(f);
    }
    let f = factors.expect("at least one factorization");
    let t = Instant::now();
    let (_x, report) = f.solve(&b, nrhs)?;
    let solve_s = t.elapsed().as_secs_f64();
    let sym = analysis.symbolic();
    let passed = report.residual.is_finite() && report.residual <= 1e-10;
    let name = std::path::Path::new(&a.matrix)
        .file_name()
        .map_or(a.matrix.clone(), |s| s.to_string_lossy().into_owned());
    if a.json {
        println!(
            "{{\"matrix\":\"{}\",\"dtype\":\"{}\",\"n\":{n},\"nnz\":{},\"nrhs\":{nrhs},\"threads\":{},\"factorization\":\"{}\",\"ordering\":\"{}\",\"supernodes\":{},\"cblks\":{},\"analyze_s\":{analyze_s:.6},\"factor_s\":{best:.6},\"repeat\":{},\"solve_s\":{solve_s:.6},\"factor_entries\":{},\"factor_bytes\":{},\"flops\":{:.6e},\"gflops\":{:.3},\"perturbed_pivots\":{},\"refinement\":\"{}\",\"refinement_iterations\":{},\"residual\":{:e},\"passed\":{passed}}}",
            name.replace('"', "'"),
            T::DTYPE.name(),
            m.nnz(),
            a.threads,
            f.kind().name(),
            sym.ordering(),
            sym.supernodes(),
            sym.cblks().len(),
            a.repeat,
            f.factor_entries(),
            f.factor_bytes(),
            f.flops(),
            f.flops() / best / 1e9,
            f.perturbed_pivots(),
            report.method.name(),
            report.iterations,
            report.residual
        );
    } else {
        println!(
            "matrix    {name}: n = {n}, nnz = {}, {}",
            m.nnz(),
            T::DTYPE.name()
        );
        println!(
            "analyze   {analyze_s:9.4} s  ordering {}, {} supernodes, {} column blocks",
            sym.ordering(),
            sym.supernodes(),
            sym.cblks().len()
        );
        println!(
            "factor    {best:9.4} s  {}{}, {} threads: {:.1} GFLOP, {:.1} GFLOP/s, factor entries {}, {:.1} MB, perturbed pivots {}",
            f.kind().name(),
            if a.repeat > 1 { format!(" (best of {})", a.repeat) } else { String::new() },
            a.threads,
            f.flops() / 1e9,
            f.flops() / best / 1e9,
            f.factor_entries(),
            f.factor_bytes() as f64 / 1e6,
            f.perturbed_pivots()
        );
        println!(
            "solve     {solve_s:9.4} s  {nrhs} right-hand side(s), refinement {}: {} iterations, scaled residual {:.2e} {}",
            report.method.name(),
            report.iterations,
            report.residual,
            if passed { "PASSED" } else { "FAILED" }
        );
    }
    Ok(passed)
}

/// `tessera generate SPEC OUT.mtx`: writes a generated problem as Matrix Market.
pub fn generate(a: &[String]) -> Result<()> {
    let (spec, out) = match a {
        [s, o] => (s.as_str(), o.as_str()),
        _ => {
            return Err(bad(
                "usage: tessera generate gen:laplace3d:K OUT.mtx[.gz]".into()
            ))
        }
    };
    let spec = if spec.starts_with("gen:") {
        spec.to_string()
    } else {
        format!("gen:{spec}")
    };
    let m = generated(&spec)?;
    let symmetry = if m.is_symmetric(false) {
        mm::MmSymmetry::Symmetric
    } else {
        mm::MmSymmetry::General
    };
    mm::write_matrix_market(std::path::Path::new(out), &m, symmetry)?;
    println!("wrote {out}: n = {}, nnz = {}", m.nrows(), m.nnz());
    Ok(())
}
