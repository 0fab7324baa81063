//! Gumbel-top-k: ordered samples without replacement, with a key per call
//! or per row, and their Plackett-Luce log-probability.

use super::boundary::guard;
use super::buffer::{check_disjoint, Buffer};
use super::keyed::keys;
use super::status::gumbel_status;
use crate::error::{Error, ErrorKind, Result};
use crate::Float;
use crate::Shape;

/// Gumbel-top-k (Kool, van Hoof and Welling 2019, "Stochastic Beams and
/// Where to Find Them", sec. 2): the `k` classes of largest perturbed logit
/// `logits + g` of every row, in decreasing order: an exact ordered sample
/// of `k` classes without replacement from `Categorical(softmax(logits))`,
/// i.e. sequence `s_1..s_k` has the Plackett-Luce probability
/// `prod_i exp(l_{s_i}) / sum_{c not in s_1..s_{i-1}} exp(l_c)`
/// (`gumbel_plackett_luce_log_prob_f32` gives its logarithm).
///
/// Shapes: `logits` is a row-major `(outer, classes, inner)` tensor as in
/// `gumbel_sample_f32`; `indices` has `outer * inner * k` entries, row by
/// row in row order `(o, i)`: rank `j` of row `r = o * inner + i` is
/// `indices[r * k + j]`, rank 0 the largest. Ties go to the lower index.
/// Masked (`-inf`) classes never appear.
///
/// Randomness: `g` is exactly the noise of `gumbel_sample_f32` on the same
/// shape with the same `(seed, offset)`, so rank 0 of every row is
/// `gumbel_sample_f32`'s index. Consumes `gumbel_streams(outer, classes,
/// inner)` stream ids. Cost: one pass over each row and a heap of `k`
/// classes (no sort of the row).
///
/// Returns `GUMBEL_STATUS_OK`; `GUMBEL_STATUS_INVALID_SHAPE` if
/// `classes == 0`; `GUMBEL_STATUS_SIZE_OVERFLOW` if the element count or
/// `outer * inner * k` overflows; `GUMBEL_STATUS_NULL_POINTER` if `logits`
/// or `indices` is NULL with a non-empty shape (and `k > 0` for
/// `indices`); `GUMBEL_STATUS_MISALIGNED_POINTER`; `GUMBEL_STATUS_OVERLAP`
/// if `logits` and `indices` overlap; `GUMBEL_STATUS_INVALID_PARAMETER` if
/// `k > classes`, or if some row has fewer than `k` unmasked classes (no
/// sample without replacement of `k` classes exists; the message names the
/// row); `GUMBEL_STATUS_INVALID_LOGITS` if a logit is NaN or `+inf`;
/// `GUMBEL_STATUS_ALL_MASKED` if a row is entirely `-inf`. An empty shape
/// or `k == 0` writes nothing; `GUMBEL_STATUS_PANIC` on an internal error.
/// `indices` is untouched on error. Thread-safe.
///
/// # Safety
/// `logits` must point to `outer * classes * inner` readable floats and
/// `indices` to `outer * inner * k` writable `int64_t`.
#[no_mangle]
pub unsafe extern "C" fn gumbel_top_k_f32(
    logits: *const f32,
    indices: *mut i64,
    outer: usize,
    classes: usize,
    inner: usize,
    k: usize,
    seed: u64,
    offset: u64,
) -> gumbel_status {
    guard(|| unsafe { top_k(logits, indices, [outer, classes, inner], k, seed, offset) })
}

/// The `double` twin of `gumbel_top_k_f32`, same contract (rank 0 is
/// `gumbel_sample_f64`'s index).
///
/// # Safety
/// As `gumbel_top_k_f32`, with double logits.
#[no_mangle]
pub unsafe extern "C" fn gumbel_top_k_f64(
    logits: *const f64,
    indices: *mut i64,
    outer: usize,
    classes: usize,
    inner: usize,
    k: usize,
    seed: u64,
    offset: u64,
) -> gumbel_status {
    guard(|| unsafe { top_k(logits, indices, [outer, classes, inner], k, seed, offset) })
}

