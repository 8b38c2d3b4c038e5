//! Run-time choice of the instruction set for the kernels' own element-wise loops (the LU
//! panel's unblocked leaf, the finiteness checks): the crate is built for the baseline
//! x86-64 (SSE2), and these loops are compiled once more for AVX2 and AVX-512 and picked
//! on the CPU at hand. The results do not depend on the choice: the loops are element-wise
//! IEEE operations (no fused multiply-add, no reassociation) or exact tests.

/// The instruction set picked for this CPU.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Simd {
    #[cfg(target_arch = "x86_64")]
    Avx512,
    #[cfg(target_arch = "x86_64")]
    Avx2,
    Base,
}

/// The best instruction set this CPU has (detected once).
pub(crate) fn simd() -> Simd {
    static S: std::sync::OnceLock<Simd> = std::sync::OnceLock::new();
    *S.get_or_init(|| {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                return Simd::Avx512;
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                return Simd::Avx2;
            }
        }
        Simd::Base
    })
}

/// Defines `$name` calling `$body` (an `#[inline(always)]` function with the same
/// signature) compiled for the best instruction set of the CPU.
macro_rules! dispatch {
    (
        $(#[$meta:meta])*
        $vis:vis fn $name:ident <T: Scalar> ( $($arg:ident : $ty:ty),* $(,)? ) -> $ret:ty
        => $body:ident
    ) => {
        $(#[$meta])*
        $vis fn $name<T: Scalar>($($arg: $ty),*) -> $ret {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f")]
                unsafe fn avx512<T: Scalar>($($arg: $ty),*) -> $ret {
                    $body($($arg),*)
                }
                #[target_feature(enable = "avx2")]
                unsafe fn avx2<T: Scalar>($($arg: $ty),*) -> $ret {
                    $body($($arg),*)
                }
                match $crate::simd::simd() {
                    // SAFETY: the CPU has AVX-512F (checked at run time by `simd`).
                    $crate::simd::Simd::Avx512 => return unsafe { avx512($($arg),*) },
                    // SAFETY: the CPU has AVX2 (checked at run time by `simd`).
                    $crate::simd::Simd::Avx2 => return unsafe { avx2($($arg),*) },
                    $crate::simd::Simd::Base => {}
                }
            }
            $body($($arg),*)
        }
    };
}
pub(crate) use dispatch;
