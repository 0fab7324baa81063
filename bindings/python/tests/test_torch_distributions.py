"""gumbel.torch.distributions against torch.distributions: every case runs
through PyTorch's class and ours; ours must pass wherever PyTorch's does.

The checks follow what PyTorch's own tests of these distributions check
(shapes of samples and of expanded distributions, gradcheck of rsample in
the parameters and the temperature, gradcheck of log_prob in the value with
validate_args=False, log_prob against the closed form, validation errors),
written anew, plus statistical tests of the samples' law.
"""

import math

import pytest
import torch
import torch.distributions as _td
from torch.distributions.relaxed_bernoulli import LogitRelaxedBernoulli
from torch.distributions.relaxed_categorical import ExpRelaxedCategorical

import gumbel
import gumbel.torch.distributions as gd
from conftest import ALPHA, chi2_sf



@pytest.fixture(autouse=True)
def _float64_by_default():
    """float64 tensors by default in this module's tests only (gradcheck)."""
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(before)


class td:  # PyTorch's classes, with the two its package does not export
    RelaxedOneHotCategorical = _td.RelaxedOneHotCategorical
    RelaxedBernoulli = _td.RelaxedBernoulli
    Gumbel = _td.Gumbel
    ExpRelaxedCategorical = ExpRelaxedCategorical
    LogitRelaxedBernoulli = LogitRelaxedBernoulli

B, K = 3, 4


def _logits():
    return torch.tensor([[0.3, -1.0, 2.0, 0.1], [1.0, 1.0, -0.5, 0.0], [-2.0, 0.4, 0.9, 1.7]])


def _probs():
    return torch.softmax(_logits(), -1)


def _bprobs():
    return torch.tensor([0.2, 0.5, 0.9])


# (name, constructor taking the module, parameters) for every case.
CASES = [
    ("exp_relaxed_logits", lambda m: m.ExpRelaxedCategorical(torch.tensor(0.7), logits=_logits())),
    ("exp_relaxed_probs", lambda m: m.ExpRelaxedCategorical(torch.tensor(0.5), probs=_probs())),
    ("one_hot_logits", lambda m: m.RelaxedOneHotCategorical(torch.tensor(0.7), logits=_logits())),
    ("one_hot_probs_1d", lambda m: m.RelaxedOneHotCategorical(torch.tensor(2.0), probs=_probs()[0])),
    ("logit_bernoulli_probs", lambda m: m.LogitRelaxedBernoulli(torch.tensor(0.6), probs=_bprobs())),
    ("logit_bernoulli_tau_per_element", lambda m: m.LogitRelaxedBernoulli(torch.tensor([0.3, 1.0, 2.0]), logits=torch.tensor([0.5, -1.0, 3.0]))),
    ("bernoulli_probs", lambda m: m.RelaxedBernoulli(torch.tensor(0.6), probs=_bprobs())),
    ("bernoulli_scalar", lambda m: m.RelaxedBernoulli(torch.tensor(1.5), logits=torch.tensor(0.3))),
    ("gumbel", lambda m: m.Gumbel(torch.tensor([0.0, 1.0, -2.0]), torch.tensor([1.0, 0.5, 3.0]))),
    ("gumbel_scalar", lambda m: m.Gumbel(0.5, 2.0)),
]
# Not compared: batched temperatures of the categorical classes (PyTorch's
# log_prob broadcasts a (B, 1) temperature against the (B,) per-row values
# and returns (B, B); see test_batched_temperatures_are_one_per_row).
IDS = [c[0] for c in CASES]
SHAPES = [(), (5,), (2, 3)]


def _pair(make):
    return make(td), make(gd)


@pytest.mark.parametrize("name,make", CASES, ids=IDS)
def test_our_class_is_a_subclass_of_pytorchs(name, make):
    theirs, ours = _pair(make)
    assert isinstance(ours, type(theirs))
    assert type(ours).__module__ == "gumbel.torch.distributions"


