//! The Concrete family with one temperature per row: log-space
//! (ExpConcrete) samples, the Concrete and ExpConcrete log-densities, and
//! the gradients of the ExpConcrete log-density.

use super::boundary::guard;
use super::buffer::{check_disjoint, check_disjoint_from_all, Buffer};
use super::categorical::buffers;
use super::status::gumbel_status;
use crate::error::Result;
use crate::Float;
use crate::Shape;

/// `gumbel_log_softmax_f32` with one temperature per row (Maddison et al.
/// 2017, appendix on the ExpConcrete, with a row-dependent `tau`): row `r`
/// of `out` is `log_softmax((logits_r + g_r) / tau[r])`, with exactly the
/// noise `g` of `gumbel_softmax_f32` for the same `(seed, offset)`; when
/// every `tau[r]` equals `t` the output is bit for bit that of
/// `gumbel_log_softmax_f32(.., t, ..)`. `exp(out)` is the soft sample of
/// `gumbel_softmax_per_row_f32` up to rounding. Values as for
/// `gumbel_log_softmax_f32` (`<= 0`, `-inf` on masked classes, each row's
/// `logsumexp` 0 within a few ulp). Feed it to
/// `gumbel_exp_concrete_log_prob_per_row_f32`.
///
/// Shapes: `logits` and `out` are row-major `(outer, classes, inner)`
/// tensors; `tau` has `outer * inner` entries in row order `(o, i)`, i.e. `tau[o * inner + i]`, each finite and `> 0`.
///
/// Randomness: as `gumbel_softmax_f32`; consumes
/// `gumbel_streams(outer, classes, inner)` stream ids.
///
/// Returns `GUMBEL_STATUS_OK`; `GUMBEL_STATUS_INVALID_SHAPE` if
/// `classes == 0`; `GUMBEL_STATUS_SIZE_OVERFLOW` if the element count
/// overflows; `GUMBEL_STATUS_NULL_POINTER` if `logits`, `out` or `tau` is
/// NULL with a non-empty shape; `GUMBEL_STATUS_MISALIGNED_POINTER`;
/// `GUMBEL_STATUS_OVERLAP` if `out` overlaps `logits` or `tau`;
/// `GUMBEL_STATUS_INVALID_TEMPERATURE` if some `tau[r]` is NaN, infinite or
/// `<= 0` (the message names the row); `GUMBEL_STATUS_INVALID_LOGITS` if a
/// logit is NaN or `+inf`; `GUMBEL_STATUS_ALL_MASKED` if a row is entirely
/// `-inf`. An empty shape is a no-op. `out` is untouched on error.
/// Thread-safe.
///
/// # Safety
/// `logits` must point to `outer * classes * inner` readable floats, `out`
/// to as many writable ones and `tau` to `outer * inner` readable ones (any
/// may be NULL when that count is 0).
#[no_mangle]
pub unsafe extern "C" fn gumbel_log_softmax_per_row_f32(
    logits: *const f32,
    out: *mut f32,
    outer: usize,
    classes: usize,
    inner: usize,
    tau: *const f32,
    seed: u64,
    offset: u64,
) -> gumbel_status {
    guard(|| unsafe { log_softmax(logits, out, [outer, classes, inner], tau, seed, offset) })
}

/// The `double` twin of `gumbel_log_softmax_per_row_f32`, same contract.
///
/// # Safety
/// As `gumbel_log_softmax_per_row_f32`, with doubles.
#[no_mangle]
pub unsafe extern "C" fn gumbel_log_softmax_per_row_f64(
    logits: *const f64,
    out: *mut f64,
    outer: usize,
    classes: usize,
    inner: usize,
    tau: *const f64,
    seed: u64,
    offset: u64,
) -> gumbel_status {
    guard(|| unsafe { log_softmax(logits, out, [outer, classes, inner], tau, seed, offset) })
}

