"""Confidence bounds on the top-class probability from Monte Carlo counts, and Cohen et
al.'s CERTIFY rule (``certify_top_class``), the one place that turns counts into a
prediction and a bound."""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import special
from scipy.stats import binom
from statsmodels.stats.proportion import proportion_confint

from smoothbench.crossing import crossing

#: alpha, the probability that p_A's bound fails (confidence 1 - alpha), where a config or
#: command does not give one.
DEFAULT_ALPHA = 0.001


#: The smallest alpha: the smallest normal double. Below it a float has fewer digits than
#: the bounds' inverse beta and normal functions need (``plan draws`` at 1e-320 gave a 90%
#: budget below its 50% one).
SMALLEST_ALPHA = float(np.finfo(np.float64).tiny)


def check_alpha(alpha: float) -> float:
    """``alpha`` as a float, if it is a real number in [``SMALLEST_ALPHA``, 1); else a
    clear error."""
    if isinstance(alpha, bool) or not isinstance(alpha, int | float | np.floating):
        raise TypeError(f"alpha must be a real number, got {type(alpha).__name__}")
    if not 0.0 < float(alpha) < 1.0:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha!r}")
    if float(alpha) < SMALLEST_ALPHA:
        raise ValueError(
            f"alpha {alpha!r} is below {SMALLEST_ALPHA:.3g}, the smallest normal double, "
            "where the bounds lose their precision"
        )
    return float(alpha)


def alpha_printed_alike(alpha: float, others: Iterable[float]) -> float | None:
    """The first of ``others`` that differs from ``alpha`` but prints as it does
    (``{:g}``, as report titles and file names print an alpha); None if none does, or if
    ``alpha`` is among them (it adds no table: a store that holds two alphas printed
    alike, made before they were refused, is certified or imported into again at either)."""
    others = list(others)
    if alpha in others:
        return None
    return next((o for o in others if f"{o:g}" == f"{alpha:g}"), None)


def check_law_distance(distance: float) -> float:
    """A total variation distance as a float, if it lies in [0, 1); else a clear error (a
    certificate cannot account for a law it does not know the distance to)."""
    if isinstance(distance, bool) or not isinstance(distance, int | float | np.floating):
        raise TypeError(f"a law distance must be a real number, got {type(distance).__name__}")
    if not 0.0 <= float(distance) < 1.0:
        raise ValueError(f"a law distance (total variation) must lie in [0, 1), got {distance!r}")
    return float(distance)


def clopper_pearson_lower(count: ArrayLike, n: ArrayLike, alpha: float) -> float | np.ndarray:
    """One-sided ``(1 - alpha)`` Clopper-Pearson lower bound on a binomial proportion.

    ``p_lower = Beta.ppf(alpha, k, n - k + 1)`` (0 when ``k = 0``), as used by Cohen et
    al. (2019) for ``p_A``: the ``q`` at which ``P(Bin(n, q) >= k) = alpha``. Computed by
    statsmodels' exact ("beta") interval with ``alternative="smaller"`` (``alternative=
    "larger"`` would give the *upper* bound), then checked (``_checked_lower``).
    """
    alpha = check_alpha(alpha)
    k = np.asarray(count)
    nn = np.asarray(n)
    if not (np.issubdtype(k.dtype, np.integer) and np.issubdtype(nn.dtype, np.integer)):
        if not (np.all(np.mod(k, 1) == 0) and np.all(np.mod(nn, 1) == 0)):
            raise TypeError("count and n must be integers")
    k = k.astype(np.int64)
    nn = nn.astype(np.int64)
    if (nn < 1).any():
        raise ValueError(f"n must be >= 1, got {nn.min()}")
    if ((k < 0) | (k > nn)).any():
        raise ValueError("count must lie in [0, n]")
    k, nn = np.broadcast_arrays(k, nn)  # counts of one n, or one count of several n
    with warnings.catch_warnings():
        # Boost's root finding warns where it gives up (tiny alpha); the bound is checked
        warnings.simplefilter("ignore", RuntimeWarning)
        lower, _ = proportion_confint(k, nn, alpha=alpha, method="beta", alternative="smaller")
    lower = np.where(k == 0, 0.0, np.asarray(lower, dtype=np.float64))
    lower = _checked_lower(k, nn, lower, alpha)
    return float(lower) if lower.ndim == 0 else lower


