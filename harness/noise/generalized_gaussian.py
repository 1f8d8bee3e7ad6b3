"""Generalized Gaussian noise (Zhang et al. 2020).

``pi_0(z) ~ ||z||_2^{-k} exp(-||z||_2^2 / (2 sigma^2))``, ``0 <= k < dim``; the radius
satisfies ``||z||^2 / (2 sigma^2) ~ Gamma((dim - k)/2)`` (so ``||z|| / sigma ~ chi_{dim-k}``)
and the direction is uniform on the sphere. ``k = 0`` is the Gaussian ``N(0, sigma^2 I)``;
larger ``k`` puts more mass near the centre.

Sampler (a transform of the base draw ``G ~ N(0, I)``): the direction is ``G / ||G||``
and the radius is coupled by inverse CDFs, ``||G||^2 / 2 ~ Gamma(dim/2)`` mapped to
``Gamma((dim - k)/2)`` through the radius table of ``SphericalNoise`` (built from
``radius_quantile``, tail-aware; its stated error is ``approximation()``). For ``k = 0``
the transform is ``sigma * G`` exactly.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from scipy import stats

from harness.noise.batch import Batch
from harness.noise.coupling import write_scaled
from harness.noise.numerics import gamma_quantile
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

    def _write(self, batch: Batch, out: torch.Tensor, x: torch.Tensor | None) -> torch.Tensor:
        if self.k == 0:  # the Gaussian: sigma * G exactly
            return write_scaled(out, batch.G, self.sigma, x)
        return super()._write(batch, out, x)

    def prepare(self, device: torch.device | str) -> None:
        if self.k:
            super().prepare(device)

    def approximation(self) -> dict[str, Any] | None:
        return super().approximation() if self.k else None

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        r2 = (z * z).sum(dim=-1)
        out = -r2 / (2.0 * self.sigma**2)
        if self.k:
            out = out - (self.k / 2.0) * torch.log(r2)
        return out

    def second_moment(self) -> float:
        return (self.dim - self.k) * self.sigma**2
