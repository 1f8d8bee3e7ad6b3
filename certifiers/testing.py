"""The public conformance kit for certifiers, in the spirit of scikit-learn's
``check_estimator``: every certifier, built-in or third-party, must pass it.

    from certifiers.testing import check_certifier
    def test_my_certifier():
        check_certifier(MyCertifier(), [Gaussian(0.5, dim=4), Gaussian(0.25, dim=64)])

Properties (``CERTIFIER_PROPERTIES``; hypothesis drives the probabilities), for every
(noise, norm) pair the certifier supports, each checked and reported on its own:

- ``abstains``: radius 0 at ``p <= 1/2``, on a dense scan and at random ``p``;
- ``monotone``: non-decreasing in ``p``, on random pairs and on a dense scan of
  ``(1/2, 1)`` (22,000 points, log-spaced toward 1), where a drop over a narrow window
  shows;
- ``vectorized``: vectorized equals scalar, shapes preserved (scalar in, float out);
- ``bad_input``: NaN, p outside [0, 1], strings, unknown norms, a noise it does not
  support are refused with ValueError/TypeError;
- ``picklable``: the same radii after a round trip;
- ``sound``: the certified radius never exceeds what the Neyman-Pearson lemma allows,
  estimated by Monte Carlo. At radius ``R(p)`` and for shifts ``delta`` on the norm
  sphere of radius R, the smallest probability the shifted noise can give a set of
  unshifted mass ``p``, ``E_0[ratio * 1{ratio <= t_p}]`` with ``ratio = pi_delta / pi_0``,
  must be at least 1/2 up to Monte Carlo error. The statistic comes from
  ``Noise.log_ratio_samples``, in a dimension-reduced form where the law allows it:
  for a spherically symmetric noise the law of the ratio depends on ``||delta||_2``
  only, so the shift with the largest l2 norm in the ball (axis for l1 and l2, a vertex
  for l-inf) is the worst and costs ``O(n)`` at any dimension; for i.i.d. coordinates an
  axis shift costs ``O(n)``. Other shifts (the diagonal, random directions) and other
  families are checked in full dimension while ``samples * dim`` stays within
  ``budget``, with fewer samples (at least 10,000, a wider tolerance) beyond it; a shift
  that cannot have those is not checked, and the result says so. The reduced ``O(n)``
  shifts take at least 200,000 samples whatever ``samples`` says. The radius is tried at
  ``p`` in {0.55, 0.7, 0.9, 0.99} and at two seeded off-grid values, one beyond 0.99
  (a table's nodes sit on round numbers), and in the tail where real runs put ``p``
  (``alpha^(1/n)`` of an image all of whose draws agree: 0.99993 at ``n = 100,000``,
  ``alpha = 0.001``) at ``1 - 10^-4``, ``1 - 10^-6``, ``1 - 10^-8`` and one seeded
  ``1 - 10^-u``, ``u`` in (3.3, 8). There the first estimate rests on the few draws
  beyond its cut, so from ``p = 0.99`` on an importance-sampled form is checked as well
  (``neyman_pearson_tail``: the unshifted mass the set must leave out, estimated from
  draws of the shifted law; its relative error grows only slowly as ``p`` tends to 1).
  For the Gaussian the worst case is known in closed form, ``Phi(Phi^-1(p) - R_2 /
  sigma)`` with ``R_2`` the largest l2 length of the certified ball (R in l1 and l2, ``R
  sqrt(d)`` in l-inf), and is checked exactly on the dense scan. It is a necessary
  check against the directions tried, not a proof over all directions.

``check_certifier`` runs every property on every pair, and raises one ``AssertionError``
listing every failed (property, noise, norm), one line each: ``[property] noise, norm:
message`` for a failed assertion, ``[property] noise, norm: ExceptionType: message`` for
any other exception the property raised (e.g. an ``ArithmeticError`` from
``Certifier.radius`` for a negative or NaN radius), with hypothesis's falsifying example
where there is one. Otherwise it returns the pairs checked with the soundness status of
each (``ConformanceResult``); a pair whose soundness was not fully checked is listed in
``result.unchecked`` and announced with a ``ConformanceWarning``.
"""

from __future__ import annotations

import math
import pickle
import warnings
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NamedTuple

import numpy as np
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.special import ndtr, ndtri

