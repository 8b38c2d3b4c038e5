//! The element types Tessera computes with: `f32`, `f64`, `Complex<f32>`, `Complex<f64>`.

use core::fmt::Debug;
use core::ops::{Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Sub, SubAssign};
use faer::traits::ComplexField;
use num_complex::Complex;

/// Which of the four element types a value is; used for dispatch in drivers and reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DType {
    /// `f32` (LAPACK prefix `s`)
    F32,
    /// `f64` (LAPACK prefix `d`)
    F64,
    /// `Complex<f32>` (LAPACK prefix `c`)
    C32,
    /// `Complex<f64>` (LAPACK prefix `z`)
    C64,
}

impl DType {
    /// Short name as used on the command line: `f32`, `f64`, `c32`, `c64`.
    pub fn name(self) -> &'static str {
        match self {
            DType::F32 => "f32",
            DType::F64 => "f64",
            DType::C32 => "c32",
            DType::C64 => "c64",
        }
    }
    /// Whether the type is complex (`c` and `z`).
    pub fn is_complex(self) -> bool {
        matches!(self, DType::C32 | DType::C64)
    }
    /// The LAPACK precision letter: `s`, `d`, `c` or `z`.
    pub fn lapack_prefix(self) -> char {
        match self {
            DType::F32 => 's',
            DType::F64 => 'd',
            DType::C32 => 'c',
            DType::C64 => 'z',
        }
    }
    /// Flop weight of one multiply-add relative to real arithmetic (complex counts 4x,
    /// the convention of LAPACK working notes 41).
    pub fn flop_weight(self) -> f64 {
        match self {
            DType::F32 | DType::F64 => 1.0,
            DType::C32 | DType::C64 => 4.0,
        }
    }
}

impl core::str::FromStr for DType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "f32" | "s" => Ok(DType::F32),
            "f64" | "d" => Ok(DType::F64),
            "c32" | "c" => Ok(DType::C32),
            "c64" | "z" => Ok(DType::C64),
            _ => Err(format!(
                "unknown dtype '{s}' (expected f64, f32, c64 or c32)"
            )),
        }
    }
}

/// An element type of a tile. Real quantities (norms, residuals) are reported in `f64`.
pub trait Scalar:
    ComplexField
    + Copy
    + Send
    + Sync
    + Default
    + Debug
    + PartialEq
    + 'static
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + AddAssign
    + SubAssign
    + MulAssign
    + DivAssign
{
    /// The element type tag.
    const DTYPE: DType;
    /// Unit roundoff of the underlying real type (LAPACK's `xLAMCH('E')`: 2^-53 for doubles).
    const EPS: f64;
    /// Smallest positive normal number of the real type (LAPACK's `xLAMCH('S')`).
    const SAFE_MIN: f64;
    /// Zero.
    fn zero() -> Self {
        Self::default()
    }
    /// One.
    fn one() -> Self {
        Self::from_f64(1.0)
    }
    /// A real value.
    fn from_f64(re: f64) -> Self;
    /// A value from its real and imaginary parts (the imaginary part is dropped for real types).
    fn from_parts(re: f64, im: f64) -> Self;
    /// Real part.
    fn re(self) -> f64;
    /// Imaginary part (0 for real types).
    fn im(self) -> f64;
    /// Modulus |x|.
    fn modulus(self) -> f64;
    /// |Re x| + |Im x|, the magnitude BLAS uses to choose pivots (`i?amax`).
    fn abs1(self) -> f64;
    /// Complex conjugate (identity for real types).
    fn conj(self) -> Self;
    /// True when no component is infinite or NaN.
    fn finite(self) -> bool;
    /// `1 / self` without the overflow or underflow of the textbook complex formula
    /// (`|z|^2` is never formed; faer's scaled reciprocal).
    #[inline]
    fn recip(self) -> Self {
        <Self as ComplexField>::recip_impl(&self)
    }
    /// `self / d`, robust for complex operands of any magnitude (Smith's algorithm, as
    /// LAPACK's `xLADIV`); plain division for real types.
    fn div_robust(self, d: Self) -> Self;
}

