"""l-inf symmetric families: ``z = r V`` with ``V`` uniform on the surface of the cube
``[-1, 1]^d`` and ``r = ||z||_inf`` independent of it.

A family states the law of ``r`` (``radius_law``), its quantile (``radius_quantile``) and
the log density as a function of ``r`` (``radial_log_prob``). Everything else follows:

- the transform (exact in law, ``harness.noise.coupling``): ``U = erf(G / sqrt 2)`` is
  uniform in the cube, ``V = U / ||U||_inf`` uniform on its surface and independent of
  ``||U||_inf``, whose CDF is ``t^d``; ``r`` is the radius quantile at
  ``u = erf(||G||_inf / sqrt 2)^d``. The map ``||G||_inf -> r`` is a ``MonotoneTable``
  evaluated on the draws' device (its stated error is ``approximation()``), so
  ``z = (r / ||U||_inf) U`` costs an ``erf`` and a product per coordinate;
- ``log_prob(z) = radial_log_prob(||z||_inf)``;
- the marginals that characterize the law: ``r`` itself, and the second largest
  ``|z_i| / ||z||_inf``, which is the largest of ``d - 1`` i.i.d. uniforms on [0, 1]
  (CDF ``t^(d - 1)``), since the coordinates of ``V`` other than its extreme one are
  i.i.d. uniform on ``[-1, 1]``;
- ``E||z||_2^2 = E r^2 * (d + 2) / 3`` (``E||V||_2^2 = 1 + (d - 1) / 3``).
"""

from __future__ import annotations

from abc import abstractmethod

import numpy as np
import torch

from harness.noise.base import Law, Marginal, Noise
from harness.noise.batch import Batch
from harness.noise.coupling import INV_SQRT2, GaussianMaxLaw, linf_norm, row_column, write_scaled
from harness.noise.monotone_table import TabulatedRadius
from harness.noise.numerics import TINY


class LinfRadialNoise(TabulatedRadius, Noise):
    """Base of the l-inf symmetric families (see the module docstring)."""

    @abstractmethod
    def radius_law(self) -> Law:
        """The law of ``||z||_inf`` (a frozen scipy distribution)."""

    @abstractmethod
    def radius_quantile(self, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
        """Quantile of ``||z||_inf`` at probability ``lower`` (``upper = 1 - lower``)."""

    @abstractmethod
    def radial_log_prob(self, r: torch.Tensor) -> torch.Tensor:
        """``log pi(z)`` up to a constant, as a function of ``r = ||z||_inf``."""

    def unit_sphere_l2_moment(self) -> float:
        """``E||V||_2^2`` for ``V`` uniform on the surface of ``[-1, 1]^d``."""
        return (self.dim + 2.0) / 3.0

    # the transform -------------------------------------------------------------------------
    def statistic_law(self) -> GaussianMaxLaw:
        """``||G||_inf``, ``F(m) = erf(m / sqrt 2)^d``."""
        return GaussianMaxLaw(self.dim)

    def _write(self, batch: Batch, out: torch.Tensor, x: torch.Tensor | None) -> torch.Tensor:
        m = batch.linf_norm().clamp_min(TINY)
        radius = torch.exp(self.radius_table().log_phi(m))
        scale = row_column(radius / torch.erf(m * INV_SQRT2), out.dtype)
        G = batch.G
        for rows in batch.row_tiles():
            U = batch.scratch("linf U", rows.stop - rows.start, out.dtype)
            torch.erf(torch.mul(G[rows], INV_SQRT2, out=U), out=U)
            write_scaled(out[rows], U, scale[rows], x)
        return out

    def transform(self, G: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        self.check_G(G)
        return self._write(Batch(G), torch.empty_like(G) if out is None else out, None)

    def perturb(self, x: torch.Tensor, G: torch.Tensor | Batch, out: torch.Tensor) -> torch.Tensor:
        return self._write(Batch.of(G), out, x)

    # the law -------------------------------------------------------------------------------
    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        return self.radial_log_prob(linf_norm(z))

    def marginals(self) -> list[Marginal]:
        law = self.radius_law()
        out = [Marginal("radius ||z||_inf", lambda z: np.abs(z).max(axis=1), law.cdf)]
        if self.dim >= 2:
            d = self.dim

            def second_largest(z: np.ndarray) -> np.ndarray:
                a = np.sort(np.abs(z), axis=1)
                return a[:, -2] / a[:, -1]

            out.append(
                Marginal(
                    "second largest |z_i| / ||z||_inf",
                    second_largest,
                    lambda t: np.clip(t, 0.0, 1.0) ** (d - 1),
                )
            )
        return out
