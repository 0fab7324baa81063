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
use crate::math::float::Float;
use crate::math::isa;
use crate::rows::softmax::{by_row_length, run_sum, sum, sum_by};
use crate::rows::temperature::Temperature;
use crate::rows::validate::{check_finite, check_soft_sample};
use crate::rows::wide;
use crate::rows::window;
use crate::runtime::exec::{self, Output};
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
/// finite (the message names its row and class). `grad_logits` is untouched
/// on error.
pub fn gumbel_softmax_backward<F: Float>(
    y_soft: &[F],
    grad_out: &[F],
    grad_logits: &mut [F],
    shape: Shape,
    tau: F,
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
pub fn gumbel_softmax_backward_per_row<F: Float>(
    y_soft: &[F],
    grad_out: &[F],
    grad_logits: &mut [F],
    shape: Shape,
    tau: &[F],
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
pub fn gumbel_softmax_grad_tau<F: Float>(
    y_soft: &[F],
    grad_out: &[F],
    shape: Shape,
    tau: F,
) -> Result<F> {
    check_inputs(y_soft, grad_out, shape, Temperature::Scalar(tau))?;
    // Divide the total by `tau` once, not each row: with a tiny `tau` the
    // rows' quotients overflow to infinities of both signs, whose sum would
    // be NaN (found by fuzzing; tests/fuzz_regressions.rs).
    let total = exec::sum_rows(
        shape,
        [y_soft, grad_out],
        |_, [y, v]| grad_tau_row_times_tau(y, v),
        sum,
    )?;
    Ok(F::from_f64(-total / tau.to_f64()))
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
pub fn gumbel_softmax_grad_tau_per_row<F: Float>(
    y_soft: &[F],
    grad_out: &[F],
    shape: Shape,
    tau: &[F],
    grad_tau: &mut [F],
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
        |row, [y, v], _, out| out[0] = grad_tau_row(y, v, tau.of_row(row)),
    )
}

/// The body of [`gumbel_softmax_backward`] and
/// [`gumbel_softmax_backward_per_row`].
fn backward<F: Float>(
    y_soft: &[F],
    grad_out: &[F],
    grad_logits: &mut [F],
    shape: Shape,
    tau: Temperature<'_, F>,
) -> Result<()> {
    shape.check_len("grad_logits", grad_logits.len(), shape.len())?;
    check_inputs(y_soft, grad_out, shape, tau)?;
    if wide::applies(shape) {
        return wide::backward(y_soft, grad_out, grad_logits, shape, tau);
    }
    let classes = shape.classes();
    exec::map_units(
        shape,
        [y_soft, grad_out],
        grad_logits,
        Output::PerElement,
        |unit| {
            isa::dispatch(
                #[inline(always)]
                || {
                    let [y, v] = unit.inputs;
                    let (g, tau) = (&mut *unit.out, |r| tau.of_row(unit.rows.start + r));
                    by_row_length!(classes, backward_rows::<F>(y, v, g, classes, tau));
                },
            )
        },
    )
}

/// `g = y ⊙ (v - <v, y>) / tau(r)` for the rows `r` of a unit. `K` is the
/// row length when it is known at compile time, else 0 (then `classes`).
#[inline(always)]
fn backward_rows<F: Float, const K: usize>(
    y: &[F],
    v: &[F],
    g: &mut [F],
    classes: usize,
    tau: impl Fn(usize) -> F,
) {
    let classes = if K == 0 { classes } else { K };
    let head = window::head(g.len(), classes);
    if head > 0 {
        window::by_width!(classes, backward_windows::<F>(y, v, g, head, classes, &tau));
    }
    let split = head * classes;
    let rows = y[split..]
        .chunks_exact(classes)
        .zip(v[split..].chunks_exact(classes));
    let g = g[split..].chunks_exact_mut(classes);
    for (r, ((y, v), g)) in rows.zip(g).enumerate() {
        products(y, v, g);
        let (dot, tau) = (sum(g), tau(head + r));
        centre(y, v, dot, g, |g| g / tau);
    }
}

/// [`backward_rows`] of the first `rows` rows, of a length that
/// [`window::applies`] to, read through `N`-lane windows (padded with `+0`,
/// whose products leave the sum `<v, y>` unchanged).
#[inline(always)]
fn backward_windows<F: Float, const N: usize>(
    y: &[F],
    v: &[F],
    g: &mut [F],
    rows: usize,
    classes: usize,
    tau: impl Fn(usize) -> F,
) {
    window::map_rows::<F, N>(
        g,
        rows,
        classes,
        F::ZERO,
        #[inline(always)]
        |r, _| {
            let y = window::load::<F, N>(y, r * classes, classes, F::ZERO);
            let v = window::load::<F, N>(v, r * classes, classes, F::ZERO);
            let mut g = [F::ZERO; N];
            products(&y, &v, &mut g);
            let (dot, tau) = (window::sum(&g), tau(r));
            centre(&y, &v, dot, &mut g, |g| g / tau);
            g
        },
    );
}

/// Checks the lengths and values of the inputs of a backward call.
fn check_inputs<F: Float>(
    y_soft: &[F],
    grad_out: &[F],
    shape: Shape,
    tau: Temperature<'_, F>,
) -> Result<()> {
    shape.check_len("y_soft", y_soft.len(), shape.len())?;
    shape.check_len("grad_out", grad_out.len(), shape.len())?;
    tau.check(shape)?;
    check_soft_sample(shape, "y_soft", y_soft)?;
    check_finite(shape, "grad_out", grad_out)
}

/// Writes `dL/du = y ⊙ (v - <v, y>)` of one row into `out` (all three of
/// the same length), exactly 0 where `y == 0` (even if `v - <v, y>`
/// overflowed): the reference of the tests.
#[cfg(test)]
pub(crate) fn centred_row<F: Float>(y: &[F], v: &[F], out: &mut [F]) {
    products(y, v, out);
    let dot = sum(out);
    centre(y, v, dot, out, |g| g);
}

/// `out = y ⊙ v` (all three of the same length), the terms of `<v, y>`.
#[inline(always)]
pub(crate) fn products<F: Float>(y: &[F], v: &[F], out: &mut [F]) {
    for ((o, &y), &v) in out.iter_mut().zip(y).zip(v) {
        *o = y * v;
    }
}

/// `out = then(y ⊙ (v - dot))`, the centred term exactly 0 where `y == 0`
/// (all three of the same length; `dot = <v, y>` over the whole row; `then`
/// is applied to each element, e.g. the division by `tau`, in the same pass).
#[inline(always)]
pub(crate) fn centre<F: Float>(y: &[F], v: &[F], dot: F, out: &mut [F], then: impl Fn(F) -> F) {
    for ((o, &y), &v) in out.iter_mut().zip(y).zip(v) {
        *o = then(if y == F::ZERO { F::ZERO } else { y * (v - dot) });
    }
}

/// `dL/dtau` of one row, `-(1/tau) sum_k y_k (v_k - <v, y>) ln y_k`. The
/// terms `y (v - <v, y>) ln y` stay finite (`|y ln y| <= 1/e`), so the
/// result is never NaN; dividing by `tau` last overflows only if the exact
/// value does.
#[inline]
fn grad_tau_row<F: Float>(y: &[F], v: &[F], tau: F) -> F {
    -grad_tau_row_times_tau(y, v) / tau
}

/// `sum_k y_k (v_k - <v, y>) ln y_k` of one row (`-tau dL/dtau`): finite for
/// finite `v`. Both sums take their terms run by run as they are computed
/// ([`sum_by`]): the values and tree of [`products`], [`centre`] and
/// [`sum`], without a buffer as long as the row.
#[inline]
fn grad_tau_row_times_tau<F: Float>(y: &[F], v: &[F]) -> F {
    let dot = sum_by(y.len(), |run| {
        run_sum(run.len(), |t| products(&y[run.clone()], &v[run], t))
    });
    sum_by(y.len(), |run| {
        run_sum(run.len(), |t| {
            let y = &y[run.clone()];
            centre(y, &v[run], dot, t, |g| g);
            for (t, &y) in t.iter_mut().zip(y) {
                if y != F::ZERO {
                    *t = *t * y.ln();
                }
            }
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::math::isa::Tier;
    use crate::rows::softmax::SUM_BLOCK;

    #[test]
    fn rows_specialised_by_length_give_the_general_bits() {
        fn check<const K: usize>() {
            let n = 37 * K;
            let y: Vec<f64> = (0..n).map(|i| ((i * 13) % 7) as f64 / 7.0).collect();
            let v: Vec<f64> = (0..n).map(|i| ((i * 31) % 97) as f64 * 0.1 - 2.0).collect();
            let tau = |r: usize| 0.3 + r as f64 * 0.05;
            let (mut fast, mut general) = (vec![0.0; n], vec![1.0; n]);
            backward_rows::<f64, K>(&y, &v, &mut fast, K, tau);
            backward_rows::<f64, 0>(&y, &v, &mut general, K, tau);
            let bits = |x: &[f64]| x.iter().map(|g| g.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&fast), bits(&general), "{K} classes");
        }
        check::<2>();
        check::<3>();
        check::<4>();
        check::<8>();
        check::<16>();
    }

    #[test]
    #[cfg_attr(miri, ignore = "many rows, too slow for Miri")]
    fn rows_read_through_windows_give_the_bits_of_the_centred_rows() {
        let lengths = window::FIRST..window::LAST;
        for (rows, classes) in lengths.flat_map(|k| [(150, k), (4, k)]) {
            let n = rows * classes;
            // Zeros of y (masked classes) with v of either sign, so that some
            // products are -0, and values of very different sizes.
            let y: Vec<f32> = (0..n)
                .map(|i| match i % 7 {
                    2 => 0.0,
                    _ => ((i * 13) % 29) as f32 / 29.0 * 10f32.powi((i % 5) as i32 - 2),
                })
                .collect();
            let v: Vec<f32> = (0..n).map(|i| ((i * 31) % 97) as f32 * 0.1 - 4.0).collect();
            let tau = |r: usize| 0.3 + r as f32 * 0.05;
            let mut expected = vec![0.0f32; n];
            let pairs = y.chunks_exact(classes).zip(v.chunks_exact(classes));
            for (r, (out, (y, v))) in expected.chunks_exact_mut(classes).zip(pairs).enumerate() {
                centred_row(y, v, out);
                out.iter_mut().for_each(|g| *g /= tau(r));
            }
            let bits = |x: &[f32]| x.iter().map(|g| g.to_bits()).collect::<Vec<_>>();
            for tier in Tier::ALL.into_iter().filter(|t| t.available()) {
                let mut g = vec![f32::NAN; n];
                isa::run_on(
                    tier,
                    #[inline(always)]
                    || backward_rows::<f32, 0>(&y, &v, &mut g, classes, tau),
                );
                assert_eq!(bits(&g), bits(&expected), "{tier:?}, {rows} x {classes}");
            }
        }
    }

    #[test]
    fn centred_rows_sum_to_zero_and_masked_classes_stay_zero() {
        // <v, y> = 0.5 * 1 + 0.5 * 3 = 2, so dL/du = [0.5 (1 - 2), 0.5 (3 - 2), 0].
        let mut out = [f64::NAN; 3];
        centred_row(&[0.5, 0.5, 0.0], &[1.0, 3.0, f64::MAX], &mut out);
        assert_eq!(out, [-0.5, 0.5, 0.0]);
        assert_eq!(out[2].to_bits(), 0.0f64.to_bits());
    }

    #[test]
    #[cfg_attr(miri, ignore = "large input, too slow for Miri")]
    fn grad_tau_sums_the_terms_of_the_centred_row() {
        for len in [3, SUM_BLOCK, 1000, 70_001] {
            let y: Vec<f32> = (0..len)
                .map(|k| {
                    if k % 9 == 4 {
                        0.0
                    } else {
                        ((k * 37) % 101) as f32 / (60.0 * len as f32)
                    }
                })
                .collect();
            let v: Vec<f32> = (0..len)
                .map(|k| ((k * 31) % 97) as f32 * 0.1 - 2.0)
                .collect();
            let mut terms = vec![0.0f32; len];
            centred_row(&y, &v, &mut terms);
            for (t, &y) in terms.iter_mut().zip(&y) {
                if y != 0.0 {
                    *t *= y.ln();
                }
            }
            assert_eq!(
                grad_tau_row_times_tau(&y, &v).to_bits(),
                sum(&terms).to_bits(),
                "{len}"
            );
        }
    }

    #[test]
    fn grad_tau_of_a_two_class_row_matches_the_closed_form() {
        // y = [p, 1 - p], v = [1, 0]: <v, y> = p, dL/du = [p (1 - p), -p (1 - p)],
        // so dL/dtau = -(1/tau) p (1 - p) (ln p - ln(1 - p)).
        let (p, tau) = (0.3f64, 0.7);
        let got = grad_tau_row(&[p, 1.0 - p], &[1.0, 0.0], tau);
        let want = -p * (1.0 - p) * (p.ln() - (1.0 - p).ln()) / tau;
        assert!((got - want).abs() < 1e-15, "{got} vs {want}");
        // A one-hot row has no temperature gradient (1 ln 1 = 0, 0 ln 0 = 0).
        assert_eq!(grad_tau_row(&[0.0, 1.0], &[5.0, -2.0], tau), 0.0);
    }
}
