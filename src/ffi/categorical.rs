//! Categorical sampling along the class axis: Gumbel-Softmax (soft and hard),
//! Gumbel-max indices, tempered softmax (with one temperature per call or
//! per row), and the stream count of a call.

use super::boundary::guard;
use super::buffer::{check_disjoint, check_disjoint_from_all, Buffer};
use super::status::gumbel_status;
use crate::error::Result;
use crate::Bf16;
use crate::Element;
use crate::Shape;
use crate::F16;

/// The number of stream ids one sampling call on a row-major
/// `(outer, classes, inner)` tensor consumes: make the next independent call
/// with `offset + gumbel_streams(outer, classes, inner)`, or replay a call
/// exactly with the same `(seed, offset)`.
///
/// Rows (`outer * inner` of them) are cut into units of
/// `max(1, 16384 / classes)` consecutive rows; a row of more than 16384
/// classes is cut into `ceil(classes / 16384)` segments. Each unit or
/// segment draws from one stream id, counted from `offset` in row order
/// (ids wrap modulo 2^64). For `gumbel_noise_*`, pass `(1, n, 1)`.
///
/// Returns 0 for an empty shape (`outer == 0` or `inner == 0`), for
/// `classes == 0`, and when `outer * classes * inner` overflows `size_t`.
/// Thread-safe; no error status.
#[no_mangle]
pub extern "C" fn gumbel_streams(outer: usize, classes: usize, inner: usize) -> u64 {
    Shape::new(outer, classes, inner).map_or(0, crate::streams)
}

/// Gumbel-Softmax sample along the class axis (Jang et al. 2017, eq. 1;
/// Maddison et al. 2017, eq. 10):
/// `out = softmax((logits + g) / tau)`, `g` i.i.d. standard Gumbel noise.
/// With `hard`, `out` is instead the exact one-hot of
/// `argmax_k (logits_k + g_k)` (straight-through forward; lowest index on
/// ties); its gradient is the soft sample's (`hard = false` with the same
/// `seed` and `offset` recomputes the soft sample exactly; pass it to
/// `gumbel_softmax_backward_f32` and `gumbel_softmax_grad_tau_f32`).
///
/// Shapes: `logits` and `out` are row-major `(outer, classes, inner)`
/// tensors (`outer * classes * inner` floats); the class axis is the middle
/// one, so a `(rows, K)` matrix is `outer = rows, classes = K, inner = 1`.
/// There are `outer * inner` rows.
///
/// Values: logits are finite or `-inf`; a `-inf` logit masks its class,
/// which gets exactly 0 and is never chosen. `tau` is finite and `> 0`
/// (temperature; small values approach one-hot samples). Soft rows are in
/// `[0, 1]` and sum to 1 within a few ulp. The logits are shifted by their
/// row maximum before the noise is added, so large logits (`1e7`) keep the
/// noise's precision. A class whose logit lies more than `FLT_MAX` below its
/// row's maximum gets 0, its probability `exp(-FLT_MAX / tau)` rounded (exact
/// for `tau < FLT_MAX / 104`).
///
/// Randomness: the noise of element `(row, class)` is a pure function of
/// `(seed, offset, classes, row, class)`: independent of the thread count,
/// of `inner`, and of the rows after it. The call consumes
/// `gumbel_streams(outer, classes, inner)` stream ids. For the same
/// `(seed, offset)`, `gumbel_sample_f32` returns the argmax of this sample
/// (up to exact ties among the soft values, which the sample breaks by the
/// perturbed logits).
///
/// Returns `GUMBEL_STATUS_OK`; `GUMBEL_STATUS_INVALID_SHAPE` if
/// `classes == 0`; `GUMBEL_STATUS_SIZE_OVERFLOW` if the element count
/// overflows; `GUMBEL_STATUS_NULL_POINTER` if `logits` or `out` is NULL with
/// a non-empty shape; `GUMBEL_STATUS_MISALIGNED_POINTER`;
/// `GUMBEL_STATUS_OVERLAP` if `logits` and `out` overlap;
/// `GUMBEL_STATUS_INVALID_TEMPERATURE` if `tau` is NaN, infinite or `<= 0`;
/// `GUMBEL_STATUS_INVALID_LOGITS` if a logit is NaN or `+inf`;
/// `GUMBEL_STATUS_ALL_MASKED` if a row is entirely `-inf`. An empty shape is
/// a no-op; `GUMBEL_STATUS_PANIC` on an internal error. `out` is untouched
/// on error. Thread-safe.
///
/// # Safety
/// `logits` must point to `outer * classes * inner` readable floats and
/// `out` to as many writable ones (either may be NULL when that is 0).
#[no_mangle]
pub unsafe extern "C" fn gumbel_softmax_f32(
    logits: *const f32,
    out: *mut f32,
    outer: usize,
    classes: usize,
    inner: usize,
    tau: f32,
    hard: bool,
    seed: u64,
    offset: u64,
) -> gumbel_status {
    guard(|| unsafe {
        softmax(
            logits,
            out,
            [outer, classes, inner],
            tau,
            hard,
            seed,
            offset,
        )
    })
}

