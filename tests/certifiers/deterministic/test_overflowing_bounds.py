"""Hidden values near the float64 maximum must not turn a margin's lower bound into +inf
(the centre (l + u) / 2 of a box overflows): an infinite bound certifies nothing."""

import math

import pytest
import torch
from torch import nn

import certifiers
from certifiers.deterministic import CROWN, IBP


def huge_hidden_network() -> nn.Module:
    """``h = relu(1e307 x + 1.5e308)`` in [1.5e308, 1.6e308] on [0, 1];
    ``z0 = 1e-300 h`` in [1.5e8, 1.6e8], ``z1 = 1.55e8``: class 1 wins for small x."""
    net = nn.Sequential(nn.Linear(1, 1), nn.ReLU(), nn.Linear(1, 2)).double().eval()
    with torch.no_grad():
        net[0].weight.fill_(1e307)
        net[0].bias.fill_(1.5e308)
        net[2].weight.copy_(torch.tensor([[1e-300], [0.0]], dtype=torch.float64))
        net[2].bias.copy_(torch.tensor([0.0, 1.55e8], dtype=torch.float64))
    return net


@pytest.mark.parametrize("name", ["ibp", "crown", "crown-full"])
def test_an_overflowing_centre_certifies_nothing(name):
    certifier = CROWN(intermediate="crown") if name == "crown-full" else certifiers.get(name)
    net = huge_hidden_network()
    x = torch.tensor([[0.9]], dtype=torch.float64)
    corner = torch.zeros(1, 1, dtype=torch.float64)  # in the box of radius 1 around x
    with torch.no_grad():
        z = net(corner)
    true_margin = float(z[0, 0] - z[0, 1])
    assert true_margin < 0  # -5e6: the corner is classified 1
    bound = float(certifier.margin_bounds(net, x, [0], 1.0).detach()[0, 1])
    assert bound <= true_margin
    assert not bool(certifier.certify(net, x, [0], 1.0).certified[0])
    assert float(certifier.certified_radius(net, x, [0])[0]) < 0.9


class Overflowing(IBP):
    """Interval bounds whose margins overflowed to +inf (a plugin's arithmetic, say)."""

    def bound_margins(self, network, box, spec):
        return torch.full(spec.shape[:2], math.inf, dtype=spec.dtype)


def test_a_margin_bounded_by_plus_infinity_certifies_nothing():
    net = huge_hidden_network()
    x = torch.tensor([[0.9], [0.2]], dtype=torch.float64)
    certifier = Overflowing()
    assert not certifier.certify(net, x, [0, 1], 0.1).certified.any()
    assert (certifier.certified_radius(net, x, [0, 1]) == 0).all()
