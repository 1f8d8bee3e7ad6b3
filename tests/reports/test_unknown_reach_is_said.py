"""A row whose reach cannot be computed here (its certifier a plugin the report did not
load) showed no beyond-reach mark and nothing said why: a reader took its 0.0 beyond
the reach for a loss within it. The board now says whose reach it does not know."""

from __future__ import annotations

import numpy as np
import pandas as pd

from reports.leaderboard import build_board
from reports.reach import MARK
from reports.settings import ReportSettings

N = 40
SPEC = {"g": {"family": "gaussian", "params": {"sigma": 0.25, "dim": 64}}}
SETTINGS = ReportSettings(reference="cohen", radii={"l2": (0.0, 0.5, 2.0)})


def _rows(certifier: str) -> pd.DataFrame:
    correct = np.arange(N) % 4 != 0
    return pd.DataFrame({
        "dataset": "d", "model": "m", "noise": "g", "family": "gaussian",
        "certifier": certifier, "norm": "l2", "alpha": 0.001, "image": np.arange(N),
        "label": 0, "prediction": np.where(correct, 0, 1), "p_lower": 0.99, "radius": 0.5,
        "correct": correct, "abstained": False, "confidence_spent": 0.0, "seconds": 0.01,
        "kind": "smoothing",
    })  # fmt: skip


def _board(*certifiers: str, draws: int | None = 1000):
    df = pd.concat([_rows(c) for c in certifiers], ignore_index=True)
    df.loc[df["certifier"] != "cohen", "radius"] = 0.25  # rows of their own
    return build_board(df, "d", "l2", 0.001, SETTINGS, specs=SPEC, sigma0={"m": 0.25},
                       draws=draws)  # fmt: skip


def test_a_row_of_a_certifier_not_loaded_is_named():
    board = _board("cohen", "not-loaded-plugin")
    (note,) = [n for n in board.notes if n.startswith("reach not known")]
    assert "not-loaded-plugin" in note and "--plugin" in note and MARK in note
    (cohen,) = [r for r in board.rows if r.certifier == "cohen"]
    assert cohen.reach is not None and cohen.beyond_reach(2.0)  # its own mark stays


def test_no_such_note_where_every_reach_is_known_or_none_is():
    assert not any(n.startswith("reach not known") for n in _board("cohen").notes)
    # no draws recorded (an imported store, say): no row has a reach, nothing is marked
    none = _board("cohen", "not-loaded-plugin", draws=None)
    assert not any(n.startswith("reach not known") for n in none.notes)
