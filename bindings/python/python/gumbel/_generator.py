"""``Generator``: a ``(seed, offset)`` pair that advances by what each call consumes."""

from __future__ import annotations

import os
import secrets
import threading

from ._native import lib

__all__ = ["Generator", "streams", "default_generator"]

_U64 = (1 << 64) - 1


def _u64(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            value = int(value.__index__())  # NumPy integers, 0-d tensors of integer type
        except AttributeError:
            raise TypeError(f"{name} must be an integer, got {type(value).__name__}") from None
    if not 0 <= value <= _U64:
        raise ValueError(f"{name} must be in [0, 2**64), got {value}")
    return value


def streams(outer: int, classes: int, inner: int = 1) -> int:
    """Stream ids one call on shape ``(outer, classes, inner)`` consumes
    (``gumbel_streams``): the next independent call starts at ``offset + streams``."""
    return int(lib.gumbel_streams(outer, classes, inner))


class Generator:
    """Owns a ``(seed, offset)`` pair of the library's counter-based streams.

    Each sampling call given ``generator=g`` uses ``(g.seed, g.offset)`` and then
    advances ``g.offset`` by the stream ids it consumed (``gumbel_streams`` of
    its shape), so consecutive calls never reuse noise. To replay a call, pass
    the ``seed`` and ``offset`` it used explicitly (``g.seed``, ``g.offset``
    read before the call). Safe to share between threads.

    Args:
        seed: any integer in ``[0, 2**64)``; ``None`` draws one from the OS.
        offset: first stream id, in ``[0, 2**64)``.
    """

    __slots__ = ("_seed", "_offset", "_lock")

    def __init__(self, seed: int | None = None, offset: int = 0) -> None:
        self._seed = secrets.randbits(64) if seed is None else _u64("seed", seed)
        self._offset = _u64("offset", offset)
        self._lock = threading.Lock()

    @property
    def seed(self) -> int:
        """The seed, fixed for the generator's life (except the default generator's, reseeded in a forked child)."""
        return self._seed

    @property
    def offset(self) -> int:
        """The stream id the next call starts at."""
        return self._offset

    def take(self, outer: int, classes: int, inner: int = 1) -> tuple[int, int]:
        """Returns ``(seed, offset)`` for one call on shape ``(outer, classes,
        inner)`` and advances the offset past the streams that call consumes.

        Raises:
            OverflowError: the offset would pass ``2**64 - 1``.
        """
        n = streams(outer, classes, inner)
        with self._lock:
            offset = self._offset
            if offset + n > _U64:
                raise OverflowError("Generator offset exhausted: it would pass 2**64 - 1")
            self._offset = offset + n
        return self._seed, offset

    def advance(self, n: int) -> None:
        """Skips ``n`` stream ids."""
        n = _u64("n", n)
        with self._lock:
            if self._offset + n > _U64:
                raise OverflowError("Generator offset exhausted: it would pass 2**64 - 1")
            self._offset += n

    def __repr__(self) -> str:
        return f"gumbel.Generator(seed={self._seed}, offset={self._offset})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Generator):
            return NotImplemented
        return (self._seed, self._offset) == (other._seed, other._offset)

    def __hash__(self) -> int:
        return hash((self._seed, self._offset))

    def __copy__(self) -> "Generator":
        return Generator(self._seed, self._offset)

    def __deepcopy__(self, memo: object) -> "Generator":
        return Generator(self._seed, self._offset)

    def __getstate__(self) -> tuple[int, int]:
        return (self._seed, self._offset)

    def __setstate__(self, state: tuple[int, int]) -> None:
        self._seed, self._offset = state
        self._lock = threading.Lock()


_default: Generator | None = None
_default_lock = threading.Lock()


def default_generator() -> Generator:
    """The generator used when a call gets neither ``seed`` nor ``generator``:
    seeded from the OS on first use, and again in a child process after
    ``os.fork()`` (so that forked workers do not repeat their parent's noise)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Generator()
        return _default


def _reseed_default_in_child() -> None:
    """After ``fork()``, in the child: new locks (a parent thread may have held
    them), and the default generator reseeded in place, so references to it
    taken before the fork see the new seed too."""
    global _default_lock
    _default_lock = threading.Lock()
    if _default is not None:
        _default._lock = threading.Lock()
        _default._seed = secrets.randbits(64)
        _default._offset = 0


os.register_at_fork(after_in_child=_reseed_default_in_child)


def resolve(
    seed: int | None, offset: int, generator: Generator | None, outer: int, classes: int, inner: int
) -> tuple[int, int]:
    """The ``(seed, offset)`` of one call: explicit, from ``generator``, or from the default."""
    if seed is not None:
        if generator is not None:
            raise TypeError("pass either seed/offset or generator, not both")
        return _u64("seed", seed), _u64("offset", offset)
    if offset != 0:
        raise TypeError("offset given without seed")
    if generator is None:
        generator = default_generator()
    elif not isinstance(generator, Generator):
        raise TypeError(f"generator must be a gumbel.Generator, got {type(generator).__name__}")
    return generator.take(outer, classes, inner)
