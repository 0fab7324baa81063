//! Keyed rows: every row of a `(rows, classes)` matrix carries its own
//! `(seed, offset)` key and draws exactly what a one-row call with that key
//! draws, whatever the other rows of the batch, their order or their number
//! (batch invariance).
//!
//! An inference engine keys a request by giving it one seed for its whole
//! life and an offset per decoding step: step `t` of a request uses
//! `offset = offset_0 + t * streams(Shape::matrix(1, classes)?)` (see
//! [`crate::streams`]),
//! so that no two steps of one request share a stream and a request replays
//! bit for bit whichever batch it is scheduled into.

use std::sync::OnceLock;

use crate::error::{Error, Result};
use crate::math::float::Float;
use crate::rows::forward;
use crate::rows::softmax::Finish;
use crate::rows::temperature::Temperature;
use crate::rows::validate::{check_logits, check_tau};
use crate::runtime::exec::{self, PARALLEL_MIN_ELEMENTS};
use crate::runtime::shape::Shape;

/// Checks the buffer lengths of a keyed call on a `(rows, classes)` matrix
/// with `out_len` outputs, and its logits.
pub(crate) fn check_keyed<F: Float>(
    logits: &[F],
    shape: Shape,
    out: (&str, usize, usize),
    seeds: &[u64],
    offsets: &[u64],
) -> Result<()> {
    check_keyed_lengths(logits, shape, out, seeds, offsets)?;
    check_logits(shape, logits)
}

/// The buffer-length checks of [`check_keyed`] (for a caller that checks
/// the logits row by row while it samples them).
pub(crate) fn check_keyed_lengths<F: Float>(
    logits: &[F],
    shape: Shape,
    out: (&str, usize, usize),
    seeds: &[u64],
    offsets: &[u64],
) -> Result<()> {
    shape.check_len("logits", logits.len(), shape.len())?;
    shape.check_len(out.0, out.1, out.2)?;
    shape.check_len("seeds", seeds.len(), shape.rows())?;
    shape.check_len("offsets", offsets.len(), shape.rows())
}

/// Runs `body(row, out_row)` over the rows of a keyed call (`width` outputs
/// per row), on the worker threads when the call is large and its rows are
/// short enough to run serially each; a row long enough to be split by the
/// one-row call runs that call's own parallel path instead. Returns the
/// first error a row reported.
pub(crate) fn for_each_keyed_row<O: Send>(
    out: &mut [O],
    shape: Shape,
    width: usize,
    body: impl Fn(usize, &mut [O]) -> Result<()> + Sync + Send,
) -> Result<()> {
    if shape.is_empty() || width == 0 {
        return Ok(());
    }
    let parallel = shape.rows() > 1
        && shape.classes() < PARALLEL_MIN_ELEMENTS
        && shape.len() >= PARALLEL_MIN_ELEMENTS;
    let failure = OnceLock::<Error>::new();
    exec::for_each_chunk_mut(out, width, parallel, |row, chunk| {
        if let Err(e) = body(row, chunk) {
            let _ = failure.set(e);
        }
    })?;
    failure.into_inner().map_or(Ok(()), Err)
}

