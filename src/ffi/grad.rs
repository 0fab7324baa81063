//! Gradients of the Gumbel-Softmax sample (soft, or hard through the
//! straight-through estimator) with respect to the logits and the
//! temperature, for one temperature per call or one per row.

use super::boundary::guard;
use super::buffer::{check_disjoint, check_disjoint_from_all, Buffer};
use super::status::gumbel_status;
use crate::error::Result;
use crate::Bf16;
use crate::Element;
use crate::Shape;
use crate::F16;

/// Gradient with respect to the logits of a Gumbel-Softmax sample
/// (vector-Jacobian product; Jang et al. 2017, section 2):
/// `grad_logits = y_soft * (grad_out - <grad_out, y_soft>) / tau` along the
/// class axis, where `<a, b> = sum_k a_k b_k` over one row.
///
/// Derivation: with `u = (logits + g) / tau`, `y = softmax(u)` and
/// `v = dL/dy`, the softmax Jacobian gives `dL/du = y * (v - <v, y>)`, and
/// `du/dlogits = 1/tau`. The noise `g` and the logits are not needed.
///
/// Straight-through: the hard sample (`gumbel_softmax_f32` with `hard`)
/// takes the soft sample's gradient, so pass the soft sample here in both
/// cases. A caller who kept only the hard output recovers the soft sample
/// exactly by calling `gumbel_softmax_f32` again with `hard = false` and the
/// same `logits`, `tau`, `seed` and `offset`.
///
/// Shapes: `y_soft`, `grad_out` (`dL/dy`) and `grad_logits` are row-major
/// `(outer, classes, inner)` tensors (`outer * classes * inner` floats, the
/// class axis in the middle, as in `gumbel_softmax_f32`).
///
/// Values: `y_soft` is the soft sample of the forward call with temperature
/// `tau`: every value finite and in `[0, 1]`. Its row sums are not checked:
/// that would cost a second strided pass over the class axis and need a
/// tolerance (rows sum to 1 only within a few ulp), so a row that is not a
/// soft sample silently gives the product of a point off the simplex.
/// `grad_out` is finite; `tau` is finite and `> 0`. Classes with
/// `y_soft == 0` (masked by `-inf` logits, or underflowed) get exactly 0,
/// never NaN. Each row of `grad_logits` sums to 0 up to rounding.
/// Deterministic: the same bits for any thread count.
///
/// Returns `GUMBEL_STATUS_OK`; `GUMBEL_STATUS_INVALID_SHAPE` if
/// `classes == 0`; `GUMBEL_STATUS_SIZE_OVERFLOW` if the element count
/// overflows; `GUMBEL_STATUS_NULL_POINTER` if `y_soft`, `grad_out` or
/// `grad_logits` is NULL with a non-empty shape;
/// `GUMBEL_STATUS_MISALIGNED_POINTER`; `GUMBEL_STATUS_OVERLAP` if
/// `grad_logits` overlaps `y_soft` or `grad_out` (the two inputs may
/// overlap); `GUMBEL_STATUS_INVALID_TEMPERATURE` if `tau` is NaN, infinite
/// or `<= 0`; `GUMBEL_STATUS_INVALID_VALUE` if a `y_soft` value is NaN or
/// outside `[0, 1]`, or a `grad_out` value is not finite (the message names
/// the argument, row and class). An empty shape is a no-op.
///
/// Error contract of the gradients: the values of `y_soft` and `grad_out`
/// are validated while the gradient is computed (one read of each), so
/// after `GUMBEL_STATUS_INVALID_VALUE` the contents of `grad_logits` are
/// unspecified (nothing outside it is written); after every other error
/// `grad_logits` is untouched. Thread-safe.
///
/// # Safety
/// `y_soft` and `grad_out` must point to `outer * classes * inner` readable
/// floats and `grad_logits` to as many writable ones (any may be NULL when
/// that is 0).
#[no_mangle]
pub unsafe extern "C" fn gumbel_softmax_backward_f32(
    y_soft: *const f32,
    grad_out: *const f32,
    grad_logits: *mut f32,
    outer: usize,
    classes: usize,
    inner: usize,
    tau: f32,
) -> gumbel_status {
    guard(|| unsafe { backward(y_soft, grad_out, grad_logits, [outer, classes, inner], tau) })
}

