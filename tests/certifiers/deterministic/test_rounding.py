"""float64 rounds to nearest, not outward: a margin's bound can exceed the exact minimum
by a few units of 1e-16 of the logits' scale, so a margin certifies only above
``ROUNDING_SLACK (1 + max_j |z_j(x)|)``. Checked against the exact minimum over the box,
in rational arithmetic, of linear models tuned to put it within 1e-14 of 0 (without the
slack, about one case in thirteen certified a box whose exact minimum is not positive),
on ties, and on margins just below and above the slack."""

from __future__ import annotations

from fractions import Fraction

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

import certifiers
from certifiers.deterministic.base import ROUNDING_SLACK

DIM = 4


def _exact_minimum(w: list[Fraction], bias: Fraction, x: torch.Tensor, eps: float) -> Fraction:
    """The minimum of ``w . u + bias`` over the real box ``[x - eps, x + eps] ∩ [0, 1]``."""
    total = bias
    for wi, xi in zip(w, x.tolist(), strict=True):
        lo = max(Fraction(0), Fraction(xi) - Fraction(eps))
        hi = min(Fraction(1), Fraction(xi) + Fraction(eps))
        total += wi * (lo if wi > 0 else hi)
    return total


@settings(max_examples=150, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    target=st.floats(-1e-14, 1e-14),
    name=st.sampled_from(["ibp", "crown"]),
)
def test_a_margin_certifies_only_where_its_exact_minimum_is_positive(seed, target, name):
    gen = torch.Generator().manual_seed(seed)
    weight = torch.randn(2, DIM, generator=gen, dtype=torch.float64)
    bias = torch.randn(2, generator=gen, dtype=torch.float64)
    x = torch.rand(DIM, generator=gen, dtype=torch.float64)
    eps = float(torch.rand(1, generator=gen, dtype=torch.float64)) * 0.3
    w = [Fraction(float(a)) - Fraction(float(b)) for a, b in zip(weight[0], weight[1], strict=True)]
    gap = _exact_minimum(w, Fraction(float(bias[0])) - Fraction(float(bias[1])), x, eps)
    bias[0] = float(Fraction(float(bias[0])) - gap + Fraction(target))
    exact = _exact_minimum(w, Fraction(float(bias[0])) - Fraction(float(bias[1])), x, eps)
    model = nn.Linear(DIM, 2).double().eval()
    with torch.no_grad():
        model.weight.copy_(weight)
        model.bias.copy_(bias)
    certified = certifiers.get(name).certify(model, x[None], [0], eps).certified
    if bool(certified[0]):
        assert exact > 0, f"certified with an exact minimum margin of {float(exact):.3g}"


def _constant_margin(margin: float) -> nn.Module:
    """Logits ``(1 + margin, 1, -5)`` everywhere: margin ``margin`` over every box."""
    model = nn.Sequential(nn.Flatten(), nn.Linear(DIM, 3)).double().eval()
    with torch.no_grad():
        model[1].weight.zero_()
        model[1].bias.copy_(torch.tensor([1.0 + margin, 1.0, -5.0], dtype=torch.float64))
    return model


@pytest.mark.parametrize("name", ["ibp", "crown"])
@pytest.mark.parametrize(
    ("margin", "certified"),
    [(0.0, False), (0.25 * ROUNDING_SLACK, False), (8.0 * ROUNDING_SLACK, True), (0.5, True)],
)
def test_a_margin_below_the_rounding_slack_certifies_nothing(name, margin, certified):
    """Logits of scale 1, so the slack is ``ROUNDING_SLACK (1 + 1 + margin)``: a tie or a
    margin below it certifies no box and no radius, one above it the whole cube."""
    model = _constant_margin(margin)
    x = torch.rand(3, 1, 2, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    y = torch.zeros(3, dtype=torch.long)
    with torch.no_grad():
        assert (model(x).argmax(1) == 0).all()  # argmax takes the first of a tie
    certifier = certifiers.get(name)
    for eps in (0.0, 0.25, 1.0):
        assert certifier.certify(model, x, y, eps).certified.tolist() == [certified] * 3
    radius = certifier.certified_radius(model, x, y)
    assert radius.tolist() == [1.0 if certified else 0.0] * 3
