"""The headline's numbers against a case worked by hand: the quoted McNemar mid-p and its
Holm adjustment over the grid (statsmodels), the verdict from the adjusted value, the
choice of the quoted radius among equal gaps, and the text of its lines."""

from __future__ import annotations

import math
import re
from types import SimpleNamespace

import numpy as np
import pytest
from statsmodels.stats.multitest import multipletests

from harness.certify import certify_store
from harness.noise import Gaussian
from reports.headline import Headline, _largest_gap, compare_rows, fmt_p
from reports.leaderboard import build_report
from reports.settings import ReportSettings
from reports.tidy import load_outcomes
from tests.reports._report_synth import ALPHA, DIM, N, add_counts, missing_first, new_store

RADII = (0.0, 0.1, 0.25, 0.5)


def test_the_verdict_follows_the_holm_adjusted_p_over_the_grid(tmp_path):
    """Row b misses 6 images row a certifies, at every radius (all draws on the top
    class: both rows certify up to 0.616 > 0.5). At each radius McNemar has n10 = 6,
    n01 = 0: mid-p = 2^-6 = 0.0156, below 0.05; Holm over the 4 radii gives 0.0625, not
    significant (Benjamini-Hochberg would leave 0.0156, and call it significant)."""
    store = new_store(tmp_path / "s.sqlite", 200, {"a": 0.25, "b": 0.25})
    labels = np.arange(200) % 10
    missed = missing_first(labels, 6)
    noise = Gaussian(0.25, DIM)
    add_counts(store, "a", noise, labels, labels, [N] * 200)
    add_counts(store, "b", noise, labels, missed, [N] * 200)
    certify_store(store, ["cohen"], ["l2"], [ALPHA], progress=False)
    with store:
        (board,) = build_report(
            load_outcomes(store),
            manifest=store.manifest(),
            specs=store.noise_specs(),
            settings=ReportSettings(radii={"l2": RADII}),
        ).boards
    rows = {r.model: r for r in board.rows}
    h = compare_rows(board, rows["a"], rows["b"])
    midp = 2 * 0.5**6 - 0.5**6  # two-sided exact p less the probability of what was seen
    assert (h.n10, h.n01, h.n) == (6, 0, 200)
    assert h.p_midp == pytest.approx(midp, rel=1e-12)
    assert h.p_exact == pytest.approx(2 * 0.5**6, rel=1e-12)
    holm = multipletests([midp] * len(RADII), method="holm")[1]
    assert h.family_size == len(RADII)
    assert h.p_holm == pytest.approx(holm[0], rel=1e-12) and h.p_holm == pytest.approx(0.0625)
    assert h.p_midp < 0.05 and not h.significant
    paired = dict(h.lines())["Paired test (McNemar)"]
    # 2^-6 = 0.015625 exactly, a tie at four digits that float rounding breaks either way
    assert re.search(r"mid-p = 0\.0156[23] \(exact 0\.03125\)", paired), paired
    assert "Holm over the 4 radii: 0.0625, not significant at 0.05" in paired


def _per_r(*entries):
    """``(r, value, other value, McNemar)`` per radius, as ``compare_rows`` builds them
    (``discordant`` images, if given, split evenly between the two rows)."""
    out = []
    for r, v, ov, p, *rest in entries:
        d = rest[0] if rest else 0
        out.append((r, v, ov, SimpleNamespace(pvalue_midp=p, n10=d // 2, n01=d - d // 2)))
    return out


def test_equal_gaps_quote_the_smaller_p_then_the_smaller_radius():
    per_r = _per_r((0.0, 0.9, 0.8, 0.3), (0.25, 0.7, 0.6, 0.01), (0.5, 0.5, 0.45, 0.001))
    assert _largest_gap(per_r, range(3)) == 1  # the gap of 0.1 with the smaller p
    per_r = _per_r((0.0, 0.9, 0.8, 0.01), (0.25, 0.7, 0.6, 0.01))
    assert _largest_gap(per_r, range(2)) == 0  # equal p: the smaller radius
    assert _largest_gap(per_r, [1]) == 1  # only among the radii given
    per_r = _per_r((0.0, 0.9, 0.9, 1.0, 0), (0.25, 0.7, 0.7, 1.0, 4), (0.5, 0.5, 0.5, 1.0, 2))
    assert _largest_gap(per_r, range(3)) == 1  # no gap, equal p: the most images that differ


def test_p_values_show_four_significant_digits():
    assert fmt_p(0.0015654) == "0.001565"
    assert fmt_p(2.4e-35) == "2.4e-35"
    assert fmt_p(0.5) == "0.5"
    assert fmt_p(math.nan) == "n/a"


def test_no_gap_is_said_only_where_no_image_differs():
    """Equal accuracies with images certified by one row only are a tie, not "none"."""
    row = SimpleNamespace(model="m", label="Gaussian", certifier="cohen")
    common = dict(board="b", row=row, other=row, relation="", radius=0.25, n=100)
    same = Headline(**common, value=0.5, other_value=0.5, n10=0, n01=0)
    swapped = Headline(**common, value=0.5, other_value=0.5, n10=3, n01=3)
    assert same._gap_line().startswith("none: the two rows certify the same images")
    assert swapped._gap_line() == (
        "r = 0.25: 50.0% vs 50.0% (+0.0 points) on the 100 images both rows have; "
        "3 certified only by the first, 3 only by the second"
    )


def test_a_gap_beyond_reach_no_larger_than_the_quoted_one_is_not_named():
    """The Reach line names a larger gap the draws make; an equal one adds nothing (the
    grid's largest gap, by the tie-break on mid-p, lies beyond reach but ties the quoted)."""
    from reports.headline import _beyond_reach

    first, second = (SimpleNamespace(reach=0.6, beyond_reach=lambda r: r > 0.6) for _ in "ab")
    board = SimpleNamespace(draws=N, alpha=ALPHA)
    per_r = _per_r((0.25, 0.5, 0.4, 0.01), (0.7, 0.1, 0.0, 0.001))
    assert _largest_gap(per_r, range(2)) == 1  # beyond reach, equal gap, smaller p
    assert _beyond_reach(board, (first, second), per_r, np.array([0.02, 0.002]), 0) is None
    per_r = _per_r((0.25, 0.5, 0.45, 0.01), (0.7, 0.1, 0.0, 0.001))  # now larger
    short = _beyond_reach(board, (first, second), per_r, np.array([0.02, 0.002]), 0)
    assert short is not None and short.row is second and short.gap == (0.7, 0.1, 0.0, 0.002)
