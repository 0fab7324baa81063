//! The relaxed Bernoulli (binary Concrete), elementwise: samples, their
//! vector-Jacobian product, and the log-density.

use super::boundary::guard;
use super::buffer::{check_disjoint, Buffer};
use super::status::gumbel_status;
use crate::error::Result;
use crate::Float;

/// Relaxed Bernoulli (binary Concrete) samples, elementwise over `n` logits
/// (Maddison et al. 2017, Sec. 3.3; Jang et al. 2017):
/// `out[j] = sigmoid((logits[j] + L_j) / tau)`, `L_j` i.i.d. standard
/// logistic noise; the first coordinate of a two-class Gumbel-Softmax sample
/// with logits `(logits[j], 0)`. With `hard`, `out[j]` is instead exactly 1
/// where `logits[j] + L_j > 0` and 0 otherwise (a tie at 0 gives 0): the
/// straight-through forward, an exact `Bernoulli(sigmoid(logits[j]))` draw.
/// Its gradient is the soft sample's: recompute the soft sample with
/// `hard = false` and the same `(seed, offset)` and pass it to
/// `gumbel_relaxed_bernoulli_backward_f32`.
///
/// Values: `logits` are finite (`-inf` masks nothing here); `tau` is finite
/// and `> 0`. Soft samples lie in the closed interval
/// `[FLT_MIN, 1 - FLT_EPSILON / 2]` (smallest positive normal, largest
/// float below 1), inside the open interval `(0, 1)`: the sigmoid rounds to
/// exactly 1 or 0 when `(logits[j] + L_j) / tau` is beyond about 17.3 or
/// below -87.3 (36.7 and -708 for `double`) and is clamped there, so every
/// sample has a finite `gumbel_relaxed_bernoulli_log_prob_f32`.
///
/// Randomness: `L_j` comes from the same 64 random bits as element `j` of
/// `gumbel_noise_f32` with the same `(seed, offset)`: it is the logistic
/// quantile of that Gumbel variate `g_j`, `L = logit(exp(-exp(-g)))`, finite
/// and within `+-44.4`. Chunk `c` of 16384 elements draws from stream
/// `offset + c`; the call consumes `gumbel_streams(1, n, 1)` stream ids.
///
/// Returns `GUMBEL_STATUS_OK`; `GUMBEL_STATUS_NULL_POINTER` if `logits` or
/// `out` is NULL and `n > 0`; `GUMBEL_STATUS_SIZE_OVERFLOW` if `n` floats
/// exceed the address space; `GUMBEL_STATUS_MISALIGNED_POINTER`;
/// `GUMBEL_STATUS_OVERLAP` if `logits` and `out` overlap;
/// `GUMBEL_STATUS_INVALID_TEMPERATURE` if `tau` is NaN, infinite or `<= 0`;
/// `GUMBEL_STATUS_INVALID_LOGITS` if a logit is NaN or infinite (the message
/// names the first). `n == 0` is a no-op. `out` is untouched on error.
/// Thread-safe.
///
/// # Safety
/// `logits` must point to `n` readable floats and `out` to `n` writable
/// ones (either may be NULL when `n == 0`).
#[no_mangle]
pub unsafe extern "C" fn gumbel_relaxed_bernoulli_f32(
    logits: *const f32,
    out: *mut f32,
    n: usize,
    tau: f32,
    hard: bool,
    seed: u64,
    offset: u64,
) -> gumbel_status {
    guard(|| unsafe { sample(logits, out, n, tau, hard, seed, offset) })
}

/// The `double` twin of `gumbel_relaxed_bernoulli_f32`, same contract (soft
/// samples lie in `[DBL_MIN, 1 - DBL_EPSILON / 2]`); the noise of element
/// `j` is the same random variate rounded differently.
///
/// # Safety
/// As `gumbel_relaxed_bernoulli_f32`, with doubles.
#[no_mangle]
pub unsafe extern "C" fn gumbel_relaxed_bernoulli_f64(
    logits: *const f64,
    out: *mut f64,
    n: usize,
    tau: f64,
    hard: bool,
    seed: u64,
    offset: u64,
) -> gumbel_status {
    guard(|| unsafe { sample(logits, out, n, tau, hard, seed, offset) })
}

