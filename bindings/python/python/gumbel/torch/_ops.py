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
from typing import Any, Callable, NamedTuple, Sequence

import torch
from torch import Tensor

from .._errors import check
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


# -- Relaxed Bernoulli --------------------------------------------------------


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


for _op in (gumbel_softmax, gumbel_softmax_backward, gumbel_softmax_grad_tau, relaxed_bernoulli, relaxed_bernoulli_backward):
    _op.register_vmap(_vmap_by_element(_op))
