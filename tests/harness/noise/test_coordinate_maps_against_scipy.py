"""Value by value, the coordinate-wise families produce F^{-1}(Phi(G)) for the law their
docstrings state, computed here in scipy's tail form (log_ndtr), for |G| over the whole
range base draws reach (<= 8.57) and a little beyond, in float64 (to 1e-12) and in float32
(the sampler's dtype; to a few float32 ulps of the exact value at the float32 G). The
generalized Laplace is checked row by row: z = scale x T'/T with T' the Gamma(d - k)
quantile at the Gamma(d) probability of T = ||x||_1 (scipy)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import special, stats

from harness.noise import GeneralizedLaplace, Laplace, Pareto, UniformCube
from harness.noise.batch import Batch

MAGS = np.concatenate([np.linspace(1e-3, 1.0, 50), np.linspace(1.0, 8.6, 200), [9.0, 10.0, 12.0]])
G64 = np.concatenate([MAGS, -MAGS])


def _laplace(noise, g):
    return np.sign(g) * noise.scale * -(math.log(2.0) + special.log_ndtr(-np.abs(g)))


def _pareto(noise, g):
    return (
        np.sign(g)
        * noise.scale
        * np.expm1(-(math.log(2.0) + special.log_ndtr(-np.abs(g))) / noise.a)
    )


def _cube(noise, g):
    return noise.half_width * special.erf(g / math.sqrt(2.0))


CASES = [
    (Laplace(0.7, 1), _laplace),
    (Pareto(0.7, 5.0, 1), _pareto),
    (Pareto(0.3, 2.5, 1), _pareto),
    (UniformCube(0.7, 1), _cube),
    (GeneralizedLaplace(0.7, 0.0, 1), _laplace),
]


def _through_sampler_paths(noise, G):
    """transform(G) and perturb(0, Batch(G), out): the sampler's path."""
    z = noise.transform(G)
    out = torch.empty_like(G)
    noise.prepare("cpu")
    noise.perturb(torch.zeros(G.shape[1], dtype=G.dtype), Batch(G.clone()), out=out)
    return z, out


@pytest.mark.parametrize("noise,exact", CASES, ids=[n.name for n, _ in CASES])
def test_float64_map_is_exact(noise, exact):
    G = torch.from_numpy(G64)[:, None]
    want = exact(noise, G64)
    for z in _through_sampler_paths(noise, G):
        np.testing.assert_allclose(z[:, 0].numpy(), want, rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("noise,exact", CASES, ids=[n.name for n, _ in CASES])
def test_float32_map_is_exact_to_a_few_ulps(noise, exact):
    G = torch.from_numpy(G64).to(torch.float32)[:, None]
    g = G[:, 0].double().numpy()
    want = exact(noise, g)
    # float32 erfc/log near |G| ~ 0 lose relative precision in the difference 1 - erfc:
    # allow an absolute error of a few ulps of the coordinate scale there
    scale = getattr(noise, "scale", None) or noise.half_width
    for z in _through_sampler_paths(noise, G):
        np.testing.assert_allclose(z[:, 0].double().numpy(), want, rtol=8e-7 * 8, atol=4e-7 * scale)


@pytest.mark.parametrize("dim,k", [(5, 1.5), (64, 16.0), (3072, 768.0)])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_generalized_laplace_rows(dim, k, dtype):
    noise = GeneralizedLaplace(0.5, k, dim)
    rng = np.random.default_rng(0)
    G = torch.from_numpy(rng.standard_normal((200, dim))).to(dtype)
    g = G.double().numpy()
    x = -(math.log(2.0) + special.log_ndtr(-np.abs(g)))  # Laplace(1) magnitudes
    T = x.sum(1)
    lo, up = stats.gamma(dim).cdf(T), stats.gamma(dim).sf(T)
    Tp = np.where(lo < 0.5, stats.gamma(dim - k).ppf(lo), stats.gamma(dim - k).isf(up))
    want = np.sign(g) * noise.scale * x * (Tp / T)[:, None]
    rtol = 1e-9 if dtype == torch.float64 else 2e-5
    for z in _through_sampler_paths(noise, G):
        np.testing.assert_allclose(z.double().numpy(), want, rtol=rtol, atol=1e-6 * noise.scale)
