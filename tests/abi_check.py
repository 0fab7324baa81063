#!/usr/bin/env python3
"""ABI checks of the built library against include/gumbel.h.

1. The dynamic symbols libgumbel.so defines (nm -D --defined-only) are
   exactly the functions the header declares: no Rust internals exported,
   nothing missing.
2. The header alone compiles as C99 and C++17 with -Wall -Wextra -Werror
   -pedantic, in a unit that takes the address of every function.
3. gumbel_version() (called through ctypes), the header's GUMBEL_VERSION_*
   macros and Cargo.toml's version agree.

Usage: abi_check.py LIBDIR BUILDDIR (run from the repository root; CC and
CXX from the environment). Exits 1 on any failure.
"""
import ctypes
import os
import re
import subprocess
import sys

root = os.getcwd()
libdir, build = sys.argv[1], sys.argv[2]
lib = os.path.join(libdir, "libgumbel.so")
header = open("include/gumbel.h").read()
failures = []

# Declarations: an identifier followed by '(' at the start of a
# non-comment line, after its return type.
code = re.sub(r"/\*.*?\*/", "", header, flags=re.S)
declared = set(re.findall(r"^[A-Za-z_][\w \*]*?\b(gumbel_\w+)\(", code, flags=re.M))
out = subprocess.run(["nm", "-D", "--defined-only", lib], check=True,
                     capture_output=True, text=True).stdout
exported = {line.split()[-1] for line in out.splitlines() if line.strip()}
exported = {s.split("@")[0] for s in exported}
if len(declared) < 60:
    failures.append(f"header parse found only {len(declared)} functions")
if exported - declared:
    failures.append(f"exported but not declared: {sorted(exported - declared)}")
if declared - exported:
    failures.append(f"declared but not exported: {sorted(declared - exported)}")
print(f"symbols: {len(exported)} exported, {len(declared)} declared")

# The header alone, in both languages, every function referenced.
os.makedirs(build, exist_ok=True)
refs = "\n".join(f"    (void)&{name};" for name in sorted(declared))
unit = f'#include "gumbel.h"\nint main(void) {{\n{refs}\n    return 0;\n}}\n'
for lang, std, compiler, ext in [("c", "c99", os.environ.get("CC", "cc"), "c"),
                                 ("c++", "c++17", os.environ.get("CXX", "c++"), "cpp")]:
    src = os.path.join(build, f"header_only.{ext}")
    with open(src, "w") as f:
        f.write(unit)
    cmd = compiler.split() + [f"-std={std}", "-Wall", "-Wextra", "-Werror", "-pedantic",
                              "-Iinclude", "-c", src, "-o", src + ".o"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        failures.append(f"header does not compile as {std}: {r.stderr}")
    else:
        print(f"header compiles as {std} with -Wall -Wextra -Werror -pedantic")

# Versions.
cargo = re.search(r'^version = "([^"]+)"', open("Cargo.toml").read(), flags=re.M).group(1)
macros = ".".join(re.search(rf"#define GUMBEL_VERSION_{p} (\d+)", header).group(1)
                  for p in ("MAJOR", "MINOR", "PATCH"))
so = ctypes.CDLL(os.path.abspath(lib))
so.gumbel_version.restype = ctypes.c_char_p
loaded = so.gumbel_version().decode()
if not cargo == macros == loaded:
    failures.append(f"versions differ: Cargo.toml {cargo}, header {macros}, library {loaded}")
print(f"version: Cargo.toml {cargo}, header {macros}, gumbel_version() {loaded}")

for f in failures:
    print("FAIL:", f, file=sys.stderr)
sys.exit(1 if failures else 0)
