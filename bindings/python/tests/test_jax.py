"""gumbel.jax: the library's samplers inside JAX through XLA's FFI.

The samples are the NumPy API's bits for the key's (seed, offset); the
gradients are JAX's own autodiff through ``softmax((logits + g) / tau)`` with
the library's noise ``g``; jit, vmap, grad and lax.scan give what the plain
calls give.
"""

import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import ALPHA, chi2_sf, reference_logits

import gumbel
import gumbel.jax as gj

BF16 = jnp.bfloat16


def seed_of(key):
    seed, offset = gj.stream_position(key)
    assert offset == 0
    return seed


def x64(dtype):
    """A context in which ``dtype`` exists in JAX."""
    return jax.enable_x64(np.dtype(dtype) == np.float64)


def noise(shape, axis, seed, dtype=np.float64):
    """The library's Gumbel noise of a categorical call at (seed, 0), up to a
    per-row constant that softmax ignores (the log-softmax of zero logits
    at tau 1)."""
    return gumbel.gumbel_log_softmax(np.zeros(shape, dtype), 1.0, axis=axis, seed=seed, offset=0)


# -- the NumPy API's bits ---------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("axis", [-1, 1, 0])
def test_samples_are_the_numpy_bits(dtype, axis):
    x = reference_logits(dtype)
    key = jax.random.key(11)
    s = seed_of(key)
    with x64(dtype):
        xj = jnp.asarray(x)
        soft = np.asarray(gj.gumbel_softmax(key, xj, 0.7, axis=axis))
        hard = np.asarray(gj.gumbel_softmax(key, xj, 0.7, hard=True, axis=axis))
        idx = np.asarray(gj.sample(key, xj, axis=axis))
        keep = list(x.shape)
        keep[axis] = 1
        tau = np.linspace(0.3, 2.0, int(np.prod(keep))).astype(dtype).reshape(keep)
        per_row = np.asarray(gj.gumbel_softmax(key, xj, jnp.asarray(tau), axis=axis))
    assert soft.dtype == dtype
    np.testing.assert_array_equal(soft, gumbel.gumbel_softmax(x, 0.7, axis=axis, seed=s, offset=0))
    np.testing.assert_array_equal(hard, gumbel.gumbel_softmax(x, 0.7, hard=True, axis=axis, seed=s, offset=0))
    np.testing.assert_array_equal(idx, gumbel.sample(x, axis=axis, seed=s, offset=0))
    np.testing.assert_array_equal(
        per_row, gumbel.gumbel_softmax(x, np.squeeze(tau, axis), axis=axis, seed=s, offset=0)
    )
    # The hard sample is the one-hot of the soft sample's argmax, which is `sample`.
    np.testing.assert_array_equal(np.argmax(soft, axis=axis), idx)
    np.testing.assert_array_equal(hard, np.moveaxis(np.eye(x.shape[axis], dtype=dtype)[idx], -1, axis))
    # Another key is other noise.
    assert not np.array_equal(soft, np.asarray(gj.gumbel_softmax(jax.random.key(12), jnp.asarray(x, jnp.float32), 0.7, axis=axis)))


def test_raw_and_typed_keys_are_the_same_stream():
    x = jnp.asarray(reference_logits(np.float32)[0])
    typed, raw = jax.random.key(5), jax.random.PRNGKey(5)
    np.testing.assert_array_equal(gj.gumbel_softmax(typed, x), gj.gumbel_softmax(raw, x))
    assert gj.stream_position(raw) == gj.stream_position(typed)
    k0, k1 = (int(w) for w in np.asarray(jax.random.key_data(typed)))
    assert gj.stream_position(typed) == ((k0 << 32) | k1, 0)


def test_top_k_and_relaxed_bernoulli_are_the_numpy_bits():
    x = reference_logits(np.float32)
    key = jax.random.key(2)
    s = seed_of(key)
    for axis in (-1, 1):
        top = np.asarray(gj.top_k(key, jnp.asarray(x), 2, axis=axis))
        np.testing.assert_array_equal(top, gumbel.top_k(x, 2, axis=axis, seed=s, offset=0))
        np.testing.assert_array_equal(top[..., 0], np.asarray(gj.sample(key, jnp.asarray(x), axis=axis)))
    for hard in (False, True):
        y = np.asarray(gj.relaxed_bernoulli(key, jnp.asarray(x), 0.6, hard=hard))
        np.testing.assert_array_equal(y, gumbel.relaxed_bernoulli(x, 0.6, hard=hard, seed=s, offset=0))


