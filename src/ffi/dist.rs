//! `gumbel_dist_*`: the Gumbel distribution Gumbel(`loc`, `scale`): log-density,
//! distribution and quantile functions (elementwise over arrays), moments,
//! entropy and KL divergence (scalars).

use super::boundary::guard;
use super::buffer::{check_disjoint, write_scalar, Buffer};
use super::status::gumbel_status;
use crate::dist::{self, Function};
use crate::error::Result;
use crate::Float;

/// Log-density of the Gumbel distribution Gumbel(`loc`, `scale`) (max
/// convention; Gumbel 1954), elementwise:
/// `out[j] = -log(scale) - z - exp(-z)`, `z = (x[j] - loc) / scale`.
///
/// Values: every `x` except NaN; `log_pdf(-inf) = log_pdf(+inf) = -inf`.
/// Never the log of a rounded density, so the lower tail stays finite:
/// at `x = -5` (`loc = 0`, `scale = 1`) the result is `5 - e^5 = -143.41`,
/// where the density (`5.3e-63`) underflows `float`.
///
/// Shapes: `x` and `out` hold `n` floats. In place is supported: `out` may
/// be equal to `x` (the same pointer); otherwise the two must not overlap.
/// Precision: computed in double and rounded once (about 1 ulp wherever the
/// function is well conditioned); a value beyond the range of `float`
/// rounds to `-inf` or `+inf`, never NaN.
///
/// Returns `GUMBEL_STATUS_OK`; `GUMBEL_STATUS_NULL_POINTER` if `x` or `out`
/// is NULL and `n > 0`; `GUMBEL_STATUS_SIZE_OVERFLOW` if `n` floats exceed
/// the address space; `GUMBEL_STATUS_MISALIGNED_POINTER`;
/// `GUMBEL_STATUS_OVERLAP` if `x` and `out` overlap without being equal;
/// `GUMBEL_STATUS_INVALID_PARAMETER` if `loc` is not finite or `scale` is not
/// finite or `<= 0`; `GUMBEL_STATUS_INVALID_VALUE` for the first element
/// that is NaN (the message names its index). `n == 0` is a no-op. `out` is
/// untouched on error. Thread-safe; runs on the library's worker threads
/// for large `n`.
///
/// # Safety
/// `x` must point to `n` readable floats and `out` to `n` writable ones
/// (either may be NULL when `n == 0`).
#[no_mangle]
pub unsafe extern "C" fn gumbel_dist_log_pdf_f32(
    x: *const f32,
    out: *mut f32,
    n: usize,
    loc: f32,
    scale: f32,
) -> gumbel_status {
    guard(|| unsafe { apply(Function::LogPdf, x, out, n, loc, scale) })
}

/// The `double` twin of `gumbel_dist_log_pdf_f32`, same contract.
///
/// # Safety
/// As `gumbel_dist_log_pdf_f32`, with doubles.
#[no_mangle]
pub unsafe extern "C" fn gumbel_dist_log_pdf_f64(
    x: *const f64,
    out: *mut f64,
    n: usize,
    loc: f64,
    scale: f64,
) -> gumbel_status {
    guard(|| unsafe { apply(Function::LogPdf, x, out, n, loc, scale) })
}