from certifiers.base import NORMS, Certifier
from harness.noise import Gaussian, Noise, SphericalNoise
from harness.noise.base import LogRatioSampler
from harness.noise.testing import describe_failure

CERTIFIER_PROPERTIES = ("abstains", "monotone", "vectorized", "bad_input", "picklable", "sound")
_NP_P_GRID = (0.55, 0.7, 0.9, 0.99)
#: Off-grid probabilities also tried for soundness, seeded per check: never round numbers
#: (a radius table's nodes are), one in (0.55, 0.99) and one beyond 0.99, where Phi^-1
#: grows fastest (as ``1 - 10^-u``, ``u`` uniform in these ranges).
_NP_EXTRA = ((0.35, 2.0), (2.0, 3.3))
#: Probabilities in the tail, where the radii of real runs lie (``alpha^(1/n)``), and the
#: range of decades ``u`` of the one seeded ``1 - 10^-u`` tried beside them.
_NP_TAIL_P = (1.0 - 1e-4, 1.0 - 1e-6, 1.0 - 1e-8)
_NP_TAIL_EXTRA = (3.3, 8.0)
#: How far below 1/2 the worst-case top-class probability may seem before a Monte Carlo
#: soundness check fails (beside 4 standard errors): the bias of an estimated cut.
NP_SLACK = 2e-3
#: From this p on, a soundness check takes the importance-sampled tail form; the first
#: form runs below it always, and from it on only while at least NP_BEYOND_CUT draws lie
#: beyond its cut (``(1 - p) n``): with fewer, its estimate is biased low (at ``p = 1 -
#: 10^-8`` no draw of 200,000 lies there).
NP_TAIL_FROM = 0.99
NP_BEYOND_CUT = 1_000
#: The chance that the tail form's bound falls short (see ``neyman_pearson_tail``).
NP_TAIL_RISK = 1e-5
#: Dense scan for monotonicity: 20,001 uniform points in (1/2, 1) and 2,000 log-spaced
#: ones toward 1 (one vectorized call).
_DENSE_P = np.unique(np.concatenate([
    np.linspace(0.5, 1.0, 20_001), 1.0 - np.logspace(-0.31, -12, 2_000)
]))  # fmt: skip
#: Smallest number of samples a shift is checked with when the budget cannot afford
#: ``samples``: fewer samples (a wider tolerance), not a skip.
_MIN_SAMPLES = 10_000
#: Largest number of values (samples x values per sample) a full-dimensional Monte Carlo
#: soundness check may compute per shift.
DEFAULT_BUDGET = 1 << 26
_ORDER = {"l1": 1, "l2": 2, "linf": np.inf}


class ConformanceWarning(UserWarning):
    """Part of a conformance check could not be run (said which and why)."""


class _AlienNoise(Noise):
    """A noise no certifier can know: used to check that unsupported pairs are refused."""

    family = "alien"

    def __init__(self, dim: int = 2) -> None:
        self.dim = dim

    def transform(self, G: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        return G.clone() if out is None else out.copy_(G)

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        return -(z * z).sum(-1) / 2

    def second_moment(self) -> float:
        return float(self.dim)


class ConformanceResult(list):
    """The ``(noise name, norm)`` pairs checked, with ``soundness[(noise name, norm)]``
    describing how soundness was checked and ``unchecked`` listing what was not."""

    def __init__(self, pairs: Iterable[tuple[str, str]] = ()) -> None:
        super().__init__(pairs)
        self.soundness: dict[tuple[str, str], str] = {}
        self.unchecked: list[str] = []


def _settings(max_examples: int):
    return settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )


def _close(a: np.ndarray, b: np.ndarray, rtol: float = 1e-9) -> bool:
    a, b = np.asarray(a, float), np.asarray(b, float)
    same_inf = np.isinf(a) & np.isinf(b) & (np.sign(a) == np.sign(b))
    return bool(np.all(same_inf | np.isclose(a, b, rtol=rtol, atol=1e-12)))


def supported_pairs(
    certifier: Certifier, noises: Iterable[Noise], norms: Sequence[str] = NORMS
) -> list[tuple[Noise, str]]:
    return [(nz, nm) for nz in noises for nm in norms if certifier.supports(nz, nm)]


# --- the properties ------------------------------------------------------------------


