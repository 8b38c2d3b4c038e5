//! The sparse direct solver end to end: every factorization kind on generated matrices and
//! on the project's and the shared real matrices, residual-checked against the original
//! matrix; analysis reuse; error paths; the `tessera solve` command line.

mod common;

use faer::linalg::solvers::Solve;
use std::path::{Path, PathBuf};
use std::process::Command;
use tessera::runtime::{Runtime, RuntimeConfig};
use tessera::sparse::solver::scaled_residual;
use tessera::sparse::{
    gen, mm, CscMatrix, Factorization, Kind, Ordering, Refinement, SolverOptions,
};
use tessera::{c64, Error, Scalar};

fn rt() -> Runtime {
    Runtime::new(RuntimeConfig::with_workers(2))
}

/// Solves with two right-hand sides and checks each scaled residual against `tol`.
fn solve_check<T: Scalar>(
    a: &CscMatrix<T>,
    opts: &SolverOptions,
    expect: Option<Kind>,
    tol: f64,
) -> usize {
    let rt = rt();
    let an = tessera::sparse::analyze(a, opts).unwrap();
    let f = an.factorize(&rt, a).unwrap();
    if let Some(k) = expect {
        assert_eq!(f.kind(), k);
    }
    let n = a.nrows();
    let mut b = a.mul_vec(&vec![T::one(); n]);
    b.extend((0..n).map(|i| T::from_parts(((i * 7919) % 13) as f64 - 6.0, (i % 5) as f64)));
    let (x, rep) = f.solve(&b, 2).unwrap();
    for r in 0..2 {
        let res = scaled_residual(a, &x[r * n..(r + 1) * n], &b[r * n..(r + 1) * n]);
        assert!(res <= tol, "residual {res:e} (kind {:?})", f.kind());
        assert!(rep.residual >= res * 0.99);
    }
    rep.iterations
}

/// Every fill-reducing ordering this build has.
fn orderings() -> Vec<Ordering> {
    let mut v = vec![Ordering::Auto, Ordering::Metis, Ordering::Nd, Ordering::Amd];
    if cfg!(feature = "scotch") {
        v.push(Ordering::Scotch);
    }
    v
}

#[test]
fn generated_problems_all_kinds() {
    let lap = gen::laplacian_3d(12, 11, 10);
    for f in [Factorization::Llt, Factorization::Ldlt, Factorization::Lu] {
        for ord in orderings() {
            let opts = SolverOptions {
                factorization: f,
                ordering: ord,
                ..Default::default()
            };
            solve_check(&lap, &opts, None, 1e-14);
        }
    }
    let el = gen::elasticity_3d(5, 4, 4);
    solve_check(&el, &SolverOptions::default(), Some(Kind::Llt), 1e-14);
    let cd = gen::convection_diffusion_3d(10, 9, 8, 50.0);
    solve_check(&cd, &SolverOptions::default(), Some(Kind::Lu), 1e-14);
    // Tiny split width: every supernode is cut into many column blocks.
    let mut opts = SolverOptions::default();
    opts.symbolic.split_above = 3;
    opts.symbolic.split_width = 2;
    solve_check(&el, &opts, Some(Kind::Llt), 1e-14);
    solve_check(&cd, &opts, Some(Kind::Lu), 1e-14);
}

/// Every factorization agrees with a dense LU solve from faer to rounding.
#[test]
fn agrees_with_dense_reference() {
    let a = gen::convection_diffusion_3d(6, 5, 5, 5.0);
    let n = a.nrows();
    let b: Vec<f64> = (0..n).map(|i| (i % 11) as f64 - 5.0).collect();
    let dense = a.to_dense();
    let rhs = faer::Mat::from_fn(n, 1, |i, _| b[i]);
    let xr = dense.partial_piv_lu().solve(&rhs);
    let rt = rt();
    let opts = SolverOptions {
        refinement: Refinement::None,
        ..Default::default()
    };
    let f = tessera::sparse::analyze(&a, &opts)
        .unwrap()
        .factorize(&rt, &a)
        .unwrap();
    let (x, _) = f.solve(&b, 1).unwrap();
    let scale = (0..n).map(|i| xr[(i, 0)].abs()).fold(0.0, f64::max);
    for i in 0..n {
        assert!((x[i] - xr[(i, 0)]).abs() <= 1e-11 * scale, "{i}");
    }
}

