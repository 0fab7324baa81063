"""Edge cases run through torch.nn.functional.gumbel_softmax and through
gumbel.torch.gumbel_softmax: wherever PyTorch's call (and its backward)
passes, ours passes, with the same shape, dtype, device and requires_grad,
rows on the simplex (soft) or one-hot (hard); where PyTorch refuses an
argument (an integer tensor, a dim out of range) ours refuses it too.

Deliberate differences, not listed here: a row of NaN or all -inf logits,
or a temperature <= 0, gives NaN rows in PyTorch and an error in gumbel; a
per-element temperature is refused (one per row at most). bfloat16 and
float16 run in the library (test_half.py checks their values)."""

import pytest
import torch
import torch.nn.functional as F

import gumbel.torch as gt


def randn(*shape, dtype=torch.float32):
    return torch.randn(*shape, dtype=dtype, generator=torch.Generator().manual_seed(0))


# name -> (logits, keyword arguments); logits are built fresh for each call.
CASES = {
    "0-d": (lambda: torch.tensor(1.5), {}),
    "0-d dim=0": (lambda: torch.tensor(1.5), {"dim": 0}),
    "0-d dim=1": (lambda: torch.tensor(1.5), {"dim": 1}),
    "1-d": (lambda: randn(5), {}),
    "one class": (lambda: randn(4, 1), {}),
    "zero classes": (lambda: torch.zeros(3, 0), {}),
    "zero rows": (lambda: torch.zeros(0, 5), {}),
    "zero rows and classes": (lambda: torch.zeros(0, 0), {}),
    "zero inner": (lambda: torch.zeros(2, 3, 0), {"dim": 1}),
    "3-d dim=0": (lambda: randn(3, 4, 2), {"dim": 0}),
    "3-d dim=1": (lambda: randn(3, 4, 2), {"dim": 1}),
    "3-d dim=-1": (lambda: randn(3, 4, 2), {"dim": -1}),
    "3-d dim=3": (lambda: randn(3, 4, 2), {"dim": 3}),
    "3-d dim=-4": (lambda: randn(3, 4, 2), {"dim": -4}),
    "transposed": (lambda: randn(5, 3).t(), {}),
    "strided": (lambda: randn(4, 10)[:, ::2], {}),
    "expanded": (lambda: randn(1, 5).expand(4, 5), {}),
    "masked class": (lambda: torch.tensor([[0.0, float("-inf"), 1.0], [2.0, 0.5, float("-inf")]]), {}),
    "float64": (lambda: randn(3, 5, dtype=torch.float64), {}),
    "int64": (lambda: torch.zeros(3, 5, dtype=torch.int64), {}),
    "bool": (lambda: torch.zeros(3, 5, dtype=torch.bool), {}),
    "meta": (lambda: torch.empty(3, 5, device="meta"), {}),
    "meta 3-d per-row tau": (lambda: torch.empty(3, 5, 2, device="meta"), {"dim": 1, "tau": torch.full((3, 1, 2), 0.5)}),
    "tau int": (lambda: randn(3, 5), {"tau": 2}),
    "tau 0-d tensor": (lambda: randn(3, 5), {"tau": torch.tensor(0.5)}),
    "tau 0-d int tensor": (lambda: randn(3, 5), {"tau": torch.tensor(2)}),
    "tau 0-d float64 tensor": (lambda: randn(3, 5), {"tau": torch.tensor(0.5, dtype=torch.float64)}),
    "tau per row": (lambda: randn(3, 5), {"tau": torch.full((3, 1), 0.5)}),
    "tau per row float64": (lambda: randn(3, 5), {"tau": torch.full((3, 1), 0.5, dtype=torch.float64)}),
    "tau per row, broadcast": (lambda: randn(3, 4, 2), {"dim": 1, "tau": torch.full((1, 2), 0.5)}),
    "tau one element": (lambda: randn(3, 5), {"tau": torch.full((1,), 0.5)}),
}