def check_abstains_at_half(c: Certifier, noise: Noise, norm: str, max_examples: int = 50) -> None:
    """Radius 0 at ``p <= 1/2``: on a dense scan of ``[0, 1/2]`` (5,001 points, and 1/2
    approached as ``1/2 - 10^-k``), whatever hypothesis draws, then at the ``p`` it draws."""
    scan = np.unique(np.concatenate([np.linspace(0.0, 0.5, 5_001), 0.5 - np.logspace(-1, -16, 16)]))
    r = np.asarray(c.radius(noise, scan, norm=norm))
    if (r != 0.0).any():
        i = int(np.flatnonzero(r != 0.0)[0])
        raise AssertionError(
            f"{c.name}: radius {r[i]} at p={scan[i]!r} <= 1/2 for {noise.name}, {norm} "
            f"({int((r != 0.0).sum())} of {scan.size} p scanned in [0, 1/2])"
        )

    @_settings(max_examples)
    @given(st.floats(0.0, 0.5))
    def prop(p: float) -> None:
        r = c.radius(noise, p, norm=norm)
        assert r == 0.0, f"{c.name}: radius {r} at p={p} <= 1/2 for {noise.name}, {norm}"

    prop()


def check_monotone(c: Certifier, noise: Noise, norm: str, max_examples: int = 50) -> None:
    @_settings(max_examples)
    @given(st.floats(0.0, 1.0), st.floats(0.0, 1.0))
    def prop(p1: float, p2: float) -> None:
        lo, hi = min(p1, p2), max(p1, p2)
        r_lo, r_hi = c.radius(noise, lo, norm=norm), c.radius(noise, hi, norm=norm)
        assert r_lo <= r_hi * (1 + 1e-9) + 1e-12, (
            f"{c.name} not monotone for {noise.name}, {norm}: R({lo})={r_lo} > R({hi})={r_hi}"
        )

    prop()
    r = np.asarray(c.radius(noise, _DENSE_P, norm=norm))
    drop = r[:-1] > r[1:] * (1 + 1e-9) + 1e-12
    if drop.any():
        i = int(np.flatnonzero(drop)[0])
        raise AssertionError(
            f"{c.name} not monotone for {noise.name}, {norm}: R({_DENSE_P[i]!r})={r[i]} > "
            f"R({_DENSE_P[i + 1]!r})={r[i + 1]}"
        )


def check_vectorized(c: Certifier, noise: Noise, norm: str, max_examples: int = 25) -> None:
    @_settings(max_examples)
    @given(st.lists(st.floats(0.0, 1.0), min_size=1, max_size=12))
    def prop(ps: list[float]) -> None:
        arr = np.asarray(ps)
        vec = c.radius(noise, arr, norm=norm)
        assert isinstance(vec, np.ndarray) and vec.shape == arr.shape, (
            f"{c.name}: an array of shape {arr.shape} gives {type(vec).__name__} "
            f"{getattr(vec, 'shape', '')}"
        )
        scal = np.array([c.radius(noise, p, norm=norm) for p in ps])
        assert all(isinstance(c.radius(noise, p, norm=norm), float) for p in ps[:2]), (
            f"{c.name}: a scalar p must give a float"
        )
        assert _close(vec, scal), f"{c.name}: vectorized {vec} != scalar {scal}"
        grid = c.radius(noise, arr.reshape(1, -1, 1), norm=norm)
        assert grid.shape == (1, arr.size, 1) and _close(grid.ravel(), vec), (
            f"{c.name}: a 3-D array of p is not handled elementwise"
        )

    prop()


def _expect_error(fn: Callable[[], Any], what: str) -> None:
    try:
        fn()
    except (ValueError, TypeError):
        return
    raise AssertionError(f"bad input accepted: {what}")


def check_rejects_bad_input(c: Certifier, noise: Noise, norm: str) -> None:
    for bad in (float("nan"), -0.1, 1.1, np.array([0.7, float("nan")]), "0.9", None):
        _expect_error(lambda bad=bad: c.radius(noise, bad, norm=norm), f"{c.name}: p={bad!r}")
    for bad_norm in ("l3", "L2", None, 2):
        _expect_error(
            lambda n=bad_norm: c.radius(noise, 0.9, norm=n), f"{c.name}: norm={bad_norm!r}"
        )
    alien = _AlienNoise(noise.dim)
    assert not c.supports(alien, norm), f"{c.name} claims to support an unknown noise"
    _expect_error(lambda: c.radius(alien, 0.9, norm=norm), f"{c.name}: an unsupported noise")
    _expect_error(lambda: c.radius("gaussian", 0.9, norm=norm), f"{c.name}: a string as noise")


