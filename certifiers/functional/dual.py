"""The dual view of the functional-optimization bound (Zhang et al. 2020, Eq. 9).

For a fixed shift ``delta`` the lower bound on the shifted top-class probability is

    min over f: [0, 1]-valued, E_{pi_0}[f] = p  of  E_{pi_delta}[f]
      = max over lambda >= 0 of  lambda p - E_{pi_0}[(lambda - pi_delta / pi_0)_+]      (dual)
      = max over lambda of  -lambda (1 - p)  +  integral of min(lambda pi_0, pi_delta)  (Eq. 9)

(the second form since ``(lambda - r)_+ = lambda - min(lambda, r)``): an *accuracy term*
``-lambda (1 - p)`` and a *robustness term* ``E_{pi_0}[min(lambda, pi_delta / pi_0)]``.
Strong duality holds for ``[0, 1]``-valued ``f`` (Theorem 1): the maximum equals the
Neyman-Pearson value. The objective is concave in ``lambda`` with slope
``p - P_0(r < lambda)``, so the maximizer is a ``p``-quantile of the likelihood ratio.

``solve_dual`` estimates everything by Monte Carlo from ``noise.sample`` and
``noise.log_prob`` (any noise, any shift); ``solve_dual_l2`` evaluates the objective
exactly for the generalized Gaussian (``certifiers.functional.l2.pi0_mass``) and maximizes
it numerically over ``log lambda``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from numpy.typing import ArrayLike
from scipy.optimize import minimize_scalar

from certifiers.functional.l2 import pi0_mass
from harness.noise import Noise


@dataclass(frozen=True)
class DualSolution:
    """The dual optimum and its Eq. 9 split: ``value = accuracy_term + robustness_term``.

    ``stderr`` is the Monte Carlo standard error of ``value`` (0 when exact)."""

    lam: float
    value: float
    accuracy_term: float
    robustness_term: float
    stderr: float = 0.0


def likelihood_ratios(
    noise: Noise, delta: ArrayLike, samples: int = 200_000, seed: int = 0
) -> np.ndarray:
    """``pi_delta(z) / pi_0(z) = pi_0(z - delta) / pi_0(z)`` for ``z ~ pi_0`` (float64)."""
    gen = torch.Generator().manual_seed(seed)
    z = noise.sample(samples, gen).to(torch.float64)
    shift = torch.as_tensor(np.asarray(delta, dtype=np.float64))
    if shift.shape != (noise.dim,):
        raise ValueError(f"delta must have shape ({noise.dim},), got {tuple(shift.shape)}")
    log_r = (noise.log_prob(z - shift) - noise.log_prob(z)).numpy()
    return np.exp(np.minimum(log_r, 700.0))


def dual_objective(lam: float, p: float, ratios: np.ndarray) -> DualSolution:
    """The Monte Carlo dual objective at ``lam``, with its Eq. 9 split."""
    robust = np.minimum(lam, ratios)
    robustness = float(robust.mean())
    accuracy = -lam * (1.0 - p)
    stderr = float(robust.std() / math.sqrt(ratios.size))
    return DualSolution(lam, accuracy + robustness, accuracy, robustness, stderr)


def solve_dual(
    noise: Noise, delta: ArrayLike, p: float, samples: int = 200_000, seed: int = 0
) -> DualSolution:
    """Maximize ``lambda p - E_0[(lambda - pi_delta/pi_0)_+]`` over ``lambda`` by Monte Carlo.

    The empirical objective is concave and piecewise linear with slope
    ``p - #{r_i < lambda} / n``; its maximum is attained at the ``ceil(p n)``-th smallest
    ratio, which is returned with the objective there."""
    if not 0.0 < p < 1.0:
        raise ValueError(f"p must lie in (0, 1), got {p!r}")
    ratios = likelihood_ratios(noise, delta, samples, seed)
    rank = min(ratios.size - 1, max(0, math.ceil(p * ratios.size) - 1))
    lam = float(np.partition(ratios, rank)[rank])
    return dual_objective(lam, p, ratios)


def solve_dual_l2(sigma: float, k: float, dim: int, radius: float, p: float) -> DualSolution:
    """The exact dual for ``GeneralizedGaussian(sigma, k, dim)`` and a shift of l2 norm
    ``radius``, maximized numerically over ``L = log lambda``.

    With ``Lambda = log(pi_delta / pi_0)`` and ``psi(L) = P_0(Lambda <= L)`` (no atoms):
    ``E_0[min(lambda, r)] = lambda (1 - psi(L)) + P_delta(Lambda < L)
    = lambda (1 - psi(L)) + 1 - psi(-L)`` by the reflection ``z -> -z``. Both ``1 - psi``
    are integrated as upper tails: at the optimum ``psi(L) = p``, and for p near 1 the
    difference ``1 - psi(L)``, multiplied by ``lambda`` (4e13 at p = 1 - 1e-15), put the
    value above the exact one (0.5028 for 0.4980 at d = 10, R = Phi^-1(p) + 0.005)."""
    if not 0.0 < p < 1.0:
        raise ValueError(f"p must lie in (0, 1), got {p!r}")
    R = radius / sigma  # the problem is scale-free

    def robustness(L: float) -> float:
        above, above_reflected = pi0_mass(k, dim, R, np.array([L, -L]), upper=True)
        return math.exp(L) * above + above_reflected

    def negative(L: float) -> float:
        return -(-math.exp(L) * (1.0 - p) + robustness(L))

    # the optimum is the p-quantile of Lambda: bracket it with the Gaussian's
    # (Lambda ~ N(-R^2/2, R^2) for k = 0), widened generously
    centre = -R * R / 2
    width = 12.0 * R * math.sqrt(dim / max(dim - k, 1.0)) + 1.0
    res = minimize_scalar(
        negative, bounds=(centre - width, centre + width), method="bounded",
        options={"xatol": 1e-10 * max(1.0, abs(centre)), "maxiter": 500},
    )  # fmt: skip
    L = float(res.x)
    rob = robustness(L)
    acc = -math.exp(L) * (1.0 - p)
    return DualSolution(math.exp(L), acc + rob, acc, rob, 0.0)
