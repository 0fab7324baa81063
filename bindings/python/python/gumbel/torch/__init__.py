"""PyTorch drop-in: ``gumbel.torch.gumbel_softmax`` has the signature and
semantics of ``torch.nn.functional.gumbel_softmax`` and runs the library on
CPU tensors without copying them (a non-contiguous input is copied once).

    from gumbel.torch import gumbel_softmax   # instead of F.gumbel_softmax

It is built from registered PyTorch operators (``torch.ops.gumbel.*``,
defined with ``torch.library.custom_op``), so it works with
``torch.compile`` (``fullgraph=True``, any backend), ``torch.export``,
``torch.jit.trace``, ``torch.library.opcheck``, meta and fake tensors and
the ``torch.func`` transforms (``grad``, ``vmap``, ``jacrev``, ``jvp``).
The operators are Python functions calling the library through cffi, not a
C++ extension: an extension must be compiled against the exact PyTorch it
is loaded into (its C++ ABI changes between releases), which a wheel
carrying only the library cannot guarantee, while ``custom_op`` gives the
same integration (dispatcher, fake kernels, autograd, vmap) from Python.

Gradients: with respect to the logits from the library's backward, with
respect to a tensor temperature (a 0-d tensor, or one temperature per row)
from its ``grad_tau``; the backward is itself differentiable (double
backward, gradient penalties, ``gradgradcheck``), and forward mode works.
The hard (straight-through) sample has the soft sample's gradient; its
forward saves the logits and the key, and the backward replays the soft
sample from them instead of storing it.

The sampling head (``sample_keyed``, ``gumbel_softmax_keyed``, ``top_k``,
``top_k_keyed``, ``plackett_luce_log_prob``, ``sample_filtered``; float32
and float64 logits)
is built the same way from the operators of ``_head_ops``; keyed calls take
one ``(seed, offset)`` per row (see ``_head``).

Randomness: the noise's ``(seed, offset)`` is a tensor drawn inside the
graph from PyTorch's default generator (``torch.manual_seed`` replays; a
compiled, exported or traced module draws fresh noise on every call) or
from a ``torch.Generator``; a :class:`gumbel.Generator` supplies ``(seed,
offset)`` and advances; ``seed=``/``offset=`` replay a call. Under
``torch.func.vmap`` the randomness follows vmap's ``randomness=`` flag as
PyTorch's samplers do: ``"error"`` (the default) raises, ``"different"``
gives each batch element its own noise, ``"same"`` one noise for all.
"""

from __future__ import annotations

from typing import Optional, Union

import torch
from torch import Tensor

from .. import _temperature
from . import _autograd, _ops
from ._head import gumbel_softmax_keyed, plackett_luce_log_prob, sample_filtered, sample_keyed, top_k, top_k_keyed
from ._random import AnyGenerator, key

__all__ = [
    "gumbel_softmax",
    "gumbel_softmax_keyed",
    "plackett_luce_log_prob",
    "relaxed_bernoulli",
    "sample_filtered",
    "sample_keyed",
    "top_k",
    "top_k_keyed",
]

Temperature = Union[float, Tensor]


def _inputs(logits: Tensor, tau: Temperature, bernoulli: bool = False) -> tuple[Tensor, Tensor]:
    """The logits in the dtype of the computation and the temperature as a
    tensor: ``logits`` itself unless a tensor ``tau`` promotes it, as
    ``(logits + g) / tau`` would in PyTorch."""
    if not isinstance(logits, Tensor):
        raise TypeError(f"logits must be a torch.Tensor, got {type(logits).__name__}")
    if logits.device.type not in ("cpu", "meta"):
        raise ValueError(f"logits are on {logits.device}: gumbel.torch runs on CPU (and meta) tensors only")
    if not logits.is_floating_point():
        raise TypeError(f"logits have dtype {logits.dtype}: a floating-point tensor is required")
    if isinstance(tau, Tensor):
        if tau.device.type not in ("cpu", "meta"):
            raise ValueError(f"tau is on {tau.device}: gumbel.torch runs on CPU (and meta) tensors only")
        # PyTorch's promotion for ``(logits + g) / tau``: a 0-d tau of a
        # floating dtype does not change the logits' floating dtype.
        dtype = torch.promote_types(logits.dtype, tau.dtype) if tau.dim() else logits.dtype
        c = _ops.check_dtype(dtype, bernoulli)
        return logits.to(dtype), tau.to(c.scalar)
    c = _ops.check_dtype(logits.dtype, bernoulli)
    # A number is converted as the NumPy API converts it (gumbel._temperature):
    # a float32 call runs a finite tau above FLT_MAX as FLT_MAX and refuses,
    # quoting the caller's value, one that float32 would round to zero.
    value = _temperature.float32_scalar(float(tau)) if c.scalar == torch.float32 else float(tau)
    return logits, torch.scalar_tensor(value, dtype=c.scalar, device=logits.device)