def check_picklable(c: Certifier, noise: Noise, norm: str) -> None:
    clone = pickle.loads(pickle.dumps(c))
    ps = np.array([0.3, 0.6, 0.9, 0.999])
    assert _close(clone.radius(noise, ps, norm=norm), c.radius(noise, ps, norm=norm)), (
        f"{c.name}: radii change after pickling"
    )


def shift_directions(
    noise: Noise, norm: str, rng: np.random.Generator
) -> list[tuple[str, np.ndarray]]:
    """Unit-norm (in ``norm``) shift directions to try, labelled.

    For a spherically symmetric noise only the l2 size of a shift matters, so the one
    direction with the largest l2 norm on the unit ``norm`` sphere is the worst: an axis
    for l1 and l2, a vertex of the cube for l-inf. Otherwise: axis, diagonal and two
    random directions."""
    dim = noise.dim
    axis = np.zeros(dim)
    axis[0] = 1.0
    diagonal = np.ones(dim)
    if isinstance(noise, SphericalNoise):
        dirs = [("vertex (worst for this law)", diagonal)] if norm == "linf" else []
        dirs = dirs or [("axis (worst for this law)", axis)]
    else:
        dirs = [
            ("axis", axis),
            ("diagonal", diagonal),
            ("random 1", rng.standard_normal(dim)),
            ("random 2", rng.standard_normal(dim)),
        ]
    return [(label, d / np.linalg.norm(d, ord=_ORDER[norm])) for label, d in dirs]


def neyman_pearson_lower(
    noise: Noise,
    delta: np.ndarray,
    p: float,
    samples: int = 200_000,
    seed: int = 0,
    sampler: LogRatioSampler | None = None,
) -> tuple[float, float]:
    """Monte Carlo estimate (and standard error) of ``min E_delta[f]`` over ``f`` with
    ``E_0[f] = p``: the worst-case top-class probability after shifting by ``delta``.

    ``f`` takes the lowest likelihood ratios ``pi_delta / pi_0`` (Neyman-Pearson): with
    ``m = floor(p n)`` of the ``n`` draws, the estimate is the mean over all draws of the
    ratio on the ``m`` smallest and 0 elsewhere (those ``m`` are found by a partition, not
    a sort: the same values). The ratios come from ``noise.log_ratio_samples`` (reduced
    where the law allows it), or from ``sampler``
    (``noise.log_ratio_sampler(samples, seed)``) to reuse its draws.

    The estimate is an L-statistic: its cut ``t`` (the ``m``-th smallest ratio) is itself
    estimated. Its standard error is that of the influence function of
    ``E[R 1{R <= q_p}]``, ``(R - q_p) 1{R <= q_p}`` (Serfling 1980, sec. 8.2):
    ``std((r - t) 1{r <= t}) / sqrt(n)``. The plain standard deviation of the
    contributions ignores that the cut moves with the draws: it overstates the error
    about fivefold at ``p = 0.55`` (a 10% overclaim passed) and understates it at
    ``p >= 0.9``."""
    delta = np.asarray(delta, dtype=np.float64)
    if sampler is None:
        sampler = noise.log_ratio_sampler(samples, seed)
    log_ratio = np.asarray(sampler(delta), dtype=np.float64)
    samples = log_ratio.size
    m = int(math.floor(p * samples))
    contrib = np.zeros(samples)
    if not m:
        return 0.0, 0.0
    lowest = np.partition(log_ratio, m - 1)[:m] if m < samples else log_ratio
    np.exp(np.minimum(lowest, 700.0), out=contrib[:m])
    estimate = float(contrib.mean())
    contrib[:m] -= contrib[:m].max()  # (r - t) on the m lowest, 0 above the cut
    return estimate, float(contrib.std() / math.sqrt(samples))


