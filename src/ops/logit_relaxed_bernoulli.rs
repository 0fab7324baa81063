//! The relaxed Bernoulli in logit space (the logistic law of
//! `logit(y)`), elementwise with one temperature per element: samples,
//! the log-density and its gradients.
//!
//! With a logit `l`, temperature `tau` and standard logistic noise `L`, the
//! relaxed Bernoulli sample is `y = sigmoid(x)` with `x = (l + L) / tau`
//! (Maddison et al. 2017, Sec. 3.3). `x` is logistic with location
//! `l / tau` and scale `1 / tau`, so with `d = l - tau x` (and the logistic
//! density being even)
//!
//! `ln p(x) = ln tau + d - 2 ln(1 + e^d) = ln tau - |d| - 2 ln(1 + e^-|d|)`,
//!
//! a density with respect to Lebesgue measure on the real line. Its
//! gradients, with `dd/dl = 1`, `dd/dx = -tau`, `dd/dtau = -x` and
//! `d/dd (d - 2 ln(1 + e^d)) = 1 - 2 sigmoid(d) = -tanh(d / 2)`:
//! `d/dl = -tanh(d/2)`, `d/dx = tau tanh(d/2)`, `d/dtau = 1/tau + x tanh(d/2)`.

use crate::error::Result;
use crate::math::float::Float;
use crate::ops::noise;
use crate::rng::stream::CHUNK_ELEMENTS;
use crate::rng::variate::Logistic;
use crate::rows::validate::{
    check_finite_flat, check_finite_logits, check_same_len, check_tau_per_row,
};
use crate::runtime::exec;

/// Logit-space relaxed Bernoulli samples, elementwise:
/// `out[j] = (logits[j] + L_j) / tau[j]` (Maddison et al. 2017, Sec. 3.3,
/// the binary Concrete before its sigmoid), with exactly the logistic noise
/// `L_j` of [`relaxed_bernoulli`](crate::relaxed_bernoulli) for the same
/// `(seed, offset)`: where `tau[j]` equals that call's `tau`, the sigmoid of
/// `out[j]` is its soft sample before the clamp into `(0, 1)`. Values are
/// finite (`|L_j| <= 44.4`) unless the division overflows `F` (a subnormal
/// `tau`). Consumes `ceil(n / CHUNK_ELEMENTS)` stream ids, as
/// [`relaxed_bernoulli`](crate::relaxed_bernoulli).
///
/// `logits`, `tau` and `out` have the same length.
///
/// # Errors
/// [`ErrorKind::InvalidShape`](crate::ErrorKind::InvalidShape) if the
/// lengths differ;
/// [`ErrorKind::InvalidTemperature`](crate::ErrorKind::InvalidTemperature) for
/// the first `tau[j]` that is not finite or `<= 0`;
/// [`ErrorKind::InvalidLogits`](crate::ErrorKind::InvalidLogits) for the
/// first NaN or infinite logit. `out` is untouched on error.
pub fn logit_relaxed_bernoulli<F: Float>(
    logits: &[F],
    tau: &[F],
    out: &mut [F],
    seed: u64,
    offset: u64,
) -> Result<()> {
    check_same_len("tau", tau.len(), "logits", logits.len())?;
    check_same_len("out", out.len(), "logits", logits.len())?;
    check_tau_per_row(tau)?;
    check_finite_logits(logits)?;
    noise::fill_flat::<F, Logistic>(out, seed, offset, |start, chunk| {
        let end = start + chunk.len();
        for ((x, &l), &t) in chunk
            .iter_mut()
            .zip(&logits[start..end])
            .zip(&tau[start..end])
        {
            *x = (l + *x) / t;
        }
    })
}

