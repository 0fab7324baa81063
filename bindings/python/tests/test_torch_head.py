"""The sampling head in gumbel.torch: each operator gives the NumPy API's
(the C ABI's) bits, passes torch.library.opcheck, propagates shapes on meta
tensors, and compiles with torch.compile(fullgraph=True) without graph
breaks; the keyed soft sample has the one-row sample's gradients (the
library's backward), checked against finite differences too, and the
Plackett-Luce log-probability has its closed form's gradient."""

import numpy as np
import pytest
import torch
import torch._dynamo
from torch.library import opcheck

import gumbel
import gumbel.torch as gt

ops = torch.ops.gumbel
D = torch.float64
U64 = (1 << 64) - 1


def case(dtype=D, rows=6, classes=23, grad=False, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(rows, classes, dtype=dtype, generator=g) * 2
    x[2, ::3] = -torch.inf
    seeds = torch.randint(-(2**62), 2**62, (rows,), generator=g) * 2 - 1  # negative: uint64 keys past 2**63
    offsets = torch.randint(0, 2**40, (rows,), generator=g)
    return x.requires_grad_(grad), seeds, offsets


def u64(t):
    return t.numpy().view(np.uint64)


def filter_params(dtype, rows=6):
    """Per-row temperature, top-k, top-p and min-p of a mixed batch."""
    return (
        torch.tensor([1.0, 0.5, 0.0, 2.0, 1.0, 0.8], dtype=dtype)[:rows],
        torch.tensor([0, 3, 0, 10, 1, 0])[:rows],
        torch.tensor([1.0, 0.9, 1.0, 0.5, 1.0, 0.7], dtype=dtype)[:rows],
        torch.tensor([0.0, 0.0, 0.0, 0.1, 0.0, 0.2], dtype=dtype)[:rows],
    )


def opcheck_cases():
    for dtype in (torch.float32, D):
        x, s, o = case(dtype)
        yield f"sample_keyed-{dtype}", ops.sample_keyed.default, (x, s, o)
        for grad in (False, True):
            xg = x.detach().clone().requires_grad_(grad)
            tau = torch.tensor(0.7, dtype=dtype).requires_grad_(grad)
            for hard in (False, True):
                yield f"gumbel_softmax_keyed-{dtype}-hard{hard}-grad{grad}", ops.gumbel_softmax_keyed.default, (xg, tau, hard, s, o)
        y = torch.randn(3, 9, 2, dtype=dtype, generator=torch.Generator().manual_seed(1))
        yield f"top_k-{dtype}", ops.top_k.default, (y, 4, 1, torch.tensor([5, -7]))
        yield f"top_k_keyed-{dtype}", ops.top_k_keyed.default, (x, 3, s, o)
        idx = ops.top_k(y, 4, 1, torch.tensor([5, -7]))
        yield f"plackett_luce_log_prob-{dtype}", ops.plackett_luce_log_prob.default, (y, idx, 1)
        params = filter_params(dtype)
        yield f"sample_filtered-{dtype}", ops.sample_filtered.default, (x, *params, s, o, True)
        yield f"sample_filtered-{dtype}-off", ops.sample_filtered.default, (x, None, None, None, None, s, o, False)


OPCHECK_CASES = list(opcheck_cases())


@pytest.mark.parametrize("op, args", [c[1:] for c in OPCHECK_CASES], ids=[c[0] for c in OPCHECK_CASES])
def test_opcheck(op, args):
    opcheck(op, args)


@pytest.mark.parametrize("dtype", [torch.float32, D])
def test_operators_give_the_numpy_bits(dtype):
    x, s, o = case(dtype)
    xn = x.numpy()
    idx = gt.sample_keyed(x, s, o)
    assert torch.equal(idx, torch.from_numpy(gumbel.sample_keyed(xn, u64(s), u64(o))))
    p = torch.randperm(6, generator=torch.Generator().manual_seed(2))
    assert torch.equal(gt.sample_keyed(x[p], s[p], o[p]), idx[p])
    for hard in (False, True):
        y = gt.gumbel_softmax_keyed(x, s, o, 0.8, hard)
        assert torch.equal(y, torch.from_numpy(gumbel.gumbel_softmax_keyed(xn, u64(s), u64(o), 0.8, hard)))
    top = gt.top_k_keyed(x, 5, s, o)
    assert torch.equal(top, torch.from_numpy(gumbel.top_k_keyed(xn, 5, u64(s), u64(o))))
    assert torch.equal(top[:, 0], idx)
    # Python-int keys (past int64) equal the int64 bits; a scalar broadcasts.
    assert torch.equal(gt.sample_keyed(x, [int(v) for v in u64(s)], o), idx)
    assert torch.equal(gt.sample_keyed(x, 3, 4), torch.from_numpy(gumbel.sample_keyed(xn, 3, 4)))
    y3 = torch.randn(3, 9, 2, dtype=dtype, generator=torch.Generator().manual_seed(3))
    t = gt.top_k(y3, 4, dim=1, seed=U64, offset=11)
    assert t.shape == (3, 2, 4)
    assert torch.equal(t, torch.from_numpy(gumbel.top_k(y3.numpy(), 4, axis=1, seed=U64, offset=11)))
    hard = gt.gumbel_softmax(y3, hard=True, dim=1, seed=U64, offset=11)
    assert torch.equal(t[..., 0], hard.argmax(1))
    lp = gt.plackett_luce_log_prob(y3, t, dim=1)
    assert torch.equal(lp, torch.from_numpy(gumbel.plackett_luce_log_prob(y3.numpy(), t.numpy(), axis=1)))
    ft, fk, fp, fm = filter_params(dtype)
    got = gt.sample_filtered(x, s, o, temperature=ft, top_k=fk, top_p=fp, min_p=fm)
    want = gumbel.sample_filtered(xn, u64(s), u64(o), temperature=ft.numpy(), top_k=fk.numpy(), top_p=fp.numpy(), min_p=fm.numpy())
    for a, b in zip(got, want):
        assert torch.equal(a, torch.from_numpy(b))
    assert torch.equal(gt.sample_filtered(x, s, o)[0], idx)
    tokens_only = gt.sample_filtered(x, s, o, temperature=ft, top_k=fk, top_p=fp, min_p=fm, log_probs=False)
    assert torch.equal(tokens_only[0], got[0]) and tokens_only[1:] == (None, None)
    # Numbers broadcast to every row.
    one = gt.sample_filtered(x, s, o, temperature=0.7, top_k=4)
    assert torch.equal(one[0], torch.from_numpy(gumbel.sample_filtered(xn, u64(s), u64(o), temperature=0.7, top_k=4)[0]))
    # A gumbel.Generator advances past the call; torch.manual_seed replays.
    g = gumbel.Generator(U64, 11)
    assert torch.equal(gt.top_k(y3, 4, dim=1, generator=g), t) and g.offset == 11 + gumbel.streams(3, 9, 2)
    torch.manual_seed(4)
    a = gt.top_k(y3, 4, dim=1)
    torch.manual_seed(4)
    assert torch.equal(gt.top_k(y3, 4, dim=1), a)


@pytest.mark.parametrize("hard", [False, True])
def test_keyed_soft_sample_has_the_one_row_gradients(hard):
    x, s, o = case(D, grad=True)
    tau = torch.tensor(0.6, dtype=D, requires_grad=True)
    w = torch.randn(6, 23, dtype=D, generator=torch.Generator().manual_seed(5))
    y = gt.gumbel_softmax_keyed(x, s, o, tau, hard)
    gx, gtau = torch.autograd.grad((y * w).sum(), (x, tau))
    rows_gx, rows_gtau = [], 0.0
    for r in range(6):
        xr = x[r].detach().clone().requires_grad_(True)
        tr = tau.detach().clone().requires_grad_(True)
        yr = gt.gumbel_softmax(xr, tr, hard, seed=int(u64(s)[r]), offset=int(o[r]))
        assert torch.equal(yr, y[r].detach())
        a, b = torch.autograd.grad((yr * w[r]).sum(), (xr, tr))
        rows_gx.append(a)
        rows_gtau += b
    torch.testing.assert_close(gx, torch.stack(rows_gx), rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(gtau, rows_gtau, rtol=1e-12, atol=1e-14)


def test_keyed_soft_sample_gradcheck():
    """Fixed keys make the soft sample a smooth function of the logits and
    the temperature: its gradients and their own derivatives against finite
    differences."""
    x, s, o = case(D, rows=3, classes=5, grad=True)
    x = x.detach().clone().nan_to_num(neginf=-1.0).requires_grad_(True)
    tau = torch.tensor(0.9, dtype=D, requires_grad=True)

    def f(x, tau):
        return gt.gumbel_softmax_keyed(x, s[:3], o[:3], tau)

    assert torch.autograd.gradcheck(f, (x, tau))
    assert torch.autograd.gradgradcheck(f, (x, tau))
    assert torch.autograd.gradcheck(f, (x, tau), check_forward_ad=True, check_backward_ad=False, check_undefined_grad=False)


def pl_closed_form(logits, seq):
    """log PL of one row, written with torch operations (autograd differentiates it)."""
    lp, left = logits.new_zeros(()), list(range(logits.shape[0]))
    for c in seq.tolist():
        lp = lp + logits[c] - torch.logsumexp(logits[left], 0)
        left.remove(c)
    return lp


def test_plackett_luce_gradients():
    """The registered derivative against autograd through the closed form,
    and against finite differences (first and second order, forward mode)."""
    x = (torch.randn(3, 10, 2, dtype=D, generator=torch.Generator().manual_seed(6)) * 2).requires_grad_(True)
    idx = gt.top_k(x.detach(), 6, dim=1, seed=4)
    w = torch.randn(3, 2, dtype=D, generator=torch.Generator().manual_seed(7))
    (got,) = torch.autograd.grad((gt.plackett_luce_log_prob(x, idx, dim=1) * w).sum(), x)
    want = sum(w[o, i] * pl_closed_form(x[o, :, i], idx[o, i]) for o in range(3) for i in range(2))
    (want,) = torch.autograd.grad(want, x)
    torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-13)
    y = x.detach()[0, :, 0].clone().requires_grad_(True)
    for k in (0, 1, 4, 10):  # k = classes: nothing is left at the last rank
        seq = gt.top_k(y.detach(), k, seed=k)

        def f(y):
            return gt.plackett_luce_log_prob(y, seq)

        assert torch.autograd.gradcheck(f, (y,))
        assert torch.autograd.gradgradcheck(f, (y,))
        assert torch.autograd.gradcheck(f, (y,), check_forward_ad=True, check_backward_ad=False, check_undefined_grad=False)


def test_shapes_propagate_on_meta_tensors():
    x = torch.empty(4, 7, 50, dtype=D, device="meta")
    s = torch.zeros(4, 7, dtype=torch.int64, device="meta")
    assert gt.sample_keyed(x, s, s).shape == (4, 7)
    assert gt.gumbel_softmax_keyed(x, s, s, 0.5, True).shape == (4, 7, 50)
    assert gt.top_k_keyed(x, 9, s, s).shape == (4, 7, 9)
    assert gt.top_k(x, 9, dim=1).shape == (4, 50, 9)
    idx = torch.empty(4, 50, 9, dtype=torch.int64, device="meta")
    assert gt.plackett_luce_log_prob(x, idx, dim=1).shape == (4, 50)
    out = gt.sample_filtered(x, s, s, temperature=0.5, top_k=3, top_p=0.9, min_p=0.1)
    assert [(tuple(t.shape), t.dtype) for t in out] == [((4, 7), torch.int64), ((4, 7), D), ((4, 7), D)]


def test_vmap_runs_each_element():
    x, s, o = case(D)
    xb, sb, ob = torch.stack([x, x.flip(0)]), torch.stack([s, s.flip(0)]), torch.stack([o, o + 1])
    vmap = torch.func.vmap
    assert torch.equal(vmap(gt.sample_keyed)(xb, sb, ob), gt.sample_keyed(xb, sb, ob))
    assert torch.equal(vmap(lambda *a: gt.top_k_keyed(a[0], 3, *a[1:]))(xb, sb, ob), gt.top_k_keyed(xb, 3, sb, ob))
    got = vmap(lambda *a: gt.sample_filtered(*a, temperature=0.9, top_k=5))(xb, sb, ob)
    for a, b in zip(got, gt.sample_filtered(xb, sb, ob, temperature=0.9, top_k=5)):
        assert torch.equal(a, b)


def head(x, s, o, tau):
    """Every operator of the head in one function."""
    idx = gt.sample_keyed(x, s, o)
    soft = gt.gumbel_softmax_keyed(x, s, o, tau)
    hard = gt.gumbel_softmax_keyed(x, s, o, tau, hard=True)
    top = gt.top_k_keyed(x, 4, s, o)
    drawn = gt.top_k(x, 4)
    lp = gt.plackett_luce_log_prob(x, top)
    filtered = gt.sample_filtered(x.detach(), s, o, temperature=0.8, top_k=torch.arange(6) + 1, top_p=0.9, min_p=0.05)
    return idx, soft, hard, top, drawn, lp, *filtered


@pytest.mark.parametrize("backend", ["aot_eager", "inductor"])
def test_compiles_with_fullgraph(backend):
    torch._dynamo.reset()
    torch._dynamo.utils.counters.clear()
    x, s, o = case(torch.float32, grad=True)
    tau = torch.tensor(0.7, requires_grad=True)
    compiled = torch.compile(head, fullgraph=True, backend=backend)
    torch.manual_seed(1)
    got = compiled(x, s, o, tau)
    torch.manual_seed(1)
    want = head(x, s, o, tau)
    for a, b in zip(got, want):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7)
    for i in (0, 3, 6):
        assert torch.equal(got[i], want[i])
    # Fresh keys give fresh draws of the unkeyed top-k; gradients flow.
    assert not torch.equal(compiled(x, s, o, tau)[4], compiled(x, s, o, tau)[4])
    (got[1] * torch.arange(23.0)).sum().backward()
    assert x.grad is not None and tau.grad is not None
    assert not torch._dynamo.utils.counters["graph_break"], dict(torch._dynamo.utils.counters["graph_break"])


