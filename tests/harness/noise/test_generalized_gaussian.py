"""GeneralizedGaussian: parameters, the exact sampler (radial law, direction, k = 0 is the
Gaussian sample for sample), moments, log density, and the Gamma coupling it relies on."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import stats

from harness.noise import Gaussian, GeneralizedGaussian, from_spec
from harness.noise.numerics import couple_gamma


def _draws(n: int, d: int, seed: int = 0, dtype=torch.float64) -> torch.Tensor:
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def test_spec_round_trip_and_name():
    noise = GeneralizedGaussian(0.5, 3, 10)
    assert noise.k == 3.0 and isinstance(noise.k, float)
    assert from_spec(noise.spec()) == noise
    assert noise.name == "generalized_gaussian(dim=10,k=3.0,sigma=0.5)"


@pytest.mark.parametrize(
    "args", [(0.5, -1, 4), (0.5, 4, 4), (0.5, 5.5, 4), (0.5, float("nan"), 4), (0.0, 1, 4)]
)
def test_rejects_bad_parameters(args):
    with pytest.raises(ValueError):
        GeneralizedGaussian(*args)


@pytest.mark.parametrize("args", [(0.5, "1", 4), (0.5, True, 4), (0.5, 1, 4.0)])
def test_rejects_bad_types(args):
    with pytest.raises(TypeError):
        GeneralizedGaussian(*args)


@pytest.mark.parametrize("dim,k", [(64, 0), (64, 16), (64, 32), (3072, 3060)])
def test_matched_keeps_the_second_moment(dim, k):
    noise = GeneralizedGaussian.matched(0.25, dim, k=k)
    assert noise.sigma == pytest.approx(0.25 * math.sqrt(dim / (dim - k)), rel=1e-15)
    assert noise.second_moment() == pytest.approx(dim * 0.25**2, rel=1e-12)


@pytest.mark.parametrize("dim", [1, 5, 3072])
def test_k0_is_the_gaussian_sample_for_sample(dim):
    G = _draws(500, dim)
    z = GeneralizedGaussian(0.3, 0, dim).transform(G)
    ref = Gaussian(0.3, dim).transform(G)
    assert torch.allclose(z, ref, rtol=1e-13, atol=0)
    G32 = G.to(torch.float32)
    z32 = GeneralizedGaussian(0.3, 0, dim).transform(G32)
    assert z32.dtype == torch.float32
    assert torch.allclose(z32, 0.3 * G32, rtol=1e-6, atol=0)


@pytest.mark.parametrize("dim,k", [(2, 0), (2, 1.5), (5, 3), (64, 32), (64, 62), (3072, 3060)])
def test_radial_law_ks(dim, k):
    """||z||^2 / (2 sigma^2) ~ Gamma((dim - k) / 2) (KS), E||z||^2 = (dim - k) sigma^2."""
    sigma = 0.7
    n = 4000 if dim > 100 else 20000
    z = GeneralizedGaussian(sigma, k, dim).transform(_draws(n, dim, seed=dim))
    w = ((z * z).sum(1) / (2 * sigma**2)).numpy()
    assert stats.kstest(w, stats.gamma(a=(dim - k) / 2).cdf).pvalue > 1e-3
    r2 = 2 * sigma**2 * w
    assert abs(r2.mean() - (dim - k) * sigma**2) < 5 * r2.std() / math.sqrt(n)


@pytest.mark.parametrize("dim,k", [(3, 1), (10, 8), (200, 150)])
def test_direction_is_uniform(dim, k):
    """(1 + cos(z, e)) / 2 ~ Beta((d-1)/2, (d-1)/2) for a fixed unit vector e."""
    z = GeneralizedGaussian(1.0, k, dim).transform(_draws(20000, dim, seed=1)).numpy()
    e = np.random.default_rng(0).standard_normal(dim)
    e /= np.linalg.norm(e)
    c = z @ e / np.linalg.norm(z, axis=1)
    b = (dim - 1) / 2
    assert stats.kstest((1 + c) / 2, stats.beta(b, b).cdf).pvalue > 1e-3


def test_extreme_base_draws_stay_finite_and_monotone():
    """Base draws far in both radial tails (||G||^2 ~ chi2_50 at tail probabilities down
    to 1e-100 and beyond): the radius never becomes 0, inf or nan, is strictly increasing
    in ||G|| wherever the tail probability is representable, and non-decreasing beyond."""
    dim, k = 50, 40
    base = _draws(1, dim, seed=3)
    base = base / base.norm()
    chi = stats.chi(dim)
    inner = [chi.ppf(1e-100), chi.ppf(1e-30), chi.ppf(0.3), chi.isf(1e-30), chi.isf(1e-100)]
    norms = torch.tensor([1e-9, 1e-6, *inner, 200.0, 1e4], dtype=torch.float64)
    z = GeneralizedGaussian(1.0, k, dim).transform(norms[:, None] * base)
    r = z.norm(dim=1).numpy()
    assert np.all(np.isfinite(r)) and np.all(r > 0)
    assert np.all(np.diff(r) >= -1e-12 * r[1:])  # flat (up to rounding) beyond 1e-308
    assert np.all(np.diff(r[2:7]) > 0)


def test_out_in_place_and_perturb():
    noise = GeneralizedGaussian(0.5, 2, 6)
    G = _draws(7, 6, dtype=torch.float32)
    expected = noise.transform(G.clone())
    buf = G.clone()
    noise.transform(buf, out=buf)
    assert torch.equal(buf, expected)
    x = torch.rand(6)
    out = torch.empty(7, 6)
    noise.perturb(x, G, out)
    assert torch.allclose(out, expected + x)


def test_log_prob_formula():
    noise = GeneralizedGaussian(0.8, 2.5, 4)
    z = _draws(5, 4)
    r = z.norm(dim=1)
    expected = -2.5 * torch.log(r) - r**2 / (2 * 0.8**2)
    assert torch.allclose(noise.log_prob(z), expected, rtol=1e-12)


@pytest.mark.parametrize("a,b", [(1.0, 0.5), (2.5, 1.0), (1536.0, 6.0), (75264.0, 37632.0)])
def test_couple_gamma_is_exact_and_monotone(a, b):
    rng = np.random.default_rng(0)
    x = rng.gamma(a, size=20000)
    y = couple_gamma(x, a, b)
    assert stats.kstest(y, stats.gamma(b).cdf).pvalue > 1e-3
    order = np.argsort(x)
    assert np.all(np.diff(y[order]) >= 0)
    # far tails: no saturation (gammainc would round to 1 without the tail switch)
    far = np.array([stats.gamma(a).ppf(1e-100), stats.gamma(a).isf(1e-100)])
    tails = couple_gamma(far, a, b)
    assert np.all(np.isfinite(tails)) and tails[0] > 0 and tails[1] > b
    expected = stats.gamma(b).ppf(1e-100), stats.gamma(b).isf(1e-100)
    assert tails == pytest.approx(expected, rel=1e-8)
    assert np.array_equal(couple_gamma(x, a, a), x)
