"""A margin that is negative in exact arithmetic must not certify, even when the network
computes it from large hidden values that cancel (float64 rounding of order 1e-16 of the
hidden values, not of the logits)."""

from fractions import Fraction

import pytest
import torch
from torch import nn

import certifiers
from certifiers.deterministic import CROWN
from certifiers.deterministic.testing import check_exact_at_zero
from tests.certifiers.deterministic.networks import Block

BIG = 2.0**40
DELTA = 1e-6


def cancelling_network(*tail: nn.Module) -> nn.Module:
    """``h = relu(x + BIG, BIG, x)``; ``z0 = h0 - h1`` (= x exactly), ``z1 = h2 + DELTA``:
    class 1 wins everywhere by DELTA, in exact arithmetic. ``tail`` follows (a ReLU, the
    identity on these positive logits, leaves the large values to earlier layers)."""
    net = nn.Sequential(nn.Linear(1, 3), nn.ReLU(), nn.Linear(3, 2), *tail).double().eval()
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([[1.0], [0.0], [1.0]], dtype=torch.float64))
        net[0].bias.copy_(torch.tensor([BIG, BIG, 0.0], dtype=torch.float64))
        net[2].weight.copy_(torch.tensor([[1.0, -1.0, 0.0], [0.0, 0.0, 1.0]], dtype=torch.float64))
        net[2].bias.copy_(torch.tensor([0.0, DELTA], dtype=torch.float64))
    return net


def exact_margin(net: nn.Module, x: float) -> Fraction:
    """``z0 - z1`` at ``x`` in exact rational arithmetic, from the network's own weights."""
    h = [Fraction(x)]
    for layer in net:
        if isinstance(layer, nn.ReLU):
            h = [max(v, Fraction(0)) for v in h]
            continue
        weight, bias = layer.weight.tolist(), layer.bias.tolist()
        h = [
            sum((Fraction(w) * v for w, v in zip(row, h, strict=True)), Fraction(b))
            for row, b in zip(weight, bias, strict=True)
        ]
    return h[0] - h[1]


def rounded_up_input() -> float:
    """An input at which float64 rounds ``x + BIG`` up by nearly half an ulp of BIG."""
    candidates = [0.5 + k * 2.0**-24 for k in range(1, 4096)]
    return max(candidates, key=lambda x: (x + BIG) - BIG - x)


@pytest.mark.parametrize("tail", [(), (nn.ReLU(),)], ids=["logits-last", "relu-last"])
@pytest.mark.parametrize("name", ["ibp", "crown", "crown-full"])
def test_cancelling_hidden_values_certify_no_negative_margin(name, tail):
    certifier = CROWN(intermediate="crown") if name == "crown-full" else certifiers.get(name)
    net = cancelling_network(*tail)
    x0 = rounded_up_input()
    assert exact_margin(net, x0) < 0  # class 0 is not the exact network's prediction
    x = torch.tensor([[x0]], dtype=torch.float64)
    assert not bool(certifier.certify(net, x, [0], 0.0).certified[0])
    assert float(certifier.certified_radius(net, x, [0])[0]) == 0.0


def cancelling_residual_block() -> nn.Module:
    """``body(x) = (x + BIG, x + DELTA)``, ``shortcut(x) = (-BIG, 0)``: the sum is ``(x, x +
    DELTA)``, so class 1 wins everywhere by DELTA in exact arithmetic, and the values that
    cancel live only inside the block's branches. The ReLU after the sum (the identity on
    these positive values) keeps the bounds from folding the block into the margins."""
    body, shortcut = nn.Linear(1, 2).double(), nn.Linear(1, 2).double()
    with torch.no_grad():
        body.weight.fill_(1.0)
        body.bias.copy_(torch.tensor([BIG, DELTA], dtype=torch.float64))
        shortcut.weight.zero_()
        shortcut.bias.copy_(torch.tensor([-BIG, 0.0], dtype=torch.float64))
    return Block(nn.Identity(), body, shortcut, nn.ReLU()).eval()  # ReLU: the sum is bounded


@pytest.mark.parametrize("name", ["ibp", "crown"])
def test_values_that_cancel_inside_a_residual_block_certify_no_negative_margin(name):
    block = cancelling_residual_block()
    x0 = rounded_up_input()
    parts = [
        [
            Fraction(w) * Fraction(x0) + Fraction(b)
            for w, b in zip(m.weight[:, 0].tolist(), m.bias.tolist(), strict=True)
        ]
        for m in (block.body, block.shortcut)
    ]
    z = [a + b for a, b in zip(*parts, strict=True)]
    assert z[0] - z[1] == -Fraction(DELTA)  # exact: class 1
    x = torch.tensor([[x0]], dtype=torch.float64)
    with torch.no_grad():
        assert int(block(x).argmax(1)) == 0  # float64 rounds it the other way
    certifier = certifiers.get(name)
    assert not bool(certifier.certify(block, x, [0], 0.0).certified[0])
    assert float(certifier.certified_radius(block, x, [0])[0]) == 0.0


def cancelling_weights(x0: float, x1: float) -> nn.Module:
    """``z0 = A x0 - A x1`` with ``A`` near 1e12 and inputs near 1/2: the products are 5e11
    and their difference about 2576, which float64 rounds by up to 6e-5; ``z1`` is the
    exact ``z0`` plus 1e-6, so class 1 wins by 1e-6 in exact arithmetic. A ReLU after the
    layer (the identity on these positive values) keeps the bounds from folding it."""
    a = 1e12 + 0.1
    exact = Fraction(a) * (Fraction(x0) - Fraction(x1))
    net = nn.Sequential(nn.Linear(2, 2), nn.ReLU()).double().eval()
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([[a, -a], [0.0, 0.0]], dtype=torch.float64))
        net[0].bias.copy_(torch.tensor([0.0, float(exact + Fraction(DELTA))], dtype=torch.float64))
    return net


@pytest.mark.parametrize("name", ["ibp", "crown"])
def test_large_weights_that_cancel_certify_no_negative_margin(name):
    x0, x1 = 0.5 + 2832 * 2.0**-40, 0.5  # float64 rounds A x0 - A x1 up by 3e-5 here
    net = cancelling_weights(x0, x1)
    weight, bias = net[0].weight.tolist(), net[0].bias.tolist()
    z = [Fraction(w0) * Fraction(x0) + Fraction(w1) * Fraction(x1) + Fraction(b)
         for (w0, w1), b in zip(weight, bias, strict=True)]  # fmt: skip
    assert z[0] - z[1] < 0  # exact: class 1
    x = torch.tensor([[x0, x1]], dtype=torch.float64)
    with torch.no_grad():
        assert int(net(x).argmax(1)) == 0  # float64 rounds it the other way
    certifier = certifiers.get(name)
    assert not bool(certifier.certify(net, x, [0], 0.0).certified[0])
    assert float(certifier.certified_radius(net, x, [0])[0]) == 0.0


@pytest.mark.parametrize("name", ["ibp", "crown"])
def test_the_kits_exact_at_zero_expects_the_same_slack(name):
    """The conformance kit's ``exact_at_zero`` takes the slack from the same scale as the
    certifier: where float64 logits put class 0 ahead by 1.2e-4 but hidden values of 2^40
    make that rounding, the kit expects no certificate, as the certifier gives none."""
    x = torch.tensor([[rounded_up_input()]], dtype=torch.float64)
    check_exact_at_zero(certifiers.get(name), cancelling_network(), x, [0])
