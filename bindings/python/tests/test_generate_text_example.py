"""examples/python/generate_text.py runs: `--quick` trains a few seconds,
decodes a batch with per-request filters, and exits 0 only if every
request's text is the same alone, in the batch and in the reversed batch."""

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[3] / "examples" / "python" / "generate_text.py"


def test_quick_run_is_batch_invariant():
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    assert "identical: True" in proc.stdout
    assert "time per token" in proc.stdout
    # Every request printed its prompt and a continuation.
    assert proc.stdout.count("\n--- {") == 8
