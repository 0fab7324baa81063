"""examples/python/estimators.py runs: `--quick` exits 0 and writes the
markdown table (a row per estimator in both tables, finite numbers) and
the PNG plot."""

import math
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[3] / "examples" / "python" / "estimators.py"
LABELS = ["ST", "ReinMax", "Gumbel-Rao m=1", "Gumbel-Rao m=10", "gapped ST gap=1"]


def test_quick_run_writes_table_and_plot(tmp_path):
    md, png = tmp_path / "estimators.md", tmp_path / "estimators.png"
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--md", str(md), "--png", str(png)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rows = {}
    for line in md.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells[0] in LABELS:
            rows.setdefault(cells[0], []).append(cells[1:])
    assert sorted(rows) == sorted(LABELS)
    for label, (bias_std, elbo) in rows.items():
        numbers = [float(x) for cell in bias_std for x in cell.split(" / ")]
        numbers += [float(x) for x in elbo[0].split(" ± ")] + [float(x) for x in elbo[1].split(",")]
        assert all(math.isfinite(x) for x in numbers), (label, numbers)