#: How far above alpha the tail at a computed bound may lie before the bound is found
#: again (relatively): far above the error of either tail computation (about 1e-9 up to a
#: million draws, 3e-6 at a billion), far below the errors it catches.
_TAIL_RTOL = 1e-4
#: Halvings of the bound's logarithm: from the smallest double up to k / n (a range of
#: 745 in the logarithm) to adjacent doubles.
_BISECTIONS = 70


def _at_least(count: ArrayLike, n: ArrayLike, q: ArrayLike) -> np.ndarray:
    """``P(Bin(n, q) >= count)`` from Cephes' binomial distribution (``special.bdtrc``),
    which keeps its digits down to the smallest double; Boost's (``scipy.stats.binom``,
    ``special.betainc``) loses them below about 1e-250."""
    return special.bdtrc(np.asarray(count) - 1, n, q)


def _checked_lower(k: np.ndarray, n: np.ndarray, lower: np.ndarray, alpha: float) -> np.ndarray:
    """``lower`` where the binomial tail at it, ``P(Bin(n, lower) >= k)``, lies between
    ``alpha (1 - 2 _TAIL_RTOL)`` and ``alpha (1 + _TAIL_RTOL)``; elsewhere the bound found
    again by bisection on that tail (of the bound's logarithm: bounds of small counts at a
    tiny alpha lie far below 1e-30), between the smallest double (where the tail is below
    any alpha allowed, at most ``n 5e-324``) and 1, keeping the tail at most
    ``alpha (1 - _TAIL_RTOL)``. Below, the bound is sound but loose: at n = 208, k = 195,
    alpha = 1e-300 scipy's tail was 0.5% below alpha.

    The tail comes from Cephes' binomial distribution (``scipy.special.bdtrc``), not from
    Boost's incomplete beta function, which ``scipy.stats.beta.ppf`` inverts: below alpha
    about 1e-250 that inverse gave bounds far too large (n = 67,871, k = 67,842 at alpha =
    1.2e-267: 0.98955, where the tail is 1.3e-258), and for small counts below about
    1e-100 (n = 100, k = 4 at 1e-100: 7.0e-26 for 2.2e-27). A bound too large is a false
    certificate."""
    tail = _at_least(k, n, lower)
    fits = (alpha * (1.0 - 2.0 * _TAIL_RTOL) <= tail) & (tail <= alpha * (1.0 + _TAIL_RTOL))
    wrong = (k > 0) & ~fits
    if not wrong.any():
        return lower
    kk, nn = k[wrong], n[wrong]
    high = np.zeros(kk.shape)  # log 1
    low = np.full(kk.shape, np.log(np.nextafter(0.0, 1.0)))
    target = alpha * (1.0 - _TAIL_RTOL)
    for _ in range(_BISECTIONS):
        mid = 0.5 * (low + high)
        holds = _at_least(kk, nn, np.exp(mid)) <= target
        low, high = np.where(holds, mid, low), np.where(holds, high, mid)
    low = np.exp(low)
    fixed = lower.copy()
    fixed[wrong] = low
    return fixed


@dataclass(frozen=True)
class TopClass:
    """The outcome of Cohen et al.'s CERTIFY for each row of counts: the top class chosen
    from the selection counts, the lower confidence bound ``p_lower`` on its probability
    from the estimation counts, and the prediction (the top class, or -1 for abstain
    where ``p_lower <= 1/2``)."""

    top: np.ndarray
    p_lower: np.ndarray
    prediction: np.ndarray