/// The `double` twin of `gumbel_softmax_backward_f32`, same contract.
///
/// # Safety
/// As `gumbel_softmax_backward_f32`, with doubles.
#[no_mangle]
pub unsafe extern "C" fn gumbel_softmax_backward_f64(
    y_soft: *const f64,
    grad_out: *const f64,
    grad_logits: *mut f64,
    outer: usize,
    classes: usize,
    inner: usize,
    tau: f64,
) -> gumbel_status {
    guard(|| unsafe { backward(y_soft, grad_out, grad_logits, [outer, classes, inner], tau) })
}

/// The bfloat16 twin of `gumbel_softmax_backward_f32`: `y_soft`, `grad_out` and
/// `grad_logits` hold bfloat16 values (`uint16_t` bit patterns: the upper 16
/// bits of the float they stand for); temperatures are floats. `grad_logits` is
/// the output of `gumbel_softmax_backward_f32` on `y_soft` and `grad_out`
/// widened exactly to float, each value rounded once to nearest, ties to even.
/// Shapes, values, statuses and thread safety as `gumbel_softmax_backward_f32`;
/// the error contract of that function (`grad_logits`
/// unspecified after `GUMBEL_STATUS_INVALID_VALUE`, untouched after any other
/// error).
///
/// # Safety
/// As `gumbel_softmax_backward_f32`, with `uint16_t` elements in place of the
/// float elements of the tensors.
#[no_mangle]
pub unsafe extern "C" fn gumbel_softmax_backward_bf16(
    y_soft: *const u16,
    grad_out: *const u16,
    grad_logits: *mut u16,
    outer: usize,
    classes: usize,
    inner: usize,
    tau: f32,
) -> gumbel_status {
    guard(|| unsafe {
        backward(
            y_soft.cast::<Bf16>(),
            grad_out.cast::<Bf16>(),
            grad_logits.cast::<Bf16>(),
            [outer, classes, inner],
            tau,
        )
    })
}

/// The float16 twin of `gumbel_softmax_backward_f32`: `y_soft`, `grad_out` and
/// `grad_logits` hold IEEE 754 binary16 values (`uint16_t` bit patterns, the
/// storage of `_Float16`); temperatures are floats. `grad_logits` is the output
/// of `gumbel_softmax_backward_f32` on `y_soft` and `grad_out` widened exactly
/// to float, each value rounded once to nearest, ties to even. Shapes, values,
/// statuses and thread safety as `gumbel_softmax_backward_f32`;
/// the error contract of that function (`grad_logits`
/// unspecified after `GUMBEL_STATUS_INVALID_VALUE`, untouched after any other
/// error).
///
/// # Safety
/// As `gumbel_softmax_backward_f32`, with `uint16_t` elements in place of the
/// float elements of the tensors.
#[no_mangle]
pub unsafe extern "C" fn gumbel_softmax_backward_f16(
    y_soft: *const u16,
    grad_out: *const u16,
    grad_logits: *mut u16,
    outer: usize,
    classes: usize,
    inner: usize,
    tau: f32,
) -> gumbel_status {
    guard(|| unsafe {
        backward(
            y_soft.cast::<F16>(),
            grad_out.cast::<F16>(),
            grad_logits.cast::<F16>(),
            [outer, classes, inner],
            tau,
        )
    })
}

