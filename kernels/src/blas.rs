//! Level-3 BLAS on single tiles: gemm, trsm, syrk, herk (sequential, on faer).

use crate::{Diag, Op, Scalar, Side, Uplo};
use faer::linalg::matmul::triangular::{self, BlockStructure};
use faer::linalg::matmul::{matmul, matmul_with_conj};
use faer::linalg::triangular_solve as ts;
use faer::prelude::{Reborrow, ReborrowMut};
use faer::{Accum, Conj, MatMut, MatRef, Par};

/// Applies `op` to a view: the transposed view for `Trans`/`ConjTrans`, and whether the
/// elements must be conjugated when read.
#[inline]
fn opv<T: Scalar>(op: Op, a: MatRef<'_, T>) -> (MatRef<'_, T>, Conj) {
    match op {
        Op::NoTrans => (a, Conj::No),
        Op::Trans => (a.transpose(), Conj::No),
        Op::ConjTrans => (a.transpose(), Conj::Yes),
    }
}

/// Scales `c` by `beta` in place (beta = 0 overwrites with zeros, so NaN in `c` does not
/// propagate, as in the reference BLAS).
pub fn scale<T: Scalar>(beta: T, c: MatMut<'_, T>) {
    let mut c = c;
    if beta == T::one() {
        return;
    }
    let z = beta == T::zero();
    for j in 0..c.ncols() {
        for i in 0..c.nrows() {
            let x = c.rb_mut().get_mut(i, j);
            *x = if z { T::zero() } else { *x * beta };
        }
    }
}

/// `C = alpha op(A) op(B) + beta C` (BLAS `xGEMM`).
///
/// ```
/// use faer::Mat;
/// use tessera_kernels::{gemm, Op};
/// let a = Mat::<f64>::from_fn(2, 2, |i, j| (i + 2 * j) as f64);
/// let mut c = Mat::<f64>::zeros(2, 2);
/// gemm(Op::NoTrans, Op::Trans, 1.0, a.as_ref(), a.as_ref(), 0.0, c.as_mut());
/// assert_eq!(c[(0, 1)], 0.0 * 1.0 + 2.0 * 3.0);
/// ```
pub fn gemm<T: Scalar>(
    transa: Op,
    transb: Op,
    alpha: T,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    beta: T,
    c: MatMut<'_, T>,
) {
    let mut c = c;
    if crate::sysblas::gemm(transa, transb, alpha, a, b, beta, c.rb_mut()) {
        return;
    }
    let (a, ca) = opv(transa, a);
    let (b, cb) = opv(transb, b);
    debug_assert_eq!(a.nrows(), c.nrows());
    debug_assert_eq!(b.ncols(), c.ncols());
    debug_assert_eq!(a.ncols(), b.nrows());
    let accum = if beta == T::zero() {
        Accum::Replace
    } else {
        scale(beta, c.rb_mut());
        Accum::Add
    };
    if a.ncols() == 0 || alpha == T::zero() {
        if matches!(accum, Accum::Replace) {
            scale(T::zero(), c);
        }
        return;
    }
    if transb != Op::NoTrans
        && b.nrows() >= TRANSPOSE_B_MIN
        && b.ncols() >= TRANSPOSE_B_MIN
        && !row_major_rhs_is_fast()
    {
        // faer's AVX2 kernels read a row-major right-hand side markedly slower (about 0.8x
        // on a 320 tile) than a column-major one; a blocked copy of op(B) costs far less
        // than that difference (Cholesky's A(i,j) -= L(i,k) L(j,k)^H is this case).
        with_buffer::<T, _>(b.nrows() * b.ncols(), |buf| {
            let bt = copy_op_into(b, cb, buf);
            if ca == Conj::No {
                matmul(c, accum, a, bt, alpha, Par::Seq);
            } else {
                matmul_with_conj(c, accum, a, ca, bt, Conj::No, alpha, Par::Seq);
            }
        });
        return;
    }
    if ca == Conj::No && cb == Conj::No {
        matmul(c, accum, a, b, alpha, Par::Seq);
    } else {
        matmul_with_conj(c, accum, a, ca, b, cb, alpha, Par::Seq);
    }
}

