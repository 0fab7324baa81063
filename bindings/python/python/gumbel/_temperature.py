"""Temperatures as the C ABI takes them: a ``float`` for float32 calls, a
``double`` for float64 ones.

A Python float (or a per-row array) is converted here, before the call, so
that the library never sees a value the conversion changed in kind and a
message quotes what the caller passed (the library only sees the converted
value: ``1e40`` becomes ``inf`` in float32, ``1e-300`` becomes ``0``). For a
float32 call:

- a finite ``tau`` above ``FLT_MAX`` (3.4028235e38) runs as ``FLT_MAX``
  where that gives the same result: the samplers and the softmax (every row
  uniform over its unmasked classes, or the one-hot of the argmax of
  ``logits + g``) and their gradients, which then belong to the forward that
  ran. The log-densities depend on ``log(tau)`` and refuse it instead;
- a positive ``tau`` below half the smallest positive float32 (1.4e-45),
  which would become 0, and a negative one that would become ``-0.0`` or
  ``-inf``, raise :class:`InvalidTemperatureError` quoting the value.

Everything else (NaN, infinities, zero, negative values, values float32
holds) goes to the library unchanged, whose message quotes it.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from ._errors import InvalidTemperatureError
from ._native import lib

FLT_MAX = float(np.finfo(np.float32).max)
_FLT_TRUE_MIN = float(np.finfo(np.float32).smallest_subnormal)
# Float32 rounds a magnitude up to half its smallest positive value to zero
# (the halfway case ties to the even zero).
_FLT_ROUNDS_TO_ZERO = _FLT_TRUE_MIN / 2


def _error(message: str) -> InvalidTemperatureError:
    return InvalidTemperatureError(lib.GUMBEL_STATUS_INVALID_TEMPERATURE, message)


def _float32_problem(t: float, clamp: bool) -> tuple[str, str] | None:
    """``(requirement, note)`` when the finite ``t`` cannot be a float32
    temperature as it is; None when it can (a ``t`` above ``FLT_MAX`` with
    ``clamp`` runs as ``FLT_MAX``). Plain Python arithmetic, so that
    ``torch.compile`` traces it without a graph break."""
    if t > FLT_MAX:
        if clamp:
            return None
        return (
            f"at most FLT_MAX ({FLT_MAX:.8g}) in a float32 log-density",
            ": pass float64 inputs for such a temperature",
        )
    if t < -FLT_MAX or -_FLT_ROUNDS_TO_ZERO <= t < 0:
        return "finite and > 0", ""
    if 0 < t <= _FLT_ROUNDS_TO_ZERO:
        return (
            "> 0",
            f"; float32 rounds it to 0 (its smallest positive value is {_FLT_TRUE_MIN:.2g}): "
            "pass float64 inputs for such a temperature",
        )
    return None


def scalar(tau: Any, dtype: np.dtype, clamp: bool = True) -> float:
    """The C argument for a scalar ``tau`` of a call in ``dtype``. ``clamp``:
    a float32 call runs a finite ``tau`` above ``FLT_MAX`` as ``FLT_MAX``
    (else it is refused).

    Raises:
        InvalidTemperatureError: float32 cannot hold ``tau`` (see the module).
    """
    t = float(tau)
    return float32_scalar(t, clamp) if dtype == np.float32 else t


def float32_scalar(t: float, clamp: bool = True) -> float:
    """:func:`scalar` for a float32 call, in plain Python arithmetic (what
    the torch API calls, which ``torch.compile`` traces)."""
    if not math.isfinite(t):
        return t
    problem = _float32_problem(t, clamp)
    if problem is not None:
        requirement, note = problem
        raise _error(f"tau must be {requirement}, got {t!r}{note}")
    return min(t, FLT_MAX)


def per_row(tau: Any, dtype: np.dtype, rows: Sequence[int], clamp: bool = True) -> np.ndarray:
    """One temperature per row: ``tau`` broadcast to ``rows``, as a
    C-contiguous array of ``dtype``, each value handled as by :func:`scalar`.

    Raises:
        InvalidTemperatureError: float32 cannot hold a value (the message
            names its row, numbered as the library numbers rows).
        ValueError: ``tau`` does not broadcast to ``rows``.
    """
    given = np.asarray(tau)
    if dtype != np.float32 or given.dtype == np.float32:
        return np.ascontiguousarray(np.broadcast_to(given.astype(dtype, copy=False), rows))
    t = np.ascontiguousarray(np.broadcast_to(given.astype(np.float64), rows)).reshape(-1)
    with np.errstate(over="ignore", under="ignore"):
        converted = t.astype(np.float32)
    big = np.isfinite(t) & (t > FLT_MAX)
    bad = np.isfinite(t) & ((t < -FLT_MAX) | ((converted == 0) & (t != 0)))
    if not clamp:
        bad |= big
    if bad.any():
        row = int(np.argmax(bad))
        requirement, note = _float32_problem(float(t[row]), clamp)
        raise _error(f"tau of row {row} is {float(t[row])!r}; every tau must be {requirement}{note}")
    converted[big] = FLT_MAX
    return converted.reshape(rows)
