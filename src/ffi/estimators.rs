//! Gradient estimators for a hard categorical sample beyond straight-through:
//! Gumbel noise conditioned on the sampled class, and the backward passes of
//! Gumbel-Rao, ReinMax, gapped and decoupled straight-through.

use super::boundary::guard;
use super::buffer::{check_disjoint, check_disjoint_from_all, Buffer};
use super::status::gumbel_status;
use crate::error::{Error, ErrorKind, Result};
use crate::Bf16;
use crate::Element;
use crate::Shape;
use crate::F16;

/// Gumbel noise conditioned on the sampled class: `draws` independent draws
/// of the perturbed logits `z = logits + g` (standard Gumbel `g`) given
/// `argmax z = indices[row]` in every row, by the truncated-Gumbel
/// construction (Maddison, Tarlow and Minka 2014, "A* Sampling", section 4;
/// Paulus et al. 2021, "Rao-Blackwellizing the Straight-Through
/// Gumbel-Softmax Gradient Estimator", eq. 9):
/// `z_d = logsumexp(logits) + g_d` and, for `k != d`,
/// `z_k = -logaddexp(-(logits_k + g_k), -z_d)`. (The maximum of the
/// perturbed logits is Gumbel at `logsumexp` and independent of the argmax;
/// given it, each other value is a Gumbel truncated below it, inverted in
/// closed form.) This is the primitive of the Gumbel-Rao estimator.
///
/// Shapes: `logits` is a row-major `(outer, classes, inner)` tensor;
/// `indices` holds `outer * inner` classes in row order `(o, i)` (as written
/// by `gumbel_sample_f32`); `out` holds `draws * outer * classes * inner`
/// floats: draw after draw, each a tensor in the layout of `logits`.
///
/// Values: in each row `z_k <= z_d`, equal only by rounding (when
/// `logits_k + g_k` exceeds `z_d` by more than the float precision);
/// masked classes (`-inf` logits) stay `-inf`.
///
/// Randomness: draw `j` transforms the noise that `gumbel_softmax_f32` on
/// `logits` would add with `(seed, offset + j * s)`,
/// `s = gumbel_streams(outer * inner, classes)`; the call consumes `draws * s`
/// stream ids. Do not reuse the streams of the forward call that drew
/// `indices` (its noise depends on them): pass that call's `offset + s`.
/// The logits of a row are read once for all its draws. Deterministic: the
/// same bits for any thread count.
///
/// Returns `GUMBEL_STATUS_OK`; `GUMBEL_STATUS_INVALID_SHAPE` if
/// `classes == 0`; `GUMBEL_STATUS_SIZE_OVERFLOW` if an element count
/// overflows; `GUMBEL_STATUS_NULL_POINTER` if `logits`, `indices` or `out` is
/// NULL with a non-empty size; `GUMBEL_STATUS_MISALIGNED_POINTER`;
/// `GUMBEL_STATUS_OVERLAP` if `out` overlaps `logits` or `indices`;
/// `GUMBEL_STATUS_INVALID_PARAMETER` if `draws == 0`;
/// `GUMBEL_STATUS_INVALID_LOGITS` for a NaN or `+inf` logit;
/// `GUMBEL_STATUS_ALL_MASKED` for a row of `-inf` logits;
/// `GUMBEL_STATUS_INVALID_VALUE` for an index outside `[0, classes)` or of
/// a masked class (the message names the row). An empty shape is a no-op.
/// `out` is untouched on error. Thread-safe.
///
/// # Safety
/// `logits` must point to `outer * classes * inner` readable floats,
/// `indices` to `outer * inner` readable `int64_t` and `out` to
/// `draws * outer * classes * inner` writable floats (any may be NULL when
/// its count is 0).
#[no_mangle]
pub unsafe extern "C" fn gumbel_conditional_f32(
    logits: *const f32,
    indices: *const i64,
    out: *mut f32,
    outer: usize,
    classes: usize,
    inner: usize,
    draws: usize,
    seed: u64,
    offset: u64,
) -> gumbel_status {
    guard(|| unsafe {
        conditional(
            logits,
            indices,
            out,
            [outer, classes, inner],
            draws,
            (seed, offset),
        )
    })
}

