//! Checks of the inputs shared by the kernels: logits, temperatures, soft
//! samples, incoming gradients, lengths and distribution parameters.
//!
//! Categorical logits are finite numbers or `-inf` (a masked class). A NaN
//! or `+inf` logit, or a row whose classes are all masked, is an error found
//! before anything is written. Elementwise (Bernoulli) logits must be finite. Temperatures are finite and `> 0`. Soft samples are
//! finite and in `[0, 1]`; incoming gradients are finite.

use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;

use crate::error::{Error, ErrorKind, Result};
use crate::math::element::Element;
use crate::math::float::Float;
use crate::math::isa;
use crate::rng::stream::CHUNK_ELEMENTS;
use crate::rows::softmax::by_row_length;
use crate::runtime::exec::{self, PARALLEL_MIN_ELEMENTS};
use crate::runtime::pool;
use crate::runtime::shape::Shape;

/// True for a valid temperature: finite and `> 0` (subnormal values too).
#[inline]
fn is_valid_tau<F: Float>(tau: F) -> bool {
    tau.is_finite() && tau > F::ZERO
}

/// Checks a temperature: finite and `> 0` (subnormal values are accepted).
///
/// # Errors
/// [`ErrorKind::InvalidTemperature`] otherwise.
pub(crate) fn check_tau<F: Float>(tau: F) -> Result<()> {
    check_temperature(tau, "tau")
}

/// Checks a temperature argument called `name`: finite and `> 0`.
///
/// # Errors
/// [`ErrorKind::InvalidTemperature`] otherwise, naming the argument.
pub(crate) fn check_temperature<F: Float>(value: F, name: &str) -> Result<()> {
    if is_valid_tau(value) {
        Ok(())
    } else {
        Err(Error::new(
            ErrorKind::InvalidTemperature,
            format!("{name} must be finite and > 0, got {value:?}"),
        ))
    }
}

/// Checks the parameters of a `Gumbel(loc, scale)` distribution: `loc`
/// finite, `scale` finite and `> 0` (subnormal values are accepted).
/// `names` are the arguments' names for the message (`["loc", "scale"]`, or
/// `["loc1", "scale1"]` for one of two distributions).
///
/// # Errors
/// [`ErrorKind::InvalidParameter`] otherwise.
pub(crate) fn check_location_scale<F: Float>(
    loc: F,
    scale: F,
    [loc_name, scale_name]: [&str; 2],
) -> Result<()> {
    if !loc.is_finite() {
        return Err(Error::new(
            ErrorKind::InvalidParameter,
            format!("{loc_name} must be finite, got {loc:?}"),
        ));
    }
    if !(scale.is_finite() && scale > F::ZERO) {
        return Err(Error::new(
            ErrorKind::InvalidParameter,
            format!("{scale_name} must be finite and > 0, got {scale:?}"),
        ));
    }
    Ok(())
}

/// Checks per-row temperatures (`tau[r]` for row `r`) like [`check_tau`].
///
/// # Errors
/// [`ErrorKind::InvalidTemperature`] for the first bad entry, naming its row.
pub(crate) fn check_tau_per_row<F: Float>(tau: &[F]) -> Result<()> {
    match first_position(tau, |t| !is_valid_tau(*t))? {
        Some(row) => Err(Error::new(
            ErrorKind::InvalidTemperature,
            format!(
                "tau of row {row} is {:?}; every tau must be finite and > 0",
                tau[row]
            ),
        )),
        None => Ok(()),
    }
}

/// Checks a soft sample `y` of a `shape` tensor (`y.len() == shape.len()`),
/// an argument called `name`: every value finite and in `[0, 1]`. Row sums
/// are not checked (see [`crate::gumbel_softmax_backward`]).
///
/// # Errors
/// [`ErrorKind::InvalidValue`] for the first bad value in memory order,
/// naming its row and class.
pub(crate) fn check_soft_sample<E: Element>(shape: Shape, name: &str, y: &[E]) -> Result<()> {
    // NaN fails both comparisons.
    check_values(
        shape,
        name,
        y,
        |v| !(v.widen() >= Float::ZERO && v.widen() <= Float::ONE),
        || "a soft sample is finite and in [0, 1]".into(),
    )
}

/// Whether every `y` is in `[0, 1]` (not NaN) and every `v` finite: the
/// conditions of [`check_soft_sample`] and [`check_finite`], as a
/// branch-free fold that vectorises: the backward kernels validate their
/// inputs while they are in cache, and only a failed call runs the checks
/// that name the element.
#[inline(always)]
pub(crate) fn valid_backward_inputs<F: Float>(y: &[F], v: &[F]) -> bool {
    y.iter()
        .zip(v)
        .fold(true, |ok, (&y, &v)| ok & valid_backward_input(y, v))
}

