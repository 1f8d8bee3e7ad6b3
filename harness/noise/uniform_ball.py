"""Uniform noise in the l2 ball of radius R (Yang et al. 2020, "Randomized smoothing of
all shapes and sizes")."""

from __future__ import annotations

import math

import numpy as np
import torch
from scipy import stats

from harness.noise.batch import Batch
from harness.noise.coupling import ChiSquareLaw
from harness.noise.monotone_table import MonotoneTable, cached_table
from harness.noise.numerics import TINY
from harness.noise.params import check_dim, check_positive_finite
from harness.noise.registry import register_noise
from harness.noise.spherical import SphericalNoise

#: Samples are float32 in the sampler; a sample's norm can exceed R by a rounding error.
_SLACK = 1.0 + 8.0 * torch.finfo(torch.float32).eps


@register_noise("uniform_ball")
class UniformBall(SphericalNoise):
    """Direction ``G / ||G||``, radius ``R * u^{1/d}`` with ``u = F_chi_d(||G||)`` (the
    radius of a uniform point of the ball has CDF ``(r / R)^d``, the Beta(d, 1) law); the
    table holds ``-ln u`` (see ``radius_table``).
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

    def radius_table(self) -> MonotoneTable:
        """``||G||^2 -> -ln F_chi^2_d(||G||^2)`` (positive, decreasing), from which
        ``R = radius * exp(ln F / d)``: tabulating ``-ln F`` keeps the relative precision
        of ``1 - R / radius``, which is of order ``1 / d``."""

        def build() -> MonotoneTable:
            law = ChiSquareLaw(self.dim)

            def minus_log_f(s: np.ndarray) -> np.ndarray:
                lower, upper = law.tails(s)
                with np.errstate(divide="ignore"):
                    return np.where(lower <= 0.5, -np.log(lower), -np.log1p(-upper))

            return MonotoneTable(
                minus_log_f,
                law,
                name=f"{self.name} radius",
                decreasing=True,
            )

        return cached_table(self, "radius", build)

    def row_scale(self, batch: Batch) -> torch.Tensor:
        t = torch.log(batch.sq_norm().clamp_min(TINY))
        log_f = self.radius_table().log_phi_of_log(t).exp_().neg_()
        log_radius = log_f.div_(self.dim).add_(math.log(self.radius))
        return torch.exp(log_radius.sub_(t, alpha=0.5))

    def radial_log_prob(self, r: torch.Tensor) -> torch.Tensor:
        outside = (r <= self.radius * _SLACK).logical_not_()  # NaN is outside
        return torch.zeros_like(r).masked_fill_(outside, -math.inf)

    def second_moment(self) -> float:
        return self.radius**2 * self.dim / (self.dim + 2.0)
