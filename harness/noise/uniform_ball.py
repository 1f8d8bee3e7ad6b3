"""Uniform noise in the l2 ball of radius R (Yang et al. 2020, "Randomized smoothing of
all shapes and sizes")."""

from __future__ import annotations

import math

import numpy as np
import torch
from scipy import stats

from harness.noise.params import check_dim, check_positive_finite
from harness.noise.registry import register_noise
from harness.noise.spherical import SphericalNoise

#: Samples are float32 in the sampler; a sample's norm can exceed R by a rounding error.
_SLACK = 1.0 + 8.0 * torch.finfo(torch.float32).eps


@register_noise("uniform_ball")
class UniformBall(SphericalNoise):
    """Direction ``G / ||G||``, radius ``R * u^{1/d}`` with ``u = F_chi_d(||G||)`` (the
    radius of a uniform point of the ball has CDF ``(r / R)^d``, the Beta(d, 1) law).
    ``E||z||_2^2 = R^2 d / (d + 2)``. ``log_prob`` is 0 in the closed ball, ``-inf`` outside
    (with a few float32 ulps of slack).
    """

    scale_param = "radius"

    def __init__(self, radius: float, dim: int) -> None:
        self.radius = check_positive_finite("radius", radius)
        self.dim = check_dim(dim)

    def radius_law(self) -> stats.rv_continuous:
        return stats.beta(self.dim, 1.0, scale=self.radius)

    def radius_quantile(self, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
        # R * u^{1/d}; with u close to 1 use 1 - (1 - u) through log1p for accuracy.
        with np.errstate(divide="ignore"):
            log_u = np.where(lower <= 0.5, np.log(lower), np.log1p(-upper))
        return self.radius * np.exp(log_u / self.dim)

    def radial_log_prob(self, r: torch.Tensor) -> torch.Tensor:
        zero = torch.zeros_like(r)
        return torch.where(r <= self.radius * _SLACK, zero, torch.full_like(zero, -math.inf))

    def second_moment(self) -> float:
        return self.radius**2 * self.dim / (self.dim + 2.0)
