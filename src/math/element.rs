//! The element types of the tensors the library reads and writes: the
//! [`Float`] types, which it computes in, and the 16-bit formats of
//! [`crate::math::half`], which it stores only. A 16-bit tensor is widened
//! exactly to `f32`, computed on as an `f32` one, and each result rounded
//! once to nearest, ties to even.

use std::fmt::Debug;

use crate::math::float::Float;
use crate::math::half::{Bf16, Half, F16};

mod sealed {
    pub trait Sealed {}
    impl<F: crate::math::float::Float> Sealed for F {}
    impl Sealed for crate::math::half::Bf16 {}
    impl Sealed for crate::math::half::F16 {}
}

/// An element type of the library's tensors: `f32`, `f64`, [`Bf16`] or
/// [`F16`]; sealed. `Compute` is the type the library computes in (the type
/// itself for `f32` and `f64`, `f32` for the 16-bit formats), and the type of
/// the temperatures and scalar results of a call.
pub trait Element: sealed::Sealed + Copy + Send + Sync + Debug + 'static {
    /// The type computed in.
    type Compute: Float;
    /// Exact conversion to the computed type.
    fn widen(self) -> Self::Compute;
    /// Conversion from the computed type, rounded to nearest, ties to even.
    fn narrow(x: Self::Compute) -> Self;
    /// The slice itself when the type is its own computed type.
    #[doc(hidden)]
    fn as_compute(x: &[Self]) -> Option<&[Self::Compute]>;
    /// The slice itself when the type is its own computed type.
    #[doc(hidden)]
    fn as_compute_mut(x: &mut [Self]) -> Option<&mut [Self::Compute]>;
}

impl<F: Float> Element for F {
    type Compute = F;
    #[inline(always)]
    fn widen(self) -> F {
        self
    }
    #[inline(always)]
    fn narrow(x: F) -> F {
        x
    }
    #[inline(always)]
    fn as_compute(x: &[F]) -> Option<&[F]> {
        Some(x)
    }
    #[inline(always)]
    fn as_compute_mut(x: &mut [F]) -> Option<&mut [F]> {
        Some(x)
    }
}

macro_rules! impl_half_element {
    ($t:ty) => {
        impl Element for $t {
            type Compute = f32;
            #[inline(always)]
            fn widen(self) -> f32 {
                self.to_f32()
            }
            #[inline(always)]
            fn narrow(x: f32) -> Self {
                <$t>::from_f32(x)
            }
            #[inline(always)]
            fn as_compute(_: &[Self]) -> Option<&[f32]> {
                None
            }
            #[inline(always)]
            fn as_compute_mut(_: &mut [Self]) -> Option<&mut [f32]> {
                None
            }
        }
    };
}

impl_half_element!(Bf16);
impl_half_element!(F16);
