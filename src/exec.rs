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
        pool::install(|| {
            data.par_chunks_mut(chunk)
                .enumerate()
                .for_each(|(i, c)| body(i, c))
        })
    } else {
        data.chunks_mut(chunk)
            .enumerate()
            .for_each(|(i, c)| body(i, c));
        Ok(())
    }
}

/// Calls `body(i)` for `i` in `0..count`, on the worker threads when `parallel`.
pub(crate) fn for_each_index(
    count: usize,
    parallel: bool,
    body: impl Fn(usize) + Sync + Send,
) -> Result<()> {
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

impl<O> SharedOut<O> {
    /// Writes `value` at `index`.
    ///
    /// # Safety
    /// `index` must be in bounds of the buffer, and no other thread may
    /// access that element during the call.
    unsafe fn write(&self, index: usize, value: O) {
        // SAFETY: the caller's contract.
        unsafe { self.0.add(index).write(value) }
    }
}

/// How the first input of a row operation is prepared before the kernel
/// sees it.
#[derive(Clone, Copy)]
pub(crate) enum First {
    /// As given (soft samples, gradients).
    AsIs,
    /// Logits: shifted by their row maximum, plus the standard Gumbel noise
    /// of `Some((seed, offset))` (see [`shift_row`]).
    Logits(Option<(u64, u64)>),
}

/// Applies `kernel(row, z_row, out_row)` to every row, where `z_row` holds the
/// row's logits minus their maximum (contiguous, in class order) plus, when
/// `noise` is `Some((seed, offset))`, the row's standard Gumbel noise;
/// `out_row` has `classes` values for [`Output::PerElement`] and one for
/// [`Output::PerRow`].
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
    map_rows_n(
        shape,
        [logits],
        First::Logits(noise),
        out,
        output,
        |row, [z], _, o| kernel(row, z, o),
    )
}

/// The `N`-input form of [`map_rows`]: applies
/// `kernel(row, rows, scratch, out_row)` to every row, where `rows[n]` is
/// row `row` of `inputs[n]` (each an `(outer, classes, inner)` tensor of
/// `shape.len()` elements), gathered contiguous in class order, the first
/// prepared as `first` says; `scratch` is a `classes`-long buffer the kernel
/// may overwrite (its contents on entry are unspecified); `out_row` is as in
/// [`map_rows`].
pub(crate) fn map_rows_n<F: Float, O: Copy + Default + Send, const N: usize>(
    shape: Shape,
    inputs: [&[F]; N],
    first: First,
    out: &mut [O],
    output: Output,
    kernel: impl Fn(usize, [&[F]; N], &mut [F], &mut [O]) + Sync,
) -> Result<()> {
    if shape.is_empty() {
        return Ok(());
    }
    let parallel = shape.len() >= PARALLEL_MIN_ELEMENTS;
    let classes = shape.classes();
    let units = Units::new(shape.rows(), classes);
    let width = if output == Output::PerRow { 1 } else { classes };
    let run_unit = |unit: usize, out_unit: &mut [O]| {
        let mut out_rows = out_unit.chunks_exact_mut(width);
        for_each_row_of_unit(shape, units, inputs, first, unit, |row, x, scratch| {
            let out_row = out_rows.next().expect("one output row per row");
            kernel(row, x, scratch, out_row);
        });
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
        for (row, values) in rows.zip(buffer.chunks_exact(classes)) {
            for (class, v) in values.iter().enumerate() {
                let index = shape.index(row, class);
                assert!(index < shape.len());
                // SAFETY: `index` is in bounds of `out` (asserted; `out` has
                // `shape.len()` elements) and `(row, class)` belongs to this
                // unit only, so no other thread writes this element.
                unsafe { shared.write(index, *v) };
            }
        }
    };
    for_each_index(units.count(), parallel, scatter_unit)
}

