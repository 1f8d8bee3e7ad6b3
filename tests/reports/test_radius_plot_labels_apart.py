"""The radius box plot gives every box's label its own line, however many boxes: its
height stopped at 12 in while the labels stayed at 8 pt, so at 96 boxes each label
touched the next, and past that overlapped it (15 models with 8 rows each: 119 of 120)."""

from __future__ import annotations

import itertools

import numpy as np

from harness.certify import certify_store
from harness.noise import Gaussian
from reports.leaderboard import build_report
from reports.plots import radius_distribution_figure
from reports.tidy import load_outcomes
from tests.reports._report_synth import ALPHA, DIM, ScaledCohen, add_counts, new_store

FACTORS = (0.3, 0.45, 0.6, 0.75, 0.9)
MODELS, IMAGES = 16, 30


def test_no_label_overlaps_the_next(tmp_path, plugins):
    names = [f"scaled-{f}" for f in FACTORS]
    for name, f in zip(names, FACTORS, strict=True):
        plugins.certifier(name, type("Scaled", (ScaledCohen,), {"factor": f}))
    models = {f"model-{i:02d}": 0.25 for i in range(MODELS)}
    config = {"report": {"reference": "cohen"}, "certify": {"certifiers": ["cohen", *names]}}
    store = new_store(tmp_path / "s.sqlite", IMAGES, models, config=config)
    labels = np.arange(IMAGES) % 10
    top = np.random.default_rng(0).integers(900, 1000, IMAGES)
    for m in models:
        add_counts(store, m, Gaussian(0.25, DIM), labels, labels, top)
    certify_store(store, ["cohen", *names], ["l2"], [ALPHA], progress=False)
    report = build_report(
        load_outcomes(store), manifest=store.manifest(), specs=store.noise_specs()
    )
    store.close()
    (board,) = report.boards
    fig, boxes = radius_distribution_figure(board)
    assert boxes == MODELS * (1 + len(FACTORS))
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    extents = sorted(
        (t.get_window_extent(renderer) for t in fig.axes[0].get_yticklabels()),
        key=lambda b: b.y0,
    )
    assert len(extents) == boxes
    # a line spacing of at least 1.2 (text set solid is hard to read; overlapping, unread)
    crowded = [a for a, b in itertools.pairwise(extents) if b.y0 - a.y1 < 0.2 * a.height]
    assert not crowded, f"{len(crowded)} of {boxes} labels touch or overlap the next"


def test_the_height_stays_below_matplotlibs_pixel_limit(monkeypatch):
    """Uncapped, 1,700 boxes (170 models) made a figure taller than 2^16 pixels at the
    PNG's resolution, which matplotlib refuses to draw: the whole report failed."""
    from types import SimpleNamespace

    from reports import plots

    row = SimpleNamespace(
        radius=np.array([0.5]),
        counted=lambda: np.array([True]),
        shown_label="Gaussian",
        certifier_short="cohen",
    )
    models = [f"m{i}" for i in range(170)]
    monkeypatch.setattr(plots, "plotted_rows", lambda board, model: [row] * plots.MAX_BOXES)
    board = SimpleNamespace(models=models, norm="l2", dataset="digits")
    fig, boxes = radius_distribution_figure(board)
    height = fig.get_size_inches()[1]
    plots.plt.close(fig)
    assert boxes == 1700
    assert height * plots.DPI < 2**16
