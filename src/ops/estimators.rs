//! Gradient estimators for a hard (one-hot) categorical sample beyond
//! straight-through Gumbel-Softmax: the backward passes of Gumbel-Rao,
//! ReinMax, gapped straight-through and decoupled straight-through.
//!
//! # Derivations
//!
//! All four return `dL/dlogits` for a forward that output the one-hot of a
//! class `d` per row, sampled from `Categorical(softmax(logits))` (the
//! library's Gumbel-max, [`crate::sample`], or the hard
//! [`crate::gumbel_softmax`]), given `v = dL/d(one-hot)`. Each replaces the
//! zero Jacobian of the one-hot by the Jacobian of a smooth surrogate `p(l)`
//! evaluated at a point chosen by the estimator; with
//! `J(p)^T v = p ⊙ (v - <v, p>)` the softmax vector-Jacobian product
//! (`rows/backward.rs` derives it):
//!
//! - **Straight-through Gumbel-Softmax** (Jang et al. 2017, section 2.2; for
//!   reference, [`crate::gumbel_softmax_backward`]): `J(y)^T v / tau`,
//!   `y = softmax((l + g) / tau)` with the forward's noise `g`.
//! - **Gumbel-Rao** (Paulus et al. 2021, "Rao-Blackwellizing the
//!   Straight-Through Gumbel-Softmax Gradient Estimator", eq. 8): the
//!   straight-through gradient averaged over the noise given the sample,
//!   `E[J(softmax((l + G) / tau))^T v / tau | argmax(l + G) = d]`, estimated
//!   with `m` draws `z_j = l + G_j` of [`crate::gumbel_conditional`]:
//!   `(1/m) sum_j J(softmax(z_j / tau))^T v / tau`. Same expectation as
//!   straight-through, lower variance; `m = 1` has the variance of
//!   straight-through with fresh noise.
//! - **ReinMax** (Liu et al. 2023, "Bridging Discrete and Backpropagation:
//!   Straight-Through and Beyond", Algorithm 2): Heun's method instead of
//!   the forward Euler step of straight-through. With
//!   `pi_0 = softmax(l)`, `pi_1 = (softmax(l / tau) + onehot(d)) / 2` and the
//!   surrogate `2 pi_1 - pi_0 / 2` in which `pi_1` is differentiated as a
//!   softmax at its own value (`softmax(stopgrad(ln pi_1 - l) + l)`), the
//!   gradient is `2 J(pi_1)^T v - J(pi_0)^T v / 2`. No `1/tau` factor: `tau`
//!   only moves the point `pi_1`; the authors recommend `tau >= 1`.
//! - **Gapped straight-through** (Fan et al. 2022, "Training Discrete Deep
//!   Generative Models via Gapped Straight-Through Estimator", section 4):
//!   a deterministic perturbation instead of Gumbel noise, the smallest that
//!   makes `d` the argmax with a margin `gap`: `z_d = max l` and
//!   `z_k = min(l_k, max l - gap)` for `k != d` (`m1 - m2` of the paper, held
//!   constant), then `J(softmax(z / tau))^T v / tau`.
//! - **Decoupled straight-through** (Shah, Widdowson and Rosenbaum 2024,
//!   "Improving Discrete Optimisation Via Decoupled Straight-Through
//!   Gumbel-Softmax"): the forward's hard sample is drawn as usual (its class
//!   does not depend on the temperature), and the backward uses the soft
//!   sample of the same noise at its own temperature `tau_b`:
//!   `J(softmax((l + g) / tau_b))^T v / tau_b`.
//!
//! Every result row sums to 0 up to rounding and is exactly 0 on masked
//! classes. Results are the same bits for any thread count. Tensors may be
//! of any [`Element`]: a 16-bit one is computed in `f32` (temperatures and
//! `gap` are `f32`), each result being that of the `f32` call on the
//! inputs widened exactly, rounded once to nearest, ties to even.

use crate::error::{Error, ErrorKind, Result};
use crate::math::element::Element;
use crate::math::float::Float;
use crate::ops::conditional::check_draws;
use crate::rows::estimators;
use crate::rows::validate::{check_finite, check_indices, check_logits, check_tau};
use crate::runtime::shape::Shape;

