"""gumbel.jax: the library's samplers inside JAX (``jit``, ``grad``, ``vmap``,
``lax.scan``) on CPU, through XLA's FFI.

Each function runs the library's kernel as an XLA custom call (the handlers
``gumbel_xla_*`` of the shared library in this package, registered at
import); the differentiable ones are ``jax.custom_vjp`` functions whose
backward is the library's too. Import this module explicitly: ``import
gumbel`` does not import JAX.

Keys. Every sampler takes a JAX PRNG key: a typed key (``jax.random.key(s)``)
or a raw one (``jax.random.PRNGKey(s)``, ``uint32[2]``) of the default
``threefry2x32`` implementation, one key per call (map over a batch of keys
with ``jax.vmap``). A key with data ``(k0, k1)`` is the library's stream
position ``seed = k0 * 2**32 + k1``, ``offset = 0`` (:func:`stream_position`):
``gumbel.jax.gumbel_softmax(key, x, tau)`` equals, bit for bit,
``gumbel.gumbel_softmax(np.asarray(x), tau, seed=seed, offset=0)``, and
:func:`sample` returns the argmax of that soft sample (the same noise).
Derive keys as in any JAX program (``jax.random.split``, ``fold_in``); two
distinct keys are two distinct seeds, so their noise never overlaps. Under
``jax.vmap`` each batch item is sampled with its own key, exactly as a call
alone: a vmapped call equals the loop of single calls.

Dtypes: float32, float64 (with ``jax_enable_x64``), bfloat16 and float16 for
:func:`gumbel_softmax` and :func:`sample` (16-bit logits are computed in
float32 with the float32 call's noise and rounded once; temperatures and
their gradients are float32); :func:`top_k` and :func:`relaxed_bernoulli`
compute 16-bit logits as float32. Class indices are int32, or int64 with
``jax_enable_x64``.

Static arguments. ``axis``, ``hard``, ``k``, ``estimator``, ``tau_backward``,
``draws`` and ``gap`` shape the computation: pass Python values (mark them
static, ``static_argnames``, when they are arguments of a jitted function of
yours). ``key``, ``logits`` and an array ``tau`` may be traced.

Errors. Shapes, axes, dtypes and static arguments are checked when a
function is traced (``ValueError``/``TypeError``). Values (a NaN or ``+inf``
logit, a row of ``-inf``, a temperature ``<= 0``, a NaN or infinite upstream
gradient) are checked by the library when the computation runs, which fails
it with the library's message (``INVALID_ARGUMENT: gumbel: invalid logits:
logit at row 0, class 1 is NaN; ...``): JAX raises it as
``jax.errors.JaxRuntimeError``, or as ``ValueError`` from a compiled function
that ran before, possibly only when the result is used (JAX's dispatch is
asynchronous). A non-finite upstream gradient being an error, float16
training with dynamic loss scaling, which lets infinite gradients through
to skip a step, needs the loss scale kept finite (or float32 logits).

The handlers compute with IEEE subnormal numbers, although XLA runs its CPU
threads flushing them to zero, so that results keep the NumPy API's bits
where they are subnormal.
"""

from __future__ import annotations

import functools
import math
import operator
from typing import Any, Optional, Union

try:
    import jax
    import jax.numpy as jnp
except ImportError as e:  # pragma: no cover - depends on the environment
    raise ImportError("gumbel.jax needs JAX: pip install jax") from e

import numpy as np

from .._estimators import check_estimator
from . import _ffi

__all__ = ["gumbel_softmax", "relaxed_bernoulli", "sample", "stream_position", "top_k"]

Temperature = Union[float, jax.Array]

_HALF = (jnp.dtype(jnp.bfloat16), jnp.dtype(jnp.float16))
_DTYPES = (jnp.dtype(jnp.float32), jnp.dtype(jnp.float64)) + _HALF


def _key(key: Any) -> jax.Array:
    """The ``uint32[2]`` data of one threefry key."""
    key = key if isinstance(key, jax.Array) else jnp.asarray(key)
    if jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
        data = jax.random.key_data(key)
    else:
        data = key
    if data.dtype != jnp.uint32 or data.shape != (2,):
        raise TypeError(
            f"key must be one threefry2x32 key (jax.random.key(s) or jax.random.PRNGKey(s)), got data of shape "
            f"{data.shape} and dtype {data.dtype}; map over a batch of keys with jax.vmap"
        )
    return data


def stream_position(key: Any) -> tuple[int, int]:
    """The library's ``(seed, offset)`` of a concrete ``key``: the NumPy API's
    call with them draws the same noise (see the module's docstring)."""
    k0, k1 = (int(w) for w in np.asarray(_key(key)))
    return (k0 << 32) | k1, 0