def test_errors():
    x, s, o = case(D)
    with pytest.raises(TypeError, match="float32 and float64"):
        gt.sample_keyed(x.to(torch.bfloat16), s, o)
    with pytest.raises(ValueError, match="broadcast"):
        gt.sample_keyed(x, s[:4], o)
    with pytest.raises(TypeError, match="integers"):
        gt.sample_keyed(x, s.double(), o)
    with pytest.raises(ValueError, match="int64"):
        ops.sample_keyed(x, s.int(), o)
    with pytest.raises(ValueError, match="one temperature"):
        gt.gumbel_softmax_keyed(x, s, o, torch.ones(6, 1, dtype=D))
    with pytest.raises(gumbel.InvalidTemperatureError):
        gt.gumbel_softmax_keyed(x, s, o, 0.0)
    with pytest.raises(gumbel.AllMaskedError, match="row 1"):
        gt.sample_keyed(torch.tensor([[0.0, 1.0], [-torch.inf, -torch.inf]], dtype=D), 0, 0)
    with pytest.raises(gumbel.InvalidParameterError):
        gt.top_k(x, 24, seed=0)
    with pytest.raises(gumbel.InvalidParameterError, match="row 2"):
        gt.top_k_keyed(x, 20, s, o)  # row 2 has 15 unmasked classes
    with pytest.raises(gumbel.InvalidValueError):
        gt.plackett_luce_log_prob(x, torch.zeros(6, 2, dtype=torch.int64))
    with pytest.raises(ValueError, match="k must be"):
        gt.top_k(x, -1, seed=0)
    with pytest.raises(ValueError, match="indices"):
        gt.plackett_luce_log_prob(x, torch.zeros(5, 2, dtype=torch.int64))
    with pytest.raises(gumbel.InvalidParameterError, match="top_p"):
        gt.sample_filtered(x, s, o, top_p=0.0)
    with pytest.raises(gumbel.InvalidParameterError, match="top_k"):
        gt.sample_filtered(x, s, o, top_k=-1)
    with pytest.raises(TypeError, match="top_k"):
        gt.sample_filtered(x, s, o, top_k=torch.ones(6))
    with pytest.raises(ValueError, match="broadcast"):
        gt.sample_filtered(x, s, o, temperature=torch.ones(5))
    with pytest.raises(ValueError, match="temperatures"):
        ops.sample_filtered(x, torch.ones(6), None, None, None, s, o, True)  # float32 for float64 logits