/// The `double` twin of `gumbel_conditional_f32`, same contract.
///
/// # Safety
/// As `gumbel_conditional_f32`, with doubles.
#[no_mangle]
pub unsafe extern "C" fn gumbel_conditional_f64(
    logits: *const f64,
    indices: *const i64,
    out: *mut f64,
    outer: usize,
    classes: usize,
    inner: usize,
    draws: usize,
    seed: u64,
    offset: u64,
) -> gumbel_status {
    guard(|| unsafe {
        conditional(
            logits,
            indices,
            out,
            [outer, classes, inner],
            draws,
            (seed, offset),
        )
    })
}

/// The bfloat16 twin of `gumbel_conditional_f32`: `logits` and `out` hold
/// bfloat16 values (`uint16_t` bit patterns: the upper 16 bits of the float
/// they stand for); the other arguments are as there.
/// `out` is the output of `gumbel_conditional_f32` on the 16-bit inputs widened
/// exactly to float (computed in float as there, with the same noise), each
/// value rounded once to nearest, ties to even. Shapes, values, statuses,
/// thread safety and "untouched on error" as `gumbel_conditional_f32`.
///
/// # Safety
/// As `gumbel_conditional_f32`, with `uint16_t` elements in place of the float
/// elements of the tensors.
#[no_mangle]
pub unsafe extern "C" fn gumbel_conditional_bf16(
    logits: *const u16,
    indices: *const i64,
    out: *mut u16,
    outer: usize,
    classes: usize,
    inner: usize,
    draws: usize,
    seed: u64,
    offset: u64,
) -> gumbel_status {
    guard(|| unsafe {
        conditional(
            logits.cast::<Bf16>(),
            indices,
            out.cast::<Bf16>(),
            [outer, classes, inner],
            draws,
            (seed, offset),
        )
    })
}

/// The float16 twin of `gumbel_conditional_f32`: `logits` and `out` hold
/// IEEE 754 binary16 values (`uint16_t` bit patterns, the
/// storage of `_Float16`); the other arguments are as there.
/// `out` is the output of `gumbel_conditional_f32` on the 16-bit inputs widened
/// exactly to float (computed in float as there, with the same noise), each
/// value rounded once to nearest, ties to even. Shapes, values, statuses,
/// thread safety and "untouched on error" as `gumbel_conditional_f32`.
///
/// # Safety
/// As `gumbel_conditional_f32`, with `uint16_t` elements in place of the float
/// elements of the tensors.
#[no_mangle]
pub unsafe extern "C" fn gumbel_conditional_f16(
    logits: *const u16,
    indices: *const i64,
    out: *mut u16,
    outer: usize,
    classes: usize,
    inner: usize,
    draws: usize,
    seed: u64,
    offset: u64,
) -> gumbel_status {
    guard(|| unsafe {
        conditional(
            logits.cast::<F16>(),
            indices,
            out.cast::<F16>(),
            [outer, classes, inner],
            draws,
            (seed, offset),
        )
    })
}

/// The Gumbel-Rao gradient of a hard sample (Paulus et al. 2021,
/// "Rao-Blackwellizing the Straight-Through Gumbel-Softmax Gradient
/// Estimator", eq. 8): the straight-through Gumbel-Softmax gradient averaged
/// over the noise given the sampled class, estimated with `draws = m`
/// conditional draws `z_j` of `gumbel_conditional_f32` (same
/// `(seed, offset)`):
/// `grad_logits = (1/m) sum_j y_j * (grad_out - <grad_out, y_j>) / tau`,
/// `y_j = softmax(z_j / tau)`, along the class axis. Same expectation as
/// straight-through, variance falling with `m`.
///
/// Shapes: `logits`, `grad_out` (`dL/dy` of the one-hot output) and
/// `grad_logits` are row-major `(outer, classes, inner)` tensors; `indices`
/// holds the `outer * inner` sampled classes (row order `(o, i)`) of the
/// forward call on `logits` (`gumbel_sample_f32`, or the argmax of the hard
/// `gumbel_softmax_f32`). `(seed, offset)`: as `gumbel_conditional_f32`,
/// not the forward's streams (pass the forward's `offset + s`). Each row of
/// `grad_logits` sums to 0 up to rounding; masked classes get exactly 0.
/// Deterministic: the same bits for any thread count.
///
/// Returns `GUMBEL_STATUS_OK`; `GUMBEL_STATUS_INVALID_SHAPE` if
/// `classes == 0`; `GUMBEL_STATUS_SIZE_OVERFLOW` if the element count
/// overflows; `GUMBEL_STATUS_NULL_POINTER` if a pointer is NULL with a
/// non-empty shape; `GUMBEL_STATUS_MISALIGNED_POINTER`;
/// `GUMBEL_STATUS_OVERLAP` if `grad_logits` overlaps an input;
/// `GUMBEL_STATUS_INVALID_LOGITS` for a NaN or `+inf` logit;
/// `GUMBEL_STATUS_ALL_MASKED` for a row of `-inf` logits;
/// `GUMBEL_STATUS_INVALID_VALUE` for an index outside `[0, classes)` or of
/// a masked class, or a `grad_out` value that is not finite;
/// `GUMBEL_STATUS_INVALID_TEMPERATURE` if `tau` is NaN, infinite or `<= 0`;
/// `GUMBEL_STATUS_INVALID_PARAMETER` if `draws == 0`. An empty shape is a
/// no-op. `grad_logits` is untouched on error. Thread-safe.
///
/// # Safety
/// `logits` and `grad_out` must point to `outer * classes * inner` readable
/// floats, `indices` to `outer * inner` readable `int64_t` and
/// `grad_logits` to `outer * classes * inner` writable floats (any may be
/// NULL when its count is 0).
#[no_mangle]
pub unsafe extern "C" fn gumbel_rao_backward_f32(
    logits: *const f32,
    indices: *const i64,
    grad_out: *const f32,
    grad_logits: *mut f32,
    outer: usize,
    classes: usize,
    inner: usize,
    tau: f32,
    draws: usize,
    seed: u64,
    offset: u64,
) -> gumbel_status {
    let dims = [outer, classes, inner];
    let inputs = (logits, indices, grad_out);
    guard(|| unsafe { rao(inputs, grad_logits, dims, tau, draws, (seed, offset)) })
}

