"""gumbel: fast, exact and reproducible Gumbel-Softmax (Concrete) sampling.

NumPy bindings over the library's C ABI (``include/gumbel.h``, loaded with
cffi from the shared library inside this package), ``gumbel.torch``, a
drop-in for ``torch.nn.functional.gumbel_softmax``, and ``gumbel.jax``, the
samplers inside ``jax.jit`` through XLA's FFI (import them explicitly;
PyTorch and JAX are optional).

Randomness is counter-based: every sampling call runs on a ``(seed, offset)``
stream position, given explicitly (to replay a call), taken from a
:class:`Generator` (which then advances past the call), or from the default
generator (seeded from the OS); the sampling head's keyed calls
(``sample_keyed``, ``gumbel_softmax_keyed``, ``top_k_keyed``) take one
``(seed, offset)`` per row instead. Errors raise a :class:`GumbelError` subclass
chosen by the library's status code, carrying the library's message.
"""

from __future__ import annotations

from . import dist, schedule
from ._errors import (
    AllMaskedError,
    GumbelError,
    InternalError,
    InvalidLogitsError,
    InvalidParameterError,
    InvalidShapeError,
    InvalidTemperatureError,
    InvalidValueError,
    MisalignedPointerError,
    NullPointerError,
    OverlapError,
    SizeOverflowError,
    check,
    last_error,
)
from ._generator import Generator, default_generator, streams
from ._head import gumbel_softmax_keyed, plackett_luce_log_prob, sample_filtered, sample_keyed, top_k, top_k_keyed
from ._native import ffi, lib
from ._numpy import (
    concrete_log_prob,
    exp_concrete_log_prob,
    gumbel_log_softmax,
    gumbel_softmax,
    gumbel_softmax_backward,
    gumbel_softmax_hard_backward,
    gumbel_softmax_grad_tau,
    noise,
    relaxed_bernoulli,
    relaxed_bernoulli_backward,
    relaxed_bernoulli_log_prob,
    sample,
    tempered_softmax,
)

__version__: str = ffi.string(lib.gumbel_version()).decode()


def version() -> str:
    """The loaded library's version, ``"MAJOR.MINOR.PATCH"``."""
    return __version__


def set_num_threads(threads: int) -> None:
    """Sizes the library's worker pool for later large calls (0: the default,
    ``GUMBEL_NUM_THREADS`` or one per CPU); use it to avoid oversubscription
    next to PyTorch's own threads. Outputs are the same for every count. At
    most ``max(16, 4 * CPUs)`` threads are accepted (CPUs available to the
    process): more only cost start-up time and switching.

    Raises:
        InvalidParameterError: ``threads`` above that bound (the message
            gives it).
    """
    if threads < 0:
        raise ValueError(f"threads must be >= 0, got {threads}")
    check(lib.gumbel_set_num_threads(threads))


def num_threads() -> int:
    """The number of worker threads large calls use now."""
    return int(lib.gumbel_num_threads())


__all__ = [
    "AllMaskedError",
    "Generator",
    "GumbelError",
    "InternalError",
    "InvalidLogitsError",
    "InvalidParameterError",
    "InvalidShapeError",
    "InvalidTemperatureError",
    "InvalidValueError",
    "MisalignedPointerError",
    "NullPointerError",
    "OverlapError",
    "SizeOverflowError",
    "concrete_log_prob",
    "default_generator",
    "dist",
    "exp_concrete_log_prob",
    "gumbel_log_softmax",
    "gumbel_softmax",
    "gumbel_softmax_backward",
    "gumbel_softmax_hard_backward",
    "gumbel_softmax_grad_tau",
    "gumbel_softmax_keyed",
    "noise",
    "num_threads",
    "plackett_luce_log_prob",
    "relaxed_bernoulli",
    "relaxed_bernoulli_backward",
    "relaxed_bernoulli_log_prob",
    "sample",
    "sample_filtered",
    "sample_keyed",
    "schedule",
    "set_num_threads",
    "streams",
    "tempered_softmax",
    "top_k",
    "top_k_keyed",
    "version",
]