/// `gumbel_concrete_log_prob_f32` with one temperature per row: `out[r]` is
/// the Concrete log-density of row `r` of `y` under
/// `Concrete(logits_r, tau[r])` (Maddison et al. 2017, Definition 1; Jang et
/// al. 2017, eq. 3), the same formula, base measure and domain as
/// `gumbel_concrete_log_prob_f32` with a row-dependent `tau`; when every
/// `tau[r]` equals `t` the output is bit for bit that call's with `t`.
///
/// Shapes: `y` and `logits` are row-major `(outer, classes, inner)` tensors;
/// `tau` has `outer * inner` entries in row order `(o, i)`, i.e. `tau[o * inner + i]`, each finite and `> 0`; `out` has `outer * inner` values in row order.
///
/// Returns `GUMBEL_STATUS_OK`; `GUMBEL_STATUS_INVALID_SHAPE` if
/// `classes == 0`; `GUMBEL_STATUS_SIZE_OVERFLOW`;
/// `GUMBEL_STATUS_NULL_POINTER` if `y`, `logits`, `tau` or `out` is NULL
/// with a non-empty shape; `GUMBEL_STATUS_MISALIGNED_POINTER`;
/// `GUMBEL_STATUS_OVERLAP` if `out` overlaps `y`, `logits` or `tau`;
/// `GUMBEL_STATUS_INVALID_TEMPERATURE` if some `tau[r]` is NaN, infinite or
/// `<= 0` (the message names the row); `GUMBEL_STATUS_INVALID_LOGITS` if a
/// logit is NaN or `+inf`; `GUMBEL_STATUS_ALL_MASKED` if a row of logits is
/// entirely `-inf`; `GUMBEL_STATUS_INVALID_VALUE` for the first row of `y`
/// off the domain of `gumbel_concrete_log_prob_f32` (the message names it). An empty shape
/// is a no-op. `out` is untouched on error. Thread-safe.
///
/// # Safety
/// `y` and `logits` must point to `outer * classes * inner` readable floats,
/// `tau` to `outer * inner` readable ones and `out` to as many writable ones.
#[no_mangle]
pub unsafe extern "C" fn gumbel_concrete_log_prob_per_row_f32(
    y: *const f32,
    logits: *const f32,
    out: *mut f32,
    outer: usize,
    classes: usize,
    inner: usize,
    tau: *const f32,
) -> gumbel_status {
    guard(|| unsafe {
        log_prob(
            Family::Concrete,
            y,
            logits,
            tau,
            out,
            [outer, classes, inner],
        )
    })
}

/// The `double` twin of `gumbel_concrete_log_prob_per_row_f32`, same
/// contract (the sum tolerance is `(512 + K) * DBL_EPSILON`).
///
/// # Safety
/// As `gumbel_concrete_log_prob_per_row_f32`, with doubles.
#[no_mangle]
pub unsafe extern "C" fn gumbel_concrete_log_prob_per_row_f64(
    y: *const f64,
    logits: *const f64,
    out: *mut f64,
    outer: usize,
    classes: usize,
    inner: usize,
    tau: *const f64,
) -> gumbel_status {
    guard(|| unsafe {
        log_prob(
            Family::Concrete,
            y,
            logits,
            tau,
            out,
            [outer, classes, inner],
        )
    })
}

