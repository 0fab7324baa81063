"""The sampling head in ``gumbel.torch``: keyed rows, Gumbel-top-k and its
Plackett-Luce log-probability, filtered sampling, on CPU (and meta) float32/float64 tensors,
built from the registered operators of ``_head_ops`` (so they work under
``torch.compile(fullgraph=True)``, ``torch.export`` and fake tensors).

Keys: ``seeds`` and ``offsets`` give one ``(seed, offset)`` per row (the
logits' shape without the last, class, dimension), either as integer
tensors (an int64 tensor holds the bits of uint64 keys: ``-1`` is
``2**64 - 1``; a tensor keeps a compiled graph's keys run-time inputs) or
as Python integers / sequences in ``[0, 2**64)``; both broadcast to the
rows. Row ``r`` draws exactly the one-row call's sample with that key,
whatever the other rows (batch invariance). Keying a request: one seed for
its lifetime, ``offset = start + step * gumbel.streams(1, classes)`` at
decoding step ``step``.

The keyed soft sample is differentiable as :func:`gumbel.torch.gumbel_softmax`
is (the library's backward and ``grad_tau``; the hard sample has the soft
one's straight-through gradient, replayed from the saved logits and keys);
the Plackett-Luce log-probability in the logits (torch operations on the
saved logits and indices, so differentiable again).
"""

from __future__ import annotations

from typing import Any, Optional, Sequence, Union

import numpy as np
import torch
from torch import Tensor

from .. import _head as numpy_head
from .. import _temperature
from . import _autograd, _head_ops
from ._random import AnyGenerator, key

__all__ = ["sample_keyed", "gumbel_softmax_keyed", "top_k", "top_k_keyed", "plackett_luce_log_prob", "sample_filtered"]

Keys = Union[int, Sequence[int], Tensor]


def _logits(logits: Any) -> Tensor:
    if not isinstance(logits, Tensor):
        raise TypeError(f"logits must be a torch.Tensor, got {type(logits).__name__}")
    if logits.device.type not in ("cpu", "meta"):
        raise ValueError(f"logits are on {logits.device}: gumbel.torch runs on CPU (and meta) tensors only")
    _head_ops.check_head_dtype(logits.dtype)
    return logits


def keys(values: Keys, name: str, rows: Sequence[int], device: torch.device) -> Tensor:
    """``values`` as the contiguous int64 tensor of shape ``rows`` that the
    keyed operators take (the bits of uint64 keys)."""
    if isinstance(values, Tensor):
        if values.dtype.is_floating_point or values.dtype.is_complex or values.dtype == torch.bool:
            raise TypeError(f"{name} must hold integers, got dtype {values.dtype}")
        t = values.to(device=device, dtype=torch.int64)
    else:
        t = torch.tensor(numpy_head.keys(values, name, tuple(rows)).view(np.int64), device=device)
    try:
        return t.expand(tuple(rows)).contiguous()
    except RuntimeError:
        raise ValueError(f"{name} of shape {tuple(t.shape)} does not broadcast to the rows' shape {tuple(rows)}") from None


def _key_pair(logits: Tensor, seeds: Keys, offsets: Keys) -> tuple[Tensor, Tensor]:
    if logits.dim() == 0:
        raise ValueError("logits of a keyed call need a class dimension (the last one); got a 0-d tensor")
    rows = logits.shape[:-1]
    return keys(seeds, "seeds", rows, logits.device), keys(offsets, "offsets", rows, logits.device)


def sample_keyed(logits: Tensor, seeds: Keys, offsets: Keys) -> Tensor:
    """Gumbel-max sample ``argmax_k (logits[r, k] + g_k)`` per row with one
    key per row: row ``r`` is exactly the one-row sample with key
    ``(seeds[r], offsets[r])``, whatever the batch (``torch.ops.gumbel.sample_keyed``).

    Args:
        logits: CPU (or meta) float32/float64 tensor ``(..., classes)``;
            ``-inf`` masks a class.
        seeds, offsets: the keys (see the module's notes), broadcast to
            ``logits.shape[:-1]``.

    Returns:
        int64 indices of shape ``logits.shape[:-1]``.

    Raises:
        TypeError: another dtype. ValueError: keys that do not broadcast.
        From the library: InvalidShapeError (zero classes), InvalidLogitsError
        (NaN or ``+inf``), AllMaskedError (a row of ``-inf``).
    """
    x = _logits(logits)
    s, o = _key_pair(x, seeds, offsets)
    return torch.ops.gumbel.sample_keyed(x, s, o)


