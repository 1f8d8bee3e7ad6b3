"""Dvijotham et al. 2020, f-divergence certificates with the hockey-stick family:
``fdiv-hockey-stick``.

``D_gamma(P || Q) = sup_A P(A) - gamma Q(A)``. Certified when, for some ``gamma >= 1``,
``D_gamma(P_delta || P_0) < D_gamma(Bern(1/2) || Bern(p_A)) = 1/2 - gamma (1 - p_A)``. With
the best gamma this is the Neyman-Pearson bound, so it recovers Cohen's radius for the
Gaussian; here it is computed from the divergences themselves (a golden-section search
over gamma inside a root search over the radius), not from Cohen's formula.

Worst-case divergences over the norm ball of radius eps (``certifiers.fdiv.divergences``):

- Gaussian, l2: the Gaussian mechanism's privacy profile;
- Laplace, l1: the likelihood ratio is at most ``exp(eps / b)``, so
  ``D_gamma <= (1 - gamma exp(-eps / b))_+`` (gives ``R = -b log(2(1 - p))``);
- uniform cube, l1: ``min(1, eps / (2l))``; l-inf: ``1 - (1 - eps/(2l))_+^d``;
- uniform l2 ball: ``I_{eps^2 / (4R^2)}(1/2, (d+1)/2)`` (one minus the overlap).

Other norms by conversion.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from certifiers.base import NORMS, Certificate, Certifier
from certifiers.fdiv import divergences as fd
from certifiers.norm_conversion import best_of
from certifiers.registry import register
from harness.noise import Noise


def _zero(eps: np.ndarray) -> np.ndarray:
    return np.zeros_like(np.asarray(eps, dtype=np.float64))


def _gaussian(noise: Noise, p: np.ndarray) -> dict[str, np.ndarray]:
    prof = fd.gaussian_hockey_stick(noise.sigma)
    return {"l2": fd.hockey_stick_radius(prof, _zero, p, noise.sigma)}


def _laplace(noise: Noise, p: np.ndarray) -> dict[str, np.ndarray]:
    b = noise.scale

    def laplace(gamma: np.ndarray, eps: np.ndarray) -> np.ndarray:
        return np.maximum(1.0 - gamma * np.exp(-eps / b), 0.0)

    return {"l1": fd.hockey_stick_radius(laplace, _zero, p, b)}


def _uniform_cube(noise: Noise, p: np.ndarray) -> dict[str, np.ndarray]:
    l, d = noise.half_width, noise.dim

    def cube_l1(eps: np.ndarray) -> np.ndarray:
        return np.minimum(np.asarray(eps, dtype=np.float64) / (2.0 * l), 1.0)

    def cube_linf(eps: np.ndarray) -> np.ndarray:
        frac = np.minimum(np.asarray(eps, dtype=np.float64) / (2.0 * l), 1.0)
        with np.errstate(divide="ignore"):
            return -np.expm1(d * np.log1p(-frac))

    return {
        "l1": fd.hockey_stick_radius(
            lambda g, e: cube_l1(e), cube_l1, p, l, 2.0 * l, gamma_free=True
        ),
        "linf": fd.hockey_stick_radius(
            lambda g, e: cube_linf(e), cube_linf, p, l, 2.0 * l, gamma_free=True
        ),
    }


def _uniform_ball(noise: Noise, p: np.ndarray) -> dict[str, np.ndarray]:
    R, d = noise.radius, noise.dim

    def ball(eps: np.ndarray) -> np.ndarray:
        x = np.minimum((np.asarray(eps, dtype=np.float64) / (2.0 * R)) ** 2, 1.0)
        return special.betainc(0.5, (d + 1.0) / 2.0, x)

    radius = fd.hockey_stick_radius(lambda g, e: ball(e), ball, p, R, 2.0 * R, gamma_free=True)
    return {"l2": radius}


#: family -> native radii from the worst-case hockey-stick divergences of the noise.
HOCKEY_STICK_FAMILIES = {
    "gaussian": _gaussian,
    "laplace": _laplace,
    "uniform_cube": _uniform_cube,
    "uniform_ball": _uniform_ball,
}


def native_radii(noise: Noise, p: np.ndarray) -> dict[str, np.ndarray]:
    return HOCKEY_STICK_FAMILIES[noise.family](noise, p)


def _certificate(norm: str) -> Certificate:
    return Certificate(lambda c, noise, p: best_of(native_radii(noise, p), norm, noise.dim))


@register("fdiv-hockey-stick")
class FdivHockeyStick(Certifier):
    certificates = {
        (family, norm): _certificate(norm) for family in HOCKEY_STICK_FAMILIES for norm in NORMS
    }
