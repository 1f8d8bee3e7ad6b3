"""MixedNorm: parameters, the exact sampler (KS of ||z||_inf against its CDF integrated
independently with scipy.integrate.quad; the conditional law of the other coordinates),
k = 0 is the Gaussian, moments and the log density."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import integrate, special, stats

from harness.noise import Gaussian, MixedNorm, from_spec
from harness.noise.mixed_norm import MAX_MASS_BELOW_GRID, MaxLaw, max_law


def _draws(n: int, d: int, seed: int = 0, dtype=torch.float64) -> torch.Tensor:
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def reference_cdf(k: float, dim: int):
    """CDF of M = ||z||_inf / sigma, density ~ m^{-k} phi(m) (2 Phi(m) - 1)^{dim-1}, by
    adaptive quadrature (independent of the sampler's grid), normalized at the mode."""

    def log_f(m):
        return -k * np.log(m) - m * m / 2 + (dim - 1) * np.log(special.erf(m / np.sqrt(2)))

    grid = np.linspace(1e-3, 12, 4000)
    mode = grid[np.argmax(log_f(grid))]
    c = log_f(mode)

    def f(m):
        return np.exp(log_f(m) - c) if m > 0 else 0.0

    total = integrate.quad(f, 0, mode, limit=400)[0] + integrate.quad(f, mode, 40, limit=400)[0]

    def cdf(x):
        x = np.atleast_1d(x)
        out = np.empty(x.size)
        # integrate between sorted points and accumulate (one quad per gap)
        order = np.argsort(x)
        acc, prev = 0.0, 0.0
        for i in order:
            acc += integrate.quad(f, prev, x[i], limit=400)[0]
            prev = x[i]
            out[i] = acc / total
        return out

    return cdf


def test_spec_round_trip_and_validation():
    noise = MixedNorm(0.5, 2, 10)
    assert from_spec(noise.spec()) == noise
    for bad in [(0.5, -0.1, 3), (0.5, 3, 3), (-1.0, 1, 3)]:
        with pytest.raises(ValueError):
            MixedNorm(*bad)


def test_k_so_close_to_dim_that_the_law_leaves_its_table_is_refused():
    """With ``dim - k`` near 0 nearly all of ``||z||_inf / sigma`` lies below ``e^-60``,
    beyond the tabulated law (it failed inside scipy's spline); ``k <= dim - 0.5``, the
    bound the message gives, leaves below the grid at most ``MAX_MASS_BELOW_GRID``."""
    for dim, k in [(1, 0.999), (3, 2.9), (64, 63.9)]:
        with pytest.raises(ValueError, match=r"take k <= dim - 0.5"):
            MixedNorm(1.0, k, dim)
    from scipy import integrate

    for dim in (1, 2, 64, 3072):
        k = dim - 0.5
        max_law(k, dim)  # builds
        # P(M < e^-60) by scipy's quadrature of the density of t = log M, not the table's
        shift = MaxLaw.log_density_t_of(k, dim, np.linspace(-60.0, 4.5, 20001)).max()

        def density(t, k=k, dim=dim, shift=shift):
            return math.exp(float(MaxLaw.log_density_t_of(k, dim, np.array([t]))[0]) - shift)

        below = integrate.quad(density, -np.inf, -60.0)[0]
        rest = integrate.quad(density, -60.0, 4.5, limit=500)[0]
        rest += integrate.quad(density, 4.5, np.inf)[0]
        assert below / (below + rest) <= MAX_MASS_BELOW_GRID


def test_k0_is_the_gaussian_sample_for_sample():
    G = _draws(100, 12)
    assert torch.equal(MixedNorm(0.4, 0, 12).transform(G), Gaussian(0.4, 12).transform(G))


@pytest.mark.parametrize("dim,k", [(2, 1), (10, 5), (64, 32), (64, 63), (256, 250)])
def test_max_norm_ks_against_quadrature(dim, k):
    sigma = 0.3
    z = MixedNorm(sigma, k, dim).transform(_draws(3000, dim, seed=dim))
    M = (z.abs().amax(dim=1) / sigma).numpy()
    res = stats.kstest(M, reference_cdf(k, dim))
    assert res.pvalue > 1e-3


@pytest.mark.parametrize("dim,k", [(3, 2), (64, 40)])
def test_quantile_function_against_quadrature(dim, k):
    """The sampler's inverse CDF, at probabilities from 1e-12 to 1 - 1e-12, lands where the
    independently integrated CDF says (to 1e-7)."""
    law = max_law(k, dim)
    u = np.array([1e-12, 1e-6, 0.01, 0.3, 0.5, 0.7, 0.99])
    m = law.quantile_from_logs(np.log(u), np.log1p(-u))
    assert reference_cdf(k, dim)(m) == pytest.approx(u, rel=1e-7, abs=1e-12)
    s = np.array([1e-12, 1e-6])  # upper tail: 1 - u small
    m_hi = law.quantile_from_logs(np.log1p(-s), np.log(s))
    assert 1 - reference_cdf(k, dim)(m_hi) == pytest.approx(s, rel=1e-4)


def test_other_coordinates_are_truncated_normals():
    """Given M = m, the other coordinates are i.i.d. N(0, 1) truncated to [-m, m]:
    (Phi(z_i) - Phi(-m)) / (1 - 2 Phi(-m)) is uniform; the extreme coordinate's sign is fair."""
    dim, k = 6, 4.0
    z = MixedNorm(1.0, k, dim).transform(_draws(20000, dim, seed=5)).numpy()
    arg = np.abs(z).argmax(axis=1)
    m = np.abs(z).max(axis=1)
    others = np.ones_like(z, dtype=bool)
    others[np.arange(len(z)), arg] = False
    tail = special.ndtr(-m)[:, None]
    u = ((special.ndtr(z) - tail) / (1 - 2 * tail))[others]
    assert stats.kstest(u, "uniform").pvalue > 1e-3
    signs = np.sign(z[np.arange(len(z)), arg])
    assert abs(signs.mean()) < 4 / math.sqrt(len(z))
    counts = np.bincount(arg, minlength=dim)
    assert stats.chisquare(counts).pvalue > 1e-3


@pytest.mark.parametrize("dim,k", [(4, 3.5), (64, 32), (64, 48)])
def test_second_moment_and_matched(dim, k):
    """E||z||^2 = (dim - k) sigma^2: the closed form, the MaxLaw's own numerical integral and
    a Monte Carlo mean agree."""
    law = max_law(k, dim)
    assert law.second_moment == pytest.approx(dim - k, rel=1e-7)
    noise = MixedNorm.matched(0.25, dim, k=k)
    assert noise.second_moment() == pytest.approx(dim * 0.25**2, rel=1e-12)
    z = noise.transform(_draws(20000, dim, seed=2))
    r2 = (z * z).sum(1).numpy()
    assert abs(r2.mean() - dim * 0.25**2) < 5 * r2.std() / math.sqrt(r2.size)


def test_float32_in_place_and_log_prob():
    noise = MixedNorm(0.5, 3, 8)
    G = _draws(50, 8, dtype=torch.float32)
    expected = noise.transform(G.clone())
    assert expected.dtype == torch.float32
    buf = G.clone()
    noise.transform(buf, out=buf)
    assert torch.equal(buf, expected)
    z = _draws(5, 8)
    want = -3 * torch.log(z.abs().amax(1)) - (z * z).sum(1) / (2 * 0.25)
    assert torch.allclose(noise.log_prob(z), want, rtol=1e-12)