@pytest.mark.parametrize("dtype", [BF16, jnp.float16])
def test_half_precision_is_the_float32_call_rounded(dtype):
    x16 = jnp.asarray(reference_logits(np.float32)).astype(dtype)
    x32 = x16.astype(jnp.float32)
    key = jax.random.key(4)
    for hard in (False, True):
        y16 = gj.gumbel_softmax(key, x16, 0.8, hard=hard, axis=1)
        assert y16.dtype == dtype
        np.testing.assert_array_equal(
            np.asarray(y16.astype(jnp.float32)),
            np.asarray(gj.gumbel_softmax(key, x32, 0.8, hard=hard, axis=1).astype(dtype).astype(jnp.float32)),
        )
    np.testing.assert_array_equal(gj.sample(key, x16, axis=1), gj.sample(key, x32, axis=1))
    np.testing.assert_array_equal(gj.top_k(key, x16, 3), gj.top_k(key, x32, 3))
    # The gradient: the float32 backward of the widened soft sample and
    # cotangent, rounded once.
    v16 = jnp.asarray(np.cos(np.arange(x16.size)).reshape(x16.shape)).astype(dtype)
    y16, vjp = jax.vjp(lambda x: gj.gumbel_softmax(key, x, 0.8, axis=1), x16)
    (g16,) = vjp(v16)
    y32, v32 = np.asarray(y16.astype(jnp.float32)), np.asarray(v16.astype(jnp.float32))
    expected = gumbel.gumbel_softmax_backward(y32, v32, 0.8, axis=1)
    np.testing.assert_array_equal(
        np.asarray(g16.astype(jnp.float32)), np.asarray(jnp.asarray(expected).astype(dtype).astype(jnp.float32))
    )


# -- statistics ----------------------------------------------------------------------


P = np.array([0.45, 0.25, 0.15, 0.1, 0.04, 0.01])


def goodness_of_fit(counts, p):
    n = counts.sum()
    e = n * p
    return chi2_sf(float(((counts - e) ** 2 / e).sum()), len(p) - 1)


def homogeneity(a, b):
    """p-value that two count vectors come from one distribution."""
    table = np.stack([a, b]).astype(np.float64)
    e = table.sum(1, keepdims=True) * table.sum(0, keepdims=True) / table.sum()
    return chi2_sf(float(((table - e) ** 2 / e).sum()), table.shape[1] - 1)


def test_sample_frequencies_follow_the_softmax():
    n = 200_000
    logits = jnp.log(jnp.asarray(P, jnp.float32)) + 3.0
    key = jax.random.key(123)
    # One call of n rows, and n keys under vmap with one row each.
    rows = np.asarray(gj.sample(key, jnp.broadcast_to(logits, (n, len(P)))))
    keys = jax.random.split(jax.random.key(321), n)
    mapped = np.asarray(jax.jit(jax.vmap(lambda k: gj.sample(k, logits)))(keys))
    theirs = np.asarray(jax.random.categorical(jax.random.key(7), logits, shape=(n,)))
    for draws in (rows, mapped):
        counts = np.bincount(draws, minlength=len(P))
        assert goodness_of_fit(counts, P) > ALPHA
        assert homogeneity(counts, np.bincount(theirs, minlength=len(P))) > ALPHA
        # The test rejects the wrong distribution (the logits' sign flipped).
        wrong = np.exp(-np.log(P)) / np.exp(-np.log(P)).sum()
        assert goodness_of_fit(counts, wrong) < ALPHA
    # Soft samples: E[y] is not the softmax, but the argmax of y is the sample.
    y = gj.gumbel_softmax(key, jnp.broadcast_to(logits, (n, len(P))), 0.5)
    np.testing.assert_array_equal(np.argmax(np.asarray(y), -1), rows)


def test_top_k_first_two_follow_plackett_luce():
    n = 100_000
    logits = jnp.log(jnp.asarray(P[:4], jnp.float32))
    top = np.asarray(gj.top_k(jax.random.key(9), jnp.broadcast_to(logits, (n, 4)), 2))
    assert (top[:, 0] != top[:, 1]).all()
    p = P[:4] / P[:4].sum()
    pairs = [(i, j) for i in range(4) for j in range(4) if i != j]
    exact = np.array([p[i] * p[j] / (1 - p[i]) for i, j in pairs])
    counts = np.array([np.sum((top[:, 0] == i) & (top[:, 1] == j)) for i, j in pairs])
    assert goodness_of_fit(counts, exact) > ALPHA
    # Sampling the second class with replacement is rejected.
    assert goodness_of_fit(counts, np.array([p[i] * p[j] for i, j in pairs]) / sum(p[i] * p[j] for i, j in pairs)) < ALPHA


