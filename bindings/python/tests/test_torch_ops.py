"""The registered operators torch.ops.gumbel.*: torch.library.opcheck (schema,
autograd registration, fake kernels, AOT dispatch with dynamic shapes, with
and without gradients), shape propagation on meta and fake tensors, and the
three routes of gumbel.torch (the operator, the eager fast path, the
torch.func route) giving the same values and gradients."""

import pytest
import torch
from torch._subclasses.fake_tensor import FakeTensorMode
from torch.library import opcheck
from torch.utils._python_dispatch import TorchDispatchMode

import gumbel.torch as gt
from test_torch_head import OPCHECK_CASES as HEAD_CASES

ops = torch.ops.gumbel
D = torch.float64


def logits(shape, dtype=D, grad=True, seed=0):
    x = torch.randn(*shape, dtype=dtype, generator=torch.Generator().manual_seed(seed)) * 2
    return x.requires_grad_(grad)


def taus(shape, dtype=D, grad=True):
    """A 0-d temperature and a per-row one for logits of `shape` with dim=1."""
    rows = list(shape)
    rows[1] = 1
    per_row = torch.rand(*rows, dtype=dtype, generator=torch.Generator().manual_seed(1)) + 0.4
    return [torch.tensor(0.7, dtype=dtype).requires_grad_(grad), per_row.requires_grad_(grad)]


def soft_sample(shape, dtype=D, grad=True):
    y = torch.softmax(logits(shape, dtype, False, seed=3), dim=1)
    return y.requires_grad_(grad)


KEY = torch.tensor([5, -7])  # -7: an offset of 2**64 - 7, the bits of a uint64


def opcheck_cases():
    shape = (3, 4, 2)
    for dtype in (torch.float32, D):
        for grad in (False, True):
            for i, tau in enumerate(taus(shape, dtype, grad)):
                kind = ("scalar", "per-row")[i]
                for hard in (False, True):
                    yield f"gumbel_softmax-{dtype}-{kind}-hard{hard}-grad{grad}", ops.gumbel_softmax.default, (logits(shape, dtype, grad), tau, hard, 1, KEY)
                y, v = soft_sample(shape, dtype, grad), logits(shape, dtype, grad, seed=4)
                yield f"backward-{dtype}-{kind}-grad{grad}", ops.gumbel_softmax_backward.default, (y, v, tau, 1)
                yield f"grad_tau-{dtype}-{kind}-grad{grad}", ops.gumbel_softmax_grad_tau.default, (y, v, tau, 1)
            t0 = taus(shape, dtype, grad)[0]
            for hard in (False, True):
                yield f"relaxed_bernoulli-{dtype}-hard{hard}-grad{grad}", ops.relaxed_bernoulli.default, (logits(shape, dtype, grad), t0, hard, KEY)
            yb = torch.sigmoid(logits(shape, dtype, False, seed=5)).requires_grad_(grad)
            yield f"relaxed_bernoulli_backward-{dtype}-grad{grad}", ops.relaxed_bernoulli_backward.default, (yb, logits(shape, dtype, grad, seed=6), t0)
            # The gradient estimators: a hard sample differentiable in the logits
            # only (one temperature, no gradient), and their backwards.
            t0 = t0.detach()
            x = logits(shape, dtype, grad)
            for estimator in ("st", "reinmax", "gumbel_rao", "gapped_st"):
                yield f"gumbel_softmax_hard-{dtype}-{estimator}-grad{grad}", ops.gumbel_softmax_hard.default, (x, t0, t0 * 2, 1, KEY, estimator, 2, 0.5)
            if grad:
                continue  # an estimator's backward has no derivative of its own (no double backward)
            index = torch.tensor([[0, 3], [2, 2], [1, 0]])
            v, xb = logits(shape, dtype, False, seed=7), logits(shape, dtype, False, seed=8)
            yield f"straight_through_backward-{dtype}", ops.straight_through_backward.default, (xb, v, t0, 1, KEY)
            yield f"reinmax_backward-{dtype}", ops.reinmax_backward.default, (xb, index, v, t0, 1)
            yield f"gapped_st_backward-{dtype}", ops.gapped_st_backward.default, (xb, index, v, t0, 1, 0.5)
            yield f"gumbel_rao_backward-{dtype}", ops.gumbel_rao_backward.default, (xb, index, v, t0, 1, 3, KEY)


CASES = list(opcheck_cases())


