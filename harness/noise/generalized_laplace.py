"""Generalized Laplace noise (Zhang et al. 2020): ``pi_0(z) ~ ||z||_1^{-k} exp(-||z||_1 / scale)``.

``0 <= k < dim``; ``||z||_1 ~ Gamma(dim - k, scale)`` and the direction ``z / ||z||_1`` is
uniform on the l1 sphere (Dirichlet(1, ..., 1) magnitudes with independent random signs),
independent of the radius. ``k = 0`` is i.i.d. ``Laplace(0, scale)``.

Sampler (exact, a transform of the base draw ``G ~ N(0, I)``): coordinate-wise Laplace
``x_i = sign(G_i) * (-log(2 Phi(-|G_i|)))`` (computed with ``log_ndtr`` in the tail, so it
never saturates), whose l1 norm ``T ~ Gamma(dim)`` is independent of the direction
``x / T``; then ``T`` is coupled to ``T' ~ Gamma(dim - k)`` by inverse CDFs and
``z = scale * x * T' / T``. For ``k = 0``, ``z = scale * x`` exactly.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from harness.noise.base import Noise, check_dim, check_positive_finite, register_noise
from harness.noise.radial import check_exponent, couple_gamma

_LOG2 = math.log(2.0)


@register_noise("generalized_laplace")
class GeneralizedLaplace(Noise):
    """``pi_0(z) ~ ||z||_1^{-k} exp(-||z||_1 / scale)``; ``E||z||_1 = (dim - k) scale``."""

    def __init__(self, scale: float, k: float, dim: int) -> None:
        self.scale = check_positive_finite("scale", scale)
        self.dim = check_dim(dim)
        self.k = check_exponent(k, self.dim)

    @classmethod
    def matched(cls, sigma0: float, k: float, dim: int) -> GeneralizedLaplace:
        """The member with ``E||z||_2^2 = dim * sigma0^2``. With ``u`` uniform on the l1
        sphere, ``E||u||_2^2 = 2 / (dim + 1)`` and ``E T^2 = (dim-k)(dim-k+1) scale^2``, so
        ``scale = sigma0 sqrt(dim (dim + 1) / (2 (dim - k)(dim - k + 1)))``."""
        sigma0 = check_positive_finite("sigma0", sigma0)
        dim = check_dim(dim)
        k = check_exponent(k, dim)
        scale = sigma0 * math.sqrt(dim * (dim + 1) / (2.0 * (dim - k) * (dim - k + 1)))
        return cls(scale=scale, k=k, dim=dim)

    def params(self) -> dict[str, Any]:
        return {"scale": self.scale, "k": self.k, "dim": self.dim}

    def transform(self, G: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        self._check_G(G)
        Gd = G.to(torch.float64)
        x = torch.sign(Gd) * (-(torch.special.log_ndtr(-Gd.abs()) + _LOG2))
        if self.k:
            T = x.abs().sum(dim=1)
            Tn = T.cpu().numpy()
            T2 = couple_gamma(Tn, float(self.dim), self.dim - self.k)
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = np.where(Tn > 0, T2 / Tn, 0.0)
            x = x * torch.from_numpy(ratio).to(device=G.device)[:, None]
        x = x * self.scale
        if out is None:
            return x.to(G.dtype)
        return out.copy_(x)

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        n1 = z.abs().sum(dim=-1)
        out = -n1 / self.scale
        if self.k:
            out = out - self.k * torch.log(n1)
        return out

    def second_moment(self) -> float:
        d, k = self.dim, self.k
        return 2.0 * self.scale**2 * (d - k) * (d - k + 1) / (d + 1)
