"""Gradient estimators of the hard sample (``estimator=``, ``tau_backward=``)
in gumbel.torch and the NumPy API: each torch gradient equals the NumPy
one (the C ABI's) for the same key; each matches an autograd reference
written here from its paper (straight-through and decoupled
straight-through through the soft sample of the library's noise, ReinMax
as Liu et al. 2023 Algorithm 2, gapped straight-through as Fan et al. 2022,
Gumbel-Rao as the mean of straight-through over conditional draws); each
compiles with torch.compile(fullgraph=True); bad arguments raise clear
errors."""

import math

import numpy as np
import pytest
import torch
import torch._dynamo
from torch import nn

import gumbel
import gumbel.torch as gt
from gumbel._native import ffi, lib

from conftest import gumbel_noise_like

ESTIMATORS = ["st", "reinmax", "gumbel_rao", "gapped_st"]
SEED, OFFSET = 1234, 77


def problem(shape=(6, 5), dtype=torch.float64, scale=2.0):
    g = torch.Generator().manual_seed(3)
    logits = (scale * torch.randn(shape, generator=g, dtype=torch.float64)).to(dtype)
    v = torch.randn(shape, generator=g, dtype=torch.float64).to(dtype)
    return logits, v


def torch_grad(logits, v, tau, dim=-1, **kw):
    x = logits.clone().requires_grad_(True)
    y = gt.gumbel_softmax(x, tau, hard=True, dim=dim, seed=SEED, offset=OFFSET, **kw)
    (y * v).sum().backward()
    return y.detach(), x.grad


def softmax_st(y_hard, z, tau, dim):
    """Straight-through through softmax(z / tau): the hard forward value,
    the soft sample's derivative."""
    y_soft = torch.softmax(z / tau, dim)
    return y_hard + y_soft - y_soft.detach()


def reference(estimator, logits, y_hard, v, tau, dim=-1, tau_backward=None, draws=10, gap=1.0):
    """dL/dlogits of L = <v, y> by autograd through each paper's definition."""
    x = logits.clone().requires_grad_(True)
    if estimator == "st":
        t = tau if tau_backward is None else tau_backward
        g = gumbel_noise_like(x.shape, dim, SEED, OFFSET, x.dtype)  # the forward's noise, up to a row constant
        y = softmax_st(y_hard, x + g, t, dim)
    elif estimator == "reinmax":
        # Liu et al. 2023, Algorithm 2.
        pi0 = torch.softmax(x, dim)
        pi1 = (y_hard + torch.softmax(x / tau, dim)) / 2
        pi1 = torch.softmax((torch.log(pi1) - x).detach() + x, dim)
        pi2 = 2 * pi1 - pi0 / 2
        y = y_hard + pi2 - pi2.detach()
    elif estimator == "gapped_st":
        # Fan et al. 2022, section 4: the perturbation m that makes the sampled
        # class the maximum and every other logit at least `gap` below it,
        # held constant: m_d = max(l) - l_d, m_k = -relu(l_k - max(l) + gap).
        top = x.amax(dim, keepdim=True)
        m = torch.where(y_hard > 0, top - x, -torch.relu(x - top + gap)).detach()
        y = softmax_st(y_hard, x + m, tau, dim)
    else:
        # Paulus et al. 2021, eq. 8: straight-through averaged over draws of the
        # perturbed logits conditioned on the sampled class (the library's
        # conditional primitive, on the streams after the forward's), the
        # noise z_j - l held constant.
        z = conditional(logits, y_hard.argmax(dim), dim, draws)
        y = sum(softmax_st(y_hard, x + (z_j - x).detach(), tau, dim) for z_j in z) / draws
    (y * v).sum().backward()
    return x.grad


def conditional(logits, index, dim, draws):
    outer, classes, inner, _ = gt._ops.split(logits.shape, dim)
    x = logits.contiguous()
    out = torch.empty((draws,) + tuple(x.shape), dtype=x.dtype)
    idx = index.contiguous()
    offset = OFFSET + gumbel.streams(outer, classes, inner)
    ptr = "double *" if x.dtype == torch.float64 else "float *"
    fn = lib.gumbel_conditional_f64 if x.dtype == torch.float64 else lib.gumbel_conditional_f32
    status = fn(
        ffi.cast(ptr, x.data_ptr()), ffi.cast("int64_t *", idx.data_ptr()), ffi.cast(ptr, out.data_ptr()),
        outer, classes, inner, draws, SEED, offset,
    )
    assert status == 0
    return list(out)


