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

import numpy as np
import torch
from scipy import stats

from harness.noise.base import Marginal, Noise
from harness.noise.numerics import couple_gamma
from harness.noise.params import check_dim, check_exponent, check_positive_finite
from harness.noise.registry import register_noise

_LOG2 = math.log(2.0)


@register_noise("generalized_laplace")
class GeneralizedLaplace(Noise):
    """``pi_0(z) ~ ||z||_1^{-k} exp(-||z||_1 / scale)``; ``E||z||_1 = (dim - k) scale``;
    ``E||z||_2^2 = 2 scale^2 (d - k)(d - k + 1) / (d + 1)`` (``E||u||_2^2 = 2 / (d + 1)``
    for ``u`` uniform on the l1 sphere)."""

    scale_param = "scale"
    example_params = ({"k": 0.0}, {"k": 1.5})

    def __init__(self, scale: float, k: float, dim: int) -> None:
        self.scale = check_positive_finite("scale", scale)
        self.dim = check_dim(dim)
        self.k = check_exponent(k, self.dim)

    def marginals(self) -> list[Marginal]:
        """``||z||_1 ~ Gamma(dim - k, scale)``; ``|z_1| / ||z||_1 ~ Beta(1, dim - 1)`` (a
        Dirichlet(1, ..., 1) coordinate); the sign of ``z_1`` is fair."""
        out = [
            Marginal(
                "l1 norm ||z||_1",
                lambda z: np.abs(z).sum(axis=1),
                stats.gamma(self.dim - self.k, scale=self.scale).cdf,
            )
        ]
        if self.dim >= 2:
            out.append(
                Marginal(
                    "direction |z_1| / ||z||_1",
                    lambda z: np.abs(z[:, 0]) / np.abs(z).sum(axis=1),
                    stats.beta(1.0, self.dim - 1.0).cdf,
                )
            )
        return out

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
