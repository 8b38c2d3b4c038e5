//! The `tessera` command line: every op runs, checks its residual and reports it; JSON
//! output has the documented fields; baselines (faer, system LAPACK) run side by side;
//! bad arguments give a clear error and a non-zero exit status.

use std::process::Command;

fn tessera(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(args)
        .output()
        .expect("run tessera");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Extracts a numeric field from the one-line JSON object.
fn field(json: &str, name: &str) -> f64 {
    let key = format!("\"{name}\":");
    let i = json
        .find(&key)
        .unwrap_or_else(|| panic!("no field {name} in {json}"))
        + key.len();
    let rest = &json[i..];
    let end = rest.find([',', '}']).unwrap();
    rest[..end]
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("field {name} is not a number in {json}"))
}

#[test]
fn every_op_and_dtype_passes_its_residual_check() {
    for op in [
        "gemm",
        "potrf",
        "getrf",
        "getrf_nopiv",
        "geqrf",
        "posv",
        "gesv",
        "gels",
    ] {
        for dtype in ["f64", "f32", "c64", "c32"] {
            let (ok, out, err) = tessera(&[
                "bench",
                op,
                "--n",
                "150",
                "--nb",
                "32",
                "--threads",
                "2",
                "--dtype",
                dtype,
                "--json",
            ]);
            assert!(ok, "{op} {dtype} failed: {out} {err}");
            for f in ["n", "nb", "threads", "seconds", "gflops", "residual"] {
                field(&out, f);
            }
            assert!(
                out.contains(&format!("\"op\":\"{op}\""))
                    && out.contains(&format!("\"dtype\":\"{dtype}\""))
            );
            let r = field(&out, "residual");
            assert!(r < 16.0, "{op} {dtype}: residual {r}");
            assert!(field(&out, "gflops") > 0.0);
        }
    }
}

#[test]
fn tall_least_squares_and_qr() {
    for op in ["geqrf", "gels"] {
        let (ok, out, err) = tessera(&[
            "bench", op, "--m", "300", "--n", "120", "--nb", "40", "--nrhs", "3", "--json",
        ]);
        assert!(ok, "{out} {err}");
        assert!(field(&out, "residual") < 16.0, "{out}");
    }
}

#[test]
fn compare_with_faer_prints_the_baseline() {
    let (ok, out, err) = tessera(&[
        "bench",
        "getrf",
        "--n",
        "300",
        "--compare",
        "faer",
        "--json",
    ]);
    assert!(ok, "{out} {err}");
    assert!(out.contains("\"baseline\":{\"name\":\"faer"), "{out}");
    assert!(field(&out, "ratio") > 0.0);
    let (ok, out, _) = tessera(&["bench", "potrf", "--n", "300", "--compare", "faer"]);
    assert!(
        ok && out.contains("baseline") && out.contains("PASSED"),
        "{out}"
    );
}

#[test]
fn compare_with_the_system_lapack() {
    // scripts/test.sh installs liblapack.so.3 (OpenBLAS) before the tests run.
    for op in ["potrf", "getrf", "geqrf", "gesv", "posv", "gels", "gemm"] {
        for dtype in ["f64", "c32"] {
            let (ok, out, err) = tessera(&[
                "bench",
                op,
                "--n",
                "200",
                "--dtype",
                dtype,
                "--compare",
                "lapack",
                "--json",
            ]);
            assert!(ok, "{op} {dtype}: {out} {err}");
            assert!(out.contains("\"baseline\""), "{out}");
            assert!(field(&out, "residual") < 16.0);
        }
    }
}

#[test]
fn default_problem_and_trace() {
    let path = std::env::temp_dir().join(format!("tessera-trace-{}.json", std::process::id()));
    let p = path.to_str().unwrap();
    let (ok, out, err) = tessera(&["bench", "potrf", "--n", "500", "--trace", p]);
    assert!(ok, "{out} {err}");
    assert!(err.contains("busy") && err.contains("idle"), "{err}");
    let t = std::fs::read_to_string(&path).unwrap();
    assert!(t.starts_with("{\"traceEvents\":[") && t.contains("\"name\":\"potrf\""));
    let _ = std::fs::remove_file(&path);
}

#[test]
fn bad_arguments_are_reported() {
    for args in [
        &["bench"][..],
        &["bench", "svd"],
        &["bench", "potrf", "--n", "abc"],
        &["bench", "potrf", "--dtype", "f16"],
        &["bench", "potrf", "--compare", "mkl"],
        &["bench", "potrf", "--bogus"],
        &["frobnicate"],
    ] {
        let (ok, _, err) = tessera(args);
        assert!(!ok, "{args:?} should fail");
        assert!(
            !err.is_empty() && !err.contains("panicked"),
            "{args:?}: {err}"
        );
    }
    let (ok, out, _) = tessera(&["help"]);
    assert!(ok && out.contains("tessera bench OP"));
}
