"""Temperatures float32 cannot hold: the C ABI takes a ``float`` tau for
float32 calls, so the conversion happens in the bindings. A finite tau above
FLT_MAX runs as FLT_MAX (the same uniform rows); a tau float32 rounds to 0 or
to -0/-inf is refused with a message quoting the value passed."""

import numpy as np
import pytest
import torch

import gumbel
from gumbel import lib

FLT_MAX = float(np.finfo(np.float32).max)
LOGITS = np.array([[2.0, 0.5, -1.0, 0.0], [0.0, 0.0, -np.inf, 3.0]], np.float32)


def uniform_rows(y: np.ndarray) -> bool:
    """Each row uniform over its unmasked classes (the masked one of LOGITS is 0)."""
    want = np.where(np.isinf(LOGITS), 0.0, 1.0 / np.isfinite(LOGITS).sum(axis=1, keepdims=True))
    return np.allclose(y, want, rtol=1e-6, atol=0)


@pytest.mark.parametrize("tau", [1e40, 1e300, 3.5e38])
def test_a_tau_above_flt_max_runs_as_flt_max(tau):
    at_max = gumbel.gumbel_softmax(LOGITS, FLT_MAX, seed=3)
    assert uniform_rows(at_max)
    assert np.array_equal(gumbel.gumbel_softmax(LOGITS, tau, seed=3), at_max)
    assert np.array_equal(gumbel.gumbel_log_softmax(LOGITS, tau, seed=3), gumbel.gumbel_log_softmax(LOGITS, FLT_MAX, seed=3))
    assert np.array_equal(gumbel.tempered_softmax(LOGITS, tau), gumbel.tempered_softmax(LOGITS, FLT_MAX))
    hard = gumbel.gumbel_softmax(LOGITS, tau, hard=True, seed=3)
    assert np.array_equal(hard, gumbel.gumbel_softmax(LOGITS, FLT_MAX, hard=True, seed=3))
    y = np.full((2, 4), 0.25, np.float32)
    assert np.array_equal(gumbel.gumbel_softmax_backward(y, LOGITS.clip(-1, 1), tau), gumbel.gumbel_softmax_backward(y, LOGITS.clip(-1, 1), FLT_MAX))
    x = np.array([0.3, -1.0], np.float32)
    assert np.array_equal(gumbel.relaxed_bernoulli(x, tau, seed=1), gumbel.relaxed_bernoulli(x, FLT_MAX, seed=1))
    # Per-row: the row with tau above FLT_MAX is that row at FLT_MAX.
    per_row = gumbel.gumbel_softmax(LOGITS, np.array([tau, 0.5]), seed=3)
    assert np.array_equal(per_row, gumbel.gumbel_softmax(LOGITS, np.array([FLT_MAX, 0.5]), seed=3))
    assert np.array_equal(per_row[0], at_max[0])
    # PyTorch drop-in.
    t = torch.from_numpy(LOGITS)
    assert torch.equal(gumbel.torch.gumbel_softmax(t, tau=tau, seed=3), torch.from_numpy(at_max))


def test_a_float64_call_takes_the_tau_as_it_is():
    x = LOGITS.astype(np.float64)
    assert uniform_rows(gumbel.gumbel_softmax(x, 1e40, seed=3))
    sharp = gumbel.gumbel_softmax(x, 1e-300, seed=3)
    assert set(np.unique(sharp)) <= {0.0, 1.0}


def expect_refusal(call, *quoted):
    with pytest.raises(gumbel.InvalidTemperatureError) as info:
        call()
    e = info.value
    assert e.status == lib.GUMBEL_STATUS_INVALID_TEMPERATURE
    for text in quoted:
        assert text in e.message, e.message
    assert "inf" not in e.message.replace("finite", "") and "got 0.0" not in e.message, e.message
    return e.message


