//! Checks of logits, temperatures and distribution parameters shared by the
//! kernels.
//!
//! Logits are finite numbers or `-inf` (a masked class). A NaN or `+inf`
//! logit, or a row whose classes are all masked, is an error found before
//! anything is written.

use rayon::prelude::*;

use crate::error::{Error, ErrorKind, Result};
use crate::exec::PARALLEL_MIN_ELEMENTS;
use crate::float::Float;
use crate::pool;
use crate::shape::Shape;
use crate::stream::CHUNK_ELEMENTS;

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
    if value.is_finite() && value > F::ZERO {
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

/// Checks the logits of a `shape` tensor (`logits.len() == shape.len()`).
///
/// # Errors
/// [`ErrorKind::InvalidLogits`] for the first NaN or `+inf` logit in memory
/// order; [`ErrorKind::AllMasked`] for the first row whose logits are all
/// `-inf`.
pub(crate) fn check_logits<F: Float>(shape: Shape, logits: &[F]) -> Result<()> {
    let parallel = shape.len() >= PARALLEL_MIN_ELEMENTS;
    // `!(x < inf)` holds for NaN and +inf; the branch-free fold vectorises,
    // and only a failing chunk is searched for the exact position.
    let invalid = |x: &F| !(*x < F::INFINITY);
    let chunk_is_bad = |c: &[F]| c.iter().fold(false, |bad, x| bad | invalid(x));
    let bad_chunk = if parallel {
        pool::install(|| logits.par_chunks(CHUNK_ELEMENTS).position_first(chunk_is_bad))?
    } else {
        logits.chunks(CHUNK_ELEMENTS).position(chunk_is_bad)
    };
    let bad = bad_chunk.and_then(|c| {
        let start = c * CHUNK_ELEMENTS;
        logits[start..].iter().position(invalid).map(|i| start + i)
    });
    if let Some(index) = bad {
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
        pool::install(|| (0..shape.rows()).into_par_iter().position_first(masked))?
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
