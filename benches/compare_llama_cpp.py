"""The filtered sample against llama.cpp's sampler chain (optional).

Needs ``llama-cpp-python`` (built from source: ``pip install --no-binary
llama-cpp-python llama-cpp-python``; not installed by the Makefile). For
each vocabulary and batch, the same Zipf-like logits (``-1.5 ln rank``,
ranks shuffled per row) are sampled by

- gumbel: ``gumbel.sample_filtered`` on the ``(batch, vocabulary)`` matrix,
  one key per row, tokens only;
- llama.cpp: a sampler chain per setting (its default order: top-k, top-p,
  min-p, temperature, then ``dist``), applied row after row to a
  ``llama_token_data_array`` refilled from the row's logits (as an engine
  refills it each step; the refill is timed with the chain).

Settings: top-k 50 + top-p 0.95 at temperature 0.8, and top-p 0.9 alone.
The two libraries apply the temperature at different points (see the
README), so the outputs differ in law at ``T != 1``; this measures speed
only. Prints the median of ``--repeat`` runs and the ratio.

Run: ``build/venv/bin/python benches/compare_llama_cpp.py`` after installing
llama-cpp-python into that environment.
"""

from __future__ import annotations

import argparse
import ctypes
import statistics
import time

import numpy as np

import gumbel

try:
    import llama_cpp.llama_cpp as ll
except ImportError as e:  # pragma: no cover - an optional comparison
    raise SystemExit(f"llama-cpp-python is not installed ({e}); see this script's docstring")


def zipf_logits(rows: int, classes: int, seed: int = 7) -> np.ndarray:
    rng = np.random.default_rng(seed)
    ranks = np.argsort(rng.random((rows, classes)), axis=1) + 1
    return (-1.5 * np.log(ranks)).astype(np.float32)


def chain(temperature: float, top_k: int, top_p: float, seed: int):
    """A llama.cpp sampler chain: top-k, top-p, temperature, dist."""
    c = ll.llama_sampler_chain_init(ll.llama_sampler_chain_default_params())
    if top_k > 0:
        ll.llama_sampler_chain_add(c, ll.llama_sampler_init_top_k(top_k))
    if top_p < 1.0:
        ll.llama_sampler_chain_add(c, ll.llama_sampler_init_top_p(top_p, 1))
    if temperature != 1.0:
        ll.llama_sampler_chain_add(c, ll.llama_sampler_init_temp(temperature))
    ll.llama_sampler_chain_add(c, ll.llama_sampler_init_dist(seed))
    return c


class TokenArray:
    """A ``llama_token_data`` buffer for one row and its array header."""

    def __init__(self, classes: int) -> None:
        self.data = (ll.llama_token_data * classes)()
        self.view = np.ctypeslib.as_array(
            ctypes.cast(self.data, ctypes.POINTER(ctypes.c_uint8)),
            shape=(classes * ctypes.sizeof(ll.llama_token_data),),
        ).view(np.dtype([("id", np.int32), ("logit", np.float32), ("p", np.float32)]))
        self.ids = np.arange(classes, dtype=np.int32)
        self.header = ll.llama_token_data_array(self.data, classes, -1, False)
        self.classes = classes

    def sample(self, sampler, logits: np.ndarray) -> int:
        self.view["id"] = self.ids
        self.view["logit"] = logits
        self.view["p"] = 0.0
        self.header.data = self.data
        self.header.size = self.classes
        self.header.selected = -1
        self.header.sorted = False
        ll.llama_sampler_apply(sampler, ctypes.byref(self.header))
        return int(self.header.data[self.header.selected].id)


def median_time(fn, repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    gumbel.set_num_threads(args.threads)
    settings = [("T 0.8, top-k 50, top-p 0.95", 0.8, 50, 0.95), ("top-p 0.9", 1.0, 0, 0.9)]
    print(f"| setting | batch x vocabulary | llama.cpp chain ms | gumbel ms | ratio |")
    print("|---|---|---|---|---|")
    for classes in (32000, 128256, 262144):
        tokens = TokenArray(classes)
        for rows in (1, 16, 64):
            x = zipf_logits(rows, classes)
            seeds = np.arange(rows, dtype=np.uint64)
            offsets = np.zeros(rows, dtype=np.uint64)
            for name, t, k, p in settings:
                sampler = chain(t, k, p, 1234)

                def llama() -> None:
                    for r in range(rows):
                        tokens.sample(sampler, x[r])

                def ours() -> None:
                    gumbel.sample_filtered(
                        x, seeds, offsets, temperature=t, top_k=k, top_p=p, log_probs=False
                    )

                a, b = median_time(llama, args.repeat), median_time(ours, args.repeat)
                ll.llama_sampler_free(sampler)
                print(f"| {name} | {rows} x {classes} | {a * 1e3:.2f} | {b * 1e3:.2f} | {a / b:.1f}x |")


if __name__ == "__main__":
    main()