#[test]
fn project_matrices() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("matrices");
    let real = [
        ("lap2d_10x10.mtx", Kind::Llt),
        ("convdiff2d_8x8_pe20.mtx", Kind::Lu),
        ("elasticity3d_2x1x1.mtx", Kind::Llt),
        ("kkt_22.mtx", Kind::Ldlt),
    ];
    for (name, kind) in real {
        let (a, _) = mm::read_matrix_market::<f64>(&dir.join(name)).unwrap();
        solve_check(&a, &SolverOptions::default(), Some(kind), 1e-14);
    }
    for (name, kind) in [
        ("hermitian_8.mtx", Kind::Llt),
        ("complex_symmetric_8.mtx", Kind::Ldlt),
    ] {
        let (a, _) = mm::read_matrix_market::<c64>(&dir.join(name)).unwrap();
        let hpd = kind == Kind::Llt;
        let _ = hpd;
        let opts = SolverOptions::default();
        let rt = rt();
        let f = tessera::sparse::analyze(&a, &opts)
            .unwrap()
            .factorize(&rt, &a)
            .unwrap();
        assert!(
            f.kind() == kind || (kind == Kind::Llt && f.kind() == Kind::Ldlt),
            "{name}: {:?}",
            f.kind()
        );
        solve_check(&a, &opts, None, 1e-14);
        let lu = SolverOptions {
            factorization: Factorization::Lu,
            ..Default::default()
        };
        solve_check(&a, &lu, Some(Kind::Lu), 1e-14);
    }
}

fn shared_dir() -> Option<PathBuf> {
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/matrices");
    d.is_dir().then_some(d)
}

/// Every real matrix of ../shared/matrices solves to a scaled residual of 1e-12 or better
/// after refinement (the bar), among them the ones that break other solvers:
/// bayer10, west0479 (static pivoting), cvxqp3 and reorientation_8 (KKT, LDL^T).
#[test]
fn shared_real_matrices() {
    let Some(dir) = shared_dir() else {
        eprintln!("../shared/matrices not present: skipped");
        return;
    };
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().contains(".mtx"))
        .collect();
    names.sort();
    assert!(names.len() >= 18);
    for p in names {
        let (a, _) = mm::read_matrix_market::<f64>(&p).unwrap();
        let rt = rt();
        let opts = SolverOptions::default();
        let f = tessera::sparse::analyze(&a, &opts)
            .unwrap()
            .factorize(&rt, &a)
            .unwrap();
        let n = a.nrows();
        let b = a.mul_vec(&vec![1.0; n]);
        let (x, rep) = f.solve(&b, 1).unwrap();
        let res = scaled_residual(&a, &x, &b);
        eprintln!(
            "{}: {:?}, {} perturbed, {} {} it, residual {res:.2e}",
            p.display(),
            f.kind(),
            f.perturbed_pivots(),
            rep.method.name(),
            rep.iterations
        );
        assert!(res <= 1e-12, "{}: residual {res:e}", p.display());
    }
}

/// The orderings other than the default on the real matrices: Tessera's nested dissection
/// (and Scotch when built in) must give the same accuracy as METIS.
#[test]
fn shared_matrices_other_orderings() {
    let Some(dir) = shared_dir() else {
        eprintln!("../shared/matrices not present: skipped");
        return;
    };
    for name in [
        "bayer10.mtx.gz",
        "west0479.mtx",
        "t2d_q9.mtx.gz",
        "reorientation_8.mtx",
        "bcsstk14.mtx",
        "lap3D_7pt_n20.mtx",
    ] {
        let (a, _) = mm::read_matrix_market::<f64>(&dir.join(name)).unwrap();
        let n = a.nrows();
        let b = a.mul_vec(&vec![1.0; n]);
        for ord in orderings().into_iter().skip(1) {
            let opts = SolverOptions {
                ordering: ord.clone(),
                ..Default::default()
            };
            let an = tessera::sparse::analyze(&a, &opts).unwrap();
            // The ordering is deterministic: a second analysis gives the same structure.
            let again = tessera::sparse::analyze(&a, &opts).unwrap();
            assert_eq!(
                an.symbolic().perm(),
                again.symbolic().perm(),
                "{name}: {ord:?} is not deterministic"
            );
            let f = an.factorize(&rt(), &a).unwrap();
            let (x, _) = f.solve(&b, 1).unwrap();
            let res = scaled_residual(&a, &x, &b);
            eprintln!(
                "{name} {}: {} entries, residual {res:.2e}",
                ord.name(),
                f.factor_entries()
            );
            assert!(res <= 1e-12, "{name} {ord:?}: residual {res:e}");
        }
    }
}

