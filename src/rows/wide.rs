//! Rows longer than one stream segment, split across the worker threads.
//!
//! A call on a few rows of more than [`CHUNK_ELEMENTS`] classes would run
//! each row on one thread (a unit of [`crate::stream`] is one row). Here each
//! row runs in phases, each parallel over the row's segments of
//! [`CHUNK_ELEMENTS`] classes (the pieces of [`crate::stream`], which draw
//! their noise from consecutive streams):
//! - maxima and argmaxima of the segments are combined in segment order,
//!   keeping the first on ties, which is exactly the maximum (and its lowest
//!   index) of [`softmax::max`] and [`softmax::argmax`], sign of zero
//!   included;
//! - sums walk the fixed tree of [`softmax::sum`], its two halves on
//!   different threads while they are long;
//! - everything else is elementwise.
//!
//! So every output is the same bits as the per-unit path, which
//! `tests/bit_guard.rs` and `tests/golden.rs` check for every thread count.

use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;

use crate::error::Result;
use crate::math::float::Float;
use crate::math::isa;
use crate::rng::fill::fill_stream;
use crate::rng::stream::{Units, CHUNK_ELEMENTS};
use crate::rows::gumbel_max;
use crate::rows::softmax::{
    self, argmax, centre, exponents_of, max, perturb, products, run_sum, Finish, ACCUMULATORS,
};
use crate::rows::temperature::Temperature;
use crate::rows::validate::valid_backward_inputs;
use crate::runtime::exec::PARALLEL_MIN_ELEMENTS;
use crate::runtime::pool;
use crate::runtime::shape::Shape;

/// Sums of at most this many values run on one thread.
const SERIAL_SUM: usize = 1 << 16;

/// Whether a call on `shape` takes this path: contiguous rows (`inner == 1`)
/// longer than a segment, a call large enough to run in parallel, and fewer
/// rows than twice the worker threads (with more, the rows keep every
/// thread busy on their own).
pub(crate) fn applies(shape: Shape) -> bool {
    shape.inner() == 1
        && shape.classes() > CHUNK_ELEMENTS
        && shape.len() >= PARALLEL_MIN_ELEMENTS
        && shape.rows() < 2 * pool::num_threads()
}

/// The row-parallel form of the forward samplers and the tempered softmax:
/// each row of `out` is `finish` of the row's perturbed logits
/// `z = (l - max l) + g`, with the standard Gumbel noise `g` of
/// `Some((seed, offset))` (see [`crate::stream`]), or `z = l - max l` for
/// `None`. The caller has checked every argument.
pub(crate) fn forward<F: Float>(
    logits: &[F],
    out: &mut [F],
    shape: Shape,
    tau: Temperature<'_, F>,
    noise: Option<(u64, u64)>,
    finish: Finish,
) -> Result<()> {
    let classes = shape.classes();
    let units = Units::new(shape.rows(), classes);
    let rows = logits
        .chunks_exact(classes)
        .zip(out.chunks_exact_mut(classes));
    for (row, (l, y)) in rows.enumerate() {
        let noise = noise.map(|(seed, offset)| (seed, units.first_stream(offset, row)));
        pool::install(|| {
            let m = perturbed_max(l, y, noise);
            match finish {
                Finish::OneHot => {
                    let k = first_max(y, m);
                    segments_mut(
                        y,
                        #[inline(always)]
                        |_, y| y.fill(F::ZERO),
                    );
                    y[k] = F::ONE;
                }
                Finish::Softmax => {
                    let tau = tau.of_row(row);
                    segments_mut(
                        y,
                        #[inline(always)]
                        |_, y| {
                            exponents_of(y, m, tau);
                            exponentials(y);
                        },
                    );
                    let scale = F::ONE / sum(y);
                    segments_mut(
                        y,
                        #[inline(always)]
                        |_, y| y.iter_mut().for_each(|x| *x = *x * scale),
                    );
                }
                Finish::LogSoftmax => {
                    let tau = tau.of_row(row);
                    segments_mut(
                        y,
                        #[inline(always)]
                        |_, y| exponents_of(y, m, tau),
                    );
                    // The exponentials are summed run by run as they are
                    // computed, never stored.
                    let log_sum = sum_by(
                        y.len(),
                        #[inline(always)]
                        |run| {
                            run_sum(run.len(), |e| {
                                e.copy_from_slice(&y[run]);
                                exponentials(e);
                            })
                        },
                    )
                    .ln();
                    segments_mut(
                        y,
                        #[inline(always)]
                        |_, y| y.iter_mut().for_each(|x| *x = *x - log_sum),
                    );
                }
            }
        })?;
    }
    Ok(())
}

