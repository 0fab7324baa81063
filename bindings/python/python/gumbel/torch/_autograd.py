"""Derivatives of the ``gumbel`` operators, to any order, in both modes.

Every operator of ``_ops`` gets a reverse-mode formula (``backward``, with
``setup_context``) registered on the operator itself
(``register_autograd``: used inside ``torch.compile``, ``torch.export`` and
by a direct ``torch.ops.gumbel.*`` call), and the same formula plus a
forward-mode one (``jvp``) on ``torch.autograd.Function`` classes used in
eager mode: a custom operator cannot carry a forward-mode formula, which
``torch.func.jvp``/``jacfwd`` need, and Dynamo does not trace a Function
that defines ``jvp``, so the callables here pick their route at each call
(see :func:`_differentiable`). Every route shares the kernel and every
formula.

The first-order work is the library's: logits gradients come from its
backward (``gumbel_softmax_backward``, ``relaxed_bernoulli_backward``),
temperature gradients of the Gumbel-Softmax from its ``grad_tau``. The
formulas differentiate through those operators, whose own derivatives are
registered below, so double backward (``create_graph=True``,
``gradgradcheck``, gradient penalties) and higher orders work.

Notation, per row along the class dimension: ``y`` the soft sample,
``<a, b> = sum_k a_k b_k``, ``B(y, v, tau) = y * (v - <v, y>) / tau`` the
library's backward, ``w = ln y`` with ``0`` where ``y = 0`` (masked classes,
whose every derivative is 0).

- Sample ``y = softmax(u)``, ``u = (l + g) / tau``. The softmax Jacobian
  ``diag(y) - y y^T`` is symmetric, so the VJP and the JVP in the logits are
  both ``B(y, ., tau)``. ``du/dtau = -u / tau`` and ``B`` ignores per-row
  constants, so with ``u = w + logsumexp(u)``: ``dy/dtau = -B(y, w, tau)``;
  its VJP is the library's ``grad_tau``. A hard (straight-through) sample
  has the soft sample's derivatives; the soft sample is replayed from the
  saved logits and key rather than stored.
- Backward ``G = B(y, v, tau)``, linear in ``v`` with the symmetric matrix
  ``(diag(y) - y y^T) / tau``. For an upstream ``u``: ``dv = B(y, u, tau)``;
  ``dG_k/dy_j = (delta_kj (v_k - <v, y>) - y_k v_j) / tau`` so
  ``dy = (u * (v - <v, y>) - v * <u, y>) / tau``; ``dG/dtau = -G / tau`` so
  ``dtau = -<u, G> / tau`` (summed to ``tau``'s shape). The ``y`` cotangent
  flows on through the sample's own formula, since ``y`` is the sample.
- Temperature gradient ``T = -(1/tau) sum_k y_k (v_k - <v, y>) w_k`` per row:
  ``dT/dv = -B(y, w, tau)``;
  ``dT/dy_j = -((v_j - <v, y>) (w_j + 1) - v_j <y, w>) / tau`` (product rule
  on ``y_k``, ``<v, y>`` and ``ln y_k``), 0 where ``y_j = 0``;
  ``dT/dtau = -T / tau``.
- Hard sample with a gradient estimator (``gumbel_softmax_hard``): its
  reverse-mode formula is the estimator's, ``E(v)``, computed by the
  library (``gumbel._estimators``) from the saved logits, key and sampled
  classes. Each estimator is ``E(v) = M v`` with ``M`` a sum of softmax
  Jacobians ``diag(p) - p p^T`` (scaled), a symmetric matrix, so its
  forward-mode formula is ``E`` applied to the logits' tangent. No
  temperature gradient (the estimators define none), and no double
  backward: an estimator is not the derivative of the hard sample, so its
  own derivative is not defined by it.
- Relaxed Bernoulli ``y = sigmoid((l + L) / tau)``: ``dy/dl = y (1 - y) / tau``
  (the library's backward ``R(y, v, tau) = v y (1 - y) / tau``) and
  ``dy/dtau = -y (1 - y) logit(y) / tau = -R(y, logit(y), tau)``, since
  ``(l + L) / tau = logit(y)``. The library has no ``grad_tau`` for it, so
  the temperature's VJP ``-sum R(y, v, tau) logit(y)`` is written with torch
  operations on ``y`` (autograd differentiates them again).
- Its backward ``G = R(y, v, tau)``: ``dv = R(y, u, tau)``,
  ``dy = u v (1 - 2y) / tau``, ``dtau = -<u, G> / tau``.
"""

