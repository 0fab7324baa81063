"""Drop-in subclasses of ``torch.distributions``' relaxed (Concrete)
distributions and of its Gumbel distribution whose ``rsample`` and
``log_prob`` run the library.

- :class:`ExpRelaxedCategorical`: ``rsample`` is the library's log-space
  Gumbel-Softmax sample ``log_softmax((logits + g) / tau)`` (exact where the
  soft sample underflows), ``log_prob`` its ExpConcrete log-density
  (Maddison et al. 2017, appendix on the ExpConcrete), both with gradients
  in the logits (or probs) and the temperature, and ``log_prob`` also in
  the value.
- :class:`RelaxedOneHotCategorical`: PyTorch's ``exp`` transform of the
  class above (so ``rsample = exp(ExpRelaxedCategorical.rsample())`` and
  ``log_prob(y) = ExpRelaxedCategorical.log_prob(log y) - sum log y``).
- :class:`LogitRelaxedBernoulli`: ``rsample`` is the library's
  ``(logits + L) / tau`` (``L`` the logistic noise of its relaxed Bernoulli),
  ``log_prob`` the library's logistic log-density, with gradients.
- :class:`RelaxedBernoulli`: PyTorch's sigmoid transform of the class above.
- :class:`Gumbel`: ``rsample = loc + scale * g`` with the library's Gumbel
  noise ``g``; ``log_prob`` the library's log-density of the standardised
  value, minus ``log scale``.

Everything else (constructors, ``batch_shape``/``event_shape``,
``expand``, ``sample``, ``mean``, ``entropy``, ``cdf``..., argument
validation and its ``ValueError``) is PyTorch's own, inherited.

Temperatures: a number or a tensor; a tensor temperature may require grad
(it gets gradients from ``rsample`` and ``log_prob``). For the categorical
classes it is one per row: 0-d, or a shape broadcastable to the batch with
size 1 in the last (event) dimension, e.g. ``(B, 1)`` for logits
``(B, K)``; a temperature per class (PyTorch broadcasts it against the
classes) raises ``ValueError``. For the Bernoulli classes it broadcasts with
the logits, one per element. Temperatures must be finite and positive
(``gumbel.InvalidTemperatureError``, a ``ValueError``, at the first
``rsample``/``log_prob``; PyTorch does not check them).

Values outside the support with ``validate_args=False`` (PyTorch's own
tests differentiate ``log_prob`` there): the ExpConcrete log-density is
invariant to adding a constant to the value, so :class:`ExpRelaxedCategorical`
evaluates a finite real vector at its projection ``x - logsumexp(x)`` on the
log-simplex, the very value (and gradient) of PyTorch's formula;
:class:`LogitRelaxedBernoulli` takes any finite value (its support is the
real line). :class:`RelaxedOneHotCategorical` and :class:`RelaxedBernoulli`
inherit the transforms' handling (PyTorch clamps ``y`` into ``(0, 1)``
before the logit). A NaN or infinite value raises
``gumbel.InvalidValueError`` (a ``ValueError``) where PyTorch returns NaN or
infinity.

Dtypes: float32 and float64 on CPU. Randomness: each ``rsample`` draws its
key from PyTorch's default generator (``torch.manual_seed`` replays; a
compiled graph draws a fresh key per call), as ``gumbel.torch`` does.
"""

from __future__ import annotations

from typing import Any, Union

import torch
import torch.distributions as td
from torch import Tensor
from torch.distributions.relaxed_bernoulli import LogitRelaxedBernoulli as _LogitRelaxedBernoulli
from torch.distributions.relaxed_categorical import ExpRelaxedCategorical as _ExpRelaxedCategorical
from torch.distributions.transforms import ExpTransform, SigmoidTransform
from torch.distributions.utils import broadcast_all

from . import _dist_ops, _random

__all__ = [
    "ExpRelaxedCategorical",
    "RelaxedOneHotCategorical",
    "LogitRelaxedBernoulli",
    "RelaxedBernoulli",
    "Gumbel",
]

_Shape = Union[torch.Size, tuple[int, ...], list[int]]


