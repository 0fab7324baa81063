//! The forward pass shared by the samplers and the tempered softmax: the
//! perturbed logits `z = (l - max l) + g` of every row (`z = l - max l`
//! without noise), then what the caller asked for ([`Finish`]).
//!
//! Each unit of [`crate::stream`] runs as one kernel compiled for the
//! instruction-set tier: the noise is drawn straight into the output (or a
//! per-thread scratch buffer for indices), the logits are shifted and added
//! in place, and the rows are finished by the code of [`crate::rows::softmax`]:
//! rows shorter than [`ROW_BY_ROW`] classes pass by pass over all rows of the
//! unit (the exponentials in one flat loop, which vectorises), longer ones
//! row by row (each row stays in the L1 cache). A few rows longer than a
//! stream segment run on [`crate::rows::wide`] instead, with the same bits.

use crate::error::Result;
use crate::math::element::Element;
use crate::math::float::Float;
use crate::math::fma::Fma;
use crate::math::isa;
use crate::rng::fill::fill_unit;
use crate::rng::stream::Units;
use crate::rows::gumbel_max;
use crate::rows::softmax::{
    argmax, by_row_length, log_softmax_rows, max, perturb_row, softmax_row, softmax_row_from,
    softmax_rows, Finish,
};
use crate::rows::temperature::Temperature;
use crate::rows::wide;
use crate::rows::window;
use crate::runtime::exec::{self, Output};
use crate::runtime::scratch::{self, narrow_into, with_widened};
use crate::runtime::shape::Shape;

/// Writes `finish` of the perturbed logits of every row of `logits` (an
/// `(outer, classes, inner)` tensor) into `out` (same shape), with the
/// standard Gumbel noise of `Some((seed, offset))` or none. A 16-bit tensor
/// is computed unit by unit in `f32` (widened into per-thread scratch, each
/// result rounded once), with the bits of the `f32` call: rows longer than
/// a stream segment then run one per thread rather than on [`wide`], which
/// gives the same bits. The caller has checked every argument. Fails only
/// if the worker threads cannot start.
pub(crate) fn run<E: Element>(
    logits: &[E],
    out: &mut [E],
    shape: Shape,
    tau: Temperature<'_, E::Compute>,
    noise: Option<(u64, u64)>,
    finish: Finish,
) -> Result<()> {
    let units = (&Units::new(shape.rows(), shape.classes()), shape.classes());
    let native = E::as_compute(logits).zip(E::as_compute_mut(&mut *out));
    if let Some((logits, out)) = native {
        if wide::applies(shape) {
            return wide::forward(logits, out, shape, tau, noise, finish);
        }
        return exec::map_units(shape, [logits], out, Output::PerElement, |unit| {
            let [l] = unit.inputs;
            let first = unit.rows.start;
            forward_unit(l, unit.out, units, unit.index, first, tau, noise, finish)
        });
    }
    exec::map_units(shape, [logits], out, Output::PerElement, |unit| {
        let [l] = unit.inputs;
        with_widened([l], l.len(), |[l], y| {
            let first = unit.rows.start;
            forward_unit(l, y, units, unit.index, first, tau, noise, finish);
            narrow_into(y, unit.out);
        })
    })
}

