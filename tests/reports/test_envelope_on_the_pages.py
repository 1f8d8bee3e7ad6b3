"""The best-over-sigma0 table reaches both pages, with the best certified accuracy over
the models at each radius, recomputed from the store."""

from __future__ import annotations

import sqlite3

import numpy as np
import pandas as pd

from harness.certify import certify_store
from harness.noise import Gaussian
from reports import render
from reports.headline import headline
from reports.leaderboard import build_report
from reports.settings import ReportSettings
from reports.tidy import load_outcomes
from reports.view import build_view
from tests.reports._report_synth import ALPHA, DIM, N, add_counts, missing_first, new_store

RADII = (0.0, 0.25, 0.5, 1.0)


def test_the_envelope_is_on_both_pages(tmp_path):
    path = tmp_path / "s.sqlite"
    store = new_store(path, 40, {"m": 0.25, "m2": 0.5})
    labels = np.arange(40) % 10
    for model, sigma, wrong in (("m", 0.25, 4), ("m2", 0.5, 16)):
        add_counts(store, model, Gaussian(sigma, DIM), labels, missing_first(labels, wrong),
                   np.full(40, N - 5))  # fmt: skip
    certify_store(store, ["cohen"], ["l2"], [ALPHA], progress=False)
    report = build_report(load_outcomes(store), manifest=store.manifest(),
                          specs=store.noise_specs(),
                          settings=ReportSettings(radii={"l2": RADII}))  # fmt: skip
    store.close()
    view = build_view(report, [headline(b, report.level) for b in report.boards], {},
                      linked_figures=False)  # fmt: skip
    md, _ = render.markdown(view)
    page = render.html(view)
    with sqlite3.connect(path) as db:
        certs = pd.read_sql_query("SELECT * FROM certificates", db)
    ok = (certs["prediction"] >= 0) & certs["correct"].astype(bool)
    best = [
        max((ok & (certs["radius"] >= r))[certs["model"] == m].mean() for m in ("m", "m2"))
        for r in RADII
    ]
    block = md.split("**Best over sigma0**")[1].split("\n\n")[1]
    (line,) = [ln for ln in block.splitlines() if ln.startswith("| Gaussian")]
    cells = [c.strip() for c in line.split("|")[3:-1]]
    assert [c.split(" ")[0] for c in cells] == [f"{100 * b:.1f}" for b in best]
    envelope = page.split('-envelope"')[1].split("</table>")[0]
    for b in best:
        assert f">{100 * b:.1f}" in envelope