/// Distribution function of Gumbel(`loc`, `scale`) (max convention;
/// Gumbel 1954), elementwise: `out[j] = P(X <= x[j]) = exp(-exp(-z))`,
/// `z = (x[j] - loc) / scale`.
///
/// Values: every `x` except NaN; results in `[0, 1]`, `cdf(-inf) = 0`,
/// `cdf(+inf) = 1`. In the upper tail the result rounds to 1: use
/// `gumbel_dist_sf_f32` for `1 - cdf`.
///
/// Shapes: `x` and `out` hold `n` floats. In place is supported: `out` may
/// be equal to `x` (the same pointer); otherwise the two must not overlap.
/// Precision: computed in double and rounded once (about 1 ulp wherever the
/// function is well conditioned); a value beyond the range of `float`
/// rounds to `-inf` or `+inf`, never NaN.
///
/// Returns `GUMBEL_STATUS_OK`; `GUMBEL_STATUS_NULL_POINTER` if `x` or `out`
/// is NULL and `n > 0`; `GUMBEL_STATUS_SIZE_OVERFLOW` if `n` floats exceed
/// the address space; `GUMBEL_STATUS_MISALIGNED_POINTER`;
/// `GUMBEL_STATUS_OVERLAP` if `x` and `out` overlap without being equal;
/// `GUMBEL_STATUS_INVALID_PARAMETER` if `loc` is not finite or `scale` is not
/// finite or `<= 0`; `GUMBEL_STATUS_INVALID_VALUE` for the first element
/// that is NaN (the message names its index). `n == 0` is a no-op. `out` is
/// untouched on error. Thread-safe; runs on the library's worker threads
/// for large `n`.
///
/// # Safety
/// `x` must point to `n` readable floats and `out` to `n` writable ones
/// (either may be NULL when `n == 0`).
#[no_mangle]
pub unsafe extern "C" fn gumbel_dist_cdf_f32(
    x: *const f32,
    out: *mut f32,
    n: usize,
    loc: f32,
    scale: f32,
) -> gumbel_status {
    guard(|| unsafe { apply(Function::Cdf, x, out, n, loc, scale) })
}

/// The `double` twin of `gumbel_dist_cdf_f32`, same contract.
///
/// # Safety
/// As `gumbel_dist_cdf_f32`, with doubles.
#[no_mangle]
pub unsafe extern "C" fn gumbel_dist_cdf_f64(
    x: *const f64,
    out: *mut f64,
    n: usize,
    loc: f64,
    scale: f64,
) -> gumbel_status {
    guard(|| unsafe { apply(Function::Cdf, x, out, n, loc, scale) })
}

/// Log of the distribution function of Gumbel(`loc`, `scale`), elementwise:
/// `out[j] = -exp(-z)`, `z = (x[j] - loc) / scale` (exact; not the log of a
/// rounded cdf).
///
/// Values: every `x` except NaN; results in `[-inf, 0]`,
/// `log_cdf(-inf) = -inf`, `log_cdf(+inf) = 0`.
///
/// Shapes: `x` and `out` hold `n` floats. In place is supported: `out` may
/// be equal to `x` (the same pointer); otherwise the two must not overlap.
/// Precision: computed in double and rounded once (about 1 ulp wherever the
/// function is well conditioned); a value beyond the range of `float`
/// rounds to `-inf` or `+inf`, never NaN.
///
/// Returns `GUMBEL_STATUS_OK`; `GUMBEL_STATUS_NULL_POINTER` if `x` or `out`
/// is NULL and `n > 0`; `GUMBEL_STATUS_SIZE_OVERFLOW` if `n` floats exceed
/// the address space; `GUMBEL_STATUS_MISALIGNED_POINTER`;
/// `GUMBEL_STATUS_OVERLAP` if `x` and `out` overlap without being equal;
/// `GUMBEL_STATUS_INVALID_PARAMETER` if `loc` is not finite or `scale` is not
/// finite or `<= 0`; `GUMBEL_STATUS_INVALID_VALUE` for the first element
/// that is NaN (the message names its index). `n == 0` is a no-op. `out` is
/// untouched on error. Thread-safe; runs on the library's worker threads
/// for large `n`.
///
/// # Safety
/// `x` must point to `n` readable floats and `out` to `n` writable ones
/// (either may be NULL when `n == 0`).
#[no_mangle]
pub unsafe extern "C" fn gumbel_dist_log_cdf_f32(
    x: *const f32,
    out: *mut f32,
    n: usize,
    loc: f32,
    scale: f32,
) -> gumbel_status {
    guard(|| unsafe { apply(Function::LogCdf, x, out, n, loc, scale) })
}

/// The `double` twin of `gumbel_dist_log_cdf_f32`, same contract.
///
/// # Safety
/// As `gumbel_dist_log_cdf_f32`, with doubles.
#[no_mangle]
pub unsafe extern "C" fn gumbel_dist_log_cdf_f64(
    x: *const f64,
    out: *mut f64,
    n: usize,
    loc: f64,
    scale: f64,
) -> gumbel_status {
    guard(|| unsafe { apply(Function::LogCdf, x, out, n, loc, scale) })
}

