"""RobustBench-style JSON entries, one file per leaderboard row, built from the column
registry (each value under the column's JSON key, with its unit)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from reports import significance as sig
from reports.file_names import safe_stem, sanitized
from reports.leaderboard import Report
from smoothbench.atomic import write_atomic

THREAT = {"l1": "L1", "l2": "L2", "linf": "Linf"}


def _num(v: Any) -> Any:
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating | float):
        return None if not np.isfinite(v) else float(v)
    return v


def _scaled(value: float, unit: str) -> float:
    """A percentage rounded to 10 decimals (58, not 57.99999999999999: accuracies are
    ratios of counts), a count of images as an integer; other units as they are."""
    if not np.isfinite(value):
        return value
    if unit == "percent":
        return round(100 * value, 10)
    return int(value) if unit == "images" else value


def json_entries(report: Report) -> dict[str, dict]:
    """Relative path -> entry (``<dataset>/<threat model>/a<alpha>/<row>.json``)."""
    f = report.footnotes
    out: dict[str, dict] = {}
    for board in report.boards:
        comps = board.comparisons
        labels = {r.key: r.full_label() for r in board.rows}
        for row in board.rows:
            entry: dict[str, Any] = {
                "name": row.full_label(),
                "dataset": board.dataset,
                "threat_model": THREAT.get(board.norm, board.norm),
                "model": row.model,
                "model_sha256_prefix": f["models"].get(row.model, ""),
                "noise": f["specs"].get(row.noise, {"name": row.noise}),
                "certifiers": list(row.certifiers),
                "kind": row.kind,
                "alpha": board.alpha,
                "units": {},
            }
            for col in board.columns:
                value = _num(_scaled(col.value(row, board.context), col.unit))
                if col.radius is not None:
                    entry.setdefault(col.json_key, {})[f"{col.radius:g}"] = value
                    interval = col.interval(row)
                    if interval is not None:
                        entry.setdefault(col.json_key + "_wilson95", {})[f"{col.radius:g}"] = [
                            round(100 * interval[0], 4), round(100 * interval[1], 4)
                        ]  # fmt: skip
                else:
                    entry[col.json_key] = value
                entry["units"][col.json_key] = col.unit
                mark = board.marks.get((row.key, col.key))
                if mark:
                    entry.setdefault("marks", {})[col.key] = mark
            mine = (
                comps[(comps["row"] == row.key) & (comps["kind"] != sig.BEST)]
                if not comps.empty
                else comps
            )
            for c in mine.to_dict("records") if not comps.empty else []:
                entry.setdefault("significance", {}).setdefault(c["kind"], {})[c["column"]] = {
                    "compared_with": labels[c["other"]],
                    "n": int(c["n"]),
                    "test": c["test"],
                    "p_paired": _num(c["p"]),
                    "p_bh": _num(c["p_bh"]),
                    "p_holm": _num(c["p_holm"]),
                    "p_unpaired_ztest": _num(c["p_unpaired"]),
                    "beyond_reach": {
                        "row": bool(c["row_beyond_reach"]),
                        "compared_with": bool(c["other_beyond_reach"]),
                    },
                }
            entry.update(
                sanity=str(board.table.loc[board.rows.index(row), "sanity"]),
                unsound=row.key in board.unsound,
                unchecked=row.key in board.unchecked,
                n0=f["n0"],
                n=f["n"],
                seed=f["seed"],
                index_set_sha256=f["index_set_sha256"],
                code_version=f["code_version"],
                reported="smoothbench",
            )
            path = (
                f"{sanitized(board.dataset)}/{THREAT.get(board.norm, board.norm)}/a{board.alpha:g}/"
                f"{safe_stem(row.model)}__{sanitized(row.noise)}__{safe_stem(row.certifier)}"
                # as in the row's key: an imported row beside the run's keeps its own entry
                f"{'' if row.kind == 'smoothing' else '__' + row.kind}.json"
            )
            out[path] = entry
    return out


def write_json_entries(report: Report, out: Path) -> list[Path]:
    paths = []
    for rel, entry in json_entries(report).items():
        text = json.dumps(entry, indent=2, sort_keys=False, allow_nan=False) + "\n"
        paths.append(write_atomic(out / "entries" / rel, text))
    return paths
