"""PyTorch drop-in: ``gumbel.torch.gumbel_softmax`` has the signature and
semantics of ``torch.nn.functional.gumbel_softmax`` and runs the library on
CPU tensors without copying them (a non-contiguous input is copied once).

    from gumbel.torch import gumbel_softmax   # instead of F.gumbel_softmax

It is a ``torch.autograd.Function``: the soft sample's gradient
``y * (v - <v, y>) / tau`` comes from the library's backward. A soft forward
saves its output (which autograd holds anyway); a hard (straight-through)
forward saves only the logits and ``(seed, offset)``, and the backward
replays the soft sample from them instead of storing it.

Randomness: with ``generator=None`` the seed is drawn from PyTorch's default
CPU generator (so ``torch.manual_seed`` makes runs repeatable); a
``torch.Generator`` is used the same way; a :class:`gumbel.Generator`
supplies ``(seed, offset)`` and advances; ``seed=``/``offset=`` replay a call.
"""

from __future__ import annotations

from typing import Any, Optional, Union

import numpy as np
import torch
from torch.autograd.function import once_differentiable

from . import _temperature as T
from ._errors import check
from ._generator import Generator, resolve
from ._native import ffi, lib

__all__ = ["gumbel_softmax", "relaxed_bernoulli"]

_CTYPES = {torch.float32: ("float *", "_f32"), torch.float64: ("double *", "_f64")}

AnyGenerator = Union[None, Generator, torch.Generator]


def _check_tensor(t: torch.Tensor, name: str) -> None:
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
    if t.device.type != "cpu":
        raise ValueError(f"{name} is on {t.device}: gumbel.torch runs on CPU tensors only")
    if t.dtype not in _CTYPES:
        raise TypeError(f"{name} has dtype {t.dtype}: gumbel.torch supports float32 and float64")


def _ptr(t: torch.Tensor) -> Any:
    return ffi.cast(_CTYPES[t.dtype][0], t.data_ptr())


def _fn(name: str, t: torch.Tensor) -> Any:
    return getattr(lib, name + _CTYPES[t.dtype][1])


def _tau(tau: Any, t: torch.Tensor) -> float:
    """The C argument for ``tau`` of a call on ``t`` (a float32 call runs a
    finite ``tau`` above ``FLT_MAX`` as ``FLT_MAX``; see ``gumbel._temperature``)."""
    return T.scalar(float(tau), np.dtype(np.float32) if t.dtype == torch.float32 else np.dtype(np.float64))


def _split(shape: torch.Size, dim: int) -> tuple[int, int, int]:
    ndim = len(shape)
    if ndim == 0:
        raise ValueError("a 0-d tensor has no class dimension")
    if not -ndim <= dim < ndim:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-ndim}, {ndim - 1}], but got {dim})")
    dim %= ndim
    outer = 1
    for s in shape[:dim]:
        outer *= int(s)
    inner = 1
    for s in shape[dim + 1 :]:
        inner *= int(s)
    return outer, int(shape[dim]), inner


def _seed(generator: AnyGenerator, seed: Optional[int], offset: int, outer: int, classes: int, inner: int) -> tuple[int, int]:
    if seed is not None or isinstance(generator, Generator):
        return resolve(seed, offset, generator, outer, classes, inner)
    if offset != 0:
        raise TypeError("offset given without seed")
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a gumbel.Generator or torch.Generator, got {type(generator).__name__}")
    drawn = torch.randint(-(2**63), 2**63 - 1, (), dtype=torch.int64, generator=generator)
    return int(drawn) & ((1 << 64) - 1), 0


def _soft(x: torch.Tensor, shape3: tuple[int, int, int], tau: float, hard: bool, seed: int, offset: int) -> torch.Tensor:
    y = torch.empty_like(x, memory_format=torch.contiguous_format)
    check(_fn("gumbel_softmax", x)(_ptr(x), _ptr(y), *shape3, tau, hard, seed, offset))
    return y


class GumbelSoftmaxFunction(torch.autograd.Function):
    """``y = softmax((logits + g) / tau)`` (or its one-hot) with the library's
    vector-Jacobian product as backward. Arguments: ``(logits, tau, hard, dim,
    seed, offset)``; use :func:`gumbel_softmax`."""

    @staticmethod
    def forward(ctx: Any, logits: torch.Tensor, tau: float, hard: bool, dim: int, seed: int, offset: int) -> torch.Tensor:
        x = logits.detach().contiguous()
        shape3 = _split(x.shape, dim)
        y = _soft(x, shape3, tau, hard, seed, offset)
        ctx.shape3, ctx.tau, ctx.hard, ctx.seed, ctx.offset = shape3, tau, hard, seed, offset
        ctx.save_for_backward(logits if hard else y)
        return y

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[Optional[torch.Tensor], None, None, None, None, None]:
        (saved,) = ctx.saved_tensors
        if ctx.hard:
            y = _soft(saved.detach().contiguous(), ctx.shape3, ctx.tau, False, ctx.seed, ctx.offset)
        else:
            y = saved
        v = grad.contiguous().to(y.dtype)
        g = torch.empty_like(y)
        check(_fn("gumbel_softmax_backward", y)(_ptr(y), _ptr(v), _ptr(g), *ctx.shape3, ctx.tau))
        return g, None, None, None, None, None


