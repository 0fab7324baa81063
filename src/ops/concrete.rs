//! Log-densities of the Concrete (Gumbel-Softmax) distribution and of its
//! log-space form, the ExpConcrete, along the class axis.
//!
//! With `K` unmasked classes, logits `l` and temperature `tau`, the Concrete
//! density at `y` on the open simplex (Maddison et al. 2017, Definition 1;
//! Jang et al. 2017, eq. 3) is, in log space,
//!
//! `ln p(y) = lgamma(K) + (K-1) ln tau + sum_k (l_k - (tau+1) ln y_k) - K logsumexp_k(l_k - tau ln y_k)`,
//!
//! a density with respect to Lebesgue measure on `(y_1, ..., y_{K-1})` (any
//! `K - 1` of the coordinates give the same value). The ExpConcrete
//! (Maddison et al. 2017, the appendix on the ExpConcrete; TensorFlow
//! Probability's `ExpRelaxedOneHotCategorical`) is the law of `x = ln y`:
//!
//! `ln q(x) = lgamma(K) + (K-1) ln tau + sum_k (l_k - tau x_k) - K logsumexp_k(l_k - tau x_k)`
//!
//! `= ln p(e^x) + sum_k x_k` (all `K` classes). Changing variables from
//! `y_1..y_{K-1}` to `x_1..x_{K-1}` multiplies the density by the Jacobian
//! `prod_{k<K} y_k`, so the Lebesgue density of `(x_1..x_{K-1})` is
//! `ln p(e^x) + sum_{k<K} x_k = ln q(x) - x_K`: `q` is a density with
//! respect to the measure `exp(-x_K) dx_1 ... dx_{K-1}` on the log-simplex.
//! That measure is symmetric in the classes (on the log-simplex,
//! `e^{x_1} dx_1 = -e^{x_K} dx_K` with the others fixed, so
//! `exp(-x_K) dx_1 dx_2..dx_{K-1} = exp(-x_1) dx_2 ... dx_K`); it is
//! Lebesgue measure on the log-ratios `u_k = x_k - x_K` (`k < K`), since
//! `x = u - logsumexp(u, 0)` has Jacobian `det(I - 1 y^T) = y_K = e^{x_K}`.
//!
//! Both are evaluated in `f64` in log space (the plain products underflow
//! and overflow for many classes and small `tau`), with a streaming
//! `logsumexp` and the logits shifted by their row maximum.

use crate::error::{Error, ErrorKind, Result};
use crate::math::float::Float;
use crate::rows::softmax::{max, perturb_row};
use crate::rows::temperature::Temperature;
use crate::rows::validate::{check_logits, check_rows};
use crate::runtime::exec::{self, Output};
use crate::runtime::shape::Shape;

/// Concrete log-density, one value per row: `out[r] = ln p(y_r)` for the
/// rows `y_r` of a row-major `(outer, classes, inner)` tensor `y`, under
/// `Concrete(logits_r, tau)` (Maddison et al. 2017, Definition 1; Jang et
/// al. 2017, eq. 3; see the module docs for the formula).
///
/// Base measure: Lebesgue measure on the first `K - 1` coordinates of the
/// simplex of the `K` unmasked classes. Values are finite for every point of
/// the open simplex (in particular for every soft sample of
/// [`gumbel_softmax`](crate::gumbel_softmax) without zeros on unmasked
/// classes) and may be positive. A row with a single unmasked class is a
/// point mass: its log-density is 0.
///
/// Shapes: `y` and `logits` have `shape.len()` elements; `out` has
/// `shape.rows()` values in row order `(o, i)`.
///
/// Domain: logits are finite or `-inf` (masked). Each row of `y` lies in
/// `[0, 1]` with `y_k = 0` exactly on masked classes and `y_k > 0` on the
/// others, and sums to 1 within `(512 + K) * EPSILON` (`EPSILON` of `F`;
/// about `6e-5` for a few `f32` classes, `1.1e-13` for `f64`). The row is
/// evaluated at `y / sum(y)`: the formula is not invariant to the scale of
/// `y` (scaling by `c` moves it by `-K ln c`), so rounding in the sum would
/// otherwise bias it by about `K` times the error of the sum.
///
/// # Errors
/// [`ErrorKind::InvalidShape`] for buffer lengths that do not match `shape`;
/// [`ErrorKind::InvalidTemperature`] if `tau` is not finite or `<= 0`;
/// [`ErrorKind::InvalidLogits`] for a NaN or `+inf` logit;
/// [`ErrorKind::AllMasked`] for a row whose logits are all `-inf`;
/// [`ErrorKind::InvalidValue`] for the first row (in row order) of `y` with
/// an entry that is NaN or outside `[0, 1]`, a nonzero entry on a masked
/// class, a zero on an unmasked class (off the open simplex), or a sum
/// outside the tolerance. `out` is untouched on error.
pub fn concrete_log_prob<F: Float>(
    y: &[F],
    logits: &[F],
    out: &mut [F],
    shape: Shape,
    tau: F,
) -> Result<()> {
    concrete(y, logits, out, shape, Temperature::Scalar(tau))
}

