"""Uniform cube noise: sampler law, moments, support, parameters."""

import math

import numpy as np
import pytest
import torch
from scipy import stats

from harness.noise import UniformCube
from tests.harness.noise import noise_checks as nc


@pytest.mark.parametrize("half_width,dim", [(0.5, 1), (1.2, 4), (0.1, 9)])
def test_law_and_moments(half_width, dim):
    noise = UniformCube(half_width, dim)
    z = nc.samples(noise)
    nc.check_moments(noise, z, dim * half_width**2 / 3.0)
    law = stats.uniform(loc=-half_width, scale=2 * half_width)
    nc.check_ks(z[:, 0], law.cdf, noise.name)
    nc.check_ks(np.abs(z).max(axis=1) / half_width, lambda t: t**dim, noise.name + " linf")
    assert np.all(np.isfinite(noise.log_prob(torch.as_tensor(z)).numpy()))


def test_log_prob_is_minus_inf_off_support():
    noise = UniformCube(0.5, 2)
    z = torch.tensor([[0.0, 0.0], [0.5, -0.5], [0.5001, 0.0], [0.0, -0.7]], dtype=torch.float64)
    lp = noise.log_prob(z)
    assert lp[0] == lp[1] == 0.0 and lp[2] == -math.inf and lp[3] == -math.inf


def test_float32_tail_stays_on_the_closed_cube():
    noise = UniformCube(0.3, 3)
    nc.check_float32_tail(noise)
    G = torch.tensor([[9.0, -9.0, 40.0]], dtype=torch.float32)
    z = noise.transform(G)
    assert torch.all(z.abs() <= torch.tensor(0.3, dtype=torch.float32))
    assert torch.isfinite(noise.log_prob(z)).all()


def test_contracts_and_matching():
    noise = UniformCube(0.4, 6)
    nc.check_transform_contract(noise)
    nc.check_spec_round_trip(noise)
    m = UniformCube.matched(0.5, 64)
    assert math.isclose(m.second_moment(), 64 * 0.25) and math.isclose(m.half_width, 0.5 * 3**0.5)


@pytest.mark.parametrize("bad", [0.0, -0.2, float("inf")])
def test_rejects_bad_half_width(bad):
    with pytest.raises(ValueError):
        UniformCube(bad, 2)
