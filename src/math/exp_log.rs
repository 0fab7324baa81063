//! Scalar elementary functions (`ln`, `ln_1p`, `exp`) for `f32` and `f64`,
//! written so that their results are the same bits on every CPU.
//!
//! # Why not libm
//!
//! The random streams of this crate must be bit-for-bit reproducible across
//! platforms and equal to the (future) SIMD versions of the same kernels.
//! libm (`f32::ln`, `f64::exp`, ...) differs between platforms and versions,
//! so every function here is built ONLY from
//!
//! * IEEE-754 basic operations, each correctly rounded in round-to-nearest:
//!   `+`, `-`, `*`, `/` (no `mul_add`: Rust never contracts `a * b + c`
//!   into an FMA on its own, and we never ask for one),
//! * comparisons and selects (`if c { a } else { b }` on plain values),
//! * integer bit manipulation (`to_bits`/`from_bits`, shifts, masks,
//!   wrapping integer add/sub) and int-to-float casts of small integers,
//!
//! evaluated in one fixed order. There are no early returns and no
//! float-to-int casts: both sides of every select are computed with the same
//! arithmetic whatever the input, so a lane-wise SIMD translation (AVX2,
//! AVX-512, NEON) that evaluates the same expression tree and blends with the
//! same masks gives identical bits.
//!
//! # Where the constants come from
//!
//! * Polynomials are truncated Taylor series with exact rational
//!   coefficients (`2/(2j+1)` for `ln`, `1/k!` for `exp`), written as
//!   compile-time divisions of exactly representable integers, so each
//!   coefficient is the correctly rounded value of the exact rational. The
//!   number of terms is chosen from the truncation bound given next to each.
//! * `ln 2` is split into `LN2_HI + LN2_LO` (see the constants below; the
//!   split is re-derived from scratch with integer arithmetic in the tests).
//!
//! # Accuracy
//!
//! All six functions are within 0.78 ulp of the exact result (so never more
//! than 1 ulp from the correctly rounded one, and at most 1 ulp from glibc's
//! `f32::ln`, `f64::exp`, ...). Measured maxima are listed in each function's
//! documentation: for `f32` exhaustively over all inputs, against the `f64`
//! std functions as the exact value; for `f64` on about 6.4 million
//! pseudo-random inputs per function, against a double-double reference
//! implemented in the tests. The tests also compare with std directly.

use crate::math::fma::Fma;

// ---------------------------------------------------------------------------
// Constants
// ---------------------------------------------------------------------------

/// `1.5 * 2^23`. For `|v| < 2^22`, `(v + MAGIC_F32) - MAGIC_F32` is `v` rounded
/// to the nearest integer (ties to even), and the low bits of
/// `(v + MAGIC_F32).to_bits()` minus those of `MAGIC_F32` are that integer.
const MAGIC_F32: f32 = 12_582_912.0;
/// `1.5 * 2^52`, the `f64` analogue of [`MAGIC_F32`] (valid for `|v| < 2^51`).
const MAGIC_F64: f64 = 6_755_399_441_055_744.0;

// ln 2 = 0.693147180559945309417232121458176568075500134360255...
//
// Split into a "hi" part with few significant bits, so that `n * LN2_HI` is
// exact for every integer `n` that can occur (the exponent of an `ln`
// argument, or the reduction integer of `exp`), plus a "lo" part holding the
// rest, rounded to nearest.
//
// f32: LN2_HI_F32 = ln 2 rounded to 16 significant bits = 45426 / 2^16
//      = 22713 / 2^15 = 0.693145751953125 (the 16th bit is 0, so it has 15
//      significant bits, bit pattern 0x3f317200 with 9 trailing zero
//      fraction bits). `n * LN2_HI_F32` needs at most 15 + 9 = 24 bits, hence
//      is exact for |n| < 2^9 = 512; we use |n| <= 151 (ln: exponents
//      -149..=128; exp: n in -150..=128).
//      LN2_LO_F32 = (ln 2 - LN2_HI_F32) rounded to f32
//      = 1.428606765330187...e-6 (exact value of the rounded constant:
//      0.000001428606765330187045037746429443359375); hi + lo represents
//      ln 2 to a relative error of about 3.4e-23.
// f64: LN2_HI_F64 = ln 2 rounded to 40 significant bits
//      = 381061692393 / 2^39 = 0.693147180560117703862488269805908203125
//      (the 40th bit is 0: 39 significant bits, 14 trailing zero fraction
//      bits), so `n * LN2_HI_F64` is exact for |n| < 2^14 = 16384; we use
//      |n| <= 1076.
//      LN2_LO_F64 = (ln 2 - LN2_HI_F64) rounded to f64
//      = -1.7239444525614835e-13; hi + lo represents ln 2 to a relative
//      error of about 2.8e-31.
// The values were computed with 60-digit decimal arithmetic and are checked
// in `tests::ln2_split_is_correct` against ln 2 = sum_{k>=1} 1/(k 2^k)
// evaluated with 128-bit integers.
const LN2_HI_F32: f32 = f32::from_bits(0x3f31_7200);
const LN2_LO_F32: f32 = f32::from_bits(0x35bf_be8e);
const LN2_HI_F64: f64 = f64::from_bits(0x3fe6_2e42_fefa_4000);
const LN2_LO_F64: f64 = f64::from_bits(0xbd48_432a_1b0e_2634);

/// `2^24`: scales any positive subnormal `f32` into the normal range.
const TWO_P24_F32: f32 = 16_777_216.0;
/// `2^54`: scales any positive subnormal `f64` into the normal range.
const TWO_P54_F64: f64 = 18_014_398_509_481_984.0;

// ln kernel: ln(1 + f) = 2 atanh(s), s = f / (2 + f)
//          = 2s + 2s^3/3 + 2s^5/5 + ... = 2s + s * R(z),  z = s^2,
//   R(z) = sum_{j>=1} 2 z^j / (2j + 1).
// The mantissa is reduced to [sqrt(1/2), sqrt(2)], so |f| <= sqrt(2) - 1,
// |s| <= (sqrt(2) - 1) / (sqrt(2) + 1) = 0.17157, z <= 0.029437.
// Dropping the terms after z^J changes ln(1+f) ~ 2s by a relative amount of
// about z^(J+1) / (2J + 3):
//   f32, J = 4:  z^5  / 11 = 2.0e-9  ~ 2^-28.9 (vs ulp 2^-23..2^-24),
//   f64, J = 10: z^11 / 23 = 6.3e-19 ~ 2^-60.5 (vs ulp 2^-52..2^-53).
// (J = 3 for f32 would give 8e-8 and J = 9 for f64 2.3e-17: too large.)
const LN_C1_F32: f32 = 2.0 / 3.0;
const LN_C2_F32: f32 = 2.0 / 5.0;
const LN_C3_F32: f32 = 2.0 / 7.0;
const LN_C4_F32: f32 = 2.0 / 9.0;

const LN_C1_F64: f64 = 2.0 / 3.0;
const LN_C2_F64: f64 = 2.0 / 5.0;
const LN_C3_F64: f64 = 2.0 / 7.0;
const LN_C4_F64: f64 = 2.0 / 9.0;
const LN_C5_F64: f64 = 2.0 / 11.0;
const LN_C6_F64: f64 = 2.0 / 13.0;
const LN_C7_F64: f64 = 2.0 / 15.0;
const LN_C8_F64: f64 = 2.0 / 17.0;
const LN_C9_F64: f64 = 2.0 / 19.0;
const LN_C10_F64: f64 = 2.0 / 21.0;

// exp kernel: e^r = 1 + r + r^2 * Q(r), Q(r) = sum_{k>=2} r^(k-2) / k!,
// for |r| <= ln(2)/2 = 0.34657 (plus a few ulps from rounding of x*log2(e)).
// Dropping the terms after r^K changes e^r (>= 0.707) by a relative amount
// of at most about 0.3466^(K+1) / (K+1)! / 0.707:
//   f32, K = 7:  0.3466^8  / 8!  / 0.707 = 7.3e-9  ~ 2^-27.0,
//   f64, K = 13: 0.3466^14 / 14! / 0.707 = 5.8e-18 ~ 2^-57.3.
// (K = 6 for f32 would give 1.7e-7 and K = 12 for f64 2.4e-16: too large.)
const EXP_C2_F32: f32 = 1.0 / 2.0;
const EXP_C3_F32: f32 = 1.0 / 6.0;
const EXP_C4_F32: f32 = 1.0 / 24.0;
const EXP_C5_F32: f32 = 1.0 / 120.0;
const EXP_C6_F32: f32 = 1.0 / 720.0;
const EXP_C7_F32: f32 = 1.0 / 5_040.0;

const EXP_C2_F64: f64 = 1.0 / 2.0;
const EXP_C3_F64: f64 = 1.0 / 6.0;
const EXP_C4_F64: f64 = 1.0 / 24.0;
const EXP_C5_F64: f64 = 1.0 / 120.0;
const EXP_C6_F64: f64 = 1.0 / 720.0;
const EXP_C7_F64: f64 = 1.0 / 5_040.0;
const EXP_C8_F64: f64 = 1.0 / 40_320.0;
const EXP_C9_F64: f64 = 1.0 / 362_880.0;
const EXP_C10_F64: f64 = 1.0 / 3_628_800.0;
const EXP_C11_F64: f64 = 1.0 / 39_916_800.0;
const EXP_C12_F64: f64 = 1.0 / 479_001_600.0;
const EXP_C13_F64: f64 = 1.0 / 6_227_020_800.0;

// exp clamp, which keeps the reduction integer n bounded (f32: n in
// -150..=128, f64: n in -1076..=1024). Both ends are beyond the range of
// finite nonzero results, so evaluating at the clamp value gives the right
// answer for every input past it, without a final select:
// * e^EXP_MIN < 2^-150 resp. 2^-1075 (half the smallest subnormal;
//   ln(2^-150) = -103.972, ln(2^-1075) = -745.133), so it rounds to +0;
// * e^EXP_MAX > f32::MAX resp. f64::MAX (ln(f32::MAX) = 88.7228,
//   ln(f64::MAX) = 709.783), so it overflows to +inf.
const EXP_MIN_F32: f32 = -104.0;
const EXP_MAX_F32: f32 = 89.0;
const EXP_MIN_F64: f64 = -746.0;
const EXP_MAX_F64: f64 = 710.0;

// ---------------------------------------------------------------------------
// Shared kernels
// ---------------------------------------------------------------------------

/// Splits a positive normal finite `x` into `(k, m)` with `x = 2^k * m` and
/// `m` in `[sqrt(1/2), sqrt(2)]` (both exact). Other inputs give garbage that
/// the callers select away.
#[inline(always)]
fn reduce_f32(x: f32) -> (i32, f32) {
    let bits = x.to_bits();
    let e = ((bits >> 23) & 0xff) as i32 - 127;
    let m = f32::from_bits((bits & 0x007f_ffff) | 0x3f80_0000); // [1, 2)
    let big = m > core::f32::consts::SQRT_2;
    let k = if big { e + 1 } else { e };
    let m = if big { 0.5 * m } else { m };
    (k, m)
}

