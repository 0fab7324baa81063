"""Exceptions raised for the library's status codes, and the call helper that
checks every status."""

from __future__ import annotations

from ._native import ffi, lib

__all__ = [
    "GumbelError",
    "NullPointerError",
    "SizeOverflowError",
    "InvalidShapeError",
    "InvalidTemperatureError",
    "InvalidParameterError",
    "InvalidLogitsError",
    "AllMaskedError",
    "OverlapError",
    "InternalError",
    "MisalignedPointerError",
    "InvalidValueError",
    "check",
]


class GumbelError(Exception):
    """A call into the gumbel library failed.

    ``status`` is the library's status code (``GUMBEL_STATUS_*``), ``name`` its
    static text (``gumbel_status_str``) and ``message`` the library's detailed
    message (``gumbel_last_error``), which names the argument, row or value at
    fault.
    """

    status: int

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        self.name = ffi.string(lib.gumbel_status_str(status)).decode("utf-8", "replace")
        self.message = message
        super().__init__(f"{self.name}: {message}")


class NullPointerError(GumbelError, ValueError):
    """``GUMBEL_STATUS_NULL_POINTER`` (1): a NULL pointer with a non-zero length."""


class SizeOverflowError(GumbelError, OverflowError):
    """``GUMBEL_STATUS_SIZE_OVERFLOW`` (2): the element or byte count overflows."""


class InvalidShapeError(GumbelError, ValueError):
    """``GUMBEL_STATUS_INVALID_SHAPE`` (3): ``classes == 0``."""


class InvalidTemperatureError(GumbelError, ValueError):
    """``GUMBEL_STATUS_INVALID_TEMPERATURE`` (4): ``tau`` NaN, infinite, zero or negative."""


class InvalidParameterError(GumbelError, ValueError):
    """``GUMBEL_STATUS_INVALID_PARAMETER`` (5): bad ``loc``/``scale`` or schedule parameter."""


class InvalidLogitsError(GumbelError, ValueError):
    """``GUMBEL_STATUS_INVALID_LOGITS`` (6): a NaN or ``+inf`` logit."""


class AllMaskedError(GumbelError, ValueError):
    """``GUMBEL_STATUS_ALL_MASKED`` (7): a row whose logits are all ``-inf``."""


class OverlapError(GumbelError, ValueError):
    """``GUMBEL_STATUS_OVERLAP`` (8): input and output buffers overlap."""


class InternalError(GumbelError, RuntimeError):
    """``GUMBEL_STATUS_PANIC`` (9): an internal error caught at the boundary (a bug)."""


class MisalignedPointerError(GumbelError, ValueError):
    """``GUMBEL_STATUS_MISALIGNED_POINTER`` (10): a pointer not aligned for its type."""


class InvalidValueError(GumbelError, ValueError):
    """``GUMBEL_STATUS_INVALID_VALUE`` (11): an input outside the function's domain."""


_BY_STATUS: dict[int, type[GumbelError]] = {
    lib.GUMBEL_STATUS_NULL_POINTER: NullPointerError,
    lib.GUMBEL_STATUS_SIZE_OVERFLOW: SizeOverflowError,
    lib.GUMBEL_STATUS_INVALID_SHAPE: InvalidShapeError,
    lib.GUMBEL_STATUS_INVALID_TEMPERATURE: InvalidTemperatureError,
    lib.GUMBEL_STATUS_INVALID_PARAMETER: InvalidParameterError,
    lib.GUMBEL_STATUS_INVALID_LOGITS: InvalidLogitsError,
    lib.GUMBEL_STATUS_ALL_MASKED: AllMaskedError,
    lib.GUMBEL_STATUS_OVERLAP: OverlapError,
    lib.GUMBEL_STATUS_PANIC: InternalError,
    lib.GUMBEL_STATUS_MISALIGNED_POINTER: MisalignedPointerError,
    lib.GUMBEL_STATUS_INVALID_VALUE: InvalidValueError,
}


def last_error() -> str:
    """The message of this thread's last failed call (``gumbel_last_error``)."""
    length = lib.gumbel_last_error(ffi.NULL, 0)
    buf = ffi.new("char[]", length + 1)
    lib.gumbel_last_error(buf, length + 1)
    return ffi.string(buf).decode("utf-8", "replace")


def check(status: int) -> None:
    """Raises the exception of ``status`` (with the library's message) unless it is OK."""
    if status != lib.GUMBEL_STATUS_OK:
        raise _BY_STATUS.get(status, GumbelError)(status, last_error())
