"""Categorical VAE in JAX (Jang et al. 2017, section 4.2) on scikit-learn's
handwritten digits, trained under jax.jit twice from the same initialisation,
keys and minibatches: once sampling its latent code with
gumbel.jax.gumbel_softmax, once with the usual pure-JAX Gumbel-Softmax
(jax.random.gumbel + jax.nn.softmax, straight-through by stop_gradient).

The model: 8x8 images binarised at half intensity; an MLP encoder 64-256-128
to N = 20 categorical variables of K = 10 classes; an MLP decoder to 64
Bernoulli logits; straight-through (hard) samples at the annealed
temperature tau = max(0.5, exp(-r t)) (a traced argument: one compiled step
serves every temperature). Loss: the negative ELBO with the analytic KL of
the categoricals against the uniform prior, weighted up to 1 over the first
--warmup epochs. Adam (optax), batch 100.

Prints per epoch the temperature, the held-out ELBO (nats per image) of both
runs and their seconds per training step, then the sampler alone (forward and
backward of a hard sample under jit) on (4096, 1024) float32 logits.

Run (after `make python`; `make jax-vae` installs the examples' packages):
    build/venv/bin/python examples/python/jax_vae.py --epochs 30
"""

from __future__ import annotations

import argparse
import time
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax
from sklearn.datasets import load_digits

import gumbel.jax

N_LATENT, K, BATCH = 20, 10, 100
Sampler = Callable[[jax.Array, jax.Array, jax.Array], jax.Array]


def gumbel_jax(key: jax.Array, logits: jax.Array, tau: jax.Array) -> jax.Array:
    return gumbel.jax.gumbel_softmax(key, logits, tau, hard=True)


def pure_jax(key: jax.Array, logits: jax.Array, tau: jax.Array) -> jax.Array:
    """The Gumbel-Softmax as JAX users write it."""
    y = jax.nn.softmax((logits + jax.random.gumbel(key, logits.shape, logits.dtype)) / tau, axis=-1)
    hard = jax.nn.one_hot(jnp.argmax(y, -1), logits.shape[-1], dtype=y.dtype)
    return y + jax.lax.stop_gradient(hard - y)


def init(key: jax.Array, sizes: list[int]) -> list[tuple[jax.Array, jax.Array]]:
    layers = []
    for k, (m, n) in zip(jax.random.split(key, len(sizes) - 1), zip(sizes[:-1], sizes[1:])):
        layers.append((jax.random.normal(k, (m, n)) * np.sqrt(2.0 / m), jnp.zeros(n)))
    return layers


def mlp(layers: list[tuple[jax.Array, jax.Array]], x: jax.Array) -> jax.Array:
    for w, b in layers[:-1]:
        x = jax.nn.relu(x @ w + b)
    w, b = layers[-1]
    return x @ w + b


def losses(params: Any, key: jax.Array, x: jax.Array, tau: jax.Array, sampler: Sampler) -> tuple[jax.Array, jax.Array]:
    """Batch means of -log p(x|z) and KL(q(z|x) || uniform), in nats."""
    logits = mlp(params["encoder"], x).reshape(-1, N_LATENT, K)
    z = sampler(key, logits, tau)
    recon = mlp(params["decoder"], z.reshape(-1, N_LATENT * K))
    nll = optax.sigmoid_binary_cross_entropy(recon, x).sum(-1)
    log_q = jax.nn.log_softmax(logits, -1)
    kl = (jnp.exp(log_q) * (log_q + np.log(K))).sum((-1, -2))
    return nll.mean(), kl.mean()


def make_step(sampler: Sampler, optimizer: optax.GradientTransformation) -> Callable[..., Any]:
    def loss(params: Any, key: jax.Array, x: jax.Array, tau: jax.Array, beta: jax.Array) -> jax.Array:
        nll, kl = losses(params, key, x, tau, sampler)
        return nll + beta * kl

    @jax.jit
    def step(params: Any, state: Any, key: jax.Array, x: jax.Array, tau: jax.Array, beta: jax.Array) -> Any:
        value, grads = jax.value_and_grad(loss)(params, key, x, tau, beta)
        updates, state = optimizer.update(grads, state, params)
        return optax.apply_updates(params, updates), state, value

    return step


def held_out_elbo(params: Any, key: jax.Array, x: jax.Array, sampler: Sampler) -> float:
    nll, kl = jax.jit(lambda p, k, x: losses(p, k, x, jnp.float32(0.5), sampler))(params, key, x)
    return -float(nll + kl)


