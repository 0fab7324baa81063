//! Running row operations over units, serially or on rayon.
//!
//! Work is split by the units of [`crate::stream`], so which thread runs a
//! unit never changes what it computes. Calls smaller than
//! [`PARALLEL_MIN_ELEMENTS`] run on the calling thread.

use std::ops::Range;

use rayon::prelude::*;

use crate::error::Result;
use crate::math::element::Element;
use crate::math::float::Float;
use crate::rng::stream::Units;
use crate::runtime::pool;
use crate::runtime::scratch::{self, narrow_into, with_widened, Plain};
use crate::runtime::shape::Shape;

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

/// What [`map_units`] calls with a unit's rows and their gathered inputs.
type GatheredBody<'b, F, const N: usize> = dyn FnMut(Range<usize>, [&[F]; N]) + 'b;

/// One unit of [`crate::stream`] handed to a unit kernel by [`map_units`].
pub(crate) struct Unit<'a, F, O, const N: usize> {
    /// The unit's number (its streams start at
    /// [`Units::first_stream`]`(offset, index)`).
    pub(crate) index: usize,
    /// The rows of the unit, in row order `(o, i)`.
    pub(crate) rows: Range<usize>,
    /// The unit's rows of each input, contiguous in class order
    /// (`rows.len() * classes` values, row after row).
    pub(crate) inputs: [&'a [F]; N],
    /// The unit's outputs: `rows.len() * classes` values in the layout of
    /// `inputs` for [`Output::PerElement`], `rows.len()` for
    /// [`Output::PerRow`].
    pub(crate) out: &'a mut [O],
}

impl<E: Element, const N: usize> Unit<'_, E, E, N> {
    /// Runs `kernel` on this unit in the computed type of `E`: on the unit
    /// itself for `f32` and `f64`; for a 16-bit format on its inputs widened
    /// exactly into per-thread scratch and an output buffer there, each of
    /// whose values is then rounded once into the unit's output. The kernel
    /// thus computes the bits of the `f32` call on the widened inputs.
    pub(crate) fn computed(self, kernel: impl FnOnce(Unit<'_, E::Compute, E::Compute, N>)) {
        let Unit {
            index,
            rows,
            inputs,
            out,
        } = self;
        let native = inputs.map(E::as_compute);
        if native.iter().all(Option::is_some) {
            if let Some(out) = E::as_compute_mut(&mut *out) {
                return kernel(Unit {
                    index,
                    rows,
                    inputs: native.map(|x| x.expect("checked")),
                    out,
                });
            }
        }
        with_widened(inputs, out.len(), |inputs, wide| {
            kernel(Unit {
                index,
                rows,
                inputs,
                out: &mut *wide,
            });
            narrow_into(wide, out);
        })
    }
}

/// Applies `kernel` to every unit of [`crate::stream`] of a call on `shape`,
/// on the worker threads for large calls. Each of `inputs` is an
/// `(outer, classes, inner)` tensor of `shape.len()` elements and `out` has
/// `shape.len()` ([`Output::PerElement`]) or `shape.rows()`
/// ([`Output::PerRow`]) values.
///
/// The kernel sees each unit's rows contiguous in class order: slices of the
/// caller's buffers when `inner == 1` (no copy), otherwise copies gathered
/// into (and, for per-element outputs, scattered from) per-thread scratch
/// buffers, so nothing is allocated per unit. Fails only if the worker
/// threads cannot be started.
pub(crate) fn map_units<F: Plain + Sync, O: Plain + Send, const N: usize>(
    shape: Shape,
    inputs: [&[F]; N],
    out: &mut [O],
    output: Output,
    kernel: impl Fn(Unit<'_, F, O, N>) + Sync,
) -> Result<()> {
    if shape.is_empty() {
        return Ok(());
    }
    let parallel = shape.len() >= PARALLEL_MIN_ELEMENTS;
    let classes = shape.classes();
    let units = Units::new(shape.rows(), classes);
    let width = if output == Output::PerRow { 1 } else { classes };
    let unit_rows = units.rows(0).len();
    if shape.inner() == 1 {
        return for_each_chunk_mut(out, unit_rows * width, parallel, |index, out| {
            let rows = units.rows(index);
            let elements = rows.start * classes..rows.end * classes;
            let inputs = inputs.map(|x| &x[elements.clone()]);
            kernel(Unit {
                index,
                rows,
                inputs,
                out,
            });
        });
    }
    let gathered = |index: usize, body: &mut GatheredBody<'_, F, N>| {
        with_unit_inputs(shape, &units, inputs, index, |rows, inputs| {
            body(rows, inputs)
        })
    };
    if output == Output::PerRow {
        return for_each_chunk_mut(out, unit_rows, parallel, |index, out| {
            gathered(index, &mut |rows, inputs| {
                kernel(Unit {
                    index,
                    rows,
                    inputs,
                    out: &mut *out,
                })
            });
        });
    }
    // Strided output: compute each unit into a buffer, then scatter.
    let shared = SharedOut(out.as_mut_ptr());
    for_each_index(units.count(), parallel, |index| {
        gathered(index, &mut |rows, inputs| {
            scratch::with::<O, _>(rows.len() * classes, |buffer| {
                kernel(Unit {
                    index,
                    rows: rows.clone(),
                    inputs,
                    out: &mut *buffer,
                });
                for (row, values) in rows.zip(buffer.chunks_exact(classes)) {
                    for (class, v) in values.iter().enumerate() {
                        let index = shape.index(row, class);
                        assert!(index < shape.len());
                        // SAFETY: `index` is in bounds of `out` (asserted;
                        // `out` has `shape.len()` elements) and
                        // `(row, class)` belongs to this unit only, so no
                        // other thread writes this element.
                        unsafe { shared.write(index, *v) };
                    }
                }
            });
        });
    })
}