/// `gumbel_exp_concrete_log_prob_f32` with one temperature per row: `out[r]`
/// is the ExpConcrete log-density of row `r` of `x` under
/// `ExpConcrete(logits_r, tau[r])` (Maddison et al. 2017, appendix on the
/// ExpConcrete):
/// `lgamma(K) + (K-1) log tau[r] + sum_k (l_k - tau[r] x_k) - K logsumexp_k(l_k - tau[r] x_k)`
/// over the `K` unmasked classes, with the base measure and domain of
/// `gumbel_exp_concrete_log_prob_f32`; when every `tau[r]` equals `t` the
/// output is bit for bit that call's with `t`.
///
/// Shapes: `x` and `logits` are row-major `(outer, classes, inner)` tensors;
/// `tau` has `outer * inner` entries in row order `(o, i)`, i.e. `tau[o * inner + i]`, each finite and `> 0`; `out` has `outer * inner` values in row order.
///
/// Returns `GUMBEL_STATUS_OK`; `GUMBEL_STATUS_INVALID_SHAPE` if
/// `classes == 0`; `GUMBEL_STATUS_SIZE_OVERFLOW`;
/// `GUMBEL_STATUS_NULL_POINTER` if `x`, `logits`, `tau` or `out` is NULL
/// with a non-empty shape; `GUMBEL_STATUS_MISALIGNED_POINTER`;
/// `GUMBEL_STATUS_OVERLAP` if `out` overlaps `x`, `logits` or `tau`;
/// `GUMBEL_STATUS_INVALID_TEMPERATURE` if some `tau[r]` is NaN, infinite or
/// `<= 0` (the message names the row); `GUMBEL_STATUS_INVALID_LOGITS` if a
/// logit is NaN or `+inf`; `GUMBEL_STATUS_ALL_MASKED` if a row of logits is
/// entirely `-inf`; `GUMBEL_STATUS_INVALID_VALUE` for the first row of `x`
/// off the domain of `gumbel_exp_concrete_log_prob_f32` (the message names it). An empty shape
/// is a no-op. `out` is untouched on error. Thread-safe.
///
/// # Safety
/// `x` and `logits` must point to `outer * classes * inner` readable floats,
/// `tau` to `outer * inner` readable ones and `out` to as many writable ones.
#[no_mangle]
pub unsafe extern "C" fn gumbel_exp_concrete_log_prob_per_row_f32(
    x: *const f32,
    logits: *const f32,
    out: *mut f32,
    outer: usize,
    classes: usize,
    inner: usize,
    tau: *const f32,
) -> gumbel_status {
    guard(|| unsafe {
        log_prob(
            Family::ExpConcrete,
            x,
            logits,
            tau,
            out,
            [outer, classes, inner],
        )
    })
}

/// The `double` twin of `gumbel_exp_concrete_log_prob_per_row_f32`, same
/// contract (the tolerance is `(512 + K) * DBL_EPSILON`).
///
/// # Safety
/// As `gumbel_exp_concrete_log_prob_per_row_f32`, with doubles.
#[no_mangle]
pub unsafe extern "C" fn gumbel_exp_concrete_log_prob_per_row_f64(
    x: *const f64,
    logits: *const f64,
    out: *mut f64,
    outer: usize,
    classes: usize,
    inner: usize,
    tau: *const f64,
) -> gumbel_status {
    guard(|| unsafe {
        log_prob(
            Family::ExpConcrete,
            x,
            logits,
            tau,
            out,
            [outer, classes, inner],
        )
    })
}

/// Gradient of the ExpConcrete log-density of
/// `gumbel_exp_concrete_log_prob_per_row_f32` with respect to the logits,
/// one value per element: with `s = softmax_k(l_k - tau[r] x_k)` over the
/// `K` unmasked classes of row `r`, `out[k] = 1 - K s_k`, and 0 on masked
/// classes (the derivative of Maddison et al. 2017's ExpConcrete
/// log-density, appendix on the ExpConcrete). The gradient with respect to
/// the point is `-tau[r] * out[k]`; the values of a row sum to 0 and lie in
/// `[1 - K, 1]`. Computed in double precision.
///
/// Shapes: `x`, `logits` and `out` are row-major `(outer, classes, inner)`
/// tensors; `tau` has `outer * inner` entries in row order `(o, i)`, i.e. `tau[o * inner + i]`, each finite and `> 0`.
///
/// Returns `GUMBEL_STATUS_OK`; `GUMBEL_STATUS_INVALID_SHAPE` if
/// `classes == 0`; `GUMBEL_STATUS_SIZE_OVERFLOW`;
/// `GUMBEL_STATUS_NULL_POINTER` if `x`, `logits`, `tau` or `out` is NULL
/// with a non-empty shape; `GUMBEL_STATUS_MISALIGNED_POINTER`;
/// `GUMBEL_STATUS_OVERLAP` if `out` overlaps `x`, `logits` or `tau`;
/// `GUMBEL_STATUS_INVALID_TEMPERATURE` if some `tau[r]` is NaN, infinite or
/// `<= 0` (the message names the row); `GUMBEL_STATUS_INVALID_LOGITS` if a
/// logit is NaN or `+inf`; `GUMBEL_STATUS_ALL_MASKED` if a row of logits is
/// entirely `-inf`; `GUMBEL_STATUS_INVALID_VALUE` for the first row of `x`
/// off the domain of `gumbel_exp_concrete_log_prob_f32` (the message names it). An empty shape
/// is a no-op. `out` is untouched on error. Thread-safe.
///
/// # Safety
/// `x`, `logits` must point to `outer * classes * inner` readable floats,
/// `out` to as many writable ones and `tau` to `outer * inner` readable ones.
#[no_mangle]
pub unsafe extern "C" fn gumbel_exp_concrete_log_prob_grad_logits_per_row_f32(
    x: *const f32,
    logits: *const f32,
    out: *mut f32,
    outer: usize,
    classes: usize,
    inner: usize,
    tau: *const f32,
) -> gumbel_status {
    guard(|| unsafe {
        log_prob(
            Family::GradLogits,
            x,
            logits,
            tau,
            out,
            [outer, classes, inner],
        )
    })
}

