"""GeneralizedLaplace: parameters, the exact sampler (l1 radius ~ Gamma(dim - k, scale),
direction uniform on the l1 sphere, k = 0 is i.i.d. Laplace), moments and log density."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import stats

from harness.noise import GeneralizedLaplace, from_spec


def _draws(n: int, d: int, seed: int = 0, dtype=torch.float64) -> torch.Tensor:
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def test_spec_round_trip_and_validation():
    noise = GeneralizedLaplace(0.5, 2, 10)
    assert from_spec(noise.spec()) == noise
    assert noise.name == "generalized_laplace(dim=10,k=2.0,scale=0.5)"
    for bad in [(0.5, -1, 3), (0.5, 3, 3), (0.0, 1, 3)]:
        with pytest.raises(ValueError):
            GeneralizedLaplace(*bad)


def test_k0_is_iid_laplace():
    """Every coordinate ~ Laplace(0, scale), also far in the tails (|G| up to 8 would
    saturate Phi(G) in float32; the transform works in the tail)."""
    b = 0.7
    z = GeneralizedLaplace(b, 0, 5).transform(_draws(20000, 5, seed=1)).numpy().ravel()
    assert stats.kstest(z, stats.laplace(scale=b).cdf).pvalue > 1e-3
    G = torch.tensor([[8.0, -8.0, 0.0]], dtype=torch.float32)
    far = GeneralizedLaplace(1.0, 0, 3).transform(G).numpy()[0]
    expected = -np.log(2 * stats.norm.sf(8.0))
    assert far[0] == pytest.approx(expected, rel=1e-6) and far[1] == pytest.approx(-expected)
    assert far[2] == 0.0


@pytest.mark.parametrize("dim,k", [(1, 0.5), (2, 1), (5, 4.5), (64, 32), (784, 700)])
def test_l1_radius_is_gamma(dim, k):
    """||z||_1 / scale ~ Gamma(dim - k) (KS) and E||z||_1 = (dim - k) scale."""
    b = 1.3
    z = GeneralizedLaplace(b, k, dim).transform(_draws(8000, dim, seed=dim))
    t = (z.abs().sum(1) / b).numpy()
    assert stats.kstest(t, stats.gamma(dim - k).cdf).pvalue > 1e-3
    n1 = b * t
    assert abs(n1.mean() - (dim - k) * b) < 5 * n1.std() / math.sqrt(n1.size)


@pytest.mark.parametrize("dim,k", [(3, 2), (40, 30)])
def test_direction_is_uniform_on_the_l1_sphere(dim, k):
    """|z_i| / ||z||_1 ~ Beta(1, dim - 1) for every coordinate, with fair signs, and the
    direction independent of the radius (Spearman correlation near 0)."""
    z = GeneralizedLaplace(1.0, k, dim).transform(_draws(10000, dim, seed=7)).numpy()
    n1 = np.abs(z).sum(1)
    share = np.abs(z[:, 0]) / n1
    assert stats.kstest(share, stats.beta(1, dim - 1).cdf).pvalue > 1e-3
    assert abs(np.sign(z).mean()) < 4 / math.sqrt(z.size)
    assert abs(stats.spearmanr(share, n1).statistic) < 4 / math.sqrt(len(n1))


@pytest.mark.parametrize("dim,k", [(10, 0), (64, 16), (64, 48)])
def test_matched_second_moment(dim, k):
    noise = GeneralizedLaplace.matched(0.25, dim, k=k)
    assert noise.second_moment() == pytest.approx(dim * 0.25**2, rel=1e-12)
    z = noise.transform(_draws(20000, dim, seed=3))
    r2 = (z * z).sum(1).numpy()
    assert abs(r2.mean() - dim * 0.25**2) < 5 * r2.std() / math.sqrt(r2.size)


def test_float32_out_and_log_prob():
    noise = GeneralizedLaplace(0.5, 3, 8)
    G = _draws(50, 8, dtype=torch.float32)
    expected = noise.transform(G.clone())
    assert expected.dtype == torch.float32
    buf = G.clone()
    noise.transform(buf, out=buf)
    assert torch.equal(buf, expected)
    z = _draws(5, 8)
    n1 = z.abs().sum(1)
    assert torch.allclose(noise.log_prob(z), -3 * torch.log(n1) - n1 / 0.5, rtol=1e-12)