/// Vector-Jacobian product of the soft relaxed Bernoulli sample,
/// elementwise: `grad_logits[j] = grad_out[j] * y[j] * (1 - y[j]) / tau`,
/// since `dy/dl = y (1 - y) / tau` for `y = sigmoid((l + L) / tau)` with the
/// noise `L` fixed by `(seed, offset)`. `y` is the soft sample of
/// `gumbel_relaxed_bernoulli_f32` (`hard = false`). For a hard
/// (straight-through) sample the gradient is the soft sample's: pass the
/// soft sample recomputed from the same `(seed, offset)`, not the 0/1 values.
///
/// Values: `y` in the open interval `(0, 1)` (every soft sample is);
/// `grad_out` finite; `tau` finite and `> 0`, the one used for the sample.
/// Computed in double precision; a result is infinite only if its exact
/// value exceeds the range of `float`. Deterministic.
///
/// Returns `GUMBEL_STATUS_OK`; `GUMBEL_STATUS_NULL_POINTER` if `y`,
/// `grad_out` or `grad_logits` is NULL and `n > 0`;
/// `GUMBEL_STATUS_SIZE_OVERFLOW`; `GUMBEL_STATUS_MISALIGNED_POINTER`;
/// `GUMBEL_STATUS_OVERLAP` if `grad_logits` overlaps `y` or `grad_out`;
/// `GUMBEL_STATUS_INVALID_TEMPERATURE`; `GUMBEL_STATUS_INVALID_VALUE` for the
/// first `y[j]` outside `(0, 1)` or NaN (a 0 or 1 is usually a hard sample
/// passed by mistake), then for the first non-finite `grad_out[j]`.
/// `n == 0` is a no-op. `grad_logits` is untouched on error. Thread-safe.
///
/// # Safety
/// `y` and `grad_out` must point to `n` readable floats and `grad_logits`
/// to `n` writable ones.
#[no_mangle]
pub unsafe extern "C" fn gumbel_relaxed_bernoulli_backward_f32(
    y: *const f32,
    grad_out: *const f32,
    grad_logits: *mut f32,
    n: usize,
    tau: f32,
) -> gumbel_status {
    guard(|| unsafe { backward(y, grad_out, grad_logits, n, tau) })
}

/// The `double` twin of `gumbel_relaxed_bernoulli_backward_f32`, same
/// contract.
///
/// # Safety
/// As `gumbel_relaxed_bernoulli_backward_f32`, with doubles.
#[no_mangle]
pub unsafe extern "C" fn gumbel_relaxed_bernoulli_backward_f64(
    y: *const f64,
    grad_out: *const f64,
    grad_logits: *mut f64,
    n: usize,
    tau: f64,
) -> gumbel_status {
    guard(|| unsafe { backward(y, grad_out, grad_logits, n, tau) })
}

