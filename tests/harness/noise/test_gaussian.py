import math

import numpy as np
import pytest
import torch
from scipy import stats

from harness.noise import Gaussian, from_spec


@pytest.mark.parametrize(
    "kwargs",
    [dict(sigma=0, dim=3), dict(sigma=-1, dim=3), dict(sigma=float("nan"), dim=3),
     dict(sigma=float("inf"), dim=3), dict(sigma=0.5, dim=0), dict(sigma=0.5, dim=2.0),
     dict(sigma="0.5", dim=3), dict(sigma=True, dim=3)],
)  # fmt: skip
def test_bad_parameters(kwargs):
    with pytest.raises((ValueError, TypeError)):
        Gaussian(**kwargs)


def test_spec_round_trip_and_name():
    g = Gaussian(0.25, 64)
    assert from_spec(g.spec()) == g
    assert g.name == "gaussian(dim=64,sigma=0.25)"


def test_transform_law_and_log_prob():
    g = Gaussian(0.5, 4)
    z = g.sample(200_000, torch.Generator().manual_seed(0))
    # ||z||^2 / sigma^2 ~ chi^2_4
    stat = (z.pow(2).sum(1) / 0.25).numpy()
    assert stats.kstest(stat, stats.chi2(df=4).cdf).pvalue > 1e-3
    lp = g.log_prob(torch.tensor([[1.0, 0.0, 0.0, 0.0]]))
    assert float(lp) == pytest.approx(-1 / (2 * 0.25))
    assert g.second_moment() == pytest.approx(4 * 0.25)


def test_transform_checks_shape_and_supports_in_place():
    g = Gaussian(2.0, 3)
    with pytest.raises(ValueError):
        g.transform(torch.zeros(5, 4))
    G = torch.ones(2, 3)
    out = g.transform(G, out=G)
    assert out.data_ptr() == G.data_ptr() and torch.all(G == 2.0)


def test_perturb_equals_x_plus_transform():
    g = Gaussian(0.3, 5)
    G = torch.randn(7, 5)
    x = torch.arange(5.0)
    out = torch.empty(7, 5)
    assert torch.allclose(g.perturb(x, G, out), x + g.transform(G))
    assert math.isclose(float(g.transform(G).std()), 0.3 * float(G.std()), rel_tol=1e-5)
    assert np.isfinite(g.log_prob(G).numpy()).all()
