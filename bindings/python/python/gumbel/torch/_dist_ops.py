"""The library's kernels behind ``gumbel.torch.distributions``, as PyTorch
operators (namespace ``gumbel``) with fake implementations and registered
derivatives, in the style of ``_ops`` (which see for ``tau``, ``key`` and
the errors), in a namespace of their own, ``gumbel_dist``.

Operators (``torch.ops.gumbel_dist.*``):

- ``log_softmax(logits, tau, dim, key) -> x``: the ExpConcrete sample
  ``log_softmax((logits + g) / tau)`` along ``dim`` (``gumbel_log_softmax_*``,
  ``_per_row_*``); ``tau`` 0-d or one per row as for ``gumbel_softmax``.
  Derivatives, with ``y = exp(x)``, ``w = v - y <v, 1>`` for the upstream
  ``v``: ``d/dlogits = w / tau``; ``d/dtau = -<w, x> / tau`` per row
  (``du/dtau = -u / tau`` for ``u = (logits + g) / tau``; ``w`` sums to 0,
  so ``u`` may be replaced by ``x = u - logsumexp(u)``). Written with torch
  operations, so they differentiate again.
- ``exp_concrete_log_prob(x, logits, tau, dim) -> lp``: the ExpConcrete
  log-density per row (``gumbel_exp_concrete_log_prob_per_row_*``),
  ``x``'s shape without ``dim``; ``x`` must lie on the log-simplex.
- ``exp_concrete_log_prob_grad(x, logits, tau, dim) -> (g_logits, g_tau)``:
  its gradients (``..._grad_logits_per_row_*``, ``..._grad_tau_per_row_*``):
  ``g_logits = 1 - K softmax(logits - tau x)`` per element, ``g_tau`` one
  per row (size 1 along ``dim``); the gradient in ``x`` is
  ``-tau * g_logits``. The log-density's registered derivative scales these
  by the upstream gradient; their own derivatives (second order) are
  registered too, written with torch operations.
- ``logit_relaxed_bernoulli(logits, tau, key) -> x``: ``(logits + L) / tau``
  elementwise, ``tau`` of ``logits``' shape (``gumbel_logit_relaxed_bernoulli_*``);
  ``d/dlogits = v / tau``, ``d/dtau = -v x / tau`` (torch operations).
- ``logit_relaxed_bernoulli_log_prob(x, logits, tau) -> lp`` and
  ``logit_relaxed_bernoulli_log_prob_grad(x, logits, tau) -> (g_logits,
  g_tau)``: the logistic log-density and its gradients, all of one shape;
  the gradient in ``x`` is ``-tau * g_logits``; second order registered as
  for the ExpConcrete.
- ``standard_gumbel(like, key) -> g``: standard Gumbel noise of ``like``'s
  shape and dtype (``gumbel_noise_*``); not differentiable (the
  distribution scales and shifts it with torch operations).
- ``gumbel_log_pdf(z) -> lp``: ``-z - exp(-z)`` elementwise
  (``gumbel_dist_log_pdf_*``); ``d/dz = exp(-z) - 1``.

Each has a vmap rule that runs it once per batch element. Their
derivatives are registered on the operators (``register_autograd``), which
``torch.autograd``, ``torch.compile`` and ``torch.export`` use; the
``torch.func`` transforms of derivatives (``grad``, ``jacrev``, ``jvp``) are
not supported here, unlike the drop-in's ``_autograd`` route.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from .._errors import check
from ._ops import _vmap_by_element, _check, _check_key, _empty, _fn, _key, _per_row, _ptr, _row_tau, check_dtype, dim_index, split


def _operator(name: str) -> Any:
    def register(fn: Any) -> Any:
        return torch.library.custom_op(f"gumbel_dist::{name}", fn, mutates_args=(), device_types="cpu")

    return register


def _rows_shape(shape: torch.Size, dim: int) -> list[int]:
    rows = list(shape)
    if rows:
        rows[dim_index(len(rows), dim)] = 1
    return rows


def _rows_tau(tau: Tensor, shape: torch.Size, dim: int) -> Tensor:
    """``tau`` (0-d or per row) as the contiguous per-row array the library reads."""
    _per_row(tau, shape, dim)
    return tau.expand(_rows_shape(shape, dim)).contiguous()


def _check_same(name: str, a: Tensor, b: Tensor) -> None:
    if a.shape != b.shape or a.dtype != b.dtype:
        raise ValueError(f"{name} ({tuple(a.shape)}, {a.dtype}) must match logits ({tuple(b.shape)}, {b.dtype})")


# -- ExpConcrete ----------------------------------------------------------------


@_operator("log_softmax")
def log_softmax(logits: Tensor, tau: Tensor, dim: int, key: Tensor) -> Tensor:
    """ExpConcrete sample ``log_softmax((logits + g) / tau)`` along ``dim``."""
    _check(logits, tau)
    _check_key(key)
    per_row = _per_row(tau, logits.shape, dim)
    outer, classes, inner, d = split(logits.shape, dim)
    x = logits.contiguous()
    out = _empty(x)
    if out.numel() == 0:
        return out
    seed, offset = _key(key)
    if per_row:
        t = _row_tau(tau, x.shape, d)
        check(_fn("log_softmax_per_row", x.dtype)(_ptr(x), _ptr(out), outer, classes, inner, _ptr(t), seed, offset))
    else:
        check(_fn("log_softmax", x.dtype)(_ptr(x), _ptr(out), outer, classes, inner, float(tau), seed, offset))
    return out


@log_softmax.register_fake
def _(logits: Tensor, tau: Tensor, dim: int, key: Tensor) -> Tensor:
    _check(logits, tau)
    _check_key(key)
    _per_row(tau, logits.shape, dim)
    return _empty(logits)


def _log_softmax_setup(ctx: Any, inputs: tuple[Any, ...], output: Tensor) -> None:
    logits, tau, dim, key = inputs
    ctx.dim = dim
    ctx.save_for_backward(output, tau)


def _log_softmax_backward(ctx: Any, v: Tensor) -> tuple[Any, ...]:
    x, tau = ctx.saved_tensors
    d = dim_index(x.dim(), ctx.dim)
    w = v - x.exp() * v.sum(d, keepdim=True)
    grad_logits = w / tau if ctx.needs_input_grad[0] else None
    grad_tau = None
    if ctx.needs_input_grad[1]:
        grad_tau = (-(w * x).sum(d, keepdim=True) / tau).sum_to_size(tau.shape)
    return grad_logits, grad_tau, None, None


log_softmax.register_autograd(_log_softmax_backward, setup_context=_log_softmax_setup)


def _exp_concrete_args(x: Tensor, logits: Tensor, tau: Tensor, dim: int) -> tuple[Tensor, Tensor, Tensor, tuple[int, int, int, int]]:
    _check(logits, tau)
    _check_same("x", x, logits)
    dims = split(logits.shape, dim)
    return x.contiguous(), logits.contiguous(), _rows_tau(tau, logits.shape, dim), dims


def _per_row_shape(shape: torch.Size, dim: int) -> list[int]:
    rows = list(shape)
    if rows:
        del rows[dim_index(len(rows), dim)]
    return rows


@_operator("exp_concrete_log_prob")
def exp_concrete_log_prob(x: Tensor, logits: Tensor, tau: Tensor, dim: int) -> Tensor:
    """ExpConcrete log-density of each row of ``x`` (on the log-simplex)."""
    xc, lc, t, (outer, classes, inner, _) = _exp_concrete_args(x, logits, tau, dim)
    out = torch.empty(_per_row_shape(x.shape, dim), dtype=x.dtype)
    if xc.numel() == 0:
        return out.zero_()
    check(_fn("exp_concrete_log_prob_per_row", x.dtype)(_ptr(xc), _ptr(lc), _ptr(out), outer, classes, inner, _ptr(t)))
    return out


@exp_concrete_log_prob.register_fake
def _(x: Tensor, logits: Tensor, tau: Tensor, dim: int) -> Tensor:
    _check(logits, tau)
    _check_same("x", x, logits)
    _per_row(tau, logits.shape, dim)
    return x.new_empty(_per_row_shape(x.shape, dim))


@_operator("exp_concrete_log_prob_grad")
def exp_concrete_log_prob_grad(x: Tensor, logits: Tensor, tau: Tensor, dim: int) -> tuple[Tensor, Tensor]:
    """Gradients of the ExpConcrete log-density: per element in the logits,
    per row (size 1 along ``dim``) in the temperature."""
    xc, lc, t, (outer, classes, inner, _) = _exp_concrete_args(x, logits, tau, dim)
    g = _empty(xc)
    gt = _empty(t)
    if xc.numel() == 0:
        return g, gt
    check(_fn("exp_concrete_log_prob_grad_logits_per_row", x.dtype)(_ptr(xc), _ptr(lc), _ptr(g), outer, classes, inner, _ptr(t)))
    check(_fn("exp_concrete_log_prob_grad_tau_per_row", x.dtype)(_ptr(xc), _ptr(lc), _ptr(gt), outer, classes, inner, _ptr(t)))
    return g, gt


@exp_concrete_log_prob_grad.register_fake
def _(x: Tensor, logits: Tensor, tau: Tensor, dim: int) -> tuple[Tensor, Tensor]:
    _check(logits, tau)
    _check_same("x", x, logits)
    _per_row(tau, logits.shape, dim)
    return _empty(x), x.new_empty(_rows_shape(x.shape, dim))


def _exp_concrete_setup(ctx: Any, inputs: tuple[Any, ...], output: Tensor) -> None:
    x, logits, tau, dim = inputs
    ctx.dim = dim
    ctx.save_for_backward(x, logits, tau)


def _exp_concrete_backward(ctx: Any, v: Tensor) -> tuple[Any, ...]:
    x, logits, tau = ctx.saved_tensors
    d = dim_index(max(x.dim(), 1), ctx.dim)
    g, gt = exp_concrete_log_prob_grad(x, logits, tau, ctx.dim)
    vv = v.unsqueeze(d) if x.dim() else v
    grad_l = vv * g
    grad_x = -tau * grad_l if ctx.needs_input_grad[0] else None
    grad_tau = (vv * gt).sum_to_size(tau.shape) if ctx.needs_input_grad[2] else None
    return grad_x, grad_l if ctx.needs_input_grad[1] else None, grad_tau, None


exp_concrete_log_prob.register_autograd(_exp_concrete_backward, setup_context=_exp_concrete_setup)


def _exp_concrete_grad_setup(ctx: Any, inputs: tuple[Any, ...], output: tuple[Tensor, Tensor]) -> None:
    x, logits, tau, dim = inputs
    ctx.dim = dim
    ctx.save_for_backward(x, logits, tau, output[0])


def _exp_concrete_grad_backward(ctx: Any, u: Tensor, ut: Tensor) -> tuple[Any, ...]:
    """Second order. With ``a = logits - tau x``, ``s = softmax(a)`` over the
    ``K`` unmasked classes (``s = (1 - g) / K`` from the first-order output
    ``g = 1 - K s``): ``dg_k/da_j = -K s_k (delta_kj - s_j)``, so an upstream
    ``u`` on ``g`` gives ``a_bar = -K s (u - <u, s>)``; the temperature
    gradient ``gt = (K-1)/tau - <x, g>`` passes ``-ut x`` on to ``g``, ``-ut g``
    to ``x`` and ``-ut (K-1)/tau^2`` to ``tau``; then ``a`` passes ``a_bar`` to
    the logits, ``-tau a_bar`` to ``x`` and ``-<x, a_bar>`` to ``tau``."""
    x, logits, tau, g = ctx.saved_tensors
    d = dim_index(x.dim(), ctx.dim)
    live = logits != float("-inf")
    k = live.sum(d, keepdim=True).to(x.dtype)
    zero = torch.zeros((), dtype=x.dtype)
    s = torch.where(live, (1 - g) / k, zero)
    xs = torch.where(live, x, zero)
    u_eff = u - ut * xs
    a_bar = -k * s * (u_eff - (u_eff * s).sum(d, keepdim=True))
    grad_x = -tau * a_bar - ut * g
    grad_tau = (-(xs * a_bar).sum(d, keepdim=True) - ut * (k - 1) / (tau * tau)).sum_to_size(tau.shape)
    return grad_x, a_bar, grad_tau, None


exp_concrete_log_prob_grad.register_autograd(_exp_concrete_grad_backward, setup_context=_exp_concrete_grad_setup)


# -- Logit-space relaxed Bernoulli ------------------------------------------------


@_operator("logit_relaxed_bernoulli")
def logit_relaxed_bernoulli(logits: Tensor, tau: Tensor, key: Tensor) -> Tensor:
    """``(logits + L) / tau`` elementwise; ``tau`` has ``logits``' shape."""
    check_dtype(logits.dtype)
    _check_same("tau", tau, logits)
    _check_key(key)
    x, t = logits.contiguous(), tau.contiguous()
    out = _empty(x)
    if out.numel() == 0:
        return out
    seed, offset = _key(key)
    check(_fn("logit_relaxed_bernoulli", x.dtype)(_ptr(x), _ptr(t), _ptr(out), x.numel(), seed, offset))
    return out