def _static_int(name: str, value: Any) -> int:
    """An integer argument that shapes the computation (static under jit)."""
    if isinstance(value, jax.core.Tracer):
        raise TypeError(f"{name} must be a Python integer, not a traced value: mark it static (static_argnames={name!r})")
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}") from None


def _static_bool(name: str, value: Any) -> bool:
    if isinstance(value, jax.core.Tracer):
        raise TypeError(f"{name} must be a Python bool, not a traced value: mark it static (static_argnames={name!r})")
    if not isinstance(value, (bool, np.bool_, int, np.integer)):
        raise TypeError(f"{name} must be a bool, got {type(value).__name__}")
    return bool(value)


def _array(x: Any, what: str = "logits") -> jax.Array:
    """``x`` as an array of a dtype the library takes."""
    x = x if isinstance(x, jax.Array) else jnp.asarray(x)
    if x.dtype not in _DTYPES:
        raise TypeError(f"{what} have dtype {x.dtype}: float32, float64, bfloat16 or float16 is required")
    return x


def _categorical(logits: Any, axis: int) -> tuple[jax.Array, int, int]:
    """``(logits, axis, inner_rank)``: the array with its class axis
    normalised and the number of dimensions after it (at trace time)."""
    x = _array(logits)
    if x.ndim == 0:
        raise ValueError("logits are 0-d: a class axis is required")
    if not -x.ndim <= axis < x.ndim:
        raise ValueError(f"axis {axis} is out of range for logits of shape {x.shape}")
    ax = axis % x.ndim
    if x.shape[ax] == 0:
        raise ValueError(f"logits of shape {x.shape} have no class along axis {axis}: at least 1 is required")
    return x, ax, x.ndim - 1 - ax


def _compute(dtype: Any) -> Any:
    """The dtype temperatures take for logits of ``dtype``."""
    return jnp.float64 if jnp.dtype(dtype) == jnp.float64 else jnp.float32


def _number(name: str, value: Any) -> float:
    """A temperature given as a number, checked."""
    v = float(value)
    if not (math.isfinite(v) and v > 0):
        raise ValueError(f"{name} must be finite and > 0, got {value!r}")
    return v


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def _row_tau(tau: Any, x: jax.Array, ax: int) -> jax.Array:
    """``tau`` broadcast to one temperature per row (``x``'s shape with 1 on
    the class axis), in the compute dtype."""
    keep = x.shape[:ax] + (1,) + x.shape[ax + 1 :]
    t = jnp.asarray(tau)
    if not jnp.issubdtype(t.dtype, jnp.floating):
        raise TypeError(f"tau has dtype {t.dtype}: a floating-point temperature is required")
    try:
        ok = t.ndim <= len(keep) and jnp.broadcast_shapes(t.shape, keep) == keep
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"tau of shape {t.shape} does not broadcast to one temperature per row {keep}")
    return jnp.broadcast_to(t.astype(_compute(x.dtype)), keep)


# -- Gumbel-Softmax ------------------------------------------------------------


def _forward(key: jax.Array, x: jax.Array, tau: jax.Array, hard: bool, inner_rank: int) -> jax.Array:
    (y,) = _ffi.call(
        "gumbel_softmax", [jax.ShapeDtypeStruct(x.shape, x.dtype)], x, key, tau, inner_rank=inner_rank, hard=int(hard)
    )
    return y


def _softmax_backward(y: jax.Array, v: jax.Array, tau: jax.Array, inner_rank: int) -> jax.Array:
    (g,) = _ffi.call("gumbel_softmax_backward", [jax.ShapeDtypeStruct(y.shape, y.dtype)], y, v, tau, inner_rank=inner_rank)
    return g


def _grad_tau(y: jax.Array, v: jax.Array, tau: jax.Array, inner_rank: int) -> jax.Array:
    (g,) = _ffi.call("gumbel_softmax_grad_tau", [jax.ShapeDtypeStruct(tau.shape, tau.dtype)], y, v, tau, inner_rank=inner_rank)
    return g


@functools.partial(jax.custom_vjp, nondiff_argnums=(3, 4, 5))
def _gumbel_softmax(key: jax.Array, x: jax.Array, tau: jax.Array, hard: bool, inner_rank: int, tau_grad: bool) -> jax.Array:
    return _forward(key, x, tau, hard, inner_rank)


