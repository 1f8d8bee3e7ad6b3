"""Monte Carlo Neyman-Pearson certificates, made sound by exact binomial bounds.

For a symmetric smoothing density ``pi_0`` (``pi_0(-z) = pi_0(z)``) and one shift
``delta``, let ``Lambda = log pi_0(z - delta) - log pi_0(z)``. Its law under the shifted
density is that of ``-Lambda`` under ``pi_0`` (substitute ``z = w + delta``, then
``w -> -w``). Attach to every sample an independent uniform tie-breaker ``U`` and order
pairs ``kappa = (Lambda, U)`` lexicographically; reflection maps ``(Lambda, U)`` to
``(-Lambda, 1 - U)``. For a threshold ``t`` the randomized test
``f = P_U(kappa <_lex t)`` (``1{Lambda < l} + gamma 1{Lambda = l}``) is a Neyman-Pearson
test, so (Cohen et al. 2019, Lemma 3; Zhang et al. 2020, Theorem 1): every classifier with
``E_0[g] >= E_0[f]`` has ``E_delta[g] >= E_delta[f] = P_0(kappa >_lex reflect(t))``.

Certificate for one shift, from two independent samples ``A`` and ``B`` of ``pi_0``:

1. ``m = kappa_A(j)``, the ``j``-th smallest pair of ``A``, with ``j`` the largest index such
   that ``P(Bin(n_A, 1/2) <= j - 1) <= alpha_1``. Then ``P_0(kappa >_lex m) >= 1/2`` except
   with probability ``alpha_1`` (the pairs have no atoms, so ``#{kappa_A <= median} ~
   Bin(n_A, 1/2)``).
2. ``t = reflect(m)``; ``E_delta[f] = P_0(kappa >_lex m) >= 1/2``.
3. ``p_j`` = the one-sided ``(1 - alpha_2)`` Clopper-Pearson upper bound on
   ``E_0[f] = P_0(kappa <_lex t)`` from the count in ``B`` (``t`` is fixed given ``A``).

Then ``p_A >= p_j`` certifies the shift, except with probability ``alpha_1 + alpha_2``.
Over a grid of ``J`` radii the failure probabilities add up (union bound): each step gets
``alpha_mc / (2 J)``, and ``alpha_mc`` is what the certifier reports as
``confidence_spent``. The tie-breaker matters only when ``Lambda`` has atoms (e.g. the
Laplace density, ``k = 0``, where ``Lambda = +-eps/b`` with probability 1/2 and
``e^{-eps/b}/2``): without it a deterministic test could not reach the optimum.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import special, stats

from certifiers.bounds import check_law_distance, clopper_pearson_lower


@dataclass(frozen=True)
class MCSettings:
    """Monte Carlo budget of one table: ``samples`` draws split into two halves ``A`` and
    ``B``, ``alpha`` spent in total over the ``grid`` radii, and the generator ``seed``."""

    samples: int = 2_000_000
    alpha: float = 1e-4
    seed: int = 0
    grid: int = 400

    def __post_init__(self) -> None:
        def whole(v: object) -> bool:
            return isinstance(v, int) and not isinstance(v, bool)

        if not (whole(self.samples) and 2000 <= self.samples <= 10**9):
            raise ValueError(f"samples must be an int in [2000, 10^9], got {self.samples!r}")
        alpha_ok = isinstance(self.alpha, int | float) and not isinstance(self.alpha, bool)
        if not (alpha_ok and 0.0 < self.alpha < 1.0):
            raise ValueError(f"alpha must lie in (0, 1), got {self.alpha!r}")
        if not (whole(self.grid) and 2 <= self.grid <= 10**6):
            raise ValueError(f"grid must be an int in [2, 10^6], got {self.grid!r}")
        if not (whole(self.seed) and 0 <= self.seed < 2**63):
            raise ValueError(f"seed must be an int in [0, 2^63), got {self.seed!r}")


def lower_median_rank(n: int, alpha: float, level: float = 0.5) -> int:
    """0-based rank ``j - 1`` of the order statistic that lies at or below the ``level``
    quantile (the median by default) with probability at least ``1 - alpha``: the largest
    ``x`` with ``P(Bin(n, level) <= x) <= alpha``. The probabilities are Cephes'
    (``scipy.special.bdtr``): Boost's, behind ``scipy.stats.binom``, are 0 in places where
    they are as large as 1e-252 (``reports.stats._half_cdf``), so that at a tiny alpha
    its quantile is only where the search starts."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # Boost giving up at a tiny alpha
        x = int(np.nan_to_num(stats.binom.ppf(alpha, n, level)))
    x = min(max(x, -1), n)
    while x >= 0 and special.bdtr(x, n, level) > alpha:
        x -= 1
    while x + 1 < n and special.bdtr(x + 1, n, level) <= alpha:
        x += 1
    if x < 0:
        raise ValueError(f"{n} samples are too few for confidence {alpha}")
    return x