@logit_relaxed_bernoulli.register_fake
def _(logits: Tensor, tau: Tensor, key: Tensor) -> Tensor:
    check_dtype(logits.dtype)
    _check_same("tau", tau, logits)
    _check_key(key)
    return _empty(logits)


def _lrb_setup(ctx: Any, inputs: tuple[Any, ...], output: Tensor) -> None:
    ctx.save_for_backward(output, inputs[1])


def _lrb_backward(ctx: Any, v: Tensor) -> tuple[Any, ...]:
    x, tau = ctx.saved_tensors
    return v / tau, -v * x / tau, None


logit_relaxed_bernoulli.register_autograd(_lrb_backward, setup_context=_lrb_setup)


def _elementwise(name: str, x: Tensor, logits: Tensor, tau: Tensor) -> Tensor:
    check_dtype(logits.dtype)
    _check_same("x", x, logits)
    _check_same("tau", tau, logits)
    xc, lc, t = x.contiguous(), logits.contiguous(), tau.contiguous()
    out = _empty(xc)
    if out.numel():
        check(_fn(name, x.dtype)(_ptr(xc), _ptr(lc), _ptr(t), _ptr(out), xc.numel()))
    return out


@_operator("logit_relaxed_bernoulli_log_prob")
def logit_relaxed_bernoulli_log_prob(x: Tensor, logits: Tensor, tau: Tensor) -> Tensor:
    """Logistic log-density of ``x`` (location ``logits / tau``, scale ``1 / tau``)."""
    return _elementwise("logit_relaxed_bernoulli_log_prob", x, logits, tau)