/// Gradient with respect to the temperature of a Gumbel-Softmax sample
/// `softmax((logits + g) / tau)` (Jang et al. 2017, eq. 1), summed over all
/// rows: `*grad_tau = sum_rows dL/dtau` with, per row,
/// `dL/dtau = -(1/tau) sum_k y_k (v_k - <v, y>) ln y_k` and `0 ln 0 = 0`
/// (`y = y_soft`, `v = grad_out`).
///
/// Derivation: `u = (logits + g) / tau` has `du/dtau = -u / tau`, so
/// `dL/dtau = -(1/tau) sum_k y_k (v_k - <v, y>) u_k`. The weights
/// `y_k (v_k - <v, y>)` sum to 0 over a row, so a per-row constant in `u`
/// drops out, and `u_k = ln y_k + logsumexp(u)` gives the formula above: it
/// needs neither the logits nor the noise. Straight-through as in
/// `gumbel_softmax_backward_f32` (pass the soft sample).
///
/// Shapes and values: as `gumbel_softmax_backward_f32`; `grad_tau` points
/// to one float, always required (it receives 0 for an empty shape).
/// The rows' terms are summed in double precision in an order fixed by the
/// shape alone (within each unit of rows described at `gumbel_streams`,
/// then over the units in order), so the result is the same bits for any
/// thread count.
///
/// Returns `GUMBEL_STATUS_OK`; `GUMBEL_STATUS_INVALID_SHAPE` if
/// `classes == 0`; `GUMBEL_STATUS_SIZE_OVERFLOW`;
/// `GUMBEL_STATUS_NULL_POINTER` if `grad_tau` is NULL, or `y_soft` or
/// `grad_out` is NULL with a non-empty shape;
/// `GUMBEL_STATUS_MISALIGNED_POINTER`; `GUMBEL_STATUS_OVERLAP` if
/// `grad_tau` overlaps `y_soft` or `grad_out`;
/// `GUMBEL_STATUS_INVALID_TEMPERATURE` if `tau` is NaN, infinite or `<= 0`;
/// `GUMBEL_STATUS_INVALID_VALUE` if a `y_soft` value is NaN or outside
/// `[0, 1]`, or a `grad_out` value is not finite (the message names the
/// row and class). `*grad_tau` is untouched on error. Thread-safe.
///
/// # Safety
/// `y_soft` and `grad_out` must point to `outer * classes * inner` readable
/// floats (or be NULL when that is 0); `grad_tau` to one writable float.
#[no_mangle]
pub unsafe extern "C" fn gumbel_softmax_grad_tau_f32(
    y_soft: *const f32,
    grad_out: *const f32,
    outer: usize,
    classes: usize,
    inner: usize,
    tau: f32,
    grad_tau: *mut f32,
) -> gumbel_status {
    guard(|| unsafe { grad_tau_scalar(y_soft, grad_out, [outer, classes, inner], tau, grad_tau) })
}

/// The `double` twin of `gumbel_softmax_grad_tau_f32`, same contract.
///
/// # Safety
/// As `gumbel_softmax_grad_tau_f32`, with doubles.
#[no_mangle]
pub unsafe extern "C" fn gumbel_softmax_grad_tau_f64(
    y_soft: *const f64,
    grad_out: *const f64,
    outer: usize,
    classes: usize,
    inner: usize,
    tau: f64,
    grad_tau: *mut f64,
) -> gumbel_status {
    guard(|| unsafe { grad_tau_scalar(y_soft, grad_out, [outer, classes, inner], tau, grad_tau) })
}

/// The bfloat16 twin of `gumbel_softmax_grad_tau_f32`: `y_soft` and `grad_out`
/// hold bfloat16 values (`uint16_t` bit patterns: the upper 16 bits of the
/// float they stand for); `tau` and `grad_tau` are floats. The result is that
/// of `gumbel_softmax_grad_tau_f32` on `y_soft` and `grad_out` widened exactly
/// to float (computed as there, so rounded once to float). Shapes, values,
/// statuses and thread safety as `gumbel_softmax_grad_tau_f32`; `grad_tau` is
/// untouched on error.
///
/// # Safety
/// As `gumbel_softmax_grad_tau_f32`, with `uint16_t` elements in place of the float elements
/// of `y_soft` and `grad_out`.
#[no_mangle]
pub unsafe extern "C" fn gumbel_softmax_grad_tau_bf16(
    y_soft: *const u16,
    grad_out: *const u16,
    outer: usize,
    classes: usize,
    inner: usize,
    tau: f32,
    grad_tau: *mut f32,
) -> gumbel_status {
    guard(|| unsafe {
        grad_tau_scalar(
            y_soft.cast::<Bf16>(),
            grad_out.cast::<Bf16>(),
            [outer, classes, inner],
            tau,
            grad_tau,
        )
    })
}

