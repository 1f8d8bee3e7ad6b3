"""Equal noises hash equally (the contract of ``__eq__`` and ``__hash__``, on which the
caches keyed by a noise's name rely): a parameter of -0.0 is the parameter 0.0."""

from __future__ import annotations

import pytest

from harness.noise.generalized_gaussian import GeneralizedGaussian
from harness.noise.generalized_laplace import GeneralizedLaplace
from harness.noise.mixed_norm import MixedNorm


@pytest.mark.parametrize("cls", [GeneralizedGaussian, GeneralizedLaplace, MixedNorm])
def test_a_signed_zero_shape_is_the_same_noise(cls):
    plus, minus = cls(0.5, 0.0, 16), cls(0.5, -0.0, 16)
    assert plus == minus
    assert hash(plus) == hash(minus)
    assert plus.name == minus.name
    assert len({plus, minus}) == 1
