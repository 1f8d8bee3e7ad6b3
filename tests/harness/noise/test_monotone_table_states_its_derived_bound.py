"""The stated total variation of a MonotoneTable is the rigorous bound the module
docstring derives: 2 (cells) max|delta| plus the mass outside, not less."""

from __future__ import annotations

import pytest

from harness.noise import (
    Exp2,
    ExpInf,
    GeneralizedGaussian,
    GeneralizedLaplace,
    MixedNorm,
    UniformBall,
)

CASES = [
    (GeneralizedGaussian.matched(0.25, 64, k=16.0), lambda n: n.radius_table()),
    (Exp2.matched(0.25, 5, k=1.0, j=0.0), lambda n: n.radius_table()),
    (UniformBall.matched(0.25, 3072), lambda n: n.radius_table()),
    (ExpInf.matched(0.25, 5), lambda n: n.radius_table()),
    (MixedNorm.matched(0.25, 64, k=8.0), lambda n: n.max_table()),
    (GeneralizedLaplace.matched(0.25, 64, k=16.0), lambda n: n.l1_table()),
]


@pytest.mark.parametrize("noise,table", CASES, ids=[n.name for n, _ in CASES])
def test_stated_tv_is_the_derived_bound(noise, table):
    b = table(noise).bound
    derived = 2.0 * (b.nodes - 1) * b.max_probability_error + b.outside_mass
    assert b.tv_bound >= derived * (1 - 1e-12), b
    assert noise.law_distance() >= b.tv_bound * (1 - 1e-12)
