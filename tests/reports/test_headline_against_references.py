"""The headline's numbers recomputed with scipy and statsmodels: the quoted radius's own
Holm-adjusted mid-p over the whole grid, the two-sided unpaired z-test, the ACR paired
t-test, and the sample sizes of its power line, also where the first row is behind."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportions_ztest

from reports.headline import compare_rows
from tests.reports._references import mcnemar_midp, mcnemar_power, pooled_ztest_power
from tests.reports._report_synth import winner_board

RADII = (0.0, 0.25, 0.5, 0.75, 1.0)


@pytest.fixture(scope="module")
def board(tmp_path_factory):
    return winner_board(tmp_path_factory.mktemp("head") / "s.sqlite", RADII)


@pytest.mark.parametrize("first,second", [("m-win", "m-low"), ("m-low", "m-win")])
def test_headline_numbers_by_scipy_and_statsmodels(board, first, second):
    rows = {r.model: r for r in board.rows}
    a, b = rows[first], rows[second]
    h = compare_rows(board, a, b)
    images = np.intersect1d(a.images, b.images)
    a, b = a.on(images), b.on(images)
    n = images.size
    per_r = []
    for r in board.radii:
        x, y = a.certified(r), b.certified(r)
        per_r.append((r, int((x & ~y).sum()), int((~x & y).sum()), int(x.sum()), int(y.sum())))
    midps = [mcnemar_midp(n10, n01) for _, n10, n01, _, _ in per_r]
    holm = multipletests(midps, method="holm")[1]
    i = [e[0] for e in per_r].index(h.radius)
    # the quoted radius: the largest |gap| among the radii both rows reach, ties to the
    # smaller mid-p, then the smaller radius
    reach = min(rows[first].reach, rows[second].reach)
    within = [j for j, e in enumerate(per_r) if e[0] <= reach]
    assert len(within) < len(per_r)  # the grid's last radius lies beyond both reaches
    gaps = [round(abs(e[3] - e[4]) / n, 12) for e in per_r]
    assert i == min(within, key=lambda j: (-gaps[j], midps[j], per_r[j][0]))
    r, n10, n01, k1, k2 = per_r[i]
    assert len(set(np.round(holm, 12))) > 1  # the radii's adjusted values differ
    assert h.family_size == len(board.radii)
    assert (h.n10, h.n01, h.n) == (n10, n01, n)
    assert h.p_midp == pytest.approx(midps[i], rel=1e-10, abs=0)
    assert h.p_exact == pytest.approx(sps.binomtest(n10, n10 + n01, 0.5).pvalue, rel=1e-10, abs=0)
    assert h.p_holm == pytest.approx(holm[i], rel=1e-10, abs=0)
    assert h.significant == (holm[i] < 0.05)
    assert h.p_unpaired == pytest.approx(proportions_ztest([k1, k2], [n, n])[1], rel=1e-9, abs=0)
    assert (h.acr, h.other_acr) == pytest.approx((a.score().mean(), b.score().mean()))
    assert h.p_acr == pytest.approx(sps.ttest_rel(a.score(), b.score()).pvalue, rel=1e-9, abs=0)
    lo, hi = h.acr_ci
    assert lo <= h.acr - h.other_acr <= hi
    # power line: where the exact power of the exact test crosses 80%
    p10, p01 = n10 / n, n01 / n
    m = h.n_paired_needed
    assert mcnemar_power(m, p10, p01, 0.05, mid_p=False) >= 0.8
    assert m == 1 or mcnemar_power(m - 1, p10, p01, 0.05, mid_p=False) < 0.8
    # the plan is for the exact test (conservative beside the quoted mid-p), and says so
    assert f"{h.n_paired_needed:,} paired images (exact McNemar test)" in dict(h.lines())["Power"]
    v, ov = k1 / n, k2 / n
    if 0 < v < 1 and 0 < ov < 1:  # the pooled z-test's power by enumeration, at m and m - 1
        m = h.n_unpaired_needed
        assert pooled_ztest_power(m, v, ov, 0.05) >= 0.8
        assert m == 1 or pooled_ztest_power(m - 1, v, ov, 0.05) < 0.8
    else:  # a row at 0% or 100%: no plan is made
        assert h.n_unpaired_needed is None