/// Gumbel-top-k with one key per row (batch invariance): the `k` indices of
/// row `r` of the `(rows, classes)` matrix `logits` are exactly what the
/// one-row call `gumbel_top_k_f32(logits + r * classes, .., 1, classes, 1,
/// k, seeds[r], offsets[r])` writes, whatever the other rows; rank 0 is
/// `gumbel_sample_keyed_f32`'s index. Key requests as for
/// `gumbel_sample_keyed_f32`.
///
/// Shapes: `indices` has `rows * k` entries (`indices[r * k + j]` is rank
/// `j` of row `r`); `seeds` and `offsets` have `rows` entries.
///
/// Returns the statuses of `gumbel_top_k_f32`, and
/// `GUMBEL_STATUS_NULL_POINTER` if `seeds` or `offsets` is NULL with
/// `rows > 0`, `GUMBEL_STATUS_OVERLAP` if `indices` overlaps `seeds` or
/// `offsets`. `indices` is untouched on error. Thread-safe.
///
/// # Safety
/// `logits` must point to `rows * classes` readable floats, `indices` to
/// `rows * k` writable `int64_t`, `seeds` and `offsets` to `rows` readable
/// `uint64_t` each.
#[no_mangle]
pub unsafe extern "C" fn gumbel_top_k_keyed_f32(
    logits: *const f32,
    indices: *mut i64,
    rows: usize,
    classes: usize,
    k: usize,
    seeds: *const u64,
    offsets: *const u64,
) -> gumbel_status {
    guard(|| unsafe { top_k_keyed(logits, indices, [rows, classes], k, seeds, offsets) })
}

/// The `double` twin of `gumbel_top_k_keyed_f32`, same contract.
///
/// # Safety
/// As `gumbel_top_k_keyed_f32`, with double logits.
#[no_mangle]
pub unsafe extern "C" fn gumbel_top_k_keyed_f64(
    logits: *const f64,
    indices: *mut i64,
    rows: usize,
    classes: usize,
    k: usize,
    seeds: *const u64,
    offsets: *const u64,
) -> gumbel_status {
    guard(|| unsafe { top_k_keyed(logits, indices, [rows, classes], k, seeds, offsets) })
}

/// The Plackett-Luce log-probability of ordered samples without
/// replacement (Plackett 1975; Luce 1959; Kool et al. 2019, sec. 2): for
/// each row `r` with the `k` classes `s_1..s_k = indices[r * k ..
/// r * k + k]`, `out[r] = sum_i [l_{s_i} - ln sum_{c not in s_1..s_{i-1}}
/// exp(l_c)]`, the natural log of the probability that `gumbel_top_k_f32`
/// draws exactly this sequence (for `k == 1`, `log_softmax(logits)[s_1]`).
///
/// Shapes: `logits` is a row-major `(outer, classes, inner)` tensor;
/// `indices` has `outer * inner * k` entries laid out as
/// `gumbel_top_k_f32` writes them; `out` has `outer * inner`. Values:
/// computed in double without cancellation (the mass left at each rank is
/// a sum of positive terms); a masked (`-inf`) chosen class gives `-inf`;
/// `k == 0` gives 0.
///
/// Returns `GUMBEL_STATUS_OK`; `GUMBEL_STATUS_INVALID_SHAPE` if
/// `classes == 0`; `GUMBEL_STATUS_SIZE_OVERFLOW`;
/// `GUMBEL_STATUS_NULL_POINTER` if `logits`, `indices` (with `k > 0`) or
/// `out` is NULL with a non-empty shape; `GUMBEL_STATUS_MISALIGNED_POINTER`;
/// `GUMBEL_STATUS_OVERLAP` if `out` overlaps `logits` or `indices`;
/// `GUMBEL_STATUS_INVALID_PARAMETER` if `k > classes`;
/// `GUMBEL_STATUS_INVALID_VALUE` if an index is outside `[0, classes)` or
/// a row repeats a class (the message names row and rank);
/// `GUMBEL_STATUS_INVALID_LOGITS` if a logit is NaN or `+inf`;
/// `GUMBEL_STATUS_ALL_MASKED` if a row is entirely `-inf`;
/// `GUMBEL_STATUS_PANIC` on an internal error. `out` is untouched on error.
/// Thread-safe.
///
/// # Safety
/// `logits` must point to `outer * classes * inner` readable floats,
/// `indices` to `outer * inner * k` readable `int64_t` and `out` to
/// `outer * inner` writable floats.
#[no_mangle]
pub unsafe extern "C" fn gumbel_plackett_luce_log_prob_f32(
    logits: *const f32,
    indices: *const i64,
    out: *mut f32,
    outer: usize,
    classes: usize,
    inner: usize,
    k: usize,
) -> gumbel_status {
    guard(|| unsafe { log_prob(logits, indices, out, [outer, classes, inner], k) })
}