/// Gumbel-max with one key per row: `indices[r]` is the index that
/// [`crate::sample`] returns for row `r` alone (shape `(1, classes, 1)`)
/// with `(seeds[r], offsets[r])`: `argmax(logits_r + g)`, an exact draw from
/// `Categorical(softmax(logits_r))` (Gumbel 1954; Maddison et al. 2014).
///
/// `logits` is a row-major `(rows, classes)` matrix (`shape` is
/// [`Shape::matrix`]; `inner` must be 1); `indices`, `seeds` and `offsets`
/// have `shape.rows()` entries. Masked (`-inf`) classes are never chosen.
/// Row `r` consumes `streams(Shape::matrix(1, classes)?)` stream ids from `offsets[r]`
/// under `seeds[r]`.
///
/// # Errors
/// [`ErrorKind::InvalidShape`](crate::ErrorKind::InvalidShape) for buffer
/// lengths that do not match `shape` or `shape.inner() != 1`;
/// [`ErrorKind::InvalidLogits`](crate::ErrorKind::InvalidLogits) for a NaN or
/// `+inf` logit; [`ErrorKind::AllMasked`](crate::ErrorKind::AllMasked) for a
/// row that is all `-inf`. `indices` is untouched on error.
pub fn sample_keyed<F: Float>(
    logits: &[F],
    indices: &mut [i64],
    shape: Shape,
    seeds: &[u64],
    offsets: &[u64],
) -> Result<()> {
    check_matrix(shape)?;
    check_keyed(
        logits,
        shape,
        ("indices", indices.len(), shape.rows()),
        seeds,
        offsets,
    )?;
    let one = one_row(shape)?;
    let classes = shape.classes();
    for_each_keyed_row(indices, shape, 1, |r, index| {
        let row = &logits[r * classes..(r + 1) * classes];
        forward::indices(row, index, one, seeds[r], offsets[r])
    })
}

/// Gumbel-Softmax with one key per row: row `r` of `out` is what
/// [`crate::gumbel_softmax`] writes for row `r` alone (shape
/// `(1, classes, 1)`) with `(tau, hard, seeds[r], offsets[r])`:
/// `softmax((logits_r + g) / tau)` (Jang et al. 2017, eq. 1; Maddison et
/// al. 2017, eq. 10), or with `hard` the exact one-hot of
/// `argmax(logits_r + g)`, which is [`sample_keyed`]'s index.
///
/// `logits` and `out` are row-major `(rows, classes)` matrices;
/// `seeds` and `offsets` have `shape.rows()` entries. Values as for
/// [`crate::gumbel_softmax`].
///
/// # Errors
/// [`ErrorKind::InvalidShape`](crate::ErrorKind::InvalidShape) for buffer
/// lengths that do not match `shape` or `shape.inner() != 1`;
/// [`ErrorKind::InvalidTemperature`](crate::ErrorKind::InvalidTemperature) if
/// `tau` is not finite or `<= 0`;
/// [`ErrorKind::InvalidLogits`](crate::ErrorKind::InvalidLogits) for a NaN or
/// `+inf` logit; [`ErrorKind::AllMasked`](crate::ErrorKind::AllMasked) for a
/// row that is all `-inf`. `out` is untouched on error.
pub fn gumbel_softmax_keyed<F: Float>(
    logits: &[F],
    out: &mut [F],
    shape: Shape,
    tau: F,
    hard: bool,
    seeds: &[u64],
    offsets: &[u64],
) -> Result<()> {
    check_matrix(shape)?;
    check_tau(tau)?;
    check_keyed(
        logits,
        shape,
        ("out", out.len(), shape.len()),
        seeds,
        offsets,
    )?;
    let one = one_row(shape)?;
    let classes = shape.classes();
    let finish = if hard {
        Finish::OneHot
    } else {
        Finish::Softmax
    };
    for_each_keyed_row(out, shape, classes, |r, y| {
        let row = &logits[r * classes..(r + 1) * classes];
        let key = Some((seeds[r], offsets[r]));
        forward::run(row, y, one, Temperature::Scalar(tau), key, finish)
    })
}

/// Keyed calls take `(rows, classes)` matrices.
pub(crate) fn check_matrix(shape: Shape) -> Result<()> {
    if shape.inner() == 1 {
        return Ok(());
    }
    Err(Error::new(
        crate::error::ErrorKind::InvalidShape,
        format!(
            "keyed calls take (rows, classes) matrices; inner is {}",
            shape.inner()
        ),
    ))
}

/// The one-row shape each row of a keyed call on `shape` runs as.
pub(crate) fn one_row(shape: Shape) -> Result<Shape> {
    Shape::matrix(1, shape.classes())
}
