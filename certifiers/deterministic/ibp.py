"""Interval bound propagation, IBP (Gowal et al. 2018, "On the effectiveness of interval
bound propagation for training verifiably robust models").

The input box ``[l, u]`` is pushed through the network layer by layer
(``certifiers.deterministic.ops``): an affine layer maps centre ``c`` and radius ``r`` to
``W c + b`` and ``|W| r``, a monotone layer (ReLU, pooling) maps ``[l, u]`` to
``[f(l), f(u)]``. The margins ``z_y - z_j`` are bounded through the last linear layer
directly (Gowal et al., Sec. 3): with ``h`` in ``[l_h, u_h]`` before the trailing affine
layers ``z = A h + a``, the margin ``(e_y - e_j)^T (A h + a)`` is bounded from below by
``c_j^T A c_h - |c_j^T A| r_h + c_j^T a``. This is never looser than subtracting logit
bounds, ``l_y - u_j = c_j^T A c_h - (|A_y| + |A_j|) r_h + c_j^T a``, since
``|A_y - A_j| <= |A_y| + |A_j|``.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from certifiers.deterministic.base import DTYPES, DeterministicCertifier, input_box
from certifiers.deterministic.network import read_network
from certifiers.deterministic.ops import BoundState, Box, Chain, Op, concretize
from certifiers.registry import register


def sequence_of(network: Chain) -> list[Op]:
    """The operations of ``network`` one after the other, nested chains (a ``Sequential``
    inside a module, a traced ``forward`` calling one) opened up; residual blocks stay
    whole. Each keeps the input box the interval pass records for it."""
    out: list[Op] = []
    for op in network.ops:
        out += sequence_of(op) if isinstance(op, Chain) else [op]
    return out


def trailing_affine_start(ops: list[Op]) -> int:
    """Index in ``ops`` where the trailing run of affine operations begins (``len(ops)``
    when the last operation is not affine)."""
    start = len(ops)
    while start > 0 and ops[start - 1].affine:
        start -= 1
    return start


def folded_margins(network: Chain, spec: Tensor, state: BoundState, output: Box) -> Tensor:
    """Lower bounds of ``spec @ z`` from a recorded interval pass: ``spec`` is pushed back
    exactly through the trailing affine layers (``sequence_of``: also those of a nested
    ``Sequential``) and bounded over the box recorded before them (over the output box
    when the last layer is not affine)."""
    ops = sequence_of(network)
    start = trailing_affine_start(ops)
    if start == len(ops):
        return concretize(spec, output)
    lam, bias = Chain(ops[start:], network.where).backward(spec, state)
    return concretize(lam, state.input_of(ops[start])) + bias


def interval_pass(network: Chain, box: Box) -> tuple[BoundState, Box]:
    """IBP through the whole network: the recorded state and the output box."""
    state = BoundState(box.lower.dtype, box)
    return state, network.interval(box, state, None)


@register("ibp")
class IBP(DeterministicCertifier):
    """Interval bound propagation with margins bounded through the last linear layer.
    Supports every layer ``certifiers.deterministic.network`` reads, max pooling and
    residual blocks included."""

    def bound_margins(self, network: Chain, box: Box, spec: Tensor) -> Tensor:
        state, output = interval_pass(network, box)
        return folded_margins(network, spec, state, output)


def logit_bounds(model: nn.Module, x: Tensor, eps: float, dtype: str = "float64") -> Box:
    """IBP bounds on the logits over the clipped l-inf box of radius ``eps`` around each
    input of ``x`` (no gradient). Subtracting them, ``l_y - u_j``, gives the naive
    margin bounds that ``IBP`` improves on."""
    network = read_network(model)
    with torch.no_grad():
        x = x.to(DTYPES[dtype])
        eps_t = torch.full((len(x),), float(eps), dtype=torch.float64, device=x.device)
        return interval_pass(network, input_box(x, eps_t))[1]