# -- gradients ---------------------------------------------------------------------


def weights(shape):
    return jnp.asarray(np.sin(np.arange(int(np.prod(shape))) * 1.3).reshape(shape))


@pytest.mark.parametrize("hard", [False, True])
@pytest.mark.parametrize("per_row", [False, True])
def test_gradients_are_autodiff_through_the_same_noise(hard, per_row):
    with jax.enable_x64(True):
        x = jnp.asarray(reference_logits(np.float64))
        key = jax.random.key(8)
        g = jnp.asarray(noise(x.shape, 1, seed_of(key)))
        tau = jnp.asarray(np.linspace(0.4, 1.7, 15).reshape(5, 1, 3)) if per_row else jnp.asarray(0.8)
        w = weights(x.shape)

        def ours(x, tau):
            return jnp.sum(w * gj.gumbel_softmax(key, x, tau, hard=hard, axis=1) ** 2)

        def reference(x, tau):
            y = jax.nn.softmax((x + g) / tau, axis=1)
            if hard:  # straight-through: the one-hot forward, the soft gradient
                y = y + jax.lax.stop_gradient(jax.nn.one_hot(jnp.argmax(y, 1), 7, axis=1) - y)
            return jnp.sum(w * y**2)

        got, want = jax.grad(ours, (0, 1))(x, tau), jax.grad(reference, (0, 1))(x, tau)
        assert float(ours(x, tau)) == pytest.approx(float(reference(x, tau)), rel=1e-12)
        for a, b in zip(got, want):
            assert a.shape == b.shape
            np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-9, atol=1e-12)
        # The test can fail: noise added after dividing by tau gives other gradients.
        wrong = jax.grad(lambda x: jnp.sum(w * jax.nn.softmax(x / tau + g, axis=1) ** 2))(x)
        assert not np.allclose(np.asarray(got[0]), np.asarray(wrong), rtol=1e-3)


def test_relaxed_bernoulli_gradients_are_autodiff_through_the_same_noise():
    with jax.enable_x64(True):
        x = jnp.asarray(reference_logits(np.float64)) / 3
        key = jax.random.key(6)
        u = gumbel.relaxed_bernoulli(np.zeros(x.shape), 1.0, seed=seed_of(key), offset=0)
        noise_l = jnp.asarray(np.log(u) - np.log1p(-u))
        w = weights(x.shape)
        for hard in (False, True):
            def ours(x, tau):
                return jnp.sum(w * gj.relaxed_bernoulli(key, x, tau, hard=hard))

            def reference(x, tau):
                y = jax.nn.sigmoid((x + noise_l) / tau)
                if hard:
                    y = y + jax.lax.stop_gradient((x + noise_l > 0).astype(y.dtype) - y)
                return jnp.sum(w * y)

            tau = jnp.asarray(0.7)
            for a, b in zip(jax.grad(ours, (0, 1))(x, tau), jax.grad(reference, (0, 1))(x, tau)):
                np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(estimator="st"),
        dict(estimator="st", tau_backward=2.5),
        dict(estimator="reinmax"),
        dict(estimator="gapped_st", gap=0.5),
        dict(estimator="gumbel_rao", draws=7),
    ],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_estimators_are_the_numpy_gradients(kwargs, dtype):
    x = reference_logits(dtype)
    key = jax.random.key(21)
    v = np.cos(np.arange(x.size)).reshape(x.shape).astype(dtype)
    with x64(dtype):
        y, vjp = jax.vjp(lambda x: gj.gumbel_softmax(key, x, 1.3, hard=True, axis=1, **kwargs), jnp.asarray(x))
        (g,) = vjp(jnp.asarray(v))
    s = seed_of(key)
    np.testing.assert_array_equal(np.asarray(y), gumbel.gumbel_softmax(x, 1.3, hard=True, axis=1, seed=s, offset=0))
    expected = gumbel.gumbel_softmax_hard_backward(x, v, 1.3, axis=1, seed=s, offset=0, **kwargs)
    np.testing.assert_array_equal(np.asarray(g), expected)


# -- jit, vmap, scan ---------------------------------------------------------------