/// Calls `body(rows, inputs)` with the rows of unit `index` and each
/// input's values of those rows, contiguous in class order: slices of the
/// caller's buffers when `inner == 1`, otherwise copies gathered into a
/// per-thread scratch buffer.
fn with_unit_inputs<F: Plain, R, const N: usize>(
    shape: Shape,
    units: &Units,
    inputs: [&[F]; N],
    index: usize,
    body: impl FnOnce(Range<usize>, [&[F]; N]) -> R,
) -> R {
    let rows = units.rows(index);
    let classes = shape.classes();
    let len = rows.len() * classes;
    if shape.inner() == 1 {
        let elements = rows.start * classes..rows.end * classes;
        return body(rows, inputs.map(|x| &x[elements.clone()]));
    }
    scratch::with::<F, _>(N * len, |buffer| {
        for (x, copy) in inputs.iter().zip(buffer.chunks_exact_mut(len)) {
            for (row, copy) in rows.clone().zip(copy.chunks_exact_mut(classes)) {
                copy.iter_mut()
                    .zip(row_values(shape, x, row))
                    .for_each(|(c, v)| *c = v);
            }
        }
        let copies = std::array::from_fn(|n| &buffer[n * len..(n + 1) * len]);
        body(rows, copies)
    })
}

/// [`map_units`] for an operation that writes `copies` tensors of `shape`
/// (`out` has `copies * shape.len()` values, copy after copy, each in the
/// layout of the inputs): the inputs of a unit are gathered once and the
/// kernel's `unit.out` holds its `copies` blocks of `rows.len() * classes`
/// values, block after block, each row after row in class order. The blocks
/// are computed in per-thread scratch and then written to their places.
/// Fails only if the worker threads cannot be started.
pub(crate) fn map_units_repeated<F: Plain + Sync, O: Plain + Send, const N: usize>(
    shape: Shape,
    inputs: [&[F]; N],
    out: &mut [O],
    copies: usize,
    kernel: impl Fn(Unit<'_, F, O, N>) + Sync,
) -> Result<()> {
    if shape.is_empty() || copies == 0 {
        return Ok(());
    }
    let total = out.len();
    assert_eq!(total, copies * shape.len(), "one block per copy");
    let parallel = total >= PARALLEL_MIN_ELEMENTS;
    let classes = shape.classes();
    let units = Units::new(shape.rows(), classes);
    let shared = SharedOut(out.as_mut_ptr());
    for_each_index(units.count(), parallel, |index| {
        with_unit_inputs(shape, &units, inputs, index, |rows, inputs| {
            let len = rows.len() * classes;
            scratch::with::<O, _>(copies * len, |buffer| {
                kernel(Unit {
                    index,
                    rows: rows.clone(),
                    inputs,
                    out: &mut *buffer,
                });
                for (copy, block) in buffer.chunks_exact(len).enumerate() {
                    for (row, values) in rows.clone().zip(block.chunks_exact(classes)) {
                        for (class, v) in values.iter().enumerate() {
                            let index = copy * shape.len() + shape.index(row, class);
                            assert!(index < total);
                            // SAFETY: `index` is in bounds of `out` (asserted)
                            // and `(copy, row, class)` belongs to this unit
                            // only, so no other thread writes this element.
                            unsafe { shared.write(index, *v) };
                        }
                    }
                }
            });
        })
    })
}

/// Applies `kernel(row, rows, scratch, out_row)` to every row, where
/// `rows[n]` is row `row` of `inputs[n]` (each an `(outer, classes, inner)`
/// tensor of `shape.len()` elements), contiguous in class order; `scratch` is
/// a buffer of `scratch_len` values the kernel may overwrite (its contents on
/// entry are unspecified); `out_row` has `classes` values for
/// [`Output::PerElement`] and one for [`Output::PerRow`]. Runs over the
/// units of [`map_units`].
pub(crate) fn map_rows_n<F: Plain + Sync, O: Plain + Send, const N: usize>(
    shape: Shape,
    inputs: [&[F]; N],
    out: &mut [O],
    output: Output,
    scratch_len: usize,
    kernel: impl Fn(usize, [&[F]; N], &mut [F], &mut [O]) + Sync,
) -> Result<()> {
    let classes = shape.classes();
    let width = if output == Output::PerRow { 1 } else { classes };
    map_units(shape, inputs, out, output, |unit| {
        each_row(unit, classes, width, scratch_len, &kernel)
    })
}

/// [`map_rows_n`] with per-element outputs over tensors of any [`Element`],
/// the kernel running in the computed type ([`Unit::computed`]): for a
/// 16-bit format each result is that of the `f32` call on the widened
/// inputs, rounded once.
pub(crate) fn map_rows_computed<E: Element, const N: usize>(
    shape: Shape,
    inputs: [&[E]; N],
    out: &mut [E],
    scratch_len: usize,
    kernel: impl Fn(usize, [&[E::Compute]; N], &mut [E::Compute], &mut [E::Compute]) + Sync,
) -> Result<()> {
    let classes = shape.classes();
    map_units(shape, inputs, out, Output::PerElement, |unit| {
        unit.computed(|unit| each_row(unit, classes, classes, scratch_len, &kernel))
    })
}

/// Calls `kernel(row, rows, scratch, out_row)` (as in [`map_rows_n`]) on
/// every row of `unit`, `out_row` being `width` values.
fn each_row<F: Plain, O, const N: usize>(
    unit: Unit<'_, F, O, N>,
    classes: usize,
    width: usize,
    scratch_len: usize,
    kernel: &impl Fn(usize, [&[F]; N], &mut [F], &mut [O]),
) {
    scratch::with::<F, _>(scratch_len, |scratch| {
        for ((r, row), out_row) in unit.rows.enumerate().zip(unit.out.chunks_exact_mut(width)) {
            let x = unit.inputs.map(|x| &x[r * classes..(r + 1) * classes]);
            kernel(row, x, scratch, out_row);
        }
    })
}

/// The sum over all rows of `kernel(row, rows)` (arguments as in
/// [`map_rows_n`]), accumulated and returned in `f64` (the caller rounds it
/// once), `sum(values)` being the caller's sum of a slice in a fixed order.
///
/// The order of the additions is fixed by the shape alone: the rows of each
/// unit of [`crate::stream`] are summed with `sum`, then the unit sums, in
/// unit order, again with `sum`. The result is therefore the same bits for
/// any thread count.
pub(crate) fn sum_rows<F: Plain + Sync, R: Float, const N: usize>(
    shape: Shape,
    inputs: [&[F]; N],
    kernel: impl Fn(usize, [&[F]; N]) -> R + Sync,
    sum: impl Fn(&[f64]) -> f64,
) -> Result<f64> {
    if shape.is_empty() {
        return Ok(0.0);
    }
    let units = Units::new(shape.rows(), shape.classes());
    scratch::with::<f64, _>(shape.rows() + units.count(), |buffer| {
        let (values, partials) = buffer.split_at_mut(shape.rows());
        map_rows_n(
            shape,
            inputs,
            values,
            Output::PerRow,
            0,
            |row, x, _, out| out[0] = kernel(row, x).to_f64(),
        )?;
        for (unit, partial) in partials.iter_mut().enumerate() {
            *partial = sum(&values[units.rows(unit)]);
        }
        Ok(sum(partials))
    })
}

/// The values of row `row` of an `(outer, classes, inner)` tensor, in class
/// order.
fn row_values<F: Copy>(shape: Shape, x: &[F], row: usize) -> impl Iterator<Item = F> + Clone + '_ {
    let start = shape.index(row, 0);
    x[start..]
        .iter()
        .step_by(shape.inner())
        .take(shape.classes())
        .copied()
}