/// The float16 twin of `gumbel_softmax_grad_tau_f32`: `y_soft` and `grad_out`
/// hold IEEE 754 binary16 values (`uint16_t` bit patterns, the storage of
/// `_Float16`); `tau` and `grad_tau` are floats. The result is that of
/// `gumbel_softmax_grad_tau_f32` on `y_soft` and `grad_out` widened exactly to
/// float (computed as there, so rounded once to float). Shapes, values,
/// statuses and thread safety as `gumbel_softmax_grad_tau_f32`; `grad_tau` is
/// untouched on error.
///
/// # Safety
/// As `gumbel_softmax_grad_tau_f32`, with `uint16_t` elements in place of the float elements
/// of `y_soft` and `grad_out`.
#[no_mangle]
pub unsafe extern "C" fn gumbel_softmax_grad_tau_f16(
    y_soft: *const u16,
    grad_out: *const u16,
    outer: usize,
    classes: usize,
    inner: usize,
    tau: f32,
    grad_tau: *mut f32,
) -> gumbel_status {
    guard(|| unsafe {
        grad_tau_scalar(
            y_soft.cast::<F16>(),
            grad_out.cast::<F16>(),
            [outer, classes, inner],
            tau,
            grad_tau,
        )
    })
}

/// `gumbel_softmax_backward_f32` for the per-row temperatures of
/// `gumbel_softmax_per_row_f32`: row `r` of `grad_logits` is
/// `y_r * (v_r - <v_r, y_r>) / tau[r]` (Jang et al. 2017, section 2).
///
/// Shapes: `y_soft`, `grad_out` and `grad_logits` are row-major
/// `(outer, classes, inner)` tensors; `tau` has `outer * inner` entries in
/// row order `(o, i)`, i.e. `tau[o * inner + i]`.
///
/// Values: as `gumbel_softmax_backward_f32`, with every `tau[r]` finite and
/// `> 0`. After a hard forward, recompute the soft sample with
/// `gumbel_softmax_per_row_f32(.., tau, false, seed, offset)` (same `tau`,
/// `seed` and `offset`). When every `tau[r]` equals `t`, the result is bit
/// for bit that of `gumbel_softmax_backward_f32(.., t)`.
///
/// Returns `GUMBEL_STATUS_OK`; `GUMBEL_STATUS_INVALID_SHAPE` if
/// `classes == 0`; `GUMBEL_STATUS_SIZE_OVERFLOW`;
/// `GUMBEL_STATUS_NULL_POINTER` if `y_soft`, `grad_out`, `tau` or
/// `grad_logits` is NULL with a non-empty shape;
/// `GUMBEL_STATUS_MISALIGNED_POINTER`; `GUMBEL_STATUS_OVERLAP` if
/// `grad_logits` overlaps `y_soft`, `grad_out` or `tau`;
/// `GUMBEL_STATUS_INVALID_TEMPERATURE` if some `tau[r]` is NaN, infinite or
/// `<= 0` (the message names row `r`); `GUMBEL_STATUS_INVALID_VALUE` as in
/// `gumbel_softmax_backward_f32`. An empty shape is a no-op. After
/// `GUMBEL_STATUS_INVALID_VALUE` the contents of `grad_logits` are
/// unspecified (the error contract of `gumbel_softmax_backward_f32`); after
/// every other error it is untouched. Thread-safe.
///
/// # Safety
/// As `gumbel_softmax_backward_f32`, and `tau` must point to
/// `outer * inner` readable floats (or be NULL when that is 0).
#[no_mangle]
pub unsafe extern "C" fn gumbel_softmax_backward_per_row_f32(
    y_soft: *const f32,
    grad_out: *const f32,
    grad_logits: *mut f32,
    outer: usize,
    classes: usize,
    inner: usize,
    tau: *const f32,
) -> gumbel_status {
    guard(|| unsafe {
        backward_per_row(y_soft, grad_out, grad_logits, [outer, classes, inner], tau)
    })
}

/// The `double` twin of `gumbel_softmax_backward_per_row_f32`, same contract.
///
/// # Safety
/// As `gumbel_softmax_backward_per_row_f32`, with doubles.
#[no_mangle]
pub unsafe extern "C" fn gumbel_softmax_backward_per_row_f64(
    y_soft: *const f64,
    grad_out: *const f64,
    grad_logits: *mut f64,
    outer: usize,
    classes: usize,
    inner: usize,
    tau: *const f64,
) -> gumbel_status {
    guard(|| unsafe {
        backward_per_row(y_soft, grad_out, grad_logits, [outer, classes, inner], tau)
    })
}

