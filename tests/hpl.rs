//! `tessera-hpl` end to end: small `HPL.dat` files (good and malformed), the report read
//! the way HPL output parsers read it, the residual verdicts, skipped grids, output files
//! and the mixed-precision mode.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_tessera-hpl");

/// A fresh scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tessera-hpl-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

struct Dat {
    device: &'static str,
    ns: &'static str,
    nbs: &'static str,
    ps: &'static str,
    qs: &'static str,
    threshold: &'static str,
    pfacts: &'static str,
}

impl Default for Dat {
    fn default() -> Self {
        Dat {
            device: "6",
            ns: "300 517",
            nbs: "64 100",
            ps: "1",
            qs: "1",
            threshold: "16.0",
            pfacts: "2",
        }
    }
}

fn count(list: &str) -> usize {
    list.split_whitespace().count()
}

impl Dat {
    fn text(&self) -> String {
        format!(
            "HPLinpack benchmark input file
Innovative Computing Laboratory, University of Tennessee
HPL.out      output file name (if any)
{}            device out (6=stdout,7=stderr,file)
{}            # of problems sizes (N)
{}   Ns
{}            # of NBs
{}      NBs
0            PMAP process mapping (0=Row-,1=Column-major)
{}            # of process grids (P x Q)
{}   Ps
{}   Qs
{}         threshold
{}            # of panel fact
{}            PFACTs (0=left, 1=Crout, 2=Right)
1            # of recursive stopping criterium
4            NBMINs (>= 1)
1            # of panels in recursion
2            NDIVs
1            # of recursive panel fact.
1            RFACTs (0=left, 1=Crout, 2=Right)
1            # of broadcast
1            BCASTs (0=1rg,1=1rM,2=2rg,3=2rM,4=Lng,5=LnM)
1            # of lookahead depth
1            DEPTHs (>=0)
2            SWAP (0=bin-exch,1=long,2=mix)
64           swapping threshold
0            L1 in (0=transposed,1=no-transposed) form
0            U  in (0=transposed,1=no-transposed) form
1            Equilibration (0=no,1=yes)
8            memory alignment in double (> 0)
",
            self.device,
            count(self.ns),
            self.ns,
            count(self.nbs),
            self.nbs,
            count(self.ps),
            self.ps,
            self.qs,
            self.threshold,
            count(self.pfacts),
            self.pfacts
        )
    }
}

fn run_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env("TESSERA_NUM_THREADS", "2")
        .output()
        .expect("tessera-hpl runs")
}

/// One result as an HPL output parser reads it: the T/V line split on blanks, then the
/// residual line's value and verdict.
#[derive(Debug)]
struct Result {
    tv: String,
    n: usize,
    nb: usize,
    p: usize,
    q: usize,
    time: f64,
    gflops: f64,
    resid: Option<(f64, String)>,
}

fn parse_report(s: &str) -> Vec<Result> {
    let mut out: Vec<Result> = Vec::new();
    for line in s.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() == 7 && (f[0].starts_with("WR") || f[0].starts_with("WC")) && f[0].len() == 8 {
            assert_eq!(
                line.len(),
                80,
                "HPL 2.3 result lines are 80 columns: {line:?}"
            );
            out.push(Result {
                tv: f[0].into(),
                n: f[1].parse().unwrap(),
                nb: f[2].parse().unwrap(),
                p: f[3].parse().unwrap(),
                q: f[4].parse().unwrap(),
                time: f[5].parse().unwrap(),
                gflops: f[6].parse().unwrap(),
                resid: None,
            });
        } else if let Some(rest) =
            line.strip_prefix("||Ax-b||_oo/(eps*(||A||_oo*||x||_oo+||b||_oo)*N)=")
        {
            let f: Vec<&str> = rest.split_whitespace().collect();
            assert_eq!(f.len(), 3, "{line:?}");
            assert_eq!(f[1], "......");
            out.last_mut()
                .expect("a residual line follows a result")
                .resid = Some((f[0].parse().unwrap(), f[2].to_string()));
        }
    }
    out
}

fn summary(s: &str) -> (usize, usize, usize, usize) {
    let num = |prefix: &str| -> usize {
        s.lines()
            .find_map(|l| {
                let l = l.trim_start();
                l.strip_suffix(prefix).and_then(|v| v.trim().parse().ok())
            })
            .unwrap_or_else(|| panic!("no line ending in {prefix:?} in\n{s}"))
    };
    let finished: usize = s
        .lines()
        .find_map(|l| {
            l.strip_prefix("Finished")
                .and_then(|r| r.strip_suffix("tests with the following results:"))
                .and_then(|v| v.trim().parse().ok())
        })
        .expect("Finished line");
    (
        finished,
        num("tests completed and passed residual checks,"),
        num("tests completed and failed residual checks,"),
        num("tests skipped because of illegal input values."),
    )
}