# -- torch against NumPy (the C ABI) and against the references ----------------


@pytest.mark.parametrize("estimator", ESTIMATORS)
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_torch_equals_numpy(estimator, dtype):
    logits, v = problem((4, 7, 3), dtype)
    for tau in (0.5, 2.0):
        y, g = torch_grad(logits, v, tau, dim=1, estimator=estimator, draws=4, gap=0.7)
        ref_y = gumbel.gumbel_softmax(logits.numpy(), tau, hard=True, axis=1, seed=SEED, offset=OFFSET)
        assert torch.equal(y, torch.from_numpy(ref_y))
        expect = gumbel.gumbel_softmax_hard_backward(
            logits.numpy(), v.numpy(), tau, axis=1, seed=SEED, offset=OFFSET, estimator=estimator, draws=4, gap=0.7
        )
        assert g.dtype == dtype and torch.equal(g, torch.from_numpy(expect)), estimator


@pytest.mark.parametrize("estimator", ESTIMATORS)
@pytest.mark.parametrize("tau", [0.3, 1.0, 2.5])
def test_matches_paper_reference(estimator, tau):
    logits, v = problem((6, 5))
    y, g = torch_grad(logits, v, tau, estimator=estimator, draws=7, gap=1.0)
    ref = reference(estimator, logits, y, v, tau, draws=7, gap=1.0)
    torch.testing.assert_close(g, ref, rtol=1e-9, atol=1e-12)
    assert g.abs().max() > 1e-3  # a real gradient, not zeros
    torch.testing.assert_close(g.sum(-1), torch.zeros(6, dtype=g.dtype), rtol=0, atol=1e-12)


@pytest.mark.parametrize("estimator", ["reinmax", "gumbel_rao", "gapped_st"])
def test_matches_paper_reference_class_dim_in_the_middle(estimator):
    logits, v = problem((3, 5, 4))
    y, g = torch_grad(logits, v, 1.5, dim=1, estimator=estimator, draws=3, gap=0.5)
    ref = reference(estimator, logits, y, v, 1.5, dim=1, draws=3, gap=0.5)
    torch.testing.assert_close(g, ref, rtol=1e-9, atol=1e-12)


def test_non_contiguous_logits():
    base, v = problem((5, 6))
    logits = base.T  # (6, 5), strided
    assert not logits.is_contiguous()
    for e in ESTIMATORS:
        y, g = torch_grad(logits, v.T.contiguous(), 0.8, estimator=e, draws=3)
        ref = reference(e, logits.contiguous(), y, v.T.contiguous(), 0.8, draws=3)
        torch.testing.assert_close(g, ref, rtol=1e-9, atol=1e-12)


def test_decoupled_straight_through():
    logits, v = problem((6, 5))
    for tau, tau_b in ((0.5, 2.0), (2.0, 0.3)):
        y, g = torch_grad(logits, v, tau, tau_backward=tau_b)
        # the forward is the plain hard sample: its class ignores the temperatures
        assert torch.equal(y, torch_grad(logits, v, 1.0)[0])
        torch.testing.assert_close(g, reference("st", logits, y, v, tau, tau_backward=tau_b), rtol=1e-9, atol=1e-12)
        # and it is plain straight-through at the backward temperature
        torch.testing.assert_close(g, torch_grad(logits, v, tau_b)[1], rtol=1e-12, atol=1e-14)
        expect = gumbel.gumbel_softmax_hard_backward(logits.numpy(), v.numpy(), tau, seed=SEED, offset=OFFSET, tau_backward=tau_b)
        assert torch.equal(g, torch.from_numpy(expect))


def test_estimators_differ():
    """The four are distinct rules (a mix-up between them would pass a test
    that compares one with itself)."""
    logits, v = problem((6, 5))
    grads = [torch_grad(logits, v, 1.0, estimator=e)[1] for e in ESTIMATORS]
    for i in range(len(grads)):
        for j in range(i):
            assert (grads[i] - grads[j]).abs().max() > 1e-3


