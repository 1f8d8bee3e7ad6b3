"""What a reader sees, as plain data: the Markdown and HTML templates render the same
view, so the formats say the same things.

The main document: warnings first (incomplete sampling, unsound certifiers, checks that
could not check every row here), then per leaderboard its headline block, the table
grouped by model with its plots, and the best-over-sigma envelope; then the sanity
summary and the footnotes. The appendix: the comparison grids, every row's details, the
per-check details and the images behind each headline's gap.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from harness.draws import philox_blocks
from reports import significance as sig
from reports.code_span import code_span
from reports.columns import Column
from reports.envelope import envelope, left_out_note
from reports.headline import Headline
from reports.leaderboard import Board, Report
from reports.plots import Figure, model_figure_name
from reports.reach import MARK as REACH_MARK
from reports.rows import SAME_RADIUS_ATOL, SAME_RADIUS_RTOL, Row
from reports.sanity import FAIL, INCOMPLETE, PASS, SKIPPED
from smoothbench.p_values import fmt_p


@dataclass
class Cell:
    text: str
    sort: Any = None
    title: str = ""
    cls: str = ""


@dataclass
class Table:
    header: list[str]
    groups: list[tuple[str, list[list[Cell]]]]  # (heading or "", rows)
    caption: str = ""

    @property
    def rows(self) -> list[list[Cell]]:
        return [r for _, rows in self.groups for r in rows]


@dataclass
class BoardView:
    id: str
    title: str
    summary: str
    headline: list[tuple[str, str]]
    table: Table
    figures: list[dict[str, Any]]
    envelope: Table | None
    notes: list[str]
    published: Table | None = None
    comparisons: Table | None = None
    best: Table | None = None
    details: Table | None = None
    discordant: Table | None = None


@dataclass
class View:
    title: str
    warnings: list[str]
    boards: list[BoardView]
    sanity: Table
    sanity_details: list[tuple[str, list[str]]]
    footnotes: list[str]
    legend: str
    specs: list[tuple[str, str]] = field(default_factory=list)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()


def _value_cell(board: Board, row: Row, col: Column) -> Cell:
    v = col.value(row, board.context)
    beyond = row.beyond_reach(col.radius)
    mark = board.marks.get((row.key, col.key), "") + (REACH_MARK if beyond else "")
    text = col.fmt(v) + (f" {mark}" if mark else "")
    interval = col.interval(row)
    notes = []
    if interval is not None:
        notes.append(f"Wilson 95%: [{100 * interval[0]:.1f}, {100 * interval[1]:.1f}]")
    if beyond:
        notes.append(
            f"beyond the row's reach ({row.reach:.4g}): with n = {board.draws:,} draws at "
            f"alpha = {board.alpha:g} no image can be certified at this radius"
        )
    sort = None if not np.isfinite(v) else float(v)
    return Cell(text, sort, "; ".join(notes), "beyond" if beyond else "")


def _row_cells(board: Board, row: Row, main: list[Column], rank: int) -> list[Cell]:
    flag, title = "", row.noise
    if row.key in board.unsound:
        flag = " ⚠ UNSOUND"
    elif row.key in board.unchecked:
        flag = " ⚠ UNCHECKED"
        title += f"; not checked for soundness here: {board.unchecked[row.key]}"
    elif "fail:" in board.table.loc[_table_index(board, row), "sanity"]:
        flag = " ⚠"
    label = row.shown_label
    cells = [
        Cell(str(rank), rank),
        Cell(label + flag, row.label, title),
        Cell(
            row.certifier_short,
            row.certifier,
            f"same radii on every image: {row.certifier}" if len(row.certifiers) > 1 else "",
        ),
    ]
    cells += [_value_cell(board, row, c) for c in main]
    return cells


def _table_index(board: Board, row: Row) -> int:
    return board.rows.index(row)


def main_table(board: Board) -> Table:
    main = [c for c in board.columns if c.main]
    header = ["#", "noise", "certifier"] + [c.title for c in main]
    groups = []
    for model in board.models:
        rows = board.rows_of(model)
        # leaderboard.csv's rank: rows of equal ACR share one
        ranks = [int(board.table.loc[_table_index(board, r), "rank"]) for r in rows]
        cells = [_row_cells(board, r, main, k) for r, k in zip(rows, ranks, strict=True)]
        groups.append((board.model_heading(model), cells))
    merged = sorted({r.certifier for r in board.rows if len(r.certifiers) > 1})
    caption = (
        "Accuracies in %; marks: see the legend. #: rank by ACR within the model (rows kept "
        "out of the headlines last). n: test images of the row (paired tests use "
        "the images both rows share). Wilson 95% intervals in the HTML tooltips and the "
        "appendix. Noises matched to the model's sigma0 (E||z||^2 = d sigma0^2) show no scale."
    )
    if any(r.beyond_reach(c.radius) for r in board.rows for c in main):
        caption += (
            f" {REACH_MARK} (grey in the HTML): a radius beyond the row's reach, where its "
            f"n = {board.draws:,} draws cannot certify any image at alpha = {board.alpha:g} "
            "(the reach column of the appendix)."
        )
    if merged:
        caption += " '+k': k more certifiers give the same radii on every image: "
        caption += "; ".join(merged) + "."
    return Table(header, groups, caption)


def envelope_table(board: Board) -> Table | None:
    env = envelope(board)
    if not env:
        return None
    radii = [c for c in board.columns if c.radius is not None]
    header = ["noise", "certifier"] + [c.title for c in radii]
    rows = []
    beyond_any = False
    named_any = False
    for e in env:
        cells = [Cell(e.label), Cell(e.certifier)]
        models = {r.model for r in e.rows}
        # as printed: two sigma0 that print alike do not tell their models apart
        shown = {f"{board.sigma0[m]:g}" for m in models if board.sigma0.get(m) is not None}
        named = len(shown) < len(models)
        named_any |= named
        for c, v, s, m in zip(radii, e.values, e.sigma0, e.models, strict=True):
            achiever = m if named else f"σ0={s:g}"
            # no sigma0 "achieves" a zero: every model ties there
            text = f"{100 * v:.1f}" + (f" ({achiever})" if v > 0 else "")
            beyond = e.beyond_reach(c.radius)
            beyond_any |= beyond
            cells.append(_reach_cell(text, v, e.reach if beyond else None, "every sigma0's"))
        rows.append(cells)
    caption = (
        "Best certified accuracy (%) over the models' sigma0, "
        "and the sigma0 that achieves it (Cohen et al. 2019, Table 1)."
    ) + left_out_note(env)
    if named_any:
        caption += (
            " Where two of a row's models share a sigma0 (or one has none), the model that "
            "achieves it is named instead."
        )
    if beyond_any:
        caption += (
            f" {REACH_MARK} (grey in the HTML): a radius beyond the reach of every sigma0's row "
            "(no image can be certified there with these draws)."
        )
    return Table(header, [("", rows)], caption)


def published_table(
    board: Board,
    records: list[dict[str, Any]] | None,
    level: float = 0.05,
    caveat: str | None = None,
) -> Table | None:
    """Published numbers of the board's dataset and norm, beside the lined-up rows (the
    power of the unpaired test at the report's ``level``); ``caveat``: why the store's
    data are not those the papers used (``reports.data_caveat``), said first."""
    from reports.published import PUBLISHED_HEADER, compare_published, published_cells

    comps = compare_published(board, records or [], level=level)
    if not comps:
        return None
    rows = [[Cell(text) for text in r] for r in published_cells(comps)]
    caption = (
        "Reported: the paper's numbers (no per-image outcomes, so only the unpaired z-test "
        "applies). 'here': the row of this run on the same checkpoint and noise, at the "
        "paper's sigma and alpha where it states them; '—' with the reason where none lines "
        f"up. Power: that of the unpaired test at level {level:g}, at the paper's n, to "
        "detect the gap seen here."
    )
    if caveat:
        caption = f"Not the papers' data, so not the same images: {caveat}. " + caption
    return Table(PUBLISHED_HEADER, [("", rows)], caption)


def _labels(board: Board) -> dict:
    return {r.key: r.full_label() for r in board.rows}


def comparison_table(board: Board, kinds: list[str]) -> Table | None:
    c = board.comparisons
    if c.empty:
        return None
    c = c[c["kind"].isin(kinds)]
    if c.empty:
        return None
    labels = _labels(board)
    titles = {col.key: col.title for col in board.columns}
    reach = {r.key: r.reach for r in board.rows}
    alike = (c["column"] != "acr") & (c["n"] > 0) & (c["n10"] == 0) & (c["n01"] == 0)
    c, left_out = c[~alike], int(alike.sum())
    header = ["kind", "column", "row", "compared with", "n", "value", "other",
              "only row / other", "paired p", "Holm", "BH", "unpaired p"]  # fmt: skip
    rows = []
    for rec in c.to_dict("records"):
        acr = rec["column"] == "acr"
        scale, spec = (1, ".4f") if acr else (100, ".1f")

        def fmt(v: float, scale: float = scale, spec: str = spec) -> str:
            return format(scale * v, spec) if np.isfinite(v) else "n/a"  # n/a: no image shared

        discordant = "" if acr or rec["n"] == 0 else f"{int(rec['n10'])} / {int(rec['n01'])}"
        held = str(rec["family"]).startswith(sig.HELD_OUT)
        rows.append(
            [
                Cell(f"{rec['kind']} (held out)" if held else rec["kind"]),
                Cell(titles.get(rec["column"], rec["column"])),
                Cell(labels[rec["row"]]), Cell(labels[rec["other"]]),
                Cell(str(rec["n"]), rec["n"]),
                _reach_cell(fmt(rec["value"]), rec["value"],
                            reach[rec["row"]] if rec["row_beyond_reach"] else None),
                _reach_cell(fmt(rec["other_value"]), rec["other_value"],
                            reach[rec["other"]] if rec["other_beyond_reach"] else None),
                Cell(discordant),
                Cell(fmt_p(rec["p"]), rec["p"]), Cell(fmt_p(rec["p_holm"]), rec["p_holm"]),
                Cell(fmt_p(rec["p_bh"]), rec["p_bh"]),
                Cell("" if acr else fmt_p(rec["p_unpaired"]), rec["p_unpaired"]),
            ]
        )  # fmt: skip
    caption = (
        "Kind: same-noise (the reference certifier's row on the same noise), gaussian (the "
        "model's Gaussian row of it) or best (the best row of the column). Paired p: McNemar "
        "mid-p (accuracy) or the paired t-test (ACR); unpaired p: the two-proportion z-test "
        "papers use."
    )
    if c["family"].astype(str).str.startswith(sig.HELD_OUT).any():
        caption += (
            " (held out): a comparison of, or with, a row the soundness check failed or could "
            "not check; such comparisons are adjusted in families of their own and give no "
            "mark."
        )
    if left_out:
        caption += (
            f" {left_out} accuracy comparisons in which both rows certify the same images (no "
            "image certified by one only: p = 1) are left out here; comparisons.csv has them."
        )
    if c["row_beyond_reach"].any() or c["other_beyond_reach"].any():
        caption += (
            f" {REACH_MARK} (grey in the HTML): the radius lies beyond that row's reach, the "
            f"largest radius its n = {board.draws:,} draws can certify at alpha = "
            f"{board.alpha:g} (the reach column of the row details); a gap there shows where "
            "its draws end, not a weaker noise or certifier."
        )
    return Table(header, [("", rows)], caption)


def _reach_cell(
    text: str, value: float, beyond_reach: float | None, whose: str = "the row's"
) -> Cell:
    """A value's cell; ``beyond_reach``: the reach (``whose``) where the column's radius
    lies beyond it (the value is marked, grey in the HTML, the reach in its tooltip),
    else None."""
    if beyond_reach is None:
        return Cell(text, value)
    return Cell(
        f"{text} {REACH_MARK}",
        value,
        f"beyond {whose} reach ({beyond_reach:.4g}): no image can be certified at this radius",
        "beyond",
    )


def details_table(board: Board) -> Table:
    cols = board.columns
    header = ["model", "noise", "certifier"] + [c.title for c in cols] + ["sanity", "spec"]
    rows = []
    specs = {}
    for row in board.rows:
        cells = [Cell(row.model), Cell(row.label), Cell(row.certifier)]
        for c in cols:
            v = c.value(row, board.context)
            interval = c.interval(row)
            text = c.fmt(v)
            if interval is not None:
                text += f" [{100 * interval[0]:.1f}, {100 * interval[1]:.1f}]"
            cells.append(Cell(text, v))
        cells.append(Cell(board.table.loc[_table_index(board, row), "sanity"]))
        cells.append(Cell(row.noise))
        specs[row.noise] = True
        rows.append(cells)
    return Table(
        header, [("", rows)], "Every column of every row; accuracy with its Wilson 95% interval."
    )


#: The images a discordant table lists at most; ``smoothbench compare`` lists them all.
DISCORDANT_SHOWN = 50


def compare_command(board: Board, h: Headline) -> str:
    """The ``smoothbench compare`` command that lists every image behind a headline's gap."""
    assert h.row is not None and h.other is not None
    words = ["smoothbench", "compare", "STORE"]
    for flag, row in (("first", h.row), ("second", h.other)):
        # the kind always: an imported row may share a run's row's names
        words += [f"--{flag}", row.model, row.noise, row.certifiers[0], f"--{flag}-kind", row.kind]
    words += ["--norm", board.norm, "--radius", f"{h.radius!r}", "--alpha", f"{board.alpha!r}"]
    return shlex.join(words)


