"""Plots (matplotlib, Agg backend, no display needed), PNG and SVG.

Per leaderboard (dataset, norm, alpha):

- ``cert_acc_<slug>``: certified accuracy against radius, one line per row, with the
  pointwise Wilson 95% band (``stats.wilson_interval``) around it;
- ``radii_<slug>``: the distribution of certified radii per row (box plot of the radii
  of the images certified correctly; the count is in the label).
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from reports import stats  # noqa: E402
from reports.headline import short_label  # noqa: E402
from reports.leaderboard import Board  # noqa: E402

matplotlib.rcParams["svg.hashsalt"] = "smoothbench"  # reproducible SVG ids
_METADATA = {"svg": {"Date": None}, "png": {"Software": None}}
# boxplot's ``vert`` is deprecated from matplotlib 3.10 on, ``orientation`` is new there
_MPL = tuple(int(x) for x in re.findall(r"\d+", matplotlib.__version__)[:2])
_HORIZONTAL = {"orientation": "horizontal"} if _MPL >= (3, 10) else {"vert": False}


def _save(fig: plt.Figure, stem: Path, formats: tuple[str, ...]) -> list[Path]:
    paths = []
    for fmt in formats:
        path = stem.parent / f"{stem.name}.{fmt}"  # not with_suffix: slugs hold dots
        fig.savefig(path, format=fmt, dpi=120, bbox_inches="tight", metadata=_METADATA[fmt])
        paths.append(path)
    return paths


def figure_png(fig: plt.Figure) -> bytes:
    """The figure as PNG bytes (for embedding in the HTML page)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight", metadata=_METADATA["png"])
    return buf.getvalue()


def certified_accuracy_figure(board: Board, points: int = 200) -> plt.Figure:
    """Certified accuracy vs radius with Wilson 95% bands, one curve per row."""
    data = board.data
    n = len(data.images)
    rmax = max([float(data.radius[k].max(initial=0.0)) for k in data.keys] + [max(board.radii)])
    grid = np.linspace(0.0, rmax * 1.05 if rmax > 0 else 1.0, points)
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    for key in board.table[["model", "noise", "certifier"]].itertuples(index=False):
        key = tuple(key)
        cert = data.correct[key][None, :] & (data.radius[key][None, :] >= grid[:, None])
        k = cert.sum(axis=1)
        acc = k / n
        lo, hi = stats.wilson_interval(k, np.full_like(k, n), 0.05)
        (line,) = ax.plot(grid, acc, lw=1.6, label=short_label(key))
        ax.fill_between(grid, lo, hi, color=line.get_color(), alpha=0.15, lw=0)
    ax.set_xlabel(f"{board.norm} radius")
    ax.set_ylabel("certified accuracy")
    ax.set_ylim(0, 1.02)
    ax.set_xlim(0, grid[-1])
    ax.grid(alpha=0.3)
    ax.set_title(f"{board.title}: certified accuracy (Wilson 95% bands, n = {n})", fontsize=10)
    ax.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    return fig


def radius_distribution_figure(board: Board) -> plt.Figure:
    """Box plots of the certified radii (correct, non-abstained images) per row."""
    data = board.data
    keys = [tuple(k) for k in board.table[["model", "noise", "certifier"]].itertuples(False)]
    fig, ax = plt.subplots(figsize=(7.5, 0.45 * len(keys) + 1.4))
    values, labels = [], []
    for key in keys:
        r = data.radius[key][data.correct[key]]
        values.append(r if r.size else np.array([np.nan]))
        labels.append(f"{short_label(key)} (n = {r.size})")
    ax.boxplot(values, widths=0.6, showfliers=True, **_HORIZONTAL)
    ax.set_yticks(np.arange(1, len(keys) + 1), labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel(f"{board.norm} radius of correctly certified images")
    ax.grid(alpha=0.3, axis="x")
    ax.set_title(f"{board.title}: distribution of certified radii", fontsize=10)
    fig.tight_layout()
    return fig


def write_plots(
    board: Board, out: str | Path, formats: tuple[str, ...] = ("png", "svg")
) -> list[Path]:
    """Both figures of a board in every format; returns the paths."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, make in (
        ("cert_acc", certified_accuracy_figure),
        ("radii", radius_distribution_figure),
    ):
        fig = make(board)
        try:
            paths += _save(fig, out / f"{name}_{board.slug}", formats)
        finally:
            plt.close(fig)
    return paths


def board_pngs(board: Board) -> dict[str, bytes]:
    """Both figures of a board as PNG bytes, keyed ``cert_acc`` and ``radii``."""
    out = {}
    for name, make in (
        ("cert_acc", certified_accuracy_figure),
        ("radii", radius_distribution_figure),
    ):
        fig = make(board)
        try:
            out[name] = figure_png(fig)
        finally:
            plt.close(fig)
    return out