/// The `double` twin of `gumbel_rao_backward_f32`, same contract.
///
/// # Safety
/// As `gumbel_rao_backward_f32`, with doubles.
#[no_mangle]
pub unsafe extern "C" fn gumbel_rao_backward_f64(
    logits: *const f64,
    indices: *const i64,
    grad_out: *const f64,
    grad_logits: *mut f64,
    outer: usize,
    classes: usize,
    inner: usize,
    tau: f64,
    draws: usize,
    seed: u64,
    offset: u64,
) -> gumbel_status {
    let dims = [outer, classes, inner];
    let inputs = (logits, indices, grad_out);
    guard(|| unsafe { rao(inputs, grad_logits, dims, tau, draws, (seed, offset)) })
}

/// The bfloat16 twin of `gumbel_rao_backward_f32`: `logits`, `grad_out` and `grad_logits` hold
/// bfloat16 values (`uint16_t` bit patterns: the upper 16 bits of the float
/// they stand for); temperatures are floats.
/// `grad_logits` is the output of `gumbel_rao_backward_f32` on the 16-bit inputs widened
/// exactly to float (computed in float as there, with the same noise), each
/// value rounded once to nearest, ties to even. Shapes, values, statuses,
/// thread safety and "untouched on error" as `gumbel_rao_backward_f32`.
///
/// # Safety
/// As `gumbel_rao_backward_f32`, with `uint16_t` elements in place of the float
/// elements of the tensors.
#[no_mangle]
pub unsafe extern "C" fn gumbel_rao_backward_bf16(
    logits: *const u16,
    indices: *const i64,
    grad_out: *const u16,
    grad_logits: *mut u16,
    outer: usize,
    classes: usize,
    inner: usize,
    tau: f32,
    draws: usize,
    seed: u64,
    offset: u64,
) -> gumbel_status {
    let dims = [outer, classes, inner];
    let inputs = (logits.cast::<Bf16>(), indices, grad_out.cast::<Bf16>());
    let grad_logits = grad_logits.cast::<Bf16>();
    guard(|| unsafe { rao(inputs, grad_logits, dims, tau, draws, (seed, offset)) })
}

