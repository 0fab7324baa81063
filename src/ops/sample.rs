//! Gumbel-Softmax forward (soft, hard and log-space) and Gumbel-max class
//! indices.
//!
//! With standard Gumbel noise `g` drawn per element from `(seed, offset)`
//! (see [`crate::stream`]), the perturbed logits are `z = logits + g`:
//! - soft sample (Jang et al. 2017, eq. 1; Maddison et al. 2017, eq. 10):
//!   `y = softmax(z / tau)`;
//! - hard sample (straight-through forward): the exact one-hot of
//!   `argmax z`, lowest index on ties;
//! - Gumbel-max index (Gumbel 1954; Maddison et al. 2014): `argmax z`, an
//!   exact sample of `Categorical(softmax(logits))`;
//! - log-space (ExpConcrete) sample (Maddison et al. 2017, appendix on the
//!   ExpConcrete): `x = log_softmax(z / tau)`, so that `exp(x)` is the soft
//!   sample.
//!
//! For the same `(seed, offset)` the four are coupled: the hard one-hot and
//! the index sit at the argmax of the soft sample and of the log-space one
//! (up to exact ties of `y`).
//!
//! Without noise the same forward pass gives the tempered softmax
//! `softmax(logits / tau)`.
//!
//! The element type is any [`Element`]: `f32` and `f64` compute in
//! themselves; the 16-bit [`Bf16`](crate::Bf16) and [`F16`](crate::F16)
//! compute in `f32` (temperatures are `f32`) with exactly the noise of the
//! `f32` call, so their output is the `f32` call's output on the logits
//! widened to `f32`, each value rounded once to nearest, ties to even, and
//! their indices are the `f32` call's.

use crate::error::Result;
use crate::math::element::Element;
use crate::math::float::Float;
use crate::rows::forward;
use crate::rows::softmax::Finish;
use crate::rows::temperature::Temperature;
use crate::rows::validate::check_logits;
use crate::runtime::shape::Shape;

/// Gumbel-Softmax sample `out = softmax((logits + g) / tau)` along the class
/// axis of a row-major `(outer, classes, inner)` tensor, or its exact one-hot
/// `argmax` when `hard`.
///
/// `logits` and `out` have `shape.len()` elements. Masked (`-inf`) classes
/// get exactly 0 and are never chosen. The noise of element `(row, class)`
/// is a pure function of `(seed, offset, classes, row, class)`; the call
/// consumes [`crate::streams`]`(shape)` stream ids. Soft rows sum to 1 within
/// a few ulp; hard rows hold one 1 and zeros.
///
/// # Errors
/// [`ErrorKind::InvalidShape`](crate::ErrorKind::InvalidShape) for buffer
/// lengths that do not match `shape`;
/// [`ErrorKind::InvalidTemperature`](crate::ErrorKind::InvalidTemperature) if
/// `tau` is not finite or `<= 0`;
/// [`ErrorKind::InvalidLogits`](crate::ErrorKind::InvalidLogits) for a NaN or
/// `+inf` logit; [`ErrorKind::AllMasked`](crate::ErrorKind::AllMasked) for a
/// row that is all `-inf`. `out` is untouched on error.
pub fn gumbel_softmax<E: Element>(
    logits: &[E],
    out: &mut [E],
    shape: Shape,
    tau: E::Compute,
    hard: bool,
    seed: u64,
    offset: u64,
) -> Result<()> {
    soft_or_hard(
        logits,
        out,
        shape,
        Temperature::Scalar(tau),
        hard,
        seed,
        offset,
    )
}

/// [`gumbel_softmax`] with one temperature per row: row `r` of `out` is
/// `softmax((logits_r + g_r) / tau[r])`, or its one-hot argmax when `hard`
/// (which does not depend on `tau`, though `tau` is still checked).
///
/// `logits` and `out` have `shape.len()` elements; `tau` has `shape.rows()`
/// entries in row order `(o, i)`, i.e. `tau[o * inner + i]`. The noise is
/// exactly that of [`gumbel_softmax`] for the same `(seed, offset)`: when
/// every `tau[r]` equals `t`, the output is bit for bit that of
/// `gumbel_softmax(.., t, ..)`. Consumes [`crate::streams`]`(shape)` stream
/// ids. Formula: Jang et al. 2017, eq. 1, with a row-dependent `tau`.
///
/// # Errors
/// [`ErrorKind::InvalidShape`](crate::ErrorKind::InvalidShape) for buffer
/// lengths that do not match `shape`;
/// [`ErrorKind::InvalidTemperature`](crate::ErrorKind::InvalidTemperature) if
/// some `tau[r]` is not finite or `<= 0` (the message names row `r`);
/// [`ErrorKind::InvalidLogits`](crate::ErrorKind::InvalidLogits) for a NaN or
/// `+inf` logit; [`ErrorKind::AllMasked`](crate::ErrorKind::AllMasked) for a
/// row that is all `-inf`. `out` is untouched on error.
pub fn gumbel_softmax_per_row<E: Element>(
    logits: &[E],
    out: &mut [E],
    shape: Shape,
    tau: &[E::Compute],
    hard: bool,
    seed: u64,
    offset: u64,
) -> Result<()> {
    soft_or_hard(
        logits,
        out,
        shape,
        Temperature::PerRow(tau),
        hard,
        seed,
        offset,
    )
}

