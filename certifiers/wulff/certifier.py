"""Yang et al. 2020, "Randomized smoothing of all shapes and sizes": certified radii for the
Wulff-crystal noises, registered as ``wulff``.

Each noise is certified natively in the norms below (closed forms where the paper gives
one, else the differential or the level-set method through conservative cached tables);
every other norm is reached by converting the native radii
(``||d||_q <= d^{1/q - 1/p} ||d||_p``) and taking the best.

====================  =========================================================================
noise                 native certificates
====================  =========================================================================
Gaussian              l2: ``sigma Phi^{-1}(p)`` (Neyman-Pearson, Cohen et al.)
Laplace               l1: ``-b log(2(1 - p))``; linf: differential method (binomial Phi)
UniformCube           l1: ``2l(p - 1/2)``; linf: ``2l(1 - (3/2 - p)^{1/d})``
UniformBall           l2: ``2R sqrt(I^{-1}_{p-1/2}(1/2, (d+1)/2))``
Exp2 (k, j)           l2: k = 2, j = 0: Gaussian with ``sigma = s / sqrt 2``; otherwise the
                      level-set method (exact Neyman-Pearson), and for k = 1, j = 0 also the
                      differential closed form ``(d-1) s arctanh(2 I^{-1}_p(b, b) - 1)``
ExpInf (k, j)         l1 and linf: closed forms for k = 1, j = 0; otherwise the differential
                      method (needs j = 0 or d - j > 1)
PowInf (a)            l1 (linear closed form below p = 1 - 1/(2d)) and linf: differential
Pareto (a)            l1: hypergeometric closed form (differential method)
====================  =========================================================================

The table ``WULFF_FAMILIES`` maps each family to its native certificates; adding a noise
to ``wulff`` is one entry there. Every radius is rounded down by a relative ``ROUND_DOWN``
to cover float rounding in the special functions.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from certifiers.base import NORMS, Certificate, Certifier
from certifiers.norm_conversion import best_of
from certifiers.registry import register
from certifiers.wulff import closed_forms as cf
from certifiers.wulff import differential as diff
from certifiers.wulff import level_set
from harness.noise import Noise

ROUND_DOWN = 1e-12

NativeRadius = Callable[[Noise, np.ndarray], np.ndarray]


def _always(noise: Noise) -> bool:
    return True


@dataclass(frozen=True)
class WulffFamily:
    """The native certificates of one noise family: norm -> ``radius(noise, p)``, and the
    parameters where they hold."""

    natives: Mapping[str, NativeRadius]
    applies: Callable[[Noise], bool] = _always


def _pow_inf_l1(noise: Noise, p: np.ndarray) -> np.ndarray:
    """Differential method, and the linear closed form up to ``p = 1 - 1/(2d)``; beyond
    it the closed form's value at the knee, certified there and so at every larger p (the
    table alone, a lower Riemann sum, starts a little below it)."""
    l1 = noise.scale * diff.pow_inf_table(noise.a, noise.dim, "l1")(p)
    knee = 1.0 - 0.5 / noise.dim
    linear = cf.pow_inf_l1_linear(noise.scale, noise.a, noise.dim, np.minimum(p, knee))
    return np.maximum(l1, linear)


def _exp_inf(norm: str) -> NativeRadius:
    def radius(noise: Noise, p: np.ndarray) -> np.ndarray:
        if noise.k == 1.0 and noise.j == 0.0:
            if norm == "l1":
                return cf.exp_inf_k1_l1(noise.scale, noise.dim, p)
            return cf.exp_inf_k1_linf(noise.scale, p)
        return noise.scale * diff.exp_inf_table(noise.k, noise.j, noise.dim, norm)(p)

    return radius


def _exp2_l2(noise: Noise, p: np.ndarray) -> np.ndarray:
    """Gaussian at k = 2, j = 0; Laplace at dim 1; else the level-set method (and the
    differential closed form for k = 1, j = 0, whichever is larger)."""
    if noise.j == 0.0 and noise.k == 2.0:
        return cf.gaussian_l2(noise.scale / math.sqrt(2.0), p)
    if noise.dim == 1:  # k = 1, j = 0: Laplace
        return cf.laplace_l1(noise.scale, p)
    table = noise.scale * level_set.exp2_table(noise.k, noise.j, noise.dim)(p)
    if noise.j == 0.0 and noise.k == 1.0:
        table = np.maximum(table, cf.exp2_k1_l2(noise.scale, noise.dim, p))
    return table


def _exp_inf_applies(noise: Noise) -> bool:
    """``E[-d log q]`` is infinite for ``j > 0`` and ``d - j <= 1``: no differential
    certificate."""
    return not (noise.j > 0 and noise.dim - noise.j <= 1)


def _exp2_applies(noise: Noise) -> bool:
    """At dim 1 only the closed forms (k = 1 or 2, j = 0) exist."""
    return not (noise.dim == 1 and not (noise.j == 0 and noise.k in (1.0, 2.0)))


WULFF_FAMILIES: dict[str, WulffFamily] = {
    "gaussian": WulffFamily({"l2": lambda nz, p: cf.gaussian_l2(nz.sigma, p)}),
    "laplace": WulffFamily(
        {
            "l1": lambda nz, p: cf.laplace_l1(nz.scale, p),
            "linf": lambda nz, p: nz.scale * diff.laplace_linf_table(nz.dim)(p),
        }
    ),
    "uniform_cube": WulffFamily(
        {
            "l1": lambda nz, p: cf.uniform_cube_l1(nz.half_width, p),
            "linf": lambda nz, p: cf.uniform_cube_linf(nz.half_width, nz.dim, p),
        }
    ),
    "uniform_ball": WulffFamily({"l2": lambda nz, p: cf.uniform_ball_l2(nz.radius, nz.dim, p)}),
    "pareto": WulffFamily({"l1": lambda nz, p: cf.pareto_l1(nz.scale, nz.a, p)}),
    "pow_inf": WulffFamily(
        {
            "l1": _pow_inf_l1,
            "linf": lambda nz, p: nz.scale * diff.pow_inf_table(nz.a, nz.dim, "linf")(p),
        }
    ),
    "exp_inf": WulffFamily({"l1": _exp_inf("l1"), "linf": _exp_inf("linf")}, _exp_inf_applies),
    "exp2": WulffFamily({"l2": _exp2_l2}, _exp2_applies),
}


def native_radii(noise: Noise, p: np.ndarray) -> dict[str, np.ndarray]:
    """Radii in each native norm of ``noise`` for ``p`` (entries in (1/2, 1])."""
    p = np.asarray(p, dtype=np.float64)
    family = WULFF_FAMILIES[noise.family]
    return {norm: radius(noise, p) for norm, radius in family.natives.items()}


def _converted(certifier: Certifier, noise: Noise, p: np.ndarray, norm: str) -> np.ndarray:
    return best_of(native_radii(noise, p), norm, noise.dim) * (1.0 - ROUND_DOWN)


def _certificate(family: WulffFamily, norm: str) -> Certificate:
    return Certificate(lambda c, noise, p: _converted(c, noise, p, norm), family.applies)


@register("wulff")
class Wulff(Certifier):
    """Certified radii of Yang et al. 2020 for the Wulff-crystal noises (module docstring):
    every norm of every family of ``WULFF_FAMILIES``, natively or by conversion."""

    certificates = {
        (name, norm): _certificate(family, norm)
        for name, family in WULFF_FAMILIES.items()
        for norm in NORMS
    }
