"""Uniform noise in the cube ``[-l, l]^d`` (Lee et al. 2019; Yang et al. 2020,
"Randomized smoothing of all shapes and sizes")."""

from __future__ import annotations

import math

import torch
from scipy import stats

from harness.noise.coordinatewise import CoordinateNoise
from harness.noise.coupling import as_float64
from harness.noise.params import check_dim, check_positive_finite
from harness.noise.registry import register_noise

#: Samples are float32 in the sampler; one on a face can exceed l by a rounding error.
_SLACK = 1.0 + 8.0 * torch.finfo(torch.float32).eps


@register_noise("uniform_cube")
class UniformCube(CoordinateNoise):
    """``z_i = l * (2 Phi(G_i) - 1) = l * erf(G_i / sqrt 2)``. ``E||z||_2^2 = d l^2 / 3``.
    ``log_prob`` is 0 on the closed cube and ``-inf`` outside it (with a few float32 ulps
    of slack).
    """

    scale_param = "half_width"

    def __init__(self, half_width: float, dim: int) -> None:
        self.half_width = check_positive_finite("half_width", half_width)
        self.dim = check_dim(dim)

    def coordinate_law(self) -> stats.rv_continuous:
        return stats.uniform(-self.half_width, 2.0 * self.half_width)

    def coordinate_map(self, G: torch.Tensor) -> torch.Tensor:
        return self.half_width * torch.erf(as_float64(G) / math.sqrt(2.0))

    def coordinate_log_prob(self, x: torch.Tensor) -> torch.Tensor:
        zero = torch.zeros_like(x)
        inside = x.abs() <= self.half_width * _SLACK
        return torch.where(inside, zero, torch.full_like(zero, -math.inf))

    def second_moment(self) -> float:
        return self.dim * self.half_width**2 / 3.0
