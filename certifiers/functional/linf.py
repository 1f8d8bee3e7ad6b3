"""l-inf certificate for mixed-norm smoothing (Zhang et al. 2020), by Monte Carlo.

``pi_0(z) ~ ||z||_inf^{-k} exp(-||z||_2^2 / 2)`` (``sigma = 1``; radii scale with sigma).
As in the paper the worst shift in the l-inf ball of radius ``eps`` is taken at a vertex,
``delta = eps * (1, ..., 1)`` by the symmetries of ``pi_0`` (the tests check numerically,
at small dimension, that other points of the cube's surface and smaller shifts are not
worse). The log likelihood ratio then depends on ``z`` only through
``(max z, min z, sum z)`` and ``||z||_inf``:

    Lambda = -k log(max(max z - eps, eps - min z) / ||z||_inf) + eps sum z - dim eps^2 / 2.

Statistics are drawn (``harness.noise.mixed_norm``): ``M = ||z||_inf`` from its 1-D law by
inverse CDF (a spline, within ``MaxLaw.tv_bound`` of the exact law in total variation,
which the table accounts for: ``np_table``'s ``law_distance``), a fair sign for the
extreme coordinate, and the other ``dim - 1`` coordinates i.i.d. ``N(0, 1)`` truncated to
``[-M, M]`` by inverse CDF (exact given ``M``); only their max, min and sum are kept.
``certifiers.montecarlo.np_table`` turns them into a sound table.

For ``k = 0`` (Gaussian) the vertex shift has l2 norm ``eps sqrt(dim)`` and the exact
answer is Corollary 2, ``eps = Phi^{-1}(p) / sqrt(dim)``; the certifier uses that closed
form and the tests use it to check this Monte Carlo path.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special as sp

from certifiers.montecarlo import MCSettings, split_sample_table
from certifiers.tables import RadiusTable, cached_table
from harness.noise.mixed_norm import max_law

#: Bump whenever the mathematics of the table change (it keys the disk cache). 2: the
#: spline law of ``M`` is accounted for by its total variation bound.
CODE_VERSION = 2
_CHUNK = 20_000


def sample_statistics(
    k: float, dim: int, n: int, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """``n`` exact draws of ``(max z, min z, sum z, ||z||_inf)`` under ``MixedNorm(1, k, dim)``."""
    u = rng.random(n)
    if k:
        with np.errstate(divide="ignore"):
            M = max_law(k, dim).quantile_from_logs(np.log(u), np.log1p(-u))
    else:  # Gaussian: (2 Phi(m) - 1)^dim = u
        M = -sp.ndtri((1.0 - u ** (1.0 / dim)) / 2.0)
    sign = np.where(rng.random(n) < 0.5, -1.0, 1.0)
    hi = np.full(n, -np.inf)
    lo = np.full(n, np.inf)
    total = np.zeros(n)
    for start in range(0, n, _CHUNK):
        sl = slice(start, min(n, start + _CHUNK))
        tail = sp.ndtr(-M[sl])[:, None]
        x = sp.ndtri(tail + rng.random((sl.stop - sl.start, dim - 1)) * (1.0 - 2.0 * tail))
        if dim > 1:
            hi[sl], lo[sl], total[sl] = x.max(axis=1), x.min(axis=1), x.sum(axis=1)
    extreme = sign * M
    return {
        "max": np.maximum(hi, extreme),
        "min": np.minimum(lo, extreme),
        "sum": total + extreme,
        "log_norm": np.log(M),
    }


def vertex_log_ratio(k: float, dim: int) -> callable:
    """``Lambda(eps, stats)`` for the vertex shift ``eps * (1, ..., 1)``."""

    def log_ratio(eps: float, s: dict[str, np.ndarray]) -> np.ndarray:
        out = eps * s["sum"] - dim * eps * eps / 2.0
        if k:
            shifted = np.maximum(s["max"] - eps, eps - s["min"])
            out -= k * (np.log(shifted) - s["log_norm"])
        return out

    return log_ratio


def build_table(k: float, dim: int, settings: MCSettings) -> tuple[np.ndarray, np.ndarray]:
    """Certified pairs ``(p_j, eps_j)`` at ``sigma = 1`` over a geometric grid of radii."""
    # the Gaussian with the same second moment certifies Phi^{-1}(p) sqrt((d-k)/d)/sqrt(d)
    scale = math.sqrt((dim - k) / dim) / math.sqrt(dim)
    radii = scale * np.geomspace(0.02, 5.0, settings.grid)
    distance = max_law(k, dim).tv_bound if k else 0.0  # M's law is a spline's for k > 0
    return split_sample_table(
        sample_statistics, vertex_log_ratio(k, dim), k, dim, radii, settings, 7, distance
    )


def radius_table(k: float, dim: int, settings: MCSettings) -> RadiusTable:
    key = {
        "certifier": "functional",
        "family": "mixed_norm",
        "params": {"k": float(k), "sigma": 1.0},
        "dim": int(dim),
        "norm": "linf",
        "mc": [settings.samples, settings.alpha, settings.seed, settings.grid],
        "version": CODE_VERSION,
    }
    return cached_table(key, lambda: build_table(k, dim, settings))