def test_jit_and_vmap_give_the_plain_calls():
    x = jnp.asarray(reference_logits(np.float32)[:, :, 0])  # (5, 7)
    keys = jax.random.split(jax.random.key(1), 4)
    tau = jnp.float32(0.9)

    def everything(k, x, tau):
        return (
            gj.gumbel_softmax(k, x, tau),
            gj.gumbel_softmax(k, x, tau, hard=True),
            gj.sample(k, x),
            gj.top_k(k, x, 3),
            gj.relaxed_bernoulli(k, x, tau),
            jax.grad(lambda x, t: jnp.sum(weights(x.shape) * gj.gumbel_softmax(k, x, t)), (0, 1))(x, tau),
        )

    loop = [everything(k, x, tau) for k in keys]
    for batched in (jax.vmap(everything, (0, None, None)), jax.jit(jax.vmap(everything, (0, None, None)))):
        out = batched(keys, x, tau)
        for i, k in enumerate(keys):
            jax.tree_util.tree_map(lambda a, b: np.testing.assert_array_equal(a[i], b), out, loop[i])
    # One key over a batch of logits: each row of the batch as a call alone.
    xs = jnp.stack([x, x * 2, -x])
    mapped = jax.jit(jax.vmap(lambda x: gj.gumbel_softmax(keys[0], x, 0.5)))(xs)
    for i in range(3):
        np.testing.assert_array_equal(mapped[i], gj.gumbel_softmax(keys[0], xs[i], 0.5))
    # Nested maps: keys by logits.
    nested = jax.vmap(jax.vmap(lambda k, x: gj.sample(k, x), (None, 0)), (0, None))(keys, xs)
    assert nested.shape == (4, 3, 5)
    np.testing.assert_array_equal(nested[2, 1], gj.sample(keys[2], xs[1]))


def test_a_training_loop_under_scan_learns():
    """Fit three categorical variables to a target one-hot through hard
    (straight-through) samples, the whole loop in one jitted lax.scan."""
    target = jnp.array([2, 0, 3])
    onehot = jax.nn.one_hot(target, 4)

    def loss(theta, key):
        return jnp.sum((gj.gumbel_softmax(key, theta, 0.5, hard=True) - onehot) ** 2)

    def step(theta, key):
        value, grad = jax.value_and_grad(loss)(theta, key)
        return theta - 0.5 * grad, value

    keys = jax.random.split(jax.random.key(0), 400)
    theta, losses = jax.jit(lambda t, k: jax.lax.scan(step, t, k))(jnp.zeros((3, 4)), keys)
    assert float(losses[:50].mean()) > 1.0
    assert float(losses[-50:].mean()) < 0.1
    assert (jnp.argmax(theta, -1) == target).all()
    assert float(jax.nn.softmax(theta)[jnp.arange(3), target].min()) > 0.9


# -- errors ------------------------------------------------------------------------


