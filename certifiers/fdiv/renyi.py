"""Dvijotham et al. 2020, f-divergence certificates with Renyi divergences: ``fdiv-renyi``.

Binary form: certified when ``D_a(P_delta || P_0) < D_a(Bern(1/2) || Bern(p_A))`` for some
order ``a > 1``. For the Gaussian ``D_a(P_delta || P_0) = a ||delta||^2 / (2 sigma^2)``, so

    R_2 = sigma sqrt(2 sup_{a > 1} D_a(Bern(1/2) || Bern(p_A)) / a),

the supremum taken numerically (a grid over ``log(a - 1)`` refined with
``scipy.optimize.elementwise.find_minimum``; every order tried is a valid certificate).
l1 = l2 radius, linf = l2 radius / sqrt(d).

Multi-class form (``radius_with_runner_up``; Li et al. 2019): with an upper bound p_B on the
runner-up, the Bernoulli divergence is replaced by
``-log(1 - p_A - p_B + 2 ((p_A^{1-a} + p_B^{1-a}) / 2)^{1/(1-a)})``, the smallest
``D_a(Q || P)`` over output laws Q with another top class; it certifies whenever
``p_A > p_B``, also below one half.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from certifiers.base import (
    NORMS,
    Certificate,
    Certifier,
    UnsupportedError,
    check_norm,
    check_probabilities,
)
from certifiers.fdiv import divergences as fd
from certifiers.norm_conversion import convert
from certifiers.registry import register
from harness.noise import Gaussian, Noise


def _gaussian_radius(noise: Gaussian, divergence_over_order: np.ndarray, norm: str) -> np.ndarray:
    r2 = noise.sigma * np.sqrt(2.0 * np.maximum(divergence_over_order, 0.0))
    return convert(r2, "l2", norm, noise.dim) * (1.0 - fd.ROUND_DOWN)


def _binary(c: Certifier, noise: Noise, p: np.ndarray, norm: str) -> np.ndarray:
    out = np.full(p.shape, np.inf)
    finite = p < 1.0
    if finite.any():
        q = p[finite]
        best = fd.best_renyi_over_order(lambda a, i: fd.renyi_half(a, q[i]) / a, q.size)
        out[finite] = _gaussian_radius(noise, best, norm)
    return out


def _certificate(norm: str) -> Certificate:
    return Certificate(lambda c, noise, p: _binary(c, noise, p, norm))


@register("fdiv-renyi")
class FdivRenyi(Certifier):
    certificates = {("gaussian", norm): _certificate(norm) for norm in NORMS}

    def radius_with_runner_up(
        self, noise: Noise, p_lower: ArrayLike, p_b_upper: ArrayLike, norm: str = "l2"
    ) -> float | np.ndarray:
        """Multi-class Renyi radius from a lower bound on p_A and an upper bound on p_B.

        ``p_B`` is capped at ``1 - p_A``; the radius is 0 where ``p_A <= p_B``, and
        infinite where ``p_A = 1`` (every order's divergence bound is then infinite, as in
        the binary form). Shapes broadcast; a scalar pair gives a float.
        """
        check_norm(norm)
        if not isinstance(noise, Noise):
            raise TypeError(f"noise must be a harness.noise.Noise, got {type(noise).__name__}")
        if not self.supports(noise, norm):
            raise UnsupportedError(f"fdiv-renyi does not certify {noise.name} against {norm}")
        pa = check_probabilities(p_lower, "p_lower")
        pb = check_probabilities(p_b_upper, "p_b_upper", bound="upper")
        pa, pb = np.broadcast_arrays(pa, pb)
        pb = np.minimum(pb, 1.0 - pa)
        out = np.where(pa >= 1.0, np.inf, 0.0)
        live = (pa > pb) & (pa < 1.0)
        if live.any():
            a_, b_ = pa[live], pb[live]
            best = fd.best_renyi_over_order(
                lambda a, i: fd.renyi_multiclass_lower(a, a_[i], b_[i]) / a, a_.size
            )
            best = best * (1.0 - 1e-9)
            out[live] = _gaussian_radius(noise, best, norm)
        if out.ndim == 0:
            return float(out)
        return out