/// The `double` twin of `gumbel_softmax_f32`, same contract.
///
/// # Safety
/// As `gumbel_softmax_f32`, with doubles.
#[no_mangle]
pub unsafe extern "C" fn gumbel_softmax_f64(
    logits: *const f64,
    out: *mut f64,
    outer: usize,
    classes: usize,
    inner: usize,
    tau: f64,
    hard: bool,
    seed: u64,
    offset: u64,
) -> gumbel_status {
    guard(|| unsafe {
        softmax(
            logits,
            out,
            [outer, classes, inner],
            tau,
            hard,
            seed,
            offset,
        )
    })
}

/// The bfloat16 twin of `gumbel_softmax_f32`: the tensors hold bfloat16 values
/// (`uint16_t` bit patterns: the upper 16 bits of the float they stand for);
/// temperatures are floats. Computed in float with exactly the noise of
/// `gumbel_softmax_f32` for the same `(seed, offset)`: `out` is the output of
/// `gumbel_softmax_f32` on the logits widened exactly to float, each value
/// rounded once to nearest, ties to even (a hard sample is the same one-hot).
/// Shapes, values, randomness, statuses (a NaN logit is any bfloat16 NaN) and
/// thread safety as `gumbel_softmax_f32`; `out` is untouched on error.
///
/// # Safety
/// As `gumbel_softmax_f32`, with `uint16_t` elements in place of the float
/// elements of the tensors.
#[no_mangle]
pub unsafe extern "C" fn gumbel_softmax_bf16(
    logits: *const u16,
    out: *mut u16,
    outer: usize,
    classes: usize,
    inner: usize,
    tau: f32,
    hard: bool,
    seed: u64,
    offset: u64,
) -> gumbel_status {
    guard(|| unsafe {
        softmax(
            logits.cast::<Bf16>(),
            out.cast::<Bf16>(),
            [outer, classes, inner],
            tau,
            hard,
            seed,
            offset,
        )
    })
}

/// The float16 twin of `gumbel_softmax_f32`: the tensors hold IEEE 754 binary16
/// values (`uint16_t` bit patterns, the storage of `_Float16`); temperatures
/// are floats. Computed in float with exactly the noise of `gumbel_softmax_f32`
/// for the same `(seed, offset)`: `out` is the output of `gumbel_softmax_f32`
/// on the logits widened exactly to float, each value rounded once to nearest,
/// ties to even (a hard sample is the same one-hot). Shapes, values,
/// randomness, statuses (a NaN logit is any float16 NaN) and thread safety as
/// `gumbel_softmax_f32`; `out` is untouched on error.
///
/// # Safety
/// As `gumbel_softmax_f32`, with `uint16_t` elements in place of the float
/// elements of the tensors.
#[no_mangle]
pub unsafe extern "C" fn gumbel_softmax_f16(
    logits: *const u16,
    out: *mut u16,
    outer: usize,
    classes: usize,
    inner: usize,
    tau: f32,
    hard: bool,
    seed: u64,
    offset: u64,
) -> gumbel_status {
    guard(|| unsafe {
        softmax(
            logits.cast::<F16>(),
            out.cast::<F16>(),
            [outer, classes, inner],
            tau,
            hard,
            seed,
            offset,
        )
    })
}

