//! A C program (`tests/clients/c_client.c`) built with the system C compiler against
//! `include/tessera.h` and `libtessera_lapack.so`: the native tiled and asynchronous API,
//! error codes, and the LAPACK/LAPACKE symbols with the program's own `xerbla_` (linked
//! `-rdynamic`, as LAPACK's test suite does) receiving the illegal-argument reports.
//! Skipped (or failed under `TESSERA_REQUIRE_CLIENTS=1`) without `cc`.

#![cfg(all(target_os = "linux", feature = "lapack-symbols"))]

mod support;

use std::path::Path;
use std::process::Command;

#[test]
fn c_program_uses_the_header_and_the_library() {
    let lib = support::find_library();
    let dir = support::scratch_dir("c-client");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/c_client.c");
    let inc = Path::new(env!("CARGO_MANIFEST_DIR")).join("include");
    let exe = dir.join("c_client");
    let libdir = lib.parent().unwrap();
    let cc = match Command::new("cc")
        .args([
            "-std=c11",
            "-O2",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-rdynamic",
            "-o",
        ])
        .arg(&exe)
        .arg(&src)
        .arg(format!("-I{}", inc.display()))
        .arg(format!("-L{}", libdir.display()))
        .arg(format!("-Wl,-rpath,{}", libdir.display()))
        .args(["-ltessera_lapack", "-lm"])
        .output()
    {
        Ok(o) => o,
        Err(e) => return support::skip(&format!("no C compiler ({e})"), "install gcc"),
    };
    assert!(
        cc.status.success(),
        "compiling the C client failed:\n{}",
        String::from_utf8_lossy(&cc.stderr)
    );
    let run = Command::new(&exe).output().expect("run the C client");
    let out = String::from_utf8_lossy(&run.stdout);
    println!("{out}");
    assert!(
        run.status.success() && out.contains("ALL OK"),
        "C client failed:\n{out}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
