//! The Concrete family along the class axis: log-space (ExpConcrete)
//! samples, and the Concrete and ExpConcrete log-densities.

use super::boundary::guard;
use super::buffer::{check_disjoint, Buffer};
use super::categorical::buffers;
use super::status::gumbel_status;
use crate::error::Result;
use crate::Float;
use crate::Shape;

/// ExpConcrete (log-space Gumbel-Softmax) sample along the class axis
/// (Maddison et al. 2017, appendix on the ExpConcrete):
/// `out = log_softmax((logits + g) / tau)`, with exactly the noise `g` of
/// `gumbel_softmax_f32` for the same `(seed, offset)`. So `exp(out)` equals
/// that soft sample up to rounding, and the argmax of `out` is the index of
/// `gumbel_sample_f32` (up to exact ties). Feed it to
/// `gumbel_exp_concrete_log_prob_f32`.
///
/// Computed as `(z - max z) / tau - log(sum_j exp((z_j - max z) / tau))`
/// with `z = logits + g`: values are `<= 0` and stay finite where the soft
/// sample underflows to 0 (small `tau`, many classes). Masked (`-inf`)
/// classes get `-inf`; an unmasked class gets `-inf` only if
/// `(z_k - max z) / tau` overflows `float` (e.g. for a subnormal `tau`).
/// Each row's `logsumexp` is 0 within a few ulp.
///
/// Shapes: `logits` and `out` are row-major `(outer, classes, inner)`
/// tensors; there are `outer * inner` rows. `tau` is finite and `> 0`.
///
/// Randomness: as `gumbel_softmax_f32`; consumes
/// `gumbel_streams(outer, classes, inner)` stream ids.
///
/// Returns `GUMBEL_STATUS_OK`; `GUMBEL_STATUS_INVALID_SHAPE` if
/// `classes == 0`; `GUMBEL_STATUS_SIZE_OVERFLOW` if the element count
/// overflows; `GUMBEL_STATUS_NULL_POINTER` if `logits` or `out` is NULL with
/// a non-empty shape; `GUMBEL_STATUS_MISALIGNED_POINTER`;
/// `GUMBEL_STATUS_OVERLAP` if `logits` and `out` overlap;
/// `GUMBEL_STATUS_INVALID_TEMPERATURE` if `tau` is NaN, infinite or `<= 0`;
/// `GUMBEL_STATUS_INVALID_LOGITS` if a logit is NaN or `+inf`;
/// `GUMBEL_STATUS_ALL_MASKED` if a row is entirely `-inf`. An empty shape is
/// a no-op. `out` is untouched on error. Thread-safe.
///
/// # Safety
/// `logits` must point to `outer * classes * inner` readable floats and
/// `out` to as many writable ones (either may be NULL when that is 0).
#[no_mangle]
pub unsafe extern "C" fn gumbel_log_softmax_f32(
    logits: *const f32,
    out: *mut f32,
    outer: usize,
    classes: usize,
    inner: usize,
    tau: f32,
    seed: u64,
    offset: u64,
) -> gumbel_status {
    guard(|| unsafe { log_softmax(logits, out, [outer, classes, inner], tau, seed, offset) })
}

/// The `double` twin of `gumbel_log_softmax_f32`, same contract.
///
/// # Safety
/// As `gumbel_log_softmax_f32`, with doubles.
#[no_mangle]
pub unsafe extern "C" fn gumbel_log_softmax_f64(
    logits: *const f64,
    out: *mut f64,
    outer: usize,
    classes: usize,
    inner: usize,
    tau: f64,
    seed: u64,
    offset: u64,
) -> gumbel_status {
    guard(|| unsafe { log_softmax(logits, out, [outer, classes, inner], tau, seed, offset) })
}