@logit_relaxed_bernoulli_log_prob.register_fake
def _(x: Tensor, logits: Tensor, tau: Tensor) -> Tensor:
    _check_same("x", x, logits)
    _check_same("tau", tau, logits)
    return _empty(x)


@_operator("logit_relaxed_bernoulli_log_prob_grad")
def logit_relaxed_bernoulli_log_prob_grad(x: Tensor, logits: Tensor, tau: Tensor) -> tuple[Tensor, Tensor]:
    """Its gradients in the logits and in the temperature, elementwise."""
    return (
        _elementwise("logit_relaxed_bernoulli_log_prob_grad_logits", x, logits, tau),
        _elementwise("logit_relaxed_bernoulli_log_prob_grad_tau", x, logits, tau),
    )


@logit_relaxed_bernoulli_log_prob_grad.register_fake
def _(x: Tensor, logits: Tensor, tau: Tensor) -> tuple[Tensor, Tensor]:
    _check_same("x", x, logits)
    _check_same("tau", tau, logits)
    return _empty(x), _empty(x)


def _lrb_lp_setup(ctx: Any, inputs: tuple[Any, ...], output: Tensor) -> None:
    ctx.save_for_backward(*inputs)


def _lrb_lp_backward(ctx: Any, v: Tensor) -> tuple[Any, ...]:
    x, logits, tau = ctx.saved_tensors
    g, gt = logit_relaxed_bernoulli_log_prob_grad(x, logits, tau)
    return -tau * v * g, v * g, v * gt


