//! Random bits -> uniform -> Exp(1) -> Gumbel, for `f32` and `f64`
//! (randomness contract version 2, see the README).
//!
//! A standard Gumbel variate is `g = -ln(E)` with `E ~ Exp(1)`. `E` is built
//! from 64 random bits `(hi, lo)` without ever taking `ln(0)`: the top bit of
//! `hi` picks a half of the unit interval and the next 62 bits
//! `N = (hi & 0x7fffffff) 2^31 + (lo >> 1)` give `t = (2N + 1) 2^-64` in
//! `(0, 1/2)`. Then `E = -ln(1 - t)` (computed as `-ln_1p(-t)`) in the lower
//! half and `E = -ln(t)` in the upper half, so `U = exp(-E)` (`1 - t` resp.
//! `t`) is uniform on `(0, 1)` with about 64 bits of resolution near both
//! ends. The noise therefore reaches `64 ln 2 ~ 44.36` in the upper tail and
//! about `-3.8` in the lower one in both precisions, instead of the ~16.6 cap
//! of a variate built from 24 random bits.
//!
//! `t` is rounded to the element type as follows.
//! * `f64`: `t = (a 2^32 + (lo | 1)) 2^-64` with `a = hi & 0x7fffffff`,
//!   rounded once: the correctly rounded `t`.
//! * `f32`: with `big = (a >= 2^24)`, `x = 2a + big` and
//!   `y = big ? 0 : (lo | 1)` (as `u32`, converted with rounding to nearest),
//!   `t = fma(y, 2^-31, x) 2^-33`. That is the correctly rounded `t` when
//!   `big` (then `x = 2^33 t` rounded to 24 bits) or `a = 0`, and within 0.75
//!   ulp of it otherwise (a double rounding, about one variate in 2^28).
//!
//! The logarithms are the library's own: for `f64` [`Float::ln`] and
//! [`Float::ln_1p`] (version 1's, no FMA); for `f32` the FMA kernel of
//! [`crate::math::exp_log::ln_fma_f32`], with the hardware FMA or the
//! correctly rounded software one ([`crate::math::fma`]): the same bits on
//! every tier.
//!
//! The same bits also give a standard logistic variate (for the relaxed
//! Bernoulli): with `U = exp(-E)` (`1 - t` in the lower half, `t` in the
//! upper one), `U` is the Gumbel CDF at `g`, `exp(-exp(-g))`, and
//! `L = logit(U) = ln U - ln(1 - U)` is standard logistic. In terms of `t`,
//! `L = ln t - ln(1 - t)` in the upper half and its negation in the lower
//! half, computed as `ln t - ln_1p(-t)`. `L` is the quantile transform of `g`
//! (both increase with `U`), is finite, and reaches `+-44.4`.

use crate::math::exp_log::{
    ln_normal_f64, ln_or_ln_1p_neg_f64, neg_ln_kernel_fma_f32, reduce_fma_f32, TWO_THIRDS_BITS_F32,
};
use crate::math::float::Float;
use crate::math::fma::Fma;

/// The largest magnitude of a standard Gumbel variate this library draws,
/// rounded up: `64 ln 2 < 45`.
pub const MAX_ABS_STANDARD_GUMBEL: f64 = 45.0;

/// `ln 2 / 2^23`, rounded to `f32`.
const LN2_OVER_2P23_F32: f32 = std::f32::consts::LN_2 / 8_388_608.0;

/// The absolute safety margin of [`gumbel_upper_bound`], far above every
/// rounding error of the computed noise and of the bound itself (see there).
const BOUND_MARGIN_F32: f32 = 1.0 / 1024.0;