@pytest.mark.parametrize("op, args", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_opcheck(op, args):
    opcheck(op, args)  # all of its default test_utils; raises on failure


def test_opcheck_covers_every_operator():
    registered = {name for name in dir(ops) if not name.startswith("_") and isinstance(getattr(ops, name), torch._ops.OpOverloadPacket)}
    checked = {c[1]._overloadpacket.__name__ for c in CASES + HEAD_CASES}
    assert registered == checked == {
        "gumbel_softmax",
        "gumbel_softmax_backward",
        "gumbel_softmax_grad_tau",
        "gumbel_softmax_hard",
        "straight_through_backward",
        "reinmax_backward",
        "gapped_st_backward",
        "gumbel_rao_backward",
        "relaxed_bernoulli",
        "relaxed_bernoulli_backward",
        "sample_keyed",
        "gumbel_softmax_keyed",
        "top_k",
        "top_k_keyed",
        "plackett_luce_log_prob",
        "sample_filtered",
    }


@pytest.mark.parametrize("device", ["meta", "fake"])
def test_shapes_propagate_without_running(device):
    shape = (3, 4, 2)
    mode = FakeTensorMode() if device == "fake" else None

    def make(t):
        return mode.from_tensor(t) if mode else t.detach().to("meta")

    x, v, y = make(logits(shape)), make(logits(shape, seed=2)), make(soft_sample(shape))
    t0, tr = (make(t.detach()) for t in taus(shape))
    key = make(KEY) if mode else KEY
    with mode if mode else torch.no_grad():
        for tau in (t0, tr):
            for hard in (False, True):
                out = ops.gumbel_softmax(x, tau, hard, 1, key)
                assert out.shape == shape and out.dtype == D and out.is_contiguous()
            assert ops.gumbel_softmax_backward(y, v, tau, 1).shape == shape
            assert ops.gumbel_softmax_grad_tau(y, v, tau, 1).shape == tau.shape
        assert ops.relaxed_bernoulli(x, t0, False, key).shape == shape
        assert ops.relaxed_bernoulli_backward(y, v, t0).shape == shape
        # The public functions take meta tensors too (the key is drawn on the CPU).
        if not mode:
            assert gt.gumbel_softmax(x, tr, dim=1).shape == shape
            assert gt.relaxed_bernoulli(x, 0.5, hard=True).device.type == "meta"
    # The fake kernels check what the real ones check.
    with pytest.raises(ValueError, match="per-element"):
        ops.gumbel_softmax(x, make(torch.ones(3, 4, 2, dtype=D)), False, 1, key)
    with pytest.raises(IndexError):
        ops.gumbel_softmax(x, t0, False, 3, key)
    with pytest.raises(TypeError, match="tau has dtype"):
        ops.gumbel_softmax(x, make(torch.tensor(0.5)), False, 1, key)


def test_operator_replays_the_library():
    """The operator reads (seed, offset) from its key tensor, as uint64 bits."""
    import gumbel

    x = logits((3, 4, 2), grad=False)
    y = ops.gumbel_softmax(x, torch.tensor(0.7, dtype=D), False, 1, KEY)
    expect = gumbel.gumbel_softmax(x.numpy(), 0.7, axis=1, seed=5, offset=(1 << 64) - 7)
    assert torch.equal(y, torch.from_numpy(expect))
    yb = ops.relaxed_bernoulli(x, torch.tensor(0.7, dtype=D), False, KEY)
    assert torch.equal(yb, torch.from_numpy(gumbel.relaxed_bernoulli(x.numpy(), 0.7, seed=5, offset=(1 << 64) - 7)))


class Recorder(TorchDispatchMode):
    """Records the operators that reach the dispatcher (a dispatch mode also
    sends gumbel.torch down its operator route)."""

    def __init__(self):
        super().__init__()
        self.names = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.names.append(str(func))
        return func(*args, **(kwargs or {}))


@pytest.mark.parametrize("hard", [False, True])
@pytest.mark.parametrize("per_row", [False, True])
def test_routes_agree(hard, per_row):
    """Values and gradients (logits and temperature) are the same bits by the
    eager fast path, the operator route (a dispatch mode is on) and the
    torch.func route; and the gradients are the library's operators'."""
    shape = (3, 4, 2)
    w = logits(shape, grad=False, seed=9)
    tau0 = taus(shape, grad=False)[per_row]

    def run():
        x = logits(shape)
        tau = tau0.clone().requires_grad_(True)
        y = gt.gumbel_softmax(x, tau, hard=hard, dim=1, seed=11, offset=3)
        gx, gtau = torch.autograd.grad((y * w).sum(), (x, tau))
        return y.detach(), gx, gtau

    fast = run()
    with Recorder() as rec:
        dispatched = run()
    assert "gumbel.gumbel_softmax.default" in rec.names
    assert "gumbel.gumbel_softmax_backward.default" in rec.names
    assert "gumbel.gumbel_softmax_grad_tau.default" in rec.names  # tau.grad is the library's grad_tau

    def f(x, tau):
        return (gt.gumbel_softmax(x, tau, hard=hard, dim=1, seed=11, offset=3) * w).sum()

    functional = torch.func.grad(f, argnums=(0, 1))(logits(shape, grad=False), tau0)
    for a, b in zip(fast, dispatched):
        assert torch.equal(a, b)
    assert torch.equal(fast[1], functional[0]) and torch.equal(fast[2], functional[1])


def test_relaxed_bernoulli_routes_agree():
    shape = (5, 3)
    w = logits(shape, grad=False, seed=9)

    def run():
        x = logits(shape)
        tau = torch.tensor(0.6, dtype=D, requires_grad=True)
        y = gt.relaxed_bernoulli(x, tau, seed=2)
        return (y.detach(), *torch.autograd.grad((y * w).sum(), (x, tau)))

    fast = run()
    with Recorder() as rec:
        dispatched = run()
    assert "gumbel.relaxed_bernoulli.default" in rec.names
    assert "gumbel.relaxed_bernoulli_backward.default" in rec.names
    for a, b in zip(fast, dispatched):
        assert torch.equal(a, b)
