//! The error type of every Tessera call.

use std::fmt;

/// Everything that can go wrong in a Tessera call.
///
/// Numerical failures keep LAPACK's `INFO` meaning: [`Error::NotPositiveDefinite`] carries
/// the order of the leading minor that is not positive definite, [`Error::Singular`] the
/// (1-based) index `i` of the first exactly zero `U(i, i)`. [`Error::info`] gives the
/// LAPACK code directly.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// The leading minor of order `order` (1-based, LAPACK `INFO > 0` of `xPOTRF`) is not
    /// positive definite; the factorization could not be completed.
    NotPositiveDefinite {
        /// Order of the failing leading minor (1-based).
        order: usize,
    },
    /// `U(index, index)` (1-based, LAPACK `INFO > 0` of `xGETRF`) is exactly zero. The
    /// factorization was completed, but `U` is singular and cannot be used to solve.
    Singular {
        /// 1-based index of the first zero diagonal entry of `U`.
        index: usize,
    },
    /// The diagonal entry `index` (1-based) of a triangular factor `R` is exactly zero, so
    /// the least-squares solution cannot be computed (LAPACK `INFO > 0` of `xGELS`).
    RankDeficient {
        /// 1-based index of the zero diagonal entry.
        index: usize,
    },
    /// An input entry is NaN or infinite.
    NotFinite {
        /// Which argument (e.g. "A").
        arg: &'static str,
        /// 0-based row.
        row: usize,
        /// 0-based column.
        col: usize,
    },
    /// An argument is invalid (LAPACK `INFO < 0`): which one (1-based position in the
    /// LAPACK calling sequence where that applies, else 0) and why.
    InvalidArgument {
        /// 1-based position of the argument in the LAPACK routine, or 0.
        position: i32,
        /// What is wrong, for the person at the terminal.
        message: String,
    },
    /// A task panicked; the panic was caught and turned into this error.
    TaskPanicked {
        /// Kind of the task that panicked.
        task: &'static str,
        /// The panic message.
        message: String,
    },
    /// The runtime could not run the work (misuse of handles, no valid data replica...).
    Runtime(String),
    /// A dynamically loaded library (e.g. the system LAPACK) could not be used.
    Library(String),
    /// A file (Matrix Market, right-hand side...) is malformed: the 1-based line and why.
    Parse {
        /// 1-based line number (0 when the problem is not tied to a line, e.g. a truncated file).
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// Reading or writing a file failed.
    Io(String),
    /// A sparse matrix is structurally singular: no permutation puts nonzeros on the whole
    /// diagonal (`rank` is the structural rank found).
    StructurallySingular {
        /// Size of the largest matching found.
        rank: usize,
    },
}

impl Error {
    /// LAPACK's `INFO` value for this error: positive for numerical failures, `-i` for an
    /// illegal `i`-th argument, `-1000` for an illegal argument without a LAPACK position and
    /// for anything else LAPACK has no code for (always non-zero).
    pub fn info(&self) -> i32 {
        match self {
            Error::NotPositiveDefinite { order } => *order as i32,
            Error::Singular { index } | Error::RankDeficient { index } => *index as i32,
            Error::InvalidArgument { position, .. } if *position != 0 => -position.abs(),
            Error::InvalidArgument { .. } => -1000,
            _ => -1000,
        }
    }

    pub(crate) fn invalid(position: i32, message: impl Into<String>) -> Self {
        Error::InvalidArgument {
            position,
            message: message.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NotPositiveDefinite { order } => write!(
                f,
                "matrix is not positive definite: the leading minor of order {order} is not positive \
                 (check symmetry/Hermitian input or use LU)"
            ),
            Error::Singular { index } => {
                write!(f, "matrix is singular: U({index},{index}) is exactly zero (the factors are complete)")
            }
            Error::RankDeficient { index } => {
                write!(f, "matrix does not have full rank: R({index},{index}) is exactly zero")
            }
            Error::NotFinite { arg, row, col } => {
                write!(f, "{arg}({row},{col}) (0-based) is NaN or infinite; clean the input first")
            }
            Error::InvalidArgument { position, message } => {
                if *position > 0 {
                    write!(f, "invalid argument {position}: {message}")
                } else {
                    write!(f, "invalid argument: {message}")
                }
            }
            Error::TaskPanicked { task, message } => write!(f, "task '{task}' panicked: {message}"),
            Error::Runtime(m) => write!(f, "runtime error: {m}"),
            Error::Library(m) => write!(f, "library error: {m}"),
            Error::Parse { line, message } => {
                if *line > 0 {
                    write!(f, "line {line}: {message}")
                } else {
                    write!(f, "{message}")
                }
            }
            Error::Io(m) => write!(f, "I/O error: {m}"),
            Error::StructurallySingular { rank } => write!(
                f,
                "matrix is structurally singular: its structural rank is {rank} (some rows or columns cannot be matched to a nonzero)"
            ),
        }
    }
}

impl std::error::Error for Error {}

/// Shorthand for `Result<T, tessera::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;
