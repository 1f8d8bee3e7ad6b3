"""The figures show the store's numbers: each model's certified-accuracy curves in % at
every plotted radius, recomputed from the certificates table, for the reference row
first and then the others by ACR, each with its reach marked where the closed form puts
it; the box plot shows the radii of the correctly certified images only."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
from scipy.special import ndtri

from reports.plots import REACH_MARKER, certified_accuracy_figure, radius_distribution_figure
from tests.reports._outputs_store import MODELS, SCALED, built_report
from tests.reports._report_synth import ALPHA, N

COHEN_REACH = 0.25 * ndtri(ALPHA ** (1.0 / N))
REACH = {"cohen": COHEN_REACH, SCALED: 2 * COHEN_REACH}


@pytest.fixture(scope="module")
def board_and_certs(tmp_path_factory):
    with built_report(tmp_path_factory.mktemp("figs") / "s.sqlite") as (report, certs):
        return report.boards[0], certs


def test_curves_are_certified_accuracy_in_percent_reference_first(board_and_certs):
    board, certs = board_and_certs
    for model in MODELS:
        fig, n = certified_accuracy_figure(board, model)
        (ax,) = fig.axes
        curves = [line for line in ax.get_lines() if line.get_gid() is None]
        mine = certs[certs["model"] == model]
        acr = {c: g["radius"].where(g["ok"], 0.0).mean() for c, g in mine.groupby("certifier")}
        order = ["cohen"] + sorted((c for c in acr if c != "cohen"), key=lambda c: -acr[c])
        assert n == len(curves) == len(order)
        for line, cert in zip(curves, order, strict=True):
            assert line.get_label().endswith(f"· {cert}")
            g = mine[mine["certifier"] == cert]
            x = np.asarray(line.get_xdata())
            want = [100 * (g["ok"] & (g["radius"] >= r)).mean() for r in x]
            np.testing.assert_allclose(line.get_ydata(), want, atol=1e-9)
        # the axis reaches past every curve's reach, each marked in its curve's colour
        assert ax.get_xlim()[1] >= max(REACH.values())
        marks = [line for line in ax.get_lines() if line.get_gid() == REACH_MARKER]
        assert sorted(float(m.get_xdata()[0]) for m in marks) == pytest.approx(
            sorted(REACH[c] for c in order)
        )
        plt.close(fig)


def test_box_plot_shows_the_radii_of_correct_certificates(board_and_certs):
    board, certs = board_and_certs
    fig, n = radius_distribution_figure(board)
    (ax,) = fig.axes
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert n == len(labels) == len(certs.groupby(["model", "certifier"]))
    for label in labels:
        model, _, cert_part = label.split(" · ")
        cert = cert_part.split(" (")[0]
        g = certs[(certs["model"] == model) & (certs["certifier"] == cert)]
        assert f"({int(g['ok'].sum())} certified)" in label
    plt.close(fig)
