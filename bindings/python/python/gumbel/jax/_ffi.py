"""The library's XLA FFI handlers (``gumbel_xla_*`` in the shared library of
this package), registered once with JAX for the CPU platform, and the
``jax.ffi.ffi_call`` of each.

The handlers declare to XLA the FFI API version of the installed jaxlib,
read from its ``c_api.h`` (``jax.ffi.include_dir()``): XLA checks that
version when a handler is registered. Every call batches under ``jax.vmap``
by ``vmap_method="broadcast_all"``: the handler receives the batch as
leading dimensions and samples each batch item with its own key (see the
handlers' conventions in ``src/xla/handlers.rs``).
"""

from __future__ import annotations

import ctypes
import glob
import os
import re
from typing import Any, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from .. import _native

__all__ = ["call", "index_dtype"]

_HANDLERS = (
    "gumbel_softmax",
    "sample",
    "top_k",
    "relaxed_bernoulli",
    "relaxed_bernoulli_backward",
    "gumbel_softmax_backward",
    "gumbel_softmax_grad_tau",
    "reinmax_backward",
    "gapped_st_backward",
    "gumbel_rao_backward",
)


def _api_version() -> tuple[int, int] | None:
    """``(XLA_FFI_API_MAJOR, XLA_FFI_API_MINOR)`` of the installed jaxlib."""
    path = os.path.join(jax.ffi.include_dir(), "xla", "ffi", "api", "c_api.h")
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        return None
    found = [re.search(rf"#define\s+XLA_FFI_API_{part}\s+(\d+)", text) for part in ("MAJOR", "MINOR")]
    if found[0] is None or found[1] is None:
        return None
    return int(found[0].group(1)), int(found[1].group(1))


def _register() -> None:
    here = os.path.dirname(_native.__file__)
    paths = sorted(glob.glob(os.path.join(here, "*.so")) + glob.glob(os.path.join(here, "*.dylib")))
    if not paths:
        raise ImportError(f"gumbel.jax: no shared library found in {here}")
    lib = ctypes.CDLL(paths[0])
    if not hasattr(lib, "gumbel_xla_set_api_version"):
        raise ImportError("gumbel.jax: this build of gumbel has no XLA handlers (build the wheel with the `xla` feature)")
    version = _api_version()
    if version is not None:
        lib.gumbel_xla_set_api_version.restype = ctypes.c_bool
        lib.gumbel_xla_set_api_version.argtypes = (ctypes.c_int, ctypes.c_int)
        if not lib.gumbel_xla_set_api_version(*version):
            raise ImportError(
                f"gumbel.jax: jaxlib's XLA FFI API version {version[0]}.{version[1]} is not supported (major 0 is)"
            )
    for name in _HANDLERS:
        jax.ffi.register_ffi_target(
            "gumbel_" + name, jax.ffi.pycapsule(getattr(lib, "gumbel_xla_" + name)), platform="cpu"
        )


_register()


def index_dtype() -> Any:
    """The dtype of class indices: int64 with ``jax_enable_x64``, else int32."""
    return jnp.dtype(jax.dtypes.canonicalize_dtype(jnp.int64))


def call(name: str, results: Sequence[jax.ShapeDtypeStruct], *args: Any, **attributes: Any) -> list[jax.Array]:
    """Runs handler ``name`` on ``args`` (integer attributes as int64,
    float ones as float64)."""
    attrs = {k: np.float64(v) if isinstance(v, float) else np.int64(v) for k, v in attributes.items()}
    fn = jax.ffi.ffi_call("gumbel_" + name, list(results), vmap_method="broadcast_all")
    return fn(*args, **attrs)