/// `f64` version of [`reduce_f32`].
#[inline(always)]
fn reduce_f64(x: f64) -> (i64, f64) {
    let bits = x.to_bits();
    let e = ((bits >> 52) & 0x7ff) as i64 - 1023;
    let m = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000);
    let big = m > core::f64::consts::SQRT_2;
    let k = if big { e + 1 } else { e };
    let m = if big { 0.5 * m } else { m };
    (k, m)
}

/// `k ln 2 + ln(1 + f) + corr` for `|f| <= sqrt(2) - 1` (a bit more is fine),
/// an integer-valued `k` and a small correction `corr`.
///
/// With `s = f/(2+f)`: `2s = f - s f` and `s f = hfsq - s hfsq` where
/// `hfsq = f^2/2`, so `ln(1+f) = 2s + s R = f - hfsq + s (hfsq + R)`.
/// The leading term `f` is exact; the rounding errors of `s` (the division
/// and `2 + f`) only affect the small term `s (hfsq + R)`.
///
/// Summation: `a = k LN2_HI + f` and `y0 = a - hfsq` are each computed with
/// their exact rounding errors (Fast2Sum; valid because `|k LN2_HI| >= |f|`
/// unless `k = 0`, where `a = f` exactly, and `|a| >= 0.27 > |hfsq|` unless
/// `k = 0`, where `|f| >= f^2/2`). The errors are folded into the small
/// remainder, so the big terms are rounded only once, at the scale of the
/// result, also when `k = ±1` and `k ln 2` and `ln(1+f)` nearly cancel (e.g.
/// `ln_1p(-0.3)`). This brings the `f32` worst case from about 0.86 ulp (plain
/// `k hi + (f - (hfsq - ...))`) to about 0.7 ulp, for four extra additions.
#[inline(always)]
fn ln_kernel_f32(k: f32, f: f32, corr: f32) -> f32 {
    let s = f / (2.0 + f);
    let z = s * s;
    let r = z * (LN_C1_F32 + z * (LN_C2_F32 + z * (LN_C3_F32 + z * LN_C4_F32)));
    let hfsq = 0.5 * f * f;
    let t = s * (hfsq + r) + (k * LN2_LO_F32 + corr);
    let kh = k * LN2_HI_F32;
    let a = kh + f;
    let a_err = f - (a - kh);
    let y0 = a - hfsq;
    let y0_err = (a - y0) - hfsq;
    y0 + ((y0_err + a_err) + t)
}

/// `f64` version of [`ln_kernel_f32`].
#[inline(always)]
fn ln_kernel_f64(k: f64, f: f64, corr: f64) -> f64 {
    let s = f / (2.0 + f);
    let z = s * s;
    let r = z
        * (LN_C1_F64
            + z * (LN_C2_F64
                + z * (LN_C3_F64
                    + z * (LN_C4_F64
                        + z * (LN_C5_F64
                            + z * (LN_C6_F64
                                + z * (LN_C7_F64
                                    + z * (LN_C8_F64 + z * (LN_C9_F64 + z * LN_C10_F64)))))))));
    let hfsq = 0.5 * f * f;
    let t = s * (hfsq + r) + (k * LN2_LO_F64 + corr);
    let kh = k * LN2_HI_F64;
    let a = kh + f;
    let a_err = f - (a - kh);
    let y0 = a - hfsq;
    let y0_err = (a - y0) - hfsq;
    y0 + ((y0_err + a_err) + t)
}

// ---------------------------------------------------------------------------
// ln
// ---------------------------------------------------------------------------

/// Natural logarithm of an `f32`, bit-reproducible (no libm).
///
/// * Domain: all `f32`. Positive normal and subnormal inputs give `ln x`;
///   subnormals are first scaled by `2^24` (exact) and the exponent is
///   corrected, via selects.
/// * Special values: `ln(+inf) = +inf`, `ln(±0) = -inf`, `ln(x < 0) = NaN`,
///   `ln(NaN) = NaN`, `ln(1) = +0` exactly.
/// * Accuracy, measured on every positive finite `f32` (normal and
///   subnormal): max error 0.723 ulp against the exact value; at most 1 ulp
///   from std's `f32::ln` (glibc), from which 0.06% of the results differ.
///
/// Method: `x = 2^k m`, `m` in `[sqrt(1/2), sqrt(2)]`, `f = m - 1` (exact),
/// `ln x = k ln 2 + 2 atanh(f/(2+f))` with a degree-4 (in `s^2`) Taylor
/// series and `ln 2` split in hi/lo parts.
#[inline(always)]
pub fn ln_f32(x: f32) -> f32 {
    let sub = x < f32::MIN_POSITIVE;
    let xs = if sub { x * TWO_P24_F32 } else { x };
    let (e, m) = reduce_f32(xs);
    let k = if sub { e - 24 } else { e };
    let y = ln_kernel_f32(k as f32, m - 1.0, 0.0);
    let y = if x == f32::INFINITY { x } else { y };
    let y = if x == 0.0 { f32::NEG_INFINITY } else { y };
    // `x >= 0` is false for negative x and for NaN.
    if x >= 0.0 {
        y
    } else {
        f32::NAN
    }
}

/// Natural logarithm of an `f64`, bit-reproducible (no libm).
///
/// * Domain: all `f64`. Positive normal and subnormal inputs give `ln x`;
///   subnormals are first scaled by `2^54` (exact) and the exponent is
///   corrected, via selects.
/// * Special values: `ln(+inf) = +inf`, `ln(±0) = -inf`, `ln(x < 0) = NaN`,
///   `ln(NaN) = NaN`, `ln(1) = +0` exactly.
/// * Accuracy, measured on 6.4e6 pseudo-random inputs spread over all
///   exponents (normal and subnormal), over `[0.5, 2)` and within `2^-54`
///   to `2^-1` of 1: max error 0.688 ulp against the exact value; at most
///   1 ulp from std's `f64::ln` (glibc), from which 0.45% of the results
///   differ.
///
/// Method: as [`ln_f32`], with a degree-10 (in `s^2`) Taylor series.
#[inline(always)]
pub fn ln_f64(x: f64) -> f64 {
    let sub = x < f64::MIN_POSITIVE;
    let xs = if sub { x * TWO_P54_F64 } else { x };
    let (e, m) = reduce_f64(xs);
    let k = if sub { e - 54 } else { e };
    // k in -1074..=1024 fits i32, so this int-to-float conversion is exact (a SIMD
    // version lacking a 64-bit one can use `from_bits(MAGIC bits + k) - MAGIC`,
    // also exact, hence the same bits).
    let y = ln_kernel_f64(k as f64, m - 1.0, 0.0);
    let y = if x == f64::INFINITY { x } else { y };
    let y = if x == 0.0 { f64::NEG_INFINITY } else { y };
    if x >= 0.0 {
        y
    } else {
        f64::NAN
    }
}

// ---------------------------------------------------------------------------
// ln_1p
// ---------------------------------------------------------------------------

/// `ln(1 + x)` for an `f32`, accurate also for tiny `|x|`; bit-reproducible.
///
/// * Domain: `x` in `(-1, +inf)`. `ln_1p(-1) = -inf`, `x < -1` gives NaN,
///   `ln_1p(+inf) = +inf`, NaN gives NaN, `ln_1p(±0) = ±0` (sign kept), and
///   tiny `x` (including subnormals) give `x`.
/// * Accuracy, measured on every `f32` in `(-1, +inf)`: max error 0.723 ulp
///   against the exact value (0.716 ulp on the library's hot range,
///   `ln_1p(-t)` for `t` in `(0, 0.5]`); at most 1 ulp from std's
///   `f32::ln_1p` (glibc), from which 0.35% of the results differ.
///
/// Method: let `u = 1 + x` (rounded), `u = 2^k m` as in [`ln_f32`].
/// If `k == 0` (`1 + x` near 1, i.e. `x` in about `[-0.29, 0.41]`) the kernel
/// is evaluated directly on `f = x`, so nothing is lost to the rounding of
/// `1 + x`. Otherwise `f = m - 1` and the rounding error `c = x - (u - 1)` of
/// `u` is added as the first-order correction `c / u`; then `|ln_1p(x)| >=
/// 0.34`, so the neglected `c^2 / (2 u^2)` is far below an ulp.
#[inline(always)]
pub fn ln_1p_f32(x: f32) -> f32 {
    let u = 1.0 + x;
    let (k, m) = reduce_f32(u);
    let near = k == 0;
    let f = if near { x } else { m - 1.0 };
    let c = (x - (u - 1.0)) / u;
    let corr = if near { 0.0 } else { c };
    let y = ln_kernel_f32(k as f32, f, corr);
    // Keep the sign of zero (the kernel turns -0 into +0).
    let y = if x == 0.0 { x } else { y };
    // u = inf makes c = inf - inf = NaN; u = 0 makes c = 0/0.
    let y = if x == f32::INFINITY { x } else { y };
    let y = if x == -1.0 { f32::NEG_INFINITY } else { y };
    // `x >= -1` is false for x < -1 and for NaN.
    if x >= -1.0 {
        y
    } else {
        f32::NAN
    }
}

/// `ln(1 + x)` for an `f64`, accurate also for tiny `|x|`; bit-reproducible.
///
/// * Domain: `x` in `(-1, +inf)`. `ln_1p(-1) = -inf`, `x < -1` gives NaN,
///   `ln_1p(+inf) = +inf`, NaN gives NaN, `ln_1p(±0) = ±0` (sign kept), and
///   tiny `x` (including subnormals) give `x`.
/// * Accuracy, measured on 6.5e6 pseudo-random inputs over the whole
///   domain, 40% of them in the hot range `ln_1p(-t)`, `t` in `(0, 0.5]`:
///   max error 0.713 ulp against the exact value; at most 1 ulp from std's
///   `f64::ln_1p` (glibc), from which 3% of the results differ (glibc's
///   `log1p` is the less accurate one there).
///
/// Method: as [`ln_1p_f32`].
#[inline(always)]
pub fn ln_1p_f64(x: f64) -> f64 {
    let u = 1.0 + x;
    let (k, m) = reduce_f64(u);
    let near = k == 0;
    let f = if near { x } else { m - 1.0 };
    let c = (x - (u - 1.0)) / u;
    let corr = if near { 0.0 } else { c };
    let y = ln_kernel_f64(k as f64, f, corr);
    let y = if x == 0.0 { x } else { y };
    let y = if x == f64::INFINITY { x } else { y };
    let y = if x == -1.0 { f64::NEG_INFINITY } else { y };
    if x >= -1.0 {
        y
    } else {
        f64::NAN
    }
}