def certify_top_class(
    selection: ArrayLike, estimation: ArrayLike, alpha: float, law_distance: float = 0.0
) -> TopClass:
    """Cohen et al. (2019), CERTIFY: the top class is the arg max of the ``n0`` selection
    counts; ``p_lower`` is the one-sided ``(1 - alpha)`` Clopper-Pearson lower bound of its
    probability from the ``n`` estimation counts, drawn separately (selecting and bounding
    from the same counts would bias the bound upward). Abstain where ``p_lower <= 1/2``.

    ``law_distance`` is a bound on the total variation distance between the law the
    counts were sampled from and the noise the certificate assumes (a tabulated transform's
    stated error, ``Noise.law_distance``). For any event ``A``, ``P(A) >= Q(A) - TV(P, Q)``,
    so the bound on the assumed law is the Clopper-Pearson bound less ``law_distance``
    (never below 0).

    ``selection`` and ``estimation`` are integer counts of shape ``(classes,)`` or
    ``(rows, classes)``; the outputs have shape ``()`` or ``(rows,)``. Ties in the
    selection counts go to the lowest class index.
    """
    sel = np.asarray(selection)
    est = np.asarray(estimation)
    if sel.shape != est.shape or sel.ndim not in (1, 2) or sel.shape[-1] < 1:
        raise ValueError(
            f"selection and estimation counts must have the same shape (classes,) or "
            f"(rows, classes), got {sel.shape} and {est.shape}"
        )
    for name, arr in (("selection", sel), ("estimation", est)):
        if not np.issubdtype(arr.dtype, np.integer) or (arr < 0).any():
            raise ValueError(f"{name} counts must be non-negative integers")
    single = sel.ndim == 1
    sel2, est2 = np.atleast_2d(sel), np.atleast_2d(est)
    top = sel2.argmax(axis=1)
    count = est2[np.arange(len(top)), top]
    n = est2.sum(axis=1)
    p_lower = np.atleast_1d(clopper_pearson_lower(count, n, alpha))
    if law_distance:
        p_lower = np.maximum(p_lower - check_law_distance(law_distance), 0.0)
    prediction = np.where(p_lower > 0.5, top, -1)
    if single:
        return TopClass(top[0], p_lower[0], prediction[0])
    return TopClass(top, p_lower, prediction)


def estimation_draws_needed(
    p: float, p_needed: float, alpha: float = DEFAULT_ALPHA, limit: int = 10**9
) -> int | None:
    """The smallest number of estimation draws ``n`` at which a top class of true
    probability ``p`` is expected to certify: the one-sided Clopper-Pearson bound at the
    expected count ``p n`` (``Beta.ppf(alpha, p n, n - p n + 1)``, the count real-valued)
    reaches ``p_needed``; from that ``n`` on, every larger one does too. None where
    ``p <= p_needed`` (no budget suffices) or beyond ``limit``.

    This is the median budget: at it, the image certifies in about half of the runs
    (the count falls below its expectation about half the time);
    ``draws_to_certify_with`` gives the budget for a chosen probability.

    At a real-valued count the bound grows with ``n``, so the answer is bracketed by
    doubling and found by bisection. (With the count rounded down to ``floor(p n)`` it
    does not: the rounding makes it saw-toothed, and a bisection on it returns neither
    the smallest ``n`` nor one after which every ``n`` certifies.)"""
    if not (0 < p <= 1 and 0 < p_needed < 1):
        raise ValueError(f"p and p_needed must lie in (0, 1], got {p!r}, {p_needed!r}")
    if p <= p_needed:
        return None

    alpha = check_alpha(alpha)

    def enough(n: int) -> bool:  # the bound reaches p_needed iff the tail there is <= alpha
        return _tail_at_count(p * n, n, p_needed) <= alpha

    return crossing(1, enough, limit)


