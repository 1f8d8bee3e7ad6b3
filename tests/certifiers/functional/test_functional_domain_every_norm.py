"""The generalized Gaussian's domain (``dim >= 2`` and ``k <= dim - 2``, Zhang et al. 2020)
is enforced for every norm, not only l2: outside it ``supports`` is False and ``radius``
raises ``UnsupportedError`` (it must not reach the l2 table's own ValueError)."""

from __future__ import annotations

import pytest

import certifiers
from certifiers.base import UnsupportedError
from harness.noise import GeneralizedGaussian

OUTSIDE = [GeneralizedGaussian(1.0, 2.5, 4), GeneralizedGaussian(1.0, 0.5, 1)]


@pytest.mark.parametrize("noise", OUTSIDE, ids=lambda n: n.name)
@pytest.mark.parametrize("norm", ["l1", "l2", "linf"])
def test_outside_the_domain_every_norm_is_refused(noise, norm):
    c = certifiers.get("functional")
    assert not c.supports(noise, norm)
    with pytest.raises(UnsupportedError):
        c.radius(noise, 0.9, norm)
