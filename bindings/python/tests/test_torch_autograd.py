"""Derivatives of gumbel.torch: tensor temperatures (0-d and per row) with the
library's grad_tau, double backward, forward mode and the torch.func
transforms, each against autograd through the same expression in PyTorch
operations with the same noise: softmax((logits + g) / tau) and
sigmoid((logits + L) / tau)."""

import pytest
import torch
import torch.nn.functional as F
from conftest import gumbel_noise_like, logistic_noise_like
from torch.func import grad, hessian, jacrev, jvp, vmap

import gumbel.torch as gt
from gumbel.torch import _autograd as ad

D = torch.float64
TIGHT = dict(rtol=1e-10, atol=1e-12)
SEED, OFFSET = 13, 4


def rand(*shape, seed=0, dtype=D):
    return torch.randn(*shape, dtype=dtype, generator=torch.Generator().manual_seed(seed))


def ours(x, tau, hard=False, dim=-1):
    return gt.gumbel_softmax(x, tau, hard=hard, dim=dim, seed=SEED, offset=OFFSET)


def reference(x, tau, hard=False, dim=-1, g=None):
    """The same sample written with PyTorch operations on the library's noise
    (pass the noise ``g`` under torch.func transforms, which cannot make it)."""
    if g is None:
        g = gumbel_noise_like(x.shape, dim, SEED, OFFSET, x.dtype)
    soft = torch.softmax((x + g) / tau, dim)
    if not hard:
        return soft
    one_hot = torch.zeros_like(soft).scatter_(dim, soft.argmax(dim, keepdim=True), 1.0)
    return one_hot - soft.detach() + soft


def ours_rb(x, tau, hard=False):
    return gt.relaxed_bernoulli(x, tau, hard=hard, seed=SEED, offset=OFFSET)


def reference_rb(x, tau, hard=False, noise=None):
    if noise is None:
        noise = logistic_noise_like(x.shape, SEED, OFFSET, x.dtype)
    soft = torch.sigmoid((x + noise) / tau)
    return (soft > 0.5).to(soft.dtype) - soft.detach() + soft if hard else soft


# (logits shape, dim, temperature shape): scalar, per row, broadcast per row.
TAU_CASES = [
    ((4, 5), -1, ()),
    ((4, 5), -1, (4, 1)),
    ((4, 5), 1, (1, 1)),
    ((3, 5, 2), 1, (3, 1, 2)),
    ((3, 5, 2), 1, (1, 2)),
    ((3, 5, 2), 0, (1, 5, 2)),
    ((6,), 0, ()),
]


def temperature(shape, seed=1, dtype=D):
    return (torch.rand(shape, dtype=dtype, generator=torch.Generator().manual_seed(seed)) + 0.4).requires_grad_(True)


@pytest.mark.parametrize("dtype", [torch.float32, D])
@pytest.mark.parametrize("hard", [False, True])
@pytest.mark.parametrize("shape, dim, tau_shape", TAU_CASES)
def test_tensor_temperature_gradients(shape, dim, tau_shape, hard, dtype):
    x0, w = rand(*shape, dtype=dtype) * 2, rand(*shape, seed=2, dtype=dtype)
    results = []
    for f in (ours, reference):
        x, tau = x0.clone().requires_grad_(True), temperature(tau_shape, dtype=dtype)
        y = f(x, tau, hard, dim)
        (y * w).sum().backward()
        results.append((y.detach(), x.grad, tau.grad))
    tol = TIGHT if dtype == D else dict(rtol=2e-4, atol=1e-5)
    for a, b in zip(*results):
        torch.testing.assert_close(a, b, **tol)
    assert results[0][2].shape == tau_shape


def test_masked_classes_get_finite_temperature_gradients():
    """0 ln 0 = 0: a -inf logit's class adds nothing to grad_tau (the
    reference, which would give NaN at -inf, uses a logit whose class
    underflows to exactly 0 instead)."""
    x0 = rand(4, 5) * 2
    x0[1, 2] = x0[3, 0] = float("-inf")
    w = rand(4, 5, seed=2)
    results = []
    for f, x in ((ours, x0.clone()), (reference, torch.where(torch.isinf(x0), -1e4, x0))):
        x.requires_grad_(True)
        tau = temperature((4, 1))
        y = f(x, tau)
        assert y[1, 2] == 0 and y[3, 0] == 0
        (y * w).sum().backward()
        results.append((y.detach(), x.grad, tau.grad))
    for a, b in zip(*results):
        torch.testing.assert_close(a, b, **TIGHT)


