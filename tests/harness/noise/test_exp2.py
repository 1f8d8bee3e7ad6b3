"""Exp2 noise ``~ ||z||^{-j} exp(-(||z||/s)^k)``: sampler law, moments, parameters."""

import math

import numpy as np
import pytest
import torch
from scipy import stats
from scipy.special import gammaln

from harness.noise import Exp2, Gaussian
from tests.harness.noise import noise_checks as nc


@pytest.mark.parametrize(
    "scale,k,j,dim",
    [(0.5, 1.0, 0.0, 3), (0.8, 2.0, 0.0, 5), (0.3, 0.7, 2.5, 6), (1.0, 3.0, 1.0, 2)],
)
def test_law_and_moments(scale, k, j, dim):
    noise = Exp2(scale, k, j, dim)
    z = nc.samples(noise)
    a = (dim - j) / k
    moment = scale**2 * math.exp(gammaln(a + 2 / k) - gammaln(a))
    nc.check_moments(noise, z, moment)
    r = np.linalg.norm(z, axis=1)
    # The radial density ~ r^{d-1-j} exp(-(r/s)^k): (r/s)^k ~ Gamma((d - j)/k).
    nc.check_ks((r / scale) ** k, stats.gamma(a).cdf, noise.name + " radius")
    b = (dim - 1) / 2
    nc.check_ks((1 + z[:, 0] / r) / 2, stats.beta(b, b).cdf, noise.name + " direction")
    nc.check_log_prob_differences(
        noise,
        z[:50],
        lambda x: -j * np.log(np.linalg.norm(x, axis=1)) - (np.linalg.norm(x, axis=1) / scale) ** k,
    )


def test_k2_j0_is_the_gaussian_with_sigma_s_over_sqrt2():
    gen = torch.Generator().manual_seed(5)
    G = torch.randn(1000, 7, generator=gen, dtype=torch.float64)
    z = Exp2(0.6, 2.0, 0.0, 7).transform(G)
    g = Gaussian(0.6 / math.sqrt(2), 7).transform(G)
    assert torch.allclose(z, g, rtol=1e-10, atol=1e-12)
    m = Exp2.matched(0.25, 64, k=2.0, j=0.0)
    assert math.isclose(m.scale, 0.25 * math.sqrt(2), rel_tol=1e-12)


def test_float32_tail():
    for noise in (Exp2(0.5, 1.0, 0.0, 3), Exp2(0.5, 0.5, 1.0, 4)):
        nc.check_float32_tail(noise)
        G = torch.zeros(2, noise.dim, dtype=torch.float32)
        assert torch.equal(noise.transform(G), G)  # the zero row maps to 0, no NaN


def test_contracts_and_matching():
    noise = Exp2(0.4, 1.5, 0.5, 5)
    nc.check_transform_contract(noise)
    nc.check_spec_round_trip(noise)
    for k, j in [(1.0, 0.0), (0.5, 10.0)]:
        m = Exp2.matched(0.12, 64, k=k, j=j)
        assert math.isclose(m.second_moment(), 64 * 0.12**2, rel_tol=1e-12)


@pytest.mark.parametrize(
    "kwargs", [dict(k=0.0, j=0.0), dict(k=-1.0, j=0.0), dict(k=1.0, j=-0.5), dict(k=1.0, j=4.0)]
)
def test_rejects_bad_parameters(kwargs):
    with pytest.raises(ValueError):
        Exp2(1.0, dim=4, **kwargs)
