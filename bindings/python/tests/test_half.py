"""Half precision: bfloat16 and float16 tensors (torch) and float16 arrays
(NumPy) run in the library on their own 16-bit storage, computed in float32
with exactly the float32 call's noise, so each result is the float32 result
rounded once (nearest even) and indices are the float32 call's. Through
torch: the dtypes PyTorch's F.gumbel_softmax gives, under CPU autocast too;
gradients in the logits' dtype; the operators pass opcheck; a bfloat16
module compiles with fullgraph=True."""

import numpy as np
import pytest
import torch
import torch._dynamo
import torch.nn.functional as F
from torch import nn
from torch.library import opcheck

import gumbel
import gumbel.torch as gt

HALF = [torch.bfloat16, torch.float16]
ops = torch.ops.gumbel


def randn(*shape, dtype=torch.float32, seed=0):
    return torch.randn(*shape, dtype=dtype, generator=torch.Generator().manual_seed(seed)) * 2


def masked(x, dim):
    """``x`` with class 1 masked in every row."""
    x = x.clone()
    x.select(dim, 1).fill_(float("-inf"))
    return x


@pytest.mark.parametrize("dtype", HALF)
@pytest.mark.parametrize("hard", [False, True])
@pytest.mark.parametrize("shape, dim", [((6, 9), -1), ((3, 5, 4), 1), ((2, 20000), -1)])
def test_half_sample_is_the_float32_sample_rounded_once(dtype, hard, shape, dim):
    x = masked(randn(*shape), dim).to(dtype)
    wide = x.float()  # exact
    ours = gt.gumbel_softmax(x, 0.6, hard=hard, dim=dim, seed=11, offset=3)
    ref = gt.gumbel_softmax(wide, 0.6, hard=hard, dim=dim, seed=11, offset=3)
    assert ours.dtype == dtype
    assert torch.equal(ours.view(torch.int16), ref.to(dtype).view(torch.int16))
    # Per-row float32 temperatures promote the logits as PyTorch does; a 0-d
    # float32 tensor does not.
    t = torch.tensor(0.8)
    ours = gt.gumbel_softmax(x, t, hard=hard, dim=dim, seed=2)
    assert ours.dtype == dtype
    assert torch.equal(ours.view(torch.int16), gt.gumbel_softmax(wide, t, hard=hard, dim=dim, seed=2).to(dtype).view(torch.int16))


@pytest.mark.parametrize("dtype", HALF)
def test_half_gradients_are_in_the_logits_dtype(dtype):
    x = randn(4, 7).to(dtype).requires_grad_(True)
    tau = torch.tensor(0.7, requires_grad=True)
    w = randn(4, 7, seed=1).to(dtype)
    y = gt.gumbel_softmax(x, tau, seed=5)
    (y * w).sum().backward()
    assert x.grad.dtype == dtype and tau.grad.dtype == torch.float32
    # The float32 route on the widened logits: the half gradients are its
    # values within the half format's rounding of y and of the result.
    xf = x.detach().float().requires_grad_(True)
    tf = torch.tensor(0.7, requires_grad=True)
    (gt.gumbel_softmax(xf, tf, seed=5) * w.float()).sum().backward()
    torch.testing.assert_close(x.grad.float(), xf.grad, rtol=0.05, atol=0.05)
    torch.testing.assert_close(tau.grad, tf.grad, rtol=0.05, atol=0.05)


@pytest.mark.parametrize("dtype", HALF)
@pytest.mark.parametrize("hard", [False, True])
def test_half_dtype_and_shape_as_pytorch(dtype, hard):
    x = randn(3, 5).to(dtype).requires_grad_(True)
    theirs = F.gumbel_softmax(x, 0.5, hard=hard)
    ours = gt.gumbel_softmax(x, 0.5, hard=hard)
    assert (ours.shape, ours.dtype, ours.requires_grad) == (theirs.shape, theirs.dtype, theirs.requires_grad)
    ours.sum().backward()
    assert x.grad.dtype == dtype and torch.isfinite(x.grad).all()


def test_autocast_bfloat16_model_forward_and_backward():
    torch.manual_seed(0)
    model = nn.Linear(8, 6)
    x = randn(5, 8)
    outputs = {}
    for name, fn in [("torch", F.gumbel_softmax), ("gumbel", gt.gumbel_softmax)]:
        model.zero_grad()
        with torch.autocast("cpu", dtype=torch.bfloat16):
            logits = model(x)
            y = fn(logits, tau=0.5, hard=True)
            loss = (y * torch.arange(6.0)).sum()
        loss.backward()
        outputs[name] = (logits.dtype, y.dtype, y.shape, model.weight.grad.dtype)
        assert torch.isfinite(model.weight.grad).all() and model.weight.grad.abs().sum() > 0
        assert ((y == 0) | (y == 1)).all() and (y.sum(-1) == 1).all()
    assert outputs["gumbel"] == outputs["torch"]
    assert outputs["gumbel"][1] == torch.bfloat16


