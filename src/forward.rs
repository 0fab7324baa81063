//! The forward pass shared by the samplers and the tempered softmax: the
//! perturbed logits `z = (l - max l) + g` of every row (`z = l - max l`
//! without noise), then what the caller asked for ([`Finish`]).
//!
//! Each unit of [`crate::stream`] runs as one kernel compiled for the
//! instruction-set tier: the noise is drawn straight into the output (or a
//! per-thread scratch buffer for indices), the logits are shifted and added
//! in place, and the rows are finished by the code of [`crate::softmax`]:
//! rows shorter than [`ROW_BY_ROW`] classes pass by pass over all rows of the
//! unit (the exponentials in one flat loop, which vectorises), longer ones
//! row by row (each row stays in the L1 cache). A few rows longer than a
//! stream segment run on [`crate::wide`] instead, with the same bits.

use crate::error::Result;
use crate::exec::{self, Output};
use crate::float::Float;
use crate::kernels::isa;
use crate::noise;
use crate::scratch;
use crate::shape::Shape;
use crate::softmax::{
    argmax, by_row_length, log_softmax_rows, max, perturb_row, softmax_row, softmax_rows,
};
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
                    let noisy = noise.is_some();
                    by_row_length!(
                        classes,
                        finish_rows::<F>(l, y, classes, noisy, tau, finish, e)
                    );
                },
            )
        })
    })
}

/// The row length from which a softmax runs every pass over a row before
/// the next row (which keeps the row in the L1 cache) rather than each pass
/// over all rows of the unit (which vectorises short rows).
const ROW_BY_ROW: usize = 64;

/// Perturbs the rows of a unit (`l` the logits, `y` the noise on entry when
/// `noisy`) and finishes them as `finish` says, row `r` at temperature
/// `tau(r)`, using `e` (as long as `y`) for the log-softmax. `K` is the row
/// length when it is known at compile time, else 0 (then `classes`).
#[inline(always)]
fn finish_rows<F: Float, const K: usize>(
    l: &[F],
    y: &mut [F],
    classes: usize,
    noisy: bool,
    tau: impl Fn(usize) -> F,
    finish: Finish,
    e: &mut [F],
) {
    let classes = if K == 0 { classes } else { K };
    let per_row = classes >= ROW_BY_ROW;
    let rows = l.chunks_exact(classes).zip(y.chunks_exact_mut(classes));
    for (r, (l, y)) in rows.enumerate() {
        perturb_row(l, y, noisy);
        match finish {
            Finish::OneHot => {
                let k = argmax(y);
                y.fill(F::ZERO);
                y[k] = F::ONE;
            }
            // Without noise the row's maximum is a zero (`l - max l`); which
            // zero does not matter, as `exp(+-0) = 1`.
            Finish::Softmax if per_row => {
                softmax_row(y, if noisy { max(y) } else { F::ZERO }, tau(r))
            }
            _ => {}
        }
    }
    match finish {
        Finish::Softmax if per_row => {}
        Finish::Softmax => softmax_rows(y, classes, tau),
        Finish::LogSoftmax => log_softmax_rows(y, classes, tau, e),
        Finish::OneHot => {}
    }
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
                    let out = &mut *unit.out;
                    by_row_length!(classes, argmax_rows::<F>(l, z, classes, out));
                },
            )
        })
    })
}

/// Perturbs the rows of a unit (`l` the logits, `z` their noise on entry)
/// and writes the index of each row's maximum into `indices`. `K` is as in
/// [`finish_rows`].
#[inline(always)]
fn argmax_rows<F: Float, const K: usize>(
    l: &[F],
    z: &mut [F],
    classes: usize,
    indices: &mut [i64],
) {
    let classes = if K == 0 { classes } else { K };
    let rows = l.chunks_exact(classes).zip(z.chunks_exact_mut(classes));
    for ((l, z), index) in rows.zip(indices.iter_mut()) {
        perturb_row(l, z, true);
        *index = argmax(z) as i64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `finish_rows` and `argmax_rows` specialised for `K` classes, against
    /// the general code (`K = 0`), bit for bit.
    fn check<const K: usize>() {
        let rows = 37;
        let n = rows * K;
        let l: Vec<f32> = (0..n)
            .map(|i| match i % 11 {
                3 if i % K != 0 => f32::NEG_INFINITY,
                5 => 0.0,
                6 => -0.0,
                _ => ((i * 7919) % 1013) as f32 * 0.01 - 5.0,
            })
            .collect();
        let g: Vec<f32> = (0..n).map(|i| ((i * 31) % 97) as f32 * 0.1 - 2.0).collect();
        let tau = |r: usize| 0.3 + r as f32 * 0.05;
        let bits = |x: &[f32]| x.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        for noisy in [true, false] {
            for finish in [Finish::Softmax, Finish::LogSoftmax, Finish::OneHot] {
                let (mut fast, mut general) = (g.clone(), g.clone());
                let mut e = vec![0.0f32; n];
                finish_rows::<f32, K>(&l, &mut fast, K, noisy, tau, finish, &mut e);
                finish_rows::<f32, 0>(&l, &mut general, K, noisy, tau, finish, &mut e);
                assert_eq!(bits(&fast), bits(&general), "{K} classes, {finish:?}");
            }
        }
        let (mut fast, mut general) = (vec![-1i64; rows], vec![-2i64; rows]);
        argmax_rows::<f32, K>(&l, &mut g.clone(), K, &mut fast);
        argmax_rows::<f32, 0>(&l, &mut g.clone(), K, &mut general);
        assert_eq!(fast, general, "{K} classes");
    }

    #[test]
    fn rows_finished_one_by_one_give_the_bits_of_the_flat_passes() {
        for classes in [ROW_BY_ROW, 100, 1030] {
            let rows = 5;
            let n = rows * classes;
            // Masked classes, both zeros, and a maximum of +-0 in some rows.
            let l: Vec<f32> = (0..n)
                .map(|i| match (i % classes, i / classes) {
                    (7, 1) | (9, 3) => -0.0,
                    (8, 1) | (3, 3) => 0.0,
                    (_, 1) | (_, 3) => -1.0 - (i % 13) as f32,
                    (k, _) if k % 17 == 4 => f32::NEG_INFINITY,
                    _ => ((i * 7919) % 1013) as f32 * 0.01 - 5.0,
                })
                .collect();
            let g: Vec<f32> = (0..n).map(|i| ((i * 31) % 97) as f32 * 0.1 - 2.0).collect();
            let tau = |r: usize| 0.3 + r as f32 * 0.05;
            for noisy in [true, false] {
                let mut by_row = g.clone();
                finish_rows::<f32, 0>(
                    &l,
                    &mut by_row,
                    classes,
                    noisy,
                    tau,
                    Finish::Softmax,
                    &mut [],
                );
                let mut flat = g.clone();
                for (l, z) in l.chunks_exact(classes).zip(flat.chunks_exact_mut(classes)) {
                    perturb_row(l, z, noisy);
                }
                softmax_rows(&mut flat, classes, tau);
                for (k, (a, b)) in by_row.iter().zip(&flat).enumerate() {
                    assert_eq!(
                        a.to_bits(),
                        b.to_bits(),
                        "{classes} classes, noisy {noisy}, {k}"
                    );
                }
            }
        }
    }

    #[test]
    fn rows_specialised_by_length_give_the_general_bits() {
        check::<2>();
        check::<3>();
        check::<4>();
        check::<8>();
        check::<16>();
    }
}
