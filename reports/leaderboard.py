"""Leaderboards from the tidy outcome table.

Per (dataset, norm, alpha): one row per (model, noise, certifier) with clean smoothed
accuracy (certified accuracy at radius 0), certified accuracy at a grid of radii
(an image counts when not abstained, correct and ``radius >= r``), ACR (mean of
``radius * correct``), abstain rate and sampling seconds per image.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

DEFAULT_RADII: dict[str, tuple[float, ...]] = {
    "l2": (0.0, 0.25, 0.5, 0.75, 1.0, 1.5),
    "l1": (0.0, 0.25, 0.5, 0.75, 1.0, 1.5),
    "linf": (0.0, 0.01, 0.02, 0.04, 0.06, 0.1),
}
KEYS = ["dataset", "norm", "alpha", "model", "noise", "certifier"]


def certified_accuracy(radius: np.ndarray, correct: np.ndarray, r: float) -> float:
    return float(np.mean(correct & (radius >= r)))


def leaderboard(
    outcomes: pd.DataFrame, radii: dict[str, Sequence[float]] | None = None
) -> pd.DataFrame:
    """One row per (dataset, norm, alpha, model, noise, certifier)."""
    radii = {**DEFAULT_RADII, **(radii or {})}
    records = []
    for key, g in outcomes.groupby(KEYS, sort=True):
        norm = key[1]
        radius = g["radius"].to_numpy()
        correct = g["correct"].to_numpy(bool)
        rec = dict(zip(KEYS, key, strict=True))
        rec["n_test"] = len(g)
        rec["clean_acc"] = float(correct.mean())
        for r in radii.get(norm, ()):
            rec[f"cert@{r:g}"] = certified_accuracy(radius, correct, r)
        rec["acr"] = float(np.mean(np.where(correct, radius, 0.0)))
        rec["abstain"] = float(g["abstained"].mean())
        rec["sec_per_img"] = float(g["seconds"].mean())
        records.append(rec)
    return pd.DataFrame.from_records(records)


def write_leaderboard(board: pd.DataFrame, out: str | Path) -> list[Path]:
    """Markdown (one section per dataset and norm) and CSV; returns the paths."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    csv = out / "leaderboard.csv"
    board.to_csv(csv, index=False)
    md = out / "leaderboard.md"
    parts = ["# smoothbench leaderboard\n"]
    for (dataset, norm, alpha), g in board.groupby(["dataset", "norm", "alpha"], sort=True):
        parts.append(f"\n## {dataset}, {norm}, alpha = {alpha:g}\n")
        table = g.drop(columns=["dataset", "norm", "alpha"]).dropna(axis=1, how="all")
        table = table.sort_values(["model", "acr"], ascending=[True, False])
        parts.append(table.to_markdown(index=False, floatfmt=".3f"))
        parts.append("\n")
    md.write_text("\n".join(parts))
    return [md, csv]
