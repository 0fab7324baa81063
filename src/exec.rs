//! Running row operations over units, serially or on rayon.
//!
//! Work is split by the units of [`crate::stream`], so which thread runs a
//! unit never changes what it computes. Calls smaller than
//! [`PARALLEL_MIN_ELEMENTS`] run on the calling thread.

use rayon::prelude::*;

use crate::error::Result;
use crate::float::Float;
use crate::noise;
use crate::pool;
use crate::shape::Shape;
use crate::softmax;
use crate::stream::Units;

/// Calls with fewer elements than this run serially.
pub const PARALLEL_MIN_ELEMENTS: usize = 1 << 15;

/// Calls `body(index, chunk)` on consecutive chunks of `chunk > 0` elements,
/// on the worker threads when `parallel`.
pub(crate) fn for_each_chunk_mut<T: Send>(
    data: &mut [T],
    chunk: usize,
    parallel: bool,
    body: impl Fn(usize, &mut [T]) + Sync + Send,
) -> Result<()> {
    if parallel {
        pool::install(|| data.par_chunks_mut(chunk).enumerate().for_each(|(i, c)| body(i, c)))
    } else {
        data.chunks_mut(chunk).enumerate().for_each(|(i, c)| body(i, c));
        Ok(())
    }
}

/// Calls `body(i)` for `i` in `0..count`, on the worker threads when `parallel`.
pub(crate) fn for_each_index(count: usize, parallel: bool, body: impl Fn(usize) + Sync + Send) -> Result<()> {
    if parallel {
        pool::install(|| (0..count).into_par_iter().for_each(body))
    } else {
        (0..count).for_each(body);
        Ok(())
    }
}

/// What a row operation writes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Output {
    /// One value per element, in the layout of the logits.
    PerElement,
    /// One value per row, in row order `(o, i)`.
    PerRow,
}

/// A raw output pointer shared by the units of one call. Units write
/// disjoint elements, so concurrent writes never touch the same location.
#[derive(Clone, Copy)]
struct SharedOut<O>(*mut O);
// SAFETY: only used to write disjoint elements from different threads.
unsafe impl<O: Send> Send for SharedOut<O> {}
unsafe impl<O: Send> Sync for SharedOut<O> {}

/// Applies `kernel(row, z_row, out_row)` to every row, where `z_row` holds the
/// row's logits (contiguous, in class order) plus, when `noise` is
/// `Some((seed, offset))`, the row's standard Gumbel noise; `out_row` has
/// `classes` values for [`Output::PerElement`] and one for [`Output::PerRow`].
///
/// `logits` must have `shape.len()` elements and `out` the matching length.
/// Fails only if the worker threads cannot be started.
pub(crate) fn map_rows<F: Float, O: Copy + Default + Send>(
    shape: Shape,
    logits: &[F],
    noise: Option<(u64, u64)>,
    out: &mut [O],
    output: Output,
    kernel: impl Fn(usize, &[F], &mut [O]) + Sync,
) -> Result<()> {
    if shape.is_empty() {
        return Ok(());
    }
    let parallel = shape.len() >= PARALLEL_MIN_ELEMENTS;
    let classes = shape.classes();
    let units = Units::new(shape.rows(), classes);
    let width = if output == Output::PerRow { 1 } else { classes };
    let run_unit = |unit: usize, out_unit: &mut [O]| {
        let rows = units.rows(unit);
        let mut z = vec![F::ZERO; rows.len() * classes];
        if let Some((seed, offset)) = noise {
            noise::fill_unit(seed, units.first_stream(offset, unit), &mut z);
        }
        for ((row, z_row), out_row) in rows
            .zip(z.chunks_exact_mut(classes))
            .zip(out_unit.chunks_exact_mut(width))
        {
            shift_row(shape, logits, row, z_row, noise.is_some());
            kernel(row, z_row, out_row);
        }
    };
    let unit_rows = units.rows(0).len();
    if output == Output::PerRow || shape.inner() == 1 {
        return for_each_chunk_mut(out, unit_rows * width, parallel, run_unit);
    }
    // Strided output: compute each unit into a buffer, then scatter.
    let shared = SharedOut(out.as_mut_ptr());
    let scatter_unit = |unit: usize| {
        let rows = units.rows(unit);
        let mut buffer = vec![O::default(); rows.len() * classes];
        run_unit(unit, &mut buffer);
        let shared = shared;
        for (row, values) in rows.zip(buffer.chunks_exact(classes)) {
            for (class, v) in values.iter().enumerate() {
                let index = shape.index(row, class);
                assert!(index < shape.len());
                // SAFETY: `index` is in bounds of `out` (asserted; `out` has
                // `shape.len()` elements) and `(row, class)` belongs to this
                // unit only, so no other thread writes this element.
                unsafe { shared.0.add(index).write(*v) };
            }
        }
    };
    for_each_index(units.count(), parallel, scatter_unit)
}

/// Writes row `row`'s logits minus their maximum into `z_row`, adding them
/// to the noise already there when `noisy`: `z = (logits - max logits) + g`.
///
/// Shifting before adding the noise keeps the noise's precision when the
/// logits are large (`1e7 + g` would round `g` to whole numbers in `f32`);
/// `argmax` and `softmax` are unchanged by the shift. A logit more than the
/// type's largest value below the maximum becomes `-inf` (probability
/// `exp(-FLT_MAX / tau)`, which is 0 in the type for any `tau < FLT_MAX / 104`).
fn shift_row<F: Float>(shape: Shape, logits: &[F], row: usize, z_row: &mut [F], noisy: bool) {
    let start = shape.index(row, 0);
    let classes = shape.classes();
    if shape.inner() == 1 {
        shift(logits[start..start + classes].iter().copied(), z_row, noisy);
    } else {
        shift(logits[start..].iter().step_by(shape.inner()).take(classes).copied(), z_row, noisy);
    }
}

fn shift<F: Float>(l: impl Iterator<Item = F> + Clone, z_row: &mut [F], noisy: bool) {
    let m = softmax::max(l.clone());
    if noisy {
        z_row.iter_mut().zip(l).for_each(|(z, l)| *z = (l - m) + *z);
    } else {
        z_row.iter_mut().zip(l).for_each(|(z, l)| *z = l - m);
    }
}
