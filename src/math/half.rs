//! The 16-bit floating-point storage formats: bfloat16 ([`Bf16`]: 1 sign,
//! 8 exponent, 7 fraction bits, the upper half of an IEEE 754 binary32) and
//! float16 ([`F16`]: IEEE 754 binary16, 1 sign, 5 exponent, 10 fraction
//! bits), and their conversions to and from `f32`.
//!
//! Widening to `f32` is exact (subnormals, infinities and signed zeros
//! included; a NaN stays a NaN of the same sign). Narrowing rounds to
//! nearest, ties to even (IEEE 754 `roundTiesToEven`): values beyond the
//! largest finite value by half an ulp or more become infinities,
//! values below the smallest subnormal by more than half of it become
//! zeros of their sign, and a NaN becomes a quiet NaN of its sign keeping
//! the top bits of its payload.

use std::fmt;

/// A bfloat16 value, stored as its 16 bits (the upper half of the bits of
/// the `f32` it widens to).
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
#[repr(transparent)]
pub struct Bf16(u16);

/// An IEEE 754 binary16 (float16) value, stored as its 16 bits.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
#[repr(transparent)]
pub struct F16(u16);

impl Bf16 {
    /// The value with these bits.
    pub const fn from_bits(bits: u16) -> Self {
        Self(bits)
    }
}

impl F16 {
    /// The value with these bits.
    pub const fn from_bits(bits: u16) -> Self {
        Self(bits)
    }
}

/// A 16-bit storage format computed in `f32`: [`Bf16`] or [`F16`]; sealed.
pub trait Half: Copy + Send + Sync + fmt::Debug + 'static + sealed::Sealed {
    /// The value with these bits.
    fn from_bits(bits: u16) -> Self;
    /// The bits of the value.
    fn to_bits(self) -> u16;
    /// `x` rounded to nearest, ties to even.
    fn from_f32(x: f32) -> Self;
    /// The exact `f32` value.
    fn to_f32(self) -> f32;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::Bf16 {}
    impl Sealed for super::F16 {}
}

impl Half for Bf16 {
    #[inline(always)]
    fn from_bits(bits: u16) -> Self {
        Self(bits)
    }
    #[inline(always)]
    fn to_bits(self) -> u16 {
        self.0
    }
    #[inline(always)]
    fn from_f32(x: f32) -> Self {
        Self(f32_to_bf16(x))
    }
    #[inline(always)]
    fn to_f32(self) -> f32 {
        bf16_to_f32(self.0)
    }
}

impl Half for F16 {
    #[inline(always)]
    fn from_bits(bits: u16) -> Self {
        Self(bits)
    }
    #[inline(always)]
    fn to_bits(self) -> u16 {
        self.0
    }
    #[inline(always)]
    fn from_f32(x: f32) -> Self {
        Self(f32_to_f16(x))
    }
    #[inline(always)]
    fn to_f32(self) -> f32 {
        f16_to_f32(self.0)
    }
}

impl fmt::Debug for Bf16 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.to_f32(), f)
    }
}

impl fmt::Debug for F16 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.to_f32(), f)
    }
}

/// The `f32` value of the bfloat16 bits `h` (exact).
#[inline(always)]
pub(crate) fn bf16_to_f32(h: u16) -> f32 {
    f32::from_bits(u32::from(h) << 16)
}

/// The bfloat16 bits of `x` rounded to nearest, ties to even.
#[inline(always)]
pub(crate) fn f32_to_bf16(x: f32) -> u16 {
    let bits = x.to_bits();
    if x.is_nan() {
        // Quiet, sign and top payload bits kept (a payload only in the low
        // bits would otherwise truncate to an infinity).
        return ((bits >> 16) | 0x0040) as u16;
    }
    // Adding 0x7fff plus the kept part's lowest bit rounds the dropped
    // half to nearest, ties to even; a carry moves into the exponent, up
    // to the infinity past the largest finite value.
    let round = 0x7fff + ((bits >> 16) & 1);
    (bits.wrapping_add(round) >> 16) as u16
}

/// `2^-24`, the smallest positive float16 subnormal.
const F16_TINY: f32 = 1.0 / 16_777_216.0;