@pytest.mark.parametrize("sample_shape", SHAPES)
@pytest.mark.parametrize("name,make", CASES, ids=IDS)
def test_shapes_match_pytorch(name, make, sample_shape):
    theirs, ours = _pair(make)
    assert ours.batch_shape == theirs.batch_shape
    assert ours.event_shape == theirs.event_shape
    want = theirs.rsample(sample_shape).shape
    assert ours.rsample(sample_shape).shape == want
    assert ours.sample(sample_shape).shape == want
    assert ours.log_prob(ours.sample(sample_shape)).shape == theirs.log_prob(theirs.sample(sample_shape)).shape


@pytest.mark.parametrize("name,make", CASES, ids=IDS)
def test_expand_keeps_our_class_and_shapes(name, make):
    theirs, ours = _pair(make)
    batch = (2,) + tuple(theirs.batch_shape)
    e_theirs, e_ours = theirs.expand(batch), ours.expand(batch)
    assert type(e_ours) is type(ours)
    assert e_ours.batch_shape == e_theirs.batch_shape
    x = e_ours.rsample((3,))
    assert x.shape == e_theirs.rsample((3,)).shape
    torch.testing.assert_close(e_ours.log_prob(x), e_theirs.log_prob(x), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("name,make", CASES, ids=IDS)
def test_log_prob_matches_pytorchs_closed_form(name, make):
    theirs, ours = _pair(make)
    torch.manual_seed(3)
    for x in (ours.sample((50,)), theirs.sample((50,))):
        got, want = ours.log_prob(x), theirs.log_prob(x)
        assert torch.isfinite(want).all()
        torch.testing.assert_close(got, want, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("name,make", CASES, ids=IDS)
def test_samples_are_reproducible_from_torch_manual_seed(name, make):
    ours = make(gd)
    torch.manual_seed(11)
    a = ours.rsample((4,))
    torch.manual_seed(11)
    b = ours.rsample((4,))
    assert torch.equal(a, b)
    assert not torch.equal(a, ours.rsample((4,)))


@pytest.mark.parametrize("name,make", CASES, ids=IDS)
def test_mean_entropy_and_the_rest_behave_as_pytorchs(name, make):
    theirs, ours = _pair(make)
    for attr in ("mean", "variance", "stddev", "mode"):
        try:
            want = getattr(theirs, attr)
        except NotImplementedError:
            with pytest.raises(NotImplementedError):
                getattr(ours, attr)
            continue
        torch.testing.assert_close(getattr(ours, attr), want)
    try:
        want = theirs.entropy()
    except NotImplementedError:
        with pytest.raises(NotImplementedError):
            ours.entropy()
    else:
        torch.testing.assert_close(ours.entropy(), want)


def _seeded(f):
    """``f`` with the same key on every call (gradcheck evaluates it many times)."""

    def g(*args):
        torch.manual_seed(5)
        return f(*args)

    return g


RSAMPLE_GRAD = [
    ("exp_relaxed", lambda t, p: gd.ExpRelaxedCategorical(t, logits=p, validate_args=False), lambda: (torch.tensor(0.7), _logits())),
    ("exp_relaxed_batched", lambda t, p: gd.ExpRelaxedCategorical(t, logits=p, validate_args=False), lambda: (torch.tensor([[0.3], [1.0], [2.5]]), _logits())),
    ("one_hot_probs", lambda t, p: gd.RelaxedOneHotCategorical(t, probs=p, validate_args=False), lambda: (torch.tensor(0.7), _probs())),
    ("logit_bernoulli", lambda t, p: gd.LogitRelaxedBernoulli(t, logits=p, validate_args=False), lambda: (torch.tensor([0.3, 1.0, 2.0]), torch.tensor([0.5, -1.0, 3.0]))),
    ("bernoulli_probs", lambda t, p: gd.RelaxedBernoulli(t, probs=p, validate_args=False), lambda: (torch.tensor(0.6), _bprobs())),
    ("gumbel", lambda t, p: gd.Gumbel(p, t, validate_args=False), lambda: (torch.tensor([1.0, 0.5, 3.0]), torch.tensor([0.0, 1.0, -2.0]))),
]


@pytest.mark.parametrize("name,make,args", RSAMPLE_GRAD, ids=[c[0] for c in RSAMPLE_GRAD])
def test_rsample_gradcheck_in_parameters_and_temperature(name, make, args):
    t, p = (a.clone().requires_grad_() for a in args())
    assert torch.autograd.gradcheck(_seeded(lambda t, p: make(t, p).rsample((2,))), (t, p))
    assert make(t, p).rsample().requires_grad


@pytest.mark.parametrize("name,make,args", RSAMPLE_GRAD, ids=[c[0] for c in RSAMPLE_GRAD])
def test_log_prob_gradcheck_in_value_parameters_and_temperature(name, make, args):
    t, p = (a.clone() for a in args())
    torch.manual_seed(2)
    x = make(t, p).sample((2,))
    if name == "bernoulli_probs":
        x = x.clamp(0.05, 0.95)  # PyTorch's sigmoid transform clamps near 0 and 1
    t, p, x = (a.clone().requires_grad_() for a in (t, p, x))

    def lp(t, p, x):
        return make(t, p).log_prob(x)

    def lp_off(x):  # validate_args=False (in make): perturbed values leave the support
        return make(t.detach(), p.detach()).log_prob(x)

    assert torch.autograd.gradcheck(lp, (t, p, x))
    assert torch.autograd.gradcheck(lp_off, (x,))


@pytest.mark.parametrize("name,make,args", RSAMPLE_GRAD, ids=[c[0] for c in RSAMPLE_GRAD])
def test_second_order_gradgradcheck_of_rsample_and_log_prob(name, make, args):
    t, p = (a.clone() for a in args())
    torch.manual_seed(2)
    x = make(t, p).sample((2,))
    if name == "bernoulli_probs":
        x = x.clamp(0.05, 0.95)
    t, p, x = (a.clone().requires_grad_() for a in (t, p, x))
    assert torch.autograd.gradgradcheck(lambda t, p, x: make(t, p).log_prob(x), (t, p, x))
    assert torch.autograd.gradgradcheck(_seeded(lambda t, p: make(t, p).rsample((2,))), (t, p))


def test_batched_temperatures_are_one_per_row():
    logits = _logits()
    tau = torch.tensor([[0.3], [1.0], [2.5]])
    torch.manual_seed(8)
    x = gd.ExpRelaxedCategorical(tau, logits=logits).rsample((6,))
    # Same noise, each row alone with its scalar temperature, by replaying the key.
    for r in range(B):
        torch.manual_seed(8)
        xr = gd.ExpRelaxedCategorical(tau[r, 0], logits=logits).rsample((6,))
        torch.testing.assert_close(x[:, r], xr[:, r], rtol=0, atol=1e-14)
    lp = gd.RelaxedOneHotCategorical(tau, logits=logits).log_prob(x.exp())
    assert lp.shape == (6, B)
    for r in range(B):
        want = td.RelaxedOneHotCategorical(tau[r, 0], logits=logits[r]).log_prob(x[:, r].exp())
        torch.testing.assert_close(lp[:, r], want)
    lt = torch.stack([td.ExpRelaxedCategorical(tau[r, 0], logits=logits[r]).log_prob(x[:, r]) for r in range(B)], 1)
    torch.testing.assert_close(gd.ExpRelaxedCategorical(tau, logits=logits).log_prob(x), lt)


def test_exp_relaxed_log_prob_is_pytorchs_off_the_log_simplex():
    tau = torch.tensor(0.8)
    d = gd.ExpRelaxedCategorical(tau, logits=_logits(), validate_args=False)
    x = torch.randn(7, B, K)
    torch.testing.assert_close(d.log_prob(x), td.ExpRelaxedCategorical(tau, logits=_logits(), validate_args=False).log_prob(x))


def test_a_number_temperature_works_in_log_prob():
    # PyTorch's log_prob needs a tensor temperature (it calls .log() on it).
    y = gd.RelaxedOneHotCategorical(0.5, logits=_logits()).rsample()
    want = td.RelaxedOneHotCategorical(torch.tensor(0.5), logits=_logits()).log_prob(y)
    torch.testing.assert_close(gd.RelaxedOneHotCategorical(0.5, logits=_logits()).log_prob(y), want)


def _ks_p(u):
    """Two-sided one-sample KS p-value of ``u`` against Uniform(0, 1)
    (Kolmogorov's asymptotic distribution, Stephens' small-sample factor)."""
    u, _ = torch.sort(u.double())
    n = u.numel()
    i = torch.arange(1, n + 1, dtype=torch.float64)
    d = max(float((i / n - u).max()), float((u - (i - 1) / n).max()))
    lam = (math.sqrt(n) + 0.12 + 0.11 / math.sqrt(n)) * d
    return min(1.0, max(0.0, 2 * sum((-1) ** (k - 1) * math.exp(-2 * k * k * lam * lam) for k in range(1, 101))))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_relaxed_bernoulli_samples_follow_the_binary_concrete_law(dtype):
    l, tau = 0.7, 0.4
    torch.manual_seed(21)
    y = gd.RelaxedBernoulli(torch.tensor(tau, dtype=dtype), logits=torch.full((200_000,), l, dtype=dtype)).rsample().double()
    logit = torch.log(y) - torch.log1p(-y)
    # P(Y <= y) = sigmoid(tau logit(y) - l), so this is uniform.
    assert _ks_p(torch.sigmoid(tau * logit - l)) > ALPHA
    # A known-wrong law (noise divided by tau, logit added after) is rejected.
    wrong = torch.sigmoid(tau * (l + (tau * logit - l) / tau) - l)
    assert _ks_p(wrong) < ALPHA


def test_relaxed_one_hot_argmax_frequencies_are_categorical():
    probs = torch.tensor([0.1, 0.2, 0.3, 0.4])
    n = 100_000
    torch.manual_seed(4)
    y = gd.RelaxedOneHotCategorical(0.5, probs=probs).rsample((n,))
    counts = torch.bincount(y.argmax(-1), minlength=4).double()
    stat = float(((counts - n * probs) ** 2 / (n * probs)).sum())
    assert chi2_sf(stat, 3) > ALPHA
    wrong = torch.softmax(torch.tensor([0.25, 0.25, 0.25, 0.25]).log(), -1)
    stat = float(((counts - n * wrong) ** 2 / (n * wrong)).sum())
    assert chi2_sf(stat, 3) < ALPHA


def test_gumbel_samples_follow_the_gumbel_law():
    loc, scale = 1.5, 0.7
    torch.manual_seed(6)
    x = gd.Gumbel(loc, scale).rsample((100_000,))
    assert _ks_p(td.Gumbel(loc, scale).cdf(x)) > ALPHA
    assert _ks_p(td.Gumbel(loc, scale, validate_args=False).cdf(-x + 2 * loc)) < ALPHA  # wrong sign of the noise


BAD_ARGS = [
    lambda m: m.RelaxedOneHotCategorical(0.5, probs=torch.tensor([0.5, -0.1, 0.6]), validate_args=True),
    lambda m: m.ExpRelaxedCategorical(0.5, logits=torch.tensor([0.5, float("nan")]), validate_args=True),
    lambda m: m.RelaxedBernoulli(0.5, probs=torch.tensor([1.5]), validate_args=True),
    lambda m: m.LogitRelaxedBernoulli(0.5, probs=torch.tensor([-0.5]), validate_args=True),
    lambda m: m.Gumbel(0.0, -1.0, validate_args=True),
]


@pytest.mark.parametrize("make", BAD_ARGS)
def test_bad_parameters_raise_valueerror_as_pytorch(make):
    with pytest.raises(ValueError):
        make(td)
    with pytest.raises(ValueError):
        make(gd)


BAD_VALUES = [
    (lambda m: m.RelaxedOneHotCategorical(torch.tensor(0.5), logits=_logits(), validate_args=True), torch.full((B, K), 0.5)),
    (lambda m: m.ExpRelaxedCategorical(torch.tensor(0.5), logits=_logits(), validate_args=True), torch.full((B, K), float("nan"))),
    (lambda m: m.RelaxedBernoulli(torch.tensor(0.5), probs=_bprobs(), validate_args=True), torch.tensor([0.5, 1.5, 0.5])),
    (lambda m: m.LogitRelaxedBernoulli(torch.tensor(0.5), probs=_bprobs(), validate_args=True), torch.tensor([0.5, float("nan"), 0.5])),
]


@pytest.mark.parametrize("make,value", BAD_VALUES)
def test_values_off_the_support_raise_valueerror_as_pytorch(make, value):
    with pytest.raises(ValueError):
        make(td).log_prob(value)
    with pytest.raises(ValueError):
        make(gd).log_prob(value)


def test_a_temperature_per_class_is_refused():
    d = gd.RelaxedOneHotCategorical(torch.tensor([0.5, 1.0, 1.5, 2.0]), logits=_logits())
    with pytest.raises(ValueError, match="per row"):
        d.rsample()


def test_a_bad_temperature_raises_the_librarys_error():
    with pytest.raises(gumbel.InvalidTemperatureError):
        gd.RelaxedBernoulli(torch.tensor(-1.0), logits=torch.zeros(3)).rsample()
    with pytest.raises(gumbel.InvalidTemperatureError):
        gd.ExpRelaxedCategorical(0.0, logits=_logits()).rsample()


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_float32_and_float64(dtype):
    d = gd.RelaxedOneHotCategorical(torch.tensor(0.5, dtype=dtype), logits=_logits().to(dtype))
    y = d.rsample((2,))
    assert y.dtype == dtype and d.log_prob(y).dtype == dtype
    torch.testing.assert_close(d.log_prob(y), td.RelaxedOneHotCategorical(torch.tensor(0.5, dtype=dtype), logits=_logits().to(dtype)).log_prob(y), rtol=1e-4, atol=1e-4)


OPCHECK = [
    ("log_softmax", lambda: (_logits(), torch.tensor([[0.5], [1.0], [2.0]]), -1, torch.tensor([1, 2]))),
    ("exp_concrete_log_prob", lambda: (torch.log_softmax(_logits() * 0.3, -1), _logits(), torch.tensor(0.5), -1)),
    ("exp_concrete_log_prob_grad", lambda: (torch.log_softmax(_logits() * 0.3, -1), _logits(), torch.tensor(0.5), -1)),
    ("logit_relaxed_bernoulli", lambda: (torch.tensor([0.5, -1.0]), torch.tensor([0.5, 2.0]), torch.tensor([1, 2]))),
    ("logit_relaxed_bernoulli_log_prob", lambda: (torch.tensor([0.3, -2.0]), torch.tensor([0.5, -1.0]), torch.tensor([0.5, 2.0]))),
    ("logit_relaxed_bernoulli_log_prob_grad", lambda: (torch.tensor([0.3, -2.0]), torch.tensor([0.5, -1.0]), torch.tensor([0.5, 2.0]))),
    ("standard_gumbel", lambda: (torch.zeros(5), torch.tensor([1, 2]))),
    ("gumbel_log_pdf", lambda: (torch.tensor([0.3, -2.0, 4.0]),)),
]


@pytest.mark.parametrize("name,args", OPCHECK, ids=[c[0] for c in OPCHECK])
def test_opcheck(name, args):
    a = list(args())
    if name in ("log_softmax", "exp_concrete_log_prob", "logit_relaxed_bernoulli", "logit_relaxed_bernoulli_log_prob", "gumbel_log_pdf"):
        a = [x.requires_grad_() if isinstance(x, torch.Tensor) and x.is_floating_point() else x for x in a]
    torch.library.opcheck(getattr(torch.ops.gumbel_dist, name), tuple(a))


def test_opcheck_covers_every_operator():
    ops = torch.ops.gumbel_dist
    registered = {n for n in dir(ops) if not n.startswith("_") and isinstance(getattr(ops, n), torch._ops.OpOverloadPacket)}
    assert registered == {c[0] for c in OPCHECK}


def test_compiled_rsample_and_log_prob_train_without_graph_breaks():
    logits = _logits().clone().requires_grad_()
    log_tau = torch.tensor(0.0, requires_grad=True)

    def loss(logits, log_tau):
        d = gd.RelaxedOneHotCategorical(log_tau.exp(), logits=logits)
        y = d.rsample((8,))
        return (y[..., 0] + d.log_prob(y)).sum()

    compiled = torch.compile(loss, fullgraph=True, backend="eager")
    torch.manual_seed(1)
    a = compiled(logits, log_tau)
    a.backward()
    assert logits.grad is not None and log_tau.grad is not None
    torch.manual_seed(1)
    b = loss(logits, log_tau)
    torch.testing.assert_close(a, b)


def test_vmap_of_log_prob_equals_a_loop():
    # Forward only: torch.func.grad/jacrev through these operators are not
    # supported (their derivatives are registered on the operators, which
    # torch.func cannot transform); torch.autograd is.
    logits = _logits()
    x = torch.log_softmax(torch.randn(5, B, K), -1)
    tau = torch.tensor(0.6)

    def lp(x):
        return gd.ExpRelaxedCategorical(tau, logits=logits).log_prob(x)

    torch.testing.assert_close(torch.func.vmap(lp)(x), torch.stack([lp(v) for v in x]))
    v = torch.randn(5, 3)

    def lrb(v):
        return gd.LogitRelaxedBernoulli(torch.tensor([0.3, 1.0, 2.0]), logits=torch.tensor([0.5, -1.0, 3.0])).log_prob(v)

    torch.testing.assert_close(torch.func.vmap(lrb)(v), torch.stack([lrb(r) for r in v]))


@pytest.mark.parametrize("tau", [3.0, 0.25])
def test_one_element_temperature_with_2d_probs(tau):
    # A temperature of shape (1,) (one for every row) with a (2, 3) batch of probs.
    probs = torch.tensor([[0.1, 0.2, 0.3], [0.5, 0.3, 0.2]])
    for m in (td, gd):
        d = m.RelaxedOneHotCategorical(torch.tensor([tau]), probs)
        assert d.sample().shape == (2, 3) and d.sample((3, 4)).shape == (3, 4, 2, 3)
        assert not d.sample().requires_grad
    t, p = torch.tensor([tau], requires_grad=True), probs.clone().requires_grad_()
    torch.manual_seed(9)
    s = gd.RelaxedOneHotCategorical(t, p).sample()
    # gradcheck steps by 1e-6: keep every entry above that (as PyTorch's would need).
    s = s.clamp_min(1e-3)
    s = (s / s.sum(-1, keepdim=True)).requires_grad_()

    def lp(s, t, p):
        return gd.RelaxedOneHotCategorical(t, p, validate_args=False).log_prob(s)

    assert torch.autograd.gradcheck(lp, (s, t, p))
    torch.testing.assert_close(lp(s, t, p), td.RelaxedOneHotCategorical(t, p, validate_args=False).log_prob(s))


@pytest.mark.parametrize("p", [0.001, 0.2, 0.999])
def test_a_huge_temperature_gives_one_half(p):
    for m in (td, gd):
        torch.manual_seed(1)
        assert float(m.RelaxedBernoulli(1e10, torch.tensor(p)).rsample()) == pytest.approx(0.5, abs=1e-9)