/// Without the `scotch` feature, asking for Scotch is a clear error, not a panic.
#[cfg(not(feature = "scotch"))]
#[test]
fn scotch_without_the_feature_is_an_error() {
    let a = gen::laplacian_2d(5, 5);
    let opts = SolverOptions {
        ordering: Ordering::Scotch,
        ..Default::default()
    };
    let e = tessera::sparse::analyze(&a, &opts).unwrap_err();
    assert!(format!("{e}").contains("scotch"), "{e}");
}

#[test]
fn refinement_methods() {
    // An indefinite symmetric matrix factored with a large pivot threshold: the factors
    // are perturbed and every method must recover full accuracy.
    let (a, _) = mm::read_matrix_market::<f64>(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("matrices/kkt_22.mtx"),
    )
    .unwrap();
    for m in [Refinement::Simple, Refinement::Gmres, Refinement::BiCgStab] {
        let opts = SolverOptions {
            refinement: m,
            pivot_threshold: 1e-3,
            ..Default::default()
        };
        solve_check(&a, &opts, Some(Kind::Ldlt), 1e-13);
    }
    let spd = gen::laplacian_2d(20, 20);
    let opts = SolverOptions {
        refinement: Refinement::Cg,
        ..Default::default()
    };
    solve_check(&spd, &opts, Some(Kind::Llt), 1e-14);
    // Without refinement the perturbed factors alone are worse than with it.
    let opts = SolverOptions {
        refinement: Refinement::None,
        pivot_threshold: 1e-3,
        ..Default::default()
    };
    let rt = rt();
    let f = tessera::sparse::analyze(&a, &opts)
        .unwrap()
        .factorize(&rt, &a)
        .unwrap();
    assert!(f.perturbed_pivots() > 0);
    let b = a.mul_vec(&vec![1.0; a.nrows()]);
    let (_, rep) = f.solve(&b, 1).unwrap();
    assert_eq!(rep.iterations, 0);
}

#[test]
fn analysis_reuse_gives_the_same_answer() {
    let a = gen::convection_diffusion_3d(8, 8, 7, 20.0);
    let mut a2 = a.clone();
    for (k, v) in a2.values_mut().iter_mut().enumerate() {
        *v *= 1.0 + 0.1 * ((k % 7) as f64);
    }
    let rt = rt();
    let opts = SolverOptions::default();
    let an = tessera::sparse::analyze(&a, &opts).unwrap();
    let mut f = an.factorize(&rt, &a).unwrap();
    f.refactorize(&rt, &a2).unwrap();
    let b: Vec<f64> = (0..a.nrows()).map(|i| (i % 3) as f64).collect();
    let (x_reuse, _) = f.solve(&b, 1).unwrap();
    let fresh = tessera::sparse::analyze(&a2, &opts)
        .unwrap()
        .factorize(&rt, &a2)
        .unwrap();
    let (x_fresh, _) = fresh.solve(&b, 1).unwrap();
    assert!(scaled_residual(&a2, &x_reuse, &b) < 1e-14);
    let s = x_fresh.iter().map(|v| v.abs()).fold(0.0, f64::max);
    for (u, v) in x_reuse.iter().zip(&x_fresh) {
        assert!((u - v).abs() <= 1e-12 * s);
    }
    // Same values on the same analysis: the same solution to rounding. Not bitwise: the
    // updates into a column block commute, so their order (and the last bits of the sums)
    // depends on the schedule.
    let f1 = an.factorize(&rt, &a).unwrap();
    let f2 = an.factorize(&rt, &a).unwrap();
    let (x1, x2) = (f1.solve(&b, 1).unwrap().0, f2.solve(&b, 1).unwrap().0);
    let s = x1.iter().map(|v| v.abs()).fold(0.0, f64::max);
    for (u, v) in x1.iter().zip(&x2) {
        assert!((u - v).abs() <= 1e-13 * s);
    }
}