/// The float16 twin of `gumbel_rao_backward_f32`: `logits`, `grad_out` and `grad_logits` hold
/// IEEE 754 binary16 values (`uint16_t` bit patterns, the
/// storage of `_Float16`); temperatures are floats.
/// `grad_logits` is the output of `gumbel_rao_backward_f32` on the 16-bit inputs widened
/// exactly to float (computed in float as there, with the same noise), each
/// value rounded once to nearest, ties to even. Shapes, values, statuses,
/// thread safety and "untouched on error" as `gumbel_rao_backward_f32`.
///
/// # Safety
/// As `gumbel_rao_backward_f32`, with `uint16_t` elements in place of the float
/// elements of the tensors.
#[no_mangle]
pub unsafe extern "C" fn gumbel_rao_backward_f16(
    logits: *const u16,
    indices: *const i64,
    grad_out: *const u16,
    grad_logits: *mut u16,
    outer: usize,
    classes: usize,
    inner: usize,
    tau: f32,
    draws: usize,
    seed: u64,
    offset: u64,
) -> gumbel_status {
    let dims = [outer, classes, inner];
    let inputs = (logits.cast::<F16>(), indices, grad_out.cast::<F16>());
    let grad_logits = grad_logits.cast::<F16>();
    guard(|| unsafe { rao(inputs, grad_logits, dims, tau, draws, (seed, offset)) })
}

/// The ReinMax gradient of a hard sample (Liu et al. 2023, "Bridging
/// Discrete and Backpropagation: Straight-Through and Beyond", Algorithm 2;
/// second-order accurate, Heun's method where straight-through is forward
/// Euler): with `pi_0 = softmax(logits)`,
/// `pi_1 = (softmax(logits / tau) + onehot(d)) / 2` and
/// `J(p)^T v = p * (v - <v, p>)`,
/// `grad_logits = 2 J(pi_1)^T grad_out - J(pi_0)^T grad_out / 2` along the
/// class axis (no `1/tau` factor: `tau` moves the point `pi_1`; the authors
/// recommend `tau >= 1`, any `tau > 0` is accepted).
///
/// Shapes, values, statuses (without `GUMBEL_STATUS_INVALID_PARAMETER`),
/// thread safety and "untouched on error" as `gumbel_rao_backward_f32`;
/// `indices` are the forward's sampled classes. Deterministic.
///
/// # Safety
/// As `gumbel_rao_backward_f32`.
#[no_mangle]
pub unsafe extern "C" fn gumbel_reinmax_backward_f32(
    logits: *const f32,
    indices: *const i64,
    grad_out: *const f32,
    grad_logits: *mut f32,
    outer: usize,
    classes: usize,
    inner: usize,
    tau: f32,
) -> gumbel_status {
    let dims = [outer, classes, inner];
    guard(|| unsafe { reinmax((logits, indices, grad_out), grad_logits, dims, tau) })
}

/// The `double` twin of `gumbel_reinmax_backward_f32`, same contract.
///
/// # Safety
/// As `gumbel_reinmax_backward_f32`, with doubles.
#[no_mangle]
pub unsafe extern "C" fn gumbel_reinmax_backward_f64(
    logits: *const f64,
    indices: *const i64,
    grad_out: *const f64,
    grad_logits: *mut f64,
    outer: usize,
    classes: usize,
    inner: usize,
    tau: f64,
) -> gumbel_status {
    let dims = [outer, classes, inner];
    guard(|| unsafe { reinmax((logits, indices, grad_out), grad_logits, dims, tau) })
}

/// The bfloat16 twin of `gumbel_reinmax_backward_f32`: `logits`, `grad_out` and `grad_logits` hold
/// bfloat16 values (`uint16_t` bit patterns: the upper 16 bits of the float
/// they stand for); temperatures are floats.
/// `grad_logits` is the output of `gumbel_reinmax_backward_f32` on the 16-bit inputs widened
/// exactly to float (computed in float as there, with the same noise), each
/// value rounded once to nearest, ties to even. Shapes, values, statuses,
/// thread safety and "untouched on error" as `gumbel_reinmax_backward_f32`.
///
/// # Safety
/// As `gumbel_reinmax_backward_f32`, with `uint16_t` elements in place of the float
/// elements of the tensors.
#[no_mangle]
pub unsafe extern "C" fn gumbel_reinmax_backward_bf16(
    logits: *const u16,
    indices: *const i64,
    grad_out: *const u16,
    grad_logits: *mut u16,
    outer: usize,
    classes: usize,
    inner: usize,
    tau: f32,
) -> gumbel_status {
    let dims = [outer, classes, inner];
    let inputs = (logits.cast::<Bf16>(), indices, grad_out.cast::<Bf16>());
    guard(|| unsafe { reinmax(inputs, grad_logits.cast::<Bf16>(), dims, tau) })
}

