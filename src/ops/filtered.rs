//! Filtered sampling for inference engines: temperature, top-k, min-p and
//! top-p truncation, then an exact Gumbel-max draw from the renormalised
//! truncated softmax, per row with the row's own parameters and key.
//!
//! # The order of the filters
//!
//! Temperature first, then top-k and min-p, then top-p on what they left,
//! renormalised (the row kernel's docs give the definitions). Top-k and
//! min-p each keep the classes above a threshold, so their order does not matter;
//! top-p last measures its mass on the distribution the others left, so a
//! request asking for top-k 50 and top-p 0.9 gets the nucleus of its 50 best
//! tokens. Temperature first means every truncation sees the distribution
//! that is sampled: min-p's "at least `min_p` times the most likely token"
//! and top-p's mass hold for the tokens' actual sampling probabilities. This
//! is vLLM's order (temperature, min-p, then top-k and top-p). llama.cpp's
//! default sampler chain applies top-k, top-p and min-p before the
//! temperature (its truncations see the untempered distribution, and its
//! top-p comes before min-p), so at a temperature other than 1 the two keep
//! different sets of tokens.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

use crate::error::{Error, ErrorKind, Result};
use crate::math::float::Float;
use crate::ops::keyed::{check_keyed_lengths, check_matrix};
use crate::rows::filter::{sample_row, RowFilter};
use crate::rows::validate::check_logits;
use crate::runtime::exec::{self, PARALLEL_MIN_ELEMENTS};
use crate::runtime::scratch;
use crate::runtime::shape::Shape;

/// The per-row parameters of [`sample_filtered`]; `None` turns a filter off
/// for every row (and the temperature to 1). Each given slice has one entry
/// per row.
#[derive(Clone, Copy, Debug, Default)]
pub struct Filters<'a, F> {
    /// Temperatures `T`, finite and `>= 0`; `0` samples greedily (the
    /// first largest logit).
    pub temperatures: Option<&'a [F]>,
    /// Top-k: keep the `k` largest processed logits and those tied with the
    /// `k`-th; `0` (or `k` at least the row's unmasked classes) is off.
    pub top_k: Option<&'a [i64]>,
    /// Top-p (nucleus) in `(0, 1]`: keep the smallest set of most likely
    /// classes whose mass reaches `top_p`; `1` is off.
    pub top_p: Option<&'a [F]>,
    /// Min-p in `[0, 1]`: keep the classes at least `min_p` times as likely
    /// as the most likely one; `0` is off.
    pub min_p: Option<&'a [F]>,
}

/// The outputs of [`sample_filtered`], one entry per row each.
#[derive(Debug)]
pub struct FilteredSample<'a, F> {
    /// The sampled class of each row, in `[0, classes)`.
    pub indices: &'a mut [i64],
    /// If given, `log_softmax(logits_r)[indices[r]]`: the sampled class's
    /// log-probability under the raw model.
    pub log_probs: Option<&'a mut [F]>,
    /// If given, the sampled class's log-probability under the processed
    /// distribution that was sampled (tempered, truncated, renormalised);
    /// `0` for a greedy row.
    pub processed_log_probs: Option<&'a mut [F]>,
}