/// Gumbel-Softmax sample with one temperature per row: row `r` of `out` is
/// `softmax((logits_r + g_r) / tau[r])` (Jang et al. 2017, eq. 1, with a
/// row-dependent temperature), or with `hard` the exact one-hot of
/// `argmax_k (logits_k + g_k)`, which does not depend on `tau`.
///
/// Shapes: `logits` and `out` are row-major `(outer, classes, inner)`
/// tensors as in `gumbel_softmax_f32`; `tau` has `outer * inner` entries in
/// row order `(o, i)`, i.e. `tau[o * inner + i]` is the temperature of the
/// row at outer index `o` and inner index `i`.
///
/// Values: as `gumbel_softmax_f32`; every `tau[r]` is finite and `> 0`
/// (checked even when `hard`).
///
/// Randomness: exactly the noise of `gumbel_softmax_f32` for the same
/// `(seed, offset)`: when every `tau[r]` equals `t`, `out` is bit for bit
/// that of `gumbel_softmax_f32(.., t, hard, seed, offset)`. Consumes
/// `gumbel_streams(outer, classes, inner)` stream ids. The gradient of the
/// hard sample is the soft sample's (straight-through): a caller who kept
/// only the hard output recovers the soft sample exactly by calling this
/// function again with `hard = false` and the same `tau`, `seed` and
/// `offset`, then passes it to `gumbel_softmax_backward_per_row_f32` and
/// `gumbel_softmax_grad_tau_per_row_f32`.
///
/// Returns `GUMBEL_STATUS_OK`; `GUMBEL_STATUS_INVALID_SHAPE` if
/// `classes == 0`; `GUMBEL_STATUS_SIZE_OVERFLOW` if the element count
/// overflows; `GUMBEL_STATUS_NULL_POINTER` if `logits`, `out` or `tau` is
/// NULL with a non-empty shape; `GUMBEL_STATUS_MISALIGNED_POINTER`;
/// `GUMBEL_STATUS_OVERLAP` if `out` overlaps `logits` or `tau`;
/// `GUMBEL_STATUS_INVALID_TEMPERATURE` if some `tau[r]` is NaN, infinite or
/// `<= 0` (the message names row `r`); `GUMBEL_STATUS_INVALID_LOGITS` if a
/// logit is NaN or `+inf`; `GUMBEL_STATUS_ALL_MASKED` if a row is entirely
/// `-inf`. An empty shape is a no-op. `out` is untouched on error.
/// Thread-safe.
///
/// # Safety
/// `logits` must point to `outer * classes * inner` readable floats, `out`
/// to as many writable ones and `tau` to `outer * inner` readable floats
/// (any may be NULL when its length is 0).
#[no_mangle]
pub unsafe extern "C" fn gumbel_softmax_per_row_f32(
    logits: *const f32,
    out: *mut f32,
    outer: usize,
    classes: usize,
    inner: usize,
    tau: *const f32,
    hard: bool,
    seed: u64,
    offset: u64,
) -> gumbel_status {
    guard(|| unsafe {
        softmax_per_row(
            logits,
            out,
            [outer, classes, inner],
            tau,
            hard,
            seed,
            offset,
        )
    })
}

/// The `double` twin of `gumbel_softmax_per_row_f32`, same contract.
///
/// # Safety
/// As `gumbel_softmax_per_row_f32`, with doubles.
#[no_mangle]
pub unsafe extern "C" fn gumbel_softmax_per_row_f64(
    logits: *const f64,
    out: *mut f64,
    outer: usize,
    classes: usize,
    inner: usize,
    tau: *const f64,
    hard: bool,
    seed: u64,
    offset: u64,
) -> gumbel_status {
    guard(|| unsafe {
        softmax_per_row(
            logits,
            out,
            [outer, classes, inner],
            tau,
            hard,
            seed,
            offset,
        )
    })
}