def discordant_table(board: Board, h: Headline) -> Table | None:
    """The images behind a headline's gap: certified at the quoted radius by one row only
    (the first ``DISCORDANT_SHOWN`` by index; the caption gives the command that lists
    them all)."""
    if h.row is None or h.other is None or h.n == 0:
        return None
    images = np.intersect1d(h.row.images, h.other.images)
    a, b = h.row.on(images), h.other.on(images)
    x, y = a.certified(h.radius), b.certified(h.radius)
    idx = np.flatnonzero(x != y)
    if idx.size == 0:  # no gap: the headline says so, and an empty table would say nothing
        return None
    found = idx.size
    idx = idx[:DISCORDANT_SHOWN]
    rows = [
        [
            Cell(str(int(images[i])), int(images[i])),
            Cell("first" if x[i] else "second"),
            Cell(f"{a.p_lower[i]:.5f}", a.p_lower[i]), Cell(f"{a.radius[i]:.4f}", a.radius[i]),
            Cell(f"{b.p_lower[i]:.5f}", b.p_lower[i]), Cell(f"{b.radius[i]:.4f}", b.radius[i]),
        ]
        for i in idx
    ]  # fmt: skip
    header = ["image", "certified by", "p_A (first)", "radius (first)", "p_A (second)",
              "radius (second)"]  # fmt: skip
    caption = (
        f"Images certified at r = {h.radius:g} by only one of {h.row.full_label()} (first) and "
        f"{h.other.full_label()} (second)."
    )
    if found > DISCORDANT_SHOWN:
        command = code_span(compare_command(board, h))
        caption += f" The first {DISCORDANT_SHOWN} of {found} by index; {command} lists them all"
        firsts = sorted({r.certifiers[0] for r in (h.row, h.other) if len(r.certifiers) > 1})
        caption += (
            f" (compare takes the radii of {' and '.join(firsts)}, where this table takes the "
            f"smallest of its row's certifiers, which agree to within {SAME_RADIUS_RTOL:g} "
            f"relative and {SAME_RADIUS_ATOL:g} absolute: an image at the edge of the radius "
            "may differ)."
            if firsts
            else "."
        )
    return Table(header, [("", rows)], caption)


