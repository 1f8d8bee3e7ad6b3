"""Which comparisons a mark rests on: a vs-best comparison on no shared image tested
nothing (n = 0, p NaN), so the best is not called significantly above that row (no
filled star) and the row is not called tied with it either; and an adjusted value must
lie strictly below the level."""

from __future__ import annotations

import numpy as np
import pandas as pd

from reports import significance as sig


def test_a_comparison_on_no_shared_image_withholds_the_filled_star_and_marks_no_tie():
    best, r1, r2 = ("m1", "g", "cohen"), ("m2", "g", "cohen"), ("m3", "g", "cohen")
    base = {c: [np.nan, np.nan] for c in sig.COMPARISON_COLUMNS}
    base.update(
        kind=[sig.BEST, sig.BEST],
        column=["clean", "clean"],
        row=[best, best],
        other=[r1, r2],
        value=[0.9, np.nan],
        other_value=[0.6, np.nan],
        diff=[0.3, np.nan],
        n=[100, 0],
        p=[1e-6, np.nan],
        p_holm=[1e-6, np.nan],
        p_bh=[1e-6, np.nan],
        row_beyond_reach=[False, False],
        other_beyond_reach=[False, False],
        family=["best:clean", "best:clean"],
    )
    marks = sig.marks(pd.DataFrame(base), level=0.05)
    assert marks[(best, "clean")] == sig.MARK_BEST_TIED
    assert (r2, "clean") not in marks and (r1, "clean") not in marks
    base.update(n=[100, 100], p_holm=[1e-6, 1e-3], value=[0.9, 0.9], other_value=[0.6, 0.5])
    base.update(diff=[0.3, 0.4])
    assert sig.marks(pd.DataFrame(base), level=0.05) == {(best, "clean"): sig.MARK_BEST}


def test_a_mark_needs_an_adjusted_value_strictly_below_the_level():
    """The legend says q < LEVEL and p < LEVEL: an adjusted value equal to the level marks
    nothing (an exact test's p-value can equal it)."""
    a, ref = ("m", "n1", "x"), ("m", "n0", "cohen")
    base = {c: [np.nan] for c in sig.COMPARISON_COLUMNS}
    base.update(
        kind=[sig.SAME_NOISE], column=["cert@0.5"], row=[a], other=[ref], value=[0.6],
        other_value=[0.5], diff=[0.1], n=[100], p=[0.01], p_bh=[0.05], p_holm=[0.05],
        row_beyond_reach=[False], other_beyond_reach=[False],
        family=["same-noise:accuracy grid"],
    )  # fmt: skip
    assert sig.marks(pd.DataFrame(base), level=0.05) == {}
    base.update(p_bh=[0.0499])
    assert sig.marks(pd.DataFrame(base), level=0.05) == {(a, "cert@0.5"): sig.MARK_UP}
