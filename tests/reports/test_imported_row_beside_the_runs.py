"""An imported row (``smoothbench import cohen-tsv``, certifier cohen) beside the run's own
cohen row on the same model and noise is a separate leaderboard row (key
``cohen [imported]``). Every output must keep them apart: one JSON entry per row, and
comparisons.csv labels that tell the two rows apart."""

from __future__ import annotations

import numpy as np
import pandas as pd

from reports.json_entries import json_entries
from reports.leaderboard import build_report
from reports.settings import ReportSettings
from reports.tidy import OUTCOME_COLUMNS


def _frame() -> pd.DataFrame:
    rng = np.random.default_rng(2)
    n = 40
    radius = rng.uniform(0, 1, n)
    correct = rng.random(n) < 0.8
    recs = []
    for kind, scale in (("smoothing", 1.0), ("imported", 0.5)):
        for i in range(n):
            recs.append(dict(
                dataset="synthetic", model="m", noise="g", family="gaussian", certifier="cohen",
                norm="l2", alpha=0.001, image=i, label=0, prediction=0 if correct[i] else 1,
                p_lower=np.nan if kind == "imported" else 0.9, radius=float(radius[i] * scale),
                correct=bool(correct[i]), abstained=False, confidence_spent=0.0, seconds=0.01,
                kind=kind,
            ))  # fmt: skip
    return pd.DataFrame.from_records(recs)[[*OUTCOME_COLUMNS, "kind"]]


def _report():
    return build_report(
        _frame(), manifest={}, specs={}, settings=ReportSettings(radii={"l2": (0.0, 0.5)})
    )


def test_one_json_entry_per_leaderboard_row():
    report = _report()
    (board,) = report.boards
    assert len(board.rows) == 2  # the sampled and the imported row
    entries = json_entries(report)
    assert len(entries) == 2, sorted(entries)
    kinds = sorted(e["kind"] for e in entries.values())
    assert kinds == ["imported", "smoothing"]


def test_comparisons_csv_tells_the_two_rows_apart():
    report = _report()
    comps = report.comparisons()
    same_noise = comps[comps["kind"] == "same-noise"]
    assert len(same_noise) > 0
    # the imported row is compared with the sampled one: two different rows
    assert (same_noise["row"] != same_noise["other"]).all(), same_noise[["row", "other"]]
