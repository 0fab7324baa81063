#!/usr/bin/env python3
"""The `gumbel` Python package against PyTorch (and NumPy) on the same inputs.

    make compare                                  # = make python, then:
    build/venv/bin/python benches/compare.py [--threads N] [--repeat R] [--quick]

Every operation runs on float32 logits of shape (rows, classes) with about
4M elements (classes 2, 16, 1024, 131072; rows = 2**22 / classes) and on one
huge row (1, 1048576); Gumbel-max also on (64, 131072); the noise on 2**22
elements. Inputs and the `gumbel` outputs (`out=`) are allocated once,
outside the timed region; PyTorch's functions allocate their results as
they do in real use, except where PyTorch has an in-place or `out=` form
that the legend names. Each timing is the median of `--repeat` calls after
`--warmup` untimed ones, in ns per input element; the gumbel call and its
counterparts take turns, so that a change of the machine's load hits them
alike. A ratio is counterpart time / gumbel time (above 1: gumbel is faster).

`--quick` runs tiny shapes (about 16K elements) once each: it checks that the
script works (and `bindings/python/tests/test_compare_script.py` runs it),
its numbers mean nothing. After timing, each result is checked against its
counterpart (deterministic operations) or for its form (rows on the simplex,
one-hot rows, indices in range), so a wrong counterpart fails the run.

A second table times the sampling head as inference engines call it, one
call per decoding step on float32 logits (batch, vocabulary) with
vocabularies 32000, 128256 and 262144 and batches 1, 16 and 64, in us per
call: `gumbel.sample_keyed` (one key per request) against PyTorch's
exponential race and `torch.multinomial(softmax)`, and
`gumbel.sample_filtered` (temperature 0.8, top-k 50, top-p 0.9) against a
top-k/top-p sampler written with `torch.topk` and a sort, as engines write
it.

PyTorch's OpenMP threads spin for a while after each parallel region; with
as many threads as cores they then compete with gumbel's worker threads for
the next call, which makes gumbel look up to 1.5x slower than it is. The
script therefore sets `OMP_WAIT_POLICY=PASSIVE` (threads sleep when idle)
before importing torch, unless the variable is already set; the header
prints the value used.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass
from typing import Callable, Optional

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402 (after the OpenMP setting)
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import gumbel  # noqa: E402
import gumbel.torch as gt  # noqa: E402

TAU = 0.5

# The operations, in table order. `bindings/python/tests/test_compare_script.py`
# checks that `--quick` prints a row for each.
OPERATIONS = [
    "Gumbel-Softmax soft",
    "Gumbel-Softmax soft, gumbel.torch",
    "Gumbel-Softmax hard",
    "Gumbel-Softmax hard, gumbel.torch",
    "Gumbel-max indices",
    "Gumbel noise",
    "softmax backward",
    "tempered softmax",
]


@dataclass
class Counterpart:
    label: str
    fn: Callable[[], object]
    # Time of a call to subtract from fn's (the autograd fallback's forward).
    minus: Optional[Callable[[], object]] = None


@dataclass
class Case:
    operation: str
    shape: tuple[int, ...]
    gumbel_fn: Callable[[], object]
    counterparts: list[Counterpart]
    check: Optional[Callable[[], None]] = None


@dataclass
class Result:
    operation: str
    shape: tuple[int, ...]
    gumbel_ns: float
    counterparts: list[tuple[str, float]]


def time_interleaved(fns: list[Callable[[], object]], warmup: int, repeat: int) -> list[float]:
    """Median wall time in ns of one call of each of ``fns``, after ``warmup``
    untimed calls of each. The timed calls take turns (one of each per
    round), so that a change in the machine's load during the measurement
    hits every function alike."""
    for fn in fns:
        for _ in range(warmup):
            fn()
    times: list[list[int]] = [[] for _ in fns]
    for _ in range(repeat):
        for fn, ts in zip(fns, times):
            t0 = time.perf_counter_ns()
            fn()
            ts.append(time.perf_counter_ns() - t0)
    return [float(statistics.median(ts)) for ts in times]


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_flags() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    have = [x for x in ("avx2", "fma", "avx512f", "avx512bw", "avx512dq", "avx512vl") if x in flags]
                    return ", ".join(have) if have else "none of avx2/fma/avx512"
    except OSError:
        pass
    return "unknown"


# ---------------------------------------------------------------- counterparts


def torch_gumbel_max_exponential(t: torch.Tensor) -> torch.Tensor:
    """argmax(logits + g), g = -log(E), E ~ Exp(1): Gumbel-max with the noise
    F.gumbel_softmax draws."""
    return torch.argmax(t - torch.empty_like(t).exponential_().log(), -1)


def torch_exponential_race(t: torch.Tensor) -> torch.Tensor:
    """The exponential race inference engines sample with: argmax of p / E,
    E ~ Exp(1) (the same distribution as Gumbel-max)."""
    return torch.softmax(t, -1).div_(torch.empty_like(t).exponential_()).argmax(-1)


def torch_top_k_top_p(t: torch.Tensor, temperature: float, k: int, p: float) -> torch.Tensor:
    """A filtered sampler as inference engines write it in PyTorch: temper,
    mask below the k-th largest logit (``torch.topk``), sort the survivors,
    mask the tail whose preceding mass already reaches ``p`` (cumulative
    sum of the sorted softmax), scatter back, then the exponential race."""
    x = t / temperature
    kth = torch.topk(x, k, dim=-1).values[..., -1:]
    x = x.masked_fill(x < kth, float("-inf"))
    ordered, order = torch.sort(x, dim=-1, descending=True)
    probs = torch.softmax(ordered, -1)
    before = probs.cumsum(-1) - probs
    ordered = ordered.masked_fill(before >= p, float("-inf"))
    x = torch.empty_like(x).scatter_(-1, order, ordered)
    return torch.softmax(x, -1).div_(torch.empty_like(x).exponential_()).argmax(-1)


def numpy_gumbel_softmax(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    z = (x + rng.gumbel(size=x.shape).astype(np.float32)) / np.float32(TAU)
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def torch_softmax_backward(y: np.ndarray, v: np.ndarray) -> Counterpart:
    """PyTorch's gradient of softmax(x / tau) with respect to x, for the softmax
    output y and the upstream gradient v; the callable returns the gradient."""
    y_t, v_t = torch.from_numpy(y), torch.from_numpy(v)
    g_t = torch.empty(y.shape)
    sbd = getattr(torch, "_softmax_backward_data", None)
    if sbd is not None:
        try:
            sbd(v_t[:1], y_t[:1], -1, torch.float32, grad_input=g_t[:1])
        except TypeError:
            return Counterpart("torch-sbd-alloc", lambda: sbd(v_t, y_t, -1, torch.float32).div_(TAU))

        def run() -> torch.Tensor:
            sbd(v_t, y_t, -1, torch.float32, grad_input=g_t)
            return g_t.div_(TAU)

        return Counterpart("torch-sbd", run)
    # No torch._softmax_backward_data: autograd through softmax(x / tau) at an
    # x whose tempered softmax is y, minus the time of that forward.
    x = torch.from_numpy(TAU * np.log(np.maximum(y, np.finfo(np.float32).tiny)))
    xr = x.clone().requires_grad_(True)

    def run_autograd() -> torch.Tensor:
        xr.grad = None
        torch.softmax(xr / TAU, -1).backward(v_t)
        return xr.grad

    return Counterpart("torch-autograd", run_autograd, minus=lambda: torch.softmax(x / TAU, -1))


GUMBEL_LEGEND = {
    "Gumbel-Softmax soft": "`gumbel.gumbel_softmax(x, 0.5, generator=g, out=y)`",
    "Gumbel-Softmax soft, gumbel.torch": "`gumbel.torch.gumbel_softmax(t, tau=0.5)`: the PyTorch drop-in, which allocates its output and draws a seed from PyTorch's generator, as `F.gumbel_softmax` would be used",
    "Gumbel-Softmax hard": "`gumbel.gumbel_softmax(x, 0.5, hard=True, generator=g, out=y)`",
    "Gumbel-Softmax hard, gumbel.torch": "`gumbel.torch.gumbel_softmax(t, tau=0.5, hard=True)` (the drop-in)",
    "Gumbel-max indices": "`gumbel.sample(x, generator=g, out=idx)`",
    "Gumbel noise": "`gumbel.noise(generator=g, out=out)` (float32)",
    "softmax backward": "`gumbel.gumbel_softmax_backward(y, v, 0.5, out=grad)`: y * (v - <v, y>) / tau",
    "tempered softmax": "`gumbel.tempered_softmax(x, 0.5, out=y)`",
}

LEGEND = {
    "F.gumbel_softmax": "`torch.nn.functional.gumbel_softmax(t, tau=0.5)` (allocates; `-empty_like(t).exponential_().log()`, add, divide, softmax: several passes over memory)",
    "F.gumbel_softmax hard": "`torch.nn.functional.gumbel_softmax(t, tau=0.5, hard=True)` (the soft sample, then max, zeros_like, scatter_ and `y_hard - y_soft.detach() + y_soft`)",
    "NumPy softmax": "`z = (x + rng.gumbel(size=x.shape).astype(np.float32)) / 0.5; e = np.exp(z - z.max(-1, keepdims=True)); e / e.sum(-1, keepdims=True)`",
    "torch exp race": "`torch.softmax(t, -1).div_(torch.empty_like(t).exponential_()).argmax(-1)`: the exponential race inference engines use",
    "torch.multinomial": "`torch.multinomial(torch.softmax(t, -1), 1)`: the same distribution by another method (not Gumbel-max)",
    "torch exp-argmax": "`torch.argmax(t - torch.empty_like(t).exponential_().log(), -1)`: Gumbel-max with PyTorch's noise",
    "NumPy argmax": "`np.argmax(x + rng.gumbel(size=x.shape), -1)` (float64 noise)",
    "torch -log(Exp)": "`-torch.empty(n).exponential_().log()` (allocates, three passes)",
    "torch in place": "`t.exponential_().log_().neg_()` on a preallocated tensor",
    "NumPy rng.gumbel": "`rng.gumbel(size=n)`, `rng = np.random.default_rng()`: NumPy has no float32 Gumbel, so float64 (twice the bytes)",
    "torch-sbd": "`torch._softmax_backward_data(v, y, -1, torch.float32, grad_input=g)` then `g.div_(0.5)`: the gradient of softmax(x / tau) with respect to x, the two steps autograd takes, into a preallocated tensor",
    "torch-sbd-alloc": "`torch._softmax_backward_data(v, y, -1, torch.float32).div_(0.5)` (this PyTorch has no `grad_input=`, so it allocates)",
    "torch-autograd": "autograd: `torch.softmax(x / 0.5, -1).backward(v)` minus the time of `torch.softmax(x / 0.5, -1)` (this PyTorch has no `torch._softmax_backward_data`)",
    "torch.softmax": "`torch.softmax(t / 0.5, -1)` (allocates; two passes: the division, then the softmax)",
    "torch top-k/top-p": "`torch.topk` for the k-th largest logit, `torch.sort` of the row, `softmax`, `cumsum` and a mask for the nucleus, `scatter_` back, then the exponential race (`benches/compare.py: torch_top_k_top_p`)",
}

# The sampling head's operations, in table order (a table of its own).
HEAD_OPERATIONS = ["keyed Gumbel-max", "filtered sample"]
HEAD_FILTERS = dict(temperature=0.8, top_k=50, top_p=0.9)

HEAD_LEGEND = {
    "keyed Gumbel-max": "`gumbel.sample_keyed(x, seeds, offsets, out=idx)`: one (seed, offset) per request, batch invariant",
    "filtered sample": "`gumbel.sample_filtered(x, seeds, offsets, temperature=0.8, top_k=50, top_p=0.9, log_probs=False)`: one call, exact, no sort; the tokens only, as the counterpart (the two log-probabilities cost a pass over the logits each)",
}


def logits(shape: tuple[int, ...], seed: int) -> np.ndarray:
    """Float32 logits in [-4, 4), C-contiguous and aligned."""
    rng = np.random.default_rng(seed)
    return rng.random(shape, dtype=np.float32) * np.float32(8.0) - np.float32(4.0)


def check_simplex(a: np.ndarray, what: str) -> None:
    s = a.sum(-1, dtype=np.float64)
    assert np.all(a >= 0) and np.allclose(s, 1.0, atol=1e-3), f"{what}: rows not on the simplex"


def check_onehot(a: np.ndarray, what: str, exact: bool = True) -> None:
    if exact:
        ok = np.all((a == 0) | (a == 1)) and np.all(a.sum(-1) == 1)
    else:  # F.gumbel_softmax(hard=True) returns y_hard - y_soft + y_soft: 1 up to rounding
        top = a.argmax(-1)[..., None]
        rest = a.copy()
        np.put_along_axis(rest, top, 0.0, axis=-1)
        ok = np.allclose(np.take_along_axis(a, top, axis=-1), 1.0, atol=1e-6) and np.all(np.abs(rest) <= 1e-6)
    assert ok, f"{what}: rows not one-hot"


def check_indices(a: object, rows: int, classes: int, what: str) -> None:
    a = np.asarray(a).reshape(-1)
    assert a.shape == (rows,) and a.min() >= 0 and a.max() < classes, f"{what}: bad indices"


def categorical_cases(shape: tuple[int, int], seed: int, gen: gumbel.Generator, rng: np.random.Generator, sample_only: bool = False) -> list[Case]:
    """Every categorical operation on logits of ``shape``; the arrays live as
    long as the returned cases."""
    rows, classes = shape
    x = logits(shape, seed)
    t = torch.from_numpy(x)
    y = np.empty_like(x)
    idx = np.empty(rows, dtype=np.int64)
    at = f"{rows} x {classes}"
    sample = Case(
        "Gumbel-max indices",
        shape,
        lambda: gumbel.sample(x, generator=gen, out=idx),
        [
            Counterpart("torch.multinomial", lambda: torch.multinomial(torch.softmax(t, -1), 1)),
            Counterpart("torch exp-argmax", lambda: torch_gumbel_max_exponential(t)),
            Counterpart("torch exp race", lambda: torch_exponential_race(t)),
            Counterpart("NumPy argmax", lambda: np.argmax(x + rng.gumbel(size=x.shape), -1)),
        ],
        check=lambda: (
            check_indices(idx, rows, classes, f"gumbel.sample {at}"),
            check_indices(torch.multinomial(torch.softmax(t, -1), 1), rows, classes, f"torch.multinomial {at}"),
            check_indices(torch_gumbel_max_exponential(t), rows, classes, f"torch exp-argmax {at}"),
            check_indices(torch_exponential_race(t), rows, classes, f"torch exp race {at}"),
            check_indices(np.argmax(x + rng.gumbel(size=x.shape), -1), rows, classes, f"NumPy argmax {at}"),
        ),
    )
    if sample_only:
        return [sample]

    # Backward at a soft sample y with an upstream gradient v in [-4, 4).
    ys = gumbel.gumbel_softmax(x, TAU, seed=seed)
    v = logits(shape, seed + 1000)
    grad = np.empty_like(x)
    torch_bw = torch_softmax_backward(ys, v)

    def check_backward() -> None:
        ref = torch_bw.fn().numpy()
        # Both are y * (v - <v, y>) / tau in float32, the dot product summed in
        # different orders: |error| <~ y * K * eps * max|v| / tau per element.
        bound = np.maximum(ys, 1e-30) * (classes * np.finfo(np.float32).eps * 4.0 / TAU) + 1e-6
        bad = np.abs(grad - ref) > bound
        assert not bad.any(), f"backward {at}: differs from PyTorch by up to {np.abs(grad - ref).max()}"

    yt = np.empty_like(x)

    def check_tempered() -> None:
        err = float(np.abs(yt - torch.softmax(t / TAU, -1).numpy()).max())
        assert err <= 1e-5, f"tempered softmax {at}: differs from torch.softmax by {err}"

    return [
        Case(
            "Gumbel-Softmax soft",
            shape,
            lambda: gumbel.gumbel_softmax(x, TAU, generator=gen, out=y),
            [
                Counterpart("F.gumbel_softmax", lambda: F.gumbel_softmax(t, tau=TAU)),
                Counterpart("NumPy softmax", lambda: numpy_gumbel_softmax(x, rng)),
            ],
            check=lambda: (
                check_simplex(y, f"gumbel soft {at}"),
                check_simplex(F.gumbel_softmax(t, tau=TAU).numpy(), f"F.gumbel_softmax {at}"),
                check_simplex(numpy_gumbel_softmax(x, rng), f"NumPy softmax {at}"),
            ),
        ),
        Case(
            "Gumbel-Softmax soft, gumbel.torch",
            shape,
            lambda: gt.gumbel_softmax(t, tau=TAU),
            [Counterpart("F.gumbel_softmax", lambda: F.gumbel_softmax(t, tau=TAU))],
            check=lambda: check_simplex(gt.gumbel_softmax(t, tau=TAU).numpy(), f"gumbel.torch soft {at}"),
        ),
        Case(
            "Gumbel-Softmax hard",
            shape,
            lambda: gumbel.gumbel_softmax(x, TAU, hard=True, generator=gen, out=y),
            [Counterpart("F.gumbel_softmax hard", lambda: F.gumbel_softmax(t, tau=TAU, hard=True))],
            check=lambda: (
                check_onehot(y, f"gumbel hard {at}"),
                check_onehot(F.gumbel_softmax(t, tau=TAU, hard=True).numpy(), f"F.gumbel_softmax hard {at}", exact=False),
            ),
        ),
        Case(
            "Gumbel-Softmax hard, gumbel.torch",
            shape,
            lambda: gt.gumbel_softmax(t, tau=TAU, hard=True),
            [Counterpart("F.gumbel_softmax hard", lambda: F.gumbel_softmax(t, tau=TAU, hard=True))],
            check=lambda: check_onehot(gt.gumbel_softmax(t, tau=TAU, hard=True).numpy(), f"gumbel.torch hard {at}"),
        ),
        sample,
        Case(
            "softmax backward",
            shape,
            lambda: gumbel.gumbel_softmax_backward(ys, v, TAU, out=grad),
            [torch_bw],
            check=check_backward,
        ),
        Case(
            "tempered softmax",
            shape,
            lambda: gumbel.tempered_softmax(x, TAU, out=yt),
            [Counterpart("torch.softmax", lambda: torch.softmax(t / TAU, -1))],
            check=check_tempered,
        ),
    ]


def noise_cases(n: int, gen: gumbel.Generator, rng: np.random.Generator) -> tuple[Case, dict[str, Callable[[], object]]]:
    """Gumbel noise against its counterparts, and the callables of the
    noise-versus-memory-write comparison, on ``n`` float32 elements."""
    out = np.empty(n, dtype=np.float32)
    out_t = torch.empty(n)
    src = np.full(n, 2.0, dtype=np.float32)

    def check() -> None:
        for name, a in (("gumbel.noise", out), ("torch in place", out_t.numpy())):
            mean = float(a.mean(dtype=np.float64))
            assert np.all(np.isfinite(a)) and abs(mean - np.euler_gamma) < 0.1, f"{name}: mean {mean}, not Gumbel(0, 1)"

    case = Case(
        "Gumbel noise",
        (n,),
        lambda: gumbel.noise(generator=gen, out=out),
        [
            Counterpart("torch -log(Exp)", lambda: -torch.empty(n).exponential_().log()),
            Counterpart("torch in place", lambda: out_t.exponential_().log_().neg_()),
            Counterpart("NumPy rng.gumbel", lambda: rng.gumbel(size=n)),
        ],
        check=check,
    )
    write = {
        "noise": lambda: gumbel.noise(generator=gen, out=out),
        "fill": lambda: out.fill(1.0),
        "copyto": lambda: np.copyto(out, src),
    }
    return case, write


def head_cases(shape: tuple[int, int], seed: int, step: int) -> list[Case]:
    """The sampling head on logits of ``shape`` (batch, vocabulary): request
    ``r`` has seed ``r`` and the offset of decoding step ``step``."""
    rows, classes = shape
    x = logits(shape, seed)
    t = torch.from_numpy(x)
    seeds = np.arange(rows, dtype=np.uint64)
    offsets = np.full(rows, step * gumbel.streams(1, classes), dtype=np.uint64)
    idx = np.empty(rows, dtype=np.int64)
    f = HEAD_FILTERS
    at = f"{rows} x {classes}"

    def check_filtered() -> None:
        tokens, lp, plp = gumbel.sample_filtered(x, seeds, offsets, **f)
        kth = np.sort(x, -1)[:, -f["top_k"]]
        assert np.all(x[np.arange(rows), tokens] >= kth), f"filtered {at}: a token outside the top-k"
        assert np.all(np.isfinite(lp)) and np.all(plp <= 0), f"filtered {at}: bad log-probabilities"
        ref = torch_top_k_top_p(t, f["temperature"], f["top_k"], f["top_p"]).numpy()
        assert np.all(x[np.arange(rows), ref] >= kth), f"torch top-k/top-p {at}: a token outside the top-k"

    return [
        Case(
            "keyed Gumbel-max",
            shape,
            lambda: gumbel.sample_keyed(x, seeds, offsets, out=idx),
            [
                Counterpart("torch exp race", lambda: torch_exponential_race(t)),
                Counterpart("torch.multinomial", lambda: torch.multinomial(torch.softmax(t, -1), 1)),
            ],
            check=lambda: (
                check_indices(idx, rows, classes, f"gumbel.sample_keyed {at}"),
                check_indices(torch_exponential_race(t), rows, classes, f"torch exp race {at}"),
            ),
        ),
        Case(
            "filtered sample",
            shape,
            lambda: gumbel.sample_filtered(x, seeds, offsets, **f, log_probs=False),
            [Counterpart("torch top-k/top-p", lambda: torch_top_k_top_p(t, f["temperature"], f["top_k"], f["top_p"]))],
            check=check_filtered,
        ),
    ]


def fmt_ns(ns: float) -> str:
    return f"{ns:.2f}" if ns < 100 else f"{ns:.1f}"


def fmt_shape(shape: tuple[int, ...]) -> str:
    return " x ".join(str(s) for s in shape)


def run_case(case: Case, warmup: int, repeat: int) -> Result:
    fns = [case.gumbel_fn]
    for cp in case.counterparts:
        fns.append(cp.fn)
        if cp.minus is not None:
            fns.append(cp.minus)
    ns = iter(time_interleaved(fns, warmup, repeat))
    g = next(ns)
    cps = []
    for cp in case.counterparts:
        t = next(ns)
        if cp.minus is not None:
            t = max(t - next(ns), 0.0)
        cps.append((cp.label, t))
    if case.check is not None:
        case.check()
    print(f"  {case.operation:36s} {fmt_shape(case.shape):>16s}  done", file=sys.stderr, flush=True)
    return Result(case.operation, case.shape, g, cps)


def main(argv: Optional[list[str]] = None) -> int:
    ap = argparse.ArgumentParser(description="gumbel against PyTorch and NumPy: a Markdown table of ns per element and ratios.")
    ap.add_argument("--threads", type=int, default=2, help="threads for PyTorch and gumbel (default 2)")
    ap.add_argument("--repeat", type=int, default=7, help="timed calls per measurement, the median is reported (default 7)")
    ap.add_argument("--warmup", type=int, default=1, help="untimed calls before the timed ones (default 1)")
    ap.add_argument("--quick", action="store_true", help="tiny shapes and 1 repetition: checks the script, not the speed")
    args = ap.parse_args(argv)
    if args.threads < 1:
        ap.error("--threads must be >= 1")
    if args.quick:
        args.repeat = 1
    if args.repeat < 1 or args.warmup < 0:
        ap.error("--repeat must be >= 1 and --warmup >= 0")

    torch.set_num_threads(args.threads)
    gumbel.set_num_threads(args.threads)
    torch.manual_seed(0)
    gen = gumbel.Generator(2026)
    rng = np.random.default_rng(7)

    total = 1 << 14 if args.quick else 1 << 22
    classes = [2, 16, 1024, 4096] if args.quick else [2, 4, 8, 16, 32, 1024, 131072]
    shapes = [(total // k, k) for k in classes] + [(1, 1 << 15) if args.quick else (1, 1 << 20)]
    sample_extra = (8, 4096) if args.quick else (64, 131072)

    load0 = os.getloadavg()
    started = time.strftime("%Y-%m-%d %H:%M %Z")
    t_start = time.perf_counter()
    results: list[Result] = []
    # One shape at a time, so that only its arrays are alive.
    for i, shape in enumerate(shapes):
        for case in categorical_cases(shape, 10 + i, gen, rng):
            results.append(run_case(case, args.warmup, args.repeat))
    for case in categorical_cases(sample_extra, 30, gen, rng, sample_only=True):
        results.append(run_case(case, args.warmup, args.repeat))
    head_shapes = [(b, v) for v in ((1000, 4096) if args.quick else (32000, 128256, 262144)) for b in ((1, 4) if args.quick else (1, 16, 64))]
    head: list[Result] = []
    for i, shape in enumerate(head_shapes):
        for case in head_cases(shape, 40 + i, step=i):
            head.append(run_case(case, args.warmup, args.repeat))
    noise_case, write = noise_cases(total, gen, rng)
    results.append(run_case(noise_case, args.warmup, args.repeat))
    w = dict(zip(write, (ns / total for ns in time_interleaved(list(write.values()), args.warmup, args.repeat))))
    load1 = os.getloadavg()
    elapsed = time.perf_counter() - t_start

    # Results sorted by operation (table order), then in run order.
    order = {op: i for i, op in enumerate(OPERATIONS)}
    results.sort(key=lambda r: order[r.operation])

    p = print
    p("# gumbel against PyTorch and NumPy" + (" (--quick: tiny shapes, the numbers mean nothing)" if args.quick else ""))
    p()
    cores = os.cpu_count()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    p(f"- machine: {cpu_model()}, {cores} logical CPUs ({usable} usable); {platform.system()} {platform.release()} {platform.machine()}")
    p(f"- SIMD flags: {cpu_flags()}; GUMBEL_ISA={os.environ.get('GUMBEL_ISA', '(unset)')}")
    p(f"- versions: gumbel {gumbel.version()}, torch {torch.__version__}, numpy {np.__version__}, Python {platform.python_version()}")
    p(f"- threads: {args.threads} (torch.get_num_threads() = {torch.get_num_threads()}, gumbel.num_threads() = {gumbel.num_threads()}); NumPy uses one; OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')}")
    p(f"- timing: time.perf_counter_ns, median of {args.repeat} call(s) after {args.warmup} warm-up call(s), gumbel and its counterparts taking turns; started {started}, took {elapsed:.0f} s")
    p(f"- load average (1 min): {load0[0]:.2f} at the start, {load1[0]:.2f} at the end")
    p("- float32 logits in [-4, 4), tau = 0.5; ns per input element (rows x classes); ratio = counterpart time / gumbel time (above 1: gumbel is faster)")
    p()
    p("| operation | shape | gumbel ns/elem | counterpart | counterpart ns/elem | ratio |")
    p("|---|---|---:|---|---:|---:|")
    for r in results:
        elems = int(np.prod(r.shape))
        g = r.gumbel_ns / elems
        for label, ns in r.counterparts:
            c = ns / elems
            p(f"| {r.operation} | {fmt_shape(r.shape)} | {fmt_ns(g)} | {label} | {fmt_ns(c)} | {c / g:.2f}x |")
    p()
    p("Noise against a plain memory write of the same float32 bytes: `out.fill(1.0)`, and `np.copyto(out, src)` (which also reads `src`):")
    p()
    p("| operation | shape | gumbel.noise ns/elem | fill ns/elem | fill GB/s | noise / fill | copyto ns/elem | noise / copyto |")
    p("|---|---|---:|---:|---:|---:|---:|---:|")
    p(
        f"| noise vs memory write | {total} | {fmt_ns(w['noise'])} | {fmt_ns(w['fill'])} | {4.0 / w['fill']:.1f} | {w['noise'] / w['fill']:.2f}x"
        f" | {fmt_ns(w['copyto'])} | {w['noise'] / w['copyto']:.2f}x |"
    )
    p()
    # Short rows and one long row against the 1024-class per-element cost.
    base = {r.operation: r.gumbel_ns / int(np.prod(r.shape)) for r in results if r.shape[-1] == 1024 and len(r.shape) == 2 and r.shape[0] > 1}
    p("Per-element cost of gumbel relative to its 1024-class cost (target: within 2x):")
    p()
    p("| operation | shape | gumbel ns/elem | / 1024-class ns/elem |")
    p("|---|---|---:|---:|")
    for r in results:
        if len(r.shape) == 2 and r.operation in base and (r.shape[-1] <= 32 or r.shape[0] == 1):
            g = r.gumbel_ns / int(np.prod(r.shape))
            p(f"| {r.operation} | {fmt_shape(r.shape)} | {fmt_ns(g)} | {g / base[r.operation]:.2f}x |")
    p()
    p("The sampling head, one call per decoding step (float32 logits batch x vocabulary in [-4, 4); us per call; ratio = counterpart time / gumbel time):")
    p()
    p("| operation | batch x vocabulary | gumbel us/call | gumbel ns/elem | counterpart | counterpart us/call | ratio |")
    p("|---|---|---:|---:|---|---:|---:|")
    head_order = {op: i for i, op in enumerate(HEAD_OPERATIONS)}
    for r in sorted(head, key=lambda r: head_order[r.operation]):
        elems = int(np.prod(r.shape))
        for label, ns in r.counterparts:
            p(f"| {r.operation} | {fmt_shape(r.shape)} | {r.gumbel_ns / 1e3:.1f} | {fmt_ns(r.gumbel_ns / elems)} | {label} | {ns / 1e3:.1f} | {ns / r.gumbel_ns:.2f}x |")
    p()
    for key, text in HEAD_LEGEND.items():
        p(f"- {key}: {text}")
    p()
    p("gumbel calls (x a C-contiguous float32 array, used in place; outputs preallocated; g a gumbel.Generator):")
    p()
    for key, text in GUMBEL_LEGEND.items():
        p(f"- {key}: {text}")
    p()
    p("Counterparts (t = torch.from_numpy(x), the same memory):")
    p()
    used = {label for r in results + head for label, _ in r.counterparts}
    for key, text in LEGEND.items():
        if key in used:
            p(f"- {key}: {text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