def test_bad_input_is_refused():
    x = jnp.zeros((2, 3))
    key = jax.random.key(0)
    with pytest.raises(TypeError, match="threefry"):
        gj.gumbel_softmax(jax.random.split(key, 2), x)
    with pytest.raises(TypeError, match="threefry"):
        gj.sample(jnp.zeros(2, jnp.int32), x)
    with pytest.raises(TypeError, match="float32, float64, bfloat16 or float16"):
        gj.sample(key, jnp.zeros((2, 3), jnp.int32))
    with pytest.raises(TypeError, match="float32, float64, bfloat16 or float16"):
        gj.gumbel_softmax(key, jnp.zeros((2, 3), jnp.float8_e4m3fn))
    with pytest.raises(TypeError, match="axis must be an integer"):
        gj.sample(key, x, axis=None)
    for run in (lambda: gj.gumbel_softmax(key, jnp.zeros((4, 0))), lambda: gj.sample(key, jnp.zeros((4, 0))), lambda: gj.top_k(key, jnp.zeros((4, 0)), 0)):
        with pytest.raises(ValueError, match="no class"):
            run()
    # Arguments that shape the computation must be static under jit.
    with pytest.raises(TypeError, match="static"):
        jax.jit(gj.sample)(key, x, 0)
    with pytest.raises(TypeError, match="static"):
        jax.jit(gj.top_k)(key, x, 2)
    with pytest.raises(TypeError, match="static"):
        jax.jit(gj.gumbel_softmax)(key, x, 0.5, True)
    with pytest.raises(ValueError, match="axis"):
        gj.gumbel_softmax(key, x, axis=2)
    with pytest.raises(ValueError, match="0-d"):
        gj.sample(key, jnp.float32(1.0))
    with pytest.raises(ValueError, match="per row"):
        gj.gumbel_softmax(key, x, jnp.ones((2, 3)))
    with pytest.raises(ValueError, match="> 0"):
        gj.gumbel_softmax(key, x, 0.0)
    with pytest.raises(ValueError, match="k must be"):
        gj.top_k(key, x, 4)
    with pytest.raises(ValueError, match="hard=True"):
        gj.gumbel_softmax(key, x, estimator="reinmax")
    with pytest.raises(ValueError, match="unknown estimator"):
        gj.gumbel_softmax(key, x, hard=True, estimator="rao")
    with pytest.raises(ValueError, match="draws"):
        gj.gumbel_softmax(key, x, hard=True, estimator="gumbel_rao", draws=0)
    with pytest.raises(ValueError, match="tau_backward"):
        gj.gumbel_softmax(key, x, hard=True, estimator="reinmax", tau_backward=2.0)
    with pytest.raises(TypeError, match="traced array"):
        jax.jit(lambda t: gj.gumbel_softmax(key, x, t, hard=True, estimator="reinmax"))(1.0)
    with pytest.raises(ValueError, match="one-element"):
        gj.relaxed_bernoulli(key, x, jnp.ones(2))
    # NumPy integers are integers.
    np.testing.assert_array_equal(gj.top_k(key, x, np.int64(2), axis=np.int32(-1)), gj.top_k(key, x, 2))
    gj.gumbel_softmax(key, x, hard=True, estimator="gumbel_rao", draws=np.int64(3))
    # Values are the library's to check, when the computation runs.
    bad = jnp.array([[0.0, jnp.nan, 1.0]])
    for run in (lambda: gj.gumbel_softmax(key, bad), lambda: jax.jit(gj.sample)(key, bad), lambda: gj.top_k(key, bad, 2)):
        with pytest.raises(jax.errors.JaxRuntimeError, match="gumbel: invalid logits"):
            np.asarray(run())
    with pytest.raises(jax.errors.JaxRuntimeError, match="gumbel: all classes masked"):
        np.asarray(gj.sample(key, jnp.full((2, 3), -jnp.inf)))
    with pytest.raises(jax.errors.JaxRuntimeError, match="gumbel: invalid temperature"):
        np.asarray(gj.gumbel_softmax(key, x, jnp.array([[1.0], [-1.0]])))
    with pytest.raises(jax.errors.JaxRuntimeError, match="gumbel: invalid value"):
        np.asarray(jax.grad(lambda x: jnp.sum(gj.gumbel_softmax(key, x) * jnp.inf))(x))
    with pytest.raises(jax.errors.JaxRuntimeError, match="gumbel: invalid parameter"):
        np.asarray(gj.top_k(key, jnp.array([[0.0, -jnp.inf, -jnp.inf]]), 2))


def test_a_compiled_function_fails_on_a_later_bad_value():
    """JAX raises a later failure of a compiled computation as ValueError
    (the first as JaxRuntimeError): both carry the library's message."""
    step = jax.jit(lambda x, t: gj.gumbel_softmax(jax.random.key(0), x, t))
    x = jnp.zeros((2, 3))
    np.asarray(step(x, jnp.float32(0.5)))
    with pytest.raises((jax.errors.JaxRuntimeError, ValueError), match="gumbel: invalid temperature"):
        np.asarray(step(x, jnp.float32(0.0)))


def test_subnormal_results_keep_the_numpy_bits():
    """XLA's threads flush subnormals to zero; the handlers compute with
    them, as the C ABI does."""
    key = jax.random.key(0)
    s = seed_of(key)
    x = np.array([[0.0, -88.0], [0.0, -95.0], [0.0, 1.0]], np.float32)
    for tau in (1.0, 1e-38):
        y = np.asarray(gj.gumbel_softmax(key, jnp.asarray(x), tau))
        np.testing.assert_array_equal(y, gumbel.gumbel_softmax(x, tau, seed=s, offset=0))
        assert np.isfinite(y).all()
    assert (np.asarray(gj.gumbel_softmax(key, jnp.asarray(x), 1.0))[:2, 1] > 0).all()
    v = np.ones_like(x)
    (g,) = jax.vjp(lambda x: gj.gumbel_softmax(key, x, 1e-38), jnp.asarray(x))[1](jnp.asarray(v))
    assert np.isfinite(np.asarray(g)).all()


def test_import_gumbel_does_not_import_jax():
    code = "import sys, gumbel; assert 'jax' not in sys.modules; import gumbel.jax; assert 'jax' in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
