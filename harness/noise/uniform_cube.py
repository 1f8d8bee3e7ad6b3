"""Uniform noise in the cube ``[-l, l]^d`` (Lee et al. 2019; Yang et al. 2020,
"Randomized smoothing of all shapes and sizes")."""

from __future__ import annotations

import math
from typing import Any

import torch

from harness.noise.base import Noise, check_dim, check_positive_finite, register_noise
from harness.noise.coupling import as_float64, finish


@register_noise("uniform_cube")
class UniformCube(Noise):
    """``z_i = l * (2 Phi(G_i) - 1) = l * erf(G_i / sqrt 2)``. ``E||z||_2^2 = d l^2 / 3``.

    ``log_prob`` is 0 on the closed cube and ``-inf`` outside it.
    """

    def __init__(self, half_width: float, dim: int) -> None:
        self.half_width = check_positive_finite("half_width", half_width)
        self.dim = check_dim(dim)

    @classmethod
    def matched(cls, sigma0: float, dim: int) -> UniformCube:
        """The cube with ``E||z||^2 = dim * sigma0^2``: ``l = sqrt(3) * sigma0``."""
        sigma0 = check_positive_finite("sigma0", sigma0)
        return cls(half_width=math.sqrt(3.0) * sigma0, dim=dim)

    def params(self) -> dict[str, Any]:
        return {"half_width": self.half_width, "dim": self.dim}

    def transform(self, G: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        self._check_G(G)
        z = self.half_width * torch.erf(as_float64(G) / math.sqrt(2.0))
        return finish(z, G, out)

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        # Samples on a face can exceed l by a rounding error (float32 in the sampler).
        slack = 1.0 + 8.0 * torch.finfo(torch.float32).eps
        inside = z.abs().amax(dim=-1) <= self.half_width * slack
        zero = torch.zeros(z.shape[:-1], dtype=z.dtype, device=z.device)
        return torch.where(inside, zero, torch.full_like(zero, -math.inf))

    def second_moment(self) -> float:
        return self.dim * self.half_width**2 / 3.0