#: Below this, Boost's incomplete beta function (``scipy.special.betainc``) loses its
#: digits: it gave 0 for a tail of 1.2e-299 (16,778,575 draws, the count 0.9999993 of
#: them, q = 0.99996) and half the tail elsewhere below about 1e-250; above 1e-250 it
#: agrees with Cephes' binomial tail to 1e-6.
_BETAINC_TRUSTED = 1e-200
#: Cephes' binomial tails times this bound the exact ones from above: they err by up to
#: about 2e-7 relatively at 1e8 draws and 3e-6 at a billion (below, the median budget came
#: out one draw short at 1.07e8 draws, for alphas in a band 2e-7 wide).
_CEPHES_MARGIN = 1.0 + _TAIL_RTOL


def _tail_at_count(count: float, n: int, q: float) -> float:
    """``P(Bin(n, q) >= count)`` continued to a real-valued ``count`` in [0, n], the
    regularized incomplete beta function ``I_q(count, n - count + 1)``: from Boost's
    ``betainc`` where it is at least ``_BETAINC_TRUSTED``; below, an upper bound from
    Cephes' tails at the integer counts (``special.bdtrc``), which keep their digits down
    to the smallest double. The tail is log-concave in the count (the tests check the
    bound against the integral at 30 digits), so its logarithm lies below the secant
    through the counts ``k - 1`` and ``k = floor(count)`` continued to ``count`` (the
    log-linear interpolation between ``k`` and ``k + 1`` lies below the tail: it planned
    up to 12,319 draws too few); the Cephes tails are raised by their error
    (``_CEPHES_MARGIN``). The bound plans up to about 1e-4 more draws than the exact tail
    would (7,352 above 72,976,229 at alpha 1e-300)."""
    tail = float(special.betainc(count, n - count + 1, q))
    if tail >= _BETAINC_TRUSTED:
        return tail
    k = math.floor(count)
    at_k = float(_at_least(k, n, q)) * _CEPHES_MARGIN
    share = count - k
    if share == 0.0 or at_k == 0.0:
        return at_k
    if k == 0:
        return 1.0
    at_before = float(_at_least(k - 1, n, q)) * _CEPHES_MARGIN
    return math.exp(math.log(at_k) + share * (math.log(at_k) - math.log(at_before)))


def certify_probability(n: int, p: float, p_needed: float, alpha: float = DEFAULT_ALPHA) -> float:
    """The probability that ``n`` estimation draws, ``K ~ Bin(n, p)`` of them on the top
    class, give a one-sided Clopper-Pearson lower bound at level ``alpha`` of at least
    ``p_needed``. The bound at ``k`` is at least ``p_needed`` iff
    ``P(Bin(n, p_needed) >= k) <= alpha`` (the bound is the ``q`` where that tail is
    ``alpha``, and the tail grows with ``q``), so the answer is ``P(K >= k_min)`` for the
    smallest such ``k_min`` (``scipy.stats.binom``)."""
    alpha = check_alpha(alpha)
    k = _least_count(n, p_needed, alpha)
    return 0.0 if k > n else float(binom.sf(k - 1, n, p))


def _least_count(n: int, p_needed: float, alpha: float) -> int:
    """The fewest top-class counts of ``n`` draws whose bound reaches ``p_needed``: the
    smallest ``k`` with ``P(Bin(n, p_needed) >= k) <= alpha`` (``n + 1`` where none),
    searched from Boost's quantile (``binom.isf``) by ``smoothbench.crossing``, the tail
    from Cephes (``special.bdtrc``). Boost's tail and quantile lose their digits below
    about 1e-250 (its quantile was ``n`` at alpha 1e-300, a walk of 963,362 counts)."""
    guess = min(max(int(binom.isf(alpha, n, p_needed)) + 1, 1), n + 1)
    return crossing(guess, lambda k: _at_least(k, n, p_needed) <= alpha, n + 1)


