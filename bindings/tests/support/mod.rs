//! What the client tests share: finding the built library, scratch directories, and the
//! skip policy (`TESSERA_REQUIRE_CLIENTS=1`, set by scripts/test.sh, turns a missing
//! client program into a failure).

#![allow(dead_code)]

use std::fs;
use std::path::PathBuf;

pub const LIB: &str = "libtessera_lapack.so";

pub fn require_clients() -> bool {
    std::env::var("TESSERA_REQUIRE_CLIENTS").is_ok_and(|v| v == "1")
}

/// Passes with a "skipped" line, or fails when `TESSERA_REQUIRE_CLIENTS=1`.
pub fn skip(why: &str, install: &str) {
    if require_clients() {
        panic!("TESSERA_REQUIRE_CLIENTS=1 but {why} ({install})");
    }
    println!("skipped: {why} ({install} to run this test)");
}

/// `target/<profile>/libtessera_lapack.so` (or the copy in `deps/`), found from this test
/// binary's path `target/<profile>/deps/<test>`.
pub fn find_library() -> PathBuf {
    let exe = std::env::current_exe().expect("path of the test binary");
    let deps = exe.parent().expect("test binary directory");
    let profile = deps.parent().expect("target profile directory");
    let candidates = [profile.join(LIB), deps.join(LIB)];
    for c in &candidates {
        if c.is_file() {
            return c.canonicalize().expect("canonical path of the library");
        }
    }
    panic!(
        "{LIB} not found (looked at {}); build it with `cargo build --release -p tessera-lapack` \
         (or run the tests with `cargo test --release --workspace`, which builds it)",
        candidates.map(|c| c.display().to_string()).join(", ")
    );
}

/// A fresh scratch directory under the system temp dir.
pub fn scratch_dir(what: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!("tessera-{what}-{}-{nanos}", std::process::id()));
    fs::create_dir_all(&dir).expect("create scratch directory");
    dir
}
