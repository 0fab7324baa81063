import math
import os

import numpy as np
import pytest

# Significance level of every statistical test, as in the Rust suite: a correct
# implementation fails one with probability 1e-6; seeds are fixed anyway.
ALPHA = 1e-6


def chi2_sf(x: float, df: int) -> float:
    """Upper tail of the chi-square distribution, via the regularized gamma Q(df/2, x/2)."""
    import torch

    return float(torch.special.gammaincc(torch.tensor(df / 2.0, dtype=torch.float64), torch.tensor(x / 2.0, dtype=torch.float64)))


def normal_two_sided(z: float) -> float:
    return math.erfc(abs(z) / math.sqrt(2.0))


@pytest.fixture(scope="session")
def c_reference() -> bytes:
    """Output of tests/c_reference.c (built by `make test-python`)."""
    path = os.environ.get("GUMBEL_C_REFERENCE")
    if not path:
        pytest.skip("GUMBEL_C_REFERENCE not set: run through `make test-python`")
    import subprocess

    return subprocess.run([path], check=True, capture_output=True).stdout


def reference_logits(dtype) -> np.ndarray:
    i = np.arange(5 * 7 * 3)
    return (((37 * i) % 23 - 11) / 4.0).astype(dtype).reshape(5, 7, 3)


def gumbel_noise_like(shape, dim, seed, offset, dtype):
    """The library's Gumbel noise of a categorical call at (seed, offset), as a
    torch tensor, up to a per-row constant that softmax ignores:
    g - logsumexp(g) along dim, the log-softmax of zero logits at tau 1."""
    import torch

    import gumbel

    z = np.zeros(tuple(shape), dtype={torch.float32: np.float32, torch.float64: np.float64}[dtype])
    return torch.from_numpy(gumbel.gumbel_log_softmax(z, 1.0, axis=dim, seed=seed, offset=offset))


def logistic_noise_like(shape, seed, offset, dtype):
    """The library's logistic noise L of a relaxed Bernoulli call at (seed,
    offset): the soft sample of zero logits at tau 1 is sigmoid(L)."""
    import torch

    import gumbel

    z = np.zeros(tuple(shape), dtype={torch.float32: np.float32, torch.float64: np.float64}[dtype])
    u = torch.from_numpy(gumbel.relaxed_bernoulli(z, 1.0, seed=seed, offset=offset))
    return torch.log(u) - torch.log1p(-u)
