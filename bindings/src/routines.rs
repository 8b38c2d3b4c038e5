//! LAPACK's routines with LAPACK's rules (argument checks in the reference routines'
//! order, quick returns, workspace queries, INFO), generic over the element type and run
//! on Tessera's tiled algorithms. Arguments arrive already dereferenced; arrays are raw
//! column-major buffers with their leading dimensions. Each returns [`Out`]: the caller
//! turns `Err(k)` into `xerbla_` (Fortran ABI) or `LAPACKE_xerbla` (LAPACKE).
//!
//! Tile size: [`tessera::dense::auto_tile_size`] for the problem (`TESSERA_NB` overrides
//! it; a tiny value makes every call run the multi-tile paths).

use crate::common::{info_of, max1, runtime, set_work, view, view_mut, write_ipiv, Out};
use tessera::dense;
use tessera::tile::TileMatrix;
use tessera::{Error, Result};
use tessera_kernels::{Op, Scalar, Side, Uplo};

fn uplo_of(c: u8) -> Option<Uplo> {
    match c {
        b'U' => Some(Uplo::Upper),
        b'L' => Some(Uplo::Lower),
        _ => None,
    }
}

fn nb_for(m: i32, n: i32) -> usize {
    dense::auto_tile_size(m.max(0) as usize, n.max(0) as usize, runtime().workers())
}

/// Tiles of a caller's column-major matrix.
///
/// # Safety
/// `p` valid for reads of `m x n` with leading dimension `ld`.
unsafe fn tiles_in<T: Scalar>(
    p: *const T,
    m: i32,
    n: i32,
    ld: i32,
    nb: usize,
) -> Result<TileMatrix<T>> {
    // SAFETY: by the caller's contract.
    let v = unsafe { view(p, m, n, ld) };
    TileMatrix::from_col_major(runtime(), v, nb, nb)
}

/// Copies tiles back into a caller's column-major matrix.
///
/// # Safety
/// `p` valid for writes of `m x n` with leading dimension `ld`.
unsafe fn tiles_out<T: Scalar>(t: &TileMatrix<T>, p: *mut T, ld: i32) -> Result<()> {
    // SAFETY: by the caller's contract.
    let v = unsafe { view_mut(p, t.m() as i32, t.n() as i32, ld) };
    t.to_col_major(runtime(), v)
}

/// INFO for a non-finite entry: the 1-based column of A (B's columns counted after A's).
fn col_info(n_a: i32) -> impl Fn(&str, usize, usize) -> i32 {
    move |arg, _row, col| {
        if arg == "A" {
            col as i32 + 1
        } else {
            n_a.max(0) + col as i32 + 1
        }
    }
}

/// INFO for a non-finite entry of a Hermitian matrix: the order of the first leading minor
/// that holds it.
fn minor_info(n_a: i32) -> impl Fn(&str, usize, usize) -> i32 {
    move |arg, row, col| {
        if arg == "A" {
            row.max(col) as i32 + 1
        } else {
            n_a.max(0) + col as i32 + 1
        }
    }
}

fn finish(name: &str, r: Result<()>, nan: impl Fn(&str, usize, usize) -> i32) -> Out {
    Ok(match r {
        Ok(()) => 0,
        Err(e) => info_of(name, &e, nan),
    })
}

/// Whether a problem runs directly on the caller's thread with the tile kernels (the
/// rule of `tessera::dense::lapack`).
fn direct(m: i32, n: i32) -> bool {
    dense::lapack::runs_direct(m.max(0) as usize, n.max(0) as usize)
}

/// xPOTRF.
///
/// # Safety
/// LAPACK's contract on `a`.
pub(crate) unsafe fn potrf<T: Scalar>(name: &str, uplo: u8, n: i32, a: *mut T, lda: i32) -> Out {
    let Some(ul) = uplo_of(uplo) else {
        return Err(1);
    };
    if n < 0 {
        return Err(2);
    }
    if lda < max1(n) {
        return Err(4);
    }
    if n == 0 {
        return Ok(0);
    }
    // SAFETY: LAPACK's contract on A.
    let r = dense::lapack::potrf(runtime(), ul, unsafe { view_mut(a, n, n, lda) });
    finish(name, r, minor_info(n))
}

