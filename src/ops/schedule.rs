//! Temperature schedules: the temperature `tau` of a Gumbel-Softmax sample as
//! a pure function of the training step.
//!
//! Jang et al. (2017) train at a temperature annealed from a high to a small
//! but non-zero value; the schedule of their experiments is
//! `tau_t = max(tau_min, tau0 exp(-r t))`, updated every `N` steps. Linear
//! and cosine decays from `tau0` to `tau_end` are the other common choices.
//! Schedules work in `f64` (a temperature is a host-side scalar); pass the
//! result to an `_f32` sampler by rounding it.

use crate::error::{Error, ErrorKind, Result};
use crate::rows::validate::check_temperature;

/// A validated temperature schedule; [`Schedule::tau`] gives its value at a
/// step. Build one with [`Schedule::exponential`], [`Schedule::linear`] or
/// [`Schedule::cosine`].
///
/// ```
/// use gumbel::Schedule;
/// let s = Schedule::exponential(1.0, 1e-4, 0.5, 500)?;
/// assert_eq!(s.tau(0), 1.0);
/// assert_eq!(s.tau(499), 1.0); // updated every 500 steps
/// assert_eq!(s.tau(1_000_000), 0.5);
/// # Ok::<(), gumbel::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Schedule {
    kind: Kind,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Exponential {
        tau0: f64,
        rate: f64,
        tau_min: f64,
        every: u64,
    },
    Decay {
        tau0: f64,
        tau_end: f64,
        total_steps: u64,
        shape: Decay,
    },
}

/// How a decay goes from `tau0` to `tau_end`: the fraction `s(t / T)` of the
/// way it has gone at step `t`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Decay {
    Linear,
    Cosine,
}

impl Schedule {
    /// Exponential annealing (Jang et al. 2017, the schedule of their
    /// experiments): `tau(t) = max(tau_min, tau0 exp(-rate * t'))` with
    /// `t' = every * floor(t / every)`, so the temperature changes every
    /// `every` steps (`every = 1`: at each step). `tau(0) = tau0`; the value
    /// never goes below `tau_min` and never increases.
    ///
    /// Units: `rate` is per step (Jang et al. use `N = every` in
    /// `{500, 1000}`, `r` in `{1e-5, 1e-4}`, `tau_min = 0.5`).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidTemperature`] if `tau0` or `tau_min` is not
    /// finite or `<= 0`, or `tau_min > tau0`;
    /// [`ErrorKind::InvalidParameter`] if `rate` is not finite or `< 0`, or
    /// `every == 0`.
    pub fn exponential(tau0: f64, rate: f64, tau_min: f64, every: u64) -> Result<Self> {
        check_temperature(tau0, "tau0")?;
        check_temperature(tau_min, "tau_min")?;
        if tau_min > tau0 {
            return Err(Error::new(
                ErrorKind::InvalidTemperature,
                format!("tau_min ({tau_min}) must not exceed tau0 ({tau0})"),
            ));
        }
        if !(rate.is_finite() && rate >= 0.0) {
            return Err(Error::new(
                ErrorKind::InvalidParameter,
                format!("rate must be finite and >= 0, got {rate:?}"),
            ));
        }
        check_steps(every, "every")?;
        Ok(Self {
            kind: Kind::Exponential {
                tau0,
                rate,
                tau_min,
                every,
            },
        })
    }

    /// Linear decay: `tau(t) = tau0 + (tau_end - tau0) t / T` for
    /// `t < T = total_steps`, `tau_end` from then on. `tau_end` may exceed
    /// `tau0` (a warm-up). Values stay between `tau0` and `tau_end` and are
    /// monotonic in `t`.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidTemperature`] if `tau0` or `tau_end` is not finite
    /// or `<= 0`; [`ErrorKind::InvalidParameter`] if `total_steps == 0`.
    pub fn linear(tau0: f64, tau_end: f64, total_steps: u64) -> Result<Self> {
        Self::decay(tau0, tau_end, total_steps, Decay::Linear)
    }

    /// Cosine decay: `tau(t) = tau_end + (tau0 - tau_end) (1 + cos(pi t / T)) / 2`
    /// for `t < T = total_steps`, `tau_end` from then on (the half-cosine of
    /// Loshchilov & Hutter 2017, eq. 5, without restarts). Values stay
    /// between `tau0` and `tau_end` and are monotonic in `t`.
    ///
    /// # Errors
    /// As [`Schedule::linear`].
    pub fn cosine(tau0: f64, tau_end: f64, total_steps: u64) -> Result<Self> {
        Self::decay(tau0, tau_end, total_steps, Decay::Cosine)
    }

    fn decay(tau0: f64, tau_end: f64, total_steps: u64, shape: Decay) -> Result<Self> {
        check_temperature(tau0, "tau0")?;
        check_temperature(tau_end, "tau_end")?;
        check_steps(total_steps, "total_steps")?;
        Ok(Self {
            kind: Kind::Decay {
                tau0,
                tau_end,
                total_steps,
                shape,
            },
        })
    }

    /// The temperature at `step` (0 is the first step): finite, `> 0`, and
    /// equal to `tau0` at step 0. Defined for every `u64` step (no overflow).
    pub fn tau(&self, step: u64) -> f64 {
        match self.kind {
            Kind::Exponential {
                tau0,
                rate,
                tau_min,
                every,
            } => {
                let t = (step - step % every) as f64;
                // rate and t are finite, so rate * t is never NaN; if it
                // overflows to +inf, exp gives 0 and the max gives tau_min.
                (tau0 * (-rate * t).exp()).max(tau_min)
            }
            Kind::Decay {
                tau0,
                tau_end,
                total_steps,
                shape,
            } => {
                if step >= total_steps {
                    return tau_end;
                }
                let f = step as f64 / total_steps as f64;
                let s = match shape {
                    Decay::Linear => f,
                    // (1 + cos(pi f)) / 2 = 1 - sin^2(pi f / 2), without the
                    // cancellation of 1 + cos near f = 1.
                    Decay::Cosine => (std::f64::consts::FRAC_PI_2 * f).sin().powi(2),
                };
                // tau0 exactly at step 0; rounding (f can round to 1 for huge
                // T) must not leave [tau_end, tau0] and reach 0.
                let (lo, hi) = (tau0.min(tau_end), tau0.max(tau_end));
                (tau0 - (tau0 - tau_end) * s).clamp(lo, hi)
            }
        }
    }
}

/// Checks a step count called `name`: at least 1.
fn check_steps(value: u64, name: &str) -> Result<()> {
    if value == 0 {
        return Err(Error::new(
            ErrorKind::InvalidParameter,
            format!("{name} must be at least 1, got 0"),
        ));
    }
    Ok(())
}