# -- the keyed soft sample and its derivatives ----------------------------------


def _keyed_setup(ctx: Any, inputs: tuple[Any, ...], output: Tensor) -> None:
    logits, tau, hard, seeds, offsets = inputs
    ctx.hard = hard
    if hard:
        _autograd._save(ctx, logits, tau, seeds, offsets)  # the soft sample is replayed, not stored
    else:
        _autograd._save(ctx, output, tau)


def _keyed_soft(ctx: Any) -> tuple[Tensor, Tensor]:
    if ctx.hard:
        logits, tau, seeds, offsets = ctx.saved_tensors
        return _gumbel_softmax_keyed(logits, tau, False, seeds, offsets), tau
    y, tau = ctx.saved_tensors
    return y, tau


def _keyed_backward(ctx: Any, grad: Tensor) -> tuple[Any, ...]:
    y, tau = _keyed_soft(ctx)
    g_logits = _autograd.gumbel_softmax_backward(y, grad, tau, -1) if ctx.needs_input_grad[0] else None
    g_tau = _autograd.gumbel_softmax_grad_tau(y, grad, tau, -1) if ctx.needs_input_grad[1] else None
    return g_logits, g_tau, None, None, None


def _keyed_jvp(ctx: Any, d_logits: Optional[Tensor], d_tau: Optional[Tensor], *_: Any) -> Tensor:
    y, tau = _keyed_soft(ctx)
    return _autograd._add(
        None if d_logits is None else _autograd.gumbel_softmax_backward(y, d_logits, tau, -1),
        None if d_tau is None else -_autograd.gumbel_softmax_backward(y, _autograd._log0(y), tau, -1) * d_tau,
    )


_gumbel_softmax_keyed = _autograd._differentiable(
    "gumbel_softmax_keyed", _keyed_setup, _keyed_backward, _keyed_jvp, ops=_head_ops
)


def gumbel_softmax_keyed(
    logits: Tensor, seeds: Keys, offsets: Keys, tau: Union[float, Tensor] = 1, hard: bool = False
) -> Tensor:
    """Gumbel-Softmax sample ``softmax((logits[r] + g) / tau)`` per row with
    one key per row (Jang et al. 2017, eq. 1): row ``r`` is exactly the
    one-row :func:`gumbel.torch.gumbel_softmax` with ``seed=seeds[r],
    offset=offsets[r]``, whatever the batch; ``hard`` gives the one-hot of
    :func:`sample_keyed`'s index with the soft sample's gradient.

    Args:
        logits: CPU (or meta) float32/float64 tensor ``(..., classes)``; may
            require grad.
        seeds, offsets: the keys, broadcast to ``logits.shape[:-1]``.
        tau: one temperature ``> 0``, finite: a number or a one-element
            tensor (which may require grad).
        hard: straight-through one-hot output.

    Returns:
        A contiguous tensor of ``logits``' shape and dtype.

    Raises:
        As :func:`sample_keyed`; InvalidTemperatureError for a bad ``tau``,
        ValueError for a ``tau`` of more than one element.
    """
    x = _logits(logits)
    s, o = _key_pair(x, seeds, offsets)
    if isinstance(tau, Tensor):
        if tau.numel() != 1:
            raise ValueError(f"tau of shape {tuple(tau.shape)}: a keyed call takes one temperature")
        t = tau.reshape(()).to(x.dtype)
    else:
        value = _temperature.float32_scalar(float(tau)) if x.dtype == torch.float32 else float(tau)
        t = torch.scalar_tensor(value, dtype=x.dtype, device=x.device)
    return _gumbel_softmax_keyed(x, t, bool(hard), s, o)


# -- Gumbel-top-k -------------------------------------------------------------------


def _k(k: Any) -> int:
    if isinstance(k, bool) or not isinstance(k, int):
        raise TypeError(f"k must be an integer, got {type(k).__name__}")
    return k