/// The argument checks xPOTRS and xPOSV share (same arguments, same order).
fn check_po_solve(uplo: u8, n: i32, nrhs: i32, lda: i32, ldb: i32) -> Result<Uplo, i32> {
    let Some(ul) = uplo_of(uplo) else {
        return Err(1);
    };
    if n < 0 {
        return Err(2);
    }
    if nrhs < 0 {
        return Err(3);
    }
    if lda < max1(n) {
        return Err(5);
    }
    if ldb < max1(n) {
        return Err(7);
    }
    Ok(ul)
}

/// xPOTRS.
///
/// # Safety
/// LAPACK's contract on `a` and `b`.
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn potrs<T: Scalar>(
    name: &str,
    uplo: u8,
    n: i32,
    nrhs: i32,
    a: *const T,
    lda: i32,
    b: *mut T,
    ldb: i32,
) -> Out {
    let ul = check_po_solve(uplo, n, nrhs, lda, ldb)?;
    if n == 0 || nrhs == 0 {
        return Ok(0);
    }
    // SAFETY: LAPACK's contract on A and B.
    let r = unsafe {
        dense::lapack::potrs(runtime(), ul, view(a, n, n, lda), view_mut(b, n, nrhs, ldb))
    };
    finish(name, r, col_info(n))
}

/// xPOSV.
///
/// # Safety
/// LAPACK's contract on `a` and `b`.
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn posv<T: Scalar>(
    name: &str,
    uplo: u8,
    n: i32,
    nrhs: i32,
    a: *mut T,
    lda: i32,
    b: *mut T,
    ldb: i32,
) -> Out {
    let ul = check_po_solve(uplo, n, nrhs, lda, ldb)?;
    if n == 0 {
        return Ok(0);
    }
    // SAFETY: LAPACK's contract on A and B.
    let (av, bv) = unsafe { (view_mut(a, n, n, lda), view_mut(b, n, nrhs, ldb)) };
    let r = if nrhs == 0 {
        dense::lapack::potrf(runtime(), ul, av)
    } else {
        dense::lapack::posv(runtime(), ul, av, bv)
    };
    finish(name, r, minor_info(n))
}

/// xGETRF (`ipiv` 1-based on return).
///
/// # Safety
/// LAPACK's contract on `a` and `ipiv`.
pub(crate) unsafe fn getrf<T: Scalar>(
    name: &str,
    m: i32,
    n: i32,
    a: *mut T,
    lda: i32,
    ipiv: *mut i32,
) -> Out {
    if m < 0 {
        return Err(1);
    }
    if n < 0 {
        return Err(2);
    }
    if lda < max1(m) {
        return Err(4);
    }
    if m == 0 || n == 0 {
        return Ok(0);
    }
    let k = m.min(n) as usize;
    let mut piv = vec![0usize; k];
    // SAFETY: LAPACK's contract on A.
    let r = dense::lapack::getrf(runtime(), unsafe { view_mut(a, m, n, lda) }, &mut piv);
    if matches!(r, Ok(()) | Err(Error::Singular { .. })) {
        // SAFETY: ipiv holds min(m, n) entries.
        unsafe { write_ipiv(ipiv, &piv) };
    }
    finish(name, r, col_info(n))
}

/// xGETRS's TRANS: 'N', 'T' and 'C' (which real routines read as 'T').
fn getrs_op<T: Scalar>(c: u8) -> Option<Op> {
    match c {
        b'N' => Some(Op::NoTrans),
        b'T' => Some(Op::Trans),
        b'C' if T::DTYPE.is_complex() => Some(Op::ConjTrans),
        b'C' => Some(Op::Trans),
        _ => None,
    }
}

/// The TRANS of xORMQR/xUNMQR and xGELS: 'N', or 'T' for real and 'C' for complex types
/// (both meaning the conjugate transpose).
fn qr_op<T: Scalar>(c: u8) -> Option<Op> {
    match (c, T::DTYPE.is_complex()) {
        (b'N', _) => Some(Op::NoTrans),
        (b'T', false) | (b'C', true) => Some(Op::ConjTrans),
        _ => None,
    }
}

