"""benches/compare.py (gumbel against PyTorch and NumPy) runs: `--quick`
exits 0 and prints a table row for every operation and counterpart, the
sampling head's included. The
script also checks each result against its counterpart, so this fails when
a counterpart computes something else."""

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[3] / "benches" / "compare.py"

# Every (operation, counterpart) pair of the main table.
EXPECTED = {
    "Gumbel-Softmax soft": ["F.gumbel_softmax", "NumPy softmax"],
    "Gumbel-Softmax soft, gumbel.torch": ["F.gumbel_softmax"],
    "Gumbel-Softmax hard": ["F.gumbel_softmax hard"],
    "Gumbel-Softmax hard, gumbel.torch": ["F.gumbel_softmax hard"],
    "Gumbel-max indices": ["torch.multinomial", "torch exp-argmax", "NumPy argmax"],
    "Gumbel noise": ["torch -log(Exp)", "torch in place", "NumPy rng.gumbel"],
    # Whichever form of PyTorch's softmax backward this PyTorch has.
    "softmax backward": [("torch-sbd", "torch-sbd-alloc", "torch-autograd")],
    "tempered softmax": ["torch.softmax"],
}


# The sampling head's operations and their counterparts.
HEAD_EXPECTED = {
    "keyed Gumbel-max": ["torch exp race", "torch.multinomial"],
    "filtered sample": ["torch top-k/top-p"],
}


def cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def test_quick_run_prints_every_row():
    assert SCRIPT.is_file(), SCRIPT
    # sys.executable: the environment running the tests, where gumbel and torch are installed.
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--threads", "2"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    out = proc.stdout
    rows = [cells(line) for line in out.splitlines() if line.startswith("| ") and not line.startswith("| operation")]
    main = [r for r in rows if len(r) == 6]
    assert main, out

    for operation, counterparts in EXPECTED.items():
        mine = [r for r in main if r[0] == operation]
        assert mine, f"no row for {operation!r}:\n{out}"
        for cp in counterparts:
            names = cp if isinstance(cp, tuple) else (cp,)
            assert any(r[3] in names for r in mine), f"no row for {operation!r} against {cp!r}:\n{out}"
    assert {r[0] for r in main} == set(EXPECTED), f"unexpected operations:\n{out}"

    for r in main:
        # gumbel ns/elem, counterpart ns/elem, ratio "1.23x": finite positive numbers.
        g, c, ratio = float(r[2]), float(r[4]), float(r[5].rstrip("x"))
        assert g > 0 and c >= 0 and ratio >= 0, r

    # Every categorical operation on every quick shape (4 class counts and the huge row).
    for operation in EXPECTED:
        shapes = {r[1] for r in main if r[0] == operation}
        want = {"Gumbel noise": 1, "Gumbel-max indices": 6}.get(operation, 5)
        assert len(shapes) == want, f"{operation}: shapes {sorted(shapes)}"

    # The sampling head's table: every operation and counterpart on the
    # quick shapes (2 vocabularies x 2 batches).
    head = [r for r in rows if len(r) == 7]
    for operation, counterparts in HEAD_EXPECTED.items():
        mine = [r for r in head if r[0] == operation]
        assert len({r[1] for r in mine}) == 4, f"{operation}: shapes {sorted({r[1] for r in mine})}\n{out}"
        assert {r[4] for r in mine} == set(counterparts), f"{operation}:\n{out}"
        for r in mine:
            assert float(r[2]) > 0 and float(r[5]) >= 0 and float(r[6].rstrip("x")) >= 0, r
    assert {r[0] for r in head} == set(HEAD_EXPECTED), out

    write = [r for r in rows if r and r[0] == "noise vs memory write"]
    assert len(write) == 1 and len(write[0]) == 8, out
    assert float(write[0][5].rstrip("x")) > 0

    for header in ("- machine:", "- versions:", "- threads: 2"):
        assert header in out, f"no {header!r} line:\n{out}"