def top_k(
    logits: Tensor,
    k: int,
    dim: int = -1,
    *,
    generator: AnyGenerator = None,
    seed: Optional[int] = None,
    offset: int = 0,
) -> Tensor:
    """Gumbel-top-k (Kool et al. 2019, sec. 2): the ``k`` classes of largest
    ``logits + g`` along ``dim`` in decreasing order, an exact ordered sample
    without replacement; ``g`` is the noise :func:`gumbel.torch.gumbel_softmax`
    uses with the same key, so rank 0 is its hard sample's class
    (``torch.ops.gumbel.top_k``).

    Args:
        logits: CPU (or meta) float32/float64 tensor; ``-inf`` masks a class.
        k: ``0 <= k <= classes``, and at most the unmasked classes of every row.
        dim: the class dimension.
        generator, seed, offset: the key, as :func:`gumbel.torch.gumbel_softmax`.

    Returns:
        int64 indices of the logits' shape without ``dim`` plus a last
        dimension of ``k`` ranks.

    Raises:
        TypeError: another dtype or a non-integer ``k``. ValueError: ``k < 0``.
        From the library: InvalidParameterError (``k > classes`` or a row
        with fewer unmasked classes), InvalidLogitsError, AllMaskedError.
    """
    x = _logits(logits)
    return torch.ops.gumbel.top_k(x, _k(k), int(dim), key(generator, seed, offset, x.shape, dim))


def top_k_keyed(logits: Tensor, k: int, seeds: Keys, offsets: Keys) -> Tensor:
    """Gumbel-top-k per row with one key per row: row ``r`` is exactly the
    one-row :func:`top_k` with key ``(seeds[r], offsets[r])``; rank 0 is
    :func:`sample_keyed`'s index (``torch.ops.gumbel.top_k_keyed``).

    Returns:
        int64 indices of shape ``logits.shape[:-1] + (k,)``.

    Raises:
        As :func:`top_k` and :func:`sample_keyed`.
    """
    x = _logits(logits)
    s, o = _key_pair(x, seeds, offsets)
    return torch.ops.gumbel.top_k_keyed(x, _k(k), s, o)


# -- the Plackett-Luce log-probability and its derivatives -----------------------


def _pl_grad(logits: Tensor, indices: Tensor, dim: int) -> Tensor:
    """``d log PL / d logits`` per row, of the logits' shape: with ``Z_i`` the
    mass left before rank ``i``, ``[c chosen] - exp(l_c) sum_{i <= rank(c)}
    1 / Z_i`` (``i`` up to ``k`` for a class not chosen). ``Z_i`` is the mass
    of the classes never chosen plus a suffix sum of the chosen ones: sums
    of positive terms, in log space, without cancellation."""
    if logits.dim() == 0 or indices.shape[-1] == 0:
        return torch.zeros_like(logits)
    x = logits.movedim(dim, -1)
    chosen = torch.zeros(x.shape, dtype=torch.bool, device=x.device).scatter(-1, indices, True)
    picked = x.gather(-1, indices)
    rest = torch.logsumexp(x.masked_fill(chosen, -torch.inf), -1, keepdim=True)
    log_z = torch.logaddexp(picked.flip(-1).logcumsumexp(-1).flip(-1), rest)
    acc = (-log_z).logcumsumexp(-1)  # log sum_{j <= i} 1 / Z_j
    full = acc[..., -1:].expand(x.shape).scatter(-1, indices, acc)
    return (chosen.to(x.dtype) - torch.exp(x + full)).movedim(-1, dim)


def _pl_setup(ctx: Any, inputs: tuple[Any, ...], output: Tensor) -> None:
    logits, indices, dim = inputs
    ctx.dim = dim
    _autograd._save(ctx, logits, indices)


def _pl_backward(ctx: Any, grad: Tensor) -> tuple[Any, None, None]:
    logits, indices = ctx.saved_tensors
    if not ctx.needs_input_grad[0]:
        return None, None, None
    g = grad.unsqueeze(ctx.dim) if logits.dim() else grad
    return g * _pl_grad(logits, indices, ctx.dim), None, None


def _pl_jvp(ctx: Any, d_logits: Tensor, *_: Any) -> Tensor:
    logits, indices = ctx.saved_tensors
    t = _pl_grad(logits, indices, ctx.dim) * d_logits
    return t.sum(ctx.dim) if logits.dim() else t


