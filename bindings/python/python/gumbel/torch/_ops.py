"""The library's kernels as PyTorch operators, namespace ``gumbel``.

Each operator makes one call into the C ABI on CPU tensors; its fake (meta)
implementation gives the output's shape and dtype without running it, so
meta and fake tensors (``torch.compile``, ``torch.export``) propagate
shapes; its vmap rule runs it once per batch element. Their derivatives are
registered in ``_autograd``.

Operators (``torch.ops.gumbel.*``):

- ``gumbel_softmax(logits, tau, hard, dim, key) -> y``: the soft sample
  ``softmax((logits + g) / tau)`` along ``dim``, or with ``hard`` the one-hot
  of its argmax (``gumbel_softmax_*``, ``gumbel_softmax_per_row_*``).
- ``gumbel_softmax_backward(y_soft, grad, tau, dim) -> grad_logits``:
  ``y * (grad - <grad, y>) / tau`` (``gumbel_softmax_backward_*``,
  ``_per_row_*``).
- ``gumbel_softmax_grad_tau(y_soft, grad, tau, dim) -> grad_tau``:
  ``-(1/tau) sum_k y_k (grad_k - <grad, y>) ln y_k`` per row, summed over
  the rows that share an entry of ``tau`` (``gumbel_softmax_grad_tau_*``,
  ``_per_row_*``).
- ``gumbel_softmax_hard(logits, tau, tau_backward, dim, key, estimator,
  draws, gap) -> y``: the hard sample of ``gumbel_softmax`` (the same bits
  for the same key), whose registered derivative is the gradient estimator
  ``estimator`` (``"st"``, ``"reinmax"``, ``"gumbel_rao"``, ``"gapped_st"``)
  instead of the soft sample's (``gumbel._estimators``).
- ``straight_through_backward(logits, grad, tau_backward, dim, key) ->
  grad_logits``: ``B(y_b, grad, tau_backward)``, ``y_b`` the soft sample of
  the forward's noise at ``tau_backward`` (decoupled straight-through;
  ``gumbel_decoupled_st_backward_*``).
- ``reinmax_backward(logits, index, grad, tau, dim) -> grad_logits``
  (``gumbel_reinmax_backward_*``), ``gapped_st_backward(logits, index,
  grad, tau, dim, gap)`` (``gumbel_gapped_st_backward_*``) and
  ``gumbel_rao_backward(logits, index, grad, tau, dim, draws, key)``
  (``gumbel_rao_backward_*``): the other estimators' gradients given the
  sampled classes ``index`` (int64, the logits' shape without ``dim``).
  ``gumbel_rao_backward`` takes the forward's key and draws its conditional
  noise from the streams right after the forward's: ``(seed, offset + s)``,
  ``s = gumbel_streams(rows, classes)``. These four take every dtype of
  ``DTYPES`` (bfloat16 and float16 computed in float32 and rounded once, as
  the library's ``_bf16``/``_f16`` entries do), with a 0-d temperature.
- ``relaxed_bernoulli(logits, tau, hard, key) -> y``: ``sigmoid((logits + L)
  / tau)`` elementwise, or with ``hard`` ``logits + L > 0`` as 0/1
  (``gumbel_relaxed_bernoulli_*``).
- ``relaxed_bernoulli_backward(y_soft, grad, tau) -> grad_logits``:
  ``grad * y (1 - y) / tau`` (``gumbel_relaxed_bernoulli_backward_*``).

Arguments common to all:

- ``tau``: a tensor of the dtype ``DTYPES[logits.dtype].scalar``, either 0-d
  (one temperature) or, for the categorical operators, one per row: a shape
  broadcastable to the logits' with size 1 along ``dim`` (e.g. ``(B, 1)``
  for logits ``(B, K)``, ``(B, 1, W)`` for ``(B, K, W)`` with ``dim=1``).
- ``key``: a 1-d int64 tensor of two entries, the ``(seed, offset)`` stream
  position of the library's counter-based noise (the bits of two uint64, as
  int64). It is a tensor, not an int argument, so that a compiled or traced
  graph draws it at run time (``torch.randint``) instead of baking in a
  constant, and the operator reads it only when it runs.
- A 0-d tensor is one row of one class (``torch.softmax`` treats it so); an
  empty tensor (no rows or no classes) gives an empty result and no call.

Errors: ``TypeError`` for a dtype outside ``DTYPES``, ``ValueError`` for a
bad temperature shape or key, ``IndexError`` for ``dim``; the library's
status as a :class:`gumbel.GumbelError` subclass (``InvalidTemperatureError``,
``InvalidLogitsError``, ``AllMaskedError``, ``InvalidValueError``...).
"""