/// The float16 twin of `gumbel_reinmax_backward_f32`: `logits`, `grad_out` and `grad_logits` hold
/// IEEE 754 binary16 values (`uint16_t` bit patterns, the
/// storage of `_Float16`); temperatures are floats.
/// `grad_logits` is the output of `gumbel_reinmax_backward_f32` on the 16-bit inputs widened
/// exactly to float (computed in float as there, with the same noise), each
/// value rounded once to nearest, ties to even. Shapes, values, statuses,
/// thread safety and "untouched on error" as `gumbel_reinmax_backward_f32`.
///
/// # Safety
/// As `gumbel_reinmax_backward_f32`, with `uint16_t` elements in place of the float
/// elements of the tensors.
#[no_mangle]
pub unsafe extern "C" fn gumbel_reinmax_backward_f16(
    logits: *const u16,
    indices: *const i64,
    grad_out: *const u16,
    grad_logits: *mut u16,
    outer: usize,
    classes: usize,
    inner: usize,
    tau: f32,
) -> gumbel_status {
    let dims = [outer, classes, inner];
    let inputs = (logits.cast::<F16>(), indices, grad_out.cast::<F16>());
    guard(|| unsafe { reinmax(inputs, grad_logits.cast::<F16>(), dims, tau) })
}

/// The gapped straight-through gradient of a hard sample (Fan et al. 2022,
/// "Training Discrete Deep Generative Models via Gapped Straight-Through
/// Estimator", section 4): a deterministic perturbation in place of Gumbel
/// noise, the smallest that makes the sampled class `d` the argmax by a
/// margin `gap`: `z_d = max logits`, `z_k = min(logits_k, max logits - gap)`
/// for `k != d`; then, with `y = softmax(z / tau)`,
/// `grad_logits = y * (grad_out - <grad_out, y>) / tau`.
///
/// `gap` is in logit units, finite and `>= 0` (the paper uses 1). Shapes,
/// values, thread safety and "untouched on error" as
/// `gumbel_rao_backward_f32`; statuses too, `GUMBEL_STATUS_INVALID_PARAMETER`
/// meaning a `gap` that is NaN, infinite or negative. Deterministic.
///
/// # Safety
/// As `gumbel_rao_backward_f32`.
#[no_mangle]
pub unsafe extern "C" fn gumbel_gapped_st_backward_f32(
    logits: *const f32,
    indices: *const i64,
    grad_out: *const f32,
    grad_logits: *mut f32,
    outer: usize,
    classes: usize,
    inner: usize,
    tau: f32,
    gap: f32,
) -> gumbel_status {
    let dims = [outer, classes, inner];
    guard(|| unsafe { gapped((logits, indices, grad_out), grad_logits, dims, tau, gap) })
}

/// The `double` twin of `gumbel_gapped_st_backward_f32`, same contract.
///
/// # Safety
/// As `gumbel_gapped_st_backward_f32`, with doubles.
#[no_mangle]
pub unsafe extern "C" fn gumbel_gapped_st_backward_f64(
    logits: *const f64,
    indices: *const i64,
    grad_out: *const f64,
    grad_logits: *mut f64,
    outer: usize,
    classes: usize,
    inner: usize,
    tau: f64,
    gap: f64,
) -> gumbel_status {
    let dims = [outer, classes, inner];
    guard(|| unsafe { gapped((logits, indices, grad_out), grad_logits, dims, tau, gap) })
}

/// The bfloat16 twin of `gumbel_gapped_st_backward_f32`: `logits`, `grad_out` and `grad_logits` hold
/// bfloat16 values (`uint16_t` bit patterns: the upper 16 bits of the float
/// they stand for); temperatures and `gap` are floats.
/// `grad_logits` is the output of `gumbel_gapped_st_backward_f32` on the 16-bit inputs widened
/// exactly to float (computed in float as there, with the same noise), each
/// value rounded once to nearest, ties to even. Shapes, values, statuses,
/// thread safety and "untouched on error" as `gumbel_gapped_st_backward_f32`.
///
/// # Safety
/// As `gumbel_gapped_st_backward_f32`, with `uint16_t` elements in place of the float
/// elements of the tensors.
#[no_mangle]
pub unsafe extern "C" fn gumbel_gapped_st_backward_bf16(
    logits: *const u16,
    indices: *const i64,
    grad_out: *const u16,
    grad_logits: *mut u16,
    outer: usize,
    classes: usize,
    inner: usize,
    tau: f32,
    gap: f32,
) -> gumbel_status {
    let dims = [outer, classes, inner];
    let inputs = (logits.cast::<Bf16>(), indices, grad_out.cast::<Bf16>());
    guard(|| unsafe { gapped(inputs, grad_logits.cast::<Bf16>(), dims, tau, gap) })
}

