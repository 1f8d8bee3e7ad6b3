"""I.i.d. Laplace noise, density ``prod_i exp(-|z_i| / b) / (2 b)`` (Teng et al. 2020;
Yang et al. 2020, "Randomized smoothing of all shapes and sizes", the l1 Wulff noise)."""

from __future__ import annotations

import torch
from scipy import stats

from harness.noise.batch import Batch
from harness.noise.coordinatewise import CoordinateNoise
from harness.noise.coupling import log_two_tail_, write_scaled
from harness.noise.params import check_dim, check_positive_finite
from harness.noise.registry import register_noise


@register_noise("laplace")
class Laplace(CoordinateNoise):
    """``z_i = sign(G_i) * b * (-log(2 Phi(-|G_i|)))``: the tail form of ``F^{-1}(Phi(G_i))``
    with ``F^{-1}(u) = b log(2u)`` for ``u < 1/2``; ``2 Phi(-|G|) = erfc(|G| / sqrt 2)``,
    computed in the dtype of ``G`` (float32 keeps its relative precision to |G| ~ 13).
    ``E||z||_2^2 = 2 d b^2``."""

    scale_param = "scale"

    def __init__(self, scale: float, dim: int) -> None:
        self.scale = check_positive_finite("scale", scale)
        self.dim = check_dim(dim)

    def coordinate_law(self) -> stats.rv_continuous:
        return stats.laplace(scale=self.scale)

    def coordinate_map(self, G: torch.Tensor) -> torch.Tensor:
        a = log_two_tail_(torch.empty_like(G), G)
        return torch.copysign(a, G, out=a).mul_(self.scale)

    def _fused(self, batch: Batch, out: torch.Tensor, x: torch.Tensor | None) -> torch.Tensor:
        G = batch.G
        for rows in batch.row_tiles():
            # log(2 Phi(-|G|)) = log erfc(|G| / sqrt 2) <= 0, precise in the tail; then
            # copysign gives sign(G) * magnitude
            n = rows.stop - rows.start
            host = batch.ufunc_scratch("laplace", n, out.dtype)
            a = log_two_tail_(batch.scratch("laplace", n, out.dtype), G[rows], host)
            torch.copysign(a, G[rows], out=a)
            write_scaled(out[rows], a, self.scale, x)
        return out

    def coordinate_log_prob(self, x: torch.Tensor) -> torch.Tensor:
        return -x.abs() / self.scale

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        return -z.abs().sum(dim=-1) / self.scale

    def second_moment(self) -> float:
        return 2.0 * self.dim * self.scale**2