def sanity_table(report: Report) -> Table:
    rows = [
        [Cell(r.title), Cell(r.status.upper(), r.status, cls=f"status-{r.status}"), Cell(r.summary)]
        for r in report.sanity
    ]
    return Table(["check", "status", "result"], [("", rows)])


def footnotes(report: Report) -> list[str]:
    f = report.footnotes
    alphas = ", ".join(f"{a:g}" for a in f["alpha"])
    models = "; ".join(
        f"{m} (sigma0 {f['sigma0'].get(m, 'n/a')}, sha256 {h}…)" for m, h in f["models"].items()
    )
    cols = {c.key: c for b in report.boards for c in b.columns}
    by_description: dict[str, list[str]] = {}
    for c in cols.values():
        if c.description:
            by_description.setdefault(c.description, []).append(c.title)
    described = [f"{', '.join(titles)}: {text}." for text, titles in by_description.items()]
    return [
        f"{f['dataset']}: n_test = {f['n_test']} test images (index set sha256 "
        f"{f['index_set_sha256'][:16]}…); n0 = {f['n0']} selection and n = {f['n']} "
        f"estimation draws per image and noise; alpha = {alphas}; seed = {f['seed']}; code "
        f"{f['code_version']}; device {f['device']}.",
        f"Models: {models or 'n/a'}.",
        *described,
        "Rows: one per (model, noise, certifiers); certifiers that give the same radius on "
        "every image are one row ('a = b'). Noise labels give the family and its shape; a "
        "noise matched to its model's sigma0 (E||z||^2 = d sigma0^2) shows no scale; full "
        "specs below and in leaderboard.csv.",
        "The run's rows certify its images on the same seeded draws, so comparisons are "
        "paired (McNemar, on the images both rows hold: a row short of the run's images, or "
        "an imported one, is compared on those it shares); the two-proportion z-test "
        "ignores the pairing and is shown, labelled unpaired, because papers report it.",
        p_lower_footnote(f.get("law_distances") or {}),
        *filter(None, [sessions_footnote(f.get("sessions") or [], f.get("base_dim"))]),
        f"Reference certifier: {report.reference}; significance level {report.level:g}.",
    ]