/// [`concrete_log_prob`] with one temperature per row: `out[r] = ln p(y_r)`
/// under `Concrete(logits_r, tau[r])`, the same formula (Maddison et al.
/// 2017, Definition 1) with a row-dependent `tau`. `tau` has `shape.rows()`
/// entries in row order `(o, i)`; when every `tau[r]` equals `t` the output
/// is bit for bit that of `concrete_log_prob(.., t)`. Domain and base
/// measure as [`concrete_log_prob`].
///
/// # Errors
/// As [`concrete_log_prob`]; [`ErrorKind::InvalidShape`] also for a `tau` of
/// the wrong length, and [`ErrorKind::InvalidTemperature`] names the row of
/// the first bad `tau[r]`.
pub fn concrete_log_prob_per_row<F: Float>(
    y: &[F],
    logits: &[F],
    out: &mut [F],
    shape: Shape,
    tau: &[F],
) -> Result<()> {
    concrete(y, logits, out, shape, Temperature::PerRow(tau))
}

fn concrete<F: Float>(
    y: &[F],
    logits: &[F],
    out: &mut [F],
    shape: Shape,
    tau: Temperature<'_, F>,
) -> Result<()> {
    shape.check_len("y", y.len(), shape.len())?;
    shape.check_len("logits", logits.len(), shape.len())?;
    shape.check_len("out", out.len(), shape.rows())?;
    tau.check(shape)?;
    check_logits(shape, logits)?;
    check_rows(shape, |row| check_simplex_row(shape, y, logits, row))?;
    map_shifted_rows(shape, logits, out, |row, l, out| {
        let y = |k: usize| y[shape.index(row, k)].to_f64();
        let ln_total = (0..l.len()).map(y).sum::<f64>().ln();
        let tau = tau.of_row(row).to_f64();
        let (exp_concrete, sum_x) = exp_concrete_row(l, |k| y(k).ln() - ln_total, tau);
        *out = F::from_f64(exp_concrete - sum_x);
    })
}

