"""gumbel.torch against the NumPy API (bit for bit), PyTorch autograd through
softmax((logits + g) / tau) with the same noise, gradcheck, and
torch.nn.functional.gumbel_softmax (statistically)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import ALPHA, chi2_sf, gumbel_noise_like, logistic_noise_like, normal_two_sided

import gumbel
import gumbel.torch as gt


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("hard", [False, True])
def test_forward_is_the_numpy_call(dtype, dim, hard):
    x = torch.randn(4, 6, 5, dtype=dtype, generator=torch.Generator().manual_seed(0))
    y = gt.gumbel_softmax(x, 0.6, hard=hard, dim=dim, seed=77, offset=5)
    expect = gumbel.gumbel_softmax(x.numpy(), 0.6, hard=hard, axis=dim, seed=77, offset=5)
    assert y.dtype == dtype and y.shape == x.shape
    assert np.array_equal(y.numpy(), expect)
    # A non-contiguous view gives the bits of its contiguous copy.
    xt = x.transpose(0, 2)
    assert not xt.is_contiguous()
    assert torch.equal(gt.gumbel_softmax(xt, 0.6, hard=hard, dim=dim, seed=77), gt.gumbel_softmax(xt.contiguous(), 0.6, hard=hard, dim=dim, seed=77))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("dim", [0, 1, 2])
@pytest.mark.parametrize("hard", [False, True])
@pytest.mark.parametrize("contiguous", [True, False])
def test_gradients_equal_autograd_through_softmax(dtype, dim, hard, contiguous):
    gen = torch.Generator().manual_seed(1)
    base = torch.randn(3, 4, 5, dtype=dtype, generator=gen) * 2
    w = torch.randn(3, 4, 5, dtype=dtype, generator=gen)
    tau = 0.7
    x = (base if contiguous else base.transpose(0, 1).contiguous().transpose(0, 1)).clone().requires_grad_(True)
    if not contiguous:
        assert not x.is_contiguous()
    y = gt.gumbel_softmax(x, tau, hard=hard, dim=dim, seed=5, offset=2)
    (y * w).sum().backward()

    r = base.clone().requires_grad_(True)
    g = gumbel_noise_like(base.shape, dim, 5, 2, dtype)
    soft = torch.softmax((r + g) / tau, dim=dim)
    if hard:
        one_hot = torch.zeros_like(soft).scatter_(dim, soft.argmax(dim, keepdim=True), 1.0)
        ref = one_hot - soft.detach() + soft
    else:
        ref = soft
    (ref * w).sum().backward()
    tol = dict(rtol=1e-4, atol=1e-5) if dtype == torch.float32 else dict(rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(y, ref.detach(), **tol)
    torch.testing.assert_close(x.grad, r.grad, **tol)


def test_gradcheck_float64():
    x = torch.randn(3, 5, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(2), requires_grad=True)
    for dim in (0, 1, 2):
        # A fresh generator with the same seed per call: the noise is fixed.
        f = lambda t: gt.gumbel_softmax(t, 0.8, dim=dim, generator=gumbel.Generator(9))  # noqa: E731
        assert torch.autograd.gradcheck(f, (x,), eps=1e-6, atol=1e-7)
    f = lambda t: gt.relaxed_bernoulli(t, 0.6, generator=gumbel.Generator(9))  # noqa: E731
    assert torch.autograd.gradcheck(f, (x,), eps=1e-6, atol=1e-7)


def test_backward_saves_only_what_it_needs():
    x = torch.randn(4, 3, requires_grad=True)
    soft = gt.gumbel_softmax(x, 0.5, seed=1)
    saved, tau = soft.grad_fn.saved_tensors
    assert saved.data_ptr() == soft.data_ptr()  # the output, which autograd holds anyway
    assert tau.dim() == 0  # and the temperature
    hard = gt.gumbel_softmax(x, 0.5, hard=True, seed=1)
    saved, tau, key = hard.grad_fn.saved_tensors
    assert saved.data_ptr() == x.data_ptr()  # the logits; the soft sample is replayed
    assert tau.dim() == 0 and key.shape == (2,)  # from the temperature and the (seed, offset) key
    w = torch.randn(4, 3)
    (gx_hard,) = torch.autograd.grad((hard * w).sum(), x)
    (gx_soft,) = torch.autograd.grad((soft * w).sum(), x)
    assert torch.equal(gx_hard, gx_soft)


def test_randomness_sources():
    x = torch.zeros(2, 3)
    torch.manual_seed(123)
    a = gt.gumbel_softmax(x)
    torch.manual_seed(123)
    assert torch.equal(a, gt.gumbel_softmax(x))
    assert not torch.equal(gt.gumbel_softmax(x), gt.gumbel_softmax(x))
    t1 = gt.gumbel_softmax(x, generator=torch.Generator().manual_seed(4))
    assert torch.equal(t1, gt.gumbel_softmax(x, generator=torch.Generator().manual_seed(4)))
    g = gumbel.Generator(8)
    first = gt.gumbel_softmax(x, generator=g)
    assert g.offset == gumbel.streams(2, 3, 1)
    assert torch.equal(first, gt.gumbel_softmax(x, seed=8, offset=0))
    assert not torch.equal(first, gt.gumbel_softmax(x, generator=g))


def chi2_homogeneity(a, b):
    """Chi-square test that two count vectors come from one distribution."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    total = a + b
    keep = total > 0
    ea = total * a.sum() / (a.sum() + b.sum())
    eb = total * b.sum() / (a.sum() + b.sum())
    stat = (((a - ea) ** 2 / ea) + ((b - eb) ** 2 / eb))[keep].sum()
    return chi2_sf(stat, int(keep.sum()) - 1)