/// Relaxed Bernoulli (binary Concrete) log-density, elementwise (Maddison et
/// al. 2017, Sec. 3.3): with `t = tau * logit(y) - l`,
/// `out[j] = log tau - t - 2 log(1 + exp(-t)) - log y - log(1 - y)`, the
/// logistic log-density of `t` plus the log-Jacobian of `y -> t`, evaluated
/// in double precision as
/// `log tau - |t| - 2 log1p(exp(-|t|)) - log y - log1p(-y)`, which cannot
/// overflow for either sign of `t`. A density with respect to Lebesgue
/// measure on `(0, 1)`; equal to `gumbel_concrete_log_prob_f32` with two
/// classes, logits `(l, 0)`, at `(y, 1 - y)`. Finite at every sample of
/// `gumbel_relaxed_bernoulli_f32`; values may be positive.
///
/// Values: `y` in the open interval `(0, 1)`; `logits` finite; `tau` finite
/// and `> 0`. Deterministic.
///
/// Returns `GUMBEL_STATUS_OK`; `GUMBEL_STATUS_NULL_POINTER` if `y`,
/// `logits` or `out` is NULL and `n > 0`; `GUMBEL_STATUS_SIZE_OVERFLOW`;
/// `GUMBEL_STATUS_MISALIGNED_POINTER`; `GUMBEL_STATUS_OVERLAP` if `out`
/// overlaps `y` or `logits`; `GUMBEL_STATUS_INVALID_TEMPERATURE`;
/// `GUMBEL_STATUS_INVALID_LOGITS` for the first NaN or infinite logit;
/// `GUMBEL_STATUS_INVALID_VALUE` for the first `y[j]` outside `(0, 1)` or
/// NaN. `n == 0` is a no-op. `out` is untouched on error. Thread-safe.
///
/// # Safety
/// `y` and `logits` must point to `n` readable floats and `out` to `n`
/// writable ones.
#[no_mangle]
pub unsafe extern "C" fn gumbel_relaxed_bernoulli_log_prob_f32(
    y: *const f32,
    logits: *const f32,
    out: *mut f32,
    n: usize,
    tau: f32,
) -> gumbel_status {
    guard(|| unsafe { log_prob(y, logits, out, n, tau) })
}

/// The `double` twin of `gumbel_relaxed_bernoulli_log_prob_f32`, same
/// contract.
///
/// # Safety
/// As `gumbel_relaxed_bernoulli_log_prob_f32`, with doubles.
#[no_mangle]
pub unsafe extern "C" fn gumbel_relaxed_bernoulli_log_prob_f64(
    y: *const f64,
    logits: *const f64,
    out: *mut f64,
    n: usize,
    tau: f64,
) -> gumbel_status {
    guard(|| unsafe { log_prob(y, logits, out, n, tau) })
}

unsafe fn sample<F: Float>(
    logits: *const F,
    out: *mut F,
    n: usize,
    tau: F,
    hard: bool,
    seed: u64,
    offset: u64,
) -> Result<()> {
    let logits = Buffer::new(logits, n, "logits")?;
    let out = Buffer::new(out, n, "out")?;
    check_disjoint(&logits, "logits", &out, "out")?;
    // SAFETY: sizes checked; validity is the caller's contract; disjoint.
    unsafe {
        crate::relaxed_bernoulli(
            logits.as_slice(),
            out.as_mut_slice(),
            tau,
            hard,
            seed,
            offset,
        )
    }
}

unsafe fn backward<F: Float>(
    y: *const F,
    grad_out: *const F,
    grad_logits: *mut F,
    n: usize,
    tau: F,
) -> Result<()> {
    let y = Buffer::new(y, n, "y")?;
    let grad_out = Buffer::new(grad_out, n, "grad_out")?;
    let grad_logits = Buffer::new(grad_logits, n, "grad_logits")?;
    check_disjoint(&y, "y", &grad_logits, "grad_logits")?;
    check_disjoint(&grad_out, "grad_out", &grad_logits, "grad_logits")?;
    // SAFETY: sizes checked; validity is the caller's contract; the output
    // overlaps neither input.
    unsafe {
        crate::relaxed_bernoulli_backward(
            y.as_slice(),
            grad_out.as_slice(),
            grad_logits.as_mut_slice(),
            tau,
        )
    }
}

unsafe fn log_prob<F: Float>(
    y: *const F,
    logits: *const F,
    out: *mut F,
    n: usize,
    tau: F,
) -> Result<()> {
    let y = Buffer::new(y, n, "y")?;
    let logits = Buffer::new(logits, n, "logits")?;
    let out = Buffer::new(out, n, "out")?;
    check_disjoint(&y, "y", &out, "out")?;
    check_disjoint(&logits, "logits", &out, "out")?;
    // SAFETY: sizes checked; validity is the caller's contract; the output
    // overlaps neither input.
    unsafe {
        crate::relaxed_bernoulli_log_prob(y.as_slice(), logits.as_slice(), out.as_mut_slice(), tau)
    }
}
