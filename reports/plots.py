"""Plots a paper can use (matplotlib, Agg backend), PNG and SVG, readable at their
default size.

Per leaderboard (dataset, norm, alpha):

- ``cert_acc_<slug>_<model>``: certified accuracy against radius for one model, at most
  eight curves (the reference row and the best others by ACR; the caption of the page
  says how many rows the table has), colour and line style both varying, the legend
  outside the axes, pointwise Wilson 95% bands kept light, and each curve's reach (the
  largest radius its draws can certify, ``reports.reach``) a triangle on the radius axis
  in the curve's colour;
- ``envelope_<slug>``: the best-over-sigma envelope of each noise and certifier (Cohen et
  al.'s figures), at most eight curves;
- ``radii_<slug>``: box plots of the certified radii of the best rows of each model (at
  most ten boxes a model; every radius beyond the whiskers drawn as a point), sized to
  fit a page.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from reports import stats  # noqa: E402
from reports.envelope import EnvelopeRow, envelope, envelope_curve, left_out_note  # noqa: E402
from reports.file_names import safe_stem
from reports.leaderboard import Board  # noqa: E402
from reports.rows import Row  # noqa: E402
from smoothbench.atomic import atomic_path  # noqa: E402

matplotlib.rcParams["svg.hashsalt"] = "smoothbench"  # reproducible SVG ids
matplotlib.rcParams["svg.fonttype"] = "none"  # text stays text: small, fast, searchable
_METADATA = {"svg": {"Date": None}, "png": {"Software": None}}
_MPL = tuple(int(x) for x in re.findall(r"\d+", matplotlib.__version__)[:2])
_HORIZONTAL = {"orientation": "horizontal"} if _MPL >= (3, 10) else {"vert": False}
MAX_CURVES = 8
#: The ``gid`` of the triangle that marks a curve's reach (``reports.reach``) on the radius axis
REACH_MARKER = "reach"
MAX_BOXES = 10
_STYLES = ["-", "--", "-.", ":"]
#: Okabe and Ito's palette, distinguishable with the common colour-vision deficiencies; the
#: first curve (the reference row) black, yellow (low contrast on white) last.
_COLOURS = ["#000000", "#E69F00", "#56B4E9", "#009E73", "#D55E00", "#0072B2", "#CC79A7", "#F0E442"]
#: PNG resolution: the HTML page shows a figure about 560 px wide, so text stays legible.
DPI = 150


@dataclass(frozen=True)
class Figure:
    """A written figure: its name, files and what it shows."""

    name: str
    png: Path
    svg: Path
    caption: str
    curves: int


def _style(i: int) -> dict:
    """Curve ``i``'s colour and line style: no two of the first eight share either
    colour, and line styles vary too, for print in grey."""
    return {"color": _COLOURS[i % len(_COLOURS)], "linestyle": _STYLES[i % len(_STYLES)]}


def _save(fig: plt.Figure, stem: Path) -> tuple[Path, Path]:
    paths = []
    for fmt in ("png", "svg"):
        path = stem.parent / f"{stem.name}.{fmt}"  # not with_suffix: slugs hold dots
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=fmt, dpi=DPI, metadata=_METADATA[fmt])
        paths.append(path)
    plt.close(fig)
    return paths[0], paths[1]


def plain(text: str) -> str:
    """``text`` as matplotlib shows it literally: a ``$`` escaped (a model named by its
    checkpoint file may hold two, which matplotlib reads as math text around an unknown
    symbol, failing the whole report)."""
    return text.replace("$", r"\$")


def _legend_below(fig: plt.Figure, ax: plt.Axes, curves: int) -> None:
    """Legend in two columns under the axes, in a fixed layout (one draw per save); the
    figure is as tall as its legend needs (3 in of axes, 0.22 in per legend line)."""
    axes_h, top_h, label_h = 3.0, 0.35, 0.5
    bottom_h = label_h + 0.22 * math.ceil(curves / 2) + 0.1
    height = axes_h + top_h + bottom_h
    fig.set_size_inches(6.4, height)
    ax.legend(fontsize=9, loc="upper center", bbox_to_anchor=(0.5, -label_h / axes_h), ncol=2,
              frameon=False)  # fmt: skip
    fig.subplots_adjust(left=0.1, right=0.97, top=1 - top_h / height, bottom=bottom_h / height)


def _mark_reach(ax: plt.Axes, reach: float | None, xmax: float, color: Any) -> None:
    """A triangle on the radius axis at a curve's reach (``reports.reach``), in its colour."""
    if reach is not None and reach <= xmax:
        ax.plot([reach], [0.0], linestyle="none", marker="^", markersize=7, color=color,
                clip_on=False, zorder=3, gid=REACH_MARKER)  # fmt: skip