SESSION_FIELDS = (
    "code_version", "device_name", "elementwise_math", "python", "numpy", "batch_size",
    "philox_grid", "fp32_precision",
)  # fmt: skip


def _batches_differ(sessions: list[dict]) -> bool:
    """Whether a model took other batch sizes in two sessions: the config's, or where it
    names none the one the model took (``batch_chosen``, of the models a session sampled;
    a store written before it was recorded compares ``batch_size`` only)."""
    if not any(s.get("batch_chosen") for s in sessions):
        return _differing(sessions, "batch_size")
    models = {m for s in sessions for m in (s.get("batch_chosen") or {})}
    for model in models:
        took = set()
        for s in sessions:
            size = s.get("batch_size")
            if size == "auto":
                size = (s.get("batch_chosen") or {}).get(model)  # None: it sampled none of it
            if isinstance(size, list):  # Ray actors of one session chose several
                took.update(json.dumps(one) for one in size)
            elif size is not None:
                took.add(json.dumps(size))
        if len(took) > 1:
            return True
    return False


def _differing(sessions: list[dict], key: str) -> bool:
    return len({json.dumps(s.get(key), sort_keys=True) for s in sessions}) > 1


def _chosen(session: dict) -> str:
    """`` (chosen: a 1000, b 500)`` for a session whose models' batch was chosen
    (``b 500 or 1000`` where a Ray run's actors chose several)."""
    chosen = session.get("batch_chosen") or {}

    def sizes(took: int | list[int]) -> str:  # a list: the sizes a Ray run's actors chose
        return " or ".join(map(str, took)) if isinstance(took, list) else str(took)

    return f" (chosen: {', '.join(f'{m} {sizes(b)}' for m, b in chosen.items())})" if chosen else ""