/// The bfloat16 twin of `gumbel_softmax_backward_per_row_f32`: `y_soft`,
/// `grad_out` and `grad_logits` hold bfloat16 values (`uint16_t` bit patterns:
/// the upper 16 bits of the float they stand for); temperatures are floats.
/// `grad_logits` is the output of `gumbel_softmax_backward_per_row_f32` on
/// `y_soft` and `grad_out` widened exactly to float, each value rounded once to
/// nearest, ties to even. Shapes, values, statuses and thread safety as
/// `gumbel_softmax_backward_per_row_f32`; the error contract of that function (`grad_logits`
/// unspecified after `GUMBEL_STATUS_INVALID_VALUE`, untouched after any other
/// error).
///
/// # Safety
/// As `gumbel_softmax_backward_per_row_f32`, with `uint16_t` elements in place
/// of the float elements of the tensors.
#[no_mangle]
pub unsafe extern "C" fn gumbel_softmax_backward_per_row_bf16(
    y_soft: *const u16,
    grad_out: *const u16,
    grad_logits: *mut u16,
    outer: usize,
    classes: usize,
    inner: usize,
    tau: *const f32,
) -> gumbel_status {
    guard(|| unsafe {
        backward_per_row(
            y_soft.cast::<Bf16>(),
            grad_out.cast::<Bf16>(),
            grad_logits.cast::<Bf16>(),
            [outer, classes, inner],
            tau,
        )
    })
}

/// The float16 twin of `gumbel_softmax_backward_per_row_f32`: `y_soft`,
/// `grad_out` and `grad_logits` hold IEEE 754 binary16 values (`uint16_t` bit
/// patterns, the storage of `_Float16`); temperatures are floats. `grad_logits`
/// is the output of `gumbel_softmax_backward_per_row_f32` on `y_soft` and
/// `grad_out` widened exactly to float, each value rounded once to nearest,
/// ties to even. Shapes, values, statuses and thread safety as
/// `gumbel_softmax_backward_per_row_f32`; the error contract of that function (`grad_logits`
/// unspecified after `GUMBEL_STATUS_INVALID_VALUE`, untouched after any other
/// error).
///
/// # Safety
/// As `gumbel_softmax_backward_per_row_f32`, with `uint16_t` elements in place
/// of the float elements of the tensors.
#[no_mangle]
pub unsafe extern "C" fn gumbel_softmax_backward_per_row_f16(
    y_soft: *const u16,
    grad_out: *const u16,
    grad_logits: *mut u16,
    outer: usize,
    classes: usize,
    inner: usize,
    tau: *const f32,
) -> gumbel_status {
    guard(|| unsafe {
        backward_per_row(
            y_soft.cast::<F16>(),
            grad_out.cast::<F16>(),
            grad_logits.cast::<F16>(),
            [outer, classes, inner],
            tau,
        )
    })
}

/// Gradient with respect to each row's temperature of a sample of
/// `gumbel_softmax_per_row_f32`:
/// `grad_tau[r] = -(1/tau[r]) sum_k y_k (v_k - <v, y>) ln y_k` over row
/// `r`, with `0 ln 0 = 0` (derivation in `gumbel_softmax_grad_tau_f32`).
///
/// Shapes: `y_soft` and `grad_out` are row-major `(outer, classes, inner)`
/// tensors; `tau` and `grad_tau` have `outer * inner` entries in row order
/// `(o, i)`, i.e. index `o * inner + i`.
///
/// Values: as `gumbel_softmax_backward_per_row_f32`. Deterministic: the same
/// bits for any thread count.
///
/// Returns `GUMBEL_STATUS_OK`; `GUMBEL_STATUS_INVALID_SHAPE` if
/// `classes == 0`; `GUMBEL_STATUS_SIZE_OVERFLOW`;
/// `GUMBEL_STATUS_NULL_POINTER` if `y_soft`, `grad_out`, `tau` or
/// `grad_tau` is NULL with a non-empty shape;
/// `GUMBEL_STATUS_MISALIGNED_POINTER`; `GUMBEL_STATUS_OVERLAP` if
/// `grad_tau` overlaps `y_soft`, `grad_out` or `tau`;
/// `GUMBEL_STATUS_INVALID_TEMPERATURE` if some `tau[r]` is NaN, infinite or
/// `<= 0` (the message names row `r`); `GUMBEL_STATUS_INVALID_VALUE` as in
/// `gumbel_softmax_backward_f32`. An empty shape is a no-op. `grad_tau` is
/// untouched on error. Thread-safe.
///
/// # Safety
/// `y_soft` and `grad_out` must point to `outer * classes * inner` readable
/// floats, `tau` to `outer * inner` readable floats and `grad_tau` to as
/// many writable ones (any may be NULL when its length is 0).
#[no_mangle]
pub unsafe extern "C" fn gumbel_softmax_grad_tau_per_row_f32(
    y_soft: *const f32,
    grad_out: *const f32,
    outer: usize,
    classes: usize,
    inner: usize,
    tau: *const f32,
    grad_tau: *mut f32,
) -> gumbel_status {
    guard(|| unsafe { grad_tau_per_row(y_soft, grad_out, [outer, classes, inner], tau, grad_tau) })
}