_plackett_luce_log_prob = _autograd._differentiable(
    "plackett_luce_log_prob", _pl_setup, _pl_backward, _pl_jvp, ops=_head_ops
)


def plackett_luce_log_prob(logits: Tensor, indices: Tensor, dim: int = -1) -> Tensor:
    """Plackett-Luce log-probability of ordered samples without replacement
    (Plackett 1975; Luce 1959; Kool et al. 2019): per row
    ``sum_i [l_{s_i} - log sum_{c not in s_1..s_{i-1}} exp(l_c)]``, the log
    of the probability that :func:`top_k` draws the sequence ``s``
    (``torch.ops.gumbel.plackett_luce_log_prob``). Differentiable in the
    logits (a score-function or learning-to-rank loss): ``d/dl_c = [c
    chosen] - exp(l_c) sum_{i <= rank(c)} 1 / Z_i``, ``Z_i`` the mass left
    before rank ``i``.

    Args:
        logits: CPU (or meta) float32/float64 tensor, classes along ``dim``.
        indices: integer tensor of the logits' shape without ``dim`` plus a
            last dimension of ``k`` ranks, as :func:`top_k` returns.

    Returns:
        A tensor of the logits' dtype and shape without ``dim``.

    Raises:
        ValueError: ``indices`` of another shape. From the library:
        InvalidParameterError (``k > classes``), InvalidValueError (an index
        out of range or repeated), InvalidLogitsError, AllMaskedError.
    """
    x = _logits(logits)
    if not isinstance(indices, Tensor) or indices.dtype.is_floating_point or indices.dtype == torch.bool:
        raise TypeError("indices must be an integer torch.Tensor")
    return _plackett_luce_log_prob(x, indices.to(torch.int64), _head_ops.dim_index(x.dim(), int(dim)))


def _filter(values: Any, name: str, dtype: torch.dtype, rows: Sequence[int], device: torch.device) -> Optional[Tensor]:
    """A filter parameter as a contiguous tensor of the rows' shape (a number
    or tensor broadcast), or None (off)."""
    if values is None:
        return None
    t = values if isinstance(values, Tensor) else torch.as_tensor(values)
    if dtype == torch.int64 and (t.dtype.is_floating_point or t.dtype.is_complex or t.dtype == torch.bool):
        raise TypeError(f"{name} must hold integers, got dtype {t.dtype}")
    try:
        return t.to(device=device, dtype=dtype).expand(tuple(rows)).contiguous()
    except RuntimeError:
        raise ValueError(f"{name} of shape {tuple(t.shape)} does not broadcast to the rows' shape {tuple(rows)}") from None


def sample_filtered(
    logits: Tensor,
    seeds: Keys,
    offsets: Keys,
    *,
    temperature: Any = None,
    top_k: Any = None,
    top_p: Any = None,
    min_p: Any = None,
    log_probs: bool = True,
) -> tuple[Tensor, Optional[Tensor], Optional[Tensor]]:
    """Filtered sampling in one call (``torch.ops.gumbel.sample_filtered``):
    temperature, then top-k and min-p, then top-p on the renormalised
    survivors, then an exact Gumbel-max draw from the renormalised truncated
    softmax, keyed per row as :func:`sample_keyed`. Parameters, results and
    errors as :func:`gumbel.sample_filtered`; each parameter is ``None``
    (off), a number or a tensor broadcastable to ``logits.shape[:-1]``.

    Returns:
        ``(indices, log_probs, processed_log_probs)`` of shape
        ``logits.shape[:-1]`` (int64, then the logits' dtype; None with
        ``log_probs=False``, which skips their two passes over the logits);
        not differentiable.
    """
    x = _logits(logits)
    s, o = _key_pair(x, seeds, offsets)
    rows, dev = x.shape[:-1], x.device
    idx, lp, plp = torch.ops.gumbel.sample_filtered(
        x,
        _filter(temperature, "temperature", x.dtype, rows, dev),
        _filter(top_k, "top_k", torch.int64, rows, dev),
        _filter(top_p, "top_p", x.dtype, rows, dev),
        _filter(min_p, "min_p", x.dtype, rows, dev),
        s,
        o,
        bool(log_probs),
    )
    return (idx, lp, plp) if log_probs else (idx, None, None)
