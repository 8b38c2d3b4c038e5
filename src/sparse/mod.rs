//! # Sparse direct solver
//!
//! Tessera's PaStiX side: `analyze -> factorize -> solve` for sparse matrices, with a
//! fill-reducing ordering, a supernodal symbolic analysis and a numeric factorization run as
//! tasks on the [`runtime`](crate::runtime) with the dense tile kernels.
//!
//! Pipeline ([`solver`]): check the matrix (square, finite, structurally nonsingular) ->
//! maximum-product matching for unsymmetric matrices ([`matching`]) -> fill-reducing ordering
//! of `A + A^T` ([`order`]: by default Tessera's parallel nested dissection on mesh-like
//! graphs, METIS otherwise) -> symbolic analysis into column blocks ([`symbolic`]) ->
//! equilibration -> numeric factorization as runtime tasks ([`numeric`]) -> solve and
//! iterative refinement. Input and output: [`mm`] (Matrix Market), [`gen`] (generated
//! problems).
//!
//! Where block-low-rank compression plugs in: the off-diagonal blocks of each column block
//! ([`symbolic::Block`]) are the units to compress after the column block is factored (or
//! before its updates, "just in time" as PaStiX does); the `update` task then multiplies
//! low-rank factors instead of dense blocks, and the scatter into the target stays.

#[allow(clippy::needless_range_loop)] // index loops over several arrays read best here
pub mod csc;
#[allow(clippy::needless_range_loop)] // index loops over several arrays read best here
pub mod gen;
#[allow(clippy::needless_range_loop)] // index loops over several arrays read best here
pub mod matching;
#[allow(clippy::needless_range_loop)] // index loops over several arrays read best here
pub mod mm;
#[allow(clippy::needless_range_loop)] // index loops over several arrays read best here
mod nd;
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
