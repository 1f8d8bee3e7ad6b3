"""Confidence bounds on the top-class probability from Monte Carlo counts."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from statsmodels.stats.proportion import proportion_confint


def _check_alpha(alpha: float) -> float:
    if isinstance(alpha, bool) or not isinstance(alpha, int | float | np.floating):
        raise TypeError(f"alpha must be a real number, got {type(alpha).__name__}")
    if not 0.0 < float(alpha) < 1.0:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha!r}")
    return float(alpha)


def clopper_pearson_lower(count: ArrayLike, n: ArrayLike, alpha: float) -> float | np.ndarray:
    """One-sided ``(1 - alpha)`` Clopper-Pearson lower bound on a binomial proportion.

    ``p_lower = Beta.ppf(alpha, k, n - k + 1)`` (0 when ``k = 0``), as used by Cohen et
    al. (2019) for ``p_A``. Computed by statsmodels' exact ("beta") interval with
    ``alternative="smaller"``; note ``alternative="larger"`` would give the *upper* bound.
    """
    alpha = _check_alpha(alpha)
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
    lower, _ = proportion_confint(k, nn, alpha=alpha, method="beta", alternative="smaller")
    lower = np.where(k == 0, 0.0, np.asarray(lower, dtype=np.float64))
    return float(lower) if lower.ndim == 0 else lower
