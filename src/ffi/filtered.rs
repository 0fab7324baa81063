//! Filtered sampling for inference engines: per-row temperature, top-k,
//! top-p and min-p, then an exact keyed Gumbel-max draw.

use super::boundary::guard;
use super::buffer::{check_disjoint, Buffer};
use super::status::gumbel_status;
use crate::error::Result;
use crate::ops::filtered::{FilteredSample, Filters};
use crate::Float;
use crate::Shape;

/// Samples one token per row after the row's temperature and truncation
/// filters, with one key per row (batch invariance), returning the token's
/// log-probability under the raw and under the processed distribution.
///
/// Per row `r` (its logits `l`, `m = max l`, temperature `T`): the
/// processed logits are `x = (l - m) / T`, then
/// 1. top-k keeps the classes with `x` at least the `k`-th largest value
///    (classes tied with it stay, so more than `k` may remain), and min-p
///    keeps those with `exp(x) >= min_p`, i.e. probability at least `min_p`
///    times the most likely class's (Nguyen et al. 2024, sec. 3); both keep
///    a prefix of the classes by logit, so they commute;
/// 2. top-p then keeps, of those, the smallest set of most likely classes
///    whose mass reaches `top_p` of their renormalised mass (Holtzman et al.
///    2020, eq. 2): a class stays if the mass strictly above it is below
///    `top_p` times the kept mass (ties with the last kept class stay);
/// 3. the removed classes get `x = -inf`, and the index is exactly what
///    `gumbel_sample_keyed_f32` draws on the row `x` with `(seeds[r],
///    offsets[r])`: an exact sample from `softmax(x)`, the renormalised
///    truncated softmax of `l / T` (Gumbel-max: Gumbel 1954; Maddison et al.
///    2014). With no filter and `T = 1` it is `gumbel_sample_keyed_f32`'s
///    index on `logits`. `T = 0` is greedy: the first largest logit, no
///    randomness, processed log-probability 0.
///
/// Why this order: temperature first, so that every truncation acts on the
/// distribution that is sampled (min-p's ratio and top-p's mass hold for the
/// sampling probabilities), and top-p last, on what top-k and min-p left, as
/// vLLM does (temperature, min-p, top-k, top-p). llama.cpp's default chain
/// applies top-k, top-p, min-p and only then the temperature, so at `T != 1`
/// it truncates a different distribution. No step sorts the vocabulary:
/// top-k is a heap of `k` classes, min-p a threshold, top-p a linear-time
/// selection by mass over the classes left. Masses and log-normalisers are
/// computed in float.
///
/// Shapes: `logits` is a row-major `(rows, classes)` matrix; `indices`,
/// `seeds`, `offsets` and every non-NULL `log_probs`,
/// `processed_log_probs`, `temperatures`, `top_k`, `top_p`, `min_p` have
/// `rows` entries. `log_probs[r] = log_softmax(logits[r])[indices[r]]`
/// (raw model); `processed_log_probs[r]` is the log-probability of
/// `indices[r]` under `softmax(x)`. Either output may be NULL (not
/// computed). A NULL parameter array turns its filter off for every row
/// (temperature 1). Per-row values: `temperatures[r]` finite and `>= 0`;
/// `top_k[r] >= 0`, 0 = off (as is any `k` at least the row's unmasked
/// classes); `top_p[r]` in `(0, 1]`, 1 = off; `min_p[r]` in `[0, 1]`,
/// 0 = off. Every index is in `[0, classes)` and never a masked (`-inf`) or
/// filtered-out class. Row `r` consumes `gumbel_streams(1, classes, 1)`
/// stream ids from `offsets[r]`; key requests as for
/// `gumbel_sample_keyed_f32` (a seed per request, an offset per step).
///
/// Returns `GUMBEL_STATUS_OK`; `GUMBEL_STATUS_INVALID_SHAPE` if
/// `classes == 0`; `GUMBEL_STATUS_SIZE_OVERFLOW` if `rows * classes`
/// overflows; `GUMBEL_STATUS_NULL_POINTER` if `logits`, `indices`, `seeds`
/// or `offsets` is NULL with `rows > 0`; `GUMBEL_STATUS_MISALIGNED_POINTER`;
/// `GUMBEL_STATUS_OVERLAP` if an output overlaps an input or another
/// output; `GUMBEL_STATUS_INVALID_TEMPERATURE` for a temperature that is
/// negative, NaN or infinite; `GUMBEL_STATUS_INVALID_PARAMETER` for a
/// negative top-k, a top-p outside `(0, 1]` or a min-p outside `[0, 1]`
/// (the message names the row); `GUMBEL_STATUS_INVALID_LOGITS` if a logit
/// is NaN or `+inf`; `GUMBEL_STATUS_ALL_MASKED` if a row is entirely
/// `-inf`. `rows == 0` is a no-op; `GUMBEL_STATUS_PANIC` on an internal
/// error. The outputs are untouched on error. Thread-safe; rows run in
/// parallel, nothing is allocated per call beyond per-thread scratch.
///
/// # Safety
/// `logits` must point to `rows * classes` readable floats, `indices` to
/// `rows` writable `int64_t`, `seeds` and `offsets` to `rows` readable
/// `uint64_t` each, and every non-NULL optional array to `rows` entries
/// (readable inputs, writable outputs).
#[no_mangle]
pub unsafe extern "C" fn gumbel_sample_filtered_f32(
    logits: *const f32,
    indices: *mut i64,
    log_probs: *mut f32,
    processed_log_probs: *mut f32,
    rows: usize,
    classes: usize,
    temperatures: *const f32,
    top_k: *const i64,
    top_p: *const f32,
    min_p: *const f32,
    seeds: *const u64,
    offsets: *const u64,
) -> gumbel_status {
    guard(|| unsafe {
        sample_filtered(
            logits,
            (indices, log_probs, processed_log_probs),
            [rows, classes],
            (temperatures, top_k, top_p, min_p),
            seeds,
            offsets,
        )
    })
}

