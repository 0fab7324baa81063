//! Keyed rows: one `(seed, offset)` key per row, each row drawing what a
//! one-row call with its key draws (batch invariance for inference engines).

use super::boundary::guard;
use super::buffer::{check_disjoint_from_all, Buffer};
use super::categorical::buffers;
use super::status::gumbel_status;
use crate::error::Result;
use crate::Float;
use crate::Shape;

/// Gumbel-max sample with one key per row (batch invariance): `indices[r]`
/// is exactly the index that the one-row call
/// `gumbel_sample_f32(logits + r * classes, .., 1, classes, 1, seeds[r],
/// offsets[r])` writes, whatever the other rows of the batch, their order
/// or their number: `argmax_k (logits[r][k] + g_k)`, an exact draw from
/// `Categorical(softmax(logits[r]))` (Gumbel 1954; Maddison et al. 2014).
///
/// Keying a request (inference engines): give each request one `seed` for
/// its lifetime (e.g. the user's seed, or a hash of the request id) and an
/// offset per decoding step, `offsets[r] = start + step *
/// gumbel_streams(1, classes, 1)`, so that no two steps share a stream and
/// the request's tokens do not depend on the batch it is scheduled into.
/// Two requests with the same `(seed, offset)` and logits draw the same
/// token.
///
/// Shapes: `logits` is a row-major `(rows, classes)` matrix; `indices`,
/// `seeds` and `offsets` have `rows` entries. Every index is in
/// `[0, classes)` and never a masked (`-inf`) class; ties go to the lowest
/// index. Row `r` consumes `gumbel_streams(1, classes, 1)` stream ids from
/// `offsets[r]` under `seeds[r]`. Rows run in parallel; nothing is allocated
/// per call beyond the per-thread scratch the one-row call uses.
///
/// Returns `GUMBEL_STATUS_OK`; `GUMBEL_STATUS_INVALID_SHAPE` if
/// `classes == 0`; `GUMBEL_STATUS_SIZE_OVERFLOW` if `rows * classes`
/// overflows; `GUMBEL_STATUS_NULL_POINTER` if `logits`, `indices`, `seeds`
/// or `offsets` is NULL with `rows > 0`; `GUMBEL_STATUS_MISALIGNED_POINTER`;
/// `GUMBEL_STATUS_OVERLAP` if `indices` overlaps `logits`, `seeds` or
/// `offsets`; `GUMBEL_STATUS_INVALID_LOGITS` if a logit is NaN or `+inf`;
/// `GUMBEL_STATUS_ALL_MASKED` if a row is entirely `-inf`. `rows == 0` is a
/// no-op; `GUMBEL_STATUS_PANIC` on an internal error. `indices` is untouched
/// on error. Thread-safe.
///
/// # Safety
/// `logits` must point to `rows * classes` readable floats, `indices` to
/// `rows` writable `int64_t`, `seeds` and `offsets` to `rows` readable
/// `uint64_t` each (any may be NULL when `rows == 0`).
#[no_mangle]
pub unsafe extern "C" fn gumbel_sample_keyed_f32(
    logits: *const f32,
    indices: *mut i64,
    rows: usize,
    classes: usize,
    seeds: *const u64,
    offsets: *const u64,
) -> gumbel_status {
    guard(|| unsafe { sample_keyed(logits, indices, [rows, classes], seeds, offsets) })
}

/// The `double` twin of `gumbel_sample_keyed_f32`, same contract
/// (`gumbel_sample_f64` per row).
///
/// # Safety
/// As `gumbel_sample_keyed_f32`, with double logits.
#[no_mangle]
pub unsafe extern "C" fn gumbel_sample_keyed_f64(
    logits: *const f64,
    indices: *mut i64,
    rows: usize,
    classes: usize,
    seeds: *const u64,
    offsets: *const u64,
) -> gumbel_status {
    guard(|| unsafe { sample_keyed(logits, indices, [rows, classes], seeds, offsets) })
}

