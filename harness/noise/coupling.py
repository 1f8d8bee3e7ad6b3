"""Inverse-CDF couplings of the base draw ``G ~ N(0, I_d)``, shared by the noise families.

Every family in this package is a deterministic transform of ``G`` (see
``docs/architecture.md``, "Common random numbers"). Three couplings cover the families
here:

- coordinate-wise, symmetric laws: ``z_i = sign(G_i) F^{-1}(1 - Phi(-|G_i|))``, written
  through ``2 Phi(-|G_i|) = erfc(|G_i| / sqrt 2)``, which keeps its relative precision in
  the tail (float32 represents it down to |G| ~ 13, float64 to |G| ~ 37);
- spherically symmetric laws (l2 radius): direction ``G / ||G||_2`` and a radius that is
  the law's quantile at the chi_d probability of ``||G||_2``;
- l-inf symmetric laws: ``U_i = erf(G_i / sqrt 2)`` is uniform in the cube ``[-1, 1]^d``;
  ``V = U / ||U||_inf`` is then uniform on the cube's surface and independent of
  ``||U||_inf``, whose CDF is ``t^d``; the radius is the law's quantile at that
  probability. ``||U||_inf = erf(||G||_inf / sqrt 2)``.

The radial maps (statistic of the row -> radius) are ``MonotoneTable`` s
(``harness.noise.monotone_table``), built on the host from the families' exact quantile
functions and evaluated on the draws' device; this module states the laws of the
statistics they take (``ChiSquareLaw`` of ``||G||_2^2``, ``GaussianMaxLaw`` of
``||G||_inf``, ``GammaLaw``) and the host-side probabilities the exact maps start from.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from scipy import special, stats

from harness.noise.numerics import TINY as _TINY

INV_SQRT2 = 1.0 / math.sqrt(2.0)


def as_float64(G: torch.Tensor) -> torch.Tensor:
    """``G`` in float64 (a copy when it is not float64 already; never modified in place)."""
    return G.to(torch.float64)


def finish(z: torch.Tensor, G: torch.Tensor, out: torch.Tensor | None) -> torch.Tensor:
    """Return ``z`` in the dtype of ``G``, written into ``out`` when one is given.

    Values beyond the largest finite number of the output dtype (heavy tails at
    astronomically unlikely base draws) are clamped to it, so that this step makes no
    sample infinite. (A float32 path that scales or exponentiates after it can still
    overflow for extreme parameters; the sampler refuses non-finite noisy inputs.)
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


def linf_norm(z: torch.Tensor) -> torch.Tensor:
    return z.abs().amax(dim=-1)


def log_erf(x: np.ndarray) -> np.ndarray:
    """``log erf(x)`` for ``x >= 0``, accurate near 0 and near 1."""
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(divide="ignore"):
        small = np.log(special.erf(np.minimum(x, 1.0)))
        return np.where(x < 1.0, small, np.log1p(-special.erfc(x)))


# the laws of the row statistics ----------------------------------------------------------
class FrozenLaw:
    """A law of a row statistic given by a frozen scipy distribution (``self._law``):
    its quantiles and tails, and the log density of ``t = log s``."""

    _law: Any  # a frozen scipy.stats distribution

    def quantile(self, p: float, upper: bool) -> float:
        return float(self._law.isf(p) if upper else self._law.ppf(p))

    def tail(self, s: float, upper: bool) -> float:
        return float(self._law.sf(s) if upper else self._law.cdf(s))

    def log_density_t(self, t: np.ndarray) -> np.ndarray:
        """Log density of ``t = log s``."""
        return self._law.logpdf(np.exp(t)) + t


