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
