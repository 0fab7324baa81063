"""Turning NumPy arrays into the library's contiguous buffers."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ._native import ffi

_CTYPE = {
    np.dtype(np.float16): "uint16_t[]",
    np.dtype(np.float32): "float[]",
    np.dtype(np.float64): "double[]",
    np.dtype(np.int64): "int64_t[]",
    np.dtype(np.uint64): "uint64_t[]",
}


def float_dtype(*arrays: Any, half: bool = False) -> np.dtype:
    """float32 when every array is float32 (or a Python scalar), float64
    otherwise; with ``half`` (a function with float16 entries), float16 when
    every array is float16."""
    kinds = [np.asarray(a).dtype for a in arrays if not isinstance(a, (int, float))]
    for narrow in ((np.float16,) if half else ()) + (np.float32,):
        if kinds and all(k == narrow for k in kinds):
            return np.dtype(narrow)
    return np.dtype(np.float64)


def scalar_dtype(dtype: np.dtype) -> np.dtype:
    """The dtype of temperatures and scalar results of a call on ``dtype``
    arrays: float32 for float16 arrays (computed in float32), else ``dtype``."""
    return np.dtype(np.float32) if dtype == np.float16 else dtype


def contiguous(x: Any, dtype: np.dtype) -> np.ndarray:
    """``x`` itself when it is an aligned C-contiguous array of ``dtype``, a copy otherwise."""
    if type(x) is np.ndarray and x.dtype == dtype and x.flags.c_contiguous and x.flags.aligned:
        return x  # what np.require returns, without its cost per call
    return np.require(x, dtype=dtype, requirements=["C", "A"])


def pointer(a: np.ndarray) -> Any:
    """A cffi array over ``a``'s memory (C-contiguous; the cdata keeps ``a``
    alive), passed to C as a pointer to its first element."""
    return ffi.from_buffer(_CTYPE[a.dtype], a)


def output(out: np.ndarray | None, shape: Sequence[int], dtype: np.dtype, name: str = "out") -> np.ndarray:
    """``out`` after checking it, or a new array: outputs are never copied, so
    ``out`` must be C-contiguous, writeable, of ``dtype`` and of ``shape``."""
    shape = tuple(int(s) for s in shape)
    if out is None:
        return np.empty(shape, dtype=dtype)
    if not isinstance(out, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray, got {type(out).__name__}")
    if out.dtype != dtype:
        raise TypeError(f"{name} has dtype {out.dtype}, expected {dtype}")
    if out.shape != shape:
        raise ValueError(f"{name} has shape {out.shape}, expected {shape}")
    if not out.flags.c_contiguous:
        raise ValueError(f"{name} must be C-contiguous")
    if not out.flags.writeable:
        raise ValueError(f"{name} is read-only")
    return out


def split(shape: Sequence[int], axis: int) -> tuple[int, int, int, int]:
    """``(outer, classes, inner, axis)`` of a tensor of ``shape`` with its class
    axis at ``axis`` (negative counts from the end)."""
    ndim = len(shape)
    if ndim == 0:
        raise ValueError("a 0-d array has no class axis")
    if not -ndim <= axis < ndim:
        raise np.exceptions.AxisError(axis, ndim) if hasattr(np, "exceptions") else ValueError(
            f"axis {axis} is out of bounds for an array of dimension {ndim}"
        )
    axis %= ndim
    outer = int(np.prod(shape[:axis], dtype=np.int64))
    inner = int(np.prod(shape[axis + 1 :], dtype=np.int64))
    return outer, int(shape[axis]), inner, axis


def row_shape(shape: Sequence[int], axis: int) -> tuple[int, ...]:
    """The shape of a per-row array: ``shape`` without its class axis."""
    return tuple(shape[:axis]) + tuple(shape[axis + 1 :])