/// The forward of [`gumbel_softmax`] and [`gumbel_softmax_per_row`].
fn soft_or_hard<E: Element>(
    logits: &[E],
    out: &mut [E],
    shape: Shape,
    tau: Temperature<'_, E::Compute>,
    hard: bool,
    seed: u64,
    offset: u64,
) -> Result<()> {
    let finish = if hard {
        Finish::OneHot
    } else {
        Finish::Softmax
    };
    forward_checked(logits, out, shape, tau, Some((seed, offset)), finish)
}

/// ExpConcrete (log-space Gumbel-Softmax) sample
/// `out = log_softmax((logits + g) / tau)` along the class axis of a
/// row-major `(outer, classes, inner)` tensor (Maddison et al. 2017,
/// appendix on the ExpConcrete), with exactly the noise `g` of
/// [`gumbel_softmax`] for the same `(seed, offset)`: `exp(out)` is its soft
/// sample up to rounding, and the argmax of `out` is [`sample`]'s index (up
/// to exact ties).
///
/// Computed as `(z - max z) / tau - ln(sum_j exp((z_j - max z) / tau))` with
/// `z = logits + g`, so values are `<= 0` and finite where the soft sample
/// underflows to 0 (small `tau`, many classes): this is the form to feed to
/// [`exp_concrete_log_prob`](crate::exp_concrete_log_prob). Masked (`-inf`)
/// classes get `-inf`; an unmasked class gets `-inf` only if
/// `(z_k - max z) / tau` overflows the type (`tau` below about
/// `|z_k - max z| / MAX`, e.g. subnormal). Each row's `logsumexp` is 0 within
/// a few ulp. Consumes [`crate::streams`]`(shape)` stream ids.
///
/// # Errors
/// [`ErrorKind::InvalidShape`](crate::ErrorKind::InvalidShape) for buffer
/// lengths that do not match `shape`;
/// [`ErrorKind::InvalidTemperature`](crate::ErrorKind::InvalidTemperature) if
/// `tau` is not finite or `<= 0`;
/// [`ErrorKind::InvalidLogits`](crate::ErrorKind::InvalidLogits) for a NaN or
/// `+inf` logit; [`ErrorKind::AllMasked`](crate::ErrorKind::AllMasked) for a
/// row that is all `-inf`. `out` is untouched on error.
pub fn gumbel_log_softmax<F: Float>(
    logits: &[F],
    out: &mut [F],
    shape: Shape,
    tau: F,
    seed: u64,
    offset: u64,
) -> Result<()> {
    forward_checked(
        logits,
        out,
        shape,
        Temperature::Scalar(tau),
        Some((seed, offset)),
        Finish::LogSoftmax,
    )
}

/// [`gumbel_log_softmax`] with one temperature per row: row `r` of `out` is
/// `log_softmax((logits_r + g_r) / tau[r])` (Maddison et al. 2017, appendix
/// on the ExpConcrete, with a row-dependent `tau`), with exactly the noise
/// of [`gumbel_softmax`] for the same `(seed, offset)`; when every `tau[r]`
/// equals `t` the output is bit for bit that of `gumbel_log_softmax(.., t, ..)`.
///
/// `logits` and `out` have `shape.len()` elements; `tau` has `shape.rows()`
/// entries in row order `(o, i)`, i.e. `tau[o * inner + i]`. Values as for
/// [`gumbel_log_softmax`]. Consumes [`crate::streams`]`(shape)` stream ids.
///
/// # Errors
/// [`ErrorKind::InvalidShape`](crate::ErrorKind::InvalidShape) for buffer
/// lengths that do not match `shape`;
/// [`ErrorKind::InvalidTemperature`](crate::ErrorKind::InvalidTemperature) if
/// some `tau[r]` is not finite or `<= 0` (the message names row `r`);
/// [`ErrorKind::InvalidLogits`](crate::ErrorKind::InvalidLogits) for a NaN or
/// `+inf` logit; [`ErrorKind::AllMasked`](crate::ErrorKind::AllMasked) for a
/// row that is all `-inf`. `out` is untouched on error.
pub fn gumbel_log_softmax_per_row<F: Float>(
    logits: &[F],
    out: &mut [F],
    shape: Shape,
    tau: &[F],
    seed: u64,
    offset: u64,
) -> Result<()> {
    forward_checked(
        logits,
        out,
        shape,
        Temperature::PerRow(tau),
        Some((seed, offset)),
        Finish::LogSoftmax,
    )
}

