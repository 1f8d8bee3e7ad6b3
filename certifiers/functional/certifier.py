"""The functional-optimization certifier of Zhang et al. (2020), registered as ``functional``.

Certify ``min over f in [0, 1] and delta in B of E_{pi_delta}[f]`` subject to
``E_{pi_0}[f] = p``; by the dual (Eq. 9, ``certifiers.functional.dual``) and Neyman-Pearson this is
the exact worst case over all base classifiers. Supported pairs:

================== ============ =========================================================
noise              norm         certificate
================== ============ =========================================================
Gaussian           l2, l1       ``sigma Phi^{-1}(p)`` (Corollary 1; the worst l1 shift
                                ``eps e_i`` has l2 norm ``eps``)
Gaussian           linf         ``sigma Phi^{-1}(p) / sqrt(dim)`` (Corollary 2: vertex)
GeneralizedGaussian l2          exact Neyman-Pearson bound, ``certifiers.functional.l2``
                                (a cached conservative table; closed form for ``k = 0``)
GeneralizedGaussian l1, linf    the l2 radius, resp. divided by ``sqrt(dim)``: the bound
                                depends on ``||delta||_2`` only and the largest l2 norm in
                                the l1 (l-inf) ball of radius eps is eps (eps sqrt(dim))
MixedNorm          linf         Monte Carlo Neyman-Pearson at the vertex shift,
                                ``certifiers.functional.linf`` (Corollary 2 for ``k = 0``)
GeneralizedLaplace l1           Monte Carlo Neyman-Pearson at ``eps e_1``,
                                ``certifiers.functional.l1`` (``-scale ln(2(1-p))`` for
                                ``k = 0``)
================== ============ =========================================================

The generalized Gaussian needs ``dim >= 2`` and ``k <= dim - 2``. Monte Carlo tables spend
``mc_alpha`` of confidence (``confidence_spent``) on top of the ``alpha`` of ``p_A``. All
tables are computed at unit scale, once per (family, k, dim, norm), and cached on disk;
radii scale linearly with sigma (or the Laplace scale), and a look-up is a binary search.

Costs on one CPU core: an l2 table takes 0.3 to 3 s (any dim up to 150528); a Monte Carlo
table with the default budget (2,000,000 draws, 400 radii) about 7 to 9 s at dim 64, and
its sampling grows like ``samples * dim`` for the mixed norm (lower ``mc_samples`` at large
dim). The Monte Carlo certificate is conservative by construction: with the default
budget it is 2 to 4% below the exact radius for p_A in [0.8, 0.999] (about 11% at
p_A = 0.55, 5% at 0.9999), as measured on the k = 0 cases where the exact answer is known.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import ndtri

from certifiers.base import Certificate, Certifier
from certifiers.functional import l1, l2, linf
from certifiers.montecarlo import MCSettings
from certifiers.registry import register
from certifiers.tables import RadiusTable
from harness.noise import Noise

_TABLES: dict[tuple, RadiusTable] = {}
_BUILDERS = {
    ("generalized_gaussian", "l2"): lambda k, dim, mc: l2.radius_table(k, dim),
    ("mixed_norm", "linf"): linf.radius_table,
    ("generalized_laplace", "l1"): l1.radius_table,
}


# --- radius functions of the table ---------------------------------------------------
def _gaussian_l2(c: Functional, noise: Noise, p: np.ndarray) -> np.ndarray:
    """Corollary 1: ``sigma Phi^{-1}(p)``."""
    return noise.sigma * ndtri(p)


def _gaussian_linf(c: Functional, noise: Noise, p: np.ndarray) -> np.ndarray:
    """Corollary 2: ``sigma Phi^{-1}(p) / sqrt(dim)`` (the worst shift is a vertex)."""
    return _gaussian_l2(c, noise, p) / math.sqrt(noise.dim)


def _gen_gaussian_l2(c: Functional, noise: Noise, p: np.ndarray) -> np.ndarray:
    """The exact Neyman-Pearson bound (``certifiers.functional.l2``); Cohen at k = 0."""
    if noise.k == 0:
        return noise.sigma * ndtri(p)
    return noise.sigma * c.table(noise, "l2")(p)


def _gen_gaussian_linf(c: Functional, noise: Noise, p: np.ndarray) -> np.ndarray:
    """The l2 bound over ``sqrt(dim)``: the largest l2 norm in the l-inf ball of radius
    eps is ``eps sqrt(dim)``, and the bound depends on ``||delta||_2`` only."""
    return _gen_gaussian_l2(c, noise, p) / math.sqrt(noise.dim)


def _mixed_norm_linf(c: Functional, noise: Noise, p: np.ndarray) -> np.ndarray:
    """Monte Carlo Neyman-Pearson at the vertex shift (``certifiers.functional.linf``);
    Corollary 2 at k = 0."""
    if noise.k == 0:
        return noise.sigma * ndtri(p) / math.sqrt(noise.dim)
    return noise.sigma * c.table(noise, "linf")(p)


def _gen_laplace_l1(c: Functional, noise: Noise, p: np.ndarray) -> np.ndarray:
    """Monte Carlo Neyman-Pearson at ``eps e_1`` (``certifiers.functional.l1``);
    ``-scale ln(2(1 - p))`` at k = 0 (infinite at p = 1: no shift moves all the mass)."""
    if noise.k == 0:
        with np.errstate(divide="ignore"):
            return -noise.scale * np.log(2.0 * (1.0 - p))
    return noise.scale * c.table(noise, "l1")(p)


def _l2_family_applies(noise: Noise) -> bool:
    """The exact l2 bound needs ``dim >= 2`` and ``k <= dim - 2`` (closed form at k = 0)."""
    return noise.k == 0 or (noise.dim >= 2 and noise.k <= noise.dim - 2)


def _monte_carlo_alpha(c: Functional, noise: Noise) -> float:
    """``mc_alpha`` for the Monte Carlo tables (k != 0), 0 for the closed forms."""
    return c.mc.alpha if noise.k != 0 else 0.0


@register("functional")
class Functional(Certifier):
    """See the module docstring. ``mc_samples``, ``mc_alpha``, ``mc_seed`` and ``mc_grid``
    set the Monte Carlo tables (mixed-norm l-inf, generalized-Laplace l1)."""

    certificates = {
        ("gaussian", "l2"): Certificate(_gaussian_l2),
        ("gaussian", "l1"): Certificate(_gaussian_l2),
        ("gaussian", "linf"): Certificate(_gaussian_linf),
        ("generalized_gaussian", "l2"): Certificate(_gen_gaussian_l2, _l2_family_applies),
        ("generalized_gaussian", "l1"): Certificate(_gen_gaussian_l2, _l2_family_applies),
        ("generalized_gaussian", "linf"): Certificate(_gen_gaussian_linf, _l2_family_applies),
        ("mixed_norm", "linf"): Certificate(_mixed_norm_linf, spends=_monte_carlo_alpha),
        ("generalized_laplace", "l1"): Certificate(_gen_laplace_l1, spends=_monte_carlo_alpha),
    }

    def __init__(
        self,
        mc_samples: int = MCSettings.samples,
        mc_alpha: float = MCSettings.alpha,
        mc_seed: int = MCSettings.seed,
        mc_grid: int = MCSettings.grid,
    ) -> None:
        self.mc = MCSettings(samples=mc_samples, alpha=mc_alpha, seed=mc_seed, grid=mc_grid)

    def options(self) -> dict[str, int | float]:
        return {
            "mc_samples": self.mc.samples,
            "mc_alpha": self.mc.alpha,
            "mc_seed": self.mc.seed,
            "mc_grid": self.mc.grid,
        }

    def table(self, noise: Noise, norm: str) -> RadiusTable:
        """The unit-scale radius table behind a (noise, norm) pair, built or loaded once."""
        key = (noise.family, noise.k, noise.dim, norm, self.mc)
        if key not in _TABLES:
            build = _BUILDERS.get((noise.family, norm))
            if build is None:
                raise ValueError(f"no table for {noise.name} against {norm}")
            _TABLES[key] = build(noise.k, noise.dim, self.mc)
        return _TABLES[key]

    def __getstate__(self) -> dict:
        return {"mc": self.mc}

    def __setstate__(self, state: dict) -> None:
        self.mc = state["mc"]
