//! # tessera-kernels
//!
//! Single-tile kernels for Tessera: level-3 BLAS (gemm, trsm, trmm, syrk, herk), Cholesky,
//! the LU panel with partial pivoting and row interchanges, LU without pivoting, Householder
//! QR with block reflectors applied across a column of tiles, copies and norms.
//!
//! Every kernel is sequential (`faer::Par::Seq`): parallelism comes from running many
//! kernels at once in Tessera's task runtime. Kernels know nothing of tasks or threads.
//! They are generic over the four element types of [`Scalar`]: `f32`, `f64`,
//! `Complex<f32>`, `Complex<f64>`.

#![warn(missing_docs)]

mod aux;
mod blas;
mod lapack;
mod scalar;
mod simd;
pub mod sysblas;

pub use aux::{
    find_non_finite, find_non_finite_triangle, gather_tiles, lacpy, laset, scatter_tiles, ssq_add,
    ssq_combine, tile_norm, tile_norm_hermitian, PartialNorm,
};
pub use blas::{gemm, herk, scale, syrk, trmm, trsm};
pub use lapack::{
    apply_block_reflector_tiles, apply_block_reflector_tiles_right, geqrt, getrf_nopiv,
    getrf_panel, getrf_panel_view, householder_tau, larft, laswp, laswp_tiles, potrf, tsmqr, tsqrt,
};
pub use num_complex::Complex;
pub use scalar::{DType, Scalar};

/// `Complex<f32>`.
#[allow(non_camel_case_types)]
pub type c32 = Complex<f32>;
/// `Complex<f64>`.
#[allow(non_camel_case_types)]
pub type c64 = Complex<f64>;

/// Transposition of an operand (BLAS `TRANS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `A`
    NoTrans,
    /// `A^T`
    Trans,
    /// `A^H`
    ConjTrans,
}

/// Which triangle is stored or referenced (BLAS `UPLO`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Uplo {
    /// Lower triangle.
    Lower,
    /// Upper triangle.
    Upper,
}

/// Side of a triangular operand (BLAS `SIDE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// `op(A) X`
    Left,
    /// `X op(A)`
    Right,
}

/// Whether a triangular matrix has an implicit unit diagonal (BLAS `DIAG`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Diag {
    /// The diagonal is read.
    NonUnit,
    /// The diagonal is taken as ones and not read.
    Unit,
}

/// Matrix norms (LAPACK `xLANGE` `NORM`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Norm {
    /// `max |a_ij|` (not a consistent norm).
    Max,
    /// Maximum column sum.
    One,
    /// Maximum row sum.
    Inf,
    /// Frobenius norm.
    Frobenius,
}
