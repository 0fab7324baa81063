"""The sampling head, NumPy API: keyed rows draw exactly the one-row call's
sample whatever the batch (shuffled, cut, grown); Gumbel-top-k's rank 0 is
the sample and its ranks follow the perturbed logits; ordered top-k
frequencies match the Plackett-Luce probabilities, whose log is checked
against the closed form computed here; errors reach Python as their
GumbelError subclass."""

import itertools
import math

import numpy as np
import pytest
from conftest import ALPHA, chi2_sf, gumbel_noise_like

import gumbel

U64 = np.iinfo(np.uint64).max


def keyed_case(dtype, rows=11, classes=37, seed=0):
    rng = np.random.default_rng(seed)
    x = (rng.normal(size=(rows, classes)) * 2).astype(dtype)
    x[3, ::4] = -np.inf  # a row with masked classes
    seeds = rng.integers(0, U64, size=rows, dtype=np.uint64, endpoint=True)
    seeds[0] = U64  # the top of the range
    offsets = rng.integers(0, 2**40, size=rows, dtype=np.uint64)
    return x, seeds, offsets


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sample_keyed_is_the_one_row_sample_in_any_batch(dtype):
    x, seeds, offsets = keyed_case(dtype)
    idx = gumbel.sample_keyed(x, seeds, offsets)
    assert idx.dtype == np.int64 and idx.shape == (11,)
    one_row = [gumbel.sample(x[r], seed=int(seeds[r]), offset=int(offsets[r])) for r in range(11)]
    assert np.array_equal(idx, np.array(one_row))
    assert not np.isinf(x[3, idx[3]])
    for perm_seed in range(3):
        p = np.random.default_rng(perm_seed).permutation(11)
        assert np.array_equal(gumbel.sample_keyed(x[p], seeds[p], offsets[p]), idx[p])
    assert np.array_equal(gumbel.sample_keyed(x[2:5], seeds[2:5], offsets[2:5]), idx[2:5])
    # A batch of 3 x 11 rows: each copy of a row with its key draws the same.
    big = gumbel.sample_keyed(np.stack([x, x, x]), np.stack([seeds] * 3), np.stack([offsets] * 3))
    assert big.shape == (3, 11) and (big == idx).all()
    # Python ints (past int64 too) and broadcast keys.
    assert np.array_equal(gumbel.sample_keyed(x, [int(s) for s in seeds], offsets), idx)
    same = gumbel.sample_keyed(x, 7, 5)
    assert np.array_equal(same, [gumbel.sample(x[r], seed=7, offset=5) for r in range(11)])
    out = np.empty(11, np.int64)
    assert gumbel.sample_keyed(x, seeds, offsets, out=out) is out and np.array_equal(out, idx)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gumbel_softmax_keyed_is_the_one_row_sample(dtype):
    x, seeds, offsets = keyed_case(dtype)
    for tau, hard in ((0.7, False), (2.0, True)):
        y = gumbel.gumbel_softmax_keyed(x, seeds, offsets, tau, hard)
        assert y.dtype == dtype and y.shape == x.shape
        for r in range(11):
            one = gumbel.gumbel_softmax(x[r], tau, hard, seed=int(seeds[r]), offset=int(offsets[r]))
            assert np.array_equal(y[r], one)
        p = np.random.default_rng(5).permutation(11)
        assert np.array_equal(gumbel.gumbel_softmax_keyed(x[p], seeds[p], offsets[p], tau, hard), y[p])
    hard = gumbel.gumbel_softmax_keyed(x, seeds, offsets, 0.5, True)
    assert np.array_equal(hard, np.eye(37, dtype=dtype)[gumbel.sample_keyed(x, seeds, offsets)])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_top_k_ranks_follow_the_perturbed_logits(dtype):
    rng = np.random.default_rng(1)
    x = (rng.normal(size=(4, 30, 3)) * 2).astype(dtype)
    x[1, :12, 2] = -np.inf
    k = 18
    idx = gumbel.top_k(x, k, axis=1, seed=9, offset=4)
    assert idx.shape == (4, 3, k) and idx.dtype == np.int64
    assert np.array_equal(idx[..., 0], gumbel.sample(x, axis=1, seed=9, offset=4))
    # The library's noise (up to a per-row constant): ranks in decreasing
    # order of logits + g, every class left out below the last rank.
    import torch

    g = gumbel_noise_like(x.shape, 1, 9, 4, {np.float32: torch.float32, np.float64: torch.float64}[dtype]).numpy()
    z = np.moveaxis(x.astype(np.float64) + g.astype(np.float64), 1, -1)  # (4, 3, 30)
    chosen = np.take_along_axis(z, idx, -1)
    assert (np.diff(chosen, axis=-1) <= 0).all()
    assert len({tuple(r) for r in idx.reshape(-1, k)}) == 12
    for row, zrow in zip(idx.reshape(-1, k), z.reshape(-1, 30)):
        assert len(set(row)) == k
        rest = np.setdiff1d(np.arange(30), row)
        assert zrow[rest].max() <= zrow[row[-1]]
    assert not (idx[1, 2] < 12).any()  # masked classes never appear
    # The generator advances as for a sample.
    gen = gumbel.Generator(9, 4)
    assert np.array_equal(gumbel.top_k(x, k, axis=1, generator=gen), idx)
    assert gen.offset == 4 + gumbel.streams(4, 30, 3)
    assert gumbel.top_k(x, 0, axis=1, seed=0).shape == (4, 3, 0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_top_k_keyed_is_the_one_row_top_k(dtype):
    x, seeds, offsets = keyed_case(dtype, rows=9, classes=64)
    idx = gumbel.top_k_keyed(x, 7, seeds, offsets)
    assert idx.shape == (9, 7)
    for r in range(9):
        assert np.array_equal(idx[r], gumbel.top_k(x[r], 7, seed=int(seeds[r]), offset=int(offsets[r])))
    assert np.array_equal(idx[:, 0], gumbel.sample_keyed(x, seeds, offsets))
    p = np.random.default_rng(3).permutation(9)
    assert np.array_equal(gumbel.top_k_keyed(x[p], 7, seeds[p], offsets[p]), idx[p])


def pl_log_prob(logits, seq):
    """The Plackett-Luce closed form, one ordered sequence of one row."""
    lp, left = 0.0, list(range(len(logits)))
    for s in seq:
        rest = np.array([logits[c] for c in left], dtype=np.float64)
        m = rest.max()
        lp += logits[s] - (m + math.log(np.exp(rest - m).sum()))
        left.remove(s)
    return lp


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_plackett_luce_log_prob_closed_form(dtype):
    rng = np.random.default_rng(4)
    x = (rng.normal(size=(3, 12, 2)) * 3).astype(dtype)
    x[0, 5, 1] = -np.inf
    idx = gumbel.top_k(x, 5, axis=1, seed=2)
    lp = gumbel.plackett_luce_log_prob(x, idx, axis=1)
    assert lp.shape == (3, 2) and lp.dtype == dtype
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    for o, i in itertools.product(range(3), range(2)):
        assert lp[o, i] == pytest.approx(pl_log_prob(x[o, :, i].astype(np.float64), idx[o, i]), rel=rtol)
    # k = 1: log_softmax; a masked chosen class: -inf; k = 0: 0.
    y = x[1, :, 0].astype(np.float64)
    one = gumbel.plackett_luce_log_prob(x[1, :, 0], np.array([4]))
    assert one == pytest.approx(y[4] - np.log(np.exp(y).sum()), rel=rtol)
    assert gumbel.plackett_luce_log_prob(x[0, :, 1], np.array([5, 0])) == -np.inf
    assert gumbel.plackett_luce_log_prob(x[0, :, 1], np.zeros(0, np.int64)) == 0


def test_top_k_frequencies_follow_plackett_luce():
    """All 5 * 4 * 3 ordered triples of 5 classes: the frequencies of 120000
    draws against exp(PL log-prob) (which sum to 1), chi-square at ALPHA."""
    logits = np.array([1.2, -0.3, 0.4, -1.5, 0.0])
    n, k = 120_000, 3
    draws = gumbel.top_k(np.broadcast_to(logits, (n, 5)), k, seed=2024)
    seqs = list(itertools.permutations(range(5), k))
    probs = np.exp(gumbel.plackett_luce_log_prob(np.broadcast_to(logits, (len(seqs), 5)), np.array(seqs)))
    assert probs.sum() == pytest.approx(1.0, rel=1e-12)
    code = {s: j for j, s in enumerate(seqs)}
    counts = np.bincount([code[tuple(d)] for d in draws], minlength=len(seqs))
    expected = n * probs
    stat = ((counts - expected) ** 2 / expected).sum()
    assert chi2_sf(stat, len(seqs) - 1) > ALPHA, stat
    # A known-wrong variant, the noise's sign flipped (ranks by logits - g),
    # is rejected by the same statistic.
    g = gumbel.noise((n, 5), seed=7)
    wrong = np.argsort(-(logits - g), axis=-1, kind="stable")[:, :k]
    wrong_counts = np.bincount([code[tuple(d)] for d in wrong], minlength=len(seqs))
    assert chi2_sf(((wrong_counts - expected) ** 2 / expected).sum(), len(seqs) - 1) < ALPHA


X = np.zeros((2, 4))
S = np.array([1, 2], np.uint64)


@pytest.mark.parametrize(
    "call, exc, words",
    [
        (lambda: gumbel.sample_keyed(np.zeros((2, 0)), S, S), gumbel.InvalidShapeError, "classes"),
        (lambda: gumbel.sample_keyed(np.array([[0.0, np.nan], [0, 0]]), S, S), gumbel.InvalidLogitsError, "row 0"),
        (lambda: gumbel.sample_keyed(np.array([[0.0, 0], [-np.inf, -np.inf]]), S, S), gumbel.AllMaskedError, "row 1"),
        (lambda: gumbel.gumbel_softmax_keyed(X, S, S, 0.0), gumbel.InvalidTemperatureError, "tau"),
        (lambda: gumbel.gumbel_softmax_keyed(X, S, S, float("nan")), gumbel.InvalidTemperatureError, "tau"),
        (lambda: gumbel.top_k(X, 5, seed=0), gumbel.InvalidParameterError, "k"),
        (lambda: gumbel.top_k(np.array([[0.0, -np.inf, 1, 2]]), 4, seed=0), gumbel.InvalidParameterError, "row 0"),
        (lambda: gumbel.top_k_keyed(X, 5, S, S), gumbel.InvalidParameterError, "k"),
        (lambda: gumbel.top_k(np.array([[np.inf, 0.0]]), 1, seed=0), gumbel.InvalidLogitsError, ""),
        (lambda: gumbel.plackett_luce_log_prob(X, np.array([[0, 0], [1, 2]])), gumbel.InvalidValueError, "row 0"),
        (lambda: gumbel.plackett_luce_log_prob(X, np.array([[0, 4], [1, 2]])), gumbel.InvalidValueError, ""),
        (lambda: gumbel.plackett_luce_log_prob(X, np.zeros((2, 5), np.int64)), gumbel.InvalidParameterError, "k"),
    ],
)
def test_library_errors(call, exc, words):
    with pytest.raises(exc) as info:
        call()
    assert isinstance(info.value, gumbel.GumbelError) and words in info.value.message


def test_python_side_errors():
    with pytest.raises(ValueError, match="seeds"):
        gumbel.sample_keyed(X, [-1, 0], S)
    with pytest.raises(ValueError, match="offsets"):
        gumbel.sample_keyed(X, S, [2**64, 0])
    with pytest.raises(TypeError, match="integers"):
        gumbel.sample_keyed(X, np.array([1.0, 2.0]), S)
    with pytest.raises(ValueError, match="broadcast"):
        gumbel.sample_keyed(X, np.arange(3), S)
    with pytest.raises(ValueError, match="0-d"):
        gumbel.sample_keyed(np.float64(1.0), 0, 0)
    with pytest.raises(ValueError, match="k"):
        gumbel.top_k(X, -1, seed=0)
    with pytest.raises(TypeError, match="k"):
        gumbel.top_k(X, 1.5, seed=0)
    with pytest.raises(ValueError, match="shape"):
        gumbel.plackett_luce_log_prob(X, np.zeros((3, 1), np.int64))
    with pytest.raises(TypeError, match="integers"):
        gumbel.plackett_luce_log_prob(X, np.zeros((2, 1)))


# -- filtered sampling ----------------------------------------------------------


def filtered_distribution(logits, temperature=1.0, top_k=0, top_p=1.0, min_p=0.0, tempered_top_p=True):
    """The exact processed distribution, written out: tempered softmax; top-k
    and min-p keep a prefix by logit; top-p keeps the smallest prefix of the
    renormalised survivors (by decreasing probability) whose mass reaches
    top_p; the kept classes renormalised. With ``tempered_top_p=False`` the
    nucleus is chosen on the untempered probabilities (a known-wrong order)."""
    x = np.asarray(logits, np.float64) / temperature
    p = np.exp(x - x.max())
    p /= p.sum()
    keep = np.ones(len(x), bool)
    if 0 < top_k < len(x):
        keep &= x >= np.sort(x)[::-1][top_k - 1]
    if min_p > 0:
        keep &= p >= min_p * p.max()
    if top_p < 1:
        base = p if tempered_top_p else np.exp(logits - np.max(logits)) / np.exp(logits - np.max(logits)).sum()
        q = np.where(keep, base, 0.0)
        q /= q.sum()
        order = np.argsort(-q, kind="stable")
        before = np.cumsum(q[order]) - q[order]  # mass of the classes ranked above
        nucleus = np.zeros(len(x), bool)
        nucleus[order[before < top_p]] = True
        keep &= nucleus
    out = np.where(keep, p, 0.0)
    return out / out.sum()


FILTER_LOGITS = np.array([2.1, 0.3, -1.2, 1.4, 0.9, -0.4, 0.05, 1.75, -2.3, 0.6, -0.9, 1.1])
FILTERS = [
    dict(),
    dict(temperature=0.7, top_k=5),
    dict(temperature=1.3, top_p=0.8),
    dict(min_p=0.15),
    dict(temperature=0.9, top_k=8, top_p=0.9, min_p=0.05),
]


@pytest.mark.parametrize("filters", FILTERS, ids=[str(f) for f in FILTERS])
def test_filtered_frequencies_follow_the_truncated_distribution(filters):
    n, classes = 200_000, len(FILTER_LOGITS)
    x = np.broadcast_to(FILTER_LOGITS, (n, classes))
    offsets = np.arange(n, dtype=np.uint64) * gumbel.streams(1, classes)
    idx, lp, plp = gumbel.sample_filtered(x, 31, offsets, **filters)
    q = filtered_distribution(FILTER_LOGITS, **filters)
    counts = np.bincount(idx, minlength=classes)
    assert (counts[q == 0] == 0).all()
    support = q > 0
    expected = n * q[support]
    stat = ((counts[support] - expected) ** 2 / expected).sum()
    assert support.sum() == 1 or chi2_sf(stat, int(support.sum()) - 1) > ALPHA, (stat, counts, q)
    log_softmax = FILTER_LOGITS - FILTER_LOGITS.max() - np.log(np.exp(FILTER_LOGITS - FILTER_LOGITS.max()).sum())
    np.testing.assert_allclose(lp, log_softmax[idx], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(plp, np.log(q[idx]), rtol=1e-12, atol=1e-12)


def test_filtered_known_wrong_order_is_rejected():
    """Nucleus chosen before the temperature keeps another set: the counts of
    the correct sampler reject that distribution."""
    filters = dict(temperature=1.3, top_p=0.8)
    wrong = filtered_distribution(FILTER_LOGITS, **filters, tempered_top_p=False)
    right = filtered_distribution(FILTER_LOGITS, **filters)
    assert (wrong > 0).sum() != (right > 0).sum()
    n = 200_000
    offsets = np.arange(n, dtype=np.uint64) * gumbel.streams(1, len(FILTER_LOGITS))
    idx, _, _ = gumbel.sample_filtered(np.broadcast_to(FILTER_LOGITS, (n, 12)), 31, offsets, **filters)
    counts = np.bincount(idx, minlength=12)
    assert (counts[wrong == 0] > 0).any() or chi2_sf((((counts - n * wrong) ** 2) / (n * wrong))[wrong > 0].sum(), int((wrong > 0).sum()) - 1) < ALPHA


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_filtered_rows_are_keyed_and_per_row(dtype):
    x, seeds, offsets = keyed_case(dtype, rows=8, classes=40)
    temperature = np.array([1.0, 0.5, 0.0, 2.0, 1.0, 0.8, 1.0, 1.2], dtype)
    top_k = np.array([0, 3, 0, 10, 1, 0, 0, 50])
    top_p = np.array([1.0, 0.9, 1.0, 0.5, 1.0, 0.7, 1.0, 1.0], dtype)
    min_p = np.array([0.0, 0.0, 0.0, 0.1, 0.0, 0.2, 0.0, 0.0], dtype)
    kw = dict(temperature=temperature, top_k=top_k, top_p=top_p, min_p=min_p)
    idx, lp, plp = gumbel.sample_filtered(x, seeds, offsets, **kw)
    assert idx.dtype == np.int64 and lp.dtype == dtype and plp.dtype == dtype and idx.shape == (8,)
    for r in range(8):
        one = gumbel.sample_filtered(
            x[r], int(seeds[r]), int(offsets[r]), temperature=temperature[r], top_k=top_k[r], top_p=top_p[r], min_p=min_p[r]
        )
        assert (one[0], one[1], one[2]) == (idx[r], lp[r], plp[r])
    tokens, none, none2 = gumbel.sample_filtered(x, seeds, offsets, **kw, log_probs=False)
    assert np.array_equal(tokens, idx) and none is None and none2 is None
    p = np.random.default_rng(8).permutation(8)
    got = gumbel.sample_filtered(x[p], seeds[p], offsets[p], **{k: v[p] for k, v in kw.items()})
    assert np.array_equal(got[0], idx[p]) and np.array_equal(got[2], plp[p])
    # No filter at temperature 1 (rows 0 and 6): the keyed sample. Greedy
    # (row 2) and top-k 1 (row 4): the argmax, processed log-prob 0.
    plain = gumbel.sample_keyed(x, seeds, offsets)
    assert idx[0] == plain[0] and idx[6] == plain[6]
    assert np.array_equal(gumbel.sample_filtered(x, seeds, offsets)[0], plain)
    assert idx[2] == np.argmax(x[2]) and idx[4] == np.argmax(x[4]) and plp[2] == 0 and plp[4] == 0
    x64 = x.astype(np.float64)
    ls = x64 - x64.max(-1, keepdims=True)
    ls = ls - np.log(np.exp(ls).sum(-1, keepdims=True))
    np.testing.assert_allclose(lp, ls[np.arange(8), idx], rtol=1e-5 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("temperature", [-1.0, np.inf, np.nan])
def test_filtered_temperature_errors(temperature):
    with pytest.raises(gumbel.InvalidTemperatureError):
        gumbel.sample_filtered(X, S, S, temperature=[1.0, temperature])


@pytest.mark.parametrize(
    "filters, words",
    [
        (dict(top_k=-2), "top_k"),
        (dict(top_p=0.0), "top_p"),
        (dict(top_p=1.5), "top_p"),
        (dict(min_p=-0.1), "min_p"),
        (dict(min_p=np.nan), "min_p"),
    ],
)
def test_filtered_parameter_errors(filters, words):
    with pytest.raises(gumbel.InvalidParameterError) as info:
        gumbel.sample_filtered(X, S, S, **filters)
    assert words in info.value.message


def test_filtered_input_errors():
    with pytest.raises(gumbel.InvalidLogitsError):
        gumbel.sample_filtered(np.array([[0.0, np.nan]]), 0, 0)
    with pytest.raises(gumbel.AllMaskedError):
        gumbel.sample_filtered(np.full((1, 3), -np.inf), 0, 0)
    with pytest.raises(TypeError, match="top_k"):
        gumbel.sample_filtered(X, S, S, top_k=0.5)
    with pytest.raises(ValueError, match="broadcast"):
        gumbel.sample_filtered(X, S, S, top_p=[0.5, 0.5, 0.5])
