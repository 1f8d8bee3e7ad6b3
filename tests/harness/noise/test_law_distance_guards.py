"""Guards of the stated total-variation distances: a certificate lowers p_lower by them, so
a distance that is too small (or negative) is a false guarantee."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from harness.noise.base import approximation_distance
from harness.noise.coordinatewise import SymmetricLaw
from harness.noise.mixed_norm import max_law


@pytest.mark.parametrize("bad", [-0.1, -1e-12, -math.inf])
def test_a_negative_tv_bound_is_refused(bad):
    # a negative distance would RAISE p_lower (sum of the parts), so it must be an error
    with pytest.raises(ValueError):
        approximation_distance("noise", {"table": {"tv_bound": bad}})
    with pytest.raises(ValueError):
        approximation_distance("noise", {"a": {"tv_bound": 0.01}, "b": {"tv_bound": bad}})


@pytest.mark.parametrize("k,dim", [(1.0, 2), (2.0, 3), (0.5, 8), (3.5, 4)])
def test_max_law_bound_covers_the_atoms_at_the_spline_ends(k, dim):
    # quantile_from_logs clips U beyond the splines' first/last node to that node: the
    # produced law has atoms of mass exp(x_0) and exp(-y_last) there, while the exact law
    # of t = log M is continuous, so the TV distance is at least their sum.
    law = max_law(k, dim)
    atoms = math.exp(law._lower.x[0]) + math.exp(-law._upper.x[-1])
    assert law.tv_bound >= atoms


def test_symmetric_law_ppf_inverts_its_cdf_and_has_the_lomax_median():
    # the closed form for |z| ~ Lomax(a, s) is F^{-1}(u) = s ((1 - u)^{-1/a} - 1)

    a, s = 5.0, 0.5
    law = SymmetricLaw(stats.lomax(a, scale=s))
    q = np.array([0.1, 0.25, 0.5, 0.75, 0.9, 0.99])
    u = np.abs(2 * q - 1)
    want = np.sign(q - 0.5) * s * ((1 - u) ** (-1 / a) - 1)
    assert np.allclose(law.ppf(q), want, rtol=1e-12, atol=1e-15)
    assert np.allclose(law.cdf(law.ppf(q)), q, rtol=1e-12)
