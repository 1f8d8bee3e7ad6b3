"""What a reader sees of a row's standing: an unsound row is flagged ⚠ UNSOUND in the main
table, its sanity cell and its figure legend; a row that only failed another check gets a
plain ⚠; a model with more rows than a figure holds plots the reference and the best
others by ACR, and says how many; imported abstentions count as abstentions."""

from __future__ import annotations

import html

import numpy as np
import pandas as pd
import pytest

from harness.certify import certify_store
from harness.noise import Gaussian
from harness.store import ImportedRow
from reports import render
from reports.cli import make_report, write_report
from reports.envelope import envelope
from reports.headline import headline
from reports.leaderboard import build_report
from reports.plots import MAX_CURVES, certified_accuracy_figure, envelope_figure, write_plots
from reports.sanity import FAIL, CheckResult
from reports.tidy import load_outcomes
from reports.view import build_view
from tests.reports._report_synth import ALPHA, DIM, ScaledCohen, add_counts, new_store, winner_store
from tests.reports.test_report_pages_agree import md_tables

MODELS = ("m-win", "m-mid", "m-low")


def _view(report):
    heads = [headline(b, report.level) for b in report.boards]
    return build_view(report, heads, {}, linked_figures=False)


def _pages(report):
    return render.markdown(_view(report))


def _main_rows(md):
    """The rows of the main tables (one a model in the Markdown)."""
    return [
        cells
        for _, h, rows in md_tables(md)
        if h[:3] == ["#", "noise", "certifier"]
        for cells in rows
    ]


def test_an_unsound_row_is_flagged_in_its_table_cells_and_legend(tmp_path, plugins):
    plugins.certifier("test-twice", type("Twice", (ScaledCohen,), {"factor": 2.0}))
    path = tmp_path / "s.sqlite"
    with winner_store(path) as store:
        certify_store(store, ["test-twice"], ["l2"], [ALPHA], progress=False)
    report, _ = make_report(path)
    (board,) = report.boards
    md, appendix = _pages(report)
    rows = _main_rows(md)
    assert len(rows) == 2 * len(MODELS)
    for cells in rows:
        assert cells[1].endswith("⚠ UNSOUND") == (cells[2] == "test-twice")
    gate = next(c for c in report.sanity if c.name == "soundness")
    assert len(gate.details) > 1
    assert all(line in appendix for line in gate.details)
    write_report(report, [], tmp_path / "out", ["csv"])
    csv = pd.read_csv(tmp_path / "out" / "sanity.csv").set_index("check")
    assert csv.loc["soundness", "status"] == FAIL
    assert csv.loc["soundness", "affected_rows"] == len(MODELS)  # one test-twice row a model
    assert csv.loc["soundness", "max_diff"] == pytest.approx(1.0, rel=1e-6)  # twice the optimum
    details = next(t for t in md_tables(appendix) if t[1][:3] == ["model", "noise", "certifier"])
    sanity = {(c[0], c[2]): c[details[1].index("sanity")] for c in details[2]}
    for model in MODELS:
        assert "soundness" in sanity[(model, "test-twice")]
        assert sanity[(model, "cohen")] == "ok"
        fig, _ = certified_accuracy_figure(board, model)
        legend = {t.get_text() for t in fig.legends[0].get_texts()} if fig.legends else set()
        legend |= {line.get_label() for line in fig.axes[0].get_lines()}
        assert any(t.endswith("test-twice (UNSOUND)") for t in legend)
        assert not any("cohen (UNSOUND)" in t for t in legend)


def test_a_row_that_failed_another_check_gets_a_plain_warning_flag(tmp_path):
    with winner_store(tmp_path / "s.sqlite") as store:
        outcomes, manifest, specs = load_outcomes(store), store.manifest(), store.noise_specs()
    affected = {("synthetic", "l2", ALPHA, "m-mid", Gaussian(0.25, DIM).name, "cohen")}
    check = CheckResult("test-check", "a test check", FAIL, "failed", [], 1.0, affected)
    report = build_report(outcomes, manifest=manifest, specs=specs, sanity=[check])
    md, _ = _pages(report)
    flags = [cells[1] for cells in _main_rows(md)]
    assert len(flags) == len(MODELS)
    assert sum(f.endswith(" ⚠") for f in flags) == 1
    assert not any("UNSOUND" in f or "UNCHECKED" in f for f in flags)


