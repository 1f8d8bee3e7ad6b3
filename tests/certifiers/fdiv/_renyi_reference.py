"""The Renyi reference of the f-divergence tests, from the definition in 40-digit
arithmetic, sharing no code with the certifier."""

from __future__ import annotations

import mpmath


def renyi_sup(p: float) -> mpmath.mpf:
    """``sup_{a > 1} D_a(Bern(1/2) || Bern(p)) / a`` at 40 digits, from the definition
    ``D_a = log(2^-a (p^(1-a) + (1-p)^(1-a))) / (a - 1)``: a grid over ``t = log(a - 1)``,
    then golden-section search on the best cell (the function is unimodal in ``t``)."""
    with mpmath.workdps(40):
        q = mpmath.mpf(p)

        def f(t):
            a = 1 + mpmath.exp(t)
            return mpmath.log((q ** (1 - a) + (1 - q) ** (1 - a)) / 2**a) / (a - 1) / a

        ts = [mpmath.mpf(-14) + 22 * mpmath.mpf(i) / 800 for i in range(801)]
        i = max(range(len(ts)), key=lambda j: f(ts[j]))
        lo, hi = ts[max(i - 1, 0)], ts[min(i + 1, len(ts) - 1)]
        ratio = (mpmath.sqrt(5) - 1) / 2
        for _ in range(120):
            x1, x2 = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
            if f(x1) < f(x2):
                lo = x1
            else:
                hi = x2
        return f((lo + hi) / 2)
