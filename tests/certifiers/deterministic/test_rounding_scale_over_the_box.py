"""The rounding slack covers what a bound's computation meets anywhere in the box, not
only the forward at the input (crash-free soundness audit). References are exact: the
network's own float64 weights in rational arithmetic (``fractions``), or its float64
forward at a corner of the box where the margin is astronomically negative.

- Weights of 7e8 whose products cancel (``K1 M1 + K2 M2`` is about 0 of terms of 5e17):
  at a black image the forward meets magnitudes of 0 and 1, so a slack scaled by it
  accepted bounds of 1 that the float64 rounding of the cancelling coefficient (units of
  16) had lifted from an exact margin of -19 at the box's corner.
- Finite ReLU bounds near the float maximum: ``u - l`` overflowed to +inf, the upper
  slope ``u / (u - l)`` became 0, and CROWN claimed ``relu(g) <= 0`` on ``[-1e308,
  1e308]``."""

from fractions import Fraction
from unittest.mock import patch

import pytest
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st
from torch import nn

import certifiers
from certifiers.deterministic import CROWN
from certifiers.deterministic.base import ROUNDING_SLACK, box_scale
from certifiers.deterministic.network import read_network
from certifiers.deterministic.ops import AffineOp, largest_magnitude
from tests.certifiers.deterministic.networks import NetSpec, build, inputs, net_specs

M1, M2 = 655898541.7749872, -664656892.3292017
K1, K2 = 844909830.500102, 833776241.7754152
HUGE = 1e308
NAMES = ["ibp", "crown", "crown-full"]


def _certifier(name: str):
    return CROWN(intermediate="crown") if name == "crown-full" else certifiers.get(name)


def cancelling() -> nn.Module:
    """``z0 - z1 = (K1 M1 + K2 M2) u + 1`` on one input ``u``."""
    net = nn.Sequential(nn.Linear(1, 2, bias=False), nn.Linear(2, 2)).double().eval()
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([[M1], [M2]], dtype=torch.float64))
        net[1].weight.copy_(torch.tensor([[K1, K2], [0.0, 0.0]], dtype=torch.float64))
        net[1].bias.copy_(torch.tensor([1.0, 0.0], dtype=torch.float64))
    return net


def exact_margin(u: float) -> Fraction:
    return (Fraction(K1) * Fraction(M1) + Fraction(K2) * Fraction(M2)) * Fraction(u) + 1


@pytest.mark.parametrize("name", NAMES)
def test_cancelling_coefficients_certify_no_box_with_a_negative_exact_margin(name):
    certifier = _certifier(name)
    x = torch.zeros(1, 1, dtype=torch.float64)
    assert exact_margin(0.0) == 1 and exact_margin(1.0) < -18  # u = 1 is classified 1
    assert not bool(certifier.certify(cancelling(), x, [0], 1.0).certified[0])
    radius = float(certifier.certified_radius(cancelling(), x, [0])[0])
    assert exact_margin(radius) > 0, f"radius {radius}: exact margin {float(exact_margin(radius))}"


def overflowing() -> nn.Module:
    """``g = HUGE x1 - HUGE x2`` lies in ``[-HUGE, HUGE]`` on the cube; ``z0 = 1 -
    relu(g)``, ``z1 = 0``: at ``x = 0`` every magnitude of the forward is 0 or 1."""
    net = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 1), nn.ReLU(), nn.Linear(1, 2))
    net = net.double().eval()
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([[HUGE, 0.0], [0.0, HUGE]], dtype=torch.float64))
        net[0].bias.zero_()
        net[1].weight.copy_(torch.tensor([[1.0, -1.0]], dtype=torch.float64))
        net[1].bias.zero_()
        net[3].weight.copy_(torch.tensor([[-1.0], [0.0]], dtype=torch.float64))
        net[3].bias.copy_(torch.tensor([1.0, 0.0], dtype=torch.float64))
    return net


