"""The sampling head's kernels as PyTorch operators, namespace ``gumbel``
(registered as those of ``_ops``: one C call each on CPU tensors, a fake
implementation giving shapes and dtypes, a vmap rule running the operator
per batch element). The C ABI of the head takes float32 and float64 logits.

Operators (``torch.ops.gumbel.*``); "rows" is the logits' shape without its
last dimension (the classes) for the keyed ones:

- ``sample_keyed(logits, seeds, offsets) -> indices``: Gumbel-max per row
  with one key per row (``gumbel_sample_keyed_*``); int64 of the rows' shape.
- ``gumbel_softmax_keyed(logits, tau, hard, seeds, offsets) -> y``:
  ``softmax((logits + g) / tau)`` per row with one key per row, or with
  ``hard`` its one-hot (``gumbel_softmax_keyed_*``); ``tau`` 0-d of the
  logits' dtype. Its derivatives (in ``_head``) are the soft sample's.
- ``top_k(logits, k, dim, key) -> indices``: Gumbel-top-k along ``dim``
  (``gumbel_top_k_*``); int64 of the logits' shape without ``dim`` plus a
  last dimension of ``k`` ranks.
- ``top_k_keyed(logits, k, seeds, offsets) -> indices``: the same with one
  key per row (``gumbel_top_k_keyed_*``); int64 ``rows + (k,)``.
- ``plackett_luce_log_prob(logits, indices, dim) -> log_prob``: the
  Plackett-Luce log-probability of ordered samples laid out as ``top_k``
  returns them (``gumbel_plackett_luce_log_prob_*``); its derivative in
  the logits is registered in ``_head``.
- ``sample_filtered(logits, temperatures, top_k, top_p, min_p, seeds,
  offsets, log_probs) -> (indices, log_probs, processed_log_probs)``:
  temperature, top-k, min-p and top-p filters, then a keyed Gumbel-max draw
  per row (``gumbel_sample_filtered_*``); each filter parameter is None
  (off) or a tensor of the rows' shape (int64 for ``top_k``, the logits'
  dtype else); with ``log_probs`` False the log-probabilities are not
  computed and come back as empty tensors of shape ``(0,)``.

``seeds`` and ``offsets`` are int64 tensors of the rows' shape holding the
bits of uint64 keys (as ``key`` does, see ``_ops``); ``key`` is the
``(seed, offset)`` tensor of ``_ops``.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

import torch
from torch import Tensor

from .._errors import check
from .._native import ffi
from ._ops import _check_key, _empty, _fn, _key, _operator, _ptr, _vmap_by_element, dim_index, split

__all__ = [
    "HEAD_DTYPES",
    "check_head_dtype",
    "sample_keyed",
    "gumbel_softmax_keyed",
    "top_k",
    "top_k_keyed",
    "plackett_luce_log_prob",
    "sample_filtered",
]

# The logits' dtypes the head's C functions take.
HEAD_DTYPES = (torch.float32, torch.float64)


def check_head_dtype(dtype: torch.dtype) -> None:
    """TypeError unless the head's C functions take ``dtype`` logits."""
    if dtype not in HEAD_DTYPES:
        raise TypeError(f"dtype {dtype}: the sampling head of gumbel.torch supports float32 and float64 logits")


def _i64(t: Tensor) -> Any:
    return ffi.cast("int64_t *", t.data_ptr())


def _u64(t: Tensor) -> Any:
    return ffi.cast("uint64_t *", t.data_ptr())


def _rows(logits: Tensor) -> tuple[int, ...]:
    """The rows' shape of keyed logits (ValueError for a 0-d tensor)."""
    if logits.dim() == 0:
        raise ValueError("logits of a keyed call need a class dimension (the last one); got a 0-d tensor")
    return tuple(logits.shape[:-1])


def _check_keys(logits: Tensor, seeds: Tensor, offsets: Tensor) -> tuple[int, ...]:
    check_head_dtype(logits.dtype)
    rows = _rows(logits)
    for name, t in (("seeds", seeds), ("offsets", offsets)):
        if t.dtype != torch.int64 or tuple(t.shape) != rows:
            raise ValueError(f"{name} must be an int64 tensor of the rows' shape {rows}, got {t.dtype} {tuple(t.shape)}")
    return rows


def _check_k(k: int) -> None:
    if k < 0:
        raise ValueError(f"k must be >= 0, got {k}")


def _index_out(shape: Sequence[int], like: Tensor) -> Tensor:
    return torch.empty(tuple(shape), dtype=torch.int64, device=like.device)


# -- keyed rows ---------------------------------------------------------------


