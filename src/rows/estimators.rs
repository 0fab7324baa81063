//! The row kernels of the gradient estimators beyond straight-through, over
//! the units of a call: Gumbel-Rao, ReinMax, gapped straight-through and
//! decoupled straight-through. The operations that check the arguments and
//! call these (`ops/estimators.rs`) derive the formulas.
//!
//! Each is a sum of softmax vector-Jacobian products
//! `J(p)^T v = p ⊙ (v - <v, p>)` (exactly 0 where `p == 0`) at points `p`
//! that the estimator defines. A 16-bit tensor is computed unit by unit in
//! `f32` ([`Unit::computed`](crate::runtime::exec::Unit::computed)), so each
//! result is that of the `f32` call on the widened inputs, rounded once.

use crate::error::Result;
use crate::math::element::Element;
use crate::math::float::Float;
use crate::math::isa;
use crate::rng::fill::fill_unit;
use crate::rng::stream::{streams, Units};
use crate::rows::conditional::{conditional_row, draw_stream};
use crate::rows::softmax::log_sum_exp;
use crate::rows::softmax::{dot, max, perturb_row, softmax_row};
use crate::runtime::exec::{self, Output};
use crate::runtime::scratch;
use crate::runtime::shape::Shape;

/// `g = scale * J(p)^T v + g` when `accumulate`, else
/// `g = scale * J(p)^T v`: `p ⊙ (v - <v, p>)` times `scale`, 0 where
/// `p == 0`.
#[inline(always)]
fn vjp<F: Float>(p: &[F], v: &[F], scale: F, g: &mut [F], accumulate: bool) {
    let d = dot(p, v);
    for ((g, &p), &v) in g.iter_mut().zip(p).zip(v) {
        let term = if p == F::ZERO {
            F::ZERO
        } else {
            p * (v - d) * scale
        };
        *g = if accumulate { *g + term } else { term };
    }
}

/// Writes the Gumbel-Rao gradient `(1/m) sum_j J(y_j)^T v / tau`,
/// `y_j = softmax(z_j / tau)` with `z_j` the draws of
/// [`conditional::run`](crate::rows::conditional::run)
/// (`m = draws`, the same streams), into `grad_logits`. The caller has
/// checked every argument. Fails only if the worker threads cannot start.
#[allow(clippy::too_many_arguments)]
pub(crate) fn gumbel_rao<E: Element>(
    logits: &[E],
    indices: &[i64],
    grad_out: &[E],
    grad_logits: &mut [E],
    shape: Shape,
    tau: E::Compute,
    draws: usize,
    (seed, offset): (u64, u64),
) -> Result<()> {
    let classes = shape.classes();
    let units = Units::new(shape.rows(), classes);
    let step = streams(shape.rows(), classes);
    let scale = E::Compute::ONE / (tau * E::Compute::from_f64(draws as f64));
    exec::map_units(
        shape,
        [logits, grad_out],
        grad_logits,
        Output::PerElement,
        |unit| {
            unit.computed(|unit| {
                let [l, v] = unit.inputs;
                let (rows, g) = (unit.rows, unit.out);
                scratch::with::<E::Compute, _>(l.len() + rows.len(), |buffer| {
                    let (z, log_z) = buffer.split_at_mut(l.len());
                    isa::dispatch_with_fma!(M => {
                        for (log_z, l) in log_z.iter_mut().zip(l.chunks_exact(classes)) {
                            *log_z = log_sum_exp::<E::Compute, M>(l);
                        }
                        for draw in 0..draws {
                            fill_unit(seed, draw_stream(&units, offset, step, draw, unit.index), z);
                            let row_data = z
                                .chunks_exact_mut(classes)
                                .zip(l.chunks_exact(classes))
                                .zip(v.chunks_exact(classes))
                                .zip(g.chunks_exact_mut(classes));
                            for (row, (((z, l), v), g)) in rows.clone().zip(row_data) {
                                let r = row - rows.start;
                                conditional_row(l, indices[row] as usize, log_z[r], z);
                                let m = max(z);
                                softmax_row::<E::Compute, M>(z, m, tau);
                                vjp(z, v, scale, g, draw > 0);
                            }
                        }
                    })
                })
            })
        },
    )
}

