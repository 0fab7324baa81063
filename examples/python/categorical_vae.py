"""Categorical VAE (Jang et al. 2017, section 4.2) on scikit-learn's handwritten
digits, trained twice from the same initialisation and the same minibatches:
once sampling its latent code with gumbel.torch.gumbel_softmax, once with
torch.nn.functional.gumbel_softmax. Both use straight-through (hard) samples
and the paper's annealed temperature tau = max(0.5, exp(-r t)).

The model: 8x8 images binarised at half intensity; an MLP encoder 64-256-128
to N = 20 categorical variables of K = 10 classes; an MLP decoder to 64
Bernoulli logits. Loss: the negative ELBO, -E_q[log p(x|z)] + KL(q(z|x) || U),
the KL of the categoricals against the uniform prior computed analytically as
in the paper's experiments; its weight rises linearly to 1 over the first
--warmup epochs (KL warm-up, against posterior collapse on this small data
set). The ELBO printed is always the full one (weight 1). Prints, per epoch, the temperature, the training
and held-out ELBO (nats per image) and the seconds per epoch of both runs, and
saves a PNG of held-out digits with both models' reconstructions.

Run (after `make python`, which builds the venv and installs gumbel):
    build/venv/bin/pip install scikit-learn
    build/venv/bin/python examples/python/categorical_vae.py --epochs 50
"""

from __future__ import annotations

import argparse
import copy
import struct
import time
import zlib

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits

import gumbel
import gumbel.torch

N_LATENT, K = 20, 10


class CategoricalVAE(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, N_LATENT * K))
        self.decoder = nn.Sequential(nn.Linear(N_LATENT * K, 128), nn.ReLU(), nn.Linear(128, 256), nn.ReLU(), nn.Linear(256, 64))

    def forward(self, x: torch.Tensor, tau: float, sampler, hard: bool = True):
        logits = self.encoder(x).view(-1, N_LATENT, K)
        z = sampler(logits, tau=tau, hard=hard, dim=-1)
        return self.decoder(z.view(-1, N_LATENT * K)), logits


def losses(model: CategoricalVAE, x: torch.Tensor, tau: float, sampler, hard: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """Batch means of -log p(x|z) and of KL(q(z|x) || uniform), in nats."""
    recon_logits, logits = model(x, tau, sampler, hard)
    nll = F.binary_cross_entropy_with_logits(recon_logits, x, reduction="none").sum(-1)
    log_q = F.log_softmax(logits, dim=-1)
    kl = (log_q.exp() * (log_q + np.log(K))).sum((-1, -2))
    return nll.mean(), kl.mean()


def digits(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The binarised digits, split by ``seed``: (training, held-out) float32
    tensors of shapes (1500, 64) and (297, 64)."""
    data = (load_digits().data / 16.0 > 0.5).astype(np.float32)
    perm = np.random.default_rng(seed).permutation(len(data))
    return torch.from_numpy(data[perm[297:]]), torch.from_numpy(data[perm[:297]])


def write_png(path: str, image: np.ndarray) -> None:
    """Writes a grey-scale uint8 image as a PNG (zlib and struct only)."""
    h, w = image.shape
    raw = b"".join(b"\x00" + image[r].tobytes() for r in range(h))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)))
        f.write(chunk(b"IDAT", zlib.compress(raw, 9)))
        f.write(chunk(b"IEND", b""))


def tile(rows: list[np.ndarray], scale: int = 4) -> np.ndarray:
    """rows of (n, 64) intensities in [0, 1] -> one uint8 image, 1-pixel gaps."""
    n = rows[0].shape[0]
    cell = 8 * scale + 1
    img = np.full((len(rows) * cell + 1, n * cell + 1), 255, np.uint8)
    for r, row in enumerate(rows):
        for c in range(n):
            digit = np.kron(row[c].reshape(8, 8), np.ones((scale, scale)))
            img[r * cell + 1 : r * cell + 1 + 8 * scale, c * cell + 1 : c * cell + 1 + 8 * scale] = (255 * (1 - digit)).astype(np.uint8)
    return img


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--batch", type=int, default=20)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--anneal-rate", type=float, default=3e-4, help="r in tau = max(0.5, exp(-r t)), t in steps")
    parser.add_argument("--warmup", type=int, default=10, help="epochs over which the KL weight rises to 1")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--png", default="build/categorical_vae.png")
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    train, test = digits(args.seed)

    models = {"gumbel": CategoricalVAE()}
    models["torch"] = copy.deepcopy(models["gumbel"])
    samplers = {"gumbel": gumbel.torch.gumbel_softmax, "torch": F.gumbel_softmax}
    optims = {k: torch.optim.Adam(m.parameters(), lr=args.lr) for k, m in models.items()}
    # Each run draws its noise from its own torch generator state, so both see
    # the same minibatches but independent noise.
    rngs = {k: torch.Generator().manual_seed(args.seed + i + 1) for i, k in enumerate(models)}

    print(f"{len(train)} training and {len(test)} held-out digits, {N_LATENT} x {K}-way latent code, gumbel {gumbel.version()}")
    print("epoch    tau | train ELBO: gumbel   torch | held-out ELBO: gumbel   torch | s/epoch: gumbel  torch")
    step = 0
    order_rng = np.random.default_rng(args.seed)
    for epoch in range(1, args.epochs + 1):
        tau = max(0.5, float(np.exp(-args.anneal_rate * step)))
        beta = min(1.0, epoch / args.warmup) if args.warmup > 0 else 1.0
        order = torch.from_numpy(order_rng.permutation(len(train)))
        stats = {}
        for name, model in models.items():
            model.train()
            total, start = 0.0, time.perf_counter()
            state = torch.get_rng_state()
            torch.set_rng_state(rngs[name].get_state())
            for b in range(0, len(train), args.batch):
                x = train[order[b : b + args.batch]]
                nll, kl = losses(model, x, tau, samplers[name])
                optims[name].zero_grad()
                (nll + beta * kl).backward()
                optims[name].step()
                total += (nll + kl).item() * len(x)
            seconds = time.perf_counter() - start
            rngs[name].set_state(torch.get_rng_state())
            torch.set_rng_state(state)
            model.eval()
            with torch.no_grad():
                held_out = float(sum(losses(model, test, tau, samplers[name])))
            stats[name] = (-total / len(train), -held_out, seconds)
        step += (len(train) + args.batch - 1) // args.batch
        g, t = stats["gumbel"], stats["torch"]
        print(f"{epoch:5d} {tau:6.3f} | {g[0]:18.2f} {t[0]:7.2f} | {g[1]:21.2f} {t[1]:7.2f} | {g[2]:15.3f} {t[2]:6.3f}")

    with torch.no_grad():
        x = test[:12]
        rows = [x.numpy()]
        for name, model in models.items():
            recon, _ = model(x, 0.5, samplers[name])
            rows.append(torch.sigmoid(recon).numpy())
    write_png(args.png, tile(rows))
    print(f"reconstructions (rows: held-out digits, gumbel, torch) saved to {args.png}")


if __name__ == "__main__":
    main()
