//! # Tessera
//!
//! Task-based tiled dense linear algebra in Rust: Cholesky, LU with partial pivoting, QR,
//! least squares and level-3 BLAS written as *sequential task flow* over tiles, executed by
//! an embedded runtime that infers the dependencies and runs the task graph on all cores.
//!
//! Layers (each a folder; data and control flow down):
//! - [`dense`]: the tiled algorithms (submission loops over tiles, with priorities);
//! - [`tile`]: [`TileMatrix`](tile::TileMatrix), distributions, LAPACK-layout conversion;
//! - [`runtime`]: handles, tasks, dependency inference, scheduler, workers, tracing;
//! - `tessera-kernels` (re-exported as [`kernels`]): single-tile kernels on faer.
//!
//! ```
//! use tessera::{dense, runtime::Runtime, Uplo};
//! use faer::Mat;
//! let rt = Runtime::with_default();
//! let n = 300;
//! // A symmetric positive definite matrix and a right-hand side.
//! let mut a = Mat::<f64>::from_fn(n, n, |i, j| if i == j { n as f64 } else { 1.0 / (1.0 + (i + j) as f64) });
//! let mut b = Mat::<f64>::from_fn(n, 1, |i, _| i as f64);
//! dense::lapack::posv(&rt, Uplo::Lower, a.as_mut(), b.as_mut()).unwrap();
//! ```

#![warn(missing_docs)]

#[cfg(feature = "mpi")]
pub mod comm;
pub mod dense;
pub mod env;
mod error;
pub mod hpl;
pub mod runtime;
pub mod sparse;
pub mod tile;

pub use error::{Error, Result};
pub use tessera_kernels as kernels;
pub use tessera_kernels::{c32, c64, DType, Diag, Norm, Op, Scalar, Side, Uplo};

/// The README's examples, compiled and run as doc tests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