/// Both dimensions of a transposed right-hand side from which [`gemm`] copies it into
/// column-major order first.
const TRANSPOSE_B_MIN: usize = 48;

/// Whether faer's gemm reads a row-major right-hand side at full speed on this CPU: its
/// AVX-512 kernels do (NoTrans x Trans on a 320 tile: 55.9 GFLOP/s against 55.8 for
/// NoTrans x NoTrans on an AVX-512 Zen 4 core, where the copy would cost 5%), its AVX2
/// kernels do not (0.8x on an AVX2-only Zen 3), so [`gemm`] copies such a side first
/// only on CPUs without AVX-512.
fn row_major_rhs_is_fast() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        static AVX512: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        *AVX512.get_or_init(|| std::arch::is_x86_feature_detected!("avx512f"))
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

thread_local! {
    /// Per-thread scratch for [`gemm`]'s copies, one vector per element type.
    static SCRATCH: std::cell::RefCell<Vec<Box<dyn std::any::Any>>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// Runs `f` on this thread's scratch vector of `T`, grown to at least `len` elements.
fn with_buffer<T: Scalar, R>(len: usize, f: impl FnOnce(&mut [T]) -> R) -> R {
    SCRATCH.with(|s| {
        let mut s = s.borrow_mut();
        let pos = match s.iter().position(|b| b.is::<Vec<T>>()) {
            Some(p) => p,
            None => {
                s.push(Box::new(Vec::<T>::new()));
                s.len() - 1
            }
        };
        let v = s[pos]
            .downcast_mut::<Vec<T>>()
            .expect("the type was checked");
        if v.len() < len {
            v.resize(len, T::zero());
        }
        f(&mut v[..len])
    })
}

/// Copies `x` (conjugated when `conj` is `Yes`) into `buf` in column-major order, in
/// 8 x 8 blocks so that both the strided reads and the writes stay in cache lines.
fn copy_op_into<'b, T: Scalar>(x: MatRef<'_, T>, conj: Conj, buf: &'b mut [T]) -> MatRef<'b, T> {
    let (m, n) = (x.nrows(), x.ncols());
    let buf = &mut buf[..m * n];
    const B: usize = 8;
    let cj = conj == Conj::Yes;
    for jb in (0..n).step_by(B) {
        let je = (jb + B).min(n);
        for ib in (0..m).step_by(B) {
            let ie = (ib + B).min(m);
            for j in jb..je {
                let dst = &mut buf[j * m + ib..j * m + ie];
                for (d, i) in dst.iter_mut().zip(ib..ie) {
                    // SAFETY: i < m and j < n, inside the view.
                    let v = unsafe { *x.get_unchecked(i, j) };
                    *d = if cj { v.conj() } else { v };
                }
            }
        }
    }
    MatRef::from_column_major_slice(buf, m, n)
}

/// Solves `op(A) X = alpha B` (side = Left) or `X op(A) = alpha B` (side = Right) for a
/// triangular `A`, overwriting `B` with `X` (BLAS `xTRSM`).
pub fn trsm<T: Scalar>(
    side: Side,
    uplo: Uplo,
    trans: Op,
    diag: Diag,
    alpha: T,
    a: MatRef<'_, T>,
    b: MatMut<'_, T>,
) {
    let mut b = b;
    if crate::sysblas::trsm(side, uplo, trans, diag, alpha, a, b.rb_mut()) {
        return;
    }
    scale(alpha, b.rb_mut());
    // Reduce everything to a left solve `M Y = C` with M lower or upper.
    // Right side: X op(A) = B  <=>  op(A)^T X^T = B^T.
    let (m, conj, lower, rhs) = match side {
        Side::Left => {
            let (m, c) = opv(trans, a);
            let lower = (uplo == Uplo::Lower) == (trans == Op::NoTrans);
            (m, c, lower, b)
        }
        Side::Right => {
            // op(A)^T: NoTrans -> A^T; Trans -> A; ConjTrans -> conj(A).
            let (m, c) = match trans {
                Op::NoTrans => (a.transpose(), Conj::No),
                Op::Trans => (a, Conj::No),
                Op::ConjTrans => (a, Conj::Yes),
            };
            let lower = (uplo == Uplo::Lower) != (trans == Op::NoTrans);
            (m, c, lower, b.transpose_mut())
        }
    };
    if rhs.nrows() == 0 || rhs.ncols() == 0 {
        return;
    }
    match (lower, diag) {
        (true, Diag::NonUnit) => {
            ts::solve_lower_triangular_in_place_with_conj(m, conj, rhs, Par::Seq)
        }
        (true, Diag::Unit) => {
            ts::solve_unit_lower_triangular_in_place_with_conj(m, conj, rhs, Par::Seq)
        }
        (false, Diag::NonUnit) => {
            ts::solve_upper_triangular_in_place_with_conj(m, conj, rhs, Par::Seq)
        }
        (false, Diag::Unit) => {
            ts::solve_unit_upper_triangular_in_place_with_conj(m, conj, rhs, Par::Seq)
        }
    }
}

/// `B = alpha op(A) B` (side Left) or `B = alpha B op(A)` (side Right) for triangular `A`
/// (BLAS `xTRMM`), using `work` (same shape as `B`) as scratch.
#[allow(clippy::too_many_arguments)]
pub fn trmm<T: Scalar>(
    side: Side,
    uplo: Uplo,
    trans: Op,
    diag: Diag,
    alpha: T,
    a: MatRef<'_, T>,
    b: MatMut<'_, T>,
    work: MatMut<'_, T>,
) {
    let mut work = work;
    let mut b = b;
    work.copy_from(b.rb());
    let st = match (uplo == Uplo::Lower, diag) {
        (true, Diag::NonUnit) => BlockStructure::TriangularLower,
        (true, Diag::Unit) => BlockStructure::UnitTriangularLower,
        (false, Diag::NonUnit) => BlockStructure::TriangularUpper,
        (false, Diag::Unit) => BlockStructure::UnitTriangularUpper,
    };
    let (m, conj) = opv(trans, a);
    let st = if trans == Op::NoTrans {
        st
    } else {
        st.transpose()
    };
    match side {
        Side::Left => triangular::matmul_with_conj(
            b.rb_mut(),
            BlockStructure::Rectangular,
            Accum::Replace,
            m,
            st,
            conj,
            work.rb(),
            BlockStructure::Rectangular,
            Conj::No,
            alpha,
            Par::Seq,
        ),
        Side::Right => triangular::matmul_with_conj(
            b.rb_mut(),
            BlockStructure::Rectangular,
            Accum::Replace,
            work.rb(),
            BlockStructure::Rectangular,
            Conj::No,
            m,
            st,
            conj,
            alpha,
            Par::Seq,
        ),
    }
}

fn rank_k<T: Scalar>(
    uplo: Uplo,
    trans: Op,
    herm: bool,
    alpha: T,
    a: MatRef<'_, T>,
    beta: T,
    c: MatMut<'_, T>,
) {
    let mut c = c;
    if crate::sysblas::rank_k(uplo, trans, herm, alpha, a, beta, c.rb_mut()) {
        return;
    }
    // Only the `uplo` triangle of C is referenced and updated.
    let n = c.nrows();
    for j in 0..n {
        let (lo, hi) = if uplo == Uplo::Lower {
            (j, n)
        } else {
            (0, j + 1)
        };
        for i in lo..hi {
            let x = c.rb_mut().get_mut(i, j);
            *x = if beta == T::zero() {
                T::zero()
            } else {
                *x * beta
            };
        }
        if herm {
            // The diagonal of a Hermitian matrix is real.
            let x = c.rb_mut().get_mut(j, j);
            *x = T::from_f64(x.re());
        }
    }
    let k = if trans == Op::NoTrans {
        a.ncols()
    } else {
        a.nrows()
    };
    if n == 0 || k == 0 || alpha == T::zero() {
        return;
    }
    // C += alpha X Y with X = op(A), Y = X^H (herk) or X^T (syrk).
    let (x, cx) = match trans {
        Op::NoTrans => (a, Conj::No),
        Op::Trans | Op::ConjTrans => (
            a.transpose(),
            if trans == Op::ConjTrans {
                Conj::Yes
            } else {
                Conj::No
            },
        ),
    };
    let cy = if herm { cx.compose(Conj::Yes) } else { cx };
    let st = if uplo == Uplo::Lower {
        BlockStructure::TriangularLower
    } else {
        BlockStructure::TriangularUpper
    };
    // faer's triangular product may write the other triangle (seen for complex types):
    // keep it intact, as BLAS promises.
    let saved = save_strict_triangle(other(uplo), c.rb());
    triangular::matmul_with_conj(
        c.rb_mut(),
        st,
        Accum::Add,
        x,
        BlockStructure::Rectangular,
        cx,
        x.transpose(),
        BlockStructure::Rectangular,
        cy,
        alpha,
        Par::Seq,
    );
    restore_strict_triangle(other(uplo), &saved, c.rb_mut());
    if herm {
        for j in 0..n {
            let x = c.rb_mut().get_mut(j, j);
            *x = T::from_f64(x.re());
        }
    }
}

/// The other triangle.
pub(crate) fn other(uplo: Uplo) -> Uplo {
    if uplo == Uplo::Lower {
        Uplo::Upper
    } else {
        Uplo::Lower
    }
}

/// Copies the strict `uplo` triangle of a square block (column by column).
pub(crate) fn save_strict_triangle<T: Scalar>(uplo: Uplo, a: MatRef<'_, T>) -> Vec<T> {
    let n = a.nrows().min(a.ncols());
    let mut v = Vec::with_capacity(n * n.saturating_sub(1) / 2);
    for j in 0..n {
        let rows = if uplo == Uplo::Lower { j + 1..n } else { 0..j };
        for i in rows {
            v.push(*a.get(i, j));
        }
    }
    v
}

/// Writes back what [`save_strict_triangle`] saved.
pub(crate) fn restore_strict_triangle<T: Scalar>(uplo: Uplo, saved: &[T], a: MatMut<'_, T>) {
    let mut a = a;
    let n = a.nrows().min(a.ncols());
    let mut k = 0;
    for j in 0..n {
        let rows = if uplo == Uplo::Lower { j + 1..n } else { 0..j };
        for i in rows {
            *a.rb_mut().get_mut(i, j) = saved[k];
            k += 1;
        }
    }
}

/// `C = alpha op(A) op(A)^H + beta C` on the `uplo` triangle of Hermitian `C`, with real
/// `alpha`, `beta` (BLAS `xHERK`; `trans` is `NoTrans` or `ConjTrans`).
pub fn herk<T: Scalar>(
    uplo: Uplo,
    trans: Op,
    alpha: f64,
    a: MatRef<'_, T>,
    beta: f64,
    c: MatMut<'_, T>,
) {
    let trans = if trans == Op::Trans {
        Op::ConjTrans
    } else {
        trans
    };
    rank_k(
        uplo,
        trans,
        true,
        T::from_f64(alpha),
        a,
        T::from_f64(beta),
        c,
    )
}

/// `C = alpha op(A) op(A)^T + beta C` on the `uplo` triangle of symmetric `C`
/// (BLAS `xSYRK`; `trans` is `NoTrans` or `Trans`).
pub fn syrk<T: Scalar>(
    uplo: Uplo,
    trans: Op,
    alpha: T,
    a: MatRef<'_, T>,
    beta: T,
    c: MatMut<'_, T>,
) {
    let trans = if trans == Op::ConjTrans {
        Op::Trans
    } else {
        trans
    };
    rank_k(uplo, trans, false, alpha, a, beta, c)
}
