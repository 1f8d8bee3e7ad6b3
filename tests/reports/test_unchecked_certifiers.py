"""Rows the sanity checks cannot check where the report runs are not taken as checked.

A store certified with a plugin that is not installed where the report is made holds
rows of a certifier (``plugin-x``) or a noise family (``test_gg``) this environment does
not register. The soundness check cannot check rows on an unregistered noise family, and
no radius of an unregistered certifier or family can be reproduced: those checks are
``incomplete``, not ``pass``; the soundness check's unchecked rows are marked UNCHECKED
(distinct from UNSOUND) in every format, rank last and never enter a headline; the
report says which certifiers and families could not be checked, and why.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats as sps

import certifiers
from harness.certify import certify_store
from harness.noise import Gaussian, Laplace, noise_families
from harness.store import CertificateRow
from reports.cli import make_report, write_report
from reports.sanity import INCOMPLETE, PASS, SanityContext, SanityInputs, soundness
from reports.sanity.base import p_lower_from_counts
from reports.sanity.soundness import Soundness
from reports.tidy import load_counts
from tests.reports._report_synth import ALPHA, DIM, TestGG, add_counts, new_store, winner_store

PLUGIN = "plugin-x"


@pytest.fixture(autouse=True)
def _not_installed():
    """Neither the certifier nor the noise family is registered here."""
    assert PLUGIN not in certifiers.available()
    assert TestGG.family not in noise_families()


def put_plugin_rows(store, model, noise, radius_fn) -> None:
    """Certificates of the unregistered ``plugin-x`` on ``noise`` for ``model``, with the
    p_A of the stored counts and ``radius_fn(p)`` where ``p > 1/2``."""
    images, labels, pred, p = p_lower_from_counts(
        load_counts(store), model, noise.name, ALPHA, noise.law_distance()
    )
    store.put_manifest({"law_distances": {noise.name: noise.law_distance()}})  # as certify does
    store.put_certificates(
        [
            CertificateRow(model, noise.name, int(i), PLUGIN, "l2", ALPHA, int(c),
                           float(pi), float(radius_fn(pi)) if pi > 0.5 else 0.0,
                           bool(c == lab and pi > 0.5), 0.0)
            for i, lab, c, pi in zip(images, labels, pred, p, strict=True)
        ]
    )  # fmt: skip


def plugin_family_store(path):
    """The winner store (Cohen on a Gaussian noise, three models), plus ``plugin-x`` on
    ``m-win`` with the unregistered ``test_gg`` noise: right on every image, with radii
    three times Cohen's, far above every other row."""
    store = winner_store(path)
    noise = TestGG(0.25, DIM)
    labels = np.arange(200) % 10
    add_counts(store, "m-win", noise, labels, labels, [999] * 200)
    put_plugin_rows(store, "m-win", noise, lambda p: 3 * 0.25 * sps.norm.ppf(p))
    return store


def test_rows_the_soundness_check_cannot_check_are_marked_and_never_headline(tmp_path):
    path = tmp_path / "s.sqlite"
    plugin_family_store(path).close()
    report, (h,) = make_report(path)
    checks = {c.name: c for c in report.sanity}

    gate = checks["soundness"]
    assert gate.status == INCOMPLETE, gate.line()
    assert "not checked here, so marked UNCHECKED" in gate.summary and PLUGIN in gate.summary
    assert "noise family 'test_gg' is not registered in this environment" in gate.summary
    assert {row[5] for row in gate.unchecked} == {PLUGIN} and not gate.affected
    # the reproduce check does not count the plugin's rows as reproduced
    repro = checks["reproducible"]
    assert repro.status == INCOMPLETE, repro.line()
    assert "1 without their radius" in repro.summary and "radii of plugin-x" in repro.summary
    assert {row[5] for row in repro.unchecked} == {PLUGIN}

    (board,) = report.boards
    (row,) = (r for r in board.rows if PLUGIN in r.certifiers)
    assert row.key in board.unchecked and row.key not in board.unsound
    acr = board.column("acr")
    assert acr.value(row, board.context) > max(
        acr.value(r, board.context) for r in board.rows if r is not row
    )  # it would win
    # never in the headline; named among the rows left out, with the reason
    assert PLUGIN not in h.row.certifiers + h.other.certifiers
    left_out = dict(h.lines())["Left out"]
    assert f"· {PLUGIN} (not checked for soundness here: noise family 'test_gg'" in left_out
    # ranked last on its model, with no significance mark, in no vs-best comparison
    t = board.table
    mine = t[t["certifiers"] == PLUGIN]
    assert mine["rank"].item() == (t["model"] == "m-win").sum()
    assert mine["sanity"].item() == "unchecked: reproducible, soundness"
    assert not any(key == row.key for key, _ in board.marks)
    best = board.comparisons[board.comparisons["kind"] == "best"]
    assert not best.empty
    assert not any(row.key in pair for pair in zip(best["row"], best["other"], strict=True))
    # the board's note names the rows and the reason
    (note,) = [n for n in board.notes if "soundness check could not check" in n]
    assert row.full_label() in note and "'test_gg' is not registered" in note
    assert "is its plugin installed?" in note

    out = tmp_path / "out"
    write_report(report, [h], out, ["md", "html", "latex", "csv", "json"])
    md = (out / "leaderboard.md").read_text()
    (line,) = [ln for ln in md.splitlines() if ln.startswith("| ") and "test_gg k=1" in ln]
    assert f"| {PLUGIN} " in line
    assert "⚠ UNCHECKED" in line and "UNSOUND" not in line
    assert "UNSOUND" not in md.replace("⚠ UNSOUND: the certifier failed", "")
    assert "**Warning:** sanity check incomplete: soundness" in md
    assert "**Warning:** sanity check incomplete: certificates reproduce" in md
    assert "2 incomplete" in md
    html = (out / "leaderboard.html").read_text()
    assert "⚠ UNCHECKED" in html and 'class="status-incomplete"' in html
    tex = (out / "leaderboard.tex").read_text()
    assert tex.count(rf"{PLUGIN} \textbf{{unchecked}}") == 1
    assert r"\textbf{unsound}" not in tex.split(r"\toprule", 1)[1]  # not in the table's rows
    sanity = (out / "sanity.csv").read_text()
    assert "soundness," in sanity and ",incomplete," in sanity
    (entry,) = [json.loads(p.read_text()) for p in (out / "entries").rglob(f"*{PLUGIN}*.json")]
    assert entry["unchecked"] is True and entry["unsound"] is False


