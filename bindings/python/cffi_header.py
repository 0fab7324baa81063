"""Writes the C header that maturin hands to cffi: include/gumbel.h with its
preprocessor lines (includes, include guard, C++ guards) removed, since cffi's
parser takes declarations only. Every declaration is the committed header's.

Usage: python cffi_header.py include/gumbel.h target/header.h
"""

import re
import sys

# cffi accepts `#define NAME <integer>`; every other directive goes.
INTEGER_DEFINE = re.compile(r"#define\s+\w+\s+\d+\s*$")


def cffi_source(header: str) -> str:
    out = []
    skip_cplusplus = 0
    for line in header.splitlines():
        stripped = line.strip()
        if stripped.startswith("#ifdef __cplusplus"):
            skip_cplusplus = 1
            continue
        if skip_cplusplus:
            if stripped.startswith("#endif"):
                skip_cplusplus = 0
            continue
        if stripped.startswith("#") and not INTEGER_DEFINE.match(stripped):
            continue
        out.append(line)
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    src, dst = sys.argv[1], sys.argv[2]
    with open(src) as f:
        text = cffi_source(f.read())
    with open(dst, "w") as f:
        f.write(text)