/// The bfloat16 twin of `gumbel_softmax_per_row_f32`: the tensors hold bfloat16
/// values (`uint16_t` bit patterns: the upper 16 bits of the float they stand
/// for); temperatures are floats. Computed in float with exactly the noise of
/// `gumbel_softmax_per_row_f32` for the same `(seed, offset)`: `out` is the
/// output of `gumbel_softmax_per_row_f32` on the logits widened exactly to
/// float, each value rounded once to nearest, ties to even (a hard sample is
/// the same one-hot). Shapes, values, randomness, statuses (a NaN logit is any
/// bfloat16 NaN) and thread safety as `gumbel_softmax_per_row_f32`; `out` is
/// untouched on error.
///
/// # Safety
/// As `gumbel_softmax_per_row_f32`, with `uint16_t` elements in place of the
/// float elements of the tensors.
#[no_mangle]
pub unsafe extern "C" fn gumbel_softmax_per_row_bf16(
    logits: *const u16,
    out: *mut u16,
    outer: usize,
    classes: usize,
    inner: usize,
    tau: *const f32,
    hard: bool,
    seed: u64,
    offset: u64,
) -> gumbel_status {
    guard(|| unsafe {
        softmax_per_row(
            logits.cast::<Bf16>(),
            out.cast::<Bf16>(),
            [outer, classes, inner],
            tau,
            hard,
            seed,
            offset,
        )
    })
}

/// The float16 twin of `gumbel_softmax_per_row_f32`: the tensors hold IEEE 754
/// binary16 values (`uint16_t` bit patterns, the storage of `_Float16`);
/// temperatures are floats. Computed in float with exactly the noise of
/// `gumbel_softmax_per_row_f32` for the same `(seed, offset)`: `out` is the
/// output of `gumbel_softmax_per_row_f32` on the logits widened exactly to
/// float, each value rounded once to nearest, ties to even (a hard sample is
/// the same one-hot). Shapes, values, randomness, statuses (a NaN logit is any
/// float16 NaN) and thread safety as `gumbel_softmax_per_row_f32`; `out` is
/// untouched on error.
///
/// # Safety
/// As `gumbel_softmax_per_row_f32`, with `uint16_t` elements in place of the
/// float elements of the tensors.
#[no_mangle]
pub unsafe extern "C" fn gumbel_softmax_per_row_f16(
    logits: *const u16,
    out: *mut u16,
    outer: usize,
    classes: usize,
    inner: usize,
    tau: *const f32,
    hard: bool,
    seed: u64,
    offset: u64,
) -> gumbel_status {
    guard(|| unsafe {
        softmax_per_row(
            logits.cast::<F16>(),
            out.cast::<F16>(),
            [outer, classes, inner],
            tau,
            hard,
            seed,
            offset,
        )
    })
}

/// Gumbel-max sampling (Gumbel 1954; Maddison et al. 2014): for each row,
/// `indices[row] = argmax_k (logits_k + g_k)`, an exact draw from
/// `Categorical(softmax(logits))`, with the same noise `g` as
/// `gumbel_softmax_f32` for the same `(seed, offset)`, so it is the position
/// of the hard sample's 1 and the argmax of the soft sample (up to exact
/// ties among the soft values: with a huge `tau` several can round to the
/// same number).
///
/// Shapes: `logits` is a row-major `(outer, classes, inner)` tensor;
/// `indices` has `outer * inner` entries in row order `(o, i)`, i.e.
/// `indices[o * inner + i]`. Every index is in `[0, classes)` and never a
/// masked (`-inf`) class; ties go to the lowest index.
///
/// Randomness: as `gumbel_softmax_f32`; consumes
/// `gumbel_streams(outer, classes, inner)` stream ids.
///
/// Returns `GUMBEL_STATUS_OK`; `GUMBEL_STATUS_INVALID_SHAPE` if
/// `classes == 0`; `GUMBEL_STATUS_SIZE_OVERFLOW`;
/// `GUMBEL_STATUS_NULL_POINTER` if `logits` or `indices` is NULL with a
/// non-empty shape; `GUMBEL_STATUS_MISALIGNED_POINTER`;
/// `GUMBEL_STATUS_OVERLAP` if `logits` and `indices` overlap;
/// `GUMBEL_STATUS_INVALID_LOGITS` if a logit is NaN or `+inf`;
/// `GUMBEL_STATUS_ALL_MASKED` if a row is entirely `-inf`. An empty shape is
/// a no-op; `GUMBEL_STATUS_PANIC` on an internal error. `indices` is
/// untouched on error. Thread-safe.
///
/// # Safety
/// `logits` must point to `outer * classes * inner` readable floats and
/// `indices` to `outer * inner` writable `int64_t`.
#[no_mangle]
pub unsafe extern "C" fn gumbel_sample_f32(
    logits: *const f32,
    indices: *mut i64,
    outer: usize,
    classes: usize,
    inner: usize,
    seed: u64,
    offset: u64,
) -> gumbel_status {
    guard(|| unsafe { sample(logits, indices, [outer, classes, inner], seed, offset) })
}