/// An upper bound on the standard Gumbel variate of the bits `(hi, lo)`,
/// from `hi` alone and without a logarithm: for every `lo`,
/// `Gumbel::of::<F, M>(hi, lo) <= gumbel_upper_bound(hi)` for `f32` and
/// `f64` and every FMA `M` (tested on raw bits). Gumbel-max sampling skips
/// the logarithms of the elements whose bound cannot beat the running
/// maximum.
///
/// Derivation, in exact arithmetic with `t = (2N + 1) 2^-64`,
/// `N = a 2^31 + (lo >> 1)`, `a = hi & 0x7fffffff` (see the module docs):
/// * upper half (top bit of `hi` set): `t < 1/2`, so `E = -ln t > ln 2`
///   and `g = -ln E < -ln(ln 2) = 0.36651...`; the bound is `0.375`.
/// * lower half: `E = -ln(1 - t) >= t` (as `-ln(1 - t) = t + t^2/2 + ...`)
///   and `t >= a 2^-32`, `t >= 2^-64`, so `g = -ln E <= -ln t <=
///   32 ln 2 - ln a` for `a >= 1` (and `<= 64 ln 2` for `a = 0`). Let
///   `x = f32(a)` (rounded to nearest: `x <= a (1 + 2^-24)`, so
///   `-ln a <= -ln x + 2^-24`) and `b` the bits of `x` read as an integer:
///   for a positive normal `x = 2^(e - 127) (1 + mu)`, `mu` in `[0, 1)`,
///   `b = 2^23 (e + mu)` and `log2(1 + mu) >= mu` (concavity, equality at
///   both ends), so `log2 x >= b 2^-23 - 127`. Hence
///   `g <= ln 2 (159 - b 2^-23) + 2^-24`, which also holds for `a = 0`
///   (`b = 0` gives `159 ln 2 > 64 ln 2`).
///
/// The bound is evaluated as `(159 ln 2 + margin) - f32(b) (ln 2 / 2^23)`
/// (no FMA, so that it is cheap on every tier; it need not be the same bits
/// on every tier, only a bound): `f32(b)` is within `2^-24 b` of `b` (at
/// most `0x4f00_0000`, i.e. at most `6e-6` after scaling), the rounded
/// constants and the two roundings add less than `3e-5` (every term is
/// below 111). The computed noise is within
/// a few ulp of `g` (below `44.37`, so within `2e-5`; the double rounding of
/// `t` moves it by less than `1e-6`). The margin `2^-10` covers all of these
/// more than 20 times over, and the upper half's `0.375` leaves `0.008`.
#[inline(always)]
pub(crate) fn gumbel_upper_bound(hi: u32) -> f32 {
    let x = (hi & 0x7fff_ffff) as i32 as f32;
    let b = x.to_bits() as i32 as f32;
    let lower = (159.0 * std::f32::consts::LN_2 + BOUND_MARGIN_F32) - b * LN2_OVER_2P23_F32;
    if (hi as i32) < 0 {
        0.375
    } else {
        lower
    }
}

/// A branch-free map from the 64 random bits `(hi, lo)` of an element to a
/// variate (see the module docs).
pub(crate) trait Variate: Copy + Send + Sync {
    /// The variate of the bits `(hi, lo)`, with the FMA `M` of the tier.
    fn of<F: Float, M: Fma>(hi: u32, lo: u32) -> F;
}

/// Whether `F` is `f32` (the other element type is `f64`); a constant per
/// instantiation, so the untaken branch of [`by_type`] compiles away.
#[inline(always)]
fn is_f32<F: Float>() -> bool {
    std::mem::size_of::<F>() == 4
}

/// The variate of type `F`: `of32` for `f32`, `of64` for `f64` (the
/// conversions through `f64` are exact).
#[inline(always)]
fn by_type<F: Float>(of32: impl FnOnce() -> f32, of64: impl FnOnce() -> f64) -> F {
    if is_f32::<F>() {
        F::from_f64(f64::from(of32()))
    } else {
        F::from_f64(of64())
    }
}

/// `2^-31`.
const TWO_M31_F32: f32 = 1.0 / 2_147_483_648.0;
/// `2^-33`.
const TWO_M33_F32: f32 = 1.0 / 8_589_934_592.0;

/// The bits `(hi, lo)` as `(2^33 t, upper)` in `f32` (see the module docs).
#[inline(always)]
fn scaled_t_f32<M: Fma>(hi: u32, lo: u32) -> (f32, bool) {
    let upper = (hi as i32) < 0;
    let big = hi & 0x7f00_0000 != 0;
    let x = (hi << 1) | big as u32;
    let y = if big { 0 } else { lo | 1 };
    (M::fma32(y as f32, TWO_M31_F32, x as f32), upper)
}

/// The bits `(hi, lo)` as `(t, upper)` in `f64` (see the module docs).
#[inline(always)]
fn t_f64(hi: u32, lo: u32) -> (f64, bool) {
    let a = f64::from(hi & 0x7fff_ffff);
    let t = (a * 4_294_967_296.0 + f64::from(lo | 1)) * (1.0 / 18_446_744_073_709_551_616.0);
    (t, hi >> 31 != 0)
}

/// `1 - 2/3` (the `f32` nearest `2/3`, exact by Sterbenz) times `2^33`:
/// for `t` on the `f32` grid, `1 - t` rounds to at least `2/3` exactly when
/// `2^33 t` is at most this.
const T2_NEAR_MAX_F32: f32 = (1.0 - f32::from_bits(TWO_THIRDS_BITS_F32)) * 8_589_934_592.0;