/// Checks the tensors common to the estimators: `logits`, `grad_out` and
/// `grad_logits` of `shape.len()` elements, `indices` of `shape.rows()`,
/// valid logits, indices of unmasked classes and a finite `grad_out`.
fn check_inputs<E: Element>(
    logits: &[E],
    indices: &[i64],
    grad_out: &[E],
    grad_logits: &[E],
    shape: Shape,
) -> Result<()> {
    shape.check_len("logits", logits.len(), shape.len())?;
    shape.check_len("indices", indices.len(), shape.rows())?;
    shape.check_len("grad_out", grad_out.len(), shape.len())?;
    shape.check_len("grad_logits", grad_logits.len(), shape.len())?;
    check_logits(shape, logits)?;
    check_indices(shape, logits, indices)?;
    check_finite(shape, "grad_out", grad_out)
}

/// The Gumbel-Rao gradient (Paulus et al. 2021, eq. 8; module docs):
/// `grad_logits = (1/m) sum_j J(softmax(z_j / tau))^T grad_out / tau`, the
/// `z_j` being the `m = draws` conditional draws of
/// [`crate::gumbel_conditional`] for the same `(seed, offset)` (which must
/// not be the forward's streams: pass the forward's
/// `offset + `[`crate::stream::streams`]`(rows, classes)`).
///
/// `logits`, `grad_out` (`dL/d(one-hot)`) and `grad_logits` are row-major
/// `(outer, classes, inner)` tensors of `shape.len()` elements; `indices`
/// has `shape.rows()` sampled classes in row order `(o, i)`.
///
/// # Errors
/// [`ErrorKind::InvalidShape`] for buffer lengths that do not match `shape`;
/// [`ErrorKind::InvalidLogits`] for a NaN or `+inf` logit;
/// [`ErrorKind::AllMasked`] for a row that is all `-inf`;
/// [`ErrorKind::InvalidValue`] for an index outside `[0, classes)` or of a
/// masked class, or a `grad_out` value that is not finite (messages name the
/// row); [`ErrorKind::InvalidTemperature`] if `tau` is not finite or `<= 0`;
/// [`ErrorKind::InvalidParameter`] for `draws == 0`. `grad_logits` is
/// untouched on error.
#[allow(clippy::too_many_arguments)]
pub fn gumbel_rao_backward<E: Element>(
    logits: &[E],
    indices: &[i64],
    grad_out: &[E],
    grad_logits: &mut [E],
    shape: Shape,
    tau: E::Compute,
    draws: usize,
    seed: u64,
    offset: u64,
) -> Result<()> {
    check_inputs(logits, indices, grad_out, grad_logits, shape)?;
    check_tau(tau)?;
    check_draws(draws)?;
    estimators::gumbel_rao(
        logits,
        indices,
        grad_out,
        grad_logits,
        shape,
        tau,
        draws,
        (seed, offset),
    )
}

/// The ReinMax gradient (Liu et al. 2023, Algorithm 2; module docs):
/// `grad_logits = 2 J(pi_1)^T grad_out - J(pi_0)^T grad_out / 2` with
/// `pi_0 = softmax(logits)` and
/// `pi_1 = (softmax(logits / tau) + onehot(indices[row])) / 2`.
///
/// Shapes as [`gumbel_rao_backward`]. The authors recommend `tau >= 1`;
/// every `tau > 0` is accepted.
///
/// # Errors
/// [`ErrorKind::InvalidShape`] for buffer lengths that do not match `shape`;
/// [`ErrorKind::InvalidLogits`] for a NaN or `+inf` logit;
/// [`ErrorKind::AllMasked`] for a row that is all `-inf`;
/// [`ErrorKind::InvalidValue`] for an index outside `[0, classes)` or of a
/// masked class, or a `grad_out` value that is not finite (messages name the
/// row); [`ErrorKind::InvalidTemperature`] if `tau` is not finite or `<= 0`.
/// `grad_logits` is untouched on error.
pub fn reinmax_backward<E: Element>(
    logits: &[E],
    indices: &[i64],
    grad_out: &[E],
    grad_logits: &mut [E],
    shape: Shape,
    tau: E::Compute,
) -> Result<()> {
    check_inputs(logits, indices, grad_out, grad_logits, shape)?;
    check_tau(tau)?;
    estimators::reinmax(logits, indices, grad_out, grad_logits, shape, tau)
}