def _gumbel_softmax_fwd(key, x, tau, hard, inner_rank, tau_grad):  # type: ignore[no-untyped-def]
    y = _forward(key, x, tau, hard, inner_rank)
    # A hard sample's soft sample is replayed in the backward, not stored.
    return y, ((key, x, tau) if hard else (y, tau))


def _gumbel_softmax_bwd(hard, inner_rank, tau_grad, saved, v):  # type: ignore[no-untyped-def]
    if hard:
        key, x, tau = saved
        y = _forward(key, x, tau, False, inner_rank)
    else:
        y, tau = saved
    g_logits = _softmax_backward(y, v, tau, inner_rank)
    g_tau = _grad_tau(y, v, tau, inner_rank) if tau_grad else jnp.zeros_like(tau)
    return None, g_logits, g_tau


_gumbel_softmax.defvjp(_gumbel_softmax_fwd, _gumbel_softmax_bwd)


@functools.partial(jax.custom_vjp, nondiff_argnums=(2, 3, 4, 5, 6, 7))
def _hard(key: jax.Array, x: jax.Array, inner_rank: int, estimator: str, tau: float, tau_b: float, draws: int, gap: float) -> jax.Array:
    return _forward(key, x, _full(x, inner_rank, tau), True, inner_rank)


def _full(x: jax.Array, inner_rank: int, tau: float) -> jax.Array:
    ax = x.ndim - 1 - inner_rank
    return jnp.full(x.shape[:ax] + (1,) + x.shape[ax + 1 :], tau, _compute(x.dtype))


def _hard_fwd(key, x, inner_rank, estimator, tau, tau_b, draws, gap):  # type: ignore[no-untyped-def]
    y = _hard(key, x, inner_rank, estimator, tau, tau_b, draws, gap)
    index = jnp.argmax(y, axis=x.ndim - 1 - inner_rank)
    return y, (key, x, index)


def _hard_bwd(inner_rank, estimator, tau, tau_b, draws, gap, saved, v):  # type: ignore[no-untyped-def]
    key, x, index = saved
    like = [jax.ShapeDtypeStruct(x.shape, x.dtype)]
    if estimator == "st":
        t = _full(x, inner_rank, tau_b)
        g = _softmax_backward(_forward(key, x, t, False, inner_rank), v, t, inner_rank)
    elif estimator == "reinmax":
        (g,) = _ffi.call("reinmax_backward", like, x, index, v, inner_rank=inner_rank, tau=tau)
    elif estimator == "gapped_st":
        (g,) = _ffi.call("gapped_st_backward", like, x, index, v, inner_rank=inner_rank, tau=tau, gap=gap)
    else:
        (g,) = _ffi.call("gumbel_rao_backward", like, x, index, v, key, inner_rank=inner_rank, tau=tau, draws=draws)
    return None, g


_hard.defvjp(_hard_fwd, _hard_bwd)