def _on_gpu(session: dict) -> str:
    """``, random grid 1056, float32 convolutions tf32 and products none`` for a session
    on a GPU."""
    if session.get("philox_grid") is None and session.get("fp32_precision") is None:
        return ""
    precision = session.get("fp32_precision") or {}
    return (
        f", random grid {session.get('philox_grid')}, float32 convolutions "
        f"{precision.get('conv', '?')} and products {precision.get('matmul', '?')}"
    )


def sessions_footnote(sessions: list[dict], dim: int | None = None) -> str | None:
    """The sessions of a resumed run (the manifest's ``sessions``) where their code,
    machine, GPU settings or batch size differ, or one Ray session whose workers chose
    other batch sizes; ``None`` where one session (its workers alike), or several alike,
    sampled the store. ``dim``: the values of an input (the manifest's
    ``base_draws``), with which GPUs of other random grids may still draw the same
    values (``harness.draws.philox_blocks``)."""
    if not any(_differing(sessions, key) for key in SESSION_FIELDS) and not _batches_differ(
        sessions
    ):
        return None
    grids = [
        philox_blocks(g, dim) if isinstance(g := s.get("philox_grid"), int) and dim else g
        for s in sessions
    ]
    parts = [
        f"from {s.get('started', '?')} ({s.get('counts_stored_before', '?')} counts stored "
        f"before) code {s.get('code_version')}, device {s.get('device_name')}, python "
        f"{s.get('python')}, numpy {s.get('numpy', 'not recorded')}, elementwise math "
        f"{s.get('elementwise_math')}, batch size "
        f"{s.get('batch_size', 'not recorded')}{_chosen(s)}{_on_gpu(s)}{_added_in(s)}"
        for s in sessions
    ]
    text = (
        f"Sampled in {len(sessions)} sessions of differing code, machine or batch size: "
        if len(sessions) > 1
        else "Sampled in one session whose Ray workers chose other batch sizes: "
    ) + "; ".join(parts)
    if _differing(sessions, "elementwise_math"):
        text += (
            "; the elementwise math paths differ, so a draw's last bits may differ from one "
            "uninterrupted run's"
        )
    if len({json.dumps(g) for g in grids}) > 1:
        text += (
            "; the GPUs' random grids differ, so the images of each session were drawn from "
            "another (equally valid) stream than one uninterrupted run's"
        )
    if _differing(sessions, "fp32_precision"):
        text += (
            "; the float32 precision of the forward passes differs (TF32 or full float32), "
            "so a draw whose top two logits nearly tie may be counted in another class"
        )
    if _batches_differ(sessions):
        text += (
            "; the batch sizes differ, and the model's float rounding can differ with the "
            "batch's shape, so a draw whose top two logits tie within it may be counted in "
            "another class than in a run of one batch size"
        )
    return text + "."