def test_a_crowded_model_plots_the_reference_and_the_best_rows_by_acr(tmp_path, plugins):
    factors = [0.1 * i for i in range(1, 10)]  # all below Cohen: sound, each its own row
    names = [f"test-x{int(round(10 * f))}" for f in factors]
    for name, f in zip(names, factors, strict=True):
        plugins.certifier(name, type(name, (ScaledCohen,), {"factor": f}))
    path = tmp_path / "s.sqlite"
    with winner_store(path) as store:
        certify_store(store, names, ["l2"], [ALPHA], progress=False)
    report, _ = make_report(path)
    (board,) = report.boards
    rows = len(board.rows_of("m-win"))
    assert rows == 1 + len(names) > MAX_CURVES
    fig, n = certified_accuracy_figure(board, "m-win")
    shown = [line.get_label().split(" · ")[-1] for line in fig.axes[0].get_lines()]
    shown = [s for s in shown if not s.startswith("_")]
    best_first = names[::-1]  # the largest factor has the largest ACR
    assert shown == ["cohen", *best_first[: MAX_CURVES - 1]] and n == MAX_CURVES
    pairs = envelope(board)  # one best-over-sigma0 curve per noise and certifier
    assert len(pairs) == rows and envelope_figure(board)[1] == MAX_CURVES
    (summary,) = [b.summary for b in _view(report).boards]
    assert f"{len(board.rows)} rows on {len(board.models)} model(s)" in summary
    figures = write_plots(board, tmp_path / "plots")
    caption = next(f.caption for f in figures if "m-win" in f.caption)
    assert f"{MAX_CURVES} of its {rows} rows (the reference and the best by ACR)" in caption


def test_imported_abstentions_count_as_abstentions_and_notes_reach_both_pages(tmp_path):
    """Cohen's format writes an abstention as prediction -1, radius 0, correct 0. Imported
    rows for 16 of the 20 images earn the board a note; a second noise a second spec."""
    path = tmp_path / "s.sqlite"
    store = new_store(path, 20, {"m": 0.25})
    labels = np.arange(20) % 10
    noise = Gaussian(0.25, DIM)
    add_counts(store, "m", noise, labels, labels, [990] * 20)
    wide = Gaussian(0.5, DIM)
    add_counts(store, "m", wide, labels, labels, [990] * 20)
    certify_store(store, ["cohen"], ["l2"], [ALPHA], progress=False)
    abstains = np.arange(20) < 5
    store.put_imported(
        [
            ImportedRow("synthetic", "m", noise.name, "theirs", "l2", ALPHA, i, int(labels[i]),
                        -1 if abstains[i] else int(labels[i]), 0.0 if abstains[i] else 0.5,
                        not abstains[i], 1.0, "x.tsv")
            for i in range(16)
        ]
    )  # fmt: skip
    store.close()
    report, _ = make_report(path)
    (board,) = report.boards
    (row,) = [r for r in board.rows if r.kind == "imported"]
    assert row.abstained.sum() == 5
    assert board.column("abstain").value(row, board.context) == pytest.approx(5 / 16)
    view = _view(report)
    md, _ = render.markdown(view)
    page = render.html(view)
    assert any("16 of the board's 20 images" in n for n in board.notes)
    for note in board.notes:
        assert note in md and note in html.unescape(page)
    assert {name for name, _ in view.specs} == {noise.name, wide.name}
    for name, spec in view.specs:
        assert f"`{name}`: `{spec}`" in md


def test_a_plugin_the_run_loaded_and_the_report_did_not_is_a_warning(tmp_path, clean_registries):
    """(``clean_registries`` forgets the plugin the store's manifest records, once read.)"""
    path = tmp_path / "s.sqlite"
    with winner_store(path) as store:
        manifest = store.manifest()
        store.put_manifest({**manifest, "plugins": ["test_plugin_not_loaded_here"]})
    report, _ = make_report(path)
    assert any("--plugin test_plugin_not_loaded_here" in w for w in report.warnings)
