//! The temperature of a call: one `tau` for every row, or one per row.
//!
//! Every tempered operation (forward, backward, temperature gradient) is
//! written once against [`Temperature`] and resolves the row's `tau` with
//! [`Temperature::of_row`], so the scalar and per-row forms share their
//! code and a per-row call whose entries all equal `t` computes the same
//! bits as the scalar call with `t`.

use crate::error::Result;
use crate::math::float::Float;
use crate::rows::validate::{check_tau, check_tau_per_row};
use crate::runtime::shape::Shape;

/// A temperature: a scalar, or `shape.rows()` values in row order `(o, i)`
/// (row `r = o * inner + i`).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Temperature<'a, F> {
    /// The same `tau` for every row.
    Scalar(F),
    /// `tau[r]` for row `r`.
    PerRow(&'a [F]),
}

impl<F: Float> Temperature<'_, F> {
    /// Checks the temperature of a call on `shape`: every value finite and
    /// `> 0`; a per-row array has `shape.rows()` entries.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidShape`](crate::ErrorKind::InvalidShape) for a
    /// per-row array of the wrong length;
    /// [`ErrorKind::InvalidTemperature`](crate::ErrorKind::InvalidTemperature)
    /// for a bad value (the message names its row).
    pub(crate) fn check(&self, shape: Shape) -> Result<()> {
        match *self {
            Self::Scalar(tau) => check_tau(tau),
            Self::PerRow(tau) => {
                shape.check_len("tau", tau.len(), shape.rows())?;
                check_tau_per_row(tau)
            }
        }
    }

    /// The temperature of row `row`.
    #[inline(always)]
    pub(crate) fn of_row(&self, row: usize) -> F {
        match *self {
            Self::Scalar(tau) => tau,
            Self::PerRow(tau) => tau[row],
        }
    }
}