/// xGETRS (`ipiv` 1-based).
///
/// # Safety
/// LAPACK's contract on `a`, `ipiv` and `b`.
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn getrs<T: Scalar>(
    name: &str,
    trans: u8,
    n: i32,
    nrhs: i32,
    a: *const T,
    lda: i32,
    ipiv: *const i32,
    b: *mut T,
    ldb: i32,
) -> Out {
    let Some(op) = getrs_op::<T>(trans) else {
        return Err(1);
    };
    if n < 0 {
        return Err(2);
    }
    if nrhs < 0 {
        return Err(3);
    }
    if lda < max1(n) {
        return Err(5);
    }
    if ldb < max1(n) {
        return Err(8);
    }
    if n == 0 || nrhs == 0 {
        return Ok(0);
    }
    // SAFETY: ipiv holds n entries.
    let ip = unsafe { std::slice::from_raw_parts(ipiv, n as usize) };
    // LAPACK does not check IPIV (an entry out of range is undefined behaviour there);
    // Tessera reports it as an illegal argument 6 instead of reading out of bounds.
    if ip.iter().any(|&p| p < 1 || p > n) {
        return Err(6);
    }
    let piv: Vec<usize> = ip.iter().map(|&p| p as usize - 1).collect();
    // SAFETY: LAPACK's contract on A and B.
    let r = unsafe {
        dense::lapack::getrs(
            runtime(),
            op,
            view(a, n, n, lda),
            &piv,
            view_mut(b, n, nrhs, ldb),
        )
    };
    finish(name, r, col_info(n))
}

/// xGESV.
///
/// # Safety
/// LAPACK's contract on `a`, `ipiv` and `b`.
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn gesv<T: Scalar>(
    name: &str,
    n: i32,
    nrhs: i32,
    a: *mut T,
    lda: i32,
    ipiv: *mut i32,
    b: *mut T,
    ldb: i32,
) -> Out {
    if n < 0 {
        return Err(1);
    }
    if nrhs < 0 {
        return Err(2);
    }
    if lda < max1(n) {
        return Err(4);
    }
    if ldb < max1(n) {
        return Err(7);
    }
    if n == 0 {
        return Ok(0);
    }
    let mut piv = vec![0usize; n as usize];
    // SAFETY: LAPACK's contract on A and B.
    let (av, bv) = unsafe { (view_mut(a, n, n, lda), view_mut(b, n, nrhs, ldb)) };
    let r = if nrhs == 0 {
        dense::lapack::getrf(runtime(), av, &mut piv)
    } else {
        dense::lapack::gesv(runtime(), av, &mut piv, bv)
    };
    if matches!(r, Ok(()) | Err(Error::Singular { .. })) {
        // SAFETY: ipiv holds n entries.
        unsafe { write_ipiv(ipiv, &piv) };
    }
    finish(name, r, col_info(n))
}

/// xGEQRF. `lwork == -1` is a workspace query; the workspace itself is not used (the
/// tiled algorithm allocates its own), but a too small `lwork` is an error as in LAPACK.
///
/// # Safety
/// LAPACK's contract on `a`, `tau` and `work`.
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn geqrf<T: Scalar>(
    name: &str,
    m: i32,
    n: i32,
    a: *mut T,
    lda: i32,
    tau: *mut T,
    work: *mut T,
    lwork: i32,
) -> Out {
    let query = lwork == -1;
    if m < 0 {
        return Err(1);
    }
    if n < 0 {
        return Err(2);
    }
    if lda < max1(m) {
        return Err(4);
    }
    if lwork < max1(n) && !query {
        return Err(7);
    }
    // SAFETY: WORK(1) exists.
    unsafe { set_work(work, max1(n)) };
    if query || m.min(n) == 0 {
        return Ok(0);
    }
    let k = m.min(n) as usize;
    if direct(m, n) {
        // SAFETY: LAPACK's contract on A and TAU.
        let (mut av, tau) = unsafe {
            (
                view_mut(a, m, n, lda),
                std::slice::from_raw_parts_mut(tau, k),
            )
        };
        if let Some((row, col)) = tessera_kernels::find_non_finite(av.as_ref()) {
            let e = Error::NotFinite { arg: "A", row, col };
            return finish(name, Err(e), col_info(n));
        }
        let mut t = faer::Mat::<T>::zeros(k, k);
        tessera_kernels::geqrt(av.as_mut(), t.as_mut());
        tessera_kernels::householder_tau(t.as_ref(), tau);
        return Ok(0);
    }
    let r = (|| {
        let rt = runtime();
        // SAFETY: LAPACK's contract.
        let ta = unsafe { tiles_in(a, m, n, lda, nb_for(m, n))? };
        let tt = dense::qr_workspace(&ta);
        let r = dense::geqrf(rt, &ta, &tt);
        // SAFETY: LAPACK's contract.
        unsafe { tiles_out(&ta, a, lda)? };
        r?;
        let t = dense::qr_tau(rt, &ta, &tt)?;
        // SAFETY: TAU holds min(m, n) entries.
        unsafe { std::slice::from_raw_parts_mut(tau, k) }.copy_from_slice(&t[..k]);
        Ok(())
    })();
    finish(name, r, col_info(n))
}