class TailMass(NamedTuple):
    """What ``neyman_pearson_tail`` estimates: the least unshifted mass to leave out
    (``estimate``), an upper bound on it (``bound``), and a lower bound on the mass of the
    shifted law outside the noise's support (``outside``), each with ``1 - risk``."""

    estimate: float
    bound: float
    outside: float


def neyman_pearson_tail(
    noise: Noise,
    delta: np.ndarray,
    samples: int = 200_000,
    seed: int = 0,
    sampler: LogRatioSampler | None = None,
    level: float = 0.5 - NP_SLACK,
    risk: float = NP_TAIL_RISK,
) -> TailMass:
    """Monte Carlo estimate, and an upper bound, of the least unshifted mass ``1 - p`` a
    top-class set must leave out so that after the shift ``delta`` its probability can
    still fall to ``level`` and no lower: a radius ``R(p)`` is sound against ``delta``
    (of size ``R``) iff ``1 - p`` is at most this.

    With ``Lambda = log pi_delta / pi_0``, the worst set of unshifted mass ``p`` leaves
    out the draws of largest ``Lambda`` (Neyman-Pearson); leaving out the fraction ``1 -
    level`` of the shifted law that way costs ``q(level) = int_level^1 exp(-Q(u)) du``,
    ``Q`` the quantile function of ``Lambda`` under the shifted law (``E_delta[exp(-Lambda)
    1{Lambda > t}]``, ``t = Q(level)``, where ``Lambda`` has no atom at ``t``). Estimated
    from draws ``w = z + delta`` of the shifted law, where ``Lambda(w) = log pi(z) - log
    pi(z + delta)`` is the statistic of the shift ``-delta`` at ``z``
    (``noise.log_ratio_samples``, reduced where the law allows it), with the empirical
    quantile function: the sum of ``exp(-Lambda)`` over the ``ceil((1 - level) n)``
    largest, divided by ``n``. Its relative error grows only slowly as ``p`` tends to 1,
    where ``neyman_pearson_lower`` rests on the ``(1 - p) n`` draws beyond its cut.

    The bound holds with probability at least ``1 - risk`` whatever atoms the law has
    (uniform noises have nothing else): by the Dvoretzky-Kiefer-Wolfowitz inequality
    with Massart's constant (1990) the empirical distribution function lies within
    ``eps = sqrt(ln(2 / risk) / (2 n))`` of the true one everywhere, so ``Q(u) >=
    Q_n(u - eps)`` and ``q(level)`` is at most the estimate at ``level - eps`` (0.0055
    at 200,000 draws, ``risk = 10^-5``). The same band bounds from below the mass of the
    shifted law outside the noise's support (``Lambda = +inf``), which costs no unshifted
    mass to leave out: where it exceeds ``1 - level`` no radius of that size is sound at
    any ``p``, ``p = 1`` included, where ``1 - p = 0`` leaves the first test nothing."""
    delta = np.asarray(delta, dtype=np.float64)
    if sampler is None:
        sampler = noise.log_ratio_sampler(samples, seed)
    shifted = -np.asarray(sampler(-delta), dtype=np.float64)  # Lambda at w = z + delta
    n = shifted.size
    eps = math.sqrt(math.log(2.0 / risk) / (2.0 * n))
    largest = -np.sort(-shifted)  # descending; -inf stays last, NaN is refused below
    if np.isnan(largest).any():
        raise ValueError(f"{noise.name}: the log-likelihood ratio is NaN for some draws")
    mass = np.cumsum(np.exp(-np.maximum(largest, -700.0))) / n

    def at(tau: float) -> float:
        m = min(n, math.ceil((1.0 - tau) * n))
        return float(mass[m - 1]) if m > 0 else 0.0

    outside = max(0.0, float(np.isposinf(shifted).mean()) - eps)
    return TailMass(at(level), at(level - eps), outside)