/// The `double` twin of `gumbel_exp_concrete_log_prob_grad_logits_per_row_f32`,
/// same contract.
///
/// # Safety
/// As `gumbel_exp_concrete_log_prob_grad_logits_per_row_f32`, with doubles.
#[no_mangle]
pub unsafe extern "C" fn gumbel_exp_concrete_log_prob_grad_logits_per_row_f64(
    x: *const f64,
    logits: *const f64,
    out: *mut f64,
    outer: usize,
    classes: usize,
    inner: usize,
    tau: *const f64,
) -> gumbel_status {
    guard(|| unsafe {
        log_prob(
            Family::GradLogits,
            x,
            logits,
            tau,
            out,
            [outer, classes, inner],
        )
    })
}

/// Gradient of the ExpConcrete log-density of
/// `gumbel_exp_concrete_log_prob_per_row_f32` with respect to the
/// temperature, one value per row:
/// `out[r] = (K-1) / tau[r] - sum_k x_k (1 - K s_k)` over the `K` unmasked
/// classes, `s = softmax_k(l_k - tau[r] x_k)` (the derivative of Maddison
/// et al. 2017's ExpConcrete log-density, appendix on the ExpConcrete).
/// Computed in double precision.
///
/// Shapes: `x` and `logits` are row-major `(outer, classes, inner)` tensors;
/// `tau` has `outer * inner` entries in row order `(o, i)`, i.e. `tau[o * inner + i]`, each finite and `> 0`; `out` has `outer * inner` values in row order.
///
/// Returns `GUMBEL_STATUS_OK`; `GUMBEL_STATUS_INVALID_SHAPE` if
/// `classes == 0`; `GUMBEL_STATUS_SIZE_OVERFLOW`;
/// `GUMBEL_STATUS_NULL_POINTER` if `x`, `logits`, `tau` or `out` is NULL
/// with a non-empty shape; `GUMBEL_STATUS_MISALIGNED_POINTER`;
/// `GUMBEL_STATUS_OVERLAP` if `out` overlaps `x`, `logits` or `tau`;
/// `GUMBEL_STATUS_INVALID_TEMPERATURE` if some `tau[r]` is NaN, infinite or
/// `<= 0` (the message names the row); `GUMBEL_STATUS_INVALID_LOGITS` if a
/// logit is NaN or `+inf`; `GUMBEL_STATUS_ALL_MASKED` if a row of logits is
/// entirely `-inf`; `GUMBEL_STATUS_INVALID_VALUE` for the first row of `x`
/// off the domain of `gumbel_exp_concrete_log_prob_f32` (the message names it). An empty shape
/// is a no-op. `out` is untouched on error. Thread-safe.
///
/// # Safety
/// `x` and `logits` must point to `outer * classes * inner` readable floats,
/// `tau` to `outer * inner` readable ones and `out` to as many writable ones.
#[no_mangle]
pub unsafe extern "C" fn gumbel_exp_concrete_log_prob_grad_tau_per_row_f32(
    x: *const f32,
    logits: *const f32,
    out: *mut f32,
    outer: usize,
    classes: usize,
    inner: usize,
    tau: *const f32,
) -> gumbel_status {
    guard(|| unsafe {
        log_prob(
            Family::GradTau,
            x,
            logits,
            tau,
            out,
            [outer, classes, inner],
        )
    })
}