/// ExpConcrete log-density, one value per row: `out[r] = ln q(x_r)` for the
/// rows `x_r` of a row-major `(outer, classes, inner)` tensor `x` of
/// log-probabilities, under `ExpConcrete(logits_r, tau)`, the law of the log
/// of a `Concrete(logits_r, tau)` point (Maddison et al. 2017, appendix on
/// the ExpConcrete; the form of TensorFlow Probability's
/// `ExpRelaxedOneHotCategorical`):
/// `lgamma(K) + (K-1) ln tau + sum_k (l_k - tau x_k) - K logsumexp_k(l_k - tau x_k)`
/// over the `K` unmasked classes.
///
/// Base measure: `exp(-x_K) dx_1 ... dx_{K-1}` on the log-simplex (symmetric
/// in the classes; equivalently Lebesgue measure on the log-ratios
/// `x_k - x_K`, `k < K`), NOT Lebesgue measure on `x_1..x_{K-1}`:
/// `ln q(x) = concrete_log_prob(e^x) + sum_k x_k` over all unmasked classes,
/// and the Lebesgue density of `(x_1..x_{K-1})` is `ln q(x) - x_K`. See the
/// module docs for the derivation. Values are finite for every row of
/// [`gumbel_log_softmax`](crate::gumbel_log_softmax) output, including
/// those whose soft sample underflows to 0 (small `tau`, many classes), and
/// may be positive. A row with a single unmasked class has log-density 0.
///
/// Shapes: `x` and `logits` have `shape.len()` elements; `out` has
/// `shape.rows()` values in row order `(o, i)`.
///
/// Domain: logits are finite or `-inf` (masked). Each row of `x` has
/// `x_k = -inf` exactly on masked classes, finite `x_k` on the others, and
/// `|logsumexp_k x_k| <= (512 + K) * EPSILON` (`EPSILON` of `F`). The value
/// is invariant to adding a constant to a row of `x`, so the tolerance does
/// not bias it.
///
/// # Errors
/// [`ErrorKind::InvalidShape`] for buffer lengths that do not match `shape`;
/// [`ErrorKind::InvalidTemperature`] if `tau` is not finite or `<= 0`;
/// [`ErrorKind::InvalidLogits`] for a NaN or `+inf` logit;
/// [`ErrorKind::AllMasked`] for a row whose logits are all `-inf`;
/// [`ErrorKind::InvalidValue`] for the first row (in row order) of `x` with
/// a NaN or `+inf` entry, a finite entry on a masked class, `-inf` on an
/// unmasked class (off the open simplex), or a `logsumexp` outside the
/// tolerance. `out` is untouched on error.
pub fn exp_concrete_log_prob<F: Float>(
    x: &[F],
    logits: &[F],
    out: &mut [F],
    shape: Shape,
    tau: F,
) -> Result<()> {
    exp_concrete(x, logits, out, shape, Temperature::Scalar(tau))
}

/// [`exp_concrete_log_prob`] with one temperature per row:
/// `out[r] = ln q(x_r)` under `ExpConcrete(logits_r, tau[r])`, the same
/// formula (Maddison et al. 2017, appendix on the ExpConcrete) with a
/// row-dependent `tau`. `tau` has `shape.rows()` entries in row order
/// `(o, i)`; when every `tau[r]` equals `t` the output is bit for bit that
/// of `exp_concrete_log_prob(.., t)`. Domain and base measure as
/// [`exp_concrete_log_prob`].
///
/// # Errors
/// As [`exp_concrete_log_prob`]; [`ErrorKind::InvalidShape`] also for a
/// `tau` of the wrong length, and [`ErrorKind::InvalidTemperature`] names
/// the row of the first bad `tau[r]`.
pub fn exp_concrete_log_prob_per_row<F: Float>(
    x: &[F],
    logits: &[F],
    out: &mut [F],
    shape: Shape,
    tau: &[F],
) -> Result<()> {
    exp_concrete(x, logits, out, shape, Temperature::PerRow(tau))
}

fn exp_concrete<F: Float>(
    x: &[F],
    logits: &[F],
    out: &mut [F],
    shape: Shape,
    tau: Temperature<'_, F>,
) -> Result<()> {
    check_exp_concrete(x, logits, shape, tau)?;
    shape.check_len("out", out.len(), shape.rows())?;
    map_shifted_rows(shape, logits, out, |row, l, out| {
        let x = |k: usize| x[shape.index(row, k)].to_f64();
        *out = F::from_f64(exp_concrete_row(l, x, tau.of_row(row).to_f64()).0);
    })
}

/// Checks the inputs of an ExpConcrete log-density or of its gradients:
/// buffer lengths, the temperature, the logits, and each row of `x` (see
/// [`exp_concrete_log_prob`] for the domain).
pub(crate) fn check_exp_concrete<F: Float>(
    x: &[F],
    logits: &[F],
    shape: Shape,
    tau: Temperature<'_, F>,
) -> Result<()> {
    shape.check_len("x", x.len(), shape.len())?;
    shape.check_len("logits", logits.len(), shape.len())?;
    tau.check(shape)?;
    check_logits(shape, logits)?;
    check_rows(shape, |row| check_log_simplex_row(shape, x, logits, row))
}

