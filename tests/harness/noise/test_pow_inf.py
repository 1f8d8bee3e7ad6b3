"""PowInf noise ``~ (1 + ||z||_inf / s)^{-a}``: sampler law, moments, parameters."""

import math

import numpy as np
import pytest
from scipy import stats

from harness.noise import PowInf
from tests.harness.noise import noise_checks as nc


@pytest.mark.parametrize("scale,a,dim", [(0.5, 6.0, 2), (0.2, 12.0, 5), (1.0, 40.0, 8)])
def test_law_and_moments(scale, a, dim):
    noise = PowInf(scale, a, dim)
    z = nc.samples(noise)
    b = a - dim
    # t = r/s has density ~ t^{d-1}(1+t)^{-a} (beta prime (d, a-d)): E t^2 = d(d+1)/((b-1)(b-2)).
    radial = scale**2 * dim * (dim + 1) / ((b - 1) * (b - 2))
    nc.check_moments(noise, z, radial * (dim + 2) / 3)
    t = np.abs(z).max(axis=1) / scale
    nc.check_ks(t, stats.betaprime(dim, b).cdf, noise.name + " linf radius")
    nc.check_log_prob_differences(noise, z[:50], lambda x: -a * np.log1p(np.abs(x).max(1) / scale))


def test_heavy_tail_without_second_moment():
    noise = PowInf(0.5, 4.5, 3)
    assert noise.second_moment() == math.inf
    t = np.abs(nc.samples(noise, 20_000)).max(axis=1) / 0.5
    nc.check_ks(t, stats.betaprime(3, 1.5).cdf, "a - d = 1.5")
    with pytest.raises(ValueError):
        PowInf.matched(0.25, 3, a=4.5)


def test_float32_tail():
    for noise in (PowInf(0.5, 6.0, 3), PowInf(0.5, 3.2, 3)):
        nc.check_float32_tail(noise)


def test_contracts_and_matching():
    noise = PowInf(0.4, 9.0, 5)
    nc.check_transform_contract(noise)
    nc.check_spec_round_trip(noise)
    m = PowInf.matched(0.25, 64, a=100.0)
    assert math.isclose(m.second_moment(), 64 * 0.25**2, rel_tol=1e-12)


def test_rejects_bad_parameters():
    with pytest.raises(ValueError):
        PowInf(1.0, 3.0, 3)  # a must exceed dim
    with pytest.raises(ValueError):
        PowInf(0.0, 5.0, 3)
