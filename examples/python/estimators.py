"""Gradient estimators of a hard Gumbel-Softmax sample, compared where the
exact gradient is known, then on a real model.

1. Bias and variance. Three categorical variables of four classes, one-hot
   z = (z_1, z_2, z_3) drawn from softmax(l_n), and the loss
   f(z) = ||A vec(z) - b||^2 (fixed random A, b): the gradient of the
   expected loss E[f(z)] with respect to the logits is exact by enumerating
   the 4^3 outcomes. Each estimator (gumbel.torch.gumbel_softmax with
   hard=True and estimator=...) gives one gradient per draw; over --samples
   draws per temperature the script reports its bias |mean - exact| and its
   standard deviation, both relative to |exact|.
2. The categorical VAE of examples/python/categorical_vae.py (its model, loss
   and data, imported) trained with each estimator at a fixed temperature,
   several seeds each; reports the held-out ELBO (nats per image, mean over
   10 noise draws) as mean and standard deviation over the seeds.

Decoupled straight-through (tau_backward=) is not listed on its own: with a
hard forward the class does not depend on the forward temperature, so it is
straight-through at tau_backward (the ST rows at that temperature).

Writes a markdown table (--md) and a PNG plot (--png).

Run: `make estimators` (builds the venv, installs gumbel, matplotlib and
scikit-learn, then runs this script; a few minutes), or after `make python`:
    build/venv/bin/pip install matplotlib scikit-learn
    build/venv/bin/python examples/python/estimators.py           # a few minutes
    build/venv/bin/python examples/python/estimators.py --quick   # seconds (part of `make test`)
"""

from __future__ import annotations

import argparse
import itertools
import time
from functools import partial

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import torch

import gumbel
import gumbel.torch
from categorical_vae import CategoricalVAE, digits, losses

# (label, keyword arguments of gumbel.torch.gumbel_softmax)
ESTIMATORS = [
    ("ST", {"estimator": "st"}),
    ("ReinMax", {"estimator": "reinmax"}),
    ("Gumbel-Rao m=1", {"estimator": "gumbel_rao", "draws": 1}),
    ("Gumbel-Rao m=10", {"estimator": "gumbel_rao", "draws": 10}),
    ("gapped ST gap=1", {"estimator": "gapped_st", "gap": 1.0}),
]

N_VARS, N_CLASSES = 3, 4


