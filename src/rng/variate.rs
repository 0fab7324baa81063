//! Random bits -> uniform -> Exp(1) -> Gumbel, for `f32` and `f64`.
//!
//! A standard Gumbel variate is `g = -ln(E)` with `E ~ Exp(1)`. `E` is built
//! from 64 random bits `(hi, lo)` without ever taking `ln(0)`:
//! the top bit of `hi` picks a half of the unit interval and the next 62 bits
//! give `t = (y_hi + ((lo >> 1) + 1/2) 2^-31) 2^-32` in `(0, 1/2]`, where
//! `y_hi = hi & 0x7fffffff`. Then `E = -ln(1 - t)` (computed as
//! `-ln_1p(-t)`) in the lower half and `E = -ln(t)` in the upper half, so
//! `V = 1 - exp(-E)` is uniform on `(0, 1)` with about 64 bits of resolution
//! near both ends. The noise therefore reaches `64 ln 2 ~ 44.36` in the upper
//! tail and about `-3.8` in the lower one in both precisions, instead of the
//! ~16.6 cap of a variate built from 24 random bits.
//!
//! The same bits also give a standard logistic variate (for the relaxed
//! Bernoulli): with `U = exp(-E)` (`1 - t` in the lower half, `t` in the
//! upper one), `U` is the Gumbel CDF at `g`, `exp(-exp(-g))`, and
//! `L = logit(U) = ln U - ln(1 - U)` is standard logistic. In terms of `t`,
//! `L = ln t - ln(1 - t)` in the upper half and its negation in the lower
//! half, computed as `ln t - ln_1p(-t)`. `L` is the quantile transform of `g`
//! (both increase with `U`), is finite, and reaches `+-44.4`.

use crate::math::float::Float;

/// The largest magnitude of a standard Gumbel variate this library draws,
/// rounded up: `64 ln 2 < 45`.
pub const MAX_ABS_STANDARD_GUMBEL: f64 = 45.0;

/// A branch-free map from the 64 random bits `(hi, lo)` of an element to a
/// variate (see the module docs).
pub(crate) trait Variate: Copy + Send + Sync {
    /// The variate of the bits `(hi, lo)`.
    fn of<F: Float>(hi: u32, lo: u32) -> F;
}

/// The 64 random bits `(hi, lo)` as `(t, upper)`: `t` in `(0, 1/2]` from
/// the low 62 bits, and `upper` from the top bit of `hi`, which picks the
/// half of the unit interval (see the module docs).
#[inline(always)]
fn half_uniform<F: Float>(hi: u32, lo: u32) -> (F, bool) {
    let two_pow_m31 = F::from_f64(1.0 / 2_147_483_648.0);
    let two_pow_m32 = F::from_f64(1.0 / 4_294_967_296.0);
    let y_hi = F::from_i32((hi & 0x7fff_ffff) as i32);
    let y_lo = F::from_i32((lo >> 1) as i32);
    let t = (y_hi + (y_lo + F::HALF) * two_pow_m31) * two_pow_m32;
    (t, hi >> 31 != 0)
}

/// Maps 64 random bits to a standard Gumbel variate (see the module docs):
/// the scalar reference that defines the bits of the noise.
#[cfg(test)]
pub(crate) fn standard_gumbel<F: Float>(hi: u32, lo: u32) -> F {
    let (t, upper) = half_uniform::<F>(hi, lo);
    let e = if upper { -t.ln() } else { -(-t).ln_1p() };
    -e.ln()
}

/// Maps 64 random bits to a standard logistic variate, the quantile
/// transform of the Gumbel variate [`standard_gumbel`] of the same bits:
/// `L = logit(U)` with `U = exp(-exp(-g))` (see the module docs). The scalar
/// reference that defines the bits of the logistic noise.
#[cfg(test)]
pub(crate) fn standard_logistic<F: Float>(hi: u32, lo: u32) -> F {
    let (t, upper) = half_uniform::<F>(hi, lo);
    // logit(t) <= 0: U = t in the upper half, U = 1 - t (logit -logit(t))
    // in the lower one.
    let logit_t = t.ln() - (-t).ln_1p();
    if upper {
        logit_t
    } else {
        -logit_t
    }
}

/// Standard Gumbel noise, the branch-free form of [`standard_gumbel`] that
/// the lane-parallel kernels evaluate: the argument of the logarithm of
/// the half is selected and one logarithm taken
/// ([`Float::ln_or_ln_1p_neg`]); `E` is positive, normal and finite, so its
/// logarithm skips the special-value selects ([`Float::ln_normal`]). Both
/// give the same bits.
#[derive(Clone, Copy)]
pub(crate) struct Gumbel;

