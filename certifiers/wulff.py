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

Every radius is rounded down by a relative ``ROUND_DOWN`` to cover float rounding in the
special functions.
"""

from __future__ import annotations

import math

import numpy as np

from certifiers import wulff_closed_forms as cf
from certifiers import wulff_differential as diff
from certifiers import wulff_level_set as level_set
from certifiers.base import Certifier
from certifiers.norm_conversion import best_of
from certifiers.registry import register
from harness.noise import (
    Exp2,
    ExpInf,
    Gaussian,
    Laplace,
    Noise,
    Pareto,
    PowInf,
    UniformBall,
    UniformCube,
)

ROUND_DOWN = 1e-12

_FAMILIES = (Gaussian, Laplace, UniformCube, UniformBall, Exp2, ExpInf, PowInf, Pareto)


def native_norms(noise: Noise) -> tuple[str, ...]:
    """The norms in which ``wulff`` certifies ``noise`` directly (empty: unsupported)."""
    if type(noise) not in _FAMILIES:
        return ()
    if isinstance(noise, Gaussian | UniformBall):
        return ("l2",)
    if isinstance(noise, Laplace | UniformCube):
        return ("l1", "linf")
    if isinstance(noise, Pareto):
        return ("l1",)
    if isinstance(noise, PowInf):
        return ("l1", "linf")
    if isinstance(noise, ExpInf):
        if noise.j > 0 and noise.dim - noise.j <= 1:
            return ()  # E[-d log q] is infinite: no differential certificate
        return ("l1", "linf")
    if isinstance(noise, Exp2):
        if noise.dim == 1 and not (noise.j == 0 and noise.k in (1.0, 2.0)):
            return ()
        return ("l2",)
    return ()


def native_radii(noise: Noise, p: np.ndarray) -> dict[str, np.ndarray]:
    """Radii in each native norm for ``p`` (float64 array with entries in (1/2, 1])."""
    p = np.asarray(p, dtype=np.float64)
    if isinstance(noise, Gaussian):
        return {"l2": cf.gaussian_l2(noise.sigma, p)}
    if isinstance(noise, Laplace):
        return {
            "l1": cf.laplace_l1(noise.scale, p),
            "linf": noise.scale * diff.laplace_linf_table(noise.dim)(p),
        }
    if isinstance(noise, UniformCube):
        return {
            "l1": cf.uniform_cube_l1(noise.half_width, p),
            "linf": cf.uniform_cube_linf(noise.half_width, noise.dim, p),
        }
    if isinstance(noise, UniformBall):
        return {"l2": cf.uniform_ball_l2(noise.radius, noise.dim, p)}
    if isinstance(noise, Pareto):
        return {"l1": cf.pareto_l1(noise.scale, noise.a, p)}
    if isinstance(noise, PowInf):
        l1 = noise.scale * diff.pow_inf_table(noise.a, noise.dim, "l1")(p)
        knee = 1.0 - 0.5 / noise.dim
        linear = cf.pow_inf_l1_linear(noise.scale, noise.a, noise.dim, p)
        l1 = np.maximum(l1, np.where(p <= knee, linear, 0.0))
        linf = noise.scale * diff.pow_inf_table(noise.a, noise.dim, "linf")(p)
        return {"l1": l1, "linf": linf}
    if isinstance(noise, ExpInf):
        if noise.k == 1.0 and noise.j == 0.0:
            return {
                "l1": cf.exp_inf_k1_l1(noise.scale, noise.dim, p),
                "linf": cf.exp_inf_k1_linf(noise.scale, p),
            }
        return {
            norm: noise.scale * diff.exp_inf_table(noise.k, noise.j, noise.dim, norm)(p)
            for norm in ("l1", "linf")
        }
    if isinstance(noise, Exp2):
        if noise.j == 0.0 and noise.k == 2.0:
            return {"l2": cf.gaussian_l2(noise.scale / math.sqrt(2.0), p)}
        if noise.dim == 1:  # k = 1, j = 0: Laplace
            return {"l2": cf.laplace_l1(noise.scale, p)}
        table = noise.scale * level_set.exp2_table(noise.k, noise.j, noise.dim)(p)
        if noise.j == 0.0 and noise.k == 1.0:
            table = np.maximum(table, cf.exp2_k1_l2(noise.scale, noise.dim, p))
        return {"l2": table}
    raise ValueError(f"wulff does not know {noise.name}")


@register("wulff")
class Wulff(Certifier):
    """Certified radii of Yang et al. 2020 for the Wulff-crystal noises (module docstring)."""

    def supports(self, noise: Noise, norm: str) -> bool:
        return norm in ("l1", "l2", "linf") and bool(native_norms(noise))

    def _radius(self, noise: Noise, p: np.ndarray, norm: str) -> np.ndarray:
        radii = best_of(native_radii(noise, p), norm, noise.dim)
        return radii * (1.0 - ROUND_DOWN)