/// The float16 twin of `gumbel_gapped_st_backward_f32`: `logits`, `grad_out` and `grad_logits` hold
/// IEEE 754 binary16 values (`uint16_t` bit patterns, the
/// storage of `_Float16`); temperatures and `gap` are floats.
/// `grad_logits` is the output of `gumbel_gapped_st_backward_f32` on the 16-bit inputs widened
/// exactly to float (computed in float as there, with the same noise), each
/// value rounded once to nearest, ties to even. Shapes, values, statuses,
/// thread safety and "untouched on error" as `gumbel_gapped_st_backward_f32`.
///
/// # Safety
/// As `gumbel_gapped_st_backward_f32`, with `uint16_t` elements in place of the float
/// elements of the tensors.
#[no_mangle]
pub unsafe extern "C" fn gumbel_gapped_st_backward_f16(
    logits: *const u16,
    indices: *const i64,
    grad_out: *const u16,
    grad_logits: *mut u16,
    outer: usize,
    classes: usize,
    inner: usize,
    tau: f32,
    gap: f32,
) -> gumbel_status {
    let dims = [outer, classes, inner];
    let inputs = (logits.cast::<F16>(), indices, grad_out.cast::<F16>());
    guard(|| unsafe { gapped(inputs, grad_logits.cast::<F16>(), dims, tau, gap) })
}

/// The decoupled straight-through gradient of a hard Gumbel-Softmax sample
/// (Shah, Widdowson and Rosenbaum 2024, "Improving Discrete Optimisation Via
/// Decoupled Straight-Through Gumbel-Softmax"): the forward's hard sample
/// (whose class does not depend on its temperature) and a backward through
/// the soft sample of the same noise at a temperature of its own:
/// `grad_logits = y_b * (grad_out - <grad_out, y_b>) / tau_backward`, `y_b`
/// the output of `gumbel_softmax_f32(logits, .., tau_backward, hard = false,
/// seed, offset)` with the forward call's `(seed, offset)`. The same values
/// as that call followed by `gumbel_softmax_backward_f32` at `tau_backward`,
/// in one pass and without the intermediate tensor.
///
/// Shapes: `logits`, `grad_out` and `grad_logits` are row-major
/// `(outer, classes, inner)` tensors. Deterministic: the same bits for any
/// thread count.
///
/// Returns `GUMBEL_STATUS_OK`; `GUMBEL_STATUS_INVALID_SHAPE` if
/// `classes == 0`; `GUMBEL_STATUS_SIZE_OVERFLOW` if the element count
/// overflows; `GUMBEL_STATUS_NULL_POINTER` if a pointer is NULL with a
/// non-empty shape; `GUMBEL_STATUS_MISALIGNED_POINTER`;
/// `GUMBEL_STATUS_OVERLAP` if `grad_logits` overlaps an input;
/// `GUMBEL_STATUS_INVALID_TEMPERATURE` if `tau_backward` is NaN, infinite or
/// `<= 0`; `GUMBEL_STATUS_INVALID_LOGITS` for a NaN or `+inf` logit;
/// `GUMBEL_STATUS_ALL_MASKED` for a row of `-inf` logits;
/// `GUMBEL_STATUS_INVALID_VALUE` for a `grad_out` value that is not finite.
/// An empty shape is a no-op. `grad_logits` is untouched on error.
/// Thread-safe.
///
/// # Safety
/// `logits` and `grad_out` must point to `outer * classes * inner` readable
/// floats and `grad_logits` to as many writable ones (any may be NULL when
/// that is 0).
#[no_mangle]
pub unsafe extern "C" fn gumbel_decoupled_st_backward_f32(
    logits: *const f32,
    grad_out: *const f32,
    grad_logits: *mut f32,
    outer: usize,
    classes: usize,
    inner: usize,
    tau_backward: f32,
    seed: u64,
    offset: u64,
) -> gumbel_status {
    let dims = [outer, classes, inner];
    guard(|| unsafe {
        decoupled(
            logits,
            grad_out,
            grad_logits,
            dims,
            tau_backward,
            (seed, offset),
        )
    })
}