def _radius_grid(
    board: Board, rows: list[Row], points: int = 160, reaches: list[float | None] | None = None
) -> np.ndarray:
    """Radii from 0 to a little past where the curves can end: the largest certified radius
    and the rows' reaches (``reaches``, default the rows'), or the board's grid where a row
    has no finite reach (a deterministic row may certify at any radius)."""
    certified = [float(r.radius[r.counted()].max(initial=0.0)) for r in rows]
    certified = [c for c in certified if math.isfinite(c)]
    reaches = [r.reach for r in rows] if reaches is None else reaches
    known = [float(r) for r in reaches if r is not None and math.isfinite(r)]
    ends = [*certified, *known]
    if len(known) < len(reaches) or not reaches:
        ends.append(max(board.radii))
    rmax = max(ends, default=0.0)
    return np.linspace(0.0, rmax * 1.08 if rmax > 0 else 1.0, points)


def plotted_rows(board: Board, model: str) -> list[Row]:
    """The rows a model's figure shows: the reference row first, then the best by ACR."""
    rows = board.rows_of(model)
    acr = board.column("acr")
    ref = [
        r
        for r in rows
        if board.reference in r.certifiers and r.family == "gaussian" and r.kind == "smoothing"
    ]
    first = ref[:1]  # of several Gaussian reference rows (other sigmas), the rest rank by ACR
    rest = sorted((r for r in rows if r not in first), key=lambda r: -acr.value(r, board.context))
    return (first + rest)[:MAX_CURVES]


def certified_accuracy_figure(board: Board, model: str) -> tuple[plt.Figure, int]:
    rows = plotted_rows(board, model)
    grid = _radius_grid(board, rows)
    fig, ax = plt.subplots(figsize=(6.4, 4.6))
    for i, row in enumerate(rows):
        cert = row.certified_on(grid)
        k = cert.sum(axis=1)
        lo, hi = stats.wilson_interval(k, np.full_like(k, row.n), 0.05)
        style = _style(i)
        name = f"{row.shown_label} · {row.certifier_short}"
        if row.key in board.unsound:
            name += " (UNSOUND)"
        elif row.key in board.unchecked:
            name += " (UNCHECKED)"
        ax.plot(grid, 100 * k / row.n, lw=1.7, label=plain(name), **style)
        ax.fill_between(grid, 100 * lo, 100 * hi, color=style["color"], alpha=0.08, lw=0)
        _mark_reach(ax, row.reach, grid[-1], style["color"])
    ax.set_xlabel(f"{board.norm} radius")
    ax.set_ylabel("certified accuracy (%)")
    ax.set_ylim(0, 102)
    ax.set_xlim(0, grid[-1])
    ax.grid(alpha=0.3)
    s0 = board.sigma0.get(model)
    sigma = f", sigma0 = {s0:g}" if s0 is not None else ""
    ax.set_title(plain(f"{board.dataset}, {board.norm}: {model}{sigma}"), fontsize=10)
    _legend_below(fig, ax, len(rows))
    return fig, len(rows)


def envelope_figure(
    board: Board, env: list[EnvelopeRow] | None = None
) -> tuple[plt.Figure, int] | None:
    """The best-over-sigma0 curves of the first ``MAX_CURVES`` rows of ``env`` (the
    board's ``envelope``, computed here where not given)."""
    env = (envelope(board) if env is None else env)[:MAX_CURVES]
    if not env:
        return None
    rows = [r for e in env for r in e.rows]
    grid = _radius_grid(board, rows, reaches=[e.reach for e in env])
    fig, ax = plt.subplots(figsize=(6.4, 4.6))
    for i, e in enumerate(env):
        style = _style(i)
        ax.plot(grid, 100 * envelope_curve(e.rows, grid), lw=1.7,
                label=plain(f"{e.label} · {e.certifier}"), **style)  # fmt: skip
        _mark_reach(ax, e.reach, grid[-1], style["color"])
    ax.set_xlabel(f"{board.norm} radius")
    ax.set_ylabel("certified accuracy (%, best over sigma0)")
    ax.set_ylim(0, 102)
    ax.set_xlim(0, grid[-1])
    ax.grid(alpha=0.3)
    title = f"{board.dataset}, {board.norm}: best over the models' sigma0"
    ax.set_title(plain(title), fontsize=10)
    _legend_below(fig, ax, len(env))
    return fig, len(env)