/// `ln(t)` when `upper`, else `ln_1p(-t)`, for a normal `t` in
/// `[MIN_POSITIVE, 1/2]` (the `f64` noise's `t` is at least `2^-64`; this is
/// its `E = -ln(...)` step in [`crate::rng::variate`]): the same bits as
/// [`ln_f64`]`(t)` resp. [`ln_1p_f64`]`(-t)`, with one reduction and one
/// kernel evaluation instead of two each. On that range none of their
/// special-value selects fire (`t` and `1 - t` are positive, normal and
/// finite; `-t` is neither 0 nor -1), so each is `ln_kernel_f64` of its
/// reduced argument, and reducing the selected argument gives the same
/// bits. `t <= 1/2` has exponent `k <= -1`, so `k == 0` (the direct branch
/// of [`ln_1p_f64`]) only occurs in the lower half.
#[inline(always)]
pub(crate) fn ln_or_ln_1p_neg_f64(t: f64, upper: bool) -> f64 {
    let x = -t;
    let u = 1.0 + x;
    let (k, m) = reduce_f64(if upper { t } else { u });
    let near = k == 0;
    let f = if near { x } else { m - 1.0 };
    let c = (x - (u - 1.0)) / u;
    let corr = if near || upper { 0.0 } else { c };
    ln_kernel_f64(k as f64, f, corr)
}

/// `ln(x)` for a positive normal finite `x` (the `f64` noise's `E`, in
/// `[2^-64, 45]`): the bits of [`ln_f64`]`(x)` without its selects for
/// subnormals and special values, none of which fire on that range.
#[inline(always)]
pub(crate) fn ln_normal_f64(x: f64) -> f64 {
    let (k, m) = reduce_f64(x);
    ln_kernel_f64(k as f64, m - 1.0, 0.0)
}

// ---------------------------------------------------------------------------
// ln and ln_1p with FMA (f32): the noise of randomness contract version 2
// ---------------------------------------------------------------------------

/// The bits of the `f32` nearest `2/3`: [`reduce_fma_f32`] reduces mantissas
/// to `[2/3, 4/3)`, so that `f = m - 1` lies in `[-1/3, 1/3]`.
pub(crate) const TWO_THIRDS_BITS_F32: u32 = 0x3f2a_aaab;

/// `ln 2` rounded to `f32`.
const LN2_F32: f32 = f32::from_bits(0x3f31_7218);

/// `Q(f) ~ (ln(1 + f) - f) / f^2` on `[-1/3, 1/3]`, lowest degree first: a
/// degree-7 polynomial fitted (Remez exchange, in `f32` coefficients) for the
/// smallest relative error of `ln(1 + f) = f + f^2 Q(f)`.
const LN_Q_F32: [f32; 8] = [
    f32::from_bits(0xbeff_ffd7),
    f32::from_bits(0x3eaa_aa86),
    f32::from_bits(0xbe80_0f9b),
    f32::from_bits(0x3e4c_e947),
    f32::from_bits(0xbe27_5918),
    f32::from_bits(0x3e0f_4247),
    f32::from_bits(0xbe21_7070),
    f32::from_bits(0x3e10_4118),
];

/// [`LN_Q_F32`] with the even-degree coefficients negated: Horner's rule on
/// these at `-f` gives exactly `-Q(f)` (rounding to nearest is symmetric),
/// so the kernels may evaluate `-ln` from `-f` with the same bits.
const LN_Q_NEG_F32: [f32; 8] = {
    let mut c = LN_Q_F32;
    let mut j = 0;
    while j < 8 {
        if j % 2 == 0 {
            c[j] = -c[j];
        }
        j += 1;
    }
    c
};

/// Splits a positive normal finite `x` into `(k, m)` with `x = 2^k m` and
/// `m` in `[2/3, 4/3)` (both exact), from the bits: `k` is the arithmetic
/// shift of `bits(x) - bits(2/3)`. Other inputs give garbage that the
/// callers select away.
#[inline(always)]
pub(crate) fn reduce_fma_f32(x: f32) -> (i32, f32) {
    let i = x.to_bits().wrapping_sub(TWO_THIRDS_BITS_F32) as i32;
    let k = i >> 23;
    (
        k,
        f32::from_bits((i as u32 & 0x007f_ffff).wrapping_add(TWO_THIRDS_BITS_F32)),
    )
}

/// `-(k ln 2 + ln(1 + f))` from `nf = -f`, for `f` in `[-1/3, 1/3]` and an
/// integer-valued `k`: `-Q(f)` by Horner's rule on [`LN_Q_NEG_F32`] (7
/// FMAs), then `fma(nf^2, -Q, nf)` and `fma(k, -ln 2, .)`. Each step is the
/// exact negation of the corresponding step of `k ln 2 + ln(1 + f)`
/// evaluated as `fma(k, ln 2, fma(f^2, Q(f), f))`, so both orders give the
/// same bits up to the sign.
#[inline(always)]
pub(crate) fn neg_ln_kernel_fma_f32<M: Fma>(k: f32, nf: f32) -> f32 {
    let mut q = LN_Q_NEG_F32[7];
    let mut j = 7;
    while j > 0 {
        j -= 1;
        q = M::fma32(q, nf, LN_Q_NEG_F32[j]);
    }
    let np = M::fma32(nf * nf, q, nf);
    M::fma32(k, -LN2_F32, np)
}

/// Natural logarithm of an `f32` by the FMA kernel of randomness contract
/// version 2: the scalar reference of the noise's logarithm, which
/// [`crate::rng::variate`] evaluates in a fused form with the same bits
/// ([`ln_f32`] is the library's other `f32` logarithm, for the softmax and
/// the gradients). The same bits for every [`Fma`].
///
/// * Domain: all `f32`; subnormals are scaled by `2^24` first. Special
///   values as [`ln_f32`]: `ln(+inf) = +inf`, `ln(+-0) = -inf`,
///   `ln(x < 0) = NaN`, `ln(NaN) = NaN`.
/// * Accuracy, measured on every `f32` in `[2^-64, 64]` (the noise's range):
///   at most 1.39 ulp from the exact value (see the tests).
///
/// Method: `x = 2^k m`, `m` in `[2/3, 4/3)` ([`reduce_fma_f32`]),
/// `f = m - 1` (exact), `ln x = fma(k, ln 2, fma(f^2, Q(f), f))` with the
/// degree-7 minimax `Q` of [`LN_Q_F32`]; evaluated as the negation of
/// [`neg_ln_kernel_fma_f32`].
#[cfg(test)]
#[inline(always)]
pub(crate) fn ln_fma_f32<M: Fma>(x: f32) -> f32 {
    let sub = x < f32::MIN_POSITIVE;
    let xs = if sub { x * TWO_P24_F32 } else { x };
    let (k, m) = reduce_fma_f32(xs);
    let k = if sub { k - 24 } else { k };
    let y = -neg_ln_kernel_fma_f32::<M>(k as f32, 1.0 - m);
    let y = if x == f32::INFINITY { x } else { y };
    let y = if x == 0.0 { f32::NEG_INFINITY } else { y };
    if x >= 0.0 {
        y
    } else {
        f32::NAN
    }
}

/// `ln(1 + x)` of an `f32` by the FMA kernel of version 2, on the argument
/// range of the noise, `x = -t` with `t` in `(0, 1/2]` (then `1 + x` is in
/// `[1/2, 1)`, `k` is 0 or -1):
/// `k = 0` (`1 + x >= 2/3`): `f = x`; `k = -1`: `f = 2(1 + x) - 1 = 1 + 2x`,
/// exact (Sterbenz). So `ln_1p(-t) = fma(k, ln 2, fma(f^2, Q(f), f))` with
/// no rounding error in `f`. Measured on every such `t`: at most 1.40 ulp.
/// The scalar reference of the noise, as [`ln_fma_f32`].
#[cfg(test)]
#[inline(always)]
pub(crate) fn ln_1p_neg_fma_f32<M: Fma>(t: f32) -> f32 {
    let x = -t;
    let near = 1.0 + x >= f32::from_bits(TWO_THIRDS_BITS_F32);
    let f = if near { x } else { 1.0 + 2.0 * x };
    let k = if near { 0.0 } else { -1.0 };
    -neg_ln_kernel_fma_f32::<M>(k, -f)
}

// ---------------------------------------------------------------------------
// exp
// ---------------------------------------------------------------------------

/// `e^x` for an `f32`, bit-reproducible (no libm).
///
/// * Domain: all `f32`. `exp(-inf) = +0`, `exp(+inf) = +inf`, NaN gives
///   `f32::NAN` (all six functions return the canonical NaN for NaN inputs),
///   `exp(±0) = 1` exactly; `x > 88.7228` overflows to `+inf`; results below
///   `f32::MIN_POSITIVE` underflow gradually into subnormals (rounded once),
///   and `x < -103.972` gives `+0`.
/// * Accuracy, measured on every `f32` in `[-105, 90]` (outside, the
///   result is exactly `+0` or `+inf`): max error 0.753 ulp against the
///   exact value for normal results, 0.771 subnormal ulp for subnormal
///   results; at most 1 ulp from std's `f32::exp` (glibc), from which 0.13%
///   of the results differ.
///
/// Method: `n = round(x log2 e)` (magic-number rounding), `r = hi - lo =
/// x - n ln 2` with `ln 2` in hi/lo parts (`hi = x - n LN2_HI` is exact),
/// `e^r = 1 + hi + (r^2 Q(r) - lo)` with a degree-7 Taylor series and the
/// rounding error of `1 + hi` recovered exactly, then the result is scaled
/// by `2^n` as `2^(n>>1) * 2^(n - (n>>1))`, both factors normal and built
/// from bits, so only the last multiplication can round (into the
/// subnormal range) or overflow.
#[inline(always)]
pub fn exp_f32(x: f32) -> f32 {
    // Clamp; comparisons with NaN are false, so NaN passes through. (A SIMD
    // version must keep these compare+select semantics, or use min/max
    // instructions with the operand order that returns `x` for NaN.)
    let xc = if x > EXP_MAX_F32 { EXP_MAX_F32 } else { x };
    let xc = if xc < EXP_MIN_F32 { EXP_MIN_F32 } else { xc };
    let t = xc * core::f32::consts::LOG2_E + MAGIC_F32;
    let nf = t - MAGIC_F32; // integer-valued, in -150..=128
    let n = (t.to_bits() as i32).wrapping_sub(MAGIC_F32.to_bits() as i32);
    let hi = xc - nf * LN2_HI_F32; // exact (Sterbenz, n * LN2_HI exact)
    let lo = nf * LN2_LO_F32;
    let r = hi - lo;
    let q = EXP_C2_F32
        + r * (EXP_C3_F32
            + r * (EXP_C4_F32 + r * (EXP_C5_F32 + r * (EXP_C6_F32 + r * EXP_C7_F32))));
    let p = (r * r) * q;
    // e^r = 1 + hi + (p - lo). Add 1 + hi with its exact rounding error
    // (Fast2Sum, |hi| < 1) so that only the final addition rounds at the
    // scale of the result.
    let y0 = 1.0 + hi;
    let e0 = (1.0 - y0) + hi;
    let y = y0 + (e0 + (p - lo));
    // 2^n = 2^n1 * 2^n2 with both factors normal. Wrapping integer ops: for
    // NaN input n is garbage (but y is NaN, so the result is NaN anyway).
    let n1 = n >> 1;
    let n2 = n.wrapping_sub(n1);
    let s1 = f32::from_bits((n1.wrapping_add(127) as u32) << 23);
    let s2 = f32::from_bits((n2.wrapping_add(127) as u32) << 23);
    let y = (y * s1) * s2;
    // Canonical NaN, so that the bits do not depend on the CPU's NaN
    // propagation rules (x86 and ARM differ).
    if x.is_nan() {
        f32::NAN
    } else {
        y
    }
}

