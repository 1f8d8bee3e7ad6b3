"""Uniform l2-ball noise: sampler law, moments, support, parameters."""

import math

import numpy as np
import pytest
import torch
from scipy import stats

from harness.noise import UniformBall
from tests.harness.noise import noise_checks as nc


@pytest.mark.parametrize("radius,dim", [(1.0, 1), (0.7, 2), (2.0, 5), (1.0, 30)])
def test_law_and_moments(radius, dim):
    noise = UniformBall(radius, dim)
    z = nc.samples(noise)
    nc.check_moments(noise, z, radius**2 * dim / (dim + 2.0))
    r = np.linalg.norm(z, axis=1)
    # The radius of a uniform point of the d-ball has CDF (r/R)^d.
    nc.check_ks((r / radius) ** dim, stats.uniform().cdf, noise.name + " radius")
    if dim >= 2:  # the direction is uniform: (1 + cos)/2 ~ Beta((d-1)/2, (d-1)/2)
        b = (dim - 1) / 2
        nc.check_ks((1 + z[:, 0] / r) / 2, stats.beta(b, b).cdf, noise.name + " direction")
    assert np.all(r <= radius * (1 + 1e-12))
    assert np.all(np.isfinite(noise.log_prob(torch.as_tensor(z)).numpy()))


def test_log_prob_is_minus_inf_off_support():
    noise = UniformBall(1.0, 3)
    z = torch.tensor([[0.0, 0.0, 0.0], [0.6, 0.8, 0.0], [0.6, 0.81, 0.0]], dtype=torch.float64)
    lp = noise.log_prob(z)
    assert lp[0] == 0.0 and lp[1] == 0.0 and lp[2] == -math.inf


def test_float32_tail_and_zero_row():
    noise = UniformBall(0.5, 4)
    nc.check_float32_tail(noise)
    z = noise.transform(torch.zeros(2, 4, dtype=torch.float32))
    assert torch.equal(z, torch.zeros(2, 4))


def test_contracts_and_matching():
    noise = UniformBall(1.1, 7)
    nc.check_transform_contract(noise)
    nc.check_spec_round_trip(noise)
    m = UniformBall.matched(0.25, 64)
    assert math.isclose(m.second_moment(), 64 * 0.25**2) and math.isclose(m.radius, 0.25 * 66**0.5)


def test_rejects_bad_parameters():
    with pytest.raises(ValueError):
        UniformBall(-1.0, 2)
    with pytest.raises(TypeError):
        UniformBall(1.0, "2")