/// The `double` twin of `gumbel_softmax_grad_tau_per_row_f32`, same contract.
///
/// # Safety
/// As `gumbel_softmax_grad_tau_per_row_f32`, with doubles.
#[no_mangle]
pub unsafe extern "C" fn gumbel_softmax_grad_tau_per_row_f64(
    y_soft: *const f64,
    grad_out: *const f64,
    outer: usize,
    classes: usize,
    inner: usize,
    tau: *const f64,
    grad_tau: *mut f64,
) -> gumbel_status {
    guard(|| unsafe { grad_tau_per_row(y_soft, grad_out, [outer, classes, inner], tau, grad_tau) })
}

/// The bfloat16 twin of `gumbel_softmax_grad_tau_per_row_f32`: `y_soft` and
/// `grad_out` hold bfloat16 values (`uint16_t` bit patterns: the upper 16 bits
/// of the float they stand for); `tau` and `grad_tau` are floats. The result is
/// that of `gumbel_softmax_grad_tau_per_row_f32` on `y_soft` and `grad_out`
/// widened exactly to float (computed as there, so rounded once to float).
/// Shapes, values, statuses and thread safety as
/// `gumbel_softmax_grad_tau_per_row_f32`; `grad_tau` is untouched on error.
///
/// # Safety
/// As `gumbel_softmax_grad_tau_per_row_f32`, with `uint16_t` elements in place of the float elements
/// of `y_soft` and `grad_out`.
#[no_mangle]
pub unsafe extern "C" fn gumbel_softmax_grad_tau_per_row_bf16(
    y_soft: *const u16,
    grad_out: *const u16,
    outer: usize,
    classes: usize,
    inner: usize,
    tau: *const f32,
    grad_tau: *mut f32,
) -> gumbel_status {
    guard(|| unsafe {
        grad_tau_per_row(
            y_soft.cast::<Bf16>(),
            grad_out.cast::<Bf16>(),
            [outer, classes, inner],
            tau,
            grad_tau,
        )
    })
}

/// The float16 twin of `gumbel_softmax_grad_tau_per_row_f32`: `y_soft` and
/// `grad_out` hold IEEE 754 binary16 values (`uint16_t` bit patterns, the
/// storage of `_Float16`); `tau` and `grad_tau` are floats. The result is that
/// of `gumbel_softmax_grad_tau_per_row_f32` on `y_soft` and `grad_out` widened
/// exactly to float (computed as there, so rounded once to float). Shapes,
/// values, statuses and thread safety as `gumbel_softmax_grad_tau_per_row_f32`;
/// `grad_tau` is untouched on error.
///
/// # Safety
/// As `gumbel_softmax_grad_tau_per_row_f32`, with `uint16_t` elements in place of the float elements
/// of `y_soft` and `grad_out`.
#[no_mangle]
pub unsafe extern "C" fn gumbel_softmax_grad_tau_per_row_f16(
    y_soft: *const u16,
    grad_out: *const u16,
    outer: usize,
    classes: usize,
    inner: usize,
    tau: *const f32,
    grad_tau: *mut f32,
) -> gumbel_status {
    guard(|| unsafe {
        grad_tau_per_row(
            y_soft.cast::<F16>(),
            grad_out.cast::<F16>(),
            [outer, classes, inner],
            tau,
            grad_tau,
        )
    })
}

/// The checked buffers of a gradient call.
struct Checked<E, T, O> {
    shape: Shape,
    y_soft: Buffer<E>,
    grad_out: Buffer<E>,
    /// Empty for a scalar temperature.
    tau: Buffer<T>,
    out: Buffer<O>,
}

