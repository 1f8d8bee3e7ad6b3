"""Stores are checked on open and on read: a path that is no store, a foreign, damaged,
truncated or newer one, a second writer, edited counts and a deleted manifest are each
refused with an error that says which, never reused or reported silently."""

from __future__ import annotations

import json
import os
import sqlite3

import numpy as np
import pytest

from harness.store import SCHEMA_VERSION, CountRow, Store, StoreBusyError, StoreError
from tests.harness._stores import counts_store as _store


def test_a_directory_or_a_path_under_a_file_is_refused(tmp_path):
    with pytest.raises(StoreError, match="is a directory"):
        Store(tmp_path)
    (tmp_path / "file").write_text("x")
    with pytest.raises(StoreError, match="is a file"):
        Store(tmp_path / "file" / "s.sqlite")


def test_a_new_store_in_a_new_folder_is_created_with_its_lock(tmp_path):
    """A fresh clone has no out/: the writer creates the folder, the store and its lock."""
    path = tmp_path / "out" / "nested" / "default.sqlite"
    with Store(path) as st:
        st.put_manifest({"seed": 0})
        assert path.with_name("default.sqlite.lock").exists()
    with Store(path, readonly=True) as st:
        assert st.get_manifest("seed") == 0


def test_a_reader_leaves_nothing_next_to_the_store_and_writes_nothing(tmp_path):
    """A report reads a closed WAL store: afterwards the folder holds the store and its
    lock only (no ``-wal``, ``-shm``), and a reader cannot write, even by accident."""
    path = tmp_path / "s.sqlite"
    _store(path)
    before = sorted(p.name for p in tmp_path.iterdir())
    assert before == ["s.sqlite", "s.sqlite.lock"]
    with Store(path, readonly=True) as reader:
        assert reader.get_manifest("n") == 100
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            reader._db.execute("DELETE FROM manifest")
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    with Store(path, readonly=True) as reader:
        assert reader.get_manifest("n") == 100


def test_a_reader_beside_a_running_writer_sees_its_commits(tmp_path):
    """A report while a run writes: it reads what the writer committed, and closing it
    neither disturbs the writer nor removes the writer's WAL."""
    path = tmp_path / "s.sqlite"
    _store(path)
    with Store(path) as writer:
        writer.put_manifest({"n0": 11})
        with Store(path, readonly=True) as reader:
            assert reader.get_manifest("n0") == 11
        writer.put_manifest({"n0": 12})
        assert writer.get_manifest("n0") == 12
    with Store(path, readonly=True) as reader:
        assert reader.get_manifest("n0") == 12


def test_not_sqlite_and_foreign_databases_are_refused(tmp_path):
    path = tmp_path / "notes.sqlite"
    path.write_text("hello, not a database")
    with pytest.raises(StoreError, match="not an SQLite file"):
        Store(path)
    foreign = tmp_path / "foreign.sqlite"
    db = sqlite3.connect(foreign)
    db.execute("CREATE TABLE invoices (id INTEGER)")
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="something else"):
        Store(foreign)
    with pytest.raises(StoreError, match="something else"):
        Store(foreign, readonly=True)


@pytest.mark.parametrize("damage", ["truncate", "overwrite"])
def test_damaged_stores_are_refused(tmp_path, damage):
    path = tmp_path / "s.sqlite"
    _store(path, images=400)
    db = sqlite3.connect(path)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    data = bytearray(path.read_bytes())
    if damage == "truncate":
        data = data[:-1]
    else:  # 64 random bytes inside the b-tree pages
        rng = np.random.default_rng(0)
        at = len(data) // 2
        data[at : at + 64] = rng.integers(0, 256, 64, dtype=np.uint8).tobytes()
    path.write_bytes(bytes(data))
    with pytest.raises(StoreError, match="damaged|cannot be opened|malformed|unreadable"):
        with Store(path) as st:
            st.count_rows()