from __future__ import annotations

import math
from typing import Any, Callable, NamedTuple, Optional, Sequence

import torch
from torch import Tensor

from .._errors import InvalidTemperatureError, check
from .._estimators import check_estimator
from .._native import ffi, lib

__all__ = [
    "DTYPES",
    "check_dtype",
    "dim_index",
    "split",
    "kernel",
    "gumbel_softmax",
    "gumbel_softmax_backward",
    "gumbel_softmax_grad_tau",
    "gumbel_softmax_hard",
    "straight_through_backward",
    "reinmax_backward",
    "gapped_st_backward",
    "gumbel_rao_backward",
    "relaxed_bernoulli",
    "relaxed_bernoulli_backward",
]


class CType(NamedTuple):
    """How a tensor dtype crosses the C ABI."""

    pointer: Any  # the cffi pointer type of one element
    suffix: str  # the C function name's suffix
    scalar: torch.dtype  # dtype of temperatures and of grad_tau values in that call
    bernoulli: bool  # whether the relaxed Bernoulli entries exist for it


# The dtypes the library takes. bfloat16 and float16 cross as their
# ``uint16_t`` storage (the tensor's own memory, never an upcast copy) and
# are computed in float32 with float32 temperatures: each result is the
# float32 call's, rounded once.
DTYPES: dict[torch.dtype, CType] = {
    torch.float32: CType(ffi.typeof("float *"), "_f32", torch.float32, True),
    torch.float64: CType(ffi.typeof("double *"), "_f64", torch.float64, True),
    torch.bfloat16: CType(ffi.typeof("uint16_t *"), "_bf16", torch.float32, False),
    torch.float16: CType(ffi.typeof("uint16_t *"), "_f16", torch.float32, False),
}

_U64 = (1 << 64) - 1


def check_dtype(dtype: torch.dtype, bernoulli: bool = False) -> CType:
    """The C form of ``dtype`` (for the relaxed Bernoulli with ``bernoulli``),
    or ``TypeError``."""
    c = DTYPES.get(dtype)
    if c is None or (bernoulli and not c.bernoulli):
        names = ", ".join(str(d).replace("torch.", "") for d, c in DTYPES.items() if c.bernoulli or not bernoulli)
        what = "gumbel.torch.relaxed_bernoulli" if bernoulli else "gumbel.torch"
        raise TypeError(f"dtype {dtype}: {what} supports {names}")
    return c


_FUNCTIONS: dict[tuple[str, torch.dtype], Callable[..., int]] = {}


def _fn(name: str, dtype: torch.dtype) -> Callable[..., int]:
    """The C function ``gumbel_<name>_<suffix>`` for ``dtype``."""
    f = _FUNCTIONS.get((name, dtype))
    if f is None:
        f = _FUNCTIONS[name, dtype] = getattr(lib, f"gumbel_{name}{DTYPES[dtype].suffix}")
    return f


def _ptr(t: Tensor) -> Any:
    return ffi.cast(DTYPES[t.dtype].pointer, t.data_ptr())


def dim_index(ndim: int, dim: int) -> int:
    """``dim`` counted from 0 for a tensor of ``ndim`` dimensions (negative
    counts from the end; a 0-d tensor, one row of one class as for
    ``torch.softmax``, takes 0 or -1); IndexError when out of range."""
    lo, hi = (-1, 0) if ndim == 0 else (-ndim, ndim - 1)
    if not lo <= dim <= hi:
        raise IndexError(f"Dimension out of range (expected to be in range of [{lo}, {hi}], but got {dim})")
    return dim % max(ndim, 1)


def split(shape: Sequence[int], dim: int) -> tuple[int, int, int, int]:
    """``(outer, classes, inner, dim)`` of a tensor of ``shape`` whose class
    dimension is ``dim`` (see :func:`dim_index`; a 0-d tensor is ``(1, 1, 1)``)."""
    n = len(shape)
    d = dim_index(n, dim)
    if n == 0:
        return 1, 1, 1, 0
    return math.prod(shape[:d]), shape[d], math.prod(shape[d + 1 :]), d


