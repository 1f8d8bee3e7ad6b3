"""l-inf symmetric families: ``z = r V`` with ``V`` uniform on the surface of the cube
``[-1, 1]^d`` and ``r = ||z||_inf`` independent of it.

A family states the law of ``r`` (``radius_law``), its quantile (``radius_quantile``,
used by the exact transform of ``harness.noise.coupling.linf_spherical``) and the log
density as a function of ``r`` (``radial_log_prob``). Everything else follows:

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
from harness.noise.coupling import finish, linf_norm, linf_spherical


class LinfRadialNoise(Noise):
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

    def transform(self, G: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        self._check_G(G)
        return finish(linf_spherical(G, self.radius_quantile), G, out)

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