/// The `double` twin of `gumbel_sample_f32`, same contract.
///
/// # Safety
/// As `gumbel_sample_f32`, with double logits.
#[no_mangle]
pub unsafe extern "C" fn gumbel_sample_f64(
    logits: *const f64,
    indices: *mut i64,
    outer: usize,
    classes: usize,
    inner: usize,
    seed: u64,
    offset: u64,
) -> gumbel_status {
    guard(|| unsafe { sample(logits, indices, [outer, classes, inner], seed, offset) })
}

/// The bfloat16 twin of `gumbel_sample_f32`: `logits` holds bfloat16 values
/// (`uint16_t` bit patterns: the upper 16 bits of the float they stand for).
/// The indices are exactly those of `gumbel_sample_f32` on the logits widened
/// exactly to float, with the same `(seed, offset)`, and the argmax of the soft
/// sample of `gumbel_softmax_bf16` computed in float. Shapes, values,
/// randomness, statuses (a NaN logit is any bfloat16 NaN) and thread safety as
/// `gumbel_sample_f32`; `indices` is untouched on error.
///
/// # Safety
/// As `gumbel_sample_f32`, with `uint16_t` elements in place of the float
/// elements of the tensors.
#[no_mangle]
pub unsafe extern "C" fn gumbel_sample_bf16(
    logits: *const u16,
    indices: *mut i64,
    outer: usize,
    classes: usize,
    inner: usize,
    seed: u64,
    offset: u64,
) -> gumbel_status {
    guard(|| unsafe {
        sample(
            logits.cast::<Bf16>(),
            indices,
            [outer, classes, inner],
            seed,
            offset,
        )
    })
}

/// The float16 twin of `gumbel_sample_f32`: `logits` holds IEEE 754 binary16
/// values (`uint16_t` bit patterns, the storage of `_Float16`). The indices are
/// exactly those of `gumbel_sample_f32` on the logits widened exactly to float,
/// with the same `(seed, offset)`, and the argmax of the soft sample of
/// `gumbel_softmax_f16` computed in float. Shapes, values, randomness, statuses
/// (a NaN logit is any float16 NaN) and thread safety as `gumbel_sample_f32`;
/// `indices` is untouched on error.
///
/// # Safety
/// As `gumbel_sample_f32`, with `uint16_t` elements in place of the float
/// elements of the tensors.
#[no_mangle]
pub unsafe extern "C" fn gumbel_sample_f16(
    logits: *const u16,
    indices: *mut i64,
    outer: usize,
    classes: usize,
    inner: usize,
    seed: u64,
    offset: u64,
) -> gumbel_status {
    guard(|| unsafe {
        sample(
            logits.cast::<F16>(),
            indices,
            [outer, classes, inner],
            seed,
            offset,
        )
    })
}