/// Gumbel-Softmax sample with one key per row (batch invariance): row `r`
/// of `out` is exactly what the one-row call
/// `gumbel_softmax_f32(logits + r * classes, out + r * classes, 1, classes,
/// 1, tau, hard, seeds[r], offsets[r])` writes:
/// `softmax((logits[r] + g) / tau)` (Jang et al. 2017, eq. 1; Maddison et
/// al. 2017, eq. 10), or with `hard` the exact one-hot of
/// `argmax_k (logits[r][k] + g_k)`, at the index `gumbel_sample_keyed_f32`
/// returns for the same keys. Key requests as for `gumbel_sample_keyed_f32`.
///
/// Shapes: `logits` and `out` are row-major `(rows, classes)` matrices;
/// `seeds` and `offsets` have `rows` entries. Values: as
/// `gumbel_softmax_f32` (`tau` finite and `> 0`; `-inf` logits get exactly
/// 0). The gradient of a keyed sample is that of the one-row sample
/// (`gumbel_softmax_backward_f32` on the soft rows). Row `r` consumes
/// `gumbel_streams(1, classes, 1)` stream ids from `offsets[r]`.
///
/// Returns `GUMBEL_STATUS_OK`; `GUMBEL_STATUS_INVALID_SHAPE` if
/// `classes == 0`; `GUMBEL_STATUS_SIZE_OVERFLOW` if `rows * classes`
/// overflows; `GUMBEL_STATUS_NULL_POINTER` if `logits`, `out`, `seeds` or
/// `offsets` is NULL with `rows > 0`; `GUMBEL_STATUS_MISALIGNED_POINTER`;
/// `GUMBEL_STATUS_OVERLAP` if `out` overlaps `logits`, `seeds` or
/// `offsets`; `GUMBEL_STATUS_INVALID_TEMPERATURE` if `tau` is NaN, infinite
/// or `<= 0`; `GUMBEL_STATUS_INVALID_LOGITS` if a logit is NaN or `+inf`;
/// `GUMBEL_STATUS_ALL_MASKED` if a row is entirely `-inf`. `rows == 0` is a
/// no-op; `GUMBEL_STATUS_PANIC` on an internal error. `out` is untouched on
/// error. Thread-safe.
///
/// # Safety
/// `logits` must point to `rows * classes` readable floats, `out` to as
/// many writable ones, `seeds` and `offsets` to `rows` readable `uint64_t`
/// each (any may be NULL when `rows == 0`).
#[no_mangle]
pub unsafe extern "C" fn gumbel_softmax_keyed_f32(
    logits: *const f32,
    out: *mut f32,
    rows: usize,
    classes: usize,
    tau: f32,
    hard: bool,
    seeds: *const u64,
    offsets: *const u64,
) -> gumbel_status {
    guard(|| unsafe { softmax_keyed(logits, out, [rows, classes], tau, hard, seeds, offsets) })
}

/// The `double` twin of `gumbel_softmax_keyed_f32`, same contract
/// (`gumbel_softmax_f64` per row).
///
/// # Safety
/// As `gumbel_softmax_keyed_f32`, with doubles.
#[no_mangle]
pub unsafe extern "C" fn gumbel_softmax_keyed_f64(
    logits: *const f64,
    out: *mut f64,
    rows: usize,
    classes: usize,
    tau: f64,
    hard: bool,
    seeds: *const u64,
    offsets: *const u64,
) -> gumbel_status {
    guard(|| unsafe { softmax_keyed(logits, out, [rows, classes], tau, hard, seeds, offsets) })
}

/// Checks the per-row keys (`rows` seeds and offsets) of a call whose
/// output `out` must not overlap them.
pub(super) fn keys<O>(
    seeds: *const u64,
    offsets: *const u64,
    shape: &Shape,
    out: &Buffer<O>,
    out_name: &str,
) -> Result<(Buffer<u64>, Buffer<u64>)> {
    let seeds = Buffer::new(seeds, shape.rows(), "seeds")?;
    let offsets = Buffer::new(offsets, shape.rows(), "offsets")?;
    check_disjoint_from_all(&[(&seeds, "seeds"), (&offsets, "offsets")], out, out_name)?;
    Ok((seeds, offsets))
}

unsafe fn sample_keyed<F: Float>(
    logits: *const F,
    indices: *mut i64,
    [rows, classes]: [usize; 2],
    seeds: *const u64,
    offsets: *const u64,
) -> Result<()> {
    let (shape, logits, indices) =
        buffers(logits, indices, [rows, classes, 1], "indices", Shape::rows)?;
    let (seeds, offsets) = keys(seeds, offsets, &shape, &indices, "indices")?;
    // SAFETY: sizes checked; validity is the caller's contract; the output
    // is disjoint from every input.
    unsafe {
        crate::sample_keyed(
            logits.as_slice(),
            indices.as_mut_slice(),
            shape,
            seeds.as_slice(),
            offsets.as_slice(),
        )
    }
}

unsafe fn softmax_keyed<F: Float>(
    logits: *const F,
    out: *mut F,
    [rows, classes]: [usize; 2],
    tau: F,
    hard: bool,
    seeds: *const u64,
    offsets: *const u64,
) -> Result<()> {
    let (shape, logits, out) = buffers(logits, out, [rows, classes, 1], "out", Shape::len)?;
    let (seeds, offsets) = keys(seeds, offsets, &shape, &out, "out")?;
    // SAFETY: sizes checked; validity is the caller's contract; the output
    // is disjoint from every input.
    unsafe {
        crate::gumbel_softmax_keyed(
            logits.as_slice(),
            out.as_mut_slice(),
            shape,
            tau,
            hard,
            seeds.as_slice(),
            offsets.as_slice(),
        )
    }
}