/// Whether one element of `y_soft` and of `grad_out` pass the checks of
/// [`valid_backward_inputs`]: `y` in `[0, 1]`, `v` finite.
#[inline(always)]
#[allow(clippy::eq_op)]
pub(crate) fn valid_backward_input<F: Float>(y: F, v: F) -> bool {
    // `v - v` is 0 for finite `v`, NaN for NaN and infinities.
    (y >= F::ZERO) & (y <= F::ONE) & (v - v == F::ZERO)
}

/// Whether a row of logits passes [`check_logits`]: no NaN or `+inf`, and
/// a value above `-inf`. A branch-free fold that vectorises, for callers
/// that check each row while it is in cache; only a failed call runs
/// [`check_logits`], which names the first bad logit or masked row.
#[inline(always)]
pub(crate) fn valid_logits_row<F: Float>(row: &[F]) -> bool {
    let (finite, unmasked) = row.iter().fold((true, false), |(ok, any), &x| {
        // `x < inf` is false for NaN and +inf.
        (ok & (x < F::INFINITY), any | (x > F::NEG_INFINITY))
    });
    finite & unmasked
}

/// Checks the sampled classes `indices` (one per row of a `shape` tensor,
/// in row order `(o, i)`) against the `logits` they were drawn from: each in
/// `[0, classes)` and not a masked class (`-inf` logit).
///
/// # Errors
/// [`ErrorKind::InvalidValue`] for the first bad index in row order, naming
/// its row and value.
pub(crate) fn check_indices<E: Element>(shape: Shape, logits: &[E], indices: &[i64]) -> Result<()> {
    for (row, &d) in indices.iter().enumerate() {
        let in_range = usize::try_from(d).is_ok_and(|d| d < shape.classes());
        if !in_range {
            return Err(Error::new(
                ErrorKind::InvalidValue,
                format!(
                    "indices[{row}] = {d} is not a class of {} (expected 0 <= index < classes)",
                    shape.classes()
                ),
            ));
        }
        if logits[shape.index(row, d as usize)].widen() == E::Compute::NEG_INFINITY {
            return Err(Error::new(
                ErrorKind::InvalidValue,
                format!("indices[{row}] = {d} is a masked class (its logit is -inf), which is never sampled"),
            ));
        }
    }
    Ok(())
}

/// Checks that every value of a `shape` tensor called `name` is finite.
///
/// # Errors
/// [`ErrorKind::InvalidValue`] for the first NaN or infinite value in memory
/// order, naming its row and class.
pub(crate) fn check_finite<E: Element>(shape: Shape, name: &str, x: &[E]) -> Result<()> {
    check_values(
        shape,
        name,
        x,
        |v| !v.widen().is_finite(),
        || format!("{name} must be finite"),
    )
}

/// [`ErrorKind::InvalidValue`] for the first element of `x` (a `shape`
/// tensor called `name`) where `bad` holds; `rule` says what is expected.
fn check_values<E: Element>(
    shape: Shape,
    name: &str,
    x: &[E],
    bad: impl Fn(&E) -> bool + Sync + Send,
    rule: impl FnOnce() -> String,
) -> Result<()> {
    match first_position(x, bad)? {
        Some(index) => {
            let (row, class) = shape.position(index);
            Err(Error::new(
                ErrorKind::InvalidValue,
                format!(
                    "{name} at row {row}, class {class} is {:?}; {}",
                    x[index].widen(),
                    rule()
                ),
            ))
        }
        None => Ok(()),
    }
}

/// The index of the first element of `x` where `bad` holds. Chunks are
/// scanned with a branch-free fold (which vectorises, compiled for the
/// instruction-set tier), on the worker threads for long inputs; only a
/// failing chunk is searched for the position.
fn first_position<T: Sync>(
    x: &[T],
    bad: impl Fn(&T) -> bool + Sync + Send,
) -> Result<Option<usize>> {
    let chunk_is_bad = |c: &[T]| {
        isa::dispatch(
            #[inline(always)]
            || c.iter().fold(false, |any, v| any | bad(v)),
        )
    };
    let chunk = if x.len() >= PARALLEL_MIN_ELEMENTS {
        pool::install(|| x.par_chunks(CHUNK_ELEMENTS).position_first(chunk_is_bad))?
    } else {
        x.chunks(CHUNK_ELEMENTS).position(chunk_is_bad)
    };
    Ok(chunk.and_then(|c| {
        let start = c * CHUNK_ELEMENTS;
        x[start..].iter().position(&bad).map(|i| start + i)
    }))
}