logit_relaxed_bernoulli_log_prob.register_autograd(_lrb_lp_backward, setup_context=_lrb_lp_setup)


def _lrb_grad_setup(ctx: Any, inputs: tuple[Any, ...], output: tuple[Tensor, Tensor]) -> None:
    ctx.save_for_backward(*inputs, output[0])


def _lrb_grad_backward(ctx: Any, u: Tensor, ut: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Second order. With ``d = logits - tau x``, ``g = -tanh(d/2)`` has
    ``dg/dd = -(1 - g^2) / 2``; ``gt = 1/tau - x g`` passes ``-ut x`` on to
    ``g``, ``-ut g`` to ``x`` and ``-ut / tau^2`` to ``tau``; ``d`` passes
    ``d_bar`` to the logits, ``-tau d_bar`` to ``x``, ``-x d_bar`` to ``tau``."""
    x, logits, tau, g = ctx.saved_tensors
    d_bar = (u - ut * x) * (-(1 - g * g) / 2)
    return -tau * d_bar - ut * g, d_bar, -x * d_bar - ut / (tau * tau)


logit_relaxed_bernoulli_log_prob_grad.register_autograd(_lrb_grad_backward, setup_context=_lrb_grad_setup)


# -- Gumbel distribution ----------------------------------------------------------


@_operator("standard_gumbel")
def standard_gumbel(like: Tensor, key: Tensor) -> Tensor:
    """Standard Gumbel noise of ``like``'s shape and dtype."""
    check_dtype(like.dtype)
    _check_key(key)
    out = torch.empty(like.shape, dtype=like.dtype)
    if out.numel():
        seed, offset = _key(key)
        check(_fn("noise", like.dtype)(_ptr(out), out.numel(), 0.0, 1.0, seed, offset))
    return out


@standard_gumbel.register_fake
def _(like: Tensor, key: Tensor) -> Tensor:
    check_dtype(like.dtype)
    _check_key(key)
    return torch.empty_like(like, memory_format=torch.contiguous_format)


@_operator("gumbel_log_pdf")
def gumbel_log_pdf(z: Tensor) -> Tensor:
    """``-z - exp(-z)``, the standard Gumbel log-density, elementwise."""
    check_dtype(z.dtype)
    x = z.contiguous()
    out = _empty(x)
    if out.numel():
        check(_fn("dist_log_pdf", x.dtype)(_ptr(x), _ptr(out), x.numel(), 0.0, 1.0))
    return out


@gumbel_log_pdf.register_fake
def _(z: Tensor) -> Tensor:
    check_dtype(z.dtype)
    return _empty(z)


def _log_pdf_setup(ctx: Any, inputs: tuple[Any, ...], output: Tensor) -> None:
    ctx.save_for_backward(inputs[0])


def _log_pdf_backward(ctx: Any, v: Tensor) -> Tensor:
    (z,) = ctx.saved_tensors
    return v * torch.expm1(-z)


gumbel_log_pdf.register_autograd(_log_pdf_backward, setup_context=_log_pdf_setup)


# vmap: each operator runs once per batch element (see ``_ops._vmap_by_element``
# for what that means for the samplers' keys).
def _vmap_pairs(op: Any) -> Any:
    """The rule of ``_vmap_by_element`` for an operator returning two tensors."""

    def rule(info: Any, in_dims: Any, *args: Any) -> tuple[tuple[Tensor, Tensor], tuple[int, int]]:
        outs = [op(*(a if d is None else a.select(d, b) for a, d in zip(args, in_dims))) for b in range(info.batch_size)]
        return (torch.stack([o[0] for o in outs]), torch.stack([o[1] for o in outs])), (0, 0)

    return rule


for _op in (log_softmax, exp_concrete_log_prob, logit_relaxed_bernoulli, logit_relaxed_bernoulli_log_prob, standard_gumbel, gumbel_log_pdf):
    _op.register_vmap(_vmap_by_element(_op))
for _op in (exp_concrete_log_prob_grad, logit_relaxed_bernoulli_log_prob_grad):
    _op.register_vmap(_vmap_pairs(_op))