/// The `f32` value of the float16 bits `h` (exact).
#[inline(always)]
pub(crate) fn f16_to_f32(h: u16) -> f32 {
    let h = u32::from(h);
    let sign = (h & 0x8000) << 16;
    let (exponent, fraction) = ((h >> 10) & 0x1f, h & 0x3ff);
    let magnitude = match exponent {
        // Zeros and subnormals: `fraction * 2^-24`, exact in f32.
        0 => (fraction as f32 * F16_TINY).to_bits(),
        // Infinities and NaNs (payload kept).
        0x1f => 0x7f80_0000 | (fraction << 13),
        // Normal: rebias the exponent from 15 to 127.
        _ => ((exponent + 112) << 23) | (fraction << 13),
    };
    f32::from_bits(sign | magnitude)
}

/// The float16 bits of `x` rounded to nearest, ties to even.
#[inline(always)]
pub(crate) fn f32_to_f16(x: f32) -> u16 {
    let bits = x.to_bits();
    let sign = ((bits >> 16) & 0x8000) as u16;
    let magnitude = bits & 0x7fff_ffff;
    if magnitude > 0x7f80_0000 {
        // NaN: quiet, top payload bits kept.
        return sign | 0x7e00 | ((magnitude >> 13) & 0x3ff) as u16;
    }
    if magnitude >= 0x3880_0000 {
        // Normal in float16 (|x| >= 2^-14), or beyond: rebias the exponent,
        // round the 13 dropped bits to nearest even (a carry moves into the
        // exponent), and saturate at the infinity.
        let rebiased = magnitude - 0x3800_0000;
        let rounded = (rebiased + 0x0fff + ((rebiased >> 13) & 1)) >> 13;
        return sign | rounded.min(0x7c00) as u16;
    }
    // Subnormal or zero in float16: the multiple of 2^-24 nearest to |x|
    // (scaling by 2^24 is exact; 1024 is the smallest normal's bits).
    let units = (f32::from_bits(magnitude) / F16_TINY).round_ties_even();
    sign | units as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The value of bits `h` of a format with `fraction_bits` fraction bits
    /// and exponent bias `bias`, computed in `f64` from the definition.
    fn decode(h: u16, exponent_bits: u32, fraction_bits: u32) -> f64 {
        let bias = (1i32 << (exponent_bits - 1)) - 1;
        let sign = if h >> 15 == 1 { -1.0 } else { 1.0 };
        let exponent = (u32::from(h) >> fraction_bits) & ((1 << exponent_bits) - 1);
        let fraction = f64::from(u32::from(h) & ((1 << fraction_bits) - 1));
        let scale = 2f64.powi(fraction_bits as i32);
        if exponent == (1 << exponent_bits) - 1 {
            return if fraction == 0.0 {
                sign * f64::INFINITY
            } else {
                f64::NAN
            };
        }
        if exponent == 0 {
            return sign * fraction / scale * 2f64.powi(1 - bias);
        }
        sign * (1.0 + fraction / scale) * 2f64.powi(exponent as i32 - bias)
    }

    struct Format {
        exponent_bits: u32,
        fraction_bits: u32,
        widen: fn(u16) -> f32,
        narrow: fn(f32) -> u16,
    }

    const FORMATS: [Format; 2] = [
        Format {
            exponent_bits: 8,
            fraction_bits: 7,
            widen: bf16_to_f32,
            narrow: f32_to_bf16,
        },
        Format {
            exponent_bits: 5,
            fraction_bits: 10,
            widen: f16_to_f32,
            narrow: f32_to_f16,
        },
    ];

    impl Format {
        fn value(&self, h: u16) -> f64 {
            decode(h, self.exponent_bits, self.fraction_bits)
        }
        /// The bits of the positive infinity.
        fn infinity(&self) -> u16 {
            (((1u32 << self.exponent_bits) - 1) << self.fraction_bits) as u16
        }
        /// The reference rounding of `x` (not NaN), from the values of all
        /// bit patterns: the nearest of the two neighbours (by a binary
        /// search over the positive patterns, ordered as their values),
        /// ties to the even pattern; beyond the largest finite value by
        /// half an ulp or more, the infinity.
        fn reference(&self, x: f32) -> u16 {
            let sign = if x.is_sign_negative() { 0x8000 } else { 0 };
            let a = f64::from(x.abs());
            let inf = self.infinity();
            let (mut lo, mut hi) = (0u16, inf); // value(lo) <= a < value(hi) unless a >= max
            if a >= self.value(inf - 1) {
                // The overflow threshold: max + ulp/2 rounds to infinity.
                let max = self.value(inf - 1);
                let half_ulp = (max - self.value(inf - 2)) / 2.0;
                return sign | if a >= max + half_ulp { inf } else { inf - 1 };
            }
            while hi - lo > 1 {
                let mid = lo + (hi - lo) / 2;
                if self.value(mid) <= a {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            let (below, above) = (a - self.value(lo), self.value(hi) - a);
            let nearest = if below < above || (below == above && lo % 2 == 0) {
                lo
            } else {
                hi
            };
            sign | nearest
        }
    }

    #[test]
    fn widening_is_exact_for_all_65536_patterns() {
        for format in &FORMATS {
            for h in 0..=u16::MAX {
                let (got, want) = ((format.widen)(h), format.value(h));
                if want.is_nan() {
                    assert!(got.is_nan(), "{h:#06x}");
                    assert_eq!(got.is_sign_negative(), h >> 15 == 1, "{h:#06x}");
                } else {
                    assert_eq!(f64::from(got), want, "{h:#06x}");
                    assert_eq!(got.is_sign_negative(), h >> 15 == 1, "{h:#06x} sign");
                }
            }
        }
    }

    #[test]
    fn narrowing_rounds_to_nearest_even_around_all_65536_patterns() {
        for format in &FORMATS {
            for h in 0..=u16::MAX {
                let x = (format.widen)(h);
                if x.is_nan() {
                    let back = (format.narrow)(x);
                    assert!(format.value(back).is_nan(), "{h:#06x}");
                    assert_eq!(back >> 15, h >> 15, "{h:#06x} NaN sign");
                    continue;
                }
                // The pattern itself, its neighbours in f32 and the
                // midpoints towards the next pattern (exact in f32).
                let mut probes = vec![x, f32::from_bits(x.to_bits() + 1)];
                if x.to_bits() & 0x7fff_ffff != 0 {
                    probes.push(f32::from_bits(x.to_bits() - 1));
                }
                if (h & 0x7fff) < format.infinity() {
                    let next = format.value(h + 1);
                    let mid = ((format.value(h) + next) / 2.0) as f32;
                    assert_eq!(f64::from(mid), (format.value(h) + next) / 2.0);
                    probes.extend([
                        mid,
                        f32::from_bits(mid.to_bits() - 1),
                        f32::from_bits(mid.to_bits() + 1),
                    ]);
                }
                for p in probes.into_iter().filter(|p| !p.is_nan()) {
                    assert_eq!(
                        (format.narrow)(p),
                        format.reference(p),
                        "{h:#06x} probe {p:e} ({:#010x})",
                        p.to_bits()
                    );
                }
                assert_eq!((format.narrow)(x), h, "{h:#06x} round trip");
            }
        }
    }

    #[test]
    fn narrowing_matches_the_reference_on_spread_f32_values() {
        // Every 4099th f32 pattern (about a million), NaNs apart.
        for format in &FORMATS {
            for bits in (0..=u32::MAX).step_by(4099) {
                let x = f32::from_bits(bits);
                if x.is_nan() {
                    assert!(format.value((format.narrow)(x)).is_nan(), "{bits:#010x}");
                    continue;
                }
                assert_eq!((format.narrow)(x), format.reference(x), "{bits:#010x}");
            }
        }
    }

    #[test]
    fn named_values() {
        assert_eq!(f32_to_f16(65504.0), 0x7bff);
        assert_eq!(f32_to_f16(65519.99), 0x7bff);
        assert_eq!(f32_to_f16(65520.0), 0x7c00);
        assert_eq!(f32_to_f16(f32::NEG_INFINITY), 0xfc00);
        assert_eq!(f32_to_f16(-0.0), 0x8000);
        assert_eq!(f32_to_f16(2f32.powi(-25)), 0); // tie with 0: even
        assert_eq!(f32_to_f16(2f32.powi(-25) * 1.5), 1);
        assert_eq!(f16_to_f32(1), 2f32.powi(-24));
        assert_eq!(f32_to_bf16(1.0), 0x3f80);
        assert_eq!(f32_to_bf16(f32::MAX), 0x7f80);
        assert_eq!(f32_to_bf16(f32::from_bits(0x7f80_0001)) & 0x7fc0, 0x7fc0);
        assert_eq!(f32_to_bf16(f32::from_bits(1)), 0);
        assert_eq!(Bf16::from_f32(3.0).to_f32(), 3.0);
        assert_eq!(F16::from_f32(-2.5).to_f32(), -2.5);
    }
}