/// `x = e^x` elementwise by the softmax's exponential
/// ([`Float::softmax_exp`]), compiled for the tier with its FMA.
#[inline(always)]
fn exponentials<F: Float>(x: &mut [F]) {
    isa::dispatch_with_fma!(M => x.iter_mut().for_each(|x| *x = x.softmax_exp::<M>()))
}

/// The row-parallel form of Gumbel-max sampling: `indices[row]` is the
/// argmax of the row's perturbed logits (as in [`forward`]). Each segment's
/// first maximum comes from [`gumbel_max::segment_argmax`] (which skips the
/// logarithms of the elements that cannot win), and the segments' maxima and first indices combine in segment order keeping
/// the first on ties: the first index of the row's maximum. The caller has
/// checked every argument.
pub(crate) fn sample<F: Float>(
    logits: &[F],
    indices: &mut [i64],
    shape: Shape,
    seed: u64,
    offset: u64,
) -> Result<()> {
    let classes = shape.classes();
    let units = Units::new(shape.rows(), classes);
    for (row, (l, index)) in logits.chunks_exact(classes).zip(indices).enumerate() {
        let first_stream = units.first_stream(offset, row);
        *index = pool::install(|| {
            let l_max = logits_max(l);
            let pieces = (0..classes.div_ceil(CHUNK_ELEMENTS))
                .into_par_iter()
                .map(|s| {
                    let range = segment(s, classes);
                    let stream = first_stream.wrapping_add(s as u64);
                    let (m, k) = gumbel_max::segment_argmax(&l[range.clone()], l_max, seed, stream);
                    (m, range.start + k)
                });
            pieces
                .reduce_with(|a, b| if b.0 > a.0 { b } else { a })
                .expect("a row has at least one segment")
                .1
        })? as i64;
    }
    Ok(())
}

/// The row-parallel form of the Gumbel-Softmax backward:
/// `grad_logits = y ⊙ (v - <v, y>) / tau` row by row (see [`crate::gumbel_softmax_backward`]),
/// validating the inputs as it goes: returns whether they are valid, as
/// [`crate::rows::backward::run`]. The caller has checked the lengths and `tau`.
pub(crate) fn backward<F: Float>(
    y_soft: &[F],
    grad_out: &[F],
    grad_logits: &mut [F],
    shape: Shape,
    tau: Temperature<'_, F>,
) -> Result<bool> {
    let classes = shape.classes();
    let invalid = AtomicBool::new(false);
    let rows = y_soft
        .chunks_exact(classes)
        .zip(grad_out.chunks_exact(classes));
    for (row, ((y, v), g)) in rows.zip(grad_logits.chunks_exact_mut(classes)).enumerate() {
        let tau = tau.of_row(row);
        pool::install(|| {
            segments_mut(
                g,
                #[inline(always)]
                |range, g| {
                    let (y, v) = (&y[range.clone()], &v[range]);
                    products(y, v, g);
                    if !valid_backward_inputs(y, v) {
                        invalid.store(true, Ordering::Relaxed);
                    }
                },
            );
            let dot = sum(g);
            segments_mut(
                g,
                #[inline(always)]
                |range, g| {
                    centre(
                        &y[range.clone()],
                        &v[range],
                        dot,
                        g,
                        |g| g / tau,
                        |_, _| true,
                    );
                },
            );
        })?;
    }
    Ok(!invalid.into_inner())
}

/// Writes the perturbed logits of one row into `z` (drawing the noise of
/// `Some((seed, first_stream))` into it first) and returns their maximum.
fn perturbed_max<F: Float>(l: &[F], z: &mut [F], noise: Option<(u64, u64)>) -> F {
    let l_max = logits_max(l);
    segments_mut(
        z,
        #[inline(always)]
        |range, z| {
            if let Some((seed, first_stream)) = noise {
                let piece = (range.start / CHUNK_ELEMENTS) as u64;
                fill_stream(seed, first_stream.wrapping_add(piece), z);
            }
            perturb(&l[range], l_max, z, noise.is_some());
        },
    );
    segments(
        z.len(),
        #[inline(always)]
        |range| max(&z[range]),
        first_of_maxima,
    )
}

