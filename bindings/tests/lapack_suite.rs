//! netlib LAPACK's own linear-equation test suite (Debian's `liblapack-test`) run against
//! `libtessera_lapack.so` by `../shared/tools/lapack-suite/lapack-suite.sh`: the paths GE,
//! PO, QR and LS in S, D, C and Z must pass with zero failures, zero error-exit failures
//! and zero unexpected INFO values, once with the automatic tile size and once with a tiny
//! one (`TESSERA_NB=7`, so that at the suite's sizes, up to 132, every call runs the
//! multi-tile paths with ragged edges).
//!
//! Skipped without the harness (it lives in ../shared, beside the project); skipped when
//! the suite's packages are missing, unless `TESSERA_REQUIRE_CLIENTS=1` (scripts/test.sh
//! installs `liblapack-test liblapack3 libblas3 binutils` and sets it).

#![cfg(all(target_os = "linux", feature = "lapack-symbols"))]

mod support;

use std::path::Path;
use std::process::Command;

const PATHS: &[&str] = &[
    "DGE", "DPO", "DQR", "DLS", "SGE", "SPO", "SQR", "SLS", "CGE", "CPO", "CQR", "CLS", "ZGE",
    "ZPO", "ZQR", "ZLS",
];

fn run(harness: &Path, lib: &Path, nb: Option<&str>) {
    let out = support::scratch_dir("lapack-suite");
    let mut cmd = Command::new(harness);
    cmd.arg("-q").arg("--out").arg(&out).arg(lib).args(PATHS);
    cmd.env_remove("TESSERA_NB");
    if let Some(nb) = nb {
        cmd.env("TESSERA_NB", nb);
    }
    let o = cmd.output().expect("run lapack-suite.sh");
    let text = String::from_utf8_lossy(&o.stdout);
    let label = nb.map_or("automatic tile size".to_string(), |n| {
        format!("TESSERA_NB={n}")
    });
    println!("== {label} ==\n{text}");
    let last = text
        .lines()
        .rev()
        .find(|l| l.contains(" tests, ") && l.contains(" failed"))
        .unwrap_or("");
    assert!(
        o.status.success() && last.ends_with(" 0 failed"),
        "LAPACK test suite with {label}: exit {:?}, `{last}`; logs in {}\n{}",
        o.status.code(),
        out.display(),
        String::from_utf8_lossy(&o.stderr)
    );
    for p in PATHS {
        assert!(
            text.lines()
                .any(|l| l.starts_with(p) && l.contains(" PASS ")),
            "{p} did not pass with {label}"
        );
    }
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn reference_lapack_suite_passes() {
    let harness = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/tools/lapack-suite/lapack-suite.sh");
    if !harness.is_file() {
        // The harness lives in ../shared, beside the project, not in it: without it there
        // is nothing to run, whatever TESSERA_REQUIRE_CLIENTS says.
        println!("skipped: the lapack-suite harness (../shared/tools/lapack-suite) is not present");
        return;
    }
    if !Path::new("/usr/lib/x86_64-linux-gnu/lapack/xlintstd").is_file()
        && !Command::new("dpkg")
            .args(["-s", "liblapack-test"])
            .output()
            .is_ok_and(|o| o.status.success())
    {
        return support::skip(
            "LAPACK's test drivers are not installed",
            "apt-get install liblapack-test liblapack3 libblas3 binutils",
        );
    }
    let lib = support::find_library();
    run(&harness, &lib, None);
    run(&harness, &lib, Some("7"));
}
