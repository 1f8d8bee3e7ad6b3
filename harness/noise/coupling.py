"""Inverse-CDF couplings of the base draw ``G ~ N(0, I_d)``, shared by the noise families.

Every family in this package is a deterministic transform of ``G`` (see ``docs/architecture.md``,
"Common random numbers"). Three couplings cover the families here; all compute in float64:

- coordinate-wise, symmetric laws: ``z_i = sign(G_i) * F^{-1}(1 - Phi(-|G_i|))`` written
  through the tail probability ``Phi(-|G_i|)`` (kept as its logarithm, ``log_ndtr``), so
  nothing saturates when ``|G_i| > 5.4`` in float32;
- spherically symmetric laws (l2 radius): direction ``G / ||G||_2`` and a radius that is
  the law's quantile at the chi_d probability of ``||G||_2``; the probability is carried
  as a pair (lower tail, upper tail) so both ends stay exact;
- l-inf symmetric laws: ``U_i = erf(G_i / sqrt 2)`` is uniform in the cube ``[-1, 1]^d``;
  ``V = U / ||U||_inf`` is then uniform on the cube's surface and independent of
  ``||U||_inf``, whose CDF is ``t^d``. The radius is the law's quantile at that
  probability. This is an exact transform of ``G``.

Radius quantiles are computed with scipy on the CPU; only one number per row crosses
devices. The families that share a coupling subclass ``SphericalNoise``
(``harness.noise.spherical``), ``CoordinateNoise`` (``harness.noise.coordinatewise``) or
``LinfRadialNoise`` (``harness.noise.linf_radial``), which state the law each coupling
produces.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch
from scipy import special

from harness.noise.numerics import TINY as _TINY

RadiusQuantile = Callable[[np.ndarray, np.ndarray], np.ndarray]
"""``quantile(lower, upper)``: radii at a probability given by both tails (upper = 1 - lower)."""


def as_float64(G: torch.Tensor) -> torch.Tensor:
    """``G`` in float64 (a copy when it is not float64 already; never modified in place)."""
    return G.to(torch.float64)


def finish(z: torch.Tensor, G: torch.Tensor, out: torch.Tensor | None) -> torch.Tensor:
    """Return ``z`` in the dtype of ``G``, written into ``out`` when one is given.

    Values beyond the largest finite number of the output dtype (heavy tails at
    astronomically unlikely base draws) are clamped to it, so no sample is infinite.
    """
    dtype = out.dtype if out is not None else G.dtype
    big = torch.finfo(dtype).max
    z = z.clamp(-big, big)
    if out is None:
        return z.to(G.dtype)
    out.copy_(z)
    return out


def symmetric_tail(G: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(sign(G), log Phi(-|G|))`` in float64; the tail probability is below 1/2."""
    g = as_float64(G)
    return torch.sign(g), torch.special.log_ndtr(-g.abs())


def chi_probabilities(G: torch.Tensor) -> tuple[torch.Tensor, np.ndarray, np.ndarray]:
    """``(||G||_2 per row as a float64 tensor, F_chi_d(||G||), 1 - F_chi_d(||G||))``."""
    g = as_float64(G)
    dim = g.shape[1]
    norm = torch.linalg.vector_norm(g, dim=1)
    half_sq = (0.5 * norm.square()).cpu().numpy()
    # Probabilities below the smallest normal double (|G| beyond ~38 per coordinate) are
    # floored there, so quantiles stay finite.
    lower = np.maximum(special.gammainc(dim / 2.0, half_sq), _TINY)
    upper = np.maximum(special.gammaincc(dim / 2.0, half_sq), _TINY)
    return norm, lower, upper


def spherical(G: torch.Tensor, quantile: RadiusQuantile) -> torch.Tensor:
    """``z = r * G / ||G||`` with ``r = quantile(F_chi_d(||G||))``: float64, G's device."""
    g = as_float64(G)
    norm, lower, upper = chi_probabilities(g)
    radius = torch.as_tensor(quantile(lower, upper), dtype=torch.float64, device=g.device)
    scale = radius / norm.clamp_min(torch.finfo(torch.float64).tiny)
    return g * scale.unsqueeze(1)


def cube_surface(G: torch.Tensor) -> tuple[torch.Tensor, np.ndarray, np.ndarray]:
    """``(V, u, 1 - u)``: V uniform on the surface of ``[-1, 1]^d`` (float64 tensor) and
    ``u = ||U||_inf^d`` uniform on (0, 1), independent of V, with ``U = erf(G / sqrt 2)``.

    The upper tail ``1 - u = 1 - (1 - m)^d`` with ``m = erfc(max_i |G_i| / sqrt 2)`` is
    computed without cancellation.
    """
    g = as_float64(G)
    dim = g.shape[1]
    U = torch.erf(g / math.sqrt(2.0))
    gmax = g.abs().amax(dim=1)
    m = torch.erfc(gmax / math.sqrt(2.0))  # 1 - ||U||_inf, exact in the tail
    umax = U.abs().amax(dim=1).clamp_min(torch.finfo(torch.float64).tiny)
    V = U / umax.unsqueeze(1)
    log_u = dim * torch.log1p(-m)
    lower = np.maximum(torch.exp(log_u).cpu().numpy(), _TINY)
    upper = np.maximum((-torch.expm1(log_u)).cpu().numpy(), _TINY)
    return V, lower, upper


def linf_spherical(G: torch.Tensor, quantile: RadiusQuantile) -> torch.Tensor:
    """``z = r * V`` with V uniform on the cube's surface and ``r = quantile(u)``."""
    V, lower, upper = cube_surface(G)
    radius = torch.as_tensor(quantile(lower, upper), dtype=torch.float64, device=V.device)
    return V * radius.unsqueeze(1)


def linf_norm(z: torch.Tensor) -> torch.Tensor:
    return z.abs().amax(dim=-1)