/// Checks the logits of a `shape` tensor (`logits.len() == shape.len()`).
///
/// # Errors
/// [`ErrorKind::InvalidLogits`] for the first NaN or `+inf` logit in memory
/// order; [`ErrorKind::AllMasked`] for the first row whose logits are all
/// `-inf`.
pub(crate) fn check_logits<E: Element>(shape: Shape, logits: &[E]) -> Result<()> {
    if shape.is_empty() {
        return Ok(());
    }
    // Rows `o * inner .. (o + 1) * inner` share one block of memory; a row
    // is masked when its `classes` values, `inner` apart, are all -inf.
    // Blocks are scanned in groups of about a stream unit's size, each
    // group once for both checks (one pass over memory, on the worker
    // threads for large tensors); the first failing group and row are kept.
    let (inner, block) = (shape.inner(), shape.classes() * shape.inner());
    let group = block * (CHUNK_ELEMENTS / block).max(1);
    let bad = |x: &E| x.widen().is_nan() || x.widen() == Float::INFINITY;
    let first_masked = |blocks: &[E]| {
        if inner == 1 {
            return first_masked_row(blocks, block);
        }
        blocks.chunks(block).enumerate().find_map(|(o, b)| {
            (0..inner)
                .find(|&i| {
                    b[i..]
                        .iter()
                        .step_by(inner)
                        .all(|&x| x.widen() == Float::NEG_INFINITY)
                })
                .map(|i| o * inner + i)
        })
    };
    let (bad_group, masked_row) = (AtomicUsize::new(usize::MAX), AtomicUsize::new(usize::MAX));
    exec::for_each_index(
        logits.len().div_ceil(group),
        shape.len() >= PARALLEL_MIN_ELEMENTS,
        |g| {
            let blocks = &logits[g * group..logits.len().min((g + 1) * group)];
            let any_bad = isa::dispatch(
                #[inline(always)]
                || blocks.iter().fold(false, |any, v| any | bad(v)),
            );
            if any_bad {
                bad_group.fetch_min(g, Ordering::Relaxed);
            }
            if let Some(row) = first_masked(blocks) {
                masked_row.fetch_min(g * (group / block) * inner + row, Ordering::Relaxed);
            }
        },
    )?;
    let (bad_group, masked_row) = (bad_group.into_inner(), masked_row.into_inner());
    if bad_group != usize::MAX {
        let start = bad_group * group;
        let index = start + logits[start..].iter().position(bad).unwrap_or(0);
        let (row, class) = shape.position(index);
        return Err(Error::new(
            ErrorKind::InvalidLogits,
            format!(
                "logit at row {row}, class {class} is {:?}; logits must be finite or -inf (masked)",
                logits[index].widen()
            ),
        ));
    }
    if masked_row != usize::MAX {
        return Err(Error::new(
            ErrorKind::AllMasked,
            format!("row {masked_row} has every class masked (-inf): there is nothing to sample"),
        ));
    }
    Ok(())
}

/// The first of the consecutive rows of `classes` values in `rows` whose
/// values are all `-inf`, compiled for the instruction-set tier.
fn first_masked_row<E: Element>(rows: &[E], classes: usize) -> Option<usize> {
    isa::dispatch(
        #[inline(always)]
        || by_row_length!(classes, masked_row::<E>(rows, classes)),
    )
}

/// [`first_masked_row`] with `K` the row length when it is known at compile
/// time, else 0. Short rows are tested without branches (which vectorises
/// across rows); long ones stop at their first value above `-inf`, which
/// in a row that is not masked is usually the first.
#[inline(always)]
fn masked_row<E: Element, const K: usize>(rows: &[E], classes: usize) -> Option<usize> {
    let classes = if K == 0 { classes } else { K };
    for (r, row) in rows.chunks_exact(classes).enumerate() {
        let masked = if K == 0 {
            row.iter().all(|&x| x.widen() == Float::NEG_INFINITY)
        } else {
            row.iter()
                .fold(true, |all, &x| all & (x.widen() == Float::NEG_INFINITY))
        };
        if masked {
            return Some(r);
        }
    }
    None
}

/// Runs `check(row)` on every row of `shape` (in parallel for large shapes)
/// and returns the error of the first failing row.
pub(crate) fn check_rows(shape: Shape, check: impl Fn(usize) -> Result<()> + Sync) -> Result<()> {
    let first = if shape.len() >= PARALLEL_MIN_ELEMENTS {
        pool::install(|| {
            (0..shape.rows())
                .into_par_iter()
                .find_map_first(|row| check(row).err())
        })?
    } else {
        (0..shape.rows()).find_map(|row| check(row).err())
    };
    first.map_or(Ok(()), Err)
}

