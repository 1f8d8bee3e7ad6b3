"""Families with i.i.d. coordinates: ``pi(z) = prod_i q(z_i)``.

A family states the law of one coordinate (``coordinate_law``), its map from a base
normal (``coordinate_map``: ``F^{-1}(Phi(G_i))``, in the tail form that never saturates)
and ``coordinate_log_prob``. Everything else follows:

- ``transform`` applies the map elementwise, tile by tile (``harness.noise.batch``), and
  ``log_prob`` sums over coordinates; the built-in families fuse the map with the
  addition of the input in a few in-place passes in the output's dtype;
- the marginals that characterize the law: the first and the last coordinate;
- the reduced Neyman-Pearson statistic: ``Lambda`` only involves the coordinates where
  the shift is non-zero, so an axis shift costs ``O(n)`` whatever the dimension.
"""

from __future__ import annotations

from abc import abstractmethod

import numpy as np
import torch

from harness.noise.base import Law, Marginal, Noise
from harness.noise.batch import Batch
from harness.noise.coupling import finish

_CHUNK_VALUES = 1 << 22
#: At most this many values of the pooled coordinates are tested (``marginals``).
POOLED_VALUES = 1 << 21


class SymmetricLaw:
    """The symmetric law on R whose absolute value has the law ``magnitude``."""

    def __init__(self, magnitude: Law) -> None:
        self.magnitude = magnitude

    def cdf(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        return 0.5 + 0.5 * np.sign(x) * self.magnitude.cdf(np.abs(x))

    def ppf(self, q: np.ndarray) -> np.ndarray:
        q = np.asarray(q, dtype=np.float64)
        return np.sign(q - 0.5) * self.magnitude.ppf(np.abs(2.0 * q - 1.0))

    def rvs(self, size=None, random_state=None) -> np.ndarray:
        rng = np.random.default_rng(random_state)
        magnitude = self.magnitude.rvs(size=size, random_state=rng)
        return np.where(rng.random(size) < 0.5, -magnitude, magnitude)


class CoordinateNoise(Noise):
    """Base of the families with i.i.d. coordinates (see the module docstring)."""

    @abstractmethod
    def coordinate_law(self) -> Law:
        """The law of one coordinate (a frozen scipy distribution or ``SymmetricLaw``)."""

    @abstractmethod
    def coordinate_map(self, G: torch.Tensor) -> torch.Tensor:
        """``z_i`` as a function of ``G_i``, elementwise (in float64, or in ``G``'s dtype
        where that is exact to its rounding)."""

    @abstractmethod
    def coordinate_log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """``log q(x)`` elementwise, up to a constant (``-inf`` off support)."""

    def _write(self, batch: Batch, out: torch.Tensor, x: torch.Tensor | None) -> torch.Tensor:
        """``out = x + z`` (``out = z`` without ``x``), tile by tile. A family may define
        ``_fused(batch, out, x)``: the same map in fused in-place passes; it is used unless
        a subclass overrides ``coordinate_map`` (which then defines the noise)."""
        if self._fused_applies():
            return self._fused(batch, out, x)  # type: ignore[attr-defined]
        for rows in batch.row_tiles():
            finish(self.coordinate_map(batch.G[rows]), out[rows], out[rows])
            if x is not None:
                out[rows].add_(x)
        return out

    def _fused_applies(self) -> bool:
        for klass in type(self).__mro__:
            if "_fused" in vars(klass):
                return True
            if "coordinate_map" in vars(klass):
                return False
        return False

    def transform(self, G: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        self.check_G(G)
        return self._write(Batch(G), torch.empty_like(G) if out is None else out, None)

    def perturb(self, x: torch.Tensor, G: torch.Tensor | Batch, out: torch.Tensor) -> torch.Tensor:
        return self._write(Batch.of(G), out, x)

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        return self.coordinate_log_prob(z).sum(dim=-1)

    def marginals(self) -> list[Marginal]:
        """``z_1``, ``z_d``, and the coordinates pooled: i.i.d. under the law, so that a
        sample of ``n`` rows tests it with up to ``min(d, POOLED_VALUES / n)`` times as
        many values (a transform 3% too narrow passes ``z_1`` alone at 20,000 rows)."""
        cdf = self.coordinate_law().cdf
        out = [Marginal("coordinate z_1", lambda z: z[:, 0], cdf)]
        if self.dim >= 2:
            out.append(Marginal("coordinate z_d", lambda z: z[:, -1], cdf))
            out.append(
                Marginal(
                    "coordinates pooled",
                    lambda z: z[:, : max(1, POOLED_VALUES // len(z))].ravel(),
                    cdf,
                )
            )
        return out

    def log_ratio_cost(self, delta: np.ndarray) -> int:
        return max(1, int(np.count_nonzero(np.asarray(delta))))

    def log_ratio_sampler(self, n: int, seed: int = 0):
        """Only the shifted coordinates enter ``Lambda``; their draws are kept (and grown
        as wider shifts ask for more) while they fit in memory, else regenerated in
        chunks. An axis shift costs ``O(n)``. The unshifted log-density of the kept draws
        is kept with them (it does not depend on the shift)."""
        law = self.coordinate_law()
        kept = np.empty((n, 0))
        kept_base = torch.empty((n, 0), dtype=torch.float64)

        def columns(k: int) -> tuple[torch.Tensor, torch.Tensor]:
            nonlocal kept, kept_base
            if kept.shape[1] < k:
                rng = np.random.default_rng([seed, kept.shape[1]])
                extra = np.asarray(law.rvs(size=(n, k - kept.shape[1]), random_state=rng), float)
                kept = np.concatenate([kept, extra], axis=1)
                base = self.coordinate_log_prob(torch.from_numpy(extra))
                kept_base = torch.cat([kept_base, base], dim=1)
            return torch.from_numpy(kept[:, :k]), kept_base[:, :k]

        def sampler(delta: np.ndarray) -> np.ndarray:
            delta = np.asarray(delta, dtype=np.float64)
            if delta.shape != (self.dim,):
                raise ValueError(f"delta must have shape ({self.dim},), got {delta.shape}")
            shift = torch.from_numpy(delta[delta != 0])
            k = shift.numel()
            out = np.zeros(n, dtype=np.float64)
            if k == 0:
                return out
            if n * k <= 4 * _CHUNK_VALUES:
                x, base = columns(k)
                return (self.coordinate_log_prob(x - shift) - base).sum(dim=1).numpy()
            rows = max(1, _CHUNK_VALUES // k)
            for start in range(0, n, rows):
                m = min(rows, n - start)
                rng = np.random.default_rng([seed, 1 << 30, start])
                x = torch.from_numpy(np.asarray(law.rvs(size=(m, k), random_state=rng), float))
                lam = self.coordinate_log_prob(x - shift) - self.coordinate_log_prob(x)
                out[start : start + m] = lam.sum(dim=1).numpy()
            return out

        return sampler
