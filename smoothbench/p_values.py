"""How a p-value is written, in every report and summary: four significant digits, and a
value that underflowed to 0 as below the smallest double, never as a "0" that reads as
certainty. The tails of ``scipy.stats`` are accurate down to the smallest double, so a
0 is all the computation shows; times any family size below 10^7 it is still below
1e-300 (a Holm- or Bonferroni-adjusted 0)."""

from __future__ import annotations

import math

P_FLOOR = "< 1e-300"


def fmt_p(p: float) -> str:
    """``p`` with four significant digits (0.001565, 2.4e-35); ``P_FLOOR`` where it is 0,
    ``n/a`` where it is no number."""
    if not math.isfinite(p):
        return "n/a"
    return P_FLOOR if p == 0 else f"{p:.4g}"


def p_stated(p: float) -> str:
    """``fmt_p`` after its relation, for a sentence: ``= 0.0016``, ``< 1e-300``."""
    text = fmt_p(p)
    return text if text == P_FLOOR else f"= {text}"