/// Tempered softmax without noise: `out = softmax(logits / tau)` along the
/// class axis, computed as `exp((x - max x) / tau)` normalised, so huge
/// logits and tiny `tau` neither overflow nor give NaN. These are the
/// category probabilities that `gumbel_sample_f32` draws from when `tau = 1`.
///
/// Shapes and values: as `gumbel_softmax_f32` (`-inf` logits get exactly 0).
/// Deterministic: takes no seed.
///
/// Returns `GUMBEL_STATUS_OK`; `GUMBEL_STATUS_INVALID_SHAPE` if
/// `classes == 0`; `GUMBEL_STATUS_SIZE_OVERFLOW`;
/// `GUMBEL_STATUS_NULL_POINTER`; `GUMBEL_STATUS_MISALIGNED_POINTER`;
/// `GUMBEL_STATUS_OVERLAP` if `logits` and `out` overlap;
/// `GUMBEL_STATUS_INVALID_TEMPERATURE`; `GUMBEL_STATUS_INVALID_LOGITS`;
/// `GUMBEL_STATUS_ALL_MASKED`; `GUMBEL_STATUS_PANIC` on an internal error.
/// `out` is untouched on error. Thread-safe.
///
/// # Safety
/// As `gumbel_softmax_f32`.
#[no_mangle]
pub unsafe extern "C" fn gumbel_tempered_softmax_f32(
    logits: *const f32,
    out: *mut f32,
    outer: usize,
    classes: usize,
    inner: usize,
    tau: f32,
) -> gumbel_status {
    guard(|| unsafe { tempered_softmax(logits, out, [outer, classes, inner], tau) })
}

/// The `double` twin of `gumbel_tempered_softmax_f32`, same contract.
///
/// # Safety
/// As `gumbel_softmax_f64`.
#[no_mangle]
pub unsafe extern "C" fn gumbel_tempered_softmax_f64(
    logits: *const f64,
    out: *mut f64,
    outer: usize,
    classes: usize,
    inner: usize,
    tau: f64,
) -> gumbel_status {
    guard(|| unsafe { tempered_softmax(logits, out, [outer, classes, inner], tau) })
}

/// The bfloat16 twin of `gumbel_tempered_softmax_f32`: the tensors hold
/// bfloat16 values (`uint16_t` bit patterns: the upper 16 bits of the float
/// they stand for); temperatures are floats. `out` is the output of
/// `gumbel_tempered_softmax_f32` on the logits widened exactly to float, each
/// value rounded once to nearest, ties to even. Shapes, values, statuses (a NaN
/// logit is any bfloat16 NaN) and thread safety as
/// `gumbel_tempered_softmax_f32`; `out` is untouched on error.
///
/// # Safety
/// As `gumbel_tempered_softmax_f32`, with `uint16_t` elements in place of the
/// float elements of the tensors.
#[no_mangle]
pub unsafe extern "C" fn gumbel_tempered_softmax_bf16(
    logits: *const u16,
    out: *mut u16,
    outer: usize,
    classes: usize,
    inner: usize,
    tau: f32,
) -> gumbel_status {
    guard(|| unsafe {
        tempered_softmax(
            logits.cast::<Bf16>(),
            out.cast::<Bf16>(),
            [outer, classes, inner],
            tau,
        )
    })
}

/// The float16 twin of `gumbel_tempered_softmax_f32`: the tensors hold IEEE 754
/// binary16 values (`uint16_t` bit patterns, the storage of `_Float16`);
/// temperatures are floats. `out` is the output of
/// `gumbel_tempered_softmax_f32` on the logits widened exactly to float, each
/// value rounded once to nearest, ties to even. Shapes, values, statuses (a NaN
/// logit is any float16 NaN) and thread safety as
/// `gumbel_tempered_softmax_f32`; `out` is untouched on error.
///
/// # Safety
/// As `gumbel_tempered_softmax_f32`, with `uint16_t` elements in place of the
/// float elements of the tensors.
#[no_mangle]
pub unsafe extern "C" fn gumbel_tempered_softmax_f16(
    logits: *const u16,
    out: *mut u16,
    outer: usize,
    classes: usize,
    inner: usize,
    tau: f32,
) -> gumbel_status {
    guard(|| unsafe {
        tempered_softmax(
            logits.cast::<F16>(),
            out.cast::<F16>(),
            [outer, classes, inner],
            tau,
        )
    })
}