def test_a_newer_schema_is_refused_and_an_older_one_migrated(tmp_path):
    path = tmp_path / "s.sqlite"
    _store(path)
    db = sqlite3.connect(path)
    db.execute("UPDATE manifest SET value = ? WHERE key = 'schema_version'", (json.dumps(99),))
    db.commit()
    with pytest.raises(StoreError, match="newer smoothbench") as refused:
        Store(path)
    # refused again, not reported busy: the refused open (its traceback still held here)
    # released the writer's lock
    with pytest.raises(StoreError, match="newer smoothbench"):
        Store(path)
    with pytest.raises(StoreError, match="newer smoothbench"):
        Store(path, readonly=True)
    del refused
    db.execute("UPDATE manifest SET value = ? WHERE key = 'schema_version'", (json.dumps(1),))
    db.execute("DROP TABLE imported")
    db.commit()
    db.close()
    with Store(path) as st:
        assert st.get_manifest("schema_version") == SCHEMA_VERSION
        assert st.has_table("imported")


def test_one_writer_at_a_time_readers_welcome(tmp_path):
    path = tmp_path / "s.sqlite"
    _store(path)
    with Store(path):
        with pytest.raises(StoreBusyError, match="being written by process"):
            Store(path)
        with Store(path, readonly=True) as reader:
            assert len(reader.count_rows()) == 40
    with Store(path):  # released on close
        pass


def test_a_second_writer_through_a_link_or_another_spelling_is_refused(tmp_path):
    """The lock belongs to the file, not to the text of its path."""
    path = tmp_path / "s.sqlite"
    _store(path)
    (tmp_path / "link.sqlite").symlink_to(path)
    (tmp_path / "sub").mkdir()
    with Store(path):
        for other in (tmp_path / "link.sqlite", tmp_path / "sub" / ".." / "s.sqlite"):
            with pytest.raises(StoreBusyError, match="being written by process"):
                Store(other)
    with Store(tmp_path / "link.sqlite"), pytest.raises(StoreBusyError):
        Store(path)


def test_a_store_with_a_second_hard_link_is_refused_under_every_name(tmp_path):
    """A hard link is a second name of the same file, and SQLite keeps its write-ahead log
    beside each name: a writer through the link once took its own lock and log, and the
    log it left replayed over a finished run when the link was next opened (every count
    gone, ``integrity_check`` ok). So a store with two names is refused under both, for
    reading too, with what to do; the store itself is untouched."""
    path = tmp_path / "s.sqlite"
    _store(path)
    before = path.read_bytes()
    (tmp_path / "sub").mkdir()
    other = tmp_path / "sub" / "s.sqlite"
    os.link(path, other)
    for name in (path, other):
        for readonly in (False, True):
            with pytest.raises(StoreError, match="2 hard links.*use a copy"):
                Store(name, readonly=readonly)
    assert path.read_bytes() == before
    assert not (tmp_path / "sub" / "s.sqlite-wal").exists()
    other.unlink()
    with Store(path, readonly=True) as reader:  # one name again: welcome
        assert len(reader.count_rows()) == 40


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ("estimation = '[91, 6, 4]'", "image 3.*edited"),  # total 101, the row says 100
        ("estimation = '[91, 6, 4]', n = 101", "image 3.*edited"),  # the run drew 100
        ("n0 = 11", "image 3.*edited"),  # the row's n0 is not its selection's total
        ("estimation = '[90, 6, 4'", "unreadable"),
        ("estimation = '[90.9, 6, 4]'", "unreadable"),  # not truncated to a total of 100
    ],
)
def test_edited_counts_are_refused_on_read(tmp_path, edit, message):
    path = tmp_path / "s.sqlite"
    _store(path)
    db = sqlite3.connect(path)
    db.execute(f"UPDATE counts SET {edit} WHERE image = 3")
    db.commit()
    db.close()
    with Store(path, readonly=True) as st, pytest.raises(StoreError, match=message):
        st.count_rows()


