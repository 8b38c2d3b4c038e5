//! LAPACK-layout entry points on `ndarray` views (any memory order and strides): each
//! wraps the view as a faer view without copying and calls [`super::lapack`].
//!
//! ```
//! use ndarray::Array2;
//! use tessera::{dense, runtime::Runtime, Uplo};
//! let rt = Runtime::with_default();
//! let n = 50;
//! let mut a = Array2::<f64>::from_shape_fn((n, n), |(i, j)| if i == j { 10.0 } else { 0.1 });
//! let mut b = Array2::<f64>::ones((n, 1));
//! dense::ndarray::posv(&rt, Uplo::Lower, a.view_mut(), b.view_mut()).unwrap();
//! ```

use super::lapack;
use crate::error::Result;
use crate::runtime::Runtime;
#[allow(unused_imports)]
use faer::prelude::{Reborrow, ReborrowMut};
use ndarray::{ArrayView2, ArrayViewMut2};
use tessera_kernels::{Op, Scalar, Uplo};

fn as_faer<'a, T: Scalar>(a: ArrayView2<'a, T>) -> faer::MatRef<'a, T> {
    let (m, n) = a.dim();
    let s = a.strides();
    // SAFETY: the pointer, shape and (element) strides come from a live ndarray view that
    // the returned view borrows for the same lifetime.
    unsafe { faer::MatRef::from_raw_parts(a.as_ptr(), m, n, s[0], s[1]) }
}

fn as_faer_mut<'a, T: Scalar>(mut a: ArrayViewMut2<'a, T>) -> faer::MatMut<'a, T> {
    let (m, n) = a.dim();
    let (rs, cs) = (a.strides()[0], a.strides()[1]);
    // SAFETY: as above; the ndarray view is mutable and unique, and is consumed here.
    unsafe { faer::MatMut::from_raw_parts_mut(a.as_mut_ptr(), m, n, rs, cs) }
}

/// [`lapack::potrf`] on an ndarray view.
pub fn potrf<T: Scalar>(rt: &Runtime, uplo: Uplo, a: ArrayViewMut2<'_, T>) -> Result<()> {
    lapack::potrf(rt, uplo, as_faer_mut(a))
}

/// [`lapack::posv`] on ndarray views.
pub fn posv<T: Scalar>(
    rt: &Runtime,
    uplo: Uplo,
    a: ArrayViewMut2<'_, T>,
    b: ArrayViewMut2<'_, T>,
) -> Result<()> {
    lapack::posv(rt, uplo, as_faer_mut(a), as_faer_mut(b))
}

/// [`lapack::getrf`] on an ndarray view.
pub fn getrf<T: Scalar>(rt: &Runtime, a: ArrayViewMut2<'_, T>, ipiv: &mut [usize]) -> Result<()> {
    lapack::getrf(rt, as_faer_mut(a), ipiv)
}

/// [`lapack::getrs`] on ndarray views.
pub fn getrs<T: Scalar>(
    rt: &Runtime,
    trans: Op,
    a: ArrayView2<'_, T>,
    ipiv: &[usize],
    b: ArrayViewMut2<'_, T>,
) -> Result<()> {
    lapack::getrs(rt, trans, as_faer(a), ipiv, as_faer_mut(b))
}

/// [`lapack::gesv`] on ndarray views.
pub fn gesv<T: Scalar>(
    rt: &Runtime,
    a: ArrayViewMut2<'_, T>,
    ipiv: &mut [usize],
    b: ArrayViewMut2<'_, T>,
) -> Result<()> {
    lapack::gesv(rt, as_faer_mut(a), ipiv, as_faer_mut(b))
}

/// [`lapack::gels`] on ndarray views.
pub fn gels<T: Scalar>(
    rt: &Runtime,
    a: ArrayViewMut2<'_, T>,
    b: ArrayViewMut2<'_, T>,
) -> Result<()> {
    lapack::gels(rt, as_faer_mut(a), as_faer_mut(b))
}

/// [`lapack::geqrf`] on an ndarray view.
pub fn geqrf<T: Scalar>(rt: &Runtime, a: ArrayViewMut2<'_, T>) -> Result<lapack::QrReflectors<T>> {
    lapack::geqrf(rt, as_faer_mut(a))
}
