//! Gumbel noise conditioned on the sampled category: perturbed logits drawn
//! given their argmax, the primitive of the Gumbel-Rao estimator.

use crate::error::{Error, ErrorKind, Result};
use crate::math::element::Element;
use crate::rows::conditional;
use crate::rows::validate::{check_indices, check_logits};
use crate::runtime::shape::Shape;

/// Perturbed logits conditioned on their argmax: `draws` independent draws
/// of `z = logits + g` (standard Gumbel `g`) given `argmax z = indices[row]`
/// in every row, by the truncated-Gumbel construction (Maddison, Tarlow and
/// Minka 2014, section 4; Paulus et al. 2021, "Rao-Blackwellizing the
/// Straight-Through Gumbel-Softmax Gradient Estimator", eq. 9):
/// `z_d = logsumexp(logits) + g_d` and, for `k != d`,
/// `z_k = -logaddexp(-(logits_k + g_k), -z_d)` (derivation in
/// `rows/conditional.rs`).
///
/// `logits` is a row-major `(outer, classes, inner)` tensor of
/// `shape.len()` elements; `indices` has `shape.rows()` entries in row order
/// `(o, i)`, each a class of its row that is not masked (typically the
/// output of [`crate::sample`]); `out` has `draws * shape.len()` elements:
/// draw after draw, each a tensor in the layout of `logits`. Within a row,
/// `z_k <= z_d` (equal only by rounding, when `logits_k + g_k` exceeds
/// `z_d` by more than the precision); masked classes stay `-inf`. A 16-bit
/// tensor ([`Element`]) is computed in `f32`: each value is that of the
/// `f32` call on the widened logits, rounded once to nearest, ties to even.
///
/// Randomness: draw `j` transforms the noise that a sampler called on
/// `logits` with `(seed, offset + j * streams)` would add, where
/// `streams = `[`crate::stream::streams`]`(shape.rows(), classes)`; a call
/// consumes `draws * streams` stream ids. These must not be the streams of
/// the forward call that drew `indices` (its noise is not independent of
/// them): pass the forward's `offset + streams` or a fresh seed. The logits
/// of a row are read once for all its draws.
///
/// # Errors
/// [`ErrorKind::InvalidShape`] for buffer lengths that do not match `shape`
/// and `draws`; [`ErrorKind::InvalidParameter`] for `draws == 0`;
/// [`ErrorKind::InvalidLogits`] for a NaN or `+inf` logit;
/// [`ErrorKind::AllMasked`] for a row that is all `-inf`;
/// [`ErrorKind::InvalidValue`] for an index outside `[0, classes)` or of a
/// masked class. `out` is untouched on error.
pub fn gumbel_conditional<E: Element>(
    logits: &[E],
    indices: &[i64],
    out: &mut [E],
    shape: Shape,
    draws: usize,
    seed: u64,
    offset: u64,
) -> Result<()> {
    check_draws(draws)?;
    shape.check_len("logits", logits.len(), shape.len())?;
    shape.check_len("indices", indices.len(), shape.rows())?;
    let len = draws.checked_mul(shape.len()).ok_or_else(|| {
        Error::new(
            ErrorKind::SizeOverflow,
            format!("draws * elements overflows: {draws} x {}", shape.len()),
        )
    })?;
    shape.check_len("out", out.len(), len)?;
    check_logits(shape, logits)?;
    check_indices(shape, logits, indices)?;
    conditional::run(logits, indices, out, shape, draws, seed, offset)
}

/// Checks a number of conditional draws: at least one.
///
/// # Errors
/// [`ErrorKind::InvalidParameter`] for `draws == 0`.
pub(crate) fn check_draws(draws: usize) -> Result<()> {
    if draws == 0 {
        return Err(Error::new(
            ErrorKind::InvalidParameter,
            "draws must be at least 1",
        ));
    }
    Ok(())
}
