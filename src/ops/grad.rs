//! Vector-Jacobian products of the Gumbel-Softmax sample: gradients with
//! respect to the logits and to the temperature.
//!
//! # Derivation
//!
//! For one row, with fixed noise `g`, `u = (logits + g) / tau`,
//! `y = softmax(u)` and an incoming gradient `v = dL/dy`:
//!
//! - The softmax Jacobian is `dy_j/du_k = y_j (delta_jk - y_k)`, so
//!   `dL/du_k = sum_j v_j y_j (delta_jk - y_k) = y_k (v_k - <v, y>)`.
//! - `du_k/dlogits_k = 1/tau`, hence
//!   `dL/dlogits = y ⊙ (v - <v, y>) / tau`
//!   (Jang et al. 2017, section 2; Maddison et al. 2017, eq. 10).
//! - `du_k/dtau = -u_k / tau`, hence
//!   `dL/dtau = -(1/tau) sum_k y_k (v_k - <v, y>) u_k`. Because
//!   `sum_k y_k (v_k - <v, y>) = <v, y> - <v, y> sum_k y_k = 0`, adding a
//!   constant to every `u_k` of the row leaves this unchanged; since
//!   `u_k = ln y_k + logsumexp(u)`, it equals
//!   `dL/dtau = -(1/tau) sum_k y_k (v_k - <v, y>) ln y_k`,
//!   with `0 ln 0 = 0` (a masked class has `u_k = -inf` whatever `tau`, so it
//!   contributes nothing). Both gradients therefore need only `y` and `v`:
//!   neither the logits nor the noise.
//!
//! Straight-through (Jang et al. 2017, section 2.2): the hard sample's
//! forward is the one-hot of `argmax y`, and its backward is the soft
//! sample's, so the same functions serve both. A caller who kept only the
//! hard output recovers `y` exactly by calling the forward again with
//! `hard = false` and the same `(seed, offset)` (and temperatures).
//!
//! Masked classes (`y_k == 0` exactly, which includes every `-inf` logit)
//! get exactly 0, never NaN. Row reductions use [`crate::rows::softmax`]'s fixed
//! accumulator layout, so results are the same bits for any thread count.

use crate::error::Result;
use crate::math::element::Element;
use crate::math::float::Float;
use crate::rows::backward::{self, grad_tau_row, grad_tau_row_times_tau};
use crate::rows::softmax::sum;
use crate::rows::temperature::Temperature;
use crate::rows::validate::{check_finite, check_soft_sample};
use crate::runtime::exec::{self, Output};
use crate::runtime::scratch::with_compute;
use crate::runtime::shape::Shape;

/// Gradient of a loss with respect to the logits of a Gumbel-Softmax
/// sample (soft, or hard through the straight-through estimator):
/// `grad_logits = y_soft ⊙ (grad_out - <grad_out, y_soft>) / tau` along the
/// class axis of a row-major `(outer, classes, inner)` tensor
/// (Jang et al. 2017; derivation in the module docs).
///
/// `y_soft`, `grad_out` (`dL/dy`) and `grad_logits` have `shape.len()`
/// elements in the same layout. `y_soft` is the soft sample of the forward
/// call ([`crate::gumbel_softmax`] with `hard = false`; after a hard forward,
/// rerun it with `hard = false` and the same `(seed, offset)` to get it
/// exactly) and `tau` its temperature. The gradient does not depend on the
/// noise or the logits beyond `y_soft`. Classes with `y_soft == 0` (masked)
/// get exactly 0; each row of `grad_logits` sums to 0 up to rounding.
///
/// `y_soft` values must be finite and in `[0, 1]`; their row sums are not
/// checked: doing so would add a strided pass over the class axis and a
/// tolerance that either misses wrong rows or rejects legitimately rounded
/// ones (`f32` rows sum to 1 only within a few ulp), for every call. A row
/// that is not a soft sample gives the vector-Jacobian product of a point
/// off the simplex, not an error. Results overflow to infinity only when
/// the exact gradient does, or when `<grad_out, y_soft>` overflows.
///
/// # Errors
/// [`ErrorKind::InvalidShape`](crate::ErrorKind::InvalidShape) for buffer
/// lengths that do not match `shape`;
/// [`ErrorKind::InvalidTemperature`](crate::ErrorKind::InvalidTemperature) if
/// `tau` is not finite or `<= 0`;
/// [`ErrorKind::InvalidValue`](crate::ErrorKind::InvalidValue) for a `y_soft`
/// value that is NaN or outside `[0, 1]`, or a `grad_out` value that is not
/// finite (the message names its row and class): the values are checked
/// while the gradient is computed (one read of each input), so
/// `grad_logits` holds unspecified values after this error; it is untouched
/// on every other error.
pub fn gumbel_softmax_backward<E: Element>(
    y_soft: &[E],
    grad_out: &[E],
    grad_logits: &mut [E],
    shape: Shape,
    tau: E::Compute,
) -> Result<()> {
    backward(
        y_soft,
        grad_out,
        grad_logits,
        shape,
        Temperature::Scalar(tau),
    )
}

