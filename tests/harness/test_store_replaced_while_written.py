"""A store file deleted or replaced while ``run`` writes it.

SQLite keeps writing to the file it opened, so a run whose store file was deleted (``rm``,
a cleanup job) or replaced (``mv other.sqlite STORE``, a sync tool restoring a copy)
finished "successfully" into a file no path names (it said "counts and certificates in
STORE" and exited 0, and its rows were gone), and its write-ahead log, left under the
path's name, was laid over the store moved in, which then read as this run's. Now the
store checks before each transaction that its path still names its file, and refuses.

Properties (read with plain sqlite3, not the store's code): a run that returns normally
leaves at its path a store equal to an uninterrupted run's; a store someone else put at
the path is never altered by this run.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from harness import runner
from harness.config import parse
from harness.store import Store, StoreError


def tiny():
    return parse(
        {
            "run": {
                "name": "swap", "dataset": "digits", "arch": "mlp", "train_sigmas": [0.25],
                "seed": 3, "n_test": 6, "n0": 20, "n": 300, "batch_size": 300,
            },
            "noises": [{"family": "gaussian"}, {"family": "laplace"}],
            "certify": {"certifiers": ["cohen", "wulff"], "alpha": [0.001]},
        }
    )  # fmt: skip


def counts(path: Path) -> list[tuple]:
    db = sqlite3.connect(path)  # plain SQLite, as any other reader of the file
    try:
        return db.execute(
            "SELECT model, noise, image, label, n0, n, selection, estimation FROM counts"
            " ORDER BY 1, 2, 3"
        ).fetchall()
    finally:
        db.close()


def at_put_counts(monkeypatch, call: int, action) -> None:
    """Run ``action(store)`` just after the ``call``-th image is written."""
    real, calls = Store.put_counts, []

    def put_counts(self, rows):
        real(self, rows)
        calls.append(1)
        if len(calls) == call:
            action(self)

    monkeypatch.setattr(Store, "put_counts", put_counts)


def test_a_run_whose_store_was_deleted_does_not_report_success(tmp_path, monkeypatch):
    cfg = tiny()
    reference = counts(runner.run(cfg, tmp_path / "reference.sqlite", progress=False))
    path = tmp_path / "run.sqlite"
    at_put_counts(monkeypatch, 2, lambda store: os.unlink(store.path))  # as `rm run.sqlite`
    try:
        runner.run(cfg, path, progress=False)
    except StoreError as err:  # refused, saying so
        assert "was deleted or replaced while this command wrote it" in str(err)
        return
    # it returned normally: the store it names must hold the run
    assert path.exists(), "run returned normally, but no store is left at its path"
    assert counts(path) == reference


def test_a_store_put_in_place_of_a_running_ones_is_left_alone(tmp_path, monkeypatch):
    cfg = tiny()
    other = runner.run(cfg, tmp_path / "other.sqlite", progress=False, stop_after=1,
                       certify=False)  # fmt: skip
    other_counts = counts(other)
    assert len(other_counts) == 2  # one image, two noises
    path = tmp_path / "run.sqlite"
    at_put_counts(monkeypatch, 2, lambda store: os.replace(other, store.path))  # `mv`
    try:
        runner.run(cfg, path, progress=False)
        finished = True
    except (ValueError, OSError, sqlite3.Error):
        finished = False
    assert counts(path) == other_counts, (
        f"the store moved into place mid-run now reads as another ({len(counts(path))} "
        f"count rows, it held {len(other_counts)}); run returned normally: {finished}"
    )
