"""A noise no certifier of the store certifies (Laplace beside Cohen's certifier alone:
the run warns that it "is sampled but gets no certificate") is no certification gap: the
report once said "`smoothbench certify STORE` completes them" after that very command,
which could not. Images a certifier does certify and lacks still make the warning."""

from __future__ import annotations

import sqlite3

import numpy as np

from harness.cli import main
from harness.noise import Gaussian, Laplace
from tests.reports._report_synth import DIM, add_counts, new_store

CONFIG = {"certify": {"certifiers": ["cohen"], "norms": ["l2"], "alpha": [0.001]},
          "report": {"reference": "cohen"}}  # fmt: skip


def test_certify_completes_what_the_report_says_it_completes(tmp_path):
    path = tmp_path / "s.sqlite"
    store = new_store(path, 8, {"m": 0.25}, config=CONFIG)
    labels = np.arange(8) % 10
    for noise in (Gaussian(0.25, DIM), Laplace(0.25, DIM)):
        add_counts(store, "m", noise, labels, labels, [990] * 8)
    store.close()
    assert main(["certify", str(path), "--quiet"]) == 0
    out = tmp_path / "rep"
    assert main(["report", str(path), "--out", str(out), "--format", "md"]) == 0
    assert "certification incomplete" not in (out / "leaderboard.md").read_text()
    db = sqlite3.connect(path)  # three Gaussian certificates lost: that gap is still named
    with db:
        db.execute("DELETE FROM certificates WHERE image < 3")
    db.close()
    assert main(["report", str(path), "--out", str(out), "--format", "md"]) == 0
    page = (out / "leaderboard.md").read_text()
    assert "certification incomplete: 3 sampled (model, noise, image) triples" in page


PLUGIN_CONFIG = {"certify": {"certifiers": ["plugcert"], "norms": ["l2"], "alpha": [0.001]},
                 "report": {"reference": "plugcert"}}  # fmt: skip


def test_a_gap_of_a_certifier_this_report_does_not_know_is_still_named(tmp_path):
    """A plugin certifier not loaded here cannot say which noises it certifies; where it
    certified some of a pair's images, the rest are a gap (certify with the plugin
    closes it)."""
    path = tmp_path / "s.sqlite"
    store = new_store(path, 8, {"m": 0.25}, config=PLUGIN_CONFIG)
    labels = np.arange(8) % 10
    add_counts(store, "m", Gaussian(0.25, DIM), labels, labels, [990] * 8)
    store.close()
    # certify with cohen, then stand the rows in for a plugin certifier's, 3 images lost
    assert main(["certify", str(path), "--quiet", "--certifier", "cohen"]) == 0
    db = sqlite3.connect(path)
    with db:
        db.execute("UPDATE certificates SET certifier = 'plugcert'")
        db.execute("DELETE FROM certificates WHERE image < 3")
    db.close()
    out = tmp_path / "rep"
    assert main(["report", str(path), "--out", str(out), "--format", "md"]) == 0
    page = (out / "leaderboard.md").read_text()
    assert "certification incomplete: 3 sampled" in page, page[:3000]