/// [`gumbel_softmax_backward`] for the per-row temperatures of
/// [`crate::gumbel_softmax_per_row`]: row `r` of `grad_logits` is
/// `y_r ⊙ (v_r - <v_r, y_r>) / tau[r]`.
///
/// `tau` has `shape.rows()` entries in row order `(o, i)`, i.e.
/// `tau[o * inner + i]`; the other arguments are as in
/// [`gumbel_softmax_backward`]. When every `tau[r]` equals `t` the result is
/// bit for bit that of `gumbel_softmax_backward(.., t)`.
///
/// # Errors
/// As [`gumbel_softmax_backward`], with
/// [`ErrorKind::InvalidTemperature`](crate::ErrorKind::InvalidTemperature)
/// naming the first row whose `tau` is not finite or `<= 0`, and
/// [`ErrorKind::InvalidShape`](crate::ErrorKind::InvalidShape) if `tau` does
/// not have `shape.rows()` entries.
pub fn gumbel_softmax_backward_per_row<E: Element>(
    y_soft: &[E],
    grad_out: &[E],
    grad_logits: &mut [E],
    shape: Shape,
    tau: &[E::Compute],
) -> Result<()> {
    backward(
        y_soft,
        grad_out,
        grad_logits,
        shape,
        Temperature::PerRow(tau),
    )
}

/// Gradient of a loss with respect to a temperature shared by all rows:
/// `dL/dtau = sum_rows -(1/tau) sum_k y_k (v_k - <v, y>) ln y_k` with
/// `0 ln 0 = 0`, `y = y_soft`, `v = grad_out` (derivation in the module docs;
/// it needs neither the logits nor the noise).
///
/// Arguments as in [`gumbel_softmax_backward`]. The rows' terms are summed
/// in `f64` in an order fixed by the shape (per unit of
/// [`crate::stream`], then over units in order), so the result is the same
/// bits for any thread count; it is rounded to `F` once. Returns 0 for an
/// empty shape.
///
/// # Errors
/// As [`gumbel_softmax_backward`].
pub fn gumbel_softmax_grad_tau<E: Element>(
    y_soft: &[E],
    grad_out: &[E],
    shape: Shape,
    tau: E::Compute,
) -> Result<E::Compute> {
    check_inputs(y_soft, grad_out, shape, Temperature::Scalar(tau))?;
    // Divide the total by `tau` once, not each row: with a tiny `tau` the
    // rows' quotients overflow to infinities of both signs, whose sum would
    // be NaN (found by fuzzing; tests/fuzz_regressions.rs).
    let total = exec::sum_rows(
        shape,
        [y_soft, grad_out],
        |_, rows| with_compute(rows, |[y, v]| grad_tau_row_times_tau(y, v)),
        sum,
    )?;
    Ok(Float::from_f64(-total / tau.to_f64()))
}