/// xORGQR / xUNGQR.
///
/// # Safety
/// LAPACK's contract on `a`, `tau` and `work`.
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn ungqr<T: Scalar>(
    name: &str,
    m: i32,
    n: i32,
    k: i32,
    a: *mut T,
    lda: i32,
    tau: *const T,
    work: *mut T,
    lwork: i32,
) -> Out {
    let query = lwork == -1;
    if m < 0 {
        return Err(1);
    }
    if n < 0 || n > m {
        return Err(2);
    }
    if k < 0 || k > n {
        return Err(3);
    }
    if lda < max1(m) {
        return Err(5);
    }
    if lwork < max1(n) && !query {
        return Err(8);
    }
    // SAFETY: WORK(1) exists.
    unsafe { set_work(work, max1(n)) };
    if query || n == 0 {
        return Ok(0);
    }
    if direct(m, n) {
        // SAFETY: LAPACK's contract on A and TAU.
        let (mut av, tau) = unsafe {
            (
                view_mut(a, m, n, lda),
                std::slice::from_raw_parts(tau, k as usize),
            )
        };
        let v = av.as_ref().get(.., ..k as usize).to_owned();
        let mut t = faer::Mat::<T>::zeros(k as usize, k as usize);
        tessera_kernels::larft(v.as_ref(), tau, t.as_mut());
        tessera_kernels::laset(T::zero(), T::one(), av.as_mut());
        let mut w = faer::Mat::<T>::zeros(k as usize, n as usize);
        tessera_kernels::apply_block_reflector_tiles(
            Op::NoTrans,
            &[v.as_ref()],
            t.as_ref(),
            &mut [av],
            w.as_mut(),
        );
        return Ok(0);
    }
    let r = (|| {
        let rt = runtime();
        let nb = nb_for(m, n);
        // SAFETY: TAU holds k entries.
        let tau = unsafe { std::slice::from_raw_parts(tau, k as usize) };
        // SAFETY: LAPACK's contract (the first k columns hold the reflectors).
        let tv = unsafe { tiles_in(a as *const T, m, k, lda, nb)? };
        let tt = dense::qr_workspace_from_tau(rt, &tv, tau)?;
        let q = TileMatrix::zeros(m as usize, n as usize, nb, nb);
        dense::ungqr(rt, &tv, &tt, &q)?;
        // SAFETY: LAPACK's contract.
        unsafe { tiles_out(&q, a, lda) }
    })();
    finish(name, r, col_info(n))
}

