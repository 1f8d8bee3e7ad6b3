"""The message of a stopped run with one smoothed model complete and another not names
what each holds: the run is not told to be done sampling."""

from __future__ import annotations

import numpy as np

from harness.cli.run_command import _stored
from harness.noise import Gaussian
from tests.reports._report_synth import DIM, add_counts, new_store


def test_one_model_complete_and_one_not_is_still_sampling(tmp_path):
    path = tmp_path / "s.sqlite"
    store = new_store(path, 4, {"a": 0.25, "b": 0.5})
    add_counts(store, "a", Gaussian(0.25, DIM), np.arange(4), np.arange(4), [900] * 4)
    add_counts(store, "b", Gaussian(0.5, DIM), np.arange(2), np.arange(2), [900] * 2)
    store.close()
    said = _stored(path)
    assert said == f"4 of 4 images of a, 2 of 4 images of b stored in {path}"
    assert "counts of all" not in said


def test_a_deterministic_model_is_not_counted_as_unsampled(tmp_path):
    """A deterministic model (ibp/crown: no noise, no counts) has no images to sample: with
    the smoothed model's counts complete the message says so."""
    path = tmp_path / "s.sqlite"
    models = {"a": {"sha256": "0" * 64, "sigma0": 0.25},
              "det": {"sha256": "1" * 64, "sigma0": None, "smoothing": False}}  # fmt: skip
    store = new_store(path, 3, {"a": 0.25})
    store.put_manifest({"models": models})
    add_counts(store, "a", Gaussian(0.25, DIM), np.arange(3), np.arange(3), [900] * 3)
    store.close()
    said = _stored(path, certify=False)
    assert said.startswith(f"the counts of all 3 images stored in {path}")


def test_a_full_quota_is_a_full_disk():
    import errno
    import sqlite3

    from harness.cli.run_command import disk_full

    assert disk_full(OSError(errno.EDQUOT, "Disk quota exceeded"))
    assert disk_full(OSError(errno.ENOSPC, "No space left on device"))
    assert not disk_full(OSError(errno.EACCES, "Permission denied"))
    assert not disk_full(sqlite3.OperationalError("database is locked"))