from __future__ import annotations

import inspect
import operator
from typing import Any, Callable, Optional

import torch
from torch import Tensor
from torch.autograd import forward_ad

from . import _ops

__all__ = [
    "gumbel_softmax",
    "gumbel_softmax_backward",
    "gumbel_softmax_grad_tau",
    "gumbel_softmax_hard",
    "relaxed_bernoulli",
    "relaxed_bernoulli_backward",
]

Grad = Optional[Tensor]


_PLAIN = (torch.Tensor, torch.nn.Parameter)


def _eager_route(tensors: tuple[Tensor, ...]) -> Optional[bool]:
    """In plain eager mode (CPU tensors of the base types, no torch.func
    transform, no torch-function or dispatch mode that would want to see
    the operator): whether a derivative can be asked for (grad mode on and
    an input requiring grad, or a forward-mode level open). Else None."""
    if torch._C._are_functorch_transforms_active() or torch._C._is_torch_function_mode_enabled() or torch._C._len_torch_dispatch_stack():
        return None
    grad = False
    for a in tensors:
        if type(a) not in _PLAIN or not a.is_cpu:
            return None
        grad = grad or a.requires_grad
    if forward_ad._current_level >= 0:
        return True
    return grad and torch.is_grad_enabled()


def _differentiable(
    name: str, setup_context: Callable[..., None], backward: Callable[..., Any], jvp: Callable[..., Tensor], ops: Any = _ops
) -> Callable[..., Tensor]:
    """Registers ``backward`` on the operator ``gumbel::name`` (defined in the
    module ``ops``, ``_ops`` or ``_head_ops``) and returns a
    callable running it with both modes of differentiation, by one of
    three routes that share the kernel and every formula:

    - compiling, exporting or ``torch.jit.trace``: the operator itself (with
      its registered ``backward``; Dynamo does not trace a Function that has
      a ``jvp``);
    - plain eager mode (see :func:`_eager_route`): the kernel, directly when
      no derivative can be asked for, else through a Function with
      ``forward(ctx, ...)``. This route skips
      the dispatcher and the argument binding that a Function with
      ``setup_context`` does on every call, tens of microseconds on small
      tensors;
    - otherwise (``torch.func`` transforms, meta or fake tensors, tensor
      subclasses, modes): a Function with ``setup_context`` and
      ``generate_vmap_rule`` around the operator, which torch.func needs.
    """
    op = getattr(ops, name)
    kernel = _ops.kernel(name)
    op.register_autograd(backward, setup_context=setup_context)
    title = name.title().replace("_", "")
    doc = f"``gumbel::{name}`` with its reverse- and forward-mode derivatives."

    def transformable_forward(*args: Any) -> Tensor:
        return op(*args)

    transformable = type(
        title,
        (torch.autograd.Function,),
        {
            "forward": staticmethod(transformable_forward),
            "setup_context": staticmethod(setup_context),
            "backward": staticmethod(backward),
            "jvp": staticmethod(jvp),
            "generate_vmap_rule": True,
            "__doc__": doc,
        },
    )

    def eager_forward(ctx: Any, *args: Any) -> Tensor:
        out = kernel(*args)
        setup_context(ctx, args, out)
        return out

    eager = type(
        title + "Eager",
        (torch.autograd.Function,),
        {"forward": staticmethod(eager_forward), "backward": staticmethod(backward), "jvp": staticmethod(jvp), "__doc__": doc},
    )

    params = inspect.signature(kernel).parameters.values()
    tensor_args = operator.itemgetter(*[i for i, p in enumerate(params) if p.annotation in (Tensor, "Tensor")])

    def call(*args: Any) -> Tensor:
        if torch.compiler.is_compiling() or torch.jit.is_tracing():
            return op(*args)
        route = _eager_route(tensor_args(args))
        if route is None:
            return transformable.apply(*args)
        return eager.apply(*args) if route else kernel(*args)

    call.__name__ = call.__qualname__ = name
    call.__doc__ = kernel.__doc__
    return call