def _per_row(tau: Tensor, shape: Sequence[int], dim: int) -> bool:
    """False for a 0-d temperature, True for one temperature per row (a shape
    broadcastable to ``shape`` with size 1 along ``dim``); ValueError else."""
    if tau.dim() == 0:
        return False
    n = len(shape)
    padded = (1,) * (n - tau.dim()) + tuple(tau.shape)
    d = dim_index(n, dim)
    if tau.dim() > n or any(t != 1 and t != s for t, s in zip(padded, shape)) or padded[d] != 1:
        raise ValueError(
            f"tau of shape {tuple(tau.shape)} for logits of shape {tuple(shape)} and dim={dim}: a temperature "
            "is a number, a 0-d tensor, or one per row, a shape broadcastable to the logits' with size 1 along dim "
            "(e.g. (B, 1) for logits (B, K)); per-element temperatures are not supported"
        )
    return True


def _check(x: Tensor, tau: Tensor, name: str = "logits", bernoulli: bool = False) -> None:
    c = check_dtype(x.dtype, bernoulli)
    if tau.dtype != c.scalar:
        raise TypeError(f"tau has dtype {tau.dtype}, expected {c.scalar} for {name} of dtype {x.dtype}")


def _check_pair(y: Tensor, grad: Tensor) -> None:
    if grad.shape != y.shape or grad.dtype != y.dtype:
        raise ValueError(f"grad ({tuple(grad.shape)}, {grad.dtype}) must match y_soft ({tuple(y.shape)}, {y.dtype})")


def _check_key(key: Tensor) -> None:
    if key.dtype != torch.int64 or key.shape != (2,):
        raise ValueError(f"key must be an int64 tensor of shape (2,) holding (seed, offset), got {key.dtype} {tuple(key.shape)}")


def _key(key: Tensor) -> tuple[int, int]:
    seed, offset = key.tolist()
    return seed & _U64, offset & _U64


def _row_tau(tau: Tensor, shape: Sequence[int], dim: int) -> Tensor:
    """The per-row temperatures as the C-contiguous ``(outer, inner)`` array the library reads."""
    rows = list(shape)
    rows[dim] = 1
    return tau.expand(rows).contiguous()


def _empty(x: Tensor) -> Tensor:
    return torch.empty_like(x, memory_format=torch.contiguous_format)


_KERNELS: dict[str, Callable[..., Tensor]] = {}


def _operator(name: str) -> Callable[[Callable[..., Tensor]], Any]:
    """Registers ``fn`` as the CPU kernel of the operator ``gumbel::name``."""

    def register(fn: Callable[..., Tensor]) -> Any:
        _KERNELS[name] = fn
        return torch.library.custom_op(f"gumbel::{name}", fn, mutates_args=(), device_types="cpu")

    return register


def kernel(name: str) -> Callable[..., Tensor]:
    """The CPU kernel of the operator ``gumbel::name``, the very function the
    dispatcher runs: plain eager calls on CPU tensors call it directly (see
    ``_autograd``)."""
    return _KERNELS[name]


# -- Gumbel-Softmax -----------------------------------------------------------


@_operator("gumbel_softmax")
def gumbel_softmax(logits: Tensor, tau: Tensor, hard: bool, dim: int, key: Tensor) -> Tensor:
    """Soft sample ``softmax((logits + g) / tau)`` along ``dim`` (Jang et al.
    2017, eq. 1), or with ``hard`` the one-hot of its argmax; ``g`` is the
    library's Gumbel noise at ``key = (seed, offset)``. Returns a contiguous
    tensor of ``logits``' shape and dtype."""
    _check(logits, tau)
    _check_key(key)
    per_row = _per_row(tau, logits.shape, dim)
    outer, classes, inner, d = split(logits.shape, dim)
    x = logits.contiguous()
    y = _empty(x)
    if y.numel() == 0:
        return y
    seed, offset = _key(key)
    if per_row:
        t = _row_tau(tau, x.shape, d)
        check(_fn("softmax_per_row", x.dtype)(_ptr(x), _ptr(y), outer, classes, inner, _ptr(t), hard, seed, offset))
    else:
        check(_fn("softmax", x.dtype)(_ptr(x), _ptr(y), outer, classes, inner, float(tau), hard, seed, offset))
    return y


