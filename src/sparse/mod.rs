//! # Sparse direct solver
//!
//! Tessera's PaStiX side: `analyze -> factorize -> solve` for sparse matrices, with a
//! fill-reducing ordering, a supernodal symbolic analysis and a numeric factorization run as
//! tasks on the [`runtime`](crate::runtime) with the dense tile kernels.

#[allow(clippy::needless_range_loop)] // index loops over several arrays read best here
pub mod csc;
#[allow(clippy::needless_range_loop)] // index loops over several arrays read best here
pub mod gen;
#[allow(clippy::needless_range_loop)] // index loops over several arrays read best here
pub mod matching;
#[allow(clippy::needless_range_loop)] // index loops over several arrays read best here
pub mod mm;
#[allow(clippy::needless_range_loop)] // index loops over several arrays read best here
pub mod numeric;
#[allow(clippy::needless_range_loop)] // index loops over several arrays read best here
pub mod order;
#[allow(clippy::needless_range_loop)] // index loops over several arrays read best here
mod refine;
#[allow(clippy::needless_range_loop)] // index loops over several arrays read best here
pub mod solver;
#[allow(clippy::needless_range_loop)] // index loops over several arrays read best here
pub mod symbolic;

pub use csc::{CscMatrix, CsrMatrix};
pub use numeric::Kind;
pub use order::Ordering;
pub use solver::{
    analyze, Analysis, Factorization, Factors, Refinement, SolveReport, SolverOptions,
};
pub use symbolic::{Symbolic, SymbolicOptions};
