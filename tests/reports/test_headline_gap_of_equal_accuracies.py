"""The headline's "Largest gap: none: the two rows certify the same images at every radius
of the grid" must be true: where, at some radius of the grid, each row certifies images
the other does not (equal accuracies, different images), it is false. The headline
checks only the quoted radius (chosen among equal gaps by the smaller mid-p, then the
smaller radius: here r = 0)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from reports.headline import headline
from reports.leaderboard import build_report
from reports.settings import ReportSettings
from reports.tidy import OUTCOME_COLUMNS

R_COHEN = np.array([0.3, 0.3, 0.1, 0.1] + [0.5] * 6)
R_X = np.array([0.1, 0.1, 0.3, 0.3] + [0.5] * 6)
GRID = (0.0, 0.25)


def _board():
    recs = [
        dict(dataset="synthetic", model="m", noise="g", family="gaussian", certifier=cert,
             norm="l2", alpha=0.001, image=i, label=0, prediction=0, p_lower=0.9,
             radius=float(r), correct=True, abstained=False, confidence_spent=0.0,
             seconds=0.01, kind="smoothing")
        for cert, radii in (("cohen", R_COHEN), ("x", R_X))
        for i, r in enumerate(radii)
    ]  # fmt: skip
    df = pd.DataFrame.from_records(recs)[[*OUTCOME_COLUMNS, "kind"]]
    report = build_report(df, manifest={}, specs={}, settings=ReportSettings(radii={"l2": GRID}))
    return report.boards[0]


def test_no_false_same_images_claim():
    # independent: discordant images at each radius of the grid
    discordant = {r: int(np.sum((R_COHEN >= r) != (R_X >= r))) for r in GRID}
    assert discordant == {0.0: 0, 0.25: 4}
    h = headline(_board())
    gap = dict(h.lines())["Largest gap"]
    assert "certify the same images at every radius" not in gap, gap


def test_quoted_radius_shows_the_discordant_images():
    """Among radii of equal gap, the one quoted should show the images that differ (the
    appendix lists "the images behind the headline's gap")."""
    h = headline(_board())
    assert h.n10 + h.n01 == 4, (h.radius, h.n10, h.n01)