# PyTorch refuses these; gumbel must refuse them too.
MUST_RAISE = {"0-d dim=1", "3-d dim=3", "3-d dim=-4", "int64", "bool"}


def attempt(fn, make, kwargs, hard, grad):
    """(output, gradients) of one call and its backward, or the exception."""
    x = make()
    kwargs = {k: (v.clone() if isinstance(v, torch.Tensor) else v) for k, v in kwargs.items()}
    tau = kwargs.get("tau")
    leaves = []
    if grad:
        x = x.detach().requires_grad_(True) if x.is_floating_point() else x
        leaves.append(x)
        if isinstance(tau, torch.Tensor) and tau.is_floating_point():
            tau.requires_grad_(True)
            leaves.append(tau)
    try:
        y = fn(x, hard=hard, **kwargs)
    except Exception as e:  # noqa: BLE001 (any refusal counts)
        return e, None
    grads = None
    if grad and y.requires_grad:
        w = torch.ones_like(y).cumsum(-1) if y.dim() else torch.tensor(2.0, device=y.device)
        try:
            grads = torch.autograd.grad((y * w).sum(), leaves, allow_unused=True)
        except Exception as e:  # noqa: BLE001
            return y, e
    return y, grads


@pytest.mark.parametrize("grad", [False, True])
@pytest.mark.parametrize("hard", [False, True])
@pytest.mark.parametrize("name", list(CASES))
def test_as_pytorch(name, hard, grad):
    make, kwargs = CASES[name]
    theirs, their_grads = attempt(F.gumbel_softmax, make, kwargs, hard, grad)
    ours, our_grads = attempt(gt.gumbel_softmax, make, kwargs, hard, grad)
    if isinstance(theirs, Exception):
        if name in MUST_RAISE:
            assert isinstance(ours, (TypeError, ValueError, IndexError, RuntimeError)), ours
        return
    assert name not in MUST_RAISE
    assert not isinstance(ours, Exception), f"PyTorch passes, gumbel raises {ours!r}"
    assert (ours.shape, ours.dtype, ours.device, ours.requires_grad) == (theirs.shape, theirs.dtype, theirs.device, theirs.requires_grad)
    if ours.device.type == "cpu" and ours.numel():
        dim = kwargs.get("dim", -1) if ours.dim() else 0
        y = ours.detach() if ours.dim() else ours.detach().reshape(1)
        torch.testing.assert_close(y.sum(dim), torch.ones_like(y.sum(dim)), rtol=0, atol=1e-5)
        if hard:
            assert ((y == 0) | (y == 1)).all()
        if name == "masked class":
            assert ours[0, 1] == 0 and ours[1, 2] == 0
    if isinstance(their_grads, Exception) or their_grads is None:
        return
    assert not isinstance(our_grads, Exception), f"PyTorch's backward passes, gumbel's raises {our_grads!r}"
    assert our_grads is not None
    for a, b in zip(our_grads, their_grads):
        assert (a is None) == (b is None)
        if a is not None:
            assert (a.shape, a.dtype, a.device) == (b.shape, b.dtype, b.device)
            if a.device.type == "cpu":
                assert torch.isfinite(a).all()


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
@pytest.mark.parametrize("hard", [False, True])
def test_half_precision(dtype, hard):
    x = randn(3, 5).to(dtype)
    theirs = F.gumbel_softmax(x, 0.5, hard=hard)
    ours = gt.gumbel_softmax(x, 0.5, hard=hard)
    assert (ours.shape, ours.dtype) == (theirs.shape, theirs.dtype)


def test_half_precision_relaxed_bernoulli_is_refused_clearly():
    with pytest.raises(TypeError, match="float16: gumbel.torch.relaxed_bernoulli supports float32, float64"):
        gt.relaxed_bernoulli(torch.zeros(2, 3, dtype=torch.float16))