#[test]
fn error_paths() {
    let rt = rt();
    let opts = SolverOptions::default();
    // Not square.
    let r = CscMatrix::<f64>::from_triplets(3, 2, &[(0, 0, 1.0), (1, 1, 1.0)]).unwrap();
    assert!(matches!(
        tessera::sparse::analyze(&r, &opts),
        Err(Error::InvalidArgument { .. })
    ));
    // Structurally singular: an empty column.
    let s =
        CscMatrix::<f64>::from_triplets(3, 3, &[(0, 0, 1.0), (1, 0, 1.0), (2, 2, 1.0)]).unwrap();
    assert!(matches!(
        tessera::sparse::analyze(&s, &opts),
        Err(Error::StructurallySingular { rank: 2 })
    ));
    // Zero pivot without static pivoting.
    let z = CscMatrix::<f64>::from_triplets(
        2,
        2,
        &[(0, 0, 0.0), (1, 0, 1.0), (0, 1, 1.0), (1, 1, 1.0)],
    )
    .unwrap();
    let nopiv = SolverOptions {
        static_pivoting: false,
        matching: false,
        scaling: false,
        ordering: Ordering::Natural,
        factorization: Factorization::Ldlt,
        ..Default::default()
    };
    let an = tessera::sparse::analyze(&z, &nopiv).unwrap();
    assert!(matches!(
        an.factorize(&rt, &z),
        Err(Error::Singular { index: 1 })
    ));
    // ... and with it, the system still solves.
    let f = tessera::sparse::analyze(&z, &opts)
        .unwrap()
        .factorize(&rt, &z)
        .unwrap();
    let (x, rep) = f.solve(&[1.0, 2.0], 1).unwrap();
    assert!(rep.residual < 1e-14, "{x:?}");
    // LL^T on an indefinite matrix.
    let ind = gen::laplacian_2d(5, 5);
    let mut neg = ind.clone();
    neg.values_mut().iter_mut().for_each(|v| *v = -*v);
    let llt = SolverOptions {
        factorization: Factorization::Llt,
        ..Default::default()
    };
    let an = tessera::sparse::analyze(&neg, &llt).unwrap();
    assert!(matches!(
        an.factorize(&rt, &neg),
        Err(Error::NotPositiveDefinite { .. })
    ));
    // Mismatched right-hand side.
    let f = tessera::sparse::analyze(&ind, &opts)
        .unwrap()
        .factorize(&rt, &ind)
        .unwrap();
    assert!(matches!(
        f.solve(&[1.0; 7], 1),
        Err(Error::InvalidArgument { .. })
    ));
    assert!(matches!(
        f.solve(&[f64::NAN; 25], 1),
        Err(Error::NotFinite { .. })
    ));
    // A different pattern on an analysis.
    let an = tessera::sparse::analyze(&ind, &opts).unwrap();
    assert!(matches!(
        an.factorize(&rt, &gen::laplacian_2d(5, 6)),
        Err(Error::InvalidArgument { .. })
    ));
    // Non-finite entries.
    let mut nan = ind.clone();
    nan.values_mut()[3] = f64::INFINITY;
    assert!(matches!(
        tessera::sparse::analyze(&nan, &opts),
        Err(Error::NotFinite { .. })
    ));
    // A bad user permutation.
    let bad = SolverOptions {
        ordering: Ordering::Given(vec![0; 25]),
        ..Default::default()
    };
    assert!(matches!(
        tessera::sparse::analyze(&ind, &bad),
        Err(Error::InvalidArgument { .. })
    ));
}