/// xORMQR / xUNMQR.
///
/// # Safety
/// LAPACK's contract on `a`, `tau`, `c` and `work`.
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn unmqr<T: Scalar>(
    name: &str,
    side: u8,
    trans: u8,
    m: i32,
    n: i32,
    k: i32,
    a: *const T,
    lda: i32,
    tau: *const T,
    c: *mut T,
    ldc: i32,
    work: *mut T,
    lwork: i32,
) -> Out {
    let query = lwork == -1;
    let sd = match side {
        b'L' => Side::Left,
        b'R' => Side::Right,
        _ => return Err(1),
    };
    let Some(op) = qr_op::<T>(trans) else {
        return Err(2);
    };
    let (nq, nw) = if sd == Side::Left {
        (m, max1(n))
    } else {
        (n, max1(m))
    };
    if m < 0 {
        return Err(3);
    }
    if n < 0 {
        return Err(4);
    }
    if k < 0 || k > nq {
        return Err(5);
    }
    if lda < max1(nq) {
        return Err(7);
    }
    if ldc < max1(m) {
        return Err(10);
    }
    if lwork < nw && !query {
        return Err(12);
    }
    // SAFETY: WORK(1) exists.
    unsafe { set_work(work, nw) };
    if query || m == 0 || n == 0 || k == 0 {
        return Ok(0);
    }
    if direct(m, n) {
        // SAFETY: LAPACK's contract on A, TAU and C.
        let (v, tau, cv) = unsafe {
            (
                view(a, nq, k, lda),
                std::slice::from_raw_parts(tau, k as usize),
                view_mut(c, m, n, ldc),
            )
        };
        if let Some((row, col)) = tessera_kernels::find_non_finite(cv.as_ref()) {
            let e = Error::NotFinite { arg: "C", row, col };
            return finish(name, Err(e), col_info(n));
        }
        let ku = k as usize;
        let mut t = faer::Mat::<T>::zeros(ku, ku);
        tessera_kernels::larft(v, tau, t.as_mut());
        if sd == Side::Left {
            let mut w = faer::Mat::<T>::zeros(ku, n as usize);
            tessera_kernels::apply_block_reflector_tiles(
                op,
                &[v],
                t.as_ref(),
                &mut [cv],
                w.as_mut(),
            );
        } else {
            let mut w = faer::Mat::<T>::zeros(m as usize, ku);
            tessera_kernels::apply_block_reflector_tiles_right(
                op,
                &[v],
                t.as_ref(),
                &mut [cv],
                w.as_mut(),
            );
        }
        return Ok(0);
    }
    let r = (|| {
        let rt = runtime();
        let nb = nb_for(m, n);
        // SAFETY: TAU holds k entries.
        let tau = unsafe { std::slice::from_raw_parts(tau, k as usize) };
        // SAFETY: LAPACK's contract.
        let tv = unsafe { tiles_in(a, nq, k, lda, nb)? };
        let tt = dense::qr_workspace_from_tau(rt, &tv, tau)?;
        // SAFETY: LAPACK's contract.
        let tc = unsafe { tiles_in(c, m, n, ldc, nb)? };
        dense::unmqr(rt, sd, op, &tv, &tt, &tc)?;
        // SAFETY: LAPACK's contract.
        unsafe { tiles_out(&tc, c, ldc) }
    })();
    finish(name, r, col_info(n))
}

/// Scales `x` by `to / from` without overflow or underflow (LAPACK `xLASCL`, general).
fn lascl<T: Scalar>(x: &mut faer::MatMut<'_, T>, from: f64, to: f64) {
    let (small, big) = (T::SAFE_MIN, 1.0 / T::SAFE_MIN);
    let (mut cfrom, mut cto) = (from, to);
    loop {
        let cfrom1 = cfrom * small;
        let (mul, done);
        if cfrom1 == cfrom {
            // cfrom is infinite: multiply by a correctly signed zero (not reached here).
            mul = cto / cfrom;
            done = true;
        } else {
            let cto1 = cto / big;
            if cto1 == cto {
                mul = cto;
                done = true;
                cfrom = 1.0;
            } else if cfrom1.abs() > cto.abs() && cto != 0.0 {
                mul = small;
                done = false;
                cfrom = cfrom1;
            } else if cto1.abs() > cfrom.abs() {
                mul = big;
                done = false;
                cto = cto1;
            } else {
                mul = cto / cfrom;
                done = true;
            }
        }
        let s = T::from_f64(mul);
        for j in 0..x.ncols() {
            for i in 0..x.nrows() {
                let v = x.as_mut().get_mut(i, j);
                *v *= s;
            }
        }
        if done {
            break;
        }
    }
}

fn max_abs<T: Scalar>(x: faer::MatRef<'_, T>) -> f64 {
    match tessera_kernels::tile_norm(tessera_kernels::Norm::Max, None, x) {
        tessera_kernels::PartialNorm::Max(v) => v,
        _ => unreachable!("a max norm"),
    }
}

