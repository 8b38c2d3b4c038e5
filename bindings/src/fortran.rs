//! LAPACK's Fortran-ABI symbols (`dgesv_`, `zpotrf_`, `cunmqr_`, ...): every argument by
//! pointer, 32-bit INTEGERs, column-major arrays, the hidden `size_t` length of each
//! CHARACTER argument appended at the end (only the first character is read), 1-based
//! `IPIV`, illegal arguments reported through `xerbla_`. Each routine is exported under
//! LAPACK's name (feature `lapack-symbols`, on by default) and under a `tessera_` prefix
//! (`tessera_dgesv_`) for programs that link a system LAPACK as well.

use crate::common::{ch, guard, int, rname, xerbla, Out};
use crate::routines as r;
use num_complex::{Complex32, Complex64};
use std::ffi::{c_char, c_int};

/// Stores the outcome in INFO and reports an illegal argument through `xerbla_`.
///
/// # Safety
/// `info` must be valid for one write.
unsafe fn set_info(info: *mut c_int, name: &str, r: Out) {
    let v = match r {
        Ok(v) => v,
        Err(k) => {
            if !info.is_null() {
                // SAFETY: by the caller's contract. INFO is set before XERBLA runs, as in
                // LAPACK.
                unsafe { *info = -k };
            }
            xerbla(name, k);
            return;
        }
    };
    if !info.is_null() {
        // SAFETY: by the caller's contract.
        unsafe { *info = v };
    }
}

