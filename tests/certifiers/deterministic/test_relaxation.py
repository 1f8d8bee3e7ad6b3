"""The pieces every deterministic bound rests on, checked on their own: the input box and
CROWN's ReLU relaxation. A random network rarely meets the case where a loose or
swapped relaxation line matters (an unstable neuron with ``u < -l`` that a negative
coefficient reads at its upper end), so the relaxation is checked pointwise over its
whole interval, and on a one-neuron network whose exact minimum margin is known."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

import certifiers
from certifiers.deterministic.base import input_box
from certifiers.deterministic.ops import BoundState, Box, ReLU, relu_relaxation
from tests.certifiers.deterministic.networks import Block

GRID = 401
ends = st.floats(-10.0, 10.0, allow_nan=False)


def _intervals(ab: list[tuple[float, float]]) -> tuple[torch.Tensor, torch.Tensor]:
    """Lower and upper ends of the intervals spanned by the pairs."""
    pairs = torch.tensor(ab, dtype=torch.float64).reshape(-1, 2)
    return pairs.min(dim=1).values, pairs.max(dim=1).values


@given(x=st.lists(st.floats(0.0, 1.0), min_size=1, max_size=8), eps=st.floats(0.0, 2.0))
def test_the_input_box_is_the_clipped_linf_ball(x, eps):
    """Written out in numpy: ``[max(x - eps, 0), min(x + eps, 1)]`` per coordinate."""
    xs = np.array(x)
    box = input_box(torch.tensor(xs).reshape(1, -1), torch.tensor([eps], dtype=torch.float64))
    np.testing.assert_array_equal(box.lower.numpy()[0], np.maximum(xs - eps, 0.0))
    np.testing.assert_array_equal(box.upper.numpy()[0], np.minimum(xs + eps, 1.0))


@given(ab=st.lists(st.tuples(ends, ends), min_size=1, max_size=6))
def test_the_relaxation_lines_hold_over_the_whole_interval(ab):
    """``alpha x <= relu(x) <= s x + t`` at every point of a grid of ``[l, u]``, ends
    included, with ``alpha`` in [0, 1] (a lower line through the origin)."""
    lower, upper = _intervals(ab)
    alpha, slope, intercept = relu_relaxation(Box(lower.unsqueeze(0), upper.unsqueeze(0)))
    t = torch.linspace(0.0, 1.0, GRID, dtype=torch.float64).unsqueeze(1)
    xs = lower + t * (upper - lower)  # (GRID, neurons)
    relu = xs.clamp(min=0)
    tol = 1e-12 * (1 + xs.abs())
    assert ((0 <= alpha) & (alpha <= 1)).all()
    assert (alpha * xs <= relu + tol).all()
    assert (relu <= slope * xs + intercept + tol).all()


@given(
    ab=st.lists(st.tuples(ends, ends), min_size=1, max_size=6),
    coefficients=st.lists(st.floats(-5.0, 5.0, allow_nan=False), min_size=6, max_size=6),
)
def test_relu_backward_bounds_every_linear_reading_from_below(ab, coefficients):
    """For coefficients ``lam`` of either sign, ``ReLU.backward`` gives ``(lam', b)`` with
    ``lam . relu(x) >= lam' . x + b`` for every ``x`` of the box. Both sides are sums
    over neurons, so this holds when the smallest gaps of the neurons, each over a grid
    of its interval, add up to at least ``b``."""
    lower, upper = _intervals(ab)
    k = lower.numel()
    lam = torch.tensor(coefficients[:k], dtype=torch.float64).reshape(1, 1, k)
    op = ReLU("relu")
    op.index = 0
    state = BoundState(torch.float64, Box(lower.unsqueeze(0), upper.unsqueeze(0)))
    state.inputs[0] = Box(lower.unsqueeze(0), upper.unsqueeze(0))
    new, bias = op.backward(lam.clone(), state)
    t = torch.linspace(0.0, 1.0, GRID, dtype=torch.float64).unsqueeze(1)
    xs = lower + t * (upper - lower)
    exact = lam[0, 0] * xs.clamp(min=0)
    linear = new[0, 0] * xs
    slack = (exact - linear).min(dim=0).values.sum()
    assert float(slack) >= float(bias.reshape(-1)[0]) - 1e-9 * (1 + float(exact.abs().max()))


def _one_neuron() -> nn.Module:
    """``h = 3x - 2`` on ``x`` in [0, 1], so ``h`` in [-2, 1] (unstable, ``u < -l``);
    logits ``(0, relu(h))``. With label 0 the margin ``-relu(h)`` is smallest, -1, at
    ``x = 1``."""
    net = nn.Sequential(nn.Flatten(), nn.Linear(1, 1), nn.ReLU(), nn.Linear(1, 2))
    net = net.double().eval()
    with torch.no_grad():
        net[1].weight.fill_(3.0)
        net[1].bias.fill_(-2.0)
        net[3].weight.copy_(torch.tensor([[0.0], [1.0]]))
        net[3].bias.zero_()
    return net


@pytest.mark.parametrize("name", ["ibp", "crown"])
def test_the_one_neuron_margin_bound_is_below_its_exact_minimum(name):
    x = torch.tensor([[0.5]], dtype=torch.float64)
    bound = certifiers.get(name).margin_bounds(_one_neuron(), x, torch.tensor([0]), 0.5).detach()
    assert float(bound[0, 1]) <= -1.0 + 1e-12
    assert float(bound[0, 1]) >= -3.0  # and not vacuous: -relu(3x - 2) >= -1 > -3


def test_crown_takes_the_identity_lower_line_where_u_exceeds_minus_l():
    """A hand-computed case where CROWN's choice of lower line shows. x in [0, 1] (x = 0.5,
    eps = 0.5), h = 4x - 1 in [-1, 3], z_0 = relu(h) - h/2 + 1/4, z_1 = 0: the exact
    minimum margin is 1/4 (at h = 0). With the lower line relu(h) >= h (alpha = 1, as
    u = 3 >= -l = 1) CROWN bounds it by h/2 + 1/4 >= -1/4; with relu(h) >= 0 it would
    get -h/2 + 1/4 >= -5/4, which is IBP's bound ([0, 3] + [-3/2, 1/2] + 1/4)."""
    pre, short, head = nn.Linear(1, 1), nn.Linear(1, 1, bias=False), nn.Linear(1, 2)
    with torch.no_grad():
        pre.weight.fill_(4.0)
        pre.bias.fill_(-1.0)
        short.weight.fill_(-0.5)
        head.weight.copy_(torch.tensor([[1.0], [0.0]]))
        head.bias.copy_(torch.tensor([0.25, 0.0]))
    model = nn.Sequential(Block(pre, nn.ReLU(), short, nn.Identity()), head).double().eval()
    x = torch.tensor([[0.5]], dtype=torch.float64)
    ibp = certifiers.get("ibp").margin_bounds(model, x, [0], 0.5)[0, 1]
    crown = certifiers.get("crown").margin_bounds(model, x, [0], 0.5)[0, 1]
    assert float(ibp.detach()) == pytest.approx(-1.25, abs=1e-12)
    assert float(crown.detach()) == pytest.approx(-0.25, abs=1e-12)
