"""What the figures show: the range their curves can reach, accuracy in % as the tables
give it, curves told apart by colour alone, and the headline's model beside the table."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest

from reports.cli import make_report
from reports.plots import (
    _COLOURS,
    _STYLES,
    _style,
    certified_accuracy_figure,
    model_figure_name,
    write_plots,
)
from reports.view import build_view
from tests.reports._report_synth import winner_store


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    path = tmp_path_factory.mktemp("plots") / "s.sqlite"
    winner_store(path, n_images=60).close()
    return make_report(path)


def test_the_radius_axis_ends_a_little_past_the_farthest_reach(report):
    """Every row here has a reach: the axis ends 8% past the farthest reach or certified
    radius, not at the grid's last radius (it left three quarters of a figure empty)."""
    board = report[0].boards[0]
    for model in board.models:
        fig, _ = certified_accuracy_figure(board, model)
        (ax,) = fig.axes
        rows = board.rows_of(model)
        ends = [r.reach for r in rows] + [float(r.radius[r.correct].max(initial=0)) for r in rows]
        assert ax.get_xlim()[1] == pytest.approx(1.08 * max(ends))
        assert ax.get_ylabel() == "certified accuracy (%)" and ax.get_ylim() == (0, 102)
        curve = next(line for line in ax.get_lines() if line.get_gid() is None)
        first = rows[0] if rows[0].family == "gaussian" else None
        if first is not None:
            assert curve.get_ydata()[0] == pytest.approx(100 * first.certified(0.0).mean())
        plt.close(fig)


def test_the_first_eight_curves_differ_in_colour_and_the_first_four_in_line_style():
    styles = [_style(i) for i in range(8)]
    assert len({s["color"] for s in styles}) == 8 == len(_COLOURS)
    assert len({s["linestyle"] for s in styles[: len(_STYLES)]}) == len(_STYLES)


def test_the_page_shows_the_headline_models_figure_first(report, tmp_path):
    rep, headlines = report
    board, h = rep.boards[0], headlines[0]
    figures = write_plots(board, tmp_path)
    assert figures[0].name != model_figure_name(board, h.row.model)  # models come in order
    view = build_view(rep, headlines, {board.slug: figures}, linked_figures=False)
    assert view.boards[0].figures[0]["name"] == model_figure_name(board, h.row.model)
    assert np.sort([f["name"] for f in view.boards[0].figures]).tolist() == sorted(
        f.name for f in figures
    )


def test_a_row_has_one_label_in_the_table_the_plot_and_latex(tmp_path):
    """A deterministic row read "no smoothing (deterministic)" in the table and "no
    smoothing" in the plot; every row now shows ``Row.shown_label`` everywhere."""
    from harness.certify import certify_store
    from reports.latex import board_table
    from reports.view import main_table
    from tests.reports.test_deterministic_only import _put_deterministic

    path = tmp_path / "both.sqlite"
    store = winner_store(path, n_images=20)
    certify_store(store, ["cohen"], ["linf"], [0.001], progress=False)
    _put_deterministic(store, "m-win")
    store.close()
    rep, _ = make_report(path)
    (board,) = [b for b in rep.boards if b.norm == "linf"]
    fig, _ = certified_accuracy_figure(board, "m-win")
    legend = {t.get_text() for t in fig.axes[0].get_legend().get_texts()}
    plt.close(fig)
    table = main_table(board)
    shown = {cells[1].text.split(" ⚠")[0] for cells in table.rows}
    latex = board_table(board, 0.05)
    for row in board.rows_of("m-win"):
        assert f"{row.shown_label} · {row.certifier_short}" in legend
        assert row.shown_label in shown
        assert row.shown_label in latex
    assert "no smoothing · crown" in legend and "no smoothing" in shown
    assert not any("(deterministic)" in text for text in shown)
