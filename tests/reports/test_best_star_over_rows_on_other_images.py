"""The legend: "★: best in the column and significantly above every other row (McNemar
mid-p, Holm-adjusted over the column)". A row that shares no image with the best was
never tested against it (n = 0), so the best cannot be called significantly above it;
here that row even has the *same* certified accuracy (100%) as the starred one."""

from __future__ import annotations

import numpy as np
import pandas as pd

from reports import significance as sig
from reports.leaderboard import build_report
from reports.settings import ReportSettings
from reports.tidy import OUTCOME_COLUMNS


def _rows(noise, cert, images, radius, correct):
    return [
        dict(dataset="synthetic", model="m", noise=noise, family="gaussian", certifier=cert,
             norm="l2", alpha=0.001, image=int(i), label=0, prediction=0 if c else 1,
             p_lower=0.9, radius=float(r), correct=bool(c), abstained=False,
             confidence_spent=0.0, seconds=0.01, kind="smoothing")
        for i, r, c in zip(images, radius, correct, strict=True)
    ]  # fmt: skip


def test_no_filled_star_over_an_untested_row_of_equal_value():
    n = 20
    recs = (
        _rows("g", "cohen", range(n), [0.6] * n, [True] * n)
        + _rows("g", "x", range(n), [0.1] * n, [True] * 10 + [False] * 10)
        + _rows("g2", "cohen", range(100, 100 + n), [0.6] * n, [True] * n)
    )
    df = pd.DataFrame.from_records(recs)[[*OUTCOME_COLUMNS, "kind"]]
    report = build_report(
        df, manifest={}, specs={}, settings=ReportSettings(radii={"l2": (0.0, 0.25)})
    )
    (board,) = report.boards
    # independent: rows g/cohen and g2/cohen both certify 100% of their images at r = 0.25
    g = next(r for r in board.rows if r.noise == "g" and "cohen" in r.certifiers)
    g2 = next(r for r in board.rows if r.noise == "g2")
    assert np.mean(g.radius >= 0.25) == np.mean(g2.radius >= 0.25) == 1.0
    assert np.intersect1d(g.images, g2.images).size == 0  # never compared
    starred = [key for (key, col), m in board.marks.items() if sig.MARK_BEST in m]
    assert not starred, board.marks
