"""The l-inf power law ``pi(z) ~ (1 + ||z||_inf / s)^{-a}`` ("PowInf" in Yang et al. 2020,
"Randomized smoothing of all shapes and sizes"); proper for ``a > d``."""

from __future__ import annotations

import math

import numpy as np
import torch
from scipy import special, stats

from harness.noise.linf_radial import LinfRadialNoise
from harness.noise.params import check_dim, check_positive_finite
from harness.noise.registry import register_noise


@register_noise("pow_inf")
class PowInf(LinfRadialNoise):
    """l-inf symmetric; ``t = ||z||_inf / s`` has density ``~ t^{d-1} (1 + t)^{-a}``, i.e.
    ``B = t / (1 + t) ~ Beta(d, a - d)`` (``t`` is beta-prime); given its l-inf norm, z is
    uniform on the cube's surface (``harness.noise.linf_radial``).
    ``E||z||_2^2 = s^2 d (d + 1) / ((a - d - 1)(a - d - 2)) * (d + 2) / 3`` for
    ``a > d + 2`` (infinite otherwise).
    """

    scale_param = "scale"

    def __init__(self, scale: float, a: float, dim: int) -> None:
        self.scale = check_positive_finite("scale", scale)
        self.a = check_positive_finite("a", a)
        self.dim = check_dim(dim)
        if self.a <= self.dim:
            raise ValueError(f"a must exceed dim for a proper density, got a={self.a}, dim={dim}")

    @classmethod
    def examples(cls, dim: int) -> list[PowInf]:
        return [cls.matched(0.5, dim, a=dim + 4.0), cls.matched(0.5, dim, a=2.0 * dim + 8.0)]

    def radius_law(self) -> stats.rv_continuous:
        return stats.betaprime(float(self.dim), self.a - self.dim, scale=self.scale)

    def radius_quantile(self, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
        # t = B / (1 - B) with B ~ Beta(d, a - d) at probability `lower`; C = 1 - B is the
        # Beta(a - d, d) quantile at `upper`. Each inverse is accurate where its probability
        # is the smaller one, so B is used where lower <= 1/2 and C elsewhere.
        d, b = float(self.dim), self.a - self.dim
        lower = np.asarray(lower, dtype=np.float64)
        upper = np.asarray(upper, dtype=np.float64)
        use_lower = lower <= 0.5
        B = _beta_quantile(d, b, np.where(use_lower, lower, 0.25))
        C = _beta_quantile(b, d, np.where(use_lower, 0.25, upper))
        with np.errstate(all="ignore"):
            t = np.where(use_lower, B / (1.0 - B), (1.0 - C) / C)
        return self.scale * t

    def radial_log_prob(self, r: torch.Tensor) -> torch.Tensor:
        return -self.a * torch.log1p(r / self.scale)

    def second_moment(self) -> float:
        d, b = self.dim, self.a - self.dim
        if b <= 2:
            return math.inf
        radial = self.scale**2 * d * (d + 1.0) / ((b - 1.0) * (b - 2.0))
        return radial * self.unit_sphere_l2_moment()


def _beta_quantile(a: float, b: float, y: np.ndarray) -> np.ndarray:
    """``betaincinv(a, b, y)``; where scipy fails for tiny ``y`` (below ~1e-150, reached only
    by base draws beyond |G| ~ 26), the leading term ``I_x(a, b) ~ x^a / (a B(a, b))``."""
    y = np.asarray(y, dtype=np.float64)
    with np.errstate(all="ignore"):
        x = special.betaincinv(a, b, y)
        small = (np.log(y) + math.log(a) + special.betaln(a, b)) / a
        fallback = np.exp(small)
    return np.where(np.isfinite(x) & ((x > 0) | (y <= 0)), x, fallback)