/// Tempered softmax without noise and with one temperature per row: row `r`
/// of `out` is `softmax(logits_r / tau[r])`, computed as in
/// `gumbel_tempered_softmax_f32`.
///
/// Shapes and values: as `gumbel_softmax_per_row_f32` (`tau` has
/// `outer * inner` entries in row order `(o, i)`). When every `tau[r]`
/// equals `t`, `out` is bit for bit that of
/// `gumbel_tempered_softmax_f32(.., t)`. Deterministic: takes no seed.
///
/// Returns `GUMBEL_STATUS_OK`; `GUMBEL_STATUS_INVALID_SHAPE` if
/// `classes == 0`; `GUMBEL_STATUS_SIZE_OVERFLOW`;
/// `GUMBEL_STATUS_NULL_POINTER` if `logits`, `out` or `tau` is NULL with a
/// non-empty shape; `GUMBEL_STATUS_MISALIGNED_POINTER`;
/// `GUMBEL_STATUS_OVERLAP` if `out` overlaps `logits` or `tau`;
/// `GUMBEL_STATUS_INVALID_TEMPERATURE` if some `tau[r]` is NaN, infinite or
/// `<= 0` (the message names row `r`); `GUMBEL_STATUS_INVALID_LOGITS`;
/// `GUMBEL_STATUS_ALL_MASKED`. An empty shape is a no-op. `out` is untouched
/// on error. Thread-safe.
///
/// # Safety
/// As `gumbel_softmax_per_row_f32`.
#[no_mangle]
pub unsafe extern "C" fn gumbel_tempered_softmax_per_row_f32(
    logits: *const f32,
    out: *mut f32,
    outer: usize,
    classes: usize,
    inner: usize,
    tau: *const f32,
) -> gumbel_status {
    guard(|| unsafe { tempered_softmax_per_row(logits, out, [outer, classes, inner], tau) })
}

/// The `double` twin of `gumbel_tempered_softmax_per_row_f32`, same contract.
///
/// # Safety
/// As `gumbel_softmax_per_row_f64`.
#[no_mangle]
pub unsafe extern "C" fn gumbel_tempered_softmax_per_row_f64(
    logits: *const f64,
    out: *mut f64,
    outer: usize,
    classes: usize,
    inner: usize,
    tau: *const f64,
) -> gumbel_status {
    guard(|| unsafe { tempered_softmax_per_row(logits, out, [outer, classes, inner], tau) })
}

/// The bfloat16 twin of `gumbel_tempered_softmax_per_row_f32`: the tensors hold
/// bfloat16 values (`uint16_t` bit patterns: the upper 16 bits of the float
/// they stand for); temperatures are floats. `out` is the output of
/// `gumbel_tempered_softmax_per_row_f32` on the logits widened exactly to
/// float, each value rounded once to nearest, ties to even. Shapes, values,
/// statuses (a NaN logit is any bfloat16 NaN) and thread safety as
/// `gumbel_tempered_softmax_per_row_f32`; `out` is untouched on error.
///
/// # Safety
/// As `gumbel_tempered_softmax_per_row_f32`, with `uint16_t` elements in place
/// of the float elements of the tensors.
#[no_mangle]
pub unsafe extern "C" fn gumbel_tempered_softmax_per_row_bf16(
    logits: *const u16,
    out: *mut u16,
    outer: usize,
    classes: usize,
    inner: usize,
    tau: *const f32,
) -> gumbel_status {
    guard(|| unsafe {
        tempered_softmax_per_row(
            logits.cast::<Bf16>(),
            out.cast::<Bf16>(),
            [outer, classes, inner],
            tau,
        )
    })
}

/// The float16 twin of `gumbel_tempered_softmax_per_row_f32`: the tensors hold
/// IEEE 754 binary16 values (`uint16_t` bit patterns, the storage of
/// `_Float16`); temperatures are floats. `out` is the output of
/// `gumbel_tempered_softmax_per_row_f32` on the logits widened exactly to
/// float, each value rounded once to nearest, ties to even. Shapes, values,
/// statuses (a NaN logit is any float16 NaN) and thread safety as
/// `gumbel_tempered_softmax_per_row_f32`; `out` is untouched on error.
///
/// # Safety
/// As `gumbel_tempered_softmax_per_row_f32`, with `uint16_t` elements in place
/// of the float elements of the tensors.
#[no_mangle]
pub unsafe extern "C" fn gumbel_tempered_softmax_per_row_f16(
    logits: *const u16,
    out: *mut u16,
    outer: usize,
    classes: usize,
    inner: usize,
    tau: *const f32,
) -> gumbel_status {
    guard(|| unsafe {
        tempered_softmax_per_row(
            logits.cast::<F16>(),
            out.cast::<F16>(),
            [outer, classes, inner],
            tau,
        )
    })
}