@_operator("sample_keyed")
def sample_keyed(logits: Tensor, seeds: Tensor, offsets: Tensor) -> Tensor:
    """Gumbel-max sample per row with key ``(seeds[r], offsets[r])``: the
    one-row ``gumbel_sample`` of that row and key, whatever the batch."""
    rows = _check_keys(logits, seeds, offsets)
    idx = _index_out(rows, logits)
    if logits.numel() == 0 and idx.numel() == 0:
        return idx
    x, s, o = logits.contiguous(), seeds.contiguous(), offsets.contiguous()
    n, classes = idx.numel(), x.shape[-1]
    check(_fn("sample_keyed", x.dtype)(_ptr(x), _i64(idx), n, classes, _u64(s), _u64(o)))
    return idx


@sample_keyed.register_fake
def _(logits: Tensor, seeds: Tensor, offsets: Tensor) -> Tensor:
    return _index_out(_check_keys(logits, seeds, offsets), logits)


def _check_tau(logits: Tensor, tau: Tensor) -> None:
    if tau.dim() != 0 or tau.dtype != logits.dtype:
        raise ValueError(
            f"tau must be a 0-d tensor of the logits' dtype {logits.dtype} (a keyed call has one temperature), "
            f"got {tau.dtype} {tuple(tau.shape)}"
        )


@_operator("gumbel_softmax_keyed")
def gumbel_softmax_keyed(logits: Tensor, tau: Tensor, hard: bool, seeds: Tensor, offsets: Tensor) -> Tensor:
    """Soft sample ``softmax((logits[r] + g) / tau)`` per row with key
    ``(seeds[r], offsets[r])`` (the one-row ``gumbel_softmax`` of that row
    and key), or with ``hard`` its one-hot."""
    _check_keys(logits, seeds, offsets)
    _check_tau(logits, tau)
    x = logits.contiguous()
    y = _empty(x)
    if y.numel() == 0:
        return y
    s, o = seeds.contiguous(), offsets.contiguous()
    n = y.numel() // x.shape[-1]
    check(_fn("softmax_keyed", x.dtype)(_ptr(x), _ptr(y), n, x.shape[-1], float(tau), hard, _u64(s), _u64(o)))
    return y


@gumbel_softmax_keyed.register_fake
def _(logits: Tensor, tau: Tensor, hard: bool, seeds: Tensor, offsets: Tensor) -> Tensor:
    _check_keys(logits, seeds, offsets)
    _check_tau(logits, tau)
    return _empty(logits)


# -- Gumbel-top-k ---------------------------------------------------------------


def _top_k_shape(logits: Tensor, k: int, dim: int) -> tuple[int, ...]:
    check_head_dtype(logits.dtype)
    _check_k(k)
    shape = list(logits.shape)
    d = dim_index(len(shape), dim)
    if shape:
        del shape[d]
    return tuple(shape) + (k,)


@_operator("top_k")
def top_k(logits: Tensor, k: int, dim: int, key: Tensor) -> Tensor:
    """Gumbel-top-k along ``dim``: the ``k`` classes of largest ``logits + g``
    in decreasing order (Kool et al. 2019), ``g`` the noise of
    ``gumbel_sample`` at ``key``; int64 of the logits' shape without ``dim``
    plus a last dimension of ``k`` ranks."""
    shape = _top_k_shape(logits, k, dim)
    _check_key(key)
    outer, classes, inner, _ = split(logits.shape, dim)
    idx = _index_out(shape, logits)
    if logits.numel() == 0 and idx.numel() == 0:
        return idx
    x = logits.contiguous()
    seed, offset = _key(key)
    check(_fn("top_k", x.dtype)(_ptr(x), _i64(idx), outer, classes, inner, k, seed, offset))
    return idx


@top_k.register_fake
def _(logits: Tensor, k: int, dim: int, key: Tensor) -> Tensor:
    _check_key(key)
    return _index_out(_top_k_shape(logits, k, dim), logits)


@_operator("top_k_keyed")
def top_k_keyed(logits: Tensor, k: int, seeds: Tensor, offsets: Tensor) -> Tensor:
    """Gumbel-top-k per row with key ``(seeds[r], offsets[r])`` (the one-row
    ``top_k`` of that row and key); int64 ``rows + (k,)``."""
    rows = _check_keys(logits, seeds, offsets)
    _check_k(k)
    idx = _index_out(rows + (k,), logits)
    if logits.numel() == 0 and idx.numel() == 0:
        return idx
    x, s, o = logits.contiguous(), seeds.contiguous(), offsets.contiguous()
    n = seeds.numel()
    check(_fn("top_k_keyed", x.dtype)(_ptr(x), _i64(idx), n, x.shape[-1], k, _u64(s), _u64(o)))
    return idx


@top_k_keyed.register_fake
def _(logits: Tensor, k: int, seeds: Tensor, offsets: Tensor) -> Tensor:
    _check_k(k)
    return _index_out(_check_keys(logits, seeds, offsets) + (k,), logits)


