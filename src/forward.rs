//! The forward pass shared by the samplers and the tempered softmax: the
//! perturbed logits `z = (l - max l) + g` of every row (`z = l - max l`
//! without noise), then what the caller asked for ([`Finish`]).
//!
//! Each unit of [`crate::stream`] runs as one kernel compiled for the
//! instruction-set tier: the noise is drawn straight into the output (or a
//! per-thread scratch buffer for indices), the logits are shifted and added
//! in place, and the rows are finished by the per-row code of
//! [`crate::softmax`] (the exponentials of all rows of a unit in one flat
//! loop). A few rows longer than a stream segment run on
//! [`crate::wide`] instead, with the same bits.

use crate::error::Result;
use crate::exec::{self, Output};
use crate::float::Float;
use crate::kernels::isa;
use crate::noise;
use crate::scratch;
use crate::shape::Shape;
use crate::softmax::{argmax, log_softmax_rows, perturb_row, softmax_rows};
use crate::stream::Units;
use crate::temperature::Temperature;
use crate::wide;

/// What a forward call computes from the perturbed logits `z` of a row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Finish {
    /// `softmax(z / tau)`.
    Softmax,
    /// `log_softmax(z / tau)`.
    LogSoftmax,
    /// The one-hot of `argmax z` (lowest index on ties).
    OneHot,
}

/// Writes `finish` of the perturbed logits of every row of `logits` (an
/// `(outer, classes, inner)` tensor) into `out` (same shape), with the
/// standard Gumbel noise of `Some((seed, offset))` or none. The caller has
/// checked every argument. Fails only if the worker threads cannot start.
pub(crate) fn run<F: Float>(
    logits: &[F],
    out: &mut [F],
    shape: Shape,
    tau: Temperature<'_, F>,
    noise: Option<(u64, u64)>,
    finish: Finish,
) -> Result<()> {
    if wide::applies(shape) {
        return wide::forward(logits, out, shape, tau, noise, finish);
    }
    let classes = shape.classes();
    let units = Units::new(shape.rows(), classes);
    exec::map_units(shape, [logits], out, Output::PerElement, |unit| {
        let [l] = unit.inputs;
        let tau = |r: usize| tau.of_row(unit.rows.start + r);
        let e_len = if finish == Finish::LogSoftmax {
            l.len()
        } else {
            0
        };
        scratch::with(e_len, |e| {
            isa::dispatch(
                #[inline(always)]
                || {
                    let y = unit.out;
                    if let Some((seed, offset)) = noise {
                        noise::fill_unit(seed, units.first_stream(offset, unit.index), y);
                    }
                    for (l, y) in l.chunks_exact(classes).zip(y.chunks_exact_mut(classes)) {
                        perturb_row(l, y, noise.is_some());
                        if finish == Finish::OneHot {
                            let k = argmax(y);
                            y.fill(F::ZERO);
                            y[k] = F::ONE;
                        }
                    }
                    match finish {
                        Finish::Softmax => softmax_rows(y, classes, tau),
                        Finish::LogSoftmax => log_softmax_rows(y, classes, tau, e),
                        Finish::OneHot => {}
                    }
                },
            )
        })
    })
}

/// Writes the index of the largest perturbed logit of every row (the
/// Gumbel-max sample) into `indices` (row order `(o, i)`), with the noise of
/// `(seed, offset)`. The caller has checked every argument. Fails only if
/// the worker threads cannot start.
pub(crate) fn indices<F: Float>(
    logits: &[F],
    indices: &mut [i64],
    shape: Shape,
    seed: u64,
    offset: u64,
) -> Result<()> {
    if wide::applies(shape) {
        return wide::sample(logits, indices, shape, seed, offset);
    }
    let classes = shape.classes();
    let units = Units::new(shape.rows(), classes);
    exec::map_units(shape, [logits], indices, Output::PerRow, |unit| {
        let [l] = unit.inputs;
        scratch::with(l.len(), |z| {
            isa::dispatch(
                #[inline(always)]
                || {
                    noise::fill_unit(seed, units.first_stream(offset, unit.index), z);
                    let rows = l.chunks_exact(classes).zip(z.chunks_exact_mut(classes));
                    for ((l, z), index) in rows.zip(unit.out.iter_mut()) {
                        perturb_row(l, z, true);
                        *index = argmax(z) as i64;
                    }
                },
            )
        })
    })
}