/// Survival function of Gumbel(`loc`, `scale`), elementwise:
/// `out[j] = P(X > x[j]) = 1 - exp(-exp(-z))`, `z = (x[j] - loc) / scale`,
/// computed as `-expm1(-exp(-z))` so the upper tail keeps its relative
/// accuracy: `sf(40) = 4.25e-18` (`loc = 0`, `scale = 1`), where `1 - cdf`
/// is 0.
///
/// Values: every `x` except NaN; results in `[0, 1]`, `sf(-inf) = 1`,
/// `sf(+inf) = 0`.
///
/// Shapes: `x` and `out` hold `n` floats. In place is supported: `out` may
/// be equal to `x` (the same pointer); otherwise the two must not overlap.
/// Precision: computed in double and rounded once (about 1 ulp wherever the
/// function is well conditioned); a value beyond the range of `float`
/// rounds to `-inf` or `+inf`, never NaN.
///
/// Returns `GUMBEL_STATUS_OK`; `GUMBEL_STATUS_NULL_POINTER` if `x` or `out`
/// is NULL and `n > 0`; `GUMBEL_STATUS_SIZE_OVERFLOW` if `n` floats exceed
/// the address space; `GUMBEL_STATUS_MISALIGNED_POINTER`;
/// `GUMBEL_STATUS_OVERLAP` if `x` and `out` overlap without being equal;
/// `GUMBEL_STATUS_INVALID_PARAMETER` if `loc` is not finite or `scale` is not
/// finite or `<= 0`; `GUMBEL_STATUS_INVALID_VALUE` for the first element
/// that is NaN (the message names its index). `n == 0` is a no-op. `out` is
/// untouched on error. Thread-safe; runs on the library's worker threads
/// for large `n`.
///
/// # Safety
/// `x` must point to `n` readable floats and `out` to `n` writable ones
/// (either may be NULL when `n == 0`).
#[no_mangle]
pub unsafe extern "C" fn gumbel_dist_sf_f32(
    x: *const f32,
    out: *mut f32,
    n: usize,
    loc: f32,
    scale: f32,
) -> gumbel_status {
    guard(|| unsafe { apply(Function::Sf, x, out, n, loc, scale) })
}

/// The `double` twin of `gumbel_dist_sf_f32`, same contract.
///
/// # Safety
/// As `gumbel_dist_sf_f32`, with doubles.
#[no_mangle]
pub unsafe extern "C" fn gumbel_dist_sf_f64(
    x: *const f64,
    out: *mut f64,
    n: usize,
    loc: f64,
    scale: f64,
) -> gumbel_status {
    guard(|| unsafe { apply(Function::Sf, x, out, n, loc, scale) })
}

/// Log of the survival function of Gumbel(`loc`, `scale`), elementwise:
/// `out[j] = log(1 - exp(-exp(-z)))`, `z = (x[j] - loc) / scale`, as
/// `log1p(-cdf)` where `cdf < 1/2`, `log(-expm1(-exp(-z)))` where not, and
/// `-z - exp(-z)/2` for `z > 20`, so it is accurate on the whole line and
/// about `-z` far in the upper tail (where `exp(-z)` underflows).
///
/// Values: every `x` except NaN; results in `[-inf, 0]`, `log_sf(-inf) = 0`,
/// `log_sf(+inf) = -inf`.
///
/// Shapes: `x` and `out` hold `n` floats. In place is supported: `out` may
/// be equal to `x` (the same pointer); otherwise the two must not overlap.
/// Precision: computed in double and rounded once (about 1 ulp wherever the
/// function is well conditioned); a value beyond the range of `float`
/// rounds to `-inf` or `+inf`, never NaN.
///
/// Returns `GUMBEL_STATUS_OK`; `GUMBEL_STATUS_NULL_POINTER` if `x` or `out`
/// is NULL and `n > 0`; `GUMBEL_STATUS_SIZE_OVERFLOW` if `n` floats exceed
/// the address space; `GUMBEL_STATUS_MISALIGNED_POINTER`;
/// `GUMBEL_STATUS_OVERLAP` if `x` and `out` overlap without being equal;
/// `GUMBEL_STATUS_INVALID_PARAMETER` if `loc` is not finite or `scale` is not
/// finite or `<= 0`; `GUMBEL_STATUS_INVALID_VALUE` for the first element
/// that is NaN (the message names its index). `n == 0` is a no-op. `out` is
/// untouched on error. Thread-safe; runs on the library's worker threads
/// for large `n`.
///
/// # Safety
/// `x` must point to `n` readable floats and `out` to `n` writable ones
/// (either may be NULL when `n == 0`).
#[no_mangle]
pub unsafe extern "C" fn gumbel_dist_log_sf_f32(
    x: *const f32,
    out: *mut f32,
    n: usize,
    loc: f32,
    scale: f32,
) -> gumbel_status {
    guard(|| unsafe { apply(Function::LogSf, x, out, n, loc, scale) })
}

