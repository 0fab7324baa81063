//! The element types the library computes in: `f32` and `f64`.
//!
//! Every kernel is written once, generic over [`Float`]. The elementary
//! functions come from [`crate::math::exp_log`] (never libm), so results are the same
//! bits on every CPU.

use std::fmt::{Debug, Display};
use std::ops::{Add, Div, Mul, Neg, Sub};

use crate::math::fma::Fma;

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// A floating-point element type of the library (`f32` or `f64`); sealed.
pub trait Float:
    sealed::Sealed
    + Copy
    + Send
    + Sync
    + PartialOrd
    + Debug
    + Display
    + Default
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + 'static
{
    /// The C name of the type, for messages: `"f32"` or `"f64"`.
    const NAME: &'static str;
    /// 0.
    const ZERO: Self;
    /// 1.
    const ONE: Self;
    /// 1/2.
    const HALF: Self;
    /// Positive infinity.
    const INFINITY: Self;
    /// Negative infinity: the value of a masked logit.
    const NEG_INFINITY: Self;
    /// The smallest positive normal value.
    const MIN_POSITIVE: Self;
    /// Machine epsilon: the gap between 1 and the next larger value
    /// (`2^-23` for `f32`, `2^-52` for `f64`).
    const EPSILON: Self;
    /// The largest value below 1, `1 - EPSILON / 2`.
    const ONE_BELOW: Self;

    /// Exact conversion of a value below 2^31 (both types hold 24+ bits; larger
    /// values round to nearest in `f32`, which is part of the noise contract).
    fn from_i32(x: i32) -> Self;
    /// Conversion from `f64` (rounded to nearest for `f32`).
    fn from_f64(x: f64) -> Self;
    /// Widening conversion to `f64`.
    fn to_f64(self) -> f64;
    /// True unless the value is NaN or infinite.
    fn is_finite(self) -> bool;
    /// True if the value is NaN.
    fn is_nan(self) -> bool;
    /// Natural logarithm, by the library's own kernel (not the platform's
    /// libm): the same bits on every CPU.
    fn ln(self) -> Self;
    /// `ln(1 + x)`, by the library's own kernel.
    fn ln_1p(self) -> Self;
    /// `e^x`, by the library's own kernel.
    fn exp(self) -> Self;
    /// `e^x` as the softmax computes it, with the FMA `M`: for `f32` the
    /// FMA kernel of randomness contract version 2
    /// (`exp_fma_f32` of `math::exp_log`), for `f64` [`Float::exp`].
    /// Callable only inside the crate: the FMA types `M` are private to it
    /// (hence the allowed lint; the trait is sealed).
    #[allow(private_bounds)]
    fn softmax_exp<M: Fma>(self) -> Self;
}

macro_rules! impl_float {
    (
        $t:ty,
        $name:literal,
        $ln:path,
        $ln_1p:path,
        $exp:path,
        $softmax_exp:path
    ) => {
        impl Float for $t {
            const NAME: &'static str = $name;
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            const HALF: Self = 0.5;
            const INFINITY: Self = <$t>::INFINITY;
            const NEG_INFINITY: Self = <$t>::NEG_INFINITY;
            const MIN_POSITIVE: Self = <$t>::MIN_POSITIVE;
            const EPSILON: Self = <$t>::EPSILON;
            const ONE_BELOW: Self = 1.0 - <$t>::EPSILON / 2.0;

            #[inline(always)]
            fn from_i32(x: i32) -> Self {
                x as $t
            }
            #[inline(always)]
            fn from_f64(x: f64) -> Self {
                x as $t
            }
            #[inline(always)]
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline(always)]
            fn is_finite(self) -> bool {
                <$t>::is_finite(self)
            }
            #[inline(always)]
            fn is_nan(self) -> bool {
                <$t>::is_nan(self)
            }
            #[inline(always)]
            fn ln(self) -> Self {
                $ln(self)
            }
            #[inline(always)]
            fn ln_1p(self) -> Self {
                $ln_1p(self)
            }
            #[inline(always)]
            fn exp(self) -> Self {
                $exp(self)
            }
            #[inline(always)]
            #[allow(private_bounds)]
            fn softmax_exp<M: Fma>(self) -> Self {
                $softmax_exp(self)
            }
        }
    };
}

impl_float!(
    f32,
    "f32",
    crate::math::exp_log::ln_f32,
    crate::math::exp_log::ln_1p_f32,
    crate::math::exp_log::exp_f32,
    crate::math::exp_log::exp_fma_f32::<M>
);
impl_float!(
    f64,
    "f64",
    crate::math::exp_log::ln_f64,
    crate::math::exp_log::ln_1p_f64,
    crate::math::exp_log::exp_f64,
    crate::math::exp_log::exp_f64
);
