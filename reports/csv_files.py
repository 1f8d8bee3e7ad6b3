"""CSV files: leaderboard.csv (every column of every row, numeric, full noise names),
comparisons.csv, outcomes.csv (tidy, one row per image and certificate), sanity.csv."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from reports.leaderboard import Report
from smoothbench.atomic import write_atomic


def write_csvs(report: Report, out: Path) -> list[Path]:
    sanity = pd.DataFrame(
        [
            {
                "check": r.name,
                "title": r.title,
                "status": r.status,
                "summary": r.summary,
                "max_diff": r.max_diff,
                "affected_rows": len(r.affected),
                "unchecked_rows": len(r.unchecked),
            }
            for r in report.sanity
        ],
        columns=[
            "check",
            "title",
            "status",
            "summary",
            "max_diff",
            "affected_rows",
            "unchecked_rows",
        ],
    )
    frames = {
        "leaderboard": report.leaderboard(),
        "comparisons": report.comparisons(),
        "outcomes": report.outcomes,
        "sanity": sanity,
    }
    return [write_atomic(out / f"{name}.csv", f.to_csv(index=False)) for name, f in frames.items()]