def test_gumbel_rao_draws_and_streams():
    logits, v = problem((6, 5))
    g1 = torch_grad(logits, v, 1.0, estimator="gumbel_rao", draws=1)[1]
    g50 = torch_grad(logits, v, 1.0, estimator="gumbel_rao", draws=50)[1]
    assert (g1 - g50).abs().max() > 1e-3
    # The conditional draws use the streams after the forward's, not its own:
    # one draw on the forward's streams would be the straight-through gradient.
    assert (g1 - torch_grad(logits, v, 1.0)[1]).abs().max() > 1e-3
    # A gumbel.Generator is advanced past them.
    gen = gumbel.Generator(5)
    x = logits.clone().requires_grad_(True)
    gt.gumbel_softmax(x, 1.0, hard=True, generator=gen, estimator="gumbel_rao", draws=6)
    assert gen.offset == 7 * gumbel.streams(6, 5)


def test_gumbel_rao_has_the_expectation_of_straight_through():
    """Paulus et al.'s Rao-Blackwellisation: E[Gumbel-Rao] = E[ST]. Means over
    many keys of both agree within a z-test at alpha 1e-6 per entry
    (Bonferroni), while ReinMax's mean (a different estimator) does not."""
    logits = torch.tensor([[1.0, 0.0, -0.5, 0.3]], dtype=torch.float64).repeat(20000, 1)
    v = torch.tensor([0.7, -1.2, 0.4, 2.0], dtype=torch.float64).expand_as(logits)

    def grads(**kw):
        x = logits.clone().requires_grad_(True)
        (gt.gumbel_softmax(x, 0.7, hard=True, seed=11, **kw) * v).sum().backward()
        return x.grad

    st, rao, reinmax = grads(), grads(estimator="gumbel_rao", draws=2), grads(estimator="reinmax")
    n = len(logits)
    z_crit = 5.8  # two-sided 1e-6 / 4 entries
    diff = st - rao
    z = diff.mean(0) / (diff.std(0) / math.sqrt(n))
    assert z.abs().max() < z_crit, z
    diff = st - reinmax
    z = diff.mean(0) / (diff.std(0) / math.sqrt(n))
    assert z.abs().max() > z_crit, z


def test_forward_mode_equals_reverse_mode():
    """The estimators are symmetric linear maps of the upstream gradient, so
    the forward-mode derivative is the same map on the tangent."""
    logits, v = problem((3, 4))
    for e in ESTIMATORS:
        f = lambda x: gt.gumbel_softmax(x, 1.3, hard=True, seed=SEED, offset=OFFSET, estimator=e, draws=3)
        _, tangent = torch.func.jvp(f, (logits,), (v,))
        torch.testing.assert_close(tangent, torch_grad(logits, v, 1.3, estimator=e, draws=3)[1], rtol=1e-12, atol=1e-14)


def test_masked_class_and_empty():
    logits, v = problem((4, 5))
    logits[:, 2] = -math.inf
    for e in ESTIMATORS:
        y, g = torch_grad(logits, v, 1.0, estimator=e)
        assert (y[:, 2] == 0).all() and (g[:, 2] == 0).all() and g.isfinite().all()
        empty = torch.zeros(0, 5, dtype=torch.float64, requires_grad=True)
        gt.gumbel_softmax(empty, 1.0, hard=True, estimator=e).sum().backward()
        assert empty.grad.shape == (0, 5)


# -- torch.compile -----------------------------------------------------------------


class Net(nn.Module):
    def __init__(self, estimator, **kw):
        super().__init__()
        self.lin = nn.Linear(6, 5, dtype=torch.float64)
        self.estimator, self.kw = estimator, kw

    def forward(self, x):
        return gt.gumbel_softmax(self.lin(x), 1.5, hard=True, estimator=self.estimator, **self.kw)