/// Gradient of a loss with respect to the per-row temperatures of
/// [`crate::gumbel_softmax_per_row`]:
/// `grad_tau[r] = -(1/tau[r]) sum_k y_k (v_k - <v, y>) ln y_k` over row `r`,
/// with `0 ln 0 = 0` (derivation in the module docs).
///
/// `tau` and `grad_tau` have `shape.rows()` entries in row order `(o, i)`;
/// the other arguments are as in [`gumbel_softmax_backward`].
///
/// # Errors
/// As [`gumbel_softmax_backward_per_row`], and
/// [`ErrorKind::InvalidShape`](crate::ErrorKind::InvalidShape) if `grad_tau`
/// does not have `shape.rows()` entries. `grad_tau` is untouched on error.
pub fn gumbel_softmax_grad_tau_per_row<E: Element>(
    y_soft: &[E],
    grad_out: &[E],
    shape: Shape,
    tau: &[E::Compute],
    grad_tau: &mut [E::Compute],
) -> Result<()> {
    shape.check_len("grad_tau", grad_tau.len(), shape.rows())?;
    let tau = Temperature::PerRow(tau);
    check_inputs(y_soft, grad_out, shape, tau)?;
    exec::map_rows_n(
        shape,
        [y_soft, grad_out],
        grad_tau,
        Output::PerRow,
        0,
        |row, rows, _, out| {
            out[0] = with_compute(rows, |[y, v]| grad_tau_row(y, v, tau.of_row(row)))
        },
    )
}

/// The body of [`gumbel_softmax_backward`] and
/// [`gumbel_softmax_backward_per_row`].
fn backward<E: Element>(
    y_soft: &[E],
    grad_out: &[E],
    grad_logits: &mut [E],
    shape: Shape,
    tau: Temperature<'_, E::Compute>,
) -> Result<()> {
    shape.check_len("grad_logits", grad_logits.len(), shape.len())?;
    shape.check_len("y_soft", y_soft.len(), shape.len())?;
    shape.check_len("grad_out", grad_out.len(), shape.len())?;
    tau.check(shape)?;
    // One pass: the kernel validates the values as it computes; only when it
    // found a bad one do the checks run again to name it (`grad_logits` is
    // then unspecified).
    if backward::run(y_soft, grad_out, grad_logits, shape, tau)? {
        return Ok(());
    }
    check_soft_sample(shape, "y_soft", y_soft)?;
    check_finite(shape, "grad_out", grad_out)
}

/// Checks the lengths and values of the inputs of a backward call.
fn check_inputs<E: Element>(
    y_soft: &[E],
    grad_out: &[E],
    shape: Shape,
    tau: Temperature<'_, E::Compute>,
) -> Result<()> {
    shape.check_len("y_soft", y_soft.len(), shape.len())?;
    shape.check_len("grad_out", grad_out.len(), shape.len())?;
    tau.check(shape)?;
    check_soft_sample(shape, "y_soft", y_soft)?;
    check_finite(shape, "grad_out", grad_out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    /// The one-pass backward names the first bad value (in the order of the
    /// checks: `y_soft` before `grad_out`) in short rows over many units and
    /// threads, and in a row longer than a stream segment.
    #[test]
    fn backward_names_the_first_bad_value() {
        for (outer, classes) in [(300, 1000), (2, 70_000), (5000, 3)] {
            let shape = Shape::new(outer, classes, 1).unwrap();
            let n = shape.len();
            let y = vec![1.0 / classes as f32; n];
            let v: Vec<f32> = (0..n).map(|i| (i % 7) as f32).collect();
            let mut g = vec![0.0f32; n];
            gumbel_softmax_backward(&y, &v, &mut g, shape, 0.5).unwrap();
            let last = n - 2;
            let (row, class) = (last / classes, last % classes);
            let mut v_bad = v.clone();
            v_bad[last] = f32::NAN;
            v_bad[n - 1] = f32::INFINITY;
            let e = gumbel_softmax_backward(&y, &v_bad, &mut g, shape, 0.5).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidValue);
            assert!(
                e.message().contains("grad_out")
                    && e.message().contains(&format!("row {row}, class {class}")),
                "{}",
                e.message()
            );
            let mut y_bad = y.clone();
            y_bad[n - 1] = 1.5;
            let e = gumbel_softmax_backward(&y_bad, &v_bad, &mut g, shape, 0.5).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidValue);
            assert!(e.message().contains("y_soft"), "{}", e.message());
            y_bad[n - 1] = -0.0;
            y_bad[last] = f32::NAN;
            let e = gumbel_softmax_backward(&y_bad, &v, &mut g, shape, 0.5).unwrap_err();
            assert!(
                e.message().contains("y_soft")
                    && e.message().contains(&format!("row {row}, class {class}")),
                "{}",
                e.message()
            );
        }
    }
}
