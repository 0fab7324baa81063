//! The relaxed Bernoulli in logit space, elementwise with one temperature
//! per element: samples, the log-density and its gradients.

use super::boundary::guard;
use super::buffer::{check_disjoint, check_disjoint_from_all, Buffer};
use super::status::gumbel_status;
use crate::error::Result;
use crate::Float;

/// Logit-space relaxed Bernoulli samples, elementwise over `n` logits with
/// one temperature each (Maddison et al. 2017, Sec. 3.3, the binary
/// Concrete before its sigmoid): `out[j] = (logits[j] + L_j) / tau[j]`,
/// logistic with location `logits[j] / tau[j]` and scale `1 / tau[j]`.
/// `L_j` is exactly the logistic noise of `gumbel_relaxed_bernoulli_f32`
/// for the same `(seed, offset)`: where `tau[j]` equals that call's `tau`,
/// `sigmoid(out[j])` is its soft sample (before that call's clamp into
/// `(0, 1)`). Values are finite unless the division overflows (a tiny
/// `tau[j]`; `|L_j| <= 44.4`).
///
/// Values: `logits` finite; every `tau[j]` finite and `> 0`.
///
/// Randomness: as `gumbel_relaxed_bernoulli_f32`; consumes
/// `gumbel_streams(1, n, 1)` stream ids.
///
/// Returns `GUMBEL_STATUS_OK`; `GUMBEL_STATUS_NULL_POINTER` if `logits`,
/// `tau` or `out` is NULL and `n > 0`; `GUMBEL_STATUS_SIZE_OVERFLOW` if `n`
/// floats exceed the address space; `GUMBEL_STATUS_MISALIGNED_POINTER`;
/// `GUMBEL_STATUS_OVERLAP` if `out` overlaps `logits` or `tau`;
/// `GUMBEL_STATUS_INVALID_TEMPERATURE` if some `tau[j]` is NaN, infinite or
/// `<= 0` (the message names the first); `GUMBEL_STATUS_INVALID_LOGITS` if
/// a logit is NaN or infinite (the message names the first). `n == 0` is a
/// no-op. `out` is untouched on error. Thread-safe.
///
/// # Safety
/// `logits` and `tau` must point to `n` readable floats and `out` to `n`
/// writable ones (any may be NULL when `n == 0`).
#[no_mangle]
pub unsafe extern "C" fn gumbel_logit_relaxed_bernoulli_f32(
    logits: *const f32,
    tau: *const f32,
    out: *mut f32,
    n: usize,
    seed: u64,
    offset: u64,
) -> gumbel_status {
    guard(|| unsafe { sample(logits, tau, out, n, seed, offset) })
}

/// The `double` twin of `gumbel_logit_relaxed_bernoulli_f32`, same contract;
/// the noise of element `j` is the same random variate rounded differently.
///
/// # Safety
/// As `gumbel_logit_relaxed_bernoulli_f32`, with doubles.
#[no_mangle]
pub unsafe extern "C" fn gumbel_logit_relaxed_bernoulli_f64(
    logits: *const f64,
    tau: *const f64,
    out: *mut f64,
    n: usize,
    seed: u64,
    offset: u64,
) -> gumbel_status {
    guard(|| unsafe { sample(logits, tau, out, n, seed, offset) })
}

/// Logit-space relaxed Bernoulli log-density, elementwise (Maddison et al.
/// 2017, Sec. 3.3: the logistic law of `x = (l + L) / tau`): with
/// `d = logits[j] - tau[j] x[j]`,
/// `out[j] = log tau[j] + d - 2 log(1 + e^d) = log tau[j] - |d| - 2 log1p(e^-|d|)`,
/// a density with respect to Lebesgue measure on the real line; values are
/// `<= log(tau[j] / 4)`. The relaxed Bernoulli density at
/// `y = sigmoid(x)` is `out[j] - log y - log(1 - y)`.
///
/// Shapes: `x`, `logits`, `tau` and `out` have `n` elements. Values: `x`
/// and `logits` finite; every `tau[j]` finite and `> 0`. Computed in double
/// precision. Deterministic.
///
/// Returns `GUMBEL_STATUS_OK`; `GUMBEL_STATUS_NULL_POINTER` if a pointer is
/// NULL and `n > 0`; `GUMBEL_STATUS_SIZE_OVERFLOW`;
/// `GUMBEL_STATUS_MISALIGNED_POINTER`; `GUMBEL_STATUS_OVERLAP` if `out`
/// overlaps `x`, `logits` or `tau`; `GUMBEL_STATUS_INVALID_TEMPERATURE` if
/// some `tau[j]` is NaN, infinite or `<= 0`; `GUMBEL_STATUS_INVALID_LOGITS`
/// if a logit is NaN or infinite; `GUMBEL_STATUS_INVALID_VALUE` if some
/// `x[j]` is NaN or infinite (each message names the first bad element).
/// `n == 0` is a no-op. `out` is untouched on error. Thread-safe.
///
/// # Safety
/// `x`, `logits` and `tau` must point to `n` readable floats and `out` to
/// `n` writable ones (any may be NULL when `n == 0`).
#[no_mangle]
pub unsafe extern "C" fn gumbel_logit_relaxed_bernoulli_log_prob_f32(
    x: *const f32,
    logits: *const f32,
    tau: *const f32,
    out: *mut f32,
    n: usize,
) -> gumbel_status {
    guard(|| unsafe { elementwise(Kind::LogProb, x, logits, tau, out, n) })
}