def _pl_rows(logits: Tensor, indices: Tensor, dim: int) -> tuple[int, ...]:
    check_head_dtype(logits.dtype)
    shape = list(logits.shape)
    d = dim_index(len(shape), dim)
    if shape:
        del shape[d]
    rows = tuple(shape)
    if indices.dtype != torch.int64 or indices.dim() != len(rows) + 1 or tuple(indices.shape[:-1]) != rows:
        raise ValueError(
            f"indices must be an int64 tensor of shape {rows} plus a last dimension of k ranks, "
            f"got {indices.dtype} {tuple(indices.shape)}"
        )
    return rows


@_operator("plackett_luce_log_prob")
def plackett_luce_log_prob(logits: Tensor, indices: Tensor, dim: int) -> Tensor:
    """Per row, ``sum_i [l_{s_i} - log sum_{c not in s_1..s_{i-1}} exp(l_c)]``
    for the ranks ``s`` in ``indices`` (as ``top_k`` lays them out), of the
    logits' dtype and shape without ``dim`` (Plackett 1975; Luce 1959)."""
    rows = _pl_rows(logits, indices, dim)
    outer, classes, inner, _ = split(logits.shape, dim)
    out = torch.empty(rows, dtype=logits.dtype, device=logits.device)
    if logits.numel() == 0 and out.numel() == 0:
        return out
    x, idx = logits.contiguous(), indices.contiguous()
    k = indices.shape[-1]
    check(_fn("plackett_luce_log_prob", x.dtype)(_ptr(x), _i64(idx), _ptr(out), outer, classes, inner, k))
    return out


@plackett_luce_log_prob.register_fake
def _(logits: Tensor, indices: Tensor, dim: int) -> Tensor:
    return torch.empty(_pl_rows(logits, indices, dim), dtype=logits.dtype, device=logits.device)


# -- filtered sampling ------------------------------------------------------------


def _check_filters(logits: Tensor, params: Sequence[Optional[Tensor]], seeds: Tensor, offsets: Tensor) -> tuple[int, ...]:
    rows = _check_keys(logits, seeds, offsets)
    for name, t, dtype in zip(("temperatures", "top_k", "top_p", "min_p"), params, (logits.dtype, torch.int64, logits.dtype, logits.dtype)):
        if t is not None and (t.dtype != dtype or tuple(t.shape) != rows):
            raise ValueError(f"{name} must be None or a {dtype} tensor of the rows' shape {rows}, got {t.dtype} {tuple(t.shape)}")
    return rows


def _filtered_out(rows: tuple[int, ...], logits: Tensor, log_probs: bool) -> tuple[Tensor, Tensor, Tensor]:
    lp_shape = rows if log_probs else (0,)
    return (
        _index_out(rows, logits),
        torch.empty(lp_shape, dtype=logits.dtype, device=logits.device),
        torch.empty(lp_shape, dtype=logits.dtype, device=logits.device),
    )


@_operator("sample_filtered")
def sample_filtered(
    logits: Tensor,
    temperatures: Optional[Tensor],
    top_k: Optional[Tensor],
    top_p: Optional[Tensor],
    min_p: Optional[Tensor],
    seeds: Tensor,
    offsets: Tensor,
    log_probs: bool,
) -> tuple[Tensor, Tensor, Tensor]:
    """Filtered sampling per row with key ``(seeds[r], offsets[r])``:
    temperature, top-k and min-p, then top-p, then Gumbel-max; returns the
    indices, their raw ``log_softmax`` and their processed log-probability
    (with ``log_probs`` False, not computed: empty tensors)."""
    params = (temperatures, top_k, top_p, min_p)
    rows = _check_filters(logits, params, seeds, offsets)
    idx, lp, plp = _filtered_out(rows, logits, log_probs)
    if idx.numel() == 0:
        return idx, lp, plp
    x, s, o = logits.contiguous(), seeds.contiguous(), offsets.contiguous()
    given = [None if t is None else t.contiguous() for t in params]  # alive through the call
    c = [ffi.NULL if t is None else (_i64(t) if t.dtype == torch.int64 else _ptr(t)) for t in given]
    fn = _fn("sample_filtered", x.dtype)
    outs = (_ptr(lp), _ptr(plp)) if log_probs else (ffi.NULL, ffi.NULL)
    check(fn(_ptr(x), _i64(idx), *outs, idx.numel(), x.shape[-1], *c, _u64(s), _u64(o)))
    return idx, lp, plp


@sample_filtered.register_fake
def _(
    logits: Tensor,
    temperatures: Optional[Tensor],
    top_k: Optional[Tensor],
    top_p: Optional[Tensor],
    min_p: Optional[Tensor],
    seeds: Tensor,
    offsets: Tensor,
    log_probs: bool,
) -> tuple[Tensor, Tensor, Tensor]:
    return _filtered_out(_check_filters(logits, (temperatures, top_k, top_p, min_p), seeds, offsets), logits, log_probs)


for _op in (sample_keyed, gumbel_softmax_keyed, top_k, top_k_keyed, plackett_luce_log_prob, sample_filtered):
    _op.register_vmap(_vmap_by_element(_op))