/// The `double` twin of `gumbel_dist_log_sf_f32`, same contract.
///
/// # Safety
/// As `gumbel_dist_log_sf_f32`, with doubles.
#[no_mangle]
pub unsafe extern "C" fn gumbel_dist_log_sf_f64(
    x: *const f64,
    out: *mut f64,
    n: usize,
    loc: f64,
    scale: f64,
) -> gumbel_status {
    guard(|| unsafe { apply(Function::LogSf, x, out, n, loc, scale) })
}

/// Quantile function (inverse cdf) of Gumbel(`loc`, `scale`), elementwise:
/// `x` holds probabilities `p` and `out[j] = loc - scale * log(-log(p))`, the
/// point where the cdf is `p` (Gumbel 1954). Near `p = 1`, `-log(p)` is
/// computed as `-log1p(p - 1)`.
///
/// Values: `x[j]` in `[0, 1]`; `icdf(0) = -inf` and `icdf(1) = +inf` (the
/// limits). A NaN or a value outside `[0, 1]` is `GUMBEL_STATUS_INVALID_VALUE`.
/// For the upper tail, `gumbel_dist_isf_f32` of `1 - p` is more accurate.
///
/// Shapes: `x` and `out` hold `n` floats. In place is supported: `out` may
/// be equal to `x` (the same pointer); otherwise the two must not overlap.
/// Precision: computed in double and rounded once (about 1 ulp wherever the
/// function is well conditioned); a value beyond the range of `float`
/// rounds to `-inf` or `+inf`, never NaN.
///
/// Returns `GUMBEL_STATUS_OK`; `GUMBEL_STATUS_NULL_POINTER` if `x` or `out`
/// is NULL and `n > 0`; `GUMBEL_STATUS_SIZE_OVERFLOW` if `n` floats exceed
/// the address space; `GUMBEL_STATUS_MISALIGNED_POINTER`;
/// `GUMBEL_STATUS_OVERLAP` if `x` and `out` overlap without being equal;
/// `GUMBEL_STATUS_INVALID_PARAMETER` if `loc` is not finite or `scale` is not
/// finite or `<= 0`; `GUMBEL_STATUS_INVALID_VALUE` for the first element
/// that is NaN or outside `[0, 1]` (the message names its index). `n == 0` is a no-op. `out` is
/// untouched on error. Thread-safe; runs on the library's worker threads
/// for large `n`.
///
/// # Safety
/// `x` must point to `n` readable floats and `out` to `n` writable ones
/// (either may be NULL when `n == 0`).
#[no_mangle]
pub unsafe extern "C" fn gumbel_dist_icdf_f32(
    x: *const f32,
    out: *mut f32,
    n: usize,
    loc: f32,
    scale: f32,
) -> gumbel_status {
    guard(|| unsafe { apply(Function::Icdf, x, out, n, loc, scale) })
}