/// The `double` twin of `gumbel_logit_relaxed_bernoulli_log_prob_f32`, same
/// contract.
///
/// # Safety
/// As `gumbel_logit_relaxed_bernoulli_log_prob_f32`, with doubles.
#[no_mangle]
pub unsafe extern "C" fn gumbel_logit_relaxed_bernoulli_log_prob_f64(
    x: *const f64,
    logits: *const f64,
    tau: *const f64,
    out: *mut f64,
    n: usize,
) -> gumbel_status {
    guard(|| unsafe { elementwise(Kind::LogProb, x, logits, tau, out, n) })
}

/// Gradient of `gumbel_logit_relaxed_bernoulli_log_prob_f32` with respect to
/// the logits, elementwise: `out[j] = 1 - 2 sigmoid(d) = -tanh(d / 2)` with
/// `d = logits[j] - tau[j] x[j]` (the derivative of the logistic
/// log-density of Maddison et al. 2017, Sec. 3.3). The gradient with respect
/// to `x[j]` is `-tau[j] * out[j]`. Values lie in `[-1, 1]`.
///
/// Shapes: `x`, `logits`, `tau` and `out` have `n` elements. Values: `x`
/// and `logits` finite; every `tau[j]` finite and `> 0`. Computed in double
/// precision. Deterministic.
///
/// Returns `GUMBEL_STATUS_OK`; `GUMBEL_STATUS_NULL_POINTER` if a pointer is
/// NULL and `n > 0`; `GUMBEL_STATUS_SIZE_OVERFLOW`;
/// `GUMBEL_STATUS_MISALIGNED_POINTER`; `GUMBEL_STATUS_OVERLAP` if `out`
/// overlaps `x`, `logits` or `tau`; `GUMBEL_STATUS_INVALID_TEMPERATURE` if
/// some `tau[j]` is NaN, infinite or `<= 0`; `GUMBEL_STATUS_INVALID_LOGITS`
/// if a logit is NaN or infinite; `GUMBEL_STATUS_INVALID_VALUE` if some
/// `x[j]` is NaN or infinite (each message names the first bad element).
/// `n == 0` is a no-op. `out` is untouched on error. Thread-safe.
///
/// # Safety
/// `x`, `logits` and `tau` must point to `n` readable floats and `out` to
/// `n` writable ones (any may be NULL when `n == 0`).
#[no_mangle]
pub unsafe extern "C" fn gumbel_logit_relaxed_bernoulli_log_prob_grad_logits_f32(
    x: *const f32,
    logits: *const f32,
    tau: *const f32,
    out: *mut f32,
    n: usize,
) -> gumbel_status {
    guard(|| unsafe { elementwise(Kind::GradLogits, x, logits, tau, out, n) })
}

/// The `double` twin of `gumbel_logit_relaxed_bernoulli_log_prob_grad_logits_f32`,
/// same contract.
///
/// # Safety
/// As `gumbel_logit_relaxed_bernoulli_log_prob_grad_logits_f32`, with doubles.
#[no_mangle]
pub unsafe extern "C" fn gumbel_logit_relaxed_bernoulli_log_prob_grad_logits_f64(
    x: *const f64,
    logits: *const f64,
    tau: *const f64,
    out: *mut f64,
    n: usize,
) -> gumbel_status {
    guard(|| unsafe { elementwise(Kind::GradLogits, x, logits, tau, out, n) })
}

