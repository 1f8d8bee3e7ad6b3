"""The l-inf (mixed-norm) and l1 (generalized Laplace) certificates: Monte Carlo
Neyman-Pearson tables with Clopper-Pearson corrections (certifiers.montecarlo,
functional_linf, functional_l1) and the closed forms they must reproduce."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import stats

import certifiers
from certifiers.functional import Functional
from certifiers.functional import l1 as functional_l1
from certifiers.functional import linf as functional_linf
from certifiers.montecarlo import (
    MCSettings,
    _lex_count_below,
    _lex_select,
    _order_statistic,
    lower_median_rank,
    np_table,
)
from certifiers.tables import RadiusTable
from certifiers.testing import neyman_pearson_lower
from harness.noise import Gaussian, GeneralizedLaplace, MixedNorm

SMALL = MCSettings(samples=200_000, grid=150, alpha=1e-4, seed=0)
P = np.array([0.7, 0.9, 0.99])


def _rounded_down_from(got: np.ndarray, exact: np.ndarray) -> bool:
    """``got`` is ``exact`` rounded toward zero by the certifiers' few-ulp margin: never
    above it, and no further below than 8 ulps."""
    return bool(np.all(got <= exact) and np.allclose(got, exact, rtol=8 * EPS, atol=0.0))


EPS = float(np.finfo(np.float64).eps)


def test_gaussian_corollary2_and_l1():
    """Corollaries 1 and 2 of Zhang et al.: on Gaussian noise the framework's l1 radius is
    sigma Phi^{-1}(p) and its l-inf radius that divided by sqrt(dim), computed here from
    scipy's normal quantile (up to the certifiers' round-down margin)."""
    c = certifiers.get("functional")
    p = np.array([0.3, 0.6, 0.9, 0.999])
    want = 0.5 * stats.norm.ppf(np.maximum(p, 0.5))
    assert _rounded_down_from(c.radius(Gaussian(0.5, 49), p, "linf"), want / 7)
    assert _rounded_down_from(c.radius(Gaussian(0.5, 49), p, "l1"), want)
    assert _rounded_down_from(c.radius(MixedNorm(0.5, 0, 49), p, "linf"), want / 7)
    assert _rounded_down_from(
        c.radius(GeneralizedLaplace(0.5, 0, 3), p, "l1"),
        -0.5 * np.log(2 * (1 - np.maximum(p, 0.5))),
    )


@pytest.mark.parametrize("dim", [4, 64])
def test_monte_carlo_path_reproduces_corollary2(dim):
    """MixedNorm with k = 0 through the Monte Carlo table: never above sigma Phi^{-1}(p)/sqrt(d)
    and within the Monte Carlo loss (200,000 draws) of it."""
    table = RadiusTable(*functional_linf.build_table(0.0, dim, SMALL))
    ratio = table(P) / (stats.norm.ppf(P) / math.sqrt(dim))
    assert np.all(ratio <= 1.0) and np.all(ratio >= 0.85)


@pytest.mark.parametrize("dim", [3, 64])
def test_monte_carlo_path_reproduces_laplace(dim):
    """GeneralizedLaplace with k = 0 (log ratio with atoms, handled by the tie-breaker):
    never above -scale ln(2(1 - p)), within the Monte Carlo loss of it."""
    table = RadiusTable(*functional_l1.build_table(0.0, dim, SMALL))
    ratio = table(P) / -np.log(2 * (1 - P))
    assert np.all(ratio <= 1.0) and np.all(ratio >= 0.85)


@pytest.mark.parametrize(
    "noise,norm", [(MixedNorm(0.6, 2.0, 3), "linf"), (GeneralizedLaplace(0.6, 2.0, 4), "l1")]
)
def test_certificate_is_sound_and_nearly_tight(noise, norm):
    """At the Monte Carlo certified radius, the worst case computed independently (400,000
    fresh draws from noise.sample, log_prob) is at least 1/2 and not far above it."""
    c = Functional(mc_samples=400_000, mc_grid=200)
    for p in (0.75, 0.95):
        eps = c.radius(noise, p, norm)
        assert eps > 0
        delta = np.full(noise.dim, eps) if norm == "linf" else eps * np.eye(noise.dim)[0]
        est, se = neyman_pearson_lower(noise, delta, p, samples=400_000, seed=99)
        assert est >= 0.5 - 4 * se - 1e-3
        assert est <= 0.56


def _np_bound(noise, z, lp0, delta, p):
    lr = (noise.log_prob(z - torch.as_tensor(delta)) - lp0).numpy()
    r = np.exp(np.sort(lr))
    m = int(p * r.size)
    return r[:m].sum() / r.size


@pytest.mark.parametrize(
    "noise,norm",
    [
        (MixedNorm(1.0, 1.0, 2), "linf"),
        (MixedNorm(1.0, 2.5, 3), "linf"),
        (MixedNorm(1.0, 3.0, 5), "linf"),
        (GeneralizedLaplace(1.0, 1.0, 2), "l1"),
        (GeneralizedLaplace(1.0, 2.5, 3), "l1"),
        (GeneralizedLaplace(1.0, 3.0, 5), "l1"),
    ],
)
def test_worst_shift_is_the_vertex_or_the_axis(noise, norm):
    """The paper's worst shifts (l-inf: a vertex eps*(1,...,1); l1: eps*e_1): random points
    of the norm sphere, and smaller shifts inside the ball, give a Neyman-Pearson worst case
    at least as high (same draws for all shifts, so the comparison is paired)."""
    d = noise.dim
    z = noise.sample(50_000, torch.Generator().manual_seed(5)).to(torch.float64)
    lp0 = noise.log_prob(z)
    eps, p = (0.3, 0.9) if norm == "linf" else (0.8, 0.9)
    worst = np.full(d, eps) if norm == "linf" else eps * np.eye(d)[0]
    b_worst = _np_bound(noise, z, lp0, worst, p)
    rng = np.random.default_rng(d)
    for i in range(20):
        if norm == "linf":
            delta = rng.uniform(-1, 1, d)
            j = rng.integers(d)
            delta[j] = 1.0 if delta[j] >= 0 else -1.0
            delta *= eps
        else:
            delta = rng.exponential(size=d) * rng.choice([-1.0, 1.0], d)
            delta *= eps / np.abs(delta).sum()
        if i % 3 == 0:
            delta *= rng.uniform(0.2, 1.0)
        assert _np_bound(noise, z, lp0, delta, p) >= b_worst - 2e-3


@pytest.mark.parametrize("k,dim", [(0.0, 3), (2.0, 5)])
def test_mixed_norm_statistics_sampler_is_exact(k, dim):
    """The table's dedicated sampler of (max, min, sum, ||z||_inf) gives the same law of
    Lambda as full draws of MixedNorm (two-sample KS)."""
    rng = np.random.default_rng(0)
    s = functional_linf.sample_statistics(k, dim, 20_000, rng)
    eps = 0.2
    lam = functional_linf.vertex_log_ratio(k, dim)(eps, s)
    noise = MixedNorm(1.0, k, dim)
    z = noise.sample(20_000, torch.Generator().manual_seed(1)).to(torch.float64)
    ref = (noise.log_prob(z - eps) - noise.log_prob(z)).numpy()
    assert stats.ks_2samp(lam, ref).pvalue > 1e-3


@pytest.mark.parametrize("k,dim", [(0.0, 1), (2.0, 5), (30.0, 40)])
def test_laplace_statistics_sampler_is_exact(k, dim):
    rng = np.random.default_rng(0)
    s = functional_l1.sample_statistics(k, dim, 20_000, rng)
    eps = 0.5
    lam = functional_l1.axis_log_ratio(k)(eps, s)
    noise = GeneralizedLaplace(1.0, k, dim)
    z = noise.sample(20_000, torch.Generator().manual_seed(1)).to(torch.float64)
    shift = torch.zeros(dim, dtype=torch.float64)
    shift[0] = eps
    ref = (noise.log_prob(z - shift) - noise.log_prob(z)).numpy()
    # (the reference's atoms at +-eps carry rounding errors: compare at 1e-12)
    assert stats.ks_2samp(np.round(lam, 12), np.round(ref, 12)).pvalue > 1e-3


def test_confidence_spent_and_supports():
    c = Functional(mc_alpha=2e-4)
    assert c.confidence_spent(MixedNorm(1.0, 2.0, 5), "linf") == 2e-4
    assert c.confidence_spent(GeneralizedLaplace(1.0, 2.0, 5), "l1") == 2e-4
    assert c.confidence_spent(MixedNorm(1.0, 0.0, 5), "linf") == 0.0
    assert c.confidence_spent(Gaussian(1.0, 5), "linf") == 0.0
    assert not c.supports(MixedNorm(1.0, 2.0, 5), "l2")
    assert not c.supports(GeneralizedLaplace(1.0, 2.0, 5), "linf")
    assert certifiers.get("functional").confidence_spent(MixedNorm(1.0, 2.0, 5), "linf") == 1e-4


def test_radius_scales_with_sigma_and_scale():
    c = Functional(mc_samples=200_000, mc_grid=150)
    p = np.array([0.6, 0.9, 0.99])
    a, b = MixedNorm(0.5, 2.0, 6), MixedNorm(1.5, 2.0, 6)
    assert np.allclose(c.radius(b, p, "linf"), 3 * c.radius(a, p, "linf"), rtol=1e-14)
    a, b = GeneralizedLaplace(0.5, 2.0, 6), GeneralizedLaplace(1.5, 2.0, 6)
    assert np.allclose(c.radius(b, p, "l1"), 3 * c.radius(a, p, "l1"), rtol=1e-14)


@pytest.mark.parametrize("n,alpha", [(2000, 1e-3), (100_000, 1e-7), (1_000_000, 1e-4)])
def test_lower_median_rank(n, alpha):
    x = lower_median_rank(n, alpha)
    assert stats.binom.cdf(x, n, 0.5) <= alpha < stats.binom.cdf(x + 1, n, 0.5)


@pytest.mark.parametrize("level", [0.5 - 1e-3, 0.3])
def test_lower_median_rank_at_another_quantile(level):
    n, alpha = 100_000, 1e-6
    x = lower_median_rank(n, alpha, level)
    assert stats.binom.cdf(x, n, level) <= alpha < stats.binom.cdf(x + 1, n, level)
    assert x < lower_median_rank(n, alpha)


def test_a_law_distance_of_the_draws_raises_every_p_by_it_and_more():
    """Draws from a law within total variation TV of the exact one: each ``p_j`` is the
    table's without it plus TV, or more (the threshold moves to the 1/2 - TV quantile,
    which costs a little more), capped at 1."""
    rng_stats = np.random.default_rng(5)
    a, b = rng_stats.standard_normal(20_000), rng_stats.standard_normal(20_000)

    def log_ratio(R, z):  # the Gaussian shifted by R along one axis
        return R * z - R * R / 2

    radii = np.linspace(0.05, 3.0, 40)

    def table(tv):
        p, _ = np_table(log_ratio, a, b, a.size, b.size, radii, 1e-3, np.random.default_rng(0), tv)
        return p

    plain, moved = table(0.0), table(0.01)
    assert np.all(moved >= np.minimum(plain + 0.01, 1.0))
    assert np.any(moved > plain + 0.01) and np.all(moved <= 1.0)
    # sound for the exact Gaussian: p_j at least Phi(R) (what Cohen's bound needs)
    assert np.all(plain >= stats.norm.cdf(radii) - 1e-12)
    with pytest.raises(ValueError, match="law distance"):
        table(-0.1)
    with pytest.raises(ValueError, match="no median"):
        table(0.5)


def test_the_mixed_norm_table_accounts_for_its_spline():
    """The l-inf table of the mixed norm is built with the spline's distance: rebuilt
    without it (patched to 0), no p_j is higher, and most are lower."""
    settings = MCSettings(samples=20_000, grid=20, alpha=1e-3, seed=0)
    with_tv, radii = functional_linf.build_table(2.0, 6, settings)
    law = functional_linf.max_law(2.0, 6)
    assert law.tv_bound > 0
    without = functional_linf.split_sample_table(
        functional_linf.sample_statistics,
        functional_linf.vertex_log_ratio(2.0, 6),
        2.0,
        6,
        radii,
        settings,
        7,
    )[0]
    assert np.all(with_tv >= without) and np.all(
        with_tv[with_tv < 1] >= without[with_tv < 1] + law.tv_bound
    )


def test_lexicographic_selection_and_count():
    rng = np.random.default_rng(0)
    values = rng.integers(0, 5, 200_000).astype(float)  # heavy ties
    ties = rng.random(values.size)
    order = np.lexsort((ties, values))
    for rank in (0, 1234, 99_999, 150_000):
        v, u = _lex_select(values, ties, rank)
        assert (v, u) == (values[order[rank]], ties[order[rank]])
        assert _lex_count_below(values, ties, v, u) == rank
    smooth = rng.standard_normal(300_000)
    for rank in (10, 150_000, 299_000):
        assert _order_statistic(smooth, rank) == np.partition(smooth, rank)[rank]


@pytest.mark.parametrize("k,dim", [(0.0, 3), (2.0, 5), (6.0, 16)])
def test_the_vertex_log_ratio_is_the_log_density_ratio_draw_by_draw(k, dim):
    """On fixed draws ``z``, the table's ``Lambda`` from ``(max, min, sum, ||z||_inf)``
    equals ``log pi(z - eps 1) - log pi(z)`` from the noise's own density."""
    noise = MixedNorm(1.0, k, dim)
    z = noise.sample(500, torch.Generator().manual_seed(3))
    s = {
        "max": z.max(dim=1).values.numpy(),
        "min": z.min(dim=1).values.numpy(),
        "sum": z.sum(dim=1).numpy(),
        "log_norm": np.log(z.abs().max(dim=1).values.numpy()),
    }
    for eps in (0.01, 0.3, 2.0):
        got = functional_linf.vertex_log_ratio(k, dim)(eps, s)
        want = (noise.log_prob(z - eps) - noise.log_prob(z)).numpy()
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("k,dim", [(0.0, 1), (0.25, 3), (0.5, 6), (2.0, 5), (30.0, 40)])
def test_the_axis_log_ratio_is_the_log_density_ratio_draw_by_draw(k, dim):
    noise = GeneralizedLaplace(1.0, k, dim)
    z = noise.sample(500, torch.Generator().manual_seed(4))
    s = {"z1": z[:, 0].numpy(), "norm": z.abs().sum(dim=1).numpy()}
    for eps in (0.01, 0.5, 3.0):
        shift = torch.zeros(dim, dtype=torch.float64)
        shift[0] = eps
        got = functional_l1.axis_log_ratio(k)(eps, s)
        want = (noise.log_prob(z - shift) - noise.log_prob(z)).numpy()
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("shift", [lambda R: R, lambda R: abs(R - 0.8)], ids=["rising", "dipping"])
def test_np_table_spends_alpha_over_the_grid_as_its_docstring_states(shift):
    """With a log ratio whose order statistics are known, every ``p_j`` is written out from
    scipy: the ``j``-th smallest of ``A`` with ``j - 1`` the largest ``x`` such that
    ``P(Bin(n_A, 1/2 - TV) <= x) <= alpha / (2 J)``, then the ``(1 - alpha / (2 J))``
    Clopper-Pearson upper bound on the count of ``B`` below its reflection, plus ``TV``;
    and a larger radius never needs a smaller ``p`` (the running maximum), which only a
    log ratio that dips with the radius shows."""
    rng = np.random.default_rng(11)
    a, b = rng.standard_normal(3001), rng.standard_normal(2999)
    radii = np.linspace(0.1, 1.5, 7)
    alpha, tv = 0.02, 0.003

    def log_ratio(R, z):
        return z - shift(R)

    p, _ = np_table(log_ratio, a, b, a.size, b.size, radii, alpha, np.random.default_rng(0), tv)
    step = alpha / (2 * radii.size)
    cdf = stats.binom.cdf(np.arange(a.size), a.size, 0.5 - tv)
    rank = int(np.flatnonzero(cdf <= step)[-1])
    shifts = np.array([shift(R) for R in radii])
    v = np.sort(a)[rank] - shifts
    count = np.array([np.count_nonzero(b - s < -vs) for s, vs in zip(shifts, v, strict=True)])
    upper = stats.beta.ppf(1 - step, count + 1, b.size - count)  # Clopper-Pearson upper
    expected = np.maximum.accumulate(np.minimum(upper + tv, 1.0))
    np.testing.assert_allclose(p, expected, rtol=1e-10)


def test_one_certifier_keeps_a_table_per_noise_parameter():
    """Tables are kept per (family, k, dim, norm, budget): radii asked for two shapes of the
    same family and dimension in turn each match a table built for that shape alone."""
    settings = MCSettings(samples=20_000, grid=30, alpha=1e-3, seed=0)
    c = Functional(mc_samples=settings.samples, mc_grid=settings.grid, mc_alpha=settings.alpha)
    p = np.array([0.8, 0.95])
    for k in (1.0, 4.0, 1.0):
        noise = GeneralizedLaplace(1.0, k, 8)
        alone = RadiusTable(*functional_l1.build_table(k, 8, settings))
        np.testing.assert_allclose(c.radius(noise, p, "l1"), alone(p), rtol=1e-12)