def _order_statistic(values: np.ndarray, rank: int) -> float:
    """``np.partition(values, rank)[rank]``, faster: partition only a window around the
    rank guessed from a subsample (falls back to the full partition if the guess misses)."""
    n = values.size
    if n > 50_000:
        sub = values[:: n // 20_000]
        q = np.quantile(sub, [max(0.0, rank / n - 0.02), min(1.0, rank / n + 0.02)])
        below = int(np.count_nonzero(values < q[0]))
        window = values[(values >= q[0]) & (values <= q[1])]
        if below <= rank < below + window.size:
            return float(np.partition(window, rank - below)[rank - below])
    return float(np.partition(values, rank)[rank])


def _lex_select(values: np.ndarray, ties: np.ndarray, rank: int) -> tuple[float, float]:
    """The ``rank``-th smallest (0-based) pair ``(values, ties)`` in lexicographic order."""
    v = _order_statistic(values, rank)
    below = int(np.count_nonzero(values < v))
    tied = ties[values == v]
    if tied.size == 1:
        return v, float(tied[0])
    return v, float(np.partition(tied, rank - below)[rank - below])


def _lex_count_below(values: np.ndarray, ties: np.ndarray, a: float, b: float) -> int:
    """``#{(values, ties) <_lex (a, b)}``."""
    return int(np.count_nonzero(values < a) + np.count_nonzero((values == a) & (ties < b)))


def np_table(
    log_ratio: Callable[[float, object], np.ndarray],
    sample_a: object,
    sample_b: object,
    n_a: int,
    n_b: int,
    radii: np.ndarray,
    alpha: float,
    rng: np.random.Generator,
    law_distance: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Certified pairs ``(p_j, R_j)`` over ``radii`` (see the module docstring).

    ``log_ratio(R, sample)`` returns ``Lambda`` for the worst shift of size ``R`` on every
    draw of a sample. ``p_j = 1`` where nothing can be certified.

    ``law_distance`` bounds the total variation between the law the samples were drawn
    from and the exact ``pi_0`` (a tabulated quantile function). Every probability of the
    exact law is then within it of the sampled one, so the threshold is taken at the
    ``1/2 - TV`` quantile of the sample (``P_0(kappa >_lex m) >= 1/2 + TV`` sampled,
    ``>= 1/2`` exact) and ``TV`` is added to each ``p_j``."""
    radii = np.asarray(radii, dtype=np.float64)
    step_alpha = alpha / (2 * radii.size)
    law_distance = check_law_distance(law_distance)
    if not law_distance < 0.5:
        raise ValueError(
            f"draws {law_distance:g} from their law in total variation leave no median to "
            "certify with"
        )
    rank = lower_median_rank(n_a, step_alpha, 0.5 - law_distance)
    ties_a = rng.random(n_a)
    ties_b = rng.random(n_b)
    p = np.empty(radii.size)
    for i, R in enumerate(radii):
        lam_a = log_ratio(float(R), sample_a)
        lam_b = log_ratio(float(R), sample_b)
        v, u = _lex_select(lam_a, ties_a, rank)
        count = _lex_count_below(lam_b, ties_b, -v, 1.0 - u)
        # upper bound on P_0(kappa <_lex t) = 1 - lower bound on P_0(kappa >=_lex t)
        p[i] = min(1.0 - clopper_pearson_lower(n_b - count, n_b, step_alpha) + law_distance, 1.0)
    # a larger shift can be certified only at a larger p: make p_j non-decreasing
    return np.maximum.accumulate(p), radii


def split_sample_table(
    sample_statistics: Callable[[float, int, int, np.random.Generator], object],
    log_ratio: Callable[[float, object], np.ndarray],
    k: float,
    dim: int,
    radii: np.ndarray,
    settings: MCSettings,
    stream: int,
    law_distance: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """``np_table`` on two independent halves ``A`` and ``B`` of ``settings.samples`` draws
    of ``sample_statistics(k, dim, n, rng)``, from the generator ``(settings.seed, stream)``
    (each family has its own ``stream``); ``law_distance`` is that of the draws' law from
    the exact one (0 where they are exact up to rounding)."""
    rng = np.random.default_rng([settings.seed, stream])
    n_a = settings.samples // 2
    n_b = settings.samples - n_a
    sample_a = sample_statistics(k, dim, n_a, rng)
    sample_b = sample_statistics(k, dim, n_b, rng)
    return np_table(
        log_ratio, sample_a, sample_b, n_a, n_b, radii, settings.alpha, rng, law_distance
    )
