"""reports.leaderboard: a merged row shows the checks that failed for any of its
certifiers, unsound rows follow the sound ones, boards come in the documented norm order
and models by their training sigma0."""

from __future__ import annotations

import numpy as np

from harness.certify import certify_store
from reports.leaderboard import build_report
from reports.sanity import FAIL, CheckResult
from reports.settings import ReportSettings
from reports.tidy import load_outcomes
from tests.reports._report_synth import ALPHA, ScaledCohen, winner_store

SETTINGS = ReportSettings(radii={"l2": (0.0, 0.25), "linf": (0.0, 0.01), "l1": (0.0, 0.25)})


def _report(store, sanity=()):
    return build_report(
        load_outcomes(store),
        manifest=store.manifest(),
        specs=store.noise_specs(),
        settings=SETTINGS,
        sanity=list(sanity),
    )


def test_a_merged_row_shows_a_failure_of_each_of_its_certifiers(tmp_path, plugins):
    plugins.certifier("test-twin", type("Twin", (ScaledCohen,), {"factor": 1.0}))
    with winner_store(tmp_path / "s.sqlite") as store:
        certify_store(store, ["test-twin"], ["l2"], [ALPHA], progress=False)
        merged = _report(store).boards[0].rows
        assert all(len(r.certifiers) == 2 for r in merged)
        for which in (0, 1):
            cert = merged[0].certifiers[which]
            affected = {("synthetic", "l2", ALPHA, r.model, r.noise, cert) for r in merged}
            check = CheckResult("test-check", "a test check", FAIL, "failed", [], 1.0, affected)
            table = _report(store, [check]).boards[0].table
            assert (table["sanity"] == "fail: test-check").all(), (which, table["sanity"])


def test_boards_come_in_the_order_l2_linf_l1(tmp_path):
    with winner_store(tmp_path / "s.sqlite") as store:
        certify_store(store, ["cohen"], ["l1", "linf"], [ALPHA], progress=False)
        boards = _report(store).boards
    assert [b.norm for b in boards] == ["l2", "linf", "l1"]


def test_unsound_rows_come_after_the_sound_rows_of_their_model(tmp_path, plugins):
    """A certifier twice Cohen's (unsound, with the larger ACR) is listed after Cohen's row
    of each model, on the board as in its table."""
    from reports.sanity import SanityInputs, run_checks

    plugins.certifier("test-twice", type("Twice", (ScaledCohen,), {"factor": 2.0}))
    with winner_store(tmp_path / "s.sqlite") as store:
        certify_store(store, ["test-twice"], ["l2"], [ALPHA], progress=False)
        sanity = run_checks(SanityInputs.from_store(store))
        board = _report(store, sanity).boards[0]
    assert board.unsound
    for model in board.models:
        certs = [r.certifiers for r in board.rows if r.model == model]
        assert certs == [("cohen",), ("test-twice",)]
        t = board.table[board.table["model"] == model]
        assert list(t["certifiers"]) == ["cohen", "test-twice"]


def test_models_come_by_training_sigma0_then_name(tmp_path):
    """The model with the smallest training sigma0 first; equal sigma0 by name."""
    from harness.noise import Gaussian
    from tests.reports._report_synth import DIM, add_counts, new_store

    sigma0 = {"a-wide": 0.5, "c-narrow": 0.25, "b-narrow": 0.25}
    store = new_store(tmp_path / "s.sqlite", 20, sigma0)
    labels = np.arange(20) % 10
    for model, s in sigma0.items():
        add_counts(store, model, Gaussian(s, DIM), labels, labels, [990] * 20)
    certify_store(store, ["cohen"], ["l2"], [ALPHA], progress=False)
    with store:
        board = _report(store).boards[0]
    assert board.models == ["b-narrow", "c-narrow", "a-wide"]
