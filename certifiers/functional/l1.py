"""l1 certificate for generalized Laplace smoothing (Zhang et al. 2020), by Monte Carlo.

``pi_0(z) ~ ||z||_1^{-k} exp(-||z||_1)`` (``scale = 1``; radii scale with the scale). The
worst shift in the l1 ball of radius ``eps`` is taken at ``eps * e_1`` (the tests check
numerically, at small dimension, that other points of the l1 sphere and smaller shifts are
not worse). With ``T = ||z||_1`` and ``D = |z_1 - eps| - |z_1|``,

    Lambda = -k log1p(D / T) - D,

and ``D = eps - 2 clip(z_1, 0, eps)`` (``eps`` for ``z_1 <= 0``, ``-eps`` for ``z_1 >= eps``),
exact at the atoms of ``Lambda`` that ``k = 0`` has.
The statistics are drawn exactly: ``T ~ Gamma(dim - k)``, ``|z_1| = T B`` with
``B ~ Beta(1, dim - 1)`` (a Dirichlet(1, ..., 1) coordinate) and a fair sign.
``certifiers.montecarlo.np_table`` turns them into a sound table.

For ``k = 0`` (i.i.d. Laplace) the exact radius is ``-scale ln(2 (1 - p))`` (Teng et al.
2020; Yang et al. 2020); the certifier uses that closed form and the tests use it to check
this Monte Carlo path.
"""

from __future__ import annotations

import math

import numpy as np

from certifiers.montecarlo import MCSettings, split_sample_table
from certifiers.tables import RadiusTable, cached_table

#: Bump whenever the mathematics of the table change (it keys the disk cache).
CODE_VERSION = 1


def sample_statistics(
    k: float, dim: int, n: int, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """``n`` exact draws of ``(z_1, ||z||_1)`` under ``GeneralizedLaplace(1, k, dim)``."""
    T = rng.gamma(dim - k, size=n)
    B = rng.beta(1.0, dim - 1.0, size=n) if dim > 1 else np.ones(n)
    sign = np.where(rng.random(n) < 0.5, -1.0, 1.0)
    return {"z1": sign * T * B, "norm": T}


def axis_log_ratio(k: float) -> callable:
    """``Lambda(eps, stats)`` for the shift ``eps * e_1``."""

    def log_ratio(eps: float, s: dict[str, np.ndarray]) -> np.ndarray:
        D = np.clip(s["z1"], 0.0, eps)
        D *= -2.0
        D += eps
        if not k:
            return np.negative(D, out=D)
        out = np.log1p(D / s["norm"])
        out *= -k
        out -= D
        return out

    return log_ratio


def build_table(k: float, dim: int, settings: MCSettings) -> tuple[np.ndarray, np.ndarray]:
    """Certified pairs ``(p_j, eps_j)`` at ``scale = 1`` over a geometric grid of radii."""
    # Laplace with the same second moment: R = -b ln(2(1 - p)), b the matched scale
    scale = math.sqrt((dim - k) * (dim - k + 1) / (dim * (dim + 1.0)))
    radii = scale * np.geomspace(0.02, 14.0, settings.grid)
    return split_sample_table(
        sample_statistics, axis_log_ratio(k), k, dim, radii, settings, stream=11
    )


def radius_table(k: float, dim: int, settings: MCSettings) -> RadiusTable:
    key = {
        "certifier": "functional",
        "family": "generalized_laplace",
        "params": {"k": float(k), "scale": 1.0},
        "dim": int(dim),
        "norm": "l1",
        "mc": [settings.samples, settings.alpha, settings.seed, settings.grid],
        "version": CODE_VERSION,
    }
    return cached_table(key, lambda: build_table(k, dim, settings))