/// [`run`] on one unit of [`crate::stream`], number `index`, whose rows
/// (from row `first` of the call, `classes` long) are `l` and go to `y`.
#[allow(clippy::too_many_arguments)]
fn forward_unit<F: Float>(
    l: &[F],
    y: &mut [F],
    (units, classes): (&Units, usize),
    index: usize,
    first: usize,
    tau: Temperature<'_, F>,
    noise: Option<(u64, u64)>,
    finish: Finish,
) {
    let tau = |r: usize| tau.of_row(first + r);
    let e_len = if finish == Finish::LogSoftmax {
        l.len()
    } else {
        0
    };
    scratch::with(e_len, |e| {
        isa::dispatch_with_fma!(M => {
            if let Some((seed, offset)) = noise {
                fill_unit(seed, units.first_stream(offset, index), y);
            }
            let noisy = noise.is_some();
            by_row_length!(
                classes,
                finish_rows::<F, M>(l, y, classes, noisy, tau, finish, e)
            );
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
fn finish_rows<F: Float, M: Fma, const K: usize>(
    l: &[F],
    y: &mut [F],
    classes: usize,
    noisy: bool,
    tau: impl Fn(usize) -> F,
    finish: Finish,
    e: &mut [F],
) {
    let classes = if K == 0 { classes } else { K };
    let head = window::head(y.len(), classes);
    if head > 0 {
        match finish {
            Finish::OneHot => {
                window::by_width!(classes, one_hot_windows::<F>(l, y, head, classes, noisy))
            }
            _ => window::by_width!(
                classes,
                softmax_windows::<F, M>(l, y, head, classes, noisy, &tau, finish, e)
            ),
        }
    }
    let split = head * classes;
    let (l, y, e) = (
        &l[split..],
        &mut y[split..],
        e.get_mut(split..).unwrap_or_default(),
    );
    let tau = |r| tau(head + r);
    let per_row = classes >= ROW_BY_ROW;
    let rows = l.chunks_exact(classes).zip(y.chunks_exact_mut(classes));
    for (r, (l, y)) in rows.enumerate() {
        // Without noise a long row's softmax reads the logits and their
        // maximum: `z = l - max l` is not written first.
        if finish == Finish::Softmax && per_row && !noisy {
            softmax_row_from::<F, M>(Some(l), y, max(l), tau(r));
            continue;
        }
        perturb_row(l, y, noisy);
        match finish {
            Finish::OneHot => {
                let k = argmax(y);
                y.fill(F::ZERO);
                y[k] = F::ONE;
            }
            Finish::Softmax if per_row => softmax_row::<F, M>(y, max(y), tau(r)),
            _ => {}
        }
    }
    match finish {
        Finish::Softmax if per_row => {}
        Finish::Softmax => softmax_rows::<F, M>(y, classes, tau),
        Finish::LogSoftmax => log_softmax_rows::<F, M>(y, classes, tau, e),
        Finish::OneHot => {}
    }
}

/// Writes the index of the largest perturbed logit of every row (the
/// Gumbel-max sample) into `indices` (row order `(o, i)`), with the noise of
/// `(seed, offset)`; a 16-bit tensor is widened unit by unit as in [`run`],
/// giving the indices of the `f32` call. The caller has checked every
/// argument. Fails only if the worker threads cannot start.
pub(crate) fn indices<E: Element>(
    logits: &[E],
    indices: &mut [i64],
    shape: Shape,
    seed: u64,
    offset: u64,
) -> Result<()> {
    let units = (&Units::new(shape.rows(), shape.classes()), shape.classes());
    if let Some(logits) = E::as_compute(logits) {
        if wide::applies(shape) {
            return wide::sample(logits, indices, shape, seed, offset);
        }
        return exec::map_units(shape, [logits], indices, Output::PerRow, |unit| {
            let [l] = unit.inputs;
            indices_unit(l, unit.out, units, unit.index, seed, offset)
        });
    }
    exec::map_units(shape, [logits], indices, Output::PerRow, |unit| {
        let [l] = unit.inputs;
        with_widened([l], 0, |[l], _| {
            indices_unit(l, unit.out, units, unit.index, seed, offset)
        })
    })
}

/// [`indices`] of one unit of [`crate::stream`], number `index`, whose rows
/// are `l`.
fn indices_unit<F: Float>(
    l: &[F],
    indices: &mut [i64],
    (units, classes): (&Units, usize),
    index: usize,
    seed: u64,
    offset: u64,
) {
    let first_stream = units.first_stream(offset, index);
    if gumbel_max::applies(classes) {
        return gumbel_max::unit_argmax(l, classes, indices, seed, first_stream);
    }
    scratch::with(l.len(), |z| {
        isa::dispatch(
            #[inline(always)]
            || {
                fill_unit(seed, first_stream, z);
                by_row_length!(classes, argmax_rows::<F>(l, z, classes, indices));
            },
        )
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
    let head = window::head(z.len(), classes);
    let (windowed, indices) = indices.split_at_mut(head);
    if head > 0 {
        window::by_width!(classes, argmax_windows::<F>(l, z, classes, windowed));
    }
    let split = head * classes;
    let rows = l[split..]
        .chunks_exact(classes)
        .zip(z[split..].chunks_exact_mut(classes));
    for ((l, z), index) in rows.zip(indices.iter_mut()) {
        perturb_row(l, z, true);
        *index = argmax(z) as i64;
    }
}

/// [`argmax_rows`] of the first `indices.len()` rows, of a length that
/// [`window::applies`] to, read through `N`-lane windows.
#[inline(always)]
fn argmax_windows<F: Float, const N: usize>(l: &[F], z: &[F], classes: usize, indices: &mut [i64]) {
    for (r, index) in indices.iter_mut().enumerate() {
        *index = perturbed_argmax::<F, N>(l, z, r * classes, classes, true) as i64;
    }
}

/// The one-hot of the argmax of the perturbed logits of the first `rows`
/// rows of `y` (as in [`finish_rows`]), rows of a length that
/// [`window::applies`] to, read through `N`-lane windows: the argmax of a
/// block of rows is found before the block is overwritten (a window reads
/// past its row).
#[inline(always)]
fn one_hot_windows<F: Float, const N: usize>(
    l: &[F],
    y: &mut [F],
    rows: usize,
    classes: usize,
    noisy: bool,
) {
    const BLOCK: usize = 64;
    for first in (0..rows).step_by(BLOCK) {
        let mut hot = [0; BLOCK];
        let count = BLOCK.min(rows - first);
        for (r, hot) in (first..first + count).zip(&mut hot) {
            *hot = perturbed_argmax::<F, N>(l, y, r * classes, classes, noisy);
        }
        let block = &mut y[first * classes..(first + count) * classes];
        block.fill(F::ZERO);
        for (row, &k) in block.chunks_exact_mut(classes).zip(&hot) {
            row[k] = F::ONE;
        }
    }
}

/// The softmax or log-softmax (`finish`) of the perturbed logits of the
/// first `rows` rows of `y` (as in [`finish_rows`]), rows of a length that
/// [`window::applies`] to, read through `N`-lane windows: the bits of
/// [`perturb_row`] then [`softmax_rows`] or [`log_softmax_rows`]. The rows'
/// exponents are written in one pass, their exponentials computed in one
/// flat loop, then each row finished. Without noise the maximum of
/// `z = l - max l` is not searched: it is `+0` (the maximum's own
/// `m - m`; a zero of `z` can only be `-0` after the first zero of `l`).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn softmax_windows<F: Float, M: Fma, const N: usize>(
    l: &[F],
    y: &mut [F],
    rows: usize,
    classes: usize,
    noisy: bool,
    tau: impl Fn(usize) -> F,
    finish: Finish,
    e: &mut [F],
) {
    let (log, head) = (finish == Finish::LogSoftmax, rows * classes);
    // Plain loops and closures inlined by force: this body is large enough
    // that the compiler would otherwise call them outside the
    // instruction-set tier.
    window::map_rows::<F, N>(
        y,
        rows,
        classes,
        F::ZERO,
        #[inline(always)]
        |r, g| {
            let l = window::load::<F, N>(l, r * classes, classes, F::NEG_INFINITY);
            let z = perturbed(&l, &g, noisy);
            let m = if noisy { window::max(&z) } else { F::ZERO };
            let tau = tau(r);
            let mut x = z;
            for x in &mut x {
                *x = (*x - m) / tau;
            }
            x
        },
    );
    if log {
        for (e, &x) in e.iter_mut().zip(&y[..head]) {
            *e = x.softmax_exp::<M>();
        }
        window::map_rows::<F, N>(
            y,
            rows,
            classes,
            F::ZERO,
            #[inline(always)]
            |r, mut x| {
                let e = window::load::<F, N>(e, r * classes, classes, F::ZERO);
                let log_sum = window::sum(&e).ln();
                for x in &mut x {
                    *x = *x - log_sum;
                }
                x
            },
        );
        return;
    }
    for x in &mut y[..head] {
        *x = x.softmax_exp::<M>();
    }
    window::map_rows::<F, N>(
        y,
        rows,
        classes,
        F::ZERO,
        #[inline(always)]
        |_, mut e| {
            let scale = F::ONE / window::sum(&e);
            for e in &mut e {
                *e = *e * scale;
            }
            e
        },
    );
}

/// The perturbed logits `(l - max l) + g` of a row held by windows (`l - max
/// l` when not `noisy`): the bits of [`perturb_row`], padded with `-inf`
/// when `l` is.
#[inline(always)]
fn perturbed<F: Float, const N: usize>(l: &[F; N], g: &[F; N], noisy: bool) -> [F; N] {
    let m = window::max(l);
    let mut z = *l;
    for (z, &g) in z.iter_mut().zip(g) {
        *z = if noisy { (*z - m) + g } else { *z - m };
    }
    z
}

/// The argmax of the perturbed logits of the row of `classes` classes at
/// `start` in `l` and `z` (the noise, when `noisy`), which [`window::applies`]
/// to, read through `N`-lane windows: the index [`perturb_row`] then
/// [`argmax`] give, without writing the row.
#[inline(always)]
fn perturbed_argmax<F: Float, const N: usize>(
    l: &[F],
    z: &[F],
    start: usize,
    classes: usize,
    noisy: bool,
) -> usize {
    let l = window::load::<F, N>(l, start, classes, F::NEG_INFINITY);
    let g = window::load::<F, N>(z, start, classes, F::ZERO);
    window::argmax(&perturbed(&l, &g, noisy))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::math::fma::Baseline;
    use crate::math::isa::on_tier_with_fma;

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
                finish_rows::<f32, Baseline, K>(&l, &mut fast, K, noisy, tau, finish, &mut e);
                finish_rows::<f32, Baseline, 0>(&l, &mut general, K, noisy, tau, finish, &mut e);
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
                finish_rows::<f32, Baseline, 0>(
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
                softmax_rows::<f32, Baseline>(&mut flat, classes, tau);
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

    /// The reference of the windowed rows: each row perturbed, then the
    /// row code of [`crate::rows::softmax`].
    fn row_code<F: Float, M: Fma>(
        l: &[F],
        g: &[F],
        classes: usize,
        noisy: bool,
        tau: impl Fn(usize) -> F,
        finish: Finish,
    ) -> Vec<F> {
        let mut z = g.to_vec();
        for (l, z) in l.chunks_exact(classes).zip(z.chunks_exact_mut(classes)) {
            perturb_row(l, z, noisy);
        }
        match finish {
            Finish::Softmax => softmax_rows::<F, M>(&mut z, classes, tau),
            Finish::LogSoftmax => log_softmax_rows::<F, M>(&mut z, classes, tau, &mut g.to_vec()),
            Finish::OneHot => {
                for z in z.chunks_exact_mut(classes) {
                    let k = argmax(z);
                    z.fill(F::ZERO);
                    z[k] = F::ONE;
                }
            }
        }
        z
    }

    /// Every windowed row length, on every available tier, in `f32` and
    /// `f64`: 150 rows (more than one block of one-hot rows, and last rows
    /// left to the row code) and 4 rows (some or none windowed), with masked
    /// classes, ties, both zeros and rows whose maximum logit is `+-0`.
    fn check_windows<F: Float>() {
        let lengths = window::FIRST..window::LAST;
        for (rows, classes) in lengths.flat_map(|k| [(150, k), (4, k)]) {
            let n = rows * classes;
            let l: Vec<F> = (0..n)
                .map(|i| match (i % classes, (i / classes) % 5) {
                    (3, 1) => -F::ZERO,
                    (4, 1) => F::ZERO,
                    (_, 1) => F::from_f64(-1.0 - (i % 13) as f64),
                    (k, 3) if k % 3 == 0 => F::from_i32(2),
                    (k, _) if k % 7 == 4 => F::NEG_INFINITY,
                    _ => F::from_f64(((i * 7919) % 1013) as f64 * 0.01 - 5.0),
                })
                .collect();
            let g: Vec<F> = (0..n)
                .map(|i| match i % 23 {
                    0 => -F::ZERO,
                    _ => F::from_f64(((i * 31) % 97) as f64 * 0.1 - 2.0),
                })
                .collect();
            let tau = |r: usize| F::from_f64(0.3 + r as f64 * 0.05);
            let bits = |x: &[F]| x.iter().map(|v| v.to_f64().to_bits()).collect::<Vec<_>>();
            for tier in isa::Tier::ALL.into_iter().filter(|t| t.available()) {
                for noisy in [true, false] {
                    for finish in [Finish::Softmax, Finish::LogSoftmax, Finish::OneHot] {
                        let (mut y, mut e) = (g.clone(), vec![F::ZERO; n]);
                        on_tier_with_fma!(tier, M => finish_rows::<F, M, 0>(
                            &l, &mut y, classes, noisy, tau, finish, &mut e
                        ));
                        let expected = row_code::<F, Baseline>(&l, &g, classes, noisy, tau, finish);
                        assert_eq!(
                            bits(&y),
                            bits(&expected),
                            "{tier:?}, {classes} classes, noisy {noisy}, {finish:?}"
                        );
                    }
                }
                let mut indices = vec![-1i64; rows];
                isa::run_on(
                    tier,
                    #[inline(always)]
                    || argmax_rows::<F, 0>(&l, &mut g.clone(), classes, &mut indices),
                );
                let one_hot = row_code::<F, Baseline>(&l, &g, classes, true, tau, Finish::OneHot);
                for (row, &k) in one_hot.chunks_exact(classes).zip(&indices) {
                    assert_eq!(row[k as usize], F::ONE, "{tier:?}, {classes} classes");
                }
            }
        }
    }

    #[test]
    #[cfg_attr(miri, ignore = "large input, too slow for Miri")]
    fn rows_read_through_windows_give_the_bits_of_the_row_code() {
        check_windows::<f32>();
        check_windows::<f64>();
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