def gumbel_softmax(
    logits: Tensor,
    tau: Temperature = 1,
    hard: bool = False,
    eps: float = 1e-10,
    dim: int = -1,
    *,
    generator: AnyGenerator = None,
    seed: Optional[int] = None,
    offset: int = 0,
) -> Tensor:
    """Gumbel-Softmax sample ``softmax((logits + g) / tau)`` along ``dim``
    (Jang et al. 2017, eq. 1), with the signature of
    ``torch.nn.functional.gumbel_softmax``; ``hard=True`` returns the exact
    one-hot of its argmax with the soft sample's (straight-through) gradient.

    Args:
        logits: CPU (or meta) float32, float64, bfloat16 or float16 tensor
            of any shape and strides; ``logits.shape[dim]`` classes; ``-inf``
            masks a class. bfloat16 and float16 run in the library on their
            own storage, computed in float32 with the float32 call's noise:
            the result is the float32 sample rounded once (nearest even);
            temperatures and ``tau.grad`` of such a call are float32.
            A 0-d tensor is one class (the result is 1); an empty tensor
            gives an empty result.
        tau: temperature ``> 0``, finite: a number, a 0-d tensor, or a tensor
            of one temperature per row (broadcastable to ``logits`` with size
            1 along ``dim``: ``(B, 1)`` for logits ``(B, K)``). A tensor may
            require grad; its gradient is the library's ``grad_tau``. A
            float64 per-row ``tau`` promotes float32 logits, as in PyTorch.
        hard: straight-through one-hot output.
        eps: ignored (deprecated in PyTorch too).
        dim: the class dimension.
        generator: ``None`` (the key is drawn from PyTorch's default
            generator), a ``torch.Generator`` (drawn from it) or a
            :class:`gumbel.Generator` (``(seed, offset)`` taken and advanced).
        seed, offset: explicit stream position, to replay a call.

    Returns:
        A contiguous tensor of ``logits``' shape and of its dtype (or the
        promoted one).

    Raises:
        ValueError: a tensor not on CPU or meta, a ``tau`` of another shape.
        TypeError: a non-floating dtype. IndexError:
        ``dim`` out of range. From the library, with its message:
        InvalidTemperatureError, InvalidLogitsError (NaN or ``+inf``),
        AllMaskedError (a row of ``-inf``); InvalidValueError in the
        backward for a non-finite upstream gradient.
    """
    x, t = _inputs(logits, tau)
    k = key(generator, seed, offset, x.shape, dim)
    return _autograd.gumbel_softmax(x, t, bool(hard), int(dim), k)


def relaxed_bernoulli(
    logits: Tensor,
    tau: Temperature = 1,
    hard: bool = False,
    *,
    generator: AnyGenerator = None,
    seed: Optional[int] = None,
    offset: int = 0,
) -> Tensor:
    """Relaxed Bernoulli (binary Concrete) sample ``sigmoid((logits + L) / tau)``,
    ``L`` logistic, elementwise (Maddison et al. 2017, eq. 10), differentiable
    (``rsample`` of ``torch.distributions.RelaxedBernoulli`` with
    ``logits=logits``); ``hard=True`` gives ``logits + L > 0`` as 0/1 with the
    soft sample's gradient.

    ``tau`` is a number or a one-element tensor (which may require grad);
    the library has no per-element temperature. Arguments, randomness and
    errors otherwise as :func:`gumbel_softmax` (elementwise: the
    ``logits.numel()`` draws form one row); logits must be finite and
    float32 or float64 (TypeError for bfloat16 and float16: the library has
    no half-precision relaxed Bernoulli).
    """
    x, t = _inputs(logits, tau, bernoulli=True)
    if t.dim() and t.numel() == 1 and t.dim() <= x.dim():
        t = t.reshape(())
    k = key(generator, seed, offset, x.shape, None)
    return _autograd.relaxed_bernoulli(x, t, bool(hard), k)
