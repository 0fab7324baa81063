"""Text generation with the sampling head: a small character-level model
trained here, then decoded for a batch of requests with per-request
temperature, top-k, top-p and min-p, each request keyed by its own seed.

The training text is what every Python installation carries: the
docstrings of the standard library's modules, read from their source files
with ``ast`` (nothing is imported or downloaded). The model is a
multi-layer perceptron over the previous ``CONTEXT`` characters (Bengio et
al. 2003), trained with Adam for a minute or two on the CPU.

Decoding is what an inference engine does per step: one forward pass for
the batch, then ``gumbel.sample_filtered`` on the ``(batch, vocabulary)``
logits, request ``r`` keyed by ``(seed_r, offset_0 + step * streams)``. The
example then shows the property engines need: a request's text does not
depend on the batch it is decoded in (alone, or among others in any order),
and prints the time per token of the model and of the sampling head. The
model runs one request at a time, so that its logits do not depend on the
batch either (a batched matrix product may round differently for another
batch size: making model kernels batch-invariant is a separate matter).

Run: ``make text`` (or ``python examples/python/generate_text.py``);
``--quick`` trains for a few seconds (a smoke run).
"""

from __future__ import annotations

import argparse
import ast
import sys
import sysconfig
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

import gumbel

CONTEXT = 16


def stdlib_docstrings(limit: int) -> str:
    """Up to ``limit`` characters of the standard library's docstrings
    (modules, classes, functions), in file order, printable ASCII only."""
    root = Path(sysconfig.get_paths()["stdlib"])
    pieces, size = [], 0
    for path in sorted(root.glob("*.py")):
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                doc = ast.get_docstring(node)
                if doc and len(doc) > 80:
                    text = "".join(c if (" " <= c <= "~" or c == "\n") else " " for c in doc)
                    pieces.append(text + "\n\n")
                    size += len(pieces[-1])
        if size >= limit:
            break
    return "".join(pieces)[:limit]


class CharModel(nn.Module):
    """Embeddings of the last ``CONTEXT`` characters, two hidden layers,
    logits over the vocabulary."""

    def __init__(self, vocabulary: int, width: int = 384) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocabulary, 32)
        self.net = nn.Sequential(
            nn.Linear(CONTEXT * 32, width),
            nn.GELU(),
            nn.Linear(width, width),
            nn.GELU(),
            nn.Linear(width, vocabulary),
        )

    def forward(self, context: torch.Tensor) -> torch.Tensor:
        return self.net(self.embed(context).flatten(1))