/// The `double` twin of `gumbel_dist_icdf_f32`, same contract.
///
/// # Safety
/// As `gumbel_dist_icdf_f32`, with doubles.
#[no_mangle]
pub unsafe extern "C" fn gumbel_dist_icdf_f64(
    x: *const f64,
    out: *mut f64,
    n: usize,
    loc: f64,
    scale: f64,
) -> gumbel_status {
    guard(|| unsafe { apply(Function::Icdf, x, out, n, loc, scale) })
}

/// Inverse survival function of Gumbel(`loc`, `scale`), elementwise: `x`
/// holds probabilities `q` and `out[j] = loc - scale * log(-log1p(-q))`,
/// the point where the survival function is `q`; accurate for tiny `q`
/// (`isf(1e-30) = 69.08` for `loc = 0`, `scale = 1`).
///
/// Values: `x[j]` in `[0, 1]`; `isf(0) = +inf` and `isf(1) = -inf` (the
/// limits). A NaN or a value outside `[0, 1]` is `GUMBEL_STATUS_INVALID_VALUE`.
///
/// Shapes: `x` and `out` hold `n` floats. In place is supported: `out` may
/// be equal to `x` (the same pointer); otherwise the two must not overlap.
/// Precision: computed in double and rounded once (about 1 ulp wherever the
/// function is well conditioned); a value beyond the range of `float`
/// rounds to `-inf` or `+inf`, never NaN.
///
/// Returns `GUMBEL_STATUS_OK`; `GUMBEL_STATUS_NULL_POINTER` if `x` or `out`
/// is NULL and `n > 0`; `GUMBEL_STATUS_SIZE_OVERFLOW` if `n` floats exceed
/// the address space; `GUMBEL_STATUS_MISALIGNED_POINTER`;
/// `GUMBEL_STATUS_OVERLAP` if `x` and `out` overlap without being equal;
/// `GUMBEL_STATUS_INVALID_PARAMETER` if `loc` is not finite or `scale` is not
/// finite or `<= 0`; `GUMBEL_STATUS_INVALID_VALUE` for the first element
/// that is NaN or outside `[0, 1]` (the message names its index). `n == 0` is a no-op. `out` is
/// untouched on error. Thread-safe; runs on the library's worker threads
/// for large `n`.
///
/// # Safety
/// `x` must point to `n` readable floats and `out` to `n` writable ones
/// (either may be NULL when `n == 0`).
#[no_mangle]
pub unsafe extern "C" fn gumbel_dist_isf_f32(
    x: *const f32,
    out: *mut f32,
    n: usize,
    loc: f32,
    scale: f32,
) -> gumbel_status {
    guard(|| unsafe { apply(Function::Isf, x, out, n, loc, scale) })
}

/// The `double` twin of `gumbel_dist_isf_f32`, same contract.
///
/// # Safety
/// As `gumbel_dist_isf_f32`, with doubles.
#[no_mangle]
pub unsafe extern "C" fn gumbel_dist_isf_f64(
    x: *const f64,
    out: *mut f64,
    n: usize,
    loc: f64,
    scale: f64,
) -> gumbel_status {
    guard(|| unsafe { apply(Function::Isf, x, out, n, loc, scale) })
}

/// Mean of Gumbel(`loc`, `scale`): `*out = loc + scale * gamma`, `gamma` the
/// Euler-Mascheroni constant 0.5772... (Gumbel 1958). Computed in double,
/// rounded once; `+-inf` only if the mean exceeds `float`.
///
/// Returns `GUMBEL_STATUS_OK`; `GUMBEL_STATUS_NULL_POINTER` if `out` is NULL;
/// `GUMBEL_STATUS_MISALIGNED_POINTER`; `GUMBEL_STATUS_INVALID_PARAMETER` if
/// `loc` is not finite or `scale` is not finite or `<= 0`. `*out` is
/// untouched on error. Thread-safe.
///
/// # Safety
/// `out` must be NULL or point to one writable float.
#[no_mangle]
pub unsafe extern "C" fn gumbel_dist_mean_f32(
    loc: f32,
    scale: f32,
    out: *mut f32,
) -> gumbel_status {
    guard(|| unsafe { write_scalar(out, "out", || dist::mean(loc, scale)) })
}