def _save(ctx: Any, *tensors: Tensor) -> None:
    ctx.save_for_backward(*tensors)
    if forward_ad._current_level >= 0 or torch._C._are_functorch_transforms_active():
        ctx.save_for_forward(*tensors)  # for jvp, which runs only then


def _dot(a: Tensor, b: Tensor, dim: int) -> Tensor:
    """``<a, b>`` per row, keeping the class dimension (size 1)."""
    return (a * b).sum(dim, keepdim=True)


def _to_tau(x: Tensor, dim: int, tau: Tensor) -> Tensor:
    """Per-element terms summed to ``tau``'s shape (per row, then over the
    rows that share an entry of ``tau``)."""
    return x.sum(dim, keepdim=True).sum_to_size(tau.shape)


def _log0(y: Tensor) -> Tensor:
    """``ln y`` with 0 where ``y = 0`` (no NaN in its own derivative either)."""
    return torch.log(torch.where(y > 0, y, torch.ones_like(y)))


def _add(*terms: Optional[Tensor]) -> Tensor:
    out = None
    for t in terms:
        if t is not None:
            out = t if out is None else out + t
    assert out is not None  # jvp runs only when some input has a tangent
    return out


# -- Gumbel-Softmax sample ----------------------------------------------------


def _sample_setup(ctx: Any, inputs: tuple[Any, ...], output: Tensor) -> None:
    logits, tau, hard, dim, key = inputs
    ctx.hard, ctx.dim = hard, dim
    if hard:
        _save(ctx, logits, tau, key)  # the soft sample is replayed, not stored
    else:
        _save(ctx, output, tau)


def _soft(ctx: Any) -> tuple[Tensor, Tensor]:
    """The soft sample and the temperature of a forward call."""
    if ctx.hard:
        logits, tau, key = ctx.saved_tensors
        return gumbel_softmax(logits, tau, False, ctx.dim, key), tau
    y, tau = ctx.saved_tensors
    return y, tau


def _sample_backward(ctx: Any, grad: Tensor) -> tuple[Grad, Grad, None, None, None]:
    y, tau = _soft(ctx)
    g_logits = gumbel_softmax_backward(y, grad, tau, ctx.dim) if ctx.needs_input_grad[0] else None
    g_tau = gumbel_softmax_grad_tau(y, grad, tau, ctx.dim) if ctx.needs_input_grad[1] else None
    return g_logits, g_tau, None, None, None


def _sample_jvp(ctx: Any, d_logits: Grad, d_tau: Grad, *_: Any) -> Tensor:
    y, tau = _soft(ctx)
    return _add(
        None if d_logits is None else gumbel_softmax_backward(y, d_logits, tau, ctx.dim),
        None if d_tau is None else -gumbel_softmax_backward(y, _log0(y), tau, ctx.dim) * d_tau,
    )


gumbel_softmax = _differentiable("gumbel_softmax", _sample_setup, _sample_backward, _sample_jvp)


# -- its backward: G = B(y, v, tau) --------------------------------------------


def _backward_setup(ctx: Any, inputs: tuple[Any, ...], output: Tensor) -> None:
    y, v, tau, dim = inputs
    ctx.dim = dim
    _save(ctx, y, v, tau, output)


def _backward_backward(ctx: Any, u: Tensor) -> tuple[Grad, Grad, Grad, None]:
    y, v, tau, g = ctx.saved_tensors
    d = ctx.dim
    dy = (u * (v - _dot(v, y, d)) - v * _dot(u, y, d)) / tau if ctx.needs_input_grad[0] else None
    dv = gumbel_softmax_backward(y, u, tau, d) if ctx.needs_input_grad[1] else None
    dtau = -_to_tau(u * g, d, tau) / tau if ctx.needs_input_grad[2] else None
    return dy, dv, dtau, None