/// `e^x` for an `f32` by the FMA kernel of randomness contract version 2:
/// the exponential of the `f32` softmax, the same bits for every [`Fma`]
/// ([`exp_f32`] stays the library's other `f32` exponential).
///
/// * Domain: all `f32`, as [`exp_f32`]: `exp(-inf) = +0`,
///   `exp(+inf) = +inf`, NaN gives `f32::NAN`, `exp(+-0) = 1` exactly,
///   `x > 88.7228` overflows to `+inf`, results below `f32::MIN_POSITIVE`
///   underflow gradually (rounded once) and `x < -103.972` gives `+0`.
/// * Accuracy, measured on every `f32` in `[-104, 0]` (the softmax's
///   exponents) and every 7th in `[0, 89]`: at most 0.94 ulp from the
///   exact value for normal results, 1 subnormal ulp for subnormal ones
///   (see the tests).
///
/// Method: `n = round(x log2 e)` by one FMA with the rounding constant,
/// `r = fma(-n, LN2_LO, fma(-n, LN2_HI, x))` (the first FMA is exact), the
/// degree-7 Taylor series `e^r = 1 + r(1 + r(1/2 + ... + r/5040))` by
/// Horner's rule (7 FMAs), then the scaling by `2^n` of [`exp_f32`] (two
/// factors, only the last multiplication rounds).
#[inline(always)]
pub(crate) fn exp_fma_f32<M: Fma>(x: f32) -> f32 {
    let xc = if x > EXP_MAX_F32 { EXP_MAX_F32 } else { x };
    let xc = if xc < EXP_MIN_F32 { EXP_MIN_F32 } else { xc };
    let t = M::fma32(xc, core::f32::consts::LOG2_E, MAGIC_F32);
    let nf = t - MAGIC_F32; // integer-valued, in -150..=128
    let n = (t.to_bits() as i32).wrapping_sub(MAGIC_F32.to_bits() as i32);
    let r = M::fma32(nf, -LN2_HI_F32, xc); // exact
    let r = M::fma32(nf, -LN2_LO_F32, r);
    let mut q = EXP_C7_F32;
    for c in [
        EXP_C6_F32, EXP_C5_F32, EXP_C4_F32, EXP_C3_F32, EXP_C2_F32, 1.0, 1.0,
    ] {
        q = M::fma32(q, r, c);
    }
    let n1 = n >> 1;
    let n2 = n.wrapping_sub(n1);
    let s1 = f32::from_bits((n1.wrapping_add(127) as u32) << 23);
    let s2 = f32::from_bits((n2.wrapping_add(127) as u32) << 23);
    let y = (q * s1) * s2;
    if x.is_nan() {
        f32::NAN
    } else {
        y
    }
}