/// The `double` twin of `gumbel_dist_mean_f32`, same contract.
///
/// # Safety
/// `out` must be NULL or point to one writable double.
#[no_mangle]
pub unsafe extern "C" fn gumbel_dist_mean_f64(
    loc: f64,
    scale: f64,
    out: *mut f64,
) -> gumbel_status {
    guard(|| unsafe { write_scalar(out, "out", || dist::mean(loc, scale)) })
}

/// Variance of Gumbel(`loc`, `scale`): `*out = (pi * scale)^2 / 6`
/// (Gumbel 1958). Computed in double, rounded once; `+inf` only if the
/// variance exceeds `float` (`scale > 1.4e19`).
///
/// Returns `GUMBEL_STATUS_OK`; `GUMBEL_STATUS_NULL_POINTER` if `out` is NULL;
/// `GUMBEL_STATUS_MISALIGNED_POINTER`; `GUMBEL_STATUS_INVALID_PARAMETER` if
/// `loc` is not finite or `scale` is not finite or `<= 0`. `*out` is
/// untouched on error. Thread-safe.
///
/// # Safety
/// `out` must be NULL or point to one writable float.
#[no_mangle]
pub unsafe extern "C" fn gumbel_dist_variance_f32(
    loc: f32,
    scale: f32,
    out: *mut f32,
) -> gumbel_status {
    guard(|| unsafe { write_scalar(out, "out", || dist::variance(loc, scale)) })
}

/// The `double` twin of `gumbel_dist_variance_f32`, same contract.
///
/// # Safety
/// `out` must be NULL or point to one writable double.
#[no_mangle]
pub unsafe extern "C" fn gumbel_dist_variance_f64(
    loc: f64,
    scale: f64,
    out: *mut f64,
) -> gumbel_status {
    guard(|| unsafe { write_scalar(out, "out", || dist::variance(loc, scale)) })
}

/// Mode of Gumbel(`loc`, `scale`): `*out = loc`, where the density peaks at
/// `1 / (e * scale)`.
///
/// Returns `GUMBEL_STATUS_OK`; `GUMBEL_STATUS_NULL_POINTER` if `out` is NULL;
/// `GUMBEL_STATUS_MISALIGNED_POINTER`; `GUMBEL_STATUS_INVALID_PARAMETER` if
/// `loc` is not finite or `scale` is not finite or `<= 0`. `*out` is
/// untouched on error. Thread-safe.
///
/// # Safety
/// `out` must be NULL or point to one writable float.
#[no_mangle]
pub unsafe extern "C" fn gumbel_dist_mode_f32(
    loc: f32,
    scale: f32,
    out: *mut f32,
) -> gumbel_status {
    guard(|| unsafe { write_scalar(out, "out", || dist::mode(loc, scale)) })
}

/// The `double` twin of `gumbel_dist_mode_f32`, same contract.
///
/// # Safety
/// `out` must be NULL or point to one writable double.
#[no_mangle]
pub unsafe extern "C" fn gumbel_dist_mode_f64(
    loc: f64,
    scale: f64,
    out: *mut f64,
) -> gumbel_status {
    guard(|| unsafe { write_scalar(out, "out", || dist::mode(loc, scale)) })
}

/// Differential entropy of Gumbel(`loc`, `scale`) in nats:
/// `*out = log(scale) + gamma + 1`, `gamma` the Euler-Mascheroni constant
/// (`-E[log_pdf(X)]`). Computed in double, rounded once.
///
/// Returns `GUMBEL_STATUS_OK`; `GUMBEL_STATUS_NULL_POINTER` if `out` is NULL;
/// `GUMBEL_STATUS_MISALIGNED_POINTER`; `GUMBEL_STATUS_INVALID_PARAMETER` if
/// `loc` is not finite or `scale` is not finite or `<= 0`. `*out` is
/// untouched on error. Thread-safe.
///
/// # Safety
/// `out` must be NULL or point to one writable float.
#[no_mangle]
pub unsafe extern "C" fn gumbel_dist_entropy_f32(
    loc: f32,
    scale: f32,
    out: *mut f32,
) -> gumbel_status {
    guard(|| unsafe { write_scalar(out, "out", || dist::entropy(loc, scale)) })
}