def _added_in(session: dict) -> str:
    """``, adding model m2 and 1 noise`` for a session that extended the stored run."""
    added = session.get("added") or {}
    models, noises = list(added.get("models") or []), len(added.get("noises") or [])
    parts = [f"model {m}" for m in models] + ([f"{noises} noise(s)"] if noises else [])
    return f", adding {' and '.join(parts)}" if parts else ""


def p_lower_footnote(distances: dict[str, float]) -> str:
    """What p_A is: the Clopper-Pearson bound, less the law distance certification took
    for each noise (``law_distances`` of the manifest), said with the largest."""
    text = (
        "p_A: the one-sided Clopper-Pearson lower bound at alpha from the estimation counts "
        "(Cohen et al. 2019)"
    )
    tabulated = {name: d for name, d in distances.items() if d > 0}
    if not tabulated:
        return text + "."
    return (
        f"{text}, less the total variation the noise's tabulated transform may add, so that "
        f"it holds for the stated law: at most {max(tabulated.values()):.2g}, for "
        f"{len(tabulated)} of the {len(distances)} noises (the manifest's law_distances)."
    )


def _figures(figs: list[Figure], linked: bool) -> list[dict[str, Any]]:
    """Each figure's PNG (bytes, for the HTML page) and, where the plots folder is written
    (``linked``), its relative path (for Markdown)."""
    return [
        {
            "name": f.name,
            "png": f.png.read_bytes(),
            "path": f"plots/{f.png.name}" if linked else None,
            "caption": f.caption,
            "curves": f.curves,
        }
        for f in figs
    ]