/// `(k, -f)` of the logarithm `k ln 2 + ln(1 + f)` that gives `ln(t)` when
/// `upper`, `ln_1p(-t)` otherwise, from `t2 = 2^33 t`: the arguments of
/// [`crate::math::exp_log::ln_fma_f32`] resp.
/// [`crate::math::exp_log::ln_1p_neg_fma_f32`], exactly.
#[inline(always)]
fn neg_log_args_f32(t2: f32, upper: bool) -> (f32, f32) {
    // ln t: t = 2^-33 t2 (normal); the 33 is folded into the offset.
    let i = t2.to_bits().wrapping_sub(TWO_THIRDS_BITS_F32 + (33 << 23)) as i32;
    let m = f32::from_bits((i as u32 & 0x007f_ffff).wrapping_add(TWO_THIRDS_BITS_F32));
    // ln_1p(-t): -f = t (k = 0) or 2t - 1 (k = -1), both exact.
    let near = t2 <= T2_NEAR_MAX_F32;
    let nf_lower = if near {
        t2 * TWO_M33_F32
    } else {
        t2 * (2.0 * TWO_M33_F32) - 1.0
    };
    let k = if upper { i >> 23 } else { -(!near as i32) };
    (k as f32, if upper { 1.0 - m } else { nf_lower })
}

/// `-ln(x)` for a positive normal finite `x`: the negated bits of
/// [`crate::math::exp_log::ln_fma_f32`].
#[inline(always)]
fn neg_ln_normal_f32<M: Fma>(x: f32) -> f32 {
    let (k, m) = reduce_fma_f32(x);
    neg_ln_kernel_fma_f32::<M>(k as f32, 1.0 - m)
}

/// Maps 64 random bits to a standard Gumbel variate (see the module docs):
/// the scalar reference that defines the bits of the noise.
#[cfg(test)]
pub(crate) fn standard_gumbel<F: Float>(hi: u32, lo: u32) -> F {
    use crate::math::exp_log::{ln_1p_neg_fma_f32, ln_fma_f32};
    use crate::math::fma::Software;
    by_type(
        || {
            let (t2, upper) = scaled_t_f32::<Software>(hi, lo);
            let t = t2 * TWO_M33_F32;
            let e = if upper {
                -ln_fma_f32::<Software>(t)
            } else {
                -ln_1p_neg_fma_f32::<Software>(t)
            };
            -ln_fma_f32::<Software>(e)
        },
        || {
            let (t, upper) = t_f64(hi, lo);
            // The library's logarithms (`Float`), not std's inherent ones.
            let e = if upper {
                -Float::ln(t)
            } else {
                -Float::ln_1p(-t)
            };
            -Float::ln(e)
        },
    )
}

/// Maps 64 random bits to a standard logistic variate, the quantile
/// transform of the Gumbel variate [`standard_gumbel`] of the same bits:
/// `L = logit(U)` with `U = exp(-exp(-g))` (see the module docs). The scalar
/// reference that defines the bits of the logistic noise.
#[cfg(test)]
pub(crate) fn standard_logistic<F: Float>(hi: u32, lo: u32) -> F {
    use crate::math::exp_log::{ln_1p_neg_fma_f32, ln_fma_f32};
    use crate::math::fma::Software;
    // logit(t) <= 0: U = t in the upper half, U = 1 - t (logit -logit(t))
    // in the lower one.
    let (logit_t, upper): (F, bool) = if is_f32::<F>() {
        let (t2, upper) = scaled_t_f32::<Software>(hi, lo);
        let t = t2 * TWO_M33_F32;
        let l = ln_fma_f32::<Software>(t) - ln_1p_neg_fma_f32::<Software>(t);
        (F::from_f64(f64::from(l)), upper)
    } else {
        let (t, upper) = t_f64(hi, lo);
        (F::from_f64(Float::ln(t) - Float::ln_1p(-t)), upper)
    };
    if upper {
        logit_t
    } else {
        -logit_t
    }
}

/// Standard Gumbel noise, the branch-free form of [`standard_gumbel`] that
/// the lane-parallel kernels evaluate, with the same bits: the arguments of
/// the logarithm of the half are selected and one logarithm taken; `E` is
/// positive, normal and finite, so its logarithm skips the special-value
/// selects. `f32` evaluates the negated logarithms
/// ([`crate::math::exp_log::neg_ln_kernel_fma_f32`]), `-E` and `g` directly.
#[derive(Clone, Copy)]
pub(crate) struct Gumbel;