/// The `double` twin of `gumbel_dist_entropy_f32`, same contract.
///
/// # Safety
/// `out` must be NULL or point to one writable double.
#[no_mangle]
pub unsafe extern "C" fn gumbel_dist_entropy_f64(
    loc: f64,
    scale: f64,
    out: *mut f64,
) -> gumbel_status {
    guard(|| unsafe { write_scalar(out, "out", || dist::entropy(loc, scale)) })
}

/// Kullback-Leibler divergence `KL(p || q)` in nats of
/// `p = Gumbel(loc1, scale1)` from `q = Gumbel(loc2, scale2)`:
/// `*out = log(scale2 / scale1) + (loc1 - loc2) / scale2 + gamma (r - 1) - 1
/// + exp((loc2 - loc1) / scale2) Gamma(1 + r)`, `r = scale1 / scale2`,
/// `gamma` the Euler-Mascheroni constant (from `E[exp(-t G)] = Gamma(1 + t)`
/// for a standard Gumbel `G`; derivation in the Rust docs of
/// `gumbel::dist::kl_divergence`).
///
/// Values: `>= 0`, exactly 0 when the two distributions are equal; `+inf`
/// when the divergence exceeds `float` (for example `loc2 - loc1` far above
/// `700 scale2`). Computed in double, rounded once; never NaN.
///
/// Returns `GUMBEL_STATUS_OK`; `GUMBEL_STATUS_NULL_POINTER` if `out` is NULL;
/// `GUMBEL_STATUS_MISALIGNED_POINTER`; `GUMBEL_STATUS_INVALID_PARAMETER` if
/// `loc1` or `loc2` is not finite, or `scale1` or `scale2` is not finite or
/// `<= 0` (the message names it). `*out` is untouched on error. Thread-safe.
///
/// # Safety
/// `out` must be NULL or point to one writable float.
#[no_mangle]
pub unsafe extern "C" fn gumbel_dist_kl_f32(
    loc1: f32,
    scale1: f32,
    loc2: f32,
    scale2: f32,
    out: *mut f32,
) -> gumbel_status {
    guard(|| unsafe {
        write_scalar(out, "out", || {
            dist::kl_divergence(loc1, scale1, loc2, scale2)
        })
    })
}

/// The `double` twin of `gumbel_dist_kl_f32`, same contract.
///
/// # Safety
/// `out` must be NULL or point to one writable double.
#[no_mangle]
pub unsafe extern "C" fn gumbel_dist_kl_f64(
    loc1: f64,
    scale1: f64,
    loc2: f64,
    scale2: f64,
    out: *mut f64,
) -> gumbel_status {
    guard(|| unsafe {
        write_scalar(out, "out", || {
            dist::kl_divergence(loc1, scale1, loc2, scale2)
        })
    })
}

/// Checks the buffers of an elementwise function and applies it: in place
/// when `x == out`, which then forms only one (mutable) slice over the
/// memory; otherwise the buffers must be disjoint.
unsafe fn apply<F: Float>(
    function: Function,
    x: *const F,
    out: *mut F,
    n: usize,
    loc: F,
    scale: F,
) -> Result<()> {
    let input = Buffer::new(x, n, "x")?;
    let output = Buffer::new(out, n, "out")?;
    if n > 0 && std::ptr::eq(x, out) {
        // SAFETY: the caller guarantees `n` readable and writable elements at
        // `out`; `x` is the same memory and is not used as a slice.
        return dist::apply_in_place(function, unsafe { output.as_mut_slice() }, loc, scale);
    }
    check_disjoint(&input, "x", &output, "out")?;
    // SAFETY: sizes checked; validity is the caller's contract; disjoint.
    unsafe {
        dist::apply(
            function,
            input.as_slice(),
            output.as_mut_slice(),
            loc,
            scale,
        )
    }
}
