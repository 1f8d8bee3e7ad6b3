"""Laplace noise: sampler law, moments, float32 tails, log density, parameters."""

import math

import numpy as np
import pytest
import torch
from scipy import stats

from harness.noise import Laplace
from tests.harness.noise import noise_checks as nc


@pytest.mark.parametrize("scale,dim", [(0.5, 1), (0.25, 3), (1.7, 8)])
def test_law_and_moments(scale, dim):
    noise = Laplace(scale, dim)
    z = nc.samples(noise)
    nc.check_moments(noise, z, 2.0 * dim * scale**2)
    law = stats.laplace(scale=scale)
    nc.check_ks(z[:, 0], law.cdf, noise.name)
    nc.check_ks(z[:, -1], law.cdf, noise.name + " last coordinate")
    nc.check_log_prob_differences(noise, z[:50], lambda x: law.logpdf(x).sum(axis=1))


def test_float32_input_has_the_same_law():
    noise = Laplace(0.3, 2)
    z = nc.samples(noise, dtype=torch.float32)
    nc.check_ks(z[:, 1], stats.laplace(scale=0.3).cdf, "float32")


def test_tail_is_exact_beyond_float32_saturation():
    """Exact where float32 Phi(G) saturates (|G| > 5.4), beyond the base draws' reach
    (|G| <= 8.57) up to |G| = 12.8 in float32 and 37 in float64; flat and finite beyond."""
    noise = Laplace(1.0, 1)
    nc.check_float32_tail(noise)
    # P(Z > z) = exp(-z)/2 must equal P(G > g) = Phi(-g): z = -log(2 Phi(-g)).
    for dtype, g in (
        (torch.float32, np.array([5.5, 6.0, 8.0, 8.57, 12.0, 12.8])),
        (torch.float64, np.array([5.5, 8.57, 20.0, 37.0])),
    ):
        z = noise.transform(torch.tensor(g[:, None], dtype=dtype)).double().numpy()[:, 0]
        expected = -np.log(2.0) - stats.norm.logsf(g)
        assert np.allclose(z, expected, rtol=2e-6 if dtype == torch.float32 else 1e-12)
        assert np.all(np.diff(z) > 0)
    far = noise.transform(torch.tensor([[13.0], [20.0], [1e30]], dtype=torch.float32))
    assert torch.isfinite(far).all() and torch.all(far[1:] >= far[:-1])


def test_contracts_and_matching():
    noise = Laplace(0.4, 5)
    nc.check_transform_contract(noise)
    nc.check_spec_round_trip(noise)
    m = Laplace.matched(0.25, 64)
    assert math.isclose(m.second_moment(), 64 * 0.25**2) and m.dim == 64


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf")])
def test_rejects_bad_scale(bad):
    with pytest.raises(ValueError):
        Laplace(bad, 3)


def test_rejects_bad_types():
    with pytest.raises(TypeError):
        Laplace("0.5", 3)
    with pytest.raises(TypeError):
        Laplace(0.5, 3.0)
    with pytest.raises(ValueError):
        Laplace(0.5, 0)