/// Checks that the buffer `name` of an elementwise call has `len` elements,
/// the length `expected` of its first buffer `first`.
///
/// # Errors
/// [`ErrorKind::InvalidShape`] otherwise.
pub(crate) fn check_same_len(name: &str, len: usize, first: &str, expected: usize) -> Result<()> {
    if len == expected {
        Ok(())
    } else {
        Err(Error::new(
            ErrorKind::InvalidShape,
            format!("{name} has {len} elements but {first} has {expected}"),
        ))
    }
}

/// Checks elementwise logits: every one finite.
///
/// # Errors
/// [`ErrorKind::InvalidLogits`] for the first NaN or infinite logit.
pub(crate) fn check_finite_logits<F: Float>(logits: &[F]) -> Result<()> {
    match first_position(logits, |x| !x.is_finite())? {
        Some(j) => Err(Error::new(
            ErrorKind::InvalidLogits,
            format!(
                "logit {j} is {:?}; elementwise (Bernoulli) logits must be finite",
                logits[j]
            ),
        )),
        None => Ok(()),
    }
}

/// Checks that every element of the buffer `name` lies in the open interval
/// `(0, 1)`.
///
/// # Errors
/// [`ErrorKind::InvalidValue`] for the first element outside it (or NaN).
pub(crate) fn check_open_unit<F: Float>(name: &str, x: &[F]) -> Result<()> {
    match first_position(x, |v| !(*v > F::ZERO && *v < F::ONE))? {
        Some(j) => Err(Error::new(
            ErrorKind::InvalidValue,
            format!(
                "{name}[{j}] is {:?}; it must lie in the open interval (0, 1)",
                x[j]
            ),
        )),
        None => Ok(()),
    }
}

/// Checks that every element of the flat buffer `name` is finite.
///
/// # Errors
/// [`ErrorKind::InvalidValue`] for the first NaN or infinite element.
pub(crate) fn check_finite_flat<F: Float>(name: &str, x: &[F]) -> Result<()> {
    match first_position(x, |v| !v.is_finite())? {
        Some(j) => Err(Error::new(
            ErrorKind::InvalidValue,
            format!("{name}[{j}] is {:?}; it must be finite", x[j]),
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg_attr(miri, ignore = "large input, too slow for Miri")]
    fn the_first_all_masked_row_is_reported() {
        for classes in [1, 2, 3, 4, 5, 8, 16, 17, 100] {
            for inner in [1, 3] {
                let outer = 40_000 / (classes * inner) + 7;
                let shape = Shape::new(outer, classes, inner).unwrap();
                let rows = shape.rows();
                // Every row but one class (in turn each class) masked, then
                // rows `a` and `b` wholly masked.
                let unmasked = |row: usize| shape.index(row, row % classes);
                let mut l = vec![f32::NEG_INFINITY; shape.len()];
                for row in 0..rows {
                    l[unmasked(row)] = 0.5;
                }
                assert!(check_logits(shape, &l).is_ok(), "{classes} x {inner}");
                let (a, b) = (rows / 2 + 1, rows - 1);
                for row in [b, a] {
                    l[unmasked(row)] = f32::NEG_INFINITY;
                }
                let error = check_logits(shape, &l).unwrap_err();
                assert_eq!(error.kind(), ErrorKind::AllMasked);
                assert!(
                    error.message().starts_with(&format!("row {a} ")),
                    "{classes} x {inner}: {}",
                    error.message()
                );
            }
        }
    }

    #[test]
    #[cfg_attr(miri, ignore = "large input, too slow for Miri")]
    fn the_first_bad_logit_is_reported_before_any_masked_row() {
        for (classes, inner) in [(4, 1), (16, 1), (5, 3), (70_000, 1)] {
            let shape = Shape::new(200_000 / (classes * inner) + 3, classes, inner).unwrap();
            let mut l = vec![0.25f32; shape.len()];
            // A masked row early, two bad logits in later groups.
            for class in 0..classes {
                l[shape.index(1, class)] = f32::NEG_INFINITY;
            }
            let (first, second) = (shape.len() / 2 + 5, shape.len() - 2);
            l[second] = f32::NAN;
            l[first] = f32::INFINITY;
            // The error names the first bad logit, `at`, holding `value`.
            let named = |l: &[f32], at: usize, value: &str| {
                let error = check_logits(shape, l).unwrap_err();
                let (row, class) = shape.position(at);
                let expected = format!("logit at row {row}, class {class} is {value};");
                assert_eq!(error.kind(), ErrorKind::InvalidLogits);
                assert!(
                    error.message().starts_with(&expected),
                    "{classes} x {inner}: {}",
                    error.message()
                );
            };
            named(&l, first, "inf");
            l[first] = 0.0;
            named(&l, second, "NaN");
            l[second] = 0.0;
            assert_eq!(
                check_logits(shape, &l).unwrap_err().kind(),
                ErrorKind::AllMasked
            );
        }
    }
}