def sampler_speed(repeats: int) -> tuple[float, float]:
    """Seconds of the jitted forward + backward of a hard sample on (4096,
    1024) float32 logits: (gumbel.jax, pure JAX), best of ``repeats``."""
    x = jax.random.normal(jax.random.key(0), (4096, 1024))
    w = jax.random.normal(jax.random.key(1), (4096, 1024))
    best = []
    for sampler in (gumbel_jax, pure_jax):
        fn = jax.jit(jax.grad(lambda x, k: jnp.sum(w * sampler(k, x, jnp.float32(0.5)))))
        fn(x, jax.random.key(2)).block_until_ready()
        times = []
        for i in range(repeats):
            start = time.perf_counter()
            fn(x, jax.random.key(3 + i)).block_until_ready()
            times.append(time.perf_counter() - start)
        best.append(min(times))
    return best[0], best[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=10, help="epochs of KL warm-up")
    parser.add_argument("--rate", type=float, default=3e-4, help="annealing rate r per step")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="3 epochs, a short speed check (a test)")
    args = parser.parse_args()
    if args.quick:
        args.epochs, args.warmup = 3, 1

    data = (load_digits().data / 16.0 > 0.5).astype(np.float32)
    order = np.random.default_rng(args.seed).permutation(len(data))
    train, test = jnp.asarray(data[order[:1500]]), jnp.asarray(data[order[1500:]])
    key = jax.random.key(args.seed)
    k_enc, k_dec, k_train, k_eval = jax.random.split(key, 4)
    params0 = {"encoder": init(k_enc, [64, 256, 128, N_LATENT * K]), "decoder": init(k_dec, [N_LATENT * K, 128, 256, 64])}
    optimizer = optax.adam(1e-3)
    runs = {}
    for name, sampler in (("gumbel.jax", gumbel_jax), ("pure JAX", pure_jax)):
        runs[name] = {"params": params0, "state": optimizer.init(params0), "step": make_step(sampler, optimizer), "sampler": sampler, "seconds": 0.0, "steps": 0}

    print(f"{'epoch':>5} {'tau':>6} | {'held-out ELBO':>27} | {'ms per step':>21}")
    print(f"{'':>5} {'':>6} | {'gumbel.jax':>13} {'pure JAX':>13} | {'gumbel.jax':>10} {'pure JAX':>10}")
    t = 0
    for epoch in range(1, args.epochs + 1):
        perm = np.random.default_rng(args.seed + epoch).permutation(len(train))
        beta = jnp.float32(min(1.0, epoch / max(1, args.warmup)))
        for i, start in enumerate(range(0, len(train) - BATCH + 1, BATCH)):
            x = train[perm[start : start + BATCH]]
            tau = jnp.float32(max(0.5, np.exp(-args.rate * t)))
            k = jax.random.fold_in(k_train, t)
            for run in runs.values():
                begin = time.perf_counter()
                run["params"], run["state"], loss = run["step"](run["params"], run["state"], k, x, tau, beta)
                loss.block_until_ready()
                if epoch > 1 or i > 0:  # the first call compiles
                    run["seconds"] += time.perf_counter() - begin
                    run["steps"] += 1
            t += 1
        elbo = {name: held_out_elbo(run["params"], k_eval, test, run["sampler"]) for name, run in runs.items()}
        ms = {name: 1e3 * run["seconds"] / max(1, run["steps"]) for name, run in runs.items()}
        print(
            f"{epoch:>5} {float(tau):>6.3f} | {elbo['gumbel.jax']:>13.2f} {elbo['pure JAX']:>13.2f} | "
            f"{ms['gumbel.jax']:>10.3f} {ms['pure JAX']:>10.3f}",
            flush=True,
        )
    for name, value in elbo.items():
        if not np.isfinite(value):
            raise SystemExit(f"{name}: the held-out ELBO is {value}")

    ours, theirs = sampler_speed(3 if args.quick else 20)
    n = 4096 * 1024
    print(
        f"hard sample, forward + backward under jit, (4096, 1024) float32: gumbel.jax {ours * 1e3:.2f} ms "
        f"({ours * 1e9 / n:.2f} ns/element), pure JAX {theirs * 1e3:.2f} ms ({theirs * 1e9 / n:.2f} ns/element): "
        f"{theirs / ours:.1f}x"
    )


if __name__ == "__main__":
    main()
