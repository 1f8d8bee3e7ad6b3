"""The headline prints its ACR interval rounded outward: the printed interval holds the
one the paired t-test inverts, so a printed end of 0 never hides an interval that leaves
out 0, and a printed interval never looks narrower than the test's."""

import math
import re
from types import SimpleNamespace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from reports.headline import compare_rows
from reports.rows import Row


def _row(name: str, radius: np.ndarray) -> Row:
    n = radius.size
    return Row(
        "m", name, (name,), "gaussian", name, np.arange(n), radius, np.ones(n, bool),
        np.zeros(n, bool), np.full(n, 0.9), 0.0, 0.0,
    )  # fmt: skip


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    images=st.integers(2, 60),
    shift=st.floats(-0.01, 0.01),
    scale=st.sampled_from([1e-5, 1e-3, 0.1, 1.0]),
)
def test_the_printed_acr_interval_holds_the_computed_one(seed, images, shift, scale):
    rng = np.random.default_rng(seed)
    base = rng.uniform(0.0, 1.0, images)
    other = np.maximum(0.0, base + shift + scale * rng.standard_normal(images))
    board = SimpleNamespace(title="t", radii=[0.0], draws=1000, alpha=0.001)
    h = compare_rows(board, _row("a", other), _row("b", base), "", level=0.05)
    lo, hi = h.acr_ci
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return
    (acr_line,) = [text for label, text in h.lines() if label == "ACR"]
    found = re.search(r"interval \[([-+0-9.]+), ([-+0-9.]+)\]", acr_line)
    assert found, acr_line
    low, high = float(found.group(1)), float(found.group(2))
    assert low <= lo and hi <= high, f"printed [{low}, {high}] against computed [{lo}, {hi}]"
    places = len(found.group(1).split(".")[1])
    assert high - low <= (hi - lo) + 2 * 10.0**-places + 1e-12  # outward by under a digit


def test_the_printed_ends_hold_the_float_exactly_near_decimal_numbers():
    """In exact arithmetic (``Fraction``): a float just above a 4-decimal number, whose
    product with 10^4 rounds to an integer, printed as that number, below the value, when
    the rounding went through ``ceil(value * 10^4)`` (review: 6,400 of 18,003 values)."""
    from decimal import ROUND_CEILING, ROUND_FLOOR
    from fractions import Fraction

    from reports.headline import _signed

    bad = []
    for k in range(-3000, 3001):
        for w in (k / 10**4, math.nextafter(k / 10**4, -1), math.nextafter(k / 10**4, 1)):
            low, high = _signed(w, 4, ROUND_FLOOR), _signed(w, 4, ROUND_CEILING)
            if not Fraction(low) <= Fraction(w) <= Fraction(high):
                bad.append((repr(w), low, high))
    assert not bad, f"{len(bad)} values printed inside out, e.g. {bad[:3]}"