/// The `double` twin of `gumbel_sample_filtered_f32`, same contract, with
/// double logits, log-probabilities, temperatures, top-p and min-p.
///
/// # Safety
/// As `gumbel_sample_filtered_f32`, with doubles.
#[no_mangle]
pub unsafe extern "C" fn gumbel_sample_filtered_f64(
    logits: *const f64,
    indices: *mut i64,
    log_probs: *mut f64,
    processed_log_probs: *mut f64,
    rows: usize,
    classes: usize,
    temperatures: *const f64,
    top_k: *const i64,
    top_p: *const f64,
    min_p: *const f64,
    seeds: *const u64,
    offsets: *const u64,
) -> gumbel_status {
    guard(|| unsafe {
        sample_filtered(
            logits,
            (indices, log_probs, processed_log_probs),
            [rows, classes],
            (temperatures, top_k, top_p, min_p),
            seeds,
            offsets,
        )
    })
}

/// An optional per-row array: NULL is `None` whatever `rows`.
fn optional<T>(ptr: *const T, rows: usize, name: &str) -> Result<Option<Buffer<T>>> {
    if ptr.is_null() {
        return Ok(None);
    }
    Buffer::new(ptr, rows, name).map(Some)
}

/// The outputs: indices, raw and processed log-probabilities.
type Outputs<F> = (*mut i64, *mut F, *mut F);

/// The per-row parameter arrays: temperatures, top-k, top-p, min-p.
type Parameters<F> = (*const F, *const i64, *const F, *const F);

/// The checked inputs of a call.
struct Inputs<F> {
    logits: Buffer<F>,
    seeds: Buffer<u64>,
    offsets: Buffer<u64>,
    temperatures: Option<Buffer<F>>,
    top_k: Option<Buffer<i64>>,
    top_p: Option<Buffer<F>>,
    min_p: Option<Buffer<F>>,
}

impl<F> Inputs<F> {
    /// Checks that `output` overlaps no input.
    fn check_disjoint<O>(&self, output: &Buffer<O>, output_name: &str) -> Result<()> {
        check_disjoint(&self.logits, "logits", output, output_name)?;
        check_disjoint(&self.seeds, "seeds", output, output_name)?;
        check_disjoint(&self.offsets, "offsets", output, output_name)?;
        if let Some(top_k) = &self.top_k {
            check_disjoint(top_k, "top_k", output, output_name)?;
        }
        for (input, name) in [
            (&self.temperatures, "temperatures"),
            (&self.top_p, "top_p"),
            (&self.min_p, "min_p"),
        ] {
            if let Some(input) = input {
                check_disjoint(input, name, output, output_name)?;
            }
        }
        Ok(())
    }
}

unsafe fn sample_filtered<F: Float>(
    logits: *const F,
    (indices, log_probs, processed): Outputs<F>,
    [rows, classes]: [usize; 2],
    (temperatures, top_k, top_p, min_p): Parameters<F>,
    seeds: *const u64,
    offsets: *const u64,
) -> Result<()> {
    let shape = Shape::new(rows, classes, 1)?;
    let inputs = Inputs {
        logits: Buffer::new(logits, shape.len(), "logits")?,
        seeds: Buffer::new(seeds, rows, "seeds")?,
        offsets: Buffer::new(offsets, rows, "offsets")?,
        temperatures: optional(temperatures, rows, "temperatures")?,
        top_k: optional(top_k, rows, "top_k")?,
        top_p: optional(top_p, rows, "top_p")?,
        min_p: optional(min_p, rows, "min_p")?,
    };
    let indices = Buffer::new(indices, rows, "indices")?;
    let log_probs = optional(log_probs, rows, "log_probs")?;
    let processed = optional(processed, rows, "processed_log_probs")?;
    inputs.check_disjoint(&indices, "indices")?;
    for (output, name) in [
        (&log_probs, "log_probs"),
        (&processed, "processed_log_probs"),
    ] {
        if let Some(output) = output {
            inputs.check_disjoint(output, name)?;
            check_disjoint(&indices, "indices", output, name)?;
        }
    }
    if let (Some(a), Some(b)) = (&log_probs, &processed) {
        check_disjoint(a, "log_probs", b, "processed_log_probs")?;
    }
    let slice = |b: &Option<Buffer<F>>| b.as_ref().map(|b| b.as_slice());
    // SAFETY: sizes checked; validity is the caller's contract; every
    // output is disjoint from every input and from the other outputs.
    unsafe {
        crate::sample_filtered(
            inputs.logits.as_slice(),
            FilteredSample {
                indices: indices.as_mut_slice(),
                log_probs: log_probs.as_ref().map(|b| b.as_mut_slice()),
                processed_log_probs: processed.as_ref().map(|b| b.as_mut_slice()),
            },
            shape,
            Filters {
                temperatures: slice(&inputs.temperatures),
                top_k: inputs.top_k.as_ref().map(|b| b.as_slice()),
                top_p: slice(&inputs.top_p),
                min_p: slice(&inputs.min_p),
            },
            inputs.seeds.as_slice(),
            inputs.offsets.as_slice(),
        )
    }
}