def gumbel_softmax(
    key: Any,
    logits: Any,
    tau: Temperature = 1.0,
    hard: bool = False,
    axis: int = -1,
    *,
    estimator: str = "st",
    tau_backward: Optional[float] = None,
    draws: int = 10,
    gap: float = 1.0,
) -> jax.Array:
    """Gumbel-Softmax sample ``softmax((logits + g) / tau)`` along ``axis``
    (Jang et al. 2017, eq. 1; Maddison et al. 2017), ``g`` standard Gumbel
    noise drawn from ``key``; with ``hard=True`` the exact one-hot of its
    argmax (ties to the lowest index) with a gradient estimator.

    Args:
        key: one threefry key (see the module's docstring).
        logits: array of any shape with ``logits.shape[axis] >= 1`` classes,
            float32, float64, bfloat16 or float16; finite or ``-inf`` (a
            masked class: it gets exactly 0).
        tau: temperature ``> 0``: a number, or an array of one temperature
            per row broadcastable to ``logits``' shape with size 1 on
            ``axis`` (``(B, 1)`` for logits ``(B, K)``), which is
            differentiable: its gradient is the library's ``grad_tau``,
            ``-(1/tau) sum_k y_k (v_k - <v, y>) log y_k``.
        hard: return the one-hot sample.
        axis: the class axis.
        estimator: the gradient of the hard sample (only with ``hard=True``;
            the soft sample has its exact gradient): ``"st"``
            (straight-through, Jang et al. 2017: the soft sample's
            gradient), ``"reinmax"`` (Liu et al. 2023, Algorithm 2),
            ``"gumbel_rao"`` (Paulus et al. 2021, eq. 8: ST averaged over
            ``draws`` draws of the noise conditioned on the sample; they
            use the key's streams after the forward's), ``"gapped_st"``
            (Fan et al. 2022, margin ``gap``). Formulas:
            ``include/gumbel.h``.
        tau_backward: with ``"st"``, decoupled straight-through (Shah et al.
            2024): the backward's soft sample at this temperature.
        draws: ``"gumbel_rao"``'s number of conditional draws, ``>= 1``.
        gap: ``"gapped_st"``'s margin in logit units, finite, ``>= 0``.

    The estimators other than plain ``"st"`` (and ``tau_backward``) take
    ``tau`` as a number (the library's estimators take one temperature per
    call) and give no temperature gradient.

    Returns:
        An array of ``logits``' shape and dtype: rows on the simplex, or
        one-hot.

    Raises:
        ValueError, TypeError: bad shapes, axis, dtypes or static
        arguments, at trace time. JAX's runtime error with the library's
        message for bad values (NaN or ``+inf`` logits, a row of ``-inf``,
        ``tau <= 0`` in an array).
    """
    check_estimator(estimator, draws, gap)
    axis, hard = _static_int("axis", axis), _static_bool("hard", hard)
    if estimator == "st" and tau_backward is None:
        if _is_number(tau):
            return _plain(key, logits, _number("tau", tau), axis, hard, False)
        return _plain(key, logits, tau, axis, hard, True)
    what = f"estimator={estimator!r}" if tau_backward is None else "tau_backward"
    if not hard:
        raise ValueError(f"{what} is a gradient estimator of the hard sample: pass hard=True")
    if estimator != "st" and tau_backward is not None:
        raise ValueError(f"tau_backward is the backward temperature of estimator='st'; {estimator!r} uses tau")
    if isinstance(tau, jax.core.Tracer):
        raise TypeError(f"with {what}, tau must be a number (no temperature gradient), got a traced array")
    try:
        t = _number("tau", tau)
    except TypeError:
        raise TypeError(f"with {what}, tau must be a number (no temperature gradient), got {type(tau).__name__}") from None
    tb = t if tau_backward is None else _number("tau_backward", tau_backward)
    if draws > np.iinfo(np.int64).max:
        raise ValueError(f"draws must fit int64, got {draws}")
    return _estimated(key, logits, axis, estimator, t, tb, int(draws), float(gap))


@functools.partial(jax.jit, static_argnums=(3, 4, 5))
def _plain(key: Any, logits: Any, tau: Any, axis: int, hard: bool, tau_grad: bool) -> jax.Array:
    x, ax, inner_rank = _categorical(logits, axis)
    return _gumbel_softmax(_key(key), x, _row_tau(tau, x, ax), hard, inner_rank, tau_grad)


@functools.partial(jax.jit, static_argnums=(2, 3, 4, 5, 6, 7))
def _estimated(key: Any, logits: Any, axis: int, estimator: str, tau: float, tau_b: float, draws: int, gap: float) -> jax.Array:
    x, _, inner_rank = _categorical(logits, axis)
    return _hard(_key(key), x, inner_rank, estimator, tau, tau_b, draws, gap)


def sample(key: Any, logits: Any, axis: int = -1) -> jax.Array:
    """Exact categorical samples by the Gumbel-max trick, ``argmax(logits +
    g)`` along ``axis`` (Gumbel 1954; Maddison et al. 2014): the argmax of
    :func:`gumbel_softmax`'s sample for the same key. Not differentiable
    (integer output; the logits' gradient through it is zero).

    Returns:
        Class indices (int32, or int64 with ``jax_enable_x64``) of
        ``logits``' shape without ``axis``. Arguments and errors as
        :func:`gumbel_softmax`.
    """
    return _sample(key, logits, _static_int("axis", axis))


@functools.partial(jax.jit, static_argnums=(2,))
def _sample(key: Any, logits: Any, axis: int) -> jax.Array:
    x, ax, inner_rank = _categorical(logits, axis)
    x = jax.lax.stop_gradient(x)
    out = jax.ShapeDtypeStruct(x.shape[:ax] + x.shape[ax + 1 :], _ffi.index_dtype())
    (i,) = _ffi.call("sample", [out], x, _key(key), inner_rank=inner_rank)
    return i


def top_k(key: Any, logits: Any, k: int, axis: int = -1) -> jax.Array:
    """Gumbel-top-k: ``k`` classes per row sampled without replacement
    (Kool et al. 2019), the ``k`` largest perturbed logits ``logits + g`` in
    decreasing order; entry 0 is :func:`sample`'s class for the same key.
    Masked (``-inf``) classes are never chosen.

    Args:
        k: ``0 <= k <=`` the number of classes (at run time, also at most
            the unmasked ones).

    Returns:
        Class indices (int32, or int64 with ``jax_enable_x64``) of shape
        ``logits``' shape without ``axis``, plus ``(k,)``. bfloat16 and
        float16 logits are ranked as float32.
    """
    return _top_k(key, logits, _static_int("k", k), _static_int("axis", axis))