/// Checks an `(outer, classes, inner)` tensor and an output of `out_len(shape)`
/// elements that must not overlap it.
pub(super) fn buffers<F, O>(
    logits: *const F,
    out: *mut O,
    [outer, classes, inner]: [usize; 3],
    out_name: &str,
    out_len: fn(&Shape) -> usize,
) -> Result<(Shape, Buffer<F>, Buffer<O>)> {
    let shape = Shape::new(outer, classes, inner)?;
    let logits = Buffer::new(logits, shape.len(), "logits")?;
    let out = Buffer::new(out, out_len(&shape), out_name)?;
    check_disjoint(&logits, "logits", &out, out_name)?;
    Ok((shape, logits, out))
}

unsafe fn softmax<E: Element>(
    logits: *const E,
    out: *mut E,
    dims: [usize; 3],
    tau: E::Compute,
    hard: bool,
    seed: u64,
    offset: u64,
) -> Result<()> {
    let (shape, logits, out) = buffers(logits, out, dims, "out", Shape::len)?;
    // SAFETY: sizes checked; validity is the caller's contract; disjoint.
    unsafe {
        crate::gumbel_softmax(
            logits.as_slice(),
            out.as_mut_slice(),
            shape,
            tau,
            hard,
            seed,
            offset,
        )
    }
}

unsafe fn sample<E: Element>(
    logits: *const E,
    indices: *mut i64,
    dims: [usize; 3],
    seed: u64,
    offset: u64,
) -> Result<()> {
    let (shape, logits, indices) = buffers(logits, indices, dims, "indices", Shape::rows)?;
    // SAFETY: sizes checked; validity is the caller's contract; disjoint.
    unsafe {
        crate::sample(
            logits.as_slice(),
            indices.as_mut_slice(),
            shape,
            seed,
            offset,
        )
    }
}

unsafe fn tempered_softmax<E: Element>(
    logits: *const E,
    out: *mut E,
    dims: [usize; 3],
    tau: E::Compute,
) -> Result<()> {
    let (shape, logits, out) = buffers(logits, out, dims, "out", Shape::len)?;
    // SAFETY: sizes checked; validity is the caller's contract; disjoint.
    unsafe { crate::tempered_softmax(logits.as_slice(), out.as_mut_slice(), shape, tau) }
}

/// Checks the per-row temperatures (`shape.rows()` values) of a call whose
/// output `out` must not overlap them.
fn per_row_tau<T, E>(tau: *const T, shape: &Shape, out: &Buffer<E>) -> Result<Buffer<T>> {
    let tau = Buffer::new(tau, shape.rows(), "tau")?;
    check_disjoint_from_all(&[(&tau, "tau")], out, "out")?;
    Ok(tau)
}

unsafe fn softmax_per_row<E: Element>(
    logits: *const E,
    out: *mut E,
    dims: [usize; 3],
    tau: *const E::Compute,
    hard: bool,
    seed: u64,
    offset: u64,
) -> Result<()> {
    let (shape, logits, out) = buffers(logits, out, dims, "out", Shape::len)?;
    let tau = per_row_tau(tau, &shape, &out)?;
    // SAFETY: sizes checked; validity is the caller's contract; `out` is
    // disjoint from both inputs.
    unsafe {
        crate::gumbel_softmax_per_row(
            logits.as_slice(),
            out.as_mut_slice(),
            shape,
            tau.as_slice(),
            hard,
            seed,
            offset,
        )
    }
}

unsafe fn tempered_softmax_per_row<E: Element>(
    logits: *const E,
    out: *mut E,
    dims: [usize; 3],
    tau: *const E::Compute,
) -> Result<()> {
    let (shape, logits, out) = buffers(logits, out, dims, "out", Shape::len)?;
    let tau = per_row_tau(tau, &shape, &out)?;
    // SAFETY: sizes checked; validity is the caller's contract; `out` is
    // disjoint from both inputs.
    unsafe {
        crate::tempered_softmax_per_row(
            logits.as_slice(),
            out.as_mut_slice(),
            shape,
            tau.as_slice(),
        )
    }
}