/// The maximum of a row of logits, [`softmax::max`] in parallel.
fn logits_max<F: Float>(l: &[F]) -> F {
    segments(
        l.len(),
        #[inline(always)]
        |range| max(&l[range]),
        first_of_maxima,
    )
}

/// The index of the first element of `z` equal to its maximum `m`.
fn first_max<F: Float>(z: &[F], m: F) -> usize {
    segments(
        z.len(),
        #[inline(always)]
        |range| {
            let piece = &z[range.clone()];
            (max(piece) == m).then(|| range.start + argmax(piece))
        },
        |a, b| a.or(b),
    )
    .expect("the maximum occurs in the row")
}

/// The larger of two maxima of consecutive pieces, the first on ties: the
/// combine of the sequential fold of [`softmax::max`].
fn first_of_maxima<F: Float>(first: F, second: F) -> F {
    if second > first {
        second
    } else {
        first
    }
}

/// `piece(range)` of each segment of `0..len`, in parallel, compiled for
/// the instruction-set tier, combined in segment order by the associative
/// `combine`.
fn segments<T: Send>(
    len: usize,
    piece: impl Fn(Range<usize>) -> T + Sync + Send,
    combine: impl Fn(T, T) -> T + Sync + Send,
) -> T {
    (0..len.div_ceil(CHUNK_ELEMENTS))
        .into_par_iter()
        .map(|s| {
            let range = segment(s, len);
            isa::dispatch(
                #[inline(always)]
                || piece(range),
            )
        })
        .reduce_with(combine)
        .expect("a row has at least one segment")
}

/// The elements of segment `s` of a row of `len` classes.
fn segment(s: usize, len: usize) -> Range<usize> {
    s * CHUNK_ELEMENTS..((s + 1) * CHUNK_ELEMENTS).min(len)
}

/// `body(range, piece)` on each segment of `x` (its elements `range`), in
/// parallel, compiled for the instruction-set tier.
fn segments_mut<F: Float>(x: &mut [F], body: impl Fn(Range<usize>, &mut [F]) + Sync + Send) {
    let len = x.len();
    x.par_chunks_mut(CHUNK_ELEMENTS)
        .enumerate()
        .for_each(|(s, piece)| {
            let range = segment(s, len);
            isa::dispatch(
                #[inline(always)]
                || body(range, piece),
            )
        });
}

/// [`softmax::sum`] of `x` with the halves of its tree on different threads
/// while they are longer than [`SERIAL_SUM`]: the same tree, so the same
/// bits.
pub(crate) fn sum<F: Float>(x: &[F]) -> F {
    sum_by(
        x.len(),
        #[inline(always)]
        |run| softmax::sum(&x[run]),
    )
}

/// [`softmax::sum_by`] with the halves of its tree on different threads
/// while they are longer than [`SERIAL_SUM`]. `leaf` must be marked
/// `#[inline(always)]` so that it is compiled for the instruction-set tier.
fn sum_by<F: Float>(len: usize, leaf: impl Fn(Range<usize>) -> F + Sync) -> F {
    subtree_sum(0..len, &leaf)
}