def test_temperature_types():
    """A number, a 0-d tensor, a Parameter and a computed tensor give the same
    sample; a float64 per-row tau promotes float32 logits as PyTorch does."""
    x = rand(3, 4, dtype=torch.float32)
    ys = [ours(x, 0.5), ours(x, torch.tensor(0.5)), ours(x, torch.nn.Parameter(torch.tensor(0.5))), ours(x, torch.tensor(0.5).log().exp())]
    for y in ys[1:]:
        assert torch.equal(y.detach(), ys[0])
    y64 = ours(x, torch.full((3, 1), 0.5, dtype=D))
    assert y64.dtype == D == F.gumbel_softmax(x, torch.full((3, 1), 0.5, dtype=D)).dtype
    assert torch.equal(y64, ours(x.double(), 0.5))
    assert ours(x, torch.tensor(0.5, dtype=D)).dtype == torch.float32  # a 0-d tau does not promote


@pytest.mark.parametrize("hard", [False, True])
def test_relaxed_bernoulli_temperature_gradient(hard):
    x0, w = rand(6, 3) * 2, rand(6, 3, seed=2)
    results = []
    for f in (ours_rb, reference_rb):
        x, tau = x0.clone().requires_grad_(True), temperature(())
        y = f(x, tau, hard)
        (y * w).sum().backward()
        results.append((y.detach(), x.grad, tau.grad))
    for a, b in zip(*results):
        torch.testing.assert_close(a, b, **TIGHT)
    # One-element temperatures of any shape are accepted as a scalar.
    tau1 = torch.full((1, 1), 0.5, dtype=D, requires_grad=True)
    ours_rb(x0, tau1).sum().backward()
    assert tau1.grad.shape == (1, 1)


# -- second order --------------------------------------------------------------

GG_CASES = [((3, 4), -1, ()), ((3, 4), -1, (3, 1)), ((2, 3, 2), 1, (2, 1, 2))]


@pytest.mark.parametrize("hard", [False, True])
@pytest.mark.parametrize("shape, dim, tau_shape", GG_CASES)
def test_gradgradcheck(shape, dim, tau_shape, hard):
    x = (rand(*shape) * 2).requires_grad_(True)
    tau = temperature(tau_shape)
    f = lambda a, t: ours(a, t, hard, dim)  # noqa: E731
    # A hard sample's gradient is the soft one's, not the derivative of the
    # one-hot; its backward (the soft sample's, replayed) is smooth.
    assert hard or torch.autograd.gradcheck(f, (x, tau), check_forward_ad=True)
    assert torch.autograd.gradgradcheck(f, (x, tau), check_fwd_over_rev=True)


@pytest.mark.parametrize("hard", [False, True])
def test_gradgradcheck_relaxed_bernoulli(hard):
    x = (rand(3, 4) * 2).requires_grad_(True)
    tau = temperature(())
    f = lambda a, t: ours_rb(a, t, hard)  # noqa: E731
    assert hard or torch.autograd.gradcheck(f, (x, tau), check_forward_ad=True)
    assert torch.autograd.gradgradcheck(f, (x, tau), check_fwd_over_rev=True)


def test_backward_operators_gradcheck():
    """The derivatives of the library's backward and grad_tau themselves, in
    both modes, as functions of (y, v, tau) (through gumbel.torch's callables:
    a custom operator called directly has no forward-mode formula)."""
    y = torch.softmax(rand(3, 4, 2), 1).requires_grad_(True)
    v = rand(3, 4, 2, seed=3).requires_grad_(True)
    for tau in (temperature(()), temperature((3, 1, 2))):
        for op in (ad.gumbel_softmax_backward, ad.gumbel_softmax_grad_tau):
            assert torch.autograd.gradcheck(lambda a, b, t: op(a, b, t, 1), (y, v, tau), check_forward_ad=True)
    yb = torch.sigmoid(rand(3, 4)).requires_grad_(True)
    vb = rand(3, 4, seed=3).requires_grad_(True)
    assert torch.autograd.gradcheck(ad.relaxed_bernoulli_backward, (yb, vb, temperature(())), check_forward_ad=True)


