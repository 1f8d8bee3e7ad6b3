"""Isotropic Gaussian noise N(0, sigma^2 I_d) (Cohen et al. 2019)."""

from __future__ import annotations

import numpy as np
import torch
from scipy import stats

from harness.noise.batch import Batch
from harness.noise.params import check_dim, check_positive_finite
from harness.noise.registry import register_noise
from harness.noise.spherical import SphericalNoise


@register_noise("gaussian")
class Gaussian(SphericalNoise):
    """``z = sigma * G``; log density ``-||z||_2^2 / (2 sigma^2)`` up to a constant;
    ``||z|| / sigma ~ chi_d``; ``E||z||^2 = d sigma^2``."""

    scale_param = "sigma"

    def __init__(self, sigma: float, dim: int) -> None:
        self.sigma = check_positive_finite("sigma", sigma)
        self.dim = check_dim(dim)

    def radius_law(self) -> stats.rv_continuous:
        return stats.chi(self.dim, scale=self.sigma)

    def radius_quantile(self, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
        return self.sigma * stats.chi(self.dim).isf(upper)

    def radial_log_prob(self, r: torch.Tensor) -> torch.Tensor:
        return -(r * r) / (2.0 * self.sigma**2)

    def transform(self, G: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        self.check_G(G)
        return torch.mul(G, self.sigma, out=out) if out is not None else G * self.sigma

    def perturb(self, x: torch.Tensor, G: torch.Tensor | Batch, out: torch.Tensor) -> torch.Tensor:
        return torch.add(x, G.G if isinstance(G, Batch) else G, alpha=self.sigma, out=out)

    def prepare(self, device: torch.device | str) -> None:
        """Nothing to build: the transform is ``sigma * G`` exactly."""

    def approximation(self) -> None:
        return None

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        return -(z * z).sum(dim=-1) / (2.0 * self.sigma**2)

    def second_moment(self) -> float:
        return self.dim * self.sigma**2
