"""Every status code reaches Python as its exception class with the library's
message; Python-side argument errors are TypeError/ValueError."""

import numpy as np
import pytest

import gumbel
from gumbel import ffi, lib

X = np.zeros((2, 3))


@pytest.mark.parametrize(
    "call, exc, words",
    [
        (lambda: gumbel.gumbel_softmax(np.zeros((3, 0)), seed=0), gumbel.InvalidShapeError, "classes"),
        (lambda: gumbel.gumbel_softmax(X, 0.0, seed=0), gumbel.InvalidTemperatureError, "tau"),
        (lambda: gumbel.gumbel_softmax(X, -1.0, seed=0), gumbel.InvalidTemperatureError, "tau"),
        (lambda: gumbel.gumbel_softmax(X, float("nan"), seed=0), gumbel.InvalidTemperatureError, "tau"),
        (lambda: gumbel.gumbel_softmax(X, float("inf"), seed=0), gumbel.InvalidTemperatureError, "tau"),
        (lambda: gumbel.gumbel_softmax(X, np.array([1.0, 0.0]), seed=0), gumbel.InvalidTemperatureError, "tau"),
        (lambda: gumbel.tempered_softmax(X, 0.0), gumbel.InvalidTemperatureError, "tau"),
        (lambda: gumbel.gumbel_softmax(np.array([[0.0, np.nan]]), seed=0), gumbel.InvalidLogitsError, "row 0"),
        (lambda: gumbel.sample(np.array([[0.0, 1.0], [np.inf, 0.0]]), seed=0), gumbel.InvalidLogitsError, "row 1"),
        (lambda: gumbel.gumbel_softmax(np.array([[0.0, 1.0], [-np.inf, -np.inf]]), seed=0), gumbel.AllMaskedError, "row 1"),
        (lambda: gumbel.gumbel_softmax(X, seed=0, out=X), gumbel.OverlapError, ""),
        (lambda: gumbel.noise(4, 0.0, 0.0, seed=0), gumbel.InvalidParameterError, "scale"),
        (lambda: gumbel.noise(4, float("inf"), 1.0, seed=0), gumbel.InvalidParameterError, "loc"),
        (lambda: gumbel.dist.cdf(np.array([0.0]), 0.0, -1.0), gumbel.InvalidParameterError, "scale"),
        (lambda: gumbel.dist.cdf(np.array([0.0, np.nan])), gumbel.InvalidValueError, ""),
        (lambda: gumbel.dist.icdf(np.array([1.5])), gumbel.InvalidValueError, ""),
        (lambda: gumbel.dist.mean(0.0, 0.0), gumbel.InvalidParameterError, "scale"),
        (lambda: gumbel.gumbel_softmax_backward(np.full((1, 2), 2.0), np.ones((1, 2))), gumbel.InvalidValueError, ""),
        (lambda: gumbel.gumbel_softmax_backward(np.full((1, 2), 0.5), np.array([[1.0, np.nan]])), gumbel.InvalidValueError, ""),
        (lambda: gumbel.gumbel_softmax_backward(np.full((1, 2), 0.5), np.ones((1, 2)), 0.0), gumbel.InvalidTemperatureError, "tau"),
        (lambda: gumbel.concrete_log_prob(np.array([[0.5, 0.6]]), np.zeros((1, 2)), 1.0), gumbel.InvalidValueError, ""),
        (lambda: gumbel.relaxed_bernoulli(np.array([np.nan]), seed=0), gumbel.InvalidLogitsError, ""),
        (lambda: gumbel.relaxed_bernoulli_log_prob(np.array([1.5]), np.array([0.0]), 1.0), gumbel.InvalidValueError, ""),
        (lambda: gumbel.schedule.exponential(1.0, -0.1, 0.5, 3), gumbel.InvalidParameterError, "rate"),
        (lambda: gumbel.schedule.exponential(1.0, 0.1, 2.0, 3), gumbel.InvalidTemperatureError, "tau_min"),
        (lambda: gumbel.schedule.linear(1.0, 0.5, 3, 0), gumbel.InvalidParameterError, "total_steps"),
        (lambda: gumbel.schedule.cosine(0.0, 0.5, 3, 10), gumbel.InvalidTemperatureError, "tau0"),
    ],
)
def test_library_errors(call, exc, words):
    with pytest.raises(exc) as info:
        call()
    e = info.value
    assert isinstance(e, gumbel.GumbelError) and isinstance(e, ValueError)
    assert e.message and words in e.message
    assert e.name == ffi.string(lib.gumbel_status_str(e.status)).decode()
    assert str(e) == f"{e.name}: {e.message}"


def test_outputs_untouched_on_error():
    out = np.full((2, 2), 7.0)
    with pytest.raises(gumbel.InvalidLogitsError):
        gumbel.gumbel_softmax(np.array([[0.0, 1.0], [np.nan, 0.0]]), seed=0, out=out)
    assert (out == 7.0).all()


def test_statuses_only_the_raw_abi_reaches():
    with pytest.raises(gumbel.NullPointerError, match="NULL"):
        gumbel.check(lib.gumbel_softmax_f64(ffi.NULL, ffi.NULL, 2, 3, 1, 1.0, False, 0, 0))
    with pytest.raises(gumbel.SizeOverflowError) as info:
        gumbel.check(lib.gumbel_softmax_f64(ffi.NULL, ffi.NULL, 2**62, 16, 1, 1.0, False, 0, 0))
    assert isinstance(info.value, OverflowError)
    # A misaligned out= reaches the library (inputs would be copied aligned).
    raw = np.zeros(8 * 7, np.uint8)
    misaligned = raw[1:49].view(np.float64).reshape(2, 3)
    assert not misaligned.flags.aligned
    with pytest.raises(gumbel.MisalignedPointerError):
        gumbel.gumbel_softmax(X, seed=0, out=misaligned)
    with pytest.raises(gumbel.InternalError) as info:
        gumbel.check(lib.GUMBEL_STATUS_PANIC)
    assert isinstance(info.value, RuntimeError)
    assert gumbel.check(lib.GUMBEL_STATUS_OK) is None


def test_misaligned_input_is_copied():
    raw = np.zeros(8 * 7, np.uint8)
    x = raw[1:49].view(np.float64).reshape(2, 3)
    y = gumbel.gumbel_softmax(x, seed=0)
    assert np.array_equal(y, gumbel.gumbel_softmax(np.zeros((2, 3)), seed=0))


def test_python_side_argument_errors():
    with pytest.raises(ValueError):
        gumbel.gumbel_softmax(np.float64(1.0), seed=0)
    with pytest.raises((ValueError, IndexError)):
        gumbel.gumbel_softmax(X, axis=2, seed=0)
    with pytest.raises(ValueError, match="shape"):
        gumbel.gumbel_softmax_backward(np.zeros((2, 3)), np.zeros((3, 2)))
    with pytest.raises(TypeError):
        gumbel.noise(3, dtype=np.int32, seed=0)
    with pytest.raises(TypeError):
        gumbel.gumbel_softmax(X, seed=1.5)
    with pytest.raises(ValueError):
        gumbel.gumbel_softmax(X, seed=-1)
    with pytest.raises(TypeError):
        gumbel.gumbel_softmax(X, generator=3)
    with pytest.raises(ValueError):
        gumbel.set_num_threads(-1)
    with pytest.raises(ValueError):
        gumbel.schedule.linear(1.0, 0.5, -1, 10)
