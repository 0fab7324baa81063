"""Where a ``gumbel.torch`` call's noise comes from: its ``key``, the
``(seed, offset)`` stream position as a 1-d int64 tensor of two entries.

With ``generator=None`` or a ``torch.Generator`` the key is drawn by
``torch.randint`` from that generator: an ordinary tensor operation, so a
compiled, exported or traced graph draws a fresh key on every run (never a
constant captured when it was traced), ``torch.manual_seed`` replays, and
``vmap``'s ``randomness=`` applies. A :class:`gumbel.Generator` or an
explicit ``seed=``/``offset=`` gives the key of those numbers (eager use:
a compiled graph would hold them as constants).

Fork safety: PyTorch's default CPU generator, which keys the calls without
a generator, is inherited by a forked child, so parent and child would
draw the same noise; importing ``gumbel.torch`` therefore reseeds it from
the OS in a forked child (as Python's ``random`` module does; a child that
wants repeatable runs calls ``torch.manual_seed`` after the fork, as
``DataLoader`` workers do). The NumPy API's default generator is reseeded
the same way (``gumbel._generator``).
"""

from __future__ import annotations

import os
from typing import Optional, Sequence, Union

import torch
from torch import Tensor

from .._generator import Generator, resolve
from . import _ops

__all__ = ["AnyGenerator", "key"]

AnyGenerator = Union[None, Generator, torch.Generator]

# Drawn keys stay below 2**62: any range works for the library, and this one
# keeps ``high - low`` inside int64 for every backend's randint.
_HIGH = 1 << 62


def _int64(v: int) -> int:
    """The uint64 ``v`` as the int64 with the same bits."""
    return v - (1 << 64) if v >= 1 << 63 else v


def key(generator: AnyGenerator, seed: Optional[int], offset: int, shape: Sequence[int], dim: Optional[int]) -> Tensor:
    """The key of one call on a tensor of ``shape`` (class dimension ``dim``;
    ``None`` for an elementwise sampler, whose ``n`` elements are one row).

    Raises:
        TypeError: ``offset`` without ``seed``, ``seed`` with ``generator``,
        or a generator of another type. ValueError: ``seed``/``offset``
        outside ``[0, 2**64)``. OverflowError: a :class:`gumbel.Generator`
        exhausted.
    """
    if seed is not None or isinstance(generator, Generator):
        if dim is None:
            outer, classes, inner = 1, max(1, torch.Size(shape).numel()), 1
        else:
            outer, classes, inner, _ = _ops.split(shape, dim)
        s, o = resolve(seed, offset, generator, outer, classes, inner)
        return torch.tensor([_int64(s), _int64(o)], dtype=torch.int64)
    if offset != 0:
        raise TypeError("offset given without seed")
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a gumbel.Generator or torch.Generator, got {type(generator).__name__}")
    return torch.randint(0, _HIGH, (2,), dtype=torch.int64, generator=generator)


def _reseed_in_child() -> None:
    torch.default_generator.seed()


os.register_at_fork(after_in_child=_reseed_in_child)