@pytest.mark.parametrize("name", NAMES)
def test_relu_bounds_near_the_float_maximum_bound_nothing_they_do_not_hold(name):
    certifier, net, eps = _certifier(name), overflowing(), 0.9
    x = torch.zeros(1, 2, dtype=torch.float64)
    with torch.no_grad():
        z = net(torch.tensor([[eps, 0.0]], dtype=torch.float64))  # a corner of the box
    true_margin = float(z[0, 0] - z[0, 1])
    assert true_margin < -1e307
    bound = float(certifier.margin_bounds(net, x, [0], eps).detach()[0, 1])
    assert bound <= true_margin, f"lower bound {bound:.3g} above the margin {true_margin:.3g}"
    assert not bool(certifier.certify(net, x, [0], eps).certified[0])
    assert float(certifier.certified_radius(net, x, [0])[0]) < eps


def test_the_scale_is_the_absolute_value_pass_over_the_cube():
    """Computed by hand for a two-layer ReLU network: ``S`` is the largest of ``|W1| 1 +
    |b1|`` and ``|W2| (|W1| 1 + |b1|) + |b2|`` (a ReLU keeps magnitudes), whatever the
    signs, which the forward at any one input can hide."""
    torch.manual_seed(3)
    net = nn.Sequential(nn.Linear(5, 7), nn.ReLU(), nn.Linear(7, 3)).double().eval()
    w1, b1 = net[0].weight.detach().abs(), net[0].bias.detach().abs()
    w2, b2 = net[2].weight.detach().abs(), net[2].bias.detach().abs()
    hidden = w1 @ torch.ones(5, dtype=torch.float64) + b1
    expected = max(float(hidden.max()), float((w2 @ hidden + b2).max()), 1.0)
    got = float(box_scale(read_network(net), (5,), torch.float64, torch.device("cpu")))
    assert got == pytest.approx(expected, rel=1e-12)
    slack = ROUNDING_SLACK * (1 + expected)
    x = torch.rand(4, 5, dtype=torch.float64)
    with torch.no_grad():
        labels = net(x).argmax(1)
    result = certifiers.get("ibp").certify(net, x, labels, 0.0)
    assert torch.equal(result.certified, result.worst_margin > slack)


def _exact_affine_scale(self: AffineOp, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``AffineOp.forward_with_scale`` with ``|A| |x|`` itself, where the reading check
    takes the cheaper ``max_i sum_j |A_ij| max_j |x_j|`` above it (which only widens the
    slack at the input, and can exceed the cube's scale: spec seed 556, 6.877 > 6.855,
    where ``|A| |x|`` met at most 4.68)."""
    out = self.forward(x)
    met = torch.maximum(largest_magnitude(out), largest_magnitude(self.apply_abs(x.abs())))
    return out, met


@settings(max_examples=40, deadline=None)
@given(spec=net_specs(), seed=st.integers(0, 2**31 - 1))
@example(spec=NetSpec(556, False, 2, 4, True, True, None, None, False, False, 2), seed=0)
def test_the_cube_scale_bounds_what_the_forward_meets_anywhere_in_the_cube(spec, seed):
    """Networks of every layer type read (convolutions, normalization, batch norm, pooling,
    residual blocks, dropout, traced arithmetic): the scale of the absolute-value pass is
    at least what the forward meets (every operation's input and output, and ``|A| |h|``)
    at random points and at vertices of the cube."""
    network = read_network(build(spec))
    shape = inputs(spec).shape[1:]
    cube = float(box_scale(network, shape, torch.float64, torch.device("cpu")))
    gen = torch.Generator().manual_seed(seed)
    points = torch.rand((16, *shape), generator=gen, dtype=torch.float64)
    points[8:] = points[8:].round()  # vertices
    with torch.no_grad(), patch.object(AffineOp, "forward_with_scale", _exact_affine_scale):
        _, met = network.forward_with_scale(points)
    assert float(met.max()) <= cube * (1 + 1e-12), (float(met.max()), cube)
