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
sample from them instead of storing it. ``estimator=`` picks another
gradient estimator for the hard sample (ReinMax, Gumbel-Rao, gapped
straight-through) and ``tau_backward=`` a backward temperature of its own
(decoupled straight-through): see :func:`gumbel_softmax`.

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
from .._estimators import check_estimator
from .._generator import Generator, streams
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
    estimator: str = "st",
    tau_backward: Optional[Temperature] = None,
    draws: int = 10,
    gap: float = 1.0,
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
        estimator: the gradient of the hard sample (``hard=True``; a soft
            sample has its exact gradient, and any other value with
            ``hard=False`` is a ValueError), each a ``dL/dlogits`` computed
            by the library from the logits, the sampled class ``d`` and
            ``v = dL/dy``, with ``J(p)^T v = p * (v - <v, p>)``:

            - ``"st"``: straight-through Gumbel-Softmax (Jang et al. 2017),
              ``J(y)^T v / tau``, ``y`` the soft sample of the same noise.
            - ``"reinmax"``: ReinMax (Liu et al. 2023, Algorithm 2),
              ``2 J(pi_1)^T v - J(pi_0)^T v / 2`` with ``pi_0 =
              softmax(logits)``, ``pi_1 = (softmax(logits / tau) +
              onehot(d)) / 2``; the authors recommend ``tau >= 1``.
            - ``"gumbel_rao"``: Gumbel-Rao (Paulus et al. 2021, eq. 8), the
              straight-through gradient averaged over ``draws`` draws of
              the noise conditioned on the sampled class: the same
              expectation as ``"st"``, a lower variance.
            - ``"gapped_st"``: gapped straight-through (Fan et al. 2022,
              section 4), ``J(y)^T v / tau`` at the deterministic ``y =
              softmax(z / tau)``, ``z_d = max logits`` and ``z_k =
              min(logits_k, max logits - gap)`` for ``k != d``.

            The forward output is the same for every estimator: the
            one-hot of ``argmax(logits + g)`` for the key, which no
            temperature changes, so for the estimators other than ``"st"``
            ``tau`` is only the backward's temperature. Every dtype above
            works; with bfloat16 or float16 logits the gradient of an
            estimator other than plain ``"st"`` is the float32 estimator's
            on the logits and ``dL/dy`` widened to float32, rounded once
            (nearest even). Except for plain
            ``"st"`` (without ``tau_backward``): ``tau`` a number or a 0-d
            tensor that does not require grad (the estimators define no
            temperature gradient), and no double backward.
        tau_backward: with ``estimator="st"``, decoupled straight-through
            (Shah et al. 2024): the backward's soft sample is taken at this
            temperature (``> 0``, a number or a 0-d tensor) instead of
            ``tau``. Only with ``"st"`` and ``hard=True``.
        draws: ``"gumbel_rao"``'s number ``m >= 1`` of conditional draws
            (an integer; the variance falls as ``1/m``, the cost grows as
            ``m`` softmax backwards). Its draws use ``draws *
            gumbel.streams(rows, classes)`` stream ids after the forward's:
            a :class:`gumbel.Generator` is advanced past them, and a
            replayed ``seed``/``offset`` must leave them free.
        gap: ``"gapped_st"``'s margin, in logit units, finite and ``>= 0``
            (the paper's 1.0 by default).

    Returns:
        A contiguous tensor of ``logits``' shape and of its dtype (or the
        promoted one).

    Raises:
        ValueError: a tensor not on CPU or meta, a ``tau`` of another shape;
        an unknown ``estimator``, ``draws < 1``, a bad ``gap``, an
        estimator or ``tau_backward`` with ``hard=False``, ``tau_backward``
        with another estimator, a ``tau`` that requires grad with an
        estimator. TypeError: a non-floating dtype. IndexError: ``dim`` out of range. From the
        library, with its message: InvalidTemperatureError,
        InvalidLogitsError (NaN or ``+inf``), AllMaskedError (a row of
        ``-inf``); InvalidValueError in the backward for a non-finite
        upstream gradient.
    """
    check_estimator(estimator, draws, gap)
    if estimator == "st" and tau_backward is None:
        x, t = _inputs(logits, tau)
        k = key(generator, seed, offset, x.shape, dim)
        return _autograd.gumbel_softmax(x, t, bool(hard), int(dim), k)
    what = f"estimator={estimator!r}" if tau_backward is None else "tau_backward"
    if not hard:
        raise ValueError(f"{what} is a gradient estimator of the hard sample: pass hard=True (a soft sample has its exact gradient)")
    if estimator != "st" and tau_backward is not None:
        raise ValueError(
            f"tau_backward is the backward temperature of estimator='st' (decoupled straight-through); "
            f"estimator={estimator!r} uses tau in its backward only"
        )
    for name, value in (("tau", tau), ("tau_backward", tau_backward)):
        if isinstance(value, Tensor) and value.requires_grad:
            raise ValueError(f"{name} requires grad, but {what} gives no temperature gradient")
    x, t = _inputs(logits, tau)
    tb = t if tau_backward is None else _inputs(x, tau_backward)[1]
    k = key(generator, seed, offset, x.shape, dim)
    if estimator == "gumbel_rao" and isinstance(generator, Generator):
        outer, classes, inner, _ = _ops.split(x.shape, dim)
        generator.advance(draws * streams(outer, classes, inner))
    return _autograd.gumbel_softmax_hard(x, t, tb, int(dim), k, estimator, int(draws), float(gap))


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