def radius_distribution_figure(board: Board) -> tuple[plt.Figure, int]:
    values, labels = [], []
    for model in board.models:
        for row in plotted_rows(board, model)[:MAX_BOXES]:
            r = row.radius[row.counted()]
            values.append(r if r.size else np.array([np.nan]))
            labels.append(
                plain(f"{model} · {row.shown_label} · {row.certifier_short} ({r.size} certified)")
            )
    # a line of 8-point text a box: capped at 12 in, the labels touched at about 90 boxes
    # and overlapped past; capped only below matplotlib's limit of 2^16 pixels (at DPI),
    # about 1,600 boxes (150 models of 10 rows), beyond which no figure is drawn at all
    height = min(0.26 * len(values) + 1.2, 0.95 * 2**16 / DPI)
    fig, ax = plt.subplots(figsize=(8.4, height), layout="constrained")
    # every image is drawn: the box and whiskers, and each radius beyond them as a point;
    # the points as pixels in the SVG too (one vector mark each made 2.5 MB at 10,000 images)
    fliers = {"marker": ".", "markersize": 4, "markeredgecolor": "none", "alpha": 0.6}
    boxes = ax.boxplot(values, widths=0.6, flierprops={"markerfacecolor": "0.25", **fliers},
                       **_HORIZONTAL)  # fmt: skip
    for points in boxes["fliers"]:
        points.set_rasterized(True)
    ax.set_yticks(np.arange(1, len(values) + 1), labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(f"{board.norm} radius of correctly certified images")
    ax.grid(alpha=0.3, axis="x")
    ax.set_title(plain(f"{board.dataset}, {board.norm}: certified radii"), fontsize=10)
    return fig, len(values)


def model_figure_name(board: Board, model: str) -> str:
    """The name of a model's certified-accuracy figure on a board."""
    return f"cert_acc_{board.slug}_{safe_stem(model)}"


def write_plots(board: Board, out: str | Path) -> list[Figure]:
    """Every figure of a board, PNG and SVG, under ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    figures = []
    for model in board.models:
        fig, n = certified_accuracy_figure(board, model)
        name = model_figure_name(board, model)
        rows = board.rows_of(model)
        chosen = (
            "the reference and the best by ACR"
            if any(board.reference in r.certifiers for r in rows)
            else "the best by ACR"
        )
        reach = (
            " Triangles on the radius axis: each curve's reach, beyond which its draws cannot "
            "certify any image (a reach past the last plotted radius is not drawn)."
            if any(r.reach is not None for r in rows)
            else ""
        )
        caption = (
            f"Certified accuracy of {model} against {board.norm} radius, with Wilson 95% bands; "
            f"{n} of its {len(rows)} rows ({chosen}).{reach}"
        )
        figures.append(Figure(name, *_save(fig, out / name), caption, n))
    env = envelope(board)
    made = envelope_figure(board, env)
    if made is not None:
        fig, n = made
        name = f"envelope_{board.slug}"
        caption = (
            f"Best certified accuracy over the models' sigma0 ({n} noise-certifier pairs); "
            "triangles: the farthest reach of each pair's rows (none past the last plotted radius)."
            + left_out_note(env[:MAX_CURVES])
        )
        figures.append(Figure(name, *_save(fig, out / name), caption, n))
    fig, n = radius_distribution_figure(board)
    name = f"radii_{board.slug}"
    caption = (
        f"Certified radii of correctly certified images ({n} rows): box from the first to the "
        "third quartile, median line, whiskers to the farthest radius within 1.5 box lengths, "
        "every radius beyond them a point."
    )
    figures.append(Figure(name, *_save(fig, out / name), caption, n))
    return figures
