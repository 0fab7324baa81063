//! Checks of logits, temperatures, lengths and values shared by the kernels.
//!
//! Categorical logits are finite numbers or `-inf` (a masked class). A NaN
//! or `+inf` logit, or a row whose classes are all masked, is an error found
//! before anything is written. Elementwise (Bernoulli) logits must be finite.

use rayon::prelude::*;

use crate::error::{Error, ErrorKind, Result};
use crate::exec::PARALLEL_MIN_ELEMENTS;
use crate::float::Float;
use crate::shape::Shape;

/// Checks a temperature: finite and `> 0` (subnormal values are accepted).
///
/// # Errors
/// [`ErrorKind::InvalidTemperature`] otherwise.
pub(crate) fn check_tau<F: Float>(tau: F) -> Result<()> {
    if tau.is_finite() && tau > F::ZERO {
        Ok(())
    } else {
        Err(Error::new(
            ErrorKind::InvalidTemperature,
            format!("tau must be finite and > 0, got {tau}"),
        ))
    }
}

/// Checks the logits of a `shape` tensor (`logits.len() == shape.len()`).
///
/// # Errors
/// [`ErrorKind::InvalidLogits`] for the first NaN or `+inf` logit in memory
/// order; [`ErrorKind::AllMasked`] for the first row whose logits are all
/// `-inf`.
pub(crate) fn check_logits<F: Float>(shape: Shape, logits: &[F]) -> Result<()> {
    let parallel = shape.len() >= PARALLEL_MIN_ELEMENTS;
    if let Some(index) = first_where(logits, |x| x.is_nan() || *x == F::INFINITY) {
        let (row, class) = shape.position(index);
        return Err(Error::new(
            ErrorKind::InvalidLogits,
            format!(
                "logit at row {row}, class {class} is {}; logits must be finite or -inf (masked)",
                logits[index]
            ),
        ));
    }
    let masked =
        |row: usize| (0..shape.classes()).all(|k| logits[shape.index(row, k)] == F::NEG_INFINITY);
    let empty = if parallel {
        (0..shape.rows()).into_par_iter().position_first(masked)
    } else {
        (0..shape.rows()).position(masked)
    };
    match empty {
        Some(row) => Err(Error::new(
            ErrorKind::AllMasked,
            format!("row {row} has every class masked (-inf): there is nothing to sample"),
        )),
        None => Ok(()),
    }
}

/// The index of the first element of `x` for which `bad` holds, searched in
/// parallel for long slices.
fn first_where<T: Sync>(x: &[T], bad: impl Fn(&T) -> bool + Sync + Send) -> Option<usize> {
    if x.len() >= PARALLEL_MIN_ELEMENTS {
        x.par_iter().position_first(bad)
    } else {
        x.iter().position(bad)
    }
}

/// Runs `check(row)` on every row of `shape` (in parallel for large shapes)
/// and returns the error of the first failing row.
pub(crate) fn check_rows(shape: Shape, check: impl Fn(usize) -> Result<()> + Sync) -> Result<()> {
    let first = if shape.len() >= PARALLEL_MIN_ELEMENTS {
        (0..shape.rows())
            .into_par_iter()
            .find_map_first(|row| check(row).err())
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
    match first_where(logits, |x| !x.is_finite()) {
        Some(j) => Err(Error::new(
            ErrorKind::InvalidLogits,
            format!(
                "logit {j} is {}; elementwise (Bernoulli) logits must be finite",
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
    match first_where(x, |v| !(*v > F::ZERO && *v < F::ONE)) {
        Some(j) => Err(Error::new(
            ErrorKind::InvalidValue,
            format!(
                "{name}[{j}] is {}; it must lie in the open interval (0, 1)",
                x[j]
            ),
        )),
        None => Ok(()),
    }
}

/// Checks that every element of the buffer `name` is finite.
///
/// # Errors
/// [`ErrorKind::InvalidValue`] for the first NaN or infinite element.
pub(crate) fn check_finite<F: Float>(name: &str, x: &[F]) -> Result<()> {
    match first_where(x, |v| !v.is_finite()) {
        Some(j) => Err(Error::new(
            ErrorKind::InvalidValue,
            format!("{name}[{j}] is {}; it must be finite", x[j]),
        )),
        None => Ok(()),
    }
}
