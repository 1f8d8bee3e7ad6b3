"""Leaderboards from the tidy outcome table, with intervals, marks and sanity flags.

One leaderboard per (dataset, norm, alpha); one row per (model, noise, certifier).
Columns (all proportions in [0, 1]):

- ``clean``: clean smoothed accuracy, i.e. certified accuracy at radius 0 (the image is
  not abstained and the prediction is right);
- ``cert@r``: certified accuracy at radius r, the image counted when it is not
  abstained, correct and ``radius >= r``; each with a Wilson 95% interval
  (``*_lo``, ``*_hi``);
- ``acr``: average certified radius, the mean of ``radius * correct``;
- ``abstain``: share of images with ``p_A <= 1/2``; ``sec_per_img``: sampling seconds
  per image and noise;
- ``false_cert_bound``: with probability >= 95%, at most this many of the row's
  certificates are false (each fails with probability <= alpha + the certifier's own
  spent confidence; ``stats.false_certificate_bound``);
- ``sanity``: ``ok``, or the failing sanity checks that concern the row.

Significance marks and the comparison table come from ``reports.significance``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from reports import significance as sig
from reports import stats
from reports.sanity import CheckResult, affected_rows

DEFAULT_RADII: dict[str, tuple[float, ...]] = {
    "l2": (0.0, 0.25, 0.5, 0.75, 1.0, 1.5),
    "l1": (0.0, 0.25, 0.5, 0.75, 1.0, 1.5),
    "linf": (0.0, 0.01, 0.02, 0.04, 0.06, 0.1),
}
BOARD_KEYS = ["dataset", "norm", "alpha"]
ROW_KEYS = ["model", "noise", "certifier"]
KEYS = BOARD_KEYS + ROW_KEYS
INTERVAL_ALPHA = 0.05
MC_CONFIDENCE = 0.95


def certified_accuracy(radius: np.ndarray, correct: np.ndarray, r: float) -> float:
    """Share of images that are correct with ``radius >= r``."""
    return float(np.mean(correct & (radius >= r)))


def noise_label(noise: str) -> str:
    """A noise name without its data dimension: ``gaussian(sigma=0.25)``."""
    m = re.fullmatch(r"([^(]*)\((.*)\)", noise)
    if not m:
        return noise
    params = [p for p in m.group(2).split(",") if p and not p.startswith("dim=")]
    return f"{m.group(1)}({','.join(params)})"


def index_set_hash(index_set: Sequence[int] | None) -> str:
    """SHA-256 of the JSON list of test-image indices (as stored in the manifest)."""
    if index_set is None:
        return "unknown"
    return hashlib.sha256(json.dumps([int(i) for i in index_set]).encode()).hexdigest()


def resolve_radii(
    norms: Sequence[str],
    cli: Sequence[float] | None = None,
    config: Mapping[str, Any] | None = None,
) -> dict[str, list[float]]:
    """The radius grid per norm: the command line's (same for every norm), else the
    run config's ``[report].radii``, else :data:`DEFAULT_RADII`. Always starts at 0."""
    cfg = ((config or {}).get("report") or {}).get("radii") or {}
    out = {}
    for norm in norms:
        if cli:
            grid = list(cli)
        elif norm in cfg:
            grid = list(cfg[norm])
        else:
            grid = list(DEFAULT_RADII.get(norm, (0.0,)))
        if any((not np.isfinite(r)) or r < 0 for r in grid):
            raise ValueError(f"radii must be finite and >= 0, got {grid}")
        out[norm] = sorted({0.0, *(float(r) for r in grid)})
    return out


@dataclass
class Board:
    """One leaderboard."""

    dataset: str
    norm: str
    alpha: float
    radii: list[float]
    table: pd.DataFrame
    comparisons: pd.DataFrame
    marks: dict[tuple[sig.RowKey, str], str]
    refs: dict[sig.RowKey, dict[str, sig.RowKey]]
    data: sig.BoardData
    reference: str = "cohen"
    notes: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        return f"{self.dataset}, {self.norm}, alpha = {self.alpha:g}"

    @property
    def slug(self) -> str:
        return f"{self.dataset}_{self.norm}_a{self.alpha:g}"

    def metrics(self) -> list[str]:
        return [sig.metric_name(r) for r in self.radii]


@dataclass
class Report:
    """Everything ``smoothbench report`` writes."""

    boards: list[Board]
    sanity: list[CheckResult]
    reference: str
    footnotes: dict[str, Any]
    outcomes: pd.DataFrame
    level: float = 0.05

    def leaderboard(self) -> pd.DataFrame:
        """Every board's numeric table, stacked."""
        if not self.boards:
            return pd.DataFrame()
        return pd.concat([b.table for b in self.boards], ignore_index=True)

    def comparisons(self) -> pd.DataFrame:
        frames = []
        for b in self.boards:
            if b.comparisons.empty:
                continue
            c = b.comparisons.copy()
            c.insert(0, "alpha", b.alpha)
            c.insert(0, "norm", b.norm)
            c.insert(0, "dataset", b.dataset)
            for col in ("row", "other"):
                c[col] = c[col].map(sig.row_label)
            frames.append(c)
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _row_table(
    g: pd.DataFrame, key: tuple, radii: Sequence[float], sanity_fail: Mapping[tuple, list[str]]
) -> dict[str, Any]:
    dataset, norm, alpha, model, noise, cert = key
    radius = g["radius"].to_numpy(np.float64)
    correct = g["correct"].to_numpy(bool)
    n = len(g)
    rec: dict[str, Any] = dict(zip(KEYS, key, strict=True))
    rec["noise_label"] = noise_label(noise)
    rec["family"] = str(g["family"].iloc[0])
    rec["n_test"] = n
    for r in radii:
        name = sig.metric_name(r)
        k = int(np.sum(correct & (radius >= r)))
        lo, hi = stats.wilson_interval(k, n, INTERVAL_ALPHA)
        rec[name] = k / n
        rec[f"{name}_lo"] = lo
        rec[f"{name}_hi"] = hi
    rec["acr"] = float(np.mean(np.where(correct, radius, 0.0)))
    rec["abstain"] = float(g["abstained"].mean())
    rec["sec_per_img"] = float(g["seconds"].mean())
    spent = float(g["confidence_spent"].max())
    rec["confidence_spent"] = spent
    n_cert = int((~g["abstained"]).sum())
    rec["n_certified"] = n_cert
    rec["false_cert_bound"] = stats.false_certificate_bound(
        n_cert, min(float(alpha) + spent, 0.999999), MC_CONFIDENCE
    )
    fails = sanity_fail.get((str(dataset), str(norm), float(alpha), model, noise, cert), [])
    rec["sanity"] = "fail: " + ", ".join(fails) if fails else "ok"
    return rec