/// The sum of the subtree of [`sum_by`] over the values `node`.
fn subtree_sum<F: Float>(node: Range<usize>, leaf: &(impl Fn(Range<usize>) -> F + Sync)) -> F {
    let len = node.len();
    if len <= SERIAL_SUM {
        return isa::dispatch(
            #[inline(always)]
            || {
                softmax::sum_by(
                    len,
                    #[inline(always)]
                    |run| leaf(node.start + run.start..node.start + run.end),
                )
            },
        );
    }
    let half = node.start + len / (2 * ACCUMULATORS) * ACCUMULATORS;
    let (left, right) = rayon::join(
        || subtree_sum(node.start..half, leaf),
        || subtree_sum(half..node.end, leaf),
    );
    left + right
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::math::fma::Baseline;
    use crate::rng::fill::fill_unit;
    use crate::rows::softmax::{centred_row, log_softmax_rows, perturb_row, softmax_rows};

    /// Logits of `rows` rows of `classes`: varied values, every 5th class
    /// masked, and in row 1 the maximum tied at several classes.
    fn logits(rows: usize, classes: usize) -> Vec<f32> {
        (0..rows * classes)
            .map(|n| match (n / classes, n % classes) {
                (_, k) if k % 5 == 4 => f32::NEG_INFINITY,
                (1, k) if k % 7 == 0 => 3.0,
                (1, _) => -1.0,
                _ => ((n * 7919) % 1013) as f32 * 0.01 - 5.0,
            })
            .collect()
    }

    /// The per-unit path on one row: noise, perturbation and `finish`.
    fn reference(l: &[f32], noise: Option<(u64, u64)>, tau: f32, finish: Finish) -> Vec<f32> {
        let mut y = vec![0.0f32; l.len()];
        if let Some((seed, stream)) = noise {
            fill_unit(seed, stream, &mut y);
        }
        perturb_row(l, &mut y, noise.is_some());
        match finish {
            Finish::Softmax => softmax_rows::<f32, Baseline>(&mut y, l.len(), |_| tau),
            Finish::LogSoftmax => {
                let mut e = y.clone();
                log_softmax_rows::<f32, Baseline>(&mut y, l.len(), |_| tau, &mut e);
            }
            Finish::OneHot => {
                let k = argmax(&y);
                y.fill(0.0);
                y[k] = 1.0;
            }
        }
        y
    }

    fn bits(x: &[f32]) -> Vec<u32> {
        x.iter().map(|v| v.to_bits()).collect()
    }

    #[test]
    #[cfg_attr(miri, ignore = "large input, too slow for Miri")]
    fn every_operation_gives_the_bits_of_the_per_unit_path() {
        let (rows, classes) = (3, 3 * CHUNK_ELEMENTS + 123);
        let shape = Shape::matrix(rows, classes).unwrap();
        let l = logits(rows, classes);
        let (seed, offset, tau) = (11, 5, 0.7f32);
        let units = Units::new(rows, classes);
        let mut out = vec![0.0f32; l.len()];
        for finish in [Finish::Softmax, Finish::LogSoftmax, Finish::OneHot] {
            for noise in [Some((seed, offset)), None] {
                let temperature = Temperature::Scalar(tau);
                forward(&l, &mut out, shape, temperature, noise, finish).unwrap();
                for (row, (l, y)) in l.chunks(classes).zip(out.chunks(classes)).enumerate() {
                    let noise = noise.map(|(s, o)| (s, units.first_stream(o, row)));
                    assert_eq!(
                        bits(y),
                        bits(&reference(l, noise, tau, finish)),
                        "row {row}"
                    );
                }
            }
        }
        let mut indices = vec![-1i64; rows];
        sample(&l, &mut indices, shape, seed, offset).unwrap();
        for (row, l) in l.chunks(classes).enumerate() {
            let hot = reference(
                l,
                Some((seed, units.first_stream(offset, row))),
                tau,
                Finish::OneHot,
            );
            assert_eq!(hot[indices[row] as usize], 1.0, "row {row}");
        }
        // Row 1's noiseless maximum is tied: the first of the tied classes.
        forward(
            &l,
            &mut out,
            shape,
            Temperature::Scalar(tau),
            None,
            Finish::OneHot,
        )
        .unwrap();
        assert_eq!(out[classes], 1.0);

        let y: Vec<f32> = out.iter().map(|&v| v * 0.5 + 1e-6).collect();
        let v: Vec<f32> = (0..l.len()).map(|n| ((n * 31) % 17) as f32 - 8.0).collect();
        let mut g = vec![0.0f32; l.len()];
        backward(&y, &v, &mut g, shape, Temperature::Scalar(tau)).unwrap();
        for ((y, v), g) in y
            .chunks(classes)
            .zip(v.chunks(classes))
            .zip(g.chunks(classes))
        {
            let mut expected = vec![0.0f32; classes];
            centred_row(y, v, &mut expected);
            expected.iter_mut().for_each(|e| *e /= tau);
            assert_eq!(bits(g), bits(&expected));
        }
    }

    #[test]
    #[cfg_attr(miri, ignore = "large input, too slow for Miri")]
    fn the_split_sum_walks_the_same_tree() {
        let x: Vec<f32> = (0..300_001u32)
            .map(|k| (k.wrapping_mul(2_654_435_761) >> 8) as f32 * 1e-3 + (k % 3) as f32 * 1e4)
            .collect();
        for len in [SERIAL_SUM + 1, 200_000, 300_001] {
            let parallel = pool::install(|| sum(&x[..len])).unwrap();
            assert_eq!(
                parallel.to_bits(),
                softmax::sum(&x[..len]).to_bits(),
                "{len}"
            );
        }
    }
}
