"""Every number of the comparison table recomputed from the rows with scipy and
statsmodels: the mid-p and exact McNemar p-values, the unpaired z-test with its sign, and
the ACR t-test (not the Wilcoxon test)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps
from statsmodels.stats.contingency_tables import mcnemar as sm_mcnemar
from statsmodels.stats.proportion import proportions_ztest

from tests.reports._references import mcnemar_midp
from tests.reports._report_synth import winner_board

RADII = (0.0, 0.25, 0.5, 0.75)


@pytest.fixture(scope="module")
def board(tmp_path_factory):
    return winner_board(tmp_path_factory.mktemp("cmp") / "s.sqlite", RADII)


def _pair(board, rec):
    rows = {r.key: r for r in board.rows}
    a, b = rows[rec.row], rows[rec.other]
    images = np.intersect1d(a.images, b.images)
    return a.on(images), b.on(images)


def test_accuracy_cells_are_statsmodels_mcnemar_and_ztest(board):
    grid = board.comparisons[board.comparisons["column"] != "acr"]
    assert len(grid) >= 2 * len(RADII)
    signs = set()
    for rec in grid.itertuples(index=False):
        a, b = _pair(board, rec)
        x, y = a.certified(rec.radius), b.certified(rec.radius)
        n10, n01 = int((x & ~y).sum()), int((~x & y).sum())
        assert (rec.n10, rec.n01) == (n10, n01)
        exact = min(1.0, sm_mcnemar([[0, n10], [n01, 0]], exact=True).pvalue)
        assert rec.p_exact == pytest.approx(exact, rel=1e-10)
        assert rec.p == pytest.approx(mcnemar_midp(n10, n01), rel=1e-10)
        k1, k2, n = int(x.sum()), int(y.sum()), x.size
        if 0 < k1 + k2 < 2 * n:
            z, p = proportions_ztest([k1, k2], [n, n])
            assert (rec.z_unpaired, rec.p_unpaired) == pytest.approx((z, p), rel=1e-9)
            signs.add(np.sign(rec.z_unpaired) == np.sign(rec.diff))
    assert signs == {True}  # z has the sign of the row's gap over the other


def test_acr_cells_are_the_paired_t_test(board):
    acr = board.comparisons[board.comparisons["column"] == "acr"]
    assert len(acr) >= 2
    for rec in acr.itertuples(index=False):
        a, b = _pair(board, rec)
        assert rec.p == pytest.approx(sps.ttest_rel(a.score(), b.score()).pvalue, rel=1e-9)
        assert rec.diff == pytest.approx(a.score().mean() - b.score().mean(), abs=1e-12)