@pytest.mark.parametrize("tau, text", [(1e-300, "1e-300"), (1e-46, "1e-46")])
def test_a_tau_float32_rounds_to_zero_is_refused_quoting_it(tau, text):
    x = np.array([0.3, -1.0], np.float32)
    y = np.full((2, 4), 0.25, np.float32)
    calls = [
        lambda: gumbel.gumbel_softmax(LOGITS, tau, seed=0),
        lambda: gumbel.gumbel_log_softmax(LOGITS, tau, seed=0),
        lambda: gumbel.tempered_softmax(LOGITS, tau),
        lambda: gumbel.gumbel_softmax_backward(y, y, tau),
        lambda: gumbel.gumbel_softmax_grad_tau(y, y, tau),
        lambda: gumbel.concrete_log_prob(y, LOGITS.clip(-1, 1), tau),
        lambda: gumbel.relaxed_bernoulli(x, tau, seed=0),
        lambda: gumbel.relaxed_bernoulli_backward(np.full(2, 0.5, np.float32), x, tau),
        lambda: gumbel.relaxed_bernoulli_log_prob(np.full(2, 0.5, np.float32), x, tau),
        lambda: gumbel.torch.gumbel_softmax(torch.from_numpy(LOGITS), tau=tau),
        lambda: gumbel.torch.relaxed_bernoulli(torch.from_numpy(x), tau=tau),
    ]
    for call in calls:
        message = expect_refusal(call, text, "float32", "float64")
        assert message.startswith(f"tau must be > 0, got {text}"), message
    message = expect_refusal(lambda: gumbel.gumbel_softmax(LOGITS, np.array([0.5, tau]), seed=0), text, "row 1")
    assert message.startswith(f"tau of row 1 is {text};"), message
    # The smallest positive float32 (a subnormal) is a valid temperature.
    tiny = float(np.finfo(np.float32).smallest_subnormal)
    assert np.isfinite(gumbel.gumbel_softmax(LOGITS, tiny, seed=0)).all()


@pytest.mark.parametrize("tau, text", [(-1e40, "-1e+40"), (-1e-300, "-1e-300")])
def test_a_negative_tau_is_quoted_as_passed(tau, text):
    message = expect_refusal(lambda: gumbel.gumbel_softmax(LOGITS, tau, seed=0), text)
    assert message == f"tau must be finite and > 0, got {text}"
    expect_refusal(lambda: gumbel.tempered_softmax(LOGITS, [tau, 1.0]), f"row 0 is {text}")


def test_a_float32_log_density_refuses_a_tau_above_flt_max():
    y = np.full((2, 4), 0.25, np.float32)
    for call in [
        lambda: gumbel.concrete_log_prob(y, LOGITS.clip(-1, 1), 1e40),
        lambda: gumbel.exp_concrete_log_prob(np.log(y), LOGITS.clip(-1, 1), 1e40),
        lambda: gumbel.relaxed_bernoulli_log_prob(np.full(2, 0.5, np.float32), np.zeros(2, np.float32), 1e40),
    ]:
        message = expect_refusal(call, "1e+40", "FLT_MAX", "float64")
        assert message.startswith("tau must be at most FLT_MAX"), message


def test_the_library_still_quotes_what_float32_holds():
    for tau, text in [(float("inf"), "inf"), (float("nan"), "NaN"), (0.0, "0.0"), (-2.0, "-2.0")]:
        with pytest.raises(gumbel.InvalidTemperatureError) as info:
            gumbel.gumbel_softmax(LOGITS, tau, seed=0)
        assert info.value.message == f"tau must be finite and > 0, got {text}", info.value.message


def test_a_refused_tau_advances_the_generator_like_a_library_error():
    g = gumbel.Generator(5)
    with pytest.raises(gumbel.InvalidTemperatureError):
        gumbel.gumbel_softmax(LOGITS, 1e-300, generator=g)
    after_python_error = g.offset
    h = gumbel.Generator(5)
    with pytest.raises(gumbel.InvalidTemperatureError):
        gumbel.gumbel_softmax(LOGITS, 0.0, generator=h)
    assert after_python_error == h.offset == gumbel.streams(2, 4)