def _first_draws_allowing(misses: int, p_needed: float, alpha: float, limit: int) -> int | None:
    """The fewest draws whose bound reaches ``p_needed`` with ``misses`` of them off the top
    class: ``P(Bin(n, p_needed) >= n - misses) <= alpha``, which holds from some ``n`` on
    (the fewest certifying count, ``n`` less the misses it allows, grows by at most one a
    draw, so the misses allowed grow by at most one too)."""
    return crossing(misses + 1, lambda n: _at_least(n - misses, n, p_needed) <= alpha, limit)


def draws_to_certify_with(
    probability: float,
    p: float,
    p_needed: float,
    alpha: float = DEFAULT_ALPHA,
    limit: int = 10**9,
) -> int | None:
    """About the fewest estimation draws at which a top class of true probability ``p``
    certifies ``p_needed`` with probability ``probability`` (``certify_probability``):
    an ``n`` that reaches it where ``n - 1`` does not, searched from the median budget
    (``estimation_draws_needed``) by ``smoothbench.crossing`` (the probability grows with
    ``n`` but for a saw-tooth of the integer counts). None where ``p <=
    p_needed`` or beyond ``limit``."""
    if not 0.0 < probability < 1.0:
        raise ValueError(f"probability must lie in (0, 1), got {probability!r}")
    start = estimation_draws_needed(p, p_needed, alpha, limit)
    if start is None:
        return None

    def enough(n: int) -> bool:
        return certify_probability(n, p, p_needed, alpha) >= probability

    return crossing(start, enough, limit)


#: Stretches past the last one found below the target whose valleys are checked too.
_VALLEYS_CHECKED = 8


def draws_certifying_from_on(
    probability: float,
    p: float,
    p_needed: float,
    alpha: float = DEFAULT_ALPHA,
    limit: int = 10**9,
) -> int | None:
    """The fewest estimation draws from which on every budget certifies ``p_needed`` with
    at least ``probability`` (``certify_probability``), for a top class of probability
    ``p``; None where ``p <= p_needed`` or beyond ``limit``.

    The probability is a saw-tooth in ``n``. With ``f(n)`` the misses (draws off the top
    class) the fewest certifying count allows, it is ``P(Bin(n, 1 - p) <= f(n))``: over a
    stretch of budgets allowing the same misses it falls as ``n`` grows, and it rises where
    one more miss is allowed. Its valleys are the stretches' last budgets, and they rise
    with ``f``: every budget reaches ``probability`` from the first allowing one miss more
    than the last stretch whose valley is below it. That stretch is found by doubling and
    bisection over ``f``, from the one of ``draws_to_certify_with``'s budget; the next
    ``_VALLEYS_CHECKED`` valleys are checked too (the search goes on past any below)."""
    first = draws_to_certify_with(probability, p, p_needed, alpha, limit)
    if first is None:
        return None
    alpha = check_alpha(alpha)

    def valley_below(misses: int) -> bool | None:  # None: beyond the limit
        after = _first_draws_allowing(misses + 1, p_needed, alpha, limit)
        if after is None:
            return None
        last = after - 1  # the stretch's last budget
        return bool(binom.sf(last - misses - 1, last, p) < probability)

    low = first - _least_count(first, p_needed, alpha) - 1  # its valley is below (first - 1)
    while True:
        step, high = 1, low + 1
        while (below := valley_below(high)) is True:  # doubling to a valley that reaches
            low, step = high, step * 2
            high = low + step
        if below is None:
            return None
        while high - low > 1:  # valley(high) reaches, valley(low) does not
            mid = (low + high) // 2
            below = valley_below(mid)
            if below is None:
                return None
            low, high = (mid, high) if below else (low, mid)
        later = [f for f in range(high + 1, high + 1 + _VALLEYS_CHECKED) if valley_below(f)]
        if not later:
            return _first_draws_allowing(high, p_needed, alpha, limit)
        low = later[-1]