/// The `double` twin of `gumbel_decoupled_st_backward_f32`, same contract.
///
/// # Safety
/// As `gumbel_decoupled_st_backward_f32`, with doubles.
#[no_mangle]
pub unsafe extern "C" fn gumbel_decoupled_st_backward_f64(
    logits: *const f64,
    grad_out: *const f64,
    grad_logits: *mut f64,
    outer: usize,
    classes: usize,
    inner: usize,
    tau_backward: f64,
    seed: u64,
    offset: u64,
) -> gumbel_status {
    let dims = [outer, classes, inner];
    guard(|| unsafe {
        decoupled(
            logits,
            grad_out,
            grad_logits,
            dims,
            tau_backward,
            (seed, offset),
        )
    })
}

/// The bfloat16 twin of `gumbel_decoupled_st_backward_f32`: `logits`, `grad_out` and `grad_logits` hold
/// bfloat16 values (`uint16_t` bit patterns: the upper 16 bits of the float
/// they stand for); temperatures are floats.
/// `grad_logits` is the output of `gumbel_decoupled_st_backward_f32` on the 16-bit inputs widened
/// exactly to float (computed in float as there, with the same noise), each
/// value rounded once to nearest, ties to even. Shapes, values, statuses,
/// thread safety and "untouched on error" as `gumbel_decoupled_st_backward_f32`.
///
/// # Safety
/// As `gumbel_decoupled_st_backward_f32`, with `uint16_t` elements in place of the float
/// elements of the tensors.
#[no_mangle]
pub unsafe extern "C" fn gumbel_decoupled_st_backward_bf16(
    logits: *const u16,
    grad_out: *const u16,
    grad_logits: *mut u16,
    outer: usize,
    classes: usize,
    inner: usize,
    tau_backward: f32,
    seed: u64,
    offset: u64,
) -> gumbel_status {
    let dims = [outer, classes, inner];
    guard(|| unsafe {
        decoupled(
            logits.cast::<Bf16>(),
            grad_out.cast::<Bf16>(),
            grad_logits.cast::<Bf16>(),
            dims,
            tau_backward,
            (seed, offset),
        )
    })
}

/// The float16 twin of `gumbel_decoupled_st_backward_f32`: `logits`, `grad_out` and `grad_logits` hold
/// IEEE 754 binary16 values (`uint16_t` bit patterns, the
/// storage of `_Float16`); temperatures are floats.
/// `grad_logits` is the output of `gumbel_decoupled_st_backward_f32` on the 16-bit inputs widened
/// exactly to float (computed in float as there, with the same noise), each
/// value rounded once to nearest, ties to even. Shapes, values, statuses,
/// thread safety and "untouched on error" as `gumbel_decoupled_st_backward_f32`.
///
/// # Safety
/// As `gumbel_decoupled_st_backward_f32`, with `uint16_t` elements in place of the float
/// elements of the tensors.
#[no_mangle]
pub unsafe extern "C" fn gumbel_decoupled_st_backward_f16(
    logits: *const u16,
    grad_out: *const u16,
    grad_logits: *mut u16,
    outer: usize,
    classes: usize,
    inner: usize,
    tau_backward: f32,
    seed: u64,
    offset: u64,
) -> gumbel_status {
    let dims = [outer, classes, inner];
    guard(|| unsafe {
        decoupled(
            logits.cast::<F16>(),
            grad_out.cast::<F16>(),
            grad_logits.cast::<F16>(),
            dims,
            tau_backward,
            (seed, offset),
        )
    })
}

/// The checked buffers of an estimator's backward call.
struct Checked<F> {
    shape: Shape,
    logits: Buffer<F>,
    indices: Buffer<i64>,
    grad_out: Buffer<F>,
    grad_logits: Buffer<F>,
}

/// Checks the pointers and sizes of an estimator's backward call: the three
/// tensors of `outer * classes * inner` values, `outer * inner` indices,
/// and an output disjoint from every input.
fn checked<F>(
    logits: *const F,
    indices: *const i64,
    grad_out: *const F,
    grad_logits: *mut F,
    [outer, classes, inner]: [usize; 3],
) -> Result<Checked<F>> {
    let shape = Shape::new(outer, classes, inner)?;
    let logits = Buffer::new(logits, shape.len(), "logits")?;
    let indices = Buffer::new(indices, shape.rows(), "indices")?;
    let grad_out = Buffer::new(grad_out, shape.len(), "grad_out")?;
    let grad_logits = Buffer::new(grad_logits, shape.len(), "grad_logits")?;
    check_disjoint_from_all(
        &[(&logits, "logits"), (&grad_out, "grad_out")],
        &grad_logits,
        "grad_logits",
    )?;
    check_disjoint(&indices, "indices", &grad_logits, "grad_logits")?;
    Ok(Checked {
        shape,
        logits,
        indices,
        grad_out,
        grad_logits,
    })
}