/// xGELS: least squares or minimum norm, `TRANS` 'N' or 'T' (real) / 'C' (complex). As
/// LAPACK, `A` and `B` are scaled into a safe range first when their largest entry is
/// close to overflow or underflow.
///
/// # Safety
/// LAPACK's contract on `a`, `b` and `work`.
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn gels<T: Scalar>(
    name: &str,
    trans: u8,
    m: i32,
    n: i32,
    nrhs: i32,
    a: *mut T,
    lda: i32,
    b: *mut T,
    ldb: i32,
    work: *mut T,
    lwork: i32,
) -> Out {
    let query = lwork == -1;
    let Some(op) = qr_op::<T>(trans) else {
        return Err(1);
    };
    if m < 0 {
        return Err(2);
    }
    if n < 0 {
        return Err(3);
    }
    if nrhs < 0 {
        return Err(4);
    }
    if lda < max1(m) {
        return Err(6);
    }
    if ldb < max1(m.max(n)) {
        return Err(8);
    }
    let mn = m.min(n);
    let minw = max1(mn + mn.max(nrhs));
    if lwork < minw && !query {
        return Err(10);
    }
    // SAFETY: WORK(1) exists.
    unsafe { set_work(work, minw) };
    if query {
        return Ok(0);
    }
    let mx = m.max(n);
    if mn == 0 || nrhs == 0 {
        // LAPACK: B = 0.
        // SAFETY: LAPACK's contract.
        let mut bv = unsafe { view_mut(b, mx, nrhs, ldb) };
        bv.fill(T::zero());
        return Ok(0);
    }
    let smlnum = T::SAFE_MIN / T::EPS;
    let bignum = 1.0 / smlnum;
    // SAFETY: LAPACK's contract.
    let mut av = unsafe { view_mut(a, m, n, lda) };
    // SAFETY: LAPACK's contract (B is max(m, n) x nrhs).
    let mut bv = unsafe { view_mut(b, mx, nrhs, ldb) };
    let anrm = max_abs(av.as_ref());
    let mut ascale = None;
    if anrm > 0.0 && anrm < smlnum {
        lascl(&mut av, anrm, smlnum);
        ascale = Some(smlnum);
    } else if anrm > bignum {
        lascl(&mut av, anrm, bignum);
        ascale = Some(bignum);
    } else if anrm == 0.0 {
        bv.fill(T::zero());
        return Ok(0);
    }
    // Only the first rows of B are the right-hand side: m for 'N', n otherwise.
    let brows = if op == Op::NoTrans { m } else { n };
    let bnrm = max_abs(bv.as_ref().subrows(0, brows as usize));
    let mut bscale = None;
    if bnrm > 0.0 && bnrm < smlnum {
        lascl(
            &mut bv.as_mut().subrows_mut(0, brows as usize),
            bnrm,
            smlnum,
        );
        bscale = Some(smlnum);
    } else if bnrm > bignum {
        lascl(
            &mut bv.as_mut().subrows_mut(0, brows as usize),
            bnrm,
            bignum,
        );
        bscale = Some(bignum);
    }
    let r = (|| {
        let rt = runtime();
        let nb = nb_for(m, n);
        let ta = TileMatrix::from_col_major(rt, av.as_ref(), nb, nb)?;
        let tb = TileMatrix::from_col_major(rt, bv.as_ref(), nb, nb)?;
        let r = dense::gels_op(rt, op, &ta, &tb);
        if m >= n {
            ta.to_col_major(rt, av.as_mut())?;
        }
        r?;
        tb.to_col_major(rt, bv.as_mut())
    })();
    if r.is_ok() {
        // The solution has n rows for 'N', m otherwise.
        let xrows = if op == Op::NoTrans { n } else { m } as usize;
        let mut x = bv.as_mut().subrows_mut(0, xrows);
        if let Some(s) = ascale {
            lascl(&mut x, anrm, s);
        }
        if let Some(s) = bscale {
            lascl(&mut x, s, bnrm);
        }
    }
    finish(name, r, col_info(n))
}
