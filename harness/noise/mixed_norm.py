"""Mixed l2 / l-inf noise (Zhang et al. 2020).

``pi_0(z) ~ ||z||_inf^{-k} exp(-||z||_2^2 / (2 sigma^2))``, ``0 <= k < dim``: the smoothing
distribution the paper proposes against l-inf attacks. ``k = 0`` is the Gaussian.

**Exact sampler** (no rejection; the paper uses rejection sampling). Write
``M = ||z||_inf / sigma``. Because the density is the Gaussian one reweighted by a function
of ``M`` only, conditionally on ``M = m`` and on which coordinate attains it, the law is the
Gaussian one: the extreme coordinate is ``+-sigma m`` with a fair sign and the other
``dim - 1`` coordinates are i.i.d. ``N(0, sigma^2)`` truncated to ``[-sigma m, sigma m]``.
``M`` itself has the density ``~ m^{-k} phi(m) (2 Phi(m) - 1)^{dim - 1}`` on ``m > 0``.

As a transform of the base draw ``G ~ N(0, I)``: ``m_G = ||G||_inf`` has the CDF
``F_0(m) = (2 Phi(m) - 1)^dim``, so ``U = F_0(m_G)`` is uniform and ``m = F_k^{-1}(U)``
(both in the tail below 1/2, in logs). The arg-max coordinate and all signs are those of
``G``; the extreme coordinate is set to ``sign(G_arg) sigma m``. Given ``m_G`` the other
``|G_i|`` are i.i.d. half-normal truncated to ``[0, m_G]`` (CDF ``F(g) / F(m_G)``,
``F(g) = erf(g / sqrt 2)``), and they must become half-normals truncated to ``[0, m]``.

**m <= m_G always**: the density of ``M`` is that of ``||G||_inf`` reweighted by the
decreasing ``m^{-k}``, so ``F_k >= F_0`` (likelihood-ratio order) and
``F_k^{-1}(F_0(m_G)) <= m_G``. (The table of the map is held to it: ``min(m, m_G)``.)

**The coupling keeps every ``|G_i| <= m``** (``z_i = sigma G_i``) and moves only those in
``(m, m_G]``, through their CDF on that interval, onto ``[0, m]``:
``u = (F(g) - F(m)) / (F(m_G) - F(m))``, ``|z_i| / sigma = F^{-1}(u F(m))``. The result has
the law ``F(t) / F(m)`` on ``[0, m]``: ``P(g <= t) + P(g > m) F(t) / F(m) = F(t) / F(m_G)
+ (1 - F(m) / F(m_G)) F(t) / F(m)``. It is exact, not an approximation, and cheap: the
coordinates moved are a few percent of a row at ``dim = 64, k = 8`` (3.9%), 0.05% at
``dim = 3072`` and 1e-5 at ImageNet size, so on the CPU only they are gathered and
mapped (when ``expected_moved_share`` is at most ``SPARSE_SHARE``); on a GPU, where
gathering them would wait for the host, every coordinate is mapped the same way.

Numerically the map is written in the upper tails, in float64:
``|z_i| / sigma = -ndtri(Phi(-m) + v (1/2 - Phi(-m)))``,
``v = (erfc(g / sqrt 2) - erfc(m_G / sqrt 2)) / (erfc(m / sqrt 2) - erfc(m_G / sqrt 2))``
(``v = 1 - u``), which keeps its relative precision up to ``m`` (no ``erfinv`` near 1). ``v``
loses precision only when ``m_G - m`` is tiny, where a coordinate falls in ``(m, m_G]``
with a proportionally tiny probability. ``m_G -> m`` is a ``MonotoneTable``
(``harness.noise.monotone_table``) of the host map ``F_k^{-1}(F_0(m_G))``, where
``F_k^{-1}`` is a cubic Hermite interpolant of the inverse of a numerically integrated CDF
(8193 nodes in ``log m``, Gauss-Legendre per cell). ``approximation()`` states the total
variation distance each adds (the spline's, ``MaxLaw.tv_bound``, is about 4e-10 at
``dim = 64`` and 2e-8 at ``dim = 3``), and certification subtracts their sum from
``p_lower`` (``Noise.law_distance``). For ``k = 0`` the transform is ``sigma * G`` exactly.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import cached_property, lru_cache
from typing import Any

import numpy as np
import torch
from scipy import special as sp
from scipy.interpolate import CubicHermiteSpline

from harness.noise.base import Marginal, Noise
from harness.noise.batch import Batch
from harness.noise.coupling import GaussianMaxLaw, write_scaled
from harness.noise.monotone_table import MonotoneTable, cached_table
from harness.noise.numerics import TINY, gauss_legendre_panels
from harness.noise.params import check_dim, check_exponent, check_positive_finite
from harness.noise.registry import register_noise

_GRID = 8193
_GL = 6
_TV_GL = 8  # points per spline cell for MaxLaw.tv_bound's integrals
_SPAN = 85.0
_SQRT_HALF = math.sqrt(0.5)
#: The most probability the tabulated law of ``M`` may leave below its grid (``t >= -60``),
#: where its quantiles would be clipped: the spline's own accuracy.
MAX_MASS_BELOW_GRID = 1e-10


def _log_erf(x: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.where(x < 1.0, np.log(sp.erf(np.minimum(x, 1.0))), np.log1p(-sp.erfc(x)))


class MaxLaw:
    """The law of ``M = ||z||_inf / sigma`` under ``MixedNorm(sigma, k, dim)``.

    ``t = log M`` has the log density ``(1 - k) t - e^{2t}/2 + (dim - 1) log erf(e^t / sqrt 2)``
    up to a constant; it is integrated on a fine grid in ``t`` and inverted by cubic
    Hermite interpolation (slopes from the exact density), separately in the lower and the
    upper tail so that probabilities near 0 and 1 keep their relative precision."""

    def __init__(self, k: float, dim: int) -> None:
        self.k, self.dim = float(k), int(dim)
        coarse = np.linspace(-60.0, 4.5, 4000)
        lc = self.log_density_t(coarse)
        keep = coarse[lc >= lc.max() - _SPAN]
        t = np.linspace(keep[0], keep[-1], _GRID)
        h = t[1] - t[0]
        nodes, weights = gauss_legendre_panels(t[:-1], h, _GL)
        cells = sp.logsumexp(self.log_density_t(nodes) + np.log(weights), axis=1)
        lt = self.log_density_t(t)
        # tails beyond the grid: the log density is linear in t on the left (slope dim - k)
        # and falls like -e^{2t}/2 on the right
        left = lt[0] - math.log(self.dim - self.k)
        right = lt[-1] - 2 * t[-1]
        # accumulated relative to the largest cell: the log masses are near -5e4 at
        # ImageNet size, where a running logaddexp of them would lose 1e-10 to rounding
        top = float(cells.max())
        log_f = np.logaddexp.accumulate(np.concatenate([[left], cells]) - top) + top
        log_s = np.logaddexp.accumulate(np.concatenate([[right], cells[::-1]]) - top)[::-1] + top
        log_z = float(np.logaddexp(log_f[-1] - top, right - top)) + top
        self.t, self.log_dens = t, lt - log_z
        self.log_cdf, self.log_sf = log_f - log_z, log_s - log_z
        below = math.exp(self.log_cdf[0])
        if below > MAX_MASS_BELOW_GRID:
            raise ValueError(
                f"mixed_norm with k = {k:g} this close to dim = {dim}: ||z||_inf / sigma lies "
                f"below e^{t[0]:.0f} with probability {below:.2g}, beyond the tabulated law "
                "(almost no noise at all); take k <= dim - 0.5"
            )
        self.log_norm = log_z
        lo = self.log_cdf <= math.log(0.75)
        hi = self.log_sf <= math.log(0.75)
        self._lower = CubicHermiteSpline(
            self.log_cdf[lo], t[lo], np.exp(self.log_cdf[lo] - self.log_dens[lo])
        )
        self._upper = CubicHermiteSpline(
            -self.log_sf[hi], t[hi], np.exp(self.log_sf[hi] - self.log_dens[hi])
        )
        # E||z||^2 / sigma^2 = E[M^2 + (dim - 1) v(M)], v(m) the variance of N(0, 1)
        # truncated to [-m, m]
        mn = np.exp(nodes)
        weights = np.exp(self.log_density_t(nodes) - log_z) * weights
        phi = np.exp(-mn * mn / 2) / math.sqrt(2 * math.pi)
        v = 1.0 - 2.0 * mn * phi / sp.erf(mn / math.sqrt(2))
        self.second_moment = float((weights * (mn * mn + (self.dim - 1) * v)).sum())

    @cached_property
    def tv_bound(self) -> float:
        """A bound on the total variation distance between the law of ``t = log M`` that
        ``quantile_from_logs`` produces from a uniform ``U`` and the exact one.

        Below the median the produced ``t`` is ``S(X)``, ``S`` the lower spline and
        ``X = log U`` of density ``e^x`` on ``x <= 0``; its density at ``t = S(x)`` is
        ``e^x / S'(x)``, so its distance from the exact density ``f`` is
        ``(1/2) int |e^x - f(S(x)) S'(x)| dx`` over the spline's span up to ``log 1/2``;
        above it likewise with ``Y = -log(1 - U)`` (density ``e^-y``) and the upper spline.
        The integrals are taken by ``_TV_GL``-point Gauss-Legendre on every cell of the
        splines and stated doubled: a finer rule changed them by 3% or less, and an error
        ``e`` in the normalizing constant of ``f`` adds at most ``e / 2`` to the distance
        while the integral itself is at least ``e``. A partition of every cell finds
        about half the stated value (``tests/harness/noise/test_mixed_norm.py``). To them are
        added the mass clipped at either end of the splines (``U`` beyond their first or
        last node is mapped to that node) and the gap the two splines leave at the median
        times the density there."""
        parts = [
            _spline_density_gap(self._lower, self._lower.x[0], math.log(0.5), np.exp, self),
            _spline_density_gap(
                self._upper, math.log(2.0), self._upper.x[-1], lambda y: np.exp(-y), self
            ),
        ]
        clipped = math.exp(self._lower.x[0]) + math.exp(-self._upper.x[-1])
        t_lo, t_hi = float(self._lower(math.log(0.5))), float(self._upper(math.log(2.0)))
        gap = abs(t_lo - t_hi) * math.exp(
            float(self.log_density_t(np.array([t_lo]))[0]) - self.log_norm
        )
        return float(sum(parts) + clipped + gap)

    def log_density_t(self, t: np.ndarray) -> np.ndarray:
        """Unnormalized log density of ``t = log M``."""
        return self.log_density_t_of(self.k, self.dim, t)

    @staticmethod
    def log_density_t_of(k: float, dim: int, t: np.ndarray) -> np.ndarray:
        m = np.exp(t)
        return (1.0 - k) * t - m * m / 2 + (dim - 1) * _log_erf(m / math.sqrt(2))

    def quantile_from_logs(self, log_u: np.ndarray, log_1mu: np.ndarray) -> np.ndarray:
        """``F^{-1}(u)`` given ``log u`` and ``log(1 - u)`` (whichever is accurate is used)."""
        lower = log_u < math.log(0.5)
        out = np.empty_like(log_u)
        x_lo = np.clip(log_u[lower], self._lower.x[0], self._lower.x[-1])
        out[lower] = self._lower(x_lo)
        x_hi = np.clip(-log_1mu[~lower], self._upper.x[0], self._upper.x[-1])
        out[~lower] = self._upper(x_hi)
        return np.exp(out)


def _spline_density_gap(
    spline: CubicHermiteSpline,
    start: float,
    stop: float,
    density: Callable[[np.ndarray], np.ndarray],
    law: MaxLaw,
) -> float:
    """``int |density(x) - f(S(x)) S'(x)| dx`` over ``[start, stop]`` (``S`` the spline,
    ``f`` the normalized density of ``t = log M``), by Gauss-Legendre on each of its cells:
    twice the total variation distance the spline adds there (see ``MaxLaw.tv_bound``)."""
    knots = spline.x[(spline.x > start) & (spline.x < stop)]
    edges = np.concatenate([[start], knots, [stop]])
    x, w = gauss_legendre_panels(edges[:-1], np.diff(edges), _TV_GL)
    t = spline(x)
    f = np.exp(law.log_density_t(t) - law.log_norm)
    return float((np.abs(density(x) - f * spline.derivative()(x)) * w).sum())


def _max_cdf_by_quadrature(k: float, dim: int, points: int = 200_001):
    """CDF of ``||z||_inf / sigma`` by cumulative Simpson integration of its density in
    ``t = log m`` on a uniform grid (a second method beside ``MaxLaw``)."""
    from scipy.integrate import cumulative_simpson

    t = np.linspace(-40.0, 4.5, points)
    log_f = MaxLaw.log_density_t_of(k, dim, t)
    f = np.exp(log_f - log_f.max())
    cum = cumulative_simpson(f, x=t, initial=0.0)
    cum /= cum[-1]
    return lambda m: np.interp(np.log(np.maximum(m, 1e-300)), t, cum)


@lru_cache(maxsize=32)
def max_law(k: float, dim: int) -> MaxLaw:
    """The (cached) law of ``||z||_inf / sigma`` for ``MixedNorm(., k, dim)``."""
    return MaxLaw(float(k), int(dim))


def gaussian_max_logs(m: np.ndarray, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """``log F_0(m)`` and ``log(1 - F_0(m))`` for ``F_0(m) = (2 Phi(m) - 1)^dim``, the CDF
    of ``||G||_inf`` for ``G ~ N(0, I_dim)``."""
    log_u = dim * _log_erf(m / math.sqrt(2))
    with np.errstate(divide="ignore"):
        log_1mu = np.log(-np.expm1(log_u))
    return log_u, log_1mu


#: Per row: ``m``, ``m_G``, ``erfc(m / sqrt 2)``, ``erfc(m_G / sqrt 2)`` (float64).
_RowTails = tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]
#: The CPU gathers the coordinates the coupling moves when their expected share of a row
#: is at most this; above it, mapping every coordinate costs less than gathering (one
#: thread, per value: 16.9 against 24.0 ns at a share of 0.27, 28.3 against 25.8 at 0.38).
SPARSE_SHARE = 0.33


def moved_magnitude(
    g: torch.Tensor,
    m: torch.Tensor,
    m_G: torch.Tensor,
    e_m: torch.Tensor,
    e_G: torch.Tensor,
    out: torch.Tensor | None = None,
    mask: torch.Tensor | None = None,
) -> torch.Tensor:
    """``|z_i| / sigma`` for ``g = |G_i|`` (float64) of a row with ``||G||_inf = m_G`` and
    ``||z||_inf / sigma = m <= m_G``, given ``e_m = erfc(m / sqrt 2)`` and
    ``e_G = erfc(m_G / sqrt 2)`` (all broadcast against ``g``): ``g`` itself where
    ``g <= m``; ``m`` where ``g = m_G`` (the extreme coordinate, and any tied with it);
    between, ``-ndtri(e_m / 2 + v (1 - e_m) / 2)``, ``v = (erfc(g / sqrt 2) - e_G) / (e_m -
    e_G)``, which lies in ``[0, m]``. See the module docstring. Written into ``out`` (not
    ``g``: float64 of ``g``'s shape) with ``mask`` (bool, ``g``'s shape) as scratch where
    given, so that a batch allocates nothing; new tensors otherwise."""
    span = e_m - e_G
    out = torch.mul(g, _SQRT_HALF, out=out)
    torch.special.erfc(out, out=out).sub_(e_G).div_(torch.where(span > 0, span, 1.0))
    out.clamp_(0.0, 1.0).mul_(1.0 - e_m).add_(e_m).mul_(0.5)  # Phi(-|z_i| / sigma)
    torch.special.ndtri(out, out=out).neg_()
    torch.minimum(out, m, out=out)
    torch.where(torch.ge(g, m_G, out=mask), m, out, out=out)
    return torch.where(torch.le(g, m, out=mask), g, out, out=out)


def round_down(values: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """``values`` (float64) in ``dtype``, each rounded to the largest number of ``dtype``
    not above it."""
    if dtype == torch.float64:
        return values
    near = values.to(dtype)
    return torch.where(near.double() > values, torch.nextafter(near, torch.zeros_like(near)), near)


@lru_cache(maxsize=32)
def moved_share(k: float, dim: int, quantiles: int = 4096) -> float:
    """The expected share of a row's coordinates that ``MixedNorm(., k, dim)``'s coupling
    moves: ``1 / dim`` (the extreme one) plus ``(1 - 1 / dim) E[1 - F(m) / F(m_G)]``
    (``F(g) = erf(g / sqrt 2)``), by the midpoint rule over ``quantiles`` quantiles of
    ``m_G``. It only chooses how the CPU computes the same values."""
    law = GaussianMaxLaw(dim)
    m_G = np.array([law.quantile((i + 0.5) / quantiles, False) for i in range(quantiles)])
    m = np.minimum(max_law(k, dim).quantile_from_logs(*gaussian_max_logs(m_G, dim)), m_G)
    kept = sp.erf(m * _SQRT_HALF) / sp.erf(m_G * _SQRT_HALF)
    return float(1.0 / dim + (1.0 - 1.0 / dim) * np.mean(1.0 - kept))


@register_noise("mixed_norm")
class MixedNorm(Noise):
    """``pi_0(z) ~ ||z||_inf^{-k} exp(-||z||_2^2 / (2 sigma^2))``."""

    scale_param = "sigma"
    example_params = ({"k": 0.0}, {"k": 1.5})
    #: 2: coordinates at most ``m`` are kept and only those above moved (1: every
    #: coordinate through ``erfinv(c erf(G_i / sqrt 2))``)
    coupling_version = 2

    def __init__(self, sigma: float, k: float, dim: int) -> None:
        self.sigma = check_positive_finite("sigma", sigma)
        self.dim = check_dim(dim)
        self.k = check_exponent(k, self.dim)
        if self.k:
            max_law(self.k, self.dim)  # refuses a k whose law cannot be tabulated

    def marginals(self) -> list[Marginal]:
        """``||z||_inf / sigma`` against its law integrated independently of ``MaxLaw``
        (cumulative Simpson on a fine grid in ``log m``), and a coordinate other than the
        extreme one: given ``M = m`` it is ``N(0, 1)`` truncated to ``[-m, m]``, so
        ``(Phi(|z_i| / sigma) - 1/2) / (Phi(m) - 1/2)`` is uniform on [0, 1]."""
        sigma = self.sigma
        cdf_m = _max_cdf_by_quadrature(self.k, self.dim)

        def other(z: np.ndarray) -> np.ndarray:
            a = np.abs(z) / sigma
            arg = a.argmax(axis=1)
            col = np.where(arg == 0, 1, 0)
            m = a[np.arange(len(a)), arg]
            x = a[np.arange(len(a)), col]
            return (sp.ndtr(x) - 0.5) / (sp.ndtr(m) - 0.5)

        out = [
            Marginal("max coordinate ||z||_inf / sigma", lambda z: np.abs(z).max(1) / sigma, cdf_m)
        ]
        if self.dim >= 2:
            out.append(
                Marginal("truncated coordinate (uniform)", other, lambda u: np.clip(u, 0.0, 1.0))
            )
        return out

    # the transform -------------------------------------------------------------------------
    def max_table(self) -> MonotoneTable:
        """``m_G = ||G||_inf -> m = ||z||_inf / sigma``: ``F_k^{-1}(F_0(m_G))``."""

        def build() -> MonotoneTable:
            law = GaussianMaxLaw(self.dim)
            quantile = max_law(self.k, self.dim).quantile_from_logs
            return MonotoneTable(
                lambda m: quantile(*gaussian_max_logs(m, self.dim)),
                law,
                name=f"{self.name} max",
            )

        return cached_table(self, "max", build)

    def prepare(self, device: torch.device | str) -> None:
        """The table of ``m_G -> m`` on ``device``; on the CPU also the expected share of
        coordinates moved, which chooses how the transform computes there."""
        if self.k:
            self.max_table().prepare(device)
            if torch.device(device).type == "cpu":
                self.expected_moved_share()

    def approximation(self) -> dict[str, Any] | None:
        if not self.k:
            return None
        return {
            "max table": self.max_table().bound.as_dict(),
            "max law (host spline of the integrated CDF)": {
                "tv_bound": max_law(self.k, self.dim).tv_bound
            },
        }

    def expected_moved_share(self) -> float:
        """The expected share of a row's coordinates that the coupling moves (those above
        ``m``, the extreme one included; 0 for ``k = 0``): see ``moved_share``."""
        return moved_share(self.k, self.dim) if self.k else 0.0

    def _write(self, batch: Batch, out: torch.Tensor, x: torch.Tensor | None) -> torch.Tensor:
        G = batch.G
        if self.k == 0:
            return write_scaled(out, G, self.sigma, x)
        m_G = batch.linf_norm().clamp_min(TINY)
        m = torch.minimum(torch.exp(self.max_table().log_phi(m_G)), m_G)
        tails = (m, m_G, torch.special.erfc(m * _SQRT_HALF), torch.special.erfc(m_G * _SQRT_HALF))
        if G.device.type == "cpu" and self.expected_moved_share() <= SPARSE_SHARE:
            return self._write_moved_only(batch, out, x, tails)
        return self._write_every_coordinate(batch, out, x, tails)

    def _write_moved_only(
        self, batch: Batch, out: torch.Tensor, x: torch.Tensor | None, tails: _RowTails
    ) -> torch.Tensor:
        """``out = x + sigma G``, then the coordinates above ``m`` found (numpy's
        ``flatnonzero``, 8 times faster than torch's ``nonzero`` on a CPU), gathered,
        mapped and written over it: the CPU path."""
        G = batch.G
        dim = G.shape[1]
        # |G_i| <= bound implies |G_i| <= m: the coordinates kept are compared in G's dtype
        bound = round_down(tails[0], G.dtype)
        found = []
        for rows in batch.row_tiles():
            n = rows.stop - rows.start
            a = torch.abs(G[rows], out=batch.scratch("mixed abs", n, G.dtype))
            torch.gt(a, bound[rows, None], out=batch.scratch("mixed above", n, torch.bool))
            above = np.flatnonzero(batch.host_scratch("mixed above", n, torch.bool))
            found.append(torch.from_numpy(above).add_(rows.start * dim))
        flat = torch.cat(found) if len(found) > 1 else found[0]
        r = torch.div(flat, dim, rounding_mode="floor")
        c = flat - r * dim
        # gathered before out (maybe G itself) is written
        g = torch.index_select(G.reshape(-1), 0, flat).to(torch.float64)
        z = moved_magnitude(g.abs(), *(torch.index_select(t, 0, r) for t in tails))
        z = torch.copysign(z, g, out=z).mul_(self.sigma)
        if x is not None:
            z.add_(torch.index_select(x, 0, c))
        write_scaled(out, G, self.sigma, x)
        if out.is_contiguous():
            out.view(-1).index_copy_(0, flat, z.to(out.dtype))
        else:
            out[r, c] = z.to(out.dtype)
        return out

    def _write_every_coordinate(
        self, batch: Batch, out: torch.Tensor, x: torch.Tensor | None, tails: _RowTails
    ) -> torch.Tensor:
        """Every coordinate through ``moved_magnitude`` (which keeps those at most ``m``),
        tile by tile: nothing is gathered, so nothing waits for the host on a GPU."""
        G = batch.G
        for rows in batch.row_tiles():
            n = rows.stop - rows.start
            g = batch.scratch("mixed g", n, torch.float64).copy_(G[rows]).abs_()
            w = batch.scratch("mixed w", n, torch.float64)
            mask = batch.scratch("mixed mask", n, torch.bool)
            moved_magnitude(g, *(t[rows, None] for t in tails), out=w, mask=mask)
            torch.copysign(w, G[rows], out=w)
            if out.dtype == torch.float64:
                write_scaled(out[rows], w, self.sigma, x)
            else:
                z = batch.scratch("mixed z", n, out.dtype)
                write_scaled(out[rows], z.copy_(w), self.sigma, x)
        return out

    def transform(self, G: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        self.check_G(G)
        return self._write(Batch(G), torch.empty_like(G) if out is None else out, None)

    def perturb(self, x: torch.Tensor, G: torch.Tensor | Batch, out: torch.Tensor) -> torch.Tensor:
        return self._write(Batch.of(G), out, x)

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        out = -(z * z).sum(dim=-1) / (2.0 * self.sigma**2)
        if self.k:
            out = out - self.k * torch.log(z.abs().amax(dim=-1))
        return out

    def second_moment(self) -> float:
        """``E||z||^2 = (dim - k) sigma^2``, as for every density ``h(z) exp(-||z||^2/(2 sigma^2))``
        with ``h`` homogeneous of degree ``-k``: substituting ``z = sigma u`` gives
        ``log Z(sigma) = (dim - k) log sigma + const``, and ``d log Z / d sigma =
        E||z||^2 / sigma^3``. (``MaxLaw.second_moment`` integrates it independently.)"""
        return (self.dim - self.k) * self.sigma**2