/// The sum over all rows of `kernel(row, rows, scratch)` (arguments as in
/// [`map_rows_n`], inputs as given), accumulated and returned in `f64` (the
/// caller rounds it once).
///
/// The order of the additions is fixed by the shape alone: the rows of each
/// unit of [`crate::stream`] are summed with [`softmax::sum`], then the unit
/// sums, in unit order, again with [`softmax::sum`]. The result is therefore
/// the same bits for any thread count.
pub(crate) fn sum_rows<F: Float, const N: usize>(
    shape: Shape,
    inputs: [&[F]; N],
    kernel: impl Fn(usize, [&[F]; N], &mut [F]) -> F + Sync,
) -> Result<f64> {
    if shape.is_empty() {
        return Ok(0.0);
    }
    let units = Units::new(shape.rows(), shape.classes());
    let unit_sum = |unit: usize| {
        let mut values = Vec::with_capacity(units.rows(unit).len());
        for_each_row_of_unit(
            shape,
            units,
            inputs,
            First::AsIs,
            unit,
            |row, x, scratch| {
                values.push(kernel(row, x, scratch).to_f64());
            },
        );
        softmax::sum(&values)
    };
    let partials: Vec<f64> = if shape.len() >= PARALLEL_MIN_ELEMENTS {
        pool::install(|| (0..units.count()).into_par_iter().map(unit_sum).collect())?
    } else {
        (0..units.count()).map(unit_sum).collect()
    };
    Ok(softmax::sum(&partials))
}

/// Gathers the rows of unit `unit` of every input (preparing the first as
/// `first` says) and calls `body(row, rows, scratch)` on each row in order,
/// with a `classes`-long scratch buffer.
fn for_each_row_of_unit<F: Float, const N: usize>(
    shape: Shape,
    units: Units,
    inputs: [&[F]; N],
    first: First,
    unit: usize,
    mut body: impl FnMut(usize, [&[F]; N], &mut [F]),
) {
    let classes = shape.classes();
    let rows = units.rows(unit);
    let gathered: [Vec<F>; N] = std::array::from_fn(|n| {
        let mut x = vec![F::ZERO; rows.len() * classes];
        match first {
            First::Logits(noise) if n == 0 => {
                if let Some((seed, offset)) = noise {
                    noise::fill_unit(seed, units.first_stream(offset, unit), &mut x);
                }
                for (row, z_row) in rows.clone().zip(x.chunks_exact_mut(classes)) {
                    shift_row(shape, inputs[0], row, z_row, noise.is_some());
                }
            }
            _ => {
                for (row, x_row) in rows.clone().zip(x.chunks_exact_mut(classes)) {
                    for (x, v) in x_row.iter_mut().zip(row_values(shape, inputs[n], row)) {
                        *x = v;
                    }
                }
            }
        }
        x
    });
    let mut scratch = vec![F::ZERO; classes];
    for (r, row) in rows.enumerate() {
        let x = std::array::from_fn(|n| &gathered[n][r * classes..(r + 1) * classes]);
        body(row, x, &mut scratch);
    }
}

/// The values of row `row` of an `(outer, classes, inner)` tensor, in class
/// order.
fn row_values<F: Float>(shape: Shape, x: &[F], row: usize) -> impl Iterator<Item = F> + Clone + '_ {
    let start = shape.index(row, 0);
    x[start..]
        .iter()
        .step_by(shape.inner())
        .take(shape.classes())
        .copied()
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
    if shape.inner() == 1 {
        // The same operations on a contiguous row, which the compiler
        // vectorises.
        let start = shape.index(row, 0);
        let l = &logits[start..start + shape.classes()];
        let m = softmax::max(l.iter().copied());
        if noisy {
            z_row
                .iter_mut()
                .zip(l)
                .for_each(|(z, &l)| *z = (l - m) + *z);
        } else {
            z_row.iter_mut().zip(l).for_each(|(z, &l)| *z = l - m);
        }
        return;
    }
    let l = row_values(shape, logits, row);
    let m = softmax::max(l.clone());
    if noisy {
        z_row.iter_mut().zip(l).for_each(|(z, l)| *z = (l - m) + *z);
    } else {
        z_row.iter_mut().zip(l).for_each(|(z, l)| *z = l - m);
    }
}
