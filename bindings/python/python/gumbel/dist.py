"""The Gumbel(loc, scale) distribution (max convention): with
``z = (x - loc) / scale``, cdf ``exp(-exp(-z))``, log-density
``-log scale - z - exp(-z)``, mean ``loc + scale*gamma``, variance
``(pi*scale)^2/6``. The elementwise functions take float32 or float64 arrays
of any shape (a copy when not C-contiguous) and return the same shape; they
are accurate far into both tails.

Raises (every function): InvalidParameterError for a non-finite ``loc`` or
a ``scale`` not finite and ``> 0``; InvalidValueError for a NaN ``x`` (or a
probability outside ``[0, 1]`` in ``icdf``/``isf``).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from . import _arrays as A
from ._errors import check
from ._native import ffi, lib

__all__ = ["log_pdf", "cdf", "log_cdf", "sf", "log_sf", "icdf", "isf", "mean", "variance", "mode", "entropy", "kl"]


def _elementwise(name: str, x: ArrayLike, loc: float, scale: float, out: np.ndarray | None) -> np.ndarray:
    a = np.asarray(x)
    dtype = A.float_dtype(a)
    a = A.contiguous(a, dtype)
    y = A.output(out, a.shape, dtype)
    fn = getattr(lib, f"gumbel_dist_{name}_{'f32' if dtype == np.float32 else 'f64'}")
    check(fn(A.pointer(a), A.pointer(y), a.size, float(loc), float(scale)))
    return y


def log_pdf(x: ArrayLike, loc: float = 0.0, scale: float = 1.0, *, out: np.ndarray | None = None) -> np.ndarray:
    """Log-density ``-log scale - z - exp(-z)``; ``out`` may be ``x`` (in place)."""
    return _elementwise("log_pdf", x, loc, scale, out)


def cdf(x: ArrayLike, loc: float = 0.0, scale: float = 1.0, *, out: np.ndarray | None = None) -> np.ndarray:
    """Distribution function ``exp(-exp(-z))``."""
    return _elementwise("cdf", x, loc, scale, out)


def log_cdf(x: ArrayLike, loc: float = 0.0, scale: float = 1.0, *, out: np.ndarray | None = None) -> np.ndarray:
    """``log cdf = -exp(-z)``."""
    return _elementwise("log_cdf", x, loc, scale, out)


def sf(x: ArrayLike, loc: float = 0.0, scale: float = 1.0, *, out: np.ndarray | None = None) -> np.ndarray:
    """Survival function ``1 - cdf = -expm1(-exp(-z))``."""
    return _elementwise("sf", x, loc, scale, out)


def log_sf(x: ArrayLike, loc: float = 0.0, scale: float = 1.0, *, out: np.ndarray | None = None) -> np.ndarray:
    """``log(1 - cdf)``."""
    return _elementwise("log_sf", x, loc, scale, out)


def icdf(p: ArrayLike, loc: float = 0.0, scale: float = 1.0, *, out: np.ndarray | None = None) -> np.ndarray:
    """Quantile function ``loc - scale * log(-log p)``, ``p`` in ``[0, 1]``."""
    return _elementwise("icdf", p, loc, scale, out)


def isf(q: ArrayLike, loc: float = 0.0, scale: float = 1.0, *, out: np.ndarray | None = None) -> np.ndarray:
    """Inverse survival function ``loc - scale * log(-log1p(-q))``, ``q`` in ``[0, 1]``."""
    return _elementwise("isf", q, loc, scale, out)


def _scalar(name: str, *args: float) -> float:
    cell = ffi.new("double *")
    check(getattr(lib, f"gumbel_dist_{name}_f64")(*[float(a) for a in args], cell))
    return float(cell[0])


def mean(loc: float = 0.0, scale: float = 1.0) -> float:
    """``loc + scale * gamma`` (Euler-Mascheroni ``gamma``), in double precision."""
    return _scalar("mean", loc, scale)


def variance(loc: float = 0.0, scale: float = 1.0) -> float:
    """``(pi * scale)^2 / 6``."""
    return _scalar("variance", loc, scale)


def mode(loc: float = 0.0, scale: float = 1.0) -> float:
    """``loc``."""
    return _scalar("mode", loc, scale)


def entropy(loc: float = 0.0, scale: float = 1.0) -> float:
    """Differential entropy ``log scale + gamma + 1`` (nats)."""
    return _scalar("entropy", loc, scale)


def kl(loc1: float, scale1: float, loc2: float, scale2: float) -> float:
    """``KL(Gumbel(loc1, scale1) || Gumbel(loc2, scale2))`` in nats."""
    return _scalar("kl", loc1, scale1, loc2, scale2)
