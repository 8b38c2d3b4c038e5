//! # Tessera's C interface
//!
//! Built as `libtessera_lapack.so` / `libtessera_lapack.a`:
//! - [`fortran`]: LAPACK's Fortran-ABI symbols for `s`, `d`, `c`, `z`: `potrf`, `potrs`,
//!   `posv`, `getrf`, `getrs`, `gesv`, `geqrf`, `orgqr`/`ungqr`, `ormqr`/`unmqr`, `gels`,
//!   so that a program linked against LAPACK can link or preload Tessera instead;
//! - [`lapacke`]: the LAPACKE C functions for the same routines (row- and column-major);
//! - [`capi`]: the native C API for the tiled and asynchronous levels (header
//!   `bindings/include/tessera.h`).
//!
//! Every LAPACK routine runs on Tessera's tiled algorithms with the process-wide runtime
//! (one worker per core, `TESSERA_NUM_THREADS` to change it) and the tile size chosen from
//! the problem size (`TESSERA_NB` to force one).
//!
//! ## Where Tessera differs from reference LAPACK
//! - A NaN or infinity in the input is refused instead of spread through the result:
//!   `INFO > 0` is returned (the column of the first such entry found, 1-based; for
//!   `xPOTRF`/`xPOSV` the order of the first leading minor holding it; for `B`, `N` plus
//!   its column) and a line is printed on stderr.
//! - An out-of-range `IPIV` entry given to `xGETRS` is reported as illegal argument 6.
//! - Failures LAPACK has no code for (a panic inside Tessera, a runtime that cannot start)
//!   give `INFO = -1000` ([`common::INFO_INTERNAL`]) and a line on stderr; nothing ever
//!   unwinds into the caller or stops the process.
//! - The complex QR's reflectors have real `tau` (a valid LAPACK representation: `R`'s
//!   diagonal may then be complex). `xUNMQR`/`xUNGQR` accept any LAPACK `tau`.
//! - `xerbla_` is looked up in the global symbol scope at the first illegal argument: a
//!   program's own XERBLA wins, then the one of a LAPACK loaded in the process; with none,
//!   LAPACK's message is printed on stderr and the call returns.

#![allow(clippy::missing_safety_doc)]

#[allow(non_camel_case_types)]
pub mod capi;
pub mod common;
pub mod fortran;
pub mod lapacke;
mod routines;
