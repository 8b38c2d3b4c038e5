//! A real LAPACK client solves real problems through Tessera: Debian's python3-numpy
//! (`/usr/bin/python3`, linked against the system `liblapack.so.3`) runs
//! `tests/clients/numpy_check.py` with `libtessera_lapack.so` preloaded. The script checks
//! solve, inv, cholesky, qr, least squares through qr, slogdet and the LinAlgError paths
//! in float64 and complex128; the loader's binding log (`LD_DEBUG=bindings`) shows that
//! numpy's LAPACK calls went to Tessera's library and not to the system LAPACK.
//!
//! Without `/usr/bin/python3` or its numpy the test prints a "skipped" line and passes,
//! unless `TESSERA_REQUIRE_CLIENTS=1` (set by scripts/test.sh, which installs the Debian
//! package `python3-numpy`).

#![cfg(all(target_os = "linux", target_env = "gnu", feature = "lapack-symbols"))]

use std::fs::{self, File};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const PYTHON: &str = "/usr/bin/python3";
/// Routines the script makes numpy call; each must bind to Tessera's library.
const EXPECTED: &[&str] = &[
    "dgesv_", "zgesv_", "dpotrf_", "zpotrf_", "dgeqrf_", "zgeqrf_", "dorgqr_", "zungqr_",
    "dgetrf_", "zgetrf_",
];
const TIME_LIMIT: Duration = Duration::from_secs(120);

mod support;
use support::{find_library, scratch_dir, LIB};

fn skip(why: &str) {
    support::skip(why, "install the Debian package python3-numpy");
}

/// `/usr/bin/python3` with a clean Python environment: `-E` ignores PYTHON* variables
/// (a pyenv's PYTHONHOME or PYTHONPATH), `-s` ignores the user's site-packages, so the
/// numpy imported is the system one.
fn python() -> Command {
    let mut c = Command::new(PYTHON);
    c.args(["-E", "-s"]);
    c.env_remove("LD_PRELOAD")
        .env_remove("LD_LIBRARY_PATH")
        .env_remove("LD_DEBUG")
        .env_remove("LD_DEBUG_OUTPUT")
        .env_remove("LD_BIND_NOW");
    c
}

/// One line of the loader's binding log: `from` had its reference to `sym` bound to `to`.
struct Binding {
    from: String,
    to: String,
    sym: String,
}

/// Parses the lines of an `LD_DEBUG=bindings` log, e.g.
/// "1234:\tbinding file /x/_umath_linalg.so [0] to /y/libtessera_lapack.so [0]: normal symbol `dgesv_'".
fn bindings(log: &str) -> Vec<Binding> {
    let mut out = Vec::new();
    for line in log.lines() {
        let Some((_, rest)) = line.split_once("binding file ") else {
            continue;
        };
        let Some((from, rest)) = rest.split_once(" [") else {
            continue;
        };
        let Some((_, rest)) = rest.split_once("] to ") else {
            continue;
        };
        let Some((to, rest)) = rest.split_once(" [") else {
            continue;
        };
        let Some((_, sym)) = rest.split_once("symbol `") else {
            continue;
        };
        let sym = sym.split('\'').next().unwrap_or("");
        out.push(Binding {
            from: from.to_string(),
            to: to.to_string(),
            sym: sym.to_string(),
        });
    }
    out
}

#[test]
fn numpy_solves_through_tessera() {
    if !Path::new(PYTHON).exists() {
        skip(&format!("{PYTHON} not found"));
        return;
    }
    let probe = python()
        .args(["-c", "import numpy.linalg"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    match probe {
        Ok(s) if s.success() => {}
        Ok(_) => {
            skip(&format!("numpy is not importable by {PYTHON}"));
            return;
        }
        Err(e) => {
            skip(&format!("{PYTHON} could not be run: {e}"));
            return;
        }
    }

    let lib = find_library();
    let lib_str = lib.to_str().expect("library path is UTF-8").to_string();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/numpy_check.py");
    assert!(script.is_file(), "{} is missing", script.display());

    let dir = scratch_dir("numpy-client");
    let (out_path, err_path) = (dir.join("stdout"), dir.join("stderr"));
    let log_prefix = dir.join("bindings");
    let start = Instant::now();
    let mut child = python()
        .arg(&script)
        .env("LD_PRELOAD", &lib)
        .env("LD_DEBUG", "bindings")
        .env("LD_DEBUG_OUTPUT", &log_prefix)
        .stdin(Stdio::null())
        .stdout(File::create(&out_path).expect("stdout file"))
        .stderr(File::create(&err_path).expect("stderr file"))
        .spawn()
        .expect("start /usr/bin/python3");
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait for python") {
            break Some(s);
        }
        if start.elapsed() > TIME_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let elapsed = start.elapsed();
    let stdout = fs::read_to_string(&out_path).unwrap_or_default();
    let stderr = fs::read_to_string(&err_path).unwrap_or_default();
    // glibc writes the log to <prefix>.<pid>, one file per process.
    let mut log = String::new();
    for e in fs::read_dir(&dir)
        .expect("read scratch directory")
        .flatten()
    {
        if e.file_name().to_string_lossy().starts_with("bindings.") {
            log.push_str(&fs::read_to_string(e.path()).unwrap_or_default());
        }
    }
    let _ = fs::remove_dir_all(&dir);

    println!("{PYTHON} {} with LD_PRELOAD={lib_str}", script.display());
    print!("{stdout}");
    let Some(status) = status else {
        panic!("numpy_check.py did not finish within {TIME_LIMIT:?}\nstderr:\n{stderr}");
    };
    assert!(
        status.success(),
        "numpy_check.py failed ({status})\nstderr:\n{stderr}"
    );
    assert!(
        stdout.lines().any(|l| l.trim() == "ALL OK"),
        "numpy_check.py did not print ALL OK\nstderr:\n{stderr}"
    );
    assert!(
        !stdout.lines().any(|l| l.starts_with("FAIL")),
        "numpy_check.py reported failures"
    );
    let checks = stdout.lines().filter(|l| l.starts_with("ok ")).count();
    assert!(checks >= 40, "only {checks} checks ran");

    assert!(
        !log.is_empty(),
        "the loader wrote no binding log (LD_DEBUG_OUTPUT={})",
        log_prefix.display()
    );
    let all = bindings(&log);
    // Tessera's references to its own symbols are resolved at load time whatever is
    // called; the script opens numpy's modules with lazy binding, so another object's
    // binding to Tessera means that object called the routine.
    let bound: Vec<&Binding> = all
        .iter()
        .filter(|b| b.to == lib_str && b.from != lib_str)
        .collect();
    let mut names: Vec<&str> = bound.iter().map(|b| b.sym.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    println!("symbols bound to {LIB}: {}", names.join(" "));
    for b in &bound {
        println!("  {:<8} from {}", b.sym, b.from);
    }
    let to_system: Vec<String> = all
        .iter()
        .filter(|b| b.to.contains("liblapack.so") && EXPECTED.contains(&b.sym.as_str()))
        .map(|b| format!("{} from {} to {}", b.sym, b.from, b.to))
        .collect();
    let missing: Vec<&str> = EXPECTED
        .iter()
        .copied()
        .filter(|s| !names.contains(s))
        .collect();
    assert!(
        missing.is_empty() && to_system.is_empty(),
        "numpy's calls to {missing:?} did not bind to {lib_str}; bound to the system LAPACK instead: {to_system:?}"
    );
    println!("{checks} checks passed in {:.1} s", elapsed.as_secs_f64());
}