def _backward_jvp(ctx: Any, dy: Grad, dv: Grad, dtau: Grad, *_: Any) -> Tensor:
    y, v, tau, g = ctx.saved_tensors
    d = ctx.dim
    return _add(
        None if dy is None else (dy * (v - _dot(v, y, d)) - y * _dot(v, dy, d)) / tau,
        None if dv is None else gumbel_softmax_backward(y, dv, tau, d),
        None if dtau is None else -g * dtau / tau,
    )


gumbel_softmax_backward = _differentiable("gumbel_softmax_backward", _backward_setup, _backward_backward, _backward_jvp)


# -- its temperature gradient: T ------------------------------------------------


def _grad_tau_dy(y: Tensor, v: Tensor, tau: Tensor, dim: int) -> Tensor:
    """``dT_row/dy`` per element (0 where ``y = 0``)."""
    w = _log0(y)
    dy = -((v - _dot(v, y, dim)) * (w + 1) - v * _dot(y, w, dim)) / tau
    return torch.where(y > 0, dy, torch.zeros_like(dy))


def _grad_tau_setup(ctx: Any, inputs: tuple[Any, ...], output: Tensor) -> None:
    y, v, tau, dim = inputs
    ctx.dim = dim
    _save(ctx, y, v, tau, output)


def _grad_tau_backward(ctx: Any, a: Tensor) -> tuple[Grad, Grad, Grad, None]:
    y, v, tau, t = ctx.saved_tensors
    d = ctx.dim
    dy = a * _grad_tau_dy(y, v, tau, d) if ctx.needs_input_grad[0] else None
    dv = -a * gumbel_softmax_backward(y, _log0(y), tau, d) if ctx.needs_input_grad[1] else None
    dtau = -a * t / tau if ctx.needs_input_grad[2] else None
    return dy, dv, dtau, None


def _grad_tau_jvp(ctx: Any, dy: Grad, dv: Grad, dtau: Grad, *_: Any) -> Tensor:
    y, v, tau, t = ctx.saved_tensors
    d = ctx.dim
    return _add(
        None if dy is None else _to_tau(_grad_tau_dy(y, v, tau, d) * dy, d, tau),
        None if dv is None else -_to_tau(gumbel_softmax_backward(y, _log0(y), tau, d) * dv, d, tau),
        None if dtau is None else -t * dtau / tau,
    )


gumbel_softmax_grad_tau = _differentiable("gumbel_softmax_grad_tau", _grad_tau_setup, _grad_tau_backward, _grad_tau_jvp)


# -- hard sample with a gradient estimator --------------------------------------


def _index(y: Tensor, dim: int) -> Tensor:
    """The sampled classes of the one-hot ``y`` (int64, ``y``'s shape without
    ``dim``; zeros when ``y`` is empty, where no backward call is made)."""
    if y.dim() == 0:
        return torch.zeros((), dtype=torch.int64, device=y.device)
    if y.numel() == 0:
        d = _ops.dim_index(y.dim(), dim)
        return torch.zeros(y.shape[:d] + y.shape[d + 1 :], dtype=torch.int64, device=y.device)
    return y.argmax(dim)


def _hard_setup(ctx: Any, inputs: tuple[Any, ...], output: Tensor) -> None:
    logits, tau, tau_backward, dim, key, estimator, draws, gap = inputs
    ctx.dim, ctx.estimator, ctx.draws, ctx.gap = dim, estimator, draws, gap
    _save(ctx, logits, tau, tau_backward, key, _index(output, dim))


def _estimate(ctx: Any, v: Tensor) -> Tensor:
    """The estimator's gradient ``E(v)`` for the saved forward call."""
    logits, tau, tau_backward, key, index = ctx.saved_tensors
    d, name = ctx.dim, ctx.estimator
    if name == "st":
        return _ops.straight_through_backward(logits, v, tau_backward, d, key)
    if name == "reinmax":
        return _ops.reinmax_backward(logits, index, v, tau, d)
    if name == "gapped_st":
        return _ops.gapped_st_backward(logits, index, v, tau, d, ctx.gap)
    return _ops.gumbel_rao_backward(logits, index, v, tau, d, ctx.draws, key)