impl Variate for Gumbel {
    #[inline(always)]
    fn of<F: Float, M: Fma>(hi: u32, lo: u32) -> F {
        by_type(
            #[inline(always)]
            || {
                let (t2, upper) = scaled_t_f32::<M>(hi, lo);
                let (k, nf) = neg_log_args_f32(t2, upper);
                let e = neg_ln_kernel_fma_f32::<M>(k, nf);
                neg_ln_normal_f32::<M>(e)
            },
            #[inline(always)]
            || {
                let (t, upper) = t_f64(hi, lo);
                let e = -ln_or_ln_1p_neg_f64(t, upper);
                -ln_normal_f64(e)
            },
        )
    }
}

/// Standard logistic noise, the branch-free form of [`standard_logistic`]
/// (which has no branch before its final sign), with the same bits.
#[derive(Clone, Copy)]
pub(crate) struct Logistic;

impl Variate for Logistic {
    #[inline(always)]
    fn of<F: Float, M: Fma>(hi: u32, lo: u32) -> F {
        let (logit_t, upper): (F, bool) = if is_f32::<F>() {
            let (t2, upper) = scaled_t_f32::<M>(hi, lo);
            let (k1, nf1) = neg_log_args_f32(t2, true);
            let (k2, nf2) = neg_log_args_f32(t2, false);
            // ln t - ln_1p(-t) = (-ln_1p(-t)) - (-ln t).
            let l = neg_ln_kernel_fma_f32::<M>(k2, nf2) - neg_ln_kernel_fma_f32::<M>(k1, nf1);
            (F::from_f64(f64::from(l)), upper)
        } else {
            let (t, upper) = t_f64(hi, lo);
            (
                F::from_f64(ln_or_ln_1p_neg_f64(t, true) - ln_or_ln_1p_neg_f64(t, false)),
                upper,
            )
        };
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

    /// The fraction of the 2^64 bit patterns `(hi, lo)` whose `f64` noise
    /// exceeds `t >= 0.37` (above the median `-ln ln 2`). Such noise comes
    /// from the half with the top bit of `hi` clear, where `U = 1 - t` and
    /// the noise decreases with the 63-bit value `n = hi 2^32 + lo`; the
    /// first `n` at or below `t` is found by bisection.
    fn exact_tail(t: f64) -> f64 {
        let g = |n: u64| standard_gumbel::<f64>((n >> 32) as u32, n as u32);
        let (mut low, mut high) = (0u64, 1u64 << 63);
        assert!(g(high - 1) < t);
        while low < high {
            let mid = low + (high - low) / 2;
            if g(mid) <= t {
                high = mid;
            } else {
                low = mid + 1;
            }
        }
        low as f64 * 2f64.powi(-64)
    }

    #[test]
    fn the_upper_tail_holds_its_exact_mass_down_to_1e_minus_18() {
        // P(g > t) = 1 - exp(-exp(-t)) for a standard Gumbel. Counted over
        // all 2^64 bit patterns (not sampled): a 24-bit uniform or a noise
        // table would give 0 beyond t ~ 16.6.
        for t in [
            0.5, 2.0, 5.0, 10.0, 16.7, 20.0, 20.72, 25.0, 30.0, 35.0, 40.0,
        ] {
            let want = -(-(-t as f64).exp()).exp_m1();
            let got = exact_tail(t);
            // One bit pattern is 2^-64 of the mass.
            let tolerance = 1e-9 * want + 2.0 * 2f64.powi(-64);
            assert!(
                (got - want).abs() <= tolerance,
                "t {t}: {got:e} vs {want:e}"
            );
        }
    }

    #[test]
    fn a_token_of_probability_1e_minus_9_wins_gumbel_max_at_its_rate() {
        // Two tokens with logits 0 and -d, d = ln(1e9): the rare one wins
        // when g_1 - d > g_0, with probability
        // E[P(g_1 > g_0 + d)] = 1 / (1 + e^d) = 1e-9 / (1 + 1e-9).
        // The expectation over g_0 (density exp(-g - exp(-g))) by Simpson's
        // rule, with the exact tail of the noise's bit patterns.
        let d = 1e9f64.ln();
        let (from, to, n) = (-4.0, 24.0, 2800);
        let h = (to - from) / n as f64;
        let f = |g: f64| (-g - (-g).exp()).exp() * exact_tail(g + d);
        let mut integral = f(from) + f(to);
        for i in 1..n {
            integral += f(from + i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 };
        }
        integral *= h / 3.0;
        let want = 1e-9 / (1.0 + 1e-9);
        assert!(
            ((integral - want) / want).abs() < 1e-6,
            "{integral:e} vs {want:e}"
        );
    }

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