// ---------------------------------------------------------------------------------------
// Command line

const BIN: &str = env!("CARGO_BIN_EXE_tessera");

fn json_field<'a>(s: &'a str, key: &str) -> &'a str {
    let k = format!("\"{key}\":");
    let i = s.find(&k).unwrap_or_else(|| panic!("no {key} in {s}")) + k.len();
    let rest = &s[i..];
    let end = rest.find([',', '}']).unwrap();
    rest[..end].trim_matches('"')
}

#[test]
fn cli_solve_json() {
    let m = Path::new(env!("CARGO_MANIFEST_DIR")).join("matrices/convdiff2d_8x8_pe20.mtx");
    let out = Command::new(BIN)
        .args([
            "solve",
            m.to_str().unwrap(),
            "--json",
            "--repeat",
            "2",
            "--threads",
            "2",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s = String::from_utf8(out.stdout).unwrap();
    for k in [
        "n",
        "nnz",
        "factorization",
        "ordering",
        "analyze_s",
        "factor_s",
        "solve_s",
        "factor_entries",
        "factor_bytes",
        "refinement_iterations",
        "residual",
    ] {
        json_field(&s, k);
    }
    assert_eq!(json_field(&s, "n"), "64");
    assert_eq!(json_field(&s, "factorization"), "lu");
    assert!(json_field(&s, "residual").parse::<f64>().unwrap() < 1e-12);
    // A generated problem, forced LDL^T, AMD, text output.
    let out = Command::new(BIN)
        .args([
            "solve",
            "gen:laplace3d:8",
            "--factorization",
            "ldlt",
            "--ordering",
            "amd",
        ])
        .output()
        .unwrap();
    let s = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success());
    assert!(
        s.contains("ldlt") && s.contains("ordering amd") && s.contains("PASSED"),
        "{s}"
    );
}

#[test]
fn cli_rhs_and_generate() {
    let dir = std::env::temp_dir().join(format!("tessera-sparse-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let a = dir.join("a.mtx.gz");
    let out = Command::new(BIN)
        .args(["generate", "gen:convdiff3d:5:30", a.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (m, _) = mm::read_matrix_market::<f64>(&a).unwrap();
    assert_eq!(m, gen::convection_diffusion_3d(5, 5, 5, 30.0));
    let b = faer::Mat::<f64>::from_fn(125, 3, |i, j| (i + 10 * j) as f64);
    let bp = dir.join("b.mtx");
    mm::write_dense_matrix_market(&bp, b.as_ref()).unwrap();
    let out = Command::new(BIN)
        .args([
            "solve",
            a.to_str().unwrap(),
            "--rhs",
            bp.to_str().unwrap(),
            "--json",
        ])
        .output()
        .unwrap();
    let s = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(json_field(&s, "nrhs"), "3");
    // Wrong number of rows in the right-hand side.
    let bad = dir.join("bad.mtx");
    mm::write_dense_matrix_market(&bad, faer::Mat::<f64>::zeros(7, 1).as_ref()).unwrap();
    let out = Command::new(BIN)
        .args(["solve", a.to_str().unwrap(), "--rhs", bad.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("125"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn cli_errors() {
    let dir = std::env::temp_dir().join(format!("tessera-sparse-err-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("bad.mtx");
    std::fs::write(
        &f,
        "%%MatrixMarket matrix coordinate real general\n3 3 2\n1 1 1.0\n2 x 2.0\n",
    )
    .unwrap();
    let out = Command::new(BIN)
        .args(["solve", f.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(e.contains("line 4"), "{e}");
    assert!(!e.contains("panicked"));
    for args in [
        vec!["solve"],
        vec!["solve", "gen:laplace3d:0"],
        vec!["solve", "gen:laplace3d:4", "--ordering", "xyz"],
        vec!["solve", "/nonexistent.mtx"],
        vec![
            "solve",
            "gen:laplace3d:4",
            "--factorization",
            "llt",
            "--threads",
            "0",
        ],
    ] {
        let out = Command::new(BIN).args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
    }
    std::fs::remove_dir_all(&dir).ok();
}