def toy_problem(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(N_VARS, N_CLASSES, generator=g, dtype=torch.float64)
    a = torch.randn(5, N_VARS * N_CLASSES, generator=g, dtype=torch.float64)
    b = torch.randn(5, generator=g, dtype=torch.float64)
    return logits, a, b


def toy_loss(z: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """f(z) = ||A vec(z) - b||^2 per draw, for z of shape (..., N_VARS, N_CLASSES)."""
    return ((z.flatten(-2) @ a.T - b) ** 2).sum(-1)


def exact_gradient(logits: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """d/dlogits of E[f(z)] = sum_z q(z) f(z), by enumerating every outcome."""
    x = logits.clone().requires_grad_(True)
    log_q = torch.log_softmax(x, -1)
    eye = torch.eye(N_CLASSES, dtype=x.dtype)
    outcomes = torch.tensor(list(itertools.product(range(N_CLASSES), repeat=N_VARS)))
    z = eye[outcomes]  # (K^N, N, K) one-hots
    q = log_q[torch.arange(N_VARS), outcomes].sum(-1).exp()
    (q * toy_loss(z, a, b)).sum().backward()
    return x.grad


def bias_and_std(samples: int, temperatures: list[float]) -> dict[str, list[tuple[float, float]]]:
    logits, a, b = toy_problem()
    exact = exact_gradient(logits, a, b)
    norm = exact.norm().item()
    out: dict[str, list[tuple[float, float]]] = {}
    for label, kw in ESTIMATORS:
        rows = []
        for tau in temperatures:
            torch.manual_seed(1)
            x = logits.expand(samples, N_VARS, N_CLASSES).clone().requires_grad_(True)
            z = gumbel.torch.gumbel_softmax(x, tau, hard=True, **kw)
            toy_loss(z, a, b).sum().backward()  # row s of x.grad: the estimate of draw s
            g = x.grad
            mean = g.mean(0)
            bias = (mean - exact).norm().item() / norm
            std = ((g - mean) ** 2).sum((1, 2)).mean().sqrt().item() / norm
            rows.append((bias, std))
        out[label] = rows
    return out


def train_vae(kw: dict, seed: int, epochs: int, tau: float, train: torch.Tensor, test: torch.Tensor, warmup: int) -> float:
    """Held-out ELBO (nats per image) after training with the estimator ``kw``."""
    torch.manual_seed(seed)
    model = CategoricalVAE()
    optim = torch.optim.Adam(model.parameters(), lr=3e-3)
    sampler = partial(gumbel.torch.gumbel_softmax, **kw)
    order_rng = np.random.default_rng(seed)
    batch = 20
    for epoch in range(1, epochs + 1):
        beta = min(1.0, epoch / warmup) if warmup > 0 else 1.0
        order = torch.from_numpy(order_rng.permutation(len(train)))
        for i in range(0, len(train), batch):
            nll, kl = losses(model, train[order[i : i + batch]], tau, sampler)
            optim.zero_grad()
            (nll + beta * kl).backward()
            optim.step()
    with torch.no_grad():
        return -float(np.mean([float(sum(losses(model, test, tau, sampler))) for _ in range(10)]))


def markdown(temperatures, stats, elbo, args) -> str:
    lines = [
        f"Bias and standard deviation of each estimator's gradient of E[f(z)], relative to the exact gradient's norm "
        f"({N_VARS} variables of {N_CLASSES} classes, {args.samples} draws per cell; a bias below about "
        f"std / sqrt(draws) is Monte Carlo noise):",
        "",
        "| estimator | " + " | ".join(f"tau={t:g} bias / std" for t in temperatures) + " |",
        "|---|" + "---|" * len(temperatures),
    ]
    for label, rows in stats.items():
        lines.append(f"| {label} | " + " | ".join(f"{b:.3f} / {s:.2f}" for b, s in rows) + " |")
    lines += [
        "",
        f"Categorical VAE on the digits, tau={args.tau:g}, {args.epochs} epochs, held-out ELBO (nats per image) over "
        f"{args.seeds} seeds (mean ± standard deviation; higher is better):",
        "",
        "| estimator | held-out ELBO | per seed |",
        "|---|---|---|",
    ]
    for label, values in elbo.items():
        spread = np.std(values, ddof=1) if len(values) > 1 else float("nan")
        lines.append(f"| {label} | {np.mean(values):.2f} ± {spread:.2f} | " + ", ".join(f"{v:.2f}" for v in values) + " |")
    return "\n".join(lines) + "\n"


def plot(path: str, temperatures, stats, elbo) -> None:
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    for label, rows in stats.items():
        axes[0].plot(temperatures, [b for b, _ in rows], "o-", label=label)
        axes[1].plot(temperatures, [s for _, s in rows], "o-", label=label)
    for ax, title in zip(axes[:2], ("bias (relative)", "standard deviation (relative)")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("temperature tau")
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
    axes[0].legend(fontsize=8)
    labels = list(elbo)
    means = [np.mean(elbo[k]) for k in labels]
    spreads = [np.std(elbo[k], ddof=1) if len(elbo[k]) > 1 else 0.0 for k in labels]
    axes[2].errorbar(range(len(labels)), means, yerr=spreads, fmt="o", capsize=4)
    for i, k in enumerate(labels):
        axes[2].plot([i] * len(elbo[k]), elbo[k], ".", color="grey")
    axes[2].set_xticks(range(len(labels)), labels, rotation=20, fontsize=8)
    axes[2].set_title("categorical VAE: held-out ELBO (nats)")
    axes[2].grid(True, axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run of seconds (few draws, one short VAE run)")
    parser.add_argument("--samples", type=int, default=200000, help="draws per estimator and temperature")
    parser.add_argument("--epochs", type=int, default=20, help="VAE training epochs")
    parser.add_argument("--seeds", type=int, default=5, help="VAE runs per estimator")
    parser.add_argument("--tau", type=float, default=1.0, help="VAE temperature")
    parser.add_argument("--warmup", type=int, default=5, help="epochs over which the VAE's KL weight rises to 1")
    parser.add_argument("--md", default="build/estimators.md")
    parser.add_argument("--png", default="build/estimators.png")
    args = parser.parse_args()
    temperatures = [0.1, 0.25, 0.5, 1.0, 2.0, 4.0]
    if args.quick:
        args.samples, args.epochs, args.seeds, args.warmup, temperatures = 500, 1, 2, 1, [0.5, 2.0]
    torch.set_num_threads(1)

    print(f"gumbel {gumbel.version()}")
    start = time.perf_counter()
    stats = bias_and_std(args.samples, temperatures)
    print(f"bias and variance: {time.perf_counter() - start:.1f} s")
    train, test = digits(0)
    if args.quick:
        train = train[:200]
    elbo: dict[str, list[float]] = {}
    for label, kw in ESTIMATORS:
        start = time.perf_counter()
        elbo[label] = [train_vae(kw, seed, args.epochs, args.tau, train, test, args.warmup) for seed in range(args.seeds)]
        print(f"VAE {label}: {time.perf_counter() - start:.1f} s")
    table = markdown(temperatures, stats, elbo, args)
    print()
    print(table)
    with open(args.md, "w") as f:
        f.write(table)
    plot(args.png, temperatures, stats, elbo)
    print(f"table saved to {args.md}, plot to {args.png}")


if __name__ == "__main__":
    main()
