"""Isotropic Gaussian noise N(0, sigma^2 I_d) (Cohen et al. 2019)."""

from __future__ import annotations

from typing import Any

import torch

from harness.noise.base import Noise, check_dim, check_positive_finite, register_noise


@register_noise("gaussian")
class Gaussian(Noise):
    """``z = sigma * G``; log density ``-||z||_2^2 / (2 sigma^2)`` up to a constant."""

    def __init__(self, sigma: float, dim: int) -> None:
        self.sigma = check_positive_finite("sigma", sigma)
        self.dim = check_dim(dim)

    @classmethod
    def matched(cls, sigma0: float, dim: int) -> Gaussian:
        """The Gaussian with ``E||z||^2 = dim * sigma0^2`` (itself)."""
        return cls(sigma=sigma0, dim=dim)

    def params(self) -> dict[str, Any]:
        return {"sigma": self.sigma, "dim": self.dim}

    def transform(self, G: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        self._check_G(G)
        return torch.mul(G, self.sigma, out=out) if out is not None else G * self.sigma

    def perturb(self, x: torch.Tensor, G: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        return torch.add(x, G, alpha=self.sigma, out=out)

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        return -(z * z).sum(dim=-1) / (2.0 * self.sigma**2)

    def second_moment(self) -> float:
        return self.dim * self.sigma**2