/// Tempered softmax `out = softmax(logits / tau)` along the class axis of a
/// row-major `(outer, classes, inner)` tensor; no noise.
///
/// `logits` and `out` have `shape.len()` elements. `-inf` logits (masked
/// classes) get exactly 0. Each row of `out` sums to 1 within a few ulp.
///
/// # Errors
/// [`ErrorKind::InvalidShape`](crate::ErrorKind::InvalidShape) for buffer
/// lengths that do not match `shape`;
/// [`ErrorKind::InvalidTemperature`](crate::ErrorKind::InvalidTemperature) if
/// `tau` is not finite or `<= 0`;
/// [`ErrorKind::InvalidLogits`](crate::ErrorKind::InvalidLogits) for a NaN
/// or `+inf` logit; [`ErrorKind::AllMasked`](crate::ErrorKind::AllMasked)
/// for a row that is all `-inf`. `out` is untouched on error.
pub fn tempered_softmax<E: Element>(
    logits: &[E],
    out: &mut [E],
    shape: Shape,
    tau: E::Compute,
) -> Result<()> {
    forward_checked(
        logits,
        out,
        shape,
        Temperature::Scalar(tau),
        None,
        Finish::Softmax,
    )
}

/// [`tempered_softmax`] with one temperature per row: row `r` of `out` is
/// `softmax(logits_r / tau[r])`; no noise.
///
/// `logits` and `out` have `shape.len()` elements; `tau` has `shape.rows()`
/// entries in row order `(o, i)`, i.e. `tau[o * inner + i]`. When every
/// `tau[r]` equals `t` the output is bit for bit that of
/// `tempered_softmax(.., t)`.
///
/// # Errors
/// [`ErrorKind::InvalidShape`](crate::ErrorKind::InvalidShape) for buffer
/// lengths that do not match `shape`;
/// [`ErrorKind::InvalidTemperature`](crate::ErrorKind::InvalidTemperature) if
/// some `tau[r]` is not finite or `<= 0` (the message names row `r`);
/// [`ErrorKind::InvalidLogits`](crate::ErrorKind::InvalidLogits) for a NaN
/// or `+inf` logit; [`ErrorKind::AllMasked`](crate::ErrorKind::AllMasked)
/// for a row that is all `-inf`. `out` is untouched on error.
pub fn tempered_softmax_per_row<E: Element>(
    logits: &[E],
    out: &mut [E],
    shape: Shape,
    tau: &[E::Compute],
) -> Result<()> {
    forward_checked(
        logits,
        out,
        shape,
        Temperature::PerRow(tau),
        None,
        Finish::Softmax,
    )
}

/// Gumbel-max sampling: one class index per row, `argmax(logits + g)` with
/// the same noise as [`gumbel_softmax`] for the same `(seed, offset)`, an
/// exact draw from `Categorical(softmax(logits))`.
///
/// `logits` has `shape.len()` elements; `indices` has `shape.rows()`
/// entries in row order `(o, i)`, each in `[0, classes)` and never a masked
/// class.
///
/// # Errors
/// [`ErrorKind::InvalidShape`](crate::ErrorKind::InvalidShape) for buffer
/// lengths that do not match `shape`;
/// [`ErrorKind::InvalidLogits`](crate::ErrorKind::InvalidLogits) for a NaN or
/// `+inf` logit; [`ErrorKind::AllMasked`](crate::ErrorKind::AllMasked) for a
/// row that is all `-inf`. `indices` is untouched on error.
pub fn sample<E: Element>(
    logits: &[E],
    indices: &mut [i64],
    shape: Shape,
    seed: u64,
    offset: u64,
) -> Result<()> {
    shape.check_len("logits", logits.len(), shape.len())?;
    shape.check_len("indices", indices.len(), shape.rows())?;
    check_logits(shape, logits)?;
    forward::indices(logits, indices, shape, seed, offset)
}

/// Checks the arguments of a forward call on `shape` (buffer lengths, the
/// temperature, the logits), then writes `finish` of the perturbed logits of
/// every row with the noise of `Some((seed, offset))` or none
/// ([`forward::run`]).
fn forward_checked<E: Element>(
    logits: &[E],
    out: &mut [E],
    shape: Shape,
    tau: Temperature<'_, E::Compute>,
    noise: Option<(u64, u64)>,
    finish: Finish,
) -> Result<()> {
    shape.check_len("logits", logits.len(), shape.len())?;
    shape.check_len("out", out.len(), shape.len())?;
    tau.check(shape)?;
    check_logits(shape, logits)?;
    forward::run(logits, out, shape, tau, noise, finish)
}
