"""A certification stopped part way (``smoothbench certify --alpha 0.01`` interrupted)
leaves some certificate groups of that alpha missing while every image has certificates
at another: the report says which groups, at which alpha, and the command that
certifies them."""

from __future__ import annotations

import sqlite3

import numpy as np

from harness.certify import certify_store
from harness.noise import Gaussian, Laplace
from harness.store import Store
from reports.cli import make_report
from tests.reports._report_synth import DIM, add_counts, new_store

CONFIG = {"certify": {"certifiers": ["cohen"], "norms": ["l2"], "alpha": [0.001]}}
TOPS = [999, 950, 800, 700]


def _store(path):
    store = new_store(path, len(TOPS), {"m": 0.25}, config=CONFIG)
    labels = np.arange(len(TOPS)) % 10
    for noise in (Gaussian(0.25, DIM), Gaussian(0.5, DIM), Laplace.matched(0.25, DIM)):
        add_counts(store, "m", noise, labels, labels, TOPS)
    certify_store(store, ["cohen", "wulff"], ["l2"], [0.001, 0.01], progress=False)
    return store


def _incomplete(report):
    return [w for w in report.warnings if w.startswith("certification incomplete")]


def test_groups_missing_at_one_alpha_are_named_with_the_command_that_certifies_them(tmp_path):
    path = tmp_path / "s.sqlite"
    _store(path).close()
    half = Gaussian(0.5, DIM).name
    with sqlite3.connect(path) as db:  # as a certify stopped before this noise leaves it
        db.execute("DELETE FROM certificates WHERE alpha = 0.01 AND noise = ?", (half,))
    report, _ = make_report(path)
    (line,) = _incomplete(report)
    assert line.startswith("certification incomplete at alpha = 0.01: 2 (model, noise,")
    assert f"m / {half} / cohen / l2, m / {half} / wulff / l2)" in line
    assert f"smoothbench certify {path} --alpha 0.01 --certifier cohen --certifier wulff" in line
    assert "--norm l2` completes them" in line
    store = Store(path)
    certify_store(store, ["cohen", "wulff"], ["l2"], [0.01], progress=False)
    store.close()
    assert _incomplete(make_report(path)[0]) == []


def test_a_complete_store_has_no_such_warning(tmp_path):
    _store(tmp_path / "s.sqlite").close()
    assert _incomplete(make_report(tmp_path / "s.sqlite")[0]) == []


def test_a_noise_with_no_certificate_at_all_is_warned_of_once(tmp_path):
    """A (model, noise) pair none of whose certificates exists gets the group line with
    its command, not also the count of its images "with no certificate" (two warnings
    with two different commands)."""
    path = tmp_path / "s.sqlite"
    _store(path).close()
    half = Gaussian(0.5, DIM).name
    with sqlite3.connect(path) as db:
        db.execute("DELETE FROM certificates WHERE noise = ?", (half,))
    lines = _incomplete(make_report(path)[0])
    assert len(lines) == 2  # one per alpha, each naming the groups and the command
    assert all(line.startswith("certification incomplete at alpha = ") for line in lines)
    # one image of another noise uncertified still counts, on its own line
    with sqlite3.connect(path) as db:
        db.execute("DELETE FROM certificates WHERE noise != ? AND image = 0", (half,))
    lines = _incomplete(make_report(path)[0])
    (triples,) = [line for line in lines if "triples" in line]
    assert triples.startswith("certification incomplete: 2 sampled (model, noise, image)")