def test_an_empty_file_is_no_store_to_write_into(tmp_path):
    """``smoothbench certify`` opens an existing store for writing: an empty file there is
    refused and left as it was, not made into a new, empty store."""
    path = tmp_path / "empty.sqlite"
    path.write_bytes(b"")
    with pytest.raises(ValueError, match="empty file"):
        Store.open_existing(path)
    assert path.stat().st_size == 0


def test_counts_under_a_noise_without_a_spec_are_refused(tmp_path):
    """Counts a store could never certify (their noise cannot be rebuilt) are not written."""
    with Store(tmp_path / "s.sqlite") as st:
        st.put_manifest({"n0": 10, "n": 100})
        st.put_noises({"g": {"family": "gaussian", "params": {"sigma": 0.5, "dim": 4}}})
        row = CountRow("m", "unknown", 0, 0, np.array([10, 0]), np.array([90, 10]), 0.1)
        with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
            st.put_counts([row])
        assert st.done_keys() == set()


def test_counts_without_a_manifest_are_refused(tmp_path):
    path = tmp_path / "s.sqlite"
    _store(path)
    db = sqlite3.connect(path)
    db.execute("DELETE FROM manifest")
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="counts but no manifest"):
        Store(path)


def test_a_wal_that_a_read_only_open_would_ignore_is_refused(tmp_path, monkeypatch):
    """On read-only media only SQLite's immutable open works, and it reads the main file
    alone: with a write-ahead log beside it (a run stopped before SQLite folded the log
    in) the report would show an older store, so the open is refused and says why."""
    import shutil

    import harness.store as store_module

    path = tmp_path / "s.sqlite"
    copy = tmp_path / "copy"
    copy.mkdir()
    with Store(path) as st:  # a writer still open: its latest writes are in the log
        st.put_manifest({"n0": 10, "n": 100, "seed": 0, "dataset": "digits"})
        wal = path.with_name("s.sqlite-wal")
        assert wal.stat().st_size > 0
        shutil.copy(path, copy / "s.sqlite")
        shutil.copy(wal, copy / "s.sqlite-wal")
    monkeypatch.setattr(store_module, "_READER_MODES", (("immutable=1", None),))
    with pytest.raises(StoreError, match="write-ahead log .s.sqlite-wal, [0-9]+ bytes"):
        Store(copy / "s.sqlite", readonly=True)
    _store(path)  # closed: the log folded in and removed
    with Store(path, readonly=True) as reader:
        assert len(reader.count_rows()) == 40


@pytest.mark.parametrize("said", ["disk I/O error", "database or disk is full"])
def test_a_disk_that_cannot_take_the_store_is_the_machines_trouble(tmp_path, monkeypatch, said):
    """Opened for writing on a full disk, SQLite fails to make its write-ahead log (Ray and
    import audit: ``audit`` said "cannot be opened as a store: disk I/O error", exit 2, as
    for a file that is no store). It is an OSError now, which the command line reports
    with exit 1; a file that is no store is still a StoreError."""
    import sqlite3 as real_sqlite

    from harness import store as store_module
    from harness.cli import main

    path = tmp_path / "s.sqlite"
    _store(path)
    real_connect = real_sqlite.connect

    class FullDisk:
        def __init__(self, db):
            self._db = db

        def execute(self, sql, *args):
            if sql.startswith("PRAGMA journal_mode"):
                raise real_sqlite.OperationalError(said)
            return self._db.execute(sql, *args)

        def close(self):
            self._db.close()

    monkeypatch.setattr(
        store_module.sqlite3, "connect", lambda *a, **k: FullDisk(real_connect(*a, **k))
    )
    with pytest.raises(OSError, match="is its disk full"):
        Store(path)
    assert main(["certify", str(path)]) == 1
    monkeypatch.undo()
    (tmp_path / "text.sqlite").write_text("no store")
    with pytest.raises(StoreError, match="not an SQLite file"):
        Store(tmp_path / "text.sqlite")
