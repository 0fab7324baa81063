"""The NumPy API against the C ABI called directly (bit for bit), and its
array handling: zero copy, copies, out=, axes, dtypes, generators."""

import os
import re

import numpy as np
import pytest
from conftest import reference_logits

import gumbel

SEED, OFFSET = 20240611, 3


def test_bit_for_bit_with_c(c_reference):
    lf = reference_logits(np.float32)
    ld = reference_logits(np.float64)
    kw = dict(axis=1, seed=SEED, offset=OFFSET)
    parts = [
        gumbel.gumbel_softmax(lf, 0.5, **kw),
        gumbel.gumbel_softmax(lf, 0.5, hard=True, **kw),
        gumbel.gumbel_softmax(ld, 0.5, **kw),
        gumbel.sample(ld, **kw),
        gumbel.gumbel_log_softmax(lf, 0.5, **kw),
        gumbel.noise(101, 1.0, 2.0, dtype=np.float64, seed=SEED, offset=OFFSET),
        gumbel.relaxed_bernoulli(lf, 0.7, seed=SEED, offset=OFFSET),
    ]
    assert b"".join(p.tobytes() for p in parts) == c_reference


def test_every_header_function_is_bound():
    # The declarations cffi loaded are those of the committed header.
    header = os.path.join(os.path.dirname(__file__), "..", "..", "..", "include", "gumbel.h")
    names = set(re.findall(r"\b(gumbel_\w+)\(", open(header).read()))
    assert len(names) > 60
    for name in names:
        assert hasattr(gumbel.lib, name), name
    assert gumbel.version() == "%d.%d.%d" % (
        gumbel.lib.GUMBEL_VERSION_MAJOR,
        gumbel.lib.GUMBEL_VERSION_MINOR,
        gumbel.lib.GUMBEL_VERSION_PATCH,
    )


def test_axis_is_the_transposed_contiguous_call():
    x = np.random.default_rng(0).normal(size=(4, 6, 5)).astype(np.float32)
    a = gumbel.gumbel_softmax(x, 0.7, axis=1, seed=9, offset=0)
    b = gumbel.gumbel_softmax(np.moveaxis(x, 1, -1).copy(), 0.7, seed=9, offset=0)
    assert np.array_equal(a, np.moveaxis(b, -1, 1))
    # A strided view is copied and gives the bits of its contiguous copy.
    view = np.moveaxis(x, 1, -1)
    assert not view.flags.c_contiguous
    assert np.array_equal(gumbel.gumbel_softmax(view, 0.7, seed=9, offset=0), b)


def test_zero_copy_out_and_in_place_rules():
    x = np.random.default_rng(1).normal(size=(8, 10))
    out = np.empty_like(x)
    y = gumbel.gumbel_softmax(x, 1.0, seed=1, out=out)
    assert y is out
    np.testing.assert_allclose(y.sum(axis=-1), 1.0, rtol=1e-12)
    with pytest.raises(gumbel.OverlapError, match="overlap"):
        gumbel.gumbel_softmax(x, 1.0, seed=1, out=x)
    with pytest.raises(TypeError, match="dtype"):
        gumbel.gumbel_softmax(x, seed=1, out=np.empty((8, 10), np.float32))
    with pytest.raises(ValueError, match="shape"):
        gumbel.gumbel_softmax(x, seed=1, out=np.empty((8, 11)))
    with pytest.raises(ValueError, match="contiguous"):
        gumbel.gumbel_softmax(x, seed=1, out=np.empty((10, 8)).T)
    ro = np.empty_like(x)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        gumbel.gumbel_softmax(x, seed=1, out=ro)
    # The dist functions run in place.
    z = np.linspace(-3, 3, 7)
    expect = np.exp(-np.exp(-z))
    assert gumbel.dist.cdf(z, out=z) is z
    np.testing.assert_allclose(z, expect, rtol=1e-15)


def test_dtypes():
    x32 = np.zeros((3, 4), np.float32)
    assert gumbel.gumbel_softmax(x32, seed=0).dtype == np.float32
    assert gumbel.gumbel_softmax(x32.astype(np.float64), seed=0).dtype == np.float64
    assert gumbel.gumbel_softmax([[0, 1, 2]], seed=0).dtype == np.float64
    assert gumbel.sample(x32, seed=0).dtype == np.int64
    assert gumbel.sample(x32, seed=0).shape == (3,)
    # float32 and float64 draw the same variates, rounded differently.
    a = gumbel.noise((1000,), dtype=np.float32, seed=5)
    b = gumbel.noise((1000,), dtype=np.float64, seed=5)
    np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


