"""ExpInf noise ``~ ||z||_inf^{-j} exp(-(||z||_inf/s)^k)``: sampler law, moments, parameters."""

import math

import numpy as np
import pytest
import torch
from scipy import stats
from scipy.special import gammaln

from harness.noise import ExpInf
from tests.harness.noise import noise_checks as nc


@pytest.mark.parametrize(
    "scale,k,j,dim",
    [(0.5, 1.0, 0.0, 1), (0.5, 1.0, 0.0, 4), (0.3, 2.0, 1.0, 6), (1.0, 0.6, 0.0, 3)],
)
def test_law_and_moments(scale, k, j, dim):
    noise = ExpInf(scale, k, j, dim)
    z = nc.samples(noise)
    a = (dim - j) / k
    radial = scale**2 * math.exp(gammaln(a + 2 / k) - gammaln(a))
    # One coordinate is +-r, the other d - 1 are uniform on [-r, r]: E||V||^2 = (d + 2)/3.
    nc.check_moments(noise, z, radial * (dim + 2) / 3)
    r = np.abs(z).max(axis=1)
    nc.check_ks((r / scale) ** k, stats.gamma(a).cdf, noise.name + " linf radius")
    if dim > 1:
        # Given r, z is uniform on the cube's surface: a non-maximal coordinate / r ~ U(-1, 1).
        idx = np.argmax(np.abs(z), axis=1)
        other = np.where(idx == 0, z[:, 1], z[:, 0]) / r
        nc.check_ks(other, stats.uniform(-1, 2).cdf, noise.name + " face")
        counts = np.bincount(idx, minlength=dim)  # the maximal coordinate is uniform
        assert stats.chisquare(counts).pvalue > 1e-3
    nc.check_log_prob_differences(
        noise, z[:50], lambda x: -j * np.log(np.abs(x).max(1)) - (np.abs(x).max(1) / scale) ** k
    )


def test_float32_tail():
    for noise in (ExpInf(0.5, 1.0, 0.0, 3), ExpInf(0.5, 2.0, 1.0, 4)):
        nc.check_float32_tail(noise)
        G = torch.zeros(2, noise.dim, dtype=torch.float32)
        assert torch.isfinite(noise.transform(G)).all()


def test_contracts_and_matching():
    noise = ExpInf(0.4, 1.0, 0.0, 5)
    nc.check_transform_contract(noise)
    nc.check_spec_round_trip(noise)
    m = ExpInf.matched(0.25, 64)
    assert math.isclose(m.second_moment(), 64 * 0.25**2, rel_tol=1e-12)


def test_rejects_bad_parameters():
    for kwargs in (dict(k=0.0, j=0.0), dict(k=1.0, j=3.0), dict(k=1.0, j=float("nan"))):
        with pytest.raises(ValueError):
            ExpInf(1.0, dim=3, **kwargs)
    with pytest.raises(TypeError):
        ExpInf(1.0, k=1.0, j=None, dim=3)