@pytest.mark.parametrize(
    "estimator, kw, backend",
    [
        ("st", {"tau_backward": 0.5}, "aot_eager"),
        ("reinmax", {}, "aot_eager"),
        ("gumbel_rao", {"draws": 3}, "aot_eager"),
        ("gapped_st", {"gap": 0.5}, "aot_eager"),
        ("gumbel_rao", {"draws": 3}, "inductor"),
    ],
)
def test_compiles_fullgraph(estimator, kw, backend):
    torch._dynamo.reset()
    torch.manual_seed(0)
    net = Net(estimator, **kw)
    cnet = torch.compile(net, fullgraph=True, backend=backend)
    x = torch.randn(8, 6, dtype=torch.float64)
    v = torch.randn(8, 5, dtype=torch.float64)
    grads = []
    for model in (cnet, net):
        torch.manual_seed(42)  # the same key in both runs
        model.zero_grad()
        y = model(x)
        (y * v).sum().backward()
        grads.append((y.detach(), net.lin.weight.grad.clone()))
    assert torch.equal(grads[0][0], grads[1][0])
    torch.testing.assert_close(grads[0][1], grads[1][1], rtol=1e-12, atol=1e-14)
    assert grads[0][1].abs().max() > 1e-3


@pytest.mark.parametrize("dtype", [torch.float64, torch.bfloat16])
def test_ops_pass_opcheck(dtype):
    logits, v = problem((4, 5), dtype)
    idx = logits.argmax(-1)
    key = torch.tensor([SEED, OFFSET])
    t = torch.tensor(1.5, dtype=torch.float64 if dtype == torch.float64 else torch.float32)
    ops = torch.ops.gumbel
    torch.library.opcheck(ops.gumbel_softmax_hard, (logits, t, t, -1, key, "reinmax", 2, 1.0))
    torch.library.opcheck(ops.straight_through_backward, (logits, v, t, -1, key))
    torch.library.opcheck(ops.reinmax_backward, (logits, idx, v, t, -1))
    torch.library.opcheck(ops.gapped_st_backward, (logits, idx, v, t, -1, 0.5))
    torch.library.opcheck(ops.gumbel_rao_backward, (logits, idx, v, t, -1, 3, key))


# -- bfloat16 and float16 ---------------------------------------------------------

# The estimator paths that run through the library's 16-bit estimator entries
# (plain "st" is the soft sample's backward, tested in test_half.py).
HALF_CASES = [
    ("st", {"tau_backward": 0.7}),
    ("reinmax", {}),
    ("gumbel_rao", {"draws": 3}),
    ("gapped_st", {"gap": 0.5}),
]


@pytest.mark.parametrize("estimator, kw", HALF_CASES)
@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_half_gradient_is_the_float32_gradient_rounded(estimator, kw, dtype):
    """A bfloat16/float16 estimator gradient is the float32 gradient of the
    logits and ``dL/dy`` widened to float32, rounded once, bit for bit; the
    forward is the float32 call's one-hot. float16 equals the NumPy API's."""
    logits, v = problem((5, 7, 3), dtype)
    y32, g32 = torch_grad(logits.float(), v.float(), 1.3, dim=1, estimator=estimator, **kw)
    y, g = torch_grad(logits, v, 1.3, dim=1, estimator=estimator, **kw)
    assert y.dtype == g.dtype == dtype
    assert torch.equal(y, y32.to(dtype))
    assert torch.equal(g, g32.to(dtype)), estimator  # .to rounds to nearest even
    assert g.float().abs().max() > 1e-2  # a real gradient, not zeros
    if dtype == torch.float16:
        expect = gumbel.gumbel_softmax_hard_backward(
            logits.numpy(), v.numpy(), 1.3, axis=1, seed=SEED, offset=OFFSET, estimator=estimator, **kw
        )
        assert expect.dtype == np.float16 and torch.equal(g, torch.from_numpy(expect))
        expect32 = gumbel.gumbel_softmax_hard_backward(
            logits.float().numpy(), v.float().numpy(), 1.3, axis=1, seed=SEED, offset=OFFSET, estimator=estimator, **kw
        )
        assert np.array_equal(expect.view(np.uint16), expect32.astype(np.float16).view(np.uint16))


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_half_gradient_compiles_to_the_float32_gradient_rounded(dtype):
    """Under torch.compile(fullgraph=True) too, the 16-bit gradient is the
    eager float32 gradient of the widened inputs, rounded once."""
    logits, v = problem((6, 5), dtype)
    for estimator, kw in HALF_CASES:
        torch._dynamo.reset()

        def loss(x, w):
            return (gt.gumbel_softmax(x, 1.3, hard=True, estimator=estimator, **kw) * w).sum()

        compiled = torch.compile(loss, fullgraph=True, backend="aot_eager")
        grads = []
        for fn, x, w in ((compiled, logits, v), (loss, logits.float(), v.float())):
            torch.manual_seed(42)  # the same key in both runs
            x = x.clone().requires_grad_(True)
            fn(x, w).backward()
            grads.append(x.grad)
        assert grads[0].dtype == dtype
        assert torch.equal(grads[0], grads[1].to(dtype)), estimator
        assert grads[0].float().abs().max() > 1e-2