macro_rules! fortran_routines {
    ($t:ty, $p:ident, $orgqr:ident, $ormqr:ident, $orgqr_name:literal, $ormqr_name:literal) => {
        paste::paste! {
            #[doc = concat!("LAPACK `", stringify!($p), "POTRF`: Cholesky factorization.")]
            ///
            /// # Safety
            /// LAPACK's Fortran calling convention and argument contract.
            #[cfg_attr(feature = "lapack-symbols", no_mangle)]
            pub unsafe extern "C" fn [<$p potrf_>](
                uplo: *const c_char, n: *const c_int, a: *mut $t, lda: *const c_int,
                info: *mut c_int, _uplo_len: usize,
            ) {
                let name = rname::<$t>("POTRF");
                // SAFETY: the caller follows LAPACK's contract.
                let o = guard(&name, || unsafe { r::potrf::<$t>(&name, ch(uplo), int(n), a, int(lda)) });
                // SAFETY: INFO is an output argument.
                unsafe { set_info(info, &name, o) }
            }
            #[doc = concat!("`", stringify!($p), "potrf_` under Tessera's prefix.")]
            ///
            /// # Safety
            /// As the LAPACK routine.
            #[no_mangle]
            pub unsafe extern "C" fn [<tessera_ $p potrf_>](
                uplo: *const c_char, n: *const c_int, a: *mut $t, lda: *const c_int,
                info: *mut c_int, uplo_len: usize,
            ) {
                // SAFETY: forwarded.
                unsafe { [<$p potrf_>](uplo, n, a, lda, info, uplo_len) }
            }

            #[doc = concat!("LAPACK `", stringify!($p), "POTRS`: solve with a Cholesky factor.")]
            ///
            /// # Safety
            /// LAPACK's Fortran calling convention and argument contract.
            #[cfg_attr(feature = "lapack-symbols", no_mangle)]
            pub unsafe extern "C" fn [<$p potrs_>](
                uplo: *const c_char, n: *const c_int, nrhs: *const c_int, a: *const $t,
                lda: *const c_int, b: *mut $t, ldb: *const c_int, info: *mut c_int,
                _uplo_len: usize,
            ) {
                let name = rname::<$t>("POTRS");
                // SAFETY: the caller follows LAPACK's contract.
                let o = guard(&name, || unsafe {
                    r::potrs::<$t>(&name, ch(uplo), int(n), int(nrhs), a, int(lda), b, int(ldb))
                });
                // SAFETY: INFO is an output argument.
                unsafe { set_info(info, &name, o) }
            }
            #[doc = concat!("`", stringify!($p), "potrs_` under Tessera's prefix.")]
            ///
            /// # Safety
            /// As the LAPACK routine.
            #[no_mangle]
            pub unsafe extern "C" fn [<tessera_ $p potrs_>](
                uplo: *const c_char, n: *const c_int, nrhs: *const c_int, a: *const $t,
                lda: *const c_int, b: *mut $t, ldb: *const c_int, info: *mut c_int,
                uplo_len: usize,
            ) {
                // SAFETY: forwarded.
                unsafe { [<$p potrs_>](uplo, n, nrhs, a, lda, b, ldb, info, uplo_len) }
            }

            #[doc = concat!("LAPACK `", stringify!($p), "POSV`: Cholesky solve.")]
            ///
            /// # Safety
            /// LAPACK's Fortran calling convention and argument contract.
            #[cfg_attr(feature = "lapack-symbols", no_mangle)]
            pub unsafe extern "C" fn [<$p posv_>](
                uplo: *const c_char, n: *const c_int, nrhs: *const c_int, a: *mut $t,
                lda: *const c_int, b: *mut $t, ldb: *const c_int, info: *mut c_int,
                _uplo_len: usize,
            ) {
                let name = rname::<$t>("POSV");
                // SAFETY: the caller follows LAPACK's contract.
                let o = guard(&name, || unsafe {
                    r::posv::<$t>(&name, ch(uplo), int(n), int(nrhs), a, int(lda), b, int(ldb))
                });
                // SAFETY: INFO is an output argument.
                unsafe { set_info(info, &name, o) }
            }
            #[doc = concat!("`", stringify!($p), "posv_` under Tessera's prefix.")]
            ///
            /// # Safety
            /// As the LAPACK routine.
            #[no_mangle]
            pub unsafe extern "C" fn [<tessera_ $p posv_>](
                uplo: *const c_char, n: *const c_int, nrhs: *const c_int, a: *mut $t,
                lda: *const c_int, b: *mut $t, ldb: *const c_int, info: *mut c_int,
                uplo_len: usize,
            ) {
                // SAFETY: forwarded.
                unsafe { [<$p posv_>](uplo, n, nrhs, a, lda, b, ldb, info, uplo_len) }
            }

            #[doc = concat!("LAPACK `", stringify!($p), "GETRF`: LU with partial pivoting.")]
            ///
            /// # Safety
            /// LAPACK's Fortran calling convention and argument contract.
            #[cfg_attr(feature = "lapack-symbols", no_mangle)]
            pub unsafe extern "C" fn [<$p getrf_>](
                m: *const c_int, n: *const c_int, a: *mut $t, lda: *const c_int,
                ipiv: *mut c_int, info: *mut c_int,
            ) {
                let name = rname::<$t>("GETRF");
                // SAFETY: the caller follows LAPACK's contract.
                let o = guard(&name, || unsafe { r::getrf::<$t>(&name, int(m), int(n), a, int(lda), ipiv) });
                // SAFETY: INFO is an output argument.
                unsafe { set_info(info, &name, o) }
            }
            #[doc = concat!("`", stringify!($p), "getrf_` under Tessera's prefix.")]
            ///
            /// # Safety
            /// As the LAPACK routine.
            #[no_mangle]
            pub unsafe extern "C" fn [<tessera_ $p getrf_>](
                m: *const c_int, n: *const c_int, a: *mut $t, lda: *const c_int,
                ipiv: *mut c_int, info: *mut c_int,
            ) {
                // SAFETY: forwarded.
                unsafe { [<$p getrf_>](m, n, a, lda, ipiv, info) }
            }

            #[doc = concat!("LAPACK `", stringify!($p), "GETRS`: solve with LU factors.")]
            ///
            /// # Safety
            /// LAPACK's Fortran calling convention and argument contract.
            #[cfg_attr(feature = "lapack-symbols", no_mangle)]
            pub unsafe extern "C" fn [<$p getrs_>](
                trans: *const c_char, n: *const c_int, nrhs: *const c_int, a: *const $t,
                lda: *const c_int, ipiv: *const c_int, b: *mut $t, ldb: *const c_int,
                info: *mut c_int, _trans_len: usize,
            ) {
                let name = rname::<$t>("GETRS");
                // SAFETY: the caller follows LAPACK's contract.
                let o = guard(&name, || unsafe {
                    r::getrs::<$t>(&name, ch(trans), int(n), int(nrhs), a, int(lda), ipiv, b, int(ldb))
                });
                // SAFETY: INFO is an output argument.
                unsafe { set_info(info, &name, o) }
            }
            #[doc = concat!("`", stringify!($p), "getrs_` under Tessera's prefix.")]
            ///
            /// # Safety
            /// As the LAPACK routine.
            #[no_mangle]
            pub unsafe extern "C" fn [<tessera_ $p getrs_>](
                trans: *const c_char, n: *const c_int, nrhs: *const c_int, a: *const $t,
                lda: *const c_int, ipiv: *const c_int, b: *mut $t, ldb: *const c_int,
                info: *mut c_int, trans_len: usize,
            ) {
                // SAFETY: forwarded.
                unsafe { [<$p getrs_>](trans, n, nrhs, a, lda, ipiv, b, ldb, info, trans_len) }
            }

            #[doc = concat!("LAPACK `", stringify!($p), "GESV`: LU solve.")]
            ///
            /// # Safety
            /// LAPACK's Fortran calling convention and argument contract.
            #[cfg_attr(feature = "lapack-symbols", no_mangle)]
            pub unsafe extern "C" fn [<$p gesv_>](
                n: *const c_int, nrhs: *const c_int, a: *mut $t, lda: *const c_int,
                ipiv: *mut c_int, b: *mut $t, ldb: *const c_int, info: *mut c_int,
            ) {
                let name = rname::<$t>("GESV");
                // SAFETY: the caller follows LAPACK's contract.
                let o = guard(&name, || unsafe {
                    r::gesv::<$t>(&name, int(n), int(nrhs), a, int(lda), ipiv, b, int(ldb))
                });
                // SAFETY: INFO is an output argument.
                unsafe { set_info(info, &name, o) }
            }
            #[doc = concat!("`", stringify!($p), "gesv_` under Tessera's prefix.")]
            ///
            /// # Safety
            /// As the LAPACK routine.
            #[no_mangle]
            pub unsafe extern "C" fn [<tessera_ $p gesv_>](
                n: *const c_int, nrhs: *const c_int, a: *mut $t, lda: *const c_int,
                ipiv: *mut c_int, b: *mut $t, ldb: *const c_int, info: *mut c_int,
            ) {
                // SAFETY: forwarded.
                unsafe { [<$p gesv_>](n, nrhs, a, lda, ipiv, b, ldb, info) }
            }

            #[doc = concat!("LAPACK `", stringify!($p), "GEQRF`: Householder QR.")]
            ///
            /// # Safety
            /// LAPACK's Fortran calling convention and argument contract.
            #[cfg_attr(feature = "lapack-symbols", no_mangle)]
            pub unsafe extern "C" fn [<$p geqrf_>](
                m: *const c_int, n: *const c_int, a: *mut $t, lda: *const c_int,
                tau: *mut $t, work: *mut $t, lwork: *const c_int, info: *mut c_int,
            ) {
                let name = rname::<$t>("GEQRF");
                // SAFETY: the caller follows LAPACK's contract.
                let o = guard(&name, || unsafe {
                    r::geqrf::<$t>(&name, int(m), int(n), a, int(lda), tau, work, int(lwork))
                });
                // SAFETY: INFO is an output argument.
                unsafe { set_info(info, &name, o) }
            }
            #[doc = concat!("`", stringify!($p), "geqrf_` under Tessera's prefix.")]
            ///
            /// # Safety
            /// As the LAPACK routine.
            #[no_mangle]
            pub unsafe extern "C" fn [<tessera_ $p geqrf_>](
                m: *const c_int, n: *const c_int, a: *mut $t, lda: *const c_int,
                tau: *mut $t, work: *mut $t, lwork: *const c_int, info: *mut c_int,
            ) {
                // SAFETY: forwarded.
                unsafe { [<$p geqrf_>](m, n, a, lda, tau, work, lwork, info) }
            }

            #[doc = concat!("LAPACK `", stringify!($p), $orgqr_name, "`: form Q of a QR factorization.")]
            ///
            /// # Safety
            /// LAPACK's Fortran calling convention and argument contract.
            #[cfg_attr(feature = "lapack-symbols", no_mangle)]
            pub unsafe extern "C" fn [<$p $orgqr _>](
                m: *const c_int, n: *const c_int, k: *const c_int, a: *mut $t,
                lda: *const c_int, tau: *const $t, work: *mut $t, lwork: *const c_int,
                info: *mut c_int,
            ) {
                let name = rname::<$t>($orgqr_name);
                // SAFETY: the caller follows LAPACK's contract.
                let o = guard(&name, || unsafe {
                    r::ungqr::<$t>(&name, int(m), int(n), int(k), a, int(lda), tau, work, int(lwork))
                });
                // SAFETY: INFO is an output argument.
                unsafe { set_info(info, &name, o) }
            }
            #[doc = concat!("`", stringify!($p), stringify!($orgqr), "_` under Tessera's prefix.")]
            ///
            /// # Safety
            /// As the LAPACK routine.
            #[no_mangle]
            pub unsafe extern "C" fn [<tessera_ $p $orgqr _>](
                m: *const c_int, n: *const c_int, k: *const c_int, a: *mut $t,
                lda: *const c_int, tau: *const $t, work: *mut $t, lwork: *const c_int,
                info: *mut c_int,
            ) {
                // SAFETY: forwarded.
                unsafe { [<$p $orgqr _>](m, n, k, a, lda, tau, work, lwork, info) }
            }

            #[doc = concat!("LAPACK `", stringify!($p), $ormqr_name, "`: multiply by Q of a QR factorization.")]
            ///
            /// # Safety
            /// LAPACK's Fortran calling convention and argument contract.
            #[cfg_attr(feature = "lapack-symbols", no_mangle)]
            pub unsafe extern "C" fn [<$p $ormqr _>](
                side: *const c_char, trans: *const c_char, m: *const c_int, n: *const c_int,
                k: *const c_int, a: *const $t, lda: *const c_int, tau: *const $t, c: *mut $t,
                ldc: *const c_int, work: *mut $t, lwork: *const c_int, info: *mut c_int,
                _side_len: usize, _trans_len: usize,
            ) {
                let name = rname::<$t>($ormqr_name);
                // SAFETY: the caller follows LAPACK's contract.
                let o = guard(&name, || unsafe {
                    r::unmqr::<$t>(
                        &name, ch(side), ch(trans), int(m), int(n), int(k), a, int(lda), tau, c,
                        int(ldc), work, int(lwork),
                    )
                });
                // SAFETY: INFO is an output argument.
                unsafe { set_info(info, &name, o) }
            }
            #[doc = concat!("`", stringify!($p), stringify!($ormqr), "_` under Tessera's prefix.")]
            ///
            /// # Safety
            /// As the LAPACK routine.
            #[no_mangle]
            pub unsafe extern "C" fn [<tessera_ $p $ormqr _>](
                side: *const c_char, trans: *const c_char, m: *const c_int, n: *const c_int,
                k: *const c_int, a: *const $t, lda: *const c_int, tau: *const $t, c: *mut $t,
                ldc: *const c_int, work: *mut $t, lwork: *const c_int, info: *mut c_int,
                side_len: usize, trans_len: usize,
            ) {
                // SAFETY: forwarded.
                unsafe {
                    [<$p $ormqr _>](
                        side, trans, m, n, k, a, lda, tau, c, ldc, work, lwork, info, side_len,
                        trans_len,
                    )
                }
            }

            #[doc = concat!("LAPACK `", stringify!($p), "GELS`: least squares / minimum norm.")]
            ///
            /// # Safety
            /// LAPACK's Fortran calling convention and argument contract.
            #[cfg_attr(feature = "lapack-symbols", no_mangle)]
            pub unsafe extern "C" fn [<$p gels_>](
                trans: *const c_char, m: *const c_int, n: *const c_int, nrhs: *const c_int,
                a: *mut $t, lda: *const c_int, b: *mut $t, ldb: *const c_int, work: *mut $t,
                lwork: *const c_int, info: *mut c_int, _trans_len: usize,
            ) {
                let name = rname::<$t>("GELS");
                // SAFETY: the caller follows LAPACK's contract.
                let o = guard(&name, || unsafe {
                    r::gels::<$t>(
                        &name, ch(trans), int(m), int(n), int(nrhs), a, int(lda), b, int(ldb),
                        work, int(lwork),
                    )
                });
                // SAFETY: INFO is an output argument.
                unsafe { set_info(info, &name, o) }
            }
            #[doc = concat!("`", stringify!($p), "gels_` under Tessera's prefix.")]
            ///
            /// # Safety
            /// As the LAPACK routine.
            #[no_mangle]
            pub unsafe extern "C" fn [<tessera_ $p gels_>](
                trans: *const c_char, m: *const c_int, n: *const c_int, nrhs: *const c_int,
                a: *mut $t, lda: *const c_int, b: *mut $t, ldb: *const c_int, work: *mut $t,
                lwork: *const c_int, info: *mut c_int, trans_len: usize,
            ) {
                // SAFETY: forwarded.
                unsafe { [<$p gels_>](trans, m, n, nrhs, a, lda, b, ldb, work, lwork, info, trans_len) }
            }
        }
    };
}

fortran_routines!(f32, s, orgqr, ormqr, "ORGQR", "ORMQR");
fortran_routines!(f64, d, orgqr, ormqr, "ORGQR", "ORMQR");
fortran_routines!(Complex32, c, ungqr, unmqr, "UNGQR", "UNMQR");
fortran_routines!(Complex64, z, ungqr, unmqr, "UNGQR", "UNMQR");
