//! `gumbel_schedule_*`: temperature schedules, the temperature at a training
//! step. Scalar and `double` only (a temperature is a host-side scalar; round
//! it for the `_f32` samplers), so these names carry no dtype suffix.

use super::boundary::guard;
use super::buffer::write_scalar;
use super::status::gumbel_status;
use crate::Schedule;

/// Exponential temperature annealing (Jang et al. 2017, the schedule of their
/// experiments): `*out = max(tau_min, tau0 * exp(-rate * t))` with
/// `t = every * floor(step / every)`, i.e. the temperature is updated every
/// `every` steps (`every = 1`: at each step).
///
/// Values: `tau0` and `tau_min` finite and `> 0` with `tau_min <= tau0`;
/// `rate` (per step) finite and `>= 0`; `every >= 1`; any `step` (0 is the
/// first step, where `*out = tau0`). The result is in `[tau_min, tau0]`,
/// non-increasing in `step`, and never NaN (a huge `rate * t` gives
/// `tau_min`).
///
/// Returns `GUMBEL_STATUS_OK`; `GUMBEL_STATUS_NULL_POINTER` if `out` is NULL;
/// `GUMBEL_STATUS_MISALIGNED_POINTER`; `GUMBEL_STATUS_INVALID_TEMPERATURE` if
/// `tau0` or `tau_min` is NaN, infinite or `<= 0`, or `tau_min > tau0`;
/// `GUMBEL_STATUS_INVALID_PARAMETER` if `rate` is NaN, infinite or negative,
/// or `every == 0`. `*out` is untouched on error. Thread-safe; a pure function.
///
/// # Safety
/// `out` must be NULL or point to one writable double.
#[no_mangle]
pub unsafe extern "C" fn gumbel_schedule_exponential(
    tau0: f64,
    rate: f64,
    tau_min: f64,
    step: u64,
    every: u64,
    out: *mut f64,
) -> gumbel_status {
    guard(|| unsafe {
        write_scalar(out, "out", || {
            Schedule::exponential(tau0, rate, tau_min, every).map(|s| s.tau(step))
        })
    })
}

/// Linear temperature decay: `*out = tau0 + (tau_end - tau0) * step /
/// total_steps` while `step < total_steps`, `tau_end` from then on.
///
/// Values: `tau0` and `tau_end` finite and `> 0` (`tau_end > tau0` is a
/// rise); `total_steps >= 1`; any `step` (`*out = tau0` at step 0). The
/// result lies between `tau0` and `tau_end` and is monotonic in `step`.
///
/// Returns `GUMBEL_STATUS_OK`; `GUMBEL_STATUS_NULL_POINTER` if `out` is NULL;
/// `GUMBEL_STATUS_MISALIGNED_POINTER`; `GUMBEL_STATUS_INVALID_TEMPERATURE` if
/// `tau0` or `tau_end` is NaN, infinite or `<= 0`;
/// `GUMBEL_STATUS_INVALID_PARAMETER` if `total_steps == 0`. `*out` is
/// untouched on error. Thread-safe; a pure function.
///
/// # Safety
/// `out` must be NULL or point to one writable double.
#[no_mangle]
pub unsafe extern "C" fn gumbel_schedule_linear(
    tau0: f64,
    tau_end: f64,
    step: u64,
    total_steps: u64,
    out: *mut f64,
) -> gumbel_status {
    guard(|| unsafe {
        write_scalar(out, "out", || {
            Schedule::linear(tau0, tau_end, total_steps).map(|s| s.tau(step))
        })
    })
}

/// Cosine temperature decay (the half-cosine of Loshchilov & Hutter 2017,
/// eq. 5, without restarts): `*out = tau_end + (tau0 - tau_end) *
/// (1 + cos(pi * step / total_steps)) / 2` while `step < total_steps`,
/// `tau_end` from then on.
///
/// Values, statuses and thread safety: as `gumbel_schedule_linear`
/// (`GUMBEL_STATUS_OK`; `GUMBEL_STATUS_NULL_POINTER`;
/// `GUMBEL_STATUS_MISALIGNED_POINTER`; `GUMBEL_STATUS_INVALID_TEMPERATURE` for
/// a bad `tau0` or `tau_end`; `GUMBEL_STATUS_INVALID_PARAMETER` if
/// `total_steps == 0`). `*out` is untouched on error.
///
/// # Safety
/// `out` must be NULL or point to one writable double.
#[no_mangle]
pub unsafe extern "C" fn gumbel_schedule_cosine(
    tau0: f64,
    tau_end: f64,
    step: u64,
    total_steps: u64,
    out: *mut f64,
) -> gumbel_status {
    guard(|| unsafe {
        write_scalar(out, "out", || {
            Schedule::cosine(tau0, tau_end, total_steps).map(|s| s.tau(step))
        })
    })
}
