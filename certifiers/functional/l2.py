"""Exact Neyman-Pearson l2 certificate for generalized Gaussian smoothing (Zhang et al. 2020).

The smoothing density is ``pi_0(z) ~ ||z||^{-k} exp(-||z||^2 / (2 sigma^2))`` on R^d,
``0 <= k <= d - 2``: ``||z|| / sigma ~ chi_{d-k}`` and the direction is uniform. Everything
here works at ``sigma = 1``; the radius scales linearly, ``R(sigma) = sigma * R(1)``.

**The bound.** For a shift ``delta`` with ``||delta|| = R`` write
``Lambda(z) = log pi_0(z - delta) - log pi_0(z)`` and ``psi(L) = P_0(Lambda <= L)``. With
``r = ||z||``, ``w = r^2 / 2``, ``c = cos(z, delta)`` and ``y = (R^2 - 2 r R c) / r^2``,

    Lambda = -(k/2) log(1 + y) - w y,

decreasing in ``y``, hence increasing in ``c`` for fixed ``r``. So ``{Lambda <= L}`` is
``{c <= c*(r, L)}`` with ``c* = R/(2r) - y* r/(2R)``, where ``y*`` solves
``(k/2) log1p(y) + w y = -L``; and ``(1 + c)/2 ~ Beta((d-1)/2, (d-1)/2)`` independently of
``r``. Hence the 1-D integral over the radius (``docs/mathematics.md``)

    psi(L) = E_r[ I_{(1 + c*(r, L))/2}((d-1)/2, (d-1)/2) ],

with ``I`` the regularized incomplete beta function. By the symmetry ``z -> -z`` of
``pi_0``, ``pi_delta(Lambda <= L) = P_0(Lambda >= -L)``. Neyman-Pearson (Cohen et al.
2019, Lemma 3; Zhang et al. 2020, Theorem 1): for any ``L`` with ``psi(-L) <= 1/2`` every
classifier with ``E_0[f] >= psi(L)`` has ``E_delta[f] >= 1/2``. Taking ``-L`` at the median
of ``Lambda`` gives the smallest such top-class probability,

    p_min(R) = psi(-L_med(R)),   psi(L_med) = 1/2,

and the certified radius at ``p`` is the largest ``R`` with ``p_min(R) <= p``. For
``k = 0`` this is Cohen's ``R = Phi^{-1}(p)`` (Corollary 1): ``Lambda = R x - R^2/2``
with ``x ~ N(0, 1)``, so ``L_med = -R^2/2`` and ``p_min = Phi(R)``.

**Numerics.** The radius integral is a composite Gauss-Legendre rule on panels split at
quantiles of the chi law, at multiples of ``R`` and at the points where ``c*`` leaves
[-1, 1] (found exactly by bisection on the closed-form ``Lambda`` at ``c = +-1``); panels
ending at such a kink get a smoothstep substitution that removes the ``(r - r_0)^((d-1)/2)``
endpoint singularity. The upper mass ``1 - psi`` is integrated directly (``I_{(1-c*)/2}``),
so ``1 - p_min`` keeps its relative precision down to 1e-16. ``L_med`` is found by
safeguarded Newton and taken on the side where ``psi(L_med) <= 1/2``; ``1 - p_min`` is
rounded down by a relative 1e-9. Accuracy, pinned by the tests against an independent
adaptive quadrature: about 1e-12 absolute on ``psi``, 1e-9 relative on ``1 - p_min``.

**Table.** ``build_table`` evaluates ``g(R) = Phi^{-1}(p_min(R))`` exactly on adaptively
refined nodes in ``log R``, interpolates ``g / R`` with a cubic spline validated at every
interval midpoint against exact values (to ``1e-7 (g + 1e-3)``: near ``p = 1/2`` the
exact ``g`` is itself only good to about 2.5e-12 absolute), pads ``g`` by four times the
worst validated error (relative, plus the same times 1e-3 absolute, plus 1e-9 relative)
and tabulates the pairs ``(Phi(g_j), R_j)`` on a geometric
grid of ratio ``1 + 6e-5``: the lookup is never above the exact radius, and within 6e-5
relative of it for ``p`` in [0.501, 1 - 1e-13]. Closer to 1 the float64 grid of ``p``
(spacing 1.1e-16) is coarse against ``1 - p`` and a lookup can fall one step of it short:
8.8e-4 below the exact radius at ``1 - p = 1e-15`` (d = 64, k = 8), still below it; no
Clopper-Pearson bound comes that close (it is at most ``alpha^(1/n)``). ``p_min`` is
made non-decreasing in ``R`` (running maximum), which is what "every shift of norm at
most R" requires.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from numpy.typing import ArrayLike
from scipy import special as sp
from scipy.interpolate import CubicSpline
from scipy.optimize import brentq

from certifiers.tables import RadiusTable, cached_table
from harness.noise.numerics import gauss_legendre_unit

#: Bump whenever the mathematics or numerics of the table change (it keys the disk cache).
CODE_VERSION = 3  # 2: derivative free of 0 * log 0 at Beta(1, 1) and of 0/0 at k = 0
# 3: the spline's error is measured against g + _G_ABS (an absolute floor near p = 1/2)

_QUANTILE_LEVELS = np.array(
    [1e-30, 1e-20, 1e-14, 1e-10, 1e-7, 1e-5, 1e-3, 0.01, 0.05, 0.15, 0.3, 0.5]
)
_GL_NODES = 16
_KINK_GRID = 512
_MAX_KINKS = 6
_R_MULTIPLES = (0.25, 0.5, 1.0, 2.0, 4.0)
#: ``psi(L_med)`` is accepted in [1/2 - _MEDIAN_SLACK, 1/2] (never above 1/2).
_MEDIAN_SLACK = 2e-12
#: ``1 - p_min`` is multiplied by ``1 - _TAIL_ROUNDING`` (rounding the radius down).
_TAIL_ROUNDING = 1e-9
#: Table range: ``p`` from 1/2 + 1e-6 to ``1 - 1e-16`` (in ``g = Phi^{-1}(p)``).
_G_LOW = float(sp.ndtri(0.5 + 1e-6))
_G_HIGH = 8.2
_G_FINE = float(sp.ndtri(0.501))
_STEP_FINE = 6e-5  # geometric ratio of the dense grid above p = 0.501
_STEP_COARSE = 1e-3  # below p = 0.501
_SPLINE_RTOL = 1e-7
#: Near ``p = 1/2`` the spline is validated to ``_SPLINE_RTOL * (g + _G_ABS)``: ``psi`` is
#: exact to about 1e-12 absolute, so ``g`` to about 2.5e-12, which at ``g = 1e-5`` (d =
#: 150528, k = 2.5) is 2.5e-7 relative, above the tolerance whatever the nodes.
_G_ABS = 1e-3
_QUAD_RTOL = 1e-13
_QUAD_DEPTH = 40


class UnitFamily:
    """The generalized Gaussian at ``sigma = 1``: shape ``m = (d-k)/2`` of
    ``w = ||z||^2 / 2 ~ Gamma(m)``, beta parameter ``(d-1)/2`` of the cosine."""

    def __init__(self, k: float, dim: int) -> None:
        k = float(k)
        if not (isinstance(dim, int) and dim >= 2):
            raise ValueError(f"the l2 certificate needs dim >= 2, got {dim!r}")
        if not (math.isfinite(k) and 0.0 <= k <= dim - 2):
            raise ValueError(f"the l2 certificate needs 0 <= k <= dim - 2, got k={k!r}")
        self.k, self.dim = k, dim
        self.a = k / 2.0
        self.m = (dim - k) / 2.0
        self.beta = (dim - 1) / 2.0
        lo = np.sqrt(2.0 * sp.gammaincinv(self.m, _QUANTILE_LEVELS))
        hi = np.sqrt(2.0 * sp.gammainccinv(self.m, _QUANTILE_LEVELS[:-1]))
        self.breaks = np.unique(np.concatenate([lo, hi]))
        self.r_lo, self.r_hi = float(self.breaks[0]), float(self.breaks[-1])
        self.kink_grid = np.linspace(np.log(self.r_lo), np.log(self.r_hi), _KINK_GRID)
        m = self.m
        if m >= 30:  # Stirling's series, truncation error < 1e-16 there
            stirling = 1 / (12 * m) - 1 / (360 * m**3) + 1 / (1260 * m**5) - 1 / (1680 * m**7)
            self._log_norm = -0.5 * np.log(2 * np.pi * m) - stirling
        else:
            self._log_norm = float(-sp.gammaln(m))

    def log_density(self, r: np.ndarray) -> np.ndarray:
        """Log density of ``r = ||z||`` (chi with ``2m`` degrees of freedom).

        ``log f(r) = (m-1) log w - w - log Gamma(m) + log r`` with ``w = r^2/2``, written
        around ``w = m`` with Stirling's series so that it keeps full precision for
        ``m`` up to 1e5 (``log Gamma(m)`` itself is ~1e6 there)."""
        m = self.m
        w = r * r / 2.0
        with np.errstate(divide="ignore"):
            if m >= 30:
                lw = (m - 1) * np.log1p((w - m) / m) - (w - m) + self._log_norm
            else:
                lw = (m - 1) * np.log(w) - w + self._log_norm
            return lw + np.log(r)

    def solve_y(self, w: np.ndarray, L: np.ndarray) -> np.ndarray:
        """``y*`` with ``(k/2) log1p(y) + w y = -L`` (``-1`` when no ``y > -1`` solves it)."""
        a = self.a
        if a == 0.0:
            return np.maximum(-L / w, -1.0)
        # Newton on h(v) = a v + w expm1(v) + L, v = log1p(y): convex and increasing, so
        # Newton converges monotonically; start from the better of the k = 0 solution and
        # the Wright-omega closed form v = (w - L)/a - omega((w - L)/a + log(w/a)).
        y0 = np.maximum(-L / w, -1.0 + 1e-16)
        v0 = np.log1p(y0)
        v1 = (w - L) / a - sp.wrightomega((w - L) / a + np.log(w / a))

        def h(v: np.ndarray) -> np.ndarray:
            return a * v + w * np.expm1(v) + L

        v = np.where(np.abs(h(v1)) < np.abs(h(v0)), v1, v0)
        for _ in range(5):
            v = v - h(v) / (a + w * np.exp(v))
        return np.expm1(v)

    def threshold_cosine(
        self, r: np.ndarray, R: np.ndarray, L: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """``c*(r, L)`` and ``dc*/dL``: for ``||z|| = r``, ``Lambda <= L`` iff
        ``cos(z, delta) <= c*``; ``dc*/dL = (r / 2R) / (k/(2(1 + y*)) + w)``."""
        w = r * r / 2.0
        y = self.solve_y(w, L)
        # r -> 0 gives c* = +inf (clipped by the caller) and an unused derivative; y* = -1
        # gives an infinite pole term and dc*/dL = 0, its limit. k = 0 has no pole term.
        with np.errstate(divide="ignore", invalid="ignore"):
            pole = self.a / (1.0 + y) if self.a else 0.0
            return R / (2.0 * r) - y * r / (2.0 * R), (r / (2.0 * R)) / (pole + w)

    def pole_log_ratio(self, r: np.ndarray, R: np.ndarray, sign: int) -> np.ndarray:
        """``Lambda`` at ``c = sign`` (+1 or -1), in closed form."""
        with np.errstate(divide="ignore"):
            if sign > 0:
                t = -2.0 * self.a * np.log(np.abs(1.0 - R / r)) if self.a else 0.0
                return t - R * R / 2.0 + r * R
            t = -2.0 * self.a * np.log1p(R / r) if self.a else 0.0
            return t - R * R / 2.0 - r * R


@lru_cache(maxsize=64)
def unit_family(k: float, dim: int) -> UnitFamily:
    return UnitFamily(float(k), int(dim))


def _kinks(fam: UnitFamily, R: np.ndarray, L: np.ndarray) -> np.ndarray:
    """Radii (P, _MAX_KINKS) where ``c*`` crosses +-1 (padded with ``r_hi``)."""
    P = R.shape[0]
    u = fam.kink_grid[None, :]
    rf = np.exp(u)
    lows, highs, signs = [], [], []
    for sign in (1, -1):
        s = np.sign(fam.pole_log_ratio(rf, R, sign) - L)
        change = s[:, 1:] != s[:, :-1]
        lows.append(np.where(change, u[:, :-1], np.nan))
        highs.append(np.where(change, u[:, 1:], np.nan))
        signs.append(np.full(change.shape, sign))
    lo, hi, sg = (np.concatenate(x, axis=1) for x in (lows, highs, signs))
    order = np.argsort(np.isnan(lo), axis=1, kind="stable")[:, :_MAX_KINKS]
    lo, hi, sg = (np.take_along_axis(x, order, axis=1) for x in (lo, hi, sg))
    has = ~np.isnan(lo)
    lo = np.where(has, lo, 0.0)
    hi = np.where(has, hi, 0.0)
    Rk = np.broadcast_to(R, lo.shape)
    Lk = np.broadcast_to(L, lo.shape)

    def g(uu: np.ndarray) -> np.ndarray:
        r = np.exp(uu)
        return np.where(sg > 0, fam.pole_log_ratio(r, Rk, 1), fam.pole_log_ratio(r, Rk, -1)) - Lk

    s_lo = np.sign(g(lo))
    for _ in range(52):
        mid = (lo + hi) / 2.0
        same = np.sign(g(mid)) == s_lo
        lo = np.where(same, mid, lo)
        hi = np.where(same, hi, mid)
    out = np.where(has, np.exp((lo + hi) / 2.0), fam.r_hi)
    return out.reshape(P, _MAX_KINKS)


def _panels(fam: UnitFamily, R: np.ndarray, L: np.ndarray):
    """Initial panels (problem index, left, right, kink-at-left, kink-at-right)."""
    P = R.shape[0]
    kinks = _kinks(fam, R, L)
    extra = np.clip(R * np.asarray(_R_MULTIPLES)[None, :], fam.r_lo, fam.r_hi)
    breaks = np.broadcast_to(fam.breaks, (P, fam.breaks.size))
    bp = np.sort(np.concatenate([breaks, extra, kinks], axis=1), axis=1)
    # a breakpoint within a few ulps of a kink (a non-smooth point of the integrand) makes
    # the adjacent panels use a substitution that flattens the integrand there
    near = np.abs(bp[:, :, None] - kinks[:, None, :]) <= 1e-12 * bp[:, :, None]
    is_kink = near.any(axis=2) & (bp < fam.r_hi)
    left, right = bp[:, :-1], bp[:, 1:]
    keep = right > left
    pid = np.broadcast_to(np.arange(P)[:, None], left.shape)[keep]
    return pid, left[keep], right[keep], is_kink[:, :-1][keep], is_kink[:, 1:][keep]


def _panel_integrals(fam, pid, a, b, kl, kr, R, L, upper, derivative):
    """Gauss-Legendre integral of the mass integrand (and of its L-derivative) per panel."""
    x, wgt = gauss_legendre_unit(_GL_NODES)
    t = x[None, :]
    kl, kr = kl[:, None], kr[:, None]
    phi = np.where(kl & kr, t * t * (3 - 2 * t), np.where(kl, t * t, np.where(kr, t * (2 - t), t)))
    dphi = np.where(kl & kr, 6 * t * (1 - t), np.where(kl, 2 * t, np.where(kr, 2 - 2 * t, 1.0)))
    width = (b - a)[:, None]
    r = a[:, None] + width * phi
    c, dc = fam.threshold_cosine(r, R[pid], L[pid])
    cc = np.clip(c, -1.0, 1.0)
    xb = (1.0 - cc) / 2.0 if upper else (1.0 + cc) / 2.0
    dens = np.exp(fam.log_density(r)) * (width * wgt * dphi)
    val = (dens * sp.betainc(fam.beta, fam.beta, xb)).sum(axis=1)
    if not derivative:
        return val, None
    inside = np.abs(c) < 1.0
    xin = np.where(inside, xb, 0.5)
    with np.errstate(divide="ignore", invalid="ignore"):  # Beta(1, 1): 0 * log 0 = 0
        log_pdf = (sp.xlogy(fam.beta - 1, xin) + sp.xlog1py(fam.beta - 1, -xin)) - sp.betaln(
            fam.beta, fam.beta
        )
        dpsi = np.where(inside, np.exp(log_pdf) * 0.5 * dc, 0.0)
    return val, (dens * dpsi).sum(axis=1)


def pi0_mass(k: float, dim: int, R: ArrayLike, L: ArrayLike, upper: bool = False) -> np.ndarray:
    """``P_0(Lambda <= L)`` (or ``P_0(Lambda > L)`` with ``upper``) at ``sigma = 1`` for a
    shift of norm ``R``; broadcasts over ``R`` and ``L``."""
    Rb, Lb = np.broadcast_arrays(np.asarray(R, dtype=np.float64), np.asarray(L, np.float64))
    val, _ = _mass(unit_family(k, dim), Rb.reshape(-1, 1), Lb.reshape(-1, 1), upper, False)
    return val.reshape(Rb.shape)


def _mass(
    fam: UnitFamily, R: np.ndarray, L: np.ndarray, upper: bool, derivative: bool
) -> tuple[np.ndarray, np.ndarray | None]:
    """Adaptive composite Gauss-Legendre: a panel is accepted when its value and the sum
    over its two halves agree to ``_QUAD_RTOL`` of the problem's total, else both halves
    are refined further. Vectorized over problems and panels."""
    P = R.shape[0]
    pid, a, b, kl, kr = _panels(fam, R, L)
    whole, _ = _panel_integrals(fam, pid, a, b, kl, kr, R, L, upper, derivative=False)
    total = np.bincount(pid, whole, minlength=P)
    out = np.zeros(P)
    dout = np.zeros(P)
    for _ in range(_QUAD_DEPTH):
        mid = (a + b) / 2
        no = np.zeros_like(kl)
        pid2 = np.concatenate([pid, pid])
        a2, b2 = np.concatenate([a, mid]), np.concatenate([mid, b])
        kl2, kr2 = np.concatenate([kl, no]), np.concatenate([no, kr])
        halves, dhalves = _panel_integrals(fam, pid2, a2, b2, kl2, kr2, R, L, upper, derivative)
        n = pid.size
        split = halves[:n] + halves[n:]
        tol = _QUAD_RTOL * np.abs(total[pid]) + 1e-300
        good = np.abs(split - whole) <= tol
        out += np.bincount(pid[good], split[good], minlength=P)
        if derivative:
            dsplit = dhalves[:n] + dhalves[n:]
            dout += np.bincount(pid[good], dsplit[good], minlength=P)
        again = np.concatenate([~good, ~good])
        if not again.any():
            return out, (dout if derivative else None)
        pid, a, b, kl, kr = pid2[again], a2[again], b2[again], kl2[again], kr2[again]
        whole = halves[again]
    raise ArithmeticError("adaptive quadrature of the Neyman-Pearson mass did not converge")


def _median(fam: UnitFamily, R: np.ndarray) -> np.ndarray:
    """``L`` (P, 1) with ``psi(L)`` in ``[1/2 - _MEDIAN_SLACK, 1/2]``: a median of Lambda
    taken from below, so that ``pi_delta(Lambda <= -L) = 1 - psi(L) >= 1/2``.

    Safeguarded Newton: a bracket is grown by doubling steps of about the standard
    deviation of Lambda, Newton steps that leave it are replaced by bisection."""
    target = 0.5 - _MEDIAN_SLACK / 2
    L = -fam.a * np.log1p(R * R / (2 * fam.m)) - R * R / 2
    step = R * math.sqrt(fam.dim / (2 * fam.m))  # standard deviation of Lambda, roughly
    lo = np.full_like(L, -np.inf)
    hi = np.full_like(L, np.inf)
    out = np.full_like(L, np.nan)
    act = np.arange(L.shape[0])
    for _ in range(200):
        if act.size == 0:
            return out
        La = L[act]
        val, der = _mass(fam, R[act], La, upper=False, derivative=True)
        val, der = val[:, None], der[:, None]
        ok = (val <= 0.5) & (val >= 0.5 - _MEDIAN_SLACK)
        below = val < target
        lo[act] = np.where(below, La, lo[act])
        hi[act] = np.where(below, hi[act], La)
        with np.errstate(divide="ignore", invalid="ignore"):
            new = La + (target - val) / der
        outside = ~np.isfinite(new) | (new <= lo[act]) | (new >= hi[act])
        bracketed = np.isfinite(lo[act]) & np.isfinite(hi[act])
        grow = np.where(below, La + step[act], La - step[act])
        new = np.where(outside, np.where(bracketed, (lo[act] + hi[act]) / 2, grow), new)
        step[act] = np.where(outside & ~bracketed, 2 * step[act], step[act])
        out[act] = np.where(ok, La, np.nan)
        L[act] = new
        act = act[~ok[:, 0]]
    raise ArithmeticError("the median of the log likelihood ratio did not converge")


def tail_mass(k: float, dim: int, R: ArrayLike) -> np.ndarray:
    """``1 - p_min(R)`` at ``sigma = 1``, rounded down (so ``p_min`` is rounded up)."""
    fam = unit_family(k, dim)
    Rarr = np.asarray(R, dtype=np.float64)
    if np.any(~np.isfinite(Rarr)) or np.any(Rarr <= 0):
        raise ValueError("radii must be positive and finite")
    Rp = Rarr.reshape(-1, 1)
    L = _median(fam, Rp)
    q, _ = _mass(fam, Rp, -L, upper=True, derivative=False)
    return (q * (1.0 - _TAIL_ROUNDING)).reshape(Rarr.shape)


def p_min(k: float, dim: int, R: ArrayLike) -> np.ndarray:
    """The smallest top-class probability that certifies every shift of l2 norm ``R``
    (``sigma = 1``), rounded up."""
    return 1.0 - tail_mass(k, dim, R)


def quantile_gap(k: float, dim: int, R: ArrayLike) -> np.ndarray:
    """``g(R) = Phi^{-1}(p_min(R))``, computed from ``1 - p_min`` (no cancellation)."""
    return -sp.ndtri(tail_mass(k, dim, R))


def radius_direct(
    sigma: float, k: float, dim: int, p: ArrayLike, rtol: float = 1e-11
) -> np.ndarray:
    """The certified radius by root finding on the exact ``p_min`` (no table): the largest
    ``R`` found with ``p_min(R) <= p``, to relative ``rtol``; 0 where ``p <= 1/2``.

    Slow (tens of milliseconds a value); the certifier uses the table."""
    parr = np.asarray(p, dtype=np.float64)
    out = np.zeros(parr.shape)
    fam = unit_family(k, dim)
    scale = math.sqrt(fam.m / (fam.dim / 2.0))
    for i, pi in np.ndenumerate(parr):
        if not pi > 0.5:
            continue
        target = math.log1p(-pi) if pi < 1.0 else -math.inf
        if target == -math.inf:
            out[i] = math.inf
            continue

        def f(logR: float, target: float = target) -> float:
            return math.log(max(tail_mass(k, dim, math.exp(logR)).item(), 1e-300)) - target

        guess = math.log(max(scale * sp.ndtri(pi), 1e-300))
        a, b = guess - 0.5, guess + 0.5
        fa, fb = f(a), f(b)
        while fa < 0:
            a, fa = a - 1.0, f(a - 1.0)
        while fb > 0:
            b, fb = b + 1.0, f(b + 1.0)
        root = brentq(f, a, b, xtol=rtol / 4, rtol=4 * np.finfo(float).eps)
        # step down until p_min(R) <= p is verified (root finding brackets the root)
        R = math.exp(root) * (1 - rtol)
        while f(math.log(R)) < 0:
            R *= 1 - rtol
        out[i] = sigma * R
    return out


def _range(k: float, dim: int) -> tuple[float, float]:
    """Radii (sigma = 1) whose ``g`` bracket ``[_G_LOW, _G_HIGH]``, ``g`` finite at both."""
    fam = unit_family(k, dim)
    s0 = math.sqrt(fam.m / (fam.dim / 2.0))
    ladder = s0 * 2.0 ** np.arange(-12.0, 7.0)
    g = quantile_gap(k, dim, ladder)
    R_lo = ladder[0] * _G_LOW / g[0] * 0.999
    above = np.flatnonzero(g >= _G_HIGH)
    if above.size == 0 or above[0] == 0:
        raise ArithmeticError(f"could not bracket the radius range for k={k}, dim={dim}")
    lo, hi = math.log(ladder[above[0] - 1]), math.log(ladder[above[0]])
    g_hi = g[above[0]]
    while not (math.isfinite(g_hi) and g_hi <= _G_HIGH + 0.8):
        mid = (lo + hi) / 2
        g_mid = float(quantile_gap(k, dim, math.exp(mid)))
        if g_mid >= _G_HIGH:
            hi, g_hi = mid, g_mid
        else:
            lo = mid
        if hi - lo < 1e-6:
            raise ArithmeticError(f"no finite upper radius for k={k}, dim={dim}")
    return R_lo, math.exp(hi)


def build_table(k: float, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """Certified pairs ``(p_j, R_j)`` at ``sigma = 1`` (see the module docstring).

    Nodes equally spaced in ``log R`` (97, doubled until the spline of ``g / R`` through
    them is within ``_SPLINE_RTOL`` relative of the exact ``g`` at every midpoint); the
    validated spline, padded by four times its worst midpoint error, gives the table."""
    R_lo, R_hi = _range(k, dim)
    u = np.linspace(math.log(R_lo), math.log(R_hi), 97)
    g = quantile_gap(k, dim, np.exp(u))
    for _ in range(6):
        if not np.all(np.isfinite(g)):
            raise ArithmeticError(f"non-finite p_min in the table for k={k}, dim={dim}")
        spline = CubicSpline(u, g / np.exp(u))
        mid = (u[:-1] + u[1:]) / 2
        g_mid = quantile_gap(k, dim, np.exp(mid))
        err = np.abs(spline(mid) * np.exp(mid) - g_mid) / (g_mid + _G_ABS)
        worst = float(err[g_mid <= _G_HIGH].max())
        if worst <= _SPLINE_RTOL:
            break
        u = np.concatenate([u, mid])
        g = np.concatenate([g, g_mid])
        order = np.argsort(u)
        u, g = u[order], g[order]
    else:
        raise ArithmeticError(f"radius table for k={k}, dim={dim} did not reach its tolerance")
    pad = 1.0 + 4.0 * worst + 1e-9  # with the absolute part 4 * worst * _G_ABS below
    R_fine = math.exp(float(np.interp(_G_FINE, g, u)))
    coarse = np.exp(np.arange(math.log(R_lo), math.log(R_fine), math.log1p(_STEP_COARSE)))
    fine = np.exp(np.arange(math.log(R_fine), math.log(R_hi), math.log1p(_STEP_FINE)))
    R = np.concatenate([coarse, fine])
    # p_min must not decrease with R: a certificate at R covers every smaller shift.
    g_tab = np.maximum.accumulate((spline(np.log(R)) * R + 4.0 * worst * _G_ABS) * pad)
    # p_j = Phi(g_j) from its complement, rounded up one ulp; only p_j < 1 is kept.
    p = np.nextafter(1.0 - sp.ndtr(-g_tab), 2.0)
    keep = p < 1.0
    return p[keep], R[keep]


def radius_table(k: float, dim: int) -> RadiusTable:
    """The cached table (``sigma = 1``) for the generalized Gaussian ``(k, dim)``."""
    key = {
        "certifier": "functional",
        "family": "generalized_gaussian",
        "params": {"k": float(k), "sigma": 1.0},
        "dim": int(dim),
        "norm": "l2",
        "version": CODE_VERSION,
    }
    return cached_table(key, lambda: build_table(k, dim))
