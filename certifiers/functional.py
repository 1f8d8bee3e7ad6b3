"""The functional-optimization certifier of Zhang et al. (2020), registered as ``functional``.

Certify ``min over f in [0, 1] and delta in B of E_{pi_delta}[f]`` subject to
``E_{pi_0}[f] = p``; by the dual (Eq. 9, ``certifiers.dual``) and Neyman-Pearson this is
the exact worst case over all base classifiers. Supported pairs:

================== ============ =========================================================
noise              norm         certificate
================== ============ =========================================================
Gaussian           l2, l1       ``sigma Phi^{-1}(p)`` (Corollary 1; the worst l1 shift
                                ``eps e_i`` has l2 norm ``eps``)
Gaussian           linf         ``sigma Phi^{-1}(p) / sqrt(dim)`` (Corollary 2: vertex)
GeneralizedGaussian l2          exact Neyman-Pearson bound, ``certifiers.functional_l2``
                                (a cached conservative table; closed form for ``k = 0``)
GeneralizedGaussian l1, linf    the l2 radius, resp. divided by ``sqrt(dim)``: the bound
                                depends on ``||delta||_2`` only and the largest l2 norm in
                                the l1 (l-inf) ball of radius eps is eps (eps sqrt(dim))
MixedNorm          linf         Monte Carlo Neyman-Pearson at the vertex shift,
                                ``certifiers.functional_linf`` (Corollary 2 for ``k = 0``)
GeneralizedLaplace l1           Monte Carlo Neyman-Pearson at ``eps e_1``,
                                ``certifiers.functional_l1`` (``-scale ln(2(1-p))`` for
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

from certifiers import functional_l1, functional_l2, functional_linf
from certifiers.base import Certifier
from certifiers.montecarlo import MCSettings
from certifiers.registry import register
from certifiers.tables import RadiusTable
from harness.noise import Gaussian, GeneralizedGaussian, GeneralizedLaplace, MixedNorm, Noise

_TABLES: dict[tuple, RadiusTable] = {}


@register("functional")
class Functional(Certifier):
    """See the module docstring. ``mc_samples``, ``mc_alpha``, ``mc_seed`` and ``mc_grid``
    set the Monte Carlo tables (mixed-norm l-inf, generalized-Laplace l1)."""

    deterministic = False  # the l-inf and l1 tables are Monte Carlo

    def __init__(
        self,
        mc_samples: int = MCSettings.samples,
        mc_alpha: float = MCSettings.alpha,
        mc_seed: int = MCSettings.seed,
        mc_grid: int = MCSettings.grid,
    ) -> None:
        self.mc = MCSettings(samples=mc_samples, alpha=mc_alpha, seed=mc_seed, grid=mc_grid)

    def supports(self, noise: Noise, norm: str) -> bool:
        if type(noise) is Gaussian:
            return norm in ("l1", "l2", "linf")
        if type(noise) is GeneralizedGaussian:
            return noise.k == 0 or (noise.dim >= 2 and noise.k <= noise.dim - 2)
        if type(noise) is MixedNorm:
            return norm == "linf"
        if type(noise) is GeneralizedLaplace:
            return norm == "l1"
        return False

    def _is_monte_carlo(self, noise: Noise, norm: str) -> bool:
        return type(noise) in (MixedNorm, GeneralizedLaplace) and noise.k != 0

    def confidence_spent(self, noise: Noise, norm: str) -> float:
        """``mc_alpha`` for the Monte Carlo pairs, 0 for the exact ones."""
        return self.mc.alpha if self._is_monte_carlo(noise, norm) else 0.0

    def table(self, noise: Noise, norm: str) -> RadiusTable:
        """The unit-scale radius table behind a (noise, norm) pair, built or loaded once."""
        family = type(noise).__name__
        key = (family, noise.k, noise.dim, norm, self.mc)
        if key not in _TABLES:
            if type(noise) is GeneralizedGaussian:
                _TABLES[key] = functional_l2.radius_table(noise.k, noise.dim)
            elif type(noise) is MixedNorm:
                _TABLES[key] = functional_linf.radius_table(noise.k, noise.dim, self.mc)
            elif type(noise) is GeneralizedLaplace:
                _TABLES[key] = functional_l1.radius_table(noise.k, noise.dim, self.mc)
            else:
                raise ValueError(f"no table for {noise.name}")
        return _TABLES[key]

    def _radius(self, noise: Noise, p: np.ndarray, norm: str) -> np.ndarray:
        if type(noise) is GeneralizedLaplace:
            if noise.k == 0:
                return -noise.scale * np.log(2.0 * (1.0 - p))
            return noise.scale * self.table(noise, norm)(p)
        if type(noise) is MixedNorm:
            if noise.k == 0:
                return noise.sigma * ndtri(p) / math.sqrt(noise.dim)
            return noise.sigma * self.table(noise, norm)(p)
        if type(noise) is Gaussian or noise.k == 0:
            r2 = noise.sigma * ndtri(p)
        else:
            r2 = noise.sigma * self.table(noise, "l2")(p)
        return r2 / math.sqrt(noise.dim) if norm == "linf" else r2

    def __getstate__(self) -> dict:
        return {"mc": self.mc}

    def __setstate__(self, state: dict) -> None:
        self.mc = state["mc"]
