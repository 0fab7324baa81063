//! The relaxed Bernoulli (binary Concrete) distribution, elementwise:
//! sampling (soft and hard), the vector-Jacobian product of the soft
//! sample, and the log-density.
//!
//! With a logit `l`, temperature `tau` and standard logistic noise `L`, the
//! soft sample is `y = sigmoid((l + L) / tau)` (Maddison et al. 2017,
//! Sec. 3.3; Jang et al. 2017): the first coordinate of a two-class Concrete
//! sample with logits `(l, 0)`, since the difference of two Gumbel variates
//! is logistic. Its log-density, with `t = tau * logit(y) - l`, is
//! `ln tau - t - 2 ln(1 + e^-t) - ln y - ln(1 - y)`: the logistic density of
//! `t` times the Jacobian `tau / (y (1 - y))` of `y -> t`.

use crate::error::Result;
use crate::math::float::Float;
use crate::ops::noise;
use crate::rng::stream::CHUNK_ELEMENTS;
use crate::rng::variate::Logistic;
use crate::rows::validate::{
    check_finite_flat, check_finite_logits, check_open_unit, check_same_len, check_tau,
};
use crate::runtime::exec;

/// Relaxed Bernoulli (binary Concrete) samples, elementwise:
/// `out[j] = sigmoid((logits[j] + L_j) / tau)` with `L_j` standard logistic
/// noise (Maddison et al. 2017, Sec. 3.3; Jang et al. 2017). With `hard`,
/// `out[j]` is instead exactly 1 where `logits[j] + L_j > 0` and 0 otherwise
/// (a tie `logits[j] + L_j == 0` gives 0); this is the straight-through
/// forward, an exact `Bernoulli(sigmoid(logits[j]))` draw, and its gradient
/// is the soft sample's (see [`relaxed_bernoulli_backward`]), recomputed with
/// `hard = false` and the same `(seed, offset)`.
///
/// Values: soft samples lie in the closed interval
/// `[MIN_POSITIVE, 1 - EPSILON / 2]` of `F` (smallest positive normal,
/// largest value below 1), inside the open interval `(0, 1)`: the sigmoid
/// rounds to exactly 1 or 0 when `(logits[j] + L_j) / tau` is beyond about
/// 17.3 or below -87.3 for `f32` (36.7 and -708 for `f64`), and is clamped
/// there, so every sample has a finite [`relaxed_bernoulli_log_prob`].
///
/// Randomness: `L_j` uses the same 64 random bits as element `j` of
/// [`noise`](crate::noise) for the same `(seed, offset)`: it is the logistic
/// quantile of that Gumbel variate `g_j`, `L = logit(exp(-exp(-g)))`, finite
/// and within `+-44.4`. Chunk `c` of [`CHUNK_ELEMENTS`] elements draws from
/// stream `offset + c`; the call consumes
/// [`crate::streams`]`(Shape::matrix(1, n))` = `ceil(n / 16384)` stream ids.
///
/// # Errors
/// [`ErrorKind::InvalidShape`](crate::ErrorKind::InvalidShape) if `out` and
/// `logits` differ in length;
/// [`ErrorKind::InvalidTemperature`](crate::ErrorKind::InvalidTemperature) if
/// `tau` is not finite or `<= 0`;
/// [`ErrorKind::InvalidLogits`](crate::ErrorKind::InvalidLogits) for a NaN
/// or infinite logit (`-inf` does not mask anything here). `out` is
/// untouched on error.
pub fn relaxed_bernoulli<F: Float>(
    logits: &[F],
    out: &mut [F],
    tau: F,
    hard: bool,
    seed: u64,
    offset: u64,
) -> Result<()> {
    check_same_len("out", out.len(), "logits", logits.len())?;
    check_tau(tau)?;
    check_finite_logits(logits)?;
    noise::fill_flat::<F, Logistic>(out, seed, offset, |start, chunk| {
        let logits = &logits[start..start + chunk.len()];
        if hard {
            for (y, &l) in chunk.iter_mut().zip(logits) {
                *y = if l + *y > F::ZERO { F::ONE } else { F::ZERO };
            }
        } else {
            for (y, &l) in chunk.iter_mut().zip(logits) {
                *y = clamped_sigmoid((l + *y) / tau);
            }
        }
    })
}

/// `sigmoid(s)` clamped into `[MIN_POSITIVE, 1 - EPSILON / 2]`, computed
/// with an exponential of a non-positive argument only.
#[inline(always)]
fn clamped_sigmoid<F: Float>(s: F) -> F {
    let y = if s >= F::ZERO {
        F::ONE / (F::ONE + (-s).exp())
    } else {
        let e = s.exp();
        e / (F::ONE + e)
    };
    if y < F::MIN_POSITIVE {
        F::MIN_POSITIVE
    } else if y > F::ONE_BELOW {
        F::ONE_BELOW
    } else {
        y
    }
}

