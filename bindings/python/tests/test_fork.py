"""Fork safety: after os.fork(), the default generators of the NumPy API
(gumbel.default_generator()) and of the torch API (PyTorch's default CPU
generator, which keys gumbel.torch's calls) are reseeded in the child, so a
parent and its forked workers draw different noise; an explicit seed still
replays in both."""

import os
import pickle

import numpy as np
import pytest
import torch

import gumbel
import gumbel.torch as gt

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")


def draws():
    """One draw of each API with its default generator, and explicit replays."""
    x = np.zeros((4, 8))
    return {
        "numpy": gumbel.gumbel_softmax(x),
        "numpy default generator": (gumbel.default_generator().seed, gumbel.default_generator().offset),
        "torch": gt.gumbel_softmax(torch.zeros(4, 8)).numpy(),
        "torch bernoulli": gt.relaxed_bernoulli(torch.zeros(4, 8)).numpy(),
        "numpy seeded": gumbel.gumbel_softmax(x, seed=3),
        "torch seeded": gt.gumbel_softmax(torch.zeros(4, 8), seed=3).numpy(),
    }


def in_child(fn):
    """Runs fn in a forked child and returns its result through a pipe."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        code = 0
        try:
            os.close(read)
            with os.fdopen(write, "wb") as f:
                pickle.dump(fn(), f)
        except BaseException:  # noqa: BLE001
            code = 1
        finally:
            os._exit(code)
    os.close(write)
    with os.fdopen(read, "rb") as f:
        data = f.read()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    return pickle.loads(data)


def test_forked_child_draws_other_noise():
    gumbel.default_generator()  # the parent's default generator exists before the fork
    torch.manual_seed(1234)  # and PyTorch's generator has a known state
    child = in_child(draws)
    parent = draws()
    torch.manual_seed(1234)
    again = draws()
    for name in ("torch", "torch bernoulli"):  # the parent keeps its state: manual_seed replays
        assert np.array_equal(parent[name], again[name])
    for name in ("numpy", "torch", "torch bernoulli"):
        assert not np.array_equal(child[name], parent[name]), name
    assert child["numpy default generator"][0] != parent["numpy default generator"][0]
    for name in ("numpy seeded", "torch seeded"):
        assert np.array_equal(child[name], parent[name]), name


def test_child_reseeds_torch_after_manual_seed():
    """A child that seeds PyTorch after the fork (as DataLoader workers do) is
    repeatable: the reseeding happens at the fork, not at each call."""

    def seeded():
        torch.manual_seed(99)
        return gt.gumbel_softmax(torch.zeros(3, 4)).numpy()

    assert np.array_equal(in_child(seeded), in_child(seeded))
    assert np.array_equal(in_child(seeded), seeded())