def test_hard_frequencies_agree_with_torch():
    logits = torch.tensor([1.0, 0.0, -1.0, 0.5, -2.0])
    n = 40000
    rows = logits.expand(n, 5).contiguous()
    ours = gt.gumbel_softmax(rows, 0.5, hard=True, seed=31).sum(0).numpy()
    torch.manual_seed(31)
    theirs = F.gumbel_softmax(rows, 0.5, hard=True).sum(0).numpy()
    assert ours.sum() == n and theirs.sum() == n
    assert chi2_homogeneity(ours, theirs) > ALPHA
    # Both match softmax(logits) (goodness of fit).
    p = torch.softmax(logits, 0).numpy().astype(float)
    for counts in (ours, theirs):
        assert chi2_sf((((counts - n * p) ** 2) / (n * p)).sum(), 4) > ALPHA
    # The test has power: logits shifted by 0.1 on one class are told apart.
    shifted = gt.gumbel_softmax(rows + torch.tensor([0.1, 0, 0, 0, 0]), 0.5, hard=True, seed=32).sum(0).numpy()
    assert chi2_homogeneity(shifted, theirs) < ALPHA


def test_soft_means_agree_with_torch():
    logits = torch.tensor([0.3, -0.4, 1.2, 0.0])
    n = 40000
    rows = logits.expand(n, 4).contiguous().double()
    ours = gt.gumbel_softmax(rows, 0.8, seed=41)
    torch.manual_seed(41)
    theirs = F.gumbel_softmax(rows, 0.8)

    def z(a, b):
        return (a.mean(0) - b.mean(0)) / torch.sqrt(a.var(0) / n + b.var(0) / n)

    for zk in z(ours, theirs):
        assert normal_two_sided(float(zk)) > ALPHA / 4
    wrong = gt.gumbel_softmax(rows, 1.2, seed=42)  # another temperature
    assert min(normal_two_sided(float(zk)) for zk in z(wrong, theirs)) < ALPHA


def test_relaxed_bernoulli_against_autograd_and_numpy():
    gen = torch.Generator().manual_seed(3)
    base = torch.randn(7, 3, dtype=torch.float64, generator=gen)
    w = torch.randn(7, 3, dtype=torch.float64, generator=gen)
    tau = 0.6
    x = base.clone().requires_grad_(True)
    y = gt.relaxed_bernoulli(x, tau, seed=6, offset=1)
    assert np.array_equal(y.detach().numpy(), gumbel.relaxed_bernoulli(base.numpy(), tau, seed=6, offset=1))
    (y * w).sum().backward()
    noise = logistic_noise_like((7, 3), 6, 1, torch.float64)
    r = base.clone().requires_grad_(True)
    ref = torch.sigmoid((r + noise) / tau)
    (ref * w).sum().backward()
    torch.testing.assert_close(y.detach(), ref.detach(), rtol=1e-9, atol=1e-12)
    torch.testing.assert_close(x.grad, r.grad, rtol=1e-9, atol=1e-12)
    xh = base.clone().requires_grad_(True)
    h = gt.relaxed_bernoulli(xh, tau, hard=True, seed=6, offset=1)
    assert torch.equal(h.detach(), (y.detach() > 0.5).double())
    (h * w).sum().backward()
    torch.testing.assert_close(xh.grad, x.grad, rtol=0, atol=0)


def test_errors():
    x = torch.zeros(2, 3)
    with pytest.raises(TypeError, match="float32, float64"):
        gt.relaxed_bernoulli(x.half())
    with pytest.raises(TypeError):
        gt.gumbel_softmax(torch.zeros(2, 3, dtype=torch.int64))
    with pytest.raises(TypeError):
        gt.gumbel_softmax(np.zeros((2, 3)))
    with pytest.raises(IndexError):
        gt.gumbel_softmax(x, dim=2)
    with pytest.raises(IndexError):
        gt.gumbel_softmax(torch.tensor(1.0), dim=1)
    with pytest.raises(ValueError, match="per-element"):
        gt.gumbel_softmax(x, tau=torch.ones(2, 3))
    with pytest.raises(ValueError, match="one temperature"):
        gt.relaxed_bernoulli(x, tau=torch.ones(2, 3))
    with pytest.raises(gumbel.InvalidTemperatureError, match="tau"):
        gt.gumbel_softmax(x, tau=0.0)
    with pytest.raises(gumbel.InvalidLogitsError, match="row 1"):
        gt.gumbel_softmax(torch.tensor([[0.0, 1.0], [float("nan"), 0.0]]))
    with pytest.raises(gumbel.AllMaskedError):
        gt.gumbel_softmax(torch.full((1, 3), float("-inf")))
    with pytest.raises(gumbel.InvalidTemperatureError, match="row 1"):
        gt.gumbel_softmax(x, tau=torch.tensor([[1.0], [0.0]]))
    with pytest.raises(TypeError):
        gt.gumbel_softmax(x, generator=5)
    with pytest.raises(TypeError):
        gt.gumbel_softmax(x, offset=3)
    with pytest.raises(TypeError):
        gt.gumbel_softmax(x, seed=1, generator=gumbel.Generator(1))
    xg = torch.zeros(2, 3, requires_grad=True)
    y = gt.gumbel_softmax(xg, seed=1)
    with pytest.raises(gumbel.InvalidValueError):
        y.backward(torch.tensor([[1.0, float("nan"), 0.0], [0.0, 0.0, 0.0]]))
    with pytest.raises(gumbel.InvalidTemperatureError):
        gt.relaxed_bernoulli(x, tau=-1.0)