/// Applies `kernel(row, l, out)` to every row of an `(outer, classes, inner)`
/// tensor of logits, `l` being the row's logits minus their maximum (class
/// order) and `out` its entry of the per-row output (row order `(o, i)`).
fn map_shifted_rows<F: Float>(
    shape: Shape,
    logits: &[F],
    out: &mut [F],
    kernel: impl Fn(usize, &[F], &mut F) + Sync,
) -> Result<()> {
    exec::map_rows_n(
        shape,
        [logits],
        out,
        Output::PerRow,
        shape.classes(),
        |row, [l], l_shifted, out| {
            perturb_row(l, l_shifted, false);
            kernel(row, l_shifted, &mut out[0]);
        },
    )
}

/// The tolerance on `|sum_k y_k - 1|` (Concrete) and `|logsumexp_k x_k|`
/// (ExpConcrete) for a row of `k` unmasked classes of type `F`: 512 ulp of 1
/// plus one per class, as rounding errors of a sum grow with its length.
pub(crate) fn simplex_tolerance<F: Float>(k: usize) -> f64 {
    (512 + k) as f64 * F::EPSILON.to_f64()
}

/// Maddison's ExpConcrete log-density of one row, and `sum_k x_k`, both over
/// the unmasked classes of the logits row `l` (class order), with `x(k)`
/// the log-space point at class `k`. The logits are shifted by their
/// maximum, which leaves the value unchanged (the `sum_k l_k` and
/// `K logsumexp` terms move together) but keeps the sums small.
fn exp_concrete_row<F: Float>(l: &[F], x: impl Fn(usize) -> f64, tau: f64) -> (f64, f64) {
    let l_max = max(l).to_f64();
    let (mut k, mut linear, mut sum_x) = (0usize, 0.0f64, 0.0f64);
    let mut lse = LogSumExp::new();
    for (class, l) in l.iter().enumerate() {
        if *l == F::NEG_INFINITY {
            continue;
        }
        let x = x(class);
        let a = (l.to_f64() - l_max) - tau * x;
        k += 1;
        linear += a;
        sum_x += x;
        lse.add(a);
    }
    let kf = k as f64;
    let value = ln_gamma_of_integer(k) + (kf - 1.0) * tau.ln() + linear - kf * lse.value();
    (value, sum_x)
}

/// Checks row `row` of a Concrete point `y` against its logits (see
/// [`concrete_log_prob`] for the domain).
fn check_simplex_row<F: Float>(shape: Shape, y: &[F], logits: &[F], row: usize) -> Result<()> {
    let (mut k, mut total) = (0usize, 0.0f64);
    for class in 0..shape.classes() {
        let index = shape.index(row, class);
        let (v, l) = (y[index], logits[index]);
        let bad = |why: &str| {
            Err(Error::new(
                ErrorKind::InvalidValue,
                format!("y at row {row}, class {class} is {v}: {why}"),
            ))
        };
        if !(v >= F::ZERO && v <= F::ONE) {
            return bad("Concrete points lie in [0, 1]");
        }
        if l == F::NEG_INFINITY {
            if v != F::ZERO {
                return bad("the class is masked (logit -inf), so y must be 0 there");
            }
        } else if v == F::ZERO {
            return bad(
                "0 on an unmasked class is off the open simplex, where the density is defined",
            );
        } else {
            k += 1;
            total += v.to_f64();
        }
    }
    let tolerance = simplex_tolerance::<F>(k);
    if (total - 1.0).abs() > tolerance {
        return Err(Error::new(
            ErrorKind::InvalidValue,
            format!(
                "row {row} of y sums to {total}, not 1 (tolerance {tolerance:.1e}): it is not a point of the simplex"
            ),
        ));
    }
    Ok(())
}