def _headline_first(board: Board, h: Headline, figs: list[Figure]) -> list[Figure]:
    """The figures with the headline's model's first: the page shows it beside the table."""
    if h.row is None:
        return figs
    first = model_figure_name(board, h.row.model)
    return sorted(figs, key=lambda f: f.name != first)


def build_view(
    report: Report,
    headlines: list[Headline],
    figures: dict[str, list[Figure]],
    *,
    linked_figures: bool,
    published: list[dict[str, Any]] | None = None,
) -> View:
    boards = []
    for board, h in zip(report.boards, headlines, strict=True):
        compared = any(board.reference in r.certifiers for r in board.rows)
        summary = (
            f"{board.n_images} test images, {len(board.rows)} rows on {len(board.models)} "
            f"model(s); " + (f"reference {board.reference}." if compared else "no reference row.")
        )
        boards.append(
            BoardView(
                id=_slug(board.title),
                title=board.title,
                summary=summary,
                headline=h.lines(),
                table=main_table(board),
                figures=_figures(
                    _headline_first(board, h, figures.get(board.slug, [])), linked_figures
                ),  # fmt: skip
                envelope=envelope_table(board),
                published=published_table(
                    board, published, report.level, report.footnotes.get("data_caveat")
                ),
                notes=list(board.notes),
                comparisons=comparison_table(board, [sig.SAME_NOISE, sig.GAUSSIAN]),
                best=comparison_table(board, [sig.BEST]),
                details=details_table(board),
                discordant=discordant_table(board, h),
            )
        )
    warnings = list(report.warnings)
    for r in report.sanity:
        if r.status == FAIL:
            warnings.append(f"sanity check failed: {r.title}: {r.summary}")
        elif r.status == INCOMPLETE:
            warnings.append(f"sanity check incomplete: {r.title}: {r.summary}")
    run, dataset = report.footnotes.get("run"), report.footnotes["dataset"]
    title = f"smoothbench leaderboard: {f'{run} ({dataset})' if run else dataset}"
    details = [(f"{r.title}: {r.status}", r.details[:60]) for r in report.sanity if r.details]
    specs = sorted(
        (name, json.dumps(spec, sort_keys=True))
        for name, spec in report.footnotes.get("specs", {}).items()
    )
    legend = sig.LEGEND.replace("LEVEL", f"{report.level:g}")
    view = View(title, warnings, boards, sanity_table(report), details,
                footnotes(report), legend, specs)  # fmt: skip
    view.sanity.caption = _sanity_caption(report.sanity)
    return view


def _sanity_caption(results: list) -> str:
    """``5 of the 7 checks that ran passed; 1 incomplete (...); 2 skipped (...)``: a
    skipped check found nothing in the store to check, which is neither a pass nor a
    failure; an incomplete one could not check some rows here, so it did not pass."""
    skipped = sum(r.status == SKIPPED for r in results)
    ran = len(results) - skipped
    passed = sum(r.status == PASS for r in results)
    incomplete = sum(r.status == INCOMPLETE for r in results)
    why = "nothing in the store for them" if skipped > 1 else "nothing in the store for it"
    if ran == 0:
        return f"No check ran: {skipped} skipped ({why})."
    rest = (
        f"; {incomplete} incomplete (some rows could not be checked here: see the warnings)"
        if incomplete
        else ""
    )
    rest += f"; {skipped} skipped ({why})" if skipped else ""
    return f"{passed} of the {ran} checks that ran passed{rest}."