/// The gapped straight-through gradient (Fan et al. 2022, section 4; module
/// docs): `grad_logits = J(softmax(z / tau))^T grad_out / tau` with
/// `z_d = max logits`, `z_k = min(logits_k, max logits - gap)` for `k != d`,
/// `d = indices[row]`.
///
/// Shapes as [`gumbel_rao_backward`]; `gap` (the margin by which the
/// sampled class leads, in logit units; the paper uses 1) is finite and
/// `>= 0`.
///
/// # Errors
/// [`ErrorKind::InvalidShape`] for buffer lengths that do not match `shape`;
/// [`ErrorKind::InvalidLogits`] for a NaN or `+inf` logit;
/// [`ErrorKind::AllMasked`] for a row that is all `-inf`;
/// [`ErrorKind::InvalidValue`] for an index outside `[0, classes)` or of a
/// masked class, or a `grad_out` value that is not finite (messages name the
/// row); [`ErrorKind::InvalidTemperature`] if `tau` is not finite or `<= 0`;
/// [`ErrorKind::InvalidParameter`] for a `gap` that is NaN, infinite or
/// negative. `grad_logits` is untouched on error.
pub fn gapped_straight_through_backward<E: Element>(
    logits: &[E],
    indices: &[i64],
    grad_out: &[E],
    grad_logits: &mut [E],
    shape: Shape,
    tau: E::Compute,
    gap: E::Compute,
) -> Result<()> {
    check_inputs(logits, indices, grad_out, grad_logits, shape)?;
    check_tau(tau)?;
    if !(gap.is_finite() && gap >= E::Compute::ZERO) {
        return Err(Error::new(
            ErrorKind::InvalidParameter,
            format!("gap must be finite and >= 0, got {gap}"),
        ));
    }
    estimators::gapped_straight_through(logits, indices, grad_out, grad_logits, shape, tau, gap)
}

/// The decoupled straight-through gradient (Shah et al. 2024; module docs):
/// `grad_logits = J(y_b)^T grad_out / tau_backward`, `y_b` the soft sample
/// [`crate::gumbel_softmax`] of `logits` at `tau_backward` with the forward
/// call's `(seed, offset)` (the same noise as its hard sample). Equal to
/// that soft sample followed by [`crate::gumbel_softmax_backward`] at
/// `tau_backward`, in one pass and without the intermediate tensor.
///
/// `logits`, `grad_out` and `grad_logits` are row-major
/// `(outer, classes, inner)` tensors of `shape.len()` elements.
///
/// # Errors
/// [`ErrorKind::InvalidShape`] for buffer lengths that do not match `shape`;
/// [`ErrorKind::InvalidTemperature`] if `tau_backward` is not finite or
/// `<= 0`; [`ErrorKind::InvalidLogits`] for a NaN or `+inf` logit;
/// [`ErrorKind::AllMasked`] for a row that is all `-inf`;
/// [`ErrorKind::InvalidValue`] for a `grad_out` value that is not finite.
/// `grad_logits` is untouched on error.
pub fn decoupled_straight_through_backward<E: Element>(
    logits: &[E],
    grad_out: &[E],
    grad_logits: &mut [E],
    shape: Shape,
    tau_backward: E::Compute,
    seed: u64,
    offset: u64,
) -> Result<()> {
    shape.check_len("logits", logits.len(), shape.len())?;
    shape.check_len("grad_out", grad_out.len(), shape.len())?;
    shape.check_len("grad_logits", grad_logits.len(), shape.len())?;
    check_tau(tau_backward)?;
    check_logits(shape, logits)?;
    check_finite(shape, "grad_out", grad_out)?;
    estimators::decoupled(
        logits,
        grad_out,
        grad_logits,
        shape,
        tau_backward,
        (seed, offset),
    )
}