/// Checks the shape, the inputs `y_soft` and `grad_out`, the per-row `tau`
/// (when given) and an output `out_name` of `out_len(shape)` elements that
/// must overlap none of the inputs.
fn checked<E, T, O>(
    y_soft: *const E,
    grad_out: *const E,
    [outer, classes, inner]: [usize; 3],
    tau: Option<*const T>,
    out: *mut O,
    out_name: &str,
    out_len: fn(&Shape) -> usize,
) -> Result<Checked<E, T, O>> {
    let shape = Shape::new(outer, classes, inner)?;
    let y_soft = Buffer::new(y_soft, shape.len(), "y_soft")?;
    let grad_out = Buffer::new(grad_out, shape.len(), "grad_out")?;
    let tau = match tau {
        Some(tau) => Buffer::new(tau, shape.rows(), "tau")?,
        None => Buffer::new(std::ptr::null(), 0, "tau")?,
    };
    let out = Buffer::new(out, out_len(&shape), out_name)?;
    check_disjoint_from_all(
        &[(&y_soft, "y_soft"), (&grad_out, "grad_out")],
        &out,
        out_name,
    )?;
    check_disjoint(&tau, "tau", &out, out_name)?;
    Ok(Checked {
        shape,
        y_soft,
        grad_out,
        tau,
        out,
    })
}

unsafe fn backward<E: Element>(
    y_soft: *const E,
    grad_out: *const E,
    grad_logits: *mut E,
    dims: [usize; 3],
    tau: E::Compute,
) -> Result<()> {
    let c = checked::<E, E::Compute, E>(
        y_soft,
        grad_out,
        dims,
        None,
        grad_logits,
        "grad_logits",
        Shape::len,
    )?;
    // SAFETY: sizes checked; validity is the caller's contract; the output
    // is disjoint from the inputs.
    unsafe {
        crate::gumbel_softmax_backward(
            c.y_soft.as_slice(),
            c.grad_out.as_slice(),
            c.out.as_mut_slice(),
            c.shape,
            tau,
        )
    }
}

unsafe fn backward_per_row<E: Element>(
    y_soft: *const E,
    grad_out: *const E,
    grad_logits: *mut E,
    dims: [usize; 3],
    tau: *const E::Compute,
) -> Result<()> {
    let c = checked(
        y_soft,
        grad_out,
        dims,
        Some(tau),
        grad_logits,
        "grad_logits",
        Shape::len,
    )?;
    // SAFETY: as in `backward`.
    unsafe {
        crate::gumbel_softmax_backward_per_row(
            c.y_soft.as_slice(),
            c.grad_out.as_slice(),
            c.out.as_mut_slice(),
            c.shape,
            c.tau.as_slice(),
        )
    }
}

unsafe fn grad_tau_scalar<E: Element>(
    y_soft: *const E,
    grad_out: *const E,
    dims: [usize; 3],
    tau: E::Compute,
    grad_tau: *mut E::Compute,
) -> Result<()> {
    let c = checked::<E, E::Compute, E::Compute>(
        y_soft,
        grad_out,
        dims,
        None,
        grad_tau,
        "grad_tau",
        |_| 1,
    )?;
    // SAFETY: as in `backward`; `grad_tau` is one non-NULL element.
    unsafe {
        let value = crate::gumbel_softmax_grad_tau(
            c.y_soft.as_slice(),
            c.grad_out.as_slice(),
            c.shape,
            tau,
        )?;
        c.out.as_mut_slice()[0] = value;
    }
    Ok(())
}

unsafe fn grad_tau_per_row<E: Element>(
    y_soft: *const E,
    grad_out: *const E,
    dims: [usize; 3],
    tau: *const E::Compute,
    grad_tau: *mut E::Compute,
) -> Result<()> {
    let c = checked(
        y_soft,
        grad_out,
        dims,
        Some(tau),
        grad_tau,
        "grad_tau",
        Shape::rows,
    )?;
    // SAFETY: as in `backward`.
    unsafe {
        crate::gumbel_softmax_grad_tau_per_row(
            c.y_soft.as_slice(),
            c.grad_out.as_slice(),
            c.shape,
            c.tau.as_slice(),
            c.out.as_mut_slice(),
        )
    }
}