/// The `double` twin of `gumbel_exp_concrete_log_prob_grad_tau_per_row_f32`,
/// same contract.
///
/// # Safety
/// As `gumbel_exp_concrete_log_prob_grad_tau_per_row_f32`, with doubles.
#[no_mangle]
pub unsafe extern "C" fn gumbel_exp_concrete_log_prob_grad_tau_per_row_f64(
    x: *const f64,
    logits: *const f64,
    out: *mut f64,
    outer: usize,
    classes: usize,
    inner: usize,
    tau: *const f64,
) -> gumbel_status {
    guard(|| unsafe {
        log_prob(
            Family::GradTau,
            x,
            logits,
            tau,
            out,
            [outer, classes, inner],
        )
    })
}

unsafe fn log_softmax<F: Float>(
    logits: *const F,
    out: *mut F,
    dims: [usize; 3],
    tau: *const F,
    seed: u64,
    offset: u64,
) -> Result<()> {
    let (shape, logits, out) = buffers(logits, out, dims, "out", Shape::len)?;
    let tau = Buffer::new(tau, shape.rows(), "tau")?;
    check_disjoint(&tau, "tau", &out, "out")?;
    // SAFETY: sizes checked; validity is the caller's contract; `out` is
    // disjoint from both inputs.
    unsafe {
        crate::gumbel_log_softmax_per_row(
            logits.as_slice(),
            out.as_mut_slice(),
            shape,
            tau.as_slice(),
            seed,
            offset,
        )
    }
}

/// Which per-row function [`log_prob`] evaluates.
#[derive(Clone, Copy)]
enum Family {
    /// The Concrete log-density at points `y` of the simplex.
    Concrete,
    /// The ExpConcrete log-density at points `x` of the log-simplex.
    ExpConcrete,
    /// Its gradient with respect to the logits (one value per element).
    GradLogits,
    /// Its gradient with respect to the temperature (one value per row).
    GradTau,
}

unsafe fn log_prob<F: Float>(
    family: Family,
    point: *const F,
    logits: *const F,
    tau: *const F,
    out: *mut F,
    [outer, classes, inner]: [usize; 3],
) -> Result<()> {
    let name = match family {
        Family::Concrete => "y",
        _ => "x",
    };
    let shape = Shape::new(outer, classes, inner)?;
    let point = Buffer::new(point, shape.len(), name)?;
    let logits = Buffer::new(logits, shape.len(), "logits")?;
    let tau = Buffer::new(tau, shape.rows(), "tau")?;
    let out_len = match family {
        Family::GradLogits => shape.len(),
        _ => shape.rows(),
    };
    let out = Buffer::new(out, out_len, "out")?;
    check_disjoint_from_all(
        &[(&point, name), (&logits, "logits"), (&tau, "tau")],
        &out,
        "out",
    )?;
    // SAFETY: sizes checked; validity is the caller's contract; the output
    // overlaps no input.
    let (point, logits, tau, out) = unsafe {
        (
            point.as_slice(),
            logits.as_slice(),
            tau.as_slice(),
            out.as_mut_slice(),
        )
    };
    match family {
        Family::Concrete => crate::concrete_log_prob_per_row(point, logits, out, shape, tau),
        Family::ExpConcrete => crate::exp_concrete_log_prob_per_row(point, logits, out, shape, tau),
        Family::GradLogits => {
            crate::exp_concrete_log_prob_grad_logits_per_row(point, logits, out, shape, tau)
        }
        Family::GradTau => {
            crate::exp_concrete_log_prob_grad_tau_per_row(point, logits, out, shape, tau)
        }
    }
}
