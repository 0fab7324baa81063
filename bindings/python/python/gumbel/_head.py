"""The sampling head for inference engines, NumPy API: keyed rows (one
``(seed, offset)`` key per row, so a request's draw does not depend on the
batch it is in), Gumbel-top-k without replacement with its Plackett-Luce
log-probability, and filtered sampling (temperature, top-k, top-p, min-p).

Keyed calls take ``logits`` of shape ``(..., classes)`` (the class axis is
the last one) and ``seeds``/``offsets``: integers in ``[0, 2**64)``, one per
row, any array broadcastable to ``logits.shape[:-1]`` (a Python int gives
every row the same value). Row ``r`` draws exactly what a one-row call
with ``seed=seeds[r], offset=offsets[r]`` draws. Keying a request: one seed
for its lifetime, and ``offset = start + step * gumbel.streams(1, classes)``
at decoding step ``step``, so that no two steps share noise.

Dtypes: float32 when the logits are float32, float64 otherwise (the C ABI
of the head has no half-precision entries).
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np
from numpy.typing import ArrayLike

from . import _arrays as A
from . import _temperature as T
from ._errors import check
from ._generator import Generator, resolve
from ._native import ffi, lib

__all__ = [
    "sample_keyed",
    "gumbel_softmax_keyed",
    "top_k",
    "top_k_keyed",
    "plackett_luce_log_prob",
    "sample_filtered",
]

_U64 = (1 << 64) - 1


def _fn(name: str, dtype: np.dtype) -> Any:
    return getattr(lib, name + ("_f32" if dtype == np.float32 else "_f64"))


def _logits(logits: ArrayLike) -> tuple[np.ndarray, int, int]:
    """The C-contiguous float32/float64 logits, their row count and class count
    (class axis last)."""
    x = np.asarray(logits)
    x = A.contiguous(x, A.float_dtype(x))
    if x.ndim == 0:
        raise ValueError("a 0-d array has no class axis")
    return x, int(np.prod(x.shape[:-1], dtype=np.int64)), int(x.shape[-1])


def keys(values: ArrayLike, name: str, rows: tuple[int, ...]) -> np.ndarray:
    """``values`` (integers in ``[0, 2**64)``) as a C-contiguous uint64 array
    of shape ``rows``, broadcast; TypeError for non-integers, ValueError for
    values out of range or a shape that does not broadcast."""
    if type(values) is np.ndarray and values.dtype == np.uint64 and values.shape == rows:
        return A.contiguous(values, values.dtype)  # the engine's usual keys, as they are
    if isinstance(values, (np.ndarray, np.generic)):
        a = np.asarray(values)
        if a.dtype.kind == "i":
            if a.size and a.min() < 0:
                raise ValueError(f"{name} must be in [0, 2**64), got {a.min()}")
            a = a.astype(np.uint64)
        elif a.dtype.kind != "u":
            raise TypeError(f"{name} must hold integers, got dtype {a.dtype}")
    else:  # Python ints, which may pass int64
        a = np.asarray(values, dtype=object)
        flat = a.ravel().tolist()
        if any(isinstance(v, bool) or not isinstance(v, (int, np.integer)) for v in flat):
            raise TypeError(f"{name} must hold integers")
        if any(not 0 <= v <= _U64 for v in flat):
            raise ValueError(f"{name} must be in [0, 2**64)")
        a = np.array(flat, dtype=np.uint64).reshape(a.shape)
    try:
        a = np.broadcast_to(a, rows)
    except ValueError:
        raise ValueError(f"{name} of shape {a.shape} does not broadcast to the rows' shape {rows}") from None
    return A.contiguous(a, np.dtype(np.uint64))


def sample_keyed(logits: ArrayLike, seeds: ArrayLike, offsets: ArrayLike, *, out: Optional[np.ndarray] = None) -> np.ndarray:
    """Gumbel-max sample with one key per row (batch invariance):
    ``argmax_k (logits[r, k] + g_k)``, an exact draw from
    ``Categorical(softmax(logits[r]))`` (Gumbel 1954; Maddison et al. 2014),
    equal to ``gumbel.sample(logits[r], seed=seeds[r], offset=offsets[r])``
    whatever the other rows (``gumbel_sample_keyed_*``).

    Args:
        logits: shape ``(..., classes)``, ``classes >= 1``; finite or ``-inf``
            (a mask: never drawn).
        seeds, offsets: integers in ``[0, 2**64)`` broadcastable to
            ``logits.shape[:-1]``.
        out: optional C-contiguous int64 output of shape ``logits.shape[:-1]``.

    Returns:
        int64 class indices of shape ``logits.shape[:-1]``.

    Raises:
        InvalidShapeError: zero classes. InvalidLogitsError: a NaN or
        ``+inf`` logit. AllMaskedError: a row of ``-inf``. TypeError/
        ValueError: bad keys or ``out``.
    """
    x, rows, classes = _logits(logits)
    shape = x.shape[:-1]
    s, o = keys(seeds, "seeds", shape), keys(offsets, "offsets", shape)
    idx = A.output(out, shape, np.dtype(np.int64))
    check(_fn("gumbel_sample_keyed", x.dtype)(A.pointer(x), A.pointer(idx), rows, classes, A.pointer(s), A.pointer(o)))
    return idx


def gumbel_softmax_keyed(
    logits: ArrayLike,
    seeds: ArrayLike,
    offsets: ArrayLike,
    tau: float = 1.0,
    hard: bool = False,
    *,
    out: Optional[np.ndarray] = None,
) -> np.ndarray:
    """Gumbel-Softmax sample ``softmax((logits[r] + g) / tau)`` with one key
    per row (Jang et al. 2017, eq. 1): row ``r`` equals
    ``gumbel.gumbel_softmax(logits[r], tau, hard, seed=seeds[r],
    offset=offsets[r])`` whatever the other rows (``gumbel_softmax_keyed_*``);
    with ``hard`` the one-hot of :func:`sample_keyed`'s index. Its gradient
    is :func:`gumbel.gumbel_softmax_backward` on the soft rows.

    Args:
        logits: shape ``(..., classes)``, as :func:`sample_keyed`.
        seeds, offsets: as :func:`sample_keyed`.
        tau: one temperature ``> 0``, finite (converted as
            :func:`gumbel.gumbel_softmax` converts a scalar).
        out: optional C-contiguous output of ``logits``' shape and dtype.

    Returns:
        An array of ``logits``' shape: rows on the simplex (or one-hot).

    Raises:
        As :func:`sample_keyed`, and InvalidTemperatureError for a bad ``tau``.
    """
    x, rows, classes = _logits(logits)
    shape = x.shape[:-1]
    s, o = keys(seeds, "seeds", shape), keys(offsets, "offsets", shape)
    y = A.output(out, x.shape, x.dtype)
    t = T.scalar(tau, x.dtype)
    fn = _fn("gumbel_softmax_keyed", x.dtype)
    check(fn(A.pointer(x), A.pointer(y), rows, classes, t, bool(hard), A.pointer(s), A.pointer(o)))
    return y


def _k(k: int) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise TypeError(f"k must be an integer, got {type(k).__name__}")
    if k < 0:
        raise ValueError(f"k must be >= 0, got {k}")
    return int(k)


def top_k(
    logits: ArrayLike,
    k: int,
    axis: int = -1,
    *,
    seed: int | None = None,
    offset: int = 0,
    generator: Generator | None = None,
    out: Optional[np.ndarray] = None,
) -> np.ndarray:
    """Gumbel-top-k (Kool et al. 2019, sec. 2): the ``k`` classes of largest
    perturbed logit ``logits + g`` along ``axis``, in decreasing order, an
    exact ordered sample without replacement from ``softmax(logits)`` (its
    probability is :func:`plackett_luce_log_prob`'s). ``g`` is the noise of
    :func:`gumbel.sample` for the same ``(seed, offset)``, so rank 0 is that
    sample (``gumbel_top_k_*``; one selection pass, no sort of the row).

    Args:
        logits: any shape with its classes along ``axis``; ``-inf`` masks a
            class (never drawn).
        k: ``0 <= k <= classes``, and at most the unmasked classes of every row.
        axis: the class axis.
        seed, offset, generator: the stream position, as in :func:`gumbel.sample`.
        out: optional C-contiguous int64 output of the result's shape.

    Returns:
        int64 indices of shape ``logits.shape`` without ``axis``, plus a last
        axis of ``k`` ranks (rank 0 first).

    Raises:
        InvalidParameterError: ``k > classes``, or a row with fewer than ``k``
        unmasked classes. InvalidShapeError, InvalidLogitsError,
        AllMaskedError as :func:`gumbel.sample`.
    """
    k = _k(k)
    x = np.asarray(logits)
    x = A.contiguous(x, A.float_dtype(x))
    outer, classes, inner, ax = A.split(x.shape, axis)
    idx = A.output(out, A.row_shape(x.shape, ax) + (k,), np.dtype(np.int64))
    s, o = resolve(seed, offset, generator, outer, classes, inner)
    check(_fn("gumbel_top_k", x.dtype)(A.pointer(x), A.pointer(idx), outer, classes, inner, k, s, o))
    return idx


def top_k_keyed(
    logits: ArrayLike, k: int, seeds: ArrayLike, offsets: ArrayLike, *, out: Optional[np.ndarray] = None
) -> np.ndarray:
    """Gumbel-top-k with one key per row (batch invariance): row ``r`` equals
    ``top_k(logits[r], k, seed=seeds[r], offset=offsets[r])`` whatever the
    other rows; rank 0 is :func:`sample_keyed`'s index (``gumbel_top_k_keyed_*``).

    Args:
        logits: shape ``(..., classes)``. k: as :func:`top_k`.
        seeds, offsets: as :func:`sample_keyed`.

    Returns:
        int64 indices of shape ``logits.shape[:-1] + (k,)``.

    Raises:
        As :func:`top_k`, and TypeError/ValueError for bad keys.
    """
    k = _k(k)
    x, rows, classes = _logits(logits)
    shape = x.shape[:-1]
    s, o = keys(seeds, "seeds", shape), keys(offsets, "offsets", shape)
    idx = A.output(out, shape + (k,), np.dtype(np.int64))
    check(_fn("gumbel_top_k_keyed", x.dtype)(A.pointer(x), A.pointer(idx), rows, classes, k, A.pointer(s), A.pointer(o)))
    return idx


def plackett_luce_log_prob(
    logits: ArrayLike, indices: ArrayLike, axis: int = -1, *, out: Optional[np.ndarray] = None
) -> np.ndarray:
    """Plackett-Luce log-probability of ordered samples without replacement
    (Plackett 1975; Luce 1959; Kool et al. 2019, sec. 2): per row,
    ``sum_i [l_{s_i} - log sum_{c not in s_1..s_{i-1}} exp(l_c)]`` for the
    classes ``s_1..s_k`` in ``indices``, the log of the probability that
    :func:`top_k` draws exactly that sequence (``gumbel_plackett_luce_log_prob_*``).

    Args:
        logits: any shape with its classes along ``axis``.
        indices: integers of shape ``logits.shape`` without ``axis``, plus a
            last axis of ``k`` ranks, as :func:`top_k` returns them.
        out: optional C-contiguous output of shape ``logits.shape`` without
            ``axis``, of the logits' dtype.

    Returns:
        The log-probabilities (``-inf`` where a chosen class is masked; 0 for ``k = 0``).

    Raises:
        ValueError: ``indices`` of another shape. InvalidParameterError:
        ``k > classes``. InvalidValueError: an index outside ``[0, classes)``
        or a class repeated in a row. InvalidShapeError, InvalidLogitsError,
        AllMaskedError as :func:`gumbel.sample`.
    """
    x = np.asarray(logits)
    x = A.contiguous(x, A.float_dtype(x))
    outer, classes, inner, ax = A.split(x.shape, axis)
    rows = A.row_shape(x.shape, ax)
    idx = np.asarray(indices)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"indices must hold integers, got dtype {idx.dtype}")
    if idx.ndim != len(rows) + 1 or idx.shape[:-1] != rows:
        raise ValueError(f"indices have shape {idx.shape}, expected {rows} plus a last axis of k ranks")
    k = int(idx.shape[-1])
    idx = A.contiguous(idx, np.dtype(np.int64))
    lp = A.output(out, rows, x.dtype)
    fn = _fn("gumbel_plackett_luce_log_prob", x.dtype)
    check(fn(A.pointer(x), A.pointer(idx), A.pointer(lp), outer, classes, inner, k))
    return lp


def _per_row(values: Optional[ArrayLike], name: str, dtype: np.dtype, rows: tuple[int, ...]) -> Optional[np.ndarray]:
    """A filter parameter as a C-contiguous array of shape ``rows`` (a scalar
    or array broadcast), or None (the filter is off)."""
    if values is None:
        return None
    a = np.asarray(values)
    if dtype == np.int64 and a.dtype.kind not in "iu":
        raise TypeError(f"{name} must hold integers, got dtype {a.dtype}")
    if dtype != np.int64 and a.dtype.kind not in "iuf":
        raise TypeError(f"{name} must hold real numbers, got dtype {a.dtype}")
    if a.ndim == 0:
        return np.full(rows, a, dtype)  # one value for every row
    try:
        a = np.broadcast_to(a, rows)
    except ValueError:
        raise ValueError(f"{name} of shape {a.shape} does not broadcast to the rows' shape {rows}") from None
    return A.contiguous(a, dtype)


def sample_filtered(
    logits: ArrayLike,
    seeds: ArrayLike,
    offsets: ArrayLike,
    *,
    temperature: Optional[ArrayLike] = None,
    top_k: Optional[ArrayLike] = None,
    top_p: Optional[ArrayLike] = None,
    min_p: Optional[ArrayLike] = None,
    log_probs: bool = True,
) -> tuple[np.ndarray, Optional[np.ndarray], Optional[np.ndarray]]:
    """Filtered sampling in one call, as inference engines sample a token:
    temperature, then top-k and min-p truncation, then top-p (nucleus)
    truncation of the renormalised survivors, then an exact Gumbel-max draw
    from the renormalised truncated softmax, keyed per row as
    :func:`sample_keyed` (``gumbel_sample_filtered_*``). With no filter and
    temperature 1 the index is :func:`sample_keyed`'s. The order is vLLM's
    (the truncations act on the distribution that is sampled); llama.cpp's
    default chain tempers last, so at ``T != 1`` it truncates another one.

    Every parameter is per row (a scalar or an array broadcastable to
    ``logits.shape[:-1]``), ``None`` turns it off.

    Args:
        logits: shape ``(..., classes)``; finite or ``-inf`` (masked).
        seeds, offsets: the keys, as :func:`sample_keyed`.
        temperature: ``>= 0``, finite; 0 is greedy (the argmax).
        top_k: integers; 0 is off, ``k >= 1`` keeps the ``k`` largest logits
            (ties with the ``k``-th kept); ``k >= classes`` is off.
        top_p: in ``(0, 1]``: keep the smallest set of largest-probability
            classes whose mass reaches ``top_p``; 1 is off.
        min_p: in ``[0, 1]``: keep the classes whose probability is at least
            ``min_p`` times the largest; 0 is off.
        log_probs: compute the two log-probabilities (each costs a pass
            over the logits); with False they are None.

    Returns:
        ``(indices, log_probs, processed_log_probs)``: the int64 token per
        row, its ``log_softmax(logits)`` (the raw model's), and its
        log-probability under the processed (tempered, truncated,
        renormalised) distribution; arrays of shape ``logits.shape[:-1]``,
        the log-probabilities of the logits' dtype.

    Raises:
        InvalidTemperatureError: a negative, NaN or infinite temperature.
        InvalidParameterError: a negative ``top_k``, a ``top_p`` outside
        ``(0, 1]`` or a ``min_p`` outside ``[0, 1]`` (the message names the row).
        InvalidShapeError, InvalidLogitsError, AllMaskedError as
        :func:`sample_keyed`; TypeError/ValueError for arrays of another
        kind or shape.
    """
    x, rows, classes = _logits(logits)
    shape = x.shape[:-1]
    s, o = keys(seeds, "seeds", shape), keys(offsets, "offsets", shape)
    params = [
        _per_row(temperature, "temperature", x.dtype, shape),
        _per_row(top_k, "top_k", np.dtype(np.int64), shape),
        _per_row(top_p, "top_p", x.dtype, shape),
        _per_row(min_p, "min_p", x.dtype, shape),
    ]
    idx = np.empty(shape, np.int64)
    lp = np.empty(shape, x.dtype) if log_probs else None
    plp = np.empty(shape, x.dtype) if log_probs else None
    c = [ffi.NULL if p is None else A.pointer(p) for p in params + [lp, plp]]
    fn = _fn("gumbel_sample_filtered", x.dtype)
    check(fn(A.pointer(x), A.pointer(idx), c[4], c[5], rows, classes, *c[:4], A.pointer(s), A.pointer(o)))
    return idx, lp, plp
