"""Generalized Gaussian noise (Zhang et al. 2020).

``pi_0(z) ~ ||z||_2^{-k} exp(-||z||_2^2 / (2 sigma^2))``, ``0 <= k < dim``; the radius
satisfies ``||z||^2 / (2 sigma^2) ~ Gamma((dim - k)/2)`` (so ``||z|| / sigma ~ chi_{dim-k}``)
and the direction is uniform on the sphere. ``k = 0`` is the Gaussian ``N(0, sigma^2 I)``;
larger ``k`` puts more mass near the centre.

Sampler (exact, a transform of the base draw ``G ~ N(0, I)``): the direction is
``G / ||G||`` and the radius is coupled by inverse CDFs, ``||G||^2 / 2 ~ Gamma(dim/2)``
mapped to ``Gamma((dim - k)/2)`` (``harness.noise.numerics.couple_gamma``, float64,
tail-aware). For ``k = 0`` the map is the identity and ``transform(G) = sigma * G`` up to
rounding.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy import stats

from harness.noise.numerics import couple_gamma, gamma_quantile
from harness.noise.params import check_dim, check_exponent, check_positive_finite
from harness.noise.registry import register_noise
from harness.noise.spherical import SphericalNoise


@register_noise("generalized_gaussian")
class GeneralizedGaussian(SphericalNoise):
    """``pi_0(z) ~ ||z||^{-k} exp(-||z||^2 / (2 sigma^2))``; ``E||z||^2 = (dim - k) sigma^2``."""

    scale_param = "sigma"
    example_params = ({"k": 0.0}, {"k": 1.0})

    def __init__(self, sigma: float, k: float, dim: int) -> None:
        self.sigma = check_positive_finite("sigma", sigma)
        self.dim = check_dim(dim)
        self.k = check_exponent(k, self.dim)

    def radius_law(self) -> stats.rv_continuous:
        return stats.chi(self.dim - self.k, scale=self.sigma)

    def radius_quantile(self, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
        return self.sigma * np.sqrt(2.0 * gamma_quantile((self.dim - self.k) / 2.0, lower, upper))

    def radial_log_prob(self, r: torch.Tensor) -> torch.Tensor:
        out = -(r * r) / (2.0 * self.sigma**2)
        if self.k:
            out = out - self.k * torch.log(r)
        return out

    def radius_scale(self, G: torch.Tensor) -> torch.Tensor:
        """Per-row factor ``s`` with ``transform(G) = s * G``: ``sigma * r' / ||G||``."""
        self._check_G(G)
        norm2 = torch.linalg.vector_norm(G, dim=1, dtype=torch.float64).pow(2)
        u = (norm2 / 2).cpu().numpy()
        v = couple_gamma(u, self.dim / 2.0, (self.dim - self.k) / 2.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = self.sigma * np.sqrt(v / u)
        scale = np.where(u > 0, scale, 0.0)  # G = 0 (probability zero): z = 0
        return torch.from_numpy(scale).to(device=G.device, dtype=G.dtype)

    def transform(self, G: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        scale = self.radius_scale(G)[:, None]
        return torch.mul(G, scale, out=out) if out is not None else G * scale

    def perturb(self, x: torch.Tensor, G: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        scale = self.radius_scale(G)[:, None]
        torch.mul(G, scale, out=out)
        return out.add_(x)

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        r2 = (z * z).sum(dim=-1)
        out = -r2 / (2.0 * self.sigma**2)
        if self.k:
            out = out - (self.k / 2.0) * torch.log(r2)
        return out

    def second_moment(self) -> float:
        return (self.dim - self.k) * self.sigma**2
