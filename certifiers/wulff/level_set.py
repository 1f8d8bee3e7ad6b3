"""The level-set method of Yang et al. 2020 ("Randomized smoothing of all shapes and sizes",
Section 5) for the spherically symmetric family ``Exp2``:
``pi(z) ~ ||z||^{-j} exp(-(||z|| / s)^k)``, against l2. It is the exact Neyman-Pearson
bound, computed as a conservative, cached radius table.

Work at s = 1 (radii scale with s) and write ``T = r^k``, ``ell(T) = (j/k) log T + T``, so
that ``log pi = -ell(T) + const`` with ell increasing. Shift by ``delta = eps e_1``. For
``z = r u`` with u uniform on the sphere and ``c = u_1``, ``(1 + c)/2 ~ Beta(b, b)``,
``b = (d - 1)/2``, independent of r. The Neyman-Pearson set of level lambda,

    A = {z : log pi(z - delta) - log pi(z) <= lambda},

meets each sphere ``||z|| = r`` in a cap ``{c <= c0(r)}``, because ``||z - delta||^2 =
r^2 - 2 r eps c + eps^2`` is decreasing in c and pi is decreasing in the norm:

    c0(r) = (r^2 + eps^2 - rho0(r)^2) / (2 r eps),  rho0 = ell^{-1}(ell(T) - lambda)^{1/k},

and ``P_0(A) = E_r[F_c(c0(r))]`` with ``F_c`` the CDF of c (a regularized incomplete beta).
Likewise ``z' + delta`` is in A iff ``c <= c1(r) = (rho1^2 - r^2 - eps^2) / (2 r eps)`` with
``rho1 = ell^{-1}(ell(T) + lambda)^{1/k}`` (r = ||z'||), so ``P_delta(A) = E_r[F_c(c1(r))]``.
Both are one-dimensional integrals over the radius, of a Beta CDF.

For each eps on a grid, lambda is chosen (root finding) so that ``P_delta(A) = 1/2 + eta``;
then any classifier with ``E_0 f >= P_0(A)`` has ``E_delta f >= P_delta(A) > 1/2``: the pair
``(P_0(A), eps)`` is certified. ``ell^{-1}`` is ``max(y, 0)`` when j = 0 and
``(j/k) omega((k/j) y + log(k/j))`` otherwise (omega: the Wright omega function).

Integration over r uses the variable ``w = Phi^{-1}(F_T(T))`` (the probit of the radial
quantile, so both tails are resolved down to probabilities of 1e-19), on equal panels of
w in [-W, W]; the mass beyond is ``2 Phi(-W)`` and counted as error, and so is the mass
of the panels below ``T = TINY_T`` (a small shape ``a`` puts much of the radial law
there: at a = 0.01 the quantiles of probabilities below 8e-4 underflow to 0, and ``r =
T^(1/k)`` is lost with them). The integrand is a Beta CDF of a clipped cap, with kinks
where the cap becomes empty or the whole sphere (``c = -1`` or ``1``). Panels that
contain a kink are split there (bisection in ``log T``), and they and their neighbours
are integrated in ``s = log T`` with a graded rule (sub-intervals shrinking toward both
ends, cosine-substituted Gauss-Legendre), which absorbs the ``|T - T*|^b`` behaviour at
and near the kink. The Gamma density in s, ``exp(a s - e^s) / Gamma(a)``, is smooth for
every shape; in T, ``T^(a - 1)`` spans many orders of magnitude over one panel where a is
small, and the rule lost 37% of a panel's mass at a = 0.05 (a probability 0.035 off, which
the error estimate below did not see). The rule's error is estimated by comparing it with
a rule of half as many panels and half as many nodes in each graded sub-interval
(``level_set_rules``: a piece between two kinks is the same piece in both rules, and
only its nodes tell its error; with the nodes alike, the two rules shared an error of
4e-11 that their difference put at 2e-12), and both
probabilities are moved by ten times that estimate in the safe direction (``P_delta``
down, ``P_0`` up, with ``1 - P_0`` computed from the complementary caps so that p near 1
keeps its precision). The table then records ``(max_{eps' <= eps} p(eps'), eps)``: a shift
is certified once every smaller grid shift is. Between grid points the worst-case
probability is taken to be monotone in the shift size (the computed grid values are;
tests check this). Lookups floor to the grid: at most ``EPS_RATIO - 1`` (0.8%) of the
radius is lost, and p below the need of the smallest grid shift (1e-3 standard
deviations, p ~ 1/2 + 4e-4) gets radius 0.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special
from scipy.optimize import elementwise

from certifiers.tables import RadiusTable, cached_table
from harness.noise.numerics import gamma_quantile, gauss_legendre_panels, gauss_legendre_unit

VERSION = 5  # 5: caps without the difference rho^2 - r^2; 4: kinked panels in log T
PANELS = 64
NODES = 8
W = 9.0
#: Targets ``P_delta(A) = 1/2 + eta`` (before the error margin), tried in turn until the
#: margin fits; a shift where none fits is left out of the table.
ETAS = (1e-10, 1e-8, 1e-6)
SAFETY = 10.0
#: Shift grid, in units of the per-coordinate standard deviation of the noise.
EPS_MIN, EPS_RATIO, EPS_MAX_START = 1e-3, 1.008, 12.0
P_TOP = 1.0 - 1e-13
_BISECT = 60
#: The smallest normal double: below it, ``r^2`` keeps few digits.
_NORMAL = float(np.finfo(np.float64).tiny)
#: Newton steps refining ``log(T'/T)`` from the Wright omega function (``_log_growth``).
_NEWTON = 3
#: Radial quantiles ``T`` below this are left out (their mass counted as error): near the
#: smallest double they lose their digits, and ``r = T^(1/k)`` with them.
TINY_T = 1e-300


class Exp2LevelSet:
    """Neyman-Pearson probabilities of ``Exp2(1, k, j, d)`` under a shift of size eps."""

    def __init__(
        self, k: float, j: float, dim: int, panels: int = PANELS, sub_nodes: int = 2 * NODES
    ) -> None:
        if dim < 2:
            raise ValueError("the level-set method needs dim >= 2")
        self.k, self.j, self.dim = float(k), float(j), int(dim)
        self.a = (dim - j) / k
        self.b = (dim - 1.0) / 2.0
        self.edges = np.linspace(-W, W, panels + 1)
        self.nodes, weights = gauss_legendre_panels(  # (panels, NODES)
            self.edges[:-1], self.edges[1:] - self.edges[:-1], NODES
        )
        self.T_edges = self._T(self.edges)
        # panels from the first whose lower edge is at least TINY_T
        first = int(np.argmax(self.T_edges[:-1] >= TINY_T))
        if not self.T_edges[first] >= TINY_T:
            raise ArithmeticError(
                f"the level-set method cannot integrate Exp2(k={k:g}, j={j:g}, dim={dim}): "
                f"its radial quantiles lie below {TINY_T:g} (shape (dim - j) / k = "
                f"{self.a:.3g} too small)"
            )
        self.edges, self.T_edges = self.edges[first:], self.T_edges[first:]
        self.nodes, self.weights = self.nodes[first:], weights[first:] * _phi(self.nodes[first:])
        self.T_nodes = self._T(self.nodes)
        self._log_gamma_a = math.lgamma(self.a)
        self.sub_pos, self.sub_w = _graded_rule(*gauss_legendre_unit(sub_nodes))
        #: radial mass the rule does not see: below the first edge, and above W
        self.outside = special.ndtr(self.edges[0]) + special.ndtr(-W)

    def _T(self, w: np.ndarray) -> np.ndarray:
        """Gamma(a) quantile at probability ``Phi(w)`` (both tails exact)."""
        return gamma_quantile(self.a, special.ndtr(w), special.ndtr(-w))

    def _ell(self, T: np.ndarray) -> np.ndarray:
        if self.j == 0:
            return T
        with np.errstate(divide="ignore"):
            return (self.j / self.k) * np.log(T) + T

    def _log_growth(self, T: np.ndarray, shift: np.ndarray) -> np.ndarray:
        """``log(T' / T)`` where ``ell(T') = ell(T) + shift``, with ``T'/T - 1`` to its
        relative precision however small the shift is against T (``-inf`` where ``T' =
        0``). The difference ``T' - T`` of two large values rounds the shift to a multiple
        of T's spacing: at d = 150,528 (T near 1.5e5, a level near 7e-7) that was the same
        error at every node of both rules, unseen by their difference, and a recorded pair
        whose ``P_delta(A)`` is ``1/2 - 4.9e-9``. For j > 0, ``u = log(T'/T)`` from the
        Wright omega function is refined by Newton steps on ``(j/k) u + T expm1(u) =
        shift`` (increasing and convex in u: from the omega value, a few steps converge);
        where omega underflows (``z < -700``), ``log omega(z) = z`` to double precision."""
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            ratio = shift / T
            near = np.where(ratio > -1.0, np.log1p(np.maximum(ratio, -1.0)), -np.inf)
            slope = self.j / self.k
            if slope == 0.0:  # j = 0 (or so small against k that j / k underflows)
                return near
            z = (self._ell(T) + shift) / slope - math.log(slope)  # T' = slope omega(z)
            log_omega = np.where(z < -700.0, z, np.log(special.wrightomega(z)))  # e^z there
            u = log_omega + math.log(slope) - np.log(T)
            u = np.where(np.isfinite(u), u, near)  # z overflowed (j of 5e-324): j = 0's
            for _ in range(_NEWTON):
                step = (slope * u + T * np.expm1(u) - shift) / (slope + T * np.exp(u))
                u = np.where(np.isfinite(step), u - step, u)
        return u

    def _cap(self, T: np.ndarray, eps: np.ndarray, lam: np.ndarray, sign: float) -> np.ndarray:
        """The cap bound ``c0`` (sign = -1) or ``c1`` (sign = +1); eps, lam broadcast with T.
        With ``D = rho^2 - r^2 = r^2 expm1((2/k) log(T'/T))`` (no difference of squares):
        ``c0 = (eps^2 - D) / (2 r eps)``, ``c1 = (D - eps^2) / (2 r eps)``."""
        r = T ** (1.0 / self.k)
        growth = self._log_growth(T, sign * lam)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            power = (2.0 / self.k) * growth
            D = r * r * np.expm1(power)
            # where r^2 leaves the normal range or expm1 overflows (T' far above T), the
            # difference itself: it cancels only where T' is near T, which the product keeps
            apart = ~np.isfinite(D) | (r * r < _NORMAL)
            if apart.any():
                rho2 = np.exp((2.0 / self.k) * np.log(T) + power)
                D = np.where(apart, rho2 - r * r, D)
            if sign < 0:
                c = (eps * eps - D) / (2.0 * r * eps)
            else:
                c = (D - eps * eps) / (2.0 * r * eps)
        return np.nan_to_num(c, nan=0.0, posinf=2.0, neginf=-2.0)

    def _F(self, c: np.ndarray) -> np.ndarray:
        """CDF of the cosine c: ``I_{(1+c)/2}(b, b)`` (0 below -1, 1 above 1)."""
        out = (c >= 1.0).astype(np.float64)
        inner = np.abs(c) < 1.0
        out[inner] = special.betainc(self.b, self.b, 0.5 * (1.0 + c[inner]))
        return out

    def _integral(self, eps: np.ndarray, lam: np.ndarray, sign: float, flip: bool) -> np.ndarray:
        """``E_r[F(+-c(r))]`` for each pair (eps, lam): the cap probability averaged over r."""
        e3, l3 = eps[:, None, None], lam[:, None, None]
        c_nodes = self._cap(self.T_nodes[None], e3, l3, sign)
        values = self._F(-c_nodes if flip else c_nodes)  # (E, panels, NODES)
        per_panel = np.einsum("epn,pn->ep", values, self.weights)
        c_edges = self._cap(self.T_edges[None, :], eps[:, None], lam[:, None], sign)
        kinks = []
        for level in (1.0, -1.0):
            above = c_edges >= level
            kinks.append(above[:, 1:] != above[:, :-1])  # (E, panels)
        kinked = kinks[0] | kinks[1]
        # Kinked panels and their neighbours (a kink just outside a panel is a near-
        # singularity for it) are recomputed piece by piece with the graded rule.
        redo = kinked.copy()
        redo[:, 1:] |= kinked[:, :-1]
        redo[:, :-1] |= kinked[:, 1:]
        if redo.any():
            # Pieces are integrated in s = log T (Gamma density in s), so no quantile
            # function is evaluated inside the loop: cut points and nodes are values of s.
            e_idx, p_idx = np.nonzero(redo)
            lo, hi = np.log(self.T_edges[p_idx]), np.log(self.T_edges[p_idx + 1])
            points = [lo]
            for level, mask in zip((1.0, -1.0), kinks, strict=True):
                has = mask[e_idx, p_idx]
                root = lo.copy()
                if has.any():
                    root[has] = self._bisect(
                        lo[has], hi[has], eps[e_idx[has]], lam[e_idx[has]], sign, level
                    )
                points.append(root)
            points.append(hi)
            cuts = np.sort(np.stack(points, axis=1), axis=1)  # (K, 4): three pieces
            total = np.zeros(len(e_idx))
            for piece in range(3):
                a_, b_ = cuts[:, piece : piece + 1], cuts[:, piece + 1 : piece + 2]
                log_T = a_ + (b_ - a_) * self.sub_pos[None, :]
                c = self._cap(np.exp(log_T), eps[e_idx, None], lam[e_idx, None], sign)
                f = self._F(-c if flip else c)
                weights = self._density_of_log(log_T) * self.sub_w[None, :]
                total += np.sum(f * weights, axis=1) * (b_ - a_)[:, 0]
            per_panel[e_idx, p_idx] = total
        return per_panel.sum(axis=1)

    def _bisect(self, lo, hi, eps, lam, sign, level):
        """The point in [lo, hi] (values of log T) where the cap bound crosses ``level``."""
        f_lo = self._cap(np.exp(lo), eps, lam, sign) >= level
        for _ in range(_BISECT):
            mid = 0.5 * (lo + hi)
            f_mid = self._cap(np.exp(mid), eps, lam, sign) >= level
            same = f_mid == f_lo
            lo, hi = np.where(same, mid, lo), np.where(same, hi, mid)
        return 0.5 * (lo + hi)

    def _density_of_log(self, log_T: np.ndarray) -> np.ndarray:
        """The density of ``log T`` for ``T ~ Gamma(a)``: ``exp(a s - e^s) / Gamma(a)``."""
        return np.exp(self.a * log_T - np.exp(log_T) - self._log_gamma_a)

    def p_shifted(self, eps: np.ndarray, lam: np.ndarray) -> np.ndarray:
        """``P_delta(A_lambda)`` (the rule's view; see ``outside`` for the unseen mass)."""
        return self._integral(np.asarray(eps, float), np.asarray(lam, float), +1.0, False)

    def p_unshifted_complement(self, eps: np.ndarray, lam: np.ndarray) -> np.ndarray:
        """``1 - P_0(A_lambda)`` from the complementary caps (``1 - F_c(c) = F_c(-c)``)."""
        return self._integral(np.asarray(eps, float), np.asarray(lam, float), -1.0, True)


def _graded_rule(u: np.ndarray, wu: np.ndarray, ratio: float = 0.25, levels: int = 5):
    """A rule on [0, 1] for integrands with endpoint singularities: sub-intervals shrinking
    geometrically (by ``ratio``) toward both ends, each with a cosine-substituted
    Gauss-Legendre rule (nodes ``u`` and weights ``wu`` on [0, 1]; the substitution
    ``t = (1 - cos(pi u)) / 2`` absorbs ``|t - t*|^b`` behaviour at its own ends)."""
    left = np.concatenate([[0.0], ratio ** np.arange(levels, 0, -1), [0.5]])
    breaks = np.concatenate([left, 1.0 - left[-2::-1]])
    theta = np.pi * u
    pos = 0.5 * (1.0 - np.cos(theta))
    wt = 0.5 * np.sin(theta) * np.pi * wu
    a, b = breaks[:-1, None], breaks[1:, None]
    return (a + (b - a) * pos[None, :]).ravel(), ((b - a) * wt[None, :]).ravel()


def _phi(w: np.ndarray) -> np.ndarray:
    return np.exp(-0.5 * w * w) / math.sqrt(2.0 * math.pi)


def _solve_level(ls: Exp2LevelSet, eps: np.ndarray, target: float) -> np.ndarray:
    """lambda with ``P_delta(A_lambda) = target`` (the upper end of the final bracket)."""

    def f(lam: np.ndarray, e: np.ndarray) -> np.ndarray:
        return ls.p_shifted(np.atleast_1d(e), np.atleast_1d(lam)) - target

    width = np.maximum(eps, 1e-3) * 4.0
    bracket = elementwise.bracket_root(f, -width, width, args=(eps,))
    if not np.all(bracket.success):
        raise ArithmeticError("level-set: could not bracket the Neyman-Pearson level")
    lo, hi = bracket.bracket
    res = elementwise.find_root(f, (lo, hi), args=(eps,), tolerances={"xatol": 1e-13})
    return np.maximum(res.bracket[0], res.bracket[1])


def _certified_p(fine: Exp2LevelSet, coarse: Exp2LevelSet, eps: np.ndarray, eta: float):
    """For each eps: the p at which eps is certified (NaN where the error margin does not
    fit under the target ``1/2 + eta``)."""
    lam = _solve_level(fine, eps, 0.5 + eta)
    beta_f, beta_c = fine.p_shifted(eps, lam), coarse.p_shifted(eps, lam)
    tail_f = fine.p_unshifted_complement(eps, lam)
    tail_c = coarse.p_unshifted_complement(eps, lam)
    slack = fine.outside + 1e-15
    beta = beta_f - SAFETY * np.abs(beta_f - beta_c) - slack
    tail = tail_f - SAFETY * np.abs(tail_f - tail_c) - slack
    ok = (beta > 0.5) & (tail > 0)
    return np.where(ok, np.nextafter(1.0 - tail, 2.0), np.nan)


def level_set_rules(k: float, j: float, dim: int) -> tuple[Exp2LevelSet, Exp2LevelSet]:
    """The rule whose probabilities are recorded, and the one of half as many panels and
    sub-interval nodes that estimates its error (module docstring)."""
    return Exp2LevelSet(k, j, dim, PANELS, 2 * NODES), Exp2LevelSet(k, j, dim, PANELS // 2, NODES)


def exp2_pairs(k: float, j: float, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """Certified pairs ``(p, eps)`` for ``Exp2(1, k, j, dim)`` against l2 (see module doc)."""
    fine, coarse = level_set_rules(k, j, dim)
    unseen = max(fine.outside, coarse.outside)
    if unseen >= 0.5 - ETAS[-1]:  # P_delta(A) <= 1 - unseen: no target is within reach
        raise ArithmeticError(
            f"the level-set method certifies no l2 shift of Exp2(k={k:g}, j={j:g}, dim={dim}):"
            f" {unseen:.2g} of its radial law lies below T = ||z||^k = {TINY_T:g}, where "
            f"||z|| loses its digits (the shape (dim - j) / k = {fine.a:.3g} is too small)"
        )
    std = math.sqrt(math.exp(math.lgamma(fine.a + 2.0 / k) - math.lgamma(fine.a)) / dim)
    eps_max = EPS_MAX_START
    while True:
        n = int(math.ceil(math.log(eps_max / EPS_MIN) / math.log(EPS_RATIO))) + 1
        eps = std * EPS_MIN * EPS_RATIO ** np.arange(n)
        p = np.full(n, np.nan)
        for eta in ETAS:  # a larger target where the error margin did not fit
            todo = np.isnan(p)
            if not todo.any():
                break
            p[todo] = _certified_p(fine, coarse, eps[todo], eta)
        done = ~np.isnan(p)
        if not done.any():
            raise ArithmeticError(
                f"the level-set method certifies no l2 shift of Exp2(k={k}, j={j}, dim={dim}): "
                "its quadrature error does not fit under any target probability (j too "
                "close to dim?)"
            )
        if p[done][-1] >= P_TOP or eps_max > 1e4 * EPS_MAX_START or not done[-1]:
            break
        eps_max *= 4.0
    # A shift is recorded as certified at the largest p any smaller grid shift needs.
    p, eps = np.maximum.accumulate(p[done]), eps[done]
    keep = p <= 1.0
    return p[keep], eps[keep]


def exp2_table(k: float, j: float, dim: int) -> RadiusTable:
    """The cached table of ``Exp2(scale=1, k, j, dim)`` against l2; multiply by the scale."""
    key = {
        "method": "wulff-level-set",
        "version": VERSION,
        "family": "exp2",
        "k": float(k),
        "j": float(j),
        "dim": int(dim),
        "panels": PANELS,
        "nodes": NODES,
        "w": W,
        "eps_ratio": EPS_RATIO,
    }
    return cached_table(key, lambda: exp2_pairs(k, j, dim))
