//! The row kernels of the Gumbel-Softmax gradients: the backward pass
//! `grad_logits = y ⊙ (v - <v, y>) / tau` over the units of a call (rows of
//! 5 to 63 classes read through [`window`]s, rows longer than a stream
//! segment split across the threads by [`wide`]), and the temperature
//! gradient of one row. The operations that check the arguments and call
//! these (`ops/grad.rs`) derive the formulas; the products and the centring
//! of a row are [`products`] and [`centre`].

use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::Result;
use crate::math::element::Element;
use crate::math::float::Float;
use crate::math::isa;
use crate::rows::softmax::{
    by_row_length, centre, dot, exact_reciprocal, products, run_sum, sum_by,
};
use crate::rows::temperature::Temperature;
use crate::rows::validate::{valid_backward_input, valid_backward_inputs};
use crate::rows::wide;
use crate::rows::window;
use crate::runtime::exec::{self, Output};
use crate::runtime::scratch::{narrow_into, with_widened};
use crate::runtime::shape::Shape;

/// Writes `grad_logits = y_soft ⊙ (grad_out - <grad_out, y_soft>) / tau` of
/// every row of a `shape` tensor (all three in its layout), row `r` at
/// temperature `tau.of_row(r)`, and validates the inputs as it goes (one
/// read of each): returns whether every `y_soft` value is in `[0, 1]` and
/// every `grad_out` value finite ([`valid_backward_inputs`]). When not, the
/// contents of `grad_logits` are unspecified and the caller reports the
/// first bad element. 16-bit tensors are computed unit by unit in `f32`
/// (both inputs widened into per-thread scratch, each result rounded once),
/// with the bits of the `f32` call on the widened inputs. The caller has
/// checked the lengths and `tau`. Fails only if the worker threads cannot
/// start.
pub(crate) fn run<E: Element>(
    y_soft: &[E],
    grad_out: &[E],
    grad_logits: &mut [E],
    shape: Shape,
    tau: Temperature<'_, E::Compute>,
) -> Result<bool> {
    let classes = shape.classes();
    let invalid = AtomicBool::new(false);
    let note = |valid: bool| {
        if !valid {
            invalid.store(true, Ordering::Relaxed);
        }
    };
    let native = E::as_compute(y_soft)
        .zip(E::as_compute(grad_out))
        .zip(E::as_compute_mut(&mut *grad_logits));
    if let Some(((y_soft, grad_out), grad_logits)) = native {
        if wide::applies(shape) {
            return wide::backward(y_soft, grad_out, grad_logits, shape, tau);
        }
        exec::map_units(
            shape,
            [y_soft, grad_out],
            grad_logits,
            Output::PerElement,
            |unit| {
                note(backward_unit(
                    unit.inputs,
                    unit.out,
                    classes,
                    unit.rows.start,
                    tau,
                ))
            },
        )?;
    } else {
        exec::map_units(
            shape,
            [y_soft, grad_out],
            grad_logits,
            Output::PerElement,
            |unit| {
                with_widened(unit.inputs, unit.out.len(), |inputs, g| {
                    note(backward_unit(inputs, g, classes, unit.rows.start, tau));
                    narrow_into(g, unit.out);
                })
            },
        )?;
    }
    Ok(!invalid.into_inner())
}

/// [`run`] on the rows of one unit (from row `first` of the call): `y` and
/// `v` in, `g` out. Returns whether the inputs are valid
/// ([`valid_backward_inputs`]).
fn backward_unit<F: Float>(
    [y, v]: [&[F]; 2],
    g: &mut [F],
    classes: usize,
    first: usize,
    tau: Temperature<'_, F>,
) -> bool {
    isa::dispatch(
        #[inline(always)]
        || {
            let tau = |r| tau.of_row(first + r);
            by_row_length!(classes, backward_rows::<F>(y, v, g, classes, tau))
        },
    )
}