/// Concrete (Gumbel-Softmax) log-density, one value per row (Maddison et
/// al. 2017, Definition 1; Jang et al. 2017, eq. 3): with `K` unmasked
/// classes,
/// `out[r] = lgamma(K) + (K-1) log tau + sum_k (l_k - (tau+1) log y_k) - K logsumexp_k(l_k - tau log y_k)`,
/// evaluated in double precision in log space, so it is finite at every
/// point of the open simplex (where the plain product under- or overflows)
/// and may be positive. Base measure: Lebesgue measure on the first `K - 1`
/// coordinates `(y_1, ..., y_{K-1})` of the simplex of the unmasked classes.
/// A row with one unmasked class is a point mass: its log-density is 0.
///
/// Shapes: `y` and `logits` are row-major `(outer, classes, inner)` tensors;
/// `out` has `outer * inner` values in row order `(o, i)`, i.e.
/// `out[o * inner + i]`.
///
/// Values: logits are finite or `-inf` (a masked class; the density is that
/// of the Concrete over the unmasked classes). Each row of `y` lies in
/// `[0, 1]`, is exactly 0 on masked classes and `> 0` on the others, and sums
/// to 1 within `(512 + K) * FLT_EPSILON` (about `6e-5` for a few classes;
/// `DBL_EPSILON` for the `double` twin). The row is evaluated at
/// `y / sum(y)`, which removes the bias of `-K log(sum y)` that rounding in
/// the sum would otherwise add. `tau` is finite and `> 0`. Deterministic.
///
/// Returns `GUMBEL_STATUS_OK`; `GUMBEL_STATUS_INVALID_SHAPE` if
/// `classes == 0`; `GUMBEL_STATUS_SIZE_OVERFLOW`;
/// `GUMBEL_STATUS_NULL_POINTER` if `y`, `logits` or `out` is NULL with a
/// non-empty shape; `GUMBEL_STATUS_MISALIGNED_POINTER`;
/// `GUMBEL_STATUS_OVERLAP` if `out` overlaps `y` or `logits`;
/// `GUMBEL_STATUS_INVALID_TEMPERATURE`; `GUMBEL_STATUS_INVALID_LOGITS` if a
/// logit is NaN or `+inf`; `GUMBEL_STATUS_ALL_MASKED` if a row of logits is
/// entirely `-inf`; `GUMBEL_STATUS_INVALID_VALUE` for the first row of `y`
/// (the message names it) with an entry that is NaN or outside `[0, 1]`,
/// nonzero on a masked class, zero on an unmasked class (off the open
/// simplex), or a sum off 1 beyond the tolerance. An empty shape is a no-op.
/// `out` is untouched on error. Thread-safe.
///
/// # Safety
/// `y` and `logits` must point to `outer * classes * inner` readable floats
/// and `out` to `outer * inner` writable ones.
#[no_mangle]
pub unsafe extern "C" fn gumbel_concrete_log_prob_f32(
    y: *const f32,
    logits: *const f32,
    out: *mut f32,
    outer: usize,
    classes: usize,
    inner: usize,
    tau: f32,
) -> gumbel_status {
    guard(|| unsafe {
        log_prob(
            Family::Concrete,
            y,
            logits,
            out,
            [outer, classes, inner],
            tau,
        )
    })
}

/// The `double` twin of `gumbel_concrete_log_prob_f32`, same contract (the
/// sum tolerance is `(512 + K) * DBL_EPSILON`).
///
/// # Safety
/// As `gumbel_concrete_log_prob_f32`, with doubles.
#[no_mangle]
pub unsafe extern "C" fn gumbel_concrete_log_prob_f64(
    y: *const f64,
    logits: *const f64,
    out: *mut f64,
    outer: usize,
    classes: usize,
    inner: usize,
    tau: f64,
) -> gumbel_status {
    guard(|| unsafe {
        log_prob(
            Family::Concrete,
            y,
            logits,
            out,
            [outer, classes, inner],
            tau,
        )
    })
}

