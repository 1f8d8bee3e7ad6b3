"""A file imported before the run, whose labels for some image indices differ from the
run's (another order or copy of the test set), is named among the report's warnings: its
image-by-image comparisons with the run would pair different images. A file that agrees
draws no warning."""

from __future__ import annotations

import numpy as np

from harness.certify import certify_store
from harness.noise import Gaussian
from harness.store import ImportedRow
from reports.cli import make_report
from tests.reports._report_synth import ALPHA, DIM, add_counts, new_store


def _store(path, shifted: set[int]):
    store = new_store(path, 40, {"m": 0.25})
    noise = Gaussian(0.25, DIM)
    # imported first (as before any run): nothing to compare its labels with yet
    rows = [
        ImportedRow("synthetic", "m", noise.name, "theirs", "l2", ALPHA, i,
                    (i + (i in shifted)) % 10, (i + (i in shifted)) % 10, 0.3, True, 1.0,
                    "their_file.tsv")
        for i in range(40)
    ]  # fmt: skip
    store.put_imported(rows, noises={noise.name: noise.spec()})
    labels = np.arange(40) % 10
    add_counts(store, "m", noise, labels, labels, np.full(40, 900))
    certify_store(store, ["cohen"], ["l2"], [ALPHA], progress=False)
    store.close()
    return make_report(path)[0]


def test_an_imported_file_of_other_labels_is_named_among_the_warnings(tmp_path):
    report = _store(tmp_path / "s.sqlite", shifted={3, 17, 30})
    (line,) = [w for w in report.warnings if "their_file.tsv" in w]
    assert "3 of its images other labels than the run" in line
    assert "image 3: 4 there, 3 here" in line


def test_an_imported_file_that_agrees_draws_no_warning(tmp_path):
    report = _store(tmp_path / "s.sqlite", shifted=set())
    assert not [w for w in report.warnings if "their_file.tsv" in w]