/// Samples one class per row of the `(rows, classes)` matrix `logits` after
/// the row's temperature and truncation filters, in this order: the
/// temperature, then top-k and min-p (each keeps the classes above a
/// threshold, so they commute), then top-p on the renormalised classes they
/// left; the order of vLLM, so that every truncation acts on the
/// distribution that is sampled (llama.cpp's default chain tempers last).
/// Top-k keeps the processed logits at least the `k`-th largest (ties
/// kept), min-p those with `exp(x) >= min_p` (Nguyen et al. 2024), top-p
/// the smallest most likely set holding `top_p` of the mass, ties with its
/// last class kept (Holtzman et al. 2020). Row `r`
/// draws exactly what [`crate::sample_keyed`] draws with
/// `(seeds[r], offsets[r])` on the row's processed logits
/// `x = (l - max l) / T`, set to `-inf` outside the kept classes, i.e. an
/// exact sample from `softmax(x)`, the renormalised truncated softmax of
/// `l / T` (Gumbel 1954; Maddison et al. 2014). With no filter and `T = 1`
/// the index is [`crate::sample_keyed`]'s on `logits`. A greedy row (`T = 0`)
/// takes the first largest logit and no randomness.
///
/// Nothing sorts a row: top-k is a heap of `k` classes, min-p a threshold
/// and top-p a linear-time selection by mass over the classes left. Masses
/// and log-normalisers are computed in `F`. Each row runs serially (rows in
/// parallel), with per-thread scratch of one row.
///
/// # Errors
/// [`ErrorKind::InvalidShape`] for buffer lengths that do not match `shape`
/// or `shape.inner() != 1`; [`ErrorKind::InvalidTemperature`] for a
/// temperature that is negative, NaN or infinite; [`ErrorKind::InvalidParameter`]
/// for a negative top-k, a top-p outside `(0, 1]` or a min-p outside
/// `[0, 1]` (each message names the row); [`ErrorKind::InvalidLogits`] for a
/// NaN or `+inf` logit; [`ErrorKind::AllMasked`] for a row that is all
/// `-inf`. The outputs are untouched on error.
pub fn sample_filtered<F: Float>(
    logits: &[F],
    mut out: FilteredSample<'_, F>,
    shape: Shape,
    filters: Filters<'_, F>,
    seeds: &[u64],
    offsets: &[u64],
) -> Result<()> {
    check_matrix(shape)?;
    let rows = shape.rows();
    for (name, len) in [
        ("log_probs", out.log_probs.as_ref().map(|o| o.len())),
        (
            "processed_log_probs",
            out.processed_log_probs.as_ref().map(|o| o.len()),
        ),
        ("temperatures", filters.temperatures.map(<[F]>::len)),
        ("top_k", filters.top_k.map(<[i64]>::len)),
        ("top_p", filters.top_p.map(<[F]>::len)),
        ("min_p", filters.min_p.map(<[F]>::len)),
    ] {
        if let Some(len) = len {
            shape.check_len(name, len, rows)?;
        }
    }
    check_keyed_lengths(
        logits,
        shape,
        ("indices", out.indices.len(), rows),
        seeds,
        offsets,
    )?;
    if let Err(e) = check_filters(&filters, rows) {
        // A bad logit is reported before a bad parameter.
        check_logits(shape, logits)?;
        return Err(e);
    }
    if shape.is_empty() {
        return Ok(());
    }
    let classes = shape.classes();
    let want = (out.log_probs.is_some(), out.processed_log_probs.is_some());
    let parallel = rows > 1 && shape.len() >= PARALLEL_MIN_ELEMENTS;
    // Per row: the index and the bits of the raw and processed
    // log-probabilities (as `f64`, exact), then written out in row order.
    scratch::with(3 * rows, |results: &mut [i64]| {
        let failure = OnceLock::<Error>::new();
        let invalid = AtomicBool::new(false);
        exec::for_each_chunk_mut(results, 3, parallel, |r, result| {
            let row = &logits[r * classes..(r + 1) * classes];
            let key = (seeds[r], offsets[r]);
            // The next row, which this thread most likely samples next.
            let ahead = logits
                .get((r + 1) * classes..(r + 2) * classes)
                .unwrap_or(&[]);
            match sample_row(row, &row_filter(&filters, r), key, want, ahead) {
                Ok(Some((index, raw, processed))) => {
                    result[0] = index as i64;
                    result[1] = raw.to_f64().to_bits() as i64;
                    result[2] = processed.to_f64().to_bits() as i64;
                }
                // The row is checked as it is sampled, while it is in cache;
                // only a failed call checks the whole matrix to name the
                // first bad logit or masked row.
                Ok(None) => invalid.store(true, Ordering::Relaxed),
                Err(e) => {
                    let _ = failure.set(e);
                }
            }
        })?;
        if invalid.into_inner() {
            return check_logits(shape, logits);
        }
        failure.into_inner().map_or(Ok(()), Err)?;
        let value = |bits: i64| F::from_f64(f64::from_bits(bits as u64));
        for (r, result) in results.chunks_exact(3).enumerate() {
            out.indices[r] = result[0];
            if let Some(log_probs) = out.log_probs.as_deref_mut() {
                log_probs[r] = value(result[1]);
            }
            if let Some(processed) = out.processed_log_probs.as_deref_mut() {
                processed[r] = value(result[2]);
            }
        }
        Ok(())
    })
}

/// The filters of row `r`.
fn row_filter<F: Float>(filters: &Filters<'_, F>, r: usize) -> RowFilter<F> {
    RowFilter {
        temperature: filters.temperatures.map_or(F::ONE, |t| t[r]),
        top_k: filters.top_k.map_or(0, |k| k[r] as usize),
        top_p: filters.top_p.map_or(F::ONE, |p| p[r]),
        min_p: filters.min_p.map_or(F::ZERO, |p| p[r]),
    }
}

/// Checks the values of the per-row parameters.
fn check_filters<F: Float>(filters: &Filters<'_, F>, rows: usize) -> Result<()> {
    let invalid = |kind, message: String| Err(Error::new(kind, message));
    for r in 0..rows {
        if let Some(t) = filters.temperatures {
            if !(t[r].is_finite() && t[r] >= F::ZERO) {
                return invalid(
                    ErrorKind::InvalidTemperature,
                    format!(
                        "temperatures[{r}] must be finite and >= 0 (0: greedy), got {:?}",
                        t[r]
                    ),
                );
            }
        }
        if let Some(k) = filters.top_k {
            if k[r] < 0 {
                return invalid(
                    ErrorKind::InvalidParameter,
                    format!("top_k[{r}] must be >= 0 (0: off), got {}", k[r]),
                );
            }
        }
        if let Some(p) = filters.top_p {
            if !(p[r] > F::ZERO && p[r] <= F::ONE) {
                return invalid(
                    ErrorKind::InvalidParameter,
                    format!("top_p[{r}] must be in (0, 1] (1: off), got {:?}", p[r]),
                );
            }
        }
        if let Some(p) = filters.min_p {
            if !(p[r] >= F::ZERO && p[r] <= F::ONE) {
                return invalid(
                    ErrorKind::InvalidParameter,
                    format!("min_p[{r}] must be in [0, 1] (0: off), got {:?}", p[r]),
                );
            }
        }
    }
    Ok(())
}
