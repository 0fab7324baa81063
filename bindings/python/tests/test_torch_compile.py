"""gumbel.torch inside compiled, exported and traced modules: torch.compile
with fullgraph=True compiles with zero graph breaks under inductor and
aot_eager and trains; every call draws fresh noise and torch.manual_seed
replays; torch.export and torch.jit.trace give programs that draw fresh
samples on every call. One module (scalar, per-row and float temperatures,
soft, hard and relaxed Bernoulli samples) is compiled once per backend."""

import warnings

import pytest
import torch
import torch._dynamo
from torch import nn

import gumbel.torch as gt


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(6, 5)
        self.row = nn.Linear(6, 1)
        self.log_tau = nn.Parameter(torch.tensor(-0.3))

    def forward(self, x):
        logits = self.lin(x)
        soft = gt.gumbel_softmax(logits, self.log_tau.exp())
        hard = gt.gumbel_softmax(logits, nn.functional.softplus(self.row(x)) + 0.1, hard=True)
        bern = gt.relaxed_bernoulli(logits, 0.5)
        return soft, hard, bern


def inputs():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(16, 6, generator=g)
    target = nn.functional.one_hot(torch.randint(0, 5, (16,), generator=g), 5).float()
    return x, target


def loss_of(outputs, target):
    soft, hard, bern = outputs
    return ((soft - target) ** 2).sum() + ((hard - target) ** 2).sum() + ((bern - target) ** 2).sum()


@pytest.fixture(scope="module", params=["inductor", "aot_eager"])
def compiled(request):
    torch._dynamo.reset()
    torch._dynamo.utils.counters.clear()
    torch.manual_seed(0)
    net = Net()
    return request.param, net, torch.compile(net, fullgraph=True, backend=request.param)


def test_compiles_without_graph_breaks_and_draws_fresh_noise(compiled):
    backend, net, cnet = compiled
    x, _ = inputs()
    a, b = cnet(x), cnet(x)
    for u, v in zip(a, b):
        assert u.shape == (16, 5) and not torch.equal(u, v)
    torch.manual_seed(7)
    a = cnet(x)
    torch.manual_seed(7)
    b = cnet(x)
    for u, v in zip(a, b):
        assert torch.equal(u, v)
    assert (a[1].sum(-1) == 1).all() and ((a[1] == 0) | (a[1] == 1)).all()
    assert torch.allclose(a[0].sum(-1), torch.ones(16))
    assert not torch._dynamo.utils.counters["graph_break"], dict(torch._dynamo.utils.counters["graph_break"])
    if backend == "aot_eager":  # PyTorch's own randint: the eager module's numbers
        torch.manual_seed(7)
        for u, v in zip(net(x), a):
            assert torch.equal(u, v)


def test_compiled_module_trains(compiled):
    _, net, cnet = compiled
    x, target = inputs()
    opt = torch.optim.Adam(net.parameters(), lr=0.05)
    history = []
    for _ in range(40):
        opt.zero_grad()
        loss = loss_of(cnet(x), target)
        loss.backward()
        assert net.log_tau.grad is not None and net.row.weight.grad is not None
        opt.step()
        history.append(loss.item())
    assert sum(history[-5:]) < 0.7 * sum(history[:5])
    assert not torch._dynamo.utils.counters["graph_break"]


def test_export_draws_fresh_samples_and_differentiates():
    torch.manual_seed(0)
    net = Net()
    x, target = inputs()
    ep = torch.export.export(net, (x,))
    names = {str(n.target) for n in ep.graph.nodes if n.op == "call_function"}
    assert {"gumbel.gumbel_softmax.default", "gumbel.relaxed_bernoulli.default"} <= names
    m = ep.module()
    a, b = m(x), m(x)
    for u, v in zip(a, b):
        assert not torch.equal(u, v)
    torch.manual_seed(3)
    a = m(x)
    torch.manual_seed(3)
    for u, v in zip(a, net(x)):
        assert torch.equal(u, v)
    loss_of(m(x), target).backward()  # the operators' registered autograd
    grads = [p.grad for p in m.parameters()]
    assert len(grads) == 5 and all(g is not None and g.abs().sum() > 0 for g in grads)


def test_jit_trace_draws_fresh_samples():
    torch.manual_seed(0)
    net = Net()
    x, _ = inputs()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.jit is deprecated
        traced = torch.jit.trace(net, (x,), check_trace=False)
    a, b = traced(x), traced(x)
    for u, v in zip(a, b):
        assert not torch.equal(u, v)
    torch.manual_seed(5)
    a = traced(x)
    torch.manual_seed(5)
    for u, v in zip(a, net(x)):
        assert torch.equal(u, v)