/// Writes the ReinMax gradient
/// `2 J(pi_1)^T v - J(pi_0)^T v / 2`, `pi_0 = softmax(l)`,
/// `pi_1 = (softmax(l / tau) + onehot(d)) / 2`, `d = indices[row]`, into
/// `grad_logits`. The caller has checked every argument. Fails only if the
/// worker threads cannot start.
pub(crate) fn reinmax<E: Element>(
    logits: &[E],
    indices: &[i64],
    grad_out: &[E],
    grad_logits: &mut [E],
    shape: Shape,
    tau: E::Compute,
) -> Result<()> {
    exec::map_rows_computed(
        shape,
        [logits, grad_out],
        grad_logits,
        shape.classes(),
        |row, [l, v], p, g| {
            isa::dispatch_with_fma!(M => {
                let m = max(l);
                p.copy_from_slice(l);
                let (one, half) = (E::Compute::ONE, E::Compute::HALF);
                softmax_row::<E::Compute, M>(p, m, one);
                vjp(p, v, -half, g, false);
                p.copy_from_slice(l);
                softmax_row::<E::Compute, M>(p, m, tau);
                p[indices[row] as usize] = p[indices[row] as usize] + one;
                p.iter_mut().for_each(|p| *p = *p * half);
                vjp(p, v, one + one, g, true);
            })
        },
    )
}

/// Writes the gapped straight-through gradient `J(y)^T v / tau`,
/// `y = softmax(z / tau)` with the deterministic perturbation
/// `z_d = max l`, `z_k = min(l_k, max l - gap)` for `k != d`,
/// `d = indices[row]`, into `grad_logits`. The caller has checked every
/// argument. Fails only if the worker threads cannot start.
pub(crate) fn gapped_straight_through<E: Element>(
    logits: &[E],
    indices: &[i64],
    grad_out: &[E],
    grad_logits: &mut [E],
    shape: Shape,
    tau: E::Compute,
    gap: E::Compute,
) -> Result<()> {
    exec::map_rows_computed(
        shape,
        [logits, grad_out],
        grad_logits,
        0,
        |row, [l, v], _, g| {
            isa::dispatch_with_fma!(M => {
                let m = max(l);
                let ceiling = m - gap;
                for (z, &l) in g.iter_mut().zip(l) {
                    *z = if l < ceiling { l } else { ceiling };
                }
                g[indices[row] as usize] = m;
                softmax_row::<E::Compute, M>(g, m, tau);
                vjp_in_place(g, v, tau);
            })
        },
    )
}

/// Writes the decoupled straight-through gradient `J(y_b)^T v / tau_b`,
/// `y_b` the soft Gumbel-Softmax sample at `tau_b` with the noise of
/// `(seed, offset)` (the forward call's), into `grad_logits`. The caller has
/// checked every argument. Fails only if the worker threads cannot start.
pub(crate) fn decoupled<E: Element>(
    logits: &[E],
    grad_out: &[E],
    grad_logits: &mut [E],
    shape: Shape,
    tau_backward: E::Compute,
    (seed, offset): (u64, u64),
) -> Result<()> {
    let classes = shape.classes();
    let units = Units::new(shape.rows(), classes);
    exec::map_units(
        shape,
        [logits, grad_out],
        grad_logits,
        Output::PerElement,
        |unit| {
            unit.computed(|unit| {
                let [l, v] = unit.inputs;
                let g = unit.out;
                isa::dispatch_with_fma!(M => {
                    fill_unit(seed, units.first_stream(offset, unit.index), g);
                    let row_data = g
                        .chunks_exact_mut(classes)
                        .zip(l.chunks_exact(classes))
                        .zip(v.chunks_exact(classes));
                    for ((g, l), v) in row_data {
                        perturb_row(l, g, true);
                        let m = max(g);
                        softmax_row::<E::Compute, M>(g, m, tau_backward);
                        vjp_in_place(g, v, tau_backward);
                    }
                })
            })
        },
    )
}

/// Replaces `p` by `J(p)^T v / tau = p ⊙ (v - <v, p>) / tau`, 0 where
/// `p == 0`: the values of the backward pass (`rows/backward.rs`).
#[inline(always)]
fn vjp_in_place<F: Float>(p: &mut [F], v: &[F], tau: F) {
    let d = dot(p, v);
    for (p, &v) in p.iter_mut().zip(v) {
        if *p != F::ZERO {
            *p = *p * (v - d) / tau;
        }
    }
}
