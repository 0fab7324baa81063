"""examples/python/jax_vae.py runs: `--quick` exits 0, prints a row per
epoch with finite held-out ELBOs that improve, and the sampler speed line."""

import math
import re
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[3] / "examples" / "python" / "jax_vae.py"


def test_quick_run_trains_both_samplers():
    proc = subprocess.run([sys.executable, str(SCRIPT), "--quick"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    rows = [line.split() for line in proc.stdout.splitlines() if re.match(r"\s*\d+\s+\d", line)]
    assert [int(r[0]) for r in rows] == [1, 2, 3]
    elbos = [(float(r[3]), float(r[4])) for r in rows]
    assert all(math.isfinite(a) and math.isfinite(b) for a, b in elbos)
    # Both samplers train the model: the held-out ELBO rises.
    assert elbos[-1][0] > elbos[0][0] and elbos[-1][1] > elbos[0][1]
    assert re.search(r"gumbel\.jax [\d.]+ ms \([\d.]+ ns/element\), pure JAX [\d.]+ ms", proc.stdout)