def _tau(temperature: Any, like: Tensor) -> Tensor:
    """The temperature as a tensor of ``like``'s dtype (keeping its graph)."""
    if isinstance(temperature, Tensor):
        return temperature.to(like.dtype)
    return torch.tensor(float(temperature), dtype=like.dtype)


class ExpRelaxedCategorical(_ExpRelaxedCategorical):
    """``torch.distributions.ExpRelaxedCategorical`` whose ``rsample`` and
    ``log_prob`` run the library (see the module docs)."""

    def rsample(self, sample_shape: _Shape = torch.Size()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        logits = self.logits.expand(shape)
        key = _random.key(None, None, 0, shape, -1)
        return _dist_ops.log_softmax(logits, _tau(self.temperature, logits), -1, key)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        # The density is invariant to a constant added to a row of the value:
        # evaluate it on the log-simplex, where the library takes it.
        x = value - value.logsumexp(-1, keepdim=True)
        return _dist_ops.exp_concrete_log_prob(x, logits, _tau(self.temperature, logits), -1)


class RelaxedOneHotCategorical(td.RelaxedOneHotCategorical):
    """``torch.distributions.RelaxedOneHotCategorical`` over this module's
    :class:`ExpRelaxedCategorical` (see the module docs)."""

    def __init__(self, temperature: Any, probs: Any = None, logits: Any = None, validate_args: Any = None) -> None:
        base = ExpRelaxedCategorical(temperature, probs, logits, validate_args=validate_args)
        td.TransformedDistribution.__init__(self, base, ExpTransform(), validate_args=validate_args)

    def expand(self, batch_shape: _Shape, _instance: Any = None) -> "RelaxedOneHotCategorical":
        new = self._get_checked_instance(RelaxedOneHotCategorical, _instance)
        return super().expand(batch_shape, _instance=new)


class LogitRelaxedBernoulli(_LogitRelaxedBernoulli):
    """``torch.distributions.LogitRelaxedBernoulli`` whose ``rsample`` and
    ``log_prob`` run the library (see the module docs)."""

    def rsample(self, sample_shape: _Shape = torch.Size()) -> Tensor:
        tau = _tau(self.temperature, self.logits)
        # PyTorch broadcasts the temperature with the sample (it is not part
        # of the batch shape), so the sample may be larger than the batch.
        shape = torch.broadcast_shapes(self._extended_shape(sample_shape), tau.shape)
        logits, tau = self.logits.expand(shape), tau.expand(shape)
        key = _random.key(None, None, 0, shape, None)
        return _dist_ops.logit_relaxed_bernoulli(logits, tau, key)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        value, logits, tau = torch.broadcast_tensors(value, logits, _tau(self.temperature, logits))
        return _dist_ops.logit_relaxed_bernoulli_log_prob(value, logits, tau)


class RelaxedBernoulli(td.RelaxedBernoulli):
    """``torch.distributions.RelaxedBernoulli`` over this module's
    :class:`LogitRelaxedBernoulli` (see the module docs)."""

    def __init__(self, temperature: Any, probs: Any = None, logits: Any = None, validate_args: Any = None) -> None:
        base = LogitRelaxedBernoulli(temperature, probs, logits, validate_args=validate_args)
        td.TransformedDistribution.__init__(self, base, SigmoidTransform(), validate_args=validate_args)

    def expand(self, batch_shape: _Shape, _instance: Any = None) -> "RelaxedBernoulli":
        new = self._get_checked_instance(RelaxedBernoulli, _instance)
        return super().expand(batch_shape, _instance=new)


class Gumbel(td.Gumbel):
    """``torch.distributions.Gumbel`` whose ``rsample`` and ``log_prob`` run
    the library (see the module docs)."""

    def rsample(self, sample_shape: _Shape = torch.Size()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        loc, scale = self.loc.expand(shape), self.scale.expand(shape)
        key = _random.key(None, None, 0, shape, None)
        return loc + scale * _dist_ops.standard_gumbel(loc.detach(), key)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        loc, scale, value = broadcast_all(self.loc, self.scale, value)
        return _dist_ops.gumbel_log_pdf((value - loc) / scale) - scale.log()
