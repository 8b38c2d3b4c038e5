//! The one place where environment variables are read. Each only overrides a default that
//! is also reachable through an argument, and each override is reported once on stderr.
//!
//! | variable | overrides |
//! |---|---|
//! | `TESSERA_NB` | the automatic tile size ([`crate::dense::auto_tile_size`]) |
//! | `TESSERA_KERNELS` | the tile-kernel backend of the `tessera` command (`faer` or `blas`, see `--kernels`) |
//! | `TESSERA_NUM_THREADS` | the number of runtime workers of [`crate::runtime::RuntimeConfig::default`] (the cores available) |
//! | `TESSERA_TILE_CACHE_MB` | the bound on recycled tile buffers ([`crate::tile::pool`], default 2048; 0 keeps none) |
//! | `TESSERA_TRACE` | [`crate::runtime::RuntimeConfig::trace`] (any value but `0` turns tracing on) |

use std::sync::OnceLock;

fn read(name: &'static str, cell: &'static OnceLock<Option<String>>) -> Option<&'static str> {
    cell.get_or_init(|| {
        let v = std::env::var(name).ok().filter(|v| !v.is_empty());
        if let Some(v) = &v {
            eprintln!("tessera: {name}={v} overrides the default");
        }
        v
    })
    .as_deref()
}

/// The tile size forced by `TESSERA_NB`, if set to a positive integer.
pub fn tile_size_override() -> Option<usize> {
    static C: OnceLock<Option<String>> = OnceLock::new();
    read("TESSERA_NB", &C)
        .and_then(|v| v.parse().ok())
        .filter(|&n: &usize| n > 0)
}

/// Whether `TESSERA_TRACE` asks for tracing.
pub fn trace_requested() -> bool {
    static C: OnceLock<Option<String>> = OnceLock::new();
    read("TESSERA_TRACE", &C).is_some_and(|v| v != "0")
}

/// The tile-kernel backend named by `TESSERA_KERNELS` (`faer` or `blas`), if set.
pub fn kernels_override() -> Option<&'static str> {
    static C: OnceLock<Option<String>> = OnceLock::new();
    read("TESSERA_KERNELS", &C)
}

/// The number of workers forced by `TESSERA_NUM_THREADS`, if set to a positive integer.
pub fn num_threads_override() -> Option<usize> {
    static C: OnceLock<Option<String>> = OnceLock::new();
    read("TESSERA_NUM_THREADS", &C)
        .and_then(|v| v.parse().ok())
        .filter(|&n: &usize| n > 0)
}

/// The tile-buffer cache bound in MiB forced by `TESSERA_TILE_CACHE_MB`, if set to an
/// integer (0 turns the cache off).
pub fn tile_cache_mb_override() -> Option<usize> {
    static C: OnceLock<Option<String>> = OnceLock::new();
    read("TESSERA_TILE_CACHE_MB", &C).and_then(|v| v.parse().ok())
}