def _hard_backward(ctx: Any, grad: Tensor) -> tuple[Grad, ...]:
    g_logits = _estimate(ctx, grad) if ctx.needs_input_grad[0] else None
    return (g_logits,) + (None,) * 7


def _hard_jvp(ctx: Any, d_logits: Grad, *_: Any) -> Tensor:
    if d_logits is None:
        raise ValueError("a gradient estimator has no derivative with respect to the temperature")
    return _estimate(ctx, d_logits)


gumbel_softmax_hard = _differentiable("gumbel_softmax_hard", _hard_setup, _hard_backward, _hard_jvp)


# -- relaxed Bernoulli sample -------------------------------------------------


def _logit(y: Tensor) -> Tensor:
    """``(logits + L) / tau`` recovered from a soft sample in ``(0, 1)``."""
    return torch.log(y) - torch.log1p(-y)


def _bernoulli_setup(ctx: Any, inputs: tuple[Any, ...], output: Tensor) -> None:
    logits, tau, hard, key = inputs
    ctx.hard = hard
    if hard:
        _save(ctx, logits, tau, key)
    else:
        _save(ctx, output, tau)


def _bernoulli_soft(ctx: Any) -> tuple[Tensor, Tensor]:
    if ctx.hard:
        logits, tau, key = ctx.saved_tensors
        return relaxed_bernoulli(logits, tau, False, key), tau
    y, tau = ctx.saved_tensors
    return y, tau


def _bernoulli_backward(ctx: Any, grad: Tensor) -> tuple[Grad, Grad, None, None]:
    y, tau = _bernoulli_soft(ctx)
    g = relaxed_bernoulli_backward(y, grad, tau)
    g_tau = -(g * _logit(y)).sum() if ctx.needs_input_grad[1] else None
    return (g if ctx.needs_input_grad[0] else None), g_tau, None, None


def _bernoulli_jvp(ctx: Any, d_logits: Grad, d_tau: Grad, *_: Any) -> Tensor:
    y, tau = _bernoulli_soft(ctx)
    return _add(
        None if d_logits is None else relaxed_bernoulli_backward(y, d_logits, tau),
        None if d_tau is None else -relaxed_bernoulli_backward(y, _logit(y), tau) * d_tau,
    )


relaxed_bernoulli = _differentiable("relaxed_bernoulli", _bernoulli_setup, _bernoulli_backward, _bernoulli_jvp)


# -- its backward: G = R(y, v, tau) --------------------------------------------


def _bernoulli_backward_setup(ctx: Any, inputs: tuple[Any, ...], output: Tensor) -> None:
    y, v, tau = inputs
    _save(ctx, y, v, tau, output)


def _bernoulli_backward_backward(ctx: Any, u: Tensor) -> tuple[Grad, Grad, Grad]:
    y, v, tau, g = ctx.saved_tensors
    dy = u * v * (1 - 2 * y) / tau if ctx.needs_input_grad[0] else None
    dv = relaxed_bernoulli_backward(y, u, tau) if ctx.needs_input_grad[1] else None
    dtau = -(u * g).sum() / tau if ctx.needs_input_grad[2] else None
    return dy, dv, dtau


def _bernoulli_backward_jvp(ctx: Any, dy: Grad, dv: Grad, dtau: Grad) -> Tensor:
    y, v, tau, g = ctx.saved_tensors
    return _add(
        None if dy is None else v * (1 - 2 * y) * dy / tau,
        None if dv is None else relaxed_bernoulli_backward(y, dv, tau),
        None if dtau is None else -g * dtau / tau,
    )


relaxed_bernoulli_backward = _differentiable(
    "relaxed_bernoulli_backward", _bernoulli_backward_setup, _bernoulli_backward_backward, _bernoulli_backward_jvp
)