@gumbel_softmax.register_fake
def _(logits: Tensor, tau: Tensor, hard: bool, dim: int, key: Tensor) -> Tensor:
    _check(logits, tau)
    _check_key(key)
    _per_row(tau, logits.shape, dim)
    dim_index(logits.dim(), dim)
    return _empty(logits)


@_operator("gumbel_softmax_backward")
def gumbel_softmax_backward(y_soft: Tensor, grad: Tensor, tau: Tensor, dim: int) -> Tensor:
    """Vector-Jacobian product of the soft sample with respect to the logits,
    ``y * (grad - <grad, y>) / tau`` along ``dim``: the library's backward.
    ``y_soft`` is the soft sample (also after a hard forward: replay it)."""
    _check(y_soft, tau, "y_soft")
    _check_pair(y_soft, grad)
    per_row = _per_row(tau, y_soft.shape, dim)
    outer, classes, inner, d = split(y_soft.shape, dim)
    y = y_soft.contiguous()
    v = grad.contiguous()
    g = _empty(y)
    if g.numel() == 0:
        return g
    if per_row:
        t = _row_tau(tau, y.shape, d)
        check(_fn("softmax_backward_per_row", y.dtype)(_ptr(y), _ptr(v), _ptr(g), outer, classes, inner, _ptr(t)))
    else:
        check(_fn("softmax_backward", y.dtype)(_ptr(y), _ptr(v), _ptr(g), outer, classes, inner, float(tau)))
    return g


@gumbel_softmax_backward.register_fake
def _(y_soft: Tensor, grad: Tensor, tau: Tensor, dim: int) -> Tensor:
    _check(y_soft, tau, "y_soft")
    _check_pair(y_soft, grad)
    _per_row(tau, y_soft.shape, dim)
    dim_index(y_soft.dim(), dim)
    return _empty(y_soft)


@_operator("gumbel_softmax_grad_tau")
def gumbel_softmax_grad_tau(y_soft: Tensor, grad: Tensor, tau: Tensor, dim: int) -> Tensor:
    """Gradient with respect to the temperature, of ``tau``'s shape: per row
    ``-(1/tau) sum_k y_k (grad_k - <grad, y>) ln y_k`` (``0 ln 0 = 0``), summed
    over all rows for a 0-d ``tau`` and over the rows sharing each entry of
    a broadcast per-row ``tau``."""
    _check(y_soft, tau, "y_soft")
    _check_pair(y_soft, grad)
    per_row = _per_row(tau, y_soft.shape, dim)
    outer, classes, inner, d = split(y_soft.shape, dim)
    y = y_soft.contiguous()
    v = grad.contiguous()
    if y.numel() == 0:
        return torch.zeros(tau.shape, dtype=tau.dtype, device=tau.device)
    if per_row:
        t = _row_tau(tau, y.shape, d)
        g = _empty(t)
        check(_fn("softmax_grad_tau_per_row", y.dtype)(_ptr(y), _ptr(v), outer, classes, inner, _ptr(t), _ptr(g)))
        return g.sum_to_size(tau.shape).contiguous()
    cell = ffi.new(DTYPES[tau.dtype].pointer)
    check(_fn("softmax_grad_tau", y.dtype)(_ptr(y), _ptr(v), outer, classes, inner, float(tau), cell))
    return torch.tensor(cell[0], dtype=tau.dtype, device=tau.device)


@gumbel_softmax_grad_tau.register_fake
def _(y_soft: Tensor, grad: Tensor, tau: Tensor, dim: int) -> Tensor:
    _check(y_soft, tau, "y_soft")
    _check_pair(y_soft, grad)
    _per_row(tau, y_soft.shape, dim)
    dim_index(y_soft.dim(), dim)
    return _empty(tau)


# -- Gradient estimators of the hard sample -----------------------------------

def _check_estimator_dtype(x: Tensor, tau: Tensor, name: str, what: str) -> None:
    _check(x, tau, name)
    if tau.dim() != 0:
        raise ValueError(
            f"tau of shape {tuple(tau.shape)}: the gradient estimator {what} takes one temperature (a number "
            "or a 0-d tensor), not one per row"
        )