/// Logit-space relaxed Bernoulli log-density, elementwise:
/// `out[j] = ln tau[j] - |d| - 2 ln(1 + e^-|d|)` with
/// `d = logits[j] - tau[j] x[j]`, the logistic density of `x` with location
/// `l / tau` and scale `1 / tau` (Maddison et al. 2017, Sec. 3.3; see the
/// module docs), with respect to Lebesgue measure on the real line; in
/// `f64`. Values are `<= ln(tau / 4)`.
///
/// `x`, `logits`, `tau` and `out` have the same length.
///
/// # Errors
/// [`ErrorKind::InvalidShape`](crate::ErrorKind::InvalidShape) if the
/// lengths differ;
/// [`ErrorKind::InvalidTemperature`](crate::ErrorKind::InvalidTemperature) for
/// the first bad `tau[j]`;
/// [`ErrorKind::InvalidLogits`](crate::ErrorKind::InvalidLogits) for the
/// first NaN or infinite logit;
/// [`ErrorKind::InvalidValue`](crate::ErrorKind::InvalidValue) for the first
/// NaN or infinite `x[j]`. `out` is untouched on error.
pub fn logit_relaxed_bernoulli_log_prob<F: Float>(
    x: &[F],
    logits: &[F],
    tau: &[F],
    out: &mut [F],
) -> Result<()> {
    elementwise(x, logits, tau, out, |_, d, t| {
        t.ln() - d.abs() - 2.0 * (-d.abs()).exp().ln_1p()
    })
}

/// The gradient of [`logit_relaxed_bernoulli_log_prob`] with respect to the
/// logits, elementwise: `out[j] = 1 - 2 sigmoid(d) = -tanh(d / 2)` with
/// `d = logits[j] - tau[j] x[j]` (see the module docs); the gradient with
/// respect to `x[j]` is `-tau[j] * out[j]`. Values lie in `[-1, 1]`.
///
/// # Errors
/// As [`logit_relaxed_bernoulli_log_prob`].
pub fn logit_relaxed_bernoulli_log_prob_grad_logits<F: Float>(
    x: &[F],
    logits: &[F],
    tau: &[F],
    out: &mut [F],
) -> Result<()> {
    elementwise(x, logits, tau, out, |_, d, _| -(0.5 * d).tanh())
}

/// The gradient of [`logit_relaxed_bernoulli_log_prob`] with respect to the
/// temperature, elementwise: `out[j] = 1 / tau[j] + x[j] tanh(d / 2)` with
/// `d = logits[j] - tau[j] x[j]` (see the module docs).
///
/// # Errors
/// As [`logit_relaxed_bernoulli_log_prob`].
pub fn logit_relaxed_bernoulli_log_prob_grad_tau<F: Float>(
    x: &[F],
    logits: &[F],
    tau: &[F],
    out: &mut [F],
) -> Result<()> {
    elementwise(x, logits, tau, out, |x, d, t| {
        1.0 / t + x * (0.5 * d).tanh()
    })
}

/// Checks the inputs and writes `out[j] = f(x, d, tau)` in `f64`, with
/// `d = l - tau x`.
fn elementwise<F: Float>(
    x: &[F],
    logits: &[F],
    tau: &[F],
    out: &mut [F],
    f: impl Fn(f64, f64, f64) -> f64 + Sync,
) -> Result<()> {
    check_same_len("logits", logits.len(), "x", x.len())?;
    check_same_len("tau", tau.len(), "x", x.len())?;
    check_same_len("out", out.len(), "x", x.len())?;
    check_tau_per_row(tau)?;
    check_finite_logits(logits)?;
    check_finite_flat("x", x)?;
    let parallel = out.len() >= exec::PARALLEL_MIN_ELEMENTS;
    exec::for_each_chunk_mut(out, CHUNK_ELEMENTS, parallel, |c, chunk| {
        let start = c * CHUNK_ELEMENTS;
        for (j, out) in chunk.iter_mut().enumerate() {
            let (x, l, t) = (
                x[start + j].to_f64(),
                logits[start + j].to_f64(),
                tau[start + j].to_f64(),
            );
            *out = F::from_f64(f(x, l - t * x, t));
        }
    })
}