/// `g = y ⊙ (v - <v, y>) / tau(r)` for the rows `r` of a unit, and whether
/// the inputs are valid ([`valid_backward_inputs`]; a row longer than the
/// windows is checked in the pass that writes its `g`). `K` is the row
/// length when it is known at compile time, else 0 (then `classes`).
#[inline(always)]
fn backward_rows<F: Float, const K: usize>(
    y: &[F],
    v: &[F],
    g: &mut [F],
    classes: usize,
    tau: impl Fn(usize) -> F,
) -> bool {
    let classes = if K == 0 { classes } else { K };
    let head = window::head(g.len(), classes);
    let mut valid = true;
    if head > 0 {
        valid = window::by_width!(classes, backward_windows::<F>(y, v, g, head, classes, &tau));
    }
    let split = head * classes;
    // Long rows are checked as they are centred; short ones (a few scalar
    // operations per element there) in one flat pass after.
    let long = classes >= window::LAST;
    let check = |y, v| !long || valid_backward_input(y, v);
    let rows = y[split..]
        .chunks_exact(classes)
        .zip(v[split..].chunks_exact(classes));
    for (r, ((y, v), g)) in rows.zip(g[split..].chunks_exact_mut(classes)).enumerate() {
        // `<v, y>` in a first read of the row, the centring in a second
        // (from the L1 cache).
        let dot = dot(y, v);
        let tau = tau(head + r);
        valid &= match exact_reciprocal(tau) {
            Some(inv) => centre(y, v, dot, g, |g| g * inv, check),
            None => centre(y, v, dot, g, |g| g / tau, check),
        };
    }
    valid && (long || valid_backward_inputs(&y[split..], &v[split..]))
}

/// [`backward_rows`] of the first `rows` rows, of a length that
/// [`window::applies`] to, read through `N`-lane windows (padded with `+0`,
/// whose products leave the sum `<v, y>` unchanged), and whether their
/// inputs are valid.
#[inline(always)]
fn backward_windows<F: Float, const N: usize>(
    y: &[F],
    v: &[F],
    g: &mut [F],
    rows: usize,
    classes: usize,
    tau: impl Fn(usize) -> F,
) -> bool {
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
            centre(&y, &v, dot, &mut g, |g| g / tau, |_, _| true);
            g
        },
    );
    // The rows' inputs are still in cache.
    let len = rows * classes;
    valid_backward_inputs(&y[..len], &v[..len])
}

/// `dL/dtau` of one row, `-(1/tau) sum_k y_k (v_k - <v, y>) ln y_k`. The
/// terms `y (v - <v, y>) ln y` stay finite (`|y ln y| <= 1/e`), so the
/// result is never NaN; dividing by `tau` last overflows only if the exact
/// value does.
#[inline]
pub(crate) fn grad_tau_row<F: Float>(y: &[F], v: &[F], tau: F) -> F {
    -grad_tau_row_times_tau(y, v) / tau
}

/// `sum_k y_k (v_k - <v, y>) ln y_k` of one row (`-tau dL/dtau`): finite for
/// finite `v`. Both sums take their terms run by run as they are computed
/// ([`dot`], [`sum_by`]): the values and tree of [`products`], [`centre`]
/// and [`sum`], without a buffer as long as the row.
#[inline]
pub(crate) fn grad_tau_row_times_tau<F: Float>(y: &[F], v: &[F]) -> F {
    // Compiled for the CPU's tier, branch-free (a select, not a branch,
    // skips `0 ln 0`), so that the logarithms vectorise.
    isa::dispatch(
        #[inline(always)]
        || {
            let dot = dot(y, v);
            sum_by(
                y.len(),
                #[inline(always)]
                |run| {
                    run_sum(
                        run.len(),
                        #[inline(always)]
                        |t| {
                            let y = &y[run.clone()];
                            centre(y, &v[run], dot, t, |g| g, |_, _| true);
                            for (t, &y) in t.iter_mut().zip(y) {
                                let with_ln = *t * y.ln();
                                *t = if y != F::ZERO { with_ln } else { *t };
                            }
                        },
                    )
                },
            )
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::math::isa::Tier;
    use crate::rows::softmax::centred_row;
    use crate::rows::softmax::{sum, SUM_BLOCK};

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
