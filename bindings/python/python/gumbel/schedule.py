"""Temperature schedules (double precision), for annealing ``tau`` in training.

Raises (every function): InvalidTemperatureError for a ``tau0``, ``tau_min``
or ``tau_end`` NaN, infinite or ``<= 0``, or ``tau_min > tau0``;
InvalidParameterError for a ``rate`` not finite or ``< 0``, or ``every`` /
``total_steps`` equal to 0; ValueError/TypeError for a negative or
non-integer step.
"""

from __future__ import annotations

from ._errors import check
from ._generator import _u64
from ._native import ffi, lib

__all__ = ["exponential", "linear", "cosine"]


def exponential(tau0: float, rate: float, tau_min: float, step: int, every: int = 1) -> float:
    """``max(tau_min, tau0 * exp(-rate * t))`` with ``t = step - step % every``
    (Jang et al. 2017, section 4: updated every ``every`` steps)."""
    cell = ffi.new("double *")
    check(lib.gumbel_schedule_exponential(float(tau0), float(rate), float(tau_min), _u64("step", step), _u64("every", every), cell))
    return float(cell[0])


def linear(tau0: float, tau_end: float, step: int, total_steps: int) -> float:
    """Linear from ``tau0`` at step 0 to ``tau_end`` at ``total_steps`` (then constant)."""
    cell = ffi.new("double *")
    check(lib.gumbel_schedule_linear(float(tau0), float(tau_end), _u64("step", step), _u64("total_steps", total_steps), cell))
    return float(cell[0])


def cosine(tau0: float, tau_end: float, step: int, total_steps: int) -> float:
    """Half-cosine from ``tau0`` at step 0 to ``tau_end`` at ``total_steps`` (then constant)."""
    cell = ffi.new("double *")
    check(lib.gumbel_schedule_cosine(float(tau0), float(tau_end), _u64("step", step), _u64("total_steps", total_steps), cell))
    return float(cell[0])