def half_opcheck_cases():
    shape = (3, 4, 2)
    for dtype in HALF:
        for grad in (False, True):
            per_row = (torch.rand(3, 1, 2, generator=torch.Generator().manual_seed(1)) + 0.4).requires_grad_(grad)
            for kind, tau in (("scalar", torch.tensor(0.7).requires_grad_(grad)), ("per-row", per_row)):
                for hard in (False, True):
                    x = randn(*shape).to(dtype).requires_grad_(grad)
                    yield f"gumbel_softmax-{dtype}-{kind}-hard{hard}-grad{grad}", ops.gumbel_softmax.default, (x, tau, hard, 1, torch.tensor([5, 7]))
                y = torch.softmax(randn(*shape, seed=3), dim=1).to(dtype).requires_grad_(grad)
                v = randn(*shape, seed=4).to(dtype).requires_grad_(grad)
                yield f"backward-{dtype}-{kind}-grad{grad}", ops.gumbel_softmax_backward.default, (y, v, tau, 1)
                yield f"grad_tau-{dtype}-{kind}-grad{grad}", ops.gumbel_softmax_grad_tau.default, (y, v, tau, 1)


CASES = list(half_opcheck_cases())


@pytest.mark.parametrize("op, args", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_half_opcheck(op, args):
    opcheck(op, args)


def test_half_fake_kernels_keep_the_dtype():
    for dtype in HALF:
        x = torch.empty(3, 4, dtype=dtype, device="meta")
        y = gt.gumbel_softmax(x, 0.5, seed=1)
        assert (y.shape, y.dtype, y.device.type) == ((3, 4), dtype, "meta")


def test_relaxed_bernoulli_refuses_half_precision():
    for dtype in HALF:
        with pytest.raises(TypeError, match="relaxed_bernoulli supports float32, float64"):
            gt.relaxed_bernoulli(torch.zeros(2, 3, dtype=dtype))


def test_compile_fullgraph_bfloat16():
    torch._dynamo.reset()
    torch._dynamo.utils.counters.clear()
    torch.manual_seed(0)
    net = nn.Linear(6, 5).to(torch.bfloat16)

    def f(x):
        return gt.gumbel_softmax(net(x), 0.5, hard=True)

    cf = torch.compile(f, fullgraph=True, backend="aot_eager")
    x = randn(8, 6).to(torch.bfloat16)
    torch.manual_seed(3)
    a = cf(x)
    torch.manual_seed(3)
    b = f(x)
    assert a.dtype == torch.bfloat16 and torch.equal(a, b)
    a.sum().backward()
    assert net.weight.grad.dtype == torch.bfloat16
    assert not torch._dynamo.utils.counters["graph_break"]


def test_numpy_float16_is_the_float32_result_rounded_once():
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((7, 30)) * 3).astype(np.float16)
    x[:, 2] = -np.inf
    wide = x.astype(np.float32)
    for hard in (False, True):
        ours = gumbel.gumbel_softmax(x, 0.7, hard=hard, seed=4, offset=1)
        assert ours.dtype == np.float16
        ref = gumbel.gumbel_softmax(wide, 0.7, hard=hard, seed=4, offset=1).astype(np.float16)
        assert np.array_equal(ours.view(np.uint16), ref.view(np.uint16))
    assert np.array_equal(gumbel.sample(x, seed=9), gumbel.sample(wide, seed=9))
    t = gumbel.tempered_softmax(x, 1.3)
    assert t.dtype == np.float16
    assert np.array_equal(t.view(np.uint16), gumbel.tempered_softmax(wide, 1.3).astype(np.float16).view(np.uint16))
    y = gumbel.gumbel_softmax(x, 0.7, seed=4)
    v = rng.standard_normal(x.shape).astype(np.float16)
    g = gumbel.gumbel_softmax_backward(y, v, 0.7)
    ref = gumbel.gumbel_softmax_backward(y.astype(np.float32), v.astype(np.float32), 0.7).astype(np.float16)
    assert g.dtype == np.float16 and np.array_equal(g.view(np.uint16), ref.view(np.uint16))
    gt_ = gumbel.gumbel_softmax_grad_tau(y, v, np.full(7, 0.7))
    assert gt_.dtype == np.float32
    assert np.array_equal(gt_, gumbel.gumbel_softmax_grad_tau(y.astype(np.float32), v.astype(np.float32), np.full(7, 0.7, np.float32)))
    # Mixed float16 and float32 inputs compute in float64, as any mix does.
    assert gumbel.gumbel_softmax_backward(y, v.astype(np.float32), 0.7).dtype == np.float64