/// `e^x` for an `f64`, bit-reproducible (no libm).
///
/// * Domain: all `f64`. `exp(-inf) = +0`, `exp(+inf) = +inf`, NaN gives
///   `f64::NAN`,
///   `exp(±0) = 1` exactly; `x > 709.7827` overflows to `+inf`; results below
///   `f64::MIN_POSITIVE` underflow gradually into subnormals (rounded once),
///   and `x < -745.1332` gives `+0`.
/// * Accuracy, measured on 7.9e6 pseudo-random inputs over `[-746, 710]`
///   (mostly `x <= 0`, 1.4e6 of them with subnormal results) and tiny `|x|`:
///   max error 0.680 ulp against the exact value for normal results, 0.778
///   subnormal ulp for subnormal results; at most 1 ulp from std's
///   `f64::exp` (glibc), from which 1% of the results differ.
///
/// Method: as [`exp_f32`], with a degree-13 Taylor series.
#[inline(always)]
pub fn exp_f64(x: f64) -> f64 {
    let xc = if x > EXP_MAX_F64 { EXP_MAX_F64 } else { x };
    let xc = if xc < EXP_MIN_F64 { EXP_MIN_F64 } else { xc };
    let t = xc * core::f64::consts::LOG2_E + MAGIC_F64;
    let nf = t - MAGIC_F64; // integer-valued, in -1076..=1024
    let n = (t.to_bits() as i64).wrapping_sub(MAGIC_F64.to_bits() as i64);
    let hi = xc - nf * LN2_HI_F64; // exact
    let lo = nf * LN2_LO_F64;
    let r = hi - lo;
    let q = EXP_C2_F64
        + r * (EXP_C3_F64
            + r * (EXP_C4_F64
                + r * (EXP_C5_F64
                    + r * (EXP_C6_F64
                        + r * (EXP_C7_F64
                            + r * (EXP_C8_F64
                                + r * (EXP_C9_F64
                                    + r * (EXP_C10_F64
                                        + r * (EXP_C11_F64
                                            + r * (EXP_C12_F64 + r * EXP_C13_F64))))))))));
    let p = (r * r) * q;
    let y0 = 1.0 + hi;
    let e0 = (1.0 - y0) + hi;
    let y = y0 + (e0 + (p - lo));
    // n1 = floor(n / 2), via a logical shift of the non-negative n + 2048
    // (AVX2 has no 64-bit arithmetic shift); same bits as `n >> 1`.
    let n1 = (((n.wrapping_add(2048) as u64) >> 1) as i64).wrapping_sub(1024);
    let n2 = n.wrapping_sub(n1);
    let s1 = f64::from_bits((n1.wrapping_add(1023) as u64) << 52);
    let s2 = f64::from_bits((n2.wrapping_add(1023) as u64) << 52);
    let y = (y * s1) * s2;
    // Canonical NaN, so that the bits do not depend on the CPU's NaN
    // propagation rules (x86 and ARM differ).
    if x.is_nan() {
        f64::NAN
    } else {
        y
    }
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    //! Accuracy tests against std (allowed here, and only here).
    //!
    //! * `f32` functions are compared with the exact value, taken from the
    //!   `f64` std function (whose own error, < 2^-50 relative, is ~2^-27 f32
    //!   ulp), in fractional ulps; and with std's `f32` function in integer
    //!   ulps.
    //! * `f64` functions are compared with the exact value from a
    //!   double-double (~106-bit) reference implemented below, in fractional
    //!   ulps, and with std's `f64` functions in integer ulps.
    //!
    //! std is itself only nearly correctly rounded (and differs between
    //! platforms), so the comparisons with std allow 2 ulps; the bounds
    //! against the exact value are the tight ones.
    //!
    //! Run `cargo test --release -- --nocapture` to see the measured maxima,
    //! and `-- --ignored` for the exhaustive `f32` sweeps (~12 minutes) and
    //! 16x more `f64` points (~30 s).
    use super::*;

    #[test]
    #[cfg_attr(miri, ignore = "accuracy sweep, too slow for Miri")]
    fn noise_logarithms_give_the_bits_of_ln_and_ln_1p() {
        // f64: 1/2 and 4e6 values spread over the exponents of [2^-64, 1/2)
        // (the bit patterns from 2^-64 = 0x3bf0.. up to 1/2 = 0x3fe0..).
        let (lo, hi) = (0x3bf0_0000_0000_0000u64, 0x3fe0_0000_0000_0000u64);
        let mut x = 0x2545_f491_4f6c_dd1du64;
        for n in 0..4_000_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let t = if n == 0 {
                0.5
            } else {
                f64::from_bits(lo + x % (hi - lo))
            };
            assert_eq!(
                ln_or_ln_1p_neg_f64(t, true).to_bits(),
                ln_f64(t).to_bits(),
                "{t:e}"
            );
            assert_eq!(
                ln_or_ln_1p_neg_f64(t, false).to_bits(),
                ln_1p_f64(-t).to_bits(),
                "{t:e}"
            );
            // ln_normal on all positive normal finite f64 bit patterns.
            let x = match n {
                0 => f64::MIN_POSITIVE,
                1 => f64::MAX,
                _ => f64::from_bits(
                    f64::MIN_POSITIVE.to_bits()
                        + x % (f64::MAX.to_bits() - f64::MIN_POSITIVE.to_bits()),
                ),
            };
            assert_eq!(ln_normal_f64(x).to_bits(), ln_f64(x).to_bits(), "{x:e}");
        }
    }

    /// `ln_fma_f32` (`upper`) or `ln_1p_neg_fma_f32` of every `x`, on
    /// `tier` with its FMA.
    struct FmaLogs<'a> {
        x: &'a [f32],
        y: &'a mut [f32],
        upper: bool,
    }

    impl crate::math::isa::FmaKernel for FmaLogs<'_> {
        type Output = ();
        #[inline(always)]
        fn run<M: Fma>(self) {
            for (y, &x) in self.y.iter_mut().zip(self.x) {
                *y = if self.upper {
                    ln_fma_f32::<M>(x)
                } else {
                    ln_1p_neg_fma_f32::<M>(x)
                };
            }
        }
    }

    /// The noise's logarithms (randomness contract version 2) on every `f32`
    /// of their range: `ln` on `[2^-64, 64]` (the `t` of the upper half and
    /// `E`), `ln_1p(-t)` on every 7th `t` in `[2^-64, 1/2]`; within 1.5 ulp of the
    /// exact value, on the best tier; every 61st input also on the baseline
    /// tier, with the same bits.
    #[test]
    #[cfg_attr(miri, ignore = "accuracy sweep, too slow for Miri")]
    fn fma_logarithms_on_the_noise_range() {
        use crate::math::isa::{run_fma_on, Tier};
        let best = Tier::ALL
            .into_iter()
            .filter(|t| t.available())
            .max()
            .unwrap();
        // Every input of ln; every 7th of ln_1p (whose largest errors are
        // spread over the whole range, not in a few spots), which keeps the
        // test near 10 s.
        let scale = if cfg!(debug_assertions) { 4099 } else { 1 };
        let ln_1p_neg: fn(f64) -> f64 = |t| (-t).ln_1p();
        for (upper, lo, hi, exact, step) in [
            (
                true,
                pow2(-64) as f32,
                64.0f32,
                f64::ln as fn(f64) -> f64,
                scale,
            ),
            (false, pow2(-64) as f32, 0.5, ln_1p_neg, 7 * scale),
        ] {
            let name = if upper {
                "ln_fma_f32"
            } else {
                "ln_1p_neg_fma_f32"
            };
            let mut worst = Worst::new(format!("{name} vs exact"));
            let mut x = Vec::with_capacity(1 << 16);
            let (mut y, mut z) = (vec![0.0; 1 << 16], vec![0.0; 1 << 16]);
            let mut b = lo.to_bits();
            let mut block = 0u64;
            while b <= hi.to_bits() {
                x.clear();
                while x.len() < 1 << 16 && b <= hi.to_bits() {
                    x.push(f32::from_bits(b));
                    b += step;
                }
                let n = x.len();
                run_fma_on(
                    best,
                    FmaLogs {
                        x: &x,
                        y: &mut y[..n],
                        upper,
                    },
                );
                for (&x, &y) in x.iter().zip(&y[..n]) {
                    worst.add(err32(y, exact(f64::from(x))), x.into());
                }
                block += 1;
                if block % 61 == 0 {
                    run_fma_on(
                        Tier::Baseline,
                        FmaLogs {
                            x: &x,
                            y: &mut z[..n],
                            upper,
                        },
                    );
                    assert!(y[..n]
                        .iter()
                        .zip(&z[..n])
                        .all(|(a, b)| a.to_bits() == b.to_bits()));
                }
            }
            worst.check(1.5);
        }
    }

    /// `exp_fma_f32` of every `x`, with the tier's FMA.
    struct FmaExp<'a> {
        x: &'a [f32],
        y: &'a mut [f32],
    }

    impl crate::math::isa::FmaKernel for FmaExp<'_> {
        type Output = ();
        #[inline(always)]
        fn run<M: Fma>(self) {
            for (y, &x) in self.y.iter_mut().zip(self.x) {
                *y = exp_fma_f32::<M>(x);
            }
        }
    }

    /// The softmax's exponential (randomness contract version 2) on every
    /// `f32` the softmax passes it, `[-104, 0]` (below, the result is `+0`
    /// by the clamp), and every 7th in `[0, 89]`: within 1 ulp of the exact
    /// value, measured 0.94 (1 subnormal ulp for subnormal results) on the
    /// best tier; every 61st block of inputs also on the baseline tier, with
    /// the same bits.
    #[test]
    #[cfg_attr(miri, ignore = "accuracy sweep, too slow for Miri")]
    fn fma_exp_on_the_softmax_range() {
        use crate::math::isa::{run_fma_on, Tier};
        let best = Tier::ALL
            .into_iter()
            .filter(|t| t.available())
            .max()
            .unwrap();
        let scale = if cfg!(debug_assertions) { 4099 } else { 1 };
        let mut normal = Worst::new("exp_fma_f32 vs exact".to_string());
        let mut subnormal = Worst::new("exp_fma_f32 vs exact, results below MIN_POSITIVE".into());
        let (mut y, mut z) = (vec![0.0; 1 << 16], vec![0.0; 1 << 16]);
        let mut x = Vec::with_capacity(1 << 16);
        let mut block = 0u64;
        for (lo, hi, step) in [
            (0x8000_0000u32, (-104.0f32).to_bits(), scale),
            (0, 89.0f32.to_bits(), 7 * scale),
        ] {
            let mut b = lo;
            while b <= hi {
                x.clear();
                while x.len() < 1 << 16 && b <= hi {
                    x.push(f32::from_bits(b));
                    b += step;
                }
                let n = x.len();
                run_fma_on(
                    best,
                    FmaExp {
                        x: &x,
                        y: &mut y[..n],
                    },
                );
                for (&x, &y) in x.iter().zip(&y[..n]) {
                    let exact = f64::from(x).exp();
                    let err = err32(y, exact);
                    if exact < f64::from(f32::MIN_POSITIVE) {
                        subnormal.add(err, x.into());
                    } else {
                        normal.add(err, x.into());
                    }
                }
                block += 1;
                if block % 61 == 0 {
                    run_fma_on(
                        Tier::Baseline,
                        FmaExp {
                            x: &x,
                            y: &mut z[..n],
                        },
                    );
                    assert!(y[..n]
                        .iter()
                        .zip(&z[..n])
                        .all(|(a, b)| a.to_bits() == b.to_bits()));
                }
            }
        }
        normal.check(1.0);
        subnormal.check(SUBNORMAL_LIMIT);
        // The fixed points of the softmax: exp(0) = 1 exactly, +0 far below,
        // +inf above, NaN canonical; the same on the baseline tier.
        let special = [
            0.0f32,
            -0.0,
            -104.0,
            -1e30,
            f32::NEG_INFINITY,
            89.0,
            f32::INFINITY,
            f32::NAN,
        ];
        let want = [
            1.0f32,
            1.0,
            0.0,
            0.0,
            0.0,
            f32::INFINITY,
            f32::INFINITY,
            f32::NAN,
        ];
        for tier in [best, Tier::Baseline] {
            let mut out = [0.0f32; 8];
            run_fma_on(
                tier,
                FmaExp {
                    x: &special,
                    y: &mut out,
                },
            );
            for ((&x, &got), &want) in special.iter().zip(&out).zip(&want) {
                assert_eq!(got.to_bits(), want.to_bits(), "exp({x}) on {tier:?}");
            }
        }
    }

    /// Unoptimised code is ~50x slower: use fewer points in debug builds.
    fn pick(release: u32, debug: u32) -> u32 {
        if cfg!(debug_assertions) {
            debug
        } else {
            release
        }
    }

    /// Allowed distance from std's functions (both `f32` and `f64`), in ulps.
    /// std's results may be ~1 ulp off the exact value on some platforms,
    /// so this is looser than the bounds against the exact value below.
    const STD_LIMIT: f64 = 2.0;
    // Bounds against the exact value for the f32 functions, in ulps of the
    // result: the exhaustive maxima (see the functions' docs) plus a little.
    const LN_F32_LIMIT: f64 = 0.75;
    const LN_1P_F32_LIMIT: f64 = 0.75;
    const EXP_F32_LIMIT: f64 = 0.8;
    // The same for the f64 functions (against a double-double reference).
    const LN_F64_LIMIT: f64 = 0.8;
    const LN_1P_F64_LIMIT: f64 = 0.8;
    const EXP_F64_LIMIT: f64 = 0.8;
    /// Subnormal results (exp) are rounded once more, to the subnormal grid.
    const SUBNORMAL_LIMIT: f64 = 1.0;

    // ----- ulp measures -----------------------------------------------------

    /// Monotone integer image of an `f32` (`±0` both map to 0).
    fn ord32(x: f32) -> i64 {
        let b = x.to_bits();
        let m = i64::from(b & 0x7fff_ffff);
        if b >> 31 == 1 {
            -m
        } else {
            m
        }
    }

    /// Monotone integer image of an `f64` (`±0` both map to 0).
    fn ord64(x: f64) -> i64 {
        let b = x.to_bits();
        let m = (b & 0x7fff_ffff_ffff_ffff) as i64;
        if b >> 63 == 1 {
            -m
        } else {
            m
        }
    }

    /// Number of `f32` values between `a` and `b`; NaN equals only NaN and
    /// an infinity equals only itself (so `MAX` vs `inf` is a failure).
    fn ulps32(a: f32, b: f32) -> f64 {
        if a.is_nan() || b.is_nan() {
            return if a.is_nan() && b.is_nan() {
                0.0
            } else {
                f64::INFINITY
            };
        }
        if (a.is_infinite() || b.is_infinite()) && a != b {
            return f64::INFINITY;
        }
        ord32(a).abs_diff(ord32(b)) as f64
    }

    /// [`ulps32`] for `f64`.
    fn ulps64(a: f64, b: f64) -> f64 {
        if a.is_nan() || b.is_nan() {
            return if a.is_nan() && b.is_nan() {
                0.0
            } else {
                f64::INFINITY
            };
        }
        if (a.is_infinite() || b.is_infinite()) && a != b {
            return f64::INFINITY;
        }
        ord64(a).abs_diff(ord64(b)) as f64
    }

    /// `2^e` for `-1074 <= e <= 1023`, built from bits.
    fn pow2(e: i32) -> f64 {
        if e >= -1022 {
            f64::from_bits(((e + 1023) as u64) << 52)
        } else {
            f64::from_bits(1u64 << (e + 1074))
        }
    }

    /// Error of the `f32` result `y` against the exact value `exact`, in
    /// ulps of `f32` at `exact` (the subnormal ulp `2^-149` below
    /// `f32::MIN_POSITIVE`). Infinities/NaN must match exactly.
    fn err32(y: f32, exact: f64) -> f64 {
        let rounded = exact as f32;
        if y.is_nan() || rounded.is_nan() || y.is_infinite() || rounded.is_infinite() {
            return ulps32(y, rounded);
        }
        let e = ((exact.abs().to_bits() >> 52) & 0x7ff) as i32 - 1023;
        let ulp = pow2((e - 23).max(-149));
        (f64::from(y) - exact).abs() / ulp
    }

    // ----- bookkeeping ------------------------------------------------------

    /// Largest error seen, and where.
    struct Worst {
        what: String,
        max: f64,
        at: f64,
        n: u64,
        nonzero: u64,
    }

    impl Worst {
        fn new(what: String) -> Self {
            Worst {
                what,
                max: 0.0,
                at: f64::NAN,
                n: 0,
                nonzero: 0,
            }
        }
        fn add(&mut self, err: f64, x: f64) {
            self.n += 1;
            self.nonzero += u64::from(err != 0.0);
            if err > self.max || err.is_nan() {
                self.max = err;
                self.at = x;
            }
        }
        fn check(&self, limit: f64) {
            eprintln!(
                "{}: {} points ({} nonzero), max error {:.4} ulp at x = {:e}",
                self.what, self.n, self.nonzero, self.max, self.at
            );
            assert!(
                self.max <= limit,
                "{}: max error {} ulp at x = {:e} ({:#x}) exceeds {} ulp",
                self.what,
                self.max,
                self.at,
                self.at.to_bits(),
                limit
            );
        }
    }

    /// Compares an `f32` function with the exact value (normal and
    /// subnormal results apart) and with std.
    struct Check32 {
        ours: fn(f32) -> f32,
        std: fn(f32) -> f32,
        exact: fn(f64) -> f64,
        normal: Worst,
        subnormal: Worst,
        vs_std: Worst,
    }

    impl Check32 {
        fn new(
            name: &str,
            ours: fn(f32) -> f32,
            std: fn(f32) -> f32,
            exact: fn(f64) -> f64,
        ) -> Self {
            Check32 {
                ours,
                std,
                exact,
                normal: Worst::new(format!("{name} vs exact")),
                subnormal: Worst::new(format!("{name} vs exact, results below MIN_POSITIVE")),
                vs_std: Worst::new(format!("{name} vs std")),
            }
        }
        fn at(&mut self, x: f32) {
            let y = (self.ours)(x);
            let exact = (self.exact)(f64::from(x));
            let err = err32(y, exact);
            if exact.abs() < f64::from(f32::MIN_POSITIVE) {
                self.subnormal.add(err, x.into());
            } else {
                self.normal.add(err, x.into());
            }
            self.vs_std.add(ulps32(y, (self.std)(x)), x.into());
        }
        /// Visits the bit patterns `lo, lo + step, ...` below `hi`, and `hi`.
        fn sweep(&mut self, lo: u32, hi: u32, step: u32) {
            let mut b = lo;
            while b < hi {
                self.at(f32::from_bits(b));
                b = b.saturating_add(step);
            }
            self.at(f32::from_bits(hi));
        }
        fn finish(&self, limit: f64) {
            self.normal.check(limit);
            self.subnormal.check(SUBNORMAL_LIMIT);
            self.vs_std.check(STD_LIMIT);
        }
    }

    // ----- double-double reference for the f64 functions ---------------------

    /// An unevaluated sum `hi + lo` with `|lo| <= ulp(hi)/2`: about 106 bits.
    /// Plain Dekker/Knuth algorithms (no FMA), tests only.
    #[derive(Clone, Copy, Debug)]
    struct Dd {
        hi: f64,
        lo: f64,
    }

    impl Dd {
        fn new(x: f64) -> Dd {
            Dd { hi: x, lo: 0.0 }
        }
        /// Exact `a + b` (Knuth's TwoSum).
        fn two_sum(a: f64, b: f64) -> Dd {
            let hi = a + b;
            let bb = hi - a;
            Dd {
                hi,
                lo: (a - (hi - bb)) + (b - bb),
            }
        }
        /// Exact `a + b` for `|a| >= |b|` (Fast2Sum).
        fn quick(a: f64, b: f64) -> Dd {
            let hi = a + b;
            Dd {
                hi,
                lo: b - (hi - a),
            }
        }
        /// Exact `a * b` (Dekker, splitting with 2^27 + 1; |a|, |b| < 2^995).
        fn two_prod(a: f64, b: f64) -> Dd {
            let split = |v: f64| {
                let c = 134_217_729.0 * v;
                let h = c - (c - v);
                (h, v - h)
            };
            let p = a * b;
            let ((ah, al), (bh, bl)) = (split(a), split(b));
            Dd {
                hi: p,
                lo: ((ah * bh - p) + ah * bl + al * bh) + al * bl,
            }
        }
        fn add(self, o: Dd) -> Dd {
            let s = Dd::two_sum(self.hi, o.hi);
            let t = Dd::two_sum(self.lo, o.lo);
            let s = Dd::quick(s.hi, s.lo + t.hi);
            Dd::quick(s.hi, s.lo + t.lo)
        }
        fn mul(self, o: Dd) -> Dd {
            let p = Dd::two_prod(self.hi, o.hi);
            Dd::quick(p.hi, p.lo + (self.hi * o.lo + self.lo * o.hi))
        }
        fn div(self, o: Dd) -> Dd {
            let q1 = self.hi / o.hi;
            let r = self.add(o.mul(Dd::new(-q1)));
            let q2 = r.hi / o.hi;
            let r = r.add(o.mul(Dd::new(-q2)));
            let q3 = r.hi / o.hi;
            Dd::quick(q1, q2).add(Dd::new(q3))
        }
        /// Multiplication by a power of two (exact barring underflow).
        fn scale(self, p: f64) -> Dd {
            Dd {
                hi: self.hi * p,
                lo: self.lo * p,
            }
        }
    }

    /// `ln 2` and the series coefficients, in double-double.
    struct Reference {
        ln2: Dd,
        /// `1 / (2j + 1)`, j = 0..24 (atanh series).
        odd: Vec<Dd>,
        /// `1 / k!`, k = 0..25 (exp series).
        fact: Vec<Dd>,
    }

    impl Reference {
        fn new() -> Self {
            // ln 2 from the integer series (true value in [s, s + 125]).
            let s = ln2_fixed124() + 62;
            let hi = core::f64::consts::LN_2;
            let lo = (s - fixed124(hi, 53).0) as f64 * pow2(-124);
            let odd = (0..25)
                .map(|j| Dd::new(1.0).div(Dd::new(f64::from(2 * j + 1))))
                .collect();
            let mut fact = vec![Dd::new(1.0)];
            for k in 1..26 {
                let prev: Dd = fact[k - 1];
                fact.push(prev.div(Dd::new(k as f64)));
            }
            Reference {
                ln2: Dd::quick(hi, lo),
                odd,
                fact,
            }
        }

        /// `ln u` for a positive `u` with a normal `u.hi`.
        fn ln(&self, u: Dd) -> Dd {
            let e = ((u.hi.to_bits() >> 52) & 0x7ff) as i32 - 1023;
            let m = u.scale(pow2(-e));
            let (m, k) = if m.hi > core::f64::consts::SQRT_2 {
                (m.scale(0.5), e + 1)
            } else {
                (m, e)
            };
            let f = Dd::two_sum(m.hi - 1.0, m.lo); // m.hi - 1 is exact
            let s = f.div(Dd::new(2.0).add(f));
            let z = s.mul(s); // <= 0.0295: 25 terms reach 2^-120
            let mut acc = Dd::new(0.0);
            for c in self.odd.iter().rev() {
                acc = acc.mul(z).add(*c);
            }
            s.mul(acc)
                .scale(2.0)
                .add(self.ln2.mul(Dd::new(f64::from(k))))
        }

        /// `(E, n)` with `e^x = E * 2^n`, `E` in about `[0.7, 1.42]`.
        fn exp(&self, x: f64) -> (Dd, i32) {
            let n = (x / core::f64::consts::LN_2).round();
            // |r| <= 0.35: 26 terms reach 2^-130.
            let r = Dd::new(x).add(self.ln2.mul(Dd::new(-n)));
            let mut acc = Dd::new(0.0);
            for c in self.fact.iter().rev() {
                acc = acc.mul(r).add(*c);
            }
            (acc, n as i32)
        }
    }

    /// Error of `y` against the exact `E * 2^n` (`E` in about `[0.5, 2)`),
    /// in ulps of `f64` at the exact value (`2^-1074` for subnormals).
    fn err64(y: f64, exact: Dd, n: i32) -> f64 {
        let (n1, n2) = (n / 2, n - n / 2);
        let rounded = (exact.hi + exact.lo) * pow2(n1) * pow2(n2);
        if y.is_nan() || y.is_infinite() || rounded.is_infinite() || rounded == 0.0 && y == 0.0 {
            return ulps64(y, rounded);
        }
        // y * 2^-n is exact (the result is normal: it is near E).
        let ys = y * pow2(-n1) * pow2(-n2);
        let e = ((exact.hi.abs().to_bits() >> 52) & 0x7ff) as i32 - 1023;
        let ulp = pow2((e - 52).max(-1074 - n));
        Dd::two_sum(ys, -exact.hi).add(Dd::new(-exact.lo)).hi.abs() / ulp
    }

    /// Compares an `f64` function with the exact value (double-double
    /// reference; normal and subnormal results apart) and with std.
    struct Check64<'r> {
        ours: fn(f64) -> f64,
        std: fn(f64) -> f64,
        /// `x -> (E, n)` with `f(x) = E * 2^n` to ~2^-100.
        exact: fn(&Reference, f64) -> (Dd, i32),
        reference: &'r Reference,
        normal: Worst,
        subnormal: Worst,
        vs_std: Worst,
    }

    impl<'r> Check64<'r> {
        fn new(
            name: &str,
            ours: fn(f64) -> f64,
            std: fn(f64) -> f64,
            exact: fn(&Reference, f64) -> (Dd, i32),
            reference: &'r Reference,
        ) -> Self {
            Check64 {
                ours,
                std,
                exact,
                reference,
                normal: Worst::new(format!("{name} vs exact")),
                subnormal: Worst::new(format!("{name} vs exact, results below MIN_POSITIVE")),
                vs_std: Worst::new(format!("{name} vs std")),
            }
        }
        fn at(&mut self, x: f64) {
            let y = (self.ours)(x);
            let (exact, n) = (self.exact)(self.reference, x);
            let err = err64(y, exact, n);
            let tiny = exact.hi.abs() * pow2(n / 2) * pow2(n - n / 2) < f64::MIN_POSITIVE;
            (if tiny {
                &mut self.subnormal
            } else {
                &mut self.normal
            })
            .add(err, x);
            self.vs_std.add(ulps64(y, (self.std)(x)), x);
        }
        fn finish(&self, limit: f64) {
            self.normal.check(limit);
            self.subnormal.check(SUBNORMAL_LIMIT);
            self.vs_std.check(STD_LIMIT);
        }
    }

    /// Exact `ln x` for positive finite `x` (subnormals pre-scaled).
    fn exact_ln(r: &Reference, x: f64) -> (Dd, i32) {
        let sub = x < f64::MIN_POSITIVE;
        let l = r.ln(Dd::new(if sub { x * pow2(54) } else { x }));
        let l = if sub {
            l.add(r.ln2.mul(Dd::new(-54.0)))
        } else {
            l
        };
        (l, 0)
    }

    /// Exact `ln(1 + x)` for `x > -1` (`1 + x` is exact in double-double).
    fn exact_ln_1p(r: &Reference, x: f64) -> (Dd, i32) {
        if x.abs() < pow2(-100) {
            return (Dd::two_sum(x, -0.5 * x * x), 0); // ln(1+x) = x - x^2/2 + ...
        }
        (r.ln(Dd::two_sum(1.0, x)), 0)
    }

    fn exact_exp(r: &Reference, x: f64) -> (Dd, i32) {
        r.exp(x)
    }

    /// 64-bit LCG (Knuth's MMIX multiplier), using only its high bits.
    struct Lcg(u64);

    impl Lcg {
        fn next(&mut self) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(0x5851_f42d_4c95_7f2d)
                .wrapping_add(0x1405_7b7e_f767_814f);
            self.0
        }
        /// Uniform in `[0, n)`.
        fn below(&mut self, n: u64) -> u64 {
            ((u128::from(self.next()) * u128::from(n)) >> 64) as u64
        }
        /// Uniform in `[0, 1)`, 53 bits.
        fn unit(&mut self) -> f64 {
            (self.next() >> 11) as f64 * pow2(-53)
        }
        /// Uniform in `[a, b)`.
        fn range(&mut self, a: f64, b: f64) -> f64 {
            a + (b - a) * self.unit()
        }
        /// Log-uniform-ish in `(0, 2^-lo_exp]` down to `2^-hi_exp`: a random
        /// binade, then a random mantissa.
        fn tiny(&mut self, lo_exp: u64, hi_exp: u64) -> f64 {
            let e = -((lo_exp + self.below(hi_exp - lo_exp)) as i32);
            pow2(e - 1) * (1.0 + self.unit())
        }
    }

    // ----- constants --------------------------------------------------------

    /// `ln 2 * 2^124`, rounded down: `ln 2 = sum_{k>=1} 1 / (k 2^k)`, each
    /// term truncated. The true value lies in `[s, s + 125]`.
    fn ln2_fixed124() -> i128 {
        (1..=124u32)
            .map(|k| (1i128 << (124 - k)) / i128::from(k))
            .sum()
    }

    /// Exact `x * 2^124` for a finite nonzero `f64` whose value is a
    /// multiple of `2^-124`, and (in the same units) half an ulp of `x` in a
    /// format with `p` significand bits (53 for `f64`, 24 for `f32` values).
    fn fixed124(x: f64, p: i32) -> (i128, i128) {
        let b = x.to_bits();
        let e = ((b >> 52) & 0x7ff) as i32;
        assert!(e != 0 && e != 0x7ff);
        let m = (b & 0x000f_ffff_ffff_ffff) | 1 << 52;
        let sh = e - 1075 + 124;
        assert!((0..=73).contains(&sh), "{x:e} is out of range");
        let v = i128::from(m) << sh;
        (
            if b >> 63 == 1 { -v } else { v },
            1i128 << (sh + 53 - p - 1),
        )
    }

    #[test]
    fn ln2_split_is_correct() {
        let s = ln2_fixed124();
        let within = |v: i128, tol: i128| v - tol - 125 <= s && s <= v + tol;
        for (hi, lo, hi_bits, p) in [
            (f64::from(LN2_HI_F32), f64::from(LN2_LO_F32), 16, 24),
            (LN2_HI_F64, LN2_LO_F64, 40, 53),
        ] {
            let (h, _) = fixed124(hi, p);
            let (l, half_ulp_lo) = fixed124(lo, p);
            // hi is ln 2 rounded to `hi_bits` bits: within half of 2^-hi_bits.
            assert!(within(h, 1i128 << (124 - hi_bits - 1)), "hi = {hi:e}");
            // lo is (ln 2 - hi) rounded to nearest.
            assert!(within(h + l, half_ulp_lo), "lo = {lo:e}");
        }
        // Both splits agree with std's ln 2.
        assert_eq!(LN2_HI_F32 + LN2_LO_F32, core::f32::consts::LN_2);
        assert_eq!(LN2_HI_F64 + LN2_LO_F64, core::f64::consts::LN_2);
        // `n * LN2_HI` is exact iff |n| times the odd part of the significand
        // of LN2_HI fits the significand (24 resp. 53 bits). The largest |n|
        // are 150 (exp_f32: n = -150) and 1076 (exp_f64: n = -1076); ln's
        // exponents are within -149..=128 resp. -1074..=1024.
        let odd = |x: f64| {
            let m = (x.to_bits() & 0x000f_ffff_ffff_ffff) | 1 << 52;
            m >> m.trailing_zeros()
        };
        assert!(odd(f64::from(LN2_HI_F32)) * 150 < 1 << 24);
        assert!(odd(LN2_HI_F64) * 1076 < 1 << 53);
        // ... and a deliberately wrong split would not be.
        assert!(odd(f64::from(core::f32::consts::LN_2)) * 150 >= 1 << 24);
    }

    #[test]
    fn other_constants() {
        assert_eq!(f64::from(MAGIC_F32), 1.5 * pow2(23));
        assert_eq!(MAGIC_F64, 1.5 * pow2(52));
        assert_eq!(f64::from(TWO_P24_F32), pow2(24));
        assert_eq!(TWO_P54_F64, pow2(54));
        // The polynomial coefficients are the correctly rounded rationals.
        assert_eq!(f64::from(LN_C4_F32), f64::from(2.0f32 / 9.0));
        assert!((EXP_C13_F64 * 6_227_020_800.0 - 1.0).abs() <= f64::EPSILON);
    }

    // ----- ln ---------------------------------------------------------------

    #[test]
    #[cfg_attr(miri, ignore = "accuracy sweep, too slow for Miri")]
    fn ln_f32_all_exponents() {
        let mut c = Check32::new("ln_f32", ln_f32, f32::ln, f64::ln);
        // Positive normals (every 307th pattern: ~7e6 points), then
        // subnormals (every 7th: ~1.2e6 points).
        c.sweep(
            f32::MIN_POSITIVE.to_bits(),
            f32::MAX.to_bits(),
            pick(307, 2_503),
        );
        c.sweep(1, f32::MIN_POSITIVE.to_bits() - 1, pick(7, 251));
        // Every value within 2^-10 of 1 (small results: relative accuracy).
        c.sweep(
            (1.0f32 - 1.0 / 1024.0).to_bits(),
            (1.0f32 + 1.0 / 1024.0).to_bits(),
            1,
        );
        // Powers of two: ln(2^k) = k ln 2.
        for k in -149..=127 {
            c.at(pow2(k) as f32);
        }
        c.finish(LN_F32_LIMIT);
    }

    #[test]
    #[cfg_attr(miri, ignore = "accuracy sweep, too slow for Miri")]
    fn ln_f64_random() {
        ln_f64_points(pick(80_000, 8_000), 1);
    }

    fn ln_f64_points(iterations: u32, seed: u64) {
        let r = Reference::new();
        let mut c = Check64::new("ln_f64", ln_f64, f64::ln, exact_ln, &r);
        let mut g = Lcg(seed);
        let (lo, hi) = (f64::MIN_POSITIVE.to_bits(), f64::MAX.to_bits());
        for _ in 0..iterations {
            // Any positive normal (uniform over bit patterns: all exponents).
            c.at(f64::from_bits(lo + g.below(hi - lo + 1)));
            // The mantissa range, and near 1 (tiny results).
            c.at(g.range(0.5, 2.0));
            let d = g.tiny(1, 53);
            c.at(1.0 + d);
            c.at(1.0 - d);
            // Subnormals.
            c.at(f64::from_bits(1 + g.below(lo - 1)));
        }
        for k in -1074..=1023 {
            c.at(pow2(k));
        }
        c.at(f64::MAX);
        c.finish(LN_F64_LIMIT);
    }

    #[test]
    fn ln_special_values() {
        assert_eq!(ln_f32(1.0).to_bits(), 0); // +0 exactly
        assert_eq!(ln_f64(1.0).to_bits(), 0);
        assert_eq!(ln_f32(f32::INFINITY), f32::INFINITY);
        assert_eq!(ln_f64(f64::INFINITY), f64::INFINITY);
        for z in [0.0f32, -0.0] {
            assert_eq!(ln_f32(z), f32::NEG_INFINITY);
            assert_eq!(ln_f64(z.into()), f64::NEG_INFINITY);
        }
        for x in [
            -1.0,
            -f32::MIN_POSITIVE,
            -f32::from_bits(1),
            -1e30,
            f32::NEG_INFINITY,
            f32::NAN,
            -f32::NAN,
        ] {
            assert!(ln_f32(x).is_nan(), "ln_f32({x})");
        }
        for x in [
            -1.0,
            -f64::MIN_POSITIVE,
            -f64::from_bits(1),
            -1e300,
            f64::NEG_INFINITY,
            f64::NAN,
            -f64::NAN,
        ] {
            assert!(ln_f64(x).is_nan(), "ln_f64({x})");
        }
        assert!(ln_f32(f32::from_bits(0x7f80_0001)).is_nan()); // signalling NaN
        assert!(ln_f64(f64::from_bits(0xfff0_0000_0000_0001)).is_nan());
        // Extremes of the domain.
        for x in [
            f32::MAX,
            f32::MIN_POSITIVE,
            f32::from_bits(1),
            f32::from_bits(0x007f_ffff),
        ] {
            assert!(ulps32(ln_f32(x), x.ln()) <= 1.0, "ln_f32({x:e})");
        }
        for x in [
            f64::MAX,
            f64::MIN_POSITIVE,
            f64::from_bits(1),
            f64::from_bits(0x000f_ffff_ffff_ffff),
        ] {
            assert!(ulps64(ln_f64(x), x.ln()) <= 1.0, "ln_f64({x:e})");
        }
        assert_eq!(ln_f32(2.0), core::f32::consts::LN_2);
        assert_eq!(ln_f64(2.0), core::f64::consts::LN_2);
        assert_eq!(ln_f64(10.0), core::f64::consts::LN_10);
    }

    // ----- ln_1p ------------------------------------------------------------

    #[test]
    #[cfg_attr(miri, ignore = "accuracy sweep, too slow for Miri")]
    fn ln_1p_f32_hot_range() {
        // ln_1p(-t), t in (0, 0.5]: every 5th value of [0.25, 0.5] and every
        // 307th pattern below (~5e6 points in all).
        let mut c = Check32::new(
            "ln_1p_f32(-t), t in (0, 0.5]",
            ln_1p_f32,
            f32::ln_1p,
            f64::ln_1p,
        );
        let neg = 0x8000_0000;
        c.sweep(
            neg | 0.25f32.to_bits(),
            neg | 0.5f32.to_bits(),
            pick(5, 251),
        );
        c.sweep(neg | 1, neg | 0.25f32.to_bits(), pick(307, 1_511));
        c.finish(LN_1P_F32_LIMIT);
    }

    #[test]
    #[cfg_attr(miri, ignore = "accuracy sweep, too slow for Miri")]
    fn ln_1p_f32_whole_domain() {
        let mut c = Check32::new("ln_1p_f32", ln_1p_f32, f32::ln_1p, f64::ln_1p);
        // (-1, -0.5] and all positive finite values.
        c.sweep(
            0.5f32.to_bits() | 0x8000_0000,
            (-1.0f32).to_bits() - 1,
            pick(257, 2_503),
        );
        c.sweep(1, f32::MAX.to_bits(), pick(307, 2_503));
        // Around the switch between "k == 0" (f = x) and "k != 0" (f = m - 1).
        for edge in [
            core::f32::consts::SQRT_2 - 1.0,
            core::f32::consts::FRAC_1_SQRT_2 - 1.0,
        ] {
            c.sweep(edge.to_bits() - 5_000, edge.to_bits() + 5_000, 1);
        }
        c.finish(LN_1P_F32_LIMIT);
    }

    #[test]
    #[cfg_attr(miri, ignore = "accuracy sweep, too slow for Miri")]
    fn ln_1p_f32_tiny_is_identity() {
        // |x| <= 2^-25: ln(1+x) = x - x^2/2 + ... rounds to x.
        let top = (1.0f32 / 33_554_432.0).to_bits();
        let step = pick(997, 24_989);
        let mut b = 1;
        while b <= top {
            for x in [f32::from_bits(b), -f32::from_bits(b)] {
                assert_eq!(ln_1p_f32(x), x, "ln_1p_f32({x:e})");
            }
            b += step;
        }
        let top = (1.0f64 / 18_014_398_509_481_984.0).to_bits(); // 2^-54
        let mut g = Lcg(7);
        for _ in 0..pick(100_000, 8_000) {
            let x = f64::from_bits(1 + g.below(top));
            assert_eq!(ln_1p_f64(x), x, "ln_1p_f64({x:e})");
            assert_eq!(ln_1p_f64(-x), -x, "ln_1p_f64({:e})", -x);
        }
    }

    #[test]
    #[cfg_attr(miri, ignore = "accuracy sweep, too slow for Miri")]
    fn ln_1p_f64_random() {
        ln_1p_f64_points(pick(80_000, 8_000), 2);
    }

    fn ln_1p_f64_points(iterations: u32, seed: u64) {
        let r = Reference::new();
        let mut c = Check64::new("ln_1p_f64", ln_1p_f64, f64::ln_1p, exact_ln_1p, &r);
        let mut g = Lcg(seed);
        for _ in 0..iterations {
            // Hot range: -t, t in (0, 0.5], uniform and log-uniform.
            c.at(-g.range(0.0, 0.5));
            c.at(-g.tiny(1, 60));
            // The rest of (-1, 0), and positive values of all sizes.
            c.at(g.range(-1.0, -0.5));
            c.at(g.tiny(0, 60));
            c.at(f64::from_bits(g.below(f64::MAX.to_bits())));
        }
        // Just above -1 and around the k == 0 edges.
        for i in 1..2_000 {
            c.at(-1.0 + f64::from(i) * pow2(-53));
            c.at(core::f64::consts::SQRT_2 - 1.0 + f64::from(i - 1_000) * pow2(-54));
            c.at(core::f64::consts::FRAC_1_SQRT_2 - 1.0 + f64::from(i - 1_000) * pow2(-54));
        }
        c.finish(LN_1P_F64_LIMIT);
    }

    #[test]
    fn ln_1p_special_values() {
        assert_eq!(ln_1p_f32(0.0).to_bits(), 0);
        assert_eq!(ln_1p_f64(0.0).to_bits(), 0);
        assert_eq!(ln_1p_f32(-0.0).to_bits(), (-0.0f32).to_bits());
        assert_eq!(ln_1p_f64(-0.0).to_bits(), (-0.0f64).to_bits());
        assert_eq!(ln_1p_f32(-1.0), f32::NEG_INFINITY);
        assert_eq!(ln_1p_f64(-1.0), f64::NEG_INFINITY);
        assert_eq!(ln_1p_f32(f32::INFINITY), f32::INFINITY);
        assert_eq!(ln_1p_f64(f64::INFINITY), f64::INFINITY);
        for x in [
            -1.0 - 1e-7,
            -2.0,
            -1e30,
            f64::NEG_INFINITY,
            f64::NAN,
            -f64::NAN,
        ] {
            assert!(ln_1p_f32(x as f32).is_nan(), "ln_1p_f32({x})");
        }
        for x in [
            -1.0 - 1e-15,
            -2.0,
            -1e300,
            f64::NEG_INFINITY,
            f64::NAN,
            -f64::NAN,
        ] {
            assert!(ln_1p_f64(x).is_nan(), "ln_1p_f64({x})");
        }
        // Extremes: largest input, closest to -1, subnormals.
        for x in [
            f32::MAX,
            -1.0 + f32::EPSILON / 2.0,
            f32::from_bits(1),
            -f32::from_bits(1),
        ] {
            assert!(ulps32(ln_1p_f32(x), x.ln_1p()) <= 1.0, "ln_1p_f32({x:e})");
        }
        for x in [
            f64::MAX,
            -1.0 + f64::EPSILON / 2.0,
            f64::from_bits(1),
            -f64::from_bits(1),
        ] {
            assert!(ulps64(ln_1p_f64(x), x.ln_1p()) <= 1.0, "ln_1p_f64({x:e})");
        }
        assert_eq!(ln_1p_f32(1.0), core::f32::consts::LN_2);
        assert_eq!(ln_1p_f64(1.0), core::f64::consts::LN_2);
    }

    // ----- exp --------------------------------------------------------------

    #[test]
    #[cfg_attr(miri, ignore = "accuracy sweep, too slow for Miri")]
    fn exp_f32_softmax_range() {
        // x in [-110, 0]: every 211th pattern (~5e6 points) and every 5th value
        // with a subnormal result (x in [-104, -87.33], ~4e5 points).
        let mut c = Check32::new("exp_f32 on [-110, 0]", exp_f32, f32::exp, f64::exp);
        c.sweep(0x8000_0000, (-110.0f32).to_bits(), pick(211, 1_259));
        c.sweep((-87.3f32).to_bits(), (-104.0f32).to_bits(), pick(5, 25));
        c.finish(EXP_F32_LIMIT);
    }

    #[test]
    #[cfg_attr(miri, ignore = "accuracy sweep, too slow for Miri")]
    fn exp_f32_positive() {
        let mut c = Check32::new("exp_f32 on [0, 89]", exp_f32, f32::exp, f64::exp);
        c.sweep(0, 89.0f32.to_bits(), pick(307, 2_503));
        // Around the overflow threshold ln(f32::MAX) = 88.72284: the results
        // must agree with std on being infinite (ulps32 says inf otherwise).
        c.sweep(
            88.72284f32.to_bits() - 3_000,
            88.72284f32.to_bits() + 3_000,
            1,
        );
        c.finish(EXP_F32_LIMIT);
    }

    #[test]
    #[cfg_attr(miri, ignore = "accuracy sweep, too slow for Miri")]
    fn exp_f64_random() {
        exp_f64_points(pick(80_000, 8_000), 3);
    }

    fn exp_f64_points(iterations: u32, seed: u64) {
        let r = Reference::new();
        let mut c = Check64::new("exp_f64", exp_f64, f64::exp, exact_exp, &r);
        let mut g = Lcg(seed);
        for _ in 0..iterations {
            // Softmax range, with extra weight near 0 and in the subnormal
            // range (x < -708.4), then the positive side and tiny |x|.
            c.at(g.range(-746.0, 0.0));
            c.at(g.range(-20.0, 0.0));
            c.at(g.range(-746.0, -708.0));
            c.at(g.range(0.0, 710.0));
            let t = g.tiny(0, 60);
            c.at(t);
            c.at(-t);
        }
        // Around the overflow (709.78) and underflow-to-zero (-745.13)
        // thresholds, every pattern.
        for edge in [709.782712893384f64, -745.1332191019412] {
            for i in -3_000..=3_000i64 {
                c.at(f64::from_bits(edge.to_bits().wrapping_add_signed(i)));
            }
        }
        c.finish(EXP_F64_LIMIT);
    }

    #[test]
    fn exp_special_values() {
        assert_eq!(exp_f32(0.0), 1.0);
        assert_eq!(exp_f32(-0.0), 1.0);
        assert_eq!(exp_f64(0.0), 1.0);
        assert_eq!(exp_f64(-0.0), 1.0);
        assert_eq!(exp_f32(f32::NEG_INFINITY).to_bits(), 0); // +0 exactly
        assert_eq!(exp_f64(f64::NEG_INFINITY).to_bits(), 0);
        assert_eq!(exp_f32(f32::INFINITY), f32::INFINITY);
        assert_eq!(exp_f64(f64::INFINITY), f64::INFINITY);
        // NaNs of both signs (the sign bit makes the integer n negative:
        // the wrapping arithmetic must not panic in debug builds).
        for b in [0x7fc0_0000, 0xffc0_0000, 0x7f80_0001, 0xffff_ffff] {
            assert!(exp_f32(f32::from_bits(b)).is_nan(), "exp_f32 of NaN {b:#x}");
        }
        for b in [
            0x7ff8_0000_0000_0000,
            0xfff8_0000_0000_0000,
            0x7ff0_0000_0000_0001,
            u64::MAX,
        ] {
            assert!(exp_f64(f64::from_bits(b)).is_nan(), "exp_f64 of NaN {b:#x}");
        }
        // Overflow and underflow.
        for x in [89.0, 100.0, 1e30, f32::MAX] {
            assert_eq!(exp_f32(x), f32::INFINITY, "exp_f32({x})");
        }
        for x in [710.0, 1e3, 1e300, f64::MAX] {
            assert_eq!(exp_f64(x), f64::INFINITY, "exp_f64({x})");
        }
        for x in [-103.98, -104.0, -104.01, -1e30, f32::MIN] {
            assert_eq!(exp_f32(x).to_bits(), 0, "exp_f32({x})");
        }
        for x in [-745.14, -746.0, -746.01, -1e300, f64::MIN] {
            assert_eq!(exp_f64(x).to_bits(), 0, "exp_f64({x})");
        }
        // Smallest subnormal, largest finite.
        assert_eq!(exp_f32(-103.9), f32::from_bits(1));
        assert_eq!(exp_f64(-745.0), f64::from_bits(1));
        assert_eq!(exp_f32(88.72283), 88.72283f32.exp());
        assert!(exp_f32(88.72283).is_finite());
        assert!(ulps64(exp_f64(709.78), 709.78f64.exp()) <= 1.0);
        assert_eq!(exp_f32(1.0), core::f32::consts::E);
        assert_eq!(exp_f64(1.0), core::f64::consts::E);
        // Tiny arguments round to 1 (or the neighbour below / above).
        assert_eq!(exp_f32(1e-10), 1.0);
        assert_eq!(exp_f64(1e-20), 1.0);
        assert_eq!(exp_f32(f32::from_bits(1)), 1.0);
        assert_eq!(exp_f64(-f64::from_bits(1)), 1.0);
    }

    // ----- exhaustive (ignored: minutes in release) ---------------------------

    #[test]
    #[ignore = "16x the points of the *_f64_random tests, other seeds; ~30 s in release"]
    fn more_f64_points() {
        for seed in 10..26 {
            ln_f64_points(80_000, seed);
            ln_1p_f64_points(80_000, seed);
            exp_f64_points(80_000, seed);
        }
    }

    #[test]
    #[ignore = "exhaustive over all f32 inputs; takes minutes in release"]
    fn exhaustive_f32() {
        let mut c = Check32::new("ln_f32, all inputs > 0", ln_f32, f32::ln, f64::ln);
        c.sweep(1, f32::MAX.to_bits(), 1);
        c.finish(LN_F32_LIMIT);
        let mut c = Check32::new(
            "ln_1p_f32(-t), all t in (0, 0.5]",
            ln_1p_f32,
            f32::ln_1p,
            f64::ln_1p,
        );
        c.sweep(0x8000_0001, (-0.5f32).to_bits(), 1);
        c.finish(LN_1P_F32_LIMIT);
        let mut c = Check32::new(
            "ln_1p_f32, all other inputs in (-1, MAX]",
            ln_1p_f32,
            f32::ln_1p,
            f64::ln_1p,
        );
        c.sweep((-0.5f32).to_bits() + 1, (-1.0f32).to_bits() - 1, 1);
        c.sweep(0, f32::MAX.to_bits(), 1);
        c.finish(LN_1P_F32_LIMIT);
        let mut c = Check32::new(
            "exp_f32, all inputs in [-105, 90]",
            exp_f32,
            f32::exp,
            f64::exp,
        );
        c.sweep(0x8000_0000, (-105.0f32).to_bits(), 1);
        c.sweep(0, 90.0f32.to_bits(), 1);
        c.finish(EXP_F32_LIMIT);
    }
}
