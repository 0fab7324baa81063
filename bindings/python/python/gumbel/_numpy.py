"""The NumPy API: each function validates shapes in Python, then makes one
call into the C ABI (``include/gumbel.h``), whose status becomes an exception.

Shapes: a categorical function sees ``logits`` of any shape with its class
axis at ``axis``; it runs on the ``(outer, classes, inner)`` view of the
C-contiguous array (``outer = prod(shape[:axis])``, ``inner =
prod(shape[axis+1:])``), so a C-contiguous input is never copied, and any
other input (strided, another dtype) is copied once. A "row" is one
distribution; per-row arrays (temperatures, indices, log-densities) have the
input's shape without its class axis.

Dtypes: float32 when every float input is float32, float64 otherwise. The
Gumbel-Softmax sample, ``sample``, the tempered softmax and the gradients
(the estimators' too) also take float16 (when every float input is float16): computed in float32
with exactly the float32 call's noise, each result rounded once to float16,
with float32 temperatures (and ``grad_tau`` results). bfloat16, which NumPy
lacks, is served through ``gumbel.torch``.
"""

from __future__ import annotations

from typing import Any, Union

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from . import _arrays as A
from . import _temperature as T
from ._errors import check
from ._estimators import check_estimator
from ._generator import Generator, resolve, streams
from ._native import ffi, lib

__all__ = [
    "gumbel_softmax",
    "gumbel_log_softmax",
    "sample",
    "noise",
    "tempered_softmax",
    "gumbel_softmax_backward",
    "gumbel_softmax_grad_tau",
    "gumbel_softmax_hard_backward",
    "concrete_log_prob",
    "exp_concrete_log_prob",
    "relaxed_bernoulli",
    "relaxed_bernoulli_backward",
    "relaxed_bernoulli_log_prob",
]

Tau = Union[float, ArrayLike]


def _suffix(dtype: np.dtype) -> str:
    return {np.dtype(np.float16): "_f16", np.dtype(np.float32): "_f32"}.get(dtype, "_f64")


def _fn(name: str, dtype: np.dtype) -> Any:
    return getattr(lib, name + _suffix(dtype))


def _tau(tau: Tau, dtype: np.dtype, rows: tuple[int, ...]) -> tuple[bool, Any, Any]:
    """``(per_row, c_argument, keepalive)``: a scalar temperature, or an array of
    one temperature per row, broadcast to ``rows`` (copied to ``dtype``); see
    ``_temperature`` for what a float32 call does with values float32 cannot
    hold."""
    dtype = A.scalar_dtype(dtype)
    if np.ndim(tau) == 0:
        return False, T.scalar(tau, dtype), None
    t = T.per_row(tau, dtype, rows)
    return True, A.pointer(t), t