def test_a_store_with_only_unchecked_rows_is_incomplete_not_skipped(tmp_path):
    """Nothing the gate could check is not "nothing to check": incomplete, not skipped."""
    path = tmp_path / "s.sqlite"
    store = new_store(path, 40, {"m": 0.25})
    noise = TestGG(0.25, DIM)
    labels = np.arange(40) % 10
    add_counts(store, "m", noise, labels, labels, [990] * 40)
    put_plugin_rows(store, "m", noise, lambda p: 0.25 * sps.norm.ppf(p))
    store.close()
    gate = Soundness().run(SanityInputs.from_store(path), SanityContext())
    assert gate.status == INCOMPLETE and gate.summary.startswith("nothing checked")
    assert "plugin-x (noise family 'test_gg' is not registered" in gate.summary
    assert len(gate.unchecked) == 1


def test_an_unregistered_certifier_on_a_registered_noise_is_checked_not_reproduced(tmp_path):
    """The soundness check works from the stored rows alone, so it checks an unregistered
    certifier on a Gaussian noise (here below Cohen's radius: sound); the reproduce
    check cannot recompute its radii and says so instead of passing."""
    path = tmp_path / "s.sqlite"
    with winner_store(path) as store:
        put_plugin_rows(store, "m-mid", Gaussian(0.25, DIM), lambda p: 0.9 * 0.25 * sps.norm.ppf(p))
    report, (h,) = make_report(path)
    checks = {c.name: c for c in report.sanity}
    assert checks["soundness"].status == PASS, checks["soundness"].line()
    repro = checks["reproducible"]
    assert repro.status == INCOMPLETE, repro.line()
    assert "certifier 'plugin-x' is not registered in this environment" in repro.summary
    (board,) = report.boards
    (row,) = (r for r in board.rows if PLUGIN in r.certifiers)
    assert row.key not in board.held_out  # checked sound: it may be compared and claimed
    t = board.table
    assert t.loc[t["certifiers"] == PLUGIN, "sanity"].item() == "unchecked: reproducible"
    out = tmp_path / "out"
    write_report(report, [h], out, ["md"])
    md = (out / "leaderboard.md").read_text()
    assert "**Warning:** sanity check incomplete: certificates reproduce" in md
    assert "UNCHECKED" not in md.replace("⚠ UNCHECKED: the soundness check", "")


def test_the_sanity_caption_counts_incomplete_checks():
    from reports.sanity import FAIL, SKIPPED, CheckResult
    from reports.view import _sanity_caption

    results = [CheckResult("c", "t", s, "") for s in (PASS, INCOMPLETE, FAIL, SKIPPED)]
    assert _sanity_caption(results) == (
        "1 of the 3 checks that ran passed; 1 incomplete (some rows could not be checked "
        "here: see the warnings); 1 skipped (nothing in the store for it)."
    )


def test_shifts_beyond_the_budget_are_named_but_hold_no_row_out(tmp_path, monkeypatch):
    """At ImageNet size the Monte Carlo check of some shifts costs more than its budget
    (Laplace's diagonal, every shift of a generalized Laplace): the check is made where it
    can be and says what it left, but a registered row is not held out for that, or a
    full-size report would lose most of its noises from the headline."""
    store = winner_store(tmp_path / "s.sqlite")
    noise = Laplace(0.25, DIM)
    labels = np.arange(200) % 10
    add_counts(store, "m-win", noise, labels, labels, [990] * 200)
    certify_store(store, ["wulff"], ["l1"], [ALPHA], progress=False)
    store.close()
    monkeypatch.setattr(soundness, "MAX_BUDGET", 1)  # every shift beyond it
    report, _ = make_report(tmp_path / "s.sqlite")
    gate = {c.name: c for c in report.sanity}["soundness"]
    assert gate.status == PASS, gate.line()
    assert "not fully checked (shifts beyond the budget): wulff" in gate.summary
    assert not gate.unchecked
    assert all(not board.unchecked for board in report.boards)