def neyman_pearson_failure(
    noise: Noise, delta: np.ndarray, p: float, sampler: LogRatioSampler, samples: int
) -> str | None:
    """Why a radius certified at ``p`` is not sound against the shift ``delta`` of its
    size, or ``None`` where the Monte Carlo estimates cannot tell it from sound: the
    worst-case top-class probability (``neyman_pearson_lower``, while ``NP_BEYOND_CUT``
    draws lie beyond its cut) more than ``4 se + NP_SLACK`` below 1/2, or, from ``p =
    NP_TAIL_FROM`` on, the upper bound of ``neyman_pearson_tail`` on the unshifted mass
    the worst set must leave out to keep ``1/2 - NP_SLACK`` below ``1 - p``, or more than
    ``1/2 + NP_SLACK`` of the shifted law (a lower bound) outside the noise's support. ``sampler``
    is ``noise.log_ratio_sampler(samples, ...)``, the draws of both."""
    if p < NP_TAIL_FROM or (1.0 - p) * samples >= NP_BEYOND_CUT:
        est, se = neyman_pearson_lower(noise, delta, p, sampler=sampler)
        if est < 0.5 - 4 * se - NP_SLACK:
            return f"can lower the top-class probability to {est:.4f} (+- {se:.4f}) < 1/2"
    if p < NP_TAIL_FROM:
        return None
    level = 0.5 - NP_SLACK
    tail = neyman_pearson_tail(noise, delta, sampler=sampler, level=level)
    if tail.outside > 1.0 - level:
        return (
            f"moves more than {tail.outside:.4f} of the noise outside its support, where "
            f"the top class keeps nothing: below {level} whatever p"
        )
    if tail.bound < 1.0 - p:
        return (
            f"can lower the top-class probability below {level} unless 1 - p <= "
            f"{tail.estimate:.4g} (at most {tail.bound:.4g}), and 1 - p = {1.0 - p:.4g}"
        )
    return None


def check_sound_against_neyman_pearson(
    c: Certifier,
    noise: Noise,
    norm: str,
    samples: int = 200_000,
    seed: int = 0,
    budget: int = DEFAULT_BUDGET,
) -> str:
    """Assert soundness on the shifts that fit the budget; return how it was checked
    (``"checked: ..."`` or ``"partly checked: ...; not checked: ..."``)."""
    rng = np.random.default_rng(seed)
    tried: list[str] = []
    skipped: set[str] = set()
    if isinstance(noise, Gaussian):  # the exact Neyman-Pearson curve, at every p of a dense scan
        dense = _DENSE_P[(_DENSE_P > 0.5) & (_DENSE_P < 1.0)]
        worst = {"l1": 1.0, "l2": 1.0, "linf": math.sqrt(noise.dim)}[norm]  # max ||d||_2
        r = np.asarray(c.radius(noise, dense, norm=norm)) * worst
        exact = ndtr(ndtri(dense) - r / noise.sigma)
        bad = exact < 0.5 - 1e-12
        if bad.any():
            i = int(np.argmin(exact))
            raise AssertionError(
                f"{c.name} radius {r[i] / worst:.6g} at p={dense[i]!r} for {noise.name}, {norm} "
                f"is not sound: the exact worst case is Phi(Phi^-1(p) - R/sigma) = "
                f"{exact[i]:.6f} < 1/2 ({int(bad.sum())} of {dense.size} p scanned)"
            )
        tried.append("exact Gaussian curve (dense p)")
    extra = [1.0 - 10.0 ** -rng.uniform(lo, hi) for lo, hi in _NP_EXTRA]
    # the tail's seeded p from a stream of its own: the directions below stay as they were
    extra.append(1.0 - 10.0 ** -np.random.default_rng([seed, 1]).uniform(*_NP_TAIL_EXTRA))
    grid = sorted(set(_NP_P_GRID) | set(_NP_TAIL_P) | set(extra))
    for label, unit in shift_directions(noise, norm, rng):
        cost = noise.log_ratio_cost(unit)
        # a reduced (O(1) per sample) shift is cheap: never fewer than 200,000 samples
        n = max(samples, 200_000) if cost == 1 else samples
        if n * cost > budget:
            n = budget // cost
            if n < _MIN_SAMPLES:
                skipped.add(
                    f"{label} shift ({_MIN_SAMPLES} samples x {cost} values > budget {budget})"
                )
                continue
            label = f"{label} ({n} samples)"
        tried.append(label)
        sampler = noise.log_ratio_sampler(n, seed)  # one set of draws for every p
        for p in grid:
            r = c.radius(noise, p, norm=norm)
            if not (0 < r < math.inf):
                continue
            why = neyman_pearson_failure(noise, r * unit, p, sampler, n)
            assert why is None, (
                f"{c.name} radius {r:.6g} at p={p!r} for {noise.name}, {norm} is not "
                f"sound: a shift of that size ({label}) {why}"
            )
    done = (
        f"checked at p in {[float(f'{p:.9g}') for p in grid]} on {', '.join(tried)}"
        if tried
        else ""
    )
    if not skipped:
        return done
    missing = "not checked: " + "; ".join(sorted(skipped))
    return f"partly {done}; {missing}" if tried else missing


