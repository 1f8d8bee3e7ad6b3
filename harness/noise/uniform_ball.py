"""Uniform noise in the l2 ball of radius R (Yang et al. 2020, "Randomized smoothing of
all shapes and sizes")."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from harness.noise.base import Noise, check_dim, check_positive_finite, register_noise
from harness.noise.coupling import finish, spherical


@register_noise("uniform_ball")
class UniformBall(Noise):
    """Direction ``G / ||G||``, radius ``R * u^{1/d}`` with ``u = F_chi_d(||G||)`` (the
    radius of a uniform point of the ball has CDF ``(r / R)^d``).
    ``E||z||_2^2 = R^2 d / (d + 2)``. ``log_prob`` is 0 in the closed ball, ``-inf`` outside.
    """

    def __init__(self, radius: float, dim: int) -> None:
        self.radius = check_positive_finite("radius", radius)
        self.dim = check_dim(dim)

    @classmethod
    def matched(cls, sigma0: float, dim: int) -> UniformBall:
        """The ball with ``E||z||^2 = dim * sigma0^2``: ``R = sigma0 * sqrt(dim + 2)``."""
        sigma0 = check_positive_finite("sigma0", sigma0)
        dim = check_dim(dim)
        return cls(radius=sigma0 * math.sqrt(dim + 2.0), dim=dim)

    def params(self) -> dict[str, Any]:
        return {"radius": self.radius, "dim": self.dim}

    def _quantile(self, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
        # R * u^{1/d}; with u close to 1 use 1 - (1 - u) through log1p for accuracy.
        with np.errstate(divide="ignore"):
            log_u = np.where(lower <= 0.5, np.log(lower), np.log1p(-upper))
        return self.radius * np.exp(log_u / self.dim)

    def transform(self, G: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        self._check_G(G)
        return finish(spherical(G, self._quantile), G, out)

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        # A sample's norm can exceed R by a rounding error (samples are float32 in the
        # sampler); a few float32 ulps of slack keep every sample on the support.
        slack = 1.0 + 8.0 * torch.finfo(torch.float32).eps
        inside = torch.linalg.vector_norm(z, dim=-1) <= self.radius * slack
        zero = torch.zeros(z.shape[:-1], dtype=z.dtype, device=z.device)
        return torch.where(inside, zero, torch.full_like(zero, -math.inf))

    def second_moment(self) -> float:
        return self.radius**2 * self.dim / (self.dim + 2.0)