def penalty_gradients(f, x0, tau0, w, dim=-1):
    """d/d(x, tau) of ||dL/dx||^2 + (dL/dtau)^2 for L = <f(x, tau), w>."""
    x, tau = x0.clone().requires_grad_(True), tau0.detach().clone().requires_grad_(True)
    gx, gtau = torch.autograd.grad((f(x, tau, False, dim) * w).sum(), (x, tau), create_graph=True)
    assert gx.requires_grad and gtau.requires_grad
    return torch.autograd.grad((gx**2).sum() + (gtau**2).sum(), (x, tau))


@pytest.mark.parametrize("shape, dim, tau_shape", TAU_CASES)
def test_second_order_equals_autograd_through_softmax(shape, dim, tau_shape):
    x0, w, tau = rand(*shape) * 2, rand(*shape, seed=2), temperature(tau_shape)
    for a, b in zip(penalty_gradients(ours, x0, tau, w, dim), penalty_gradients(reference, x0, tau, w, dim)):
        torch.testing.assert_close(a, b, **TIGHT)


def test_second_order_relaxed_bernoulli_equals_autograd():
    x0, w, tau = rand(5, 3) * 2, rand(5, 3, seed=2), temperature(())
    f, g = (lambda a, t, hard, dim: ours_rb(a, t)), (lambda a, t, hard, dim: reference_rb(a, t))
    for a, b in zip(penalty_gradients(f, x0, tau, w), penalty_gradients(g, x0, tau, w)):
        torch.testing.assert_close(a, b, **TIGHT)


@pytest.mark.parametrize("hard", [False, True])
def test_gradient_penalty_trains(hard):
    """loss + ||d loss / d logits||^2 (create_graph=True): the penalty's
    second-order term reaches the weights, and the total loss falls."""
    torch.manual_seed(0)
    net = torch.nn.Linear(6, 5).double()
    log_tau = torch.nn.Parameter(torch.tensor(0.0, dtype=D))
    inputs, target = rand(32, 6), torch.softmax(rand(32, 5, seed=4) * 3, -1)
    opt = torch.optim.Adam([*net.parameters(), log_tau], lr=0.05)

    def losses(step, penalty=True):
        logits = net(inputs)
        y = gt.gumbel_softmax(logits, log_tau.exp(), hard=hard, seed=step)
        loss = ((y - target) ** 2).sum()
        (g,) = torch.autograd.grad(loss, logits, create_graph=True)
        return loss + (g**2).sum() if penalty else loss

    with_penalty = torch.autograd.grad(losses(0), net.weight)[0]
    without = torch.autograd.grad(losses(0, False) + 0 * log_tau, net.weight)[0]
    assert not torch.allclose(with_penalty, without)
    history = []
    for step in range(40):
        opt.zero_grad()
        total = losses(step)
        total.backward()
        opt.step()
        history.append(total.item())
    assert log_tau.grad is not None and log_tau.grad != 0
    assert sum(history[-5:]) < 0.7 * sum(history[:5])


# -- torch.func ----------------------------------------------------------------


def test_func_grad_equals_backward():
    x, tau, w = rand(4, 5), torch.tensor(0.7, dtype=D), rand(4, 5, seed=2)
    f = lambda a, t: (ours(a, t, True) * w).sum()  # noqa: E731
    gx, gtau = grad(f, argnums=(0, 1))(x, tau)
    xr, tr = x.clone().requires_grad_(True), tau.clone().requires_grad_(True)
    (reference(xr, tr, True) * w).sum().backward()
    torch.testing.assert_close(gx, xr.grad, **TIGHT)
    torch.testing.assert_close(gtau, tr.grad, **TIGHT)