# -- bad input -------------------------------------------------------------------


@pytest.mark.parametrize(
    "kw, error, match",
    [
        ({"estimator": "rein_max"}, ValueError, "unknown estimator 'rein_max'"),
        ({"estimator": "gumbel_rao", "draws": 0}, ValueError, "draws"),
        ({"estimator": "gumbel_rao", "draws": 2.5}, ValueError, "draws"),
        ({"estimator": "gapped_st", "gap": -1.0}, ValueError, "gap"),
        ({"estimator": "gapped_st", "gap": math.nan}, ValueError, "gap"),
        ({"estimator": "reinmax", "tau_backward": 0.5}, ValueError, "tau_backward"),
        ({"estimator": "reinmax", "hard": False}, ValueError, "hard=True"),
        ({"tau_backward": 0.5, "hard": False}, ValueError, "hard=True"),
        ({"estimator": "reinmax", "tau": torch.ones(4, 1, dtype=torch.float64)}, ValueError, "one temperature"),
        ({"estimator": "reinmax", "tau": torch.tensor(1.0, dtype=torch.float64, requires_grad=True)}, ValueError, "temperature gradient"),
        ({"estimator": "reinmax", "tau": 0.0}, gumbel.InvalidTemperatureError, "tau"),
        ({"tau_backward": -1.0}, gumbel.InvalidTemperatureError, "tau"),
    ],
)
def test_bad_arguments_torch(kw, error, match):
    logits, _ = problem((4, 5))
    kw = {"hard": True, **kw}
    with pytest.raises(error, match=match):
        gt.gumbel_softmax(logits.requires_grad_(True), **kw)


def test_bad_dtype_and_backward_errors_torch():
    with pytest.raises(TypeError, match="floating-point"):
        gt.gumbel_softmax(torch.zeros(2, 3, dtype=torch.int64), hard=True, estimator="reinmax")
    logits, v = problem((4, 5))
    x = logits.clone().requires_grad_(True)
    y = gt.gumbel_softmax(x, hard=True, estimator="gapped_st")
    with pytest.raises(gumbel.InvalidValueError):
        (y * torch.full_like(v, math.nan)).sum().backward()


@pytest.mark.parametrize(
    "kw, error, match",
    [
        ({"estimator": "rein_max"}, ValueError, "unknown estimator"),
        ({"estimator": "gumbel_rao", "draws": 0}, ValueError, "draws"),
        ({"estimator": "gapped_st", "gap": math.inf}, ValueError, "gap"),
        ({"estimator": "gumbel_rao", "tau_backward": 1.0}, ValueError, "tau_backward"),
        ({"tau": np.ones(4)}, ValueError, "one temperature"),
        ({"estimator": "reinmax", "tau": -1.0}, gumbel.InvalidTemperatureError, "tau"),
    ],
)
def test_bad_arguments_numpy(kw, error, match):
    logits, v = problem((4, 5))
    with pytest.raises(error, match=match):
        gumbel.gumbel_softmax_hard_backward(logits.numpy(), v.numpy(), seed=1, **kw)
    with pytest.raises(ValueError, match="shape"):
        gumbel.gumbel_softmax_hard_backward(logits.numpy(), v.numpy()[:, :4], seed=1)
    with pytest.raises(gumbel.InvalidValueError):
        gumbel.gumbel_softmax_hard_backward(logits.numpy(), np.full((4, 5), np.inf), seed=1, estimator="reinmax")