/// Vector-Jacobian product of the soft relaxed Bernoulli sample:
/// `grad_logits[j] = grad_out[j] * y[j] (1 - y[j]) / tau`, since
/// `dy/dl = y (1 - y) / tau` for `y = sigmoid((l + L) / tau)` (the noise is
/// fixed by `(seed, offset)`). For the hard sample (straight-through), pass
/// the soft sample `y` recomputed by [`relaxed_bernoulli`] with
/// `hard = false` and the same `(seed, offset)`: the gradient of the hard
/// sample is defined as the soft one's.
///
/// `y`, `grad_out` and `grad_logits` have the same length. Computed in
/// `f64`; a result overflows to `+-inf` only if its exact value exceeds the
/// range of `F`.
///
/// # Errors
/// [`ErrorKind::InvalidShape`](crate::ErrorKind::InvalidShape) if the
/// lengths differ;
/// [`ErrorKind::InvalidTemperature`](crate::ErrorKind::InvalidTemperature) if
/// `tau` is not finite or `<= 0`;
/// [`ErrorKind::InvalidValue`](crate::ErrorKind::InvalidValue) for the first
/// `y[j]` outside the open interval `(0, 1)` (every soft sample is inside; a
/// 0 or 1 is usually a hard sample passed by mistake) or NaN, then for the
/// first non-finite `grad_out[j]`. `grad_logits` is untouched on error.
pub fn relaxed_bernoulli_backward<F: Float>(
    y: &[F],
    grad_out: &[F],
    grad_logits: &mut [F],
    tau: F,
) -> Result<()> {
    check_same_len("grad_out", grad_out.len(), "y", y.len())?;
    check_same_len("grad_logits", grad_logits.len(), "y", y.len())?;
    check_tau(tau)?;
    check_open_unit("y", y)?;
    check_finite_flat("grad_out", grad_out)?;
    let tau = tau.to_f64();
    for_each_chunk(grad_logits, |start, chunk| {
        for (j, g) in chunk.iter_mut().enumerate() {
            let (y, v) = (y[start + j].to_f64(), grad_out[start + j].to_f64());
            *g = F::from_f64(v * (y * (1.0 - y)) / tau);
        }
    })
}

/// Relaxed Bernoulli (binary Concrete) log-density, elementwise:
/// `out[j] = ln p(y[j])` under `RelaxedBernoulli(logits[j], tau)` (Maddison
/// et al. 2017, Sec. 3.3, eq. for the binary Concrete density), with
/// `t = tau * logit(y) - l`:
/// `ln p(y) = ln tau - t - 2 ln(1 + e^-t) - ln y - ln(1 - y)`,
/// evaluated in `f64` as `ln tau - |t| - 2 ln_1p(e^-|t|) - ln y - ln_1p(-y)`
/// (the two forms agree for either sign of `t`, and this one cannot
/// overflow). A density with respect to Lebesgue measure on `(0, 1)`; it
/// equals the two-class [`concrete_log_prob`](crate::concrete_log_prob)
/// with logits `(l, 0)` at `(y, 1 - y)`. Values may be positive; they are
/// finite at every sample [`relaxed_bernoulli`] returns.
///
/// `y`, `logits` and `out` have the same length.
///
/// # Errors
/// [`ErrorKind::InvalidShape`](crate::ErrorKind::InvalidShape) if the
/// lengths differ;
/// [`ErrorKind::InvalidTemperature`](crate::ErrorKind::InvalidTemperature) if
/// `tau` is not finite or `<= 0`;
/// [`ErrorKind::InvalidLogits`](crate::ErrorKind::InvalidLogits) for the
/// first NaN or infinite logit;
/// [`ErrorKind::InvalidValue`](crate::ErrorKind::InvalidValue) for the first
/// `y[j]` outside the open interval `(0, 1)` or NaN. `out` is untouched on
/// error.
pub fn relaxed_bernoulli_log_prob<F: Float>(
    y: &[F],
    logits: &[F],
    out: &mut [F],
    tau: F,
) -> Result<()> {
    check_same_len("logits", logits.len(), "y", y.len())?;
    check_same_len("out", out.len(), "y", y.len())?;
    check_tau(tau)?;
    check_finite_logits(logits)?;
    check_open_unit("y", y)?;
    let tau = tau.to_f64();
    let ln_tau = tau.ln();
    for_each_chunk(out, |start, chunk| {
        for (j, out) in chunk.iter_mut().enumerate() {
            let (y, l) = (y[start + j].to_f64(), logits[start + j].to_f64());
            let (ln_y, ln_1m_y) = (y.ln(), (-y).ln_1p());
            let t = (tau * (ln_y - ln_1m_y) - l).abs();
            *out = F::from_f64(ln_tau - t - 2.0 * (-t).exp().ln_1p() - ln_y - ln_1m_y);
        }
    })
}

/// Runs `body(start, chunk)` over consecutive chunks of an elementwise
/// output, in parallel for long ones; `start` indexes the chunk's first
/// element.
fn for_each_chunk<F: Float>(out: &mut [F], body: impl Fn(usize, &mut [F]) + Sync) -> Result<()> {
    let parallel = out.len() >= exec::PARALLEL_MIN_ELEMENTS;
    exec::for_each_chunk_mut(out, CHUNK_ELEMENTS, parallel, |c, chunk| {
        body(c * CHUNK_ELEMENTS, chunk)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sigmoid_is_clamped_inside_the_open_interval() {
        assert_eq!(clamped_sigmoid(200.0f32), 1.0 - f32::EPSILON / 2.0);
        assert_eq!(clamped_sigmoid(-200.0f32), f32::MIN_POSITIVE);
        assert_eq!(clamped_sigmoid(f64::INFINITY), 1.0 - f64::EPSILON / 2.0);
        assert_eq!(clamped_sigmoid(f64::NEG_INFINITY), f64::MIN_POSITIVE);
        assert_eq!(clamped_sigmoid(0.0f64), 0.5);
        let s = 1.25f64;
        let want = 1.0 / (1.0 + (-s).exp());
        assert!((clamped_sigmoid(s) - want).abs() < 1e-16);
        assert!((clamped_sigmoid(-s) - (1.0 - want)).abs() < 1e-16);
    }
}
