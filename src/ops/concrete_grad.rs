//! Gradients of the ExpConcrete log-density with respect to the logits,
//! the point and the temperature, along the class axis.
//!
//! With `K` unmasked classes, logits `l`, temperature `tau` and a point `x`
//! of the log-simplex, the ExpConcrete log-density (Maddison et al. 2017,
//! appendix on the ExpConcrete; see [`exp_concrete_log_prob`]) is
//!
//! `f = lgamma(K) + (K-1) ln tau + sum_k a_k - K logsumexp_k(a_k)`, `a_k = l_k - tau x_k`.
//!
//! With `s = softmax(a)` over the unmasked classes, `df/da_k = 1 - K s_k`,
//! and `da_k/dl_k = 1`, `da_k/dx_k = -tau`, `da_k/dtau = -x_k`, so
//!
//! - `df/dl_k = 1 - K s_k` (these sum to 0 over the row),
//! - `df/dx_k = -tau (1 - K s_k)`,
//! - `df/dtau = (K-1)/tau - sum_k x_k (1 - K s_k)`.
//!
//! Masked classes (logit `-inf`, `x = -inf`) take no part: their gradients
//! are 0. The Concrete log-density is the ExpConcrete one at `x = ln y`
//! minus `sum_k ln y_k`, so its gradients follow by the chain rule.
//!
//! [`exp_concrete_log_prob`]: crate::exp_concrete_log_prob

use crate::error::Result;
use crate::math::float::Float;
use crate::ops::concrete::{check_exp_concrete, LogSumExp};
use crate::rows::temperature::Temperature;
use crate::runtime::exec::{self, Output};
use crate::runtime::shape::Shape;

/// The gradient of the ExpConcrete log-density with respect to the logits,
/// one value per element: `out[k] = 1 - K s_k` with
/// `s = softmax_k(l_k - tau[r] x_k)` over the `K` unmasked classes of row
/// `r`, and 0 on masked classes (see the module docs for the derivation
/// from Maddison et al. 2017, appendix on the ExpConcrete). The gradient
/// with respect to the point `x` is `-tau[r] * out`.
///
/// Shapes: `x`, `logits` and `out` have `shape.len()` elements in the
/// `(outer, classes, inner)` layout; `tau` has `shape.rows()` entries in
/// row order `(o, i)`. Domain as [`exp_concrete_log_prob`](crate::exp_concrete_log_prob).
/// Values lie in `[1 - K, 1]`, computed in `f64`.
///
/// # Errors
/// As [`exp_concrete_log_prob_per_row`](crate::exp_concrete_log_prob_per_row):
/// [`ErrorKind::InvalidShape`](crate::ErrorKind::InvalidShape),
/// [`ErrorKind::InvalidTemperature`](crate::ErrorKind::InvalidTemperature),
/// [`ErrorKind::InvalidLogits`](crate::ErrorKind::InvalidLogits),
/// [`ErrorKind::AllMasked`](crate::ErrorKind::AllMasked),
/// [`ErrorKind::InvalidValue`](crate::ErrorKind::InvalidValue). `out` is
/// untouched on error.
pub fn exp_concrete_log_prob_grad_logits_per_row<F: Float>(
    x: &[F],
    logits: &[F],
    out: &mut [F],
    shape: Shape,
    tau: &[F],
) -> Result<()> {
    let tau = Temperature::PerRow(tau);
    check_exp_concrete(x, logits, shape, tau)?;
    shape.check_len("out", out.len(), shape.len())?;
    exec::map_rows_n(
        shape,
        [x, logits],
        out,
        Output::PerElement,
        0,
        |row, [x, l], _, out| {
            let row = Row::new(x, l, tau.of_row(row).to_f64());
            for (k, out) in out.iter_mut().enumerate() {
                *out = F::from_f64(row.score(k));
            }
        },
    )
}

/// The gradient of the ExpConcrete log-density with respect to the
/// temperature, one value per row:
/// `out[r] = (K-1)/tau[r] - sum_k x_k (1 - K s_k)` over the `K` unmasked
/// classes, `s = softmax_k(l_k - tau[r] x_k)` (see the module docs for the
/// derivation from Maddison et al. 2017, appendix on the ExpConcrete).
/// Computed in `f64`; unchanged when a constant is added to a row of `x`
/// (the `1 - K s_k` sum to 0).
///
/// Shapes: `x` and `logits` have `shape.len()` elements in the
/// `(outer, classes, inner)` layout; `tau` and `out` have `shape.rows()`
/// entries in row order `(o, i)`. Domain as
/// [`exp_concrete_log_prob`](crate::exp_concrete_log_prob).
///
/// # Errors
/// As [`exp_concrete_log_prob_grad_logits_per_row`]. `out` is untouched on
/// error.
pub fn exp_concrete_log_prob_grad_tau_per_row<F: Float>(
    x: &[F],
    logits: &[F],
    out: &mut [F],
    shape: Shape,
    tau: &[F],
) -> Result<()> {
    let tau = Temperature::PerRow(tau);
    check_exp_concrete(x, logits, shape, tau)?;
    shape.check_len("out", out.len(), shape.rows())?;
    exec::map_rows_n(
        shape,
        [x, logits],
        out,
        Output::PerRow,
        0,
        |row, [x, l], _, out| {
            let t = tau.of_row(row).to_f64();
            let row = Row::new(x, l, t);
            let linear: f64 = (0..l.len())
                .filter(|&k| l[k] != F::NEG_INFINITY)
                .map(|k| x[k].to_f64() * row.score(k))
                .sum();
            out[0] = F::from_f64((row.k - 1.0) / t - linear);
        },
    )
}

/// One row's `a_k = (l_k - max l) - tau x_k` (unmasked classes) and their
/// `logsumexp`, from which `s_k = exp(a_k - logsumexp)`.
struct Row<'a, F> {
    x: &'a [F],
    l: &'a [F],
    tau: f64,
    l_max: f64,
    lse: f64,
    /// The number of unmasked classes.
    k: f64,
}

impl<'a, F: Float> Row<'a, F> {
    fn new(x: &'a [F], l: &'a [F], tau: f64) -> Self {
        let l_max = l.iter().fold(f64::NEG_INFINITY, |m, v| m.max(v.to_f64()));
        let mut row = Self {
            x,
            l,
            tau,
            l_max,
            lse: 0.0,
            k: 0.0,
        };
        let mut lse = LogSumExp::new();
        for (k, l) in l.iter().enumerate() {
            if *l != F::NEG_INFINITY {
                lse.add(row.a(k));
                row.k += 1.0;
            }
        }
        row.lse = lse.value();
        row
    }

    fn a(&self, k: usize) -> f64 {
        (self.l[k].to_f64() - self.l_max) - self.tau * self.x[k].to_f64()
    }

    /// `1 - K s_k`, 0 for a masked class.
    fn score(&self, k: usize) -> f64 {
        if self.l[k] == F::NEG_INFINITY {
            0.0
        } else {
            1.0 - self.k * (self.a(k) - self.lse).exp()
        }
    }
}