/// Gradient of `gumbel_logit_relaxed_bernoulli_log_prob_f32` with respect to
/// the temperature, elementwise: `out[j] = 1 / tau[j] + x[j] tanh(d / 2)`
/// with `d = logits[j] - tau[j] x[j]` (the derivative of the logistic
/// log-density of Maddison et al. 2017, Sec. 3.3).
///
/// Shapes: `x`, `logits`, `tau` and `out` have `n` elements. Values: `x`
/// and `logits` finite; every `tau[j]` finite and `> 0`. Computed in double
/// precision. Deterministic.
///
/// Returns `GUMBEL_STATUS_OK`; `GUMBEL_STATUS_NULL_POINTER` if a pointer is
/// NULL and `n > 0`; `GUMBEL_STATUS_SIZE_OVERFLOW`;
/// `GUMBEL_STATUS_MISALIGNED_POINTER`; `GUMBEL_STATUS_OVERLAP` if `out`
/// overlaps `x`, `logits` or `tau`; `GUMBEL_STATUS_INVALID_TEMPERATURE` if
/// some `tau[j]` is NaN, infinite or `<= 0`; `GUMBEL_STATUS_INVALID_LOGITS`
/// if a logit is NaN or infinite; `GUMBEL_STATUS_INVALID_VALUE` if some
/// `x[j]` is NaN or infinite (each message names the first bad element).
/// `n == 0` is a no-op. `out` is untouched on error. Thread-safe.
///
/// # Safety
/// `x`, `logits` and `tau` must point to `n` readable floats and `out` to
/// `n` writable ones (any may be NULL when `n == 0`).
#[no_mangle]
pub unsafe extern "C" fn gumbel_logit_relaxed_bernoulli_log_prob_grad_tau_f32(
    x: *const f32,
    logits: *const f32,
    tau: *const f32,
    out: *mut f32,
    n: usize,
) -> gumbel_status {
    guard(|| unsafe { elementwise(Kind::GradTau, x, logits, tau, out, n) })
}

/// The `double` twin of `gumbel_logit_relaxed_bernoulli_log_prob_grad_tau_f32`,
/// same contract.
///
/// # Safety
/// As `gumbel_logit_relaxed_bernoulli_log_prob_grad_tau_f32`, with doubles.
#[no_mangle]
pub unsafe extern "C" fn gumbel_logit_relaxed_bernoulli_log_prob_grad_tau_f64(
    x: *const f64,
    logits: *const f64,
    tau: *const f64,
    out: *mut f64,
    n: usize,
) -> gumbel_status {
    guard(|| unsafe { elementwise(Kind::GradTau, x, logits, tau, out, n) })
}

unsafe fn sample<F: Float>(
    logits: *const F,
    tau: *const F,
    out: *mut F,
    n: usize,
    seed: u64,
    offset: u64,
) -> Result<()> {
    let logits = Buffer::new(logits, n, "logits")?;
    let tau = Buffer::new(tau, n, "tau")?;
    let out = Buffer::new(out, n, "out")?;
    check_disjoint(&logits, "logits", &out, "out")?;
    check_disjoint(&tau, "tau", &out, "out")?;
    // SAFETY: sizes checked; validity is the caller's contract; disjoint.
    unsafe {
        crate::logit_relaxed_bernoulli(
            logits.as_slice(),
            tau.as_slice(),
            out.as_mut_slice(),
            seed,
            offset,
        )
    }
}

/// Which elementwise function [`elementwise`] evaluates.
#[derive(Clone, Copy)]
enum Kind {
    LogProb,
    GradLogits,
    GradTau,
}

unsafe fn elementwise<F: Float>(
    kind: Kind,
    x: *const F,
    logits: *const F,
    tau: *const F,
    out: *mut F,
    n: usize,
) -> Result<()> {
    let x = Buffer::new(x, n, "x")?;
    let logits = Buffer::new(logits, n, "logits")?;
    let tau = Buffer::new(tau, n, "tau")?;
    let out = Buffer::new(out, n, "out")?;
    check_disjoint_from_all(
        &[(&x, "x"), (&logits, "logits"), (&tau, "tau")],
        &out,
        "out",
    )?;
    // SAFETY: sizes checked; validity is the caller's contract; the output
    // overlaps no input.
    let (x, logits, tau, out) = unsafe {
        (
            x.as_slice(),
            logits.as_slice(),
            tau.as_slice(),
            out.as_mut_slice(),
        )
    };
    match kind {
        Kind::LogProb => crate::logit_relaxed_bernoulli_log_prob(x, logits, tau, out),
        Kind::GradLogits => {
            crate::logit_relaxed_bernoulli_log_prob_grad_logits(x, logits, tau, out)
        }
        Kind::GradTau => crate::logit_relaxed_bernoulli_log_prob_grad_tau(x, logits, tau, out),
    }
}
