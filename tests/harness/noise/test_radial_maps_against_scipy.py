"""Row by row, the radius each radial family produces equals the quantile of the law its
docstring states (computed here with scipy's distributions, not with the family's own
``radius_quantile``), at base-draw rows whose statistic (||G||_2^2 or ||G||_inf) sits at
probabilities from 1e-12 to 1 - 1e-12, at d = 5, 64 and 3072. A radius off by 1e-6 in
relative terms anywhere (a table interpolated the wrong way, a shape d vs d - 1, a
constant off by a percent, a tail branch evaluated at the wrong probability) fails here,
whereas KS tests of 20k samples only see ~1% errors in the bulk."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import special, stats

from harness.noise import Exp2, ExpInf, Gaussian, GeneralizedGaussian, PowInf, UniformBall

PROBS = np.concatenate(
    [np.logspace(-12, -1, 12), np.linspace(0.15, 0.85, 8), 1 - np.logspace(-1, -12, 12)]
)
RTOL = 1e-7  # the tables state max_log_error ~1e-12; 1e-7 leaves room for float64 rounding


def _rows_with_sq_norm(d: int, lower: np.ndarray, seed: int = 0) -> torch.Tensor:
    """Rows G whose ||G||^2 is the chi^2_d quantile at ``lower`` (both tails exact)."""
    upper = 1.0 - lower
    s = np.where(lower < 0.5, stats.chi2(d).ppf(lower), stats.chi2(d).isf(upper))
    u = np.random.default_rng(seed).standard_normal((lower.size, d))
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    return torch.from_numpy(u * np.sqrt(s)[:, None])


def _tail_probs(d: int, G: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    s = (G.double() ** 2).sum(1).numpy()
    return stats.chi2(d).cdf(s), stats.chi2(d).sf(s)


def _q(law, lower, upper):
    return np.where(lower < 0.5, law.ppf(lower), law.isf(upper))


SPHERICAL = []
for d in (5, 64, 3072):
    SPHERICAL += [
        (Gaussian(0.5, d), lambda n, lo, up: n.sigma * _q(stats.chi(n.dim), lo, up)),
        (
            GeneralizedGaussian(0.5, d / 4, d),
            lambda n, lo, up: n.sigma * _q(stats.chi(n.dim - n.k), lo, up),
        ),
        (
            GeneralizedGaussian(0.5, d - 1.5, d),
            lambda n, lo, up: n.sigma * _q(stats.chi(n.dim - n.k), lo, up),
        ),
        (
            Exp2(0.5, 1.0, 0.0, d),
            lambda n, lo, up: n.scale * _q(stats.gamma((n.dim - n.j) / n.k), lo, up) ** (1 / n.k),
        ),
        (
            Exp2(0.5, 0.7, 2.5, d),
            lambda n, lo, up: n.scale * _q(stats.gamma((n.dim - n.j) / n.k), lo, up) ** (1 / n.k),
        ),
        (
            UniformBall(0.5, d),
            lambda n, lo, up: (
                n.radius * np.exp(np.where(lo < 0.5, np.log(lo), np.log1p(-up)) / n.dim)
            ),
        ),
    ]


@pytest.mark.parametrize("noise,radius", SPHERICAL, ids=[n.name for n, _ in SPHERICAL])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_l2_radius_is_the_stated_quantile(noise, radius, dtype):
    G = _rows_with_sq_norm(noise.dim, PROBS).to(dtype)
    lo, up = _tail_probs(noise.dim, G)  # of the rows as given (float32-rounded or not)
    want = radius(noise, lo, up)
    z = noise.transform(G).double()
    got = torch.linalg.vector_norm(z, dim=1).numpy()
    rtol = RTOL if dtype == torch.float64 else 2e-6 * math.sqrt(noise.dim) + 1e-6
    np.testing.assert_allclose(got, want, rtol=rtol)
    # the direction is G's
    cos = (z * G.double()).sum(1) / (
        torch.linalg.vector_norm(z, dim=1) * torch.linalg.vector_norm(G.double(), dim=1)
    )
    assert torch.all((cos - 1).abs() < 1e-5)


def _linf_rows(d: int, lower: np.ndarray, seed: int = 0) -> torch.Tensor:
    """Rows whose ||G||_inf = m has F(m) = erf(m/sqrt2)^d = lower; the other coordinates
    anywhere in (-m, m)."""
    upper = 1.0 - lower
    # m from the tail that is accurate
    m = np.where(
        lower < 0.5,
        math.sqrt(2) * special.erfinv(np.exp(np.log(lower) / d)),
        math.sqrt(2) * special.erfcinv(-np.expm1(np.log1p(-upper) / d)),
    )
    rng = np.random.default_rng(seed)
    G = rng.uniform(-1, 1, (lower.size, d)) * 0.999 * m[:, None]
    G[np.arange(lower.size), rng.integers(0, d, lower.size)] = m * rng.choice(
        [-1.0, 1.0], lower.size
    )
    return torch.from_numpy(G)


def _linf_probs(d: int, G: torch.Tensor):
    m = G.double().abs().amax(1).numpy()
    log_u = d * np.log1p(-special.erfc(m / math.sqrt(2)))
    return np.exp(log_u), -np.expm1(log_u)


LINF = []
for d in (5, 64):
    LINF += [
        (
            ExpInf(0.5, 1.0, 0.0, d),
            lambda n, lo, up: n.scale * _q(stats.gamma((n.dim - n.j) / n.k), lo, up) ** (1 / n.k),
        ),
        (
            ExpInf(0.5, 2.0, 1.0, d),
            lambda n, lo, up: n.scale * _q(stats.gamma((n.dim - n.j) / n.k), lo, up) ** (1 / n.k),
        ),
        (
            PowInf(0.5, d + 4.0, d),
            lambda n, lo, up: n.scale * _q(stats.betaprime(n.dim, n.a - n.dim), lo, up),
        ),
        (
            PowInf(0.5, 2.0 * d + 8.0, d),
            lambda n, lo, up: n.scale * _q(stats.betaprime(n.dim, n.a - n.dim), lo, up),
        ),
    ]


@pytest.mark.parametrize("noise,radius", LINF, ids=[n.name for n, _ in LINF])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_linf_radius_and_surface_point_are_the_stated_ones(noise, radius, dtype):
    G = _linf_rows(noise.dim, PROBS).to(dtype)
    lo, up = _linf_probs(noise.dim, G)
    want = radius(noise, lo, up)
    z = noise.transform(G).double()
    got = z.abs().amax(1).numpy()
    rtol = RTOL if dtype == torch.float64 else 4e-6
    np.testing.assert_allclose(got, want, rtol=rtol)
    # the point on the cube surface is U / ||U||_inf with U = erf(G / sqrt 2)
    U = torch.erf(G.double() / math.sqrt(2))
    V = U / U.abs().amax(1, keepdim=True)
    np.testing.assert_allclose(
        (z / torch.from_numpy(got)[:, None]).numpy(), V.numpy(), atol=rtol * 4
    )