def certifier_checks(
    c: Certifier,
    noise: Noise,
    norm: str,
    *,
    max_examples: int = 40,
    mc_samples: int = 200_000,
    budget: int = DEFAULT_BUDGET,
) -> list[tuple[str, Callable[[], Any]]]:
    """``(property, check)`` pairs, one per property of ``CERTIFIER_PROPERTIES``, for one
    supported (noise, norm) pair; the ``sound`` check returns its status line."""
    return [
        ("abstains", lambda: check_abstains_at_half(c, noise, norm, max_examples)),
        ("monotone", lambda: check_monotone(c, noise, norm, max_examples)),
        ("vectorized", lambda: check_vectorized(c, noise, norm, max(10, max_examples // 2))),
        ("bad_input", lambda: check_rejects_bad_input(c, noise, norm)),
        ("picklable", lambda: check_picklable(c, noise, norm)),
        (
            "sound",
            lambda: check_sound_against_neyman_pearson(c, noise, norm, mc_samples, budget=budget),
        ),
    ]


def check_certifier(
    certifier: Certifier,
    noises: Iterable[Noise],
    norms: Sequence[str] = NORMS,
    *,
    max_examples: int = 40,
    mc_samples: int = 200_000,
    budget: int = DEFAULT_BUDGET,
) -> ConformanceResult:
    """Run the whole conformance suite; return the (noise name, norm) pairs checked.

    Raises one AssertionError listing every (property, noise, norm) that failed (any
    exception a property raises is a failure of that property; the others still run),
    and ValueError if the certifier supports none of the given pairs. Pairs whose soundness
    could not be checked in full are in ``result.unchecked`` and are warned about.
    """
    pairs = supported_pairs(certifier, list(noises), norms)
    if not pairs:
        raise ValueError(f"{certifier.name} supports none of the noises and norms given")
    result = ConformanceResult((noise.name, norm) for noise, norm in pairs)
    failures: list[str] = []
    for noise, norm in pairs:
        checks = certifier_checks(
            certifier, noise, norm, max_examples=max_examples, mc_samples=mc_samples,
            budget=budget,
        )  # fmt: skip
        for prop, check in checks:
            try:
                status = check()
            except Exception as err:
                failures.append(f"[{prop}] {noise.name}, {norm}: {describe_failure(err)}")
                continue
            if prop == "sound":
                result.soundness[(noise.name, norm)] = status
                if "not checked" in status:
                    result.unchecked.append(f"{noise.name}, {norm}: {status}")
    if failures:
        raise AssertionError(
            f"{certifier.name} fails {len(failures)} conformance check(s):\n" + "\n".join(failures)
        )
    for line in result.unchecked:
        warnings.warn(f"{certifier.name}: soundness of {line}", ConformanceWarning, stacklevel=2)
    return result


def registered_certifier_checks(
    dims: tuple[int, ...] = (3, 64),
    *,
    max_examples: int = 15,
    mc_samples: int = 50_000,
    budget: int = DEFAULT_BUDGET,
) -> list[tuple[str, Callable[[], Any]]]:
    """``(id, check)`` for every registered certifier, every (noise family example,
    norm) pair it supports at each dimension, and each property: what the registry-wide
    tests parametrize over, so that a certifier or family added anywhere is checked."""
    import certifiers
    from harness.noise import noise_class, noise_families

    out = []
    for name in certifiers.available():
        c = certifiers.get(name)
        for family in noise_families():
            for dim in dims:
                for i, noise in enumerate(noise_class(family).examples(dim)):
                    for norm in NORMS:
                        if not c.supports(noise, norm):
                            continue
                        checks = certifier_checks(
                            c, noise, norm, max_examples=max_examples,
                            mc_samples=mc_samples, budget=budget,
                        )  # fmt: skip
                        for prop, check in checks:
                            out.append((f"{name}-{family}[{i}]-d{dim}-{norm}-{prop}", check))
    return out