def test_vmap_over_logits_and_temperatures():
    """With an explicit seed, vmap over a batch is the loop over its elements
    (every element the same noise), for the sampler and its gradients."""
    xs, taus = rand(4, 3, 5), torch.rand(4, 3, 1, dtype=D) + 0.5
    batched = vmap(lambda a, t: ours(a, t))(xs, taus)
    assert torch.equal(batched, torch.stack([ours(xs[i], taus[i]) for i in range(4)]))
    w = rand(3, 5, seed=2)
    per_sample = vmap(grad(lambda a, t: (ours(a, t) * w).sum(), argnums=(0, 1)))(xs, taus)
    for i in range(4):
        gx, gt_ = grad(lambda a, t: (ours(a, t) * w).sum(), argnums=(0, 1))(xs[i], taus[i])
        torch.testing.assert_close(per_sample[0][i], gx, **TIGHT)
        torch.testing.assert_close(per_sample[1][i], gt_, **TIGHT)
    rb = vmap(lambda a: ours_rb(a, 0.5))(xs)
    assert torch.equal(rb, torch.stack([ours_rb(xs[i], 0.5) for i in range(4)]))


@pytest.mark.parametrize("randomness", ["error", "same", "different"])
@pytest.mark.parametrize("sampler", ["softmax", "bernoulli"])
def test_vmap_randomness_as_pytorch(randomness, sampler):
    """vmap's randomness flag means for ours what it means for PyTorch's
    samplers: "error" raises, "same" one draw for all elements, "different"
    one per element; ours passes wherever PyTorch's does."""
    x = torch.zeros(4, 3, 5, dtype=D)
    if sampler == "softmax":
        theirs, mine = (lambda a: F.gumbel_softmax(a, 0.5)), (lambda a: gt.gumbel_softmax(a, 0.5))
    else:
        theirs = lambda a: torch.distributions.RelaxedBernoulli(torch.tensor(0.5, dtype=D), logits=a).rsample()  # noqa: E731
        mine = lambda a: gt.relaxed_bernoulli(a, 0.5)  # noqa: E731
    outs = []
    for f in (theirs, mine):
        try:
            outs.append(vmap(f, randomness=randomness)(x))
        except RuntimeError as e:
            assert randomness == "error" and "randomness" in str(e), e
            outs.append(None)
    assert (outs[0] is None) == (outs[1] is None)
    for out in outs:
        if out is not None:
            # (PyTorch's own batched arithmetic may differ in the last bit.)
            same = [torch.allclose(out[0], out[i], rtol=1e-12, atol=0) for i in range(1, 4)]
            assert all(same) if randomness == "same" else not any(same)
    if outs[1] is not None and randomness == "same":
        assert all(torch.equal(outs[1][0], outs[1][i]) for i in range(1, 4))


def test_jacrev_jvp_and_hessian_equal_the_reference():
    x, tau = rand(3, 4), torch.tensor(0.6, dtype=D)
    dx, dtau = rand(3, 4, seed=5), torch.tensor(0.3, dtype=D)
    w = rand(3, 4, seed=2)
    g, noise = gumbel_noise_like(x.shape, -1, SEED, OFFSET, D), logistic_noise_like(x.shape, SEED, OFFSET, D)
    ref_softmax = lambda a, t, hard=False: reference(a, t, hard, g=g)  # noqa: E731
    ref_bernoulli = lambda a, t: reference_rb(a, t, noise=noise)  # noqa: E731
    for mine, ref in ((ours, ref_softmax), (ours_rb, ref_bernoulli)):
        torch.testing.assert_close(jacrev(mine, argnums=(0, 1))(x, tau), jacrev(ref, argnums=(0, 1))(x, tau), **TIGHT)
        a, b = jvp(mine, (x, tau), (dx, dtau)), jvp(ref, (x, tau), (dx, dtau))
        torch.testing.assert_close(a, b, **TIGHT)
        h = [hessian(lambda a, t: (f(a, t) * w).sum(), argnums=(0, 1))(x, tau) for f in (mine, ref)]
        torch.testing.assert_close(h[0], h[1], **TIGHT)
    # Per-row temperatures, hard sample: forward mode against the reference too.
    taus, dtaus = torch.rand(3, 1, dtype=D) + 0.5, rand(3, 1, seed=6)
    a = jvp(lambda p, t: ours(p, t, True), (x, taus), (dx, dtaus))
    b = jvp(lambda p, t: ref_softmax(p, t, True), (x, taus), (dx, dtaus))
    torch.testing.assert_close(a, b, **TIGHT)
