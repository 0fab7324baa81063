//! Gumbel noise conditioned on the argmax: the perturbed logits of a row
//! drawn given that a class `d` is their argmax (the truncated-Gumbel
//! construction of Maddison, Tarlow and Minka 2014, section 4, as used by
//! Paulus et al. 2021, eq. 9), over the units of a call ([`run`]).
//!
//! # Derivation
//!
//! With `z_k = l_k + g_k` and standard Gumbel `g_k`, the maximum `max_k z_k`
//! is Gumbel with location `logZ = logsumexp(l)` and independent of the
//! argmax, so given `argmax z = d` the top value is `z_d = logZ + g_d` for a
//! fresh standard Gumbel `g_d`. Given `z_d`, each other `z_k` is a
//! Gumbel(`l_k`) variable truncated to `z_k <= z_d`, independently. Its
//! distribution function is `exp(-exp(-(z - l_k))) / exp(-exp(-(z_d - l_k)))`
//! on `z <= z_d`; inverting it at `U = exp(-exp(-g_k))` (the distribution
//! function of a fresh standard Gumbel `g_k`) gives
//! `exp(-(z - l_k)) = exp(-(z_d - l_k)) + exp(-g_k)`, that is
//! `z_k = -logaddexp(-(l_k + g_k), -z_d)`
//! `    = min(a, z_d) - ln_1p(exp(-|a - z_d|))` with `a = l_k + g_k`.
//! So the unconditional noise `g` of a call turns into the conditional
//! perturbed logits with one `exp` and one `ln_1p` per class. A masked class
//! (`l_k = -inf`) stays `-inf`. In exact arithmetic `z_k < z_d`; in floating
//! point `z_k` may round to `z_d` when `a` exceeds `z_d` by more than the
//! precision (about 17 in `f32`), never above it.

use crate::error::Result;
use crate::math::element::Element;
use crate::math::float::Float;
use crate::math::isa;
use crate::rng::fill::fill_unit;
use crate::rng::stream::{streams, Units};
use crate::rows::softmax::log_sum_exp;
use crate::runtime::exec;
use crate::runtime::scratch;
use crate::runtime::shape::Shape;

/// Replaces the standard Gumbel noise `g` of a row (logits `l`,
/// `log_z = logsumexp(l)`, class `d` unmasked) by the perturbed logits
/// conditioned on `argmax = d` (module docs): `z_d = log_z + g_d`,
/// `z_k = min(a, z_d) - ln_1p(exp(-|a - z_d|))` with `a = l_k + g_k`.
#[inline]
pub(crate) fn conditional_row<F: Float>(l: &[F], d: usize, log_z: F, g: &mut [F]) {
    let top = log_z + g[d];
    for (z, &l) in g.iter_mut().zip(l) {
        let a = l + *z;
        if a == F::NEG_INFINITY {
            *z = a;
        } else {
            let (low, gap) = if a < top {
                (a, top - a)
            } else {
                (top, a - top)
            };
            *z = low - (-gap).exp().ln_1p();
        }
    }
    g[d] = top;
}

/// The first stream of unit `index` of draw `draw` of a call whose draws
/// each take `step` streams from `offset` on.
pub(crate) fn draw_stream(units: &Units, offset: u64, step: u64, draw: usize, index: usize) -> u64 {
    units.first_stream(offset.wrapping_add(step.wrapping_mul(draw as u64)), index)
}

/// Writes `draws` tensors of perturbed logits conditioned on the argmax of
/// each row being `indices[row]` into `out` (draw after draw, each in the
/// layout of `logits`): draw `j` turns the standard Gumbel noise of streams
/// `offset + j * streams(rows, classes)` (that of a sampler called on
/// `logits` with that offset) into the conditional values of
/// [`conditional_row`]. A 16-bit tensor is computed unit by unit in `f32`
/// (each value that of the `f32` call on the widened logits, rounded once).
/// The caller has checked every argument. Fails only if the worker threads
/// cannot start.
#[allow(clippy::too_many_arguments)]
pub(crate) fn run<E: Element>(
    logits: &[E],
    indices: &[i64],
    out: &mut [E],
    shape: Shape,
    draws: usize,
    seed: u64,
    offset: u64,
) -> Result<()> {
    let classes = shape.classes();
    let units = Units::new(shape.rows(), classes);
    let step = streams(shape.rows(), classes);
    exec::map_units_repeated(shape, [logits], out, draws, |unit| {
        unit.computed(|unit| {
            let [l] = unit.inputs;
            let rows = unit.rows;
            scratch::with::<E::Compute, _>(rows.len(), |log_z| {
                isa::dispatch_with_fma!(M => {
                    let row_logits = l.chunks_exact(classes);
                    for (log_z, l) in log_z.iter_mut().zip(row_logits) {
                        *log_z = log_sum_exp::<E::Compute, M>(l);
                    }
                    for (draw, z) in unit.out.chunks_exact_mut(l.len()).enumerate() {
                        fill_unit(seed, draw_stream(&units, offset, step, draw, unit.index), z);
                        let z_rows = z.chunks_exact_mut(classes).zip(l.chunks_exact(classes));
                        for ((row, (z, l)), &log_z) in rows.clone().zip(z_rows).zip(&*log_z) {
                            conditional_row(l, indices[row] as usize, log_z, z);
                        }
                    }
                })
            })
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chosen_class_is_the_maximum_and_masked_classes_stay_masked() {
        let l = [0.3f64, -2.0, f64::NEG_INFINITY, 1.5];
        let log_z = log_sum_exp::<_, crate::math::fma::Baseline>(&l);
        for d in [0, 1, 3] {
            for g0 in [-3.0, 0.0, 2.0, 30.0] {
                let mut g = [g0, 5.0, 1.0, -1.0];
                let top = log_z + g[d];
                conditional_row(&l, d, log_z, &mut g);
                assert_eq!(g[d], top, "the top value is logZ + g_d");
                for (k, &z) in g.iter().enumerate() {
                    if k != d {
                        assert!(z <= g[d], "class {k} above the chosen {d}: {g:?}");
                    }
                }
                assert_eq!(g[2], f64::NEG_INFINITY);
            }
        }
    }

    #[test]
    fn a_value_far_below_the_top_keeps_its_unconditional_value() {
        // a = l + g far below z_d: z = a - ln_1p(exp(a - z_d)) ~ a.
        let l = [10.0f64, -20.0];
        let log_z = log_sum_exp::<_, crate::math::fma::Baseline>(&l);
        let mut g = [0.0, 1.0];
        conditional_row(&l, 0, log_z, &mut g);
        assert!((g[1] - (-19.0)).abs() < 1e-12, "{}", g[1]);
    }
}