def test_generator_advances_and_replays():
    x = np.zeros((3, 20000))
    g = gumbel.Generator(11)
    assert (g.seed, g.offset) == (11, 0)
    first = gumbel.gumbel_softmax(x, generator=g)
    used = gumbel.streams(3, 20000, 1)
    assert used == 6 and g.offset == used  # rows over 16384 classes take 2 segments each
    second = gumbel.gumbel_softmax(x, generator=g)
    assert g.offset == 2 * used
    assert not np.array_equal(first, second)
    assert np.array_equal(first, gumbel.gumbel_softmax(x, seed=11, offset=0))
    assert np.array_equal(second, gumbel.gumbel_softmax(x, seed=11, offset=used))
    # Two generators with the same state give the same stream.
    assert np.array_equal(gumbel.noise(5, generator=gumbel.Generator(3)), gumbel.noise(5, generator=gumbel.Generator(3)))
    assert repr(gumbel.Generator(3, 4)) == "gumbel.Generator(seed=3, offset=4)"
    with pytest.raises(TypeError):
        gumbel.noise(5, seed=1, generator=g)
    with pytest.raises(TypeError):
        gumbel.noise(5, offset=4)
    with pytest.raises(ValueError):
        gumbel.Generator(-1)
    with pytest.raises(ValueError):
        gumbel.Generator(2**64)
    with pytest.raises(OverflowError):
        gumbel.Generator(0, 2**64 - 1).take(1, 10, 1)


def test_coupling_of_soft_hard_sample_and_log():
    x = np.random.default_rng(2).normal(size=(50, 9)) * 3
    kw = dict(seed=4, offset=7)
    soft = gumbel.gumbel_softmax(x, 0.3, **kw)
    hard = gumbel.gumbel_softmax(x, 0.3, hard=True, **kw)
    idx = gumbel.sample(x, **kw)
    assert np.array_equal(idx, soft.argmax(-1))
    assert np.array_equal(hard, np.eye(9)[idx])
    np.testing.assert_allclose(np.exp(gumbel.gumbel_log_softmax(x, 0.3, **kw)), soft, rtol=1e-12, atol=1e-300)


def test_masks_and_per_row_tau():
    x = np.array([[0.0, -np.inf, 1.0], [-np.inf, 2.0, -np.inf]])
    y = gumbel.gumbel_softmax(x, 0.5, seed=3)
    assert y[0, 1] == 0.0 and y[1, 0] == 0.0 and y[1, 2] == 0.0 and y[1, 1] == 1.0
    # Equal per-row temperatures give the scalar call's exact bits.
    x = np.random.default_rng(3).normal(size=(6, 5))
    assert np.array_equal(gumbel.gumbel_softmax(x, np.full(6, 0.4), seed=1), gumbel.gumbel_softmax(x, 0.4, seed=1))
    t = np.linspace(0.2, 2.0, 6)
    np.testing.assert_allclose(gumbel.tempered_softmax(x, t), np.exp(x / t[:, None]) / np.exp(x / t[:, None]).sum(-1, keepdims=True), rtol=1e-12)


def test_backward_and_grad_tau_match_finite_differences():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(3, 5))
    v = rng.normal(size=(3, 5))
    tau = 0.8
    y = gumbel.gumbel_softmax(x, tau, seed=2)
    g = gumbel.gumbel_softmax_backward(y, v, tau)

    def f(xx, tt=tau):
        return float((gumbel.gumbel_softmax(xx, tt, seed=2) * v).sum())

    h = 1e-6
    fd = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = h
        fd[i] = (f(x + e) - f(x - e)) / (2 * h)
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-8)
    gt = gumbel.gumbel_softmax_grad_tau(y, v, tau)
    assert isinstance(gt, float)
    assert abs(gt - (f(x, tau + h) - f(x, tau - h)) / (2 * h)) < 1e-6
    per_row = gumbel.gumbel_softmax_grad_tau(y, v, np.full(3, tau))
    assert per_row.shape == (3,)
    assert abs(per_row.sum() - gt) < 1e-12