def gumbel_softmax(
    logits: ArrayLike,
    tau: Tau = 1.0,
    hard: bool = False,
    axis: int = -1,
    *,
    seed: int | None = None,
    offset: int = 0,
    generator: Generator | None = None,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Gumbel-Softmax sample ``softmax((logits + g) / tau)`` along ``axis``
    (Jang et al. 2017, eq. 1; Maddison et al. 2017), ``g`` i.i.d. Gumbel(0, 1).

    Args:
        logits: any shape with ``logits.shape[axis] >= 1`` classes; finite or
            ``-inf`` (a mask: that class gets exactly 0).
        tau: temperature ``> 0`` (finite); or an array of one temperature per
            row, broadcastable to ``logits.shape`` without ``axis``. A
            float32 call runs a ``tau`` above ``FLT_MAX`` as ``FLT_MAX`` (the
            same output: uniform rows) and refuses one that float32 rounds
            to 0, quoting the value passed.
        hard: return the one-hot of the soft sample's argmax instead (ties to
            the lowest index).
        axis: the class axis.
        seed, offset: explicit stream position, for replay; else ``generator``
            (advanced past this call), else the default generator.
        out: optional C-contiguous output of ``logits``' shape and dtype.

    Returns:
        An array of ``logits``' shape: rows on the simplex (or one-hot).

    Raises:
        InvalidShapeError: zero classes. InvalidTemperatureError: bad ``tau``.
        InvalidLogitsError: a NaN or ``+inf`` logit. AllMaskedError: a row of
        ``-inf``. OverlapError: ``out`` shares memory with ``logits``.
        TypeError/ValueError: a bad ``out``, ``axis``, ``seed`` or ``offset``.
    """
    x = np.asarray(logits)
    dtype = A.float_dtype(x, half=True)
    x = A.contiguous(x, dtype)
    outer, classes, inner, ax = A.split(x.shape, axis)
    y = A.output(out, x.shape, dtype)
    s, o = resolve(seed, offset, generator, outer, classes, inner)
    per_row, t, _keep = _tau(tau, dtype, A.row_shape(x.shape, ax))
    name = "gumbel_softmax_per_row" if per_row else "gumbel_softmax"
    check(_fn(name, dtype)(A.pointer(x), A.pointer(y), outer, classes, inner, t, bool(hard), s, o))
    return y


def gumbel_log_softmax(
    logits: ArrayLike,
    tau: float = 1.0,
    axis: int = -1,
    *,
    seed: int | None = None,
    offset: int = 0,
    generator: Generator | None = None,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """ExpConcrete sample ``log_softmax((logits + g) / tau)`` (Maddison et al.
    2017, appendix C): the log of :func:`gumbel_softmax`'s sample for the same
    ``(seed, offset)``, finite where that sample underflows.

    Shapes, arguments and errors as :func:`gumbel_softmax` (scalar ``tau`` only).
    """
    x = np.asarray(logits)
    dtype = A.float_dtype(x)
    x = A.contiguous(x, dtype)
    outer, classes, inner, _ = A.split(x.shape, axis)
    y = A.output(out, x.shape, dtype)
    s, o = resolve(seed, offset, generator, outer, classes, inner)
    t = T.scalar(tau, dtype)
    check(_fn("gumbel_log_softmax", dtype)(A.pointer(x), A.pointer(y), outer, classes, inner, t, s, o))
    return y


def sample(
    logits: ArrayLike,
    axis: int = -1,
    *,
    seed: int | None = None,
    offset: int = 0,
    generator: Generator | None = None,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Exact categorical samples by the Gumbel-max trick: ``argmax(logits + g)``
    along ``axis`` (Gumbel 1954; Maddison et al. 2014), the argmax of
    :func:`gumbel_softmax`'s sample for the same ``(seed, offset)``.

    Returns:
        int64 class indices of shape ``logits.shape`` without ``axis``.

    Raises:
        As :func:`gumbel_softmax` (no temperature); ``out`` must be int64.
    """
    x = np.asarray(logits)
    dtype = A.float_dtype(x, half=True)
    x = A.contiguous(x, dtype)
    outer, classes, inner, ax = A.split(x.shape, axis)
    idx = A.output(out, A.row_shape(x.shape, ax), np.dtype(np.int64))
    s, o = resolve(seed, offset, generator, outer, classes, inner)
    check(_fn("gumbel_sample", dtype)(A.pointer(x), A.pointer(idx), outer, classes, inner, s, o))
    return idx


