"""The radius-distribution figure ("certified radii of correctly certified images") draws
every image: a radius beyond the whiskers is a point, not left out (it was, and the box
read as if no certified image had so small a radius)."""

from __future__ import annotations

import io

import matplotlib.pyplot as plt
import numpy as np

from harness.certify import certify_store
from harness.noise import Gaussian
from reports.leaderboard import build_report
from reports.plots import radius_distribution_figure
from reports.settings import ReportSettings
from reports.tidy import load_outcomes
from tests.reports._report_synth import ALPHA, DIM, N_CLASSES, add_counts, new_store

N_IMAGES = 12


def _board(path):
    store = new_store(path, N_IMAGES, {"m": 0.25})
    labels = np.arange(N_IMAGES) % N_CLASSES
    tops = np.full(N_IMAGES, 995)  # every image certified at the same large radius ...
    tops[0] = 700  # ... but one, certified at a small radius
    add_counts(store, "m", Gaussian(0.25, DIM), labels, labels, tops)
    certify_store(store, ["cohen"], ["l2"], [ALPHA], progress=False)
    report = build_report(
        load_outcomes(store),
        manifest=store.manifest(),
        specs=store.noise_specs(),
        settings=ReportSettings(radii={"l2": (0.0, 0.25, 0.5)}),
    )
    store.close()
    (board,) = report.boards
    return board


def test_every_certified_radius_lies_within_what_the_box_plot_draws(tmp_path):
    board = _board(tmp_path / "s.sqlite")
    fig, _ = radius_distribution_figure(board)
    (ax,) = fig.axes
    drawn = np.concatenate(
        [np.asarray(line.get_xdata(), float).ravel() for line in ax.get_lines()]
        + [np.asarray(p.get_path().vertices[:, 0]) for p in ax.patches]
    )
    drawn = drawn[np.isfinite(drawn)]
    lo, hi = drawn.min(), drawn.max()
    for model in board.models:
        for row in board.rows_of(model):
            r = row.radius[row.counted()]
            assert r.size == N_IMAGES
            assert lo <= r.min() + 1e-12 and r.max() - 1e-12 <= hi, (
                f"{model} {row.certifier_short}: radii span [{r.min():.4f}, {r.max():.4f}] "
                f"but the figure draws only [{lo:.4f}, {hi:.4f}]"
            )
    plt.close(fig)


def test_the_points_beyond_the_whiskers_are_pixels_in_the_svg(tmp_path):
    """Each point a vector mark made the SVG 2.5 MB at 10,000 images: they are pixels
    (one embedded image per box with points, here one box), the boxes and whiskers stay
    vectors."""
    store = new_store(tmp_path / "s.sqlite", 400, {"m": 0.25})
    labels = np.arange(400) % N_CLASSES
    tops = np.full(400, 995)
    tops[:60] = np.linspace(600, 900, 60).astype(int)  # 60 radii far below the box
    add_counts(store, "m", Gaussian(0.25, DIM), labels, labels, tops)
    certify_store(store, ["cohen"], ["l2"], [ALPHA], progress=False)
    report = build_report(load_outcomes(store), manifest=store.manifest(),
                          specs=store.noise_specs(), settings=ReportSettings())  # fmt: skip
    store.close()
    fig, _ = radius_distribution_figure(report.boards[0])
    (ax,) = fig.axes
    points = sum(len(line.get_xdata()) for line in ax.get_lines() if line.get_marker() == ".")
    assert points == 60
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg")
    plt.close(fig)
    svg = buffer.getvalue()
    assert svg.count("<image") == 1 and svg.count("<use") < 10