def _check_index(index: Tensor, shape: Sequence[int], dim: int) -> None:
    d = dim_index(len(shape), dim)
    rows = tuple(shape[:d]) + tuple(shape[d + 1 :])
    if index.dtype != torch.int64 or tuple(index.shape) != rows:
        raise ValueError(
            f"index must be an int64 tensor of the logits' shape without dim, {rows}, got {index.dtype} {tuple(index.shape)}"
        )


def _conditional_key(key: Tensor, outer: int, classes: int, inner: int) -> tuple[int, int]:
    """The ``(seed, offset)`` of the conditional draws: the streams right
    after those of the forward call at ``key``."""
    seed, offset = _key(key)
    return seed, (offset + int(lib.gumbel_streams(outer, classes, inner))) & _U64


@_operator("gumbel_softmax_hard")
def gumbel_softmax_hard(
    logits: Tensor, tau: Tensor, tau_backward: Tensor, dim: int, key: Tensor, estimator: str, draws: int, gap: float
) -> Tensor:
    """The hard sample of ``gumbel_softmax`` at ``key`` (the one-hot of
    ``argmax(logits + g)``, which no temperature changes), whose gradient is
    the estimator ``estimator``'s (registered in ``_autograd``): ``tau`` the
    temperature of ReinMax, Gumbel-Rao and gapped straight-through,
    ``tau_backward`` that of straight-through's soft sample, ``draws`` the
    Gumbel-Rao draws, ``gap`` the gapped straight-through margin."""
    _check_hard(logits, tau, tau_backward, dim, key, estimator, draws, gap)
    tb = float(tau_backward)
    if not (math.isfinite(tb) and tb > 0):  # checked now, not first in the backward
        raise InvalidTemperatureError(lib.GUMBEL_STATUS_INVALID_TEMPERATURE, f"tau_backward must be finite and > 0, got {tb!r}")
    return _KERNELS["gumbel_softmax"](logits, tau, True, dim, key)


@gumbel_softmax_hard.register_fake
def _(logits: Tensor, tau: Tensor, tau_backward: Tensor, dim: int, key: Tensor, estimator: str, draws: int, gap: float) -> Tensor:
    _check_hard(logits, tau, tau_backward, dim, key, estimator, draws, gap)
    return _empty(logits)


def _check_hard(
    logits: Tensor, tau: Tensor, tau_backward: Tensor, dim: int, key: Tensor, estimator: str, draws: int, gap: float
) -> None:
    check_estimator(estimator, draws, gap)
    _check_estimator_dtype(logits, tau, "logits", repr(estimator))
    _check_estimator_dtype(logits, tau_backward, "logits", repr(estimator))
    _check_key(key)
    dim_index(logits.dim(), dim)


def _estimator_call(
    name: str, logits: Tensor, index: Optional[Tensor], grad: Tensor, tau: Tensor, dim: int, *extra: Any
) -> Tensor:
    """One call of the library's ``gumbel_<name>_*``: ``(logits, [index],
    grad_out, grad_logits, outer, classes, inner, tau, *extra)``."""
    outer, classes, inner, _ = split(logits.shape, dim)
    x = logits.contiguous()
    v = grad.contiguous()
    g = _empty(x)
    if g.numel() == 0:
        return g
    i = None if index is None else index.contiguous()  # held until the call returns
    head = (_ptr(x),) if i is None else (_ptr(x), ffi.cast("int64_t *", i.data_ptr()))
    check(_fn(name, x.dtype)(*head, _ptr(v), _ptr(g), outer, classes, inner, float(tau), *extra))
    return g


def _check_estimator_backward(logits: Tensor, index: Optional[Tensor], grad: Tensor, tau: Tensor, dim: int, what: str) -> None:
    _check_estimator_dtype(logits, tau, "logits", what)
    _check_pair(logits, grad)
    dim_index(logits.dim(), dim)
    if index is not None:
        _check_index(index, logits.shape, dim)


