"""Leaderboards from the tidy outcome table, with intervals, marks and sanity flags.

One leaderboard per (dataset, norm, alpha); one row per (model, noise, certifiers), the
rows grouped by model (the model's training sigma in its heading) and ranked by ACR
within each model. The columns are those of ``reports.columns``; significance marks and
the comparison table come from ``reports.significance``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from harness.interop.cohen_tsv import PRINTED_DIGITS, is_printed_reading
from reports import significance as sig
from reports.columns import Column, Context, board_columns, compared_columns
from reports.data_caveat import data_caveat
from reports.reach import MARK as REACH_MARK
from reports.reach import reach, run_draws
from reports.rows import Row, RowKey, build_rows, shared_images
from reports.sanity import CheckResult, affected_rows, unchecked_rows
from reports.settings import ReportSettings
from smoothbench.names import choices

BOARD_KEYS = ["dataset", "norm", "alpha"]
NORM_ORDER = {"l2": 0, "linf": 1, "l1": 2}


def index_set_hash(index_set: Sequence[int] | None) -> str:
    """SHA-256 of the JSON list of test-image indices (as stored in the manifest)."""
    if index_set is None:
        return "unknown"
    return hashlib.sha256(json.dumps([int(i) for i in index_set]).encode()).hexdigest()


@dataclass
class Board:
    """One leaderboard."""

    dataset: str
    norm: str
    alpha: float
    radii: list[float]
    columns: list[Column]
    rows: list[Row]
    table: pd.DataFrame
    comparisons: pd.DataFrame
    marks: dict[tuple[RowKey, str], str]
    refs: dict[RowKey, dict[str, Row]]
    models: list[str]
    sigma0: dict[str, float]
    reference: str
    unsound: set[RowKey] = field(default_factory=set)
    #: rows the soundness check could not check here (not unsound), with the reason:
    #: marked UNCHECKED and otherwise treated like unsound rows (``held_out``)
    unchecked: dict[RowKey, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    specs: dict[str, Mapping[str, Any]] = field(default_factory=dict)  # noise name -> spec
    #: the run's estimation draws per image and noise (``None``: not known, e.g. imported)
    draws: int | None = None
    #: the options each certifier ran with (the manifest's ``certifier_options``)
    certifier_options: dict[str, Mapping[str, Any]] = field(default_factory=dict)

    @property
    def title(self) -> str:
        return f"{self.dataset}, {self.norm}, alpha = {self.alpha:g}"

    @property
    def slug(self) -> str:
        return f"{self.dataset}_{self.norm}_a{self.alpha:g}"

    @property
    def context(self) -> Context:
        return Context(self.alpha)

    @property
    def n_images(self) -> int:
        """Images of the board (the union over its rows)."""
        if not self.rows:
            return 0
        return int(np.unique(np.concatenate([r.images for r in self.rows])).size)

    @property
    def n_shared(self) -> int:
        return int(shared_images(self.rows).size)

    @property
    def held_out(self) -> set[RowKey]:
        """Rows not known to be sound (unsound or unchecked): ranked after the others
        of their model, with no significance mark, and kept out of the headlines, the
        vs-best comparisons and the envelope."""
        return self.unsound | set(self.unchecked)

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)

    def rows_of(self, model: str) -> list[Row]:
        return [r for r in self.rows if r.model == model]

    def row(self, key: RowKey) -> Row:
        return next(r for r in self.rows if r.key == key)

    def model_heading(self, model: str) -> str:
        s = self.sigma0.get(model)
        return f"{model} · trained at sigma0 = {s:g}" if s is not None else model


@dataclass
class Report:
    """Everything ``smoothbench report`` writes."""

    boards: list[Board]
    sanity: list[CheckResult]
    settings: ReportSettings
    footnotes: dict[str, Any]
    outcomes: pd.DataFrame
    warnings: list[str] = field(default_factory=list)
    published: list[dict[str, Any]] = field(default_factory=list)

    @property
    def reference(self) -> str:
        return self.settings.reference

    @property
    def level(self) -> float:
        return self.settings.level

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
            labels = {r.key: r.full_label() for r in b.rows}
            for col in ("row", "other"):
                c[col] = c[col].map(labels)
            frames.append(c)
        if not frames:  # a header still, for readers of comparisons.csv
            return pd.DataFrame(columns=["dataset", "norm", "alpha", *sig.COMPARISON_COLUMNS])
        return pd.concat(frames, ignore_index=True)


def _model_order(models: Sequence[str], sigma0: Mapping[str, float]) -> list[str]:
    return sorted(models, key=lambda m: (sigma0.get(m, np.inf), m))


def _sanity_cell(
    board: Board,
    row: Row,
    sanity_fail: Mapping[tuple, list[str]],
    sanity_unchecked: Mapping[tuple, Mapping[str, str]],
) -> str:
    """``ok``, or ``fail: <checks>`` and/or ``unchecked: <checks>`` (the checks that
    failed for, or could not check, one of the row's certifiers)."""
    keys = [
        (board.dataset, board.norm, board.alpha, row.model, row.noise, c) for c in row.certifiers
    ]
    fails = sorted({name for k in keys for name in sanity_fail.get(k, [])})
    unchecked = sorted({name for k in keys for name in sanity_unchecked.get(k, {})})
    parts = [f"fail: {', '.join(fails)}"] if fails else []
    parts += [f"unchecked: {', '.join(unchecked)}"] if unchecked else []
    return "; ".join(parts) or "ok"


def _table(
    board_rows: list[Row],
    board: Board,
    sanity_fail: Mapping[tuple, list[str]],
    sanity_unchecked: Mapping[tuple, Mapping[str, str]],
):
    ctx = board.context
    records = []
    for row in board.rows:
        rec: dict[str, Any] = {
            "dataset": board.dataset,
            "norm": board.norm,
            "alpha": board.alpha,
            "model": row.model,
            "noise": row.noise,
            "noise_label": row.label,
            "certifiers": row.certifier,
            "family": row.family,
            "kind": row.kind,
        }
        for col in board.columns:
            rec[col.key] = col.value(row, ctx)
            interval = col.interval(row)
            if interval is not None:
                rec[f"{col.key}_lo"], rec[f"{col.key}_hi"] = interval
            if col.test is not None:
                rec[f"marks:{col.key}"] = board.marks.get((row.key, col.key), "")
        rec["sanity"] = _sanity_cell(board, row, sanity_fail, sanity_unchecked)
        records.append(rec)
    table = pd.DataFrame.from_records(records)
    if not table.empty:  # ranked by ACR within a model, held-out rows after the others
        held = pd.Series([r.key in board.held_out for r in board.rows], index=table.index)
        # an unsound row's ACR can be anything, infinite included: it ranks among its own
        among = (
            table["acr"]
            .groupby([table["model"], held])
            .rank(ascending=False, method="min", na_option="bottom")
        )
        ahead = (~held).groupby(table["model"]).transform("sum").where(held, 0)
        table.insert(9, "rank", (among + ahead).astype(int))
        if "n" in table:
            table["n"] = table["n"].astype(int)  # a count of images
    return table


def build_board(
    g: pd.DataFrame,
    dataset: str,
    norm: str,
    alpha: float,
    settings: ReportSettings,
    *,
    specs: Mapping[str, Mapping[str, Any]] | None = None,
    sigma0: Mapping[str, float] | None = None,
    sanity_fail: Mapping[tuple, list[str]] | None = None,
    draws: int | None = None,
    certifier_options: Mapping[str, Mapping[str, Any]] | None = None,
    sanity_unchecked: Mapping[tuple, Mapping[str, str]] | None = None,
    law_distances: Mapping[str, float] | None = None,
) -> Board:
    """One leaderboard from the tidy rows of one (dataset, norm, alpha); ``draws``,
    ``certifier_options`` and ``law_distances`` (the manifest's ``n``,
    ``certifier_options`` and ``law_distances``) let the headline tell how far each row
    can certify (``reports.reach``). ``sanity_fail``:
    board row -> the checks that failed for it; ``sanity_unchecked``: board row ->
    {check that could not check it: why} (``reports.sanity.unchecked_rows``)."""
    sanity_fail = sanity_fail or {}
    sanity_unchecked = sanity_unchecked or {}
    sigma0 = dict(sigma0 or {})
    radii = settings.grid(norm)
    columns = board_columns(radii)
    ctx = Context(float(alpha))
    acr = next(c for c in columns if c.key == "acr")
    unsound_certs = {
        (model, noise, cert)
        for (ds, nm, a, model, noise, cert), fails in sanity_fail.items()
        if (ds, nm, a) == (dataset, norm, float(alpha)) and "soundness" in fails
    }
    unchecked_certs = {
        (model, noise, cert): whys["soundness"]
        for (ds, nm, a, model, noise, cert), whys in sanity_unchecked.items()
        if (ds, nm, a) == (dataset, norm, float(alpha)) and "soundness" in whys
    }
    rows = build_rows(
        g, specs=specs, sigma0=sigma0, reference=settings.reference,
        unsound=unsound_certs | set(unchecked_certs),
    )  # fmt: skip
    for r in rows:  # rows not sampled here (deterministic, imported) have no reach
        if r.kind == "smoothing":
            spec = (specs or {}).get(r.noise)
            distance = (law_distances or {}).get(r.noise)
            r.reach = reach(r.certifiers, norm, alpha, draws, spec, certifier_options, distance)
    unsound = {
        r.key for r in rows if any((r.model, r.noise, c) in unsound_certs for c in r.certifiers)
    }
    unchecked: dict[RowKey, str] = {}
    for r in rows:
        whys = {unchecked_certs.get((r.model, r.noise, c)) for c in r.certifiers} - {None}
        if whys and r.key not in unsound:
            unchecked[r.key] = "; ".join(sorted(whys))
    held_out = unsound | set(unchecked)
    models = _model_order(sorted({r.model for r in rows}), sigma0)
    # within a model, by ACR; rows that failed or could not be checked by the soundness
    # check last (their values are not, or not known to be, certificates)
    rows.sort(
        key=lambda r: (
            models.index(r.model), r.key in held_out, -acr.value(r, ctx), r.label, r.certifier,
        )
    )  # fmt: skip
    refs, notes = sig.reference_map(rows, settings.reference, specs=specs, sigma0=sigma0)
    if rows and all(r.kind == "deterministic" for r in rows):
        notes.append(
            "deterministic certifiers only (no Monte Carlo row to compare with): "
            "no reference comparisons"
        )
    elif not any(settings.reference in r.certifiers for r in rows):
        notes.append(f"no {settings.reference!r} row in this leaderboard: no reference comparisons")
    if proofs := sorted({c for r in rows if r.kind == "deterministic" for c in r.certifiers}):
        notes.append(
            f"{', '.join(proofs)}: proofs about the network in exact arithmetic (bounds in "
            "float64, a margin certifying above a rounding slack); a float32 model's own "
            "forward differs from exact arithmetic by its rounding, so a margin within about "
            "1e-7 of the network's scale is certified for the exact network only "
            '(docs/mathematics.md, "Deterministic certifiers")'
        )
    compared = compared_columns(columns)
    comps = sig.comparisons(rows, compared, refs, ctx, acr, held_out)
    marks = {k: v for k, v in sig.marks(comps, settings.level).items() if k[0] not in held_out}
    board = Board(
        dataset, norm, float(alpha), radii, columns, rows, pd.DataFrame(), comps, marks, refs,
        models, sigma0, settings.reference, unsound=unsound, unchecked=unchecked, notes=notes,
        specs=dict(specs or {}), draws=draws, certifier_options=dict(certifier_options or {}),
    )  # fmt: skip
    n_all = board.n_images
    for r in rows:
        if r.n != n_all:
            board.notes.append(
                f"{r.full_label()}: {r.n} of the board's {n_all} images; its comparisons use "
                "the images both rows share (n in each comparison)"
            )
    unknown = [r.full_label() for r in rows if r.kind == "smoothing" and r.reach is None]
    if draws and unknown:  # else a missing mark reads as a radius within the row's reach
        board.notes.append(
            f"reach not known here for {', '.join(unknown)} (a certifier or noise family "
            "not loaded here: give its plugin file with --plugin; or one that fails there): "
            f"their radii beyond that reach are not marked {REACH_MARK}"
        )
    board.notes += unchecked_notes(board)
    board.notes += printed_rounding_notes(board)
    board.table = _table(rows, board, sanity_fail, sanity_unchecked)
    return board


#: How far below the radius it stands for a printed radius can be read, in units of its
#: last printed digit: half a unit from rounding to the nearest and half from reading the
#: smallest value printed so (Cohen et al.'s files), or one unit from rounding down and
#: half from that reading (a file of ``smoothbench export`` read without its index).
PRINTED_UNITS_BELOW = 1.5


def within_printed_rounding(read: np.ndarray, radius: np.ndarray) -> np.ndarray:
    """Whether each radius ``read`` from a printed file can be ``radius`` printed to
    ``PRINTED_DIGITS`` significant digits and read back: equal, or finite and below it by
    at most ``PRINTED_UNITS_BELOW`` units of its last printed digit (never above: reading
    a printed radius never raises it)."""
    read, radius = np.asarray(read, dtype=np.float64), np.asarray(radius, dtype=np.float64)
    finite = np.isfinite(read) & np.isfinite(radius)
    exponent = np.floor(np.log10(np.where(finite & (radius > 0), radius, 1.0)))
    unit = np.where(radius > 0, 10.0 ** (exponent - (PRINTED_DIGITS - 1)), 0.0)
    below = np.where(finite, radius, 0.0) - np.where(finite, read, 0.0)
    return (read == radius) | (
        finite & (below >= 0) & (below <= PRINTED_UNITS_BELOW * unit * (1.0 + 1e-9))
    )


def printed_rounding_notes(board: Board) -> list[str]:
    """A note for each imported row marked against its same-noise reference row whose
    outcomes it repeats on every image both hold, each of its radii a reading of a value
    printed to 3 digits (``harness.interop.cohen_tsv.is_printed_reading``) that can stand
    for the reference's (``within_printed_rounding``): its marks there come from that
    rounding, not from its certificates."""
    notes = []
    marked = {
        key for (key, _), mark in board.marks.items() if {sig.MARK_UP, sig.MARK_DOWN} & set(mark)
    }
    for row in board.rows:
        ref = board.refs.get(row.key, {}).get(sig.SAME_NOISE)
        if row.kind != "imported" or ref is None or row.key not in marked:
            continue
        images, i, j = np.intersect1d(row.images, ref.images, return_indices=True)
        same = (
            images.size > 0
            and np.array_equal(row.correct[i], ref.correct[j])
            and all(is_printed_reading(float(r)) for r in row.radius[i])
            and bool(within_printed_rounding(row.radius[i], ref.radius[j]).all())
        )
        if same:
            notes.append(
                f"{row.full_label()} repeats {ref.full_label()} on all {images.size} images "
                f"both hold, its radii those of the other printed to {PRINTED_DIGITS} "
                "significant digits and read back: its marks against that row come from "
                "the printed rounding, not from its certificates"
            )
    return notes


def unchecked_notes(board: Board) -> list[str]:
    """One note per reason the soundness check could not check rows of the board here,
    naming those rows."""
    by_why: dict[str, list[str]] = {}
    for r in board.rows:
        if r.key in board.unchecked:
            by_why.setdefault(board.unchecked[r.key], []).append(r.full_label())
    return [
        f"the soundness check could not check {'; '.join(labels)} here ({why}). Marked "
        "UNCHECKED, ranked last and kept out of the headline, like an unsound row: nothing "
        "here shows that its radii are certificates."
        for why, labels in by_why.items()
    ]


def build_report(
    outcomes: pd.DataFrame,
    *,
    manifest: Mapping[str, Any] | None = None,
    specs: Mapping[str, Mapping[str, Any]] | None = None,
    settings: ReportSettings | None = None,
    sanity: Sequence[CheckResult] = (),
    warnings: Sequence[str] = (),
) -> Report:
    """Every leaderboard of a run, with sanity flags and footnotes."""
    if outcomes.empty:
        raise ValueError("no certificates to report")
    manifest = dict(manifest or {})
    settings = settings or ReportSettings.from_config(manifest.get("config"))
    # deterministic rows alone (ibp, crown) have no reference to compare with: the
    # reference compares radii at each row's p_A, which they have none of
    only_deterministic = "kind" in outcomes and bool((outcomes["kind"] == "deterministic").all())
    if settings.reference not in set(outcomes["certifier"]) and not only_deterministic:
        # a deterministic certifier is refused as the reference of Monte Carlo rows
        eligible = (
            outcomes if "kind" not in outcomes else outcomes[outcomes["kind"] != "deterministic"]
        )
        raise ValueError(
            f"reference certifier {settings.reference!r} has no certificates among those "
            f"reported; {choices(settings.reference, set(eligible['certifier']), 'reported')} "
            "(choose one with --reference, or keep it in --certifier)"
        )
    sigma0 = {
        m: float(v.get("sigma0"))
        for m, v in (manifest.get("models") or {}).items()
        if isinstance(v, dict) and v.get("sigma0") is not None
    }
    fail = affected_rows(sanity)
    unchecked = unchecked_rows(sanity)
    draws = run_draws(manifest)
    options = manifest.get("certifier_options") or {}
    distances = manifest.get("law_distances") or {}
    boards = [
        build_board(g, dataset, norm, float(alpha), settings, specs=specs, sigma0=sigma0,
                    sanity_fail=fail, draws=draws, certifier_options=options,
                    sanity_unchecked=unchecked, law_distances=distances)
        for (dataset, norm, alpha), g in outcomes.groupby(BOARD_KEYS, sort=True, dropna=False)
    ]  # fmt: skip
    boards.sort(key=lambda b: (b.dataset, NORM_ORDER.get(b.norm, 3), b.alpha))
    index_set = manifest.get("index_set")
    reported_noises = set(outcomes["noise"].unique())  # once, not once per noise
    footnotes = {
        "dataset": manifest.get("dataset", ", ".join(sorted(outcomes["dataset"].unique()))),
        "run": ((manifest.get("config") or {}).get("run") or {}).get("name"),
        "n_test": len(index_set) if index_set is not None else int(outcomes["image"].nunique()),
        "n0": manifest.get("n0"),
        "n": manifest.get("n"),
        "alpha": sorted(float(a) for a in outcomes["alpha"].unique()),
        "config_alpha": sorted(
            float(a) for a in ((manifest.get("config") or {}).get("certify") or {}).get("alpha", [])
        ),
        "seed": manifest.get("seed"),
        "index_set_sha256": index_set_hash(index_set),
        "code_version": manifest.get("code_version"),
        "device": manifest.get("device_name") or manifest.get("device"),
        "sessions": list(manifest.get("sessions") or []),
        "base_dim": (manifest.get("base_draws") or {}).get("dim"),
        "models": {m: v.get("sha256", "")[:12] for m, v in (manifest.get("models") or {}).items()},
        "sigma0": sigma0,
        "data_caveat": data_caveat(manifest),
        "specs": dict(specs or {}),
        "law_distances": {
            name: float(d)
            for name, d in (manifest.get("law_distances") or {}).items()
            if name in reported_noises
        },
    }
    return Report(boards, list(sanity), settings, footnotes, outcomes, list(warnings))
