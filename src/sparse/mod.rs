//! # Sparse direct solver
//!
//! Tessera's PaStiX side: `analyze -> factorize -> solve` for sparse matrices, with a
//! fill-reducing ordering, a supernodal symbolic analysis and a numeric factorization run as
//! tasks on the [`runtime`](crate::runtime) with the dense tile kernels.

pub mod csc;
pub mod numeric;
pub mod order;
mod refine;
pub mod solver;
pub mod symbolic;

pub use csc::CscMatrix;
pub use order::Ordering;
pub use numeric::Kind;
pub use solver::{analyze, Analysis, Factorization, Factors, Refinement, SolveReport, SolverOptions};
pub use symbolic::{Symbolic, SymbolicOptions};