macro_rules! real_scalar {
    ($t:ty, $d:expr, $eps:expr, $min:expr) => {
        impl Scalar for $t {
            const DTYPE: DType = $d;
            const EPS: f64 = $eps;
            const SAFE_MIN: f64 = $min;
            #[inline]
            fn from_f64(re: f64) -> Self {
                re as $t
            }
            #[inline]
            fn from_parts(re: f64, _im: f64) -> Self {
                re as $t
            }
            #[inline]
            fn re(self) -> f64 {
                self as f64
            }
            #[inline]
            fn im(self) -> f64 {
                0.0
            }
            #[inline]
            fn modulus(self) -> f64 {
                (self as f64).abs()
            }
            #[inline]
            fn abs1(self) -> f64 {
                (self as f64).abs()
            }
            #[inline]
            fn conj(self) -> Self {
                self
            }
            #[inline]
            fn finite(self) -> bool {
                self.is_finite()
            }
            #[inline]
            fn div_robust(self, d: Self) -> Self {
                self / d
            }
        }
    };
}

macro_rules! complex_scalar {
    ($r:ty, $d:expr, $eps:expr, $min:expr) => {
        impl Scalar for Complex<$r> {
            const DTYPE: DType = $d;
            const EPS: f64 = $eps;
            const SAFE_MIN: f64 = $min;
            #[inline]
            fn from_f64(re: f64) -> Self {
                Complex::new(re as $r, 0.0)
            }
            #[inline]
            fn from_parts(re: f64, im: f64) -> Self {
                Complex::new(re as $r, im as $r)
            }
            #[inline]
            fn re(self) -> f64 {
                self.re as f64
            }
            #[inline]
            fn im(self) -> f64 {
                self.im as f64
            }
            #[inline]
            fn modulus(self) -> f64 {
                (self.re as f64).hypot(self.im as f64)
            }
            #[inline]
            fn abs1(self) -> f64 {
                (self.re as f64).abs() + (self.im as f64).abs()
            }
            #[inline]
            fn conj(self) -> Self {
                Complex::new(self.re, -self.im)
            }
            #[inline]
            fn finite(self) -> bool {
                self.re.is_finite() && self.im.is_finite()
            }
            #[inline]
            fn div_robust(self, d: Self) -> Self {
                let (a, b) = (self, d);
                if b.re.abs() >= b.im.abs() {
                    let r = b.im / b.re;
                    let den = b.re + b.im * r;
                    Complex::new((a.re + a.im * r) / den, (a.im - a.re * r) / den)
                } else {
                    let r = b.re / b.im;
                    let den = b.im + b.re * r;
                    Complex::new((a.re * r + a.im) / den, (a.im * r - a.re) / den)
                }
            }
        }
    };
}

real_scalar!(
    f32,
    DType::F32,
    5.960464477539063e-8,
    1.1754943508222875e-38
);
real_scalar!(
    f64,
    DType::F64,
    1.1102230246251565e-16,
    2.2250738585072014e-308
);
complex_scalar!(
    f32,
    DType::C32,
    5.960464477539063e-8,
    1.1754943508222875e-38
);
complex_scalar!(
    f64,
    DType::C64,
    1.1102230246251565e-16,
    2.2250738585072014e-308
);

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn complex_helpers() {
        let z = Complex::<f64>::from_parts(3.0, -4.0);
        assert_eq!(z.modulus(), 5.0);
        assert_eq!(z.abs1(), 7.0);
        assert_eq!(Scalar::conj(z), Complex::new(3.0, 4.0));
        assert_eq!(<f32 as Scalar>::from_parts(2.0, 9.0), 2.0f32);
        assert!(!f64::NAN.finite());
        assert_eq!("c32".parse::<DType>(), Ok(DType::C32));
        assert!("q".parse::<DType>().is_err());
    }
}