/// The `double` twin of `gumbel_plackett_luce_log_prob_f32`, same contract.
///
/// # Safety
/// As `gumbel_plackett_luce_log_prob_f32`, with doubles.
#[no_mangle]
pub unsafe extern "C" fn gumbel_plackett_luce_log_prob_f64(
    logits: *const f64,
    indices: *const i64,
    out: *mut f64,
    outer: usize,
    classes: usize,
    inner: usize,
    k: usize,
) -> gumbel_status {
    guard(|| unsafe { log_prob(logits, indices, out, [outer, classes, inner], k) })
}

/// `rows * k`, the length of a top-k index buffer.
fn indices_len(shape: &Shape, k: usize) -> Result<usize> {
    shape.rows().checked_mul(k).ok_or_else(|| {
        Error::new(
            ErrorKind::SizeOverflow,
            format!("rows * k overflows ({} rows, k {k})", shape.rows()),
        )
    })
}

/// Checks the logits and the top-k indices of a call.
fn checked<F>(
    logits: *const F,
    indices: *const i64,
    [outer, classes, inner]: [usize; 3],
    k: usize,
) -> Result<(Shape, Buffer<F>, Buffer<i64>)> {
    let shape = Shape::new(outer, classes, inner)?;
    let logits = Buffer::new(logits, shape.len(), "logits")?;
    let indices = Buffer::new(indices, indices_len(&shape, k)?, "indices")?;
    check_disjoint(&logits, "logits", &indices, "indices")?;
    Ok((shape, logits, indices))
}

unsafe fn top_k<F: Float>(
    logits: *const F,
    indices: *mut i64,
    dims: [usize; 3],
    k: usize,
    seed: u64,
    offset: u64,
) -> Result<()> {
    let (shape, logits, indices) = checked(logits, indices, dims, k)?;
    // SAFETY: sizes checked; validity is the caller's contract; disjoint.
    unsafe {
        crate::top_k(
            logits.as_slice(),
            indices.as_mut_slice(),
            shape,
            k,
            seed,
            offset,
        )
    }
}

unsafe fn top_k_keyed<F: Float>(
    logits: *const F,
    indices: *mut i64,
    [rows, classes]: [usize; 2],
    k: usize,
    seeds: *const u64,
    offsets: *const u64,
) -> Result<()> {
    let (shape, logits, indices) = checked(logits, indices, [rows, classes, 1], k)?;
    let (seeds, offsets) = keys(seeds, offsets, &shape, &indices, "indices")?;
    // SAFETY: sizes checked; validity is the caller's contract; the output
    // is disjoint from every input.
    unsafe {
        crate::top_k_keyed(
            logits.as_slice(),
            indices.as_mut_slice(),
            shape,
            k,
            seeds.as_slice(),
            offsets.as_slice(),
        )
    }
}

unsafe fn log_prob<F: Float>(
    logits: *const F,
    indices: *const i64,
    out: *mut F,
    dims: [usize; 3],
    k: usize,
) -> Result<()> {
    let (shape, logits, indices) = checked(logits, indices, dims, k)?;
    let out = Buffer::new(out, shape.rows(), "out")?;
    check_disjoint(&logits, "logits", &out, "out")?;
    check_disjoint(&indices, "indices", &out, "out")?;
    // SAFETY: sizes checked; validity is the caller's contract; `out` is
    // disjoint from both inputs.
    unsafe {
        crate::plackett_luce_log_prob(
            logits.as_slice(),
            indices.as_slice(),
            out.as_mut_slice(),
            shape,
            k,
        )
    }
}
