"""The device tables of the radial maps (``harness.noise.monotone_table``), checked
against the exact host maps (scipy quantiles) at independent random points: the stated
error bounds hold, the tables are monotone inside and outside their range, and the total
variation bound they state holds against the distance integrated directly from the
densities, and is far below Monte Carlo error."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from harness.noise import (
    Exp2,
    ExpInf,
    GeneralizedGaussian,
    GeneralizedLaplace,
    MixedNorm,
    PowInf,
    UniformBall,
)
from harness.noise.coupling import ChiSquareLaw, GammaLaw, GaussianMaxLaw
from harness.noise.mixed_norm import gaussian_max_logs, max_law
from harness.noise.numerics import couple_gamma


def _spherical(noise):
    law = ChiSquareLaw(noise.dim)
    return noise.radius_table(), lambda s: noise.radius_quantile(*law.tails(s)), 1.0


def _ball(noise):
    law = ChiSquareLaw(noise.dim)

    def minus_log_f(s):
        lower, upper = law.tails(s)
        with np.errstate(divide="ignore"):
            return np.where(lower <= 0.5, -np.log(lower), -np.log1p(-upper))

    return noise.radius_table(), minus_log_f, -1.0


def _linf(noise):
    law = GaussianMaxLaw(noise.dim)
    return noise.radius_table(), lambda m: noise.radius_quantile(*law.tails(m)), 1.0


def _mixed(noise):
    q = max_law(noise.k, noise.dim).quantile_from_logs
    return noise.max_table(), lambda m: q(*gaussian_max_logs(m, noise.dim)), 1.0


def _laplace(noise):
    d, k = float(noise.dim), noise.dim - noise.k
    return noise.l1_table(), lambda T: couple_gamma(T, d, k), 1.0


CASES = [
    *[(GeneralizedGaussian.matched(0.25, d, k=d / 4), _spherical) for d in (5, 64, 3072)],
    *[(Exp2.matched(0.25, d, k=1.0, j=0.0), _spherical) for d in (5, 3072)],
    *[(UniformBall.matched(0.25, d), _ball) for d in (5, 64, 3072, 150_528)],
    *[(ExpInf.matched(0.25, d), _linf) for d in (5, 64)],
    (PowInf.matched(0.25, 64, a=74.0), _linf),
    *[(MixedNorm.matched(0.25, d, k=d / 8), _mixed) for d in (4, 64, 3072)],
    *[(GeneralizedLaplace.matched(0.25, d, k=d / 4), _laplace) for d in (5, 64, 3072)],
]


@pytest.mark.parametrize("noise,kind", CASES, ids=[n.name for n, _ in CASES])
def test_table_meets_its_stated_bound_at_random_points(noise, kind):
    table, exact, sign = kind(noise)
    bound = table.bound
    assert bound.tv_bound < 1e-6, bound  # far below the Monte Carlo error of any run
    rng = np.random.default_rng(1)
    t = np.sort(rng.uniform(table.t0, table.t1, 20_000))
    got = table.log_phi_of_log(torch.from_numpy(t)).numpy()
    want = np.log(exact(np.exp(t)))
    assert np.max(np.abs(got - want)) <= bound.max_log_error
    assert np.all(sign * np.diff(got) >= -1e-12 * (1 + np.abs(got[1:])))
    # outside the range: the end slopes continue it, finite and monotone
    span = table.t1 - table.t0
    out = np.concatenate([table.t0 - span * np.array([2.0, 1.0, 0.1]), [table.t0, table.t1]])
    out = np.concatenate([out, table.t1 + span * np.array([0.1, 1.0, 2.0])])
    y = table.log_phi_of_log(torch.from_numpy(out)).numpy()
    assert np.all(np.isfinite(y)) and np.all(sign * np.diff(y) >= -1e-12 * (1 + np.abs(y[1:])))


def _law_in_and_out(noise, kind):
    """The log densities, in log coordinates, of the statistic a table takes and of the
    value it must produce (of ``log`` of each): the laws the table couples, from scipy."""
    if kind is _laplace:
        return GammaLaw(float(noise.dim)).log_density_t, GammaLaw(noise.dim - noise.k).log_density_t
    if kind is _mixed:
        law = max_law(noise.k, noise.dim)
        return GaussianMaxLaw(
            noise.dim
        ).log_density_t, lambda u: law.log_density_t(u) - law.log_norm
    if kind is _ball:  # -ln F(||G||^2) is Exp(1)
        return ChiSquareLaw(noise.dim).log_density_t, lambda u: u - np.exp(u)
    radius = noise.radius_law()
    statistic = GaussianMaxLaw(noise.dim) if kind is _linf else ChiSquareLaw(noise.dim)
    return statistic.log_density_t, lambda u: radius.logpdf(np.exp(u)) + u


@pytest.mark.parametrize("noise,kind", CASES, ids=[n.name for n, _ in CASES])
def test_the_stated_distance_holds_against_the_law_the_table_produces(noise, kind):
    """The total variation distance itself, integrated directly: the table maps ``t`` to
    ``u = log phi(t)``, so the law it produces has, at ``u``, the density
    ``p(t) / phi'(t)``; with ``q`` the exact density of ``u``, the distance is
    ``(1/2) int |p(t) - q(log phi(t)) (log phi)'(t)| dt`` over the table (8-point
    Gauss-Legendre on every cell) plus the mass outside it. It must not exceed the
    stated bound, which the table derives from its errors at check points instead."""
    table = kind(noise)[0]
    log_p, log_q = _law_in_and_out(noise, kind)
    x, w = np.polynomial.legendre.leggauss(8)
    left = table.t0 + table.h * np.arange(table.bound.nodes - 1)
    t = (left[:, None] + table.h * (x + 1.0) / 2.0).ravel()
    weights = np.tile(table.h / 2.0 * w, (table.bound.nodes - 1))
    u, slope = table.host_log_phi(t)
    assert np.abs(u - table.log_phi_of_log(torch.from_numpy(t)).numpy()).max() < 1e-11
    p = np.exp(log_p(t))
    assert np.sum(p * weights) == pytest.approx(1.0, abs=1e-9)  # the table's range: all
    distance = 0.5 * np.sum(np.abs(p - np.exp(log_q(u)) * np.abs(slope)) * weights)
    assert distance + table.bound.outside_mass <= table.bound.tv_bound


def test_approximation_is_stated_for_the_manifest():
    noise = GeneralizedGaussian.matched(0.25, 64, k=8.0)
    stated = noise.approximation()["radius table"]
    assert set(stated) == {"nodes", "max_log_error", "max_probability_error", "outside_mass",
                           "tv_bound"}  # fmt: skip
    assert GeneralizedGaussian.matched(0.25, 64, k=0.0).approximation() is None
    assert MixedNorm.matched(0.25, 64, k=0.0).approximation() is None


def test_the_input_laws_invert_their_tails():
    for law, s in ((ChiSquareLaw(50), 41.0), (GaussianMaxLaw(64), 2.7), (GammaLaw(64.0), 70.0)):
        for upper in (False, True):
            p = law.tail(s, upper)
            assert law.quantile(p, upper) == pytest.approx(s, rel=1e-9)


@pytest.mark.parametrize(
    "noise",
    [
        GeneralizedGaussian(1.0, 0.999, 1),  # stated bound 0.74 when it was accepted
        GeneralizedGaussian(1.0, 0.9, 1),  # 6.4e-4
        GeneralizedGaussian(1.0, 63.99, 64),  # 0.026
        GeneralizedLaplace(1.0, 0.95, 1),  # 1.75e-4
    ],
    ids=lambda n: n.name,
)
def test_a_shape_whose_table_cannot_reach_the_law_is_refused(noise):
    """Near its family's limit (k < dim) a radial map cannot be tabulated to the stated
    accuracy; such a noise is refused when its table is built, never sampled from a law
    this far from the one its certificates assume."""
    with pytest.raises(ValueError, match="total variation, above the 1e-05"):
        noise.prepare(torch.device("cpu"))
    GeneralizedGaussian(1.0, 0.5, 1).prepare(torch.device("cpu"))  # an example member


def test_a_shape_whose_map_overflows_is_refused_with_the_way_out():
    """A power-law l-inf noise with ``a`` just above ``dim`` has a tail too heavy for its
    map to stay finite over the table's range: refused, saying why and what to change,
    with no numpy warning from the map's infinities before it."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.raises(ValueError, match="not finite.*family's limit.*further from it"):
            PowInf(0.5, 64.01, 64).prepare(torch.device("cpu"))
    PowInf(0.5, 64.1, 64).prepare(torch.device("cpu"))  # a little further: tabulated