/// ExpConcrete log-density, one value per row: the law of `x = log y` for
/// `y ~ Concrete(logits, tau)` (Maddison et al. 2017, appendix on the
/// ExpConcrete; the form of TensorFlow Probability's
/// `ExpRelaxedOneHotCategorical`): with `K` unmasked classes,
/// `out[r] = lgamma(K) + (K-1) log tau + sum_k (l_k - tau x_k) - K logsumexp_k(l_k - tau x_k)`,
/// evaluated in double precision in log space. It is finite at every
/// output of `gumbel_log_softmax_f32` (also where the soft sample underflows
/// to 0) and may be positive.
///
/// Base measure: `exp(-x_K) dx_1 ... dx_{K-1}` on the log-simplex
/// (symmetric in the classes; equivalently Lebesgue measure on the
/// log-ratios `x_k - x_K`, `k < K`), NOT Lebesgue measure on
/// `x_1..x_{K-1}`:
/// `out = concrete_log_prob(exp(x)) + sum_k x_k` over all `K` unmasked
/// classes, while the Lebesgue density of `(x_1, ..., x_{K-1})` is
/// `out - x_K` (subtract the last unmasked coordinate). A row with one
/// unmasked class has log-density 0.
///
/// Shapes: `x` and `logits` are row-major `(outer, classes, inner)` tensors;
/// `out` has `outer * inner` values in row order `(o, i)`.
///
/// Values: logits are finite or `-inf` (masked). Each row of `x` is exactly
/// `-inf` on masked classes and finite on the others, with
/// `|logsumexp_k x_k| <= (512 + K) * FLT_EPSILON` (`DBL_EPSILON` for the
/// `double` twin). The value does not change when a constant is added to a
/// row of `x`, so the tolerance does not bias it. `tau` is finite and
/// `> 0`. Deterministic.
///
/// Returns `GUMBEL_STATUS_OK`; `GUMBEL_STATUS_INVALID_SHAPE` if
/// `classes == 0`; `GUMBEL_STATUS_SIZE_OVERFLOW`;
/// `GUMBEL_STATUS_NULL_POINTER` if `x`, `logits` or `out` is NULL with a
/// non-empty shape; `GUMBEL_STATUS_MISALIGNED_POINTER`;
/// `GUMBEL_STATUS_OVERLAP` if `out` overlaps `x` or `logits`;
/// `GUMBEL_STATUS_INVALID_TEMPERATURE`; `GUMBEL_STATUS_INVALID_LOGITS` if a
/// logit is NaN or `+inf`; `GUMBEL_STATUS_ALL_MASKED` if a row of logits is
/// entirely `-inf`; `GUMBEL_STATUS_INVALID_VALUE` for the first row of `x`
/// (the message names it) with a NaN or `+inf` entry, a finite entry on a
/// masked class, `-inf` on an unmasked class (off the open simplex), or a
/// `logsumexp` off 0 beyond the tolerance. An empty shape is a no-op. `out`
/// is untouched on error. Thread-safe.
///
/// # Safety
/// `x` and `logits` must point to `outer * classes * inner` readable floats
/// and `out` to `outer * inner` writable ones.
#[no_mangle]
pub unsafe extern "C" fn gumbel_exp_concrete_log_prob_f32(
    x: *const f32,
    logits: *const f32,
    out: *mut f32,
    outer: usize,
    classes: usize,
    inner: usize,
    tau: f32,
) -> gumbel_status {
    guard(|| unsafe {
        log_prob(
            Family::ExpConcrete,
            x,
            logits,
            out,
            [outer, classes, inner],
            tau,
        )
    })
}

/// The `double` twin of `gumbel_exp_concrete_log_prob_f32`, same contract
/// (the tolerance is `(512 + K) * DBL_EPSILON`).
///
/// # Safety
/// As `gumbel_exp_concrete_log_prob_f32`, with doubles.
#[no_mangle]
pub unsafe extern "C" fn gumbel_exp_concrete_log_prob_f64(
    x: *const f64,
    logits: *const f64,
    out: *mut f64,
    outer: usize,
    classes: usize,
    inner: usize,
    tau: f64,
) -> gumbel_status {
    guard(|| unsafe {
        log_prob(
            Family::ExpConcrete,
            x,
            logits,
            out,
            [outer, classes, inner],
            tau,
        )
    })
}

unsafe fn log_softmax<F: Float>(
    logits: *const F,
    out: *mut F,
    dims: [usize; 3],
    tau: F,
    seed: u64,
    offset: u64,
) -> Result<()> {
    let (shape, logits, out) = buffers(logits, out, dims, "out", Shape::len)?;
    // SAFETY: sizes checked; validity is the caller's contract; disjoint.
    unsafe {
        crate::gumbel_log_softmax(
            logits.as_slice(),
            out.as_mut_slice(),
            shape,
            tau,
            seed,
            offset,
        )
    }
}

/// Which log-density [`log_prob`] evaluates.
#[derive(Clone, Copy)]
enum Family {
    /// At points `y` of the simplex.
    Concrete,
    /// At points `x` of the log-simplex.
    ExpConcrete,
}

unsafe fn log_prob<F: Float>(
    family: Family,
    point: *const F,
    logits: *const F,
    out: *mut F,
    [outer, classes, inner]: [usize; 3],
    tau: F,
) -> Result<()> {
    let name = match family {
        Family::Concrete => "y",
        Family::ExpConcrete => "x",
    };
    let shape = Shape::new(outer, classes, inner)?;
    let point = Buffer::new(point, shape.len(), name)?;
    let logits = Buffer::new(logits, shape.len(), "logits")?;
    let out = Buffer::new(out, shape.rows(), "out")?;
    check_disjoint(&point, name, &out, "out")?;
    check_disjoint(&logits, "logits", &out, "out")?;
    // SAFETY: sizes checked; validity is the caller's contract; the output
    // overlaps neither input.
    let (point, logits, out) = unsafe { (point.as_slice(), logits.as_slice(), out.as_mut_slice()) };
    match family {
        Family::Concrete => crate::concrete_log_prob(point, logits, out, shape, tau),
        Family::ExpConcrete => crate::exp_concrete_log_prob(point, logits, out, shape, tau),
    }
}