@_operator("straight_through_backward")
def straight_through_backward(logits: Tensor, grad: Tensor, tau_backward: Tensor, dim: int, key: Tensor) -> Tensor:
    """Straight-through gradient of the hard sample at ``key`` through the soft
    sample of the same noise at ``tau_backward``:
    ``y_b * (grad - <grad, y_b>) / tau_backward``,
    ``y_b = softmax((logits + g) / tau_backward)`` (decoupled
    straight-through, Shah et al. 2024; plain straight-through when
    ``tau_backward`` is the forward's temperature)."""
    _check_estimator_backward(logits, None, grad, tau_backward, dim, "'st'")
    _check_key(key)
    return _estimator_call("decoupled_st_backward", logits, None, grad, tau_backward, dim, *_key(key))


@straight_through_backward.register_fake
def _(logits: Tensor, grad: Tensor, tau_backward: Tensor, dim: int, key: Tensor) -> Tensor:
    _check_estimator_backward(logits, None, grad, tau_backward, dim, "'st'")
    _check_key(key)
    return _empty(logits)


@_operator("reinmax_backward")
def reinmax_backward(logits: Tensor, index: Tensor, grad: Tensor, tau: Tensor, dim: int) -> Tensor:
    """ReinMax gradient (Liu et al. 2023, Algorithm 2) of the one-hot of
    ``index``: ``2 J(pi_1)^T grad - J(pi_0)^T grad / 2``,
    ``pi_0 = softmax(logits)``, ``pi_1 = (softmax(logits / tau) +
    onehot(index)) / 2``, ``J(p)^T v = p * (v - <v, p>)``."""
    _check_estimator_backward(logits, index, grad, tau, dim, "'reinmax'")
    return _estimator_call("reinmax_backward", logits, index, grad, tau, dim)


@reinmax_backward.register_fake
def _(logits: Tensor, index: Tensor, grad: Tensor, tau: Tensor, dim: int) -> Tensor:
    _check_estimator_backward(logits, index, grad, tau, dim, "'reinmax'")
    return _empty(logits)


@_operator("gapped_st_backward")
def gapped_st_backward(logits: Tensor, index: Tensor, grad: Tensor, tau: Tensor, dim: int, gap: float) -> Tensor:
    """Gapped straight-through gradient (Fan et al. 2022, section 4) of the
    one-hot of ``index``: ``y * (grad - <grad, y>) / tau``,
    ``y = softmax(z / tau)``, ``z_d = max logits`` for the sampled class
    ``d`` and ``z_k = min(logits_k, max logits - gap)`` for the others."""
    _check_estimator_backward(logits, index, grad, tau, dim, "'gapped_st'")
    check_estimator("gapped_st", 1, gap)
    return _estimator_call("gapped_st_backward", logits, index, grad, tau, dim, float(gap))


@gapped_st_backward.register_fake
def _(logits: Tensor, index: Tensor, grad: Tensor, tau: Tensor, dim: int, gap: float) -> Tensor:
    _check_estimator_backward(logits, index, grad, tau, dim, "'gapped_st'")
    check_estimator("gapped_st", 1, gap)
    return _empty(logits)


@_operator("gumbel_rao_backward")
def gumbel_rao_backward(logits: Tensor, index: Tensor, grad: Tensor, tau: Tensor, dim: int, draws: int, key: Tensor) -> Tensor:
    """Gumbel-Rao gradient (Paulus et al. 2021, eq. 8) of the one-hot of
    ``index``, sampled at ``key``: ``(1/m) sum_j y_j * (grad - <grad, y_j>) /
    tau``, ``y_j = softmax(z_j / tau)``, over ``m = draws`` draws ``z_j`` of
    the perturbed logits conditioned on ``argmax z_j = index``, taken from
    the streams after the forward's (``(seed, offset + s)``)."""
    _check_estimator_backward(logits, index, grad, tau, dim, "'gumbel_rao'")
    check_estimator("gumbel_rao", draws, 0.0)
    _check_key(key)
    outer, classes, inner, _ = split(logits.shape, dim)
    if classes == 0:
        return _empty(logits)
    seed, offset = _conditional_key(key, outer, classes, inner)
    return _estimator_call("rao_backward", logits, index, grad, tau, dim, draws, seed, offset)


