"""What a run meets in a store before and after its work: the identity check before the
models (``runner._check_stored_run``) leaves to the writable open the stores it would
migrate or make (a schema-1 store, an SQLite file with no table), and the record of the
chosen batches after the sampling (``provenance.add_to_session``, in a ``finally``)
never hides the error that stopped the run."""

from __future__ import annotations

import json
import os
import sqlite3

import pytest

from harness import runner
from harness.store import SCHEMA_VERSION, Store, StoreError
from tests.harness.test_runner import tiny


def test_a_schema_1_store_resumes_as_before(tmp_path):
    """A store of schema 1 (no imported, deterministic or audit tables) is migrated when it
    is opened for writing; the read-only identity check before the models must not refuse
    it first (check_resume reads the imported table)."""
    path = tmp_path / "s.sqlite"
    runner.run(tiny(), path, progress=False, stop_after=1, certify=False)
    db = sqlite3.connect(path)
    for table in ("imported", "deterministic_certificates", "deterministic_radii", "audit"):
        db.execute(f"DROP TABLE IF EXISTS {table}")
    db.execute("UPDATE manifest SET value = ? WHERE key = 'schema_version'", (json.dumps(1),))
    db.commit()
    db.close()
    runner.run(tiny(), path, progress=False, stop_after=1, certify=False)
    with Store(path) as st:
        assert st.get_manifest("schema_version") == SCHEMA_VERSION


def test_a_store_deleted_mid_run_is_named_not_a_closed_database(tmp_path, monkeypatch):
    """The store refuses to write once its file is gone (StoreError); the finally that
    records the chosen batches must not replace that error by sqlite3.ProgrammingError
    ('Cannot operate on a closed database')."""
    real, calls = Store.put_counts, []

    def put_counts(self, rows):
        real(self, rows)
        calls.append(1)
        if len(calls) == 1:
            os.unlink(self.path)

    monkeypatch.setattr(Store, "put_counts", put_counts)
    with pytest.raises(StoreError, match="deleted or replaced"):
        runner.run(tiny(), tmp_path / "run.sqlite", progress=False, certify=False)


def test_an_sqlite_file_without_tables_is_made_a_store_as_before(tmp_path):
    """A store file SQLite created and a run left before any table (killed just after
    `PRAGMA journal_mode=WAL`, or `sqlite3 FILE 'PRAGMA journal_mode=WAL'`): the writable
    open makes it a store; the read-only check before the models refused it ('no
    manifest')."""
    path = tmp_path / "s.sqlite"
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.close()
    assert path.stat().st_size > 0
    runner.run(tiny(), path, progress=False, stop_after=1, certify=False)
    with Store(path) as st:
        assert len(st.done_keys()) == 2


@pytest.mark.parametrize("content", [b"[run]\nname = 'x'\n", b""])
def test_a_file_that_is_no_store_is_refused_without_a_lock_beside_it(tmp_path, content):
    """``run CONFIG --store CONFIG`` (swapped arguments): refused, and nothing is left
    beside the file (it left ``CONFIG.lock``). An empty file is made a store, as before."""
    path = tmp_path / "c.toml"
    path.write_bytes(content)
    if content:
        with pytest.raises(StoreError, match="not a smoothbench store"):
            runner.run(tiny(), path, progress=False, stop_after=1, certify=False)
        assert sorted(p.name for p in tmp_path.iterdir()) == ["c.toml"]
        assert path.read_bytes() == content
    else:
        runner.run(tiny(), path, progress=False, stop_after=1, certify=False)
        with Store(path) as st:
            assert st.done_keys()


def test_another_programs_database_is_refused_untouched(tmp_path):
    """``run CONFIG --store app.db``: refused before a lock file, a write-ahead log or the
    switch to WAL touch it (all three were made before the refusal)."""
    path = tmp_path / "app.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE users (id INTEGER)")
    db.close()
    before = path.read_bytes()
    with pytest.raises(StoreError, match="an SQLite database of something else"):
        runner.run(tiny(), path, progress=False, stop_after=1, certify=False)
    for readonly in (False, True):
        with pytest.raises(StoreError, match=r"something else \(tables \['users'\]\)"):
            Store(path, readonly=readonly)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app.db"]
    assert path.read_bytes() == before