def train(ids: np.ndarray, vocabulary: int, steps: int, seed: int) -> CharModel:
    """Next-character cross-entropy with Adam on random windows of ``ids``."""
    torch.manual_seed(seed)
    model = CharModel(vocabulary)
    optimiser = torch.optim.Adam(model.parameters(), lr=2e-3)
    data = torch.from_numpy(ids)
    split = int(0.95 * len(ids))
    rng = np.random.default_rng(seed)

    def batch(lo: int, hi: int, size: int) -> tuple[torch.Tensor, torch.Tensor]:
        starts = torch.from_numpy(rng.integers(lo, hi - CONTEXT - 1, size))
        windows = data[starts[:, None] + torch.arange(CONTEXT + 1)]
        return windows[:, :-1], windows[:, -1]

    for step in range(steps):
        x, y = batch(0, split, 256)
        loss = nn.functional.cross_entropy(model(x), y)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        if step % max(1, steps // 5) == 0 or step == steps - 1:
            with torch.no_grad():
                x, y = batch(split, len(ids), 2048)
                held_out = nn.functional.cross_entropy(model(x), y).item()
            print(f"  step {step:5d}: train {loss.item():.3f}, held-out {held_out:.3f} nats/char")
    return model.eval()


def decode(model, prompts, settings, seeds, steps, encode, decode_ids, timing):
    """Generates ``steps`` characters for each request (prompt, settings,
    seed) as one batch; returns the texts. ``timing`` collects the seconds
    of the model and of the sampling head."""
    context = torch.tensor([encode(p)[-CONTEXT:] for p in prompts])
    vocabulary = model.net[-1].out_features
    stride = gumbel.streams(1, vocabulary)
    seeds = np.asarray(seeds, dtype=np.uint64)
    params = {k: np.array([s[k] for s in settings]) for k in settings[0]}
    out = [[] for _ in prompts]
    for step in range(steps):
        t0 = time.perf_counter()
        with torch.no_grad():
            # One request at a time: a batched matrix product may round
            # differently for another batch size, and this example shows the
            # head's batch invariance, not the model's.
            logits = torch.cat([model(context[r : r + 1]) for r in range(len(prompts))]).numpy()
        t1 = time.perf_counter()
        offsets = np.full(len(prompts), step * stride, dtype=np.uint64)
        tokens, _, _ = gumbel.sample_filtered(logits, seeds, offsets, log_probs=False, **params)
        t2 = time.perf_counter()
        timing["model"] += t1 - t0
        timing["head"] += t2 - t1
        timing["tokens"] += len(prompts)
        for r, t in enumerate(tokens):
            out[r].append(int(t))
        context = torch.cat([context[:, 1:], torch.from_numpy(tokens)[:, None]], 1)
    return [decode_ids(o) for o in out]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run of a few seconds")
    parser.add_argument("--steps", type=int, default=3000, help="training steps")
    parser.add_argument("--chars", type=int, default=300, help="characters generated per request")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    steps, chars, corpus_size = (args.steps, args.chars, 2_000_000)
    if args.quick:
        steps, chars, corpus_size = 60, 40, 200_000

    text = stdlib_docstrings(corpus_size)
    alphabet = sorted(set(text))
    index = {c: i for i, c in enumerate(alphabet)}
    encode = lambda s: [index.get(c, index[" "]) for c in s.rjust(CONTEXT)]  # noqa: E731
    decode_ids = lambda ids: "".join(alphabet[i] for i in ids)  # noqa: E731
    ids = np.array([index[c] for c in text], dtype=np.int64)
    print(f"corpus: {len(text)} characters of standard-library docstrings, {len(alphabet)} symbols")
    print(f"training a {CONTEXT}-character MLP for {steps} steps")
    t0 = time.perf_counter()
    model = train(ids, len(alphabet), steps, args.seed)
    print(f"  trained in {time.perf_counter() - t0:.0f} s")

    prompts = [
        "Return the number of ",
        "This module provides ",
        "If the argument is ",
        "Raise ValueError if ",
        "The default value is ",
        "Create a new ",
        "Return True if ",
        "This function ",
    ]
    settings = [
        {"temperature": 0.8, "top_k": 0, "top_p": 0.95, "min_p": 0.0},
        {"temperature": 1.0, "top_k": 0, "top_p": 1.0, "min_p": 0.0},
        {"temperature": 0.7, "top_k": 20, "top_p": 1.0, "min_p": 0.0},
        {"temperature": 1.2, "top_k": 0, "top_p": 1.0, "min_p": 0.1},
        {"temperature": 0.0, "top_k": 0, "top_p": 1.0, "min_p": 0.0},
        {"temperature": 0.9, "top_k": 40, "top_p": 0.9, "min_p": 0.05},
        {"temperature": 0.5, "top_k": 0, "top_p": 0.8, "min_p": 0.0},
        {"temperature": 1.0, "top_k": 5, "top_p": 1.0, "min_p": 0.0},
    ]
    seeds = [1000 + r for r in range(len(prompts))]
    timing = {"model": 0.0, "head": 0.0, "tokens": 0}
    batch = decode(model, prompts, settings, seeds, chars, encode, decode_ids, timing)
    for prompt, s, generated in zip(prompts, settings, batch):
        print(f"\n--- {s}\n{prompt}{generated}")

    # Batch invariance: request 0 alone, and inside a reversed batch.
    alone = decode(model, prompts[:1], settings[:1], seeds[:1], chars, encode, decode_ids, timing)
    order = list(reversed(range(len(prompts))))
    reordered = decode(
        model,
        [prompts[i] for i in order],
        [settings[i] for i in order],
        [seeds[i] for i in order],
        chars,
        encode,
        decode_ids,
        timing,
    )
    same = alone[0] == batch[0] and all(reordered[j] == batch[i] for j, i in enumerate(order))
    print(f"\nbatch invariance: request 0 alone, in the batch and in the reversed batch identical: {same}")
    per_token = 1e6 / timing["tokens"]
    print(
        f"time per token: model {timing['model'] * per_token:.1f} us, "
        f"sampling head {timing['head'] * per_token:.1f} us "
        f"({timing['tokens']} tokens, batches of 1 and {len(prompts)})"
    )
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