def noise(
    shape: int | tuple[int, ...] = (),
    loc: float = 0.0,
    scale: float = 1.0,
    *,
    dtype: DTypeLike = np.float64,
    seed: int | None = None,
    offset: int = 0,
    generator: Generator | None = None,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Gumbel(``loc``, ``scale``) variates ``loc - scale * log(E)``, ``E ~ Exp(1)``.

    Element ``j`` of the flattened output uses the stream layout of one row of
    ``n = prod(shape)`` classes (``gumbel_streams(1, n, 1)`` streams).

    Args:
        shape: output shape (ignored when ``out`` is given).
        loc, scale: finite location, finite scale ``> 0``.
        dtype: float32 or float64 (ignored when ``out`` is given).

    Raises:
        InvalidParameterError: bad ``loc`` or ``scale``. TypeError: another dtype.
    """
    if out is not None:
        dtype, shape = out.dtype, out.shape
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise TypeError(f"dtype must be float32 or float64, got {dtype}")
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    y = A.output(out, shape, dtype)
    n = y.size
    s, o = resolve(seed, offset, generator, 1, max(n, 1), 1)
    check(_fn("gumbel_noise", dtype)(A.pointer(y), n, float(loc), float(scale), s, o))
    return y


def tempered_softmax(
    logits: ArrayLike, tau: Tau = 1.0, axis: int = -1, *, out: np.ndarray | None = None
) -> np.ndarray:
    """``softmax(logits / tau)`` along ``axis``, no noise; ``tau`` scalar or per row.

    Errors as :func:`gumbel_softmax`.
    """
    x = np.asarray(logits)
    dtype = A.float_dtype(x, half=True)
    x = A.contiguous(x, dtype)
    outer, classes, inner, ax = A.split(x.shape, axis)
    y = A.output(out, x.shape, dtype)
    per_row, t, _keep = _tau(tau, dtype, A.row_shape(x.shape, ax))
    name = "gumbel_tempered_softmax_per_row" if per_row else "gumbel_tempered_softmax"
    check(_fn(name, dtype)(A.pointer(x), A.pointer(y), outer, classes, inner, t))
    return y


def gumbel_softmax_backward(
    y_soft: ArrayLike,
    grad_out: ArrayLike,
    tau: Tau = 1.0,
    axis: int = -1,
    *,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Vector-Jacobian product of the soft sample: ``grad_logits = y * (v - <v, y>) / tau``
    with ``v = grad_out`` (also the straight-through gradient of the hard sample).

    Args:
        y_soft: the soft sample (replay the forward with ``hard=False`` and the
            same ``(seed, offset)`` to recover it after a hard forward).
        grad_out: upstream gradient, same shape.
        tau: the forward's temperature, scalar or per row.

    Returns:
        ``grad_logits`` of ``y_soft``'s shape.

    Raises:
        ValueError: shapes differ. InvalidTemperatureError: bad ``tau``.
        InvalidValueError: ``y_soft`` outside ``[0, 1]`` or non-finite, or
        ``grad_out`` non-finite. OverlapError: ``out`` aliases an input.
    """
    dtype = A.float_dtype(y_soft, grad_out, half=True)
    y = A.contiguous(y_soft, dtype)
    v = A.contiguous(grad_out, dtype)
    if y.shape != v.shape:
        raise ValueError(f"y_soft has shape {y.shape} but grad_out has shape {v.shape}")
    outer, classes, inner, ax = A.split(y.shape, axis)
    g = A.output(out, y.shape, dtype)
    per_row, t, _keep = _tau(tau, dtype, A.row_shape(y.shape, ax))
    name = "gumbel_softmax_backward_per_row" if per_row else "gumbel_softmax_backward"
    check(_fn(name, dtype)(A.pointer(y), A.pointer(v), A.pointer(g), outer, classes, inner, t))
    return g


def gumbel_softmax_grad_tau(
    y_soft: ArrayLike, grad_out: ArrayLike, tau: Tau = 1.0, axis: int = -1
) -> Union[float, np.ndarray]:
    """Gradient with respect to the temperature:
    ``-(1/tau) sum_k y_k (v_k - <v, y>) ln y_k`` per row, summed over rows for
    a scalar ``tau`` (a Python float), one per row for per-row ``tau`` (an
    array of ``y_soft.shape`` without ``axis``).

    Errors as :func:`gumbel_softmax_backward`.
    """
    dtype = A.float_dtype(y_soft, grad_out, half=True)
    y = A.contiguous(y_soft, dtype)
    v = A.contiguous(grad_out, dtype)
    if y.shape != v.shape:
        raise ValueError(f"y_soft has shape {y.shape} but grad_out has shape {v.shape}")
    outer, classes, inner, ax = A.split(y.shape, axis)
    rows = A.row_shape(y.shape, ax)
    per_row, t, _keep = _tau(tau, dtype, rows)
    if per_row:
        g = np.empty(rows, dtype=A.scalar_dtype(dtype))
        fn = _fn("gumbel_softmax_grad_tau_per_row", dtype)
        check(fn(A.pointer(y), A.pointer(v), outer, classes, inner, t, A.pointer(g)))
        return g
    cell = ffi.new("double *" if dtype == np.float64 else "float *")
    check(_fn("gumbel_softmax_grad_tau", dtype)(A.pointer(y), A.pointer(v), outer, classes, inner, t, cell))
    return float(cell[0])


def gumbel_softmax_hard_backward(
    logits: ArrayLike,
    grad_out: ArrayLike,
    tau: float = 1.0,
    axis: int = -1,
    *,
    seed: int,
    offset: int = 0,
    estimator: str = "st",
    tau_backward: float | None = None,
    draws: int = 10,
    gap: float = 1.0,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Gradient ``dL/dlogits`` that the estimator ``estimator`` assigns to the
    hard sample ``gumbel_softmax(logits, tau, hard=True, axis=axis,
    seed=seed, offset=offset)`` (the one-hot of class ``d`` per row), given
    ``v = grad_out = dL/dy``; with ``J(p)^T v = p * (v - <v, p>)`` along
    ``axis``:

    - ``"st"``: straight-through Gumbel-Softmax (Jang et al. 2017),
      ``J(y)^T v / tau``, ``y`` the soft sample of the forward's noise; with
      ``tau_backward``, decoupled straight-through (Shah et al. 2024): the
      soft sample and the division at ``tau_backward`` instead of ``tau``.
    - ``"reinmax"``: ReinMax (Liu et al. 2023, Algorithm 2),
      ``2 J(pi_1)^T v - J(pi_0)^T v / 2``, ``pi_0 = softmax(logits)``,
      ``pi_1 = (softmax(logits / tau) + onehot(d)) / 2`` (the authors
      recommend ``tau >= 1``).
    - ``"gumbel_rao"``: Gumbel-Rao (Paulus et al. 2021, eq. 8),
      ``(1/m) sum_j J(y_j)^T v / tau``, ``y_j = softmax(z_j / tau)`` over
      ``m = draws`` draws ``z_j`` of the perturbed logits conditioned on
      ``argmax z_j = d`` (``gumbel_conditional_*`` of the C ABI, on the streams
      ``offset + s`` to ``offset + (1 + m) s`` with ``s =
      streams(rows, classes)``, which the caller leaves to this call).
    - ``"gapped_st"``: gapped straight-through (Fan et al. 2022, section
      4), ``J(y)^T v / tau`` at ``y = softmax(z / tau)``, ``z_d = max
      logits``, ``z_k = min(logits_k, max logits - gap)`` otherwise.

    The sampled classes are recomputed from ``(seed, offset)`` (those of
    :func:`sample`, the argmax of the hard sample); nothing of the forward
    is needed but its arguments.

    Args:
        logits: the forward's logits, float32 or float64 (float64 when
            either input is), or float16 when both inputs are (computed in
            float32 on the widened inputs, each result rounded once to
            float16: the float32 gradient of the widened arrays, rounded),
            any shape with the class axis ``axis``.
        grad_out: ``dL/dy`` for the one-hot output, the same shape.
        tau: the forward's temperature, a number ``> 0`` (one for all rows).
        seed, offset: the forward call's stream position (required).
        estimator: ``"st"``, ``"reinmax"``, ``"gumbel_rao"`` or ``"gapped_st"``.
        tau_backward: with ``"st"`` only, the backward temperature ``> 0``.
        draws: ``"gumbel_rao"``'s ``m``, an integer ``>= 1``.
        gap: ``"gapped_st"``'s margin in logit units, finite and ``>= 0``.
        out: optional C-contiguous output of ``logits``' shape and dtype.

    Returns:
        ``grad_logits`` of ``logits``' shape: each row sums to 0 up to
        rounding, 0 on masked classes.

    Raises:
        ValueError: shapes differ, an unknown ``estimator``, ``draws < 1``, a
        bad ``gap``, ``tau_backward`` with another estimator, an array
        ``tau``. InvalidTemperatureError, InvalidLogitsError, AllMaskedError;
        InvalidValueError: a non-finite ``grad_out``. OverlapError: ``out``
        aliases an input.
    """
    check_estimator(estimator, draws, gap)
    if estimator != "st" and tau_backward is not None:
        raise ValueError(
            f"tau_backward is the backward temperature of estimator='st' (decoupled straight-through); "
            f"estimator={estimator!r} uses tau in its backward only"
        )
    if np.ndim(tau) != 0 or (tau_backward is not None and np.ndim(tau_backward) != 0):
        raise ValueError("the gradient estimators take one temperature (a number), not one per row")
    dtype = A.float_dtype(logits, grad_out, half=True)
    x = A.contiguous(logits, dtype)
    v = A.contiguous(grad_out, dtype)
    if x.shape != v.shape:
        raise ValueError(f"logits have shape {x.shape} but grad_out has shape {v.shape}")
    outer, classes, inner, ax = A.split(x.shape, axis)
    g = A.output(out, x.shape, dtype)
    s, o = resolve(seed, offset, None, outer, classes, inner)
    if estimator == "st":
        t = T.scalar(tau if tau_backward is None else tau_backward, A.scalar_dtype(dtype))
        check(_fn("gumbel_decoupled_st_backward", dtype)(A.pointer(x), A.pointer(v), A.pointer(g), outer, classes, inner, t, s, o))
        return g
    t = T.scalar(tau, A.scalar_dtype(dtype))
    idx = sample(x, ax, seed=s, offset=o) if x.size else np.zeros(A.row_shape(x.shape, ax), np.int64)
    head = (A.pointer(x), A.pointer(idx), A.pointer(v), A.pointer(g), outer, classes, inner, t)
    if estimator == "reinmax":
        check(_fn("gumbel_reinmax_backward", dtype)(*head))
    elif estimator == "gapped_st":
        check(_fn("gumbel_gapped_st_backward", dtype)(*head, float(gap)))
    else:
        o2 = (o + streams(outer, classes, inner)) & ((1 << 64) - 1)
        check(_fn("gumbel_rao_backward", dtype)(*head, draws, s, o2))
    return g


def _log_prob(name: str, point: ArrayLike, logits: ArrayLike, tau: float, axis: int, out: np.ndarray | None) -> np.ndarray:
    dtype = A.float_dtype(point, logits)
    y = A.contiguous(point, dtype)
    x = A.contiguous(logits, dtype)
    if y.shape != x.shape:
        raise ValueError(f"the sample has shape {y.shape} but logits have shape {x.shape}")
    outer, classes, inner, ax = A.split(x.shape, axis)
    lp = A.output(out, A.row_shape(x.shape, ax), dtype)
    t = T.scalar(tau, dtype, clamp=False)
    check(_fn(name, dtype)(A.pointer(y), A.pointer(x), A.pointer(lp), outer, classes, inner, t))
    return lp


def concrete_log_prob(
    y: ArrayLike, logits: ArrayLike, tau: float, axis: int = -1, *, out: np.ndarray | None = None
) -> np.ndarray:
    """Concrete log-density of ``y`` (Maddison et al. 2017, eq. 8):
    ``lgamma(K) + (K-1) log tau + sum_k (l_k - (tau+1) log y_k) - K logsumexp_k(l_k - tau log y_k)``,
    one value per row (shape ``y.shape`` without ``axis``).

    Raises:
        ValueError: shapes differ. InvalidTemperatureError, InvalidLogitsError,
        AllMaskedError; InvalidValueError: ``y`` off the open simplex.
    """
    return _log_prob("gumbel_concrete_log_prob", y, logits, tau, axis, out)


def exp_concrete_log_prob(
    x: ArrayLike, logits: ArrayLike, tau: float, axis: int = -1, *, out: np.ndarray | None = None
) -> np.ndarray:
    """ExpConcrete log-density at log-simplex points ``x`` (Maddison et al. 2017,
    appendix C): the Concrete one at ``exp(x)`` plus ``sum_k x_k``, per row.

    Errors as :func:`concrete_log_prob`.
    """
    return _log_prob("gumbel_exp_concrete_log_prob", x, logits, tau, axis, out)


def relaxed_bernoulli(
    logits: ArrayLike,
    tau: float = 1.0,
    hard: bool = False,
    *,
    seed: int | None = None,
    offset: int = 0,
    generator: Generator | None = None,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Relaxed Bernoulli (binary Concrete) sample ``sigmoid((logits + L) / tau)``,
    ``L`` logistic, elementwise (Maddison et al. 2017, eq. 10); with ``hard``,
    1 where ``logits + L > 0`` else 0. Same shape as ``logits``.

    Raises:
        InvalidTemperatureError, InvalidLogitsError (NaN), OverlapError.
    """
    x = np.asarray(logits)
    dtype = A.float_dtype(x)
    x = A.contiguous(x, dtype)
    y = A.output(out, x.shape, dtype)
    n = x.size
    s, o = resolve(seed, offset, generator, 1, max(n, 1), 1)
    t = T.scalar(tau, dtype)
    check(_fn("gumbel_relaxed_bernoulli", dtype)(A.pointer(x), A.pointer(y), n, t, bool(hard), s, o))
    return y


def relaxed_bernoulli_backward(
    y: ArrayLike, grad_out: ArrayLike, tau: float = 1.0, *, out: np.ndarray | None = None
) -> np.ndarray:
    """``grad_logits = grad_out * y (1 - y) / tau`` elementwise (also the hard
    sample's straight-through gradient, with ``y`` the soft sample).

    Raises:
        ValueError: shapes differ. InvalidTemperatureError; InvalidValueError:
        ``y`` outside ``[0, 1]`` or a non-finite gradient.
    """
    dtype = A.float_dtype(y, grad_out)
    yy = A.contiguous(y, dtype)
    v = A.contiguous(grad_out, dtype)
    if yy.shape != v.shape:
        raise ValueError(f"y has shape {yy.shape} but grad_out has shape {v.shape}")
    g = A.output(out, yy.shape, dtype)
    t = T.scalar(tau, dtype)
    check(_fn("gumbel_relaxed_bernoulli_backward", dtype)(A.pointer(yy), A.pointer(v), A.pointer(g), yy.size, t))
    return g


def relaxed_bernoulli_log_prob(
    y: ArrayLike, logits: ArrayLike, tau: float, *, out: np.ndarray | None = None
) -> np.ndarray:
    """Binary Concrete log-density of each ``y`` in ``(0, 1)``: with
    ``t = tau*logit(y) - l``, ``log tau - t - 2 log1p(exp(-t)) - log y - log(1-y)``.

    Raises:
        ValueError: shapes differ. InvalidTemperatureError, InvalidLogitsError;
        InvalidValueError: ``y`` outside ``(0, 1)``.
    """
    dtype = A.float_dtype(y, logits)
    yy = A.contiguous(y, dtype)
    x = A.contiguous(logits, dtype)
    if yy.shape != x.shape:
        raise ValueError(f"y has shape {yy.shape} but logits have shape {x.shape}")
    lp = A.output(out, x.shape, dtype)
    t = T.scalar(tau, dtype, clamp=False)
    check(_fn("gumbel_relaxed_bernoulli_log_prob", dtype)(A.pointer(yy), A.pointer(x), A.pointer(lp), x.size, t))
    return lp