/// Checks row `row` of an ExpConcrete point `x` against its logits (see
/// [`exp_concrete_log_prob`] for the domain).
fn check_log_simplex_row<F: Float>(shape: Shape, x: &[F], logits: &[F], row: usize) -> Result<()> {
    let mut k = 0usize;
    let mut lse = LogSumExp::new();
    for class in 0..shape.classes() {
        let index = shape.index(row, class);
        let (v, l) = (x[index], logits[index]);
        let bad = |why: &str| {
            Err(Error::new(
                ErrorKind::InvalidValue,
                format!("x at row {row}, class {class} is {v}: {why}"),
            ))
        };
        if v.is_nan() || v == F::INFINITY {
            return bad("ExpConcrete points are log-probabilities, finite or -inf");
        }
        if l == F::NEG_INFINITY {
            if v != F::NEG_INFINITY {
                return bad("the class is masked (logit -inf), so x must be -inf there");
            }
        } else if v == F::NEG_INFINITY {
            return bad(
                "-inf on an unmasked class is off the open simplex, where the density is defined",
            );
        } else {
            k += 1;
            lse.add(v.to_f64());
        }
    }
    let tolerance = simplex_tolerance::<F>(k);
    let value = lse.value();
    if value.abs() > tolerance {
        return Err(Error::new(
            ErrorKind::InvalidValue,
            format!(
                "row {row} of x has logsumexp {value}, not 0 (tolerance {tolerance:.1e}): it is not a point of the log-simplex"
            ),
        ));
    }
    Ok(())
}

/// A one-pass `ln(sum_k exp(a_k))` over finite values: the running maximum
/// and the sum of `exp(a_k - max)`, rescaled when the maximum grows.
pub(crate) struct LogSumExp {
    max: f64,
    sum: f64,
}

impl LogSumExp {
    pub(crate) fn new() -> Self {
        Self {
            max: f64::NEG_INFINITY,
            sum: 0.0,
        }
    }

    pub(crate) fn add(&mut self, a: f64) {
        if a > self.max {
            self.sum = self.sum * (self.max - a).exp() + 1.0;
            self.max = a;
        } else {
            self.sum += (a - self.max).exp();
        }
    }

    /// `-inf` for an empty sum.
    pub(crate) fn value(&self) -> f64 {
        self.max + self.sum.ln()
    }
}

/// `lgamma(k) = ln((k-1)!)` for an integer `k >= 1`: the sum of logarithms
/// below 20, the Stirling series with four correction terms from 20 on
/// (truncation error below `1 / (1188 k^9) < 2e-15`). Thread-safe, unlike
/// C's `lgamma`, which writes the global `signgam`.
fn ln_gamma_of_integer(k: usize) -> f64 {
    if k < 20 {
        return (2..k).map(|j| (j as f64).ln()).sum();
    }
    let n = k as f64;
    let (n2, ln_sqrt_2pi) = (n * n, 0.918_938_533_204_672_8);
    let series = (1.0 / 12.0 - (1.0 / 360.0 - (1.0 / 1260.0 - 1.0 / (1680.0 * n2)) / n2) / n2) / n;
    (n - 0.5) * n.ln() - n + ln_sqrt_2pi + series
}

#[cfg(test)]
mod tests {
    use super::*;
    use statrs::function::gamma::ln_gamma;

    #[test]
    fn ln_gamma_of_integers_matches_statrs() {
        for k in (1..200).chain([1000, 12_345, 1 << 20]) {
            let want = ln_gamma(k as f64);
            let got = ln_gamma_of_integer(k);
            assert!(
                (got - want).abs() <= 1e-14 * want.abs().max(1.0),
                "k = {k}: {got} vs {want}"
            );
        }
        assert_eq!(ln_gamma_of_integer(1), 0.0);
        assert_eq!(ln_gamma_of_integer(2), 0.0);
    }

    #[test]
    fn streaming_logsumexp_matches_the_two_pass_one() {
        let a = [-3.0, 700.0, 1.5, 705.0, -1e300, 0.0];
        let m = 705.0f64;
        let want = m + a.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
        let mut lse = LogSumExp::new();
        a.iter().for_each(|&v| lse.add(v));
        assert!((lse.value() - want).abs() < 1e-12, "{}", lse.value());
        assert_eq!(LogSumExp::new().value(), f64::NEG_INFINITY);
    }
}