def gumbel_softmax(
    logits: torch.Tensor,
    tau: float = 1,
    hard: bool = False,
    eps: float = 1e-10,
    dim: int = -1,
    *,
    generator: AnyGenerator = None,
    seed: Optional[int] = None,
    offset: int = 0,
) -> torch.Tensor:
    """Gumbel-Softmax sample ``softmax((logits + g) / tau)`` along ``dim``
    (Jang et al. 2017, eq. 1), with the signature of
    ``torch.nn.functional.gumbel_softmax``; ``hard=True`` returns the exact
    one-hot of its argmax with the soft sample's (straight-through) gradient.

    Args:
        logits: CPU float32/float64 tensor of any shape, any strides;
            ``logits.shape[dim]`` classes; ``-inf`` masks a class.
        tau: temperature, a finite number ``> 0``; a float32 call runs a
            ``tau`` above ``FLT_MAX`` as ``FLT_MAX`` (the same output) and
            refuses one that float32 rounds to 0.
        hard: straight-through one-hot output.
        eps: ignored (deprecated in PyTorch too).
        dim: the class dimension.
        generator: ``None`` (seed from PyTorch's default generator), a
            ``torch.Generator`` (seed drawn from it) or a
            :class:`gumbel.Generator` (``(seed, offset)`` taken and advanced).
        seed, offset: explicit stream position, to replay a call.

    Returns:
        A contiguous tensor of ``logits``' shape and dtype.

    Raises:
        ValueError: a non-CPU tensor. TypeError: another dtype.
        IndexError: ``dim`` out of range. InvalidTemperatureError,
        InvalidLogitsError (NaN or ``+inf``), AllMaskedError, InvalidShapeError
        (zero classes): from the library, with its message. InvalidValueError
        in the backward for a non-finite upstream gradient.
    """
    _check_tensor(logits, "logits")
    shape3 = _split(logits.shape, dim)
    s, o = _seed(generator, seed, offset, *shape3)
    return GumbelSoftmaxFunction.apply(logits, _tau(tau, logits), bool(hard), dim, s, o)


class RelaxedBernoulliFunction(torch.autograd.Function):
    """``y = sigmoid((logits + L) / tau)`` (or ``logits + L > 0``), elementwise,
    backward ``grad * y (1 - y) / tau``. Use :func:`relaxed_bernoulli`."""

    @staticmethod
    def forward(ctx: Any, logits: torch.Tensor, tau: float, hard: bool, seed: int, offset: int) -> torch.Tensor:
        x = logits.detach().contiguous()
        y = torch.empty_like(x, memory_format=torch.contiguous_format)
        check(_fn("gumbel_relaxed_bernoulli", x)(_ptr(x), _ptr(y), x.numel(), tau, hard, seed, offset))
        ctx.tau, ctx.hard, ctx.seed, ctx.offset = tau, hard, seed, offset
        ctx.save_for_backward(logits if hard else y)
        return y

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[Optional[torch.Tensor], None, None, None, None]:
        (saved,) = ctx.saved_tensors
        if ctx.hard:
            x = saved.detach().contiguous()
            y = torch.empty_like(x)
            check(_fn("gumbel_relaxed_bernoulli", x)(_ptr(x), _ptr(y), x.numel(), ctx.tau, False, ctx.seed, ctx.offset))
        else:
            y = saved
        v = grad.contiguous().to(y.dtype)
        g = torch.empty_like(y)
        check(_fn("gumbel_relaxed_bernoulli_backward", y)(_ptr(y), _ptr(v), _ptr(g), y.numel(), ctx.tau))
        return g, None, None, None, None


def relaxed_bernoulli(
    logits: torch.Tensor,
    tau: float = 1,
    hard: bool = False,
    *,
    generator: AnyGenerator = None,
    seed: Optional[int] = None,
    offset: int = 0,
) -> torch.Tensor:
    """Relaxed Bernoulli (binary Concrete) sample ``sigmoid((logits + L) / tau)``,
    ``L`` logistic, elementwise (Maddison et al. 2017, eq. 10), differentiable
    (``rsample`` of ``torch.distributions.RelaxedBernoulli`` with
    ``logits=logits``); ``hard=True`` gives ``logits + L > 0`` as 0/1 with the
    soft sample's gradient.

    Arguments, randomness and errors as :func:`gumbel_softmax` (elementwise:
    ``n = logits.numel()`` draws).
    """
    _check_tensor(logits, "logits")
    n = logits.numel()
    s, o = _seed(generator, seed, offset, 1, max(n, 1), 1)
    return RelaxedBernoulliFunction.apply(logits, _tau(tau, logits), bool(hard), s, o)


