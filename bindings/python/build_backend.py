"""PEP 517 build backend: maturin, after writing the header it hands to cffi.

maturin's cffi bindings read `<cargo target dir>/header.h` when it exists
(else they run their own cbindgen over the whole crate, which sees more than
the C ABI). Before each wheel build this writes that file from the committed
include/gumbel.h, minus the preprocessor lines cffi cannot parse, so the
package binds exactly the header C users get. `pip install ./bindings/python`
and `make python` both go through here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any, Mapping, Optional

import maturin

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
from cffi_header import cffi_source  # noqa: E402

get_requires_for_build_wheel = maturin.get_requires_for_build_wheel
get_requires_for_build_sdist = maturin.get_requires_for_build_sdist
prepare_metadata_for_build_wheel = maturin.prepare_metadata_for_build_wheel
build_sdist = maturin.build_sdist


def write_cffi_header() -> str:
    manifest = os.path.join(ROOT, "Cargo.toml")
    meta = subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--no-deps", "--manifest-path", manifest],
        check=True,
        capture_output=True,
        text=True,
    )
    target = json.loads(meta.stdout)["target_directory"]
    os.makedirs(target, exist_ok=True)
    with open(os.path.join(ROOT, "include", "gumbel.h")) as f:
        text = cffi_source(f.read())
    path = os.path.join(target, "header.h")
    with open(path, "w") as f:
        f.write(text)
    return path


def build_wheel(
    wheel_directory: str, config_settings: Optional[Mapping[str, Any]] = None, metadata_directory: Optional[str] = None
) -> str:
    write_cffi_header()
    return maturin.build_wheel(wheel_directory, config_settings, metadata_directory)


def build_editable(
    wheel_directory: str, config_settings: Optional[Mapping[str, Any]] = None, metadata_directory: Optional[str] = None
) -> str:
    write_cffi_header()
    return maturin.build_editable(wheel_directory, config_settings, metadata_directory)
