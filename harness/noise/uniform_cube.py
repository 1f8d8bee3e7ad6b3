"""Uniform noise in the cube ``[-l, l]^d`` (Lee et al. 2019; Yang et al. 2020,
"Randomized smoothing of all shapes and sizes")."""

from __future__ import annotations

import math

import torch
from scipy import stats

from harness.noise.batch import Batch
from harness.noise.coordinatewise import CoordinateNoise
from harness.noise.coupling import INV_SQRT2, write_scaled
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
        return torch.erf(G * INV_SQRT2).mul_(self.half_width)

    def _fused(self, batch: Batch, out: torch.Tensor, x: torch.Tensor | None) -> torch.Tensor:
        G = batch.G
        for rows in batch.row_tiles():
            a = batch.scratch("cube", rows.stop - rows.start, out.dtype)
            torch.erf(torch.mul(G[rows], INV_SQRT2, out=a), out=a)
            write_scaled(out[rows], a, self.half_width, x)
        return out

    def coordinate_log_prob(self, x: torch.Tensor) -> torch.Tensor:
        outside = (x.abs() <= self.half_width * _SLACK).logical_not_()  # NaN is outside
        return torch.zeros_like(x).masked_fill_(outside, -math.inf)

    def second_moment(self) -> float:
        return self.dim * self.half_width**2 / 3.0