#[test]
fn runs_every_combination_and_skips_grids_beyond_the_ranks() {
    let dir = scratch("combos");
    let dat = Dat {
        ps: "1 2",
        qs: "1 2",
        pfacts: "0 2",
        ..Default::default()
    };
    std::fs::write(dir.join("HPL.dat"), dat.text()).unwrap();
    let o = run_in(&dir, &["--kernels", "faer"]);
    let s = String::from_utf8(o.stdout).unwrap();
    assert!(
        o.status.success(),
        "{s}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let r = parse_report(&s);
    // 2 N x 2 NB x 2 PFACT on the 1 x 1 grid; the 2 x 2 grid is skipped.
    assert_eq!(r.len(), 8, "{s}");
    let mut i = 0;
    for n in [300, 517] {
        for nb in [64, 100] {
            for pf in ['L', 'R'] {
                let t = &r[i];
                assert_eq!(t.tv, format!("WR11C2{pf}4"));
                assert_eq!((t.n, t.nb, t.p, t.q), (n, nb, 1, 1));
                assert!(t.time >= 0.0 && t.gflops > 0.0, "{t:?}");
                let (res, verdict) = t.resid.clone().unwrap();
                assert!(res < 16.0 && res > 0.0, "{t:?}");
                assert_eq!(verdict, "PASSED");
                i += 1;
            }
        }
    }
    assert!(
        s.contains(">>> Need at least 4 processes for these tests"),
        "{s}"
    );
    assert_eq!(summary(&s), (16, 8, 0, 8));
    assert!(s.contains("\nEnd of Tests.\n"));
    for line in [
        "N      :     300      517 ",
        "NB     :      64      100 ",
        "P      :       1        2 ",
        "PFACT  :    Left    Right ",
    ] {
        assert!(s.lines().any(|l| l == line), "missing {line:?}");
    }
    // The same N gives the same matrix whatever NB: residuals of the same order.
    let r300: Vec<f64> = r
        .iter()
        .filter(|t| t.n == 300)
        .map(|t| t.resid.as_ref().unwrap().0)
        .collect();
    assert!(r300.iter().all(|&x| x < 1.0), "{r300:?}");
}

#[test]
fn a_threshold_below_the_residual_fails_and_prints_the_norms() {
    let dir = scratch("fail");
    let dat = Dat {
        ns: "200",
        nbs: "50",
        threshold: "1e-9",
        ..Default::default()
    };
    std::fs::write(dir.join("HPL.dat"), dat.text()).unwrap();
    let o = run_in(&dir, &[]);
    let s = String::from_utf8(o.stdout).unwrap();
    assert_eq!(o.status.code(), Some(2), "{s}");
    let r = parse_report(&s);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].resid.as_ref().unwrap().1, "FAILED");
    assert_eq!(summary(&s), (1, 0, 1, 0));
    let norm = |label: &str| -> f64 {
        s.lines()
            .find_map(|l| l.strip_prefix(label))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {label}"))
    };
    // ||A||_oo of a 200 x 200 matrix of entries in (-0.5, 0.5]: about 200 / 4.
    let a = norm("||A||_oo . . . . . . . . . . . . . . . . . . . = ");
    assert!(a > 30.0 && a < 100.0, "{a}");
    assert!(norm("||Ax-b||_oo  . . . . . . . . . . . . . . . . . = ") < 1e-10);
}

#[test]
fn no_check_with_a_negative_threshold() {
    let dir = scratch("nocheck");
    let dat = Dat {
        ns: "150",
        nbs: "40",
        threshold: "-1.0",
        ..Default::default()
    };
    std::fs::write(dir.join("HPL.dat"), dat.text()).unwrap();
    let o = run_in(&dir, &[]);
    let s = String::from_utf8(o.stdout).unwrap();
    assert!(o.status.success());
    assert!(!s.contains("PASSED") && !s.contains("FAILED"), "{s}");
    assert!(
        s.contains("     1 tests completed without checking,"),
        "{s}"
    );
}

#[test]
fn writes_the_file_named_in_hpl_dat() {
    let dir = scratch("file");
    let dat = Dat {
        device: "8",
        ns: "128",
        nbs: "32",
        ..Default::default()
    };
    let path = dir.join("my.dat");
    std::fs::write(&path, dat.text()).unwrap();
    let o = run_in(&dir, &["-f", path.to_str().unwrap()]);
    assert!(o.status.success());
    assert!(!String::from_utf8_lossy(&o.stdout).contains("T/V"));
    let s = std::fs::read_to_string(dir.join("HPL.out")).expect("HPL.out written");
    assert_eq!(parse_report(&s).len(), 1);
    assert_eq!(summary(&s), (1, 1, 0, 0));
}