unsafe fn rao<E: Element>(
    (logits, indices, grad_out): (*const E, *const i64, *const E),
    grad_logits: *mut E,
    dims: [usize; 3],
    tau: E::Compute,
    draws: usize,
    (seed, offset): (u64, u64),
) -> Result<()> {
    let c = checked(logits, indices, grad_out, grad_logits, dims)?;
    // SAFETY: sizes checked; validity is the caller's contract; the output
    // is disjoint from the inputs.
    unsafe {
        crate::gumbel_rao_backward(
            c.logits.as_slice(),
            c.indices.as_slice(),
            c.grad_out.as_slice(),
            c.grad_logits.as_mut_slice(),
            c.shape,
            tau,
            draws,
            seed,
            offset,
        )
    }
}

unsafe fn reinmax<E: Element>(
    (logits, indices, grad_out): (*const E, *const i64, *const E),
    grad_logits: *mut E,
    dims: [usize; 3],
    tau: E::Compute,
) -> Result<()> {
    let c = checked(logits, indices, grad_out, grad_logits, dims)?;
    // SAFETY: as in `rao`.
    unsafe {
        crate::reinmax_backward(
            c.logits.as_slice(),
            c.indices.as_slice(),
            c.grad_out.as_slice(),
            c.grad_logits.as_mut_slice(),
            c.shape,
            tau,
        )
    }
}

unsafe fn gapped<E: Element>(
    (logits, indices, grad_out): (*const E, *const i64, *const E),
    grad_logits: *mut E,
    dims: [usize; 3],
    tau: E::Compute,
    gap: E::Compute,
) -> Result<()> {
    let c = checked(logits, indices, grad_out, grad_logits, dims)?;
    // SAFETY: as in `rao`.
    unsafe {
        crate::gapped_straight_through_backward(
            c.logits.as_slice(),
            c.indices.as_slice(),
            c.grad_out.as_slice(),
            c.grad_logits.as_mut_slice(),
            c.shape,
            tau,
            gap,
        )
    }
}

unsafe fn conditional<E: Element>(
    logits: *const E,
    indices: *const i64,
    out: *mut E,
    [outer, classes, inner]: [usize; 3],
    draws: usize,
    (seed, offset): (u64, u64),
) -> Result<()> {
    let shape = Shape::new(outer, classes, inner)?;
    let len = draws.checked_mul(shape.len()).ok_or_else(|| {
        Error::new(
            ErrorKind::SizeOverflow,
            format!(
                "out: draws * elements overflows ({draws} x {})",
                shape.len()
            ),
        )
    })?;
    let logits = Buffer::new(logits, shape.len(), "logits")?;
    let indices = Buffer::new(indices, shape.rows(), "indices")?;
    let out = Buffer::new(out, len, "out")?;
    check_disjoint(&logits, "logits", &out, "out")?;
    check_disjoint(&indices, "indices", &out, "out")?;
    // SAFETY: sizes checked; validity is the caller's contract; disjoint.
    unsafe {
        crate::gumbel_conditional(
            logits.as_slice(),
            indices.as_slice(),
            out.as_mut_slice(),
            shape,
            draws,
            seed,
            offset,
        )
    }
}

unsafe fn decoupled<E: Element>(
    logits: *const E,
    grad_out: *const E,
    grad_logits: *mut E,
    [outer, classes, inner]: [usize; 3],
    tau_backward: E::Compute,
    (seed, offset): (u64, u64),
) -> Result<()> {
    let shape = Shape::new(outer, classes, inner)?;
    let logits = Buffer::new(logits, shape.len(), "logits")?;
    let grad_out = Buffer::new(grad_out, shape.len(), "grad_out")?;
    let out = Buffer::new(grad_logits, shape.len(), "grad_logits")?;
    check_disjoint_from_all(
        &[(&logits, "logits"), (&grad_out, "grad_out")],
        &out,
        "grad_logits",
    )?;
    // SAFETY: sizes checked; validity is the caller's contract; disjoint.
    unsafe {
        crate::decoupled_straight_through_backward(
            logits.as_slice(),
            grad_out.as_slice(),
            out.as_mut_slice(),
            shape,
            tau_backward,
            seed,
            offset,
        )
    }
}