@gumbel_rao_backward.register_fake
def _(logits: Tensor, index: Tensor, grad: Tensor, tau: Tensor, dim: int, draws: int, key: Tensor) -> Tensor:
    _check_estimator_backward(logits, index, grad, tau, dim, "'gumbel_rao'")
    check_estimator("gumbel_rao", draws, 0.0)
    _check_key(key)
    return _empty(logits)


def _check_scalar_tau(tau: Tensor) -> None:
    if tau.dim() != 0:
        raise ValueError(
            f"tau of shape {tuple(tau.shape)}: the relaxed Bernoulli takes one temperature (a number or a "
            "one-element tensor); the library has no per-element form"
        )


@_operator("relaxed_bernoulli")
def relaxed_bernoulli(logits: Tensor, tau: Tensor, hard: bool, key: Tensor) -> Tensor:
    """Relaxed Bernoulli sample ``sigmoid((logits + L) / tau)`` elementwise
    (Maddison et al. 2017, eq. 10; ``L`` the library's logistic noise at
    ``key``), or with ``hard`` 1 where ``logits + L > 0`` else 0."""
    _check(logits, tau, bernoulli=True)
    _check_key(key)
    _check_scalar_tau(tau)
    x = logits.contiguous()
    y = _empty(x)
    if y.numel() == 0:
        return y
    seed, offset = _key(key)
    check(_fn("relaxed_bernoulli", x.dtype)(_ptr(x), _ptr(y), x.numel(), float(tau), hard, seed, offset))
    return y


@relaxed_bernoulli.register_fake
def _(logits: Tensor, tau: Tensor, hard: bool, key: Tensor) -> Tensor:
    _check(logits, tau, bernoulli=True)
    _check_key(key)
    _check_scalar_tau(tau)
    return _empty(logits)


@_operator("relaxed_bernoulli_backward")
def relaxed_bernoulli_backward(y_soft: Tensor, grad: Tensor, tau: Tensor) -> Tensor:
    """``grad * y (1 - y) / tau`` elementwise: the library's backward of the
    soft relaxed Bernoulli sample (also the hard one's, given the soft)."""
    _check(y_soft, tau, "y_soft", bernoulli=True)
    _check_pair(y_soft, grad)
    _check_scalar_tau(tau)
    y = y_soft.contiguous()
    v = grad.contiguous()
    g = _empty(y)
    if g.numel() == 0:
        return g
    check(_fn("relaxed_bernoulli_backward", y.dtype)(_ptr(y), _ptr(v), _ptr(g), y.numel(), float(tau)))
    return g


@relaxed_bernoulli_backward.register_fake
def _(y_soft: Tensor, grad: Tensor, tau: Tensor) -> Tensor:
    _check(y_soft, tau, "y_soft", bernoulli=True)
    _check_pair(y_soft, grad)
    _check_scalar_tau(tau)
    return _empty(y_soft)


# -- vmap ---------------------------------------------------------------------


def _vmap_by_element(op: Any) -> Callable[..., tuple[Tensor, int]]:
    """A vmap rule that runs ``op`` once per batch element and stacks the
    results (each of them, for an operator returning several).

    For the samplers this fixes what vmap means for randomness: a ``key``
    drawn inside ``vmap(..., randomness="different")`` is batched, so each
    element runs on its own key (independent noise); an unbatched key (drawn
    with ``randomness="same"``, or an explicit ``seed``) gives every element
    the same noise, as PyTorch's own random functions do. Under the default
    ``randomness="error"`` drawing the key raises, as ``F.gumbel_softmax`` does.
    """

    def rule(info: Any, in_dims: Sequence[Any], *args: Any) -> tuple[Any, Any]:
        outs = [
            op(*(a if d is None else a.select(d, b) for a, d in zip(args, in_dims)))
            for b in range(info.batch_size)
        ]
        if isinstance(outs[0], tuple):  # an operator with several results: each stacked
            return tuple(torch.stack(o) for o in zip(*outs)), (0,) * len(outs[0])
        return torch.stack(outs), 0

    return rule


for _op in (
    gumbel_softmax,
    gumbel_softmax_backward,
    gumbel_softmax_grad_tau,
    gumbel_softmax_hard,
    straight_through_backward,
    reinmax_backward,
    gapped_st_backward,
    gumbel_rao_backward,
    relaxed_bernoulli,
    relaxed_bernoulli_backward,
):
    _op.register_vmap(_vmap_by_element(_op))