#[test]
fn mixed_precision_refines_to_double_accuracy() {
    let dir = scratch("mxp");
    let dat = Dat {
        ns: "400",
        nbs: "96",
        ..Default::default()
    };
    std::fs::write(dir.join("HPL.dat"), dat.text()).unwrap();
    let o = run_in(&dir, &["--mxp"]);
    let s = String::from_utf8(o.stdout).unwrap();
    assert!(o.status.success(), "{s}");
    assert!(s.contains("Mode: mixed precision (HPL-MxP)"));
    let r = parse_report(&s);
    assert_eq!(r.len(), 1);
    let (res, verdict) = r[0].resid.clone().unwrap();
    assert_eq!(verdict, "PASSED");
    // Single precision alone would give a scaled residual around 1e8 times larger.
    assert!(res < 16.0, "{res}");
    let steps = s
        .lines()
        .find(|l| l.starts_with("Mixed precision:"))
        .expect("breakdown line");
    assert!(steps.contains("GMRES iteration"), "{steps}");
}

#[test]
fn malformed_files_are_refused_with_the_line() {
    let dir = scratch("bad");
    let good = Dat::default().text();
    let edit = |no: usize, with: &str| -> String {
        good.lines()
            .enumerate()
            .map(|(i, l)| {
                if i + 1 == no {
                    with.to_string()
                } else {
                    l.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let cases: Vec<(String, &str)> = vec![
        (edit(6, "300 abc Ns"), "line 6:"),
        (edit(6, "-1 300"), "line 6:"),
        (edit(8, "64 0"), "line 8:"),
        (edit(9, "2 PMAP"), "line 9:"),
        (edit(13, "x threshold"), "line 13:"),
        (edit(23, "9 BCAST"), "line 23:"),
        (edit(10, "3 grids"), "line 11:"),
        (
            good.lines().take(20).collect::<Vec<_>>().join("\n"),
            "line 21:",
        ),
        (String::new(), "line 1:"),
    ];
    for (text, want) in cases {
        std::fs::write(dir.join("HPL.dat"), &text).unwrap();
        let o = run_in(&dir, &[]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{want}: {err}");
        assert!(err.contains(want), "expected {want:?} in {err:?}");
        assert!(!err.contains("panicked"), "{err}");
        assert!(o.stdout.is_empty());
    }
    let o = run_in(&dir, &["-f", "does-not-exist.dat"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("does-not-exist.dat"));
    let o = run_in(&dir, &["--threads", "0"]);
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn under_an_mpi_launcher_only_rank_zero_runs() {
    let dir = scratch("mpi");
    let dat = Dat {
        ns: "100",
        nbs: "32",
        ps: "1 2",
        qs: "1 2",
        ..Default::default()
    };
    std::fs::write(dir.join("HPL.dat"), dat.text()).unwrap();
    let launch = |rank: &str| {
        Command::new(BIN)
            .current_dir(&dir)
            .env("OMPI_COMM_WORLD_SIZE", "4")
            .env("OMPI_COMM_WORLD_RANK", rank)
            .output()
            .unwrap()
    };
    let o = launch("3");
    assert!(o.status.success() && o.stdout.is_empty());
    let o = launch("0");
    let s = String::from_utf8(o.stdout).unwrap();
    assert!(o.status.success(), "{s}");
    assert!(
        s.contains("started as 4 MPI ranks, but this build has no MPI"),
        "{s}"
    );
    assert_eq!(parse_report(&s).len(), 1);
    assert_eq!(summary(&s), (2, 1, 0, 1));
}

#[test]
fn trace_writes_each_tests_tasks() {
    let dir = scratch("trace");
    let dat = Dat {
        ns: "128 100",
        nbs: "32",
        ..Default::default()
    };
    std::fs::write(dir.join("HPL.dat"), dat.text()).unwrap();
    let prefix = dir.join("tr");
    let o = run_in(&dir, &["--trace", prefix.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert_eq!(summary(&String::from_utf8_lossy(&o.stdout)), (2, 2, 0, 0));
    for n in [128, 100] {
        let path = dir.join(format!("tr.N{n}.NB32.1x1.rank0.json"));
        let s = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
        assert!(
            s.starts_with("{\"traceEvents\":[") && s.ends_with('}'),
            "{s}"
        );
        // The timed part only: one panel per tile column, each panel's step on b, the
        // solve with U; none of the generation or the residual check.
        let count = |name: &str| s.matches(&format!("\"name\":\"{name}\"")).count();
        assert_eq!(count("getrf_panel"), 4, "N = {n}");
        assert_eq!(count("getrf_rhs"), 4, "N = {n}");
        assert_eq!(count("trsm"), 4, "N = {n}");
        assert_eq!(count("hpl_matgen"), 0, "N = {n}");
        assert!(
            err.contains(&format!("tr.N{n}.NB32.1x1.rank0.json): trace: ")),
            "{err}"
        );
    }
}