@functools.partial(jax.jit, static_argnums=(2, 3))
def _top_k(key: Any, logits: Any, k: int, axis: int) -> jax.Array:
    x, ax, inner_rank = _categorical(logits, axis)
    if not 0 <= k <= x.shape[ax]:
        raise ValueError(f"k must be an integer in [0, {x.shape[ax]}] (the classes), got {k!r}")
    x = jax.lax.stop_gradient(x)
    if x.dtype in _HALF:
        x = x.astype(jnp.float32)
    out = jax.ShapeDtypeStruct(x.shape[:ax] + x.shape[ax + 1 :] + (k,), _ffi.index_dtype())
    (i,) = _ffi.call("top_k", [out], x, _key(key), inner_rank=inner_rank, k=k)
    return i


# -- relaxed Bernoulli -----------------------------------------------------------


def _bernoulli_forward(key: jax.Array, x: jax.Array, tau: jax.Array, hard: bool) -> jax.Array:
    (y,) = _ffi.call("relaxed_bernoulli", [jax.ShapeDtypeStruct(x.shape, x.dtype)], x, key, tau, hard=int(hard))
    return y


@functools.partial(jax.custom_vjp, nondiff_argnums=(3, 4))
def _bernoulli(key: jax.Array, x: jax.Array, tau: jax.Array, hard: bool, tau_grad: bool) -> jax.Array:
    return _bernoulli_forward(key, x, tau, hard)


def _bernoulli_fwd(key, x, tau, hard, tau_grad):  # type: ignore[no-untyped-def]
    y = _bernoulli_forward(key, x, tau, hard)
    return y, ((key, x, tau) if hard else (y, tau))


def _bernoulli_bwd(hard, tau_grad, saved, v):  # type: ignore[no-untyped-def]
    if hard:
        key, x, tau = saved
        y = _bernoulli_forward(key, x, tau, False)
    else:
        y, tau = saved
    (g,) = _ffi.call("relaxed_bernoulli_backward", [jax.ShapeDtypeStruct(y.shape, y.dtype)], y, v, tau)
    # d y / d tau = -y (1 - y) logit(y) / tau, so dL/dtau = -sum(g * logit(y)).
    g_tau = -jnp.sum(g * (jnp.log(y) - jnp.log1p(-y))).reshape(tau.shape) if tau_grad else jnp.zeros_like(tau)
    return None, g, g_tau


_bernoulli.defvjp(_bernoulli_fwd, _bernoulli_bwd)


def relaxed_bernoulli(key: Any, logits: Any, tau: Temperature = 1.0, hard: bool = False) -> jax.Array:
    """Relaxed Bernoulli (binary Concrete) sample ``sigmoid((logits + L) /
    tau)`` elementwise, ``L`` standard logistic noise drawn from ``key``
    (Maddison et al. 2017, eq. 10; Jang et al. 2017); ``hard=True`` gives
    ``logits + L > 0`` as 0/1 with the soft sample's (straight-through)
    gradient.

    Args:
        logits: finite float array of any shape (float32, float64; bfloat16
            and float16 computed as float32).
        tau: temperature ``> 0``: a number or a one-element array, which is
            differentiable.

    Returns:
        An array of ``logits``' shape and dtype, in ``(0, 1)`` (or 0/1).
    """
    hard = _static_bool("hard", hard)
    if _is_number(tau):
        return _relaxed_bernoulli(key, logits, _number("tau", tau), hard, False)
    return _relaxed_bernoulli(key, logits, tau, hard, True)


@functools.partial(jax.jit, static_argnums=(3, 4))
def _relaxed_bernoulli(key: Any, logits: Any, tau: Any, hard: bool, tau_grad: bool) -> jax.Array:
    x = _array(logits)
    dtype = x.dtype
    if dtype in _HALF:
        x = x.astype(jnp.float32)
    t = jnp.asarray(tau)
    if t.size != 1 or not jnp.issubdtype(t.dtype, jnp.floating):
        raise ValueError(f"tau must be a number or a one-element floating array, got shape {t.shape}, dtype {t.dtype}")
    return _bernoulli(_key(key), x, t.reshape((1,)).astype(x.dtype), hard, tau_grad).astype(dtype)
