"""Published numbers beside reproduced rows, marked "reported".

A published record gives certified accuracy (%) at radii for a dataset and norm, from a
paper's table, with the number of test images behind it where the paper states it. It
has no per-image outcomes, so it can only be compared with the unpaired two-proportion
z-test; the power that test has at the paper's n to detect the gap observed here is
stated beside it (for a gap of a point or two it is small, which is the point).

A record lines up with a reproduced row when it names the model (a known checkpoint a
run used under that name), the row's noise family matches the record's, the row's sigma
equals the record's (where the record states one) and the board's alpha equals the
record's (where the record states one: a larger alpha certifies larger radii); the
reference certifier's row is preferred, and a row reproduced here before an imported one
(which lines up where the store holds no reproduced row: the authors' own certify files
set beside their paper). Where no row lines up, the table says why.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from statsmodels.stats.proportion import power_proportions_2indep

from reports import stats
from reports.leaderboard import Board
from reports.rows import Row


@dataclass(frozen=True)
class PublishedComparison:
    """One published value against the lined-up row at the same radius."""

    record: Mapping[str, Any]
    radius: float
    reported: float  # fraction
    row: Row | None
    ours: float | None
    n_ours: int | None
    p_unpaired: float | None
    power: float | None
    unmatched: str = ""  # why no row lines up (empty where one does, or none is named)


def lined_up_row(board: Board, record: Mapping[str, Any]) -> tuple[Row | None, str]:
    """The reproduced row a published record corresponds to, or ``None`` and why (an
    empty reason where the record names no model of the board)."""
    model = record.get("model")
    if model is None or model not in board.models:
        return None, ""
    alpha = record.get("alpha")
    if alpha is not None and not np.isclose(float(alpha), board.alpha, rtol=1e-9, atol=0.0):
        return None, f"alpha {board.alpha:g} here, {float(alpha):g} in the paper"
    if record.get("noise") == "not stated":
        return None, "the paper does not state its noise"
    rows = [
        r
        for r in board.rows_of(model)
        if r.family == record.get("noise") and r.n > 0 and r.kind in ("smoothing", "imported")
    ]
    sigma = record.get("sigma")
    if sigma is not None:
        rows = [r for r in rows if np.isclose(_row_sigma(board, r), float(sigma), rtol=1e-9)]
        if not rows:
            return None, f"no {record.get('noise')} row at sigma = {float(sigma):g}"
    if not rows:
        return None, f"no {record.get('noise')} row"
    # a row reproduced here first; else one imported (the authors' own certify file, say)
    rows = [r for r in rows if r.kind == "smoothing"] or rows
    ref = [r for r in rows if board.reference in r.certifiers]
    return (ref or rows)[0], ""


def _row_sigma(board: Board, row: Row) -> float:
    """The sigma of a row's noise from its spec (NaN where the spec states none)."""
    spec = board.specs.get(row.noise) or {}
    return float((spec.get("params") or {}).get("sigma", np.nan))


def unpaired_power(p1: float, p2: float, n1: int, n2: int, level: float = 0.05) -> float:
    """Power of the two-sided pooled two-proportion z-test at sample sizes ``n1`` and
    ``n2`` to detect ``p1`` vs ``p2``: Fleiss' normal approximation (pooled variance under
    the null, unpooled under the alternative; statsmodels ``power_proportions_2indep``),
    the test the planner sizes (``stats.unpaired_sample_size``)."""
    if p1 == p2:
        return level
    return float(
        power_proportions_2indep(p1 - p2, p2, n1, ratio=n2 / n1, alpha=level, return_results=False)
    )


def compare_published(
    board: Board, records: Sequence[Mapping[str, Any]], level: float = 0.05
) -> list[PublishedComparison]:
    """Every published value of the board's dataset and norm, with its comparison."""
    out = []
    for rec in records:
        if rec.get("dataset") != board.dataset or rec.get("norm") != board.norm:
            continue
        row, unmatched = lined_up_row(board, rec)
        n_paper = rec.get("n_images")
        for r, acc in zip(rec["radii"], rec["certified_accuracy"], strict=True):
            reported = float(acc) / 100.0
            ours = p = power = None
            n_ours = None
            if row is not None:
                n_ours = row.n
                ours = float(row.certified(float(r)).mean())
                if n_paper:
                    k_paper = int(round(reported * n_paper))
                    k_ours = int(row.certified(float(r)).sum())
                    p = stats.two_proportion_ztest(k_paper, n_paper, k_ours, n_ours).pvalue
                    if 0 < reported < 1 and 0 < ours < 1:
                        power = unpaired_power(reported, ours, n_paper, n_ours, level)
            out.append(
                PublishedComparison(rec, float(r), reported, row, ours, n_ours, p, power, unmatched)
            )
    return out


def _fmt(v: float | None, pct: bool = False) -> str:
    if v is None or not np.isfinite(v):
        return "—"
    return f"{100 * v:.1f}" if pct else f"{v:.3g}"


def _here(c: PublishedComparison) -> str:
    if c.row is not None:
        return f"{_fmt(c.ours, pct=True)} (n={c.n_ours})"
    return f"— ({c.unmatched})" if c.unmatched else "—"


def published_cells(comparisons: Sequence[PublishedComparison]) -> list[list[str]]:
    """Rows of the report's "published numbers" table (strings)."""
    rows = []
    for c in comparisons:
        rec = c.record
        n = rec.get("n_images")
        rows.append(
            [
                f"{rec['paper']}, {rec['table']}",
                str(rec["method"]),
                "n/a" if n is None else str(n),
                f"{c.radius:g}",
                _fmt(c.reported, pct=True),
                _here(c),
                _fmt(c.p_unpaired),
                _fmt(c.power),
            ]
        )
    return rows


PUBLISHED_HEADER = [
    "reported by", "method", "n", "r", "reported %", "here %", "z-test p (unpaired)",
    "power at their n",
]  # fmt: skip