impl Variate for Gumbel {
    #[inline(always)]
    fn of<F: Float>(hi: u32, lo: u32) -> F {
        let (t, upper) = half_uniform::<F>(hi, lo);
        let e = -t.ln_or_ln_1p_neg(upper);
        -e.ln_normal()
    }
}

/// Standard logistic noise, the branch-free form of [`standard_logistic`]
/// (which has no branch before its final sign); both logarithms are
/// [`Float::ln_or_ln_1p_neg`], which skips the special-value selects and
/// gives the same bits on the range of `t`.
#[derive(Clone, Copy)]
pub(crate) struct Logistic;

impl Variate for Logistic {
    #[inline(always)]
    fn of<F: Float>(hi: u32, lo: u32) -> F {
        let (t, upper) = half_uniform::<F>(hi, lo);
        let logit_t = t.ln_or_ln_1p_neg(true) - t.ln_or_ln_1p_neg(false);
        if upper {
            logit_t
        } else {
            -logit_t
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extreme_bits_reach_both_tails_without_infinity() {
        // hi = 0, lo = 0: the smallest t, E ~ 2^-64, g ~ 64 ln 2.
        let top32: f32 = standard_gumbel(0, 0);
        let top64: f64 = standard_gumbel(0, 0);
        assert!((top64 - 44.3614195558365).abs() < 1e-9, "{top64}");
        assert!((top32 as f64 - 44.3614195558365).abs() < 1e-4, "{top32}");
        // hi = 0x80000000, lo = 0: upper half, smallest t, E ~ 44.36.
        let bottom64: f64 = standard_gumbel(0x8000_0000, 0);
        assert!(
            (bottom64 + 44.3614195558365f64.ln()).abs() < 1e-9,
            "{bottom64}"
        );
        let bottom32: f32 = standard_gumbel(0x8000_0000, 0);
        assert!((bottom32 as f64 - bottom64).abs() < 1e-5, "{bottom32}");
        // t = 1/2 from both sides meets at the median -ln(ln 2).
        for hi in [0x7fff_ffffu32, 0xffff_ffff] {
            let median: f64 = standard_gumbel(hi, u32::MAX);
            assert!(
                (median + std::f64::consts::LN_2.ln()).abs() < 1e-9,
                "{median}"
            );
            let median32: f32 = standard_gumbel(hi, u32::MAX);
            assert!(
                (median32 as f64 + std::f64::consts::LN_2.ln()).abs() < 1e-6,
                "{median32}"
            );
        }
    }

    #[test]
    fn logistic_variates_are_the_quantile_transform_of_the_gumbel_ones() {
        // L = logit(U), U = exp(-exp(-g)): ln U = -exp(-g) and
        // ln(1 - U) = ln(-expm1(-exp(-g))).
        let from_gumbel = |g: f64| -(-g).exp() - (-(-(-g).exp()).exp_m1()).ln();
        for (hi, lo) in [
            (0u32, 0u32),
            (0x8000_0000, 0),
            (0x7fff_ffff, u32::MAX),
            (0xffff_ffff, u32::MAX),
            (0x1234_5678, 0x9abc_def0),
            (0xc000_0001, 7),
            (3, 5),
        ] {
            let g: f64 = standard_gumbel(hi, lo);
            let l: f64 = standard_logistic(hi, lo);
            assert!(
                (l - from_gumbel(g)).abs() < 1e-9 * (1.0 + l.abs()),
                "{hi:x} {lo:x}: {l} vs {g}"
            );
            let l32: f32 = standard_logistic(hi, lo);
            assert!(
                (l32 as f64 - l).abs() < 1e-5 * (1.0 + l.abs()),
                "{l32} vs {l}"
            );
        }
        // The extremes: t = 2^-64 gives L = +-(64 ln 2 + 2^-64), finite in f32 too.
        let top: f64 = standard_logistic(0, 0);
        let bottom: f64 = standard_logistic(0x8000_0000, 0);
        assert!((top - 44.3614195558365).abs() < 1e-9, "{top}");
        assert_eq!(bottom, -top);
        let top32: f32 = standard_logistic(0, 0);
        assert!((top32 as f64 - 44.3614195558365).abs() < 1e-4, "{top32}");
        // t = 1/2 is the median from both sides.
        for hi in [0x7fff_ffffu32, 0xffff_ffff] {
            let mid32: f32 = standard_logistic(hi, u32::MAX);
            let mid64: f64 = standard_logistic(hi, u32::MAX);
            assert!(mid32.abs() < 1e-6 && mid64.abs() < 1e-15, "{mid32} {mid64}");
        }
    }
}