def test_relaxed_bernoulli_family():
    x = np.linspace(-3, 3, 13)
    y = gumbel.relaxed_bernoulli(x, 0.5, seed=8)
    assert ((y > 0) & (y < 1)).all()
    h = gumbel.relaxed_bernoulli(x, 0.5, hard=True, seed=8)
    assert np.array_equal(h, (y > 0.5).astype(np.float64))
    v = np.ones_like(x)
    np.testing.assert_allclose(gumbel.relaxed_bernoulli_backward(y, v, 0.5), y * (1 - y) / 0.5, rtol=1e-14)
    # Binary Concrete log-density at y = 1/2 with logit 0: t = 0, log p = log tau - 2 log 2 - 2 log(1/2) = log tau.
    lp = gumbel.relaxed_bernoulli_log_prob(np.array([0.5]), np.array([0.0]), 0.5)
    np.testing.assert_allclose(lp, [np.log(0.5)], rtol=1e-14)


def test_concrete_densities():
    # K = 2, tau = 1, logits 0 at y = (1/2, 1/2): lgamma(2) = 0, (K-1) log tau = 0,
    # sum_k (l_k - 2 log y_k) = 4 log 2, K logsumexp_k(l_k - log y_k) = 2 (2 log 2):
    # log p = 0 (the Concrete with K = 2, tau = 1, equal logits is uniform in y_1).
    y = np.full((1, 2), 0.5)
    lp = gumbel.concrete_log_prob(y, np.zeros((1, 2)), 1.0)
    assert lp.shape == (1,)
    np.testing.assert_allclose(lp, [0.0], atol=1e-14)
    lx = gumbel.exp_concrete_log_prob(np.log(y), np.zeros((1, 2)), 1.0)
    np.testing.assert_allclose(lx, lp + np.log(y).sum(), rtol=1e-12)


def test_dist_and_schedules():
    np.testing.assert_allclose(gumbel.dist.mean(1.0, 2.0), 1.0 + 2.0 * np.euler_gamma, rtol=1e-15)
    np.testing.assert_allclose(gumbel.dist.variance(0.0, 2.0), (np.pi * 2.0) ** 2 / 6, rtol=1e-15)
    assert gumbel.dist.mode(3.0, 1.0) == 3.0
    np.testing.assert_allclose(gumbel.dist.entropy(0.0, 1.0), np.euler_gamma + 1, rtol=1e-15)
    assert gumbel.dist.kl(0.0, 1.0, 0.0, 1.0) == pytest.approx(0.0, abs=1e-15)
    p = np.array([0.1, 0.5, 0.9], np.float32)
    np.testing.assert_allclose(gumbel.dist.cdf(gumbel.dist.icdf(p)), p, rtol=1e-6)
    np.testing.assert_allclose(gumbel.dist.sf(gumbel.dist.isf(p)), p, rtol=1e-6)
    z = np.array([-1.0, 0.0, 2.0])
    np.testing.assert_allclose(gumbel.dist.log_pdf(z), -z - np.exp(-z), rtol=1e-15)
    np.testing.assert_allclose(gumbel.dist.log_cdf(z), -np.exp(-z), rtol=1e-15)
    np.testing.assert_allclose(gumbel.dist.log_sf(z), np.log1p(-np.exp(-np.exp(-z))), rtol=1e-14)
    assert gumbel.schedule.exponential(1.0, 0.1, 0.5, 0) == 1.0
    assert gumbel.schedule.exponential(1.0, 0.1, 0.5, 5) == pytest.approx(np.exp(-0.5), rel=1e-15)
    assert gumbel.schedule.exponential(1.0, 0.1, 0.5, 1000) == 0.5
    assert gumbel.schedule.exponential(1.0, 0.1, 0.5, 7, every=5) == pytest.approx(np.exp(-0.5), rel=1e-15)
    assert gumbel.schedule.linear(2.0, 1.0, 5, 10) == pytest.approx(1.5, rel=1e-15)
    assert gumbel.schedule.cosine(2.0, 1.0, 5, 10) == pytest.approx(1.5, rel=1e-15)


def test_threads():
    n = gumbel.num_threads()
    assert n >= 1
    x = np.random.default_rng(5).normal(size=(400, 100)).astype(np.float32)
    a = gumbel.gumbel_softmax(x, seed=1)
    gumbel.set_num_threads(1)
    try:
        assert gumbel.num_threads() == 1
        assert np.array_equal(a, gumbel.gumbel_softmax(x, seed=1))
    finally:
        gumbel.set_num_threads(0)


def test_thread_counts_above_the_bound_are_refused():
    n = gumbel.num_threads()
    with pytest.raises(gumbel.InvalidParameterError) as info:
        gumbel.set_num_threads(10**6)
    assert "at most" in info.value.message and "got 1000000" in info.value.message
    assert gumbel.num_threads() == n
