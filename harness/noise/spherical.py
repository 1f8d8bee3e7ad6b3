"""Spherically symmetric families: ``z = R u`` with ``u`` uniform on the unit l2 sphere and
the radius ``R = ||z||_2`` independent of it.

A family states the law of ``R`` (``radius_law``, a scipy distribution), its quantile
(``radius_quantile``) and the log density as a function of the radius
(``radial_log_prob``). Everything else follows:

- the transform: direction ``G / ||G||``, radius ``radius_quantile`` at the chi_d
  probability of ``||G||`` (both tails exact). The map ``||G||^2 -> R`` is a
  ``MonotoneTable`` evaluated on the draws' device (its stated error, far below Monte
  Carlo error, is ``approximation()``), so ``z = (R / ||G||) G`` is one pass over the batch;
- ``log_prob(z) = radial_log_prob(||z||_2)``;
- the marginals that characterize the law: ``R`` itself, and the direction's first
  coordinate, ``(1 + u_1) / 2 ~ Beta((d - 1)/2, (d - 1)/2)``;
- the reduced Neyman-Pearson statistic: the law of
  ``Lambda = log pi(z - delta) - log pi(z)`` depends on ``s = ||delta||_2`` only, and
  ``||z - delta||^2 = R^2 - 2 s R u_1 + s^2``; ``log_ratio_samples`` draws ``(R, u_1)``
  and costs ``O(n)`` whatever the dimension.
"""

from __future__ import annotations

from abc import abstractmethod

import numpy as np
import torch
from scipy import stats

from harness.noise.base import Law, Marginal, Noise
from harness.noise.batch import Batch
from harness.noise.coupling import ChiSquareLaw, row_column, write_scaled
from harness.noise.monotone_table import TabulatedRadius
from harness.noise.numerics import TINY


class SphericalNoise(TabulatedRadius, Noise):
    """Base of the spherically symmetric families (see the module docstring)."""

    @abstractmethod
    def radius_law(self) -> Law:
        """The law of ``||z||_2`` (a frozen scipy distribution)."""

    @abstractmethod
    def radius_quantile(self, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
        """Quantile of ``||z||_2`` at probability ``lower`` (``upper = 1 - lower``)."""

    @abstractmethod
    def radial_log_prob(self, r: torch.Tensor) -> torch.Tensor:
        """``log pi(z)`` up to a constant, as a function of ``r = ||z||_2``."""

    def unit_sphere_l2_moment(self) -> float:
        """``E||u||_2^2 = 1`` for ``u`` on the unit l2 sphere."""
        return 1.0

    # the transform -------------------------------------------------------------------------
    def statistic_law(self) -> ChiSquareLaw:
        """``||G||_2^2 ~ chi^2_d``."""
        return ChiSquareLaw(self.dim)

    def row_scale(self, batch: Batch) -> torch.Tensor:
        """``R / ||G||`` per row (float64), so that ``z = scale * G``."""
        t = torch.log(batch.sq_norm().clamp_min(TINY))
        return torch.exp(self.radius_table().log_phi_of_log(t).sub_(t, alpha=0.5))

    def _write(self, batch: Batch, out: torch.Tensor, x: torch.Tensor | None) -> torch.Tensor:
        scale = row_column(self.row_scale(batch), out.dtype)
        return write_scaled(out, batch.G, scale, x)

    def transform(self, G: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        self.check_G(G)
        return self._write(Batch(G), torch.empty_like(G) if out is None else out, None)

    def perturb(self, x: torch.Tensor, G: torch.Tensor | Batch, out: torch.Tensor) -> torch.Tensor:
        return self._write(Batch.of(G), out, x)

    # the law -------------------------------------------------------------------------------
    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        return self.radial_log_prob(torch.linalg.vector_norm(z, dim=-1))

    def marginals(self) -> list[Marginal]:
        law = self.radius_law()
        out = [Marginal("radius ||z||_2", lambda z: np.linalg.norm(z, axis=1), law.cdf)]
        if self.dim >= 2:
            half = (self.dim - 1) / 2.0
            out.append(
                Marginal(
                    "direction (1 + z_1 / ||z||_2) / 2",
                    lambda z: (1.0 + z[:, 0] / np.linalg.norm(z, axis=1)) / 2.0,
                    stats.beta(half, half).cdf,
                )
            )
        return out

    def log_ratio_cost(self, delta: np.ndarray) -> int:
        return 1

    def log_ratio_sampler(self, n: int, seed: int = 0):
        """Draws ``(R, u_1)`` once; a shift of l2 norm ``s`` then costs ``O(n)``."""
        rng = np.random.default_rng(seed)
        R = np.asarray(self.radius_law().rvs(size=n, random_state=rng), dtype=np.float64)
        if self.dim >= 2:
            half = (self.dim - 1) / 2.0
            u1 = 2.0 * rng.beta(half, half, size=n) - 1.0
        else:
            u1 = np.where(rng.random(n) < 0.5, -1.0, 1.0)
        base = self.radial_log_prob(torch.from_numpy(R)).numpy()

        def sampler(delta: np.ndarray) -> np.ndarray:
            delta = np.asarray(delta, dtype=np.float64)
            if delta.shape != (self.dim,):
                raise ValueError(f"delta must have shape ({self.dim},), got {delta.shape}")
            s = float(np.linalg.norm(delta))
            shifted = np.sqrt(np.maximum(R * R - 2.0 * s * R * u1 + s * s, 0.0))
            return self.radial_log_prob(torch.from_numpy(shifted)).numpy() - base

        return sampler