def build_board(
    g: pd.DataFrame,
    dataset: str,
    norm: str,
    alpha: float,
    radii: Sequence[float],
    reference: str,
    *,
    specs: Mapping[str, Mapping[str, Any]] | None = None,
    sigma0: Mapping[str, float] | None = None,
    sanity_fail: Mapping[tuple, list[str]] | None = None,
    level: float = 0.05,
) -> Board:
    """One leaderboard from the tidy rows of one (dataset, norm, alpha)."""
    sanity_fail = sanity_fail or {}
    data = sig.board_data(g)
    refs, notes = sig.reference_map(data, reference, specs=specs, sigma0=sigma0)
    if not any(k[2] == reference for k in data.keys):
        notes.append(f"no {reference!r} row in this leaderboard: no reference comparisons")
    comps = sig.comparisons(data, radii, refs)
    records = []
    for rkey, rg in g.groupby(ROW_KEYS, sort=True):
        rec = _row_table(rg, (dataset, norm, alpha, *rkey), radii, sanity_fail)
        rr = refs.get(tuple(rkey), {})
        rec["ref_same_noise"] = sig.row_label(rr[sig.SAME_NOISE]) if sig.SAME_NOISE in rr else ""
        rec["ref_gaussian"] = sig.row_label(rr[sig.GAUSSIAN]) if sig.GAUSSIAN in rr else ""
        records.append(rec)
    table = pd.DataFrame.from_records(records)
    mk = sig.marks(data, comps, level)
    for metric in [sig.metric_name(r) for r in radii] + ["acr"]:
        table[f"marks:{metric}"] = [
            mk.get(((m, nz, c), metric), "") for m, nz, c in table[ROW_KEYS].itertuples(index=False)
        ]
    table = table.sort_values(
        ["acr", "model", "noise", "certifier"], ascending=[False, True, True, True]
    )
    table = table.reset_index(drop=True)
    table.insert(len(KEYS), "rank", np.arange(1, len(table) + 1))
    return Board(
        dataset,
        norm,
        float(alpha),
        list(radii),
        table,
        comps,
        mk,
        refs,
        data,
        reference,
        notes + data.notes,
    )


def build_report(
    outcomes: pd.DataFrame,
    *,
    manifest: Mapping[str, Any] | None = None,
    specs: Mapping[str, Mapping[str, Any]] | None = None,
    reference: str = "cohen",
    radii: Mapping[str, Sequence[float]] | None = None,
    sanity: Sequence[CheckResult] = (),
    level: float = 0.05,
) -> Report:
    """Every leaderboard of a run, with sanity flags and footnotes."""
    if outcomes.empty:
        raise ValueError("no certificates to report")
    manifest = dict(manifest or {})
    if reference not in set(outcomes["certifier"]):
        raise ValueError(
            f"reference certifier {reference!r} has no certificates in this store; "
            f"stored: {sorted(set(outcomes['certifier']))}"
        )
    norms = sorted(outcomes["norm"].unique())
    grid = {**resolve_radii(norms, None, manifest.get("config")), **(radii or {})}
    sigma0 = {
        m: float(v.get("sigma0"))
        for m, v in (manifest.get("models") or {}).items()
        if isinstance(v, dict) and v.get("sigma0") is not None
    }
    fail = affected_rows(sanity)
    boards = []
    for (dataset, norm, alpha), g in outcomes.groupby(BOARD_KEYS, sort=True):
        boards.append(
            build_board(
                g,
                dataset,
                norm,
                float(alpha),
                sorted({0.0, *grid[norm]}),
                reference,
                specs=specs,
                sigma0=sigma0,
                sanity_fail=fail,
                level=level,
            )
        )
    # l2 first: it is the headline norm of the field
    boards.sort(key=lambda b: (b.dataset, {"l2": 0, "linf": 1, "l1": 2}.get(b.norm, 3), b.alpha))
    index_set = manifest.get("index_set")
    footnotes = {
        "dataset": manifest.get("dataset", ", ".join(sorted(outcomes["dataset"].unique()))),
        "n_test": len(index_set) if index_set is not None else int(outcomes["image"].nunique()),
        "n0": manifest.get("n0"),
        "n": manifest.get("n"),
        "alpha": sorted(float(a) for a in outcomes["alpha"].unique()),
        "seed": manifest.get("seed"),
        "index_set_sha256": index_set_hash(index_set),
        "code_version": manifest.get("code_version"),
        "device": manifest.get("device_name") or manifest.get("device"),
        "models": {m: v.get("sha256", "")[:12] for m, v in (manifest.get("models") or {}).items()},
        "reference": reference,
        "level": level,
    }
    return Report(boards, list(sanity), reference, footnotes, outcomes, level)