class ChiSquareLaw(FrozenLaw):
    """``s = ||G||_2^2 ~ chi^2_d``."""

    def __init__(self, dim: int) -> None:
        self.dim = int(dim)
        self._law = stats.chi2(self.dim)

    def tails(self, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(F(s), 1 - F(s))``, each floored at the smallest normal double."""
        half = np.asarray(s, dtype=np.float64) / 2.0
        a = self.dim / 2.0
        return (
            np.maximum(special.gammainc(a, half), _TINY),
            np.maximum(special.gammaincc(a, half), _TINY),
        )


class GaussianMaxLaw:
    """``m = ||G||_inf``: ``F(m) = erf(m / sqrt 2)^d``."""

    def __init__(self, dim: int) -> None:
        self.dim = int(dim)

    def quantile(self, p: float, upper: bool) -> float:
        d = self.dim
        if upper:  # erfc(m / sqrt 2) = 1 - (1 - p)^(1/d)
            return math.sqrt(2.0) * float(special.erfcinv(-math.expm1(math.log1p(-p) / d)))
        return math.sqrt(2.0) * float(special.erfinv(math.exp(math.log(p) / d)))

    def tail(self, m: float, upper: bool) -> float:
        lower, up = self.tails(np.asarray([m]))
        return float(up[0] if upper else lower[0])

    def log_density_t(self, t: np.ndarray) -> np.ndarray:
        m = np.exp(t)
        return (
            math.log(self.dim)
            + (self.dim - 1) * log_erf(m * INV_SQRT2)
            + 0.5 * math.log(2.0 / math.pi)
            - 0.5 * m * m
            + t
        )

    def tails(self, m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(u, 1 - u)`` with ``u = F(m)``, the tail without cancellation, floored."""
        log_u = self.dim * log_erf(np.asarray(m, dtype=np.float64) * INV_SQRT2)
        return np.maximum(np.exp(log_u), _TINY), np.maximum(-np.expm1(log_u), _TINY)


class GammaLaw(FrozenLaw):
    """``Gamma(shape, 1)``."""

    def __init__(self, shape: float) -> None:
        self.shape = float(shape)
        self._law = stats.gamma(self.shape)


# device-side pieces of the transforms ----------------------------------------------------
#: Largest argument at which erfc is a normal number: 9.1 in float32 (|G| <= 12.87),
#: 26.5 in float64 (|G| <= 37.5). Base draws reach |G| <= 8.57 (``harness.draws``).
ERFC_ARG_MAX = {torch.float32: 9.1, torch.float64: 26.5}


def log_two_tail_(a: torch.Tensor, G: torch.Tensor, host: np.ndarray | None = None) -> torch.Tensor:
    """``a = log(2 Phi(-|G|)) = log erfc(|G| / sqrt 2)`` (``<= 0``) in ``a``'s dtype, in
    place: the tail form of the coordinate-wise couplings, exact to the dtype's rounding
    with torch's log (within ``LOG_FLOAT32_ULP`` with numpy's float32 one) for ``|G|`` up
    to ``sqrt 2 ERFC_ARG_MAX`` (beyond, it stays finite and flat). Where the CPU takes
    numpy's ufuncs (they run on AVX512: ``harness.noise.ufuncs``) ``host`` is ``a`` as a
    numpy array sharing its memory (``Batch.ufunc_scratch``) and the logarithm is
    numpy's vectorized one (0.40 ns a float32 value against torch's 1.03 on one such
    CPU, one thread); elsewhere (``None``) torch's."""
    torch.abs(G, out=a).mul_(INV_SQRT2).clamp_(max=ERFC_ARG_MAX[a.dtype])
    torch.special.erfc(a, out=a)
    if host is None:
        return a.log_()
    np.log(host, out=host)
    return a


#: numpy's float32 ``log`` here, against the float64 value: at most 3.83 ulp of the
#: float32 result over every float32 input in [1e-38, 1] (exhaustive, numpy 2.4's AVX-512
#: loop; torch's CPU kernel is within 1 ulp), a relative error below 3.83 * 2^-23 = 4.6e-7.
#: ``tests/harness/noise/test_coupling.py`` holds any build to 4 ulp.
LOG_FLOAT32_ULP = 3.83


#: numpy's float32 ``expm1`` here, against the float64 value rounded to float32: at most
#: 2.62 ulp over every float32 input in [0, 88.7] (exhaustive, numpy 2.4's AVX-512 loop;
#: torch's CPU kernel is within 1 ulp). ``tests/harness/noise/test_coupling.py`` holds any
#: build to 4 ulp.
EXPM1_FLOAT32_ULP = 2.62


def expm1_(a: torch.Tensor, host: np.ndarray | None) -> torch.Tensor:
    """``a = e^a - 1`` in place. Where the CPU takes numpy's ufuncs (they run on
    AVX512: ``harness.noise.ufuncs``) ``host`` is ``a`` as a numpy array sharing its
    memory (``Batch.ufunc_scratch``), and numpy's vectorized ufunc does the work: on one
    such CPU torch's ``expm1`` was a scalar loop, 8.9 ns a float32 value against numpy's
    0.41 (one thread), most of the Pareto transform's time; on an AVX2 CPU numpy's is
    the scalar one (18.4 ns against torch's 2.65). Within ``EXPM1_FLOAT32_ULP`` of the
    exact value in float32; an overflow gives inf, as torch's does. Elsewhere (``host``
    is ``None``) torch's."""
    if host is None:
        return a.expm1_()
    with np.errstate(over="ignore"):
        np.expm1(host, out=host)
    return a


def row_column(values: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """Per-row scale factors as a ``(rows, 1)`` column of ``dtype``, for broadcasting;
    beyond the dtype's largest finite number (heavy tails at astronomically unlikely base
    draws) they are clamped to it. The factor times a coordinate can still overflow for
    extreme parameters (a Pareto of a = 0.1, an Exp2 of k = 0.05 at d = 3072): the
    sampler refuses non-finite noisy inputs rather than count them."""
    big = torch.finfo(dtype).max
    return values.clamp(-big, big).to(dtype).unsqueeze(1)


def write_scaled(
    out: torch.Tensor, z: torch.Tensor, scale: torch.Tensor | float, x: torch.Tensor | None
) -> torch.Tensor:
    """``out = x + scale * z`` (``out = scale * z`` without ``x``); ``scale`` a number or a
    ``(rows, 1)`` column."""
    if isinstance(scale, torch.Tensor):
        if x is None:
            return torch.mul(z, scale, out=out)
        return torch.addcmul(x, z, scale, out=out)
    if x is None:
        return torch.mul(z, scale, out=out)
    return torch.add(x, z, alpha=scale, out=out)
